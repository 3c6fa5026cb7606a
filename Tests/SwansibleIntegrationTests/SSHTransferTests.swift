import Foundation
import SwansibleSSH
import Testing

private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

func plainConnection(_ host: TestHosts.Host? = nil, client: SSHClient = SSHClient()) async throws -> SSHConnection {
    let hosts = try TestHosts.get()
    let host = host ?? hosts.first
    return try await client.connect(
        host: host.address, port: host.port,
        credentials: SSHCredentials(
            user: hosts.users.plain.name, privateKeys: [SSHPrivateKey(path: hosts.keys.ed25519)], useAgent: false,
            useDefaultKeys: false),
        options: SSHOptions(hostKeyPolicy: .strict(knownHostsFiles: [hosts.known_hosts])))
}

@Suite("SSH file transfers", .needsHosts)
struct SSHTransferTests {
    static let tenMiB: [UInt8] = pseudoRandomBytes(10 * 1024 * 1024)
    static let tenMiBSHA1 = sha1Hex(tenMiB)

    @Test(arguments: TransferMethod.allCases)
    func tenMegabyteUploadArrivesWithChecksumAndMode(method: TransferMethod) async throws {
        let c = try await plainConnection()
        let path = "/tmp/swansible-upload-\(method.rawValue)-\(UUID().uuidString)"
        defer { Task { _ = try? await c.exec("rm -f \(path)") } }
        try await c.writeFile(.bytes(Self.tenMiB), to: path, mode: 0o640, method: method)
        let check = try await c.exec("sha1sum \(path) | cut -d' ' -f1; stat -c %a \(path); ls -a /tmp | grep -c swansible-tmp || true")
        let lines = text(check.stdout).split(separator: "\n")
        #expect(lines[0] == Self.tenMiBSHA1)
        #expect(lines[1] == "640")
        let back = try await c.readFile(path)
        #expect(back == Self.tenMiB)
    }

    @Test func uploadFromLocalFileStreams() async throws {
        let c = try await plainConnection()
        let local = FileManager.default.temporaryDirectory.appendingPathComponent("src-\(UUID())").path
        try Data(Self.tenMiB.prefix(3_000_001)).write(to: URL(fileURLWithPath: local))
        defer { try? FileManager.default.removeItem(atPath: local) }
        let path = "/tmp/swansible-file-\(UUID().uuidString)"
        try await c.writeFile(.file(path: local), to: path, mode: 0o600)
        #expect(try await c.readFile(path) == Array(Self.tenMiB.prefix(3_000_001)))
        _ = try await c.exec("rm -f \(path)")
    }

    /// Input that waits to be asked for (`ExecInput.whenAsked`): nothing arrives before the command prints the
    /// marker (bash's `read -t 0` sees no input half a second in), everything after; a command that never asks
    /// ends normally and the session carries on. The same through sudo, whose own marker comes first.
    @Test func inputWaitsUntilTheCommandAsks() async throws {
        let c = try await plainConnection()
        let local = FileManager.default.temporaryDirectory.appendingPathComponent("gated-\(UUID())").path
        try Data(Self.tenMiB.prefix(2_000_003)).write(to: URL(fileURLWithPath: local))
        defer { try? FileManager.default.removeItem(atPath: local) }
        let asks = "sleep 0.5; if read -t 0; then echo early; else echo none; fi; echo READY; sha1sum"
        let expected = sha1Hex(Array(Self.tenMiB.prefix(2_000_003)))
        for become in [nil, BecomeSpec(method: .sudo, user: "root")] {
            let r = try await c.exec(asks, input: .whenAsked(marker: Array("READY\n".utf8), .file(path: local)), become: become)
            let lines = text(r.stdout).split(separator: "\n")
            #expect(lines.count == 2 && lines[0] == "none", "\(lines)")  // the marker is not output
            #expect(lines.last?.hasPrefix(expected) == true)
            let never = try await c.exec("echo never", input: .whenAsked(marker: Array("READY\n".utf8), .file(path: local)),
                                         timeout: .seconds(20), become: become)
            #expect(text(never.stdout) == "never\n" && never.exitStatus == 0)
        }
        // Without the gate the same command sees the input at once.
        let ungated = try await c.exec(asks, input: .bytes([1, 2, 3]))
        #expect(text(ungated.stdout).hasPrefix("early\nREADY\n"))
        #expect(text(try await c.exec("echo alive").stdout) == "alive\n")
    }

    @Test func replacingIsAtomicAndEmptyFilesWork() async throws {
        let c = try await plainConnection()
        let path = "/tmp/swansible-atomic-\(UUID().uuidString)"
        try await c.writeFile(.bytes(Array("old\n".utf8)), to: path)
        let inode = try await c.exec("stat -c %i \(path)").stdout
        try await c.writeFile(.bytes([]), to: path, mode: 0o600)
        #expect(try await c.exec("stat -c %i:%s:%a \(path)").stdout != inode)
        #expect(text(try await c.exec("stat -c %s:%a \(path)").stdout) == "0:600\n")
        _ = try await c.exec("rm -f \(path)")
    }

    @Test(arguments: TransferMethod.allCases)
    func missingDirectoryIsATransferError(method: TransferMethod) async throws {
        let c = try await plainConnection()
        let error = await sshError { try await c.writeFile(.bytes([1, 2, 3]), to: "/nonexistent-dir/x", method: method) }
        #expect(error?.kind == .transfer)
        #expect(error?.isConnectionFailure == false)
        // The session survives a failed transfer.
        #expect(text(try await c.exec("echo alive").stdout) == "alive\n")
    }
}

@Suite("become", .needsHosts)
struct SSHBecomeTests {
    @Test func sudoWithoutPassword() async throws {
        let c = try await plainConnection()
        let r = try await c.exec("id -u; whoami; echo err >&2", become: BecomeSpec(method: .sudo, user: "root"))
        #expect(text(r.stdout) == "0\nroot\n")
        #expect(text(r.stderr) == "err\n")
        #expect(r.exitStatus == 0)
        let withInput = try await c.exec("cat", input: .bytes(Array("data\n".utf8)), become: BecomeSpec())
        #expect(text(withInput.stdout) == "data\n")
    }

    /// Command lines longer than an SSH packet (libssh2: 35,000 bytes) travel on stdin: without become, with
    /// sudo, and with sudo and its password (which goes first on the same stdin). The text arrives whole, trailing
    /// newlines and quotes included, and runs in the same shell (variables and `exit` as in a short command).
    @Test func commandLongerThanAPacket() async throws {
        let hosts = try TestHosts.get()
        let c = try await plainConnection()
        let payload = String(repeating: "a'b\"c $x\\", count: 20_000)  // 180,000 bytes, quoted below
        let command = "y=\(shellQuote(payload))\nprintf '%s' \"$y\" | wc -c; printf '%s' \"$y\" | sha1sum\nexit 7\n\n\n"
        let expected = sha1Hex(Array(payload.utf8))
        for become in [nil, BecomeSpec(method: .sudo, user: "root")] {
            let r = try await c.exec(command, become: become)
            let lines = text(r.stdout).split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            #expect(lines.first == "180000", "become: \(String(describing: become))")
            #expect(lines.last?.hasPrefix(expected) == true)
            #expect(r.exitStatus == 7)
        }
        let p = try await SSHClient().connect(
            host: hosts.first.address, port: hosts.first.port,
            credentials: SSHCredentials(user: hosts.users.sudopass.name, privateKeys: [SSHPrivateKey(path: hosts.keys.ed25519)]),
            options: SSHOptions(hostKeyPolicy: .strict(knownHostsFiles: [hosts.known_hosts])))
        let spec = BecomeSpec(method: .sudo, user: "root", password: hosts.users.sudopass.password)
        let r = try await p.exec("id -u # " + String(repeating: "x", count: 50_000), become: spec)
        #expect(text(r.stdout) == "0\n")
        // A long command that has stdin of its own cannot: a clear error, not a broken session.
        let error = await sshError { try await c.exec("cat # " + String(repeating: "x", count: 50_000), input: .bytes([1])) }
        #expect(error?.kind == .channel)
        #expect(error?.message.contains("holds at most 32000 bytes") == true)
        #expect(text(try await c.exec("echo alive").stdout) == "alive\n")
    }

    @Test func sudoWithPasswordOverStdin() async throws {
        let hosts = try TestHosts.get()
        let c = try await SSHClient().connect(
            host: hosts.first.address, port: hosts.first.port,
            credentials: SSHCredentials(user: hosts.users.sudopass.name, privateKeys: [SSHPrivateKey(path: hosts.keys.ed25519)]),
            options: SSHOptions(hostKeyPolicy: .strict(knownHostsFiles: [hosts.known_hosts])))
        let spec = BecomeSpec(method: .sudo, user: "root", password: hosts.users.sudopass.password)
        // The password travels over stdin: sudo's own command line (the parent of the shell) lacks it.
        let r = try await c.exec("id -u; ps -o args= -p $PPID", become: spec)
        let lines = text(r.stdout).split(separator: "\n")
        #expect(lines.first == "0")
        #expect(lines.count == 2 && lines[1].hasPrefix("sudo -H -S -p"))
        #expect(!text(r.stdout).contains(hosts.users.sudopass.password))
        #expect(!text(r.stderr).contains("password"))
        let piped = try await c.exec("cat", input: .bytes(Array("through sudo\n".utf8)), become: spec)
        #expect(text(piped.stdout) == "through sudo\n")

        let wrong = await sshError { try await c.exec("id -u", become: BecomeSpec(password: "wrong-password")) }
        #expect(wrong?.kind == .become)
        #expect(wrong?.message == "Incorrect sudo password")
        let missing = await sshError { try await c.exec("id -u", become: BecomeSpec()) }
        #expect(missing?.kind == .become)
        #expect(missing?.message == "Missing sudo password")
        // The session still works after the failures.
        #expect(text(try await c.exec("echo ok").stdout) == "ok\n")
    }

    @Test func writeFileAsRoot() async throws {
        let c = try await plainConnection()
        let path = "/root/swansible-become-\(UUID().uuidString)"
        try await c.writeFile(.bytes(Array("secret\n".utf8)), to: path, mode: 0o600, become: BecomeSpec())
        let r = try await c.exec("stat -c %U:%a \(path); cat \(path); rm -f \(path)", become: BecomeSpec())
        #expect(text(r.stdout) == "root:600\nsecret\n")
    }
}

@Suite("fleet", .needsHosts)
struct SSHFleetTests {
    @Test func twoHundredHostsRunConcurrently() async throws {
        let hosts = try TestHosts.get()
        try #require(hosts.hosts.count >= 200 || !TestHosts.required, "Tests/run-tests starts 200 hosts")
        let fleet = Array(hosts.hosts.prefix(200))
        let client = SSHClient()
        let results = await withTaskGroup(of: (String, String).self) { group in
            for host in fleet {
                group.addTask {
                    do {
                        let c = try await plainConnection(host, client: client)
                        let r = try await c.exec("true")
                        await c.close()
                        return (host.name, r.exitStatus == 0 ? "ok" : "rc \(r.exitStatus)")
                    } catch {
                        return (host.name, "\(error)")
                    }
                }
            }
            var all: [String: String] = [:]
            for await (name, outcome) in group { all[name] = outcome }
            return all
        }
        #expect(results.count == fleet.count)
        let failures = results.filter { $0.value != "ok" }
        #expect(failures.isEmpty, "\(failures.prefix(5))")
    }
}

/// Incompressible test data, made fast (tests share Swift's small cooperative pool).
func pseudoRandomBytes(_ count: Int) -> [UInt8] {
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
        var i = 0
        while i < count {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            var word = state
            for _ in 0..<8 where i < count {
                buffer[i] = UInt8(truncatingIfNeeded: word)
                word >>= 8
                i += 1
            }
        }
        initialized = count
    }
}

func sha1Hex(_ bytes: [UInt8]) -> String {
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("sha-\(UUID())").path
    FileManager.default.createFile(atPath: file, contents: Data(bytes))
    defer { try? FileManager.default.removeItem(atPath: file) }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/sha1sum")
    p.arguments = [file]
    let pipe = Pipe()
    p.standardOutput = pipe
    try? p.run()
    p.waitUntilExit()
    return String(String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).prefix(40))
}

@Suite("agent, su and environment", .needsHosts)
struct SSHAgentSuEnvironmentTests {
    @Test func agentAuthentication() async throws {
        let t = try TestHosts.get()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("agent-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let socket = dir + "/agent.sock"
        // A private agent for this test only (the test tooling may use OpenSSH's agent; the product never does).
        let agent = Process()
        agent.executableURL = URL(fileURLWithPath: "/usr/bin/ssh-agent")
        agent.arguments = ["-D", "-a", socket]
        // No inherited pipes: a leftover agent holding the test runner's stdout would keep `swift test` waiting.
        agent.standardInput = FileHandle.nullDevice
        agent.standardOutput = FileHandle.nullDevice
        agent.standardError = FileHandle.nullDevice
        try agent.run()
        defer {
            // SIGKILL: the agent inherits the runner's blocked-signal mask, so SIGTERM may never arrive.
            kill(agent.processIdentifier, SIGKILL)
            agent.waitUntilExit()
        }
        for _ in 0..<100 where !FileManager.default.fileExists(atPath: socket) { usleep(20_000) }
        let add = Process()
        add.executableURL = URL(fileURLWithPath: "/usr/bin/ssh-add")
        add.arguments = [t.keys.ecdsa]
        add.environment = ["SSH_AUTH_SOCK": socket]
        add.standardError = FileHandle.nullDevice
        try add.run()
        add.waitUntilExit()
        #expect(add.terminationStatus == 0)
        let c = try await SSHClient().connect(
            host: t.first.address, port: t.first.port,
            credentials: SSHCredentials(user: t.users.plain.name, useAgent: true, useDefaultKeys: false, agentSocket: socket),
            options: SSHOptions(hostKeyPolicy: .strict(knownHostsFiles: [t.known_hosts])))
        #expect(String(decoding: try await c.exec("id -un").stdout, as: UTF8.self) == t.users.plain.name + "\n")
    }

    @Test func suWithPasswordOnAPty() async throws {
        let t = try TestHosts.get()
        let c = try await SSHClient().connect(
            host: t.first.address, port: t.first.port,
            credentials: SSHCredentials(user: t.users.sudopass.name, privateKeys: [SSHPrivateKey(path: t.keys.ed25519)]),
            options: SSHOptions(hostKeyPolicy: .strict(knownHostsFiles: [t.known_hosts])))
        let su = BecomeSpec(method: .su, user: t.users.plain.name, password: t.users.plain.password)
        let r = try await c.exec("id -un", become: su)
        #expect(String(decoding: r.stdout, as: UTF8.self) == t.users.plain.name + "\n")
        // The terminal neither turns "\n" into "\r\n" nor echoes: the output is what the command wrote, and
        // stderr is apart from stdout (through a file: the terminal has one stream); the exit status is the command's.
        let lines = try await c.exec("printf 'a\\nb\\r\\n\\nc'; echo err >&2; exit 3", become: su)
        #expect(String(decoding: lines.stdout, as: UTF8.self) == "a\nb\r\n\nc", "\(Array(lines.stdout))")
        #expect(String(decoding: lines.stderr, as: UTF8.self) == "err\n")
        #expect(lines.exitStatus == 3)
        // Input through the terminal arrives byte for byte (every byte value, ^C, ^D, CR, lines over 4 KB) and
        // ends; without input the command reads an empty stdin rather than waiting on the terminal.
        var bytes = [UInt8]((0...255).map { UInt8($0) })
        for _ in 0..<400 { bytes += bytes.prefix(256) }
        bytes += [UInt8](repeating: 0x61, count: 10_000)
        let echoed = try await c.exec("cat; echo end", input: .bytes(bytes), timeout: .seconds(60), become: su)
        #expect(echoed.stdout == bytes + Array("end\n".utf8), "\(echoed.stdout.count) bytes back of \(bytes.count)")
        let empty = try await c.exec("cat; echo done", timeout: .seconds(20), become: su)
        #expect(String(decoding: empty.stdout, as: UTF8.self) == "done\n")
        let missing = await sshError { try await c.exec("cat", input: .file(path: "/nonexistent/input"), become: su) }
        #expect(missing?.kind == .transfer && missing?.message.hasPrefix("could not open /nonexistent/input") == true)
        let wrong = await sshError {
            try await c.exec("id -un", timeout: .seconds(20), become: BecomeSpec(method: .su, user: t.users.plain.name, password: "wrong"))
        }
        #expect(wrong?.kind == .become)
        #expect(wrong?.message == "Incorrect su password")
    }

    @Test func environmentVariablesReachTheCommand() async throws {
        let c = try await plainConnection()
        let r = try await c.exec("printf '%s|%s' \"$GREETING\" \"$OTHER\"", environment: [("GREETING", "it's a \"test\" $x"), ("OTHER", "")])
        #expect(String(decoding: r.stdout, as: UTF8.self) == "it's a \"test\" $x|")
        let root = try await c.exec("printf %s \"$GREETING\"", become: BecomeSpec(), environment: [("GREETING", "as root")])
        #expect(String(decoding: root.stdout, as: UTF8.self) == "as root")
    }
}
