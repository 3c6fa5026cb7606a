import SwansibleData
import SwansibleYAML
import Testing

/// Exact equality: ``Value/unsafe(_:)`` differs from ``Value/string(_:)``, `1` from `1.0`, NaN equals NaN,
/// and dictionary order matters.
func identical(_ a: Value, _ b: Value) -> Bool {
    switch (a, b) {
    case (.null, .null): return true
    case let (.bool(x), .bool(y)): return x == y
    case let (.int(x), .int(y)): return x == y
    case let (.float(x), .float(y)): return x == y || (x.isNaN && y.isNaN)
    case let (.string(x), .string(y)), let (.unsafe(x), .unsafe(y)): return x == y
    case let (.list(x), .list(y)): return x.count == y.count && zip(x, y).allSatisfy(identical)
    case let (.dict(x), .dict(y)):
        return x.keys.elementsEqual(y.keys) && zip(x.values, y.values).allSatisfy(identical)
    default: return false
    }
}

/// Tables recorded from ansible-core by Tests/tools/gen_yaml_expectations.py.
@Suite struct OracleTests {
    @Test(arguments: oracleScalars.indices)
    func scalarResolution(_ i: Int) throws {
        let (yaml, expected) = oracleScalars[i]
        if let expected {
            let value = try YAML.loadValue(text: yaml, file: "t.yml")
            #expect(identical(value, expected), "\(yaml.debugDescription) -> \(value), expected \(expected)")
        } else {
            #expect(throws: YAMLError.self, "\(yaml.debugDescription) should fail") {
                try YAML.loadValue(text: yaml, file: "t.yml")
            }
        }
    }

    @Test func scalarTableIsLargeEnough() {
        #expect(oracleScalars.count >= 40)
    }

    @Test(arguments: oracleDocuments.indices)
    func documents(_ i: Int) throws {
        let (yaml, expected) = oracleDocuments[i]
        let value = try YAML.loadValue(text: yaml, file: "t.yml")
        #expect(identical(value, expected), "\(yaml.debugDescription) -> \(value.json()), expected \(expected.json())")
    }

    @Test(arguments: oracleErrors.indices)
    func errors(_ i: Int) {
        let (yaml, message, line, column, help) = oracleErrors[i]
        do {
            let value = try YAML.loadValue(text: yaml, file: "bad.yml")
            Issue.record("\(yaml.debugDescription) loaded as \(value)")
        } catch {
            #expect(error.message == message, "\(yaml.debugDescription)")
            if let column {
                #expect(
                    error.mark == SourceMark(file: "bad.yml", line: line, column: column), "\(yaml.debugDescription)")
            }
            #expect(error.help == help, "\(yaml.debugDescription)")
        }
    }

    @Test(arguments: oracleDuplicates.indices)
    func duplicateKeys(_ i: Int) throws {
        let (yaml, expected, warnings) = oracleDuplicates[i]
        let document = try #require(try YAMLDocument.parseSingle(yaml, file: "dup.yml"))
        #expect(identical(document.value, expected), "\(yaml.debugDescription) -> \(document.value.json())")
        // ansible-core gives a warning about a non-string key no position when the key object is a shared
        // singleton (True); swansible always has one, so compare positions only where ansible-core has them.
        #expect(document.warnings.count == warnings.count, "\(document.warnings)")
        for (got, want) in zip(document.warnings, warnings) {
            #expect(got.message == want.0)
            if let line = want.1, let column = want.2 {
                #expect(got.mark == SourceMark(file: "dup.yml", line: line, column: column))
            }
            #expect(got.help == want.3)
            #expect(got.kind == .warning)
        }
    }

    @Test(arguments: oracleDumps.indices)
    func dumps(_ i: Int) {
        let (value, toYAML, toNiceYAML) = oracleDumps[i]
        #expect(value.yamlString() == toYAML)
        #expect(value.yamlString(.toNiceYAML) == toNiceYAML)
    }
}
