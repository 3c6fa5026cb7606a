import SwansibleData
import SwansibleYAML

extension PlaybookLoader {
    /// Loads a task file (`include_tasks` / `import_tasks`): a list of tasks and blocks.
    mutating func loadTaskFile(path: String) throws(AnsibleError) -> [TaskNode] {
        guard let root = try loadDocument(absolutePath(path), what: "included task file") else { return [] }
        guard root.isSequence else {
            throw AnsibleError("A malformed block was encountered while loading tasks: \(path) must contain a list of tasks",
                               at: root.mark)
        }
        return try loadTaskList(root, inherited: [], handlers: false)
    }
}
