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

    /// Input that waits to be asked for: none before the marker, all after; a command that never asks ends.
    @Test func inputWaitsUntilTheCommandAsks() async throws {
        let input = [UInt8](repeating: 66, count: 1_000_000)
        let gated = ExecInput.whenAsked(marker: Array("READY\n".utf8), .bytes(input))
        let r = try await local.exec("bash -c 'sleep 0.3; if read -t 0; then echo early; else echo none; fi; echo READY; wc -c'",
                                     input: gated)
        #expect(text(r.stdout).split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
                == ["none", "1000000"])  // the marker is not output
        let never = try await local.exec("echo never", input: gated, timeout: .seconds(20))
        #expect(text(never.stdout) == "never\n" && never.exitStatus == 0)
        let ungated = try await local.exec("bash -c 'sleep 0.3; if read -t 0; then echo early; fi'", input: .bytes(input))
        #expect(text(ungated.stdout) == "early\n")
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
