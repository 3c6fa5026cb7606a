public import SwansibleData
import SwansibleSSH

/// `raw`: the command line goes to the remote shell as written, with nothing around it (become excepted).
struct RawModule: Module {
    func run(_ args: ValueDict, _ context: ModuleContext) async -> ModuleOutcome {
        guard let command = args["_raw_params"]?.stringValue, !command.isEmpty else {
            return .result(["changed": false, "failed": true, "msg": "the raw module requires the _raw_params argument"])
        }
        if context.checkMode {
            return .result(["changed": false, "skipped": true])
        }
        var shellCommand = command
        if let executable = args["executable"]?.stringValue, !executable.isEmpty {
            shellCommand = "\(executable) -c \(shellQuote(command))"
        }
        let result: ExecResult
        do {
            result = try await context.connection.exec(
                shellCommand, input: .none, timeout: context.timeout, become: context.become,
                environment: [])  // raw ignores `environment:` (ansible-core warns)
        } catch {
            if error.isConnectionFailure { return .unreachable(error.message) }
            return .result(["changed": false, "failed": true, "msg": .string(error.message)])
        }
        let stdout = outputText(result.stdout), stderr = outputText(result.stderr)
        return .result(actionOutputResult(rc: result.returnCode, stdout: stdout, stderr: stderr))
    }
}

/// The result raw and script give (action plugins, not modules): output and rc, always changed; a non-zero rc
/// fails with ansible-core's "Action failed: non-zero return code".
func actionOutputResult(rc: Int, stdout: String, stderr: String) -> ValueDict {
    var r: ValueDict = ["changed": true, "rc": .int(rc), "stderr": .unsafe(stderr),
                        "stderr_lines": .list(pythonSplitLines(stderr).map(Value.unsafe)),
                        "stdout": .unsafe(stdout), "stdout_lines": .list(pythonSplitLines(stdout).map(Value.unsafe))]
    if rc != 0 {
        r["failed"] = true
        r["msg"] = "non-zero return code"
        r["exception"] = "(traceback unavailable)"
        r["_swansible_task_error"] = "Action failed: non-zero return code"
    }
    return r
}
