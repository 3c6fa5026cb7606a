internal import CLibSSH2
internal import Glibc

/// What an operation asks of the loop after a step.
enum Step {
    /// Finished; its caller has been resumed.
    case done
    /// Waiting for the socket: `EPOLLIN`, `EPOLLOUT` or both.
    case wait(UInt32)
}

/// One piece of work on a connection (connect, exec, transfer), run as a state machine on the
/// connection's loop thread.
protocol Operation: AnyObject {
    /// When the operation gives up; nil for never.
    var deadline: ContinuousClock.Instant? { get }
    /// Advances as far as libssh2 allows without blocking.
    func step(_ connection: ConnectionCore) -> Step
    /// Gives up: resumes the caller with `error`. Returns true when the operation still has
    /// cleanup to step through (closing its channel), false when it is finished.
    func abort(_ connection: ConnectionCore, _ error: SSHError) -> Bool
}

/// Resumes a waiting caller exactly once.
final class Completion<T: Sendable> {
    private var continuation: CheckedContinuation<Result<T, SSHError>, Never>?
    init(_ continuation: CheckedContinuation<Result<T, SSHError>, Never>) { self.continuation = continuation }
    var isPending: Bool { continuation != nil }
    func resume(_ result: Result<T, SSHError>) {
        continuation?.resume(returning: result)
        continuation = nil
    }
}

/// A connection's loop-side state: its socket, its libssh2 session and a queue of operations run
/// one after another.
final class ConnectionCore: LoopHandler, @unchecked Sendable {
    // @unchecked Sendable: created on any thread but, from then on, touched only on `loop`'s thread
    // (the public `SSHConnection` reaches it only through `loop.execute`).
    let loop: EventLoop
    let host: String
    let port: Int
    var fd: Int32 = -1
    var session: OpaquePointer?
    /// The SFTP subsystem, started on first use and kept for the session's life.
    var sftp: OpaquePointer?
    private(set) var broken: SSHError?
    private var queue: [any Operation] = []
    private var keepaliveInterval: Duration?
    private var inCleanup = false

    init(loop: EventLoop, host: String, port: Int) {
        self.loop = loop
        self.host = host
        self.port = port
    }

    deinit {
        releaseResources()
    }

    func setKeepalive(_ interval: Duration?) {
        keepaliveInterval = interval
        guard let session, let interval else { return }
        libssh2_keepalive_config(session, 0, UInt32(max(1, interval.components.seconds)))
    }

    /// Queues `operation`; it runs when those before it are done.
    func submit(_ operation: any Operation) {
        if let broken {
            _ = operation.abort(self, broken)
            return
        }
        queue.append(operation)
        if queue.count == 1 { drive() }
    }

    /// Withdraws `operation` (its caller was cancelled).
    func cancel(_ operation: any Operation) {
        guard let index = queue.firstIndex(where: { $0 === operation }) else { return }
        if index > 0 {
            queue.remove(at: index)
            _ = operation.abort(self, SSHError(.cancelled, "cancelled"))
            return
        }
        abortCurrent(SSHError(.cancelled, "cancelled"))
    }

    /// Steps the current operation, and those after it, until one has to wait.
    func drive() {
        while let operation = queue.first {
            switch operation.step(self) {
            case .done:
                queue.removeFirst()
                inCleanup = false
            case .wait(let events):
                if let broken {
                    // The step broke the session; fail everything queued.
                    failAll(broken)
                    return
                }
                loop.watch(fd, events: events, handler: self)
                loop.setDeadline(inCleanup ? ContinuousClock.now + .seconds(5) : operation.deadline, for: self)
                return
            }
            if let broken {
                failAll(broken)
                return
            }
        }
        // Idle: nothing to watch until the next operation; keepalives by timer.
        if fd >= 0 { loop.watch(fd, events: 0, handler: self) }
        loop.setDeadline(keepaliveInterval.map { ContinuousClock.now + $0 }, for: self)
    }

    func handleEvents(_ events: UInt32) {
        drive()
    }

    func deadlineExpired() {
        guard !queue.isEmpty else {
            sendKeepalive()
            return
        }
        if inCleanup {
            markBroken(SSHError(.disconnected, "the session did not respond while closing a channel"))
            failAll(broken!)
            return
        }
        abortCurrent(nil)
    }

    private func abortCurrent(_ error: SSHError?) {
        guard let operation = queue.first else { return }
        let error = error ?? SSHError(.timeout, "timed out")
        if operation.abort(self, error) {
            inCleanup = true
            drive()
        } else {
            queue.removeFirst()
            drive()
        }
    }

    private func sendKeepalive() {
        guard let session, broken == nil else { return }
        var next: Int32 = 0
        let rc = libssh2_keepalive_send(session, &next)
        if rc != 0 && rc != LIBSSH2_ERROR_EAGAIN && isSessionFatal(rc) {
            markBroken(SSHError.last(session, .disconnected, "keepalive failed"))
            return
        }
        loop.setDeadline(keepaliveInterval.map { ContinuousClock.now + $0 }, for: self)
    }

    /// Records that the session is unusable; queued and later operations fail with `error`.
    func markBroken(_ error: SSHError) {
        if broken == nil { broken = error }
    }

    private func failAll(_ error: SSHError) {
        let pending = queue
        queue.removeAll()
        for operation in pending { _ = operation.abort(self, error) }
        releaseResources()
    }

    /// Closes the session politely (when usable) and the socket.
    func close() {
        markBroken(SSHError(.disconnected, "the connection was closed"))
        let pending = queue
        queue.removeAll()
        for operation in pending { _ = operation.abort(self, broken!) }
        releaseResources()
    }

    private func releaseResources() {
        if fd >= 0 { loop.forget(fd) }
        loop.setDeadline(nil, for: self)
        if let sftp {
            // Frees the SFTP state if its channel closes at once; otherwise the session frees the channel.
            _ = libssh2_sftp_shutdown(sftp)
            self.sftp = nil
        }
        if let session {
            // Non-blocking: the disconnect message is sent if the socket takes it at once.
            _ = libssh2_session_disconnect_ex(session, SSH_DISCONNECT_BY_APPLICATION, "bye", "")
            libssh2_session_free(session)
            self.session = nil
        }
        if fd >= 0 {
            Glibc.close(fd)
            fd = -1
        }
    }

    /// The step result for a libssh2 `EAGAIN`: wait in the directions the session names.
    func waitForSession() -> Step {
        guard let session else { return .wait(EPOLLIN.rawValue) }
        let directions = libssh2_session_block_directions(session)
        var events: UInt32 = 0
        if directions & LIBSSH2_SESSION_BLOCK_INBOUND != 0 { events |= EPOLLIN.rawValue }
        if directions & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0 { events |= EPOLLOUT.rawValue }
        return .wait(events == 0 ? EPOLLIN.rawValue : events)
    }

    /// The last error of the session, marking the session broken when the error means so.
    func failure(_ kind: SSHError.Kind, _ what: String, code: Int32) -> SSHError {
        guard let session else { return SSHError(.disconnected, "\(what): no session") }
        if isSessionFatal(code) {
            let error = SSHError.last(session, .disconnected, "Shared connection to \(host) closed (\(what))")
            markBroken(error)
            return error
        }
        return SSHError.last(session, kind, what)
    }
}

/// libssh2 errors after which the session cannot be used again.
func isSessionFatal(_ code: Int32) -> Bool {
    switch code {
    case LIBSSH2_ERROR_SOCKET_SEND, LIBSSH2_ERROR_SOCKET_RECV, LIBSSH2_ERROR_SOCKET_DISCONNECT,
        LIBSSH2_ERROR_SOCKET_TIMEOUT, LIBSSH2_ERROR_TIMEOUT, LIBSSH2_ERROR_DECRYPT, LIBSSH2_ERROR_PROTO,
        LIBSSH2_ERROR_KEX_FAILURE, LIBSSH2_ERROR_BANNER_RECV, LIBSSH2_ERROR_BANNER_SEND, LIBSSH2_ERROR_INVAL,
        LIBSSH2_ERROR_OUT_OF_BOUNDARY, LIBSSH2_ERROR_BAD_SOCKET:
        return true
    default:
        return false
    }
}
