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

    public let kind: Kind
    /// Where the node starts: its tag or anchor if it has one, else its content. For a block mapping,
    /// its first key; for a block sequence, its first `-`.
    public let mark: SourceMark
    /// The tag as written, expanded (`!!str` is `tag:yaml.org,2002:str`, `!unsafe` stays `!unsafe`); nil if none.
    public let tag: String?
    /// The tag the node was constructed as, after implicit resolution (`tag:yaml.org,2002:int`, …).
    /// `!unsafe` nodes carry the tag their content resolved to.
    public var resolvedTag: String { tagKind.string }
    /// The anchor name (`&name`), if any.
    public let anchor: String?
    /// The scalar's text after unquoting and folding (nil for collections).
    public let text: String?
    /// The scalar's style (nil for collections).
    public let style: ScalarStyle?
    /// Whether a collection was written in flow style (`[…]`, `{…}`).
    public let isFlow: Bool
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
    /// The node's data as ansible-core constructs it. Strings under `!unsafe` are ``Value/unsafe(_:)``.
    /// Mapping keys that are not strings become strings as JSON writes them (`1`, `true`, `null`, `1.5`).
    public let value: Value

    /// A collection's children, in one field: a scalar (most nodes) holds no arrays to retain and release.
    private enum Children {
        case none
        case items([YAMLNode])
        /// The mapping's entries, and its entries after merging but before duplicates were resolved when they
        /// differ.
        case pairs([YAMLPair], flat: [YAMLPair]?)
    }

    private let children: Children
    /// The resolved tag.
    let tagKind: TagKind
    /// How many nodes the node stands for once every alias under it is expanded.
    let expandedSize: Int

    init(
        kind: Kind, mark: SourceMark, tag: String?, tagKind: TagKind, anchor: String?, text: String?,
        style: ScalarStyle?, isFlow: Bool, items: [YAMLNode], pairs: [YAMLPair], flatPairs: [YAMLPair]?,
        value: Value, expandedSize: Int
    ) {
        self.kind = kind
        self.mark = mark
        self.tag = tag
        self.tagKind = tagKind
        self.anchor = anchor
        self.text = text
        self.style = style
        self.isFlow = isFlow
        switch kind {
        case .scalar: children = .none
        case .sequence: children = .items(items)
        case .mapping: children = .pairs(pairs, flat: flatPairs)
        }
        self.value = value
        self.expandedSize = expandedSize
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
        for pair in pairs {
            switch pair.key.value {
            case .string(let s), .unsafe(let s):
                if s == key { return pair }
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
