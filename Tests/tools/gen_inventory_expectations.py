#!/usr/bin/env python3
"""Records what ansible-core does with each inventory fixture, for Tests/SwansibleCoreTests/InventoryFixtureTests.

Each case is a directory Tests/Fixtures/inventories/<case>/ with a case.json:

    {
      "description": "...",
      "sources": ["hosts.ini"],          # -i values, relative to the case directory (or host lists)
      "playbook_dir": "play",            # optional --playbook-dir, relative to the case directory
      "graph": [null, "web"],            # groups for --graph (null: all)
      "hosts": ["h1", "localhost"],      # names for --host
      "list_limits": ["web"],            # optional: --list --limit values
      "patterns": [{"pattern": "web", "limit": "db"}],   # InventoryManager.get_hosts(pattern) after subset(limit)
      "expected_warnings": ["..."],      # optional: swansible's exact warnings (checked by the Swift test)
      "expected_error": "...",           # optional: loading fails; swansible's exact error (ansible-core's is recorded)
      "ansible_says": ["..."]            # optional: text ansible-core must print (checked here)
    }

`<dir>` in any string stands for the case directory's absolute path. This writes <case>/expected.json with
ansible-inventory's --list JSON, --graph text, --host JSON, the hosts of each pattern (or the error), as
InventoryManager.get_hosts answers (what plays use; the `ansible` CLI hides its errors behind an empty list), the `groups`
magic variable (InventoryManager.get_groups_dict()), and ansible-core's warnings, with the case directory replaced by `<dir>` and the controller's
Python by `<python>`.

Run from the repository root (it can be re-run at any time; CI can use it to compare against a live ansible-core):

    Tests/tools/gen_inventory_expectations.py [--ansible-bin /work/venv-ansible/bin] [case ...]
    Tests/tools/gen_inventory_expectations.py --check     # fail if any expected.json would change
"""
from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CASES = os.path.join(ROOT, 'Tests', 'Fixtures', 'inventories')


def run(argv, cwd):
    env = dict(os.environ)
    env.update({
        'ANSIBLE_NOCOLOR': '1', 'ANSIBLE_FORCE_COLOR': '0', 'ANSIBLE_CONFIG': os.path.join(cwd, 'ansible.cfg'),
        'ANSIBLE_LOCALHOST_WARNING': '1', 'ANSIBLE_DEPRECATION_WARNINGS': '1', 'ANSIBLE_STDOUT_CALLBACK': 'default',
        'ANSIBLE_LOAD_CALLBACK_PLUGINS': '0',
    })
    p = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


# Evaluates patterns and the groups magic variable with ansible-core's own InventoryManager.
API_SNIPPET = r'''
import json, sys
from ansible.parsing.dataloader import DataLoader
from ansible.inventory.manager import InventoryManager
from ansible.utils.display import Display
args = json.loads(sys.argv[1])
results = {'patterns': []}
for p in args['patterns']:
    im = InventoryManager(DataLoader(), sources=args['sources'])
    entry = {}
    try:
        im.subset(p.get('limit'))
        entry['hosts'] = [h.name for h in im.get_hosts(p['pattern'])]
    except Exception as e:
        entry['error'] = str(e)
    results['patterns'].append(entry)
im = InventoryManager(DataLoader(), sources=args['sources'])
results['groups'] = im.get_groups_dict()
print(json.dumps(results))
'''


def warnings_of(stderr):
    """The first line of every [WARNING]/[DEPRECATION WARNING]/[ERROR] message."""
    return [line for line in stderr.splitlines() if re.match(r'^\[(WARNING|DEPRECATION WARNING|ERROR)\]', line)]


def error_of(stderr):
    for line in stderr.splitlines():
        if line.startswith('[ERROR]: '):
            return line[len('[ERROR]: '):]
    return stderr.strip()


def record(case_dir, bindir):
    with open(os.path.join(case_dir, 'case.json')) as f:
        case = json.load(f)
    subst = lambda s: s.replace('<dir>', case_dir) if isinstance(s, str) else s
    inv_args = []
    for source in case['sources']:
        source = subst(source)
        if ',' not in source and not os.path.isabs(source):
            source = os.path.join(case_dir, source)
        inv_args += ['-i', source]
    pb_args = []
    if case.get('playbook_dir'):
        pb_args = ['--playbook-dir', os.path.join(case_dir, case['playbook_dir'])]
    ai = [os.path.join(bindir, 'ansible-inventory')] + inv_args + pb_args
    python = os.path.realpath(os.path.join(bindir, 'python3'))

    def clean(text):
        text = text.replace(case_dir, '<dir>')
        text = text.replace(os.path.join(bindir, 'python3'), '<python>').replace(python, '<python>')
        return text

    # A neutral working directory: ansible-inventory reads group_vars/ beside the cwd as playbook vars.
    cwd = tempfile.mkdtemp(prefix='inv-oracle-')
    open(os.path.join(cwd, 'ansible.cfg'), 'w').close()  # default settings whatever the machine has
    jobs = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        jobs['list'] = pool.submit(run, ai + ['--list'], cwd)
        for limit in case.get('list_limits', []):
            jobs[('list_limit', limit)] = pool.submit(run, ai + ['--list', '--limit', subst(limit)], cwd)
        for g in case.get('graph', []):
            jobs[('graph', g)] = pool.submit(run, ai + ['--graph'] + ([g] if g else []), cwd)
        for h in case.get('hosts', []):
            jobs[('host', h)] = pool.submit(run, ai + ['--host', h], cwd)
        api_args = {
            'sources': inv_args[1::2],
            'patterns': [{'pattern': subst(p['pattern']), 'limit': subst(p.get('limit'))} for p in case.get('patterns', [])],
        }
        jobs['api'] = pool.submit(run, [os.path.join(bindir, 'python3'), '-c', API_SNIPPET, json.dumps(api_args)], cwd)
    os.unlink(os.path.join(cwd, 'ansible.cfg'))
    os.rmdir(cwd)

    rc, out, err = jobs['list'].result()
    for text in case.get('ansible_says', []):
        if subst(text) not in err:
            raise SystemExit(f'{case_dir}: ansible-core did not say {text!r}; it said:\n{err}')
    if rc != 0:
        if 'expected_error' not in case:
            raise SystemExit(f'{case_dir}: ansible-inventory --list failed: {err}')
        return json.dumps({'fatal': clean(error_of(err))}, indent=2, sort_keys=True, ensure_ascii=False) + '\n'
    expected = {
        'list': json.loads(clean(out)),
        'ansible_warnings': [clean(w) for w in warnings_of(err)],
        'graph': {},
        'host': {},
        'patterns': [],
    }
    if case.get('list_limits'):
        expected['list_limit'] = {}
    for limit in case.get('list_limits', []):
        rc, out, err = jobs[('list_limit', limit)].result()
        expected['list_limit'][limit] = json.loads(clean(out)) if rc == 0 else {'error': clean(error_of(err))}
    for g in case.get('graph', []):
        rc, out, err = jobs[('graph', g)].result()
        expected['graph'][g or 'all'] = clean(out.rstrip('\n')) if rc == 0 else {'error': clean(error_of(err))}
    for h in case.get('hosts', []):
        rc, out, err = jobs[('host', h)].result()
        expected['host'][h] = json.loads(clean(out)) if rc == 0 else {'error': clean(error_of(err))}
    rc, out, err = jobs['api'].result()
    if rc != 0:
        raise SystemExit(f'{case_dir}: InventoryManager failed: {err}')
    api = json.loads(clean(out.strip().splitlines()[-1]))
    for p, result in zip(case.get('patterns', []), api['patterns']):
        expected['patterns'].append(dict(pattern=p['pattern'], limit=p.get('limit'), **result))
    expected['groups'] = api['groups']
    return json.dumps(expected, indent=2, sort_keys=True, ensure_ascii=False) + '\n'


# Tables of the building blocks, recorded with ansible-core's own functions.
TABLES_SNIPPET = r'''
import ast, json, shlex, sys, warnings
from ansible.parsing.utils.addresses import parse_address
from ansible.plugins.inventory import expand_hostname_range
from ansible.inventory.manager import split_host_pattern
args = json.loads(sys.argv[1])
def attempt(f):
    try:
        return {'ok': f()}
    except Exception as e:
        return {'error': str(e)}
out = {'addresses': [], 'ranges': [], 'split': [], 'shlex': []}
for a in args['addresses']:
    out['addresses'].append(dict(input=a, ranges=attempt(lambda: list(parse_address(a, allow_ranges=True))),
                                 plain=attempt(lambda: list(parse_address(a, allow_ranges=False)))))
for r in args['ranges']:
    out['ranges'].append(dict(input=r, **attempt(lambda: expand_hostname_range(r))))
for p in args['split']:
    out['split'].append(dict(input=p, ok=split_host_pattern(p)))
for t in args['shlex']:
    out['shlex'].append(dict(input=t, **attempt(lambda: shlex.split(t, comments=True))))
print(json.dumps(out, indent=2, sort_keys=True, ensure_ascii=False))
'''

TABLE_INPUTS = {
    'addresses': [
        'host', 'host:22', 'host.example.com:2222', 'web[01:10]', 'web[01:10]:22', 'db-[a:f].example', '127.0.0.1',
        '127.0.0.1:22', '127.0.0.[1:5]', '256.1.1.1', '01.2.3.4', '::1', '[::1]:22', '[::1]', 'fe80::1:2', '1:2:3:4:5:6:7:8',
        '1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:8:9', '::ffff:127.0.0.1', '[host]:22', '[host:22]:33', 'host_', '_host',
        '-host', 'host-', 'a..b', 'a.b.', 'ho st', 'h[1:2]x[a:c]', 'h[a:1]', 'h[1:2:3]', 'h[1:2:x]', '', ':22',
        'host:', 'h:1:2', 'héllo', 'x[1:2].y[3:4]', 'UPPER:99', '::', '1::', '::1:2:3:4:5:6:7', '1:2::3:4:5:6:7',
        'a:b:c:d:e:f:0:1', '0:0:0:0:0:0:127.0.0.1', '[1:2]::1',
    ],
    'ranges': [
        'web[01:05]', 'web[1:5]', 'w[1:10:3]', 'w[a:e]', 'w[a:e:2]', 'w[x:B]', 'w[ab:cd]', 'w[c:a]', 'w[5:1]', 'w[:3]',
        'w[1:]', 'w[1:2:3:4]', 'w[01:5]', 'w[001:010:5]', 'w[1:3]-[a:b]', 'w[a:c:0]', 'w[1:3:0]', 'w[1:3:x]',
        'w[-2:2]', 'w[ 1: 3]', 'w[1_0:1_2]', 'w[1:3', 'w]1:3[', 'w[a:3]', 'w[0:0]', 'w[00:02]-[0:1]',
    ],
    'split': [
        'all', 'a,b', 'a:b', 'a:b,c', 'web[1:2]', 'web[1:2]:db', '::1', 'host:22', 'a:&b:!c', ' a ,, b ', 'a b',
        '~w.*:db', '127.0.0.1:web', 'x[', 'x]y', '[::1]:22,b',
    ],
    'shlex': [
        'h a=1 b="two words" c=\'x y\'', 'h a=1 # comment', 'h a=1#x', 'h "unterminated', 'h a=\\', 'h a="q\\"x"',
        'h a="\\n\\t\\$"', "h a='\\n'", 'h a=b\\ c', 'h ""', 'h a=\'\'', 'h a="1"2\'3\'', '#only', 'h\ta=1',
    ],
}


def record_tables(bindir):
    cwd = tempfile.mkdtemp(prefix='inv-oracle-')
    open(os.path.join(cwd, 'ansible.cfg'), 'w').close()
    rc, out, err = run([os.path.join(bindir, 'python3'), '-c', TABLES_SNIPPET, json.dumps(TABLE_INPUTS)], cwd)
    os.unlink(os.path.join(cwd, 'ansible.cfg'))
    os.rmdir(cwd)
    if rc != 0:
        raise SystemExit(f'tables failed: {err}')
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--ansible-bin', default='/work/venv-ansible/bin')
    parser.add_argument('--check', action='store_true', help='compare instead of writing')
    parser.add_argument('cases', nargs='*')
    args = parser.parse_args()
    names = args.cases or sorted(d for d in os.listdir(CASES) if os.path.isfile(os.path.join(CASES, d, 'case.json')))
    changed = []
    for name in names:
        case_dir = os.path.join(CASES, name)
        text = record(case_dir, args.ansible_bin)
        path = os.path.join(case_dir, 'expected.json')
        old = open(path).read() if os.path.exists(path) else None
        if old != text:
            changed.append(name)
            if not args.check:
                with open(path, 'w') as f:
                    f.write(text)
        print(('changed ' if old != text else 'same    ') + name, file=sys.stderr)
    if not args.cases:
        path = os.path.join(CASES, '_tables.json')
        text = record_tables(args.ansible_bin)
        old = open(path).read() if os.path.exists(path) else None
        if old != text:
            changed.append('_tables.json')
            if not args.check:
                with open(path, 'w') as f:
                    f.write(text)
    if args.check and changed:
        raise SystemExit('differs from ansible-core: ' + ', '.join(changed))


if __name__ == '__main__':
    main()
