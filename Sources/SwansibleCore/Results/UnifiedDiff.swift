public import SwansibleData

/// Python's `difflib.unified_diff` over lines, with the same matching (`SequenceMatcher`, autojunk on), so
/// `--diff` output has the hunks ansible-core prints.
public enum UnifiedDiff {
    /// `str.splitlines(True)`: the lines with their endings, split at every line boundary Python knows.
    public static func splitLinesKeepingEnds(_ text: String) -> [String] {
        var lines: [String] = []
        var current = ""
        var iterator = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = iterator.next()
        while let scalar = pending {
            pending = iterator.next()
            current.unicodeScalars.append(scalar)
            switch scalar.value {
            case 0x0D:
                if pending?.value == 0x0A {
                    current.unicodeScalars.append(pending!)
                    pending = iterator.next()
                }
                lines.append(current)
                current = ""
            case 0x0A, 0x0B, 0x0C, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029:
                lines.append(current)
                current = ""
            default: break
            }
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }

    /// The lines of `difflib.unified_diff(a, b, fromfile, tofile, n: context)` (each ends with its own line end
    /// as the input lines do; the `---`, `+++` and `@@` lines end with "\n").
    public static func lines(_ a: [String], _ b: [String], fromFile: String, toFile: String, context n: Int = 3) -> [String] {
        var out: [String] = []
        let groups = SequenceMatcher(a, b).groupedOpcodes(context: n)
        for group in groups {
            if out.isEmpty {
                out.append("--- \(fromFile)\n")
                out.append("+++ \(toFile)\n")
            }
            let first = group[0], last = group[group.count - 1]
            out.append("@@ -\(range(first.i1, last.i2)) +\(range(first.j1, last.j2)) @@\n")
            for op in group {
                switch op.tag {
                case .equal:
                    for line in a[op.i1..<op.i2] { out.append(" " + line) }
                case .replace:
                    for line in a[op.i1..<op.i2] { out.append("-" + line) }
                    for line in b[op.j1..<op.j2] { out.append("+" + line) }
                case .delete:
                    for line in a[op.i1..<op.i2] { out.append("-" + line) }
                case .insert:
                    for line in b[op.j1..<op.j2] { out.append("+" + line) }
                }
            }
        }
        return out
    }

    private static func range(_ start: Int, _ stop: Int) -> String {
        var beginning = start + 1
        let length = stop - start
        if length == 1 { return "\(beginning)" }
        if length == 0 { beginning -= 1 }
        return "\(beginning),\(length)"
    }
}

/// difflib's SequenceMatcher without a junk function (autojunk: in a sequence of 200 or more, elements
/// occurring more than 1% + 1 times are not used to start a match).
struct SequenceMatcher {
    enum Tag { case equal, replace, delete, insert }
    struct Opcode: Equatable {
        var tag: Tag
        var i1: Int, i2: Int, j1: Int, j2: Int
    }

    let a: [String]
    let b: [String]
    private var b2j: [String: [Int]] = [:]

    init(_ a: [String], _ b: [String]) {
        self.a = a
        self.b = b
        for (j, element) in b.enumerated() { b2j[element, default: []].append(j) }
        if b.count >= 200 {
            let limit = b.count / 100 + 1
            for (element, indices) in b2j where indices.count > limit { b2j[element] = nil }
        }
    }

    func longestMatch(_ alo: Int, _ ahi: Int, _ blo: Int, _ bhi: Int) -> (Int, Int, Int) {
        var besti = alo, bestj = blo, bestsize = 0
        var j2len: [Int: Int] = [:]
        for i in alo..<ahi {
            var next: [Int: Int] = [:]
            for j in b2j[a[i]] ?? [] {
                if j < blo { continue }
                if j >= bhi { break }
                let k = (j2len[j - 1] ?? 0) + 1
                next[j] = k
                if k > bestsize {
                    besti = i - k + 1
                    bestj = j - k + 1
                    bestsize = k
                }
            }
            j2len = next
        }
        // No junk function: a match grows over equal neighbours, popular ones included.
        while besti > alo, bestj > blo, a[besti - 1] == b[bestj - 1] {
            besti -= 1
            bestj -= 1
            bestsize += 1
        }
        while besti + bestsize < ahi, bestj + bestsize < bhi, a[besti + bestsize] == b[bestj + bestsize] {
            bestsize += 1
        }
        return (besti, bestj, bestsize)
    }

    func matchingBlocks() -> [(Int, Int, Int)] {
        var queue = [(0, a.count, 0, b.count)]
        var blocks: [(Int, Int, Int)] = []
        while let (alo, ahi, blo, bhi) = queue.popLast() {
            let (i, j, k) = longestMatch(alo, ahi, blo, bhi)
            guard k > 0 else { continue }
            blocks.append((i, j, k))
            if alo < i && blo < j { queue.append((alo, i, blo, j)) }
            if i + k < ahi && j + k < bhi { queue.append((i + k, ahi, j + k, bhi)) }
        }
        blocks.sort { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
        var merged: [(Int, Int, Int)] = []
        var (i1, j1, k1) = (0, 0, 0)
        for (i2, j2, k2) in blocks {
            if i1 + k1 == i2 && j1 + k1 == j2 {
                k1 += k2
            } else {
                if k1 > 0 { merged.append((i1, j1, k1)) }
                (i1, j1, k1) = (i2, j2, k2)
            }
        }
        if k1 > 0 { merged.append((i1, j1, k1)) }
        merged.append((a.count, b.count, 0))
        return merged
    }

    func opcodes() -> [Opcode] {
        var i = 0, j = 0
        var codes: [Opcode] = []
        for (ai, bj, size) in matchingBlocks() {
            if i < ai && j < bj {
                codes.append(Opcode(tag: .replace, i1: i, i2: ai, j1: j, j2: bj))
            } else if i < ai {
                codes.append(Opcode(tag: .delete, i1: i, i2: ai, j1: j, j2: bj))
            } else if j < bj {
                codes.append(Opcode(tag: .insert, i1: i, i2: ai, j1: j, j2: bj))
            }
            i = ai + size
            j = bj + size
            if size > 0 { codes.append(Opcode(tag: .equal, i1: ai, i2: i, j1: bj, j2: j)) }
        }
        return codes
    }

    func groupedOpcodes(context n: Int) -> [[Opcode]] {
        var codes = opcodes()
        if codes.isEmpty { codes = [Opcode(tag: .equal, i1: 0, i2: 1, j1: 0, j2: 1)] }
        if codes[0].tag == .equal {
            let c = codes[0]
            codes[0] = Opcode(tag: .equal, i1: max(c.i1, c.i2 - n), i2: c.i2, j1: max(c.j1, c.j2 - n), j2: c.j2)
        }
        if codes[codes.count - 1].tag == .equal {
            let c = codes[codes.count - 1]
            codes[codes.count - 1] = Opcode(tag: .equal, i1: c.i1, i2: min(c.i2, c.i1 + n), j1: c.j1, j2: min(c.j2, c.j1 + n))
        }
        var groups: [[Opcode]] = []
        var group: [Opcode] = []
        for var c in codes {
            if c.tag == .equal && c.i2 - c.i1 > 2 * n {
                group.append(Opcode(tag: .equal, i1: c.i1, i2: min(c.i2, c.i1 + n), j1: c.j1, j2: min(c.j2, c.j1 + n)))
                groups.append(group)
                group = []
                c.i1 = max(c.i1, c.i2 - n)
                c.j1 = max(c.j1, c.j2 - n)
            }
            group.append(c)
        }
        if !group.isEmpty && !(group.count == 1 && group[0].tag == .equal) { groups.append(group) }
        return groups
    }
}

/// ansible's default callback's `_get_diff`: what `--diff` prints for a result's `diff` (one dict or a list).
public enum DiffText {
    public enum LineKind: Sendable { case added, removed, hunk }

    /// A unified diff per before/after pair (`--- before: HEADER` / `+++ after: HEADER`; dict values as sorted
    /// 4-space JSON; a missing final newline noted as difflib does), the binary and size notes, `prepared` text.
    /// `paint` colors a diff line (which ends with its newline) of the given kind.
    public static func render(
        _ diff: Value, context: Int = 3, paint: (String, LineKind) -> String = { line, _ in line }
    ) -> String {
        let entries: [Value] = diff.listValue ?? [diff]
        var out = ""
        for entry in entries {
            guard let d = entry.dictValue else { continue }
            if d["dst_binary"] != nil { out += "diff skipped: destination file appears to be binary\n" }
            if d["src_binary"] != nil { out += "diff skipped: source file appears to be binary\n" }
            if let n = d["dst_larger"] { out += "diff skipped: destination file size is greater than \(n.intValue ?? 0)\n" }
            if let n = d["src_larger"] { out += "diff skipped: source file size is greater than \(n.intValue ?? 0)\n" }
            if let before = d["before"], let after = d["after"] {
                func text(_ v: Value) -> String {
                    if v.dictValue != nil {
                        return v.json(Value.JSONFormat(indent: 4, sortKeys: true, ensureASCII: true)) + "\n"
                    }
                    if v.isNull { return "" }
                    return v.stringValue ?? v.json()
                }
                let beforeHeader = d["before_header"].map { "before: " + ($0.stringValue ?? $0.json()) } ?? "before"
                let afterHeader = d["after_header"].map { "after: " + ($0.stringValue ?? $0.json()) } ?? "after"
                var a = UnifiedDiff.splitLinesKeepingEnds(text(before))
                var b = UnifiedDiff.splitLinesKeepingEnds(text(after))
                if let last = a.last, !last.hasSuffix("\n") { a[a.count - 1] = last + "\n\\ No newline at end of file\n" }
                if let last = b.last, !last.hasSuffix("\n") { b[b.count - 1] = last + "\n\\ No newline at end of file\n" }
                let lines = UnifiedDiff.lines(a, b, fromFile: beforeHeader, toFile: afterHeader, context: context)
                for line in lines {
                    if line.hasPrefix("+") {
                        out += paint(line, .added)
                    } else if line.hasPrefix("-") {
                        out += paint(line, .removed)
                    } else if line.hasPrefix("@@") {
                        out += paint(line, .hunk)
                    } else {
                        out += line
                    }
                }
                if !lines.isEmpty { out += "\n" }
            }
            if let prepared = d["prepared"]?.stringValue { out += prepared }
        }
        return out
    }
}
