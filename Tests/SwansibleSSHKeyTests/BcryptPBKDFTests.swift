import Testing
@testable import SwansibleSSH

@Suite struct BlowfishTests {
    // Eric Young's Blowfish test vectors (published with Schneier's reference, "vectors.txt"): key, plain, cipher.
    static let vectors: [(String, String, String)] = [
        ("0000000000000000", "0000000000000000", "4ef997456198dd78"),
        ("ffffffffffffffff", "ffffffffffffffff", "51866fd5b85ecb8a"),
        ("3000000000000000", "1000000000000001", "7d856f9a613063f2"),
        ("1111111111111111", "1111111111111111", "2466dd878b963c9d"),
        ("0123456789abcdef", "1111111111111111", "61f9c3802281b096"),
        ("1111111111111111", "0123456789abcdef", "7d0cc630afda1ec7"),
        ("fedcba9876543210", "0123456789abcdef", "0aceab0fc6a0a28d"),
        ("7ca110454a1a6e57", "01a1d6d039776742", "59c68245eb05282b"),
        ("0131d9619dc1376e", "5cd54ca83def57da", "b1b8cc0b250f09a0"),
    ]

    @Test func ericYoungVectors() {
        for (key, plain, cipher) in Self.vectors {
            let blowfish = KeyDecryption.Blowfish(key: bytes(hex: key))
            let words = KeyDecryption.Blowfish.words(bytes(hex: plain), count: 2)
            var left = words[0], right = words[1]
            blowfish.encrypt(&left, &right)
            #expect(String(format: "%08x%08x", left, right) == cipher, "key \(key)")
        }
    }

    @Test func streamWordsWrapAroundTheData() {
        #expect(KeyDecryption.Blowfish.words([1, 2, 3], count: 3) == [0x0102_0301, 0x0203_0102, 0x0301_0203])
    }
}

@Suite struct BcryptPBKDFTests {
    // OpenBSD's regress/lib/libutil/bcrypt_pbkdf/bcrypt_pbkdf_test.c: rounds, password, salt, key (hex).
    static let openBSDVectors: [(UInt32, String, String, String)] = [
        (4, "70617373776f7264", "73616c74", "5bbf0cc293587f1c3635555c27796598d47e579071bf427e9d8fbe842aba34d9"),
        (4, "70617373776f7264", "00", "c12b566235eee04c212598970a579a67"),
        (4, "00", "73616c74", "6051be18c2f4f82cbf0efee5471b4bb9"),
        (4, "70617373776f726400", "73616c7400", "7410e44cf4fa07bfaac8a928b1727fac001375e7bf7384370f48efd121743050"),
        (4, "7061737300776f72", "7361006c", "c2bffd9db38f6569efef4372f4de83c0"),
        (4, "7061737300776f7264", "7361006c74", "4ba4ac3925c0e8d7f0cdb6bb1684a56f"),
        (
            8, "70617373776f7264", "73616c74",
            "e1367ec5151a33faac4cc1c144cd23fa15d5548493ecc99b9b5d9c0d3b27bec76227ea66088b849b20ab7aa478010246"
                + "e74bba51723fefa9f9474d6508845e8d"
        ),
        (42, "70617373776f7264", "73616c74", "833cf0dcf56db65608e8f0dc0ce882bd"),
        (8, "0db3ac94b3ee53284f4a22893b3c24ae", "3a62f0f0dbcef823cfcc854856ea1028", "204438175eee7ce136c91b49a67923ff"),
        (
            8, "0db3ac94b3ee53284f4a22893b3c24ae", "3a62f0f0dbcef823cfcc854856ea1028",
            "2054b9fff34e3721440334746828e9ed38de4b72e0a69adc170a13b5e8d646385ea4034ae6d26600ee2332c5ed40ad55"
                + "7c86e3403fbb30e4e1dc1ae06b99a071368f518d2c426651c9e7e437fd6c915b1bbfc3a4cea71491490ea7afb7dd02"
                + "90a678a4f441128db1792eab2776b21eb4238e0715add4127dff44e4b3e4cc4c4f9970083f3f74bd698873fdf64884"
                + "4f75c9bf7f9e0c4d9e5d89a7783997492966616707611cb901de31a19726b6e08c3a8001661f2d5c9dcc33b4aa072f"
                + "90dd0b3f548d5eeba4211397e2fb062e526e1d68f46a4ce256185b4badc2685fbe78e1c7657b59f83ab9ab80cf9318"
                + "d6add1f5933f12d6f36182c8e8115f68030a1244"
        ),
    ]

    @Test func openBSDVectors() {
        for (rounds, password, salt, key) in Self.openBSDVectors {
            let expected = bytes(hex: key)
            let derived = KeyDecryption.BcryptPBKDF.derive(
                password: bytes(hex: password), salt: bytes(hex: salt), rounds: rounds, keyCount: expected.count)
            #expect(derived.map(hex) == key, "rounds \(rounds), password \(password), salt \(salt)")
        }
    }

    @Test func longPasswordVector() {
        // Also from bcrypt_pbkdf_test.c: a password longer than SHA-512's block.
        let password = "Lorem ipsum dolor sit amet, consectetur adipisicing elit, sed do eiusmod tempor incididunt ut "
            + "labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris "
            + "nisi ut aliquip ex ea commodo consequat. Duis aute irure dolor in reprehenderit in voluptate velit "
            + "esse cillum dolore eu fugiat nulla pariatur. Excepteur sint occaecat cupidatat non proident, sunt in "
            + "culpa qui officia deserunt mollit anim id est laborum."
        let derived = KeyDecryption.BcryptPBKDF.derive(
            password: Array(password.utf8), salt: Array("salis".utf8) + [0], rounds: 8, keyCount: 16)
        #expect(derived.map(hex) == "10978b07253df57f71a162eb0e8ad30a")
    }

    @Test func outputIsInterleavedAcrossBlocks() throws {
        // 88 bytes take 3 blocks; byte 3i comes from the first block's byte i, which is also byte i of a
        // 32-byte (one-block) derivation.
        let long = try #require(KeyDecryption.BcryptPBKDF.derive(
            password: Array("password".utf8), salt: Array("salt".utf8), rounds: 4, keyCount: 88))
        let short = bytes(hex: Self.openBSDVectors[0].3)
        #expect(long.count == 88)
        #expect(stride(from: 0, to: 88, by: 3).map { long[$0] } == Array(short.prefix(30)))
        #expect(Array(long.prefix(32)) != short)
    }

    @Test func rejectsWhatOpenBSDRejects() {
        let derive = KeyDecryption.BcryptPBKDF.derive
        #expect(derive([], [1], 4, 16) == nil)
        #expect(derive([1], [], 4, 16) == nil)
        #expect(derive([1], [1], 0, 16) == nil)
        #expect(derive([1], [1], 4, 0) == nil)
        #expect(derive([1], [1], 4, 1025) == nil)
    }
}
