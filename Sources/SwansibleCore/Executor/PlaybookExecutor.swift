public import SwansibleData
public import OrderedCollections
import SwansibleSSH
import SwansibleTemplate
import SwansibleYAML
import Foundation

/// Runs plays as ansible-core's linear strategy does: each task on every active host (at most `forks`
/// at a time) before the next task; a failed or unreachable host leaves the play.
public final class PlaybookExecutor {
    let inventory: Inventory
    let options: RunOptions
    let engine: TemplateEngine
    let pool: ConnectionPool
    let onEvent: (@Sendable (RunEvent) -> Void)?

    private var seed = SeedResults()
    private var stats: OrderedDictionary<String, HostStats> = [:]
    private var events: [RunEvent] = []
    private var sequence = 0
    /// Registered variables and set_fact results per host (they outlive the play, as in ansible-core).
    private var hostFacts: [String: ValueDict] = [:]
    private var failedHosts: Set<String> = []
    private var unreachableHosts: Set<String> = []

    public init(inventory: Inventory, options: RunOptions, onEvent: (@Sendable (RunEvent) -> Void)? = nil) {
        self.inventory = inventory
        self.options = options
        self.onEvent = onEvent
        engine = TemplateEngine(hooks: makeTemplateHooks())
        pool = ConnectionPool(client: SSHClient())
    }

    func emit(_ kind: RunEvent.Kind, _ data: ValueDict, display: ValueDict = [:]) {
        sequence += 1
        let event = RunEvent(sequence: sequence, kind: kind, data: data, display: display)
        events.append(event)
        onEvent?(event)
    }

    /// Runs every play of the playbook.
    public func run(_ playbook: Playbook) async -> PlaybookResult {
        emit(.playbookStart, ["playbook": .string((playbook.path as NSString).lastPathComponent)])
        var stopped = false
        for play in playbook.plays where !stopped {
            stopped = await runPlay(play, playbook: playbook)
        }
        await pool.closeAll()
        for host in stats.keys.sorted() {
            _ = host
        }
        emit(.stats, ["stats": .dict(ValueDict(uniqueKeysWithValues: stats.map { ($0.key, $0.value.value) }))])
        let exitCode: Int32 = !unreachableHosts.isEmpty ? 4 : !failedHosts.isEmpty ? 2 : 0
        return PlaybookResult(seed: seed, stats: stats, exitCode: exitCode, events: events)
    }

    /// Runs one play; returns true when the playbook must stop (every host failed).
    private func runPlay(_ play: Play, playbook: Playbook) async -> Bool {
        let patterns: [String]
        switch play.hosts {
        case .list(let l): patterns = l.compactMap { $0.stringValue }
        case .string(let s), .unsafe(let s): patterns = [s]
        default: patterns = [play.hosts.json()]
        }
        var warnings: [String] = []
        var hosts = (try? inventory.select(patterns: patterns, limit: options.limit, warnings: &warnings)) ?? []
        for w in warnings { emit(.warning, ["message": .string(w)]) }
        emit(.playStart, ["play": .string(play.name)])
        hosts.removeAll { failedHosts.contains($0) || unreachableHosts.contains($0) }
        if hosts.isEmpty {
            emit(.noHostsMatched, [:])
            return false
        }
        for host in hosts where stats[host] == nil { stats[host] = HostStats() }
        let state = PlayState(play: play, playbook: playbook, hosts: hosts)
        for section in [play.preTasks, play.tasks, play.postTasks] {
            await runSection(section, state: state)
            if state.active.isEmpty { break }
        }
        return state.active.isEmpty && !hosts.isEmpty
    }

    final class PlayState {
        let play: Play
        let playbook: Playbook
        let hosts: [String]
        var active: [String]
        init(play: Play, playbook: Playbook, hosts: [String]) {
            self.play = play
            self.playbook = playbook
            self.hosts = hosts
            active = hosts
        }
    }

    /// Runs a list of tasks in lockstep over the play's active hosts, each host with its own cursor
    /// through blocks, rescues and always sections.
    private func runSection(_ nodes: [TaskNode], state: PlayState) async {
        guard !nodes.isEmpty else { return }
        var cursors: [String: TaskCursor] = [:]
        for host in state.active { cursors[host] = TaskCursor(nodes) }
        while true {
            // The next task of every host still going; run the one earliest in the section.
            var next: [(String, TaskCursor.Position)] = []
            for host in state.active {
                if let position = cursors[host]?.peek() { next.append((host, position)) }
            }
            // A failure that ran through an always section fails the host once that section is done.
            for host in state.active where cursors[host]?.isFailed == true {
                failedHosts.insert(host)
                state.active.removeAll { $0 == host }
            }
            guard let chosen = next.min(by: { $0.1 < $1.1 }) else { break }
            let hostsForTask = next.filter { $0.1 == chosen.1 }.map(\.0)
            let task = chosen.1.task
            let key = seed.startTask(named: task.displayName)
            emit(.taskStart, ["task": .string(key)], display: [
                "name": .string(task.displayName), "task_path": .string(task.mark.description),
            ])
            let results = await runTask(task, on: hostsForTask, state: state)
            for result in results {
                var r = result
                let failed = r.status == .failed && !r.ignored
                if failed {
                    // ansible-core counts a failure as rescued when any enclosing block will rescue it.
                    r.rescued = cursors[r.host]!.isInRescuableBlock
                    if cursors[r.host]!.fail() != .failed {
                        // What rescue and always sections see of the failure.
                        var failedTask = ValueDict()
                        failedTask["name"] = .string(task.name ?? "")
                        failedTask["action"] = .string(task.action)
                        failedTask["args"] = .dict(task.args)
                        hostFacts[r.host, default: [:]]["ansible_failed_task"] = .dict(failedTask)
                        var failedResult = r.result
                        failedResult["failed"] = true
                        hostFacts[r.host, default: [:]]["ansible_failed_result"] = Value.dict(failedResult).markedUnsafe
                    }
                }
                seed.record(r, key: key)
                count(r)
                let kind: RunEvent.Kind
                switch r.status {
                case .ok: kind = .ok
                case .changed: kind = .changed
                case .skipped: kind = .skipped
                case .unreachable: kind = .unreachable
                case .failed: kind = r.ignored ? .failedIgnored : r.rescued ? .failedRescued : .failed
                }
                emit(kind, ["task": .string(key), "host": .string(r.host), "result": .dict(r.result)],
                     display: ["task_path": .string(task.mark.description), "error": r.errorText.map(Value.string) ?? .null])
                cursors[r.host]!.advance()
                if r.status == .unreachable {
                    unreachableHosts.insert(r.host)
                    state.active.removeAll { $0 == r.host }
                } else if failed, cursors[r.host]!.isFailed {
                    failedHosts.insert(r.host)
                    state.active.removeAll { $0 == r.host }
                }
            }
        }
    }

    private func count(_ r: HostResult) {
        var s = stats[r.host] ?? HostStats()
        switch r.status {
        case .ok: s.ok += 1
        case .changed: s.ok += 1; s.changed += 1
        case .skipped: s.skipped += 1
        case .unreachable: s.unreachable += 1
        case .failed:
            if r.ignored {
                s.ok += 1
                s.ignored += 1
                if r.result["changed"]?.boolValue == true { s.changed += 1 }
            } else if r.rescued {
                s.rescued += 1
            } else {
                s.failures += 1
            }
        }
        stats[r.host] = s
    }

    /// Runs a task on hosts, at most `forks` at once; results in completion order.
    private func runTask(_ task: PlayTask, on hosts: [String], state: PlayState) async -> [HostResult] {
        var contexts: [HostTaskContext] = []
        for host in hosts {
            contexts.append(makeContext(task: task, host: host, state: state))
        }
        let forks = max(1, options.forks)
        var results: [HostResult] = []
        await withTaskGroup(of: (HostResult, ValueDict?).self) { group in
            var iterator = contexts.makeIterator()
            var running = 0
            while running < forks, let context = iterator.next() {
                group.addTask { await context.run() }
                running += 1
            }
            for await (result, registered) in group {
                results.append(result)
                if let registered, let name = task.keyword("register")?.stringValue {
                    hostFacts[result.host, default: [:]][name] = .dict(registered)
                }
                if let context = iterator.next() {
                    group.addTask { await context.run() }
                }
            }
        }
        return results
    }

    private func makeContext(task: PlayTask, host: String, state: PlayState) -> HostTaskContext {
        var layers: [ValueDict] = []
        layers.append(inventory.variables(for: host))
        layers.append(state.play.vars)
        for b in task.blockVars { layers.append(b) }
        layers.append(task.vars)
        layers.append(hostFacts[host] ?? [:])
        layers.append(options.extraVars)
        var magic = ValueDict()
        magic["inventory_hostname"] = .string(host)
        magic["inventory_hostname_short"] = .string(String(host.split(separator: ".").first ?? Substring(host)))
        magic["groups"] = inventory.groupsMagicVariable
        magic["group_names"] = .list(inventory.groupNames(for: host).map(Value.string))
        magic["ansible_play_hosts_all"] = .list(state.hosts.map(Value.string))
        magic["ansible_play_hosts"] = .list(state.active.map(Value.string))
        magic["play_hosts"] = magic["ansible_play_hosts"]
        magic["ansible_play_batch"] = magic["ansible_play_hosts"]
        magic["ansible_play_name"] = .string(state.play.name)
        magic["playbook_dir"] = .string(state.playbook.directory)
        magic["ansible_check_mode"] = .bool(options.check)
        magic["ansible_diff_mode"] = .bool(options.diff)
        magic["omit"] = TemplateEngine.omit
        let scope = VariableScope(layers: layers, magic: magic, hostVariablesProvider: nil)
        return HostTaskContext(
            host: host, task: task, scope: scope, engine: engine, pool: pool, options: options,
            playKeywords: state.play.keywords, searchPaths: [state.playbook.directory + "/files", state.playbook.directory])
    }
}

/// Walks a host through a section's tasks, blocks, rescues and always sections as ansible-core's play
/// iterator does for one host.
struct TaskCursor {
    struct Position: Comparable {
        var order: [Int]
        var task: PlayTask
        static func == (a: Position, b: Position) -> Bool { a.order == b.order }
        static func < (a: Position, b: Position) -> Bool { a.order.lexicographicallyPrecedes(b.order) }
    }

    private struct Frame {
        enum Phase: Int { case block = 0, rescue = 1, always = 2 }
        var block: Block?
        var nodes: [TaskNode]
        var index = 0
        var phase = Phase.block
        var failed = false
        var rescued = false
        var orderPrefix: [Int]
    }

    private var stack: [Frame]
    private(set) var isFailed = false
    /// Set when a failure switched to a rescue/always section, whose first task is then current.
    private var switchedSection = false

    init(_ nodes: [TaskNode]) {
        stack = [Frame(block: nil, nodes: nodes, orderPrefix: [])]
    }

    /// The next task, without moving.
    mutating func peek() -> Position? {
        while let top = stack.last {
            if top.index < top.nodes.count {
                switch top.nodes[top.index] {
                case .task(var task):
                    task.inheritedWhen = stack.compactMap { $0.block?.keywords["when"] }
                    task.blockVars = stack.compactMap { $0.block?.vars }
                    task.inherited = stack.compactMap { $0.block?.keywords } + task.inherited
                    return Position(order: top.orderPrefix + [top.phase.rawValue, top.index], task: task)
                case .block(let block):
                    let prefix = top.orderPrefix + [top.phase.rawValue, top.index]
                    stack.append(Frame(block: block, nodes: block.block, orderPrefix: prefix))
                    continue
                }
            }
            // This frame's current list is done: move to its rescue/always or pop it.
            var frame = stack.removeLast()
            guard let block = frame.block else {
                stack.append(frame)
                return nil
            }
            switch frame.phase {
            case .block, .rescue:
                if !block.always.isEmpty {
                    frame.phase = .always
                    frame.nodes = block.always
                    frame.index = 0
                    stack.append(frame)
                    continue
                }
            case .always:
                break
            }
            finishBlock(frame)
        }
        return nil
    }

    private mutating func finishBlock(_ frame: Frame) {
        if frame.failed && !frame.rescued {
            // The failure propagates to the enclosing block.
            propagateFailure()
        } else if !stack.isEmpty {
            stack[stack.count - 1].index += 1
        }
    }

    private mutating func propagateFailure() {
        guard !stack.isEmpty else { isFailed = true; return }
        _ = failCurrentFrame()
    }

    /// Moves past the task just run.
    mutating func advance() {
        if switchedSection {
            switchedSection = false
            return
        }
        guard !stack.isEmpty, !isFailed else { return }
        if stack[stack.count - 1].index < stack[stack.count - 1].nodes.count {
            stack[stack.count - 1].index += 1
        }
    }

    enum FailOutcome { case rescue, always, failed }

    /// Whether a failure now would be handled by some enclosing block's rescue section.
    var isInRescuableBlock: Bool {
        stack.contains { $0.phase == .block && !($0.block?.rescue.isEmpty ?? true) }
    }

    /// The current task failed: a rescue or always section takes over, or the host has failed.
    @discardableResult
    mutating func fail() -> FailOutcome {
        let outcome = failCurrentFrame()
        switchedSection = outcome != .failed
        return outcome
    }

    private mutating func failCurrentFrame() -> FailOutcome {
        var i = stack.count - 1
        while i >= 0 {
            guard let block = stack[i].block else {
                isFailed = true
                stack = [stack[0]]
                stack[0].index = stack[0].nodes.count
                return .failed
            }
            var frame = stack[i]
            stack.removeSubrange((i + 1)...)
            switch frame.phase {
            case .block where !block.rescue.isEmpty:
                frame.phase = .rescue
                frame.nodes = block.rescue
                frame.index = 0
                frame.failed = true
                frame.rescued = true
                stack[i] = frame
                return .rescue
            case .block, .rescue:
                frame.failed = true
                frame.rescued = false
                if !block.always.isEmpty {
                    frame.phase = .always
                    frame.nodes = block.always
                    frame.index = 0
                    stack[i] = frame
                    return .always
                }
                stack.removeLast()
                i -= 1
            case .always:
                stack.removeLast()
                i -= 1
            }
        }
        isFailed = true
        return .failed
    }
}
