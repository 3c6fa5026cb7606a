import Foundation
import SwansibleData
import Testing

/// Fault-matrix rows seen through a whole run (issue #10): what a module makes of the transport's faults.
@Suite("module faults", .needsHosts, .serialized)
struct ModuleFaultTests {
    /// A remote disk that fills during copy: a 1 MiB tmpfs on the target (the loopback host is this machine) holds
    /// the destination; a 3 MB copy fails with the remote's `No space left on device`, the old content stays, no
    /// temporary file is left and the space is free again. (ansible-core fails too: `Failed to replace ... [Errno
    /// 28] No space left on device: ...`, naming its own temporary paths, so the message differs.)
    @Test func remoteDiskFillsDuringCopy() throws {
        try copyToFullDisk(filler: 0, copy: "{src: big.bin, dest: \"$MOUNT/f\"}", left: ["f"]) { dir in
            FileManager.default.createFile(atPath: dir + "/big.bin", contents: Data(repeating: 0x5a, count: 3_000_000))
        }
    }

    /// The same with small content (the bytes travel in the script and the shell's `printf` writes them, where the
    /// 3 MB file above streams to `cat` on stdin): 20 KiB stay free, the 24,000 bytes of content cannot fit.
    @Test func remoteDiskFillsDuringInlineCopy() throws {
        try copyToFullDisk(filler: 1_020_000, copy: "{content: \"{{ 'x' * 24000 }}\", dest: \"$MOUNT/f\"}",
                           left: ["f", "filler"])
    }

    /// Mounts a 1 MiB tmpfs holding `f` ("old") and `filler` bytes, runs a copy task (`$MOUNT` in it is the
    /// mount point) and checks the failure: the remote's message, the old content kept, nothing but `left`
    /// in the directory, the space free again.
    func copyToFullDisk(filler: Int, copy: String, left expected: [String], prepare: (String) -> Void = { _ in }) throws {
        let t = try TestHosts.get()
        let mountPoint = "/tmp/swansible-full-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: mountPoint) }
        #expect(try shell("mount -t tmpfs -o size=1m,mode=0755 tmpfs \(mountPoint)") == 0,
                "mounting a tmpfs needs root (Tests/run-tests runs as root)")
        defer { _ = try? shell("umount \(mountPoint)") }
        let fill = filler > 0 ? "head -c \(filler) /dev/zero > \(mountPoint)/filler && " : ""
        #expect(try shell(fill + "printf 'old\\n' > \(mountPoint)/f && chown \(t.users.plain.name) \(mountPoint) \(mountPoint)/f") == 0)
        let dir = try makeProject(hosts: [t.hosts[7]], playbook: """
            - hosts: testhosts
              gather_facts: false
              tasks:
                - name: fill
                  copy: \(copy.replacingOccurrences(of: "$MOUNT", with: mountPoint))
            """)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        prepare(dir)
        let run = try runSwansible(["play", "-i", dir + "/inventory", dir + "/site.yml", "--json"], cwd: dir)
        #expect(run.status == 2)
        let seed = try Value(json: run.stdout)
        let failed = seed["fill"]?["failed"]?["h8"]
        #expect(failed?["msg"]?.stringValue?.contains("No space left on device") == true, "\(String(describing: failed))")
        #expect(failed?["changed"] == false)
        #expect(try String(contentsOfFile: mountPoint + "/f", encoding: .utf8) == "old\n")
        let left = try FileManager.default.contentsOfDirectory(atPath: mountPoint).sorted()
        #expect(left == expected, "left behind: \(left)")
        var fs = statvfs()
        statvfs(mountPoint, &fs)
        #expect(Int(fs.f_bfree) * Int(fs.f_bsize) + filler > 900 * 1024, "the partial file's space is free again")
    }

    /// Output that is not UTF-8, as ansible-core 2.19 handles it: its command module decodes the output with
    /// surrogateescape and the controller refuses the response (MODULE_STRICT_UTF8_RESPONSE, on by default), so
    /// the task fails naming the first run of bad bytes, in characters, stdout before stderr. Messages recorded
    /// from ansible-core 2.19.14 with the same tasks; valid multi-byte output is kept.
    @Test func outputThatIsNotUTF8FailsAsAnsibleFailsIt() throws {
        let t = try TestHosts.get()
        let dir = try makeProject(hosts: [t.hosts[8]], playbook: #"""
            - hosts: testhosts
              gather_facts: false
              tasks:
                - name: stdout
                  shell: "printf 'a\\377\\376b\\300\\n\\351t\\351 \\303\\251\\n'; printf 'e\\377r\\n' >&2"
                  ignore_errors: true
                - name: stderr only
                  shell: "echo ok; printf 'e\\303\\251\\377r\\n' >&2"
                  ignore_errors: true
                - name: valid
                  shell: "printf '\\303\\251t\\303\\251\\n'"
            """#)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let run = try runSwansible(["play", "-i", dir + "/inventory", dir + "/site.yml", "--json"], cwd: dir)
        #expect(run.status == 0)
        let seed = try Value(json: run.stdout)
        let prefix = "Task failed: Refusing to deserialize an invalid UTF8 string value: 'utf-8' codec can't encode "
        #expect(seed["stdout"]?["failed"]?["h9"]?["msg"] == .string(prefix + "characters in position 1-2: surrogates not allowed"))
        #expect(seed["stderr only"]?["failed"]?["h9"]?["msg"] == .string(prefix + "character '\\udcff' in position 2: surrogates not allowed"))
        #expect(seed["valid"]?["success"]?["h9"]?["stdout"] == "\u{e9}t\u{e9}")
        let text = try runSwansible(["play", "-i", dir + "/inventory", dir + "/site.yml"], cwd: dir)
        #expect(text.stdout.contains("fatal: [h9]: FAILED! => {\"changed\": false, \"msg\": \"" + prefix + "characters in position 1-2: surrogates not allowed\"}"))
    }

    func shell(_ command: String) throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", command]
        try p.run()
        p.waitUntilExit()
        return p.terminationStatus
    }
}
