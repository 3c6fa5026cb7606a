import Foundation
import SwansibleData

/// Methods of Python's str, list and dict that templates call (`x.split(',')`, `d.items()`, `s.format(…)`).
enum Methods {
    static let stringMethods: Set<String> = [
        "capitalize", "casefold", "center", "count", "endswith", "expandtabs", "find", "format", "format_map",
        "index", "isalnum", "isalpha", "isascii", "isdecimal", "isdigit", "isidentifier", "islower", "isnumeric",
        "isprintable", "isspace", "istitle", "isupper", "join", "ljust", "lower", "lstrip", "partition",
        "removeprefix", "removesuffix", "replace", "rfind", "rindex", "rjust", "rpartition", "rsplit", "rstrip",
        "split", "splitlines", "startswith", "strip", "swapcase", "title", "upper", "zfill", "encode",
    ]
    static let listMethods: Set<String> = [
        "count", "index", "copy", "append", "extend", "insert", "pop", "remove", "reverse", "sort", "clear",
    ]
    static let dictMethods: Set<String> = [
        "keys", "values", "items", "get", "copy", "update", "pop", "setdefault", "clear", "popitem",
    ]

    static func has(_ v: Value, _ name: String) -> Bool {
        switch v {
        case .string, .unsafe: return stringMethods.contains(name)
        case .list: return listMethods.contains(name)
        case .dict: return dictMethods.contains(name)
        default: return false
        }
    }

    /// Methods of a lazy dict that do not need its values rendered.
    static let keyOnly: Set<String> = ["keys", "get", "pop", "setdefault"]

    static func call(
        _ receiver: Value, _ name: String, _ args: Renderer.Args, _ r: Renderer, lazy: Bool, scope: LazyScope?
    ) throws -> RV {
        let a = try args.positional.map { try r.concrete($0) }
        if name == "join", receiver.stringValue != nil, case .lazy? = args.positional.first, case .list(let l)? = a.first,
            let i = l.firstIndex(where: { $0.stringValue == nil })
        {
            // Items of variable data are ansible-core's tagged types, which Python's message names.
            throw PyError("sequence item \(i): expected str instance, \(taggedTypeName(l[i])) found")
        }
        var kw: [String: Value] = [:]
        for (k, v) in args.keywords { kw[k] = try r.concrete(v) }
        var receiver = receiver
        if lazy, !(receiver.dictValue != nil && keyOnly.contains(name)) {
            // Values of variables are rendered when a method exposes them (`d.items()`, `l.index(x)`).
            receiver = try r.deepRender(receiver, scope: scope)
        }
        switch receiver {
        case .string(let s), .unsafe(let s): return .value(try stringMethod(s, name, a, kw))
        case .list(let l):
            var copy = l
            return .value(try listMethod(&copy, name, a))
        case .dict(let d):
            if name == "get" {
                guard let key = a.first else { throw PyError("get expected at least 1 argument, got 0") }
                if let k = dictKey(key), let v = d[k] {
                    guard lazy else { return .value(v) }
                    if case .hostvars? = scope { return try r.getItem(.lazy(receiver, scope), .value(key)) }
                    return try r.wrapLazy(v, scope: scope)
                }
                return .value(a.count > 1 ? a[1] : .null)
            }
            var copy = d
            return .value(try dictMethod(&copy, name, a, kw))
        default: throw PyError("'\(receiver.pythonTypeName)' object has no attribute '\(name)'")
        }
    }

    static func arg(_ a: [Value], _ i: Int) -> Value? { i < a.count ? a[i] : Optional<Value>.none }

    static func intArg(_ v: Value?, _ dflt: Int) throws -> Int {
        guard let v, !v.isNull else { return dflt }
        guard case .int(let i) = PyNumber(v) else {
            throw PyError("'\(v.pythonTypeName)' object cannot be interpreted as an integer")
        }
        return i
    }

    static func strArg(_ v: Value?, _ method: String) throws -> String? {
        guard let v, !v.isNull else { return nil }
        guard let s = v.stringValue else {
            throw PyError("\(method) arg must be None or str")
        }
        return s
    }

    /// Python's str slicing bounds for start/end arguments.
    static func bounds(_ s: [Unicode.Scalar], _ a: [Value], from i: Int) throws -> Range<Int> {
        let n = s.count
        func norm(_ v: Value?, _ dflt: Int) throws -> Int {
            guard let v, !v.isNull else { return dflt }
            var x = try intArg(v, dflt)
            if x < 0 { x += n }
            return min(max(x, 0), n)
        }
        let start = try norm(arg(a, i), 0)
        let end = try norm(arg(a, i + 1), n)
        return start..<max(start, end)
    }

    static func stringMethod(_ s: String, _ name: String, _ a: [Value], _ kw: [String: Value]) throws -> Value {
        let scalars = Array(s.unicodeScalars)
        func str(_ i: Int, _ method: String) throws -> String {
            guard let v = arg(a, i) else { throw PyError("\(method)() takes at least \(i + 1) argument") }
            guard let t = v.stringValue else {
                throw PyError("must be str, not \(v.pythonTypeName)")
            }
            return t
        }
        switch name {
        case "lower", "casefold": return .string(s.lowercased())
        case "upper": return .string(s.uppercased())
        case "capitalize": return .string(pyCapitalize(s))
        case "title": return .string(pyTitle(s))
        case "swapcase":
            return .string(String(s.map { c in c.isUppercase ? Character(c.lowercased()) : Character(c.uppercased()) }))
        case "strip", "lstrip", "rstrip":
            let chars = try strArg(arg(a, 0), name)
            return .string(pyStrip(s, chars, left: name != "rstrip", right: name != "lstrip"))
        case "split", "rsplit":
            let sep = try strArg(arg(a, 0) ?? kw["sep"], name)
            let maxsplit = try intArg(arg(a, 1) ?? kw["maxsplit"], -1)
            let parts = name == "split" ? try pySplit(s, sep, maxsplit) : try pyRSplit(s, sep, maxsplit)
            return .list(parts.map { .string($0) })
        case "splitlines":
            let keep = (arg(a, 0) ?? kw["keepends"])?.isTruthy ?? false
            return .list(pySplitlines(s, keepends: keep).map { .string($0) })
        case "startswith", "endswith":
            guard let first = arg(a, 0) else { throw PyError("\(name)() takes at least 1 argument (0 given)") }
            let prefixes: [String]
            if case .list(let l) = first {
                prefixes = l.compactMap(\.stringValue)
            } else if let p = first.stringValue {
                prefixes = [p]
            } else {
                throw PyError(
                    "\(name) first arg must be str or a tuple of str, not \(first.pythonTypeName)")
            }
            let range = try bounds(scalars, a, from: 1)
            let sub = Array(scalars[range])
            for p in prefixes {
                let ps = Array(p.unicodeScalars)
                if name == "startswith" ? sub.starts(with: ps) : sub.reversed().starts(with: ps.reversed()) {
                    return .bool(true)
                }
            }
            return .bool(false)
        case "replace":
            let count = try intArg(arg(a, 2), -1)
            return .string(pyReplace(s, try str(0, name), try str(1, name), count: count))
        case "find", "index", "rfind", "rindex", "count":
            let needle = Array(try str(0, name).unicodeScalars)
            let range = try bounds(scalars, a, from: 1)
            if name == "count" {
                if needle.isEmpty { return .int(range.count + 1) }
                var n = 0
                var i = range.lowerBound
                while i + needle.count <= range.upperBound {
                    if Array(scalars[i..<(i + needle.count)]) == needle {
                        n += 1
                        i += needle.count
                    } else {
                        i += 1
                    }
                }
                return .int(n)
            }
            var found = -1
            if needle.count <= range.count {
                let candidates = Array(range.lowerBound...(range.upperBound - needle.count))
                for i in (name.hasPrefix("r") ? candidates.reversed() : candidates)
                where Array(scalars[i..<(i + needle.count)]) == needle {
                    found = i
                    break
                }
            }
            if found < 0 && name.hasSuffix("index") { throw PyError("substring not found") }
            return .int(found)
        case "join":
            guard let items = arg(a, 0) else { throw PyError("str.join() takes exactly one argument (0 given)") }
            let parts: [Value]
            switch items {
            case .list(let l): parts = l
            case .dict(let d): parts = d.keys.map { .string($0) }
            case .string(let t), .unsafe(let t): parts = t.unicodeScalars.map { .string(String($0)) }
            default: throw PyError("can only join an iterable")
            }
            var out: [String] = []
            for (i, p) in parts.enumerated() {
                guard let t = p.stringValue else {
                    throw PyError("sequence item \(i): expected str instance, \(p.pythonTypeName) found")
                }
                out.append(t)
            }
            return .string(out.joined(separator: s))
        case "format": return .string(try pyFormat(s, a, kw))
        case "format_map":
            guard case .dict(let d)? = arg(a, 0) else { throw PyError("format_map() argument must be a mapping") }
            return .string(try pyFormat(s, [], Dictionary(uniqueKeysWithValues: d.map { ($0.key, $0.value) })))
        case "center", "ljust", "rjust":
            let width = try intArg(arg(a, 0), 0)
            try checkSize(width)
            let fill = try strArg(arg(a, 1), name) ?? " "
            guard fill.unicodeScalars.count == 1 else {
                throw PyError("The fill character must be exactly one character long")
            }
            let pad = width - scalars.count
            if pad <= 0 { return .string(s) }
            switch name {
            case "ljust": return .string(s + String(repeating: fill, count: pad))
            case "rjust": return .string(String(repeating: fill, count: pad) + s)
            default: return .string(pyCenter(s, width, fill: fill))
            }
        case "zfill":
            let width = try intArg(arg(a, 0), 0)
            try checkSize(width)
            let pad = width - scalars.count
            if pad <= 0 { return .string(s) }
            if let first = scalars.first, first == "+" || first == "-" {
                return .string(
                    String(first) + String(repeating: "0", count: pad)
                        + String(String.UnicodeScalarView(scalars.dropFirst())))
            }
            return .string(String(repeating: "0", count: pad) + s)
        case "partition", "rpartition":
            let sep = try str(0, name)
            guard !sep.isEmpty else { throw PyError("empty separator") }
            let found = name == "partition" ? s.range(of: sep) : s.range(of: sep, options: .backwards)
            guard let r = found else {
                return name == "partition" ? .list([.string(s), "", ""]) : .list(["", "", .string(s)])
            }
            return .list([.string(String(s[..<r.lowerBound])), .string(sep), .string(String(s[r.upperBound...]))])
        case "removeprefix":
            let p = try str(0, name)
            return .string(s.hasPrefix(p) ? String(s.dropFirst(p.count)) : s)
        case "removesuffix":
            let p = try str(0, name)
            return .string(!p.isEmpty && s.hasSuffix(p) ? String(s.dropLast(p.count)) : s)
        case "expandtabs":
            let tab = try intArg(arg(a, 0), 8)
            try checkSize(tab * 64)
            var out = ""
            var col = 0
            for c in s.unicodeScalars {
                if c == "\t" {
                    let n = tab > 0 ? tab - col % tab : 0
                    out += String(repeating: " ", count: n)
                    col += n
                } else {
                    out.unicodeScalars.append(c)
                    col = (c == "\n" || c == "\r") ? 0 : col + 1
                }
            }
            return .string(out)
        case "isdigit", "isdecimal", "isnumeric":
            return .bool(
                !scalars.isEmpty
                    && scalars.allSatisfy {
                        name == "isnumeric"
                            ? $0.properties.numericType != nil
                            : name == "isdigit"
                                ? ($0.properties.numericType == .decimal || $0.properties.numericType == .digit)
                                : $0.properties.numericType == .decimal
                    })
        case "isalpha": return .bool(!scalars.isEmpty && scalars.allSatisfy { $0.properties.isAlphabetic })
        case "isalnum":
            return .bool(
                !scalars.isEmpty
                    && scalars.allSatisfy { $0.properties.isAlphabetic || $0.properties.numericType != nil })
        case "isascii": return .bool(scalars.allSatisfy(\.isASCII))
        case "isspace": return .bool(!scalars.isEmpty && scalars.allSatisfy { $0.properties.isWhitespace })
        case "islower":
            let cased = scalars.filter { $0.properties.isCased }
            return .bool(!cased.isEmpty && cased.allSatisfy { $0.properties.isLowercase })
        case "isupper":
            let cased = scalars.filter { $0.properties.isCased }
            return .bool(!cased.isEmpty && cased.allSatisfy { $0.properties.isUppercase })
        case "istitle": return .bool(!s.isEmpty && pyTitle(s) == s && scalars.contains { $0.properties.isCased })
        case "isidentifier":
            guard let first = scalars.first, Lexer.isNameStart(first) else { return .bool(false) }
            return .bool(scalars.dropFirst().allSatisfy(Lexer.isNameContinue))
        case "isprintable": return .bool(scalars.allSatisfy(pythonIsPrintable))
        case "encode": return .string(s)
        default: throw PyError("'str' object has no attribute '\(name)'")
        }
    }

    static func listMethod(_ l: inout [Value], _ name: String, _ a: [Value]) throws -> Value {
        switch name {
        case "count":
            guard let x = arg(a, 0) else { throw PyError("list.count() takes exactly one argument (0 given)") }
            return .int(l.filter { pyEq($0, x) }.count)
        case "index":
            guard let x = arg(a, 0) else { throw PyError("index expected at least 1 argument, got 0") }
            guard let i = l.firstIndex(where: { pyEq($0, x) }) else { throw PyError("\(pyRepr(x)) is not in list") }
            return .int(i)
        case "copy": return .list(l)
        case "append":
            guard let x = arg(a, 0) else { throw PyError("list.append() takes exactly one argument (0 given)") }
            l.append(x)
            return .null
        case "extend":
            guard let x = arg(a, 0) else { throw PyError("list.extend() takes exactly one argument (0 given)") }
            switch x {
            case .list(let more): l.append(contentsOf: more)
            case .dict(let d): l.append(contentsOf: d.keys.map { .string($0) })
            case .string(let s), .unsafe(let s): l.append(contentsOf: s.unicodeScalars.map { .string(String($0)) })
            default: throw PyError("'\(x.pythonTypeName)' object is not iterable")
            }
            return .null
        case "insert":
            guard a.count == 2 else { throw PyError("insert expected 2 arguments, got \(a.count)") }
            var i = try intArg(a[0], 0)
            if i < 0 { i = max(i + l.count, 0) }
            l.insert(a[1], at: min(i, l.count))
            return .null
        case "pop":
            guard !l.isEmpty else { throw PyError("pop from empty list") }
            var i = try intArg(arg(a, 0), -1)
            if i < 0 { i += l.count }
            guard i >= 0 && i < l.count else { throw PyError("pop index out of range") }
            return l.remove(at: i)
        case "remove":
            guard let x = arg(a, 0), let i = l.firstIndex(where: { pyEq($0, x) }) else {
                throw PyError("list.remove(x): x not in list")
            }
            l.remove(at: i)
            return .null
        case "reverse":
            l.reverse()
            return .null
        case "sort":
            l = try stableSort(l, by: pyLess)
            return .null
        case "clear":
            l.removeAll()
            return .null
        default: throw PyError("'list' object has no attribute '\(name)'")
        }
    }

    static func dictMethod(_ d: inout ValueDict, _ name: String, _ a: [Value], _ kw: [String: Value]) throws -> Value {
        switch name {
        case "keys": return .list(d.keys.map { .string($0) })
        case "values": return .list(Array(d.values))
        case "items": return .list(d.map { .list([.string($0.key), $0.value]) })
        case "copy": return .dict(d)
        case "update":
            if let other = arg(a, 0) {
                switch other {
                case .dict(let o): for (k, v) in o { d[k] = v }
                case .list(let pairs):
                    for p in pairs {
                        guard case .list(let kv) = p, kv.count == 2, let k = dictKey(kv[0]) else {
                            throw PyError("dictionary update sequence element has wrong length")
                        }
                        d[k] = kv[1]
                    }
                default: throw PyError("'\(other.pythonTypeName)' object is not iterable")
                }
            }
            for (k, v) in kw { d[k] = v }
            return .null
        case "pop":
            guard let key = arg(a, 0) else { throw PyError("pop expected at least 1 argument, got 0") }
            if let k = dictKey(key), let v = d.removeValue(forKey: k) { return v }
            if let dflt = arg(a, 1) { return dflt }
            throw PyError(pyRepr(key))
        case "setdefault":
            guard let key = arg(a, 0), let k = dictKey(key) else {
                throw PyError("setdefault expected at least 1 argument, got 0")
            }
            if let v = d[k] { return v }
            let v = arg(a, 1) ?? .null
            d[k] = v
            return v
        case "clear":
            d.removeAll()
            return .null
        case "popitem":
            guard let last = d.elements.last else { throw PyError("'popitem(): dictionary is empty'") }
            d.removeValue(forKey: last.key)
            return .list([.string(last.key), last.value])
        default: throw PyError("'dict' object has no attribute '\(name)'")
        }
    }

    /// The methods that change their receiver; `{% set _ = x.append(1) %}` updates the local `x`.
    static let mutating: Set<String> = [
        "append", "extend", "insert", "pop", "remove", "reverse", "sort", "clear", "update", "setdefault", "popitem",
    ]
}

// MARK: Python string helpers

/// `str.capitalize()`.
func pyCapitalize(_ s: String) -> String {
    guard let first = s.first else { return s }
    return String(first).uppercased() + s.dropFirst().lowercased()
}

/// `str.title()`: a letter after a non-letter is uppercased, others lowercased.
func pyTitle(_ s: String) -> String {
    var out = ""
    var previousCased = false
    for c in s {
        if c.isLetter {
            out += previousCased ? c.lowercased() : c.uppercased()
            previousCased = true
        } else {
            out.append(c)
            previousCased = false
        }
    }
    return out
}

/// Jinja2's `title` filter: words start after `-`, whitespace, `(`, `{`, `[` or `<`.
func jinjaTitle(_ s: String) -> String {
    var out = ""
    var atStart = true
    for c in s {
        if c == "-" || c.isWhitespace || c == "(" || c == "{" || c == "[" || c == "<" {
            out.append(c)
            atStart = true
        } else if atStart {
            out += c.uppercased()
            atStart = false
        } else {
            out += c.lowercased()
        }
    }
    return out
}

/// Python `str.strip(chars)` (whitespace when chars is nil).
func pyStrip(_ s: String, _ chars: String?, left: Bool, right: Bool) -> String {
    let set = chars.map { Set($0.unicodeScalars) }
    func strip(_ c: Unicode.Scalar) -> Bool {
        if let set { return set.contains(c) }
        return c.properties.isWhitespace || (0x1C...0x1F).contains(c.value)
    }
    let scalars = Array(s.unicodeScalars)
    var a = 0
    var b = scalars.count
    if left { while a < b, strip(scalars[a]) { a += 1 } }
    if right { while b > a, strip(scalars[b - 1]) { b -= 1 } }
    return String(String.UnicodeScalarView(scalars[a..<b]))
}

/// Python `str.replace(old, new, count)`.
func pyReplace(_ s: String, _ old: String, _ new: String, count: Int) -> String {
    if count == 0 { return s }
    let scalars = Array(s.unicodeScalars)
    let o = Array(old.unicodeScalars)
    var out = String.UnicodeScalarView()
    var n = 0
    if o.isEmpty {
        for (i, c) in scalars.enumerated() {
            if count < 0 || n < count {
                out.append(contentsOf: new.unicodeScalars)
                n += 1
            }
            out.append(c)
            _ = i
        }
        if count < 0 || n < count { out.append(contentsOf: new.unicodeScalars) }
        return String(out)
    }
    var i = 0
    while i < scalars.count {
        if count < 0 || n < count, i + o.count <= scalars.count, Array(scalars[i..<(i + o.count)]) == o {
            out.append(contentsOf: new.unicodeScalars)
            i += o.count
            n += 1
        } else {
            out.append(scalars[i])
            i += 1
        }
    }
    return String(out)
}

/// Python `str.center(width, fill)`.
func pyCenter(_ s: String, _ width: Int, fill: String) -> String {
    let len = s.unicodeScalars.count
    let marg = width - len
    if marg <= 0 { return s }
    let left = marg / 2 + (marg & width & 1)
    return String(repeating: fill, count: left) + s + String(repeating: fill, count: marg - left)
}

private func isPySpace(_ c: Unicode.Scalar) -> Bool {
    c.properties.isWhitespace || (0x1C...0x1F).contains(c.value)
}

/// Python `str.split(sep, maxsplit)`.
func pySplit(_ s: String, _ sep: String?, _ maxsplit: Int) throws -> [String] {
    let scalars = Array(s.unicodeScalars)
    var out: [String] = []
    func piece(_ a: Int, _ b: Int) -> String { String(String.UnicodeScalarView(scalars[a..<b])) }
    guard let sep else {
        var i = 0
        var splits = 0
        while i < scalars.count {
            while i < scalars.count, isPySpace(scalars[i]) { i += 1 }
            if i >= scalars.count { break }
            if maxsplit >= 0 && splits >= maxsplit {
                var end = scalars.count
                while end > i, isPySpace(scalars[end - 1]) { end -= 1 }
                out.append(piece(i, end))
                return out
            }
            let start = i
            while i < scalars.count, !isPySpace(scalars[i]) { i += 1 }
            out.append(piece(start, i))
            splits += 1
        }
        return out
    }
    let sp = Array(sep.unicodeScalars)
    guard !sp.isEmpty else { throw PyError("empty separator") }
    var start = 0
    var i = 0
    var splits = 0
    while i + sp.count <= scalars.count {
        if maxsplit >= 0 && splits >= maxsplit { break }
        if Array(scalars[i..<(i + sp.count)]) == sp {
            out.append(piece(start, i))
            i += sp.count
            start = i
            splits += 1
        } else {
            i += 1
        }
    }
    out.append(piece(start, scalars.count))
    return out
}

/// Python `str.rsplit(sep, maxsplit)`.
func pyRSplit(_ s: String, _ sep: String?, _ maxsplit: Int) throws -> [String] {
    if maxsplit < 0 { return try pySplit(s, sep, maxsplit) }
    let reversed = String(String.UnicodeScalarView(s.unicodeScalars.reversed()))
    let revSep = sep.map { String(String.UnicodeScalarView($0.unicodeScalars.reversed())) }
    return try pySplit(reversed, revSep, maxsplit).reversed().map {
        String(String.UnicodeScalarView($0.unicodeScalars.reversed()))
    }
}

/// Python `str.splitlines(keepends)`.
func pySplitlines(_ s: String, keepends: Bool = false) -> [String] {
    let scalars = Array(s.unicodeScalars)
    var out: [String] = []
    var start = 0
    var i = 0
    let breaks: Set<UInt32> = [0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029]
    while i < scalars.count {
        if breaks.contains(scalars[i].value) {
            var end = i + 1
            if scalars[i] == "\r", end < scalars.count, scalars[end] == "\n" { end += 1 }
            out.append(String(String.UnicodeScalarView(scalars[start..<(keepends ? end : i)])))
            start = end
            i = end
        } else {
            i += 1
        }
    }
    if start < scalars.count { out.append(String(String.UnicodeScalarView(scalars[start...]))) }
    return out
}

/// Python `str.format(*args, **kwargs)` for the common replacement fields and format specs.
func pyFormat(_ s: String, _ args: [Value], _ kwargs: [String: Value]) throws -> String {
    let c = Array(s.unicodeScalars)
    var out = String.UnicodeScalarView()
    var auto = 0
    var i = 0
    while i < c.count {
        if c[i] == "{" {
            if i + 1 < c.count, c[i + 1] == "{" {
                out.append("{")
                i += 2
                continue
            }
            var depth = 1
            var j = i + 1
            while j < c.count, depth > 0 {
                if c[j] == "{" { depth += 1 } else if c[j] == "}" { depth -= 1 }
                if depth > 0 { j += 1 }
            }
            guard j < c.count else { throw PyError("expected '}' before end of string") }
            let field = String(String.UnicodeScalarView(c[(i + 1)..<j]))
            var name = field
            var spec = ""
            var conversion: Character? = nil
            if let colon = field.firstIndex(of: ":") {
                name = String(field[..<colon])
                spec = String(field[field.index(after: colon)...])
            }
            if let bang = name.firstIndex(of: "!") {
                conversion = name[name.index(after: bang)...].first
                name = String(name[..<bang])
            }
            // Nested fields in the spec.
            if spec.contains("{") { spec = try pyFormat(spec, args, kwargs) }
            var path = Substring(name)
            var head = ""
            while let ch = path.first, ch != "." && ch != "[" {
                head.append(ch)
                path = path.dropFirst()
            }
            var value: Value
            if head.isEmpty {
                guard auto < args.count else {
                    throw PyError("Replacement index \(auto) out of range for positional args tuple")
                }
                value = args[auto]
                auto += 1
            } else if let n = Int(head) {
                guard n < args.count else {
                    throw PyError("Replacement index \(n) out of range for positional args tuple")
                }
                value = args[n]
            } else {
                guard let v = kwargs[head] else { throw PyError(pythonStringRepr(head)) }
                value = v
            }
            while let ch = path.first {
                if ch == "." {
                    path = path.dropFirst()
                    var attr = ""
                    while let x = path.first, x != "." && x != "[" {
                        attr.append(x)
                        path = path.dropFirst()
                    }
                    guard let v = value[attr] else {
                        throw PyError("'\(value.pythonTypeName)' object has no attribute \(pythonStringRepr(attr))")
                    }
                    value = v
                } else {
                    path = path.dropFirst()
                    var key = ""
                    while let x = path.first, x != "]" {
                        key.append(x)
                        path = path.dropFirst()
                    }
                    path = path.dropFirst()
                    if case .list(let l) = value, let n = Int(key) {
                        guard n < l.count else { throw PyError("list index out of range") }
                        value = l[n]
                    } else if let v = value[key] {
                        value = v
                    } else {
                        throw PyError(pythonStringRepr(key))
                    }
                }
            }
            if conversion == "r" || conversion == "a" {
                value = .string(pyRepr(value))
            } else if conversion == "s" {
                value = .string(pyStr(value))
            }
            out.append(contentsOf: try formatSpec(value, spec).unicodeScalars)
            i = j + 1
            continue
        }
        if c[i] == "}" {
            if i + 1 < c.count, c[i + 1] == "}" {
                out.append("}")
                i += 2
                continue
            }
            throw PyError("Single '}' encountered in format string")
        }
        out.append(c[i])
        i += 1
    }
    return String(out)
}

/// Python's format mini-language: `[[fill]align][sign][#][0][width][,][.precision][type]`.
func formatSpec(_ v: Value, _ spec: String) throws -> String {
    if spec.isEmpty { return pyStr(v) }
    var s = Array(spec)
    var fill: Character = " "
    var align: Character? = nil
    if s.count >= 2, "<>^=".contains(s[1]) {
        fill = s[0]
        align = s[1]
        s.removeFirst(2)
    } else if let f = s.first, "<>^=".contains(f) {
        align = f
        s.removeFirst()
    }
    var sign: Character = "-"
    if let f = s.first, "+- ".contains(f) {
        sign = f
        s.removeFirst()
    }
    var alternate = false
    if s.first == "#" {
        alternate = true
        s.removeFirst()
    }
    if s.first == "0" {
        if align == nil {
            fill = "0"
            align = "="
        }
        s.removeFirst()
    }
    var widthText = ""
    while let f = s.first, f.isNumber {
        widthText.append(f)
        s.removeFirst()
    }
    var grouping: Character? = nil
    if let f = s.first, f == "," || f == "_" {
        grouping = f
        s.removeFirst()
    }
    var precision: Int? = nil
    if s.first == "." {
        s.removeFirst()
        var p = ""
        while let f = s.first, f.isNumber {
            p.append(f)
            s.removeFirst()
        }
        precision = Int(p)
    }
    let type = s.first
    if let precision { try checkSize(precision) }
    if let w = Int(widthText) { try checkSize(w) } else if !widthText.isEmpty { try checkSize(Int.max) }
    var body: String
    var negative = false
    let numeric = PyNumber(v) != nil && !v.isString
    switch type {
    case nil where !numeric, "s":
        guard v.isString || type == nil else {
            throw PyError("Unknown format code 's' for object of type '\(v.pythonTypeName)'")
        }
        body = pyStr(v)
        if let precision { body = String(body.prefix(precision)) }
    case "d", "n", nil:
        guard case .int(let i) = PyNumber(v) else {
            if case .float(let d) = PyNumber(v), type == nil {
                negative = d < 0 || (d == 0 && d.sign == .minus)
                body =
                    precision.map { formatFloat(d.magnitude, conv: "g", precision: $0) } ?? pythonFloatRepr(d.magnitude)
                break
            }
            throw PyError(
                "Unknown format code '\(type.map(String.init) ?? "d")' for object of type '\(v.pythonTypeName)'")
        }
        negative = i < 0
        body = String(i.magnitude)
    case "x", "X", "o", "b":
        guard case .int(let i) = PyNumber(v) else {
            throw PyError("Unknown format code '\(type!)' for object of type '\(v.pythonTypeName)'")
        }
        negative = i < 0
        let radix = type == "o" ? 8 : type == "b" ? 2 : 16
        body = String(i.magnitude, radix: radix, uppercase: type == "X")
        if alternate { body = (type == "o" ? "0o" : type == "b" ? "0b" : type == "X" ? "0X" : "0x") + body }
    case "f", "F", "e", "E", "g", "G", "%":
        guard let n = PyNumber(v) else {
            throw PyError("Unknown format code '\(type!)' for object of type '\(v.pythonTypeName)'")
        }
        var d = n.double
        if type == "%" { d *= 100 }
        negative = d < 0 || (d == 0 && d.sign == .minus)
        body = formatFloat(
            d.magnitude, conv: type == "%" ? "f" : type!, precision: precision ?? 6, alternate: alternate)
        if type == "%" { body += "%" }
    default:
        throw PyError("Unknown format code '\(type.map(String.init) ?? "")' for object of type '\(v.pythonTypeName)'")
    }
    if let grouping, numeric {
        let parts = body.split(separator: ".", maxSplits: 1)
        var intPart = String(parts[0])
        var grouped = ""
        while intPart.count > 3 {
            grouped = String(grouping) + intPart.suffix(3) + grouped
            intPart = String(intPart.dropLast(3))
        }
        body = intPart + grouped + (parts.count > 1 ? "." + parts[1] : "")
    }
    let signText = numeric ? (negative ? "-" : sign == "+" ? "+" : sign == " " ? " " : "") : ""
    let width = Int(widthText) ?? 0
    let total = signText.count + body.count
    if total >= width { return signText + body }
    let pad = width - total
    switch align ?? (numeric ? ">" : "<") {
    case "<": return signText + body + String(repeating: fill, count: pad)
    case "^":
        let left = pad / 2
        return String(repeating: fill, count: left) + signText + body + String(repeating: fill, count: pad - left)
    case "=": return signText + String(repeating: fill, count: pad) + body
    default: return String(repeating: fill, count: pad) + signText + body
    }
}
