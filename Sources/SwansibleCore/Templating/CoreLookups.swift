// The controller side of templating: the lookups that read the controller's files or run its commands
// (`file`, `fileglob`, `first_found`, `pipe`, `lines`) and the YAML filters (`to_yaml`, `to_nice_yaml`,
// `from_yaml`, `from_yaml_all`), as ansible-core 2.19 runs them. `env`, `vars` and the data lookups
// (`items`, `dict`, `sequence`, …) are built into SwansibleTemplate.
//
// Relative paths are searched as ansible-core's `find_file_in_search_path` / `path_dwim_relative_stack` do:
// for each directory of the task's search path (`ansible_search_path`: the role paths of the dependency chain,
// then the directory of the task's file) `<dir>/files/<name>` then `<dir>/<name>`, then the same under the
// playbook directory (the loader's base directory).

import Foundation
public import SwansibleData
public import SwansibleTemplate
import SwansibleYAML

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The hooks the executor gives the template engine for one task: controller lookups searching `searchPaths`
/// (the task's `ansible_search_path`, see ``ansibleSearchPath(rolePaths:taskFile:)``) then `playbookDir`, and
/// the YAML filters.
///
/// - Parameters:
///   - searchPaths: the task's search path; for a task in a play, `[playbook dir]`.
///   - playbookDir: the loader's base directory (the directory of the playbook); also the working directory
///     of `pipe` and `lines` commands.
///   - inRole: the task comes from a role (ansible-core's `is_role`: `role_path` is defined).
///   - firstFoundSubdir: for the hooks that expand a `with_first_found` loop,
///     `CoreLookups.firstFoundLoopSubdir(action: task.action)`; nil otherwise.
public func makeCoreTemplateHooks(
    searchPaths: [String], playbookDir: String? = nil, inRole: Bool = false, firstFoundSubdir: String? = nil
) -> TemplateHooks {
    let base = playbookDir ?? searchPaths.last ?? FileManager.default.currentDirectoryPath
    var hooks = TemplateHooks()
    hooks.lookups = CoreLookups(
        searchPaths: searchPaths.isEmpty ? [base] : searchPaths, basedir: base, isRole: inRole,
        firstFoundSubdir: firstFoundSubdir)
    hooks.toYAML = { value, options in try CoreYAML.dump(value, options) }
    hooks.fromYAML = { text in try CoreYAML.load(text) }
    hooks.fromYAMLAll = { text in try CoreYAML.loadAll(text) }
    return hooks
}

/// ansible-core's `get_search_path` for a task: the role paths of its dependency chain (innermost role last,
/// listed outermost first as `rolePaths`), reversed, then the directory of the task's file unless already there.
public func ansibleSearchPath(rolePaths: [String], taskFile: String) -> [String] {
    var stack = Array(rolePaths.reversed())
    let taskDir = (taskFile as NSString).deletingLastPathComponent
    if !stack.contains(taskDir) { stack.append(taskDir) }
    return stack
}

/// Lookups that need the controller: `file`, `fileglob`, `first_found`, `pipe`, `lines`.
public struct CoreLookups: LookupProvider {
    /// `ansible_search_path`.
    public var searchPaths: [String]
    /// The loader's base directory (the playbook's directory).
    public var basedir: String
    /// The task comes from a role.
    public var isRole: Bool
    /// The subdirectory `first_found` searches: nil when it is called as a lookup (ansible-core then searches
    /// with no subdirectory); for a `with_first_found` loop, ansible-core's choice from the task's action:
    /// see ``CoreLookups/firstFoundLoopSubdir(action:)``.
    public var firstFoundSubdir: String?

    public init(searchPaths: [String], basedir: String, isRole: Bool = false, firstFoundSubdir: String? = nil) {
        self.searchPaths = searchPaths
        self.basedir = basedir
        self.isRole = isRole
        self.firstFoundSubdir = firstFoundSubdir
    }

    /// The subdirectory a `with_first_found` loop searches for a task whose action is `action`: `templates`,
    /// `vars` or `files`, the first of "template", "var", "file" the action name contains (else `files`).
    public static func firstFoundLoopSubdir(action: String) -> String {
        for word in ["template", "var", "file"] where action.contains(word) { return word + "s" }
        return "files"
    }

    public func lookup(name: String, terms: [Value], options: ValueDict) throws -> [Value] {
        try lookup(name: name, terms: terms, options: options, warn: { _ in })
    }

    public func lookup(name: String, terms: [Value], options: ValueDict, warn: (String) -> Void) throws -> [Value] {
        switch name {
        case "file": return try file(terms, options)
        case "fileglob": return try fileglob(terms, warn: warn)
        case "first_found": return try firstFound(terms, options)
        case "pipe":
            return try terms.map { term in
                let command = try Self.text(term)
                let (status, output) = try runShell(command, cwd: basedir)
                guard status == 0 else { throw LookupError.failed("lookup_plugin.pipe(\(command)) returned \(status)") }
                return .string(Self.pyRstrip(String(decoding: output, as: UTF8.self)))
            }
        case "lines":
            var out: [Value] = []
            for term in terms {
                let command = try Self.text(term)
                let (status, output) = try runShell(command, cwd: basedir)
                guard status == 0 else {
                    throw LookupError.failed("lookup_plugin.lines(\(command)) returned \(status)")
                }
                out += Self.bytesSplitLines(output).map { .string(String(decoding: $0, as: UTF8.self)) }
            }
            return out
        default:
            throw LookupError.notFound
        }
    }

    // MARK: file

    func file(_ terms: [Value], _ options: ValueDict) throws -> [Value] {
        var lstrip = false
        var rstrip = true
        for (k, v) in options {
            switch k {
            case "lstrip": lstrip = try Self.boolOption(v, k)
            case "rstrip": rstrip = try Self.boolOption(v, k)
            default: break  // ansible-core ignores options the plugin does not declare
            }
        }
        return try terms.map { term in
            let needle = try Self.text(term)
            guard let path = find(subdir: "files", needle) else {
                throw LookupError.failed(
                    "Unable to access the file \(pythonStringRepr(needle)): "
                        + "File not found. Use -vvvvv to see paths searched.")
            }
            let data: Data
            do {
                data = try Self.readFile(path)
            } catch {
                throw LookupError.failed(
                    "Unable to access the file \(pythonStringRepr(needle)): "
                        + "An error occurred while trying to read the file \(pythonStringRepr(path)): \(error)")
            }
            var text = String(decoding: data, as: UTF8.self)
            if lstrip { text = Self.pyLstrip(text) }
            if rstrip { text = Self.pyRstrip(text) }
            return .string(text)
        }
    }

    // MARK: fileglob

    func fileglob(_ terms: [Value], warn: (String) -> Void) throws -> [Value] {
        var out: [Value] = []
        for term in terms {
            let pattern = try Self.text(term)
            let fileName = (pattern as NSString).lastPathComponent
            let name = pattern.hasSuffix("/") ? "" : fileName
            var dirs: [String?] = []
            if name != pattern {
                let dir = Self.pyDirname(pattern)
                if let found = find(subdir: "files", dir) {
                    dirs.append(found)
                } else {
                    warn("Unable to find \(pythonStringRepr(dir)) in expected paths (use -vvvvv to see paths)")
                    dirs.append(nil)
                }
            } else {
                for p in searchPaths {
                    dirs.append(Self.join(p, "files"))
                    dirs.append(p)
                }
            }
            for case let dir? in dirs where !dir.isEmpty {
                let matches = Self.glob(Self.join(dir, name)).filter { Self.isRegularFile($0) }
                if !matches.isEmpty {
                    out += matches.map { .string($0) }
                    break
                }
            }
        }
        return out
    }

    // MARK: first_found

    func firstFound(_ terms: [Value], _ options: ValueDict) throws -> [Value] {
        struct Opts {
            var files: [String] = []
            var paths: [String] = []
            var skip = false
        }
        func parse(_ d: ValueDict) throws -> Opts {
            var o = Opts()
            for (k, v) in d {
                switch k {
                case "files": o.files = try Self.listOption(v)
                case "paths": o.paths = try Self.listOption(v)
                case "skip": o.skip = try Self.boolOption(v, k)
                default: break
                }
            }
            return o
        }
        var current = try parse(options)
        func splitOn(_ items: [String], _ separators: Set<Character>) -> [String] {
            items.flatMap { item in
                item.split(omittingEmptySubsequences: false, whereSeparator: separators.contains).map(String.init)
            }
        }
        func process(_ terms: [Value]) throws -> [String] {
            var total: [String] = []
            for term in terms {
                let files: [String]
                switch term {
                case .dict(let d):
                    current = try parse(d)
                    files = current.files
                case .string(let s), .unsafe(let s):
                    files = [s]
                case .list(let l):
                    total += try process(l)
                    continue
                default:
                    throw LookupError.failed(
                        "Invalid term supplied. A string, dict or list is required, "
                            + "not \(pythonStringRepr(term.pythonTypeName))).")
                }
                let fileList = splitOn(files, [",", ";"])
                let pathList = splitOn(current.paths, [",", ":", ";"])
                if pathList.isEmpty {
                    total += fileList
                } else {
                    for p in pathList { for f in fileList { total.append(Self.join(p, f)) } }
                }
            }
            return total
        }
        let effective = terms.isEmpty ? current.files.map(Value.string) : terms
        for candidate in try process(effective) {
            // Invoked as a lookup (not `with_first_found`), ansible-core searches with no subdirectory, which
            // its path joining spells "None".
            if let found = find(subdir: firstFoundSubdir ?? "None", candidate) {
                return [.string(Self.normalize(found))]
            }
        }
        if current.skip { return [] }
        throw LookupError.failed("No file was found when using first_found.")
    }

    // MARK: search

    /// ansible-core's `path_dwim_relative_stack`: the first existing candidate, or nil.
    func find(subdir: String, _ needle: String) -> String? {
        if needle.hasPrefix("~") || needle.hasPrefix("/") {
            let path = Self.normalize(Self.expandUser(needle))
            return FileManager.default.fileExists(atPath: path) ? path : nil
        }
        var candidates: [String] = []
        let firstPart = needle.split(separator: "/", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        for path in searchPaths {
            let upath = Self.normalize(Self.expandUser(path))
            let parent = Self.pyDirname(upath)
            if (isRole || Self.looksLikeRole(path)) && parent.hasSuffix("/tasks") {
                candidates.append(Self.join(Self.join(Self.pyDirname(parent), subdir), needle))
                candidates.append(Self.join(parent, needle))
            }
            if firstPart != subdir { candidates.append(Self.join(Self.join(upath, subdir), needle)) }
            candidates.append(Self.join(upath, needle))
        }
        if firstPart != subdir { candidates.append(Self.join(Self.join(basedir, subdir), needle)) }
        candidates.append(Self.join(basedir, needle))
        return candidates.first { FileManager.default.fileExists(atPath: $0) }
    }

    /// ansible-core's `_is_role`: a directory holding `main.yml` or `tasks/main.yml` (or `.yaml`, or no suffix).
    static func looksLikeRole(_ path: String) -> Bool {
        let upath = normalize(expandUser(path))
        for name in ["main.yml", "main.yaml", "main"] {
            if FileManager.default.fileExists(atPath: join(path, name)) { return true }
            if FileManager.default.fileExists(atPath: join(join(upath, "tasks"), name)) { return true }
            if FileManager.default.fileExists(atPath: join(join(upath, "meta"), name)) { return true }
        }
        return false
    }

    // MARK: helpers

    static func text(_ v: Value) throws -> String {
        switch v {
        case .string(let s), .unsafe(let s): return s
        case .null: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .float(let d): return pythonFloatRepr(d)
        default: return v.json(.compactSorted)
        }
    }

    /// ansible-core's non-strict `boolean()`, as lookup options of type bool are read: anything but a true
    /// spelling is false.
    static func boolOption(_ v: Value, _ name: String) throws -> Bool {
        switch v {
        case .bool(let b): return b
        case .int(let i): return i == 1
        case .float(let d): return d == 1
        case .string(let s), .unsafe(let s):
            return ["y", "yes", "on", "1", "true", "t"].contains(s.lowercased().trimmingCharacters(in: .whitespaces))
        default: return false
        }
    }

    static func listOption(_ v: Value) throws -> [String] {
        switch v {
        case .list(let l): return try l.map(text)
        case .null: return []
        case .string(let s), .unsafe(let s):
            return s.isEmpty ? [] : s.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
        default: return [try text(v)]
        }
    }

    struct OSError: Error, CustomStringConvertible {
        var code: Int32
        var path: String
        var description: String { "[Errno \(code)] \(String(cString: strerror(code))): \(pythonStringRepr(path))" }
    }

    /// The file's bytes, or Python's `OSError` text (`[Errno 21] Is a directory: '/etc'`).
    static func readFile(_ path: String) throws -> Data {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw OSError(code: errno, path: path) }
        defer { close(fd) }
        var out = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                out.append(contentsOf: buffer[0..<n])
            } else if n == 0 {
                return out
            } else if errno != EINTR {
                throw OSError(code: errno, path: path)
            }
        }
    }

    static func isDirectory(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
    }

    static func isRegularFile(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && !isDir.boolValue
    }

    /// `os.path.join` of two parts.
    static func join(_ a: String, _ b: String) -> String {
        if b.hasPrefix("/") { return b }
        if a.isEmpty || a.hasSuffix("/") { return a + b }
        return a + "/" + b
    }

    /// `os.path.dirname`.
    static func pyDirname(_ p: String) -> String {
        guard let slash = p.lastIndex(of: "/") else { return "" }
        var head = String(p[...slash])
        if !head.allSatisfy({ $0 == "/" }) { while head.hasSuffix("/") { head.removeLast() } }
        return head
    }

    /// `os.path.normpath(os.path.abspath(p))` without resolving symlinks (ansible-core's `unfrackpath`,
    /// follow=False).
    static func normalize(_ p: String) -> String {
        let absolute = p.hasPrefix("/") ? p : join(FileManager.default.currentDirectoryPath, p)
        var parts: [Substring] = []
        for part in absolute.split(separator: "/") {
            if part == "." { continue }
            if part == ".." {
                if !parts.isEmpty { parts.removeLast() }
                continue
            }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }

    /// `os.path.expanduser`.
    static func expandUser(_ p: String) -> String {
        guard p.hasPrefix("~") else { return p }
        let rest = p.dropFirst()
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let user = String(rest[..<slash])
        var home: String
        if user.isEmpty {
            guard let h = ProcessInfo.processInfo.environment["HOME"] else { return p }
            home = h
        } else {
            guard let pw = getpwnam(user), let dir = pw.pointee.pw_dir else { return p }
            home = String(cString: dir)
        }
        while home.count > 1 && home.hasSuffix("/") { home.removeLast() }
        return home + String(rest[slash...])
    }

    /// Python's `glob.glob` of one pattern: matches in directory order (glob(3) without sorting, which reads
    /// directories as Python's `os.scandir` does); `*` and `?` do not match a leading dot.
    static func glob(_ pattern: String) -> [String] {
        var g = glob_t()
        defer { globfree(&g) }
        guard Glibc.glob(pattern, GLOB_NOSORT, nil, &g) == 0 else { return [] }
        var out: [String] = []
        for i in 0..<Int(g.gl_pathc) {
            if let p = g.gl_pathv[i] { out.append(String(cString: p)) }
        }
        return out
    }

    /// Python's `str.rstrip()` (Unicode whitespace).
    static func pyRstrip(_ s: String) -> String {
        var scalars = Substring(s).unicodeScalars
        while let last = scalars.last, isPyWhitespace(last) { scalars.removeLast() }
        return String(scalars)
    }

    static func pyLstrip(_ s: String) -> String {
        var scalars = Substring(s).unicodeScalars
        while let first = scalars.first, isPyWhitespace(first) { scalars.removeFirst() }
        return String(scalars)
    }

    static func isPyWhitespace(_ u: Unicode.Scalar) -> Bool {
        switch u.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0: return true
        default: return u.properties.isWhitespace && u.value > 0x7F
        }
    }

    /// Python's `bytes.splitlines()`: `\n`, `\r` and `\r\n` end lines; no empty last line.
    static func bytesSplitLines(_ data: [UInt8]) -> [ArraySlice<UInt8>] {
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        var i = 0
        while i < data.count {
            let c = data[i]
            if c == 0x0A || c == 0x0D {
                lines.append(data[start..<i])
                if c == 0x0D && i + 1 < data.count && data[i + 1] == 0x0A { i += 1 }
                start = i + 1
            }
            i += 1
        }
        if start < data.count { lines.append(data[start...]) }
        return lines
    }
}

/// Runs `/bin/sh -c command` in `cwd` with stdin from /dev/null and stderr inherited (as ansible-core's
/// `subprocess.Popen(..., shell=True, stdout=PIPE)` does); returns the exit status (128+signal when killed,
/// as a shell reports it) and stdout.
func runShell(_ command: String, cwd: String) throws -> (Int32, [UInt8]) {
    var fds: [Int32] = [-1, -1]
    guard pipe(&fds) == 0 else { throw LookupError.failed("pipe() failed: \(String(cString: strerror(errno)))") }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
    posix_spawn_file_actions_addclose(&actions, fds[0])
    posix_spawn_file_actions_addclose(&actions, fds[1])
    if !cwd.isEmpty { _ = spawnAddChdir(&actions, cwd) }
    // The child starts with default signal handling and an empty mask (the test runner blocks SIGTERM).
    var attr = posix_spawnattr_t()
    posix_spawnattr_init(&attr)
    defer { posix_spawnattr_destroy(&attr) }
    var empty = sigset_t()
    sigemptyset(&empty)
    posix_spawnattr_setsigmask(&attr, &empty)
    var defaults = sigset_t()
    sigemptyset(&defaults)
    for s in [SIGPIPE, SIGTERM, SIGINT, SIGQUIT, SIGHUP] { sigaddset(&defaults, s) }
    posix_spawnattr_setsigdefault(&attr, &defaults)
    posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    var pid: pid_t = 0
    let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sh"), strdup("-c"), strdup(command), nil]
    defer { for p in argv { free(p) } }
    let rc = posix_spawn(&pid, "/bin/sh", &actions, &attr, argv, environ)
    close(fds[1])
    guard rc == 0 else {
        close(fds[0])
        throw LookupError.failed("[Errno \(rc)] \(String(cString: strerror(rc))): '/bin/sh'")
    }
    var output: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = buffer.withUnsafeMutableBytes { read(fds[0], $0.baseAddress, $0.count) }
        if n > 0 {
            output.append(contentsOf: buffer[0..<n])
        } else if n < 0 && errno == EINTR {
            continue
        } else {
            break
        }
    }
    close(fds[0])
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    // WIFEXITED / WEXITSTATUS / WTERMSIG by hand (the macros are not imported).
    let signal = status & 0x7F
    if signal == 0 { return ((status >> 8) & 0xFF, output) }
    return (-signal, output)  // Python's returncode for a killed child
}

/// glibc's `posix_spawn_file_actions_addchdir_np` (2.29+), which the Glibc module does not import.
@_silgen_name("posix_spawn_file_actions_addchdir_np")
private func spawnAddChdir(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ path: UnsafePointer<CChar>)
    -> Int32

/// PyYAML's `yaml.dump` / `yaml.load` as ansible-core's YAML filters call them.
enum CoreYAML {
    static func dump(_ value: Value, _ options: SwansibleTemplate.YAMLDumpOptions) throws -> String {
        let o = SwansibleYAML.YAMLDumpOptions(
            indent: options.indent, width: options.width, defaultFlowStyle: options.defaultFlowStyle,
            sortKeys: options.sortKeys, allowUnicode: true, explicitStart: options.explicitStart,
            explicitEnd: options.explicitEnd)
        for (k, v) in options.extra {
            switch k {
            case "allow_unicode":
                // The filters pass allow_unicode=True themselves.
                throw LookupError.failed("yaml.dump() got multiple values for keyword argument 'allow_unicode'")
            case "canonical", "line_break", "encoding", "version", "tags", "Dumper": break
            default: throw LookupError.failed("dump_all() got an unexpected keyword argument \(pythonStringRepr(k))")
            }
        }
        return value.yamlString(o)
    }

    static func load(_ text: String) throws -> Value {
        try SwansibleYAML.YAML.loadValue(text: text, file: "<unicode string>", options: .fromYAMLFilter)
    }

    static func loadAll(_ text: String) throws -> [Value] {
        try SwansibleYAML.YAML.loadAllValues(text: text, file: "<unicode string>", options: .fromYAMLFilter)
    }
}
