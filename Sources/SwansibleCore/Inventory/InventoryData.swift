import OrderedCollections
import SwansibleData

/// A group as ansible-core's `Group` keeps it.
struct GroupRecord: Sendable {
    var name: String
    /// Hosts added to this group directly, in the order they were added.
    var hosts: [String] = []
    var hostSet: Set<String> = []
    var vars = ValueDict()
    var children: [String] = []
    var parents: [String] = []
    /// The longest path from a root group (`all` once the inventory is reconciled).
    var depth = 0
    /// `ansible_group_priority`.
    var priority = 1
}

/// A host as ansible-core's `Host` keeps it.
struct HostRecord: Sendable {
    var name: String
    var vars = ValueDict()
    /// The groups the host is in, directly or through a child group (ansible-core's `host.groups`).
    var groups: [String] = []
    /// The implicit `localhost` made on demand when the inventory has none.
    var implicit = false
}

/// An error raised while building the inventory (ansible-core's `AnsibleError` from `InventoryData`).
struct InventoryDataError: Error, Equatable {
    var message: String
}

/// ansible-core's `InventoryData`: the hosts and groups and their relations, with the same rules for adding
/// members and children, depth tracking, loop detection, and the reconciliation that puts every group under
/// `all` and every group-less host in `ungrouped`.
struct InventoryData: Sendable {
    var groups: OrderedDictionary<String, GroupRecord> = [:]
    var hosts: OrderedDictionary<String, HostRecord> = [:]
    /// The name of the host that stands for `localhost` (the first localhost-like host of the inventory).
    var localhostName: String?
    /// The implicit localhost once something gave it a group (ansible-core keeps it outside `hosts`).
    var implicitLocalhost: HostRecord?
    /// The source being parsed (`inventory_file` of the hosts it adds).
    var currentSource: String?
    var warnings: [String] = []

    static let localhostNames: Set<String> = ["127.0.0.1", "localhost", "::1"]

    init() {
        addGroup("all")
        addGroup("ungrouped")
        try! addChild("all", "ungrouped")
    }

    mutating func warn(_ message: String) {
        if !warnings.contains(message) { warnings.append(message) }
    }

    // MARK: building

    /// `add_group`: adds the group unless present and answers its name.
    @discardableResult
    mutating func addGroup(_ name: String) -> String {
        if groups[name] == nil {
            if Self.hasInvalidGroupCharacters(name) {
                warn("Invalid characters were found in group names but not replaced, use -vvvv to see details")
            }
            groups[name] = GroupRecord(name: name)
        }
        return name
    }

    /// ansible-core's `INVALID_VARIABLE_NAMES` test (`^[\d\W]|[^\w]`).
    static func hasInvalidGroupCharacters(_ name: String) -> Bool {
        guard let first = name.first else { return false }
        func isWord(_ c: Character) -> Bool { c == "_" || c.isLetter || c.isNumber }
        if first.isNumber || !isWord(first) { return true }
        return !name.allSatisfy(isWord)
    }

    /// `add_host`: adds the host unless present (setting `inventory_file`/`inventory_dir` and `ansible_port`),
    /// then puts it in `group` if one is given.
    mutating func addHost(_ name: String, group: String? = nil, port: Int? = nil) throws(InventoryDataError) {
        guard !name.isEmpty else { throw InventoryDataError(message: "Invalid empty host name provided: \(name)") }
        if let group, groups[group] == nil {
            throw InventoryDataError(message: "Could not find group \(group) in inventory")
        }
        if hosts[name] == nil {
            var host = HostRecord(name: name)
            if let port { host.vars["ansible_port"] = .int(port) }
            if let source = currentSource {
                host.vars["inventory_file"] = .string(source)
                host.vars["inventory_dir"] = .string(InventoryFileSystem.basedir(source) ?? "None")
            } else {
                host.vars["inventory_file"] = .null
                host.vars["inventory_dir"] = .null
            }
            hosts[name] = host
            if Self.localhostNames.contains(name) {
                if let first = localhostName {
                    warn("A duplicate localhost-like entry was found (\(name)). First found localhost was \(first)")
                } else {
                    localhostName = name
                }
            }
        }
        if let group { addHostToGroup(name, group) }
    }

    /// `Group.add_host`: the host joins the group and, through `Host.add_group`, the group's ancestors.
    @discardableResult
    mutating func addHostToGroup(_ host: String, _ group: String) -> Bool {
        guard !groups[group]!.hostSet.contains(host) else { return false }
        groups[group]!.hosts.append(host)
        groups[group]!.hostSet.insert(host)
        let additions = ancestors(of: group)
        modifyHost(host) { record in
            for ancestor in additions where !record.groups.contains(ancestor) { record.groups.append(ancestor) }
            if !record.groups.contains(group) { record.groups.append(group) }
        }
        return true
    }

    /// `add_child`: a group or host becomes a member of `group`.
    @discardableResult
    mutating func addChild(_ group: String, _ child: String) throws(InventoryDataError) -> Bool {
        guard groups[group] != nil else { throw InventoryDataError(message: "\(group) is not a known group") }
        if groups[child] != nil { return try addChildGroup(group, child) }
        if hosts[child] != nil { return addHostToGroup(child, group) }
        throw InventoryDataError(message: "\(child) is not a known host nor group")
    }

    /// `Group.add_child_group`, with its loop detection and depth updates.
    mutating func addChildGroup(_ parent: String, _ child: String) throws(InventoryDataError) -> Bool {
        if parent == child { throw InventoryDataError(message: "can't add group to itself") }
        guard !groups[parent]!.children.contains(child) else { return false }
        let childAncestors = ancestors(of: child)
        var newAncestors = ancestors(of: parent)
        if newAncestors.contains(child) {
            throw InventoryDataError(
                message: "Adding group '\(child)' as child to '\(parent)' creates a recursive dependency loop.")
        }
        newAncestors.insert(parent)
        newAncestors.subtract(childAncestors)
        groups[parent]!.children.append(child)
        groups[child]!.depth = max(groups[parent]!.depth + 1, groups[child]!.depth)
        try checkChildrenDepth(child)
        if !groups[child]!.parents.contains(parent) {
            groups[child]!.parents.append(parent)
            for host in hostsOf(child) {
                let additions = orderedGroups(newAncestors)
                modifyHost(host) { record in
                    for g in additions where !record.groups.contains(g) { record.groups.append(g) }
                }
            }
        }
        return true
    }

    /// Groups of a set in inventory order, so that membership lists stay deterministic.
    private func orderedGroups(_ set: Set<String>) -> [String] {
        groups.keys.filter { set.contains($0) }
    }

    /// `_check_children_depth`: pushes the depth of `group` down to its descendants.
    mutating func checkChildrenDepth(_ group: String) throws(InventoryDataError) {
        var depth = groups[group]!.depth
        let startDepth = depth
        var seen: Set<String> = []
        var unprocessed = OrderedSet(groups[group]!.children)
        while !unprocessed.isEmpty {
            seen.formUnion(unprocessed)
            depth += 1
            let level = unprocessed
            unprocessed = []
            for g in level where groups[g]!.depth < depth {
                groups[g]!.depth = depth
                unprocessed.append(contentsOf: groups[g]!.children)
            }
            if depth - startDepth > seen.count {
                throw InventoryDataError(message: "The group named '\(group)' has a recursive dependency loop.")
            }
        }
    }

    /// `Group.remove_host`, with `Host.remove_group` dropping ancestors no other group of the host has.
    mutating func removeHost(_ host: String, fromGroup group: String) {
        guard groups[group]!.hostSet.contains(host) else { return }
        groups[group]!.hosts.removeAll { $0 == host }
        groups[group]!.hostSet.remove(host)
        removeGroup(group, fromHost: host)
    }

    private mutating func removeGroup(_ group: String, fromHost host: String) {
        guard let index = record(host)?.groups.firstIndex(of: group) else { return }
        modifyHost(host) { $0.groups.remove(at: index) }
        for old in ancestors(of: group) where old != "all" {
            let stillNeeded = record(host)!.groups.contains { ancestors(of: $0).contains(old) }
            if !stillNeeded { removeGroup(old, fromHost: host) }
        }
    }

    /// `set_variable` on a group or host; `ansible_group_priority` sets a group's priority instead.
    mutating func setVariable(_ entity: String, _ key: String, _ value: Value) throws(InventoryDataError) {
        if groups[entity] != nil {
            if key == "ansible_group_priority" {
                guard let priority = Self.pythonIntConversion(value) else {
                    throw InventoryDataError(
                        message: "invalid literal for int() with base 10: '\(value.stringValue ?? value.json())'")
                }
                groups[entity]!.priority = priority
            } else {
                groups[entity]!.vars[key] = value
            }
        } else if hosts[entity] != nil {
            hosts[entity]!.vars[key] = value
        } else {
            throw InventoryDataError(message: "Could not identify group or host named \(entity)")
        }
    }

    /// Python's `int(value)` for the values an inventory gives.
    static func pythonIntConversion(_ value: Value) -> Int? {
        switch value {
        case .int(let i): return i
        case .bool(let b): return b ? 1 : 0
        case .float(let d): return d.isFinite ? Int(d.rounded(.towardZero)) : nil
        case .string(let s), .unsafe(let s): return HostAddress.pythonInt(Substring(s))
        default: return nil
        }
    }

    // MARK: queries

    /// A host of the inventory, or the implicit localhost once it was made part of a group.
    func record(_ name: String) -> HostRecord? {
        if let host = hosts[name] { return host }
        if let local = implicitLocalhost, local.name == name { return local }
        return nil
    }

    mutating func modifyHost(_ name: String, _ body: (inout HostRecord) -> Void) {
        if hosts[name] != nil {
            body(&hosts[name]!)
        } else if implicitLocalhost?.name == name {
            body(&implicitLocalhost!)
        }
    }

    /// `get_ancestors`: every group above `group`.
    func ancestors(of group: String) -> Set<String> {
        var seen: Set<String> = []
        var pending = groups[group]?.parents ?? []
        while let g = pending.popLast() {
            if seen.insert(g).inserted { pending += groups[g]?.parents ?? [] }
        }
        return seen
    }

    /// `get_descendants(include_self=True, preserve_ordering=True)`, level by level. ansible-core walks each
    /// level as a Python set, whose order follows memory addresses; here a level keeps discovery order.
    func descendantsInOrder(of group: String) -> [String] {
        var ordered = [group] + groups[group]!.children
        var seen: Set<String> = [group]
        var unprocessed = OrderedSet(groups[group]!.children)
        while !unprocessed.isEmpty {
            seen.formUnion(unprocessed)
            var next = OrderedSet<String>()
            for g in unprocessed {
                for child in groups[g]!.children {
                    next.append(child)
                    if !seen.contains(child) { ordered.append(child) }
                }
            }
            unprocessed = next.subtracting(seen)
        }
        return ordered
    }

    /// `Group.get_hosts`: the hosts of the group and its descendants, without duplicates; `all` leaves out the
    /// implicit localhost.
    func hostsOf(_ group: String) -> [String] {
        var result: [String] = []
        var seen: Set<String> = []
        for g in descendantsInOrder(of: group) {
            for h in groups[g]!.hosts where seen.insert(h).inserted {
                if group == "all" && record(h)?.implicit == true { continue }
                result.append(h)
            }
        }
        return result
    }

    /// `reconcile_inventory`: every group without a parent goes under `all`; hosts in no group go to
    /// `ungrouped`, and hosts in another group leave it.
    mutating func reconcile() throws(InventoryDataError) {
        currentSource = nil
        for name in groups.keys where name != "all" && ancestors(of: name).isEmpty {
            try addChild("all", name)
        }
        for name in hosts.keys {
            let host = hosts[name]!
            if host.groups.contains("ungrouped") {
                if host.groups.contains(where: { $0 != "all" && $0 != "ungrouped" }) {
                    removeHost(name, fromGroup: "ungrouped")
                }
            } else if !host.implicit {
                if host.groups.isEmpty || (host.groups.count == 1 && host.groups[0] == "all") {
                    try addChild("ungrouped", name)
                }
            }
        }
        for name in groups.keys.filter({ hosts[$0] != nil }).sorted() {
            warn("Found both group and host with same name: \(name)")
        }
    }

    /// `sort_groups`: by depth, then priority, then name.
    func sortedGroups(_ names: [String]) -> [String] {
        names.sorted { a, b in
            let ga = groups[a]!
            let gb = groups[b]!
            if ga.depth != gb.depth { return ga.depth < gb.depth }
            if ga.priority != gb.priority { return ga.priority < gb.priority }
            return Value.pythonStringLess(a, b)
        }
    }
}
