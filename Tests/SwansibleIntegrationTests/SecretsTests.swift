import Foundation
import SwansibleCore
import SwansibleData
import Testing

/// Secrets never appear (issue #10): the SSH password, the become password, `no_log` results and the values a
/// `no_log` task used are looked for in every channel a run writes to — stdout and stderr at every verbosity,
/// `--json`, `--events`, a log file if one were written (`ANSIBLE_LOG_PATH`), the Swift API's events and result —
/// and in the process list of the target (the loopback host is this machine: `/proc/*/cmdline` and, as root,
/// `/proc/*/environ` of every process) while the tasks run, including a sudo that waits for its password.
/// Failure paths are part of the run: a failing `no_log` task, a `no_log` loop, a wrong become password and a
/// wrong SSH password, an unreachable host in a `no_log` task. The secret values live in the inventory, not in the
/// playbook: an error's source excerpt shows playbook lines as written (ansible-core too), so a secret written
/// literally in a playbook is shown there by design. (ansible-core 2.19 also prints a failing `no_log` assert's
/// `fail_msg` in its `[ERROR]` line; swansible prints what ansible-core prints, so the assert here has a plain
/// message.)
@Suite("secrets never appear", .needsHosts, .serialized)
struct SecretsTests {
    /// Each secret is unique text that nothing else in the run prints.
    static let becomeSecret = "swsudo-password"  // the real one: sudo must accept it (and get it over stdin)
    static let sshSecret = "swtest-password"  // the real one: password authentication must succeed
    static let wrongBecome = "WRONG-BECOME-7c21e"
    static let wrongSSH = "WRONG-SSH-93fa0"
    static let resultSecret = "NOLOG-RESULT-4410"
    static let varSecret = "NOLOG-VAR-7731"
    static let factSecret = "NOLOG-FACT-9912"
    static let failSecret = "NOLOG-FAIL-5520"
    static let loopSecret = "NOLOG-LOOP-1234"
    static var all: [String] {
        [becomeSecret, sshSecret, wrongBecome, wrongSSH, resultSecret, varSecret, factSecret, failSecret, loopSecret]
    }

    /// h1: password authentication; h2: sudo with its password (asked every time); h3: a wrong become password;
    /// h4: a wrong SSH password.
    func project() throws -> (dir: String, t: TestHosts) {
        let t = try TestHosts.get()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swansible-secrets-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let h = t.hosts
        let inventory = """
            [pw]
            h1 ansible_host=\(h[0].address) ansible_port=\(h[0].port) ansible_user=\(t.users.plain.name) ansible_password=\(Self.sshSecret)
            [sudo]
            h2 ansible_host=\(h[1].address) ansible_port=\(h[1].port) ansible_become_password=\(Self.becomeSecret)
            h3 ansible_host=\(h[2].address) ansible_port=\(h[2].port) ansible_become_password=\(Self.wrongBecome)
            [sudo:vars]
            ansible_user=\(t.users.sudopass.name)
            ansible_ssh_private_key_file=\(t.keys.ed25519)
            [badpw]
            h4 ansible_host=\(h[3].address) ansible_port=\(h[3].port) ansible_user=\(t.users.plain.name) ansible_password=\(Self.wrongSSH)
            [all:vars]
            ansible_ssh_common_args='-o UserKnownHostsFile=\(t.known_hosts)'
            result_value=\(Self.resultSecret)
            nolog_value=\(Self.varSecret)
            fact_value=\(Self.factSecret)
            fail_value=\(Self.failSecret)
            loop_value=\(Self.loopSecret)

            """
        try inventory.write(toFile: dir + "/inventory", atomically: true, encoding: .utf8)
        try """
            - hosts: all
              gather_facts: false
              tasks:
                - name: sudo with a password, long enough to be seen in the process list
                  command: sleep 2
                  become: true
                  when: inventory_hostname in groups.sudo
                - name: no_log result
                  command: "echo {{ result_value }}"
                  no_log: true
                - name: no_log task using a variable
                  command: "echo {{ nolog_value }}"
                  no_log: true
                - name: no_log set_fact
                  set_fact:
                    hidden: "{{ fact_value }}"
                  no_log: true
                - name: no_log failure
                  shell: "echo {{ fail_value }}; echo {{ hidden }} >&2; exit 3"
                  no_log: true
                  ignore_errors: true
                - name: no_log debug
                  debug:
                    var: hidden
                  no_log: true
                - name: no_log loop with a failing item
                  shell: "echo {{ item }}; exit {{ 1 if item.endswith('b') else 0 }}"
                  loop: ["{{ loop_value }}a", "{{ loop_value }}b"]
                  no_log: true
                  ignore_errors: true
                - name: no_log assert that fails
                  assert:
                    that: hidden == 'x'
                    fail_msg: "not equal"
                  no_log: true
                  ignore_errors: true
                - name: after
                  command: echo done
            """.write(toFile: dir + "/site.yml", atomically: true, encoding: .utf8)
        return (dir, t)
    }

    /// Watches the process list until stopped: every process's argv and (as root) its environment.
    final class ProcessWatcher: @unchecked Sendable {
        private let lock = NSLock()
        private var seen = Set<String>()
        private var running = true
        private var thread: Thread?

        func start() {
            let t = Thread { [self] in
                while lock.withLock({ running }) {
                    var found: [String] = []
                    let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
                    for pid in pids where pid.allSatisfy(\.isNumber) {
                        for file in ["cmdline", "environ"] {
                            if let d = FileManager.default.contents(atPath: "/proc/\(pid)/\(file)"), !d.isEmpty {
                                found.append(String(decoding: d.map { $0 == 0 ? 32 : $0 }, as: UTF8.self))
                            }
                        }
                    }
                    lock.withLock { seen.formUnion(found) }
                    usleep(20_000)
                }
            }
            thread = t
            t.start()
        }

        func stop() -> Set<String> {
            lock.withLock { running = false }
            while !(thread?.isFinished ?? true) { usleep(1000) }
            return lock.withLock { seen }
        }
    }

    func leaks(_ text: String, secrets: [String] = SecretsTests.all) -> [String] {
        secrets.filter { text.contains($0) }
    }

    func runCLI(_ arguments: [String], dir: String, logPath: String) throws -> CLIRun {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: swansibleBinary())
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: dir)
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("ANSIBLE_") }
        env["ANSIBLE_LOG_PATH"] = logPath
        env["ANSIBLE_CONFIG"] = dir + "/absent.cfg"
        process.environment = env
        return try runCapturing(process)
    }

    /// The run did what the secrets are about: password login, sudo with the password, the failures.
    func checkOutcome(_ seed: Value) {
        #expect(seed["sudo with a password, long enough to be seen in the process list"]?["success"]?["h2"] != nil)
        let wrong = seed["sudo with a password, long enough to be seen in the process list"]?["failed"]?["h3"]?["msg"]
        #expect(wrong?.stringValue?.contains("Incorrect sudo password") == true, "\(String(describing: wrong))")
        #expect(seed["no_log result"]?["success"]?["h1"]?["censored"] != nil)
        #expect(seed["no_log failure"]?["failed"]?["h1"] != nil)
        #expect(seed["no_log assert that fails"]?["failed"]?["h1"] != nil)
        #expect(seed["after"]?["success"]?["h1"] != nil)
        #expect(seed["after"]?["unreachable"]?["h4"] != nil)
    }

    @Test(arguments: [[String](), ["-v"], ["-vvv"], ["-vvvv", "--diff"]])
    func cliChannels(verbosity: [String]) throws {
        let (dir, _) = try project()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let watcher = ProcessWatcher()
        watcher.start()
        let logPath = dir + "/ansible.log"
        // Default output, then --json with the event stream.
        let text = try runCLI(["play", "-i", "inventory", "site.yml"] + verbosity, dir: dir, logPath: logPath)
        let json = try runCLI(["play", "-i", "inventory", "site.yml", "--json", "--events", "events.jsonl"] + verbosity,
                              dir: dir, logPath: logPath)
        let processes = watcher.stop()
        #expect(text.status == 4)
        #expect(json.status == 4)
        #expect(leaks(text.stdout).isEmpty, "stdout: \(leaks(text.stdout))")
        // The unreachable host in a no_log task: its error line is censored too (ansible-core's words).
        #expect(text.stdout.contains("[ERROR]: Task failed: Failed to connect to the host via ssh: <error censored due to no log>"))
        #expect(leaks(text.stderr).isEmpty, "stderr: \(leaks(text.stderr))")
        #expect(leaks(json.stdout).isEmpty, "--json: \(leaks(json.stdout))")
        #expect(leaks(json.stderr).isEmpty, "stderr with --json: \(leaks(json.stderr))")
        let events = try String(contentsOfFile: dir + "/events.jsonl", encoding: .utf8)
        #expect(events.contains("\"censored\""))
        #expect(leaks(events).isEmpty, "--events: \(leaks(events))")
        // ANSIBLE_LOG_PATH: the log of both runs.
        let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        #expect(log.contains("TASK [no_log result]"), "the log was written")
        #expect(leaks(log).isEmpty, "log_path: \(leaks(log))")
        // The process list while the tasks ran: the become password never on a command line or in an environment.
        // (The inventory holds the secrets, so the controller's own argv must not: it has only file names.)
        let sawSudo = processes.contains { $0.contains("sudo") && $0.contains("sleep 2") }
        #expect(sawSudo, "the watcher did not see the sudo task running; it checked nothing")
        // Only the passwords: a no_log task's own command line is what runs, so it is in the process list while it
        // runs (ansible-core's module runs the same argv) — secrets belong in stdin or files, not in arguments.
        let passwords = [Self.becomeSecret, Self.sshSecret, Self.wrongBecome, Self.wrongSSH]
        let inProcesses = processes.filter { !leaks($0, secrets: passwords).isEmpty }
        #expect(inProcesses.isEmpty, "in the process list: \(inProcesses.map { String($0.prefix(300)) })")
        checkOutcome(try Value(json: json.stdout))
    }

    /// The Swift API: every event's JSON and the result structure.
    @Test func apiEventsAndResult() async throws {
        let (dir, _) = try project()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var warnings: [String] = []
        let inventory = try Swansible.loadInventory([dir + "/inventory"], warnings: &warnings)
        let collected = Mutex2<[String]>([])
        var options = RunOptions()
        options.verbosity = 4
        options.diff = true
        let result = try await Swansible.runPlaybooks([dir + "/site.yml"], inventory: inventory, options: options) { event in
            collected.withLock { $0.append(event.value.json(.compactSorted)) }
        }
        let events = collected.withLock { $0 }.joined(separator: "\n")
        #expect(events.contains("\"censored\""))
        #expect(leaks(events).isEmpty, "API events: \(leaks(events))")
        let seed = result.seed.value
        #expect(leaks(seed.json(.results)).isEmpty, "API result: \(leaks(seed.json(.results)))")
        checkOutcome(seed)
    }
}

/// A small lock-protected box (the test target does not import Synchronization).
final class Mutex2<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: T
    init(_ value: T) { self.value = value }
    func withLock<R>(_ body: (inout T) -> R) -> R {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}
