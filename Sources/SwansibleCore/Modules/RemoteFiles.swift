public import SwansibleData
import SwansibleSSH
import SwansibleTemplate
import Foundation

// Shared pieces of the file modules (stat, file, copy, template, fetch): what a remote path looks like, read
// with POSIX tools (`stat -c`, `test`, `readlink`, `sha1sum`) that GNU coreutils and BusyBox both have, so a
// target needs no Python.

/// The shell functions every file-module script starts with.
///
/// `_sw_st TAG PATH FOLLOW SUMS` prints, for one path, lines `TAG:N` (absent), `TAG:X` (exists, cannot stat)
/// or `TAG:S:<stat fields>`, `TAG:A:<rwx it may>`, `TAG:L:<link text>`, `TAG:R:<real path>`, `TAG:K:<sha1>`,
/// `TAG:M:<md5>` (SUMS: 0 none, 1 sha1, 2 sha1 and md5). `_sw_id` prints `I:<umask>` and `J:<output of id>`
/// (`uid=N(name) gid=N(name) groups=…`) for the user the script runs as: one process, where `id -u`, `id -g`,
/// `id -un` and `id -gn` were four (each costs about a millisecond of the hosts' CPU).
let remoteStatFunctions = #"""
_sw_fmt='%f|%u|%g|%s|%h|%i|%d|%Y|%X|%Z|%b|%o|%t|%T|%y|%x|%z|%U|%G'
_sw_st() {
  if [ "$3" = 1 ]; then _s=$(stat -L -c "$_sw_fmt" -- "$2" 2>/dev/null); else _s=$(stat -c "$_sw_fmt" -- "$2" 2>/dev/null); fi
  if [ -z "$_s" ]; then if [ -e "$2" ] || [ -L "$2" ]; then echo "$1:X"; else echo "$1:N"; fi; return 0; fi
  echo "$1:S:$_s"
  _a=; [ -r "$2" ] && _a=${_a}r; [ -w "$2" ] && _a=${_a}w; [ -x "$2" ] && _a=${_a}x; echo "$1:A:$_a"
  if [ -L "$2" ]; then echo "$1:L:$(readlink -- "$2")"; echo "$1:R:$(readlink -f -- "$2")"; fi
  if [ "$4" != 0 ] && [ -f "$2" ] && [ -r "$2" ] && { [ "$3" = 1 ] || [ ! -L "$2" ]; }; then
    _k=$(sha1sum < "$2") && echo "$1:K:${_k%% *}"
    if [ "$4" = 2 ]; then _k=$(md5sum < "$2") && echo "$1:M:${_k%% *}"; fi
  fi
  return 0
}
_sw_id() { printf 'I:'; umask; printf 'J:'; id; }

"""#

/// One path on the target, as `os.stat`/`os.lstat` would describe it.
struct RemoteStat: Sendable {
    var exists = false
    /// `st_mode` (type and permission bits).
    var mode: UInt32 = 0
    var uid = 0, gid = 0, size = 0, nlink = 0, inode = 0, dev = 0, blocks = 0, blockSize = 0, rdev = 0
    var mtime = 0.0, atime = 0.0, ctime = 0.0
    var owner: String?, group: String?
    var readable = false, writeable = false, executable = false
    var linkTarget: String?
    var realPath: String?
    var checksum: String?
    var md5: String?

    var permissions: UInt32 { mode & 0o7777 }
    var fileType: UInt32 { mode & 0o170000 }
    var isDir: Bool { fileType == 0o040000 }
    var isReg: Bool { fileType == 0o100000 }
    var isLink: Bool { fileType == 0o120000 }
    /// `'0%03o' % S_IMODE(mode)`.
    var modeString: String { octalMode(permissions) }
    /// pw_name, or the uid as text (add_path_info's fallback).
    var ownerName: String { owner ?? String(uid) }
    var groupName: String { group ?? String(gid) }

    /// The kind add_path_info reports: link, directory, hard (a file with several links), file.
    var state: String {
        if isLink { return "link" }
        if isDir { return "directory" }
        return nlink > 1 ? "hard" : "file"
    }

    /// ansible-core's `add_path_info` keys for this path (`self` from lstat, `followed` from stat: the keys
    /// are there only when the path exists through links).
    func pathInfo(into r: inout ValueDict, followed: RemoteStat? = nil) {
        guard exists, followed?.exists ?? true else { return }
        var me = self
        if let followed, !isLink, !isDir { me.nlink = followed.nlink }
        me.addKeys(&r)
    }

    private func addKeys(_ r: inout ValueDict) {
        r["uid"] = .int(uid)
        r["gid"] = .int(gid)
        r["owner"] = .string(ownerName)
        r["group"] = .string(groupName)
        r["mode"] = .string(modeString)
        r["state"] = .string(state)
        r["size"] = .int(size)
    }
}

/// `'0%03o' % mode`.
func octalMode(_ mode: UInt32) -> String {
    let s = String(mode, radix: 8)
    return "0" + String(repeating: "0", count: max(0, 3 - s.count)) + s
}

/// The user a script ran as, and its umask.
struct RemoteIdentity: Sendable {
    var uid = 0, gid = 0
    var umask: UInt32 = 0o022
    var user: String?, group: String?
}

/// The parsed output of a script that used ``remoteStatFunctions``.
struct RemoteProbe: Sendable {
    var stats: [String: RemoteStat] = [:]
    var identity = RemoteIdentity()
    /// Lines the functions did not print (the script's own markers).
    var other: [String] = []

    init(_ output: [UInt8]) {
        let text = String(decoding: output, as: UTF8.self)
        for line in text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) {
            if line.hasPrefix("I:") {
                identity.umask = UInt32(line.dropFirst(2), radix: 8) ?? 0o022
                continue
            }
            if line.hasPrefix("J:") {
                let (uid, user) = Self.idField("uid=", in: line)
                let (gid, group) = Self.idField("gid=", in: line)
                identity.uid = uid ?? 0
                identity.gid = gid ?? 0
                identity.user = user
                identity.group = group
                continue
            }
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            guard parts.count >= 2, parts[0].hasPrefix("T"), parts[1].count == 1 else { other.append(line); continue }
            let tag = parts[0]
            let payload = parts.count > 2 ? parts[2] : ""
            var st = stats[tag] ?? RemoteStat()
            switch parts[1] {
            case "N": st.exists = false
            case "X": st.exists = true
            case "S": st = Self.parseStat(payload, into: st)
            case "A":
                st.readable = payload.contains("r")
                st.writeable = payload.contains("w")
                st.executable = payload.contains("x")
            case "L": st.linkTarget = payload
            case "R": st.realPath = payload
            case "K": st.checksum = payload
            case "M": st.md5 = payload
            default: other.append(line)
            }
            stats[tag] = st
        }
    }

    subscript(tag: String) -> RemoteStat { stats[tag] ?? RemoteStat() }

    /// The number and the name in `id`'s `uid=1001(swtest)` (the name is missing when it has none).
    static func idField(_ key: String, in line: String) -> (Int?, String?) {
        guard let start = line.range(of: " " + key) ?? line.range(of: ":" + key) else { return (nil, nil) }
        let rest = line[start.upperBound...]
        let digits = rest.prefix(while: { $0.isASCII && $0.isNumber })
        var name: String?
        let after = rest.dropFirst(digits.count)
        if after.first == "(", let close = after.firstIndex(of: ")") {
            name = String(after[after.index(after: after.startIndex)..<close])
        }
        return (Int(digits), name?.isEmpty == false ? name : nil)
    }

    private static func parseStat(_ text: String, into base: RemoteStat) -> RemoteStat {
        var st = base
        let f = text.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        guard f.count >= 19 else { return st }
        st.exists = true
        st.mode = UInt32(f[0], radix: 16) ?? 0
        st.uid = Int(f[1]) ?? 0
        st.gid = Int(f[2]) ?? 0
        st.size = Int(f[3]) ?? 0
        st.nlink = Int(f[4]) ?? 0
        st.inode = Int(f[5]) ?? 0
        st.dev = Int(f[6]) ?? 0
        st.mtime = pythonTime(seconds: f[7], human: f[14])
        st.atime = pythonTime(seconds: f[8], human: f[15])
        st.ctime = pythonTime(seconds: f[9], human: f[16])
        st.blocks = Int(f[10]) ?? 0
        st.blockSize = Int(f[11]) ?? 0
        let major = Int(f[12], radix: 16) ?? 0, minor = Int(f[13], radix: 16) ?? 0
        st.rdev = (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xff) << 12) | ((major & ~0xfff) << 32)
        st.owner = f[17] == "UNKNOWN" || f[17].isEmpty ? nil : f[17]
        st.group = f[18] == "UNKNOWN" || f[18].isEmpty ? nil : f[18]
        return st
    }

    /// `st_mtime` as Python computes it: seconds plus nanoseconds (from `%y`'s fraction) times 1e-9.
    private static func pythonTime(seconds: String, human: String) -> Double {
        let sec = Double(Int(seconds) ?? 0)
        var nanos = 0.0
        if let dot = human.firstIndex(of: ".") {
            let digits = human[human.index(after: dot)...].prefix { $0.isNumber }
            let padded = (String(digits) + "000000000").prefix(9)
            nanos = Double(Int(padded) ?? 0)
        }
        return sec + nanos * 1e-9
    }
}

/// ansible-core's file arguments common to file, copy and template (`add_file_common_args`).
struct FileAttributes: Sendable {
    var mode: Value?
    var owner: String?
    var group: String?

    init(_ args: ValueDict) {
        mode = args["mode"].flatMap { $0.isNull ? Value?.none : $0 }
        owner = args["owner"]?.stringValue ?? args["owner"]?.intValue.map(String.init)
        group = args["group"]?.stringValue ?? args["group"]?.intValue.map(String.init)
        if owner?.isEmpty == true { owner = nil }
        if group?.isEmpty == true { group = nil }
    }

    var isEmpty: Bool { mode == nil && owner == nil && group == nil }
}

enum ModeError: Error { case notOctalOrSymbolic(String), invalid(Int) }

/// The permission bits `mode` asks for, given the path's current state (for symbolic modes) and the umask
/// (for symbolic modes without a who part), as ansible-core computes them.
func resolveMode(_ value: Value, current: RemoteStat, umask: UInt32) throws(ModeError) -> UInt32 {
    var text: String
    switch value {
    case .int(let i):
        guard i >= 0, i <= 0o7777 else { throw .invalid(i) }
        return UInt32(i)
    case .float(let d): text = String(Int(d))
    default: text = value.stringValue ?? value.json()
    }
    text = text.trimmingSpaces()
    var digits = text
    if digits.hasPrefix("0o") || digits.hasPrefix("0O") { digits = String(digits.dropFirst(2)) }
    if !digits.isEmpty, digits.allSatisfy({ $0 >= "0" && $0 <= "7" }) {
        guard let n = Int(digits, radix: 8) else { throw .notOctalOrSymbolic(text) }
        guard n <= 0o7777 else { throw .invalid(n) }
        return UInt32(n)
    }
    return try symbolicMode(text, current: current, umask: umask)
}

private func symbolicMode(_ spec: String, current: RemoteStat, umask: UInt32) throws(ModeError) -> UInt32 {
    var mode = current.permissions
    for clause in spec.split(separator: ",", omittingEmptySubsequences: false) {
        guard let firstOp = clause.firstIndex(where: { $0 == "+" || $0 == "-" || $0 == "=" }) else {
            throw .notOctalOrSymbolic(spec)
        }
        var users = String(clause[..<firstOp])
        let useUmask = users.isEmpty
        if users == "a" || users.isEmpty { users = "ugo" }
        guard users.allSatisfy({ "ugoa".contains($0) }) else { throw .notOctalOrSymbolic(spec) }
        // Operators and the permissions after each.
        var ops: [(Character, String)] = []
        var rest = clause[firstOp...]
        while let op = rest.first {
            rest = rest.dropFirst()
            let perms = rest.prefix { $0 != "+" && $0 != "-" && $0 != "=" }
            rest = rest.dropFirst(perms.count)
            ops.append((op, String(perms)))
        }
        for (op, perms) in ops {
            guard perms.allSatisfy({ "rwxXstugo".contains($0) }) else { throw .notOctalOrSymbolic(spec) }
            for user in users where user != "a" {
                let apply = symbolicBits(user: user, perms: perms, previous: mode, isDir: current.isDir,
                                         useUmask: useUmask, umask: umask)
                switch op {
                case "=":
                    let mask: UInt32 = user == "u" ? 0o4700 : user == "g" ? 0o2070 : 0o1007
                    mode = (mode & (mask ^ 0o7777)) | apply
                case "+": mode |= apply
                default: mode -= mode & apply
                }
            }
        }
    }
    return mode
}

private func symbolicBits(user: Character, perms: String, previous: UInt32, isDir: Bool, useUmask: Bool,
                          umask: UInt32) -> UInt32 {
    let revUmask = umask ^ 0o7777
    let applyX = isDir || (previous & 0o111) != 0
    func masked(_ bit: UInt32) -> UInt32 { useUmask ? revUmask & bit : bit }
    var bits: UInt32 = 0
    for p in perms {
        switch (user, p) {
        case ("u", "r"): bits |= masked(0o400)
        case ("u", "w"): bits |= masked(0o200)
        case ("u", "x"): bits |= masked(0o100)
        case ("u", "X"): bits |= applyX ? 0o100 : 0
        case ("u", "s"): bits |= 0o4000
        case ("u", "u"): bits |= previous & 0o700
        case ("u", "g"): bits |= (previous & 0o070) << 3
        case ("u", "o"): bits |= (previous & 0o007) << 6
        case ("g", "r"): bits |= masked(0o040)
        case ("g", "w"): bits |= masked(0o020)
        case ("g", "x"): bits |= masked(0o010)
        case ("g", "X"): bits |= applyX ? 0o010 : 0
        case ("g", "s"): bits |= 0o2000
        case ("g", "u"): bits |= (previous & 0o700) >> 3
        case ("g", "g"): bits |= previous & 0o070
        case ("g", "o"): bits |= (previous & 0o007) << 3
        case ("o", "r"): bits |= masked(0o004)
        case ("o", "w"): bits |= masked(0o002)
        case ("o", "x"): bits |= masked(0o001)
        case ("o", "X"): bits |= applyX ? 0o001 : 0
        case ("o", "t"): bits |= 0o1000
        case ("o", "u"): bits |= (previous & 0o700) >> 6
        case ("o", "g"): bits |= (previous & 0o070) >> 3
        case ("o", "o"): bits |= previous & 0o007
        default: break
        }
    }
    return bits
}

/// What applying owner, group and mode to a path would change, and the shell commands doing it.
struct AttributePlan: Sendable {
    var commands: [String] = []
    var changed = false
    var diffBefore = ValueDict(), diffAfter = ValueDict()
    var newMode: UInt32?
    var error: String?
    /// The exception text ansible-core adds as `details` (a bad mode).
    var details: String?

    func errorExtra(_ path: String) -> ValueDict {
        var extra: ValueDict = ["path": .string(path)]
        if let details { extra["details"] = .string(details) }
        return extra
    }
}

/// Shell lines that look up the uid/gid an `owner`/`group` name stands for (`O:uid`, `G:gid`; empty when
/// unknown), so changes are decided on numbers, as ansible-core does.
func ownerLookupScript(_ attrs: FileAttributes) -> String {
    var s = ""
    if let owner = attrs.owner {
        if Int(owner) != nil { s += "echo O:\(owner)\n" } else { s += "echo \"O:$(id -u \(shellQuote(owner)) 2>/dev/null)\"\n" }
    }
    if let group = attrs.group {
        if Int(group) != nil {
            s += "echo G:\(group)\n"
        } else {
            s += "_g=$(awk -F: -v g=\(shellQuote(group)) '$1 == g { print $3; exit }' /etc/group 2>/dev/null); "
                + "if [ -z \"$_g\" ] && command -v getent >/dev/null 2>&1; then _g=$(getent group \(shellQuote(group)) | cut -d: -f3); fi; "
                + "echo \"G:$_g\"\n"
        }
    }
    return s
}

/// Plans `set_owner_if_different`, `set_group_if_different` and `set_mode_if_different` for a path whose
/// current state is `current`. `word` is the path as the script names it (quoted, or a shell variable);
/// `probe` holds the `O:`/`G:` lookups of ``ownerLookupScript(_:)``.
func planAttributes(_ attrs: FileAttributes, word: String, current: RemoteStat, probe: RemoteProbe,
                    noFollowLink: Bool = false) -> AttributePlan {
    var plan = AttributePlan()
    let h = noFollowLink ? "-h " : ""
    if let owner = attrs.owner {
        let looked = probe.other.last(where: { $0.hasPrefix("O:") }).map { String($0.dropFirst(2)) }
        guard let uid = Int(owner) ?? looked.flatMap({ Int($0) }) else {
            plan.error = "chown failed: failed to look up user \(owner)"
            return plan
        }
        if uid != current.uid {
            plan.commands.append("chown \(h)\(uid) \(word)")
            plan.diffBefore["owner"] = .int(current.uid)
            plan.diffAfter["owner"] = .int(uid)
        }
    }
    if let group = attrs.group {
        let looked = probe.other.last(where: { $0.hasPrefix("G:") }).map { String($0.dropFirst(2)) }
        guard let gid = Int(group) ?? looked.flatMap({ Int($0) }) else {
            plan.error = "chgrp failed: failed to look up group \(group)"
            return plan
        }
        if gid != current.gid {
            plan.commands.append("chgrp \(h)\(gid) \(word)")
            plan.diffBefore["group"] = .int(current.gid)
            plan.diffAfter["group"] = .int(gid)
        }
    }
    if let modeValue = attrs.mode {
        do {
            let mode = try resolveMode(modeValue, current: current, umask: probe.identity.umask)
            if mode != current.permissions {
                plan.newMode = mode
                if !noFollowLink { plan.commands.append("chmod \(String(mode, radix: 8)) \(word)") }
                plan.diffBefore["mode"] = .string(current.modeString)
                plan.diffAfter["mode"] = .string(octalMode(mode))
            }
        } catch .invalid(let n) {
            plan.error = "Invalid mode supplied, only permission info is allowed"
            plan.details = String(n)
        } catch {
            plan.error = "mode must be in octal or symbolic form"
            plan.details = "bad symbolic permission for mode: \(modeValue.stringValue ?? modeValue.json())"
        }
    }
    plan.changed = !plan.diffBefore.isEmpty
    return plan
}

/// Runs a module script on the host: the shell functions first, then `body`.
func runScript(_ body: String, _ context: ModuleContext, input: ExecInput = .none) async throws(SSHError) -> ExecResult {
    try await context.connection.exec(
        remoteStatFunctions + body, input: input, timeout: context.timeout, become: context.become,
        environment: context.environment)
}

/// The last line of a failed command's stderr, as a message.
func errorText(_ result: ExecResult) -> String {
    var text = String(decoding: result.stderr, as: UTF8.self)
    while text.last == "\n" || text.last == "\r" { text.removeLast() }
    return text
}

/// A module result that failed before doing anything.
func moduleFailure(_ message: String, args: ValueDict, extra: ValueDict = [:]) -> ValueDict {
    var r: ValueDict = ["changed": false, "exception": "(traceback unavailable)", "failed": true,
                        "invocation": ["module_args": .dict(args)], "msg": .string(message)]
    for (k, v) in extra { r[k] = v }
    return r
}

/// Module arguments as ansible-core echoes them in `invocation.module_args`: every option of `spec` with
/// the given value or its default, in the spec's order.
func moduleArgs(_ given: ValueDict, spec: [(String, Value)], aliases: [String: String] = [:]) -> ValueDict {
    var out = ValueDict()
    for (name, def) in spec { out[name] = def }
    for (k, v) in given {
        let name = aliases[k] ?? k
        if spec.contains(where: { $0.0 == name }) {
            out[name] = v
            // ansible-core echoes an alias used as well as the option it stands for.
            if name != k { out[k] = v }
        }
    }
    return out
}

/// The file arguments ansible-core's `add_file_common_args` adds, with their defaults.
let fileCommonSpec: [(String, Value)] = [
    ("attributes", .null), ("group", .null), ("mode", .null), ("owner", .null), ("selevel", .null),
    ("serole", .null), ("setype", .null), ("seuser", .null), ("unsafe_writes", false),
]

/// Python's `os.path.dirname`.
func pythonDirname(_ path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "" }
    var head = String(path[...slash])
    if head.allSatisfy({ $0 == "/" }) { return head }
    while head.hasSuffix("/") { head.removeLast() }
    return head
}

/// Python's `os.path.basename`.
func pythonBasename(_ path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return path }
    return String(path[path.index(after: slash)...])
}

/// Python's `os.path.join` for two parts.
func pythonJoin(_ a: String, _ b: String) -> String {
    if b.hasPrefix("/") { return b }
    if a.isEmpty || a.hasSuffix("/") { return a + b }
    return a + "/" + b
}

/// A random name like Python's `tempfile.mkstemp(prefix='.')` gives: a dot and 8 characters.
func pythonTempName() -> String {
    let letters = Array("abcdefghijklmnopqrstuvwxyz0123456789_")
    var g = SystemRandomNumberGenerator()
    return "." + String((0..<8).map { _ in letters[Int(g.next(upperBound: UInt32(letters.count)))] })
}

/// SHA-1 and MD5 of local bytes, hex.
func localDigests(_ bytes: [UInt8]) -> (sha1: String, md5: String) {
    (hexDigest("sha1", bytes) ?? "", hexDigest("md5", bytes) ?? "")
}

/// The command ansible-core's `module.run_command(validate % path)` runs (copy, template, lineinfile): `%s`
/// replaced by the path and `%%` by `%` (Python's `%`), split as `shlex.split` splits it and run without a
/// shell, so each word is quoted for the remote shell. The path is put in after the split, so a path with
/// spaces stays one word. nil when the command cannot be split (unbalanced quotes).
func validationCommand(_ validate: String, path: String) -> String? {
    let token = "\u{1}swansible-validate-path\u{1}"
    var formatted = ""
    var chars = Array(validate)[...]
    while let c = chars.popFirst() {
        if c == "%", let n = chars.first, n == "s" || n == "%" {
            chars = chars.dropFirst()
            formatted += n == "s" ? token : "%"
        } else {
            formatted.append(c)
        }
    }
    guard let words = try? ArgumentSplitting.shlexSplit(formatted), !words.isEmpty else { return nil }
    return words.map { shellQuote($0.replacingAll(token, with: path)) }.joined(separator: " ")
}

/// A path argument as ansible-core's modules see it (`type='path'`: `os.path.expanduser(os.path.expandvars(p))`,
/// run on the target as the user the module runs as, with the task's environment; the action plugins'
/// `_remote_expand_user` gives copy's and template's `dest` the same home directory). `$NAME` and `${NAME}`
/// become the variable's value when the environment has it (left as they are otherwise), then a leading `~` or
/// `~user` the home directory. A path with neither is returned as it is, without a round trip; otherwise one
/// script reads the variables (`printenv`: exported ones only, as Python's os.environ) and the home directory.
func remoteExpandPath(_ path: String, _ context: ModuleContext) async throws(SSHError) -> String {
    try await remoteExpandPaths([path], context)[0]
}

/// ``remoteExpandPath(_:_:)`` for several paths in one round trip (none when no path needs it).
func remoteExpandPaths(_ paths: [String], _ context: ModuleContext) async throws(SSHError) -> [String] {
    let references = paths.map(pythonVariableReferences)
    // A leading `~` or `~user`; a user part with characters other than a user name's is left alone (the shell
    // would not expand it).
    let heads: [String?] = paths.map { path in
        guard path.hasPrefix("~") else { return nil }
        let first = String(path.prefix(while: { $0 != "/" }))
        return first.dropFirst().allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }) ? first : nil
    }
    let names = Array(Set(references.joined().map(\.name).filter { name in
        name.first.map { !$0.isNumber } == true && name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") })
    })).sorted()
    let homes = Array(Set(heads.compactMap { $0 })).sorted()
    guard !homes.isEmpty || !names.isEmpty else { return paths }
    var script = ""
    for name in names {
        script += "if _v=$(printenv \(name)); then printf 'S%s\\0' \"$_v\"; else printf 'U\\0'; fi\n"
    }
    for head in homes { script += "printf 'H%s\\0' \(head)\n" }
    let out = try await context.connection.exec(
        script, input: .none, timeout: context.timeout, become: context.become, environment: context.environment)
    guard out.exitStatus == 0 else { return paths }
    let fields = out.stdout.split(separator: 0, omittingEmptySubsequences: false).map { RawBytes.decode(Array($0)) }
    var values: [String: String] = [:]
    for (i, name) in names.enumerated() where i < fields.count && fields[i].hasPrefix("S") {
        values[name] = String(fields[i].dropFirst())
    }
    var homeOf: [String: String] = [:]
    for (i, head) in homes.enumerated() where names.count + i < fields.count && fields[names.count + i].hasPrefix("H") {
        homeOf[head] = String(fields[names.count + i].dropFirst())
    }
    return paths.indices.map { index in
        let path = paths[index]
        // expandvars, left to right; a value is not expanded again.
        var result = ""
        var last = path.startIndex
        for reference in references[index] {
            guard let value = values[reference.name] else { continue }
            result += path[last..<reference.range.lowerBound] + value
            last = reference.range.upperBound
        }
        result += path[last...]
        // expanduser: the home directory the shell printed for this head.
        if let head = heads[index], result.hasPrefix(head), var home = homeOf[head], !home.isEmpty, home != head {
            // Python: the home directory without trailing slashes, then the rest ("/" when both are empty).
            while home.hasSuffix("/") { home.removeLast() }
            let joined = home + result.dropFirst(head.count)
            result = joined.isEmpty ? "/" : joined
        }
        return result
    }
}

/// `$name` and `${name}` in a path as Python's posixpath.expandvars finds them (`\$(\w+|\{[^}]*\})`, ASCII).
func pythonVariableReferences(_ path: String) -> [(name: String, range: Range<String.Index>)] {
    var found: [(String, Range<String.Index>)] = []
    var i = path.startIndex
    func isWord(_ c: Character) -> Bool { c.isASCII && (c.isLetter || c.isNumber || c == "_") }
    while let dollar = path[i...].firstIndex(of: "$") {
        let next = path.index(after: dollar)
        guard next < path.endIndex else { break }
        if path[next] == "{" {
            if let close = path[next...].firstIndex(of: "}") {
                found.append((String(path[path.index(after: next)..<close]), dollar..<path.index(after: close)))
                i = path.index(after: close)
                continue
            }
        } else if isWord(path[next]) {
            let end = path[next...].firstIndex(where: { !isWord($0) }) ?? path.endIndex
            found.append((String(path[next..<end]), dollar..<end))
            i = end
            continue
        }
        i = next
    }
    return found
}

/// ``remoteExpandPath(_:_:)`` for the argument `key` of a module's arguments, in place. When the host cannot be
/// asked, the module's outcome: unreachable, or `failure` of the error's message.
func expandPathArgument(_ args: inout ValueDict, _ key: String, _ context: ModuleContext,
                        failure: (String) -> ModuleOutcome) async -> ModuleOutcome? {
    await expandPathArguments(&args, [key], context, failure: failure)
}

/// ``expandPathArgument(_:_:_:failure:)`` for several arguments, in one round trip.
func expandPathArguments(_ args: inout ValueDict, _ keys: [String], _ context: ModuleContext,
                         failure: (String) -> ModuleOutcome) async -> ModuleOutcome? {
    let pending = keys.compactMap { key in
        args[key]?.stringValue.flatMap { $0.hasPrefix("~") || $0.contains("$") ? (key, $0) : nil }
    }
    guard !pending.isEmpty else { return nil }
    do {
        let expanded = try await remoteExpandPaths(pending.map(\.1), context)
        for ((key, _), path) in zip(pending, expanded) { args[key] = .string(path) }
        return nil
    } catch {
        return error.isConnectionFailure ? .unreachable(error.message) : failure(error.message)
    }
}

/// ansible-core's `_find_needle` for a file on the controller: an absolute path as it is, a relative one in the
/// first of `searchPaths` (role, playbook directory, …) that has it.
func findControllerFile(_ name: String, in searchPaths: [String]) -> String? {
    let fm = FileManager.default
    if name.hasPrefix("/") { return fm.fileExists(atPath: name) ? name : nil }
    return searchPaths.lazy.map { pythonJoin($0, name) }.first(where: { fm.fileExists(atPath: $0) })
}

/// ansible-core's message for a controller file that ``findControllerFile(_:in:)`` did not find: the search
/// paths, then the playbook directory's candidates once more (as ansible-core lists them).
func controllerFileMissing(_ name: String, in searchPaths: [String]) -> String {
    let hint = "\nIf you are using a module and expect the file to exist on the remote, see the remote_src option"
    if name.hasPrefix("/") { return "Could not find or access '\(name)' on the Ansible Controller." + hint }
    let candidates = searchPaths.map { pythonJoin($0, name) }
    let searched = (candidates + candidates.suffix(2)).map { "\t" + $0 }.joined(separator: "\n")
    return "Could not find or access '\(name)'\nSearched in:\n\(searched) on the Ansible Controller." + hint
}
