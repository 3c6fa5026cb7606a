import OrderedCollections
import SwansibleData

/// An undefined value (Jinja2's `Undefined`): it carries the message shown when it is used.
struct Undefined: Sendable {
    var message: String
    /// Jinja2's plain `Undefined` (an inline `if` without `else`): prints as an empty string, is not replaced by
    /// `default`, and cannot be stored. Ansible's own undefined markers have `plain == false`.
    var plain = false
    /// The name that was looked up (for `mandatory`'s message).
    var name: String? = nil

    /// Jinja2's message for a missing attribute or item (`repr` of the name).
    static func missing(_ name: Value, of obj: Value) -> Undefined {
        Undefined(
            message: "object of type '\(pyTypeName(obj))' has no attribute \(pyRepr(name))", name: pyStr(name))
    }

    static func name(_ name: String) -> Undefined { Undefined(message: "'\(name)' is undefined", name: name) }
}

/// A Jinja2 `namespace()` object: mutable through `{% set ns.attr = … %}`.
final class NamespaceBox {
    var attributes: OrderedDictionary<String, RV>
    init(_ attributes: OrderedDictionary<String, RV>) { self.attributes = attributes }
}

/// The `loop` variable of a `{% for %}`.
final class LoopBox {
    let items: [RV]
    var index0 = 0
    let depth0: Int
    var lastChanged: [Value]? = nil
    /// For `{% for … recursive %}`: renders the loop body over another iterable.
    let recurse: ((RV, Int) throws(TErr) -> RV)?

    init(items: [RV], depth0: Int, recurse: ((RV, Int) throws(TErr) -> RV)?) {
        self.items = items
        self.depth0 = depth0
        self.recurse = recurse
    }

    func attribute(_ name: String) -> RV? {
        let length = items.count
        switch name {
        case "index": return .value(.int(index0 + 1))
        case "index0": return .value(.int(index0))
        case "revindex": return .value(.int(length - index0))
        case "revindex0": return .value(.int(length - index0 - 1))
        case "first": return .value(.bool(index0 == 0))
        case "last": return .value(.bool(index0 == length - 1))
        case "length": return .value(.int(length))
        case "depth": return .value(.int(depth0 + 1))
        case "depth0": return .value(.int(depth0))
        case "previtem":
            return index0 > 0 ? items[index0 - 1] : .undefined(Undefined(message: "there is no previous item"))
        case "nextitem":
            return index0 + 1 < length ? items[index0 + 1] : .undefined(Undefined(message: "there is no next item"))
        case "cycle", "changed": return .callable(.loopMethod(self, name))
        default: return nil
        }
    }
}

/// A `{% macro %}` (or the `caller` of a `{% call %}` block) bound to the frame it was defined in.
final class MacroBox {
    let name: String
    let params: [String]
    let defaults: [Expr]
    let body: [Stmt]
    let frame: Frame
    let caller: MacroBox?

    init(name: String, params: [String], defaults: [Expr], body: [Stmt], frame: Frame, caller: MacroBox?) {
        self.name = name
        self.params = params
        self.defaults = defaults
        self.body = body
        self.frame = frame
        self.caller = caller
    }
}

enum Callable {
    /// A global function: range, lookup, query, q, dict, namespace, undef, lipsum, now, zip…
    case global(String)
    /// A method of a str, list or dict; `lazy` when the receiver came from variables.
    case method(Value, String, lazy: Bool, scope: LazyScope?)
    case macro(MacroBox)
    case loopMethod(LoopBox, String)
    case loopRecurse(LoopBox)
    case objectMethod(PyObject, String)
}

/// Whose variables render the templates inside a lazy value.
enum LazyScope {
    /// The `hostvars` variable itself: each key is a host whose variables render what is under it.
    case hostvars
    /// Another host's variables.
    case host(HostScope)
}

final class HostScope {
    let variables: any TemplateVariables
    init(_ variables: any TemplateVariables) { self.variables = variables }
}

/// A runtime value: data, data still to be templated, an undefined, or a Jinja2 object.
enum RV {
    /// Plain data: never templated again.
    case value(Value)
    /// Data from variables: its (non-unsafe) strings are templates, rendered when they are used, with the
    /// renderer's variables (scope nil) or another host's.
    case lazy(Value, LazyScope?)
    case undefined(Undefined)
    case callable(Callable)
    case namespace(NamespaceBox)
    case loop(LoopBox)
    /// A list built by the template that holds undefined values (or Jinja2 objects): usable as a sequence
    /// (`[a, b] | select('defined')`, `| length`), an error when used as data.
    case seq([RV])
    /// A Python datetime or timedelta (`now()`, `to_datetime`, their differences).
    case object(PyObject)

    static var none: RV { .value(.null) }

    var undefinedValue: Undefined? {
        if case .undefined(let u) = self { return u }
        return nil
    }

    var isUndefined: Bool { undefinedValue != nil }
}

/// A scope of local names (`{% set %}`, loop variables, macro arguments).
final class Frame {
    var vars: [String: RV] = [:]
    let parent: Frame?

    init(parent: Frame?) { self.parent = parent }

    /// The frame that holds `name`.
    func owner(of name: String) -> Frame? {
        var f: Frame? = self
        while let frame = f {
            if frame.vars[name] != nil { return frame }
            f = frame.parent
        }
        return nil
    }

    func lookup(_ name: String) -> RV? {
        var f: Frame? = self
        while let frame = f {
            if let v = frame.vars[name] { return v }
            f = frame.parent
        }
        return nil
    }
}

/// An internal error. `prefixed` is false for a Python exception not yet wrapped as Ansible wraps it at the
/// template boundary ("Error rendering template: …").
struct TErr: Error, Sendable {
    var kind: TemplateError.Kind
    var message: String
    var prefixed = true
    var line: Int? = nil

    static func undefined(_ u: Undefined) -> TErr {
        if u.plain {
            return TErr(
                kind: .runtime, message: "Type 'Undefined' is unsupported for variable storage.", prefixed: false)
        }
        return TErr(kind: .undefined, message: u.message)
    }

    static func python(_ message: String) -> TErr { TErr(kind: .runtime, message: message, prefixed: false) }

    static func plugin(_ type: String, _ name: String, _ message: String) -> TErr {
        TErr(kind: .plugin, message: concatMessage("The \(type) plugin '\(name)' failed", message))
    }
}

/// ansible-core's `concat_message`: trailing ". " of the left part dropped, then ": ".
func concatMessage(_ left: String, _ right: String) -> String {
    var l = Substring(left)
    while let c = l.last, c == "." || c == " " { l.removeLast() }
    return "\(l): \(right)"
}
