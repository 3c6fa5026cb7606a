internal import Glibc
import Synchronization

/// OpenSSH's known_hosts format: `[marker] patterns keytype base64key [comment]`, with plain,
/// wildcard (`*`, `?`), negated (`!`) and hashed (`|1|salt|hash`) host patterns and `[host]:port`
/// for ports other than 22.
struct KnownHosts: Sendable {
    struct Entry: Sendable {
        enum Marker: Sendable { case none, revoked, certAuthority }
        var marker: Marker
        var patterns: [String]
        var keyType: String
        var key: [UInt8]
        var file: String
        var line: Int
    }

    var entries: [Entry] = [] {
        didSet { buildIndex() }
    }
    /// Entries whose patterns are all plain names, by lowercased name; the others (wildcards, negations, hashed
    /// names) are matched one by one. With a known_hosts of 2,000 lines (1,000 test hosts), matching every entry
    /// for each of 1,000 connections was most of the connection's controller CPU.
    private var byName: [String: [Int]] = [:]
    private var scanned: [Int] = []

    init(entries: [Entry]) {
        self.entries = entries
        buildIndex()
    }

    private mutating func buildIndex() {
        byName = [:]
        scanned = []
        for (i, entry) in entries.enumerated() {
            if entry.patterns.allSatisfy({ p in !p.hasPrefix("!") && !p.hasPrefix("|") && !p.contains("*") && !p.contains("?") }) {
                for name in Set(entry.patterns.map { $0.lowercased() }) { byName[name, default: []].append(i) }
            } else {
                scanned.append(i)
            }
        }
    }

    init(text: String, file: String) {
        var parsed: [Entry] = []
        var lineNumber = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            var fields = raw.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let first = fields.first, !first.hasPrefix("#") else { continue }
            var marker = Entry.Marker.none
            if first.hasPrefix("@") {
                marker = first == "@revoked" ? .revoked : first == "@cert-authority" ? .certAuthority : .none
                fields.removeFirst()
            }
            guard fields.count >= 3, let key = base64Decode(fields[2]) else { continue }
            parsed.append(
                Entry(
                    marker: marker, patterns: fields[0].split(separator: ",").map(String.init), keyType: fields[1],
                    key: key, file: file, line: lineNumber))
        }
        entries = parsed
        buildIndex()
    }

    /// The name known_hosts uses for a host: `host` on port 22, else `[host]:port`.
    static func lookupName(host: String, port: Int) -> String {
        port == 22 ? host : "[\(host)]:\(port)"
    }

    /// The entries (not CA lines) whose patterns match `name`.
    func entries(for name: String) -> [Entry] {
        var found = byName[name.lowercased()] ?? []
        for i in scanned where Self.matches(entries[i].patterns, name) { found.append(i) }
        found.sort()
        return found.map { entries[$0] }.filter { $0.marker != .certAuthority }
    }

    static func matches(_ patterns: [String], _ name: String) -> Bool {
        var matched = false
        for pattern in patterns {
            if pattern.hasPrefix("!") {
                if matchOne(String(pattern.dropFirst()), name) { return false }
            } else if matchOne(pattern, name) {
                matched = true
            }
        }
        return matched
    }

    private static func matchOne(_ pattern: String, _ name: String) -> Bool {
        if pattern.hasPrefix("|1|") {
            let parts = pattern.split(separator: "|", omittingEmptySubsequences: false)
            guard parts.count == 4, let salt = base64Decode(String(parts[2])),
                let hash = base64Decode(String(parts[3]))
            else { return false }
            return hmacSHA1(key: salt, message: Array(name.utf8)) == hash
        }
        return wildcardMatch(Array(pattern.lowercased().utf8), Array(name.lowercased().utf8))
    }

    private static func wildcardMatch(_ p: [UInt8], _ s: [UInt8]) -> Bool {
        var pi = 0, si = 0, star = -1, mark = 0
        while si < s.count {
            if pi < p.count && (p[pi] == UInt8(ascii: "?") || p[pi] == s[si]) {
                pi += 1; si += 1
            } else if pi < p.count && p[pi] == UInt8(ascii: "*") {
                star = pi; mark = si; pi += 1
            } else if star >= 0 {
                pi = star + 1; mark += 1; si = mark
            } else {
                return false
            }
        }
        while pi < p.count && p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }
}

/// Parsed known_hosts files, re-read when their modification time changes.
final class KnownHostsCache: Sendable {
    static let shared = KnownHostsCache()
    private let cache = Mutex<[String: (mtime: timespec, known: KnownHosts)]>([:])
    /// The files of one `load` together (with their index), by the list of paths and the files' mtimes.
    private let combined = Mutex<[[String]: (mtimes: [Int], known: KnownHosts)]>([:])

    func load(_ paths: [String]) -> KnownHosts {
        var mtimes: [Int] = []
        for path in paths {
            var st = stat()
            if stat(path, &st) == 0 {
                mtimes += [Int(st.st_mtim.tv_sec), Int(st.st_mtim.tv_nsec)]
            } else {
                mtimes += [-1, -1]
            }
        }
        // Parsed under the lock: the connections of a fleet starting together wait for one parse instead of
        // each parsing the same files.
        return combined.withLock { combined in
            if let hit = combined[paths], hit.mtimes == mtimes { return hit.known }
            let known = loadUncombined(paths)
            if combined.count >= 64 { combined.removeAll() }
            combined[paths] = (mtimes, known)
            return known
        }
    }

    private func loadUncombined(_ paths: [String]) -> KnownHosts {
        var all: [KnownHosts.Entry] = []
        for path in paths {
            var st = stat()
            guard stat(path, &st) == 0 else { continue }
            let cached = cache.withLock { $0[path] }
            if let cached, cached.mtime.tv_sec == st.st_mtim.tv_sec, cached.mtime.tv_nsec == st.st_mtim.tv_nsec {
                all += cached.known.entries
                continue
            }
            guard let bytes = try? readFile(path) else { continue }
            let known = KnownHosts(text: String(decoding: bytes, as: UTF8.self), file: path)
            cache.withLock { $0[path] = (st.st_mtim, known) }
            all += known.entries
        }
        return KnownHosts(entries: all)
    }
}

/// libssh2's host-key method names for the key types known_hosts records; libssh2 1.10 knows no
/// `rsa-sha2-*` signatures, so RSA host keys only work with servers that still allow `ssh-rsa`.
func hostKeyMethods(forKnownTypes types: [String]) -> [String] {
    var methods: [String] = []
    for type in types {
        let method: String?
        switch type {
        case "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa", "ssh-dss":
            method = type
        default: method = nil
        }
        if let method, !methods.contains(method) { methods.append(method) }
    }
    return methods
}

/// The key type name inside an SSH public key blob (its first length-prefixed string).
func keyTypeName(ofBlob blob: [UInt8]) -> String? {
    guard blob.count >= 4 else { return nil }
    let length = Int(blob[0]) << 24 | Int(blob[1]) << 16 | Int(blob[2]) << 8 | Int(blob[3])
    guard length > 0, length < 64, blob.count >= 4 + length else { return nil }
    return String(decoding: blob[4..<4 + length], as: UTF8.self)
}

/// `ED25519`, `ECDSA`, `RSA`: how OpenSSH names key types in its messages.
func displayKeyType(_ type: String) -> String {
    if type == "ssh-ed25519" { return "ED25519" }
    if type.hasPrefix("ecdsa-") { return "ECDSA" }
    if type == "ssh-rsa" || type.hasPrefix("rsa-") { return "RSA" }
    if type == "ssh-dss" { return "DSA" }
    return type
}
