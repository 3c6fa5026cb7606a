set -e
printf '# a comment\n[main]\nport = 22\nname = swansible\ndebug = on\n' > "$CONF_DIR/conf"
chown "$CONF_USER" "$CONF_DIR/conf"
chmod 0644 "$CONF_DIR/conf"
