public import SwansibleData
import SwansibleSSH
import Synchronization

/// One connection per host for the whole run, opened on first use.
final class ConnectionPool: Sendable {
    private let client: SSHClient
    private let local = LocalConnection()
    private let connections = Mutex<[String: (settings: ConnectionSettings, task: Task<Result<any HostConnection, SSHError>, Never>)]>([:])

    init(client: SSHClient) { self.client = client }

    /// The host's connection, connecting if this is the first use. A failed connection is not retried
    /// within the run (the host is unreachable).
    ///
    /// A kept session whose peer hung up while it sat idle between tasks (sshd restarted or killed, the host
    /// rebooted) is replaced by a new connection, as ansible-core's ssh plugin opens a new one for the next
    /// task when its ControlPersist master died.
    func connection(for host: String, settings: ConnectionSettings) async -> Result<any HostConnection, SSHError> {
        if settings.kind == .local { return .success(local) }
        let result = await connection(for: host, settings: settings, replacingBroken: nil)
        if case .success(let c) = result, c.isBroken {
            return await connection(for: host, settings: settings, replacingBroken: c)
        }
        return result
    }

    private func connection(
        for host: String, settings: ConnectionSettings, replacingBroken broken: (any HostConnection)?
    ) async -> Result<any HostConnection, SSHError> {
        let client = self.client
        var replaced: Task<Result<any HostConnection, SSHError>, Never>?
        let task = connections.withLock { table in
            if let existing = table[host] {
                if existing.settings == settings && broken == nil { return existing.task }
                // The host's connection variables changed (set_fact ansible_host, …): connect anew.
                replaced = existing.task
            }
            let task = Task { () -> Result<any HostConnection, SSHError> in
                do throws(SSHError) {
                    var keys: [SSHPrivateKey] = []
                    if let key = settings.privateKeyFile { keys.append(SSHPrivateKey(path: expandHome(key))) }
                    let credentials = SSHCredentials(
                        user: settings.user ?? ProcessEnvironment.userName, password: settings.password, privateKeys: keys)
                    let policy: HostKeyPolicy = settings.hostKeyChecking
                        ? .strict(knownHostsFiles: settings.knownHostsFiles ?? [ProcessEnvironment.home + "/.ssh/known_hosts"])
                        : .acceptAny
                    let c = try await client.connect(
                        host: settings.address, port: settings.port, credentials: credentials,
                        options: SSHOptions(hostKeyPolicy: policy, connectTimeout: settings.timeout))
                    return .success(c)
                } catch {
                    return .failure(error)
                }
            }
            table[host] = (settings, task)
            return task
        }
        if let replaced, case .success(let old) = await replaced.value { await old.close() }
        return await task.value
    }

    /// Forgets a host's connection (after it broke) so the next task reconnects.
    func drop(_ host: String) {
        _ = connections.withLock { $0.removeValue(forKey: host) }
    }

    /// Closes a host's connection now (its work is done); the next use would connect again.
    func release(_ host: String) async {
        guard let entry = connections.withLock({ $0.removeValue(forKey: host) }) else { return }
        if case .success(let c) = await entry.task.value { await c.close() }
    }

    func closeAll() async {
        let all = connections.withLock { table in
            defer { table.removeAll() }
            return Array(table.values)
        }
        for entry in all {
            if case .success(let c) = await entry.task.value { await c.close() }
        }
    }
}
