import Foundation
import SwansibleData
import Testing

/// Remote temporary files and processes (issue #10). The test hosts are this machine, so the tests look at the
/// target directly: its files (`.swansible-*` in the destination directory, in /tmp and in `~/.ansible/tmp`) and
/// its processes (`/proc`), before, during and after a run — also when the run fails or is interrupted.
@Suite("remote temporary files and processes", .needsHosts, .serialized)
struct RemoteCleanupTests {
    struct Proc {
        var pid: Int32
        var ppid: Int32
        var uid: Int
        var comm: String
        var args: String
    }

    static func processes() -> [Proc] {
        let fm = FileManager.default
        var result: [Proc] = []
        for entry in (try? fm.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry),
                let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { continue }
            let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
            let comm = String(stat[stat.index(after: stat.firstIndex(of: "(")!)..<close])
            let args = fm.contents(atPath: "/proc/\(entry)/cmdline").map {
                String(decoding: $0.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            } ?? ""
            let status = (try? String(contentsOfFile: "/proc/\(entry)/status", encoding: .utf8)) ?? ""
            let uid = status.split(separator: "\n").first { $0.hasPrefix("Uid:") }
                .flatMap { $0.split(separator: "\t").dropFirst().first }.flatMap { Int($0) } ?? -1
            result.append(Proc(pid: pid, ppid: Int32(fields[1]) ?? 0, uid: uid, comm: comm, args: args))
        }
        return result
    }

    /// The process whose standard output is `path` (the remote `cat` that receives an upload).
    static func writer(_ path: String) -> Proc? {
        let all = processes()
        return all.first { p in
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(p.pid)/fd/1")) == path
        }
    }

    /// Waits up to `seconds` for `condition`.
    static func eventually(_ seconds: Double, _ condition: () -> Bool) -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if condition() { return true }
            usleep(5_000)
        }
        return condition()
    }

    /// Every `.swansible-*` entry in the places swansible writes temporary files on the target, and ansible-core's
    /// remote_tmp (swansible uses none; it must stay so).
    static func temporaryEntries(_ dirs: [String]) -> [String] {
        let fm = FileManager.default
        var found: [String] = []
        for dir in dirs + ["/tmp"] {
            for name in (try? fm.contentsOfDirectory(atPath: dir)) ?? [] where name.hasPrefix(".swansible-") {
                found.append(dir + "/" + name)
            }
        }
        for home in ["/home/swtest", "/home/swsudo", "/root"] {
            for name in (try? fm.contentsOfDirectory(atPath: home + "/.ansible/tmp")) ?? [] where name.contains("swansible") {
                found.append(home + "/.ansible/tmp/" + name)
            }
        }
        return found
    }

    func destination() throws -> String {
        // Owned by swtest, as a destination the remote user may write to.
        let dir = "/tmp/swansible-cleanup-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        _ = try runLocal(["chown", "swtest:swtest", dir])
        return dir
    }

    @discardableResult
    func runLocal(_ argv: [String]) throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = argv
        try p.run()
        p.waitUntilExit()
        return p.terminationStatus
    }

    /// Starts `swansible play` in `dir`; the caller waits for it.
    func start(_ dir: String, _ extra: [String] = []) throws -> (Process, Pipe, Pipe) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: swansibleBinary())
        process.arguments = ["play", "-i", "inventory", "site.yml"] + extra
        process.currentDirectoryURL = URL(fileURLWithPath: dir)
        return try startCapturing(process)
    }

    func finish(_ p: (Process, Pipe, Pipe)) -> CLIRun {
        collectOutput(p)
    }

    /// A file of `megabytes` MB on the controller.
    /// Starts `swansible play --json` copying a 16 MiB controller file to a fresh directory on test host
    /// `hostIndex`; the caller removes `dest` and `dir`.
    func startBigCopy(hostIndex: Int) throws -> (dest: String, dir: String, run: (Process, Pipe, Pipe)) {
        let t = try TestHosts.get()
        let dest = try destination()
        let dir = try makeProject(hosts: [t.hosts[hostIndex]], playbook: """
            - hosts: testhosts
              gather_facts: false
              tasks:
                - copy: {src: big.bin, dest: "\(dest)/big"}
            """)
        // Large enough that the upload runs for a good part of a second even on an idle machine (the tests catch
        // its temporary file, polling every 5 ms, and act while it is being written; 16 MB was sometimes done first
        // once uploads were paced).
        _ = try bigFile(dir, megabytes: 48)
        return (dest, dir, try start(dir, ["--json"]))
    }

    func bigFile(_ dir: String, megabytes: Int) throws -> String {
        let path = dir + "/big.bin"
        let chunk = Data((0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        FileManager.default.createFile(atPath: path, contents: nil)
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        for _ in 0..<megabytes { h.write(chunk) }
        try h.close()
        return path
    }

    // MARK: temporary files

    /// Success and failure paths of copy (validate fails, module fails) and script (fails): nothing is left, and
    /// what exists meanwhile is private (the script: mode 700 in /tmp; copy's file: the destination's mode only
    /// after the whole content arrived, 600 before — see `killedConnectionDuringCopyLeavesNoTemporaryFile`).
    @Test func copyAndScriptLeaveNothingOnSuccessOrFailure() throws {
        let t = try TestHosts.get()
        let dest = try destination()
        defer { try? FileManager.default.removeItem(atPath: dest) }
        let before = Self.temporaryEntries([dest])
        let dir = try makeProject(hosts: [t.hosts[0]], playbook: """
            - hosts: testhosts
              gather_facts: false
              tasks:
                - name: copy ok
                  copy: {content: "one\\n", dest: "\(dest)/a"}
                - name: copy validate fails
                  copy: {content: "two\\n", dest: "\(dest)/b", validate: "sh -c 'stat -c %a:%U \\"$0\\"; exit 1' %s"}
                  ignore_errors: true
                - name: copy module fails after the upload
                  copy: {content: "three\\n", dest: "\(dest)/c", owner: no-such-user-x}
                  ignore_errors: true
                - name: script fails
                  script: probe.sh
                  ignore_errors: true
                - name: copy with become
                  copy: {content: "four\\n", dest: "\(dest)/d"}
                  become: true
            """)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "#!/bin/sh\nstat -c %a:%U \"$0\"\ndirname \"$0\"\nexit 3\n".write(toFile: dir + "/probe.sh", atomically: true, encoding: .utf8)
        let run = try runSwansible(["play", "-i", dir + "/inventory", dir + "/site.yml", "--json"], cwd: dir)
        #expect(run.status == 0, "\(run.stderr)")
        let seed = try Value(json: run.stdout)
        #expect(seed["copy ok"]?["success"]?["h1"] != nil)
        let validate = seed["copy validate fails"]?["failed"]?["h1"]
        #expect(validate?["msg"] == "failed to validate")
        // The validated file already has the mode the destination gets (a new file: 0666 & ~umask).
        #expect(validate?["stdout"] == "644:swtest\n", "\(String(describing: validate))")
        #expect(seed["copy module fails after the upload"]?["failed"]?["h1"] != nil)
        let script = seed["script fails"]?["failed"]?["h1"]
        #expect(script?["rc"] == 3)
        let lines = script?["stdout_lines"]?.listValue?.compactMap(\.stringValue) ?? []
        #expect(lines.first == "700:swtest", "\(lines)")
        #expect(lines.dropFirst().first == "/tmp", "\(lines)")
        #expect(FileManager.default.fileExists(atPath: dest + "/d"))
        #expect(!FileManager.default.fileExists(atPath: dest + "/b"))
        #expect(Self.temporaryEntries([dest]) == before, "left behind: \(Set(Self.temporaryEntries([dest])).subtracting(before))")
    }

    /// The upload is stopped while its temporary file exists (the remote `cat` is sent SIGSTOP); the file is then
    /// private (600, the remote user's); the session's sshd is killed; `cat` continues, sees the end of its input
    /// early, and the script removes the partial file. The destination is untouched.
    @Test func killedConnectionDuringCopyLeavesNoTemporaryFile() throws {
        let t = try TestHosts.get()
        let (dest, dir, p) = try startBigCopy(hostIndex: 1)
        defer { try? FileManager.default.removeItem(atPath: dest) }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var temp: String?
        #expect(Self.eventually(120) {
            temp = Self.temporaryEntries([dest]).first
            return temp != nil
        })
        let cat = temp.flatMap(Self.writer)
        if let cat { kill(cat.pid, SIGSTOP) }
        var mode: mode_t = 0
        if let temp, let attrs = try? FileManager.default.attributesOfItem(atPath: temp) {
            mode = mode_t((attrs[.posixPermissions] as? Int) ?? 0)
            #expect(attrs[.ownerAccountName] as? String == t.users.plain.name)
        }
        #expect(mode == 0o600, "mode \(String(mode, radix: 8)) of \(temp ?? "?") while the upload runs")
        // The session's sshd: the parent of the shell that runs cat.
        let all = Self.processes()
        let shell = cat.flatMap { c in all.first { $0.pid == c.ppid } }
        let sshd = shell.flatMap { s in all.first { $0.pid == s.ppid } }
        #expect(sshd?.comm == "sshd")
        if let sshd { kill(sshd.pid, SIGKILL) }
        if let cat { kill(cat.pid, SIGCONT) }
        let run = finish(p)
        #expect(run.status == 4, "\(run.stderr)")
        #expect(Self.eventually(5) { Self.temporaryEntries([dest]).isEmpty }, "left: \(Self.temporaryEntries([dest]))")
        #expect(!FileManager.default.fileExists(atPath: dest + "/big"))
    }

    // MARK: interrupt

    /// SIGINT while commands run (one as root through sudo with a password): exit 99, and afterwards no process
    /// of the run is left on the target — sshd signals nobody when a channel without a pty closes, so swansible
    /// hangs the abandoned commands up itself before it closes the session (ansible-core's `ssh -tt` pty does it
    /// for it: its `sleep` is gone too). Also SIGTERM.
    @Test(arguments: [SIGINT, SIGTERM])
    func interruptLeavesNoRemoteProcess(signal: Int32) throws {
        let t = try TestHosts.get()
        let tag = 170 + Int(signal)  // sleep 172 / sleep 185: unique on the machine
        let h = t.hosts
        let dir = try makeProject(hosts: [h[2], h[3]], extraInventory: """
            [sudo]
            s1 ansible_host=\(h[4].address) ansible_port=\(h[4].port) ansible_user=\(t.users.sudopass.name) ansible_become_password=\(t.users.sudopass.password)

            """, playbook: """
            - hosts: all
              gather_facts: false
              tasks:
                - name: long
                  shell: "sleep \(tag); echo not-interrupted"
                  become: "{{ inventory_hostname == 's1' }}"
                - name: never
                  command: "true"
            """)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let running = { Self.processes().filter { $0.args.hasPrefix("sleep \(tag)") } }
        let p = try start(dir, ["--json"])
        #expect(Self.eventually(30) { running().count == 3 }, "the three sleeps did not start: \(running().map(\.args))")
        #expect(running().contains { $0.uid == 0 }, "the become sleep runs as root")
        let started = Date()
        kill(p.0.processIdentifier, signal)
        let run = finish(p)
        #expect(run.status == 99)
        #expect(Date().timeIntervalSince(started) < 15)
        #expect(run.stderr.contains("[ERROR]: User interrupted execution"))
        #expect((try? Value(json: run.stdout)) != nil, "the JSON is printed")
        #expect(Self.eventually(5) { running().isEmpty }, "left running: \(running().map { "\($0.pid) uid \($0.uid) \($0.args)" })")
        // Nothing is left over for the next test either way.
        for s in running() { kill(s.pid, SIGKILL) }
    }

    /// SIGINT while copy's `validate` runs (the temporary file exists between two commands): the validation is
    /// hung up and the temporary file removed before the session closes.
    @Test func interruptDuringValidateLeavesNoTemporaryFile() throws {
        let t = try TestHosts.get()
        let dest = try destination()
        defer { try? FileManager.default.removeItem(atPath: dest) }
        let dir = try makeProject(hosts: [t.hosts[5]], playbook: """
            - hosts: testhosts
              gather_facts: false
              tasks:
                - copy: {content: "x\\n", dest: "\(dest)/v", validate: "sh -c 'sleep 187' %s"}
            """)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let p = try start(dir, ["--json"])
        let validating = { Self.processes().filter { $0.args.hasPrefix("sleep 187") } }
        #expect(Self.eventually(30) { !validating().isEmpty })
        #expect(!Self.temporaryEntries([dest]).isEmpty, "the temporary file exists while validate runs")
        kill(p.0.processIdentifier, SIGINT)
        let run = finish(p)
        #expect(run.status == 99)
        #expect(Self.eventually(5) { validating().isEmpty })
        #expect(Self.eventually(5) { Self.temporaryEntries([dest]).isEmpty }, "left: \(Self.temporaryEntries([dest]))")
        #expect(!FileManager.default.fileExists(atPath: dest + "/v"))
        for s in validating() { kill(s.pid, SIGKILL) }
    }

    /// SIGINT while a copy uploads (stopped as above): the transfer is abandoned, its script hung up, and the
    /// partial file removed by the script's trap.
    @Test func interruptDuringUploadLeavesNoTemporaryFile() throws {
        let (dest, dir, p) = try startBigCopy(hostIndex: 6)
        defer { try? FileManager.default.removeItem(atPath: dest) }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(Self.eventually(120) { !Self.temporaryEntries([dest]).isEmpty })
        let cat = Self.temporaryEntries([dest]).first.flatMap(Self.writer)
        if let cat { kill(cat.pid, SIGSTOP) }
        kill(p.0.processIdentifier, SIGINT)
        let run = finish(p)
        if let cat { kill(cat.pid, SIGCONT) }
        #expect(run.status == 99)
        #expect(Self.eventually(5) { Self.temporaryEntries([dest]).isEmpty }, "left: \(Self.temporaryEntries([dest]))")
        #expect(!FileManager.default.fileExists(atPath: dest + "/big"))
    }
}
