public import SwansibleData

/// A loaded playbook: its plays in order (imported playbooks already spliced in).
public struct Playbook: Sendable {
    /// The playbook file as given.
    public var path: String
    /// The directory holding it (`playbook_dir`).
    public var directory: String
    public var plays: [Play]
}

/// Keywords that plays, blocks, roles and tasks share; each level inherits from its parent.
///
/// Values are kept as written (templated when the task runs, as ansible-core does).
public struct Keywords: Sendable {
    public var values: ValueDict = [:]
    /// Where each keyword's value was written, in the order they were read (a list: building a dictionary
    /// for every task cost more than the rest of the task).
    var markList: [(key: String, mark: SourceMark)] = []

    public init() {}

    /// Keywords with room for `capacity` entries.
    init(capacity: Int) {
        values.reserveCapacity(capacity)
        markList.reserveCapacity(capacity)
    }

    /// Where each keyword's value was written (a later entry for the same keyword wins).
    public var marks: [String: SourceMark] {
        get { Dictionary(markList.map { ($0.key, $0.mark) }, uniquingKeysWith: { $1 }) }
        set { markList = newValue.map { (key: $0.key, mark: $0.value) } }
    }

    /// Where the value of keyword `name` was written.
    public func mark(_ name: String) -> SourceMark? {
        markList.last { $0.key == name }?.mark
    }

    /// Sets a keyword read from a file, with where its value was written.
    mutating func set(_ name: String, _ value: Value, at mark: SourceMark) {
        values[name] = value
        markList.append((name, mark))
    }

    public subscript(_ name: String) -> Value? {
        get { values[name] }
        set { values[name] = newValue }
    }
}

public struct Play: Sendable {
    public var name: String
    /// The `hosts` value as written (a pattern string or a list of patterns).
    public var hosts: Value
    public var vars: ValueDict
    public var varsFiles: [Value]
    public var gatherFacts: Value?
    public var preTasks: [TaskNode]
    public var tasks: [TaskNode]
    public var postTasks: [TaskNode]
    public var handlers: [TaskNode]
    /// The roles of `roles:` and of `import_role` (dependencies included, in load order). The tasks of
    /// `roles:` are already at the start of ``tasks`` (each role's in an implicit block carrying the role's
    /// keywords and vars) and their handlers at the start of ``handlers`` (import_role handlers at the end).
    /// Kept for the variables these public roles export: every task of the play sees their
    /// ``RoleContext/defaults`` (lowest precedence) and ``RoleContext/vars`` (above play vars_files).
    public var roles: [RoleContext] = []
    /// become, become_user, become_method, remote_user, connection, ignore_errors, environment, check_mode,
    /// diff, any_errors_fatal, max_fail_percentage, serial, strategy, order, run_once, throttle, tags,
    /// ignore_unreachable, …
    public var keywords: Keywords
    public var mark: SourceMark
}

/// A task or a block of tasks.
public indirect enum TaskNode: Sendable {
    case task(PlayTask)
    case block(Block)
}

public struct Block: Sendable {
    public var name: String?
    public var block: [TaskNode]
    public var rescue: [TaskNode]
    public var always: [TaskNode]
    public var vars: ValueDict
    public var keywords: Keywords
    public var mark: SourceMark
    /// Set on the implicit block that holds a role's tasks (or an `import_tasks` file's: then nil and
    /// ``isImplicit`` true). ansible-core lists no implicit block; its keywords (`when`, `tags`, `become`, …)
    /// and vars apply to the tasks inside as any block's do.
    public var role: RoleContext? = nil
    public var isImplicit = false
}

/// A role as one play uses it: where it lives and the variables it brings.
///
/// Precedence (ansible-core): ``defaults`` are the lowest variables of all (below inventory vars);
/// ``vars`` and ``invocationVars`` are already in the implicit block around the role's tasks (block-vars
/// level, as ansible-core's Block.get_vars puts them); ``params`` sit above registered vars and set_fact,
/// below extra vars. Files and templates: search ``path``/files (templates) and ``path``/tasks first.
public struct RoleContext: Sendable, Hashable {
    /// The role's name as ansible-core shows it (`rolename`, the last path component for a path).
    public var name: String
    /// The role's directory (absolute).
    public var path: String
    /// defaults/main.yml of the role, over its dependencies' and the roles that depend on it (ansible's
    /// get_default_vars with the dependency chain).
    public var defaults: ValueDict
    /// vars/main.yml of the role, over the roles depending on it and its dependencies' exported vars.
    public var vars: ValueDict
    /// Role parameters: keys of a `- role: x` entry (or of `meta` dependencies) that are not keywords,
    /// merged over the parameters of the roles that depend on it.
    public var params: ValueDict
    /// The `vars:` keyword of the role's entry.
    public var invocationVars: ValueDict
    /// Names of the roles that pulled this one in as a dependency, outermost first.
    public var dependencyChain: [String]
    /// meta/main.yml `allow_duplicates` (include_role/import_role: the task's `allow_duplicates`, default true).
    public var allowDuplicates: Bool
    /// Loaded by `import_role`/`include_role` rather than `roles:`.
    public var fromInclude: Bool
    /// An equal role (same path, params, when, tags and vars) came earlier in this play and duplicates are
    /// not allowed: ansible-core lists these tasks but skips them on every host that completed the
    /// earlier one (in practice: every host still in the play). The executor must not run them.
    public var isDuplicate: Bool = false
    /// What ansible-core compares to tell duplicate roles apart.
    public var identity: String

    /// The role's directory for `files`, `templates`, `tasks`, `vars`, … (for module file search).
    public func directory(_ sub: String) -> String { path + "/" + sub }
}

public struct PlayTask: Sendable, Identifiable {
    /// Unique within a run.
    public var id: Int
    /// `name:` as written (nil when the task has none).
    public var name: String?
    /// The action as written: `command`, `ansible.builtin.command`, `shell`, …
    public var action: String
    /// The module it resolves to, without collection prefix: `command`.
    public var module: String
    /// Module arguments (free form goes to `_raw_params`), not yet templated.
    public var args: ValueDict
    public var vars: ValueDict
    /// when, loop, with_*, loop_control, register, ignore_errors, changed_when, failed_when, until, retries,
    /// delay, notify, become*, delegate_to, run_once, tags, environment, no_log, timeout, …
    public var keywords: Keywords
    /// `when:` conditions inherited from enclosing blocks, plays and roles, outermost first.
    public var inheritedWhen: [Value] = []
    /// Keywords inherited from the enclosing blocks and play (nearest last), for those not set on the task.
    public var inherited: [Keywords] = []
    /// Variables of enclosing blocks (outermost first).
    public var blockVars: [ValueDict] = []
    public var isHandler: Bool = false
    /// `listen:` topics of a handler.
    public var listen: [String] = []
    public var mark: SourceMark
    /// Where the action's key is (`command:`), and where its arguments are: `argsMark` the action's value (the
    /// free-form string, or the mapping), `argMarks` each argument of a mapping or of `args:` (for error origins).
    public var actionMark: SourceMark? = nil
    public var argsMark: SourceMark? = nil
    public var argMarks: [(key: String, mark: SourceMark)] = []

    /// Where argument `key` was written (its value, or the whole free-form string), if known.
    public func argumentMark(_ key: String) -> SourceMark? {
        argMarks.last { $0.key == key }?.mark ?? argsMark
    }
    /// The role the task belongs to (from `roles:`, `import_role`, `include_role` or a role dependency).
    public var role: RoleContext? = nil

    /// The name ansible-core shows in its TASK banner and gives callbacks as `task.get_name()`:
    /// the name when there is one, else the action as written; a role's tasks get `role : ` before it
    /// (`TASK [web : install nginx]`, `TASK [web : command]`).
    public var displayName: String {
        let base = (name?.isEmpty == false) ? name! : action
        if let role { return role.name + " : " + base }
        return base
    }

    /// How `ansible-playbook --list-tasks` shows the task: `task.get_name()` when it has a name, else
    /// the bare action (no role prefix).
    public var listName: String {
        if let name, !name.isEmpty { return role.map { $0.name + " : " + name } ?? name }
        return action
    }

    /// A keyword from the task, else from the nearest enclosing block or play that sets it.
    public func keyword(_ name: String) -> Value? {
        if let v = keywords[name] { return v }
        // Keywords about the task's own action never come from an enclosing level (an include's loop or
        // register belongs to the include, not to the tasks it includes).
        if PlayTask.taskOnlyKeywords.contains(name) || name.hasPrefix("with_") { return nil }
        for level in inherited.reversed() { if let v = level[name] { return v } }
        return nil
    }

    static let taskOnlyKeywords: Set<String> = [
        "loop", "loop_control", "register", "notify", "listen", "until", "retries", "delay", "changed_when",
        "failed_when", "name", "action", "local_action", "args", "async", "poll",
    ]
}
