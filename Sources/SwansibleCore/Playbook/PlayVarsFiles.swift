public import SwansibleData
import SwansibleYAML
import Foundation

extension PlaybookLoader {
    /// A play's `vars_files`, as ansible-core's VariableManager reads them for one host.
    ///
    /// Each entry is a path or a list of paths (the first that exists wins). Paths are templated first
    /// (ansible templates them with play vars, inventory vars, facts, extra vars and magic vars: the caller's
    /// `template` does that, returning nil for an undefined variable). A relative path is looked for in
    /// `<playbook dir>/vars/` then `<playbook dir>/`. An entry none of whose files exists adds nothing (no
    /// error, as in ansible-core); an undefined variable skips the entry with ansible's warning.
    ///
    /// - Returns: the variables (later files over earlier) and the warnings to show.
    public static func loadPlayVarsFiles(
        _ entries: [Value], playbookDirectory: String, template: (String) -> String?
    ) throws(AnsibleError) -> (vars: ValueDict, warnings: [String]) {
        var warnings: [String] = []
        let vars = try loadPlayVarsFiles(entries, playbookDirectory: playbookDirectory, warnings: &warnings, template: template)
        return (vars, warnings)
    }

    /// The same, with the warnings collected also when a file fails to load.
    public static func loadPlayVarsFiles(
        _ entries: [Value], playbookDirectory: String, warnings: inout [String], template: (String) -> String?
    ) throws(AnsibleError) -> ValueDict {
        var vars = ValueDict()
        entries: for entry in entries {
            let candidates: [Value]
            if case .list(let l) = entry { candidates = l } else { candidates = [entry] }
            for candidate in candidates {
                guard let text = candidate.stringValue else {
                    throw AnsibleError(
                        "Invalid `vars_files` value of type '\(Self.typeNameOf(candidate))'.",
                        help: "A `vars_files` value should either be a string or list of strings.")
                }
                guard let name = template(text) else {
                    warnings.append("skipping vars_files item due to an undefined variable")
                    continue entries
                }
                let paths = name.hasPrefix("/")
                    ? [name] : [playbookDirectory + "/vars/" + name, playbookDirectory + "/" + name]
                guard let path = paths.first(where: { FileManager.default.isReadableFile(atPath: $0) }) else {
                    continue
                }
                vars.merge(try loadVarsFileData(path, warnings: &warnings)) { $1 }
                continue entries
            }
        }
        return vars
    }

    /// A vars file's variables: a mapping, or a list of mappings merged in order.
    public static func loadVarsFileData(_ path: String) throws(AnsibleError) -> ValueDict {
        var ignored: [String] = []
        return try loadVarsFileData(path, warnings: &ignored)
    }

    /// A vars file's variables, and the warnings loading it gave (duplicate keys, as ansible-core shows them).
    public static func loadVarsFileData(_ path: String, warnings: inout [String]) throws(AnsibleError) -> ValueDict {
        guard let data = FileManager.default.contents(atPath: path) else { throw AnsibleError.fileNotFound(path) }
        let value: Value
        do {
            let document = try YAMLDocument.parseSingle(String(decoding: data, as: UTF8.self), file: path)
            for warning in document?.warnings ?? [] { warnings.append(formatWarning(warning)) }
            value = document?.value ?? .null
        } catch {
            throw AnsibleError(error.message, at: error.mark, help: error.help)
        }
        switch value {
        case .null: return [:]
        case .dict(let d): return d
        case .list(let items):
            var merged = ValueDict()
            for item in items {
                guard case .dict(let d) = item else { throw notVars(value, path) }
                merged.merge(d) { $1 }
            }
            return merged
        default:
            throw notVars(value, path)
        }
    }

    private static func notVars(_ value: Value, _ path: String) -> AnsibleError {
        AnsibleError(
            "variable files must contain either a dictionary of variables, or a list of dictionaries. Got: \(PlaybookListing.pythonRepr(value)) (\(PlaybookListing.taggedClass(value)))",
            at: SourceMark(file: path, line: 1, column: 1))
    }

    static func typeNameOf(_ v: Value) -> String {
        switch v {
        case .dict: return "dict"
        case .list: return "list"
        case .string, .unsafe: return "str"
        case .int: return "int"
        case .float: return "float"
        case .bool: return "bool"
        case .null: return "NoneType"
        }
    }
}
