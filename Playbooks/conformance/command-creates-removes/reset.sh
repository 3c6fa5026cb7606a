# One file that exists before the run; the play creates and removes others.
set -e
echo present > "$CONF_DIR/present"
chown "$CONF_USER" "$CONF_DIR/present"
