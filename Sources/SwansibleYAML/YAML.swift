internal import CLibYAML
public import SwansibleData

/// The libyaml version this module is linked against.
public var libyamlVersion: String { String(cString: yaml_get_version_string()) }

/// How YAML is loaded. The defaults are ansible-core's `AnsibleLoader` reading a playbook.
public struct YAMLLoadOptions: Sendable, Hashable {
    /// ansible-core's `DUPLICATE_YAML_DICT_KEY` setting.
    public enum DuplicateKeys: Sendable, Hashable {
        /// Keep the last value and collect a warning (the default).
        case warn
        /// Fail with `Found duplicate mapping key 'k'.`
        case error
        /// Keep the last value silently.
        case ignore
    }

    public var duplicateKeys: DuplicateKeys
    /// Accept ansible-core's tags `!unsafe` and `!vault` (`AnsibleLoader`). The `from_yaml` filter loads
    /// without them (`AnsibleInstrumentedLoader`), where they are unknown tags.
    public var ansibleTags: Bool
    /// Strings may be templated. When false (text that did not come from a trusted file) every string is
    /// ``Value/unsafe(_:)``, as if the whole document were tagged `!unsafe`.
    public var trusted: Bool
    /// How many nodes a document may stand for once its aliases are expanded; more is refused as an alias
    /// bomb ("billion laughs").
    public var maxExpandedNodes: Int

    public init(
        duplicateKeys: DuplicateKeys = .warn, ansibleTags: Bool = true, trusted: Bool = true,
        maxExpandedNodes: Int = 10_000_000
    ) {
        self.duplicateKeys = duplicateKeys
        self.ansibleTags = ansibleTags
        self.trusted = trusted
        self.maxExpandedNodes = maxExpandedNodes
    }

    /// ansible-core reading a playbook, role or vars file.
    public static let ansible = YAMLLoadOptions()
    /// The `from_yaml` / `from_yaml_all` filters: no Ansible tags.
    public static let fromYAMLFilter = YAMLLoadOptions(ansibleTags: false)
}

extension YAMLDocument {
    /// Loads every document of a YAML stream (`yaml.load_all` with ansible-core's loader).
    ///
    /// - Parameters:
    ///   - text: the YAML source.
    ///   - file: the name used in marks and errors.
    /// - Returns: one document per `---` section (none for an empty stream).
    public static func parse(_ text: String, file: String, options: YAMLLoadOptions = .ansible)
        throws(YAMLError) -> [YAMLDocument]
    {
        try Composer(text: text, file: file, options: options).load(single: false)
    }

    /// Loads a stream that must hold at most one document (`yaml.load`, how ansible-core reads playbooks
    /// and vars files): nil for an empty stream; a second document is the error `Expected a single document
    /// in the stream but found another document.`
    public static func parseSingle(_ text: String, file: String, options: YAMLLoadOptions = .ansible)
        throws(YAMLError) -> YAMLDocument?
    {
        try Composer(text: text, file: file, options: options).load(single: true).first
    }

    /// ``parseSingle(_:file:options:)`` for a document that is mostly a list (a playbook): when the root is an
    /// untagged sequence, each of its items is handed to `eachItem` as soon as it is composed, while the rest
    /// of the input is still being parsed, and the returned root's ``YAMLNode/items`` are empty. An error the
    /// load throws (a syntax error anywhere in the stream, a construction error) comes after items were handed
    /// over: the caller keeps what it derives from them, including its own errors, until this returns.
    public static func parseSingle(
        _ text: String, file: String, options: YAMLLoadOptions = .ansible, eachItem: (YAMLNode) -> Void
    ) throws(YAMLError) -> YAMLDocument? {
        try Composer(text: text, file: file, options: options)
            .load(single: true, streamRootItems: true, eachRootItem: eachItem).first
    }
}

/// Convenience entry points.
public enum YAML {
    /// The data of a single-document stream (null when empty), dropping warnings. See
    /// ``YAMLDocument/parseSingle(_:file:options:)``.
    public static func loadValue(text: String, file: String, options: YAMLLoadOptions = .ansible)
        throws(YAMLError) -> Value
    {
        try YAMLDocument.parseSingle(text, file: file, options: options)?.value ?? .null
    }

    /// The data of every document of a stream, dropping warnings.
    public static func loadAllValues(text: String, file: String, options: YAMLLoadOptions = .ansible)
        throws(YAMLError) -> [Value]
    {
        try YAMLDocument.parse(text, file: file, options: options).map(\.value)
    }
}
