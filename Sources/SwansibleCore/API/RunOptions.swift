public import SwansibleData
import Foundation

/// What a run is asked to do beyond the playbook itself (ansible-playbook's command-line options and
/// the ansible.cfg settings that go with them).
public struct RunOptions: Sendable {
    /// Hosts worked on at once. Ansible's default is 5; swansible's is 50: one SSH session per host
    /// costs little on an event loop, and a fleet should not wait in batches of five.
    public var forks: Int = 50
    /// Keep every result for the returned ``PlaybookResult/seed``. With false the seed holds only the task keys
    /// and memory stays flat however long the run (the CLI keeps results only for `--json`; events still carry
    /// every result live).
    public var keepResults = true
    /// Show deprecations templating meets (`deprecation_warnings`, ansible-core's DEPRECATION_WARNINGS).
    public var deprecationWarnings = true
    public var check = false
    public var diff = false
    public var limit: String?
    public var tags: [String] = []
    public var skipTags: [String] = []
    public var extraVars: ValueDict = [:]
    public var remoteUser: String?
    public var privateKeyFile: String?
    public var connectionPassword: String?
    public var connection: String?
    public var port: Int?
    public var become = false
    public var becomeUser: String?
    public var becomeMethod: String?
    public var becomePassword: String?
    /// Connection timeout in seconds (`-T`, ansible.cfg `timeout`).
    public var timeout: Int?
    /// Default `timeout:` of every task in seconds (ansible.cfg `task_timeout`); nil or 0 for none.
    public var taskTimeout: Int?
    public var hostKeyChecking = true
    /// ansible.cfg `module_strict_utf8_response` (`ANSIBLE_MODULE_STRICT_UTF8_RESPONSE`): command output that is
    /// not UTF-8 fails the task (true, the default) or is kept with raw-byte escapes (false).
    public var moduleStrictUTF8Response = true
    public var sshCommonArgs: String?
    public var sshExtraArgs: String?
    public var forceHandlers = false
    public var verbosity = 0
    /// `gathering` from ansible.cfg: implicit (default), explicit or smart.
    public var gathering = "implicit"
    /// `--start-at-task NAME`: skip the tasks before the first one with this name (the executor must honour it).
    public var startAtTask: String?
    /// `[diff] context`: lines of context around a change in `--diff` output.
    public var diffContext = 3
    /// Directories searched for roles after `roles/` beside the playbook (ansible.cfg `roles_path`,
    /// `ANSIBLE_ROLES_PATH`); nil: `ANSIBLE_ROLES_PATH` or ansible's default.
    public var rolesPath: [String]? = nil

    public init() {}
}

enum ProcessEnvironment {
    static var home: String { ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory() }
    static var userName: String { ProcessInfo.processInfo.environment["USER"] ?? NSUserName() }
}
