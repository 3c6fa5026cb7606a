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
        var tokens: [String] = []
        var current: [UInt8] = []
        var hasCurrent = false
        var quote: UInt8 = 0
        var printDepth = 0, blockDepth = 0, commentDepth = 0
        let space = UInt8(ascii: " "), newline = UInt8(ascii: "\n"), backslash = UInt8(ascii: "\\")
        let lbrace = UInt8(ascii: "{"), rbrace = UInt8(ascii: "}"), percent = UInt8(ascii: "%")
        let hash = UInt8(ascii: "#"), dquote = UInt8(ascii: "\""), squote = UInt8(ascii: "'")
        // Leading and trailing spaces are dropped; a final newline stays (a YAML block scalar's).
        let all = Array(args.utf8)
        var start = 0, end = all.count
        while start < end && all[start] == space { start += 1 }
        while end > start && all[end - 1] == space { end -= 1 }
        func flush() {
            tokens.append(String(decoding: current, as: UTF8.self))
            current.removeAll(keepingCapacity: true)
            hasCurrent = false
        }
        var i = start
        while i < end {
            let c = all[i]
            let next: UInt8 = i + 1 < end ? all[i + 1] : 0
            // Jinja2 delimiters count inside quotes too (as in ansible-core's split_args).
            if c == lbrace && (next == lbrace || next == percent || next == hash) {
                if next == lbrace { printDepth += 1 } else if next == percent { blockDepth += 1 } else { commentDepth += 1 }
                current.append(c)
                current.append(next)
                hasCurrent = true
                i += 2
                continue
            }
            if next == rbrace
                && ((c == rbrace && printDepth > 0) || (c == percent && blockDepth > 0) || (c == hash && commentDepth > 0))
            {
                if c == rbrace { printDepth -= 1 } else if c == percent { blockDepth -= 1 } else { commentDepth -= 1 }
                current.append(c)
                current.append(next)
                i += 2
                continue
            }
            let inside = quote != 0 || printDepth > 0 || blockDepth > 0 || commentDepth > 0
            if c == backslash && i + 1 < end && quote != 0 {
                current.append(c)
                current.append(next)
                i += 2
                continue
            }
            if (c == dquote || c == squote) && printDepth == 0 && blockDepth == 0 && commentDepth == 0 {
                if quote == 0 {
                    quote = c
                } else if quote == c {
                    quote = 0
                }
                current.append(c)
                hasCurrent = true
                i += 1
                continue
            }
            if c == space && !inside {
                // Like ansible-core (which splits on single spaces), each further space is an empty word,
                // so the raw parameters keep their spacing when joined again.
                flush()
                i += 1
                continue
            }
            if c == newline && !inside {
                if current.last == backslash {
                    current.removeLast()
                } else {
                    current.append(newline)
                }
                flush()
                i += 1
                continue
            }
            current.append(c)
            hasCurrent = true
            i += 1
        }
        if quote != 0 || printDepth > 0 || blockDepth > 0 || commentDepth > 0 {
            throw ArgumentError(
                "failed at splitting arguments, either an unbalanced jinja2 block or quotes: \(args)")
        }
        if hasCurrent { tokens.append(String(decoding: current, as: UTF8.self)) }
        return tokens
    }

    /// `parse_kv`: `k=v` words become options (values unquoted), the rest joins into `_raw_params`.
    /// With `checkRaw` only the command options are taken out.
    public static func parseKeyValues(_ args: String, checkRaw: Bool) throws(ArgumentError) -> ValueDict {
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
