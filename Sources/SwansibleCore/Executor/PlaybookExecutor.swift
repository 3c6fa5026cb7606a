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
    /// set_fact results and registered variables per host ("non-persistent facts"; they outlive the play).
    private var hostFacts: [String: ValueDict] = [:]
    /// Facts gathered or returned by modules, and cacheable set_facts, per host (the fact cache).
    private var factCache: [String: ValueDict] = [:]
    /// include_vars results per host.
    private var includedVars: [String: ValueDict] = [:]
    private var failedHosts: Set<String> = []
    private var unreachableHosts: Set<String> = []
    /// Set when a play asked for the whole playbook to stop (every host failed, any_errors_fatal, …).
    private var stopPlaybook = false
    /// An error that ended the playbook (a vars file that does not load).
    private var runError: AnsibleError?
    /// `--start-at-task`: tasks are skipped until one of that name (or matching it as a pattern) comes.
    private var startAtTaskReached = false
    /// Close a host's connection as soon as its task is done (the ad-hoc command: one task, so a connection is
    /// never used again). A connected libssh2 session holds ~55 KB of buffers; keeping 1,000 of them open until
    /// the end of the run was most of the 1,000-host run's memory.
    var releaseConnectionsAfterTask = false

    public init(inventory: Inventory, options: RunOptions, onEvent: (@Sendable (RunEvent) -> Void)? = nil) {
        self.inventory = inventory
        self.options = options
        self.onEvent = onEvent
        seed.keepsResults = options.keepResults
        engine = TemplateEngine(hooks: makeCoreTemplateHooks(searchPaths: [], playbookDir: nil))
        pool = ConnectionPool(client: SSHClient())
    }

    func emit(_ kind: RunEvent.Kind, _ data: ValueDict, display: ValueDict = [:]) {
        sequence += 1
        let event = RunEvent(sequence: sequence, kind: kind, data: data, display: display)
        // With a live handler the events are delivered, not kept: every result would otherwise be held twice
        // (here and in the seed) for the whole run.
        if let onEvent { onEvent(event) } else { events.append(event) }
    }

    /// Runs the playbook; `warnings` are those its loading gave (shown first, as ansible-core shows them).
    public func run(_ playbook: Playbook, warnings: [String] = []) async -> PlaybookResult {
        for w in warnings { emit(.warning, ["message": .string(w)]) }
        emit(.playbookStart, ["playbook": .string((playbook.path as NSString).lastPathComponent)])
        for play in playbook.plays where !stopPlaybook && !Task.isCancelled {
            await runPlay(play, playbook: playbook)
        }
        await pool.closeAll()
        if let runError {
            // ansible-playbook ends with the error alone: no recap.
            return PlaybookResult(seed: seed, stats: stats, exitCode: runError.exitCode, events: events, error: runError)
        }
        emit(.stats, ["stats": .dict(ValueDict(uniqueKeysWithValues: stats.map { ($0.key, $0.value.value) }))])
        // 99: interrupted (ansible-playbook's exit code for a user interrupt).
        let exitCode: Int32 = Task.isCancelled ? 99 : !unreachableHosts.isEmpty ? 4 : !failedHosts.isEmpty ? 2 : 0
        return PlaybookResult(seed: seed, stats: stats, exitCode: exitCode, events: events)
    }

    // MARK: - plays

    final class PlayState {
        let play: Play
        let playbook: Playbook
        /// Every host of the play (`ansible_play_hosts_all`).
        let allHosts: [String]
        /// The hosts of the current serial batch.
        var batch: [String]
        /// Hosts of the batch still running.
        var active: [String]
        var varsFiles: ValueDict = [:]
        /// Handler notifications per host (handler index → hosts).
        var notified: [Int: Set<String>] = [:]
        let handlers: [PlayTask]
        var endPlay = false
        var endBatch = false
        /// A failure stopped the play (any_errors_fatal, max_fail_percentage).
        var breakPlay = false
        /// The play's magic variables for the `active` and `batch` they were built from: every host-task shares
        /// one copy (built per host, its host lists made memory and time grow with hosts²).
        var magicCache: (active: [String], batch: [String], magic: ValueDict)?

        init(play: Play, playbook: Playbook, hosts: [String]) {
            self.play = play
            self.playbook = playbook
            allHosts = hosts
            batch = hosts
            active = hosts
            var handlers: [PlayTask] = []
            func collect(_ nodes: [TaskNode], _ inherited: [Keywords], _ blockVars: [ValueDict]) {
                for node in nodes {
                    switch node {
                    case .task(var t):
                        t.inherited = inherited + t.inherited
                        t.blockVars = blockVars + t.blockVars
                        handlers.append(t)
                    case .block(let b):
                        collect(b.block, inherited + [b.keywords], blockVars + [b.vars])
                    }
                }
            }
            collect(play.handlers, [play.keywords], [])
            self.handlers = handlers
        }
    }

    private func runPlay(_ play: Play, playbook: Playbook) async {
        let patterns: [String]
        switch play.hosts {
        case .list(let l): patterns = l.compactMap { $0.stringValue }
        case .string(let s), .unsafe(let s): patterns = [s]
        default: patterns = [play.hosts.json()]
        }
        var warnings: [String] = []
        var hosts = (try? inventory.select(patterns: patterns, limit: options.limit, warnings: &warnings)) ?? []
        for w in warnings { emit(.warning, ["message": .string(w)]) }
        if hosts.isEmpty {
            emit(.playStart, ["play": .string(play.name)])
            emit(.noHostsMatched, [:])
            return
        }
        hosts = ordered(hosts, play: play)
        let state = PlayState(play: play, playbook: playbook, hosts: hosts)
        do {
            state.varsFiles = try loadVarsFiles(play, playbook: playbook)
        } catch {
            runError = error
            stopPlaybook = true
            return
        }

        // Batches are cut from every host of the play (also those that failed earlier); each batch runs the
        // whole play and gets its own PLAY banner, as ansible-core does.
        for batch in batches(hosts, play: play) where !Task.isCancelled {
            emit(.playStart, ["play": .string(play.name)])
            for host in batch where stats[host] == nil && !failedHosts.contains(host) && !unreachableHosts.contains(host) {
                stats[host] = HostStats()
            }
            state.batch = batch
            state.active = batch.filter { !failedHosts.contains($0) && !unreachableHosts.contains($0) }
            state.endBatch = false
            if state.active.isEmpty { continue }
            let failedBefore = failedHosts.count + unreachableHosts.count
            if gatherFacts(play) {
                await runSection([.task(gatherTask(play))], state: state)
            }
            for section in [play.preTasks, play.tasks, play.postTasks] {
                if state.active.isEmpty || state.endPlay || state.breakPlay || state.endBatch { break }
                await runSection(section, state: state)
                await flushHandlers(state: state)
            }
            if !state.breakPlay, !state.endPlay {
                await flushHandlers(state: state)
            }
            let failedNow = failedHosts.count + unreachableHosts.count - failedBefore
            if state.breakPlay || (failedNow >= batch.count && !batch.isEmpty) {
                stopPlaybook = true
                break
            }
            if state.endPlay { break }
        }
    }

    private func ordered(_ hosts: [String], play: Play) -> [String] {
        guard let order = renderedPlayKeyword(play, "order")?.stringValue else { return hosts }
        switch order {
        case "reverse_inventory": return hosts.reversed()
        case "sorted": return hosts.sorted()
        case "reverse_sorted": return hosts.sorted().reversed()
        case "shuffle": return hosts.shuffled()
        default: return hosts
        }
    }

    private func renderedPlayKeyword(_ play: Play, _ name: String) -> Value? {
        guard let v = play.keywords[name] else { return nil }
        let scope = VariableScope(layers: [play.vars, options.extraVars], magic: [:])
        return (try? engine.template(v, variables: scope)) ?? v
    }

    /// `serial`: batches of an int, a percentage, or a list of those (the last repeats).
    private func batches(_ hosts: [String], play: Play) -> [[String]] {
        guard let serial = renderedPlayKeyword(play, "serial"), !serial.isNull else { return [hosts] }
        let steps = serial.listValue ?? [serial]
        func size(_ v: Value) -> Int {
            if let i = v.intValue { return i }
            if let s = v.stringValue {
                if s.hasSuffix("%"), let p = Double(s.dropLast()) {
                    return max(1, Int(Double(hosts.count) * p / 100))
                }
                return Int(s) ?? hosts.count
            }
            return hosts.count
        }
        var result: [[String]] = []
        var rest = hosts[...]
        var i = 0
        while !rest.isEmpty {
            var n = size(steps[min(i, steps.count - 1)])
            if n <= 0 { n = rest.count }
            result.append(Array(rest.prefix(n)))
            rest = rest.dropFirst(n)
            i += 1
        }
        return result.isEmpty ? [hosts] : result
    }

    private func gatherFacts(_ play: Play) -> Bool {
        guard ModuleRegistry.module("setup") != nil else { return false }
        if let v = play.gatherFacts {
            let r = (try? engine.template(v, variables: VariableScope(layers: [play.vars, options.extraVars], magic: [:]))) ?? v
            return ansibleBool(r) ?? r.isTruthy
        }
        return options.gathering != "explicit"
    }

    private func gatherTask(_ play: Play) -> PlayTask {
        var keywords = Keywords()
        if let subset = play.keywords["gather_subset"] { keywords["gather_subset"] = subset }
        var args: ValueDict = [:]
        if let subset = play.keywords["gather_subset"] { args["gather_subset"] = subset }
        if let timeout = play.keywords["gather_timeout"] { args["gather_timeout"] = timeout }
        return PlayTask(
            id: -1, name: "Gathering Facts", action: "gather_facts", module: "gather_facts", args: args, vars: [:],
            keywords: keywords, inherited: [play.keywords], mark: play.mark)
    }

    /// The play's `vars_files` (as the loader reads them: `vars/` then the playbook's directory, the first file of
    /// a list that exists); a file that does not parse ends the playbook as in ansible-core (exit code 4).
    private func loadVarsFiles(_ play: Play, playbook: Playbook) throws(AnsibleError) -> ValueDict {
        let scope = VariableScope(layers: [play.vars, options.extraVars], magic: ["playbook_dir": .string(playbook.directory)])
        var warnings: [String] = []
        defer { for w in warnings { emit(.warning, ["message": .string(w)]) } }
        return try PlaybookLoader.loadPlayVarsFiles(play.varsFiles, playbookDirectory: playbook.directory, warnings: &warnings) {
            text in (try? engine.render(text, variables: scope))?.stringValue
        }
    }

    // MARK: - sections

    /// Runs a list of tasks in lockstep over the play's active hosts, each host with its own cursor
    /// through blocks, rescues and always sections.
    private func runSection(_ nodes: [TaskNode], state: PlayState) async {
        guard !nodes.isEmpty else { return }
        if renderedPlayKeyword(state.play, "strategy")?.stringValue.map(ModuleRegistry.shortName) == "free" {
            await runSectionFree(nodes, state: state)
            return
        }
        var cursors: [String: TaskCursor] = [:]
        for host in state.active { cursors[host] = TaskCursor(nodes) }
        while !state.breakPlay && !state.endPlay && !state.endBatch && !Task.isCancelled {
            // A failure that ran through an always section fails the host once that section is done.
            var next: [(String, TaskCursor.Position)] = []
            for host in state.active {
                if let position = cursors[host]?.peek() { next.append((host, position)) }
            }
            for host in state.active where cursors[host]?.isFailed == true {
                markFailed(host, state: state)
            }
            let active = Set(state.active)
            next.removeAll { !active.contains($0.0) }
            guard let chosen = next.min(by: { $0.1 < $1.1 }) else { break }
            let hostsForTask = next.filter { $0.1 == chosen.1 }.map(\.0)
            let task = chosen.1.task
            if task.role?.isDuplicate == true || !selectedByTags(task) || !startReached(task, state: state) {
                for host in hostsForTask { cursors[host]?.advance() }
                continue
            }
            if task.module == "meta" {
                await runMeta(task, hosts: hostsForTask, state: state, cursors: &cursors)
                continue
            }
            await runTaskOnHosts(task, hosts: hostsForTask, state: state, cursors: &cursors, isHandler: false)
        }
    }

    /// The free strategy: every host goes through the tasks at its own pace (at most `forks` at once); a task's
    /// start is announced when the first host reaches it.
    private func runSectionFree(_ nodes: [TaskNode], state: PlayState) async {
        var cursors: [String: TaskCursor] = [:]
        for host in state.active { cursors[host] = TaskCursor(nodes) }
        var keys: [[Int]: (key: String, name: String)] = [:]
        let forks = max(1, options.forks)
        var waiting = state.active
        await withTaskGroup(of: (String, PlayTask, [Int], HostTaskOutcome).self) { group in
            var running = 0
            while true {
                var stillWaiting: [String] = []
                for host in waiting where state.active.contains(host) {
                    if state.breakPlay || state.endPlay || Task.isCancelled { break }
                    while let position = cursors[host]?.peek() {
                        let task = position.task
                        if task.role?.isDuplicate == true || !selectedByTags(task) || !startReached(task, state: state) {
                            cursors[host]?.advance()
                            continue
                        }
                        if task.module == "meta" {
                            await runMeta(task, hosts: [host], state: state, cursors: &cursors)
                            continue
                        }
                        guard running < forks else {
                            stillWaiting.append(host)
                            break
                        }
                        let entry: (key: String, name: String)
                        if let known = keys[position.order] {
                            entry = known
                        } else {
                            let name = templatedName(task, state: state, host: host)
                            entry = (seed.startTask(named: name), name)
                            keys[position.order] = entry
                            emit(.taskStart, ["task": .string(entry.key)], display: [
                                "name": .string(task.bannerName(forKey: name)), "task_path": .string(task.mark.description),
                            ])
                        }
                        let context = makeContext(task: task, host: host, state: state)
                        let order = position.order
                        group.addTask { (host, task, order, await context.run()) }
                        running += 1
                        break
                    }
                    if cursors[host]?.isFailed == true, state.active.contains(host) { markFailed(host, state: state) }
                }
                waiting = stillWaiting
                guard let (host, task, order, outcome) = await group.next() else { break }
                running -= 1
                let entry = keys[order]!
                await process([outcome], task: task, key: entry.key, name: entry.name, hosts: [host], runOnce: false,
                              state: state, cursors: &cursors)
                if cursors[host]?.isFailed == true, state.active.contains(host) { markFailed(host, state: state) }
                waiting.append(host)
            }
        }
    }

    /// `--start-at-task NAME`: ansible-core compares the task's name and its `role : name` form, also as a
    /// shell pattern; everything before the first match is skipped.
    private func startReached(_ task: PlayTask, state: PlayState) -> Bool {
        guard let start = options.startAtTask, !startAtTaskReached, task.id != -1 else { return true }
        let name = task.name ?? ""
        let full = task.displayName
        if name == start || full == start || fnmatch(start, name, 0) == 0 || fnmatch(start, full, 0) == 0 {
            startAtTaskReached = true
            return true
        }
        return false
    }

    /// `--tags` / `--skip-tags`.
    private func selectedByTags(_ task: PlayTask) -> Bool {
        if options.tags.isEmpty && options.skipTags.isEmpty { return true }
        return TagSelection.shouldRun(taskTags: task.effectiveTags, only: options.tags, skip: options.skipTags)
    }

    private func markFailed(_ host: String, state: PlayState) {
        failedHosts.insert(host)
        state.active.removeAll { $0 == host }
    }

    /// The name a task's banner and key use: its name templated with the play's variables (no host).
    /// The name a task's banner and key use: its name templated with the variables of the first host
    /// that runs it (ansible-core's strategy post-validates the name once, for that host).
    private func templatedName(_ task: PlayTask, state: PlayState, host: String?) -> String {
        guard let name = task.name, !name.isEmpty else { return task.displayName }
        // (the key is the task's own name; bannerName(forKey:) adds a role's prefix)
        guard TemplateEngine.isPossiblyTemplate(name) else { return name }
        let scope: VariableScope
        if let host {
            scope = makeContext(task: task, host: host, state: state).scope
        } else {
            scope = VariableScope(layers: [state.play.vars, state.varsFiles] + task.blockVars + [task.vars, options.extraVars],
                                  magic: playMagic(state))
        }
        if let v = try? engine.render(name, variables: scope) { return v.stringValue ?? v.json() }
        return name
    }

    private func playMagic(_ state: PlayState) -> ValueDict {
        // (Array's == is a pointer comparison while the arrays are unchanged.)
        if let cached = state.magicCache, cached.active == state.active, cached.batch == state.batch {
            return cached.magic
        }
        var magic = ValueDict()
        magic["groups"] = groupsMagic
        magic["ansible_play_hosts_all"] = .list(state.allHosts.map(Value.string))
        magic["ansible_play_hosts"] = .list(state.active.map(Value.string))
        magic["play_hosts"] = magic["ansible_play_hosts"]
        let active = Set(state.active)
        magic["ansible_play_batch"] = .list(state.batch.filter { active.contains($0) }.map(Value.string))
        magic["ansible_play_name"] = .string(state.play.name)
        magic["playbook_dir"] = .string(state.playbook.directory)
        magic["ansible_check_mode"] = .bool(options.check)
        magic["ansible_diff_mode"] = .bool(options.diff)
        magic["ansible_verbosity"] = .int(options.verbosity)
        magic["ansible_forks"] = .int(options.forks)
        magic["ansible_version"] = [
            "full": .string(Swansible.ansibleCoreVersion), "major": 2, "minor": 19, "revision": 14,
            "string": .string(Swansible.ansibleCoreVersion),
        ]
        magic["omit"] = TemplateEngine.omit
        state.magicCache = (state.active, state.batch, magic)
        return magic
    }

    /// `groups` (the inventory does not change during a run).
    private lazy var groupsMagic: Value = inventory.groupsMagicVariable

    private func runTaskOnHosts(
        _ task: PlayTask, hosts hostsForTask: [String], state: PlayState, cursors: inout [String: TaskCursor],
        isHandler: Bool
    ) async {
        let name = templatedName(task, state: state, host: hostsForTask.first)
        let key = seed.startTask(named: name)
        emit(isHandler ? .handlerTaskStart : .taskStart, ["task": .string(key)], display: [
            "name": .string(task.bannerName(forKey: name)), "task_path": .string(task.mark.description),
            "hosts": .int(hostsForTask.count),
        ])
        // run_once: the first host runs it; its result is what every host gets.
        let runOnce = isTrueForPlay(task.keyword("run_once"), state: state) || task.module == "pause"
        let runHosts = runOnce ? Array(hostsForTask.prefix(1)) : hostsForTask
        let outcomes = await runTask(task, on: runHosts, state: state)
        await process(outcomes, task: task, key: key, name: name, hosts: hostsForTask, runOnce: runOnce, state: state,
                      cursors: &cursors)
    }

    /// Records the outcomes of a task and moves each host's cursor on (rescue, always, includes, failures).
    private func process(
        _ outcomes: [HostTaskOutcome], task: PlayTask, key: String, name: String, hosts hostsForTask: [String],
        runOnce: Bool, state: PlayState, cursors: inout [String: TaskCursor]
    ) async {
        var outcomes = outcomes
        if Task.isCancelled {
            // Interrupted: what finished counts; steps cut short by the cancellation are not results.
            outcomes.removeAll { $0.result.result["msg"]?.stringValue == "cancelled" }
        }
        var anyErrorsFatal = false
        var includes: [(String, [IncludeRequest])] = []
        for outcome in outcomes {
            let r = outcome.result
            let targets = runOnce ? hostsForTask : [r.host]
            apply(outcome, task: task, to: targets, state: state)
            var shown = r
            let failed = r.status == .failed && !r.ignored
            if failed {
                // ansible-core counts a failure as rescued when any enclosing block will rescue it.
                shown.rescued = cursors[r.host]?.isInRescuableBlock ?? false
                if cursors[r.host]?.fail() ?? .failed != .failed {
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
                if isTrueForPlay(task.keyword("any_errors_fatal") ?? state.play.keywords["any_errors_fatal"], state: state),
                    !shown.rescued
                {
                    anyErrorsFatal = true
                }
            }
            if options.deprecationWarnings {
                for (warning, origin) in outcome.deprecations where warning.isDeprecation {
                    var data: ValueDict = ["message": .string(warning.message), "deprecation": true]
                    if let origin { data["origin"] = .string(origin.description) }
                    if let help = warning.helpText { data["help"] = .string(help) }
                    emit(.warning, data)
                }
            }
            for line in outcome.display {
                emit(.display, ["task": .string(key), "host": .string(r.host), "message": .string(line)])
            }
            for retry in outcome.retries {
                emit(.retry, ["task": .string(key), "host": .string(r.host), "result": .dict(retry)],
                     display: ["name": .string(name)])
            }
            for item in outcome.items {
                emitItem(item, task: task, key: key)
            }
            record(shown, task: task, key: key)
            if !outcome.includes.isEmpty, r.status != .failed, r.status != .skipped {
                includes.append((r.host, outcome.includes))
            } else {
                for host in targets { cursors[host]?.advance() }
            }
            if r.status == .unreachable && !r.ignored {
                unreachableHosts.insert(r.host)
                        state.active.removeAll { $0 == r.host }
                if isTrueForPlay(task.keyword("any_errors_fatal") ?? state.play.keywords["any_errors_fatal"], state: state) {
                    anyErrorsFatal = true
                }
            } else if failed, cursors[r.host]?.isFailed ?? true {
                markFailed(r.host, state: state)
            }
        }
        if !includes.isEmpty {
            await expandIncludes(includes, task: task, state: state, cursors: &cursors)
        }
        if anyErrorsFatal {
            for host in state.active {
                failedHosts.insert(host)
            }
            state.active.removeAll()
            state.breakPlay = true
            return
        }
        if let mfp = renderedPlayKeyword(state.play, "max_fail_percentage"), let limit = mfp.doubleValue ?? Double(mfp.stringValue ?? "") {
            let failedCount = state.batch.filter { failedHosts.contains($0) || unreachableHosts.contains($0) }.count
            if Double(failedCount) / Double(max(1, state.batch.count)) > limit / 100 {
                for host in state.active { failedHosts.insert(host) }
                state.active.removeAll()
                // ansible-core's linear strategy reports it twice: once for the percentage, once because no
                // host is left.
                emit(.noHostsRemaining, [:])
                emit(.noHostsRemaining, [:])
                state.breakPlay = true
            }
        }
    }

    private func isTrueForPlay(_ value: Value?, state: PlayState) -> Bool {
        guard let value else { return false }
        let scope = VariableScope(layers: [state.play.vars, options.extraVars], magic: playMagic(state))
        let v = (try? engine.template(value, variables: scope)) ?? value
        return ansibleBool(v) ?? v.isTruthy
    }

    /// Records a host's result: the seed, the recap counters and the event.
    private func record(_ r: HostResult, task: PlayTask, key: String, counted: Bool = true) {
        seed.record(r, key: key)
        // An include's own ok is counted once its file is loaded (the `included:` line).
        let isInclude = task.module == "include_tasks" || task.module == "include_role"
        if counted && !(isInclude && (r.status == .ok || r.status == .changed)) { count(r) }
        let kind: RunEvent.Kind
        switch r.status {
        case .ok: kind = .ok
        case .changed: kind = .changed
        case .skipped: kind = .skipped
        case .unreachable: kind = r.ignored ? .unreachableIgnored : .unreachable
        case .failed: kind = r.ignored ? .failedIgnored : r.rescued ? .failedRescued : .failed
        }
        var display: ValueDict = ["task_path": .string(task.mark.description), "error": r.errorText.map(Value.string) ?? .null]
        display["loop"] = .bool(task.keyword("loop") != nil || task.loopKeyword != nil)
        display["action"] = .string(task.module)
        // The implicit fact gathering has no origin in ansible-core's error messages.
        if task.id < 0 { display["error_origin"] = false }
        // ansible-core's strategy sends a result's diff to the callback only in diff mode (--diff or the task's).
        display["diff"] = .bool(options.diff || task.keyword("diff")?.isTruthy == true)
        if !r.errorChain.isEmpty {
            display["error_chain"] = .list(r.errorChain.map { cause in
                ["message": .string(cause.message), "origin": cause.origin.map { .string($0.description) } ?? .null]
            })
        }
        if let delegate = r.result["_ansible_delegated_vars"]?.dictValue {
            display["delegate"] = delegate["ansible_host"] ?? .null
        }
        if let d = r.delegatedHost { display["delegate_to"] = .string(d) }
        emit(kind, ["task": .string(key), "host": .string(r.host), "result": .dict(r.result)], display: display)
    }

    private func emitItem(_ r: HostResult, task: PlayTask, key: String) {
        let kind: RunEvent.Kind
        switch r.status {
        case .ok: kind = .itemOk
        case .changed: kind = .itemChanged
        case .skipped: kind = .itemSkipped
        case .failed, .unreachable: kind = .itemFailed
        }
        var display: ValueDict = [
            "task_path": .string(task.mark.description), "error": r.errorText.map(Value.string) ?? .null,
            "action": .string(task.module),
        ]
        if let d = r.delegatedHost {
            display["delegate_to"] = .string(d)
            display["delegate"] = r.result["_ansible_delegated_vars"]?.dictValue?["ansible_host"] ?? .null
        }
        emit(kind, ["task": .string(key), "host": .string(r.host), "result": .dict(r.result)], display: display)
    }

    /// Applies what a result changes in the run's state: registered variables, facts, notifications.
    private func apply(_ outcome: HostTaskOutcome, task: PlayTask, to hosts: [String], state: PlayState) {
        for host in hosts {
            if let registered = outcome.registered, let name = task.keyword("register")?.stringValue {
                hostFacts[host, default: [:]][name] = .dict(registered)
            }
            if !outcome.facts.isEmpty, task.module != "set_fact", task.module != "include_vars" {
                factCache[host, default: [:]].merge(outcome.facts) { $1 }
            }
            if !outcome.setFacts.isEmpty {
                hostFacts[host, default: [:]].merge(outcome.setFacts) { $1 }
                if outcome.cacheableFacts { factCache[host, default: [:]].merge(outcome.setFacts) { $1 } }
            }
            if !outcome.includedVars.isEmpty {
                includedVars[host, default: [:]].merge(outcome.includedVars) { $1 }
            }
            if !outcome.notify.isEmpty {
                for name in outcome.notify {
                    var found = false
                    for (i, handler) in state.handlers.enumerated()
                    where handler.name == name || handler.listen.contains(name) || handler.displayName == name {
                        state.notified[i, default: []].insert(host)
                        found = true
                    }
                    if !found {
                        emit(.warning, ["message": .string(
                            "The requested handler '\(name)' was not found in either the main handlers list nor in the listening handlers list")])
                    }
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
        case .unreachable:
            if r.ignored {
                s.ok += 1
                s.ignored += 1
            } else {
                s.unreachable += 1
            }
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

    // MARK: - handlers

    private func flushHandlers(state: PlayState) async {
        var ran = true
        while ran && !state.breakPlay {
            ran = false
            for (index, handler) in state.handlers.enumerated() {
                guard let notified = state.notified[index], !notified.isEmpty else { continue }
                let hosts = state.batch.filter {
                    notified.contains($0) && !unreachableHosts.contains($0)
                        && (state.active.contains($0) || (forceHandlers(state) && failedHosts.contains($0)))
                }
                state.notified[index] = nil
                guard !hosts.isEmpty else { continue }
                var handlerTask = handler
                handlerTask.isHandler = true
                if handlerTask.module == "meta" {
                    var cursors: [String: TaskCursor] = [:]
                    await runMeta(handlerTask, hosts: hosts, state: state, cursors: &cursors)
                    continue
                }
                var cursors: [String: TaskCursor] = [:]
                for host in hosts { cursors[host] = TaskCursor([.task(handlerTask)]) }
                await runTaskOnHosts(handlerTask, hosts: hosts, state: state, cursors: &cursors, isHandler: true)
                ran = true
            }
        }
    }

    /// `--force-handlers` or the play's `force_handlers`: notified handlers run on failed hosts too.
    private func forceHandlers(_ state: PlayState) -> Bool {
        if let v = state.play.keywords["force_handlers"] { return isTrueForPlay(v, state: state) }
        return options.forceHandlers
    }

    // MARK: - meta

    private func runMeta(_ task: PlayTask, hosts: [String], state: PlayState, cursors: inout [String: TaskCursor]) async {
        let action = (task.args["_raw_params"]?.stringValue ?? "").trimmingCharacters(in: .whitespaces)
        let perHost = ["noop", "reset_connection", "end_host", "role_complete", "flush_handlers", "end_role"].contains(action)
        let targets = perHost ? hosts : Array(hosts.prefix(1))
        var flush = false
        for host in targets {
            let name = templatedName(task, state: state, host: host)
            let key = seed.startTask(named: name)
            emit(task.isHandler ? .handlerTaskStart : .taskStart, ["task": .string(key)], display: [
                "name": .string(name), "task_path": .string(task.mark.description),
            ])
            let context = makeContext(task: task, host: host, state: state)
            var holds = true
            var conditions: [Value] = task.inheritedWhen
            if let when = task.keywords["when"] { conditions.append(when) }
            for c in conditions.flatMap({ $0.listValue ?? [$0] }) {
                if (try? engine.evaluateConditional(c, variables: context.scope)) != true { holds = false }
            }
            var skipReason = "\(action) conditional evaluated to False"
            var message = action
            switch action {
            case "noop", "role_complete", "end_role": break
            case "flush_handlers":
                if holds { flush = true } else { skipReason += ", not running handlers for \(host)" }
            case "end_play":
                if holds {
                    state.active.removeAll()
                    state.endPlay = true
                } else { skipReason += ", continuing play" }
            case "end_batch":
                if holds {
                    state.active.removeAll()
                    state.endBatch = true
                } else { skipReason += ", continuing current batch" }
            case "end_host":
                if holds {
                    state.active.removeAll { $0 == host }
                } else {
                    skipReason += ", continuing execution for \(host)"
                    message = "end_host conditional evaluated to false, continuing execution for \(host)"
                }
            case "clear_host_errors":
                if holds {
                    // The hosts count again for later plays and the exit code; in this play their iteration
                    // has already ended (as in ansible-core's linear strategy).
                    for h in state.allHosts where failedHosts.contains(h) || unreachableHosts.contains(h) {
                        failedHosts.remove(h)
                        unreachableHosts.remove(h)
                    }
                } else { skipReason += ", not clearing host error state for \(host)" }
            case "clear_facts":
                if holds {
                    for h in state.allHosts { factCache[h] = nil }
                } else { skipReason += ", not clearing facts and fact cache for \(host)" }
            case "reset_connection":
                pool.drop(host)
            case "refresh_inventory": break
            default:
                let result = HostResult(host: host, status: .failed, result: [
                    "changed": false, "msg": .string("invalid meta action requested: \(action)"),
                ], errorText: "invalid meta action requested: \(action)")
                record(result, task: task, key: key)
                markFailed(host, state: state)
                continue
            }
            if !holds {
                let result = HostResult(host: host, status: .skipped, result: [
                    "msg": .string(message), "skip_reason": .string(skipReason),
                ])
                record(result, task: task, key: key, counted: false)
            }
        }
        for host in hosts { cursors[host]?.advance() }
        if flush { await flushHandlers(state: state) }
    }

    // MARK: - includes

    private func expandIncludes(
        _ includes: [(String, [IncludeRequest])], task: PlayTask, state: PlayState, cursors: inout [String: TaskCursor]
    ) async {
        // Hosts that included the same file get one `included:` line.
        // (ansible-core's IncludedFile: one per file, arguments and loop item; hosts share it.)
        var byFile: OrderedDictionary<String, (path: String, item: String?, hosts: [String])> = [:]
        var loaded: [String: Result<[TaskNode], AnsibleError>] = [:]
        for (host, requests) in includes {
            var blocks: [Block] = []
            var failure: AnsibleError?
            for request in requests {
                var loader = PlaybookLoader()
                loader.extraVars = options.extraVars
                loader.playbookDirectory = state.playbook.directory
                let path = request.isRole ? request.file
                    : loader.resolveTaskFile(request.file, handlers: task.isHandler,
                                             relativeTo: (task.mark.file as NSString).deletingLastPathComponent, role: task.role)
                let nodes: Result<[TaskNode], AnsibleError>
                if let cached = loaded[path] {
                    nodes = cached
                } else if request.isRole {
                    do {
                        let role = try loader.loadIncludedRole(
                            name: request.file, from: task, playbookDirectory: state.playbook.directory,
                            tasksFrom: request.args["tasks_from"]?.stringValue, varsFrom: request.args["vars_from"]?.stringValue,
                            defaultsFrom: request.args["defaults_from"]?.stringValue,
                            handlersFrom: request.args["handlers_from"]?.stringValue)
                        nodes = .success([.block(role.block)])
                    } catch {
                        nodes = .failure(error)
                    }
                    loaded[path] = nodes
                } else {
                    do {
                        nodes = .success(try loader.loadIncludedTasks(
                            file: request.file, from: task, playbookDirectory: state.playbook.directory, handlers: task.isHandler))
                    } catch {
                        nodes = .failure(error)
                    }
                    loaded[path] = nodes
                }
                switch nodes {
                case .success(let list):
                    if !request.isRole {
                        var label: String? = nil
                        if let loopVar = request.loopVars["ansible_loop_var"]?.stringValue, let item = request.loopVars[loopVar] {
                            label = ResultDisplay.itemLabel(["item": item])
                        }
                        let groupKey = path + "\u{0}" + Value.dict(request.args).json() + "\u{0}" + (label ?? "")
                        var entry = byFile[groupKey] ?? (path, label, [])
                        if !entry.hosts.contains(host) { entry.hosts.append(host) }
                        byFile[groupKey] = entry
                    }
                    var vars = task.vars
                    vars.merge(request.args) { $1 }
                    for k in ["_raw_params", "file", "apply", "name", "tasks_from", "vars_from", "defaults_from",
                              "handlers_from", "allow_duplicates", "public", "rolespec_validate"] { vars.removeValue(forKey: k) }
                    vars.merge(request.loopVars) { $1 }
                    var keywords = Keywords()
                    for level in task.inheritedKeywordsForInclude {
                        for (k, v) in level.values where k != "when" && k != "vars" { keywords[k] = v }
                    }
                    if let apply = request.args["apply"]?.dictValue {
                        for (k, v) in apply { keywords[k] = v }
                    }
                    blocks.append(Block(
                        name: nil, block: list, rescue: [], always: [], vars: vars, keywords: keywords, mark: task.mark))
                case .failure(let error):
                    failure = error
                }
            }
            if let failure {
                let r = HostResult(host: host, status: .failed, result: [
                    "changed": false, "reason": .string(failure.message),
                ], errorText: failure.message)
                emit(.warning, ["message": .string(failure.message)])
                record(r, task: task, key: seed.tasks.keys.last ?? task.displayName)
                cursors[host]?.advance()
                markFailed(host, state: state)
            } else {
                cursors[host]?.pushInclude(blocks)
            }
        }
        for (_, entry) in byFile {
            for host in entry.hosts {
                var s = stats[host] ?? HostStats()
                s.ok += 1
                stats[host] = s
            }
            var data: ValueDict = ["file": .string(entry.path), "hosts": .list(entry.hosts.map(Value.string))]
            if let item = entry.item { data["item"] = .string(item) }
            emit(.included, data)
        }
    }

    // MARK: - running a task

    /// Runs a task on hosts, at most `forks` (and `throttle`) at once; outcomes in completion order.
    private func runTask(_ task: PlayTask, on hosts: [String], state: PlayState) async -> [HostTaskOutcome] {
        var forks = max(1, options.forks)
        if let throttle = task.keyword("throttle") ?? state.play.keywords["throttle"] {
            let t = (try? engine.template(throttle, variables: VariableScope(layers: [state.play.vars], magic: [:]))) ?? throttle
            if let n = t.intValue ?? Int(t.stringValue ?? ""), n > 0 { forks = min(forks, n) }
        }
        var outcomes: [HostTaskOutcome] = []
        // A host's context is made when it starts (the executor's state does not change while a task runs), so
        // the first hosts are at work while the others' contexts are made.
        if releaseConnectionsAfterTask {
            outcomes = await runConnectingInWaves(task, on: hosts, forks: forks, state: state)
            return outcomes
        }
        await withTaskGroup(of: HostTaskOutcome.self) { group in
            var iterator = hosts.makeIterator()
            var running = 0
            while running < forks, let host = iterator.next() {
                let context = makeContext(task: task, host: host, state: state)
                group.addTask { await context.run() }
                running += 1
            }
            for await outcome in group {
                outcomes.append(outcome)
                // Cancelled: hosts already running finish their step; no new host starts.
                if !Task.isCancelled, let host = iterator.next() {
                    let context = makeContext(task: task, host: host, state: state)
                    group.addTask { await context.run() }
                }
            }
        }
        return outcomes
    }

    /// The ad-hoc command's `runTask`: every host connects first, at most `connectWindow` at a time (the SSH
    /// engine admits 100 handshakes at once anyway), runs its task as soon as it is connected (still at most
    /// `forks` hosts at once) and closes its connection when done. A thousand hosts with `-f 1000` then hold
    /// ~100 hosts' state in the connect phase instead of a thousand (frames, contexts), and only the sessions of
    /// hosts still at work.
    private static let connectWindow = 100

    private enum HostStep: Sendable {
        case connected(HostTaskContext)
        case finished(HostTaskOutcome)
    }

    private func runConnectingInWaves(_ task: PlayTask, on hosts: [String], forks: Int, state: PlayState) async
        -> [HostTaskOutcome] {
        var outcomes: [HostTaskOutcome] = []
        let pool = self.pool
        await withTaskGroup(of: HostStep.self) { group in
            var iterator = hosts.makeIterator()
            var running = 0, connecting = 0
            func startMore() {
                while running < forks, connecting < Self.connectWindow, !Task.isCancelled, let host = iterator.next() {
                    let context = makeContext(task: task, host: host, state: state)
                    group.addTask {
                        await context.connectFirst()
                        return .connected(context)
                    }
                    running += 1
                    connecting += 1
                }
            }
            startMore()
            for await step in group {
                switch step {
                case .connected(let context):
                    connecting -= 1
                    group.addTask {
                        let outcome = await context.run()
                        await pool.release(context.host)
                        return .finished(outcome)
                    }
                case .finished(let outcome):
                    running -= 1
                    outcomes.append(outcome)
                }
                // Cancelled: hosts already running finish their step; no new host starts.
                startMore()
            }
        }
        return outcomes
    }

    /// The variables of a host, lowest precedence first (ansible-core's order).
    private func layers(for host: String, task: PlayTask?, state: PlayState) -> [ValueDict] {
        var layers: [ValueDict] = []
        // The play's roles export their defaults (lowest of all) and vars (above vars_files) to the whole play.
        for role in state.play.roles { layers.append(role.defaults) }
        if let task { layers.append(contentsOf: task.roleDefaultLayers) }
        layers.append(inventory.variables(for: host))
        if let facts = factCache[host], !facts.isEmpty { layers.append(factVariables(facts)) }
        layers.append(state.play.vars)
        layers.append(state.varsFiles)
        for role in state.play.roles { layers.append(role.vars) }
        if let task {
            layers.append(contentsOf: task.roleVarLayers)
            for b in task.blockVars { layers.append(b) }
            layers.append(task.vars)
        }
        layers.append(includedVars[host] ?? [:])
        layers.append(hostFacts[host] ?? [:])
        if let task { layers.append(contentsOf: task.roleParamLayers) }
        layers.append(options.extraVars)
        return layers
    }

    private func makeContext(task: PlayTask, host: String, state: PlayState) -> HostTaskContext {
        let playMagic = playMagic(state)
        var magic = playMagic
        magic["inventory_hostname"] = .string(host)
        magic["inventory_hostname_short"] = .string(String(host.split(separator: ".").first ?? Substring(host)))
        magic["group_names"] = .list(inventory.groupNames(for: host).map(Value.string))
        for (k, v) in task.roleMagic { magic[k] = v }
        // hostvars and delegation see a snapshot of the other hosts' variables as they are now.
        let snapshot = HostVariablesSnapshot(
            inventory: inventory, factCache: factCache, hostFacts: hostFacts, includedVars: includedVars,
            play: state.play.vars, varsFiles: state.varsFiles, extraVars: options.extraVars, magic: playMagic)
        let scope = VariableScope(layers: layers(for: host, task: task, state: state), magic: magic,
                                  hostVariablesProvider: { snapshot.scope(for: $0) },
                                  allHostVariables: { snapshot.hostvarsValue() })
        var searchPaths = task.roleSearchPaths
        let taskDir = (task.mark.file as NSString).deletingLastPathComponent
        if !taskDir.isEmpty, taskDir != state.playbook.directory, !taskDir.hasPrefix("<") {
            searchPaths += [taskDir + "/files", taskDir]
        }
        searchPaths += [state.playbook.directory + "/files", state.playbook.directory]
        let hooks = makeCoreTemplateHooks(
            searchPaths: ansibleSearchPath(rolePaths: task.role.map { [$0.path] } ?? [], taskFile: task.mark.file),
            playbookDir: state.playbook.directory, inRole: task.role != nil)
        return HostTaskContext(
            host: host, task: task, scope: scope, engine: engine.withHooks(hooks), pool: pool, options: options,
            playKeywords: state.play.keywords, searchPaths: searchPaths, hostScope: { snapshot.scope(for: $0) })
    }
}

/// A host's facts as variables: each fact as itself (`ansible_hostname`, injected as ansible-core's
/// INJECT_FACTS_AS_VARS does) and all of them under `ansible_facts` without the `ansible_` prefix.
func factVariables(_ facts: ValueDict) -> ValueDict {
    var vars = facts
    var namespaced = ValueDict()
    for (k, v) in facts { namespaced[k.hasPrefix("ansible_") ? String(k.dropFirst(8)) : k] = v }
    vars["ansible_facts"] = .dict(namespaced)
    return vars
}

/// The other hosts' variables for `hostvars` and `delegate_to`, frozen when a task starts.
struct HostVariablesSnapshot: @unchecked Sendable {
    // @unchecked: Inventory is immutable during a run.
    let inventory: Inventory
    let factCache: [String: ValueDict]
    let hostFacts: [String: ValueDict]
    let includedVars: [String: ValueDict]
    let play: ValueDict
    let varsFiles: ValueDict
    let extraVars: ValueDict
    let magic: ValueDict

    func scope(for host: String) -> VariableScope? {
        guard inventory.host(named: host) != nil else { return nil }
        var layers: [ValueDict] = [inventory.variables(for: host)]
        if let facts = factCache[host], !facts.isEmpty { layers.append(factVariables(facts)) }
        layers += [play, varsFiles, includedVars[host] ?? [:], hostFacts[host] ?? [:], extraVars]
        var m = magic
        m["inventory_hostname"] = .string(host)
        m["inventory_hostname_short"] = .string(String(host.split(separator: ".").first ?? Substring(host)))
        m["group_names"] = .list(inventory.groupNames(for: host).map(Value.string))
        return VariableScope(layers: layers, magic: m, hostVariablesProvider: { self.scope(for: $0) },
                             allHostVariables: { self.hostvarsValue() })
    }

    /// `hostvars`: each inventory host's variables, as written (rendered with that host's variables when used).
    func hostvarsValue() -> Value {
        var all = ValueDict()
        for host in inventory.hostNames {
            guard let s = scope(for: host) else { continue }
            var vars = s.flattened
            vars.removeValue(forKey: "hostvars")
            all[host] = .dict(vars)
        }
        return .dict(all)
    }
}

extension PlayTask {
    // A role's variables: defaults lowest of all; its vars are already the implicit block's vars; its
    // parameters above set_fact and registered variables.
    var roleDefaultLayers: [ValueDict] { role.map { [$0.defaults] } ?? [] }
    var roleVarLayers: [ValueDict] { [] }
    var roleParamLayers: [ValueDict] { role.map { [$0.params] } ?? [] }
    var roleMagic: ValueDict {
        guard let role else { return [:] }
        return ["role_name": .string(role.name), "role_path": .string(role.path),
                "ansible_role_name": .string(role.name)]
    }
    /// Where `copy src:` and friends look first: the role's files/ and the role directory.
    var roleSearchPaths: [String] { role.map { [$0.path + "/files", $0.path] } ?? [] }

    /// The name the TASK banner shows for a key: a role's named task gets `role : ` before it.
    func bannerName(forKey name: String) -> String {
        if let role, let own = self.name, !own.isEmpty { return role.name + " : " + name }
        return name
    }

    /// What tasks of a file included by this task inherit.
    var inheritedKeywordsForInclude: [Keywords] {
        var own = keywords
        for k in ["loop", "loop_control", "register", "name", "notify", "run_once"] { own[k] = nil }
        for k in keywords.values.keys where k.hasPrefix("with_") { own[k] = nil }
        return inherited + [own]
    }
}
