import Foundation
import SwansibleData
import Testing

@testable import SwansibleCore

/// The building blocks of inventory parsing against tables recorded with ansible-core's own functions
/// (`parse_address`, `expand_hostname_range`, `split_host_pattern`, `shlex.split`) by
/// Tests/tools/gen_inventory_expectations.py.
@Suite struct InventoryTableTests {
    static let tables: Value = {
        let path = InventoryFileSystem.join(InventoryFixture.root, "_tables.json")
        return (try? Value(json: InventoryFileSystem.readText(path) ?? "")) ?? .null
    }()

    static func rows(_ name: String) -> [Value] { tables[name]?.listValue ?? [] }

    @Test func tablesArePresent() {
        #expect(Self.rows("addresses").count > 40)
        #expect(Self.rows("ranges").count > 20)
        #expect(Self.rows("split").count > 10)
        #expect(Self.rows("shlex").count > 10)
    }

    @Test(arguments: rows("addresses"))
    func parseAddress(_ row: Value) {
        let input = row["input"]!.stringValue!
        for (key, ranges) in [("ranges", true), ("plain", false)] {
            let expected = row[key]!
            do {
                let (host, port) = try HostAddress.parse(input, allowRanges: ranges)
                let actual: Value = .list([.string(host), port.map { .int($0) } ?? .null])
                #expect(expected["ok"] == actual, "parse_address(\(input), allow_ranges=\(ranges))")
            } catch {
                #expect(
                    expected["error"]?.stringValue == error.message, "parse_address(\(input), allow_ranges=\(ranges))")
            }
        }
    }

    @Test(arguments: rows("ranges"))
    func expandRange(_ row: Value) {
        let input = row["input"]!.stringValue!
        do {
            let hosts = try HostAddress.expandRange(input)
            #expect(row["ok"] == .list(hosts.map { .string($0) }), "expand_hostname_range(\(input))")
        } catch {
            #expect(row["error"]?.stringValue == error.message, "expand_hostname_range(\(input))")
        }
    }

    /// A short line whose ranges multiply out (the fuzzer found one of 527 bytes that ran for minutes) ends with
    /// swansible's limit instead of expanding without end; names whose bytes pass the limit stop the same way.
    @Test func rangeExplosionStopsAtTheLimit() throws {
        for name in ["inventory-range-explosion", "inventory-range-oom"] {
            let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("../../fuzz/regressions/" + name)
            let data = try Data(contentsOf: url)
            var parser = INIInventoryParser(inventory: InventoryData(), path: "fuzz.ini")
            #expect(throws: PluginFailure.self) { try parser.parse(String(decoding: data.dropFirst(), as: UTF8.self)) }
        }
        do {
            _ = try HostAddress.expandRange(String(repeating: "x", count: 200_000) + "[0:9][0:9][0:9][0:9]")
            Issue.record("a 10,000-host range of 200 kB names expanded past the byte limit")
        } catch {
            #expect(error.message.hasPrefix("host range expands to more than 1000000 hosts or 32 MiB"))
        }
        #expect(try HostAddress.expandRange("h[0:9][0:9][0:9]").count == 1000)
        // One range past the limit is refused before it is built; bounds at Int's edges do not trap.
        for pattern in ["h[0:999999999]", "h[0:9223372036854775807]", "h[-9223372036854775807:9223372036854775806]",
                        "h[0:9223372036854775806:4611686018427387904]"] {
            do {
                let hosts = try HostAddress.expandRange(pattern)
                #expect(hosts.count <= 2, "\(pattern)")
            } catch {
                #expect(error == HostAddress.limitFailure, "\(pattern)")
            }
        }
    }

    @Test(arguments: rows("split"))
    func splitHostPattern(_ row: Value) {
        let input = row["input"]!.stringValue!
        let parts = Inventory.splitHostPattern([input])
        #expect(row["ok"] == .list(parts.map { .string($0) }), "split_host_pattern(\(input))")
    }

    @Test(arguments: rows("shlex"))
    func shellSplit(_ row: Value) {
        let input = row["input"]!.stringValue!
        do {
            let words = try ShellSplit.split(input, comments: true)
            #expect(row["ok"] == .list(words.map { .string($0) }), "shlex.split(\(input))")
        } catch {
            #expect(row["error"]?.stringValue == error.message, "shlex.split(\(input))")
        }
    }
}
