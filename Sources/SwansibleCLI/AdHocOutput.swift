import Foundation
import SwansibleCore
import SwansibleData

/// What `swansible run` prints: ansible's ad-hoc callbacks (`minimal` by default, `oneline` with `-o`), line
/// for line, or, with `--collapse`, hosts with identical output grouped under one compact host range.
final class AdHocOutput: @unchecked Sendable {
    // @unchecked: called from one run's task only, in order.
    private let module: String
    private let oneLine: Bool
    private let verbosity: Int
    private let palette: Palette
    private let write: (String) -> Void
    /// `--collapse`: output text → hosts, in order of first appearance.
    private var groups: [(text: String, color: String?, hosts: [String])] = []

    init(module: String, oneLine: Bool, verbosity: Int, palette: Palette, write: @escaping (String) -> Void) {
        self.module = module
        self.oneLine = oneLine
        self.verbosity = verbosity
        self.palette = palette
        self.write = write
    }

    /// ansible's `MODULE_NO_JSON`: modules whose output is shown as text, not as a result dict.
    private var isTextModule: Bool {
        ["command", "shell", "raw", "win_command", "win_shell"].contains(ModuleRegistry.shortName(module))
    }

    func show(_ event: RunEvent) {
        guard let (text, color) = render(event, host: event.data["host"]?.stringValue ?? "") else { return }
        write(palette.paint(text, color))
    }

    func collect(_ event: RunEvent) {
        let host = event.data["host"]?.stringValue ?? ""
        // Rendered for a placeholder host name, so that hosts with the same output compare equal.
        guard let (text, color) = render(event, host: "\u{0}") else { return }
        if let i = groups.firstIndex(where: { $0.text == text }) {
            groups[i].hosts.append(host)
        } else {
            groups.append((text, color, [host]))
        }
    }

    /// `--collapse`: one block per distinct output, as `dshbak -c` prints it: a rule, the host range and count,
    /// a rule, the output; blocks ordered by their first host.
    func showCollapsed() {
        let ordered = groups.map { (hosts: $0.hosts.sorted(by: HostRange.naturalLess), text: $0.text, color: $0.color) }
            .sorted { HostRange.naturalLess($0.hosts[0], $1.hosts[0]) }
        for group in ordered {
            let title = HostRange.fold(group.hosts) + " (\(group.hosts.count))"
            let rule = String(repeating: "-", count: min(79, max(16, title.count)))
            write(rule)
            write(title)
            write(rule)
            // The per-host prefix "HOST | " is replaced by the range above.
            var body = group.text
            if body.hasPrefix("\u{0} | ") { body = String(body.dropFirst(4)) }
            write(palette.paint(body, group.color))
        }
    }

    /// The line(s) ansible prints for one result, without the final newline, and their color.
    func render(_ event: RunEvent, host: String) -> (String, String?)? {
        let result = event.data["result"]?.dictValue ?? [:]
        let changed = result["changed"]?.boolValue == true
        func text(_ key: String) -> String { result[key]?.stringValue ?? "" }
        let rc = result["rc"].map { $0.intValue.map(String.init) ?? $0.json() } ?? "-1"
        switch event.kind {
        case .ok, .changed:
            let state = changed ? "CHANGED" : "SUCCESS"
            let color = changed ? palette.changed : palette.ok
            if isTextModule && result["ansible_job_id"] == nil {
                return (commandText(host, state, rc, result), color)
            }
            return ("\(host) | \(state) => " + dump(result), color)
        case .failed, .failedIgnored, .failedRescued:
            if oneLine {
                return ("\(host) | FAILED! => " + dump(result), palette.error)
            }
            if isTextModule && result["module_stderr"] == nil {
                return (commandText(host, "FAILED", rc, result), palette.error)
            }
            return ("\(host) | FAILED! => " + dump(result), palette.error)
        case .unreachable, .unreachableIgnored:
            if oneLine { return ("\(host) | UNREACHABLE!: " + text("msg"), palette.unreachable) }
            return ("\(host) | UNREACHABLE! => " + dump(result), palette.unreachable)
        case .skipped:
            return ("\(host) | SKIPPED", palette.skip)
        default:
            return nil
        }
    }

    /// `minimal`'s `HOST | STATE | rc=N >>` then stdout, stderr and msg run together; `oneline`'s
    /// `HOST | STATE | rc=N | (stdout) … (stderr) …` with newlines escaped.
    private func commandText(_ host: String, _ state: String, _ rc: String, _ result: ValueDict) -> String {
        func text(_ key: String) -> String { result[key]?.stringValue ?? "" }
        if oneLine {
            func escape(_ s: String) -> String {
                s.replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\r", with: "\\r")
            }
            var line = "\(host) | \(state) | rc=\(rc) | (stdout) \(escape(text("stdout")))"
            if !text("stderr").isEmpty { line += " (stderr) \(escape(text("stderr")))" }
            return line
        }
        let body = "\(host) | \(state) | rc=\(rc) >>\n" + text("stdout") + text("stderr") + text("msg")
        return body
    }

    /// `minimal` dumps with an indent of 4; `oneline` with an indent of 0 and the newlines then removed.
    private func dump(_ result: ValueDict) -> String {
        let shown = DefaultOutput(verbosity: verbosity, write: { _ in }).dump(result, indent: 4)
        guard oneLine else { return shown }
        return shown.split(separator: "\n").map { $0.drop(while: { $0 == " " }) }.joined()
    }
}

/// Compact host ranges, as ClusterShell's nodeset folding writes them: `h1,h2,h3,h5,web01,web02` →
/// `h[1-3,5],web[01-02]`.
enum HostRange {
    private struct Parts {
        var prefix: String
        var number: Int?
        var digits: String
        var suffix: String
    }

    /// Splits a name at its last run of digits.
    private static func parts(_ name: String) -> Parts {
        let chars = Array(name)
        var end = chars.count
        while end > 0, !chars[end - 1].isASCII || !chars[end - 1].isNumber { end -= 1 }
        guard end > 0 else { return Parts(prefix: name, number: nil, digits: "", suffix: "") }
        var start = end
        while start > 0, chars[start - 1].isASCII, chars[start - 1].isNumber { start -= 1 }
        let digits = String(chars[start..<end])
        return Parts(
            prefix: String(chars[..<start]), number: Int(digits), digits: digits, suffix: String(chars[end...]))
    }

    /// Natural order: `h2` before `h10`.
    static func naturalLess(_ a: String, _ b: String) -> Bool {
        let pa = parts(a), pb = parts(b)
        if pa.prefix != pb.prefix { return a < b }
        if let na = pa.number, let nb = pb.number, na != nb { return na < nb }
        return a < b
    }

    static func fold(_ names: [String]) -> String {
        // Groups keyed by prefix, suffix and zero-padding width (0: not padded).
        var order: [String] = []
        var groups: [String: (prefix: String, suffix: String, width: Int, numbers: [Int])] = [:]
        var plain: [String] = []
        for name in names {
            let p = parts(name)
            guard let n = p.number else {
                plain.append(name)
                continue
            }
            let width = p.digits.hasPrefix("0") && p.digits.count > 1 ? p.digits.count : 0
            let key = "\(p.prefix)\u{0}\(p.suffix)\u{0}\(width)"
            if groups[key] == nil {
                order.append(key)
                groups[key] = (p.prefix, p.suffix, width, [])
            }
            groups[key]!.numbers.append(n)
        }
        var out: [String] = []
        for key in order {
            let g = groups[key]!
            let numbers = Array(Set(g.numbers)).sorted()
            func format(_ n: Int) -> String {
                let s = String(n)
                return g.width > s.count ? String(repeating: "0", count: g.width - s.count) + s : s
            }
            if numbers.count == 1 {
                out.append(g.prefix + format(numbers[0]) + g.suffix)
                continue
            }
            var ranges: [String] = []
            var i = 0
            while i < numbers.count {
                var j = i
                while j + 1 < numbers.count, numbers[j + 1] == numbers[j] + 1 { j += 1 }
                ranges.append(i == j ? format(numbers[i]) : format(numbers[i]) + "-" + format(numbers[j]))
                i = j + 1
            }
            out.append(g.prefix + "[" + ranges.joined(separator: ",") + "]" + g.suffix)
        }
        return (out + plain).joined(separator: ",")
    }
}
