/// Python's `repr(str)`: single quotes unless the text contains `'` and no `"`, with backslash escapes for the
/// quote, backslashes, `\t`, `\n`, `\r` and every character Python deems unprintable (`\xhh`, `\uhhhh`,
/// `\Uhhhhhhhh`). Error messages, listings and the template engine all quote text this way.
public func pythonStringRepr(_ s: String) -> String {
    let quote: Unicode.Scalar = s.unicodeScalars.contains("'") && !s.unicodeScalars.contains("\"") ? "\"" : "'"
    var out = String.UnicodeScalarView()
    out.append(quote)
    for u in s.unicodeScalars {
        switch u {
        case quote, "\\":
            out.append("\\")
            out.append(u)
        case "\t": out.append(contentsOf: "\\t".unicodeScalars)
        case "\n": out.append(contentsOf: "\\n".unicodeScalars)
        case "\r": out.append(contentsOf: "\\r".unicodeScalars)
        default:
            if pythonIsPrintable(u) {
                out.append(u)
            } else {
                let hex = String(u.value, radix: 16)
                let (prefix, width) = u.value < 0x100 ? ("\\x", 2) : u.value < 0x10000 ? ("\\u", 4) : ("\\U", 8)
                out.append(contentsOf: (prefix + String(repeating: "0", count: width - hex.count) + hex).unicodeScalars)
            }
        }
    }
    out.append(quote)
    return String(out)
}

/// `str.isprintable()` for one code point: not a control, format, surrogate, private-use, unassigned or
/// separator character (the ASCII space excepted), from the Unicode general category.
public func pythonIsPrintable(_ u: Unicode.Scalar) -> Bool {
    if u.value >= 0x20 && u.value < 0x7F { return true }
    switch u.properties.generalCategory {
    case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator,
        .spaceSeparator:
        return false
    default:
        return true
    }
}

extension Value {
    /// Python's `repr()` of the value as data (`None`, `True`, `1.0`, `'text'`, `[…]`, `{'key': …}`).
    public var pythonRepr: String {
        var out = ""
        writePythonRepr(into: &out)
        return out
    }

    private func writePythonRepr(into out: inout String) {
        switch self {
        case .null: out += "None"
        case .bool(let b): out += b ? "True" : "False"
        case .int(let i): out += String(i)
        case .float(let d): out += pythonFloatRepr(d)
        case .string(let s), .unsafe(let s): out += pythonStringRepr(s)
        case .list(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += ", " }
                item.writePythonRepr(into: &out)
            }
            out += "]"
        case .dict(let d):
            out += "{"
            var first = true
            for (key, item) in d {
                if !first { out += ", " }
                first = false
                out += pythonStringRepr(key)
                out += ": "
                item.writePythonRepr(into: &out)
            }
            out += "}"
        }
    }
}
