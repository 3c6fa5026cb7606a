import Foundation
import SwansibleCore
import SwansibleData
import Testing

/// `--diff` hunks exactly as Python's difflib.unified_diff makes them (fixture recorded by
/// Tests/tools/gen_diff_cases.py: random edits, context 3 and 1, a 240-line input where autojunk matters).
@Suite struct UnifiedDiffTests {
    @Test func matchesPythonDifflib() throws {
        var url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        url.appendPathComponent("Fixtures/unified_diff.json")
        let cases = try #require(try Value(json: String(contentsOf: url, encoding: .utf8)).listValue)
        #expect(cases.count >= 100)
        var differing = 0
        for c in cases {
            let a = c["before"]!.listValue!.map { $0.stringValue! }
            let b = c["after"]!.listValue!.map { $0.stringValue! }
            let expected = c["diff"]!.listValue!.map { $0.stringValue! }
            let got = UnifiedDiff.lines(a, b, fromFile: "before: f", toFile: "after: f", context: c["context"]!.intValue!)
            if got != expected {
                differing += 1
                Issue.record("before \(a) after \(b): got \(got), difflib \(expected)")
            }
        }
        #expect(differing == 0)
    }

    /// What `--diff` prints for a result's `diff`, equal to ansible-core's `_get_diff` (fixture recorded by
    /// Tests/tools/gen_diff_display_cases.py): headers, dict values as JSON, missing final newlines, binary and
    /// size notes, `prepared` text, lists of diffs.
    @Test func displayMatchesAnsiblesDefaultCallback() throws {
        var url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        url.appendPathComponent("Fixtures/diff_display.json")
        let cases = try #require(try Value(json: String(contentsOf: url, encoding: .utf8)).listValue)
        #expect(cases.count >= 10)
        for c in cases {
            #expect(DiffText.render(c["diff"]!) == c["display"]!.stringValue!, "\(c["diff"]!.json())")
        }
        // Colors wrap each kind of line; context lines stay plain.
        let colored = DiffText.render(["before": "a\nb\n", "after": "a\nc\n"]) { line, kind in "<\(kind)>" + line }
        #expect(colored == "<removed>--- before\n<added>+++ after\n<hunk>@@ -1,2 +1,2 @@\n a\n<removed>-b\n<added>+c\n\n")
    }

    @Test func splitsLinesAsPython() {
        #expect(UnifiedDiff.splitLinesKeepingEnds("a\nb\r\nc\rd") == ["a\n", "b\r\n", "c\r", "d"])
        #expect(UnifiedDiff.splitLinesKeepingEnds("") == [])
        #expect(UnifiedDiff.splitLinesKeepingEnds("x\n\n") == ["x\n", "\n"])
    }
}
