#!/usr/bin/env python3
"""Writes Tests/SwansibleCoreTests/Fixtures/unified_diff.json: inputs and Python difflib.unified_diff's output
(as ansible-core's default callback calls it for --diff), for UnifiedDiffTests. Deterministic (fixed seed)."""
import difflib
import json
import random
from pathlib import Path

rng = random.Random(7)
words = ["alpha", "beta", "gamma", "delta", "", "x = 1", "x = 2", "}", "{", "# comment"]


def text(n):
    return "".join(rng.choice(words) + "\n" for _ in range(n))


def mutate(t):
    lines = t.splitlines(True)
    for _ in range(rng.randint(0, 4)):
        op = rng.choice("ird")
        i = rng.randint(0, len(lines))
        if op == "i":
            lines.insert(i, rng.choice(words) + "\n")
        elif lines and i < len(lines):
            if op == "r":
                lines[i] = rng.choice(words) + "\n"
            else:
                del lines[i]
    return "".join(lines)


cases = [
    ("", "one\n"), ("one\n", ""), ("a\nb\nc\n", "a\nB\nc\n"), ("same\n", "same\n"),
    ("no newline", "no newline\n"), ("a\r\nb\r\n", "a\r\nc\r\n"),
    ("".join(f"line {i}\n" for i in range(30)), "".join(f"line {i}\n" for i in range(30) if i not in (3, 20))),
    # 200+ lines with a popular line: difflib's autojunk heuristic decides the hunks.
    ("".join(("x\n" if i % 3 else f"v{i}\n") for i in range(240)),
     "".join(("x\n" if i % 3 else f"v{i + (i % 7 == 0)}\n") for i in range(240))),
]
for _ in range(60):
    a = text(rng.randint(0, 25))
    cases.append((a, mutate(a)))
out = []
for a, b in cases:
    for n in (3, 1):
        al, bl = a.splitlines(True), b.splitlines(True)
        diff = list(difflib.unified_diff(al, bl, fromfile="before: f", tofile="after: f", fromfiledate="",
                                         tofiledate="", n=n))
        out.append({"before": al, "after": bl, "context": n, "diff": diff})
path = Path(__file__).resolve().parents[1] / "SwansibleCoreTests" / "Fixtures" / "unified_diff.json"
path.write_text(json.dumps(out, indent=1) + "\n")
print(f"{len(out)} cases -> {path}")
