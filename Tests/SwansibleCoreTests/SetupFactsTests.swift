import Foundation
@testable import SwansibleCore
import SwansibleData
import Testing

/// The `setup` module's controller side: the framed output of the remote command, the collectors' rules (against
/// values recorded from ansible-core's own code), gather_subset and filter. Over real sshd, against ansible-core on
/// the test hosts: Tests/facts/compare; the module end to end: SwansibleIntegrationTests/SetupModuleTests.
@Suite struct SetupFactsTests {
    static let marker = "@@SWFtest@@"

    /// The output the remote command would print for these files and commands.
    static func output(files: [String: String], commands: [String: String] = [:], complete: Bool = true) -> [UInt8] {
        var s = "noise before the first record"
        for (path, text) in files.sorted(by: { $0.key < $1.key }) { s += "\n\(marker) F \(path)\n\(text)" }
        for (name, out) in commands.sorted(by: { $0.key < $1.key }) {
            s += "\n\(marker) C \(name)\n\(out)\n\(marker) R \(name) 0\n"
        }
        if complete { s += "\n\(marker) Z end\n" }
        return Array(s.utf8)
    }

    static let fixture: Value = {
        var url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        url.appendPathComponent("Fixtures/facts_distribution.json")
        let text = (try? String(contentsOf: url, encoding: .utf8)) ?? "{}"
        return (try? Value(json: text)) ?? [:]
    }()

    @Test func distributionFactsMatchAnsibleCore() throws {
        let cases = try #require(Self.fixture["cases"]?.listValue)
        #expect(cases.count >= 10)
        let keys = [
            "distribution", "distribution_version", "distribution_release", "distribution_major_version", "os_family",
            "distribution_file_path", "distribution_file_variety", "distribution_file_parsed",
            "distribution_minor_version", "distribution_file_search_string",
        ]
        for c in cases {
            let name = c["name"]!.stringValue!
            var files: [String: String] = [:]
            for (path, text) in c["files"]!.dictValue! { files[path] = text.stringValue! }
            let snapshot = FactSnapshot(
                output: Self.output(files: files, commands: ["uname_s": "Linux", "uname_r": "6.1.0", "uname_v": "#1 SMP"]),
                marker: Self.marker)
            var collectors = FactCollectors(snapshot: snapshot)
            let facts = collectors.collect([.distribution])
            let expected = c["expected"]!.dictValue!
            for key in keys {
                #expect(facts[key] == expected[key], "\(name): \(key)")
            }
        }
    }

    @Test func framedOutputIsParsedAndTruncationIsSeen() {
        let text = "junk\n\(Self.marker) F /etc/x\nline one\nline two\n\n\(Self.marker) E /etc/y\n"
            + "\(Self.marker) L /sbin/init\n/lib/systemd/systemd\n\(Self.marker) C id_u\n1001\n\n\(Self.marker) R id_u 0\n"
            + "\(Self.marker) C bad\noops\n\(Self.marker) R bad 2\n\(Self.marker) N env\nA=1\0B=x=y\0\n\(Self.marker) Z end\n"
        let s = FactSnapshot(output: Array(text.utf8), marker: Self.marker)
        #expect(s.complete)
        #expect(s.files["/etc/x"] == "line one\nline two\n")
        #expect(s.content("/etc/x") == "line one\nline two")
        #expect(s.exists("/etc/y"))
        #expect(s.links["/sbin/init"] == "/lib/systemd/systemd")
        #expect(s.output("id_u") == "1001\n")
        #expect(s.output("bad") == nil)
        #expect(s.commands["bad"]?.rc == 2)
        #expect(s.environment.map { "\($0.0)=\($0.1)" } == ["A=1", "B=x=y"])
        let cut = FactSnapshot(output: Self.output(files: ["/etc/x": "1"], complete: false), marker: Self.marker)
        #expect(!cut.complete)
    }

    @Test func gatherSubsetSelectsCollectorsAsAnsibleCore() throws {
        let minimal: Set<FactCollector> = [
            .apparmor, .caps, .cmdline, .dateTime, .distribution, .dns, .env, .fips, .local, .lsb, .pkgMgr, .platform,
            .selinux, .serviceMgr, .sshPubKeys, .user,
        ]
        #expect(try FactSubsets.collectors(for: ["all"]) == Set(FactCollector.allCases))
        #expect(try FactSubsets.collectors(for: ["min"]) == minimal)
        #expect(try FactSubsets.collectors(for: ["!all"]) == minimal)
        // Exclusions only: `min` is the only addition, so nothing but min is gathered (ansible-core's rule).
        #expect(try FactSubsets.collectors(for: ["!hardware", "!network"]) == minimal)
        #expect(try FactSubsets.collectors(for: ["!all", "!min"]) == [])
        #expect(try FactSubsets.collectors(for: ["!all", "!min", "network"]) == [.network, .distribution, .platform])
        #expect(try FactSubsets.collectors(for: ["!all", "!min", "hardware"]) == [.hardware, .platform])
        #expect(try FactSubsets.collectors(for: ["!all", "!min", "virtual"]) == [.virtual])
        #expect(try FactSubsets.collectors(for: ["!all", "!min", "kernel"]) == [.platform])
        #expect(try FactSubsets.collectors(for: ["!all", "!min", "pkg_mgr"]) == [.pkgMgr, .distribution])
        #expect(try FactSubsets.collectors(for: ["!all", "!min", "python"]) == [])
        let error = #expect(throws: ArgumentError.self) { try FactSubsets.collectors(for: ["bogus"]) }
        #expect(error?.message.hasPrefix("Bad subset 'bogus' given to Ansible. gather_subset options allowed: all, "
            + "all_ipv4_addresses, all_ipv6_addresses, apparmor, architecture, caps, chroot, cmdline, date_time,") == true)
        #expect(error?.message.hasSuffix("user_uid, virtual, virtualization_role, virtualization_tech_guest, "
            + "virtualization_tech_host, virtualization_type") == true)
    }

    @Test func filterKeepsMatchingTopLevelKeys() {
        let facts: ValueDict = [
            "ansible_eth0": 1, "ansible_lo": 2, "ansible_default_ipv4": 3, "ansible_distribution": 4,
            "gather_subset": 5, "module_setup": 6,
        ]
        #expect(FactSubsets.filter(facts, []) == facts)
        #expect(FactSubsets.filter(facts, ["*"]) == facts)
        #expect(Array(FactSubsets.filter(facts, ["ansible_eth*", "*ipv4*"]).keys) == ["ansible_eth0", "ansible_default_ipv4"])
        // A pattern without the prefix also matches with `ansible_` put before it.
        #expect(Array(FactSubsets.filter(facts, ["distribution"]).keys) == ["ansible_distribution"])
        #expect(Array(FactSubsets.filter(facts, ["ansible_*"]).keys).count == 4)
        #expect(Array(FactSubsets.filter(facts, ["ansible_[el]?*"]).keys) == ["ansible_eth0", "ansible_lo"])
        #expect(Array(FactSubsets.filter(facts, ["ansible_[!e]*"]).keys) == ["ansible_lo", "ansible_default_ipv4", "ansible_distribution"])
        #expect(FactSubsets.fnmatch("a?c", "abc") && !FactSubsets.fnmatch("a?c", "ac") && FactSubsets.fnmatch("[", "["))
    }

    @Test func cpuMemoryAndMountRules() {
        let cpuinfo = """
            processor\t: 0
            vendor_id\t: GenuineIntel
            model name\t: Intel(R) Xeon(R)
            physical id\t: 0
            siblings\t: 4
            core id\t\t: 0
            cpu cores\t: 2
            flags\t\t: fpu vme sse

            processor\t: 1
            vendor_id\t: GenuineIntel
            model name\t: Intel(R) Xeon(R)
            physical id\t: 0
            siblings\t: 4
            core id\t\t: 1
            cpu cores\t: 2
            flags\t\t: fpu vme sse

            """
        let meminfo = "MemTotal:        2048000 kB\nMemFree:          512000 kB\nBuffers:  1024 kB\nCached:   10240 kB\n"
            + "SwapCached: 0 kB\nSwapTotal: 1048576 kB\nSwapFree: 1048576 kB\n"
        let mtab = "/dev/sda1 / ext4 rw,relatime 0 0\nproc /proc proc rw 0 0\n/dev/sdb1 /mnt/with\\040space xfs ro 0 2\n"
        let snapshot = FactSnapshot(
            output: Self.output(
                files: ["/proc/cpuinfo": cpuinfo, "/proc/meminfo": meminfo, "/proc/mounts": mtab],
                commands: [
                    "uname_m": "x86_64", "nproc": "2", "statfs /": "4096 4096 1000 250 64 16",
                    "lsblk": "/dev/sda1 1111-2222\n/dev/sdb1",
                ]),
            marker: Self.marker)
        var c = FactCollectors(snapshot: snapshot)
        let f = c.collect([.hardware])
        #expect(f["processor"] == ["0", "GenuineIntel", "Intel(R) Xeon(R)", "1", "GenuineIntel", "Intel(R) Xeon(R)"])
        #expect(f["processor_count"] == 1)
        #expect(f["processor_cores"] == 2)
        #expect(f["processor_threads_per_core"] == 2)
        #expect(f["processor_vcpus"] == 4)
        #expect(f["processor_nproc"] == 2)
        #expect(f["flags"] == ["fpu", "vme", "sse"])
        #expect(f["memtotal_mb"] == 2000 && f["memfree_mb"] == 500 && f["swaptotal_mb"] == 1024)
        #expect(f["memory_mb"]?["real"]?["used"] == 1500)
        #expect(f["memory_mb"]?["nocache"]?["free"] == 511)
        #expect(f["memory_mb"]?["swap"]?["used"] == 0)
        let mounts = f["mounts"]?.listValue ?? []
        #expect(mounts.count == 2)
        #expect(mounts.first?["size_total"] == 4_096_000)
        #expect(mounts.first?["size_available"] == 1_024_000)
        #expect(mounts.first?["block_used"] == 750)
        #expect(mounts.first?["inode_used"] == 48)
        #expect(mounts.first?["uuid"] == "1111-2222")
        #expect(mounts.last?["mount"] == "/mnt/with space")
        #expect(mounts.last?["passno"] == 2)
        #expect(mounts.last?["uuid"] == "N/A")
        #expect(mounts.last?["size_total"] == nil)
        #expect(FactCollectors.bytesToHuman(0) == "0.00 Bytes")
        #expect(FactCollectors.bytesToHuman(8 * 1024 * 1024 * 1024) == "8.00 GB")
        #expect(FactCollectors.bytesToHuman(1536) == "1.50 KB")
    }

    /// The remote command itself, run by each POSIX shell there is on this machine (dash or bash as /bin/sh,
    /// bash, BusyBox ash): it must finish (the `Z` record) and give this machine's basic facts.
    @Test func scriptRunsUnderEveryShell() throws {
        let shells = [["/bin/sh", "-c"], ["/bin/bash", "-c"], ["/bin/busybox", "sh", "-c"], ["/usr/bin/dash", "-c"]]
            .filter { FileManager.default.isExecutableFile(atPath: $0[0]) }
        #expect(shells.count >= 2)
        let script = FactScript.build(Set(FactCollector.allCases), marker: Self.marker, factPath: "/nonexistent")
        for shell in shells {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: shell[0])
            p.arguments = Array(shell.dropFirst()) + [script]
            let out = Pipe()
            p.standardOutput = out
            p.standardError = FileHandle.nullDevice
            try p.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            let snapshot = FactSnapshot(output: Array(data), marker: Self.marker)
            #expect(snapshot.complete, "\(shell)")
            var c = FactCollectors(snapshot: snapshot)
            let f = c.collect(Set(FactCollector.allCases))
            #expect(f["system"] == "Linux", "\(shell)")
            #expect(f["user_uid"] == .int(Int(getuid())), "\(shell)")
            #expect(f["effective_user_id"] == .int(Int(geteuid())), "\(shell)")
            #expect((f["processor_vcpus"]?.intValue ?? 0) >= 1, "\(shell)")
            #expect((f["memtotal_mb"]?.intValue ?? 0) > 0, "\(shell)")
            #expect(f["date_time"]?["epoch"]?.stringValue.flatMap { Int($0) }.map { abs($0 - Int(Date().timeIntervalSince1970)) < 600 } == true, "\(shell)")
            #expect(f["env"]?["PATH"] != nil, "\(shell)")
        }
    }
}
