#!/usr/bin/env python3
"""Fan-out overhead: 9 demo models with DEMO_LATENCY_MS=1000 each; time from POST /generate to
the job's terminal state, minus the 1,000 ms the models are told to take, at 1 and at 50
concurrent jobs. Python stdlib only; starts the real binary itself (one server per
configuration, all started up front and measured in interleaved rounds so background noise on
this shared machine hits every configuration alike).

Figures per job (all in ms, minus the model latency):
  stamped  = job.updatedAt (stamped by the server when the last result row is written) minus the
             client's wall clock just before the POST. Does not depend on how the end is
             observed. Lower bound: the server takes the stamp just before it waits for the
             SQLite writer lock for that last write.
  seen     = when the client received the terminal document, minus the client's clock before
             the POST: what a browser sees. Observed with SSE (/status/{id}/events) by default;
             the server's SSE stream re-reads the store every 250 ms (SSE_POLL_MS), so this
             includes up to 250 ms of that polling. --observe poll polls GET /status every
             --poll-ms instead (upper bound within poll-ms + one request).
Where the time goes (per job): post = createdAt - t0 (the POST itself); claim = last
startedAt - createdAt (rows marked in_progress by the worker pool before the 1 s timer starts);
finish = last completedAt - (its startedAt + latency) (waiting for a worker + render + PNG
encode + decode/validate + WebP thumbnail + 2 fsync'd files + the SQLite write).

usage: bench/fanout.py [--configs w2:512,w4:512,w2:256,w2:16] [--runs1 20] [--rounds50 5]
"""
import argparse
import datetime
import http.client
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STYLES = ["gradient", "mosaic", "rings", "stripes"]
TERMINAL = {"completed", "partial", "failed", "cancelled"}


def iso_ms(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp() * 1000.0


def busy_ticks():
    with open("/proc/stat") as f:
        v = f.readline().split()[1:]
    return sum(int(v[i]) for i in (0, 1, 2, 5, 6, 7))


def wait_quiet(max_s=60, limit=0.25):
    """Waits until the machine used under `limit` cores for one second (others' tests share
    it). Returns (waited seconds, cores busy at the last sample)."""
    hz = os.sysconf("SC_CLK_TCK")
    waited = 0
    while True:
        b0 = busy_ticks()
        time.sleep(1)
        used = (busy_ticks() - b0) / hz
        if used < limit or waited >= max_s:
            return waited, used
        waited += 1


class Server:
    def __init__(self, name, workers, size, port, latency, n_models):
        self.name, self.port = name, port
        self.dir = tempfile.mkdtemp(prefix="pp-bench-fanout-")
        env = dict(os.environ)
        env.update({
            "PORT": str(port), "DATA_DIR": os.path.join(self.dir, "data"),
            "DEMO_LATENCY_MS": str(latency), "DEMO_IMAGE_SIZE": str(size),
            "WORKERS": str(workers), "IP_LIMIT": "1000000000", "GLOBAL_LIMIT": "1000000000",
            "MODEL_COUNT": str(n_models),
        })
        for i in range(1, n_models + 1):
            env["MODEL_%d_PROVIDER" % i] = "demo"
            env["MODEL_%d_ID" % i] = "demo-%s-%d" % (STYLES[(i - 1) % 4], i)
        self.log = open(os.path.join(self.dir, "serve.log"), "w")
        self.proc = subprocess.Popen([os.path.join(ROOT, "build", "pixelprompt"), "serve"],
                                     env=env, stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(400):
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                c.request("GET", "/healthz")
                if c.getresponse().status == 200:
                    return
            except OSError:
                pass
            if self.proc.poll() is not None:
                sys.exit("fanout: server %s exited; see %s" % (name, self.log.name))
            time.sleep(0.025)
        sys.exit("fanout: server %s did not start" % name)

    def cpu_seconds(self):
        with open("/proc/%d/stat" % self.proc.pid) as f:
            v = f.read().rsplit(")", 1)[1].split()
        return (int(v[11]) + int(v[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def one_job(port, latency, observe, poll_ms, prompt, out, barrier=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.connect()  # connect before the clock starts, as a browser with keep-alive would
    body = json.dumps({"prompt": prompt})
    if barrier:
        barrier.wait()
    t0_wall = time.time() * 1000.0
    t0 = time.monotonic()
    conn.request("POST", "/generate", body=body, headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    data = r.read()
    if r.status != 200:
        out.append({"error": "POST -> %d %s" % (r.status, data[:200])})
        return
    job_id = json.loads(data)["jobId"]
    doc = None
    if observe == "sse":
        conn.request("GET", "/status/%s/events" % job_id, headers={"Accept": "text/event-stream"})
        r = conn.getresponse()
        while True:
            line = r.readline()
            if not line:
                break
            if line.startswith(b"data: "):
                d = json.loads(line[6:])
                if d["status"] in TERMINAL:
                    doc = d
                    break
        t_seen = time.monotonic()
        conn.close()
    else:
        while True:
            conn.request("GET", "/status/" + job_id)
            r = conn.getresponse()
            d = json.loads(r.read())
            if d["status"] in TERMINAL:
                doc = d
                break
            time.sleep(poll_ms / 1000.0)
        t_seen = time.monotonic()
        conn.close()
    if doc is None:
        out.append({"error": "stream ended before a terminal document"})
        return
    created = iso_ms(doc["createdAt"])
    updated = iso_ms(doc["updatedAt"])
    res = doc["results"]
    last_start = max(iso_ms(x["startedAt"]) for x in res if x.get("startedAt"))
    last = max(res, key=lambda x: iso_ms(x["completedAt"]) if x.get("completedAt") else 0)
    out.append({
        "status": doc["status"],
        "stamped": updated - t0_wall - latency,
        "seen": (t_seen - t0) * 1000.0 - latency,
        "post": created - t0_wall,
        "claim": last_start - created,
        "finish": iso_ms(last["completedAt"]) - iso_ms(last["startedAt"]) - latency,
        "completed": sum(1 for x in res if x["status"] == "completed"),
        "models": len(res),
    })


def run_batch(port, latency, n, observe, poll_ms, tag):
    out = []
    barrier = threading.Barrier(n) if n > 1 else None
    ts = [threading.Thread(target=one_job, args=(port, latency, observe, poll_ms,
                                                 "fanout %s job %d: a paper boat on a pond" % (tag, i),
                                                 out, barrier)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    errs = [o["error"] for o in out if "error" in o]
    if errs:
        sys.exit("fanout: " + errs[0])
    return out


def pct(xs, p):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * p / 100.0
    f = int(k)
    c = min(f + 1, len(xs) - 1)
    return xs[f] + (xs[c] - xs[f]) * (k - f)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--configs", default="w2:512,w4:512,w2:256,w2:16",
                    help="comma list of WORKERS:DEMO_IMAGE_SIZE")
    ap.add_argument("--models", type=int, default=9)
    ap.add_argument("--latency", type=int, default=1000)
    ap.add_argument("--runs1", type=int, default=20, help="single-job runs per configuration")
    ap.add_argument("--rounds50", type=int, default=5, help="rounds of --concurrent jobs")
    ap.add_argument("--concurrent", type=int, default=50)
    ap.add_argument("--observe", choices=["sse", "poll"], default="sse")
    ap.add_argument("--poll-ms", type=float, default=5)
    ap.add_argument("--port", type=int, default=18110, help="first port; one per configuration")
    ap.add_argument("--quiet-wait", type=int, default=60)
    a = ap.parse_args()

    configs = []
    for i, c in enumerate(a.configs.split(",")):
        w, s = c.split(":")
        w = w.lstrip("w")
        configs.append(("WORKERS=%s size=%s" % (w, s), int(w), int(s), a.port + i))
    print("# fanout: %s, %d demo models x %d ms, observe=%s%s"
          % (datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%MZ"), a.models,
             a.latency, a.observe, " every %g ms" % a.poll_ms if a.observe == "poll" else ""))
    print("# machine: %d cores, shared by this client and the server (and other people's tests)"
          % os.cpu_count(), flush=True)
    servers = [Server(n, w, s, p, a.latency, a.models) for (n, w, s, p) in configs]
    samples = {(srv.name, k): [] for srv in servers for k in (1, a.concurrent)}
    cpu = {(srv.name, k): 0.0 for srv in servers for k in (1, a.concurrent)}
    wall = {(srv.name, k): 0.0 for srv in servers for k in (1, a.concurrent)}
    noisy = []
    try:
        # warm-up: one job each (first SQLite pages, thread start-up); not reported
        for srv in servers:
            run_batch(srv.port, a.latency, 1, a.observe, a.poll_ms, "warm")
        rounds = max(a.runs1, a.rounds50)
        for r in range(rounds):
            for srv in servers:
                for k, todo in ((1, a.runs1), (a.concurrent, a.rounds50)):
                    if r >= todo:
                        continue
                    waited, used = wait_quiet(a.quiet_wait)
                    if used >= 0.25:
                        noisy.append((srv.name, k, r, used))
                    c0, w0 = srv.cpu_seconds(), time.monotonic()
                    out = run_batch(srv.port, a.latency, k, a.observe, a.poll_ms,
                                    "r%d" % r)
                    cpu[(srv.name, k)] += srv.cpu_seconds() - c0
                    wall[(srv.name, k)] += time.monotonic() - w0
                    samples[(srv.name, k)].extend(out)
                    worst = max(o["stamped"] for o in out)
                    print("round %2d %-22s jobs=%-3d stamped med %7.1f max %7.1f | seen med %7.1f"
                          " | all completed: %s"
                          % (r + 1, srv.name, k, statistics.median(o["stamped"] for o in out), worst,
                             statistics.median(o["seen"] for o in out),
                             all(o["completed"] == o["models"] for o in out)), flush=True)
    finally:
        for srv in servers:
            srv.stop()

    print("\nsummary: overhead = time to terminal state - %d ms (ms); median / p95 / max over all"
          " jobs of all rounds" % a.latency)
    hdr = "%-22s %5s %5s | %-23s | %-23s | %-17s %-17s %-17s | %s" % (
        "configuration", "jobs", "n", "stamped med/p95/max", "seen (%s) med/p95/max" % a.observe,
        "post med/p95", "claim med/p95", "finish med/p95", "server CPU s/batch")
    print(hdr)
    for srv in servers:
        for k, todo in ((1, a.runs1), (a.concurrent, a.rounds50)):
            xs = samples[(srv.name, k)]
            if not xs:
                continue
            f = lambda key, p: pct([o[key] for o in xs], p)  # noqa: E731
            print("%-22s %5d %5d | %6.1f %7.1f %7.1f  | %6.1f %7.1f %7.1f  | %6.1f %7.1f   "
                  "%6.1f %7.1f   %6.1f %7.1f   | %.2f"
                  % (srv.name, k, len(xs), f("stamped", 50), f("stamped", 95), f("stamped", 100),
                     f("seen", 50), f("seen", 95), f("seen", 100), f("post", 50), f("post", 95),
                     f("claim", 50), f("claim", 95), f("finish", 50), f("finish", 95),
                     cpu[(srv.name, k)] / todo))
    for srv in servers:
        for k, target in ((1, 50), (a.concurrent, 300)):
            xs = samples[(srv.name, k)]
            if not xs:
                continue
            m = pct([o["stamped"] for o in xs], 50)
            print("target %-22s %3d job(s) <= %d ms: %s (stamped median %.1f ms, p95 %.1f ms)"
                  % (srv.name, k, target, "MET" if m <= target else "MISSED", m,
                     pct([o["stamped"] for o in xs], 95)))
    if noisy:
        print("# %d measurement(s) started while others used >= 0.25 cores: %s"
              % (len(noisy), ", ".join("%s/%d jobs/round %d: %.2f" % n for n in noisy[:10])))


if __name__ == "__main__":
    main()
