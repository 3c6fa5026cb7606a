import Foundation
import SwansibleCore
import SwansibleData

/// ansible-core's default stdout callback, line for line (the parts swansible supports so far).
final class DefaultOutput: @unchecked Sendable {
    // @unchecked: called from one run's task only, in order.
    private let verbosity: Int
    private let marks: [String: SourceMark]
    private let write: (String) -> Void

    init(verbosity: Int, taskMarks: [String: SourceMark] = [:], write: @escaping (String) -> Void) {
        self.verbosity = verbosity
        self.marks = taskMarks
        self.write = write
    }

    static func banner(_ text: String) -> String {
        let stars = max(3, 79 - text.count)
        return "\n" + text + " " + String(repeating: "*", count: stars)
    }

    func handle(_ event: RunEvent) {
        switch event.kind {
        case .playStart:
            write(Self.banner("PLAY [\(event.data["name"]?.stringValue ?? "")]"))
        case .taskStart:
            write(Self.banner("TASK [\(event.data["name"]?.stringValue ?? "")]"))
        case .handlerTaskStart:
            write(Self.banner("RUNNING HANDLER [\(event.data["name"]?.stringValue ?? "")]"))
        case .noHostsMatched:
            write("skipping: no hosts matched")
        case .hostResult:
            hostResult(event.data)
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
                    field("failed", "failures"), field("skipped", "skipped"), field("rescued", "rescued"),
                    field("ignored", "ignored")].joined(separator: " "))
            }
            write("")
        case .warning:
            write("[WARNING]: " + (event.data["message"]?.stringValue ?? ""))
        case .playbookStart, .noHostsRemaining:
            break
        }
    }

    private func hostResult(_ data: ValueDict) {
        let host = data["host"]?.stringValue ?? ""
        let result = data["result"]?.dictValue ?? [:]
        let status = data["status"]?.stringValue ?? ""
        switch status {
        case "ok": write("ok: [\(host)]" + verbose(result))
        case "changed": write("changed: [\(host)]" + verbose(result))
        case "skipped": write("skipping: [\(host)]" + verbose(result))
        case "failed", "ignored":
            var message = result["msg"]?.stringValue ?? ""
            if result["rc"] != nil || result["cmd"] != nil { message = "Module failed: " + message }
            write("[ERROR]: Task failed: " + message)
            writeOrigin(data)
            write("fatal: [\(host)]: FAILED! => " + dump(result))
            if status == "ignored" { write("...ignoring") }
        case "unreachable":
            write("[ERROR]: " + (result["msg"]?.stringValue ?? ""))
            writeOrigin(data)
            write("fatal: [\(host)]: UNREACHABLE! => " + dump(result))
        default: break
        }
    }

    private func writeOrigin(_ data: ValueDict) {
        guard let text = data["task_path"]?.stringValue, let mark = AnsibleError.mark(from: text),
            mark.file.hasPrefix("/")
        else { return }
        write(AnsibleError.origin(mark))
    }

    private func verbose(_ result: ValueDict) -> String {
        verbosity > 0 ? " => " + dump(result) : ""
    }

    /// The callback's `_dump_results`: internal keys dropped, keys sorted, UTF-8 kept.
    func dump(_ result: ValueDict) -> String {
        var shown = ValueDict()
        for (k, v) in result where !k.hasPrefix("_ansible") && k != "exception" {
            if k == "invocation" && verbosity < 3 { continue }
            shown[k] = v
        }
        return Value.dict(shown).json(verbosity >= 3 ? Value.JSONFormat(indent: 4, sortKeys: true, ensureASCII: false) : .compactSorted)
    }
}
