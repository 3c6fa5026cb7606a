import Foundation
import SwansibleData

/// Arguments bound to a plugin's Python signature.
struct Bound {
    var params: [RV?]
    /// Extra positional arguments (`*args`).
    var rest: [RV]
    /// Extra keyword arguments (`**kwargs`).
    var extra: [(String, RV)]

    subscript(_ i: Int) -> RV? { i < params.count ? params[i] : nil }
}

/// A Python-style signature: parameter names, and whether `*args` / `**kwargs` are accepted.
struct Signature: Sendable {
    var fn: String
    var names: [String]
    var required: Int = 0
    var varargs = false
    var varkw = false

    func bind(_ args: Renderer.Args) throws -> Bound {
        var params = [RV?](repeating: nil, count: names.count)
        var rest: [RV] = []
        for (i, a) in args.positional.enumerated() {
            if i < names.count {
                params[i] = a
            } else if varargs {
                rest.append(a)
            } else {
                let given = args.positional.count + 1
                let takes = names.count + 1
                throw PyError(
                    "\(fn)() takes \(takes) positional argument\(takes == 1 ? "" : "s") but \(given) were given")
            }
        }
        var extra: [(String, RV)] = []
        for (k, v) in args.keywords {
            if let i = names.firstIndex(of: k) {
                if params[i] != nil { throw PyError("\(fn)() got multiple values for argument '\(k)'") }
                params[i] = v
            } else if varkw {
                extra.append((k, v))
            } else {
                throw PyError("\(fn)() got an unexpected keyword argument '\(k)'")
            }
        }
        for i in 0..<required where params[i] == nil {
            throw PyError("\(fn)() missing 1 required positional argument: '\(names[i])'")
        }
        return Bound(params: params, rest: rest, extra: extra)
    }
}

extension Renderer {
    /// `str(x)` of a runtime value (Jinja2's `soft_str`, ansible's `to_text`).
    func text(_ rv: RV) throws -> String {
        if case .object(let o) = rv { return o.text }
        return pyStr(try concrete(rv))
    }

    /// An optional concrete argument.
    func value(_ rv: RV?) throws -> Value? {
        guard let rv else { return nil }
        return try concrete(rv)
    }

    /// Python's `int(x)` on an argument.
    func intArg(_ rv: RV?, _ name: String, default dflt: Int) throws -> Int {
        guard let v = try value(rv) else { return dflt }
        switch PyNumber(v) {
        case .int(let i)?: return i
        case .float(let d)?:
            guard d.isFinite else { throw PyError("cannot convert float \(pythonFloatRepr(d)) to integer") }
            guard Swift.abs(d) < 9.2e18 else { throw PyError("integer overflow (beyond 64 bits)") }
            return Int(d)
        case nil:
            if let s = v.stringValue, let i = pyParseInt(s, base: 10) { return i }
            throw PyError("'\(v.pythonTypeName)' object cannot be interpreted as an integer")
        }
    }

    func boolArg(_ rv: RV?, default dflt: Bool) throws -> Bool {
        guard let v = try value(rv) else { return dflt }
        return v.isTruthy
    }

    func stringArg(_ rv: RV?, default dflt: String?) throws -> String? {
        guard let v = try value(rv) else { return dflt }
        if v.isNull { return dflt }
        return pyStr(v)
    }

    /// Python's `list(x)` of a runtime value, lazily wrapping children of lazy containers.
    func listItems(_ rv: RV) throws -> [RV] { try iterate(rv) }

    /// The concrete elements of an iterable.
    func concreteItems(_ rv: RV) throws -> [Value] {
        switch rv {
        case .value(.list(let l)): return l
        default: return try iterate(rv).map { try concrete($0) }
        }
    }

    /// Jinja2's attribute getter (`make_attrgetter`): dotted path, integer parts as indexes.
    func attrGetter(_ attribute: Value?) -> (RV) throws -> RV {
        guard let attribute, !attribute.isNull else { return { $0 } }
        let parts: [Value]
        if let s = attribute.stringValue {
            parts = s.split(separator: ".", omittingEmptySubsequences: false).map { p in
                let part = String(p)
                if !part.isEmpty, part.unicodeScalars.allSatisfy({ $0.properties.numericType == .decimal }),
                    let i = Int(part)
                {
                    return .int(i)
                }
                return .string(part)
            }
        } else {
            parts = [attribute]
        }
        return { [unowned self] item in
            var cur = item
            for p in parts { cur = try self.getItem(cur, .value(p)) }
            return cur
        }
    }
}

/// Python `int(str, base)`: whitespace, sign, underscores between digits, base prefixes.
func pyParseInt(_ text: String, base: Int) -> Int? {
    var s = Substring(TemplateEngine.strip(text))
    var negative = false
    if s.first == "+" || s.first == "-" {
        negative = s.first == "-"
        s = s.dropFirst()
    }
    var b = base
    let lower = s.lowercased()
    if (b == 16 || b == 0) && lower.hasPrefix("0x") {
        b = 16
        s = s.dropFirst(2)
    } else if (b == 8 || b == 0) && lower.hasPrefix("0o") {
        b = 8
        s = s.dropFirst(2)
    } else if (b == 2 || b == 0) && lower.hasPrefix("0b") {
        b = 2
        s = s.dropFirst(2)
    } else if b == 0 {
        b = 10
        if s.count > 1 && s.allSatisfy({ $0 == "0" || $0 == "_" }) { return 0 }
        if s.first == "0" && s.count > 1 { return nil }
    }
    if s.hasPrefix("_") { s = s.dropFirst() }
    guard !s.isEmpty, !s.hasSuffix("_"), !s.contains("__") else { return nil }
    var digits = ""
    for c in s where c != "_" {
        // Python accepts any Unicode decimal digit.
        if let d = c.wholeNumberValue, c.unicodeScalars.count == 1,
            c.unicodeScalars.first!.properties.numericType == .decimal
        {
            digits.append(String(d))
        } else {
            digits.append(c)
        }
    }
    guard b >= 2 && b <= 36, let v = Int(digits, radix: b) else { return nil }
    return negative ? -v : v
}

/// Python `float(str)`.
func pyParseFloat(_ text: String) -> Double? {
    let s = TemplateEngine.strip(text).lowercased()
    var body = Substring(s)
    var sign = 1.0
    if body.first == "+" || body.first == "-" {
        if body.first == "-" { sign = -1 }
        body = body.dropFirst()
    }
    switch body {
    case "inf", "infinity": return sign * .infinity
    case "nan": return .nan
    default: break
    }
    guard !body.isEmpty, !body.hasPrefix("_"), !body.hasSuffix("_"), !body.contains("__") else { return nil }
    let cleaned = body.replacingOccurrences(of: "_", with: "")
    // Only decimal syntax: digits, one point, exponent.
    var sawDigit = false
    var sawPoint = false
    var sawExp = false
    var previous: Character = " "
    for c in cleaned {
        if c.isASCII && c.isNumber {
            sawDigit = true
        } else if c == "." && !sawPoint && !sawExp {
            sawPoint = true
        } else if c == "e" && sawDigit && !sawExp {
            sawExp = true
        } else if (c == "+" || c == "-") && previous == "e" {
        } else {
            return nil
        }
        previous = c
    }
    guard sawDigit, let d = Double(cleaned) else { return nil }
    return sign * d
}
