public import SwansibleData
import SwansibleSSH

/// The shell functions of a `remote_src` directory copy: ansible-core's `copy_directory` (`shutil.copytree`
/// for a new destination, `filecmp.dircmp` for an existing one) in POSIX sh with BusyBox-compatible tools.
/// dircmp's default ignore list (`.git`, `CVS`, …) does not apply: ansible-core hands it byte paths, whose
/// names never equal the list's strings. Files compare as `filecmp.cmp(shallow=True)` does: the same size
/// and mtime, or else the same bytes.
///
/// Variables the functions read: `CK` (1: check mode, nothing changes), `LF` (`local_follow`: `n` unset,
/// `t` true, `f` false), `OWN`/`GRP` (uid/gid to apply, empty when not asked). Each change prints a line `C`.
let remoteCopyTreeFunctions = #"""
_sw_chp() {
  if [ -n "$OWN" ] && [ "$(stat -c %u -- "$1")" != "$OWN" ]; then echo C; [ "$CK" = 1 ] || chown -h "$OWN" -- "$1" || exit 1; fi
  if [ -n "$GRP" ] && [ "$(stat -c %g -- "$1")" != "$GRP" ]; then echo C; [ "$CK" = 1 ] || chgrp -h "$GRP" -- "$1" || exit 1; fi
  return 0
}
_sw_chr() {
  if [ -n "$OWN" ] && [ -n "$(find "$1" ! -user "$OWN" | head -n 1)" ]; then echo C; [ "$CK" = 1 ] || chown -R -h "$OWN" -- "$1" || exit 1; fi
  if [ -n "$GRP" ] && [ -n "$(find "$1" ! -group "$GRP" | head -n 1)" ]; then echo C; [ "$CK" = 1 ] || chgrp -R -h "$GRP" -- "$1" || exit 1; fi
  return 0
}
_sw_cpt() {
  mkdir -p -- "$(dirname -- "$2")" || exit 1
  if [ "$3" = 1 ]; then cp -R -P -p -- "$1" "$2" || exit 1; else cp -R -L -p -- "$1" "$2" || exit 1; fi
  if [ "$(id -u)" = 0 ]; then _g=$(id -g); [ -z "$(find "$2" \( ! -user 0 -o ! -group "$_g" \) | head -n 1)" ] || chown -R -h "0:$_g" -- "$2" || exit 1; fi
  _sw_chr "$2"
}
_sw_new() {
  if [ -L "$1" ]; then
    if [ -d "$1" ]; then
      case $LF in t) _sw_cpt "$1" "$2" 0;; f) ln -s -- "$(readlink -- "$1")" "$2" || exit 1;; esac
    elif [ -f "$1" ]; then
      case $LF in t) cat -- "$1" > "$2" || exit 1; _sw_chp "$2";; f) ln -s -- "$(readlink -- "$1")" "$2" || exit 1;; esac
    fi
  elif [ -f "$1" ]; then
    cat -- "$1" > "$2" && chmod "$(stat -c %a -- "$1")" -- "$2" || exit 1
    _sw_chp "$2"
  elif [ -d "$1" ]; then
    if [ "$LF" = t ]; then _sw_cpt "$1" "$2" 0; else _sw_cpt "$1" "$2" 1; fi
  fi
  return 0
}
_sw_dir() {
  for _p in "$1"/* "$1"/.[!.]* "$1"/..?*; do
    [ -e "$_p" ] || [ -L "$_p" ] || continue
    _n=${_p##*/}
    _q="$2/$_n"
    if [ -e "$_q" ] || [ -L "$_q" ]; then
      if [ -d "$_p" ] && [ -d "$_q" ]; then
        (_sw_dir "$_p" "$_q") || exit 1
      elif [ -f "$_p" ] && [ -f "$_q" ]; then
        if [ "$(stat -L -c '%s %y' -- "$_p")" != "$(stat -L -c '%s %y' -- "$_q")" ] && ! cmp -s -- "$_p" "$_q"; then
          echo C
          if [ "$CK" != 1 ]; then
            if [ -L "$_p" ] && [ "$LF" = f ]; then ln -s -- "$(readlink -- "$_p")" "$_q" || exit 1
            else cat -- "$_p" > "$_q" && chmod "$(stat -L -c %a -- "$_p")" -- "$_q" || exit 1; fi
            _sw_chp "$_q"
          fi
        fi
      fi
    else
      echo C
      [ "$CK" = 1 ] || _sw_new "$_p" "$_q"
    fi
  done
  return 0
}

"""#

extension CopyAction {
    /// `remote_src` with a directory as `src`: the copy module's directory branch, run on the target in
    /// one script (plus one to apply `mode`/`owner`/`group` to the top directory when they differ).
    func remoteCopyDirectory(src: String, dest: String, srcStat: RemoteStat, margs: ValueDict) async -> ModuleOutcome {
        func fail(_ message: String) -> ModuleOutcome { .result(moduleFailure(message, args: margs)) }
        var attrArgs = taskArgs
        if taskArgs["mode"]?.stringValue == "preserve" { attrArgs["mode"] = .string(srcStat.modeString) }
        let attrs = FileAttributes(attrArgs)
        // Owner and group as numbers (the lookups of a first script).
        var probe: RemoteProbe
        do {
            probe = RemoteProbe(try await runScript("_sw_id\n" + ownerLookupScript(attrs), context).stdout)
        } catch {
            return error.isConnectionFailure ? .unreachable(error.message) : fail(error.message)
        }
        var uid = "", gid = ""
        if let owner = attrs.owner {
            guard let u = Int(owner) ?? probe.other.last(where: { $0.hasPrefix("O:") }).flatMap({ Int($0.dropFirst(2)) }) else {
                return fail("chown failed: failed to look up user \(owner)")
            }
            uid = String(u)
        }
        if let group = attrs.group {
            guard let g = Int(group) ?? probe.other.last(where: { $0.hasPrefix("G:") }).flatMap({ Int($0.dropFirst(2)) }) else {
                return fail("chgrp failed: failed to look up group \(group)")
            }
            gid = String(g)
        }
        let check = context.checkMode
        let localFollow = ansibleBool(taskArgs["local_follow"])
        // The module's path arithmetic (os.path on the given strings).
        let moduleDest = dest.contains("/") ? dest : "./" + dest
        let joined = pythonJoin(moduleDest, pythonBasename(src))
        let treeDest = src.hasSuffix("/") ? dest : pythonJoin(dest, pythonBasename(src))

        var s = remoteCopyTreeFunctions + "set +e\n"
        s += "CK=\(check ? 1 : 0); LF=\(localFollow == nil ? "n" : localFollow! ? "t" : "f"); OWN=\(uid); GRP=\(gid)\n"
        s += "D=\(pathWord(moduleDest)); DN=\(pathWord(pythonDirname(moduleDest)))\n"
        if moduleDest.hasSuffix("/") {
            // A missing trailing-slash destination is created, each new directory with directory_mode/owner/group.
            let dirname = pythonDirname(moduleDest)
            s += "if [ ! -e \(pathWord(dirname)) ]; then\n"
            if check {
                s += "echo WOULD; exit 0\n"
            } else {
                var dirMode: UInt32?
                if let dm = taskArgs["directory_mode"], !dm.isNull {
                    let fresh = RemoteStat(exists: true, mode: 0o040000 | (0o777 & ~probe.identity.umask))
                    guard let m = try? resolveMode(dm, current: fresh, umask: probe.identity.umask) else {
                        return fail("mode must be in octal or symbolic form")
                    }
                    dirMode = m
                }
                var ancestors: [String] = []
                var cur = dirname
                while !cur.isEmpty, cur != "/", cur != "." {
                    ancestors.insert(cur, at: 0)
                    let up = pythonDirname(cur)
                    if up == cur { break }
                    cur = up
                }
                for a in ancestors {
                    s += "if [ ! -e \(pathWord(a)) ]; then mkdir -- \(pathWord(a)) || exit 1"
                    if let dirMode { s += "; chmod \(String(dirMode, radix: 8)) \(pathWord(a)) || exit 1" }
                    s += "; _sw_chp \(pathWord(a)); fi\n"
                }
                s += "echo C\n"
            }
            s += "fi\n"
        }
        s += "if [ -d \"$D\" ]; then D=\(pathWord(joined)); DN=\(pathWord(pythonDirname(joined))); fi\n"
        s += "if [ -e \"$D\" ]; then\n"
        if bool("follow", false) {
            s += "  if [ -L \"$D\" ]; then D=$(readlink -f -- \"$D\"); DN=$(dirname -- \"$D\"); fi\n"
        }
        if !bool("force", true) {
            s += "  echo EXISTS; echo \"DEST:$D\"; _sw_st TP \"$D\" 0 0; _sw_st TQ \"$D\" 1 0; exit 0\n"
        }
        s += "  if [ -r \"$D\" ] && [ -f \"$D\" ]; then echo \"FILE:$D\"; exit 0; fi\n"
        s += "else\n  [ -e \"$DN\" ] || { echo \"NODIR:$DN\"; exit 0; }\nfi\n"
        if !(ansibleBool(taskArgs["unsafe_writes"]) ?? false) {
            s += "[ -w \"$DN\" ] || { echo \"NOTW:$DN\"; exit 0; }\n"
        }
        s += "if [ -L \"$D\" ]; then echo \"FILE:$D\"; exit 0; fi\n"
        // copy_directory, when dest (as given) is a directory or missing.
        let t = pathWord(treeDest)
        s += "if [ -d \(pathWord(dest)) ] || [ ! -e \(pathWord(dest)) ]; then\n"
        s += "  if [ ! -e \(t) ]; then echo C; [ \"$CK\" = 1 ] || _sw_cpt \(pathWord(src)) \(t) \(localFollow == true ? 0 : 1)\n"
        s += "  else (_sw_dir \(pathWord(src)) \(t)) || exit 1; _sw_chr \(t); fi\n"
        s += "fi\n"
        s += "echo \"DEST:$D\"; _sw_st TP \"$D\" 0 0; _sw_st TQ \"$D\" 1 0\n"

        let out: ExecResult
        do {
            out = try await runScript(s, context)
        } catch {
            return error.isConnectionFailure ? .unreachable(error.message) : fail(error.message)
        }
        let lines = RemoteProbe(out.stdout)
        func marker(_ name: String) -> String? {
            lines.other.first(where: { $0.hasPrefix(name + ":") }).map { String($0.dropFirst(name.count + 1)) }
        }
        if out.exitStatus != 0 {
            return fail(errorText(out).isEmpty ? "Failed to copy \(src) to \(dest)" : errorText(out))
        }
        if lines.other.contains("WOULD") {
            return .result(["changed": true, "msg": .string("dest directory \(pythonDirname(moduleDest)) would be created"),
                            "src": .string(src), "invocation": ["module_args": .dict(margs)]])
        }
        if let dir = marker("NODIR") { return fail("Destination directory \(dir) does not exist") }
        if let dir = marker("NOTW") { return fail("Destination \(dir) not writable") }
        if let file = marker("FILE") {
            return fail("Could not replace file: \(src) to \(file): [Errno 20] Not a directory: b'\(src)' -> b'\(file)'")
        }
        let finalDest = marker("DEST") ?? moduleDest
        let current = lines["TP"]
        var r: ValueDict = ["src": .string(src), "dest": .string(finalDest)]
        if lines.other.contains("EXISTS") {
            r["changed"] = false
            r["msg"] = "file already exists"
            current.pathInfo(into: &r, followed: lines["TQ"])
            r["invocation"] = ["module_args": .dict(margs)]
            return .result(r)
        }
        var changed = lines.other.contains("C")
        r["checksum"] = .null
        r["md5sum"] = .null
        var info = (current, lines["TQ"])
        if current.exists {
            // set_fs_attributes_if_different on the top directory.
            let plan = planAttributes(attrs, word: pathWord(finalDest), current: current, probe: probe)
            if let e = plan.error {
                var f = moduleFailure(e, args: margs, extra: plan.errorExtra(finalDest))
                current.pathInfo(into: &f)
                return .result(f)
            }
            changed = changed || plan.changed
            if plan.changed && !check {
                let script = plan.commands.map { $0 + " || exit 1\n" }.joined()
                    + "_sw_st TP \(pathWord(finalDest)) 0 0\n_sw_st TQ \(pathWord(finalDest)) 1 0\n"
                do {
                    let o = try await runScript(script, context)
                    if o.exitStatus != 0 { return fail(errorText(o)) }
                    let p = RemoteProbe(o.stdout)
                    info = (p["TP"], p["TQ"])
                } catch {
                    return error.isConnectionFailure ? .unreachable(error.message) : fail(error.message)
                }
            }
        }
        r["changed"] = .bool(changed)
        info.0.pathInfo(into: &r, followed: info.1)
        r["invocation"] = ["module_args": .dict(margs)]
        return .result(r)
    }
}
