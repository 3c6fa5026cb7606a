import Foundation
import SwansibleTemplate
import Testing

/// The parser's fuzz entry point takes any bytes and returns: deep nesting, unterminated constructs, invalid
/// UTF-8 and random token soup are refused as syntax errors, never a trap or a hang.
@Suite("Template parser fuzz entry point")
struct FuzzTests {
    @Test("valid templates and expressions compile; the outcome tells which forms")
    func valid() {
        let t = TemplateEngine.fuzzParse(Array("{% for i in l %}{{ i | upper }}{% endfor %}".utf8))
        #expect(t.template && t.templateFile && !t.expression)
        let e = TemplateEngine.fuzzParse(Array("a.b[1] ~ (c if d else e) | default('x')".utf8))
        #expect(e.expression)
    }

    @Test("pathological inputs are syntax errors, not crashes")
    func pathological() {
        let inputs: [[UInt8]] = [
            Array(("{{ " + String(repeating: "(", count: 20_000) + " }}").utf8),
            Array(("{{ " + String(repeating: "[", count: 20_000)).utf8),
            Array(String(repeating: "{% if x %}", count: 5_000).utf8),
            Array(("{{ " + String(repeating: "-", count: 20_000) + "1 }}").utf8),
            Array(("{{ x" + String(repeating: ".a", count: 20_000) + " }}").utf8),
            Array(("{{ 1" + String(repeating: " | f", count: 20_000) + " }}").utf8),
            Array(("{{ " + String(repeating: "not ", count: 20_000) + "x }}").utf8),
            Array(String(repeating: "{{", count: 20_000).utf8),
            Array(String(repeating: "{#", count: 20_000).utf8),
            Array(("{{ '" + String(repeating: "\\", count: 10_001)).utf8),
            [0xFF, 0xFE, 0x7B, 0x7B, 0xC3, 0x28, 0x7D, 0x7D],
            Array("#jinja2: trim_blocks: 'x\n{{ 1 }}".utf8),
            [],
        ]
        for input in inputs {
            let outcome = TemplateEngine.fuzzParse(input)
            #expect(!outcome.expression || input.isEmpty == false)
        }
        #expect(!TemplateEngine.fuzzParse(inputs[0]).template)
        #expect(!TemplateEngine.fuzzParse(inputs[2]).template)
    }

    @Test("random token soup (seeded) never traps")
    func tokenSoup() {
        let pieces = [
            "{{", "}}", "{%", "%}", "{#", "#}", "-", "+", "if", "else", "elif", "endif", "for", "in", "endfor", "set",
            "x", "1", "'s'", "\"", "(", ")", "[", "]", "{", "}", ",", ":", ".", "|", "is", "not", "and", "or", "~", "*",
            "**", "//", "%", "==", "<=", "macro", "endmacro", "call", "raw", "endraw", "\n", " ", "\\", "é", "#jinja2:",
            "filter", "endfilter", "with", "endwith", "import", "from", "as", "lookup", "default", "=", "!",
        ]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(truncatingIfNeeded: state >> 33)
        }
        var compiled = 0
        for _ in 0..<3_000 {
            let n = next() % 40
            var s = ""
            for _ in 0..<n { s += pieces[next() % pieces.count] }
            if TemplateEngine.fuzzParse(Array(s.utf8)).template { compiled += 1 }
        }
        // Some soups are valid templates (plain text is); most are not.
        #expect(compiled > 0 && compiled < 3_000)
    }
}
