set -e
printf 'some text\n' > "$CONF_DIR/f.txt"
mkdir -m 0751 "$CONF_DIR/dir"
ln -s "$CONF_DIR/f.txt" "$CONF_DIR/link"
printf '#!/bin/sh\n' > "$CONF_DIR/run.sh"
chmod 0755 "$CONF_DIR/run.sh"
chmod 0640 "$CONF_DIR/f.txt"
chown -h "$CONF_USER" "$CONF_DIR/f.txt" "$CONF_DIR/dir" "$CONF_DIR/link" "$CONF_DIR/run.sh"
