import SwansibleData

/// Python's `ast.literal_eval` over the literals ansible-core's INI inventory plugin accepts, turned into
/// ``Value``s the way that plugin coerces them: tuples and sets become lists, `complex` numbers and `...`
/// become their `str()`, bytes become text.
///
/// `evaluate` answers nil when Python would raise `ValueError` or `SyntaxError` (the plugin then keeps the raw
/// string), and throws ``PythonLiteral/Failure`` where Python raises anything else (an unhashable dict key or
/// set item), which fails the whole inventory file as it does in ansible-core.
enum PythonLiteral {
    struct Failure: Error, Equatable {
        var message: String
    }

    static func evaluate(_ text: String) throws(Failure) -> Value? {
        // literal_eval strips leading spaces and tabs before parsing in 'eval' mode.
        var scalars = Array(text.unicodeScalars)
        while let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
        var parser = Parser(source: scalars)
        guard let object = try parser.parseTop() else { return nil }
        return object.value
    }

    /// The Python objects literal_eval can produce.
    indirect enum Object {
        case none, bool(Bool), int(Int), float(Double), complex(Double, Double), string(String), bytes([UInt8])
        case ellipsis, list([Object]), tuple([Object]), set([Object]), dict([(Object, Object)])

        var isHashable: Bool {
            switch self {
            case .list, .set, .dict: return false
            case .tuple(let items): return items.allSatisfy(\.isHashable)
            default: return true
            }
        }

        var typeName: String {
            switch self {
            case .list: return "list"
            case .set: return "set"
            case .dict: return "dict"
            default: return "object"
            }
        }

        var value: Value {
            switch self {
            case .none: return .null
            case .bool(let b): return .bool(b)
            case .int(let i): return .int(i)
            case .float(let d): return .float(d)
            case .complex(let re, let im): return .string(PythonLiteral.complexRepr(re, im))
            case .string(let s): return .string(s)
            // Text decoded from bytes is not trusted as a template (ansible-core leaves it untagged).
            case .bytes(let b): return .unsafe(String(decoding: b, as: UTF8.self))
            case .ellipsis: return .string("...")
            case .list(let items), .tuple(let items): return .list(items.map(\.value))
            case .set(let items):
                var seen: [Value] = []
                for item in items.map(\.value) where !seen.contains(item) { seen.append(item) }
                return .list(seen)
            case .dict(let pairs):
                var dict = ValueDict()
                for (k, v) in pairs { dict[k.keyString] = v.value }
                return .dict(dict)
            }
        }

        /// A dict key as Python's json module writes it.
        var keyString: String {
            switch self {
            case .string(let s): return s
            case .none: return "null"
            case .bool(let b): return b ? "true" : "false"
            case .int(let i): return String(i)
            case .float(let d): return pythonFloatRepr(d)
            default: return value.json()
            }
        }

        var isNumber: Bool {
            switch self {
            case .int, .float, .complex: return true
            default: return false
            }
        }
    }

    /// `repr(complex)`.
    static func complexRepr(_ re: Double, _ im: Double) -> String {
        func part(_ d: Double) -> String {
            let r = pythonFloatRepr(d)
            return r.hasSuffix(".0") ? String(r.dropLast(2)) : r
        }
        if re == 0 && re.sign == .plus { return part(im) + "j" }
        let sign = im.sign == .minus || im.isNaN && im.sign == .minus ? "-" : "+"
        return "(" + part(re) + sign + part(im.magnitude) + "j)"
    }

    enum Token: Equatable {
        case punct(String)
        case number(Object)
        case string(String, isBytes: Bool, isFormat: Bool, raw: [UInt8])
        case name(String)
        case end

        static func == (a: Token, b: Token) -> Bool {
            switch (a, b) {
            case (.punct(let x), .punct(let y)): return x == y
            case (.name(let x), .name(let y)): return x == y
            case (.end, .end): return true
            default: return false
            }
        }
    }

    struct Syntax: Error {}

    struct Parser {
        let source: [Unicode.Scalar]
        var pos = 0
        var depth = 0
        var lookahead: Token? = nil

        init(source: [Unicode.Scalar]) { self.source = source }

        // MARK: tokens

        mutating func peek() throws(Syntax) -> Token {
            if let t = lookahead { return t }
            let t = try lex()
            lookahead = t
            return t
        }

        mutating func next() throws(Syntax) -> Token {
            let t = try peek()
            lookahead = nil
            return t
        }

        func at(_ offset: Int = 0) -> Unicode.Scalar? {
            pos + offset < source.count ? source[pos + offset] : nil
        }

        mutating func skipSpace() throws(Syntax) {
            while let c = at() {
                if c == " " || c == "\t" || c == "\u{0C}" || c == "\n" || c == "\r" {
                    pos += 1
                } else if c == "#" {
                    while let d = at(), d != "\n" { pos += 1 }
                } else if c == "\\" {
                    // An explicit line joining backslash must end the line.
                    guard at(1) == "\n" || at(1) == "\r" else { throw Syntax() }
                    pos += 2
                } else {
                    return
                }
            }
        }

        static func isIdentStart(_ c: Unicode.Scalar) -> Bool {
            c == "_" || c.properties.isXIDStart
        }

        static func isIdentContinue(_ c: Unicode.Scalar) -> Bool {
            c == "_" || c.properties.isXIDContinue
        }

        static func isDigit(_ c: Unicode.Scalar?) -> Bool {
            guard let c else { return false }
            return c >= "0" && c <= "9"
        }

        mutating func lex() throws(Syntax) -> Token {
            try skipSpace()
            guard let c = at() else { return .end }
            if Self.isDigit(c) || (c == "." && Self.isDigit(at(1))) { return try lexNumber() }
            if c == "." && at(1) == "." && at(2) == "." {
                pos += 3
                return .punct("...")
            }
            if c == "'" || c == "\"" { return try lexString(prefix: "") }
            if Self.isIdentStart(c) {
                let start = pos
                while let d = at(), Self.isIdentContinue(d) { pos += 1 }
                let word = String(String.UnicodeScalarView(source[start..<pos]))
                if let q = at(), q == "'" || q == "\"", word.count <= 2,
                    word.lowercased().allSatisfy({ "rbuf".contains($0) })
                {
                    return try lexString(prefix: word.lowercased())
                }
                return .name(word)
            }
            let two = at(1).map { String(c) + String($0) } ?? ""
            if ["**", "//", "<<", ">>", "<=", ">=", "==", "!=", ":=", "->"].contains(two) {
                pos += 2
                return .punct(two)
            }
            if "()[]{},:+-*/%@&|^~<>=.;".unicodeScalars.contains(c) {
                pos += 1
                return .punct(String(c))
            }
            throw Syntax()
        }

        mutating func digitPart(_ isDigit: (Unicode.Scalar) -> Bool) throws(Syntax) -> String? {
            guard let c = at(), isDigit(c) else { return nil }
            var out = ""
            while let d = at() {
                if isDigit(d) {
                    out.unicodeScalars.append(d)
                    pos += 1
                } else if d == "_", let e = at(1), isDigit(e) {
                    pos += 1
                } else if d == "_" {
                    throw Syntax()
                } else {
                    break
                }
            }
            return out
        }

        mutating func lexNumber() throws(Syntax) -> Token {
            let dec: (Unicode.Scalar) -> Bool = { $0 >= "0" && $0 <= "9" }
            if at() == "0", let p = at(1), "xXoObB".unicodeScalars.contains(p) {
                pos += 2
                let radix: Int
                let accept: (Unicode.Scalar) -> Bool
                switch p {
                case "x", "X":
                    radix = 16
                    accept = { $0.properties.isASCIIHexDigit }
                case "o", "O":
                    radix = 8
                    accept = { $0 >= "0" && $0 <= "7" }
                default:
                    radix = 2
                    accept = { $0 == "0" || $0 == "1" }
                }
                if at() == "_" { pos += 1 }
                guard let digits = try digitPart(accept) else { throw Syntax() }
                if let d = at(), Self.isIdentContinue(d) { throw Syntax() }
                guard let v = Int(digits, radix: radix) else { throw Syntax() }
                return .number(.int(v))
            }
            let intPart = try digitPart(dec) ?? ""
            var text = intPart.isEmpty ? "0" : intPart
            var isFloat = false
            if at() == "." {
                pos += 1
                isFloat = true
                let frac = try digitPart(dec) ?? ""
                text += "." + (frac.isEmpty ? "0" : frac)
            }
            if let e = at(), e == "e" || e == "E" {
                var k = 1
                if let s = at(1), s == "+" || s == "-" { k = 2 }
                guard Self.isDigit(at(k)) else { throw Syntax() }
                let sign = k == 2 ? String(at(1)!) : ""
                pos += k
                let exp = try digitPart(dec)!
                text += "e" + sign + exp
                isFloat = true
            }
            var imaginary = false
            if let j = at(), j == "j" || j == "J" {
                pos += 1
                imaginary = true
            }
            if let d = at(), Self.isIdentContinue(d) { throw Syntax() }
            if imaginary {
                guard let v = Double(text) else { throw Syntax() }
                return .number(.complex(0, v))
            }
            if isFloat {
                guard let v = Double(text) else { throw Syntax() }
                return .number(.float(v))
            }
            // Decimal integers other than zero may not have leading zeros.
            if intPart.count > 1 && intPart.first == "0" && intPart.contains(where: { $0 != "0" }) { throw Syntax() }
            guard let v = Int(intPart) else { throw Syntax() }  // beyond 64 bits: keep the text
            return .number(.int(v))
        }

        mutating func lexString(prefix: String) throws(Syntax) -> Token {
            let raw = prefix.contains("r")
            let isBytes = prefix.contains("b")
            let isFormat = prefix.contains("f")
            if isBytes && (isFormat || prefix.contains("u")) { throw Syntax() }
            if prefix.contains("u") && prefix.count > 1 { throw Syntax() }
            let quote = at()!
            var triple = false
            if at(1) == quote && at(2) == quote {
                triple = true
                pos += 3
            } else {
                pos += 1
            }
            var body: [Unicode.Scalar] = []
            while true {
                guard let c = at() else { throw Syntax() }
                if c == quote {
                    if !triple {
                        pos += 1
                        break
                    }
                    if at(1) == quote && at(2) == quote {
                        pos += 3
                        break
                    }
                }
                if (c == "\n" || c == "\r") && !triple { throw Syntax() }
                if c == "\\" {
                    guard let d = at(1) else { throw Syntax() }
                    body.append(c)
                    body.append(d)
                    pos += 2
                    continue
                }
                body.append(c)
                pos += 1
            }
            if isBytes && body.contains(where: { $0.value > 0x7F }) { throw Syntax() }
            if raw {
                if isBytes { return .string("", isBytes: true, isFormat: false, raw: body.map { UInt8($0.value) }) }
                return .string(String(String.UnicodeScalarView(body)), isBytes: false, isFormat: isFormat, raw: [])
            }
            let decoded = try Self.unescape(body, bytes: isBytes)
            if isBytes {
                return .string("", isBytes: true, isFormat: false, raw: decoded.map { UInt8($0.value) })
            }
            return .string(String(String.UnicodeScalarView(decoded)), isBytes: false, isFormat: isFormat, raw: [])
        }

        /// Python's string escapes. For bytes every result is below 256.
        static func unescape(_ body: [Unicode.Scalar], bytes: Bool) throws(Syntax) -> [Unicode.Scalar] {
            var out: [Unicode.Scalar] = []
            var i = 0
            func hex(_ count: Int) throws(Syntax) -> UInt32 {
                guard i + count <= body.count else { throw Syntax() }
                var v: UInt32 = 0
                for k in 0..<count {
                    let h = body[i + k]
                    guard h.properties.isASCIIHexDigit, let d = UInt32(String(h), radix: 16) else { throw Syntax() }
                    v = v * 16 + d
                }
                i += count
                return v
            }
            while i < body.count {
                let c = body[i]
                i += 1
                guard c == "\\", i < body.count else {
                    out.append(c)
                    continue
                }
                let e = body[i]
                i += 1
                switch e {
                case "\n": break
                case "\\": out.append("\\")
                case "'": out.append("'")
                case "\"": out.append("\"")
                case "a": out.append("\u{07}")
                case "b": out.append("\u{08}")
                case "f": out.append("\u{0C}")
                case "n": out.append("\n")
                case "r": out.append("\r")
                case "t": out.append("\t")
                case "v": out.append("\u{0B}")
                case "0"..."7":
                    var v = e.value - 48
                    var n = 1
                    while n < 3, i < body.count, body[i] >= "0", body[i] <= "7" {
                        v = v * 8 + body[i].value - 48
                        i += 1
                        n += 1
                    }
                    if bytes { v &= 0xFF }
                    out.append(Unicode.Scalar(v)!)
                case "x":
                    let v = try hex(2)
                    out.append(Unicode.Scalar(v)!)
                case "u" where !bytes, "U" where !bytes:
                    let v = try hex(e == "u" ? 4 : 8)
                    guard let s = Unicode.Scalar(v) else { throw Syntax() }
                    out.append(s)
                case "N" where !bytes:
                    // Named escapes need the Unicode name table; treat as not a literal.
                    throw Syntax()
                default:
                    out.append("\\")
                    out.append(e)
                }
            }
            return out
        }

        // MARK: grammar

        /// The whole input as an expression; nil when it is not a literal (or not Python).
        mutating func parseTop() throws(Failure) -> Object? {
            do {
                let first = try parseExpression()
                var result = first
                if try peek() == .punct(",") {
                    var items = [first]
                    while try peek() == .punct(",") {
                        _ = try next()
                        if try peek() == .end { break }
                        items.append(try parseExpression())
                    }
                    result = .tuple(items)
                }
                guard try next() == .end else { return nil }
                return result
            } catch let e as Failure {
                throw e
            } catch {
                return nil
            }
        }

        /// An expression literal_eval accepts: a signed number, `real ± imaginary`, or an atom.
        mutating func parseExpression() throws -> Object { try parseOperand().object }

        mutating func parseOperand() throws -> Operand {
            depth += 1
            defer { depth -= 1 }
            if depth > 200 { throw Syntax() }
            let left = try parseUnary()
            guard case .punct(let op) = try peek(), op == "+" || op == "-" else { return left }
            _ = try next()
            let right = try parseUnary()
            // Python accepts only a (signed) int or float plus or minus an unsigned imaginary literal.
            guard case .plain(.complex(_, let im)) = right else { throw Syntax() }
            let real: Double
            switch left {
            case .plain(.int(let a)), .signed(.int(let a)): real = Double(a)
            case .plain(.float(let a)), .signed(.float(let a)): real = a
            default: throw Syntax()
            }
            if case .punct(let op2) = try peek(), op2 == "+" || op2 == "-" { throw Syntax() }
            return .other(.complex(real, op == "+" ? im : -im))
        }

        /// What an expression was, as far as literal_eval's number rules care.
        enum Operand {
            /// A number constant.
            case plain(Object)
            /// A unary + or - applied to a number constant.
            case signed(Object)
            /// Anything else.
            case other(Object)

            var object: Object {
                switch self {
                case .plain(let o), .signed(let o), .other(let o): return o
                }
            }
        }

        mutating func parseUnary() throws -> Operand {
            if case .punct(let op) = try peek(), op == "+" || op == "-" {
                _ = try next()
                let inner = try parseUnary()
                // Only a single sign directly on a number literal.
                guard case .plain(let o) = inner else { throw Syntax() }
                switch o {
                case .int(let i): return .signed(.int(op == "-" ? -i : i))
                case .float(let d): return .signed(.float(op == "-" ? -d : d))
                case .complex(let re, let im):
                    return .signed(op == "-" ? .complex(-re, -im) : .complex(re, im))
                default: throw Syntax()
                }
            }
            return try parseAtom()
        }

        mutating func parseAtom() throws -> Operand {
            let token = try next()
            switch token {
            case .number(let o): return .plain(o)
            case .punct("..."): return .other(.ellipsis)
            case .name("True"): return .other(.bool(true))
            case .name("False"): return .other(.bool(false))
            case .name("None"): return .other(.none)
            case .name("set"):
                guard try next() == .punct("("), try next() == .punct(")") else { throw Syntax() }
                return .other(.set([]))
            case .string(let s, let isBytes, let isFormat, let raw):
                var text = s
                var bytes = raw
                var anyFormat = isFormat
                while case .string(let s2, let b2, let f2, let raw2) = try peek() {
                    _ = try next()
                    if b2 != isBytes { throw Syntax() }
                    text += s2
                    bytes += raw2
                    anyFormat = anyFormat || f2
                }
                if anyFormat { throw Syntax() }  // an f-string is a JoinedStr, not a constant
                return .other(isBytes ? .bytes(bytes) : .string(text))
            case .punct("("):
                if try peek() == .punct(")") {
                    _ = try next()
                    return .other(.tuple([]))
                }
                let firstOperand = try parseOperand()
                if try peek() == .punct(")") {
                    _ = try next()
                    // Parentheses do not make a node: what is inside keeps its kind.
                    return firstOperand
                }
                var items = [firstOperand.object]
                while try peek() == .punct(",") {
                    _ = try next()
                    if try peek() == .punct(")") { break }
                    items.append(try parseExpression())
                }
                guard try next() == .punct(")") else { throw Syntax() }
                return .other(.tuple(items))
            case .punct("["):
                var items: [Object] = []
                while try peek() != .punct("]") {
                    items.append(try parseExpression())
                    if try peek() == .punct(",") { _ = try next() } else { break }
                }
                guard try next() == .punct("]") else { throw Syntax() }
                return .other(.list(items))
            case .punct("{"):
                if try peek() == .punct("}") {
                    _ = try next()
                    return .other(.dict([]))
                }
                let first = try parseExpression()
                if try peek() == .punct(":") {
                    _ = try next()
                    var pairs = [(first, try parseExpression())]
                    while try peek() == .punct(",") {
                        _ = try next()
                        if try peek() == .punct("}") { break }
                        let k = try parseExpression()
                        guard try next() == .punct(":") else { throw Syntax() }
                        pairs.append((k, try parseExpression()))
                    }
                    guard try next() == .punct("}") else { throw Syntax() }
                    for (k, _) in pairs where !k.isHashable {
                        throw Failure(message: "unhashable type: '\(k.typeName)'")
                    }
                    return .other(.dict(pairs))
                }
                var items = [first]
                while try peek() == .punct(",") {
                    _ = try next()
                    if try peek() == .punct("}") { break }
                    items.append(try parseExpression())
                }
                guard try next() == .punct("}") else { throw Syntax() }
                for k in items where !k.isHashable {
                    throw Failure(message: "unhashable type: '\(k.typeName)'")
                }
                return .other(.set(items))
            default:
                throw Syntax()
            }
        }
    }
}
