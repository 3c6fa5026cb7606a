// Entry points for fuzzing the template front end (lexer, parser, compile-time checks).

extension TemplateEngine {
    /// What ``fuzzParse(_:)`` found for one input.
    public struct ParseOutcome: Sendable, Hashable {
        /// The input compiled as a template (as task arguments are templated).
        public var template: Bool
        /// It compiled as a template with `escape_backslashes` off (as the template module reads files).
        public var templateFile: Bool
        /// It compiled as a bare expression (as `when:` conditionals are).
        public var expression: Bool
    }

    /// A fuzz target for the template parser: takes arbitrary bytes (invalid UTF-8 is replaced, as a lenient
    /// reader would), and lexes, parses and checks them as a template (both backslash modes, `#jinja2:` headers
    /// included) and as an expression, without rendering anything. It never traps and always returns:
    /// nesting is bounded (``Parser`` stops at a fixed depth with Jinja2's recursion error), the lexer and parser
    /// consume at least one character or token per step, and every failure is a thrown, caught syntax error.
    /// Nothing is cached, so a fuzzer's inputs do not fill the engine's template cache.
    ///
    /// For libFuzzer: `@_cdecl("LLVMFuzzerTestOneInput") func f(_ p: UnsafePointer<UInt8>, _ n: Int) -> Int32 {
    /// _ = TemplateEngine.fuzzParse(UnsafeBufferPointer(start: p, count: n)); return 0 }`.
    @discardableResult
    public static func fuzzParse(_ bytes: some Collection<UInt8>) -> ParseOutcome {
        let source = String(decoding: bytes, as: UTF8.self)
        func ok(_ c: Compiled) -> Bool {
            if case .failed = c { return false }
            return true
        }
        return ParseOutcome(
            template: ok(compileForFuzzing(source, kind: .template, escapeBackslashes: true)),
            templateFile: ok(compileForFuzzing(source, kind: .template, escapeBackslashes: false)),
            expression: ok(compileForFuzzing(source, kind: .expression, escapeBackslashes: true)))
    }
}
