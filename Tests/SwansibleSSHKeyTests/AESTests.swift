import Testing
@testable import SwansibleSSH

@Suite struct AESTests {
    typealias AES = KeyDecryption.AES

    // FIPS 197 Appendix C.1 to C.3: key, plaintext 00112233..., ciphertext.
    static let fipsVectors: [(String, String)] = [
        ("000102030405060708090a0b0c0d0e0f", "69c4e0d86a7b0430d8cdb78070b4c55a"),
        ("000102030405060708090a0b0c0d0e0f1011121314151617", "dda97ca4864cdfe06eaf70a0ec0d7191"),
        ("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "8ea2b7ca516745bfeafc49904b496089"),
    ]

    @Test func fips197Vectors() throws {
        for (key, ciphertext) in Self.fipsVectors {
            let aes = try #require(AES(key: bytes(hex: key)))
            var block = bytes(hex: "00112233445566778899aabbccddeeff")
            aes.encryptBlock(&block)
            #expect(hex(block) == ciphertext, "key \(key)")
            aes.decryptBlock(&block)
            #expect(hex(block) == "00112233445566778899aabbccddeeff", "key \(key)")
        }
    }

    @Test func fips197SboxSpotChecks() {
        // FIPS 197 Figure 7: S(0x00) = 0x63, S(0x53) = 0xed; Figure 14: InvS(0x00) = 0x52.
        let tables = AES.Tables.shared
        #expect(tables.sbox[0x00] == 0x63)
        #expect(tables.sbox[0x53] == 0xed)
        #expect(tables.inverseSbox[0x00] == 0x52)
        #expect(Set(tables.sbox).count == 256)
    }

    @Test func rejectsOtherKeySizes() {
        #expect(AES(key: [UInt8](repeating: 0, count: 15)) == nil)
        #expect(AES(key: [UInt8](repeating: 0, count: 20)) == nil)
    }

    // NIST SP 800-38A Appendix F: the same four plaintext blocks under the three keys.
    static let plaintext = bytes(hex: """
        6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51\
        30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710
        """)
    static let keys = [
        "2b7e151628aed2a6abf7158809cf4f3c",
        "8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b",
        "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
    ]

    /// F.5.1, F.5.3, F.5.5 (CTR-AES128/192/256), encrypting; F.5.2/4/6 decrypt the same values back.
    @Test(arguments: zip(keys, [
        "874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff"
            + "5ae4df3edbd5d35e5b4f09020db03eab1e031dda2fbe03d1792170a0f3009cee",
        "1abc932417521ca24f2b0459fe7e6e0b090339ec0aa6faefd5ccc2c6f4ce8e94"
            + "1e36b26bd1ebc670d1bd1d665620abf74f78a7f6d29809585a97daec58c6b050",
        "601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990cacaf5c5"
            + "2b0930daa23de94ce87017ba2d84988ddfc9c58db67aada613c2dd08457941a6",
    ]))
    func sp800_38aCTR(key: String, ciphertext: String) throws {
        let aes = try #require(AES(key: bytes(hex: key)))
        let counter = bytes(hex: "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff")
        #expect(hex(aes.ctr(Self.plaintext, counter: counter)) == ciphertext)
        #expect(aes.ctr(bytes(hex: ciphertext), counter: counter) == Self.plaintext)
        // A partial last block uses just the start of its keystream block.
        #expect(hex(aes.ctr(Array(Self.plaintext.prefix(37)), counter: counter)) == String(ciphertext.prefix(74)))
    }

    /// F.2.1, F.2.3, F.2.5 (CBC-AES128/192/256) encrypting; F.2.2/4/6 decrypting.
    @Test(arguments: zip(keys, [
        "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2"
            + "73bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7",
        "4f021db243bc633d7178183a9fa071e8b4d9ada9ad7dedf4e5e738763f69145a"
            + "571b242012fb7ae07fa9baac3df102e008b0e27988598881d920a9e64f5615cd",
        "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d"
            + "39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b",
    ]))
    func sp800_38aCBC(key: String, ciphertext: String) throws {
        let aes = try #require(AES(key: bytes(hex: key)))
        let iv = bytes(hex: "000102030405060708090a0b0c0d0e0f")
        #expect(hex(aes.cbcEncrypt(Self.plaintext, iv: iv)) == ciphertext)
        #expect(aes.cbcDecrypt(bytes(hex: ciphertext), iv: iv) == Self.plaintext)
    }

    @Test func ctrCounterCarriesThroughAllSixteenBytes() throws {
        // OpenSSH's aes-ctr treats the whole block as one big-endian counter.
        let aes = try #require(AES(key: bytes(hex: Self.keys[0])))
        let start = bytes(hex: "00ffffffffffffffffffffffffffffff")
        let zeros = [UInt8](repeating: 0, count: 32)
        let stream = aes.ctr(zeros, counter: start)
        var second = bytes(hex: "01000000000000000000000000000000")
        aes.encryptBlock(&second)
        #expect(Array(stream[16...]) == second)
    }
}
