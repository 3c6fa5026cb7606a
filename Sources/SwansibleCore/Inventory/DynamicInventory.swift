public import OrderedCollections
public import SwansibleData

extension Inventory {
    /// What the `add_host` action does to the inventory (`InventoryManager.add_dynamic_host`): adds the host to
    /// `all` if it is new, merges `variables` over its own, puts it in `groups` (made as needed), and reconciles
    /// the inventory. `group_vars`/`host_vars` files of new hosts and groups are read as for loaded ones.
    ///
    /// - Returns: whether anything changed (the task's `changed`).
    @discardableResult
    public mutating func addDynamicHost(_ name: String, groups: [String] = [], variables: ValueDict = [:])
        throws(InventoryError) -> Bool
    {
        var changed = false
        var newNames: [String] = []
        do {
            if data.hosts[name] == nil {
                try data.addHost(name, group: "all")
                newNames.append(name)
                changed = true
            }
            let old = data.hosts[name]!.vars
            let merged = combineInventoryVars(old, variables)
            if merged != old {
                data.hosts[name]!.vars = merged
                changed = true
            }
            var newGroups: [String] = []
            for group in groups {
                if data.groups[group] == nil {
                    data.addGroup(group)
                    newGroups.append(group)
                    changed = true
                }
                if data.addHostToGroup(name, group) { changed = true }
            }
            if changed { try data.reconcile() }
            try loadVarsFiles(groups: newGroups, hosts: newNames)
        } catch let error as InventoryDataError {
            throw InventoryError(error.message)
        } catch let error as InventoryError {
            throw error
        } catch {
            throw InventoryError("\(error)")
        }
        return changed
    }

    /// What the `group_by` action does (`InventoryManager.add_dynamic_group`): makes the group and its parents as
    /// needed, makes it a child of each parent, puts the host in it, and reconciles the inventory. The implicit
    /// localhost can be grouped too.
    ///
    /// - Returns: whether anything changed.
    @discardableResult
    public mutating func addDynamicGroup(_ group: String, parents: [String] = [], host: String)
        throws(InventoryError) -> Bool
    {
        var changed = false
        guard let real = hostRecord(named: host) else { throw InventoryError("\(host) cannot be matched in inventory") }
        if real.implicit && data.implicitLocalhost == nil { data.implicitLocalhost = real }
        var newGroups: [String] = []
        do {
            if data.groups[group] == nil {
                data.addGroup(group)
                newGroups.append(group)
            }
            for parent in parents where data.groups[parent] == nil {
                data.addGroup(parent)
                newGroups.append(parent)
                changed = true
            }
            for parent in parents where try data.addChildGroup(parent, group) { changed = true }
            if !data.hostsOf(group).contains(real.name) {
                changed = data.addHostToGroup(real.name, group)
            }
            if changed { try data.reconcile() }
            try loadVarsFiles(groups: newGroups, hosts: [])
        } catch let error as InventoryDataError {
            throw InventoryError(error.message)
        } catch let error as InventoryError {
            throw error
        } catch {
            throw InventoryError("\(error)")
        }
        return changed
    }

    /// Reads the vars files of hosts and groups added after loading.
    mutating func loadVarsFiles(groups: [String], hosts: [String]) throws(InventoryError) {
        guard !groups.isEmpty || !hosts.isEmpty else { return }
        var warnings: [String] = []
        for i in sourceVars.indices { try sourceVars[i].load(groups: groups, hosts: hosts, warnings: &warnings) }
        for i in playbookVars.indices { try playbookVars[i].load(groups: groups, hosts: hosts, warnings: &warnings) }
    }
}
