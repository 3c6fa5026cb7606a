public import SwansibleData
import SwansibleSSH
import SwansibleTemplate
import Foundation
import Synchronization

/// What running one task on one host produced, besides the callback result.
struct HostTaskOutcome: Sendable {
    var result: HostResult
    /// The value `register:` stores (ansible-core's "clean copy": no internal keys, no `invocation`).
    var registered: ValueDict?
    /// Per-item results of a loop, in order (for the item lines and events).
    var items: [HostResult] = []
    /// `ansible_facts` returned by a module (setup, …): the host's facts.
    var facts: ValueDict = [:]
    /// `set_fact` results (cacheable ones also become facts).
    var setFacts: ValueDict = [:]
    var cacheableFacts = false
    /// `include_vars` results.
    var includedVars: ValueDict = [:]
    /// Handler names and topics to notify (the task changed).
    var notify: [String] = []
    /// `include_tasks` / `include_role` requests, one per item.
    var includes: [IncludeRequest] = []
    /// Failed attempts of an `until` loop (the callback result of each, with `attempts` and `retries`).
    var retries: [ValueDict] = []
    /// Lines a controller action showed while it ran (shown before the result).
    var display: [String] = []
    /// The "<<< caused by >>>" chain of a task error (see ``HostResult/errorChain``).
    var errorChain: [ErrorCause] = []
    /// Deprecations templating met (`play_hosts`, …), with where the templated value is.
    var deprecations: [(warning: TemplateWarning, origin: SourceMark?)] = []
}

/// Collects what templating warns about while a host works on a task.
final class TemplateWarningSink: Sendable {
    private let collected = Mutex<[(warning: TemplateWarning, origin: SourceMark?)]>([])

    /// Template options whose warnings are kept with `origin` (where the templated value is).
    func options(origin: SourceMark?) -> TemplateOptions {
        TemplateOptions(onWarning: { [self] w in collected.withLock { $0.append((w, origin)) } })
    }

    func drain() -> [(warning: TemplateWarning, origin: SourceMark?)] {
        collected.withLock { list in
            defer { list = [] }
            return list
        }
    }
}

/// A dynamic include to expand for a host.
struct IncludeRequest: Sendable {
    var file: String
    var args: ValueDict
    /// Loop variables of the item that asked for the include (they stay visible to the included tasks).
    var loopVars: ValueDict
    var isRole: Bool
}

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
    /// The variables of another inventory host (for `delegate_to`).
    let hostScope: @Sendable (String) -> VariableScope?
    let warnings = TemplateWarningSink()

    static let noLogMessage = "the output has been hidden due to the fact that 'no_log: true' was specified for this result"

    // MARK: - the task

    func run() async -> HostTaskOutcome {
        var outcome = await runTask()
        outcome.deprecations = warnings.drain()
        return outcome
    }

    private func runTask() async -> HostTaskOutcome {
        var outcome = HostTaskOutcome(result: HostResult(host: host, status: .ok, result: [:]))
        let noLog = isTrue(task.keyword("no_log"))
        let raw: ValueDict
        var errorText: String?

        switch loopItemsValue() {
        case .failure(let message):
            var r: ValueDict = ["failed": true, "msg": .string(message), "changed": false,
                                "exception": "(traceback unavailable)"]
            r["_ansible_no_log"] = .bool(noLog)
            raw = r
            errorText = message
        case .success(nil):
            var (r, text) = await executeWithRetries(scope: scope, outcome: &outcome, loopVars: [:])
            if r["changed"] == nil { r["changed"] = false }
            raw = r
            errorText = text
        case .success(let items?):
            if items.isEmpty {
                raw = ["changed": false, "skipped": true, "skipped_reason": "No items in the list", "results": []]
            } else {
                var results: [ValueDict] = []
                results.reserveCapacity(items.count)
                let control = task.keyword("loop_control")?.dictValue ?? [:]
                let loopVar = rendered(control["loop_var"])?.stringValue ?? "item"
                let indexVar = rendered(control["index_var"])?.stringValue
                let extended = rendered(control["extended"]).map { ansibleBool($0) ?? $0.isTruthy } ?? false
                let allItems = rendered(control["extended_allitems"]).map { ansibleBool($0) ?? $0.isTruthy } ?? true
                let pause = rendered(control["pause"]).flatMap { $0.doubleValue ?? Double($0.stringValue ?? "") } ?? 0
                for (index, item) in items.enumerated() {
                    if index > 0, pause > 0 { try? await Task.sleep(for: .seconds(pause)) }
                    var loopVars: ValueDict = ["ansible_loop_var": .string(loopVar), .init(loopVar): item]
                    if let indexVar {
                        loopVars["ansible_index_var"] = .string(indexVar)
                        loopVars[indexVar] = .int(index)
                    }
                    if extended {
                        var loop: ValueDict = [
                            "index": .int(index + 1), "index0": .int(index), "first": .bool(index == 0),
                            "last": .bool(index + 1 == items.count), "length": .int(items.count),
                            "revindex": .int(items.count - index), "revindex0": .int(items.count - index - 1),
                        ]
                        if allItems { loop["allitems"] = .list(items) }
                        if index + 1 < items.count { loop["nextitem"] = items[index + 1] }
                        if index > 0 { loop["previtem"] = items[index - 1] }
                        loopVars["ansible_loop"] = .dict(loop)
                    }
                    var itemScope = scope
                    itemScope.magic.merge(loopVars) { $1 }
                    var (r, text) = await executeWithRetries(scope: itemScope, outcome: &outcome, loopVars: loopVars)
                    for (k, v) in loopVars where k != "ansible_loop" || extended { r[k] = v }
                    if let label = control["label"] {
                        var labelScope = itemScope
                        if let name = task.keyword("register")?.stringValue { labelScope.magic[name] = .dict(r) }
                        r["_ansible_item_label"] = (try? engine.template(label, variables: labelScope)) ?? label
                    } else {
                        r["_ansible_item_label"] = item
                    }
                    let itemResult = hostResult(raw: r, errorText: text, noLog: noLog || r["_ansible_no_log"]?.boolValue == true)
                    outcome.items.append(itemResult)
                    if errorText == nil, itemResult.status == .failed { errorText = text }
                    results.append(r)
                    if r["unreachable"]?.boolValue == true { break }
                }
                var aggregate: ValueDict = ["results": .list(results.map(Value.dict))]
                var skipped = true
                var changed = false
                var failed = false
                var unreachable = false
                for r in results {
                    if r["_ansible_no_log"]?.boolValue == true { aggregate["_ansible_no_log"] = true }
                    if r["changed"]?.boolValue == true { changed = true }
                    if r["skipped"]?.boolValue != true { skipped = false }
                    if r["failed"]?.boolValue == true { failed = true }
                    if r["unreachable"]?.boolValue == true { unreachable = true }
                }
                if changed { aggregate["changed"] = true }
                aggregate["skipped"] = .bool(skipped)
                if failed {
                    aggregate["failed"] = true
                    aggregate["msg"] = "One or more items failed"
                } else {
                    aggregate["msg"] = "All items completed"
                }
                if unreachable { aggregate["unreachable"] = true }
                if skipped { aggregate["msg"] = "All items skipped" }
                if aggregate["changed"] == nil { aggregate["changed"] = false }
                raw = aggregate
            }
        }
        outcome.result = hostResult(raw: raw, errorText: errorText, noLog: noLog || raw["_ansible_no_log"]?.boolValue == true)
        if outcome.result.status == .failed, outcome.items.isEmpty, raw["results"] == nil {
            outcome.result.errorChain = outcome.errorChain
        }
        if outcome.result.status == .skipped, task.keyword("loop") != nil || task.loopKeyword != nil, raw["results"] != nil {
            outcome.result.result["msg"] = raw["msg"]
        }
        if task.keyword("register") != nil {
            outcome.registered = Self.cleanCopy(raw)
        }
        if outcome.result.status == .changed, let notify = rendered(task.keyword("notify")) {
            outcome.notify = (notify.listValue ?? [notify]).compactMap { $0.stringValue }
        }
        return outcome
    }

    /// The callback view of a raw result, and its status.
    private func hostResult(raw: ValueDict, errorText: String?, noLog: Bool) -> HostResult {
        let status: TaskStatus
        if raw["unreachable"]?.boolValue == true {
            status = .unreachable
        } else if raw["failed"]?.boolValue == true {
            status = .failed
        } else if raw["skipped"]?.boolValue == true {
            status = .skipped
        } else if raw["changed"]?.boolValue == true {
            status = .changed
        } else {
            status = .ok
        }
        var shown: ValueDict
        if noLog {
            shown = Self.censored(raw)
            if let results = raw["results"]?.listValue {
                shown["results"] = .list(results.map { item in
                    guard let d = item.dictValue, d["_ansible_no_log"]?.boolValue == true else { return item }
                    return .dict(Self.censored(d))
                })
            }
        } else {
            shown = raw
            shown.removeValue(forKey: "failed")
            shown.removeValue(forKey: "skipped")
            if ModuleRegistry.isDebug(task.module) { shown.removeValue(forKey: "invocation") }
            shown = Self.stripInternal(shown)
        }
        if let delegated = raw["_ansible_delegated_vars"]?.dictValue {
            var subset = ValueDict()
            for key in ["ansible_host", "ansible_port", "ansible_user", "ansible_connection"] {
                if let v = delegated[key] { subset[key] = v }
            }
            shown["_ansible_delegated_vars"] = .dict(subset)
        }
        var r = HostResult(host: host, status: status, result: shown)
        r.delegatedHost = raw["_ansible_delegated_vars"]?.dictValue?["ansible_delegated_host"]?.stringValue
        if status == .failed {
            r.errorText = errorText ?? ("Module failed: " + (raw["msg"]?.stringValue ?? ""))
            if isTrue(task.keyword("ignore_errors")) { r.ignored = true }
        }
        if status == .unreachable, isTrue(task.keyword("ignore_unreachable")) { r.ignored = true }
        return r
    }

    /// ansible-core's `censor_result`: only the keys it preserves, and the `censored` message.
    static func censored(_ d: ValueDict) -> ValueDict {
        var c = ValueDict()
        for key in ["attempts", "changed", "retries", "_ansible_no_log", "exception", "warnings", "deprecations"] {
            if let v = d[key] { c[key] = v }
        }
        c["censored"] = .string(noLogMessage)
        return c
    }

    /// Removes `_ansible_*` keys except those callbacks keep.
    static func stripInternal(_ d: ValueDict) -> ValueDict {
        var out = ValueDict()
        for (k, v) in d {
            if k.hasPrefix("_ansible_"), !["_ansible_verbose_always", "_ansible_item_label", "_ansible_no_log",
                                           "_ansible_verbose_override", "_ansible_delegated_vars"].contains(k) { continue }
            out[k] = stripInternalValue(v)
        }
        return out
    }

    private static func stripInternalValue(_ v: Value) -> Value {
        switch v {
        case .dict(let d): return .dict(stripInternal(d))
        case .list(let l): return .list(l.map(stripInternalValue))
        default: return v
        }
    }

    /// What `register` stores: no `_ansible_*` keys anywhere, no top-level `invocation`.
    static func cleanCopy(_ raw: ValueDict) -> ValueDict {
        var out = ResultDisplay.withoutInternalKeys(.dict(raw)).dictValue ?? [:]
        out.removeValue(forKey: "invocation")
        return out
    }

    // MARK: - loops

    private enum LoopItems { case success([Value]?), failure(String) }

    private func loopItemsValue() -> LoopItems {
        if let loop = task.keyword("loop") {
            do {
                let value = try engine.template(loop, variables: scope)
                guard let list = value.listValue else {
                    return .failure("Invalid data passed to 'loop', it requires a list, got this instead: \(value.pythonStr). "
                        + "Hint: If you passed a list/dict of just one element, try adding wantlist=True to your lookup "
                        + "invocation or use q/query instead of lookup.")
                }
                return .success(list)
            } catch {
                return .failure(error.message)
            }
        }
        if let (name, terms) = task.loopKeyword {
            do {
                let templated = try engine.template(terms, variables: scope)
                let list = templated.listValue ?? [templated]
                let lookupName = String(name.dropFirst("with_".count))
                let value = try engine.lookup(lookupName, terms: list, variables: scope)
                return .success(value.listValue ?? [value])
            } catch {
                return .failure(error.message)
            }
        }
        return .success(nil)
    }

    // MARK: - one run (an item, or the task without a loop)

    /// Runs the action with until/retries, changed_when and failed_when; the raw result (with `failed`,
    /// `changed`, `_ansible_no_log`) and the [ERROR] text when it failed.
    private func executeWithRetries(
        scope: VariableScope, outcome: inout HostTaskOutcome, loopVars: ValueDict
    ) async -> (ValueDict, String?) {
        let noLog = isTrue(task.keyword("no_log"), in: scope)
        // when: the task's conditions and those of its enclosing blocks, all of which must hold.
        var conditions: [Value] = task.inheritedWhen
        if let when = task.keywords["when"] { conditions.append(when) }
        for condition in conditions.flatMap({ $0.listValue ?? [$0] }) {
            do {
                if try !engine.evaluateConditional(condition, variables: scope, origin: nil,
                                                   options: warnings.options(origin: task.keywords.mark("when") ?? task.mark)) {
                    return (["changed": false, "skipped": true, "skip_reason": "Conditional result was False",
                             "false_condition": condition, "_ansible_no_log": .bool(noLog)], nil)
                }
            } catch {
                // ansible-core: AnsibleTaskError("Task failed.") caused by the conditional's error, at the condition.
                outcome.errorChain = [
                    ErrorCause("Task failed.", at: task.mark),
                    ErrorCause(error.message, at: task.keywords.mark("when") ?? task.mark),
                ]
                return (taskFailure("Task failed: " + error.message, noLog: noLog), error.message)
            }
        }

        if task.module == "include_tasks" || task.module == "include_role" {
            do {
                let args = try engine.template(.dict(task.args), variables: scope).dictValue ?? [:]
                let file = args["_raw_params"]?.stringValue ?? args["file"]?.stringValue ?? args["name"]?.stringValue
                guard let file, !file.isEmpty else {
                    return (failure("No include file was specified to the include", noLog: noLog), nil)
                }
                outcome.includes.append(IncludeRequest(
                    file: file, args: args, loopVars: loopVars, isRole: task.module == "include_role"))
                var r: ValueDict = ["_ansible_no_log": .bool(noLog)]
                if task.module == "include_tasks" { r["include"] = .string(file) }
                var includeArgs = args
                includeArgs.removeValue(forKey: "_raw_params")
                r["include_args"] = .dict(includeArgs)
                return (r, nil)
            } catch {
                return (failure(error.message, noLog: noLog), error.message)
            }
        }

        let register = task.keyword("register")?.stringValue
        let untilValue = task.keyword("until")
        var retries = 1
        if let r = rendered(task.keyword("retries"), in: scope) {
            retries += max(0, r.intValue ?? Int(r.stringValue ?? "") ?? 3)
        } else if untilValue != nil {
            retries += 3
        }
        var delay = rendered(task.keyword("delay"), in: scope).flatMap { $0.intValue ?? Int($0.stringValue ?? "") } ?? 5
        if delay < 0 { delay = 1 }

        var result = ValueDict()
        var errorText: String?
        var succeeded = false
        for attempt in 1...retries {
            var evalScope = scope
            (result, errorText) = await executeAction(scope: scope, outcome: &outcome)
            if result["unreachable"]?.boolValue == true { return (result, errorText) }
            if result["failed"] == nil {
                if let rc = result["rc"], rc.intValue != 0, rc.stringValue != "0" { result["failed"] = true } else { result["failed"] = false }
            }
            if retries > 1 { result["attempts"] = .int(attempt) }
            if result["changed"] == nil { result["changed"] = false }
            if let register { evalScope.magic[register] = .dict(Self.cleanCopy(result)) }
            if result["skipped"] == nil {
                var conditionName = "changed"
                do {
                    if let changedWhen = task.keyword("changed_when"), !changedWhen.isNull {
                        result["changed"] = .bool(try evaluateAll(changedWhen, evalScope))
                    }
                    conditionName = "failed"
                    if let failedWhen = task.keyword("failed_when"), !failedWhen.isNull {
                        let failed = try evaluateAll(failedWhen, evalScope)
                        result["failed_when_result"] = .bool(failed)
                        result["failed"] = .bool(failed)
                        if !failed, let exception = result.removeValue(forKey: "exception") {
                            result["failed_when_suppressed_exception"] = exception
                        }
                        if failed {
                            if result["exception"] == nil { result["exception"] = "(traceback unavailable)" }
                            let msg = result["msg"]?.stringValue ?? ""
                            errorText = msg.isEmpty ? "Action failed." : "Action failed: " + msg
                        }
                    }
                } catch {
                    result["failed"] = true
                    result["\(conditionName)_when_result"] = .string(error.message)
                    errorText = error.message
                }
            }
            if retries > 1 {
                if let register { evalScope.magic[register] = .dict(Self.cleanCopy(result)) }
                let until: Value = untilValue ?? .bool(result["failed"]?.boolValue != true)
                if (try? evaluateAll(until, evalScope)) == true {
                    succeeded = true
                    break
                }
                if attempt < retries {
                    result["_ansible_retry"] = true
                    result["retries"] = .int(retries)
                    var shown = result
                    shown.removeValue(forKey: "failed")
                    outcome.retries.append(Self.stripInternal(shown))
                    if delay > 0 { try? await Task.sleep(for: .seconds(delay)) }
                }
            } else {
                succeeded = true
            }
        }
        if !succeeded, retries > 1 {
            result["attempts"] = .int(retries - 1)
            result["failed"] = true
            result.removeValue(forKey: "_ansible_retry")
        }
        result["_ansible_no_log"] = .bool(noLog)
        if result["failed"]?.boolValue != true { errorText = nil }
        return (result, errorText)
    }

    private func evaluateAll(_ conditions: Value, _ scope: VariableScope) throws(TemplateError) -> Bool {
        for condition in conditions.listValue ?? [conditions] {
            if try !engine.evaluateConditional(condition, variables: scope, origin: nil) { return false }
        }
        return true
    }

    private func failure(_ message: String, noLog: Bool) -> ValueDict {
        ["changed": false, "failed": true, "msg": .string(message), "_ansible_no_log": .bool(noLog)]
    }

    /// An exception the task executor raised (AnsibleTaskError): ansible-core adds its (unavailable) traceback.
    private func taskFailure(_ message: String, noLog: Bool) -> ValueDict {
        var r = failure(message, noLog: noLog)
        r["exception"] = "(traceback unavailable)"
        return r
    }

    /// Runs the action once: a controller-side action or a module on the host (or its delegate).
    private func executeAction(scope: VariableScope, outcome: inout HostTaskOutcome) async -> (ValueDict, String?) {
        let module = task.module
        // Controller-side actions template their own arguments where they differ.
        if let action = ControllerActions.action(for: module) {
            let context = ActionContext(
                host: host, task: task, scope: scope, engine: engine, options: options, searchPaths: searchPaths,
                warnings: warnings)
            let r = await action(context)
            if let facts = r.setFacts { outcome.setFacts.merge(facts) { $1 }; outcome.cacheableFacts = r.cacheable }
            if let vars = r.includedVars { outcome.includedVars.merge(vars) { $1 } }
            outcome.display += r.display
            return (r.result, r.errorText)
        }
        guard let executor = ModuleRegistry.module(module) else {
            let message = "module '\(task.action)' is not supported by swansible (supported: "
                + ModuleRegistry.supported.sorted().joined(separator: ", ") + ")"
            return (failure(message, noLog: false), message)
        }
        let args: ValueDict
        do {
            let rendered = try engine.template(.dict(task.args), variables: scope,
                                               options: warnings.options(origin: task.argsMark ?? task.mark))
            args = rendered.dictValue ?? [:]
        } catch {
            return argumentError(error, scope: scope, outcome: &outcome)
        }
        // delegate_to: the module runs over the delegate's connection, with the task's host's variables.
        var connectionHost = host
        var connectionScope = scope
        var delegatedVars: ValueDict? = nil
        if let delegate = rendered(task.keyword("delegate_to"), in: scope)?.stringValue, !delegate.isEmpty {
            connectionHost = delegate
            if let s = hostScope(delegate) {
                connectionScope = s
            } else {
                var implicit = VariableScope(layers: [], magic: ["inventory_hostname": .string(delegate)])
                if delegate == "localhost" || delegate == "127.0.0.1" {
                    implicit.layers = [["ansible_connection": "local"]]
                }
                connectionScope = implicit
            }
            var dv: ValueDict = ["ansible_delegated_host": .string(delegate)]
            // The connection plugin's own variables are always there (null when unset); ansible_connection
            // only when the host sets it.
            for key in ["ansible_host", "ansible_port", "ansible_user"] {
                dv[key] = connectionScope.variable(key).map { rendered($0, in: connectionScope) ?? $0 } ?? .null
            }
            if let c = connectionScope.variable("ansible_connection") {
                dv["ansible_connection"] = rendered(c, in: connectionScope) ?? c
            }
            if dv["ansible_host"] == .null { dv["ansible_host"] = .string(delegate) }
            delegatedVars = dv
        }
        let settings = connectionSettings(host: connectionHost, scope: connectionScope)
        let connection: any HostConnection
        switch await pool.connection(for: connectionHost, settings: settings) {
        case .success(let c): connection = c
        case .failure(let error): return unreachable(error.message)
        }
        let watched = BecomeFailureWatch(connection)
        var context = ModuleContext(
            hostName: host, connection: watched, become: become(scope), checkMode: checkMode(),
            diffMode: diffMode(), environment: environment(scope), timeout: timeout(scope), searchPaths: searchPaths)
        context.templateSearchPaths = searchPaths.map { $0.hasSuffix("/files") ? String($0.dropLast(6)) + "/templates" : $0 }
        context.strictUTF8 = options.moduleStrictUTF8Response
        let templateEngine = self.engine
        let hostScope = scope
        context.renderTemplate = { text, extra in
            var layered = hostScope
            layered.magic.merge(extra) { $1 }
            let value = try templateEngine.render(text, variables: layered, options: TemplateOptions())
            return value.stringValue ?? value.json()
        }
        switch await executor.run(args, context) {
        case .unreachable(let message):
            pool.drop(connectionHost)
            return unreachable(message)
        case .result(var result):
            if let failure = watched.failure {
                // Privilege escalation failed: the task fails with that error, whatever the module made of it.
                var r: ValueDict = ["changed": false, "exception": "(traceback unavailable)",
                                    "msg": .string("Task failed: " + failure.message), "failed": true]
                if let delegatedVars { r["_ansible_delegated_vars"] = .dict(delegatedVars) }
                return (r, failure.message)
            }
            let errorText = result.removeValue(forKey: "_swansible_error")?.stringValue
            // The whole [ERROR] text after "Task failed: " when it is not "Module failed: <msg>" (a module's own
            // wording, e.g. "Action failed: ...").
            let taskError = result.removeValue(forKey: "_swansible_task_error")?.stringValue
            // A chained error from the module: the first cause at the task (the implicit fact gathering has
            // no origin in ansible-core), the others without one.
            if let causes = result.removeValue(forKey: "_swansible_error_causes")?.listValue {
                outcome.errorChain = causes.enumerated().map { i, cause in
                    ErrorCause(cause.stringValue ?? "", at: i == 0 && task.id >= 0 ? task.mark : nil)
                }
            }
            if let facts = result["ansible_facts"]?.dictValue { outcome.facts.merge(facts) { $1 } }
            if let delegatedVars { result["_ansible_delegated_vars"] = .dict(delegatedVars) }
            let failed = result["failed"]?.boolValue == true
            return (result, failed ? taskError ?? "Module failed: " + (errorText ?? result["msg"]?.stringValue ?? "") : nil)
        }
    }

    /// A template error in the module arguments, worded and chained as ansible-core's finalization of task args:
    /// "Finalization of task args for 'ansible.builtin.command' failed: Error while resolving value for
    /// '_raw_params': 'x' is undefined", caused at the action's key and at the argument's value.
    private func argumentError(_ error: TemplateError, scope: VariableScope, outcome: inout HostTaskOutcome)
        -> (ValueDict, String?)
    {
        // The first argument (in order) that fails on its own is the one ansible-core names.
        let key = task.args.keys.first { key in
            guard let value = task.args[key] else { return false }
            return (try? engine.template(value, variables: scope, options: TemplateOptions())) == nil
        } ?? "_raw_params"
        let action = task.action.contains(".") ? task.action : "ansible.builtin." + task.action
        let finalization = "Finalization of task args for '\(action)' failed"
        let resolving = "Error while resolving value for '\(key)': " + error.message
        outcome.errorChain = [
            ErrorCause("Task failed.", at: task.mark),
            ErrorCause(finalization + ".", at: task.actionMark ?? task.mark),
            ErrorCause(resolving, at: task.argumentMark(key) ?? task.mark),
        ]
        let text = finalization + ": " + resolving
        return (taskFailure("Task failed: " + text, noLog: false), text)
    }

    private func connectionSettings(host: String, scope: VariableScope) -> ConnectionSettings {
        ConnectionSettings.from(hostName: host, variables: { name in
            guard let v = scope.variable(name) else { return nil }
            return try? engine.template(v, variables: scope, options: TemplateOptions())
        }, defaults: options)
    }

    /// Opens the host's connection (or waits for it) before the task runs, in a small async frame: with a
    /// thousand hosts at once most wait for the engine's connect admission, and waiting inside `run()` kept
    /// ~12 KB of its frames per host. Only for tasks that surely run a module on the host itself (ad-hoc); the
    /// outcome is ignored here, `run()` meets the same connection (or failure) in the pool.
    @inline(never)
    func connectFirst() async {
        guard ControllerActions.action(for: task.module) == nil, ModuleRegistry.module(task.module) != nil,
              task.keyword("delegate_to") == nil
        else { return }
        _ = await pool.connection(for: host, settings: connectionSettings(host: host, scope: scope))
    }

    private func unreachable(_ message: String) -> (ValueDict, String?) {
        (["changed": false, "exception": "(traceback unavailable)",
          "msg": .string("Task failed: Failed to connect to the host via ssh: \(message)"), "unreachable": true,
          "_ansible_no_log": .bool(isTrue(task.keyword("no_log")))], nil)
    }

    // MARK: - keywords

    private func rendered(_ value: Value?, in scope: VariableScope? = nil) -> Value? {
        guard let value else { return nil }
        return (try? engine.template(value, variables: scope ?? self.scope, options: TemplateOptions())) ?? value
    }

    private func isTrue(_ value: Value?, in scope: VariableScope? = nil) -> Bool {
        guard let v = rendered(value, in: scope) else { return false }
        return ansibleBool(v) ?? v.isTruthy
    }

    private func checkMode() -> Bool {
        if let v = task.keyword("check_mode") ?? playKeywords["check_mode"] { return isTrue(v) }
        return options.check
    }

    private func diffMode() -> Bool {
        if let v = task.keyword("diff") ?? playKeywords["diff"] { return isTrue(v) }
        return options.diff
    }

    private func become(_ scope: VariableScope) -> BecomeSpec? {
        let enabled = task.keyword("become").map { isTrue($0, in: scope) } ?? playKeywords["become"].map { isTrue($0, in: scope) }
            ?? scope.variable("ansible_become").map { isTrue($0, in: scope) } ?? options.become
        guard enabled else { return nil }
        let user = rendered(task.keyword("become_user") ?? playKeywords["become_user"] ?? scope.variable("ansible_become_user"), in: scope)?
            .stringValue ?? options.becomeUser ?? "root"
        let method = rendered(task.keyword("become_method") ?? playKeywords["become_method"] ?? scope.variable("ansible_become_method"), in: scope)?
            .stringValue ?? options.becomeMethod ?? "sudo"
        let password = rendered(scope.variable("ansible_become_password") ?? scope.variable("ansible_become_pass"), in: scope)?.stringValue
            ?? options.becomePassword
        let flags = rendered(task.keyword("become_flags") ?? playKeywords["become_flags"] ?? scope.variable("ansible_become_flags"), in: scope)?.stringValue
        return BecomeSpec(method: method == "su" ? .su : .sudo, user: user, password: password, flags: flags)
    }

    private func environment(_ scope: VariableScope) -> [(String, String)] {
        var env: [(String, String)] = []
        var levels: [Value?] = [playKeywords["environment"]]
        for level in task.inherited { levels.append(level["environment"]) }
        levels.append(task.keywords["environment"])
        for level in levels {
            guard let v = rendered(level, in: scope) else { continue }
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

    private func timeout(_ scope: VariableScope) -> Duration? {
        guard let v = rendered(task.keyword("timeout"), in: scope) else {
            return options.taskTimeout.map { .seconds($0) }
        }
        if let i = v.intValue, i > 0 { return .seconds(i) }
        if let s = v.stringValue, let i = Int(s), i > 0 { return .seconds(i) }
        return nil
    }
}

extension PlayTask {
    /// `with_<lookup>: terms`, when the task loops that way.
    var loopKeyword: (String, Value)? {
        for (k, v) in keywords.values where k.hasPrefix("with_") { return (k, v) }
        return nil
    }
}
