#!/usr/bin/env bash
# Benchmark: GET /status/{id} and GET /gallery/list?limit=24 with 10,000 jobs in the store,
# under wrk -t2 -c64 -d10s --latency, with GET /healthz on the same server as a baseline.
#
#   bench/status_gallery.sh                 # 10,000 jobs, 5 rounds of 10 s per route
#   JOBS=2000 ROUNDS=1 DURATION=5s bench/status_gallery.sh   # quicker look
#   KEEP=1 bench/status_gallery.sh; REUSE=/tmp/pp-bench-sg.XXXX bench/status_gallery.sh
#   LOG_LEVEL=WARNING bench/status_gallery.sh   # measured server without request log lines
#
# Seeding is honest: every job is a real POST /generate to the real binary (demo models,
# DEMO_LATENCY_MS=0, DEMO_IMAGE_SIZE=16, high quotas), and the script waits until all are
# terminal. The measured server is then restarted on the same DATA_DIR with the default
# configuration (LOG_LEVEL=INFO, one JSON log line per request, written to a file).
# Prints one line per run and a summary (medians over rounds, status/healthz ratio).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need wrk; need curl; need python3
ensure_binary

JOBS=${JOBS:-10000}
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNS=${CONNS:-64}
export PORT=${PORT:-18095}
# KEEP=1 keeps the seeded store; REUSE=<that directory> measures it again without re-seeding.
if [ -n "${REUSE:-}" ]; then WORK=$REUSE; KEEP=1; else WORK=$(mktemp -d /tmp/pp-bench-sg.XXXXXX); fi
export DATA_DIR=$WORK/data
KEEP=${KEEP:-0}
cleanup() { stop_server; [ "$KEEP" = 1 ] || rm -rf "$WORK"; }
trap cleanup EXIT

echo "# status_gallery: $(date -u +%Y-%m-%dT%H:%MZ), $(git -C "$BENCH_ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')" \
     "(working tree may have uncommitted changes)"
echo "# machine: $(machine_note)"
echo "# wrk -t$THREADS -c$CONNS -d$DURATION --latency; $ROUNDS round(s); DATA_DIR=$DATA_DIR; measured server LOG_LEVEL=${LOG_LEVEL:-INFO}"

# ---- seed ----
if [ -s "$WORK/ids.txt" ] && [ -s "$WORK/cursors.txt" ]; then
    echo "# reusing the store seeded earlier in $WORK"
else
    start_server "$WORK/seed.log" DEMO_LATENCY_MS=0 DEMO_IMAGE_SIZE=16 IP_LIMIT=1000000000 \
        GLOBAL_LIMIT=1000000000 LOG_LEVEL=WARNING
    python3 "$(dirname "$0")/seed_jobs.py" --url "http://127.0.0.1:$PORT" --jobs "$JOBS" \
        --ids "$WORK/ids.txt" --cursors "$WORK/cursors.txt"
    stop_server
fi
echo "# store: $(du -sh "$DATA_DIR" | cut -f1) on disk; $(wc -l <"$WORK/ids.txt") job ids," \
     "$(wc -l <"$WORK/cursors.txt") gallery cursors"

# ---- measure (default configuration, fresh process on the seeded DATA_DIR) ----
start_server "$WORK/serve.log"
URL="http://127.0.0.1:$PORT"
LUA="$(dirname "$0")/wrk_report.lua"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"; }
busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
HZ=$(getconf CLK_TCK)

# run LABEL PATH [PATHS_FILE]: one wrk run; prints "LABEL RESULT ... server_cores=X wrk_cores=Y
# other_cores=Z": CPU used during the run by the server, by wrk, and by everything else on the
# machine (other people's test runs share these 2 cores; a high other_cores means a noisy run).
run() {
    local label=$1 path=$2 file=${3:-} s0 s1 b0 b1 out target threads=${RUN_THREADS:-$THREADS}
    local conns=${RUN_CONNS:-$CONNS} dur=${RUN_DURATION:-$DURATION}
    if [ -n "$file" ]; then target="$URL/"; else target="$URL$path"; fi
    wait_quiet "${QUIET_WAIT:-60}"
    s0=$(cpu_ticks); b0=$(busy_ticks)
    out=$(BENCH_PATH_PREFIX="$path" BENCH_PATHS_FILE="$file" /usr/bin/time -f "WRKCPU %U %S" \
          -o "$WORK/wrk.time" wrk -t"$threads" -c"$conns" -d"$dur" --latency -s "$LUA" \
          "$target" | grep '^RESULT')
    s1=$(cpu_ticks); b1=$(busy_ticks)
    local secs; secs=$(sed -E 's/.*seconds=([0-9.]+).*/\1/' <<<"$out")
    echo "$label $out $(awk -v s0="$s0" -v s1="$s1" -v b0="$b0" -v b1="$b1" -v s="$secs" -v hz="$HZ" \
        '/^WRKCPU/ {srv = (s1 - s0) / hz; w = $2 + $3; all = (b1 - b0) / hz;
                    o = all - srv - w; if (o < 0) o = 0;
                    printf "server_cores=%.2f wrk_cores=%.2f other_cores=%.2f", srv / s, w / s, o / s}' \
        "$WORK/wrk.time")"
}

# Warm-up (SQLite page cache, MHD threads); not reported.
BENCH_PATH_PREFIX=/status/ BENCH_PATHS_FILE="$WORK/ids.txt" \
    wrk -t"$THREADS" -c"$CONNS" -d2s -s "$LUA" "$URL/" >/dev/null
wrk -t"$THREADS" -c"$CONNS" -d2s "$URL/gallery/list?limit=24" >/dev/null

RESULTS=$WORK/results.txt
: >"$RESULTS"
for r in $(seq 1 "$ROUNDS"); do
    run "round=$r route=healthz" "/healthz" | tee -a "$RESULTS"
    run "round=$r route=status" "/status/" "$WORK/ids.txt" | tee -a "$RESULTS"
    run "round=$r route=gallery_list" "/gallery/list?limit=24" | tee -a "$RESULTS"
    run "round=$r route=gallery_list_deep" "/gallery/list?limit=24&cursor=" "$WORK/cursors.txt" \
        | tee -a "$RESULTS"
done

# One connection, no queueing: what a single request costs end to end (not the target's setup).
for route in healthz status gallery_list; do
    case $route in
        healthz) args=("/healthz") ;;
        status) args=("/status/" "$WORK/ids.txt") ;;
        gallery_list) args=("/gallery/list?limit=24") ;;
    esac
    RUN_THREADS=1 RUN_CONNS=1 RUN_DURATION=5s run "round=c1 route=$route" "${args[@]}" \
        | tee -a "$RESULTS"
done

grep -c '"status":5' "$WORK/serve.log" | sed 's/^/# 5xx log lines during measurement: /' || true
echo "# server RSS after the runs: $(awk '/VmRSS/ {print $2, $3}' /proc/$SERVER_PID/status)"

python3 - "$RESULTS" "${NOISY_CORES:-0.25}" <<'EOF'
import re, statistics, sys
limit = float(sys.argv[2])
rows, rounds, c1 = {}, {}, {}
for line in open(sys.argv[1]):
    kv = dict(re.findall(r"(\w+)=([^\s]+)", line))
    if kv["round"] == "c1":
        c1[kv["route"]] = kv
        continue
    rows.setdefault(kv["route"], []).append(kv)
    rounds.setdefault(kv["round"], {})[kv["route"]] = kv
quiet = lambda kv: float(kv["other_cores"]) < limit
def pick(route):
    q = [r for r in rows[route] if quiet(r)]
    return (q, True) if q else (rows[route], False)
def med(route, key):
    xs, _ = pick(route)
    return statistics.median(float(r[key]) for r in xs)
print("\nsummary: median over the quiet runs (other processes used < %.2f cores during the run);"
      " a route with no quiet run uses all its runs (marked *)" % limit)
print("%-18s %5s %8s %8s %8s %8s %6s %6s %6s %s" % ("route", "quiet", "req/s", "p50 ms", "p99 ms",
      "max ms", "server", "wrk", "other", "errors"))
for route in ("healthz", "status", "gallery_list", "gallery_list_deep"):
    xs, ok = pick(route)
    errs = sum(int(r[k]) for r in xs for k in ("non2xx", "connect_err", "read_err", "write_err", "timeout"))
    print("%-18s %2d/%-2d %8.0f %8.3f %8.3f %8.3f %6.2f %6.2f %6.2f %d%s" % (route,
          sum(map(quiet, rows[route])), len(rows[route]), med(route, "rps"), med(route, "p50_ms"),
          med(route, "p99_ms"), med(route, "max_ms"), med(route, "server_cores"),
          med(route, "wrk_cores"), med(route, "other_cores"), errs, "" if ok else " *"))
print("(server / wrk / other = CPU cores used during the run; the machine has 2)")
print("\none connection (wrk -t1 -c1 -d5s), i.e. per-request cost without queueing:")
for route, kv in c1.items():
    print("%-18s %8.0f req/s  p50 %.3f ms  p99 %.3f ms  other %.2f cores" % (route, float(kv["rps"]),
          float(kv["p50_ms"]), float(kv["p99_ms"]), float(kv["other_cores"])))
print()
for name in ("status", "gallery_list"):
    rs = ["%.2f%s" % (float(v[name]["rps"]) / float(v["healthz"]["rps"]),
                      "" if quiet(v[name]) and quiet(v["healthz"]) else "(noisy)")
          for v in rounds.values()]
    print("%s/healthz req/s ratio per round (same server, back to back): %s" % (name, ", ".join(rs)))
s, g = med("status", "rps"), med("gallery_list", "p99_ms")
print("target status >= 20000 req/s: %s (%.0f)" % ("MET" if s >= 20000 else "MISSED", s))
print("target gallery_list p99 <= 5 ms: %s (%.3f ms)" % ("MET" if g <= 5 else "MISSED", g))
EOF
