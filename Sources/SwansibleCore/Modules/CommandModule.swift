public import SwansibleData
import SwansibleSSH
import Foundation

/// `command` and `shell`, run with the target's POSIX shell (no Python on the host).
///
/// The remote script does what ansible-core's module does before running the program (change
/// directory, `creates`/`removes` globs, check mode, whether the program exists) and reports an
/// early exit through a line carrying a per-run random marker, so no output of the program can be
/// mistaken for it.
struct CommandModule: Module {
    let shell: Bool

    static let argumentNames = [
        "_raw_params", "_uses_shell", "argv", "chdir", "cmd", "creates", "executable", "expand_argument_vars",
        "removes", "stdin", "stdin_add_newline", "strip_empty_ends",
    ]

    func run(_ rawArgs: ValueDict, _ context: ModuleContext) async -> ModuleOutcome {
        // invocation.module_args: every option, with its default.
        var args = ValueDict()
        for name in Self.argumentNames { args[name] = rawArgs[name] ?? .null }
        args["_uses_shell"] = .bool(shell)
        args["expand_argument_vars"] = .bool(ansibleBool(rawArgs["expand_argument_vars"]) ?? true)
        args["stdin_add_newline"] = .bool(ansibleBool(rawArgs["stdin_add_newline"]) ?? true)
        args["strip_empty_ends"] = .bool(ansibleBool(rawArgs["strip_empty_ends"]) ?? true)
        for key in rawArgs.keys where !Self.argumentNames.contains(key) {
            return .result(failure(
                "Unsupported parameters for (\(shell ? "ansible.legacy.shell" : "ansible.legacy.command")) module: \(key). Supported parameters include: \(Self.argumentNames.filter { !$0.hasPrefix("_") }.joined(separator: ", ")).",
                invocation: ["module_args": .dict(args)]))
        }
        // Options of type `path`: `~` and `$VAR` expanded on the target (expanduser(expandvars(…))), and shown
        // expanded in the messages and the invocation, as the module sees them.
        let given = args
        if let failed = await expandPathArguments(&args, ["chdir", "creates", "removes"], context,
                                                  failure: { .result(failure($0, invocation: ["module_args": .dict(given)])) }) {
            return failed
        }
        let invocation: Value = ["module_args": .dict(args)]

        let raw = args["_raw_params"]?.stringValue ?? args["cmd"]?.stringValue
        let argvValue = args["argv"]?.listValue
        if raw != nil && argvValue != nil && !argvValue!.isEmpty {
            return .result(failure("parameters are mutually exclusive: _raw_params|cmd|argv", invocation: invocation))
        }
        if (raw ?? "").trimmingSpaces().isEmpty && (argvValue ?? []).isEmpty {
            if raw == nil && argvValue == nil {
                return .result(failure("one of the following is required: _raw_params, cmd, argv", invocation: invocation))
            }
            var r = failure("no command given", invocation: invocation)
            r["rc"] = 256
            return .result(r)
        }

        // What ansible-core reports as `cmd`: the argv list for command, the string for shell.
        let argv: [String]
        let cmdValue: Value
        if shell {
            let command = raw ?? (argvValue ?? []).map { $0.stringValue ?? $0.json() }.joined(separator: " ")
            argv = [args["executable"]?.stringValue ?? "/bin/sh", "-c", command]
            cmdValue = .string(command)
        } else if let argvValue, !argvValue.isEmpty {
            argv = argvValue.map { $0.stringValue ?? $0.json() }
            cmdValue = .list(argv.map(Value.string))
        } else {
            do {
                argv = try ArgumentSplitting.shlexSplit(raw!)
            } catch {
                return .result(failure(error.message, invocation: invocation))
            }
            cmdValue = .list(argv.map(Value.string))
        }
        let expand = !shell && (args["expand_argument_vars"]?.boolValue ?? true)

        let marker = "SWANSIBLE-\(UInt64.random(in: 1...UInt64.max))"
        var script = ""
        if let chdir = args["chdir"]?.stringValue {
            let dir = pathWord(chdir)
            script += "[ -e \(dir) ] || { echo \(marker):chdir:2; exit 0; }; [ -d \(dir) ] || { echo \(marker):chdir:20; exit 0; }; "
                + "cd -- \(dir) 2>/dev/null || { echo \(marker):chdir:13; exit 0; }\n"
        }
        script += createsRemovesScript(creates: args["creates"]?.stringValue, removes: args["removes"]?.stringValue,
                                       marker: marker)
        if context.checkMode {
            script += "echo \(marker):check; exit 0\n"
        }
        let program = argv[0]
        if program.contains("/") {
            script += "if [ ! -e \(pathWord(program)) ]; then echo \(marker):errno:2; exit 0; fi\n"
            script += "if [ -d \(pathWord(program)) ] || [ ! -x \(pathWord(program)) ]; then echo \(marker):errno:13; exit 0; fi\n"
        } else {
            script += "command -v -- \(shellQuote(program)) >/dev/null 2>&1 || { echo \(marker):errno:2; exit 0; }\n"
        }
        script += "exec " + argv.enumerated().map { expand ? expandedWord($0.element) : shellQuote($0.element) }.joined(separator: " ")

        var input = ExecInput.none
        if let stdin = args["stdin"], !stdin.isNull {
            var text = stdin.stringValue ?? stdin.json()
            if args["stdin_add_newline"]?.boolValue ?? true { text += "\n" }
            input = .bytes(text.escapedBytes)
        }

        let started = Date()
        let result: ExecResult
        do {
            result = try await context.connection.exec(
                script, input: input, timeout: context.timeout, become: context.become, environment: context.environment)
        } catch {
            if error.isConnectionFailure { return .unreachable(error.message) }
            var r = failure(error.kind == .timeout ? "The command timed out." : error.message, invocation: invocation)
            r["cmd"] = cmdValue
            return .result(r)
        }
        let ended = Date()

        let stdoutText = outputText(result.stdout)
        if stdoutText.hasPrefix(marker + ":"), result.exitStatus == 0 {
            let reason = String(stdoutText.dropFirst(marker.count + 1)).trimmingSpaces()
            var r = ValueDict()
            r["changed"] = false
            r["cmd"] = cmdValue
            r["delta"] = .null
            r["end"] = .null
            r["invocation"] = invocation
            r["msg"] = ""
            r["rc"] = 0
            r["start"] = .null
            r["stderr"] = ""
            r["stderr_lines"] = []
            r["stdout"] = ""
            r["stdout_lines"] = []
            switch reason {
            case "chdir:2", "chdir:13", "chdir:20":
                let code = Int(reason.dropFirst(6)) ?? 2
                r["failed"] = true
                r["exception"] = "(traceback unavailable)"
                r["msg"] = "Unable to change directory before execution."
                r["rc"] = .null
                let text = code == 20 ? "Not a directory" : code == 13 ? "Permission denied" : "No such file or directory"
                r["_swansible_error"] = .string(
                    "Unable to change directory before execution: [Errno \(code)] \(text): b'\(args["chdir"]!.stringValue!)'")
            case "creates":
                let path = args["creates"]!.stringValue!
                r["msg"] = .string("\(context.checkMode ? "Would not" : "Did not") run command since '\(path)' exists")
                r["stdout"] = .string("skipped, since \(path) exists")
                r["stdout_lines"] = [.string("skipped, since \(path) exists")]
            case "removes":
                let path = args["removes"]!.stringValue!
                r["msg"] = .string("\(context.checkMode ? "Would not" : "Did not") run command since '\(path)' does not exist")
                r["stdout"] = .string("skipped, since \(path) does not exist")
                r["stdout_lines"] = [.string("skipped, since \(path) does not exist")]
            case "check":
                r["msg"] = "Command would have run if not in check mode"
                if args["creates"]?.isNull != false && args["removes"]?.isNull != false {
                    r["skipped"] = true
                } else {
                    r["changed"] = true
                }
            default:
                // The program could not be started (errno:N).
                let errno = Int(reason.split(separator: ":").last ?? "2") ?? 2
                var e = ValueDict()
                e["changed"] = false
                e["cmd"] = .string(shell ? (raw ?? argv.joined(separator: " ")) : argv.joined(separator: " "))
                e["exception"] = "(traceback unavailable)"
                e["failed"] = true
                e["invocation"] = invocation
                e["msg"] = "Error executing command."
                e["rc"] = .int(errno)
                // What ansible-core's [ERROR] line says (from the exception Python raised).
                let reasonText = errno == 13 ? "Permission denied" : "No such file or directory"
                e["_swansible_error"] = .string(
                    "Error executing command: [Errno \(errno)] \(reasonText): b'\(argv[0])'")
                e["stderr"] = ""
                e["stderr_lines"] = []
                e["stdout"] = ""
                e["stdout_lines"] = []
                return .result(e)
            }
            return .result(r)
        }

        // ansible-core 2.19 refuses a module response whose strings are not UTF-8 (MODULE_STRICT_UTF8_RESPONSE,
        // on by default): the command module decodes its output with surrogateescape, and the controller's JSON
        // decoder fails the task on the first run of lone surrogates, stdout before stderr.
        if context.strictUTF8, let problem = strictUTF8Problem(result.stdout) ?? strictUTF8Problem(result.stderr) {
            let message = "Refusing to deserialize an invalid UTF8 string value: 'utf-8' codec can't encode " + problem
                + ": surrogates not allowed"
            return .result(["changed": false, "exception": "(traceback unavailable)", "failed": true,
                            "msg": .string("Task failed: " + message), "_swansible_task_error": .string(message)])
        }
        // Not strict: the bytes are kept (ansible-core keeps them as surrogate escapes; here raw-byte escapes,
        // so the value reaches a later argument or copy content byte for byte).
        var stdout = context.strictUTF8 ? stdoutText : RawBytes.decode(result.stdout)
        var stderr = context.strictUTF8 ? outputText(result.stderr) : RawBytes.decode(result.stderr)
        if args["strip_empty_ends"]?.boolValue ?? true {
            stdout = stripTrailingNewlines(stdout)
            stderr = stripTrailingNewlines(stderr)
        }
        let rc = result.returnCode
        var r = ValueDict()
        r["changed"] = true
        r["cmd"] = cmdValue
        r["delta"] = .string(pythonTimedelta(ended.timeIntervalSince(started)))
        r["end"] = .string(pythonTimestamp(ended))
        r["invocation"] = invocation
        r["msg"] = ""
        r["rc"] = .int(rc)
        r["start"] = .string(pythonTimestamp(started))
        r["stderr"] = .unsafe(stderr)
        r["stderr_lines"] = .list(pythonSplitLines(stderr).map(Value.unsafe))
        r["stdout"] = .unsafe(stdout)
        r["stdout_lines"] = .list(pythonSplitLines(stdout).map(Value.unsafe))
        if rc != 0 {
            r["failed"] = true
            r["msg"] = "non-zero return code"
            r["exception"] = "(traceback unavailable)"
        }
        return .result(r)
    }

    private func failure(_ message: String, invocation: Value) -> ValueDict {
        ["changed": false, "exception": "(traceback unavailable)", "failed": true, "invocation": invocation,
         "msg": .string(message)]
    }
}

/// Shell lines that stop a command before it runs, as the command and script modules' `creates`/`removes` do:
/// `MARKER:creates` when a `creates` glob matches something, `MARKER:removes` when no `removes` glob does (after
/// `beforeStop`, e.g. draining stdin).
func createsRemovesScript(creates: String?, removes: String?, marker: String, beforeStop: String = "") -> String {
    var script = ""
    if let creates {
        script += "for f in \(globWord(creates)); do if [ -e \"$f\" ] || [ -L \"$f\" ]; then \(beforeStop)echo \(marker):creates; exit 0; fi; done\n"
    }
    if let removes {
        script += "found=; for f in \(globWord(removes)); do if [ -e \"$f\" ] || [ -L \"$f\" ]; then found=1; fi; done; "
            + "[ -n \"$found\" ] || { \(beforeStop)echo \(marker):removes; exit 0; }\n"
    }
    return script
}

/// A path for the remote shell: quoted, with a leading `~` expanded from `$HOME` (type='path').
func pathWord(_ path: String) -> String {
    if path == "~" { return "\"$HOME\"" }
    if path.hasPrefix("~/") { return "\"$HOME\"" + shellQuote(String(path.dropFirst(1))) }
    return shellQuote(path)
}

/// A glob for the remote shell: `*`, `?` and `[…]` stay active, everything else is quoted.
func globWord(_ pattern: String) -> String {
    var out = ""
    var literal = ""
    var rest = Substring(pattern)
    if rest == "~" || rest.hasPrefix("~/") {
        out += "\"$HOME\""
        rest = rest.dropFirst()
    }
    func flush() {
        if !literal.isEmpty { out += shellQuote(literal); literal = "" }
    }
    var chars = Array(rest)
    var i = 0
    while i < chars.count {
        let c = chars[i]
        if c == "*" || c == "?" {
            flush()
            out.append(c)
        } else if c == "[", let close = chars[(i + 1)...].firstIndex(of: "]"), close > i + 1 {
            flush()
            let inner = String(chars[(i + 1)..<close]).replacingAll("'", with: "")
            out += "[" + inner.replacingAll("\\", with: "\\\\").replacingAll(" ", with: "\\ ") + "]"
            i = close
        } else {
            literal.append(c)
        }
        i += 1
    }
    flush()
    chars.removeAll()
    return out.isEmpty ? "''" : out
}

/// An argument with ansible-core's `expand_argument_vars`: `$NAME`/`${NAME}` replaced by the variable when it
/// is set (left as written when not, as Python's `os.path.expandvars`), then a leading `~` expanded.
func expandedWord(_ arg: String) -> String {
    guard arg.contains("$") || arg.hasPrefix("~") else { return shellQuote(arg) }
    var out = ""
    var literal = ""
    let scalars = Array(arg.unicodeScalars)
    var i = 0
    if arg == "~" || arg.hasPrefix("~/") {
        out += "\"$HOME\""
        i = 1
    }
    func flush() {
        if !literal.isEmpty { out += shellQuote(literal); literal = "" }
    }
    func isWord(_ c: Unicode.Scalar) -> Bool { c == "_" || c.properties.isAlphabetic || c.properties.numericType != nil }
    while i < scalars.count {
        let c = scalars[i]
        if c == "$", i + 1 < scalars.count {
            if scalars[i + 1] == "{", let close = scalars[(i + 2)...].firstIndex(of: "}") {
                let name = String(String.UnicodeScalarView(scalars[(i + 2)..<close]))
                if !name.isEmpty, name.unicodeScalars.allSatisfy({ $0.isASCII && isWord($0) }), !name.first!.isNumber {
                    flush()
                    out += "\"${\(name)-\\${\(name)\\}}\""
                    i = close + 1
                    continue
                }
            } else if isWord(scalars[i + 1]) {
                var j = i + 1
                while j < scalars.count && isWord(scalars[j]) { j += 1 }
                let name = String(String.UnicodeScalarView(scalars[(i + 1)..<j]))
                if name.unicodeScalars.allSatisfy({ $0.isASCII }), !name.first!.isNumber {
                    flush()
                    out += "\"${\(name)-\\$\(name)}\""
                    i = j
                    continue
                }
            }
        }
        literal.unicodeScalars.append(c)
        i += 1
    }
    flush()
    return out.isEmpty ? "''" : out
}

/// Ansible's `boolean()` for option values: yes/no, true/false, on/off, 1/0, y/n, t/f.
func ansibleBool(_ value: Value?) -> Bool? {
    guard let value else { return nil }
    switch value {
    case .bool(let b): return b
    case .int(let i): return i != 0 ? (i == 1 ? true : nil) : false
    case .float(let d): return d == 1 ? true : d == 0 ? false : nil
    case .string(let s), .unsafe(let s):
        switch s.lowercased().trimmingSpaces() {
        case "yes", "on", "1", "true", "y", "t", "1.0": return true
        case "no", "off", "0", "false", "n", "f", "0.0": return false
        default: return nil
        }
    case .null: return nil
    default: return nil
    }
}

/// What Python's UTF-8 encoder says of `bytes` decoded with surrogateescape (each byte that starts no valid UTF-8
/// sequence becomes one lone surrogate U+DC80...U+DCFF): nil when they are valid UTF-8, else
/// "character '\\udcff' in position 1" or "characters in position 1-2" (the first run of surrogates, positions
/// counted in characters).
func strictUTF8Problem(_ bytes: [UInt8]) -> String? {
    var i = 0, position = 0
    var runStart = -1, runEnd = -1, firstByte: UInt8 = 0
    func validLength(at i: Int) -> Int {
        let b = bytes[i]
        func cont(_ k: Int, _ lo: UInt8 = 0x80, _ hi: UInt8 = 0xBF) -> Bool {
            i + k < bytes.count && bytes[i + k] >= lo && bytes[i + k] <= hi
        }
        switch b {
        case 0x00...0x7F: return 1
        case 0xC2...0xDF: return cont(1) ? 2 : 0
        case 0xE0: return cont(1, 0xA0) && cont(2) ? 3 : 0
        case 0xE1...0xEC, 0xEE...0xEF: return cont(1) && cont(2) ? 3 : 0
        case 0xED: return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0
        case 0xF0: return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0
        case 0xF1...0xF3: return cont(1) && cont(2) && cont(3) ? 4 : 0
        case 0xF4: return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0
        default: return 0
        }
    }
    while i < bytes.count {
        let n = validLength(at: i)
        if n == 0 {
            if runStart < 0 {
                runStart = position
                firstByte = bytes[i]
            } else if runEnd != position - 1 {
                break  // a second run: only the first is reported
            }
            runEnd = position
            i += 1
        } else {
            if runStart >= 0 { break }
            i += n
        }
        position += 1
    }
    guard runStart >= 0 else { return nil }
    if runEnd == runStart {
        return "character '\\udc" + String(firstByte, radix: 16) + "' in position \(runStart)"
    }
    return "characters in position \(runStart)-\(runEnd)"
}
