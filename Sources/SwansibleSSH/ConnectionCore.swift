internal import CLibSSH2
internal import Glibc
import Synchronization

/// What an operation asks of the loop after a step.
enum Step {
    /// Finished; its caller has been resumed.
    case done
    /// Waiting for the socket: `EPOLLIN`, `EPOLLOUT` or both.
    case wait(UInt32)
    /// Not finished and not waiting: step again after the loop has served its other connections (a large
    /// output or input must not hold the loop's thread, and every other host's timers, for seconds).
    case yield
}

/// One piece of work on a connection (connect, exec, transfer), run as a state machine on the
/// connection's loop thread.
protocol Operation: AnyObject {
    /// When the operation gives up; nil for never.
    var deadline: ContinuousClock.Instant? { get }
    /// Advances as far as libssh2 allows without blocking.
    func step(_ connection: ConnectionCore) -> Step
    /// Where the operation is, for ``EventLoop/debugState()``.
    var debugState: String { get }
    /// Gives up: resumes the caller with `error`. Returns true when the operation still has
    /// cleanup to step through (closing its channel), false when it is finished.
    func abort(_ connection: ConnectionCore, _ error: SSHError) -> Bool
}

/// Resumes a waiting caller exactly once.
final class Completion<T: Sendable> {
    private var continuation: CheckedContinuation<Result<T, SSHError>, Never>?
    init(_ continuation: CheckedContinuation<Result<T, SSHError>, Never>) { self.continuation = continuation }
    /// Nobody waits for the result (an operation the connection queues for itself).
    init() { continuation = nil }
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
    /// Upload bytes a channel may have in flight (``SendPacing``), set from the server's banner after the
    /// handshake; nil for the whole window.
    var sendLimit: Int?
    private(set) var broken: SSHError?
    /// `broken != nil`, readable from any thread (the pool asks before it hands out a kept session).
    let isBroken = Atomic<Bool>(false)
    private var queue: [any Operation] = []
    private var keepaliveInterval: Duration?
    /// Keepalives a peer may leave unanswered while an operation waits on it (OpenSSH's ServerAliveCountMax).
    private var keepaliveCountMax = 3
    /// When the peer last showed it is alive (bytes arrived, or queued bytes were taken) while an operation
    /// waited on it; reset when an operation starts after an idle spell.
    private var lastHeard = ContinuousClock.now
    /// When the last liveness probe went out, and how many went unanswered (OpenSSH counts the same way).
    private var lastProbe: ContinuousClock.Instant?
    private var probesUnanswered = 0
    private var inCleanup = false
    /// `close()` waits for the reapers queued before it (an interrupt abandons a command, then closes).
    private var closeWaiters: [() -> Void] = []
    private var closing = false
    private var cleanupDeadline: ContinuousClock.Instant?
    /// Events the loop watches for this connection right now.
    private var watching: UInt32 = 0
    /// Test hook: in an exec's read pass that has found nothing yet, wait between the stdout and the stderr read
    /// until the peer sends something, then this long more: the loop thread of a loaded machine, made
    /// deterministic (see `endOfOutputReadByTheOtherStreamDoesNotHang`).
    var testPauseBetweenReads: Duration?

    func testWaitForPeer(then pause: Duration) {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        _ = poll(&p, 1, 2000)
        usleep(UInt32(pause.components.seconds * 1_000_000 + pause.components.attoseconds / 1_000_000_000_000))
    }

    init(loop: EventLoop, host: String, port: Int) {
        self.loop = loop
        self.host = host
        self.port = port
    }

    deinit {
        releaseResources()
    }

    /// Keepalives: on an idle session every `interval`; while an operation waits for the peer, a probe that
    /// the server must answer after `interval` of silence, and the session is declared dead after
    /// `countMax` intervals without a sign of life.
    func setKeepalive(_ interval: Duration?, countMax: Int = 3) {
        keepaliveInterval = interval
        keepaliveCountMax = max(1, countMax)
        guard let session, interval != nil else { return }
        // libssh2 rate-limits keepalives by its own interval (in whole seconds, at least 2); the loop's timers
        // decide when to send, so keep libssh2's limit below ours.
        libssh2_keepalive_config(session, 0, 2)
    }

    /// Queues `operation`; it runs when those before it are done.
    func submit(_ operation: any Operation) {
        if let broken {
            _ = operation.abort(self, broken)
            return
        }
        queue.append(operation)
        if queue.count == 1 {
            // Silence while idle says nothing about the peer: count from now.
            lastHeard = .now
            lastProbe = nil
            probesUnanswered = 0
            drive()
        }
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
                cleanupDeadline = nil
            case .yield:
                loop.execute { [self] in drive() }
                return
            case .wait(let events):
                if let broken {
                    // The step broke the session; fail everything queued.
                    failAll(broken)
                    return
                }
                watching = events
                loop.watch(fd, events: events, handler: self)
                loop.setDeadline(nextDeadline(for: operation), for: self)
                return
            }
            if let broken {
                failAll(broken)
                return
            }
        }
        if closing {
            close()
            return
        }
        // Idle: watch only for the peer going away (EPOLLERR and EPOLLHUP are always reported); keepalives by timer.
        if fd >= 0 {
            watching = EPOLLRDHUP.rawValue
            loop.watch(fd, events: watching, handler: self)
        }
        loop.setDeadline(keepaliveInterval.map { ContinuousClock.now + $0 }, for: self)
    }

    /// The earliest of the operation's deadline (or the cleanup's) and the next liveness check.
    private func nextDeadline(for operation: any Operation) -> ContinuousClock.Instant? {
        var deadline = inCleanup ? cleanupDeadline : operation.deadline
        if let interval = keepaliveInterval, session != nil {
            let check = max(lastHeard, lastProbe ?? lastHeard) + interval
            deadline = deadline.map { min($0, check) } ?? check
        }
        return deadline
    }

    var debugLine: String {
        var directions: Int32 = 0
        if let session { directions = libssh2_session_block_directions(session) }
        let current = queue.first.map { "\($0.debugState)" } ?? "idle"
        return "\(host):\(port) queue \(queue.count) [\(current)] blocked \(directions)"
            + (inCleanup ? " cleanup" : "") + (broken.map { " broken: \($0.message)" } ?? "")
    }

    func handleEvents(_ events: UInt32) {
        if queue.isEmpty {
            // Idle, and the peer closed the connection or the socket failed: no later operation can succeed.
            // (Also stops level-triggered epoll from reporting the hang-up again and again.)
            if events & (EPOLLRDHUP.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 {
                markBroken(SSHError(.disconnected, "Shared connection to \(host) closed."))
                releaseResources()
            }
            return
        }
        // Bytes arrived, or the peer took queued bytes (EPOLLOUT when waiting for room): it is alive.
        if events & EPOLLIN.rawValue != 0 || (events & EPOLLOUT.rawValue != 0 && watching == EPOLLOUT.rawValue) {
            lastHeard = .now
            lastProbe = nil
            probesUnanswered = 0
        }
        drive()
    }

    func deadlineExpired() {
        guard let operation = queue.first else {
            sendKeepalive()
            return
        }
        let now = ContinuousClock.now
        if inCleanup, let cleanupDeadline, cleanupDeadline <= now {
            markBroken(SSHError(.disconnected, "the session did not respond while closing a channel"))
            failAll(broken!)
            return
        }
        if !inCleanup, let deadline = operation.deadline, deadline <= now {
            abortCurrent(nil)
            return
        }
        if let interval = keepaliveInterval {
            var unread: Int32 = 0
            if fd >= 0, ioctl(fd, UInt(FIONREAD), &unread) == 0, unread > 0 {
                // Bytes wait in the socket: the peer spoke; the loop was busy elsewhere. Read them first.
                lastHeard = now
                lastProbe = nil
                probesUnanswered = 0
                drive()
                return
            }
            if now - max(lastHeard, lastProbe ?? lastHeard) >= interval {
                // Dead only after countMax probes went unanswered, each given a full interval: silence measured
                // in wall time alone would also count a loop thread that could not run (a starved machine).
                if probesUnanswered >= keepaliveCountMax {
                    markBroken(SSHError(.disconnected, "Timeout, server \(host) not responding."))
                    failAll(broken!)
                    return
                }
                sendProbe()  // not sent when the socket has no room: counts as unanswered all the same
                probesUnanswered += 1
                lastProbe = now
            }
        }
        loop.setDeadline(nextDeadline(for: operation), for: self)
    }

    /// Asks the server for an answer (a keepalive with want_reply) while an operation waits on it. Only when
    /// no packet of the operation is half sent and the socket has room: libssh2 cannot interleave packets,
    /// and a keepalive that went out only in part would block every later packet of the session.
    private func sendProbe() {
        guard let session, fd >= 0,
            libssh2_session_block_directions(session) & LIBSSH2_SESSION_BLOCK_OUTBOUND == 0
        else { return }
        var unsent: Int32 = 0
        guard ioctl(fd, UInt(TIOCOUTQ), &unsent) == 0, unsent < 16 * 1024 else { return }
        var next: Int32 = 0
        libssh2_keepalive_config(session, 1, 2)
        _ = libssh2_keepalive_send(session, &next)
    }

    private func abortCurrent(_ error: SSHError?) {
        guard let operation = queue.first else { return }
        let error = error ?? SSHError(.timeout, "timed out")
        if operation.abort(self, error) {
            if let exec = operation as? ExecOperation, exec.wantsReap {
                // The remote process outlives its channel (sshd signals nobody when a channel without a pty
                // closes, and libssh2 1.10 cannot send a signal request): hang it up from a channel of its own.
                queue.insert(exec.reaper(), at: 1)
            }
            inCleanup = true
            cleanupDeadline = .now + .seconds(5)
            drive()
        } else {
            queue.removeFirst()
            drive()
        }
    }

    private func sendKeepalive() {
        guard let session, broken == nil else { return }
        var next: Int32 = 0
        libssh2_keepalive_config(session, 0, 2)  // no answer wanted: nobody reads while idle
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
        isBroken.store(true, ordering: .releasing)
    }

    private func failAll(_ error: SSHError) {
        let pending = queue
        queue.removeAll()
        for operation in pending { _ = operation.abort(self, error) }
        releaseResources()
        if closing { close() }
    }

    /// Closes the session politely (when usable) and the socket, then calls `done`. When reapers are queued
    /// (a command was just abandoned, as an interrupt does before it closes every session), they run first:
    /// the session closes when the queue is empty, at most the reaper's timeout later.
    func close(then done: (() -> Void)? = nil) {
        if let done { closeWaiters.append(done) }
        if broken == nil, queue.contains(where: { ($0 as? ExecOperation)?.isReaper == true }) {
            closing = true
            // Nothing new starts: keep the operation in progress and the reapers.
            let dropped = queue.enumerated().filter { $0.offset > 0 && ($0.element as? ExecOperation)?.isReaper != true }
            queue = queue.enumerated().filter { $0.offset == 0 || ($0.element as? ExecOperation)?.isReaper == true }.map(\.element)
            for (_, operation) in dropped { _ = operation.abort(self, SSHError(.disconnected, "the connection was closed")) }
            return
        }
        closing = false
        markBroken(SSHError(.disconnected, "the connection was closed"))
        let pending = queue
        queue.removeAll()
        for operation in pending { _ = operation.abort(self, broken!) }
        releaseResources()
        let waiters = closeWaiters
        closeWaiters.removeAll()
        for waiter in waiters { waiter() }
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
