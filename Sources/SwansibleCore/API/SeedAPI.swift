public import SwansibleData
public import OrderedCollections
import Foundation

extension Inventory {
    /// An inventory built in code: hosts (in order) with their variables, optionally in groups.
    ///
    /// ```swift
    /// let inventory = try Inventory.from(hosts: ["web1": ["ansible_host": "127.0.0.2"], "db1": [:]],
    ///                                    groups: ["web": ["web1"]])
    /// ```
    public static func from(
        hosts: OrderedDictionary<String, ValueDict>, groups: OrderedDictionary<String, [String]> = [:],
        groupVariables: [String: ValueDict] = [:]
    ) throws(InventoryError) -> Inventory {
        var data = InventoryData()
        do {
            _ = data.addGroup("all")
            _ = data.addGroup("ungrouped")
            for (name, vars) in hosts {
                try data.addHost(name)
                for (k, v) in vars { try data.setVariable(name, k, v) }
            }
            for (group, members) in groups {
                _ = data.addGroup(group)
                for member in members {
                    if data.hosts[member] == nil { try data.addHost(member) }
                    try data.addHost(member, group: group)
                }
            }
            for (group, vars) in groupVariables {
                _ = data.addGroup(group)
                for (k, v) in vars { try data.setVariable(group, k, v) }
            }
            try data.reconcile()
        } catch {
            throw InventoryError(error.message)
        }
        return Inventory(data: data, sources: [], playbookDirectory: nil, options: InventoryOptions())
    }
}

/// The seed's `AnsibleAPI`, native: hosts and credentials in, playbooks or single modules run, the task-keyed
/// result structure out. For appliances and services that embed swansible.
///
/// ```swift
/// let api = try AnsibleRunner(hosts: ["127.0.0.2", "127.0.0.3:2222", "localhost"],
///                             user: "deploy", password: "secret")
/// let results = try await api.runPlaybook(["site.yml"])   // {task: {success: {host: result}, failed: …}}
/// let adhoc = try await api.run(module: "shell", args: "uptime")   // {success: {host: result}, …}
/// ```
///
/// As in the seed, `localhost` runs over the local connection, and `become` uses the SSH password when no
/// become password is given. Host keys are checked unless `options.hostKeyChecking` is turned off.
public struct AnsibleRunner: Sendable {
    public let inventory: Inventory
    public var options: RunOptions

    /// - Parameters:
    ///   - hosts: names or addresses, `name:port` for another SSH port; `localhost` is the controller itself.
    ///   - user, password, privateKey: the SSH login (a password is also the become password by default).
    ///   - becomePassword: the sudo/su password when it differs from the SSH password.
    ///   - extraVars: variables of the highest precedence (`-e`).
    public init(
        hosts: [String], user: String? = nil, password: String? = nil, privateKey: String? = nil,
        becomePassword: String? = nil, extraVars: ValueDict = [:], options: RunOptions = RunOptions()
    ) throws(InventoryError) {
        var table = OrderedDictionary<String, ValueDict>()
        for entry in hosts {
            var name = entry
            var vars = ValueDict()
            if let colon = entry.lastIndex(of: ":"), !entry.hasPrefix("["), entry.filter({ $0 == ":" }).count == 1,
                let port = Int(entry[entry.index(after: colon)...])
            {
                name = String(entry[..<colon])
                vars["ansible_port"] = .int(port)
            }
            if ["localhost", "127.0.0.1", "::1"].contains(name) { vars["ansible_connection"] = "local" }
            table[name] = vars
        }
        inventory = try Inventory.from(hosts: table)
        var o = options
        if let user { o.remoteUser = user }
        if let password { o.connectionPassword = password }
        if let privateKey { o.privateKeyFile = privateKey }
        o.becomePassword = becomePassword ?? o.becomePassword ?? password
        o.extraVars.merge(extraVars) { $1 }
        self.options = o
    }

    /// Runs playbooks in order; returns the seed's structure (`PlaybookResult.seed.value` as a ``Value``).
    public func runPlaybook(_ paths: [String]) async throws(AnsibleError) -> PlaybookResult {
        try await Swansible.runPlaybooks(paths, inventory: inventory, options: options)
    }

    /// Runs one module on the hosts matching `pattern`: `{"success": {host: result}, "failed": …,
    /// "unreachable": …, "skipped": …}`.
    public func run(module: String, args: String = "", hosts pattern: String = "all") async throws(AnsibleError)
        -> Value
    {
        let result = try await Swansible.runAdHoc(
            pattern: pattern, module: module, arguments: args, inventory: inventory, options: options)
        return result.seed.tasks.values.first?.value
            ?? ["success": [:], "failed": [:], "unreachable": [:], "skipped": [:]]
    }
}

/// A playbook run in progress: its events as they happen, and its result.
///
/// ```swift
/// let run = try Swansible.start(["site.yml"], inventory: inventory)
/// for await event in run.events { print(event.kind, event.data) }
/// let result = await run.result
/// ```
/// Cancelling the task that awaits ``result`` (or calling ``cancel()``) stops new work: no further task or
/// host starts, sessions close, and the result holds what finished (exit code 99, as ansible-playbook's on an
/// interrupt).
public final class PlaybookRun: Sendable {
    /// Every event of the run, in order; finishes when the run ends.
    public let events: AsyncStream<RunEvent>
    private let task: Task<PlaybookResult, Never>

    init(events: AsyncStream<RunEvent>, task: Task<PlaybookResult, Never>) {
        self.events = events
        self.task = task
    }

    /// The run's result, once it ends.
    public var result: PlaybookResult {
        get async { await withTaskCancellationHandler { await task.value } onCancel: { task.cancel() } }
    }

    /// Stops the run: hosts finish the step they are on, nothing new starts.
    public func cancel() { task.cancel() }
}

extension Swansible {
    /// Loads playbooks and starts running them; see ``PlaybookRun``.
    public static func start(
        _ paths: [String], inventory: Inventory, options: RunOptions = RunOptions()
    ) throws(AnsibleError) -> PlaybookRun {
        var loader = PlaybookLoader(rolesPath: options.rolesPath)
        loader.extraVars = options.extraVars
        var playbooks: [Playbook] = []
        for path in paths { playbooks.append(try loader.load(path: path)) }
        let warnings = loader.warnings
        var combined = Playbook(path: paths.first ?? "", directory: playbooks.first?.directory ?? ".", plays: [])
        for p in playbooks { combined.plays += p.plays }
        let (stream, continuation) = AsyncStream<RunEvent>.makeStream(bufferingPolicy: .unbounded)
        let playbook = combined
        let task = Task {
            let executor = PlaybookExecutor(inventory: inventory, options: options) { continuation.yield($0) }
            let result = await executor.run(playbook, warnings: warnings)
            continuation.finish()
            return result
        }
        return PlaybookRun(events: stream, task: task)
    }
}
