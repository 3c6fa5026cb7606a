public import SwansibleData
import Foundation

/// One of the file module's `modification_time`/`access_time`: `preserve`, `now` or an explicit time.
enum FileTime: Sendable {
    case preserve
    case now
    /// The epoch seconds (`time.mktime` of the parsed time, computed on the target) and the parsed time.
    case at(Double, Parsed)

    /// A time parsed with its format, as local wall-clock fields.
    struct Parsed: Sendable {
        /// `YYYY-MM-DD hh:mm:ss`: what `date -d` reads and `stat -c %y` prints (local time).
        var wallClock: String
        /// `CCYYMMDDhhmm.SS`: what `touch -t` reads (local time, GNU and BusyBox).
        var stamp: String
    }

    var isNow: Bool { if case .now = self { return true } else { return false } }
    var isPreserve: Bool { if case .preserve = self { return true } else { return false } }

    struct ParseError: Error { var reason: String }

    /// Python's `time.strptime(text, format)`: fields not in the format default to 1900-01-01 00:00:00; the
    /// whole text must be consumed. The error texts are Python's.
    static func parse(_ text: String, format: String) -> Result<Parsed, ParseError> {
        // Python's _strptime: the format becomes a regular expression (these are its patterns), matched
        // case-insensitively at the start of the text.
        let months = ["january", "february", "march", "april", "may", "june", "july", "august", "september",
                      "october", "november", "december"]
        let patterns: [Character: String] = [
            "Y": "(?<Y>\\d\\d\\d\\d)", "m": "(?<m>1[0-2]|0[1-9]|[1-9])", "d": "(?<d>3[01]|[12]\\d|0[1-9]|[1-9]| [1-9])",
            "H": "(?<H>2[0-3]|[0-1]\\d|\\d)", "I": "(?<I>1[0-2]|0[1-9]|[1-9])", "M": "(?<M>[0-5]\\d|\\d)",
            "S": "(?<S>6[0-1]|[0-5]\\d|\\d)", "y": "(?<y>\\d\\d)", "p": "(?<p>am|pm)",
            "B": "(?<B>" + months.joined(separator: "|") + ")",
            "b": "(?<b>" + months.map { String($0.prefix(3)) }.joined(separator: "|") + ")",
        ]
        let quoted = PlaybookListing.pythonString(text), quotedFormat = PlaybookListing.pythonString(format)
        var regex = ""
        var used: Set<Character> = []
        var chars = Array(format)[...]
        while let c = chars.popFirst() {
            if c == "%" {
                guard let d = chars.popFirst() else { return .failure(ParseError(reason: "stray % in format \(quotedFormat)")) }
                let key: Character = d == "h" ? "b" : d
                if d == "%" { regex += "%"; continue }
                guard let p = patterns[key] else {
                    return .failure(ParseError(reason: "'\(d)' is a bad directive in format '\(format.replacingAll("'", with: "\\'"))'"))
                }
                if used.contains(key) {
                    regex += "(?:" + p.replacingAll("(?<\(key)>", with: "") // a repeated group is a backreference in Python
                } else {
                    regex += p
                    used.insert(key)
                }
            } else if c.isWhitespace {
                regex += "\\s+"
                while let n = chars.first, n.isWhitespace { chars = chars.dropFirst() }
            } else {
                regex += NSRegularExpression.escapedPattern(for: String(c))
            }
        }
        guard let re = try? NSRegularExpression(pattern: regex, options: [.caseInsensitive]),
              let m = re.firstMatch(in: text, options: [.anchored], range: NSRange(text.startIndex..., in: text)),
              let whole = Range(m.range, in: text) else {
            return .failure(ParseError(reason: "time data \(quoted) does not match format \(quotedFormat)"))
        }
        if whole.upperBound != text.endIndex {
            return .failure(ParseError(reason: "unconverted data remains: \(text[whole.upperBound...])"))
        }
        func group(_ name: Character) -> String? {
            guard used.contains(name), let r = Range(m.range(withName: String(name)), in: text) else { return nil }
            return String(text[r])
        }
        var year = 1900, month = 1, day = 1, hour = 0, minute = 0, second = 0
        if let y = group("Y").flatMap({ Int($0) }) { year = y } else if let y = group("y").flatMap({ Int($0) }) { year = y <= 68 ? 2000 + y : 1900 + y }
        if let v = group("m").flatMap({ Int($0) }) { month = v }
        if let b = group("B")?.lowercased(), let i = months.firstIndex(of: b) { month = i + 1 }
        if let b = group("b")?.lowercased(), let i = months.firstIndex(where: { $0.hasPrefix(b) }) { month = i + 1 }
        if let v = group("d").flatMap({ Int($0.trimmingSpaces()) }) { day = v }
        if let v = group("H").flatMap({ Int($0) }) { hour = v }
        if let v = group("I").flatMap({ Int($0) }) {
            let pm = group("p")?.lowercased() == "pm"
            hour = pm ? (v == 12 ? 12 : v + 12) : (v == 12 ? 0 : v)
        }
        if let v = group("M").flatMap({ Int($0) }) { minute = v }
        if let v = group("S").flatMap({ Int($0) }) { second = v }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let monthDays = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        if day > monthDays[month - 1] { return .failure(ParseError(reason: "day is out of range for month")) }
        func pad(_ v: Int, _ n: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, n - s.count)) + s
        }
        let y = pad(year, 4), mo = pad(month, 2), d = pad(day, 2), h = pad(hour, 2), mi = pad(minute, 2), se = pad(second, 2)
        return .success(Parsed(wallClock: "\(y)-\(mo)-\(d) \(h):\(mi):\(se)", stamp: "\(y)\(mo)\(d)\(h)\(mi).\(se)"))
    }
}

/// Both times of a file-module run, and what `update_timestamp_for_file` would do with them.
struct FileTimes: Sendable {
    var mtime = FileTime.preserve
    var atime = FileTime.preserve

    var isPreserve: Bool { mtime.isPreserve && atime.isPreserve }

    /// Commands (for the path as the script names it) and whether something changes, for a path whose
    /// current times are `previous` (nil: the path is created by the same script, so its times are new).
    /// Adds `mtime`/`atime` to the diff as ansible-core does.
    func plan(_ word: String, previous: RemoteStat?, diff: inout (ValueDict, ValueDict)) -> (changed: Bool, commands: [String]) {
        let now = Date().timeIntervalSince1970
        if mtime.isNow && atime.isNow {
            // utime(path, None)
            diff.0["mtime"] = .float(previous?.mtime ?? now)
            diff.1["mtime"] = .float(now)
            diff.0["atime"] = .float(previous?.atime ?? now)
            diff.1["atime"] = .float(now)
            return (true, ["touch -c -- \(word)"])
        }
        if isPreserve { return (false, []) }
        func value(_ t: FileTime, _ old: Double?) -> Double? {
            switch t {
            case .preserve: return old
            case .now: return now
            case .at(let v, _): return v
            }
        }
        let m = value(mtime, previous?.mtime), a = value(atime, previous?.atime)
        if let previous, m == previous.mtime, a == previous.atime { return (false, []) }
        var commands: [String] = []
        for (t, flag) in [(mtime, "-m"), (atime, "-a")] {
            switch t {
            case .preserve: break
            case .now: commands.append("touch -c \(flag) -- \(word)")
            case .at(_, let p): commands.append("touch -c \(flag) -t \(p.stamp) -- \(word)")
            }
        }
        if m != previous?.mtime {
            diff.0["mtime"] = .float(previous?.mtime ?? now)
            diff.1["mtime"] = m.map(Value.float) ?? .null
        }
        if a != previous?.atime {
            diff.0["atime"] = .float(previous?.atime ?? now)
            diff.1["atime"] = a.map(Value.float) ?? .null
        }
        return (true, commands)
    }

    /// Shell tests for one entry `"$f"` of a recursive run: set `c=1` when a time differs (and, unless `dry`,
    /// set it). An explicit time equals the current one when `stat` prints the same local wall-clock time with
    /// zero nanoseconds (what `mtime == previous_mtime` means for a whole-second timestamp).
    func recurseTests(dry: Bool = false) -> [String] {
        if mtime.isNow && atime.isNow { return [dry ? "c=1" : "touch -c -- \"$f\"; c=1"] }
        var tests: [String] = []
        for (t, flag, format) in [(mtime, "-m", "%y"), (atime, "-a", "%x")] {
            switch t {
            case .preserve: break
            case .now: tests.append(dry ? "c=1" : "touch -c \(flag) -- \"$f\"; c=1")
            case .at(_, let p):
                let set = dry ? "c=1" : "touch -c \(flag) -t \(p.stamp) -- \"$f\"; c=1"
                tests.append("case \"$(stat -c \(format) -- \"$f\")\" in \"\(p.wallClock).000000000 \"*) ;; *) \(set);; esac")
            }
        }
        return tests
    }
}
