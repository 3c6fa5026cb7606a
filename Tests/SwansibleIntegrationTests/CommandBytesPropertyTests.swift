import Foundation
@testable import SwansibleCore
import SwansibleData
import SwansibleSSH
import Testing

/// A random argument: any bytes but NUL, with the ones quoting gets wrong most often (quotes, backslash, `$`,
/// newline, space) and bytes that are not UTF-8 (lone continuation bytes, truncated sequences, 0xFF) overweighted.
private func randomBytes(_ g: inout SplitMix) -> [UInt8] {
    let special: [UInt8] = [0x27, 0x22, 0x5C, 0x24, 0x0A, 0x20, 0x60, 0x2A, 0x3F, 0x7E, 0x80, 0xBF, 0xC3, 0xE2, 0xF0, 0xFF, 0xFE, 0xED]
    return (0..<Int.random(in: 0...12, using: &g)).map { _ in
        Int.random(in: 0..<3, using: &g) == 0 ? special.randomElement(using: &g)! : UInt8.random(in: 1...255, using: &g)
    }
}

private func randomLists(_ count: Int, seed: UInt64) -> [[[UInt8]]] {
    var g = SplitMix(state: seed)
    return (0..<count).map { _ in (0..<Int.random(in: 0...4, using: &g)).map { _ in randomBytes(&g) } }
}

/// Splits NUL-terminated fields: `count`, then that many arguments, per list.
private func parseDump(_ out: [UInt8]) -> [[[UInt8]]] {
    var fields = out.split(separator: 0, omittingEmptySubsequences: false).map(Array.init)
    if fields.last == [] { fields.removeLast() }
    var lists: [[[UInt8]]] = []
    var i = 0
    while i < fields.count {
        let n = Int(String(decoding: fields[i], as: UTF8.self)) ?? -1
        guard n >= 0, i + n < fields.count else { break }
        lists.append(Array(fields[(i + 1)..<(i + 1 + n)]))
        i += n + 1
    }
    return lists
}

@Suite("Modules: arguments of any bytes but NUL arrive exactly", .needsHosts)
struct CommandBytesPropertyTests {
    /// 10,000 random argument lists of arbitrary non-NUL bytes (as Swift strings with raw-byte escapes), quoted
    /// word by word as the command module quotes argv, sent over real SSH 1,000 lists per exec; the target's
    /// shell dumps each list NUL-separated and the bytes are compared exactly.
    @Test func tenThousandByteArgumentListsArriveExactlyOverSSH() async throws {
        let c = try await plainConnection()
        try await checkBatches(c, randomLists(10_000, seed: 0xB17E5), batch: 1_000)
    }

    /// The same through BusyBox ash on the appliance (1,000 lists).
    @Test func byteArgumentListsArriveExactlyOnTheAppliance() async throws {
        let hosts = try TestHosts.get()
        let c = try await SSHClient().connect(
            host: hosts.appliance.address, port: hosts.appliance.port,
            credentials: SSHCredentials(user: hosts.appliance.name, privateKeys: [SSHPrivateKey(path: hosts.keys.ed25519)],
                                        useAgent: false, useDefaultKeys: false),
            options: SSHOptions(hostKeyPolicy: .strict(knownHostsFiles: [hosts.known_hosts])))
        try await checkBatches(c, randomLists(1_000, seed: 0xA5B1), batch: 500)
    }

    private func checkBatches(_ c: SSHConnection, _ lists: [[[UInt8]]], batch: Int) async throws {
        var exact = 0
        for start in stride(from: 0, to: lists.count, by: batch) {
            let chunk = Array(lists[start..<min(start + batch, lists.count)])
            var script = "_p() { printf '%s\\0' \"$#\" \"$@\"; }\n"
            for list in chunk {
                script += "_p " + list.map { shellQuote(String(escapingInvalidUTF8: $0)) }.joined(separator: " ") + "\n"
            }
            let r = try await c.exec(script)
            #expect(r.exitStatus == 0, "\(String(decoding: r.stderr, as: UTF8.self))")
            let got = parseDump(r.stdout)
            #expect(got.count == chunk.count)
            for (i, list) in chunk.enumerated() where i < got.count {
                if got[i] == list { exact += 1 } else {
                    Issue.record("list \(start + i): sent \(list) arrived as \(got[i])")
                }
            }
        }
        #expect(exact == lists.count)
    }

    /// End to end through the command module (argv, and the free form split as shlex splits it), over SSH: 300
    /// lists each. The program prints its arguments in hex (`od`), since output that is not UTF-8 fails the
    /// task as in ansible-core.
    @Test func byteArgumentsThroughTheCommandModule() async throws {
        let connection = try await plainConnection()
        let context = ModuleContext(hostName: "t", connection: connection, become: nil, checkMode: false, diffMode: false,
                                    environment: [], timeout: nil, searchPaths: [])
        let command = try #require(ModuleRegistry.module("command"))
        let dump = "printf '%s\\0' \"$@\" | od -An -tx1 -v"
        var exact = 0
        for (i, list) in randomLists(300, seed: 0xF7EE).enumerated() {
            let words = list.map { String(escapingInvalidUTF8: $0) }
            let argv: [Value] = ["sh", "-c", .string(dump), "sh"] + words.map(Value.string)
            let free = "sh -c \(shlexWord(dump)) sh " + words.map(shlexWord).joined(separator: " ")
            for args: ValueDict in [["argv": .list(argv), "expand_argument_vars": false],
                                    ["_raw_params": .string(free), "expand_argument_vars": false]] {
                guard case .result(let r) = await command.run(args, context) else {
                    Issue.record("list \(i): unreachable")
                    continue
                }
                let hex = (r["stdout"]?.stringValue ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" })
                let got = hex.compactMap { UInt8($0, radix: 16) }
                let expected: [UInt8] = list.isEmpty ? [0] : list.flatMap { $0 + [UInt8(0)] }
                if r["rc"]?.intValue == 0, got == expected { exact += 1 } else {
                    Issue.record("list \(i) (\(args.keys.first!)): sent \(list) arrived as \(got): \(r["msg"] ?? "")")
                }
            }
        }
        #expect(exact == 600)
    }

    /// Decoding and encoding round-trip every byte string, and valid UTF-8 decodes as plain text.
    @Test func rawBytesRoundTrip() {
        var g = SplitMix(state: 99)
        for _ in 0..<20_000 {
            let bytes = (0..<Int.random(in: 0...16, using: &g)).map { _ in UInt8.random(in: 0...255, using: &g) }
            #expect(String(escapingInvalidUTF8: bytes).escapedBytes == bytes)
        }
        // The UTF-8 form of an escape scalar itself stays four raw bytes, so it round-trips too.
        let escapeUTF8: [UInt8] = Array("\u{10FFFF}".utf8)
        #expect(String(escapingInvalidUTF8: escapeUTF8).escapedBytes == escapeUTF8)
        #expect(String(escapingInvalidUTF8: Array("café 😀".utf8)) == "café 😀")
        #expect(RawBytes.firstInvalid(Array("é x".utf8) + [0xC3, 0x28])?.position == 3)
    }
}

/// Single-quotes a word for shlex (what a user writes in a free-form command).
private func shlexWord(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\"'\"'") + "'" }
