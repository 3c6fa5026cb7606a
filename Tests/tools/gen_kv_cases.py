#!/usr/bin/env python3
"""Records how ansible-core 2.19 splits free-form module arguments (parse_kv, check_raw) and how the
command module splits its command line (shlex.split), for Tests/SwansibleCoreTests/ArgumentSplittingTests.

Run with the ansible-core venv's python:  .venv/bin/python Tests/tools/gen_kv_cases.py
"""
import json, os, shlex
from ansible.parsing.splitter import parse_kv

CASES = [
    'echo hello',
    'echo hello "a b"',
    "echo 'single quoted' and \"double\"",
    'echo hi chdir=/tmp',
    'chdir=/tmp echo hi creates=/etc/passwd',
    'echo a=b c=d',
    'src=/a dest=/b mode=0644',
    'src="/a b" dest=\'/c d\'',
    'msg="hello world"',
    'echo {{ x }} y={{ z | default("q r") }}',
    'echo "{{ a }}" removes=/x',
    'cat stdin=hi',
    'echo \\= escaped\\=equals',
    'key="value with = sign"',
    'echo   many    spaces',
    'echo "a  b"   c',
    'echo $HOME ~ \'$HOME\'',
    'executable=/bin/bash echo hi',
    'echo {% if true %}yes{% endif %}',
    'echo {# comment #} done',
    'a=1 b=2 c="3 4"',
    'free form only',
    'echo "unicode é ü" x=ÿ',
]
SHLEX = [
    'echo hello "a b"', "printf '%s|' 'a b' c", 'echo a\\ b', 'echo "a\\"b" \'c\\d\'', 'echo "$HOME"',
    'a "" b', "echo 'it'\\''s'", 'one\ttwo\nthree', 'echo "x\\\\y"', 'echo \\$x',
]

out = {"parse_kv": [], "shlex": []}
for raw in (False, True):
    for c in CASES:
        try:
            out["parse_kv"].append({"input": c, "check_raw": raw, "expected": parse_kv(c, check_raw=raw)})
        except Exception as e:
            out["parse_kv"].append({"input": c, "check_raw": raw, "error": str(e)})
for c in SHLEX:
    out["shlex"].append({"input": c, "expected": shlex.split(c)})
dest = os.path.join(os.path.dirname(__file__), "..", "SwansibleCoreTests", "Fixtures", "argument_splitting.json")
with open(dest, "w") as f:
    json.dump(out, f, indent=1, ensure_ascii=False, sort_keys=True)
    f.write("\n")
print("wrote", os.path.normpath(dest))
