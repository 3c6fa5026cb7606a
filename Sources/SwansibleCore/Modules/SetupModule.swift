import SwansibleData
import SwansibleSSH
import Foundation

/// `setup` (and the `gather_facts` action that runs it): ansible-core's facts, without Python on the host.
///
/// One POSIX shell command (bash, dash, BusyBox ash) reads what ansible-core's fact collectors read — files under
/// /etc, /proc and /sys, and the output of `uname`, `id`, `getent`, `ip`, `stat -f`, ... — and prints it as
/// framed records (``FactSnapshot``). The controller then computes the facts from that snapshot with the rules of
/// ansible-core's Linux collectors (``FactCollectors``). Only the collectors that `gather_subset` selects are
/// read and computed; `filter` then keeps the matching top-level keys. Docs/facts.md lists the keys.
struct SetupModule: Module {
    static let argumentNames = ["fact_path", "filter", "gather_subset", "gather_timeout"]

    /// Run as the `gather_facts` action (also the implicit "Gathering Facts" task): ansible-core's action plugin
    /// takes `parallel` itself and reports a failed setup inside `failed_modules`.
    var asGatherFactsAction = false

    func run(_ rawArgs: ValueDict, _ context: ModuleContext) async -> ModuleOutcome {
        var rawArgs = rawArgs
        if asGatherFactsAction { rawArgs.removeValue(forKey: "parallel") }
        let outcome = await gather(rawArgs, context)
        guard asGatherFactsAction, case .result(let r) = outcome, r["failed"]?.boolValue == true else { return outcome }
        // What the gather_facts action reports when its setup module failed.
        var module = ValueDict()
        module["exception"] = "(traceback unavailable)"
        module["failed"] = true
        var invocation = ValueDict()
        for (k, v) in rawArgs { invocation[k] = v }
        invocation["fact_path"] = rawArgs["fact_path"] ?? "/etc/ansible/facts.d"
        invocation["filter"] = rawArgs["filter"].map { v in (try? Self.stringList(v, name: "filter")).flatMap { $0 }.map { .list($0.map(Value.string)) } ?? v } ?? []
        invocation["gather_subset"] = rawArgs["gather_subset"].map { v in (try? Self.stringList(v, name: "gather_subset")).flatMap { $0 }.map { .list($0.map(Value.string)) } ?? v } ?? ["all"]
        invocation["gather_timeout"] = rawArgs["gather_timeout"] ?? 10
        module["invocation"] = ["module_args": .dict(invocation)]
        module["msg"] = .string((r["msg"]?.stringValue ?? "").replacingOccurrences(
            of: "Unsupported parameters for (setup) module", with: "Unsupported parameters for (ansible.legacy.setup) module"))
        var wrapped = ValueDict()
        wrapped["_ansible_verbose_override"] = true
        wrapped["exception"] = "(traceback unavailable)"
        wrapped["ansible_facts"] = .dict([:])
        wrapped["changed"] = false
        wrapped["failed"] = true
        wrapped["failed_modules"] = ["ansible.legacy.setup": .dict(module)]
        wrapped["msg"] = "The following modules failed to execute: ansible.legacy.setup."
        // ansible-core's error: the action failed, caused by the modules, each as a sub-event.
        let event = (module["msg"]?.stringValue ?? "").split(separator: "\n", omittingEmptySubsequences: false)
            .map { "| " + $0 }.joined(separator: "\n")
        wrapped["_swansible_task_error"] = "Action failed: The following modules failed to execute: ansible.legacy.setup."
        wrapped["_swansible_error_causes"] = [
            "Task failed: Action failed.",
            .string("The following modules failed to execute: ansible.legacy.setup.\n\n+--[ Sub-Event 1 of 1 ]---\n| \n"
                + event + "\n| \n+--[ End Sub-Event ]---"),
        ]
        return .result(wrapped)
    }

    private func gather(_ rawArgs: ValueDict, _ context: ModuleContext) async -> ModuleOutcome {
        for key in rawArgs.keys where !Self.argumentNames.contains(key) {
            return .result(failure(
                "Unsupported parameters for (setup) module: \(key). Supported parameters include: "
                    + Self.argumentNames.joined(separator: ", ") + "."))
        }
        let subset: [String]
        let filter: [String]
        do {
            subset = try Self.stringList(rawArgs["gather_subset"], name: "gather_subset") ?? ["all"]
            filter = try Self.stringList(rawArgs["filter"], name: "filter") ?? []
        } catch {
            return .result(failure(error.message))
        }
        let factPath = rawArgs["fact_path"].flatMap { $0.stringValue ?? ($0.isNull ? nil : $0.json()) }
            ?? "/etc/ansible/facts.d"
        if let timeout = rawArgs["gather_timeout"], !timeout.isNull, timeout.intValue == nil,
            Int(timeout.stringValue ?? "") == nil
        {
            return .result(failure(
                "argument 'gather_timeout' is of type \(timeout.pythonTypeName) and we were unable to convert to int: "
                    + "'\(timeout.pythonTypeName)' cannot be converted to an int"))
        }

        let collectors: Set<FactCollector>
        do {
            collectors = try FactSubsets.collectors(for: subset)
        } catch {
            return .result(failure(error.message))
        }

        var facts = ValueDict()
        if !collectors.isEmpty {
            let marker = "@@SWF\(String(UInt64.random(in: 1...UInt64.max), radix: 16))@@"
            let script = FactScript.build(collectors, marker: marker, factPath: factPath)
            let result: ExecResult
            do {
                result = try await context.connection.exec(
                    "/bin/sh -c " + shellQuote(script), input: .none, timeout: context.timeout,
                    become: context.become,
                    // ansible-core runs every module with its module locale (LANG/LC_ALL C.UTF-8); the env facts
                    // show it.
                    environment: [("LANG", "C.UTF-8"), ("LC_ALL", "C.UTF-8")] + context.environment)
            } catch {
                if error.isConnectionFailure { return .unreachable(error.message) }
                return .result(failure(error.kind == .timeout ? "The fact gathering command timed out." : error.message))
            }
            let snapshot = FactSnapshot(output: result.stdout, marker: marker)
            guard snapshot.complete else {
                var r = failure("Fact gathering failed: the remote shell did not finish its command (rc=\(result.returnCode)).")
                r["rc"] = .int(result.returnCode)
                r["module_stderr"] = .unsafe(outputText(result.stderr))
                r["module_stdout"] = .unsafe(outputText(result.stdout))
                return .result(r)
            }
            var collector = FactCollectors(snapshot: snapshot)
            let computed = collector.collect(collectors)
            for (key, value) in computed { facts["ansible_" + key] = value }
        }
        facts["gather_subset"] = .list(subset.map(Value.string))
        facts["module_setup"] = true
        // The filter applies to the meta facts too (ansible-core filters the collected dict as a whole).
        facts = FactSubsets.filter(facts, filter)

        var r = ValueDict()
        r["ansible_facts"] = .dict(facts)
        r["changed"] = false
        // ansible-core's normal action plugin marks setup results so that -v does not print the facts.
        r["_ansible_verbose_override"] = true
        return .result(r)
    }

    private func failure(_ message: String) -> ValueDict {
        ["changed": false, "failed": true, "msg": .string(message)]
    }

    /// A `type='list', elements='str'` option: a list, or a comma-separated string.
    static func stringList(_ value: Value?, name: String) throws(ArgumentError) -> [String]? {
        guard let value, !value.isNull else { return nil }
        switch value {
        case .list(let items):
            return items.map { $0.stringValue ?? $0.json() }
        case .string(let s), .unsafe(let s):
            return s.split(separator: ",", omittingEmptySubsequences: false).map {
                String($0).trimmingCharacters(in: .whitespaces)
            }
        case .int, .float, .bool:
            return [value.json()]
        default:
            throw ArgumentError(
                "Elements value for option '\(name)' is of type \(value.pythonTypeName) and we were unable to "
                    + "convert to list: \(value.pythonTypeName) cannot be converted to a list")
        }
    }
}

/// ansible-core's fact collectors (the Linux ones swansible implements).
enum FactCollector: String, CaseIterable, Hashable, Sendable {
    case platform, distribution, lsb, selinux, apparmor, chroot, fips, caps, pkgMgr = "pkg_mgr"
    case serviceMgr = "service_mgr", cmdline, dateTime = "date_time", env, loadavg
    case sshPubKeys = "ssh_pub_keys", user, systemd, virtual, hardware, dns
    case fibreChannelWWN = "fibre_channel_wwn", network, iscsi, nvme, local
}

/// `gather_subset` and `filter` as ansible-core's setup module applies them.
enum FactSubsets {
    /// `minimal_gather_subset` of the setup module (without `python`, which swansible does not gather).
    static let minimal: Set<String> = [
        "apparmor", "caps", "cmdline", "date_time", "distribution", "dns", "env", "fips", "local", "lsb", "pkg_mgr",
        "platform", "python", "selinux", "service_mgr", "ssh_pub_keys", "user",
    ]

    /// Subset names (collector names and their fact ids) → the collector that gathers them. `python`, `facter` and
    /// `ohai` are valid names that select nothing here.
    static let aliases: [String: FactCollector?] = {
        var map: [String: FactCollector?] = [:]
        for c in FactCollector.allCases { map[c.rawValue] = c }
        let ids: [FactCollector: [String]] = [
            .platform: ["system", "kernel", "kernel_version", "machine", "python_version", "architecture", "machine_id"],
            .distribution: ["distribution_version", "distribution_release", "distribution_major_version", "os_family"],
            .chroot: ["is_chroot"],
            .caps: ["system_capabilities", "system_capabilities_enforced"],
            .sshPubKeys: [
                "ssh_host_pub_keys", "ssh_host_key_dsa_public", "ssh_host_key_rsa_public", "ssh_host_key_ecdsa_public",
                "ssh_host_key_ed25519_public",
            ],
            .user: [
                "user_id", "user_uid", "user_gid", "user_gecos", "user_dir", "user_shell", "real_user_id",
                "effective_user_id", "effective_group_ids",
            ],
            .virtual: [
                "virtualization_type", "virtualization_role", "virtualization_tech_guest", "virtualization_tech_host",
            ],
            .hardware: ["processor", "processor_cores", "processor_count", "mounts", "devices"],
            .network: ["interfaces", "default_ipv4", "default_ipv6", "all_ipv4_addresses", "all_ipv6_addresses"],
        ]
        for (c, names) in ids { for n in names { map[n] = c } }
        for n in ["python", "facter", "ohai"] { map[n] = .some(nil) }
        return map
    }()

    /// The fact ids of each collector name (what `!name` also excludes).
    static func factIDs(of name: String) -> Set<String> {
        guard let c = FactCollector(rawValue: name) else { return [] }
        return Set(aliases.compactMap { $0.value == c && $0.key != name ? $0.key : nil })
    }

    static let requires: [FactCollector: [FactCollector]] = [
        .network: [.distribution, .platform], .hardware: [.platform], .pkgMgr: [.distribution],
        .serviceMgr: [.platform, .distribution],
    ]

    /// `get_collector_names` plus dependencies: the collectors that run for a `gather_subset`.
    static func collectors(for subset: [String]) throws(ArgumentError) -> Set<FactCollector> {
        let valid = Set(aliases.keys)
        var additional = Set<String>()
        var exclude = Set<String>()
        var explicit = Set<String>()
        for item in ["min"] + subset {
            if item == "min" { additional.formUnion(minimal); continue }
            if item == "all" { additional.formUnion(valid); continue }
            if item.hasPrefix("!") {
                let name = String(item.dropFirst())
                if name == "min" { exclude.formUnion(minimal); continue }
                if name == "all" { exclude.formUnion(valid.subtracting(minimal)); continue }
                exclude.formUnion(factIDs(of: name))
                exclude.insert(name)
            } else {
                guard valid.contains(item) else {
                    throw ArgumentError(
                        "Bad subset '\(item)' given to Ansible. gather_subset options allowed: all, "
                            + valid.sorted().joined(separator: ", "))
                }
                explicit.insert(item)
                additional.insert(item)
            }
        }
        if additional.isEmpty { additional = valid }
        additional.subtract(exclude.subtracting(explicit))
        var result = Set<FactCollector>()
        for name in additional { if let c = aliases[name], let c { result.insert(c) } }
        var pending = Array(result)
        while let c = pending.popLast() {
            for dep in requires[c] ?? [] where !result.contains(dep) {
                result.insert(dep)
                pending.append(dep)
            }
        }
        // systemd facts come with the service manager's.
        if result.contains(.systemd) || (result.contains(.serviceMgr) && additional.contains("systemd")) {
            result.insert(.systemd)
        }
        return result
    }

    /// `filter`: top-level keys matching one of the fnmatch patterns (also with `ansible_` put before a pattern
    /// that has no such prefix). An empty filter or `*` keeps everything.
    static func filter(_ facts: ValueDict, _ patterns: [String]) -> ValueDict {
        if patterns.isEmpty || patterns == ["*"] { return facts }
        var out = ValueDict()
        for pattern in patterns {
            for (key, value) in facts {
                if pattern.isEmpty || fnmatch(pattern, key) {
                    out[key] = value
                } else if !(pattern.hasPrefix("ansible_") || pattern.hasPrefix("facter") || pattern.hasPrefix("ohai")),
                    fnmatch("ansible_" + pattern, key)
                {
                    out[key] = value
                }
            }
        }
        return out
    }

    /// Python's `fnmatch.fnmatch` on POSIX (case-sensitive): `*`, `?`, `[seq]`, `[!seq]`.
    static func fnmatch(_ pattern: String, _ name: String) -> Bool {
        let p = Array(pattern.unicodeScalars), s = Array(name.unicodeScalars)
        func match(_ pi: Int, _ si: Int) -> Bool {
            var pi = pi, si = si
            while pi < p.count {
                switch p[pi] {
                case "*":
                    while pi < p.count && p[pi] == "*" { pi += 1 }
                    if pi == p.count { return true }
                    for k in si...s.count where match(pi, k) { return true }
                    return false
                case "?":
                    guard si < s.count else { return false }
                    pi += 1; si += 1
                case "[":
                    var j = pi + 1
                    if j < p.count && p[j] == "!" { j += 1 }
                    if j < p.count && p[j] == "]" { j += 1 }
                    while j < p.count && p[j] != "]" { j += 1 }
                    if j >= p.count {
                        // No closing bracket: a literal `[`.
                        guard si < s.count, s[si] == "[" else { return false }
                        pi += 1; si += 1
                        continue
                    }
                    guard si < s.count else { return false }
                    var k = pi + 1
                    let negate = p[k] == "!"
                    if negate { k += 1 }
                    var found = false
                    while k < j {
                        let lo = p[k]
                        if k + 2 < j, p[k + 1] == "-" {
                            if lo.value <= s[si].value && s[si].value <= p[k + 2].value { found = true }
                            k += 3
                        } else {
                            if lo == s[si] { found = true }
                            k += 1
                        }
                    }
                    if found == negate { return false }
                    pi = j + 1; si += 1
                default:
                    guard si < s.count, s[si] == p[pi] else { return false }
                    pi += 1; si += 1
                }
            }
            return si == s.count
        }
        return match(0, 0)
    }
}

/// The one remote command: a POSIX shell script that prints framed records.
///
/// Every record is `\n<marker> <kind> <name>\n` followed by its body, up to the next record: `F path` a file's
/// content, `E path` a path that exists, `L path` a symlink's target, `D path` a directory's entries (one a line),
/// `H name` a program found on PATH (+ sbin directories, as ansible's get_bin_path), `C name` a command's stdout
/// followed by `R name rc`, `N env`/`V env` the environment (NUL-separated from /proc, or `env` output), and
/// `Z end` as the last record, so a truncated run is recognised. The marker is random per run, so no file content
/// can fake a record.
enum FactScript {
    static let helpers = #"""
        exec 2>/dev/null
        h() { printf '\n%s %s %s\n' "$M" "$1" "$2"; }
        F() { [ -f "$1" ] && [ -r "$1" ] && { h F "$1"; cat "$1"; }; return 0; }
        R() { _v=; [ -r "$1" ] && [ ! -d "$1" ] || return 0; if IFS= read -r _v < "$1" || [ -n "$_v" ]; then h F "$1"; printf '%s\n' "$_v"; fi; return 0; }
        E() { for _x in "$@"; do [ -e "$_x" ] && h E "$_x"; done; return 0; }
        K() { [ -L "$1" ] && { h L "$1"; readlink "$1"; }; return 0; }
        Ls() { [ -d "$1" ] || return 0; h D "$1"; for _e in "$1"/* "$1"/.[!.]*; do { [ -e "$_e" ] || [ -L "$_e" ]; } && printf '%s\n' "${_e##*/}"; done; return 0; }
        have() { command -v "$1" >/dev/null 2>&1; }
        H() { for _x in "$@"; do have "$_x" && h H "$_x"; done; return 0; }
        C() { _n=$1; shift; h C "$_n"; "$@"; _r=$?; h R "$_n $_r"; return $_r; }
        """#

    static func build(_ collectors: Set<FactCollector>, marker: String, factPath: String) -> String {
        var s = "M=\(marker)\n" + helpers + "\n"
        // The environment first, before anything below changes it.
        s += #"if [ -r /proc/$$/environ ]; then h N env; cat /proc/$$/environ; else h V env; env; fi"# + "\n"
        s += "PATH=\"$PATH:/sbin:/usr/sbin:/usr/local/sbin\"\n"
        let needDistribution = collectors.contains(.distribution) || collectors.contains(.lsb)
        if collectors.contains(.platform) || collectors.contains(.distribution) || collectors.contains(.serviceMgr) {
            s += #"""
                C uname_s uname -s; C uname_r uname -r; C uname_v uname -v; C uname_m uname -m; C uname_n uname -n
                H getconf getent; have getconf && C long_bit getconf LONG_BIT
                if have getent; then _a=$(getent ahosts "$(uname -n)" | head -n 1); _a=${_a%% *}; [ -n "$_a" ] && C fqdn getent hosts "$_a"; fi
                F /var/lib/dbus/machine-id; F /etc/machine-id

                """#
        }
        if needDistribution {
            s += #"""
                for _f in /etc/os-release /usr/lib/os-release /etc/lsb-release /etc/debian_version /etc/altlinux-release /etc/oracle-release /etc/slackware-version /etc/centos-release /etc/redhat-release /etc/vmware-release /etc/openwrt_release /etc/system-release /etc/alpine-release /etc/arch-release /etc/SuSE-release /etc/gentoo-release /etc/sourcemage-release /usr/lib/os-release /etc/coreos/update.conf; do F "$_f"; done
                for _f in /etc/*-release /etc/*_release /etc/*-version /etc/*_version; do F "$_f"; done
                K /etc/products.d/baseproduct
                H lsb_release && C lsb lsb_release -a

                """#
        }
        if collectors.contains(.user) {
            s += #"""
                C id_ru id -ru; C id_u id -u; C id_rg id -rg; C id_un id -un
                _n=${LOGNAME:-${USER:-${LNAME:-${USERNAME:-}}}}
                if have getent; then h H getent; [ -n "$_n" ] && C pwnam getent passwd "$_n"; C pwuid getent passwd "$(id -ru)"; else F /etc/passwd; fi

                """#
        }
        if collectors.contains(.dateTime) {
            s += #"""
                C date env LC_ALL=C date '+%Y|%m|%A|%w|%W|%d|%H|%M|%S|%s|%Z|%z|%N'
                _y=$(date +%Y); C tz_jan env LC_ALL=C date -d "$_y-01-01 12:00" '+%Z|%z'; C tz_jul env LC_ALL=C date -d "$_y-07-01 12:00" '+%Z|%z'

                """#
        }
        if collectors.contains(.cmdline) { s += "F /proc/cmdline\n" }
        if collectors.contains(.fips) { s += "F /proc/sys/crypto/fips_enabled\n" }
        if collectors.contains(.dns) { s += "F /etc/resolv.conf\n" }
        if collectors.contains(.apparmor) { s += "E /sys/kernel/security/apparmor\n" }
        if collectors.contains(.selinux) {
            s += "E /sys/fs/selinux/enforce; F /sys/fs/selinux/enforce; F /sys/fs/selinux/policyvers; F /etc/selinux/config\n"
        }
        if collectors.contains(.caps) { s += "H capsh && C caps capsh --print\n" }
        if collectors.contains(.chroot) {
            s += #"""
                C stat_root stat -L -c '%i %d' /; C stat_proc1 stat -L -c '%i %d' /proc/1/root/.; H stat && C stat_fs stat -f -c %T /

                """#
        }
        if collectors.contains(.loadavg) { s += "F /proc/loadavg\n" }
        if collectors.contains(.pkgMgr) {
            let paths = FactCollectors.packageManagers.map(\.path) + ["/run/ostree-booted", "/usr/bin/dnf", "/usr/bin/microdnf", "/usr/bin/rpm"]
            s += "E " + paths.map(shellQuote).joined(separator: " ") + "\n"
            s += #"for _x in /usr/bin/dnf /usr/bin/microdnf; do [ -e "$_x" ] && { h L "$_x"; readlink -f "$_x"; }; done"# + "\n"
            s += "[ -e /usr/bin/rpm ] && [ -e /usr/bin/apt-get ] && C rpm_apt /usr/bin/rpm -q --whatprovides /usr/bin/apt-get\n"
        }
        if collectors.contains(.serviceMgr) || collectors.contains(.systemd) {
            s += #"""
                if [ -r /proc/1/comm ]; then F /proc/1/comm; else C ps1 sh -c 'ps -p 1 -o comm|tail -n 1'; fi
                K /sbin/init; H systemctl initctl
                E /run/systemd/system/ /dev/.run/systemd/ /dev/.systemd/ /etc/init/ /sbin/openrc /etc/init.d/ /etc/dinit.d/
                have systemctl && { [ -e /run/systemd/system/ ] || [ -e /dev/.run/systemd/ ] || [ -e /dev/.systemd/ ]; } && C systemctl_version systemctl --version

                """#
        }
        if collectors.contains(.sshPubKeys) {
            s += #"for _d in /etc/ssh /etc/openssh /etc; do for _k in dsa rsa ecdsa ed25519; do F "$_d/ssh_host_${_k}_key.pub"; done; done"#
                + "\n"
        }
        if collectors.contains(.local) {
            s += "_fp=\(shellQuote(factPath))\n"
            s += #"""
                if [ -e "$_fp" ]; then h E "$_fp"; for _f in "$_fp"/*.fact; do [ -e "$_f" ] || continue; if [ -x "$_f" ]; then C "local $_f" "$_f"; else h E "$_f"; F "$_f"; fi; done; fi

                """#
        }
        if collectors.contains(.hardware) || collectors.contains(.virtual) {
            s += "F /proc/cpuinfo; F /proc/self/status\n"
            s += "for _k in " + FactCollectors.dmiFiles.map(\.file).joined(separator: " ")
                + #" product_family; do R "/sys/devices/virtual/dmi/id/$_k"; done"# + "\n"
            s += "E /sys/devices/virtual/dmi/id/product_name; H dmidecode\n"
        }
        if collectors.contains(.hardware) {
            s += "F /proc/meminfo; E /proc/xen; F /sys/hypervisor/type; F /proc/sysinfo; F /proc/uptime\n"
            s += "H nproc && C nproc nproc\n"
            s += "if [ ! -e /sys/devices/virtual/dmi/id/product_name ] && have dmidecode; then for _k in "
                + FactCollectors.dmiFiles.map(\.keyword).joined(separator: " ")
                + #"; do C "dmi $_k" dmidecode -s "$_k"; done; fi"# + "\n"
            s += #"""
                H vgs lvs pvs lspci sg_inq findmnt lsblk udevadm
                if [ "$(id -u)" = 0 ] && have vgs; then C vgs vgs --noheadings --nosuffix --units g --separator ,; have lvs && C lvs lvs --noheadings --nosuffix --units g --separator ,; have pvs && C pvs pvs --noheadings --nosuffix --units g --separator ,; fi
                have lspci && C lspci lspci -D
                if [ -d /sys/block ]; then
                  h E /sys/block
                  for _l in /dev/disk/by-id /dev/disk/by-uuid /dev/disk/by-label; do [ -d "$_l" ] && { h E "$_l"; for _e in "$_l"/*; do K "$_e"; done; }; done
                  for _e in /sys/block/*/slaves/*; do E "$_e"; done
                  for _b in /sys/block/*; do
                    [ -e "$_b" ] || [ -L "$_b" ] || continue
                    _n=${_b##*/}
                    if [ -L "$_b" ]; then _t=$(readlink "$_b"); h L "$_b"; printf '%s\n' "$_t"; _d="/sys/block/$_t"; else _d=$_b; h E "$_b"; Ls "$_d"; fi
                    for _k in device/vendor device/model device/sas_address device/sas_device_handle device/serial removable queue/discard_max_hw_bytes queue/discard_granularity queue/rotational queue/scheduler queue/logical_block_size queue/hw_sector_size size; do R "$_d/$_k"; done
                    for _x in "$_d"/holders/*; do [ -e "$_x" ] && { h E "$_x"; R "$_x/dm/name"; }; done
                    for _p in "$_d/$_n"*; do [ -d "$_p" ] || continue; h E "$_p"; for _k in start queue/logical_block_size queue/hw_sector_size size; do R "$_p/$_k"; done; for _x in "$_p"/holders/*; do [ -e "$_x" ] && { h E "$_x"; R "$_x/dm/name"; }; done; done
                    have sg_inq && C "sg_inq $_n" sg_inq "/dev/$_n"
                  done
                fi
                have findmnt && C findmnt findmnt --list --noheadings --notruncate
                have lsblk && C lsblk lsblk --list --noheadings --paths --output NAME,UUID --exclude 2
                if [ -e /etc/mtab ]; then _m=/etc/mtab; else _m=/proc/mounts; fi
                h E "$_m"; F "$_m"
                if [ -r "$_m" ]; then
                  while read -r _dev _mnt _fs _rest; do
                    case "$_dev" in /*|\\*|*:/*) ;; *) continue;; esac
                    [ "$_fs" = none ] && continue
                    _p=$_mnt
                    case "$_p" in *\\*) _p=$(printf '%s' "$_p" | sed 's/\\\([0-7][0-7][0-7]\)/\\0\1/g'); _p=$(printf '%b' "$_p");; esac
                    C "statfs $_mnt" stat -f -c '%S %s %b %a %c %d' "$_p"
                    have udevadm && C "udev $_dev" udevadm info --query property --name "$_dev"
                  done < "$_m"
                fi

                """#
        }
        if collectors.contains(.virtual) {
            s += #"""
                F /proc/1/cgroup; F /proc/1/environ; F /run/systemd/container; F /proc/xen/capabilities
                E /proc/vz /proc/lve /proc/bc /.dockerenv /.dockerinit /proc/xen /dev/kvm /proc/cpuinfo
                [ -r /proc/modules ] && F /proc/modules
                if [ -d /rhev/ ]; then h E /rhev/; for _x in /proc/[0-9]*/comm; do R "$_x"; done; fi
                have dmidecode && C dmi_spn dmidecode -s system-product-name

                """#
        }
        if collectors.contains(.network) {
            s += #"""
                if have ip; then
                  h H ip
                  C route_v4 ip -4 route get 8.8.8.8; C route_v6 ip -6 route get 2404:6800:400a:800::1012
                  C local_v4 ip -4 route show table local; C local_v6 ip -6 route show table local
                  H ethtool
                  for _i in /sys/class/net/*; do
                    [ -d "$_i" ] || continue
                    _n=${_i##*/}; h E "$_i"
                    for _k in address mtu operstate type speed flags; do R "$_i/$_k"; done
                    [ -e "$_i/device/driver/module" ] && { h L "$_i/device/driver/module"; readlink -f "$_i/device/driver/module"; }
                    [ -e "$_i/bridge" ] && { h E "$_i/bridge"; R "$_i/bridge/bridge_id"; R "$_i/bridge/stp_state"; Ls "$_i/brif"; }
                    [ -e "$_i/bonding" ] && { h E "$_i/bonding"; for _k in slaves mode miimon lacp_rate primary all_slaves_active; do R "$_i/bonding/$_k"; done; }
                    [ -e "$_i/bonding_slave" ] && { h E "$_i/bonding_slave"; R "$_i/bonding_slave/perm_hwaddr"; }
                    [ -e "$_i/device" ] && K "$_i/device"
                    C "primary $_n" ip addr show primary dev "$_n" || C "all $_n" ip addr show dev "$_n"
                    C "secondary $_n" ip addr show secondary dev "$_n"
                    if have ethtool; then C "ethtool-k $_n" ethtool -k "$_n"; C "ethtool-T $_n" ethtool -T "$_n"; fi
                  done
                fi

                """#
        }
        if collectors.contains(.fibreChannelWWN) {
            s += #"for _x in /sys/class/fc_host/*/port_name; do F "$_x"; done"# + "\n"
        }
        if collectors.contains(.iscsi) { s += "F /etc/iscsi/initiatorname.iscsi\n" }
        if collectors.contains(.nvme) { s += "F /etc/nvme/hostnqn\n" }
        s += "h Z end\n"
        return s
    }
}

/// The records a run of ``FactScript`` printed.
struct FactSnapshot {
    var files: [String: String] = [:]
    var exists: Set<String> = []
    var links: [String: String] = [:]
    var directories: [String: [String]] = [:]
    var programs: Set<String> = []
    var commands: [String: (output: String, rc: Int)] = [:]
    var environment: [(String, String)] = []
    var complete = false

    init(output: [UInt8], marker: String) {
        let text = String(decoding: output, as: UTF8.self)
        let chunks = text.components(separatedBy: "\n" + marker + " ")
        var pendingCommand: String?
        var pendingOutput = ""
        for chunk in chunks.dropFirst() {
            let header: Substring
            let body: String
            if let nl = chunk.firstIndex(of: "\n") {
                header = chunk[..<nl]
                body = String(chunk[chunk.index(after: nl)...])
            } else {
                header = Substring(chunk)
                body = ""
            }
            let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
            let kind = parts.first.map(String.init) ?? ""
            let name = parts.count > 1 ? String(parts[1]) : ""
            switch kind {
            case "F": files[name] = body
            case "E": exists.insert(name)
            case "L": links[name] = stripTrailingNewlines(body)
            case "D": directories[name] = body.split(separator: "\n").map(String.init)
            case "H": programs.insert(name)
            case "C":
                pendingCommand = name
                pendingOutput = body
            case "R":
                if let space = name.lastIndex(of: " "), let command = pendingCommand,
                    String(name[..<space]) == command
                {
                    commands[command] = (pendingOutput, Int(name[name.index(after: space)...]) ?? 1)
                }
                pendingCommand = nil
            case "N":
                environment = body.split(separator: "\0").compactMap { entry in
                    guard let eq = entry.firstIndex(of: "=") else { return nil }
                    return (String(entry[..<eq]), String(entry[entry.index(after: eq)...]))
                }
            case "V":
                environment = body.split(separator: "\n").compactMap { entry in
                    guard let eq = entry.firstIndex(of: "=") else { return nil }
                    return (String(entry[..<eq]), String(entry[entry.index(after: eq)...]))
                }
            case "Z": complete = true
            default: break
            }
        }
    }

    /// ansible's `get_file_content(path)`: the stripped content, nil when missing or empty.
    func content(_ path: String) -> String? {
        guard let raw = files[path] else { return nil }
        let stripped = raw.pythonStripped()
        return stripped.isEmpty ? nil : stripped
    }

    /// `get_file_lines`: the content's lines (none when missing).
    func lines(_ path: String) -> [String] {
        guard let c = content(path) else { return [] }
        return pythonSplitLines(c)
    }

    func exists(_ path: String) -> Bool { exists.contains(path) || files[path] != nil || links[path] != nil }

    /// A command's output when it exited 0.
    func output(_ name: String) -> String? {
        guard let c = commands[name], c.rc == 0 else { return nil }
        return c.output
    }
}
