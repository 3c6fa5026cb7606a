internal import CLibSSH2
internal import Glibc

/// A resolved socket address.
enum SocketAddress: Sendable {
    case v4(sockaddr_in)
    case v6(sockaddr_in6)

    var text: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        switch self {
        case .v4(var a): inet_ntop(AF_INET, &a.sin_addr, &buffer, socklen_t(buffer.count))
        case .v6(var a): inet_ntop(AF_INET6, &a.sin6_addr, &buffer, socklen_t(buffer.count))
        }
        return String(cString: buffer)
    }
}

/// Opens TCP, runs the SSH handshake, checks the host key and authenticates.
final class ConnectOperation: Operation {
    private enum State {
        case tcpStart, tcpConnecting, sessionStart, handshake, hostKey, authList, authenticate, finished
    }

    private let completion: Completion<Void>
    private let addresses: [SocketAddress]
    private let credentials: SSHCredentials
    private let options: SSHOptions
    private let keyStore: PrivateKeyStore
    private var state = State.tcpStart
    private var addressIndex = 0
    private var lastConnectError: Int32 = 0
    private(set) var deadline: ContinuousClock.Instant?
    private var attempts: [AuthAttempt] = []
    private var attemptIndex = 0
    private var allowedMethods: [String] = []
    private var authNotes: [String] = []
    private var agent: OpaquePointer?
    private var agentIdentity: UnsafeMutablePointer<libssh2_agent_publickey>?
    private var agentStage = 0
    private var passwordCString: UnsafeMutablePointer<CChar>?
    private var triedRSAKey: String?

    enum AuthAttempt {
        case key(SSHPrivateKey)
        case agent
        case password
        case keyboardInteractive
    }

    init(
        completion: Completion<Void>, addresses: [SocketAddress], credentials: SSHCredentials, options: SSHOptions,
        keyStore: PrivateKeyStore
    ) {
        self.completion = completion
        self.addresses = addresses
        self.credentials = credentials
        self.options = options
        self.keyStore = keyStore
        deadline = .now + options.connectTimeout
    }

    var debugState: String { "connect \(state) attempt \(attemptIndex)" }

    deinit {
        freeAgent()
        passwordCString?.deallocate()
    }

    func abort(_ connection: ConnectionCore, _ error: SSHError) -> Bool {
        var error = error
        if error.kind == .timeout {
            switch state {
            case .tcpStart, .tcpConnecting:
                error = SSHError(
                    .connectTimeout, "ssh: connect to host \(connection.host) port \(connection.port): Connection timed out")
            case .sessionStart, .handshake:
                error = SSHError(.connectTimeout, "Connection timed out during banner exchange")
            default:
                error = SSHError(.connectTimeout, "Connection timed out during authentication")
            }
            connection.markBroken(error)
        }
        freeAgent()
        completion.resume(.failure(error))
        return false
    }

    private func fail(_ connection: ConnectionCore, _ error: SSHError) -> Step {
        connection.markBroken(error)
        freeAgent()
        completion.resume(.failure(error))
        state = .finished
        return .done
    }

    func step(_ c: ConnectionCore) -> Step {
        // Once the server speaks SSH, the handshake timeout counts silence, not the total: a server that is slow
        // but progressing (a thousand handshakes at once on a loaded host) is not cut off; one that stops
        // answering is, after handshakeTimeout. (OpenSSH's ConnectTimeout covers TCP and the banner; key exchange
        // and authentication have no limit there.)
        if state == .handshake || state == .authList || state == .authenticate {
            deadline = .now + options.handshakeTimeout
        }
        while true {
            switch state {
            case .tcpStart:
                guard addressIndex < addresses.count else {
                    return fail(c, connectError(c, lastConnectError))
                }
                let address = addresses[addressIndex]
                let family: Int32
                switch address {
                case .v4: family = AF_INET
                case .v6: family = AF_INET6
                }
                let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
                guard fd >= 0 else { return fail(c, SSHError(.connect, "socket: \(String(cString: strerror(errno)))")) }
                var one: Int32 = 1
                setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                c.fd = fd
                let rc: Int32
                switch address {
                case .v4(var a):
                    rc = withUnsafePointer(to: &a) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                        }
                    }
                case .v6(var a):
                    rc = withUnsafePointer(to: &a) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                        }
                    }
                }
                if rc == 0 {
                    state = .sessionStart
                } else if errno == EINPROGRESS {
                    state = .tcpConnecting
                    return .wait(EPOLLOUT.rawValue)
                } else {
                    lastConnectError = errno
                    nextAddress(c)
                }

            case .tcpConnecting:
                var error: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &error, &length)
                if error == EINPROGRESS { return .wait(EPOLLOUT.rawValue) }
                if error != 0 {
                    lastConnectError = error
                    nextAddress(c)
                    continue
                }
                state = .sessionStart

            case .sessionStart:
                guard let session = libssh2_session_init_ex(nil, nil, nil, nil) else {
                    return fail(c, SSHError(.handshake, "libssh2_session_init failed"))
                }
                c.session = session
                libssh2_session_set_blocking(session, 0)
                swansible_session_install_quickack(session)
                if case .strict(let files) = options.hostKeyPolicy {
                    let known = KnownHostsCache.shared.load(files)
                    let name = KnownHosts.lookupName(host: c.host, port: c.port)
                    let methods = hostKeyMethods(forKnownTypes: known.entries(for: name).map(\.keyType))
                    if !methods.isEmpty {
                        _ = libssh2_session_method_pref(session, LIBSSH2_METHOD_HOSTKEY, methods.joined(separator: ","))
                    }
                }
                deadline = .now + options.handshakeTimeout
                state = .handshake

            case .handshake:
                let rc = libssh2_session_handshake(c.session, libssh2_socket_t(c.fd))
                if rc == LIBSSH2_ERROR_EAGAIN { return c.waitForSession() }
                if rc != 0 {
                    var error = SSHError.last(c.session!, .handshake, "ssh: handshake with \(c.host) port \(c.port) failed")
                    if rc == LIBSSH2_ERROR_KEX_FAILURE {
                        error.message += ". libssh2 1.10 has no rsa-sha2 signatures: a host that offers only an RSA host"
                            + " key cannot be reached; give it an ed25519 or ECDSA host key"
                    }
                    if rc == LIBSSH2_ERROR_SOCKET_DISCONNECT || rc == LIBSSH2_ERROR_SOCKET_RECV
                        || rc == LIBSSH2_ERROR_BANNER_RECV
                    {
                        error = SSHError(
                            .handshake, "kex_exchange_identification: Connection closed by remote host \(c.host) port \(c.port)",
                            code: rc)
                    }
                    return fail(c, error)
                }
                if let banner = libssh2_session_banner_get(c.session) {
                    c.sendLimit = SendPacing.limit(forBanner: String(cString: banner))
                }
                state = .hostKey

            case .hostKey:
                if let error = checkHostKey(c) { return fail(c, error) }
                state = .authList

            case .authList:
                let user = credentials.user
                let list = libssh2_userauth_list(c.session, user, UInt32(user.utf8.count))
                if list == nil {
                    if libssh2_userauth_authenticated(c.session) != 0 {
                        state = .finished
                        continue
                    }
                    let code = libssh2_session_last_errno(c.session)
                    if code == LIBSSH2_ERROR_EAGAIN { return c.waitForSession() }
                    return fail(c, SSHError.last(c.session!, .authentication, "ssh: authentication list for \(user) failed"))
                }
                allowedMethods = String(cString: list!).split(separator: ",").map(String.init)
                attempts = planAttempts()
                state = .authenticate

            case .authenticate:
                guard attemptIndex < attempts.count else { return fail(c, authenticationError(c)) }
                let result = tryAttempt(attempts[attemptIndex], c)
                switch result {
                case .again: return c.waitForSession()
                case .accepted: state = .finished
                case .refused: attemptIndex += 1
                case .fatal(let error): return fail(c, error)
                }

            case .finished:
                freeAgent()
                c.setKeepalive(options.keepaliveInterval, countMax: options.keepaliveCountMax)
                completion.resume(.success(()))
                return .done
            }
        }
    }

    private func nextAddress(_ c: ConnectionCore) {
        if c.fd >= 0 {
            c.loop.forget(c.fd)
            Glibc.close(c.fd)
            c.fd = -1
        }
        addressIndex += 1
        state = .tcpStart
    }

    private func connectError(_ c: ConnectionCore, _ code: Int32) -> SSHError {
        let prefix = "ssh: connect to host \(c.host) port \(c.port): "
        switch code {
        case ECONNREFUSED: return SSHError(.connectionRefused, prefix + "Connection refused")
        case ETIMEDOUT: return SSHError(.connectTimeout, prefix + "Connection timed out")
        default: return SSHError(.connect, prefix + String(cString: strerror(code)))
        }
    }

    // MARK: Host key

    private func checkHostKey(_ c: ConnectionCore) -> SSHError? {
        guard case .strict(let files) = options.hostKeyPolicy else { return nil }
        var length = 0
        var type: Int32 = 0
        guard let raw = libssh2_session_hostkey(c.session, &length, &type), length > 0 else {
            return SSHError.last(c.session!, .handshake, "no host key from \(c.host)")
        }
        let blob = Array(UnsafeRawBufferPointer(start: raw, count: length).bindMemory(to: UInt8.self))
        let serverType = keyTypeName(ofBlob: blob) ?? "unknown"
        let name = KnownHosts.lookupName(host: c.host, port: c.port)
        let entries = KnownHostsCache.shared.load(files).entries(for: name)
        if let revoked = entries.first(where: { $0.marker == .revoked && $0.key == blob }) {
            return SSHError(
                .hostKeyMismatch,
                "Host key for \(name) was revoked (\(revoked.file):\(revoked.line)).\r\nHost key verification failed.")
        }
        let candidates = entries.filter { $0.marker == .none }
        if candidates.contains(where: { $0.key == blob }) { return nil }
        let display = displayKeyType(serverType)
        if let sameType = candidates.first(where: { $0.keyType == serverType }) ?? candidates.first {
            return SSHError(
                .hostKeyMismatch,
                "WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! The \(display) host key of \(name) is not the key "
                    + "recorded in \(sameType.file):\(sameType.line).\r\nHost key verification failed.")
        }
        let searched = files.joined(separator: ", ")
        return SSHError(
            .hostKeyUnknown,
            "No \(display) host key is known for \(name) (searched \(searched)) and you have requested strict "
                + "checking.\r\nHost key verification failed.")
    }

    // MARK: Authentication

    private func planAttempts() -> [AuthAttempt] {
        var plan: [AuthAttempt] = []
        if allowedMethods.contains("publickey") {
            plan += credentials.privateKeys.map { .key($0) }
            if credentials.privateKeys.isEmpty {
                if credentials.useAgent, agentSocketPath() != nil { plan.append(.agent) }
                if credentials.useDefaultKeys {
                    for name in ["id_ed25519", "id_ecdsa", "id_rsa"] {
                        let path = homeDirectory() + "/.ssh/" + name
                        if access(path, R_OK) == 0 { plan.append(.key(SSHPrivateKey(path: path))) }
                    }
                }
            }
        }
        if credentials.password != nil {
            if allowedMethods.contains("password") { plan.append(.password) }
            if allowedMethods.contains("keyboard-interactive") { plan.append(.keyboardInteractive) }
        }
        return plan
    }

    private enum AttemptResult {
        case again, accepted, refused
        case fatal(SSHError)
    }

    private func tryAttempt(_ attempt: AuthAttempt, _ c: ConnectionCore) -> AttemptResult {
        let session = c.session!
        let user = credentials.user
        let userLength = UInt32(user.utf8.count)
        switch attempt {
        case .key(let key):
            let material: PrivateKeyMaterial
            switch keyStore.material(for: key) {
            case .success(let m): material = m
            case .failure(let error):
                // A key the user named explicitly must work; a default key may be skipped.
                if credentials.privateKeys.contains(key) { return .fatal(error) }
                authNotes.append(error.message)
                return .refused
            }
            let rc = material.pem.withUnsafeBufferPointer { pem in
                pem.withMemoryRebound(to: CChar.self) { pemChars in
                    libssh2_userauth_publickey_frommemory(
                        session, user, Int(userLength), nil, 0, pemChars.baseAddress, pem.count,
                        material.passphrase)
                }
            }
            if rc == LIBSSH2_ERROR_EAGAIN { return .again }
            if rc == 0 { return .accepted }
            if isSessionFatal(rc) { return .fatal(c.failure(.authentication, "publickey authentication", code: rc)) }
            if rc == LIBSSH2_ERROR_FILE {
                let error = SSHError.last(session, .privateKey, "Load key \"\(key.path)\"")
                if credentials.privateKeys.contains(key) {
                    return .fatal(SSHError(.privateKey, "Load key \"\(key.path)\": invalid format or wrong passphrase"))
                }
                authNotes.append(error.message)
            }
            if material.isRSA { triedRSAKey = key.path }
            return .refused

        case .agent:
            return tryAgent(c)

        case .password:
            let password = credentials.password ?? ""
            let rc = swansible_userauth_password(session, user, userLength, password, UInt32(password.utf8.count))
            if rc == LIBSSH2_ERROR_EAGAIN { return .again }
            if rc == 0 { return .accepted }
            if isSessionFatal(rc) { return .fatal(c.failure(.authentication, "password authentication", code: rc)) }
            return .refused

        case .keyboardInteractive:
            if passwordCString == nil {
                passwordCString = strdup(credentials.password ?? "")
            }
            let previous = swansible_session_abstract_get(session)
            swansible_session_abstract_set(session, UnsafeMutableRawPointer(passwordCString))
            let rc = swansible_userauth_kbdint(session, user, userLength)
            swansible_session_abstract_set(session, previous)
            if rc == LIBSSH2_ERROR_EAGAIN { return .again }
            if rc == 0 { return .accepted }
            if isSessionFatal(rc) { return .fatal(c.failure(.authentication, "keyboard-interactive", code: rc)) }
            return .refused
        }
    }

    private func tryAgent(_ c: ConnectionCore) -> AttemptResult {
        let session = c.session!
        if agent == nil {
            guard let a = libssh2_agent_init(session) else { return .refused }
            agent = a
            if let path = agentSocketPath() { libssh2_agent_set_identity_path(a, path) }
            if libssh2_agent_connect(a) != 0 || libssh2_agent_list_identities(a) != 0 {
                authNotes.append("could not use the ssh-agent at SSH_AUTH_SOCK")
                freeAgent()
                return .refused
            }
            agentStage = 1
        }
        guard let agent else { return .refused }
        while true {
            if agentStage == 1 {
                var next: UnsafeMutablePointer<libssh2_agent_publickey>?
                let rc = libssh2_agent_get_identity(agent, &next, agentIdentity)
                if rc != 0 {
                    freeAgent()
                    return .refused
                }
                agentIdentity = next
                agentStage = 2
            }
            let user = credentials.user
            let rc = libssh2_agent_userauth(agent, user, agentIdentity)
            if rc == LIBSSH2_ERROR_EAGAIN { return .again }
            if rc == 0 {
                freeAgent()
                return .accepted
            }
            if isSessionFatal(rc) { return .fatal(c.failure(.authentication, "agent authentication", code: rc)) }
            agentStage = 1
        }
    }

    private func agentSocketPath() -> String? {
        if let path = credentials.agentSocket, !path.isEmpty { return path }
        if let sock = getenv("SSH_AUTH_SOCK"), sock.pointee != 0 { return String(cString: sock) }
        return nil
    }

    private func freeAgent() {
        if let agent {
            libssh2_agent_disconnect(agent)
            libssh2_agent_free(agent)
            self.agent = nil
            agentIdentity = nil
        }
    }

    private func authenticationError(_ c: ConnectionCore) -> SSHError {
        var message = "\(credentials.user)@\(c.host): Permission denied (\(allowedMethods.joined(separator: ",")))."
        if let rsa = triedRSAKey {
            message += " The RSA key \(rsa) was refused: libssh2 1.10 signs only with ssh-rsa (SHA-1), which"
                + " OpenSSH 8.8 and later refuse (no rsa-sha2 support); use an ed25519 or ECDSA key."
        }
        if !authNotes.isEmpty { message += " (" + authNotes.joined(separator: "; ") + ")" }
        return SSHError(.authentication, message)
    }
}
