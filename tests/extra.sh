#!/usr/bin/env bash
# Checks beyond unit and Python integration tests: the browser suite against the real binary.
# Called by scripts/run-tests.sh with PP_BIN set.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "-- browser tests (tests/e2e, headless Chromium)"
tests/e2e/run.sh
