import Foundation
import SwansibleCore
import SwansibleData
import Testing

@testable import SwansibleTemplate

/// One case recorded by Tests/tools/gen_template_cases.py from ansible-core 2.19.14.
struct RecordedCase: CustomStringConvertible {
    var index: Int
    var kind: String
    var input: Value
    var vars: ValueDict
    var env: [String: String]
    var expected: Value?
    var expectedType: String?
    var error: String?
    var errorType: String?
    var messages: [String]
    var knownGap: String?
    var escapeBackslashes: Bool?
    var overrides: ValueDict
    var files: [String: String]
    var templates: [String: String]

    var description: String { "#\(index) \(kind) \(input.json(.compactSorted))" }
}

enum Fixture {
    static let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/cases.json")

    static let cases: [RecordedCase] = {
        guard let text = try? String(contentsOf: url, encoding: .utf8), let doc = try? Value(json: text),
            case .list(let items)? = doc["cases"]
        else { return [] }
        let shared = doc["vars"]?.dictValue ?? [:]
        return items.enumerated().map { i, c in
            var vars = shared
            for (k, v) in c["vars"]?.dictValue ?? [:] { vars[k] = v }
            var env: [String: String] = [:]
            for (k, v) in c["env"]?.dictValue ?? [:] { env[k] = v.stringValue }
            return RecordedCase(
                index: i, kind: c["kind"]?.stringValue ?? "template", input: c["input"] ?? .null,
                vars: vars, env: env, expected: c["value"], expectedType: c["type"]?.stringValue,
                error: c["error"]?.stringValue, errorType: c["errorType"]?.stringValue,
                messages: c["messages"]?.listValue?.compactMap(\.stringValue) ?? [],
                knownGap: c["known_gap"]?.stringValue, escapeBackslashes: c["escape_backslashes"]?.boolValue,
                overrides: c["overrides"]?.dictValue ?? [:],
                files: (c["files"]?.dictValue ?? [:]).reduce(into: [:]) { $0[$1.key] = $1.value.stringValue },
                templates: (c["templates"]?.dictValue ?? [:]).reduce(into: [:]) { $0[$1.key] = $1.value.stringValue })
        }
    }()
}

/// Variables as the generator hands them to ansible-core: strings are trusted templates, and
/// `{"__unsafe__": s}` stands for an `!unsafe` string.
func fixtureValue(_ v: Value) -> Value {
    switch v {
    case .dict(let d):
        if d.count == 1, let s = d["__unsafe__"]?.stringValue { return .unsafe(s) }
        return .dict(d.mapValues(fixtureValue))
    case .list(let l): return .list(l.map(fixtureValue))
    default: return v
    }
}

/// The Python type name of a finalized result.
func pythonType(_ v: Value) -> String { v.pythonTypeName }

/// Structural equality that also keeps bool, int and float apart (Python's `1 == True == 1.0` is not enough).
func sameData(_ a: Value, _ b: Value) -> Bool {
    switch (a, b) {
    case (.list(let x), .list(let y)): return x.count == y.count && zip(x, y).allSatisfy(sameData)
    case (.dict(let x), .dict(let y)):
        return x.count == y.count && x.keys.elementsEqual(y.keys) && x.keys.allSatisfy { sameData(x[$0]!, y[$0]!) }
    case (.float(let x), .float(let y)): return x == y || (x.isNaN && y.isNaN)
    default: return a.pythonTypeName == b.pythonTypeName && a == b
    }
}

final class WarningBox: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [TemplateWarning] = []
    func add(_ w: TemplateWarning) { lock.withLock { items.append(w) } }
    var all: [TemplateWarning] { lock.withLock { items } }
}

/// Writes a case's `files` where the recorder wrote them (atomically, so parallel cases that read the same
/// file never see it half written).
func placeFixtureFiles(_ files: [String: String]) throws {
    for (path, content) in files {
        let url = URL(fileURLWithPath: path)
        if (try? String(contentsOf: url, encoding: .utf8)) == content { continue }
        try FileManager.default.createDirectory(
            at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(content.utf8).write(to: url, options: .atomic)
    }
}

@Suite("Cases recorded from ansible-core 2.19.14")
struct FixtureTests {
    @Test("the fixture is present and large")
    func fixturePresent() {
        #expect(Fixture.cases.count >= 150)
    }

    @Test("every recorded case", arguments: Fixture.cases)
    func recorded(_ c: RecordedCase) throws {
        if let gap = c.knownGap {
            withKnownIssue(Comment(rawValue: gap)) { check(c) }
        } else {
            check(c)
        }
    }

    func check(_ c: RecordedCase) {
        let templates = c.templates
        do {
            try placeFixtureFiles(c.files)
        } catch {
            Issue.record("\(c): cannot write its files: \(error)")
        }
        // The core's hooks: controller lookups (file, pipe, fileglob, …) and the YAML filters.
        var hooks = makeCoreTemplateHooks(searchPaths: ["/tmp/swansible-template-fixture"])
        hooks.environment = c.env.isEmpty ? [:] : c.env
        hooks.loadTemplate = { name in
            // The core's loader words this as Jinja2's TemplateNotFound does.
            guard let t = templates[name] else {
                throw LookupError.failed("'\(name)' not found in search path: '.'")
            }
            return t
        }
        let engine = TemplateEngine(hooks: hooks)
        let variables = VariableDictionary(c.vars.mapValues(fixtureValue))
        let warnings = WarningBox()
        var options = TemplateOptions(onWarning: { warnings.add($0) })
        if let e = c.escapeBackslashes { options.escapeBackslashes = e }
        for (k, v) in c.overrides {
            switch k {
            case "trim_blocks": options.overrides.trimBlocks = v.isTruthy
            case "lstrip_blocks": options.overrides.lstripBlocks = v.isTruthy
            case "keep_trailing_newline": options.overrides.keepTrailingNewline = v.isTruthy
            case "newline_sequence": options.overrides.newlineSequence = v.stringValue ?? "\n"
            case "block_start_string": options.overrides.blockStart = v.stringValue ?? ""
            case "block_end_string": options.overrides.blockEnd = v.stringValue ?? ""
            case "variable_start_string": options.overrides.variableStart = v.stringValue ?? ""
            case "variable_end_string": options.overrides.variableEnd = v.stringValue ?? ""
            case "comment_start_string": options.overrides.commentStart = v.stringValue ?? ""
            case "comment_end_string": options.overrides.commentEnd = v.stringValue ?? ""
            default: Issue.record("unknown override \(k)")
            }
        }
        var result: Value? = nil
        var failure: TemplateError? = nil
        do {
            switch c.kind {
            case "conditional":
                result = .bool(try engine.evaluateConditional(c.input, variables: variables, options: options))
            case "value":
                result = try engine.template(fixtureValue(c.input), variables: variables, options: options)
            default:
                result = try engine.render(c.input.stringValue ?? "", variables: variables, options: options)
            }
        } catch {
            failure = error
        }
        if let expectedError = c.error {
            #expect(failure?.message == expectedError, "\(c): got \(result.map { $0.json() } ?? "nil")")
            let cls = failure.map { errorClass($0.kind) }
            if cls == "AnsibleTemplatePluginError" {
                #expect(c.errorType?.hasPrefix("AnsibleTemplatePlugin") == true, "\(c): \(c.errorType ?? "")")
            } else {
                #expect(cls == c.errorType, "\(c)")
            }
        } else if let expected = c.expected {
            #expect(failure == nil, "\(c): \(failure?.message ?? "")")
            if let result {
                #expect(sameData(result, expected), "\(c): got \(result.json()) want \(expected.json())")
                // A datetime result becomes its ISO text, as ansible-core's JSON encoder writes it.
                let expectedType = c.expectedType == "datetime" ? "str" : c.expectedType
                #expect(pythonType(result) == expectedType, "\(c)")
            }
        }
        // Warnings and deprecations ansible-core displayed are reported too, except its notes about converting
        // internal Python types (Markup, GroupTuple) that have no counterpart here.
        let got = warnings.all.map { ($0.isDeprecation ? "deprecated: " : "warning: ") + $0.message }
        let want = c.messages.filter { !$0.contains("is unsupported in variable storage, converting to") }
        #expect(got == want, "\(c)")
    }

    func errorClass(_ kind: TemplateError.Kind) -> String {
        switch kind {
        case .syntax: return "AnsibleTemplateSyntaxError"
        case .undefined: return "AnsibleUndefinedVariable"
        case .runtime: return "AnsibleTemplateError"
        case .plugin: return "AnsibleTemplatePluginError"
        case .omitted: return "AnsibleValueOmittedError"
        case .brokenConditional: return "AnsibleBrokenConditionalError"
        case .untrusted: return "TemplateTrustCheckFailedError"
        }
    }
}
