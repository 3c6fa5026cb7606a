public import SwansibleData
import SwansibleSSH

/// `tempfile`: a name made like Python's `tempfile` (prefix, 8 random characters, suffix), created
/// exclusively (`set -C` for a file, `mkdir -m 700` for a directory), then stated: one round trip.
struct TempfileModule: Module {
    static let spec: [(String, Value)] = [("path", .null), ("prefix", "ansible."), ("state", "file"), ("suffix", "")]

    func run(_ rawArgs: ValueDict, _ context: ModuleContext) async -> ModuleOutcome {
        let args = moduleArgs(rawArgs, spec: Self.spec)
        for key in rawArgs.keys where !Self.spec.contains(where: { $0.0 == key }) {
            return .result(moduleFailure(
                "Unsupported parameters for (ansible.legacy.tempfile) module: \(key). Supported parameters include: path, prefix, state, suffix.",
                args: args))
        }
        let state = args["state"]?.stringValue ?? "file"
        guard state == "file" || state == "directory" else {
            return .result(moduleFailure("value of state must be one of: directory, file, got: \(state)", args: args))
        }
        if context.checkMode {
            return .result(["changed": true, "invocation": ["module_args": .dict(args)]])
        }
        let prefix = args["prefix"]?.stringValue ?? "ansible.", suffix = args["suffix"]?.stringValue ?? ""
        let dir = args["path"]?.stringValue.map(pathWord) ?? "\"${TMPDIR:-/tmp}\""
        var script = "for i in 1 2 3 4 5 6 7 8 9 10; do\n"
        let letters = Array("abcdefghijklmnopqrstuvwxyz0123456789_")
        var names: [String] = []
        for _ in 0..<10 {
            var g = SystemRandomNumberGenerator()
            names.append(prefix + String((0..<8).map { _ in letters[Int(g.next(upperBound: UInt32(letters.count)))] }) + suffix)
        }
        script = "for n in \(names.map(shellQuote).joined(separator: " ")); do p=\(dir)/\"$n\"\n"
        if state == "directory" {
            script += "  if mkdir -m 700 -- \"$p\" 2>/dev/null; then echo \"TN:$p\"; _sw_st TP \"$p\" 0 0; exit 0; fi\n"
        } else {
            script += "  if (umask 077; set -C; : > \"$p\") 2>/dev/null; then echo \"TN:$p\"; _sw_st TP \"$p\" 0 0; exit 0; fi\n"
        }
        script += "done\necho 'No usable temporary file name found' >&2; exit 1\n"
        let out: ExecResult
        do {
            out = try await runScript(script, context)
        } catch {
            return error.isConnectionFailure ? .unreachable(error.message) : .result(moduleFailure(error.message, args: args))
        }
        if out.exitStatus != 0 { return .result(moduleFailure(errorText(out), args: args)) }
        let probe = RemoteProbe(out.stdout)
        let path = probe.other.first(where: { $0.hasPrefix("TN:") }).map { String($0.dropFirst(3)) } ?? ""
        var r: ValueDict = ["changed": true, "path": .string(path), "invocation": ["module_args": .dict(args)]]
        probe["TP"].pathInfo(into: &r)
        return .result(r)
    }
}
