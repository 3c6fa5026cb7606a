import Foundation
import SwansibleData
import SwansibleYAML
import Testing

/// Hundreds of small documents recorded from ansible-core by Tests/tools/gen_yaml_expectations.py into
/// Fixtures/LoadsFixture.swift (value or error) and Fixtures/DumpsFixture.swift (to_yaml and friends).
@Suite struct DifferentialTests {
    struct Load: Decodable {
        var yaml: String
        var value: String?
        var error: String?
        var line: Int?
        var column: Int?
    }

    struct Dump: Decodable {
        var yaml: String
        var to_yaml: String
        var to_nice_yaml: String
        var indent3_width20: String
        var flow: String
    }

    static func fixture<T: Decodable>(_ json: String) throws -> [T] {
        try JSONDecoder().decode([T].self, from: Data(json.utf8))
    }

    @Test func loadsMatchAnsible() throws {
        let cases: [Load] = try Self.fixture(loadsFixtureJSON)
        #expect(cases.count > 500)
        for c in cases {
            do {
                let value = try YAML.loadValue(text: c.yaml, file: "f.yml")
                #expect(describe(value) == c.value, "\(c.yaml.debugDescription)")
            } catch {
                #expect(error.message == c.error, "\(c.yaml.debugDescription)")
                // ansible-core has no position for errors that are plain Python exceptions.
                if let line = c.line, let column = c.column {
                    #expect(error.mark.line == line && error.mark.column == column, "\(c.yaml.debugDescription)")
                }
            }
        }
    }

    @Test func dumpsMatchAnsible() throws {
        let cases: [Dump] = try Self.fixture(dumpsFixtureJSON)
        #expect(cases.count > 300)
        for c in cases {
            let value = try YAML.loadValue(text: c.yaml, file: "f.yml")
            #expect(value.yamlString() == c.to_yaml, "\(c.yaml.debugDescription)")
            #expect(value.yamlString(.toNiceYAML) == c.to_nice_yaml, "\(c.yaml.debugDescription)")
            #expect(value.yamlString(.init(indent: 3, width: 20)) == c.indent3_width20, "\(c.yaml.debugDescription)")
            #expect(value.yamlString(.init(defaultFlowStyle: true)) == c.flow, "\(c.yaml.debugDescription)")
        }
    }
}

/// A value written as the generator writes Swift literals (`.int(1)`, `.unsafe("x")`, `.dict(["k": …])`).
func describe(_ v: Value) -> String {
    func quoted(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if u.value < 0x20 || u.value >= 0x7F {
                    out += "\\u{" + String(u.value, radix: 16) + "}"
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
    switch v {
    case .null: return ".null"
    case .bool(let b): return ".bool(\(b))"
    case .int(let i): return ".int(\(i))"
    case .float(let d):
        if d.isNaN { return ".float(.nan)" }
        if d.isInfinite { return d < 0 ? ".float(-.infinity)" : ".float(.infinity)" }
        return ".float(\(pythonFloatRepr(d)))"
    case .string(let s): return ".string(\(quoted(s)))"
    case .unsafe(let s): return ".unsafe(\(quoted(s)))"
    case .list(let l): return ".list([" + l.map(describe).joined(separator: ", ") + "])"
    case .dict(let d):
        if d.isEmpty { return ".dict([:])" }
        return ".dict([" + d.map { quoted($0.key) + ": " + describe($0.value) }.joined(separator: ", ") + "])"
    }
}
