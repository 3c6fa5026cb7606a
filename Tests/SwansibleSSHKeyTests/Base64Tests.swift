import Testing
@testable import SwansibleSSH

@Suite struct Base64Tests {
    typealias Base64 = KeyDecryption.Base64

    // RFC 4648 §10.
    static let vectors = [
        ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ]

    @Test func rfc4648Vectors() {
        for (plain, encoded) in Self.vectors {
            #expect(String(decoding: Base64.encode(Array(plain.utf8)), as: UTF8.self) == encoded)
            #expect(Base64.decode(Array(encoded.utf8)) == Array(plain.utf8))
        }
    }

    @Test func allByteValuesRoundTrip() {
        let all = (0...255).map { UInt8($0) }
        #expect(Base64.decode(Base64.encode(all)) == all)
    }

    @Test func whitespaceIsSkippedAndJunkRejected() {
        #expect(Base64.decode(Array("Zm9v\nYmFy\r\n".utf8)) == Array("foobar".utf8))
        #expect(Base64.decode(Array("Zm9v*".utf8)) == nil)
        #expect(Base64.decode(Array("Zg==Zg==".utf8)) == nil)
        #expect(Base64.decode(Array("Z".utf8)) == nil)
        #expect(Base64.decode(Array("Zm9vY".utf8)) == nil)
        #expect(Base64.decode(Array("Z===".utf8)) == nil)
    }
}
