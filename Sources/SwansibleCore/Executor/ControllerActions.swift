import SwansibleData
import SwansibleTemplate
import SwansibleYAML
import Foundation

/// What a controller-side action sees.
struct ActionContext: Sendable {
    let host: String
    let task: PlayTask
    let scope: VariableScope
    let engine: TemplateEngine
    let options: RunOptions
    let searchPaths: [String]
    var warnings: TemplateWarningSink? = nil

    /// Template options that keep warnings with the place of the argument `key`.
    func templateOptions(for key: String) -> TemplateOptions {
        warnings?.options(origin: task.argumentMark(key) ?? task.mark) ?? TemplateOptions()
    }

    /// The task's arguments, templated (omitted values dropped).
    func templatedArgs() throws(TemplateError) -> ValueDict {
        let options = warnings?.options(origin: task.argsMark ?? task.mark) ?? TemplateOptions()
        return try engine.template(.dict(task.args), variables: scope, options: options).dictValue ?? [:]
    }
}

/// What a controller-side action produced.
struct ActionResult: Sendable {
    /// The raw result (`failed`, `changed`, …).
    var result: ValueDict
    var errorText: String? = nil
    var setFacts: ValueDict? = nil
    var cacheable = false
    var includedVars: ValueDict? = nil
    /// Lines the action shows on the controller's output before its result (ansible's `display.display`).
    var display: [String] = []
}

/// Actions that run on the controller, as ansible-core's action plugins do: debug, set_fact, assert, fail,
/// pause, include_vars. (`meta` is the executor's own.)
enum ControllerActions {
    typealias Action = @Sendable (ActionContext) async -> ActionResult

    static func action(for module: String) -> Action? {
        switch module {
        case "debug": return debug
        case "set_fact": return setFact
        case "assert": return assertAction
        case "fail": return fail
        case "pause": return pause
        case "include_vars": return includeVars
        default: return nil
        }
    }

    static let names: Set<String> = ["debug", "set_fact", "assert", "fail", "pause", "include_vars", "meta"]

    static func failed(_ message: String, prefix: String = "Action failed: ") -> ActionResult {
        ActionResult(
            result: ["failed": true, "changed": false, "msg": .string(message), "exception": "(traceback unavailable)"],
            errorText: prefix + message)
    }

    // MARK: debug

    static func debug(_ c: ActionContext) async -> ActionResult {
        let raw = c.task.args
        for key in raw.keys where !["msg", "var", "verbosity"].contains(key) {
            return failed("Unsupported parameters for (debug) module: \(key). Supported parameters include: msg, var, verbosity.")
        }
        if raw["msg"] != nil && raw["var"] != nil {
            return failed("parameters are mutually exclusive: msg|var")
        }
        var verbosity = 0
        if let v = raw["verbosity"] {
            let t = (try? c.engine.template(v, variables: c.scope)) ?? v
            verbosity = t.intValue ?? Int(t.stringValue ?? "") ?? 0
        }
        guard verbosity <= c.options.verbosity else {
            return ActionResult(result: ["changed": false, "skipped": true, "skipped_reason": "Verbosity threshold not met.",
                                         "failed": false])
        }
        var result: ValueDict = ["changed": false]
        if let variable = raw["var"] {
            let name: String
            do {
                let templated = try c.engine.template(variable, variables: c.scope, options: c.templateOptions(for: "var"))
                name = templated.stringValue ?? templated.json()
            } catch {
                return failed(error.message, prefix: "")
            }
            do {
                result[name] = try c.engine.evaluateExpression(name, variables: c.scope, options: c.templateOptions(for: "var"))
            } catch where error.kind == .undefined {
                result[name] = .string("<< error 1 - \(error.message) >>")
                result["warnings"] = .list([.string("Encountered 1 template error.\nerror 1 - \(error.message)")])
            } catch {
                return failed("Error while resolving `var` expression: \(error.message)", prefix: "")
            }
        } else {
            do {
                result["msg"] = try c.engine.template(raw["msg"] ?? "Hello world!", variables: c.scope,
                                                      options: c.templateOptions(for: "msg"))
            } catch {
                return failed(error.message, prefix: "")
            }
        }
        result["_ansible_verbose_always"] = true
        result["failed"] = false
        return ActionResult(result: result)
    }

    // MARK: set_fact

    static func setFact(_ c: ActionContext) async -> ActionResult {
        let args: ValueDict
        do { args = try c.templatedArgs() } catch { return failed(error.message, prefix: "") }
        var facts = ValueDict()
        var cacheable = false
        for (k, v) in args {
            if k == "cacheable" {
                cacheable = ansibleBool(v) ?? v.isTruthy
                continue
            }
            guard isIdentifier(k) else {
                return failed("The variable name '\(k)' is not valid. Variables must start with a letter or underscore "
                    + "character, and contain only letters, numbers and underscores.")
            }
            facts[k] = v
        }
        guard !facts.isEmpty else {
            return failed("No key/value pairs provided, at least one is required for this action to succeed")
        }
        return ActionResult(
            result: ["ansible_facts": .dict(facts), "_ansible_facts_cacheable": .bool(cacheable), "changed": false],
            setFacts: facts, cacheable: cacheable)
    }

    static func isIdentifier(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, first == "_" || CharacterSet.letters.contains(first) else { return false }
        return s.unicodeScalars.allSatisfy { $0 == "_" || CharacterSet.alphanumerics.contains($0) }
    }

    // MARK: assert

    static func assertAction(_ c: ActionContext) async -> ActionResult {
        let raw = c.task.args
        guard let that = raw["that"] else { return failed("conditional required in \"that\" string") }
        func text(_ key: String) -> Value? {
            guard let v = raw[key] else { return nil }
            return (try? c.engine.template(v, variables: c.scope)) ?? v
        }
        let failMessage = text("fail_msg") ?? text("msg")
        let successMessage = text("success_msg")
        let quiet = text("quiet").map { ansibleBool($0) ?? $0.isTruthy } ?? false
        var result: ValueDict = ["changed": false]
        if !quiet { result["_ansible_verbose_always"] = true }
        for condition in that.listValue ?? [that] {
            do {
                if try !c.engine.evaluateConditional(condition, variables: c.scope) {
                    result["failed"] = true
                    result["evaluated_to"] = false
                    result["assertion"] = condition
                    result["msg"] = failMessage ?? "Assertion failed"
                    result["exception"] = "(traceback unavailable)"
                    let shown = (failMessage?.stringValue) ?? (failMessage.map { $0.json() } ?? "Assertion failed")
                    return ActionResult(result: result, errorText: "Action failed: " + shown)
                }
            } catch {
                return failed(error.message, prefix: "")
            }
        }
        result["msg"] = successMessage ?? "All assertions passed"
        result["failed"] = false
        return ActionResult(result: result)
    }

    // MARK: fail

    static func fail(_ c: ActionContext) async -> ActionResult {
        let args: ValueDict
        do { args = try c.templatedArgs() } catch { return failed(error.message, prefix: "") }
        let message = args["msg"] ?? "Failed as requested from task"
        var r = failed(message.stringValue ?? message.json())
        r.result["msg"] = message
        return r
    }

    // MARK: pause

    static func pause(_ c: ActionContext) async -> ActionResult {
        let args: ValueDict
        do { args = try c.templatedArgs() } catch { return failed(error.message, prefix: "") }
        func number(_ v: Value?) -> Double? {
            guard let v else { return nil }
            if let i = v.intValue { return Double(i) }
            if case .float(let f) = v { return f }
            return Double(v.stringValue ?? "")
        }
        var seconds = 0.0
        if let s = number(args["seconds"]) {
            seconds = s
        } else if let m = number(args["minutes"]) {
            seconds = m * 60
        } else if args["prompt"] != nil {
            return failed("pause with a prompt needs a terminal; swansible supports pause with seconds or minutes only")
        }
        // ansible-core shows the duration (at least 1 s) and, with a prompt, how to end the pause; without a
        // terminal it reads no input, so the prompt itself is not shown.
        let echo = args["echo"].map { $0.isTruthy } ?? true
        var display: [String] = []
        if number(args["seconds"]) != nil || number(args["minutes"]) != nil {
            display.append("Pausing for \(max(1, Int(seconds))) seconds" + (echo ? "" : " (output is hidden)"))
            if args["prompt"] != nil { display.append("(ctrl+C then 'C' = continue early, ctrl+C then 'A' = abort)\r") }
        }
        let start = Date()
        if seconds > 0 { try? await Task.sleep(for: .seconds(seconds)) }
        let stop = Date()
        // ansible-core reports the measured duration, rounded to 2 decimals, as a Python float.
        let elapsed = stop.timeIntervalSince(start)
        let inMinutes = number(args["seconds"]) == nil && number(args["minutes"]) != nil
        let measured = ((inMinutes ? elapsed / 60 : elapsed) * 100).rounded() / 100
        return ActionResult(result: [
            "changed": false, "rc": 0, "stderr": "",
            "stdout": .string("Paused for \(measured) \(inMinutes ? "minutes" : "seconds")"),
            "start": .string(pythonTimestamp(start)), "stop": .string(pythonTimestamp(stop)),
            "delta": .int(Int(stop.timeIntervalSince(start))), "echo": .bool(echo), "user_input": "",
        ], display: display)
    }

    // MARK: include_vars

    static func includeVars(_ c: ActionContext) async -> ActionResult {
        let args: ValueDict
        do { args = try c.templatedArgs() } catch { return failed(error.message, prefix: "") }
        guard let file = args["_raw_params"]?.stringValue ?? args["file"]?.stringValue else {
            return failed("swansible's include_vars needs a file (`dir` is not supported)")
        }
        var candidates: [String] = []
        if file.hasPrefix("/") {
            candidates = [file]
        } else {
            let taskDir = (c.task.mark.file as NSString).deletingLastPathComponent
            candidates += [taskDir + "/vars/" + file, taskDir + "/" + file]
            for dir in c.searchPaths where !dir.hasSuffix("/files") {
                candidates += [dir + "/vars/" + file, dir + "/" + file]
            }
        }
        guard let path = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }),
            let data = FileManager.default.contents(atPath: path)
        else {
            return failed("Could not find or access '\(file)'\nSearched in:\n\t" + candidates.joined(separator: "\n\t")
                + " on the Ansible Controller.\nIf you are using a module and expect the file to exist on the remote, "
                + "see the remote_src option")
        }
        let loaded: Value
        do {
            loaded = try YAML.loadValue(text: String(decoding: data, as: UTF8.self), file: path)
        } catch {
            return failed(error.message, prefix: "")
        }
        var vars = loaded.dictValue ?? [:]
        if loaded.isNull { vars = [:] } else if loaded.dictValue == nil {
            return failed("\(path) must be stored as a dictionary/hash")
        }
        if let name = args["name"]?.stringValue { vars = [name: .dict(vars)] }
        return ActionResult(
            result: ["ansible_facts": .dict(vars), "ansible_included_var_files": .list([.string(path)]), "changed": false],
            includedVars: vars)
    }
}
