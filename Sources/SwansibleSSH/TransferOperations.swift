internal import CLibSSH2
internal import Glibc

/// Data to send: bytes in memory or a local file read in chunks.
struct OutgoingData {
    private var bytes: [UInt8] = []
    private var offset = 0
    private var fd: Int32 = -1
    private(set) var size: Int64 = 0
    private(set) var finished = false

    init(_ input: ExecInput) throws(SSHError) {
        switch input.gated.input {
        case .none, .whenAsked: finished = true
        case .bytes(let b):
            bytes = b
            size = Int64(b.count)
            finished = b.isEmpty
        case .file(let path):
            fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw SSHError(.transfer, "could not open \(path): \(String(cString: strerror(errno)))") }
            var st = stat()
            fstat(fd, &st)
            size = Int64(st.st_size)
        }
    }

    mutating func close() {
        if fd >= 0 { Glibc.close(fd); fd = -1 }
    }

    /// The bytes not yet sent (reading the next chunk of a file when needed); empty at the end.
    mutating func pending() throws(SSHError) -> ArraySlice<UInt8> {
        if offset >= bytes.count && fd >= 0 && !finished {
            bytes = [UInt8](repeating: 0, count: 1024 * 1024)
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard n >= 0 else { throw SSHError(.transfer, "reading the local file failed: \(String(cString: strerror(errno)))") }
            bytes.removeSubrange(n...)
            offset = 0
        }
        if offset >= bytes.count {
            finished = true
            return []
        }
        return bytes[offset...]
    }

    mutating func consumed(_ n: Int) { offset += n }
}

/// Writes a file with SFTP (`method == .sftp`) or SCP (`.scp`) to `path` with `mode`.
final class WriteFileOperation: Operation {
    enum Method { case sftp, scp }
    private enum State { case sftpInit, open, write, setMode, closeHandle, scpOpen, scpWrite, scpEOF, scpWaitEOF, scpClose, finished }

    private let completion: Completion<Void>
    private let path: String
    private let mode: Int32
    private var data: OutgoingData
    private var state: State
    private var handle: OpaquePointer?
    private var channel: OpaquePointer?
    private(set) var deadline: ContinuousClock.Instant?

    init(completion: Completion<Void>, data: ExecInput, path: String, mode: Int32, method: Method, timeout: Duration?) throws(SSHError) {
        self.completion = completion
        self.data = try OutgoingData(data)
        self.path = path
        self.mode = mode
        state = method == .sftp ? .sftpInit : .scpOpen
        deadline = timeout.map { .now + $0 }
    }

    deinit { data.close() }

    var debugState: String { "write-file \(state) \(path)" }

    func abort(_ connection: ConnectionCore, _ error: SSHError) -> Bool {
        completion.resume(.failure(error))
        // A half-written transfer leaves the SFTP/SCP state of the session undefined: drop the session.
        if state != .finished && state != .sftpInit {
            connection.markBroken(SSHError(.disconnected, "the session was closed after an interrupted transfer"))
        }
        return false
    }

    private func fail(_ c: ConnectionCore, _ what: String, _ code: Int32) -> Step {
        completion.resume(.failure(transferError(c, what, code)))
        if state != .sftpInit && state != .open && state != .scpOpen {
            c.markBroken(SSHError(.disconnected, "the session was closed after a failed transfer"))
        }
        state = .finished
        return .done
    }

    /// Sends the next chunk of the data with `send`: nil to go on stepping (possibly in state `next`), or the
    /// step to return.
    private func sendNextChunk(
        _ c: ConnectionCore, then next: State, what: String, _ send: (UnsafePointer<CChar>?, Int) -> Int
    ) -> Step? {
        let chunk: ArraySlice<UInt8>
        do { chunk = try data.pending() } catch {
            completion.resume(.failure(error))
            c.markBroken(SSHError(.disconnected, "the session was closed after a failed transfer"))
            state = .finished
            return .done
        }
        if chunk.isEmpty {
            state = next
            return nil
        }
        let n = chunk.withUnsafeBufferPointer { b in b.withMemoryRebound(to: CChar.self) { send($0.baseAddress, $0.count) } }
        if n == Int(LIBSSH2_ERROR_EAGAIN) { return c.waitForSession() }
        if n < 0 { return fail(c, what, Int32(n)) }
        data.consumed(n)
        return nil
    }

    func step(_ c: ConnectionCore) -> Step {
        while true {
            switch state {
            case .sftpInit:
                if let code = startSFTP(c) {
                    if code == LIBSSH2_ERROR_EAGAIN { return c.waitForSession() }
                    return fail(c, "could not start the SFTP subsystem", code)
                }
                state = .open

            case .open:
                let flags = UInt(LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_TRUNC)
                guard let h = swansible_sftp_open(c.sftp, path, UInt32(path.utf8.count), flags, Int(mode)) else {
                    let code = libssh2_session_last_errno(c.session)
                    if code == LIBSSH2_ERROR_EAGAIN { return c.waitForSession() }
                    return fail(c, "could not create \(path)", code)
                }
                handle = h
                state = .write

            case .write:
                let handle = self.handle
                if let step = sendNextChunk(c, then: .setMode, what: "writing \(path) failed", { libssh2_sftp_write(handle, $0, $1) }) {
                    return step
                }

            case .setMode:
                // The server's umask applies at open: set the mode explicitly.
                var attributes = LIBSSH2_SFTP_ATTRIBUTES()
                attributes.flags = UInt(LIBSSH2_SFTP_ATTR_PERMISSIONS)
                attributes.permissions = UInt(mode)
                let rc = libssh2_sftp_fstat_ex(handle, &attributes, 1)
                if rc == LIBSSH2_ERROR_EAGAIN { return c.waitForSession() }
                if rc != 0 { return fail(c, "setting the mode of \(path) failed", rc) }
                state = .closeHandle

            case .closeHandle:
                let rc = libssh2_sftp_close_handle(handle)
                if rc == LIBSSH2_ERROR_EAGAIN { return c.waitForSession() }
                handle = nil
                if rc != 0 { return fail(c, "closing \(path) failed", rc) }
                completion.resume(.success(()))
                state = .finished

            case .scpOpen:
                guard let ch = libssh2_scp_send64(c.session, path, mode & 0o7777, data.size, 0, 0) else {
                    let code = libssh2_session_last_errno(c.session)
                    if code == LIBSSH2_ERROR_EAGAIN { return c.waitForSession() }
                    return fail(c, "scp to \(path) failed", code)
                }
                channel = ch
                state = .scpWrite

            case .scpWrite:
                let channel = self.channel
                if let step = sendNextChunk(c, then: .scpEOF, what: "scp to \(path) failed", {
                    libssh2_channel_write_ex(channel, 0, $0, $1)
                }) {
                    return step
                }

            case .scpEOF:
                let rc = libssh2_channel_send_eof(channel)
                if rc == LIBSSH2_ERROR_EAGAIN { return c.waitForSession() }
                state = .scpWaitEOF

            case .scpWaitEOF:
                let rc = libssh2_channel_wait_eof(channel)
                if rc == LIBSSH2_ERROR_EAGAIN { return c.waitForSession() }
                state = .scpClose

            case .scpClose:
                let rc = libssh2_channel_free(channel)
                if rc == LIBSSH2_ERROR_EAGAIN { return c.waitForSession() }
                channel = nil
                completion.resume(.success(()))
                state = .finished

            case .finished:
                return .done
            }
        }
    }
}

/// Reads a whole remote file over SFTP.
final class ReadFileOperation: Operation {
    private enum State { case sftpInit, open, read, close, finished }
    private let completion: Completion<[UInt8]>
    private let path: String
    private var state = State.sftpInit
    private var handle: OpaquePointer?
    private var content: [UInt8] = []
    private(set) var deadline: ContinuousClock.Instant?

    init(completion: Completion<[UInt8]>, path: String, timeout: Duration?) {
        self.completion = completion
        self.path = path
        deadline = timeout.map { .now + $0 }
    }

    var debugState: String { "read-file \(state) \(path) \(content.count) bytes" }

    func abort(_ connection: ConnectionCore, _ error: SSHError) -> Bool {
        completion.resume(.failure(error))
        if handle != nil {
            connection.markBroken(SSHError(.disconnected, "the session was closed after an interrupted transfer"))
        }
        return false
    }

    private func fail(_ c: ConnectionCore, _ what: String, _ code: Int32) -> Step {
        completion.resume(.failure(transferError(c, what, code)))
        if handle != nil { c.markBroken(SSHError(.disconnected, "the session was closed after a failed transfer")) }
        state = .finished
        return .done
    }

    func step(_ c: ConnectionCore) -> Step {
        while true {
            switch state {
            case .sftpInit:
                if let code = startSFTP(c) {
                    if code == LIBSSH2_ERROR_EAGAIN { return c.waitForSession() }
                    return fail(c, "could not start the SFTP subsystem", code)
                }
                state = .open
            case .open:
                guard let h = swansible_sftp_open(c.sftp, path, UInt32(path.utf8.count), UInt(LIBSSH2_FXF_READ), 0) else {
                    let code = libssh2_session_last_errno(c.session)
                    if code == LIBSSH2_ERROR_EAGAIN { return c.waitForSession() }
                    return fail(c, "could not open \(path)", code)
                }
                handle = h
                state = .read
            case .read:
                let n = libssh2_sftp_read(handle, c.loop.scratch.baseAddress, c.loop.scratch.count)
                if n == Int(LIBSSH2_ERROR_EAGAIN) { return c.waitForSession() }
                if n < 0 { return fail(c, "reading \(path) failed", Int32(n)) }
                if n == 0 {
                    state = .close
                    continue
                }
                content.append(contentsOf: UnsafeRawBufferPointer(start: c.loop.scratch.baseAddress, count: n))
            case .close:
                let rc = libssh2_sftp_close_handle(handle)
                if rc == LIBSSH2_ERROR_EAGAIN { return c.waitForSession() }
                handle = nil
                completion.resume(.success(content))
                state = .finished
            case .finished:
                return .done
            }
        }
    }
}

/// A failed transfer step as an error; SFTP status codes in words ("No such file or directory").
func transferError(_ c: ConnectionCore, _ what: String, _ code: Int32) -> SSHError {
    var error = c.failure(.transfer, what, code: code)
    if code == LIBSSH2_ERROR_SFTP_PROTOCOL, let sftp = c.sftp {
        error.message = "\(what): \(sftpStatusText(libssh2_sftp_last_error(sftp)))"
    }
    return error
}

/// Starts the session's SFTP subsystem on first use: nil when it is ready, else libssh2's error code
/// (`EAGAIN` to wait).
func startSFTP(_ c: ConnectionCore) -> Int32? {
    guard c.sftp == nil else { return nil }
    guard let sftp = libssh2_sftp_init(c.session) else { return libssh2_session_last_errno(c.session) }
    c.sftp = sftp
    return nil
}

func sftpStatusText(_ status: UInt) -> String {
    switch status {
    case LIBSSH2_FX_NO_SUCH_FILE: return "No such file or directory"
    case LIBSSH2_FX_PERMISSION_DENIED: return "Permission denied"
    case LIBSSH2_FX_FAILURE: return "Failure"
    case LIBSSH2_FX_NO_SUCH_PATH: return "No such file or directory"
    case LIBSSH2_FX_FILE_ALREADY_EXISTS: return "File exists"
    case LIBSSH2_FX_WRITE_PROTECT: return "Read-only file system"
    case LIBSSH2_FX_NO_SPACE_ON_FILESYSTEM, LIBSSH2_FX_QUOTA_EXCEEDED: return "No space left on device"
    default: return "SFTP status \(status)"
    }
}
