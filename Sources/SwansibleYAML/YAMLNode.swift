public import SwansibleData

/// A node of a loaded YAML document, with where it came from and what it means.
///
/// Aliases (`*name`) share the anchored node object, so a document is a graph without cycles; walking it
/// visits an aliased node once per alias. Mappings list their entries after merge keys (`<<`) are applied
/// and duplicate keys are resolved, in the order ansible-core's dict has them.
public final class YAMLNode: Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        case scalar, sequence, mapping
    }

    public enum ScalarStyle: Sendable, Hashable {
        case plain, singleQuoted, doubleQuoted, literal, folded
    }

    // The stored fields are few and small (the node is 120 bytes, a size glibc keeps in its fast bins):
    // a playbook loads and frees hundreds of thousands of nodes. What most nodes lack (a tag, an anchor, a
    // mark or alias expansion beyond 32 bits) is in ``Extras``.

    /// The scalar's text after unquoting and folding (nil for collections).
    public let text: String?
    /// The node's data as ansible-core constructs it. Strings under `!unsafe` are ``Value/unsafe(_:)``.
    /// Mapping keys that are not strings become strings as JSON writes them (`1`, `true`, `null`, `1.5`).
    public let value: Value
    /// The file of ``mark``.
    private let file: String
    private let children: Children
    private let extras: Extras?
    private let line: UInt32
    private let column: UInt32
    private let size: UInt32
    public let kind: Kind
    /// The scalar's style (nil for collections).
    public let style: ScalarStyle?
    /// Whether a collection was written in flow style (`[…]`, `{…}`).
    public let isFlow: Bool
    private let tagCode: UInt8

    /// A collection's children, in one field: a scalar (most nodes) holds no arrays to retain and release.
    private enum Children {
        case none
        case items([YAMLNode])
        /// The mapping's entries, and its entries after merging but before duplicates were resolved when they
        /// differ.
        case pairs([YAMLPair], flat: [YAMLPair]?)
    }

    /// What few nodes have.
    private final class Extras: Sendable {
        let tag: String?
        let anchor: String?
        /// The mark, when its line or column do not fit in 32 bits.
        let mark: SourceMark?
        /// The tag of ``TagKind/other(_:)``.
        let otherTag: String?
        /// The expanded size, when it does not fit in 32 bits.
        let expandedSize: Int

        init(tag: String?, anchor: String?, mark: SourceMark?, otherTag: String?, expandedSize: Int) {
            self.tag = tag
            self.anchor = anchor
            self.mark = mark
            self.otherTag = otherTag
            self.expandedSize = expandedSize
        }
    }

    /// Where the node starts: its tag or anchor if it has one, else its content. For a block mapping,
    /// its first key; for a block sequence, its first `-`.
    public var mark: SourceMark {
        if let mark = extras?.mark { return mark }
        return SourceMark(file: file, line: Int(line), column: Int(column))
    }
    /// The tag as written, expanded (`!!str` is `tag:yaml.org,2002:str`, `!unsafe` stays `!unsafe`); nil if none.
    public var tag: String? { extras?.tag }
    /// The tag the node was constructed as, after implicit resolution (`tag:yaml.org,2002:int`, …).
    /// `!unsafe` nodes carry the tag their content resolved to.
    public var resolvedTag: String { tagKind.string }
    /// The anchor name (`&name`), if any.
    public var anchor: String? { extras?.anchor }
    /// A sequence's items (empty otherwise).
    public var items: [YAMLNode] {
        if case .items(let items) = children { return items }
        return []
    }
    /// A mapping's entries after merge keys and duplicates: one entry per distinct key, at the place of its
    /// first occurrence, holding that first key node and the last value node (empty for non-mappings).
    public var pairs: [YAMLPair] {
        if case .pairs(let pairs, _) = children { return pairs }
        return []
    }

    /// The resolved tag.
    var tagKind: TagKind {
        switch tagCode {
        case 0: return .null
        case 1: return .bool
        case 2: return .int
        case 3: return .float
        case 4: return .str
        case 5: return .timestamp
        case 6: return .merge
        case 7: return .value
        case 8: return .yaml
        case 9: return .binary
        case 10: return .seq
        case 11: return .map
        case 12: return .set
        case 13: return .omap
        case 14: return .pairs
        case 15: return .pythonDict
        case 16: return .pythonUnicode
        default: return .other(extras?.otherTag ?? "")
        }
    }
    /// The resolved tag is `merge` (``tagKind`` without building the enum).
    var isMergeTag: Bool { tagCode == 6 }
    /// The resolved tag is `timestamp` or `binary`: keys compared by what they construct, not by their text.
    var isTimestampOrBinaryTag: Bool { tagCode == 5 || tagCode == 9 }
    /// How many nodes the node stands for once every alias under it is expanded.
    var expandedSize: Int { size == UInt32.max ? extras?.expandedSize ?? Int(size) : Int(size) }

    private static let otherTagCode = UInt8.max

    private static func tagCode(_ kind: TagKind) -> UInt8 {
        switch kind {
        case .null: return 0
        case .bool: return 1
        case .int: return 2
        case .float: return 3
        case .str: return 4
        case .timestamp: return 5
        case .merge: return 6
        case .value: return 7
        case .yaml: return 8
        case .binary: return 9
        case .seq: return 10
        case .map: return 11
        case .set: return 12
        case .omap: return 13
        case .pairs: return 14
        case .pythonDict: return 15
        case .pythonUnicode: return 16
        case .other: return otherTagCode
        }
    }

    init(
        kind: Kind, mark: SourceMark, tag: String?, tagKind: TagKind, anchor: String?, text: String?,
        style: ScalarStyle?, isFlow: Bool, items: [YAMLNode], pairs: [YAMLPair], flatPairs: [YAMLPair]?,
        value: Value, expandedSize: Int
    ) {
        self.kind = kind
        self.text = text
        self.style = style
        self.isFlow = isFlow
        self.value = value
        switch kind {
        case .scalar: children = .none
        case .sequence: children = .items(items)
        case .mapping: children = .pairs(pairs, flat: flatPairs)
        }
        file = mark.file
        let markFits = mark.line >= 0 && mark.line < Int(UInt32.max) && mark.column >= 0
            && mark.column < Int(UInt32.max)
        line = markFits ? UInt32(mark.line) : 0
        column = markFits ? UInt32(mark.column) : 0
        let sizeFits = expandedSize >= 0 && expandedSize < Int(UInt32.max)
        size = sizeFits ? UInt32(expandedSize) : UInt32.max
        tagCode = Self.tagCode(tagKind)
        var otherTag: String?
        if case .other(let t) = tagKind { otherTag = t }
        if tag != nil || anchor != nil || !markFits || otherTag != nil || !sizeFits {
            extras = Extras(
                tag: tag, anchor: anchor, mark: markFits ? nil : mark, otherTag: otherTag, expandedSize: expandedSize)
        } else {
            extras = nil
        }
    }

    /// The merged entries with duplicates, as PyYAML's `flatten_mapping` leaves them.
    var flatPairs: [YAMLPair] {
        if case .pairs(let pairs, let flat) = children { return flat ?? pairs }
        return []
    }

    public var isScalar: Bool { kind == .scalar }
    public var isSequence: Bool { kind == .sequence }
    public var isMapping: Bool { kind == .mapping }

    /// The entry of a mapping whose key is `key` as ``keys`` spells keys (so `"1"` finds the key `1`).
    public func pair(forKey key: String) -> YAMLPair? {
        let length = key.utf8.count
        for pair in pairs {
            switch pair.key.value {
            case .string(let s), .unsafe(let s):
                if s.utf8.count == length && s == key { return pair }
            default:
                if mappingKeyString(pair.key.value) == key { return pair }
            }
        }
        return nil
    }

    /// The value node of a mapping's entry whose key is the string `key`.
    public subscript(key: String) -> YAMLNode? { pair(forKey: key)?.value }

    /// The keys of a mapping as strings (as in ``value``), in order.
    public var keys: [String] { pairs.map { mappingKeyString($0.key.value) } }

    public var description: String { "YAMLNode(\(kind) at \(mark): \(value.json(.compactSorted)))" }
}

/// One entry of a mapping.
public struct YAMLPair: Sendable {
    public let key: YAMLNode
    public let value: YAMLNode

    public init(key: YAMLNode, value: YAMLNode) {
        self.key = key
        self.value = value
    }
}

/// One document of a YAML stream.
public struct YAMLDocument: Sendable {
    /// The document's content; an empty document is a null scalar.
    public let root: YAMLNode
    /// Warnings found while loading this document (duplicate keys, deprecated tags), in order.
    public let warnings: [YAMLWarning]

    public init(root: YAMLNode, warnings: [YAMLWarning]) {
        self.root = root
        self.warnings = warnings
    }

    /// The document's data.
    public var value: Value { root.value }
}

/// A mapping key as a string of the data model: strings as they are, other scalars as JSON writes keys.
func mappingKeyString(_ key: Value) -> String {
    switch key {
    case .string(let s), .unsafe(let s): return s
    case .null: return "null"
    case .bool(let b): return b ? "true" : "false"
    case .int(let i): return String(i)
    case .float(let d): return Value.float(d).json()
    case .list, .dict: return key.json()
    }
}
