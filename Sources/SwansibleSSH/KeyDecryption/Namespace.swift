#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// The pure-Swift cryptography used to decrypt passphrase-protected OpenSSH private keys once per run:
/// SHA-512 (FIPS 180-4), Blowfish and OpenBSD's bcrypt_pbkdf, AES (FIPS 197) in CTR and CBC modes
/// (SP 800-38A), base64 (RFC 4648), and the openssh-key-v1 container.
enum KeyDecryption {
    /// Overwrites `bytes` with zeros in a way the optimiser may not drop (best effort: copies that Swift made
    /// earlier, e.g. on copy-on-write, are out of reach).
    static func wipe(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { wipe($0) }
    }

    static func wipe(_ words: inout [UInt32]) {
        words.withUnsafeMutableBytes { wipe($0) }
    }

    static func wipe(_ words: inout [UInt64]) {
        words.withUnsafeMutableBytes { wipe($0) }
    }

    static func wipe(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        #if canImport(Glibc)
        explicit_bzero(base, buffer.count)
        #else
        _ = memset_s(base, buffer.count, 0, buffer.count)
        #endif
    }
}
