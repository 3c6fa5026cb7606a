#!/work/venv-ansible/bin/python
"""Records ansible-core's YAML behaviour as Swift tables for Tests/SwansibleYAMLTests/OracleTables.swift.

Run with ansible-core's interpreter (the oracle), from the repository root:

    /work/venv-ansible/bin/python Tests/tools/gen_yaml_expectations.py > Tests/SwansibleYAMLTests/OracleTables.swift

It also rewrites Tests/SwansibleYAMLTests/Fixtures/{Loads,Dumps}Fixture.swift (JSON in a string): a few hundred small documents with the value
(or error) ansible-core loads from them, and the to_yaml / to_nice_yaml / indent=3,width=20 / flow dumps of each.

Scalars are loaded with ansible-core's AnsibleLoader (PyYAML's YAML 1.1 resolver, libyaml parser) from a trusted
stream, as a playbook file is; errors are worded by AnsibleYAMLParserError.handle_exception over a real file; dumps
are ansible-core's to_yaml / to_nice_yaml filters.
"""
from __future__ import annotations

import datetime
import math
import os
import sys
import tempfile

import yaml

from ansible._internal._yaml._loader import AnsibleLoader
from ansible._internal._yaml._errors import AnsibleYAMLParserError
from ansible._internal._datatag._tags import Origin, TrustedAsTemplate
from ansible.plugins.filter.core import to_yaml, to_nice_yaml
from ansible.utils import display as display_mod

SCALARS = [
    # null
    '~', 'null', 'Null', 'NULL', 'nULL', 'none', '""',
    # bool (YAML 1.1)
    'yes', 'Yes', 'YES', 'yEs', 'no', 'No', 'NO', 'true', 'True', 'TRUE', 'tRUE', 'false', 'False', 'FALSE',
    'on', 'On', 'ON', 'off', 'Off', 'OFF', 'y', 'n', 'Y', 'N',
    # int
    '0', '12', '-12', '+12', '0644', '-0644', '0o17', '0x1F', '0x_1f', '-0x1f', '0b1010', '-0b11', '0b102',
    '1_000', '1__0', '1:30', '-1:30', '190:20:30', '1:60', '09', '0_', '00', '12e3', '0x', '1_',
    '9223372036854775807', '-9223372036854775808',
    # float
    '1.5', '-1.5', '1.', '.5', '-.5', '1e3', '1.0e3', '1.0e+3', '1.0E-3', '6.8523015e+5', '685.230_15e+03',
    '.inf', '-.inf', '+.inf', '.Inf', '.INF', '.iNF', '.nan', '.NaN', '.NAN', '-.nan', '1_000.5', '190:20:30.15',
    '1:30.5', '._5', '.e+3', '1.e+3', '0.1', '3.14159265358979', '1.5e-10', '08.5', '+1.5', '1,5',
    # timestamp
    '2001-12-14', '2001-12-14t21:59:43.10-05:00', '2001-12-14 21:59:43.10 -5', '2001-12-15T02:59:43.1Z',
    '2001-12-15 2:59:43', '2001-1-1', '2001-1-1 1:02:03', '2001-12-14T21:59:43+05:30', '2001-12-14T21:59:43.123456789',
    # strings
    'abc', 'hello world', '"123"', "'yes'", "'~'", '"null"', '|\n  text\n  more\n', '>\n  folded\n  text\n',
    '|-\n  keep\n', '"a\\tb\\u00e9"', 'héllo', '✓ ok', 'a: b', '- x', '"{{ x }}"', '{{ x }}x',
    # explicit tags
    '!!str 123', '!!str yes', '!!int "42"', '!!int 0o17', '!!float 1', '!!float "1e3"', '!!bool Yes', '!!null ""',
    '!!null abc', '! 123', '! "123"', '!!str', '!!binary aGVsbG8=', '!!timestamp 2001-12-14',
    '!unsafe 123', '!unsafe "123"', '!unsafe yes', "!unsafe ''", '!unsafe "{{ x }}"', '!unsafe abc',
    '!!python/unicode abc', '!<tag:yaml.org,2002:str> 5',
]

DOCUMENTS = [
    # collections, unsafe propagation, merge keys
    'a: [1, yes, "no", {b: ~}]',
    '!unsafe {a: [x, 1, {b: "{{ y }}"}], "{{ k }}": v}',
    '- !unsafe [a, [b]]\n- c',
    'base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  z: 3',
    'base: &b {xx: 1, yy: 2}\nother: &o {yy: 3, zz: 4}\nm:\n  <<: [*b, *o]\n  ww: 0',
    'base: &b {x: 1, y: 2}\nother: &o {y: 3, z: 4}\nm:\n  <<: [*b, *o]',
    'a: &a {kk: 1}\nm:\n  <<: [*a, *a]\n  kk: 2',
    'a: &a {k1: 1}\nb: &b {k2: 2, <<: *a}\nm:\n  <<: *b\n  k3: 3',
    'm:\n  x: 1\n  <<: {x: 2, y: 2}',
    'm:\n  "<<": {x: 1}',
    'm:\n  =: 1',
    '{1: a, 1.0: b, true: c, "1": d, null: e, 1.5: f}',
    '!!set {a, b}',
    'x: &s [1, 2]\ny: *s\nz: [*s, *s]',
    '? a\n? b\n',
    'a: !!map {b: 1}\nb: !!seq [1]\nc: !!python/dict {d: 1}',
]

ERRORS = [
    '- hosts: localhost\n  tasks:\n    - debug: msg=hi\n   - debug: msg=x\n',
    'a: [1, 2\nb: 3\n',
    'a: "unterminated\nb: 1\n',
    'a: *nope\n',
    'a: !foo bar\n',
    'a: 1\n\tb: 2\n',
    'a: {{ x }}\n',
    'a: b: c\n',
    'a: &x 1\nb: &x 2\nc: *x\n',
    'a: =\n',
    'a:\n  - b\n  c: d\n',
    '{a: 1, ]\n',
    'a: "\\q"\n',
    '%YAML 2.0\n---\na: 1\n',
    'a: 1\n---\nb: 2\n',
    'x: "a" in b\n',
    'k: !!int abc\n',
    'k: !!float abc\n',
    'k: !!bool abc\n',
    'k: 0x_\n',
    '[1, 2]: x\n',
    '? [1, 2]\n: x\n',
    'a:\n  <<: 5\n',
    'a:\n  <<: [{x: 1}, 2]\n',
    'a: !!str {b: 1}\n',
    'a: !!map [1]\n',
    'a: !!seq {b: 1}\n',
    '- hosts: x\n  vars: {a: 1',
    'a: "b\x07"\n',
    'a: <<\n',
    'a: !!omap {b: 1}\n',
    "x: 'it''s' and 'more'\n",
    'key: value\n  bad: indent\n',
    '"a": 1\n"a\n',
    'a: b\n@c: d\n',
    'a: `x`\n',
]

DUPLICATES = [
    'a: 1\nb: 2\na: 3\n',
    'vars:\n  x: 1\n  x: 2\n  "it\'s": 1\n  "it\'s": 2\n',
    'base: &b {x: 1}\nm:\n  <<: *b\n  x: 10\n',
    '{1: a, 1.0: b}\n',
    'base: &b {xx: 1, yy: 2}\nother: &o {yy: 3, zz: 4}\nm:\n  <<: [*b, *o]\n',
]

DUMPS = [
    {"a": 1, "b": [1, 2, {"c": None}], "yes": "no", "s": "123", "t": "a: b", "m": "line1\nline2\n",
     "u": "héllo ✓", "e": [], "f": {}, "fl": 1.5, "big": 1e17, "tiny": 1e-5, "inf": float('inf'),
     "ninf": float('-inf'), "nan": float('nan'), "q": "'quoted'", "empty": "", "sp": " lead", "tr": "trail ",
     "hash": "a #b", "star": "*x", "dash": "- x", "date": "2001-12-14", "long": "word " * 30, "lt": "<<",
     "eq": "=", "tilde": "~", "null": "null", "num": "1.5", "oct": "0644", "colon": "a:b", "t2": "{{ x }}"},
    "abc", 5, -3, 0.1, None, True, False, [], {}, ["x"], [[1]], [[]], [{}], "multi\nline", "trailing\n",
    "yes", "", " ", "123", {"b": 1, "a": 2, "C": 3, "_": 4, "é": 5, "10": 6, "9": 7},
    {"k": {"nested": {"deep": [1, "two", {"three": 3.0}]}}, "list": [[1, 2], [3, [4, 5]]]},
    [1, "a", None, True, 2.5, [], {}, {"x": "y"}],
    {"key with spaces": "value with spaces", "k:": "v", "-k": "v", "?": "?", "[x]": "{y}", "@a": "`b`"},
    {"tab": "a\tb", "cr": "a\rb", "ctrl": "a\x01b", "bell": "\x07", "bom": "\ufeffx", "nbsp": "a\u00a0b",
     "emoji": "😀", "quote": "\"dq\"", "backslash": "a\\b", "nl2": "a\n\nb", "lead_nl": "\nx",
     "only_nl": "\n", "trail_sp_nl": "a \nb"},
    ["a " * 50, "b" * 100, "x\n" * 5],
    {"list_of_dicts": [{"name": "a", "val": 1}, {"name": "b", "val": [1, 2]}]},
    {"int_keys_like": {"1": "one", "true": "t", "null": "n", "1.5": "f"}},
    12345678901234, -0.0, 1e300, 1.5e-300, 100.0, 123456789.123,
]


def differential_cases():
    """Many small documents: scalars in every position and under every tag, collections, merges, errors."""
    cases = []
    scalars = ['yes', 'No', '~', '', '0o7', '0x_', '1_0', '-0', '+0', '0.', '-0.0', '1e+3', '1.e-3', '2001-12-14', '2001-12-14 1:2:3',
      '2002-02-30', '9999-12-31T23:59:59.9999999Z', '12:30:45', '1:2:3:4', '+1:00', '0b', '0b1_1', '0xFFFFFFFFFFFFFFFF', '99999999999999999999',
      '-9223372036854775809', '=', '<<', '!', '&', '*', "'quoted'", '"dq\\n"', '"\\x41\\u0042\\U00000043"', '"\\N\\_\\L\\P"', 'a b  c', 'ü', '"\\t"',
      '.5e+1', '1__', '_1', '1_.5', '0_7', '0.0.0', '1e1000', '1.0e+1000', '.NAN', '+.NaN', 'Yes!', 'ON ', 'null ', '~a']
    for s in scalars:
        cases.append(s)
        cases.append('k: ' + s)
        cases.append('[' + s + ']' if s not in ('', ) else '[]')
        cases.append(s + ': v' if s else '? \n: v')
        cases.append('- !unsafe ' + s)
        cases.append('- ! ' + s)
    for tag in ['!!str', '!!int', '!!float', '!!bool', '!!null', '!!timestamp', '!!binary', '!!seq', '!!map', '!!set', '!!omap', '!!pairs', '!!python/dict', '!!merge', '!!value', '!foo', '!<tag:yaml.org,2002:int>', '!unsafe', '!!python/tuple']:
        for v in ['1', '"1"', 'abc', '[1]', '{a: 1}', '', '- a: 1', '2001-01-01']:
            cases.append('k: %s %s' % (tag, v))
    cases += [
      '\ufeffa: 1', 'a: 1\r\nb: 2\r\n', 'a: 1\rb: 2', 'a:\n\t- 1', 'a: |\n  x\n\n  y\n', 'a: >-\n  x\n\n  y\n  z\n', 'a: |+\n  x\n\n', 'a: "multi\n  line"',
      'a: &x\n  b: 1\nc: *x\nd: *x', '- &a a\n- *a\n- &a b\n', '? - a\n  - b\n: c', '? {a: 1}\n: c', '{? a}', '[a: 1, b]', '{a, b: c}', '- - - x',
      'a: b #c\nd: "e #f"', '%TAG !e! tag:example.com,2000:\n---\na: !e!foo x', '--- |\n  text', '--- >\n a\n b\n\n c', 'a: 1\n...\n', '...\n', '---\n---\n',
      'a:\n- b\n-   c: d\n    e: f', 'a: [1, [2, [3, {b: [4]}]]]', 'x: &a {p: 1, q: 2}\ny: &b {q: 3, r: 4}\nz: {<<: [*a, *b], s: 5}', 'x: &a {pp: 1, qq: 2}\ny: &b {qq: 3, rr: 4}\nz: {<<: [*b, *a], qq: 5}',
      'm:\n  <<: {a: 1}\n  <<: {a: 2, b: 3}', 'm:\n  <<: []', 'm:\n  <<: ~', 'm:\n  <<: !!map {a: 1}', 'base: &b {a: 1}\nm:\n  !!merge <<: *b', 'm:\n  "<<": 1', "m:\n  '<<': {a: 1}",
      'a: 1\na: 1\na: 1', '1: a\n"1": b', 'True: a\ntrue: b\n1: c', '~: a\nnull: b', '.nan: a\n.NaN: b', '2001-01-01: a\n"2001-01-01": b', '1.0: a\n1: b',
      'a: !unsafe\n  b: "{{ c }}"\n  d: [e, 1]', 'a: !unsafe &x [s]\nb: *x', 'a: &x [s]\nb: !unsafe [*x]', 'a: !!str &x 5\nb: *x',
      'key: "unterminated', "key: 'single\n", 'a: [', 'a: {', 'a: ]', '- a\nb: c', 'a: b\n- c', '  a: 1\nb: 2', 'a:\n  b: 1\n c: 2', '*', '&a', '!a',
      'a: @b', 'a: %b', 'a: `b', '- |\n x\n  y\n z', '"\\z"', "'a''b'", '"a\\\n  b"', 'a: b\n  c', 'a: "b"c', 'a: [b]c', 'a: {b: c}d', 'a: - b',
      'x: "a" in "b"', 'x: {{ a }}', '- name: {{ a }}', 'x: a: b', 'x: "ok: fine"', 'x:  y: z', 'x\t: y', 'key: value  \n  continuation', 'k: v\n\t',
      'a: *b\nb: &b 1', 'a: &x 1\na: &y 2', '- &x\n- *x', 'a: !!binary |\n  aGVsbG8g\n  d29ybGQ=', 'a: !!binary "abc"', 'a: !!binary "a=b"',
      'a: 0x1F_FF', 'a: 0b_', 'a: 0_8', 'a: 00_7', 'a: 190:20:30', 'a: 1:2', 'a: 01:02', 'a: 1:02:03.5', 'a: -1:00.5',
      "a: 'it''s'", 'a: "caf\\u00e9"', 'a: "\\ud83d\\ude00"', 'a: "\\U0001F600"', 'a: é', 'é: a', 'a: 日本', 'a: "\\e\\a\\0\\v\\f\\/"',
    ]

    # libyaml's nesting limits as PyYAML bundles it: 1000 flow levels, 999 indentation levels.
    cases += ['[' * 1000 + ']' * 1000, '[' * 1001 + ']' * 1001, '- ' * 999 + 'x', '- ' * 1000 + 'x',
              ''.join(' ' * (i % 2) + 'k:\n' for i in range(3)), 'k:\n' + '- ' * 998 + 'x',
              '{a: ' * 1001 + 'x' + '}' * 1001]
    return cases


DUMP_EXTRA = [
    {"a": "x" * 200}, {"b": "word " * 40 + "\n" + "line2"}, ["- a", ": b", "? c", "#d", "e #", "f:", "g: ", " h", "i ", "j\n"],
    {"nested": [{"a": [{"b": [{"c": "d"}]}]}]}, [[[[]]]], [{"a": {}}], {"k": [[1, 2], {"x": [3]}]},
    "  leading", "trailing  ", "a\u2028b", "a\u0085b", "tab\there", "x" * 81, ("x " * 41).strip(), "🙂 smile",
    {"unicode_key_é": "ü"}, {"": "empty key"}, {" ": "space key"}, {"null": None, "~": "~"},
    [0, -1, 1.0, -1.5, 1e16, 1e15, 123456789012345678, 0.0001, 0.00001], {"very long key " * 10: "v"},
    "---", "...", "--- x", "a ... b", "%x", "@x", "`x", "!x", "&x", "*x", "|x", ">x", "'x", '"x', "{x", "[x", "]x", "}x", ",x", "?x", "-x", ":x", "x,y", "x[y", "x]y", "x{y", "x}y",
]

# Known, reported divergences left out of the differential fixtures: integers beyond 64 bits (swansible keeps
# them as floats) and PyYAML's `&id001` anchors for objects dumped twice (swansible values have no identity).
KNOWN_DIVERGENCES = ('0xFFFFFFFFFFFFFFFF', '99999999999999999999', '-9223372036854775809', '!!binary 2001-01-01')


def write_fixtures(directory):
    import json
    os.makedirs(directory, exist_ok=True)
    loads = []
    for s in differential_cases():
        if any(k in s for k in KNOWN_DIVERGENCES):
            continue
        result = error_of(s)
        if result is not None:
            msg, line, col, _ = result
            loads.append({'yaml': s, 'error': msg, 'line': line, 'column': col})
        else:
            loads.append({'yaml': s, 'value': swift_value(yaml.load(trusted(s), Loader=AnsibleLoader))})
    _write_json_swift(os.path.join(directory, 'LoadsFixture.swift'), 'loadsFixtureJSON', loads)

    dumps = []
    for s in [d['yaml'] for d in loads if 'value' in d] + [json.dumps(x, ensure_ascii=False) for x in DUMP_EXTRA]:
        v = yaml.load(trusted(s), Loader=AnsibleLoader)
        if not _plain_data(v) or _has_shared(v) or _depth(v) > 20:
            continue  # (the nesting-limit documents would make megabytes of indentation)
        dumps.append({'yaml': s, 'to_yaml': to_yaml(v), 'to_nice_yaml': to_nice_yaml(v),
                      'indent3_width20': to_yaml(v, width=20, indent=3), 'flow': to_yaml(v, default_flow_style=True)})
    _write_json_swift(os.path.join(directory, 'DumpsFixture.swift'), 'dumpsFixtureJSON', dumps)


def _write_json_swift(path, name, data):
    """JSON in a Swift raw string: compiles fast, and needs no resource declaration in Package.swift."""
    import json
    text = json.dumps(data, indent=0, ensure_ascii=True)
    assert '"""##' not in text
    with open(path, 'w') as f:
        f.write('// Generated by Tests/tools/gen_yaml_expectations.py. Do not edit.\n')
        f.write('let %s = ##"""\n%s\n"""##\n' % (name, text))


def _plain_data(x):
    if isinstance(x, dict):
        return all(isinstance(k, str) for k in x) and all(_plain_data(y) for y in x.values())
    if isinstance(x, list):
        return all(_plain_data(y) for y in x)
    return isinstance(x, (str, int, float, type(None))) and not (isinstance(x, int) and abs(x) >= 2 ** 63)


def _depth(x):
    if isinstance(x, dict):
        return 1 + max((_depth(y) for y in x.values()), default=0)
    if isinstance(x, list):
        return 1 + max((_depth(y) for y in x), default=0)
    return 0


def _has_shared(x, seen=None):
    seen = set() if seen is None else seen
    if isinstance(x, (dict, list)):
        if id(x) in seen:
            return True
        seen.add(id(x))
        return any(_has_shared(y, seen) for y in (x.values() if isinstance(x, dict) else x))
    return False


def trusted(s):
    return TrustedAsTemplate().tag(s)


def swift_string(s: str) -> str:
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == '\\':
            out.append('\\\\')
        elif ch == '\n':
            out.append('\\n')
        elif ch == '\t':
            out.append('\\t')
        elif ch == '\r':
            out.append('\\r')
        elif o < 0x20 or o == 0x7f or o > 0x7e:
            out.append('\\u{%x}' % o)
        else:
            out.append(ch)
    out.append('"')
    return ''.join(out)


def key_string(k) -> str:
    """A non-string key as swansible's data model keeps it: as JSON writes keys (dates as in JSON values)."""
    if isinstance(k, bool):
        return 'true' if k else 'false'
    if k is None:
        return 'null'
    if isinstance(k, float):
        return 'NaN' if math.isnan(k) else 'Infinity' if k == math.inf else '-Infinity' if k == -math.inf else repr(k)
    if isinstance(k, (datetime.date, datetime.datetime)):
        return k.isoformat()
    return str(k)


def swift_value(v) -> str:
    if v is None:
        return '.null'
    if isinstance(v, bool):
        return '.bool(%s)' % ('true' if v else 'false')
    if isinstance(v, int):
        return '.int(%d)' % v
    if isinstance(v, float):
        if math.isnan(v):
            return '.float(.nan)'
        if math.isinf(v):
            return '.float(%s.infinity)' % ('-' if v < 0 else '')
        return '.float(%r)' % v
    if isinstance(v, str):
        kind = 'string' if TrustedAsTemplate.is_tagged_on(v) else 'unsafe'
        return '.%s(%s)' % (kind, swift_string(str(v)))
    if isinstance(v, (datetime.date, datetime.datetime)):
        return '.string(%s)' % swift_string(v.isoformat())
    if isinstance(v, bytes):
        return '.string(%s)' % swift_string(v.decode())
    if isinstance(v, (list, tuple)):
        return '.list([%s])' % ', '.join(swift_value(x) for x in v)
    if isinstance(v, set):
        return '.list([%s])' % ', '.join(swift_value(x) for x in sorted(v))
    if isinstance(v, dict):
        if not v:
            return '.dict([:])'
        # Keys become strings as JSON writes them; keys that then coincide (1 and '1') keep the first place
        # and the last value, as assigning to a dict does.
        merged = {}
        for k, x in v.items():
            merged[key_string(k)] = x
        return '.dict([%s])' % ', '.join('%s: %s' % (swift_string(k), swift_value(x)) for k, x in merged.items())
    raise TypeError(type(v))


def load(src):
    return list(yaml.load_all(trusted(src), Loader=AnsibleLoader))


def error_of(src):
    """ansible-core's message and position for a YAML file that fails to load (yaml.load, as for a playbook)."""
    with tempfile.NamedTemporaryFile('w', suffix='.yml', delete=False) as f:
        f.write(src)
        path = f.name
    try:
        origin = Origin(path=path)
        try:
            yaml.load(origin.tag(trusted(src)), Loader=AnsibleLoader)
        except Exception as ex:
            try:
                AnsibleYAMLParserError.handle_exception(ex, origin=origin)
            except AnsibleYAMLParserError as err:
                o = err.obj if isinstance(err.obj, Origin) else Origin.get_tag(err.obj)
                return err.message, o.line_num, o.col_num, err._help_text
        return None
    finally:
        os.unlink(path)


def duplicate_warnings(src):
    captured = []
    real = display_mod.Display.warning

    def fake(self, msg, *args, obj=None, help_text=None, **kwargs):
        o = Origin.get_tag(obj) if obj is not None else None
        captured.append((msg, o.line_num if o else None, o.col_num if o else None, help_text))

    display_mod.Display.warning = fake
    try:
        value = yaml.load(trusted(src), Loader=AnsibleLoader)
    finally:
        display_mod.Display.warning = real
    return value, captured


def main():
    w = sys.stdout.write
    w('// Generated by Tests/tools/gen_yaml_expectations.py from ansible-core %s with PyYAML %s. Do not edit.\n'
      % (__import__('ansible.release').release.__version__, yaml.__version__))
    w('import SwansibleData\n\n')

    w('/// (YAML document, the value ansible-core\'s AnsibleLoader constructs; nil where it fails)\n')
    w('let oracleScalars: [(yaml: String, value: Value?)] = [\n')
    for s in SCALARS:
        try:
            docs = load(s)
            w('    (%s, %s),\n' % (swift_string(s), swift_value(docs[0] if docs else None)))
        except Exception:
            w('    (%s, nil),\n' % swift_string(s))
    w(']\n\n')

    w('let oracleDocuments: [(yaml: String, value: Value)] = [\n')
    for s in DOCUMENTS:
        w('    (%s, %s),\n' % (swift_string(s), swift_value(load(s)[0])))
    w(']\n\n')

    w('/// (YAML file, message, line, column, help) as `ansible-playbook` reports the load failure.\n')
    w('let oracleErrors: [(yaml: String, message: String, line: Int, column: Int?, help: String?)] = [\n')
    for s in ERRORS:
        result = error_of(s)
        if result is None:
            print('not an error: %r' % s, file=sys.stderr)
            continue
        msg, line, col, help_text = result
        w('    (%s, %s, %d, %s, %s),\n' % (
            swift_string(s), swift_string(msg), line or 0, 'nil' if col is None else col,
            'nil' if help_text is None else swift_string(help_text.strip('\n'))))
    w(']\n\n')

    w('/// (YAML file, value, [(warning, line, column, help)]) for duplicate mapping keys.\n')
    w('let oracleDuplicates: [(yaml: String, value: Value, warnings: [(String, Int?, Int?, String?)])] = [\n')
    for s in DUPLICATES:
        value, warnings = duplicate_warnings(s)
        ws = ', '.join('(%s, %s, %s, %s)' % (swift_string(m), 'nil' if l is None else l, 'nil' if c is None else c,
                                             'nil' if h is None else swift_string(h)) for m, l, c, h in warnings)
        w('    (%s, %s, [%s]),\n' % (swift_string(s), swift_value(value), ws))
    w(']\n\n')

    w('/// (value, to_yaml, to_nice_yaml) from ansible-core\'s filters.\n')
    w('let oracleDumps: [(value: Value, toYAML: String, toNiceYAML: String)] = [\n')
    for v in DUMPS:
        w('    (%s, %s, %s),\n' % (swift_value(trusted(v) if isinstance(v, str) else _trust(v)), swift_string(to_yaml(v)),
                                 swift_string(to_nice_yaml(v))))
    w(']\n')


def _trust(v):
    if isinstance(v, str):
        return trusted(v)
    if isinstance(v, list):
        return [_trust(x) for x in v]
    if isinstance(v, dict):
        return {k: _trust(x) for k, x in v.items()}
    return v


if __name__ == '__main__':
    sys.setrecursionlimit(20000)  # the nesting-limit documents are 1000 levels deep
    write_fixtures(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'SwansibleYAMLTests', 'Fixtures'))
    main()
