import Foundation
import SwansibleData

/// Python's behaviour for the operations Jinja2 delegates to it: `str()`, `repr()`, `==`, ordering, arithmetic.
/// Messages are CPython 3.11's.

/// A Python exception raised by an operation, filter or method (its message, as `str(exc)` gives it).
struct PyError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

/// `str(value)`.
func pyStr(_ v: Value) -> String {
    switch v {
    case .string(let s), .unsafe(let s): return s
    default: return pyRepr(v)
    }
}

/// `repr(value)`.
func pyRepr(_ v: Value) -> String { v.pythonRepr }

/// The Python type name, as error messages print it.
func pyTypeName(_ v: Value) -> String { v.pythonTypeName }

/// The largest string or list a repetition or padding may build (Python would run out of memory).
let maxResultSize = 50_000_000

func checkSize(_ n: Int) throws(PyError) {
    if n > maxResultSize { throw PyError("MemoryError: result of \(n) items is too large") }
}

/// A number as Python sees it: bool is an int.
enum PyNumber {
    case int(Int)
    case float(Double)

    init?(_ v: Value) {
        switch v {
        case .bool(let b): self = .int(b ? 1 : 0)
        case .int(let i): self = .int(i)
        case .float(let d): self = .float(d)
        default: return nil
        }
    }

    var double: Double {
        switch self {
        case .int(let i): return Double(i)
        case .float(let d): return d
        }
    }
}

/// Python `==`.
func pyEq(_ a: Value, _ b: Value) -> Bool {
    if let x = PyNumber(a), let y = PyNumber(b) {
        switch (x, y) {
        case (.int(let i), .int(let j)): return i == j
        default: return x.double == y.double
        }
    }
    switch (a, b) {
    case (.null, .null): return true
    case (.list(let l), .list(let r)):
        guard l.count == r.count else { return false }
        for i in l.indices where !pyEq(l[i], r[i]) { return false }
        return true
    case (.dict(let l), .dict(let r)):
        guard l.count == r.count else { return false }
        for (k, v) in l {
            guard let w = r[k], pyEq(v, w) else { return false }
        }
        return true
    default:
        if let s = a.stringValue, let t = b.stringValue { return s == t }
        return false
    }
}

/// Python ordering: numbers, strings by code point, lists lexicographically; anything else is a TypeError
/// (`names` are the operands' type names for the message, when they differ from the plain ones).
func pyCompare(_ a: Value, _ b: Value, _ op: String, names: (String, String)? = nil) throws(PyError) -> Int {
    if let x = PyNumber(a), let y = PyNumber(b) {
        if case (.int(let i), .int(let j)) = (x, y) { return i < j ? -1 : i == j ? 0 : 1 }
        let (p, q) = (x.double, y.double)
        if p.isNaN || q.isNaN { return 2 }  // unordered: every comparison is false
        return p < q ? -1 : p == q ? 0 : 1
    }
    if let s = a.stringValue, let t = b.stringValue {
        if s == t { return 0 }
        return s.unicodeScalars.lexicographicallyPrecedes(t.unicodeScalars) ? -1 : 1
    }
    if case .list(let l) = a, case .list(let r) = b {
        for i in 0..<min(l.count, r.count) where !pyEq(l[i], r[i]) {
            return try pyCompare(l[i], r[i], op)
        }
        return l.count < r.count ? -1 : l.count == r.count ? 0 : 1
    }
    let (an, bn) = names ?? (pyTypeName(a), pyTypeName(b))
    throw PyError("'\(op)' not supported between instances of '\(an)' and '\(bn)'")
}

func pyLess(_ a: Value, _ b: Value) throws(PyError) -> Bool { try pyCompare(a, b, "<") == -1 }

/// Python `x in container`.
func pyContains(_ container: Value, _ item: Value, names: (String, String)? = nil) throws(PyError) -> Bool {
    let (containerName, itemName) = names ?? (pyTypeName(container), pyTypeName(item))
    switch container {
    case .string(let s), .unsafe(let s):
        guard let needle = item.stringValue else {
            throw PyError("'in <string>' requires string as left operand, not \(itemName)")
        }
        return needle.isEmpty || s.contains(needle)
    case .list(let l): return l.contains { pyEq($0, item) }
    case .dict(let d):
        switch item {
        case .list, .dict: throw PyError("unhashable type: '\(pyTypeName(item))'")
        default:
            guard let key = dictKey(item) else { return false }
            return d[key] != nil
        }
    default:
        throw PyError("argument of type '\(containerName)' is not iterable")
    }
}

/// The string key a scalar maps to in our string-keyed dicts (Python would keep `1` and `'1'` apart).
func dictKey(_ v: Value) -> String? {
    switch v {
    case .string(let s), .unsafe(let s): return s
    case .int, .float, .bool, .null: return pyStr(v)
    default: return nil
    }
}

private func overflow() -> PyError { PyError("integer overflow (beyond 64 bits)") }

func pyArith(_ op: BinOp, _ a: Value, _ b: Value, names: (String, String)? = nil) throws(PyError) -> Value {
    if let x = PyNumber(a), let y = PyNumber(b) { return try numberArith(op, x, y) }
    let (an, bn) = names ?? (pyTypeName(a), pyTypeName(b))
    switch op {
    case .add:
        if let s = a.stringValue, let t = b.stringValue { return .string(s + t) }
        if case .list(let l) = a, case .list(let r) = b { return .list(l + r) }
        if a.isString, !b.isString { throw PyError("can only concatenate str (not \"\(bn)\") to str") }
        if case .list = a { throw PyError("can only concatenate list (not \"\(bn)\") to list") }
    case .mul:
        if let s = a.stringValue, case .int(let n) = PyNumber(b) {
            if n > 0 { try checkSize(s.utf8.count.multipliedReportingOverflow(by: n).overflow ? Int.max : s.utf8.count * n) }
            return .string(n > 0 ? String(repeating: s, count: n) : "")
        }
        if case .int(let n) = PyNumber(a), let s = b.stringValue {
            if n > 0 { try checkSize(s.utf8.count.multipliedReportingOverflow(by: n).overflow ? Int.max : s.utf8.count * n) }
            return .string(n > 0 ? String(repeating: s, count: n) : "")
        }
        if case .list(let l) = a, case .int(let n) = PyNumber(b) {
            if n > 0 { try checkSize(l.count.multipliedReportingOverflow(by: n).overflow ? Int.max : l.count * n) }
            return .list(repeatList(l, n))
        }
        if case .int(let n) = PyNumber(a), case .list(let l) = b {
            if n > 0 { try checkSize(l.count.multipliedReportingOverflow(by: n).overflow ? Int.max : l.count * n) }
            return .list(repeatList(l, n))
        }
        // ansible-core's lazy list (variable data) repeats itself through `operator.index`, which words it so.
        let lazyList = "_AnsibleLazyTemplateList"
        if a.listValue != nil && an == lazyList { throw PyError("'\(bn)' object cannot be interpreted as an integer") }
        if b.listValue != nil && bn == lazyList { throw PyError("'\(an)' object cannot be interpreted as an integer") }
        if a.isString || b.isString || a.listValue != nil || b.listValue != nil {
            let other = a.isString || a.listValue != nil ? bn : an
            throw PyError("can't multiply sequence by non-int of type '\(other)'")
        }
    case .mod:
        if let s = a.stringValue {
            // A list from variable data is a Python list, never a tuple: one argument, and (having the mapping
            // protocol) exempt from "not all arguments converted".
            return .string(try pyPercentFormat(s, b, listIsOneArgument: bn == "_AnsibleLazyTemplateList"))
        }
    default: break
    }
    throw PyError("unsupported operand type(s) for \(op.rawValue): '\(an)' and '\(bn)'")
}

private func repeatList(_ l: [Value], _ n: Int) -> [Value] {
    guard n > 0 else { return [] }
    var out: [Value] = []
    out.reserveCapacity(l.count * n)
    for _ in 0..<n { out.append(contentsOf: l) }
    return out
}

private func floorDiv(_ a: Int, _ b: Int) -> Int {
    let q = a / b
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q
}

func pyMod(_ a: Double, _ b: Double) -> Double {
    let r = a.truncatingRemainder(dividingBy: b)
    if r != 0 && ((r < 0) != (b < 0)) { return r + b }
    return r == 0 ? (b < 0 ? -0.0 : 0.0) : r
}

private func numberArith(_ op: BinOp, _ x: PyNumber, _ y: PyNumber) throws(PyError) -> Value {
    if case (.int(let a), .int(let b)) = (x, y) {
        switch op {
        case .add:
            let (r, o) = a.addingReportingOverflow(b)
            if o { throw overflow() }
            return .int(r)
        case .sub:
            let (r, o) = a.subtractingReportingOverflow(b)
            if o { throw overflow() }
            return .int(r)
        case .mul:
            let (r, o) = a.multipliedReportingOverflow(by: b)
            if o { throw overflow() }
            return .int(r)
        case .div:
            if b == 0 { throw PyError("division by zero") }
            return .float(Double(a) / Double(b))
        case .floordiv:
            if b == 0 { throw PyError("integer division or modulo by zero") }
            if a == .min && b == -1 { throw overflow() }
            return .int(floorDiv(a, b))
        case .mod:
            if b == 0 { throw PyError("integer modulo by zero") }
            if b == -1 { return .int(0) }
            let r = a % b
            return .int(r != 0 && ((r < 0) != (b < 0)) ? r + b : r)
        case .pow:
            if b < 0 { return .float(pow(Double(a), Double(b))) }
            var result = 1
            var base = a
            var e = b
            while e > 0 {
                if e & 1 == 1 {
                    let (r, o) = result.multipliedReportingOverflow(by: base)
                    if o { throw overflow() }
                    result = r
                }
                e >>= 1
                if e > 0 {
                    let (sq, o) = base.multipliedReportingOverflow(by: base)
                    if o { throw overflow() }
                    base = sq
                }
            }
            return .int(result)
        }
    }
    let a = x.double
    let b = y.double
    switch op {
    case .add: return .float(a + b)
    case .sub: return .float(a - b)
    case .mul: return .float(a * b)
    case .div:
        if b == 0 { throw PyError("float division by zero") }
        return .float(a / b)
    case .floordiv:
        if b == 0 { throw PyError("float floor division by zero") }
        return .float((a - pyMod(a, b)) / b)
    case .mod:
        if b == 0 { throw PyError("float modulo") }
        return .float(pyMod(a, b))
    case .pow:
        if a == 0 && b < 0 { throw PyError("0.0 cannot be raised to a negative power") }
        let r = pow(a, b)
        if r.isNaN && !a.isNaN && !b.isNaN { throw PyError("math domain error") }
        return .float(r)
    }
}

/// Unary minus and plus.
func pyNeg(_ v: Value, plus: Bool = false, name: String? = nil) throws(PyError) -> Value {
    switch PyNumber(v) {
    case .int(let i)?:
        if plus { return .int(i) }
        if i == .min { throw overflow() }
        return .int(-i)
    case .float(let d)?: return .float(plus ? d : -d)
    case nil: throw PyError("bad operand type for unary \(plus ? "+" : "-"): '\(name ?? pyTypeName(v))'")
    }
}

/// Python's `%` string formatting (`'%s-%02d' % (a, b)`), for the common conversions.
func pyPercentFormat(_ format: String, _ arg: Value, listIsOneArgument: Bool = false) throws(PyError) -> String {
    var args: [Value]
    var mapping: ValueDict? = nil
    switch arg {
    case .list(let l): args = listIsOneArgument ? [arg] : l
    case .dict(let d):
        args = [arg]
        mapping = d
    default: args = [arg]
    }
    var out = ""
    var argIndex = 0
    let s = Array(format.unicodeScalars)
    var i = 0
    func nextArg() throws(PyError) -> Value {
        guard argIndex < args.count else { throw PyError("not enough arguments for format string") }
        defer { argIndex += 1 }
        return args[argIndex]
    }
    while i < s.count {
        let c = s[i]
        guard c == "%" else {
            out.unicodeScalars.append(c)
            i += 1
            continue
        }
        i += 1
        guard i < s.count else { throw PyError("incomplete format") }
        var key: String? = nil
        if s[i] == "(" {
            var depth = 1
            var j = i + 1
            while j < s.count, depth > 0 {
                if s[j] == "(" { depth += 1 } else if s[j] == ")" { depth -= 1 }
                j += 1
            }
            guard depth == 0 else { throw PyError("incomplete format key") }
            key = String(String.UnicodeScalarView(s[(i + 1)..<(j - 1)]))
            i = j
        }
        var flags = ""
        while i < s.count, "-+ #0".unicodeScalars.contains(s[i]) {
            flags.unicodeScalars.append(s[i])
            i += 1
        }
        var width: Int? = nil
        if i < s.count, s[i] == "*" {
            guard case .int(let w) = PyNumber(try nextArg()) else { throw PyError("* wants int") }
            width = w
            i += 1
        } else {
            var w = ""
            while i < s.count, s[i].properties.numericType != nil, s[i].isASCII {
                w.unicodeScalars.append(s[i])
                i += 1
            }
            width = Int(w)
        }
        var precision: Int? = nil
        if i < s.count, s[i] == "." {
            i += 1
            var p = ""
            while i < s.count, s[i].properties.numericType != nil, s[i].isASCII {
                p.unicodeScalars.append(s[i])
                i += 1
            }
            precision = Int(p) ?? 0
        }
        while i < s.count, "hlL".unicodeScalars.contains(s[i]) { i += 1 }
        guard i < s.count else { throw PyError("incomplete format") }
        let conv = s[i]
        i += 1
        if conv == "%" {
            out += "%"
            continue
        }
        let value: Value
        if let key {
            guard let mapping else { throw PyError("format requires a mapping") }
            guard let v = mapping[key] else { throw PyError("'\(key)'") }  // KeyError
            value = v
        } else {
            value = try nextArg()
        }
        out += try formatOne(conv: Character(conv), value: value, flags: flags, width: width, precision: precision)
    }
    if mapping == nil && !listIsOneArgument && argIndex < args.count {
        throw PyError("not all arguments converted during string formatting")
    }
    return out
}

private func formatOne(conv: Character, value: Value, flags: String, width: Int?, precision: Int?) throws(PyError)
    -> String
{
    if let precision { try checkSize(precision) }
    var body: String
    var numeric = false
    var negative = false
    switch conv {
    case "s", "r", "a":
        body = conv == "s" ? pyStr(value) : pyRepr(value)
        if let precision { body = String(body.prefix(precision)) }
    case "d", "i", "u":
        numeric = true
        switch PyNumber(value) {
        case .int(let n)?:
            negative = n < 0
            body = String(n.magnitude)
        case .float(let d)?:
            guard d.isFinite else { throw PyError("cannot convert float \(pythonFloatRepr(d)) to integer") }
            negative = d < 0
            body = d.magnitude < 9.2e18 ? String(Int(d.magnitude.rounded(.towardZero))) : fixedDigits(d.magnitude, 0)
        case nil: throw PyError("%\(conv) format: a real number is required, not \(pyTypeName(value))")
        }
    case "x", "X", "o":
        numeric = true
        guard case .int(let n) = PyNumber(value) else {
            throw PyError("%\(conv) format: an integer is required, not \(pyTypeName(value))")
        }
        negative = n < 0
        body = String(n.magnitude, radix: conv == "o" ? 8 : 16, uppercase: conv == "X")
        if flags.contains("#") { body = (conv == "o" ? "0o" : conv == "x" ? "0x" : "0X") + body }
    case "f", "F", "e", "E", "g", "G":
        numeric = true
        guard let n = PyNumber(value) else {
            throw PyError("must be real number, not \(pyTypeName(value))")
        }
        let d = n.double
        negative = d < 0 || (d == 0 && d.sign == .minus)
        body = formatFloat(d.magnitude, conv: conv, precision: precision ?? 6, alternate: flags.contains("#"))
    case "c":
        if case .int(let n) = PyNumber(value), let u = Unicode.Scalar(UInt32(clamping: n)) {
            body = String(Character(u))
        } else if let s = value.stringValue, s.unicodeScalars.count == 1 {
            body = s
        } else {
            throw PyError("%c requires int or char")
        }
    default:
        throw PyError(
            "unsupported format character '\(conv)' (0x\(String(conv.unicodeScalars.first!.value, radix: 16)))")
    }
    if numeric {
        let sign = negative ? "-" : flags.contains("+") ? "+" : flags.contains(" ") ? " " : ""
        if flags.contains("0") && !flags.contains("-"), let width, sign.count + body.count < width {
            try checkSize(width)
            body = String(repeating: "0", count: width - sign.count - body.count) + body
        }
        body = sign + body
    }
    if let width, body.count < width {
        try checkSize(width)
        let pad = String(repeating: " ", count: width - body.count)
        body = flags.contains("-") ? body + pad : pad + body
    }
    return body
}

/// `%f`/`%e`/`%g` formatting of a non-negative double.
func formatFloat(_ d: Double, conv: Character, precision: Int, alternate: Bool = false) -> String {
    if d.isNaN { return conv.isUppercase ? "NAN" : "nan" }
    if d.isInfinite { return conv.isUppercase ? "INF" : "inf" }
    switch conv {
    case "f", "F": return fixedDigits(d, precision)
    case "e", "E":
        let s = expDigits(d, precision)
        return conv == "E" ? s.uppercased() : s
    default:
        let p = precision == 0 ? 1 : precision
        if d == 0 { return alternate ? "0." + String(repeating: "0", count: p - 1) : "0" }
        let e = decimalExponent(d, significant: p)
        var s: String
        if e < -4 || e >= p {
            s = expDigits(d, p - 1)
            if !alternate, let ePos = s.firstIndex(of: "e") {
                var mant = String(s[..<ePos])
                if mant.contains(".") {
                    while mant.hasSuffix("0") { mant.removeLast() }
                    if mant.hasSuffix(".") { mant.removeLast() }
                }
                s = mant + s[ePos...]
            }
        } else {
            s = fixedDigits(d, max(p - 1 - e, 0))
            if !alternate && s.contains(".") {
                while s.hasSuffix("0") { s.removeLast() }
                if s.hasSuffix(".") { s.removeLast() }
            }
        }
        return conv == "G" ? s.uppercased() : s
    }
}

/// The decimal exponent of `d` once rounded to `significant` digits.
private func decimalExponent(_ d: Double, significant: Int) -> Int {
    let s = expDigits(d, significant - 1)
    guard let ePos = s.firstIndex(of: "e") else { return 0 }
    return Int(s[s.index(after: ePos)...]) ?? 0
}

/// Exact decimal expansion of a double, as digits and a decimal point position (value = 0.DIGITS × 10^point).
private func exactDecimal(_ d: Double) -> (digits: [UInt8], point: Int) {
    // d = m × 2^e exactly.
    guard d > 0 else { return ([0], 1) }
    let e = Int(d.exponent) - 52
    var m = d.significandBitPattern | (d.isNormal ? (1 << 52) : 0)
    var exp2 = d.isNormal ? e : -1074
    while m & 1 == 0 && m != 0 {
        m >>= 1
        exp2 += 1
    }
    // Big decimal as an array of digits (most significant first).
    var digits: [UInt8] = Array(String(m).utf8.map { $0 - 48 })
    var point = digits.count
    if exp2 > 0 {
        for _ in 0..<exp2 {
            // multiply by 2
            var carry: UInt8 = 0
            for i in stride(from: digits.count - 1, through: 0, by: -1) {
                let v = digits[i] * 2 + carry
                digits[i] = v % 10
                carry = v / 10
            }
            if carry > 0 {
                digits.insert(carry, at: 0)
                point += 1
            }
        }
    } else if exp2 < 0 {
        for _ in 0..<(-exp2) {
            // divide by 2: multiply by 5 and shift the point left by one
            var carry: UInt8 = 0
            for i in stride(from: digits.count - 1, through: 0, by: -1) {
                let v = digits[i] * 5 + carry
                digits[i] = v % 10
                carry = v / 10
            }
            if carry > 0 {
                digits.insert(carry, at: 0)
                point += 1
            }
            point -= 1
        }
    }
    while digits.count > 1 && digits.first == 0 {
        digits.removeFirst()
        point -= 1
    }
    return (digits, point)
}

/// Rounds digit array to `count` digits (half-even on exact ties, as correctly rounded printf does).
private func roundDigits(_ digits: [UInt8], keep count: Int) -> (digits: [UInt8], carried: Bool) {
    if count >= digits.count { return (digits + [UInt8](repeating: 0, count: count - digits.count), false) }
    if count < 0 { return ([], false) }
    var kept = Array(digits[0..<count])
    let next = digits[count]
    let restNonZero = digits[(count + 1)...].contains { $0 != 0 }
    var roundUp = next > 5 || (next == 5 && (restNonZero || (kept.last.map { $0 % 2 == 1 } ?? false)))
    if count == 0 { roundUp = next > 5 || (next == 5 && restNonZero) }
    guard roundUp else { return (kept, false) }
    var i = kept.count - 1
    while i >= 0 {
        if kept[i] == 9 {
            kept[i] = 0
            i -= 1
        } else {
            kept[i] += 1
            return (kept, false)
        }
    }
    return ([1] + kept, true)
}

func fixedDigits(_ d: Double, _ precision: Int) -> String {
    let (digits, point) = exactDecimal(d)
    // Keep `point + precision` digits.
    var (rounded, carried) = roundDigits(digits, keep: point + precision)
    var intCount = point + (carried ? 1 : 0)
    if point + precision < 0 { (rounded, intCount) = ([], 0) }
    var intPart = ""
    var fracPart = ""
    if intCount <= 0 {
        intPart = "0"
        let zeros = min(-intCount, precision)
        fracPart = String(repeating: "0", count: zeros) + rounded.map { String($0) }.joined()
    } else {
        intPart = rounded.prefix(intCount).map { String($0) }.joined()
        fracPart = rounded.dropFirst(intCount).map { String($0) }.joined()
    }
    if intPart.isEmpty { intPart = "0" }
    if fracPart.count < precision { fracPart += String(repeating: "0", count: precision - fracPart.count) }
    if fracPart.count > precision { fracPart = String(fracPart.prefix(precision)) }
    return precision > 0 ? intPart + "." + fracPart : intPart
}

func expDigits(_ d: Double, _ precision: Int) -> String {
    if d == 0 { return (precision > 0 ? "0." + String(repeating: "0", count: precision) : "0") + "e+00" }
    let (digits, point) = exactDecimal(d)
    var (rounded, carried) = roundDigits(digits, keep: precision + 1)
    var exponent = point - 1
    if carried {
        exponent += 1
        rounded.removeLast()
    }
    let mant = rounded.map { String($0) }
    var s = mant[0]
    if precision > 0 { s += "." + mant[1...].joined() }
    let mag = abs(exponent)
    return s + (exponent < 0 ? "e-" : "e+") + (mag < 10 ? "0" : "") + String(mag)
}

/// Python's `round(x, n)` (round-half-even on the exact binary value) for floats.
func pyRound(_ d: Double, _ n: Int) -> Double {
    guard d.isFinite else { return d }
    if n > 300 { return d }
    if n < -330 { return 0 * d }
    let s = fixedDigitsSigned(d, max(n, 0))
    if n >= 0 { return Double(s) ?? d }
    // Negative precision: round to tens, hundreds…
    var scale = 1.0
    for _ in 0..<(-n) { scale *= 10 }
    let scaled = d / scale
    var r = scaled.rounded(.toNearestOrEven)
    if abs(scaled - scaled.rounded(.towardZero)) != 0.5 { r = scaled.rounded() }
    return r * scale
}

private func fixedDigitsSigned(_ d: Double, _ precision: Int) -> String {
    let body = fixedDigits(d.magnitude, precision)
    return (d.sign == .minus ? "-" : "") + body
}
