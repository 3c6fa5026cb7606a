import Foundation
import SwansibleData
import Synchronization

/// Python `re` patterns run on Swift's Regex engine.
///
/// The pattern is translated where the two dialects differ: `(?P<name>…)` and `(?P=name)`, `$` (Python's also
/// matches before a final newline), `\Z` (absolute end in Python), a `{` that is not a quantifier (a literal in
/// Python). Matching works on Unicode scalars (Python's code points) with simple word boundaries.
/// Known gaps: lookbehind assertions are not supported by Swift's engine; compile errors have Swift's wording.
struct PyRegex {
    struct Flags: OptionSet, Hashable {
        let rawValue: Int
        static let ignoreCase = Flags(rawValue: 1)
        static let multiline = Flags(rawValue: 2)
        static let dotAll = Flags(rawValue: 4)
    }

    private struct Key: Hashable {
        var pattern: String
        var flags: Flags
    }

    /// The engine: Swift's Regex, or ICU's (NSRegularExpression) for what Swift's lacks, such as lookbehind.
    enum Engine {
        case swift(Regex<AnyRegexOutput>)
        case icu(NSRegularExpression, names: [String: Int])
    }

    private final class Box: @unchecked Sendable {
        let engine: Engine
        init(_ engine: Engine) { self.engine = engine }
    }

    private static let cache = Mutex<[Key: Box]>([:])

    let engine: Engine

    init(_ pattern: String, flags: Flags = []) throws(PyError) {
        let key = Key(pattern: pattern, flags: flags)
        if let hit = PyRegex.cache.withLock({ $0[key] }) {
            engine = hit.engine
            return
        }
        let translated = PyRegex.translate(pattern, multiline: flags.contains(.multiline))
        do {
            var r = try Regex(translated)
            r = r.matchingSemantics(.unicodeScalar).wordBoundaryKind(.simple)
            if flags.contains(.ignoreCase) { r = r.ignoresCase() }
            if flags.contains(.multiline) { r = r.anchorsMatchLineEndings() }
            if flags.contains(.dotAll) { r = r.dotMatchesNewlines() }
            engine = .swift(r)
        } catch {
            var options: NSRegularExpression.Options = []
            if flags.contains(.ignoreCase) { options.insert(.caseInsensitive) }
            if flags.contains(.multiline) { options.insert(.anchorsMatchLines) }
            if flags.contains(.dotAll) { options.insert(.dotMatchesLineSeparators) }
            guard let icu = try? NSRegularExpression(pattern: translated, options: options) else {
                throw PyError(PyRegex.syntaxError(pattern) ?? "\(error)")
            }
            engine = .icu(icu, names: PyRegex.groupNames(translated))
        }
        let box = Box(engine)
        PyRegex.cache.withLock {
            if $0.count > 2000 { $0.removeAll() }
            $0[key] = box
        }
    }

    /// Python's `re.error` text for the common mistakes in a pattern that did not compile (unbalanced
    /// parentheses, an unterminated character set, a quantifier with nothing to repeat, a trailing backslash);
    /// nil when none is found.
    static func syntaxError(_ pattern: String) -> String? {
        let s = Array(pattern.unicodeScalars)
        var open: [Int] = []
        var i = 0
        var atomStart = true  // nothing before that a quantifier could repeat
        var afterQuantifier = false
        while i < s.count {
            let c = s[i]
            switch c {
            case "\\":
                if i + 1 >= s.count { return "bad escape (end of pattern) at position \(i)" }
                i += 2
                atomStart = false
                afterQuantifier = false
                continue
            case "[":
                var j = i + 1
                if j < s.count, s[j] == "^" { j += 1 }
                if j < s.count, s[j] == "]" { j += 1 }
                while j < s.count, s[j] != "]" { j += s[j] == "\\" ? 2 : 1 }
                if j >= s.count { return "unterminated character set at position \(i)" }
                i = j + 1
                atomStart = false
                afterQuantifier = false
                continue
            case "(":
                open.append(i)
                if i + 1 < s.count, s[i + 1] == "?" { i += 1 }
                atomStart = true
                afterQuantifier = false
            case ")":
                if open.isEmpty { return "unbalanced parenthesis at position \(i)" }
                open.removeLast()
                atomStart = false
                afterQuantifier = false
            case "|":
                atomStart = true
                afterQuantifier = false
            case "*", "+", "?":
                if afterQuantifier && c != "?" && c != "+" { return "multiple repeat at position \(i)" }
                if atomStart { return "nothing to repeat at position \(i)" }
                if afterQuantifier { afterQuantifier = false } else { afterQuantifier = true }
            default:
                atomStart = false
                afterQuantifier = false
            }
            i += 1
        }
        if let p = open.last { return "missing ), unterminated subpattern at position \(p)" }
        return nil
    }

    /// Named groups of a (translated) pattern and their numbers.
    static func groupNames(_ pattern: String) -> [String: Int] {
        let s = Array(pattern.unicodeScalars)
        var names: [String: Int] = [:]
        var group = 0
        var i = 0
        var inClass = false
        while i < s.count {
            let c = s[i]
            if c == "\\" {
                i += 2
                continue
            }
            if inClass {
                if c == "]" { inClass = false }
            } else if c == "[" {
                inClass = true
            } else if c == "(" {
                if i + 1 < s.count, s[i + 1] == "?" {
                    if i + 2 < s.count, s[i + 2] == "<", i + 3 < s.count, s[i + 3] != "=", s[i + 3] != "!" {
                        group += 1
                        var name = ""
                        var j = i + 3
                        while j < s.count, s[j] != ">" {
                            name.unicodeScalars.append(s[j])
                            j += 1
                        }
                        names[name] = group
                    }
                } else {
                    group += 1
                }
            }
            i += 1
        }
        return names
    }

    /// Rewrites Python-only syntax into the equivalent Swift Regex syntax.
    static func translate(_ pattern: String, multiline: Bool) -> String {
        let s = Array(pattern.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        var inClass = false
        var classStart = false
        // An inline (?m) at the start makes $ a line anchor, as the flag does.
        var isMultiline = multiline
        if s.count >= 3, s[0] == "(", s[1] == "?" {
            var j = 2
            while j < s.count, s[j].properties.isAlphabetic {
                if s[j] == "m" { isMultiline = true }
                j += 1
            }
        }
        func append(_ text: String) { out.append(contentsOf: text.unicodeScalars) }
        while i < s.count {
            let c = s[i]
            if c == "\\" && i + 1 < s.count {
                let n = s[i + 1]
                if !inClass && n == "Z" {
                    append("\\z")
                } else {
                    out.append(c)
                    out.append(n)
                }
                i += 2
                classStart = false
                continue
            }
            if inClass {
                if c == "]" && !classStart {
                    inClass = false
                    out.append(c)
                } else if c == "]" {
                    append("\\]")
                } else if c == "&" || c == "~" {
                    out.append("\\")
                    out.append(c)
                } else if c == "[" {
                    // A literal '[' inside a class in Python (POSIX classes are not special there).
                    append("\\[")
                } else {
                    out.append(c)
                }
                classStart = false
                i += 1
                continue
            }
            switch c {
            case "[":
                inClass = true
                classStart = true
                out.append(c)
                i += 1
                if i < s.count, s[i] == "^" {
                    out.append("^")
                    i += 1
                }
                continue
            case "(":
                if i + 2 < s.count, s[i + 1] == "?", s[i + 2] == "P" {
                    if i + 3 < s.count, s[i + 3] == "<" {
                        append("(?<")
                        i += 4
                        continue
                    }
                    if i + 3 < s.count, s[i + 3] == "=" {
                        var j = i + 4
                        var name = ""
                        while j < s.count, s[j] != ")" {
                            name.unicodeScalars.append(s[j])
                            j += 1
                        }
                        append("\\k<\(name)>")
                        i = j + 1
                        continue
                    }
                }
                out.append(c)
            case "$":
                if isMultiline { out.append(c) } else { append("(?=\\n?\\z)") }
            case "{":
                if let end = quantifierEnd(s, i) {
                    // `{,n}` is `{0,n}` in Python; ICU needs the 0.
                    if s[i + 1] == "," { append("{0") } else { out.append("{") }
                    for k in (i + 1)...end { out.append(s[k]) }
                    i = end + 1
                    continue
                }
                append("\\{")
            case "}":
                append("\\}")
            default:
                out.append(c)
            }
            i += 1
        }
        return String(out)
    }

    /// `{m}`, `{m,}`, `{,n}`, `{m,n}` at i: the index of the closing brace.
    private static func quantifierEnd(_ s: [Unicode.Scalar], _ i: Int) -> Int? {
        var j = i + 1
        var digits = 0
        while j < s.count, s[j] >= "0", s[j] <= "9" {
            j += 1
            digits += 1
        }
        if j < s.count, s[j] == "," {
            j += 1
            while j < s.count, s[j] >= "0", s[j] <= "9" {
                j += 1
                digits += 1
            }
        }
        guard digits > 0, j < s.count, s[j] == "}" else { return nil }
        return j
    }

    // MARK: operations

    /// A match: group texts (nil for a group that did not take part) and names.
    struct Match {
        var groups: [String?]
        var names: [String: Int]
        var range: Range<String.Index>

        func group(_ ref: Value) throws(PyError) -> String? {
            switch ref {
            case .int(let n):
                guard n >= 0 && n < groups.count else { throw PyError("no such group") }
                return groups[n]
            default:
                guard let name = ref.stringValue else { throw PyError("no such group") }
                if let n = Int(name), n >= 0, n < groups.count { return groups[n] }
                guard let n = names[name] else { throw PyError("no such group") }
                return groups[n]
            }
        }
    }

    private func convert(_ m: Regex<AnyRegexOutput>.Match, in s: String) -> Match {
        var groups: [String?] = []
        var names: [String: Int] = [:]
        for (i, element) in m.output.enumerated() {
            groups.append(element.range.map { String(s.unicodeScalars[$0]) })
            if let name = element.name { names[name] = i }
        }
        return Match(groups: groups, names: names, range: m.range)
    }

    private func convert(_ m: NSTextCheckingResult, in s: String, names: [String: Int]) -> Match? {
        guard let range = Range(m.range, in: s) else { return nil }
        var groups: [String?] = []
        for i in 0..<m.numberOfRanges {
            let r = m.range(at: i)
            groups.append(r.location == NSNotFound ? nil : Range(r, in: s).map { String(s[$0]) })
        }
        return Match(groups: groups, names: names, range: range)
    }

    private func nsRange(_ s: String) -> NSRange { NSRange(s.startIndex..<s.endIndex, in: s) }

    /// `re.search`.
    func search(_ s: String) -> Match? {
        switch engine {
        case .swift(let regex):
            guard let m = try? regex.firstMatch(in: s) else { return nil }
            return convert(m, in: s)
        case .icu(let regex, let names):
            return regex.firstMatch(in: s, range: nsRange(s)).flatMap { convert($0, in: s, names: names) }
        }
    }

    /// `re.match`: anchored at the start.
    func match(_ s: String) -> Match? {
        switch engine {
        case .swift(let regex):
            guard let m = try? regex.prefixMatch(in: s) else { return nil }
            return convert(m, in: s)
        case .icu(let regex, let names):
            return regex.firstMatch(in: s, options: .anchored, range: nsRange(s))
                .flatMap { convert($0, in: s, names: names) }
        }
    }

    /// `re.fullmatch`.
    func fullmatch(_ s: String) -> Bool {
        switch engine {
        case .swift(let regex): return (try? regex.wholeMatch(in: s)) != nil
        case .icu:
            guard let m = match(s) else { return false }
            return m.range.upperBound == s.endIndex
        }
    }

    func all(_ s: String) -> [Match] {
        switch engine {
        case .swift(let regex): return s.matches(of: regex).map { convert($0, in: s) }
        case .icu(let regex, let names):
            return regex.matches(in: s, range: nsRange(s)).compactMap { convert($0, in: s, names: names) }
        }
    }

    /// `re.findall`.
    func findall(_ s: String) -> Value {
        var out: [Value] = []
        for m in all(s) {
            switch m.groups.count {
            case 1: out.append(.string(m.groups[0] ?? ""))
            case 2: out.append(.string(m.groups[1] ?? ""))
            default: out.append(.list(m.groups.dropFirst().map { .string($0 ?? "") }))
            }
        }
        return .list(out)
    }

    /// `re.subn`.
    func sub(_ replacement: String, _ s: String, count: Int = 0) throws(PyError) -> (String, Int) {
        let template = try PyRegex.parseReplacement(replacement)
        var out = ""
        var last = s.startIndex
        var n = 0
        for m in all(s) {
            if count > 0 && n >= count { break }
            out += s[last..<m.range.lowerBound]
            for part in template {
                switch part {
                case .text(let t): out += t
                case .group(let g):
                    guard case .some(let text) = try m.group(g) else { continue }
                    out += text
                }
            }
            last = m.range.upperBound
            n += 1
        }
        out += s[last...]
        return (out, n)
    }

    enum ReplacementPart {
        case text(String)
        case group(Value)
    }

    /// Python's replacement template: `\1`, `\g<1>`, `\g<name>`, and the usual escapes.
    static func parseReplacement(_ r: String) throws(PyError) -> [ReplacementPart] {
        var parts: [ReplacementPart] = []
        var text = ""
        let s = Array(r.unicodeScalars)
        var i = 0
        func flush() {
            if !text.isEmpty {
                parts.append(.text(text))
                text = ""
            }
        }
        while i < s.count {
            let c = s[i]
            guard c == "\\", i + 1 < s.count else {
                if c == "\\" { throw PyError("bad escape (end of pattern) at position \(i)") }
                text.unicodeScalars.append(c)
                i += 1
                continue
            }
            let n = s[i + 1]
            switch n {
            case "g":
                guard i + 2 < s.count, s[i + 2] == "<", let close = s[(i + 3)...].firstIndex(of: ">") else {
                    throw PyError("missing <")
                }
                let name = String(String.UnicodeScalarView(s[(i + 3)..<close]))
                flush()
                parts.append(.group(Int(name).map { .int($0) } ?? .string(name)))
                i = close + 1
            case "0"..."9":
                var j = i + 1
                var digits = ""
                while j < s.count, s[j] >= "0", s[j] <= "9", digits.count < 2 {
                    digits.unicodeScalars.append(s[j])
                    j += 1
                }
                flush()
                if n == "0" {
                    // Octal escape.
                    text.unicodeScalars.append(Unicode.Scalar(UInt32(digits, radix: 8) ?? 0) ?? "\u{0}")
                } else {
                    parts.append(.group(.int(Int(digits) ?? 0)))
                }
                i = j
            case "n":
                text += "\n"
                i += 2
            case "t":
                text += "\t"
                i += 2
            case "r":
                text += "\r"
                i += 2
            case "f":
                text += "\u{0C}"
                i += 2
            case "v":
                text += "\u{0B}"
                i += 2
            case "a":
                text += "\u{07}"
                i += 2
            case "b":
                text += "\u{08}"
                i += 2
            case "\\":
                text += "\\"
                i += 2
            default:
                if n.isASCII && n.properties.isAlphabetic {
                    throw PyError("bad escape \\\(n) at position \(i)")
                }
                text.unicodeScalars.append("\\")
                text.unicodeScalars.append(n)
                i += 2
            }
        }
        flush()
        return parts
    }

    /// `re.escape`.
    static func escape(_ s: String) -> String {
        let special = Set("()[]{}?*+-|^$\\.&~# \t\n\r\u{0B}\u{0C}".unicodeScalars)
        var out = String.UnicodeScalarView()
        for c in s.unicodeScalars {
            if special.contains(c) { out.append("\\") }
            out.append(c)
        }
        return String(out)
    }
}
