set -e
printf 'a = 1\n# x\nb = 2\n# x\nc = 3\n' > "$CONF_DIR/conf"
printf 'no newline at end' > "$CONF_DIR/nonl"
chown "$CONF_USER" "$CONF_DIR/conf" "$CONF_DIR/nonl"
chmod 0644 "$CONF_DIR/conf"
