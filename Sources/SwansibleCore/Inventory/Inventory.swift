public import OrderedCollections
public import SwansibleData
import SwansibleYAML

/// Settings of ansible-core that change how inventory sources are read and patterns matched.
public struct InventoryOptions: Sendable, Hashable {
    /// What to do when a host pattern matches nothing (`HOST_PATTERN_MISMATCH`).
    public enum PatternMismatch: Sendable, Hashable {
        case warning, error, ignore
    }

    /// `INVENTORY_ANY_UNPARSED_IS_FAILED`: a source no plugin could parse is an error, not a warning.
    public var anyUnparsedIsFailed: Bool
    /// `INVENTORY_UNPARSED_IS_FAILED`: parsing no source at all is an error.
    public var unparsedIsFailed: Bool
    /// `INVENTORY_UNPARSED_WARNING`: warn when no source was parsed.
    public var unparsedWarning: Bool
    public var hostPatternMismatch: PatternMismatch
    /// `ansible_python_interpreter` of the implicit localhost (ansible-core uses its own `sys.executable`).
    public var localhostPythonInterpreter: String
    /// The default source (`DEFAULT_HOST_LIST`): missing, it is skipped silently.
    public var defaultSource: String

    public init(
        anyUnparsedIsFailed: Bool = false, unparsedIsFailed: Bool = false, unparsedWarning: Bool = true,
        hostPatternMismatch: PatternMismatch = .warning, localhostPythonInterpreter: String = "/usr/bin/python3",
        defaultSource: String = "/etc/ansible/hosts"
    ) {
        self.anyUnparsedIsFailed = anyUnparsedIsFailed
        self.unparsedIsFailed = unparsedIsFailed
        self.unparsedWarning = unparsedWarning
        self.hostPatternMismatch = hostPatternMismatch
        self.localhostPythonInterpreter = localhostPythonInterpreter
        self.defaultSource = defaultSource
    }
}

/// One host of the inventory.
public struct InventoryHost: Sendable, Hashable {
    /// `inventory_hostname`.
    public var name: String
    /// The variables the inventory sources gave the host itself (inline vars, `ansible_port` from `host:port`,
    /// `inventory_file`, `inventory_dir`), before group vars and vars files.
    public var variables: ValueDict
    /// `group_names`: the host's groups, direct or inherited, sorted, without `all`.
    public var groupNames: [String]
    /// True for the implicit `localhost` an inventory without one answers with.
    public var isImplicit: Bool
}

/// An Ansible inventory built exactly as ansible-core 2.19 builds it from `-i` sources: INI and YAML files,
/// directories of them, `host1,host2,` lists; `group_vars/` and `host_vars/` beside each source and beside the
/// playbook; host patterns with `--limit`.
///
/// ```swift
/// var warnings: [String] = []
/// let inventory = try Inventory.load(sources: ["inventory/hosts"], playbookDirectory: "site", warnings: &warnings)
/// let hosts = try inventory.select(pattern: "web:&prod", limit: nil)
/// let vars = inventory.variables(for: hosts[0])
/// ```
///
/// Host order is inventory order as ansible-core returns it; where ansible-core's order depends on Python set
/// iteration (hosts reached only through groups two or more levels below `all`, in sibling groups) this type
/// takes the groups in the order they were found.
public struct Inventory: Sendable {
    var data: InventoryData
    /// The sources as the `ansible` commands pass them on: paths with `~` and `$VARS` expanded, absolute and
    /// normalised; host lists as given.
    public let sources: [String]
    /// The directory beside which playbook `group_vars/` and `host_vars/` are read.
    public let playbookDirectory: String?
    let options: InventoryOptions
    /// Vars files beside each inventory source, in source order.
    var sourceVars: [VarsDirectory] = []
    /// Vars files beside the playbook.
    var playbookVars: [VarsDirectory] = []

    /// Reads every source and the `group_vars`/`host_vars` files that apply.
    ///
    /// A source that no plugin can parse is a warning (`Unable to parse … as an inventory source`, after one
    /// `Failed to parse inventory with '…' plugin` per plugin that tried), as in ansible-core with default
    /// settings; parsing nothing adds `No inventory was parsed, only implicit localhost is available`.
    /// Malformed vars files throw.
    ///
    /// - Parameters:
    ///   - sources: `-i` values: files, directories, or comma-separated host lists (`"a,b:2222,"`).
    ///   - playbookDirectory: the playbook's directory (`--playbook-dir`), whose `group_vars/` and `host_vars/`
    ///     rank above the inventory's.
    ///   - warnings: gets ansible-core's warnings, in order; deprecations start with `[DEPRECATION WARNING]: `.
    public static func load(
        sources: [String], playbookDirectory: String? = nil, options: InventoryOptions = InventoryOptions(),
        warnings: inout [String]
    ) throws(InventoryError) -> Inventory {
        // The CLI unfracks `-i` paths before the inventory sees them (and vars files are found from those).
        let sources = sources.map { $0.isEmpty || $0.contains(",") ? $0 : InventoryFileSystem.unfrack($0) }
        var loader = SourceLoader(options: options)
        var parsedAny = false
        for source in sources where !source.isEmpty {
            if try loader.parseSource(source) { parsedAny = true }
        }
        var data = loader.data
        if parsedAny {
            do { try data.reconcile() } catch { throw InventoryError(error.message) }
        } else if options.unparsedIsFailed {
            throw InventoryError("No inventory was parsed, please check your configuration and options.")
        } else if options.unparsedWarning {
            data.warn("No inventory was parsed, only implicit localhost is available")
        }
        var inventory = Inventory(
            data: data, sources: sources, playbookDirectory: playbookDirectory, options: options)
        var pending = inventory.data.warnings
        inventory.data.warnings = []
        try inventory.loadVarsFiles(warnings: &pending)
        warnings += pending
        return inventory
    }

    init(data: InventoryData, sources: [String], playbookDirectory: String?, options: InventoryOptions) {
        self.data = data
        self.sources = sources
        self.playbookDirectory = playbookDirectory
        self.options = options
    }

    /// The directories whose vars files apply: `get_vars_from_inventory_sources` skips host lists and uses a
    /// file source's directory.
    static func varsBase(forSource source: String) -> String? {
        if source.contains(",") && !InventoryFileSystem.exists(source) { return nil }
        let dir = InventoryFileSystem.isDirectory(source) ? source : InventoryFileSystem.dirname(source)
        guard let base = InventoryFileSystem.basedir(dir) else { return nil }
        return InventoryFileSystem.realpath(base)
    }

    mutating func loadVarsFiles(warnings: inout [String]) throws(InventoryError) {
        let groups = Array(data.groups.keys)
        var hosts = Array(data.hosts.keys)
        for name in ["localhost", "127.0.0.1", "::1"] where data.hosts[name] == nil { hosts.append(name) }
        var cache: [String: VarsDirectory] = [:]
        func load(_ base: String) throws(InventoryError) -> VarsDirectory {
            if let done = cache[base] { return done }
            var dir = VarsDirectory(base: base)
            try dir.load(groups: groups, hosts: hosts, warnings: &warnings)
            cache[base] = dir
            return dir
        }
        for source in sources where !source.isEmpty {
            guard let base = Self.varsBase(forSource: source) else { continue }
            sourceVars.append(try load(base))
        }
        if let playbookDirectory, let base = InventoryFileSystem.basedir(playbookDirectory) {
            playbookVars.append(try load(InventoryFileSystem.realpath(base)))
        }
    }

    // MARK: hosts and groups

    /// Every host of the inventory in inventory order (the hosts of `all`), without the implicit localhost.
    public var hostNames: [String] { data.hostsOf("all") }

    /// Every group name, in the order the groups were created (`all` and `ungrouped` first).
    public var groupNames: [String] { Array(data.groups.keys) }

    /// The host of that name; `localhost`, `127.0.0.1` and `::1` give the implicit localhost when the inventory
    /// has no such host.
    public func host(named name: String) -> InventoryHost? {
        guard let record = hostRecord(named: name) else { return nil }
        return InventoryHost(
            name: record.name, variables: record.vars, groupNames: groupNames(for: name), isImplicit: record.implicit)
    }

    /// ansible-core's `get_host`, which makes the implicit localhost on demand.
    func hostRecord(named name: String) -> HostRecord? {
        if let host = data.hosts[name] { return host }
        guard InventoryData.localhostNames.contains(name) else { return nil }
        if let local = data.localhostName { return data.hosts[local] }
        if let implicit = data.implicitLocalhost { return implicit }
        return makeImplicitLocalhost(name)
    }

    /// `_create_implicit_localhost`.
    func makeImplicitLocalhost(_ name: String) -> HostRecord {
        var host = HostRecord(name: name)
        host.implicit = true
        host.vars["ansible_python_interpreter"] = .string(options.localhostPythonInterpreter)
        host.vars["ansible_connection"] = .string("local")
        return host
    }

    /// The hosts of a group and its descendants in inventory order, or nil for an unknown group.
    public func hosts(inGroup group: String) -> [String]? {
        guard data.groups[group] != nil else { return nil }
        return data.hostsOf(group)
    }

    /// The direct child groups of a group, or nil for an unknown group.
    public func children(ofGroup group: String) -> [String]? { data.groups[group]?.children }

    /// The `group_names` magic variable: the host's groups, sorted, without `all`.
    public func groupNames(for host: String) -> [String] {
        guard let record = hostRecord(named: host) else { return [] }
        return record.groups.filter { $0 != "all" }.sorted(by: Value.pythonStringLess)
    }

    /// The `groups` magic variable: every group (in creation order) with its hosts in inventory order.
    public var groupsMagicVariable: Value {
        var dict = ValueDict()
        for name in data.groups.keys { dict[name] = .list(data.hostsOf(name).map { .string($0) }) }
        return .dict(dict)
    }

    // MARK: variables

    /// The inventory-level variables of a host, merged in ansible-core's order and not templated: `all` group
    /// vars, other group vars (by depth, `ansible_group_priority`, name), `group_vars/all` beside the sources then
    /// the playbook, other `group_vars` beside the sources then the playbook, the host's own vars, `host_vars`
    /// beside the sources then the playbook. Includes `inventory_file` and `inventory_dir`; the magic variables
    /// (`inventory_hostname`, `group_names`, `groups`, …) are not included. Empty for an unknown host.
    public func variables(for host: String) -> ValueDict {
        guard let record = hostRecord(named: host) else { return [:] }
        let hostGroups = data.sortedGroups(record.groups.filter { $0 != "all" })
        var vars = data.groups["all"]!.vars
        for group in hostGroups { vars = combineInventoryVars(vars, data.groups[group]!.vars) }
        for dir in sourceVars { if let v = dir.groupVars["all"] { vars = combineInventoryVars(vars, v) } }
        for dir in playbookVars { if let v = dir.groupVars["all"] { vars = combineInventoryVars(vars, v) } }
        for dir in sourceVars {
            for group in hostGroups { if let v = dir.groupVars[group] { vars = combineInventoryVars(vars, v) } }
        }
        for dir in playbookVars {
            for group in hostGroups { if let v = dir.groupVars[group] { vars = combineInventoryVars(vars, v) } }
        }
        vars = combineInventoryVars(vars, record.vars)
        for dir in sourceVars { if let v = dir.hostVars[record.name] { vars = combineInventoryVars(vars, v) } }
        for dir in playbookVars { if let v = dir.hostVars[record.name] { vars = combineInventoryVars(vars, v) } }
        return vars
    }

    /// The variables of a group as ansible-core keeps them from the inventory sources (not vars files).
    public func groupVariables(_ group: String) -> ValueDict? { data.groups[group]?.vars }
}

/// Tries each inventory plugin on each source, as `InventoryManager.parse_source` does.
struct SourceLoader {
    var data = InventoryData()
    let options: InventoryOptions

    init(options: InventoryOptions) {
        self.options = options
    }

    /// ansible-core's ignore list for directory sources: hidden files, `group_vars`, `host_vars`,
    /// `vars_plugins` and `INVENTORY_IGNORE_EXTS`.
    static func isIgnored(_ name: String) -> Bool {
        if name.hasPrefix(".") || ["host_vars", "group_vars", "vars_plugins"].contains(name) { return true }
        let exts = [".pyc", ".pyo", ".swp", ".bak", "~", ".rpm", ".md", ".txt", ".rst", ".orig", ".cfg", ".retry"]
        return exts.contains { name.hasSuffix($0) }
    }

    /// Parses one source; true when some plugin parsed it (or, for a directory, some file in it).
    mutating func parseSource(_ source: String) throws(InventoryError) -> Bool {
        if InventoryFileSystem.isDirectory(source) {
            var parsed = false
            for entry in InventoryFileSystem.listDirectory(source) where !Self.isIgnored(entry) {
                if try parseSource(InventoryFileSystem.join(source, entry)) { parsed = true }
            }
            return parsed
        }
        data.currentSource = source
        defer { data.currentSource = nil }
        var failures: [(plugin: String, failure: PluginFailure)] = []
        var parsed = false
        let exists = InventoryFileSystem.exists(source)
        let readable = exists && InventoryFileSystem.isReadable(source)
        let ext = InventoryFileSystem.fileExtension(source)
        var yamlCache: Result<YAMLParse, PluginFailure>?

        func yaml() -> Result<YAMLParse, PluginFailure> {
            if let yamlCache { return yamlCache }
            let result = Self.parseYAML(source)
            yamlCache = result
            return result
        }

        plugins: for plugin in ["host_list", "script", "auto", "yaml", "ini", "toml"] {
            do throws(PluginFailure) {
                switch plugin {
                case "host_list":
                    guard !exists && source.contains(",") else { continue plugins }
                    try parseHostList(source)
                case "script":
                    guard readable && InventoryFileSystem.isExecutable(source) else { continue plugins }
                    var parser = ScriptInventoryParser(inventory: data, path: source)
                    defer { data = parser.inventory }
                    try parser.parse()
                case "auto":
                    guard readable && (source.hasSuffix(".yml") || source.hasSuffix(".yaml")) else { continue plugins }
                    let parse = try yaml().get()
                    guard let root = parse.root, root.isMapping, let name = root["plugin"], name.value.isTruthy
                    else {
                        throw PluginFailure(
                            "no root 'plugin' key found, '\(source)' is not a valid YAML inventory plugin config file")
                    }
                    throw YAMLInventoryParser.failure(
                        "inventory config '\(source)' specifies unknown plugin '\(inventoryPythonStr(name.value))' "
                            + "(swansible does not run inventory plugins)", name)
                case "yaml":
                    guard readable && ["", ".yaml", ".yml", ".json"].contains(ext) else { continue plugins }
                    let parse = try yaml().get()
                    for w in parse.warnings { data.warn(w) }
                    var parser = YAMLInventoryParser(inventory: data, path: source)
                    defer { data = parser.inventory }
                    try parser.parse(parse.root)
                case "ini":
                    guard readable && ext != ".toml" else { continue plugins }
                    guard let text = InventoryFileSystem.readText(source) else {
                        throw PluginFailure("Unable to read file")
                    }
                    var parser = INIInventoryParser(inventory: data, path: source)
                    defer { data = parser.inventory }
                    try parser.parse(text)
                default:  // toml
                    guard readable && ext == ".toml" else { continue plugins }
                    throw PluginFailure("TOML inventories are not supported by swansible")
                }
                parsed = true
                break plugins
            } catch {
                failures.append((plugin, error))
            }
        }
        if !parsed && (source != options.defaultSource || exists) {
            for (plugin, failure) in failures {
                let place =
                    exists
                    ? InventoryError.location(file: source, line: failure.line, column: failure.column) + ": " : ""
                data.warn("Failed to parse inventory with '\(plugin)' plugin: \(place)\(failure.message)")
            }
            if options.anyUnparsedIsFailed {
                throw InventoryError("Completely failed to parse inventory source \(source)")
            }
            data.warn("Unable to parse \(source) as an inventory source")
        }
        return parsed
    }

    struct YAMLParse {
        var root: YAMLNode?
        var warnings: [String]
    }

    static func parseYAML(_ path: String) -> Result<YAMLParse, PluginFailure> {
        guard let text = InventoryFileSystem.readText(path) else {
            return .failure(PluginFailure("Unable to read file"))
        }
        var warnings: [String] = []
        do {
            let root = try loadInventoryYAML(text: text, file: path, warnings: &warnings)
            return .success(YAMLParse(root: root, warnings: warnings))
        } catch {
            return .failure(
                PluginFailure(error.message, line: error.mark.line, column: error.mark.column))
        }
    }

    /// ansible-core's `host_list` plugin: `host1,host2:2222,` into `ungrouped`.
    mutating func parseHostList(_ list: String) throws(PluginFailure) {
        for item in list.split(separator: ",", omittingEmptySubsequences: false) {
            let text = String(item.pythonStripped())
            guard !text.isEmpty else { continue }
            var host = text
            var port: Int?
            if let parsed = try? HostAddress.parse(text, allowRanges: false) {
                host = parsed.host
                port = parsed.port
            }
            guard data.hosts[host] == nil else { continue }
            do {
                try data.addHost(host, group: "ungrouped", port: port)
            } catch {
                throw PluginFailure("Invalid data from string, could not parse: \(error.message)")
            }
        }
    }
}
