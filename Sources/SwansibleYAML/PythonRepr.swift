/// Python's `repr(str)`: single quotes unless the text contains `'` and no `"`, with backslash
/// escapes for the quote, backslashes, `\t`, `\n`, `\r` and characters Python deems unprintable.
func pythonRepr(_ s: String) -> String {
    let quote: Unicode.Scalar = s.contains("'") && !s.contains("\"") ? "\"" : "'"
    var out = String.UnicodeScalarView()
    out.append(quote)
    func hex(_ v: UInt32, _ width: Int) -> String {
        let h = String(v, radix: 16)
        return String(repeating: "0", count: max(0, width - h.count)) + h
    }
    for u in s.unicodeScalars {
        switch u {
        case quote, "\\":
            out.append("\\")
            out.append(u)
        case "\t": out.append(contentsOf: "\\t".unicodeScalars)
        case "\n": out.append(contentsOf: "\\n".unicodeScalars)
        case "\r": out.append(contentsOf: "\\r".unicodeScalars)
        default:
            if u.value < 0x20 || u.value == 0x7F {
                out.append(contentsOf: ("\\x" + hex(u.value, 2)).unicodeScalars)
            } else if u.value < 0x7F || isPythonPrintable(u) {
                out.append(u)
            } else if u.value <= 0xFF {
                out.append(contentsOf: ("\\x" + hex(u.value, 2)).unicodeScalars)
            } else if u.value <= 0xFFFF {
                out.append(contentsOf: ("\\u" + hex(u.value, 4)).unicodeScalars)
            } else {
                out.append(contentsOf: ("\\U" + hex(u.value, 8)).unicodeScalars)
            }
        }
    }
    out.append(quote)
    return String(out)
}

/// `str.isprintable()` for one character: not a control, format, surrogate, private-use,
/// unassigned or separator character (the ASCII space excepted).
private func isPythonPrintable(_ u: Unicode.Scalar) -> Bool {
    if u == " " { return true }
    switch u.properties.generalCategory {
    case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator,
        .spaceSeparator:
        return false
    default:
        return true
    }
}
