public import SwansibleData
public import OrderedCollections

/// How one task ended on one host.
public enum TaskStatus: String, Sendable, Hashable, Codable {
    case ok, changed, failed, skipped, unreachable
}

/// One host's result of one task, as callbacks see it.
public struct HostResult: Sendable {
    public var host: String
    public var status: TaskStatus
    /// The module's result dict as ansible-core hands it to callbacks (`result._result`).
    public var result: ValueDict
    /// A failure that `ignore_errors` turned into "…ignoring".
    public var ignored: Bool = false
    /// A failure handled by a `rescue:` section.
    public var rescued: Bool = false
    /// The failure as ansible-core's `[ERROR]: Task failed: …` line words it, when it differs from `msg`.
    public var errorText: String?
    /// The host a `delegate_to` task ran on.
    public var delegatedHost: String?
    /// ansible-core's chain of causes behind `errorText`, outermost first, each with the place in the playbook it
    /// names (`Task failed.` at the task, `Finalization of task args … failed.` at the action, the value's error
    /// at the value); empty when the error is one line.
    public var errorChain: [ErrorCause] = []
}

/// One link of an error's "<<< caused by >>>" chain.
public struct ErrorCause: Sendable, Hashable {
    public var message: String
    public var origin: SourceMark?

    public init(_ message: String, at origin: SourceMark?) {
        self.message = message
        self.origin = origin
    }
}

/// The seed's structure: results by task, then by outcome, then by host.
///
/// Keys follow these rules (see Docs/results.md): a task is keyed by its name as ansible-core's
/// callbacks see it, an unnamed task by the name its TASK banner shows (the action as written); a key
/// already used by an earlier task of the run gets ` (2)`, ` (3)`, …; a host that became unreachable
/// appears under `unreachable`, with its first unreachable result, in every later task of the run.
public struct SeedResults: Sendable {
    /// When false, only the task keys are kept, not the results (``RunOptions/keepResults``).
    public var keepsResults = true
    public struct TaskEntry: Sendable {
        public var success: OrderedDictionary<String, Value> = [:]
        public var failed: OrderedDictionary<String, Value> = [:]
        public var unreachable: OrderedDictionary<String, Value> = [:]
        public var skipped: OrderedDictionary<String, Value> = [:]

        public init() {}

        public var value: Value {
            .dict([
                "success": .dict(success), "failed": .dict(failed), "unreachable": .dict(unreachable),
                "skipped": .dict(skipped),
            ])
        }
    }

    public private(set) var tasks: OrderedDictionary<String, TaskEntry> = [:]
    private var nameCounts: [String: Int] = [:]
    /// Hosts that became unreachable, with their first unreachable result.
    private var unreachableHosts: OrderedDictionary<String, Value> = [:]

    public init() {}

    /// Opens the entry of a task that starts now; returns its key.
    public mutating func startTask(named name: String) -> String {
        let count = (nameCounts[name] ?? 0) + 1
        nameCounts[name] = count
        let key = count == 1 ? name : "\(name) (\(count))"
        var entry = TaskEntry()
        if keepsResults {
            for (host, result) in unreachableHosts { entry.unreachable[host] = result }
        }
        tasks[key] = entry
        return key
    }

    public mutating func record(_ result: HostResult, key: String) {
        guard keepsResults else { return }
        let value = Value.dict(result.result)
        switch result.status {
        case .ok, .changed: tasks[key]?.success[result.host] = value
            unreachableHosts.removeValue(forKey: result.host)
        case .failed: tasks[key]?.failed[result.host] = value
            unreachableHosts.removeValue(forKey: result.host)
        case .skipped: tasks[key]?.skipped[result.host] = value
            unreachableHosts.removeValue(forKey: result.host)
        case .unreachable:
            tasks[key]?.unreachable[result.host] = value
            if unreachableHosts[result.host] == nil { unreachableHosts[result.host] = value }
        }
    }

    public var value: Value { .dict(tasks.mapValues(\.value)) }
}

/// ansible-core's per-host recap counters.
public struct HostStats: Sendable, Hashable, Codable {
    public var ok = 0
    public var changed = 0
    public var unreachable = 0
    public var failures = 0
    public var skipped = 0
    public var rescued = 0
    public var ignored = 0

    public var value: Value {
        ["changed": .int(changed), "failed": .int(failures), "ignored": .int(ignored), "ok": .int(ok),
         "rescued": .int(rescued), "skipped": .int(skipped), "unreachable": .int(unreachable)]
    }
}

/// An event of a run, in order, for live consumers and `--events` (the schema is in Docs/results.md).
public struct RunEvent: Sendable {
    public enum Kind: String, Sendable {
        case playbookStart = "playbook_start", playStart = "play_start", taskStart = "task_start"
        case handlerTaskStart = "handler_task_start"
        case ok, changed, failed, failedIgnored = "failed_ignored", failedRescued = "failed_rescued", skipped
        case unreachable, unreachableIgnored = "unreachable_ignored"
        case noHostsMatched = "no_hosts_matched", noHostsRemaining = "no_hosts_remaining", stats, warning
        /// One item of a loop (the aggregate follows as ok/changed/failed/skipped).
        case itemOk = "item_ok", itemChanged = "item_changed", itemFailed = "item_failed", itemSkipped = "item_skipped"
        /// An `include_tasks` file was loaded for hosts.
        case included
        /// An attempt of an `until` task failed; it runs again.
        case retry
        /// Text an action shows while it runs (`pause`'s "Pausing for 5 seconds"), in `message`.
        case display
    }

    public var sequence: Int
    public var kind: Kind
    /// The event's fields as `--events` writes them.
    public var data: ValueDict
    /// What a text display needs besides (the banner name, the task's place in its file); not written.
    public var display: ValueDict = [:]

    /// True for the per-host result events.
    public var isHostResult: Bool { data["host"] != nil && kind != .warning && !isItem }

    /// True for the per-item results of a loop.
    public var isItem: Bool { [.itemOk, .itemChanged, .itemFailed, .itemSkipped].contains(kind) }

    public var value: Value {
        var d: ValueDict = ["seq": .int(sequence), "event": .string(kind.rawValue)]
        for (k, v) in data { d[k] = v }
        return .dict(d)
    }
}

/// Everything a playbook run produced.
public struct PlaybookResult: Sendable {
    public var seed: SeedResults
    public var stats: OrderedDictionary<String, HostStats>
    public var exitCode: Int32
    /// Every event of the run, in order, when the run had no `onEvent` handler (with one, the handler got them
    /// live and this is empty).
    public var events: [RunEvent]
    /// An error that ended the run before its plays were done (ansible-playbook's `[ERROR]`, e.g. a vars file
    /// that does not parse); `exitCode` is then its code and no recap was emitted.
    public var error: AnsibleError? = nil
}

extension SeedResults: Encodable {
    /// The `--json` document: `{task: {"success": {host: result}, "failed": …, "unreachable": …, "skipped": …}}`.
    public func encode(to encoder: any Encoder) throws { try value.encode(to: encoder) }
}

extension RunEvent: Encodable {
    /// The `--events` line of the event.
    public func encode(to encoder: any Encoder) throws { try value.encode(to: encoder) }
}

extension PlaybookResult: Encodable {
    private enum Keys: String, CodingKey { case seed, stats, exitCode = "exit_code" }

    /// `{"seed": …, "stats": {host: counters}, "exit_code": n}`.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(seed, forKey: .seed)
        try c.encode(Value.dict(ValueDict(uniqueKeysWithValues: stats.map { ($0.key, $0.value.value) })), forKey: .stats)
        try c.encode(exitCode, forKey: .exitCode)
    }
}
