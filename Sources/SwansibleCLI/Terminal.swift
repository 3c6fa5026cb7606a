import Foundation
import SwansibleCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The terminal: whether a stream is one, its width, reading a secret without echo.
enum Terminal {
    static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) == 1 }

    /// ansible's banner width: the terminal's columns less one, at least 79; 79 when stdout is not a terminal.
    static func bannerColumns() -> Int {
        guard isTerminal(1) else { return 79 }
        var size = winsize()
        guard ioctl(1, UInt(TIOCGWINSZ), &size) == 0 else { return 79 }
        return max(79, Int(size.ws_col) - 1)
    }

    /// The width of stderr's terminal (for the progress line).
    static func stderrColumns() -> Int {
        var size = winsize()
        guard ioctl(2, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
        return Int(size.ws_col)
    }

    /// Reads a line from the controlling terminal with echo off, as getpass does (`-k`, `-K`).
    /// - Throws: ``CLIError`` when there is no terminal to ask.
    static func readSecret(prompt: String, option: String) throws -> String {
        let fd = open("/dev/tty", O_RDWR | O_NOCTTY)
        guard fd >= 0 else {
            throw CLIError(
                message: "\(option) needs a terminal to read the password from, and this process has none "
                    + "(no /dev/tty); give the password another way (e.g. --connection-password-file / --become-password-file)",
                exitCode: 5)
        }
        defer { close(fd) }
        var saved = termios()
        let haveAttributes = tcgetattr(fd, &saved) == 0
        if haveAttributes {
            var quiet = saved
            quiet.c_lflag &= ~tcflag_t(ECHO)
            quiet.c_lflag |= tcflag_t(ICANON)
            _ = tcsetattr(fd, TCSAFLUSH, &quiet)
        }
        defer {
            if haveAttributes {
                var restore = saved
                _ = tcsetattr(fd, TCSAFLUSH, &restore)
            }
        }
        _ = prompt.withCString { write(fd, $0, strlen($0)) }
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while true {
            let n = read(fd, &byte, 1)
            if n <= 0 || byte == 10 { break }
            bytes.append(byte)
        }
        _ = write(fd, "\n", 1)
        if bytes.last == 13 { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// ansible's color names and SGR codes (`COLOR_CODES`), and the colors its display uses for each kind of line.
struct Palette: Sendable {
    var enabled: Bool
    var ok = "0;32"  // green
    var changed = "0;33"  // yellow
    var error = "0;31"  // red
    var skip = "0;36"  // cyan
    var unreachable = "1;31"  // bright red
    var warn = "1;35"  // bright purple
    var debug = "1;30"  // dark gray
    var verbose = "0;34"  // blue
    var included = "0;36"  // cyan
    var diffAdd = "0;32"  // green
    var diffRemove = "0;31"  // red
    var diffLines = "0;36"  // cyan

    static let codes: [String: String] = [
        "black": "0;30", "bright gray": "0;37", "blue": "0;34", "white": "1;37", "green": "0;32",
        "bright blue": "1;34", "cyan": "0;36", "bright green": "1;32", "red": "0;31", "bright cyan": "1;36",
        "purple": "0;35", "bright red": "1;31", "yellow": "0;33", "bright purple": "1;35", "dark gray": "1;30",
        "bright yellow": "1;33", "magenta": "0;35", "bright magenta": "1;35", "normal": "0",
    ]

    /// A color name as ansible parses it: a name, `colorN`, `rgbRGB` or `grayN`.
    static func code(_ name: String) -> String? {
        let n = name.trimmingCharacters(in: .whitespaces).lowercased()
        if let c = codes[n] { return c }
        if n.hasPrefix("color"), let v = Int(n.dropFirst(5)) { return "38;5;\(v)" }
        if n.hasPrefix("gray"), let v = Int(n.dropFirst(4)) { return "38;5;\(232 + v)" }
        if n.hasPrefix("rgb"), n.count == 6 {
            let d = n.dropFirst(3).compactMap { Int(String($0)) }
            if d.count == 3, d.allSatisfy({ $0 <= 5 }) { return "38;5;\(16 + 36 * d[0] + 6 * d[1] + d[2])" }
        }
        return nil
    }

    init(enabled: Bool, config: AnsibleConfig? = nil) {
        self.enabled = enabled
        guard let config else { return }
        // ANSIBLE_COLOR_* and ansible.cfg [colors].
        func pick(_ key: String, _ target: inout String) {
            let setting = AnsibleConfig.Setting(
                "COLOR_" + key.uppercased(), env: ["ANSIBLE_COLOR_" + key.uppercased()], ini: [("colors", key)])
            if let name = config.string(setting), let c = Self.code(name) { target = c }
        }
        pick("ok", &ok)
        pick("changed", &changed)
        pick("error", &error)
        pick("skip", &skip)
        pick("unreachable", &unreachable)
        pick("warn", &warn)
        pick("debug", &debug)
        pick("verbose", &verbose)
        pick("included", &included)
        pick("diff_add", &diffAdd)
        pick("diff_remove", &diffRemove)
        pick("diff_lines", &diffLines)
    }

    /// ansible's `stringc`: every line wrapped in its own escape sequence.
    func paint(_ text: String, _ code: String?) -> String {
        guard enabled, let code else { return text }
        return text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { "\u{1B}[\(code)m\($0)\u{1B}[0m" }
            .joined(separator: "\n")
    }
}
