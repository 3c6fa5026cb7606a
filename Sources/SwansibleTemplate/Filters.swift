import Foundation
import SwansibleData

/// A filter: its signature, whether it sees undefined arguments (otherwise an undefined argument is the result),
/// and its implementation.
struct FilterDef: Sendable {
    var canonical: String
    var sig: Signature
    var acceptsUndefined = false
    var fn: @Sendable (Renderer, RV, Bound) throws -> RV
}



extension Renderer {
    func applyFilter(_ call: PluginCall, _ input: RV, _ frame: Frame) throws -> RV {
        let name = Checker.canonical(call.name)
        guard let def = Filters.table[name] else { throw TErr.python("No filter named '\(call.name)' found.") }
        // An alias (`count`, `d`) is its own plugin in ansible-core: failures name it.
        return try callFilter(
            def, input, try evalArgs(call.args, frame), reportedName: Filters.aliases[name] != nil ? name : nil)
    }

    /// Calls a filter as ansible-core's plugin wrapper does: an undefined argument is the result, an undefined
    /// met inside becomes the result, other failures become "The filter plugin '…' failed: …".
    func callFilter(_ def: FilterDef, _ input: RV, _ args: Args, reportedName: String? = nil) throws -> RV {
        if !def.acceptsUndefined {
            if input.isUndefined { return input }
            if let u = args.firstUndefined { return u }
        }
        do {
            return try def.fn(self, input, try def.sig.bind(args))
        } catch let e as PyError {
            throw TErr.plugin("filter", "ansible.builtin." + (reportedName ?? def.canonical), e.message)
        } catch let e as TErr where e.kind == .undefined {
            return .undefined(Undefined(message: e.message))
        }
    }

    func callFilter(named name: String, _ input: RV, _ args: Args) throws -> RV {
        let canonical = Checker.canonical(name)
        guard let def = Filters.table[canonical] else { throw PyError("No filter named '\(name)'.") }
        return try callFilter(def, input, args)
    }
}

enum Filters {
    static let table: [String: FilterDef] = {
        var t: [String: FilterDef] = [:]
        for def in all { t[def.canonical] = def }
        for (alias, target) in aliases { t[alias] = t[target] }
        return t
    }()

    static let aliases: [String: String] = ["d": "default", "e": "escape", "count": "length"]

    private static func f(
        _ name: String, _ params: [String] = [], required: Int = 0, varargs: Bool = false, varkw: Bool = false,
        acceptsUndefined: Bool = false, _ fn: @escaping @Sendable (Renderer, RV, Bound) throws -> RV
    ) -> FilterDef {
        FilterDef(
            canonical: name,
            sig: Signature(fn: name, names: params, required: required, varargs: varargs, varkw: varkw),
            acceptsUndefined: acceptsUndefined, fn: fn)
    }

    /// A filter on the value's text.
    private static func s(_ name: String, _ fn: @escaping @Sendable (String) -> String) -> FilterDef {
        f(name) { r, v, _ in .value(.string(fn(try r.text(v)))) }
    }

    /// A filter over a path (`os.path` functions take only strings).
    private static func path(_ name: String, _ fn: @escaping @Sendable (String) -> String) -> FilterDef {
        f(name) { r, v, _ in
            guard try r.concrete(v).stringValue != nil else {
                throw PyError("expected str, bytes or os.PathLike object, not \(r.pluginInputTypeName(v))")
            }
            return .value(.string(fn(try r.text(v))))
        }
    }

    static let all: [FilterDef] = core + strings + lists + data + regexes + paths + encodings + math

    // MARK: core

    static let core: [FilterDef] = [
        f("default", ["default_value", "boolean"], acceptsUndefined: true) { r, v, a in
            let dflt = a[0] ?? .value(.string(""))
            var boolean = false
            if let b = a[1] {
                guard case .value(.bool(let flag)) = b else {
                    let typeName = (try? r.concrete(b))?.pythonTypeName ?? "Undefined"
                    throw PyError("The 'boolean' argument must be of type 'bool', not '\(typeName)'.")
                }
                boolean = flag
            }
            if case .undefined(let u) = v, !u.plain { return dflt }
            if boolean, !(try r.truthy(v)) { return dflt }
            return v
        },
        f("mandatory", ["msg"], acceptsUndefined: true) { r, v, a in
            if case .undefined(let u) = v, !u.plain {
                if let msg = try r.value(a[0]), !msg.isNull { throw PyError(pyStr(msg)) }
                if let name = u.name { throw PyError("Mandatory variable \(pythonStringRepr(name)) not defined.") }
                throw PyError("Mandatory variable not defined.")
            }
            return v
        },
        f("ternary", ["true_val", "false_val", "none_val"], required: 2, acceptsUndefined: true) { r, v, a in
            let noneVal = a[2]
            if case .value(.null) = v, let noneVal, !(noneVal.isNone) { return noneVal }
            return try r.truthy(v) ? a[0]! : a[1]!
        },
        f("bool") { r, v, _ in
            let x = try r.concrete(v)
            var check: Value = x
            if let s = x.stringValue {
                check = .string(s.lowercased())
            } else if case .bool(let b) = x {
                check = .string(b ? "true" : "false")
            } else if case .int(let i) = x {
                check = .string(String(i))
            }
            if let s = check.stringValue {
                if ["yes", "on", "true", "1"].contains(s) { return .value(.bool(true)) }
                if ["no", "off", "false", "0"].contains(s) { return .value(.bool(false)) }
            }
            let result = pyEq(check, .int(1))
            r.deprecate(
                "The `bool` filter coerced invalid value \(pyRepr(x)) (\(x.pythonTypeName)) to "
                    + "\(result ? "True" : "False")."
            )
            return .value(.bool(result))
        },
        f("int", ["default", "base"]) { r, v, a in
            let x = try r.concrete(v)
            let dflt = a[0] ?? .value(.int(0))
            // A base that is not an integer is Python's TypeError, which Jinja2 catches: int(float(x)) then.
            let base = try? r.intArg(a[1], "base", default: 10)
            if let s = x.stringValue {
                if let base, let i = pyParseInt(s, base: base) { return .value(.int(i)) }
                if let d = pyParseFloat(s), d.isFinite, abs(d) < 9.2e18 { return .value(.int(Int(d))) }
                return dflt
            }
            switch PyNumber(x) {
            case .int(let i)?: return .value(.int(i))
            case .float(let d)?:
                guard d.isFinite, abs(d) < 9.2e18 else { return dflt }
                return .value(.int(Int(d)))
            case nil: return dflt
            }
        },
        f("float", ["default"]) { r, v, a in
            let x = try r.concrete(v)
            if let s = x.stringValue {
                return pyParseFloat(s).map { .value(.float($0)) } ?? (a[0] ?? .value(.float(0)))
            }
            if let n = PyNumber(x) { return .value(.float(n.double)) }
            return a[0] ?? .value(.float(0))
        },
        f("string") { r, v, _ in .value(.string(try r.text(v))) },
        f("to_datetime", ["format"]) { r, v, a in
            let format = try r.stringArg(a[0], default: "%Y-%m-%d %H:%M:%S") ?? "%Y-%m-%d %H:%M:%S"
            return .object(.datetime(try PyDateTime.strptime(try r.text(v), format)))
        },
        f("type_debug", acceptsUndefined: true) { r, v, _ in
            switch v {
            case .undefined(let u): return .value(.string(u.plain ? "Undefined" : "UndefinedMarker"))
            case .value(let x), .lazy(let x, _):
                return .value(.string(x == TemplateEngine.omit ? "_OmitType" : x.pythonTypeName))
            case .object(let o): return .value(.string(o.typeName))
            default: return .value(.string("object"))
            }
        },
        f("length") { r, v, _ in .value(.int(try r.length(v))) },
        f("list") { r, v, _ in .value(.list(try r.concreteItems(v))) },
        f("items") { r, v, _ in
            let x = try r.concrete(v)
            guard case .dict(let d) = x else { throw PyError("Can only get item pairs from a mapping.") }
            return .value(.list(d.map { .list([.string($0.key), $0.value]) }))
        },
        f("attr", ["name"], required: 1) { r, v, a in
            let name = try r.text(a[0]!)
            let x = try r.concrete(v)
            if Methods.has(x, name) { return .callable(.method(x, name, lazy: false, scope: nil)) }
            return .undefined(Undefined.missing(.string(name), of: x))
        },
        f("safe") { _, v, _ in v },
        f("random", ["start", "step", "seed"]) { r, v, a in
            let x = try r.concrete(v)
            let seed = nonNull(try r.value(a[2]))
            var seeded = seed.map { PyRandom(seed: $0) }
            var system = SystemRandomNumberGenerator()
            if case .int(let end) = PyNumber(x) {
                let startValue = try r.value(a[0])
                let stepValue = try r.value(a[1])
                let start = (startValue?.isTruthy ?? false) ? try r.intArg(a[0], "start", default: 0) : 0
                let step = (stepValue?.isTruthy ?? false) ? try r.intArg(a[1], "step", default: 1) : 1
                if seeded != nil { return .value(.int(try seeded!.randrange(start, end, step))) }
                var rng = PyRandom(seed: .int(Int.random(in: 0...Int.max, using: &system)))
                return .value(.int(try rng.randrange(start, end, step)))
            }
            guard x.isString || x.listValue != nil || x.dictValue != nil else {
                throw PyError("random can only be used on sequences and integers")
            }
            let startGiven = try r.value(a[0])?.isTruthy == true
            let stepGiven = try r.value(a[1])?.isTruthy == true
            if startGiven || stepGiven {
                throw PyError("start and step can only be used with integer values")
            }
            let items = try r.concreteItems(v)
            guard !items.isEmpty else { throw PyError("Cannot choose from an empty sequence") }
            let i = seeded != nil ? seeded!.below(items.count) : Int.random(in: 0..<items.count, using: &system)
            // Python's random.choice indexes its argument: a dict (keys are strings here) has no key i.
            if x.dictValue != nil { throw PyError("\(i)") }
            return .value(items[i])
        },
        f("shuffle", ["seed"]) { r, v, a in
            guard var items = try? r.concreteItems(v) else { return v }
            if let seed = try r.value(a[0]), seed.isTruthy {
                var rng = PyRandom(seed: seed)
                rng.shuffle(&items)
            } else {
                items.shuffle()
            }
            return .value(.list(items))
        },
        f("strftime", ["second", "utc"]) { r, v, a in
            let format = try r.text(v)
            var seconds: Double? = nil
            if let sv = nonNull(try r.value(a[0])) {
                switch PyNumber(sv) {
                case let n?: seconds = n.double
                case nil:
                    guard let s = sv.stringValue, let d = pyParseFloat(s) else {
                        throw PyError("Invalid value for epoch value (\(pyStr(sv)))")
                    }
                    seconds = d
                }
            }
            let t = seconds ?? Date().timeIntervalSince1970
            return .value(.string(cStrftime(format, epoch: t, utc: try r.boolArg(a[1], default: false))))
        },
        f("fileglob") { r, v, _ in
            let pattern = try r.text(v)
            var g = glob_t()
            defer { globfree(&g) }
            var out: [Value] = []
            if glob(pattern, 0, nil, &g) == 0 {
                for i in 0..<Int(g.gl_pathc) {
                    guard let p = g.gl_pathv[i] else { continue }
                    let path = String(cString: p)
                    if JinjaTests.fileType(path, follow: true) == .typeRegular { out.append(.string(path)) }
                }
            }
            return .value(.list(out))
        },
        f("extract", ["container", "morekeys"], required: 1) { r, v, a in
            var keys = [v]
            if let more = a[1], !more.isNone {
                if case .value(.list(let l)) = more { keys += l.map { .value($0) } } else { keys.append(more) }
            }
            var cur = a[0]!
            for k in keys { cur = try r.getItem(cur, k) }
            return cur
        },
        f("map", varargs: true, varkw: true, acceptsUndefined: true) { r, v, a in
            if case .undefined = v { return v }
            guard try r.truthy(v) else { return .value(.list([])) }
            let items = try r.iterate(v)
            var out: [Value] = []
            if a.rest.isEmpty, let attribute = a.extra.first(where: { $0.0 == "attribute" })?.1 {
                let dflt = a.extra.first(where: { $0.0 == "default" })?.1
                if let bad = a.extra.first(where: { $0.0 != "attribute" && $0.0 != "default" }) {
                    throw PyError("Unexpected keyword argument \(pythonStringRepr(bad.0))")
                }
                let getter = r.attrGetter(try r.concrete(attribute))
                for item in items {
                    var x = try getter(item)
                    if let dflt, !dflt.isNone, x.isUndefined { x = dflt }
                    out.append(try r.concrete(x))
                }
                return .value(.list(out))
            }
            guard let nameRV = a.rest.first else { throw PyError("map requires a filter argument") }
            let name = try r.text(nameRV)
            let args = Renderer.Args(positional: Array(a.rest.dropFirst()), keywords: a.extra)
            for item in items { out.append(try r.concrete(try r.callFilter(named: name, item, args))) }
            return .value(.list(out))
        },
        f("select", varargs: true, varkw: true, acceptsUndefined: true) { r, v, a in
            try r.selectOrReject(v, a, select: true, attr: false)
        },
        f("reject", varargs: true, varkw: true, acceptsUndefined: true) { r, v, a in
            try r.selectOrReject(v, a, select: false, attr: false)
        },
        f("selectattr", varargs: true, varkw: true, acceptsUndefined: true) { r, v, a in
            try r.selectOrReject(v, a, select: true, attr: true)
        },
        f("rejectattr", varargs: true, varkw: true, acceptsUndefined: true) { r, v, a in
            try r.selectOrReject(v, a, select: false, attr: true)
        },
        f("to_json", varkw: true) { r, v, a in
            .value(.string(try r.toJSON(try r.concrete(v), a.extra, nice: false)))
        },
        f("to_nice_json", ["indent", "sort_keys"], varkw: true) { r, v, a in
            var extra = a.extra
            extra.append(("indent", a[0] ?? .value(.int(4))))
            extra.append(("sort_keys", a[1] ?? .value(.bool(true))))
            return .value(.string(try r.toJSON(try r.concrete(v), extra, nice: true)))
        },
        f("tojson", ["indent"]) { r, v, a in
            let indent = try r.value(a[0]).flatMap { PyNumber($0) }.map { Int(Swift.max(0, Swift.min($0.double, 64))) }
            var s = try r.concrete(v).json(Value.JSONFormat(indent: indent, sortKeys: true))
            for (c, rep) in [("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("'", "\\u0027")] {
                s = s.replacingOccurrences(of: c, with: rep)
            }
            return .value(.string(s))
        },
        f("from_json", ["profile"], varkw: true) { r, v, _ in
            guard try r.concrete(v).stringValue != nil else {
                throw PyError("the JSON object must be str, bytes or bytearray, not \(r.pluginInputTypeName(v))")
            }
            let s = try r.text(v)
            do {
                return .value(try Value(json: s))
            } catch let e as JSONParseError {
                throw PyError(e.description)
            }
        },
        f("to_yaml", varargs: true, varkw: true) { r, v, a in
            try r.toYAML(v, a, nice: false)
        },
        f("to_nice_yaml", ["indent"], varargs: true, varkw: true) { r, v, a in
            var a = a
            if let indent = a[0] { a.extra.append(("indent", indent)) }
            return try r.toYAML(v, a, nice: true)
        },
        f("from_yaml") { r, v, _ in
            let x = try r.concrete(v)
            if x.isNull { return .none }
            guard let s = x.stringValue else {
                r.deprecate("The from_yaml filter ignored non-string input of type '\(x.pythonTypeName)'.")
                return .value(x)
            }
            guard let hook = r.engine.hooks.fromYAML else { throw PyError("from_yaml is not available") }
            do {
                return .value(try hook(s))
            } catch {
                throw PyError("\(error)")
            }
        },
        f("from_yaml_all") { r, v, _ in
            let x = try r.concrete(v)
            if x.isNull { return .value(.list([])) }
            guard let s = x.stringValue else { return .value(x) }
            guard let hook = r.engine.hooks.fromYAMLAll else { throw PyError("from_yaml_all is not available") }
            do {
                return .value(.list(try hook(s)))
            } catch {
                throw PyError("\(error)")
            }
        },
    ]

    // MARK: strings

    static let strings: [FilterDef] = [
        s("lower") { $0.lowercased() },
        s("upper") { $0.uppercased() },
        s("capitalize") { pyCapitalize($0) },
        s("title") { jinjaTitle($0) },
        s("escape") { htmlEscape($0) },
        s("forceescape") { htmlEscape($0) },
        s("striptags") { stripTags($0) },
        f("trim", ["chars"]) { r, v, a in
            .value(.string(pyStrip(try r.text(v), try r.stringArg(a[0], default: nil), left: true, right: true)))
        },
        f("replace", ["old", "new", "count"], required: 2) { r, v, a in
            let count = nonNull(try r.value(a[2]))
            let n = try count.map { _ in try r.intArg(a[2], "count", default: -1) } ?? -1
            return .value(.string(pyReplace(try r.text(v), try r.text(a[0]!), try r.text(a[1]!), count: n)))
        },
        f("center", ["width"]) { r, v, a in
            let width = try r.intArg(a[0], "width", default: 80)
            try checkSize(width)
            return .value(.string(pyCenter(try r.text(v), width, fill: " ")))
        },
        f("wordcount") { r, v, _ in
            .value(.int((try PyRegex("\\w+").all(try r.text(v))).count))
        },
        f("indent", ["width", "first", "blank"]) { r, v, a in
            var indention = "    "
            if let w = try r.value(a[0]) {
                if let s = w.stringValue {
                    indention = s
                } else {
                    let width = try r.intArg(a[0], "width", default: 4)
                    try checkSize(width)
                    indention = String(repeating: " ", count: max(width, 0))
                }
            }
            let first = try r.boolArg(a[1], default: false)
            let blank = try r.boolArg(a[2], default: false)
            let s = try r.text(v) + "\n"
            var lines = pySplitlines(s)
            var rv: String
            if blank {
                rv = lines.joined(separator: "\n" + indention)
            } else {
                rv = lines.removeFirst()
                if !lines.isEmpty {
                    rv += "\n" + lines.map { $0.isEmpty ? $0 : indention + $0 }.joined(separator: "\n")
                }
            }
            if first { rv = indention + rv }
            return .value(.string(rv))
        },
        f("truncate", ["length", "killwords", "end", "leeway"]) { r, v, a in
            let s = Array(try r.text(v).unicodeScalars)
            let length = try r.intArg(a[0], "length", default: 255)
            let killwords = try r.boolArg(a[1], default: false)
            let end = try r.stringArg(a[2], default: "...") ?? "..."
            let leeway = try r.intArg(a[3], "leeway", default: 5)
            let endCount = end.unicodeScalars.count
            guard length >= endCount else { throw PyError("expected length >= \(endCount), got \(length)") }
            guard leeway >= 0 else { throw PyError("expected leeway >= 0, got \(leeway)") }
            if s.count <= length + leeway { return .value(.string(String(String.UnicodeScalarView(s)))) }
            let head = String(String.UnicodeScalarView(s.prefix(length - endCount)))
            if killwords { return .value(.string(head + end)) }
            if let space = head.range(of: " ", options: .backwards) {
                return .value(.string(String(head[..<space.lowerBound]) + end))
            }
            return .value(.string(head + end))
        },
        f("format", varargs: true, varkw: true) { r, v, a in
            if !a.rest.isEmpty && !a.extra.isEmpty {
                throw PyError("can't handle positional and keyword arguments at the same time")
            }
            let arg: Value
            if !a.extra.isEmpty {
                var d = ValueDict()
                for (k, x) in a.extra { d[k] = try r.concrete(x) }
                arg = .dict(d)
            } else {
                arg = .list(try a.rest.map { try r.concrete($0) })
            }
            return .value(.string(try pyPercentFormat(try r.text(v), arg)))
        },
        f("split", ["sep", "maxsplit"]) { r, v, a in
            let x = try r.concrete(v)
            guard let s = x.stringValue else {
                throw PyError("descriptor 'split' for 'str' objects doesn't apply to a '\(r.pluginInputTypeName(v))' object")
            }
            let sep = nonNull(try r.value(a[0])).map(pyStr)
            let maxsplit = try r.intArg(a[1], "maxsplit", default: -1)
            return .value(.list(try pySplit(s, sep, maxsplit).map { .string($0) }))
        },
        f("quote") { r, v, _ in
            let x = try r.concrete(v)
            return .value(.string(shellQuote(x.isNull ? "" : pyStr(x))))
        },
        f("comment", ["style"], varkw: true) { r, v, a in
            .value(
                .string(
                    try comment(
                        try r.text(v), style: try r.stringArg(a[0], default: "plain") ?? "plain",
                        a.extra.map { ($0.0, try r.text($0.1)) })))
        },
        f("urlencode") { r, v, _ in
            let x = try r.concrete(v)
            switch x {
            case .dict(let d):
                return .value(
                    .string(
                        d.map { "\(urlQuote($0.key, forQS: true))=\(urlQuote(pyStr($0.value), forQS: true))" }
                            .joined(separator: "&")))
            case .list(let items):
                return .value(
                    .string(
                        try items.map { item -> String in
                            guard case .list(let pair) = item, pair.count == 2 else { throw PyError("not a pair") }
                            return "\(urlQuote(pyStr(pair[0]), forQS: true))=\(urlQuote(pyStr(pair[1]), forQS: true))"
                        }.joined(separator: "&")))
            default: return .value(.string(urlQuote(pyStr(x), forQS: false)))
            }
        },
        f("urldecode") { r, v, _ in
            .value(.string((try r.text(v)).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""))
        },
        f("wordwrap", ["width", "break_long_words", "wrapstring", "break_on_hyphens"]) { r, v, a in
            let width = try r.intArg(a[0], "width", default: 79)
            let breakLong = try r.boolArg(a[1], default: true)
            let wrapstring = try r.stringArg(a[2], default: "\n") ?? "\n"
            let paragraphs = pySplitlines(try r.text(v))
            return .value(
                .string(
                    paragraphs.map {
                        wordWrap($0, width: width, breakLong: breakLong)
                            .joined(separator: wrapstring)
                    }.joined(separator: wrapstring)))
        },
        f("filesizeformat", ["binary"]) { r, v, a in
            let x = try r.concrete(v)
            let bytes: Double
            if let n = PyNumber(x) {
                bytes = n.double
            } else if let s = x.stringValue, let d = pyParseFloat(s) {
                bytes = d
            } else {
                throw PyError("could not convert string to float: \(pyRepr(x))")
            }
            return .value(.string(fileSizeFormat(bytes, binary: try r.boolArg(a[0], default: false))))
        },
        f("to_uuid", ["namespace"]) { r, v, a in
            let ns = try r.stringArg(a[0], default: nil) ?? "361E6D51-FAEC-444A-9079-341386DA8E2E"
            guard let uuid = uuid5(namespace: ns, name: try r.text(v)) else {
                throw PyError("Invalid value '\(ns)' for 'namespace': badly formed hexadecimal UUID string")
            }
            return .value(.string(uuid))
        },
    ]

    // MARK: lists

    static let lists: [FilterDef] = [
        f("first") { r, v, _ in
            let items = try r.iterate(v)
            return items.first ?? .undefined(Undefined(message: "No first item, sequence was empty."))
        },
        f("last") { r, v, _ in
            let items = try r.iterate(v)
            return items.last ?? .undefined(Undefined(message: "No last item, sequence was empty."))
        },
        f("join", ["d", "attribute"]) { r, v, a in
            let sep = try r.value(a[0]).map(pyStr) ?? ""
            var items = try r.iterate(v)
            if let attr = try r.value(a[1]), !attr.isNull {
                let g = r.attrGetter(attr)
                items = try items.map { try g($0) }
            }
            return .value(.string(try items.map { try r.text($0) }.joined(separator: sep)))
        },
        f("min", ["case_sensitive", "attribute"]) { r, v, a in try r.minMax(v, a, max: false) },
        f("max", ["case_sensitive", "attribute"]) { r, v, a in try r.minMax(v, a, max: true) },
        f("sum", ["attribute", "start"]) { r, v, a in
            var items = try r.iterate(v)
            if let attr = try r.value(a[0]), !attr.isNull {
                let g = r.attrGetter(attr)
                items = try items.map { try g($0) }
            }
            var total = try r.value(a[1]) ?? .int(0)
            for item in items {
                total = try pyArith(
                    .add, total, try r.concrete(item), names: (pyTypeName(total), r.pluginInputTypeName(item)))
            }
            return .value(total)
        },
        f("sort", ["reverse", "case_sensitive", "attribute"]) { r, v, a in
            let reverse = try r.boolArg(a[0], default: false)
            let caseSensitive = try r.boolArg(a[1], default: false)
            let attribute = try r.value(a[2])
            let items = try r.iterate(v)
            let getters: [(RV) throws -> RV]
            if let attribute, let s = attribute.stringValue {
                getters = s.split(separator: ",", omittingEmptySubsequences: false).map {
                    r.attrGetter(.string(String($0)))
                }
            } else {
                getters = [r.attrGetter(attribute)]
            }
            var keyed: [(key: [Value], item: Value)] = []
            for item in items {
                var key: [Value] = []
                for g in getters {
                    let k = try r.concrete(try g(item))
                    key.append(caseSensitive ? k : ignoreCase(k))
                }
                keyed.append((key, try r.concrete(item)))
            }
            let sorted = try stableSort(keyed) { x, y in
                reverse ? try pyLess(.list(y.key), .list(x.key)) : try pyLess(.list(x.key), .list(y.key))
            }
            return .value(.list(sorted.map(\.item)))
        },
        f("dictsort", ["case_sensitive", "by", "reverse"]) { r, v, a in
            let caseSensitive = try r.boolArg(a[0], default: false)
            let by = try r.stringArg(a[1], default: "key") ?? "key"
            let reverse = try r.boolArg(a[2], default: false)
            guard by == "key" || by == "value" else {
                throw PyError("You can only sort by either \"key\" or \"value\"")
            }
            let x = try r.concrete(v)
            guard case .dict(let d) = x else {
                throw PyError("'\(r.pluginInputTypeName(v))' object has no attribute 'items'")
            }
            let pairs = d.map { (key: Value.string($0.key), value: $0.value) }
            let sorted = try stableSort(pairs) { p, q in
                var k1 = by == "key" ? p.key : p.value
                var k2 = by == "key" ? q.key : q.value
                if !caseSensitive {
                    k1 = ignoreCase(k1)
                    k2 = ignoreCase(k2)
                }
                return reverse ? try pyLess(k2, k1) : try pyLess(k1, k2)
            }
            return .value(.list(sorted.map { .list([$0.key, $0.value]) }))
        },
        f("unique", ["case_sensitive", "attribute"]) { r, v, a in
            let caseSensitive = try r.value(a[0])
            let attribute = try r.value(a[1])
            let items = try r.iterate(v)
            let getter = r.attrGetter(attribute)
            var seen: [Value] = []
            var out: [Value] = []
            let insensitive = !(caseSensitive?.isTruthy ?? false)
            for item in items {
                var key = try r.concrete(try getter(item))
                if insensitive { key = ignoreCase(key) }
                if case .dict = key, attribute != nil || caseSensitive?.boolValue == false {
                    throw PyError(
                        "Jinja2's unique filter failed and we cannot fall back to Ansible's version as it does not "
                            + "support the parameters supplied.")
                }
                if !seen.contains(where: { pyEq($0, key) }) {
                    seen.append(key)
                    out.append(try r.concrete(item))
                }
            }
            return .value(.list(out))
        },
        f("union", ["b"], required: 1) { r, v, a in
            let x = try r.concreteItems(v)
            let y = try r.concreteItems(a[0]!)
            return .value(.list(pySetOrder(uniqueByEquality(x + y))))
        },
        f("intersect", ["b"], required: 1) { r, v, a in
            let x = try r.concreteItems(v)
            let y = try r.concreteItems(a[0]!)
            return .value(.list(pySetOrder(uniqueByEquality(x.filter { i in y.contains { pyEq($0, i) } }))))
        },
        f("difference", ["b"], required: 1) { r, v, a in
            let x = try r.concreteItems(v)
            let y = try r.concreteItems(a[0]!)
            return .value(.list(pySetOrder(uniqueByEquality(x.filter { i in !y.contains { pyEq($0, i) } }))))
        },
        f("symmetric_difference", ["b"], required: 1) { r, v, a in
            let x = try r.concreteItems(v)
            let y = try r.concreteItems(a[0]!)
            let left = x.filter { i in !y.contains { pyEq($0, i) } }
            let right = y.filter { i in !x.contains { pyEq($0, i) } }
            return .value(.list(pySetOrder(uniqueByEquality(left + right))))
        },
        f("reverse") { r, v, _ in
            let x = try r.concrete(v)
            if let s = x.stringValue {
                return .value(.string(String(String.UnicodeScalarView(s.unicodeScalars.reversed()))))
            }
            guard x.listValue != nil || x.dictValue != nil else {
                throw PyError("argument must be iterable: '\(r.pluginInputTypeName(v))' object is not iterable")
            }
            return .value(.list(try r.concreteItems(v).reversed()))
        },
        f("flatten", ["levels", "skip_nulls"]) { r, v, a in
            let levels = nonNull(try r.value(a[0]))
            let lv = try levels.map { _ in try r.intArg(a[0], "levels", default: 0) }
            return .value(
                .list(flatten(try r.concreteItems(v), levels: lv, skipNulls: try r.boolArg(a[1], default: true))))
        },
        f("batch", ["linecount", "fill_with"], required: 1) { r, v, a in
            let n = try r.intArg(a[0], "linecount", default: 1)
            guard n > 0 else { throw PyError("batch size must be positive") }
            let fill = try r.value(a[1])
            let items = try r.concreteItems(v)
            var out: [Value] = []
            var i = 0
            while i < items.count {
                var chunk = Array(items[i..<min(i + n, items.count)])
                if chunk.count < n, let fill, !fill.isNull {
                    chunk += [Value](repeating: fill, count: n - chunk.count)
                }
                out.append(.list(chunk))
                i += n
            }
            return .value(.list(out))
        },
        f("slice", ["slices", "fill_with"], required: 1) { r, v, a in
            let slices = try r.intArg(a[0], "slices", default: 1)
            let fill = try r.value(a[1])
            let seq = try r.concreteItems(v)
            guard slices > 0 else { throw PyError("integer division or modulo by zero") }
            let per = seq.count / slices
            let withExtra = seq.count % slices
            var offset = 0
            var out: [Value] = []
            for n in 0..<slices {
                let start = offset + n * per
                if n < withExtra { offset += 1 }
                let end = offset + (n + 1) * per
                var tmp = Array(seq[min(start, seq.count)..<min(end, seq.count)])
                if let fill, !fill.isNull, n >= withExtra { tmp.append(fill) }
                out.append(.list(tmp))
            }
            return .value(.list(out))
        },
        f("groupby", ["attribute", "default", "case_sensitive"], required: 1) { r, v, a in
            let attribute = try r.concrete(a[0]!)
            let dflt = try r.value(a[1])
            let caseSensitive = try r.boolArg(a[2], default: false)
            let getter = r.attrGetter(attribute)
            func key(_ item: RV) throws -> Value {
                var k = try getter(item)
                if let dflt, !dflt.isNull, k.isUndefined { k = .value(dflt) }
                return try r.concrete(k)
            }
            let items = try r.iterate(v)
            var keyed: [(key: Value, sortKey: Value, item: Value)] = []
            for item in items {
                let k = try key(item)
                keyed.append((k, caseSensitive ? k : ignoreCase(k), try r.concrete(item)))
            }
            let sorted = try stableSort(keyed) { try pyLess($0.sortKey, $1.sortKey) }
            var out: [Value] = []
            var i = 0
            while i < sorted.count {
                var j = i
                var group: [Value] = []
                while j < sorted.count, pyEq(sorted[j].sortKey, sorted[i].sortKey) {
                    group.append(sorted[j].item)
                    j += 1
                }
                out.append(.list([sorted[i].key, .list(group)]))
                i = j
            }
            return .value(.list(out))
        },
        f("zip", varargs: true) { r, v, a in
            var lists = [try r.concreteItems(v)]
            for x in a.rest { lists.append(try r.concreteItems(x)) }
            let n = lists.map(\.count).min() ?? 0
            return .value(.list((0..<n).map { i in .list(lists.map { $0[i] }) }))
        },
        f("zip_longest", varargs: true, varkw: true) { r, v, a in
            var lists = [try r.concreteItems(v)]
            for x in a.rest { lists.append(try r.concreteItems(x)) }
            var fill: Value = .null
            for (k, x) in a.extra {
                guard k == "fillvalue" else { throw PyError("zip_longest() got an unexpected keyword argument '\(k)'") }
                fill = try r.concrete(x)
            }
            let n = lists.map(\.count).max() ?? 0
            return .value(.list((0..<n).map { i in .list(lists.map { i < $0.count ? $0[i] : fill }) }))
        },
        f("product", varargs: true, varkw: true) { r, v, a in
            var pools = [try r.concreteItems(v)]
            for x in a.rest { pools.append(try r.concreteItems(x)) }
            var repeatCount = 1
            for (k, x) in a.extra where k == "repeat" { repeatCount = try r.intArg(x, "repeat", default: 1) }
            pools = Array([[[Value]]](repeating: pools, count: max(repeatCount, 0)).joined())
            var result: [[Value]] = [[]]
            for pool in pools { result = result.flatMap { prefix in pool.map { prefix + [$0] } } }
            return .value(.list(result.map { .list($0) }))
        },
        f("permutations", ["r"]) { r, v, a in
            let pool = try r.concreteItems(v)
            let k =
                nonNull(try r.value(a[0])) == nil
                ? pool.count : try r.intArg(a[0], "r", default: pool.count)
            return .value(.list(permutations(pool, k).map { .list($0) }))
        },
        f("combinations", ["r"], required: 1) { r, v, a in
            let pool = try r.concreteItems(v)
            let k = try r.intArg(a[0], "r", default: 0)
            return .value(.list(combinations(pool, k).map { .list($0) }))
        },
    ]

    // MARK: data structures

    static let data: [FilterDef] = [
        f("dict2items", ["key_name", "value_name"]) { r, v, a in
            let x = try r.concrete(v)
            guard case .dict(let d) = x else {
                throw PyError("dict2items requires a dictionary, got \(r.pluginInputClassRepr(v)) instead.")
            }
            let kn = try r.stringArg(a[0], default: "key") ?? "key"
            let vn = try r.stringArg(a[1], default: "value") ?? "value"
            return .value(
                .list(
                    d.map { k, item in
                        var e = ValueDict()
                        e[kn] = .string(k)
                        e[vn] = item
                        return .dict(e)
                    }))
        },
        f("items2dict", ["key_name", "value_name"]) { r, v, a in
            let x = try r.concrete(v)
            guard case .list(let items) = x else {
                throw PyError("items2dict requires a list, got \(r.pluginInputClassRepr(v)) instead.")
            }
            var out = ValueDict()
            let keyName = try r.value(a[0]) ?? .string("key")
            let valueName = try r.value(a[1]) ?? .string("value")
            func item(_ container: Value, _ key: Value) throws -> Value? {
                switch container {
                case .dict(let d):
                    guard let k = dictKey(key) else { throw PyError("unhashable") }
                    return d[k]
                case .list(let l):
                    guard case .int(let i) = PyNumber(key) else { throw PyError("list indices must be integers") }
                    let idx = i < 0 ? l.count + i : i
                    return idx >= 0 && idx < l.count ? l[idx] : nil
                default: throw PyError("not subscriptable")
                }
            }
            for element in items {
                let k: Value?
                let v: Value?
                do {
                    k = try item(element, keyName)
                    v = try item(element, valueName)
                } catch {
                    throw PyError("items2dict requires a list of dictionaries, got \(pyRepr(x)) instead.")
                }
                guard let k, let v else {
                    throw PyError(
                        "items2dict requires each dictionary in the list to contain the keys '\(pyStr(keyName))' and "
                            + "'\(pyStr(valueName))', got \(pyRepr(x)) instead.")
                }
                guard let key = dictKey(k) else { throw PyError("unhashable type: '\(k.pythonTypeName)'") }
                out[key] = v
            }
            return .value(.dict(out))
        },
        f("combine", varargs: true, varkw: true) { r, v, a in
            var recursive = false
            var listMerge = "replace"
            for (k, x) in a.extra {
                switch k {
                case "recursive": recursive = try r.concrete(x).isTruthy
                case "list_merge": listMerge = try r.text(x)
                default: throw PyError("'recursive' and 'list_merge' are the only valid keyword arguments")
                }
            }
            var terms = [try r.concrete(v)]
            for x in a.rest { terms.append(try r.concrete(x)) }
            // Which flattened items come from variable data (their Python type names are ansible-core's tagged
            // ones in the error message).
            var tagged: [Bool] = []
            for (rv, t) in zip([v] + a.rest, terms) where !t.isNull {
                let fromVars: Bool
                if case .lazy = rv { fromVars = true } else { fromVars = false }
                if case .list(let l) = t {
                    tagged += l.filter { !$0.isNull }.map { _ in fromVars }
                } else {
                    tagged.append(fromVars)
                }
            }
            let dicts = flatten(terms, levels: 1, skipNulls: true)
            if dicts.isEmpty { return .value(.dict([:])) }
            if dicts.count == 1 { return .value(dicts[0]) }
            var result = dicts[dicts.count - 1]
            for (i, d) in dicts.enumerated().dropLast().reversed() {
                if d.dictValue == nil, tagged.count == dicts.count, tagged[i] {
                    throw PyError(
                        "failed to combine variables, expected dicts but got a '\(taggedTypeName(d))' and a '\(lazyTypeName(result))'.")
                }
                result = try mergeHash(d, result, recursive: recursive, listMerge: listMerge)
            }
            return .value(result)
        },
        f("subelements", ["subelements", "skip_missing"], required: 1) { r, v, a in
            let obj = try r.concrete(v)
            let elements: [Value]
            switch obj {
            case .dict(let d): elements = Array(d.values)
            case .list(let l): elements = l
            default: throw PyError("obj must be a list of dicts or a nested dict")
            }
            let sub = try r.concrete(a[0]!)
            let path: [String]
            if case .list(let l) = sub {
                path = l.map(pyStr)
            } else if let s = sub.stringValue {
                path = s.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            } else {
                throw PyError("subelements must be a list or a string")
            }
            let skipMissing = try r.boolArg(a[1], default: false)
            var out: [Value] = []
            for element in elements {
                var values = element
                var skipped = false
                for key in path {
                    guard case .dict(let d) = values else {
                        throw PyError("the key \(key) should point to a dictionary, got '\(pyStr(values))'")
                    }
                    guard let next = d[key] else {
                        if skipMissing {
                            skipped = true
                            break
                        }
                        throw PyError("could not find \(pythonStringRepr(key)) key in iterated item \(pyRepr(values))")
                    }
                    values = next
                }
                if skipped { continue }
                guard case .list(let l) = values else {
                    throw PyError(
                        "the key \(pyRepr(.string(path.last ?? ""))) should point to a list, got \(pyRepr(values))")
                }
                for item in l { out.append(.list([element, item])) }
            }
            return .value(.list(out))
        },
        f("rekey_on_member", ["key", "duplicates"], required: 1) { r, v, a in
            let key = try r.text(a[0]!)
            let duplicates = try r.stringArg(a[1], default: "error") ?? "error"
            guard duplicates == "error" || duplicates == "overwrite" else {
                throw PyError("duplicates parameter to rekey_on_member has unknown value \(pythonStringRepr(duplicates))")
            }
            let x = try r.concrete(v)
            let items: [Value]
            switch x {
            case .dict(let d): items = Array(d.values)
            case .list(let l): items = l
            default: throw PyError("Type is not a valid list, set, or dict")
            }
            var out = ValueDict()
            for item in items {
                guard case .dict(let d) = item else { throw PyError("List item is not a valid dict") }
                guard let k = d[key] else { throw PyError("Key \(pythonStringRepr(key)) was not found.") }
                let name = dictKey(k) ?? pyStr(k)
                if out[name] != nil, duplicates == "error" {
                    throw PyError("Key \(pyRepr(k)) is not unique, cannot convert to dict.")
                }
                out[name] = item
            }
            return .value(.dict(out))
        },
    ]

    // MARK: regular expressions

    static let regexes: [FilterDef] = [
        f("regex_replace", ["pattern", "replacement", "ignorecase", "multiline", "count", "mandatory_count"]) {
            r, v, a in
            let value = try r.text(v)
            let pattern = try r.stringArg(a[0], default: "") ?? ""
            let replacement = try r.stringArg(a[1], default: "") ?? ""
            var flags: PyRegex.Flags = []
            if try r.boolArg(a[2], default: false) { flags.insert(.ignoreCase) }
            if try r.boolArg(a[3], default: false) { flags.insert(.multiline) }
            let count = try r.intArg(a[4], "count", default: 0)
            let mandatory = try r.intArg(a[5], "mandatory_count", default: 0)
            let (out, n) = try PyRegex(pattern, flags: flags).sub(replacement, value, count: count)
            if mandatory != 0 && mandatory != n {
                throw PyError("'\(pattern)' should match \(mandatory) times, but matches \(count) times in '\(value)'")
            }
            return .value(.string(out))
        },
        f("regex_search", ["regex"], required: 1, varargs: true, varkw: true) { r, v, a in
            let value = try r.text(v)
            let pattern = try r.text(a[0]!)
            var groups: [Value] = []
            for arg in a.rest {
                let s = try r.text(arg)
                if s.hasPrefix("\\g") {
                    guard let m = try PyRegex("\\\\g<(\\S+)>").match(s), let g = m.groups[1] else {
                        throw PyError("'NoneType' object has no attribute 'group'")
                    }
                    groups.append(.string(g))
                } else if s.hasPrefix("\\") {
                    guard let m = try PyRegex("\\\\(\\d+)").match(s), let g = m.groups[1], let n = Int(g) else {
                        throw PyError("'NoneType' object has no attribute 'group'")
                    }
                    groups.append(.int(n))
                } else {
                    throw PyError("Unknown argument")
                }
            }
            var flags: PyRegex.Flags = []
            for (k, x) in a.extra {
                if k == "ignorecase", try r.concrete(x).isTruthy { flags.insert(.ignoreCase) }
                if k == "multiline", try r.concrete(x).isTruthy { flags.insert(.multiline) }
            }
            guard let m = try PyRegex(pattern, flags: flags).search(value) else { return .none }
            if groups.isEmpty { return .value(.string(m.groups[0] ?? "")) }
            return .value(.list(try groups.map { g in (try m.group(g)).map { .string($0) } ?? .null }))
        },
        f("regex_findall", ["regex", "multiline", "ignorecase"], required: 1) { r, v, a in
            var flags: PyRegex.Flags = []
            if try r.boolArg(a[1], default: false) { flags.insert(.multiline) }
            if try r.boolArg(a[2], default: false) { flags.insert(.ignoreCase) }
            return .value(try PyRegex(try r.text(a[0]!), flags: flags).findall(try r.text(v)))
        },
        f("regex_escape", ["re_type"]) { r, v, a in
            let s = try r.text(v)
            switch try r.stringArg(a[0], default: "python") ?? "python" {
            case "python": return .value(.string(PyRegex.escape(s)))
            case "posix_basic":
                return .value(.string(try PyRegex("([].[^$*\\\\])").sub("\\\\\\1", s).0))
            case "posix_extended": throw PyError("Regex type (posix_extended) not yet implemented")
            case let t: throw PyError("Invalid regex type (\(t))")
            }
        },
    ]

    // MARK: paths

    static let paths: [FilterDef] = [
        path("basename") { path in
            guard let slash = path.lastIndex(of: "/") else { return path }
            return String(path[path.index(after: slash)...])
        },
        path("dirname") { posixDirname($0) },
        f("expanduser") { r, v, _ in .value(.string(r.expandUser(try r.text(v)))) },
        f("expandvars") { r, v, _ in .value(.string(r.expandVars(try r.text(v)))) },
        path("normpath") { posixNormpath($0) },
        path("realpath") { path in
            let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
            let normalized = posixNormpath(absolute)
            return URL(fileURLWithPath: normalized).resolvingSymlinksInPath().path
        },
        f("relpath", ["start"]) { r, v, a in
            let cwd = FileManager.default.currentDirectoryPath
            let start = try r.stringArg(a[0], default: nil) ?? cwd
            return .value(.string(posixRelpath(try r.text(v), start: start, cwd: cwd)))
        },
        f("splitext") { r, v, _ in
            let (root, ext) = posixSplitext(try r.text(v))
            return .value(.list([.string(root), .string(ext)]))
        },
        f("path_join") { r, v, _ in
            let x = try r.concrete(v)
            if let s = x.stringValue { return .value(.string(s)) }
            guard case .list(let parts) = x else {
                throw PyError("|path_join expects string or sequence, got <class '\(x.pythonTypeName)'> instead.")
            }
            var out = ""
            for p in parts.map(pyStr) {
                if p.hasPrefix("/") {
                    out = p
                } else if out.isEmpty || out.hasSuffix("/") {
                    out += p
                } else {
                    out += "/" + p
                }
            }
            return .value(.string(out))
        },
        f("commonpath") { r, v, _ in
            let paths = try r.concreteItems(v).map(pyStr)
            guard !paths.isEmpty else { throw PyError("commonpath() arg is an empty sequence") }
            let absolute = paths[0].hasPrefix("/")
            if paths.contains(where: { $0.hasPrefix("/") != absolute }) {
                throw PyError("Can't mix absolute and relative paths")
            }
            let split = paths.map { $0.split(separator: "/").filter { $0 != "." }.map(String.init) }
            var common: [String] = []
            for (i, part) in split[0].enumerated() {
                if split.allSatisfy({ $0.count > i && $0[i] == part }) { common.append(part) } else { break }
            }
            return .value(.string((absolute ? "/" : "") + common.joined(separator: "/")))
        },
        s("win_basename") { p in
            let parts = p.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\\" || $0 == "/" })
            return parts.last.map(String.init) ?? p
        },
    ]

    // MARK: encodings and hashes

    static let encodings: [FilterDef] = [
        f("b64encode", ["encoding", "urlsafe"]) { r, v, a in
            var s = Data(try r.text(v).utf8).base64EncodedString()
            if try r.boolArg(a[1], default: false) {
                s = s.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            }
            return .value(.string(s))
        },
        f("b64decode", ["encoding", "urlsafe"]) { r, v, a in
            var s = try r.text(v)
            if try r.boolArg(a[1], default: false) {
                s = s.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            }
            // Python's b64decode discards characters outside the alphabet, then needs correct padding.
            var cleaned = String(
                s.unicodeScalars.filter {
                    ($0 >= "A" && $0 <= "Z") || ($0 >= "a" && $0 <= "z") || ($0 >= "0" && $0 <= "9") || $0 == "+"
                        || $0 == "/" || $0 == "="
                }.map(Character.init))
            if let firstPad = cleaned.firstIndex(of: "=") {
                // Data after padding is ignored once the quantum is complete.
                let head = cleaned[..<firstPad]
                var padCount = 0
                var i = firstPad
                while i < cleaned.endIndex, cleaned[i] == "=" {
                    padCount += 1
                    i = cleaned.index(after: i)
                }
                cleaned = String(head) + String(repeating: "=", count: padCount)
            }
            let dataChars = cleaned.filter { $0 != "=" }.count
            if dataChars % 4 == 1 {
                throw PyError(
                    "Invalid base64-encoded string: number of data characters (\(dataChars)) cannot be 1 more than "
                        + "a multiple of 4")
            }
            if cleaned.count % 4 != 0 { throw PyError("Incorrect padding") }
            guard let data = Data(base64Encoded: cleaned) else { throw PyError("Incorrect padding") }
            return .value(.string(String(decoding: data, as: UTF8.self)))
        },
        f("hash", ["hashtype"]) { r, v, a in
            let type = try r.stringArg(a[0], default: "sha1") ?? "sha1"
            guard let d = Digest.compute(type, Array(try r.text(v).utf8)) else {
                throw PyError("unsupported hash type \(type)")
            }
            return .value(.string(Digest.hex(d)))
        },
        f("md5") { r, v, _ in .value(.string(Digest.hex(Digest.md5(Array(try r.text(v).utf8))))) },
        f("sha1") { r, v, _ in .value(.string(Digest.hex(Digest.sha1(Array(try r.text(v).utf8))))) },
        f("checksum") { r, v, _ in .value(.string(Digest.hex(Digest.sha1(Array(try r.text(v).utf8))))) },
    ]

    // MARK: math

    static let math: [FilterDef] = [
        f("abs") { r, v, _ in
            let x = try r.concrete(v)
            switch PyNumber(x) {
            case .int(let i)?:
                if i == .min { throw PyError("integer overflow (beyond 64 bits)") }
                return .value(.int(Swift.abs(i)))
            case .float(let d)?: return .value(.float(Swift.abs(d)))
            case nil: throw PyError("bad operand type for abs(): '\(r.pluginInputTypeName(v))'")
            }
        },
        f("round", ["precision", "method"]) { r, v, a in
            let x = try r.concrete(v)
            let precision = try r.intArg(a[0], "precision", default: 0)
            let method = try r.stringArg(a[1], default: "common") ?? "common"
            guard ["common", "ceil", "floor"].contains(method) else {
                throw PyError("method must be common, ceil or floor")
            }
            guard let n = PyNumber(x) else {
                throw PyError("type \(r.pluginInputTypeName(v)) doesn't define __round__ method")
            }
            if method == "common" {
                switch n {
                case .int(let i):
                    if precision >= 0 { return .value(.int(i)) }
                    return .value(.int(Int(pyRound(Double(i), precision))))
                case .float(let d): return .value(.float(pyRound(d, precision)))
                }
            }
            let scale = Foundation.pow(10.0, Double(precision))
            let scaled = n.double * scale
            let rounded = method == "ceil" ? scaled.rounded(.up) : scaled.rounded(.down)
            return .value(.float(rounded / scale))
        },
        f("log", ["base"]) { r, v, a in
            let x = try r.numberArg(v, "log() can only be used on numbers")
            let base = try r.value(a[0]).map { try r.number($0, "log() can only be used on numbers") }
            guard x > 0 else { throw PyError("math domain error") }
            if let base, base == 10 { return .value(.float(Foundation.log10(x))) }
            if let base { return .value(.float(Foundation.log(x) / Foundation.log(base))) }
            return .value(.float(Foundation.log(x)))
        },
        f("pow", ["y"], required: 1) { r, v, a in
            let x = try r.numberArg(v, "pow() can only be used on numbers")
            let y = try r.number(try r.concrete(a[0]!), "pow() can only be used on numbers")
            return .value(.float(Foundation.pow(x, y)))
        },
        f("root", ["base"]) { r, v, a in
            let x = try r.numberArg(v, "root() can only be used on numbers")
            let base = try r.value(a[0]).map { try r.number($0, "root() can only be used on numbers") } ?? 2
            if base == 2 {
                guard x >= 0 else { throw PyError("root() can only be used on numbers") }
                return .value(.float(x.squareRoot()))
            }
            return .value(.float(Foundation.pow(x, 1.0 / base)))
        },
        f("human_readable", ["isbits", "unit"]) { r, v, a in
            let x = try r.concrete(v)
            guard let n = PyNumber(x) ?? x.stringValue.flatMap(pyParseFloat).map({ PyNumber.float($0) }) else {
                throw PyError("human_readable() can't interpret the input")
            }
            return .value(
                .string(
                    bytesToHuman(
                        n.double, isbits: try r.boolArg(a[0], default: false),
                        unit: try r.stringArg(a[1], default: nil))))
        },
        f("human_to_bytes", ["default_unit", "isbits"]) { r, v, a in
            guard
                let n = humanToBytes(
                    try r.text(v), defaultUnit: try r.stringArg(a[0], default: nil),
                    isbits: try r.boolArg(a[1], default: false))
            else { throw PyError("human_to_bytes() can't interpret the input") }
            return .value(.int(n))
        },
    ]
}

extension RV {
    /// A `None` value.
    var isNone: Bool {
        if case .value(.null) = self { return true }
        return false
    }
}

extension Renderer {
    func length(_ v: RV) throws -> Int {
        switch v {
        case .value(let x), .lazy(let x, _):
            switch x {
            case .string(let s), .unsafe(let s): return s.unicodeScalars.count
            case .list(let l): return l.count
            case .dict(let d): return d.count
            default: throw PyError("object of type '\(typeName(v))' has no len()")
            }
        case .loop(let box): return box.items.count
        case .seq(let items): return items.count
        case .object(let o): throw PyError("object of type '\(o.typeName)' has no len()")
        case .undefined(let u): throw TErr.undefined(u)
        default: throw PyError("object of type 'function' has no len()")
        }
    }

    func number(_ v: Value, _ message: String) throws -> Double {
        guard let n = PyNumber(v) else { throw PyError(message) }
        return n.double
    }

    func numberArg(_ v: RV, _ message: String) throws -> Double { try number(try concrete(v), message) }

    func minMax(_ v: RV, _ a: Bound, max: Bool) throws -> RV {
        let caseSensitive = try boolArg(a[0], default: false)
        let getter = attrGetter(try value(a[1]))
        let items = try iterate(v)
        guard var best = items.first else {
            return .undefined(Undefined(message: "No aggregated item, sequence was empty."))
        }
        func key(_ item: RV) throws -> Value {
            let k = try concrete(try getter(item))
            return caseSensitive ? k : ignoreCase(k)
        }
        var bestKey = try key(best)
        // Python's max()/min() compare each item with the best so far (`item > best`, `item < best`); the
        // error names ansible-core's types (lazy containers, tagged scalars from variables).
        func name(_ item: RV, _ k: Value) -> String {
            switch k {
            case .list, .dict: return lazyTypeName(k)
            case .string, .unsafe where !caseSensitive: return k.pythonTypeName
            default:
                if case .lazy = item { return taggedTypeName(k) }
                return k.pythonTypeName
            }
        }
        for item in items.dropFirst() {
            let k = try key(item)
            let names = (name(item, k), name(best, bestKey))
            if max
                ? try pyCompare(k, bestKey, ">", names: names) == 1 : try pyCompare(k, bestKey, "<", names: names) == -1
            {
                best = item
                bestKey = k
            }
        }
        return best
    }

    func selectOrReject(_ v: RV, _ a: Bound, select: Bool, attr: Bool) throws -> RV {
        if case .undefined = v { return v }
        guard try truthy(v) else { return .value(.list([])) }
        var args = a.rest
        var transform: (RV) throws -> RV = { $0 }
        if attr {
            guard !args.isEmpty else { throw PyError("Missing parameter for attribute name") }
            transform = attrGetter(try concrete(args.removeFirst()))
        }
        var testName: String? = nil
        if !args.isEmpty { testName = try text(args.removeFirst()) }
        let testArgs = Args(positional: args, keywords: a.extra)
        var out: [Value] = []
        for item in try iterate(v) {
            let x = try transform(item)
            let result: Bool
            if let testName {
                result = try truthy(try callTest(named: testName, x, testArgs))
            } else {
                result = try truthy(x)
            }
            if result == select { out.append(try concrete(item)) }
        }
        return .value(.list(out))
    }

    func toJSON(_ v: Value, _ kwargs: [(String, RV)], nice: Bool) throws -> String {
        var indent: Int? = nil
        var sortKeys = false
        var ensureASCII = true
        var itemSep: String? = nil
        var keySep = ": "
        for (k, x) in kwargs {
            let val = try concrete(x)
            switch k {
            case "indent":
                if case .int(let i) = PyNumber(val) {
                    indent = i
                } else if val.isNull {
                    indent = nil
                } else if let s = val.stringValue {
                    indent = s.count
                }
            case "sort_keys": sortKeys = val.isTruthy
            case "ensure_ascii": ensureASCII = val.isTruthy
            case "separators":
                if case .list(let l) = val, l.count == 2 {
                    itemSep = pyStr(l[0])
                    keySep = pyStr(l[1])
                }
            case "skipkeys", "check_circular", "allow_nan", "profile", "vault_to_text", "preprocess_unsafe": break
            default: throw PyError("__init__() got an unexpected keyword argument '\(k)'")
            }
        }
        if nice { itemSep = "," }
        return v.json(
            Value.JSONFormat(
                indent: indent, sortKeys: sortKeys, ensureASCII: ensureASCII, itemSeparator: itemSep,
                keySeparator: keySep))
    }

    func toYAML(_ v: RV, _ a: Bound, nice: Bool) throws -> RV {
        guard let hook = engine.hooks.toYAML else { throw PyError("to_yaml is not available") }
        var options = YAMLDumpOptions(nice: nice, indent: nice ? 4 : 2, defaultFlowStyle: nice ? false : nil)
        for (k, x) in a.extra {
            let val = try concrete(x)
            switch k {
            case "indent": options.indent = try intArg(x, "indent", default: options.indent)
            case "default_flow_style": options.defaultFlowStyle = val.isNull ? nil : val.isTruthy
            case "sort_keys": options.sortKeys = val.isTruthy
            case "width": options.width = try intArg(x, "width", default: 80)
            case "explicit_start": options.explicitStart = val.isTruthy
            case "explicit_end": options.explicitEnd = val.isTruthy
            default: options.extra[k] = val
            }
        }
        let data = try concrete(v)
        do {
            return .value(.string(try hook(data, options)))
        } catch {
            throw PyError("\(error)")
        }
    }

    var environment: [String: String] { engine.hooks.environment ?? ProcessInfo.processInfo.environment }

    func expandUser(_ path: String) -> String {
        guard path.hasPrefix("~") else { return path }
        let rest = path.dropFirst()
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let user = rest[..<slash]
        var home: String
        if user.isEmpty {
            guard let h = environment["HOME"] else { return path }
            home = h
        } else {
            guard let pw = getpwnam(String(user)), let dir = pw.pointee.pw_dir else { return path }
            home = String(cString: dir)
        }
        if home.hasSuffix("/") && home != "/" { home.removeLast() }
        let tail = String(rest[slash...])
        return (home == "/" && tail.hasPrefix("/") ? "" : home) + tail
    }

    func expandVars(_ path: String) -> String {
        guard path.contains("$") else { return path }
        let env = environment
        let s = Array(path.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        func isNameChar(_ c: Unicode.Scalar) -> Bool {
            c.isASCII && (c.properties.isAlphabetic || c == "_" || (c >= "0" && c <= "9"))
        }
        while i < s.count {
            if s[i] == "$", i + 1 < s.count {
                if s[i + 1] == "{", let close = s[(i + 2)...].firstIndex(of: "}") {
                    let name = String(String.UnicodeScalarView(s[(i + 2)..<close]))
                    if let v = env[name] {
                        out.append(contentsOf: v.unicodeScalars)
                        i = close + 1
                        continue
                    }
                } else if isNameChar(s[i + 1]) {
                    var j = i + 1
                    while j < s.count, isNameChar(s[j]) { j += 1 }
                    let name = String(String.UnicodeScalarView(s[(i + 1)..<j]))
                    if let v = env[name] {
                        out.append(contentsOf: v.unicodeScalars)
                        i = j
                        continue
                    }
                }
            }
            out.append(s[i])
            i += 1
        }
        return String(out)
    }
}

// MARK: helpers

/// C `strftime` on the local or UTC time of an epoch (Python's `time.strftime` on Linux).
func cStrftime(_ format: String, epoch: Double, utc: Bool) -> String {
    var t = time_t(epoch.rounded(.down))
    var tmValue = tm()
    if utc { gmtime_r(&t, &tmValue) } else { localtime_r(&t, &tmValue) }
    var size = 256
    while size < 1 << 20 {
        var buffer = [CChar](repeating: 0, count: size)
        let n = strftime(&buffer, size, format, &tmValue)
        if n > 0 || format.isEmpty {
            return String(decoding: buffer.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        size *= 4
    }
    return ""
}

/// The class name Python reports for a filter argument: containers handed to filters are ansible-core's lazy
/// containers.
/// The Python type name of a value inside variable data (ansible-core tags scalars with their origin; bool and
/// None cannot be subclassed; containers are lazy).
func taggedTypeName(_ v: Value) -> String {
    switch v {
    case .int: return "_AnsibleTaggedInt"
    case .float: return "_AnsibleTaggedFloat"
    case .string, .unsafe: return "_AnsibleTaggedStr"
    default: return lazyTypeName(v)
    }
}

extension Renderer {
    /// The Python type name of a filter's or test's input in ansible-core: variable data are tagged or lazy,
    /// and containers handed to a plugin are wrapped lazily even when written as literals.
    func pluginInputTypeName(_ rv: RV) -> String {
        switch rv {
        case .lazy: return typeName(rv)
        case .value(let v): return lazyTypeName(v)
        default: return typeName(rv)
        }
    }

    /// `<class '…'>` of a plugin's input, with the module ansible-core's tagged and lazy types live in.
    func pluginInputClassRepr(_ rv: RV) -> String {
        let name = pluginInputTypeName(rv)
        if name.hasPrefix("_AnsibleTagged") { return "<class 'ansible.module_utils._internal._datatag.\(name)'>" }
        if name.hasPrefix("_AnsibleLazy") { return "<class 'ansible._internal._templating._lazy_containers.\(name)'>" }
        return "<class '\(name)'>"
    }
}

func lazyTypeName(_ v: Value) -> String {
    switch v {
    case .dict: return "_AnsibleLazyTemplateDict"
    case .list: return "_AnsibleLazyTemplateList"
    default: return v.pythonTypeName
    }
}

func lazyClassRepr(_ v: Value) -> String {
    switch v {
    case .dict, .list: return "<class 'ansible._internal._templating._lazy_containers.\(lazyTypeName(v))'>"
    default: return "<class '\(v.pythonTypeName)'>"
    }
}

/// nil for a missing or None argument.
func nonNull(_ v: Value?) -> Value? {
    guard let v, !v.isNull else { return Optional<Value>.none }
    return v
}

/// Jinja2's `ignore_case` key postprocessing.
func ignoreCase(_ v: Value) -> Value {
    if let s = v.stringValue { return .string(s.lowercased()) }
    if case .list(let l) = v { return .list(l) }
    return v
}

/// A stable merge sort with a throwing comparator (Python's `sorted` is stable).
func stableSort<T>(_ items: [T], by less: (T, T) throws -> Bool) throws -> [T] {
    if items.count < 2 { return items }
    var a = items
    var buffer = items
    var width = 1
    while width < a.count {
        var i = 0
        while i < a.count {
            let mid = min(i + width, a.count)
            let end = min(i + 2 * width, a.count)
            var l = i
            var r = mid
            var k = i
            while l < mid && r < end {
                if try less(a[r], a[l]) {
                    buffer[k] = a[r]
                    r += 1
                } else {
                    buffer[k] = a[l]
                    l += 1
                }
                k += 1
            }
            while l < mid {
                buffer[k] = a[l]
                l += 1
                k += 1
            }
            while r < end {
                buffer[k] = a[r]
                r += 1
                k += 1
            }
            i += 2 * width
        }
        swap(&a, &buffer)
        width *= 2
    }
    return a
}

func uniqueByEquality(_ items: [Value]) -> [Value] {
    var out: [Value] = []
    for item in items where !out.contains(where: { pyEq($0, item) }) { out.append(item) }
    return out
}

/// The order Python's `list(set(...))` gives for small non-negative integers (ascending); other elements keep
/// their order (Python's order for strings depends on the hash seed, so no order is "right").
func pySetOrder(_ items: [Value]) -> [Value] {
    let ints = items.compactMap { v -> Int? in
        if case .int(let i) = v, i >= 0 { return i }
        return nil
    }
    guard ints.count == items.count, let top = ints.max(), top < 8 * max(items.count, 1) else { return items }
    return ints.sorted().map { .int($0) }
}

func flatten(_ items: [Value], levels: Int?, skipNulls: Bool) -> [Value] {
    var out: [Value] = []
    for element in items {
        if skipNulls {
            if element.isNull { continue }
            if let s = element.stringValue, s == "None" || s == "null" { continue }
        }
        if case .list(let inner) = element {
            if let levels {
                if levels >= 1 {
                    out.append(contentsOf: flatten(inner, levels: levels - 1, skipNulls: skipNulls))
                } else {
                    out.append(element)
                }
            } else {
                out.append(contentsOf: flatten(inner, levels: nil, skipNulls: skipNulls))
            }
        } else {
            out.append(element)
        }
    }
    return out
}

/// ansible's `merge_hash`.
func mergeHash(_ x: Value, _ y: Value, recursive: Bool, listMerge: String) throws -> Value {
    guard ["replace", "keep", "append", "prepend", "append_rp", "prepend_rp"].contains(listMerge) else {
        throw PyError(
            "merge_hash: 'list_merge' argument can only be equal to 'replace', 'keep', 'append', 'prepend', "
                + "'append_rp' or 'prepend_rp'")
    }
    guard case .dict(var xd) = x, case .dict(let yd) = y else {
        throw PyError(
            "failed to combine variables, expected dicts but got a '\(lazyTypeName(x))' and a '\(lazyTypeName(y))'.")
    }
    if xd.isEmpty || x == y { return y }
    if yd.isEmpty { return x }
    for (key, yv) in yd {
        guard let xv = xd[key] else {
            xd[key] = yv
            continue
        }
        if case .dict = xv, case .dict = yv {
            xd[key] = recursive ? try mergeHash(xv, yv, recursive: recursive, listMerge: listMerge) : yv
            continue
        }
        if case .list(let xl) = xv, case .list(let yl) = yv {
            switch listMerge {
            case "replace": xd[key] = yv
            case "append": xd[key] = .list(xl + yl)
            case "prepend": xd[key] = .list(yl + xl)
            case "append_rp": xd[key] = .list(xl.filter { z in !yl.contains { pyEq($0, z) } } + yl)
            case "prepend_rp": xd[key] = .list(yl + xl.filter { z in !yl.contains { pyEq($0, z) } })
            default: break  // keep
            }
            continue
        }
        xd[key] = yv
    }
    return .dict(xd)
}

func permutations(_ pool: [Value], _ r: Int) -> [[Value]] {
    guard r >= 0, r <= pool.count else { return [] }
    var out: [[Value]] = []
    var used = [Bool](repeating: false, count: pool.count)
    var current: [Value] = []
    func rec() {
        if current.count == r {
            out.append(current)
            return
        }
        for i in pool.indices where !used[i] {
            used[i] = true
            current.append(pool[i])
            rec()
            current.removeLast()
            used[i] = false
        }
    }
    rec()
    return out
}

func combinations(_ pool: [Value], _ r: Int) -> [[Value]] {
    guard r >= 0, r <= pool.count else { return [] }
    var out: [[Value]] = []
    var current: [Value] = []
    func rec(_ start: Int) {
        if current.count == r {
            out.append(current)
            return
        }
        guard start < pool.count else { return }
        for i in start..<pool.count {
            current.append(pool[i])
            rec(i + 1)
            current.removeLast()
        }
    }
    rec(0)
    return out
}

func htmlEscape(_ s: String) -> String {
    var out = ""
    for c in s.unicodeScalars {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&#34;"
        case "'": out += "&#39;"
        default: out.unicodeScalars.append(c)
        }
    }
    return out
}

func stripTags(_ s: String) -> String {
    var out = ""
    var inTag = false
    for c in s {
        if c == "<" { inTag = true } else if c == ">" && inTag { inTag = false } else if !inTag { out.append(c) }
    }
    return out.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
}

/// `shlex.quote`.
func shellQuote(_ s: String) -> String {
    if s.isEmpty { return "''" }
    let safe = s.unicodeScalars.allSatisfy { c in
        (c.isASCII && (c.properties.isAlphabetic || (c >= "0" && c <= "9"))) || "@%+=:,./-_".unicodeScalars.contains(c)
    }
    if safe { return s }
    return "'" + s.replacingOccurrences(of: "'", with: "'\"'\"'") + "'"
}

/// `urllib.parse.quote` as Jinja2's `url_quote` uses it.
func urlQuote(_ s: String, forQS: Bool) -> String {
    var out = ""
    let safe = Set((forQS ? "" : "/").unicodeScalars)
    for b in s.utf8 {
        let c = Unicode.Scalar(b)
        if (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9")
            || "_.-~".unicodeScalars.contains(c)
            || safe.contains(c)
        {
            out.unicodeScalars.append(c)
        } else {
            out += String(format: "%%%02X", b)
        }
    }
    return forQS ? out.replacingOccurrences(of: "%20", with: "+") : out
}

func comment(_ text: String, style: String, _ overrides: [(String, String)]) throws -> String {
    let styles: [String: [String: String]] = [
        "plain": ["decoration": "# "],
        "erlang": ["decoration": "% "],
        "c": ["decoration": "// "],
        "cblock": ["beginning": "/*", "decoration": " * ", "end": " */"],
        "xml": ["beginning": "<!--", "decoration": " - ", "end": "-->"],
    ]
    guard let styleParams = styles[style] else { throw PyError("Invalid style \(pythonStringRepr(style)).") }
    let kw = Dictionary(overrides, uniquingKeysWith: { $1 })
    let prepostfix = kw["decoration"] ?? styleParams["decoration"] ?? ""
    var p: [String: String] = [
        "newline": "\n", "beginning": "", "prefix": pyStrip(prepostfix, nil, left: false, right: true),
        "prefix_count": "1", "decoration": "", "postfix": pyStrip(prepostfix, nil, left: false, right: true),
        "postfix_count": "1", "end": "",
    ]
    p.merge(styleParams) { $1 }
    p.merge(kw) { $1 }
    let nl = p["newline"]!
    var out = ""
    if !p["beginning"]!.isEmpty { out += p["beginning"]! + nl }
    if !p["prefix"]!.isEmpty {
        let count = Int(p["prefix_count"]!) ?? 1
        try checkSize(count)
        out += String(repeating: p["prefix"]! == nl ? nl : p["prefix"]! + nl, count: max(count, 0))
    }
    let decoration = p["decoration"]!
    let body = (decoration + text.replacingOccurrences(of: nl, with: nl + decoration))
        .replacingOccurrences(of: decoration + nl, with: pyStrip(decoration, nil, left: false, right: true) + nl)
    out += body
    let postCount = Int(p["postfix_count"]!) ?? 1
    try checkSize(postCount)
    out += ([""] + [String](repeating: p["postfix"]!, count: max(postCount, 0))).joined(separator: nl)
    if !p["end"]!.isEmpty { out += nl + p["end"]! }
    return out
}

func fileSizeFormat(_ bytes: Double, binary: Bool) -> String {
    let base: Double = binary ? 1024 : 1000
    let prefixes =
        binary
        ? ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"] : ["kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"]
    if bytes == 1 { return "1 Byte" }
    if bytes < base { return "\(Int(bytes)) Bytes" }
    var unit = base
    for (i, prefix) in prefixes.enumerated() {
        unit = Foundation.pow(base, Double(i + 2))
        if bytes < unit { return formatFloat(base * bytes / unit, conv: "f", precision: 1) + " " + prefix }
    }
    return formatFloat(base * bytes / unit, conv: "f", precision: 1) + " " + prefixes.last!
}

/// ansible's `bytes_to_human`.
func bytesToHuman(_ size: Double, isbits: Bool, unit: String?) -> String {
    let limits: [(String, Double)] = [
        ("Y", 80), ("Z", 70), ("E", 60), ("P", 50), ("T", 40), ("G", 30), ("M", 20),
        ("K", 10), ("B", 0),
    ].map { ($0.0, Foundation.pow(2, $0.1)) }
    var chosen = ("B", 1.0)
    for (suffix, limit) in limits {
        if let unit, unit.uppercased().first == suffix.first {
            chosen = (suffix, limit)
            break
        }
        if unit == nil && size >= limit {
            chosen = (suffix, limit)
            break
        }
    }
    let suffix: String
    if chosen.0 == "B" {
        suffix = isbits ? "bits" : "Bytes"
    } else {
        suffix = chosen.0 + (isbits ? "b" : "B")
    }
    return formatFloat(size / chosen.1, conv: "f", precision: 2) + " " + suffix
}

func humanToBytes(_ text: String, defaultUnit: String?, isbits: Bool) -> Int? {
    guard let m = try? PyRegex("^\\s*(\\d*\\.?\\d*)\\s*([A-Za-z]+)?").match(text), let numText = m.groups[1],
        let number = Double(numText)
    else { return nil }
    var unit = m.groups[2] ?? defaultUnit ?? "B"
    let powers: [Character: Double] = ["B": 0, "K": 10, "M": 20, "G": 30, "T": 40, "P": 50, "E": 60, "Z": 70, "Y": 80]
    guard let first = unit.uppercased().first, let p = powers[first] else { return nil }
    if unit.count > 1 {
        let rest = unit.dropFirst()
        if isbits {
            guard rest == "b" || rest == "bit" || unit == "b" else { return nil }
        } else {
            guard rest == "B" || rest == "iB" || rest == "ytes" || rest == "yte" else { return nil }
        }
        unit = String(first)
    }
    return Int((number * Foundation.pow(2, p)).rounded())
}

func uuid5(namespace: String, name: String) -> String? {
    let hex = namespace.lowercased().filter { $0 != "-" && $0 != "{" && $0 != "}" }
    guard hex.count == 32 else { return nil }
    var bytes: [UInt8] = []
    var i = hex.startIndex
    while i < hex.endIndex {
        let j = hex.index(i, offsetBy: 2)
        guard let b = UInt8(hex[i..<j], radix: 16) else { return nil }
        bytes.append(b)
        i = j
    }
    var d = Array(Digest.sha1(bytes + Array(name.utf8)).prefix(16))
    d[6] = (d[6] & 0x0F) | 0x50
    d[8] = (d[8] & 0x3F) | 0x80
    let h = Digest.hex(d)
    let parts = [
        h.prefix(8), h.dropFirst(8).prefix(4), h.dropFirst(12).prefix(4), h.dropFirst(16).prefix(4),
        h.dropFirst(20),
    ]
    return parts.map(String.init).joined(separator: "-")
}

/// A simple `textwrap.wrap` (whitespace-separated words, long words broken when asked).
func wordWrap(_ text: String, width: Int, breakLong: Bool) -> [String] {
    var lines: [String] = []
    var current = ""
    for word in text.split(separator: " ", omittingEmptySubsequences: true).map(String.init) {
        var w = word
        if current.isEmpty {
            while breakLong && w.count > width && width > 0 {
                lines.append(String(w.prefix(width)))
                w = String(w.dropFirst(width))
            }
            current = w
        } else if current.count + 1 + w.count <= width {
            current += " " + w
        } else {
            lines.append(current)
            while breakLong && w.count > width && width > 0 {
                lines.append(String(w.prefix(width)))
                w = String(w.dropFirst(width))
            }
            current = w
        }
    }
    if !current.isEmpty { lines.append(current) }
    return lines
}

func posixDirname(_ p: String) -> String {
    guard let slash = p.lastIndex(of: "/") else { return "" }
    var head = String(p[...slash])
    if !head.allSatisfy({ $0 == "/" }) {
        while head.hasSuffix("/") { head.removeLast() }
    }
    return head
}

func posixNormpath(_ path: String) -> String {
    if path.isEmpty { return "." }
    var initial = 0
    if path.hasPrefix("/") { initial = path.hasPrefix("//") && !path.hasPrefix("///") ? 2 : 1 }
    var out: [Substring] = []
    for comp in path.split(separator: "/") {
        if comp == "." { continue }
        if comp == ".." {
            if (initial == 0 && out.isEmpty) || (out.last == "..") {
                out.append(comp)
            } else if !out.isEmpty {
                out.removeLast()
            }
            continue
        }
        out.append(comp)
    }
    let joined = out.joined(separator: "/")
    let result = String(repeating: "/", count: initial) + joined
    return result.isEmpty ? "." : result
}

func posixRelpath(_ path: String, start: String, cwd: String) -> String {
    func absolute(_ p: String) -> [Substring] {
        posixNormpath(p.hasPrefix("/") ? p : cwd + "/" + p).split(separator: "/")
    }
    let a = absolute(start)
    let b = absolute(path)
    var i = 0
    while i < a.count && i < b.count && a[i] == b[i] { i += 1 }
    let parts = [String](repeating: "..", count: a.count - i) + b[i...].map(String.init)
    return parts.isEmpty ? "." : parts.joined(separator: "/")
}

func posixSplitext(_ p: String) -> (String, String) {
    let base = p.lastIndex(of: "/").map { p.index(after: $0) } ?? p.startIndex
    guard let dot = p[base...].lastIndex(of: ".") else { return (p, "") }
    // Leading dots of the basename do not start an extension.
    if p[base..<dot].allSatisfy({ $0 == "." }) { return (p, "") }
    return (String(p[..<dot]), String(p[dot...]))
}
