set -e
echo old > "$CONF_DIR/target"
ln -s "$CONF_DIR/target" "$CONF_DIR/link"
echo old2 > "$CONF_DIR/target2"
ln -s "$CONF_DIR/target2" "$CONF_DIR/link2"
mkdir -m 0555 "$CONF_DIR/ro"
chown -h "$CONF_USER" "$CONF_DIR/target" "$CONF_DIR/link" "$CONF_DIR/target2" "$CONF_DIR/link2" "$CONF_DIR/ro"
