import Foundation
import SwansibleData
@testable import SwansibleYAML
import Testing

/// Large inputs run libyaml on a second thread (`EventPipeline`); every result must be the one of the
/// single-threaded parser: nodes, marks, values, warnings, errors with their marks and hints.
@Suite struct PipelineTests {
    /// Everything a load produces, as text: each node with its mark, tag, style and value, or the error.
    static func outcome(_ text: String, single: Bool, pipelined: Bool, options: YAMLLoadOptions = .ansible)
        -> String
    {
        do {
            let documents = try Composer(text: text, file: "p.yml", options: options, pipelined: pipelined)
                .load(single: single)
            var out = ""
            for document in documents {
                out += "---\n"
                describe(document.root, into: &out, depth: 0)
                for warning in document.warnings { out += "warning \(warning.kind) \(warning.description)\n" }
            }
            return out
        } catch {
            return "error \(error.mark.line):\(error.mark.column) \(error.description)"
        }
    }

    static func describe(_ node: YAMLNode, into out: inout String, depth: Int) {
        guard depth < 64 else { return }  // aliases may repeat a subtree; the top of it is enough
        out += String(repeating: " ", count: depth)
        out += "\(node.kind) \(node.mark.line):\(node.mark.column) \(node.tag ?? "-") \(node.resolvedTag) "
        out += "\(node.anchor ?? "-") \(node.style.map { "\($0)" } ?? "-") \(node.isFlow) "
        out += "\(node.text.map { $0.debugDescription } ?? "-") \(node.value.json(.compactSorted))\n"
        for item in node.items { describe(item, into: &out, depth: depth + 1) }
        for pair in node.pairs {
            describe(pair.key, into: &out, depth: depth + 1)
            describe(pair.value, into: &out, depth: depth + 1)
        }
    }

    static func expectSame(_ text: String, _ label: String, options: YAMLLoadOptions = .ansible) {
        for single in [false, true] {
            let threaded = outcome(text, single: single, pipelined: true, options: options)
            let direct = outcome(text, single: single, pipelined: false, options: options)
            #expect(threaded == direct, "\(label) (single: \(single))")
        }
    }

    @Test func recordedDocumentsLoadTheSameOnTheSecondThread() throws {
        struct Load: Decodable { var yaml: String }
        let cases = try JSONDecoder().decode([Load].self, from: Data(loadsFixtureJSON.utf8))
        #expect(cases.count > 100)
        for (n, c) in cases.enumerated() { Self.expectSame(c.yaml, "loads fixture \(n)") }
        for (n, c) in oracleScalars.enumerated() { Self.expectSame(c.yaml, "scalar \(n)") }
        for (n, c) in oracleDocuments.enumerated() { Self.expectSame(c.yaml, "document \(n)") }
        for (n, c) in oracleErrors.enumerated() { Self.expectSame(c.yaml, "error \(n)") }
        for (n, c) in oracleDuplicates.enumerated() {
            for mode in [YAMLLoadOptions.DuplicateKeys.warn, .error, .ignore] {
                Self.expectSame(c.yaml, "duplicates \(n) \(mode)", options: YAMLLoadOptions(duplicateKeys: mode))
            }
        }
    }

    /// Thousands of events: many batches, a full ring (the composer slower than libyaml at times).
    static func bigDocument(plays: Int) -> String {
        var text = ""
        for p in 0..<plays {
            text += "- name: play \(p)\n  hosts: all\n  vars: &v\(p) {a: 1, b: [x, 'y', \"z\"], c: ~}\n  tasks:\n"
            for t in 0..<20 {
                text += "    - name: task \(p).\(t)\n      command: echo \(t) creates=/tmp/\(t)\n"
                text += "      when: x is defined\n      vars: *v\(p)\n"
            }
        }
        return text
    }

    @Test func largeDocumentsAndTheirErrorsAreTheSame() {
        let big = Self.bigDocument(plays: 150)
        #expect(big.utf8.count > 256 * 1024)
        Self.expectSame(big, "big")
        // A syntax error at the end, in the middle, and a construction error early (later syntax errors win).
        Self.expectSame(big + "- [unclosed\n", "error at the end")
        let lines = big.split(separator: "\n", omittingEmptySubsequences: false)
        let middle = lines.count / 2
        var broken = lines
        broken[middle] = "  bad: : indentation"
        Self.expectSame(broken.joined(separator: "\n"), "error in the middle")
        Self.expectSame("- !!int notanumber\n" + big, "construction error first")
        Self.expectSame("- !!int notanumber\n" + big + "- [unclosed\n", "construction error, then syntax error")
        Self.expectSame(big + "\u{1}", "reader error at the end")
        Self.expectSame(big + "---\n" + big, "two documents")
    }

    /// The composer stops early (an undefined alias, a duplicate anchor) while libyaml still runs: the
    /// producer is cancelled and joined, and the next load works.
    @Test func composerErrorsStopTheProducer() {
        let big = Self.bigDocument(plays: 300)
        for _ in 0..<20 {
            Self.expectSame("- *nowhere\n" + big, "undefined alias first")
            Self.expectSame("- &a 1\n- &a 2\n" + big, "duplicate anchor first")
        }
        Self.expectSame(String(repeating: "[", count: 1001) + big, "nesting limit")
    }
}
