// swansible-bench: measures the SSH engine on the loopback test hosts (not a test; see Docs/benchmarks.md).
//
//   swansible-bench ssh --hosts-json .hosts/hosts.json [--hosts 50] [--execs 20] [--rounds 3]
//   swansible-bench transfer --hosts-json … [--hosts 50] [--size-mb 10] [--method stream|sftp|scp] [--dir /tmp]
//       [--timeout 120]  (per host and transfer)
//   swansible-bench floor --hosts-json … --hosts N --tasks T   (connect + auth + T execs per host, reused session)
//   swansible-bench parse --file big.yml [--rounds 20]   (PlaybookLoader.load in-process; no hosts; Tests/bench/parse-bench)
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
    /// Transfer size in KiB when given (--size-kb): small sizes show the fixed cost of each method.
    var sizeKB: Int?
    var methods: [TransferMethod] = TransferMethod.allCases
    var commandLine = "true"
    var raw = false
    var loops: Int?
    var single: Int?
    /// Where `transfer` writes on the hosts (/dev/shm keeps the disk out of the measurement).
    var directory = "/tmp"
    /// floor: run task by task over all hosts (wait for every host before the next task, as ansible's linear
    /// strategy does) instead of each host's tasks independently.
    var linear = false
    /// Seconds after which a phase that has not finished prints the engine's state (diagnosing hangs); 0 = never.
    var watchdog = 30
    /// Seconds after which one host's transfer is abandoned (a stalled transfer then fails instead of hanging).
    var timeout = 120
    /// The playbook `parse` loads.
    var file = ""
    /// floor: a JSON list of commands, one per task (instead of `--tasks` times `--command`); `{i}` is the host's
    /// index. The W1 floor runs the playbook's own commands this way.
    var commands: [String] = []
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
        case "--size-kb": o.sizeKB = Int(value())
        case "--method": o.methods = [TransferMethod(rawValue: value()) ?? .stream]
        case "--command": o.commandLine = value()
        case "--raw": o.raw = true
        case "--loops": o.loops = Int(value())
        case "--single": o.single = Int(value())
        case "--dir": o.directory = value()
        case "--timeout": o.timeout = Int(value()) ?? o.timeout
        case "--watchdog": o.watchdog = Int(value()) ?? o.watchdog
        case "--file": o.file = value()
        case "--linear": o.linear = true
        case "--commands":
            let path = value()
            guard let text = try? String(contentsOfFile: path, encoding: .utf8), let list = try? Value(json: text).listValue
            else { fatalError("--commands: \(path) is not a JSON list of strings") }
            o.commands = list.compactMap(\.stringValue)
            o.execs = o.commands.count
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

/// CPU seconds the whole machine spent busy (all cores, client and sshd alike), from /proc/stat; 0 where absent.
func machineBusySeconds() -> Double {
    let fd = open("/proc/stat", O_RDONLY)
    guard fd >= 0 else { return 0 }
    defer { close(fd) }
    var buffer = [UInt8](repeating: 0, count: 512)
    let n = read(fd, &buffer, buffer.count)
    guard n > 0 else { return 0 }
    let line = String(decoding: buffer[0..<n], as: UTF8.self).split(separator: "\n").first ?? ""
    // cpu user nice system idle iowait irq softirq steal ...: busy = all but idle and iowait.
    let ticks = line.split(separator: " ").dropFirst().compactMap { Double($0) }
    guard ticks.count >= 5 else { return 0 }
    let busy = ticks.enumerated().filter { $0.offset != 3 && $0.offset != 4 }.map(\.element).reduce(0, +)
    return busy / Double(sysconf(Int32(_SC_CLK_TCK)))
}

/// CPU spent during phases, printed with --raw as `RAWCPU<TAB>label<TAB>machine:self,…` (seconds).
nonisolated(unsafe) var cpuByLabel: [(String, [(Double, Double)])] = []

/// Runs `body`; when it takes longer than --watchdog seconds, prints the engine's state to stderr (once a
/// watchdog period) so a hang can be diagnosed before the benchmark's timeout kills the process.
func watched<T: Sendable>(_ label: String, _ body: () async throws -> T) async rethrows -> T {
    guard options.watchdog > 0 else { return try await body() }
    let watchdog = Task {
        var waited = 0
        while true {
            try await Task.sleep(for: .seconds(options.watchdog))
            waited += options.watchdog
            let state = await client.debugState()
            FileHandleStderr.write("watchdog: \(label) still running after \(waited) s\n\(state)\n")
        }
    }
    defer { watchdog.cancel() }
    return try await body()
}

enum FileHandleStderr {
    static func write(_ text: String) {
        var bytes = Array(text.utf8)
        _ = Glibc.write(2, &bytes, bytes.count)
    }
}

/// Runs `body`, recording the machine's and this process's CPU seconds for `label`.
func measuringCPU<T: Sendable>(_ label: String, _ body: () async throws -> T) async rethrows -> T {
    let machine0 = machineBusySeconds(), self0 = cpuSeconds()
    let result = try await watched(label, body)
    let sample = (machineBusySeconds() - machine0, cpuSeconds() - self0)
    if let i = cpuByLabel.firstIndex(where: { $0.0 == label }) {
        cpuByLabel[i].1.append(sample)
    } else {
        cpuByLabel.append((label, [sample]))
    }
    return result
}

func printCPU() {
    guard options.raw else { return }
    for (label, samples) in cpuByLabel {
        print("RAWCPU\t\(label)\t" + samples.map { fixed($0.0, 2) + ":" + fixed($0.1, 3) }.joined(separator: ","))
    }
}

/// `count` bytes of a fixed pattern (incompressible enough; no compression is negotiated anyway). A plain
/// function, not a closure in the top-level code: those run main-actor isolation checks on every call.
func payload(count: Int) -> [UInt8] {
    [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
        for i in 0..<count { buffer[i] = UInt8(truncatingIfNeeded: i &* 31 &+ i >> 9) }
        initialized = count
    }
}

func peakRSSMB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
}

let options = parseOptions()
if options.command == "parse" {
    parseBench(file: options.file, rounds: options.rounds)
    exit(0)
}
let fleet = try Fleet(json: options.hostsJSON, count: options.hosts)
let client = SSHClient(loopCount: options.loops)

/// The command of task `task` on host `host` for the floor (`{i}` replaced by the host's index).
func taskCommand(_ task: Int, host: Int) -> String {
    guard task < options.commands.count else { return options.commandLine }
    let parts = options.commands[task].split(separator: "{i}", omittingEmptySubsequences: false)
    return parts.joined(separator: String(host))
}

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
    let labelA = "\(options.hosts) hosts: connect+auth+first exec (all)"
    let labelB = "\(options.hosts) hosts: \(options.execs) further execs each (all)"
    for _ in 0..<options.rounds {
        let t0 = ContinuousClock.now
        let connections = try await measuringCPU(labelA) {
            try await withThrowingTaskGroup(of: SSHConnection.self) { group in
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
        }
        phaseA.append(seconds(ContinuousClock.now - t0))
        let t1 = ContinuousClock.now
        try await measuringCPU(labelB) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for c in connections {
                    group.addTask {
                        for _ in 0..<options.execs { _ = try await c.exec("true") }
                    }
                }
                try await group.waitForAll()
            }
        }
        phaseB.append(seconds(ContinuousClock.now - t1))
        for c in connections { await c.close() }
    }
    summary(labelA, phaseA)
    summary(labelB, phaseB)
    printCPU()
    print("controller CPU \(fixed(cpuSeconds(), 2)) s, peak RSS \(fixed(peakRSSMB(), 1)) MB")

case "transfer":
    let data = payload(count: options.sizeKB.map { $0 * 1024 } ?? options.sizeMB * 1024 * 1024)
    let size = options.sizeKB.map { "\($0) KB" } ?? "\(options.sizeMB) MB"
    let connections = try await withThrowingTaskGroup(of: SSHConnection.self) { group in
        for i in 0..<options.hosts { group.addTask { try await fleet.connect(i, client: client) } }
        var all: [SSHConnection] = []
        for try await c in group { all.append(c) }
        return all
    }
    for method in options.methods {
        var times: [Double] = []
        let label = "\(size) to \(options.hosts) hosts via \(method.rawValue)"
        for round in 0..<options.rounds {
            let t0 = ContinuousClock.now
            try await measuringCPU(label) {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for (i, c) in connections.enumerated() {
                        group.addTask {
                            try await c.writeFile(
                                .bytes(data), to: "\(options.directory)/swansible-bench-\(method.rawValue)-\(i)-\(round)", mode: 0o644,
                                method: method, timeout: .seconds(options.timeout))
                        }
                    }
                    try await group.waitForAll()
                }
            }
            times.append(seconds(ContinuousClock.now - t0))
        }
        summary(label, times)
    }
    printCPU()
    _ = try await connections[0].exec("rm -f \(options.directory)/swansible-bench-*")
    for c in connections { await c.close() }

case "floor" where options.linear:
    // The floor with ansible's linear strategy: connect all, then each task on every host before the next one.
    let t0 = ContinuousClock.now
    let connections = await withTaskGroup(of: (Int, SSHConnection)?.self) { group in
        for i in 0..<options.hosts { group.addTask { (try? await fleet.connect(i, client: client)).map { (i, $0) } } }
        var all: [(Int, SSHConnection)] = []
        for await c in group { if let c { all.append(c) } }
        return all
    }
    var failures = options.hosts - connections.count
    for task in 0..<options.execs {
        failures += await withTaskGroup(of: Int.self) { group in
            for (index, c) in connections {
                group.addTask { (try? await c.exec(taskCommand(task, host: index))) == nil ? 1 : 0 }
            }
            var n = 0
            for await f in group { n += f }
            return n
        }
    }
    for (_, c) in connections { await c.close() }
    let wall = seconds(ContinuousClock.now - t0)
    print("floor (linear): \(options.hosts) hosts x \(options.execs) tasks: \(fixed(wall, 3)) s wall, \(failures) failed, "
        + "CPU \(fixed(cpuSeconds(), 2)) s, peak RSS \(fixed(peakRSSMB(), 1)) MB")

case "floor":
    // The floor: connect + auth, then `--tasks` execs per host on the reused session, all hosts at once.
    let t0 = ContinuousClock.now
    let failures = await withTaskGroup(of: Int.self) { group in
        for i in 0..<options.hosts {
            group.addTask {
                do {
                    let c = try await fleet.connect(i, client: client)
                    for task in 0..<options.execs { _ = try await c.exec(taskCommand(task, host: i)) }
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
