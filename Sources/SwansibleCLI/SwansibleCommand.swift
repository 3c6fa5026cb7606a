import ArgumentParser
import Foundation
import SwansibleCore
import SwansibleData
import SwansibleYAML

@main
struct SwansibleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swansible",
        abstract: "Runs Ansible playbooks natively: no Python on the controller or the hosts.",
        discussion: """
            Exit codes, as ansible-playbook: 0 success, 1 error, 2 a host failed or bad command-line usage, \
            4 a host was unreachable or the playbook could not be parsed, 5 a bad ansible.cfg or option.
            """,
        version: "swansible \(Swansible.version) (ansible-core \(Swansible.ansibleCoreVersion) compatible)",
        subcommands: [Play.self, Run.self, InventoryCommand.self])

    /// As swift-argument-parser's, except that bad usage exits with 2, as ansible's argparse does (not 64).
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}

/// Options shared by `play` and `run`, named as ansible-playbook and ansible name them.
struct CommonOptions: ParsableArguments {
    @Option(name: [.customShort("i"), .long], help: "Inventory source: a file, a directory or a comma list (repeatable).")
    var inventory: [String] = []

    @Option(name: [.customShort("e"), .customLong("extra-vars")], help: "key=value, JSON, YAML or @file (repeatable).")
    var extraVars: [String] = []

    @Option(name: [.customShort("f"), .long], help: "Hosts worked on at once (default 50; ansible.cfg forks).")
    var forks: Int?

    @Option(name: [.customShort("l"), .long], help: "Further limit the hosts to this pattern.")
    var limit: String?

    @Option(name: [.customShort("u"), .customLong("user")], help: "Connect as this user.")
    var user: String?

    @Option(name: [.customLong("private-key"), .customLong("key-file")], help: "Private key file.")
    var privateKey: String?

    @Flag(name: [.customShort("k"), .customLong("ask-pass")], help: "Ask for the connection password (on the terminal).")
    var askPass = false

    @Option(name: .customLong("connection-password-file"), help: "Read the connection password from this file.")
    var connectionPasswordFile: String?

    @Flag(name: [.customShort("b"), .long], help: "Run with become (sudo by default).")
    var become = false

    @Option(name: .customLong("become-user"))
    var becomeUser: String?

    @Option(name: .customLong("become-method"))
    var becomeMethod: String?

    @Flag(name: [.customShort("K"), .customLong("ask-become-pass")], help: "Ask for the become password (on the terminal).")
    var askBecomePass = false

    @Option(name: .customLong("become-password-file"), help: "Read the become password from this file.")
    var becomePasswordFile: String?

    @Flag(name: [.customShort("C"), .long], help: "Check mode: change nothing.")
    var check = false

    @Flag(name: [.customShort("D"), .long], help: "Show differences.")
    var diff = false

    @Option(name: [.customShort("T"), .long], help: "Connection timeout in seconds (default 10).")
    var timeout: Int?

    @Flag(name: .customShort("v"), help: "More output (repeat for more: -vv, -vvv).")
    var verbose: Int

    @Flag(name: .long, help: "Print only the result structure as JSON on stdout (Docs/cli.md).")
    var json = false

    @Option(name: .long, help: "Write the ordered event stream to this file as JSON lines, as it happens.")
    var events: String?

    /// The run's options: defaults, then ansible.cfg and `ANSIBLE_*` (``AnsibleConfig``), then these flags.
    func runOptions(config: AnsibleConfig) throws -> RunOptions {
        var o = RunOptions()
        try config.apply(to: &o)
        if let f = forks {
            guard f >= 1 else { throw CLIError(message: "The number of processes (--forks) must be >= 1", exitCode: 2) }
            o.forks = f
        }
        if let limit { o.limit = limit }
        if let user { o.remoteUser = user }
        if let privateKey { o.privateKeyFile = absolutePathOf(expandTilde(privateKey)) }
        if become { o.become = true }
        if let becomeUser { o.becomeUser = becomeUser }
        if let becomeMethod { o.becomeMethod = becomeMethod }
        if check { o.check = true }
        if diff { o.diff = true }
        if let timeout { o.timeout = timeout }
        if verbose > 0 { o.verbosity = verbose }
        for item in extraVars { o.extraVars.merge(try parseExtraVars(item)) { $1 } }
        try askPasswords(config: config, into: &o)
        return o
    }

    /// `-k`/`-K` (or ask_pass/become_ask_pass in ansible.cfg), and the password files; prompts as ansible words them.
    private func askPasswords(config: AnsibleConfig, into o: inout RunOptions) throws {
        let ask = askPass || config.bool(.askPass) == true
        let askBecome = askBecomePass || config.bool(.becomeAskPass) == true
        var becomePrompt = "BECOME password: "
        if ask {
            o.connectionPassword = try Terminal.readSecret(prompt: "SSH password: ", option: "-k/--ask-pass")
            becomePrompt = "BECOME password[defaults to SSH password]: "
        } else if let file = connectionPasswordFile {
            o.connectionPassword = try readPasswordFile(file)
        }
        if askBecome {
            let secret = try Terminal.readSecret(prompt: becomePrompt, option: "-K/--ask-become-pass")
            o.becomePassword = ask && secret.isEmpty ? o.connectionPassword : secret
        } else if let file = becomePasswordFile {
            o.becomePassword = try readPasswordFile(file)
        }
    }

    /// The inventory: `-i` sources, else ansible.cfg's `inventory` / `ANSIBLE_INVENTORY`, else /etc/ansible/hosts.
    func loadInventory(config: AnsibleConfig, playbookDirectory: String?) throws -> (Inventory, [String]) {
        var warnings: [String] = []
        let sources = inventory.isEmpty ? config.inventorySources : inventory
        let inv = try Inventory.load(
            sources: sources, playbookDirectory: playbookDirectory, options: try config.inventoryOptions(), warnings: &warnings)
        return (inv, warnings)
    }
}

/// A password file's first line (ansible strips the trailing newline).
func readPasswordFile(_ path: String) throws -> String {
    guard let data = FileManager.default.contents(atPath: expandTilde(path)) else {
        throw CLIError(message: "The password file \(path) was not found", exitCode: 1)
    }
    let text = String(decoding: data, as: UTF8.self)
    return String(text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
        .trimmingCharacters(in: CharacterSet(charactersIn: "\r"))
}

func expandTilde(_ path: String) -> String {
    guard path == "~" || path.hasPrefix("~/") else { return path }
    return (ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()) + path.dropFirst(1)
}

/// Loads ansible.cfg and prints its warnings; with `-v`, says which file is used, as ansible does.
func loadConfig(verbosity: Int, quiet: Bool) throws -> AnsibleConfig {
    let config = try AnsibleConfig.load()
    DisplayLog.shared.open(config)
    for w in config.warnings { printError("[WARNING]: " + w) }
    let level = verbosity > 0 ? verbosity : ((try? config.int(.verbosity)) ?? nil) ?? 0
    if level > 0 && !quiet {
        printLine(config.path.map { "Using \($0) as config file" } ?? "No config file found; using defaults")
    }
    return config
}

/// `-e`: `@file` (YAML or JSON), a JSON/YAML mapping, or `k=v` pairs.
func parseExtraVars(_ text: String) throws -> ValueDict {
    if text.hasPrefix("@") {
        let path = absolutePathOf(expandTilde(String(text.dropFirst())))
        guard let data = FileManager.default.contents(atPath: path) else {
            throw AnsibleError.fileNotFound(absolutePathOf(path))
        }
        let value = try YAML.loadValue(text: String(decoding: data, as: UTF8.self), file: path)
        return value.dictValue ?? [:]
    }
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    if trimmed.hasPrefix("{") || trimmed.hasPrefix("[") {
        let value: Value
        do {
            value = try YAML.loadValue(text: trimmed, file: "<CLI option '-e'>")
        } catch {
            // ansible-core: the value has no file to show, so no source lines.
            throw AnsibleError(error.message, at: error.mark)
        }
        guard let d = value.dictValue else {
            throw CLIError(message: "Invalid extra vars data supplied. '\(text)' could not be made into a dictionary", exitCode: 1)
        }
        return d
    }
    return try ArgumentSplitting.parseKeyValues(text, checkRaw: false).filter { $0.key != "_raw_params" }
}

struct CLIError: Error, CustomStringConvertible {
    var message: String
    var exitCode: Int32
    var description: String { message }
}

/// Prints `[ERROR]: …` and exits with ansible's code.
func fail(_ error: any Error) -> ExitCode {
    let stderr = FileHandle.standardError
    switch error {
    case let e as AnsibleError:
        stderr.write(Data(("[ERROR]: " + e.description + "\n").utf8))
        return ExitCode(e.exitCode)
    case let e as InventoryError:
        stderr.write(Data(("[ERROR]: " + e.description + "\n").utf8))
        return ExitCode(1)
    case let e as CLIError:
        stderr.write(Data(("[ERROR]: " + e.message + "\n").utf8))
        return ExitCode(e.exitCode)
    case let e as AnsibleConfigError:
        stderr.write(Data(("[ERROR]: " + e.message + "\n").utf8))
        return ExitCode(e.exitCode)
    case let e as YAMLError:
        stderr.write(Data(("[ERROR]: " + e.description + "\n").utf8))
        return ExitCode(1)
    default:
        stderr.write(Data(("[ERROR]: \(error)\n").utf8))
        return ExitCode(1)
    }
}

final class EventSink: @unchecked Sendable {
    // @unchecked: events arrive in order from the run's single task; the progress line has its own lock.
    let output: DefaultOutput?
    let file: FileHandle?
    let progress: ProgressLine?
    var extra: ((RunEvent) -> Void)?

    init(output: DefaultOutput?, eventsPath: String?, progress: ProgressLine? = nil) throws {
        self.output = output
        self.progress = progress
        if let eventsPath {
            guard FileManager.default.createFile(atPath: eventsPath, contents: nil),
                let handle = FileHandle(forWritingAtPath: eventsPath)
            else {
                throw CLIError(message: "cannot write the events file \(eventsPath)", exitCode: 1)
            }
            file = handle
        } else {
            file = nil
        }
    }

    func handle(_ event: RunEvent) {
        // The events file first: a consumer tailing it sees each event as soon as it happens.
        if let file { file.write(Data((event.value.json(.compactSorted) + "\n").utf8)) }
        guard let progress else {
            output?.handle(event)
            extra?(event)
            return
        }
        progress.handle(event)
        progress.around {
            output?.handle(event)
            extra?(event)
        }
    }
}

func printError(_ s: String) {
    FileHandle.standardError.write(Data((s + "\n").utf8))
    DisplayLog.shared.log(s)
}

func printLine(_ s: String) {
    FileHandle.standardOutput.write(Data((s + "\n").utf8))
    DisplayLog.shared.log(s)
}

/// ansible-core's `log_path` (`ANSIBLE_LOG_PATH`): what the display prints is also appended to the file, one
/// record per message, as Python's logging writes them: `2026-11-25 21:28:02,932 p=PID u=USER n=ansible LEVEL| `
/// and the message without colors and leading newlines. (Not supported: `LOG_VERBOSITY`, `DEFAULT_LOG_FILTER`.) ERROR for `[ERROR]` messages, WARNING for warnings, INFO for
/// the rest; blank messages (ansible-core prints those screen-only) are not logged.
final class DisplayLog: @unchecked Sendable {
    static let shared = DisplayLog()
    private let lock = NSLock()
    private var handle: FileHandle?
    private var prefix = ""
    /// Python logging's `asctime`, local time (used under the lock only).
    private let formatter: DateFormatter = {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.dateFormat = "yyyy-MM-dd HH:mm:ss,SSS"
        return f
    }()

    /// Opens the log when the configuration names one (ansible-core's checks and warnings).
    func open(_ config: AnsibleConfig) {
        guard let path = config.path(AnsibleConfig.Setting.logPath), !path.isEmpty else { return }
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        let dir = (path as NSString).deletingLastPathComponent
        guard (exists && FileManager.default.isWritableFile(atPath: path))
            || FileManager.default.isWritableFile(atPath: dir.isEmpty ? "." : dir)
        else {
            FileHandle.standardError.write(Data("[WARNING]: log file at '\(path)' is not writeable and we cannot create it, aborting\n\n".utf8))
            return
        }
        if isDirectory.boolValue {
            FileHandle.standardError.write(Data("[WARNING]: DEFAULT_LOG_PATH can not be a directory '\(path)', aborting\n".utf8))
            return
        }
        if !exists { FileManager.default.createFile(atPath: path, contents: nil) }
        guard let h = FileHandle(forWritingAtPath: path) else { return }
        h.seekToEndOfFile()
        let user = ProcessInfo.processInfo.environment["USER"] ?? ProcessInfo.processInfo.environment["LOGNAME"] ?? NSUserName()
        lock.withLock {
            handle = h
            prefix = " p=\(ProcessInfo.processInfo.processIdentifier) u=\(user) n=ansible "
        }
    }

    func log(_ text: String) {
        guard lock.withLock({ handle != nil }) else { return }
        var message = Substring(stripColors(text))
        while message.first == "\n" { message.removeFirst() }
        guard !message.isEmpty else { return }
        // ansible-core prints a message less one trailing newline and logs it whole: a printed text that ends
        // with a newline came from a message with one more (its [ERROR] blocks).
        if message.hasSuffix("\n") { message += "\n" }
        let level = message.hasPrefix("[ERROR]") ? "ERROR" : message.hasPrefix("[WARNING]") || message.hasPrefix("[DEPRECATION WARNING]") ? "WARNING" : "INFO"
        lock.withLock {
            let record = formatter.string(from: Date()) + prefix + level + "| " + message + "\n"
            handle?.write(Data(record.utf8))
        }
    }

    private func stripColors(_ text: String) -> String {
        guard text.contains("\u{1B}[") else { return text }
        var out = ""
        var chars = text.makeIterator()
        while let c = chars.next() {
            if c == "\u{1B}" {
                // ESC [ parameters final-byte
                guard chars.next() == "[" else { continue }
                while let d = chars.next(), !("@"..."~").contains(d) {}
                continue
            }
            out.append(c)
        }
        return out
    }
}

/// How text output looks: colors (ansible's rules: force_color, nocolor/NO_COLOR, stdout a terminal) and width.
func makePalette(_ config: AnsibleConfig) -> Palette {
    Palette(enabled: config.useColor(isTerminal: Terminal.isTerminal(1)), config: config)
}

extension SwansibleCommand {
    struct Play: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run playbooks, as ansible-playbook does.",
            version: SwansibleCommand.configuration.version)

        @OptionGroup var common: CommonOptions

        @Flag(name: .customLong("syntax-check"), help: "Check the playbooks' syntax and stop.")
        var syntaxCheck = false

        @Flag(name: .customLong("force-handlers"), help: "Run handlers even if a task fails.")
        var forceHandlers = false

        @Option(name: .customLong("start-at-task"), help: "Start the playbook at the task with this name.")
        var startAtTask: String?

        @Flag(name: .customLong("list-hosts"), help: "List the hosts each play would run on, and stop.")
        var listHosts = false

        @Flag(name: .customLong("list-tasks"), help: "List the tasks each play would run, and stop.")
        var listTasks = false

        @Flag(name: .customLong("list-tags"), help: "List the tags of each play, and stop.")
        var listTags = false

        @Option(name: [.customShort("t"), .customLong("tags")], help: "Run only tasks with these tags (comma list, repeatable).")
        var tags: [String] = []

        @Option(name: .customLong("skip-tags"), help: "Skip tasks with these tags (comma list, repeatable).")
        var skipTags: [String] = []

        @Argument(help: "Playbook files.")
        var playbooks: [String]

        /// `-t a,b -t c` → `[a, b, c]` (ansible splits each value on commas).
        static func splitTags(_ values: [String]) -> [String] {
            values.flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
                .filter { !$0.isEmpty }
        }

        func run() async throws {
            do {
                let config = try loadConfig(verbosity: common.verbose, quiet: common.json)
                var options = try common.runOptions(config: config)
                if forceHandlers { options.forceHandlers = true }
                if let startAtTask { options.startAtTask = startAtTask }
                options.tags = Self.splitTags(tags)
                options.skipTags = Self.splitTags(skipTags)
                for p in playbooks where !FileManager.default.fileExists(atPath: p) {
                    throw CLIError(message: "the playbook: \(p) could not be found", exitCode: 1)
                }
                if syntaxCheck {
                    var loader = PlaybookLoader(rolesPath: options.rolesPath)
                    loader.requireSupportedModules = false
                    loader.extraVars = options.extraVars
                    for p in playbooks { _ = try loader.load(path: p) }
                    if !common.json {
                        for p in playbooks { printLine("\nplaybook: \(p)") }
                    }
                    return
                }
                if listHosts || listTasks || listTags {
                    var loader = PlaybookLoader(rolesPath: options.rolesPath)
                    loader.requireSupportedModules = false
                    loader.extraVars = options.extraVars
                    var loaded: [(String, SwansibleCore.Playbook)] = []
                    for p in playbooks { loaded.append((p, try loader.load(path: p))) }
                    let directory = playbooks.first.map { (absolutePathOf($0) as NSString).deletingLastPathComponent }
                    let (inventory, warnings) = try common.loadInventory(config: config, playbookDirectory: directory)
                    for w in warnings { printError("[WARNING]: " + w) }
                    var request = PlaybookListing.Request()
                    request.hosts = listHosts
                    request.tasks = listTasks
                    request.tags = listTags
                    request.onlyTags = options.tags
                    request.skipTags = options.skipTags
                    request.limit = options.limit
                    for (path, playbook) in loaded {
                        let text = try PlaybookListing.render(playbook, path: path, inventory: inventory, request: request)
                        FileHandle.standardOutput.write(Data(text.utf8))
                    }
                    return
                }
                let directory = playbooks.first.map { (absolutePathOf($0) as NSString).deletingLastPathComponent }
                let (inventory, warnings) = try common.loadInventory(config: config, playbookDirectory: directory)
                var output: DefaultOutput?
                if !common.json {
                    output = DefaultOutput(
                        verbosity: options.verbosity, palette: makePalette(config), columns: Terminal.bannerColumns(),
                        diffContext: options.diffContext, write: printLine)
                    if options.verbosity > 1 {
                        var loader = PlaybookLoader(rolesPath: options.rolesPath)
                        loader.requireSupportedModules = false
                        loader.extraVars = options.extraVars
                        output?.playCounts = playbooks.map { ($0, (try? loader.load(path: $0).plays.count) ?? 0) }
                    }
                }
                var allWarnings = warnings
                if inventory.hostNames.isEmpty {
                    allWarnings.append(
                        "provided hosts list is empty, only localhost is available. Note that the implicit localhost does not match 'all'")
                }
                for w in allWarnings { printError("[WARNING]: " + w) }
                let progress = ProgressLine.ifTerminal(enabled: !common.json)
                let sink = try EventSink(output: output, eventsPath: common.events, progress: progress)
                var playOptions = options
                playOptions.keepResults = common.json  // only --json prints the structure: a long run stays flat
                let runOptions = playOptions
                let result = try await interruptible {
                    try await Swansible.runPlaybooks(
                        playbooks, inventory: inventory, options: runOptions, onEvent: { sink.handle($0) })
                }
                progress?.finish()
                if result.exitCode == 99 { printError("[ERROR]: User interrupted execution") }
                if let error = result.error { printError("[ERROR]: " + error.description) }
                if common.json {
                    printLine(result.seed.value.json(.results))
                }
                if result.exitCode != 0 { throw ExitCode(result.exitCode) }
            } catch let e as ExitCode {
                throw e
            } catch {
                throw fail(error)
            }
        }
    }

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run one module on hosts, as the ansible ad-hoc command does.",
            version: SwansibleCommand.configuration.version)

        @OptionGroup var common: CommonOptions

        @Option(name: [.customShort("m"), .customLong("module-name")], help: "The module (default command).")
        var module = "command"

        @Option(name: [.customShort("a"), .customLong("args")], help: "The module's arguments.")
        var args = ""

        @Flag(name: [.customShort("o"), .customLong("one-line")], help: "One line per host.")
        var oneLine = false

        @Flag(name: .long, help: "Group hosts with identical output, with compact host ranges (as dshbak -c).")
        var collapse = false

        @Argument(help: "Host pattern.")
        var pattern: String

        func run() async throws {
            do {
                let config = try loadConfig(verbosity: common.verbose, quiet: common.json)
                let options = try common.runOptions(config: config)
                let (inventory, warnings) = try common.loadInventory(config: config, playbookDirectory: nil)
                for w in warnings { printError("[WARNING]: " + w) }
                let printer = AdHocOutput(
                    module: module, oneLine: oneLine, verbosity: options.verbosity, palette: makePalette(config),
                    write: printLine)
                let progress = ProgressLine.ifTerminal(enabled: !common.json)
                let sink = try EventSink(output: nil, eventsPath: common.events, progress: progress)
                let collapse = self.collapse
                let json = common.json
                if !json {
                    sink.extra = { event in
                        guard event.isHostResult, event.kind != .warning else {
                            if event.kind == .warning, let m = event.data["message"]?.stringValue { printError("[WARNING]: " + m) }
                            if event.kind == .noHostsMatched { printError("[WARNING]: No hosts matched, nothing to do") }
                            return
                        }
                        if collapse { printer.collect(event) } else { printer.show(event) }
                    }
                }
                let (pattern, module, args, runOptions) = (pattern, module, args, options)
                let result = try await interruptible {
                    try await Swansible.runAdHoc(
                        pattern: pattern, module: module, arguments: args, inventory: inventory, options: runOptions,
                        onEvent: { sink.handle($0) })
                }
                progress?.finish()
                if result.exitCode == 99 { printError("[ERROR]: User interrupted execution") }
                if json {
                    let entry = result.seed.tasks.values.first ?? SeedResults.TaskEntry()
                    printLine(entry.value.json(.pretty))
                } else if collapse {
                    printer.showCollapsed()
                }
                if result.exitCode != 0 { throw ExitCode(result.exitCode) }
            } catch let e as ExitCode {
                throw e
            } catch {
                throw fail(error)
            }
        }
    }

    struct InventoryCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "inventory", abstract: "Show the inventory, as ansible-inventory does.")

        @Option(name: [.customShort("i"), .long], help: "Inventory source (repeatable).")
        var inventory: [String] = []

        @Flag(name: .long, help: "All hosts and groups as JSON.")
        var list = false

        @Flag(name: .long, help: "The group tree.")
        var graph = false

        @Option(name: .long, help: "One host's variables.")
        var host: String?

        @Option(name: [.customShort("l"), .long], help: "Limit to this pattern.")
        var limit: String?

        @Flag(name: [.customShort("y"), .long], help: "YAML instead of JSON (with --list and --host).")
        var yaml = false

        @Argument(help: "Group for --graph.")
        var group: String?

        func run() async throws {
            do {
                let config = try AnsibleConfig.load()
                for w in config.warnings { printError("[WARNING]: " + w) }
                var warnings: [String] = []
                let inv = try Inventory.load(
                    sources: inventory.isEmpty ? config.inventorySources : inventory,
                    options: try config.inventoryOptions(), warnings: &warnings)
                for w in warnings { FileHandle.standardError.write(Data(("[WARNING]: " + w + "\n").utf8)) }
                let format = Value.JSONFormat(indent: 4, sortKeys: true, ensureASCII: true)
                let yamlOptions = YAMLDumpOptions(defaultFlowStyle: false, allowUnicode: true)
                if let host {
                    guard let vars = inv.hostJSON(host) else {
                        printError("[WARNING]: Could not match supplied host pattern, ignoring: \(host)")
                        throw CLIError(message: "You must pass a single valid host to --host parameter", exitCode: 5)
                    }
                    if yaml {
                        let text = YAML.dump(plainStrings(vars), options: yamlOptions)
                        printLine(text.hasSuffix("\n") ? String(text.dropLast()) : text)
                    } else {
                        printLine(vars.json(format))
                    }
                } else if graph {
                    if let text = inv.graph(group: group) {
                        printLine(text)
                    } else {
                        throw CLIError(message: "Pattern must be valid group name when using --graph", exitCode: 1)
                    }
                } else if yaml {
                    let text = YAML.dump(yamlInventory(try inv.listJSON(limit: limit)), options: yamlOptions)
                    printLine(text.hasSuffix("\n") ? String(text.dropLast()) : text)
                } else {
                    printLine(try inv.listJSON(limit: limit).json(format))
                }
            } catch let e as ExitCode {
                throw e
            } catch {
                throw fail(error)
            }
        }

        /// ansible-inventory's `--list --yaml` tree: each group with its `children` (nested) and `hosts` (with
        /// the host's variables the first time the host appears), empty keys left out; made from `--list`'s data.
        func yamlInventory(_ list: Value) -> Value {
            let groups = list.dictValue ?? [:]
            let hostvars = groups["_meta"]?["hostvars"]?.dictValue ?? [:]
            var seenHosts: Set<String> = []
            var seenGroups: Set<String> = []
            func format(_ name: String) -> ValueDict {
                let record = groups[name]?.dictValue ?? [:]
                var entry = ValueDict()
                var children = ValueDict()
                for child in record["children"]?.listValue?.compactMap(\.stringValue) ?? [] where child != "all" {
                    if seenGroups.contains(child) {
                        children[child] = .dict([:])
                    } else {
                        for (k, v) in format(child) { children[k] = v }
                        seenGroups.insert(child)
                    }
                }
                var hosts = ValueDict()
                for h in record["hosts"]?.listValue?.compactMap(\.stringValue) ?? [] {
                    let vars = seenHosts.insert(h).inserted ? plainStrings(hostvars[h] ?? .dict([:])) : .dict([:])
                    hosts[h] = vars
                }
                if !children.isEmpty { entry["children"] = .dict(children) }
                if !hosts.isEmpty { entry["hosts"] = .dict(hosts) }
                // ansible drops a group left empty.
                return entry.isEmpty ? [:] : [name: .dict(entry)]
            }
            return .dict(format("all"))
        }

        /// `{"__ansible_unsafe": s}` (the JSON profile's marking) back to plain strings for YAML.
        func plainStrings(_ v: Value) -> Value {
            if let d = v.dictValue {
                if d.count == 1, let s = d["__ansible_unsafe"]?.stringValue { return .string(s) }
                return .dict(d.mapValues(plainStrings))
            }
            if let l = v.listValue { return .list(l.map(plainStrings)) }
            return v
        }
    }
}

func absolutePathOf(_ path: String) -> String {
    path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
}

/// Runs a playbook or ad-hoc run so that SIGINT and SIGTERM stop it as ansible-playbook stops: no new work,
/// sessions closed, what finished reported (the executor then ends with exit code 99).
func interruptible<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
    let task = Task { try await body() }
    let sources = [SIGINT, SIGTERM].map { number -> any DispatchSourceSignal in
        signal(number, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
        source.setEventHandler { task.cancel() }
        source.resume()
        return source
    }
    defer {
        for source in sources { source.cancel() }
    }
    return try await task.value
}
