public import OrderedCollections

/// A piece of Ansible data: what YAML, JSON, Jinja2 expressions and module results are made of.
///
/// The cases mirror the Python types ansible-core works with (`None`, `bool`, `int`, `float`,
/// `str`, `list`, `dict`). Dictionaries keep insertion order, as Python's do, so output follows
/// the order of the playbook. Keys are strings: ansible-core turns other keys into strings
/// wherever results leave Python (JSON), and playbooks rarely use others.
///
/// ``unsafe(_:)`` is a string that must never be templated: YAML's `!unsafe` tag and every
/// string a module returns (ansible-core wraps results in `AnsibleUnsafeText` for the same
/// reason). It compares, hashes and prints exactly like ``string(_:)``.
public enum Value: Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case unsafe(String)
    case list([Value])
    case dict(OrderedDictionary<String, Value>)
}

public typealias ValueDict = OrderedDictionary<String, Value>

extension Value: Equatable {
    /// Structural equality with Python's numeric rule (`1 == 1.0`) and ``unsafe(_:)`` equal to
    /// ``string(_:)``. `True == 1` holds in Python but not here: templating compares with
    /// Python's rules itself; this equality is for data.
    public static func == (lhs: Value, rhs: Value) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.int(a), .int(b)): return a == b
        case let (.float(a), .float(b)): return a == b
        case let (.int(a), .float(b)), let (.float(b), .int(a)): return Double(a) == b
        case let (.string(a), .string(b)), let (.unsafe(a), .unsafe(b)),
            let (.string(a), .unsafe(b)), let (.unsafe(a), .string(b)):
            return a == b
        case let (.list(a), .list(b)): return a == b
        case let (.dict(a), .dict(b)):
            // Python dict equality ignores order.
            guard a.count == b.count else { return false }
            for (k, v) in a {
                guard let w = b[k], w == v else { return false }
            }
            return true
        default: return false
        }
    }
}

extension Value: Hashable {
    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case .bool(let b): hasher.combine(1); hasher.combine(b)
        case .int(let i): hasher.combine(2); hasher.combine(Double(i))
        case .float(let d): hasher.combine(2); hasher.combine(d)
        case .string(let s), .unsafe(let s): hasher.combine(3); hasher.combine(s)
        case .list(let l): hasher.combine(4); hasher.combine(l)
        case .dict(let d):
            // Order-independent, to agree with ==.
            hasher.combine(5)
            var acc = 0
            for (k, v) in d {
                var h = Hasher()
                h.combine(k)
                h.combine(v)
                acc ^= h.finalize()
            }
            hasher.combine(acc)
        }
    }
}

extension Value {
    /// The string of a ``string(_:)`` or ``unsafe(_:)``; nil for anything else.
    public var stringValue: String? {
        switch self {
        case .string(let s), .unsafe(let s): return s
        default: return nil
        }
    }

    public var isString: Bool { stringValue != nil }

    public var isUnsafe: Bool {
        if case .unsafe = self { return true }
        return false
    }

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var intValue: Int? {
        if case .int(let i) = self { return i }
        return nil
    }

    public var listValue: [Value]? {
        if case .list(let l) = self { return l }
        return nil
    }

    public var dictValue: ValueDict? {
        if case .dict(let d) = self { return d }
        return nil
    }

    /// Python truthiness: `None`, `False`, `0`, `0.0`, empty strings, lists and dicts are false.
    public var isTruthy: Bool {
        switch self {
        case .null: return false
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .float(let d): return d != 0
        case .string(let s), .unsafe(let s): return !s.isEmpty
        case .list(let l): return !l.isEmpty
        case .dict(let d): return !d.isEmpty
        }
    }

    /// The Python type name, for error messages (`'int' object has no attribute …`).
    public var pythonTypeName: String {
        switch self {
        case .null: return "NoneType"
        case .bool: return "bool"
        case .int: return "int"
        case .float: return "float"
        case .string, .unsafe: return "str"
        case .list: return "list"
        case .dict: return "dict"
        }
    }

    /// Looks up a key of a dict; nil for a missing key or a non-dict.
    public subscript(key: String) -> Value? {
        if case .dict(let d) = self { return d[key] }
        return nil
    }

    /// Marks every string inside as unsafe (never templated), as ansible-core does with results.
    public var markedUnsafe: Value {
        switch self {
        case .string(let s): return .unsafe(s)
        case .list(let l): return .list(l.map(\.markedUnsafe))
        case .dict(let d): return .dict(d.mapValues(\.markedUnsafe))
        default: return self
        }
    }
}

extension Value: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .float(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: Value...) { self = .list(elements) }
    public init(dictionaryLiteral elements: (String, Value)...) {
        var d = ValueDict(minimumCapacity: elements.count)
        for (k, v) in elements { d[k] = v }
        self = .dict(d)
    }
}

extension Value {
    /// The number as a Double (ints and floats).
    public var doubleValue: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .float(let f): return f
        default: return nil
        }
    }
}

/// A dictionary key for encoding ``Value`` dicts in order.
private struct ValueKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension Value: Codable {
    public init(from decoder: any Decoder) throws {
        if let keyed = try? decoder.container(keyedBy: ValueKey.self) {
            var dict = ValueDict()
            for key in keyed.allKeys { dict[key.stringValue] = try keyed.decode(Value.self, forKey: key) }
            self = .dict(dict)
            return
        }
        if var unkeyed = try? decoder.unkeyedContainer() {
            var list: [Value] = []
            while !unkeyed.isAtEnd { list.append(try unkeyed.decode(Value.self)) }
            self = .list(list)
            return
        }
        let single = try decoder.singleValueContainer()
        if single.decodeNil() { self = .null }
        else if let b = try? single.decode(Bool.self) { self = .bool(b) }
        else if let i = try? single.decode(Int.self) { self = .int(i) }
        else if let d = try? single.decode(Double.self) { self = .float(d) }
        else { self = .string(try single.decode(String.self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .dict(let d):
            var keyed = encoder.container(keyedBy: ValueKey.self)
            for (k, v) in d { try keyed.encode(v, forKey: ValueKey(stringValue: k)) }
        case .list(let l):
            var unkeyed = encoder.unkeyedContainer()
            for v in l { try unkeyed.encode(v) }
        default:
            var single = encoder.singleValueContainer()
            switch self {
            case .null: try single.encodeNil()
            case .bool(let b): try single.encode(b)
            case .int(let i): try single.encode(i)
            case .float(let f): try single.encode(f)
            case .string(let s), .unsafe(let s): try single.encode(s)
            default: break
            }
        }
    }
}
