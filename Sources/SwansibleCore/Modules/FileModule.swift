public import SwansibleData
import SwansibleSSH

/// `file`: states file, directory, absent, touch, link and hard with owner, group and mode, as ansible-core's
/// module decides them. Two round trips: a probe script (stat of the path, the link source, owner lookups),
/// then one script doing the change and stating the result.
struct FileModule: Module {
    static let spec: [(String, Value)] = [
        ("_diff_peek", .null), ("_original_basename", .null), ("access_time", .null),
        ("access_time_format", "%Y%m%d%H%M.%S"), ("follow", true), ("force", false), ("modification_time", .null),
        ("modification_time_format", "%Y%m%d%H%M.%S"), ("path", .null), ("recurse", false), ("src", .null),
        ("state", .null),
    ] + fileCommonSpec
    static let aliases = ["dest": "path", "name": "path"]
    static let states = ["absent", "directory", "file", "hard", "link", "touch"]

    func run(_ rawArgs: ValueDict, _ context: ModuleContext) async -> ModuleOutcome {
        var args = moduleArgs(rawArgs, spec: Self.spec, aliases: Self.aliases)
        for key in rawArgs.keys where !Self.spec.contains(where: { $0.0 == key }) && Self.aliases[key] == nil {
            let names = Self.spec.map(\.0).filter { !$0.hasPrefix("_") } + ["dest", "name"]
            return .result(moduleFailure(
                "Unsupported parameters for (ansible.legacy.file) module: \(key). Supported parameters include: "
                    + names.sorted().joined(separator: ", ") + ".", args: args))
        }
        for name in ["follow", "force", "recurse", "unsafe_writes"] {
            if let b = ansibleBool(args[name]) { args[name] = .bool(b) }
        }
        for (name, v) in args where name != "mode" {
            if case .int(let i) = v, ["owner", "group"].contains(name) { args[name] = .string(String(i)) }
        }
        let given = args
        if let failed = await expandPathArgument(&args, "path", context, failure: { .result(moduleFailure($0, args: given)) }) {
            return failed
        }
        var operation = FileOperation(args: args, context: context)
        return await operation.run()
    }
}

/// One run of the file module (also what copy and template hand over to when the content is already right).
struct FileOperation {
    var args: ValueDict
    let context: ModuleContext
    /// The output of ``probeScript()``, when the caller ran it already (copy's one-round-trip path does, in the
    /// script that found the content unchanged).
    var probeOutput: [UInt8]?

    func fail(_ message: String, _ extra: ValueDict = [:], info: RemoteStat? = nil) -> ModuleOutcome {
        var r = moduleFailure(message, args: args, extra: extra)
        // fail_json adds the path's attributes when the result names a path (add_path_info).
        if let info, extra["path"] != nil || extra["dest"] != nil { info.pathInfo(into: &r) }
        return .result(r)
    }

    /// The name looked for inside `path` when it is a directory.
    var probeBasename: String? {
        if let b = args["_original_basename"]?.stringValue, !b.isEmpty { return b }
        return args["src"]?.stringValue.map(pythonBasename)
    }

    /// The probe script for ``run()``: the path (and the path inside it when it is a directory), the link source,
    /// owner lookups; explicit times are parsed here (Python's strptime) and their epoch computed on the target
    /// (time.mktime runs there), as `E:<key>:<seconds>`. A time that does not parse is an error reported once
    /// the state is known (ansible-core parses the times in ensure_<state>).
    func probeScript() -> String? {
        guard let path = args["path"]?.stringValue, !path.isEmpty else { return nil }
        return probePlan(path: path, state: args["state"]?.stringValue, attrs: FileAttributes(args)).script
    }

    func probePlan(path: String, state: String?, attrs: FileAttributes)
        -> (script: String, explicit: [String: FileTime.Parsed], timeError: String?) {
        var script = "_sw_id\np=\(pathWord(path))\n_sw_st T \"$p\" 0 0\n_sw_st TF \"$p\" 1 0\n"
        if let basename = probeBasename {
            script += "if [ -d \"$p\" ]; then _sw_st TB \"$p\"/\(shellQuote(basename)) 0 0; _sw_st TG \"$p\"/\(shellQuote(basename)) 1 0; fi\n"
        }
        script += ownerLookupScript(attrs)
        var explicit: [String: FileTime.Parsed] = [:]
        var timeError: String?
        if state != "absent" {
            for key in ["modification_time", "access_time"] {
                guard let t = args[key]?.stringValue, t != "now", t != "preserve" else { continue }
                let format = args[key + "_format"]?.stringValue ?? "%Y%m%d%H%M.%S"
                switch FileTime.parse(t, format: format) {
                case .failure(let error):
                    timeError = timeError ?? "Error while obtaining timestamp for time \(t) using format \(format): \(error.reason)"
                case .success(let parsed):
                    explicit[key] = parsed
                    script += "echo \"E:\(key):$(date -d '\(parsed.wallClock)' +%s 2>/dev/null)\"\n"
                }
            }
        }
        return (script, explicit, timeError)
    }

    mutating func run() async -> ModuleOutcome {
        guard var path = args["path"]?.stringValue, !path.isEmpty else {
            return fail("missing required arguments: path")
        }
        var state = args["state"]?.stringValue
        if let s = state, !FileModule.states.contains(s) {
            return fail("value of state must be one of: \(FileModule.states.joined(separator: ", ")), got: \(s)")
        }
        let follow = args["follow"]?.boolValue ?? true
        let force = args["force"]?.boolValue ?? false
        let recurse = args["recurse"]?.boolValue ?? false
        let src = args["src"]?.stringValue
        let attrs = FileAttributes(args)
        if args["_diff_peek"].map({ !$0.isNull }) == true {
            return fail("swansible: _diff_peek is internal to ansible-core")
        }

        let basename = probeBasename
        let (probeScript, explicit, timeError) = probePlan(path: path, state: state, attrs: attrs)
        let probe: RemoteProbe
        if let probeOutput {
            probe = RemoteProbe(probeOutput)
        } else {
            do {
                probe = RemoteProbe(try await runScript(probeScript, context).stdout)
            } catch {
                return error.isConnectionFailure ? .unreachable(error.message) : fail(error.message)
            }
        }
        var lst = probe["T"], st = probe["TF"]
        if state != "link", state != "absent", st.isDir, basename != nil {
            path = pythonJoin(path, basename!)
            args["path"] = .string(path)
            lst = probe["TB"]
            st = probe["TG"]
        }
        let prevState = lst.exists ? lst.state : "absent"
        if state == nil {
            state = prevState != "absent" ? prevState : recurse ? "directory" : "file"
            args["state"] = .string(state!)
        }
        if recurse && state != "directory" {
            return fail("recurse option requires state to be 'directory'", ["path": .string(path)])
        }
        if src != nil && state != "link" && state != "hard" {
            return fail("src option requires state to be 'link' or 'hard'", ["path": .string(path)])
        }
        if let timeError { return fail(timeError) }
        let p = pathWord(path)
        var times = FileTimes()
        for key in ["modification_time", "access_time"] {
            var spec: FileTime
            switch args[key]?.stringValue {
            case nil: spec = state == "touch" ? .now : .preserve
            case "now": spec = .now
            case "preserve": spec = .preserve
            default:
                let parsed = explicit[key]!
                let line = probe.other.last(where: { $0.hasPrefix("E:\(key):") }).map { String($0.dropFirst(key.count + 3)) }
                guard let epoch = line.flatMap({ Int($0) }) else {
                    return fail("Error while obtaining timestamp for time \(args[key]!.stringValue!): mktime argument out of range")
                }
                spec = .at(Double(epoch), parsed)
            }
            if key == "modification_time" { times.mtime = spec } else { times.atime = spec }
        }
        if (state == "link" || state == "hard"), !times.isPreserve {
            return fail("swansible: access_time/modification_time with state \(state!) are not supported yet", ["path": .string(path)])
        }
        var planner = Planner(op: self, path: path, word: p, probe: probe, attrs: attrs, follow: follow)
        planner.times = times
        planner.known = (lst, st)
        switch state! {
        case "absent": return await planner.absent(lst)
        case "file": return await planner.file(lst, st)
        case "directory": return await planner.directory(lst, st, recurse: recurse)
        case "touch": return await planner.touch(lst, st)
        case "link": return await planner.link(lst, src: src, force: force)
        default: return await planner.hard(lst, src: src, force: force)
        }
    }
}

/// Decides and runs one state of the file module.
struct Planner {
    let op: FileOperation
    let path: String
    let word: String
    let probe: RemoteProbe
    let attrs: FileAttributes
    let follow: Bool
    var times = FileTimes()

    /// lstat and stat of `path` from the probe: the result's path information when nothing changes it.
    var known: (l: RemoteStat, f: RemoteStat)?

    var check: Bool { op.context.checkMode }
    var diffMode: Bool { op.context.diffMode }

    func initialDiff(_ state: String, _ prev: String) -> (ValueDict, ValueDict) {
        var before: ValueDict = ["path": .string(path)], after: ValueDict = ["path": .string(path)]
        if prev != state {
            before["state"] = .string(prev)
            after["state"] = .string(state)
        }
        return (before, after)
    }

    /// Runs `commands` (unless in check mode), then states the path; builds the result.
    func finish(_ commands: [String], result: ValueDict, infoPath: String? = nil, diff: (ValueDict, ValueDict)?)
        async -> ModuleOutcome {
        let target = infoPath ?? path
        if check || commands.isEmpty, target == path, let known {
            // Nothing changes the path: what the probe saw is what a stat would print now (no round trip).
            var r = result
            r["invocation"] = ["module_args": .dict(op.args)]
            if diffMode, let diff { r["diff"] = ["before": .dict(diff.0), "after": .dict(diff.1)] }
            known.l.pathInfo(into: &r, followed: known.f)
            return .result(r)
        }
        var script = ""
        if !check && !commands.isEmpty {
            script += "set -e\n" + commands.joined(separator: "\n") + "\nset +e\n"
        }
        script += "_sw_st TP \(pathWord(target)) 0 0\n_sw_st TQ \(pathWord(target)) 1 0\n"
        let out: ExecResult
        do {
            out = try await runScript(script, op.context)
        } catch {
            return error.isConnectionFailure ? .unreachable(error.message) : op.fail(error.message)
        }
        if out.exitStatus != 0 {
            return op.fail(errorText(out), ["path": .string(path)])
        }
        let after = RemoteProbe(out.stdout)
        var r = result
        r["invocation"] = ["module_args": .dict(op.args)]
        if diffMode, let diff { r["diff"] = ["before": .dict(diff.0), "after": .dict(diff.1)] }
        if after["TR"].exists { r["changed"] = true }
        after["TP"].pathInfo(into: &r, followed: after["TQ"])
        return .result(r)
    }

    /// The attributes of `current` (a path that exists), in the result's diff.
    func attributes(_ current: RemoteStat, word: String? = nil, diff: inout (ValueDict, ValueDict)) -> AttributePlan {
        let plan = planAttributes(attrs, word: word ?? self.word, current: current, probe: probe,
                                  noFollowLink: current.isLink && !follow)
        for (k, v) in plan.diffBefore { diff.0[k] = v }
        for (k, v) in plan.diffAfter { diff.1[k] = v }
        return plan
    }

    /// The path the attributes apply to: the link's target when following a link.
    func attributeTarget(_ lst: RemoteStat, _ st: RemoteStat) -> RemoteStat { lst.isLink && follow && st.exists ? st : lst }

    func absent(_ lst: RemoteStat) async -> ModuleOutcome {
        guard lst.exists else {
            var r: ValueDict = ["changed": false, "path": .string(path), "state": "absent"]
            r["invocation"] = ["module_args": .dict(op.args)]
            return .result(r)
        }
        var diff = initialDiff("absent", lst.state)
        if lst.state == "directory" && diffMode {
            diff.0["path_content"] = await walk()
        }
        let command = lst.isDir ? "rm -rf -- \(word)" : "rm -f -- \(word)"
        var r: ValueDict = ["changed": true, "path": .string(path), "state": "absent"]
        if check {
            r["invocation"] = ["module_args": .dict(op.args)]
            if diffMode { r["diff"] = ["before": .dict(diff.0), "after": .dict(diff.1)] }
            // The path is still there: exit_json describes it (its state included).
            lst.pathInfo(into: &r)
            return .result(r)
        }
        let out: ExecResult
        do {
            out = try await runScript(command, op.context)
        } catch {
            return error.isConnectionFailure ? .unreachable(error.message) : op.fail(error.message)
        }
        if out.exitStatus != 0 {
            return op.fail(lst.isDir ? "rmtree failed: \(errorText(out))" : "Unlinking failed.", ["path": .string(path)])
        }
        r["invocation"] = ["module_args": .dict(op.args)]
        if diffMode { r["diff"] = ["before": .dict(diff.0), "after": .dict(diff.1)] }
        return .result(r)
    }

    /// `os.walk` of the directory: its directories and files, as ansible-core lists them in a diff.
    func walk() async -> Value {
        let script = "find \(word) -mindepth 1 2>/dev/null | while IFS= read -r f; do if [ -d \"$f\" ]; then echo \"d:$f\"; else echo \"f:$f\"; fi; done"
        guard let out = try? await runScript(script, op.context) else { return ["directories": [], "files": []] }
        // Rebuild os.walk's order: per directory (top-down), its subdirectories, then its files.
        var children: [String: [(Bool, String)]] = [:]
        for line in String(decoding: out.stdout, as: UTF8.self).split(separator: "\n") where line.count > 2 {
            let isDir = line.hasPrefix("d:")
            let p = String(line.dropFirst(2))
            children[pythonDirname(p), default: []].append((isDir, p))
        }
        var dirs: [Value] = [], files: [Value] = []
        func visit(_ base: String) {
            let entries = children[base] ?? []
            for (isDir, p) in entries where isDir { dirs.append(.string(p)) }
            for (isDir, p) in entries where !isDir { files.append(.string(p)) }
            for (isDir, p) in entries where isDir { visit(p) }
        }
        visit(path.hasSuffix("/") && path.count > 1 ? String(path.dropLast()) : path)
        return ["directories": .list(dirs), "files": .list(files)]
    }

    func file(_ lst: RemoteStat, _ st: RemoteStat) async -> ModuleOutcome {
        var current = lst, target = path
        if lst.isLink && follow {
            current = st
            target = lst.realPath ?? path
        }
        let prev = current.exists ? current.state : "absent"
        guard prev == "file" || prev == "hard" else {
            return op.fail("file (\(target)) is \(prev), cannot continue", ["path": .string(target), "state": .string(prev)])
        }
        var diff = initialDiff("file", prev)
        let plan = attributes(current, diff: &diff)
        if let e = plan.error { return op.fail(e, plan.errorExtra(target), info: current) }
        let t = times.plan(pathWord(target), previous: current, diff: &diff)
        return await finish(plan.commands + t.commands, result: ["changed": .bool(plan.changed || t.changed), "path": .string(target)],
                            infoPath: target, diff: diff)
    }

    func directory(_ lst: RemoteStat, _ st: RemoteStat, recurse: Bool) async -> ModuleOutcome {
        var current = lst, target = path
        if lst.isLink && follow {
            target = lst.realPath ?? path
            current = st
        }
        let prev = current.exists ? current.state : "absent"
        var diff = initialDiff("directory", prev)
        if prev == "absent" {
            if check {
                var r: ValueDict = ["changed": true, "path": .string(target)]
                r["invocation"] = ["module_args": .dict(op.args)]
                if diffMode { r["diff"] = ["before": .dict(diff.0), "after": .dict(diff.1)] }
                return .result(r)
            }
            // Each missing component is created, then gets the attributes (as ansible-core walks them).
            var commands: [String] = []
            var components: [String] = []
            var cur = ""
            for part in target.split(separator: "/", omittingEmptySubsequences: true) {
                cur = target.hasPrefix("/") || !cur.isEmpty ? cur + "/" + part : String(part)
                components.append(cur)
            }
            for c in components {
                var line = "if [ ! -e \(pathWord(c)) ]; then mkdir -- \(pathWord(c)) || { echo \(shellQuote("There was an issue creating \(c) as requested")) >&2; exit 1; }"
                if let mode = attrs.mode {
                    if let m = try? resolveMode(mode, current: RemoteStat(exists: true, mode: 0o040000 | (0o777 & ~probe.identity.umask)), umask: probe.identity.umask) {
                        line += "; chmod \(String(m, radix: 8)) \(pathWord(c))"
                    } else {
                        return op.fail("mode must be in octal or symbolic form", ["path": .string(target)])
                    }
                }
                if let o = attrs.owner { line += "; chown \(shellQuote(o)) \(pathWord(c))" }
                if let g = attrs.group { line += "; chgrp \(shellQuote(g)) \(pathWord(c))" }
                if !times.isPreserve {
                    // ansible-core sets the times of the whole path after each new component: a missing
                    // deeper component fails as os.stat fails there.
                    let missing = "Error while updating modification or access time: [Errno 2] No such file or directory: b'\(target)'"
                    line += "; [ -e \(pathWord(target)) ] || { echo \(shellQuote(missing)) >&2; exit 1; }; "
                        + times.plan(pathWord(target), previous: nil, diff: &diff).commands.joined(separator: "; ")
                }
                commands.append(line + "; fi")
            }
            return await finish(commands, result: ["changed": true, "path": .string(target)], infoPath: target, diff: diff)
        }
        guard prev == "directory" else {
            return op.fail("\(target) already exists as a \(prev)", ["path": .string(target)], info: current)
        }
        let plan = attributes(current, diff: &diff)
        if let e = plan.error { return op.fail(e, plan.errorExtra(target), info: current) }
        let t = times.plan(pathWord(target), previous: current, diff: &diff)
        var commands = plan.commands + t.commands
        var changed = plan.changed || t.changed
        if recurse && (!attrs.isEmpty || !times.isPreserve) {
            // Every entry below (links excepted): only what differs changes; `TR:X` says something did.
            var tests: [String] = []
            tests += times.recurseTests()
            if let mode = attrs.mode {
                if let m = try? resolveMode(mode, current: RemoteStat(exists: true, mode: 0o100000), umask: probe.identity.umask),
                   mode.intValue != nil || (mode.stringValue.map { $0.allSatisfy(\.isNumber) } ?? false) {
                    tests.append("[ \"$(stat -c %a \"$f\")\" = \(String(m, radix: 8)) ] || { chmod \(String(m, radix: 8)) \"$f\" && c=1; }")
                } else {
                    let spec = mode.stringValue ?? ""
                    tests.append("_b=$(stat -c %a \"$f\"); chmod \(shellQuote(spec)) \"$f\"; [ \"$(stat -c %a \"$f\")\" = \"$_b\" ] || c=1")
                }
            }
            if let o = attrs.owner {
                tests.append("case \" $(stat -c '%u %U' \"$f\") \" in *\" \(o) \"*) ;; *) chown \(shellQuote(o)) \"$f\" && c=1;; esac")
            }
            if let g = attrs.group {
                tests.append("case \" $(stat -c '%g %G' \"$f\") \" in *\" \(g) \"*) ;; *) chgrp \(shellQuote(g)) \"$f\" && c=1;; esac")
            }
            if check {
                // In check mode nothing may change: only whether something differs.
                let differs = await recurseDiffers(target)
                changed = changed || differs
                if !times.isPreserve && !changed {
                    let script = "find \(pathWord(target)) -mindepth 1 | while IFS= read -r f; do c=0; [ -L \"$f\" ] && continue; "
                        + times.recurseTests(dry: true).joined(separator: "; ") + "; if [ $c = 1 ]; then echo TR:X; break; fi; done; :"
                    let out = try? await runScript(script, op.context)
                    changed = out.map { RemoteProbe($0.stdout)["TR"].exists } ?? false
                }
            } else {
                commands.append("find \(pathWord(target)) -mindepth 1 | while IFS= read -r f; do c=0; [ -L \"$f\" ] && continue; "
                    + tests.joined(separator: "; ") + "; if [ $c = 1 ]; then echo TR:X; fi; done; :")
            }
        }
        let r = await finish(commands, result: ["changed": .bool(changed), "path": .string(target)], infoPath: target,
                             diff: diff)
        return r
    }

    /// Whether some entry below `dir` has another owner, group or mode than asked (check mode of recurse).
    func recurseDiffers(_ dir: String) async -> Bool {
        var conds: [String] = []
        if let o = attrs.owner { conds.append("! -user \(shellQuote(o))") }
        if let g = attrs.group { conds.append("! -group \(shellQuote(g))") }
        if let mode = attrs.mode, let m = try? resolveMode(mode, current: RemoteStat(exists: true, mode: 0o100000), umask: probe.identity.umask) {
            conds.append("! -perm \(String(m, radix: 8))")
        }
        guard !conds.isEmpty else { return false }
        let script = "find \(pathWord(dir)) -mindepth 1 \\( " + conds.joined(separator: " -o ") + " \\) | head -n 1"
        guard let out = try? await runScript(script, op.context) else { return false }
        return !out.stdout.isEmpty
    }

    func touch(_ lst: RemoteStat, _ st: RemoteStat) async -> ModuleOutcome {
        let prev = lst.exists ? lst.state : "absent"
        if prev == "absent" && check {
            var r: ValueDict = ["changed": true, "dest": .string(path)]
            r["invocation"] = ["module_args": .dict(op.args)]
            return .result(r)
        }
        var diff = initialDiff("touch", prev)
        var commands: [String] = []
        var current = attributeTarget(lst, st)
        if prev == "absent" {
            commands.append(": >> \(word) || { echo 'Error, could not touch target.' >&2; exit 1; }")
            current = RemoteStat(exists: true, mode: 0o100000 | (0o666 & ~probe.identity.umask))
            current.uid = probe.identity.uid
            current.gid = probe.identity.gid
        }
        let plan = attributes(current, diff: &diff)
        if let e = plan.error { return op.fail(e, ["path": .string(path)]) }
        commands += plan.commands
        let t = times.plan(word, previous: prev == "absent" ? nil : attributeTarget(lst, st), diff: &diff)
        commands += t.commands
        let changed = prev == "absent" || plan.changed || t.changed
        return await finish(commands, result: ["changed": .bool(changed), "dest": .string(path)], diff: diff)
    }

    func link(_ lst: RemoteStat, src: String?, force: Bool) async -> ModuleOutcome {
        let prev = lst.exists ? lst.state : "absent"
        var src = src
        if src == nil, follow, lst.isLink, let t = lst.linkTarget { src = t }
        let relpath = !lst.isLink && lst.isDir ? path : pythonDirname(path)
        let absrc = src.map { pythonJoin(relpath, $0) }
        // What the checks need: whether the link source exists, whether a directory is empty.
        var extra = ""
        if let absrc { extra += "[ -e \(pathWord(absrc)) ] && echo TS:X\n" }
        if prev == "directory" { extra += "[ -n \"$(ls -A \(word))\" ] && echo TD:X\n" }
        var facts = RemoteProbe([])
        if !extra.isEmpty {
            do {
                facts = RemoteProbe(try await runScript(extra, op.context).stdout)
            } catch {
                return error.isConnectionFailure ? .unreachable(error.message) : op.fail(error.message)
            }
        }
        if !force, let src, let absrc, !facts["TS"].exists {
            return op.fail("src file does not exist, use 'force=yes' if you really want to create the link: \(absrc)",
                           ["path": .string(path), "src": .string(src)])
        }
        if prev == "directory" {
            if !force { return op.fail("refusing to convert from directory to symlink for \(path)", ["path": .string(path)]) }
            if facts["TD"].exists { return op.fail("the directory \(path) is not empty, refusing to convert it", ["path": .string(path)]) }
        } else if (prev == "file" || prev == "hard") && !force {
            return op.fail("refusing to convert from \(prev) to symlink for \(path)", ["path": .string(path)])
        }
        var diff = initialDiff("link", prev)
        var changed = false
        if prev != "link" {
            guard src != nil else { return op.fail("src is required for creating new symlinks") }
            changed = true
        } else if let src, let old = lst.linkTarget, old != src {
            diff.0["src"] = .string(old)
            diff.1["src"] = .string(src)
            changed = true
        }
        var commands: [String] = []
        if changed, let src {
            if prev == "absent" {
                commands.append("ln -s -- \(shellQuote(src)) \(word) || exit 1")
            } else {
                let tmp = pathWord(pythonDirname(path) + "/.swansible-link-" + randomWord() + ".tmp")
                commands.append((prev == "directory" ? "rmdir -- \(word) && " : "")
                    + "ln -s -- \(shellQuote(src)) \(tmp) && mv -f -- \(tmp) \(word) || { rm -f \(tmp); exit 1; }")
            }
        }
        if check && prev == "absent" {
            var r: ValueDict = ["changed": .bool(changed), "dest": .string(path), "src": src.map(Value.string) ?? .null]
            r["invocation"] = ["module_args": .dict(op.args)]
            if diffMode { r["diff"] = ["before": .dict(diff.0), "after": .dict(diff.1)] }
            return .result(r)
        }
        if !attrs.isEmpty {
            // Attributes apply to the link's target (follow) or the link; the target's state after the change.
            let probeAfter: RemoteProbe
            do {
                probeAfter = RemoteProbe(try await runScript(
                    (check ? "" : commands.joined(separator: "\n") + "\n") + "_sw_st T \(word) 0 0\n_sw_st TF \(word) 1 0\n", op.context).stdout)
            } catch {
                return error.isConnectionFailure ? .unreachable(error.message) : op.fail(error.message)
            }
            commands = []
            let l = probeAfter["T"], s = probeAfter["TF"]
            if !(follow && l.isLink && !s.exists) {
                let plan = attributes(follow && s.exists ? s : l, diff: &diff)
                if let e = plan.error { return op.fail(e, ["path": .string(path)]) }
                commands = plan.commands
                changed = changed || plan.changed
            }
        }
        return await finish(commands, result: ["changed": .bool(changed), "dest": .string(path),
                                               "src": src.map(Value.string) ?? .null], diff: diff)
    }

    func hard(_ lst: RemoteStat, src: String?, force: Bool) async -> ModuleOutcome {
        let prev = lst.exists ? lst.state : "absent"
        if prev != "hard" && src == nil { return op.fail("src is required for creating new hardlinks") }
        var srcStat = RemoteStat()
        if let src {
            do {
                srcStat = RemoteProbe(try await runScript("_sw_st T \(pathWord(src)) 1 0\n", op.context).stdout)["T"]
            } catch {
                return error.isConnectionFailure ? .unreachable(error.message) : op.fail(error.message)
            }
            if !srcStat.exists { return op.fail("src does not exist", ["dest": .string(path), "src": .string(src)]) }
        }
        var diff = initialDiff("hard", prev)
        var changed = false
        switch prev {
        case "absent": changed = true
        case "link":
            if let old = lst.linkTarget, old != src {
                diff.0["src"] = .string(old)
                diff.1["src"] = src.map(Value.string) ?? .null
                changed = true
            }
        case "hard":
            if src != nil, lst.inode != srcStat.inode {
                changed = true
                if !force { return op.fail("Cannot link, different hard link exists at destination", ["dest": .string(path), "src": src.map(Value.string) ?? .null]) }
            }
        case "file":
            changed = true
            if !force { return op.fail("Cannot link, file exists at destination", ["dest": .string(path), "src": src.map(Value.string) ?? .null]) }
        default:
            changed = true
            if lst.inode == srcStat.inode {
                var r: ValueDict = ["changed": false, "path": .string(path)]
                r["invocation"] = ["module_args": .dict(op.args)]
                return .result(r)
            }
            if !force { return op.fail("Cannot link: different hard link exists at destination", ["dest": .string(path), "src": src.map(Value.string) ?? .null]) }
        }
        var commands: [String] = []
        if changed, let src {
            if prev == "absent" {
                commands.append("ln -- \(pathWord(src)) \(word) || exit 1")
            } else {
                let tmp = pathWord(pythonDirname(path) + "/.swansible-link-" + randomWord() + ".tmp")
                commands.append("ln -- \(pathWord(src)) \(tmp) && mv -f -- \(tmp) \(word) || { rm -f \(tmp); exit 1; }")
            }
        }
        if check && prev == "absent" {
            var r: ValueDict = ["changed": .bool(changed), "dest": .string(path), "src": src.map(Value.string) ?? .null]
            r["invocation"] = ["module_args": .dict(op.args)]
            if diffMode { r["diff"] = ["before": .dict(diff.0), "after": .dict(diff.1)] }
            return .result(r)
        }
        // The new link shares the source's inode: its attributes are the source's.
        let plan = attributes(prev == "absent" || changed ? srcStat : lst, diff: &diff)
        if let e = plan.error { return op.fail(e, ["path": .string(path)]) }
        return await finish(commands + plan.commands, result: ["changed": .bool(changed || plan.changed), "dest": .string(path),
                                                               "src": src.map(Value.string) ?? .null], diff: diff)
    }
}

func randomWord() -> String {
    let letters = Array("abcdefghijklmnopqrstuvwxyz0123456789")
    var g = SystemRandomNumberGenerator()
    return String((0..<10).map { _ in letters[Int(g.next(upperBound: UInt32(letters.count)))] })
}
