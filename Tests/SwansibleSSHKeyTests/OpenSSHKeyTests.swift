import Foundation
import Testing
@testable import SwansibleSSH

/// A key ssh-keygen makes for a test: type, size, cipher (nil: ssh-keygen's default, aes256-ctr), kdf rounds.
struct KeyCase: CustomTestStringConvertible, Sendable {
    var type: String
    var bits: Int?
    var cipher: String?
    var rounds: Int?

    var testDescription: String {
        "\(type)\(bits.map { "-\($0)" } ?? "") \(cipher ?? "default cipher") \(rounds.map { "\($0) rounds" } ?? "")"
    }

    /// Makes the key in `dir` as `name` (and `name`.pub) with passphrase `passphrase`.
    func generate(in dir: TemporaryDirectory, name: String, passphrase: String = "pass") throws -> ProcessResult {
        var arguments = ["ssh-keygen", "-q", "-t", type, "-N", passphrase, "-C", "test key \(name)"]
        arguments += ["-f", dir.file(name)]
        if let bits { arguments += ["-b", String(bits)] }
        if let cipher { arguments += ["-Z", cipher] }
        if let rounds { arguments += ["-a", String(rounds)] }
        return try run(arguments)
    }
}

@Suite(.enabled(if: sshKeygenAvailable)) struct OpenSSHKeyTests {
    typealias Container = KeyDecryption.OpenSSHContainer

    static let cases: [KeyCase] = [
        KeyCase(type: "ed25519"),  // ssh-keygen's defaults: aes256-ctr, 16 rounds
        KeyCase(type: "ed25519", cipher: "aes128-ctr", rounds: 4),
        KeyCase(type: "ed25519", cipher: "aes192-ctr", rounds: 4),
        KeyCase(type: "ed25519", cipher: "aes256-cbc", rounds: 4),
        KeyCase(type: "ed25519", cipher: "aes128-cbc", rounds: 4),
        KeyCase(type: "ed25519", cipher: "aes192-cbc", rounds: 4),
        KeyCase(type: "ecdsa", bits: 256),
        KeyCase(type: "ecdsa", bits: 384, cipher: "aes128-ctr", rounds: 4),
        KeyCase(type: "ecdsa", bits: 521, cipher: "aes256-cbc", rounds: 4),
        KeyCase(type: "rsa", bits: 2048, rounds: 4),
        KeyCase(type: "rsa", bits: 3072, cipher: "aes128-cbc", rounds: 4),
    ]

    /// Decrypts ssh-keygen's key and checks the result against ssh-keygen itself: `ssh-keygen -y` reads it
    /// (without a passphrase) and prints the original public key, and `ssh-keygen -p -N ''` produces the same
    /// container, byte for byte apart from the random check integers.
    @Test(arguments: cases)
    func decryptsWhatSshKeygenEncrypts(_ keyCase: KeyCase) throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let made = try keyCase.generate(in: dir, name: "key")
        try #require(made.status == 0, "ssh-keygen: \(made.stderr)")
        let text = try readText(dir.file("key"))
        #expect(isEncryptedOpenSSHPrivateKey(text))

        let decrypted = try decryptOpenSSHPrivateKey(text, passphrase: "pass")
        #expect(!isEncryptedOpenSSHPrivateKey(decrypted))
        try writeBytes(Array(decrypted.utf8), to: dir.file("ours"))
        let derived = try run(["ssh-keygen", "-y", "-P", "", "-f", dir.file("ours")])
        #expect(derived.status == 0, "ssh-keygen -y: \(derived.stderr)")
        let original = try readText(dir.file("key.pub"))
        #expect(derived.stdout.split(separator: " ").prefix(2) == original.split(separator: " ").prefix(2))

        try FileManager.default.copyItem(atPath: dir.file("key"), toPath: dir.file("theirs"))
        let changed = try run(["ssh-keygen", "-p", "-P", "pass", "-N", "", "-f", dir.file("theirs")])
        try #require(changed.status == 0, "ssh-keygen -p: \(changed.stderr)")
        let theirsText = try readText(dir.file("theirs"))
        let ours = try Container(text: decrypted)
        let theirs = try Container(text: theirsText)
        #expect(ours.cipherName == "none" && ours.kdfName == "none" && ours.kdfOptions.isEmpty)
        #expect(ours.publicKey == theirs.publicKey)
        #expect(ours.privateSection.count == theirs.privateSection.count)
        #expect(ours.privateSection.count % 8 == 0)
        #expect(ours.privateSection.dropFirst(8) == theirs.privateSection.dropFirst(8))
        #expect(ours.privateSection.prefix(4) == ours.privateSection.dropFirst(4).prefix(4))
        // Same armour: 70-column lines, markers, final newline.
        #expect(decrypted.utf8.count == theirsText.utf8.count)
        #expect(decrypted.split(separator: "\n").map(\.count) == theirsText.split(separator: "\n").map(\.count))
        #expect(decrypted.hasSuffix("-----END OPENSSH PRIVATE KEY-----\n"))
    }

    @Test func wrongPassphraseIsWordedLikeOpenSSH() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try #require(try KeyCase(type: "ed25519", rounds: 4).generate(in: dir, name: "key").status == 0)
        let text = try readText(dir.file("key"))
        for wrong in ["wrong", "pas", "pass "] {
            #expect(throws: KeyDecryptionError.incorrectPassphrase) {
                try decryptOpenSSHPrivateKey(text, passphrase: wrong)
            }
        }
        // OpenSSH prints the same words, after `Load key "<path>": `, for a wrong and for an empty passphrase.
        for wrong in ["wrong", ""] {
            let keygen = try run(["ssh-keygen", "-y", "-P", wrong, "-f", dir.file("key")])
            #expect(keygen.status != 0)
            #expect(keygen.stderr.contains(": \(KeyDecryptionError.incorrectPassphrase.message)"))
        }
        #expect(throws: KeyDecryptionError.incorrectPassphrase) { try decryptOpenSSHPrivateKey(text, passphrase: "") }
        #expect(throws: KeyDecryptionError(message: "passphrase required to decrypt private key")) {
            try decryptOpenSSHPrivateKey(text, passphrase: nil)
        }
    }

    @Test func nonASCIIPassphraseIsUsedAsUTF8() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let passphrase = "pässwörd ✓"
        try #require(try KeyCase(type: "ed25519", rounds: 2).generate(in: dir, name: "key", passphrase: passphrase)
            .status == 0)
        let text = try readText(dir.file("key"))
        let decrypted = try decryptOpenSSHPrivateKey(text, passphrase: passphrase)
        #expect(try Container(text: decrypted).cipherName == "none")
    }

    @Test func crlfLineEndingsAreAccepted() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try #require(try KeyCase(type: "ed25519", rounds: 2).generate(in: dir, name: "key").status == 0)
        let text = try readText(dir.file("key"))
        let unix = try decryptOpenSSHPrivateKey(text, passphrase: "pass")
        let crlf = text.replacingOccurrences(of: "\n", with: "\r\n")
        let windows = try decryptOpenSSHPrivateKey(crlf, passphrase: "pass")
        #expect(unix == windows)
    }

    @Test(arguments: ["aes128-gcm@openssh.com", "chacha20-poly1305@openssh.com"])
    func otherCiphersAreReportedByName(_ cipher: String) throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let made = try KeyCase(type: "ed25519", cipher: cipher, rounds: 2).generate(in: dir, name: "key")
        try #require(made.status == 0, "ssh-keygen: \(made.stderr)")
        let text = try readText(dir.file("key"))
        #expect(isEncryptedOpenSSHPrivateKey(text))
        #expect(throws: KeyDecryptionError(message: "unsupported cipher '\(cipher)'")) {
            try decryptOpenSSHPrivateKey(text, passphrase: "pass")
        }
    }

    @Test func unencryptedKeyIsReturnedUnchanged() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try #require(try KeyCase(type: "ed25519").generate(in: dir, name: "key", passphrase: "").status == 0)
        let text = try readText(dir.file("key"))
        #expect(!isEncryptedOpenSSHPrivateKey(text))
        #expect(try decryptOpenSSHPrivateKey(text, passphrase: nil) == text)
        #expect(try decryptOpenSSHPrivateKey(text, passphrase: "ignored") == text)
    }

    @Test func pemFormatKeysAreNotOpenSSHKeys() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let made = try run(
            ["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-m", "PEM", "-N", "passphrase", "-f", dir.file("key")])
        try #require(made.status == 0)
        let text = try readText(dir.file("key"))
        #expect(text.hasPrefix("-----BEGIN RSA PRIVATE KEY-----"))
        #expect(!isEncryptedOpenSSHPrivateKey(text))
        #expect(throws: KeyDecryptionError.invalidFormat) {
            try decryptOpenSSHPrivateKey(text, passphrase: "passphrase")
        }
    }

    @Test func damagedFilesAreInvalidFormat() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try #require(try KeyCase(type: "ed25519", rounds: 2).generate(in: dir, name: "key").status == 0)
        let text = try readText(dir.file("key"))
        var lines = text.split(separator: "\n").map(String.init)
        let begin = lines.removeFirst(), end = lines.removeLast()
        let damaged = [
            "",
            "hello",
            "\(begin)\n\(end)\n",
            "\(begin)\n" + lines.joined(separator: "\n") + "\n",  // no end marker
            "\(begin)\n" + lines.prefix(lines.count / 2).joined(separator: "\n") + "\n\(end)\n",  // truncated
            "\(begin)\n" + lines.joined(separator: "\n").replacingOccurrences(of: "b3Bl", with: "b3Bm") + "\n\(end)\n",
            "\(begin)\n*" + lines.joined(separator: "\n") + "\n\(end)\n",
        ]
        for text in damaged {
            #expect(throws: KeyDecryptionError.invalidFormat, "\(text)") {
                try decryptOpenSSHPrivateKey(text, passphrase: "pass")
            }
        }
    }
}

/// Containers built by hand for what ssh-keygen never writes.
@Suite struct OpenSSHContainerTests {
    typealias Container = KeyDecryption.OpenSSHContainer

    static func armour(cipher: String, kdf: String, kdfOptions: [UInt8] = [], keys: UInt32 = 1,
                       privateSection: [UInt8] = [UInt8](repeating: 0, count: 32), trailing: [UInt8] = []) -> String {
        var blob = Container.magic
        KeyDecryption.appendString(Array(cipher.utf8), to: &blob)
        KeyDecryption.appendString(Array(kdf.utf8), to: &blob)
        KeyDecryption.appendString(kdfOptions, to: &blob)
        KeyDecryption.appendU32(keys, to: &blob)
        KeyDecryption.appendString(Array("public".utf8), to: &blob)
        KeyDecryption.appendString(privateSection, to: &blob)
        blob += trailing
        return "\(Container.beginMarker)\n"
            + String(decoding: KeyDecryption.Base64.encode(blob), as: UTF8.self) + "\n\(Container.endMarker)\n"
    }

    static let bcryptOptions: [UInt8] = {
        var options: [UInt8] = []
        KeyDecryption.appendString([UInt8](repeating: 7, count: 16), to: &options)
        KeyDecryption.appendU32(1, to: &options)
        return options
    }()

    @Test func headerErrors() {
        func decrypt(_ text: String) throws(KeyDecryptionError) {
            _ = try decryptOpenSSHPrivateKey(text, passphrase: "p")
        }
        #expect(throws: KeyDecryptionError(message: "unsupported kdf 'scrypt'")) {
            try decrypt(Self.armour(cipher: "aes256-ctr", kdf: "scrypt"))
        }
        #expect(throws: KeyDecryptionError(message: "unsupported cipher 'blowfish-cbc'")) {
            try decrypt(Self.armour(cipher: "blowfish-cbc", kdf: "bcrypt", kdfOptions: Self.bcryptOptions))
        }
        // A cipher without a kdf, two keys, a section that is not whole blocks, bytes after it, no kdf options.
        let invalid = [
            Self.armour(cipher: "aes256-ctr", kdf: "none"),
            Self.armour(cipher: "aes256-ctr", kdf: "bcrypt", kdfOptions: Self.bcryptOptions, keys: 2),
            Self.armour(cipher: "aes256-ctr", kdf: "bcrypt", kdfOptions: Self.bcryptOptions,
                        privateSection: [UInt8](repeating: 0, count: 40)),
            Self.armour(cipher: "aes256-ctr", kdf: "bcrypt", kdfOptions: Self.bcryptOptions, trailing: [0]),
            Self.armour(cipher: "aes256-ctr", kdf: "bcrypt"),
            Self.armour(cipher: "none", kdf: "none", trailing: [0]),
        ]
        for text in invalid {
            #expect(throws: KeyDecryptionError.invalidFormat) { try decrypt(text) }
        }
        #expect(!isEncryptedOpenSSHPrivateKey(Self.armour(cipher: "none", kdf: "none")))
        #expect(isEncryptedOpenSSHPrivateKey(Self.armour(cipher: "aes256-ctr", kdf: "bcrypt")))
    }

    /// A decrypted ed25519 private section: check integers, type, public and private key, comment, padding.
    static func section(check: (UInt32, UInt32) = (0x1234_5678, 0x1234_5678), type: String = "ssh-ed25519",
                        comment: String = "me@host", padding: [UInt8]? = nil, blockSize: Int = 16) -> [UInt8] {
        var out: [UInt8] = []
        KeyDecryption.appendU32(check.0, to: &out)
        KeyDecryption.appendU32(check.1, to: &out)
        KeyDecryption.appendString(Array(type.utf8), to: &out)
        KeyDecryption.appendString([UInt8](repeating: 0xaa, count: 32), to: &out)
        KeyDecryption.appendString([UInt8](repeating: 0xbb, count: 64), to: &out)
        KeyDecryption.appendString(Array(comment.utf8), to: &out)
        if let padding { return out + padding }
        var pad: UInt8 = 1
        while out.count % blockSize != 0 {
            out.append(pad)
            pad += 1
        }
        return out
    }

    @Test func repaddingForBlockSizeEight() throws {
        // 4 + 4 + 15 + 36 + 68 + 4 + 7 = 138 bytes: 6 bytes of padding for 16, 6 for 8.
        // With a 5-byte comment: 136 bytes, 8 bytes of padding for 16 and none for 8.
        for comment in ["me@host", "me@ho", ""] {
            let repadded = try Container.repad(Self.section(comment: comment))
            let unpadded = Self.section(comment: comment, padding: [])
            #expect(repadded.count % 8 == 0)
            #expect(repadded.count - unpadded.count < 8)
            #expect(Array(repadded.prefix(unpadded.count)) == unpadded)
            let padding: [UInt8] = (0..<repadded.count - unpadded.count).map { UInt8($0 + 1) }
            #expect(Array(repadded.dropFirst(unpadded.count)) == padding)
        }
    }

    @Test func checkIntegersAndPaddingAreVerified() throws {
        #expect(throws: KeyDecryptionError.incorrectPassphrase) {
            try Container.repad(Self.section(check: (1, 2)))
        }
        #expect(throws: KeyDecryptionError.invalidFormat) {
            try Container.repad(Self.section(padding: [1, 2, 4, 4, 5, 6]))
        }
        #expect(throws: KeyDecryptionError.invalidFormat) {
            try Container.repad(Array(Self.section(padding: []).dropLast(1)))
        }
        // A key type this code does not know keeps its (valid) padding as it is.
        let unknown = Self.section(type: "ssh-xmss@openssh.com")
        #expect(try Container.repad(unknown) == unknown)
    }
}
