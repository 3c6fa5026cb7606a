import Glibc
import SwansibleData
import Testing

@testable import SwansibleCore

/// A temporary directory with files, removed by the caller with `remove()`.
struct InventoryTempTree {
    let path: String

    init(_ files: [String: String]) throws {
        var template = Array("/tmp/swansible-inventory-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw InventoryError("mkdtemp failed") }
        path = String(cString: made)
        for (name, text) in files {
            let full = InventoryFileSystem.join(path, name)
            _ = InventoryFileSystem.dirname(full).split(separator: "/").reduce("") { dir, part in
                let next = dir + "/" + part
                mkdir(next, 0o755)
                return next
            }
            guard let file = fopen(full, "w") else { throw InventoryError("cannot write \(full)") }
            fputs(text, file)
            fclose(file)
        }
    }

    func remove() {
        func walk(_ dir: String) {
            for entry in InventoryFileSystem.listDirectory(dir) {
                let full = InventoryFileSystem.join(dir, entry)
                if InventoryFileSystem.isDirectory(full) { walk(full) } else { unlink(full) }
            }
            rmdir(dir)
        }
        walk(path)
    }

    func callAsFunction(_ name: String) -> String { InventoryFileSystem.join(path, name) }
}

@Suite struct InventoryAPITests {
    static let hosts = """
        [web]
        w1 ansible_host=127.0.0.11
        w2:2222
        [db]
        d1
        [all:vars]
        site=test
        """

    func load(_ text: String = hosts, options: InventoryOptions = InventoryOptions()) throws -> Inventory {
        let tree = try InventoryTempTree(["hosts.ini": text])
        defer { tree.remove() }
        var warnings: [String] = []
        return try Inventory.load(sources: [tree("hosts.ini")], options: options, warnings: &warnings)
    }

    @Test func hostsGroupsAndTheImplicitLocalhost() throws {
        let inventory = try load()
        #expect(inventory.hostNames == ["w1", "w2", "d1"])
        #expect(inventory.groupNames == ["all", "ungrouped", "web", "db"])
        #expect(inventory.hosts(inGroup: "web") == ["w1", "w2"])
        #expect(inventory.hosts(inGroup: "nope") == nil)
        #expect(inventory.children(ofGroup: "all") == ["ungrouped", "web", "db"])
        #expect(inventory.groupNames(for: "w1") == ["web"])
        #expect(inventory.groupNames(for: "localhost") == [])
        let local = try #require(inventory.host(named: "localhost"))
        #expect(local.isImplicit)
        #expect(local.variables["ansible_connection"] == "local")
        #expect(local.variables["ansible_python_interpreter"] == "/usr/bin/python3")
        #expect(inventory.host(named: "unknown") == nil)
        #expect(inventory.host(named: "w1")?.isImplicit == false)
        #expect(
            inventory.groupsMagicVariable == [
                "all": ["w1", "w2", "d1"], "ungrouped": [], "web": ["w1", "w2"],
                "db": ["d1"],
            ])
    }

    @Test func variablesIncludeInventoryFileAndPortInAnsiblesOrder() throws {
        let tree = try InventoryTempTree(["inv/hosts.ini": Self.hosts, "inv/group_vars/web.yml": "g: 1\nsite: web\n"])
        defer { tree.remove() }
        var warnings: [String] = []
        let inventory = try Inventory.load(sources: [tree("inv/hosts.ini")], warnings: &warnings)
        let vars = inventory.variables(for: "w2")
        let dir = InventoryFileSystem.realpath(tree("inv"))
        // all vars, then group_vars files, then the host's own (port first, then inventory_file/dir).
        #expect(Array(vars.keys) == ["site", "g", "ansible_port", "inventory_file", "inventory_dir"])
        #expect(vars["site"] == "web")
        #expect(vars["ansible_port"] == 2222)
        #expect(vars["inventory_file"]?.stringValue == InventoryFileSystem.join(dir, "hosts.ini"))
        #expect(vars["inventory_dir"]?.stringValue == dir)
        #expect(inventory.variables(for: "localhost")["site"] == "test")
        #expect(inventory.variables(for: "nobody").isEmpty)
        #expect(warnings.isEmpty)
    }

    @Test func hostListHostsHaveTheSourceAsInventoryFile() throws {
        var warnings: [String] = []
        let inventory = try Inventory.load(sources: ["a,b:2200"], warnings: &warnings)
        #expect(inventory.hostNames == ["a", "b"])
        #expect(
            inventory.variables(for: "b") == [
                "ansible_port": 2200, "inventory_file": "a,b:2200",
                "inventory_dir": "None",
            ])
    }

    @Test func patternListsAndLimits() throws {
        let inventory = try load()
        var warnings: [String] = []
        #expect(try inventory.select(patterns: ["db", "web[0]"], limit: nil, warnings: &warnings) == ["d1", "w1"])
        #expect(try inventory.select(patterns: ["all"], limit: "w*:!w2", warnings: &warnings) == ["w1"])
        #expect(try inventory.select(patterns: ["missing", "db"], limit: nil, warnings: &warnings) == ["d1"])
        #expect(warnings == ["Could not match supplied host pattern, ignoring: missing"])
        #expect(try inventory.select(pattern: "localhost", limit: "localhost") == ["localhost"])
        #expect(try inventory.select(pattern: "all", limit: "localhost") == [])
    }

    @Test func limitFiles() throws {
        let inventory = try load()
        let tree = try InventoryTempTree(["limit": "d1\n\nw2\n", "dir/x": ""])
        defer { tree.remove() }
        #expect(try inventory.select(pattern: "all", limit: "@" + tree("limit")) == ["w2", "d1"])
        #expect(throws: InventoryError("Unable to find limit file \(tree("none"))")) {
            try inventory.select(pattern: "all", limit: "@" + tree("none"))
        }
        #expect(throws: InventoryError("Limit starting with \"@\" must be a file, not a directory: \(tree("dir"))")) {
            try inventory.select(pattern: "all", limit: "@" + tree("dir"))
        }
    }

    @Test func patternErrors() throws {
        let inventory = try load()
        #expect(throws: InventoryError("Invalid host list pattern: ~(")) { try inventory.select(pattern: "~(") }
        #expect(throws: InventoryError("No hosts matched the subscripted pattern 'db[3]'")) {
            try inventory.select(pattern: "db[3]")
        }
        let strict = try load(options: InventoryOptions(hostPatternMismatch: .error))
        #expect(throws: InventoryError("Could not match supplied host pattern, ignoring: nomatch")) {
            try strict.select(pattern: "nomatch")
        }
        let quiet = try load(options: InventoryOptions(hostPatternMismatch: .ignore))
        var warnings: [String] = []
        #expect(try quiet.select(patterns: ["nomatch"], limit: nil, warnings: &warnings) == [])
        #expect(warnings.isEmpty)
    }

    @Test func playOrder() throws {
        let hosts = ["b", "c", "a"]
        #expect(try Inventory.order(hosts, by: nil) == ["b", "c", "a"])
        #expect(try Inventory.order(hosts, by: "inventory") == ["b", "c", "a"])
        #expect(try Inventory.order(hosts, by: "reverse_inventory") == ["a", "c", "b"])
        #expect(try Inventory.order(hosts, by: "sorted") == ["a", "b", "c"])
        #expect(try Inventory.order(hosts, by: "reverse_sorted") == ["c", "b", "a"])
        #expect(try Inventory.order(hosts, by: "shuffle").sorted() == ["a", "b", "c"])
        #expect(throws: InventoryError("Invalid 'order' specified for inventory hosts: bogus")) {
            try Inventory.order(hosts, by: "bogus")
        }
    }

    @Test func unparsedSourcesCanBeErrors() throws {
        var warnings: [String] = []
        #expect(throws: InventoryError("Completely failed to parse inventory source /nonexistent/hosts")) {
            try Inventory.load(
                sources: ["/nonexistent/hosts"], options: InventoryOptions(anyUnparsedIsFailed: true),
                warnings: &warnings)
        }
        #expect(throws: InventoryError("No inventory was parsed, please check your configuration and options.")) {
            try Inventory.load(
                sources: ["/nonexistent/hosts"], options: InventoryOptions(unparsedIsFailed: true), warnings: &warnings)
        }
        warnings = []
        let empty = try Inventory.load(
            sources: ["/etc/ansible/hosts-not-here"],
            options: InventoryOptions(defaultSource: "/etc/ansible/hosts-not-here"), warnings: &warnings)
        // A missing default source is not worth a warning of its own.
        #expect(warnings == ["No inventory was parsed, only implicit localhost is available"])
        #expect(empty.hostNames.isEmpty)
        #expect(try empty.select(pattern: "localhost") == ["localhost"])
        #expect(try empty.select(pattern: "all") == [])
    }

    @Test func graphOfAGroupAndOfAnUnknownOne() throws {
        let inventory = try load()
        #expect(inventory.graph(group: "web") == "@web:\n  |--w1\n  |--w2")
        #expect(inventory.graph(group: "nope") == nil)
    }

    @Test func errorsDescribeTheirPlace() {
        #expect(InventoryError("bad", file: "f.ini", line: 3).description == "f.ini:3: bad")
        #expect(InventoryError("bad", file: "f.yml", line: 3, column: 7).description == "f.yml:3:7: bad")
        #expect(InventoryError("bad").description == "bad")
    }
}

/// `add_host` and `group_by`, checked against what ansible-playbook 2.19 gave for the same steps (a play on
/// localhost adding new1 and regrouping w1 and localhost, then `group_by: dyn_{{ inventory_hostname }}` on web).
@Suite struct DynamicInventoryTests {
    @Test func addHostAndGroupByAsAPlaybookDoes() throws {
        let tree = try InventoryTempTree([
            "hosts": "[web]\nw1\nw2\n", "group_vars/fresh.yml": "fresh_var: from_file\n",
            "host_vars/new1.yml": "new1_file: yes\n",
        ])
        defer { tree.remove() }
        var warnings: [String] = []
        var inventory = try Inventory.load(sources: [tree("hosts")], warnings: &warnings)
        let r1 = try inventory.addDynamicHost("new1", groups: ["web", "fresh"], variables: ["myvar": 1])
        let r2 = try inventory.addDynamicHost("w1", groups: ["fresh"], variables: ["extra": "x"])
        let r3 = try inventory.addDynamicHost("w1", groups: ["fresh"], variables: ["extra": "x"])
        let r4 = try inventory.addDynamicGroup("by_local", parents: ["parent_a"], host: "localhost")
        #expect([r1, r2, r3, r4] == [true, true, false, true])
        #expect(
            inventory.groupsMagicVariable == [
                "all": ["new1", "w1", "w2"], "by_local": ["localhost"], "fresh": ["new1", "w1"],
                "parent_a": ["localhost"], "ungrouped": [], "web": ["w1", "w2", "new1"],
            ])
        let new1 = inventory.variables(for: "new1")
        #expect(new1["myvar"] == 1)
        #expect(new1["new1_file"] == true)
        #expect(new1["fresh_var"] == "from_file")
        #expect(new1["inventory_file"] == .null)
        #expect(inventory.variables(for: "w1")["extra"] == "x")
        #expect(inventory.groupNames(for: "localhost") == ["by_local", "parent_a"])
        #expect(try inventory.select(pattern: "web") == ["w1", "w2", "new1"])
        for host in try inventory.select(pattern: "web") {
            try inventory.addDynamicGroup("dyn_\(host)", host: host)
        }
        #expect(inventory.groupsMagicVariable["dyn_w2"] == ["w2"])
        #expect(inventory.groupsMagicVariable["all"] == ["new1", "w1", "w2"])
        #expect(try inventory.select(pattern: "by_local") == ["localhost"])
        #expect(try inventory.select(pattern: "all") == ["new1", "w1", "w2"])
        #expect(throws: InventoryError("nobody cannot be matched in inventory")) {
            try inventory.addDynamicGroup("g", host: "nobody")
        }
    }
}
