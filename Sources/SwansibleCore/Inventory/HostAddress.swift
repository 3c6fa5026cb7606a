/// Host identifiers as ansible-core reads them: `parse_address` (a host, IPv4 or IPv6 address, with an optional
/// port and optional `[x:y]` ranges) and the expansion of host ranges (`web[01:10]`, `db-[a:f]`, `[1:9:2]`).
enum HostAddress {
    struct Failure: Error, Equatable {
        var message: String
    }

    /// `parse_address(address, allow_ranges)`: the host part and the port, or a failure when the text is not a
    /// host name, IPv4 or IPv6 address (or holds a range where none is allowed).
    static func parse(_ address: String, allowRanges: Bool) throws(Failure) -> (host: String, port: Int?) {
        var address = address
        var port: Int?
        // A bracketed host with a port: `[host]:port`.
        if address.hasPrefix("["), let close = address.lastIndex(of: "]"),
            close > address.index(after: address.startIndex)
        {
            let rest = address[address.index(after: close)...]
            if rest.count > 1, rest.first == ":", let p = Int(rest.dropFirst()),
                rest.dropFirst().allSatisfy(\.isPlainDigit)
            {
                address = String(address[address.index(after: address.startIndex)..<close])
                port = p
            }
        }
        // A host (with complete bracketed ranges) followed by `:port`.
        if let (host, p) = splitHostPort(address) {
            address = host
            port = p
        }
        guard isIPv4(address) || isIPv6(address) || isHostname(address) else {
            throw Failure(message: "Not a valid network hostname: \(address)".pythonStripped())
        }
        if !allowRanges && address.contains("[") {
            throw Failure(message: "Detected range in host but was asked to ignore ranges")
        }
        return (address, port)
    }

    /// The `hostport` pattern: characters other than `:[]` or whole `[…]` groups, then `:digits` to the end.
    static func splitHostPort(_ s: String) -> (String, Int)? {
        let chars = Array(s)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == ":" { break }
            if c == "]" { return nil }
            if c == "[" {
                guard let close = chars[(i + 1)...].firstIndex(of: "]") else { return nil }
                i = close + 1
                continue
            }
            i += 1
        }
        guard i < chars.count, i + 1 < chars.count else { return nil }
        let digits = chars[(i + 1)...]
        guard digits.allSatisfy(\.isPlainDigit), let port = Int(String(digits)) else { return nil }
        return (String(chars[..<i]), port)
    }

    // MARK: address shapes

    private static func isDigits(_ s: Substring) -> Bool { !s.isEmpty && s.allSatisfy(\.isPlainDigit) }

    private static func isHexDigits(_ s: Substring) -> Bool { !s.isEmpty && s.allSatisfy(\.isHexDigit) }

    /// `[begin:end]` or `[begin:end:step]` where begin and end satisfy `bound` and the step is decimal.
    private static func isRange(_ s: Substring, bound: (Substring) -> Bool) -> Bool {
        guard s.hasPrefix("["), s.hasSuffix("]"), s.count >= 2 else { return false }
        let parts = s.dropFirst().dropLast().split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3 else { return false }
        guard bound(parts[0]), bound(parts[1]) else { return false }
        return parts.count == 2 || isDigits(parts[2])
    }

    private static func isIPv4Component(_ s: Substring) -> Bool {
        if isDigits(s) {
            guard s.count <= 3 else { return false }
            if s.count < 3 || s.first == "0" || s.first == "1" { return true }
            return Int(s)! <= 255
        }
        return isRange(s, bound: isDigits)
    }

    static func isIPv4(_ s: String) -> Bool {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy(isIPv4Component)
    }

    /// An IPv6 component: 1-4 hex digits or a hexadecimal range `[a:f]`.
    private static func isIPv6Component(_ s: Substring) -> Bool {
        if isHexDigits(s) { return s.count <= 4 }
        return isRange(s, bound: isHexDigits)
    }

    /// Splits on `sep` outside brackets.
    private static func splitOutsideBrackets(_ s: Substring, _ sep: Character) -> [Substring] {
        var parts: [Substring] = []
        var start = s.startIndex
        var depth = 0
        var i = s.startIndex
        while i < s.endIndex {
            let c = s[i]
            if c == "[" {
                depth += 1
            } else if c == "]" {
                depth -= 1
            } else if c == sep && depth == 0 {
                parts.append(s[start..<i])
                start = s.index(after: i)
            }
            i = s.index(after: i)
        }
        parts.append(s[start...])
        return parts
    }

    static func isIPv6(_ text: String) -> Bool {
        let s = Substring(text.lowercased())
        // IPv4-in-IPv6 forms: 0:0:0:0:0:0:a.b.c.d, ::a.b.c.d, ::ffff:a.b.c.d, 0:0:0:0:0:ffff:a.b.c.d.
        if s.contains(".") {
            let groups = splitOutsideBrackets(s, ":")
            guard let last = groups.last else { return false }
            let quad = splitOutsideBrackets(last, ".")
            guard quad.count == 4, quad.allSatisfy(isIPv6Component) else { return false }
            let head = groups.dropLast().map(String.init)
            return head == ["0", "0", "0", "0", "0", "0"] || head == ["", ""] || head == ["", "", "ffff"]
                || head == ["0", "0", "0", "0", "0", "ffff"]
        }
        // At most one `::` (outside range brackets), splitting the address into a left and a right part.
        let chars = Array(s)
        var doubles: [Int] = []
        var depth = 0
        for i in chars.indices {
            if chars[i] == "[" { depth += 1 } else if chars[i] == "]" { depth -= 1 }
            if depth == 0 && chars[i] == ":" && i + 1 < chars.count && chars[i + 1] == ":" { doubles.append(i) }
        }
        func components(_ part: Substring) -> Int? {
            if part.isEmpty { return 0 }
            let groups = splitOutsideBrackets(part, ":")
            guard groups.allSatisfy({ !$0.isEmpty && isIPv6Component($0) }) else { return nil }
            return groups.count
        }
        if doubles.isEmpty { return components(s) == 8 }
        guard doubles.count == 1 else { return false }
        let cut = s.index(s.startIndex, offsetBy: doubles[0])
        guard let l = components(s[..<cut]), let r = components(s[s.index(cut, offsetBy: 2)...]) else { return false }
        if l == 0 || r == 0 { return l + r <= 6 }
        return l + r <= 7
    }

    private static func isWordCharacter(_ c: Character) -> Bool {
        c == "_" || c.isLetter || c.isNumber
    }

    /// A host-name label: word characters, `-`, `_` or alphanumeric ranges, starting with a word character or a
    /// range and not ending with `-` or `_`.
    private static func isLabel(_ s: Substring) -> Bool {
        guard !s.isEmpty, let last = s.last, last != "-" && last != "_" else { return false }
        var i = s.startIndex
        var first = true
        while i < s.endIndex {
            let c = s[i]
            if c == "[" {
                guard let close = s[i...].firstIndex(of: "]") else { return false }
                let range = s[i...close]
                guard
                    isRange(
                        range,
                        bound: { b in
                            (b.count == 1 && b.first!.isASCII && b.first!.isLetter) || isDigits(b)
                        })
                else { return false }
                // A one-letter range needs letters at both ends, a numeric one digits at both ends.
                let parts = range.dropFirst().dropLast().split(separator: ":", omittingEmptySubsequences: false)
                if isDigits(parts[0]) != isDigits(parts[1]) { return false }
                i = s.index(after: close)
                first = false
                continue
            }
            if !(isWordCharacter(c) || (!first && c == "-")) { return false }
            first = false
            i = s.index(after: i)
        }
        return true
    }

    static func isHostname(_ s: String) -> Bool {
        splitOutsideBrackets(Substring(s), ".").allSatisfy(isLabel)
    }

    // MARK: ranges

    static let asciiLetters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")

    /// Python's `int(text)` for range bounds: optional whitespace and sign, digits with single underscores.
    static func pythonInt(_ text: Substring) -> Int? {
        var t = text.pythonStripped()
        var negative = false
        if let f = t.first, f == "+" || f == "-" {
            negative = f == "-"
            t = t.dropFirst()
        }
        guard let f = t.first, f.isPlainDigit, let l = t.last, l.isPlainDigit, !t.contains("__") else { return nil }
        guard t.allSatisfy({ $0.isPlainDigit || $0 == "_" }), let v = Int(t.filter { $0 != "_" }) else { return nil }
        return negative ? -v : v
    }

    /// How many host names, and how many bytes of them, one pattern may expand to. ansible-core has no limit: a
    /// short line with many ranges (`h[0:9][0:9][0:9]…`) multiplies out to more hosts than fit in memory and the
    /// parse never ends. swansible stops at a million hosts or 32 MiB of names with an error instead.
    /// (Variables only so that the inventory fuzz target can lower them: a fuzzer that keeps expanding 32 MiB of
    /// names per input runs a hundred times slower and finds nothing more.)
    nonisolated(unsafe) static var maximumExpandedHosts = 1_000_000
    nonisolated(unsafe) static var maximumExpandedBytes = 32 << 20
    static var limitFailure: Failure {
        Failure(
            message: "host range expands to more than \(maximumExpandedHosts) hosts or \(maximumExpandedBytes >> 20) MiB of host "
                + "names (swansible's limit)")
    }

    /// `expand_hostname_range`: every host name a pattern with `[begin:end(:step)]` ranges stands for.
    static func expandRange(_ line: String) throws(Failure) -> [String] {
        var budget = (hosts: maximumExpandedHosts, bytes: maximumExpandedBytes)
        return try expandRange(line, budget: &budget)
    }

    private static func expandRange(_ line: String, budget: inout (hosts: Int, bytes: Int)) throws(Failure) -> [String] {
        guard !line.isEmpty else { return [] }
        // The first `[` and the first `]` become `|` and the text must then cut into head, range and tail
        // (found on the UTF-8 bytes: these are ASCII, and a pattern can expand to millions of names).
        let utf8 = line.utf8
        let open = utf8.firstIndex(of: UInt8(ascii: "["))
        let close = utf8.firstIndex(of: UInt8(ascii: "]"))
        let bars = utf8.reduce(0) { $0 + ($1 == UInt8(ascii: "|") ? 1 : 0) }
        let pieceCount = 1 + (open == nil ? 0 : 1) + (close == nil ? 0 : 1) + bars
        guard pieceCount == 3 else {
            throw Failure(
                message: pieceCount < 3
                    ? "not enough values to unpack (expected 3, got \(pieceCount))"
                    : "too many values to unpack (expected 3)")
        }
        // Exactly two cuts: the bracket(s) found and, when one is missing, the `|` already in the text.
        var cuts = [open, close].compactMap { $0 }
        if cuts.count < 2, let bar = utf8.firstIndex(of: UInt8(ascii: "|")) { cuts.append(bar) }
        cuts.sort()
        let head = line[..<cuts[0]]
        let range = line[utf8.index(after: cuts[0])..<cuts[1]]
        let tail = line[utf8.index(after: cuts[1])...]
        let bounds = range.split(separator: ":", omittingEmptySubsequences: false)
        guard bounds.count == 2 || bounds.count == 3 else {
            throw Failure(message: "host range must be begin:end or begin:end:step")
        }
        let begin = bounds[0].isEmpty ? "0" : bounds[0]
        let end = bounds[1]
        let stepText: Substring = bounds.count == 3 ? bounds[2] : "1"
        guard !end.isEmpty else { throw Failure(message: "host range must specify end value") }
        var width: Int?
        if begin.first == "0" && begin.count > 1 {
            guard begin.count == end.count else {
                throw Failure(message: "host range must specify equal-length begin and end formats")
            }
            width = begin.count
        }
        func fill(_ s: String) -> String {
            guard let width, s.count < width else { return s }
            if s.hasPrefix("-") || s.hasPrefix("+") {
                return String(s.first!) + String(repeating: "0", count: width - s.count) + s.dropFirst()
            }
            return String(repeating: "0", count: width - s.count) + s
        }
        var sequence: [String] = []
        var alphabetic = false
        if let b = indexInLetters(begin), let e = indexInLetters(end) {
            guard b <= e else { throw Failure(message: "host range must have begin <= end") }
            // A step that is not a non-zero integer makes Python fall back to a numeric range (which then fails).
            if let step = pythonInt(stepText), step != 0 {
                alphabetic = true
                var i = b
                while step > 0 && i <= e {
                    sequence.append(fill(String(asciiLetters[i])))
                    i += step
                }
            }
        }
        if !alphabetic {
            for part in [begin, end, stepText] where pythonInt(part) == nil {
                throw Failure(message: "invalid literal for int() with base 10: '\(part)'")
            }
            let b = pythonInt(begin)!
            let (e, endOverflow) = pythonInt(end)!.addingReportingOverflow(1)
            let step = pythonInt(stepText)!
            guard step != 0 else { throw Failure(message: "range() arg 3 must not be zero") }
            // Count first: `h[0:999999999]` alone would otherwise fill memory before the limit is checked.
            let (span, spanOverflow) = step > 0 ? e.subtractingReportingOverflow(b) : b.subtractingReportingOverflow(e)
            let count = span <= 0 ? 0 : (span.magnitude + step.magnitude - 1) / step.magnitude
            if endOverflow || spanOverflow || count > UInt(Swift.max(0, budget.hosts)) { throw limitFailure }
            var i = b
            while step > 0 ? i < e : i > e {
                sequence.append(fill(String(i)))
                let (next, overflow) = i.addingReportingOverflow(step)
                if overflow { break }
                i = next
            }
        }
        var hosts: [String] = []
        for item in sequence {
            let name = String(head) + item + String(tail)
            budget.bytes -= name.utf8.count
            if name.utf8.contains(UInt8(ascii: "[")) {
                hosts += try expandRange(name, budget: &budget)
            } else {
                budget.hosts -= 1
                hosts.append(name)
            }
            if budget.hosts < 0 || budget.bytes < 0 { throw limitFailure }
        }
        return hosts
    }

    /// `string.ascii_letters.index(text)`: where the text occurs in `a…zA…Z`.
    private static func indexInLetters(_ text: Substring) -> Int? {
        let t = Array(text)
        guard !t.isEmpty, t.count <= asciiLetters.count else { return nil }
        for start in 0...(asciiLetters.count - t.count) where Array(asciiLetters[start..<start + t.count]) == t {
            return start
        }
        return nil
    }

    /// `_expand_hostpattern`: the host names and port a host pattern stands for. A pattern that is not a valid
    /// address is taken whole, without a port.
    static func expandPattern(_ pattern: String) throws(Failure) -> (hosts: [String], port: Int?) {
        var host = pattern
        var port: Int?
        if let parsed = try? parse(pattern, allowRanges: true) {
            host = parsed.host
            port = parsed.port
        }
        if host.contains("[") { return (try expandRange(host), port) }
        return ([host], port)
    }
}

extension Character {
    /// `0`…`9` only (Python's `[0-9]`).
    var isPlainDigit: Bool { self >= "0" && self <= "9" }
}
