set -e
mkdir -p "$CONF_DIR/sub dir"
echo inside > "$CONF_DIR/sub dir/file"
chown -R "$CONF_USER" "$CONF_DIR/sub dir"
