import Foundation
import Testing

@testable import SwansibleCore

@Suite("LocalSourceDigests")
struct LocalSourceDigestsTests {
    func temporaryFile(_ bytes: [UInt8]) throws -> String {
        let path = NSTemporaryDirectory() + "swansible-digest-\(UUID().uuidString)"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// A file bigger than the read size: the streamed checksums equal those of the bytes in memory.
    @Test func hashesAFileAsTheBytesInMemory() async throws {
        let bytes = (0..<(3 << 20) + 17).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
        let path = try temporaryFile(bytes)
        defer { unlink(path) }
        let info = try #require(await LocalSourceDigests.info(path: path))
        let expected = LocalSourceInfo(bytes)
        #expect(info.size == bytes.count)
        #expect(info.sha1 == expected.sha1)
        #expect(info.md5 == expected.md5)
        #expect(!info.isVault)
    }

    /// Hosts asking at the same time share one result; a rewritten file is hashed again.
    @Test func sharedAndRenewedWhenTheFileChanges() async throws {
        let path = try temporaryFile(Array("one\n".utf8))
        defer { unlink(path) }
        let results = await withTaskGroup(of: LocalSourceInfo?.self) { group in
            for _ in 0..<50 { group.addTask { await LocalSourceDigests.info(path: path) } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.count == 50 && results.allSatisfy { $0?.sha1 == LocalSourceInfo(Array("one\n".utf8)).sha1 })
        try Data("$ANSIBLE_VAULT;1.1;AES256\n".utf8).write(to: URL(fileURLWithPath: path))
        let changed = try #require(await LocalSourceDigests.info(path: path))
        #expect(changed.isVault)
        #expect(changed.sha1 == LocalSourceInfo(Array("$ANSIBLE_VAULT;1.1;AES256\n".utf8)).sha1)
    }

    @Test func missingFilesAndDirectoriesHaveNone() async {
        #expect(await LocalSourceDigests.info(path: "/nonexistent/swansible") == nil)
        #expect(await LocalSourceDigests.info(path: NSTemporaryDirectory()) == nil)
    }
}
