import SwansibleData
import SwansibleSSH
import Foundation

/// A directory tree copied in three round trips whatever its size: one script states and checksums every
/// destination file (the relative paths come on stdin), one receives the changed files as a tar stream into a
/// `mktemp -d` staging directory inside the destination and renames each over its destination (atomic per
/// file, the old file's mode kept, new files get `0666 & ~umask`), one makes the directories (`directory_mode`).
/// Used for trees of several files without owner/group/mode options (each file would need the file module);
/// the result is the action plugin's aggregate (`changed`, `dest`, `src`).
extension CopyAction {
    func canCopyTreeFast(files: [(CopySource, String)]) -> Bool {
        files.count > 1 && FileAttributes(taskArgs).isEmpty && taskArgs["validate"] == nil
            && !(ansibleBool(taskArgs["backup"]) ?? false) && !context.diffMode
            && files.allSatisfy { !$0.1.contains("\n") && $0.1.utf8.count < 250 }
    }

    func copyTreeFast(_ files: [(CopySource, String)], directories: [(String, String)], dest: String) async
        -> (changed: Bool, failure: ModuleOutcome?) {
        let root = pathWord(dest)
        // 1. Probe every destination file.
        let list = files.map(\.1).joined(separator: "\n") + "\n"
        let probeScript = "D=\(root)\ni=0\nwhile IFS= read -r f; do _sw_st \"T$i\" \"$D/$f\" 0 1; i=$((i+1)); done\n"
        let probe: RemoteProbe
        do {
            probe = RemoteProbe(try await runScriptFromStdin(probeScript, stdin: Array(list.utf8)))
        } catch {
            return (false, error.isConnectionFailure ? .unreachable(error.message) : actionFailure(error.message))
        }
        var changed: [(bytes: [UInt8], rel: String)] = []
        for (i, (source, rel)) in files.enumerated() {
            guard let bytes = source.read() else { return (false, actionFailure("could not read \(rel)")) }
            let st = probe["T\(i)"]
            if st.isDir { return (false, actionFailure("\(dest)\(rel) is a directory")) }
            if st.exists && !(ansibleBool(taskArgs["force"]) ?? true) { continue }
            if !st.isReg || st.checksum != localDigests(bytes).sha1 { changed.append((bytes, rel)) }
        }
        // Directories: which are missing (or have another mode than directory_mode).
        var dirMode: UInt32?
        if let dm = taskArgs["directory_mode"], !dm.isNull {
            dirMode = try? resolveMode(dm, current: RemoteStat(exists: true, mode: 0o040755), umask: 0o022)
        }
        var dirScript = "D=\(root)\nc=0\n"
        for (_, rel) in directories {
            let p = "\"$D\"/" + shellQuote(rel)
            dirScript += "if [ ! -d \(p) ]; then mkdir -p \(p) || exit 1; c=1; fi\n"
            if let m = dirMode {
                dirScript += "[ \"$(stat -c %a \(p))\" = \(String(m, radix: 8)) ] || { chmod \(String(m, radix: 8)) \(p) || exit 1; c=1; }\n"
            }
        }
        if context.checkMode {
            var anyDir = false
            if !directories.isEmpty {
                let check = "D=\(root)\n" + directories.map { "[ -d \"$D\"/\(shellQuote($0.1)) ] || echo TX:X\n" }.joined()
                if let out = try? await runScript(check, context) { anyDir = RemoteProbe(out.stdout)["TX"].exists }
            }
            return (!changed.isEmpty || anyDir, nil)
        }
        var didChange = false
        if !changed.isEmpty {
            // 2. One tar stream; files renamed into place one by one.
            let tar = TarWriter.archive(changed.map { ($0.rel, $0.bytes) })
            let umaskMode = String(0o666 & ~0o022, radix: 8)
            let script = """
                D=\(root)
                mkdir -p "$D" || exit 1
                umask_mode=$(printf '%o' $(( 0666 & ~$(umask) )))
                s=$(mktemp -d "$D/.swansible-tmp-XXXXXXXXXX") || exit 1
                tar -x -m -o -f - -C "$s" || { rm -rf "$s"; echo 'could not unpack the files' >&2; exit 1; }
                (cd "$s" && find . -type f) | while IFS= read -r f; do
                  f=${f#./}; t="$D/$f"; mkdir -p "$(dirname -- "$t")" || exit 1
                  if [ -f "$t" ]; then chmod "$(stat -c %a "$t")" "$s/$f"; else chmod "${umask_mode:-\(umaskMode)}" "$s/$f"; fi
                  mv -f "$s/$f" "$t" || exit 1
                done
                rc=$?; rm -rf "$s"; exit $rc
                """
            do {
                let out = try await runScript(script, context, input: .bytes(tar))
                if out.exitStatus != 0 { return (false, actionFailure(errorText(out))) }
            } catch {
                return (false, error.isConnectionFailure ? .unreachable(error.message) : actionFailure(error.message))
            }
            didChange = true
        }
        // 3. Directories.
        if !directories.isEmpty {
            do {
                let out = try await runScript(dirScript + "echo \"TC:$c\"\n", context)
                if out.exitStatus != 0 { return (false, actionFailure(errorText(out))) }
                if String(decoding: out.stdout, as: UTF8.self).contains("TC:1") { didChange = true }
            } catch {
                return (false, error.isConnectionFailure ? .unreachable(error.message) : actionFailure(error.message))
            }
        }
        return (didChange, nil)
    }

    /// Runs a short script that reads a long list from stdin (a command line is limited to 128 KiB).
    func runScriptFromStdin(_ body: String, stdin: [UInt8]) async throws(SSHError) -> [UInt8] {
        try await runScript(body, context, input: .bytes(stdin)).stdout
    }
}

/// A minimal ustar writer (files only, with their parent directories), for one upload of many files.
enum TarWriter {
    static func archive(_ files: [(String, [UInt8])]) -> [UInt8] {
        var out: [UInt8] = []
        var dirs = Set<String>()
        for (path, bytes) in files {
            var parts = path.split(separator: "/").map(String.init)
            parts.removeLast()
            var cur = ""
            for p in parts {
                cur = cur.isEmpty ? p : cur + "/" + p
                if dirs.insert(cur).inserted { out += header(cur + "/", size: 0, type: UInt8(ascii: "5"), mode: 0o755) }
            }
            out += header(path, size: bytes.count, type: UInt8(ascii: "0"), mode: 0o600)
            out += bytes
            let pad = (512 - bytes.count % 512) % 512
            out += [UInt8](repeating: 0, count: pad)
        }
        out += [UInt8](repeating: 0, count: 1024)
        return out
    }

    static func header(_ path: String, size: Int, type: UInt8, mode: Int) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: 512)
        var name = Array(path.utf8), prefix: [UInt8] = []
        if name.count > 100 {
            // Split at a slash: prefix (≤155) / name (≤100).
            let bytes = name
            var split = -1
            for i in stride(from: min(bytes.count - 1, 155), through: 0, by: -1) where bytes[i] == UInt8(ascii: "/") {
                if bytes.count - i - 1 <= 100 { split = i; break }
            }
            if split > 0 { prefix = Array(bytes[..<split]); name = Array(bytes[(split + 1)...]) }
        }
        func put(_ value: [UInt8], _ offset: Int, _ length: Int) {
            for (i, b) in value.prefix(length).enumerated() { h[offset + i] = b }
        }
        func octal(_ v: Int, _ length: Int) -> [UInt8] {
            let s = String(v, radix: 8)
            return Array((String(repeating: "0", count: max(0, length - 1 - s.count)) + s).utf8) + [0]
        }
        put(name, 0, 100)
        put(octal(mode, 8), 100, 8)
        put(octal(0, 8), 108, 8)
        put(octal(0, 8), 116, 8)
        put(octal(size, 12), 124, 12)
        put(octal(Int(Date().timeIntervalSince1970), 12), 136, 12)
        put(Array(repeating: UInt8(ascii: " "), count: 8), 148, 8)
        h[156] = type
        put(Array("ustar".utf8) + [0], 257, 6)
        put(Array("00".utf8), 263, 2)
        put(prefix, 345, 155)
        let sum = h.reduce(0) { $0 + Int($1) }
        put(octal(sum, 7) + [UInt8(ascii: " ")], 148, 8)
        return h
    }
}
