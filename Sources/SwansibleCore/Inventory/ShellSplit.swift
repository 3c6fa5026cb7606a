/// Python's `shlex.split(text, comments=…, posix=True)`, which ansible-core's INI plugin uses to cut a host
/// line into its name and `key=value` words.
enum ShellSplit {
    enum Failure: Error, Equatable {
        case noClosingQuotation
        case noEscapedCharacter

        /// The `ValueError` text Python gives.
        var message: String {
            switch self {
            case .noClosingQuotation: return "No closing quotation"
            case .noEscapedCharacter: return "No escaped character"
            }
        }
    }

    static func split(_ text: String, comments: Bool) throws(Failure) -> [String] {
        var words: [String] = []
        var token = ""
        var quoted = false
        var inWord = false
        var chars = Array(text.unicodeScalars)[...]

        func isSpace(_ c: Unicode.Scalar) -> Bool { c == " " || c == "\t" || c == "\r" || c == "\n" }

        func finish() {
            if inWord && (!token.isEmpty || quoted) { words.append(token) }
            token = ""
            quoted = false
            inWord = false
        }

        while let c = chars.popFirst() {
            if isSpace(c) {
                finish()
                continue
            }
            if comments && c == "#" {
                // A comment runs to the end of the line; a word before it ends there.
                finish()
                while let d = chars.first, d != "\n" { chars.removeFirst() }
                continue
            }
            inWord = true
            switch c {
            case "\\":
                guard let next = chars.popFirst() else { throw .noEscapedCharacter }
                token.unicodeScalars.append(next)
            case "'":
                quoted = true
                while true {
                    guard let d = chars.popFirst() else { throw .noClosingQuotation }
                    if d == "'" { break }
                    token.unicodeScalars.append(d)
                }
            case "\"":
                quoted = true
                while true {
                    guard let d = chars.popFirst() else { throw .noClosingQuotation }
                    if d == "\"" { break }
                    if d == "\\" {
                        guard let e = chars.popFirst() else { throw .noEscapedCharacter }
                        // Inside double quotes a backslash escapes only the quote and itself.
                        if e != "\"" && e != "\\" { token.unicodeScalars.append(d) }
                        token.unicodeScalars.append(e)
                        continue
                    }
                    token.unicodeScalars.append(d)
                }
            default:
                token.unicodeScalars.append(c)
            }
        }
        finish()
        return words
    }
}
