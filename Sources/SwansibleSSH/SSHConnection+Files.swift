internal import Glibc
/// How file contents travel to the host.
public enum TransferMethod: String, Sendable, Hashable, CaseIterable {
    /// `cat` over an exec channel into a `mktemp` file, then `chmod` and `mv` in the same command:
    /// one channel and one round trip, works with become and on hosts without scp or SFTP.
    case stream
    /// SFTP write to a temporary file (requests of at most 30,000 bytes, pipelined), then `mv`.
    case sftp
    /// SCP to a temporary file (needs `scp` on the host), then `mv`.
    case scp
}

extension SSHConnection {
    /// Writes `data` to `path` atomically: into a temporary file in the same directory, then
    /// renamed over `path`, so readers see the old content or the new, never a mix.
    ///
    /// - Parameters:
    ///   - mode: permission bits of the new file (e.g. `0o644`).
    ///   - method: how the bytes travel; ``TransferMethod/stream`` is the default (see Docs/).
    ///   - become: write as another user (``TransferMethod/stream`` only).
    /// - Throws: ``SSHError/Kind/transfer`` with the remote error (missing directory, no space,
    ///   permission denied), or a connection failure.
    public func writeFile(
        _ data: ExecInput, to path: String, mode: UInt32 = 0o644, method: TransferMethod = .stream,
        become: BecomeSpec? = nil, timeout: Duration? = nil
    ) async throws(SSHError) {
        let directory = remoteDirectory(of: path)
        switch method {
        case .stream:
            let octal = String(mode & 0o7777, radix: 8)
            let script = "t=$(mktemp \(shellQuote(directory + "/.swansible-tmp-XXXXXXXXXX"))) && cat > \"$t\" && "
                + sizeCheck(data) + "chmod \(octal) \"$t\" && mv -f \"$t\" \(shellQuote(path)) || { rc=$?; [ -n \"$t\" ] && rm -f \"$t\"; exit $rc; }"
            let result = try await exec(script, input: data, timeout: timeout, become: become)
            try checkTransfer(result, path)
        case .sftp, .scp:
            if become != nil {
                throw SSHError(.transfer, "\(method.rawValue) cannot write as another user; use the stream method")
            }
            let temporary = directory + "/.swansible-tmp-" + randomSuffix()
            do {
                try await perform { completion throws(SSHError) in
                    try WriteFileOperation(
                        completion: completion, data: data, path: temporary, mode: Int32(mode & 0o7777),
                        method: method == .sftp ? .sftp : .scp, timeout: timeout)
                }
            } catch {
                if !error.isConnectionFailure { _ = try? await exec("rm -f \(shellQuote(temporary))") }
                throw error
            }
            let result = try await exec("mv -f \(shellQuote(temporary)) \(shellQuote(path)) || { rc=$?; rm -f \(shellQuote(temporary)); exit $rc; }")
            try checkTransfer(result, path)
        }
    }

    /// Reads a whole remote file (SFTP).
    public func readFile(_ path: String, timeout: Duration? = nil) async throws(SSHError) -> [UInt8] {
        try await perform { completion throws(SSHError) in
            ReadFileOperation(completion: completion, path: path, timeout: timeout)
        }
    }

    private func checkTransfer(_ result: ExecResult, _ path: String) throws(SSHError) {
        guard result.exitStatus != 0 || result.exitSignal != nil else { return }
        var message = String(decoding: result.stderr, as: UTF8.self)
        while message.last == "\n" { message.removeLast() }
        throw SSHError(.transfer, message.isEmpty ? "writing \(path) failed (exit status \(result.exitStatus))" : message)
    }
}

/// A shell test that the temporary file holds every byte sent: `cat` ends with status 0 on an early EOF (an
/// interrupted transfer), and a truncated file must never be renamed over the target.
func sizeCheck(_ data: ExecInput) -> String {
    guard let size = data.byteCount else { return "" }
    return "[ \"$(wc -c < \"$t\")\" -eq \(size) ] && "
}

/// The directory part of a remote path (`.` for a bare name).
func remoteDirectory(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    let directory = String(path[..<slash])
    return directory.isEmpty ? "/" : directory
}

func randomSuffix() -> String {
    let letters = Array("abcdefghijklmnopqrstuvwxyz0123456789")
    var generator = SystemRandomNumberGenerator()
    return String((0..<12).map { _ in letters[Int(generator.next(upperBound: UInt32(letters.count)))] })
}
