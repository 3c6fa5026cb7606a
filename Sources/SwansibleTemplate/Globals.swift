import OrderedCollections
import SwansibleData

extension Renderer {
    static let maxRange = 10_000_000

    func callGlobal(_ name: String, _ args: Args) throws -> RV {
        switch name {
        case "range":
            guard args.keywords.isEmpty else { throw PyError("range() takes no keyword arguments") }
            let ints = try args.positional.map { rv -> Int in
                let v = try concrete(rv)
                guard case .int(let i) = PyNumber(v) else {
                    throw PyError("'\(v.pythonTypeName)' object cannot be interpreted as an integer")
                }
                return i
            }
            var start = 0
            var stop = 0
            var step = 1
            switch ints.count {
            case 1: stop = ints[0]
            case 2: (start, stop) = (ints[0], ints[1])
            case 3: (start, stop, step) = (ints[0], ints[1], ints[2])
            default: throw PyError("range expected at most 3 arguments, got \(ints.count)")
            }
            guard step != 0 else { throw PyError("range() arg 3 must not be zero") }
            let count = step > 0 ? max(0, (stop - start + step - 1) / step) : max(0, (start - stop - step - 1) / -step)
            guard count <= Renderer.maxRange else {
                throw PyError("range too big, more than \(Renderer.maxRange) items")
            }
            return .value(.list((0..<count).map { .int(start + $0 * step) }))
        case "dict":
            var d = ValueDict()
            if let first = args.positional.first {
                guard args.positional.count == 1 else {
                    throw PyError("dict expected at most 1 argument, got \(args.positional.count)")
                }
                switch try concrete(first) {
                case .dict(let m): d = m
                case .list(let pairs):
                    for (i, p) in pairs.enumerated() {
                        guard case .list(let kv) = p, kv.count == 2 else {
                            throw PyError("dictionary update sequence element #\(i) has wrong length")
                        }
                        guard let k = dictKey(kv[0]) else {
                            throw PyError("unhashable type: '\(kv[0].pythonTypeName)'")
                        }
                        d[k] = kv[1]
                    }
                case let other: throw PyError("'\(other.pythonTypeName)' object is not iterable")
                }
            }
            for (k, v) in args.keywords { d[k] = try concrete(v) }
            return .value(.dict(d))
        case "namespace":
            var attrs = OrderedDictionary<String, RV>()
            for p in args.positional {
                if case .dict(let m) = try concrete(p) { for (k, v) in m { attrs[k] = .value(v) } }
            }
            for (k, v) in args.keywords { attrs[k] = v }
            return .namespace(NamespaceBox(attrs))
        case "undef":
            if let hint = args.positional.first ?? args.keyword("hint") {
                let h = try concrete(hint)
                if !h.isNull {
                    guard let s = h.stringValue else {
                        throw PyError(
                            "The 'hint' argument must be of type 'str' or 'NoneType', not '\(h.pythonTypeName)'.")
                    }
                    if !s.isEmpty { return .undefined(Undefined(message: s)) }
                }
            }
            return .undefined(Undefined(message: "Mandatory variable has not been overridden"))
        case "lookup", "query", "q":
            return try callLookup(args, forceList: name != "lookup")
        case "now":
            let utc = try (args.positional.first ?? args.keyword("utc")).map { try concrete($0).isTruthy } ?? false
            let fmt = try (args.positional.dropFirst().first ?? args.keyword("fmt")).map { try concrete($0) }
            let now = PyDateTime.now(utc: utc)
            if let fmt, !fmt.isNull { return .value(.string(now.strftime(pyStr(fmt)))) }
            return .object(.datetime(now))
        case "lipsum":
            return .value(.string("Lorem ipsum dolor sit amet, consectetur adipiscing elit."))
        default:
            throw PyError("'\(name)' is not callable")
        }
    }

    /// `lookup(name, *terms, **options)` / `query(...)` as ansible-core's `_invoke_lookup`.
    func callLookup(_ args: Args, forceList: Bool) throws -> RV {
        guard let first = args.positional.first else {
            throw PyError("\(forceList ? "_query" : "_lookup")() missing 1 required positional argument: 'plugin_name'")
        }
        if first.isUndefined { return first }
        let pluginName = try text(first)
        let name = Checker.canonical(pluginName)
        var options = ValueDict()
        var wantlist = forceList
        var errors = "strict"
        var defaultArg: RV? = nil
        for (k, v) in args.keywords {
            switch k {
            case "wantlist":
                let flag = try concrete(v).isTruthy
                wantlist = forceList || flag
            case "errors": errors = try text(v)
            case "default" where name == "env" || name == "vars":
                defaultArg = v
            default:
                if let u = v.undefinedValue { return .undefined(u) }
                options[k] = try concrete(v)
            }
        }
        var terms: [Value] = []
        for t in args.positional.dropFirst() {
            if let u = t.undefinedValue { return .undefined(u) }
            terms.append(try concrete(t))
        }
        let results: [RV]
        do {
            results = try runLookup(name, pluginName: pluginName, terms, options, defaultArg: defaultArg)
        } catch let e as TErr where e.kind == .undefined || e.message.hasPrefix("The lookup plugin") {
            // A missing plugin fails whatever `errors` says (ansible-core checks before running it).
            throw e
        } catch {
            let message: String
            switch error {
            case let e as PyError: message = e.message
            case let e as TErr: message = e.message
            case let e as LookupError: message = e.description
            default: message = "\(error)"
            }
            switch errors {
            case "warn":
                warn("An error occurred while running the lookup plugin \(pythonStringRepr(pluginName)).")
                return wantlist ? .value(.list([])) : .none
            case "ignore":
                return wantlist ? .value(.list([])) : .none
            default:
                throw TErr.plugin("lookup", pluginName, message)
            }
        }
        if let u = results.first(where: \.isUndefined) { return u }
        if !wantlist && !results.isEmpty {
            if results.count == 1 { return results[0] }
            let values = try results.map { try concrete($0) }
            if values.allSatisfy(\.isString) {
                return .value(.string(values.compactMap(\.stringValue).joined(separator: ",")))
            }
            return .value(.list(values))
        }
        return .value(.list(try results.map { try concrete($0) }))
    }

    /// Runs one lookup plugin: the built-in ones here, the others through the hooks' ``LookupProvider``.
    func runLookup(_ name: String, pluginName: String, _ terms: [Value], _ options: ValueDict, defaultArg: RV?)
        throws -> [RV]
    {
        switch name {
        case "env":
            let env = environment
            var out: [RV] = []
            for term in terms {
                guard let s = term.stringValue else {
                    throw PyError("'\(term.pythonTypeName)' object has no attribute 'split'")
                }
                guard let v = s.split(whereSeparator: { $0.isWhitespace }).first.map(String.init) else {
                    throw PyError("list index out of range")
                }
                if let value = env[v] {
                    out.append(.value(.unsafe(value)))
                } else if let d = defaultArg {
                    if case .undefined(let u) = d, u.message == "Mandatory variable has not been overridden" {
                        out.append(
                            .undefined(Undefined(message: "The environment variable \(pythonStringRepr(v)) is not set.")))
                    } else {
                        out.append(d)
                    }
                } else {
                    out.append(.value(.string("")))
                }
            }
            return out
        case "vars":
            var out: [RV] = []
            for term in terms {
                guard let s = term.stringValue else {
                    throw PyError("Variable name must be 'str' not '\(term.pythonTypeName)'.")
                }
                if let v = variables.variable(s) {
                    out.append(try wrapLazy(v))
                } else if let d = defaultArg, !d.isNone {
                    out.append(d)
                } else {
                    out.append(.undefined(Undefined(message: "No variable named \(pythonStringRepr(s)) was found.")))
                }
            }
            return out
        default:
            if let builtin = try Lookups.builtin(name, terms, options) { return builtin.map { .value($0) } }
            guard let provider = engine.hooks.lookups else {
                throw TErr(kind: .plugin, message: "The lookup plugin \(pythonStringRepr(pluginName)) was not found.")
            }
            do {
                return try provider.lookup(name: name, terms: terms, options: options, warn: { self.warn($0) }).map {
                    .value($0.markedUnsafe)
                }
            } catch LookupError.notFound {
                throw TErr(kind: .plugin, message: "The lookup plugin \(pythonStringRepr(pluginName)) was not found.")
            }
        }
    }
}

/// Lookups that only transform their terms (the ones `with_*` loops use most).
enum Lookups {
    static func builtin(_ name: String, _ terms: [Value], _ options: ValueDict) throws -> [Value]? {
        switch name {
        case "items":
            return flattenOnce(terms)
        case "list":
            return terms
        case "flattened":
            return flatten(terms, levels: nil, skipNulls: true)
        case "indexed_items":
            return flattenOnce(terms).enumerated().map { .list([.int($0.offset), $0.element]) }
        case "dict":
            var out: [Value] = []
            for t in terms {
                guard case .dict(let d) = t else { throw PyError("with_dict expects a dict") }
                for (k, v) in d { out.append(["key": .string(k), "value": v]) }
            }
            return out
        case "together":
            let lists = terms.map { $0.listValue ?? [$0] }
            guard !lists.isEmpty else { throw PyError("with_together requires at least one element in each list") }
            let n = lists.map(\.count).max() ?? 0
            return (0..<n).map { i in .list(lists.map { i < $0.count ? $0[i] : .null }) }
        case "nested", "cartesian":
            let lists = terms.map { $0.listValue ?? [$0] }
            guard !lists.isEmpty else { throw PyError("with_nested requires at least one element in the nested list") }
            var result: [[Value]] = [[]]
            for l in lists { result = result.flatMap { prefix in l.map { prefix + [$0] } } }
            return result.map { .list($0) }
        case "sequence":
            return try sequence(terms, options)
        default:
            return nil
        }
    }

    static func flattenOnce(_ terms: [Value]) -> [Value] {
        var out: [Value] = []
        for t in terms {
            if case .list(let l) = t { out.append(contentsOf: l) } else { out.append(t) }
        }
        return out
    }

    /// The `sequence` lookup: `start=1 end=5 stride=1 format=%d` or `count=…`, or the shortcut
    /// `[start-]end[/stride][:format]`.
    static func sequence(_ terms: [Value], _ options: ValueDict) throws -> [Value] {
        var out: [Value] = []
        func run(_ params: [String: String]) throws {
            func int(_ key: String, _ dflt: Int?) throws -> Int? {
                guard let s = params[key] else { return dflt }
                guard let v = pyParseInt(s, base: 0) else { throw PyError("can't parse \(key)=\(s) as integer") }
                return v
            }
            let start = try int("start", 1)!
            var end = try int("end", nil)
            let stride = try int("stride", 1)!
            let format = params["format"] ?? "%d"
            if let count = try int("count", nil) {
                if end != nil { throw PyError("can't specify both count and end in with_sequence") }
                end = start + count * stride - stride
            }
            guard let end else { throw PyError("must specify count or end in with_sequence") }
            if stride == 0 { return }
            if stride > 0 && end < start { throw PyError("to count backwards make stride negative") }
            if stride < 0 && end > start { throw PyError("to count forward don't make stride negative") }
            var i = start
            while stride > 0 ? i <= end : i >= end {
                out.append(.string(try pyPercentFormat(format, .int(i))))
                i += stride
            }
        }
        for t in terms {
            var params: [String: String] = [:]
            for (k, v) in options { params[k] = pyStr(v) }
            let s = pyStr(t)
            if s.contains("=") {
                for pair in s.split(separator: " ") {
                    let kv = pair.split(separator: "=", maxSplits: 1)
                    if kv.count == 2 { params[String(kv[0])] = String(kv[1]) }
                }
            } else if !s.isEmpty {
                var rest = Substring(s)
                if let colon = rest.firstIndex(of: ":") {
                    params["format"] = String(rest[rest.index(after: colon)...])
                    rest = rest[..<colon]
                }
                if let slash = rest.firstIndex(of: "/") {
                    params["stride"] = String(rest[rest.index(after: slash)...])
                    rest = rest[..<slash]
                }
                if let dash = rest.dropFirst().firstIndex(of: "-") {
                    params["start"] = String(rest[..<dash])
                    params["end"] = String(rest[rest.index(after: dash)...])
                } else {
                    params["end"] = String(rest)
                }
            }
            try run(params)
        }
        if terms.isEmpty {
            var params: [String: String] = [:]
            for (k, v) in options { params[k] = pyStr(v) }
            try run(params)
        }
        return out
    }
}
