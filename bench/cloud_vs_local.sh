#!/usr/bin/env bash
# Benchmark: GET /status/{id} and GET /gallery/list?limit=24 latency with STORE=dynamodb +
# BLOBS=s3 (moto server on loopback, SigV4 checked) side by side with sqlite + fs, in one run,
# on the same machine, with the same seeded jobs. Reports p50/p99 per route and the ratio.
#
#   bench/cloud_vs_local.sh                  # 300 jobs, 3 rounds of 5 s per route and backend
#   JOBS=100 ROUNDS=1 DURATION=3s bench/cloud_vs_local.sh
#
# Latency, not throughput: wrk -t1 -c1 (one request at a time), so each figure is one request's
# round trip through the binary and its store. moto is a Python emulator that applies requests one
# at a time (tests/integration/cloudutil.py explains why); a real DynamoDB round trip inside one
# AWS region is typically a few milliseconds, so the cloud column here shows our overhead plus
# moto's, not AWS's.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need wrk; need curl; need python3
ensure_binary

JOBS=${JOBS:-300}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5s}
WORK=$(mktemp -d /tmp/pp-bench-cvl.XXXXXX)
MOTO_PID=
CTL_OPEN=0
cleanup() {
    stop_server
    # Closing the keeper's stdin makes it stop moto (killing the keeper would orphan moto);
    # before the fifo is open the keeper is only a shell waiting to open it.
    if [ "$CTL_OPEN" = 1 ]; then
        exec 9>&-
        wait "$MOTO_PID" 2>/dev/null || true
    elif [ -n "$MOTO_PID" ]; then
        kill "$MOTO_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# moto with an IAM user, through the test helper; it writes the environment to use, then waits
# for its stdin (this script's fifo) to close.
mkfifo "$WORK/moto.ctl"
MOTO_KEEPER='
import os, sys, cloudutil as cu
m = cu.Moto().start()
with open(sys.argv[1] + ".tmp", "w") as f:
    for k, v in m.env("pp-bench", "pp-bench").items():
        f.write(f"{k}={v}\n")
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
sys.stdin.read()
m.stop()
'
PYTHONPATH="$BENCH_ROOT/tests/integration" python3 -c "$MOTO_KEEPER" "$WORK/moto.env" <"$WORK/moto.ctl" &
MOTO_PID=$!
exec 9>"$WORK/moto.ctl"
CTL_OPEN=1
for _ in $(seq 1 300); do [ -s "$WORK/moto.env" ] && break; sleep 0.1; done
[ -s "$WORK/moto.env" ] || { echo "bench: moto did not start" >&2; exit 1; }
mapfile -t CLOUD_ENV <"$WORK/moto.env"

echo "# cloud_vs_local: $(date -u +%Y-%m-%dT%H:%MZ), $(git -C "$BENCH_ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "# machine: $(machine_note)"
echo "# $JOBS jobs per backend; wrk -t1 -c1 -d$DURATION --latency; $ROUNDS round(s); moto $(python3 -c 'import moto; print(moto.__version__)')"

LUA="$(dirname "$0")/wrk_report.lua"
RESULTS=$WORK/results.txt
: >"$RESULTS"
COMMON=(DEMO_IMAGE_SIZE=16 IP_LIMIT=1000000000 GLOBAL_LIMIT=1000000000 LOG_LEVEL=WARNING
        QUOTA_HASH_KEY=bench STORE_CREATE=1)

for backend in local cloud; do
    export PORT=$((18200 + RANDOM % 1000))
    export DATA_DIR=$WORK/$backend
    if [ "$backend" = cloud ]; then extra=("${CLOUD_ENV[@]}"); else extra=(STORE=sqlite BLOBS=fs); fi
    start_server "$WORK/$backend-seed.log" "${COMMON[@]}" DEMO_LATENCY_MS=0 "${extra[@]}"
    python3 "$(dirname "$0")/seed_jobs.py" --url "http://127.0.0.1:$PORT" --jobs "$JOBS" \
        --concurrency 8 --ids "$WORK/$backend-ids.txt" --cursors "$WORK/$backend-cursors.txt" >/dev/null
    URL="http://127.0.0.1:$PORT"
    # warm-up, not reported
    BENCH_PATH_PREFIX=/status/ BENCH_PATHS_FILE="$WORK/$backend-ids.txt" \
        wrk -t1 -c1 -d1s -s "$LUA" "$URL/" >/dev/null
    for r in $(seq 1 "$ROUNDS"); do
        out=$(BENCH_PATH_PREFIX=/status/ BENCH_PATHS_FILE="$WORK/$backend-ids.txt" \
              wrk -t1 -c1 -d"$DURATION" --latency -s "$LUA" "$URL/" | grep '^RESULT')
        echo "backend=$backend round=$r route=status $out" | tee -a "$RESULTS"
        out=$(wrk -t1 -c1 -d"$DURATION" --latency -s "$LUA" "$URL/gallery/list?limit=24" | grep '^RESULT')
        echo "backend=$backend round=$r route=gallery_list $out" | tee -a "$RESULTS"
    done
    echo "# $backend server RSS: $(awk '/VmRSS/ {print $2, $3}' /proc/$SERVER_PID/status)"
    stop_server
done

python3 - "$RESULTS" <<'EOF'
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    kv = dict(re.findall(r"(\w+)=([^\s]+)", line))
    rows.setdefault((kv["backend"], kv["route"]), []).append(kv)
med = lambda b, r, k: statistics.median(float(x[k]) for x in rows[(b, r)])
errs = lambda b, r: sum(int(x[k]) for x in rows[(b, r)] for k in ("non2xx", "connect_err", "read_err", "timeout"))
print("\nsummary (median over rounds; one request at a time):")
print("%-13s %-8s %9s %9s %9s %7s" % ("route", "backend", "p50 ms", "p99 ms", "req/s", "errors"))
for route in ("status", "gallery_list"):
    for b in ("local", "cloud"):
        print("%-13s %-8s %9.3f %9.3f %9.0f %7d" % (route, b, med(b, route, "p50_ms"),
              med(b, route, "p99_ms"), med(b, route, "rps"), errs(b, route)))
    print("%-13s %-8s %9.1fx %8.1fx" % (route, "ratio", med("cloud", route, "p50_ms") / med("local", route, "p50_ms"),
          med("cloud", route, "p99_ms") / med("local", route, "p99_ms")))
EOF
