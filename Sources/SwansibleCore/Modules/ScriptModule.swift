public import SwansibleData
import SwansibleSSH
import Foundation

/// `script`: the local script (found in `files/` as ansible-core searches) travels on stdin into a `mktemp`
/// file, is made executable and run with its arguments, then removed: one round trip, `creates`/`removes`
/// and `chdir` checked in the same script.
struct ScriptModule: Module {
    func run(_ args: ValueDict, _ context: ModuleContext) async -> ModuleOutcome {
        func fail(_ message: String) -> ModuleOutcome {
            .result(["changed": false, "exception": "(traceback unavailable)", "failed": true, "msg": .string(message),
                     "_swansible_task_error": .string(message)])
        }
        let raw = args["_raw_params"]?.stringValue ?? args["cmd"]?.stringValue ?? ""
        let words = (try? ArgumentSplitting.shlexSplit(raw)) ?? []
        guard let name = words.first else { return fail("script requires a script path (free form or cmd)") }
        // The arguments stay as written: the remote shell splits them, as with ansible-core.
        var rest = Substring(raw.trimmingSpaces())
        rest = rest.dropFirst(min(rest.count, rawFirstWordLength(String(rest))))
        guard let path = findControllerFile(name, in: context.searchPaths),
              let data = FileManager.default.contents(atPath: path) else {
            return fail(controllerFileMissing(name, in: context.searchPaths))
        }
        let marker = "SWANSIBLE-\(UInt64.random(in: 1...UInt64.max))"
        var script = ""
        // The script's bytes arrive on stdin: read them before stopping.
        script += createsRemovesScript(creates: args["creates"]?.stringValue, removes: args["removes"]?.stringValue,
                                       marker: marker, beforeStop: "cat >/dev/null; ")
        if context.checkMode {
            script += "cat >/dev/null; echo \(marker):check; exit 0\n"
        }
        script += "t=$(mktemp \"${TMPDIR:-/tmp}/.swansible-script-XXXXXXXXXX\") || exit 1\n"
        script += "cat > \"$t\" && chmod 700 \"$t\" || { rm -f \"$t\"; exit 1; }\n"
        if let chdir = args["chdir"]?.stringValue { script += "cd \(pathWord(chdir)) || { rm -f \"$t\"; exit 1; }\n" }
        let executable = args["executable"]?.stringValue.map { $0 + " " } ?? ""
        script += "\(executable)\"$t\"\(rest)\nrc=$?\nrm -f \"$t\"\nexit $rc\n"
        let result: ExecResult
        do {
            result = try await context.connection.exec(
                script, input: .bytes([UInt8](data)), timeout: context.timeout, become: context.become,
                environment: context.environment)
        } catch {
            if error.isConnectionFailure { return .unreachable(error.message) }
            return fail(error.message)
        }
        let stdout = outputText(result.stdout), stderr = outputText(result.stderr)
        if stdout.hasPrefix(marker + ":") {
            let reason = stdout.dropFirst(marker.count + 1).trimmingCharacters(in: .whitespacesAndNewlines)
            switch reason {
            case "creates":
                return .result(["changed": false, "skipped": true,
                                "msg": .string("\(args["creates"]!.stringValue!) exists, matching creates option")])
            case "removes":
                return .result(["changed": false, "skipped": true,
                                "msg": .string("\(args["removes"]!.stringValue!) does not exist, matching removes option")])
            default:
                return .result(["changed": true, "skipped": true, "msg": "Check mode is not supported for this task."])
            }
        }
        return .result(actionOutputResult(rc: result.returnCode, stdout: stdout, stderr: stderr))
    }

    /// The length of the first shell word of `s` as written (quotes included).
    private func rawFirstWordLength(_ s: String) -> Int {
        var n = 0
        var quote: Character?
        for c in s {
            if let q = quote {
                if c == q { quote = nil }
            } else if c == "'" || c == "\"" {
                quote = c
            } else if c == " " || c == "\t" {
                break
            }
            n += 1
        }
        return n
    }
}
