# Shared helpers for the bench/*.sh scripts (sourced, not run).
# Starts and stops the real binary; never touches anything but the process it started.

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${BIN:-$BENCH_ROOT/build/pixelprompt}
SERVER_PID=

need() {
    command -v "$1" >/dev/null 2>&1 || { echo "bench: $1 is not installed" >&2; exit 1; }
}

ensure_binary() {
    if [ ! -x "$BIN" ]; then
        echo "bench: $BIN missing; building it (make all)" >&2
        make -C "$BENCH_ROOT" all >/dev/null || exit 1
    fi
}

# start_server LOGFILE [VAR=value ...]: starts `pixelprompt serve` with the given environment
# (on top of PORT and DATA_DIR, which the caller exports) and waits for /healthz.
start_server() {
    local log=$1; shift
    env "$@" "$BIN" serve >"$log" 2>&1 &
    SERVER_PID=$!
    local i
    for i in $(seq 1 200); do
        if curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz" 2>/dev/null; then return 0; fi
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            echo "bench: server exited at start; log:" >&2; tail -20 "$log" >&2; exit 1
        fi
        sleep 0.05
    done
    echo "bench: server did not answer /healthz in 10 s" >&2
    exit 1
}

stop_server() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID"
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    SERVER_PID=
}

machine_note() {
    echo "$(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'))," \
         "$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, kernel $(uname -r);" \
         "load generator and server share the same cores"
}

# wait_quiet [MAX_SECONDS]: other people's test runs share this machine. Before a measurement,
# wait (up to MAX_SECONDS, default 60) until the whole machine used under QUIET_CORES (default
# 0.25) cores over one second, so a figure is not taken in the middle of someone's test suite.
# Prints how long it waited and how busy it still was; never fails.
wait_quiet() {
    local max=${1:-60} waited=0 b0 b1 t0 t1 used
    while :; do
        b0=$(awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat)
        sleep 1
        b1=$(awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat)
        used=$(awk -v a="$b0" -v b="$b1" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", (b - a) / hz}')
        if awk -v u="$used" -v q="${QUIET_CORES:-0.25}" 'BEGIN {exit !(u < q)}'; then break; fi
        waited=$((waited + 1))
        if [ "$waited" -ge "$max" ]; then
            echo "# machine still busy after ${max}s (${used} cores used by others); measuring anyway" >&2
            return 0
        fi
    done
    [ "$waited" -gt 0 ] && echo "# waited ${waited}s for the machine to be quiet (${used} cores busy)" >&2
    return 0
}
