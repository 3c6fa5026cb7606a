import Foundation
import SwansibleSSH
import Testing

private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

@Suite("local connection")
struct LocalConnectionTests {
    let local = LocalConnection()

    @Test func execSeparatesStreamsAndStatus() async throws {
        let r = try await local.exec("echo out; echo err >&2; exit 4")
        #expect(text(r.stdout) == "out\n")
        #expect(text(r.stderr) == "err\n")
        #expect(r.exitStatus == 4)
    }

    /// A command line over execve's 128 KiB argument limit travels on stdin (as over SSH past a packet).
    @Test func commandLongerThanAnArgument() async throws {
        let payload = String(repeating: "q'\"$\\ ", count: 40_000)  // 240,000 bytes
        let r = try await local.exec("y=\(shellQuote(payload))\nprintf '%s' \"$y\" | wc -c\nexit 5\n")
        #expect(text(r.stdout).trimmingCharacters(in: .whitespacesAndNewlines) == "240000")
        #expect(r.exitStatus == 5)
    }

    @Test func largeOutputOnBothStreamsAndStdin() async throws {
        let input = [UInt8](repeating: 65, count: 3_000_000)
        let r = try await local.exec("cat; head -c 3000000 /dev/zero >&2", input: .bytes(input))
        #expect(r.stdout == input)
        #expect(r.stderr.count == 3_000_000)
    }

    @Test func signalAndTimeout() async throws {
        let r = try await local.exec("kill -TERM $$")
        #expect(r.exitSignal == "TERM")
        #expect(r.returnCode == -15)
        let start = ContinuousClock.now
        let error = await sshError { try await local.exec("sleep 20", timeout: .milliseconds(300)) }
        #expect(error?.kind == .timeout)
        #expect(ContinuousClock.now - start < .seconds(3))
    }

    @Test func writeAndReadFileAtomically() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("local-\(UUID())").path
        try await local.writeFile(.bytes(Array("hello".utf8)), to: path, mode: 0o600)
        #expect(try await local.readFile(path) == Array("hello".utf8))
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        try FileManager.default.removeItem(atPath: path)
    }
}
