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
            Exit codes, as ansible-playbook: 0 success, 1 error, 2 a host failed, 4 a host was unreachable \
            or the playbook could not be parsed, 64 bad usage.
            """,
        version: "swansible \(Swansible.version) (ansible-core \(Swansible.ansibleCoreVersion) compatible)",
        subcommands: [Play.self, Run.self, InventoryCommand.self])
}

/// Options shared by `play` and `run`, named as ansible-playbook and ansible name them.
struct CommonOptions: ParsableArguments {
    @Option(name: [.customShort("i"), .long], help: "Inventory source: a file, a directory or a comma list (repeatable).")
    var inventory: [String] = []

    @Option(name: [.customShort("e"), .customLong("extra-vars")], help: "key=value, JSON, YAML or @file (repeatable).")
    var extraVars: [String] = []

    @Option(name: [.customShort("f"), .long], help: "Hosts worked on at once (default 50).")
    var forks: Int?

    @Option(name: [.customShort("l"), .long], help: "Further limit the hosts to this pattern.")
    var limit: String?

    @Option(name: [.customShort("u"), .customLong("user")], help: "Connect as this user.")
    var user: String?

    @Option(name: [.customLong("private-key"), .customLong("key-file")], help: "Private key file.")
    var privateKey: String?

    @Flag(name: [.customShort("b"), .long], help: "Run with become (sudo by default).")
    var become = false

    @Option(name: .customLong("become-user"))
    var becomeUser: String?

    @Option(name: .customLong("become-method"))
    var becomeMethod: String?

    @Flag(name: [.customShort("C"), .long], help: "Check mode: change nothing.")
    var check = false

    @Flag(name: [.customShort("D"), .long], help: "Show differences.")
    var diff = false

    @Option(name: [.customShort("T"), .long], help: "Connection timeout in seconds (default 10).")
    var timeout: Int?

    @Flag(name: .customShort("v"), help: "More output (repeat for more).")
    var verbose: Int

    @Flag(name: .long, help: "Print only the result structure as JSON on stdout.")
    var json = false

    @Option(name: .long, help: "Write the ordered event stream to this file as JSON lines.")
    var events: String?

    func runOptions() throws -> RunOptions {
        var o = RunOptions()
        let env = ProcessInfo.processInfo.environment
        if let f = forks { o.forks = f } else if let f = env["ANSIBLE_FORKS"].flatMap(Int.init) { o.forks = f }
        o.limit = limit
        o.remoteUser = user ?? env["ANSIBLE_REMOTE_USER"]
        o.privateKeyFile = privateKey ?? env["ANSIBLE_PRIVATE_KEY_FILE"]
        o.become = become
        o.becomeUser = becomeUser
        o.becomeMethod = becomeMethod
        o.check = check
        o.diff = diff
        o.timeout = timeout ?? env["ANSIBLE_TIMEOUT"].flatMap(Int.init)
        o.verbosity = verbose
        if let hkc = env["ANSIBLE_HOST_KEY_CHECKING"], ["false", "no", "0", "off"].contains(hkc.lowercased()) {
            o.hostKeyChecking = false
        }
        o.sshCommonArgs = env["ANSIBLE_SSH_COMMON_ARGS"]
        o.sshExtraArgs = env["ANSIBLE_SSH_EXTRA_ARGS"]
        for item in extraVars { o.extraVars.merge(try parseExtraVars(item)) { $1 } }
        return o
    }

    func loadInventory(playbookDirectory: String?) throws -> (Inventory, [String]) {
        var warnings: [String] = []
        var sources = inventory
        if sources.isEmpty, let env = ProcessInfo.processInfo.environment["ANSIBLE_INVENTORY"] {
            sources = env.split(separator: ",").map(String.init)
        }
        if sources.isEmpty { sources = ["/etc/ansible/hosts"] }
        let inv = try Inventory.load(sources: sources, playbookDirectory: playbookDirectory, warnings: &warnings)
        return (inv, warnings)
    }
}

/// `-e`: `@file` (YAML or JSON), a JSON/YAML mapping, or `k=v` pairs.
func parseExtraVars(_ text: String) throws -> ValueDict {
    if text.hasPrefix("@") {
        let path = String(text.dropFirst())
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
    case let e as YAMLError:
        stderr.write(Data(("[ERROR]: " + e.description + "\n").utf8))
        return ExitCode(1)
    default:
        stderr.write(Data(("[ERROR]: \(error)\n").utf8))
        return ExitCode(1)
    }
}

final class EventSink: @unchecked Sendable {
    // @unchecked: events arrive in order from the run's single task.
    let output: DefaultOutput?
    let file: FileHandle?

    init(output: DefaultOutput?, eventsPath: String?) throws {
        self.output = output
        if let eventsPath {
            FileManager.default.createFile(atPath: eventsPath, contents: nil)
            guard let handle = FileHandle(forWritingAtPath: eventsPath) else {
                throw CLIError(message: "cannot write the events file \(eventsPath)", exitCode: 1)
            }
            file = handle
        } else {
            file = nil
        }
    }

    func handle(_ event: RunEvent) {
        output?.handle(event)
        if let file { file.write(Data((event.value.json(.compactSorted) + "\n").utf8)) }
    }
}

func printError(_ s: String) {
    FileHandle.standardError.write(Data((s + "\n").utf8))
}

func printLine(_ s: String) {
    FileHandle.standardOutput.write(Data((s + "\n").utf8))
}

extension SwansibleCommand {
    struct Play: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run playbooks, as ansible-playbook does.")

        @OptionGroup var common: CommonOptions

        @Flag(name: .customLong("syntax-check"), help: "Check the playbooks' syntax and stop.")
        var syntaxCheck = false

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
                var options = try common.runOptions()
                if options.forks <= 0 { options.forks = 50 }
                options.tags = Self.splitTags(tags)
                options.skipTags = Self.splitTags(skipTags)
                for p in playbooks where !FileManager.default.fileExists(atPath: p) {
                    throw CLIError(message: "the playbook: \(p) could not be found", exitCode: 1)
                }
                if syntaxCheck {
                    var loader = PlaybookLoader(rolesPath: options.rolesPath)
                    loader.requireSupportedModules = false
                    for p in playbooks { _ = try loader.load(path: p) }
                    if !common.json {
                        for p in playbooks { printLine("\nplaybook: \(p)") }
                    }
                    return
                }
                if listHosts || listTasks || listTags {
                    var loader = PlaybookLoader(rolesPath: options.rolesPath)
                    loader.requireSupportedModules = false
                    var loaded: [(String, SwansibleCore.Playbook)] = []
                    for p in playbooks { loaded.append((p, try loader.load(path: p))) }
                    let directory = playbooks.first.map { (absolutePathOf($0) as NSString).deletingLastPathComponent }
                    let (inventory, warnings) = try common.loadInventory(playbookDirectory: directory)
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
                let (inventory, warnings) = try common.loadInventory(playbookDirectory: directory)
                let output = common.json ? nil : DefaultOutput(verbosity: common.verbose, write: printLine)
                var allWarnings = warnings
                if inventory.hostNames.isEmpty {
                    allWarnings.append(
                        "provided hosts list is empty, only localhost is available. Note that the implicit localhost does not match 'all'")
                }
                for w in allWarnings { printError("[WARNING]: " + w) }
                let sink = try EventSink(output: output, eventsPath: common.events)
                let result = try await Swansible.runPlaybooks(
                    playbooks, inventory: inventory, options: options, onEvent: { sink.handle($0) })
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
            abstract: "Run one module on hosts, as the ansible ad-hoc command does.")

        @OptionGroup var common: CommonOptions

        @Option(name: [.customShort("m"), .customLong("module-name")], help: "The module (default command).")
        var module = "command"

        @Option(name: [.customShort("a"), .customLong("args")], help: "The module's arguments.")
        var args = ""

        @Flag(name: [.customShort("o"), .customLong("one-line")], help: "One line per host.")
        var oneLine = false

        @Argument(help: "Host pattern.")
        var pattern: String

        func run() async throws {
            do {
                let options = try common.runOptions()
                let (inventory, _) = try common.loadInventory(playbookDirectory: nil)
                let sink = try EventSink(output: nil, eventsPath: common.events)
                let result = try await Swansible.runAdHoc(
                    pattern: pattern, module: module, arguments: args, inventory: inventory, options: options,
                    onEvent: { sink.handle($0) })
                let entry = result.seed.tasks.values.first ?? SeedResults.TaskEntry()
                if common.json {
                    printLine(entry.value.json(.pretty))
                } else {
                    let printer = DefaultOutput(verbosity: common.verbose, write: printLine)
                    for (host, r) in entry.success { adHocLine(host, r, label: r["changed"]?.boolValue == true ? "CHANGED" : "SUCCESS", printer) }
                    for (host, r) in entry.failed { adHocLine(host, r, label: "FAILED!", printer) }
                    for (host, r) in entry.unreachable { adHocLine(host, r, label: "UNREACHABLE!", printer) }
                    for (host, r) in entry.skipped { adHocLine(host, r, label: "SKIPPED", printer) }
                }
                if result.exitCode != 0 { throw ExitCode(result.exitCode) }
            } catch let e as ExitCode {
                throw e
            } catch {
                throw fail(error)
            }
        }

        private func adHocLine(_ host: String, _ r: Value, label: String, _ printer: DefaultOutput) {
            let d = r.dictValue ?? [:]
            if (module == "command" || module == "shell"), d["rc"] != nil, label != "UNREACHABLE!" {
                let rc = d["rc"]?.intValue ?? 0
                if oneLine {
                    printLine("\(host) | \(label) | rc=\(rc) | (stdout) \((d["stdout"]?.stringValue ?? "").replacingOccurrences(of: "\n", with: "\\n"))")
                } else {
                    printLine("\(host) | \(label) | rc=\(rc) >>")
                    var out = d["stdout"]?.stringValue ?? ""
                    if let err = d["stderr"]?.stringValue, !err.isEmpty { out += (out.isEmpty ? "" : "\n") + err }
                    if label == "FAILED!", let msg = d["msg"]?.stringValue, msg != "non-zero return code" { out = msg }
                    printLine(out)
                }
            } else {
                printLine("\(host) | \(label) => " + printer.dump(d))
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

        @Argument(help: "Group for --graph.")
        var group: String?

        func run() async throws {
            do {
                var warnings: [String] = []
                let inv = try Inventory.load(sources: inventory.isEmpty ? ["/etc/ansible/hosts"] : inventory, warnings: &warnings)
                for w in warnings { FileHandle.standardError.write(Data(("[WARNING]: " + w + "\n").utf8)) }
                let format = Value.JSONFormat(indent: 4, sortKeys: true, ensureASCII: true)
                if let host {
                    printLine((inv.hostJSON(host) ?? .dict([:])).json(format))
                } else if graph {
                    if let text = inv.graph(group: group) {
                        printLine(text)
                    } else {
                        throw CLIError(message: "Pattern must be valid group name when using --graph", exitCode: 1)
                    }
                } else {
                    printLine(try inv.listJSON(limit: limit).json(format))
                }
            } catch let e as ExitCode {
                throw e
            } catch {
                throw fail(error)
            }
        }
    }
}

func absolutePathOf(_ path: String) -> String {
    path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
}
