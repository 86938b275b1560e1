#!/usr/bin/env python3
"""Fan-out through real HTTP: 9 models on the fake provider servers (tests/fakes/), each fake in
its own Python process, every provider call taking LATENCY ms (default 1000) and answering a
1024x1024 PNG (~1.5 MB, --image big) or a 64x64 one (--image small, to isolate the engine's own
overhead from image work). Overhead = time from POST /generate to the job's terminal state minus
LATENCY, at 1, 50 and 100 concurrent jobs (100 jobs = 900 provider calls in flight).

Configurations (--configs, comma list of MODE:IMAGE):
  b64   9 x openai_compatible, model ids gpt-image-1-bench-N: the fake answers one POST with the
        image inline as b64_json (~2 MB of JSON). One request per model.
  url   9 x openai_compatible, model ids sd-bench-N: the fake answers the POST with a `url`, the
        engine downloads the PNG from the fake's /files/. Two requests per model; only the POST
        waits LATENCY (prompt directive [fault:slow=LATENCY]); the download is answered at once.
  mix   9 different fakes: openai (gpt-image-1, b64_json), gemini (inlineData), imagen,
        bedrock_nova, bedrock_sd (SigV4, one fake process each), stability (JSON), recraft (url
        + download), openai_compatible (gpt-image id, b64_json), automatic1111. BFL is left out:
        its protocol adds the engine's poll timers (500/1000/2000 ms), so its floor is not LATENCY.
A third field `stock` (e.g. url:small:stock) runs the fakes as they are; by default they run
through bench/run_fake.py --nodelay (TCP_NODELAY), because the stock Python fake stalls ~40 ms on
Nagle + delayed ACK when it answers on a reused keep-alive connection (see run_fake.py).
In every mode LATENCY is applied by the prompt directive [fault:slow=LATENCY] on the API call, so
the slowest provider takes exactly LATENCY.

Figures per job (ms):
  stamped  job.updatedAt (stamped by the server when it writes the last result) minus the client's
           wall clock just before the POST, minus LATENCY. The headline figure.
  seen     when the client got the terminal document over SSE (/status/{id}/events), minus LATENCY.
           The server's SSE re-reads the store every 250 ms, so this adds up to 250 ms.
  post     createdAt - t0 (the POST itself)
  claim    last startedAt - createdAt (rows marked in_progress by the worker pool before the call)
  finish   for the model that ended last: completedAt - startedAt - LATENCY = response transfer +
           waiting for a worker + decode/validate + WebP thumbnail + 2 files + the SQLite write.
Per batch: server CPU seconds per thread role (workers = image work + storage; engine-io = curl
transfers, JSON parsing, base64 decoding), the fakes' CPU seconds, the client's CPU seconds, the
sum over fakes of max requests in flight, peak RSS and max thread count of the server.

Baseline "direct floor": the same 9 x jobs provider calls made straight from this Python client to
the fakes at the same concurrency (no server), last one done minus LATENCY: what the fakes (and
this client) cost by themselves. b64 and url modes only.

usage: bench/fanout_http.py [--configs b64:big,url:big,b64:small] [--jobs 1,50,100]
                            [--runs1 10] [--rounds 3] [--latency 1000] [--workers 2]
Memory at 900 in flight: bench/fanout_http.py --configs b64:big --latency 5000 --jobs 1,100 --runs1 2 --rounds 1
"""
import argparse
import http.client
import json
import os
import resource
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pp_bench as pb  # noqa: E402

KEY = "sk-bench-0123456789"
AWS_SECRET = "bench/aws/secret/0123456789abcdef"

MIX = [  # (provider, fake module, model id)
    ("openai", "openai", "gpt-image-1"),
    ("gemini", "gemini", "gemini-2.5-flash-image"),
    ("imagen", "imagen", "imagen-4.0-generate-001"),
    ("bedrock_nova", "bedrock", "amazon.nova-canvas-v1:0"),
    ("bedrock_sd", "bedrock", "stability.sd3-5-large-v1:0"),
    ("stability", "stability", "sd3.5-large"),
    ("recraft", "recraft", "recraftv3"),
    ("openai_compatible", "openai_compatible", "gpt-image-1-compat"),
    ("automatic1111", "automatic1111", "sdxl"),
]


def start_setup(mode, image, workers, binary, nodelay=True, data_parent=None):
    """Starts the fakes and the server for one configuration."""
    fakes, env = [], {"WORKERS": workers, "MODEL_COUNT": 9, "LOG_LEVEL": "INFO",
                      "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
                      "AWS_SECRET_ACCESS_KEY": AWS_SECRET}
    fake_env = {"FAKE_AWS_SECRET_ACCESS_KEY": AWS_SECRET}
    for i in range(1, 10):
        if mode in ("b64", "url"):
            provider, module = "openai_compatible", "openai_compatible"
            mid = ("gpt-image-1-bench-%d" if mode == "b64" else "sd-bench-%d") % i
        else:
            provider, module, mid = MIX[i - 1]
        f = pb.Fake(module, 0, image, fake_env, nodelay)
        fakes.append(f)
        env.update({"MODEL_%d_PROVIDER" % i: provider, "MODEL_%d_ID" % i: mid,
                    "MODEL_%d_KEY" % i: KEY, "MODEL_%d_BASE_URL" % i: f.base_url})
    srv = pb.Server(env, binary, "%s:%s" % (mode, image), data_parent)
    return srv, fakes


def one_job(port, prompt, latency, out, barrier):
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        conn.connect()  # connected before the clock starts, as a browser with keep-alive would be
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
        doc, last_id, reconnects, why = None, None, 0, []
        while doc is None and reconnects <= 5:
            hdrs = {"Accept": "text/event-stream"}
            if last_id:
                hdrs["Last-Event-ID"] = last_id  # what EventSource sends when it reconnects
            conn.request("GET", "/status/%s/events" % job_id, headers=hdrs)
            r = conn.getresponse()
            tail = []
            while True:
                line = r.readline()
                if not line:
                    break
                tail = (tail + [line[:80]])[-3:]
                if line.startswith(b"id: "):
                    last_id = line[4:].strip().decode()
                elif line.startswith(b"data: "):
                    d = json.loads(line[6:])
                    if d["status"] in pb.TERMINAL:
                        doc = d
                        break
            if doc is None:  # the server ended the stream early: reconnect as a browser would
                reconnects += 1
                why.append("HTTP %d, last lines %r" % (r.status, tail))
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        t_seen = time.monotonic()
        conn.close()
    except Exception as ex:  # noqa: BLE001 - reported, never hidden
        out.append({"error": "%s: %s" % (type(ex).__name__, ex)})
        return
    if doc is None:
        diag = ""
        try:  # what the job looks like now, against the last event id the stream gave
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            c.request("GET", "/status/" + job_id)
            d = json.loads(c.getresponse().read())
            c.close()
            diag = "; GET /status: %s, updatedAt %d ms, last event id %s" % (
                d["status"], pb.iso_ms(d["updatedAt"]), last_id)
        except Exception as ex:  # noqa: BLE001
            diag = "; GET /status failed: %s" % ex
        out.append({"error": "no terminal document after %d reconnects: first %s, last %s%s"
                    % (reconnects, why[:1], why[-1:], diag)})
        return
    res = doc["results"]
    created = pb.iso_ms(doc["createdAt"])
    last = max(res, key=lambda x: pb.iso_ms(x["completedAt"]) if x.get("completedAt") else 0)
    starts = [pb.iso_ms(x["startedAt"]) for x in res if x.get("startedAt")]
    out.append({
        "stamped": pb.iso_ms(doc["updatedAt"]) - t0_wall - latency,
        "seen": (t_seen - t0) * 1000.0 - latency,
        "post": created - t0_wall,
        "claim": (max(starts) - created) if starts else float("nan"),
        "finish": (pb.iso_ms(last["completedAt"]) - pb.iso_ms(last["startedAt"]) - latency)
        if last.get("startedAt") else float("nan"),
        "completed_at": [pb.iso_ms(x["completedAt"]) - t0_wall for x in res if x.get("completedAt")],
        "ok": sum(1 for x in res if x["status"] == "completed"),
        "models": len(res),
        "errors": [x.get("error") for x in res if x["status"] != "completed"][:2],
        "reconnects": reconnects, "why": why[:1],
    })


def direct_call(fake, mode, mid, prompt, out, barrier):
    """What the engine does for one model, done by this Python client straight against the fake:
    the POST (and for url mode the download), reading every byte but parsing nothing big."""
    try:
        c = http.client.HTTPConnection(fake.host, fake.port, timeout=300)
        c.connect()
        body = json.dumps({"prompt": prompt, "n": 1, "size": "1024x1024", "model": mid})
        barrier.wait()
        t0 = time.monotonic()
        c.request("POST", "/v1/images/generations", body=body,
                  headers={"Content-Type": "application/json"})
        r = c.getresponse()
        data = r.read()
        if mode == "url":
            url = json.loads(data)["data"][0]["url"]
            c.request("GET", url[url.index("/files/"):])
            r = c.getresponse()
            data = r.read()
        out.append((time.monotonic() - t0) * 1000.0)
        c.close()
    except Exception as ex:  # noqa: BLE001
        out.append(float("nan"))
        print("direct call failed: %s" % ex, file=sys.stderr)


def run_direct(fakes, mode, n, latency, tag):
    """The provider floor at this concurrency: n x 9 direct calls at once, no server involved.
    Returns the time until the last call finished, minus latency (ms)."""
    out = []
    barrier = threading.Barrier(n * 9)
    ts = []
    for j in range(n):
        for i, f in enumerate(fakes):
            mid = ("gpt-image-1-bench-%d" if mode == "b64" else "sd-bench-%d") % (i + 1)
            prompt = "direct %s job %d: a paper boat on a pond [fault:slow=%d]" % (tag, j, latency)
            ts.append(threading.Thread(target=direct_call, args=(f, mode, mid, prompt, out, barrier)))
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return max(out) - latency


def run_batch(srv, fakes, n, latency, tag):
    for f in fakes:
        f.reset()
    out = []
    barrier = threading.Barrier(n) if n > 1 else None
    prompt = "fanout %s job %%d: a paper boat on a pond [fault:slow=%d]" % (tag, latency)
    ts = [threading.Thread(target=one_job, args=(srv.port, prompt % i, latency, out, barrier))
          for i in range(n)]
    sampler = pb.Sampler(srv.pid, 0.05)
    cpu0, fcpu0, me0 = srv.role_cpu(), sum(pb.cpu_s(f.pid) for f in fakes), os.times()
    sampler.start()
    w0 = time.monotonic()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    wall = time.monotonic() - w0
    samples = sampler.stop()
    me1 = os.times()
    cpu = pb.diff_roles(cpu0, srv.role_cpu())
    fcpu = sum(pb.cpu_s(f.pid) for f in fakes) - fcpu0
    stats = [f.stats() for f in fakes]
    errs = [o["error"] for o in out if "error" in o]
    if errs:
        print("   %d job(s) not observed to the end, e.g.: %s" % (len(errs), errs[0]), flush=True)
    return {
        "jobs": [o for o in out if "error" not in o], "failed": len(errs), "wall": wall, "cpu": cpu, "fake_cpu": fcpu,
        "client_cpu": (me1.user - me0.user) + (me1.system - me0.system),
        "fake_max_in_flight": sum(s["max_in_flight"] for s in stats),
        "fake_requests": sum(s["requests"] for s in stats),
        "rss_peak_mb": max(s[1] for s in samples) / 1024 if samples else float("nan"),
        "threads_max": max(s[2] for s in samples) if samples else 0,
        "threads_min": min(s[2] for s in samples) if samples else 0,
        "fds_max": max(s[3] for s in samples) if samples else 0,
        "samples": samples,
        "t_start": w0,
    }


def rss_while_in_flight(batch, latency):
    """Max RSS/threads sampled while every provider call was still waiting (0.3 s .. LATENCY-0.1 s
    after the batch started), i.e. with all transfers in flight and no response yet."""
    s = [x for x in batch["samples"]
         if 0.3 <= x[0] - batch["t_start"] <= latency / 1000.0 - 0.1]
    if not s:
        return float("nan"), 0
    return max(x[1] for x in s) / 1024, max(x[2] for x in s)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--configs", default="b64:big,url:big,b64:small")
    ap.add_argument("--jobs", default="1,50,100")
    ap.add_argument("--runs1", type=int, default=10, help="rounds of the 1-job batch")
    ap.add_argument("--rounds", type=int, default=3, help="rounds of each larger batch")
    ap.add_argument("--latency", type=int, default=1000)
    ap.add_argument("--workers", default="2", help="server WORKERS (default: the server's default, 2)")
    ap.add_argument("--bin", default=None, help="binary (default build/pixelprompt)")
    ap.add_argument("--data-parent", default=None,
                    help="where the server's DATA_DIR is made (default: $TMPDIR or /tmp; /dev/shm = no fsync cost)")
    ap.add_argument("--quiet-wait", type=int, default=30)
    ap.add_argument("--no-direct", dest="direct", action="store_false",
                    help="skip the provider-floor baseline (direct calls to the fakes)")
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    jobs = [int(x) for x in a.jobs.split(",")]
    configs = [tuple(c.split(":")) for c in a.configs.split(",")]
    configs = [c if len(c) == 3 else c + ("nodelay",) for c in configs]
    print("# fanout_http %s: 9 models x %d ms per provider call, WORKERS=%s, configs %s, jobs %s,"
          " DATA_DIR under %s" % (pb.now_utc(), a.latency, a.workers, a.configs, a.jobs,
                                  a.data_parent or os.environ.get("TMPDIR", "/tmp")))
    print("# machine: %s" % pb.machine_note(), flush=True)
    summary = []
    for mode, image, fk in configs:
        srv, fakes = start_setup(mode, image, a.workers, a.bin, fk != "stock", a.data_parent)
        if fk == "stock":
            image_label = image + ":stock"
        else:
            image_label = image
        try:
            idle = pb.proc_status(srv.pid)
            print("\n== %s:%s  server pid %d, %d threads at start, RSS %.1f MB idle; fakes: %d processes"
                  % (mode, image_label, srv.pid, idle["Threads"], idle["VmRSS"] / 1024, len(fakes)), flush=True)
            run_batch(srv, fakes, 1, a.latency, "warm")  # first SQLite pages, connections
            for n in jobs:
                batches = []
                for r in range(a.runs1 if n == 1 else a.rounds):
                    busy = pb.wait_quiet(a.quiet_wait)
                    b = run_batch(srv, fakes, n, a.latency, "%s-%d-r%d" % (mode, n, r))
                    b["busy_before"] = busy
                    batches.append(b)
                    js = b["jobs"]
                    ok = sum(j["ok"] for j in js)
                    spread = [c for j in js for c in j["completed_at"]]
                    rin, tin = rss_while_in_flight(b, a.latency)
                    print("round %2d jobs=%-3d stamped med %7.1f max %7.1f | seen med %7.1f | "
                          "models ok %d/%d | last image at +%.0f ms | cpu s: workers %.2f io %.2f "
                          "http %.2f fakes %.2f client %.2f | fakes max in flight %d | RSS peak %.0f MB"
                          " (in flight %.0f MB) threads %d..%d | busy before %.2f"
                          % (r + 1, n, statistics.median(j["stamped"] for j in js),
                             max(j["stamped"] for j in js), statistics.median(j["seen"] for j in js),
                             ok, sum(j["models"] for j in js), max(spread) if spread else 0,
                             b["cpu"].get("workers", 0), b["cpu"].get("engine-io", 0),
                             b["cpu"].get("http(MHD)", 0), b["fake_cpu"], b["client_cpu"],
                             b["fake_max_in_flight"], b["rss_peak_mb"], rin, b["threads_min"],
                             b["threads_max"], busy), flush=True)
                    bad = [j["errors"] for j in js if j["ok"] != j["models"]]
                    if bad:
                        print("   not completed, e.g.: %s" % bad[0])
                    rc = [j for j in js if j["reconnects"]]
                    if rc:
                        print("   %d SSE stream(s) ended before the terminal state and were reconnected"
                              " (Last-Event-ID), e.g.: %s" % (len(rc), rc[0]["why"]), flush=True)
                direct = []
                if mode in ("b64", "url") and a.direct:
                    for r in range(a.runs1 if n == 1 else a.rounds):
                        pb.wait_quiet(a.quiet_wait)
                        direct.append(run_direct(fakes, mode, n, a.latency, "%d-%d" % (n, r)))
                    print("direct   jobs=%-3d the same %d calls straight from this client to the fakes"
                          " (no server): last call done at LATENCY + %s ms"
                          % (n, 9 * n, " / ".join("%.1f" % d for d in direct)), flush=True)
                summary.append((mode, image_label, n, batches, direct))
            after = pb.proc_status(srv.pid)
            print("   server after the runs: RSS %.1f MB (VmHWM %.1f MB), %d threads"
                  % (after["VmRSS"] / 1024, after["VmHWM"] / 1024, after["Threads"]))
        finally:
            srv.stop()
            for f in fakes:
                f.stop()
            warn = [ln for ln in open(srv.log.name, errors="replace")
                    if '"level":"ERROR"' in ln or '"storeError"' in ln]
            if warn:
                print("   server log: %d ERROR/storeError line(s), e.g. %s" % (len(warn), warn[0][:300].strip()))
            srv.cleanup()

    print("\nsummary (ms beyond the %d ms provider latency; median / p95 / max over every job of every"
          " round):" % a.latency)
    print("%-16s %4s %4s | %-22s | %-17s | %-13s %-13s %-13s | %-26s | %-36s | %s"
          % ("config", "jobs", "n", "stamped med/p95/max", "seen(SSE) med/p95", "post med/p95",
             "claim med/p95", "finish med/p95", "CPU s/batch wk/io/http/fk", "per image: worker CPU ms, io CPU ms",
             "direct floor med"))
    for mode, image, n, batches, direct in summary:
        js = [j for b in batches for j in b["jobs"]]
        f = lambda k, p: pb.pct([j[k] for j in js], p)  # noqa: E731
        nb = len(batches)
        imgs = sum(j["ok"] for j in js)
        wk = sum(b["cpu"].get("workers", 0) for b in batches)
        io = sum(b["cpu"].get("engine-io", 0) for b in batches)
        ht = sum(b["cpu"].get("http(MHD)", 0) for b in batches)
        fk = sum(b["fake_cpu"] for b in batches)
        print("%-16s %4d %4d | %6.1f %7.1f %7.1f | %6.1f %8.1f | %5.1f %6.1f  %5.1f %6.1f  %5.1f %6.1f |"
              " %5.2f %5.2f %5.2f %5.2f  | %5.1f, %5.1f | %s"
              % ("%s:%s" % (mode, image), n, len(js), f("stamped", 50), f("stamped", 95),
                 f("stamped", 100), f("seen", 50), f("seen", 95), f("post", 50), f("post", 95),
                 f("claim", 50), f("claim", 95), f("finish", 50), f("finish", 95), wk / nb, io / nb,
                 ht / nb, fk / nb, 1000 * wk / max(imgs, 1), 1000 * io / max(imgs, 1),
                 "%.1f" % statistics.median(direct) if direct else "-"))
    for mode, image, n, batches, direct in summary:
        rc = sum(j["reconnects"] for b in batches for j in b["jobs"])
        fl = sum(b["failed"] for b in batches)
        if rc or fl:
            print("  %s jobs=%d: %d SSE reconnect(s), %d job(s) not observed to the end (left out above)"
                  % ("%s:%s" % (mode, image), n, rc, fl))
    print("\nmemory and threads (server):")
    for mode, image, n, batches, direct in summary:
        rin = max(rss_while_in_flight(b, a.latency)[0] for b in batches)
        tin = max(rss_while_in_flight(b, a.latency)[1] for b in batches)
        print("%-16s jobs=%-3d calls in flight (fakes' max) %4d | RSS while all in flight %6.1f MB,"
              " peak %6.1f MB | threads max %d (min %d) | fds max %d"
              % ("%s:%s" % (mode, image), n, max(b["fake_max_in_flight"] for b in batches), rin,
                 max(b["rss_peak_mb"] for b in batches), max(b["threads_max"] for b in batches),
                 min(b["threads_min"] for b in batches), max(b["fds_max"] for b in batches)))
    print("\ntargets (stamped median): 1 job <= 60 ms, 100 jobs <= 500 ms")
    for mode, image, n, batches, direct in summary:
        target = {1: 60, 100: 500}.get(n)
        if target is None:
            continue
        m = pb.pct([j["stamped"] for b in batches for j in b["jobs"]], 50)
        print("  %-16s %3d job(s) <= %d ms: %s (%.1f ms)"
              % ("%s:%s" % (mode, image), n, target, "MET" if m <= target else "MISSED", m))


if __name__ == "__main__":
    main()
