public import SwansibleData
import SwansibleSSH
import Foundation

/// The common copy — a file or `content` to a path that is a regular file or absent, with at most a numeric
/// `mode` — done in one script, whatever the file's size.
///
/// The general path (``CopyAction/copyFile(_:rel:dest:follow:content:)``) probes the destination in one script
/// and writes it in a second: two round trips and some fifteen processes on the host (`stat`, `id`, `mktemp`,
/// `cat`, `wc`, `chmod`, `mv`, …), which is most of what a copy costs at fifty hosts on two cores. Here the host
/// decides with shell built-ins alone whether the case is the common one. The temporary file is created by the
/// shell itself (`set -C`: exclusively, private until all of it arrived) and then given the old file's mode, the
/// `mode`, or a new file's (`chmod =rw`: 0666 less the umask, as the general path gives it). Small
/// text (≤ 24 KiB, no NUL) travels in the script and is written by the built-in `printf`; anything else is sent
/// on stdin once the script asks for it (``SwansibleSSH/ExecInput/whenAsked(marker:_:)``), so a file already in
/// place costs no transfer. A new file costs `chmod`, `stat` and `mv` (and `cat` for a streamed one). A file whose
/// checksum already matches is reported as such (`sha1sum`), and everything else — links, directories, special
/// files, a missing or unwritable directory, and the options this does not cover — answers `slow`, and the
/// general path runs as before, so results are the same on either path.
struct DirectCopy {
    /// Bytes that go into the script. The script travels in the SSH exec request, and libssh2 sends no packet
    /// over 35,000 bytes: text whose script (quoted once more under become) would pass ``maxCommand`` streams.
    static let maxInlineBytes = 24 * 1024
    static let maxCommand = 30_000
    /// Task arguments this path handles; any other one (owner, group, validate, backup, checksum, …) takes the
    /// general path.
    static let arguments: Set<String> = [
        "src", "content", "dest", "mode", "force", "decrypt", "local_follow", "remote_src", "follow",
    ]
    /// What the script prints when it is ready for a streamed file.
    static let ready = Array("F:go\n".utf8)

    enum Outcome {
        /// Not the common case: nothing was done.
        case slowPath
        /// The destination already has these bytes: nothing was written; the output of `whenUnchanged`, if any.
        case unchanged([UInt8]?)
        /// The script wrote the file (or failed to); `temporary` is the name it had before the rename.
        case done(Result<ExecResult, SSHError>, temporary: String)
    }

    enum Payload {
        /// Written by `printf` from the script itself.
        case inline([UInt8])
        /// Sent on stdin once asked for.
        case stream(ExecInput)
    }

    let context: ModuleContext
    let payload: Payload
    let size: Int
    let dest: String
    let mode: UInt32?

    init?(action: CopyAction, source: CopySource, input: ExecInput, sourceBytes: [UInt8]?, size: Int, dest: String,
          follow: Bool, force: Bool, localMode: String?) {
        let context = action.context
        guard !context.checkMode, !context.diffMode, force, !follow, localMode == nil,
              !dest.isEmpty, !dest.hasSuffix("/") else { return nil }
        for (key, value) in action.taskArgs where !Self.arguments.contains(key) && !value.isNull { return nil }
        var mode: UInt32?
        if let m = action.taskArgs["mode"], !m.isNull {
            // Only modes that mean the same whatever the file's current mode and the umask.
            if case .int(let i) = m {
                guard i >= 0 && i <= 0o7777 else { return nil }
                mode = UInt32(i)
            } else if let text = m.stringValue, !text.isEmpty, text.count <= 5,
                      text.allSatisfy({ $0 >= "0" && $0 <= "7" }), let n = UInt32(text, radix: 8), n <= 0o7777 {
                mode = n
            } else {
                return nil
            }
        }
        if size <= Self.maxInlineBytes, let bytes = sourceBytes ?? source.read(), bytes.count == size, !bytes.contains(0) {
            payload = .inline(bytes)
        } else {
            payload = .stream(input)
        }
        self.context = context
        self.size = size
        self.dest = dest
        self.mode = mode
    }

    /// The destination's directory ("." for a bare name).
    var directory: String { pythonDirname(dest).isEmpty ? "." : pythonDirname(dest) }

    /// `whenUnchanged`: a script to run when the file already has the bytes (its output comes back with
    /// ``Outcome/unchanged(_:)``).
    func run(sha1: String, whenUnchanged: String? = nil) async -> Outcome {
        let temporary = directory + "/.swansible-tmp-" + Self.randomName()
        var payload = self.payload
        var s = script(payload, temporary: temporary, sha1: sha1, whenUnchanged: whenUnchanged)
        if case .inline(let bytes) = payload {
            // Quotes grow fivefold when become wraps the script in `sh -c '…'`: text that would not fit streams.
            let environment = context.environment.reduce(0) { $0 + $1.0.utf8.count + $1.1.utf8.count + 16 }
            let length = (context.become == nil ? s.utf8.count : shellQuote(s).utf8.count) + environment + 1024
                + (context.become == nil ? remoteStatFunctions.utf8.count : shellQuote(remoteStatFunctions).utf8.count)
            if length > Self.maxCommand {
                payload = .stream(.bytes(bytes))
                s = script(payload, temporary: temporary, sha1: sha1, whenUnchanged: whenUnchanged)
            }
        }
        var input = ExecInput.none
        if case .stream(let data) = payload { input = .whenAsked(marker: Self.ready, data) }
        let out: ExecResult
        do {
            out = try await runScript(s, context, input: input)
        } catch {
            return .done(.failure(error), temporary: temporary)
        }
        if out.exitStatus == 0 {
            let text = String(decoding: out.stdout.prefix(16), as: UTF8.self)
            if text == "F:slow\n" { return .slowPath }
            if text.hasPrefix("F:same\n") { return .unchanged(whenUnchanged == nil ? nil : out.stdout) }
        }
        return .done(.success(out), temporary: temporary)
    }

    /// The script for `payload`: the tests, the temporary file, the bytes, the attributes, the rename.
    func script(_ payload: Payload, temporary: String, sha1: String, whenUnchanged: String?) -> String {
        let dirWord = pathWord(directory)
        var s = "set +e\nd=\(pathWord(dest))\nt=\(pathWord(temporary))\n"
        s += "if [ -L \"$d\" ] || [ -d \"$d\" ] || { [ -e \"$d\" ] && [ ! -f \"$d\" ]; } || [ ! -d \(dirWord) ]"
            + " || [ ! -w \(dirWord) ] || [ ! -x \(dirWord) ]; then echo F:slow; exit 0; fi\n"
        s += "if [ -f \"$d\" ]; then\n"
            + "  [ -r \"$d\" ] || { echo F:slow; exit 0; }\n"
            + "  _k=$(sha1sum < \"$d\") || { echo F:slow; exit 0; }\n"
            + "  if [ \"${_k%% *}\" = \(sha1) ]; then\n    echo F:same\n" + (whenUnchanged.map { $0 + "\n" } ?? "") + "    exit 0\n  fi\n"
            + "fi\n"
        s += "trap 'rm -f \"$t\"; exit 129' HUP INT TERM PIPE\n"
        // The temporary file is private (600) until all of it arrived. With a `mode` the script's umask can say so
        // (every later mode is absolute); without one the file is created in a subshell, because a new file's mode
        // comes from the umask at the end (`chmod =rw`: 0666 less the umask's bits, as the general path gives it).
        s += mode == nil ? "(umask 077; set -C; : > \"$t\") || exit 1\n" : "umask 077\nset -C\n: > \"$t\" || exit 1\nset +C\n"
        switch payload {
        case .inline(let bytes):
            if !bytes.isEmpty {
                s += "printf %s \(shellQuote(RawBytes.decode(bytes))) > \"$t\" || { rm -f \"$t\"; exit 1; }\n"
            }
        case .stream:
            s += "echo F:go\ncat > \"$t\" || { rm -f \"$t\"; exit 1; }\n"
        }
        // An existing file's permissions and owner go to the new one (atomic_move's copystat and chown), then the
        // mode.
        s += "if [ -f \"$d\" ]; then \(keepOldAttributesCommand)\n"
        if let mode {
            s += "fi\nchmod \(String(mode, radix: 8)) \"$t\" || { rm -f \"$t\"; exit 1; }\n"
        } else {
            s += "else chmod =rw \"$t\" || { rm -f \"$t\"; exit 1; }\nfi\n"
        }
        // The new file's state for the result (a rename changes none of what the result shows); its size (the
        // fourth field) proves that every byte arrived: `cat` ends with status 0 on an early EOF too.
        s += "_sw_st TP \"$t\" 0 0\n"
        s += "_z=${_s#*|*|*|}; [ \"${_z%%|*}\" = \(size) ] || { rm -f \"$t\"; echo 'the transfer was cut short' >&2; exit 1; }\n"
        s += "mv -f \"$t\" \"$d\" || { rm -f \"$t\"; exit 1; }\n"
        return s
    }

    static func randomName() -> String {
        let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<10).map { _ in letters[Int(generator.next(upperBound: UInt32(letters.count)))] })
    }
}
