internal import CLibYAML
import SwansibleData

/// A collection being composed. Its children (items of a sequence; keys and values alternating for a
/// mapping) are on the composer's one child stack from ``start`` on, so that no collection grows an array
/// of its own while it is read.
private struct Frame {
    let isMapping: Bool
    let mark: SourceMark
    let tag: String?
    let anchor: String?
    let isFlow: Bool
    /// Strings inside become ``Value/unsafe(_:)`` (an enclosing or own `!unsafe`).
    let unsafe: Bool
    /// Where the children start on the child stack.
    let start: Int
    /// Open flow collections, and block collections that indent, up to and including this one.
    var flowDepth = 0
    var blockDepth = 0
    var expandedSize = 1
}

/// What the composer keeps of an open collection while reading its children: plain data, so that reading
/// it copies no references (its mark, tag and anchor are in a ``FrameLabel`` beside it until it ends).
private struct OpenFrame {
    let isMapping: Bool
    let isFlow: Bool
    let unsafe: Bool
    /// No tag was written.
    let untagged: Bool
    let start: Int
    /// The column of its mark.
    let column: Int
    var flowDepth = 0
    var blockDepth = 0
    var expandedSize = 1
}

private struct FrameLabel {
    let mark: SourceMark
    let tag: String?
    let anchor: String?
}

private enum AnchorEntry {
    /// A collection whose end has not been reached: an alias to it would make a cycle.
    case pending
    case node(YAMLNode)
}

/// A key as Python's dict compares keys: `1`, `1.0` and `True` are one key, `'1'` another.
private enum PyKey: Hashable {
    case null
    case number(Int)
    case float(UInt64)
    case string(String)
    case other(String, String)
}

/// Identity of a merged key for PyYAML 6.0.3's `flatten_mapping`, which skips a merged entry whose key
/// node's value is the very object of an earlier merged key: the same node (through aliases), or, since
/// CPython shares one-character Latin-1 and empty strings, any scalar key with such text.
private enum MergeKeyID: Hashable {
    case sharedString(String)
    case node(ObjectIdentifier)
}

/// Turns libyaml events into ``YAMLNode`` trees and constructs their values as ansible-core's `AnsibleLoader`
/// (PyYAML's composer and `SafeConstructor`) does.
final class Composer {
    private let file: String
    private let options: YAMLLoadOptions
    let lines: SourceLines
    private let parser: EventParser

    private var anchors: [String: AnchorEntry] = [:]
    /// The first construction error of the current document. PyYAML composes a whole document before it
    /// constructs it, so syntax errors later in the document win over it.
    private var pending: YAMLError?
    private var warnings: [YAMLWarning] = []
    private var warningSet: Set<YAMLWarning> = []

    /// - Parameter pipelined: run libyaml on a second thread (``EventPipeline``); nil decides by the size.
    init(text: String, file: String, options: YAMLLoadOptions, pipelined: Bool? = nil) {
        self.file = file
        self.options = options
        // The parser first: a pipelined one starts scanning while the lines are indexed.
        self.parser = EventParser(text: text, pipelined: pipelined)
        self.lines = SourceLines(text)
    }

    // MARK: Errors

    private func mark(_ m: yaml_mark_t) -> SourceMark {
        SourceMark(file: file, line: m.line + 1, column: m.column + 1)
    }

    /// A `MarkedYAMLError` as ansible-core reports it (with its hints unless `hints` is false).
    private func markedError(_ context: String?, _ problem: String, at m: SourceMark, hints: Bool = true)
        -> YAMLError
    {
        let worded = ansibleMarkedMessage(
            context: context, problem: problem, targetLine: lines.line(m.line), column: m.column, hints: hints)
        return YAMLError(
            mark: SourceMark(file: file, line: m.line, column: worded.column),
            message: "YAML parsing failed: " + worded.message, sourceLine: lines.displayLine(m.line),
            help: worded.help)
    }

    private func plainError(_ message: String, at m: SourceMark) -> YAMLError {
        YAMLError(mark: m, message: message, sourceLine: lines.displayLine(m.line))
    }

    private func syntaxError() -> YAMLError {
        switch parser.failure {
        case .reader(let problem, let value, let offset):
            let position = lines.position(ofByteOffset: offset)
            let hex = String(value, radix: 16)
            let code = String(repeating: "0", count: max(0, 4 - hex.count)) + hex
            return plainError(
                "YAML parsing failed: unacceptable character #x\(code): \(problem) in \"<unicode string>\", "
                    + "position \(offset)",
                at: SourceMark(file: file, line: position.line, column: position.column))
        case .syntax(let context, let problem, let line, let column):
            return markedError(context, problem, at: SourceMark(file: file, line: line + 1, column: column + 1))
        case .memory:
            return plainError("YAML parsing failed: out of memory", at: SourceMark(file: file, line: 1, column: 1))
        }
    }

    private func deferConstructionError(_ error: YAMLError) {
        if pending == nil { pending = error }
    }

    private func warn(_ warning: YAMLWarning) {
        if warningSet.insert(warning).inserted { warnings.append(warning) }
    }

    // MARK: Events

    /// Loads every document (`yaml.load_all`), or with `single` the only one (`yaml.load`: an empty stream
    /// gives no document, a second document is an error).
    func load(single: Bool) throws(YAMLError) -> [YAMLDocument] {
        try load(single: single, streamRootItems: false, eachRootItem: { _ in })
    }

    /// ``load(single:)``; with `streamRootItems`, each item of a document whose root is an untagged sequence is
    /// handed to `eachRootItem` as soon as it is composed (while libyaml may still be parsing the rest) instead of
    /// being kept in the root, whose ``YAMLNode/items`` then stay empty. Items are no longer handed over once the
    /// document has a construction error (it is thrown at the document's end, as without streaming).
    func load(single: Bool, streamRootItems: Bool, eachRootItem: (YAMLNode) -> Void) throws(YAMLError)
        -> [YAMLDocument]
    {
        var documents: [YAMLDocument] = []
        // The composing state is local (not properties of the class): Swift checks exclusive access to
        // locals at compile time, to class properties on every access.
        var frames: [OpenFrame] = []
        var labels: [FrameLabel] = []
        var stack: [YAMLNode] = []
        stack.reserveCapacity(256)
        var root: YAMLNode?
        while true {
            guard let current = parser.next() else { throw syntaxError() }
            let event = current.pointee
            switch event.type {
            case YAML_STREAM_START_EVENT:
                continue
            case YAML_STREAM_END_EVENT:
                if let pending { throw pending }
                return documents
            case YAML_DOCUMENT_START_EVENT:
                if single, !documents.isEmpty {
                    throw markedError(
                        "expected a single document in the stream", "but found another document",
                        at: mark(event.start_mark))
                }
                anchors = [:]
                warnings = []
                warningSet = []
                root = nil
                frames = []
                labels = []
                stack = []
            case YAML_DOCUMENT_END_EVENT:
                if !single, let pending { throw pending }
                let node = root ?? nullNode(at: mark(event.start_mark))
                documents.append(YAMLDocument(root: node, warnings: warnings))
            case YAML_ALIAS_EVENT:
                let name = String(cString: event.data.alias.anchor)
                let at = mark(event.start_mark)
                switch anchors[name] {
                case nil:
                    throw markedError(nil, "found undefined alias", at: at)
                case .pending:
                    throw plainError(
                        "YAML parsing failed: Found recursive alias *\(name); recursive data is not supported "
                            + "by swansible.", at: at)
                case .node(let node):
                    try add(node, at: at, frames: &frames, stack: &stack, root: &root, stream: streamRootItems, each: eachRootItem)
                }
            case YAML_SCALAR_EVENT:
                let at = mark(event.start_mark)
                let anchor = try anchorName(event.data.scalar.anchor, at: at)
                let node: YAMLNode
                if let last = frames.indices.last {
                    let isKey = frames[last].isMapping && (stack.count - frames[last].start) % 2 == 0
                    node = makeScalar(event, at: at, anchor: anchor, unsafe: frames[last].unsafe, isKey: isKey)
                } else {
                    node = makeScalar(event, at: at, anchor: anchor, unsafe: !options.trusted, isKey: false)
                }
                if let anchor { anchors[anchor] = .node(node) }
                try add(node, at: at, frames: &frames, stack: &stack, root: &root, stream: streamRootItems, each: eachRootItem)
            case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                let isMapping = event.type == YAML_MAPPING_START_EVENT
                let at = mark(event.start_mark)
                let anchorPointer = isMapping ? event.data.mapping_start.anchor : event.data.sequence_start.anchor
                let tagPointer = isMapping ? event.data.mapping_start.tag : event.data.sequence_start.tag
                let isFlow = isMapping
                    ? event.data.mapping_start.style == YAML_FLOW_MAPPING_STYLE
                    : event.data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE
                let anchor = try anchorName(anchorPointer, at: at)
                let tag = tagPointer.map { String(cString: $0) }
                let inherited = frames.isEmpty ? !options.trusted : frames[frames.count - 1].unsafe
                let unsafe = inherited || (options.ansibleTags && tag == "!unsafe")
                var frame = OpenFrame(
                    isMapping: isMapping, isFlow: isFlow, unsafe: unsafe, untagged: tag == nil, start: stack.count,
                    column: at.column)
                try checkNesting(&frame, parent: frames.isEmpty ? nil : frames[frames.count - 1], at: at)
                frames.append(frame)
                labels.append(FrameLabel(mark: at, tag: tag, anchor: anchor))
                if let anchor { anchors[anchor] = .pending }
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                let open = frames.removeLast()
                let label = labels.removeLast()
                let frame = Frame(
                    isMapping: open.isMapping, mark: label.mark, tag: label.tag, anchor: label.anchor,
                    isFlow: open.isFlow, unsafe: open.unsafe, start: open.start, flowDepth: open.flowDepth,
                    blockDepth: open.blockDepth, expandedSize: open.expandedSize)
                // A mapping's pairs are taken straight from the stack (no array of its children first).
                let node = frame.isMapping
                    ? finishMapping(frame, ownPairs(stack[frame.start...]))
                    : finishSequence(frame, Array(stack[frame.start...]))
                stack.removeSubrange(frame.start...)
                if let anchor = frame.anchor { anchors[anchor] = .node(node) }
                try add(node, at: frame.mark, frames: &frames, stack: &stack, root: &root, stream: streamRootItems, each: eachRootItem)
            default:
                continue
            }
        }
    }

    /// The nesting limits of the libyaml ansible-core runs with (PyYAML's bundled one): 1000 flow levels and
    /// 999 indentation levels. (A sequence written at its parent key's indentation adds no level.)
    private func checkNesting(_ frame: inout OpenFrame, parent: OpenFrame?, at mark: SourceMark) throws(YAMLError) {
        frame.flowDepth = parent?.flowDepth ?? 0
        frame.blockDepth = parent?.blockDepth ?? 0
        if frame.isFlow {
            frame.flowDepth += 1
            if frame.flowDepth > 1000 {
                throw markedError("while increasing flow level", "exceeded maximum nesting depth", at: mark)
            }
        } else if !(parent.map { $0.isMapping && !$0.isFlow && !frame.isMapping && $0.column == frame.column }
            ?? false)
        {
            frame.blockDepth += 1
            if frame.blockDepth > 999 {
                throw markedError("while increasing block level", "exceeded maximum nesting depth", at: mark)
            }
        }
    }

    private func anchorName(_ pointer: UnsafeMutablePointer<yaml_char_t>?, at: SourceMark) throws(YAMLError)
        -> String?
    {
        guard let pointer else { return nil }
        let name = String(cString: pointer)
        if anchors[name] != nil {
            throw markedError("found duplicate anchor; first occurrence", "second occurrence", at: at)
        }
        return name
    }

    private func add(
        _ node: YAMLNode, at: SourceMark, frames: inout [OpenFrame], stack: inout [YAMLNode], root: inout YAMLNode?,
        stream: Bool, each: (YAMLNode) -> Void
    ) throws(YAMLError) {
        guard let last = frames.indices.last else {
            root = node
            return
        }
        let (sum, overflow) = frames[last].expandedSize.addingReportingOverflow(node.expandedSize)
        let size = overflow ? Int.max : sum
        frames[last].expandedSize = size
        if size > options.maxExpandedNodes {
            throw plainError(
                "YAML parsing failed: Aliases expand this document to more than \(options.maxExpandedNodes) "
                    + "nodes; swansible refuses to load it (an alias bomb?).", at: at)
        }
        if stream, last == 0, !frames[0].isMapping, frames[0].untagged {
            if pending == nil { each(node) }
            return
        }
        stack.append(node)
    }

    private func nullNode(at m: SourceMark) -> YAMLNode {
        YAMLNode(
            kind: .scalar, mark: m, tag: nil, tagKind: .null, anchor: nil, text: "", style: .plain,
            isFlow: false, items: [], pairs: [], flatPairs: nil, value: .null, expandedSize: 1)
    }

    // MARK: Construction

    private func isVaultTag(_ tag: String?) -> Bool {
        options.ansibleTags && (tag == "!vault" || tag == "!vault-encrypted")
    }

    private func vaultError(at m: SourceMark) -> YAMLError {
        plainError("vault-encrypted values (!vault) are not supported by swansible", at: m)
    }

    private func makeScalar(_ event: yaml_event_t, at: SourceMark, anchor: String?, unsafe inherited: Bool, isKey: Bool)
        -> YAMLNode
    {
        let scalar = event.data.scalar
        let bytes = UnsafeBufferPointer(start: scalar.value, count: scalar.length)
        let text = String(decoding: bytes, as: UTF8.self)
        let tag = scalar.tag.map { String(cString: $0) }
        let style: YAMLNode.ScalarStyle
        switch scalar.style {
        case YAML_SINGLE_QUOTED_SCALAR_STYLE: style = .singleQuoted
        case YAML_DOUBLE_QUOTED_SCALAR_STYLE: style = .doubleQuoted
        case YAML_LITERAL_SCALAR_STYLE: style = .literal
        case YAML_FOLDED_SCALAR_STYLE: style = .folded
        default: style = .plain
        }
        var unsafe = inherited

        var resolved: TagKind
        if tag == nil || tag == "!" {
            resolved = scalar.plain_implicit != 0 ? resolveImplicit(bytes) : .str
            if isKey && resolved == .value { resolved = .str }  // flatten_mapping makes `=` keys strings
        } else if options.ansibleTags && tag == "!unsafe" {
            resolved = resolveImplicit(bytes)
            unsafe = true
        } else {
            resolved = TagKind(tag!)
        }

        var value = Value.null
        do throws(YAMLError) {
            value = try constructScalar(text, tag: tag, resolved: resolved, unsafe: unsafe, isKey: isKey, at: at)
        } catch {
            deferConstructionError(error)
        }
        return YAMLNode(
            kind: .scalar, mark: at, tag: tag, tagKind: resolved, anchor: anchor, text: text, style: style,
            isFlow: false, items: [], pairs: [], flatPairs: nil, value: value, expandedSize: 1)
    }

    private func constructScalar(
        _ text: String, tag: String?, resolved: TagKind, unsafe: Bool, isKey: Bool, at: SourceMark
    ) throws(YAMLError) -> Value {
        if isVaultTag(tag) { throw vaultError(at: at) }
        switch resolved {
        case .str, .pythonUnicode:
            return unsafe ? .unsafe(text) : .string(text)
        case .null:
            return .null
        case .merge where isKey && tag != "!unsafe":
            return .string(text)
        case .binary:
            do throws(ConstructError) {
                return .string(String(decoding: try decodeBase64(text), as: UTF8.self))
            } catch {
                throw markedError(nil, error.message, at: at)  // PyYAML raises a ConstructorError here
            }
        case .bool, .int, .float, .timestamp:
            do throws(ConstructError) {
                return try constructPythonScalar(text, resolved: resolved)
            } catch {
                // A Python exception other than a YAML error: ansible-core shows its text as it is.
                throw plainError("YAML parsing failed: " + collapseWhitespace(error.message), at: at)
            }
        case .map, .pythonDict, .set:
            throw markedError(nil, "expected a mapping node, but found scalar", at: at)
        case .seq:
            throw markedError(nil, "expected a sequence node, but found scalar", at: at)
        case .omap:
            throw markedError("while constructing an ordered map", "expected a sequence, but found scalar", at: at)
        case .pairs:
            throw markedError("while constructing pairs", "expected a sequence, but found scalar", at: at)
        default:
            throw markedError(nil, "could not determine a constructor for the tag \(pythonStringRepr(resolved.string))", at: at)
        }
    }

    private func constructPythonScalar(_ text: String, resolved: TagKind) throws(ConstructError) -> Value {
        switch resolved {
        case .bool:
            return .bool(try constructBool(text))
        case .int:
            switch try constructInt(text) {
            case .int(let i): return .int(i)
            case .big(let d): return .float(d)
            }
        case .float:
            return .float(try constructFloat(text))
        case .timestamp:
            guard let parts = TimestampParts(text) else {
                throw ConstructError("'NoneType' object has no attribute 'groupdict'")
            }
            return .string(try parts.isoformat())
        default:
            preconditionFailure("not a Python scalar tag: \(resolved.string)")
        }
    }

    /// The tag a collection is constructed as: its own, or the default for untagged, `!` and `!unsafe`.
    private func collectionTag(_ frame: Frame) -> TagKind {
        guard let tag = frame.tag, tag != "!", !(options.ansibleTags && tag == "!unsafe") else {
            return frame.isMapping ? .map : .seq
        }
        return TagKind(tag)
    }

    private func kindName(_ node: YAMLNode) -> String {
        switch node.kind {
        case .scalar: return "scalar"
        case .sequence: return "sequence"
        case .mapping: return "mapping"
        }
    }

    private func finishSequence(_ frame: Frame, _ children: [YAMLNode]) -> YAMLNode {
        let resolved = collectionTag(frame)
        var value = Value.null
        do throws(YAMLError) {
            if isVaultTag(frame.tag) { throw vaultError(at: frame.mark) }
            switch resolved {
            case .seq:
                var items: [Value] = []
                items.reserveCapacity(children.count)
                for child in children { items.append(child.value) }
                value = .list(items)
            case .omap, .pairs:
                value = try constructPairs(frame, children, omap: resolved == .omap)
            case .map, .pythonDict, .set:
                throw markedError(nil, "expected a mapping node, but found sequence", at: frame.mark)
            case _ where resolved.isScalarTag:
                throw markedError(nil, "expected a scalar node, but found sequence", at: frame.mark)
            default:
                throw markedError(nil, "could not determine a constructor for the tag \(pythonStringRepr(resolved.string))",
                    at: frame.mark)
            }
        } catch {
            deferConstructionError(error)
        }
        return YAMLNode(
            kind: .sequence, mark: frame.mark, tag: frame.tag, tagKind: resolved, anchor: frame.anchor, text: nil,
            style: nil, isFlow: frame.isFlow, items: children, pairs: [], flatPairs: nil, value: value,
            expandedSize: frame.expandedSize)
    }

    /// `!!omap` / `!!pairs`: a sequence of one-entry mappings, as a list of `[key, value]` lists (deprecated).
    private func constructPairs(_ frame: Frame, _ children: [YAMLNode], omap: Bool) throws(YAMLError) -> Value {
        let name = omap ? "!!omap" : "!!pairs"
        warn(
            YAMLWarning(
                kind: .deprecation, mark: frame.mark,
                message: "Use of the YAML `\(name)` tag is deprecated. This feature will be removed from "
                    + "ansible-core version 2.23.",
                help: omap ? "Use a standard mapping instead, as key order is always preserved."
                    : "Use a standard mapping instead.",
                sourceLine: lines.displayLine(frame.mark.line)))
        let context = omap ? "while constructing an ordered map" : "while constructing pairs"
        var items: [Value] = []
        for child in children {
            guard child.kind == .mapping else {
                throw markedError(context, "expected a mapping of length 1, but found \(kindName(child))",
                    at: child.mark)
            }
            let entries = child.flatPairs
            guard entries.count == 1 else {
                throw markedError(context, "expected a single mapping item, but found \(entries.count) items",
                    at: child.mark)
            }
            items.append(.list([entries[0].key.value, entries[0].value.value]))
        }
        return .list(items)
    }

    private func isMergeKey(_ key: YAMLNode) -> Bool {
        key.kind == .scalar && key.isMergeTag && key.tag != "!unsafe"
    }

    private func mergeKeyID(_ key: YAMLNode) -> MergeKeyID {
        if key.kind == .scalar, let text = key.text {
            var scalars = text.unicodeScalars.makeIterator()
            let first = scalars.next()
            if first == nil || (first!.value < 256 && scalars.next() == nil) { return .sharedString(text) }
        }
        return .node(ObjectIdentifier(key))
    }

    private func pyKey(_ key: YAMLNode) -> PyKey? {
        switch key.tagKind {
        case .timestamp, .binary: return .other(key.tagKind.string, key.text ?? "")
        default: break
        }
        switch key.value {
        case .null: return .null
        case .bool(let b): return .number(b ? 1 : 0)
        case .int(let i): return .number(i)
        case .float(let d):
            if d.isNaN { return .float(Double.nan.bitPattern) }
            if d == d.rounded(), let i = Int(exactly: d) { return .number(i) }
            return .float(d.bitPattern)
        case .string(let s), .unsafe(let s): return .string(s)
        case .list, .dict: return nil
        }
    }

    /// Python's `repr()` of a constructed key, for the duplicate-key message.
    private func pyRepr(_ key: YAMLNode) -> String {
        if key.tagKind == .timestamp, let text = key.text, let parts = TimestampParts(text) {
            var fields = [parts.year, parts.month, parts.day].map(String.init)
            if let time = parts.time { fields += [time.hour, time.minute, time.second].map(String.init) }
            return (parts.time == nil ? "datetime.date(" : "datetime.datetime(") + fields.joined(separator: ", ") + ")"
        }
        if key.tagKind == .binary, let s = key.value.stringValue { return "b" + pythonStringRepr(s) }
        switch key.value {
        case .null: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .float(let d): return pythonFloatRepr(d)
        case .string(let s), .unsafe(let s): return pythonStringRepr(s)
        case .list, .dict: return key.value.json()
        }
    }

    /// - Parameter own: the mapping's own entries, in order, before merging and duplicates.
    private func finishMapping(_ frame: Frame, _ own: [YAMLPair]) -> YAMLNode {
        let resolved = collectionTag(frame)
        var value = Value.null
        var pairs: [YAMLPair] = []
        var flat: [YAMLPair] = []
        do throws(YAMLError) {
            if isVaultTag(frame.tag) { throw vaultError(at: frame.mark) }
            switch resolved {
            case .map, .pythonDict, .set:
                flat = try flatten(own)
                pairs = try resolveDuplicates(flat, mappingMark: frame.mark)
                if resolved == .set {
                    value = .list(pairs.map { $0.key.value })
                } else {
                    value = .dict(dictionary(pairs))
                }
            case .seq:
                throw markedError(nil, "expected a sequence node, but found mapping", at: frame.mark)
            case .omap:
                throw markedError("while constructing an ordered map", "expected a sequence, but found mapping",
                    at: frame.mark)
            case .pairs:
                throw markedError("while constructing pairs", "expected a sequence, but found mapping", at: frame.mark)
            case _ where resolved.isScalarTag:
                throw markedError(nil, "expected a scalar node, but found mapping", at: frame.mark)
            default:
                throw markedError(nil, "could not determine a constructor for the tag \(pythonStringRepr(resolved.string))",
                    at: frame.mark)
            }
        } catch {
            deferConstructionError(error)
            if flat.isEmpty { flat = own }
            if pairs.isEmpty { pairs = flat }
        }
        return YAMLNode(
            kind: .mapping, mark: frame.mark, tag: frame.tag, tagKind: resolved, anchor: frame.anchor, text: nil,
            style: nil, isFlow: frame.isFlow, items: [], pairs: pairs,
            flatPairs: flat.count == pairs.count ? nil : flat, value: value, expandedSize: frame.expandedSize)
    }

    /// A mapping's entries (duplicates resolved) as a dict, keys as ``YAMLNode/keys`` spells them; when two
    /// keys spell the same (`1` and `'1'`), the later value wins at the place of the first.
    private func dictionary(_ pairs: [YAMLPair]) -> ValueDict {
        // String keys (not timestamps or binary, whose text is not what they were compared by) are distinct
        // once duplicates are resolved: the dict is built without looking each key up.
        var keys: [String] = []
        keys.reserveCapacity(pairs.count)
        scan: for pair in pairs {
            guard !pair.key.isTimestampOrBinaryTag else { break }
            switch pair.key.value {
            case .string(let s), .unsafe(let s): keys.append(s)
            default: break scan
            }
        }
        if keys.count == pairs.count {
            var values: [Value] = []
            values.reserveCapacity(pairs.count)
            for pair in pairs { values.append(pair.value.value) }
            return ValueDict(uncheckedUniqueKeys: keys, values: values)
        }
        var dict = ValueDict(minimumCapacity: pairs.count)
        for pair in pairs { dict[mappingKeyString(pair.key.value)] = pair.value.value }
        return dict
    }

    private func ownPairs(_ children: ArraySlice<YAMLNode>) -> [YAMLPair] {
        var pairs: [YAMLPair] = []
        pairs.reserveCapacity(children.count / 2)
        var i = children.startIndex
        while i + 1 < children.endIndex {
            pairs.append(YAMLPair(key: children[i], value: children[i + 1]))
            i += 2
        }
        return pairs
    }

    /// PyYAML 6.0.3's `flatten_mapping`: entries of merged mappings (in the order of the `<<` keys and of
    /// their lists, skipping a key object already merged), then the mapping's own entries.
    private func flatten(_ own: [YAMLPair]) throws(YAMLError) -> [YAMLPair] {
        guard own.contains(where: { isMergeKey($0.key) }) else { return own }
        var merged: [YAMLPair] = []
        var mergedIDs: Set<MergeKeyID> = []
        var rest: [YAMLPair] = []
        func take(_ source: YAMLNode) {
            for pair in source.flatPairs where mergedIDs.insert(mergeKeyID(pair.key)).inserted {
                merged.append(pair)
            }
        }
        for pair in own {
            guard isMergeKey(pair.key) else {
                rest.append(pair)
                continue
            }
            switch pair.value.kind {
            case .mapping:
                take(pair.value)
            case .sequence:
                for sub in pair.value.items {
                    guard sub.kind == .mapping else {
                        throw markedError(
                            "while constructing a mapping",
                            "expected a mapping for merging, but found \(kindName(sub))",
                            at: sub.mark)
                    }
                    take(sub)
                }
            case .scalar:
                throw markedError(
                    "while constructing a mapping",
                    "expected a mapping or list of mappings for merging, but found scalar", at: pair.value.mark)
            }
        }
        return merged + rest
    }

    /// Whether every key is a plain string scalar (resolved as a string, not a timestamp or binary) and no two
    /// are equal: then the mapping has no duplicates, without building ``PyKey``s.
    private func distinctStringKeys(_ flat: [YAMLPair]) -> Bool {
        for i in flat.indices {
            let key = flat[i].key
            guard key.kind == .scalar, !key.isTimestampOrBinaryTag,
                case .string(let a) = key.value
            else { return false }
            for j in 0..<i {
                guard case .string(let b) = flat[j].key.value else { return false }
                // (The lengths first: comparing two strings of different lengths still calls into the runtime.)
                if a.utf8.count == b.utf8.count && a == b { return false }
            }
        }
        return true
    }

    /// Python dict semantics (first key kept in its place, last value wins) and ansible-core's duplicate-key
    /// check (`DUPLICATE_YAML_DICT_KEY`: warn, error or ignore).
    private func resolveDuplicates(_ flat: [YAMLPair], mappingMark: SourceMark) throws(YAMLError) -> [YAMLPair] {
        if flat.count <= 1 {
            if let only = flat.first, pyKey(only.key) == nil {
                throw markedError("while constructing a mapping", "found unhashable key", at: only.key.mark)
            }
            return flat
        }
        if flat.count <= 8, distinctStringKeys(flat) { return flat }
        // First occurrence of each key: its index in `flat`, and where its entry ends up.
        var firstIndex: [Int] = []
        firstIndex.reserveCapacity(flat.count)
        var duplicates: [Int] = []
        if flat.count <= 8 {
            // Small mappings (most of a playbook): compare keys pairwise rather than hash them.
            var keys: [PyKey] = []
            keys.reserveCapacity(flat.count)
            for (n, pair) in flat.enumerated() {
                guard let key = pyKey(pair.key) else {
                    throw markedError("while constructing a mapping", "found unhashable key", at: pair.key.mark)
                }
                if let i = keys.firstIndex(of: key) {
                    firstIndex.append(i)
                    duplicates.append(n)
                } else {
                    firstIndex.append(keys.count)
                    keys.append(key)
                }
            }
        } else {
            var index: [PyKey: Int] = Dictionary(minimumCapacity: flat.count)
            for (n, pair) in flat.enumerated() {
                guard let key = pyKey(pair.key) else {
                    throw markedError("while constructing a mapping", "found unhashable key", at: pair.key.mark)
                }
                if let i = index[key] {
                    firstIndex.append(i)
                    duplicates.append(n)
                } else {
                    firstIndex.append(index.count)
                    index[key] = index.count
                }
            }
        }
        guard !duplicates.isEmpty else { return flat }
        var result: [YAMLPair] = []
        result.reserveCapacity(flat.count - duplicates.count)
        for (n, pair) in flat.enumerated() {
            let slot = firstIndex[n]
            if slot == result.count {
                result.append(pair)
            } else {
                result[slot] = YAMLPair(key: result[slot].key, value: pair.value)
            }
        }
        for n in duplicates {
            let key = flat[n].key
            let message = "Found duplicate mapping key \(pyRepr(key))."
            switch options.duplicateKeys {
            case .ignore:
                break
            case .error:
                throw markedError(nil, message, at: key.mark, hints: false)
            case .warn:
                warn(
                    YAMLWarning(
                        mark: key.mark, message: message, help: "Using last defined value only.",
                        sourceLine: lines.displayLine(key.mark.line)))
            }
        }
        return result
    }
}
