public import SwansibleData
import Foundation

/// `ansible-playbook --list-hosts / --list-tasks / --list-tags`, byte for byte.
public enum PlaybookListing {
    public struct Request: Sendable {
        public var hosts = false
        public var tasks = false
        public var tags = false
        public var onlyTags: [String] = []
        public var skipTags: [String] = []
        public var limit: String?
        public init() {}
    }

    /// The text ansible-playbook prints on stdout for one playbook (`path` as given on the command line).
    ///
    /// One difference by design: ansible-core prints a play's hosts in the order of a Python set (which
    /// changes from run to run); swansible prints them in inventory order.
    public static func render(
        _ playbook: Playbook, path: String, inventory: Inventory, request: Request
    ) throws(InventoryError) -> String {
        var out = "\nplaybook: \(path)\n"
        for (index, play) in playbook.plays.enumerated() {
            let patterns = hostPatterns(play.hosts)
            let playTags = orderedUnique(TagSelection.tags(play.keywords["tags"]))
            var msg = "\n  play #\(index + 1) (\(patterns.joined(separator: ","))): \(play.name)"
            msg += "\tTAGS: [\(playTags.joined(separator: ","))]"
            if request.hosts {
                var warnings: [String] = []
                let hosts = try inventory.select(patterns: patterns, limit: request.limit, warnings: &warnings)
                msg += "\n    pattern: \(pythonList(patterns))\n    hosts (\(hosts.count)):"
                for h in hosts { msg += "\n      \(h)" }
            }
            out += msg.hasSuffix("\n") ? msg : msg + "\n"
            guard request.tasks || request.tags else { continue }
            var taskMessage = request.tasks ? "    tasks:\n" : ""
            var allTags = Set<String>()
            let only = request.onlyTags.isEmpty ? ["all"] : request.onlyTags
            for section in [play.preTasks, play.tasks, play.postTasks] {
                TagSelection.walk(section, play: play, includeRescue: false) { task, tags in
                    guard TagSelection.shouldRun(taskTags: tags, only: only, skip: request.skipTags) else { return }
                    allTags.formUnion(tags)
                    if request.tasks {
                        taskMessage += "      \(task.listName)\tTAGS: [\(tags.sorted().joined(separator: ", "))]\n"
                    }
                }
            }
            if request.tags {
                taskMessage += "      TASK TAGS: [\(allTags.union(playTags).sorted().joined(separator: ", "))]\n"
            }
            // Display.display adds a newline only to text without one.
            out += taskMessage.hasSuffix("\n") ? taskMessage : taskMessage + "\n"
        }
        return out
    }

    /// A play's `hosts:` as the list of patterns ansible-core keeps.
    public static func hostPatterns(_ hosts: Value) -> [String] {
        switch hosts {
        case .list(let l): return l.map { $0.stringValue ?? $0.json() }
        case .string(let s), .unsafe(let s): return [s]
        case .null: return []
        default: return [hosts.json()]
        }
    }

    private static func orderedUnique(_ items: [String]) -> [String] {
        var seen = Set<String>()
        return items.filter { seen.insert($0).inserted }
    }

    /// Python's repr of a list of strings.
    static func pythonList(_ items: [String]) -> String {
        "[" + items.map(pythonString).joined(separator: ", ") + "]"
    }

    /// Python's repr of a value (as ansible-core's messages show data).
    static func pythonRepr(_ v: Value) -> String { v.pythonRepr }

    /// Python's str of a value: strings bare, everything else as repr.
    static func pythonStr(_ v: Value) -> String {
        if let s = v.stringValue { return s }
        return pythonRepr(v)
    }

    /// The class name ansible-core 2.19 shows for a value loaded from YAML.
    static func taggedClass(_ v: Value) -> String {
        switch v {
        case .dict: return "<class 'ansible.module_utils._internal._datatag._AnsibleTaggedDict'>"
        case .list: return "<class 'ansible.module_utils._internal._datatag._AnsibleTaggedList'>"
        case .string, .unsafe: return "<class 'ansible.module_utils._internal._datatag._AnsibleTaggedStr'>"
        case .int: return "<class 'ansible.module_utils._internal._datatag._AnsibleTaggedInt'>"
        case .float: return "<class 'ansible.module_utils._internal._datatag._AnsibleTaggedFloat'>"
        case .bool: return "<class 'bool'>"
        case .null: return "<class 'NoneType'>"
        }
    }

    static func pythonString(_ s: String) -> String { pythonStringRepr(s) }
}
