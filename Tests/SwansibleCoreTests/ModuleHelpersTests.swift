import Foundation
@testable import SwansibleCore
import SwansibleData
import Testing

@Suite("File-module helpers")
struct ModuleHelpersTests {
    private func file(_ mode: UInt32) -> RemoteStat { RemoteStat(exists: true, mode: 0o100000 | mode) }
    private func dir(_ mode: UInt32) -> RemoteStat { RemoteStat(exists: true, mode: 0o040000 | mode) }

    @Test func octalAndIntegerModes() throws {
        #expect(try resolveMode("0644", current: file(0o600), umask: 0o022) == 0o644)
        #expect(try resolveMode("644", current: file(0o600), umask: 0o022) == 0o644)
        #expect(try resolveMode("0o750", current: file(0o600), umask: 0o022) == 0o750)
        #expect(try resolveMode(.int(0o640), current: file(0o600), umask: 0o022) == 0o640)
        #expect(throws: ModeError.self) { try resolveMode(.int(0o17777), current: file(0o600), umask: 0o022) }
    }

    /// Expected values as ansible-core's `_symbolic_mode_to_octal` computes them (and chmod(1) agrees).
    @Test func symbolicModes() throws {
        #expect(try resolveMode("u=rw,g=r,o=", current: file(0o755), umask: 0o022) == 0o640)
        #expect(try resolveMode("u=rw,g=r", current: file(0o644), umask: 0o022) == 0o644)
        #expect(try resolveMode("u+x", current: file(0o644), umask: 0o022) == 0o744)
        #expect(try resolveMode("+x", current: file(0o644), umask: 0o022) == 0o755)
        #expect(try resolveMode("+w", current: file(0o444), umask: 0o022) == 0o644)  // the umask masks g/o
        #expect(try resolveMode("a-w", current: file(0o666), umask: 0o022) == 0o444)
        #expect(try resolveMode("g+X", current: file(0o644), umask: 0o022) == 0o644)
        #expect(try resolveMode("g+X", current: dir(0o700), umask: 0o022) == 0o710)
        #expect(try resolveMode("u+rwX,g+rX,o=", current: file(0o604), umask: 0o022) == 0o640)
        #expect(try resolveMode("g=u", current: file(0o640), umask: 0o022) == 0o660)
        #expect(try resolveMode("u+s,o+t", current: file(0o755), umask: 0o022) == 0o5755)
        #expect(throws: ModeError.self) { try resolveMode("u+q", current: file(0o644), umask: 0o022) }
        #expect(throws: ModeError.self) { try resolveMode("abc", current: file(0o644), umask: 0o022) }
    }

    @Test func probeParsesStatLines() {
        let out = """
            I:0027
            J:uid=1001(swtest) gid=1002 groups=1002,27(sudo)
            T:S:81a4|1001|1001|6|2|123|65024|1795630943|1795630943|1795630943|8|4096|0|0|2026-11-25 18:22:23.500000000 +0000|2026-11-25 18:22:23.000000000 +0000|2026-11-25 18:22:23.000000000 +0000|swtest|UNKNOWN
            T:A:rw
            T:K:f572d396fae9206628714fb2ce00f72e94f2258f
            TX:N
            other line
            """
        let p = RemoteProbe(Array(out.utf8))
        let st = p["T"]
        #expect(st.exists && st.isReg && !st.isDir)
        #expect(st.modeString == "0644")
        #expect(st.nlink == 2 && st.state == "hard")
        #expect(st.ownerName == "swtest" && st.groupName == "1001")
        #expect(st.mtime == 1795630943.5)
        #expect(st.readable && st.writeable && !st.executable)
        #expect(st.checksum == "f572d396fae9206628714fb2ce00f72e94f2258f")
        #expect(!p["TX"].exists)
        #expect(p.identity.umask == 0o027 && p.identity.uid == 1001 && p.identity.user == "swtest")
        #expect(p.identity.gid == 1002 && p.identity.group == nil)
        #expect(p.other == ["other line"])
    }

    /// The references Python's posixpath.expandvars would try, with the text they replace.
    @Test func variableReferencesAsPythonFindsThem() {
        func refs(_ p: String) -> [String] { pythonVariableReferences(p).map { "\($0.name)=\(p[$0.range])" } }
        #expect(refs("$HOME/a/${X}b/$1/$") == ["HOME=$HOME", "X=${X}", "1=$1"])
        #expect(refs("a$b_c.d${ e }f${unclosed") == ["b_c=$b_c", " e =${ e }"])
        #expect(refs("$$x $-y é$é") == ["x=$x"])
        #expect(refs("no variables") == [])
    }

    @Test func pythonPathFunctions() {
        #expect(normalizePath("/a/b/../c/./d//e") == "/a/c/d/e")
        #expect(normalizePath("a/../../b") == "../b")
        #expect(pythonDirname("/a/b/") == "/a/b")
        #expect(pythonDirname("/a") == "/")
        #expect(pythonDirname("a") == "")
        #expect(pythonJoin("/d/", "x") == "/d/x")
        #expect(pythonJoin("/d", "/x") == "/x")
    }

    /// The tar stream is read by the system's tar: names (long ones split into prefix/name), contents.
    @Test func tarArchiveReadsBack() throws {
        let long = String(repeating: "d", count: 90) + "/" + String(repeating: "e", count: 60) + "/f ü.txt"
        let files: [(String, [UInt8])] = [("a.txt", Array("one\n".utf8)), ("sub dir/b", []), (long, Array(repeating: 7, count: 1000))]
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tar-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data(TarWriter.archive(files)).write(to: URL(fileURLWithPath: dir + "/x.tar"))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "cd \(dir) && mkdir out && tar -xf x.tar -C out"]
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        #expect(FileManager.default.contents(atPath: dir + "/out/a.txt") == Data("one\n".utf8))
        #expect(FileManager.default.contents(atPath: dir + "/out/sub dir/b") == Data())
        #expect(FileManager.default.contents(atPath: dir + "/out/" + long) == Data(repeating: 7, count: 1000))
    }

    /// Expected values from Python 3's time.strptime (wall clock) and its error texts.
    @Test func fileTimesParseAsPythonsStrptime() {
        func parse(_ t: String, _ f: String) -> String {
            switch FileTime.parse(t, format: f) {
            case .success(let p): return p.wallClock
            case .failure(let e): return "ERR " + e.reason
            }
        }
        #expect(parse("202001020304.05", "%Y%m%d%H%M.%S") == "2020-01-02 03:04:05")
        #expect(parse("2/3/99 1:05 PM", "%d/%m/%y %I:%M %p") == "1999-03-02 13:05:00")
        #expect(parse("Mar  5 2021", "%b %d %Y") == "2021-03-05 00:00:00")
        #expect(parse("12:30", "%H:%M") == "1900-01-01 12:30:00")
        #expect(parse("20200230", "%Y%m%d") == "ERR day is out of range for month")
        #expect(parse("2020 xx", "%Y") == "ERR unconverted data remains:  xx")
        #expect(parse("abc", "%Y") == "ERR time data 'abc' does not match format '%Y'")
        #expect(parse("2020", "%Q") == "ERR 'Q' is a bad directive in format '%Q'")
        if case .success(let p) = FileTime.parse("202001020304.05", format: "%Y%m%d%H%M.%S") { #expect(p.stamp == "202001020304.05") }
    }

    @Test func pythonRegexSyntaxForICU() {
        #expect(pythonPatternForICU("^(?P<k>b) = (?P=k)\\Z") == "^(?<k>b) = \\k<k>\\z")
        #expect(pythonPatternForICU("\\(?P<x>") == "\\(?P<x>")  // an escaped parenthesis opens no group
        #expect(groupNumber("k", in: "^(a)(?:b)(?P<k>c)") == 2)
        #expect(groupNumber("k", in: "[(](?P<k>c)") == 1)
    }

    @Test func validationCommandsSplitAsShlex() {
        #expect(validationCommand("grep -q 'a b' %s", path: "/t/x y") == "grep -q 'a b' '/t/x y'")
        #expect(validationCommand("test 100%% -gt 1 %s", path: "/p") == "test 100% -gt 1 /p")
        #expect(validationCommand("sh -c 'unbalanced %s", path: "/p") == nil)
    }
}
