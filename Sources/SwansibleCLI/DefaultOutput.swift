import Foundation
import SwansibleCore
import SwansibleData

/// ansible-core's default stdout callback, line for line (the parts swansible supports so far), colored as
/// ansible colors it when the palette is enabled.
final class DefaultOutput: @unchecked Sendable {
    // @unchecked: called from one run's task only, in order.
    private let verbosity: Int
    private let marks: [String: SourceMark]
    private let sink: (String) -> Void
    private let palette: Palette
    private let columns: Int
    private let diffContext: Int
    /// ansible-core prints an identical error or warning only once per run.
    private var shownMessages: Set<String> = []
    /// `-vv`: the number of plays per playbook, for ansible's "N plays in FILE" line.
    var playCounts: [(path: String, plays: Int)] = []

    init(
        verbosity: Int, taskMarks: [String: SourceMark] = [:], palette: Palette = Palette(enabled: false),
        columns: Int = 79, diffContext: Int = 3, write: @escaping (String) -> Void
    ) {
        self.verbosity = verbosity
        self.marks = taskMarks
        self.palette = palette
        self.columns = columns
        self.diffContext = diffContext
        self.sink = write
    }

    /// One display line (or several, each colored on its own, as ansible's `stringc` does).
    func write(_ text: String, _ color: String? = nil) {
        sink(palette.paint(text, color))
    }

    static func banner(_ text: String, columns: Int = 79) -> String {
        let stars = max(3, columns - text.count)
        return "\n" + text + " " + String(repeating: "*", count: stars)
    }

    func banner(_ text: String) -> String { Self.banner(text, columns: columns) }

    func handle(_ event: RunEvent) {
        switch event.kind {
        case .playbookStart:
            if verbosity > 1 {
                let name = event.data["playbook"]?.stringValue ?? ""
                write(banner("PLAYBOOK: \((name as NSString).lastPathComponent)"))
                for entry in playCounts { write("\(entry.plays) plays in \(entry.path)") }
            }
        case .playStart:
            let name = (event.data["play"]?.stringValue ?? "").trimmingCharacters(in: .whitespaces)
            write(banner(name.isEmpty ? "PLAY" : "PLAY [\(name)]"))
        case .taskStart:
            write(banner("TASK [\(event.display["name"]?.stringValue ?? "")]"))
            taskPath(event.display)
        case .handlerTaskStart:
            write(banner("RUNNING HANDLER [\(event.display["name"]?.stringValue ?? "")]"))
            taskPath(event.display)
        case .noHostsMatched:
            write("skipping: no hosts matched", palette.skip)
        case .noHostsRemaining:
            write(banner("NO MORE HOSTS LEFT"))
        case .ok, .changed, .skipped, .failed, .failedIgnored, .failedRescued, .unreachable, .unreachableIgnored:
            hostResult(event)
        case .stats:
            write(banner("PLAY RECAP"))
            let stats = event.data["stats"]?.dictValue ?? [:]
            for host in stats.keys.sorted() {
                let s = stats[host]!
                func count(_ key: String) -> Int { s[key]?.intValue ?? 0 }
                func field(_ name: String, _ key: String, _ color: String) -> String {
                    let v = String(count(key))
                    let text = name + "=" + v + String(repeating: " ", count: max(0, 4 - v.count))
                    return count(key) != 0 ? palette.paint(text, color) : text
                }
                let hostText: String
                if palette.enabled {
                    let color = count("failed") != 0 || count("unreachable") != 0 ? palette.error
                        : count("changed") != 0 ? palette.changed : palette.ok
                    hostText = pad(palette.paint(host, color), 37)
                } else {
                    hostText = pad(host, 26)
                }
                sink(hostText + " : " + [field("ok", "ok", palette.ok), field("changed", "changed", palette.changed),
                    field("unreachable", "unreachable", palette.unreachable), field("failed", "failed", palette.error),
                    field("skipped", "skipped", palette.skip), field("rescued", "rescued", palette.ok),
                    field("ignored", "ignored", palette.warn)].joined(separator: " "))
            }
            write("")
        case .warning:
            let text = "[WARNING]: " + (event.data["message"]?.stringValue ?? "")
            if shownMessages.insert(text).inserted {
                FileHandle.standardError.write(Data((palette.paint(text, palette.warn) + "\n").utf8))
            }
        }
    }

    private func pad(_ s: String, _ width: Int) -> String {
        s + String(repeating: " ", count: max(0, width - s.count))
    }

    /// `-vv`: `task path: FILE:LINE` after a task banner.
    private func taskPath(_ display: ValueDict) {
        guard verbosity >= 2, let text = display["task_path"]?.stringValue, let mark = AnsibleError.mark(from: text),
            mark.file.hasPrefix("/")
        else { return }
        write("task path: \(mark.file):\(mark.line)", palette.debug)
    }

    private func hostResult(_ event: RunEvent) {
        let host = event.data["host"]?.stringValue ?? ""
        let result = event.data["result"]?.dictValue ?? [:]
        switch event.kind {
        case .ok, .changed:
            // ansible's strategy sends the diff before the ok/changed line.
            if let diff = result["diff"], result["changed"]?.boolValue == true {
                let text = renderDiff(diff)
                if !text.isEmpty { write(text.hasSuffix("\n") ? String(text.dropLast()) : text) }
            }
            let label = event.kind == .changed ? "changed" : "ok"
            write("\(label): [\(host)]" + verbose(result), event.kind == .changed ? palette.changed : palette.ok)
        case .skipped: write("skipping: [\(host)]" + verbose(result), palette.skip)
        case .failed, .failedIgnored, .failedRescued:
            let message = event.display["error"]?.stringValue ?? ("Module failed: " + (result["msg"]?.stringValue ?? ""))
            errorBlock("[ERROR]: Task failed: " + message, event.display)
            write("fatal: [\(host)]: FAILED! => " + dump(result), palette.error)
            if event.kind == .failedIgnored { write("...ignoring", palette.skip) }
        case .unreachable, .unreachableIgnored:
            errorBlock("[ERROR]: " + (result["msg"]?.stringValue ?? ""), event.display)
            write("fatal: [\(host)]: UNREACHABLE! => " + dump(result), palette.unreachable)
            if event.kind == .unreachableIgnored { write("...ignoring", palette.skip) }
        default: break
        }
    }

    private func errorBlock(_ line: String, _ display: ValueDict) {
        let key = line + "\u{0}" + (display["task_path"]?.stringValue ?? "")
        guard shownMessages.insert(key).inserted else { return }
        var text = line
        if let origin = origin(display) { text += "\n" + origin }
        write(text, palette.error)
    }

    private func origin(_ data: ValueDict) -> String? {
        guard let text = data["task_path"]?.stringValue, let mark = AnsibleError.mark(from: text),
            mark.file.hasPrefix("/")
        else { return nil }
        return AnsibleError.origin(mark)
    }

    /// The callback's `_run_is_verbose`: `-v`, or a result that asks to be shown (`_ansible_verbose_always`),
    /// unless it asks not to be (`_ansible_verbose_override`).
    private func verbose(_ result: ValueDict) -> String {
        let always = result["_ansible_verbose_always"]?.boolValue == true
        let override = result["_ansible_verbose_override"].map { $0.boolValue != false } ?? false
        return (verbosity > 0 || always) && !override ? " => " + dump(result) : ""
    }

    /// The callback's `_dump_results`: internal keys dropped (at every depth), `invocation` and `diff` only from
    /// `-vvv`, warnings and exceptions never (shown on their own), keys sorted, UTF-8 kept, indented from `-vvv`
    /// or when the result asks for it.
    func dump(_ result: ValueDict, indent: Int? = nil) -> String {
        var shown = ValueDict()
        for (k, v) in result where !k.hasPrefix("_ansible_") {
            if ["exception", "warnings", "deprecations"].contains(k) { continue }
            if (k == "invocation" || k == "diff") && verbosity < 3 { continue }
            shown[k] = Self.stripInternal(v)
        }
        var width = indent
        if width == nil && (result["_ansible_verbose_always"]?.boolValue == true || verbosity > 2) { width = 4 }
        let format = width.map { Value.JSONFormat(indent: $0, sortKeys: true, ensureASCII: false) } ?? .compactSorted
        return Value.dict(shown).json(format)
    }

    /// ansible's `strip_internal_keys`: `_ansible_*` keys removed from nested dicts and lists too.
    static func stripInternal(_ value: Value) -> Value {
        if let d = value.dictValue {
            var out = ValueDict()
            for (k, v) in d where !k.hasPrefix("_ansible_") { out[k] = stripInternal(v) }
            return .dict(out)
        }
        if let l = value.listValue { return .list(l.map(stripInternal)) }
        return value
    }

    /// The callback's `_get_diff` (``DiffText``), diff lines colored (+ green, - red, @@ cyan).
    func renderDiff(_ diff: Value) -> String {
        DiffText.render(diff, context: diffContext) { line, kind in
            switch kind {
            case .added: palette.paint(line, palette.diffAdd)
            case .removed: palette.paint(line, palette.diffRemove)
            case .hunk: palette.paint(line, palette.diffLines)
            }
        }
    }
}
