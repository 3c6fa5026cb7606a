set -e
cd "$CONF_DIR"
printf 'one\n' > f1
printf 'two\n' > f2
mkdir d1 d4 d4/sub
printf 'x\n' > d4/x
printf 'y\n' > d4/sub/y
touch -d '2021-05-06 07:08:09' f1 f2 d1
chown -R "$CONF_USER" "$CONF_DIR"
