import Foundation
import SwansibleCore
import SwansibleData
import SwansibleTemplate
import Testing

/// The controller lookups of SwansibleCore through the public engine. The expected answers of the role
/// layout below were recorded with ansible-playbook 2.19.14 (a role `r` whose task templates
/// `lookup('file', 'a.txt')` and friends, next to a playbook with its own `files/`).
@Suite("Core lookups: file search order, pipe, fileglob, first_found, env")
struct CoreLookupsTests {
    /// play/roles/r/{files/a.txt, a.txt, files/d.txt, tasks/main.yml}, play/{files/a.txt, a.txt, files/b.txt, c.txt}
    final class Layout {
        let root: String
        init() throws {
            root = NSTemporaryDirectory() + "swansible-lookups-\(UUID().uuidString)"
            let files: [String: String] = [
                "roles/r/files/a.txt": "role-files\n", "roles/r/a.txt": "role-dir\n", "files/a.txt": "pb-files\n",
                "a.txt": "pb-dir\n", "files/b.txt": "pbonly\n", "c.txt": "pbdironly\n",
                "roles/r/files/d.txt": "rolefilesonly\n", "roles/r/tasks/main.yml": "- debug: msg=x\n",
            ]
            for (path, content) in files {
                let url = URL(fileURLWithPath: root + "/" + path)
                try FileManager.default.createDirectory(
                    at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(content.utf8).write(to: url)
            }
        }
        deinit { try? FileManager.default.removeItem(atPath: root) }

        var roleHooks: TemplateHooks {
            makeCoreTemplateHooks(
                searchPaths: ansibleSearchPath(rolePaths: [root + "/roles/r"], taskFile: root + "/roles/r/tasks/main.yml"),
                playbookDir: root, inRole: true)
        }
        var playHooks: TemplateHooks { makeCoreTemplateHooks(searchPaths: [root], playbookDir: root) }
    }

    func render(_ template: String, _ hooks: TemplateHooks) throws -> Value {
        try TemplateEngine(hooks: hooks).render(template, variables: VariableDictionary())
    }

    @Test("a role's task reads its role's files/ first, then the playbook's files/ and directory")
    func roleSearchOrder() throws {
        let l = try Layout()
        #expect(ansibleSearchPath(rolePaths: [l.root + "/roles/r"], taskFile: l.root + "/roles/r/tasks/main.yml")
            == [l.root + "/roles/r", l.root + "/roles/r/tasks"])
        let got = try render(
            "{{ lookup('file', 'a.txt') }}|{{ lookup('file', 'b.txt') }}|{{ lookup('file', 'c.txt') }}|{{ lookup('pipe', 'pwd') }}|{{ lookup('first_found', ['nope', 'a.txt']) }}|{{ lookup('first_found', ['d.txt', 'c.txt']) }}",
            l.roleHooks)
        #expect(
            got == .string(
                "role-files|pbonly|pbdironly|\(l.root)|\(l.root)/roles/r/a.txt|\(l.root)/c.txt"))
        let globbed = try render("{{ query('fileglob', '*.txt') | sort }}|{{ query('fileglob', 'files/*.txt') | sort }}", l.roleHooks)
        let inRole = "['\(l.root)/roles/r/files/a.txt', '\(l.root)/roles/r/files/d.txt']"
        #expect(globbed == .string("\(inRole)|\(inRole)"))
    }

    @Test("a play's task reads the playbook's files/ before the playbook directory")
    func playSearchOrder() throws {
        let l = try Layout()
        let got = try render(
            "{{ lookup('file', 'a.txt') }}|{{ lookup('file', 'b.txt') }}|{{ query('fileglob', '*.txt') | sort }}|{{ lookup('first_found', ['nope', 'a.txt']) }}",
            l.playHooks)
        #expect(
            got == .string(
                "pb-files|pbonly|['\(l.root)/files/a.txt', '\(l.root)/files/b.txt']|\(l.root)/a.txt"))
        #expect(try render("{{ lookup('file', '\(l.root)/c.txt') }}", l.playHooks) == .string("pbdironly"))
    }

    @Test("errors are ansible-core's: missing file, directory, failing command")
    func errors() throws {
        let l = try Layout()
        let engine = TemplateEngine(hooks: l.roleHooks)
        func message(_ t: String) -> String? {
            do {
                _ = try engine.render(t, variables: VariableDictionary())
                return nil
            } catch {
                return error.message
            }
        }
        #expect(
            message("{{ lookup('file', 'nope.txt') }}")
                == "The lookup plugin 'file' failed: Unable to access the file 'nope.txt': File not found. Use -vvvvv to see paths searched.")
        #expect(
            message("{{ lookup('file', '/etc') }}")
                == "The lookup plugin 'file' failed: Unable to access the file '/etc': An error occurred while trying to read the file '/etc': [Errno 21] Is a directory: '/etc'")
        #expect(message("{{ lookup('pipe', 'exit 3') }}") == "The lookup plugin 'pipe' failed: lookup_plugin.pipe(exit 3) returned 3")
        #expect(message("{{ lookup('pipe', 'kill -9 $$') }}") == "The lookup plugin 'pipe' failed: lookup_plugin.pipe(kill -9 $$) returned -9")
        #expect(message("{{ lookup('first_found', 5) }}") == "The lookup plugin 'first_found' failed: Invalid term supplied. A string, dict or list is required, not 'int').")
        #expect(message("{{ lookup('nosuch', 'x') }}") == "The lookup plugin 'nosuch' was not found.")
    }

    @Test("pipe keeps stdout only, right-stripped; lines splits it; env reads this process's environment")
    func commandsAndEnv() throws {
        let l = try Layout()
        #expect(try render("{{ lookup('pipe', 'printf \"a b  \\n\\n\"; echo err >&2') }}|", l.playHooks) == .string("a b|"))
        #expect(try render("{{ query('lines', 'printf \"x\\r\\ny\\n\\nz\"') }}", l.playHooks) == .list(["x", "y", "", "z"]))
        #expect(try render("{{ lookup('pipe', 'cat c.txt') }}", l.playHooks) == .string("pbdironly"))
        let home = ProcessInfo.processInfo.environment["HOME"] ?? ""
        #expect(try render("{{ lookup('env', 'HOME') }}", l.playHooks) == .string(home))
    }

    @Test("with_first_found searches the subdirectory the task's action names (recorded with a role)")
    func firstFoundLoop() throws {
        let l = try Layout()
        for (dir, content) in [("templates", "t"), ("files", "f"), ("", "d")] {
            let url = URL(fileURLWithPath: l.root + "/roles/r/" + (dir.isEmpty ? "" : dir + "/") + "t.j2")
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(content.utf8).write(to: url)
        }
        #expect(CoreLookups.firstFoundLoopSubdir(action: "ansible.builtin.template") == "templates")
        #expect(CoreLookups.firstFoundLoopSubdir(action: "include_vars") == "vars")
        #expect(CoreLookups.firstFoundLoopSubdir(action: "debug") == "files")
        let paths = ansibleSearchPath(rolePaths: [l.root + "/roles/r"], taskFile: l.root + "/roles/r/tasks/main.yml")
        for (action, want) in [("template", "templates/t.j2"), ("debug", "files/t.j2")] {
            let hooks = makeCoreTemplateHooks(
                searchPaths: paths, playbookDir: l.root, inRole: true,
                firstFoundSubdir: CoreLookups.firstFoundLoopSubdir(action: action))
            let got = try TemplateEngine(hooks: hooks).lookup("first_found", terms: ["t.j2"], variables: VariableDictionary())
            #expect(got == .list([.string(l.root + "/roles/r/" + want)]))
        }
        // As a lookup: no subdirectory.
        #expect(try render("{{ lookup('first_found', 't.j2') }}", l.roleHooks) == .string(l.root + "/roles/r/t.j2"))
    }

    @Test("to_yaml and from_yaml through the core's hooks")
    func yaml() throws {
        let hooks = makeCoreTemplateHooks(searchPaths: ["/"])
        #expect(try render("{{ {'b': [1, 2], 'a': 'x'} | to_nice_yaml }}", hooks) == .string("a: x\nb:\n- 1\n- 2\n"))
        #expect(try render("{{ 'k: [1, yes]' | from_yaml }}", hooks) == .dict(["k": [1, true]]))
    }
}
