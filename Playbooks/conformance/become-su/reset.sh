set -e
# A directory that only the become user (the test hosts' "sudopass" user) may write; sources on the controller.
su_user=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["users"]["sudopass"]["name"])' "$HOSTS_JSON")
mkdir -m 0755 "$CONF_DIR/out" "$CONF_DIR/src"
chown "$su_user:" "$CONF_DIR/out"
{ seq 1 200000; head -c 2048 /dev/zero; printf '\003\004\r\n\177'; } > "$CONF_DIR/src/big.bin"
printf 'made for {{ inventory_hostname }} by {{ ansible_user }}\n' > "$CONF_DIR/src/t.j2"
