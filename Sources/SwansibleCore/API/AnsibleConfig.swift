import Foundation
import SwansibleData

/// ansible.cfg and the `ANSIBLE_*` environment, found and read as ansible-core does, for the settings
/// swansible honours.
///
/// The file is the first found of `$ANSIBLE_CONFIG` (a file, or a directory holding `ansible.cfg`),
/// `./ansible.cfg` (skipped, with ansible's warning, when the working directory is world-writable),
/// `~/.ansible.cfg`, `/etc/ansible/ansible.cfg`. A setting's value is its environment variable's, else the
/// file's, else the default; command-line flags rank above both (the CLI applies them after
/// ``apply(to:)``). Unknown sections and keys are ignored, as ansible ignores them.
public struct AnsibleConfig: Sendable {
    /// The file read, if any.
    public private(set) var path: String?
    /// ansible's warnings about finding the file (a world-writable working directory).
    public private(set) var warnings: [String] = []
    /// `section → key → raw value` (keys lower-cased, as Python's configparser does).
    public private(set) var sections: [String: [String: String]] = [:]
    let environment: [String: String]
    let currentDirectory: String

    /// One ansible setting: its environment variables and ini entries (later ones win, as in ansible).
    public struct Setting: Sendable {
        public let name: String
        public let env: [String]
        public let ini: [(section: String, key: String)]

        public init(_ name: String, env: [String], ini: [(String, String)]) {
            self.name = name
            self.env = env
            self.ini = ini.map { (section: $0.0, key: $0.1) }
        }

        public static let logPath = Setting("DEFAULT_LOG_PATH", env: ["ANSIBLE_LOG_PATH"], ini: [("defaults", "log_path")])
        public static let hostList = Setting("DEFAULT_HOST_LIST", env: ["ANSIBLE_INVENTORY"], ini: [("defaults", "inventory")])
        public static let forks = Setting("DEFAULT_FORKS", env: ["ANSIBLE_FORKS"], ini: [("defaults", "forks")])
        public static let deprecationWarnings = Setting(
            "DEPRECATION_WARNINGS", env: ["ANSIBLE_DEPRECATION_WARNINGS"], ini: [("defaults", "deprecation_warnings")])
        public static let remoteUser = Setting("DEFAULT_REMOTE_USER", env: ["ANSIBLE_REMOTE_USER"], ini: [("defaults", "remote_user")])
        public static let privateKeyFile = Setting(
            "DEFAULT_PRIVATE_KEY_FILE", env: ["ANSIBLE_PRIVATE_KEY_FILE"], ini: [("defaults", "private_key_file")])
        public static let hostKeyChecking = Setting(
            "HOST_KEY_CHECKING", env: ["ANSIBLE_HOST_KEY_CHECKING", "ANSIBLE_SSH_HOST_KEY_CHECKING"],
            ini: [("defaults", "host_key_checking"), ("ssh_connection", "host_key_checking")])
        public static let timeout = Setting(
            "DEFAULT_TIMEOUT", env: ["ANSIBLE_TIMEOUT", "ANSIBLE_SSH_TIMEOUT"],
            ini: [("defaults", "timeout"), ("ssh_connection", "timeout")])
        public static let moduleStrictUTF8Response = Setting(
            "MODULE_STRICT_UTF8_RESPONSE", env: ["ANSIBLE_MODULE_STRICT_UTF8_RESPONSE"],
            ini: [("defaults", "module_strict_utf8_response")])
        public static let taskTimeout = Setting(
            "TASK_TIMEOUT", env: ["ANSIBLE_TASK_TIMEOUT"], ini: [("defaults", "task_timeout")])
        public static let rolesPath = Setting("DEFAULT_ROLES_PATH", env: ["ANSIBLE_ROLES_PATH"], ini: [("defaults", "roles_path")])
        public static let become = Setting("DEFAULT_BECOME", env: ["ANSIBLE_BECOME"], ini: [("privilege_escalation", "become")])
        public static let becomeMethod = Setting(
            "DEFAULT_BECOME_METHOD", env: ["ANSIBLE_BECOME_METHOD"], ini: [("privilege_escalation", "become_method")])
        public static let becomeUser = Setting(
            "DEFAULT_BECOME_USER", env: ["ANSIBLE_BECOME_USER"], ini: [("privilege_escalation", "become_user")])
        public static let becomeAskPass = Setting(
            "DEFAULT_BECOME_ASK_PASS", env: ["ANSIBLE_BECOME_ASK_PASS"], ini: [("privilege_escalation", "become_ask_pass")])
        public static let askPass = Setting("DEFAULT_ASK_PASS", env: ["ANSIBLE_ASK_PASS"], ini: [("defaults", "ask_pass")])
        public static let gathering = Setting("DEFAULT_GATHERING", env: ["ANSIBLE_GATHERING"], ini: [("defaults", "gathering")])
        public static let stdoutCallback = Setting(
            "DEFAULT_STDOUT_CALLBACK", env: ["ANSIBLE_STDOUT_CALLBACK"], ini: [("defaults", "stdout_callback")])
        public static let forceHandlers = Setting(
            "DEFAULT_FORCE_HANDLERS", env: ["ANSIBLE_FORCE_HANDLERS"], ini: [("defaults", "force_handlers")])
        public static let verbosity = Setting("DEFAULT_VERBOSITY", env: ["ANSIBLE_VERBOSITY"], ini: [("defaults", "verbosity")])
        public static let remotePort = Setting("DEFAULT_REMOTE_PORT", env: ["ANSIBLE_REMOTE_PORT"], ini: [("defaults", "remote_port")])
        public static let transport = Setting("DEFAULT_TRANSPORT", env: ["ANSIBLE_TRANSPORT"], ini: [("defaults", "transport")])
        public static let sshArgs = Setting("ssh_args", env: ["ANSIBLE_SSH_ARGS"], ini: [("ssh_connection", "ssh_args")])
        public static let sshCommonArgs = Setting(
            "ssh_common_args", env: ["ANSIBLE_SSH_COMMON_ARGS"], ini: [("ssh_connection", "ssh_common_args")])
        public static let sshExtraArgs = Setting(
            "ssh_extra_args", env: ["ANSIBLE_SSH_EXTRA_ARGS"], ini: [("ssh_connection", "ssh_extra_args")])
        public static let noColor = Setting("ANSIBLE_NOCOLOR", env: ["ANSIBLE_NOCOLOR", "NO_COLOR"], ini: [("defaults", "nocolor")])
        public static let forceColor = Setting("ANSIBLE_FORCE_COLOR", env: ["ANSIBLE_FORCE_COLOR"], ini: [("defaults", "force_color")])
        public static let displaySkippedHosts = Setting(
            "DISPLAY_SKIPPED_HOSTS", env: ["ANSIBLE_DISPLAY_SKIPPED_HOSTS"], ini: [("defaults", "display_skipped_hosts")])
        public static let displayOkHosts = Setting(
            "display_ok_hosts", env: ["ANSIBLE_DISPLAY_OK_HOSTS"], ini: [("defaults", "display_ok_hosts")])
        public static let diffContext = Setting("DIFF_CONTEXT", env: ["ANSIBLE_DIFF_CONTEXT"], ini: [("diff", "context")])
        public static let diffAlways = Setting("DIFF_ALWAYS", env: ["ANSIBLE_DIFF_ALWAYS"], ini: [("diff", "always")])
        public static let anyUnparsedIsFailed = Setting(
            "INVENTORY_ANY_UNPARSED_IS_FAILED", env: ["ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED"],
            ini: [("inventory", "any_unparsed_is_failed")])
        public static let unparsedIsFailed = Setting(
            "INVENTORY_UNPARSED_IS_FAILED", env: ["ANSIBLE_INVENTORY_UNPARSED_FAILED"], ini: [("inventory", "unparsed_is_failed")])
        public static let unparsedWarning = Setting(
            "INVENTORY_UNPARSED_WARNING", env: ["ANSIBLE_INVENTORY_UNPARSED_WARNING"],
            ini: [("inventory", "inventory_unparsed_warning")])
        public static let hostPatternMismatch = Setting(
            "HOST_PATTERN_MISMATCH", env: ["ANSIBLE_HOST_PATTERN_MISMATCH"], ini: [("inventory", "host_pattern_mismatch")])
    }

    /// A raw value and where it came from: `env: NAME` or the file's path (ansible's origins).
    public struct Found: Sendable, Equatable {
        public var value: String
        public var origin: String
        public var fromFile: Bool
    }

    /// An empty configuration (no file) over the given environment.
    public init(environment: [String: String] = [:], currentDirectory: String = "/") {
        self.environment = environment
        self.currentDirectory = currentDirectory
    }

    /// Finds and reads the configuration file as ansible-core does.
    /// - Throws: ``AnsibleConfigError`` for an unreadable or malformed file.
    public static func load() throws(AnsibleConfigError) -> AnsibleConfig {
        try load(environment: ProcessInfo.processInfo.environment, currentDirectory: FileManager.default.currentDirectoryPath)
    }

    /// Finds and reads the configuration file for the given environment and working directory.
    public static func load(environment: [String: String], currentDirectory: String) throws(AnsibleConfigError) -> AnsibleConfig {
        var config = AnsibleConfig(environment: environment, currentDirectory: currentDirectory)
        let (path, warnings) = findFile(environment: environment, currentDirectory: currentDirectory)
        config.warnings = warnings
        guard let path else { return config }
        config.path = path
        guard let data = FileManager.default.contents(atPath: path) else {
            throw AnsibleConfigError("Error reading config file (\(path)): cannot read the file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw AnsibleConfigError(
                "Error reading config file(\(path)) because the config file was not utf8 encoded")
        }
        config.sections = try parseINI(text, path: path)
        return config
    }

    /// The file ansible would read, and its warnings.
    public static func findFile(environment: [String: String], currentDirectory: String) -> (String?, [String]) {
        var candidates: [String] = []
        var fromEnv: String?
        let home = environment["HOME"] ?? NSHomeDirectory()
        func expand(_ p: String) -> String {
            var p = p
            if p == "~" || p.hasPrefix("~/") { p = home + p.dropFirst(1) }
            return p.hasPrefix("/") ? p : currentDirectory + "/" + p
        }
        if let env = environment["ANSIBLE_CONFIG"] {
            var p = expand(env)
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: p, isDirectory: &isDir), isDir.boolValue { p += "/ansible.cfg" }
            fromEnv = p
            candidates.append(p)
        }
        var skippedCwd = false
        let cwdFile = currentDirectory + "/ansible.cfg"
        var st = stat()
        if stat(currentDirectory, &st) == 0 {
            if st.st_mode & S_IWOTH != 0 {
                skippedCwd = FileManager.default.fileExists(atPath: cwdFile)
            } else {
                candidates.append(cwdFile)
            }
        }
        candidates.append(home + "/.ansible.cfg")
        candidates.append("/etc/ansible/ansible.cfg")
        let found = candidates.first { FileManager.default.fileExists(atPath: $0) && access($0, R_OK) == 0 }
        var warnings: [String] = []
        if skippedCwd && (fromEnv == nil || fromEnv != found) {
            warnings.append(
                "Ansible is being run in a world writable directory (\(currentDirectory)), ignoring it as an ansible.cfg source. "
                    + "For more information see https://docs.ansible.com/ansible/devel/reference_appendices/config.html#cfg-in-world-writable-dir")
        }
        return (found, warnings)
    }

    /// Python's configparser as ansible sets it up: `[section]`, `key = value` or `key: value`, `#`/`;` comment
    /// lines, `;` inline comments after whitespace, indented continuation lines, no duplicates, no value-less keys.
    public static func parseINI(_ text: String, path: String) throws(AnsibleConfigError) -> [String: [String: String]] {
        var sections: [String: [String: String]] = [:]
        var current: String?
        var lastKey: String?
        var errors: [String] = []
        func failure(_ message: String) -> AnsibleConfigError {
            AnsibleConfigError("Error reading config file (\(path)): " + message)
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.hasSuffix("\r") ? String($0.dropLast()) : String($0)
        }
        for (index, raw) in lines.enumerated() {
            let lineNumber = index + 1
            var line = raw
            // Inline comments: `;` preceded by whitespace.
            if let r = line.range(of: #"\s;"#, options: .regularExpression) { line = String(line[..<r.lowerBound]) }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("#") || trimmed.hasPrefix(";") { continue }
            if trimmed.isEmpty {
                lastKey = nil
                continue
            }
            let indented = line.first == " " || line.first == "\t"
            if indented, let section = current, let key = lastKey {
                let previous = sections[section]?[key] ?? ""
                sections[section]?[key] = previous.isEmpty ? trimmed : previous + "\n" + trimmed
                continue
            }
            if trimmed.hasPrefix("[") && trimmed.hasSuffix("]") {
                let name = String(trimmed.dropFirst().dropLast())
                if sections[name] != nil {
                    throw failure("While reading from '<string>' [line \(pad(lineNumber))]: section '\(name)' already exists")
                }
                sections[name] = [:]
                current = name
                lastKey = nil
                continue
            }
            guard let section = current else {
                throw failure("File contains no section headers.\nfile: '<string>', line: \(lineNumber)\n\(pythonStringRepr(raw + "\n"))")
            }
            let separator = line.firstIndex { $0 == "=" || $0 == ":" }
            guard let separator else {
                errors.append("\t[line \(pad(lineNumber))]: \(pythonStringRepr(raw + "\n"))")
                continue
            }
            let key = line[..<separator].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: separator)...].trimmingCharacters(in: .whitespaces)
            if key.isEmpty {
                errors.append("\t[line \(pad(lineNumber))]: \(pythonStringRepr(raw + "\n"))")
                continue
            }
            if sections[section]?[key] != nil {
                throw failure(
                    "While reading from '<string>' [line \(pad(lineNumber))]: option '\(key)' in section '\(section)' already exists")
            }
            sections[section]?[key] = value
            lastKey = key
        }
        if !errors.isEmpty {
            throw failure("Source contains parsing errors: '<string>'\n" + errors.joined(separator: "\n"))
        }
        return sections
    }

    private static func pad(_ n: Int) -> String {
        let s = String(n)
        return s.count < 2 ? " " + s : s
    }

    // MARK: - values

    /// The raw value of a setting: the last set environment variable, else the file's last entry.
    public func raw(_ setting: Setting) -> Found? {
        var found: Found?
        for name in setting.env {
            if let v = environment[name] { found = Found(value: v, origin: "env: \(name)", fromFile: false) }
        }
        if found != nil { return found }
        for entry in setting.ini {
            if let v = sections[entry.section]?[entry.key], let path {
                found = Found(value: v, origin: path, fromFile: true)
            }
        }
        return found
    }

    public func string(_ setting: Setting) -> String? { raw(setting)?.value }

    /// ansible's non-strict boolean: `y yes on 1 true t` (any case) are true, anything else false.
    public func bool(_ setting: Setting) -> Bool? {
        guard let v = raw(setting)?.value else { return nil }
        return Self.truthy(v)
    }

    public static func truthy(_ v: String) -> Bool {
        ["y", "yes", "on", "1", "true", "t", "1.0"].contains(v.trimmingCharacters(in: .whitespaces).lowercased())
    }

    public func int(_ setting: Setting) throws(AnsibleConfigError) -> Int? {
        guard let found = raw(setting) else { return nil }
        let text = found.value.trimmingCharacters(in: .whitespaces)
        if let n = Int(text) { return n }
        if let d = Double(text), d == d.rounded(), abs(d) < 1e15 { return Int(d) }
        throw AnsibleConfigError(
            "Config '\(setting.name)' from '\(found.origin)' has an invalid value: Invalid value provided for 'integer': '\(found.value)'")
    }

    /// A path: `~` and `$VAR` expanded, relative paths resolved from the file's directory (from the working
    /// directory when the value came from the environment).
    public func path(_ setting: Setting) -> String? {
        guard let found = raw(setting) else { return nil }
        return resolve(found.value.trimmingCharacters(in: .whitespaces), found)
    }

    /// A comma-separated path list (`inventory`).
    public func pathList(_ setting: Setting) -> [String]? {
        guard let found = raw(setting) else { return nil }
        return found.value.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .map { resolve($0, found) }
    }

    /// A colon-separated path list (`roles_path`).
    public func pathSpec(_ setting: Setting) -> [String]? {
        guard let found = raw(setting) else { return nil }
        return found.value.split(separator: ":", omittingEmptySubsequences: false).map { resolve(String($0), found) }
    }

    func resolve(_ value: String, _ found: Found) -> String {
        var p = value.replacingOccurrences(of: "{{CWD}}", with: currentDirectory)
        let home = environment["HOME"] ?? NSHomeDirectory()
        if p == "~" || p.hasPrefix("~/") { p = home + p.dropFirst(1) }
        p = expandVariables(p)
        if p.hasPrefix("/") { return Self.normalize(p) }
        let base = found.fromFile ? ((found.origin as NSString).deletingLastPathComponent) : currentDirectory
        return Self.normalize(base + "/" + p)
    }

    /// `$NAME` and `${NAME}` from the environment; unknown names stay as written (os.path.expandvars).
    func expandVariables(_ s: String) -> String {
        guard s.contains("$") else { return s }
        var out = ""
        var i = s.startIndex
        while i < s.endIndex {
            let c = s[i]
            guard c == "$" else {
                out.append(c)
                i = s.index(after: i)
                continue
            }
            var j = s.index(after: i)
            var name = ""
            var braced = false
            if j < s.endIndex, s[j] == "{" {
                braced = true
                j = s.index(after: j)
            }
            while j < s.endIndex, s[j].isLetter || s[j].isNumber || s[j] == "_" {
                name.append(s[j])
                j = s.index(after: j)
            }
            if braced {
                guard j < s.endIndex, s[j] == "}" else {
                    out.append(c)
                    i = s.index(after: i)
                    continue
                }
                j = s.index(after: j)
            }
            if !name.isEmpty, let v = environment[name] {
                out += v
                i = j
            } else {
                out.append(c)
                i = s.index(after: i)
            }
        }
        return out
    }

    static func normalize(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            if part == "." || part.isEmpty { continue }
            if part == ".." {
                if !parts.isEmpty { parts.removeLast() }
                continue
            }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }

    // MARK: - what swansible uses

    /// Inventory sources when no `-i` is given (`inventory`, default `/etc/ansible/hosts`).
    public var inventorySources: [String] {
        pathList(.hostList)?.filter { !$0.isEmpty } ?? ["/etc/ansible/hosts"]
    }

    /// `roles_path`: where roles are looked for after the playbook's `roles/` directory.
    public var rolesPath: [String] {
        if let p = pathSpec(.rolesPath) { return p }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return [home + "/.ansible/roles", "/usr/share/ansible/roles", "/etc/ansible/roles"]
    }

    /// Whether output is colored: `force_color` wins, then `nocolor`/`NO_COLOR`, then whether stdout is a terminal.
    public func useColor(isTerminal: Bool) -> Bool {
        if bool(.forceColor) == true { return true }
        if bool(.noColor) == true { return false }
        return isTerminal
    }

    /// The inventory settings (`[inventory]`).
    public func inventoryOptions() throws(AnsibleConfigError) -> InventoryOptions {
        var o = InventoryOptions()
        if let b = bool(.anyUnparsedIsFailed) { o.anyUnparsedIsFailed = b }
        if let b = bool(.unparsedIsFailed) { o.unparsedIsFailed = b }
        if let b = bool(.unparsedWarning) { o.unparsedWarning = b }
        if let m = raw(.hostPatternMismatch) {
            switch m.value.trimmingCharacters(in: .whitespaces).lowercased() {
            case "warning": o.hostPatternMismatch = .warning
            case "error": o.hostPatternMismatch = .error
            case "ignore": o.hostPatternMismatch = .ignore
            default:
                throw AnsibleConfigError(
                    "Config 'HOST_PATTERN_MISMATCH' from '\(m.origin)' has an invalid value: Invalid value \"\(m.value)\" for "
                        + "configuration option \"setting: HOST_PATTERN_MISMATCH \", valid values are: ['warning', 'error', 'ignore']")
            }
        }
        return o
    }

    /// Sets the run's defaults from the configuration (environment, then file); the CLI's flags go on top.
    public func apply(to o: inout RunOptions) throws(AnsibleConfigError) {
        if let f = try int(.forks) { o.forks = f }
        if let u = string(.remoteUser) { o.remoteUser = u }
        if let k = path(.privateKeyFile) { o.privateKeyFile = k }
        if let h = bool(.hostKeyChecking) { o.hostKeyChecking = h }
        if let u = bool(.moduleStrictUTF8Response) { o.moduleStrictUTF8Response = u }
        if let d = bool(.deprecationWarnings) { o.deprecationWarnings = d }
        if let t = try int(.timeout) { o.timeout = t }
        if let t = try int(.taskTimeout) { o.taskTimeout = t > 0 ? t : nil }
        if let b = bool(.become) { o.become = b }
        if let m = string(.becomeMethod) { o.becomeMethod = m }
        if let u = string(.becomeUser) { o.becomeUser = u }
        if let g = string(.gathering) { o.gathering = g.trimmingCharacters(in: .whitespaces).lowercased() }
        if let f = bool(.forceHandlers) { o.forceHandlers = f }
        if let v = try int(.verbosity) { o.verbosity = v }
        if let p = try int(.remotePort) { o.port = p }
        if let t = string(.transport), ["local", "ssh"].contains(t) { o.connection = t }
        // ssh_args (ControlMaster and friends by default) only matters for the -o options swansible reads.
        let common = [string(.sshArgs), string(.sshCommonArgs)].compactMap { $0 }.filter { !$0.isEmpty }
        if !common.isEmpty { o.sshCommonArgs = common.joined(separator: " ") }
        if let e = string(.sshExtraArgs), !e.isEmpty { o.sshExtraArgs = e }
        if let d = try int(.diffContext) { o.diffContext = d }
        if bool(.diffAlways) == true { o.diff = true }
        o.rolesPath = rolesPath
    }
}

/// A configuration that ansible-core refuses (`AnsibleOptionsError`: exit code 5).
public struct AnsibleConfigError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var exitCode: Int32 { 5 }
    public var description: String { message }

    public init(_ message: String) { self.message = message }
}
