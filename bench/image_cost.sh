#!/bin/sh
# Builds bench/image_cost.c against build/libpixelprompt.a (into a temporary directory, nothing in
# the tree) and runs it on the 1024x1024 benchmark PNG the fakes serve (--image big) and on the
# 64x64 one (--image small).   usage: bench/image_cost.sh [iterations]
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
[ -f "$ROOT/build/libpixelprompt.a" ] || make -C "$ROOT" build/libpixelprompt.a >/dev/null
PKGS="libmicrohttpd libcurl jansson sqlite3 spng libjpeg libwebp libzip openssl"
# shellcheck disable=SC2046,SC2086  # word splitting of the package list is intended
cc -O2 -std=c11 -D_GNU_SOURCE -I"$ROOT/src" "$ROOT/bench/image_cost.c" "$ROOT/build/libpixelprompt.a" \
   $(pkg-config --cflags --libs $PKGS) -lpthread -lm -o "$T/image_cost"
python3 - "$ROOT/tests/fakes" "$T" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
import common
for kind in ("big", "small"):
    open("%s/%s.png" % (sys.argv[2], kind), "wb").write(common.png(kind))
PY
"$T/image_cost" "$T/big.png" "${1:-30}"
"$T/image_cost" "$T/small.png" "${1:-30}"
