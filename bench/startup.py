#!/usr/bin/env python3
"""Cold start and idle memory of `pixelprompt serve` (default configuration: 4 demo models,
SQLite + local files). Python stdlib only; called by bench/startup.sh.

exec -> first 200: time.monotonic() just before Popen, then a raw socket tries
`GET /healthz` every 1 ms (connect refused -> retry) until a response starts with
"HTTP/1.1 200"; the figure includes Python's fork/exec (about 1 ms, measured below as
`spawn_true`: the same Popen of /bin/true until it is running). Two cases: a fresh empty
DATA_DIR each run (schema created), and an existing DATA_DIR reused (a restart).

Idle RSS: VmRSS (and its anon/file split, VmHWM, threads) from /proc/PID/status once /healthz
has answered and the process has been idle 1 s.
"""
import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REQ = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"


def healthz_ok(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(1)
    try:
        s.connect(("127.0.0.1", port))
        s.sendall(REQ)
        data = s.recv(64)
        return data.startswith(b"HTTP/1.1 200")
    except OSError:
        return False
    finally:
        s.close()


def proc_status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def one_run(bin_path, port, data_dir, measure_rss):
    env = dict(os.environ, PORT=str(port), DATA_DIR=data_dir)
    log = open(os.path.join(os.path.dirname(data_dir), "serve-%d.log" % time.monotonic_ns()), "w")
    t0 = time.monotonic()
    p = subprocess.Popen([bin_path, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        while True:
            if healthz_ok(port):
                t1 = time.monotonic()
                break
            if p.poll() is not None:
                raise SystemExit("startup: server exited (rc %s); log %s" % (p.returncode, log.name))
            if time.monotonic() - t0 > 10:
                raise SystemExit("startup: no 200 within 10 s")
            time.sleep(0.001)
        rss = None
        if measure_rss:
            time.sleep(1.0)
            st = proc_status(p.pid)
            rss = {k: st.get(k, "?") for k in ("VmRSS", "RssAnon", "RssFile", "RssShmem", "VmHWM",
                                               "Threads")}
        return (t1 - t0) * 1000.0, rss
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=30)
        log.close()


def spawn_baseline(n):
    xs = []
    for _ in range(n):
        t0 = time.monotonic()
        p = subprocess.Popen(["/bin/true"])
        p.wait()
        xs.append((time.monotonic() - t0) * 1000.0)
    return xs


def kb(v):
    return int(v.split()[0])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "pixelprompt"))
    ap.add_argument("--port", type=int, default=18130)
    ap.add_argument("--runs", type=int, default=20)
    a = ap.parse_args()

    work = tempfile.mkdtemp(prefix="pp-bench-startup-")
    try:
        base = spawn_baseline(a.runs)
        print("spawn_true (Popen of /bin/true until it exits) ms: best %.2f median %.2f"
              % (min(base), statistics.median(base)))
        results = {}
        rss_all = []
        for case in ("fresh", "existing"):
            times = []
            existing = os.path.join(work, "existing", "data")
            for i in range(a.runs):
                if case == "fresh":
                    d = os.path.join(work, "fresh%d" % i, "data")
                else:
                    d = existing
                os.makedirs(os.path.dirname(d), exist_ok=True)
                ms, rss = one_run(a.bin, a.port, d, measure_rss=True)
                times.append(ms)
                rss_all.append((case, rss))
            results[case] = times
            print("exec->first 200 on /healthz, %-8s DATA_DIR, %d runs, ms: best %.1f median %.1f"
                  " p90 %.1f max %.1f" % (case, a.runs, min(times), statistics.median(times),
                                          sorted(times)[int(0.9 * (len(times) - 1))], max(times)),
                  flush=True)
        for case in ("fresh", "existing"):
            rs = [r for c, r in rss_all if c == case]
            v = sorted(kb(r["VmRSS"]) for r in rs)
            print("idle RSS 1 s after first 200, %-8s DATA_DIR: VmRSS median %.1f MiB (min %.1f,"
                  " max %.1f MiB); e.g. %s"
                  % (case, statistics.median(v) / 1024, v[0] / 1024, v[-1] / 1024,
                     ", ".join("%s %s" % (k, rs[len(rs) // 2][k]) for k in rs[0])))
        med_rss = statistics.median(kb(r["VmRSS"]) for _, r in rss_all) / 1024
        med_t = statistics.median(results["fresh"] + results["existing"])
        print("target idle RSS <= 20 MB: %s (median %.1f MiB)" % ("MET" if med_rss <= 20 else "MISSED",
                                                                 med_rss))
        print("target exec->first 200 <= 50 ms: %s (median %.1f ms, best %.1f ms)"
              % ("MET" if med_t <= 50 else "MISSED", med_t,
                 min(results["fresh"] + results["existing"])))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
