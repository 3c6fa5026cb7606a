internal import CLibSSH2
internal import Glibc
import Synchronization

/// Something the event loop drives: a connection whose socket it watches and whose deadline it
/// keeps. Everything a handler does happens on its loop's thread.
protocol LoopHandler: AnyObject {
    /// The socket is ready for the events given (`EPOLLIN`, `EPOLLOUT`, `EPOLLERR`, `EPOLLHUP`).
    func handleEvents(_ events: UInt32)
    /// The deadline set with ``EventLoop/setDeadline(_:for:)`` has passed.
    func deadlineExpired()
    /// One line for ``EventLoop/debugState()``.
    var debugLine: String { get }
}

/// One thread that owns a share of the SSH sessions and drives them with level-triggered epoll.
///
/// libssh2 sessions run non-blocking; an operation steps until libssh2 answers `EAGAIN`, then the
/// loop waits for the directions libssh2 names. Swift tasks hand work to the loop with
/// ``execute(_:)`` and are resumed through continuations, so no libssh2 call ever blocks a thread
/// of Swift's cooperative pool, and every call for a session happens on its one loop thread
/// (libssh2 sessions must not be used from two threads at once).
final class EventLoop: @unchecked Sendable {
    // @unchecked Sendable: `inbox` is guarded by its mutex; every other stored property is touched
    // only on the loop's own thread (`run()` and the closures it executes).
    private let epfd: Int32
    private let wakeFD: Int32
    private let inbox = Mutex<[@Sendable () -> Void]>([])
    private let name: String

    private var handlers: [Int32: any LoopHandler] = [:]
    private var interest: [Int32: UInt32] = [:]
    private var timers = DeadlineHeap()
    private struct TimerState {
        var generation: UInt64
        /// The deadline of the handler's entry in the heap.
        var scheduled: ContinuousClock.Instant
        /// The deadline the handler asked for last (never earlier than `scheduled`).
        var wanted: ContinuousClock.Instant
    }
    private var timerGeneration: [ObjectIdentifier: TimerState] = [:]
    private var nextGeneration: UInt64 = 0
    /// A scratch buffer for channel reads, shared by every operation of this loop.
    let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 16)

    init(name: String) {
        self.name = name
        epfd = epoll_create1(Int32(EPOLL_CLOEXEC))
        wakeFD = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
        precondition(epfd >= 0 && wakeFD >= 0, "epoll/eventfd failed: \(String(cString: strerror(errno)))")
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.fd = wakeFD
        _ = epoll_ctl(epfd, EPOLL_CTL_ADD, wakeFD, &event)
        startThread(named: name) { [self] in run() }
    }

    /// Runs `work` on the loop's thread, soon.
    func execute(_ work: @escaping @Sendable () -> Void) {
        let wasEmpty = inbox.withLock { queue in
            queue.append(work)
            return queue.count == 1
        }
        if wasEmpty {
            var one: UInt64 = 1
            _ = write(wakeFD, &one, 8)
        }
    }

    // MARK: Loop-thread API

    /// Watches `fd` for `events` (0 = not at all) on behalf of `handler`.
    func watch(_ fd: Int32, events: UInt32, handler: any LoopHandler) {
        handlers[fd] = handler
        let current = interest[fd]
        if current == events { return }
        var event = epoll_event()
        event.events = events
        event.data.fd = fd
        if current == nil {
            _ = epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &event)
        } else {
            _ = epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &event)
        }
        interest[fd] = events
    }

    /// Stops watching `fd`; call before closing it.
    func forget(_ fd: Int32) {
        if interest.removeValue(forKey: fd) != nil {
            _ = epoll_ctl(epfd, EPOLL_CTL_DEL, fd, nil)
        }
        handlers.removeValue(forKey: fd)
    }

    /// Calls `handler.deadlineExpired()` once `deadline` has passed; nil cancels. One deadline per
    /// handler: a new one replaces the old.
    ///
    /// Handlers move their deadline on nearly every event (liveness checks), so a later deadline does not
    /// push a heap entry: it is recorded, and the entry already in the heap re-arms itself when it fires
    /// early. The heap holds at most a few entries per handler.
    func setDeadline(_ deadline: ContinuousClock.Instant?, for handler: any LoopHandler) {
        let id = ObjectIdentifier(handler)
        guard let deadline else {
            timerGeneration.removeValue(forKey: id)
            return
        }
        if var current = timerGeneration[id], current.scheduled <= deadline {
            current.wanted = deadline
            timerGeneration[id] = current
            return
        }
        nextGeneration += 1
        timerGeneration[id] = TimerState(generation: nextGeneration, scheduled: deadline, wanted: deadline)
        timers.push(.init(deadline: deadline, generation: nextGeneration, handler: handler))
    }

    /// What the loop waits for, for diagnostics (a hang): every watched socket with its handler's state, the
    /// kernel's view of the epoll set, and the timers. Call on the loop's thread.
    func debugState() -> String {
        let queued = inbox.withLock { $0.count }
        var lines = ["loop \(name): inbox \(queued), \(handlers.count) sockets, \(timers.count) timers, \(timerGeneration.count) live"]
        let fdinfo = readSmallFile("/proc/self/fdinfo/\(epfd)")
        var kernel: [Int32: String] = [:]
        for line in fdinfo.split(separator: "\n") where line.hasPrefix("tfd:") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            if parts.count >= 4, let fd = Int32(parts[1]) { kernel[fd] = String(parts[3]) }
        }
        for (fd, handler) in handlers.sorted(by: { $0.key < $1.key }) {
            var pending: Int32 = 0
            _ = ioctl(fd, UInt(FIONREAD), &pending)
            let registered = kernel[fd].map { "epoll \($0)" } ?? "NOT IN EPOLL"
            lines.append("  fd \(fd) want \(interest[fd].map { String($0, radix: 16) } ?? "-") \(registered) "
                + "unread \(pending): \(handler.debugLine)")
        }
        return lines.joined(separator: "\n")
    }

    private func run() {
        var events = [epoll_event](repeating: epoll_event(), count: 256)
        while true {
            var timeout: Int32 = -1
            if let first = timers.first {
                let remaining = ContinuousClock.now.duration(to: first.deadline)
                let ms = remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000
                timeout = Int32(clamping: max(0, ms + 1))
            }
            let n = epoll_wait(epfd, &events, Int32(events.count), timeout)
            if n < 0 && errno != EINTR {
                fatalError("epoll_wait failed: \(String(cString: strerror(errno)))")
            }
            for i in 0..<max(0, Int(n)) {
                let fd = events[i].data.fd
                if fd == wakeFD {
                    var value: UInt64 = 0
                    _ = read(wakeFD, &value, 8)
                    continue
                }
                handlers[fd]?.handleEvents(events[i].events)
            }
            let work = inbox.withLock { queue -> [@Sendable () -> Void] in
                defer { queue.removeAll(keepingCapacity: true) }
                return queue
            }
            for item in work { item() }
            fireTimers()
        }
    }

    private func fireTimers() {
        let now = ContinuousClock.now
        while let first = timers.first, first.deadline <= now {
            timers.pop()
            let id = ObjectIdentifier(first.handler)
            guard let state = timerGeneration[id], state.generation == first.generation else { continue }
            if state.wanted > now {
                // Moved later since this entry was pushed: re-arm for the wanted time.
                nextGeneration += 1
                timerGeneration[id] = TimerState(generation: nextGeneration, scheduled: state.wanted, wanted: state.wanted)
                timers.push(.init(deadline: state.wanted, generation: nextGeneration, handler: first.handler))
                continue
            }
            timerGeneration.removeValue(forKey: id)
            first.handler.deadlineExpired()
        }
    }
}

/// A binary min-heap of deadlines; stale entries are skipped by generation when they surface.
private struct DeadlineHeap {
    struct Entry {
        var deadline: ContinuousClock.Instant
        var generation: UInt64
        var handler: any LoopHandler
    }
    private var items: [Entry] = []

    var first: Entry? { items.first }
    var count: Int { items.count }

    mutating func push(_ entry: Entry) {
        items.append(entry)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard items[i].deadline < items[parent].deadline else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() {
        guard !items.isEmpty else { return }
        items.swapAt(0, items.count - 1)
        items.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < items.count && items[l].deadline < items[m].deadline { m = l }
            if r < items.count && items[r].deadline < items[m].deadline { m = r }
            if m == i { break }
            items.swapAt(i, m)
            i = m
        }
    }
}

/// A fixed set of event loops; connections are spread over them round robin.
final class EventLoopGroup: Sendable {
    let loops: [EventLoop]
    private let counter = Atomic<Int>(0)

    init(count: Int) {
        loops = (0..<max(1, count)).map { EventLoop(name: "swansible-ssh-\($0)") }
    }

    func next() -> EventLoop {
        let n = counter.wrappingAdd(1, ordering: .relaxed).oldValue
        return loops[n % loops.count]
    }

    /// One loop per core, at most 4: the loop threads do the SSH crypto for the whole fleet.
    static let shared: EventLoopGroup = {
        let cores = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        return EventLoopGroup(count: min(4, max(1, cores)))
    }()
}

/// Starts a detached thread running `body` (the loop threads and blocking look-ups such as DNS).
func startThread(named name: String, _ body: @escaping @Sendable () -> Void) {
    final class Box: @unchecked Sendable {
        let body: @Sendable () -> Void
        let name: String
        init(_ body: @escaping @Sendable () -> Void, _ name: String) {
            self.body = body
            self.name = name
        }
    }
    let box = Unmanaged.passRetained(Box(body, name)).toOpaque()
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
    pthread_attr_setstacksize(&attributes, 512 * 1024)
    var thread = pthread_t()
    let rc = pthread_create(&thread, &attributes, { raw in
        let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
        box.name.withCString { swansible_set_thread_name($0) }
        box.body()
        return nil
    }, box)
    pthread_attr_destroy(&attributes)
    precondition(rc == 0, "pthread_create failed: \(rc)")
}

/// The text of a small file such as one under /proc ("" when unreadable).
func readSmallFile(_ path: String) -> String {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return "" }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = read(fd, &chunk, chunk.count)
        if n <= 0 { break }
        bytes += chunk[0..<n]
    }
    return String(decoding: bytes, as: UTF8.self)
}
