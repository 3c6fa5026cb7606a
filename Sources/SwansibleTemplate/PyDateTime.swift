import Foundation
import SwansibleData

/// Python's naive `datetime.datetime` and `datetime.timedelta`, as `now()` and `to_datetime` return them.
enum PyObject {
    case datetime(PyDateTime)
    case timedelta(PyTimeDelta)

    var typeName: String {
        switch self {
        case .datetime: return "datetime"
        case .timedelta: return "timedelta"
        }
    }

    /// `str(x)`.
    var text: String {
        switch self {
        case .datetime(let d): return d.isoformat(sep: " ")
        case .timedelta(let t): return t.text
        }
    }
}

struct PyTimeDelta: Equatable {
    /// Normalised as Python does: seconds in 0..<86400, microseconds in 0..<1000000.
    var days: Int
    var seconds: Int
    var microseconds: Int

    init(totalMicroseconds: Int) {
        var us = totalMicroseconds
        var s = us / 1_000_000
        us -= s * 1_000_000
        if us < 0 {
            us += 1_000_000
            s -= 1
        }
        var d = s / 86400
        s -= d * 86400
        if s < 0 {
            s += 86400
            d -= 1
        }
        days = d
        seconds = s
        microseconds = us
    }

    var totalMicroseconds: Int { (days * 86400 + seconds) * 1_000_000 + microseconds }

    var text: String {
        let hh = seconds / 3600
        let mm = seconds / 60 % 60
        let ss = seconds % 60
        var s = "\(hh):\(mm < 10 ? "0" : "")\(mm):\(ss < 10 ? "0" : "")\(ss)"
        if days != 0 { s = "\(days) day\(Swift.abs(days) != 1 ? "s" : ""), " + s }
        if microseconds != 0 { s += "." + pad(microseconds, 6) }
        return s
    }
}

private func pad(_ n: Int, _ width: Int) -> String {
    let s = String(n)
    return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
}

struct PyDateTime: Equatable, Comparable {
    var year: Int
    var month: Int
    var day: Int
    var hour = 0
    var minute = 0
    var second = 0
    var microsecond = 0

    static func < (a: PyDateTime, b: PyDateTime) -> Bool { a.ordinalMicroseconds < b.ordinalMicroseconds }

    /// Days since 0001-01-01 (proleptic Gregorian), as Python's `toordinal() - 1`.
    var dayNumber: Int {
        let y = year - 1
        var days = y * 365 + y / 4 - y / 100 + y / 400
        let cumulative = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334]
        days += cumulative[max(0, min(11, month - 1))] + day - 1
        if month > 2 && PyDateTime.isLeap(year) { days += 1 }
        return days
    }

    var ordinalMicroseconds: Int {
        ((dayNumber * 86400 + hour * 3600 + minute * 60 + second) * 1_000_000) + microsecond
    }

    static func isLeap(_ y: Int) -> Bool { y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) }

    static func daysIn(_ month: Int, _ year: Int) -> Int {
        [31, isLeap(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
    }

    /// Python's `weekday()`: Monday is 0.
    var weekday: Int { (dayNumber + 0) % 7 }

    var dayOfYear: Int {
        PyDateTime(year: year, month: month, day: day).dayNumber - PyDateTime(year: year, month: 1, day: 1).dayNumber
            + 1
    }

    func isoformat(sep: String = "T") -> String {
        var s =
            "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))\(sep)\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2))"
        if microsecond != 0 { s += "." + pad(microsecond, 6) }
        return s
    }

    static func now(utc: Bool) -> PyDateTime {
        let t = Date().timeIntervalSince1970
        return fromEpoch(t, utc: utc)
    }

    static func fromEpoch(_ t: Double, utc: Bool) -> PyDateTime {
        var secs = time_t(t.rounded(.down))
        var parts = tm()
        if utc { gmtime_r(&secs, &parts) } else { localtime_r(&secs, &parts) }
        return PyDateTime(
            year: Int(parts.tm_year) + 1900, month: Int(parts.tm_mon) + 1, day: Int(parts.tm_mday),
            hour: Int(parts.tm_hour), minute: Int(parts.tm_min), second: Int(parts.tm_sec),
            microsecond: Int(((t - t.rounded(.down)) * 1_000_000).rounded(.down)))
    }

    /// `timestamp()`: a naive datetime is local time.
    var timestamp: Double {
        var parts = tmValue
        parts.tm_isdst = -1
        return Double(mktime(&parts)) + Double(microsecond) / 1_000_000
    }

    var tmValue: tm {
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        parts.tm_wday = Int32((weekday + 1) % 7)
        parts.tm_yday = Int32(dayOfYear - 1)
        parts.tm_isdst = -1
        return parts
    }

    /// `strftime(format)`: C's, plus Python's own `%f`.
    func strftime(_ format: String) -> String {
        var f = ""
        var chars = Array(format)
        var i = 0
        while i < chars.count {
            if chars[i] == "%", i + 1 < chars.count {
                if chars[i + 1] == "f" {
                    f += pad(microsecond, 6)
                    i += 2
                    continue
                }
                f.append(chars[i])
                f.append(chars[i + 1])
                i += 2
                continue
            }
            f.append(chars[i])
            i += 1
        }
        chars = []
        var parts = tmValue
        var size = 256
        while size < 1 << 20 {
            var buffer = [CChar](repeating: 0, count: size)
            let n = Foundation.strftime(&buffer, size, f, &parts)
            if n > 0 || f.isEmpty {
                return String(decoding: buffer.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
            size *= 4
        }
        return ""
    }

    static let monthNames = [
        "january", "february", "march", "april", "may", "june", "july", "august", "september",
        "october", "november", "december",
    ]
    static let dayNames = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]

    /// `datetime.strptime(text, format)` for the common directives.
    static func strptime(_ text: String, _ format: String) throws(PyError) -> PyDateTime {
        let failure = PyError("time data \(pythonStringRepr(text)) does not match format \(pythonStringRepr(format))")
        let s = Array(text.unicodeScalars)
        let f = Array(format.unicodeScalars)
        var i = 0
        var j = 0
        var year = 1900
        var month = 1
        var day = 1
        var hour = 0
        var minute = 0
        var second = 0
        var micro = 0
        var pm: Bool? = nil
        var hour12: Int? = nil
        var yday: Int? = nil
        func digits(_ maxCount: Int) throws(PyError) -> Int {
            var n = 0
            var count = 0
            while count < maxCount, i < s.count, s[i] >= "0", s[i] <= "9" {
                n = n * 10 + Int(s[i].value - 48)
                i += 1
                count += 1
            }
            if count == 0 { throw failure }
            return n
        }
        func word(_ names: [String], abbreviated: Bool) throws(PyError) -> Int {
            let rest = String(String.UnicodeScalarView(s[i...])).lowercased()
            for (k, name) in names.enumerated() {
                let candidate = abbreviated ? String(name.prefix(3)) : name
                if rest.hasPrefix(candidate) {
                    i += candidate.unicodeScalars.count
                    return k
                }
            }
            throw failure
        }
        while j < f.count {
            let c = f[j]
            if c == "%", j + 1 < f.count {
                let d = f[j + 1]
                j += 2
                switch d {
                case "Y": year = try digits(4)
                case "y":
                    let y = try digits(2)
                    year = y < 69 ? 2000 + y : 1900 + y
                case "m": month = try digits(2)
                case "d": day = try digits(2)
                case "H": hour = try digits(2)
                case "I": hour12 = try digits(2)
                case "M": minute = try digits(2)
                case "S": second = try digits(2)
                case "j": yday = try digits(3)
                case "f":
                    let start = i
                    let v = try digits(6)
                    var scale = 1
                    for _ in 0..<(6 - (i - start)) { scale *= 10 }
                    micro = v * scale
                case "b", "h": month = try word(monthNames, abbreviated: true) + 1
                case "B": month = try word(monthNames, abbreviated: false) + 1
                case "a": _ = try word(dayNames, abbreviated: true)
                case "A": _ = try word(dayNames, abbreviated: false)
                case "p":
                    let rest = String(String.UnicodeScalarView(s[i...])).lowercased()
                    if rest.hasPrefix("am") {
                        pm = false
                    } else if rest.hasPrefix("pm") {
                        pm = true
                    } else {
                        throw failure
                    }
                    i += 2
                case "%":
                    guard i < s.count, s[i] == "%" else { throw failure }
                    i += 1
                default:
                    throw PyError("'\(d)' is a bad directive in format '\(format)'")
                }
            } else if c.properties.isWhitespace {
                while j < f.count, f[j].properties.isWhitespace { j += 1 }
                guard i < s.count, s[i].properties.isWhitespace else { throw failure }
                while i < s.count, s[i].properties.isWhitespace { i += 1 }
            } else {
                guard i < s.count, s[i] == c || String(s[i]).lowercased() == String(c).lowercased() else {
                    throw failure
                }
                i += 1
                j += 1
            }
        }
        if i < s.count {
            throw PyError("unconverted data remains: \(String(String.UnicodeScalarView(s[i...])))")
        }
        if let hour12 {
            hour = hour12 % 12 + ((pm ?? false) ? 12 : 0)
        }
        // Python's patterns only accept values in range (%m is 1..12 and so on): others do not match the format.
        guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 62,
            hour12.map({ (1...12).contains($0) }) ?? true
        else { throw failure }
        guard day <= daysIn(month, year) else { throw PyError("day is out of range for month") }
        var result = PyDateTime(
            year: year, month: month, day: day, hour: hour, minute: minute, second: min(second, 59),
            microsecond: micro)
        if let yday {
            let base = PyDateTime(year: year, month: 1, day: 1).dayNumber + yday - 1
            result = PyDateTime.fromDayNumber(base, hour: hour, minute: minute, second: second, microsecond: micro)
        }
        return result
    }

    static func fromDayNumber(_ n: Int, hour: Int = 0, minute: Int = 0, second: Int = 0, microsecond: Int = 0)
        -> PyDateTime
    {
        var year = 1 + n / 366
        while PyDateTime(year: year + 1, month: 1, day: 1).dayNumber <= n { year += 1 }
        var rest = n - PyDateTime(year: year, month: 1, day: 1).dayNumber
        var month = 1
        while rest >= daysIn(month, year) {
            rest -= daysIn(month, year)
            month += 1
        }
        return PyDateTime(
            year: year, month: month, day: rest + 1, hour: hour, minute: minute, second: second,
            microsecond: microsecond)
    }

    static func fromOrdinalMicroseconds(_ us: Int) -> PyDateTime {
        var dayNumber = us / 86_400_000_000
        var rest = us - dayNumber * 86_400_000_000
        if rest < 0 {
            rest += 86_400_000_000
            dayNumber -= 1
        }
        let seconds = rest / 1_000_000
        return fromDayNumber(
            dayNumber, hour: seconds / 3600, minute: seconds / 60 % 60, second: seconds % 60,
            microsecond: rest % 1_000_000)
    }
}

extension Renderer {
    /// Attributes and methods of datetime and timedelta objects.
    func objectAttribute(_ o: PyObject, _ name: String) -> RV {
        switch o {
        case .datetime(let d):
            switch name {
            case "year": return .value(.int(d.year))
            case "month": return .value(.int(d.month))
            case "day": return .value(.int(d.day))
            case "hour": return .value(.int(d.hour))
            case "minute": return .value(.int(d.minute))
            case "second": return .value(.int(d.second))
            case "microsecond": return .value(.int(d.microsecond))
            case "strftime", "isoformat", "timestamp", "weekday", "isoweekday", "date", "time":
                return .callable(.objectMethod(o, name))
            default: break
            }
        case .timedelta(let t):
            switch name {
            case "days": return .value(.int(t.days))
            case "seconds": return .value(.int(t.seconds))
            case "microseconds": return .value(.int(t.microseconds))
            case "total_seconds": return .callable(.objectMethod(o, name))
            default: break
            }
        }
        return .undefined(Undefined(message: "object of type '\(o.typeName)' has no attribute '\(name)'", name: name))
    }

    func callObjectMethod(_ o: PyObject, _ name: String, _ args: Args) throws -> RV {
        let a = try args.positional.map { try concrete($0) }
        switch (o, name) {
        case (.datetime(let d), "strftime"):
            guard let f = a.first?.stringValue else { throw PyError("strftime() argument 1 must be str") }
            return .value(.string(d.strftime(f)))
        case (.datetime(let d), "isoformat"):
            return .value(.string(d.isoformat(sep: a.first?.stringValue ?? "T")))
        case (.datetime(let d), "timestamp"): return .value(.float(d.timestamp))
        case (.datetime(let d), "weekday"): return .value(.int(d.weekday))
        case (.datetime(let d), "isoweekday"): return .value(.int(d.weekday + 1))
        case (.datetime(let d), "date"):
            return .value(.string(String(d.isoformat().prefix(10))))
        case (.datetime(let d), "time"):
            return .value(.string(String(d.isoformat().dropFirst(11))))
        case (.timedelta(let t), "total_seconds"):
            return .value(.float(Double(t.totalMicroseconds) / 1_000_000))
        default: throw PyError("'\(o.typeName)' object has no attribute '\(name)'")
        }
    }

    /// `a - b`, `a + b` and comparisons when a datetime or timedelta is involved.
    func objectArith(_ op: BinOp, _ a: RV, _ b: RV) throws -> RV? {
        guard case .object(let x) = a else {
            if case .object(let y) = b, op == .add, case .timedelta = y, case .object = a { return nil }
            if case .object(let y) = b {
                throw PyError(
                    "unsupported operand type(s) for \(op.rawValue): '\(try concrete(a).pythonTypeName)' and "
                        + "'\(y.typeName)'")
            }
            return nil
        }
        switch (x, b, op) {
        case (.datetime(let d1), .object(.datetime(let d2)), .sub):
            return .object(.timedelta(PyTimeDelta(totalMicroseconds: d1.ordinalMicroseconds - d2.ordinalMicroseconds)))
        case (.datetime(let d), .object(.timedelta(let t)), .add):
            return .object(.datetime(.fromOrdinalMicroseconds(d.ordinalMicroseconds + t.totalMicroseconds)))
        case (.datetime(let d), .object(.timedelta(let t)), .sub):
            return .object(.datetime(.fromOrdinalMicroseconds(d.ordinalMicroseconds - t.totalMicroseconds)))
        case (.timedelta(let t1), .object(.timedelta(let t2)), .add):
            return .object(.timedelta(PyTimeDelta(totalMicroseconds: t1.totalMicroseconds + t2.totalMicroseconds)))
        case (.timedelta(let t1), .object(.timedelta(let t2)), .sub):
            return .object(.timedelta(PyTimeDelta(totalMicroseconds: t1.totalMicroseconds - t2.totalMicroseconds)))
        default:
            let other: String
            if case .object(let y) = b { other = y.typeName } else { other = try concrete(b).pythonTypeName }
            throw PyError("unsupported operand type(s) for \(op.rawValue): '\(x.typeName)' and '\(other)'")
        }
    }

    func objectCompare(_ op: CmpOp, _ a: RV, _ b: RV) throws -> Bool? {
        guard case .object(let x) = a, case .object(let y) = b else {
            if case .object = a, op == .eq { return false }
            if case .object = b, op == .eq { return false }
            if case .object = a, op == .ne { return true }
            if case .object = b, op == .ne { return true }
            if case .object(let o) = a {
                throw PyError(
                    "'\(op.rawValue)' not supported between instances of '\(o.typeName)' and "
                        + "'\(try concrete(b).pythonTypeName)'")
            }
            if case .object(let o) = b {
                throw PyError(
                    "'\(op.rawValue)' not supported between instances of "
                        + "'\(try concrete(a).pythonTypeName)' and '\(o.typeName)'")
            }
            return nil
        }
        let (p, q): (Int, Int)
        switch (x, y) {
        case (.datetime(let d1), .datetime(let d2)): (p, q) = (d1.ordinalMicroseconds, d2.ordinalMicroseconds)
        case (.timedelta(let t1), .timedelta(let t2)): (p, q) = (t1.totalMicroseconds, t2.totalMicroseconds)
        default:
            if op == .eq { return false }
            if op == .ne { return true }
            throw PyError("'\(op.rawValue)' not supported between instances of '\(x.typeName)' and '\(y.typeName)'")
        }
        switch op {
        case .eq: return p == q
        case .ne: return p != q
        case .lt: return p < q
        case .lteq: return p <= q
        case .gt: return p > q
        case .gteq: return p >= q
        default: throw PyError("argument of type '\(y.typeName)' is not iterable")
        }
    }
}
