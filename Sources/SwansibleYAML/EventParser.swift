internal import CLibYAML

/// libyaml's event parser over a private copy of the input. The parser state and the input buffer live on
/// the heap for the parser's lifetime (libyaml keeps pointers into both).
final class EventParser {
    private let parser: UnsafeMutablePointer<yaml_parser_t>
    private let input: UnsafeMutableBufferPointer<UInt8>
    /// The current event, valid until the next call to ``next()``.
    let event: UnsafeMutablePointer<yaml_event_t>

    init(text: String) {
        let utf8 = text.utf8
        input = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(1, utf8.count))
        _ = input.initialize(from: utf8)
        parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
        event = UnsafeMutablePointer<yaml_event_t>.allocate(capacity: 1)
        // A zeroed event is YAML_NO_EVENT, which yaml_event_delete accepts: no flag for "holds an event".
        event.initialize(to: yaml_event_t())
        guard yaml_parser_initialize(parser) != 0 else { fatalError("libyaml: out of memory") }
        yaml_parser_set_input_string(parser, input.baseAddress, utf8.count)
        yaml_parser_set_encoding(parser, YAML_UTF8_ENCODING)
    }

    deinit {
        yaml_event_delete(event)
        yaml_parser_delete(parser)
        parser.deallocate()
        event.deallocate()
        input.deallocate()
    }

    /// Parses the next event into ``event``; false (with ``failure`` describing why) on a syntax error.
    func next() -> Bool {
        yaml_event_delete(event)
        return yaml_parser_parse(parser, event) != 0
    }

    enum Failure {
        /// A reader error: a character YAML does not accept, at a byte offset of the input.
        case reader(problem: String, value: Int32, offset: Int)
        /// A scanner or parser error with libyaml's 0-based marks.
        case syntax(context: String?, problem: String, line: Int, column: Int)
        case memory
    }

    /// libyaml's description of the last error.
    var failure: Failure {
        let p = parser.pointee
        let problem = p.problem.map { String(cString: $0) } ?? "unknown error"
        switch p.error {
        case YAML_READER_ERROR:
            return .reader(problem: problem, value: p.problem_value, offset: p.problem_offset)
        case YAML_SCANNER_ERROR, YAML_PARSER_ERROR:
            return .syntax(
                context: p.context.map { String(cString: $0) }, problem: problem,
                line: p.problem_mark.line, column: p.problem_mark.column)
        default:
            return .memory
        }
    }
}
