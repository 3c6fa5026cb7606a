import Foundation
@testable import SwansibleCore
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

    /// The byte path for ASCII text gives what the Character path gives (keys in the same order).
    @Test func asciiPathAgreesWithCharacterPath() throws {
        var inputs = (Self.fixture["parse_kv"]?.listValue ?? []).compactMap { $0["input"]?.stringValue }
        inputs += [
            "a=1 b='two words' c=\"x y\"", "=lead x=1", "a\\=b", "a\\\\=b c", "k = v", "x=' padded '",
            "echo \\\n next", "line one\nline two=2\n", "  spaced   out  ", "q='a\\'b'", "{{ a }}={{ b }} c={{ d | e('=') }}",
            "creates=/x chdir=/tmp echo hi", "t=\"\"", "u='", "v=\"", "w=\\", "==", "a==b", "a=\\=b",
        ]
        #expect(inputs.count >= 55)
        for input in inputs where input.utf8.allSatisfy({ $0 < 0x80 && $0 != 13 }) {
            for checkRaw in [false, true] {
                let bytes = Result { () throws(ArgumentError) -> ValueDict in
                    try ArgumentSplitting.parseKeyValuesASCII(input, checkRaw: checkRaw)
                }
                let characters = Result { () throws(ArgumentError) -> ValueDict in
                    try ArgumentSplitting.parseKeyValuesCharacters(input, checkRaw: checkRaw)
                }
                switch (bytes, characters) {
                case (.success(let a), .success(let b)):
                    #expect(Array(a.keys) == Array(b.keys) && Value.dict(a) == Value.dict(b), "input: \(input)")
                case (.failure(let a), .failure(let b)):
                    #expect(a == b, "input: \(input)")
                default:
                    Issue.record("the paths disagree on \(input): \(bytes) vs \(characters)")
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
