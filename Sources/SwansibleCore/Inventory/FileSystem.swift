import Glibc

/// The few file-system questions inventory loading asks, answered with POSIX calls as Python's `os.path` does.
enum InventoryFileSystem {
    static func info(_ path: String) -> stat? {
        var st = stat()
        return stat(path, &st) == 0 ? st : nil
    }

    static func exists(_ path: String) -> Bool { info(path) != nil }

    static func isDirectory(_ path: String) -> Bool {
        guard let st = info(path) else { return false }
        return (st.st_mode & S_IFMT) == S_IFDIR
    }

    static func isFile(_ path: String) -> Bool {
        guard let st = info(path) else { return false }
        return (st.st_mode & S_IFMT) == S_IFREG
    }

    static func isReadable(_ path: String) -> Bool { access(path, R_OK) == 0 }

    static func isExecutable(_ path: String) -> Bool { access(path, X_OK) == 0 }

    /// Directory entries (without `.` and `..`), sorted by their bytes as Python sorts `os.listdir(bytes)`.
    static func listDirectory(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    /// The file's bytes as text (invalid UTF-8 replaced); nil when it cannot be read.
    static func readText(_ path: String) -> String? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&buffer, 1, buffer.count, file)
            if n > 0 { bytes.append(contentsOf: buffer[0..<n]) }
            if n < buffer.count {
                if ferror(file) != 0 { return nil }
                break
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func currentDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return "/" }
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `os.path.realpath`.
    static func realpath(_ path: String) -> String {
        guard let resolved = Glibc.realpath(path, nil) else { return absolute(path) }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// `os.path.normpath`.
    static func normalize(_ path: String) -> String {
        guard !path.isEmpty else { return "." }
        let absolute = path.hasPrefix("/")
        // POSIX keeps exactly two leading slashes.
        let initialSlashes = absolute ? (path.hasPrefix("//") && !path.hasPrefix("///") ? 2 : 1) : 0
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." {
                if let last = parts.last, last != ".." {
                    parts.removeLast()
                } else if !absolute {
                    parts.append(part)
                }
                continue
            }
            parts.append(part)
        }
        let joined = parts.joined(separator: "/")
        let result = String(repeating: "/", count: initialSlashes) + joined
        return result.isEmpty ? "." : result
    }

    /// `os.path.abspath`.
    static func absolute(_ path: String) -> String {
        normalize(path.hasPrefix("/") ? path : join(currentDirectory(), path))
    }

    static func join(_ a: String, _ b: String) -> String {
        if b.hasPrefix("/") || a.isEmpty { return b }
        return a.hasSuffix("/") ? a + b : a + "/" + b
    }

    /// ansible-core's `basedir(source)`: the source itself if a directory, its directory if a file, else nil.
    static func basedir(_ source: String) -> String? {
        if isDirectory(source) { return absolute(source) }
        if source.isEmpty || source == "." { return currentDirectory() }
        if isFile(source) { return absolute(dirname(source)) }
        return nil
    }

    /// `os.path.dirname`.
    static func dirname(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        var head = String(path[...slash])
        if head != String(repeating: "/", count: head.count) {
            while head.hasSuffix("/") { head.removeLast() }
        }
        return head
    }

    /// `os.path.basename`.
    static func basename(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    /// `os.path.splitext(path)[1]`: the extension with its dot, or "" (a leading dot does not start one).
    static func fileExtension(_ path: String) -> String {
        let name = basename(path)
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return "" }
        if name[..<dot].allSatisfy({ $0 == "." }) { return "" }
        return String(name[dot...])
    }

    /// ansible-core's `unfrackpath(path, follow=False)`: `~` and `$VARS` expanded, made absolute, normalised.
    static func unfrack(_ path: String) -> String {
        absolute(expandVariables(expandUser(path)))
    }

    /// `os.path.expanduser` for `~` and `~/…`.
    static func expandUser(_ path: String) -> String {
        guard path == "~" || path.hasPrefix("~/") else { return path }
        guard let home = getenv("HOME") else { return path }
        var h = String(cString: home)
        if h.hasSuffix("/") && h.count > 1 { h.removeLast() }
        return h + path.dropFirst()
    }

    /// `os.path.expandvars`: `$NAME` and `${NAME}` of set variables.
    static func expandVariables(_ path: String) -> String {
        guard path.contains("$") else { return path }
        let chars = Array(path)
        var out = ""
        var i = 0
        func isNameChar(_ c: Character) -> Bool { c == "_" || (c.isASCII && (c.isLetter || c.isNumber)) }
        while i < chars.count {
            if chars[i] == "$", i + 1 < chars.count {
                var j = i + 1
                var name = ""
                var braced = false
                if chars[j] == "{" {
                    braced = true
                    j += 1
                    while j < chars.count && chars[j] != "}" {
                        name.append(chars[j])
                        j += 1
                    }
                    if j >= chars.count {
                        out.append(chars[i])
                        i += 1
                        continue
                    }
                    j += 1
                } else {
                    while j < chars.count && isNameChar(chars[j]) {
                        name.append(chars[j])
                        j += 1
                    }
                }
                if !name.isEmpty, let value = getenv(name) {
                    out += String(cString: value)
                    i = j
                    continue
                }
                _ = braced
            }
            out.append(chars[i])
            i += 1
        }
        return out
    }
}
