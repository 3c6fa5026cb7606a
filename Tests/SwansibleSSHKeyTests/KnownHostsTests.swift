import Testing
@testable import SwansibleSSH

/// known_hosts matching: plain names through the index, wildcards, negations and hashed names one by one, in
/// file order, case-insensitively, certificate-authority lines left out.
@Suite struct KnownHostsTests {
    static let key = base64Encode(Array("a key blob".utf8))

    static func hashed(_ name: String, salt: [UInt8]) -> String {
        "|1|" + base64Encode(salt) + "|" + base64Encode(hmacSHA1(key: salt, message: Array(name.utf8)))
    }

    static let text = [
        "# comment",
        "[127.0.0.2]:2241 ssh-ed25519 \(key) first",
        "web1,Web2.Example.com ssh-rsa \(key)",
        "*.example.com,!bad.example.com ecdsa-sha2-nistp256 \(key)",
        "\(hashed("[127.0.0.2]:2241", salt: Array(0..<20))) ssh-rsa \(key)",
        "@cert-authority *.example.com ssh-ed25519 \(key)",
        "@revoked web1 ssh-dss \(key)",
        "127.0.0.3 ssh-ed25519 \(key)",
    ].joined(separator: "\n")

    let known = KnownHosts(text: KnownHostsTests.text, file: "kh")

    func lines(_ name: String) -> [Int] { known.entries(for: name).map(\.line) }

    @Test func plainNamesAndHashedOnesInFileOrder() {
        #expect(lines("[127.0.0.2]:2241") == [2, 5])
        #expect(lines("127.0.0.3") == [8])
        #expect(lines("127.0.0.2") == [])
    }

    @Test func caseInsensitiveAndSeveralPatternsPerLine() {
        #expect(lines("web2.example.com") == [3, 4])
        #expect(lines("WEB1") == [3, 7])
    }

    @Test func wildcardsNegationsAndCertificateAuthorities() {
        #expect(lines("db.example.com") == [4])
        #expect(lines("bad.example.com") == [])
        #expect(lines("example.com") == [])
    }

    @Test func indexFollowsChangedEntries() {
        var k = known
        k.entries.removeFirst()
        #expect(k.entries(for: "[127.0.0.2]:2241").map(\.line) == [5])
        #expect(k.entries(for: "127.0.0.3").map(\.line) == [8])
    }
}
