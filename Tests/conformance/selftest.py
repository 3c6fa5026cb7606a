#!/usr/bin/env python3
"""Self-tests of the conformance suite's own logic (no hosts needed): the normalisation rules, the stdout
canonicalisation, the comparison and the expected-differences matching; with ansible-core importable (the venv's
python), also the recorder's task keys, categories and unreachable carrying.

    Tests/conformance/run --selftest          (runs this with the ansible venv's python)
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import types
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import conformance as cf  # noqa: E402


def fake_setup(port=2224):
    hosts = {"hosts": [{"name": "h1", "address": "127.0.0.2", "port": port}]}
    return cf.Setup(venv=Path("/venv"), hosts_dir=Path("/work/x/.hosts"), hosts=hosts, swansible=None,
                    out=Path("/tmp/out"))


def fake_case(name="demo"):
    return cf.Case(name=name, dir=cf.CASES_DIR / name, meta={"features": ["f"]}, expected_differences=[])


def normaliser():
    return cf.Normaliser(fake_setup(), fake_case(), Path("/tmp/out/demo"))


class StdoutCanonicalTests(unittest.TestCase):
    def test_hosts_sorted_within_a_task_and_items_keep_their_order(self):
        text = "\n".join([
            "", "TASK [t] ****", "changed: [h3] => (item=a)", "changed: [h1] => (item=b)",
            "changed: [h3] => (item=b)", "changed: [h1] => (item=a)", "",
            "TASK [u] ****", "ok: [h2]", "ok: [h1]", "",
        ])
        out = cf.canonical_stdout(text).split("\n")
        self.assertEqual(out[2:6], ["changed: [h1] => (item=b)", "changed: [h1] => (item=a)",
                                    "changed: [h3] => (item=a)", "changed: [h3] => (item=b)"])
        self.assertEqual(out[6], "")  # the blank line before the next banner stays at the end of the section
        self.assertEqual(out[7:10], ["TASK [u] ****", "ok: [h1]", "ok: [h2]"])

    def test_messages_first_and_continuation_lines_stay_with_their_host(self):
        text = "\n".join([
            "TASK [t] ****", "ok: [h2] => {", '    "msg": "x"', "}",
            "[ERROR]: Task failed", "Origin: f.yml:1:1", "",
            "fatal: [h1]: FAILED! => {}", "...ignoring", "",
        ])
        out = cf.canonical_stdout(text).split("\n")
        self.assertEqual(out, ["TASK [t] ****", "[ERROR]: Task failed", "Origin: f.yml:1:1", "",
                               "fatal: [h1]: FAILED! => {}", "...ignoring", "ok: [h2] => {", '    "msg": "x"', "}",
                               ""])

    def test_no_more_hosts_left_is_a_banner(self):
        text = "TASK [t] ***\nok: [h2]\nok: [h1]\n\nNO MORE HOSTS LEFT ***\n\nPLAY RECAP ***\n"
        self.assertEqual(cf.canonical_stdout(text),
                         "TASK [t] ***\nok: [h1]\nok: [h2]\n\nNO MORE HOSTS LEFT ***\n\nPLAY RECAP ***\n")

    def test_included_hosts_sorted(self):
        self.assertEqual(cf.canonical_stdout("TASK [i] ***\nincluded: /x/a, b.yml for h3, h1, h2 => (item=y)\n"),
                         "TASK [i] ***\nincluded: /x/a, b.yml for h1, h2, h3 => (item=y)\n")

    def test_idempotent(self):
        text = "\nPLAY [p] ***\n\nTASK [t] ***\nok: [h2]\nok: [h1]\n\nPLAY RECAP ***\nh1 : ok=1\nh2 : ok=1\n"
        once = cf.canonical_stdout(text)
        self.assertEqual(cf.canonical_stdout(once), once)
        self.assertIn("h1 : ok=1\nh2 : ok=1", once)

    def test_a_different_line_still_differs(self):
        a = cf.canonical_stdout("TASK [t] ***\nok: [h1]\nok: [h2]\n")
        b = cf.canonical_stdout("TASK [t] ***\nok: [h2]\nchanged: [h1]\n")
        self.assertNotEqual(a, b)


class NormaliserTests(unittest.TestCase):
    def test_timing_keys_only_when_well_formed(self):
        n = normaliser()
        v = n.value({"start": "2026-01-02 03:04:05.123456", "end": "yesterday", "delta": "0:00:00.001000",
                     "other": "2026-01-02 03:04:05.123456", "results": [{"delta": "0:00:01.5"}]})
        self.assertEqual(v["start"], "<TIMESTAMP>")
        self.assertEqual(v["end"], "yesterday")           # a wrong format is not hidden
        self.assertEqual(v["delta"], "<DELTA>")
        self.assertEqual(v["other"], "2026-01-02 03:04:05.123456")
        self.assertEqual(v["results"][0]["delta"], "0:00:01.5")

    def test_printed_json_timing(self):
        n = normaliser()
        s = n.printed('x => {"delta": "0:00:00.005897", "end": "2026-11-25 16:20:59.331187", "rc": 1}')
        self.assertEqual(s, 'x => {"delta": "<DELTA>", "end": "<TIMESTAMP>", "rc": 1}')

    def test_paths_port_tmp_uuid(self):
        n = normaliser()
        s = n.text(f"Origin: {cf.CASES_DIR}/demo/site.yml:3:5 port 2224 [127.0.0.2]:2224 port 22245 "
                   "/home/u/.ansible/tmp/ansible-tmp-1700000000.12-345-6789/x "
                   "id 0f8fad5b-d9cb-469f-a165-70867728950e")
        self.assertEqual(s, "Origin: <CASE_DIR>/site.yml:3:5 port <PORT> [127.0.0.2]:<PORT> port 22245 "
                            "/home/u/.ansible/tmp/ansible-tmp-<ID>/x id <UUID>")

    def test_facts_volatile_keep_type_and_unordered_sorted(self):
        n = normaliser()
        v = n.value({"ansible_facts": {
            "ansible_memfree_mb": 100, "ansible_loadavg": {"1m": 0.5}, "ansible_hostname": "box",
            "ansible_mounts": [{"size_available": 5, "mount": "/"}], "ansible_interfaces": ["lo", "eth0"],
            "ansible_date_time": {"epoch": "1"}, "ansible_env": {"SSH_CLIENT": "127.0.0.1 5 22", "HOME": "/h"}}})
        f = v["ansible_facts"]
        self.assertEqual(f["ansible_memfree_mb"], "<VOLATILE:int>")
        self.assertEqual(f["ansible_loadavg"], {"1m": "<VOLATILE:float>"})
        self.assertEqual(f["ansible_hostname"], "box")
        self.assertEqual(f["ansible_mounts"], [{"size_available": "<VOLATILE:int>", "mount": "/"}])
        self.assertEqual(f["ansible_interfaces"], ["eth0", "lo"])
        self.assertEqual(f["ansible_date_time"], {"epoch": "<VOLATILE:str>"})
        self.assertEqual(f["ansible_env"], {"SSH_CLIENT": "<VOLATILE:str>", "HOME": "/h"})
        self.assertEqual(n.value(v), v)  # idempotent

    def test_machine_neutral_hides_gathered_facts_only(self):
        o = cf.machine_neutral(obs(seed=seed1({"ansible_facts": {"ansible_hostname": "a", "x": 1}, "rc": 0})))
        self.assertEqual(o.seed["t"]["success"]["h1"], {"ansible_facts": "<GATHERED FACTS>", "rc": 0})
        o = cf.machine_neutral(obs(seed=seed1({"ansible_facts": {"mine": 1}})))
        self.assertEqual(o.seed["t"]["success"]["h1"], {"ansible_facts": {"mine": 1}})

    def test_types_survive(self):
        n = normaliser()
        v = n.value({"a": True, "b": 1, "c": 1.0, "d": None})
        self.assertIs(v["a"], True)
        self.assertIs(type(v["b"]), int)
        self.assertIs(type(v["c"]), float)


def obs(**kw):
    base = dict(rc=0, stdout="", stderr="", seed={}, events=[], stats={})
    base.update(kw)
    return cf.Observation(**base)


def seed1(result, cat="success", host="h1", key="t"):
    s = {key: {c: {} for c in cf.CATEGORIES}}
    s[key][cat][host] = result
    return s


class CompareTests(unittest.TestCase):
    def kinds(self, diffs):
        return [d.kind for d in diffs]

    def test_equal_is_empty(self):
        a = obs(seed=seed1({"rc": 0}), stdout="x\n", stats={"h1": {"ok": 1}})
        self.assertEqual(cf.compare(a, obs(seed=seed1({"rc": 0}), stdout="x\n", stats={"h1": {"ok": 1}}),
                                    cf.ALL_ASPECTS), [])

    def test_bool_is_not_int_and_int_is_not_float(self):
        d = cf.compare(obs(seed=seed1({"changed": True, "rc": 1})), obs(seed=seed1({"changed": 1, "rc": 1.0})),
                       cf.ALL_ASPECTS)
        self.assertEqual(sorted(x.path for x in d), ["changed", "rc"])

    def test_missing_key_and_category(self):
        d = cf.compare(obs(seed=seed1({"rc": 0, "msg": ""})), obs(seed=seed1({"rc": 0}, cat="failed")),
                       cf.ALL_ASPECTS)
        self.assertEqual(len(d), 1)
        self.assertIn("ansible in success, swansible in failed", d[0].message)
        d = cf.compare(obs(seed=seed1({"rc": 0, "msg": ""})), obs(seed=seed1({"rc": 0})), cf.ALL_ASPECTS)
        self.assertEqual([(x.path, x.b) for x in d], [("msg", cf.MISSING)])

    def test_task_order(self):
        a = {"x": {c: {} for c in cf.CATEGORIES}, "y": {c: {} for c in cf.CATEGORIES}}
        b = {"y": a["y"], "x": a["x"]}
        self.assertEqual(self.kinds(cf.compare(obs(seed=a), obs(seed=b), cf.ALL_ASPECTS)), ["task_order"])

    def test_missing_category_in_swansible(self):
        b = seed1({"rc": 0})
        del b["t"]["skipped"]
        d = cf.compare(obs(seed=seed1({"rc": 0})), obs(seed=b), cf.ALL_ASPECTS)
        self.assertEqual([(x.kind, x.category) for x in d], [("seed", "skipped")])

    def test_events_interleaving_between_hosts_is_free_but_per_host_order_counts(self):
        def ev(*items):
            return [dict(e, seq=i + 1) for i, e in enumerate(items)]
        ts, tu = {"event": "task_start", "task": "t"}, {"event": "task_start", "task": "u"}
        a = ev(ts, {"event": "ok", "host": "h1", "task": "t"}, {"event": "ok", "host": "h2", "task": "t"}, tu)
        b = ev(ts, {"event": "ok", "host": "h2", "task": "t"}, {"event": "ok", "host": "h1", "task": "t"}, tu)
        self.assertEqual(cf.compare(obs(events=a), obs(events=b), cf.ALL_ASPECTS), [])
        c = ev(ts, {"event": "ok", "host": "h2", "task": "t"}, tu, {"event": "ok", "host": "h1", "task": "t"})
        d = cf.compare(obs(events=a), obs(events=c), cf.ALL_ASPECTS)
        self.assertEqual([(x.kind, x.host) for x in d], [("events", "h1")])
        bad = [dict(e, seq=1) for e in a]
        self.assertIn("seq numbers", cf.compare(obs(events=a), obs(events=bad), cf.ALL_ASPECTS)[0].message)

    def test_rc_recap_stdout(self):
        d = cf.compare(obs(rc=2, stats={"h1": {"ok": 1}}, stdout="a\nb\n"),
                       obs(rc=0, stats={"h1": {"ok": 2}}, stdout="a\nc\n"), cf.ALL_ASPECTS)
        self.assertEqual(self.kinds(d), ["rc", "recap", "stdout"])
        self.assertEqual((d[2].a, d[2].b), ("b", "c"))

    def test_aspects_limit_what_is_compared(self):
        d = cf.compare(obs(stderr="x"), obs(stderr="y"), cf.DEFAULT_ASPECTS)
        self.assertEqual(d, [])

    def test_no_seed_on_either_side_is_fine_but_one_sided_is_not(self):
        self.assertEqual(cf.compare(obs(seed=None, events=None), obs(seed=None, events=None), cf.ALL_ASPECTS), [])
        d = cf.compare(obs(seed=None), obs(seed=seed1({})), cf.ALL_ASPECTS)
        self.assertEqual(self.kinds(d), ["seed"])

    def test_expected_differences(self):
        d = cf.compare(obs(seed=seed1({"msg": "ssh: refused"}, cat="unreachable", host="dead")),
                       obs(seed=seed1({"msg": "libssh2: refused"}, cat="unreachable", host="dead")), cf.ALL_ASPECTS)
        stale = cf.apply_expected(d, [
            {"kind": "seed", "host": "de*", "path": "msg", "contains": "libssh2", "reason": "wording"},
            {"kind": "stdout", "reason": "never happens"},
        ])
        self.assertEqual(d[0].known, "wording")
        self.assertEqual([e["reason"] for e in stale], ["never happens"])
        d2 = cf.compare(obs(seed=seed1({"msg": "a"})), obs(seed=seed1({"msg": "b"})), cf.ALL_ASPECTS)
        cf.apply_expected(d2, [{"kind": "seed", "path": "rc", "reason": "other key"}])
        self.assertIsNone(d2[0].known)


class PlaceholderTests(unittest.TestCase):
    def test_fill(self):
        setup = fake_setup()
        setup.hosts.update({
            "faults": {"refused": {"address": "127.254.0.2"}, "silent": {"address": "127.254.0.3"},
                       "blackhole": {"address": "127.254.0.4"}},
            "appliance": {"address": "127.254.0.5"},
            "users": {"plain": {"name": "swtest", "password": "p"}, "sudopass": {"name": "swsudo", "password": "q"}},
            "keys": {"ed25519": "/k/id_ed25519", "ecdsa": "/k/id_ecdsa"}, "known_hosts": "/k/known_hosts"})
        text = cf.fill("@HOSTS:1@\nx ansible_host=@REFUSED@ ansible_port=@PORT@\n@CONN_VARS@\n@CONF_DIR@",
                       setup, fake_case(), "inv")
        self.assertEqual(text.split("\n"), [
            "h1 ansible_host=127.0.0.2 ansible_port=2224", "x ansible_host=127.254.0.2 ansible_port=2224",
            "ansible_user=swtest", "ansible_ssh_private_key_file=/k/id_ed25519",
            "ansible_ssh_common_args='-o UserKnownHostsFile=/k/known_hosts'",
            "ansible_python_interpreter=/usr/bin/python3", "/tmp/swansible-conf/demo"])
        with self.assertRaises(cf.ConfError):
            cf.fill("@NOPE@", setup, fake_case(), "inv")
        with self.assertRaises(cf.ConfError):
            cf.fill("@HOSTS:5@", setup, fake_case(), "inv")


try:
    import ansible  # noqa: F401
    HAVE_ANSIBLE = True
except ImportError:
    HAVE_ANSIBLE = False


@unittest.skipUnless(HAVE_ANSIBLE, "ansible-core is not importable (run with the venv's python: run --selftest)")
class RecorderTests(unittest.TestCase):
    def setUp(self):
        import importlib.util
        spec = importlib.util.spec_from_file_location(
            "swansible_record", Path(__file__).resolve().parent / "callback_plugins" / "swansible_record.py")
        self.mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(self.mod)
        self.tmp = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.tmp.name, "rec.json")
        os.environ["SWANSIBLE_RECORD_FILE"] = self.path
        self.cb = self.mod.CallbackModule()
        self.n = 0

    def tearDown(self):
        import atexit
        atexit.unregister(self.cb._write)
        del os.environ["SWANSIBLE_RECORD_FILE"]
        self.tmp.cleanup()

    def task(self, name, action="command", ignore_unreachable=False):
        self.n += 1
        t = types.SimpleNamespace(name=name, action=action, _uuid=f"u{self.n}", ignore_unreachable=ignore_unreachable)
        t.get_name = lambda: name or action
        return t

    def result(self, task, host, data):
        return types.SimpleNamespace(task=task, host=types.SimpleNamespace(get_name=lambda: host), result=data)

    def read(self):
        self.cb._write()
        return json.loads(Path(self.path).read_text())

    def test_keys_duplicates_and_unnamed(self):
        for name in ["a", None, "a", None, "a (2)", "a"]:
            self.cb.v2_playbook_on_task_start(self.task(name), False)
        self.assertEqual(self.read()["task_keys"], ["a", "command", "a (2)", "command (2)", "a (2) (2)", "a (3)"])

    def test_categories_events_and_unreachable_carrying(self):
        t1, t2 = self.task("one"), self.task("two")
        self.cb.v2_playbook_on_task_start(t1, False)
        self.cb.v2_runner_on_ok(self.result(t1, "h1", {"changed": True}))
        self.cb.v2_runner_on_unreachable(self.result(t1, "h2", {"msg": "down", "unreachable": True}))
        self.cb.v2_runner_on_failed(self.result(t1, "h3", {"rc": 1}), ignore_errors=True)
        self.cb.v2_runner_on_skipped(self.result(t1, "h4", {"skip_reason": "x"}))
        self.cb.v2_playbook_on_handler_task_start(t2)
        self.cb.v2_runner_on_ok(self.result(t2, "h1", {"changed": False}))
        rec = self.read()
        self.assertEqual({c: sorted(v) for c, v in rec["seed"]["one"].items()},
                         {"success": ["h1"], "unreachable": ["h2"], "failed": ["h3"], "skipped": ["h4"]})
        self.assertEqual(rec["seed"]["two"]["unreachable"], {"h2": {"msg": "down", "unreachable": True}})
        self.assertEqual([(e["event"], e.get("host")) for e in rec["events"]],
                         [("task_start", None), ("changed", "h1"), ("unreachable", "h2"), ("failed_ignored", "h3"),
                          ("skipped", "h4"), ("handler_task_start", None), ("ok", "h1")])
        self.assertEqual([e["seq"] for e in rec["events"]], list(range(1, 8)))

    def test_ignored_unreachable_is_not_carried(self):
        t1, t2 = self.task("one", ignore_unreachable=True), self.task("two")
        self.cb.v2_playbook_on_task_start(t1, False)
        self.cb.v2_runner_on_unreachable(self.result(t1, "h2", {"unreachable": True}))
        self.cb.v2_playbook_on_task_start(t2, False)
        rec = self.read()
        self.assertEqual(rec["events"][1]["event"], "unreachable_ignored")
        self.assertEqual(rec["seed"]["two"]["unreachable"], {})


if __name__ == "__main__":
    unittest.main(verbosity=1)
