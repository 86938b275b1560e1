#!/usr/bin/env python3
"""Many concurrent Server-Sent Events streams on one server: GET /status/{id}/events on jobs that
stay in progress (the 4 offline demo models with DEMO_LATENCY_MS=600000, MODEL_TIMEOUT_S=3600).
Measures the server's RSS, thread count, open fds and CPU with 0 streams and with N streams open
(default 500), while they are held open for --hold seconds (long enough for a 15 s heartbeat), and
how fast an ordinary request (GET /status/{id}, GET /healthz) is answered meanwhile.

The client is one asyncio thread (a raw socket per stream); its fd limit is raised to the hard
limit. Each stream must deliver its first `event: job` before it counts as open.

usage: bench/sse_streams.py [--streams 0,100,500] [--jobs 500] [--hold 20] [--bin build/pixelprompt]
"""
import argparse
import asyncio
import http.client
import json
import os
import resource
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pp_bench as pb  # noqa: E402


def create_jobs(port, n):
    ids = []
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for i in range(n):
        c.request("POST", "/generate", body=json.dumps({"prompt": "sse bench %d: a lighthouse at dusk" % i}),
                  headers={"Content-Type": "application/json"})
        r = c.getresponse()
        data = r.read()
        if r.status != 200:
            sys.exit("sse_streams: POST /generate -> %d %s" % (r.status, data[:200]))
        ids.append(json.loads(data)["jobId"])
    c.close()
    return ids


def request_latency(port, job_id, n=40):
    """Median / max ms of GET /status/{id} and GET /healthz on a keep-alive connection."""
    out = {}
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for path in ("/status/" + job_id, "/healthz"):
        ts = []
        for _ in range(n):
            t = time.perf_counter()
            c.request("GET", path)
            r = c.getresponse()
            r.read()
            ts.append((time.perf_counter() - t) * 1000)
        out[path.split("/")[1]] = (statistics.median(ts), max(ts))
    c.close()
    return out


class Stream:
    def __init__(self):
        self.events = 0
        self.heartbeats = 0
        self.first = asyncio.Event()
        self.writer = None
        self.status = None


async def open_stream(port, job_id, st):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    st.writer = writer
    writer.write(("GET /status/%s/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"
                  % job_id).encode())
    await writer.drain()
    status = await reader.readline()
    st.status = status.decode().strip()
    while True:  # headers
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
    try:
        while True:  # chunked body; lines are enough to count events and heartbeats
            line = await reader.readline()
            if not line:
                break
            if line.startswith(b"event: job"):
                st.events += 1
                st.first.set()
            elif line.startswith(b": heartbeat"):
                st.heartbeats += 1
    except (ConnectionError, asyncio.CancelledError):
        pass


def snapshot(srv):
    s = pb.proc_status(srv.pid)
    return {"rss": s["VmRSS"] / 1024, "threads": s["Threads"], "fds": pb.fd_count(srv.pid),
            "cpu": pb.cpu_s(srv.pid)}


async def hold_streams(srv, ids, n, hold):
    streams = [Stream() for _ in range(n)]
    t0 = time.monotonic()
    tasks = [asyncio.ensure_future(open_stream(srv.port, ids[i % len(ids)], streams[i])) for i in range(n)]
    await asyncio.wait_for(asyncio.gather(*(s.first.wait() for s in streams)), timeout=120)
    t_open = time.monotonic() - t0
    bad = [s.status for s in streams if not (s.status or "").startswith("HTTP/1.1 200")]
    c0, w0 = pb.cpu_s(srv.pid), time.monotonic()
    samples = []
    lat = None
    while time.monotonic() - w0 < hold:
        samples.append(snapshot(srv))
        if lat is None and time.monotonic() - w0 > 2:
            lat = await asyncio.get_running_loop().run_in_executor(None, request_latency, srv.port, ids[0])
        await asyncio.sleep(0.5)
    cpu = (pb.cpu_s(srv.pid) - c0) / (time.monotonic() - w0)
    res = {"open_s": t_open, "bad": bad, "samples": samples, "cpu_cores": cpu, "latency": lat,
           "events": sum(s.events for s in streams), "heartbeats": sum(s.heartbeats for s in streams),
           "with_heartbeat": sum(1 for s in streams if s.heartbeats > 0)}
    for s in streams:
        if s.writer:
            s.writer.close()
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--streams", default="0,100,500")
    ap.add_argument("--jobs", type=int, default=500, help="in-progress jobs the streams watch (round robin)")
    ap.add_argument("--hold", type=float, default=20.0, help="seconds each stream count is held open")
    ap.add_argument("--bin", default=None)
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    counts = [int(x) for x in a.streams.split(",")]
    print("# sse_streams %s: streams %s on %d in-progress jobs (4 demo models each), held %.0f s;"
          " client fd limit %d" % (pb.now_utc(), a.streams, a.jobs, a.hold, hard))
    print("# machine: %s" % pb.machine_note(), flush=True)
    srv = pb.Server({"DEMO_LATENCY_MS": 600000, "MODEL_TIMEOUT_S": 3600, "LOG_LEVEL": "WARNING"},
                    a.bin, "sse")
    rows = []
    try:
        s0 = snapshot(srv)
        print("server started: RSS %.1f MB, %d threads, %d fds" % (s0["rss"], s0["threads"], s0["fds"]))
        t = time.monotonic()
        ids = create_jobs(srv.port, a.jobs)
        time.sleep(2)
        s1 = snapshot(srv)
        print("%d jobs created in %.1f s (all models in progress): RSS %.1f MB, %d threads, %d fds"
              % (a.jobs, time.monotonic() - t, s1["rss"], s1["threads"], s1["fds"]), flush=True)
        for n in counts:
            pb.wait_quiet(20)
            if n == 0:
                c0, w0 = pb.cpu_s(srv.pid), time.monotonic()
                samples = []
                lat = request_latency(srv.port, ids[0])
                while time.monotonic() - w0 < a.hold:
                    samples.append(snapshot(srv))
                    time.sleep(0.5)
                r = {"open_s": 0.0, "bad": [], "samples": samples, "latency": lat, "events": 0,
                     "heartbeats": 0, "with_heartbeat": 0,
                     "cpu_cores": (pb.cpu_s(srv.pid) - c0) / (time.monotonic() - w0)}
            else:
                r = asyncio.run(hold_streams(srv, ids, n, a.hold))
            r["n"] = n
            rows.append(r)
            sm = r["samples"]
            print("streams=%-4d opened in %.2f s (non-200: %d) | RSS max %.1f MB | threads %d..%d | fds max %d |"
                  " server CPU %.2f cores | events %d, heartbeats %d (streams with one: %d) |"
                  " GET /status med %.1f ms max %.1f, /healthz med %.1f ms"
                  % (n, r["open_s"], len(r["bad"]), max(x["rss"] for x in sm), min(x["threads"] for x in sm),
                     max(x["threads"] for x in sm), max(x["fds"] for x in sm), r["cpu_cores"], r["events"],
                     r["heartbeats"], r["with_heartbeat"], r["latency"]["status"][0], r["latency"]["status"][1],
                     r["latency"]["healthz"][0]), flush=True)
            if n:  # how long the server keeps a stream whose client has gone
                t_close, base_fds, released = time.monotonic(), s1["fds"], None
                while time.monotonic() - t_close < 30:
                    if pb.fd_count(srv.pid) <= base_fds + 3:
                        released = time.monotonic() - t_close
                        break
                    time.sleep(0.25)
                print("   after the client closed its %d streams: server fds back to idle after %s"
                      % (n, "%.1f s" % released if released is not None else "more than 30 s"), flush=True)
        s2 = snapshot(srv)
        print("after closing every stream: RSS %.1f MB, %d threads, %d fds" % (s2["rss"], s2["threads"], s2["fds"]))
    finally:
        srv.stop()
        srv.cleanup()
    base = rows[0]
    top = rows[-1]
    th0 = max(x["threads"] for x in base["samples"])
    th1 = max(x["threads"] for x in top["samples"])
    rss1 = max(x["rss"] for x in top["samples"])
    print("\ntargets at %d streams: threads constant (%d with %d streams vs %d with %d): %s;"
          " RSS <= 100 MB: %s (%.1f MB)"
          % (top["n"], th1, top["n"], th0, base["n"], "MET" if th1 == th0 else "MISSED",
             "MET" if rss1 <= 100 else "MISSED", rss1))


if __name__ == "__main__":
    main()
