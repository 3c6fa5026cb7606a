internal import Glibc

/// A private key file to authenticate with.
public struct SSHPrivateKey: Sendable, Hashable {
    /// Path of the private key (OpenSSH or PEM format).
    public var path: String
    /// Passphrase for an encrypted key.
    public var passphrase: String?

    public init(path: String, passphrase: String? = nil) {
        self.path = path
        self.passphrase = passphrase
    }
}

/// Who to log in as and how to prove it.
///
/// Methods are tried in OpenSSH's order: the given private keys, then the ssh-agent's identities
/// (when no key is given and `SSH_AUTH_SOCK` is set), then the default keys under `~/.ssh`
/// (when no key is given), then the password (`password`, then `keyboard-interactive`).
public struct SSHCredentials: Sendable, Hashable {
    public var user: String
    public var password: String?
    public var privateKeys: [SSHPrivateKey]
    /// Use the ssh-agent at `SSH_AUTH_SOCK` when no private key is given.
    public var useAgent: Bool
    /// Try `~/.ssh/id_ed25519`, `id_ecdsa` and `id_rsa` when no private key is given.
    public var useDefaultKeys: Bool
    /// The agent's socket; nil means `SSH_AUTH_SOCK`.
    public var agentSocket: String?

    public init(
        user: String, password: String? = nil, privateKeys: [SSHPrivateKey] = [], useAgent: Bool = true,
        useDefaultKeys: Bool = true, agentSocket: String? = nil
    ) {
        self.user = user
        self.password = password
        self.privateKeys = privateKeys
        self.useAgent = useAgent
        self.useDefaultKeys = useDefaultKeys
        self.agentSocket = agentSocket
    }
}

/// How a server's host key is checked.
public enum HostKeyPolicy: Sendable, Hashable {
    /// The key must be recorded in one of these known_hosts files (OpenSSH's format, plain or
    /// hashed host names); an unknown or different key is refused. This is the default.
    case strict(knownHostsFiles: [String])
    /// Any key is accepted and nothing is recorded (`StrictHostKeyChecking=no` with
    /// `UserKnownHostsFile=/dev/null`, ansible-core's `host_key_checking = False`).
    case acceptAny

    /// `~/.ssh/known_hosts` of the user running the controller.
    public static var defaultKnownHosts: HostKeyPolicy {
        .strict(knownHostsFiles: [homeDirectory() + "/.ssh/known_hosts"])
    }
}

/// Where to connect and how long to wait.
public struct SSHOptions: Sendable, Hashable {
    public var hostKeyPolicy: HostKeyPolicy
    /// Time allowed for the TCP connection (ansible-core's `timeout`, default 10 s).
    public var connectTimeout: Duration
    /// Time allowed for the SSH handshake and authentication once TCP is up.
    public var handshakeTimeout: Duration
    /// Interval of SSH keepalive messages (OpenSSH's `ServerAliveInterval`); nil turns them off, and with
    /// them the detection of a dead peer. On an idle session a keepalive goes out every interval; while a
    /// command or transfer waits on the server, a keepalive the server must answer goes out after an
    /// interval of silence (at least 2 s apart).
    public var keepaliveInterval: Duration?
    /// Keepalives in a row the server may leave unanswered (one per interval of silence) while an operation
    /// waits on it; one more interval of silence and the session is declared dead: the operation and every later one on the session fail with "Timeout, server … not
    /// responding." (OpenSSH's `ServerAliveCountMax`). A command that runs long but whose host answers
    /// keepalives is never cut off by this; use the command's timeout for that.
    public var keepaliveCountMax: Int

    public init(
        hostKeyPolicy: HostKeyPolicy = .defaultKnownHosts, connectTimeout: Duration = .seconds(10),
        handshakeTimeout: Duration? = nil, keepaliveInterval: Duration? = .seconds(30), keepaliveCountMax: Int = 3
    ) {
        self.hostKeyPolicy = hostKeyPolicy
        self.connectTimeout = connectTimeout
        self.handshakeTimeout = handshakeTimeout ?? connectTimeout
        self.keepaliveInterval = keepaliveInterval
        self.keepaliveCountMax = keepaliveCountMax
    }
}

/// What came back from a remote command.
public struct ExecResult: Sendable, Hashable {
    /// The exit status; meaningless when ``exitSignal`` is set (sshd then reports 0).
    public var exitStatus: Int32
    /// The signal that killed the command (`KILL`, `TERM`, …), without the `SIG` prefix.
    public var exitSignal: String?
    public var stdout: [UInt8]
    public var stderr: [UInt8]

    public init(exitStatus: Int32, exitSignal: String? = nil, stdout: [UInt8], stderr: [UInt8]) {
        self.exitStatus = exitStatus
        self.exitSignal = exitSignal
        self.stdout = stdout
        self.stderr = stderr
    }

    /// The status as Python's subprocess reports it: the exit status, or minus the signal number
    /// for a command killed by a signal (what ansible-core's `rc` shows).
    public var returnCode: Int {
        if let signal = exitSignal { return -(signalNumber(signal) ?? 0) }
        return Int(exitStatus)
    }
}

/// The gate of ``ExecInput/whenAsked(marker:_:)`` as both transports keep it: closed until the command's stdout
/// holds the marker, which is then taken out of the output.
struct InputGate {
    private var marker: [UInt8]?
    /// Where the search goes on: what was searched holds no start of the marker.
    private var scanFrom = 0

    init(_ marker: [UInt8]?) { self.marker = marker }

    var isOpen: Bool { marker == nil }

    /// Looks for the marker in the output read so far; true when that opened the gate. `settled`: nothing will be
    /// taken from the front of `stdout` any more (become has handed over), so the next search may start later.
    mutating func open(_ stdout: inout [UInt8], settled: Bool) -> Bool {
        guard let marker else { return false }
        if let end = BecomeWatcher.find(marker, in: stdout, from: min(scanFrom, stdout.count)) {
            stdout.removeSubrange((end - marker.count)..<end)  // the request is not the command's output
            self.marker = nil
            return true
        }
        if settled { scanFrom = max(0, stdout.count - marker.count + 1) }
        return false
    }
}

/// Standard input for a remote command.
public enum ExecInput: Sendable, Hashable {
    case none
    case bytes([UInt8])
    /// Streams a local file (uploads without holding the file in memory).
    case file(path: String)
    /// `input`, held back until the command's standard output holds `marker`: the command asks for its input
    /// once it has decided it wants it (a copy that finds the file already in place reads nothing, so nothing is
    /// sent). A command that ends without asking gets none. The marker is taken out of the output.
    indirect case whenAsked(marker: [UInt8], ExecInput)

    /// How many bytes the input holds (nil: a file that cannot be examined).
    var byteCount: Int? {
        switch self {
        case .none: return 0
        case .bytes(let bytes): return bytes.count
        case .file(let path):
            var st = stat()
            return stat(path, &st) == 0 ? Int(st.st_size) : nil
        case .whenAsked(_, let input): return input.byteCount
        }
    }

    /// The marker the input waits for (nil: it flows at once) and the input itself.
    public var gated: (marker: [UInt8]?, input: ExecInput) {
        if case .whenAsked(let marker, let input) = self { return (marker, input.gated.input) }
        return (nil, self)
    }
}

func signalNumber(_ name: String) -> Int? {
    let table: [String: Int] = [
        "HUP": 1, "INT": 2, "QUIT": 3, "ILL": 4, "TRAP": 5, "ABRT": 6, "BUS": 7, "FPE": 8, "KILL": 9, "USR1": 10,
        "SEGV": 11, "USR2": 12, "PIPE": 13, "ALRM": 14, "TERM": 15, "CHLD": 17, "CONT": 18, "STOP": 19, "TSTP": 20,
        "TTIN": 21, "TTOU": 22, "URG": 23, "XCPU": 24, "XFSZ": 25, "VTALRM": 26, "PROF": 27, "WINCH": 28, "IO": 29,
        "PWR": 30, "SYS": 31,
    ]
    return table[name.hasPrefix("SIG") ? String(name.dropFirst(3)) : name]
}
