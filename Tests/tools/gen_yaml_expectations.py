#!/work/venv-ansible/bin/python
"""Records ansible-core's YAML behaviour as Swift tables for Tests/SwansibleYAMLTests/OracleTables.swift.

Run with ansible-core's interpreter (the oracle), from the repository root:

    /work/venv-ansible/bin/python Tests/tools/gen_yaml_expectations.py > Tests/SwansibleYAMLTests/OracleTables.swift

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
    if isinstance(k, bool):
        return 'true' if k else 'false'
    if k is None:
        return 'null'
    if isinstance(k, float):
        return repr(k)
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
    main()
