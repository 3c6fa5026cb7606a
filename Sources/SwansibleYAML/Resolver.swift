// Implicit tag resolution and scalar construction as PyYAML's `Resolver` and `SafeConstructor` do it
// (YAML 1.1 rules), which is what ansible-core's `AnsibleLoader` uses.

import SwansibleData

/// A tag a node is constructed as: the standard ones PyYAML and ansible-core know, or another.
enum TagKind: Hashable, Sendable {
    case null, bool, int, float, str, timestamp, merge, value, yaml, binary, seq, map, set, omap, pairs
    case pythonDict, pythonUnicode
    case other(String)

    private static let prefix = "tag:yaml.org,2002:"
    private static let standard: [String: TagKind] = [
        "null": .null, "bool": .bool, "int": .int, "float": .float, "str": .str, "timestamp": .timestamp,
        "merge": .merge, "value": .value, "yaml": .yaml, "binary": .binary, "seq": .seq, "map": .map, "set": .set,
        "omap": .omap, "pairs": .pairs, "python/dict": .pythonDict, "python/unicode": .pythonUnicode,
    ]

    /// The kind of a tag as libyaml reports it (`tag:yaml.org,2002:str` for `!!str`).
    init(_ tag: String) {
        if tag.hasPrefix(TagKind.prefix), let known = TagKind.standard[String(tag.dropFirst(TagKind.prefix.count))] {
            self = known
        } else {
            self = .other(tag)
        }
    }

    /// The full tag.
    var string: String {
        switch self {
        case .null: return "tag:yaml.org,2002:null"
        case .bool: return "tag:yaml.org,2002:bool"
        case .int: return "tag:yaml.org,2002:int"
        case .float: return "tag:yaml.org,2002:float"
        case .str: return "tag:yaml.org,2002:str"
        case .timestamp: return "tag:yaml.org,2002:timestamp"
        case .merge: return "tag:yaml.org,2002:merge"
        case .value: return "tag:yaml.org,2002:value"
        case .yaml: return "tag:yaml.org,2002:yaml"
        case .binary: return "tag:yaml.org,2002:binary"
        case .seq: return "tag:yaml.org,2002:seq"
        case .map: return "tag:yaml.org,2002:map"
        case .set: return "tag:yaml.org,2002:set"
        case .omap: return "tag:yaml.org,2002:omap"
        case .pairs: return "tag:yaml.org,2002:pairs"
        case .pythonDict: return "tag:yaml.org,2002:python/dict"
        case .pythonUnicode: return "tag:yaml.org,2002:python/unicode"
        case .other(let tag): return tag
        }
    }

    /// Tags whose constructor wants a scalar node.
    var isScalarTag: Bool {
        switch self {
        case .null, .bool, .int, .float, .str, .timestamp, .binary, .pythonUnicode: return true
        default: return false
        }
    }
}

private let d0 = UInt8(ascii: "0"), d9 = UInt8(ascii: "9"), d5 = UInt8(ascii: "5"), d7 = UInt8(ascii: "7")
private let underscore = UInt8(ascii: "_"), dot = UInt8(ascii: "."), colon = UInt8(ascii: ":")
private let plus = UInt8(ascii: "+"), minus = UInt8(ascii: "-")

@inline(__always) private func isDigit(_ c: UInt8) -> Bool { c >= d0 && c <= d9 }

/// PyYAML's implicit resolver for a plain scalar: the first matching regular expression among those
/// registered for the value's first character, in registration order (bool, float, int, merge, null,
/// timestamp, value, yaml). Python's `$` also matches before one final newline, so a value ending in
/// `\n` resolves like the value without it.
func resolveImplicit(_ bytes: UnsafeBufferPointer<UInt8>) -> TagKind {
    let type = resolveExact(bytes)
    if type == .str, let last = bytes.last, last == UInt8(ascii: "\n") {
        return resolveExact(UnsafeBufferPointer(rebasing: bytes.dropLast()))
    }
    return type
}

func resolveImplicit(_ text: String) -> TagKind {
    var text = text
    return text.withUTF8 { resolveImplicit($0) }
}

private func resolveExact(_ b: UnsafeBufferPointer<UInt8>) -> TagKind {
    guard let first = b.first else { return .null }
    switch first {
    case UInt8(ascii: "y"), UInt8(ascii: "Y"), UInt8(ascii: "n"), UInt8(ascii: "N"),
        UInt8(ascii: "t"), UInt8(ascii: "T"), UInt8(ascii: "f"), UInt8(ascii: "F"),
        UInt8(ascii: "o"), UInt8(ascii: "O"):
        if b.count <= 5 && isBoolWord(b) { return .bool }
        if (first == UInt8(ascii: "n") || first == UInt8(ascii: "N")) && isNullWord(b) { return .null }
        return .str
    case UInt8(ascii: "~"):
        return b.count == 1 ? .null : .str
    case UInt8(ascii: "<"):
        return b.count == 2 && b[1] == UInt8(ascii: "<") ? .merge : .str
    case UInt8(ascii: "="):
        return b.count == 1 ? .value : .str
    case UInt8(ascii: "!"), UInt8(ascii: "&"), UInt8(ascii: "*"):
        return b.count == 1 ? .yaml : .str
    case plus, minus, dot, d0...d9:
        if matchesFloat(b) { return .float }
        if first != dot && matchesInt(b) { return .int }
        if isDigit(first) && matchesTimestamp(b) { return .timestamp }
        return .str
    default:
        return .str
    }
}

private func equals(_ b: UnsafeBufferPointer<UInt8>, _ word: StaticString) -> Bool {
    guard b.count == word.utf8CodeUnitCount else { return false }
    let w = word.utf8Start
    for i in 0..<b.count where b[i] != w[i] { return false }
    return true
}

private func isBoolWord(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
    let words: [StaticString] = [
        "yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE",
        "on", "On", "ON", "off", "Off", "OFF",
    ]
    for w in words where equals(b, w) { return true }
    return false
}

private func isNullWord(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
    equals(b, "null") || equals(b, "Null") || equals(b, "NULL")
}

/// `[0-9][0-9_]*` or `[0-9_]*` from `i`; returns the end index.
private func scanDigitsUnderscore(_ b: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int {
    var j = i
    while j < b.count, isDigit(b[j]) || b[j] == underscore { j += 1 }
    return j
}

/// `(?::[0-5]?[0-9])+` from `i`; returns the end index, or nil when there is no group.
private func scanSexagesimalGroups(_ b: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int? {
    var j = i
    var groups = 0
    while j < b.count, b[j] == colon {
        var k = j + 1
        if k + 1 < b.count, b[k] >= d0, b[k] <= d5, isDigit(b[k + 1]) {
            k += 2
        } else if k < b.count, isDigit(b[k]) {
            k += 1
        } else {
            break
        }
        j = k
        groups += 1
    }
    return groups > 0 ? j : nil
}

/// `(?:[eE][-+][0-9]+)?$` from `i`.
private func exponentThenEnd(_ b: UnsafeBufferPointer<UInt8>, _ i: Int) -> Bool {
    if i == b.count { return true }
    guard b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") else { return false }
    guard i + 1 < b.count, b[i + 1] == plus || b[i + 1] == minus else { return false }
    var j = i + 2
    guard j < b.count, isDigit(b[j]) else { return false }
    while j < b.count, isDigit(b[j]) { j += 1 }
    return j == b.count
}

/// PyYAML's float expression:
/// `[-+]?[0-9][0-9_]*\.[0-9_]*([eE][-+][0-9]+)?` | `\.[0-9][0-9_]*([eE][-+][0-9]+)?` |
/// `[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*` | `[-+]?\.(inf|Inf|INF)` | `\.(nan|NaN|NAN)`.
private func matchesFloat(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
    var i = 0
    let signed = b[0] == plus || b[0] == minus
    if signed { i = 1 }
    guard i < b.count else { return false }
    if b[i] == dot {
        let rest = UnsafeBufferPointer(rebasing: b[(i + 1)...])
        if equals(rest, "inf") || equals(rest, "Inf") || equals(rest, "INF") { return true }
        if !signed && (equals(rest, "nan") || equals(rest, "NaN") || equals(rest, "NAN")) { return true }
        if signed { return false }
        guard i + 1 < b.count, isDigit(b[i + 1]) else { return false }
        return exponentThenEnd(b, scanDigitsUnderscore(b, i + 1))
    }
    guard isDigit(b[i]) else { return false }
    let intEnd = scanDigitsUnderscore(b, i + 1)
    if intEnd < b.count, b[intEnd] == dot {
        return exponentThenEnd(b, scanDigitsUnderscore(b, intEnd + 1))
    }
    if let groupsEnd = scanSexagesimalGroups(b, intEnd), groupsEnd < b.count, b[groupsEnd] == dot {
        return scanDigitsUnderscore(b, groupsEnd + 1) == b.count
    }
    return false
}

/// PyYAML's int expression: `[-+]?0b[0-1_]+` | `[-+]?0[0-7_]+` | `[-+]?(0|[1-9][0-9_]*)` |
/// `[-+]?0x[0-9a-fA-F_]+` | `[-+]?[1-9][0-9_]*(:[0-5]?[0-9])+`.
private func matchesInt(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
    var i = 0
    if b[0] == plus || b[0] == minus { i = 1 }
    guard i < b.count, isDigit(b[i]) else { return false }
    if b[i] == d0 {
        if i + 1 == b.count { return true }
        let kind = b[i + 1]
        var j = i + 2
        if kind == UInt8(ascii: "b") {
            guard j < b.count else { return false }
            while j < b.count, b[j] == d0 || b[j] == UInt8(ascii: "1") || b[j] == underscore { j += 1 }
            return j == b.count
        }
        if kind == UInt8(ascii: "x") {
            guard j < b.count else { return false }
            while j < b.count, b[j].isHexDigit || b[j] == underscore { j += 1 }
            return j == b.count
        }
        j = i + 1
        while j < b.count, (b[j] >= d0 && b[j] <= d7) || b[j] == underscore { j += 1 }
        return j == b.count
    }
    let end = scanDigitsUnderscore(b, i + 1)
    if end == b.count { return true }
    return scanSexagesimalGroups(b, end) == b.count
}

extension UInt8 {
    fileprivate var isHexDigit: Bool {
        isDigit(self) || (self >= UInt8(ascii: "a") && self <= UInt8(ascii: "f"))
            || (self >= UInt8(ascii: "A") && self <= UInt8(ascii: "F"))
    }
}

/// PyYAML's timestamp expression: `YYYY-MM-DD`, or `YYYY-M-D` followed by `T`/`t`/blanks,
/// `H:MM:SS`, an optional fraction and an optional time zone (`Z`, `+H`, `-HH:MM`).
private func matchesTimestamp(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
    TimestampParts(b) != nil
}

/// The fields of a timestamp scalar, parsed as PyYAML's constructor does.
struct TimestampParts {
    var year = 0, month = 0, day = 0
    var time: (hour: Int, minute: Int, second: Int, fraction: String?)?
    var zone: (sign: UInt8, hour: Int, minute: Int)?
    var utc = false

    init?(_ text: String) {
        var text = text
        guard let parts = text.withUTF8({ TimestampParts($0) }) else { return nil }
        self = parts
    }

    init?(_ b: UnsafeBufferPointer<UInt8>) {
        var i = 0
        func digits(_ min: Int, _ max: Int) -> Int? {
            var n = 0
            var value = 0
            while i < b.count, n < max, isDigit(b[i]) {
                value = value * 10 + Int(b[i] - d0)
                i += 1
                n += 1
            }
            return n >= min ? value : nil
        }
        func expect(_ c: UInt8) -> Bool {
            guard i < b.count, b[i] == c else { return false }
            i += 1
            return true
        }
        guard let y = digits(4, 4), expect(minus) else { return nil }
        year = y
        let monthStart = i
        guard let m = digits(1, 2), expect(minus) else { return nil }
        let dayStart = i
        guard let d = digits(1, 2) else { return nil }
        month = m
        day = d
        if i == b.count {
            // The date-only form needs two-digit month and day.
            guard dayStart - monthStart == 3 && i - dayStart == 2 else { return nil }
            return
        }
        // Separator: [Tt] or [ \t]+
        if b[i] == UInt8(ascii: "T") || b[i] == UInt8(ascii: "t") {
            i += 1
        } else {
            guard b[i] == 0x20 || b[i] == 0x09 else { return nil }
            while i < b.count, b[i] == 0x20 || b[i] == 0x09 { i += 1 }
        }
        guard let hh = digits(1, 2), expect(colon), let mm = digits(2, 2), expect(colon), let ss = digits(2, 2)
        else { return nil }
        var fraction: String?
        if i < b.count, b[i] == dot {
            i += 1
            let start = i
            while i < b.count, isDigit(b[i]) { i += 1 }
            fraction = String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
        }
        time = (hh, mm, ss, fraction)
        if i == b.count { return }
        while i < b.count, b[i] == 0x20 || b[i] == 0x09 { i += 1 }
        guard i < b.count else { return nil }
        if b[i] == UInt8(ascii: "Z") {
            i += 1
            utc = true
        } else if b[i] == plus || b[i] == minus {
            let sign = b[i]
            i += 1
            guard let zh = digits(1, 2) else { return nil }
            var zm = 0
            if i < b.count, b[i] == colon {
                i += 1
                guard let v = digits(2, 2) else { return nil }
                zm = v
            }
            zone = (sign, zh, zm)
        } else {
            return nil
        }
        guard i == b.count else { return nil }
    }

    /// The value as ansible-core serialises it to JSON: `date.isoformat()` / `datetime.isoformat()`.
    /// Throws the message of Python's `ValueError` for impossible dates.
    func isoformat() throws(ConstructError) -> String {
        guard (1...9999).contains(year) else { throw ConstructError("year \(year) is out of range") }
        guard (1...12).contains(month) else { throw ConstructError("month must be in 1..12") }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let monthDays = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        guard (1...monthDays).contains(day) else { throw ConstructError("day is out of range for month") }
        var out = pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2)
        guard let time else { return out }
        guard time.hour < 24 else { throw ConstructError("hour must be in 0..23") }
        guard time.minute < 60 else { throw ConstructError("minute must be in 0..59") }
        guard time.second < 60 else { throw ConstructError("second must be in 0..59") }
        out += "T" + pad(time.hour, 2) + ":" + pad(time.minute, 2) + ":" + pad(time.second, 2)
        if var fraction = time.fraction, !fraction.isEmpty {
            fraction = String(fraction.prefix(6))
            while fraction.count < 6 { fraction += "0" }
            if fraction != "000000" { out += "." + fraction }
        }
        if let zone {
            let minutes = zone.hour * 60 + zone.minute
            guard minutes < 24 * 60 else {
                throw ConstructError(
                    "offset must be a timedelta strictly between -timedelta(hours=24) and timedelta(hours=24).")
            }
            out += (zone.sign == minus && minutes != 0 ? "-" : "+") + pad(minutes / 60, 2) + ":" + pad(minutes % 60, 2)
        } else if utc {
            out += "+00:00"
        }
        return out
    }

    private func pad(_ n: Int, _ width: Int) -> String {
        let s = String(n)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}

/// A failure while constructing a value from a node, with the text Python would print.
struct ConstructError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

// MARK: - Scalar constructors (SafeConstructor semantics)

/// `construct_yaml_bool`: the lower-cased value looked up among yes/no/true/false/on/off.
func constructBool(_ text: String) throws(ConstructError) -> Bool {
    switch text.lowercased() {
    case "yes", "true", "on": return true
    case "no", "false", "off": return false
    default: throw ConstructError(pythonStringRepr(text))  // str(KeyError('x')) is "'x'"
    }
}

/// The result of `construct_yaml_int`: an `Int`, or a `Double` when Python's unbounded integer does not
/// fit in 64 bits.
enum ConstructedInt {
    case int(Int)
    case big(Double)
}

/// `construct_yaml_int`: strips underscores and the sign, then `0b`/`0x`/leading-`0` octal/sexagesimal/decimal.
func constructInt(_ text: String) throws(ConstructError) -> ConstructedInt {
    if let simple = simpleDecimal(text) { return .int(simple) }
    var value = Substring(text.replacingOccurrences(of: "_", with: ""))
    guard let first = value.first else { throw ConstructError("string index out of range") }
    var negative = false
    if first == "-" { negative = true }
    if first == "+" || first == "-" { value = value.dropFirst() }
    if value == "0" { return .int(0) }
    if value.hasPrefix("0b") { return try pythonInt(String(value.dropFirst(2)), base: 2, negative: negative) }
    if value.hasPrefix("0x") { return try pythonInt(String(value.dropFirst(2)), base: 16, negative: negative) }
    // value[0] raises IndexError when only the sign was there.
    guard let lead = value.first else { throw ConstructError("string index out of range") }
    if lead == "0" { return try pythonInt(String(value), base: 8, negative: negative) }
    if value.contains(":") {
        var total = 0.0
        var exact = 0
        var overflow = false
        for part in value.split(separator: ":", omittingEmptySubsequences: false) {
            let digit = try pythonInt(String(part), base: 10, negative: false)
            switch digit {
            case .int(let d):
                total = total * 60 + Double(d)
                let (m, o1) = exact.multipliedReportingOverflow(by: 60)
                let (s, o2) = m.addingReportingOverflow(d)
                overflow = overflow || o1 || o2
                exact = s
            case .big(let d):
                total = total * 60 + d
                overflow = true
            }
        }
        if overflow { return .big(negative ? -total : total) }
        return .int(negative ? -exact : exact)
    }
    return try pythonInt(String(value), base: 10, negative: negative)
}

/// A plain decimal integer of up to 18 digits (the common case), without going through Python's rules.
private func simpleDecimal(_ text: String) -> Int? {
    var text = text
    return text.withUTF8 { b -> Int? in
        guard !b.isEmpty, b.count <= 19 else { return nil }
        var i = 0
        var negative = false
        if b[0] == minus || b[0] == plus {
            negative = b[0] == minus
            i = 1
        }
        guard i < b.count, b.count - i <= 18, b[i] != d0 || b.count - i == 1 else { return nil }
        var value = 0
        while i < b.count {
            guard isDigit(b[i]) else { return nil }
            value = value * 10 + Int(b[i] - d0)
            i += 1
        }
        return negative ? -value : value
    }
}

/// Python's `int(text, base)` for what PyYAML passes to it (whitespace, one sign, an optional prefix
/// matching the base), times the sign PyYAML stripped.
private func pythonInt(_ original: String, base: Int, negative: Bool) throws(ConstructError) -> ConstructedInt {
    let fail = ConstructError("invalid literal for int() with base \(base): \(pythonStringRepr(original))")
    var s = Substring(original.trimmingPythonWhitespace())
    var innerNegative = false
    if let c = s.first, c == "+" || c == "-" {
        innerNegative = c == "-"
        s = s.dropFirst()
    }
    let lower = s.lowercased()
    if base == 16 && lower.hasPrefix("0x") || base == 8 && lower.hasPrefix("0o") || base == 2 && lower.hasPrefix("0b") {
        s = s.dropFirst(2)
    }
    guard !s.isEmpty, s.allSatisfy({ $0.isASCII && $0.hexDigitValue.map { $0 < base } == true }) else { throw fail }
    let neg = negative != innerNegative
    if let magnitude = UInt64(s, radix: base) {
        if !neg, magnitude <= UInt64(Int.max) { return .int(Int(magnitude)) }
        if neg, magnitude <= UInt64(Int.max) { return .int(-Int(magnitude)) }
        if neg, magnitude == UInt64(Int.max) + 1 { return .int(Int.min) }
    }
    var d = 0.0
    for c in s { d = d * Double(base) + Double(c.hexDigitValue!) }
    return .big(neg ? -d : d)
}

/// `construct_yaml_float`: strips underscores, lower-cases, handles `.inf`/`.nan`/sexagesimal, else `float()`.
func constructFloat(_ text: String) throws(ConstructError) -> Double {
    // Digits, point, sign and exponent only (the common case): Python's float() and Swift agree.
    if text.utf8.allSatisfy({ isDigit($0) || $0 == dot || $0 == plus || $0 == minus || $0 | 0x20 == 0x65 }),
        text.utf8.contains(where: isDigit), let d = Double(text)
    {
        return d
    }
    var value = Substring(text.replacingOccurrences(of: "_", with: "").lowercased())
    guard let first = value.first else { throw ConstructError("string index out of range") }
    var sign = 1.0
    if first == "-" { sign = -1 }
    if first == "+" || first == "-" { value = value.dropFirst() }
    if value == ".inf" { return sign * .infinity }
    if value == ".nan" { return .nan }
    if value.contains(":") {
        var total = 0.0
        for part in value.split(separator: ":", omittingEmptySubsequences: false) {
            total = total * 60 + (try pythonFloat(String(part)))
        }
        return sign * total
    }
    return sign * (try pythonFloat(String(value)))
}

/// Python's `float(text)`: decimal literals (digits with an optional point and exponent), `inf`,
/// `infinity`, `nan`, surrounding whitespace, one sign.
private func pythonFloat(_ original: String) throws(ConstructError) -> Double {
    let fail = ConstructError("could not convert string to float: \(pythonStringRepr(original))")
    var s = Substring(original.trimmingPythonWhitespace())
    var negative = false
    if let c = s.first, c == "+" || c == "-" {
        negative = c == "-"
        s = s.dropFirst()
    }
    let lower = s.lowercased()
    var result: Double
    if lower == "inf" || lower == "infinity" {
        result = .infinity
    } else if lower == "nan" {
        result = .nan
    } else {
        // digits [. digits] | . digits, then optional e[sign]digits
        let chars = Array(lower.utf8)
        var i = 0
        var mantissaDigits = 0
        while i < chars.count, isDigit(chars[i]) { i += 1; mantissaDigits += 1 }
        if i < chars.count, chars[i] == dot {
            i += 1
            while i < chars.count, isDigit(chars[i]) { i += 1; mantissaDigits += 1 }
        }
        guard mantissaDigits > 0 else { throw fail }
        if i < chars.count, chars[i] == UInt8(ascii: "e") {
            i += 1
            if i < chars.count, chars[i] == plus || chars[i] == minus { i += 1 }
            let start = i
            while i < chars.count, isDigit(chars[i]) { i += 1 }
            guard i > start else { throw fail }
        }
        guard i == chars.count, let d = Double(lower) else { throw fail }
        result = d
    }
    return negative ? -result : result
}

extension String {
    /// Strips what Python's `str.strip()` strips (ASCII whitespace and Unicode spaces).
    func trimmingPythonWhitespace() -> String {
        let scalars = unicodeScalars
        func isSpace(_ u: Unicode.Scalar) -> Bool {
            (0x09...0x0D).contains(u.value) || (0x1C...0x20).contains(u.value) || u.properties.isWhitespace
        }
        guard let start = scalars.firstIndex(where: { !isSpace($0) }) else { return "" }
        let end = scalars.lastIndex(where: { !isSpace($0) })!
        return String(scalars[start...end])
    }

    func replacingOccurrences(of target: Character, with replacement: String) -> String {
        guard contains(target) else { return self }
        var out = ""
        out.reserveCapacity(utf8.count)
        for c in self {
            if c == target { out += replacement } else { out.append(c) }
        }
        return out
    }
}

/// `base64.decodebytes` (binascii's lenient decoder: characters outside the alphabet are skipped and a
/// complete padding ends the data), with binascii's messages.
func decodeBase64(_ text: String) throws(ConstructError) -> [UInt8] {
    if let bad = text.unicodeScalars.firstIndex(where: { !$0.isASCII }) {
        let position = text.unicodeScalars.distance(from: text.unicodeScalars.startIndex, to: bad)
        let code = text.unicodeScalars[bad].value
        let escaped = code <= 0xFF ? "\\x" + hex(code, 2) : code <= 0xFFFF ? "\\u" + hex(code, 4) : "\\U" + hex(code, 8)
        throw ConstructError(
            "failed to convert base64 data into ascii: 'ascii' codec can't encode character '\(escaped)' in position "
                + "\(position): ordinal not in range(128)")
    }
    var out: [UInt8] = []
    var quadPosition = 0
    var pads = 0
    var left: UInt8 = 0
    for u in text.utf8 {
        if u == UInt8(ascii: "=") {
            if quadPosition >= 2 {
                pads += 1
                if quadPosition + pads >= 4 { return out }
            }
            continue
        }
        let v: UInt8
        switch u {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): v = u - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): v = u - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): v = u - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): v = 62
        case UInt8(ascii: "/"): v = 63
        default: continue
        }
        switch quadPosition {
        case 0:
            left = v
        case 1:
            out.append(left << 2 | v >> 4)
            left = v & 0x0F
        case 2:
            out.append(left << 4 | v >> 2)
            left = v & 0x03
        default:
            out.append(left << 6 | v)
            left = 0
        }
        quadPosition = (quadPosition + 1) % 4
    }
    if quadPosition == 1 {
        throw ConstructError(
            "failed to decode base64 data: Invalid base64-encoded string: number of data characters "
                + "(\(out.count / 3 * 4 + 1)) cannot be 1 more than a multiple of 4")
    }
    if quadPosition != 0 { throw ConstructError("failed to decode base64 data: Incorrect padding") }
    return out
}

private func hex(_ v: UInt32, _ width: Int) -> String {
    let h = String(v, radix: 16)
    return String(repeating: "0", count: max(0, width - h.count)) + h
}
