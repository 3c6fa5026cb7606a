public import SwansibleData
import SwansibleSSH

/// `stat`: one remote script (`stat -c`, `test -r/-w/-x`, `readlink`, `<algo>sum`, and `file`/`lsattr` when
/// the host has them, as ansible-core's module uses them) gives ansible-core's `stat` dict.
struct StatModule: Module {
    static let spec: [(String, Value)] = [
        ("path", .null), ("follow", false), ("get_checksum", true), ("get_mime", true), ("get_attributes", true),
        ("checksum_algorithm", "sha1"),
    ]
    static let aliases = ["dest": "path", "name": "path", "mime": "get_mime", "mime_type": "get_mime",
                          "mime-type": "get_mime", "attr": "get_attributes", "attributes": "get_attributes",
                          "checksum": "checksum_algorithm", "checksum_algo": "checksum_algorithm"]
    static let attributeNames: [Character: String] = [
        "A": "noatime", "a": "append", "c": "compressed", "C": "nocow", "d": "nodump", "D": "dirsync",
        "e": "extents", "E": "encrypted", "h": "blocksize", "i": "immutable", "I": "indexed", "j": "journalled",
        "N": "inline", "s": "zero", "S": "synchronous", "t": "notail", "T": "blockroot", "u": "undelete",
        "X": "compressedraw", "Z": "compresseddirty",
    ]

    func run(_ rawArgs: ValueDict, _ context: ModuleContext) async -> ModuleOutcome {
        var args = moduleArgs(rawArgs, spec: Self.spec, aliases: Self.aliases)
        for key in rawArgs.keys where !Self.spec.contains(where: { $0.0 == key }) && Self.aliases[key] == nil {
            return .result(moduleFailure(
                "Unsupported parameters for (ansible.legacy.stat) module: \(key). Supported parameters include: "
                    + "checksum_algorithm, follow, get_attributes, get_checksum, get_mime, path.", args: args))
        }
        for name in ["follow", "get_checksum", "get_mime", "get_attributes"] {
            if let b = ansibleBool(args[name]) { args[name] = .bool(b) }
        }
        let given = args
        if let failed = await expandPathArgument(&args, "path", context, failure: { .result(moduleFailure($0, args: given)) }) {
            return failed
        }
        guard let path = args["path"]?.stringValue, !path.isEmpty else {
            return .result(moduleFailure("missing required arguments: path", args: args))
        }
        let follow = args["follow"]?.boolValue ?? false
        let algorithm = args["checksum_algorithm"]?.stringValue ?? "sha1"
        let algorithms = ["md5", "sha1", "sha224", "sha256", "sha384", "sha512"]
        guard algorithms.contains(algorithm) else {
            return .result(moduleFailure(
                "value of checksum_algorithm must be one of: \(algorithms.joined(separator: ", ")), got: \(algorithm)",
                args: args))
        }
        let getChecksum = args["get_checksum"]?.boolValue ?? true
        let getMime = args["get_mime"]?.boolValue ?? true
        let getAttributes = args["get_attributes"]?.boolValue ?? true
        let invocation: Value = ["module_args": .dict(args)]

        let p = pathWord(path)
        var script = "p=\(p)\n_sw_st T \"$p\" \(follow ? 1 : 0) 0\n"
        script += "if [ -e \"$p\" ] || [ -L \"$p\" ]; then\n"
        if getChecksum {
            script += "  if [ -f \"$p\" ] && [ -r \"$p\" ] && { [ \(follow ? 1 : 0) = 1 ] || [ ! -L \"$p\" ]; }; then "
                + "_k=$(\(algorithm)sum < \"$p\") && echo \"C:${_k%% *}\"; fi\n"
        }
        if getMime {
            script += "  if command -v file >/dev/null 2>&1; then _f=$(file --mime-type --mime-encoding \"$p\" 2>/dev/null) && "
                + "printf 'F:%s\\n' \"$_f\" | head -n 1; fi\n"
        }
        if getAttributes {
            script += "  if command -v lsattr >/dev/null 2>&1; then _l=$(lsattr -vd \"$p\" 2>/dev/null) && "
                + "printf 'V:%s\\n' \"$_l\" | head -n 1; fi\n"
        }
        script += "fi\n"

        let result: ExecResult
        do {
            result = try await runScript(script, context)
        } catch {
            if error.isConnectionFailure { return .unreachable(error.message) }
            return .result(moduleFailure(error.message, args: args))
        }
        let probe = RemoteProbe(result.stdout)
        let st = probe["T"]
        guard st.exists else {
            return .result(["changed": false, "invocation": invocation, "stat": ["exists": false]])
        }
        if st.mode == 0 {
            return .result(moduleFailure(errorText(result).isEmpty ? "Permission denied" : errorText(result), args: args))
        }
        var out = ValueDict()
        let m = st.mode
        out["exists"] = true
        out["path"] = .string(path)
        out["mode"] = .string(fourDigitOctal(st.permissions))
        out["isdir"] = .bool(st.isDir)
        out["ischr"] = .bool(st.fileType == 0o020000)
        out["isblk"] = .bool(st.fileType == 0o060000)
        out["isreg"] = .bool(st.isReg)
        out["isfifo"] = .bool(st.fileType == 0o010000)
        out["islnk"] = .bool(st.isLink)
        out["issock"] = .bool(st.fileType == 0o140000)
        out["uid"] = .int(st.uid)
        out["gid"] = .int(st.gid)
        out["size"] = .int(st.size)
        out["inode"] = .int(st.inode)
        out["dev"] = .int(st.dev)
        out["nlink"] = .int(st.nlink)
        out["atime"] = .float(st.atime)
        out["mtime"] = .float(st.mtime)
        out["ctime"] = .float(st.ctime)
        for (bit, name) in [(0o200, "wusr"), (0o400, "rusr"), (0o100, "xusr"), (0o020, "wgrp"), (0o040, "rgrp"),
                            (0o010, "xgrp"), (0o002, "woth"), (0o004, "roth"), (0o001, "xoth"), (0o4000, "isuid"),
                            (0o2000, "isgid")] as [(UInt32, String)] {
            out[name] = .bool(m & bit != 0)
        }
        out["blocks"] = .int(st.blocks)
        out["block_size"] = .int(st.blockSize)
        out["device_type"] = .int(st.rdev)
        out["readable"] = .bool(st.readable)
        out["writeable"] = .bool(st.writeable)
        out["executable"] = .bool(st.executable)
        if st.isLink {
            out["lnk_source"] = .string(st.realPath ?? "")
            out["lnk_target"] = .string(st.linkTarget ?? "")
        }
        if let owner = st.owner { out["pw_name"] = .string(owner) }
        if let group = st.group { out["gr_name"] = .string(group) }
        var mime: (String, String)?
        var attrs: (String, String)?
        for line in probe.other {
            if line.hasPrefix("C:"), st.isReg, st.readable, getChecksum {
                out["checksum"] = .string(String(line.dropFirst(2)))
            } else if line.hasPrefix("F:") {
                // `path: type; charset=x`, read as ansible-core does (rsplit on the last colon).
                let text = String(line.dropFirst(2))
                if let colon = text.lastIndex(of: ":") {
                    let parts = text[text.index(after: colon)...].split(separator: ";", omittingEmptySubsequences: false)
                    if parts.count == 2, let eq = parts[1].firstIndex(of: "=") {
                        mime = (String(parts[0]).trimmingSpaces(), String(parts[1][parts[1].index(after: eq)...]).trimmingSpaces())
                    }
                }
            } else if line.hasPrefix("V:") {
                let words = line.dropFirst(2).split(separator: " ", omittingEmptySubsequences: true)
                if words.count >= 2 { attrs = (String(words[0]), String(words[1]).replacingAll("-", with: "")) }
            }
        }
        if getMime {
            out["mimetype"] = .string(mime?.0 ?? "unknown")
            out["charset"] = .string(mime?.1 ?? "unknown")
        }
        if getAttributes {
            out["version"] = attrs.map { .string($0.0) } ?? .null
            out["attributes"] = .list((attrs?.1 ?? "").compactMap { Self.attributeNames[$0].map(Value.string) })
            out["attr_flags"] = .string(attrs?.1 ?? "")
        }
        return .result(["changed": false, "invocation": invocation, "stat": .dict(out)])
    }
}

/// `"%04o" % mode`.
func fourDigitOctal(_ mode: UInt32) -> String {
    let s = String(mode, radix: 8)
    return String(repeating: "0", count: max(0, 4 - s.count)) + s
}
