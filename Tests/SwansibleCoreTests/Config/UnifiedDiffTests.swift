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

    @Test func splitsLinesAsPython() {
        #expect(UnifiedDiff.splitLinesKeepingEnds("a\nb\r\nc\rd") == ["a\n", "b\r\n", "c\r", "d"])
        #expect(UnifiedDiff.splitLinesKeepingEnds("") == [])
        #expect(UnifiedDiff.splitLinesKeepingEnds("x\n\n") == ["x\n", "\n"])
    }
}
