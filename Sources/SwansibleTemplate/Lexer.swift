import Foundation

/// Jinja2's lexer with ansible-core's settings: `{{ }}`, `{% %}`, `{# #}`, whitespace control with `-` and `+`,
/// `trim_blocks` on (the first newline after a block or comment tag is dropped), `lstrip_blocks` off,
/// `keep_trailing_newline` off, and newlines normalised to `\n`.

enum Op: String, Sendable {
    case add = "+"
    case sub = "-"
    case div = "/"
    case floordiv = "//"
    case mul = "*"
    case mod = "%"
    case pow = "**"
    case tilde = "~"
    case lbracket = "["
    case rbracket = "]"
    case lparen = "("
    case rparen = ")"
    case lbrace = "{"
    case rbrace = "}"
    case eq = "=="
    case ne = "!="
    case gt = ">"
    case gteq = ">="
    case lt = "<"
    case lteq = "<="
    case assign = "="
    case dot = "."
    case colon = ":"
    case pipe = "|"
    case comma = ","
    case semicolon = ";"
}

enum TokenKind: Sendable, Equatable {
    case data(String)
    case variableBegin, variableEnd, blockBegin, blockEnd
    case name(String)
    case string(String)
    case integer(Int)
    case float(Double)
    case op(Op)
    case eof
}

struct Token: Sendable {
    var kind: TokenKind
    var line: Int

    /// How Jinja2 names the token in messages (`describe_token`).
    var description: String {
        switch kind {
        case .data: return "template data / text"
        case .variableBegin: return "begin of print statement"
        case .variableEnd: return "end of print statement"
        case .blockBegin: return "begin of statement block"
        case .blockEnd: return "end of statement block"
        case .name(let n): return n
        case .string: return "string"
        case .integer: return "integer"
        case .float: return "float"
        case .op(let o): return o.rawValue
        case .eof: return "end of template"
        }
    }

    func isName(_ n: String) -> Bool {
        if case .name(let m) = kind { return m == n }
        return false
    }

    func isOp(_ o: Op) -> Bool {
        if case .op(let p) = kind { return p == o }
        return false
    }
}

/// A syntax error found while lexing or parsing, in Jinja2's words.
struct SyntaxError: Error {
    var message: String
    var line: Int
}

struct Lexer {
    private let config: TemplateOverrides
    private let src: [Unicode.Scalar]
    private var pos = 0
    private var line = 1
    private(set) var tokens: [Token] = []
    /// Ansible pre-escapes backslashes in string literals inside `{{ }}` of templates (not of `{% %}` and not of bare
    /// expressions), so that YAML's escaping is the only one applied.
    private let escapeBackslashes: Bool

    /// Tokenizes a whole template.
    static func tokenize(
        template: String, escapeBackslashes: Bool, overrides: TemplateOverrides = TemplateOverrides()
    ) throws(SyntaxError) -> [Token] {
        var lexer = Lexer(source: template, escapeBackslashes: escapeBackslashes, config: overrides)
        try lexer.lexRoot()
        lexer.tokens.append(Token(kind: .eof, line: lexer.line))
        return lexer.tokens
    }

    /// Tokenizes a bare expression (Jinja2's `compile_expression`: the lexer starts inside `{{`).
    static func tokenize(expression: String) throws(SyntaxError) -> [Token] {
        var lexer = Lexer(source: expression, escapeBackslashes: false, config: TemplateOverrides())
        let ended = try lexer.lexTag(variable: true)
        if ended {
            // `}}` inside a bare expression ends the "print statement"; Jinja2 then lexes template data.
            lexer.tokens.append(Token(kind: .variableEnd, line: lexer.line))
            try lexer.lexRoot()
        }
        lexer.tokens.append(Token(kind: .eof, line: lexer.line))
        return lexer.tokens
    }

    private init(source: String, escapeBackslashes: Bool, config: TemplateOverrides) {
        self.config = config
        // Normalise \r\n and \r to \n and drop one trailing newline (keep_trailing_newline=False).
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(source.unicodeScalars.count)
        var previousCR = false
        for s in source.unicodeScalars {
            if s == "\r" {
                scalars.append("\n")
                previousCR = true
                continue
            }
            if s == "\n" && previousCR {
                previousCR = false
                continue
            }
            previousCR = false
            scalars.append(s)
        }
        if !config.keepTrailingNewline && scalars.last == "\n" { scalars.removeLast() }
        self.src = scalars
        self.escapeBackslashes = escapeBackslashes
    }

    private func at(_ i: Int) -> Unicode.Scalar? { i < src.count ? src[i] : nil }

    private func matches(_ s: String, at i: Int) -> Bool {
        var j = i
        for c in s.unicodeScalars {
            guard j < src.count, src[j] == c else { return false }
            j += 1
        }
        return true
    }

    private static func isSpace(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0: return true
        default: return s.properties.isWhitespace
        }
    }

    private func text(_ from: Int, _ to: Int) -> String {
        var s = String.UnicodeScalarView()
        s.append(contentsOf: src[from..<to])
        return String(s)
    }

    private mutating func advance(to newPos: Int) {
        for i in pos..<newPos where src[i] == "\n" { line += 1 }
        pos = newPos
    }

    private func skipSpace(from i: Int) -> Int {
        var j = i
        while j < src.count, Lexer.isSpace(src[j]) { j += 1 }
        return j
    }

    /// Whether the last tag ended a line (Jinja2's `line_starting`, for lstrip_blocks).
    private var lineStarting = true

    /// Emits data, rstripping it when the following tag starts with `-`; with lstrip_blocks, whitespace between a
    /// line start and a block or comment tag (sign not `+`) is dropped.
    private mutating func emitData(upTo end: Int, strip: Bool, sign: Unicode.Scalar? = nil, lstrip: Bool = false) {
        var stop = end
        if strip {
            while stop > pos, Lexer.isSpace(src[stop - 1]) { stop -= 1 }
        } else if lstrip, config.lstripBlocks, sign != "+" {
            var lineStart = stop
            while lineStart > pos, src[lineStart - 1] != "\n" { lineStart -= 1 }
            if (lineStart > pos || (lineStart == pos && lineStarting)) && lineStart < stop
                && src[lineStart..<stop].allSatisfy(Lexer.isSpace)
            {
                stop = lineStart
            }
        }
        if stop > pos {
            var data = text(pos, stop)
            if config.newlineSequence != "\n" {
                data = data.replacingOccurrences(of: "\n", with: config.newlineSequence)
            }
            tokens.append(Token(kind: .data(data), line: line))
        }
        advance(to: end)
    }

    // MARK: root state

    private mutating func lexRoot() throws(SyntaxError) {
        let starts: [(String, Unicode.Scalar)] = [
            (config.blockStart, "%"), (config.variableStart, "{"), (config.commentStart, "#"),
        ].sorted { $0.0.unicodeScalars.count > $1.0.unicodeScalars.count }
        while pos < src.count {
            // Find the next tag start (longer delimiters first at the same position, as Jinja2 orders its rules).
            var i = pos
            var found: (start: Int, kind: Unicode.Scalar, length: Int)? = nil
            search: while i < src.count {
                for (delimiter, kind) in starts where matches(delimiter, at: i) {
                    found = (i, kind, delimiter.unicodeScalars.count)
                    break search
                }
                i += 1
            }
            guard let (start, kind, length) = found else {
                emitData(upTo: src.count, strip: false)
                return
            }
            if kind == "%", let raw = rawBegin(at: start) {
                emitData(upTo: start, strip: raw.sign == "-", sign: raw.sign, lstrip: true)
                advance(to: raw.end)
                lineStarting = false
                try lexRaw()
                continue
            }
            var after = start + length
            var sign: Unicode.Scalar? = nil
            if let c = at(after), c == "-" || c == "+" {
                sign = c
                after += 1
            }
            emitData(upTo: start, strip: sign == "-", sign: sign, lstrip: kind != "{")
            advance(to: after)
            switch kind {
            case "#": try lexComment()
            case "{":
                tokens.append(Token(kind: .variableBegin, line: line))
                if try !lexTag(variable: true) { return }
                tokens.append(Token(kind: .variableEnd, line: line))
            default:
                tokens.append(Token(kind: .blockBegin, line: line))
                if try !lexTag(variable: false) { return }
                tokens.append(Token(kind: .blockEnd, line: line))
            }
            lineStarting = pos > 0 && src[pos - 1] == "\n"
        }
    }

    /// `{%[-+]?\s*raw\s*(-%}\s*|%})` at `i`: where the raw data starts, and the sign before `raw`.
    private func rawBegin(at i: Int) -> (end: Int, sign: Unicode.Scalar?)? {
        var j = i + config.blockStart.unicodeScalars.count
        var sign: Unicode.Scalar? = nil
        if let c = at(j), c == "-" || c == "+" {
            sign = c
            j += 1
        }
        j = skipSpace(from: j)
        guard matches("raw", at: j) else { return nil }
        j += 3
        j = skipSpace(from: j)
        let end = config.blockEnd.unicodeScalars.count
        if matches("-" + config.blockEnd, at: j) { return (skipSpace(from: j + 1 + end), sign) }
        if matches(config.blockEnd, at: j) { return (j + end, sign) }
        return nil
    }

    /// The end of a block-like closing tag at `j`: `+%}`, `-%}` and the space after it, or `%}` and a newline when
    /// trim_blocks is on.
    private func blockLikeEnd(_ delimiter: String, at j: Int) -> Int? {
        let n = delimiter.unicodeScalars.count
        if matches("+" + delimiter, at: j) { return j + 1 + n }
        if matches("-" + delimiter, at: j) { return skipSpace(from: j + 1 + n) }
        if matches(delimiter, at: j) { return config.trimBlocks && at(j + n) == "\n" ? j + n + 1 : j + n }
        return nil
    }

    private mutating func lexRaw() throws(SyntaxError) {
        var i = pos
        while i < src.count {
            if matches(config.blockStart, at: i) {
                var j = i + config.blockStart.unicodeScalars.count
                var sign: Unicode.Scalar? = nil
                if let c = at(j), c == "-" || c == "+" {
                    sign = c
                    j += 1
                }
                j = skipSpace(from: j)
                if matches("endraw", at: j), let end = blockLikeEnd(config.blockEnd, at: skipSpace(from: j + 6)) {
                    emitData(upTo: i, strip: sign == "-", sign: sign, lstrip: true)
                    advance(to: end)
                    lineStarting = pos > 0 && src[pos - 1] == "\n"
                    return
                }
            }
            i += 1
        }
        throw SyntaxError(message: "Missing end of raw directive", line: line)
    }

    private mutating func lexComment() throws(SyntaxError) {
        var i = pos
        while i < src.count {
            if let end = blockLikeEnd(config.commentEnd, at: i) {
                advance(to: end)
                return
            }
            i += 1
        }
        throw SyntaxError(message: "Missing end of comment tag", line: line)
    }

    // MARK: inside {{ }} and {% %}

    /// Lexes expression tokens until the closing tag. Returns false at the end of input without a closing tag.
    private mutating func lexTag(variable: Bool) throws(SyntaxError) -> Bool {
        var balance: [Unicode.Scalar] = []
        while true {
            guard pos < src.count else { return false }
            if balance.isEmpty, let end = tagEnd(variable: variable) {
                advance(to: end)
                return true
            }
            let c = src[pos]
            if Lexer.isSpace(c) {
                advance(to: skipSpace(from: pos))
                continue
            }
            if let (end, value) = number(at: pos) {
                tokens.append(Token(kind: value, line: line))
                advance(to: end)
                continue
            }
            if Lexer.isNameStart(c) {
                var j = pos + 1
                while j < src.count, Lexer.isNameContinue(src[j]) { j += 1 }
                tokens.append(Token(kind: .name(text(pos, j)), line: line))
                advance(to: j)
                continue
            }
            if c == "'" || c == "\"" {
                var j = pos + 1
                var closed = false
                while j < src.count {
                    if src[j] == "\\" {
                        j += 2
                        continue
                    }
                    if src[j] == c {
                        closed = true
                        break
                    }
                    j += 1
                }
                guard closed, j < src.count else {
                    throw SyntaxError(message: "unexpected char \(pyRepr(.string(String(c)))) at \(pos)", line: line)
                }
                var raw = text(pos + 1, j)
                if config.newlineSequence != "\n" {
                    raw = raw.replacingOccurrences(of: "\n", with: config.newlineSequence)
                }
                let value = escapeBackslashes && variable ? raw : try Lexer.unescape(raw, line: line)
                tokens.append(Token(kind: .string(value), line: line))
                advance(to: j + 1)
                continue
            }
            if let (op, len) = operatorAt(pos) {
                switch op {
                case .lbrace: balance.append("}")
                case .lparen: balance.append(")")
                case .lbracket: balance.append("]")
                case .rbrace, .rparen, .rbracket:
                    guard let expected = balance.popLast() else {
                        throw SyntaxError(message: "unexpected '\(op.rawValue)'", line: line)
                    }
                    if String(expected) != op.rawValue {
                        throw SyntaxError(message: "unexpected '\(op.rawValue)', expected '\(expected)'", line: line)
                    }
                default: break
                }
                tokens.append(Token(kind: .op(op), line: line))
                advance(to: pos + len)
                continue
            }
            throw SyntaxError(message: "unexpected char \(pyRepr(.string(String(c)))) at \(pos)", line: line)
        }
    }

    /// The position after the closing tag at `pos`, if there is one.
    private func tagEnd(variable: Bool) -> Int? {
        if variable {
            let n = config.variableEnd.unicodeScalars.count
            if matches("-" + config.variableEnd, at: pos) { return skipSpace(from: pos + 1 + n) }
            if matches(config.variableEnd, at: pos) { return pos + n }
            return nil
        }
        return blockLikeEnd(config.blockEnd, at: pos)
    }

    private func operatorAt(_ i: Int) -> (Op, Int)? {
        if i + 1 < src.count {
            let two = String(String.UnicodeScalarView([src[i], src[i + 1]]))
            if let op = Op(rawValue: two) { return (op, 2) }
        }
        if let op = Op(rawValue: String(src[i])) { return (op, 1) }
        return nil
    }

    static func isNameStart(_ c: Unicode.Scalar) -> Bool {
        if c == "_" { return true }
        if c.isASCII { return (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") }
        return c.properties.isXIDStart
    }

    static func isNameContinue(_ c: Unicode.Scalar) -> Bool {
        if c == "_" { return true }
        if c.isASCII { return (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") }
        return c.properties.isXIDContinue
    }

    private static func isDigit(_ c: Unicode.Scalar?) -> Bool {
        guard let c else { return false }
        return c >= "0" && c <= "9"
    }

    /// `(\d+_)*\d+` at i: the end, or nil.
    private func digits(at i: Int, allowed: (Unicode.Scalar) -> Bool = { $0 >= "0" && $0 <= "9" }) -> Int? {
        var j = i
        guard let c = at(j), allowed(c) else { return nil }
        while true {
            while let c = at(j), allowed(c) { j += 1 }
            if at(j) == "_", let c = at(j + 1), allowed(c) {
                j += 1
                continue
            }
            return j
        }
    }

    /// Jinja2's float and integer rules (floats first; a float never starts right after a `.`).
    private func number(at i: Int) -> (Int, TokenKind)? {
        guard Lexer.isDigit(at(i)) else { return nil }
        if i == 0 || src[i - 1] != ".", let intEnd = digits(at: i) {
            var j = intEnd
            var isFloat = false
            if at(j) == ".", let fracEnd = digits(at: j + 1) {
                j = fracEnd
                isFloat = true
            }
            if let e = at(j), e == "e" || e == "E" {
                var k = j + 1
                if let s = at(k), s == "+" || s == "-" { k += 1 }
                if let expEnd = digits(at: k) {
                    j = expEnd
                    isFloat = true
                }
            }
            if isFloat {
                let t = text(i, j).replacingOccurrences(of: "_", with: "")
                return (j, .float(Double(t) ?? .infinity))
            }
        }
        // Integers: 0b…, 0o…, 0x…, decimal, or zeros.
        if at(i) == "0", let p = at(i + 1) {
            let radixes: [(Unicode.Scalar, Int, (Unicode.Scalar) -> Bool)] = [
                ("b", 2, { $0 == "0" || $0 == "1" }),
                ("o", 8, { $0 >= "0" && $0 <= "7" }),
                ("x", 16, { $0.properties.isASCIIHexDigit }),
            ]
            for (letter, radix, allowed) in radixes where p == letter || p == Unicode.Scalar(letter.value - 32)! {
                // (_?[digits])+
                var j = i + 2
                var any = false
                while true {
                    if let c = at(j), allowed(c) {
                        j += 1
                        any = true
                    } else if at(j) == "_", let c = at(j + 1), allowed(c) {
                        j += 2
                        any = true
                    } else {
                        break
                    }
                }
                if any {
                    let t = text(i + 2, j).replacingOccurrences(of: "_", with: "")
                    return (j, Int(t, radix: radix).map { .integer($0) } ?? .float(Double(t) ?? .infinity))
                }
            }
        }
        if at(i) == "0" {
            var j = i + 1
            while true {
                if at(j) == "0" {
                    j += 1
                } else if at(j) == "_", at(j + 1) == "0" {
                    j += 2
                } else {
                    break
                }
            }
            return (j, .integer(0))
        }
        guard let end = digits(at: i) else { return nil }
        let t = text(i, end).replacingOccurrences(of: "_", with: "")
        // Beyond 64 bits: Python would keep an exact integer; we can only approximate.
        return (end, Int(t).map { .integer($0) } ?? .float(Double(t) ?? .infinity))
    }

    /// Python's `unicode-escape` decoding of a string literal's body.
    static func unescape(_ raw: String, line: Int) throws(SyntaxError) -> String {
        guard raw.unicodeScalars.contains("\\") else { return raw }
        var out = String.UnicodeScalarView()
        let s = Array(raw.unicodeScalars)
        var i = 0
        func hex(_ count: Int, _ name: String) throws(SyntaxError) -> Unicode.Scalar {
            var v: UInt32 = 0
            for k in 1...count {
                guard i + k < s.count, s[i + k].properties.isASCIIHexDigit,
                    let d = UInt32(String(s[i + k]), radix: 16)
                else { throw SyntaxError(message: "truncated \(name) escape", line: line) }
                v = v * 16 + d
            }
            guard let scalar = Unicode.Scalar(v) else {
                throw SyntaxError(message: "illegal Unicode character", line: line)
            }
            i += count
            return scalar
        }
        while i < s.count {
            let c = s[i]
            guard c == "\\", i + 1 < s.count else {
                if c == "\\" { throw SyntaxError(message: "\\ at end of string", line: line) }
                out.append(c)
                i += 1
                continue
            }
            i += 1
            let e = s[i]
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
                var v = e.value - 0x30
                var n = 1
                while n < 3, i + 1 < s.count, s[i + 1] >= "0", s[i + 1] <= "7" {
                    i += 1
                    v = v * 8 + (s[i].value - 0x30)
                    n += 1
                }
                out.append(Unicode.Scalar(v) ?? "\u{FFFD}")
            case "x": out.append(try hex(2, "\\xXX"))
            case "u": out.append(try hex(4, "\\uXXXX"))
            case "U": out.append(try hex(8, "\\UXXXXXXXX"))
            default:
                out.append("\\")
                out.append(e)
            }
            i += 1
        }
        return String(out)
    }
}
