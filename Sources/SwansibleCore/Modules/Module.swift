public import SwansibleData
public import SwansibleSSH
import Foundation

/// What a module gets to work with on one host.
public struct ModuleContext: Sendable {
    public var hostName: String
    public var connection: any HostConnection
    public var become: BecomeSpec?
    public var checkMode: Bool
    public var diffMode: Bool
    /// The task's `environment:` (already templated).
    public var environment: [(String, String)]
    /// The task's `timeout:`.
    public var timeout: Duration?
    /// Where `src:` files are searched on the controller (role files/, playbook dir files/, …).
    public var searchPaths: [String]
    /// Where `template` searches `src:` (role templates/, playbook dir templates/, …).
    public var templateSearchPaths: [String] = []
    /// `MODULE_STRICT_UTF8_RESPONSE`: output that is not UTF-8 fails the task (ansible-core 2.19's default).
    public var strictUTF8 = true
    /// Renders a template file's text (a whole Jinja2 template, not a task argument) with the host's
    /// variables, plus `extra` variables on top (the template module's `template_*` vars).
    public var renderTemplate: @Sendable (_ text: String, _ extra: ValueDict) throws -> String = { text, _ in text }
}

/// What a module run ended in.
public enum ModuleOutcome: Sendable {
    /// The module's result dict (with `failed: true` when it failed).
    case result(ValueDict)
    /// The connection failed: the host is unreachable (message without the `Failed to connect…` prefix).
    case unreachable(String)
}

/// A module: validated arguments in, ansible-core's result dict out.
public protocol Module: Sendable {
    func run(_ args: ValueDict, _ context: ModuleContext) async -> ModuleOutcome
}

/// The modules swansible runs, and the names ansible-core would also know.
public enum ModuleRegistry {
    static let executors: [String: any Module] = [
        "command": CommandModule(shell: false),
        "shell": CommandModule(shell: true),
        "setup": SetupModule(),
        "gather_facts": SetupModule(asGatherFactsAction: true),
        "ping": PingModule(),
        "raw": RawModule(),
        "stat": StatModule(),
        "file": FileModule(),
        "copy": CopyModule(),
        "template": TemplateModule(),
        "fetch": FetchModule(),
        "script": ScriptModule(),
        "tempfile": TempfileModule(),
        "lineinfile": LineinfileModule(),
    ]

    /// Actions handled by the executor itself (no module runs on the host).
    static let controllerActions: Set<String> = ControllerActions.names.union(["include_tasks", "include_role"])

    /// debug's results are shown without `invocation`, as ansible-core's callbacks get them.
    static func isDebug(_ module: String) -> Bool { module == "debug" }

    public static var supported: Set<String> { Set(executors.keys).union(controllerActions) }

    /// `ansible.builtin.command` → `command`; `ansible.legacy.shell` → `shell`.
    public static func shortName(_ action: String) -> String {
        for prefix in ["ansible.builtin.", "ansible.legacy."] where action.hasPrefix(prefix) {
            // The prefixes are ASCII: their length in bytes is their length in characters.
            return String(decoding: action.utf8.dropFirst(prefix.utf8.count), as: UTF8.self)
        }
        return action
    }

    public static func isSupported(_ module: String) -> Bool { supported.contains(module) }

    public static func isKnown(_ module: String) -> Bool { supported.contains(module) || builtinModules.contains(module) }

    public static func module(_ name: String) -> (any Module)? { executors[name] }

    /// ansible-core 2.19's ansible.builtin modules and actions (for telling a typo from an unsupported module).
    static let builtinModules: Set<String> = [
        "add_host", "apt", "apt_key", "apt_repository", "assemble", "assert", "async_status", "blockinfile",
        "command", "copy", "cron", "deb822_repository", "debconf", "debug", "dnf", "dnf5", "dpkg_selections",
        "expect", "fail", "fetch", "file", "find", "gather_facts", "get_url", "getent", "git", "group",
        "group_by", "hostname", "import_playbook", "import_role", "import_tasks", "include_role",
        "include_tasks", "include_vars", "iptables", "known_hosts", "lineinfile", "meta", "mount_facts",
        "package", "package_facts", "pause", "ping", "pip", "raw", "reboot", "replace", "rpm_key", "script",
        "service", "service_facts", "set_fact", "set_stats", "setup", "shell", "slurp", "stat", "subversion",
        "systemd", "systemd_service", "sysvinit", "tempfile", "template", "unarchive", "uri", "user",
        "validate_argument_spec", "wait_for", "wait_for_connection", "yum_repository",
    ]
}

/// `datetime.now()` as Python prints it: `2026-11-25 15:44:36.204532` (local time).
func pythonTimestamp(_ date: Date) -> String {
    var t = time_t(date.timeIntervalSince1970.rounded(.down))
    var parts = tm()
    localtime_r(&t, &parts)
    let micro = Int((date.timeIntervalSince1970 - Double(t)) * 1_000_000)
    func pad(_ v: Int32, _ n: Int) -> String {
        let s = String(v)
        return String(repeating: "0", count: max(0, n - s.count)) + s
    }
    return "\(parts.tm_year + 1900)-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2)) "
        + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(micro), 6))"
}

/// `str(timedelta)`: `0:00:00.003721`.
func pythonTimedelta(_ seconds: Double) -> String {
    let micro = Int((seconds * 1_000_000).rounded())
    let totalSeconds = micro / 1_000_000
    let h = totalSeconds / 3600, m = (totalSeconds % 3600) / 60, s = totalSeconds % 60
    let us = micro % 1_000_000
    func pad(_ v: Int, _ n: Int) -> String {
        let t = String(v)
        return String(repeating: "0", count: max(0, n - t.count)) + t
    }
    var out = "\(h):\(pad(m, 2)):\(pad(s, 2))"
    if us != 0 { out += "." + pad(us, 6) }
    return out
}

/// Python's `str.splitlines()`.
func pythonSplitLines(_ s: String) -> [String] {
    var lines: [String] = []
    var current = String.UnicodeScalarView()
    var scalars = Array(s.unicodeScalars)
    var i = 0
    let breaks: Set<UInt32> = [0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029]
    while i < scalars.count {
        let c = scalars[i]
        if breaks.contains(c.value) {
            lines.append(String(current))
            current = String.UnicodeScalarView()
            if c.value == 0x0D && i + 1 < scalars.count && scalars[i + 1].value == 0x0A { i += 1 }
        } else {
            current.append(c)
        }
        i += 1
    }
    if !current.isEmpty { lines.append(String(current)) }
    scalars.removeAll()
    return lines
}

/// Decodes command output as ansible-core shows it (invalid UTF-8 replaced).
func outputText(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

/// Python's `bytes.rstrip(b"\r\n")`.
func stripTrailingNewlines(_ s: String) -> String {
    var t = Substring(s)
    while let last = t.unicodeScalars.last, last == "\n" || last == "\r" { t = t.dropLast() }
    return String(t)
}
