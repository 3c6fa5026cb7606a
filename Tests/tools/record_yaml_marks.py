#!/work/venv-ansible/bin/python
"""Prints the Origin (line, column) ansible-core gives every value and key of the document in
Tests/SwansibleYAMLTests/LoaderTests.swift (MarkTests), to check the marks there:

    /work/venv-ansible/bin/python Tests/tools/record_yaml_marks.py
"""
import yaml
from ansible._internal._yaml._loader import AnsibleLoader
from ansible._internal._datatag._tags import Origin, TrustedAsTemplate

SOURCE = '''- name: play
  hosts: all
  tasks:
    - name: "t1"
      debug:
        msg: !unsafe '{{ x }}'
      loop: [1, 2]
    - &anchor {a: 1}
    - *anchor
    - |
      block
'''


def walk(value, path):
    origin = Origin.get_tag(value)
    print(f'{path or "/"}: {origin.line_num if origin else None}:{origin.col_num if origin else None}')
    if isinstance(value, dict):
        for key, item in value.items():
            key_origin = Origin.get_tag(key)
            print(f'{path}/key {key}: {key_origin.line_num}:{key_origin.col_num}')
            walk(item, f'{path}/{key}')
    elif isinstance(value, list):
        for index, item in enumerate(value):
            walk(item, f'{path}/{index}')


walk(yaml.load(Origin(path='/m.yml').tag(TrustedAsTemplate().tag(SOURCE)), Loader=AnsibleLoader), '')
