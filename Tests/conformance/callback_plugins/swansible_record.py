# Test tooling for swansible's conformance suite (Tests/conformance/README.md): an aggregate callback plugin for
# ansible-core 2.19 that records what a playbook run did, in the shapes swansible's `play --json --events` prints.
#
# Enable it with ANSIBLE_CALLBACK_PLUGINS=<this directory> ANSIBLE_CALLBACKS_ENABLED=swansible_record and name the
# output file in SWANSIBLE_RECORD_FILE. The file is one JSON object (keys sorted):
#
#   {"seed":   {task_key: {"success": {host: result}, "failed": {...}, "unreachable": {...}, "skipped": {...}}},
#    "task_keys": [task_key, ...],        # the seed's keys in the order the tasks started (JSON objects lose order
#                                         # in some readers, so the order is also kept as a list)
#    "events": [{"seq": 1, "event": "playbook_start", ...}, ...],
#    "stats":  {host: {"ok": n, "changed": n, "unreachable": n, "failed": n, "skipped": n, "rescued": n,
#                      "ignored": n}},
#    "custom_stats": {...}}               # set_stats data, only when there is some
#
# Seed rules (the contract swansible's --json implements; README.md repeats them):
# - key: the task's name (`task.name`, templated as ansible-core templates it before the TASK banner); an unnamed
#   task is keyed by the name the banner prints (`task.get_name()`, e.g. "command", "role : command");
# - a key already used earlier in the run gets " (2)", " (3)", ...; handlers share the key space with tasks;
# - result: the result dict exactly as ansible-core hands it to callbacks (`result.result`, i.e. `_result`):
#   without "failed"/"skipped" (the category says it), with "invocation", "_ansible_no_log", "changed", ...;
# - ok and changed results go to "success", failed ones (also when ignored by ignore_errors or rescued) to
#   "failed", unreachable ones (also with ignore_unreachable) to "unreachable", skipped ones to "skipped";
# - a loop task keeps ansible-core's aggregated result (with "results") under its one key: the per-item
#   callbacks (v2_runner_item_on_*) are not recorded; the aggregate arrives in v2_runner_on_ok/failed/skipped;
# - a host that became unreachable (without ignore_unreachable) is listed under "unreachable", with its first
#   unreachable result, in every task and handler that starts later in the run (also in later plays); a host that
#   later reports a real result again (meta: clear_host_errors) is no longer carried.
#
# Events (one per callback, `seq` counts from 1 in the order ansible-core called the callback):
#   playbook_start {playbook: file name}         play_start {play: play name as the PLAY banner prints it}
#   task_start {task: key}                        handler_task_start {task: key}
#   ok / changed / failed / failed_ignored / failed_rescued / skipped / unreachable / unreachable_ignored
#       {task: key, host: name}
#   no_hosts_matched {}                           no_hosts_remaining {}
#   stats {stats: {host: counters}}
# Rescued failures are recognised by ansible-core's own counter: the strategy bumps stats "rescued" for the host
# just before it calls v2_runner_on_failed, so the recorder compares that counter with what it has seen.
#
# This is test tooling running inside ansible-core; it uses ansible-core's public callback API only.

from __future__ import annotations

import atexit
import json
import os
import sys
import threading

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
    name: swansible_record
    type: aggregate
    short_description: record a run for swansible's conformance suite
    description:
        - Writes the task-keyed result structure, the ordered events and the recap to $SWANSIBLE_RECORD_FILE.
    requirements:
        - enable in ANSIBLE_CALLBACKS_ENABLED; set SWANSIBLE_RECORD_FILE
"""

CATEGORIES = ("success", "failed", "unreachable", "skipped")
COUNTERS = ("ok", "changed", "unreachable", "failed", "skipped", "rescued", "ignored")


def _plain(value):
    """A JSON round trip of `value`: plain dicts/lists/str/int/float/bool/None with string keys."""
    try:
        from ansible.module_utils.common.json import AnsibleJSONEncoder
        text = json.dumps(value, cls=AnsibleJSONEncoder)
    except Exception:  # anything ansible's encoder refuses: keep a readable marker rather than crash the run
        text = json.dumps(value, default=lambda o: "<unserialisable %s: %r>" % (type(o).__name__, o))
    return json.loads(text)


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "swansible_record"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._path = os.environ.get("SWANSIBLE_RECORD_FILE")
        self._pid = os.getpid()
        self._lock = threading.RLock()
        self._seed = {}
        self._order = []          # task keys in start order
        self._used = {}           # base key -> times used
        self._key_by_uuid = {}    # task uuid -> key of its latest start
        self._events = []
        self._stats = None
        self._custom_stats = None
        self._unreachable = {}    # host -> first unreachable result (carried into later tasks)
        self._rescued_seen = {}   # host -> rescued failures recorded so far
        self._agg_stats = None    # ansible-core's AggregateStats, found on the call stack
        if not self._path:
            self._display.warning("swansible_record: SWANSIBLE_RECORD_FILE is not set; recording nothing")
            self.disabled = True
        else:
            atexit.register(self._write)
            self._write()  # an empty recording exists even if the run dies before its first callback

    # --- output -------------------------------------------------------------------------------------------

    def _write(self):
        if not self._path or os.getpid() != self._pid:  # never from a forked worker
            return
        with self._lock:
            data = {"seed": self._seed, "task_keys": self._order, "events": self._events, "stats": self._stats}
            if self._custom_stats:
                data["custom_stats"] = self._custom_stats
            tmp = self._path + ".tmp"
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(data, f, indent=1, sort_keys=True, ensure_ascii=False)
                f.write("\n")
            os.replace(tmp, self._path)

    def _event(self, name, **fields):
        fields["event"] = name
        fields["seq"] = len(self._events) + 1
        self._events.append(fields)

    # --- task keys ----------------------------------------------------------------------------------------

    @staticmethod
    def _base_key(task):
        name = task.name
        if name is None or str(name) == "":
            return task.get_name()
        return str(name)

    def _start_key(self, task):
        base = self._base_key(task)
        n = self._used.get(base, 0) + 1
        self._used[base] = n
        key = base if n == 1 else "%s (%d)" % (base, n)
        # " (2)" could itself collide with a task literally named "x (2)": count on until free
        while key in self._seed:
            n += 1
            self._used[base] = n
            key = "%s (%d)" % (base, n)
        self._key_by_uuid[task._uuid] = key
        self._order.append(key)
        self._seed[key] = {c: {} for c in CATEGORIES}
        for host, res in self._unreachable.items():
            self._seed[key]["unreachable"][host] = res
        return key

    def _key_for(self, task):
        key = self._key_by_uuid.get(task._uuid)
        if key is None:  # a result without a task start (not expected with linear/free): key it now
            key = self._start_key(task)
        return key

    # --- results ------------------------------------------------------------------------------------------

    def _find_agg_stats(self):
        if self._agg_stats is None:
            frame = sys._getframe(1)
            while frame is not None:
                owner = frame.f_locals.get("self")
                stats = getattr(owner, "_stats", None)
                if stats is not None and hasattr(stats, "rescued") and hasattr(stats, "summarize"):
                    self._agg_stats = stats
                    break
                frame = frame.f_back
        return self._agg_stats

    def _record(self, result, category, event):
        host = result.host.get_name()
        key = self._key_for(result.task)
        entry = self._seed[key]
        for c in CATEGORIES:
            entry[c].pop(host, None)
        res = _plain(result.result)
        entry[category][host] = res
        if category == "unreachable":
            if event == "unreachable" and host not in self._unreachable:
                self._unreachable[host] = res
        else:
            self._unreachable.pop(host, None)
        self._event(event, task=key, host=host)

    def v2_runner_on_ok(self, result):
        with self._lock:
            self._record(result, "success", "changed" if result.result.get("changed", False) else "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        with self._lock:
            event = "failed"
            if ignore_errors:
                event = "failed_ignored"
            else:
                host = result.host.get_name()
                stats = self._find_agg_stats()
                rescued = stats.rescued.get(host, 0) if stats is not None else 0
                if rescued > self._rescued_seen.get(host, 0):
                    self._rescued_seen[host] = rescued
                    event = "failed_rescued"
            self._record(result, "failed", event)

    def v2_runner_on_skipped(self, result):
        with self._lock:
            self._record(result, "skipped", "skipped")

    def v2_runner_on_unreachable(self, result):
        with self._lock:
            ignored = bool(result.task.ignore_unreachable)
            self._record(result, "unreachable", "unreachable_ignored" if ignored else "unreachable")

    # --- playbook structure -------------------------------------------------------------------------------

    def v2_playbook_on_start(self, playbook):
        with self._lock:
            self._event("playbook_start", playbook=os.path.basename(playbook._file_name))

    def v2_playbook_on_play_start(self, play):
        with self._lock:
            self._event("play_start", play=play.get_name().strip())

    def v2_playbook_on_task_start(self, task, is_conditional):
        with self._lock:
            self._event("task_start", task=self._start_key(task))

    def v2_playbook_on_handler_task_start(self, task):
        with self._lock:
            self._event("handler_task_start", task=self._start_key(task))

    def v2_playbook_on_no_hosts_matched(self):
        with self._lock:
            self._event("no_hosts_matched")

    def v2_playbook_on_no_hosts_remaining(self):
        with self._lock:
            self._event("no_hosts_remaining")

    def v2_playbook_on_stats(self, stats):
        with self._lock:
            recap = {}
            for host in sorted(stats.processed.keys()):
                s = stats.summarize(host)
                recap[host] = {
                    "ok": s["ok"], "changed": s["changed"], "unreachable": s["unreachable"],
                    "failed": s["failures"], "skipped": s["skipped"], "rescued": s["rescued"],
                    "ignored": s["ignored"],
                }
            self._stats = recap
            if stats.custom:
                self._custom_stats = _plain(stats.custom)
            self._event("stats", stats=recap)
            self._write()
