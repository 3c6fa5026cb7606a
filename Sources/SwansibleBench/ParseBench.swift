import Glibc
import SwansibleCore

/// W5: loading a large playbook (YAML parse, structure checks, argument splitting, task objects), in-process.
/// Prints the wall and thread-CPU time of each load's median; the first load is a warm-up.
func parseBench(file: String, rounds: Int) {
    guard !file.isEmpty else { fatalError("parse needs --file PLAYBOOK (Tests/bench/parse-bench makes one)") }
    var walls: [Double] = []
    var cpus: [Double] = []
    var tasks = 0
    var p0 = 0.0
    for round in 0...rounds {
        if round == 1 { p0 = processCPUSeconds() }
        var loader = PlaybookLoader(rolesPath: [])
        loader.requireSupportedModules = false
        let c0 = threadCPUSeconds()
        let t0 = ContinuousClock.now
        let playbook: Playbook
        do {
            playbook = try loader.load(path: file)
        } catch {
            fatalError("\(error)")
        }
        let wall = seconds(ContinuousClock.now - t0)
        let cpu = threadCPUSeconds() - c0
        if round > 0 {
            walls.append(wall)
            cpus.append(cpu)
        }
        tasks = playbook.plays.reduce(0) { $0 + count($1.tasks) + count($1.handlers) }
    }
    print("parse \(file): \(tasks) tasks")
    summary("load wall", walls)
    summary("load thread CPU", cpus)
    // Every thread's: the libyaml producer thread and the background release of the trees count here.
    let perLoad = (processCPUSeconds() - p0) / Double(max(rounds, 1))
    print("load process CPU (all threads), mean: \(fixed(perLoad * 1000, 1)) ms")
}

private func count(_ nodes: [TaskNode]) -> Int {
    nodes.reduce(0) { n, node in
        switch node {
        case .task: return n + 1
        case .block(let b): return n + count(b.block) + count(b.rescue) + count(b.always)
        }
    }
}

private func processCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

private func threadCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
