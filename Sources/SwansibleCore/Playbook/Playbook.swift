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
    public var marks: [String: SourceMark] = [:]

    public init() {}

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

    /// The name ansible-core shows in its TASK banner and gives callbacks as `task.get_name()`:
    /// the name when there is one, else the action as written.
    public var displayName: String {
        if let name, !name.isEmpty { return name }
        return action
    }

    /// A keyword from the task, else from the nearest enclosing block or play that sets it.
    public func keyword(_ name: String) -> Value? {
        if let v = keywords[name] { return v }
        for level in inherited.reversed() { if let v = level[name] { return v } }
        return nil
    }
}
