import Foundation
import SwansibleData
import Testing

@testable import SwansibleCore

/// The loader over Tests/corpus/playbooks (the same playbooks Tests/corpus/compare checks against
/// ansible-playbook --list-tasks).
@Suite struct PlaybookLoaderTests {
    static let corpus: String = {
        var dir = (#filePath as NSString).deletingLastPathComponent
        while dir != "/" && !FileManager.default.fileExists(atPath: dir + "/Package.swift") {
            dir = (dir as NSString).deletingLastPathComponent
        }
        return dir + "/Tests/corpus/playbooks"
    }()

    func load(_ name: String, rolesPath: [String] = []) throws -> Playbook {
        var loader = PlaybookLoader(rolesPath: rolesPath)
        loader.requireSupportedModules = false
        return try loader.load(path: Self.corpus + "/" + name)
    }

    /// Every task in order with the role it belongs to (blocks' main lists only).
    func tasks(_ nodes: [TaskNode]) -> [PlayTask] {
        var out: [PlayTask] = []
        for node in nodes {
            switch node {
            case .task(let t): out.append(t)
            case .block(let b): out += tasks(b.block)
            }
        }
        return out
    }

    @Test func rolesComeBeforeTasksWithTheirDefaultsVarsAndParams() throws {
        let play = try load("03_roles.yml").plays[0]
        let names = tasks(play.tasks).map(\.displayName)
        #expect(names == [
            "common : common setup", "common : ansible.builtin.debug", "db : db server", "db : db inner",
            "after roles",
        ])
        #expect(tasks(play.tasks)[1].listName == "ansible.builtin.debug")
        #expect(tasks(play.preTasks).map(\.displayName) == ["before roles"])
        let common = try #require(tasks(play.tasks)[0].role)
        #expect(common.defaults["common_greeting"] == "hello")
        #expect(common.vars["common_internal"] == 1)  // vars/main.yaml
        #expect(common.path == Self.corpus + "/roles/common")
        let db = try #require(tasks(play.tasks)[2].role)
        #expect(db.defaults["db_port"] == 5432)  // defaults/main/ directory, files merged in order
        #expect(db.defaults["db_name"] == "app")
        #expect(db.params["db_port"] == 6000)
        // The role's keywords sit on its implicit block.
        guard case .block(let dbBlock) = play.tasks[1] else { Issue.record("no role block"); return }
        #expect(dbBlock.isImplicit && dbBlock.role?.name == "db")
        #expect(dbBlock.keywords["when"] == true)
        #expect(TagSelection.tags(dbBlock.keywords["tags"]) == ["database"])
        #expect(play.roles.map(\.name) == ["common", "db"])
        // Role handlers come first among the play's handlers.
        #expect(tasks(play.handlers).map(\.displayName) == ["common : restart common"])
    }

    @Test func dependenciesRunFirstAndDuplicatesAreMarked() throws {
        let play = try load("04_role_deps.yml").plays[0]
        let all = tasks(play.tasks)
        let names = all.map(\.displayName)
        #expect(Array(names.prefix(5)) == [
            "common : common setup", "common : ansible.builtin.debug", "db : db server", "db : db inner",
            "web : install web",
        ])
        // db as web's dependency gets web's chain and its own params.
        let db = try #require(all[2].role)
        #expect(db.dependencyChain == ["web"])
        #expect(db.params["db_port"] == 5433)
        // common again at play level equals web's dependency: a duplicate; dupe twice: the second is one;
        // pinned allows duplicates; dupe with other vars is a different role.
        let perTask = all.map { ($0.role?.name ?? "-") + ($0.role?.isDuplicate == true ? "!" : "") }
        #expect(perTask == [
            "common", "common", "db", "db", "web", "web", "web", "web", "common!", "common!", "dupe", "dupe!",
            "pinned", "pinned", "dupe",
        ])
        // Handlers: dependencies' before the role's own.
        #expect(tasks(play.handlers).map(\.displayName) == [
            "common : restart common", "web : restart web", "common : restart common",
        ])
    }

    @Test func importTasksSplicesNestedFilesWithInheritedKeywords() throws {
        let play = try load("07_import_tasks.yml").plays[0]
        #expect(tasks(play.tasks).map(\.displayName) == [
            "setup one", "nested task", "leaf task", "nested task", "leaf task",
        ])
        guard case .block(let second) = play.tasks[1] else { Issue.record("no import block"); return }
        #expect(second.isImplicit && second.keywords["when"] == true)
        // Tags of the import reach the nested file's tasks.
        var tagsByName: [(String, Set<String>)] = []
        TagSelection.walk(play.tasks, play: play) { t, tags in tagsByName.append((t.displayName, tags)) }
        #expect(tagsByName[2].1 == ["imported", "nested", "leaf", "never"])
    }

    @Test func includeTasksStaysATaskAndLoadsAtRunTime() throws {
        let playbook = try load("08_include.yml")
        let play = playbook.plays[0]
        let include = tasks(play.tasks)[0]
        #expect(include.module == "include_tasks" && include.args["_raw_params"] == "tasks/dynamic.yml")
        var loader = PlaybookLoader(rolesPath: [])
        let loaded = try loader.loadIncludedTasks(
            file: "tasks/dynamic.yml", from: include, playbookDirectory: playbook.directory)
        #expect(tasks(loaded).map(\.displayName) == ["included at run time"])
        let includeRole = tasks(play.tasks)[3]
        #expect(includeRole.module == "include_role")
        let role = try loader.loadIncludedRole(name: "db", from: includeRole, playbookDirectory: playbook.directory)
        #expect(role.role.fromInclude && role.role.allowDuplicates)
        #expect(tasks(role.block.block).map(\.displayName) == ["db : db server", "db : db inner"])
    }

    @Test func roleTaskInARoleIncludeResolvesInTheRole() throws {
        let play = try load("04_role_deps.yml").plays[0]
        let include = try #require(tasks(play.tasks).first { $0.module == "include_tasks" })
        var loader = PlaybookLoader(rolesPath: [])
        let loaded = try loader.loadIncludedTasks(file: "dynamic.yml", from: include, playbookDirectory: Self.corpus)
        #expect(tasks(loaded).map(\.displayName) == ["web : web dynamic"])
    }

    /// Plays are built while the YAML is still being parsed, but as in ansible-core (which loads the whole
    /// document first) a YAML error anywhere wins over an earlier play's error, and YAML warnings come first.
    /// Each case also with enough plays in between for libyaml to run on its own thread (256 KiB and more).
    @Test(arguments: [0, 3_000])
    func yamlErrorsAndWarningsComeFirstAsIfTheDocumentWereLoadedBeforeThePlays(padding: Int) throws {
        let dir = FileManager.default.temporaryDirectory.path + "/swansible-order-test-\(getpid())-\(padding)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "".write(toFile: dir + "/empty.yml", atomically: true, encoding: .utf8)
        let filler = String(repeating: "- hosts: all\n  tasks:\n    - name: filler task with some text\n      command: /bin/true\n      when: x is defined\n", count: padding)
        let fillerLines = padding * 5
        func load(_ head: String, _ tail: String) -> (Result<Playbook, AnsibleError>, [String]) {
            let path = dir + "/site.yml"
            try! (head + filler + tail).write(toFile: path, atomically: true, encoding: .utf8)
            var loader = PlaybookLoader(rolesPath: [])
            loader.requireSupportedModules = false
            do throws(AnsibleError) {
                return (.success(try loader.load(path: path)), loader.warnings)
            } catch {
                return (.failure(error), loader.warnings)
            }
        }
        let badPlay = "- hosts: all\n  bogus: 1\n"
        let emptyImport = "- hosts: all\n  tasks:\n    - import_tasks: empty.yml\n"
        // A syntax error at the end wins over the first play's error.
        var (result, warnings) = load(badPlay, "- hosts: all\n  tasks: [\n")
        guard case .failure(let syntax) = result else { Issue.record("loaded"); return }
        #expect(syntax.message.hasPrefix("YAML parsing failed"))
        #expect(syntax.mark?.line == 2 + fillerLines + 3)
        #expect(warnings.isEmpty)
        // A loader that failed so is as it was: the next playbook's tasks are numbered as by a new loader.
        do {
            let path = dir + "/site.yml"
            try (filler + "- hosts: all\n  tasks: [\n").write(toFile: path, atomically: true, encoding: .utf8)
            let good = dir + "/good.yml"
            try "- hosts: all\n  tasks: [{command: /bin/true}]\n".write(toFile: good, atomically: true, encoding: .utf8)
            var reused = PlaybookLoader(rolesPath: [])
            reused.requireSupportedModules = false
            #expect(throws: AnsibleError.self) { try reused.load(path: path) }
            var fresh = PlaybookLoader(rolesPath: [])
            fresh.requireSupportedModules = false
            func firstID(_ p: Playbook) -> Int? {
                if case .task(let t)? = p.plays.first?.tasks.first { return t.id }
                return nil
            }
            #expect(firstID(try reused.load(path: good)) == firstID(try fresh.load(path: good)))
            #expect(reused.warnings.isEmpty)
        }
        // So does a construction error, and the warnings of the plays built meanwhile are not kept.
        (result, warnings) = load(emptyImport + badPlay, "- hosts: !!int abc\n")
        guard case .failure(let construction) = result else { Issue.record("loaded"); return }
        #expect(construction.message.contains("abc"))
        #expect(construction.mark?.line == 5 + fillerLines + 1)
        #expect(warnings.isEmpty)
        // Without a YAML error the first play error is thrown, after the YAML warnings and the earlier plays'.
        (result, warnings) = load(emptyImport + badPlay, "- hosts: all\n  name: a\n  name: b\n")
        guard case .failure(let play) = result else { Issue.record("loaded"); return }
        #expect(play.message == "'bogus' is not a valid attribute for a Play")
        #expect(play.mark?.line == 5)
        #expect(warnings.count == 2)
        #expect(warnings.first?.hasPrefix("Found duplicate mapping key 'name'.") == true)
        #expect(warnings.last == "file \(dir)/empty.yml is empty and had no tasks to include")
        // A list is required; its items must be mappings.
        (result, _) = load("", "")
        if padding == 0 { #expect((try? result.get())?.plays.isEmpty == true) }
        (result, _) = load("- [1]\n", "")
        guard case .failure(let entry) = result else { Issue.record("loaded"); return }
        #expect(entry.message == "playbook entries must be either valid plays or 'import_playbook' statements")
        (result, warnings) = load("", "- hosts: all\n  name: a\n  name: b\n")
        #expect((try? result.get())?.plays.count == padding + 1)
        #expect(warnings.count == 1)
        // A root list with its own tag is loaded too (after the document, as its items are not handed over).
        (result, warnings) = load("--- !!seq\n", "- hosts: all\n  name: a\n  name: b\n")
        #expect((try? result.get())?.plays.count == padding + 1)
        #expect(warnings.count == 1)
        (result, _) = load("--- !!seq\n" + badPlay, "")
        guard case .failure(let tagged) = result else { Issue.record("loaded"); return }
        #expect(tagged.message == "'bogus' is not a valid attribute for a Play")
    }

    @Test func missingRoleSaysWhereItLooked() throws {
        let dir = FileManager.default.temporaryDirectory.path + "/swansible-role-test-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "- hosts: all\n  roles:\n    - nosuch\n".write(toFile: dir + "/site.yml", atomically: true, encoding: .utf8)
        var loader = PlaybookLoader(rolesPath: ["/nonexistent/roles"])
        do {
            _ = try loader.load(path: dir + "/site.yml")
            Issue.record("loaded a playbook with a missing role")
        } catch {
            #expect(error.message == "the role 'nosuch' was not found in \(dir)/roles:/nonexistent/roles:\(dir)")
            #expect(error.mark?.line == 3 && error.mark?.column == 7)
            #expect(error.exitCode == 1)
        }
    }

    /// Role names are templated while the play loads: extra vars, play vars and vars_files for `roles:`;
    /// for import_role also block and task vars and the defaults of the play's roles.
    @Test func templatedRoleNames() throws {
        func roleNames(extraVars: ValueDict) throws -> [String] {
            var loader = PlaybookLoader(rolesPath: [])
            loader.requireSupportedModules = false
            loader.extraVars = extraVars
            let play = try loader.load(path: Self.corpus + "/14_templated_role_names.yml").plays[0]
            return play.roles.filter { $0.dependencyChain.isEmpty }.map(\.name)
        }
        #expect(try roleNames(extraVars: [:]) == ["common", "db", "pinned", "web", "dupe", "common"])
        #expect(try roleNames(extraVars: ["first_role": "web"]) == ["web", "db", "pinned", "web", "dupe", "common"])
        // Extra vars win over play vars.
        #expect(try roleNames(extraVars: ["second_role": "pinned"])[1] == "pinned")
    }

    @Test func undefinedVariableInARoleNameIsAnError() throws {
        let dir = FileManager.default.temporaryDirectory.path + "/swansible-role-name-test-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir + "/roles/r/tasks", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "- debug: msg=r\n".write(toFile: dir + "/roles/r/tasks/main.yml", atomically: true, encoding: .utf8)
        // Inventory variables are not defined while a play loads (there is no host yet).
        try "- hosts: all\n  tasks:\n    - import_role:\n        name: \"{{ from_inventory }}\"\n"
            .write(toFile: dir + "/site.yml", atomically: true, encoding: .utf8)
        var loader = PlaybookLoader(rolesPath: [])
        do {
            _ = try loader.load(path: dir + "/site.yml")
            Issue.record("loaded a role name with an undefined variable")
        } catch {
            #expect(error.message == "'from_inventory' is undefined")
            #expect(error.mark?.line == 4 && error.mark?.column == 15)
            #expect(error.exitCode == 1)
        }
        loader.extraVars = ["from_inventory": "r"]
        let play = try loader.load(path: dir + "/site.yml").plays[0]
        #expect(play.roles.map(\.name) == ["r"])
    }
}

@Suite struct TagSelectionTests {
    // (task tags, --tags, --skip-tags, runs?) — ansible-core's Taggable.evaluate_tags.
    static let table: [([String], [String], [String], Bool)] = [
        ([], [], [], true),
        (["never"], [], [], false),  // the default --tags is `all`, which leaves `never` out
        (["never", "debug"], ["debug"], [], true),
        (["always"], ["other"], [], true),
        (["always"], [], ["always"], false),
        (["always"], [], ["all"], true),
        (["always"], [], ["all", "always"], false),
        (["a"], [], ["all"], false),
        ([], ["tagged"], [], false),
        (["a"], ["tagged"], [], true),
        (["a", "never"], ["tagged"], [], false),
        ([], ["untagged"], [], true),
        (["a"], ["untagged"], [], false),
        (["a"], [], ["tagged"], false),
        ([], [], ["tagged"], true),
        ([], [], ["untagged"], false),
        (["a", "b"], ["b"], ["a"], false),
        (["a"], ["all"], [], true),
        (["a"], ["x"], [], false),
    ]

    @Test(arguments: table) func evaluateTags(_ c: ([String], [String], [String], Bool)) {
        #expect(TagSelection.shouldRun(taskTags: Set(c.0), only: c.1, skip: c.2) == c.3)
    }

    @Test func tagValues() {
        #expect(TagSelection.tags("a, b,c") == ["a", "b", "c"])
        #expect(TagSelection.tags(.list(["a", .list(["b"]), 3])) == ["a", "b", "3"])
        #expect(TagSelection.tags(nil) == [])
    }
}

@Suite struct PlayVarsFilesTests {
    @Test func firstFoundTemplatedAndMerged() throws {
        let dir = PlaybookLoaderTests.corpus
        let entries: [Value] = [
            "common.yml",  // found under vars/
            .list(["missing-{{ os }}.yml", "listed.yml"]),  // first found wins
            "{{ undefined }}.yml",  // skipped with a warning
            "nowhere.yml",  // missing: nothing, no error
        ]
        let (vars, warnings) = try PlaybookLoader.loadPlayVarsFiles(entries, playbookDirectory: dir) { text in
            text.contains("undefined") ? nil : text.replacingOccurrences(of: "{{ os }}", with: "debian")
        }
        #expect(vars == ["from_vars_dir": 1, "shared": "vars_dir", "a": 3, "b": 2])
        #expect(warnings == ["skipping vars_files item due to an undefined variable"])
    }
}
