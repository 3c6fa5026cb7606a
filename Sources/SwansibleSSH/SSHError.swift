internal import CLibSSH2

/// Why an SSH operation failed.
///
/// The ``kind`` says which class of failure it was (a connection that never came up is
/// *unreachable* in Ansible's terms; see ``isConnectionFailure``); ``message`` is the text a user
/// reads, worded like OpenSSH's client where it has words for the case, because that is what
/// ansible-core shows after `Failed to connect to the host via ssh: `.
public struct SSHError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Kind: Sendable, Hashable, CustomStringConvertible {
        private enum Storage: String, Sendable, Hashable {
            case nameResolution, connectionRefused, connectTimeout, connect, handshake, hostKeyUnknown,
                hostKeyMismatch, authentication, timeout, disconnected, channel, transfer, protocolError,
                cancelled, privateKey, become
        }
        private let storage: Storage
        private init(_ storage: Storage) { self.storage = storage }

        /// The host name did not resolve.
        public static let nameResolution = Kind(.nameResolution)
        /// The TCP connection was refused.
        public static let connectionRefused = Kind(.connectionRefused)
        /// The TCP connection or the SSH handshake did not complete in time.
        public static let connectTimeout = Kind(.connectTimeout)
        /// Another socket-level failure while connecting.
        public static let connect = Kind(.connect)
        /// Key exchange failed (no common algorithms, banner, protocol).
        public static let handshake = Kind(.handshake)
        /// Host key checking is on and known_hosts holds no key for this host.
        public static let hostKeyUnknown = Kind(.hostKeyUnknown)
        /// known_hosts holds a different key for this host.
        public static let hostKeyMismatch = Kind(.hostKeyMismatch)
        /// No offered credential was accepted.
        public static let authentication = Kind(.authentication)
        /// An operation on an open session outlived its timeout.
        public static let timeout = Kind(.timeout)
        /// The session broke (peer closed the connection, socket error).
        public static let disconnected = Kind(.disconnected)
        /// A channel could not be opened or a command could not be started.
        public static let channel = Kind(.channel)
        /// A file transfer failed.
        public static let transfer = Kind(.transfer)
        /// Any other libssh2 failure.
        public static let protocolError = Kind(.protocolError)
        /// The task awaiting the operation was cancelled.
        public static let cancelled = Kind(.cancelled)
        /// A private key file could not be read or decrypted.
        public static let privateKey = Kind(.privateKey)
        /// Privilege escalation failed (missing or wrong become password).
        public static let become = Kind(.become)

        public var description: String { storage.rawValue }
    }

    public var kind: Kind
    public var message: String
    /// The libssh2 error code, when libssh2 reported the failure.
    public var code: Int32?

    public init(_ kind: Kind, _ message: String, code: Int32? = nil) {
        self.kind = kind
        self.message = message
        self.code = code
    }

    /// True when the failure means the host could not be reached or its session broke: ansible-core
    /// reports these as *unreachable*, not as a failed task.
    public var isConnectionFailure: Bool {
        switch kind {
        case .timeout, .channel, .transfer, .cancelled, .become: return false
        default: return true
        }
    }

    public var description: String { message }
}

extension SSHError {
    /// The last libssh2 error of a session, as `what failed (code): libssh2's text`.
    static func last(_ session: OpaquePointer, _ kind: Kind, _ what: String) -> SSHError {
        var text: UnsafeMutablePointer<CChar>?
        var length: Int32 = 0
        let code = libssh2_session_last_error(session, &text, &length, 0)
        let detail = text.map { String(cString: $0) } ?? "unknown error"
        return SSHError(kind, "\(what): \(detail) (libssh2 error \(code))", code: code)
    }
}
