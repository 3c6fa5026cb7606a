/// Why an OpenSSH private key could not be decrypted, worded like OpenSSH's ssh-keygen and ssh
/// (which print it after `Load key "<path>": `).
struct KeyDecryptionError: Error, Equatable, Sendable {
    var message: String

    /// The key is not an openssh-key-v1 file, or its contents are damaged (OpenSSH: "invalid format").
    static let invalidFormat = KeyDecryptionError(message: "invalid format")
    /// The passphrase does not decrypt the key (OpenSSH's words, also for an empty passphrase).
    static let incorrectPassphrase = KeyDecryptionError(message: "incorrect passphrase supplied to decrypt private key")
    /// The key is encrypted and no passphrase was given.
    static let passphraseRequired = KeyDecryptionError(message: "passphrase required to decrypt private key")
}

/// Decrypts an OpenSSH private key file's text (`-----BEGIN OPENSSH PRIVATE KEY-----`, "openssh-key-v1") with
/// `passphrase`, returning the text of the same key re-encoded as an unencrypted openssh-key-v1 PEM (cipher
/// "none", kdf "none"), which libssh2 1.10 accepts via `libssh2_userauth_publickey_frommemory`. Unencrypted
/// input is returned unchanged.
///
/// This runs bcrypt_pbkdf once, so a run decrypts each key once instead of libssh2 doing it for every host.
/// Supports the kdf "bcrypt" with ciphers aes128-ctr, aes192-ctr, aes256-ctr (ssh-keygen's default),
/// aes128-cbc, aes192-cbc and aes256-cbc.
///
/// Errors: a nil passphrase for an encrypted key gives "passphrase required to decrypt private key"; a wrong
/// or empty one "incorrect passphrase supplied to decrypt private key"; another cipher or kdf
/// "unsupported cipher '<name>'" or "unsupported kdf '<name>'"; anything else "invalid format".
func decryptOpenSSHPrivateKey(_ text: String, passphrase: String?) throws(KeyDecryptionError) -> String {
    var container = try KeyDecryption.OpenSSHContainer(text: text)
    defer { container.wipe() }
    if container.cipherName == "none" && container.kdfName == "none" {
        guard container.trailingCount == 0 else { throw .invalidFormat }
        return text
    }
    var plain = try container.decrypt(passphrase: passphrase)
    defer { KeyDecryption.wipe(&plain) }
    var encoded = KeyDecryption.OpenSSHContainer.unencryptedPEM(publicKey: container.publicKey, privateSection: plain)
    defer { KeyDecryption.wipe(&encoded) }
    return String(decoding: encoded, as: UTF8.self)
}

/// Whether `text` is an openssh-key-v1 private key protected by a passphrase (its cipher is not "none").
/// False for unencrypted keys and for anything that is not an OpenSSH private key (such as the PEM formats
/// libssh2 decrypts itself, cheaply).
func isEncryptedOpenSSHPrivateKey(_ text: String) -> Bool {
    guard var container = try? KeyDecryption.OpenSSHContainer(text: text) else { return false }
    defer { container.wipe() }
    return container.cipherName != "none" || container.kdfName != "none"
}

extension KeyDecryption {
    /// The ciphers OpenSSH may protect a key file with that are supported here.
    struct KeyCipher {
        enum Mode { case ctr, cbc }
        var name: String
        var keySize: Int
        var mode: Mode
        static let blockSize = 16
        static let ivSize = 16

        static func named(_ name: String) -> KeyCipher? {
            switch name {
            case "aes128-ctr": KeyCipher(name: name, keySize: 16, mode: .ctr)
            case "aes192-ctr": KeyCipher(name: name, keySize: 24, mode: .ctr)
            case "aes256-ctr": KeyCipher(name: name, keySize: 32, mode: .ctr)
            case "aes128-cbc": KeyCipher(name: name, keySize: 16, mode: .cbc)
            case "aes192-cbc": KeyCipher(name: name, keySize: 24, mode: .cbc)
            case "aes256-cbc": KeyCipher(name: name, keySize: 32, mode: .cbc)
            default: nil
            }
        }
    }

    /// Reads SSH wire-format values (RFC 4251 §5) from a byte array, failing with "invalid format".
    struct WireReader {
        let bytes: [UInt8]
        var offset: Int

        init(_ bytes: [UInt8], offset: Int = 0) {
            self.bytes = bytes
            self.offset = offset
        }

        var remaining: Int { bytes.count - offset }

        mutating func u8() throws(KeyDecryptionError) -> UInt8 {
            guard remaining >= 1 else { throw .invalidFormat }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func u32() throws(KeyDecryptionError) -> UInt32 {
            guard remaining >= 4 else { throw .invalidFormat }
            defer { offset += 4 }
            return UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16
                | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
        }

        /// The range of a length-prefixed string's contents, consumed.
        mutating func stringRange() throws(KeyDecryptionError) -> Range<Int> {
            let count = Int(try u32())
            guard remaining >= count else { throw .invalidFormat }
            defer { offset += count }
            return offset..<offset + count
        }

        mutating func string() throws(KeyDecryptionError) -> [UInt8] {
            Array(bytes[try stringRange()])
        }

        mutating func text() throws(KeyDecryptionError) -> String {
            let range = try stringRange()
            return String(decoding: bytes[range], as: UTF8.self)
        }
    }

    /// Appends SSH wire-format values.
    static func appendU32(_ value: UInt32, to out: inout [UInt8]) {
        out.append(UInt8(value >> 24))
        out.append(UInt8((value >> 16) & 0xff))
        out.append(UInt8((value >> 8) & 0xff))
        out.append(UInt8(value & 0xff))
    }

    static func appendString(_ value: some Collection<UInt8>, to out: inout [UInt8]) {
        appendU32(UInt32(value.count), to: &out)
        out.append(contentsOf: value)
    }

    /// An openssh-key-v1 file as PROTOCOL.key in OpenSSH's sources describes it: the magic "openssh-key-v1\0",
    /// then string ciphername, string kdfname, string kdfoptions, uint32 number of keys (always 1), string
    /// public key, string private section (encrypted unless the cipher is "none").
    struct OpenSSHContainer {
        static let beginMarker = "-----BEGIN OPENSSH PRIVATE KEY-----"
        static let endMarker = "-----END OPENSSH PRIVATE KEY-----"
        static let magic = Array("openssh-key-v1".utf8) + [0]
        /// ssh-keygen wraps the base64 text at 70 columns.
        static let lineWidth = 70

        var cipherName: String
        var kdfName: String
        var kdfOptions: [UInt8]
        var publicKey: [UInt8]
        var privateSection: [UInt8]
        /// How many bytes follow the private section (an AEAD cipher's tag; none for the supported ciphers).
        var trailingCount: Int

        /// Parses the armoured text; throws "invalid format" for anything that is not a well-formed
        /// openssh-key-v1 file with one key.
        init(text: String) throws(KeyDecryptionError) {
            var blob = try Self.dearmor(text)
            defer { KeyDecryption.wipe(&blob) }
            guard blob.starts(with: Self.magic) else { throw .invalidFormat }
            var reader = WireReader(blob, offset: Self.magic.count)
            cipherName = try reader.text()
            kdfName = try reader.text()
            kdfOptions = try reader.string()
            guard try reader.u32() == 1 else { throw .invalidFormat }
            publicKey = try reader.string()
            privateSection = try reader.string()
            trailingCount = reader.remaining
        }

        mutating func wipe() {
            KeyDecryption.wipe(&privateSection)
        }

        /// The base64 between the markers, decoded.
        static func dearmor(_ text: String) throws(KeyDecryptionError) -> [UInt8] {
            var body: [UInt8] = []
            defer { KeyDecryption.wipe(&body) }
            var state = 0  // 0: before the begin marker, 1: inside, 2: after the end marker
            for rawLine in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
                var line = rawLine[...]
                while let last = line.last, last == UInt8(ascii: "\r") || last == UInt8(ascii: " ")
                    || last == UInt8(ascii: "\t") {
                    line = line.dropLast()
                }
                if state == 0 {
                    if line.elementsEqual(beginMarker.utf8) { state = 1 }
                } else if line.elementsEqual(endMarker.utf8) {
                    state = 2
                    break
                } else {
                    body.append(contentsOf: line)
                }
            }
            guard state == 2, !body.isEmpty, let blob = Base64.decode(body) else { throw .invalidFormat }
            return blob
        }

        /// Decrypts the private section and returns it ready for cipher "none": check integers, the key, its
        /// comment, then padding 1, 2, 3, ... to a multiple of 8 bytes.
        func decrypt(passphrase: String?) throws(KeyDecryptionError) -> [UInt8] {
            guard let cipher = KeyCipher.named(cipherName) else {
                throw KeyDecryptionError(message: "unsupported cipher '\(cipherName)'")
            }
            guard kdfName == "bcrypt" else {
                if kdfName == "none" { throw .invalidFormat }
                throw KeyDecryptionError(message: "unsupported kdf '\(kdfName)'")
            }
            // None of the supported ciphers appends an authentication tag, so nothing may follow.
            guard trailingCount == 0 else { throw .invalidFormat }
            guard let passphrase else { throw .passphraseRequired }
            guard !passphrase.isEmpty else { throw .incorrectPassphrase }
            guard privateSection.count >= KeyCipher.blockSize, privateSection.count % KeyCipher.blockSize == 0
            else { throw .invalidFormat }

            var options = WireReader(kdfOptions)
            let salt = try options.string()
            let rounds = try options.u32()
            var password = Array(passphrase.utf8)
            defer { KeyDecryption.wipe(&password) }
            guard var derived = BcryptPBKDF.derive(
                password: password, salt: salt, rounds: rounds, keyCount: cipher.keySize + KeyCipher.ivSize)
            else { throw .invalidFormat }
            defer { KeyDecryption.wipe(&derived) }
            var key = Array(derived[0..<cipher.keySize])
            defer { KeyDecryption.wipe(&key) }
            let iv = Array(derived[cipher.keySize...])
            guard let aes = AES(key: key) else { throw .invalidFormat }

            var plain: [UInt8]
            switch cipher.mode {
            case .ctr: plain = aes.ctr(privateSection, counter: iv)
            case .cbc: plain = aes.cbcDecrypt(privateSection, iv: iv)
            }
            do {
                return try Self.repad(plain)
            } catch {
                KeyDecryption.wipe(&plain)
                throw error
            }
        }

        /// Checks the decrypted private section (check integers, padding) and re-pads it for block size 8.
        /// Keys of types not listed here keep their padding, which is valid as it is: the private section of a
        /// supported cipher is a multiple of 16 bytes long.
        static func repad(_ plain: [UInt8]) throws(KeyDecryptionError) -> [UInt8] {
            var reader = WireReader(plain)
            let check1 = try reader.u32()
            let check2 = try reader.u32()
            guard check1 == check2 else { throw .incorrectPassphrase }
            let keyType = try reader.text()
            // What follows the key type, up to the comment: s = string or mpint, b = byte.
            let fields: String
            switch keyType {
            case "ssh-ed25519": fields = "ss"
            case "ssh-rsa": fields = "ssssss"
            case "ssh-dss": fields = "sssss"
            case "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521": fields = "sss"
            case "sk-ssh-ed25519@openssh.com": fields = "ssbss"
            case "sk-ecdsa-sha2-nistp256@openssh.com": fields = "sssbss"
            default: return plain
            }
            for field in fields.utf8 {
                if field == UInt8(ascii: "s") { _ = try reader.stringRange() } else { _ = try reader.u8() }
            }
            _ = try reader.stringRange()  // the comment
            let end = reader.offset
            // The padding is 1, 2, 3, ... (OpenSSH rejects anything else).
            var expected: UInt8 = 1
            while reader.remaining > 0 {
                guard try reader.u8() == expected else { throw .invalidFormat }
                expected &+= 1
            }
            var out = Array(plain[0..<end])
            var pad: UInt8 = 1
            while out.count % 8 != 0 {
                out.append(pad)
                pad += 1
            }
            return out
        }

        /// The PEM text of an unencrypted openssh-key-v1 file holding `publicKey` and `privateSection`.
        static func unencryptedPEM(publicKey: [UInt8], privateSection: [UInt8]) -> [UInt8] {
            var blob = magic
            appendString(Array("none".utf8), to: &blob)
            appendString(Array("none".utf8), to: &blob)
            appendString([UInt8](), to: &blob)
            appendU32(1, to: &blob)
            appendString(publicKey, to: &blob)
            appendString(privateSection, to: &blob)
            var encoded = Base64.encode(blob)
            KeyDecryption.wipe(&blob)
            var out = Array(beginMarker.utf8) + [UInt8(ascii: "\n")]
            out.reserveCapacity(out.count + encoded.count + encoded.count / lineWidth + endMarker.utf8.count + 2)
            var offset = 0
            while offset < encoded.count {
                let end = min(offset + lineWidth, encoded.count)
                out.append(contentsOf: encoded[offset..<end])
                out.append(UInt8(ascii: "\n"))
                offset = end
            }
            KeyDecryption.wipe(&encoded)
            out.append(contentsOf: endMarker.utf8)
            out.append(UInt8(ascii: "\n"))
            return out
        }
    }
}
