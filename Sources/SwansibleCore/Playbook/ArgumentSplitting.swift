public import SwansibleData

/// Ansible's free-form argument handling (`k=v` strings such as `command: echo "a b" chdir=/tmp`).
public enum ArgumentSplitting {
    /// The modules whose free form is a command line: only their own options are taken out as `k=v`;
    /// every other word stays in `_raw_params`.
    public static let rawParamModules: Set<String> = [
        "command", "shell", "raw", "script", "win_command", "win_shell", "include_vars", "include_tasks",
        "import_tasks", "include_role", "import_role", "add_host", "group_by", "set_fact", "meta",
    ]

    /// The options `command`/`shell` take out of a free-form line.
    static let commandOptions: Set<String> = [
        "creates", "removes", "chdir", "executable", "warn", "stdin", "stdin_add_newline", "strip_empty_ends",
    ]

    /// Splits on spaces and newlines like ansible-core's `split_args`: quoted strings and Jinja2 blocks
    /// (`{{ }}`, `{% %}`, `{# #}`) stay whole, quotes are kept, a backslash before a newline joins lines.
    /// Works on UTF-8 bytes: every delimiter is ASCII, which never occurs inside a multi-byte character.
    public static func splitArgs(_ args: String) throws(ArgumentError) -> [String] {
        let all = Array(args.utf8)
        guard let words = all.withUnsafeBufferPointer({ splitArgRanges($0) }) else { throw splitError(args) }
        return words.map { String(decoding: all[$0], as: UTF8.self) }
    }

    static func splitError(_ args: String) -> ArgumentError {
        ArgumentError("failed at splitting arguments, either an unbalanced jinja2 block or quotes: \(args)")
    }

    /// ``splitArgs(_:)`` as the byte ranges of the words (nil: unbalanced quotes or Jinja2 blocks). A word is
    /// always a contiguous range of the input: every byte read goes into the current word, less a backslash
    /// that joins lines (which ends the word before it), plus the newline that ends a line.
    static func splitArgRanges(_ all: UnsafeBufferPointer<UInt8>) -> [Range<Int>]? {
        var tokens: [Range<Int>] = []
        var quote: UInt8 = 0
        var printDepth = 0, blockDepth = 0, commentDepth = 0
        let space = UInt8(ascii: " "), newline = UInt8(ascii: "\n"), backslash = UInt8(ascii: "\\")
        let lbrace = UInt8(ascii: "{"), rbrace = UInt8(ascii: "}"), percent = UInt8(ascii: "%")
        let hash = UInt8(ascii: "#"), dquote = UInt8(ascii: "\""), squote = UInt8(ascii: "'")
        // Leading and trailing spaces are dropped; a final newline stays (a YAML block scalar's).
        var start = 0, end = all.count
        while start < end && all[start] == space { start += 1 }
        while end > start && all[end - 1] == space { end -= 1 }
        // Every byte read goes into the current word, so a word is the bytes from `wordStart` to where it
        // ends (less a backslash that joins lines, plus the newline that ends a line).
        var wordStart = start
        var i = start
        while i < end {
            let c = all[i]
            let next: UInt8 = i + 1 < end ? all[i + 1] : 0
            // Jinja2 delimiters count inside quotes too (as in ansible-core's split_args).
            if c == lbrace && (next == lbrace || next == percent || next == hash) {
                if next == lbrace { printDepth += 1 } else if next == percent { blockDepth += 1 } else { commentDepth += 1 }
                i += 2
                continue
            }
            if next == rbrace
                && ((c == rbrace && printDepth > 0) || (c == percent && blockDepth > 0) || (c == hash && commentDepth > 0))
            {
                if c == rbrace { printDepth -= 1 } else if c == percent { blockDepth -= 1 } else { commentDepth -= 1 }
                i += 2
                continue
            }
            let inside = quote != 0 || printDepth > 0 || blockDepth > 0 || commentDepth > 0
            if c == backslash && i + 1 < end && quote != 0 {
                i += 2
                continue
            }
            if (c == dquote || c == squote) && printDepth == 0 && blockDepth == 0 && commentDepth == 0 {
                if quote == 0 {
                    quote = c
                } else if quote == c {
                    quote = 0
                }
                i += 1
                continue
            }
            if c == space && !inside {
                // Like ansible-core (which splits on single spaces), each further space is an empty word,
                // so the raw parameters keep their spacing when joined again.
                tokens.append(wordStart..<i)
                i += 1
                wordStart = i
                continue
            }
            if c == newline && !inside {
                tokens.append(i > wordStart && all[i - 1] == backslash ? wordStart..<(i - 1) : wordStart..<(i + 1))
                i += 1
                wordStart = i
                continue
            }
            i += 1
        }
        if quote != 0 || printDepth > 0 || blockDepth > 0 || commentDepth > 0 { return nil }
        if end > wordStart { tokens.append(wordStart..<end) }
        return tokens
    }

    /// `parse_kv`: `k=v` words become options (values unquoted), the rest joins into `_raw_params`.
    /// With `checkRaw` only the command options are taken out.
    public static func parseKeyValues(_ args: String, checkRaw: Bool) throws(ArgumentError) -> ValueDict {
        // ASCII without carriage returns (nearly every task): a Character is one byte there, so the work can
        // be done on UTF-8 bytes with the same results as the Character-based general path.
        let simple = args.utf8.withContiguousStorageIfAvailable { bytes in
            for c in bytes where c >= 0x80 || c == UInt8(ascii: "\r") { return false }
            return true
        }
        if simple ?? args.utf8.allSatisfy({ $0 < 0x80 && $0 != UInt8(ascii: "\r") }) {
            return try parseKeyValuesASCII(args, checkRaw: checkRaw)
        }
        return try parseKeyValuesCharacters(args, checkRaw: checkRaw)
    }

    /// ``parseKeyValues(_:checkRaw:)`` on Characters (any text).
    static func parseKeyValuesCharacters(_ args: String, checkRaw: Bool) throws(ArgumentError) -> ValueDict {
        var options = ValueDict()
        var raw: [String] = []
        for word in try splitArgs(args) {
            guard let eq = unescapedEquals(word) else {
                raw.append(word.contains("\\=") ? word.replacingAll("\\=", with: "=") : word)
                continue
            }
            let key = String(word[..<eq])
            let value = String(word[word.index(after: eq)...])
            if checkRaw && !commandOptions.contains(key) {
                raw.append(word)
            } else {
                options[key.trimmingSpaces()] = .string(unquote(value.trimmingSpaces()))
            }
        }
        if !raw.isEmpty { options["_raw_params"] = .string(joinArgs(raw)) }
        return options
    }

    /// ``parseKeyValues(_:checkRaw:)`` for ASCII text without `\r`, on bytes: the words are ranges of the
    /// input, and `_raw_params` is assembled from them in one buffer.
    static func parseKeyValuesASCII(_ args: String, checkRaw: Bool) throws(ArgumentError) -> ValueDict {
        let result = args.utf8.withContiguousStorageIfAvailable { parseKeyValuesASCII(bytes: $0, checkRaw: checkRaw) }
            ?? Array(args.utf8).withUnsafeBufferPointer { parseKeyValuesASCII(bytes: $0, checkRaw: checkRaw) }
        guard let result else { throw splitError(args) }
        return result
    }

    /// nil when the words cannot be split (unbalanced quotes or Jinja2 blocks).
    private static func parseKeyValuesASCII(bytes all: UnsafeBufferPointer<UInt8>, checkRaw: Bool) -> ValueDict? {
        guard let words = splitArgRanges(all) else { return nil }
        let backslash = UInt8(ascii: "\\"), equals = UInt8(ascii: "="), newline = UInt8(ascii: "\n")
        func string(_ range: Range<Int>) -> String {
            String(decoding: UnsafeBufferPointer(rebasing: all[range]), as: UTF8.self)
        }
        var options = ValueDict()
        // The raw words joined: a space between two words unless the first ends a line.
        var raw: [UInt8] = []
        var hasRaw = false
        var rawEndsLine = false
        func appendRaw(_ word: Range<Int>, unescapingEquals: Bool) {
            if hasRaw && !rawEndsLine { raw.append(UInt8(ascii: " ")) }
            let wordStart = raw.count
            if unescapingEquals {
                // `\=` becomes `=` (each `=` takes away the backslash just before it in the result).
                for c in all[word] {
                    if c == equals, raw.count > wordStart, raw[raw.count - 1] == backslash { raw.removeLast() }
                    raw.append(c)
                }
            } else {
                raw.append(contentsOf: all[word])
            }
            hasRaw = true
            rawEndsLine = raw.count > wordStart && raw[raw.count - 1] == newline
        }
        for word in words {
            // The first `=` not after a backslash, past the word's first byte (ansible-core searches from 1).
            var eq = -1
            var escaped = false
            var k = word.lowerBound + 1
            while k < word.upperBound {
                if all[k] == equals {
                    if all[k - 1] != backslash {
                        eq = k
                        break
                    }
                    escaped = true
                }
                k += 1
            }
            guard eq >= 0 else {
                appendRaw(word, unescapingEquals: escaped)
                continue
            }
            let key = word.lowerBound..<eq
            if checkRaw && !isCommandOption(all[key]) {
                appendRaw(word, unescapingEquals: false)
            } else {
                let value = unquoteASCII(trimASCII(all, (eq + 1)..<word.upperBound), all)
                options[string(trimASCII(all, key))] = .string(string(value))
            }
        }
        if hasRaw { options["_raw_params"] = .string(String(decoding: raw, as: UTF8.self)) }
        return options
    }

    private static let commandOptionBytes: [[UInt8]] = commandOptions.map { Array($0.utf8) }

    /// `commandOptions.contains(key)` on bytes.
    private static func isCommandOption(_ key: Slice<UnsafeBufferPointer<UInt8>>) -> Bool {
        for option in commandOptionBytes where option.count == key.count && option.elementsEqual(key) { return true }
        return false
    }

    /// Drops spaces, tabs, newlines and carriage returns at both ends.
    private static func trimASCII(_ all: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Range<Int> {
        func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D }
        var start = range.lowerBound, end = range.upperBound
        while start < end, isSpace(all[start]) { start += 1 }
        while end > start, isSpace(all[end - 1]) { end -= 1 }
        return start..<end
    }

    /// ``unquote(_:)`` on bytes.
    private static func unquoteASCII(_ range: Range<Int>, _ all: UnsafeBufferPointer<UInt8>) -> Range<Int> {
        guard range.count >= 2 else { return range }
        let f = all[range.lowerBound]
        guard f == all[range.upperBound - 1], f == UInt8(ascii: "\"") || f == UInt8(ascii: "'") else { return range }
        return (range.lowerBound + 1)..<(range.upperBound - 1)
    }

    /// `join_args`: words joined by a space, except after a word that ends a line.
    static func joinArgs(_ words: [String]) -> String {
        var out = ""
        for (i, w) in words.enumerated() {
            if i > 0 && !words[i - 1].hasSuffix("\n") { out += " " }
            out += w
        }
        return out
    }

    private static func unescapedEquals(_ word: String) -> String.Index? {
        // On UTF-8 bytes: '=' and '\\' are ASCII, so a byte match is a character boundary.
        let utf8 = word.utf8
        var previous: UInt8 = 0
        var index = utf8.startIndex
        var first = true
        while index < utf8.endIndex {
            let c = utf8[index]
            // A leading '=' does not split (ansible-core searches from position 1).
            if c == UInt8(ascii: "=") && !first && previous != UInt8(ascii: "\\") { return index }
            previous = c
            first = false
            index = utf8.index(after: index)
        }
        return nil
    }

    /// Strips one pair of matching surrounding quotes.
    public static func unquote(_ s: String) -> String {
        guard s.count >= 2, let f = s.first, f == s.last, f == "\"" || f == "'" else { return s }
        return String(s.dropFirst().dropLast())
    }

    /// Python's `shlex.split` (POSIX mode): how `command` turns its free form into argv.
    public static func shlexSplit(_ s: String) throws(ArgumentError) -> [String] {
        // Code points, as Python sees them (not grapheme clusters: a quote followed by a combining mark, or
        // "\r\n", are two characters for shlex).
        var words: [String] = []
        var word = String.UnicodeScalarView()
        var inWord = false
        var quote: Unicode.Scalar? = nil
        var escaped = false
        for c in s.unicodeScalars {
            if escaped {
                if quote == "\"" && !["\\", "\"", "$", "`", "\n"].contains(c) { word.append("\\") }
                if !(quote == nil && c == "\n") { word.append(c) }
                escaped = false
                inWord = true
                continue
            }
            if let q = quote {
                if c == q { quote = nil }
                else if c == "\\" && q == "\"" { escaped = true }
                else { word.append(c) }
                continue
            }
            switch c {
            case "\\": escaped = true; inWord = true
            case "'", "\"": quote = c; inWord = true
            case " ", "\t", "\n", "\r":
                if inWord { words.append(String(word)); word = String.UnicodeScalarView(); inWord = false }
            default: word.append(c); inWord = true
            }
        }
        if quote != nil { throw ArgumentError("No closing quotation") }
        if escaped { throw ArgumentError("No escaped character") }
        if inWord { words.append(String(word)) }
        return words
    }
}

public struct ArgumentError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\n" || f == "\r" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\n" || l == "\r" { s.removeLast() }
        return String(s)
    }

    /// Python's `str.replace`: matched code point by code point (not by grapheme cluster, so a target
    /// followed by a combining mark still matches).
    func replacingAll(_ target: String, with replacement: String) -> String {
        let t = Array(target.unicodeScalars)
        guard !t.isEmpty else { return self }
        let s = Array(unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        while i < s.count {
            if s[i] == t[0], i + t.count <= s.count, Array(s[i..<(i + t.count)]) == t {
                out.append(contentsOf: replacement.unicodeScalars)
                i += t.count
            } else {
                out.append(s[i])
                i += 1
            }
        }
        return String(out)
    }
}
