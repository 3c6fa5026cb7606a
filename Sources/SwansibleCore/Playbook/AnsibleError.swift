public import SwansibleData
import Foundation

/// An error in what the user wrote (playbook, vars file, arguments), reported as ansible-core 2.19
/// reports it:
///
///     [ERROR]: couldn't resolve module/action 'comand'. This often indicates a misspelling, …
///     Origin: /path/site.yml:4:7
///
///     2   gather_facts: false
///     3   tasks:
///     4     - name: typo
///             ^ column 7
public struct AnsibleError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// A playbook or data file that cannot be parsed or has wrong structure (exit code 4).
        case parser
        /// Any other error stopping the run (exit code 1).
        case general
    }

    public var kind: Kind
    public var message: String
    public var mark: SourceMark?
    /// ansible-core's advice under the excerpt, when it has one.
    public var help: String?

    public init(_ message: String, at mark: SourceMark? = nil, kind: Kind = .parser, help: String? = nil) {
        self.message = message
        self.mark = mark
        self.kind = kind
        self.help = help
    }

    /// ansible-playbook's exit code for this error.
    public var exitCode: Int32 { kind == .parser ? 4 : 1 }

    /// The text after `[ERROR]: `: the message, the origin and an excerpt of the source.
    public var description: String {
        var out = message
        if let mark {
            out += "\nOrigin: \(mark)\n"
            out += sourceExcerpt(mark)
        }
        if let help { out += "\n" + help }
        return out
    }
}

extension AnsibleError {
    /// `Origin: file:line:col` and the source excerpt, as ansible-core prints them under an error.
    public static func origin(_ mark: SourceMark) -> String {
        "Origin: \(mark)\n" + sourceExcerpt(mark)
    }

    /// Parses `file:line:col` (as events carry a task's place).
    public static func mark(from text: String) -> SourceMark? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count >= 3, let col = Int(parts[parts.count - 1]), let line = Int(parts[parts.count - 2]) else { return nil }
        return SourceMark(file: parts[0..<(parts.count - 2)].joined(separator: ":"), line: line, column: col)
    }
}

/// Up to two lines before the marked one, numbered, and a caret line naming the column.
func sourceExcerpt(_ mark: SourceMark) -> String {
    guard let data = FileManager.default.contents(atPath: mark.file) else { return "" }
    let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
    guard mark.line >= 1, mark.line <= lines.count else { return "" }
    let first = max(1, mark.line - 2)
    let width = String(mark.line).count
    var out = "\n"
    for n in first...mark.line {
        let number = String(n)
        let text = String(repeating: " ", count: width - number.count) + number + " " + lines[n - 1]
        out += (lines[n - 1].isEmpty ? String(text.dropLast()) : text) + "\n"
    }
    out += String(repeating: " ", count: width + mark.column) + "^ column \(mark.column)\n"
    return out
}
