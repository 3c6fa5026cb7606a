import Foundation
import SwansibleData
import Testing
import Synchronization

@testable import SwansibleTemplate

/// A variable resolver that records which names were asked for.
final class CountingVariables: TemplateVariables, @unchecked Sendable {
    let values: ValueDict
    private let lock = NSLock()
    private(set) var asked: [String] = []

    init(_ values: ValueDict) { self.values = values }

    func variable(_ name: String) -> Value? {
        lock.withLock { asked.append(name) }
        return values[name]
    }
}

private func render(_ t: String, _ vars: ValueDict = [:], engine: TemplateEngine = TemplateEngine()) throws -> Value {
    try engine.render(t, variables: VariableDictionary(vars))
}

private func failure(_ t: String, _ vars: ValueDict = [:], engine: TemplateEngine = TemplateEngine()) -> TemplateError?
{
    do {
        _ = try engine.render(t, variables: VariableDictionary(vars))
        return nil
    } catch {
        return error
    }
}

@Suite("Lexer")
struct LexerTests {
    func kinds(_ t: String) throws -> [TokenKind] {
        try Lexer.tokenize(template: t, escapeBackslashes: true).map(\.kind)
    }

    @Test("numbers follow Jinja2's integer and float rules")
    func numbers() throws {
        #expect(try kinds("{{ 1.5e3 }}") == [.variableBegin, .float(1500), .variableEnd, .eof])
        #expect(try kinds("{{ 0x1f }}") == [.variableBegin, .integer(31), .variableEnd, .eof])
        #expect(try kinds("{{ 1_000 }}") == [.variableBegin, .integer(1000), .variableEnd, .eof])
        // After a dot a number is never a float: x.0.1 is two item accesses.
        #expect(
            try kinds("{{ x.0.1 }}") == [
                .variableBegin, .name("x"), .op(.dot), .integer(0), .op(.dot), .integer(1), .variableEnd, .eof,
            ])
    }

    @Test("whitespace control strips around tags")
    func whitespaceControl() throws {
        #expect(
            try kinds("a  {{- b -}}  c") == [.data("a"), .variableBegin, .name("b"), .variableEnd, .data("c"), .eof])
        #expect(try kinds("{% if x %}\ny") == [.blockBegin, .name("if"), .name("x"), .blockEnd, .data("y"), .eof])
    }

    @Test("a closing brace inside an expression balances before the tag ends")
    func braces() throws {
        #expect(
            try kinds("{{ {}}}") == [.variableBegin, .op(.lbrace), .op(.rbrace), .variableEnd, .eof])
    }

    @Test("string literals keep backslashes in {{ }} and decode escapes elsewhere")
    func strings() throws {
        #expect(try kinds(#"{{ "a\nb" }}"#)[1] == .string(#"a\nb"#))
        #expect(try kinds(#"{% set x = "a\nb" %}"#)[4] == .string("a\nb"))
        #expect(try Lexer.tokenize(expression: #""\x41\u00e9\101""#).first?.kind == .string("AéA"))
    }
}

@Suite("Parser robustness")
struct RobustnessTests {
    /// Deterministic pseudo-random generator (xorshift), so failures reproduce.
    struct XorShift: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
    }

    static let pieces = [
        "{{", "}}", "{%", "%}", "{#", "#}", "-", "+", "(", ")", "[", "]", "{", "}", "'", "\"", "\\", "x", "1", "1.5",
        " ", "\n", "|", "is", "not", "if", "else", "for", "in", "endfor", "endif", "set", "=", ",", ":", ".", "~",
        "*", "**", "/", "//", "%", "<", ">=", "==", "!=", "raw", "endraw", "macro", "loop", "default", "length",
        "upper", "lookup", "range", "omit", "none", "true", "and", "or", "defined", "é", "\u{0}",
    ]

    @Test("random templates never crash or hang")
    func fuzz() async {
        let engine = TemplateEngine()
        let vars = VariableDictionary(["x": [1, 2], "loop": "{{ loop }}"])
        var rng = XorShift(state: 0x9E37_79B9_7F4A_7C15)
        var outcomes = 0
        for _ in 0..<3000 {
            let count = Int.random(in: 1...24, using: &rng)
            let text = (0..<count).map { _ in Self.pieces.randomElement(using: &rng)! }.joined()
            do {
                _ = try engine.render(text, variables: vars)
            } catch {
                #expect(!error.message.isEmpty)
            }
            do {
                _ = try engine.evaluateConditional(.string(text), variables: vars)
            } catch {
                #expect(!error.message.isEmpty)
            }
            outcomes += 1
        }
        #expect(outcomes == 3000)
    }

    static let deepTemplates: [String: String] = [
        "parentheses": "{{ " + String(repeating: "(", count: 5000) + "1" + String(repeating: ")", count: 5000) + " }}",
        "lists": "{{ " + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000) + " }}",
        "additions": "{{ " + String(repeating: "1 + ", count: 20000) + "1 }}",
        "attributes": "{{ x" + String(repeating: ".a", count: 20000) + " }}",
        "filters": "{{ x" + String(repeating: " | string", count: 5000) + " }}",
        "nots": "{{ " + String(repeating: "not ", count: 5000) + "x }}",
        "negations": "{{ " + String(repeating: "-", count: 5000) + "1 }}",
        "inline ifs": "{{ " + String(repeating: "1 if x else ", count: 5000) + "1 }}",
        "if statements": String(repeating: "{% if x %}", count: 2000) + String(repeating: "{% endif %}", count: 2000),
    ]

    @Test("deep nesting is an error, not a stack overflow", arguments: deepTemplates.keys.sorted())
    func deepNesting(_ name: String) async {
        let text = Self.deepTemplates[name]!
        // Off the main thread, where stacks are smaller.
        let error = await Task.detached { failure(text, ["x": 1]) }.value
        #expect(error?.message == "Recursive loop detected in template: maximum recursion depth exceeded")
    }

    @Test(
        "huge repetitions and paddings fail instead of exhausting memory",
        arguments: [
            "{{ 'a' * 10**12 }}", "{{ [1] * 10**10 }}", "{{ 'x' | center(10**12) }}", "{{ '%*d' % (10**12, 1) }}",
            "{{ '{:>99999999999}'.format(1) }}", "{{ range(10**12) | list }}", "{{ 'x'.zfill(10**11) }}",
            "{{ 'x' | indent(10**12) }}", "{{ '%.999999999f' % 1 }}", "{{ 2 ** 10 ** 12 }}", "{{ 'x'.ljust(1e300) }}",
            "{{ 1.5 | round(-10**12) }}",
        ])
    func resourceLimits(_ text: String) {
        let start = Date()
        _ = failure(text)
        #expect(Date().timeIntervalSince(start) < 5)
    }

    @Test("play_hosts is deprecated as in ansible-core 2.19; a local variable of that name is not")
    func playHostsDeprecation() throws {
        let seen = Mutex<[TemplateWarning]>([])
        let options = TemplateOptions(onWarning: { w in seen.withLock { $0.append(w) } })
        let engine = TemplateEngine()
        let value = try engine.render("{{ play_hosts | length }}", variables: VariableDictionary(["play_hosts": ["a", "b"]]),
                                      options: options)
        #expect(value == 2)
        let warnings = seen.withLock { $0 }
        #expect(warnings.count == 1)
        #expect(warnings.first?.isDeprecation == true)
        #expect(warnings.first?.message == "The `play_hosts` magic variable is deprecated. This feature will be removed from ansible-core version 2.23.")
        #expect(warnings.first?.helpText == "Use `ansible_play_batch` instead.")
        seen.withLock { $0 = [] }
        _ = try engine.render("{% for play_hosts in [1] %}{{ play_hosts }}{% endfor %}", variables: VariableDictionary([:]),
                              options: options)
        #expect(seen.withLock { $0 }.isEmpty)
    }

    @Test("nesting within the limit still works")
    func moderateNesting() throws {
        let text = "{{ " + String(repeating: "(", count: 30) + "1" + String(repeating: ")", count: 30) + " }}"
        #expect(try render(text) == 1)
        #expect(try render("{{ " + String(repeating: "1 + ", count: 50) + "1 }}") == 51)
    }

    @Test("recursive macros stop with an error")
    func macroRecursion() {
        let error = failure("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}")
        #expect(error?.message.hasPrefix("Recursive loop detected") == true)
    }
}

@Suite("Engine API")
struct EngineAPITests {
    @Test("text without template syntax comes back unchanged")
    func plainText() throws {
        #expect(try render("just text") == .string("just text"))
        #expect(try render("{ not } a template") == .string("{ not } a template"))
    }

    @Test("unsafe values are never templated")
    func unsafe() throws {
        let vars: ValueDict = ["u": .unsafe("{{ n }}"), "n": 1]
        #expect(try render("{{ u }}", vars) == .unsafe("{{ n }}"))
        let engine = TemplateEngine()
        #expect(try engine.template(.unsafe("{{ n }}"), variables: VariableDictionary(vars)) == .unsafe("{{ n }}"))
        #expect(TemplateEngine.isTemplate(.unsafe("{{ n }}")) == false)
    }

    @Test("a result that looks like a template is marked unsafe, so it is not templated again")
    func resultsAreUnsafe() throws {
        let out = try render("{{ '{{' }} n }}", ["n": 1])
        #expect(out.isUnsafe)
        #expect(out.stringValue == "{{ n }}")
        #expect(try render("{{ 'plain' }}").isUnsafe == false)
    }

    @Test("isTemplate looks into containers")
    func isTemplate() {
        #expect(TemplateEngine.isTemplate("a {{ b }}"))
        #expect(TemplateEngine.isTemplate(["x", ["k": "{% if %}"]]))
        #expect(!TemplateEngine.isTemplate(["x", ["k": "{ plain }"], 1]))
        #expect(TemplateEngine.isPossiblyTemplate("{# c #}"))
    }

    @Test("omit: dropped from containers, an error or a replacement at the top")
    func omit() throws {
        let engine = TemplateEngine()
        let vars = VariableDictionary(["n": 1])
        #expect(throws: TemplateError.self) { try engine.render("{{ omit }}", variables: vars) }
        do {
            _ = try engine.render("{{ omit }}", variables: vars)
        } catch {
            #expect(error.kind == .omitted)
        }
        let replaced = try engine.render(
            "{{ omit }}", variables: vars, options: TemplateOptions(valueForOmit: "gone"))
        #expect(replaced == "gone")
        let args = try engine.template(["a": "{{ omit }}", "b": "{{ n }}"], variables: vars)
        #expect(args == ["b": 1])
        #expect(try engine.render("{{ omit }}x", variables: vars) == "x")
    }

    @Test("variables are templated lazily: only what is used")
    func laziness() throws {
        let vars = CountingVariables([
            "d": ["ok": 1, "broken": "{{ nope }}"],
            "unused": "{{ also_nope }}",
        ])
        let engine = TemplateEngine()
        #expect(try engine.render("{{ d.ok }}", variables: vars) == 1)
        #expect(vars.asked == ["d"])
    }

    @Test("compiled templates are shared safely between threads")
    func concurrency() async throws {
        let engine = TemplateEngine()
        let results = await withTaskGroup(of: Bool.self) { group in
            for i in 0..<400 {
                group.addTask {
                    let vars = VariableDictionary(["i": .int(i), "l": [1, 2, 3]])
                    let out = try? engine.render("{{ i * 2 }}-{{ l | map('string') | join(',') }}", variables: vars)
                    return out == .string("\(i * 2)-1,2,3")
                }
            }
            var all: [Bool] = []
            for await r in group { all.append(r) }
            return all
        }
        #expect(results.count == 400 && results.allSatisfy { $0 })
    }

    @Test("conditionals name the origin of a non-boolean result")
    func conditionalOrigin() {
        let engine = TemplateEngine()
        do {
            _ = try engine.evaluateConditional("'x'", variables: VariableDictionary(), origin: "site.yml:3:7")
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .brokenConditional)
            #expect(
                error.message
                    == "Conditional result (True) was derived from value of type 'str' at 'site.yml:3:7'. "
                    + "Conditionals must have a boolean result.")
        }
    }

    @Test("errors carry the template and, for syntax errors, the line")
    func errorDetails() {
        let error = failure("line one\n{{ 1 + }}")
        #expect(error?.kind == .syntax)
        #expect(error?.template == "line one\n{{ 1 + }}")
        #expect(error?.line == 2)
    }

    @Test("warnings reach the callback")
    func warnings() throws {
        let box = WarningBox()
        let engine = TemplateEngine()
        let ok = try engine.evaluateConditional(
            "{{ 1 == 1 }}", variables: VariableDictionary(), options: TemplateOptions(onWarning: { box.add($0) }))
        #expect(ok)
        #expect(box.all.map(\.isDeprecation) == [true])
    }
}

@Suite("Hooks")
struct HookTests {
    final class Seen: @unchecked Sendable {
        var options: [YAMLDumpOptions] = []
    }

    @Test("to_yaml and to_nice_yaml pass their options to the hook")
    func toYAML() throws {
        let seen = Seen()
        let engine = TemplateEngine(
            hooks: TemplateHooks(toYAML: { value, options in
                seen.options.append(options)
                return "yaml:\(value.json())"
            }))
        let vars = VariableDictionary(["d": ["a": 1]])
        #expect(try engine.render("{{ d | to_yaml }}", variables: vars) == "yaml:{\"a\": 1}")
        #expect(try engine.render("{{ d | to_nice_yaml(indent=2) }}", variables: vars) == "yaml:{\"a\": 1}")
        #expect(seen.options.map(\.nice) == [false, true])
        #expect(seen.options.map(\.indent) == [2, 2])
        #expect(seen.options[0].defaultFlowStyle == nil)
        #expect(seen.options[1].defaultFlowStyle == false)
    }

    @Test("from_yaml uses the hook; without one the filter fails clearly")
    func fromYAML() throws {
        let engine = TemplateEngine(hooks: TemplateHooks(fromYAML: { text in .string("parsed:" + text) }))
        #expect(try engine.render("{{ 'a: 1' | from_yaml }}", variables: VariableDictionary()) == "parsed:a: 1")
        let error = failure("{{ 'a: 1' | from_yaml }}")
        #expect(error?.message == "The filter plugin 'ansible.builtin.from_yaml' failed: from_yaml is not available")
    }

    @Test("lookups go to the provider; the public lookup API runs with_* lookups")
    func lookups() throws {
        let engine = TemplateEngine(hooks: TemplateHooks(lookups: FakeLookups(files: ["/f": "content\n"])))
        let vars = VariableDictionary(["n": 1])
        #expect(try engine.render("{{ lookup('file', '/f') }}", variables: vars) == "content")
        // Provider results are untrusted: never templated.
        #expect(try engine.lookup("items", terms: [[1, 2], 3], variables: vars) == [1, 2, 3])
        #expect(try engine.lookup("file", terms: ["/f"], variables: vars) == ["content"])
        #expect(try engine.lookup("sequence", terms: ["1-3"], variables: vars) == ["1", "2", "3"])
        do {
            _ = try engine.lookup("nope", terms: [], variables: vars)
            Issue.record("expected an error")
        } catch {
            #expect(error.message == "The lookup plugin 'nope' was not found.")
        }
        let bare = TemplateEngine()
        #expect(
            failure("{{ lookup('file', '/f') }}", engine: bare)?.message
                == "The lookup plugin 'file' was not found.")
    }

    @Test("includes load templates through the hook and see the caller's variables")
    func include() throws {
        let engine = TemplateEngine(
            hooks: TemplateHooks(loadTemplate: { name in
                guard name == "part.j2" else { throw LookupError.failed("no such template") }
                return "[{{ item }}]"
            }))
        let out = try engine.render(
            "{% for item in [1, 2] %}{% include 'part.j2' %}{% endfor %}", variables: VariableDictionary(),
            options: TemplateOptions(escapeBackslashes: false))
        #expect(out == "[1][2]")
        #expect(
            try engine.render("{% include 'missing.j2' ignore missing %}ok", variables: VariableDictionary())
                == "ok")
    }

    @Test("the env lookup reads the configured environment")
    func environment() throws {
        let engine = TemplateEngine(hooks: TemplateHooks(environment: ["HOME": "/home/x"]))
        #expect(
            try engine.render("{{ lookup('env', 'HOME') }} {{ '~/a' | expanduser }}", variables: VariableDictionary())
                == "/home/x /home/x/a")
    }
}

@Suite("Python semantics helpers")
struct PythonTests {
    @Test("repr of strings picks quotes and escapes as Python does")
    func stringRepr() {
        #expect(pythonStringRepr("it's") == "\"it's\"")
        #expect(pythonStringRepr("a\"b'c") == "'a\"b\\'c'")
        #expect(pythonStringRepr("tab\there\u{1}") == "'tab\\there\\x01'")
        #expect(pythonStringRepr("é") == "'é'")
    }

    @Test("printf-style float formatting rounds correctly")
    func floats() throws {
        #expect(
            try pyPercentFormat("%.2f|%e|%g|%g", .list([2.675, 12345.678, 0.0001, 1e20]))
                == "2.67|1.234568e+04|0.0001|1e+20")
        #expect(pyRound(2.5, 0) == 2)
        #expect(pyRound(0.125, 2) == 0.12)
    }

    @Test("regex translation covers Python-only syntax")
    func regexTranslation() throws {
        #expect(try PyRegex("(?P<x>a)(?P=x)").search("aa")?.groups == ["aa", "a"])
        #expect(try PyRegex("a$").search("a\n") != nil)
        #expect(try PyRegex("a\\Z").search("a\n") == nil)
        #expect(try PyRegex("x{").search("x{") != nil)
        #expect(try PyRegex("[]a]").search("]") != nil)
    }
}

/// Variables with `hostvars` whose values belong to other hosts.
struct HostResolver: TemplateVariables {
    var vars: ValueDict
    var hosts: [String: ValueDict]

    func variable(_ name: String) -> Value? {
        if name == "hostvars" {
            var d = ValueDict()
            for h in hosts.keys.sorted() { d[h] = .dict(hosts[h]!) }
            return .dict(d)
        }
        return vars[name]
    }

    func hostVariables(_ host: String) -> (any TemplateVariables)? { hosts[host].map { VariableDictionary($0) } }
}

@Suite("hostvars")
struct HostvarsTests {
    let resolver = HostResolver(
        vars: ["inventory_hostname": "ctl"],
        hosts: [
            "web1": [
                "inventory_hostname": "web1", "greeting": "hi {{ inventory_hostname }}",
                "nested": ["a": "{{ inventory_hostname }}", "list": ["{{ greeting }}"]],
                "broken": "{{ nope }}",
            ]
        ])

    @Test("templates under hostvars[host] use that host's variables")
    func otherHost() throws {
        let engine = TemplateEngine()
        #expect(
            try engine.render(
                "{{ hostvars.web1.greeting }} {{ hostvars['web1'].nested.a }} {{ inventory_hostname }}",
                variables: resolver) == "hi web1 web1 ctl")
        #expect(try engine.render("{{ hostvars.web1.nested.list[0] }}", variables: resolver) == "hi web1")
        #expect(try engine.render("{{ hostvars.web1.get('greeting') }}", variables: resolver) == "hi web1")
        #expect(try engine.render("{{ hostvars.web1.broken | default('d') }}", variables: resolver) == "d")
        #expect(
            try engine.render("{{ hostvars['web1'].nested }}", variables: resolver)
                == ["a": "web1", "list": ["hi web1"]])
    }
}

/// A provider serving files from a dictionary (right-stripped, as the file lookup does): checks that the
/// engine hands lookups to its provider and treats the results as untrusted.
struct FakeLookups: LookupProvider {
    var files: [String: String]
    func lookup(name: String, terms: [Value], options: ValueDict) throws -> [Value] {
        guard name == "file" else { throw LookupError.notFound }
        return try terms.map { term in
            let path = term.stringValue ?? ""
            guard let content = files[path] else { throw LookupError.failed("no such file \(path)") }
            var text = Substring(content)
            while let last = text.last, last.isWhitespace { text.removeLast() }
            return .string(String(text))
        }
    }
}
