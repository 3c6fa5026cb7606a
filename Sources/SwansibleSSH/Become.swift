/// Privilege escalation for a remote command, as ansible-core's become plugins do it.
///
/// The command is wrapped so that it first prints a random success marker; output before the
/// marker belongs to sudo/su. A password prompt seen before the marker is answered over the
/// channel's stdin (never on a command line); a second prompt means the password was wrong.
public struct BecomeSpec: Sendable, Hashable {
    public enum Method: String, Sendable, Hashable {
        case sudo, su
    }

    public var method: Method
    public var user: String
    public var password: String?
    /// Extra flags (ansible-core's `become_flags`); nil gives the plugin's defaults.
    public var flags: String?
    /// The escalation program (`become_exe`); nil gives `sudo` or `su`.
    public var executable: String?

    public init(method: Method = .sudo, user: String = "root", password: String? = nil, flags: String? = nil,
                executable: String? = nil) {
        self.method = method
        self.user = user
        self.password = password
        self.flags = flags
        self.executable = executable
    }

    /// su reads its password from a terminal: the command runs on a pty, which would edit binary input.
    public var needsPTY: Bool { method == .su }

    /// The wrapped command line, the success marker and the password prompt to wait for.
    func wrap(_ command: String, shell: String = "/bin/sh") -> (command: String, marker: String, prompt: String?) {
        let key = randomKey()
        let marker = "BECOME-SUCCESS-" + key
        let inner = "echo \(marker); \(command)"
        switch method {
        case .sudo:
            let exe = executable ?? "sudo"
            var flags = self.flags ?? "-H -S -n"
            var prompt: String? = nil
            if password != nil {
                // A password is expected: drop -n (non-interactive) and name a prompt to watch for.
                flags = flags.split(separator: " ").filter { $0 != "-n" }.joined(separator: " ")
                prompt = "[sudo via swansible, key=\(key)] password:"
                flags += " -p " + shellQuote(prompt!)
            }
            let userPart = user.isEmpty ? "" : " -u " + shellQuote(user)
            return ("\(exe) \(flags)\(userPart) \(shell) -c \(shellQuote(inner))", marker, prompt)
        case .su:
            let exe = executable ?? "su"
            let flags = self.flags.map { " " + $0 } ?? ""
            let cmd = "\(exe)\(flags) \(shellQuote(user)) -c \(shellQuote(shell + " -c " + shellQuote(inner)))"
            return (cmd, marker, "assword")
        }
    }

    private func randomKey() -> String {
        let letters = Array("abcdefghijklmnopqrstuvwxyz")
        var generator = SystemRandomNumberGenerator()
        return String((0..<32).map { _ in letters[Int(generator.next(upperBound: UInt32(letters.count)))] })
    }
}

/// Quotes a string for a POSIX shell so that it arrives as one word, byte for byte.
public func shellQuote(_ s: String) -> String {
    if !s.isEmpty, s.utf8.allSatisfy({ c in
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
            || c == UInt8(ascii: "-") || c == UInt8(ascii: "_") || c == UInt8(ascii: ".") || c == UInt8(ascii: "/")
            || c == UInt8(ascii: ":") || c == UInt8(ascii: "=") || c == UInt8(ascii: "@") || c == UInt8(ascii: "%")
            || c == UInt8(ascii: "+") || c == UInt8(ascii: ",")
    }) {
        return s
    }
    // Scalar by scalar: a quote followed by a combining mark is one Character but still a quote for the shell.
    var out = String.UnicodeScalarView()
    out.append("'")
    for c in s.unicodeScalars {
        if c == "'" { out.append(contentsOf: "'\"'\"'".unicodeScalars) } else { out.append(c) }
    }
    out.append("'")
    return String(out)
}

extension String {
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = self[...]
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        result += rest
        return result
    }
}

/// Watches a become-wrapped command's output: answers the password prompt, recognises the
/// success marker and strips what sudo/su printed before it.
struct BecomeWatcher: Sendable {
    enum Action: Sendable {
        case none
        case sendPassword([UInt8])
        case fail(SSHError)
    }

    let command: String
    private let marker: [UInt8]
    private let prompt: [UInt8]?
    private let password: String?
    private let method: BecomeSpec.Method
    private let promptOnStdout: Bool
    private var passwordSent = false
    private var succeeded = false
    private var scanFrom = 0

    init(_ spec: BecomeSpec, command: String) {
        let wrapped = spec.wrap(command)
        self.command = wrapped.command
        marker = Array(wrapped.marker.utf8)
        prompt = wrapped.prompt.map { Array($0.utf8) }
        password = spec.password
        method = spec.method
        promptOnStdout = spec.needsPTY
    }

    /// The command's own stdin may flow once sudo/su has handed over to it.
    var inputAllowed: Bool { succeeded }

    /// Examines the output gathered so far (called after every read).
    mutating func scan(stdout: inout [UInt8], stderr: inout [UInt8], ended: Bool) -> Action {
        guard !succeeded else { return .none }
        if ended && method == .sudo && Self.find(Array("a password is required".utf8), in: stderr, from: 0) != nil
            && Self.find(marker, in: stdout, from: 0) == nil
        {
            return .fail(SSHError(.become, "Missing sudo password"))
        }
        if ended && passwordSent && method == .su && Self.find(marker, in: stdout, from: 0) == nil {
            // su answered the password with "Authentication failure" and exited.
            return .fail(SSHError(.become, "Incorrect su password"))
        }
        if let end = Self.findLine(marker, in: stdout) {
            stdout.removeSubrange(0..<end)
            if !promptOnStdout && scanFrom > 0 { stderr.removeSubrange(0..<min(scanFrom, stderr.count)) }
            succeeded = true
            return .none
        }
        if ended {
            // sudo/su exited without starting the shell that prints the marker (an unknown become_user, a user
            // sudo does not allow, …): the command never ran.
            var text = String(decoding: stderr[min(scanFrom, stderr.count)...] + stdout, as: UTF8.self)
            while text.last?.isWhitespace == true { text.removeLast() }
            return .fail(SSHError(.become, "Privilege escalation with \(method.rawValue) failed"
                + (text.isEmpty ? "" : ": " + text)))
        }
        guard let prompt else { return .none }
        let haystack = promptOnStdout ? stdout : stderr
        guard let end = Self.find(prompt, in: haystack, from: scanFrom) else { return .none }
        scanFrom = end
        if passwordSent { return .fail(SSHError(.become, "Incorrect \(method.rawValue) password")) }
        guard let password else { return .fail(SSHError(.become, "Missing \(method.rawValue) password")) }
        passwordSent = true
        return .sendPassword(Array((password + "\n").utf8))
    }

    /// The index just past `needle` and its line end, if `haystack` holds both.
    static func findLine(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard let end = find(needle, in: haystack, from: 0) else { return nil }
        var i = end
        if i < haystack.count && haystack[i] == UInt8(ascii: "\r") { i += 1 }
        if i < haystack.count && haystack[i] == UInt8(ascii: "\n") { return i + 1 }
        return nil
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
        var i = start
        while i + needle.count <= haystack.count {
            if haystack[i] == needle[0] && haystack[i..<i + needle.count].elementsEqual(needle) { return i + needle.count }
            i += 1
        }
        return nil
    }
}
