set -e
echo present > "$CONF_DIR/present"
chown "$CONF_USER" "$CONF_DIR/present"
