#!/usr/bin/env bash
# Browser tests of the web UI against the real binary (see run.mjs). Installs the pinned npm
# packages (package-lock.json) when they are missing, then runs the suite.
#   tests/e2e/run.sh                                  PP_BIN defaults to build/pixelprompt
#   tests/e2e/run.sh --test-name-pattern=gallery      node options (e.g. one test) go before run.mjs
#   UPDATE_SCREENSHOTS=1 tests/e2e/run.sh             refresh docs/screenshot-*.png
set -euo pipefail
cd "$(dirname "$0")"
command -v node >/dev/null || { echo "e2e: node is not installed (apt-get install nodejs npm)" >&2; exit 1; }
chromium=${CHROMIUM:-/usr/bin/chromium}
[ -x "$chromium" ] || { echo "e2e: no Chromium at $chromium (apt-get install chromium, or set CHROMIUM)" >&2; exit 1; }
if [ ! -f node_modules/playwright-core/package.json ] || [ ! -f node_modules/axe-core/package.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
exec node "$@" run.mjs
