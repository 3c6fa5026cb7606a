#!/usr/bin/env python3
"""swansible's conformance suite: differential tests against ansible-core 2.19 (Tests/conformance/README.md).

For every case directory Playbooks/conformance/<case>/ this runs the playbook with ansible-playbook (recording
with callback_plugins/swansible_record.py) and with `swansible play` (plain, then with --json --events), resetting
the test hosts' state before each run, and compares exit codes, the task-keyed result structure ("seed"), the
ordered events, the recap and the default callback's stdout, after the normalisation rules in Normaliser (each rule
says why it exists). Differences listed in the case's expected-differences.json are reported as known.

Python 3 standard library only; runs on the system python3 (ansible-core runs from its own venv).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import difflib
import fnmatch
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
CASES_DIR = REPO / "Playbooks" / "conformance"
DOCS_FILE = REPO / "Docs" / "compatibility.md"
PLUGIN_DIR = HERE / "callback_plugins"
STUB = HERE / "ansible-as-swansible"
CONF_ROOT = Path("/tmp/swansible-conf")          # per-case state on the hosts: /tmp/swansible-conf/<case>/
DEFAULT_OUT = Path("/tmp/swansible-conformance")  # run artifacts: <out>/<case>/...
ANSIBLE_VERSION = "2.19.14"

ALL_ASPECTS = ("rc", "seed", "events", "recap", "stdout", "stderr")
DEFAULT_ASPECTS = ("rc", "seed", "events", "recap", "stdout")
CATEGORIES = ("success", "failed", "unreachable", "skipped")
MISSING = object()

print_lock = threading.Lock()


def say(*parts, file=sys.stdout):
    with print_lock:
        print(*parts, file=file, flush=True)


class ConfError(Exception):
    """A problem with the suite's setup or a case's files (not a difference between ansible and swansible)."""


# --- environment -----------------------------------------------------------------------------------------------

@dataclasses.dataclass
class Setup:
    """Everything that depends on the machine: tools, hosts, output directory."""
    venv: Path
    hosts_dir: Path
    hosts: dict
    swansible: Path | None
    out: Path

    @property
    def port(self) -> int:
        return int(self.hosts["hosts"][0]["port"])

    @property
    def ansible_playbook(self) -> Path:
        return self.venv / "bin" / "ansible-playbook"


def find_setup(args) -> Setup:
    venv = Path(os.environ.get("SWANSIBLE_ANSIBLE_VENV") or REPO / ".venv")
    if not (venv / "bin" / "ansible-playbook").is_file():
        raise ConfError(f"no ansible-playbook in {venv}/bin: run `Tests/setup-machine --ansible` (creates "
                        f"<repo>/.venv) or point SWANSIBLE_ANSIBLE_VENV at a venv with ansible-core {ANSIBLE_VERSION}")
    hosts_dir = Path(os.environ.get("SWANSIBLE_HOSTS") or os.environ.get("SWANSIBLE_HOSTS_DIR") or REPO / ".hosts")
    hosts_json = hosts_dir / "hosts.json"
    if not hosts_json.is_file():
        raise ConfError(f"no {hosts_json}: start the test hosts (`Tests/hosts/testhosts start 8`, see "
                        "Docs/testing.md) and set SWANSIBLE_HOSTS to their state directory")
    hosts = json.loads(hosts_json.read_text())
    swansible = None
    if not args.ansible_only and not args.selftest:
        if args.stub:
            swansible = STUB
        elif os.environ.get("SWANSIBLE_BIN"):
            swansible = Path(os.environ["SWANSIBLE_BIN"])
        else:
            scratch = Path(os.environ.get("SWANSIBLE_SCRATCH_PATH") or REPO / ".build")
            swansible = scratch / "debug" / "swansible"
        if not swansible.is_file():
            raise ConfError(f"no swansible binary at {swansible}: build it (swift build), set SWANSIBLE_BIN, or run "
                            "--ansible-only")
    return Setup(venv=venv, hosts_dir=hosts_dir.resolve(), hosts=hosts, swansible=swansible,
                 out=Path(args.out).resolve())


# --- cases -----------------------------------------------------------------------------------------------------

@dataclasses.dataclass
class Case:
    name: str
    dir: Path
    meta: dict
    expected_differences: list

    @property
    def conf_dir(self) -> Path:
        return CONF_ROOT / self.name

    @property
    def aspects(self) -> tuple:
        return tuple(self.meta.get("compare", DEFAULT_ASPECTS))

    @property
    def timeout(self) -> int:
        return int(self.meta.get("timeout", 240))

    @property
    def features(self) -> list:
        return list(self.meta["features"])

    def inventory_args(self, inventory: Path) -> list:
        """`-i <generated inventory>`, or nothing for a case that is a whole project whose ansible.cfg names its
        own inventory (`"own_inventory": true`)."""
        return [] if self.meta.get("own_inventory") else ["-i", inventory]

    def extra_env(self, setup) -> dict:
        """The case's `env` (placeholders filled): machine-specific settings for a project case, given to both
        tools alike."""
        return {k: fill(str(v), setup, self, f"{self.dir}/case.json env {k}") for k, v in self.meta.get("env", {}).items()}


CASE_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def load_case(path: Path) -> Case:
    name = path.name
    if not CASE_NAME.match(name):
        raise ConfError(f"{path}: case names are lower-case letters, digits and dashes")
    if not (path / "site.yml").is_file():
        raise ConfError(f"{path}: no site.yml")
    meta_file = path / "case.json"
    if not meta_file.is_file():
        raise ConfError(f"{path}: no case.json (features it proves; README.md)")
    meta = json.loads(meta_file.read_text())
    unknown = set(meta) - {"title", "features", "compare", "timeout", "exclusive", "hosts", "notes", "own_inventory",
                          "env"}
    if unknown:
        raise ConfError(f"{meta_file}: unknown fields {sorted(unknown)}")
    if not meta.get("features"):
        raise ConfError(f"{meta_file}: `features` (a non-empty list) is required")
    for aspect in meta.get("compare", []):
        if aspect not in ALL_ASPECTS:
            raise ConfError(f"{meta_file}: unknown aspect {aspect!r} in compare (known: {', '.join(ALL_ASPECTS)})")
    expected = []
    ed_file = path / "expected-differences.json"
    if ed_file.is_file():
        expected = json.loads(ed_file.read_text())
        for i, entry in enumerate(expected):
            if not entry.get("reason") or entry.get("kind") not in ALL_ASPECTS + ("task_order", "problem"):
                raise ConfError(f"{ed_file}: entry {i} needs `reason` and a `kind` ({', '.join(ALL_ASPECTS)}, "
                                "task_order, problem)")
            unknown = set(entry) - {"kind", "task", "host", "category", "path", "contains", "reason"}
            if unknown:
                raise ConfError(f"{ed_file}: entry {i}: unknown fields {sorted(unknown)}")
    return Case(name=name, dir=path, meta=meta, expected_differences=expected)


def load_cases(names: list[str] | None) -> list[Case]:
    dirs = sorted(p for p in CASES_DIR.iterdir() if p.is_dir()) if CASES_DIR.is_dir() else []
    if names:
        by_name = {p.name: p for p in dirs}
        missing = [n for n in names if n not in by_name]
        if missing:
            raise ConfError(f"no such case: {', '.join(missing)} (cases: {', '.join(by_name) or 'none'})")
        dirs = [by_name[n] for n in names]
    return [load_case(p) for p in dirs]


# --- placeholders ----------------------------------------------------------------------------------------------

DEFAULT_INVENTORY = "[testhosts]\n@HOSTS:3@\n\n[testhosts:vars]\n@CONN_VARS@\n"
PLACEHOLDER = re.compile(r"@([A-Z_]+)(?::([A-Za-z0-9_-]+))?@")


def fill(text: str, setup: Setup, case: Case, where: str) -> str:
    """Fills the @NAME@ / @NAME:ARG@ placeholders (README.md lists them) from hosts.json and the case."""
    hosts = setup.hosts
    by_name = {h["name"]: h for h in hosts["hosts"]}
    port = setup.port

    def host_line(h):
        return f'{h["name"]} ansible_host={h["address"]} ansible_port={h["port"]}'

    def conn_vars():
        return "\n".join([
            f'ansible_user={hosts["users"]["plain"]["name"]}',
            f'ansible_ssh_private_key_file={hosts["keys"]["ed25519"]}',
            f"ansible_ssh_common_args='-o UserKnownHostsFile={hosts['known_hosts']}'",
            "ansible_python_interpreter=/usr/bin/python3",
        ])

    def replace(m):
        key, arg = m.group(1), m.group(2)
        simple = {
            "PORT": str(port),
            "REFUSED": hosts["faults"]["refused"]["address"],
            "SILENT": hosts["faults"]["silent"]["address"],
            "BLACKHOLE": hosts["faults"]["blackhole"]["address"],
            "APPLIANCE": hosts["appliance"]["address"],
            "USER": hosts["users"]["plain"]["name"],
            "PASSWORD": hosts["users"]["plain"]["password"],
            "SUDO_USER": hosts["users"]["sudopass"]["name"],
            "SUDO_PASSWORD": hosts["users"]["sudopass"]["password"],
            "KEY": hosts["keys"]["ed25519"],
            "KEY_ECDSA": hosts["keys"]["ecdsa"],
            "KNOWN_HOSTS": hosts["known_hosts"],
            "HOSTS_DIR": str(setup.hosts_dir),
            "CONF_DIR": str(case.conf_dir),
            "CASE": case.name,
            "CASE_DIR": str(case.dir),
        }
        if arg is None and key in simple:
            return simple[key]
        if key == "CONN_VARS" and arg is None:
            return conn_vars()
        if key == "HOSTS" and arg and arg.isdigit():
            n = int(arg)
            if n > len(hosts["hosts"]):
                raise ConfError(f"{where}: @HOSTS:{n}@ needs {n} test hosts, {len(hosts['hosts'])} are started")
            return "\n".join(host_line(h) for h in hosts["hosts"][:n])
        if key in ("HOST", "ADDR") and arg:
            if arg not in by_name:
                raise ConfError(f"{where}: @{key}:{arg}@: no test host {arg} (started: {len(by_name)})")
            return host_line(by_name[arg]) if key == "HOST" else by_name[arg]["address"]
        raise ConfError(f"{where}: unknown placeholder {m.group(0)}")

    return PLACEHOLDER.sub(replace, text)


# --- host state ------------------------------------------------------------------------------------------------

def reset_state(case: Case, setup: Setup, log: Path):
    """Gives the case a fresh /tmp/swansible-conf/<case>/ (the hosts share this machine's file system) and runs its
    reset.sh, so both tools start from the same state."""
    conf = case.conf_dir
    CONF_ROOT.mkdir(exist_ok=True)
    try:
        CONF_ROOT.chmod(0o1777)
    except PermissionError:
        pass
    if conf.exists() or conf.is_symlink():
        shutil.rmtree(conf) if conf.is_dir() and not conf.is_symlink() else conf.unlink()
    conf.mkdir()
    conf.chmod(0o777)  # the remote users (swtest, swsudo) write here
    user = setup.hosts["users"]["plain"]["name"]
    if os.geteuid() == 0:
        try:
            shutil.chown(conf, user=user, group=user)
        except (LookupError, PermissionError):
            pass
    reset = case.dir / "reset.sh"
    if reset.is_file():
        env = dict(os.environ, CONF_DIR=str(conf), CASE=case.name, CASE_DIR=str(case.dir),
                   SWANSIBLE_HOSTS=str(setup.hosts_dir), HOSTS_JSON=str(setup.hosts_dir / "hosts.json"),
                   CONF_USER=user)
        p = subprocess.run(["bash", str(reset)], cwd=case.dir, env=env, capture_output=True, text=True, timeout=120)
        log.write_text(p.stdout + p.stderr)
        if p.returncode != 0:
            raise ConfError(f"{reset} failed with exit code {p.returncode}:\n{p.stdout}{p.stderr}")


# --- running ---------------------------------------------------------------------------------------------------

@dataclasses.dataclass
class Proc:
    rc: int | None
    stdout: str
    stderr: str
    seconds: float
    problem: str | None = None


def run_proc(cmd, cwd, env, timeout, out_dir: Path, name: str) -> Proc:
    """Runs a process in its own session (so a timeout ends it and its children, and nothing else)."""
    t0 = time.monotonic()
    try:
        p = subprocess.Popen([str(c) for c in cmd], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    except OSError as e:
        return Proc(None, "", "", 0.0, f"cannot start {cmd[0]}: {e}")
    try:
        out, err = p.communicate(timeout=timeout)
        problem = None
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        problem = f"{name} timed out after {timeout} s"
    proc = Proc(p.returncode if problem is None else None, out.decode("utf-8", "replace"),
                err.decode("utf-8", "replace"), time.monotonic() - t0, problem)
    (out_dir / "stdout").write_text(proc.stdout)
    (out_dir / "stderr").write_text(proc.stderr)
    (out_dir / "command").write_text(shlex.join(str(c) for c in cmd) + f"\n# exit code: {proc.rc}\n")
    return proc


def base_env(home: Path) -> dict:
    """The environment both tools run with. Nothing from the caller's ANSIBLE_* leaks in, so a developer's settings
    cannot change the outcome; SWANSIBLE_* variables pass through (swansible may have debugging switches)."""
    env = {k: v for k, v in os.environ.items() if k.startswith("SWANSIBLE_")}
    env.update({
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "HOME": str(home),                  # no ~/.ansible.cfg, ~/.ansible of the caller
        "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
        "ANSIBLE_STDOUT_CALLBACK": "default",
        "ANSIBLE_NOCOLOR": "1", "NO_COLOR": "1",
        "ANSIBLE_NOCOWS": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",      # no __pycache__ in Tests/conformance/callback_plugins
    })
    # No ANSIBLE_CONFIG: a case's own ansible.cfg in its directory (the working directory) counts, for both tools.
    return env


def stop_control_masters(cp_dir: Path):
    """Ends the OpenSSH ControlPersist masters ansible-core left in its (per-run) control path directory."""
    for sock in cp_dir.glob("*"):
        subprocess.run(["ssh", "-o", f"ControlPath={sock}", "-O", "exit", "swansible-conformance"],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=20)
    shutil.rmtree(cp_dir, ignore_errors=True)


def read_args(case: Case, setup: Setup) -> list[str]:
    f = case.dir / "args"
    if not f.is_file():
        return []
    text = fill(f.read_text(), setup, case, str(f))
    return [a for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")
            for a in shlex.split(line)]


def prepare_run_dir(case: Case, setup: Setup) -> tuple[Path, Path]:
    run_dir = setup.out / case.name
    if run_dir.exists():
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True)
    inv_src = case.dir / "inventory"
    template = inv_src.read_text() if inv_src.is_file() else DEFAULT_INVENTORY.replace(
        "@HOSTS:3@", "@HOSTS:%d@" % int(case.meta.get("hosts", 3)))
    inventory = run_dir / "inventory"
    inventory.write_text(fill(template, setup, case, str(inv_src)))
    return run_dir, inventory


def run_ansible(case: Case, setup: Setup, run_dir: Path, inventory: Path, args: list[str]) -> "Observation":
    side = run_dir / "ansible"
    (side / "home").mkdir(parents=True)
    reset_state(case, setup, side / "reset.log")
    record = side / "record.json"
    cp_dir = Path(tempfile.mkdtemp(prefix="swcp", dir="/tmp"))  # short: unix socket paths are limited to 108 bytes
    env = base_env(side / "home")
    env.update(case.extra_env(setup))
    env.update({
        "ANSIBLE_CALLBACK_PLUGINS": str(PLUGIN_DIR),
        "ANSIBLE_CALLBACKS_ENABLED": "swansible_record",
        "SWANSIBLE_RECORD_FILE": str(record),
        "ANSIBLE_SSH_CONTROL_PATH_DIR": str(cp_dir),
    })
    cmd = [setup.ansible_playbook, *case.inventory_args(inventory), "site.yml", *args]
    try:
        proc = run_proc(cmd, case.dir, env, case.timeout, side, "ansible-playbook")
    finally:
        stop_control_masters(cp_dir)
    obs = Observation(rc=proc.rc, stdout=proc.stdout, stderr=proc.stderr)
    if proc.problem:
        obs.problems.append(proc.problem)
    if not record.is_file():
        # ansible-core stopped before it loaded the callbacks (a playbook that does not parse): no seed, no events,
        # no recap. The other side then must not have any either (compare()).
        return obs
    rec = json.loads(record.read_text())
    obs.seed = {k: rec["seed"][k] for k in rec["task_keys"]}
    obs.events = rec["events"]
    obs.stats = rec["stats"]
    return obs


def run_swansible(case: Case, setup: Setup, run_dir: Path, inventory: Path, args: list[str]) -> "Observation":
    """Two runs: a plain one for the exit code and the default callback's stdout, and one with --json --events for
    the seed, the events and the recap (swansible's stdout then is the JSON)."""
    obs = Observation()
    if setup.swansible is None or not setup.swansible.is_file():
        obs.problems.append(f"no swansible binary at {setup.swansible} (build it, or set SWANSIBLE_BIN)")
        return obs
    plain = run_dir / "swansible"
    (plain / "home").mkdir(parents=True)
    reset_state(case, setup, plain / "reset.log")
    env = base_env(plain / "home")
    env.update(case.extra_env(setup))
    env["SWANSIBLE_ANSIBLE_VENV"] = str(setup.venv)  # only the stub (ansible-as-swansible) uses it
    proc = run_proc([setup.swansible, "play", *case.inventory_args(inventory), "site.yml", *args], case.dir, env,
                    case.timeout,
                    plain, "swansible play")
    obs.rc, obs.stdout, obs.stderr = proc.rc, proc.stdout, proc.stderr
    if proc.problem:
        obs.problems.append(proc.problem)

    js = run_dir / "swansible-json"
    (js / "home").mkdir(parents=True)
    reset_state(case, setup, js / "reset.log")
    events_file = js / "events.jsonl"
    env = base_env(js / "home")
    env.update(case.extra_env(setup))
    env["SWANSIBLE_ANSIBLE_VENV"] = str(setup.venv)
    proc = run_proc([setup.swansible, "play", *case.inventory_args(inventory), "site.yml", "--json", "--events",
                     events_file, *args], case.dir, env, case.timeout, js, "swansible play --json")
    if proc.problem:
        obs.problems.append(proc.problem)
    obs.rc_json = proc.rc
    # Empty output is what a run that never started a playbook may print (compare() checks that ansible-core did
    # not start it either); anything else must parse.
    if proc.stdout.strip():
        try:
            obs.seed = parse_seed(proc.stdout)
        except ValueError as e:
            obs.problems.append(f"swansible --json: stdout is not the task-keyed JSON object: {e}")
    if events_file.is_file() and events_file.read_text().strip():
        try:
            obs.events = parse_events(events_file.read_text())
            stats = [e for e in obs.events if e.get("event") == "stats"]
            obs.stats = stats[-1].get("stats") if stats else None
        except ValueError as e:
            obs.problems.append(f"swansible --events: {e}")
    return obs


def parse_seed(text: str) -> dict:
    def pairs(items):
        d = {}
        for k, v in items:
            if k in d:
                raise ValueError(f"duplicate key {k!r}")
            d[k] = v
        return d
    try:
        seed = json.loads(text, object_pairs_hook=pairs)
    except json.JSONDecodeError as e:
        raise ValueError(f"{e} (stdout starts {text[:200]!r})") from None
    if not isinstance(seed, dict):
        raise ValueError(f"a JSON {type(seed).__name__}, not an object")
    return seed


def parse_events(text: str) -> list:
    events = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            e = json.loads(line)
        except json.JSONDecodeError as ex:
            raise ValueError(f"line {n} is not JSON: {ex}") from None
        if not isinstance(e, dict) or "event" not in e or "seq" not in e:
            raise ValueError(f"line {n}: an event is an object with `seq` and `event`: {line[:200]}")
        events.append(e)
    return events


# --- observations and fixtures ---------------------------------------------------------------------------------

@dataclasses.dataclass
class Observation:
    """What one tool did in one case (for swansible: its plain run plus its --json run)."""
    rc: int | None = None
    stdout: str = ""
    stderr: str = ""
    seed: dict | None = None
    events: list | None = None
    stats: dict | None = None
    rc_json: int | None = MISSING  # swansible only: the exit code of the --json run
    problems: list = dataclasses.field(default_factory=list)


def sorted_deep(v):
    if isinstance(v, dict):
        return {k: sorted_deep(v[k]) for k in sorted(v)}
    if isinstance(v, list):
        return [sorted_deep(x) for x in v]
    return v


def write_observation(d: Path, obs: Observation):
    """Writes an observation as files: a case's expected/ (ansible-core's normalised recording, for people to read
    and for --ansible-only to check the suite against), or <run dir>/normalised/<side>/ (what was compared)."""
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    (d / "rc").write_text(f"{obs.rc}\n")
    if obs.rc_json is not MISSING:
        (d / "rc_json").write_text(f"{obs.rc_json}\n")
    (d / "stdout.txt").write_text(obs.stdout)
    (d / "stderr.txt").write_text(obs.stderr)
    seed = None if obs.seed is None else {k: sorted_deep(v) for k, v in obs.seed.items()}
    (d / "seed.json").write_text(json.dumps(seed, indent=2, ensure_ascii=False) + "\n")
    (d / "events.jsonl").write_text("".join(json.dumps(e, sort_keys=True, ensure_ascii=False) + "\n"
                                            for e in obs.events or []))
    (d / "stats.json").write_text(json.dumps(obs.stats, indent=2, sort_keys=True) + "\n")


def read_fixtures(case: Case) -> Observation:
    d = case.dir / "expected"
    if not (d / "rc").is_file():
        raise ConfError(f"{case.name}: no recorded fixtures in {d}; record them with "
                        f"`Tests/conformance/run --ansible-only --record --case {case.name}`")
    rc = (d / "rc").read_text().strip()
    return Observation(
        rc=None if rc == "None" else int(rc),
        stdout=(d / "stdout.txt").read_text(),
        stderr=(d / "stderr.txt").read_text(),
        seed=json.loads((d / "seed.json").read_text()),
        events=parse_events((d / "events.jsonl").read_text()),
        stats=json.loads((d / "stats.json").read_text()),
    )


# --- normalisation ---------------------------------------------------------------------------------------------

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$")
DELTA = re.compile(r"^\d+:\d\d:\d\d\.\d{6}$")

# Facts whose values change from one gathering to the next on the same host. Paths below ansible_facts; "*" is
# one level of any key or list index. Their values become "<VOLATILE:type>" (the type stays compared).
VOLATILE_FACTS = [
    "ansible_date_time/*",                                  # the clock
    "ansible_memfree_mb", "ansible_swapfree_mb",            # memory use of the machine
    "ansible_memory_mb/*/free", "ansible_memory_mb/*/used", "ansible_memory_mb/swap/cached",
    "ansible_loadavg/*", "ansible_uptime_seconds",          # load, uptime
    "ansible_mounts/*/block_used", "ansible_mounts/*/block_available", "ansible_mounts/*/size_available",
    "ansible_mounts/*/inode_used", "ansible_mounts/*/inode_available",  # disk use (other tests write files)
    "ansible_env/SSH_CLIENT", "ansible_env/SSH_CONNECTION",  # the client's source port of this connection
    "ansible_env/SSH_TTY",                                   # the pty the kernel handed out (-tt)
]
# Facts that are lists built from an unordered source (a set or a directory listing): compared sorted.
UNORDERED_FACTS = ["ansible_interfaces", "ansible_virtualization_tech_guest", "ansible_virtualization_tech_host"]


class Normaliser:
    """Replaces what must differ between two runs (or two machines) and nothing else. Applied to both sides."""

    def __init__(self, setup: Setup, case: Case, run_dir: Path):
        # Rule P (paths): the repository, case directory, hosts directory and run directory are wherever the
        # checkout is; ansible-core prints the playbook's absolute path in error origins ("Origin: .../site.yml:3:5").
        self.paths = sorted([(str(case.dir), "<CASE_DIR>"), (str(REPO), "<REPO>"),
                             (str(setup.hosts_dir), "<HOSTS_DIR>"), (str(run_dir), "<RUN_DIR>")],
                            key=lambda p: -len(p[0]))
        # Rule N (port): the hosts' port is 2222 in CI and another one next to it (SWANSIBLE_HOSTS_PORT); OpenSSH
        # names it in unreachable messages ("ssh: connect to host 127.254.0.2 port 2222: Connection refused").
        port = setup.port
        self.port_res = [(re.compile(rf"\bport {port}\b"), "port <PORT>"), (re.compile(rf"\]:{port}\b"), "]:<PORT>")]

    # Rule T (remote temporary directories): ansible-core names them after the time, its pid and a random number.
    TMP_RES = [(re.compile(r"ansible-tmp-\d+(?:\.\d+)?-\d+-\d+"), "ansible-tmp-<ID>"),
               (re.compile(r"ansible-local-\d+[A-Za-z0-9_]+"), "ansible-local-<ID>"),
               (re.compile(r"AnsiballZ_[A-Za-z0-9_]+\.py"), "AnsiballZ_<MODULE>.py")]
    # Rule U (uuids): random by definition (async job ids, generated names).
    UUID_RE = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
    # Rule C (command timing) in printed JSON: "start"/"end" are wall-clock times and "delta" the run time of a
    # command (command, shell, raw, script); they are compared for their format only.
    TEXT_TIME_RES = [(re.compile(r'"(start|end)": "\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}"'), r'"\1": "<TIMESTAMP>"'),
                     (re.compile(r'"delta": "\d+:\d\d:\d\d\.\d{6}"'), '"delta": "<DELTA>"')]

    def text(self, s: str) -> str:
        for path, token in self.paths:
            s = s.replace(path, token)
        for rx, token in self.port_res:
            s = rx.sub(token, s)
        for rx, token in self.TMP_RES:
            s = rx.sub(token, s)
        return self.UUID_RE.sub("<UUID>", s)

    def printed(self, s: str) -> str:
        s = self.text(s)
        for rx, token in self.TEXT_TIME_RES:
            s = rx.sub(token, s)
        return s

    # Rule K (file-module temporaries): the remote file a copy came from is a temporary name (ansible-core: its
    # remote temporary directory; swansible: a mktemp file beside dest); `content` is staged under a random local
    # name (`_original_basename`); backup files carry a pid and the time. stat's times, inode and inode generation
    # differ on every reset of the case's files.
    # (ansible-core's directory is ~/.ansible/tmp, or /var/tmp when it becomes an unprivileged user.)
    UPLOADED_SRC_RE = re.compile(r"(/ansible-tmp-[^/]+/\.source[^/]*|/\.swansible-tmp-[A-Za-z0-9]+)$")
    CONTENT_NAME_RE = re.compile(r"^\.[a-z0-9_]{8}$")
    BACKUP_RE = re.compile(r"\.\d+\.\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d~$")
    STAT_VOLATILE = ("atime", "mtime", "ctime", "inode", "version")
    # Rule C also covers pause's measured duration (a Python float rounded to 2 decimals).
    PAUSED_RE = re.compile(r"^Paused for \d+\.\d+ (seconds|minutes)$")

    def value(self, v, key=None):
        """A result value: strings through text(); timing keys (rule C) by format; facts (rule F)."""
        if isinstance(v, str):
            if key in ("start", "end", "stop") and TIMESTAMP.match(v):
                return "<TIMESTAMP>"
            if key == "stdout" and self.PAUSED_RE.match(v):
                return self.PAUSED_RE.sub(r"Paused for <FLOAT> \1", v)
            if key in ("start", "end") and TIMESTAMP.match(v):
                return "<TIMESTAMP>"
            if key == "delta" and DELTA.match(v):
                return "<DELTA>"
            if key == "src" and self.UPLOADED_SRC_RE.search(v):
                return "<UPLOADED_SRC>"
            if key == "_original_basename" and self.CONTENT_NAME_RE.match(v):
                return "<CONTENT_TEMPFILE>"
            if key in ("backup_file", "backup") and self.BACKUP_RE.search(v):
                return self.text(self.BACKUP_RE.sub(".<PID>.<TIME>~", v))
            return self.text(v)
        if isinstance(v, dict) and key == "stat" and "exists" in v:
            return {k: (f"<VOLATILE:{type(x).__name__}>" if k in self.STAT_VOLATILE and x is not None
                        and not (isinstance(x, str) and x.startswith("<VOLATILE:")) else self.value(x, k))
                    for k, x in v.items()}
        if isinstance(v, list):
            return [self.value(x) for x in v]
        if isinstance(v, dict):
            out = {}
            for k, x in v.items():
                if k == "ansible_facts" and isinstance(x, dict):
                    out[k] = self.facts(self.value(x))
                else:
                    out[k] = self.value(x, k)
            return out
        return v

    # Rule F (facts): VOLATILE_FACTS change between two gatherings; UNORDERED_FACTS have no defined order.
    @staticmethod
    def facts(facts: dict) -> dict:
        def mark(v):
            if v is None or isinstance(v, (dict, list)) or (isinstance(v, str) and v.startswith("<VOLATILE:")):
                return v  # idempotent: a recording is normalised again when it is read
            return f"<VOLATILE:{type(v).__name__}>"

        def walk(node, parts):
            if not parts:
                return
            head, rest = parts[0], parts[1:]
            if isinstance(node, dict):
                keys = list(node) if head == "*" else [head] if head in node else []
            elif isinstance(node, list):
                keys = list(range(len(node))) if head == "*" else []
            else:
                return
            for k in keys:
                if rest:
                    walk(node[k], rest)
                elif isinstance(node[k], dict):
                    node[k] = {kk: mark(vv) for kk, vv in node[k].items()}
                else:
                    node[k] = mark(node[k])

        for path in VOLATILE_FACTS:
            walk(facts, path.split("/"))
        for name in UNORDERED_FACTS:
            if isinstance(facts.get(name), list):
                facts[name] = sorted(facts[name], key=lambda x: json.dumps(x, sort_keys=True))
        return facts

    def observation(self, obs: Observation) -> Observation:
        return dataclasses.replace(
            obs,
            stdout=canonical_stdout(self.printed(obs.stdout)),
            stderr=self.printed(obs.stderr),
            seed=None if obs.seed is None else {self.text(k): self.value(v) for k, v in obs.seed.items()},
            events=None if obs.events is None else [self.value(e) for e in obs.events],
            stats=obs.stats,
            problems=[self.text(p) for p in obs.problems],
        )


# Rule M (machine facts), only when ansible-core is compared with its recording (--ansible-only): the recording may
# come from another machine, and the facts setup gathers describe the machine (host name, kernel, memory,
# interfaces, ...). Such an `ansible_facts` dict (it has `ansible_hostname`) is compared as present, not by content.
# ansible-core against swansible always compares the facts in full (rule F aside).
def machine_neutral(obs: Observation) -> Observation:
    def walk(v):
        if isinstance(v, dict):
            return {k: "<GATHERED FACTS>" if k == "ansible_facts" and isinstance(x, dict) and "ansible_hostname" in x
                    else walk(x) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x) for x in v]
        return v
    return dataclasses.replace(obs, seed=walk(obs.seed))


# Rule O (host order in stdout): with several forks, ansible-core prints each host's result when it arrives, so
# the order of hosts within a task differs from run to run. canonical_stdout() sorts, within each banner's
# section, the per-host chunks by host (stable, so a host's loop items keep their order) and puts the message
# chunks ([ERROR]/[WARNING]/... blocks, printed once for the first host that hit them) first, sorted by text.
# `FAILED - RETRYING: [host]` lines (until/retries) are per-host lines too: they print as attempts fail.
BANNER = re.compile(r"^(PLAY \[.*|PLAY|TASK \[.*|RUNNING HANDLER \[.*|PLAY RECAP|NO MORE HOSTS LEFT) \*+$")
# A colored line (a case that forces color) starts with its SGR escape sequence.
SGR = r"(?:\x1b\[[0-9;]*m)?"
HOST_LINE = re.compile(r"^" + SGR + r"(ok|changed|skipping|fatal|failed|included|ignored|rescued|unreachable|FAILED - RETRYING)"
                       r": \[([^\]]+)\]")
MESSAGE_LINE = re.compile(r"^" + SGR + r"\[(ERROR|WARNING|DEPRECATION WARNING)\]")


# Rule O also covers `included: <file> for h2, h1, h3`: ansible-core lists the hosts in the order their results
# arrived; the list is sorted.
INCLUDED_LINE = re.compile(r"^(included: .* for )(.+?)( => \(item=.*\))?$")


def sort_included(line: str) -> str:
    m = INCLUDED_LINE.match(line)
    if not m:
        return line
    return m.group(1) + ", ".join(sorted(m.group(2).split(", "))) + (m.group(3) or "")


def canonical_stdout(text: str) -> str:
    lines = [sort_included(line) for line in text.split("\n")]
    out, section = [], []

    def flush():
        if not section:
            return
        chunks = []  # (kind, host, lines): kind 0 = message, 1 = host, and lines before any chunk stay put
        head = []
        for line in section:
            m = HOST_LINE.match(line)
            if m:
                chunks.append([1, m.group(2), [line]])
            elif INCLUDED_LINE.match(line):
                # `included: FILE for HOSTS` follows all the task's host results (ansible-core processes
                # includes once the task is done on every host): its own chunk, after the hosts
                chunks.append([2, line, [line]])
            elif MESSAGE_LINE.match(line):
                chunks.append([0, "", [line]])
            elif chunks:
                chunks[-1][2].append(line)
            else:
                head.append(line)
        # a section ends with the blank line that precedes the next banner: keep it at the end
        tail = []
        if chunks:
            last = chunks[-1][2]
            while len(last) > 1 and last[-1] == "":
                tail.insert(0, last.pop())
        messages = sorted((c for c in chunks if c[0] == 0), key=lambda c: c[2])
        hosts = sorted((c for c in chunks if c[0] == 1), key=lambda c: c[1])
        includes = [c for c in chunks if c[0] == 2]
        out.extend(head)
        for c in messages + hosts + includes:
            out.extend(c[2])
        out.extend(tail)
        section.clear()

    for line in lines:
        if BANNER.match(line):
            flush()
            out.append(line)
        else:
            section.append(line)
    flush()
    return "\n".join(out)


# --- comparison ------------------------------------------------------------------------------------------------

@dataclasses.dataclass
class Diff:
    kind: str                 # rc, seed, task_order, events, recap, stdout, stderr, problem
    message: str
    task: str | None = None
    host: str | None = None
    category: str | None = None
    path: str | None = None
    a: object = MISSING
    b: object = MISSING
    known: str | None = None  # the reason from expected-differences.json

    def text_for_match(self) -> str:
        return "\n".join(show(x, 100000) for x in (self.a, self.b, self.message) if x is not MISSING)


def show(v, limit=300) -> str:
    if v is MISSING:
        return "<absent>"
    s = json.dumps(v, ensure_ascii=False, sort_keys=True) if not isinstance(v, str) else repr(v)
    return s if len(s) <= limit else s[:limit] + "..."


def typed_equal(a, b) -> bool:
    return type(a) is type(b) and a == b


def deep_diff(a, b, path, emit):
    """Calls emit(path, a, b) for every leaf that differs; bool, int and float are different types here."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(a) + [k for k in b if k not in a]:
            deep_diff(a.get(k, MISSING), b.get(k, MISSING), f"{path}/{k}" if path else str(k), emit)
    elif isinstance(a, list) and isinstance(b, list):
        for i in range(max(len(a), len(b))):
            deep_diff(a[i] if i < len(a) else MISSING, b[i] if i < len(b) else MISSING, f"{path}/{i}", emit)
    elif a is MISSING or b is MISSING or type(a) is not type(b) or a != b:
        emit(path, a, b)


def compare(a: Observation, b: Observation, aspects, names=("ansible", "swansible")) -> list[Diff]:
    A, B = names
    diffs = []
    for p in b.problems:
        diffs.append(Diff("problem", f"{B}: {p}"))
    for p in a.problems:
        diffs.append(Diff("problem", f"{A}: {p}"))

    if "rc" in aspects:
        if not typed_equal(a.rc, b.rc):
            diffs.append(Diff("rc", f"exit code: {A} {a.rc}, {B} {b.rc}", a=a.rc, b=b.rc))
        if b.rc_json is not MISSING and not typed_equal(a.rc, b.rc_json):
            diffs.append(Diff("rc", f"exit code of the --json run: {A} {a.rc}, {B} {b.rc_json}", path="json",
                              a=a.rc, b=b.rc_json))

    # None: the tool printed no seed / wrote no events (ansible-core: it never loaded the callbacks because the
    # playbook did not parse). An empty seed or event list counts as none.
    if "seed" in aspects and (a.seed or b.seed):
        if a.seed is None or b.seed is None:
            diffs.append(Diff("seed", f"task keys: {A} {'none' if a.seed is None else show(list(a.seed))}, "
                                      f"{B} {'none' if b.seed is None else show(list(b.seed))}"))
        else:
            diffs.extend(compare_seed(a.seed, b.seed, A, B))

    if "recap" in aspects and not typed_equal(a.stats, b.stats):
        if isinstance(a.stats, dict) and isinstance(b.stats, dict):
            def emit(path, x, y):
                host = path.split("/")[0]
                diffs.append(Diff("recap", f"recap {path}: {A} {show(x)}, {B} {show(y)}", host=host, path=path,
                                  a=x, b=y))
            deep_diff(a.stats, b.stats, "", emit)
        else:
            diffs.append(Diff("recap", f"recap: {A} {show(a.stats)}, {B} {show(b.stats)}", a=a.stats, b=b.stats))

    if "events" in aspects and (a.events or b.events):
        diffs.extend(compare_events(a.events or [], b.events or [], A, B))

    for aspect in ("stdout", "stderr"):
        if aspect in aspects:
            diffs.extend(compare_lines(aspect, getattr(a, aspect), getattr(b, aspect), A, B))
    return diffs


def compare_seed(a: dict, b: dict, A, B) -> list[Diff]:
    diffs = []
    ka, kb = list(a), list(b)
    if ka != kb:
        only_a = [k for k in ka if k not in b]
        only_b = [k for k in kb if k not in a]
        msg = f"task keys differ: {A} {show(ka, 600)}, {B} {show(kb, 600)}"
        if only_a:
            msg += f"; only {A}: {show(only_a)}"
        if only_b:
            msg += f"; only {B}: {show(only_b)}"
        diffs.append(Diff("task_order", msg, a=ka, b=kb))
    for key in ka:
        if key not in b:
            continue
        ta, tb = a[key], b[key]
        if not isinstance(tb, dict):
            diffs.append(Diff("seed", f"task {key!r}: {B} has {show(tb)}, not an object", task=key, a=ta, b=tb))
            continue
        cats = list(CATEGORIES) + [c for c in list(ta) + list(tb) if c not in CATEGORIES]
        for c in cats:
            if (c in ta) != (c in tb) or (c in tb and not isinstance(tb[c], dict)):
                diffs.append(Diff("seed", f"task {key!r}: category {c!r}: {A} {show(ta.get(c, MISSING))}, "
                                          f"{B} {show(tb.get(c, MISSING))}", task=key, category=c,
                                  a=ta.get(c, MISSING), b=tb.get(c, MISSING)))
        where_a = {h: c for c in ta if isinstance(ta[c], dict) for h in ta[c]}
        where_b = {h: c for c in tb if isinstance(tb[c], dict) for h in tb[c]}
        for host in list(where_a) + [h for h in where_b if h not in where_a]:
            ca, cb = where_a.get(host), where_b.get(host)
            if ca != cb:
                diffs.append(Diff("seed", f"task {key!r} host {host}: {A} in {ca or '(nowhere)'}, "
                                          f"{B} in {cb or '(nowhere)'}", task=key, host=host, category=ca or cb,
                                  path="", a=ca, b=cb))
                continue

            def emit(path, x, y, key=key, host=host, cat=ca):
                diffs.append(Diff("seed", f"task {key!r} host {host} ({cat}) key {path or '(result)'}: "
                                          f"{A} {show(x)}, {B} {show(y)}", task=key, host=host, category=cat,
                                  path=path, a=x, b=y))
            deep_diff(ta[ca][host], tb[cb][host], "", emit)
    return diffs


def event_text(e: dict) -> str:
    """An event in one line: `changed task='x' host=h1`; `seq` left out."""
    fields = " ".join(f"{k}={show(v, 200)}" for k, v in sorted(e.items()) if k not in ("seq", "event", "after"))
    text = f"{e.get('event')} {fields}".strip()
    return f"{text} (after {e['after']})" if e.get("after") else text


def event_views(events: list):
    """The global events (no host) in order, and per host its events each tagged with the last global event
    before it: hosts run in parallel, so only each host's own order and its place between the banners count."""
    glob, per_host, last = [], {}, None
    for e in events:
        # warning: swansible's stream also carries the run's warnings (ansible-core's callbacks see none)
        # item_*, included, retry: swansible's stream also carries each loop item and each include (the recorder, like
        # the seed, keeps only the aggregate result and no include or retry events)
        if e.get("event") in ("warning", "included", "retry", "display") or str(e.get("event", "")).startswith("item_"):
            continue
        # seq: compared on its own (1, 2, 3, ...); the stats payload: compared as the recap
        # result: swansible's events carry each host's result for live consumers; it is compared in the seed
        e = {k: v for k, v in e.items()
             if k not in ("seq", "result") and not (k == "stats" and e.get("event") == "stats")}
        if "host" in e:
            per_host.setdefault(e["host"], []).append({"after": last, **e})
        else:
            glob.append(e)
            last = event_text(e)
    return glob, per_host


def compare_events(a: list, b: list, A, B) -> list[Diff]:
    diffs = []
    seqs = [e.get("seq") for e in b]
    if seqs != list(range(1, len(b) + 1)):
        diffs.append(Diff("events", f"{B}: event seq numbers are not 1, 2, 3, ...: {show(seqs)}", a=MISSING,
                          b=seqs))
    ga, ha = event_views(a)
    gb, hb = event_views(b)

    def seq_diff(x, y, host):
        sx = [json.dumps(e, sort_keys=True, ensure_ascii=False) for e in x]
        sy = [json.dumps(e, sort_keys=True, ensure_ascii=False) for e in y]
        for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, sx, sy, autojunk=False).get_opcodes():
            if op == "equal":
                continue
            who = f" of host {host}" if host else ""
            task = next((e.get("task") for e in x[i1:i2] + y[j1:j2] if e.get("task")), None)
            lines = [f"events{who} differ:"] + [f"- {event_text(e)}" for e in x[i1:i2]] + \
                [f"+ {event_text(e)}" for e in y[j1:j2]]
            diffs.append(Diff("events", "\n".join(lines), host=host, task=task, a=x[i1:i2], b=y[j1:j2]))

    seq_diff(ga, gb, None)
    for host in list(ha) + [h for h in hb if h not in ha]:
        seq_diff(ha.get(host, []), hb.get(host, []), host)
    return diffs


def compare_lines(kind, a: str, b: str, A, B) -> list[Diff]:
    la, lb = a.split("\n"), b.split("\n")
    diffs = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, la, lb, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        hunk = [f"{kind} differs at {A} line {i1 + 1}, {B} line {j1 + 1} (- {A}, + {B}):"]
        hunk += [f"  {line}" for line in la[max(0, i1 - 2):i1]]
        hunk += [f"- {line}" for line in la[i1:i2]] + [f"+ {line}" for line in lb[j1:j2]]
        hunk += [f"  {line}" for line in la[i2:i2 + 2]]
        diffs.append(Diff(kind, "\n".join(hunk), path=str(i1 + 1), a="\n".join(la[i1:i2]), b="\n".join(lb[j1:j2])))
    return diffs


def apply_expected(diffs: list[Diff], expected: list) -> list:
    """Marks the diffs an expected-differences.json entry describes; returns the entries that matched nothing."""
    used = [False] * len(expected)
    for d in diffs:
        for i, e in enumerate(expected):
            if e["kind"] != d.kind:
                continue
            if "task" in e and not fnmatch.fnmatchcase(d.task or "", e["task"]):
                continue
            if "host" in e and not fnmatch.fnmatchcase(d.host or "", e["host"]):
                continue
            if "category" in e and e["category"] != d.category:
                continue
            if "path" in e and not fnmatch.fnmatchcase(d.path or "", e["path"]):
                continue
            if "contains" in e and e["contains"] not in d.text_for_match():
                continue
            d.known = e["reason"]
            used[i] = True
            break
    return [e for e, u in zip(expected, used) if not u]


# --- one case --------------------------------------------------------------------------------------------------

@dataclasses.dataclass
class Outcome:
    case: Case
    status: str               # pass, known, fail, error
    diffs: list
    stale: list               # expected differences that did not occur
    seconds: float
    error: str | None = None


def run_case(case: Case, setup: Setup, args) -> Outcome:
    t0 = time.monotonic()
    try:
        run_dir, inventory = prepare_run_dir(case, setup)
        cargs = read_args(case, setup)
        norm = Normaliser(setup, case, run_dir)
        ansible = norm.observation(run_ansible(case, setup, run_dir, inventory, cargs))
        if args.record:
            if ansible.problems:
                raise ConfError("not recording: " + "; ".join(ansible.problems))
            write_observation(case.dir / "expected", ansible)
        if args.ansible_only:
            # The oracle against its own recording: proves the case is deterministic after normalisation.
            recorded = norm.observation(read_fixtures(case))
            diffs = compare(machine_neutral(recorded), machine_neutral(ansible), ALL_ASPECTS,
                            names=("recorded", "ansible"))
            stale = []
        else:
            ours = norm.observation(run_swansible(case, setup, run_dir, inventory, cargs))
            write_observation(run_dir / "normalised" / "swansible", ours)
            diffs = compare(ansible, ours, case.aspects)
            stale = apply_expected(diffs, case.expected_differences)
        write_observation(run_dir / "normalised" / "ansible", ansible)
        (run_dir / "diff.txt").write_text("".join(format_diff(d) + "\n" for d in diffs))
        if any(d.known is None for d in diffs):
            status = "fail"
        elif diffs:
            status = "known"
        else:
            status = "pass"
        return Outcome(case, status, diffs, stale, time.monotonic() - t0)
    except (ConfError, OSError, subprocess.SubprocessError, json.JSONDecodeError, KeyError) as e:
        return Outcome(case, "error", [], [], time.monotonic() - t0, error=f"{type(e).__name__}: {e}")


def format_diff(d: Diff) -> str:
    tag = f"[known: {d.known}] " if d.known else ""
    return f"  {d.kind}: {tag}{d.message}".replace("\n", "\n      ")


def report(o: Outcome, verbose: bool, max_diffs: int):
    label = {"pass": "ok  ", "known": "ok~ ", "fail": "FAIL", "error": "ERR ", "pending": "pend"}[o.status]
    lines = [f"{label} {o.case.name} ({o.seconds:.1f} s)"]
    if o.status == "pending":
        lines[0] += f": pending, {PENDING.get(o.case.name)}"
        say(lines[0])
        return
    if o.error:
        lines.append(f"  {o.error}")
    shown = [d for d in o.diffs if verbose or d.known is None]
    for d in shown[:max_diffs]:
        lines.append(format_diff(d))
    if len(shown) > max_diffs:
        lines.append(f"  ... {len(shown) - max_diffs} more differences (all in {o.case.name}/diff.txt)")
    known = sum(1 for d in o.diffs if d.known)
    if known and not verbose:
        lines.append(f"  ({known} known differences; -v shows them)")
    for e in o.stale:
        lines.append(f"  warning: expected difference did not occur (remove it?): {e['reason']}")
    say("\n".join(lines))


# --- docs ------------------------------------------------------------------------------------------------------

def write_docs(outcomes: list[Outcome], ansible_only: bool):
    status_text = {"pass": "pass", "known": "known difference", "fail": "**fail**", "error": "**error**",
                   "pending": "not yet (pending.json)"}
    rows = []
    for o in sorted(outcomes, key=lambda o: o.case.name):
        status = "not run against swansible" if ansible_only else status_text[o.status]
        link = f"[{o.case.name}](../Playbooks/conformance/{o.case.name}/site.yml)"
        for feature in o.case.features:
            rows.append(f"| {feature} | {status} | {link} |")
    known = []
    for o in sorted(outcomes, key=lambda o: o.case.name):
        for e in o.case.expected_differences:
            known.append(f"- `{o.case.name}` ({e['kind']}): {e['reason']}")
    text = [
        "# Compatibility with ansible-core " + ANSIBLE_VERSION,
        "",
        "<!-- Generated by `Tests/conformance/run --update-docs` from Playbooks/conformance/: do not edit. -->",
        "",
        "Each feature below is proved by a conformance case: the case's playbook runs with ansible-core",
        f"{ANSIBLE_VERSION} and with swansible against the same test hosts, and the suite compares the exit code,",
        "the task-keyed results, the event order, the recap and the printed output",
        "([Tests/conformance/README.md](../Tests/conformance/README.md)).",
        "",
        "Status: **pass**: identical after normalisation; **known difference**: the only differences are listed",
        "in the case's `expected-differences.json` (below); **fail**: swansible differs; **not run against",
        "swansible**: only ansible-core's side was recorded so far.",
        "",
        "| Feature | Status | Case |",
        "|---|---|---|",
        *rows,
        "",
        "## Known differences",
        "",
        *(known or ["None."]),
        "",
    ]
    DOCS_FILE.write_text("\n".join(text))
    say(f"wrote {DOCS_FILE.relative_to(REPO)}")


# --- main ------------------------------------------------------------------------------------------------------

# Cases swansible is known not to pass yet, each with the reason (the feature and the issue that will bring it).
# Their failures are reported as "pending" and do not fail the run; a pending case that passes is reported so
# that it is taken off the list.
PENDING_FILE = HERE / "pending.json"
PENDING = json.loads(PENDING_FILE.read_text()) if PENDING_FILE.exists() else {}


def settle_pending(o):
    if o.case.name in PENDING and o.status in ("fail", "error"):
        o.status = "pending"
    elif o.case.name in PENDING and o.status in ("pass", "known"):
        o.stale.append({"reason": f"pending case passes now: remove {o.case.name!r} from {PENDING_FILE.name}"})
    return o


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        prog="Tests/conformance/run",
        description="Differential tests: every case in Playbooks/conformance/ with ansible-core and swansible.")
    ap.add_argument("--case", action="append", metavar="NAME", help="run only this case (repeatable)")
    ap.add_argument("--jobs", "-j", type=int, default=int(os.environ.get("SWANSIBLE_CONFORMANCE_JOBS", "3")),
                    help="cases to run at the same time (default 3)")
    ap.add_argument("--ansible-only", action="store_true",
                    help="run only ansible-core and compare it with the recorded fixtures (expected/)")
    ap.add_argument("--record", action="store_true",
                    help="write ansible-core's (normalised) recording to each case's expected/ directory")
    ap.add_argument("--stub", action="store_true",
                    help="use Tests/conformance/ansible-as-swansible as swansible (tests the suite itself)")
    ap.add_argument("--update-docs", action="store_true", help=f"rewrite {DOCS_FILE.relative_to(REPO)}")
    ap.add_argument("--out", default=os.environ.get("SWANSIBLE_CONFORMANCE_OUT", str(DEFAULT_OUT)),
                    help=f"directory for each run's files (default {DEFAULT_OUT})")
    ap.add_argument("--list", action="store_true", help="list the cases and the features they prove")
    ap.add_argument("--selftest", action="store_true",
                    help="only run the suite's self-tests (selftest.py; every run starts with them)")
    ap.add_argument("--verbose", "-v", action="store_true", help="also show known differences")
    ap.add_argument("--max-diffs", type=int, default=25, help="differences shown per case (default 25)")
    args = ap.parse_args(argv)

    try:
        cases = load_cases(args.case)
        if args.list:
            for c in cases:
                say(f"{c.name}: " + "; ".join(c.features))
            return 0
        if not cases:
            raise ConfError(f"no cases in {CASES_DIR}")
        if args.update_docs and args.case:
            raise ConfError("--update-docs describes the whole suite: run it without --case")
        setup = find_setup(args)
    except ConfError as e:
        say(f"conformance: error: {e}", file=sys.stderr)
        return 2

    # The suite's own logic first: a comparison that cannot see differences would pass everything.
    p = subprocess.run([str(setup.venv / "bin" / "python"), str(HERE / "selftest.py")], capture_output=True,
                       text=True, env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
    if p.returncode != 0 or args.selftest:
        say(p.stdout + p.stderr, file=sys.stderr if p.returncode else sys.stdout)
        if p.returncode != 0:
            say("conformance: the self-tests (Tests/conformance/selftest.py) failed", file=sys.stderr)
            return 1
        return 0

    setup.out.mkdir(parents=True, exist_ok=True)
    mode = "ansible-core vs its recording" if args.ansible_only else f"ansible-core vs {setup.swansible}"
    say(f"conformance: {len(cases)} cases, {mode}, {args.jobs} at a time; files in {setup.out}")
    t0 = time.monotonic()
    outcomes = []
    parallel = [c for c in cases if not c.meta.get("exclusive")]
    alone = [c for c in cases if c.meta.get("exclusive")]
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(run_case, c, setup, args) for c in parallel]
        for f in concurrent.futures.as_completed(futures):
            o = f.result() if args.ansible_only else settle_pending(f.result())
            report(o, args.verbose, args.max_diffs)
            outcomes.append(o)
    for c in alone:
        o = run_case(c, setup, args) if args.ansible_only else settle_pending(run_case(c, setup, args))
        report(o, args.verbose, args.max_diffs)
        outcomes.append(o)

    counts = {s: sum(1 for o in outcomes if o.status == s) for s in ("pass", "known", "fail", "error", "pending")}
    say(f"conformance: {counts['pass']} passed, {counts['known']} with known differences only, "
        f"{counts['fail']} failed, {counts['error']} errors, {counts['pending']} pending "
        f"({time.monotonic() - t0:.0f} s)")
    if args.update_docs:
        write_docs(outcomes, args.ansible_only)
    return 0 if counts["fail"] == 0 and counts["error"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
