#!/usr/bin/env python3
"""Writes Tests/SwansibleCoreTests/Fixtures/diff_display.json: result `diff` values and what ansible-core's
default callback prints for them (CallbackBase._get_diff, colors off), for DiffTextTests.

Run with the oracle's Python, outside ansible's package directory:
    ANSIBLE_NOCOLOR=1 /path/to/venv/bin/python Tests/tools/gen_diff_display_cases.py
"""
import copy
import json
from pathlib import Path

from ansible.plugins.callback.default import CallbackModule

cb = CallbackModule()
cb.set_options()
cases = [
    {"before": "a\nb\nc\n", "after": "a\nB\nc\n", "before_header": "/etc/app.conf", "after_header": "/etc/app.conf"},
    {"before": "", "after": "new file\n", "before_header": "/tmp/x", "after_header": "/tmp/x"},
    {"before": "no newline", "after": "no newline at all"},
    {"before": {"path": "/x", "state": "absent"}, "after": {"path": "/x", "state": "directory", "mode": "0755"}},
    {"before": None, "after": "x\n"},
    {"before": "same\n", "after": "same\n"},
    [{"before": "1\n", "after": "2\n", "before_header": "one"}, {"prepared": "prepared text\n"}],
    {"dst_binary": 1},
    {"src_larger": 1048576},
    {"before": "".join(f"{i}\n" for i in range(40)), "after": "".join(f"{i}\n" for i in range(40) if i not in (5, 30)),
     "before_header": "big", "after_header": "big"},
    {"before": "café\n", "after": "cafe\u0301 ünïcode\n"},
    {"prepared": "--- before\n+++ after\n@@ -1 +1 @@\n-a\n+b\n"},
]
out = [{"diff": c, "display": cb._get_diff(copy.deepcopy(c))} for c in cases]
path = Path(__file__).resolve().parents[1] / "SwansibleCoreTests" / "Fixtures" / "diff_display.json"
path.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")
print(f"{len(out)} cases -> {path}")
