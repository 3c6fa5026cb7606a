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

    /// The same on random text made of the characters that matter (quotes, backslashes, `=`, spaces, newlines,
    /// Jinja2 delimiters, command options).
    @Test func asciiPathAgreesWithCharacterPathOnRandomText() {
        let pieces = [
            "a", "b", "=", "\\", "'", "\"", " ", "  ", "\n", "\t", "{{", "}}", "{%", "%}", "{#", "#}", "{", "}", "%", "#",
            "chdir", "creates", "x=", "=y", "\\=", "\\\n", "_raw_params=", "strip_empty_ends", "warn",
        ]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Int {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int(truncatingIfNeeded: (z ^ (z >> 31)) >> 1)
        }
        var disagreements = 0
        for _ in 0..<20_000 {
            var input = ""
            for _ in 0..<(next() % 12) { input += pieces[next() % pieces.count] }
            for checkRaw in [false, true] {
                let bytes = Result { () throws(ArgumentError) -> ValueDict in
                    try ArgumentSplitting.parseKeyValuesASCII(input, checkRaw: checkRaw)
                }
                let characters = Result { () throws(ArgumentError) -> ValueDict in
                    try ArgumentSplitting.parseKeyValuesCharacters(input, checkRaw: checkRaw)
                }
                var same = false
                switch (bytes, characters) {
                case (.success(let a), .success(let b)): same = Array(a.keys) == Array(b.keys) && Value.dict(a) == Value.dict(b)
                case (.failure(let a), .failure(let b)): same = a == b
                default: break
                }
                if !same && disagreements < 5 {
                    Issue.record("the paths disagree on \(input.debugDescription): \(bytes) vs \(characters)")
                }
                if !same { disagreements += 1 }
            }
        }
        #expect(disagreements == 0)
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
