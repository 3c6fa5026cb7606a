#!/bin/sh
# A dynamic inventory script with _meta.hostvars.
if [ "$1" = "--list" ]; then
cat <<'JSON'
{
  "web": {"hosts": ["s1", "s2"], "vars": {"http_port": 80, "tmpl": "{{ x }}", "raw": {"__ansible_unsafe": "{{ y }}"}}},
  "db": {"hosts": ["s3"], "children": ["web"]},
  "legacy_list": ["s4"],
  "weird": {"color": "red"},
  "_meta": {"hostvars": {"s1": {"ansible_host": "127.0.0.61", "n": [1, 2]}, "s3": {"secret": {"__ansible_unsafe": "{{ z }}"}}}}
}
JSON
else
  echo '{}'
fi
