#!/usr/bin/env bash
# Runs the suite against one build directory: unit tests (cmocka), then integration tests (the real
# binary on free ports), then the rest. Usage: run-tests.sh BUILD_DIR [unit|integration|all]
set -uo pipefail
build=${1:-build}
what=${2:-all}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
failed=()

if [ "$what" = all ] || [ "$what" = unit ]; then
  for t in "$build"/tests/test_*; do
    [ -x "$t" ] || continue
    echo "== unit: $(basename "$t")"
    if ! "$t" 2>&1; then failed+=("$(basename "$t")"); fi
  done
fi

if [ "$what" = all ] || [ "$what" = integration ]; then
  echo "== integration (python unittest)"
  if ! PP_BIN="$root/$build/pixelprompt" python3 -m unittest discover -s tests/integration -p 'test_*.py' -v 2>&1; then
    failed+=(integration)
  fi
fi

if [ "$what" = all ] && [ -x tests/extra.sh ]; then
  echo "== extra checks (tests/extra.sh)"
  if ! PP_BIN="$root/$build/pixelprompt" tests/extra.sh "$build" 2>&1; then failed+=(extra); fi
fi

if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED: ${failed[*]}"
  exit 1
fi
echo "ALL TESTS PASSED ($build)"
