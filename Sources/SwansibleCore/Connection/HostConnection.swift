public import SwansibleData
public import SwansibleSSH
import Synchronization

/// A host's transport as modules see it: run a command, write a file, read a file.
public protocol HostConnection: Sendable {
    func exec(
        _ command: String, input: ExecInput, timeout: Duration?, become: BecomeSpec?, environment: [(String, String)]
    ) async throws(SSHError) -> ExecResult
    func writeFile(_ data: ExecInput, to path: String, mode: UInt32, become: BecomeSpec?) async throws(SSHError)
    func readFile(_ path: String, become: BecomeSpec?) async throws(SSHError) -> [UInt8]
    func close() async
    /// The transport is known to be dead (the peer hung up while it was idle): the pool connects anew.
    var isBroken: Bool { get }
}

extension HostConnection {
    /// A transport that cannot tell is taken as alive; a failing command then reports it.
    public var isBroken: Bool { false }
}

extension SSHConnection: HostConnection {
    public func writeFile(_ data: ExecInput, to path: String, mode: UInt32, become: BecomeSpec?) async throws(SSHError) {
        try await writeFile(data, to: path, mode: mode, method: .stream, become: become, timeout: nil)
    }

    public func readFile(_ path: String, become: BecomeSpec?) async throws(SSHError) -> [UInt8] {
        if become == nil { return try await readFile(path, timeout: nil) }
        return try await readFileAs(path, become: become)
    }
}

extension LocalConnection: HostConnection {
    public func writeFile(_ data: ExecInput, to path: String, mode: UInt32, become: BecomeSpec?) async throws(SSHError) {
        try await writeFile(data, to: path, mode: mode, become: become, timeout: nil)
    }

    public func readFile(_ path: String, become: BecomeSpec?) async throws(SSHError) -> [UInt8] {
        if become == nil { return try await readFile(path, timeout: nil) }
        return try await readFileAs(path, become: become)
    }

    public func close() async {}
}

extension HostConnection {
    /// Reads a file through `cat` as another user (become).
    func readFileAs(_ path: String, become: BecomeSpec?) async throws(SSHError) -> [UInt8] {
        let result = try await exec("cat \(shellQuote(path))", input: .none, timeout: nil, become: become, environment: [])
        guard result.exitStatus == 0 else { throw SSHError(.transfer, String(decoding: result.stderr, as: UTF8.self)) }
        return result.stdout
    }
}

/// How to reach a host, from its variables (`ansible_host`, `ansible_port`, `ansible_user`, …) and the
/// run's options, as ansible-core's ssh and local connection plugins read them.
public struct ConnectionSettings: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable { case ssh, local }
    public var kind: Kind = .ssh
    public var address: String
    public var port: Int = 22
    public var user: String?
    public var password: String?
    public var privateKeyFile: String?
    public var knownHostsFiles: [String]? = nil
    public var hostKeyChecking = true
    public var timeout: Duration = .seconds(10)

    public init(address: String) { self.address = address }

    /// Reads the connection variables of a host (already templated).
    public static func from(
        hostName: String, variables: (String) -> Value?, defaults: RunOptions
    ) -> ConnectionSettings {
        func string(_ names: String...) -> String? {
            for name in names { if let v = variables(name), let s = v.stringValue ?? (v.isNull ? nil : v.json()) { return s } }
            return nil
        }
        var s = ConnectionSettings(address: string("ansible_host", "ansible_ssh_host") ?? hostName)
        let connection = string("ansible_connection") ?? defaults.connection ?? "ssh"
        s.kind = connection == "local" ? .local : .ssh
        if let port = variables("ansible_port") ?? variables("ansible_ssh_port") {
            s.port = port.intValue ?? Int(port.stringValue ?? "") ?? 22
        } else if let p = defaults.port {
            s.port = p
        }
        s.user = string("ansible_user", "ansible_ssh_user") ?? defaults.remoteUser
        s.password = string("ansible_password", "ansible_ssh_pass") ?? defaults.connectionPassword
        s.privateKeyFile = string("ansible_ssh_private_key_file", "ansible_private_key_file") ?? defaults.privateKeyFile
        s.hostKeyChecking = defaults.hostKeyChecking
        if let t = variables("ansible_timeout")?.intValue ?? defaults.timeout { s.timeout = .seconds(t) }
        // OpenSSH options given as extra arguments: the ones that matter to a libssh2 client.
        for name in ["ansible_ssh_common_args", "ansible_ssh_extra_args"] {
            if let args = string(name) { s.applySSHArguments(args) }
        }
        for args in [defaults.sshCommonArgs, defaults.sshExtraArgs].compactMap({ $0 }) { s.applySSHArguments(args) }
        return s
    }

    /// What an OpenSSH argument string sets, in order.
    enum SSHArgumentEffect: Sendable {
        case port(Int), user(String), identityFile(String), knownHostsFiles([String]), noHostKeyChecking, timeout(Int)
    }

    /// The effects of argument strings already split: every task on every host reads its connection variables
    /// again, and splitting the same `ansible_ssh_common_args` each time was a tenth of the executor's
    /// instructions per host-task.
    private static let parsedArguments = Mutex<[String: [SSHArgumentEffect]]>([:])

    /// Applies `-o Key=Value`, `-p`, `-i`, `-l` options from an OpenSSH argument string.
    mutating func applySSHArguments(_ text: String) {
        let effects: [SSHArgumentEffect]
        if let known = Self.parsedArguments.withLock({ $0[text] }) {
            effects = known
        } else {
            effects = Self.sshArgumentEffects(text)
            Self.parsedArguments.withLock {
                if $0.count >= 256 { $0.removeAll() }
                $0[text] = effects
            }
        }
        for effect in effects {
            switch effect {
            case .port(let p): port = p
            case .user(let u): user = u
            case .identityFile(let f): privateKeyFile = f
            case .knownHostsFiles(let files): knownHostsFiles = files
            case .noHostKeyChecking: hostKeyChecking = false
            case .timeout(let t): timeout = .seconds(t)
            }
        }
    }

    static func sshArgumentEffects(_ text: String) -> [SSHArgumentEffect] {
        var effects: [SSHArgumentEffect] = []
        let words = (try? ArgumentSplitting.shlexSplit(text)) ?? []
        var i = 0
        while i < words.count {
            let word = words[i]
            var option: String?
            if word == "-o", i + 1 < words.count {
                option = words[i + 1]
                i += 1
            } else if word.hasPrefix("-o") {
                option = String(word.dropFirst(2))
            } else if (word == "-p" || word == "-i" || word == "-l"), i + 1 < words.count {
                let value = words[i + 1]
                switch word {
                case "-p": if let p = Int(value) { effects.append(.port(p)) }
                case "-i": effects.append(.identityFile(value))
                default: effects.append(.user(value))
                }
                i += 1
            }
            if let option {
                let parts = option.split(separator: "=", maxSplits: 1).map(String.init)
                let pair = parts.count == 2 ? parts : option.split(separator: " ", maxSplits: 1).map(String.init)
                if pair.count == 2 {
                    switch pair[0].lowercased() {
                    case "userknownhostsfile":
                        effects.append(.knownHostsFiles(pair[1].split(separator: " ").map { expandHome(String($0)) }))
                    case "stricthostkeychecking":
                        if ["no", "off", "false"].contains(pair[1].lowercased()) { effects.append(.noHostKeyChecking) }
                    case "port": if let p = Int(pair[1]) { effects.append(.port(p)) }
                    case "user": effects.append(.user(pair[1]))
                    case "identityfile": effects.append(.identityFile(pair[1]))
                    case "connecttimeout": if let t = Int(pair[1]) { effects.append(.timeout(t)) }
                    default: break
                    }
                }
            }
            i += 1
        }
        return effects
    }
}

func expandHome(_ path: String) -> String {
    if path == "~" || path.hasPrefix("~/") {
        let home = ProcessEnvironment.home
        return home + path.dropFirst(1)
    }
    return path
}

/// The connection a module runs with: it remembers the first privilege-escalation failure (a wrong or missing
/// become password, a become user sudo refuses), which ends the task as ansible-core ends it — "Task failed:
/// Incorrect sudo password", whatever the module was doing — rather than as the module's own failure.
final class BecomeFailureWatch: HostConnection {
    let base: any HostConnection
    private let first = Mutex<SSHError?>(nil)

    init(_ base: any HostConnection) { self.base = base }

    var failure: SSHError? { first.withLock { $0 } }

    private func note(_ error: SSHError) {
        if error.kind == .become { first.withLock { if $0 == nil { $0 = error } } }
    }

    func exec(
        _ command: String, input: ExecInput, timeout: Duration?, become: BecomeSpec?, environment: [(String, String)]
    ) async throws(SSHError) -> ExecResult {
        do {
            return try await base.exec(command, input: input, timeout: timeout, become: become, environment: environment)
        } catch {
            note(error)
            throw error
        }
    }

    func writeFile(_ data: ExecInput, to path: String, mode: UInt32, become: BecomeSpec?) async throws(SSHError) {
        do { try await base.writeFile(data, to: path, mode: mode, become: become) } catch {
            note(error)
            throw error
        }
    }

    func readFile(_ path: String, become: BecomeSpec?) async throws(SSHError) -> [UInt8] {
        do { return try await base.readFile(path, become: become) } catch {
            note(error)
            throw error
        }
    }

    func close() async { await base.close() }
    var isBroken: Bool { base.isBroken }
}
