public import SwansibleData
import SwansibleSSH
import Foundation

/// The library's front door: run playbooks or single modules on an inventory.
public enum Swansible {
    /// swansible's version.
    public static let version = "0.1.0"
    /// The ansible-core version whose behaviour swansible follows.
    public static let ansibleCoreVersion = "2.19.14"

    /// Loads the inventory sources (ansible-playbook's `-i`), with the implicit localhost.
    public static func loadInventory(
        _ sources: [String], playbookDirectory: String? = nil, warnings: inout [String]
    ) throws(InventoryError) -> Inventory {
        try Inventory.load(sources: sources, playbookDirectory: playbookDirectory, warnings: &warnings)
    }

    /// Loads and runs playbooks in order, as `ansible-playbook` does.
    ///
    /// - Parameters:
    ///   - paths: playbook files.
    ///   - inventory: the hosts; see ``loadInventory(_:playbookDirectory:warnings:)``.
    ///   - onEvent: called, in order, for every event of the run (from the run's task); the result's `events` is
    ///     then empty (they are not kept twice).
    /// - Returns: the seed's result structure, the recap and the exit code ansible-playbook would give.
    /// - Throws: ``AnsibleError`` when a playbook cannot be loaded (nothing has run then).
    public static func runPlaybooks(
        _ paths: [String], inventory: Inventory, options: RunOptions = RunOptions(),
        onEvent: (@Sendable (RunEvent) -> Void)? = nil
    ) async throws(AnsibleError) -> PlaybookResult {
        var loader = PlaybookLoader(rolesPath: options.rolesPath)
        loader.extraVars = options.extraVars
        var playbooks: [Playbook] = []
        for path in paths { playbooks.append(try loader.load(path: path)) }
        let executor = PlaybookExecutor(inventory: inventory, options: options, onEvent: onEvent)
        var combined = Playbook(path: paths.first ?? "", directory: playbooks.first?.directory ?? ".", plays: [])
        for p in playbooks { combined.plays += p.plays }
        return await executor.run(combined, warnings: loader.warnings)
    }

    /// Runs one module on the hosts matching `pattern`, as the `ansible` ad-hoc command does.
    ///
    /// - Parameters:
    ///   - module: `command` (the default), `shell`, …
    ///   - arguments: the `-a` string (free form and `k=v`).
    public static func runAdHoc(
        pattern: String, module: String = "command", arguments: String = "", inventory: Inventory,
        options: RunOptions = RunOptions(), onEvent: (@Sendable (RunEvent) -> Void)? = nil
    ) async throws(AnsibleError) -> PlaybookResult {
        let short = ModuleRegistry.shortName(module)
        guard ModuleRegistry.isSupported(short) else {
            throw AnsibleError(
                "module '\(module)' is not supported by swansible. Supported: \(ModuleRegistry.supported.sorted().joined(separator: ", "))",
                kind: .general)
        }
        let args: ValueDict
        do {
            args = try ArgumentSplitting.parseKeyValues(arguments, checkRaw: ArgumentSplitting.rawParamModules.contains(short))
        } catch {
            throw AnsibleError(error.message, kind: .general)
        }
        let mark = SourceMark(file: "<adhoc>", line: 1, column: 1)
        var keywords = Keywords()
        keywords["gather_facts"] = false
        let task = PlayTask(id: 1, name: nil, action: module, module: short, args: args, vars: [:], keywords: Keywords(), mark: mark)
        let play = Play(
            name: "Ansible Ad-Hoc", hosts: .string(pattern), vars: [:], varsFiles: [], gatherFacts: false,
            preTasks: [], tasks: [.task(task)], postTasks: [], handlers: [], keywords: keywords, mark: mark)
        let executor = PlaybookExecutor(inventory: inventory, options: options, onEvent: onEvent)
        executor.releaseConnectionsAfterTask = true
        let cwd = FileManager.default.currentDirectoryPath
        return await executor.run(Playbook(path: "<adhoc>", directory: cwd, plays: [play]))
    }
}
