public import SwansibleData

/// A YAML document that cannot be loaded, described as compilers (and ansible-core) do:
///
///     site.yml:4:4: error: YAML parsing failed: While parsing a block mapping did not find expected key.
///        - debug: msg=x
///        ^
///
/// ``message`` uses ansible-core's words, including its hints for common mistakes (tabs, unquoted
/// templates, colons in unquoted values, stray quotes), which may move the column to the culprit.
public struct YAMLError: Error, CustomStringConvertible, Sendable, Hashable {
    /// Where the problem is (1-based line and column).
    public var mark: SourceMark
    /// What is wrong, e.g. `YAML parsing failed: Found undefined alias.`
    public var message: String
    /// The source line at ``mark`` (tabs shown as spaces), when the file has that line.
    public var sourceLine: String?
    /// ansible-core's example of the fix, for the mistakes it recognises.
    public var help: String?

    public init(mark: SourceMark, message: String, sourceLine: String? = nil, help: String? = nil) {
        self.mark = mark
        self.message = message
        self.sourceLine = sourceLine
        self.help = help
    }

    public var description: String {
        var out = "\(mark): error: \(message)"
        out += excerpt(sourceLine, column: mark.column)
        if let help { out += "\n" + help }
        return out
    }
}

/// A warning found while loading (not printed: the caller decides), e.g. a duplicate mapping key.
public struct YAMLWarning: CustomStringConvertible, Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// `[WARNING]` in ansible-core's output.
        case warning
        /// `[DEPRECATION WARNING]` (the `!!omap`/`!!pairs`/`!vault-encrypted` tags).
        case deprecation
    }

    public var kind: Kind
    public var mark: SourceMark
    /// ansible-core's text, e.g. `Found duplicate mapping key 'a'.`
    public var message: String
    /// ansible-core's advice, e.g. `Using last defined value only.`
    public var help: String?
    /// The source line at ``mark`` (tabs shown as spaces).
    public var sourceLine: String?

    public init(
        kind: Kind = .warning, mark: SourceMark, message: String, help: String? = nil, sourceLine: String? = nil
    ) {
        self.kind = kind
        self.mark = mark
        self.message = message
        self.help = help
        self.sourceLine = sourceLine
    }

    /// `file:line:col: warning: <message> <help>` with the source line and a caret under the column.
    public var description: String {
        var out = "\(mark): \(kind == .deprecation ? "deprecation warning" : "warning"): \(message)"
        if let help { out += " " + help }
        out += excerpt(sourceLine, column: mark.column)
        return out
    }
}

private func excerpt(_ line: String?, column: Int) -> String {
    guard let line else { return "" }
    return "\n" + line + "\n" + String(repeating: " ", count: max(0, column - 1)) + "^"
}

/// The lines of the loaded text, found lazily, split as Python's universal newlines do.
final class SourceLines {
    private let text: String
    private var lines: [Substring]?

    init(_ text: String) { self.text = text }

    /// Line `number` (1-based) without its line break, or nil past the end of the text.
    func line(_ number: Int) -> String? {
        if lines == nil { lines = splitLines(text) }
        guard number >= 1, let lines, number <= lines.count else { return nil }
        return String(lines[number - 1])
    }

    /// The line as ansible-core shows it (tabs as spaces).
    func displayLine(_ number: Int) -> String? {
        line(number).map { $0.replacingOccurrences(of: "\t", with: " ") }
    }

    private func splitLines(_ text: String) -> [Substring] {
        var result: [Substring] = []
        let scalars = text.unicodeScalars
        var start = scalars.startIndex
        var i = start
        while i < scalars.endIndex {
            let c = scalars[i]
            if c == "\n" || c == "\r" {
                result.append(Substring(scalars[start..<i]))
                var next = scalars.index(after: i)
                if c == "\r", next < scalars.endIndex, scalars[next] == "\n" { next = scalars.index(after: next) }
                start = next
                i = next
            } else {
                i = scalars.index(after: i)
            }
        }
        // Python's readline yields a last line only when text follows the final newline.
        if start < scalars.endIndex { result.append(Substring(scalars[start...])) }
        return result
    }

    /// Line and column (1-based, in characters) of a UTF-8 byte offset, counting line breaks as libyaml does.
    func position(ofByteOffset offset: Int) -> (line: Int, column: Int) {
        var line = 1
        var column = 1
        var previousCR = false
        var consumed = 0
        for u in text.unicodeScalars {
            if consumed >= offset { break }
            consumed += UTF8.width(u)
            switch u {
            case "\n":
                if !previousCR { line += 1 }
                column = 1
            case "\r", "\u{85}", "\u{2028}", "\u{2029}":
                line += 1
                column = 1
            default:
                column += 1
            }
            previousCR = u == "\r"
        }
        return (line, column)
    }
}

// MARK: - ansible-core's wording of YAML errors

/// ansible-core's message for a marked YAML error (`AnsibleYAMLParserError.handle_exception`): its hints for
/// common mistakes on the offending line when one applies, else `context problem` capitalised with a full stop.
func ansibleMarkedMessage(
    context: String?, problem: String, targetLine: String?, column: Int, hints: Bool
) -> (message: String, column: Int, help: String?) {
    if hints, let hint = ansibleHint(targetLine ?? "") { return hint }
    var message = [context, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
    message = message.trimmingPythonWhitespace()
    if let first = message.first {
        message = first.uppercased() + message.dropFirst()
    }
    if !message.hasSuffix(".") { message += "." }
    return (collapseWhitespace(message), column, nil)
}

/// `re.sub(r'\s+', ' ', message).strip()`
func collapseWhitespace(_ s: String) -> String {
    var out = ""
    var inSpace = false
    for c in s {
        if c.isWhitespace {
            inSpace = true
        } else {
            if inSpace && !out.isEmpty { out += " " }
            inSpace = false
            out.append(c)
        }
    }
    return out
}

private let templateHelp = """
    For example:

        raw: {{ some_var }}

    Should be:

        raw: "{{ some_var }}"
    """

private let colonHelp = """
    For example:

        raw: echo 'name: ansible'

    Should be:

        raw: "echo 'name: ansible'"
    """

private let quoteHelp = """
    For example:

        raw: "foo" in bar

    Should be:

        raw: '"foo" in bar'
    """

private let doubleQuoteHelp = """
    For example:

        raw: "foo" in "bar"

    Should be:

        raw: '"foo" in "bar"'
    """

private func offset(_ s: String, _ i: String.Index) -> Int {
    s.unicodeScalars.distance(from: s.unicodeScalars.startIndex, to: i)
}

private func ansibleHint(_ line: String) -> (message: String, column: Int, help: String?)? {
    // The patterns ansible-core matches against the offending line, in Python's code-point semantics.
    // (Built here, on the error path only: Regex values are not Sendable.)
    func regex(_ pattern: String) -> Regex<AnyRegexOutput> {
        try! Regex(pattern).matchingSemantics(.unicodeScalar)
    }
    let templatePattern = regex(#"^\s*(?:-\s+)*(?:[\w\s]+:\s+)?(?<value>\{\{.*\}\})"#)
    let valuePattern = regex(#"^\s*(?:-\s+)*(?:[\w\s\[\]\{\}]+:\s+)?(?<value>.*)$"#)
    let quotedValuePattern = regex(#"^\s*('[^']*'|"[^"]*")\s*$"#)
    let colonPattern = regex(#":($| )"#)
    let quotePattern = regex(#"^\s*(?:-\s+)*(?:[\w\s]+:\s+)?(?<value>["'].*?\s*)$"#)

    if let tab = line.unicodeScalars.firstIndex(of: "\t") {
        return ("Tabs are usually invalid in YAML.", offset(line, tab) + 1, nil)
    }
    if let m = line.firstMatch(of: templatePattern), let value = m.output["value"]?.range {
        return (
            "This may be an issue with missing quotes around a template block.", offset(line, value.lowerBound) + 1,
            templateHelp
        )
    }
    if !line.trimmingPythonLeadingWhitespace().hasPrefix(":"),
        let m = line.firstMatch(of: valuePattern), let valueRange = m.output["value"]?.range
    {
        let value = String(line[valueRange])
        let fragment = value.wholeMatch(of: quotedValuePattern) != nil
            ? String(repeating: ".", count: value.unicodeScalars.count) : value
        if !fragment.isEmpty, let colon = fragment.firstMatch(of: colonPattern) {
            let column = offset(line, valueRange.lowerBound) + offset(fragment, colon.range.lowerBound) + 1
            return ("Colons in unquoted values must be followed by a non-space character.", column, colonHelp)
        }
    }
    if let m = line.firstMatch(of: quotePattern), let valueRange = m.output["value"]?.range {
        let value = line.unicodeScalars[valueRange]
        let first = value.first!, last = value.last!
        let column = offset(line, valueRange.lowerBound) + 1
        if first != last {
            return ("Values starting with a quote must end with the same quote.", column, quoteHelp)
        }
        if line.unicodeScalars.filter({ $0 == first }).count > 2 {
            return (
                "Values starting with a quote must end with the same quote, and not contain that quote.", column,
                doubleQuoteHelp
            )
        }
    }
    return nil
}

extension String {
    func trimmingPythonLeadingWhitespace() -> Substring {
        let scalars = unicodeScalars
        let start = scalars.firstIndex(where: { !$0.properties.isWhitespace }) ?? scalars.endIndex
        return self[start...]
    }
}
