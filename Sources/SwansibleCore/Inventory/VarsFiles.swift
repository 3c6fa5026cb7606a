import SwansibleData
import SwansibleYAML

enum InventoryVariables {
    /// ansible-core's `validate_variable_name`: an ASCII identifier that is not a Jinja constant or `not`.
    static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.unicodeScalars.allSatisfy(\.isASCII) else { return false }
        guard first == "_" || first.properties.isAlphabetic else { return false }
        guard name.unicodeScalars.allSatisfy({ $0 == "_" || $0.properties.isAlphabetic || ("0"..."9").contains($0) })
        else { return false }
        return !["true", "false", "none", "True", "False", "None", "not"].contains(name)
    }

    /// ansible-core's `INTERNAL_STATIC_VARS`: names `ansible-inventory` leaves out of host variables.
    static let internalStatic: Set<String> = [
        "ansible_async_path", "ansible_collection_name", "ansible_config_file", "ansible_dependent_role_names",
        "ansible_diff_mode", "ansible_facts", "ansible_forks", "ansible_inventory_sources", "ansible_limit",
        "ansible_play_batch", "ansible_play_hosts", "ansible_play_hosts_all", "ansible_play_role_names",
        "ansible_playbook_python", "ansible_role_name", "ansible_role_names", "ansible_run_tags",
        "ansible_skip_tags", "ansible_verbosity", "ansible_version", "inventory_dir", "inventory_file",
        "inventory_hostname", "inventory_hostname_short", "groups", "group_names", "hostvars", "playbook_dir",
        "play_hosts", "role_name", "role_names", "role_path", "role_uuid",
    ]
}

/// `combine_vars` with the default `hash_behaviour=replace`: keys of `b` replace those of `a` in place, new
/// keys follow.
func combineInventoryVars(_ a: ValueDict, _ b: ValueDict) -> ValueDict {
    if a.isEmpty { return b }
    var result = a
    for (k, v) in b { result[k] = v }
    return result
}

/// The variables of `group_vars/` and `host_vars/` beside one inventory source or playbook, as ansible-core's
/// `host_group_vars` plugin finds them: for an entity `name`, the first of `name`, `name.yml`, `name.yaml`,
/// `name.json` that exists; a directory of that name contributes its files (recursively, sorted, skipping
/// hidden and `~` backups, only those extensions or none).
struct VarsDirectory: Sendable {
    /// The canonical directory holding `group_vars/` and `host_vars/`.
    let base: String
    var groupVars: [String: ValueDict] = [:]
    var hostVars: [String: ValueDict] = [:]

    static let extensions = [".yml", ".yaml", ".json"]

    init(base: String) {
        self.base = base
    }

    /// Loads the variables of the given groups and hosts. `warnings` gets ansible-core's warning for a
    /// `group_vars`/`host_vars` that is not a directory and YAML warnings (duplicate keys).
    mutating func load(groups: [String], hosts: [String], warnings: inout [String]) throws(InventoryError) {
        for (subdir, names, isGroup) in [("group_vars", groups, true), ("host_vars", hosts, false)] {
            let dir = InventoryFileSystem.join(base, subdir)
            guard InventoryFileSystem.exists(dir) else { continue }
            guard InventoryFileSystem.isDirectory(dir) else {
                let text = "Found \(subdir) that is not a directory, skipping: \(dir)"
                if !warnings.contains(text) { warnings.append(text) }
                continue
            }
            let entries = Set(InventoryFileSystem.listDirectory(dir))
            for name in names where !name.hasPrefix("/") {
                let files = Self.findVarsFiles(dir, name, entries: name.contains("/") ? nil : entries)
                guard !files.isEmpty else { continue }
                var data = ValueDict()
                for file in files {
                    data = try Self.loadFile(file, into: data, warnings: &warnings)
                }
                if isGroup { groupVars[name] = data } else { hostVars[name] = data }
            }
        }
    }

    /// `DataLoader.find_vars_files`.
    static func findVarsFiles(_ dir: String, _ name: String, entries: Set<String>?) -> [String] {
        for ext in [""] + extensions {
            let candidate = name + ext
            if let entries, !entries.contains(candidate) { continue }
            let path = InventoryFileSystem.join(dir, candidate)
            guard InventoryFileSystem.exists(path) else { continue }
            if InventoryFileSystem.isDirectory(path) { return directoryFiles(path) }
            return [path]
        }
        return []
    }

    /// `DataLoader._get_dir_vars_files`.
    static func directoryFiles(_ dir: String) -> [String] {
        var found: [String] = []
        for entry in InventoryFileSystem.listDirectory(dir) where !entry.hasPrefix(".") && !entry.hasSuffix("~") {
            let ext = InventoryFileSystem.fileExtension(entry)
            let path = InventoryFileSystem.join(dir, entry)
            if InventoryFileSystem.isDirectory(path) && ext.isEmpty {
                found += directoryFiles(path)
            } else if InventoryFileSystem.isFile(path) && (ext.isEmpty || extensions.contains(ext)) {
                found.append(path)
            }
        }
        return found
    }

    /// Reads one vars file and merges it over `data`; empty files add nothing.
    static func loadFile(
        _ path: String, into data: ValueDict, warnings: inout [String]
    ) throws(InventoryError)
        -> ValueDict
    {
        guard let text = InventoryFileSystem.readText(path) else {
            throw InventoryError("Could not read file '\(path)'.", file: path)
        }
        let root: YAMLNode?
        do {
            root = try loadInventoryYAML(text: text, file: path, warnings: &warnings)
        } catch {
            throw InventoryError(
                error.message, file: path, line: error.mark.line,
                column: error.mark.column)
        }
        guard let root, root.value.isTruthy else { return data }
        guard case .dict(let dict) = root.value else {
            throw InventoryError(
                "Could not process '\(path)': failed to combine variables, expected dicts but got a 'dict' and a "
                    + "'\(root.value.pythonTypeName)'.", file: path, line: root.mark.line, column: root.mark.column)
        }
        return combineInventoryVars(data, dict)
    }
}
