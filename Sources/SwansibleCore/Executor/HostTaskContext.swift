public import SwansibleData
import SwansibleSSH
import SwansibleTemplate
import SwansibleYAML
import Foundation

/// Everything needed to run one task on one host, detached from the executor's state so hosts run
/// concurrently.
struct HostTaskContext: Sendable {
    let host: String
    let task: PlayTask
    let scope: VariableScope
    let engine: TemplateEngine
    let pool: ConnectionPool
    let options: RunOptions
    let playKeywords: Keywords
    let searchPaths: [String]

    /// Runs the task; returns the callback result and the value to register (when the task registers).
    func run() async -> (HostResult, ValueDict?) {
        // when: the task's conditions and those of its enclosing blocks, all of which must hold.
        var conditions: [Value] = task.inheritedWhen
        if let when = task.keywords["when"] { conditions.append(when) }
        for condition in conditions.flatMap({ $0.listValue ?? [$0] }) {
            do {
                if try !engine.evaluateConditional(condition, variables: scope, origin: nil, options: TemplateOptions()) {
                    let result: ValueDict = [
                        "changed": false, "false_condition": condition, "skip_reason": "Conditional result was False",
                    ]
                    return finish(status: .skipped, result: result, registered: result.merging(["skipped": true]) { $1 })
                }
            } catch {
                return failed(error.message)
            }
        }
        guard let module = ModuleRegistry.module(task.module) else {
            return failed("module '\(task.action)' is not supported by swansible")
        }
        let args: ValueDict
        do {
            let rendered = try engine.template(.dict(task.args), variables: scope, options: TemplateOptions())
            args = rendered.dictValue ?? [:]
        } catch {
            return failed(error.message)
        }
        let settings = ConnectionSettings.from(hostName: host, variables: { name in
            guard let v = scope.variable(name) else { return nil }
            return try? engine.template(v, variables: scope, options: TemplateOptions())
        }, defaults: options)
        let connection: any HostConnection
        switch await pool.connection(for: host, settings: settings) {
        case .success(let c): connection = c
        case .failure(let error): return unreachable(error.message)
        }
        var context = ModuleContext(
            hostName: host, connection: connection, become: become(), checkMode: checkMode(), diffMode: diffMode(),
            environment: environment(), timeout: timeout(), searchPaths: searchPaths)
        context.templateSearchPaths = searchPaths.map { $0.hasSuffix("/files") ? String($0.dropLast(6)) + "/templates" : $0 }
        let templateEngine = self.engine, hostScope = self.scope
        context.renderTemplate = { text, extra in
            var layered = hostScope
            layered.layers.append(extra)
            let value = try templateEngine.render(text, variables: layered, options: TemplateOptions())
            return value.stringValue ?? value.json()
        }
        switch await module.run(args, context) {
        case .unreachable(let message):
            pool.drop(host)
            return unreachable(message)
        case .result(var result):
            let errorText = result.removeValue(forKey: "_swansible_error")?.stringValue
            // The whole [ERROR] text after "Task failed: " when it is not "Module failed: <msg>" (action plugins'
            // failures: "Action failed: ...", or an exception's own text).
            let taskError = result.removeValue(forKey: "_swansible_task_error")?.stringValue
            var status: TaskStatus = result["failed"]?.boolValue == true ? .failed
                : result["skipped"]?.boolValue == true ? .skipped
                : result["changed"]?.boolValue == true ? .changed : .ok
            let registered = result
            result.removeValue(forKey: "failed")
            result.removeValue(forKey: "skipped")
            var registeredClean = registered
            registeredClean.removeValue(forKey: "_swansible_error")
            registeredClean.removeValue(forKey: "_swansible_task_error")
            var r = finish(status: status, result: result, registered: registeredClean)
            if status == .failed {
                r.0.errorText = taskError
                    ?? "Module failed: " + (errorText ?? result["msg"]?.stringValue ?? "")
            }
            if status == .failed, isTrue(task.keyword("ignore_errors")) { r.0.ignored = true }
            if status == .skipped { status = .skipped }
            return r
        }
    }

    private func finish(status: TaskStatus, result: ValueDict, registered: ValueDict) -> (HostResult, ValueDict?) {
        var shown = ValueDict()
        shown["_ansible_no_log"] = false
        for (k, v) in result { shown[k] = v }
        var reg = registered
        if reg["failed"] == nil { reg["failed"] = .bool(status == .failed) }
        if reg["changed"] == nil { reg["changed"] = .bool(status == .changed) }
        return (HostResult(host: host, status: status, result: shown), task.keyword("register") != nil ? reg : nil)
    }

    private func failed(_ message: String) -> (HostResult, ValueDict?) {
        let result: ValueDict = ["changed": false, "msg": .string(message)]
        var r = finish(status: .failed, result: result, registered: result.merging(["failed": true]) { $1 })
        r.0.errorText = message
        if isTrue(task.keyword("ignore_errors")) { r.0.ignored = true }
        return r
    }

    private func unreachable(_ message: String) -> (HostResult, ValueDict?) {
        let result: ValueDict = [
            "changed": false, "exception": "(traceback unavailable)",
            "msg": .string("Task failed: Failed to connect to the host via ssh: \(message)"), "unreachable": true,
        ]
        return finish(status: .unreachable, result: result, registered: result)
    }

    private func rendered(_ value: Value?) -> Value? {
        guard let value else { return nil }
        return (try? engine.template(value, variables: scope, options: TemplateOptions())) ?? value
    }

    private func isTrue(_ value: Value?) -> Bool {
        guard let v = rendered(value) else { return false }
        return ansibleBool(v) ?? v.isTruthy
    }

    private func diffMode() -> Bool {
        if let v = task.keyword("diff") ?? playKeywords["diff"] { return isTrue(v) }
        return options.diff
    }

    private func checkMode() -> Bool {
        if let v = task.keyword("check_mode") ?? playKeywords["check_mode"] { return isTrue(v) }
        return options.check
    }

    private func become() -> BecomeSpec? {
        let enabled = task.keyword("become").map(isTrue) ?? playKeywords["become"].map(isTrue) ?? options.become
        guard enabled else { return nil }
        let user = rendered(task.keyword("become_user") ?? playKeywords["become_user"] ?? scope.variable("ansible_become_user"))?
            .stringValue ?? options.becomeUser ?? "root"
        let method = rendered(task.keyword("become_method") ?? playKeywords["become_method"] ?? scope.variable("ansible_become_method"))?
            .stringValue ?? options.becomeMethod ?? "sudo"
        let password = rendered(scope.variable("ansible_become_password") ?? scope.variable("ansible_become_pass"))?.stringValue
            ?? options.becomePassword
        let flags = rendered(task.keyword("become_flags") ?? playKeywords["become_flags"] ?? scope.variable("ansible_become_flags"))?.stringValue
        return BecomeSpec(method: method == "su" ? .su : .sudo, user: user, password: password, flags: flags)
    }

    private func environment() -> [(String, String)] {
        var env: [(String, String)] = []
        for level in [playKeywords["environment"], task.keyword("environment")] {
            guard let v = rendered(level) else { continue }
            let dicts = v.listValue ?? [v]
            for d in dicts {
                for (k, value) in d.dictValue ?? [:] {
                    env.removeAll { $0.0 == k }
                    env.append((k, value.stringValue ?? value.json()))
                }
            }
        }
        return env
    }

    private func timeout() -> Duration? {
        guard let v = rendered(task.keyword("timeout")) else { return nil }
        if let i = v.intValue, i > 0 { return .seconds(i) }
        if let s = v.stringValue, let i = Int(s), i > 0 { return .seconds(i) }
        return nil
    }
}

func makeTemplateHooks() -> TemplateHooks {
    var hooks = TemplateHooks()
    hooks.fromYAML = { text throws in
        try YAMLBridge.load(text)
    }
    return hooks
}

enum YAMLBridge {
    static func load(_ text: String) throws -> Value {
        try SwansibleYAML.YAML.loadValue(text: text, file: "<string>", options: .fromYAMLFilter)
    }
}
