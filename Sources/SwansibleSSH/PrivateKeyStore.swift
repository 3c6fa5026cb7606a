import Synchronization

/// A private key as handed to libssh2.
struct PrivateKeyMaterial: Sendable {
    var pem: [UInt8]
    var passphrase: String?
    var isRSA: Bool
}

/// Reads each private key file once per run and keeps it for every host.
final class PrivateKeyStore: Sendable {
    private let cache = Mutex<[SSHPrivateKey: Result<PrivateKeyMaterial, SSHError>]>([:])

    func material(for key: SSHPrivateKey) -> Result<PrivateKeyMaterial, SSHError> {
        if let cached = cache.withLock({ $0[key] }) { return cached }
        let result = Self.load(key)
        cache.withLock { $0[key] = result }
        return result
    }

    private static func load(_ key: SSHPrivateKey) -> Result<PrivateKeyMaterial, SSHError> {
        let path = expandTilde(key.path)
        let bytes: [UInt8]
        do {
            bytes = try readFile(path)
        } catch {
            return .failure(SSHError(.privateKey, "Load key \"\(key.path)\": \(error.message)"))
        }
        let text = String(decoding: bytes, as: UTF8.self)
        guard text.contains("PRIVATE KEY-----") else {
            return .failure(SSHError(.privateKey, "Load key \"\(key.path)\": invalid format"))
        }
        if isEncryptedOpenSSHPrivateKey(text) {
            // Decrypt once here (bcrypt_pbkdf costs ~100 ms) instead of letting libssh2 do it per host.
            do {
                let plain = try decryptOpenSSHPrivateKey(text, passphrase: key.passphrase)
                return .success(PrivateKeyMaterial(pem: Array(plain.utf8), passphrase: nil, isRSA: isRSAKey(plain)))
            } catch {
                return .failure(SSHError(.privateKey, "Load key \"\(key.path)\": \(error.message)"))
            }
        }
        return .success(PrivateKeyMaterial(pem: bytes, passphrase: key.passphrase, isRSA: isRSAKey(text)))
    }

    /// Whether a PEM or OpenSSH private key holds an RSA key.
    static func isRSAKey(_ text: String) -> Bool {
        if text.contains("BEGIN RSA PRIVATE KEY") { return true }
        guard text.contains("BEGIN OPENSSH PRIVATE KEY") else { return false }
        let body = text.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        guard let blob = base64Decode(body) else { return false }
        // "openssh-key-v1\0", then cipher, kdf, kdf options (strings), key count, public key blob.
        var offset = 15
        func string() -> [UInt8]? {
            guard offset + 4 <= blob.count else { return nil }
            let n = Int(blob[offset]) << 24 | Int(blob[offset + 1]) << 16 | Int(blob[offset + 2]) << 8 | Int(blob[offset + 3])
            guard n >= 0, offset + 4 + n <= blob.count else { return nil }
            defer { offset += 4 + n }
            return Array(blob[offset + 4..<offset + 4 + n])
        }
        guard string() != nil, string() != nil, string() != nil else { return false }
        offset += 4
        guard let publicKey = string() else { return false }
        return keyTypeName(ofBlob: publicKey) == "ssh-rsa"
    }
}
