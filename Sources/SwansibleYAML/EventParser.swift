internal import CLibYAML
import Glibc

/// libyaml's event parser over a private copy of the input. The parser state and the input buffer live on
/// the heap for the parser's lifetime (libyaml keeps pointers into both).
///
/// Large inputs (``pipelineMinimumBytes`` and more) are parsed on a second thread: libyaml's scanner and
/// parser (about 40 % of a load's instructions) run ahead of the composer on the calling thread, handing over
/// batches of events through a small ring (``EventPipeline``). The events, their order, the error that ends
/// them and libyaml's marks are the same as when parsing on the calling thread; only who calls
/// `yaml_parser_parse` changes.
final class EventParser {
    private let parser: UnsafeMutablePointer<yaml_parser_t>
    private let input: UnsafeMutableBufferPointer<UInt8>
    /// The single event of the unthreaded mode.
    private let single: UnsafeMutablePointer<yaml_event_t>
    private let pipeline: EventPipeline?

    /// Inputs of at least this many bytes are parsed on a second thread. A task file of a few KB is parsed
    /// faster than a thread starts and hands over its first batch; at 93 KB on a busy machine the hand-overs
    /// still cost more than they saved (6.5 against 5.7 ms median). `SWANSIBLE_YAML_PIPELINE_MIN_BYTES`
    /// overrides it (tests run small inputs through the pipeline with 0).
    static let pipelineMinimumBytes: Int = {
        if let text = getenv("SWANSIBLE_YAML_PIPELINE_MIN_BYTES"), let n = Int(String(cString: text)), n >= 0 {
            return n
        }
        return 256 * 1024
    }()

    /// - Parameter pipelined: parse on a second thread; nil decides by the input's size.
    init(text: String, pipelined: Bool? = nil) {
        let utf8 = text.utf8
        input = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(1, utf8.count))
        _ = input.initialize(from: utf8)
        parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
        single = UnsafeMutablePointer<yaml_event_t>.allocate(capacity: 1)
        // A zeroed event is YAML_NO_EVENT, which yaml_event_delete accepts: no flag for "holds an event".
        single.initialize(to: yaml_event_t())
        guard yaml_parser_initialize(parser) != 0 else { fatalError("libyaml: out of memory") }
        yaml_parser_set_input_string(parser, input.baseAddress, utf8.count)
        yaml_parser_set_encoding(parser, YAML_UTF8_ENCODING)
        if pipelined ?? (utf8.count >= Self.pipelineMinimumBytes) {
            pipeline = EventPipeline(parser: parser)  // nil if no thread could be started
        } else {
            pipeline = nil
        }
    }

    deinit {
        // Stops and joins the producer first: it owns the parser while it runs.
        pipeline?.finish()
        yaml_event_delete(single)
        yaml_parser_delete(parser)
        parser.deallocate()
        single.deallocate()
        input.deallocate()
    }

    /// The next event, valid until the next call; nil (with ``failure`` describing why) on a syntax error.
    @inline(__always)
    func next() -> UnsafeMutablePointer<yaml_event_t>? {
        if let pipeline { return pipeline.next() }
        yaml_event_delete(single)
        return yaml_parser_parse(parser, single) != 0 ? single : nil
    }

    enum Failure {
        /// A reader error: a character YAML does not accept, at a byte offset of the input.
        case reader(problem: String, value: Int32, offset: Int)
        /// A scanner or parser error with libyaml's 0-based marks.
        case syntax(context: String?, problem: String, line: Int, column: Int)
        case memory
    }

    /// libyaml's description of the last error. (Pipelined, it is read after ``next()`` returned false, when
    /// the producer has stopped touching the parser.)
    var failure: Failure {
        let p = parser.pointee
        let problem = p.problem.map { String(cString: $0) } ?? "unknown error"
        switch p.error {
        case YAML_READER_ERROR:
            return .reader(problem: problem, value: p.problem_value, offset: p.problem_offset)
        case YAML_SCANNER_ERROR, YAML_PARSER_ERROR:
            return .syntax(
                context: p.context.map { String(cString: $0) }, problem: problem,
                line: p.problem_mark.line, column: p.problem_mark.column)
        default:
            return .memory
        }
    }
}

/// A producer thread running `yaml_parser_parse` into a ring of event batches, and the consumer side the
/// composer reads them from.
///
/// The producer owns the parser until it stops (after the stream end event, a parse error, or when
/// ``finish()`` cancels it). It fills a free slot with up to ``batchSize`` events without holding the lock,
/// then publishes it. The consumer reads a published batch in place; when it moves past a batch it hands
/// the slot back, and the producer deletes the batch's events (libyaml's strings) before refilling it, so
/// that the frees stay on the thread that allocated them and off the composer's. The composer copies what
/// it keeps out of an event (text, tag, anchor) before it asks for the next one.
///
/// A dedicated pthread, not a task of Swift's cooperative pool: the producer blocks on a condition when the
/// ring is full.
final class EventPipeline: @unchecked Sendable {
    static let batchSize = 512
    static let slotCount = 8
    /// A consumer that ran out of events sleeps until this many batches are ready (or the producer stopped):
    /// libyaml is the slower side, and waking the composer for every batch made the wake-ups (tens of
    /// microseconds each on a busy machine) the bottleneck.
    static let wakeAhead = 4

    private let parser: UnsafeMutablePointer<yaml_parser_t>
    private let events: UnsafeMutablePointer<yaml_event_t>
    /// How many events each slot holds (set by the producer; read by the consumer once published).
    private let counts: UnsafeMutablePointer<Int>
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let notFull: UnsafeMutablePointer<pthread_cond_t>
    private let notEmpty: UnsafeMutablePointer<pthread_cond_t>
    private var thread = pthread_t()

    // Under `mutex`:
    /// Batches published by the producer, and handed back by the consumer (both only grow).
    private var published = 0
    private var released = 0
    /// The producer has stopped: after the stream end (`failed` false) or a parse error (`failed` true).
    private var done = false
    private var failed = false
    private var cancelled = false
    /// The consumer sleeps on `notEmpty`; the producer waits on `notFull` (only these wake-ups are signalled).
    private var consumerWaiting = false
    private var producerWaiting = false

    /// The consumer's own state, behind a pointer: Swift checks exclusive access to a class's stored
    /// properties at run time on every access, and this is read once per event.
    private struct Cursor {
        /// The batch being read (its sequence number) and the position in it; -1 before the first batch.
        var current = -1
        var position = 0
        var count = 0
        /// Where the batch's events start.
        var base: UnsafeMutablePointer<yaml_event_t>?
        var finished = false
    }
    private let cursor: UnsafeMutablePointer<Cursor>
    /// Returned after the stream end, as libyaml returns YAML_NO_EVENT.
    private let empty: UnsafeMutablePointer<yaml_event_t>

    /// Starts the producer thread; nil when no thread can be created (the caller then parses itself).
    init?(parser: UnsafeMutablePointer<yaml_parser_t>) {
        self.parser = parser
        let total = Self.batchSize * Self.slotCount
        events = UnsafeMutablePointer<yaml_event_t>.allocate(capacity: total)
        events.initialize(repeating: yaml_event_t(), count: total)
        counts = UnsafeMutablePointer<Int>.allocate(capacity: Self.slotCount)
        counts.initialize(repeating: 0, count: Self.slotCount)
        empty = UnsafeMutablePointer<yaml_event_t>.allocate(capacity: 1)
        empty.initialize(to: yaml_event_t())
        cursor = UnsafeMutablePointer<Cursor>.allocate(capacity: 1)
        cursor.initialize(to: Cursor())
        mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        notFull = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
        notEmpty = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(notFull, nil)
        pthread_cond_init(notEmpty, nil)
        let context = Unmanaged.passRetained(self).toOpaque()
        let status = pthread_create(&thread, nil, { context in
            let pipeline = Unmanaged<EventPipeline>.fromOpaque(context!).takeRetainedValue()
            pipeline.produce()
            return nil
        }, context)
        if status != 0 {
            Unmanaged<EventPipeline>.fromOpaque(context).release()
            return nil
        }
    }

    deinit {
        for slot in 0..<Self.slotCount { deleteEvents(slot) }
        events.deinitialize(count: Self.batchSize * Self.slotCount)
        events.deallocate()
        counts.deallocate()
        empty.deallocate()
        cursor.deallocate()
        pthread_cond_destroy(notEmpty)
        pthread_cond_destroy(notFull)
        pthread_mutex_destroy(mutex)
        notEmpty.deallocate()
        notFull.deallocate()
        mutex.deallocate()
    }

    private func deleteEvents(_ slot: Int) {
        let base = events + slot * Self.batchSize
        for i in 0..<counts[slot] { yaml_event_delete(base + i) }
        counts[slot] = 0
    }

    // MARK: Producer thread

    private func produce() {
        var sequence = 0
        while true {
            pthread_mutex_lock(mutex)
            while published - released == Self.slotCount && !cancelled {
                producerWaiting = true
                pthread_cond_wait(notFull, mutex)
                producerWaiting = false
            }
            let stop = cancelled
            pthread_mutex_unlock(mutex)
            if stop { return }
            let slot = sequence % Self.slotCount
            deleteEvents(slot)  // the consumer is done with this slot's previous batch
            let base = events + slot * Self.batchSize
            var count = 0
            var ok = true
            var end = false
            while count < Self.batchSize {
                if yaml_parser_parse(parser, base + count) == 0 {
                    ok = false
                    break
                }
                count += 1
                if base[count - 1].type == YAML_STREAM_END_EVENT {
                    end = true
                    break
                }
            }
            counts[slot] = count
            pthread_mutex_lock(mutex)
            if count > 0 { published += 1 }
            if !ok || end {
                done = true
                failed = !ok
            }
            if consumerWaiting && (published - released >= Self.wakeAhead || done) {
                pthread_cond_signal(notEmpty)
            }
            pthread_mutex_unlock(mutex)
            if !ok || end { return }
            sequence += 1
        }
    }

    // MARK: Consumer (the composer's thread)

    /// The next event, or nil on a parse error.
    @inline(__always)
    func next() -> UnsafeMutablePointer<yaml_event_t>? {
        let c = cursor
        if c.pointee.current >= 0 {
            c.pointee.position += 1
            if c.pointee.position < c.pointee.count { return c.pointee.base! + c.pointee.position }
        }
        return nextBatch()
    }

    /// Hands the batch just read back to the producer and waits for the next one.
    private func nextBatch() -> UnsafeMutablePointer<yaml_event_t>? {
        let c = cursor
        if c.pointee.finished { return failed ? nil : empty }
        pthread_mutex_lock(mutex)
        if c.pointee.current >= 0 {
            released += 1
            if producerWaiting { pthread_cond_signal(notFull) }
        }
        if published == released {
            consumerWaiting = true
            while published - released < Self.wakeAhead && !done { pthread_cond_wait(notEmpty, mutex) }
            consumerWaiting = false
        }
        if published > released {
            let sequence = released
            pthread_mutex_unlock(mutex)
            let slot = sequence % Self.slotCount
            c.pointee.current = sequence
            c.pointee.position = 0
            c.pointee.count = counts[slot]
            c.pointee.base = events + slot * Self.batchSize
            return c.pointee.base
        }
        let failed = self.failed
        pthread_mutex_unlock(mutex)
        c.pointee.finished = true
        c.pointee.current = -1
        return failed ? nil : empty
    }

    /// Stops the producer (if it still runs) and waits for it; afterwards the parser is the caller's again.
    func finish() {
        pthread_mutex_lock(mutex)
        cancelled = true
        pthread_cond_signal(notFull)
        pthread_mutex_unlock(mutex)
        pthread_join(thread, nil)
    }
}
