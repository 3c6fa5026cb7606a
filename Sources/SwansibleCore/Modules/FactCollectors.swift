import SwansibleData
import Foundation

/// Computes ansible-core's Linux facts (keys without the `ansible_` prefix) from a ``FactSnapshot``, following
/// the rules of ansible-core's fact collectors (module_utils/facts/*) so the values match what setup returns.
struct FactCollectors {
    let snap: FactSnapshot
    var facts = ValueDict()

    init(snapshot: FactSnapshot) { self.snap = snapshot }

    static func text(_ s: String) -> Value { .unsafe(s) }

    mutating func collect(_ collectors: Set<FactCollector>) -> ValueDict {
        // Dependency order (ansible collects platform and distribution before the collectors that need them).
        let order: [FactCollector] = [
            .platform, .distribution, .lsb, .selinux, .apparmor, .chroot, .fips, .caps, .pkgMgr, .serviceMgr,
            .cmdline, .dateTime, .env, .loadavg, .sshPubKeys, .user, .systemd, .virtual, .hardware, .dns,
            .fibreChannelWWN, .network, .iscsi, .nvme, .local,
        ]
        for c in order where collectors.contains(c) {
            switch c {
            case .platform: platform()
            case .distribution: distribution()
            case .lsb: lsb()
            case .selinux: selinux()
            case .apparmor:
                facts["apparmor"] = ["status": snap.exists("/sys/kernel/security/apparmor") ? "enabled" : "disabled"]
            case .chroot: chroot()
            case .fips: facts["fips"] = .bool(snap.content("/proc/sys/crypto/fips_enabled") == "1")
            case .caps: caps()
            case .pkgMgr: pkgMgr()
            case .serviceMgr: serviceMgr()
            case .cmdline: cmdline()
            case .dateTime: dateTime()
            case .env: facts["env"] = .dict(ValueDict(snap.environment.map { ($0.0, Self.text($0.1)) }, uniquingKeysWith: { $1 }))
            case .loadavg: loadavg()
            case .sshPubKeys: sshPubKeys()
            case .user: user()
            case .systemd: systemd()
            case .virtual: virtual()
            case .hardware: hardware()
            case .dns: dns()
            case .fibreChannelWWN:
                var wwns: [Value] = []
                for (path, _) in snap.files.sorted(by: { $0.key < $1.key })
                where path.hasPrefix("/sys/class/fc_host/") && path.hasSuffix("/port_name") {
                    for line in snap.lines(path) { wwns.append(Self.text(String(line.pythonRStripped().dropFirst(2)))) }
                }
                facts["fibre_channel_wwn"] = .list(wwns)
            case .network: network()
            case .iscsi:
                var iqn = ""
                for line in pythonSplitLines(snap.files["/etc/iscsi/initiatorname.iscsi"].map { $0.pythonStripped() } ?? "")
                where line.hasPrefix("InitiatorName=") {
                    iqn = String(line.dropFirst("InitiatorName=".count))
                    break
                }
                facts["iscsi_iqn"] = Self.text(iqn)
            case .nvme:
                var nqn = ""
                for line in pythonSplitLines(snap.files["/etc/nvme/hostnqn"].map { $0.pythonStripped() } ?? "")
                where line.hasPrefix("nqn.") {
                    nqn = line
                    break
                }
                facts["hostnqn"] = Self.text(nqn)
            case .local: local()
            }
        }
        return facts
    }

    func command(_ name: String) -> String? { snap.output(name).map { $0.pythonStripped() } }

    // MARK: platform

    mutating func platform() {
        let system = command("uname_s") ?? ""
        let machine = command("uname_m") ?? ""
        let node = command("uname_n") ?? ""
        facts["system"] = Self.text(system)
        facts["kernel"] = Self.text(command("uname_r") ?? "")
        facts["kernel_version"] = Self.text(command("uname_v") ?? "")
        facts["machine"] = Self.text(machine)
        let fqdn = Self.fqdn(node: node, hostsLine: snap.output("fqdn"))
        facts["fqdn"] = Self.text(fqdn)
        facts["hostname"] = Self.text(String(node.split(separator: ".", omittingEmptySubsequences: false).first ?? ""))
        facts["nodename"] = Self.text(node)
        facts["domain"] = Self.text(fqdn.split(separator: ".", omittingEmptySubsequences: false).dropFirst().joined(separator: "."))
        let bits = command("long_bit") ?? (machine.contains("64") ? "64" : "32")
        facts["userspace_bits"] = Self.text(bits)
        if machine == "x86_64" {
            facts["architecture"] = Self.text(machine)
            if bits == "64" { facts["userspace_architecture"] = "x86_64" } else if bits == "32" { facts["userspace_architecture"] = "i386" }
        } else if machine.range(of: #"i([3456]86|86pc)"#, options: .regularExpression) != nil {
            facts["architecture"] = "i386"
            if bits == "64" { facts["userspace_architecture"] = "x86_64" } else if bits == "32" { facts["userspace_architecture"] = "i386" }
        } else {
            facts["architecture"] = Self.text(machine)
        }
        if let id = snap.content("/var/lib/dbus/machine-id") ?? snap.content("/etc/machine-id") {
            facts["machine_id"] = Self.text(pythonSplitLines(id).first ?? id)
        }
    }

    /// Python's `socket.getfqdn()`: the host name resolved to an address and back; the first name with a dot
    /// among the canonical name and its aliases, else the canonical name; the host name when resolution fails.
    static func fqdn(node: String, hostsLine: String?) -> String {
        guard let line = hostsLine.flatMap({ pythonSplitLines($0).first }) else { return node }
        let names = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().map(String.init)
        guard let canonical = names.first else { return node }
        return names.first(where: { $0.contains(".") }) ?? canonical
    }

    // MARK: distribution

    /// What the `distro` library (bundled with ansible-core) reads: os-release, `lsb_release -a`, the distro
    /// release file.
    struct Distro {
        var osRelease: [String: String] = [:]
        var lsb: [String: String] = [:]
        var release: [String: String] = [:]
        var debianVersion = ""

        init(_ snap: FactSnapshot, lsbOutput: String?) {
            let osReleasePath = snap.files["/etc/os-release"] != nil || snap.files["/usr/lib/os-release"] == nil
                ? "/etc/os-release" : "/usr/lib/os-release"
            if let text = snap.files[osReleasePath] { osRelease = Self.parseOSRelease(text) }
            for line in pythonSplitLines(lsbOutput ?? "") {
                let kv = line.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
                guard kv.count == 2 else { continue }
                lsb[kv[0].replacingOccurrences(of: " ", with: "_").lowercased()] = kv[1].pythonStripped()
            }
            let ignored: Set<String> = [
                "debian_version", "lsb-release", "oem-release", "os-release", "system-release", "plesk-release",
                "iredmail-release", "board-release", "ec2_version",
            ]
            let candidates = snap.files.keys.filter { $0.hasPrefix("/etc/") && !$0.dropFirst(5).contains("/") }
                .map { String($0.dropFirst(5)) }.filter { !ignored.contains($0) }.sorted()
            for base in candidates {
                guard let m = base.firstMatch(of: #/^(\w+)[-_](release|version)$/#) else { continue }
                let first = pythonSplitLines(snap.files["/etc/" + base] ?? "").first ?? ""
                var info = Self.parseReleaseLine(first)
                guard info["name"] != nil else { continue }
                info["id"] = String(m.1)
                if String(m.1) == "cloudlinux" || (info["name"] ?? "").lowercased().contains("cloudlinux") {
                    info["id"] = "cloudlinux"
                }
                release = info
                break
            }
            if let d = snap.files["/etc/debian_version"] {
                debianVersion = (pythonSplitLines(d).first ?? "").pythonRStripped()
            }
        }

        /// os-release through shlex (posix, whitespace split, `#` comments), keys lowercased, plus `codename`.
        static func parseOSRelease(_ text: String) -> [String: String] {
            var props: [String: String] = [:]
            let uncommented = pythonSplitLines(text).map { line -> String in
                line.trimmingCharacters(in: .whitespaces).hasPrefix("#") ? "" : line
            }.joined(separator: "\n")
            let tokens = (try? ArgumentSplitting.shlexSplit(uncommented)) ?? []
            for token in tokens {
                guard let eq = token.firstIndex(of: "=") else { continue }
                props[token[..<eq].lowercased()] = String(token[token.index(after: eq)...])
            }
            if let version = props["version"],
                let m = version.firstMatch(of: #/\((\D+)\)|,\s*(\D+)/#)
            {
                let codename = String(m.1 ?? m.2 ?? "")
                props["codename"] = codename
                props["release_codename"] = codename
            }
            if let c = props["version_codename"] {
                props["codename"] = c
            } else if let c = props["ubuntu_codename"] {
                props["codename"] = c
            }
            return props
        }

        /// `_parse_distro_release_content`: "CentOS Linux release 7.9.2009 (Core)" → name, version_id, codename.
        static func parseReleaseLine(_ line: String) -> [String: String] {
            let stripped = line.pythonStripped()
            let reversed = String(stripped.reversed())
            var info: [String: String] = [:]
            if let m = reversed.prefixMatch(of: #/(?:[^)]*\)(.*)\()? *(?:STL )?([\d.+\-a-z]*\d) *(?:esaeler *)?(.+)/#) {
                info["name"] = String(String(m.3).reversed())
                if !m.2.isEmpty { info["version_id"] = String(String(m.2).reversed()) }
                if let c = m.1, !c.isEmpty { info["codename"] = String(String(c).reversed()) }
            } else if !line.isEmpty {
                info["name"] = stripped
            }
            return info
        }

        var id: String {
            func normalize(_ s: String, _ table: [String: String]) -> String {
                let n = s.lowercased().replacingOccurrences(of: " ", with: "_")
                return table[n] ?? n
            }
            if let v = osRelease["id"], !v.isEmpty { return normalize(v, ["ol": "oracle", "opensuse-leap": "opensuse"]) }
            if let v = lsb["distributor_id"], !v.isEmpty {
                return normalize(v, [
                    "enterpriseenterpriseas": "oracle", "enterpriseenterpriseserver": "oracle",
                    "redhatenterpriseworkstation": "rhel", "redhatenterpriseserver": "rhel",
                    "redhatenterprisecomputenode": "rhel",
                ])
            }
            if let v = release["id"], !v.isEmpty { return normalize(v, ["redhat": "rhel"]) }
            return ""
        }

        func version(best: Bool) -> String {
            var versions = [
                osRelease["version_id"] ?? "", lsb["release"] ?? "", release["version_id"] ?? "",
                Self.parseReleaseLine(osRelease["pretty_name"] ?? "")["version_id"] ?? "",
                Self.parseReleaseLine(lsb["description"] ?? "")["version_id"] ?? "",
                "",
            ]
            if id == "debian" || (osRelease["id_like"] ?? "").split(separator: " ").contains("debian") {
                versions.append(debianVersion)
            }
            var version = ""
            if best {
                for v in versions where v.filter({ $0 == "." }).count > version.filter({ $0 == "." }).count || version.isEmpty {
                    version = v
                }
            } else {
                version = versions.first(where: { !$0.isEmpty }) ?? ""
            }
            return version
        }

        /// ansible's `get_distribution_codename`.
        var codename: String? {
            if let c = osRelease["version_codename"] { return c }
            if let c = osRelease["ubuntu_codename"] { return c }
            if id == "ubuntu", let c = lsb["codename"] { return c }
            let c: String
            if let v = osRelease["codename"] { c = v } else { c = lsb["codename"] ?? release["codename"] ?? "" }
            return c.isEmpty ? nil : c
        }
    }

    static let osFamily: [String: String] = {
        let map: [String: [String]] = [
            "RedHat": [
                "RedHat", "RHEL", "Fedora", "CentOS", "Scientific", "SLC", "Ascendos", "CloudLinux", "PSBM",
                "OracleLinux", "OVS", "OEL", "Amazon", "Amzn", "Virtuozzo", "XenServer", "Alibaba", "EulerOS",
                "openEuler", "AlmaLinux", "Rocky", "TencentOS", "EuroLinux", "Kylin Linux Advanced Server", "MIRACLE",
            ],
            "Debian": [
                "Debian", "Ubuntu", "Raspbian", "Neon", "KDE neon", "Linux Mint", "SteamOS", "Devuan", "Kali",
                "Cumulus Linux", "Pop!_OS", "Parrot", "Pardus GNU/Linux", "Uos", "Deepin", "OSMC",
                "Linux Mint Debian Edition",
            ],
            "Suse": [
                "SuSE", "SLES", "SLED", "openSUSE", "openSUSE Tumbleweed", "SLES_SAP", "SUSE_LINUX", "openSUSE Leap",
                "ALP-Dolomite", "SL-Micro", "openSUSE MicroOS",
            ],
            "Archlinux": ["Archlinux", "Antergos", "Manjaro"], "Mandrake": ["Mandrake", "Mandriva"],
            "Solaris": ["Solaris", "Nexenta", "OmniOS", "OpenIndiana", "SmartOS"], "Slackware": ["Slackware"],
            "Altlinux": ["Altlinux"], "SMGL": ["SMGL"], "Gentoo": ["Gentoo", "Funtoo"], "Alpine": ["Alpine"],
            "AIX": ["AIX"], "HP-UX": ["HPUX"], "Darwin": ["MacOSX"], "FreeBSD": ["FreeBSD", "TrueOS"],
            "ClearLinux": ["Clear Linux OS", "Clear Linux Mix"],
            "DragonFly": ["DragonflyBSD", "DragonFlyBSD", "Gentoo/DragonflyBSD", "Gentoo/DragonFlyBSD"],
            "NetBSD": ["NetBSD"],
        ]
        var out: [String: String] = [:]
        for (family, names) in map { for n in names { out[n] = family } }
        return out
    }()

    static let distributionFiles: [(path: String, name: String, allowEmpty: Bool)] = [
        ("/etc/altlinux-release", "Altlinux", false), ("/etc/oracle-release", "OracleLinux", false),
        ("/etc/slackware-version", "Slackware", false), ("/etc/centos-release", "CentOS", false),
        ("/etc/redhat-release", "RedHat", false), ("/etc/vmware-release", "VMwareESX", true),
        ("/etc/openwrt_release", "OpenWrt", false), ("/etc/os-release", "Amazon", false),
        ("/etc/system-release", "Amazon", false), ("/etc/alpine-release", "Alpine", false),
        ("/etc/arch-release", "Archlinux", true), ("/etc/os-release", "Archlinux", false),
        ("/etc/os-release", "SUSE", false), ("/etc/SuSE-release", "SUSE", false),
        ("/etc/gentoo-release", "Gentoo", false), ("/etc/os-release", "Debian", false),
        ("/etc/lsb-release", "Debian", false), ("/etc/lsb-release", "Mandriva", false),
        ("/etc/sourcemage-release", "SMGL", false), ("/usr/lib/os-release", "ClearLinux", false),
        ("/etc/coreos/update.conf", "Coreos", false), ("/etc/os-release", "Flatcar", false),
        ("/etc/os-release", "NA", false),
    ]

    mutating func distribution() {
        let system = command("uname_s") ?? ""
        var d = ValueDict()
        d["distribution"] = Self.text(system)
        d["distribution_release"] = Self.text(command("uname_r") ?? "")
        d["distribution_version"] = Self.text(command("uname_v") ?? "")
        if system == "Linux" {
            let distro = Distro(snap, lsbOutput: snap.output("lsb"))
            var name = distro.id.pythonCapitalized()
            if name == "Amzn" { name = "Amazon" } else if name == "Rhel" { name = "Redhat" } else if name.isEmpty { name = "OtherLinux" }
            var version = distro.version(best: false)
            if distro.id == "centos" {
                version = distro.version(best: true).split(separator: ".", omittingEmptySubsequences: false).prefix(2).joined(separator: ".")
            } else if distro.id == "debian" {
                version = distro.version(best: true)
            }
            let release = distro.codename
            d["distribution"] = Self.text(name)
            d["distribution_version"] = Self.text(version.isEmpty ? "NA" : version)
            d["distribution_release"] = Self.text(release ?? "NA")
            let v = version.isEmpty ? "NA" : version
            let major = String(v.split(separator: ".", omittingEmptySubsequences: false).first ?? "")
            d["distribution_major_version"] = Self.text(major.isEmpty ? "NA" : major)

            for entry in Self.distributionFiles {
                guard let raw = snap.files[entry.path] else { continue }
                if entry.allowEmpty {
                    d["distribution"] = Self.text(entry.name)
                    d["distribution_file_path"] = Self.text(entry.path)
                    d["distribution_file_variety"] = Self.text(entry.name)
                    break
                }
                guard !raw.isEmpty else { continue }
                let content = snap.content(entry.path) ?? ""
                guard let parsed = parseDistributionFile(entry.name, content, entry.path, d, distroID: name) else { continue }
                d["distribution"] = Self.text(entry.name)
                d["distribution_file_path"] = Self.text(entry.path)
                d["distribution_file_variety"] = Self.text(entry.name)
                d["distribution_file_parsed"] = true
                for (k, v) in parsed { d[k] = v }
                break
            }
        }
        let distribution = d["distribution"]?.stringValue ?? ""
        d["os_family"] = Self.text(Self.osFamily[distribution] ?? distribution)
        for (k, v) in d { facts[k] = v }
    }

    /// `_parse_dist_file`: the facts a distribution file gives, or nil when it does not describe this system.
    func parseDistributionFile(
        _ name: String, _ content: String, _ path: String, _ collected: ValueDict, distroID: String
    ) -> ValueDict? {
        let data = content.trimmingCharacters(in: CharacterSet(charactersIn: "'\"\\"))
        var f = ValueDict()
        func first(_ pattern: String, _ text: String = data, options: NSRegularExpression.Options = []) -> [String?]? {
            guard let re = try? NSRegularExpression(pattern: pattern, options: options),
                let m = re.firstMatch(in: text, range: NSRange(text.startIndex..., in: text))
            else { return nil }
            return (0..<m.numberOfRanges).map { i in Range(m.range(at: i), in: text).map { String(text[$0]) } }
        }
        let search: [String: String] = ["OracleLinux": "Oracle Linux", "RedHat": "Red Hat", "Altlinux": "ALT", "SMGL": "Source Mage GNU/Linux"]
        if let needle = search[name] {
            if data.contains(needle) {
                f["distribution"] = Self.text(name)
                f["distribution_file_search_string"] = Self.text(needle)
            } else {
                f["distribution"] = Self.text(String(data.split(whereSeparator: { $0.isWhitespace }).first ?? ""))
            }
            return f
        }
        if name == "Archlinux" && path == "/etc/os-release" {
            guard data.contains("Arch Linux") else { return nil }
            f["distribution"] = Self.text(name)
            return f
        }
        switch name {
        case "Slackware":
            guard data.contains("Slackware") else { return nil }
            f["distribution"] = Self.text(name)
            if let m = first(#"\w+[.]\w+\+?"#), let v = m[0] { f["distribution_version"] = Self.text(v) }
        case "Amazon":
            guard data.contains("Amazon") else { return nil }
            f["distribution"] = "Amazon"
            if path == "/etc/os-release" {
                if let m = first(#"VERSION_ID="(.*)""#), let v = m[1] {
                    f["distribution_version"] = Self.text(v)
                    let parts = v.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
                    f["distribution_major_version"] = Self.text(parts[0])
                    f["distribution_minor_version"] = Self.text(parts.count > 1 ? parts[1] : "NA")
                }
            } else {
                let v = data.split(whereSeparator: { $0.isWhitespace }).first(where: { $0.allSatisfy(\.isNumber) })
                f["distribution_version"] = Self.text(v.map(String.init) ?? "NA")
            }
        case "OpenWrt":
            guard data.contains("OpenWrt") else { return nil }
            f["distribution"] = Self.text(name)
            if let m = first(#"DISTRIB_RELEASE="(.*)""#), let v = m[1] { f["distribution_version"] = Self.text(v) }
            if let m = first(#"DISTRIB_CODENAME="(.*)""#), let v = m[1] { f["distribution_release"] = Self.text(v) }
        case "Alpine":
            f["distribution"] = "Alpine"
            f["distribution_version"] = Self.text(data)
        case "SUSE":
            guard data.lowercased().contains("suse") else { return nil }
            if path == "/etc/os-release" {
                for line in pythonSplitLines(data) {
                    if let m = first("^NAME=(.*)", line), let v = m[1] { f["distribution"] = Self.text(v.trimmingCharacters(in: CharacterSet(charactersIn: "\""))) }
                    if let m = first(#"^VERSION_ID="?([0-9]+\.?[0-9]*)"?"#, line), let v = m[1] {
                        f["distribution_version"] = Self.text(v)
                        f["distribution_major_version"] = Self.text(String(v.split(separator: ".", omittingEmptySubsequences: false)[0]))
                    }
                    if data.lowercased().contains("open") {
                        if let m = first(#"^VERSION_ID="?[0-9]+\.?([0-9]*)"?"#, line) { f["distribution_release"] = Self.text(m[1] ?? "") }
                    } else if data.lowercased().contains("enterprise") && line.contains("VERSION_ID") {
                        if let m = first(#"^VERSION_ID="?[0-9]+\.?([0-9]*)"?"#, line) {
                            let r = m[1] ?? ""
                            f["distribution_release"] = Self.text(r.isEmpty ? "0" : r)
                        }
                    }
                }
            }
            if let m = first(#"^VARIANT_ID="?([^"\n]*)"?"#, options: .anchorsMatchLines), let v = m[1] {
                if v == "server-sap" || v == "sles-sap" { f["distribution"] = "SLES_SAP" } else if v == "transactional" { f["distribution"] = "SL-Micro" }
            } else if let target = snap.links["/etc/products.d/baseproduct"] {
                if target.hasSuffix("SLES_SAP.prod") { f["distribution"] = "SLES_SAP" } else if target.hasSuffix("SL-Micro.prod") { f["distribution"] = "SL-Micro" }
            }
        case "Debian":
            if data.contains("Debian") || data.contains("Raspbian") {
                f["distribution"] = "Debian"
                if let m = first(#"PRETTY_NAME=[^(]+ \(?([^)]+?)\)"#), let v = m[1] { f["distribution_release"] = Self.text(v) }
                for line in pythonSplitLines(snap.files["/etc/debian_version"] ?? "") {
                    if let m = first(#"(\d+)\.(\d+)"#, line.pythonStripped()), let v = m[2] {
                        f["distribution_minor_version"] = Self.text(v)
                    }
                }
            } else if data.contains("Ubuntu") {
                f["distribution"] = "Ubuntu"
            } else if data.contains("SteamOS") {
                f["distribution"] = "SteamOS"
            } else if (path == "/etc/lsb-release" || path == "/etc/os-release") && (data.contains("Kali") || data.contains("Parrot")) {
                f["distribution"] = data.contains("Kali") ? "Kali" : "Parrot"
                if let m = first("DISTRIB_RELEASE=(.*)"), let v = m[1] { f["distribution_release"] = Self.text(v) }
            } else if data.contains("Devuan") {
                f["distribution"] = "Devuan"
                if let m = first(#"PRETTY_NAME="?[^("]+ \(?([^) "]+)\)?"#), let v = m[1] { f["distribution_release"] = Self.text(v) }
                if let m = first(#"VERSION_ID="(.*)""#), let v = m[1] {
                    f["distribution_version"] = Self.text(v)
                    f["distribution_major_version"] = Self.text(v)
                }
            } else if data.contains("Cumulus") {
                f["distribution"] = "Cumulus Linux"
                if let m = first("VERSION_ID=(.*)"), let v = m[1] {
                    f["distribution_version"] = Self.text(v)
                    f["distribution_major_version"] = Self.text(String(v.split(separator: ".")[0]))
                }
                if let m = first(#"VERSION="(.*)""#), let v = m[1] { f["distribution_release"] = Self.text(v) }
            } else if data.contains("Mint") {
                f["distribution"] = "Linux Mint"
                if let m = first(#"VERSION_ID="(.*)""#), let v = m[1] {
                    f["distribution_version"] = Self.text(v)
                    f["distribution_major_version"] = Self.text(String(v.split(separator: ".", omittingEmptySubsequences: false)[0]))
                }
            } else if data.contains("UOS") || data.contains("Uos") || data.contains("uos") || data.contains("Deepin") || data.contains("deepin") {
                f["distribution"] = (data.contains("UOS") || data.contains("Uos") || data.contains("uos")) ? "Uos" : "Deepin"
                if let m = first(#"VERSION_CODENAME="?([^"]+)"?"#), let v = m[1] { f["distribution_release"] = Self.text(v) }
                if let m = first(#"VERSION_ID="(.*)""#), let v = m[1] {
                    f["distribution_version"] = Self.text(v)
                    f["distribution_major_version"] = Self.text(String(v.split(separator: ".", omittingEmptySubsequences: false)[0]))
                }
            } else if data.contains("LMDE") {
                f["distribution"] = "Linux Mint Debian Edition"
            } else {
                return nil
            }
        case "Mandriva":
            guard data.contains("Mandriva") else { return nil }
            if let m = first(#"DISTRIB_RELEASE="(.*)""#), let v = m[1] { f["distribution_version"] = Self.text(v) }
            if let m = first(#"DISTRIB_CODENAME="(.*)""#), let v = m[1] { f["distribution_release"] = Self.text(v) }
            f["distribution"] = Self.text(name)
        case "NA":
            for line in pythonSplitLines(data) {
                if let m = first("^NAME=(.*)", line), let v = m[1] {
                    f["distribution"] = Self.text(v.trimmingCharacters(in: CharacterSet(charactersIn: "\"")))
                }
                if let m = first("^VERSION=(.*)", line), let v = m[1], collected["distribution_version"]?.stringValue == "NA" {
                    f["distribution_version"] = Self.text(v.trimmingCharacters(in: CharacterSet(charactersIn: "\"")))
                }
            }
        case "Coreos":
            guard distroID.lowercased() == "coreos", !data.isEmpty else { return nil }
            if let m = first("^GROUP=(.*)"), let v = m[1] {
                f["distribution_release"] = Self.text(v.trimmingCharacters(in: CharacterSet(charactersIn: "\"")))
            }
        case "Flatcar":
            guard distroID.lowercased() == "flatcar", !data.isEmpty else { return nil }
            if let m = first("VERSION=(.*)"), let v = m[1] {
                let s = v.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                f["distribution_major_version"] = Self.text(String(s.split(separator: ".", omittingEmptySubsequences: false)[0]))
                f["distribution_version"] = Self.text(s)
            }
        case "ClearLinux":
            guard name.lowercased().contains("clearlinux") else { return nil }
            if let m = first(#"NAME="(.*)""#), let v = m[1] {
                guard v.contains("Clear Linux") else { return nil }
                f["distribution"] = Self.text(v)
            }
            if let m = first("VERSION_ID=(.*)"), let v = m[1] {
                f["distribution_major_version"] = Self.text(v)
                f["distribution_version"] = Self.text(v)
            }
            if let m = first("ID=(.*)"), let v = m[1] { f["distribution_release"] = Self.text(v) }
        case "CentOS":
            if data.contains("CentOS Stream") {
                f["distribution_release"] = "Stream"
            } else if data.contains("TencentOS Server") {
                f["distribution"] = "TencentOS"
            } else {
                return nil
            }
        default:
            // Gentoo and the others without a parser in ansible-core: "not parsed", keep looking.
            return nil
        }
        return f
    }

    // MARK: lsb

    mutating func lsb() {
        var l: [(String, String)] = []
        func set(_ k: String, _ v: String) {
            if let i = l.firstIndex(where: { $0.0 == k }) { l[i].1 = v } else { l.append((k, v)) }
        }
        if let out = snap.output("lsb") {
            for line in pythonSplitLines(out) where !line.isEmpty && line.contains(":") {
                let value = String(line.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)[1]).pythonStripped()
                if line.contains("LSB Version:") { set("release", value) }
                else if line.contains("Distributor ID:") { set("id", value) }
                else if line.contains("Description:") { set("description", value) }
                else if line.contains("Release:") { set("release", value) }
                else if line.contains("Codename:") { set("codename", value) }
            }
        }
        if l.isEmpty, snap.exists("/etc/lsb-release") {
            for line in snap.lines("/etc/lsb-release") {
                let parts = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2 else { continue }
                let value = String(parts[1].pythonStripped())
                if line.contains("DISTRIB_ID") { set("id", value) }
                else if line.contains("DISTRIB_RELEASE") { set("release", value) }
                else if line.contains("DISTRIB_DESCRIPTION") { set("description", value) }
                else if line.contains("DISTRIB_CODENAME") { set("codename", value) }
            }
        }
        if let release = l.first(where: { $0.0 == "release" })?.1 {
            set("major_release", String(release.split(separator: ".", omittingEmptySubsequences: false).first ?? ""))
        }
        let quotes = CharacterSet(charactersIn: "'\"\\")
        facts["lsb"] = .dict(ValueDict(l.map { ($0.0, Self.text($0.1.isEmpty ? $0.1 : $0.1.trimmingCharacters(in: quotes))) },
                                       uniquingKeysWith: { $1 }))
    }

    // MARK: small system collectors

    mutating func selinux() {
        // No Python selinux bindings here: read selinuxfs, as libselinux does.
        guard snap.exists("/sys/fs/selinux/enforce") else {
            facts["selinux"] = ["status": "disabled"]
            return
        }
        var s = ValueDict()
        s["status"] = "enabled"
        s["policyvers"] = snap.content("/sys/fs/selinux/policyvers").flatMap { Int($0) }.map(Value.int) ?? "unknown"
        var config = "unknown", type = "unknown"
        for line in snap.lines("/etc/selinux/config") {
            let t = line.pythonStripped()
            if t.hasPrefix("SELINUX=") { config = String(t.dropFirst(8)) }
            if t.hasPrefix("SELINUXTYPE=") { type = String(t.dropFirst(12)) }
        }
        s["config_mode"] = Self.text(["enforcing", "permissive", "disabled"].contains(config) ? config : "unknown")
        let enforce = snap.content("/sys/fs/selinux/enforce")
        s["mode"] = enforce == "1" ? "enforcing" : enforce == "0" ? "permissive" : "unknown"
        s["type"] = Self.text(type)
        facts["selinux"] = .dict(s)
    }

    mutating func chroot() {
        if let v = snap.environment.first(where: { $0.0 == "debian_chroot" })?.1, !v.isEmpty {
            facts["is_chroot"] = true
            return
        }
        let root = command("stat_root")
        if let root, let proc = command("stat_proc1") {
            facts["is_chroot"] = .bool(root != proc)
            return
        }
        var fsRootInode = 2
        if let type = snap.output("stat_fs") {
            if type.contains("btrfs") { fsRootInode = 256 } else if type.contains("xfs") { fsRootInode = 128 }
        }
        let inode = root.flatMap { Int($0.split(separator: " ").first ?? "") }
        facts["is_chroot"] = inode.map { .bool($0 != fsRootInode) } ?? .null
    }

    mutating func caps() {
        guard let out = snap.output("caps") else {
            facts["system_capabilities_enforced"] = "N/A"
            facts["system_capabilities"] = "N/A"
            return
        }
        var enforced = "NA"
        var list: [Value] = []
        for line in pythonSplitLines(out) where !line.isEmpty && line.hasPrefix("Current:") {
            if line.split(separator: ":", omittingEmptySubsequences: false)[1].pythonStripped() == "=ep" {
                enforced = "False"
            } else {
                enforced = "True"
                let after = line.split(separator: "=", omittingEmptySubsequences: false)
                list = (after.count > 1 ? after[1] : "").split(separator: ",", omittingEmptySubsequences: false)
                    .map { Self.text($0.pythonStripped()) }
            }
        }
        facts["system_capabilities_enforced"] = Self.text(enforced)
        facts["system_capabilities"] = .list(list)
    }

    static let packageManagers: [(path: String, name: String)] = [
        ("/usr/bin/rpm-ostree", "atomic_container"), ("/usr/bin/yum", "dnf"), ("/usr/bin/dnf-3", "dnf"),
        ("/usr/bin/dnf5", "dnf5"), ("/usr/bin/apt-get", "apt"), ("/usr/bin/zypper", "zypper"),
        ("/usr/sbin/urpmi", "urpmi"), ("/usr/bin/pacman", "pacman"), ("/bin/opkg", "opkg"),
        ("/usr/pkg/bin/pkgin", "pkgin"), ("/opt/local/bin/pkgin", "pkgin"), ("/opt/tools/bin/pkgin", "pkgin"),
        ("/opt/local/bin/port", "macports"), ("/usr/local/bin/brew", "homebrew"),
        ("/opt/homebrew/bin/brew", "homebrew"), ("/sbin/apk", "apk"), ("/usr/sbin/pkg", "pkgng"),
        ("/usr/sbin/swlist", "swdepot"), ("/usr/bin/emerge", "portage"), ("/usr/sbin/pkgadd", "svr4pkg"),
        ("/usr/bin/pkg", "pkg5"), ("/usr/bin/xbps-install", "xbps"), ("/usr/local/sbin/pkg", "pkgng"),
        ("/usr/bin/swupd", "swupd"), ("/usr/sbin/sorcery", "sorcery"), ("/usr/bin/installp", "installp"),
    ]

    mutating func pkgMgr() {
        let family = facts["os_family"]?.stringValue ?? ""
        var name = "unknown"
        for pm in Self.packageManagers where snap.exists(pm.path) {
            if family == "Altlinux" && pm.path == "/usr/bin/pkg" { continue }
            name = pm.name
        }
        if family == "RedHat" {
            if snap.exists("/run/ostree-booted") {
                name = "atomic_container"
            } else {
                name = "unknown"
                for bin in ["/usr/bin/dnf", "/usr/bin/microdnf"] where snap.exists(bin) {
                    name = snap.links[bin] == "/usr/bin/dnf5" ? "dnf5" : "dnf"
                    break
                }
            }
        } else if family == "Debian" && name != "apt" {
            name = "apt"
        } else if family == "Altlinux" && name == "apt" {
            name = "apt_rpm"
        }
        if name == "apt" && snap.exists("/usr/bin/rpm") {
            name = snap.commands["rpm_apt"]?.rc == 0 ? "apt_rpm" : "apt"
        }
        facts["pkg_mgr"] = Self.text(name)
    }

    var systemdManaged: Bool {
        snap.programs.contains("systemctl")
            && ["/run/systemd/system/", "/dev/.run/systemd/", "/dev/.systemd/"].contains(where: snap.exists)
    }

    mutating func serviceMgr() {
        var proc1: String? = snap.files["/proc/1/comm"]
        if proc1 == nil, let c = snap.commands["ps1"] {
            let out = c.output
            if c.rc != 0 || out.pythonStripped().isEmpty || out.firstMatch(of: #/^ *[0-9]+ /#) != nil { proc1 = nil } else { proc1 = out }
        }
        if proc1 == "COMMAND\n" { proc1 = nil }
        if proc1 == nil, let target = snap.links["/sbin/init"] { proc1 = target }
        if var p = proc1 {
            p = String(p.split(separator: "/", omittingEmptySubsequences: false).last ?? "").pythonStripped()
            proc1 = (p == "init" || p.hasSuffix("sh")) ? nil : p
        }
        var name: String?
        let system = facts["system"]?.stringValue ?? command("uname_s") ?? ""
        let distribution = facts["distribution"]?.stringValue ?? ""
        if let p = proc1 {
            name = ["procd": "openwrt_init", "runit-init": "runit", "svscan": "svc", "openrc-init": "openrc"][p] ?? p
        } else if system.contains("BSD") || system == "Bitrig" || system == "DragonFly" {
            name = "bsdinit"
        } else if system == "AIX" {
            name = "src"
        } else if system == "SunOS" {
            name = "smf"
        } else if distribution == "OpenWrt" {
            name = "openwrt_init"
        } else if distribution == "SMGL" {
            name = "simpleinit_msb"
        } else if system == "Linux" {
            if systemdManaged {
                name = "systemd"
            } else if snap.programs.contains("initctl") && snap.exists("/etc/init/") {
                name = "upstart"
            } else if snap.exists("/sbin/openrc") {
                name = "openrc"
            } else if snap.programs.contains("systemctl"), let t = snap.links["/sbin/init"],
                t.split(separator: "/").last == "systemd"
            {
                name = "systemd"
            } else if snap.exists("/etc/init.d/") {
                name = "sysvinit"
            } else if snap.exists("/etc/dinit.d/") {
                name = "dinit"
            }
        }
        facts["service_mgr"] = Self.text(name ?? "service")
    }

    mutating func systemd() {
        guard systemdManaged, let out = snap.output("systemctl_version") else { return }
        let lines = out.components(separatedBy: "\n")
        let words = out.components(separatedBy: " ")
        guard lines.count > 1, words.count > 1, let version = Int(words[1]) else { return }
        facts["systemd"] = ["features": Self.text(lines[1]), "version": .int(version)]
    }

    mutating func cmdline() {
        guard let data = snap.content("/proc/cmdline") else { return }
        let pieces = Self.shlexNonPOSIX(data)
        var plain = ValueDict(), multi = ValueDict()
        for piece in pieces ?? [] {
            let item = piece.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            if item.count == 1 {
                plain[item[0]] = true
                multi[item[0]] = true
            } else {
                plain[item[0]] = Self.text(item[1])
                if let existing = multi[item[0]] {
                    if case .list(var l) = existing { l.append(Self.text(item[1])); multi[item[0]] = .list(l) } else { multi[item[0]] = .list([existing, Self.text(item[1])]) }
                } else {
                    multi[item[0]] = Self.text(item[1])
                }
            }
        }
        facts["cmdline"] = .dict(plain)
        facts["proc_cmdline"] = .dict(multi)
    }

    /// `shlex.split(data, posix=False)`: whitespace-separated words, quotes kept; nil on an unclosed quote.
    static func shlexNonPOSIX(_ s: String) -> [String]? {
        var words: [String] = []
        var current = ""
        var quote: Character?
        var inWord = false
        for c in s {
            if let q = quote {
                current.append(c)
                if c == q { quote = nil }
                continue
            }
            if c == " " || c == "\t" || c == "\n" || c == "\r" {
                if inWord { words.append(current); current = ""; inWord = false }
            } else if c == "#" && !inWord {
                break
            } else {
                if c == "\"" || c == "'" { quote = c }
                current.append(c)
                inWord = true
            }
        }
        if quote != nil { return nil }
        if inWord { words.append(current) }
        return words
    }

    mutating func dateTime() {
        guard let out = command("date") else { return }
        let f = out.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        guard f.count == 13 else { return }
        let (year, month, weekday, wdayNumber, weekNumber, day, hour, minute, second, epoch, zone, offset) =
            (f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10], f[11])
        var micro = f[12].filter(\.isNumber)
        if micro.count != 9 { micro = "000000000" }
        micro = String(micro.prefix(6))
        var d = ValueDict()
        d["year"] = Self.text(year); d["month"] = Self.text(month); d["weekday"] = Self.text(weekday)
        d["weekday_number"] = Self.text(wdayNumber); d["weeknumber"] = Self.text(weekNumber); d["day"] = Self.text(day)
        d["hour"] = Self.text(hour); d["minute"] = Self.text(minute); d["second"] = Self.text(second)
        d["epoch"] = Self.text(epoch); d["epoch_int"] = Self.text(String(Int(epoch) ?? 0))
        d["date"] = Self.text("\(year)-\(month)-\(day)"); d["time"] = Self.text("\(hour):\(minute):\(second)")
        var utc = tm()
        var t = time_t(Int(epoch) ?? 0)
        gmtime_r(&t, &utc)
        func pad(_ v: Int32, _ n: Int = 2) -> String { let s = String(v); return String(repeating: "0", count: max(0, n - s.count)) + s }
        let iso = "\(utc.tm_year + 1900)-\(pad(utc.tm_mon + 1))-\(pad(utc.tm_mday))T\(pad(utc.tm_hour)):\(pad(utc.tm_min)):\(pad(utc.tm_sec))"
        d["iso8601_micro"] = Self.text(iso + ".\(micro)Z")
        d["iso8601"] = Self.text(iso + "Z")
        d["iso8601_basic"] = Self.text("\(year)\(month)\(day)T\(hour)\(minute)\(second)\(micro)")
        d["iso8601_basic_short"] = Self.text("\(year)\(month)\(day)T\(hour)\(minute)\(second)")
        d["tz"] = Self.text(zone)
        // time.tzname[1]: the daylight-saving name, or the standard one where the zone has none.
        var dst = zone
        if let jan = command("tz_jan"), let jul = command("tz_jul") {
            let a = jan.split(separator: "|").map(String.init), b = jul.split(separator: "|").map(String.init)
            if a.count == 2, b.count == 2 {
                if a[1] == b[1] { dst = a[0] } else { dst = (Int(a[1]) ?? 0) > (Int(b[1]) ?? 0) ? a[0] : b[0] }
            }
        }
        d["tz_dst"] = Self.text(dst)
        d["tz_offset"] = Self.text(offset)
        facts["date_time"] = .dict(d)
    }

    mutating func loadavg() {
        guard let data = snap.content("/proc/loadavg") else { return }
        let parts = data.split(separator: " ").prefix(3).compactMap { Double($0) }
        guard parts.count == 3 else { return }
        facts["loadavg"] = ["1m": .float(parts[0]), "5m": .float(parts[1]), "15m": .float(parts[2])]
    }

    mutating func sshPubKeys() {
        var found = ValueDict()
        outer: for dir in ["/etc/ssh", "/etc/openssh", "/etc"] {
            for algo in ["dsa", "rsa", "ecdsa", "ed25519"] {
                let name = "ssh_host_key_\(algo)_public"
                if found[name] != nil { break outer }
                guard let data = snap.content("\(dir)/ssh_host_\(algo)_key.pub") else { continue }
                let words = data.split(whereSeparator: { $0.isWhitespace })
                guard words.count >= 2 else { continue }
                found[name] = Self.text(String(words[1]))
                found[name + "_keytype"] = Self.text(String(words[0]))
            }
        }
        for (k, v) in found { facts[k] = v }
    }

    mutating func user() {
        let env = Dictionary(snap.environment, uniquingKeysWith: { $1 })
        let name = ["LOGNAME", "USER", "LNAME", "USERNAME"].compactMap { env[$0] }.first(where: { !$0.isEmpty })
        let uid = Int(command("id_ru") ?? "")
        func passwd(byName n: String?) -> [String]? {
            if snap.programs.contains("getent") {
                guard let out = n == nil ? snap.output("pwuid") : snap.output("pwnam") else { return nil }
                let f = (pythonSplitLines(out).first ?? "").components(separatedBy: ":")
                return f.count >= 7 ? f : nil
            }
            for line in pythonSplitLines(snap.files["/etc/passwd"] ?? "") {
                let f = line.components(separatedBy: ":")
                guard f.count >= 7 else { continue }
                if let n, f[0] == n { return f }
                if n == nil, Int(f[2]) == uid { return f }
            }
            return nil
        }
        let entry = (name.flatMap { passwd(byName: $0) }) ?? passwd(byName: nil)
        let userID = name ?? entry?[0] ?? command("id_un") ?? ""
        facts["user_id"] = Self.text(userID)
        if let e = entry {
            facts["user_uid"] = Int(e[2]).map(Value.int) ?? Self.text(e[2])
            facts["user_gid"] = Int(e[3]).map(Value.int) ?? Self.text(e[3])
            facts["user_gecos"] = Self.text(e[4])
            facts["user_dir"] = Self.text(e[5])
            facts["user_shell"] = Self.text(e[6...].joined(separator: ":"))
        }
        if let uid { facts["real_user_id"] = .int(uid) }
        if let euid = Int(command("id_u") ?? "") { facts["effective_user_id"] = .int(euid) }
        if let gid = Int(command("id_rg") ?? "") {
            facts["real_group_id"] = .int(gid)
            facts["effective_group_id"] = .int(gid)  // ansible-core reports os.getgid() here too
        }
    }

    // MARK: virtual

    mutating func virtual() {
        var type: String?
        var role: String?
        var found = false
        var guest = Set<String>(), host = Set<String>()
        func guestTech(_ tech: String, _ t: String, setRole: Bool = true) {
            guest.insert(tech)
            if !found { type = t; if setRole { role = "guest" }; found = true }
        }
        if snap.exists("/proc/1/cgroup") {
            for line in snap.lines("/proc/1/cgroup") {
                if line.firstMatch(of: #/\/docker(\/|-[0-9a-f]+\.scope)/#) != nil { guestTech("docker", "docker") }
                if line.contains("/lxc/") || line.contains("/machine.slice/machine-lxc") { guestTech("lxc", "lxc") }
                if line.contains("/system.slice/containerd.service") { guestTech("containerd", "containerd") }
            }
        }
        if let env = snap.files["/proc/1/environ"] {
            for line in env.split(separator: "\0").map(String.init) {
                if line.contains("container=lxc") { guestTech("lxc", "lxc") }
                if line.contains("container=podman") { guestTech("podman", "podman") }
                if line.firstMatch(of: #/^container=./#) != nil { guestTech("container", "container") }
            }
        }
        if snap.exists("/proc/vz") && !snap.exists("/proc/lve") {
            type = "openvz"
            if snap.exists("/proc/bc") {
                host.insert("openvz")
                if !found { role = "host" }
            } else {
                guest.insert("openvz")
                if !found { role = "guest" }
            }
            found = true
        }
        let systemdContainer = snap.content("/run/systemd/container")
        if let c = systemdContainer { guestTech(c, c) }
        if snap.exists("/.dockerenv") || snap.exists("/.dockerinit") { guestTech("docker", "docker") }
        if !guest.isDisjoint(with: ["docker", "lxc", "podman", "openvz", "containerd"]) || systemdContainer != nil {
            guest.insert("container")
        }
        if snap.exists("/proc/xen") {
            let isHost = snap.lines("/proc/xen/capabilities").contains { $0.contains("control_d") }
            if isHost {
                host.insert("xen")
                if !found { type = "xen"; role = "host" }
            } else if !found {
                type = "xen"; role = "guest"
            }
            found = true
        }
        if !found { role = "guest" }
        let dmi = "/sys/devices/virtual/dmi/id/"
        let productName = snap.content(dmi + "product_name"), sysVendor = snap.content(dmi + "sys_vendor")
        let productFamily = snap.content(dmi + "product_family"), biosVendor = snap.content(dmi + "bios_vendor")
        func dmiGuest(_ tech: String, _ t: String) {
            guest.insert(tech)
            if !found { type = t; found = true }
        }
        if let p = productName, ["KVM", "KVM Server", "Bochs", "AHV", "CloudStack KVM Hypervisor"].contains(p) { dmiGuest("kvm", "kvm") }
        if sysVendor == "oVirt" { dmiGuest("oVirt", "oVirt") }
        if sysVendor == "Red Hat" {
            if productFamily == "RHV" { dmiGuest("RHV", "RHV") } else if productName == "RHEV Hypervisor" { dmiGuest("RHEV", "RHEV") }
        }
        if let p = productName, p.hasPrefix("VMware") { dmiGuest("VMware", "VMware") }
        if let p = productName, ["OpenStack Compute", "OpenStack Nova"].contains(p) { dmiGuest("openstack", "openstack") }
        if biosVendor == "Xen" { dmiGuest("xen", "xen") }
        if biosVendor == "innotek GmbH" { dmiGuest("virtualbox", "virtualbox") }
        if let b = biosVendor, ["Amazon EC2", "DigitalOcean", "Hetzner", "Linode"].contains(b) { dmiGuest("kvm", "kvm") }
        if let v = sysVendor, ["QEMU", "Amazon EC2", "DigitalOcean", "Google", "Scaleway", "Nutanix"].contains(v) { dmiGuest("kvm", "kvm") }
        if sysVendor == "KubeVirt" { dmiGuest("KubeVirt", "KubeVirt") }
        if sysVendor == "Microsoft Corporation" { dmiGuest("VirtualPC", "VirtualPC") }
        if sysVendor == "Parallels Software International Inc." { dmiGuest("parallels", "parallels") }
        if sysVendor == "OpenStack Foundation" { dmiGuest("openstack", "openstack") }
        if !found { role = nil }
        for line in snap.lines("/proc/self/status") where line.firstMatch(of: #/^VxID:\s+\d+/#) != nil {
            if !found { type = "linux_vserver" }
            if line.firstMatch(of: #/^VxID:\s+0/#) != nil {
                host.insert("linux_vserver")
                if !found { role = "host" }
            } else {
                guest.insert("linux_vserver")
                if !found { role = "guest" }
            }
            found = true
        }
        for line in snap.lines("/proc/cpuinfo") {
            var tech: String?
            if line.firstMatch(of: #/^model name.*QEMU Virtual CPU/#) != nil { tech = "kvm" }
            else if line.firstMatch(of: #/^vendor_id.*User Mode Linux/#) != nil { tech = "uml" }
            else if line.firstMatch(of: #/^model name.*UML/#) != nil { tech = "uml" }
            else if line.firstMatch(of: #/^machine.*CHRP IBM pSeries .emulated by qemu./#) != nil { tech = "kvm" }
            else if line.firstMatch(of: #/^vendor_id.*PowerVM Lx86/#) != nil { tech = "powervm_lx86" }
            else if line.firstMatch(of: #/^vendor_id.*IBM\/S390/#) != nil { tech = "ibm_systemz" }
            guard let tech else { continue }
            guest.insert(tech)
            if !found { type = tech; role = "guest"; found = true }
        }
        if snap.files["/proc/modules"] != nil {
            let modules = snap.lines("/proc/modules").map { String($0.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false).first ?? "") }
            if modules.contains("kvm") {
                host.insert("kvm")
                if !found { type = "kvm"; role = "host" }
                if snap.exists("/rhev/"),
                    snap.files.contains(where: { $0.key.hasPrefix("/proc/") && $0.key.hasSuffix("/comm") && ["vdsm", "vdsmd"].contains($0.value.pythonRStripped()) })
                {
                    host.insert("RHEV")
                    if !found { type = "RHEV" }
                }
                found = true
            }
            if modules.contains("vboxdrv") {
                host.insert("virtualbox")
                if !found { type = "virtualbox"; role = "host"; found = true }
            }
            if modules.contains("virtio") {
                host.insert("kvm")
                if !found { type = "kvm"; role = "guest"; found = true }
            }
        }
        if let out = snap.output("dmi_spn") {
            let vendor = pythonSplitLines(out).filter { !$0.hasPrefix("#") }.map { $0.pythonStripped() }.joined()
            if vendor.hasPrefix("VMware") {
                guest.insert("VMware")
                if !found { type = "VMware"; role = "guest"; found = true }
            }
            if out.contains("BHYVE") {
                guest.insert("bhyve")
                if !found { type = "bhyve"; role = "guest"; found = true }
            }
        }
        if snap.exists("/dev/kvm") {
            host.insert("kvm")
            if !found { type = "kvm"; role = "host"; found = true }
        }
        if !found { type = "NA"; role = "NA" }
        if let type { facts["virtualization_type"] = Self.text(type) }
        if let role { facts["virtualization_role"] = Self.text(role) }
        facts["virtualization_tech_guest"] = .list(guest.sorted().map(Self.text))
        facts["virtualization_tech_host"] = .list(host.sorted().map(Self.text))
    }

    // MARK: hardware

    static let dmiFiles: [(key: String, file: String, keyword: String)] = [
        ("bios_date", "bios_date", "bios-release-date"), ("bios_vendor", "bios_vendor", "bios-vendor"),
        ("bios_version", "bios_version", "bios-version"), ("board_asset_tag", "board_asset_tag", "baseboard-asset-tag"),
        ("board_name", "board_name", "baseboard-product-name"), ("board_serial", "board_serial", "baseboard-serial-number"),
        ("board_vendor", "board_vendor", "baseboard-manufacturer"), ("board_version", "board_version", "baseboard-version"),
        ("chassis_asset_tag", "chassis_asset_tag", "chassis-asset-tag"),
        ("chassis_serial", "chassis_serial", "chassis-serial-number"),
        ("chassis_vendor", "chassis_vendor", "chassis-manufacturer"), ("chassis_version", "chassis_version", "chassis-version"),
        ("form_factor", "chassis_type", "chassis-type"), ("product_name", "product_name", "system-product-name"),
        ("product_serial", "product_serial", "system-serial-number"), ("product_uuid", "product_uuid", "system-uuid"),
        ("product_version", "product_version", "system-version"), ("system_vendor", "sys_vendor", "system-manufacturer"),
    ]

    static let formFactors = [
        "Unknown", "Other", "Unknown", "Desktop", "Low Profile Desktop", "Pizza Box", "Mini Tower", "Tower", "Portable",
        "Laptop", "Notebook", "Hand Held", "Docking Station", "All In One", "Sub Notebook", "Space-saving", "Lunch Box",
        "Main Server Chassis", "Expansion Chassis", "Sub Chassis", "Bus Expansion Chassis", "Peripheral Chassis",
        "RAID Chassis", "Rack Mount Chassis", "Sealed-case PC", "Multi-system", "CompactPCI", "AdvancedTCA", "Blade",
        "Blade Enclosure", "Tablet", "Convertible", "Detachable", "IoT Gateway", "Embedded PC", "Mini PC", "Stick PC",
    ]

    mutating func hardware() {
        cpu()
        memory()
        dmiFacts()
        if let data = snap.content("/proc/sysinfo") {
            for k in ["system_vendor", "product_version", "product_serial", "product_name", "product_uuid"] { facts[k] = "NA" }
            for line in pythonSplitLines(data) {
                if let m = line.firstMatch(of: #/^Manufacturer:\s+(.+)$/#) { facts["system_vendor"] = Self.text(String(m.1)) }
                if let m = line.firstMatch(of: #/^Type:\s+(.+)$/#) { facts["product_name"] = Self.text(String(m.1)) }
                if let m = line.firstMatch(of: #/^Sequence Code:\s+0+(.+)$/#) { facts["product_serial"] = Self.text(String(m.1)) }
            }
        }
        devices()
        if let up = snap.content("/proc/uptime"), let secs = Double(up.split(separator: " ").first ?? "") {
            facts["uptime_seconds"] = .int(Int(secs))
        }
        lvm()
        mounts()
    }

    mutating func cpu() {
        guard let info = snap.files["/proc/cpuinfo"] else { return }
        var xen = snap.exists("/proc/xen")
        if !xen, let first = snap.lines("/sys/hypervisor/type").first, first.pythonStripped() == "xen" { xen = true }
        var xenParavirt = false
        var processors: [Value] = []
        var i = 0, vendorIDs = 0, modelNames = 0, processorLines = 0
        var physid = "0", coreid = "0"
        var sockets: [(String, Int)] = [], cores: [(String, Int)] = []
        func set(_ list: inout [(String, Int)], _ k: String, _ v: Int) {
            if let idx = list.firstIndex(where: { $0.0 == k }) { list[idx].1 = v } else { list.append((k, v)) }
        }
        var zp = 0, zmt = 0
        for line in pythonSplitLines(info.pythonStripped()) {
            let parts = line.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            let key = parts[0].pythonStripped()
            let val = parts.count > 1 ? parts[1].pythonStripped() : ""
            if xen && key == "flags" && !val.contains("vme") { xenParavirt = true }
            if key == "flags" { facts["flags"] = .list(val.split(whereSeparator: { $0.isWhitespace }).map { Self.text(String($0)) }) }
            if ["model name", "Processor", "vendor_id", "cpu", "Vendor", "processor"].contains(key) {
                processors.append(Self.text(val))
                if key == "vendor_id" { vendorIDs += 1 }
                if key == "model name" { modelNames += 1 }
                if key == "processor" { processorLines += 1 }
                i += 1
            } else if key == "physical id" {
                physid = val
                if !sockets.contains(where: { $0.0 == physid }) { set(&sockets, physid, 1) }
            } else if key == "core id" {
                coreid = val
                if !sockets.contains(where: { $0.0 == coreid }) { set(&cores, coreid, 1) }
            } else if key == "cpu cores" {
                set(&sockets, physid, Int(val) ?? 0)
            } else if key == "siblings" {
                set(&cores, coreid, Int(val) ?? 0)
            } else if key == "# processors" {
                zp = Int(val) ?? 0
            } else if key == "max thread id" {
                zmt = (Int(val) ?? 0) + 1
            } else if key == "ncpus active" {
                i = Int(val) ?? 0
            }
        }
        facts["processor"] = .list(processors)
        if vendorIDs > 0 && vendorIDs == modelNames { i = vendorIDs }
        let arch = facts["architecture"]?.stringValue ?? ""
        if arch.hasPrefix("armv") || arch.hasPrefix("aarch") || arch.hasPrefix("ppc") { i = processorLines }
        if arch == "s390x" {
            facts["processor_count"] = 1
            facts["processor_cores"] = .int(zmt == 0 ? 0 : Int((Double(zp) / Double(zmt)).rounded(.toNearestOrEven)))
            facts["processor_threads_per_core"] = .int(zmt)
            facts["processor_vcpus"] = .int(zp)
            facts["processor_nproc"] = .int(zp)
        } else if xenParavirt {
            for k in ["processor_count", "processor_cores", "processor_vcpus", "processor_nproc"] { facts[k] = .int(i) }
            facts["processor_threads_per_core"] = 1
        } else {
            let count = sockets.isEmpty ? i : sockets.count
            let coresPerSocket = (sockets.first?.1 ?? 0) != 0 ? sockets.first!.1 : 1
            let threads = Int((Double(cores.first?.1 ?? 1) / Double(coresPerSocket)).rounded(.toNearestOrEven))
            facts["processor_count"] = .int(count)
            facts["processor_cores"] = .int(coresPerSocket)
            facts["processor_threads_per_core"] = .int(threads)
            facts["processor_vcpus"] = .int(threads * count * coresPerSocket)
            facts["processor_nproc"] = .int(processorLines)
        }
        // os.sched_getaffinity(0): the CPUs this process may run on.
        if let n = command("nproc").flatMap({ Int($0) }) {
            facts["processor_nproc"] = .int(n)
        } else if let line = snap.lines("/proc/self/status").first(where: { $0.hasPrefix("Cpus_allowed_list:") }) {
            var n = 0
            for range in line.dropFirst("Cpus_allowed_list:".count).pythonStripped().split(separator: ",") {
                let b = range.split(separator: "-").compactMap { Int($0) }
                n += b.count == 2 ? b[1] - b[0] + 1 : 1
            }
            facts["processor_nproc"] = .int(n)
        }
    }

    mutating func memory() {
        guard let data = snap.files["/proc/meminfo"] else { return }
        var stats: [String: Int] = [:]
        let original: Set<String> = ["MemTotal", "SwapTotal", "MemFree", "SwapFree"]
        let all = original.union(["Buffers", "Cached", "SwapCached"])
        for line in pythonSplitLines(data.pythonStripped()) {
            let parts = line.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(parts[0])
            guard all.contains(key), parts.count > 1 else { continue }
            let value = (Int(parts[1].pythonStripped().split(separator: " ").first ?? "") ?? 0) / 1024
            if original.contains(key) { facts[key.lowercased() + "_mb"] = .int(value) }
            stats[key.lowercased()] = value
        }
        func v(_ x: Int?) -> Value { x.map(Value.int) ?? .null }
        let realUsed = stats["memtotal"].flatMap { t in stats["memfree"].map { t - $0 } }
        var nocacheFree: Int?
        if let c = stats["cached"], let f = stats["memfree"], let b = stats["buffers"] { nocacheFree = c + f + b }
        let nocacheUsed = stats["memtotal"].flatMap { t in nocacheFree.map { t - $0 } }
        let swapUsed = stats["swaptotal"].flatMap { t in stats["swapfree"].map { t - $0 } }
        facts["memory_mb"] = [
            "real": ["total": v(stats["memtotal"]), "used": v(realUsed), "free": v(stats["memfree"])],
            "nocache": ["free": v(nocacheFree), "used": v(nocacheUsed)],
            "swap": ["total": v(stats["swaptotal"]), "free": v(stats["swapfree"]), "used": v(swapUsed), "cached": v(stats["swapcached"])],
        ]
    }

    mutating func dmiFacts() {
        let dir = "/sys/devices/virtual/dmi/id/"
        if snap.exists(dir + "product_name") {
            for entry in Self.dmiFiles {
                guard let data = snap.content(dir + entry.file) else { facts[entry.key] = "NA"; continue }
                if entry.key == "form_factor" {
                    if let n = Int(data), n >= 0, n < Self.formFactors.count {
                        facts["form_factor"] = Self.text(Self.formFactors[n])
                    } else {
                        facts["form_factor"] = Self.text("unknown (\(data))")
                    }
                } else {
                    facts[entry.key] = Self.text(data)
                }
            }
        } else if snap.programs.contains("dmidecode") {
            for entry in Self.dmiFiles {
                guard let out = snap.output("dmi \(entry.keyword)") else { facts[entry.key] = "NA"; continue }
                let value = pythonSplitLines(out).filter { !$0.hasPrefix("#") }.joined()
                facts[entry.key] = Self.text(value)
            }
        } else {
            for entry in Self.dmiFiles { facts[entry.key] = "NA" }
        }
    }

    /// `bytes_to_human`: "0.00 Bytes", "8.00 GB".
    static func bytesToHuman(_ size: Double) -> String {
        let ranges: [(String, Double)] = [
            ("Y", 0x1p80), ("Z", 0x1p70), ("E", 0x1p60), ("P", 0x1p50), ("T", 0x1p40), ("G", 0x1p30), ("M", 0x1p20), ("K", 1024), ("B", 1),
        ]
        var suffix = "B", limit = 1.0
        for (s, l) in ranges {
            suffix = s; limit = l
            if size >= l { break }
        }
        let unit = limit != 1 ? suffix + "B" : "Bytes"
        return String(format: "%.2f %@", size / limit, unit)
    }

    mutating func devices() {
        guard snap.exists("/sys/block") else { return }
        func linkMap(_ dir: String) -> [String: [String]]? {
            guard snap.exists(dir) else { return nil }
            var map: [String: Set<String>] = [:]
            for (path, target) in snap.links where path.hasPrefix(dir + "/") && !path.dropFirst(dir.count + 1).contains("/") {
                let entry = String(path.dropFirst(dir.count + 1))
                let base = String(target.split(separator: "/").last ?? "")
                map[base, default: []].insert(entry)
            }
            return map.mapValues { $0.sorted() }
        }
        var masters: [String: Set<String>] = [:]
        for path in snap.exists where path.hasPrefix("/sys/block/") && path.contains("/slaves/") {
            let e = path.split(separator: "/", omittingEmptySubsequences: false)
            if e.count >= 6 { masters[String(e[5]), default: []].insert(String(e[3])) }
        }
        let linkTypes: [(String, [String: [String]])] = [
            ("ids", linkMap("/dev/disk/by-id") ?? [:]), ("uuids", linkMap("/dev/disk/by-uuid") ?? [:]),
            ("labels", linkMap("/dev/disk/by-label") ?? [:]), ("masters", masters.mapValues { $0.sorted() }),
        ]
        func linksValue(_ map: [String: [String]]) -> Value {
            .dict(ValueDict(map.sorted(by: { $0.key < $1.key }).map { ($0.key, .list($0.value.map(Self.text))) }, uniquingKeysWith: { $1 }))
        }
        facts["device_links"] = .dict(ValueDict(linkTypes.map { ($0.0, linksValue($0.1)) }, uniquingKeysWith: { $1 }))
        var wwn: [String: String] = [:]
        for (path, target) in snap.links where path.hasPrefix("/dev/disk/by-id/wwn-") {
            wwn[String(target.split(separator: "/").last ?? "")] = String(path.dropFirst("/dev/disk/by-id/wwn-".count))
        }
        let pci = snap.output("lspci")
        var devices = ValueDict()
        let blocks = Set(snap.links.keys.filter { $0.hasPrefix("/sys/block/") && $0.split(separator: "/").count == 3 })
            .union(snap.exists.filter { $0.hasPrefix("/sys/block/") && $0.split(separator: "/").count == 3 }).sorted()
        for blockPath in blocks {
            let block = String(blockPath.dropFirst("/sys/block/".count))
            var virtual = 1
            let sysdir: String
            if let target = snap.links[blockPath] {
                sysdir = Self.normalizePath("/sys/block/" + target)
            } else {
                sysdir = blockPath
                if (snap.directories[sysdir] ?? []).contains(where: { $0.contains("device") }) { virtual = 0 }
            }
            let rawDir = snap.links[blockPath].map { "/sys/block/" + $0 } ?? blockPath
            func content(_ rel: String) -> String? { snap.content(rawDir + "/" + rel) }
            var d = ValueDict()
            d["virtual"] = .int(virtual)
            d["links"] = .dict(ValueDict(linkTypes.map { ($0.0, .list(($0.1[block] ?? []).map(Self.text))) }, uniquingKeysWith: { $1 }))
            let diskname = String(sysdir.split(separator: "/").last ?? "")
            for key in ["vendor", "model", "sas_address", "sas_device_handle"] {
                d[key] = content("device/" + key).map(Self.text) ?? .null
            }
            if snap.programs.contains("sg_inq") {
                if let out = snap.output("sg_inq \(block)"),
                    let m = out.firstMatch(of: #/(?:Unit serial|Serial) number:\s+(\w+)/#)
                {
                    d["serial"] = Self.text(String(m.1))
                }
            } else if let serial = snap.content("/sys/block/\(block)/device/serial") ?? content("device/serial") {
                d["serial"] = Self.text(serial)
            }
            d["removable"] = content("removable").map(Self.text) ?? .null
            d["support_discard"] = content("queue/discard_max_hw_bytes") == "0"
                ? "0" : (content("queue/discard_granularity").map(Self.text) ?? .null)
            if let w = wwn[diskname] { d["wwn"] = Self.text(w) }
            var partitions = ValueDict()
            let partDirs = snap.exists.filter { $0.hasPrefix(rawDir + "/") && !$0.dropFirst(rawDir.count + 1).contains("/") }.sorted()
            for partDir in partDirs {
                let folder = String(partDir.dropFirst(rawDir.count + 1))
                guard let m = folder.firstMatch(of: try! Regex("(" + NSRegularExpression.escapedPattern(for: diskname) + #"[p]?\d+)"#)),
                    let name = m.output[1].substring.map(String.init)
                else { continue }
                let dir = rawDir + "/" + name
                var part = ValueDict()
                part["links"] = .dict(ValueDict(linkTypes.map { ($0.0, .list(($0.1[name] ?? []).map(Self.text))) }, uniquingKeysWith: { $1 }))
                part["start"] = snap.content(dir + "/start").map(Self.text) ?? 0
                let sectorSize = snap.content(dir + "/queue/logical_block_size") ?? snap.content(dir + "/queue/hw_sector_size") ?? "512"
                part["sectorsize"] = Self.text(sectorSize)
                let sectors = (Int(snap.content(dir + "/size") ?? "0") ?? 0) * 512 / max(1, Int(sectorSize) ?? 512)
                part["sectors"] = .int(sectors)
                part["size"] = Self.text(Self.bytesToHuman(Double(sectors) * Double(Int(sectorSize) ?? 512)))
                let uuid = snap.links.first(where: { $0.key.hasPrefix("/dev/disk/by-uuid/") && $0.value.split(separator: "/").last.map(String.init) == name })
                part["uuid"] = uuid.map { Self.text(String($0.key.dropFirst("/dev/disk/by-uuid/".count))) } ?? .null
                part["holders"] = holders(dir)
                partitions[name] = .dict(part)
            }
            d["partitions"] = .dict(partitions)
            d["rotational"] = content("queue/rotational").map(Self.text) ?? .null
            var scheduler = ""
            if let s = content("queue/scheduler"), let m = s.firstMatch(of: #/.*?(\[(.*)\])/#) { scheduler = String(m.2) }
            d["scheduler_mode"] = Self.text(scheduler)
            let sectorSize = content("queue/logical_block_size") ?? content("queue/hw_sector_size") ?? "512"
            d["sectorsize"] = Self.text(sectorSize)
            let sectors = (Int(content("size") ?? "0") ?? 0) * 512 / max(1, Int(sectorSize) ?? 512)
            d["sectors"] = .int(sectors)
            d["size"] = Self.text(Self.bytesToHuman(Double(sectors) * Double(Int(sectorSize) ?? 512)))
            var hostName = ""
            if let m = sysdir.firstMatch(of: #/.+\/([a-f0-9]{4}:[a-f0-9]{2}:[0|1][a-f0-9]\.[0-7])\//#), let pci {
                let id = String(m.1)
                for line in pythonSplitLines(pci) where line.hasPrefix(id) {
                    let rest = line.dropFirst(id.count)
                    if let f = rest.first, f.isWhitespace { hostName = String(rest.dropFirst()); break }
                }
            }
            d["host"] = Self.text(hostName)
            d["holders"] = holders(rawDir)
            devices[diskname] = .dict(d)
        }
        facts["devices"] = .dict(devices)
    }

    func holders(_ dir: String) -> Value {
        var list: [Value] = []
        for path in snap.exists.sorted() where path.hasPrefix(dir + "/holders/") {
            let folder = String(path.dropFirst(dir.count + "/holders/".count))
            guard !folder.contains("/"), folder.hasPrefix("dm-") else { continue }
            list.append(Self.text(snap.content(path + "/dm/name") ?? folder))
        }
        return .list(list)
    }

    /// Resolves `.` and `..` in an absolute path (as os.path.join + the kernel would).
    static func normalizePath(_ path: String) -> String {
        var parts: [Substring] = []
        for p in path.split(separator: "/") {
            if p == "." || p.isEmpty { continue }
            if p == ".." { _ = parts.popLast(); continue }
            parts.append(p)
        }
        return "/" + parts.joined(separator: "/")
    }

    mutating func lvm() {
        guard snap.programs.contains("vgs"), let vgsOut = snap.output("vgs") else {
            facts["lvm"] = "N/A"
            return
        }
        func rows(_ s: String?) -> [[String]] {
            pythonSplitLines(s ?? "").map { $0.pythonStripped().components(separatedBy: ",") }.filter { $0.count >= 3 }
        }
        var vgs = ValueDict(), lvs = ValueDict(), pvs = ValueDict()
        for r in rows(vgsOut) where r.count >= 4 {
            vgs[r[0]] = ["size_g": Self.text(r[r.count - 2]), "free_g": Self.text(r[r.count - 1]), "num_lvs": Self.text(r[2]), "num_pvs": Self.text(r[1])]
        }
        for r in rows(snap.output("lvs")) where r.count >= 4 { lvs[r[0]] = ["size_g": Self.text(r[3]), "vg": Self.text(r[1])] }
        for r in rows(snap.output("pvs")) where r.count >= 6 {
            pvs[r[0]] = ["size_g": Self.text(r[4]), "free_g": Self.text(r[5]), "vg": Self.text(r[1])]
        }
        facts["lvm"] = ["lvs": .dict(lvs), "vgs": .dict(vgs), "pvs": .dict(pvs)]
    }

    static func unescapeOctal(_ s: String) -> String {
        guard s.contains("\\") else { return s }
        var out = String.UnicodeScalarView()
        let scalars = Array(s.unicodeScalars)
        var i = 0
        while i < scalars.count {
            if scalars[i] == "\\", i + 3 < scalars.count,
                scalars[(i + 1)..<(i + 4)].allSatisfy({ ("0"..."7").contains($0) }),
                let v = UInt32(String(String.UnicodeScalarView(scalars[(i + 1)..<(i + 4)])), radix: 8),
                let u = Unicode.Scalar(v)
            {
                out.append(u)
                i += 4
            } else {
                out.append(scalars[i])
                i += 1
            }
        }
        return String(out)
    }

    mutating func mounts() {
        var bindMounts = Set<String>()
        if let out = snap.output("findmnt") {
            for line in pythonSplitLines(out) {
                let f = line.split(whereSeparator: { $0.isWhitespace })
                if f.count >= 2, f[1].firstMatch(of: #/^.*\]/#) != nil { bindMounts.insert(String(f[0])) }
            }
        }
        var uuids: [String: String] = [:]
        if let out = snap.output("lsblk") {
            for raw in pythonSplitLines(out) where !raw.isEmpty {
                let line = raw.pythonStripped()
                guard let split = line.lastIndex(where: { $0.isWhitespace }) else { continue }
                let name = String(line[..<split].pythonStripped()), uuid = String(line[line.index(after: split)...].pythonStripped())
                if uuids[name] == nil { uuids[name] = uuid }
            }
        }
        let mtab = snap.exists("/etc/mtab") ? "/etc/mtab" : "/proc/mounts"
        var list: [Value] = []
        for line in pythonSplitLines(snap.files[mtab]?.pythonStripped() ?? "") {
            let rawFields = line.split(whereSeparator: { $0.isWhitespace }).map(String.init)
            guard rawFields.count >= 4 else { continue }
            let fields = rawFields.map(Self.unescapeOctal)
            let (device, mount, fstype, options) = (fields[0], fields[1], fields[2], fields[3])
            if (!(device.hasPrefix("/") || device.hasPrefix("\\")) && !device.contains(":/")) || fstype == "none" { continue }
            var info = ValueDict()
            info["mount"] = Self.text(mount)
            info["device"] = Self.text(device)
            info["fstype"] = Self.text(fstype)
            var opts = options
            if bindMounts.contains(mount), opts.firstMatch(of: #/(?:^|,)bind(?:,|$)/#) == nil { opts += ",bind" }
            info["options"] = Self.text(opts)
            info["dump"] = .int(rawFields.count > 4 ? Int(fields[4]) ?? 0 : 0)
            info["passno"] = .int(rawFields.count > 5 ? Int(fields[5]) ?? 0 : 0)
            if let out = snap.output("statfs \(rawFields[1])") {
                let n = out.split(whereSeparator: { $0.isWhitespace }).compactMap { Int($0) }
                if n.count == 6 {
                    let (frsize, bsize, blocks, bavail, files, ffree) = (n[0], n[1], n[2], n[3], n[4], n[5])
                    info["size_total"] = .int(frsize * blocks)
                    info["size_available"] = .int(frsize * bavail)
                    info["block_size"] = .int(bsize)
                    info["block_total"] = .int(blocks)
                    info["block_available"] = .int(bavail)
                    info["block_used"] = .int(blocks - bavail)
                    info["inode_total"] = .int(files)
                    info["inode_available"] = .int(ffree)
                    info["inode_used"] = .int(files - ffree)
                }
            }
            var uuid = "N/A"
            if let u = uuids[device] {
                uuid = u
            } else if let out = snap.output("udev \(rawFields[0])"), let m = out.firstMatch(of: #/ID_FS_UUID=(.*)\n/#) {
                uuid = String(m.1)
            }
            info["uuid"] = Self.text(uuid.isEmpty ? "N/A" : uuid)
            list.append(.dict(info))
        }
        facts["mounts"] = .list(list)
    }

    // MARK: network

    mutating func dns() {
        var d = ValueDict()
        for line in pythonSplitLines(snap.files["/etc/resolv.conf"]?.pythonStripped() ?? "") {
            if line.hasPrefix("#") || line.hasPrefix(";") || line.pythonStripped().isEmpty { continue }
            let tokens = line.split(whereSeparator: { $0.isWhitespace }).map(String.init)
            guard let first = tokens.first else { continue }
            switch first {
            case "nameserver":
                var l = d["nameservers"]?.listValue ?? []
                l.append(contentsOf: tokens.dropFirst().map(Self.text))
                d["nameservers"] = .list(l)
            case "domain":
                if tokens.count > 1 { d["domain"] = Self.text(tokens[1]) }
            case "search": d["search"] = .list(tokens.dropFirst().map(Self.text))
            case "sortlist": d["sortlist"] = .list(tokens.dropFirst().map(Self.text))
            case "options":
                var o = ValueDict()
                for option in tokens.dropFirst() {
                    let kv = option.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
                    o[String(kv[0])] = kv.count == 2 && !kv[1].isEmpty ? Self.text(String(kv[1])) : true
                }
                d["options"] = .dict(o)
            default: break
            }
        }
        facts["dns"] = .dict(d)
    }

    static let interfaceTypes = ["1": "ether", "32": "infiniband", "512": "ppp", "772": "loopback", "65534": "tunnel"]

    mutating func network() {
        guard snap.programs.contains("ip") else { return }
        var defaults: [String: ValueDict] = ["v4": [:], "v6": [:]]
        let targets = ["v4": "8.8.8.8", "v6": "2404:6800:400a:800::1012"]
        for v in ["v4", "v6"] {
            guard let out = snap.commands["route_\(v)"]?.output, !out.isEmpty else { continue }
            let words = (pythonSplitLines(out).first ?? "").split(whereSeparator: { $0.isWhitespace }).map(String.init)
            guard let first = words.first, first == targets[v] else { continue }
            for i in 0..<(words.count - 1) {
                if words[i] == "dev" { defaults[v]!["interface"] = Self.text(words[i + 1]) }
                else if words[i] == "src" { defaults[v]!["address"] = Self.text(words[i + 1]) }
                else if words[i] == "via" && words[i + 1] != targets[v] { defaults[v]!["gateway"] = Self.text(words[i + 1]) }
            }
        }
        var interfaces = ValueDict()
        var all4: [Value] = [], all6: [Value] = []
        let devicePaths = snap.exists.filter { $0.hasPrefix("/sys/class/net/") && $0.split(separator: "/").count == 4 }.sorted()
        for path in devicePaths {
            let device = String(path.dropFirst("/sys/class/net/".count))
            var d = ValueDict()
            d["device"] = Self.text(device)
            let macaddress = snap.files[path + "/address"].map { $0.pythonStripped() } ?? ""
            if !macaddress.isEmpty && macaddress != "00:00:00:00:00:00" { d["macaddress"] = Self.text(macaddress) }
            if let mtu = snap.content(path + "/mtu").flatMap({ Int($0) }) { d["mtu"] = .int(mtu) }
            if snap.files[path + "/operstate"] != nil { d["active"] = .bool(snap.content(path + "/operstate") != "down") }
            if let module = snap.links[path + "/device/driver/module"] { d["module"] = Self.text(String(module.split(separator: "/").last ?? "")) }
            if let type = snap.content(path + "/type") { d["type"] = Self.text(Self.interfaceTypes[type] ?? "unknown") }
            if snap.exists(path + "/bridge") {
                d["type"] = "bridge"
                d["interfaces"] = .list((snap.directories[path + "/brif"] ?? []).map(Self.text))
                if let id = snap.files[path + "/bridge/bridge_id"] { d["id"] = Self.text(id.pythonStripped()) }
                if snap.files[path + "/bridge/stp_state"] != nil { d["stp"] = .bool(snap.content(path + "/bridge/stp_state") == "1") }
            }
            if snap.exists(path + "/bonding") {
                d["type"] = "bonding"
                d["slaves"] = .list((snap.content(path + "/bonding/slaves") ?? "").split(whereSeparator: { $0.isWhitespace }).map { Self.text(String($0)) })
                for k in ["mode", "miimon", "lacp_rate"] {
                    d[k] = Self.text(String((snap.content(path + "/bonding/" + k) ?? "").split(whereSeparator: { $0.isWhitespace }).first ?? ""))
                }
                if let primary = snap.content(path + "/bonding/primary") {
                    d["primary"] = Self.text(primary)
                    if snap.files[path + "/bonding/all_slaves_active"] != nil {
                        d["all_slaves_active"] = .bool(snap.content(path + "/bonding/all_slaves_active") == "1")
                    }
                }
            }
            if snap.exists(path + "/bonding_slave") {
                d["perm_macaddress"] = Self.text(snap.content(path + "/bonding_slave/perm_hwaddr") ?? "")
            }
            if let target = snap.links[path + "/device"] { d["pciid"] = Self.text(String(target.split(separator: "/").last ?? "")) }
            if let speed = snap.content(path + "/speed").flatMap({ Int($0) }) { d["speed"] = .int(speed) }
            if let flags = snap.content(path + "/flags"), let bits = Int(flags.hasPrefix("0x") ? String(flags.dropFirst(2)) : flags, radix: 16) {
                d["promisc"] = .bool(bits & 0x0100 > 0)
            }
            interfaces[device] = .dict(d)

            func parse(_ output: String, secondary: Bool) {
                for line in pythonSplitLines(output) where !line.isEmpty {
                    let words = line.split(whereSeparator: { $0.isWhitespace }).map(String.init)
                    guard let kind = words.first else { continue }
                    if kind == "inet", words.count > 1 {
                        var address = words[1], prefix = "32", broadcast = ""
                        if address.contains("/") {
                            let p = address.split(separator: "/", maxSplits: 1).map(String.init)
                            address = p[0]; prefix = p.count > 1 ? p[1] : "32"
                            if words.count > 3, words[2] == "brd" { broadcast = words[3] }
                        }
                        guard let addr = Self.ipv4(address), let bits = Int(prefix), (0...32).contains(bits) else { continue }
                        let mask: UInt32 = bits == 0 ? 0 : UInt32.max << (32 - UInt32(bits))
                        let entry: Value = [
                            "address": Self.text(address), "broadcast": Self.text(broadcast),
                            "netmask": Self.text(Self.ipv4String(mask)), "network": Self.text(Self.ipv4String(addr & mask)),
                            "prefix": Self.text(prefix),
                        ]
                        let iface = words.last!
                        if iface != device { interfaces[iface] = .dict([:]) }
                        var target = interfaces[iface]?.dictValue ?? [:]
                        if !secondary && target["ipv4"] == nil {
                            target["ipv4"] = entry
                        } else {
                            var l = target["ipv4_secondaries"]?.listValue ?? []
                            l.append(entry)
                            target["ipv4_secondaries"] = .list(l)
                        }
                        interfaces[iface] = .dict(target)
                        if secondary {
                            var dev = interfaces[device]?.dictValue ?? [:]
                            var l = dev["ipv4_secondaries"]?.listValue ?? []
                            if device != iface { l.append(entry) }
                            dev["ipv4_secondaries"] = .list(l)
                            interfaces[device] = .dict(dev)
                        }
                        if defaults["v4"]!["address"]?.stringValue == address {
                            let dev = interfaces[device]?.dictValue ?? [:]
                            defaults["v4"]!["broadcast"] = Self.text(broadcast)
                            defaults["v4"]!["netmask"] = Self.text(Self.ipv4String(mask))
                            defaults["v4"]!["network"] = Self.text(Self.ipv4String(addr & mask))
                            defaults["v4"]!["prefix"] = Self.text(prefix)
                            defaults["v4"]!["macaddress"] = Self.text(macaddress)
                            defaults["v4"]!["mtu"] = dev["mtu"] ?? .null
                            defaults["v4"]!["type"] = dev["type"] ?? "unknown"
                            defaults["v4"]!["alias"] = Self.text(iface)
                        }
                        if !address.hasPrefix("127.") { all4.append(Self.text(address)) }
                    } else if kind == "inet6", words.count > 3 {
                        let address: String, prefix: String, scope: String
                        if words[2] == "peer", words.count > 5 {
                            address = words[1]
                            prefix = String(words[3].split(separator: "/").last ?? "")
                            scope = words[5]
                        } else {
                            let p = words[1].split(separator: "/", maxSplits: 1).map(String.init)
                            address = p[0]; prefix = p.count > 1 ? p[1] : ""
                            scope = words[3]
                        }
                        var dev = interfaces[device]?.dictValue ?? [:]
                        var l = dev["ipv6"]?.listValue ?? []
                        l.append(["address": Self.text(address), "prefix": Self.text(prefix), "scope": Self.text(scope)])
                        dev["ipv6"] = .list(l)
                        interfaces[device] = .dict(dev)
                        if defaults["v6"]!["address"]?.stringValue == address {
                            defaults["v6"]!["prefix"] = Self.text(prefix)
                            defaults["v6"]!["scope"] = Self.text(scope)
                            defaults["v6"]!["macaddress"] = Self.text(macaddress)
                            defaults["v6"]!["mtu"] = dev["mtu"] ?? .null
                            defaults["v6"]!["type"] = dev["type"] ?? "unknown"
                        }
                        if address != "::1" { all6.append(Self.text(address)) }
                    }
                }
            }
            if let primary = snap.output("primary \(device)") {
                parse(primary, secondary: false)
            } else if let all = snap.output("all \(device)") {
                parse(all, secondary: false)
            }
            if let secondary = snap.output("secondary \(device)") { parse(secondary, secondary: true) }
            if snap.programs.contains("ethtool") {
                var dev = interfaces[device]?.dictValue ?? [:]
                if let out = snap.output("ethtool-k \(device)") {
                    var features = ValueDict()
                    for line in pythonSplitLines(out.pythonStripped()) where !line.isEmpty && !line.hasSuffix(":") {
                        let kv = line.components(separatedBy: ": ")
                        guard kv.count == 2, !kv[1].isEmpty else { continue }
                        features[kv[0].pythonStripped().replacingOccurrences(of: "-", with: "_")] = Self.text(kv[1].pythonStripped())
                    }
                    dev["features"] = .dict(features)
                }
                if let out = snap.output("ethtool-T \(device)") {
                    dev["timestamping"] = .list(out.matches(of: #/SOF_TIMESTAMPING_(\w+)/#).map { Self.text(String($0.1).lowercased()) })
                    dev["hw_timestamp_filters"] = .list(out.matches(of: #/HWTSTAMP_FILTER_(\w+)/#).map { Self.text(String($0.1).lowercased()) })
                    if let m = out.firstMatch(of: #/PTP Hardware Clock: (\d+)/#), let n = Int(m.1) { dev["phc_index"] = .int(n) }
                }
                interfaces[device] = .dict(dev)
            }
        }
        var names: [Value] = []
        for (name, value) in interfaces {
            let key = name.replacingOccurrences(of: ":", with: "_")
            names.append(Self.text(key))
            facts[key] = value
        }
        facts["interfaces"] = .list(names)
        facts["default_ipv4"] = .dict(defaults["v4"]!)
        facts["default_ipv6"] = .dict(defaults["v6"]!)
        facts["all_ipv4_addresses"] = .list(all4)
        facts["all_ipv6_addresses"] = .list(all6)
        var reachable4: [Value] = [], reachable6: [Value] = []
        for name in ["local_v4", "local_v6"] {
            guard let out = snap.output(name) else { continue }
            for line in pythonSplitLines(out) where !line.isEmpty {
                let words = line.split(whereSeparator: { $0.isWhitespace }).map(String.init)
                guard words.count > 1, words[0] == "local" else { continue }
                let a = Self.text(words[1])
                if words[1].contains(":") { if !reachable6.contains(a) { reachable6.append(a) } } else if !reachable4.contains(a) { reachable4.append(a) }
            }
        }
        facts["locally_reachable_ips"] = ["ipv4": .list(reachable4), "ipv6": .list(reachable6)]
    }

    static func ipv4(_ s: String) -> UInt32? {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var v: UInt32 = 0
        for p in parts {
            guard let n = UInt32(p), n < 256 else { return nil }
            v = v << 8 | n
        }
        return v
    }

    static func ipv4String(_ v: UInt32) -> String { "\(v >> 24).\(v >> 16 & 255).\(v >> 8 & 255).\(v & 255)" }

    // MARK: local facts

    mutating func local() {
        var local = ValueDict()
        let factFiles = Set(snap.exists.filter { $0.hasSuffix(".fact") }).union(snap.commands.keys.filter { $0.hasPrefix("local ") }.map { String($0.dropFirst(6)) })
        for path in factFiles.sorted() {
            let base = String((path.split(separator: "/").last ?? "").replacingOccurrences(of: ".fact", with: ""))
            let out: String
            if let c = snap.commands["local \(path)"] {
                guard c.rc == 0 else {
                    local[base] = Self.text("Failure executing fact script (\(path)), rc: \(c.rc), err: ")
                    continue
                }
                out = c.output
            } else {
                out = snap.content(path) ?? ""
            }
            local[base] = Self.parseLocalFact(out, path: path)
        }
        facts["local"] = .dict(local)
    }

    /// A local fact file's output: JSON, else INI (sections of options), else an error string.
    static func parseLocalFact(_ text: String, path: String) -> Value {
        let trimmed = text.pythonStripped()
        if let v = try? Value(json: trimmed) { return v }
        var sections = ValueDict()
        var current: String?
        for raw in pythonSplitLines(text) {
            let line = raw.pythonStripped()
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                current = String(line.dropFirst().dropLast())
                if sections[current!] == nil { sections[current!] = .dict([:]) }
                continue
            }
            guard let section = current, let sep = line.firstIndex(where: { $0 == "=" || $0 == ":" }) else {
                return text.isEmpty ? .dict([:]) : Self.text("error loading facts as JSON or ini - please check content: \(path)")
            }
            var d = sections[section]?.dictValue ?? [:]
            d[line[..<sep].pythonStripped().lowercased()] = Self.text(line[line.index(after: sep)...].pythonStripped())
            sections[section] = .dict(d)
        }
        return .dict(sections)
    }
}

extension StringProtocol {
    /// Python's `str.capitalize()`: the first character upper case, the rest lower case.
    func pythonCapitalized() -> String {
        guard let first = first else { return "" }
        return String(first).uppercased() + dropFirst().lowercased()
    }

    /// Python's `str.rstrip()`.
    func pythonRStripped() -> String {
        var s = Substring(self)
        while let l = s.last, l.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
