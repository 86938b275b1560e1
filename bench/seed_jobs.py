#!/usr/bin/env python3
"""Seeds a running Pixel Prompt server with N real jobs through its HTTP API (POST /generate),
waits until every job is terminal, and writes the job ids (one a line) and the gallery cursors
(one per page of --page-size, walking /gallery/list to the end) for the wrk scripts.

Honest seeding: every job goes through the real binary (filter, quota, store, engine, demo
render, image validation, thumbnail, blob writes). Start the server with DEMO_LATENCY_MS=0, a
tiny DEMO_IMAGE_SIZE and high IP_LIMIT/GLOBAL_LIMIT so this is quick.

usage: seed_jobs.py --url http://127.0.0.1:18095 --jobs 10000 --ids ids.txt --cursors cursors.txt
"""
import argparse
import http.client
import json
import sys
import threading
import time
import urllib.parse

TERMINAL = {"completed", "partial", "failed", "cancelled"}


class Client:
    """One keep-alive connection per thread."""

    def __init__(self, host, port):
        self.host, self.port = host, port
        self.conn = None

    def request(self, method, path, body=None):
        for attempt in range(3):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
                headers = {"Content-Type": "application/json"} if body is not None else {}
                self.conn.request(method, path, body=body, headers=headers)
                r = self.conn.getresponse()
                data = r.read()
                return r.status, data
            except (OSError, http.client.HTTPException):
                self.conn = None
                if attempt == 2:
                    raise
                time.sleep(0.05)


def run_parallel(n_threads, items, fn):
    """Runs fn(client, item) over items on n_threads threads; returns results in order."""
    out = [None] * len(items)
    nxt = [0]
    lock = threading.Lock()
    errors = []

    def worker():
        c = Client(HOST, PORT)
        while True:
            with lock:
                i = nxt[0]
                nxt[0] += 1
            if i >= len(items) or errors:
                return
            try:
                out[i] = fn(c, items[i])
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(repr(e))
                return

    ts = [threading.Thread(target=worker) for _ in range(n_threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        sys.exit("seed: " + errors[0])
    return out


WORDS = ["lighthouse", "fox", "harbour", "mountain", "lantern", "orchard", "glacier", "tram",
         "meadow", "city", "desert", "forest", "river", "castle", "bicycle", "owl"]


def post_job(c, i):
    prompt = "bench seed %d: a %s and a %s at dusk" % (i, WORDS[i % 16], WORDS[(i // 16) % 16])
    status, data = c.request("POST", "/generate", json.dumps({"prompt": prompt}))
    if status != 200:
        raise RuntimeError("POST /generate -> %d %s" % (status, data[:200]))
    return json.loads(data)["jobId"]


def job_status(c, job_id):
    status, data = c.request("GET", "/status/" + job_id)
    if status != 200:
        raise RuntimeError("GET /status -> %d" % status)
    return json.loads(data)["status"]


def main():
    global HOST, PORT
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://127.0.0.1:18095")
    ap.add_argument("--jobs", type=int, default=10000)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--ids", required=True)
    ap.add_argument("--cursors")
    ap.add_argument("--page-size", type=int, default=24)
    ap.add_argument("--timeout", type=float, default=900)
    a = ap.parse_args()
    u = urllib.parse.urlparse(a.url)
    HOST, PORT = u.hostname, u.port or 80

    t0 = time.monotonic()
    ids = run_parallel(a.concurrency, list(range(a.jobs)), post_job)
    t_post = time.monotonic() - t0
    print("seed: %d jobs accepted in %.1f s (%.0f POST/s, %d client threads)"
          % (len(ids), t_post, len(ids) / t_post, a.concurrency), flush=True)

    pending = list(ids)
    counts = {}
    while pending:
        if time.monotonic() - t0 > a.timeout:
            sys.exit("seed: %d jobs still not terminal after %.0f s" % (len(pending), a.timeout))
        st = run_parallel(a.concurrency, pending, job_status)
        still = []
        for job_id, s in zip(pending, st):
            if s in TERMINAL:
                counts[s] = counts.get(s, 0) + 1
            else:
                still.append(job_id)
        pending = still
        if pending:
            time.sleep(0.5)
    t_all = time.monotonic() - t0
    print("seed: all %d jobs terminal after %.1f s: %s" % (len(ids), t_all, counts), flush=True)
    if counts.get("completed", 0) != len(ids):
        sys.exit("seed: not every job completed: %s" % counts)

    with open(a.ids, "w") as f:
        f.write("\n".join(ids) + "\n")

    if a.cursors:
        c = Client(HOST, PORT)
        cursors, cursor, total = [], None, None
        while True:
            q = "/gallery/list?limit=%d" % a.page_size
            if cursor:
                q += "&cursor=" + urllib.parse.quote(cursor, safe="")
            status, data = c.request("GET", q)
            if status != 200:
                sys.exit("seed: GET %s -> %d" % (q, status))
            doc = json.loads(data)
            total = doc["total"]
            cursor = doc["nextCursor"]
            if not cursor:
                break
            cursors.append(urllib.parse.quote(cursor, safe=""))
        with open(a.cursors, "w") as f:
            f.write("\n".join(cursors) + "\n")
        print("seed: gallery total=%d, %d pages of %d walked" % (total, len(cursors) + 1,
                                                                a.page_size), flush=True)


HOST, PORT = "127.0.0.1", 18095
if __name__ == "__main__":
    main()
