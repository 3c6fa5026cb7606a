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

    /// The task whose banner was printed last, and each task's banner (the free strategy interleaves tasks: a
    /// result of another task prints that task's banner again, as ansible-core's callback does).
    private var lastBanner: String?
    private var banners: [String: String] = [:]

    func banner(_ text: String) -> String { Self.banner(text, columns: columns) }

    func handle(_ event: RunEvent) {
        if let task = event.data["task"]?.stringValue {
            switch event.kind {
            case .taskStart, .handlerTaskStart:
                lastBanner = task
            default:
                if task != lastBanner, let banner = banners[task] {
                    write(banner)
                    lastBanner = task
                }
            }
        }
        switch event.kind {
        case .playStart:
            let name = (event.data["play"]?.stringValue ?? "").trimmingCharacters(in: .whitespaces)
            write(banner(name.isEmpty ? "PLAY" : "PLAY [\(name)]"))
        case .taskStart:
            let text = banner("TASK [\(event.display["name"]?.stringValue ?? "")]")
            if let task = event.data["task"]?.stringValue { banners[task] = text }
            write(text)
            taskPath(event.display)
        case .handlerTaskStart:
            let text = banner("RUNNING HANDLER [\(event.display["name"]?.stringValue ?? "")]")
            if let task = event.data["task"]?.stringValue { banners[task] = text }
            write(text)
            taskPath(event.display)
        case .noHostsMatched:
            write("skipping: no hosts matched", palette.skip)
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
                    // ansible pads the colored name to 37 (26 plus the escape sequences).
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
            if event.data["deprecation"]?.boolValue == true {
                deprecation(event.data)
            } else {
                warning("[WARNING]: " + (event.data["message"]?.stringValue ?? ""))
            }
        case .itemOk, .itemChanged, .itemFailed, .itemSkipped:
            itemResult(event)
        case .included:
            let hosts = (event.data["hosts"]?.listValue ?? []).compactMap(\.stringValue)
            var line = "included: \(event.data["file"]?.stringValue ?? "") for \(hosts.joined(separator: ", "))"
            if let item = event.data["item"]?.stringValue { line += " => (item=\(item))" }
            write(line, palette.included)
        case .display:
            write(event.data["message"]?.stringValue ?? "")
        case .retry:
            let result = event.data["result"]?.dictValue ?? [:]
            let left = (result["retries"]?.intValue ?? 0) - (result["attempts"]?.intValue ?? 0)
            var line = "FAILED - RETRYING: [\(event.data["host"]?.stringValue ?? "")]: \(event.display["name"]?.stringValue ?? "") (\(left) retries left)."
            if verbosity > 2 || result["_ansible_verbose_always"]?.boolValue == true { line += "Result was: " + dump(result) }
            write(line, palette.debug)
        case .noHostsRemaining:
            write(banner("NO MORE HOSTS LEFT"))
        case .playbookStart:
            if verbosity > 1 {
                let name = event.data["playbook"]?.stringValue ?? ""
                write(banner("PLAYBOOK: \((name as NSString).lastPathComponent)"))
                for entry in playCounts { write("\(entry.plays) plays in \(entry.path)") }
            }
        }
    }

    private func pad(_ s: String, _ width: Int) -> String {
        s + String(repeating: " ", count: max(0, width - s.count))
    }

    /// A warning on stderr (bright purple), once per run.
    /// ansible-core's Display.deprecated: once per run the hint how to silence them, then the message, the
    /// origin with its source lines, and what to do instead.
    private func deprecation(_ data: ValueDict) {
        warning("[WARNING]: Deprecation warnings can be disabled by setting `deprecation_warnings=False` in ansible.cfg.")
        var text = "[DEPRECATION WARNING]: " + (data["message"]?.stringValue ?? "")
        if let place = data["origin"]?.stringValue, let mark = AnsibleError.mark(from: place), mark.file.hasPrefix("/") {
            text += "\n" + AnsibleError.origin(mark)
        }
        if let help = data["help"]?.stringValue { text += "\n" + help + "\n" }
        warning(text)
    }

    private func warning(_ text: String) {
        if shownMessages.insert(text).inserted {
            FileHandle.standardError.write(Data((palette.paint(text, palette.warn) + "\n").utf8))
        }
    }

    /// `-vv`: `task path: FILE:LINE` after a task banner.
    private func taskPath(_ display: ValueDict) {
        guard verbosity >= 2, let text = display["task_path"]?.stringValue, let mark = AnsibleError.mark(from: text),
            mark.file.hasPrefix("/")
        else { return }
        write("task path: \(mark.file):\(mark.line)", palette.debug)
    }

    private static func isInclude(_ event: RunEvent) -> Bool {
        let action = event.display["action"]?.stringValue
        return action == "include_tasks" || action == "include_role"
    }

    private func resultWarnings(_ result: ValueDict) {
        for w in result["warnings"]?.listValue ?? [] {
            warning("[WARNING]: " + (w.stringValue ?? w.json()))
        }
    }

    private func itemResult(_ event: RunEvent) {
        let host = ResultDisplay.hostLabel(host: event.data["host"]?.stringValue ?? "", display: event.display)
        var result = event.data["result"]?.dictValue ?? [:]
        resultWarnings(result)
        let label = ResultDisplay.itemLabel(result)
        clean(&result, action: event.display["action"]?.stringValue)
        switch event.kind {
        case .itemOk, .itemChanged:
            if Self.isInclude(event) { return }
            let word = event.kind == .itemChanged ? "changed" : "ok"
            write("\(word): [\(host)] => (item=\(label))" + verbose(result), event.kind == .itemChanged ? palette.changed : palette.ok)
        case .itemSkipped:
            write("skipping: [\(event.data["host"]?.stringValue ?? "")] => (item=\(label)) " + verbose(result), palette.skip)
        case .itemFailed:
            if let error = event.display["error"]?.stringValue {
                errorBlock("[ERROR]: Task failed: " + error, event.display)
            }
            write("failed: [\(host)] (item=\(label)) => " + dump(result), palette.error)
        default: break
        }
    }

    /// `_clean_results`: debug shows only what it was asked to show.
    private func clean(_ result: inout ValueDict, action: String?) {
        guard action == "debug" else { return }
        if result["msg"] != nil {
            for key in result.keys where !["msg", "exception", "warnings", "deprecations"].contains(key) && !key.hasPrefix("_") {
                result.removeValue(forKey: key)
            }
        } else {
            for key in ["changed", "failed", "skipped", "invocation", "skip_reason", "ansible_loop_var", "ansible_index_var",
                        "ansible_loop"] {
                result.removeValue(forKey: key)
            }
        }
    }

    private func hostResult(_ event: RunEvent) {
        let host = ResultDisplay.hostLabel(host: event.data["host"]?.stringValue ?? "", display: event.display)
        var result = event.data["result"]?.dictValue ?? [:]
        let isLoop = event.display["loop"]?.boolValue == true && result["results"] != nil
        if !isLoop { resultWarnings(result) }
        if event.kind == .ok || event.kind == .changed, event.display["diff"]?.boolValue != false {
            showDiffs(result, isLoop: isLoop)
        }
        clean(&result, action: event.display["action"]?.stringValue)
        result.removeValue(forKey: isLoop ? "results" : "")
        switch event.kind {
        case .ok: if !isLoop && !Self.isInclude(event) { write("ok: [\(host)]" + verbose(result), palette.ok) }
        case .changed: if !isLoop { write("changed: [\(host)]" + verbose(result), palette.changed) }
        case .skipped: write("skipping: [\(event.data["host"]?.stringValue ?? "")]" + verbose(result), palette.skip)
        case .failed, .failedIgnored, .failedRescued:
            let message = event.display["error"]?.stringValue ?? ("Module failed: " + (result["msg"]?.stringValue ?? ""))
            errorBlock("[ERROR]: Task failed: " + message, event.display)
            if !isLoop { write("fatal: [\(host)]: FAILED! => " + dump(result), palette.error) }
            if event.kind == .failedIgnored { write("...ignoring", palette.skip) }
        case .unreachable, .unreachableIgnored:
            // A no_log task's result is censored, and so is its error line (ansible-core's wording).
            let message = result["msg"]?.stringValue
                ?? (result["censored"] != nil ? "Task failed: Failed to connect to the host via ssh: <error censored due to no log>" : "")
            errorBlock("[ERROR]: " + message, event.display)
            write("fatal: [\(host)]: UNREACHABLE! => " + dump(result), palette.unreachable)
            if event.kind == .unreachableIgnored { write("...ignoring", palette.skip) }
        default: break
        }
    }

    /// ansible's strategy sends `v2_on_file_diff` before the ok/changed line: a changed result's `diff` (a loop's
    /// per item) as a unified diff.
    private func showDiffs(_ result: ValueDict, isLoop: Bool) {
        let results: [ValueDict] = isLoop ? (result["results"]?.listValue ?? []).compactMap(\.dictValue) : [result]
        for r in results {
            guard let diff = r["diff"], r["changed"]?.boolValue == true else { continue }
            let text = renderDiff(diff)
            if !text.isEmpty { write(text.hasSuffix("\n") ? String(text.dropLast()) : text) }
        }
    }

    private func errorBlock(_ line: String, _ display: ValueDict) {
        let key = line + "\u{0}" + (display["task_path"]?.stringValue ?? "")
        guard shownMessages.insert(key).inserted else { return }
        var text = line
        if let chain = display["error_chain"]?.listValue, !chain.isEmpty {
            // ansible-core's chained error: the summary line, then each cause with its origin.
            let causes = chain.map { cause -> String in
                var part = cause["message"]?.stringValue ?? ""
                if let place = cause["origin"]?.stringValue, let mark = AnsibleError.mark(from: place), mark.file.hasPrefix("/") {
                    part += "\n" + AnsibleError.origin(mark)
                } else {
                    part += "\n"
                }
                return part
            }
            text += "\n\n" + causes.joined(separator: "\n<<< caused by >>>\n\n")
        } else if display["error_origin"]?.boolValue != false, let origin = origin(display) {
            text += "\n" + origin
        }
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
        for (k, v) in result where !k.hasPrefix("_ansible_") && k != "exception" && k != "warnings" && k != "deprecations" {
            if (k == "invocation" || k == "diff") && verbosity < 3 { continue }
            shown[k] = ResultDisplay.withoutInternalKeys(v)
        }
        var width = indent
        if width == nil && (verbosity >= 3 || result["_ansible_verbose_always"]?.boolValue == true) { width = 4 }
        let format = width.map { Value.JSONFormat(indent: $0, sortKeys: true, ensureASCII: false) } ?? .compactSorted
        return Value.dict(shown).json(format)
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
