import Foundation
import SwansibleData

/// A Jinja2/Ansible test (`x is defined`, `result is failed`, `v is version('2.0', '>=')`).
struct TestDef: Sendable {
    var canonical: String
    var sig: Signature
    var acceptsUndefined = false
    var fn: @Sendable (Renderer, RV, Bound) throws -> Bool
}

extension Renderer {
    func applyTest(_ call: PluginCall, _ input: RV, _ frame: Frame) throws -> RV {
        let name = Checker.canonical(call.name, isFilter: false)
        guard let def = JinjaTests.table[name] else { throw TErr.python("No test named '\(call.name)' found.") }
        return try callTest(def, input, try evalArgs(call.args, frame))
    }

    func callTest(_ def: TestDef, _ input: RV, _ args: Args) throws -> RV {
        if !def.acceptsUndefined {
            if input.isUndefined { return input }
            if let u = args.firstUndefined { return u }
        }
        do {
            return .value(.bool(try def.fn(self, input, try def.sig.bind(args))))
        } catch let e as PyError {
            throw TErr.plugin("test", "ansible.builtin." + def.canonical, e.message)
        } catch let e as TErr where e.kind == .undefined {
            return .undefined(Undefined(message: e.message))
        }
    }

    func callTest(named name: String, _ input: RV, _ args: Args) throws -> RV {
        guard let def = JinjaTests.table[Checker.canonical(name, isFilter: false)] else {
            throw PyError("No test named '\(name)'.")
        }
        return try callTest(def, input, args)
    }
}

enum JinjaTests {
    static let table: [String: TestDef] = {
        var t: [String: TestDef] = [:]
        for def in all { t[def.canonical] = def }
        for (alias, target) in aliases { t[alias] = t[target] }
        return t
    }()

    static let aliases: [String: String] = [
        "==": "eq", "equalto": "eq", "!=": "ne", "<": "lt", "lessthan": "lt", "<=": "le", ">": "gt",
        "greaterthan": "gt", ">=": "ge", "failure": "failed", "succeeded": "success", "successful": "success",
        "change": "changed", "skip": "skipped", "version_compare": "version", "issubset": "subset",
        "issuperset": "superset", "nan": "isnan", "is_abs": "abs", "is_dir": "directory", "is_file": "file",
        "is_link": "link", "is_mount": "mount", "is_same_file": "same_file",
    ]

    private static func t(
        _ name: String, _ params: [String] = [], required: Int = 0, acceptsUndefined: Bool = false,
        _ fn: @escaping @Sendable (Renderer, RV, Bound) throws -> Bool
    ) -> TestDef {
        TestDef(
            canonical: name, sig: Signature(fn: name, names: params, required: required),
            acceptsUndefined: acceptsUndefined, fn: fn)
    }

    /// A test on the concrete value.
    private static func v(_ name: String, _ fn: @escaping @Sendable (Value) -> Bool) -> TestDef {
        t(name) { r, x, _ in fn(try r.concrete(x)) }
    }

    private static func compare(_ name: String, _ op: CmpOp) -> TestDef {
        t(name, ["other"], required: 1) { r, x, a in
            try Renderer.compare(
                op, try r.concrete(x), try r.concrete(a[0]!),
                names: (r.pluginInputTypeName(x), r.pluginInputTypeName(a[0]!)))
        }
    }

    static let all: [TestDef] = jinja + ansible + files

    static let jinja: [TestDef] = [
        t("defined", acceptsUndefined: true) { _, x, _ in !x.isUndefined },
        t("undefined", acceptsUndefined: true) { _, x, _ in x.isUndefined },
        v("none") { $0.isNull },
        v("boolean") { $0.boolValue != nil },
        v("true") { $0.boolValue == true },
        v("false") { $0.boolValue == false },
        v("integer") { if case .int = $0 { return true } else { return false } },
        v("float") { if case .float = $0 { return true } else { return false } },
        v("number") { PyNumber($0) != nil },
        v("string") { $0.isString },
        v("mapping") { $0.dictValue != nil },
        t("iterable") { _, x, _ in
            switch x {
            case .value(let v), .lazy(let v, _): return v.isString || v.listValue != nil || v.dictValue != nil
            case .loop, .seq: return true
            default: return false
            }
        },
        v("sequence") { $0.isString || $0.listValue != nil || $0.dictValue != nil },
        t("callable") { _, x, _ in
            if case .callable = x { return true }
            return false
        },
        t("sameas", ["other"], required: 1) { r, x, a in
            let p = try r.concrete(x)
            let q = try r.concrete(a[0]!)
            switch (p, q) {
            case (.null, .null): return true
            case (.bool(let b1), .bool(let b2)): return b1 == b2
            case (.int(let i), .int(let j)): return i == j && (-5...256).contains(i)
            default: return false
            }
        },
        v("escaped") { _ in false },
        t("divisibleby", ["num"], required: 1) { r, x, a in
            let m = try pyArith(.mod, try r.concrete(x), try r.concrete(a[0]!))
            return pyEq(m, .int(0))
        },
        t("even") { r, x, _ in
            let v = try r.concrete(x)
            try r.checkModTwo(x, v)
            return pyEq(try pyArith(.mod, v, .int(2)), .int(0))
        },
        t("odd") { r, x, _ in
            let v = try r.concrete(x)
            try r.checkModTwo(x, v)
            return pyEq(try pyArith(.mod, v, .int(2)), .int(1))
        },
        t("lower") { r, x, _ in
            let s = try r.text(x)
            let cased = s.unicodeScalars.filter { $0.properties.isCased }
            return !cased.isEmpty && cased.allSatisfy { $0.properties.isLowercase }
        },
        t("upper") { r, x, _ in
            let s = try r.text(x)
            let cased = s.unicodeScalars.filter { $0.properties.isCased }
            return !cased.isEmpty && cased.allSatisfy { $0.properties.isUppercase }
        },
        compare("eq", .eq), compare("ne", .ne), compare("lt", .lt), compare("le", .lteq), compare("gt", .gt),
        compare("ge", .gteq),
        t("in", ["seq"], required: 1) { r, x, a in try pyContains(try r.concrete(a[0]!), try r.concrete(x)) },
        t("filter") { r, x, _ in Filters.table[Checker.canonical(try r.text(x))] != nil },
        t("test") { r, x, _ in table[Checker.canonical(try r.text(x), isFilter: false)] != nil },
    ]

    private static func result(_ name: String, _ fn: @escaping @Sendable (ValueDict) -> Bool) -> TestDef {
        t(name) { r, x, _ in
            guard case .dict(let d) = try r.concrete(x) else {
                throw PyError("The '\(name)' test expects a dictionary")
            }
            return fn(d)
        }
    }

    static let ansible: [TestDef] = [
        result("failed") { ($0["failed"] ?? .null).isTruthy },
        result("success") { !($0["failed"] ?? .null).isTruthy },
        result("unreachable") { ($0["unreachable"] ?? .null).isTruthy },
        result("reachable") { !($0["unreachable"] ?? .null).isTruthy },
        result("timedout") { d in
            guard let t = d["timedout"], t.isTruthy else { return false }
            return (t["period"] ?? .null).isTruthy
        },
        result("changed") { d in
            if let c = d["changed"] { return c.isTruthy }
            if case .list(let results)? = d["results"], case .dict? = results.first {
                return results.contains { ($0["changed"] ?? .null).isTruthy }
            }
            return false
        },
        result("skipped") { ($0["skipped"] ?? .null).isTruthy },
        t("finished") { r, x, _ in
            guard case .dict(let d) = try r.concrete(x) else {
                throw PyError("The 'finished' test expects a dictionary")
            }
            if let f = d["finished"] { return f.isTruthy }
            r.warn("The 'finished' test expects an async task, but a non-async task was tested")
            return true
        },
        t("started") { r, x, _ in
            guard case .dict(let d) = try r.concrete(x) else {
                throw PyError("The 'started' test expects a dictionary")
            }
            if let f = d["started"] { return f.isTruthy }
            r.warn("The 'started' test expects an async task, but a non-async task was tested")
            return true
        },
        t("match", ["pattern", "ignorecase", "multiline"]) { r, x, a in try r.regexTest(x, a, anchored: true) },
        t("search", ["pattern", "ignorecase", "multiline"]) { r, x, a in try r.regexTest(x, a, anchored: false) },
        t("regex", ["pattern", "ignorecase", "multiline", "match_type"]) { r, x, a in
            let type = try r.stringArg(a[3], default: "search") ?? "search"
            return try r.regexTest(x, a, anchored: type == "match", full: type == "fullmatch")
        },
        t("version", ["version", "operator", "strict", "version_type"], required: 1) { r, x, a in
            try versionCompare(
                try r.concrete(x), try r.concrete(a[0]!), op: try r.stringArg(a[1], default: "eq") ?? "eq",
                strict: try r.value(a[2]), type: try r.stringArg(a[3], default: nil))
        },
        t("any") { r, x, _ in try r.iterate(x).contains { try r.truthy($0) } },
        t("all") { r, x, _ in try r.iterate(x).allSatisfy { try r.truthy($0) } },
        t("truthy", ["convert_bool"]) { r, x, a in try r.truthyTest(x, convert: try r.boolArg(a[0], default: false)) },
        t("falsy", ["convert_bool"]) { r, x, a in !(try r.truthyTest(x, convert: try r.boolArg(a[0], default: false)))
        },
        t("subset", ["b"], required: 1) { r, x, a in
            let p = try r.concreteItems(x)
            let q = try r.concreteItems(a[0]!)
            try checkHashable(p + q)
            return p.allSatisfy { i in q.contains { pyEq($0, i) } }
        },
        t("superset", ["b"], required: 1) { r, x, a in
            let p = try r.concreteItems(x)
            let q = try r.concreteItems(a[0]!)
            try checkHashable(p + q)
            return q.allSatisfy { i in p.contains { pyEq($0, i) } }
        },
        t("contains", ["value"], required: 1) { r, x, a in
            let container = try r.concrete(x)
            switch container {
            case .string, .unsafe, .list, .dict: break
            default: throw PyError("argument of type '\(r.pluginInputTypeName(x))' is not iterable")
            }
            return try pyContains(container, try r.concrete(a[0]!))
        },
        t("isnan") { r, x, _ in
            if case .float(let d) = try r.concrete(x) { return d.isNaN }
            return false
        },
        t("vault_encrypted", acceptsUndefined: true) { r, x, _ in
            if case .undefined(let u) = x { throw TErr.undefined(u) }
            guard let s = try r.concrete(x).stringValue else { return false }
            return s.hasPrefix("$ANSIBLE_VAULT;")
        },
        t("uri", ["schemes"]) { r, x, a in
            let parsed = urlParse(try r.text(x))
            guard let schemes = try r.value(a[0]), !schemes.isNull else { return true }
            return try r.concreteItems(.value(schemes)).contains { pyEq($0, .string(parsed.scheme)) }
        },
        t("url", ["schemes"]) { r, x, a in
            let parsed = urlParse(try r.text(x))
            if let schemes = try r.value(a[0]), !schemes.isNull,
                !(try r.concreteItems(.value(schemes)).contains { pyEq($0, .string(parsed.scheme)) })
            {
                return false
            }
            return !parsed.netloc.isEmpty || parsed.scheme == "file"
        },
        t("urn") { r, x, _ in urlParse(try r.text(x)).scheme == "urn" },
    ]

    /// Tests on the controller's file system.
    static let files: [TestDef] = [
        t("abs") { r, x, _ in try r.text(x).hasPrefix("/") },
        t("exists") { r, x, _ in
            FileManager.default.fileExists(atPath: r.expandUser(try r.text(x)))
        },
        t("file") { r, x, _ in fileType(try r.text(x), follow: true) == .typeRegular },
        t("directory") { r, x, _ in fileType(try r.text(x), follow: true) == .typeDirectory },
        t("link") { r, x, _ in fileType(try r.text(x), follow: false) == .typeSymbolicLink },
        t("link_exists") { r, x, _ in fileType(try r.text(x), follow: false) != nil },
        t("mount") { r, x, _ in
            let path = try r.text(x)
            var st = stat()
            var parent = stat()
            guard lstat(path, &st) == 0, lstat(path + "/..", &parent) == 0 else { return false }
            return st.st_dev != parent.st_dev || st.st_ino == parent.st_ino
        },
        t("same_file", ["other"], required: 1) { r, x, a in
            var s1 = stat()
            var s2 = stat()
            guard stat(try r.text(x), &s1) == 0, stat(try r.text(a[0]!), &s2) == 0 else { return false }
            return s1.st_dev == s2.st_dev && s1.st_ino == s2.st_ino
        },
    ]

    static func fileType(_ path: String, follow: Bool) -> FileAttributeType? {
        let attrs: [FileAttributeKey: Any]?
        if follow {
            attrs = try? FileManager.default.attributesOfItem(
                atPath: URL(fileURLWithPath: path).resolvingSymlinksInPath().path)
        } else {
            attrs = try? FileManager.default.attributesOfItem(atPath: path)
        }
        return attrs?[.type] as? FileAttributeType
    }
}

/// `urllib.parse.urlparse`, just scheme and netloc.
func urlParse(_ s: String) -> (scheme: String, netloc: String) {
    var scheme = ""
    var rest = Substring(s)
    if let colon = s.firstIndex(of: ":") {
        let candidate = s[..<colon]
        if let first = candidate.first, first.isASCII, first.isLetter,
            candidate.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) })
        {
            scheme = candidate.lowercased()
            rest = s[s.index(after: colon)...]
        }
    }
    var netloc = ""
    if rest.hasPrefix("//") {
        let after = rest.dropFirst(2)
        let end = after.firstIndex(where: { "/?#".contains($0) }) ?? after.endIndex
        netloc = String(after[..<end])
    }
    return (scheme, netloc)
}

extension Renderer {
    func regexTest(_ x: RV, _ a: Bound, anchored: Bool, full: Bool = false) throws -> Bool {
        let value = try text(x)
        let pattern = try stringArg(a[0], default: "") ?? ""
        var flags: PyRegex.Flags = []
        if try boolArg(a[1], default: false) { flags.insert(.ignoreCase) }
        if try boolArg(a[2], default: false) { flags.insert(.multiline) }
        let re = try PyRegex(pattern, flags: flags)
        if full { return re.fullmatch(value) }
        return anchored ? re.match(value) != nil : re.search(value) != nil
    }

    func truthyTest(_ x: RV, convert: Bool) throws -> Bool {
        if convert {
            let v = try concrete(x)
            var check: String? = nil
            if let s = v.stringValue {
                check = s.lowercased()
            } else if case .bool(let b) = v {
                return b
            } else if case .int(let i) = v {
                check = String(i)
            } else if case .float(let d) = v {
                check = pythonFloatRepr(d)
            }
            if let check {
                if ["y", "yes", "on", "1", "true", "t", "1.0"].contains(check) { return true }
                if ["n", "no", "off", "0", "false", "f", "0.0"].contains(check) { return false }
            }
        }
        return try truthy(x)
    }
}

// MARK: versions

/// A version as one of Python's version classes parses it.
private enum ParsedVersion {
    case loose([Value])
    case strict(version: [Int], pre: (String, Int)?)
    case semver(core: [Int], pre: [Value])
}

private func parseVersion(_ s: String, _ type: String) throws -> ParsedVersion {
    switch type {
    case "strict":
        guard let m = try PyRegex("^(\\d+)\\.(\\d+)(\\.(\\d+))?([ab](\\d+))?$").match(s),
            s.unicodeScalars.allSatisfy(\.isASCII)
        else { throw PyError("invalid version number '\(s)'") }
        guard let major = m.groups[1].flatMap({ Int($0) }), let minor = m.groups[2].flatMap({ Int($0) }) else {
            throw PyError("invalid version number '\(s)'")
        }
        var v = [major, minor, 0]
        if let p = m.groups[4] { v[2] = Int(p) ?? 0 }
        var pre: (String, Int)? = nil
        if let p = m.groups[5], let n = m.groups[6] { pre = (String(p.prefix(1)), Int(n) ?? 0) }
        return .strict(version: v, pre: pre)
    case "semver", "semantic":
        let pattern =
            "^(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)(?:-((?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*)"
            + "(?:\\.(?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\\+([0-9a-zA-Z-]+(?:\\.[0-9a-zA-Z-]+)*))?$"
        guard let m = try PyRegex(pattern).match(s) else { throw PyError("invalid semantic version '\(s)'") }
        let core = [1, 2, 3].map { m.groups[$0].flatMap { Int($0) } ?? Int.max }
        let pre: [Value] =
            m.groups[4].map {
                $0.split(separator: ".").map { p in
                    Int(p).map { .int($0) } ?? .string(String(p))
                }
            } ?? []
        return .semver(core: core, pre: pre)
    default:
        // LooseVersion: numbers, runs of lowercase letters, everything else kept as text; dots dropped.
        var parts: [Value] = []
        let scalars = Array(s.unicodeScalars)
        var i = 0
        var other = ""
        func flushOther() {
            if !other.isEmpty {
                parts.append(.string(other))
                other = ""
            }
        }
        while i < scalars.count {
            let c = scalars[i]
            if c.properties.numericType == .decimal {
                flushOther()
                var j = i
                var digits = ""
                while j < scalars.count, scalars[j].properties.numericType == .decimal {
                    digits.unicodeScalars.append(scalars[j])
                    j += 1
                }
                parts.append(pyParseInt(digits, base: 10).map { .int($0) } ?? .string(digits))
                i = j
            } else if c >= "a" && c <= "z" {
                flushOther()
                var j = i
                var letters = ""
                while j < scalars.count, scalars[j] >= "a", scalars[j] <= "z" {
                    letters.unicodeScalars.append(scalars[j])
                    j += 1
                }
                parts.append(.string(letters))
                i = j
            } else if c == "." {
                flushOther()
                i += 1
            } else {
                other.unicodeScalars.append(c)
                i += 1
            }
        }
        flushOther()
        return .loose(parts)
    }
}

private func compareVersions(_ a: ParsedVersion, _ b: ParsedVersion) throws -> Int {
    switch (a, b) {
    case (.loose(let x), .loose(let y)):
        if pyEq(.list(x), .list(y)) { return 0 }
        return try pyLess(.list(x), .list(y)) ? -1 : 1
    case (.strict(let v1, let p1), .strict(let v2, let p2)):
        if v1 != v2 { return v1.lexicographicallyPrecedes(v2) ? -1 : 1 }
        switch (p1, p2) {
        case (nil, nil): return 0
        case (.some, nil): return -1
        case (nil, .some): return 1
        case (.some(let x), .some(let y)):
            if x == y { return 0 }
            return (x.0, x.1) < (y.0, y.1) ? -1 : 1
        }
    case (.semver(let c1, let p1), .semver(let c2, let p2)):
        if c1 != c2 { return c1.lexicographicallyPrecedes(c2) ? -1 : 1 }
        if p1.isEmpty && p2.isEmpty { return 0 }
        if p1.isEmpty { return 1 }
        if p2.isEmpty { return -1 }
        for (x, y) in zip(p1, p2) where !pyEq(x, y) {
            switch (x, y) {
            case (.int, .string): return -1
            case (.string, .int): return 1
            default: return try pyLess(x, y) ? -1 : 1
            }
        }
        return p1.count == p2.count ? 0 : p1.count < p2.count ? -1 : 1
    default: return 0
    }
}

func versionCompare(_ value: Value, _ version: Value, op: String, strict: Value?, type: String?) throws -> Bool {
    let ops: [String: String] = [
        "==": "eq", "=": "eq", "eq": "eq", "<": "lt", "lt": "lt", "<=": "le", "le": "le", ">": "gt", "gt": "gt",
        ">=": "ge", "ge": "ge", "!=": "ne", "<>": "ne", "ne": "ne",
    ]
    if let strict, !strict.isNull, type != nil { throw PyError("Cannot specify both 'strict' and 'version_type'") }
    if !value.isTruthy { throw PyError("Input version value cannot be empty") }
    if !version.isTruthy { throw PyError("Version parameter to compare against cannot be empty") }
    var kind = "loose"
    if let strict, strict.isTruthy {
        kind = "strict"
    } else if let type {
        guard ["loose", "strict", "semver", "semantic", "pep440"].contains(type) else {
            throw PyError(
                "Invalid version type (\(type)). Must be one of 'loose', 'strict', 'semver', 'semantic', 'pep440'")
        }
        kind = type == "pep440" ? "loose" : type
    }
    guard let o = ops[op] else {
        throw PyError(
            "Invalid operator type (\(op)). Must be one of '==', '=', 'eq', '<', 'lt', '<=', 'le', '>', 'gt', '>=', "
                + "'ge', '!=', '<>', 'ne'")
    }
    let c: Int
    do {
        if type == "pep440" {
            c = PEP440Version.compare(try PEP440Version(pyStr(value)), try PEP440Version(pyStr(version)))
        } else {
            c = try compareVersions(try parseVersion(pyStr(value), kind), try parseVersion(pyStr(version), kind))
        }
    } catch let e as PyError {
        throw PyError("Version comparison failed: \(e.message)")
    }
    switch o {
    case "eq": return c == 0
    case "ne": return c != 0
    case "lt": return c < 0
    case "le": return c <= 0
    case "gt": return c > 0
    default: return c >= 0
    }
}

/// A PEP 440 version as `packaging.version.Version` parses and orders it (epoch, release without trailing
/// zeros, pre-release, post-release, dev release, local label).
struct PEP440Version {
    /// One ordering component: below everything, a number, a text, or above everything.
    enum Part: Comparable {
        case low
        case text(String)
        case number(Int)
        case high
    }

    var key: [[Part]]

    nonisolated(unsafe) static let pattern = try! NSRegularExpression(
        pattern: #"""
            ^\s*v?(?:([0-9]+)!)?([0-9]+(?:\.[0-9]+)*)\
            ([-_.]?(alpha|a|beta|b|preview|pre|c|rc)[-_.]?([0-9]+)?)?\
            ((?:-([0-9]+))|(?:[-_.]?(post|rev|r)[-_.]?([0-9]+)?))?\
            ([-_.]?(dev)[-_.]?([0-9]+)?)?\
            (?:\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?\s*$
            """#.replacingOccurrences(of: "\\\n", with: ""), options: [.caseInsensitive])

    init(_ text: String) throws {
        let ns = text as NSString
        guard let m = Self.pattern.firstMatch(in: text, range: NSRange(location: 0, length: ns.length)) else {
            throw PyError("Invalid version: \(pythonStringRepr(text))")
        }
        func group(_ i: Int) -> String? {
            let r = m.range(at: i)
            return r.location == NSNotFound ? nil : ns.substring(with: r).lowercased()
        }
        func number(_ s: String?) -> Int { s.flatMap { Int($0) } ?? 0 }
        let epoch = number(group(1))
        var release = (group(2) ?? "0").split(separator: ".").map { Int($0) ?? 0 }
        while release.count > 1, release.last == 0 { release.removeLast() }
        if release == [0] { release = [] }
        var pre: [Part]
        var post: [Part]
        var dev: [Part]
        let hasPre = group(3) != nil
        let hasPost = group(6) != nil
        let hasDev = group(10) != nil
        if hasPre {
            var letter = group(4) ?? ""
            switch letter {
            case "alpha": letter = "a"
            case "beta": letter = "b"
            case "c", "pre", "preview": letter = "rc"
            default: break
            }
            pre = [.text(letter), .number(number(group(5)))]
        } else if !hasPost && hasDev {
            pre = [.low]
        } else {
            pre = [.high]
        }
        if hasPost {
            post = [.number(group(7) != nil ? number(group(7)) : number(group(9)))]
        } else {
            post = [.low]
        }
        dev = hasDev ? [.number(number(group(12)))] : [.high]
        var local: [Part] = [.low]
        if let l = group(13) {
            local = l.split(whereSeparator: { "-_.".contains($0) }).flatMap { p -> [Part] in
                if let i = Int(p) { return [.number(i), .text("")] }
                return [.low, .text(String(p))]
            }
        }
        key = [[.number(epoch)], release.map { .number($0) }, pre, post, dev, local]
    }

    static func compare(_ a: PEP440Version, _ b: PEP440Version) -> Int {
        for (x, y) in zip(a.key, b.key) where x != y {
            return x.lexicographicallyPrecedes(y) ? -1 : 1
        }
        return 0
    }
}

extension Renderer {
    /// `value % 2` as Python fails it for the `even` / `odd` tests on what is not a number.
    func checkModTwo(_ rv: RV, _ v: Value) throws {
        guard PyNumber(v) == nil else { return }
        if v.stringValue != nil { throw PyError("not all arguments converted during string formatting") }
        throw PyError("unsupported operand type(s) for %: '\(pluginInputTypeName(rv))' and 'int'")
    }
}

/// ansible-core's `subset` / `superset` build Python sets: a list or dict element is unhashable (named as the
/// lazy container ansible-core wraps it in).
func checkHashable(_ items: [Value]) throws {
    if let bad = items.first(where: { $0.listValue != nil || $0.dictValue != nil }) {
        throw PyError("unhashable type: '\(lazyTypeName(bad))'")
    }
}
