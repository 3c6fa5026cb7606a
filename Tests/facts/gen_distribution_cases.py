#!/usr/bin/env python3
"""Records ansible-core's distribution facts for canned release files (run with the oracle venv's python:
`/path/to/venv/bin/python Tests/facts/gen_distribution_cases.py`). Writes
Tests/SwansibleCoreTests/Fixtures/facts_distribution.json, which SetupFactsTests replays through swansible's
FactCollectors. ansible-core's own code computes every expected value here: its file reads are pointed at a scratch
root holding the canned files, and `lsb_release` is absent."""
import json
import os
import tempfile
from pathlib import Path
from unittest import mock

import importlib

_distro = importlib.import_module("ansible.module_utils.distro._distro")
from ansible.module_utils.facts.system import distribution as dist_mod

OUT = Path(__file__).resolve().parents[1] / "SwansibleCoreTests" / "Fixtures" / "facts_distribution.json"

CASES = {
    "debian12": {
        "/etc/os-release": 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n'
                           'VERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n'
                           'HOME_URL="https://www.debian.org/"\n',
        "/etc/debian_version": "12.11\n",
    },
    "ubuntu2204": {
        "/etc/os-release": 'PRETTY_NAME="Ubuntu 22.04.4 LTS"\nNAME="Ubuntu"\nVERSION_ID="22.04"\n'
                           'VERSION="22.04.4 LTS (Jammy Jellyfish)"\nVERSION_CODENAME=jammy\nID=ubuntu\nID_LIKE=debian\n'
                           'UBUNTU_CODENAME=jammy\n',
        "/etc/debian_version": "bookworm/sid\n",
        "/etc/lsb-release": "DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=22.04\nDISTRIB_CODENAME=jammy\n"
                            'DISTRIB_DESCRIPTION="Ubuntu 22.04.4 LTS"\n',
    },
    "rocky9": {
        "/etc/os-release": 'NAME="Rocky Linux"\nVERSION="9.3 (Blue Onyx)"\nID="rocky"\nID_LIKE="rhel centos fedora"\n'
                           'VERSION_ID="9.3"\nPLATFORM_ID="platform:el9"\nPRETTY_NAME="Rocky Linux 9.3 (Blue Onyx)"\n',
        "/etc/redhat-release": "Rocky Linux release 9.3 (Blue Onyx)\n",
        "/etc/rocky-release": "Rocky Linux release 9.3 (Blue Onyx)\n",
        "/etc/system-release": "Rocky Linux release 9.3 (Blue Onyx)\n",
    },
    "rhel8": {
        "/etc/os-release": 'NAME="Red Hat Enterprise Linux"\nVERSION="8.9 (Ootpa)"\nID="rhel"\nID_LIKE="fedora"\n'
                           'VERSION_ID="8.9"\nPRETTY_NAME="Red Hat Enterprise Linux 8.9 (Ootpa)"\n',
        "/etc/redhat-release": "Red Hat Enterprise Linux release 8.9 (Ootpa)\n",
    },
    "centos7": {
        "/etc/os-release": 'NAME="CentOS Linux"\nVERSION="7 (Core)"\nID="centos"\nID_LIKE="rhel fedora"\n'
                           'VERSION_ID="7"\nPRETTY_NAME="CentOS Linux 7 (Core)"\n',
        "/etc/centos-release": "CentOS Linux release 7.9.2009 (Core)\n",
        "/etc/redhat-release": "CentOS Linux release 7.9.2009 (Core)\n",
    },
    "alpine319": {
        "/etc/os-release": 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME="Alpine Linux v3.19"\n',
        "/etc/alpine-release": "3.19.1\n",
    },
    "arch": {
        "/etc/os-release": 'NAME="Arch Linux"\nPRETTY_NAME="Arch Linux"\nID=arch\nBUILD_ID=rolling\n',
        "/etc/arch-release": "",
    },
    "opensuse155": {
        "/etc/os-release": 'NAME="openSUSE Leap"\nVERSION="15.5"\nID="opensuse-leap"\nID_LIKE="suse opensuse"\n'
                           'VERSION_ID="15.5"\nPRETTY_NAME="openSUSE Leap 15.5"\n',
    },
    "amazon2023": {
        "/etc/os-release": 'NAME="Amazon Linux"\nVERSION="2023"\nID="amzn"\nID_LIKE="fedora"\nVERSION_ID="2023"\n'
                           'PRETTY_NAME="Amazon Linux 2023.3.20240131"\n',
        "/etc/system-release": "Amazon Linux release 2023.3.20240131 (Amazon Linux)\n",
    },
    "none": {},
}

KEYS = ("distribution", "distribution_version", "distribution_release", "distribution_major_version", "os_family",
        "distribution_file_path", "distribution_file_variety", "distribution_file_parsed",
        "distribution_minor_version", "distribution_file_search_string")


class Module:
    def get_bin_path(self, *a, **k):
        return None

    def run_command(self, *a, **k):
        return 1, "", ""

    def debug(self, *a):
        pass


def record(files: dict) -> dict:
    with tempfile.TemporaryDirectory() as root:
        for path, text in files.items():
            p = Path(root + path)
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text)
        fake = _distro.LinuxDistribution(include_lsb=False, include_uname=False, include_oslevel=False,
                                         os_release_file=root + "/etc/os-release"
                                         if os.path.exists(root + "/etc/os-release") else root + "/usr/lib/os-release",
                                         distro_release_file="")
        fake.etc_dir = root + "/etc"
        real_exists, real_getsize = os.path.exists, os.path.getsize

        def reroot(f):
            def g(path, *a, **k):
                return f(root + path if isinstance(path, str) and path.startswith("/") else path, *a, **k)
            return g

        with mock.patch.object(_distro, "_distro", fake), \
                mock.patch.object(dist_mod, "get_file_content", reroot(dist_mod.get_file_content)), \
                mock.patch.object(dist_mod, "get_file_lines", reroot(dist_mod.get_file_lines)), \
                mock.patch.object(dist_mod, "_file_exists", reroot(dist_mod._file_exists)), \
                mock.patch("platform.system", return_value="Linux"), \
                mock.patch("platform.release", return_value="6.1.0"), \
                mock.patch("platform.version", return_value="#1 SMP"):
            facts = dist_mod.Distribution(module=Module()).get_distribution_facts()
    return {k: facts[k] for k in KEYS if k in facts}


def main():
    out = {"generator": "Tests/facts/gen_distribution_cases.py", "cases": []}
    for name, files in CASES.items():
        out["cases"].append({"name": name, "files": files, "expected": record(files)})
    OUT.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    for c in out["cases"]:
        print(c["name"], c["expected"])


if __name__ == "__main__":
    main()
