import OrderedCollections
import SwansibleData

/// Evaluates compiled templates and expressions for one top-level templating call.
///
/// Internally functions throw ``TErr`` (an Ansible-level error) or ``PyError`` (a Python exception that the caller
/// wraps as Ansible does: in a filter it becomes "The filter plugin … failed", elsewhere "Error rendering template").
final class Renderer {
    let engine: TemplateEngine
    let variables: any TemplateVariables
    let options: TemplateOptions
    /// Sources of the variable templates being rendered, innermost last (a repeat is a recursive loop).
    private var nesting: [String] = []
    /// True while evaluating a conditional's expression: constant strings that look like templates are rendered
    /// (deprecated Ansible behaviour).
    var conditionalMode = false
    static let maxNesting = 40

    init(engine: TemplateEngine, variables: any TemplateVariables, options: TemplateOptions) {
        self.engine = engine
        self.variables = variables
        self.options = options
    }

    func warn(_ message: String) { options.onWarning?(TemplateWarning(message: message, isDeprecation: false)) }
    func deprecate(_ message: String, help: String? = nil) {
        options.onWarning?(TemplateWarning(message: message, isDeprecation: true, helpText: help))
    }

    // MARK: values

    /// A value taken out of variables (or out of a lazy container): template strings are rendered now, containers
    /// stay lazy until they are used as a whole.
    func wrapLazy(_ v: Value, scope: LazyScope? = nil) throws -> RV {
        switch v {
        case .string(let s):
            if TemplateEngine.isPossiblyTemplate(s) { return try renderNested(s, scope: scope) }
            // Still a trusted string: a conditional may use it as an expression.
            return .lazy(v, scope)
        // Numbers stay marked as variable data: Python error messages name their tagged types.
        case .list, .dict, .int, .float: return .lazy(v, scope)
        default: return .value(v)
        }
    }

    /// The Python type name a value has in ansible-core, where variable data are tagged or lazy types.
    func typeName(_ rv: RV) -> String {
        switch rv {
        case .lazy(let v, _):
            switch v {
            case .int: return "_AnsibleTaggedInt"
            case .float: return "_AnsibleTaggedFloat"
            case .string, .unsafe: return "_AnsibleTaggedStr"
            case .list: return "_AnsibleLazyTemplateList"
            case .dict: return "_AnsibleLazyTemplateDict"
            default: return v.pythonTypeName
            }
        case .value(let v): return v.pythonTypeName
        case .object(let o): return o.typeName
        case .undefined: return "UndefinedMarker"
        case .seq: return "list"
        case .namespace: return "Namespace"
        case .loop: return "LoopContext"
        case .callable: return "function"
        }
    }

    /// The variables that render a value in `scope` (nil: this renderer's).
    private func scopeVariables(_ scope: LazyScope?) -> (any TemplateVariables)? {
        if case .host(let h)? = scope { return h.variables }
        return nil
    }

    /// The scope of `key`'s value inside a lazy value in `scope`.
    private func childScope(_ scope: LazyScope?, _ key: Value) -> LazyScope? {
        switch scope {
        case .hostvars?:
            guard let host = key.stringValue, let vars = variables.hostVariables(host) else { return nil }
            return .host(HostScope(vars))
        default: return scope
        }
    }

    /// Renders a trusted template string found in variables. Undefined results stay undefined values (so that
    /// `default` and `is defined` work on them); other errors are raised with their Ansible message.
    func renderNested(_ source: String, scope: LazyScope? = nil) throws -> RV {
        if let other = scopeVariables(scope) {
            // Another host's variable: rendered with that host's variables, and what stays lazy stays theirs.
            let sub = Renderer(engine: engine, variables: other, options: options)
            sub.nesting = nesting
            let result = try sub.renderNested(source)
            if case .lazy(let v, nil) = result { return .lazy(v, scope) }
            return result
        }
        if nesting.contains(source) || nesting.count >= Renderer.maxNesting {
            throw TErr(kind: .runtime, message: "Recursive loop detected in template: maximum recursion depth exceeded")
        }
        nesting.append(source)
        let savedMode = conditionalMode
        conditionalMode = false
        defer {
            nesting.removeLast()
            conditionalMode = savedMode
        }
        do {
            let compiled = engine.compile(source, kind: .template, escapeBackslashes: true)
            let result = try preserveNewlines(source, try run(compiled, source: source))
            // ansible-core tags the result with the variable's origin (so Python names it `_AnsibleTaggedInt`…);
            // a rendered string is still not a trusted template.
            switch result {
            case .value(.int), .value(.float): if case .value(let v) = result { return .lazy(v, nil) }
            case .value(.string(let s)): return .lazy(.unsafe(s), nil)
            default: break
            }
            return result
        } catch let e as TErr {
            if e.kind == .undefined { return .undefined(Undefined(message: e.message)) }
            throw finish(e, word: "template")
        } catch let e as PyError {
            throw finish(TErr.python(e.message), word: "template")
        }
    }

    /// Ansible's `_post_render_mutation`: trailing newlines that Jinja2 dropped are put back.
    func preserveNewlines(_ source: String, _ result: RV) throws -> RV {
        guard options.preserveTrailingNewlines else { return result }
        // A single `{{ expression }}` keeps the variable's (lazy) string; any other template renders to a value.
        let v: Value
        let scope: LazyScope?
        switch result {
        case .value(let x): (v, scope) = (x, nil)
        case .lazy(let x, let s): (v, scope) = (x, s)
        default: return result
        }
        guard let s = v.stringValue else { return result }
        let want = Renderer.trailingNewlines(source)
        let have = Renderer.trailingNewlines(s)
        guard want > have else { return result }
        let padded = s + String(repeating: options.overrides.newlineSequence, count: want - have)
        switch result {
        case .lazy: return .lazy(v.isUnsafe ? .unsafe(padded) : .string(padded), scope)
        default: return .value(.string(padded))
        }
    }

    static func trailingNewlines(_ s: String) -> Int {
        var n = 0
        for c in s.unicodeScalars.reversed() {
            if c == "\n" { n += 1 } else { break }
        }
        return n
    }

    /// Wraps a not-yet-prefixed error as Ansible does at a template boundary.
    func finish(_ e: TErr, word: String, source: String? = nil) -> TErr {
        if e.prefixed { return e }
        var e = e
        switch e.kind {
        case .syntax:
            var lead = "Syntax error in \(word)."
            if word == "expression", let source, TemplateEngine.isPossiblyTemplate(source) {
                lead += " Template delimiters are not supported in expressions."
            }
            e.message = concatMessage(lead, e.message)
        default: e.message = concatMessage("Error rendering \(word)", e.message)
        }
        e.prefixed = true
        return e
    }

    /// Runs a compiled unit.
    func run(_ compiled: Compiled, source: String) throws -> RV {
        switch compiled {
        case .failed(let e): throw e
        case .template(let body):
            var out: [RV] = []
            try exec(body, Frame(parent: nil), &out)
            return try nativeConcat(out)
        case .expression(let expr):
            return try eval(expr, Frame(parent: nil))
        }
    }

    /// The whole value, with lazy parts rendered; undefined values and Jinja objects raise.
    func concrete(_ rv: RV) throws -> Value {
        switch rv {
        case .value(let v): return v
        case .lazy(let v, let scope): return try deepRender(v, scope: scope)
        case .undefined(let u): throw TErr.undefined(u)
        case .callable(let c):
            switch c {
            case .macro: throw unsupported("Macro")
            case .method, .loopMethod: throw unsupported("builtin_function_or_method")
            case .global(let name):
                throw unsupported(name == "range" || name == "dict" ? "type" : "function")
            case .loopRecurse: throw unsupported("LoopContext")
            case .objectMethod: throw unsupported("builtin_function_or_method")
            }
        case .namespace: throw unsupported("Namespace")
        case .loop: throw unsupported("LoopContext")
        case .seq(let items): return .list(try items.map { try concrete($0) })
        case .object(let o):
            switch o {
            case .datetime(let d): return .string(d.isoformat())
            case .timedelta: throw unsupported("timedelta")
            }
        }
    }

    private func unsupported(_ type: String) -> TErr {
        TErr.python("Type '\(type)' is unsupported for variable storage.")
    }

    /// Renders every template string inside variable data, copying only the parts that change.
    func deepRender(_ v: Value, scope: LazyScope? = nil) throws -> Value { try renderedCopy(v, scope) ?? v }

    /// The value with its template strings rendered, or nil when there are none.
    private func renderedCopy(_ v: Value, _ scope: LazyScope?) throws -> Value? {
        switch v {
        case .string(let s):
            guard TemplateEngine.isPossiblyTemplate(s) else { return nil }
            return try concrete(try renderNested(s, scope: scope))
        case .list(let items):
            var copy: [Value]? = nil
            for (i, item) in items.enumerated() {
                if let r = try renderedCopy(item, scope) {
                    if copy == nil { copy = Array(items[..<i]) }
                    copy?.append(r)
                } else {
                    copy?.append(item)
                }
            }
            return copy.map { .list($0) }
        case .dict(let d):
            var copy: ValueDict? = nil
            for (i, (k, item)) in d.enumerated() {
                if let r = try renderedCopy(item, childScope(scope, .string(k))) {
                    if copy == nil {
                        var prefix = ValueDict(minimumCapacity: d.count)
                        for (pk, pv) in d.elements[..<i] { prefix[pk] = pv }
                        copy = prefix
                    }
                    copy?[k] = r
                } else {
                    copy?[k] = item
                }
            }
            return copy.map { .dict($0) }
        default: return nil
        }
    }

    /// Python truthiness of a runtime value (an undefined raises).
    func truthy(_ rv: RV) throws -> Bool {
        switch rv {
        case .value(let v), .lazy(let v, _): return v.isTruthy
        case .undefined(let u): throw TErr.undefined(u)
        default: return true
        }
    }

    /// Jinja2's native concatenation as ansible-core does it: no output is None, a single output keeps its type,
    /// several are joined as text (None outputs are skipped, omitted values drop out).
    func nativeConcat(_ nodes: [RV]) throws -> RV {
        var kept: [RV] = []
        kept.reserveCapacity(nodes.count)
        for n in nodes {
            switch n {
            case .value(.null), .lazy(.null, _): continue
            default: kept.append(n)
            }
        }
        if kept.isEmpty { return .none }
        if kept.count == 1 { return kept[0] }
        var text = ""
        for n in kept { text += try textOf(n) }
        return .value(.string(text))
    }

    /// `str()` of an output node in a multi-part template.
    func textOf(_ rv: RV) throws -> String {
        switch rv {
        case .undefined(let u):
            if u.plain { return "" }
            throw TErr.undefined(u)
        case .callable, .namespace, .loop:
            return "<object>"
        case .object(let o):
            return o.text
        default:
            let v = try concrete(rv)
            if v == TemplateEngine.omit { return "" }
            return pyStr(Renderer.droppingOmit(v))
        }
    }

    /// Removes omitted values from containers (copying only when there are any).
    static func droppingOmit(_ v: Value) -> Value {
        switch v {
        case .list(let items):
            guard items.contains(where: { $0 == TemplateEngine.omit || $0.listValue != nil || $0.dictValue != nil })
            else { return v }
            return .list(items.compactMap { $0 == TemplateEngine.omit ? Optional<Value>.none : droppingOmit($0) })
        case .dict(let d):
            guard d.values.contains(where: { $0 == TemplateEngine.omit || $0.listValue != nil || $0.dictValue != nil })
            else { return v }
            var out = ValueDict(minimumCapacity: d.count)
            for (k, item) in d where item != TemplateEngine.omit { out[k] = droppingOmit(item) }
            return .dict(out)
        default: return v
        }
    }

    // MARK: names and access

    func lookupName(_ name: String, _ frame: Frame) throws -> RV {
        if let local = frame.lookup(name) { return local }
        if let v = variables.variable(name) {
            if name == "play_hosts" {
                deprecate("The `play_hosts` magic variable is deprecated. This feature will be removed from ansible-core version 2.23.",
                          help: "Use `ansible_play_batch` instead.")
            }
            return try wrapLazy(v, scope: name == "hostvars" ? .hostvars : nil)
        }
        if Renderer.globalFunctions.contains(name) { return .callable(.global(name)) }
        if name == "omit" { return .value(TemplateEngine.omit) }
        return .undefined(.name(name))
    }

    static let globalFunctions: Set<String> = [
        "range", "lookup", "query", "q", "dict", "namespace", "undef", "lipsum", "now",
    ]

    /// Child of a container: lazy containers give lazy children.
    private func child(_ v: Value, lazy: Bool, _ scope: LazyScope?, key: Value) throws -> RV {
        lazy ? try wrapLazy(v, scope: childScope(scope, key)) : .value(v)
    }

    /// `obj.name`: Python attribute (a method) first, then the item, as Jinja2's sandbox does.
    func getAttr(_ base: RV, _ name: String) throws -> RV {
        switch base {
        case .undefined: return base
        case .namespace(let ns):
            return ns.attributes[name]
                ?? .undefined(Undefined.missing(.string(name), of: .string("")))
                .withMessage("object of type 'Namespace' has no attribute '\(name)'")
        case .loop(let box):
            return box.attribute(name)
                ?? .undefined(
                    Undefined(
                        message: "object of type 'LoopContext' has no attribute \(pythonStringRepr(name))"))
        case .callable:
            return .undefined(Undefined(message: "object of type 'function' has no attribute \(pythonStringRepr(name))"))
        case .object(let o):
            return objectAttribute(o, name)
        case .seq(let items):
            if Methods.has(.list([]), name) {
                return .callable(.method(try concrete(.seq(items)), name, lazy: false, scope: nil))
            }
            return .undefined(Undefined.missing(.string(name), of: .list([])))
        case .value(let v), .lazy(let v, _):
            let (lazy, scope): (Bool, LazyScope?) = if case .lazy(_, let s) = base { (true, s) } else { (false, nil) }
            if Methods.has(v, name) { return .callable(.method(v, name, lazy: lazy, scope: scope)) }
            if case .dict(let d) = v, let item = d[name] {
                return try child(item, lazy: lazy, scope, key: .string(name))
            }
            if PyNumber(v) != nil && v.boolValue == nil {
                if name == "real" { return .value(v) }
                if name == "imag" { return .value(v.intValue != nil ? .int(0) : .float(0)) }
            }
            if name.hasPrefix("__") && name.hasSuffix("__") {
                throw TErr(
                    kind: .undefined,
                    message:
                        "access to attribute '\(name)' of '\(Renderer.sandboxTypeName(v, lazy))' object is unsafe.")
            }
            return .undefined(Undefined.missing(.string(name), of: v))
        }
    }

    private static func sandboxTypeName(_ v: Value, _ lazy: Bool) -> String {
        switch v {
        case .dict: return lazy ? "_AnsibleLazyTemplateDict" : "dict"
        case .list: return lazy ? "_AnsibleLazyTemplateList" : "list"
        default: return v.pythonTypeName
        }
    }

    /// `obj[key]`: the item first, then (for a string key) the attribute.
    func getItem(_ base: RV, _ key: RV) throws -> RV {
        switch base {
        case .undefined: return base
        case .namespace, .loop:
            if case .value(let k) = key, let name = k.stringValue { return try getAttr(base, name) }
            return .undefined(Undefined(message: "object has no element"))
        case .callable: return .undefined(Undefined(message: "object of type 'function' has no attribute"))
        case .object(let o):
            if case .value(let k) = key, let name = k.stringValue { return objectAttribute(o, name) }
            return .undefined(Undefined(message: "'\(o.typeName)' object is not subscriptable"))
        case .seq(let items):
            if case .int(let i) = PyNumber(try concrete(key)) {
                let idx = i < 0 ? items.count + i : i
                if idx >= 0 && idx < items.count { return items[idx] }
            }
            return try getItem(.value(try concrete(base)), key)
        case .value(let v), .lazy(let v, _):
            let (lazy, scope): (Bool, LazyScope?) = if case .lazy(_, let s) = base { (true, s) } else { (false, nil) }
            // An undefined key is used (hashed), which raises.
            let k = try concrete(key)
            switch v {
            case .dict(let d):
                if let name = dictKeyForLookup(k), let item = d[name] {
                    return try child(item, lazy: lazy, scope, key: .string(name))
                }
            case .list(let items):
                if case .int(let i) = PyNumber(k), k.boolValue == nil || true {
                    let idx = i < 0 ? items.count + i : i
                    if idx >= 0 && idx < items.count { return try child(items[idx], lazy: lazy, scope, key: k) }
                }
            case .string(let s), .unsafe(let s):
                if case .int(let i) = PyNumber(k) {
                    let scalars = Array(s.unicodeScalars)
                    let idx = i < 0 ? scalars.count + i : i
                    if idx >= 0 && idx < scalars.count { return .value(.string(String(scalars[idx]))) }
                }
            default: break
            }
            if let name = k.stringValue {
                if Methods.has(v, name) { return .callable(.method(v, name, lazy: lazy, scope: scope)) }
            }
            if let u = Renderer.undefinedFor(k, of: v, lazy: lazy) { return .undefined(u) }
            return .undefined(Undefined.missing(k, of: v))
        }
    }

    /// Jinja2 falls back to its own message when the name is falsy (Ansible only words truthy names).
    private static func undefinedFor(_ name: Value, of obj: Value, lazy: Bool) -> Undefined? {
        if name.isTruthy { return nil }
        let typeRepr: String
        let lazyModule = "ansible._internal._templating._lazy_containers."
        switch obj {
        case .dict: typeRepr = lazy ? lazyModule + "_AnsibleLazyTemplateDict object" : "dict object"
        case .list: typeRepr = lazy ? lazyModule + "_AnsibleLazyTemplateList object" : "list object"
        case .string, .unsafe: typeRepr = "str object"
        case .null: typeRepr = "None"
        default: typeRepr = "\(obj.pythonTypeName) object"
        }
        if name.stringValue != nil { return Undefined(message: "'\(typeRepr)' has no attribute \(pyRepr(name))") }
        return Undefined(message: "\(typeRepr) has no element \(pyRepr(name))")
    }

    private func dictKeyForLookup(_ k: Value) -> String? {
        switch k {
        case .list, .dict: return nil
        default: return dictKey(k)
        }
    }

    func slice(_ base: RV, _ start: Expr?, _ stop: Expr?, _ step: Expr?, _ frame: Frame) throws -> RV {
        if case .undefined = base { return base }
        func bound(_ e: Expr?) throws -> Int? {
            guard let e else { return nil }
            let v = try concrete(try eval(e, frame))
            if v.isNull { return nil }
            guard case .int(let i) = PyNumber(v) else {
                throw PyError("slice indices must be integers or None or have an __index__ method")
            }
            return i
        }
        let (a, b, c) = (try bound(start), try bound(stop), try bound(step))
        let v = try concrete(base)
        switch v {
        case .list(let items):
            let r = try Renderer.sliceIndices(count: items.count, a, b, c)
            return .value(.list(r.map { items[$0] }))
        case .string(let s), .unsafe(let s):
            let scalars = Array(s.unicodeScalars)
            let r = try Renderer.sliceIndices(count: scalars.count, a, b, c)
            var out = String.UnicodeScalarView()
            for i in r { out.append(scalars[i]) }
            return .value(.string(String(out)))
        default:
            return .undefined(Undefined.missing(.string("slice"), of: v))
        }
    }

    /// Python's slice index arithmetic.
    static func sliceIndices(count n: Int, _ start: Int?, _ stop: Int?, _ step: Int?) throws -> [Int] {
        let step = step ?? 1
        if step == 0 { throw PyError("slice step cannot be zero") }
        func clamp(_ v: Int?, _ dflt: Int, lower: Int, upper: Int) -> Int {
            guard var v else { return dflt }
            if v < 0 { v += n }
            return min(max(v, lower), upper)
        }
        var out: [Int] = []
        if step > 0 {
            let s = clamp(start, 0, lower: 0, upper: n)
            let e = clamp(stop, n, lower: 0, upper: n)
            var i = s
            while i < e {
                out.append(i)
                i += step
            }
        } else {
            let s = clamp(start, n - 1, lower: -1, upper: n - 1)
            let e = clamp(stop, -1, lower: -1, upper: n - 1)
            var i = s
            while i > e {
                out.append(i)
                i += step
            }
        }
        return out
    }

    /// The items a `for` loop (or a filter) iterates over.
    func iterate(_ rv: RV) throws -> [RV] {
        switch rv {
        case .undefined(let u): throw TErr.undefined(u)
        case .value(let v), .lazy(let v, _):
            let (lazy, scope): (Bool, LazyScope?) = if case .lazy(_, let s) = rv { (true, s) } else { (false, nil) }
            switch v {
            case .list(let items):
                return lazy ? try items.map { try wrapLazy($0, scope: scope) } : items.map { .value($0) }
            case .dict(let d): return d.keys.map { .value(.string($0)) }
            case .string(let s), .unsafe(let s): return s.unicodeScalars.map { .value(.string(String($0))) }
            default: throw PyError("'\(typeName(rv))' object is not iterable")
            }
        case .loop(let box): return box.items
        case .seq(let items): return items
        case .object(let o): throw PyError("'\(o.typeName)' object is not iterable")
        case .namespace: throw PyError("'Namespace' object is not iterable")
        case .callable: throw PyError("'function' object is not iterable")
        }
    }

    // MARK: statements

    func exec(_ body: [Stmt], _ frame: Frame, _ out: inout [RV]) throws {
        for stmt in body {
            switch stmt {
            case .output(let parts):
                for part in parts {
                    switch part {
                    case .data(let text): out.append(.value(.string(text)))
                    case .expr(let e): out.append(try eval(e, frame))
                    }
                }
            case .ifs(let branches, let otherwise):
                var done = false
                for (test, branch) in branches where try truthy(try eval(test, frame)) {
                    try exec(branch, frame, &out)
                    done = true
                    break
                }
                if !done { try exec(otherwise, frame, &out) }
            case .forLoop(let loop):
                try execFor(loop, iterable: try eval(loop.iter, frame), depth0: 0, frame, &out)
            case .assign(let target, let expr):
                try assign(target, try eval(expr, frame), frame)
            case .assignBlock(let target, let filters, let body):
                var inner: [RV] = []
                try exec(body, frame, &inner)
                var value = try nativeConcat(inner)
                for f in filters { value = try applyFilter(f, value, frame) }
                try assign(target, value, frame)
            case .filterBlock(let filters, let body):
                var inner: [RV] = []
                try exec(body, frame, &inner)
                var value = try nativeConcat(inner)
                for f in filters { value = try applyFilter(f, value, frame) }
                out.append(value)
            case .with(let pairs, let body):
                let inner = Frame(parent: frame)
                for (target, expr) in pairs { try assign(target, try eval(expr, frame), inner) }
                try exec(body, inner, &out)
            case .macro(let def):
                frame.vars[def.name] = .callable(
                    .macro(
                        MacroBox(
                            name: def.name, params: def.params, defaults: def.defaults, body: def.body, frame: frame,
                            caller: nil)))
            case .callBlock(let call, let params, let defaults, let body):
                let caller = MacroBox(
                    name: "caller", params: params, defaults: defaults, body: body, frame: frame, caller: nil)
                out.append(try evalCall(call, frame, caller: caller))
            case .include(let nameExpr, let ignoreMissing, let withContext):
                try execInclude(nameExpr, ignoreMissing: ignoreMissing, withContext: withContext, frame, &out)
            case .importAll(let nameExpr, let alias, let withContext):
                let exports = try importTemplate(nameExpr, withContext: withContext, frame)
                frame.vars[alias] = .namespace(NamespaceBox(exports))
            case .fromImport(let nameExpr, let names, let withContext, let line):
                let exports = try importTemplate(nameExpr, withContext: withContext, frame)
                let templateName = (try? text(try eval(nameExpr, frame))) ?? "?"
                for (name, alias) in names {
                    let missing =
                        "the template \(pythonStringRepr(templateName)) (imported on line \(line)) does not export the "
                        + "requested name \(pythonStringRepr(name))"
                    frame.vars[alias] = exports[name] ?? .undefined(Undefined(message: missing))
                }
            }
        }
    }

    private func execInclude(
        _ nameExpr: Expr, ignoreMissing: Bool, withContext: Bool, _ frame: Frame, _ out: inout [RV]
    ) throws {
        let nameValue = try concrete(try eval(nameExpr, frame))
        let names = nameValue.listValue ?? [nameValue]
        guard let loader = engine.hooks.loadTemplate else {
            throw PyError("template includes are not supported here (no template loader)")
        }
        for n in names {
            guard let name = n.stringValue else { throw PyError("include: template name must be a string") }
            let source: String
            do {
                source = try loader(name)
            } catch {
                if ignoreMissing { continue }
                throw PyError(Renderer.loaderMessage(error, name))
            }
            if nesting.count >= Renderer.maxNesting {
                throw TErr(
                    kind: .runtime, message: "Recursive loop detected in template: maximum recursion depth exceeded")
            }
            nesting.append("\u{0}include:" + name)
            defer { nesting.removeLast() }
            switch engine.compile(source, kind: .template, escapeBackslashes: false) {
            case .template(let body):
                try exec(body, withContext ? Frame(parent: frame) : Frame(parent: nil), &out)
            case .failed(let e): throw e
            case .expression: break
            }
            return
        }
    }

    /// The message for a template the loader could not load (its own words when it gave a ``LookupError``).
    static func loaderMessage(_ error: any Error, _ name: String) -> String {
        if case LookupError.failed(let m) = error { return m }
        return "\(pythonStringRepr(name)) not found: \(error)"
    }

    /// Runs a template for its top-level names (macros and `{% set %}`), as `{% import %}` does.
    private func importTemplate(_ nameExpr: Expr, withContext: Bool, _ frame: Frame) throws
        -> OrderedDictionary<String, RV>
    {
        let name = try text(try eval(nameExpr, frame))
        guard let loader = engine.hooks.loadTemplate else {
            throw PyError("template imports are not supported here (no template loader)")
        }
        let source: String
        do {
            source = try loader(name)
        } catch {
            throw PyError(Renderer.loaderMessage(error, name))
        }
        if nesting.count >= Renderer.maxNesting {
            throw TErr(kind: .runtime, message: "Recursive loop detected in template: maximum recursion depth exceeded")
        }
        nesting.append("\u{0}import:" + name)
        defer { nesting.removeLast() }
        guard case .template(let body) = engine.compile(source, kind: .template, escapeBackslashes: false) else {
            if case .failed(let e) = engine.compile(source, kind: .template, escapeBackslashes: false) { throw e }
            return [:]
        }
        let moduleFrame = Frame(parent: withContext ? frame : nil)
        var discarded: [RV] = []
        try exec(body, moduleFrame, &discarded)
        var exports = OrderedDictionary<String, RV>()
        for (k, v) in moduleFrame.vars.sorted(by: { $0.key < $1.key }) where !k.hasPrefix("_") { exports[k] = v }
        return exports
    }

    private func execFor(_ loop: ForLoop, iterable: RV, depth0: Int, _ frame: Frame, _ out: inout [RV]) throws {
        var items = try iterate(iterable)
        if let filter = loop.filter {
            var kept: [RV] = []
            for item in items {
                let f = Frame(parent: frame)
                try assign(loop.target, item, f)
                if try truthy(try eval(filter, f)) { kept.append(item) }
            }
            items = kept
        }
        if items.isEmpty {
            try exec(loop.otherwise, frame, &out)
            return
        }
        var recurse: ((RV, Int) throws(TErr) -> RV)? = nil
        if loop.recursive {
            recurse = { [unowned self] (next: RV, depth: Int) throws(TErr) -> RV in
                do {
                    var inner: [RV] = []
                    try self.execFor(loop, iterable: next, depth0: depth, frame, &inner)
                    var text = ""
                    for n in inner { text += try self.textOf(n) }
                    return .value(.string(text))
                } catch let e as TErr {
                    throw e
                } catch let e as PyError {
                    throw TErr.python(e.message)
                } catch {
                    throw TErr.python("\(error)")
                }
            }
        }
        let box = LoopBox(items: items, depth0: depth0, recurse: recurse)
        for (i, item) in items.enumerated() {
            box.index0 = i
            let f = Frame(parent: frame)
            try assign(loop.target, item, f)
            f.vars["loop"] = .loop(box)
            try exec(loop.body, f, &out)
        }
    }

    func assign(_ target: Target, _ value: RV, _ frame: Frame) throws {
        switch target {
        case .name(let n): frame.vars[n] = value
        case .nsref(let ns, let attr):
            guard case .namespace(let box)? = frame.lookup(ns) else {
                throw PyError("cannot assign attribute on non-namespace object")
            }
            box.attributes[attr] = value
        case .tuple(let targets):
            let items = try iterate(value)
            if items.count < targets.count {
                throw PyError("not enough values to unpack (expected \(targets.count), got \(items.count))")
            }
            if items.count > targets.count {
                throw PyError("too many values to unpack (expected \(targets.count))")
            }
            for (t, v) in zip(targets, items) { try assign(t, v, frame) }
        }
    }

    // MARK: expressions

    private var evalDepth = 0

    func eval(_ e: Expr, _ frame: Frame) throws -> RV {
        switch e {
        case .const(let v):
            if conditionalMode, case .string(let s) = v, TemplateEngine.isPossiblyTemplate(s) {
                warn(Renderer.embeddedTemplateWarning)
                return try renderNested(s)
            }
            return .value(v)
        case .name(let n): return try lookupName(n, frame)
        case .getattr(let base, let name): return try getAttr(try eval(base, frame), name)
        case .getitem(let base, let index):
            let b = try eval(base, frame)
            if case .slice(let start, let stop, let step) = index {
                return try slice(b, start, stop, step, frame)
            }
            return try getItem(b, try eval(index, frame))
        case .slice: throw PyError("slice outside of a subscript")
        case .list(let items), .tuple(let items):
            var out: [Value] = []
            out.reserveCapacity(items.count)
            var special: [RV]? = nil
            for item in items {
                let rv = try eval(item, frame)
                switch rv {
                case .undefined, .callable, .namespace, .loop, .seq, .object:
                    if special == nil { special = out.map { .value($0) } }
                    special?.append(rv)
                default:
                    let v = try concrete(rv)
                    out.append(v)
                    special?.append(.value(v))
                }
            }
            if let special { return .seq(special) }
            return .value(.list(out))
        case .dict(let pairs):
            var out = ValueDict(minimumCapacity: pairs.count)
            for (k, v) in pairs {
                let key = try concrete(try eval(k, frame))
                guard let name = dictKeyForLookup(key) else { throw PyError("unhashable type: '\(pyTypeName(key))'") }
                out[name] = try concrete(try eval(v, frame))
            }
            return .value(.dict(out))
        case .binary(let op, let l, let r):
            let x = try eval(l, frame)
            let y = try eval(r, frame)
            if let result = try objectArith(op, x, y) { return result }
            return .value(try pyArith(op, try operand(x), try operand(y), names: (typeName(x), typeName(y))))
        case .neg(let x):
            let v = try eval(x, frame)
            return .value(try pyNeg(try operand(v), name: typeName(v)))
        case .pos(let x):
            let v = try eval(x, frame)
            return .value(try pyNeg(try operand(v), plus: true, name: typeName(v)))
        case .not(let x): return .value(.bool(!(try truthy(try eval(x, frame)))))
        case .and(let l, let r):
            let a = try eval(l, frame)
            return try truthy(a) ? try eval(r, frame) : a
        case .or(let l, let r):
            let a = try eval(l, frame)
            return try truthy(a) ? a : try eval(r, frame)
        case .concat(let parts):
            var s = ""
            for p in parts {
                let v = try eval(p, frame)
                if case .undefined(let u) = v {
                    if u.plain { continue }
                    throw TErr.undefined(u)
                }
                s += pyStr(try concrete(v))
            }
            return .value(.string(s))
        case .compare(let first, let ops):
            var left = try eval(first, frame)
            for (op, rightExpr) in ops {
                let right = try eval(rightExpr, frame)
                let holds: Bool
                if let r = try objectCompare(op, left, right) {
                    holds = r
                } else {
                    holds = try Renderer.compare(
                        op, try operand(left), try operand(right), names: (typeName(left), typeName(right)))
                }
                if !holds { return .value(.bool(false)) }
                left = right
            }
            return .value(.bool(true))
        case .cond(let test, let then, let otherwise):
            if try truthy(try eval(test, frame)) { return try eval(then, frame) }
            if let otherwise { return try eval(otherwise, frame) }
            return .undefined(
                Undefined(
                    message: "the inline if-expression on line 1 evaluated to false and no else section was defined.",
                    plain: true))
        case .filter(let value, let call):
            let input = try value.map { try eval($0, frame) } ?? .none
            return try applyFilter(call, input, frame)
        case .test(let value, let call):
            return try applyTest(call, try eval(value, frame), frame)
        case .call:
            return try evalCall(e, frame, caller: nil)
        }
    }

    static let embeddedTemplateWarning =
        "Jinja constant strings should not contain embedded templates. This feature will be disabled by default in "
        + "ansible-core 2.23."

    /// An operand of an operator: undefined values raise.
    private func operand(_ rv: RV) throws -> Value {
        try concrete(rv)
    }

    static func compare(_ op: CmpOp, _ a: Value, _ b: Value, names: (String, String)? = nil) throws -> Bool {
        let swapped = names.map { ($0.1, $0.0) }
        switch op {
        case .eq: return pyEq(a, b)
        case .ne: return !pyEq(a, b)
        case .lt: return try pyCompare(a, b, "<", names: names) == -1
        case .lteq: return try [-1, 0].contains(pyCompare(a, b, "<=", names: names))
        case .gt: return try pyCompare(a, b, ">", names: names) == 1
        case .gteq: return try [1, 0].contains(pyCompare(a, b, ">=", names: names))
        case .in: return try pyContains(b, a, names: swapped)
        case .notin: return !(try pyContains(b, a, names: swapped))
        }
    }

    // MARK: calls

    /// Evaluated call arguments.
    struct Args {
        var positional: [RV] = []
        var keywords: [(String, RV)] = []

        var firstUndefined: RV? {
            if let u = positional.first(where: \.isUndefined) { return u }
            return keywords.first(where: { $0.1.isUndefined })?.1
        }

        func keyword(_ name: String) -> RV? { keywords.first { $0.0 == name }?.1 }
    }

    func evalArgs(_ args: CallArgs, _ frame: Frame, lookupTerms: Bool = false) throws -> Args {
        var result = Args()
        for a in args.args {
            // Ansible renders constant template strings given to lookups (deprecated embedded templates).
            if lookupTerms, let rendered = try embeddedConstant(a) {
                result.positional.append(rendered)
                continue
            }
            result.positional.append(try eval(a, frame))
        }
        if let dyn = args.dynArgs {
            let v = try eval(dyn, frame)
            result.positional.append(contentsOf: try iterate(v))
        }
        for (k, v) in args.kwargs { result.keywords.append((k, try eval(v, frame))) }
        if let dyn = args.dynKwargs {
            let v = try concrete(try eval(dyn, frame))
            guard case .dict(let d) = v else {
                throw PyError("argument after ** must be a mapping, not \(pyTypeName(v))")
            }
            for (k, item) in d { result.keywords.append((k, .value(item))) }
        }
        return result
    }

    /// A constant string (or a literal list/dict of them) that looks like a template, rendered with a warning.
    private func embeddedConstant(_ e: Expr) throws -> RV? {
        guard Renderer.hasTemplateConstant(e) else { return nil }
        warn(Renderer.embeddedTemplateWarning)
        return .value(try renderConstants(e))
    }

    private static func hasTemplateConstant(_ e: Expr) -> Bool {
        switch e {
        case .const(.string(let s)): return TemplateEngine.isPossiblyTemplate(s)
        case .list(let items), .tuple(let items): return items.contains(where: hasTemplateConstant)
        case .dict(let pairs): return pairs.contains { hasTemplateConstant($0.1) }
        default: return false
        }
    }

    private func renderConstants(_ e: Expr) throws -> Value {
        switch e {
        case .const(.string(let s)) where TemplateEngine.isPossiblyTemplate(s):
            return try concrete(try renderNested(s))
        case .list(let items), .tuple(let items):
            return .list(try items.map { try renderConstants($0) })
        case .dict(let pairs):
            var out = ValueDict()
            for (k, v) in pairs {
                let key = try concrete(try eval(k, Frame(parent: nil)))
                out[dictKey(key) ?? pyStr(key)] = try renderConstants(v)
            }
            return .dict(out)
        default:
            return try concrete(try eval(e, Frame(parent: nil)))
        }
    }

    func evalCall(_ e: Expr, _ frame: Frame, caller: MacroBox?) throws -> RV {
        guard case .call(let calleeExpr, let callArgs) = e else { return try eval(e, frame) }
        if case .getattr(.name(let n), let method) = calleeExpr, Methods.mutating.contains(method),
            let owner = frame.owner(of: n), let held = owner.vars[n]
        {
            // `{% set _ = items.append(x) %}`: Python mutates the list in place; we update the local binding.
            var container: Value? = nil
            if case .value(let v) = held {
                container = v
            } else if case .lazy(let v, let scope) = held {
                container = try deepRender(v, scope: scope)
            }
            if let container, Methods.has(container, method) {
                let args = try evalArgs(callArgs, frame)
                if let u = args.firstUndefined { return u }
                let a = try args.positional.map { try concrete($0) }
                var kw: [String: Value] = [:]
                for (k, v) in args.keywords { kw[k] = try concrete(v) }
                switch container {
                case .list(var l):
                    let result = try Methods.listMethod(&l, method, a)
                    owner.vars[n] = .value(.list(l))
                    return .value(result)
                case .dict(var d):
                    let result = try Methods.dictMethod(&d, method, a, kw)
                    owner.vars[n] = .value(.dict(d))
                    return .value(result)
                default: break
                }
            }
        }
        let callee = try eval(calleeExpr, frame)
        var isLookup = false
        if case .callable(.global(let g)) = callee, ["lookup", "query", "q"].contains(g) { isLookup = true }
        let args = try evalArgs(callArgs, frame, lookupTerms: isLookup)
        switch callee {
        case .undefined: return callee
        case .callable(let c):
            if case .macro(let box) = c { return try callMacro(box, args, caller: caller) }
            if !isLookup, let u = args.firstUndefined { return u }
            do {
                switch c {
                case .global(let name): return try callGlobal(name, args)
                case .method(let receiver, let name, let lazy, let scope):
                    return try Methods.call(receiver, name, args, self, lazy: lazy, scope: scope)
                case .loopMethod(let box, let name): return try callLoopMethod(box, name, args)
                case .objectMethod(let o, let name): return try callObjectMethod(o, name, args)
                case .loopRecurse(let box):
                    guard let recurse = box.recurse, let first = args.positional.first else {
                        throw PyError("Tried to call non recursive loop.")
                    }
                    return try recurse(first, box.depth0 + 1)
                case .macro: return .none
                }
            }
        case .loop(let box):
            guard let recurse = box.recurse else {
                throw PyError(
                    "The loop must have the 'recursive' marker to be called recursively.")
            }
            guard let first = args.positional.first else { throw PyError("loop() takes exactly one argument") }
            return try recurse(first, box.depth0 + 1)
        case .value, .lazy:
            throw PyError("'\(typeName(callee))' object is not callable")
        case .namespace:
            throw PyError("'Namespace' object is not callable")
        case .seq:
            throw PyError("'list' object is not callable")
        case .object(let o):
            throw PyError("'\(o.typeName)' object is not callable")
        }
    }

    private func callLoopMethod(_ box: LoopBox, _ name: String, _ args: Args) throws -> RV {
        if name == "cycle" {
            guard !args.positional.isEmpty else { throw PyError("no items for cycling given") }
            return args.positional[box.index0 % args.positional.count]
        }
        // changed(*values)
        let values = try args.positional.map { try concrete($0) }
        if let last = box.lastChanged, last == values { return .value(.bool(false)) }
        box.lastChanged = values
        return .value(.bool(true))
    }

    func callMacro(_ box: MacroBox, _ args: Args, caller: MacroBox?) throws -> RV {
        if evalDepth > Renderer.maxNesting * 4 {
            throw TErr(kind: .runtime, message: "Recursive loop detected in template: maximum recursion depth exceeded")
        }
        evalDepth += 1
        defer { evalDepth -= 1 }
        let frame = Frame(parent: box.frame)
        var extra: [Value] = []
        for (i, v) in args.positional.enumerated() {
            if i < box.params.count { frame.vars[box.params[i]] = v } else { extra.append(try concrete(v)) }
        }
        var extraKw = ValueDict()
        for (k, v) in args.keywords {
            if box.params.contains(k) {
                if frame.vars[k] != nil, let idx = box.params.firstIndex(of: k), idx < args.positional.count {
                    throw PyError("macro '\(box.name)' got multiple values for argument '\(k)'")
                }
                frame.vars[k] = v
            } else if k == "caller" {
                frame.vars["caller"] = v
            } else {
                extraKw[k] = try concrete(v)
            }
        }
        let firstDefault = box.params.count - box.defaults.count
        for (i, p) in box.params.enumerated() where frame.vars[p] == nil {
            if i >= firstDefault {
                frame.vars[p] = try eval(box.defaults[i - firstDefault], frame)
            } else {
                frame.vars[p] = .undefined(Undefined(message: "parameter '\(p)' was not provided"))
            }
        }
        frame.vars["varargs"] = .value(.list(extra))
        frame.vars["kwargs"] = .value(.dict(extraKw))
        if let caller { frame.vars["caller"] = .callable(.macro(caller)) }
        var out: [RV] = []
        try exec(box.body, frame, &out)
        return try nativeConcat(out)
    }
}

extension RV {
    fileprivate func withMessage(_ message: String) -> RV {
        if case .undefined(var u) = self {
            u.message = message
            return .undefined(u)
        }
        return self
    }
}
