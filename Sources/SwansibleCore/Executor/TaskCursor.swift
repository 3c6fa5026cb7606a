import SwansibleData

/// Walks a host through a section's tasks, blocks, rescues and always sections as ansible-core's play
/// iterator does for one host.
struct TaskCursor {
    struct Position: Comparable {
        var order: [Int]
        var task: PlayTask
        static func == (a: Position, b: Position) -> Bool { a.order == b.order }
        static func < (a: Position, b: Position) -> Bool { a.order.lexicographicallyPrecedes(b.order) }
    }

    private struct Frame {
        enum Phase: Int { case block = 0, rescue = 1, always = 2 }
        var block: Block?
        var nodes: [TaskNode]
        var index = 0
        var phase = Phase.block
        var failed = false
        var rescued = false
        var orderPrefix: [Int]
    }

    private var stack: [Frame]
    private(set) var isFailed = false
    /// Set when a failure switched to a rescue/always section, whose first task is then current.
    private var switchedSection = false

    init(_ nodes: [TaskNode]) {
        stack = [Frame(block: nil, nodes: nodes, orderPrefix: [])]
    }

    /// Replaces the current task (an include) with the blocks it included: they run next, then the task
    /// after the include.
    mutating func pushInclude(_ blocks: [Block]) {
        guard let top = stack.last, top.index < top.nodes.count else { return }
        let prefix = top.orderPrefix + [top.phase.rawValue, top.index]
        let wrapper = Block(
            name: nil, block: blocks.map { .block($0) }, rescue: [], always: [], vars: [:], keywords: Keywords(),
            mark: blocks.first?.mark ?? SourceMark(file: "", line: 0, column: 0))
        stack.append(Frame(block: wrapper, nodes: wrapper.block, orderPrefix: prefix))
    }

    /// The next task, without moving.
    mutating func peek() -> Position? {
        while let top = stack.last {
            if top.index < top.nodes.count {
                switch top.nodes[top.index] {
                case .task(var task):
                    task.inheritedWhen = stack.compactMap { $0.block?.keywords["when"] }
                    task.blockVars = stack.compactMap { $0.block?.vars }
                    task.inherited = stack.compactMap { $0.block?.keywords } + task.inherited
                    return Position(order: top.orderPrefix + [top.phase.rawValue, top.index], task: task)
                case .block(let block):
                    let prefix = top.orderPrefix + [top.phase.rawValue, top.index]
                    stack.append(Frame(block: block, nodes: block.block, orderPrefix: prefix))
                    continue
                }
            }
            // This frame's current list is done: move to its rescue/always or pop it.
            var frame = stack.removeLast()
            guard let block = frame.block else {
                stack.append(frame)
                return nil
            }
            switch frame.phase {
            case .block, .rescue:
                if !block.always.isEmpty {
                    frame.phase = .always
                    frame.nodes = block.always
                    frame.index = 0
                    stack.append(frame)
                    continue
                }
            case .always:
                break
            }
            finishBlock(frame)
        }
        return nil
    }

    private mutating func finishBlock(_ frame: Frame) {
        if frame.failed && !frame.rescued {
            // The failure propagates to the enclosing block.
            propagateFailure()
        } else if !stack.isEmpty {
            stack[stack.count - 1].index += 1
        }
    }

    private mutating func propagateFailure() {
        guard !stack.isEmpty else { isFailed = true; return }
        _ = failCurrentFrame()
    }

    /// Moves past the task just run.
    mutating func advance() {
        if switchedSection {
            switchedSection = false
            return
        }
        guard !stack.isEmpty, !isFailed else { return }
        if stack[stack.count - 1].index < stack[stack.count - 1].nodes.count {
            stack[stack.count - 1].index += 1
        }
    }

    enum FailOutcome { case rescue, always, failed }

    /// Whether a failure now would be handled by some enclosing block's rescue section.
    var isInRescuableBlock: Bool {
        stack.contains { $0.phase == .block && !($0.block?.rescue.isEmpty ?? true) }
    }

    /// The current task failed: a rescue or always section takes over, or the host has failed.
    @discardableResult
    mutating func fail() -> FailOutcome {
        let outcome = failCurrentFrame()
        switchedSection = outcome != .failed
        return outcome
    }

    private mutating func failCurrentFrame() -> FailOutcome {
        var i = stack.count - 1
        while i >= 0 {
            guard let block = stack[i].block else {
                isFailed = true
                stack = [stack[0]]
                stack[0].index = stack[0].nodes.count
                return .failed
            }
            var frame = stack[i]
            stack.removeSubrange((i + 1)...)
            switch frame.phase {
            case .block where !block.rescue.isEmpty:
                frame.phase = .rescue
                frame.nodes = block.rescue
                frame.index = 0
                frame.failed = true
                frame.rescued = true
                stack[i] = frame
                return .rescue
            case .block, .rescue:
                frame.failed = true
                frame.rescued = false
                if !block.always.isEmpty {
                    frame.phase = .always
                    frame.nodes = block.always
                    frame.index = 0
                    stack[i] = frame
                    return .always
                }
                stack.removeLast()
                i -= 1
            case .always:
                stack.removeLast()
                i -= 1
            }
        }
        isFailed = true
        return .failed
    }
}
