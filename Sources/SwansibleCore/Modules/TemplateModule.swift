public import SwansibleData
import SwansibleSSH
import Foundation

/// `template`: renders the file on the controller with the project's Jinja2 evaluator (the host's variables
/// plus `ansible_managed` and the `template_*` variables), then copies the text as `copy` does.
struct TemplateModule: Module {
    static let renderOptions = [
        "newline_sequence", "block_start_string", "block_end_string", "variable_start_string", "variable_end_string",
        "comment_start_string", "comment_end_string", "trim_blocks", "lstrip_blocks", "output_encoding",
    ]

    func run(_ args: ValueDict, _ context: ModuleContext) async -> ModuleOutcome {
        var copy = CopyAction(taskArgs: args, context: context)
        copy.fromTemplate = true
        func fail(_ message: String) -> ModuleOutcome {
            .result(["changed": false, "exception": "(traceback unavailable)", "failed": true, "msg": .string(message),
                     "_swansible_task_error": .string(message)])
        }
        if args["state"] != nil { return fail("'state' cannot be specified on a template") }
        guard let src = args["src"]?.stringValue, var dest = args["dest"]?.stringValue else {
            return fail("src and dest are required")
        }
        if let failed = await expandPathArgument(&copy.taskArgs, "dest", context, failure: fail) { return failed }
        dest = copy.taskArgs["dest"]?.stringValue ?? dest
        var newline = args["newline_sequence"]?.stringValue ?? "\n"
        let wrong = ["\\n": "\n", "\\r": "\r", "\\r\\n": "\r\n"]
        if let fixed = wrong[newline] { newline = fixed }
        guard ["\n", "\r", "\r\n"].contains(newline) else { return fail("newline_sequence needs to be one of: \n, \r or \r\n") }
        for name in Self.renderOptions where args[name] != nil && name != "newline_sequence" {
            let v = args[name]!
            let isDefault = (name == "trim_blocks" && ansibleBool(v) == true) || (name == "lstrip_blocks" && ansibleBool(v) == false)
                || (name == "output_encoding" && ["utf-8", "utf8"].contains((v.stringValue ?? "").lowercased()))
            if !isDefault { return fail("swansible: the template option '\(name)' is not supported yet") }
        }
        // _find_needle('templates', src).
        guard let path = findControllerFile(src, in: context.templateSearchPaths),
              let data = FileManager.default.contents(atPath: path) else {
            return fail(controllerFileMissing(src, in: context.templateSearchPaths))
        }
        var st = stat()
        _ = stat(path, &st)
        var extra = ValueDict()
        extra["template_host"] = .string(ProcessInfo.processInfo.hostName)
        extra["template_path"] = .string(src)
        extra["template_mtime"] = .string(pythonTimestamp(Date(timeIntervalSince1970: Double(st.st_mtim.tv_sec))))
        extra["template_uid"] = getpwuid(st.st_uid).map { .string(String(cString: $0.pointee.pw_name)) } ?? .int(Int(st.st_uid))
        extra["template_run_date"] = .string(pythonTimestamp(Date()))
        extra["template_destpath"] = .string(dest)
        extra["template_fullpath"] = .string(path)
        extra["ansible_managed"] = "Ansible managed"
        var text: String
        do {
            text = try context.renderTemplate(String(decoding: data, as: UTF8.self), extra)
        } catch {
            return fail("\(error)")
        }
        if newline != "\n" { text = text.replacingAll("\n", with: newline) }
        var taskArgs = args
        for name in Self.renderOptions { taskArgs.removeValue(forKey: name) }
        if taskArgs["mode"]?.stringValue == "preserve" { taskArgs["mode"] = .string(octalMode(UInt32(st.st_mode) & 0o7777)) }
        copy.taskArgs = taskArgs
        return await copy.copyFiles([(.bytes(Array(text.utf8)), pythonBasename(path))], directories: [], links: [],
                                    dest: dest, sourceDisplay: path, content: false)
    }
}
