set -e
printf 'fetch me\n' > "$CONF_DIR/f.txt"
chown "$CONF_USER" "$CONF_DIR/f.txt"
