/// JSON in Python's `json` module dialect, so that output matches ansible-core byte for byte.
extension Value {
    /// Options mirroring `json.dumps(obj, indent=…, sort_keys=…, ensure_ascii=…)`.
    public struct JSONFormat: Sendable, Hashable {
        public var indent: Int?
        public var sortKeys: Bool
        public var ensureASCII: Bool
        /// Separators between items and between a key and its value. Python uses `", "`/`": "`
        /// without indent and `","`/`": "` with one.
        public var itemSeparator: String
        public var keySeparator: String
        /// With ``sortKeys``, leave the outermost dict in its own order (the result structure keeps
        /// its tasks in run order and sorts everything inside).
        public var keepTopLevelOrder: Bool

        public init(
            indent: Int? = nil, sortKeys: Bool = false, ensureASCII: Bool = true,
            itemSeparator: String? = nil, keySeparator: String = ": ", keepTopLevelOrder: Bool = false
        ) {
            self.indent = indent
            self.sortKeys = sortKeys
            self.keepTopLevelOrder = keepTopLevelOrder
            self.ensureASCII = ensureASCII
            self.itemSeparator = itemSeparator ?? (indent == nil ? ", " : ",")
            self.keySeparator = keySeparator
        }

        /// `json.dumps(x)`.
        public static let python = JSONFormat()
        /// What the CLI's `--json` prints: sorted keys, four-space indent, UTF-8 kept.
        public static let pretty = JSONFormat(indent: 4, sortKeys: true, ensureASCII: false)
        /// The result structure: like ``pretty`` but with the tasks in the order they started.
        public static let results = JSONFormat(indent: 4, sortKeys: true, ensureASCII: false, keepTopLevelOrder: true)
        /// One line, sorted keys, UTF-8 kept: the default callback's `=> {…}` form.
        public static let compactSorted = JSONFormat(sortKeys: true, ensureASCII: false)
    }

    /// Serialises the value as Python's `json.dumps` would.
    public func json(_ format: JSONFormat = .python) -> String {
        var out = ""
        writeJSON(into: &out, format: format, level: 0)
        return out
    }

    private func writeJSON(into out: inout String, format: JSONFormat, level: Int) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .float(let d): out += d.isNaN ? "NaN" : d.isInfinite ? (d < 0 ? "-Infinity" : "Infinity") : pythonFloatRepr(d)
        case .string(let s), .unsafe(let s): Value.writeJSONString(s, into: &out, ensureASCII: format.ensureASCII)
        case .list(let items):
            if items.isEmpty { out += "[]"; return }
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += format.itemSeparator }
                Value.newline(&out, format, level + 1)
                item.writeJSON(into: &out, format: format, level: level + 1)
            }
            Value.newline(&out, format, level)
            out += "]"
        case .dict(let dict):
            if dict.isEmpty { out += "{}"; return }
            out += "{"
            let sort = format.sortKeys && !(format.keepTopLevelOrder && level == 0)
            let keys = sort ? dict.keys.sorted(by: Value.pythonStringLess) : Array(dict.keys)
            for (i, key) in keys.enumerated() {
                if i > 0 { out += format.itemSeparator }
                Value.newline(&out, format, level + 1)
                Value.writeJSONString(key, into: &out, ensureASCII: format.ensureASCII)
                out += format.keySeparator
                dict[key]!.writeJSON(into: &out, format: format, level: level + 1)
            }
            Value.newline(&out, format, level)
            out += "}"
        }
    }

    private static func newline(_ out: inout String, _ format: JSONFormat, _ level: Int) {
        guard let indent = format.indent else { return }
        out += "\n"
        out += String(repeating: " ", count: indent * level)
    }

    /// Python orders strings by code point, Swift by grapheme clusters: sort keys as Python does.
    public static func pythonStringLess(_ a: String, _ b: String) -> Bool {
        a.unicodeScalars.lexicographicallyPrecedes(b.unicodeScalars)
    }

    static func writeJSONString(_ s: String, into out: inout String, ensureASCII: Bool) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                let v = scalar.value
                if v < 0x20 || (ensureASCII && v > 0x7E) {
                    if v > 0xFFFF {
                        let u = v - 0x10000
                        out += hex4(0xD800 + (u >> 10))
                        out += hex4(0xDC00 + (u & 0x3FF))
                    } else {
                        out += hex4(v)
                    }
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }

    private static func hex4(_ v: UInt32) -> String {
        let digits = String(v, radix: 16)
        return "\\u" + String(repeating: "0", count: 4 - digits.count) + digits
    }
}

/// `repr(float)` as Python 3 prints it: the shortest digits that round-trip, in fixed notation
/// when the decimal exponent is in -4..<16 and otherwise as `1e+16` / `1e-05`.
public func pythonFloatRepr(_ d: Double) -> String {
    if d.isNaN { return "nan" }
    if d.isInfinite { return d < 0 ? "-inf" : "inf" }
    if d == 0 { return d.sign == .minus ? "-0.0" : "0.0" }
    // Swift's description also prints the shortest round-trip digits; take them apart.
    var text = "\(d.magnitude)"
    var exponent = 0
    if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
        exponent = Int(text[text.index(after: e)...])!
        text = String(text[..<e])
    }
    var digits = ""
    var pointPosition = text.count
    for (i, c) in text.enumerated() {
        if c == "." { pointPosition = i } else { digits.append(c) }
    }
    // Value = 0.digits × 10^(pointPosition + exponent), after stripping leading zeros.
    var decimalExponent = pointPosition + exponent
    while digits.first == "0" && digits.count > 1 {
        digits.removeFirst()
        decimalExponent -= 1
    }
    while digits.last == "0" && digits.count > 1 { digits.removeLast() }
    let sci = decimalExponent - 1  // exponent in d.ddd × 10^sci
    var result = d.sign == .minus ? "-" : ""
    if sci < -4 || sci >= 16 {
        result += String(digits.first!)
        if digits.count > 1 { result += "." + digits.dropFirst() }
        let mag = abs(sci)
        result += (sci < 0 ? "e-" : "e+") + (mag < 10 ? "0" : "") + String(mag)
    } else if decimalExponent <= 0 {
        result += "0." + String(repeating: "0", count: -decimalExponent) + digits
    } else if decimalExponent >= digits.count {
        result += digits + String(repeating: "0", count: decimalExponent - digits.count) + ".0"
    } else {
        let cut = digits.index(digits.startIndex, offsetBy: decimalExponent)
        result += digits[..<cut] + "." + digits[cut...]
    }
    return result
}

/// A JSON syntax error with the position Python's `json` module reports.
public struct JSONParseError: Error, CustomStringConvertible, Sendable, Hashable {
    public var message: String
    public var line: Int
    public var column: Int
    public var offset: Int
    public var description: String { "\(message): line \(line) column \(column) (char \(offset))" }
}

extension Value {
    /// Parses JSON as Python's `json.loads` does (also `NaN`, `Infinity`, `-Infinity`), keeping
    /// integers apart from floats and the order of object keys (a repeated key: the last wins).
    public init(json text: String) throws(JSONParseError) {
        var parser = JSONParser(bytes: Array(text.utf8))
        parser.skipSpace()
        let value = try parser.parseValue()
        parser.skipSpace()
        if parser.pos != parser.bytes.count { throw parser.error("Extra data") }
        self = value
    }
}

private struct JSONParser {
    let bytes: [UInt8]
    var pos = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    func error(_ message: String) -> JSONParseError {
        var line = 1
        var lineStart = 0
        for i in 0..<min(pos, bytes.count) where bytes[i] == UInt8(ascii: "\n") {
            line += 1
            lineStart = i + 1
        }
        return JSONParseError(message: message, line: line, column: pos - lineStart + 1, offset: pos)
    }

    mutating func skipSpace() {
        while pos < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[pos]) { pos += 1 }
    }

    mutating func literal(_ word: String) -> Bool {
        let w = Array(word.utf8)
        guard pos + w.count <= bytes.count, Array(bytes[pos..<pos + w.count]) == w else { return false }
        pos += w.count
        return true
    }

    mutating func parseValue() throws(JSONParseError) -> Value {
        guard pos < bytes.count else { throw error("Expecting value") }
        switch bytes[pos] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "n") where literal("null"): return .null
        case UInt8(ascii: "t") where literal("true"): return .bool(true)
        case UInt8(ascii: "f") where literal("false"): return .bool(false)
        case UInt8(ascii: "N") where literal("NaN"): return .float(.nan)
        case UInt8(ascii: "I") where literal("Infinity"): return .float(.infinity)
        case UInt8(ascii: "-") where literal("-Infinity"): return .float(-.infinity)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw error("Expecting value")
        }
    }

    mutating func parseObject() throws(JSONParseError) -> Value {
        pos += 1
        var dict = ValueDict()
        skipSpace()
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "}") { pos += 1; return .dict(dict) }
        while true {
            skipSpace()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") else {
                throw error("Expecting property name enclosed in double quotes")
            }
            let key = try parseString()
            skipSpace()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: ":") else { throw error("Expecting ':' delimiter") }
            pos += 1
            skipSpace()
            dict[key] = try parseValue()
            skipSpace()
            guard pos < bytes.count else { throw error("Expecting ',' delimiter") }
            if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
            if bytes[pos] == UInt8(ascii: "}") { pos += 1; return .dict(dict) }
            throw error("Expecting ',' delimiter")
        }
    }

    mutating func parseArray() throws(JSONParseError) -> Value {
        pos += 1
        var items: [Value] = []
        skipSpace()
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "]") { pos += 1; return .list(items) }
        while true {
            skipSpace()
            items.append(try parseValue())
            skipSpace()
            guard pos < bytes.count else { throw error("Expecting ',' delimiter") }
            if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
            if bytes[pos] == UInt8(ascii: "]") { pos += 1; return .list(items) }
            throw error("Expecting ',' delimiter")
        }
    }

    mutating func parseString() throws(JSONParseError) -> String {
        let start = pos
        pos += 1
        var scalars = String.UnicodeScalarView()
        var runStart = pos
        func flush(_ s: inout String.UnicodeScalarView, _ from: Int, _ to: Int) {
            if to > from { s.append(contentsOf: String(decoding: bytes[from..<to], as: UTF8.self).unicodeScalars) }
        }
        while pos < bytes.count {
            let b = bytes[pos]
            if b == UInt8(ascii: "\"") {
                flush(&scalars, runStart, pos)
                pos += 1
                return String(scalars)
            }
            if b < 0x20 { throw error("Invalid control character at") }
            if b == UInt8(ascii: "\\") {
                flush(&scalars, runStart, pos)
                pos += 1
                guard pos < bytes.count else { break }
                let e = bytes[pos]
                pos += 1
                switch e {
                case UInt8(ascii: "\""): scalars.append("\"")
                case UInt8(ascii: "\\"): scalars.append("\\")
                case UInt8(ascii: "/"): scalars.append("/")
                case UInt8(ascii: "b"): scalars.append("\u{08}")
                case UInt8(ascii: "f"): scalars.append("\u{0C}")
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if (0xD800..<0xDC00).contains(code), pos + 1 < bytes.count,
                        bytes[pos] == UInt8(ascii: "\\"), bytes[pos + 1] == UInt8(ascii: "u")
                    {
                        let save = pos
                        pos += 2
                        let low = try hex4()
                        if (0xDC00..<0xE000).contains(low) {
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            pos = save
                        }
                    }
                    scalars.append(Unicode.Scalar(code) ?? "\u{FFFD}")
                default:
                    pos -= 2
                    throw error("Invalid \\escape")
                }
                runStart = pos
                continue
            }
            pos += 1
        }
        pos = start
        throw error("Unterminated string starting at")
    }

    mutating func hex4() throws(JSONParseError) -> UInt32 {
        guard pos + 4 <= bytes.count, let v = UInt32(String(decoding: bytes[pos..<pos + 4], as: UTF8.self), radix: 16)
        else { throw error("Invalid \\uXXXX escape") }
        pos += 4
        return v
    }

    mutating func parseNumber() throws(JSONParseError) -> Value {
        let start = pos
        if bytes[pos] == UInt8(ascii: "-") { pos += 1 }
        func digits(_ p: inout Int, _ b: [UInt8]) -> Int {
            let s = p
            while p < b.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b[p]) { p += 1 }
            return p - s
        }
        guard digits(&pos, bytes) > 0 else { pos = start; throw error("Expecting value") }
        var isFloat = false
        if pos < bytes.count, bytes[pos] == UInt8(ascii: ".") {
            let save = pos
            pos += 1
            if digits(&pos, bytes) == 0 { pos = save } else { isFloat = true }
        }
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "e") || bytes[pos] == UInt8(ascii: "E") {
            let save = pos
            pos += 1
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: "-") { pos += 1 }
            if digits(&pos, bytes) == 0 { pos = save } else { isFloat = true }
        }
        let text = String(decoding: bytes[start..<pos], as: UTF8.self)
        if !isFloat, let i = Int(text) { return .int(i) }
        return .float(Double(text) ?? .nan)
    }
}
