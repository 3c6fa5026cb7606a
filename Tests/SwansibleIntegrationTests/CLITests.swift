import Foundation
import SwansibleData
import Testing

/// Runs the built `swansible` binary.
struct CLIRun {
    var status: Int32
    var stdout: String
    var stderr: String
}

func swansibleBinary() -> String {
    if let bin = ProcessInfo.processInfo.environment["SWANSIBLE_BIN"] { return bin }
    // The test bundle sits in the products directory beside the executable.
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<3 {
        let candidate = dir.appendingPathComponent("swansible").path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        dir.deleteLastPathComponent()
    }
    return TestHosts.repoRoot.appendingPathComponent(".build/debug/swansible").path
}

func runSwansible(_ arguments: [String], cwd: String? = nil) throws -> CLIRun {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: swansibleBinary())
    process.arguments = arguments
    if let cwd { process.currentDirectoryURL = URL(fileURLWithPath: cwd) }
    return try runCapturing(process)
}

/// Runs a configured process to its end with stdout and stderr captured.
func runCapturing(_ process: Process) throws -> CLIRun {
    collectOutput(try startCapturing(process))
}

/// Starts a configured process with stdout and stderr going to pipes (collect them with ``collectOutput(_:)``).
func startCapturing(_ process: Process) throws -> (Process, Pipe, Pipe) {
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    return (process, out, err)
}

/// Waits for a process started by ``startCapturing(_:)``, reading both pipes while it runs (it may write more than
/// a pipe holds).
func collectOutput(_ started: (Process, Pipe, Pipe)) -> CLIRun {
    let (process, out, err) = started
    nonisolated(unsafe) var errData = Data()
    let reader = Thread { errData = err.fileHandleForReading.readDataToEndOfFile() }
    reader.start()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    while !reader.isFinished { usleep(1000) }
    return CLIRun(
        status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
        stderr: String(decoding: errData, as: UTF8.self))
}

/// A scratch directory with an inventory of test hosts (and optional extra lines) and a playbook.
func makeProject(hosts: [TestHosts.Host], extraInventory: String = "", playbook: String) throws -> String {
    let t = try TestHosts.get()
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swansible-cli-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    var inventory = "[testhosts]\n"
    for h in hosts { inventory += "\(h.name) ansible_host=\(h.address) ansible_port=\(h.port)\n" }
    inventory += extraInventory
    inventory += """

        [all:vars]
        ansible_user=\(t.users.plain.name)
        ansible_ssh_private_key_file=\(t.keys.ed25519)
        ansible_ssh_common_args='-o UserKnownHostsFile=\(t.known_hosts)'

        """
    try inventory.write(toFile: dir + "/inventory", atomically: true, encoding: .utf8)
    try playbook.write(toFile: dir + "/site.yml", atomically: true, encoding: .utf8)
    return dir
}

@Suite("swansible CLI end to end", .needsHosts)
struct CLITests {
    @Test func playJSONFollowsTheSeedRules() throws {
        let t = try TestHosts.get()
        let hosts = Array(t.hosts.prefix(3))
        let down = "down ansible_host=\(t.faults.refused.address) ansible_port=\(t.faults.refused.port)\n"
        let dir = try makeProject(hosts: hosts, extraInventory: down, playbook: """
            - name: seed rules
              hosts: all
              gather_facts: false
              tasks:
                - name: greet
                  command: echo hello
                - command: "true"
                - name: greet
                  command: echo again
                - name: only h1
                  command: echo one
                  when: inventory_hostname == "h1"
                - name: h2 fails
                  shell: "exit {{ 3 if inventory_hostname == 'h2' else 0 }}"
                - name: last
                  command: echo last
            """)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let events = dir + "/events.jsonl"
        let run = try runSwansible(["play", "-i", dir + "/inventory", dir + "/site.yml", "--json", "--events", events])
        // An unreachable host wins over a failed one for the exit code, as in ansible-playbook.
        #expect(run.status == 4)
        let seed = try Value(json: run.stdout)
        let keys = seed.dictValue.map { Array($0.keys) } ?? []
        #expect(Set(keys) == ["greet", "command", "greet (2)", "only h1", "h2 fails", "last"])
        let greet = try #require(seed["greet"])
        #expect(Set(greet["success"]!.dictValue!.keys) == ["h1", "h2", "h3"])
        #expect(greet["success"]!["h1"]!["stdout"] == "hello")
        #expect(greet["success"]!["h1"]!["invocation"]!["module_args"]!["_raw_params"] == "echo hello")
        let unreachable = try #require(greet["unreachable"]!["down"])
        #expect(unreachable["unreachable"] == true)
        #expect(unreachable["msg"]!.stringValue!.hasPrefix("Task failed: Failed to connect to the host via ssh: ssh: connect to host \(t.faults.refused.address) port \(t.faults.refused.port): Connection refused"))
        // The unreachable host stays under "unreachable", with its first result, in every later task.
        for key in keys {
            #expect(seed[key]!["unreachable"]!["down"] == unreachable, "\(key)")
        }
        #expect(seed["greet (2)"]!["success"]!["h1"]!["stdout"] == "again")
        #expect(Set(seed["only h1"]!["skipped"]!.dictValue!.keys) == ["h2", "h3"])
        #expect(seed["only h1"]!["skipped"]!["h2"]!["skip_reason"] == "Conditional result was False")
        #expect(seed["h2 fails"]!["failed"]!["h2"]!["rc"] == 3)
        #expect(seed["h2 fails"]!["failed"]!["h2"]!["msg"] == "non-zero return code")
        // A failed host leaves the play: it is in no later task.
        #expect(Set(seed["last"]!["success"]!.dictValue!.keys) == ["h1", "h3"])
        #expect(seed["last"]!["failed"]!.dictValue!.isEmpty)

        // The event stream: ordered, numbered, ending with the recap.
        let lines = try String(contentsOfFile: events, encoding: .utf8).split(separator: "\n")
        let parsed = try lines.map { try Value(json: String($0)) }
        #expect(parsed.enumerated().allSatisfy { $0.element["seq"] == .int($0.offset + 1) })
        #expect(parsed.first?["event"] == "playbook_start")
        let stats = try #require(parsed.last)
        #expect(stats["event"] == "stats")
        #expect(stats["stats"]!["h2"]!["failed"] == 1)
        #expect(stats["stats"]!["down"]!["unreachable"] == 1)
        #expect(stats["stats"]!["h1"]!["ok"] == 6)
        #expect(stats["stats"]!["h1"]!["changed"] == 6)
    }

    @Test func defaultOutputHasAnsiblesShape() throws {
        let t = try TestHosts.get()
        let dir = try makeProject(hosts: [t.hosts[0]], playbook: """
            - hosts: testhosts
              gather_facts: false
              tasks:
                - command: echo hi
            """)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let run = try runSwansible(["play", "-i", dir + "/inventory", dir + "/site.yml"])
        #expect(run.status == 0)
        #expect(run.stdout == """

            PLAY [testhosts] ***************************************************************

            TASK [command] *****************************************************************
            changed: [h1]

            PLAY RECAP *********************************************************************
            h1                         : ok=1    changed=1    unreachable=0    failed=0    skipped=0    rescued=0    ignored=0   \n\n
            """)
    }

    /// Output that is not UTF-8 fails a command by default (ansible-core 2.19); with ansible.cfg
    /// `module_strict_utf8_response = False` it is kept, and reaches copy's content byte for byte.
    @Test func outputThatIsNotUTF8FollowsModuleStrictUTF8Response() throws {
        let t = try TestHosts.get()
        let out = "/tmp/swansible-bytes-\(UUID().uuidString.prefix(8))"
        let dir = try makeProject(hosts: [t.hosts[0]], playbook: """
            - hosts: testhosts
              gather_facts: false
              tasks:
                - command: printf 'a\\377b'
                  register: r
                - copy: {content: "{{ r.stdout }}", dest: \(out)}
                - command: od -An -tx1 \(out)
                - file: {path: \(out), state: absent}
            """)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let strict = try runSwansible(["play", "-i", "inventory", "site.yml", "--json"], cwd: dir)
        #expect(strict.status == 2)
        let failed = try Value(json: strict.stdout)["command"]?["failed"]?[t.hosts[0].name]?["msg"]?.stringValue
        #expect(failed == "Task failed: Refusing to deserialize an invalid UTF8 string value: 'utf-8' codec can't encode character '\\udcff' in position 1: surrogates not allowed")
        try "[defaults]\nmodule_strict_utf8_response = False\n".write(toFile: dir + "/ansible.cfg", atomically: true, encoding: .utf8)
        let lax = try runSwansible(["play", "-i", "inventory", "site.yml", "--json"], cwd: dir)
        #expect(lax.status == 0, "\(lax.stderr)")
        let dump = try Value(json: lax.stdout)["command (2)"]?["success"]?[t.hosts[0].name]?["stdout"]?.stringValue
        #expect(dump?.trimmingCharacters(in: .whitespaces) == "61 ff 62")
    }

    @Test func adHocRunOverManyHosts() throws {
        let t = try TestHosts.get()
        let hosts = Array(t.hosts.prefix(20))
        let dir = try makeProject(hosts: hosts, playbook: "[]\n")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let run = try runSwansible(["run", "testhosts", "-i", dir + "/inventory", "-m", "shell", "-a", "echo $((6*7))", "--json"])
        #expect(run.status == 0)
        let result = try Value(json: run.stdout)
        #expect(result["success"]!.dictValue!.count == 20)
        #expect(result["success"]!["h7"]!["stdout"] == "42")
        #expect(result["failed"]!.dictValue!.isEmpty)
    }

    @Test func playbookErrorsNameTheFileLineAndColumn() throws {
        let t = try TestHosts.get()
        let dir = try makeProject(hosts: [t.hosts[0]], playbook: """
            - hosts: testhosts
              gather_facts: false
              tasks:
                - name: typo
                  comand: echo hi
            """)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let run = try runSwansible(["play", "-i", dir + "/inventory", dir + "/site.yml"])
        #expect(run.status == 4)
        #expect(run.stderr.hasPrefix("""
            [ERROR]: couldn't resolve module/action 'comand'. This often indicates a misspelling, missing collection, or incorrect module path.
            Origin: \(dir)/site.yml:4:7
            """))
        #expect(run.stderr.contains("        ^ column 7"))
        #expect(run.stdout.isEmpty)
    }

    /// Block, rescue and always as ansible-core 2.19.14 runs them (recap recorded from ansible-playbook on
    /// the same playbook).
    @Test func blockRescueAlways() throws {
        let t = try TestHosts.get()
        let dir = try makeProject(hosts: Array(t.hosts.prefix(3)), playbook: """
            - hosts: testhosts
              gather_facts: false
              tasks:
                - name: outer
                  block:
                    - name: in block
                      command: echo block
                    - name: maybe fail
                      command: "{{ 'false' if inventory_hostname == 'h1' else 'true' }}"
                    - name: after fail
                      command: echo after
                  rescue:
                    - name: rescuing
                      command: echo rescue
                  always:
                    - name: always runs
                      command: echo always
                - name: nested
                  block:
                    - block:
                        - name: inner fail on h2
                          command: "{{ 'false' if inventory_hostname == 'h2' else 'true' }}"
                      always:
                        - name: inner always
                          command: echo inner-always
                  rescue:
                    - name: outer rescue
                      command: echo outer-rescue
                - name: final
                  command: echo final
            """)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let events = dir + "/events.jsonl"
        let run = try runSwansible(["play", "-i", dir + "/inventory", dir + "/site.yml", "--json", "--events", events])
        #expect(run.status == 0)
        let seed = try Value(json: run.stdout)
        #expect(Set(seed["after fail"]!["success"]!.dictValue!.keys) == ["h2", "h3"])
        #expect(Set(seed["rescuing"]!["success"]!.dictValue!.keys) == ["h1"])
        #expect(Set(seed["always runs"]!["success"]!.dictValue!.keys) == ["h1", "h2", "h3"])
        #expect(Set(seed["outer rescue"]!["success"]!.dictValue!.keys) == ["h2"])
        #expect(Set(seed["final"]!["success"]!.dictValue!.keys) == ["h1", "h2", "h3"])
        let last = try Value(json: String(try String(contentsOfFile: events, encoding: .utf8).split(separator: "\n").last!))
        let stats = try #require(last["stats"])
        #expect(stats["h1"] == ["ok": 6, "changed": 6, "unreachable": 0, "failed": 0, "skipped": 0, "rescued": 1, "ignored": 0])
        #expect(stats["h2"] == ["ok": 7, "changed": 7, "unreachable": 0, "failed": 0, "skipped": 0, "rescued": 1, "ignored": 0])
        #expect(stats["h3"] == ["ok": 7, "changed": 7, "unreachable": 0, "failed": 0, "skipped": 0, "rescued": 0, "ignored": 0])
    }
}

@Suite("log_path", .needsHosts)
struct LogPathTests {
    /// `ANSIBLE_LOG_PATH`: the log holds what ansible-core 2.19.14 writes for the same run (recorded; time, pid and
    /// the result's times normalized), one record per message, `[ERROR]` blocks at level ERROR.
    @Test func logFileMatchesAnsibleCore() throws {
        let t = try TestHosts.get()
        let dir = try makeProject(hosts: [t.hosts[0]], playbook: """
            - hosts: all
              gather_facts: false
              tasks:
                - command: echo hi
                - command: "false"
                  ignore_errors: true
            """)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: swansibleBinary())
        process.arguments = ["play", "-i", dir + "/inventory", dir + "/site.yml"]
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("ANSIBLE_") }
        env["ANSIBLE_LOG_PATH"] = dir + "/sub/../ansible.log"
        env["ANSIBLE_CONFIG"] = dir + "/absent.cfg"
        env["USER"] = "loguser"
        process.environment = env
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try FileManager.default.createDirectory(atPath: dir + "/sub", withIntermediateDirectories: true)
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let log = try String(contentsOfFile: dir + "/ansible.log", encoding: .utf8)
        let stamp = try Regex(#"(?m)^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} p=\d+ "#)
        let times = try Regex(#""(delta|end|start)": "[^"]*""#)
        let normalized = log.replacing(stamp, with: "TS ").replacing(times, with: "X").replacingOccurrences(of: dir, with: "<dir>")
        let stars = { (n: Int) in String(repeating: "*", count: n) }
        #expect(normalized == """
            TS u=loguser n=ansible INFO| PLAY [all] \(stars(69))
            TS u=loguser n=ansible INFO| TASK [command] \(stars(65))
            TS u=loguser n=ansible INFO| changed: [h1]
            TS u=loguser n=ansible INFO| TASK [command] \(stars(65))
            TS u=loguser n=ansible ERROR| [ERROR]: Task failed: Module failed: non-zero return code
            Origin: <dir>/site.yml:5:7

            3   tasks:
            4     - command: echo hi
            5     - command: "false"
                    ^ column 7


            TS u=loguser n=ansible INFO| fatal: [h1]: FAILED! => {"changed": true, "cmd": ["false"], X, X, "msg": "non-zero return code", "rc": 1, X, "stderr": "", "stderr_lines": [], "stdout": "", "stdout_lines": []}
            TS u=loguser n=ansible INFO| ...ignoring
            TS u=loguser n=ansible INFO| PLAY RECAP \(stars(69))
            TS u=loguser n=ansible INFO| h1                         : ok=2    changed=2    unreachable=0    failed=0    skipped=0    rescued=0    ignored=1   \n
            """)
    }
}

@Suite("swansible CLI interrupt", .needsHosts)
struct CLIInterruptTests {
    /// SIGINT mid-run: the running step is withdrawn, nothing new starts, the finished task is in the JSON and the
    /// exit code is ansible-playbook's 99.
    @Test func sigintStopsTheRunAndReportsWhatFinished() throws {
        let t = try TestHosts.get()
        let dir = try makeProject(hosts: Array(t.hosts.prefix(2)), playbook: """
            - hosts: testhosts
              gather_facts: false
              tasks:
                - name: quick
                  command: "true"
                - name: slow
                  command: sleep 60
                - name: never
                  command: "true"
            """)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: swansibleBinary())
        process.arguments = ["play", "-i", "inventory", "site.yml", "--json"]
        process.currentDirectoryURL = URL(fileURLWithPath: dir)
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let started = Date()
        try process.run()
        // Give it time to finish `quick` and start `slow`, then interrupt.
        Thread.sleep(forTimeInterval: 3)
        process.interrupt()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 99)
        #expect(Date().timeIntervalSince(started) < 30, "the interrupted command must not run to its end")
        #expect(String(decoding: errData, as: UTF8.self).contains("[ERROR]: User interrupted execution"))
        let seed = try JSONDecoder().decode(Value.self, from: outData)
        #expect(seed["quick"]?["success"]?.dictValue?.count == 2)
        #expect(seed["never"] == nil)
    }
}
