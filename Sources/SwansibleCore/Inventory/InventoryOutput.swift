public import SwansibleData

extension Inventory {
    /// What `ansible-inventory --list` prints, as data: each group reachable from `all` with its direct `hosts`
    /// and `children` (empty keys and empty groups left out), and `_meta.hostvars` with every host's merged
    /// variables less ansible-core's internal ones (hosts without variables left out; strings that may not be
    /// templated written as `{"__ansible_unsafe": "…"}`).
    ///
    /// Print it as ansible-core does with
    /// `json(Value.JSONFormat(indent: 4, sortKeys: true, ensureASCII: true))`.
    public func listJSON() -> Value {
        // The limit only fails on a bad pattern, which nil cannot be.
        (try? listJSON(limit: nil)) ?? .null
    }

    /// ``listJSON()`` restricted to the hosts a `--limit` selects.
    public func listJSON(limit: String?) throws(InventoryError) -> Value {
        let hosts = try select(pattern: "all", limit: limit)
        let available = Set(hosts)
        var results = ValueDict()
        var seen: Set<String> = []
        func format(_ group: String) {
            let record = data.groups[group]!
            var entry = ValueDict()
            if group != "all" {
                let members = record.hosts.filter { available.contains($0) }
                if !members.isEmpty { entry["hosts"] = .list(members.map { .string($0) }) }
            }
            if !record.children.isEmpty { entry["children"] = .list(record.children.map { .string($0) }) }
            results[group] = .dict(entry)
            for child in record.children where !seen.contains(child) {
                format(child)
                seen.insert(child)
            }
            if entry.isEmpty { results[group] = nil }
        }
        format("all")
        var hostvars = ValueDict()
        for host in hosts {
            let vars = variables(for: host).filter { !InventoryVariables.internalStatic.contains($0.key) }
            if !vars.isEmpty { hostvars[host] = Self.legacyInventoryEncoding(.dict(vars)) }
        }
        results["_meta"] = .dict(["hostvars": .dict(hostvars), "profile": "inventory_legacy"])
        return .dict(results)
    }

    /// ansible-core's `inventory_legacy` JSON profile marks strings that may not be templated as
    /// `{"__ansible_unsafe": "…"}` inside `_meta.hostvars`.
    static func legacyInventoryEncoding(_ value: Value) -> Value {
        switch value {
        case .unsafe(let s): return .dict(["__ansible_unsafe": .string(s)])
        case .list(let items): return .list(items.map(legacyInventoryEncoding))
        case .dict(let d): return .dict(d.mapValues(legacyInventoryEncoding))
        default: return value
        }
    }

    /// What `ansible-inventory --graph [group]` prints: the group tree under `group` (default `all`) with each
    /// group's direct hosts, or nil when there is no such group ("Pattern must be valid group name when using
    /// --graph").
    public func graph(group: String? = nil) -> String? {
        let start = group ?? "all"
        guard data.groups[start] != nil else { return nil }
        var lines: [String] = []
        func name(_ text: String, _ depth: Int) -> String {
            depth == 0 ? text : String(repeating: "  |", count: depth) + "--" + text
        }
        func walk(_ group: String, _ depth: Int) {
            lines.append(name("@\(group):", depth))
            let record = data.groups[group]!
            for child in record.children { walk(child, depth + 1) }
            if group != "all" {
                for host in record.hosts { lines.append(name(host, depth + 1)) }
            }
        }
        walk(start, 0)
        return lines.joined(separator: "\n")
    }

    /// What `ansible-inventory --host NAME` prints, as data: the host's variables less ansible-core's internal
    /// ones; nil when the name is not exactly one host.
    public func hostJSON(_ name: String) -> Value? {
        guard let hosts = try? select(pattern: name), hosts.count == 1 else { return nil }
        return .dict(variables(for: hosts[0]).filter { !InventoryVariables.internalStatic.contains($0.key) })
    }
}
