import Glibc
import SwansibleData

/// Runs a program with arguments and collects its output (what `subprocess.Popen(...).communicate()` gives).
enum InventoryScriptRunner {
    struct Output {
        var status: Int32
        var stdout: [UInt8]
        var stderr: [UInt8]
    }

    struct Failure: Error {
        var message: String
    }

    static func run(_ path: String, _ arguments: [String]) throws(Failure) -> Output {
        var outPipe: [Int32] = [0, 0]
        var errPipe: [Int32] = [0, 0]
        guard pipe(&outPipe) == 0 else { throw Failure(message: "pipe: \(String(cString: strerror(errno)))") }
        guard pipe(&errPipe) == 0 else {
            close(outPipe[0])
            close(outPipe[1])
            throw Failure(message: "pipe: \(String(cString: strerror(errno)))")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addclose(&actions, outPipe[0])
        posix_spawn_file_actions_addclose(&actions, errPipe[0])
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        posix_spawn_file_actions_addclose(&actions, outPipe[1])
        posix_spawn_file_actions_addclose(&actions, errPipe[1])

        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, path, &actions, nil, argv, environ)
        close(outPipe[1])
        close(errPipe[1])
        guard spawned == 0 else {
            close(outPipe[0])
            close(errPipe[0])
            throw Failure(message: String(cString: strerror(spawned)))
        }
        var stdout: [UInt8] = []
        var stderr: [UInt8] = []
        var fds = [
            pollfd(fd: outPipe[0], events: Int16(POLLIN), revents: 0),
            pollfd(fd: errPipe[0], events: Int16(POLLIN), revents: 0),
        ]
        var open = 2
        var buffer = [UInt8](repeating: 0, count: 65536)
        while open > 0 {
            if poll(&fds, nfds_t(fds.count), -1) < 0 {
                if errno == EINTR { continue }
                break
            }
            for i in fds.indices where fds[i].fd >= 0 && fds[i].revents != 0 {
                let n = read(fds[i].fd, &buffer, buffer.count)
                if n > 0 {
                    if i == 0 { stdout += buffer[0..<n] } else { stderr += buffer[0..<n] }
                } else if n == 0 || (errno != EINTR && errno != EAGAIN) {
                    close(fds[i].fd)
                    fds[i].fd = -1
                    open -= 1
                }
            }
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        // WIFEXITED / WEXITSTATUS, or the negative signal number as Python's returncode.
        let code = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : -(status & 0x7F)
        return Output(status: code, stdout: stdout, stderr: stderr)
    }
}

/// ansible-core's `script` inventory plugin: an executable source run with `--list` (and `--host NAME` for each
/// host when the output has no `_meta.hostvars`), its JSON read as groups with `hosts`, `vars` and `children`.
struct ScriptInventoryParser {
    var inventory: InventoryData
    let path: String
    private var hosts: [String] = []

    init(inventory: InventoryData, path: String) {
        self.inventory = inventory
        self.path = path
    }

    func run(_ arguments: [String]) throws(PluginFailure) -> String {
        let output: InventoryScriptRunner.Output
        do {
            output = try InventoryScriptRunner.run(path, arguments)
        } catch {
            let command = ([path] + arguments).map(Self.shellQuote).joined(separator: " ")
            throw PluginFailure("Failed to execute inventory script command '\(command)'. \(error.message)")
        }
        var stderr = String(decoding: output.stderr, as: UTF8.self)
        if !stderr.isEmpty && !stderr.hasSuffix("\n") { stderr += "\n" }
        let help = stderr.pythonStripped().isEmpty ? "" : "\nStandard error from inventory script:\n" + stderr
        guard output.status == 0 else {
            throw PluginFailure("Inventory script returned non-zero exit code \(output.status).\(help)")
        }
        guard let text = String(validating: output.stdout, as: UTF8.self) else {
            throw PluginFailure(
                "Inventory script result contained characters that cannot be interpreted as UTF-8.\(help)")
        }
        return text
    }

    /// Python's `shlex.quote`.
    static func shellQuote(_ s: String) -> String {
        if !s.isEmpty && s.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "@%+=:,./-_".contains($0)) }) {
            return s
        }
        return "'" + s.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\"'\"'") + "'"
    }

    /// Strings are trusted except `{"__ansible_unsafe": "…"}` (ansible-core's legacy JSON profile).
    static func decodeTrust(_ value: Value) -> Value {
        switch value {
        case .dict(let d):
            if d.count == 1, let s = d["__ansible_unsafe"]?.stringValue { return .unsafe(s) }
            return .dict(d.mapValues(decodeTrust))
        case .list(let items): return .list(items.map(decodeTrust))
        default: return value
        }
    }

    mutating func parse() throws(PluginFailure) {
        let text = try run(["--list"])
        let data: Value
        do {
            data = try Value(json: text)
        } catch {
            throw PluginFailure("Inventory script result could not be parsed as JSON. \(error.description)")
        }
        guard case .dict(let groups) = data else {
            throw PluginFailure("Value is '\(data.pythonTypeName)' instead of 'dict'.")
        }
        var hostvars: ValueDict?
        for (group, groupData) in groups {
            if group == "_meta" {
                guard case .dict(let meta) = groupData, case .dict(let hv)? = meta["hostvars"] else {
                    let found = groupData["hostvars"]?.pythonTypeName ?? "NoneType"
                    throw PluginFailure("Value contains '_meta.hostvars' which is '\(found)' instead of 'dict'.")
                }
                hostvars = hv
            } else {
                try parseGroup(group, groupData)
            }
        }
        if hostvars == nil {
            inventory.warn(
                "[DEPRECATION WARNING]: Inventory scripts should always provide 'meta.hostvars'. Host variables "
                    + "will be collected by running the inventory script with the '--host' option for each host. "
                    + "This feature will be removed from inventory plugin 'script' in ansible-core version 2.23.")
        }
        for host in hosts {
            var vars: Value
            if let hostvars {
                vars = hostvars[host] ?? .dict([:])
            } else {
                let text = try run(["--host", host])
                if text.pythonStripped().isEmpty {
                    vars = .dict([:])
                } else {
                    do { vars = try Value(json: text) } catch {
                        throw PluginFailure(
                            "Inventory script result for host '\(host)' could not be parsed as JSON. "
                                + error.description)
                    }
                }
            }
            guard case .dict(let dict) = Self.decodeTrust(vars) else {
                throw PluginFailure(
                    "Invalid data from file, expected dictionary and got:\n\n\(inventoryPythonStr(vars))")
            }
            for (key, value) in dict { try setVariable(host, key, value) }
        }
    }

    private mutating func setVariable(_ entity: String, _ key: String, _ value: Value) throws(PluginFailure) {
        if !InventoryVariables.isValidName(key) {
            inventory.warn(
                "[DEPRECATION WARNING]: Accepting inventory variable with invalid name '\(key)'. This feature will be "
                    + "removed from ansible-core version 2.23. Origin: <inventory script output from '\(path)'>")
        }
        do { try inventory.setVariable(entity, key, value) } catch { throw PluginFailure(error.message) }
    }

    private mutating func parseGroup(_ group: String, _ raw: Value) throws(PluginFailure) {
        inventory.addGroup(group)
        var data: ValueDict
        switch raw {
        case .dict(let d) where d["hosts"] != nil || d["vars"] != nil || d["children"] != nil:
            data = d
        case .dict(let d):
            inventory.warn(
                "[DEPRECATION WARNING]: Treating malformed group '\(group)' as the sole host of that group. Variables "
                    + "provided in this manner cannot be templated. This feature will be removed from inventory plugin "
                    + "'script' in ansible-core version 2.23.")
            data = ["hosts": [.string(group)], "vars": .dict(d.mapValues(\.markedUnsafe))]
        default:
            inventory.warn(
                "[DEPRECATION WARNING]: Group '\(group)' was converted to 'dict' from '\(raw.pythonTypeName)'. This "
                    + "feature will be removed from inventory plugin 'script' in ansible-core version 2.23.")
            data = ["hosts": raw]
        }
        if let hostList = data["hosts"] {
            guard case .list(let names) = hostList else {
                throw PluginFailure(
                    "Value contains '\(group).hosts' which is '\(hostList.pythonTypeName)' instead of 'list'.")
            }
            for name in names {
                let host = name.stringValue ?? inventoryPythonStr(name)
                if !hosts.contains(host) { hosts.append(host) }
                do { try inventory.addHost(host, group: group) } catch { throw PluginFailure(error.message) }
            }
        }
        if let vars = data["vars"] {
            guard case .dict(let dict) = Self.decodeTrust(vars) else {
                throw PluginFailure(
                    "Value contains '\(group).vars' which is '\(vars.pythonTypeName)' instead of 'dict'.")
            }
            for (key, value) in dict { try setVariable(group, key, value) }
        }
        if let children = data["children"] {
            let names: [String]
            switch children {
            case .list(let items): names = items.map { $0.stringValue ?? inventoryPythonStr($0) }
            case .dict(let d): names = Array(d.keys)
            case .string(let s), .unsafe(let s): names = s.map(String.init)
            default: names = []
            }
            for child in names {
                inventory.addGroup(child)
                do { try inventory.addChild(group, child) } catch { throw PluginFailure(error.message) }
            }
        }
    }
}
