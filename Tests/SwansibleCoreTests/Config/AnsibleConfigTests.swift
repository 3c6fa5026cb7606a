import Foundation
import SwansibleCore
import Testing

/// ansible.cfg found, parsed and ranked as ansible-core 2.19 does (the expected texts are ansible's).
@Suite struct AnsibleConfigTests {
    /// A fresh directory with the given files.
    func scratch(_ files: [String: String], mode: Int = 0o755) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swansible-cfg-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: dir)
        for (name, text) in files {
            let path = dir + "/" + name
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        }
        return dir
    }

    @Test func findsTheFileInAnsiblesOrder() throws {
        let home = try scratch([".ansible.cfg": "[defaults]\nforks = 7\n"])
        let cwd = try scratch(["ansible.cfg": "[defaults]\nforks = 9\n"])
        let other = try scratch(["custom.cfg": "[defaults]\nforks = 3\n"])
        defer { for d in [home, cwd, other] { try? FileManager.default.removeItem(atPath: d) } }
        // ./ansible.cfg before ~/.ansible.cfg
        var c = try AnsibleConfig.load(environment: ["HOME": home], currentDirectory: cwd)
        #expect(c.path == cwd + "/ansible.cfg")
        #expect(try c.int(.forks) == 9)
        // ANSIBLE_CONFIG first (a file, or a directory holding ansible.cfg)
        c = try AnsibleConfig.load(environment: ["HOME": home, "ANSIBLE_CONFIG": other + "/custom.cfg"], currentDirectory: cwd)
        #expect(try c.int(.forks) == 3)
        c = try AnsibleConfig.load(environment: ["HOME": home, "ANSIBLE_CONFIG": cwd], currentDirectory: other)
        #expect(c.path == cwd + "/ansible.cfg")
        // no file in the working directory: the home one
        c = try AnsibleConfig.load(environment: ["HOME": home], currentDirectory: other)
        #expect(c.path == home + "/.ansible.cfg")
        #expect(try c.int(.forks) == 7)
    }

    @Test func ignoresAWorldWritableWorkingDirectoryWithAnsiblesWarning() throws {
        let home = try scratch([:])
        let cwd = try scratch(["ansible.cfg": "[defaults]\nforks = 9\n"], mode: 0o777)
        defer { for d in [home, cwd] { try? FileManager.default.removeItem(atPath: d) } }
        let c = try AnsibleConfig.load(environment: ["HOME": home], currentDirectory: cwd)
        #expect(c.path == nil || c.path == "/etc/ansible/ansible.cfg")
        #expect(c.warnings.first?.hasPrefix("Ansible is being run in a world writable directory (\(cwd)), ignoring it as an ansible.cfg source.") == true)
    }

    @Test func environmentRanksAboveTheFileAndCLIAboveBoth() throws {
        let cwd = try scratch([
            "ansible.cfg": """
                # a comment
                [defaults]
                inventory = hosts.ini, /abs/other
                forks=20 ; inline comment
                remote_user: deploy
                private_key_file = ~/keys/id
                host_key_checking = False
                timeout = 33
                gathering = explicit
                roles_path = roles:/usr/share/roles
                unknown_key = ignored
                [privilege_escalation]
                become = yes
                become_user = admin
                [ssh_connection]
                ssh_common_args = -o UserKnownHostsFile=/tmp/kh
                [callback_profile_tasks]
                task_output_limit = 5
                """,
        ])
        defer { try? FileManager.default.removeItem(atPath: cwd) }
        let c = try AnsibleConfig.load(environment: ["HOME": "/home/u", "ANSIBLE_FORKS": "4"], currentDirectory: cwd)
        #expect(c.inventorySources == [cwd + "/hosts.ini", "/abs/other"])
        #expect(c.rolesPath == [cwd + "/roles", "/usr/share/roles"])
        var o = RunOptions()
        try c.apply(to: &o)
        #expect(o.forks == 4)  // environment over file
        #expect(o.remoteUser == "deploy")
        #expect(o.privateKeyFile == "/home/u/keys/id")
        #expect(o.hostKeyChecking == false)
        #expect(o.timeout == 33)
        #expect(o.gathering == "explicit")
        #expect(o.become && o.becomeUser == "admin")
        #expect(o.sshCommonArgs == "-o UserKnownHostsFile=/tmp/kh")
    }

    @Test func badFilesFailWithAnsiblesWords() throws {
        #expect(throws: AnsibleConfigError.self) { try AnsibleConfig.parseINI("[defaults]\nforks\n", path: "/p/ansible.cfg") }
        do {
            _ = try AnsibleConfig.parseINI("[defaults]\nforks\n", path: "/p/ansible.cfg")
        } catch {
            #expect(error.message == "Error reading config file (/p/ansible.cfg): Source contains parsing errors: '<string>'\n\t[line  2]: 'forks\\n'")
            #expect(error.exitCode == 5)
        }
        do {
            _ = try AnsibleConfig.parseINI("forks = 3\n", path: "/p/a.cfg")
            Issue.record("no section header must fail")
        } catch {
            #expect(error.message.contains("File contains no section headers."))
        }
        let c = AnsibleConfig(environment: ["ANSIBLE_FORKS": "abc"])
        do {
            _ = try c.int(.forks)
            Issue.record("a non-integer must fail")
        } catch {
            #expect(error.message == "Config 'DEFAULT_FORKS' from 'env: ANSIBLE_FORKS' has an invalid value: Invalid value provided for 'integer': 'abc'")
        }
    }

    @Test func booleansAndColorsAsAnsible() {
        for t in ["yes", "True", "1", "on", "t", "Y"] { #expect(AnsibleConfig.truthy(t)) }
        for f in ["no", "false", "0", "off", "", "maybe"] { #expect(!AnsibleConfig.truthy(f)) }
        #expect(!AnsibleConfig(environment: ["NO_COLOR": "1"]).useColor(isTerminal: true))
        #expect(AnsibleConfig(environment: ["NO_COLOR": "1", "ANSIBLE_FORCE_COLOR": "1"]).useColor(isTerminal: false))
        #expect(AnsibleConfig(environment: [:]).useColor(isTerminal: true))
        #expect(!AnsibleConfig(environment: [:]).useColor(isTerminal: false))
    }
}
