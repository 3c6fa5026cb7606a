#!/usr/bin/env python3
"""Records ansible-core's own answers for the SwansibleTemplate test cases.

Run with the oracle's interpreter (ansible-core 2.19.14):

    /work/venv-ansible/bin/python Tests/tools/gen_template_cases.py            # regenerate the fixture
    /work/venv-ansible/bin/python Tests/tools/gen_template_cases.py -t '{{ x }}' -v '{"x": 1}'   # explore

Input: Tests/SwansibleTemplateTests/Fixtures/cases.in.yaml, a mapping with
  vars:  variables shared by every case (strings in them are trusted templates, as playbook vars are;
         a mapping {"__unsafe__": "text"} stands for an `!unsafe` string)
  cases: a list of mappings, each with exactly one of
           t: a template string, rendered as task arguments are (Templar.template)
           c: a conditional (`when:`), evaluated with Templar.evaluate_conditional
           v: any data, templated recursively (Templar.template on a container)
         and optionally `vars` (merged over the shared ones), `env` (environment variables for
         lookup('env')), `escape_backslashes` and `overrides` (Templar.template's arguments, as the template
         module passes them), `files` (path: content, written before the case runs, for lookup('file')),
         `templates` (name: content, for {% include %} and {% import %}), `name`, `known_gap` (why swansible is known to differ; the Swift test then expects a
         mismatch).
Output: Tests/SwansibleTemplateTests/Fixtures/cases.json with, per case, either
  "value" and "type" (the Python type name of the result) or "error" (str() of the exception, which
  is the message chain ansible-core shows after "Error while resolving value for 'msg': ") and
  "errorType" (the exception class), plus the warnings and deprecations ansible-core displayed.

Each case runs in the ansible-core templating engine itself (the same engine ansible-playbook uses to
finalize task arguments and evaluate conditionals) on localhost, with no inventory or connection.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import sys

import yaml

from ansible.errors import AnsibleError
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import init_plugin_loader
from ansible.template import Templar, trust_as_template
from ansible.utils.display import Display

init_plugin_loader()  # as the ansible CLIs do: collection loader for FQCN plugin names

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, '..', 'SwansibleTemplateTests', 'Fixtures')

captured: list[str] = []


def _capture(kind):
    def hook(self, msg, *args, **kwargs):
        captured.append(f'{kind}: {msg}')
    return hook


Display.warning = _capture('warning')
Display.deprecated = _capture('deprecated')


def trusted(value):
    """Playbook vars: loaded from YAML (so every value carries ansible-core's origin tags, which shows in Python's
    error messages as `_AnsibleTaggedInt` and the like), strings trusted as templates; a mapping
    {"__unsafe__": s} is an `!unsafe` string."""

    class Unsafe(str):
        pass

    class Dumper(yaml.SafeDumper):
        pass

    Dumper.add_representer(Unsafe, lambda d, v: d.represent_scalar('!unsafe', str(v)))

    def marked(v):
        if isinstance(v, dict):
            if set(v) == {'__unsafe__'}:
                return Unsafe(v['__unsafe__'])
            return {k: marked(x) for k, x in v.items()}
        if isinstance(v, list):
            return [marked(x) for x in v]
        return v

    loaded = DataLoader().load(yaml.dump({'v': marked(value)}, Dumper=Dumper, allow_unicode=True, sort_keys=False),
                               file_name='/playbook/vars.yml')['v']

    def trust(spec, v):
        if isinstance(spec, dict) and set(spec) == {'__unsafe__'}:
            return v  # !unsafe: never trusted
        if isinstance(spec, dict):
            return type(v)({k: trust(spec[k], v[k]) for k in v})
        if isinstance(spec, list):
            return type(v)(trust(a, b) for a, b in zip(spec, v))
        if isinstance(v, str):
            return trust_as_template(v)
        return v

    return trust(value, loaded)


def type_name(value) -> str:
    """The native Python type name (tagged str/list/dict subclasses count as their base type)."""
    if isinstance(value, datetime.datetime):
        return 'datetime'
    for kind in (bool, int, float, str, list, tuple, dict):
        if isinstance(value, kind):
            return 'list' if kind is tuple else kind.__name__
    return type(value).__name__


def plain(value):
    """The finalized result as plain JSON data (tuples become lists, as ansible-core's JSON does)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()  # as ansible-core's JSON encoder writes it
    raise TypeError(f'unexpected result type {type(value)!r}')


def normalize_error(message: str) -> str:
    """CPython's RecursionError text depends on where the limit was hit ("... in comparison", "... while calling a
    Python object"); ansible-playbook shows the bare form, which is what we record."""
    prefix = 'Recursive loop detected in template: maximum recursion depth exceeded'
    if message.startswith(prefix):
        return prefix
    # Where a non-boolean conditional result came from is the caller's to say (the engine takes an `origin`).
    return re.sub(r"derived from value of type '([^']*)' at '[^']*'", r"derived from value of type '\1' at '<unknown>'",
                  message)


def run_case(shared_vars: dict, case: dict) -> dict:
    variables = dict(shared_vars)
    variables.update(case.get('vars') or {})
    old_env = {}
    for key, val in (case.get('env') or {}).items():
        old_env[key] = os.environ.get(key)
        os.environ[key] = val
    for path, content in (case.get('files') or {}).items():
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w', encoding='utf-8') as f:
            f.write(content)
    loader = DataLoader()
    if case.get('templates'):
        # {% include %} / {% import %} load from the loader's base directory.
        base = '/tmp/swansible-template-fixture/templates'
        for name, content in case['templates'].items():
            os.makedirs(os.path.dirname(os.path.join(base, name)), exist_ok=True)
            with open(os.path.join(base, name), 'w', encoding='utf-8') as f:
                f.write(content)
        loader.set_basedir(base)
    captured.clear()
    templar = Templar(loader, variables=trusted(variables))
    out: dict = {}
    try:
        if 't' in case:
            out['kind'], out['input'] = 'template', case['t']
            kwargs = {}
            if 'escape_backslashes' in case:
                kwargs['escape_backslashes'] = case['escape_backslashes']
            if case.get('overrides'):
                kwargs['overrides'] = case['overrides']
            result = templar.template(trust_as_template(case['t']), **kwargs)
        elif 'c' in case:
            out['kind'], out['input'] = 'conditional', case['c']
            cond = case['c']
            result = templar.evaluate_conditional(trust_as_template(cond) if isinstance(cond, str) else cond)
        elif 'v' in case:
            out['kind'], out['input'] = 'value', case['v']
            result = templar.template(trusted(case['v']))
        else:
            raise SystemExit(f'case without t/c/v: {case!r}')
        out['value'] = plain(result)
        out['type'] = type_name(result)
    except AnsibleError as ex:
        out['error'] = normalize_error(str(ex))
        out['errorType'] = type(ex).__name__
    finally:
        for key, val in old_env.items():
            if val is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = val
    if case.get('vars'):
        out['vars'] = case['vars']
    if case.get('env'):
        out['env'] = case['env']
    if case.get('name'):
        out['name'] = case['name']
    for key in ('escape_backslashes', 'overrides', 'files', 'templates'):
        if key in case:
            out[key] = case[key]
    if case.get('known_gap'):
        out['known_gap'] = case['known_gap']
    if captured:
        out['messages'] = list(captured)
    return out


def verify_with_playbook(path: str) -> int:
    """Cross-check the recorded answers with a real ansible-playbook run: every plain template case becomes a
    `debug: msg=...` task and every conditional a `when:` on a debug task, with the vars as play/task vars."""
    import subprocess
    import tempfile

    class Unsafe(str):
        pass

    def represent_unsafe(dumper, data):
        return dumper.represent_scalar('!unsafe', str(data))

    yaml.SafeDumper.add_representer(Unsafe, represent_unsafe)

    def to_yaml_vars(value):
        if isinstance(value, dict):
            if set(value) == {'__unsafe__'}:
                return Unsafe(value['__unsafe__'])
            return {k: to_yaml_vars(v) for k, v in value.items()}
        if isinstance(value, list):
            return [to_yaml_vars(v) for v in value]
        return value

    with open(path, encoding='utf-8') as f:
        doc = json.load(f)
    selected = [c for c in doc['cases'] if c['kind'] in ('template', 'conditional')
                and not any(k in c for k in ('env', 'files', 'templates', 'overrides', 'escape_backslashes'))]
    tasks = []
    for c in selected:
        task = {'ignore_errors': True}
        if c['kind'] == 'template':
            task['ansible.builtin.debug'] = {'msg': c['input']}
        else:
            task['ansible.builtin.debug'] = {'msg': 'ok'}
            task['when'] = c['input']
        if c.get('vars'):
            task['vars'] = to_yaml_vars(c['vars'])
        tasks.append(task)
    play = [{'hosts': 'localhost', 'connection': 'local', 'gather_facts': False,
             'vars': to_yaml_vars(doc['vars']), 'tasks': tasks}]
    # A minimal callback plugin that writes each task result as a JSON line.
    callback = """
import json, os
from ansible.plugins.callback import CallbackBase
class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'notification'
    CALLBACK_NAME = 'record_results'
    CALLBACK_NEEDS_ENABLED = False
    def _record(self, result, status):
        data = dict(result._result)
        data['_status'] = status
        with open(os.environ['RECORD_RESULTS_TO'], 'a') as f:
            f.write(json.dumps(data, default=lambda o: o.isoformat() if hasattr(o, 'isoformat') else str(o)) + '\\n')
    def v2_runner_on_ok(self, result): self._record(result, 'ok')
    def v2_runner_on_failed(self, result, ignore_errors=False): self._record(result, 'failed')
    def v2_runner_on_skipped(self, result): self._record(result, 'skipped')
"""
    with tempfile.TemporaryDirectory() as tmp:
        pb = os.path.join(tmp, 'verify.yml')
        with open(pb, 'w', encoding='utf-8') as f:
            yaml.safe_dump(play, f, allow_unicode=True, sort_keys=False)
        os.makedirs(os.path.join(tmp, 'callback_plugins'))
        with open(os.path.join(tmp, 'callback_plugins', 'record_results.py'), 'w') as f:
            f.write(callback)
        record = os.path.join(tmp, 'results.jsonl')
        env = dict(os.environ, ANSIBLE_CALLBACK_PLUGINS=os.path.join(tmp, 'callback_plugins'),
                   ANSIBLE_CALLBACKS_ENABLED='record_results', RECORD_RESULTS_TO=record,
                   ANSIBLE_DEPRECATION_WARNINGS='False', ANSIBLE_LOCALHOST_WARNING='False')
        run = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', 'localhost,', pb],
                             capture_output=True, text=True, env=env)
        if not os.path.exists(record):
            raise SystemExit(f'ansible-playbook failed:\n{run.stdout[-2000:]}\n{run.stderr[-2000:]}')
        with open(record) as f:
            results = [json.loads(line) for line in f]
    if len(results) != len(selected):
        raise SystemExit(f'expected {len(selected)} results, got {len(results)}')
    prefix = "Task failed: Finalization of task args for 'ansible.builtin.debug' failed: Error while resolving value for 'msg': "
    mismatches = 0
    for c, r in zip(selected, results):
        if c['kind'] == 'template':
            if r['_status'] == 'failed':
                got = ('error', r['msg'][len(prefix):] if r['msg'].startswith(prefix) else r['msg'])
            else:
                got = ('value', r.get('msg'))
            want = ('error', c['error']) if 'error' in c else ('value', c['value'])
        else:
            if r['_status'] == 'skipped':
                got = ('value', False)
            elif r['_status'] == 'failed':
                got = ('error', r['msg'].removeprefix('Task failed: '))
            else:
                got = ('value', True)
            want = ('error', c['error']) if 'error' in c else ('value', c['value'])
            if got[0] == 'error' and want[0] == 'error':
                # The playbook names the conditional's origin; the Templar run has none.
                import re as _re
                got = ('error', _re.sub(r"at '[^']*'", "at '<unknown>'", got[1]))
        if got != want:
            mismatches += 1
            print(f'MISMATCH {c["kind"]} {c["input"]!r}: playbook {got!r} recorded {want!r}')
    print(f'{len(selected)} cases run through ansible-playbook, {mismatches} differ from the recorded answers',
          file=sys.stderr)
    return mismatches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--input', default=os.path.join(FIXTURES, 'cases.in.yaml'))
    parser.add_argument('--output', default=os.path.join(FIXTURES, 'cases.json'))
    parser.add_argument('-t', action='append', default=[], help='explore: render this template')
    parser.add_argument('-c', action='append', default=[], help='explore: evaluate this conditional')
    parser.add_argument('-v', default='{}', help='explore: variables as JSON')
    parser.add_argument('--verify-playbook', action='store_true',
                        help='cross-check the recorded fixture with a real ansible-playbook run')
    args = parser.parse_args()

    if args.verify_playbook:
        verify_with_playbook(args.output)
        return

    if args.t or args.c:
        variables = json.loads(args.v)
        for t in args.t:
            print(json.dumps(run_case(variables, {'t': t}), ensure_ascii=False))
        for c in args.c:
            print(json.dumps(run_case(variables, {'c': c}), ensure_ascii=False))
        return

    with open(args.input, encoding='utf-8') as f:
        spec = yaml.safe_load(f)
    shared = spec.get('vars') or {}
    results = [run_case(shared, case) for case in spec['cases']]
    doc = {
        'generator': 'Tests/tools/gen_template_cases.py',
        'ansible_core': __import__('ansible.release', fromlist=['__version__']).__version__,
        'vars': shared,
        'cases': results,
    }
    with open(args.output, 'w', encoding='utf-8') as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)
        f.write('\n')
    errors = sum(1 for r in results if 'error' in r)
    print(f'{len(results)} cases ({errors} errors) -> {os.path.relpath(args.output)}', file=sys.stderr)


if __name__ == '__main__':
    main()
