import OrderedCollections
import SwansibleData

/// A failure of one inventory plugin on one source, with where in the source it happened when known.
struct PluginFailure: Error {
    var message: String
    var line: Int?
    var column: Int?

    init(_ message: String, line: Int? = nil, column: Int? = nil) {
        self.message = message
        self.line = line
        self.column = column
    }
}

/// ansible-core's `ini` inventory plugin: sections are groups (`[g]`, `[g:vars]`, `[g:children]`), lines are
/// hosts with inline `key=value` variables, values are typed with Python's `ast.literal_eval` rules.
struct INIInventoryParser {
    var inventory: InventoryData
    let path: String
    var line = 0

    init(inventory: InventoryData, path: String) {
        self.inventory = inventory
        self.path = path
    }

    private struct Pending {
        var line: Int
        var state: String
        var name: String
        var parents: [String] = []
    }

    static let lineBreaks: Set<UInt32> = [0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029]

    /// Python's `str.splitlines()`.
    static func splitLines(_ text: String) -> [Substring] {
        var lines: [Substring] = []
        let scalars = text.unicodeScalars
        var start = scalars.startIndex
        var i = scalars.startIndex
        while i < scalars.endIndex {
            let c = scalars[i]
            if Self.lineBreaks.contains(c.value) {
                lines.append(Substring(scalars[start..<i]))
                var next = scalars.index(after: i)
                if c == "\r" && next < scalars.endIndex && scalars[next] == "\n" { next = scalars.index(after: next) }
                start = next
                i = next
                continue
            }
            i = scalars.index(after: i)
        }
        if start < scalars.endIndex { lines.append(Substring(scalars[start...])) }
        return lines
    }

    mutating func fail(_ message: String, line: Int? = nil) -> PluginFailure {
        PluginFailure(message, line: line ?? self.line)
    }

    /// Parses the text into `inventory`. Like ansible-core, what was added before a failure stays added.
    mutating func parse(_ text: String) throws(PluginFailure) {
        var pending = OrderedDictionary<String, Pending>()
        var groupName = "ungrouped"
        var state = "hosts"
        for raw in Self.splitLines(text) {
            line += 1
            let text = raw.pythonStripped()
            if text.isEmpty || text.first == "#" || text.first == ";" { continue }

            if let (name, tag) = Self.matchSection(text) {
                groupName = name
                state = tag ?? "hosts"
                if !["hosts", "children", "vars"].contains(state) {
                    throw fail("Section [\(name):\(tag!)] has unknown type: \(tag!)")
                }
                if inventory.groups[groupName] == nil {
                    if state == "vars" && pending[groupName] == nil {
                        pending[groupName] = Pending(line: line, state: state, name: groupName)
                    }
                    inventory.addGroup(groupName)
                }
                if let declared = pending[groupName], state != "vars" {
                    if declared.state == "children" {
                        try addPendingChildren(groupName, &pending)
                    } else if declared.state == "vars" {
                        pending[groupName] = nil
                    }
                }
                continue
            } else if text.hasPrefix("[") && text.hasSuffix("]") {
                throw fail(
                    "Invalid section entry: '\(text)'. Please make sure that there are no spaces in the section entry, "
                        + "and that there are no other invalid characters")
            }

            switch state {
            case "hosts":
                let (hosts, port, variables) = try parseHostDefinition(text)
                for host in hosts {
                    do {
                        try inventory.addHost(host, group: groupName, port: port)
                        for (key, value) in variables {
                            checkVariableName(key)
                            try inventory.setVariable(host, key, value)
                        }
                    } catch {
                        throw fail(error.message)
                    }
                }
            case "vars":
                guard let eq = text.firstIndex(of: "=") else { throw fail("Expected key=value, got: \(text)") }
                let key = String(text[..<eq].pythonStripped())
                let value = try parseValue(String(text[text.index(after: eq)...].pythonStripped()))
                checkVariableName(key)
                do { try inventory.setVariable(groupName, key, value) } catch { throw fail(error.message) }
            default:  // children
                guard let child = Self.matchGroupName(text) else { throw fail("Expected group name, got: \(text)") }
                if inventory.groups[child] == nil {
                    if pending[child] == nil {
                        pending[child] = Pending(line: line, state: state, name: child, parents: [groupName])
                    } else {
                        pending[child]!.parents.append(groupName)
                    }
                } else {
                    do { try inventory.addChild(groupName, child) } catch { throw fail(error.message) }
                }
            }
        }
        // A reference never resolved by a declaration: report the first.
        if let decl = pending.values.first {
            if decl.state == "vars" {
                throw fail("Section [\(decl.name):vars] not valid for undefined group '\(decl.name)'.", line: decl.line)
            }
            throw fail(
                "Section [\(decl.parents.last!):children] includes undefined group '\(decl.name)'.", line: decl.line)
        }
    }

    private mutating func addPendingChildren(
        _ group: String, _ pending: inout OrderedDictionary<String, Pending>
    ) throws(PluginFailure) {
        for parent in pending[group]!.parents {
            do { try inventory.addChild(parent, group) } catch { throw fail(error.message) }
            if let p = pending[parent], p.state == "children" { try addPendingChildren(parent, &pending) }
        }
        pending[group] = nil
    }

    /// Deprecation of variable names that are not identifiers (ansible-core 2.19 still accepts them).
    mutating func checkVariableName(_ key: String) {
        guard !InventoryVariables.isValidName(key) else { return }
        inventory.warn(
            "[DEPRECATION WARNING]: Accepting inventory variable with invalid name '\(key)'. This feature will be "
                + "removed from ansible-core version 2.23. Origin: \(path):\(line)")
    }

    /// `^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$`
    static func matchSection(_ text: Substring) -> (String, String?)? {
        var rest = text
        guard rest.first == "[" else { return nil }
        rest = rest.dropFirst()
        let name = rest.prefix { $0 != ":" && $0 != "]" && !$0.isPythonSpace }
        guard !name.isEmpty else { return nil }
        rest = rest.dropFirst(name.count)
        var tag: String?
        if rest.first == ":" {
            rest = rest.dropFirst()
            let t = rest.prefix { $0 == "_" || $0.isLetter || $0.isNumber }
            guard !t.isEmpty else { return nil }
            tag = String(t)
            rest = rest.dropFirst(t.count)
        }
        guard rest.first == "]" else { return nil }
        rest = rest.dropFirst().drop { $0.isPythonSpace }
        guard rest.isEmpty || rest.first == "#" else { return nil }
        return (String(name), tag)
    }

    /// `^([^:\]\s]+)\s*(?:#.*)?$`
    static func matchGroupName(_ text: Substring) -> String? {
        let name = text.prefix { $0 != ":" && $0 != "]" && !$0.isPythonSpace }
        guard !name.isEmpty else { return nil }
        let rest = text.dropFirst(name.count).drop { $0.isPythonSpace }
        guard rest.isEmpty || rest.first == "#" else { return nil }
        return String(name)
    }

    mutating func parseHostDefinition(_ text: Substring) throws(PluginFailure) -> ([String], Int?, ValueDict) {
        let tokens: [String]
        do {
            tokens = try ShellSplit.split(String(text), comments: true)
        } catch {
            throw fail("Error parsing host definition '\(text)': \(error.message)")
        }
        guard let pattern = tokens.first else { throw fail("Expected a host name, got: \(text)") }
        let hosts: [String]
        let port: Int?
        do {
            (hosts, port) = try HostAddress.expandPattern(pattern)
        } catch {
            throw fail(error.message)
        }
        if pattern.pythonStripped().hasSuffix(":") && port == nil {
            throw fail(
                "Invalid host pattern '\(pattern)' supplied, ending in ':' is not allowed, this character is reserved "
                    + "to provide a port.")
        }
        if hosts.contains(where: { $0.pythonStripped() == "---" }) {
            throw fail("Invalid host pattern '\(pattern)' supplied, '---' is normally a sign this is a YAML file.")
        }
        var variables = ValueDict()
        for token in tokens.dropFirst() {
            guard let eq = token.firstIndex(of: "=") else {
                throw fail("Expected key=value host variable assignment, got: \(token)")
            }
            variables[String(token[..<eq])] = try parseValue(String(token[token.index(after: eq)...]))
        }
        return (hosts, port, variables)
    }

    /// `_parse_value`: a Python literal when `ast.literal_eval` takes it, else the text itself.
    mutating func parseValue(_ text: String) throws(PluginFailure) -> Value {
        do {
            return try PythonLiteral.evaluate(text) ?? .string(text)
        } catch {
            throw fail(error.message)
        }
    }
}

extension Character {
    /// Python's `str.isspace()` for one character.
    var isPythonSpace: Bool {
        unicodeScalars.allSatisfy { s in
            s.properties.isWhitespace || (0x1C...0x1F).contains(s.value)
        }
    }
}

extension Substring {
    /// Python's `str.strip()`.
    func pythonStripped() -> Substring {
        var s = self
        while let f = s.first, f.isPythonSpace { s = s.dropFirst() }
        while let l = s.last, l.isPythonSpace { s = s.dropLast() }
        return s
    }
}

extension StringProtocol {
    func pythonStripped() -> String { String(Substring(self).pythonStripped()) }
}
