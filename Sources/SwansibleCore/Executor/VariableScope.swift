public import SwansibleData
import SwansibleTemplate

/// The variables one task sees on one host, in ansible-core's precedence order.
///
/// Layers are kept apart (never merged into one dict) and looked up from the highest down, which is the
/// same as ansible-core's top-level replace merge (`hash_behaviour = replace`). Values stay as written;
/// the template engine renders them when they are used.
struct VariableScope: TemplateVariables, @unchecked Sendable {
    // @unchecked: the closure for hostvars only reads immutable run state.
    /// Lowest first.
    var layers: [ValueDict]
    var magic: ValueDict
    var hostVariablesProvider: (@Sendable (String) -> VariableScope?)?
    /// `hostvars` as a value: every host's variables (built only when a template uses `hostvars`).
    var allHostVariables: (@Sendable () -> Value)?

    init(layers: [ValueDict], magic: ValueDict, hostVariablesProvider: (@Sendable (String) -> VariableScope?)? = nil,
         allHostVariables: (@Sendable () -> Value)? = nil) {
        self.layers = layers
        self.magic = magic
        self.hostVariablesProvider = hostVariablesProvider
        self.allHostVariables = allHostVariables
    }

    func variable(_ name: String) -> Value? {
        if let v = magic[name] { return v }
        for layer in layers.reversed() { if let v = layer[name] { return v } }
        if name == "hostvars", let all = allHostVariables { return all() }
        return nil
    }

    func hostVariables(_ host: String) -> (any TemplateVariables)? {
        hostVariablesProvider?(host)
    }

    /// Every variable (for `vars` lookups and debugging): lower layers first, overridden by higher.
    var flattened: ValueDict {
        var all = ValueDict()
        for layer in layers { for (k, v) in layer { all[k] = v } }
        for (k, v) in magic { all[k] = v }
        return all
    }
}
