set -e
mkdir "$CONF_DIR/adir" "$CONF_DIR/sdir"
mkfifo "$CONF_DIR/fifo"
chown "$CONF_USER:" "$CONF_DIR/adir" "$CONF_DIR/sdir" "$CONF_DIR/fifo"
