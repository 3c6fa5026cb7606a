import SwansibleData

extension Inventory {
    /// The hosts a host pattern selects, limited by `limit` (`--limit`), in ansible-core's order.
    ///
    /// Patterns: `all`, `*`, group and host names, shell wildcards (`web*`, `db-[ab]?`), regular expressions
    /// (`~web\d+`), unions with `,` or `:`, intersections `&g`, exclusions `!g`, and subscripts on group
    /// patterns (`web[0]`, `web[-1]`, `web[1:3]`, `web[2:]`). The limit takes the same patterns and `@file`
    /// (one pattern per line). Warnings (a pattern that matches nothing) are dropped; see
    /// ``select(patterns:limit:warnings:)``.
    public func select(pattern: String, limit: String? = nil) throws(InventoryError) -> [String] {
        var warnings: [String] = []
        return try select(patterns: [pattern], limit: limit, warnings: &warnings)
    }

    /// ``select(pattern:limit:)`` for a list of patterns (a play's `hosts:` list), collecting warnings such as
    /// `Could not match supplied host pattern, ignoring: x`.
    public func select(
        patterns: [String], limit: String?, warnings: inout [String]
    ) throws(InventoryError)
        -> [String]
    {
        var matcher = PatternMatcher(inventory: self)
        defer {
            for w in matcher.warnings where !warnings.contains(w) { warnings.append(w) }
        }
        var hosts = try matcher.evaluate(Self.splitHostPattern(patterns))
        if let limit {
            let subset = try Self.limitPatterns(limit)
            if !subset.isEmpty {
                let allowed = Set(try matcher.evaluate(subset))
                hosts = hosts.filter { allowed.contains($0) }
            }
        }
        var seen: Set<String> = []
        return hosts.filter { seen.insert($0).inserted }
    }

    /// The `--limit` value as patterns, `@file` replaced by the file's lines.
    static func limitPatterns(_ limit: String) throws(InventoryError) -> [String] {
        var results: [String] = []
        for item in splitHostPattern([limit]) {
            guard item.hasPrefix("@") else {
                results.append(item)
                continue
            }
            let path = String(item.dropFirst())
            guard InventoryFileSystem.exists(path) else { throw InventoryError("Unable to find limit file \(path)") }
            guard InventoryFileSystem.isFile(path) else {
                throw InventoryError("Limit starting with \"@\" must be a file, not a directory: \(path)")
            }
            guard let text = InventoryFileSystem.readText(path) else {
                throw InventoryError("Unable to read limit file \(path)")
            }
            results += text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.pythonStripped() }
        }
        return results
    }

    /// `split_host_pattern`: `a,b[1], c[2:3]` → `a`, `b[1]`, `c[2:3]`. Without commas, a single address
    /// (which may hold `:`) stays whole; otherwise `:` separates patterns.
    static func splitHostPattern(_ patterns: [String]) -> [String] {
        var result: [String] = []
        for pattern in patterns {
            var parts: [String]
            if pattern.contains(",") {
                parts = pattern.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            } else if (try? HostAddress.parse(pattern, allowRanges: true)) != nil {
                parts = [pattern]
            } else {
                parts = colonSeparated(pattern)
            }
            result += parts.map { $0.pythonStripped() }.filter { !$0.isEmpty }
        }
        return result
    }

    /// `(?:[^\s:\[\]]|\[[^\]]*\])+` found repeatedly.
    private static func colonSeparated(_ text: String) -> [String] {
        let chars = Array(text)
        var parts: [String] = []
        var current = ""
        var i = 0
        func flush() {
            if !current.isEmpty { parts.append(current) }
            current = ""
        }
        while i < chars.count {
            let c = chars[i]
            if c == "[" {
                if let close = chars[(i + 1)...].firstIndex(of: "]") {
                    current += String(chars[i...close])
                    i = close + 1
                    continue
                }
                flush()
            } else if c == ":" || c == "]" || c.isPythonSpace {
                flush()
            } else {
                current.append(c)
            }
            i += 1
        }
        flush()
        return parts
    }

    /// The play keyword `order:` applied to selected hosts: `inventory` (or nil), `reverse_inventory`, `sorted`,
    /// `reverse_sorted`, `shuffle`.
    public static func order(_ hosts: [String], by order: String?) throws(InventoryError) -> [String] {
        switch order {
        case nil, "inventory": return hosts
        case "reverse_inventory": return hosts.reversed()
        case "sorted": return hosts.sorted(by: Value.pythonStringLess)
        case "reverse_sorted": return hosts.sorted(by: Value.pythonStringLess).reversed()
        case "shuffle": return hosts.shuffled()
        default: throw InventoryError("Invalid 'order' specified for inventory hosts: \(order!)")
        }
    }
}

/// ansible-core's `InventoryManager` pattern evaluation.
struct PatternMatcher {
    let inventory: Inventory
    var warnings: [String] = []
    var cache: [String: [String]] = [:]

    init(inventory: Inventory) {
        self.inventory = inventory
    }

    var data: InventoryData { inventory.data }

    /// `order_patterns` then `_evaluate_patterns`.
    mutating func evaluate(_ patterns: [String]) throws(InventoryError) -> [String] {
        var regular: [String] = []
        var intersections: [String] = []
        var exclusions: [String] = []
        for p in patterns where !p.isEmpty {
            if p.hasPrefix("!") {
                exclusions.append(p)
            } else if p.hasPrefix("&") {
                intersections.append(p)
            } else {
                regular.append(p)
            }
        }
        if regular.isEmpty { regular = ["all"] }
        var hosts: [String] = []
        for p in regular + intersections + exclusions {
            if data.hosts[p] != nil {
                hosts.append(p)
                continue
            }
            let that = try matchOne(p)
            if p.hasPrefix("!") {
                let set = Set(that)
                hosts.removeAll { set.contains($0) }
            } else if p.hasPrefix("&") {
                let set = Set(that)
                hosts.removeAll { !set.contains($0) }
            } else {
                let existing = Set(hosts)
                hosts += that.filter { !existing.contains($0) }
            }
        }
        return hosts
    }

    /// `_match_one_pattern`: one pattern without its `&`/`!`, with an optional subscript.
    mutating func matchOne(_ pattern: String) throws(InventoryError) -> [String] {
        var pattern = pattern
        if pattern.hasPrefix("&") || pattern.hasPrefix("!") { pattern.removeFirst() }
        if let cached = cache[pattern] { return cached }
        let (expression, range) = splitSubscript(pattern)
        let hosts = try enumerateMatches(expression)
        var result = hosts
        if let range, !hosts.isEmpty {
            let (start, end) = range
            if let end, end != 0 {
                let last = end == -1 ? hosts.count - 1 : end
                result = Self.pythonSlice(hosts, start, last + 1)
            } else {
                let index = start < 0 ? hosts.count + start : start
                guard index >= 0 && index < hosts.count else {
                    throw InventoryError("No hosts matched the subscripted pattern '\(pattern)'")
                }
                result = [hosts[index]]
            }
        }
        cache[pattern] = result
        return result
    }

    /// `list[start:end]` with Python's clamping of out-of-range and negative bounds.
    static func pythonSlice(_ list: [String], _ start: Int, _ end: Int) -> [String] {
        func clamp(_ i: Int) -> Int {
            let j = i < 0 ? list.count + i : i
            return min(max(j, 0), list.count)
        }
        let s = clamp(start)
        let e = clamp(end)
        return s < e ? Array(list[s..<e]) : []
    }

    /// `_split_subscript`: `web[1]`, `web[-1]`, `web[0:2]`, `web[2:]` (and the removed `web[0-2]`, with a
    /// warning). Regular expressions keep their brackets.
    mutating func splitSubscript(_ pattern: String) -> (String, (Int, Int?)?) {
        guard !pattern.hasPrefix("~"), pattern.hasSuffix("]"), let open = pattern.lastIndex(of: "["),
            open > pattern.startIndex
        else { return (pattern, nil) }
        let base = String(pattern[..<open])
        let inside = pattern[pattern.index(after: open)..<pattern.index(before: pattern.endIndex)]
        let digits: (Substring) -> Bool = { !$0.isEmpty && $0.allSatisfy(\.isPlainDigit) }
        let unsigned = inside.hasPrefix("-") ? inside.dropFirst() : inside
        if digits(unsigned), let index = Int(inside) { return (base, (index, nil)) }
        guard let sep = inside.firstIndex(where: { $0 == ":" || $0 == "-" }) else { return (pattern, nil) }
        let startText = inside[..<sep]
        let endText = inside[inside.index(after: sep)...]
        guard digits(startText), endText.isEmpty || digits(endText), let start = Int(startText) else {
            return (pattern, nil)
        }
        if inside[sep] == "-" {
            let w = "Use [x:y] inclusive subscripts instead of [x-y] which has been removed"
            if !warnings.contains(w) { warnings.append(w) }
        }
        return (base, (start, endText.isEmpty ? -1 : Int(endText)))
    }

    /// `_enumerate_matches`: the hosts of matching groups, then (when no group matched or the pattern is a
    /// wildcard or regex) matching hosts; the implicit localhost for `localhost`-like names.
    mutating func enumerateMatches(_ pattern: String) throws(InventoryError) -> [String] {
        var results: [String] = []
        let groups = try Self.matchList(Array(data.groups.keys), pattern)
        for group in groups { results += data.hostsOf(group) }
        if groups.isEmpty || pattern.hasPrefix("~") || pattern.contains(where: { ".?*[".contains($0) }) {
            results += try Self.matchList(Array(data.hosts.keys), pattern)
        }
        if results.isEmpty && InventoryData.localhostNames.contains(pattern) {
            if let host = inventory.hostRecord(named: pattern) { results.append(host.name) }
        }
        if results.isEmpty && groups.isEmpty && pattern != "all" {
            let message = "Could not match supplied host pattern, ignoring: \(pattern)"
            switch inventory.options.hostPatternMismatch {
            case .warning: if !warnings.contains(message) { warnings.append(message) }
            case .error: throw InventoryError(message)
            case .ignore: break
            }
        }
        return results
    }

    /// `_match_list`: names matching a shell wildcard (whole name) or, after `~`, a regular expression (from the
    /// start of the name).
    static func matchList(_ items: [String], _ pattern: String) throws(InventoryError) -> [String] {
        if pattern.hasPrefix("~") {
            let regex: Regex<AnyRegexOutput>
            do {
                regex = try Regex(String(pattern.dropFirst())).matchingSemantics(.unicodeScalar)
            } catch {
                throw InventoryError("Invalid host list pattern: \(pattern)")
            }
            return items.filter { (try? regex.prefixMatch(in: $0)) != nil }
        }
        let glob = HostGlob(pattern)
        return items.filter { glob.matches($0) }
    }
}

/// Python's `fnmatch` wildcards (`*`, `?`, `[seq]`, `[!seq]`), case-sensitive, over Unicode scalars.
struct HostGlob {
    enum Element {
        case literal(Unicode.Scalar)
        case any
        case star
        case set(ranges: [ClosedRange<UInt32>], negated: Bool)
    }

    let elements: [Element]

    init(_ pattern: String) {
        let p = Array(pattern.unicodeScalars)
        var elements: [Element] = []
        var i = 0
        while i < p.count {
            let c = p[i]
            i += 1
            switch c {
            case "*":
                if case .star? = elements.last {} else { elements.append(.star) }
            case "?":
                elements.append(.any)
            case "[":
                var j = i
                if j < p.count && p[j] == "!" { j += 1 }
                if j < p.count && p[j] == "]" { j += 1 }
                while j < p.count && p[j] != "]" { j += 1 }
                if j >= p.count {
                    elements.append(.literal("["))
                    continue
                }
                var content = Array(p[i..<j])
                i = j + 1
                var negated = false
                if content.first == "!" {
                    negated = true
                    content.removeFirst()
                }
                var ranges: [ClosedRange<UInt32>] = []
                var k = 0
                while k < content.count {
                    if k + 2 < content.count && content[k + 1] == "-" {
                        let lo = content[k].value
                        let hi = content[k + 2].value
                        if lo <= hi { ranges.append(lo...hi) }
                        k += 3
                    } else {
                        ranges.append(content[k].value...content[k].value)
                        k += 1
                    }
                }
                elements.append(.set(ranges: ranges, negated: negated))
            default:
                elements.append(.literal(c))
            }
        }
        self.elements = elements
    }

    func matches(_ text: String) -> Bool {
        let s = Array(text.unicodeScalars)
        var pi = 0
        var si = 0
        var starPi = -1
        var starSi = 0
        func single(_ e: Element, _ c: Unicode.Scalar) -> Bool {
            switch e {
            case .literal(let l): return l == c
            case .any: return true
            case .star: return false
            case .set(let ranges, let negated):
                let inSet = ranges.contains { $0.contains(c.value) }
                return inSet != negated
            }
        }
        while si < s.count {
            if pi < elements.count, case .star = elements[pi] {
                starPi = pi
                starSi = si
                pi += 1
            } else if pi < elements.count, single(elements[pi], s[si]) {
                pi += 1
                si += 1
            } else if starPi >= 0 {
                pi = starPi + 1
                starSi += 1
                si = starSi
            } else {
                return false
            }
        }
        while pi < elements.count, case .star = elements[pi] { pi += 1 }
        return pi == elements.count
    }
}
