// swansible-bench: measures the SSH engine on the loopback test hosts (not a test; see Docs/benchmarks.md).
//
//   swansible-bench ssh --hosts-json .hosts/hosts.json [--hosts 50] [--execs 20] [--rounds 3]
//   swansible-bench transfer --hosts-json … [--hosts 50] [--size-mb 10] [--method stream|sftp|scp]
//   swansible-bench floor --hosts-json … --hosts N --tasks T   (connect + auth + T execs per host, reused session)
//
// Common options: --raw also prints every sample as `RAW<TAB>label<TAB>seconds,seconds,…` (what
// Tests/bench/ssh-bench parses); --loops N runs the engine on N event-loop threads (default: one per core, at most 4);
// --single N takes N samples of the one-host latencies (default max(5, rounds)).
import Glibc
import SwansibleData
import SwansibleSSH

struct Options {
    var command = "ssh"
    var hostsJSON = ".hosts/hosts.json"
    var hosts = 50
    var execs = 20
    var rounds = 3
    var sizeMB = 10
    var methods: [TransferMethod] = TransferMethod.allCases
    var commandLine = "true"
    var raw = false
    var loops: Int?
    var single: Int?
}

func parseOptions() -> Options {
    var o = Options()
    var args = Array(CommandLine.arguments.dropFirst())
    if let first = args.first, !first.hasPrefix("-") { o.command = first; args.removeFirst() }
    var i = 0
    func value() -> String { i += 1; return i < args.count ? args[i] : "" }
    while i < args.count {
        switch args[i] {
        case "--hosts-json": o.hostsJSON = value()
        case "--hosts": o.hosts = Int(value()) ?? o.hosts
        case "--execs", "--tasks": o.execs = Int(value()) ?? o.execs
        case "--rounds": o.rounds = Int(value()) ?? o.rounds
        case "--size-mb": o.sizeMB = Int(value()) ?? o.sizeMB
        case "--method": o.methods = [TransferMethod(rawValue: value()) ?? .stream]
        case "--command": o.commandLine = value()
        case "--raw": o.raw = true
        case "--loops": o.loops = Int(value())
        case "--single": o.single = Int(value())
        default: fatalError("unknown option \(args[i])")
        }
        i += 1
    }
    return o
}

struct Fleet {
    var addresses: [(String, Int)]
    var user: String
    var key: String
    var knownHosts: String

    init(json path: String, count: Int) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { fatalError("cannot open \(path)") }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { break }
            bytes += chunk[0..<n]
        }
        close(fd)
        let v = try Value(json: String(decoding: bytes, as: UTF8.self))
        let hosts = v["hosts"]!.listValue!
        precondition(hosts.count >= count, "only \(hosts.count) hosts are running; start \(count)")
        addresses = hosts.prefix(count).map { ($0["address"]!.stringValue!, $0["port"]!.intValue!) }
        user = v["users"]!["plain"]!["name"]!.stringValue!
        key = v["keys"]!["ed25519"]!.stringValue!
        knownHosts = v["known_hosts"]!.stringValue!
    }

    func connect(_ i: Int, client: SSHClient) async throws -> SSHConnection {
        try await client.connect(
            host: addresses[i].0, port: addresses[i].1,
            credentials: SSHCredentials(user: user, privateKeys: [SSHPrivateKey(path: key)], useAgent: false, useDefaultKeys: false),
            options: SSHOptions(hostKeyPolicy: .strict(knownHostsFiles: [knownHosts])))
    }
}

func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}

func summary(_ label: String, _ values: [Double]) {
    let sorted = values.sorted()
    let median = sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    func ms(_ x: Double) -> String { fixed(x * 1000, 1) }
    if options.raw { print("RAW\t\(label)\t" + values.map { fixed($0, 6) }.joined(separator: ",")) }
    print("\(label): median \(ms(median)) ms (min \(ms(sorted.first!)), max \(ms(sorted.last!)), n=\(values.count))")
}

/// `x` with `digits` decimals (no Foundation here).
func fixed(_ x: Double, _ digits: Int) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let n = Int((x * scale).rounded())
    let whole = n / Int(scale), fraction = abs(n % Int(scale))
    if digits == 0 { return String(whole) }
    let f = String(fraction)
    return (n < 0 && whole == 0 ? "-" : "") + String(whole) + "." + String(repeating: "0", count: digits - f.count) + f
}

func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec)
        + Double(usage.ru_stime.tv_usec) / 1e6
}

func peakRSSMB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
}

let options = parseOptions()
let fleet = try Fleet(json: options.hostsJSON, count: options.hosts)
let client = SSHClient(loopCount: options.loops)

switch options.command {
case "ssh":
    // One host alone: the latency of connect+auth+first exec and of one more exec.
    var single: [Double] = []
    var singleExec: [Double] = []
    for _ in 0..<(options.single ?? max(5, options.rounds)) {
        let t0 = ContinuousClock.now
        let c = try await fleet.connect(0, client: client)
        _ = try await c.exec("true")
        single.append(seconds(ContinuousClock.now - t0))
        let t1 = ContinuousClock.now
        _ = try await c.exec("true")
        singleExec.append(seconds(ContinuousClock.now - t1))
        await c.close()
    }
    summary("1 host: connect+auth+first exec", single)
    summary("1 host: one further exec", singleExec)
    var phaseA: [Double] = []
    var phaseB: [Double] = []
    for _ in 0..<options.rounds {
        let t0 = ContinuousClock.now
        let connections = try await withThrowingTaskGroup(of: SSHConnection.self) { group in
            for i in 0..<options.hosts {
                group.addTask {
                    let c = try await fleet.connect(i, client: client)
                    _ = try await c.exec("true")
                    return c
                }
            }
            var all: [SSHConnection] = []
            for try await c in group { all.append(c) }
            return all
        }
        phaseA.append(seconds(ContinuousClock.now - t0))
        let t1 = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for c in connections {
                group.addTask {
                    for _ in 0..<options.execs { _ = try await c.exec("true") }
                }
            }
            try await group.waitForAll()
        }
        phaseB.append(seconds(ContinuousClock.now - t1))
        for c in connections { await c.close() }
    }
    summary("\(options.hosts) hosts: connect+auth+first exec (all)", phaseA)
    summary("\(options.hosts) hosts: \(options.execs) further execs each (all)", phaseB)
    print("controller CPU \(fixed(cpuSeconds(), 2)) s, peak RSS \(fixed(peakRSSMB(), 1)) MB")

case "transfer":
    let data = (0..<(options.sizeMB * 1024 * 1024)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
    let connections = try await withThrowingTaskGroup(of: SSHConnection.self) { group in
        for i in 0..<options.hosts { group.addTask { try await fleet.connect(i, client: client) } }
        var all: [SSHConnection] = []
        for try await c in group { all.append(c) }
        return all
    }
    for method in options.methods {
        var times: [Double] = []
        for round in 0..<options.rounds {
            let t0 = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (i, c) in connections.enumerated() {
                    group.addTask {
                        try await c.writeFile(.bytes(data), to: "/tmp/swansible-bench-\(method.rawValue)-\(i)-\(round)", mode: 0o644, method: method)
                    }
                }
                try await group.waitForAll()
            }
            times.append(seconds(ContinuousClock.now - t0))
        }
        summary("\(options.sizeMB) MB to \(options.hosts) hosts via \(method.rawValue)", times)
    }
    _ = try await connections[0].exec("rm -f /tmp/swansible-bench-*")
    for c in connections { await c.close() }

case "floor":
    // The floor: connect + auth, then `--tasks` execs per host on the reused session, all hosts at once.
    let t0 = ContinuousClock.now
    let failures = await withTaskGroup(of: Int.self) { group in
        for i in 0..<options.hosts {
            group.addTask {
                do {
                    let c = try await fleet.connect(i, client: client)
                    for _ in 0..<options.execs { _ = try await c.exec(options.commandLine) }
                    await c.close()
                    return 0
                } catch {
                    return 1
                }
            }
        }
        var n = 0
        for await f in group { n += f }
        return n
    }
    let wall = seconds(ContinuousClock.now - t0)
    print("floor: \(options.hosts) hosts x \(options.execs) tasks: \(fixed(wall, 3)) s wall, \(failures) failed, "
        + "CPU \(fixed(cpuSeconds(), 2)) s, peak RSS \(fixed(peakRSSMB(), 1)) MB")

default:
    fatalError("unknown command \(options.command)")
}
