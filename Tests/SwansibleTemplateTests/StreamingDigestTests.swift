import Foundation
import Testing

@testable import SwansibleTemplate

@Suite("StreamingDigest")
struct StreamingDigestTests {
    /// Fed in pieces of every awkward size, the digests equal the one-shot ones (and Python's hashlib's).
    @Test func piecesGiveTheOneShotDigest() {
        var generator = SystemRandomNumberGenerator()
        for length in [0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 1000, 70_001] {
            let data = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            for piece in [1, 7, 63, 64, 65, 4096] {
                var sha1 = StreamingDigest(.sha1), md5 = StreamingDigest(.md5)
                var offset = 0
                while offset < data.count {
                    let end = min(data.count, offset + piece)
                    sha1.update(Array(data[offset..<end]))
                    md5.update(Array(data[offset..<end]))
                    offset = end
                }
                #expect(sha1.finalizeHex() == hexDigest("sha1", data), "sha1 of \(length) bytes in pieces of \(piece)")
                #expect(md5.finalizeHex() == hexDigest("md5", data), "md5 of \(length) bytes in pieces of \(piece)")
            }
        }
    }

    @Test func knownValues() {
        var sha1 = StreamingDigest(.sha1), md5 = StreamingDigest(.md5)
        sha1.update(Array("hello\n".utf8))
        md5.update(Array("hello\n".utf8))
        #expect(sha1.finalizeHex() == "f572d396fae9206628714fb2ce00f72e94f2258f")
        #expect(md5.finalizeHex() == "b1946ac92492d2347c6235b4d2611184")
    }
}
