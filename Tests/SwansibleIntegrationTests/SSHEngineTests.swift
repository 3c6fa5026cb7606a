import Foundation
import SwansibleSSH
import Testing

private func connect(
    _ host: TestHosts.Host, user: String? = nil, key: String? = nil, passphrase: String? = nil,
    password: String? = nil, knownHosts: String? = nil, client: SSHClient = SSHClient()
) async throws -> SSHConnection {
    let hosts = try TestHosts.get()
    let credentials = SSHCredentials(
        user: user ?? hosts.users.plain.name, password: password,
        privateKeys: (key.map { [SSHPrivateKey(path: $0, passphrase: passphrase)] } ?? []),
        useAgent: false, useDefaultKeys: false)
    return try await client.connect(
        host: host.address, port: host.port, credentials: credentials,
        options: SSHOptions(hostKeyPolicy: .strict(knownHostsFiles: [knownHosts ?? hosts.known_hosts])))
}

/// The SSHError `body` throws, or nil when it succeeds.
func sshError<T>(_ body: () async throws -> T) async -> SSHError? {
    do {
        _ = try await body()
        return nil
    } catch let error as SSHError {
        return error
    } catch {
        Issue.record("unexpected error \(error)")
        return nil
    }
}

private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

@Suite("SSH engine over real sshd", .needsHosts)
struct SSHEngineTests {
    @Test func execSeparatesStdoutStderrAndStatus() async throws {
        let hosts = try TestHosts.get()
        let c = try await connect(hosts.first, key: hosts.keys.ed25519)
        let r = try await c.exec("echo out; echo err >&2; exit 3")
        #expect(text(r.stdout) == "out\n")
        #expect(text(r.stderr) == "err\n")
        #expect(r.exitStatus == 3)
        #expect(r.exitSignal == nil)
        #expect(r.returnCode == 3)
        // The session is reused for further commands.
        for i in 0..<5 {
            let again = try await c.exec("echo \(i)")
            #expect(text(again.stdout) == "\(i)\n")
        }
        await c.close()
    }

    @Test func largeStderrAndStdoutTogetherDoNotDeadlock() async throws {
        let hosts = try TestHosts.get()
        let c = try await connect(hosts.first, key: hosts.keys.ed25519)
        // 3 MiB on stderr alone, then 3 MiB on both at once: more than the 2 MiB channel window.
        let r = try await c.exec("head -c 3145728 /dev/zero >&2; echo done")
        #expect(r.stderr.count == 3_145_728)
        #expect(text(r.stdout) == "done\n")
        let both = try await c.exec("(head -c 3145728 /dev/zero >&2 &) ; head -c 3145728 /dev/zero; wait")
        #expect(both.stdout.count == 3_145_728)
        #expect(both.stderr.count == 3_145_728)
    }

    @Test func commandKilledBySignalIsReportedAsSuch() async throws {
        let hosts = try TestHosts.get()
        let c = try await connect(hosts.first, key: hosts.keys.ed25519)
        let r = try await c.exec("kill -KILL $$")
        #expect(r.exitSignal == "KILL")
        #expect(r.returnCode == -9)
        let term = try await c.exec("sh -c 'kill -TERM $$'; echo after")
        #expect(text(term.stdout) == "after\n")
        #expect(term.exitSignal == nil)
    }

    @Test func stdinReachesTheCommandByteForByte() async throws {
        let hosts = try TestHosts.get()
        let c = try await connect(hosts.first, key: hosts.keys.ed25519)
        let bytes = pseudoRandomBytes(5 * 1024 * 1024 + 17)
        let r = try await c.exec("cat", input: .bytes(bytes))
        #expect(r.stdout == bytes)
        let small = try await c.exec("tr a-z A-Z", input: .bytes(Array("hello\n".utf8)))
        #expect(text(small.stdout) == "HELLO\n")
        // A command that ignores its input still finishes.
        let ignoring = try await c.exec("echo ignored", input: .bytes(bytes))
        #expect(text(ignoring.stdout) == "ignored\n")
    }

    @Test func commandTimeoutAbandonsOnlyThatCommand() async throws {
        let hosts = try TestHosts.get()
        let c = try await connect(hosts.first, key: hosts.keys.ed25519)
        let start = ContinuousClock.now
        await #expect(throws: SSHError.self) {
            _ = try await c.exec("sleep 30", timeout: .milliseconds(500))
        }
        #expect(ContinuousClock.now - start < .seconds(5))
        let after = try await c.exec("echo still usable")
        #expect(text(after.stdout) == "still usable\n")
    }
}

@Suite("SSH authentication and host keys", .needsHosts)
struct SSHAuthTests {
    @Test func ed25519AndECDSAKeys() async throws {
        let hosts = try TestHosts.get()
        for key in [hosts.keys.ed25519, hosts.keys.ecdsa] {
            let c = try await connect(hosts.first, key: key)
            #expect(text(try await c.exec("id -un").stdout) == hosts.users.plain.name + "\n")
        }
    }

    @Test func passphraseProtectedKey() async throws {
        let hosts = try TestHosts.get()
        let c = try await connect(hosts.first, key: hosts.keys.ed25519_passphrase, passphrase: hosts.keys.passphrase)
        #expect(text(try await c.exec("echo ok").stdout) == "ok\n")
        guard let error = await sshError({ try await connect(hosts.first, key: hosts.keys.ed25519_passphrase, passphrase: "wrong") }) else {
            Issue.record("a wrong passphrase must fail")
            return
        }
        #expect(error.kind == .privateKey)
        #expect(error.message == "Load key \"\(hosts.keys.ed25519_passphrase)\": incorrect passphrase supplied to decrypt private key")
    }

    @Test func password() async throws {
        let hosts = try TestHosts.get()
        let c = try await connect(hosts.first, password: hosts.users.plain.password)
        #expect(text(try await c.exec("id -un").stdout) == hosts.users.plain.name + "\n")
        guard let error = await sshError({ try await connect(hosts.first, password: "not-the-password") }) else {
            Issue.record("a wrong password must fail")
            return
        }
        #expect(error.kind == .authentication)
        #expect(error.isConnectionFailure)
        #expect(error.message.hasPrefix("\(hosts.users.plain.name)@\(hosts.first.address): Permission denied ("))
    }

    @Test func rsaKeyGetsTheLibssh2Explanation() async throws {
        let hosts = try TestHosts.get()
        guard let error = await sshError({ try await connect(hosts.first, key: hosts.keys.rsa) }) else {
            Issue.record("OpenSSH ≥ 8.8 refuses ssh-rsa signatures; libssh2 1.10 has no other")
            return
        }
        #expect(error.kind == .authentication)
        #expect(error.message.contains("rsa-sha2"))
        #expect(error.message.contains("ed25519 or ECDSA"))
    }

    @Test func hashedKnownHostsWork() async throws {
        let hosts = try TestHosts.get()
        let c = try await connect(hosts.first, key: hosts.keys.ed25519, knownHosts: hosts.known_hosts_hashed)
        #expect(text(try await c.exec("echo ok").stdout) == "ok\n")
    }

    @Test func unknownHostIsRefused() async throws {
        let hosts = try TestHosts.get()
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("kh-empty-\(UUID())").path
        FileManager.default.createFile(atPath: empty, contents: Data())
        defer { try? FileManager.default.removeItem(atPath: empty) }
        guard let error = await sshError({ try await connect(hosts.first, key: hosts.keys.ed25519, knownHosts: empty) }) else {
            Issue.record("an unknown host must be refused")
            return
        }
        #expect(error.kind == .hostKeyUnknown)
        #expect(error.isConnectionFailure)
        #expect(error.message.contains("Host key verification failed."))
        #expect(error.message.contains("[\(hosts.first.address)]:\(hosts.first.port)"))
    }

    @Test func changedHostKeyIsRefused() async throws {
        let hosts = try TestHosts.get()
        // Record the host under another host's name... with a key that is not its own.
        let other = try String(contentsOfFile: hosts.keys.ed25519 + ".pub", encoding: .utf8)
            .split(separator: " ")
        let fake = "[\(hosts.first.address)]:\(hosts.first.port) \(other[0]) \(other[1])\n"
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kh-changed-\(UUID())").path
        try fake.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        guard let error = await sshError({ try await connect(hosts.first, key: hosts.keys.ed25519, knownHosts: path) }) else {
            Issue.record("a changed host key must be refused")
            return
        }
        #expect(error.kind == .hostKeyMismatch)
        #expect(error.message.contains("REMOTE HOST IDENTIFICATION HAS CHANGED"))
        #expect(error.message.contains("Host key verification failed."))
    }

    @Test func acceptAnyHostKeyWhenCheckingIsOff() async throws {
        let hosts = try TestHosts.get()
        let c = try await SSHClient().connect(
            host: hosts.first.address, port: hosts.first.port,
            credentials: SSHCredentials(user: hosts.users.plain.name, privateKeys: [SSHPrivateKey(path: hosts.keys.ecdsa)]),
            options: SSHOptions(hostKeyPolicy: .acceptAny))
        #expect(text(try await c.exec("echo ok").stdout) == "ok\n")
    }
}

@Suite("SSH faults", .needsHosts)
struct SSHFaultTests {
    @Test func faultAddressesAreUnreachableWithinTheTimeoutAndOthersUnaffected() async throws {
        let hosts = try TestHosts.get()
        let client = SSHClient()
        let faults = [hosts.faults.refused, hosts.faults.silent, hosts.faults.blackhole]
        try await withThrowingTaskGroup(of: (String, String?).self) { group in
            for fault in faults {
                group.addTask {
                    let began = ContinuousClock.now
                    let error = await sshError {
                        try await client.connect(
                            host: fault.address, port: fault.port,
                            credentials: SSHCredentials(
                                user: hosts.users.plain.name, privateKeys: [SSHPrivateKey(path: hosts.keys.ed25519)]),
                            options: SSHOptions(
                                hostKeyPolicy: .strict(knownHostsFiles: [hosts.known_hosts]), connectTimeout: .seconds(2)))
                    }
                    #expect(error?.isConnectionFailure == true)
                    // Within the 2 s timeout, well short of the 10 s default (slack: a loaded 2-core machine whose loop threads
                    // also run the 200-host fleet test's handshakes).
                    #expect(ContinuousClock.now - began < .seconds(6), "\(fault.address)")
                    return (fault.address, error?.message)
                }
            }
            for host in hosts.hosts.prefix(4) {
                group.addTask {
                    let c = try await connect(host, key: hosts.keys.ed25519, client: client)
                    return (host.address, text(try await c.exec("echo up").stdout))
                }
            }
            var outcomes: [String: String?] = [:]
            for try await (address, message) in group { outcomes[address] = message }
            #expect(outcomes[hosts.faults.refused.address]! == "ssh: connect to host \(hosts.faults.refused.address) port \(hosts.faults.refused.port): Connection refused")
            #expect(outcomes[hosts.faults.blackhole.address]! == "ssh: connect to host \(hosts.faults.blackhole.address) port \(hosts.faults.blackhole.port): Connection timed out")
            #expect(outcomes[hosts.faults.silent.address]! == "Connection timed out during banner exchange")
            for host in hosts.hosts.prefix(4) { #expect(outcomes[host.address]! == "up\n") }
        }

    }

    @Test func unresolvableNameIsUnreachable() async throws {
        let hosts = try TestHosts.get()
        guard let error = await sshError({ try await SSHClient().connect(
                host: "no-such-host.invalid", port: 22, credentials: SSHCredentials(user: hosts.users.plain.name)) }) else {
            Issue.record("must not resolve")
            return
        }
        #expect(error.kind == .nameResolution)
        #expect(error.message.hasPrefix("ssh: Could not resolve hostname no-such-host.invalid: "))
    }
}
