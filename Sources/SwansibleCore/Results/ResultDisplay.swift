public import SwansibleData
import SwansibleTemplate

/// Helpers for showing results the way ansible-core's default callback does.
public enum ResultDisplay {
    /// `_get_item_label`: the loop label (or item), or the no_log placeholder, as Python's `str()` prints it.
    public static func itemLabel(_ result: ValueDict) -> String {
        if result["_ansible_no_log"]?.boolValue == true { return "(censored due to no_log)" }
        let label = result["_ansible_item_label"] ?? result["item"] ?? .null
        return label.pythonStr
    }

    /// `host_label`: `h1`, or `h1 -> other` for a delegated task (`h1 -> other(address)` when the delegate's
    /// address differs from its name).
    public static func hostLabel(host: String, display: ValueDict) -> String {
        guard let delegate = display["delegate_to"]?.stringValue, delegate != host else { return host }
        var label = host + " -> " + delegate
        if let address = display["delegate"]?.stringValue, address != delegate { label += "(\(address))" }
        return label
    }

    /// The value without any `_ansible_*` key, at every depth (what `register` keeps, what a dump shows).
    public static func withoutInternalKeys(_ v: Value) -> Value {
        switch v {
        case .dict(let d):
            var out = ValueDict()
            for (k, x) in d where !k.hasPrefix("_ansible_") { out[k] = withoutInternalKeys(x) }
            return .dict(out)
        case .list(let l): return .list(l.map(withoutInternalKeys))
        default: return v
        }
    }
}
