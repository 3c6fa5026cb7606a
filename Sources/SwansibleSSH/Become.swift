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

    /// su reads its password from a terminal, so its commands run on a pty.
    var needsPTY: Bool { method == .su }

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
    return "'" + s.replacingOccurrences(of: "'", with: "'\"'\"'") + "'"
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
