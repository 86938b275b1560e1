#!/usr/bin/env bash
# Benchmark: idle RSS after start (target <= 20 MB) and time from exec to the first 200 on
# /healthz (target <= 50 ms), best and median of 20 runs, default configuration.
#
#   bench/startup.sh            # RUNS=20 by default
#
# The exec->200 figure comes from bench/startup.py (Python stdlib: monotonic clock before Popen,
# raw-socket GET /healthz every 1 ms). hyperfine adds `pixelprompt version` (exec, dynamic
# linking of ~10 libraries, exit) as the floor any command pays.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need python3
ensure_binary
RUNS=${RUNS:-20}

echo "# startup: $(date -u +%Y-%m-%dT%H:%MZ), $(git -C "$BENCH_ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')" \
     "(working tree may have uncommitted changes)"
echo "# machine: $(machine_note)"
echo "# binary: $BIN ($(du -k "$BIN" | cut -f1) KiB, $(ldd "$BIN" | wc -l) shared objects incl. vdso/ld.so)"
wait_quiet "${QUIET_WAIT:-60}"
if command -v hyperfine >/dev/null; then
    hyperfine -N --warmup 5 --runs 100 --style basic "$BIN version" 2>&1 | grep -E "Time|Range"
fi
wait_quiet "${QUIET_WAIT:-60}"
python3 "$(dirname "$0")/startup.py" --bin "$BIN" --runs "$RUNS"
