#!/bin/sh
id -un
echo "args: $*"
