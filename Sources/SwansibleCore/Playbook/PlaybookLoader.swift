public import SwansibleData
import SwansibleYAML
import Foundation

/// Reads playbooks into ``Playbook`` values, checking structure as ansible-core does and reporting
/// problems at their `file:line:col` in ansible-core's words.
public struct PlaybookLoader {
    public internal(set) var warnings: [String] = []
    private var nextTaskID = 0
    /// Where roles are looked for after `roles/` beside the playbook (ansible's `roles_path`,
    /// `ANSIBLE_ROLES_PATH`), before the playbook directory itself.
    public var rolesPath: [String]
    /// When false, modules ansible-core knows but swansible cannot run yet load anyway (for `--syntax-check`
    /// and `--list-*`, which run nothing).
    public var requireSupportedModules = true
    /// ModuleRegistry.supported, computed once (it is built on each access).
    private let supportedModules = ModuleRegistry.supported
    /// The directory of the playbook being loaded (ansible's loader basedir).
    var playbookDirectory = FileManager.default.currentDirectoryPath
    /// The role whose files are being loaded, if any.
    var currentRole: RoleContext?
    /// The directory of the task file being loaded (for relative imports).
    var currentDirectory: String?
    /// Roles of the play being loaded, with what dedupes them.
    var playRoles: [RoleContext] = []
    /// Handlers brought by `import_role` while loading a play's tasks (they go after the play's own).
    var importedHandlers: [TaskNode] = []
    /// Role paths being loaded (to report a dependency loop).
    var roleStack: [String] = []
    /// Task files being imported (to report an import loop).
    var importStack: [String] = []
    /// Extra variables (`-e`): role names are templated with them while loading.
    public var extraVars: ValueDict = [:]
    /// What role names of the play being loaded are templated with (besides extra vars).
    var playContext = PlayTemplateContext()
    /// The vars of the `import_tasks` being loaded, outermost first (for role names templated inside).
    var importVars: [ValueDict] = []

    struct PlayTemplateContext {
        var name = ""
        var vars: ValueDict = [:]
        var varsFiles: [Value] = []
        /// The vars_files' variables, read the first time a role name needs them.
        var loadedVarsFiles: ValueDict?
        /// `roles:` is being loaded (ansible-core has not set the play's name yet then).
        var loadingRoles = false
    }

    /// - Parameter rolesPath: roles_path; when nil, `ANSIBLE_ROLES_PATH` or ansible's default
    ///   (`~/.ansible/roles:/usr/share/ansible/roles:/etc/ansible/roles`).
    public init(rolesPath: [String]? = nil) {
        if let rolesPath {
            self.rolesPath = rolesPath
        } else if let env = ProcessInfo.processInfo.environment["ANSIBLE_ROLES_PATH"], !env.isEmpty {
            self.rolesPath = env.split(separator: ":").map { Self.expandUser(String($0)) }
        } else {
            self.rolesPath = Self.defaultRolesPath
        }
    }

    public static var defaultRolesPath: [String] {
        [ProcessEnvironment.home + "/.ansible/roles", "/usr/share/ansible/roles", "/etc/ansible/roles"]
    }

    static func expandUser(_ p: String) -> String {
        if p == "~" { return ProcessEnvironment.home }
        if p.hasPrefix("~/") { return ProcessEnvironment.home + p.dropFirst(1) }
        return p
    }

    static let playKeywords: Set<String> = [
        "name", "hosts", "vars", "vars_files", "vars_prompt", "gather_facts", "gather_subset", "gather_timeout",
        "fact_path", "become", "become_user", "become_method", "become_flags", "become_exe", "remote_user",
        "connection", "port", "tasks", "pre_tasks", "post_tasks", "handlers", "roles", "serial", "strategy",
        "any_errors_fatal", "max_fail_percentage", "ignore_errors", "ignore_unreachable", "environment", "tags",
        "check_mode", "diff", "order", "run_once", "throttle", "module_defaults", "force_handlers", "no_log",
        "collections", "debugger", "timeout",
    ]

    /// Keywords a block and a task share (everything that is not about the action).
    static let commonKeywords: Set<String> = [
        "name", "when", "vars", "become", "become_user", "become_method", "become_flags", "become_exe",
        "ignore_errors", "ignore_unreachable", "tags", "environment", "check_mode", "diff", "no_log",
        "delegate_to", "delegate_facts", "run_once", "any_errors_fatal", "connection", "remote_user", "port",
        "module_defaults", "throttle", "timeout", "collections", "debugger",
    ]

    static let blockKeywords: Set<String> = commonKeywords.union(["block", "rescue", "always", "notify"])

    static let taskKeywords: Set<String> = commonKeywords.union([
        "action", "local_action", "args", "loop", "loop_control", "register", "changed_when", "failed_when",
        "until", "retries", "delay", "notify", "listen", "async", "poll",
    ])

    static let loopKeywords: Set<String> = [
        "with_items", "with_list", "with_dict", "with_indexed_items", "with_sequence", "with_nested",
        "with_together", "with_flattened", "with_subelements", "with_random_choice", "with_fileglob",
        "with_lines", "with_first_found", "with_file", "with_dict",
    ]

    /// Loads a playbook file.
    ///
    /// Plays are built while the YAML is still being parsed (each item of the top-level list as soon as it
    /// is composed; for a large file libyaml runs on a second thread meanwhile), but the outcome is ansible-core's,
    /// which loads the whole document first: a YAML error anywhere in the file wins over a play's error, the
    /// YAML warnings come before those of the plays, and the first play error is thrown only once the document
    /// has loaded.
    public mutating func load(path: String) throws(AnsibleError) -> Playbook {
        let absolute = absolutePath(path)
        guard let data = FileManager.default.contents(atPath: absolute) else {
            throw AnsibleError.fileNotFound(absolute)
        }
        let directory = (absolute as NSString).deletingLastPathComponent
        let savedDirectory = playbookDirectory
        playbookDirectory = directory
        defer { playbookDirectory = savedDirectory }
        let firstWarning = warnings.count
        // The loader as it was before any play was built, for when the YAML turns out to be broken.
        let before = self
        var plays: [Play] = []
        var held: AnsibleError?
        let document: YAMLDocument?
        do {
            document = try YAMLDocument.parseSingle(String(decoding: data, as: UTF8.self), file: absolute) { item in
                guard held == nil else { return }
                do throws(AnsibleError) {
                    try loadPlaybookEntry(item, directory: directory, into: &plays)
                } catch {
                    held = error
                }
            }
        } catch {
            // Nothing of the plays built so far happened, as far as the caller can tell (ansible-core builds
            // none: the document fails to load first).
            self = before
            throw AnsibleError(error.message, at: error.mark, help: error.help)
        }
        warnings.insert(contentsOf: (document?.warnings ?? []).map(Self.formatWarning), at: firstWarning)
        guard let root = document?.root else { return Playbook(path: path, directory: directory, plays: []) }
        guard root.isSequence else {
            throw AnsibleError(
                "A playbook must be a list of plays, got a \(PlaybookListing.taggedClass(root.value)) instead: \(absolute)",
                at: root.mark)
        }
        if let held { throw held }
        // A root list with a tag of its own (`--- !!seq`) was not handed over item by item.
        for item in root.items { try loadPlaybookEntry(item, directory: directory, into: &plays) }
        return Playbook(path: path, directory: directory, plays: plays)
    }

    /// One item of a playbook's top-level list: a play or an `import_playbook`.
    private mutating func loadPlaybookEntry(_ item: YAMLNode, directory: String, into plays: inout [Play])
        throws(AnsibleError)
    {
        guard item.isMapping else {
            throw AnsibleError(
                "playbook entries must be either valid plays or 'import_playbook' statements", at: item.mark)
        }
        if let imported = item["import_playbook"] ?? item["ansible.builtin.import_playbook"] {
            guard let file = imported.value.stringValue else {
                throw AnsibleError("import_playbook parameters must be a string", at: imported.mark)
            }
            let target = file.hasPrefix("/") ? file : directory + "/" + file
            plays += try load(path: target).plays
            return
        }
        plays.append(try loadPlay(item))
    }

    mutating func loadDocument(_ path: String, what: String) throws(AnsibleError) -> YAMLNode? {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw AnsibleError.fileNotFound(path)
        }
        do {
            let document = try YAMLDocument.parseSingle(String(decoding: data, as: UTF8.self), file: path)
            for warning in document?.warnings ?? [] { warnings.append(Self.formatWarning(warning)) }
            return document?.root
        } catch {
            throw AnsibleError(error.message, at: error.mark, help: error.help)
        }
    }

    /// A YAML warning as ansible-core displays it: the message, its origin with the source excerpt, then the help.
    static func formatWarning(_ w: YAMLWarning) -> String {
        var text = w.message + "\nOrigin: \(w.mark)\n" + sourceExcerpt(w.mark)
        if let help = w.help { text += "\n" + help + "\n" }
        return text
    }

    private func typeName(_ node: YAMLNode) -> String {
        switch node.value {
        case .dict: return "dict"
        case .list: return "list"
        case .string, .unsafe: return "str"
        case .int: return "int"
        case .float: return "float"
        case .bool: return "bool"
        case .null: return "NoneType"
        }
    }

    private mutating func loadPlay(_ node: YAMLNode) throws(AnsibleError) -> Play {
        var keywords = Keywords(capacity: node.pairs.count)
        for pair in node.pairs {
            let key = pair.key.value.stringValue ?? pair.key.value.json()
            guard Self.playKeywords.contains(key) else {
                throw AnsibleError("'\(key)' is not a valid attribute for a Play", at: pair.key.mark)
            }
            if key == "tags" { try Self.checkTags(pair.value) }
            keywords.set(key, pair.value.value, at: pair.value.mark)
        }
        guard let hosts = node["hosts"] else {
            throw AnsibleError("The field 'hosts' is required but was not set.", at: node.mark)
        }
        let name: String
        if let n = keywords["name"], !n.isNull {
            name = n.stringValue ?? n.json()
        } else {
            name = hosts.value.stringValue ?? (hosts.value.listValue?.compactMap(\.stringValue).joined(separator: ",") ?? "")
        }
        var play = Play(
            name: name, hosts: hosts.value, vars: try varsDict(node["vars"]), varsFiles: [],
            gatherFacts: keywords["gather_facts"], preTasks: [], tasks: [], postTasks: [], handlers: [],
            keywords: keywords, mark: node.mark)
        if let files = node["vars_files"] {
            play.varsFiles = files.value.listValue ?? [files.value]
        }
        let inherited = [keywords]
        playContext = PlayTemplateContext(name: name, vars: play.vars, varsFiles: play.varsFiles)
        playRoles = []
        importedHandlers = []
        currentRole = nil
        currentDirectory = nil
        var roleTasks: [TaskNode] = []
        var roleHandlers: [TaskNode] = []
        playContext.loadingRoles = true
        if let rolesNode = node["roles"], !rolesNode.value.isNull {
            guard rolesNode.isSequence else {
                throw AnsibleError("A malformed role declaration was encountered.", at: node.mark)
            }
            for item in rolesNode.items {
                let loaded = try loadRole(try roleSpec(item), inherited: inherited, chain: [], fromInclude: false)
                roleTasks.append(.block(loaded.block))
                roleHandlers += loaded.handlers
            }
        }
        playContext.loadingRoles = false
        play.preTasks = try loadTaskList(node["pre_tasks"], inherited: inherited, handlers: false, owner: node.mark)
        play.tasks = roleTasks + (try loadTaskList(node["tasks"], inherited: inherited, handlers: false, owner: node.mark))
        play.postTasks = try loadTaskList(node["post_tasks"], inherited: inherited, handlers: false, owner: node.mark)
        play.handlers = roleHandlers + (try loadTaskList(node["handlers"], inherited: inherited, handlers: true, owner: node.mark))
            + importedHandlers
        importedHandlers = []
        // `roles:` and import_role roles (public: their defaults and vars reach every task of the play).
        play.roles = playRoles
        return play
    }

    private func varsDict(_ node: YAMLNode?) throws(AnsibleError) -> ValueDict {
        guard let node, !node.value.isNull else { return [:] }
        if case .dict(let d) = node.value { return d }
        if case .list(let items) = node.value {
            // A list of dicts is merged in order (ansible-core accepts it).
            var merged = ValueDict()
            for item in items {
                guard case .dict(let d) = item else {
                    throw AnsibleError("Vars in a Play must be specified as a dictionary.", at: node.mark)
                }
                merged.merge(d) { _, new in new }
            }
            return merged
        }
        throw AnsibleError("Vars in a Play must be specified as a dictionary.", at: node.mark)
    }

    mutating func loadTaskList(_ node: YAMLNode?, inherited: [Keywords], handlers: Bool, owner: SourceMark? = nil)
        throws(AnsibleError) -> [TaskNode]
    {
        guard let node, !node.value.isNull else { return [] }
        guard node.isSequence else {
            throw AnsibleError(
                "A malformed block was encountered while loading tasks: \(PlaybookListing.pythonStr(node.value)) should be a list or None but is \(PlaybookListing.taggedClass(node.value))",
                at: owner ?? node.mark)
        }
        var result: [TaskNode] = []
        for item in node.items {
            guard item.isMapping else {
                // ansible-core shows the list it was given, without a place.
                let repr = PlaybookListing.pythonRepr(node.value)
                throw AnsibleError(
                    "A malformed block was encountered while loading a block: The ds (\(repr)) should be a dict but was a <class 'list'>",
                    at: SourceMark(file: "<unknown>", line: 0, column: 0), excerpt: repr)
            }
            if item["block"] != nil {
                result.append(.block(try loadBlock(item, inherited: inherited, handlers: handlers)))
            } else if let (kind, argNode) = staticImport(item) {
                result += try loadImport(kind, item, argNode, inherited: inherited, handlers: handlers)
            } else {
                result.append(.task(try loadTask(item, inherited: inherited, handler: handlers)))
            }
        }
        return result
    }

    private mutating func loadBlock(_ node: YAMLNode, inherited: [Keywords], handlers: Bool) throws(AnsibleError)
        -> Block
    {
        var keywords = Keywords(capacity: node.pairs.count)
        for pair in node.pairs {
            let key = pair.key.value.stringValue ?? pair.key.value.json()
            guard Self.blockKeywords.contains(key) else {
                throw AnsibleError("'\(key)' is not a valid attribute for a Block", at: pair.key.mark)
            }
            if key == "block" || key == "rescue" || key == "always" { continue }
            if key == "tags" { try Self.checkTags(pair.value) }
            keywords.set(key, pair.value.value, at: pair.value.mark)
        }
        let inner = inherited + [keywords]
        var block = Block(
            name: keywords["name"]?.stringValue, block: [], rescue: [], always: [],
            vars: try varsDict(node["vars"]), keywords: keywords, mark: node.mark)
        block.block = try loadTaskList(node["block"], inherited: inner, handlers: handlers)
        block.rescue = try loadTaskList(node["rescue"], inherited: inner, handlers: handlers)
        block.always = try loadTaskList(node["always"], inherited: inner, handlers: handlers)
        return block
    }

    private mutating func loadTask(_ node: YAMLNode, inherited: [Keywords], handler: Bool) throws(AnsibleError)
        -> PlayTask
    {
        var keywords = Keywords(capacity: node.pairs.count)
        var actions: [(String, YAMLNode)] = []
        var actionKeyMark: SourceMark?
        var actionNode: YAMLNode?
        var localActionNode: YAMLNode?
        for pair in node.pairs {
            let key = pair.key.value.stringValue ?? pair.key.value.json()
            if Self.taskKeywords.contains(key) || Self.loopKeywords.contains(key) {
                // (`action`, `local_action` and `tags` are task keywords; the lengths spare most comparisons.)
                let length = key.utf8.count
                let isAction = length == 6 && key == "action"
                let isLocalAction = length == 12 && key == "local_action"
                if isAction {
                    if actionNode == nil { actionNode = pair.value }
                } else if isLocalAction {
                    if localActionNode == nil { localActionNode = pair.value }
                }
                if length == 4 && key == "tags" { try Self.checkTags(pair.value) }
                keywords.set(key, pair.value.value, at: pair.value.mark)
                if isAction || isLocalAction { actionKeyMark = pair.key.mark }
            } else {
                if actions.isEmpty { actionKeyMark = pair.key.mark }
                actions.append((key, pair.value))
            }
        }
        if let action = actionNode ?? localActionNode {
            let isLocal = localActionNode != nil
            if !actions.isEmpty {
                throw AnsibleError(
                    "conflicting action statements: \(isLocal ? "local_action" : "action"), \(actions[0].0)", at: node.mark)
            }
            let (name, args) = try actionFromValue(action)
            actions = [(name, action)]
            if isLocal { keywords["delegate_to"] = "localhost" }
            var task = try makeTask(node, action: name, argsValue: args, keywords: keywords, inherited: inherited, handler: handler)
            task.setArgumentMarks(action: actionKeyMark, args: action, argsKeyword: node["args"])
            return task
        }
        if actions.count > 1 {
            throw AnsibleError("conflicting action statements: \(actions.map(\.0).joined(separator: ", "))", at: node.mark)
        }
        guard let (action, argsNode) = actions.first else {
            throw AnsibleError("no module/action detected in task.", at: node.mark)
        }
        var task = try makeTask(node, action: action, argsValue: argsNode.value, keywords: keywords, inherited: inherited, handler: handler)
        task.setArgumentMarks(action: actionKeyMark, args: argsNode, argsKeyword: node["args"])
        return task
    }

    /// `action: command echo hi` or `action: {module: command, …}`.
    private func actionFromValue(_ node: YAMLNode) throws(AnsibleError) -> (String, Value) {
        switch node.value {
        case .string(let s), .unsafe(let s):
            let trimmed = s.trimmingSpaces()
            guard let space = trimmed.firstIndex(where: { $0 == " " || $0 == "\n" }) else { return (trimmed, .null) }
            return (String(trimmed[..<space]), .string(String(trimmed[trimmed.index(after: space)...])))
        case .dict(var d):
            guard let module = d.removeValue(forKey: "module")?.stringValue else {
                throw AnsibleError("no module/action detected in task.", at: node.mark)
            }
            return (module, .dict(d))
        default:
            throw AnsibleError("no module/action detected in task.", at: node.mark)
        }
    }

    private mutating func makeTask(
        _ node: YAMLNode, action: String, argsValue: Value, keywords: Keywords, inherited: [Keywords], handler: Bool
    ) throws(AnsibleError) -> PlayTask {
        let module = ModuleRegistry.shortName(action)
        guard supportedModules.contains(module) || ModuleRegistry.builtinModules.contains(module) else {
            throw AnsibleError(
                "couldn't resolve module/action '\(action)'. This often indicates a misspelling, missing collection, or incorrect module path.",
                at: node.mark)
        }
        // include_tasks/include_role load once the executor lists them among its controller actions.
        guard !requireSupportedModules || supportedModules.contains(module) else {
            throw AnsibleError(
                "module '\(action)' is not supported by swansible. Supported: \(ModuleRegistry.supported.sorted().joined(separator: ", "))",
                at: node.mark)
        }
        var args = ValueDict()
        switch argsValue {
        case .null: break
        case .string(let s), .unsafe(let s):
            do {
                args = try ArgumentSplitting.parseKeyValues(s, checkRaw: ArgumentSplitting.rawParamModules.contains(module))
            } catch {
                throw AnsibleError("Error loading tasks: " + error.message, at: node.mark)
            }
        case .dict(let d): args = d
        case .int, .float, .bool:
            args["_raw_params"] = .string(argsValue.json())
        case .list:
            throw AnsibleError("The value of the '\(action)' action is a list, which is not a valid type for module arguments.", at: node.mark)
        }
        if let extra = keywords["args"] {
            guard case .dict(let d) = extra else {
                throw AnsibleError(
                    "The value of the task `args` keyword is invalid.", at: keywords.mark("args") ?? node.mark,
                    help: "A mapping or template which resolves to a mapping is required.")
            }
            for (k, v) in d { args[k] = v }
        }
        if !handler, keywords["listen"] != nil {
            throw AnsibleError(
                "'listen' is not a valid attribute for a Task\nThis error can be suppressed as a warning using the \"invalid_task_attribute_failed\" configuration",
                at: node.pair(forKey: "listen")?.key.mark ?? node.mark)
        }
        nextTaskID += 1
        let name = keywords["name"].flatMap { $0.isNull ? nil : ($0.stringValue ?? $0.json()) }
        var listen: [String] = []
        if handler {
            switch keywords["listen"] {
            case .string(let s)?, .unsafe(let s)?: listen = [s]
            case .list(let l)?: listen = l.compactMap(\.stringValue)
            default: break
            }
        }
        return PlayTask(
            id: nextTaskID, name: name, action: action, module: module, args: args,
            vars: keywords["vars"]?.dictValue ?? [:], keywords: keywords, inherited: inherited, isHandler: handler,
            listen: listen, mark: node.mark, role: currentRole)
    }
}

extension PlayTask {
    /// Records where the action and its arguments are written (error origins only).
    mutating func setArgumentMarks(action: SourceMark?, args: YAMLNode, argsKeyword: YAMLNode?) {
        actionMark = action
        argsMark = args.mark
        argMarks.reserveCapacity(args.pairs.count + (argsKeyword?.pairs.count ?? 0))
        appendArgumentMarks(of: args)
        if let argsKeyword { appendArgumentMarks(of: argsKeyword) }
    }

    private mutating func appendArgumentMarks(of node: YAMLNode) {
        guard case .dict = node.value else { return }
        for pair in node.pairs {
            if let key = pair.key.value.stringValue { argMarks.append((key, pair.value.mark)) }
        }
    }
}

extension PlaybookLoader {
    /// `tags:` must be a list or a comma-separated string (ansible's Taggable._load_tags).
    static func checkTags(_ node: YAMLNode) throws(AnsibleError) {
        switch node.value {
        case .list, .string, .unsafe: return
        default: throw AnsibleError("tags must be specified as a list", at: node.mark, kind: .general)
        }
    }
}

func absolutePath(_ path: String) -> String {
    if path.hasPrefix("/") { return path }
    return FileManager.default.currentDirectoryPath + "/" + path
}
