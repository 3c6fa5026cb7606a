import Foundation
import SwansibleCore
import SwansibleData

/// ansible-core's default stdout callback, line for line (the parts swansible supports so far).
final class DefaultOutput: @unchecked Sendable {
    // @unchecked: called from one run's task only, in order.
    private let verbosity: Int
    private let marks: [String: SourceMark]
    private let write: (String) -> Void
    /// ansible-core prints an identical error or warning only once per run.
    private var shownMessages: Set<String> = []

    init(verbosity: Int, taskMarks: [String: SourceMark] = [:], write: @escaping (String) -> Void) {
        self.verbosity = verbosity
        self.marks = taskMarks
        self.write = write
    }

    static func banner(_ text: String) -> String {
        let stars = max(3, 79 - text.count)
        return "\n" + text + " " + String(repeating: "*", count: stars)
    }

    /// The task whose banner was printed last, and each task's banner (the free strategy interleaves tasks: a
    /// result of another task prints that task's banner again, as ansible-core's callback does).
    private var lastBanner: String?
    private var banners: [String: String] = [:]

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
            write(Self.banner("PLAY [\(event.data["play"]?.stringValue ?? "")]"))
        case .taskStart:
            let banner = Self.banner("TASK [\(event.display["name"]?.stringValue ?? "")]")
            if let task = event.data["task"]?.stringValue { banners[task] = banner }
            write(banner)
        case .handlerTaskStart:
            let banner = Self.banner("RUNNING HANDLER [\(event.display["name"]?.stringValue ?? "")]")
            if let task = event.data["task"]?.stringValue { banners[task] = banner }
            write(banner)
        case .noHostsMatched:
            write("skipping: no hosts matched")
        case .ok, .changed, .skipped, .failed, .failedIgnored, .failedRescued, .unreachable, .unreachableIgnored:
            hostResult(event)
        case .stats:
            write(Self.banner("PLAY RECAP"))
            let stats = event.data["stats"]?.dictValue ?? [:]
            for host in stats.keys.sorted() {
                let s = stats[host]!
                func field(_ name: String, _ key: String) -> String {
                    let v = String(s[key]?.intValue ?? 0)
                    return name + "=" + v + String(repeating: " ", count: max(0, 4 - v.count))
                }
                let padded = host + String(repeating: " ", count: max(0, 26 - host.count))
                write(padded + " : " + [field("ok", "ok"), field("changed", "changed"), field("unreachable", "unreachable"),
                    field("failed", "failed"), field("skipped", "skipped"), field("rescued", "rescued"),
                    field("ignored", "ignored")].joined(separator: " "))
            }
            write("")
        case .warning:
            let text = "[WARNING]: " + (event.data["message"]?.stringValue ?? "")
            if shownMessages.insert(text).inserted { FileHandle.standardError.write(Data((text + "\n").utf8)) }
        case .itemOk, .itemChanged, .itemFailed, .itemSkipped:
            itemResult(event)
        case .included:
            let hosts = (event.data["hosts"]?.listValue ?? []).compactMap(\.stringValue)
            var line = "included: \(event.data["file"]?.stringValue ?? "") for \(hosts.joined(separator: ", "))"
            if let item = event.data["item"]?.stringValue { line += " => (item=\(item))" }
            write(line)
        case .retry:
            let result = event.data["result"]?.dictValue ?? [:]
            let left = (result["retries"]?.intValue ?? 0) - (result["attempts"]?.intValue ?? 0)
            var line = "FAILED - RETRYING: [\(event.data["host"]?.stringValue ?? "")]: \(event.display["name"]?.stringValue ?? "") (\(left) retries left)."
            if verbosity > 2 || result["_ansible_verbose_always"]?.boolValue == true { line += "Result was: " + dump(result) }
            write(line)
        case .noHostsRemaining:
            write(Self.banner("NO MORE HOSTS LEFT"))
        case .playbookStart:
            break
        }
    }

    private static func isInclude(_ event: RunEvent) -> Bool {
        let action = event.display["action"]?.stringValue
        return action == "include_tasks" || action == "include_role"
    }

    private func resultWarnings(_ result: ValueDict) {
        for w in result["warnings"]?.listValue ?? [] {
            let text = "[WARNING]: " + (w.stringValue ?? w.json())
            if shownMessages.insert(text).inserted { FileHandle.standardError.write(Data((text + "\n").utf8)) }
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
            write("\(word): [\(host)] => (item=\(label))" + verbose(result))
        case .itemSkipped:
            write("skipping: [\(event.data["host"]?.stringValue ?? "")] => (item=\(label)) " + verbose(result))
        case .itemFailed:
            if let error = event.display["error"]?.stringValue {
                errorBlock("[ERROR]: Task failed: " + error, event.display)
            }
            write("failed: [\(host)] (item=\(label)) => " + dump(result))
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
        clean(&result, action: event.display["action"]?.stringValue)
        result.removeValue(forKey: isLoop ? "results" : "")
        switch event.kind {
        case .ok: if !isLoop && !Self.isInclude(event) { write("ok: [\(host)]" + verbose(result)) }
        case .changed: if !isLoop { write("changed: [\(host)]" + verbose(result)) }
        case .skipped: write("skipping: [\(event.data["host"]?.stringValue ?? "")]" + verbose(result))
        case .failed, .failedIgnored, .failedRescued:
            let message = event.display["error"]?.stringValue ?? ("Module failed: " + (result["msg"]?.stringValue ?? ""))
            errorBlock("[ERROR]: Task failed: " + message, event.display)
            if !isLoop { write("fatal: [\(host)]: FAILED! => " + dump(result)) }
            if event.kind == .failedIgnored { write("...ignoring") }
        case .unreachable, .unreachableIgnored:
            errorBlock("[ERROR]: " + (result["msg"]?.stringValue ?? ""), event.display)
            write("fatal: [\(host)]: UNREACHABLE! => " + dump(result))
            if event.kind == .unreachableIgnored { write("...ignoring") }
        default: break
        }
    }

    private func errorBlock(_ line: String, _ display: ValueDict) {
        let key = line + "\u{0}" + (display["task_path"]?.stringValue ?? "")
        guard shownMessages.insert(key).inserted else { return }
        write(line)
        writeOrigin(display)
    }

    private func writeOrigin(_ data: ValueDict) {
        guard let text = data["task_path"]?.stringValue, let mark = AnsibleError.mark(from: text),
            mark.file.hasPrefix("/")
        else { return }
        write(AnsibleError.origin(mark))
    }

    private func verbose(_ result: ValueDict) -> String {
        verbosity > 0 || result["_ansible_verbose_always"]?.boolValue == true ? " => " + dump(result) : ""
    }

    /// The callback's `_dump_results`: internal keys dropped, keys sorted, UTF-8 kept.
    func dump(_ result: ValueDict) -> String {
        var shown = ValueDict()
        for (k, v) in result where !k.hasPrefix("_ansible") && k != "exception" && k != "warnings" && k != "deprecations" {
            if (k == "invocation" || k == "diff") && verbosity < 3 { continue }
            shown[k] = Self.stripInternal(v)
        }
        let indent = verbosity >= 3 || result["_ansible_verbose_always"]?.boolValue == true
        return Value.dict(shown).json(indent ? Value.JSONFormat(indent: 4, sortKeys: true, ensureASCII: false) : .compactSorted)
    }

    private static func stripInternal(_ v: Value) -> Value {
        switch v {
        case .dict(let d):
            var out = ValueDict()
            for (k, x) in d where !k.hasPrefix("_ansible_") { out[k] = stripInternal(x) }
            return .dict(out)
        case .list(let l): return .list(l.map(stripInternal))
        default: return v
        }
    }
}
