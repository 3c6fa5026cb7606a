// SwansibleTemplate: Ansible's templating (Jinja2 with ansible-core 2.19.14's semantics), natively.
//
// Entry point: `TemplateEngine` (render / template / evaluateExpression / evaluateConditional / lookup).
// What matches ansible-core (checked by Tests/SwansibleTemplateTests/Fixtures/cases.json, recorded from
// ansible-core itself by Tests/tools/gen_template_cases.py):
//  - Jinja2's lexer and grammar and its syntax error messages; trim_blocks on, `#jinja2:` headers and the
//    template module's overrides; backslashes literal in `{{ }}` string literals (escape_backslashes).
//  - Native results: one `{{ expr }}` keeps its type, several parts join as Python `str()` (None skipped).
//  - Lazy variables: template strings in variables render when used, recursively, with loop detection;
//    `.unsafe` strings never; `hostvars[host]` with that host's variables (`TemplateVariables.hostVariables`).
//  - Undefined markers that propagate through attribute access, filters and calls until used, so `default`
//    and `is defined` work on chains; messages as ansible-core words them (with its tagged type names).
//  - `omit`, conditionals (boolean results required, template-wrapped and embedded-template deprecations),
//    lookups (`env`, `vars`, data lookups built in; others through `LookupProvider`).
//  - Python semantics: repr/str, comparisons, arithmetic, `%` and `str.format`, str/list/dict methods,
//    Python's seeded `random`, datetimes from `now()`/`to_datetime`.
//  - Controller lookups (file, fileglob, first_found, pipe, lines) and the YAML filters come from the core's
//    hooks (SwansibleCore's `makeCoreTemplateHooks`); `TemplateEngine.fuzzParse` is the parser's fuzz target.
// Known gaps: integers beyond 64 bits raise an overflow error (Python has big ints); dict keys are strings
// (an int key prints as '1'); regex compile errors other than the common ones (unbalanced parentheses,
// unterminated sets, nothing to repeat) use Swift's/ICU's words; no object identity for `sameas` on
// containers; `from_yaml` errors are not PyYAML's text; set-like filters order
// strings by first appearance (Python's order depends on the hash seed); `{% extends %}`/`{% block %}`
// are not supported; a list literal holding undefined values is usable as a sequence but a dict literal
// holding one raises at once.

public import OrderedCollections
public import SwansibleData
import Synchronization

/// Where templates find variables. `nil` means the variable is undefined.
///
/// Strings in the returned values are trusted templates (as ansible-core treats playbook and inventory
/// variables): they are rendered, lazily, when a template uses them. ``Value/unsafe(_:)`` strings never are.
public protocol TemplateVariables {
    func variable(_ name: String) -> Value?

    /// The variables of another host: templates found under `hostvars[host]` are rendered with them, as
    /// ansible-core's HostVars does. The default (nil) renders them with these variables.
    func hostVariables(_ host: String) -> (any TemplateVariables)?
}

extension TemplateVariables {
    public func hostVariables(_ host: String) -> (any TemplateVariables)? { nil }
}

/// Variables held in a dictionary.
public struct VariableDictionary: TemplateVariables, Sendable {
    public var values: ValueDict

    public init(_ values: ValueDict = [:]) { self.values = values }

    public func variable(_ name: String) -> Value? { values[name] }
}

/// Runs lookup plugins that need the controller (file, pipe, template, …). `env` and `vars` are built in.
public protocol LookupProvider: Sendable {
    /// Runs lookup `name` (without an `ansible.builtin.` prefix) on rendered `terms` with the keyword options
    /// (without `wantlist` and `errors`). Returns the plugin's list of results. Throw ``LookupError/notFound``
    /// for a lookup you do not provide; any other error's description becomes the failure message.
    func lookup(name: String, terms: [Value], options: ValueDict) throws -> [Value]

    /// As ``lookup(name:terms:options:)``, with a way to display a `[WARNING]` as ansible-core's lookups do
    /// (e.g. `fileglob` on a directory that is not found). The default calls the three-argument form.
    func lookup(name: String, terms: [Value], options: ValueDict, warn: (String) -> Void) throws -> [Value]
}

extension LookupProvider {
    public func lookup(name: String, terms: [Value], options: ValueDict, warn: (String) -> Void) throws -> [Value] {
        try lookup(name: name, terms: terms, options: options)
    }
}

/// Errors a ``LookupProvider`` may throw.
public enum LookupError: Error, Sendable, CustomStringConvertible {
    /// No such lookup plugin.
    case notFound
    /// The lookup failed; the message is shown after "The lookup plugin 'x' failed: ".
    case failed(String)

    public var description: String {
        switch self {
        case .notFound: return "not found"
        case .failed(let m): return m
        }
    }
}

/// Options of the `to_yaml` / `to_nice_yaml` filters, for ``TemplateHooks/toYAML``.
public struct YAMLDumpOptions: Sendable, Hashable {
    /// `to_nice_yaml` (block style, indent 4, sorted keys by default) rather than `to_yaml`.
    public var nice: Bool
    public var indent: Int
    /// PyYAML's `default_flow_style`: nil lets PyYAML choose (flow for leaf collections), as `to_yaml` does.
    public var defaultFlowStyle: Bool?
    public var sortKeys: Bool
    public var width: Int?
    public var explicitStart: Bool
    public var explicitEnd: Bool
    /// Keyword arguments not understood above.
    public var extra: ValueDict

    public init(
        nice: Bool, indent: Int = 2, defaultFlowStyle: Bool? = nil, sortKeys: Bool = true, width: Int? = nil,
        explicitStart: Bool = false, explicitEnd: Bool = false, extra: ValueDict = [:]
    ) {
        self.nice = nice
        self.indent = indent
        self.defaultFlowStyle = defaultFlowStyle
        self.sortKeys = sortKeys
        self.width = width
        self.explicitStart = explicitStart
        self.explicitEnd = explicitEnd
        self.extra = extra
    }
}

/// What the engine needs from the rest of swansible. Everything is optional; what is missing makes the
/// corresponding filter or lookup fail with a clear message.
public struct TemplateHooks: Sendable {
    /// `to_yaml` / `to_nice_yaml`: serialise as PyYAML's `yaml.dump` with AnsibleDumper would.
    public var toYAML: (@Sendable (Value, YAMLDumpOptions) throws -> String)?
    /// `from_yaml`: parse one YAML document.
    public var fromYAML: (@Sendable (String) throws -> Value)?
    /// `from_yaml_all`: parse every YAML document in a string.
    public var fromYAMLAll: (@Sendable (String) throws -> [Value])?
    /// Lookups other than `env` and `vars`.
    public var lookups: (any LookupProvider)?
    /// The environment `lookup('env', …)` reads; nil means this process's environment.
    public var environment: [String: String]?
    /// Loads a template by name for `{% include %}` (the template module's search path).
    public var loadTemplate: (@Sendable (String) throws -> String)?

    public init(
        toYAML: (@Sendable (Value, YAMLDumpOptions) throws -> String)? = nil,
        fromYAML: (@Sendable (String) throws -> Value)? = nil,
        fromYAMLAll: (@Sendable (String) throws -> [Value])? = nil,
        lookups: (any LookupProvider)? = nil,
        environment: [String: String]? = nil,
        loadTemplate: (@Sendable (String) throws -> String)? = nil
    ) {
        self.toYAML = toYAML
        self.fromYAML = fromYAML
        self.fromYAMLAll = fromYAMLAll
        self.lookups = lookups
        self.environment = environment
        self.loadTemplate = loadTemplate
    }
}

/// A warning or deprecation ansible-core would display while templating.
public struct TemplateWarning: Sendable, Hashable, CustomStringConvertible {
    public var message: String
    /// A `[DEPRECATION WARNING]` rather than a `[WARNING]`.
    public var isDeprecation: Bool
    /// What to do instead, shown after the origin (`Use `ansible_play_batch` instead.`).
    public var helpText: String? = nil

    public var description: String { (isDeprecation ? "[DEPRECATION WARNING]: " : "[WARNING]: ") + message }
}

/// Jinja2 environment settings a template may override (the template module's options, or a
/// `#jinja2: trim_blocks: False, lstrip_blocks: True` first line).
public struct TemplateOverrides: Sendable, Hashable {
    public var blockStart: String
    public var blockEnd: String
    public var variableStart: String
    public var variableEnd: String
    public var commentStart: String
    public var commentEnd: String
    /// The first newline after a block or comment tag is dropped (Ansible's default: true).
    public var trimBlocks: Bool
    /// Whitespace from a line's start up to a block or comment tag is dropped.
    public var lstripBlocks: Bool
    public var keepTrailingNewline: Bool
    /// `"\n"`, `"\r\n"` or `"\r"`: what newlines in template text become.
    public var newlineSequence: String

    public init(
        blockStart: String = "{%", blockEnd: String = "%}", variableStart: String = "{{", variableEnd: String = "}}",
        commentStart: String = "{#", commentEnd: String = "#}", trimBlocks: Bool = true, lstripBlocks: Bool = false,
        keepTrailingNewline: Bool = false, newlineSequence: String = "\n"
    ) {
        self.blockStart = blockStart
        self.blockEnd = blockEnd
        self.variableStart = variableStart
        self.variableEnd = variableEnd
        self.commentStart = commentStart
        self.commentEnd = commentEnd
        self.trimBlocks = trimBlocks
        self.lstripBlocks = lstripBlocks
        self.keepTrailingNewline = keepTrailingNewline
        self.newlineSequence = newlineSequence
    }

    /// ansible-core's `is_possibly_template` with these delimiters.
    public func isPossiblyTemplate(_ s: String) -> Bool {
        s.hasPrefix("#jinja2:") || s.contains(blockStart) || s.contains(variableStart) || s.contains(commentStart)
    }

    /// Applies a `#jinja2:` first line: returns the template without it and the resulting overrides.
    func extractHeader(_ template: String) throws(TErr) -> (String, TemplateOverrides) {
        guard template.hasPrefix("#jinja2:") else { return (template, self) }
        func fail(_ m: String) -> TErr { TErr(kind: .syntax, message: m, prefixed: false) }
        guard let eol = template.firstIndex(of: "\n") else {
            throw fail("Missing newline after '#jinja2:' override.")
        }
        let line = template[template.index(template.startIndex, offsetBy: 8)..<eol]
        var result = self
        for pair in line.split(separator: ",", omittingEmptySubsequences: false) {
            guard !pair.allSatisfy(\.isWhitespace) else { throw fail("Empty '#jinja2:' override pair not allowed.") }
            guard let colon = pair.firstIndex(of: ":") else {
                throw fail("Missing key-value separator `:` in '#jinja2:' override pair \(pythonStringRepr(String(pair))).")
            }
            let key = TemplateEngine.strip(String(pair[..<colon]))
            let raw = TemplateEngine.strip(String(pair[pair.index(after: colon)...]))
            let value: Value
            switch raw {
            case "True": value = .bool(true)
            case "False": value = .bool(false)
            case "None": value = .null
            default:
                if let first = raw.first, first == "'" || first == "\"", raw.count >= 2, raw.last == first {
                    do {
                        value = .string(try Lexer.unescape(String(raw.dropFirst().dropLast()), line: 1))
                    } catch {
                        throw fail(error.message)
                    }
                } else if let i = Int(raw) {
                    value = .int(i)
                } else {
                    throw fail("malformed node or string: \(raw)")
                }
            }
            func text() throws(TErr) -> String {
                guard let s = value.stringValue else { throw fail("'\(key)' must be a string") }
                return s
            }
            switch key {
            case "block_start_string": result.blockStart = try text()
            case "block_end_string": result.blockEnd = try text()
            case "variable_start_string": result.variableStart = try text()
            case "variable_end_string": result.variableEnd = try text()
            case "comment_start_string": result.commentStart = try text()
            case "comment_end_string": result.commentEnd = try text()
            case "trim_blocks": result.trimBlocks = value.isTruthy
            case "lstrip_blocks": result.lstripBlocks = value.isTruthy
            case "keep_trailing_newline": result.keepTrailingNewline = value.isTruthy
            case "newline_sequence": result.newlineSequence = try text()
            case "line_statement_prefix", "line_comment_prefix":
                if !value.isNull { throw fail("'\(key)' is not supported") }
            default: throw fail("Invalid '#jinja2:' override key \(pythonStringRepr(key)).")
            }
        }
        if result.blockStart == result.variableStart || result.variableStart == result.commentStart
            || result.commentStart == result.blockStart
        {
            throw fail("Block, variable and comment start strings must be different.")
        }
        return (String(template[template.index(after: eol)...]), result)
    }
}

/// Per-call options, mirroring ansible-core's `TemplateOptions`.
public struct TemplateOptions: Sendable {
    /// Backslashes in string literals inside `{{ }}` are literal (ansible-core's default for YAML-sourced templates).
    public var escapeBackslashes: Bool
    /// Trailing newlines that Jinja2 drops are restored.
    public var preserveTrailingNewlines: Bool
    /// What a template that resolves to `omit` as a whole becomes; nil raises ``TemplateError/Kind/omitted``.
    /// (Omitted values inside lists and dicts always drop out.)
    public var valueForOmit: Value?
    /// Receives warnings and deprecations.
    public var onWarning: (@Sendable (TemplateWarning) -> Void)?
    /// Jinja2 settings for the top-level template (not for variables it uses).
    public var overrides: TemplateOverrides

    public init(
        escapeBackslashes: Bool = true, preserveTrailingNewlines: Bool = true, valueForOmit: Value? = nil,
        overrides: TemplateOverrides = TemplateOverrides(), onWarning: (@Sendable (TemplateWarning) -> Void)? = nil
    ) {
        self.escapeBackslashes = escapeBackslashes
        self.preserveTrailingNewlines = preserveTrailingNewlines
        self.valueForOmit = valueForOmit
        self.overrides = overrides
        self.onWarning = onWarning
    }
}

/// A templating error, with ansible-core's message (the text after "Error while resolving value for 'msg': ").
public struct TemplateError: Error, Sendable, CustomStringConvertible {
    /// The ansible-core exception class this stands for.
    public enum Kind: String, Sendable, Hashable {
        /// AnsibleTemplateSyntaxError: "Syntax error in template: …".
        case syntax
        /// AnsibleUndefinedVariable: "'x' is undefined", "object of type 'dict' has no attribute 'y'".
        case undefined
        /// AnsibleTemplateError: "Error rendering template: …", recursive loops.
        case runtime
        /// AnsibleTemplatePluginError: "The filter plugin 'ansible.builtin.x' failed: …".
        case plugin
        /// AnsibleValueOmittedError: the whole template resolved to `omit`.
        case omitted
        /// AnsibleBrokenConditionalError: a conditional whose result is not a boolean.
        case brokenConditional
        /// TemplateTrustCheckFailedError: a template's result was used as an expression.
        case untrusted
    }

    public var kind: Kind
    public var message: String
    /// The template or expression being rendered.
    public var template: String?
    /// For syntax errors, the 1-based line within the template.
    public var line: Int?

    public init(kind: Kind, message: String, template: String? = nil, line: Int? = nil) {
        self.kind = kind
        self.message = message
        self.template = template
        self.line = line
    }

    public var description: String { message }
}

/// A compiled template or expression (or the syntax error compiling it gave).
enum Compiled: Sendable {
    case template([Stmt])
    case expression(Expr)
    case failed(TErr)
}



/// Ansible's templating: Jinja2 templates and expressions with ansible-core 2.19's semantics.
///
/// Thread-safe. Compiled templates are cached by source text.
public final class TemplateEngine: Sendable {
    public let hooks: TemplateHooks

    enum UnitKind: Hashable { case template, expression }

    struct CacheKey: Hashable {
        var source: String
        var kind: UnitKind
        var escapeBackslashes: Bool
        var overrides: TemplateOverrides
    }

    /// Compiled units by source; shared by the engines made with ``withHooks(_:)`` (compiling does not
    /// depend on the hooks).
    final class CompileCache: Sendable {
        let entries = Mutex<[CacheKey: Compiled]>([:])
    }

    private let cache: CompileCache
    static let cacheLimit = 20_000

    public init(hooks: TemplateHooks = TemplateHooks()) {
        self.hooks = hooks
        cache = CompileCache()
    }

    private init(hooks: TemplateHooks, cache: CompileCache) {
        self.hooks = hooks
        self.cache = cache
    }

    /// An engine with other hooks that shares this one's cache of compiled templates (the executor makes one per
    /// task and host: without sharing, every host would compile the task's templates again).
    public func withHooks(_ hooks: TemplateHooks) -> TemplateEngine {
        TemplateEngine(hooks: hooks, cache: cache)
    }

    /// The value `omit` evaluates to. Inside lists and dicts it drops out when a result is finalized; a template
    /// that is `omit` as a whole raises ``TemplateError/Kind/omitted`` unless ``TemplateOptions/valueForOmit``
    /// is set. The core can also compare values against it.
    public static let omit: Value = .unsafe("__omit_place_holder__1f0c2c5ad3a8e6b79d7f0c1b6f0f6f54a7c2d9e3")

    /// ansible-core's `is_possibly_template`: the string has a `{{`, `{%` or `{#` (or a `#jinja2:` header).
    public static func isPossiblyTemplate(_ s: String) -> Bool {
        var previousBrace = false
        for c in s.utf8 {
            if previousBrace && (c == UInt8(ascii: "{") || c == UInt8(ascii: "%") || c == UInt8(ascii: "#")) {
                return true
            }
            previousBrace = c == UInt8(ascii: "{")
        }
        return s.hasPrefix("#jinja2:")
    }

    /// Whether templating `value` would render anything: a (non-unsafe) string with template syntax, at any depth.
    public static func isTemplate(_ value: Value) -> Bool {
        switch value {
        case .string(let s): return isPossiblyTemplate(s)
        case .list(let items): return items.contains(where: isTemplate)
        case .dict(let d): return d.values.contains(where: isTemplate)
        default: return false
        }
    }

    func compile(
        _ source: String, kind: UnitKind, escapeBackslashes: Bool, overrides: TemplateOverrides = TemplateOverrides()
    ) -> Compiled {
        let key = CacheKey(source: source, kind: kind, escapeBackslashes: escapeBackslashes, overrides: overrides)
        if let hit = cache.entries.withLock({ $0[key] }) { return hit }
        let compiled = TemplateEngine.compileUncached(
            source, kind: kind, escapeBackslashes: escapeBackslashes, overrides: overrides)
        cache.entries.withLock {
            if $0.count >= TemplateEngine.cacheLimit { $0.removeAll(keepingCapacity: true) }
            $0[key] = compiled
        }
        return compiled
    }

    /// ``compile(_:kind:escapeBackslashes:overrides:)`` without the cache (for ``fuzzParse(_:)``).
    static func compileForFuzzing(_ source: String, kind: UnitKind, escapeBackslashes: Bool) -> Compiled {
        compileUncached(source, kind: kind, escapeBackslashes: escapeBackslashes, overrides: TemplateOverrides())
    }

    private static func compileUncached(
        _ source: String, kind: UnitKind, escapeBackslashes: Bool, overrides: TemplateOverrides
    ) -> Compiled {
        var source = source
        var overrides = overrides
        if kind == .template {
            do throws(TErr) {
                (source, overrides) = try overrides.extractHeader(source)
            } catch {
                return .failed(error)
            }
        }
        do throws(SyntaxError) {
            switch kind {
            case .template:
                let tokens = try Lexer.tokenize(
                    template: source, escapeBackslashes: escapeBackslashes, overrides: overrides)
                let body = try Parser.parse(template: tokens)
                try Checker.check(body)
                return .template(body)
            case .expression:
                let tokens = try Lexer.tokenize(expression: source)
                let expr = try Parser.parse(expression: tokens)
                try Checker.check(expr)
                return .expression(expr)
            }
        } catch {
            if error.message == Parser.tooDeep {
                let word = kind == .template ? "template" : "expression"
                return .failed(
                    TErr(
                        kind: .runtime, message: "Recursive loop detected in \(word): maximum recursion depth exceeded",
                        line: error.line))
            }
            return .failed(TErr(kind: .syntax, message: error.message, prefixed: false, line: error.line))
        }
    }

    // MARK: public API

    /// Renders a template string as ansible-core templates task arguments: a string without template syntax is
    /// returned unchanged; a template that is a single `{{ expression }}` keeps the expression's type; anything
    /// else gives a string.
    public func render(
        _ template: String, variables: any TemplateVariables, options: TemplateOptions = TemplateOptions()
    ) throws(TemplateError) -> Value {
        guard options.overrides.isPossiblyTemplate(template) else { return .string(template) }
        let r = Renderer(engine: self, variables: variables, options: options)
        return try topLevel(template, word: "template", r) { () throws -> RV in
            let compiled = compile(
                template, kind: .template, escapeBackslashes: options.escapeBackslashes, overrides: options.overrides)
            return try r.preserveNewlines(template, try r.run(compiled, source: template))
        }
    }

    /// Templates a value recursively, as ansible-core does for task arguments and variables: every trusted
    /// string is rendered, omitted values drop out of lists and dicts.
    public func template(
        _ value: Value, variables: any TemplateVariables, options: TemplateOptions = TemplateOptions()
    ) throws(TemplateError) -> Value {
        switch value {
        case .string(let s): return try render(s, variables: variables, options: options)
        case .list, .dict:
            guard TemplateEngine.isTemplate(value) else { return value }
            let r = Renderer(engine: self, variables: variables, options: options)
            return try topLevel(nil, word: "template", r) { () throws -> RV in .lazy(value, nil) }
        default: return value
        }
    }

    /// Evaluates a bare Jinja2 expression (no `{{ }}`), as `Templar.evaluate_expression`.
    public func evaluateExpression(
        _ expression: String, variables: any TemplateVariables, options: TemplateOptions = TemplateOptions()
    ) throws(TemplateError) -> Value {
        let r = Renderer(engine: self, variables: variables, options: options)
        return try topLevel(expression, word: "expression", r) { () throws -> RV in
            try r.run(compile(expression, kind: .expression, escapeBackslashes: false), source: expression)
        }
    }

    /// Runs a lookup plugin as a `with_<name>` loop does (ansible-core calls it with `wantlist=True`): `terms` are
    /// already templated. `env`, `vars` and the data lookups (`items`, `list`, `dict`, `indexed_items`, `nested`,
    /// `together`, `sequence`, `flattened`) are built in; others go to ``TemplateHooks/lookups``.
    public func lookup(
        _ name: String, terms: [Value], options lookupOptions: ValueDict = [:], variables: any TemplateVariables,
        options: TemplateOptions = TemplateOptions()
    ) throws(TemplateError) -> Value {
        let r = Renderer(engine: self, variables: variables, options: options)
        return try topLevel(nil, word: "template", r) { () throws -> RV in
            var args = Renderer.Args(positional: [.value(.string(name))] + terms.map { .value($0) })
            for (k, v) in lookupOptions { args.keywords.append((k, .value(v))) }
            args.keywords.append(("wantlist", .value(.bool(true))))
            return try r.callLookup(args, forceList: true)
        }
    }

    /// Evaluates a conditional (`when`, `failed_when`, `changed_when`, `until`, `assert.that`) as ansible-core
    /// 2.19 does: the result must be a boolean. `origin` names where the conditional is (`file:line:col`), for
    /// the message about non-boolean results.
    public func evaluateConditional(
        _ conditional: Value, variables: any TemplateVariables, origin: String? = nil,
        options: TemplateOptions = TemplateOptions()
    ) throws(TemplateError) -> Bool {
        let r = Renderer(engine: self, variables: variables, options: options)
        let result = try conditionalResult(conditional, r)
        if case .bool(let b) = result { return b }
        let origin = origin ?? "<unknown>"
        throw TemplateError(
            kind: .brokenConditional,
            message: "Conditional result (\(result.isTruthy ? "True" : "False")) was derived from value of type "
                + "'\(result.pythonTypeName)' at '\(origin)'. Conditionals must have a boolean result.",
            template: conditional.stringValue)
    }

    private func conditionalResult(_ conditional: Value, _ r: Renderer) throws(TemplateError) -> Value {
        var text: String
        switch conditional {
        case .bool: return conditional
        case .string(let s), .unsafe(let s): text = s
        case .null: text = ""
        default:
            throw TemplateError(kind: .brokenConditional, message: "Conditional expressions must be strings.")
        }
        text = TemplateEngine.strip(text)
        if text.isEmpty {
            throw TemplateError(
                kind: .brokenConditional, message: "Empty conditional expressions are not allowed.", template: text)
        }
        do throws(TemplateError) {
            if TemplateEngine.isPossiblyAllTemplate(text) {
                // `when: "{{ expr }}"`: the template is rendered; a string result is evaluated as an expression,
                // which is allowed only when it is a trusted string (from variables), not a template's output.
                let source = text
                let (rendered, trusted): (Value, Bool) = try guarded(source, word: "template", r) { () throws in
                    let compiled = compile(source, kind: .template, escapeBackslashes: r.options.escapeBackslashes)
                    let rv = try r.run(compiled, source: source)
                    var trusted = false
                    if case .lazy(.string, _) = rv { trusted = true }
                    return (try finalizeTop(rv, r), trusted)
                }
                guard let s = rendered.stringValue else {
                    r.deprecate(
                        "Conditionals should not be surrounded by templating delimiters such as {{ }} or {% %}.")
                    return rendered
                }
                text = TemplateEngine.strip(s)
                if text.isEmpty {
                    throw TemplateError(
                        kind: .brokenConditional, message: "Empty conditional expressions are not allowed.",
                        template: text)
                }
                if !trusted {
                    throw TemplateError(
                        kind: .untrusted, message: "Encountered untrusted template or expression.", template: text)
                }
            }
            let expression = text
            return try topLevel(expression, word: "expression", r) { () throws -> RV in
                r.conditionalMode = true
                defer { r.conditionalMode = false }
                return try r.run(compile(expression, kind: .expression, escapeBackslashes: false), source: expression)
            }
        } catch {
            if error.kind == .undefined {
                throw TemplateError(
                    kind: .undefined, message: concatMessage("Error while evaluating conditional", error.message),
                    template: conditional.stringValue)
            }
            throw error
        }
    }

    /// Python's `str.strip()`.
    static func strip(_ s: String) -> String {
        let scalars = Array(s.unicodeScalars)
        var a = 0
        var b = scalars.count
        while a < b, scalars[a].properties.isWhitespace || (0x1C...0x1F).contains(scalars[a].value) { a += 1 }
        while b > a, scalars[b - 1].properties.isWhitespace || (0x1C...0x1F).contains(scalars[b - 1].value) { b -= 1 }
        return String(String.UnicodeScalarView(scalars[a..<b]))
    }

    /// ansible-core's `is_possibly_all_template`: starts with a start delimiter and ends with an end delimiter.
    static func isPossiblyAllTemplate(_ s: String) -> Bool {
        if s.hasPrefix("#jinja2:") { return true }
        guard s.hasPrefix("{{") || s.hasPrefix("{%") || s.hasPrefix("{#") else { return false }
        return s.hasSuffix("}}") || s.hasSuffix("%}") || s.hasSuffix("#}")
    }

    /// Runs `body` and finalizes its result as ansible-core does for a top-level template.
    private func topLevel(
        _ source: String?, word: String, _ r: Renderer, _ body: () throws -> RV
    ) throws(TemplateError) -> Value {
        try guarded(source, word: word, r) { () throws -> Value in try finalizeTop(try body(), r) }
    }

    private func finalizeTop(_ rv: RV, _ r: Renderer) throws -> Value {
        let v = try r.concrete(rv)
        if v == TemplateEngine.omit {
            if let replacement = r.options.valueForOmit { return replacement }
            throw TErr(kind: .omitted, message: "A template was resolved to an Omit scalar.")
        }
        return TemplateEngine.finalize(v)
    }

    /// Runs `body`, turning internal errors into ``TemplateError``s with ansible-core's wording.
    private func guarded<T>(
        _ source: String?, word: String, _ r: Renderer, _ body: () throws -> T
    ) throws(TemplateError) -> T {
        do {
            return try body()
        } catch let e as TemplateError {
            throw e
        } catch let e as TErr {
            let f = r.finish(e, word: word, source: source)
            throw TemplateError(kind: f.kind, message: f.message, template: source, line: f.line)
        } catch let e as PyError {
            let f = r.finish(TErr.python(e.message), word: word, source: source)
            throw TemplateError(kind: f.kind, message: f.message, template: source)
        } catch {
            throw TemplateError(
                kind: .runtime, message: concatMessage("Error rendering \(word)", "\(error)"), template: source)
        }
    }

    /// Drops omitted values from containers and marks strings that contain template syntax unsafe (a template's
    /// result is never templated again).
    static func finalize(_ v: Value) -> Value {
        switch v {
        case .string(let s): return isPossiblyTemplate(s) ? .unsafe(s) : v
        case .list(let items):
            guard items.contains(where: needsFinalize) else { return v }
            return .list(items.compactMap { $0 == omit ? Optional<Value>.none : finalize($0) })
        case .dict(let d):
            guard d.values.contains(where: needsFinalize) else { return v }
            var out = ValueDict(minimumCapacity: d.count)
            for (k, item) in d where item != omit { out[k] = finalize(item) }
            return .dict(out)
        default: return v
        }
    }

    private static func needsFinalize(_ v: Value) -> Bool {
        switch v {
        case .string(let s): return isPossiblyTemplate(s)
        case .unsafe: return v == omit
        case .list(let items): return items.contains(where: needsFinalize)
        case .dict(let d): return d.values.contains(where: needsFinalize)
        default: return false
        }
    }
}
