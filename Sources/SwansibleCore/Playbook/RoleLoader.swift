public import SwansibleData
import SwansibleYAML
import SwansibleTemplate
import Foundation

/// Roles, `import_role`, `import_tasks` and the loading half of `include_tasks`/`include_role`.
extension PlaybookLoader {
    /// What a role entry may set besides its name; every other key is a role parameter.
    static let roleKeywords: Set<String> = [
        "any_errors_fatal", "become", "become_exe", "become_flags", "become_method", "become_user", "check_mode",
        "collections", "connection", "debugger", "delegate_facts", "delegate_to", "diff", "environment",
        "ignore_errors", "ignore_unreachable", "module_defaults", "name", "no_log", "port", "remote_user", "role",
        "run_once", "tags", "throttle", "timeout", "vars", "when",
    ]

    static let importTasksActions: Set<String> = ["import_tasks", "ansible.builtin.import_tasks", "ansible.legacy.import_tasks"]
    static let importRoleActions: Set<String> = ["import_role", "ansible.builtin.import_role", "ansible.legacy.import_role"]
    static let includeActions: Set<String> = [
        "include_tasks", "ansible.builtin.include_tasks", "ansible.legacy.include_tasks",
        "include_role", "ansible.builtin.include_role", "ansible.legacy.include_role",
    ]
    /// Keywords an include or import task accepts (ansible's TaskInclude.VALID_INCLUDE_KEYWORDS).
    static let includeKeywords: Set<String> = [
        "action", "args", "collections", "debugger", "ignore_errors", "loop", "loop_control", "loop_with", "name",
        "no_log", "register", "run_once", "tags", "timeout", "vars", "when",
    ]

    enum ImportKind { case tasks, role }

    /// The task is an `import_tasks` or `import_role`: which, and its argument node.
    func staticImport(_ node: YAMLNode) -> (ImportKind, YAMLNode)? {
        for pair in node.pairs {
            guard let key = pair.key.value.stringValue, Self.endsLikeImport(key) else { continue }
            if Self.importTasksActions.contains(key) { return (.tasks, pair.value) }
            if Self.importRoleActions.contains(key) { return (.role, pair.value) }
        }
        return nil
    }

    /// Whether `key` ends in `import_tasks` or `import_role` (checked on bytes before the set lookups: most
    /// task keys are not imports).
    static func endsLikeImport(_ key: String) -> Bool {
        // `import_role` is the shorter; both end in `s` or `e`.
        guard key.utf8.count >= 11, let last = key.utf8.last, last == UInt8(ascii: "s") || last == UInt8(ascii: "e")
        else { return false }
        func hasSuffix(_ suffix: StaticString) -> Bool {
            let utf8 = key.utf8
            let n = suffix.utf8CodeUnitCount
            guard utf8.count >= n else { return false }
            var i = utf8.index(utf8.endIndex, offsetBy: -n)
            for j in 0..<n {
                if utf8[i] != suffix.utf8Start[j] { return false }
                i = utf8.index(after: i)
            }
            return true
        }
        return hasSuffix("import_tasks") || hasSuffix("import_role")
    }

    struct LoadedRole {
        /// The implicit block holding the dependencies' blocks and then the role's own tasks.
        var block: Block
        var handlers: [TaskNode]
        var context: RoleContext
    }

    // MARK: roles

    /// A role entry as written: `- name`, `- role: name …`, a `meta` dependency.
    struct RoleSpec {
        var name: String
        var keywords = Keywords()
        var params = ValueDict()
        var mark: SourceMark
    }

    mutating func roleSpec(_ node: YAMLNode) throws(AnsibleError) -> RoleSpec {
        switch node.value {
        case .string(let s):
            return RoleSpec(name: try templateRoleName(s, mark: node.mark, task: nil), mark: node.mark)
        case .unsafe(let s):
            return RoleSpec(name: s, mark: node.mark)
        case .int(let i):
            return RoleSpec(name: String(i), mark: node.mark)
        case .dict:
            var spec = RoleSpec(name: "", mark: node.mark)
            for pair in node.pairs {
                let key = pair.key.value.stringValue ?? pair.key.value.json()
                if Self.roleKeywords.contains(key) {
                    if key == "tags" { try Self.checkTags(pair.value) }
                    spec.keywords.set(key, pair.value.value, at: pair.value.mark)
                } else {
                    spec.params[key] = pair.value.value
                }
            }
            guard let found = node["role"] ?? node["name"], let text = found.value.stringValue, !text.isEmpty else {
                throw AnsibleError("role definitions must contain a role name", at: node.mark, kind: .general)
            }
            spec.name = found.value.isUnsafe ? text : try templateRoleName(text, mark: found.mark, task: nil)
            return spec
        default:
            throw AnsibleError("A malformed role declaration was encountered.", at: node.mark)
        }
    }

    /// Loads a role with its dependencies.
    mutating func loadRole(
        _ spec: RoleSpec, inherited: [Keywords], chain: [RoleContext], fromInclude: Bool,
        tasksFrom: String? = nil, varsFrom: String? = nil,
        defaultsFrom: String? = nil, handlersFrom: String? = nil, allowDuplicates: Bool? = nil
    ) throws(AnsibleError) -> LoadedRole {
        var keywords = spec.keywords
        let params = spec.params
        let roleName = spec.name
        let mark = spec.mark
        let (name, path) = try findRole(roleName, mark: mark, parentPath: chain.last?.path)
        if roleStack.contains(path) {
            throw AnsibleError(
                "A recursion loop was detected with the roles specified. Make sure child roles do not have dependencies on parent roles",
                at: mark)
        }
        roleStack.append(path)
        defer { roleStack.removeLast() }

        let ownDefaults = try roleVarsFile(path, "defaults", main: defaultsFrom, roleName: name)
        let ownVars = try roleVarsFile(path, "vars", main: varsFrom, roleName: name)
        let invocationVars = keywords["vars"]?.dictValue ?? [:]

        // meta/main.yml: dependencies and allow_duplicates.
        var metaAllowDuplicates = false
        var dependencyNodes: [YAMLNode] = []
        if let metaFile = roleFile(path, "meta", main: nil), let meta = try loadDocument(metaFile, what: "file") {
            if meta.isMapping {
                if let allow = meta["allow_duplicates"]?.value.boolValue { metaAllowDuplicates = allow }
                if let deps = meta["dependencies"], !deps.value.isNull {
                    guard deps.isSequence else {
                        throw AnsibleError("Expected role dependencies to be a list.", at: deps.mark)
                    }
                    dependencyNodes = deps.items
                }
            }
        }

        var context = RoleContext(
            name: name, path: path, defaults: ownDefaults, vars: ownVars,
            params: (chain.last?.params ?? [:]).merging(params) { $1 }, invocationVars: invocationVars,
            dependencyChain: chain.map(\.name), allowDuplicates: allowDuplicates ?? metaAllowDuplicates,
            fromInclude: fromInclude,
            identity: Value.dict([
                "name": .string(name), "path": .string(path), "params": .dict(params),
                "when": keywords["when"] ?? .null, "tags": keywords["tags"] ?? .null, "vars": .dict(invocationVars),
                "from_include": .bool(fromInclude),
                "from": .list([tasksFrom, varsFrom, defaultsFrom, handlersFrom].map { $0.map(Value.string) ?? .null }),
            ]).json(.compactSorted))
        // Variables seen through the dependency chain (parents' vars under the role's own).
        if let parent = chain.last {
            context.vars = parent.vars.merging(parent.invocationVars) { $1 }.merging(ownVars) { $1 }
        }

        // Dependencies first: their blocks run before the role's tasks, inside its implicit block.
        var children: [TaskNode] = []
        var handlers: [TaskNode] = []
        var depDefaults = ValueDict()
        var depExports = ValueDict()
        for dep in dependencyNodes {
            let loaded = try loadRole(
                try roleSpec(dep), inherited: inherited + [keywords], chain: chain + [context], fromInclude: fromInclude)
            children.append(.block(loaded.block))
            handlers += loaded.handlers
            depDefaults.merge(loaded.context.defaults) { $1 }
            depExports.merge(loaded.context.vars) { $1 }
        }
        // ansible's get_default_vars: dependencies', then the chain's, then the role's own.
        var defaults = depDefaults
        for parent in chain { defaults.merge(parent.defaults) { $1 } }
        defaults.merge(ownDefaults) { $1 }
        context.defaults = defaults
        var vars = ValueDict()
        for parent in chain { vars.merge(parent.invocationVars) { $1 }; vars.merge(parent.vars) { $1 } }
        vars.merge(depExports) { $1 }
        vars.merge(ownVars) { $1 }
        context.vars = vars

        // An equal role earlier in the play is skipped at run time unless duplicates are allowed.
        if !context.allowDuplicates, playRoles.contains(where: { $0.identity == context.identity }) {
            context.isDuplicate = true
        }
        playRoles.append(context)

        let savedRole = currentRole
        let savedDirectory = currentDirectory
        currentRole = context
        defer {
            currentRole = savedRole
            currentDirectory = savedDirectory
        }
        let inner = inherited + [keywords]
        if let tasksFile = roleFile(path, "tasks", main: tasksFrom) {
            currentDirectory = (tasksFile as NSString).deletingLastPathComponent
            if let tasksNode = try loadDocument(tasksFile, what: "file") {
                guard tasksNode.isSequence || tasksNode.value.isNull else {
                    throw AnsibleError(
                        "The tasks/main.yml file for role '\(name)' must contain a list of tasks: \(PlaybookListing.pythonStr(tasksNode.value)) should be a list or None but is \(PlaybookListing.taggedClass(tasksNode.value))",
                        at: tasksNode.mark)
                }
                children += try loadTaskList(tasksNode, inherited: inner, handlers: false)
            }
        } else if let tasksFrom {
            throw AnsibleError("Could not find specified file in role: tasks/\(tasksFrom)", at: mark)
        }
        if let handlersFile = roleFile(path, "handlers", main: handlersFrom) {
            currentDirectory = (handlersFile as NSString).deletingLastPathComponent
            if let handlersNode = try loadDocument(handlersFile, what: "file") {
                guard handlersNode.isSequence || handlersNode.value.isNull else {
                    throw AnsibleError(
                        "The handlers/main.yml file for role '\(name)' must contain a list of tasks.",
                        at: handlersNode.mark)
                }
                handlers += try loadTaskList(handlersNode, inherited: inner, handlers: true)
            }
        }
        // The handlers carry the role's keywords the way the executor sees a task's: inherited levels.
        handlers = handlers.map { node in
            guard case .task(var t) = node else { return node }
            if t.inherited.count < inner.count { t.inherited = inner }
            return .task(t)
        }
        keywords["vars"] = nil
        keywords["name"] = nil
        keywords["role"] = nil
        let block = Block(
            name: nil, block: children, rescue: [], always: [],
            vars: context.vars.merging(context.invocationVars) { $1 },
            keywords: keywords, mark: mark, role: context, isImplicit: true)
        return LoadedRole(block: block, handlers: handlers, context: context)
    }

    /// ansible's role search: `roles/` beside the playbook, roles_path, the depending role's
    /// directory's parent, the playbook directory; then the name as a path.
    func findRole(_ roleName: String, mark: SourceMark, parentPath: String?) throws(AnsibleError) -> (String, String) {
        var searches = [playbookDirectory + "/roles"] + rolesPath
        if let parentPath { searches.append((parentPath as NSString).deletingLastPathComponent) }
        searches.append(playbookDirectory)
        for dir in searches {
            let candidate = normalize(dir + "/" + roleName)
            if directoryExists(candidate) { return (roleName, candidate) }
        }
        let asPath = normalize(absolutePath(Self.expandUser(roleName)))
        if directoryExists(asPath) || FileManager.default.fileExists(atPath: asPath) {
            return ((roleName as NSString).lastPathComponent, asPath)
        }
        throw AnsibleError(
            "the role '\(roleName)' was not found in \(searches.joined(separator: ":"))", at: mark, kind: .general)
    }

    /// `<role>/<sub>/main.yml` (`.yaml`, `.json`, bare `main`), or `<sub>/<main>` when given.
    func roleFile(_ rolePath: String, _ sub: String, main: String?) -> String? {
        let dir = rolePath + "/" + sub
        guard directoryExists(dir) else { return nil }
        let base = main ?? "main"
        let extensions = main == nil ? [".yml", ".yaml", ".json", ""] : ["", ".yml", ".yaml", ".json"]
        for ext in extensions {
            let candidate = dir + "/" + base + ext
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate, isDirectory: &isDir), !isDir.boolValue {
                return candidate
            }
        }
        return nil
    }

    /// defaults/ or vars/: `main.yml` (or the like), or every file of a `main/` directory merged in name order.
    mutating func roleVarsFile(_ rolePath: String, _ sub: String, main: String?, roleName: String) throws(AnsibleError)
        -> ValueDict
    {
        var files: [String] = []
        if let file = roleFile(rolePath, sub, main: main) {
            files = [file]
        } else {
            let dir = rolePath + "/" + sub + "/" + (main ?? "main")
            if directoryExists(dir) { files = Self.filesUnder(dir) }
            else if let main, directoryExists(rolePath + "/" + sub) {
                throw AnsibleError("Could not find specified file in role: \(sub)/\(main)")
            }
        }
        var result = ValueDict()
        for file in files {
            guard let node = try loadDocument(file, what: "file"), !node.value.isNull else { continue }
            guard case .dict(let d) = node.value else {
                throw AnsibleError(
                    "The \(sub)/main.yml file for role '\(roleName)' must contain a dictionary of variables",
                    kind: .parser)
            }
            result.merge(d) { $1 }
        }
        return result
    }

    /// Files with a YAML/JSON extension (or none) under `dir`, recursively, sorted as ansible sorts them.
    static func filesUnder(_ dir: String) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return [] }
        var out: [String] = []
        for name in names.sorted() where !name.hasPrefix(".") {
            let full = dir + "/" + name
            var isDir: ObjCBool = false
            FileManager.default.fileExists(atPath: full, isDirectory: &isDir)
            if isDir.boolValue {
                out += filesUnder(full)
            } else {
                let ext = (name as NSString).pathExtension
                if ["", "yml", "yaml", "json"].contains(ext) { out.append(full) }
            }
        }
        return out
    }

    /// A role name of `roles:`, a `meta` dependency or `import_role`, templated as ansible-core templates it
    /// while loading the play (no host: inventory variables and facts are not defined then).
    ///
    /// The variables: with `task` (import_role), the defaults of the play's `roles:` and of the enclosing
    /// role first; then play vars, play vars_files, the `task` layers (the enclosing role's vars and
    /// parameters, block vars, the task's vars), extra vars; and the magic variables `playbook_dir`,
    /// `ansible_play_name` (still empty while `roles:` loads), `ansible_play_role_names`/`role_names`
    /// and `omit`.
    mutating func templateRoleName(_ name: String, mark: SourceMark, task: [ValueDict]?) throws(AnsibleError)
        -> String
    {
        guard TemplateEngine.isPossiblyTemplate(name) else { return name }
        let engine = TemplateEngine(
            hooks: makeCoreTemplateHooks(searchPaths: [playbookDirectory], playbookDir: playbookDirectory))
        var magic: ValueDict = [
            "playbook_dir": .string(playbookDirectory),
            "ansible_play_name": .string(playContext.loadingRoles ? "" : playContext.name),
            "omit": TemplateEngine.omit,
        ]
        let playRoleNames = Value.list(
            playRoles.filter { !$0.fromInclude && $0.dependencyChain.isEmpty }.map { .string($0.name) })
        magic["ansible_play_role_names"] = playRoleNames
        magic["role_names"] = playRoleNames
        var layers: [ValueDict] = []
        if task != nil {
            layers += playRoles.filter { !$0.fromInclude }.map(\.defaults)
            if let role = currentRole { layers.append(role.defaults) }
        }
        layers.append(playContext.vars)
        if !playContext.varsFiles.isEmpty {
            if playContext.loadedVarsFiles == nil {
                let scope = VariableScope(layers: [playContext.vars, extraVars], magic: magic)
                let loaded = try Self.loadPlayVarsFiles(playContext.varsFiles, playbookDirectory: playbookDirectory) {
                    (try? engine.render($0, variables: scope))?.stringValue
                }
                playContext.loadedVarsFiles = loaded.vars
            }
            layers.append(playContext.loadedVarsFiles ?? [:])
        }
        layers += task ?? []
        layers.append(extraVars)
        do {
            let value = try engine.render(name, variables: VariableScope(layers: layers, magic: magic))
            return value.stringValue ?? PlaybookListing.pythonStr(value)
        } catch {
            throw AnsibleError(error.message, at: mark, kind: .general)
        }
    }

    // MARK: import_tasks / import_role

    /// Splices an `import_tasks` file or an `import_role` in place of the task.
    mutating func loadImport(
        _ kind: ImportKind, _ node: YAMLNode, _ argNode: YAMLNode, inherited: [Keywords], handlers: Bool
    ) throws(AnsibleError) -> [TaskNode] {
        var keywords = Keywords()
        var actionKey = ""
        for pair in node.pairs {
            let key = pair.key.value.stringValue ?? pair.key.value.json()
            if pair.value === argNode && (Self.importTasksActions.contains(key) || Self.importRoleActions.contains(key)) {
                actionKey = key
                continue
            }
            guard Self.includeKeywords.contains(key) || (kind == .role && key == "become") else {
                if Self.taskKeywords.contains(key) || Self.loopKeywords.contains(key) {
                    throw AnsibleError(
                        "'\(key)' is not a valid attribute for a \(kind == .role ? "IncludeRole" : "TaskInclude")",
                        at: node.mark)
                }
                throw AnsibleError("conflicting action statements: \(actionKey.isEmpty ? key : actionKey), \(key)", at: node.mark)
            }
            if key == "tags" { try Self.checkTags(pair.value) }
            keywords.set(key, pair.value.value, at: pair.value.mark)
        }
        if keywords["loop"] != nil || keywords.values.keys.contains(where: { $0.hasPrefix("with_") }) {
            let what = kind == .role ? "import_role" : "import_tasks"
            let instead = kind == .role ? "include_role" : "include_tasks"
            throw AnsibleError(
                "You cannot use loops on '\(what)' statements. You should use '\(instead)' instead.", at: node.mark)
        }
        var args = ValueDict()
        switch argNode.value {
        case .string(let s), .unsafe(let s):
            if kind == .tasks {
                args["_raw_params"] = .string(s)
            } else {
                do { args = try ArgumentSplitting.parseKeyValues(s, checkRaw: false) } catch {
                    throw AnsibleError("Error loading tasks: " + error.message, at: node.mark)
                }
            }
        case .dict(let d): args = d
        case .null: break
        default:
            throw AnsibleError("Invalid options for \(actionKey): \(argNode.value.json())", at: node.mark)
        }
        if case .dict(let extra)? = keywords["args"] { args.merge(extra) { $1 } }

        if kind == .role {
            if handlers {
                throw AnsibleError("Using '\(actionKey)' as a handler is not supported.", at: node.mark)
            }
            guard let nameValue = args["name"] ?? args["role"], let written = nameValue.stringValue else {
                throw AnsibleError("'name' is a required field for \(actionKey).", at: node.mark)
            }
            // Templated now, with the variables the task sees at this point of the play.
            var taskLayers: [ValueDict] = []
            if let role = currentRole { taskLayers += [role.vars, role.invocationVars] }
            taskLayers += importVars
            taskLayers += inherited.dropFirst().compactMap { $0["vars"]?.dictValue }
            taskLayers.append(keywords["vars"]?.dictValue ?? [:])
            if let role = currentRole { taskLayers.append(role.params) }
            // A template error points at the name as written (the `k=v` string for the free form).
            let nameMark = argNode.isMapping ? (argNode["name"] ?? argNode["role"])?.mark ?? node.mark
                : argNode.isScalar ? argNode.mark : node.mark
            let name = nameValue.isUnsafe ? written : try templateRoleName(written, mark: nameMark, task: taskLayers)
            var roleKeywords = keywords
            for k in ["name", "args", "register", "loop", "loop_control", "action"] { roleKeywords[k] = nil }
            let loaded = try loadRole(
                RoleSpec(name: name, keywords: roleKeywords, mark: node.mark), inherited: inherited,
                chain: currentRole.map { [$0] } ?? [], fromInclude: true, tasksFrom: args["tasks_from"]?.stringValue,
                varsFrom: args["vars_from"]?.stringValue, defaultsFrom: args["defaults_from"]?.stringValue,
                handlersFrom: args["handlers_from"]?.stringValue,
                allowDuplicates: args["allow_duplicates"]?.boolValue ?? true)
            importedHandlers += loaded.handlers
            return [.block(loaded.block)]
        }

        // import_tasks
        let file: String
        if let raw = (args["_raw_params"] ?? args["file"])?.stringValue {
            file = raw
        } else {
            throw AnsibleError("No file specified for \(actionKey)", at: node.mark)
        }
        if file.contains("{{") {
            throw AnsibleError(
                "swansible cannot template the import path '\(file)' at load time yet", at: node.mark)
        }
        let path = resolveTaskFile(file, handlers: handlers)
        if importStack.contains(path) {
            throw AnsibleError("A recursion loop was detected importing \(file)", at: node.mark)
        }
        guard FileManager.default.fileExists(atPath: path) else {
            throw AnsibleError.fileNotFound(path)
        }
        importStack.append(path)
        defer { importStack.removeLast() }
        guard let fileNode = try loadDocument(path, what: "file"), !fileNode.value.isNull else {
            warnings.append("file \(path) is empty and had no tasks to include")
            return []
        }
        guard fileNode.isSequence else {
            throw AnsibleError("included task files must contain a list of tasks", at: fileNode.mark)
        }
        let savedDirectory = currentDirectory
        currentDirectory = (path as NSString).deletingLastPathComponent
        defer { currentDirectory = savedDirectory }
        var inner = keywords
        for k in ["name", "vars", "args", "register", "action"] { inner[k] = nil }
        // The import's vars (on its implicit block) are seen by the role names of import_role inside.
        importVars.append(keywords["vars"]?.dictValue ?? [:])
        defer { importVars.removeLast() }
        let tasks = try loadTaskList(fileNode, inherited: inherited + [inner], handlers: handlers)
        if handlers {
            // ansible splices imported handlers flat; their keywords come through `inherited`.
            return tasks
        }
        return [.block(Block(
            name: nil, block: tasks, rescue: [], always: [], vars: keywords["vars"]?.dictValue ?? [:],
            keywords: inner, mark: node.mark, role: nil, isImplicit: true))]
    }

    /// Where an imported or included task file is: beside the current file, then (in a role) under its
    /// tasks/ and its root, then beside the playbook.
    func resolveTaskFile(_ file: String, handlers: Bool, relativeTo directory: String? = nil, role: RoleContext? = nil)
        -> String
    {
        if file.hasPrefix("/") { return file }
        let role = role ?? currentRole
        var candidates: [String] = []
        if let dir = directory ?? currentDirectory { candidates.append(dir + "/" + file) }
        if let role {
            candidates.append(role.path + "/" + (handlers ? "handlers" : "tasks") + "/" + file)
            candidates.append(role.path + "/" + file)
        }
        candidates.append(playbookDirectory + "/" + file)
        for c in candidates where FileManager.default.fileExists(atPath: c) { return normalize(c) }
        return normalize(role.map { $0.path + "/" + (handlers ? "handlers" : "tasks") + "/" + file }
            ?? playbookDirectory + "/" + file)
    }

    // MARK: dynamic includes (called by the executor at run time)

    /// Loads the task file of an `include_tasks` when it runs.
    ///
    /// - Parameters:
    ///   - file: the `file`/`_raw_params` argument, templated.
    ///   - task: the include_tasks task (its place and role give the search directories).
    ///   - playbookDirectory: the playbook's directory.
    ///   - handlers: true when the include is itself a handler.
    /// - Returns: the tasks, with `role` set as the include's, `inherited` as the include's own plus its
    ///   keywords (the executor adds `apply` keywords and the include's `when`/vars itself).
    public mutating func loadIncludedTasks(
        file: String, from task: PlayTask, playbookDirectory: String, handlers: Bool = false
    ) throws(AnsibleError) -> [TaskNode] {
        self.playbookDirectory = playbookDirectory
        currentRole = task.role
        let includeDir = (task.mark.file as NSString).deletingLastPathComponent
        let path = resolveTaskFile(file, handlers: handlers, relativeTo: includeDir, role: task.role)
        guard FileManager.default.fileExists(atPath: path) else {
            throw AnsibleError("Could not find or access '\(file)' on the Ansible Controller.", at: task.mark, kind: .general)
        }
        guard let node = try loadDocument(path, what: "file"), !node.value.isNull else { return [] }
        guard node.isSequence else {
            throw AnsibleError("included task files must contain a list of tasks", at: node.mark)
        }
        currentDirectory = (path as NSString).deletingLastPathComponent
        defer {
            currentDirectory = nil
            currentRole = nil
        }
        return try loadTaskList(node, inherited: task.inherited + [task.keywords], handlers: handlers)
    }

    /// Loads the role of an `include_role` when it runs.
    ///
    /// - Returns: the implicit block of the role's tasks (keywords: the include task's), its handlers (the
    ///   executor appends them to the play's handlers) and the role.
    public mutating func loadIncludedRole(
        name: String, from task: PlayTask, playbookDirectory: String, tasksFrom: String? = nil,
        varsFrom: String? = nil, defaultsFrom: String? = nil, handlersFrom: String? = nil,
        allowDuplicates: Bool = true
    ) throws(AnsibleError) -> (block: Block, handlers: [TaskNode], role: RoleContext) {
        self.playbookDirectory = playbookDirectory
        playRoles = []
        var keywords = Keywords()
        if let vars = task.keywords["vars"] { keywords["vars"] = vars }
        let loaded = try loadRole(
            RoleSpec(name: name, keywords: keywords, mark: task.mark), inherited: task.inherited,
            chain: task.role.map { [$0] } ?? [], fromInclude: true, tasksFrom: tasksFrom, varsFrom: varsFrom, defaultsFrom: defaultsFrom,
            handlersFrom: handlersFrom, allowDuplicates: allowDuplicates)
        return (loaded.block, loaded.handlers, loaded.context)
    }
}

func directoryExists(_ path: String) -> Bool {
    var isDir: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
}

/// `a/./b/../c` → `a/c` (no symlinks resolved).
func normalize(_ path: String) -> String {
    var parts: [Substring] = []
    for part in path.split(separator: "/", omittingEmptySubsequences: true) {
        if part == "." { continue }
        if part == "..", !parts.isEmpty { parts.removeLast(); continue }
        parts.append(part)
    }
    return (path.hasPrefix("/") ? "/" : "") + parts.joined(separator: "/")
}
