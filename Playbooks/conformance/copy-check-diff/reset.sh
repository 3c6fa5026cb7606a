set -e
echo old > "$CONF_DIR/old.txt"
chown "$CONF_USER" "$CONF_DIR/old.txt"
chmod 0644 "$CONF_DIR/old.txt"
