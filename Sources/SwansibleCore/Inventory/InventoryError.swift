/// An inventory problem ansible-core treats as fatal: an unreadable or malformed `group_vars`/`host_vars` file,
/// an invalid host pattern or `--limit`, a source that failed when failures are configured to be errors.
///
/// ``description`` is `file:line:col: message` when the place is known (`file:line: message` without a column,
/// just `message` without a file), in ansible-core's words.
public struct InventoryError: Error, CustomStringConvertible, Sendable, Hashable {
    /// What is wrong, in ansible-core's words where it has them.
    public var message: String
    /// The file the problem is in, if any.
    public var file: String?
    /// 1-based line in ``file``, if known.
    public var line: Int?
    /// 1-based column in ``line``, if known.
    public var column: Int?

    public init(_ message: String, file: String? = nil, line: Int? = nil, column: Int? = nil) {
        self.message = message
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String {
        guard let file else { return message }
        return InventoryError.location(file: file, line: line, column: column) + ": " + message
    }

    static func location(file: String, line: Int?, column: Int?) -> String {
        var out = file
        if let line {
            out += ":\(line)"
            if let column { out += ":\(column)" }
        }
        return out
    }
}
