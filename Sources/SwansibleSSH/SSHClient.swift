internal import CLibSSH2
internal import Glibc
import Synchronization

private let libssh2Ready: Int32 = libssh2_init(0)

/// The SSH engine: opens sessions to hosts and runs them on a few event-loop threads.
///
/// One client serves a whole run. Private key files are read once per client, whatever the
/// number of hosts.
public final class SSHClient: Sendable {
    let group: EventLoopGroup
    let keyStore = PrivateKeyStore()
    private let connectSlots: AsyncSlots

    /// - Parameters:
    ///   - loopCount: event-loop threads; nil shares the process-wide loops (one per core).
    ///   - maxConcurrentConnects: connections in their TCP/SSH handshake at once; further connects wait for a
    ///     slot before their timeouts start. A thousand handshakes started at the same instant all finish late
    ///     (every server and the controller share the CPU among all of them) and all time out together;
    ///     admitted in waves they finish one wave after another.
    public init(loopCount: Int? = nil, maxConcurrentConnects: Int = 100) {
        precondition(libssh2Ready == 0, "libssh2_init failed")
        raiseOpenFileLimit()
        group = loopCount.map { EventLoopGroup(count: $0) } ?? .shared
        connectSlots = AsyncSlots(max(1, maxConcurrentConnects))
    }

    /// The libssh2 version linked in.
    public static var libssh2Version: String { String(cString: libssh2_version(0)) }

    /// Connects, checks the host key and authenticates.
    ///
    /// - Parameters:
    ///   - host: a name or address (`ansible_host`); names are resolved off the cooperative pool.
    ///   - port: the TCP port (`ansible_port`).
    /// - Throws: ``SSHError`` with ``SSHError/isConnectionFailure`` set for every way the host
    ///   can be unreachable.
    public func connect(
        host: String, port: Int = 22, credentials: SSHCredentials, options: SSHOptions = SSHOptions()
    ) async throws(SSHError) -> SSHConnection {
        let addresses = try await resolve(host: host, port: port)
        await connectSlots.acquire()
        defer { connectSlots.release() }
        let loop = group.next()
        let core = ConnectionCore(loop: loop, host: host, port: port)
        let keyStore = self.keyStore
        let connection = SSHConnection(core: core)
        try await connection.perform { completion throws(SSHError) in
            ConnectOperation(
                completion: completion, addresses: addresses, credentials: credentials, options: options,
                keyStore: keyStore)
        }
        return connection
    }

    /// Diagnostics for a run that seems stuck: each event loop's sockets, what their connections wait for, and
    /// whether the kernel has unread bytes for them. Not a stable format.
    public func debugState() async -> String {
        var parts: [String] = []
        for loop in group.loops {
            let text = await withCheckedContinuation { (continuation: CheckedContinuation<String, Never>) in
                loop.execute { continuation.resume(returning: loop.debugState()) }
            }
            parts.append(text)
        }
        return parts.joined(separator: "\n")
    }

    private func resolve(host: String, port: Int) async throws(SSHError) -> [SocketAddress] {
        if let numeric = numericAddress(host, port: port) { return [numeric] }
        let result: Result<[SocketAddress], SSHError> = await withCheckedContinuation { continuation in
            startThread(named: "swansible-dns") {
                continuation.resume(returning: lookUp(host: host, port: port))
            }
        }
        return try result.get()
    }
}

func numericAddress(_ host: String, port: Int) -> SocketAddress? {
    var v4 = sockaddr_in()
    if inet_pton(AF_INET, host, &v4.sin_addr) == 1 {
        v4.sin_family = sa_family_t(AF_INET)
        v4.sin_port = in_port_t(UInt16(truncatingIfNeeded: port).bigEndian)
        return .v4(v4)
    }
    var v6 = sockaddr_in6()
    let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
    if inet_pton(AF_INET6, bare, &v6.sin6_addr) == 1 {
        v6.sin6_family = sa_family_t(AF_INET6)
        v6.sin6_port = in_port_t(UInt16(truncatingIfNeeded: port).bigEndian)
        return .v6(v6)
    }
    return nil
}

/// getaddrinfo, blocking: call it on a thread of its own.
func lookUp(host: String, port: Int) -> Result<[SocketAddress], SSHError> {
    var hints = addrinfo()
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    hints.ai_family = AF_UNSPEC
    var list: UnsafeMutablePointer<addrinfo>?
    let rc = getaddrinfo(host, String(port), &hints, &list)
    guard rc == 0, let list else {
        let reason = rc == EAI_NONAME ? "Name or service not known"
            : rc == EAI_AGAIN ? "Temporary failure in name resolution" : String(cString: gai_strerror(rc))
        return .failure(SSHError(.nameResolution, "ssh: Could not resolve hostname \(host): \(reason)"))
    }
    defer { freeaddrinfo(list) }
    var addresses: [SocketAddress] = []
    var node: UnsafeMutablePointer<addrinfo>? = list
    while let current = node {
        if let address = current.pointee.ai_addr {
            if current.pointee.ai_family == AF_INET {
                addresses.append(.v4(UnsafeRawPointer(address).load(as: sockaddr_in.self)))
            } else if current.pointee.ai_family == AF_INET6 {
                addresses.append(.v6(UnsafeRawPointer(address).load(as: sockaddr_in6.self)))
            }
        }
        node = current.pointee.ai_next
    }
    if addresses.isEmpty {
        return .failure(SSHError(.nameResolution, "ssh: Could not resolve hostname \(host): Name or service not known"))
    }
    return .success(addresses)
}

/// An authenticated SSH session to one host, reused for every command of a run.
///
/// Commands on one connection run one after another, in the order they were issued; each gets
/// its own channel. Use a connection from one task at a time, as a host's tasks run in order.
public final class SSHConnection: Sendable {
    let core: ConnectionCore
    public var host: String { core.host }
    public var port: Int { core.port }
    /// The session is gone (the peer hung up while it was idle, a fatal error, or `close()`): every later
    /// operation on it fails. A caller that keeps sessions between tasks connects anew instead.
    public var isBroken: Bool { core.isBroken.load(ordering: .acquiring) }

    init(core: ConnectionCore) {
        self.core = core
    }

    deinit {
        let core = self.core
        core.loop.execute { core.close() }
    }

    /// Runs `command` through the login shell of the remote user (an SSH `exec` request).
    ///
    /// A non-zero exit status is a normal result, not an error.
    /// - Parameters:
    ///   - input: standard input; without it, the command's stdin is at EOF at once.
    ///   - timeout: the command is abandoned (its channel closed) after this long.
    ///   - become: run as another user through sudo or su.
    /// - Throws: ``SSHError``: ``SSHError/Kind/timeout``, ``SSHError/Kind/become``, a channel
    ///   failure, or a connection failure after which the session is gone.
    public func exec(
        _ command: String, input: ExecInput = .none, timeout: Duration? = nil, become: BecomeSpec? = nil,
        environment: [(String, String)] = []
    ) async throws(SSHError) -> ExecResult {
        // libssh2 sends no packet over 35,000 bytes (less the request's fields, the MAC and padding).
        let (command, stdin) = try commandFitting(withEnvironment(command, environment), input: input, become: become,
                                                  limit: 32_000, what: "an SSH exec request (libssh2)")
        return try await perform { completion throws(SSHError) in
            try ExecOperation(completion: completion, command: command, input: stdin, timeout: timeout, become: become)
        }
    }

    /// Closes the session; operations still queued fail with ``SSHError/Kind/disconnected``.
    public func close() async {
        let core = self.core
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            core.loop.execute {
                core.close { continuation.resume() }
            }
        }
    }

    /// Runs an operation on the loop and waits for it, withdrawing it if the task is cancelled.
    func perform<T: Sendable>(
        _ make: @escaping @Sendable (Completion<T>) throws(SSHError) -> any Operation
    ) async throws(SSHError) -> T {
        if Task.isCancelled { throw SSHError(.cancelled, "cancelled") }
        let core = self.core
        let slot = OperationSlot()
        let result: Result<T, SSHError> = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                core.loop.execute {
                    let completion = Completion(continuation)
                    if slot.cancelled {
                        completion.resume(.failure(SSHError(.cancelled, "cancelled")))
                        return
                    }
                    do throws(SSHError) {
                        let operation = try make(completion)
                        slot.operation = operation
                        core.submit(operation)
                    } catch {
                        completion.resume(.failure(error))
                    }
                }
            }
        } onCancel: {
            core.loop.execute {
                slot.cancelled = true
                if let operation = slot.operation { core.cancel(operation) }
            }
        }
        return try result.get()
    }
}

/// Prefixes `export NAME='value'` for each variable (sshd's `AcceptEnv` rarely lets `setenv` through, so
/// the variables travel in the command, as ansible-core sends them). Names must be shell identifiers.
/// A command line longer than `limit` bytes (after become's quoting) cannot be passed as it is: it travels on
/// stdin instead, to a shell that reads it whole and evaluates it (the `x` keeps trailing newlines). That needs
/// stdin to be free, and no pty (su's terminal would edit the text); otherwise the error names the limit.
func commandFitting(_ command: String, input: ExecInput, become: BecomeSpec?, limit: Int, what: String)
    throws(SSHError) -> (String, ExecInput) {
    let length = become.map { $0.wrap(command).command.utf8.count } ?? command.utf8.count
    guard length > limit else { return (command, input) }
    guard input == .none, become?.needsPTY != true else {
        throw SSHError(.channel, "the command line is \(length) bytes: \(what) holds at most \(limit) bytes, and a "
            + "longer one is sent on stdin only when the command has no stdin of its own and runs without a pty "
            + "(not with become_method su)")
    }
    return ("__swansible_cmd=$(cat; echo x); eval \"${__swansible_cmd%x}\"", .bytes(command.escapedBytes))
}

func withEnvironment(_ command: String, _ environment: [(String, String)]) -> String {
    guard !environment.isEmpty else { return command }
    var prefix = ""
    for (name, value) in environment {
        guard let first = name.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic),
            name.unicodeScalars.allSatisfy({ $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || $0.properties.numericType != nil)) })
        else { continue }
        prefix += "export \(name)=\(shellQuote(value)); "
    }
    return prefix + command
}

/// Links a waiting caller to its operation for cancellation; touched only on the loop thread.
private final class OperationSlot: @unchecked Sendable {
    var operation: (any Operation)?
    var cancelled = false
}

/// A counting semaphore for async callers (FIFO).
final class AsyncSlots: Sendable {
    private struct State {
        var free: Int
        var waiters: [CheckedContinuation<Void, Never>] = []
        var head = 0
    }
    private let state: Mutex<State>

    init(_ count: Int) { state = Mutex(State(free: count)) }

    func acquire() async {
        let admitted = state.withLock { s -> Bool in
            if s.free > 0 {
                s.free -= 1
                return true
            }
            return false
        }
        if admitted { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                if s.free > 0 {
                    s.free -= 1
                    return true
                }
                s.waiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    func release() {
        let next = state.withLock { s -> CheckedContinuation<Void, Never>? in
            if s.head < s.waiters.count {
                let c = s.waiters[s.head]
                s.head += 1
                if s.head == s.waiters.count {
                    s.waiters.removeAll()
                    s.head = 0
                }
                return c  // the slot passes to the waiter
            }
            s.free += 1
            return nil
        }
        next?.resume()
    }
}
