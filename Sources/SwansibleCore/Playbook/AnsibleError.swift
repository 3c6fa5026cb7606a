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
    /// Shown instead of the source lines (ansible shows a value's repr when it has no place for it).
    public var excerpt: String?

    public init(
        _ message: String, at mark: SourceMark? = nil, kind: Kind = .parser, help: String? = nil, excerpt: String? = nil
    ) {
        self.message = message
        self.mark = mark
        self.kind = kind
        self.help = help
        self.excerpt = excerpt
    }

    /// ansible-playbook's exit code for this error.
    public var exitCode: Int32 { kind == .parser ? 4 : 1 }

    /// The text after `[ERROR]: `: the message, the origin and an excerpt of the source, then the help,
    /// laid out as ansible-core's format_event does (a multi-line text ends with a blank line; the
    /// trailing newline is the printer's).
    public var description: String {
        var lines = [message]
        if let mark {
            if let excerpt {
                let origin = mark.line == 0 ? mark.file : mark.description
                lines.append("Origin: \(origin)\n\n" + excerpt)
            } else {
                lines.append(AnsibleError.sourceContext(mark))
            }
        }
        if let help {
            // ansible's multi-line help texts start and end with a newline.
            let h = help.contains("\n") && !help.hasPrefix("\n") ? "\n" + help + "\n" : help
            if mark == nil && !message.contains("\n") && !h.contains("\n") {
                lines = [message + " " + h]
            } else {
                lines += ["", h]
            }
        }
        let text = (lines.joined(separator: "\n") + "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        return text.contains("\n") ? text + "\n" : text
    }

    /// `Origin: file:line:col`, a blank line and the annotated source lines (ansible's SourceContext).
    static func sourceContext(_ mark: SourceMark) -> String {
        let excerpt = sourceExcerptLines(mark)
        return "Origin: \(mark)" + (excerpt.isEmpty ? "" : "\n\n" + excerpt.joined(separator: "\n"))
    }
}

extension AnsibleError {
    /// ansible-core's message for a controller file that cannot be read (import_playbook, import_tasks,
    /// `-e @file`, vars_files): exit code 1.
    public static func fileNotFound(_ path: String) -> AnsibleError {
        AnsibleError(
            "Unable to retrieve file contents.\nCould not find or access '\(path)' on the Ansible Controller.\n"
                + "If you are using a module and expect the file to exist on the remote, see the remote_src option: "
                + "[Errno 2] No such file or directory: '\(path)'", kind: .general)
    }

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

/// Up to two lines before the marked one, numbered, and a caret line naming the column, as
/// ansible-core's SourceContext.from_origin renders them (tabs shown as spaces, long lines cut at 120).
func sourceExcerpt(_ mark: SourceMark) -> String {
    let lines = sourceExcerptLines(mark)
    return lines.isEmpty ? "" : "\n" + lines.joined(separator: "\n") + "\n"
}

func sourceExcerptLines(_ mark: SourceMark) -> [String] {
    guard mark.line >= 1 else { return [] }
    if mark.file.hasPrefix("<") { return ["(source not shown: TypeError)"] }  // `<CLI option '-e'>`
    guard let data = FileManager.default.contents(atPath: mark.file) else {
        return ["(source not shown: FileNotFoundError)"]
    }
    var all = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
    if all.last == "" { all.removeLast() }  // Python's lines: a final newline ends the last line
    guard mark.line <= all.count else { return ["(source not shown: file truncated)"] }
    let first = max(1, mark.line - 2)
    let width = String(mark.line).count
    let maxLength = 120 - width - 1
    var usable = maxLength
    var out: [String] = []
    for n in first...mark.line {
        var line = String(all[n - 1]).replacingOccurrences(of: "\t", with: " ")
        if line.count > maxLength {
            line = String(line.prefix(maxLength - 3)) + "..."
            usable = maxLength - 3
        }
        let number = String(repeating: " ", count: width - String(n).count) + String(n)
        out.append(number + (line.isEmpty ? "" : " ") + line)
    }
    if mark.column >= 1, usable >= mark.column {
        var marker = "column \(mark.column)"
        let index = mark.column - 1
        if index + 2 + marker.count > maxLength {
            marker = String(repeating: " ", count: max(0, index - marker.count - 1)) + marker + " ^"
        } else {
            marker = String(repeating: " ", count: index) + "^ " + marker
        }
        out.append(String(repeating: " ", count: width) + " " + marker)
    }
    return out
}
