#!/usr/bin/env bash
# Lays out the AWS Lambda package for runtime provided.al2023 and zips it.
#   OUT_DIR/bootstrap     a tiny /bin/sh wrapper: puts OUT_DIR/lib first on the library path and
#                         runs `pixelprompt lambda` (the Runtime API loop)
#   OUT_DIR/pixelprompt   the binary (debug sections stripped)
#   OUT_DIR/lib/          every shared library the binary needs that the runtime does not have
#                         (the runtime's list is scripts/al2023-base-libs.txt)
# Usage: package-lambda.sh BINARY OUT_DIR ZIP
# Called by `make lambda` (deploy/lambda.mk). Check the result with scripts/check-lambda-package.sh.
set -euo pipefail

if [ $# -ne 3 ]; then
  echo "usage: $0 BINARY OUT_DIR ZIP" >&2
  exit 2
fi
bin=$1 out=$2 zip=$3
root=$(cd "$(dirname "$0")/.." && pwd)
base_list="$root/scripts/al2023-base-libs.txt"

[ -x "$bin" ] || { echo "package-lambda: $bin is not an executable (run make all first)" >&2; exit 1; }

in_base() { grep -qxF "$1" <(grep -v '^#' "$base_list" | sed 's/[[:space:]]*$//'); }

rm -rf "$out"
mkdir -p "$out/lib"
cp "$bin" "$out/pixelprompt"
if command -v strip >/dev/null; then strip --strip-debug "$out/pixelprompt"; fi
chmod 0755 "$out/pixelprompt"

# The wrapper Lambda runs. Lambda's own LD_LIBRARY_PATH lists /lib64 before /var/task/lib, so the
# bundled copies must be put first explicitly or the runtime's older/reduced ones would win.
cat >"$out/bootstrap" <<'WRAPPER'
#!/bin/sh
# Pixel Prompt on AWS Lambda (provided.al2023): bundled libraries first, then the Runtime API loop.
LD_LIBRARY_PATH="$LAMBDA_TASK_ROOT/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export LD_LIBRARY_PATH
exec "$LAMBDA_TASK_ROOT/pixelprompt" lambda
WRAPPER
chmod 0755 "$out/bootstrap"

# Bundle the closure ldd reports, minus what the runtime provides.
bundled=0
while read -r name arrow path _; do
  [ "$arrow" = "=>" ] || continue
  if [ "$path" = "not" ]; then
    echo "package-lambda: $name not found on this machine" >&2
    exit 1
  fi
  in_base "$name" && continue
  cp -L "$path" "$out/lib/$name"
  chmod 0644 "$out/lib/$name"
  bundled=$((bundled + 1))
done < <(ldd "$out/pixelprompt")

# Zip with python3 (always present): keeps the executable bits Lambda needs, stable file order.
rm -f "$zip"
python3 - "$out" "$zip" <<'PY'
import os, sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames.sort()
        for f in sorted(filenames):
            full = os.path.join(dirpath, f)
            z.write(full, os.path.relpath(full, src))
PY
echo "package-lambda: $zip ($(du -k "$zip" | cut -f1) KiB, $bundled bundled libraries)"
