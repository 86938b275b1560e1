#!/usr/bin/env bash
# Checks a Lambda package made by `make lambda` (a zip, or the directory it was made from) before it
# goes anywhere near AWS:
#   1. bootstrap exists, is executable, and runs `pixelprompt lambda` with lib/ first on the path
#   2. pixelprompt is an executable x86-64 ELF (the template's Architectures: x86_64)
#   3. every library ldd reports for the binary (resolved with lib/ first) is either in the runtime's
#      list (scripts/al2023-base-libs.txt) or bundled in lib/; nothing is "not found"
#   4. every DT_NEEDED of the binary and of each bundled library is in that list or in lib/
#      (the same closure, read from the files themselves, so it holds whatever this host has)
#   5. no glibc piece is bundled (those must come from the runtime)
#   6. no file needs a glibc symbol version newer than AL2023's (2.34; --glibc-max to change)
#   7. the zip is under Lambda's 50 MB upload limit and unzips to under 250 MB
# Usage: check-lambda-package.sh ZIP_OR_DIR [--glibc-max X.Y]
# Exit: 0 all checks passed, 1 a check failed, 2 usage error.
set -euo pipefail

usage() { echo "usage: $0 ZIP_OR_DIR [--glibc-max X.Y]" >&2; exit 2; }
[ $# -ge 1 ] || usage
pkg=$1
shift
glibc_max=2.34
while [ $# -gt 0 ]; do
  case "$1" in
    --glibc-max) [ $# -ge 2 ] || usage; glibc_max=$2; shift 2 ;;
    *) usage ;;
  esac
done
[ -e "$pkg" ] || { echo "check-lambda-package: $pkg does not exist (run make lambda)" >&2; exit 2; }

root=$(cd "$(dirname "$0")/.." && pwd)
base_list="$root/scripts/al2023-base-libs.txt"
mapfile -t base < <(grep -v '^#' "$base_list" | sed 's/[[:space:]]*$//' | grep -v '^$')
in_base() {
  local b
  for b in "${base[@]}"; do [ "$b" = "$1" ] && return 0; done
  return 1
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
ok() { printf 'ok    %s\n' "$*"; }
bad() { printf 'FAIL  %s\n' "$*"; failures=$((failures + 1)); }

if [ -d "$pkg" ]; then
  cp -R "$pkg/." "$tmp/"
else
  # Extract with python3, keeping the modes recorded in the zip (Lambda uses them as they are).
  python3 - "$pkg" "$tmp" <<'PY'
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    for info in z.infolist():
        path = z.extract(info, sys.argv[2])
        mode = (info.external_attr >> 16) & 0o777
        if mode:
            os.chmod(path, mode)
PY
  zip_bytes=$(stat -c %s "$pkg")
  unzipped=$(du -sb "$tmp" | cut -f1)
  if [ "$zip_bytes" -lt 52428800 ] && [ "$unzipped" -lt 262144000 ]; then
    ok "size: zip $((zip_bytes / 1024)) KiB, unzipped $((unzipped / 1024)) KiB (limits 50 MB / 250 MB)"
  else
    bad "size: zip $zip_bytes bytes, unzipped $unzipped bytes (limits 50 MB / 250 MB)"
  fi
fi

# 1. bootstrap
boot="$tmp/bootstrap"
# shellcheck disable=SC2016 # the wrapper's literal text is what is looked for
want_exec='exec "$LAMBDA_TASK_ROOT/pixelprompt" lambda'
if [ -f "$boot" ] && [ -x "$boot" ] && head -n1 "$boot" | grep -qx '#!/bin/sh' \
  && grep -q 'LAMBDA_TASK_ROOT/lib' "$boot" && grep -qF "$want_exec" "$boot"; then
  ok "bootstrap: executable /bin/sh wrapper, lib/ first, runs pixelprompt lambda"
else
  bad "bootstrap: missing, not executable, or not the expected wrapper"
fi

# 2. the binary
bin="$tmp/pixelprompt"
if [ -f "$bin" ] && [ -x "$bin" ] && python3 - "$bin" <<'PY'
import sys
with open(sys.argv[1], "rb") as f:
    h = f.read(20)
# ELF magic, 64-bit, little endian, e_machine 62 = x86-64
sys.exit(0 if h[:4] == b"\x7fELF" and h[4] == 2 and h[5] == 1 and int.from_bytes(h[18:20], "little") == 62 else 1)
PY
then
  ok "pixelprompt: executable x86-64 ELF"
else
  bad "pixelprompt: missing, not executable, or not an x86-64 ELF"
  echo "check-lambda-package: $failures check(s) failed"
  exit 1
fi

# 3. ldd closure, resolved with the bundle first (as the bootstrap wrapper arranges)
ldd_fail=0
while read -r name arrow path _; do
  [ "$arrow" = "=>" ] || continue
  if [ "$path" = "not" ]; then
    bad "ldd: $name not found (neither bundled nor on this host)"
    ldd_fail=1
  elif [ -f "$tmp/lib/$name" ]; then
    :
  elif in_base "$name"; then
    :
  else
    bad "ldd: $name ($path) is neither in scripts/al2023-base-libs.txt nor in lib/"
    ldd_fail=1
  fi
done < <(LD_LIBRARY_PATH="$tmp/lib" ldd "$bin" 2>&1)
[ "$ldd_fail" -eq 0 ] && ok "ldd: every library is in the AL2023 runtime list or bundled in lib/"

# 4. DT_NEEDED of every ELF file in the package
files=("$bin")
shopt -s nullglob
for f in "$tmp"/lib/*; do files+=("$f"); done
shopt -u nullglob
needed_fail=0
for f in "${files[@]}"; do
  while read -r soname; do
    [ -n "$soname" ] || continue
    if ! in_base "$soname" && [ ! -f "$tmp/lib/$soname" ]; then
      bad "needed: $(basename "$f") needs $soname, which is neither in the runtime list nor in lib/"
      needed_fail=1
    fi
  done < <(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\].*/\1/p')
done
[ "$needed_fail" -eq 0 ] && ok "needed: the binary and ${#files[@]} file(s) checked; every DT_NEEDED is provided"

# 5. nothing of glibc in lib/
glibc_bundled=0
for name in ld-linux-x86-64.so.2 libc.so.6 libm.so.6 libpthread.so.0 libdl.so.2 librt.so.1 libresolv.so.2; do
  if [ -e "$tmp/lib/$name" ]; then bad "bundle: lib/$name is part of glibc and must come from the runtime"; glibc_bundled=1; fi
done
[ "$glibc_bundled" -eq 0 ] && ok "bundle: no glibc library bundled ($(( ${#files[@]} - 1 )) libraries in lib/)"

# 6. glibc symbol versions
newest=""
newest_file=""
for f in "${files[@]}"; do
  v=$(objdump -p "$f" | sed -n '/Version References/,$p' | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -n1 || true)
  [ -n "$v" ] || continue
  if [ -z "$newest" ] || [ "$(printf '%s\n%s\n' "$newest" "$v" | sort -V | tail -n1)" = "$v" ]; then
    newest=$v
    newest_file=$(basename "$f")
  fi
done
if [ -z "$newest" ]; then
  ok "glibc: no versioned glibc symbols referenced"
elif [ "$(printf '%s\n%s\n' "$newest" "$glibc_max" | sort -V | tail -n1)" = "$glibc_max" ]; then
  ok "glibc: newest symbol version needed is GLIBC_$newest ($newest_file), runtime has $glibc_max"
else
  bad "glibc: $newest_file needs GLIBC_$newest, newer than the runtime's $glibc_max: build inside Amazon Linux 2023 (scripts/build-lambda-al2023.sh)"
fi

if [ "$failures" -gt 0 ]; then
  echo "check-lambda-package: $failures check(s) failed"
  exit 1
fi
echo "check-lambda-package: all checks passed"
