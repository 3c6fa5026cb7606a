import Foundation
import SwansibleCore
import SwansibleData
import Testing

/// The embedded use: the seed's `AnsibleAPI` scenario through ``AnsibleRunner``, live events and cancellation.
@Suite("embedding API", .needsHosts)
struct EmbeddingAPITests {
    func writePlaybook(_ text: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swansible-api-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try text.write(toFile: dir + "/site.yml", atomically: true, encoding: .utf8)
        return dir + "/site.yml"
    }

    func runner(_ t: TestHosts, hosts: [String], user: TestHosts.User) throws -> AnsibleRunner {
        var options = RunOptions()
        options.sshCommonArgs = "-o UserKnownHostsFile=\(t.known_hosts)"
        return try AnsibleRunner(hosts: hosts, user: user.name, password: user.password, options: options)
    }

    /// The seed's scenario: a host list (one down), user and password, a playbook of command and shell tasks with
    /// become, and the task-keyed structure back.
    @Test func seedScenario() async throws {
        let t = try TestHosts.get()
        let up = t.hosts.prefix(2).map { "\($0.address):\($0.port)" }
        let down = "\(t.faults.refused.address):\(t.faults.refused.port)"
        let api = try runner(t, hosts: up + [down], user: t.users.sudopass)
        let playbook = try writePlaybook("""
            - hosts: all
              gather_facts: false
              tasks:
                - name: who
                  command: id -un
                - name: as root, with the SSH password for sudo
                  command: id -un
                  become: true
                - name: shell with a pipe
                  shell: echo one two | wc -w
                - name: fails on the first host only
                  command: /bin/sh -c 'exit {{ 1 if inventory_hostname == "\(t.hosts[0].address)" else 0 }}'
            """)
        let result = try await api.runPlaybook([playbook])
        let seed = result.seed.value
        let keys = result.seed.tasks.keys.map { $0 }
        #expect(keys == ["who", "as root, with the SSH password for sudo", "shell with a pipe", "fails on the first host only"])
        let first = t.hosts[0].address, second = t.hosts[1].address
        let downName = t.faults.refused.address
        for key in keys {
            // The down host is unreachable in every task.
            #expect(seed[key]?["unreachable"]?[downName]?["unreachable"] == true)
        }
        #expect(seed["who"]?["success"]?[first]?["stdout"] == .string(t.users.sudopass.name))
        #expect(seed["as root, with the SSH password for sudo"]?["success"]?[second]?["stdout"] == "root")
        #expect(seed["shell with a pipe"]?["success"]?[first]?["stdout"] == "2")
        #expect(seed["fails on the first host only"]?["failed"]?[first]?["rc"] == 1)
        #expect(seed["fails on the first host only"]?["success"]?[second]?["rc"] == 0)
        #expect(result.exitCode == 4)
        // Codable: the JSON form is the same document the CLI's --json prints.
        let encoded = try JSONEncoder().encode(result.seed)
        let decoded = try JSONDecoder().decode(Value.self, from: encoded)
        #expect(decoded.dictValue?.keys.sorted() == seed.dictValue?.keys.sorted())
        #expect(decoded["who"]?["success"]?[first]?["stdout"] == .string(t.users.sudopass.name))
    }

    @Test func adHocModuleByHost() async throws {
        let t = try TestHosts.get()
        let api = try runner(t, hosts: ["\(t.hosts[0].address):\(t.hosts[0].port)", "localhost"], user: t.users.plain)
        let r = try await api.run(module: "shell", args: "echo $((6 * 7))")
        #expect(r["success"]?[t.hosts[0].address]?["stdout"] == "42")
        // localhost runs on the controller itself (local connection).
        #expect(r["success"]?["localhost"]?["stdout"] == "42")
        #expect(r["failed"]?.dictValue?.isEmpty == true)
    }

    @Test func liveEventsAndCancellation() async throws {
        let t = try TestHosts.get()
        let api = try runner(t, hosts: t.hosts.prefix(2).map { "\($0.address):\($0.port)" }, user: t.users.plain)
        let playbook = try writePlaybook("""
            - hosts: all
              gather_facts: false
              tasks:
                - name: quick
                  command: "true"
                - name: slow
                  command: sleep 30
                - name: never reached
                  command: "true"
            """)
        let run = try Swansible.start([playbook], inventory: api.inventory, options: api.options)
        var kinds: [RunEvent.Kind] = []
        for await event in run.events {
            kinds.append(event.kind)
            if event.kind == .taskStart, event.data["task"] == "slow" { run.cancel() }
        }
        let result = await run.result
        #expect(kinds.first == .playbookStart)
        #expect(kinds.last == .stats)
        #expect(result.exitCode == 99)
        #expect(result.seed.tasks["quick"]?.success.count == 2)
        #expect(result.seed.tasks["never reached"] == nil)
    }
}
