import SwansibleData
import SwansibleYAML

/// Loads a YAML (or JSON) file as ansible-core's `DataLoader.load_from_file` does for inventories and vars
/// files: the document root with marks, or nil for an empty file.
func loadInventoryYAML(text: String, file: String, warnings: inout [String]) throws(YAMLError) -> YAMLNode? {
    guard let document = try YAMLDocument.parseSingle(text, file: file) else { return nil }
    for w in document.warnings {
        let text = "\(w.mark): \(w.message)" + (w.help.map { " " + $0 } ?? "")
        if !warnings.contains(text) { warnings.append(text) }
    }
    return document.root
}

/// Python's `type(x)` as ansible-core prints it in inventory messages, for a YAML node.
func inventoryPythonClassName(_ value: Value) -> String {
    "<class '\(value.pythonTypeName)'>"
}

/// ansible-core's `yaml` inventory plugin: top-level keys are groups, each with optional `hosts`, `vars` and
/// `children` mappings, nested to any depth.
struct YAMLInventoryParser {
    var inventory: InventoryData
    let path: String

    init(inventory: InventoryData, path: String) {
        self.inventory = inventory
        self.path = path
    }

    static func failure(_ message: String, _ node: YAMLNode?) -> PluginFailure {
        PluginFailure(message, line: node?.mark.line, column: node?.mark.column)
    }

    mutating func parse(_ root: YAMLNode?) throws(PluginFailure) {
        guard let root, root.value.isTruthy else { throw PluginFailure("Parsed empty YAML file") }
        guard root.isMapping else {
            throw Self.failure(
                "YAML inventory has invalid structure, it should be a dictionary, got: "
                    + inventoryPythonClassName(root.value), root)
        }
        if let plugin = root["plugin"], plugin.value.isTruthy {
            throw Self.failure("Plugin configuration YAML file, not YAML inventory", plugin)
        }
        for pair in root.pairs {
            _ = try parseGroup(pair.key, pair.value)
        }
    }

    private static func isMappingOrNull(_ node: YAMLNode) -> Bool { node.isMapping || node.value.isNull }

    /// `_parse_group`: answers the group's name.
    mutating func parseGroup(_ keyNode: YAMLNode, _ node: YAMLNode) throws(PluginFailure) -> String {
        let group = keyName(keyNode)
        guard Self.isMappingOrNull(node) else {
            inventory.warn("Skipping '\(group)' as this is not a valid group definition")
            return group
        }
        if !keyNode.value.isString {
            throw Self.failure(
                "Unable to add group \(group): Invalid group name supplied, expected a string but got "
                    + "\(inventoryPythonClassName(keyNode.value)) for \(group)", keyNode)
        }
        if group.isEmpty {
            throw Self.failure("Unable to add group : Invalid empty/false group name provided: ", keyNode)
        }
        inventory.addGroup(group)
        guard node.isMapping else { return group }

        // `vars`, `children` and `hosts` may be a single name, a mapping or null.
        for section in ["vars", "children", "hosts"] {
            guard let value = node[section], !value.value.isString else { continue }
            if !Self.isMappingOrNull(value) {
                throw Self.failure(
                    "Invalid \"\(section)\" entry for \"\(group)\" group, requires a dictionary, found "
                        + "\"\(inventoryPythonClassName(value.value))\" instead.", value)
            }
        }
        for pair in node.pairs {
            let key = keyName(pair.key)
            let value = pair.value
            let isSection = ["vars", "children", "hosts"].contains(key)
            let singleName = isSection && value.value.isString
            if !singleName && !Self.isMappingOrNull(value) {
                inventory.warn(
                    "Skipping key (\(key)) in group (\(group)) as it is not a mapping, it is a "
                        + inventoryPythonClassName(value.value))
                continue
            }
            if value.value.isNull { continue }
            switch key {
            case "vars":
                if singleName {
                    try setVariable(group, value.value.stringValue!, .null, value)
                } else {
                    for entry in value.pairs {
                        try setVariable(group, keyName(entry.key), entry.value.value, entry.key)
                    }
                }
            case "children":
                if singleName {
                    let name = value.value.stringValue!
                    inventory.addGroup(name)
                    try addChild(group, name, value)
                } else {
                    for entry in value.pairs {
                        let child = try parseGroup(entry.key, entry.value)
                        try addChild(group, child, entry.key)
                    }
                }
            case "hosts":
                if singleName {
                    try addHosts(value.value.stringValue!, nil, group, value)
                } else {
                    for entry in value.pairs {
                        guard entry.key.value.isString else {
                            throw Self.failure(
                                "Host pattern \(keyName(entry.key)) must be a string. Enclose integers/floats in "
                                    + "quotation marks.", entry.key)
                        }
                        try addHosts(keyName(entry.key), entry.value, group, entry.key)
                    }
                }
            default:
                inventory.warn(
                    "Skipping unexpected key (\(key)) in group (\(group)), only \"vars\", \"children\" and \"hosts\" "
                        + "are valid")
            }
        }
        return group
    }

    private func keyName(_ node: YAMLNode) -> String {
        switch node.value {
        case .string(let s), .unsafe(let s): return s
        case .null: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .float(let d): return pythonFloatRepr(d)
        default: return node.value.json()
        }
    }

    private mutating func addChild(_ group: String, _ child: String, _ node: YAMLNode) throws(PluginFailure) {
        do { try inventory.addChild(group, child) } catch { throw Self.failure(error.message, node) }
    }

    private mutating func setVariable(
        _ entity: String, _ key: String, _ value: Value, _ node: YAMLNode
    )
        throws(PluginFailure)
    {
        if !InventoryVariables.isValidName(key) {
            inventory.warn(
                "[DEPRECATION WARNING]: Accepting inventory variable with invalid name '\(key)'. This feature will be "
                    + "removed from ansible-core version 2.23. Origin: \(node.mark)")
        }
        do { try inventory.setVariable(entity, key, value) } catch { throw Self.failure(error.message, node) }
    }

    /// `_parse_host` and `_populate_host_vars`.
    private mutating func addHosts(
        _ pattern: String, _ varsNode: YAMLNode?, _ group: String, _ node: YAMLNode
    )
        throws(PluginFailure)
    {
        let hosts: [String]
        let port: Int?
        do { (hosts, port) = try HostAddress.expandPattern(pattern) } catch { throw Self.failure(error.message, node) }
        var entries: [YAMLPair] = []
        if let varsNode, varsNode.value.isTruthy {
            guard varsNode.isMapping else {
                throw Self.failure(
                    "Invalid data from file, expected dictionary and got:\n\n\(inventoryPythonStr(varsNode.value))",
                    varsNode)
            }
            entries = varsNode.pairs
        }
        for host in hosts {
            do { try inventory.addHost(host, group: group, port: port) } catch {
                throw Self.failure(error.message, node)
            }
            for entry in entries { try setVariable(host, keyName(entry.key), entry.value.value, entry.key) }
        }
    }
}

/// Python's `str(x)` for data, as error messages show values.
func inventoryPythonStr(_ value: Value) -> String {
    switch value {
    case .string(let s), .unsafe(let s): return s
    default: return inventoryPythonRepr(value)
    }
}

/// Python's `repr(x)` for data.
func inventoryPythonRepr(_ value: Value) -> String { value.pythonRepr }
