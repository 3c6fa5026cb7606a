import Foundation
import SwansibleData
import Testing

/// `setup` over real sshd: the test hosts run on this machine, so their facts are this machine's, read here
/// directly. (Against ansible-core's own setup on the same hosts: Tests/facts/compare.)
@Suite("setup module over sshd", .needsHosts)
struct SetupModuleTests {
    func gather(_ inventoryLine: String, args: String = "", extra: [String] = [], pattern: String = "all") throws -> (CLIRun, Value) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swansible-setup-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try (inventoryLine + "\n").write(toFile: dir + "/inventory", atomically: true, encoding: .utf8)
        let run = try runSwansible(["run", "-i", dir + "/inventory", pattern, "-m", "setup", "-a", args, "--json"] + extra)
        return (run, try Value(json: run.stdout))
    }

    func hostLine(_ t: TestHosts, _ h: TestHosts.Host) -> String {
        "\(h.name) ansible_host=\(h.address) ansible_port=\(h.port) ansible_user=\(t.users.plain.name) "
            + "ansible_ssh_private_key_file=\(t.keys.ed25519) ansible_ssh_common_args='-o UserKnownHostsFile=\(t.known_hosts)'"
    }

    static func localPasswd(_ name: String) -> [String] {
        let text = (try? String(contentsOfFile: "/etc/passwd", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map { $0.components(separatedBy: ":") }.first { $0.first == name } ?? []
    }

    @Test func factsDescribeTheHost() throws {
        let t = try TestHosts.get()
        let h = t.hosts[0]
        let (run, seed) = try gather(hostLine(t, h))
        #expect(run.status == 0, "\(run.stderr)")
        let result = try #require(seed["success"]?[h.name])
        #expect(result["changed"] == false)
        let f = try #require(result["ansible_facts"])
        #expect(f["gather_subset"] == ["all"])
        #expect(f["module_setup"] == true)

        var u = utsname()
        uname(&u)
        func field<T>(_ v: T) -> String { withUnsafeBytes(of: v) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) } }
        #expect(f["ansible_system"] == .string(field(u.sysname)))
        #expect(f["ansible_kernel"] == .string(field(u.release)))
        #expect(f["ansible_kernel_version"] == .string(field(u.version)))
        #expect(f["ansible_machine"] == .string(field(u.machine)))
        #expect(f["ansible_nodename"] == .string(field(u.nodename)))

        let pw = Self.localPasswd(t.users.plain.name)
        #expect(f["ansible_user_id"] == .string(t.users.plain.name))
        #expect(f["ansible_user_uid"] == .int(Int(pw[2]) ?? -1))
        #expect(f["ansible_user_gid"] == .int(Int(pw[3]) ?? -1))
        #expect(f["ansible_user_dir"] == .string(pw[5]))
        #expect(f["ansible_user_shell"] == .string(pw[6]))
        #expect(f["ansible_env"]?["HOME"] == .string(pw[5]))
        #expect(f["ansible_env"]?["USER"] == .string(t.users.plain.name))

        let meminfo = try String(contentsOfFile: "/proc/meminfo", encoding: .utf8)
        let memTotalKB = meminfo.split(separator: "\n").first { $0.hasPrefix("MemTotal:") }
            .flatMap { Int($0.split(separator: " ")[1]) } ?? 0
        #expect(f["ansible_memtotal_mb"] == .int(memTotalKB / 1024))
        let cpus = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8).split(separator: "\n")
            .filter { $0.hasPrefix("processor") }.count
        #expect(f["ansible_processor_vcpus"] == .int(cpus))

        let interfaces = try FileManager.default.contentsOfDirectory(atPath: "/sys/class/net").sorted()
        #expect(f["ansible_interfaces"]?.listValue?.compactMap(\.stringValue).sorted() == interfaces)
        #expect(f["ansible_lo"]?["ipv4"]?["address"] == "127.0.0.1")
        #expect(f["ansible_lo"]?["type"] == "loopback")
        let epoch = Int(f["ansible_date_time"]?["epoch"]?.stringValue ?? "") ?? 0
        #expect(abs(epoch - Int(Date().timeIntervalSince1970)) < 600)
        #expect(f["ansible_mounts"]?.listValue?.contains { $0["mount"] == "/" } == true)
        #expect(f["ansible_os_family"] != nil && f["ansible_distribution"] != nil)
        #expect(f["ansible_python"] == nil)
    }

    @Test func becomeGathersAsRoot() throws {
        let t = try TestHosts.get()
        let h = t.hosts[0]
        let (run, seed) = try gather(hostLine(t, h), args: "gather_subset=!all,!min,user", extra: ["-b"])
        #expect(run.status == 0, "\(run.stderr)")
        let f = try #require(seed["success"]?[h.name]?["ansible_facts"])
        #expect(f["ansible_user_id"] == "root")
        #expect(f["ansible_user_uid"] == 0)
        #expect(f["ansible_effective_user_id"] == 0)
        #expect(f["ansible_user_dir"] == .string(Self.localPasswd("root")[5]))
        #expect(f["ansible_date_time"] == nil)
        #expect(f["gather_subset"] == ["!all", "!min", "user"])
    }

    @Test func subsetsAndFilter() throws {
        let t = try TestHosts.get()
        let h = t.hosts[0]
        var (run, seed) = try gather(hostLine(t, h), args: "gather_subset=!all,!min,network filter=ansible_lo,*ipv4*")
        #expect(run.status == 0)
        let f = try #require(seed["success"]?[h.name]?["ansible_facts"]?.dictValue)
        #expect(Set(f.keys) == ["ansible_lo", "ansible_all_ipv4_addresses", "ansible_default_ipv4"])

        (run, seed) = try gather(hostLine(t, h), args: "gather_subset=bogus")
        #expect(run.status == 2)
        let failed = try #require(seed["failed"]?[h.name])
        #expect(failed["msg"]?.stringValue?.hasPrefix("Bad subset 'bogus' given to Ansible. gather_subset options allowed: all, ") == true)

        (run, seed) = try gather(hostLine(t, h), args: "nonsense=1")
        #expect(seed["failed"]?[h.name]?["msg"]
            == "Unsupported parameters for (setup) module: nonsense. Supported parameters include: fact_path, filter, gather_subset, gather_timeout.")
    }

    /// BusyBox only, chrooted, no /proc or /sys: one `sh` command still gives the facts it can.
    @Test func applianceWithBusyBox() throws {
        let t = try TestHosts.get()
        let a = t.appliance
        let line = "appliance ansible_host=\(a.address) ansible_port=\(a.port) ansible_user=\(a.name) "
            + "ansible_ssh_private_key_file=\(t.keys.ed25519) ansible_ssh_common_args='-o UserKnownHostsFile=\(t.known_hosts)'"
        let (run, seed) = try gather(line)
        #expect(run.status == 0, "\(run.stderr)")
        let f = try #require(seed["success"]?["appliance"]?["ansible_facts"])
        #expect(f["ansible_system"] == "Linux")
        #expect(f["ansible_user_id"] == .string(a.name))
        #expect(f["ansible_user_dir"] == .string("/home/\(a.name)"))
        #expect(f["ansible_user_shell"] == "/bin/sh")
        #expect(f["ansible_distribution"] == "OtherLinux")
        #expect(f["ansible_os_family"] == "OtherLinux")
        #expect(f["ansible_pkg_mgr"] == "unknown")
        #expect(f["ansible_is_chroot"] == true)
        #expect(f["ansible_env"]?["HOME"] == .string("/home/\(a.name)"))
        #expect((f["ansible_date_time"]?["epoch"]?.stringValue).flatMap { Int($0) } != nil)
    }
}
