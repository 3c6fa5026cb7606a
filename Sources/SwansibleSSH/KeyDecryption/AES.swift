extension KeyDecryption {
    /// The AES block cipher (FIPS 197) for 128, 192 and 256-bit keys, with the CTR and CBC modes of
    /// SP 800-38A. Byte-oriented and table-free apart from the S-boxes, which are computed from their
    /// definition (multiplicative inverse in GF(2^8) followed by the affine map) on first use.
    /// Not constant-time: it only ever decrypts a local key file with a key derived on this machine.
    final class AES {
        static let blockSize = 16
        private var roundKeys: [UInt32]
        private let rounds: Int

        /// A cipher keyed with `key`, which must be 16, 24 or 32 bytes long.
        init?(key: [UInt8]) {
            guard key.count == 16 || key.count == 24 || key.count == 32 else { return nil }
            let nk = key.count / 4
            rounds = nk + 6
            let total = 4 * (rounds + 1)
            var w = [UInt32](repeating: 0, count: total)
            for i in 0..<nk {
                w[i] = UInt32(key[4 * i]) << 24 | UInt32(key[4 * i + 1]) << 16
                    | UInt32(key[4 * i + 2]) << 8 | UInt32(key[4 * i + 3])
            }
            let sbox = Tables.shared.sbox
            func subWord(_ x: UInt32) -> UInt32 {
                UInt32(sbox[Int(x >> 24)]) << 24 | UInt32(sbox[Int((x >> 16) & 0xff)]) << 16
                    | UInt32(sbox[Int((x >> 8) & 0xff)]) << 8 | UInt32(sbox[Int(x & 0xff)])
            }
            var rcon: UInt8 = 1
            for i in nk..<total {
                var temp = w[i - 1]
                if i % nk == 0 {
                    temp = subWord(temp << 8 | temp >> 24) ^ UInt32(rcon) << 24
                    rcon = Tables.times2(rcon)
                } else if nk > 6 && i % nk == 4 {
                    temp = subWord(temp)
                }
                w[i] = w[i - nk] ^ temp
            }
            roundKeys = w
        }

        deinit {
            wipe(&roundKeys)
        }

        private func addRoundKey(_ state: inout [UInt8], _ round: Int) {
            for c in 0..<4 {
                let word = roundKeys[4 * round + c]
                state[4 * c] ^= UInt8(word >> 24)
                state[4 * c + 1] ^= UInt8((word >> 16) & 0xff)
                state[4 * c + 2] ^= UInt8((word >> 8) & 0xff)
                state[4 * c + 3] ^= UInt8(word & 0xff)
            }
        }

        /// Encrypts the 16-byte block `block` in place.
        func encryptBlock(_ block: inout [UInt8]) {
            precondition(block.count == Self.blockSize)
            let sbox = Tables.shared.sbox
            addRoundKey(&block, 0)
            for round in 1...rounds {
                // SubBytes and ShiftRows together: row r moves r columns to the left.
                var shifted = block
                for c in 0..<4 {
                    for r in 0..<4 { shifted[r + 4 * c] = sbox[Int(block[r + 4 * ((c + r) % 4)])] }
                }
                if round != rounds {
                    for c in 0..<4 {
                        let a0 = shifted[4 * c], a1 = shifted[4 * c + 1]
                        let a2 = shifted[4 * c + 2], a3 = shifted[4 * c + 3]
                        let all = a0 ^ a1 ^ a2 ^ a3
                        shifted[4 * c] = a0 ^ all ^ Tables.times2(a0 ^ a1)
                        shifted[4 * c + 1] = a1 ^ all ^ Tables.times2(a1 ^ a2)
                        shifted[4 * c + 2] = a2 ^ all ^ Tables.times2(a2 ^ a3)
                        shifted[4 * c + 3] = a3 ^ all ^ Tables.times2(a3 ^ a0)
                    }
                }
                block = shifted
                wipe(&shifted)
                addRoundKey(&block, round)
            }
        }

        /// Decrypts the 16-byte block `block` in place (the inverse cipher of FIPS 197 §5.3).
        func decryptBlock(_ block: inout [UInt8]) {
            precondition(block.count == Self.blockSize)
            let inverse = Tables.shared.inverseSbox
            addRoundKey(&block, rounds)
            for round in stride(from: rounds - 1, through: 0, by: -1) {
                // InvShiftRows and InvSubBytes together: row r moves r columns to the right.
                var shifted = block
                for c in 0..<4 {
                    for r in 0..<4 { shifted[r + 4 * ((c + r) % 4)] = inverse[Int(block[r + 4 * c])] }
                }
                block = shifted
                wipe(&shifted)
                addRoundKey(&block, round)
                if round != 0 {
                    for c in 0..<4 {
                        let a0 = block[4 * c], a1 = block[4 * c + 1], a2 = block[4 * c + 2], a3 = block[4 * c + 3]
                        block[4 * c] = Tables.multiply(a0, 14) ^ Tables.multiply(a1, 11)
                            ^ Tables.multiply(a2, 13) ^ Tables.multiply(a3, 9)
                        block[4 * c + 1] = Tables.multiply(a0, 9) ^ Tables.multiply(a1, 14)
                            ^ Tables.multiply(a2, 11) ^ Tables.multiply(a3, 13)
                        block[4 * c + 2] = Tables.multiply(a0, 13) ^ Tables.multiply(a1, 9)
                            ^ Tables.multiply(a2, 14) ^ Tables.multiply(a3, 11)
                        block[4 * c + 3] = Tables.multiply(a0, 11) ^ Tables.multiply(a1, 13)
                            ^ Tables.multiply(a2, 9) ^ Tables.multiply(a3, 14)
                    }
                }
            }
        }

        /// CTR mode (SP 800-38A §6.5) with OpenSSH's counter: the whole 16-byte block is one big-endian
        /// number. Encrypts or decrypts (the same operation) `data` of any length.
        func ctr(_ data: [UInt8], counter initialCounter: [UInt8]) -> [UInt8] {
            precondition(initialCounter.count == Self.blockSize)
            var counter = initialCounter
            var out = data
            var keystream = [UInt8](repeating: 0, count: Self.blockSize)
            var offset = 0
            while offset < data.count {
                keystream.replaceSubrange(0..<Self.blockSize, with: counter)
                encryptBlock(&keystream)
                for i in 0..<min(Self.blockSize, data.count - offset) { out[offset + i] ^= keystream[i] }
                var i = Self.blockSize - 1
                while i >= 0 {
                    counter[i] &+= 1
                    if counter[i] != 0 { break }
                    i -= 1
                }
                offset += Self.blockSize
            }
            wipe(&keystream)
            wipe(&counter)
            return out
        }

        /// CBC encryption (SP 800-38A §6.2) of `data`, whose length must be a multiple of 16.
        func cbcEncrypt(_ data: [UInt8], iv: [UInt8]) -> [UInt8] {
            precondition(iv.count == Self.blockSize && data.count % Self.blockSize == 0)
            var out = [UInt8](repeating: 0, count: data.count)
            var chain = iv
            for offset in stride(from: 0, to: data.count, by: Self.blockSize) {
                for i in 0..<Self.blockSize { chain[i] ^= data[offset + i] }
                encryptBlock(&chain)
                out.replaceSubrange(offset..<offset + Self.blockSize, with: chain)
            }
            return out
        }

        /// CBC decryption (SP 800-38A §6.2) of `data`, whose length must be a multiple of 16.
        func cbcDecrypt(_ data: [UInt8], iv: [UInt8]) -> [UInt8] {
            precondition(iv.count == Self.blockSize && data.count % Self.blockSize == 0)
            var out = [UInt8](repeating: 0, count: data.count)
            var block = [UInt8](repeating: 0, count: Self.blockSize)
            for offset in stride(from: 0, to: data.count, by: Self.blockSize) {
                block.replaceSubrange(0..<Self.blockSize, with: data[offset..<offset + Self.blockSize])
                decryptBlock(&block)
                for i in 0..<Self.blockSize {
                    out[offset + i] = block[i] ^ (offset == 0 ? iv[i] : data[offset - Self.blockSize + i])
                }
            }
            wipe(&block)
            return out
        }

        /// The S-box and its inverse, and arithmetic in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1.
        struct Tables: Sendable {
            let sbox: [UInt8]
            let inverseSbox: [UInt8]

            static let shared = Tables()

            private init() {
                var sbox = [UInt8](repeating: 0, count: 256)
                var inverseSbox = [UInt8](repeating: 0, count: 256)
                for x in 0..<256 {
                    // x^254 is x's multiplicative inverse (and maps 0 to 0).
                    var inverse: UInt8 = 1
                    var power = UInt8(x)
                    var exponent = 254
                    while exponent > 0 {
                        if exponent & 1 == 1 { inverse = Self.multiply(inverse, power) }
                        power = Self.multiply(power, power)
                        exponent >>= 1
                    }
                    if x == 0 { inverse = 0 }
                    func rotl(_ b: UInt8, _ n: UInt8) -> UInt8 { b << n | b >> (8 - n) }
                    let value = inverse ^ rotl(inverse, 1) ^ rotl(inverse, 2) ^ rotl(inverse, 3)
                        ^ rotl(inverse, 4) ^ 0x63
                    sbox[x] = value
                    inverseSbox[Int(value)] = UInt8(x)
                }
                self.sbox = sbox
                self.inverseSbox = inverseSbox
            }

            @inline(__always)
            static func times2(_ a: UInt8) -> UInt8 {
                (a << 1) ^ (a & 0x80 != 0 ? 0x1b : 0)
            }

            static func multiply(_ a: UInt8, _ b: UInt8) -> UInt8 {
                var a = a, b = b, product: UInt8 = 0
                while b != 0 {
                    if b & 1 == 1 { product ^= a }
                    a = times2(a)
                    b >>= 1
                }
                return product
            }
        }
    }
}
