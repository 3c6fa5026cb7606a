import Foundation
import SwansibleData
import Testing

/// Runs the built binary with exactly the given environment (nothing of the test's ANSIBLE_* leaks in), optionally
/// in a new session without a controlling terminal (`setsid`), as cron or CI would.
func runCLI(_ arguments: [String], cwd: String, environment: [String: String] = [:], noTerminal: Bool = false) throws -> CLIRun {
    let process = Process()
    if noTerminal {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setsid")
        process.arguments = ["--wait", swansibleBinary()] + arguments
    } else {
        process.executableURL = URL(fileURLWithPath: swansibleBinary())
        process.arguments = arguments
    }
    process.currentDirectoryURL = URL(fileURLWithPath: cwd)
    var env = ["PATH": "/usr/bin:/bin", "HOME": cwd, "LANG": "C.UTF-8"]
    for (k, v) in environment { env[k] = v }
    process.environment = env
    process.standardInput = FileHandle.nullDevice
    return try runCapturing(process)
}

@Suite("swansible CLI: configuration, ad-hoc output, prompts", .needsHosts)
struct CLIOptionsTests {
    /// A project as Ansible users keep it: ansible.cfg names the inventory, the user, the key; no -i on the
    /// command line. The environment overrides the file; the command line overrides both.
    @Test func ansibleCfgInTheWorkingDirectoryDrivesTheRun() throws {
        let t = try TestHosts.get()
        let dir = try makeProject(hosts: Array(t.hosts.prefix(2)), playbook: """
            - hosts: testhosts
              gather_facts: false
              tasks:
                - name: who
                  command: whoami
            """)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // An inventory without connection variables: they come from ansible.cfg.
        var inventory = "[testhosts]\n"
        for h in t.hosts.prefix(2) { inventory += "\(h.name) ansible_host=\(h.address)\n" }
        try inventory.write(toFile: dir + "/hosts.ini", atomically: true, encoding: .utf8)
        try """
            [defaults]
            inventory = hosts.ini
            remote_user = \(t.users.plain.name)
            private_key_file = \(t.keys.ed25519)
            remote_port = \(t.hosts[0].port)
            forks = 1
            callback_whitelist = profile_tasks
            [ssh_connection]
            ssh_common_args = -o UserKnownHostsFile=\(t.known_hosts)
            pipelining = True
            """.write(toFile: dir + "/ansible.cfg", atomically: true, encoding: .utf8)
        var run = try runCLI(["play", "site.yml", "--json", "-v"], cwd: dir)
        #expect(run.status == 0, "\(run.stderr)")
        let seed = try Value(json: run.stdout)
        #expect(seed["who"]?["success"]?["h1"]?["stdout"] == .string(t.users.plain.name))
        #expect(seed["who"]?["success"]?["h2"] != nil)

        // The environment ranks above the file: a bad ANSIBLE_FORKS is ansible's error, exit code 5.
        run = try runCLI(["play", "site.yml"], cwd: dir, environment: ["ANSIBLE_FORKS": "many"])
        #expect(run.status == 5)
        #expect(run.stderr.contains("Config 'DEFAULT_FORKS' from 'env: ANSIBLE_FORKS' has an invalid value"))
        // ... and the command line above the environment.
        run = try runCLI(["play", "site.yml", "-f", "3"], cwd: dir, environment: ["ANSIBLE_FORKS": "many"])
        #expect(run.status == 5, "the environment is still read and still invalid")
        run = try runCLI(["play", "site.yml", "-u", "nobody-here"], cwd: dir)
        #expect(run.status == 4, "-u beats remote_user: the connection as an unknown user fails")

        // -v says which file it used, as ansible does; the text output is the default callback's.
        run = try runCLI(["play", "site.yml", "-v"], cwd: dir)
        #expect(run.stdout.hasPrefix("Using \(dir)/ansible.cfg as config file\n"))
        #expect(run.stdout.contains("ok: [h1] => {\"changed\": false") || run.stdout.contains("changed: [h1] => {\"changed\": true"))
        // Not a terminal: no colors, no progress line.
        #expect(!run.stdout.contains("\u{1B}["))
        #expect(!run.stderr.contains("\u{1B}[K"))

        // A malformed file stops everything with ansible's message.
        try "[defaults]\nforks\n".write(toFile: dir + "/ansible.cfg", atomically: true, encoding: .utf8)
        run = try runCLI(["play", "site.yml"], cwd: dir)
        #expect(run.status == 5)
        #expect(run.stderr.contains("Error reading config file (\(dir)/ansible.cfg): Source contains parsing errors"))
    }

    @Test func adHocOutputOneLineAndCollapse() throws {
        let t = try TestHosts.get()
        let dir = try makeProject(hosts: Array(t.hosts.prefix(4)), playbook: "[]\n")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let inv = dir + "/inventory"
        // minimal: stdout, stderr and msg run together after the header line.
        var run = try runCLI(["run", "-i", inv, "h1", "-a", "sh -c 'echo out; echo err >&2; exit 3'"], cwd: dir)
        #expect(run.status == 2)
        #expect(run.stdout == "h1 | FAILED | rc=3 >>\nouterrnon-zero return code\n")
        // oneline
        run = try runCLI(["run", "-i", inv, "h2", "-o", "-a", "sh -c 'echo a; echo b'"], cwd: dir)
        #expect(run.status == 0)
        #expect(run.stdout == "h2 | CHANGED | rc=0 | (stdout) a\\nb\n")
        // collapse: h1..h4 with one differing host.
        run = try runCLI(
            ["run", "-i", inv, "testhosts", "--collapse", "-a", "sh -c 'if [ {{ inventory_hostname }} = h3 ]; then echo odd; else echo same; fi'"],
            cwd: dir)
        #expect(run.status == 0)
        #expect(run.stdout == """
            ----------------
            h[1-2,4] (3)
            ----------------
            CHANGED | rc=0 >>
            same
            ----------------
            h3 (1)
            ----------------
            CHANGED | rc=0 >>
            odd

            """)
        // --json: the one task's categories by host.
        run = try runCLI(["run", "-i", inv, "h1:h2", "-a", "true", "--json"], cwd: dir)
        let json = try Value(json: run.stdout)
        #expect(json["success"]?.dictValue?.keys.sorted() == ["h1", "h2"])
        #expect(json["failed"] == .dict([:]))
    }

    @Test func promptsNeedATerminalAndUsageErrorsExitTwo() throws {
        let t = try TestHosts.get()
        let dir = try makeProject(hosts: [t.hosts[0]], playbook: "- hosts: all\n  gather_facts: false\n  tasks: []\n")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for flag in ["-k", "-K"] {
            let run = try runCLI(["play", "-i", dir + "/inventory", "site.yml", flag], cwd: dir, noTerminal: true)
            #expect(run.status == 5)
            #expect(run.stderr.contains("needs a terminal to read the password from"))
        }
        // The password files work without a terminal.
        try "wrong\n".write(toFile: dir + "/pw", atomically: true, encoding: .utf8)
        var run = try runCLI(
            ["play", "-i", dir + "/inventory", "site.yml", "--become-password-file", dir + "/pw"], cwd: dir, noTerminal: true)
        #expect(run.status == 0, "\(run.stderr)")
        run = try runCLI(["play", "--no-such-option", "site.yml"], cwd: dir)
        #expect(run.status == 2)
        run = try runCLI(["play", "-f", "0", "site.yml"], cwd: dir)
        #expect(run.status == 2)
        #expect(run.stderr.contains("The number of processes (--forks) must be >= 1"))
        run = try runCLI(["play", "missing.yml"], cwd: dir)
        #expect(run.status == 1)
        #expect(run.stderr == "[ERROR]: the playbook: missing.yml could not be found\n")
    }

    /// The events file is written as events happen: a reader sees the first task's events while a later task
    /// still runs.
    @Test func eventsAreWrittenAsTheyHappen() throws {
        let t = try TestHosts.get()
        let dir = try makeProject(hosts: [t.hosts[0]], playbook: """
            - hosts: testhosts
              gather_facts: false
              tasks:
                - name: first
                  command: "true"
                - name: slow
                  command: sleep 3
            """)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: swansibleBinary())
        process.arguments = ["play", "-i", dir + "/inventory", dir + "/site.yml", "--events", dir + "/ev.jsonl", "--json"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        var sawSlowStart = false
        for _ in 0..<50 where process.isRunning {
            usleep(100_000)
            let text = (try? String(contentsOfFile: dir + "/ev.jsonl", encoding: .utf8)) ?? ""
            if text.contains("\"task\": \"slow\"") {
                sawSlowStart = true
                #expect(!text.contains("\"event\": \"stats\""))
                break
            }
        }
        #expect(sawSlowStart, "the slow task's start was in the file while it ran")
        process.waitUntilExit()
        let lines = try String(contentsOfFile: dir + "/ev.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(try Value(json: String(lines.last!))["event"] == "stats")
    }
}
