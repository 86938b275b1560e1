#!/usr/bin/env bash
# Benchmark: Lambda cold start of the `bootstrap` (pixelprompt lambda): from exec to the first
# invocation's response arriving at a local Lambda Runtime API (tests/integration/cloudutil.py's
# FakeLambda, written from AWS's documented protocol), and the process RSS right after it.
# Targets: <= 30 ms to the first processed invocation, <= 30 MB RSS.
#
#   bench/lambda_cold_start.sh               # 20 cold starts per event kind
#   RUNS=5 bench/lambda_cold_start.sh
#   PP_LAMBDA_CMD="/path/to/bootstrap" bench/lambda_cold_start.sh
#
# Each run is a fresh process (a new sandbox). The store is DynamoDB + S3 on moto (loopback,
# SigV4 checked) with STORE_CREATE off, as on Lambda: the start makes no network call, and the
# first invocation is the first to reach the store. Two first events are measured:
#   models  - GET /models through API Gateway v2 (no storage round trip)
#   healthz - GET /healthz (one DynamoDB GetItem and one S3 HeadBucket on moto)
# Not measured: Lambda's own sandbox creation and the download of the package, which AWS adds.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$ROOT/build/pixelprompt}
RUNS=${RUNS:-20}
[ -x "$BIN" ] || make -C "$ROOT" all >/dev/null
command -v python3 >/dev/null || { echo "bench: python3 is not installed" >&2; exit 1; }

echo "# lambda_cold_start: $(date -u +%Y-%m-%dT%H:%MZ), $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "# machine: $(nproc) cores, kernel $(uname -r); binary $(stat -c %s "${PP_LAMBDA_CMD:-$BIN}" 2>/dev/null || stat -c %s "$BIN") bytes"

PYTHONPATH="$ROOT/tests/integration" BIN="$BIN" RUNS="$RUNS" python3 - <<'EOF'
import json, os, shlex, statistics, subprocess, sys, tempfile, time, uuid
import cloudutil as cu

cmd = shlex.split(os.environ["PP_LAMBDA_CMD"]) if os.environ.get("PP_LAMBDA_CMD") else [os.environ["BIN"], "lambda"]
runs = int(os.environ["RUNS"])
moto = cu.Moto().start()
table = bucket = "pp-cold-" + uuid.uuid4().hex[:8]
cu.create_layout(moto, table, bucket)
data_dir = tempfile.mkdtemp(prefix="pp-cold-")
env = cu.clean_env(**moto.env(table, bucket))
env.update({"AWS_LAMBDA_FUNCTION_NAME": "pp-GenerateFunction", "DATA_DIR": data_dir,
            "QUOTA_HASH_KEY": "bench", "MODEL_COUNT": "2", "MODEL_1_PROVIDER": "demo",
            "MODEL_1_ID": "demo-a", "MODEL_2_PROVIDER": "demo", "MODEL_2_ID": "demo-b"})


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def one(path):
    fake = cu.FakeLambda({moto.ak: moto.sk}, "pp-GenerateFunction")
    e = dict(env, AWS_LAMBDA_RUNTIME_API=fake.api, AWS_ENDPOINT_URL_LAMBDA=fake.url)
    rid = fake.push(cu.apigw_event("GET", path))  # queued: answered as soon as the runtime asks
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, env=e, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    kind, _, body = fake.wait(rid, 30)
    t1 = fake.done_at[rid]
    # The runtime is back in GET /next (idle, as Lambda would freeze it): RSS now.
    fake.wait_for(lambda: fake.next_calls >= 2, 10)
    rss = rss_kb(p.pid)
    first_next = fake.first_next_at - t0
    p.terminate(); p.wait()
    fake.stop()
    status = json.loads(body).get("statusCode") if kind == "response" else kind
    return (t1 - t0) * 1000, first_next * 1000, rss / 1024, status


print("%-8s %5s %9s %9s %9s %11s %9s %s" % ("event", "runs", "min ms", "p50 ms", "max ms",
      "init p50 ms", "RSS MB", "status"))
for path, label in (("/models", "models"), ("/healthz", "healthz")):
    one(path)  # page cache warm (the binary and its libraries), not reported
    res = [one(path) for _ in range(runs)]
    ms = [r[0] for r in res]
    print("%-8s %5d %9.1f %9.1f %9.1f %11.1f %9.1f %s" % (
        label, runs, min(ms), statistics.median(ms), max(ms),
        statistics.median(r[1] for r in res), statistics.median(r[2] for r in res),
        ",".join(sorted({str(r[3]) for r in res}))))
print("(ms: exec to the first invocation's response at the Runtime API; init: exec to the first "
      "GET /next; RSS after the first invocation)")
moto.stop()
EOF
