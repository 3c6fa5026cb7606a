set -e
# Sources on the controller (this machine): deterministic, with NUL bytes, larger than the inline limit.
mkdir "$CONF_DIR/src"
{ seq 1 400000; head -c 4096 /dev/zero; seq 7 9; } > "$CONF_DIR/src/big.bin"
{ seq 2 400000; head -c 100 /dev/zero; } > "$CONF_DIR/src/big2.bin"
printf 'a\000b\n' > "$CONF_DIR/src/nul.bin"
mkdir -m 0755 "$CONF_DIR/rootdir"
