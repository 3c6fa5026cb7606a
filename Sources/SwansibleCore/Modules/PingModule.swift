public import SwansibleData
import SwansibleSSH

/// `ping`: proves the host runs commands (one `echo` over the connection; no Python needed).
struct PingModule: Module {
    func run(_ args: ValueDict, _ context: ModuleContext) async -> ModuleOutcome {
        let data = args["data"] ?? "pong"
        let invocation: Value = ["module_args": ["data": data]]
        for key in args.keys where key != "data" {
            return .result(moduleFailure(
                "Unsupported parameters for (ansible.legacy.ping) module: \(key). Supported parameters include: data.",
                args: ["data": data]))
        }
        do {
            let result = try await context.connection.exec(
                "echo pong", input: .none, timeout: context.timeout, become: context.become,
                environment: context.environment)
            if result.exitStatus != 0 {
                return .result(["changed": false, "failed": true, "msg": .string(errorText(result)), "invocation": invocation])
            }
        } catch {
            if error.isConnectionFailure { return .unreachable(error.message) }
            return .result(["changed": false, "failed": true, "msg": .string(error.message)])
        }
        if data.stringValue == "crash" {
            // ansible-core's ping raises an exception for this value (a way to test failure handling).
            return .result(["changed": false, "exception": "(traceback unavailable)", "failed": true,
                            "msg": "Task failed: Module failed: boom", "_swansible_error": "Task failed: Module failed: boom"])
        }
        return .result(["changed": false, "invocation": invocation, "ping": data])
    }
}
