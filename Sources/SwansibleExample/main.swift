// The seed's scenario as a program: a host list, a user and a password, a playbook, and the task-keyed
// result structure printed as JSON. `swansible-api-example --help` shows the options.
import Foundation
import SwansibleCore
import SwansibleData

var hosts: [String] = []
var user: String?
var password = ProcessInfo.processInfo.environment["SWANSIBLE_PASSWORD"]
var key: String?
var playbook = "Playbooks/demo.yml"
var noHostKeyChecking = false
var arguments = CommandLine.arguments.dropFirst()
while let arg = arguments.popFirst() {
    switch arg {
    case "--user": user = arguments.popFirst()
    case "--password": password = arguments.popFirst()
    case "--key": key = arguments.popFirst()
    case "--playbook": playbook = arguments.popFirst() ?? playbook
    case "--no-host-key-checking": noHostKeyChecking = true
    case "-h", "--help":
        print("usage: swansible-api-example [--user U] [--password P | $SWANSIBLE_PASSWORD] [--key FILE] "
            + "[--playbook FILE] [--no-host-key-checking] HOST[:PORT]...")
        exit(0)
    default: hosts.append(arg)
    }
}
if hosts.isEmpty { hosts = ["localhost"] }

var options = RunOptions()
options.hostKeyChecking = !noHostKeyChecking
do {
    let api = try AnsibleRunner(hosts: hosts, user: user, password: password, privateKey: key, options: options)
    let result = try await api.runPlaybook([playbook])
    print(result.seed.value.json(.init(indent: 2, sortKeys: true, ensureASCII: false)))
    exit(result.exitCode)
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
