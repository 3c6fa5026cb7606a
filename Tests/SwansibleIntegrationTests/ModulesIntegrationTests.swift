import Foundation
import SwansibleCore
import SwansibleData
import SwansibleTemplate
import Testing

/// Runs a playbook given as JSON (valid YAML) on an inventory given as INI text; returns the run's result.
private func play(_ tasks: [Value], inventory: String, hosts: String = "all", vars: ValueDict = [:]) async throws
    -> PlaybookResult {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swansible-modtest-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir + "/files", withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let playValue: Value = [["hosts": .string(hosts), "gather_facts": false, "vars": .dict(vars), "tasks": .list(tasks)]]
    // JSON with a space after each colon (the YAML loader wants one), slashes unescaped.
    let data = try JSONSerialization.data(withJSONObject: plain(playValue), options: [.prettyPrinted, .withoutEscapingSlashes])
    try data.write(to: URL(fileURLWithPath: dir + "/site.yml"))
    try inventory.write(toFile: dir + "/inventory", atomically: true, encoding: .utf8)
    var warnings: [String] = []
    let inv = try Swansible.loadInventory([dir + "/inventory"], warnings: &warnings)
    return try await Swansible.runPlaybooks([dir + "/site.yml"], inventory: inv)
}

private func plain(_ v: Value) -> Any {
    switch v {
    case .null: return NSNull()
    case .bool(let b): return b
    case .int(let i): return i
    case .float(let d): return d
    case .string(let s), .unsafe(let s): return s
    case .list(let l): return l.map(plain)
    case .dict(let d): return Dictionary(uniqueKeysWithValues: d.map { ($0.key, plain($0.value)) })
    }
}

private func hostInventory(_ hosts: TestHosts, address: String? = nil, user: String? = nil) -> String {
    """
    [targets]
    t ansible_host=\(address ?? hosts.first.address) ansible_port=\(hosts.first.port)
    [targets:vars]
    ansible_user=\(user ?? hosts.users.plain.name)
    ansible_ssh_private_key_file=\(hosts.keys.ed25519)
    ansible_ssh_common_args='-o UserKnownHostsFile=\(hosts.known_hosts)'
    """
}

private func result(_ r: PlaybookResult, _ task: String, _ host: String = "t") -> (String, ValueDict)? {
    guard let e = r.seed.tasks[task] else { return nil }
    for (category, hosts) in [("success", e.success), ("failed", e.failed), ("unreachable", e.unreachable), ("skipped", e.skipped)] {
        if let v = hosts[host]?.dictValue { return (category, v) }
    }
    return nil
}

/// Random arguments: ASCII (controls, quotes, `$`, backslashes, spaces, newlines) and some non-ASCII text;
/// never NUL (no argument can hold it) and never a Jinja2 delimiter (task arguments are templated).
private func randomArgument(_ g: inout some RandomNumberGenerator) -> String {
    let extra: [Unicode.Scalar] = ["é", "ü", "中", "😀", "\u{00A0}", "ß"]
    var s = String.UnicodeScalarView()
    for _ in 0..<Int.random(in: 0...12, using: &g) {
        if Int.random(in: 0..<8, using: &g) == 0 {
            s.append(extra.randomElement(using: &g)!)
        } else {
            s.append(Unicode.Scalar(UInt8.random(in: 1...0x7E, using: &g)))
        }
    }
    var text = String(s)
    for delimiter in ["{{", "{%", "{#", "}}", "%}", "#}"] { text = text.replacingOccurrences(of: delimiter, with: "") }
    return text
}

/// sh prints each argument followed by a NUL byte (a builtin: one process per task).
private let echoScript = "printf '%s\\0' \"$@\""

/// SplitMix64, seeded, so a failure can be reproduced (shared by the property tests of this target).
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Checks that every task's output is the hex of its arguments; returns how many lists arrived exactly.
private func checkArguments(_ r: PlaybookResult, _ lists: [[String]], prefix: String, host: String = "t") -> Int {
    var ok = 0
    for (i, list) in lists.enumerated() {
        guard let (category, res) = result(r, "\(prefix)\(i)", host) else {
            Issue.record("\(prefix)\(i): no result")
            continue
        }
        // printf runs its format once even without arguments.
        let expected = list.isEmpty ? "\u{0}" : list.map { $0 + "\u{0}" }.joined()
        let got = res["stdout"]?.stringValue ?? ""
        if category == "success", got == expected { ok += 1 } else {
            Issue.record("\(prefix)\(i) \(category): arguments \(list.map { $0.debugDescription }) arrived as \(got) \(res["msg"]?.stringValue ?? "")")
        }
    }
    return ok
}

@Suite("Modules: property test of command arguments")
struct CommandArgumentPropertyTests {
    /// 10,000 random argument lists through `argv` and 10,000 through the free form, on the local connection
    /// (the same remote-shell quoting; thousands of tasks over SSH would take minutes on a shared machine).
    @Test func tenThousandArgumentListsArriveExactlyLocally() async throws {
        var g = SplitMix(state: 0x5EED)
        let inventory = "localhost ansible_connection=local\n"
        var total = 0
        for chunk in 0..<5 {
            var lists: [[String]] = []
            var tasks: [Value] = []
            for i in 0..<2000 {
                let list = (0..<Int.random(in: 0...4, using: &g)).map { _ in randomArgument(&g) }
                lists.append(list)
                let argv: [Value] = ["sh", "-c", .string(echoScript), "sh"] + list.map(Value.string)
                tasks.append(["name": .string("a\(i)"), "command": ["argv": .list(argv), "expand_argument_vars": false]])
                let free = "sh -c \(shellWord(echoScript)) sh " + list.map(shellWord).joined(separator: " ")
                tasks.append(["name": .string("f\(i)"), "command": ["cmd": .string(free), "expand_argument_vars": false]])
            }
            let r = try await play(tasks, inventory: inventory, hosts: "localhost")
            total += checkArguments(r, lists, prefix: "a", host: "localhost")
            total += checkArguments(r, lists, prefix: "f", host: "localhost")
            _ = chunk
        }
        #expect(total == 20_000)
    }

    @Test(.needsHosts) func fiveHundredArgumentListsArriveExactlyOverSSH() async throws {
        let hosts = try TestHosts.get()
        var g = SplitMix(state: 0xC0FFEE)
        var lists: [[String]] = []
        var tasks: [Value] = []
        for i in 0..<250 {
            let list = (0..<Int.random(in: 0...4, using: &g)).map { _ in randomArgument(&g) }
            lists.append(list)
            let argv: [Value] = ["sh", "-c", .string(echoScript), "sh"] + list.map(Value.string)
            tasks.append(["name": .string("a\(i)"), "command": ["argv": .list(argv), "expand_argument_vars": false]])
            let free = "sh -c \(shellWord(echoScript)) sh " + list.map(shellWord).joined(separator: " ")
            tasks.append(["name": .string("f\(i)"), "command": ["cmd": .string(free), "expand_argument_vars": false]])
        }
        let r = try await play(tasks, inventory: hostInventory(hosts))
        #expect(checkArguments(r, lists, prefix: "a") + checkArguments(r, lists, prefix: "f") == 500)
    }
}

/// Single-quotes a word for shlex (what a user writes in a free-form command).
private func shellWord(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\"'\"'") + "'" }

@Suite("Modules on the test hosts", .needsHosts, .serialized)
struct ModulesIntegrationTests {
    /// The BusyBox appliance (chroot, ash, no scp, no Python): every module works.
    @Test func everyModuleWorksOnTheBusyBoxAppliance() async throws {
        let hosts = try TestHosts.get()
        let inventory = """
            [targets]
            t ansible_host=\(hosts.appliance.address) ansible_port=\(hosts.appliance.port)
            [targets:vars]
            ansible_user=\(hosts.appliance.name)
            ansible_ssh_private_key_file=\(hosts.keys.ed25519)
            ansible_ssh_common_args='-o UserKnownHostsFile=\(hosts.known_hosts)'
            """
        let base = "/tmp/modtest-\(UUID().uuidString.prefix(8))"
        let local = FileManager.default.temporaryDirectory.appendingPathComponent("swansible-fetch-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: local) }
        let template = local + ".j2"
        try "hi {{ inventory_hostname }}\n".write(toFile: template, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: template) }
        let script = local + ".sh"
        try "#!/bin/sh\necho \"$# $2\"\n".write(toFile: script, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: script) }
        let treeDir = local + "-tree"
        try FileManager.default.createDirectory(atPath: treeDir + "/s ü", withIntermediateDirectories: true)
        try "1\n".write(toFile: treeDir + "/a", atomically: true, encoding: .utf8)
        try "2\n".write(toFile: treeDir + "/s ü/b c", atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: treeDir) }
        let tasks: [Value] = [
            ["name": "ping", "ping": .null],
            ["name": "raw", "raw": "echo raw-ok"],
            ["name": "argv", "command": ["argv": ["echo", "a b", "c'd"]]],
            ["name": "shell", "shell": "echo $((1 + 2))"],
            ["name": "dir", "file": ["path": .string(base + "/d"), "state": "directory", "mode": "0750"]],
            ["name": "copy", "copy": ["content": "hello\n", "dest": .string(base + "/d/a.txt"), "mode": "u=rw,g=r"]],
            ["name": "copy again", "copy": ["content": "hello\n", "dest": .string(base + "/d/a.txt"), "mode": "u=rw,g=r"]],
            ["name": "copy backup", "copy": ["content": "hello 2\n", "dest": .string(base + "/d/a.txt"), "backup": true]],
            // A controller file is streamed from disk (no scp on the appliance: through its shell).
            ["name": "copy file", "copy": ["src": .string(script), "dest": .string(base + "/d/s.sh")]],
            ["name": "template", "template": ["src": .string(template), "dest": .string(base + "/d/t.txt")]],
            ["name": "touch", "file": ["path": .string(base + "/d/touched"), "state": "touch"]],
            ["name": "link", "file": ["path": .string(base + "/d/l"), "src": .string(base + "/d/a.txt"), "state": "link"]],
            ["name": "hard", "file": ["path": .string(base + "/d/h"), "src": .string(base + "/d/a.txt"), "state": "hard"]],
            ["name": "stat", "stat": ["path": .string(base + "/d/a.txt")]],
            ["name": "stat link", "stat": ["path": .string(base + "/d/l")]],
            ["name": "fetch", "fetch": ["src": .string(base + "/d/a.txt"), "dest": .string(local)]],
            ["name": "script", "script": .string(script + " one 'two three'")],
            ["name": "tempfile", "tempfile": ["path": .string(base), "suffix": ".x"]],
            ["name": "tree", "copy": ["src": .string(treeDir + "/"), "dest": .string(base + "/tree")]],
            ["name": "tree again", "copy": ["src": .string(treeDir + "/"), "dest": .string(base + "/tree")]],
            ["name": "lineinfile", "lineinfile": ["path": .string(base + "/d/a.txt"), "regexp": "^hello", "line": "bye"]],
            ["name": "lineinfile again", "lineinfile": ["path": .string(base + "/d/a.txt"), "regexp": "^hello", "line": "bye"]],
            ["name": "remote tree", "copy": ["src": .string(base + "/tree"), "dest": .string(base + "/rt"), "remote_src": true]],
            ["name": "remote tree again", "copy": ["src": .string(base + "/tree"), "dest": .string(base + "/rt"), "remote_src": true]],
            ["name": "remote tree change", "shell": .string("echo 3 > '\(base)/tree/s ü/b c' && echo n > \(base)/tree/new")],
            ["name": "remote tree update", "copy": ["src": .string(base + "/tree/"), "dest": .string(base + "/rt/tree"), "remote_src": true, "mode": "0750"]],
            ["name": "remote tree check", "shell": .string("cat '\(base)/rt/tree/s ü/b c' \(base)/rt/tree/new; stat -c %a \(base)/rt/tree")],
            ["name": "times", "file": ["path": .string(base + "/d/a.txt"), "modification_time": "202001020304.05", "access_time": "2021-01-01 00:00:00",
                                       "access_time_format": "%Y-%m-%d %H:%M:%S"]],
            ["name": "times again", "file": ["path": .string(base + "/d/a.txt"), "modification_time": "202001020304.05", "access_time": "2021-01-01 00:00:00",
                                             "access_time_format": "%Y-%m-%d %H:%M:%S"]],
            ["name": "times check", "command": .string("stat -c '%Y %X' \(base)/d/a.txt")],
            ["name": "lineinfile validate", "lineinfile": ["path": .string(base + "/d/a.txt"), "line": "ok", "validate": "grep -q ok %s"]],
            ["name": "lineinfile validate fails", "lineinfile": ["path": .string(base + "/d/a.txt"), "line": "x", "validate": "grep -q nothing %s"],
             "ignore_errors": true],
            ["name": "absent", "file": ["path": .string(base), "state": "absent"]],
        ]
        let r = try await play(tasks, inventory: inventory)
        for task in r.seed.tasks.keys where task != "lineinfile validate fails" {
            let (category, res) = try #require(result(r, task))
            #expect(category == "success", "\(task): \(res)")
        }
        #expect(result(r, "remote tree")?.1["changed"]?.boolValue == true)
        #expect(result(r, "remote tree")?.1["dest"]?.stringValue == base + "/rt")
        #expect(result(r, "remote tree again")?.1["changed"]?.boolValue == false)
        #expect(result(r, "remote tree update")?.1["changed"]?.boolValue == true)
        #expect(result(r, "remote tree check")?.1["stdout"]?.stringValue == "3\nn\n750")
        #expect(result(r, "times")?.1["changed"]?.boolValue == true)
        #expect(result(r, "times again")?.1["changed"]?.boolValue == false)
        // The appliance runs in UTC: 2020-01-02 03:04:05 and 2021-01-01 00:00:00.
        #expect(result(r, "times check")?.1["stdout"]?.stringValue == "1577934245 1609459200")
        #expect(result(r, "lineinfile validate")?.1["changed"]?.boolValue == true)
        let failed = try #require(result(r, "lineinfile validate fails"))
        #expect(failed.0 == "failed")
        #expect(failed.1["msg"]?.stringValue == "failed to validate: rc:1 error:")
        #expect(result(r, "ping")?.1["ping"]?.stringValue == "pong")
        #expect(result(r, "raw")?.1["stdout"]?.stringValue == "raw-ok\n")
        #expect(result(r, "argv")?.1["stdout"]?.stringValue == "a b c'd")
        #expect(result(r, "shell")?.1["stdout"]?.stringValue == "3")
        let copy = try #require(result(r, "copy")?.1)
        #expect(copy["changed"]?.boolValue == true)
        #expect(copy["checksum"]?.stringValue == "f572d396fae9206628714fb2ce00f72e94f2258f")
        #expect(copy["mode"]?.stringValue == "0644")  // u=rw,g=r on 0644 (umask 022)
        #expect(copy["owner"]?.stringValue == hosts.users.appliance.name)
        #expect(result(r, "copy again")?.1["changed"]?.boolValue == false)
        let copyFile = try #require(result(r, "copy file")?.1)
        #expect(copyFile["changed"]?.boolValue == true)
        #expect(copyFile["checksum"]?.stringValue == hexSHA1(Array("#!/bin/sh\necho \"$# $2\"\n".utf8)))
        #expect(copyFile["size"]?.intValue == 23)
        let backup = try #require(result(r, "copy backup")?.1["backup_file"]?.stringValue)
        #expect(backup.hasPrefix(base + "/d/a.txt."))
        #expect(result(r, "template")?.1["size"]?.intValue == 5, "\(String(describing: result(r, "template")))")
        let st = try #require(result(r, "stat")?.1["stat"]?.dictValue, "\(String(describing: result(r, "stat")))")
        #expect(st["checksum"] != nil && st["checksum"] == result(r, "copy backup")?.1["checksum"])
        #expect(st["isreg"]?.boolValue == true)
        #expect(st["nlink"]?.intValue == 2)
        #expect(st["pw_name"]?.stringValue == hosts.users.appliance.name)
        let link = try #require(result(r, "stat link")?.1["stat"]?.dictValue)
        #expect(link["islnk"]?.boolValue == true)
        #expect(link["lnk_target"]?.stringValue == base + "/d/a.txt")
        let fetched = try String(contentsOfFile: "\(local)/t\(base)/d/a.txt", encoding: .utf8)
        #expect(fetched == "hello 2\n")
        #expect(result(r, "absent")?.1["changed"]?.boolValue == true)
        #expect(result(r, "script")?.1["stdout"]?.stringValue == "2 two three\n")
        let temp = try #require(result(r, "tempfile")?.1)
        #expect(temp["path"]?.stringValue?.hasPrefix(base + "/ansible.") == true && temp["mode"]?.stringValue == "0600")
        #expect(result(r, "tree")?.1["changed"]?.boolValue == true)
        #expect(result(r, "tree again")?.1["changed"]?.boolValue == false)
        #expect(result(r, "lineinfile")?.1["msg"]?.stringValue == "line replaced")
        #expect(result(r, "lineinfile again")?.1["changed"]?.boolValue == false)
    }

    /// A 10 MB binary file and a tree of 1,000 files with odd names: copied, then unchanged on the second run.
    @Test func largeFileAndThousandFileTreeAreIdempotent() async throws {
        let hosts = try TestHosts.get()
        let src = FileManager.default.temporaryDirectory.appendingPathComponent("swansible-tree-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: src) }
        try FileManager.default.createDirectory(atPath: src + "/tree", withIntermediateDirectories: true)
        var g = SplitMix(state: 42)
        let big = (0..<(10 * 1024 * 1024)).map { _ in UInt8.random(in: 0...255, using: &g) }
        try Data(big).write(to: URL(fileURLWithPath: src + "/big.bin"))
        for i in 0..<1000 {
            let dir = src + "/tree/sub \(i % 10) ü"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try "file \(i)\n".write(toFile: dir + "/f \(i) é.txt", atomically: true, encoding: .utf8)
        }
        try Data().write(to: URL(fileURLWithPath: src + "/tree/empty"))
        let base = "/tmp/modtest-\(UUID().uuidString.prefix(8))"
        let tasks: [Value] = [
            ["name": "big", "copy": ["src": .string(src + "/big.bin"), "dest": .string(base + "/")]],
            ["name": "big again", "copy": ["src": .string(src + "/big.bin"), "dest": .string(base + "/big.bin")]],
            ["name": "tree", "copy": ["src": .string(src + "/tree/"), "dest": .string(base + "/tree")]],
            ["name": "tree again", "copy": ["src": .string(src + "/tree/"), "dest": .string(base + "/tree")]],
            ["name": "count", "shell": .string("find \(base)/tree -type f | wc -l; sha1sum \(base)/big.bin")],
            ["name": "clean", "file": ["path": .string(base), "state": "absent"]],
        ]
        let r = try await play(tasks, inventory: hostInventory(hosts))
        let bigResult = try #require(result(r, "big"))
        #expect(bigResult.0 == "success")
        #expect(bigResult.1["changed"]?.boolValue == true)
        #expect(bigResult.1["size"]?.intValue == big.count)
        #expect(result(r, "big again")?.1["changed"]?.boolValue == false)
        #expect(result(r, "tree")?.1["changed"]?.boolValue == true)
        #expect(result(r, "tree again")?.1["changed"]?.boolValue == false)
        let count = result(r, "count")?.1["stdout_lines"]?.listValue ?? []
        #expect(count.first?.stringValue == "1001")
        #expect(count.last?.stringValue?.hasPrefix(bigResult.1["checksum"]?.stringValue ?? "-") == true)
    }

    /// lineinfile edits a file that is not UTF-8 (Latin-1) without touching its other bytes, as ansible-core's
    /// byte-wise module does.
    @Test func lineinfileKeepsBytesThatAreNotUTF8() async throws {
        let hosts = try TestHosts.get()
        let base = "/tmp/modtest-\(UUID().uuidString.prefix(8))"
        let tasks: [Value] = [
            ["name": "setup", "shell": .string("mkdir -p \(base) && printf 'caf\\351\\nport=1\\n' > \(base)/latin1")],
            ["name": "edit", "lineinfile": ["path": .string(base + "/latin1"), "regexp": "^port=", "line": "port=2"]],
            ["name": "add", "lineinfile": ["path": .string(base + "/latin1"), "line": "x"]],
            ["name": "check", "shell": .string("od -An -c \(base)/latin1 | tr -s ' '")],
            ["name": "clean", "file": ["path": .string(base), "state": "absent"]],
        ]
        let r = try await play(tasks, inventory: hostInventory(hosts))
        #expect(result(r, "edit")?.1["msg"]?.stringValue == "line replaced")
        #expect(result(r, "add")?.1["msg"]?.stringValue == "line added")
        #expect(result(r, "check")?.1["stdout"]?.stringValue == " c a f 351 \\n p o r t = 2 \\n x \\n")
    }

    /// One controller file to several hosts: each gets the same bytes (streamed from disk, checksummed once);
    /// a source rewritten during the run (same size, new content) is checksummed again and copied again.
    @Test func copySourceSharedByHostsAndRehashedWhenRewritten() async throws {
        let hosts = try TestHosts.get()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swansible-src-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let src = dir + "/payload"
        var g = SplitMix(state: 7)
        let first = (0..<(700 * 1024 + 13)).map { _ in UInt8.random(in: 0...255, using: &g) }
        var second = first
        second[second.count / 2] ^= 0xFF
        try Data(first).write(to: URL(fileURLWithPath: src))
        try Data(second).write(to: URL(fileURLWithPath: dir + "/second"))
        let n = min(3, hosts.hosts.count)
        var inventory = "[targets]\n"
        for (i, h) in hosts.hosts.prefix(n).enumerated() {
            inventory += "t\(i) ansible_host=\(h.address) ansible_port=\(h.port)\n"
        }
        inventory += """
            [targets:vars]
            ansible_user=\(hosts.users.plain.name)
            ansible_ssh_private_key_file=\(hosts.keys.ed25519)
            ansible_ssh_common_args='-o UserKnownHostsFile=\(hosts.known_hosts)'
            """
        let base = "/tmp/modtest-\(UUID().uuidString.prefix(8))"
        let dest = base + "-{{ inventory_hostname }}"
        let tasks: [Value] = [
            ["name": "copy", "copy": ["src": .string(src), "dest": .string(dest)]],
            ["name": "rewrite", "command": .string("cp \(dir)/second \(src)"), "delegate_to": "localhost", "run_once": true],
            ["name": "copy rewritten", "copy": ["src": .string(src), "dest": .string(dest)]],
            ["name": "copy unchanged", "copy": ["src": .string(src), "dest": .string(dest)]],
            ["name": "sum", "command": .string("sha1sum \(dest)")],
            ["name": "clean", "file": ["path": .string(dest), "state": "absent"]],
        ]
        let r = try await play(tasks, inventory: inventory)
        for i in 0..<n {
            let host = "t\(i)"
            let copy = try #require(result(r, "copy", host))
            #expect(copy.0 == "success" && copy.1["changed"]?.boolValue == true)
            #expect(copy.1["checksum"]?.stringValue == hexSHA1(first))
            let again = try #require(result(r, "copy rewritten", host))
            #expect(again.1["changed"]?.boolValue == true, "the rewritten source is copied again on \(host)")
            #expect(again.1["checksum"]?.stringValue == hexSHA1(second))
            #expect(result(r, "copy unchanged", host)?.1["changed"]?.boolValue == false)
            #expect(result(r, "sum", host)?.1["stdout"]?.stringValue?.hasPrefix(hexSHA1(second)) == true)
        }
    }

    /// A read-only destination directory fails as in ansible-core, and the old file stays.
    @Test func readOnlyDestinationFailsAndKeepsTheOldFile() async throws {
        let hosts = try TestHosts.get()
        let base = "/tmp/modtest-\(UUID().uuidString.prefix(8))"
        let tasks: [Value] = [
            ["name": "setup", "shell": .string("mkdir -p \(base)/ro && echo old > \(base)/ro/f && chmod 0555 \(base)/ro")],
            ["name": "copy", "copy": ["content": "new\n", "dest": .string(base + "/ro/f")], "ignore_errors": true],
            ["name": "check", "shell": .string("cat \(base)/ro/f; ls -a \(base)/ro | grep -c swansible-tmp || true")],
            ["name": "clean", "shell": .string("chmod 0755 \(base)/ro && rm -rf \(base)")],
        ]
        let r = try await play(tasks, inventory: hostInventory(hosts))
        let copy = try #require(result(r, "copy"))
        #expect(copy.0 == "failed")
        #expect(copy.1["msg"]?.stringValue == "Destination \(base)/ro not writable")
        #expect(result(r, "check")?.1["stdout"]?.stringValue == "old\n0")
    }
}

/// SHA-1 of bytes as hex (what the copy module reports as `checksum`).
private func hexSHA1(_ bytes: [UInt8]) -> String {
    var digest = StreamingDigest(.sha1)
    digest.update(bytes)
    return digest.finalizeHex()
}
