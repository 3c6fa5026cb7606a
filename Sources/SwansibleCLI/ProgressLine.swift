import Foundation
import SwansibleCore
import SwansibleData

/// A live status line on stderr for the running task: hosts done of the total, ok/changed/failed/unreachable
/// so far, elapsed time. Only when stderr is a terminal (never in captured output), redrawn a few times a
/// second from its own dispatch timer (no work on Swift's cooperative pool), erased before the next line of
/// normal output, which goes to stdout as before.
final class ProgressLine: @unchecked Sendable {
    // @unchecked: all state is behind `lock`.
    private let lock = NSLock()
    private var timer: (any DispatchSourceTimer)?
    private var task: String?
    private var started = Date()
    private var total: Int?
    private var done = 0
    private var counts: [String: Int] = [:]
    private var shown = false
    private let write: (String) -> Void
    private let columns: () -> Int
    /// A task shorter than this never shows the line (no flicker on fast tasks).
    private let delay: TimeInterval

    init(delay: TimeInterval = 0.5, columns: @escaping () -> Int, write: @escaping (String) -> Void) {
        self.delay = delay
        self.columns = columns
        self.write = write
    }

    /// A progress line on stderr, or nil when stderr is not a terminal (or progress is off: `--json`,
    /// `SWANSIBLE_NO_PROGRESS`).
    static func ifTerminal(enabled: Bool) -> ProgressLine? {
        guard enabled, Terminal.isTerminal(2), ProcessInfo.processInfo.environment["SWANSIBLE_NO_PROGRESS"] == nil else {
            return nil
        }
        let line = ProgressLine(columns: Terminal.stderrColumns) { text in
            FileHandle.standardError.write(Data(text.utf8))
        }
        line.start()
        return line
    }

    func start() {
        let t = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "swansible.progress"))
        t.schedule(deadline: .now() + 0.2, repeating: 0.2)
        t.setEventHandler { [weak self] in self?.redraw() }
        t.resume()
        timer = t
    }

    /// Updates the state from an event (called in order, before the event's normal output is printed).
    func handle(_ event: RunEvent) {
        lock.lock()
        defer { lock.unlock() }
        clearLocked()
        switch event.kind {
        case .taskStart, .handlerTaskStart:
            task = event.display["name"]?.stringValue ?? event.data["task"]?.stringValue ?? ""
            started = Date()
            total = event.display["hosts"]?.intValue ?? event.data["hosts"]?.intValue
            done = 0
            counts = [:]
        case .ok, .changed, .skipped, .failed, .failedIgnored, .failedRescued, .unreachable, .unreachableIgnored:
            done += 1
            let key: String
            switch event.kind {
            case .ok, .skipped: key = "ok"
            case .changed: key = "changed"
            case .unreachable, .unreachableIgnored: key = "unreachable"
            default: key = "failed"
            }
            counts[key, default: 0] += 1
        case .stats, .playStart:
            task = nil
        default: break
        }
    }

    /// The status text for the current state (nil when no task runs).
    func statusText(now: Date = Date()) -> String? {
        guard let task else { return nil }
        let elapsed = now.timeIntervalSince(started)
        let doneText = total.map { "\(done)/\($0)" } ?? "\(done)"
        let tally = ["ok", "changed", "failed", "unreachable"].map { "\($0)=\(counts[$0, default: 0])" }.joined(separator: " ")
        return "[\(task)] \(doneText) done  \(tally)  \(String(format: "%.1f", elapsed))s"
    }

    private func redraw() {
        lock.lock()
        defer { lock.unlock() }
        guard task != nil, Date().timeIntervalSince(started) >= delay, var text = statusText() else { return }
        let width = max(20, columns() - 1)
        if text.count > width { text = String(text.prefix(width - 1)) + "…" }
        write("\r\u{1B}[K" + text)
        shown = true
    }

    private func clearLocked() {
        if shown {
            write("\r\u{1B}[K")
            shown = false
        }
    }

    /// Runs `body` (which prints normal output) with the line erased and no redraw in between.
    func around(_ body: () -> Void) {
        lock.lock()
        defer { lock.unlock() }
        clearLocked()
        body()
    }

    /// Stops the timer and erases the line.
    func finish() {
        timer?.cancel()
        timer = nil
        lock.lock()
        clearLocked()
        task = nil
        lock.unlock()
    }
}
