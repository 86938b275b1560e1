#!/usr/bin/env bash
# Checks beyond unit and Python integration tests: the browser suite against the real binary, and
# a short run of every fuzz target over its seed corpus (tests/fuzz/README.md).
# Called by scripts/run-tests.sh with PP_BIN set.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "-- browser tests (tests/e2e, headless Chromium)"
tests/e2e/run.sh

echo "-- fuzz smoke (tests/fuzz, libFuzzer + ASan + UBSan)"
fuzz_cc=${FUZZ_CC:-clang}
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n);\n%s\n' \
  'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }' \
  >"$probe/probe.c"
if [ -n "${PP_SANITIZED:-}" ]; then
  # The fuzz targets are always built with ASan + UBSan; make test has run them already.
  echo "SKIP fuzz smoke: already run by make test (the targets are sanitized builds anyway)"
elif ! command -v "$fuzz_cc" >/dev/null 2>&1; then
  echo "SKIP fuzz smoke: $fuzz_cc not found (scripts/bootstrap.sh --test installs clang)"
elif ! "$fuzz_cc" -fsanitize=fuzzer,address,undefined "$probe/probe.c" -o "$probe/probe" \
  >/dev/null 2>&1; then
  echo "SKIP fuzz smoke: $fuzz_cc has no libFuzzer runtime" \
    "(scripts/bootstrap.sh --test installs libclang-rt-dev)"
else
  make --no-print-directory FUZZ_CC="$fuzz_cc" fuzz-smoke
fi
