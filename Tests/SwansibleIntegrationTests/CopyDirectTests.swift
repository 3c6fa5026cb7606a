import Foundation
@testable import SwansibleCore
import SwansibleData
import SwansibleSSH
import Testing

/// Counts the commands a module runs (and what input each had) on a real SSH connection.
private final class CountingConnection: ForwardingConnection, @unchecked Sendable {
    private let lock = NSLock()
    private var _inputs: [ExecInput] = []
    var inputs: [ExecInput] { lock.withLock { _inputs } }

    override func exec(_ command: String, input: ExecInput, timeout: Duration?, become: BecomeSpec?,
                       environment: [(String, String)]) async throws(SSHError) -> ExecResult {
        lock.withLock { _inputs.append(input) }
        return try await base.exec(command, input: input, timeout: timeout, become: become, environment: environment)
    }
}

@Suite("Modules: copy in one script", .needsHosts)
struct CopyDirectTests {
    /// A file over the inline limit, with NUL bytes, to a new path with a mode: one command, whose input waits
    /// until the script asks for it; the bytes and the mode arrive. Copied again: one command, nothing sent.
    @Test func largeFileTakesOneCommand() async throws {
        let connection = try await plainConnection()
        let base = "/tmp/directcopy-\(UUID().uuidString.prefix(8))"
        _ = try await connection.exec("mkdir -p \(base)")
        defer { try? FileManager.default.removeItem(atPath: base) }
        var content = pseudoRandomBytes(1_500_000)
        content[1000] = 0
        let src = FileManager.default.temporaryDirectory.appendingPathComponent("directcopy-\(UUID().uuidString)").path
        try Data(content).write(to: URL(fileURLWithPath: src))
        defer { try? FileManager.default.removeItem(atPath: src) }

        let counting = CountingConnection(base: connection)
        let context = ModuleContext(hostName: "t", connection: counting, become: nil, checkMode: false, diffMode: false,
                                    environment: [], timeout: nil, searchPaths: [])
        let copy = try #require(ModuleRegistry.module("copy"))
        let args: ValueDict = ["src": .string(src), "dest": .string(base + "/f"), "mode": "0640"]
        guard case .result(let first) = await copy.run(args, context) else { Issue.record("unreachable"); return }
        #expect(first["changed"] == true && first["failed"] == nil, "\(first)")
        #expect(first["mode"] == "0640" && first["size"] == .int(content.count) && first["checksum"] == .string(sha1Hex(content)))
        #expect(counting.inputs.count == 1)
        if case .whenAsked(_, .file(let path)) = counting.inputs.first { #expect(path == src) } else {
            Issue.record("the upload's input: \(counting.inputs)")
        }
        let check = try await connection.exec("sha1sum < \(base)/f; stat -c %a \(base)/f; ls -A \(base)")
        #expect(String(decoding: check.stdout, as: UTF8.self) == "\(sha1Hex(content))  -\n640\nf\n")

        guard case .result(let second) = await copy.run(args, context) else { Issue.record("unreachable"); return }
        #expect(second["changed"] == false && second["failed"] == nil, "\(second)")
        #expect(counting.inputs.count == 2)
    }
}
