internal import Glibc

/// Runs commands on the controller itself (`ansible_connection=local`, the implicit localhost),
/// with the same contract as ``SSHConnection``: `/bin/sh -c`, stdin, stdout and stderr read
/// together, exit status or signal, timeout, become.
///
/// Each command runs on a thread of its own (waiting on pipes with `poll`), never on Swift's
/// cooperative pool.
public final class LocalConnection: Sendable {
    public init() {}

    public func exec(
        _ command: String, input: ExecInput = .none, timeout: Duration? = nil, become: BecomeSpec? = nil,
        environment: [(String, String)] = []
    ) async throws(SSHError) -> ExecResult {
        // One argument of execve holds at most 128 KiB (MAX_ARG_STRLEN).
        let (command, input) = try commandFitting(withEnvironment(command, environment), input: input, become: become,
                                                  limit: 120_000, what: "one argument of a local process")
        if become?.needsPTY == true && become?.password != nil {
            throw SSHError(.become, "su with a password needs a terminal; the local connection supports sudo only")
        }
        let result: Result<ExecResult, SSHError> = await withCheckedContinuation { continuation in
            startThread(named: "swansible-local") {
                continuation.resume(returning: runLocal(command, input: input, timeout: timeout, become: become))
            }
        }
        return try result.get()
    }

    /// Writes a file atomically (temporary file in the same directory, then rename).
    public func writeFile(
        _ data: ExecInput, to path: String, mode: UInt32 = 0o644, become: BecomeSpec? = nil, timeout: Duration? = nil
    ) async throws(SSHError) {
        let octal = String(mode & 0o7777, radix: 8)
        let script = "t=$(mktemp \(shellQuote(remoteDirectory(of: path) + "/.swansible-tmp-XXXXXXXXXX"))) && cat > \"$t\" && "
            + sizeCheck(data) + "chmod \(octal) \"$t\" && mv -f \"$t\" \(shellQuote(path)) || { rc=$?; [ -n \"$t\" ] && rm -f \"$t\"; exit $rc; }"
        let result = try await exec(script, input: data, timeout: timeout, become: become)
        if result.exitStatus != 0 {
            var message = String(decoding: result.stderr, as: UTF8.self)
            while message.last == "\n" { message.removeLast() }
            throw SSHError(.transfer, message.isEmpty ? "writing \(path) failed" : message)
        }
    }

    public func readFile(_ path: String, timeout: Duration? = nil) async throws(SSHError) -> [UInt8] {
        let result = try await exec("cat \(shellQuote(path))", timeout: timeout)
        if result.exitStatus != 0 {
            throw SSHError(.transfer, String(decoding: result.stderr, as: UTF8.self))
        }
        return result.stdout
    }
}

private func runLocal(_ command: String, input: ExecInput, timeout: Duration?, become: BecomeSpec?) -> Result<ExecResult, SSHError> {
    var watcher = become.map { BecomeWatcher($0, command: command) }
    let commandLine = watcher?.command ?? command
    var stdinPipe: [Int32] = [0, 0], stdoutPipe: [Int32] = [0, 0], stderrPipe: [Int32] = [0, 0]
    func makePipe(_ fds: inout [Int32]) -> Bool {
        guard pipe(&fds) == 0 else { return false }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        return true
    }
    guard makePipe(&stdinPipe), makePipe(&stdoutPipe), makePipe(&stderrPipe) else {
        return .failure(SSHError(.channel, "pipe: \(String(cString: strerror(errno)))"))
    }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    posix_spawn_file_actions_adddup2(&actions, stdinPipe[0], 0)
    posix_spawn_file_actions_adddup2(&actions, stdoutPipe[1], 1)
    posix_spawn_file_actions_adddup2(&actions, stderrPipe[1], 2)
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    // Its own process group, so a timeout can kill the whole command.
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    posix_spawnattr_setpgroup(&attributes, 0)
    var noSignals = sigset_t()
    sigemptyset(&noSignals)
    posix_spawnattr_setsigmask(&attributes, &noSignals)
    var defaults = sigset_t()
    sigemptyset(&defaults)
    sigaddset(&defaults, SIGPIPE)
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    var pid: pid_t = 0
    // The command's bytes: UTF-8, with raw bytes for escape scalars (RawBytes).
    let commandBytes = commandLine.escapedBytes + [0]
    let commandCopy = UnsafeMutablePointer<CChar>.allocate(capacity: commandBytes.count)
    commandBytes.withUnsafeBufferPointer { b in b.withMemoryRebound(to: CChar.self) { commandCopy.initialize(from: $0.baseAddress!, count: $0.count) } }
    let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sh"), strdup("-c"), commandCopy, nil]
    let rc = posix_spawn(&pid, "/bin/sh", &actions, &attributes, argv, environ)
    free(argv[0]); free(argv[1]); commandCopy.deallocate()
    posix_spawn_file_actions_destroy(&actions)
    posix_spawnattr_destroy(&attributes)
    close(stdinPipe[0]); close(stdoutPipe[1]); close(stderrPipe[1])
    guard rc == 0 else {
        close(stdinPipe[1]); close(stdoutPipe[0]); close(stderrPipe[0])
        return .failure(SSHError(.channel, "could not start /bin/sh: \(String(cString: strerror(rc)))"))
    }
    var stdinFD: Int32 = stdinPipe[1]
    for fd in [stdinFD, stdoutPipe[0], stderrPipe[0]] { _ = fcntl(fd, F_SETFL, O_NONBLOCK) }
    let gated = input.gated
    var inputGate = InputGate(gated.marker)
    var data: OutgoingData
    do { data = try OutgoingData(gated.input) } catch {
        kill(-pid, SIGKILL)
        return .failure(error)
    }
    var pendingPassword: [UInt8] = []
    var stdout: [UInt8] = [], stderr: [UInt8] = []
    var outOpen = true, errOpen = true
    let deadline = timeout.map { ContinuousClock.now + $0 }
    var buffer = [UInt8](repeating: 0, count: 65536)
    var failure: SSHError?
    var timedOut = false

    func closeStdin() {
        if stdinFD >= 0 { close(stdinFD); stdinFD = -1 }
    }

    while outOpen || errOpen {
        // Feed stdin (or the become password).
        if stdinFD >= 0 {
            if !pendingPassword.isEmpty {
                let n = pendingPassword.withUnsafeBytes { write(stdinFD, $0.baseAddress, $0.count) }
                if n > 0 { pendingPassword.removeFirst(n) }
            } else if inputGate.isOpen && watcher?.inputAllowed ?? true {
                if let chunk = try? data.pending(), !chunk.isEmpty {
                    let n = chunk.withUnsafeBytes { write(stdinFD, $0.baseAddress, $0.count) }
                    if n > 0 { data.consumed(n) } else if n < 0 && errno != EAGAIN { closeStdin() }
                } else {
                    closeStdin()
                }
            }
        }
        var fds: [pollfd] = []
        if outOpen { fds.append(pollfd(fd: stdoutPipe[0], events: Int16(POLLIN), revents: 0)) }
        if errOpen { fds.append(pollfd(fd: stderrPipe[0], events: Int16(POLLIN), revents: 0)) }
        let wantsWrite = stdinFD >= 0 && (!pendingPassword.isEmpty || (inputGate.isOpen && watcher?.inputAllowed ?? true))
        if wantsWrite { fds.append(pollfd(fd: stdinFD, events: Int16(POLLOUT), revents: 0)) }
        var waitMS: Int32 = -1
        if let deadline {
            let left = ContinuousClock.now.duration(to: deadline)
            if left <= .zero {
                timedOut = true
                break
            }
            waitMS = Int32(clamping: left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1)
        }
        if !wantsWrite && stdinFD >= 0 && watcher != nil { waitMS = waitMS < 0 ? 50 : min(waitMS, 50) }
        _ = poll(&fds, nfds_t(fds.count), waitMS)
        for (fd, isOut) in [(stdoutPipe[0], true), (stderrPipe[0], false)] where isOut ? outOpen : errOpen {
            let n = read(fd, &buffer, buffer.count)
            if n > 0 {
                if isOut { stdout += buffer[0..<n] } else { stderr += buffer[0..<n] }
            } else if n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) {
                if isOut { outOpen = false } else { errOpen = false }
            }
        }
        if watcher != nil {
            switch watcher!.scan(stdout: &stdout, stderr: &stderr, ended: !outOpen && !errOpen) {
            case .none: break
            case .sendPassword(let bytes): pendingPassword = bytes
            case .fail(let error):
                failure = error
                kill(-pid, SIGKILL)
            }
        }
        if failure != nil { break }
        _ = inputGate.open(&stdout, settled: watcher?.inputAllowed ?? true)
    }
    if timedOut { kill(-pid, SIGKILL) }
    closeStdin()
    data.close()
    close(stdoutPipe[0]); close(stderrPipe[0])
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    if timedOut { return .failure(SSHError(.timeout, "timed out")) }
    if let failure { return .failure(failure) }
    let exited = status & 0x7F == 0
    let exitStatus = exited ? (status >> 8) & 0xFF : 0
    let signal = exited ? nil : signalName(status & 0x7F)
    return .success(ExecResult(exitStatus: exitStatus, exitSignal: signal, stdout: stdout, stderr: stderr))
}

private func signalName(_ number: Int32) -> String {
    let names = [1: "HUP", 2: "INT", 3: "QUIT", 4: "ILL", 5: "TRAP", 6: "ABRT", 7: "BUS", 8: "FPE", 9: "KILL", 10: "USR1",
                 11: "SEGV", 12: "USR2", 13: "PIPE", 14: "ALRM", 15: "TERM"]
    return names[Int(number)] ?? String(number)
}
