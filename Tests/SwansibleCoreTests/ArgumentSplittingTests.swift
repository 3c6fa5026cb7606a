import Foundation
import SwansibleCore
import SwansibleData
import Testing

/// Free-form arguments split exactly as ansible-core 2.19 splits them (fixture recorded from ansible-core
/// by Tests/tools/gen_kv_cases.py).
@Suite struct ArgumentSplittingTests {
    static let fixture: Value = {
        var url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        url.appendPathComponent("Fixtures/argument_splitting.json")
        let text = (try? String(contentsOf: url, encoding: .utf8)) ?? "{}"
        return (try? Value(json: text)) ?? [:]
    }()

    @Test func parseKeyValuesMatchesAnsible() throws {
        let cases = try #require(Self.fixture["parse_kv"]?.listValue)
        #expect(cases.count >= 40)
        for c in cases {
            let input = c["input"]!.stringValue!
            let checkRaw = c["check_raw"]!.boolValue!
            if let expected = c["expected"] {
                let got = try ArgumentSplitting.parseKeyValues(input, checkRaw: checkRaw)
                #expect(Value.dict(got) == expected, "input: \(input) check_raw: \(checkRaw)")
            } else {
                #expect(throws: ArgumentError.self, "input: \(input)") {
                    try ArgumentSplitting.parseKeyValues(input, checkRaw: checkRaw)
                }
            }
        }
    }

    @Test func shlexSplitMatchesPython() throws {
        let cases = try #require(Self.fixture["shlex"]?.listValue)
        for c in cases {
            let input = c["input"]!.stringValue!
            let got = try ArgumentSplitting.shlexSplit(input)
            #expect(Value.list(got.map(Value.string)) == c["expected"]!, "input: \(input)")
        }
    }

    @Test func unbalancedQuotesAreErrors() {
        #expect(throws: ArgumentError.self) { try ArgumentSplitting.parseKeyValues("echo \"open", checkRaw: true) }
        #expect(throws: ArgumentError.self) { try ArgumentSplitting.shlexSplit("echo 'open") }
    }
}
