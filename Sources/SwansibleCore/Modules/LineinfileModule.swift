public import SwansibleData
import SwansibleSSH
import Foundation

/// `lineinfile`: the file is read (SFTP, or `cat` with become), edited on the controller as ansible-core's
/// module edits it (Python regular expressions are close to NSRegularExpression's for the patterns playbooks
/// use), and written back atomically (temporary file beside it, `mv`) with backup and attributes in the same
/// script. Round trips: one probe, one read, one write when it changes.
struct LineinfileModule: Module {
    static let spec: [(String, Value)] = [
        ("path", .null), ("state", "present"), ("regexp", .null), ("search_string", .null), ("line", .null),
        ("insertafter", .null), ("insertbefore", .null), ("backrefs", false), ("create", false), ("backup", false),
        ("firstmatch", false), ("validate", .null),
    ] + fileCommonSpec
    static let aliases = ["dest": "path", "destfile": "path", "name": "path", "regex": "regexp", "value": "line"]

    func run(_ rawArgs: ValueDict, _ context: ModuleContext) async -> ModuleOutcome {
        var args = moduleArgs(rawArgs, spec: Self.spec, aliases: Self.aliases)
        for key in rawArgs.keys where !Self.spec.contains(where: { $0.0 == key }) && Self.aliases[key] == nil {
            return .result(moduleFailure(
                "Unsupported parameters for (ansible.legacy.lineinfile) module: \(key). Supported parameters include: "
                    + (Self.spec.map(\.0) + Array(Self.aliases.keys)).sorted().joined(separator: ", ") + ".", args: args))
        }
        for name in ["backrefs", "create", "backup", "firstmatch", "unsafe_writes"] {
            if let b = ansibleBool(args[name]) { args[name] = .bool(b) }
        }
        func fail(_ message: String, _ extra: ValueDict = [:]) -> ModuleOutcome { .result(moduleFailure(message, args: args, extra: extra)) }
        let given = args
        if let failed = await expandPathArgument(&args, "path", context, failure: { .result(moduleFailure($0, args: given)) }) {
            return failed
        }
        guard let path = args["path"]?.stringValue, !path.isEmpty else { return fail("missing required arguments: path") }
        let state = args["state"]?.stringValue ?? "present"
        let regexp = args["regexp"]?.stringValue, search = args["search_string"]?.stringValue
        let line = args["line"].flatMap { $0.isNull ? nil : ($0.stringValue ?? $0.json()) }
        let insertAfter = args["insertafter"]?.stringValue, insertBefore = args["insertbefore"]?.stringValue
        let backrefs = args["backrefs"]?.boolValue ?? false
        if regexp != nil && search != nil { return fail("parameters are mutually exclusive: regexp|search_string") }
        if insertAfter != nil && insertBefore != nil { return fail("parameters are mutually exclusive: insertbefore|insertafter") }
        if state == "present" && line == nil { return fail("state is present but all of the following are missing: line") }
        if backrefs && regexp == nil { return fail("regexp is required with backrefs=true") }
        if state == "absent" && regexp == nil && search == nil && line == nil {
            return fail("one of line, search_string, or regexp is required with state=absent")
        }

        // Probe: the file and the user.
        let attrs = FileAttributes(args)
        let probe: RemoteProbe
        do {
            probe = RemoteProbe(try await runScript("_sw_id\necho \"GS:$(id -G)\"\n_sw_st T \(pathWord(path)) 1 0\n" + ownerLookupScript(attrs), context).stdout)
        } catch {
            return error.isConnectionFailure ? .unreachable(error.message) : fail(error.message)
        }
        let st = probe["T"]
        if st.isDir { return fail("Path \(path) is a directory !", ["rc": 256]) }
        var lines: [String] = []
        if st.exists {
            do {
                lines = splitKeepingEnds(RawBytes.decode(try await context.connection.readFile(path, become: context.become)))
            } catch {
                return error.isConnectionFailure ? .unreachable(error.message) : fail(error.message)
            }
        }
        let header = "\(path) (content)"
        var contentDiff: ValueDict = ["before": "", "after": "", "before_header": .string(header), "after_header": .string(header)]
        if context.diffMode { contentDiff["before"] = .string(lines.joined()) }
        var changed = false
        var msg = ""
        var found = 0
        if state == "present" {
            if !st.exists && !(args["create"]?.boolValue ?? false) {
                return fail("Destination \(path) does not exist !", ["rc": 257])
            }
            do {
                (changed, msg) = try present(&lines, regexp: regexp, search: search, line: line!, insertAfter: insertAfter,
                                             insertBefore: insertBefore, backrefs: backrefs,
                                             firstmatch: args["firstmatch"]?.boolValue ?? false)
            } catch {
                return fail("\(error)")
            }
        } else {
            guard st.exists else {
                return .result(["changed": false, "msg": "file not present", "invocation": ["module_args": .dict(args)]])
            }
            let re = try? regexp.map { try NSRegularExpression(pattern: pythonPatternForICU($0)) }
            lines = lines.filter { l in
                let matched: Bool
                if let re = re ?? nil {
                    matched = re.firstMatch(in: l, range: NSRange(l.startIndex..., in: l)) != nil
                } else if let search {
                    matched = l.contains(search)
                } else {
                    matched = line == stripLineEnd(l)
                }
                if matched { found += 1 }
                return !matched
            }
            changed = found > 0
            if changed { msg = "\(found) line(s) removed" }
        }
        if context.diffMode { contentDiff["after"] = .string(lines.joined()) }
        var attrDiff: ValueDict = [:]
        var backupPath = ""
        // check_file_attrs compares with the file as write_changes left it: a new file has 0666 & ~umask; an
        // existing one keeps its mode and owner only when atomic_move may chown the new file to them (root, or
        // the owner in the file's group), else (EPERM, ignored) it keeps mkstemp's 0600 and the user's ids.
        let me = probe.identity
        let groups = Set((probe.other.last(where: { $0.hasPrefix("GS:") })?.dropFirst(3) ?? "").split(separator: " ").compactMap { Int($0) })
        let keepsOwner = me.uid == 0 || (st.uid == me.uid && (st.gid == me.gid || groups.contains(st.gid)))
        var current = st
        if !st.exists || (changed && !context.checkMode && !keepsOwner) {
            current = RemoteStat(exists: true, mode: 0o100000 | (st.exists ? 0o600 : 0o666 & ~me.umask))
            current.uid = me.uid
            current.gid = me.gid
        }
        let plan = planAttributes(attrs, word: "\"$d\"", current: current, probe: probe)
        if let e = plan.error { return fail(e, plan.errorExtra(path)) }
        if plan.changed && !(context.checkMode && !st.exists) {
            msg += (changed ? " and " : "") + "ownership, perms or SE linux context changed"
            attrDiff["before"] = .dict(plan.diffBefore)
            attrDiff["after"] = .dict(plan.diffAfter)
        }
        attrDiff["before_header"] = .string("\(path) (file attributes)")
        attrDiff["after_header"] = .string("\(path) (file attributes)")
        if (changed || plan.changed) && !context.checkMode {
            let bytes = lines.joined().escapedBytes
            let dir = pythonDirname(path).isEmpty ? "." : pythonDirname(path)
            let backupCommand = st.exists && args["backup"]?.boolValue == true
                ? "b=\"$d.$$.$(date +%Y-%m-%d@%H:%M:%S)~\"; cp -p \"$d\" \"$b\" 2>/dev/null || cp \"$d\" \"$b\" || { rm -f \"$t\"; exit 1; }; echo \"BK:$b\"\n"
                : ""
            var s = "d=\(pathWord(path))\n"
            if !st.exists { s += "mkdir -p -- \(pathWord(dir)) || exit 1\n" }
            if changed {
                s += "t=$(mktemp \(pathWord(dir + "/.swansible-tmp-XXXXXXXXXX"))) || exit 1\n"
                s += "trap 'rm -f \"$t\"; exit 129' HUP INT TERM PIPE\n"
                s += "cat > \"$t\" || { rm -f \"$t\"; exit 1; }\n"
                s += "[ \"$(wc -c < \"$t\")\" -eq \(bytes.count) ] || { rm -f \"$t\"; echo 'the transfer was cut short' >&2; exit 1; }\n"
                if st.exists {
                    s += "chmod 600 \"$t\"; if chown \"$(stat -c %u:%g \"$d\")\" \"$t\" 2>/dev/null; then chmod \"$(stat -c %a \"$d\")\" \"$t\"; fi\n"
                } else {
                    s += "chmod \(String(0o666 & ~probe.identity.umask, radix: 8)) \"$t\"\n"
                }
            }
            // write_changes: with `validate`, the temporary file is checked before it replaces the file.
            var finish = ""
            if changed {
                finish += backupCommand
                finish += "mv -f \"$t\" \"$d\" || { rm -f \"$t\"; exit 1; }\n"
            }
            finish += plan.commands.map { $0 + " || exit 1\n" }.joined()
            let validate = changed ? args["validate"]?.stringValue : nil
            if let validate, !validate.contains("%s") { return fail("validate must contain %s: \(validate)") }
            do {
                var out = try await runScript(validate == nil ? s + finish : s + "echo \"TMP:$t\"\n", context,
                                              input: .bytes(changed ? bytes : []))
                if out.exitStatus != 0 { return fail(errorText(out)) }
                if let validate {
                    let temporary = RemoteProbe(out.stdout).other.first(where: { $0.hasPrefix("TMP:") }).map { String($0.dropFirst(4)) } ?? ""
                    guard let command = validationCommand(validate, path: temporary) else {
                        _ = try? await runScript("rm -f \(shellQuote(temporary))", context)
                        return fail("No closing quotation")
                    }
                    let v = try await context.connection.exec(
                        command, input: .none, timeout: context.timeout, become: context.become, environment: context.environment)
                    if v.returnCode != 0 {
                        _ = try? await runScript("rm -f \(shellQuote(temporary))", context)
                        return fail("failed to validate: rc:\(v.returnCode) error:\(outputText(v.stderr))")
                    }
                    out = try await runScript("d=\(pathWord(path))\nt=\(shellQuote(temporary))\n" + finish, context)
                    if out.exitStatus != 0 { return fail(errorText(out)) }
                }
                if let b = RemoteProbe(out.stdout).other.first(where: { $0.hasPrefix("BK:") }) { backupPath = String(b.dropFirst(3)) }
            } catch {
                return error.isConnectionFailure ? .unreachable(error.message) : fail(error.message)
            }
        }
        var r: ValueDict = ["changed": .bool(changed || plan.changed), "msg": .string(msg), "backup": .string(backupPath),
                            "diff": [.dict(contentDiff), .dict(attrDiff)], "invocation": ["module_args": .dict(args)]]
        if state == "absent" { r["found"] = .int(found) }
        if context.checkMode && !st.exists { r["diff"] = .dict(contentDiff) }
        return .result(r)
    }

    private func present(_ lines: inout [String], regexp: String?, search: String?, line: String, insertAfter: String?,
                         insertBefore: String?, backrefs: Bool, firstmatch: Bool) throws -> (Bool, String) {
        let re = try regexp.map { try NSRegularExpression(pattern: pythonPatternForICU($0)) }
        var insertRe: NSRegularExpression?
        if let a = insertAfter, a != "BOF", a != "EOF" { insertRe = try NSRegularExpression(pattern: pythonPatternForICU(a)) }
        else if let b = insertBefore, b != "BOF" { insertRe = try NSRegularExpression(pattern: pythonPatternForICU(b)) }
        func find(_ re: NSRegularExpression, _ s: String) -> NSTextCheckingResult? {
            re.firstMatch(in: s, range: NSRange(s.startIndex..., in: s))
        }
        var index = (-1, -1)
        var match: NSTextCheckingResult?
        var matchedLine = ""
        var anyMatch = false
        var exact = false
        if let re {
            for (n, l) in lines.enumerated() {
                if let m = find(re, l) {
                    index.0 = n; match = m; matchedLine = l; anyMatch = true
                    if firstmatch { break }
                }
            }
        }
        if let searchString = search {
            for (n, l) in lines.enumerated() where l.contains(searchString) {
                index.0 = n; anyMatch = true
                if firstmatch { break }
            }
        }
        if !anyMatch {
            for (n, l) in lines.enumerated() {
                if line == stripLineEnd(l) {
                    index.0 = n
                    exact = true
                } else if let insertRe, find(insertRe, l) != nil {
                    if insertAfter != nil {
                        index.1 = n + 1
                        if firstmatch { break }
                    }
                    if insertBefore != nil {
                        index.1 = n
                        if firstmatch { break }
                    }
                }
            }
        }
        var changed = false, msg = ""
        if index.0 != -1 {
            var newLine = line
            if backrefs, let match, let re {
                newLine = re.replacementString(for: match, in: matchedLine, offset: 0, template: pythonTemplate(line, pattern: regexp!))
            }
            if !newLine.hasSuffix("\n") { newLine += "\n" }
            if regexp == nil && search == nil && !anyMatch && !exact {
                // not reachable: an index without a match is an exact line
            } else if lines[index.0] != newLine {
                lines[index.0] = newLine
                msg = "line replaced"
                changed = true
            }
        } else if backrefs {
            // A regexp that matches nothing with backrefs: no change.
        } else if insertBefore == "BOF" || insertAfter == "BOF" {
            lines.insert(line + "\n", at: 0)
            msg = "line added"; changed = true
        } else if insertAfter == "EOF" || index.1 == -1 {
            if let last = lines.last, !last.hasSuffix("\n"), !last.hasSuffix("\r") { lines[lines.count - 1] = last + "\n" }
            lines.append(line + "\n")
            msg = "line added"; changed = true
        } else if insertAfter != nil && index.1 != -1 {
            if lines.count == index.1 {
                if stripLineEnd(lines[index.1 - 1]) != line { lines.append(line + "\n"); msg = "line added"; changed = true }
            } else if line != stripLineEnd(lines[index.1]) {
                lines.insert(line + "\n", at: index.1)
                msg = "line added"; changed = true
            }
        } else {
            lines.insert(line + "\n", at: index.1)
            msg = "line added"; changed = true
        }
        return (changed, msg)
    }

    /// Python's `\1`/`\g<1>` replacement template in NSRegularExpression's `$1` form.
    private func pythonTemplate(_ t: String, pattern: String) -> String {
        var out = ""
        var chars = Array(t)[...]
        while let c = chars.first {
            chars = chars.dropFirst()
            if c == "$" { out += "\\$"; continue }
            if c == "\\", let n = chars.first {
                if n.isNumber { out += "$" + String(n); chars = chars.dropFirst(); continue }
                if n == "g", chars.dropFirst().first == "<", let close = chars.firstIndex(of: ">") {
                    let name = String(chars[chars.index(chars.startIndex, offsetBy: 2)..<close])
                    out += "$" + (name.allSatisfy(\.isNumber) ? name : String(groupNumber(name, in: pattern) ?? 0))
                    chars = chars[(close + 1)...]
                    continue
                }
                if n == "n" { out += "\n"; chars = chars.dropFirst(); continue }
                if n == "t" { out += "\t"; chars = chars.dropFirst(); continue }
                if n == "\\" { out += "\\\\"; chars = chars.dropFirst(); continue }
            }
            out.append(c)
        }
        return out
    }
}

/// Python's `readlines()`: lines with their `\n` (a last line may have none).
func splitKeepingEnds(_ text: String) -> [String] {
    var lines: [String] = []
    var current = ""
    for c in text.unicodeScalars {
        current.unicodeScalars.append(c)
        if c == "\n" { lines.append(current); current = "" }
    }
    if !current.isEmpty { lines.append(current) }
    return lines
}

/// `rstrip(b'\r\n')`.
func stripLineEnd(_ s: String) -> String {
    var t = Substring(s)
    while let last = t.unicodeScalars.last, last == "\n" || last == "\r" { t = Substring(t.unicodeScalars.dropLast()) }
    return String(t)
}

/// A Python `re` pattern in ICU's syntax: `(?P<name>` is `(?<name>`, `(?P=name)` is `\k<name>`, `\Z` is `\z`.
func pythonPatternForICU(_ pattern: String) -> String {
    var out = ""
    var chars = Array(pattern)[...]
    while let c = chars.popFirst() {
        if c == "\\", let n = chars.first {
            chars = chars.dropFirst()
            out += n == "Z" ? "\\z" : "\\" + String(n)
        } else if c == "(", chars.starts(with: ["?", "P", "<"]) {
            chars = chars.dropFirst(2)
            out += "(?"
        } else if c == "(", chars.starts(with: ["?", "P", "="]), let close = chars.firstIndex(of: ")") {
            out += "\\k<" + String(chars[chars.index(chars.startIndex, offsetBy: 3)..<close]) + ">"
            chars = chars[(close + 1)...]
        } else {
            out.append(c)
        }
    }
    return out
}

/// The number of the capture group `name` in a Python pattern (groups counted by their opening parenthesis).
func groupNumber(_ name: String, in pattern: String) -> Int? {
    let c = Array(pattern)
    var n = 0, i = 0, inClass = false
    while i < c.count {
        if c[i] == "\\" { i += 2; continue }
        if inClass { if c[i] == "]" { inClass = false }; i += 1; continue }
        if c[i] == "[" { inClass = true; i += 1; continue }
        if c[i] == "(" {
            if i + 1 < c.count, c[i + 1] == "?" {
                let rest = String(c[(i + 2)...])
                for prefix in ["P<", "<"] where rest.hasPrefix(prefix) && !rest.hasPrefix("<=") && !rest.hasPrefix("<!") {
                    n += 1
                    if rest.dropFirst(prefix.count).hasPrefix(name + ">") { return n }
                }
            } else {
                n += 1
            }
        }
        i += 1
    }
    return nil
}
