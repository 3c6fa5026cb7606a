// libFuzzer target: the template engine. Every input goes through the lexer, parser and checker (as a template
// and as a bare expression); inputs that cannot run long are also rendered with no variables. Built by
// Tests/fuzz/run, never by `swift build`.
//
// The renderer has no step budget of its own (ansible-core has none either: `range(10**7)` in a loop runs as long
// as it takes), so rendering is limited here to inputs that cannot loop or build huge values: no `for`, no
// `range`, no `*` (repetition, power), no `recursive`, no `lipsum`, and no number literal longer than three digits
// (widths for `center`, `indent`, `format`, ...). Everything else, macros included, is rendered.
@testable import SwansibleTemplate
import SwansibleData

let engine = TemplateEngine()

func renderable(_ text: String) -> Bool {
    for word in ["for", "range", "*", "recursive", "lipsum", "cycler", "joiner"] where text.contains(word) {
        return false
    }
    var digits = 0
    for c in text.utf8 {
        if c >= 0x30 && c <= 0x39 {
            digits += 1
            if digits > 3 { return false }
        } else {
            digits = 0
        }
    }
    return true
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTemplate(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    _ = engine.compile(text, kind: .template, escapeBackslashes: false)
    _ = engine.compile(text, kind: .expression, escapeBackslashes: false)
    if renderable(text) {
        let variables = VariableDictionary()
        _ = try? engine.render(text, variables: variables)
        _ = try? engine.evaluateExpression(text, variables: variables)
    }
    return 0
}
