import SwansibleData
import Testing

@testable import SwansibleCore

/// One directory of Tests/Fixtures/inventories: inventory sources, a case.json saying what to ask, and an
/// expected.json recorded from ansible-core by Tests/tools/gen_inventory_expectations.py.
struct InventoryFixture: CustomTestStringConvertible, Sendable {
    let name: String
    let directory: String

    var testDescription: String { name }

    /// The fixtures directory, found from this file's path (SwiftPM resources are not used).
    static let root: String = {
        var dir = InventoryFileSystem.dirname(#filePath)
        while dir != "/" && !InventoryFileSystem.isFile(InventoryFileSystem.join(dir, "Package.swift")) {
            dir = InventoryFileSystem.dirname(dir)
        }
        return InventoryFileSystem.join(dir, "Tests/Fixtures/inventories")
    }()

    static func all() -> [InventoryFixture] {
        InventoryFileSystem.listDirectory(root)
            .filter {
                InventoryFileSystem.isFile(InventoryFileSystem.join(InventoryFileSystem.join(root, $0), "case.json"))
            }
            .map { InventoryFixture(name: $0, directory: InventoryFileSystem.join(root, $0)) }
    }

    /// The cases whose loading succeeds.
    static func loading() -> [InventoryFixture] {
        all().filter {
            !InventoryFileSystem.readText(InventoryFileSystem.join($0.directory, "case.json"))!.contains(
                "\"expected_error\"")
        }
    }

    /// The cases whose loading fails.
    static func failing() -> [InventoryFixture] {
        all().filter {
            InventoryFileSystem.readText(InventoryFileSystem.join($0.directory, "case.json"))!.contains(
                "\"expected_error\"")
        }
    }

    func json(_ file: String) throws -> Value {
        let text = try #require(
            InventoryFileSystem.readText(InventoryFileSystem.join(directory, file)), "missing \(name)/\(file)")
        return try Value(json: text)
    }

    /// `<dir>` stands for the case directory.
    func substitute(_ text: String) -> String { text.replacingAll("<dir>", with: directory) }

    /// The sources as the generator passes them to `-i`.
    func sources(_ spec: Value) -> [String] {
        (spec["sources"]?.listValue ?? []).map { value in
            let source = substitute(value.stringValue!)
            return source.contains(",") || source.hasPrefix("/") ? source : InventoryFileSystem.join(directory, source)
        }
    }

    func load(_ spec: Value, warnings: inout [String]) throws -> Inventory {
        let playbook = spec["playbook_dir"]?.stringValue.map { InventoryFileSystem.join(directory, $0) }
        return try Inventory.load(
            sources: sources(spec), playbookDirectory: playbook,
            options: InventoryOptions(localhostPythonInterpreter: "<python>"), warnings: &warnings)
    }
}

extension String {
    fileprivate func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var out = ""
        var rest = self[...]
        while let range = rest.range(of: target) {
            out += rest[..<range.lowerBound] + replacement
            rest = rest[range.upperBound...]
        }
        return out + rest
    }
}

extension Substring {
    fileprivate func range(of target: String) -> Range<Substring.Index>? {
        var i = startIndex
        while i < endIndex {
            if self[i...].hasPrefix(target) { return i..<index(i, offsetBy: target.count) }
            i = index(after: i)
        }
        return nil
    }
}

/// Differences between two values, strict about types (`1` is not `1.0`, `true` is not `1`), one line each with
/// the path to the difference.
func inventoryDifferences(_ actual: Value, _ expected: Value, at path: String = "$") -> [String] {
    switch (actual, expected) {
    case (.dict(let a), .dict(let e)):
        var out: [String] = []
        for key in e.keys.sorted() where a[key] == nil {
            out.append("\(path).\(key): missing, expected \(e[key]!.json(.compactSorted))")
        }
        for key in a.keys.sorted() where e[key] == nil {
            out.append("\(path).\(key): unexpected \(a[key]!.json(.compactSorted))")
        }
        for key in e.keys.sorted() {
            if let av = a[key] { out += inventoryDifferences(av, e[key]!, at: "\(path).\(key)") }
        }
        return out
    case (.list(let a), .list(let e)):
        if a.count != e.count {
            return ["\(path): \(Value.list(a).json(.compactSorted)) but expected \(Value.list(e).json(.compactSorted))"]
        }
        return zip(a, e).enumerated().flatMap {
            inventoryDifferences($0.element.0, $0.element.1, at: "\(path)[\($0.offset)]")
        }
    case (.string(let a), .string(let e)), (.unsafe(let a), .string(let e)), (.string(let a), .unsafe(let e)),
        (.unsafe(let a), .unsafe(let e)):
        return a == e ? [] : ["\(path): \(actual.json()) but expected \(expected.json())"]
    case (.int(let a), .int(let e)): return a == e ? [] : ["\(path): \(a) but expected \(e)"]
    case (.float(let a), .float(let e)):
        return a == e || (a.isNaN && e.isNaN) ? [] : ["\(path): \(a) but expected \(e)"]
    case (.bool(let a), .bool(let e)): return a == e ? [] : ["\(path): \(a) but expected \(e)"]
    case (.null, .null): return []
    default:
        return [
            "\(path): \(actual.json(.compactSorted)) (\(actual.pythonTypeName)) but expected "
                + "\(expected.json(.compactSorted)) (\(expected.pythonTypeName))"
        ]
    }
}

@Suite struct InventoryFixtureTests {
    @Test func thereAreEnoughFixtures() {
        #expect(InventoryFixture.all().count >= 12)
    }

    @Test("ansible-inventory --list", arguments: InventoryFixture.loading())
    func list(_ fixture: InventoryFixture) throws {
        let spec = try fixture.json("case.json")
        let expected = try fixture.json("expected.json")
        var warnings: [String] = []
        let inventory = try fixture.load(spec, warnings: &warnings)
        let diffs = inventoryDifferences(inventory.listJSON(), try #require(expected["list"]))
        #expect(diffs.isEmpty, "\(fixture.name): --list differs:\n\(diffs.joined(separator: "\n"))")
    }

    @Test("ansible-inventory --list --limit", arguments: InventoryFixture.loading())
    func listWithLimit(_ fixture: InventoryFixture) throws {
        let spec = try fixture.json("case.json")
        let expected = try fixture.json("expected.json")
        var warnings: [String] = []
        let inventory = try fixture.load(spec, warnings: &warnings)
        for (limit, list) in expected["list_limit"]?.dictValue ?? [:] {
            let diffs = inventoryDifferences(try inventory.listJSON(limit: limit), list)
            #expect(diffs.isEmpty, "\(fixture.name): --list --limit \(limit) differs:\n\(diffs.joined(separator: "\n"))")
        }
    }

    @Test("ansible-inventory --graph", arguments: InventoryFixture.loading())
    func graph(_ fixture: InventoryFixture) throws {
        let spec = try fixture.json("case.json")
        let expected = try fixture.json("expected.json")
        var warnings: [String] = []
        let inventory = try fixture.load(spec, warnings: &warnings)
        for (group, text) in expected["graph"]?.dictValue ?? [:] {
            let actual = inventory.graph(group: group)
            if let text = text.stringValue {
                #expect(actual == text, "\(fixture.name): --graph \(group)")
            } else {
                #expect(actual == nil, "\(fixture.name): --graph \(group) should fail")
            }
        }
    }

    @Test("ansible-inventory --host", arguments: InventoryFixture.loading())
    func host(_ fixture: InventoryFixture) throws {
        let spec = try fixture.json("case.json")
        let expected = try fixture.json("expected.json")
        var warnings: [String] = []
        let inventory = try fixture.load(spec, warnings: &warnings)
        for (name, vars) in expected["host"]?.dictValue ?? [:] {
            if vars["error"] != nil, vars.dictValue?.count == 1 {
                #expect(inventory.hostJSON(name) == nil, "\(fixture.name): --host \(name) should fail")
                continue
            }
            let actual = try #require(inventory.hostJSON(name), "\(fixture.name): --host \(name)")
            let diffs = inventoryDifferences(actual, vars, at: name)
            #expect(diffs.isEmpty, "\(fixture.name): --host \(name) differs:\n\(diffs.joined(separator: "\n"))")
        }
    }

    @Test("ansible PATTERN --list-hosts [--limit]", arguments: InventoryFixture.loading())
    func patterns(_ fixture: InventoryFixture) throws {
        let spec = try fixture.json("case.json")
        let expected = try fixture.json("expected.json")
        var warnings: [String] = []
        let inventory = try fixture.load(spec, warnings: &warnings)
        for entry in expected["patterns"]?.listValue ?? [] {
            let pattern = fixture.substitute(entry["pattern"]!.stringValue!)
            let limit = entry["limit"]?.stringValue.map(fixture.substitute)
            let label = "\(fixture.name): \(pattern)" + (limit.map { " --limit \($0)" } ?? "")
            if let error = entry["error"]?.stringValue {
                do {
                    let hosts = try inventory.select(pattern: pattern, limit: limit)
                    Issue.record("\(label): expected the error \(error), got \(hosts)")
                } catch {
                    #expect(error.message == fixture.substitute(error.message), "\(label)")
                    #expect(error.description == fixture.substitute(entry["error"]!.stringValue!), "\(label)")
                }
                continue
            }
            let hosts = entry["hosts"]!.listValue!.map { $0.stringValue! }
            let actual = try inventory.select(pattern: pattern, limit: limit)
            #expect(actual == hosts, "\(label)")
        }
    }

    @Test("the groups magic variable", arguments: InventoryFixture.loading())
    func groups(_ fixture: InventoryFixture) throws {
        let spec = try fixture.json("case.json")
        let expected = try fixture.json("expected.json")
        guard let groups = expected["groups"] else { return }
        var warnings: [String] = []
        let inventory = try fixture.load(spec, warnings: &warnings)
        let diffs = inventoryDifferences(inventory.groupsMagicVariable, groups, at: "groups")
        #expect(diffs.isEmpty, "\(fixture.name):\n\(diffs.joined(separator: "\n"))")
    }

    @Test("fatal errors", arguments: InventoryFixture.failing())
    func fatal(_ fixture: InventoryFixture) throws {
        let spec = try fixture.json("case.json")
        let expected = try fixture.json("expected.json")
        #expect(expected["fatal"] != nil, "\(fixture.name): ansible-core did not fail")
        var warnings: [String] = []
        do {
            _ = try fixture.load(spec, warnings: &warnings)
            Issue.record("\(fixture.name): loading should fail")
        } catch let error as InventoryError {
            #expect(error.description == fixture.substitute(spec["expected_error"]!.stringValue!), "\(fixture.name)")
        }
    }

    @Test("warnings", arguments: InventoryFixture.loading())
    func warnings(_ fixture: InventoryFixture) throws {
        let spec = try fixture.json("case.json")
        guard let expected = spec["expected_warnings"]?.listValue else { return }
        var warnings: [String] = []
        _ = try fixture.load(spec, warnings: &warnings)
        #expect(warnings == expected.map { fixture.substitute($0.stringValue!) }, "\(fixture.name)")
    }
}
