import Foundation
import SwansibleTemplate
import Synchronization

/// What `copy` needs to know about its source before it compares it with a host's file: size, checksums and
/// whether it is vault-encrypted.
struct LocalSourceInfo: Sendable {
    var size: Int
    var sha1: String
    var md5: String
    var isVault: Bool

    static let vaultHeader = Array("$ANSIBLE_VAULT;".utf8)

    init(size: Int, sha1: String, md5: String, isVault: Bool) {
        self.size = size
        self.sha1 = sha1
        self.md5 = md5
        self.isVault = isVault
    }

    /// Of bytes in memory (content, a rendered template).
    init(_ bytes: [UInt8]) {
        let digests = localDigests(bytes)
        self.init(size: bytes.count, sha1: digests.sha1, md5: digests.md5, isVault: bytes.starts(with: Self.vaultHeader))
    }
}

/// Checksums of controller files, computed once per version of a file and shared by every host of the run.
///
/// A `copy` of one source to N hosts used to read the file into memory and hash it N times (50 × 10 MB, 600 MB
/// of RSS for W3 in Docs/benchmarks.md). Now the first host to ask reads the file once, in 1 MB pieces, on a
/// thread of its own (not the cooperative pool), the others wait for that result, and every upload streams the
/// file from disk (`ExecInput.file`). A version is the path with the file's device, inode, size and
/// modification time: a file rewritten during the run is hashed again.
enum LocalSourceDigests {
    struct Key: Hashable {
        var path: String
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var modifiedSeconds: Int
        var modifiedNanoseconds: Int
    }

    private static let entries = Mutex<[Key: Task<LocalSourceInfo?, Never>]>([:])
    private static let limit = 4096

    /// The file's checksums, or nil when `path` is not a readable regular file.
    static func info(path: String) async -> LocalSourceInfo? {
        var st = stat()
        guard stat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return nil }
        let key = Key(path: path, device: UInt64(st.st_dev), inode: UInt64(st.st_ino), size: Int64(st.st_size),
                      modifiedSeconds: Int(st.st_mtim.tv_sec), modifiedNanoseconds: Int(st.st_mtim.tv_nsec))
        let task = entries.withLock { entries -> Task<LocalSourceInfo?, Never> in
            if let running = entries[key] { return running }
            if entries.count >= limit { entries.removeAll() }
            let task = Task<LocalSourceInfo?, Never> {
                await withCheckedContinuation { continuation in
                    Thread.detachNewThread { continuation.resume(returning: hashFile(path)) }
                }
            }
            entries[key] = task
            return task
        }
        return await task.value
    }

    /// Reads the file once: size, SHA-1, MD5 and the vault header.
    static func hashFile(_ path: String) -> LocalSourceInfo? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var sha1 = StreamingDigest(.sha1), md5 = StreamingDigest(.md5)
        var head: [UInt8] = []
        var size = 0
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if n == 0 { break }
            buffer.withUnsafeBytes { all in
                let chunk = UnsafeRawBufferPointer(rebasing: all[..<n])
                sha1.update(chunk)
                md5.update(chunk)
                if head.count < LocalSourceInfo.vaultHeader.count {
                    head += chunk.prefix(LocalSourceInfo.vaultHeader.count - head.count)
                }
            }
            size += n
        }
        return LocalSourceInfo(size: size, sha1: sha1.finalizeHex(), md5: md5.finalizeHex(),
                               isVault: head == LocalSourceInfo.vaultHeader)
    }
}
