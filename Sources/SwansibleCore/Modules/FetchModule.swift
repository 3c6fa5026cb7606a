public import SwansibleData
import SwansibleSSH
import Foundation

/// `fetch`: one probe (SHA-1 of the remote file), then a read (SFTP, or `cat` with become) only when the local
/// copy differs; the file lands in `dest/<host>/<path>` or, with `flat`, in `dest`.
struct FetchModule: Module {
    func run(_ args: ValueDict, _ context: ModuleContext) async -> ModuleOutcome {
        var result = ValueDict()
        func fail(_ message: String) -> ModuleOutcome {
            .result(["changed": false, "exception": "(traceback unavailable)", "failed": true, "msg": .string(message),
                     "_swansible_task_error": .string("Action failed: " + message)])
        }
        if context.checkMode {
            return .result(["changed": false, "skipped": true, "msg": "check mode not (yet) supported for this module"])
        }
        guard let srcValue = args["src"], let destValue = args["dest"], !srcValue.isNull, !destValue.isNull else {
            return fail("src and dest are required")
        }
        guard var source = srcValue.stringValue else { return fail("Invalid type supplied for source option, it must be a string") }
        guard let originalDest = destValue.stringValue else { return fail("Invalid type supplied for dest option, it must be a string") }
        let flat = ansibleBool(args["flat"]) ?? false
        let failOnMissing = ansibleBool(args["fail_on_missing"]) ?? true
        let validate = ansibleBool(args["validate_checksum"]) ?? true

        let probe: RemoteProbe
        do {
            var script = "s=\(pathWord(source))\n_sw_st T \"$s\" 1 1\n"
            if source == "~" || source.hasPrefix("~/") { script += "echo \"HOME:$HOME\"\n" }
            probe = RemoteProbe(try await runScript(script, context).stdout)
        } catch {
            return error.isConnectionFailure ? .unreachable(error.message) : fail(error.message)
        }
        if let home = probe.other.first(where: { $0.hasPrefix("HOME:") }) {
            source = String(home.dropFirst(5)) + source.dropFirst()
        }
        let st = probe["T"]
        if st.exists && st.isDir {
            if failOnMissing { return fail("remote file is a directory, fetch cannot work on directories") }
            return .result(["msg": "remote file is a directory, fetch cannot work on directories, not transferring, ignored", "changed": false])
        }
        if !st.exists || !st.readable {
            let message = !st.exists ? "the remote file does not exist, not transferring, ignored"
                : "file is not readable: \(source)"
            if failOnMissing {
                // The [ERROR] line shows the slurp module's own message.
                let slurp = !st.exists ? "File not found: \(source): [Errno 2] No such file or directory: '\(source)'" : message
                return .result(["changed": false, "exception": "(traceback unavailable)", "failed": true,
                                "invocation": ["module_args": ["src": .string(source)]], "msg": .string(message),
                                "_swansible_task_error": .string("Module failed: " + slurp)])
            }
            return .result(["changed": false, "file": .string(source), "msg": .string(message)])
        }
        let base = context.searchPaths.last ?? FileManager.default.currentDirectoryPath
        func dwim(_ p: String) -> String { p.hasPrefix("/") ? p : expandHome(p).hasPrefix("/") ? expandHome(p) : pythonJoin(base, p) }
        var dest = originalDest
        var isDir: ObjCBool = false
        if flat {
            if FileManager.default.fileExists(atPath: dest, isDirectory: &isDir), isDir.boolValue, !dest.hasSuffix("/") {
                return fail("dest is an existing directory, use a trailing slash if you want to fetch src into that directory")
            }
            if dest.hasSuffix("/") {
                dest = pythonJoin(dest, pythonBasename(source))
                if FileManager.default.fileExists(atPath: dest, isDirectory: &isDir), isDir.boolValue {
                    return fail("calculated dest '\(dest)' is an existing directory, use another path that does not point to an existing directory")
                }
            }
            dest = dwim(dest)
        } else {
            dest = "\(dwim(dest))/\(context.hostName)/\(source)"
        }
        dest = normalizePath(dest)
        let remoteChecksum = st.checksum ?? ""
        let local = FileManager.default.contents(atPath: dest).map { [UInt8]($0) }
        let localChecksum = local.map { localDigests($0).sha1 }
        if let local, localChecksum == remoteChecksum {
            result = ["changed": false, "md5sum": .string(localDigests(local).md5), "file": .string(source),
                      "dest": .string(dest), "checksum": .string(localChecksum!)]
            return .result(result)
        }
        let data: [UInt8]
        do {
            data = try await context.connection.readFile(source, become: context.become)
        } catch {
            return error.isConnectionFailure ? .unreachable(error.message) : fail(error.message)
        }
        do {
            try FileManager.default.createDirectory(atPath: pythonDirname(dest), withIntermediateDirectories: true)
            // Atomic locally too: a temporary file beside dest, renamed.
            let tmp = pythonDirname(dest) + "/.swansible-fetch-" + randomWord()
            guard FileManager.default.createFile(atPath: tmp, contents: Data(data)) else { throw CocoaError(.fileWriteUnknown) }
            if rename(tmp, dest) != 0 { unlink(tmp); throw CocoaError(.fileWriteUnknown) }
        } catch {
            return fail("Failed to fetch the file.")
        }
        let digests = localDigests(data)
        if validate && digests.sha1 != remoteChecksum {
            return .result(["changed": false, "failed": true, "md5sum": .string(digests.md5), "msg": "checksum mismatch",
                            "file": .string(source), "dest": .string(dest), "remote_md5sum": .null,
                            "checksum": .string(digests.sha1), "remote_checksum": .string(remoteChecksum)])
        }
        return .result(["changed": true, "md5sum": .string(digests.md5), "dest": .string(dest), "remote_md5sum": .null,
                        "checksum": .string(digests.sha1), "remote_checksum": .string(remoteChecksum)])
    }
}

/// Python's `os.path.normpath` for absolute and relative POSIX paths.
func normalizePath(_ path: String) -> String {
    guard !path.isEmpty else { return "." }
    let absolute = path.hasPrefix("/")
    var parts: [Substring] = []
    for part in path.split(separator: "/", omittingEmptySubsequences: true) {
        if part == "." { continue }
        if part == "..", let last = parts.last, last != ".." { parts.removeLast(); continue }
        if part == "..", absolute { continue }
        parts.append(part)
    }
    let joined = parts.joined(separator: "/")
    return absolute ? "/" + joined : (joined.isEmpty ? "." : joined)
}
