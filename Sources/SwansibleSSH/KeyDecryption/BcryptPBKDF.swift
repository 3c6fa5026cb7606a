extension KeyDecryption {
    /// The key derivation function OpenSSH uses for "bcrypt" keys: OpenBSD's bcrypt_pbkdf(3), a PBKDF2-like
    /// construction whose pseudo-random function is a bcrypt-style hash of SHA-512 digests.
    enum BcryptPBKDF {
        /// The output of one `hash` call, in bytes.
        static let hashSize = 32

        /// Derives `keyCount` bytes from `password` and `salt` with `rounds` rounds.
        /// Returns nil for what OpenBSD's implementation rejects: an empty password or salt, zero rounds,
        /// no output or more than 1024 bytes of it, a salt longer than 1 MiB.
        static func derive(password: [UInt8], salt: [UInt8], rounds: UInt32, keyCount: Int) -> [UInt8]? {
            guard rounds >= 1, !password.isEmpty, !salt.isEmpty, keyCount > 0, keyCount <= hashSize * hashSize,
                  salt.count <= 1 << 20
            else { return nil }
            // Output byte i of block b goes to key[i * stride + b]: every block contributes to the whole key.
            let stride = (keyCount + hashSize - 1) / hashSize
            let perBlock = (keyCount + stride - 1) / stride
            var key = [UInt8](repeating: 0, count: keyCount)
            var passDigest = SHA512.hash(password)
            let blowfish = Blowfish()
            defer { wipe(&passDigest) }

            var remaining = keyCount
            var blockNumber: UInt32 = 1
            while remaining > 0 {
                var countSalt = salt + [
                    UInt8(blockNumber >> 24), UInt8((blockNumber >> 16) & 0xff),
                    UInt8((blockNumber >> 8) & 0xff), UInt8(blockNumber & 0xff),
                ]
                var saltDigest = SHA512.hash(countSalt)
                var block = hash(passDigest: passDigest, saltDigest: saltDigest, using: blowfish)
                var accumulated = block
                for _ in 1..<rounds {
                    wipe(&saltDigest)
                    saltDigest = SHA512.hash(block)
                    wipe(&block)
                    block = hash(passDigest: passDigest, saltDigest: saltDigest, using: blowfish)
                    for i in 0..<hashSize { accumulated[i] ^= block[i] }
                }
                let count = min(perBlock, remaining)
                var written = 0
                for i in 0..<count {
                    let destination = i * stride + Int(blockNumber - 1)
                    if destination >= keyCount { break }
                    key[destination] = accumulated[i]
                    written += 1
                }
                remaining -= written
                blockNumber += 1
                wipe(&countSalt)
                wipe(&saltDigest)
                wipe(&block)
                wipe(&accumulated)
            }
            return key
        }

        /// bcrypt_pbkdf's inner hash: an expensive Blowfish key schedule over the two digests, then 64
        /// encryptions of "OxychromaticBlowfishSwatDynamite"; the eight words come out little-endian.
        static func hash(passDigest: [UInt8], saltDigest: [UInt8], using blowfish: Blowfish) -> [UInt8] {
            blowfish.reset()
            blowfish.expand(key: passDigest, salt: saltDigest)
            var passWords = Blowfish.words(passDigest, count: 18)
            var saltWords = Blowfish.words(saltDigest, count: 18)
            passWords.withUnsafeBufferPointer { pass in
                saltWords.withUnsafeBufferPointer { salt in
                    for _ in 0..<64 {
                        blowfish.expand0(keyWords: salt)
                        blowfish.expand0(keyWords: pass)
                    }
                }
            }
            wipe(&passWords)
            wipe(&saltWords)
            var text = Blowfish.words(Array("OxychromaticBlowfishSwatDynamite".utf8), count: 8)
            for _ in 0..<64 {
                var i = 0
                while i < 8 {
                    var left = text[i], right = text[i + 1]
                    blowfish.encrypt(&left, &right)
                    text[i] = left
                    text[i + 1] = right
                    i += 2
                }
            }
            var out = [UInt8](repeating: 0, count: hashSize)
            for (i, word) in text.enumerated() {
                out[4 * i] = UInt8(word & 0xff)
                out[4 * i + 1] = UInt8((word >> 8) & 0xff)
                out[4 * i + 2] = UInt8((word >> 16) & 0xff)
                out[4 * i + 3] = UInt8(word >> 24)
            }
            wipe(&text)
            return out
        }
    }
}
