import Foundation
@testable import SwansibleCore
import SwansibleData
import SwansibleSSH
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A connection that cuts the copy's upload deterministically: the upload's bytes go through a local FIFO that
/// receives only the first `cutAt` bytes; once exactly that many bytes are in the remote temporary file, the
/// session's sshd process (the shell's `$PPID`, found over the same session) is killed, then the FIFO is closed.
/// Everything else passes through to the real SSH connection.
private final class CuttingConnection: ForwardingConnection, @unchecked Sendable {
    let uploadSize: Int
    let cutAt: Int
    let directory: String
    let sshdPID: Int32
    let fifo = FileManager.default.temporaryDirectory.appendingPathComponent("swansible-cut-\(UUID().uuidString)").path
    /// What the hook saw: the temporary file's name and size when it killed the session.
    private let lock = NSLock()
    private var _seen: (name: String, size: Int)?
    var seen: (name: String, size: Int)? { lock.withLock { _seen } }

    init(base: SSHConnection, uploadSize: Int, cutAt: Int, directory: String, sshdPID: Int32) {
        self.uploadSize = uploadSize
        self.cutAt = cutAt
        self.directory = directory
        self.sshdPID = sshdPID
        super.init(base: base)
    }

    override func exec(_ command: String, input: ExecInput, timeout: Duration?, become: BecomeSpec?,
                       environment: [(String, String)]) async throws(SSHError) -> ExecResult {
        // The upload: the source's bytes, given in memory or (as copy streams a controller file) as the file.
        // (It may wait for the command to ask for it: the same marker goes with the FIFO.)
        var upload: [UInt8]?
        let (marker, input) = input.gated
        switch input {
        case .bytes(let bytes) where bytes.count == uploadSize: upload = bytes
        case .file(let path):
            if let data = FileManager.default.contents(atPath: path), data.count == uploadSize { upload = Array(data) }
        default: break
        }
        guard let bytes = upload else {
            return try await base.exec(command, input: input, timeout: timeout, become: become, environment: environment)
        }
        guard mkfifo(fifo, 0o600) == 0 else { throw SSHError(.transfer, "mkfifo failed") }
        let prefix = Array(bytes.prefix(cutAt))
        let thread = Thread { [self] in
            let fd = open(fifo, O_WRONLY)
            var off = 0
            while off < prefix.count {
                let n = prefix.withUnsafeBytes { write(fd, $0.baseAddress! + off, prefix.count - off) }
                if n <= 0 { break }
                off += n
            }
            // Wait (up to 60 s) until the remote temporary file holds exactly the bytes sent, then kill the session.
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
                if let name = names.first(where: { $0.hasPrefix(".swansible-tmp-") }),
                   let size = (try? FileManager.default.attributesOfItem(atPath: directory + "/" + name))?[.size] as? Int,
                   size == cutAt {
                    lock.withLock { _seen = (name, size) }
                    break
                }
                usleep(1000)
            }
            kill(sshdPID, SIGKILL)
            Glibc.close(fd)
        }
        thread.start()
        defer { unlink(fifo) }
        let cut = ExecInput.file(path: fifo)
        return try await base.exec(command, input: marker.map { .whenAsked(marker: $0, cut) } ?? cut, timeout: timeout, become: become, environment: environment)
    }
}

@Suite("Modules: a copy killed mid-transfer", .needsHosts)
struct CopyKilledTests {
    /// The session is killed after exactly 1 MiB of an 8 MiB upload has reached the target: the destination keeps
    /// its old content and no temporary file is left (the script's size check and trap remove it).
    @Test func copyKilledMidTransferKeepsTheOldFile() async throws {
        let client = SSHClient()
        let connection = try await plainConnection(client: client)
        let base = "/tmp/modtest-\(UUID().uuidString.prefix(8))"
        let setup = try await connection.exec("mkdir -p \(base) && echo old > \(base)/f && echo $PPID")
        let pid = try #require(Int32(String(decoding: setup.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)))
        // The shell's parent is the session's sshd process (user swtest), nothing else.
        let comm = try String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)
        #expect(comm.hasPrefix("sshd"), "\(comm)")
        defer { try? FileManager.default.removeItem(atPath: base) }

        let size = 8 * 1024 * 1024, cut = 1024 * 1024
        let src = FileManager.default.temporaryDirectory.appendingPathComponent("swansible-big-\(UUID().uuidString)").path
        var content = [UInt8](repeating: 0x5A, count: size)
        for i in stride(from: 0, to: size, by: 4096) { content[i] = UInt8(truncatingIfNeeded: i >> 12) }
        try Data(content).write(to: URL(fileURLWithPath: src))
        defer { try? FileManager.default.removeItem(atPath: src) }
        let cutting = CuttingConnection(base: connection, uploadSize: size, cutAt: cut, directory: base, sshdPID: pid)
        let context = ModuleContext(hostName: "t", connection: cutting, become: nil, checkMode: false, diffMode: false,
                                    environment: [], timeout: nil, searchPaths: [])
        let copy = try #require(ModuleRegistry.module("copy"))
        let outcome = await copy.run(["src": .string(src), "dest": .string(base + "/f")], context)

        // The hook saw the temporary file with exactly the bytes sent before it killed the session.
        let seen = try #require(cutting.seen)
        #expect(seen.size == cut)
        // The session is gone: the copy reports the host unreachable (ansible-core: the connection failed).
        switch outcome {
        case .unreachable: break
        case .result(let r): Issue.record("expected unreachable, got \(r)")
        }
        // The target's script notices the short input (or the broken pipe) and removes its temporary file;
        // the destination was never touched.
        var left: [String] = []
        for _ in 0..<200 {
            left = ((try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []).filter { $0 != "f" }
            if left.isEmpty { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(left.isEmpty, "left behind: \(left)")
        #expect(try String(contentsOfFile: base + "/f", encoding: .utf8) == "old\n")
    }
}
