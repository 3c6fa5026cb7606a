internal import CLibSSH2
internal import Glibc

/// Runs one command on its own channel: writes stdin while reading stdout and stderr together
/// (reading one to its end first would deadlock once the other fills the channel window), then
/// collects the exit status and signal.
final class ExecOperation: Operation {
    private enum State { case open, pty, start, io, close, waitClosed, free, abandon, finished }

    private let completion: Completion<ExecResult>
    private let command: String
    private let usePTY: Bool
    private var state = State.open
    private var channel: OpaquePointer?
    private(set) var deadline: ContinuousClock.Instant?
    private var stdout: [UInt8] = []
    private var stderr: [UInt8] = []
    private var stdoutEOF = false
    private var stderrEOF = false
    private var aborted = false

    // Standard input: bytes, or chunks of a file.
    private var input: [UInt8] = []
    private var inputOffset = 0
    private var inputFD: Int32 = -1
    private var inputDone = false
    private var eofSent = false
    private var pacer = SendPacer(limit: nil)
    /// Input waits until stdout asks for it (``ExecInput/whenAsked(marker:_:)``).
    private var inputGate = InputGate(nil)

    /// The command may be running remotely: when it is abandoned, the connection hangs it up (``reaper()``).
    private(set) var wantsReap = false
    /// This is the connection's own command that hangs up abandoned ones.
    private(set) var isReaper = false

    private var become: BecomeWatcher?
    private let becomeSpec: BecomeSpec?
    private var pendingPassword: [UInt8] = []
    /// Under su: stdout holds the command's stderr after this (``throughTerminal(_:input:)``).
    private var stderrMarker: [UInt8]?

    init(
        completion: Completion<ExecResult>, command: String, input: ExecInput, timeout: Duration?,
        become: BecomeSpec?
    ) throws(SSHError) {
        self.completion = completion
        becomeSpec = become
        var command = command, input = input
        if become?.needsPTY == true { (command, input, stderrMarker) = try Self.throughTerminal(command, input: input) }
        if let become {
            let watcher = BecomeWatcher(become, command: command)
            self.command = watcher.command
            self.become = watcher
            usePTY = become.needsPTY
        } else {
            self.command = command
            usePTY = false
        }
        let (gate, data) = input.gated
        inputGate = InputGate(gate)
        switch data {
        case .none, .whenAsked: inputDone = true
        case .bytes(let bytes): self.input = bytes
        case .file(let path):
            inputFD = open(path, O_RDONLY | O_CLOEXEC)
            if inputFD < 0 {
                throw SSHError(.transfer, "could not open \(path): \(String(cString: strerror(errno)))")
            }
        }
        deadline = timeout.map { .now + $0 }
    }

    deinit {
        if inputFD >= 0 { close(inputFD) }
    }

    /// su needs a terminal for its password, and a terminal edits what passes through it (line editing, signals
    /// on ^C, at most 4 KB a line), cannot carry the end of the input and has one output stream. So under su the
    /// command's input travels raw and counted: once su has handed over, the shell turns the terminal raw and asks
    /// for the input, and `head -c` hands exactly that many bytes to the command through a pipe, which ends as a
    /// pipe ends; without input the command reads /dev/null, as it reads an empty stdin over a session without a
    /// terminal. Its stderr goes to a temporary file that follows stdout after `stderrMarker`, then the command's
    /// exit status is the script's.
    static func throughTerminal(_ command: String, input: ExecInput)
        throws(SSHError) -> (command: String, input: ExecInput, stderrMarker: [UInt8]) {
        var generator = SystemRandomNumberGenerator()
        let key = generator.next() as UInt64
        let errorMarker = "SWANSIBLE-STDERR-\(key):"
        let inputMarker = "SWANSIBLE-INPUT-\(key)"
        let data = input.gated.input
        let run: String
        var stdin = ExecInput.none
        // The command runs in a subshell, so its `exit` still leaves the stderr to be sent and the file removed.
        if data != .none {
            guard let size = data.byteCount else {
                let path: String
                if case .file(let p) = data { path = p } else { path = "the input" }
                throw SSHError(.transfer, "could not open \(path): \(String(cString: strerror(errno)))")
            }
            run = "stty raw -echo 2>/dev/null; echo \(inputMarker); head -c \(size) | ( \(command)\n) 2>\"$_e\""
            stdin = .whenAsked(marker: Array((inputMarker + "\n").utf8), data)
        } else {
            run = "( \(command)\n) </dev/null 2>\"$_e\""
        }
        let script = "_e=$(mktemp) || exit 1\ntrap 'rm -f \"$_e\"; exit 129' HUP INT TERM\n\(run)\n"
            + "_r=$?; printf %s \(errorMarker); cat \"$_e\"; rm -f \"$_e\"; exit $_r"
        return (script, stdin, Array(errorMarker.utf8))
    }

    /// Output split where a terminal's one stream held stdout, then `marker`, then stderr.
    static func splitTerminalOutput(_ output: [UInt8], marker: [UInt8]) -> (stdout: [UInt8], stderr: [UInt8])? {
        var found: Int?
        var from = 0
        while let end = BecomeWatcher.find(marker, in: output, from: from) {
            found = end
            from = end - marker.count + 1
        }
        guard let end = found else { return nil }
        return (Array(output[..<(end - marker.count)]), Array(output[end...]))
    }

    var debugState: String {
        "exec \(state) out \(stdout.count)\(stdoutEOF ? " eof" : "") err \(stderr.count)\(stderrEOF ? " eof" : "") "
            + "in \(inputOffset)/\(input.count)\(inputDone ? " done" : "")\(eofSent ? " eof-sent" : "")"
            + (aborted ? " aborted" : "") + " window \(channel.map { libssh2_channel_window_write_ex($0, nil) } ?? 0)"
    }

    /// Gives up on the command (timeout, cancellation). libssh2 1.10 cannot signal a remote
    /// process, and sshd closes a session channel only once its process has exited, so waiting
    /// for the close could take as long as the command: the channel is closed from our side and
    /// left to the session, which frees it when it is itself freed (at most one window of
    /// buffered output). Callers that need the remote process gone wrap it in `timeout`.
    func abort(_ connection: ConnectionCore, _ error: SSHError) -> Bool {
        completion.resume(.failure(error))
        aborted = true
        guard connection.broken == nil else { return false }
        switch state {
        case .open:
            return true  // libssh2 keeps a channel open in progress per session: let it finish
        case .start, .io:
            wantsReap = !isReaper
            state = .abandon
            return true
        case .pty:
            state = .abandon
            return true
        case .close, .waitClosed, .free, .abandon:
            return true
        case .finished:
            return false
        }
    }

    /// Hangs up what abandoned commands left running. Every command of a session is a child of the session's
    /// sshd process and the leader of its own process session (sshd calls setsid), so this command — a sibling,
    /// found by walking up from itself to sshd — sends SIGHUP, then SIGTERM, to every process of each sibling's
    /// session, as the hang-up of a pty would (ansible-core's `ssh -tt`). It runs with the abandoned command's
    /// become, so it may signal what runs as root; sudo without a pty passes a signal only to its own child,
    /// not to that child's children. The session's own sftp-server is left alone.
    func reaper() -> ExecOperation {
        let script = """
            me=$$; p=$PPID
            while :; do case $(cat /proc/$p/comm 2>/dev/null) in sshd*) break;; esac
              me=$p; p=$(cut -d' ' -f4 /proc/$p/stat 2>/dev/null); [ "${p:-0}" -gt 1 ] || exit 0; done
            for c in $(pgrep -P $p); do [ "$c" = "$me" ] && continue
              case $(cat /proc/$c/comm 2>/dev/null) in sftp-server) continue;; esac
              pkill -HUP -s "$c"; pkill -TERM -s "$c"; done 2>/dev/null
            exit 0
            """
        // Cannot throw: no input file.
        let operation = try! ExecOperation(
            completion: Completion(), command: script, input: .none, timeout: .seconds(10), become: becomeSpec)
        operation.isReaper = true
        return operation
    }

    /// Bytes moved (output read, input written) in one step before it yields to the loop's other connections.
    private static let bytesPerStep = 1 << 20
    private var inputWritten = 0

    func step(_ c: ConnectionCore) -> Step {
        let movedBefore = stdout.count + stderr.count + inputWritten
        while true {
            switch state {
            case .open:
                guard let ch = swansible_channel_open_session(c.session, 4 * 1024 * 1024)
                else {
                    let code = libssh2_session_last_errno(c.session)
                    if code == LIBSSH2_ERROR_EAGAIN { return c.waitForSession() }
                    return finish(.failure(c.failure(.channel, "could not open a channel", code: code)))
                }
                channel = ch
                pacer = SendPacer(limit: c.sendLimit.map { SendPacing.limit($0, rttMicroseconds: SendPacing.pathRoundTrip(socket: c.fd)) })
                state = aborted ? .abandon : usePTY ? .pty : .start

            case .pty:
                let rc = swansible_channel_request_pty(channel)
                if rc == LIBSSH2_ERROR_EAGAIN { return c.waitForSession() }
                if rc != 0 { return fail(c, .channel, "could not allocate a pty", rc) }
                state = .start

            case .start:
                // The command's bytes: UTF-8, with raw bytes for escape scalars (RawBytes).
                let bytes = command.escapedBytes
                let rc = bytes.withUnsafeBufferPointer { buffer in
                    buffer.withMemoryRebound(to: CChar.self) { swansible_channel_exec(channel, $0.baseAddress!, UInt32($0.count)) }
                }
                if rc == LIBSSH2_ERROR_EAGAIN { return c.waitForSession() }
                if rc != 0 { return fail(c, .channel, "could not start the command", rc) }
                state = .io

            case .io:
                switch pumpIO(c) {
                case .blocked: return c.waitForSession()
                case .progress:
                    if stdout.count + stderr.count + inputWritten - movedBefore >= Self.bytesPerStep { return .yield }
                    continue
                case .finished: state = .close
                case .failed(let error):
                    completion.resume(.failure(error))
                    aborted = true
                    if c.broken != nil { return releaseChannel() }
                    state = .abandon
                }

            case .close:
                let rc = libssh2_channel_close(channel)
                if rc == LIBSSH2_ERROR_EAGAIN { return c.waitForSession() }
                if rc != 0 && isSessionFatal(rc) { return lost(c, rc) }
                state = .waitClosed

            case .waitClosed:
                let rc = libssh2_channel_wait_closed(channel)
                if rc == LIBSSH2_ERROR_EAGAIN { return c.waitForSession() }
                if rc != 0 && isSessionFatal(rc) { return lost(c, rc) }
                if !aborted {
                    let status = libssh2_channel_get_exit_status(channel)
                    var signal: UnsafeMutablePointer<CChar>?
                    var signalLength = 0
                    _ = libssh2_channel_get_exit_signal(channel, &signal, &signalLength, nil, nil, nil, nil)
                    var signalName: String?
                    if let signal {
                        signalName = String(cString: signal)
                        libssh2_free(c.session, signal)
                    }
                    if let marker = stderrMarker, let split = Self.splitTerminalOutput(stdout, marker: marker) {
                        stdout = split.stdout
                        stderr += split.stderr
                    }
                    completion.resume(
                        .success(ExecResult(exitStatus: status, exitSignal: signalName, stdout: stdout, stderr: stderr)))
                }
                state = .free

            case .free:
                let rc = libssh2_channel_free(channel)
                if rc == LIBSSH2_ERROR_EAGAIN { return c.waitForSession() }
                channel = nil
                state = .finished

            case .abandon:
                let rc = libssh2_channel_close(channel)
                if rc == LIBSSH2_ERROR_EAGAIN,
                    libssh2_session_block_directions(c.session) & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0
                {
                    return .wait(EPOLLOUT.rawValue)  // our CLOSE is not fully sent yet
                }
                if rc != 0 && rc != LIBSSH2_ERROR_EAGAIN && isSessionFatal(rc) { c.markBroken(c.failure(.disconnected, "connection lost", code: rc)) }
                channel = nil
                state = .finished

            case .finished:
                return .done
            }
        }
    }

    private func finish(_ result: Result<ExecResult, SSHError>) -> Step {
        completion.resume(result)
        state = .finished
        return .done
    }

    private func fail(_ c: ConnectionCore, _ kind: SSHError.Kind, _ what: String, _ rc: Int32) -> Step {
        completion.resume(.failure(c.failure(kind, what, code: rc)))
        aborted = true
        if c.broken != nil { return releaseChannel() }
        state = .abandon
        return step(c)
    }

    private func lost(_ c: ConnectionCore, _ rc: Int32) -> Step {
        let error = c.failure(.disconnected, "connection lost", code: rc)
        completion.resume(.failure(error))
        return releaseChannel()
    }

    /// On a broken session the channel is freed with the session itself.
    private func releaseChannel() -> Step {
        channel = nil
        state = .finished
        return .done
    }

    private enum IOResult {
        case blocked, progress, finished
        case failed(SSHError)
    }

    private func pumpIO(_ c: ConnectionCore) -> IOResult {
        var progressed = false
        // Standard input (or the become password) first, without ever waiting on it alone.
        if !pendingPassword.isEmpty {
            let n = write(pendingPassword)
            if n < 0 && n != Int(LIBSSH2_ERROR_EAGAIN) {
                return .failed(c.failure(.channel, "could not send the become password", code: Int32(n)))
            }
            if n > 0 {
                pendingPassword.removeFirst(n)
                progressed = true
            }
        } else if inputAllowed {
            switch writeInput(c) {
            case .progress: progressed = true
            case .failed(let e): return .failed(e)
            default: break
            }
        }
        // Then drain both output streams. Each read first pulls everything the socket holds into libssh2, so
        // the stderr read can queue stdout data or the channel's EOF after the stdout read returned EAGAIN:
        // the socket is then empty and waiting for it would wait forever. Read again until a pass finds
        // nothing new and libssh2 holds no unread bytes for the channel.
        var quietPasses = 0
        while quietPasses < 2 {
            var gotSomething = false
            for stream in [Int32(0), Int32(1)] {
                if stream == 1, !progressed, !gotSomething, let pause = c.testPauseBetweenReads {
                    c.testWaitForPeer(then: pause)
                }
                while !(stream == 0 ? stdoutEOF : stderrEOF) {
                    let n = libssh2_channel_read_ex(channel, stream, c.loop.scratch.baseAddress, c.loop.scratch.count)
                    if n == Int(LIBSSH2_ERROR_EAGAIN) { break }
                    if n < 0 { return .failed(c.failure(.channel, "reading the command's output failed", code: Int32(n))) }
                    if n == 0 {
                        if libssh2_channel_eof(channel) != 0 {
                            if stream == 0 { stdoutEOF = true } else { stderrEOF = true }
                            gotSomething = true
                        }
                        break
                    }
                    let bytes = UnsafeRawBufferPointer(start: c.loop.scratch.baseAddress, count: n)
                    if stream == 0 { stdout.append(contentsOf: bytes) } else { stderr.append(contentsOf: bytes) }
                    gotSomething = true
                }
            }
            if gotSomething {
                progressed = true
                quietPasses = 0
                continue
            }
            if stdoutEOF && stderrEOF { break }
            var buffered: UInt = 0
            _ = libssh2_channel_window_read_ex(channel, &buffered, nil)
            // Nothing buffered and no EOF pending: the socket is the only source left. (A second quiet pass
            // with bytes still buffered means data on a stream other than stdout/stderr: ignore it.)
            if buffered == 0 && libssh2_channel_eof(channel) == 0 { break }
            quietPasses += 1
        }
        if become != nil {
            switch become!.scan(stdout: &stdout, stderr: &stderr, ended: stdoutEOF && stderrEOF) {
            case .none: break
            case .sendPassword(let bytes):
                pendingPassword = bytes
                progressed = true
            case .fail(let error): return .failed(error)
            }
        }
        if inputGate.open(&stdout, settled: become?.inputAllowed ?? true) { progressed = true }
        if stdoutEOF && stderrEOF { return .finished }
        // A read may have consumed the server's window adjust: if input is waiting and the window is open
        // again, write now — waiting on the socket would wait for data the server will never send.
        if !progressed, !eofSent, inputAllowed, pacer.allowance(channel) > 0,
            libssh2_session_block_directions(c.session) & LIBSSH2_SESSION_BLOCK_OUTBOUND == 0
        {
            return .progress
        }
        return progressed ? .progress : .blocked
    }

    /// The command's own input may flow: become has handed over, and the command asked for it if it must.
    private var inputAllowed: Bool { inputGate.isOpen && (become?.inputAllowed ?? true) }

    private func write(_ bytes: [UInt8]) -> Int {
        bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { libssh2_channel_write_ex(channel, 0, $0.baseAddress, $0.count) }
        }
    }

    private func writeInput(_ c: ConnectionCore) -> IOResult {
        guard !eofSent else { return .blocked }
        var progressed = false
        while true {
            if inputOffset >= input.count && !inputDone {
                if inputFD >= 0 {
                    // (Not zero-filled first: a 10 MB upload to 50 hosts reads 8,000 chunks.) 64 KB, two packets: with
                    // at most 256 KB in flight (SendPacing) every upload holds its chunk at once, and 50 uploads of
                    // 256 KB chunks made W3's peak RSS 53.6 MB; 64 KB ones 43.6 MB, at the same CPU.
                    var n = 0
                    let fd = inputFD
                    input = [UInt8](unsafeUninitializedCapacity: 64 * 1024) { buffer, count in
                        n = read(fd, buffer.baseAddress, buffer.count)
                        count = max(n, 0)
                    }
                    if n < 0 { return .failed(SSHError(.transfer, "reading the local file failed: \(String(cString: strerror(errno)))")) }
                    inputOffset = 0
                    if n == 0 { inputDone = true }
                } else {
                    inputDone = true
                }
            }
            if inputOffset < input.count {
                // Within the window and the in-flight limit; nothing allowed: wait for the server's window adjust.
                let allowed = pacer.allowance(channel)
                if allowed == 0 { return progressed ? .progress : .blocked }
                let n = input.withUnsafeBufferPointer { buffer in
                    buffer.withMemoryRebound(to: CChar.self) {
                        libssh2_channel_write_ex(channel, 0, $0.baseAddress! + inputOffset, min(allowed, input.count - inputOffset))
                    }
                }
                if n == Int(LIBSSH2_ERROR_EAGAIN) { return progressed ? .progress : .blocked }
                if n < 0 {
                    // The command stopped reading (exited or closed stdin): the rest is dropped,
                    // as a pipe to an exited process drops it.
                    if isSessionFatal(Int32(n)) { return .failed(c.failure(.channel, "sending input failed", code: Int32(n))) }
                    inputDone = true
                    input = []
                    inputOffset = 0
                    if inputFD >= 0 { close(inputFD); inputFD = -1 }
                    continue
                }
                inputOffset += n
                inputWritten += n
                progressed = true
                continue
            }
            // All input written: signal end of input.
            let rc = libssh2_channel_send_eof(channel)
            if rc == LIBSSH2_ERROR_EAGAIN { return progressed ? .progress : .blocked }
            if rc != 0 && isSessionFatal(rc) { return .failed(c.failure(.channel, "sending EOF failed", code: rc)) }
            eofSent = true
            if inputFD >= 0 { close(inputFD); inputFD = -1 }
            return .progress
        }
    }

}
