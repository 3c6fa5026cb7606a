import Testing
@testable import SwansibleSSH

@Suite struct SHA512Tests {
    typealias SHA512 = KeyDecryption.SHA512

    // FIPS 180-2 Appendix C (SHA-512 examples) and the NIST example values for the empty message.
    @Test func fipsExamples() {
        #expect(hex(SHA512.hash(Array("abc".utf8))) == """
            ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a\
            2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f
            """)
        #expect(hex(SHA512.hash([])) == """
            cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce\
            47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e
            """)
        let twoBlock = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
            + "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"
        #expect(hex(SHA512.hash(Array(twoBlock.utf8))) == """
            8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018\
            501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909
            """)
    }

    @Test func millionAs() {
        #expect(hex(SHA512.hash([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))) == """
            e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973eb\
            de0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b
            """)
    }

    /// Lengths around the padding boundary (111/112 bytes leave 1/0 spare bytes before the length field),
    /// checked against coreutils' sha512sum.
    @Test(
        .enabled(if: FileManagerCheck.sha512sumAvailable),
        arguments: [0, 1, 55, 64, 111, 112, 113, 127, 128, 129, 255])
    func paddingBoundaries(length: Int) throws {
        let message = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.file("message")
        try writeBytes(message, to: path)
        let result = try run(["sha512sum", path])
        #expect(result.status == 0)
        #expect(hex(SHA512.hash(message)) == String(result.stdout.prefix(128)))
    }
}
