"""Shared helpers for bench/fanout_http.py and bench/sse_streams.py (Python 3 standard library).

Starts the real binary and the fake providers as child processes (never touches any other
process), samples /proc for RSS, thread counts and per-thread CPU, and formats a machine note.
"""
import datetime
import http.client
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAKES = os.path.join(ROOT, "tests", "fakes")
HZ = os.sysconf("SC_CLK_TCK")
TERMINAL = {"completed", "partial", "failed", "cancelled"}


def now_utc():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%MZ")


def machine_note():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) / 1048576
    return ("%d cores (%s), %.0f GiB RAM, kernel %s, Python %s; load generator, fakes and server "
            "share the same cores (and other people's test runs may too)"
            % (os.cpu_count(), model, mem, platform.release(), platform.python_version()))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def iso_ms(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp() * 1000.0


def pct(xs, p):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * p / 100.0
    f = int(k)
    c = min(f + 1, len(xs) - 1)
    return xs[f] + (xs[c] - xs[f]) * (k - f)


def busy_cores_1s():
    def ticks():
        with open("/proc/stat") as f:
            v = f.readline().split()[1:]
        return sum(int(v[i]) for i in (0, 1, 2, 5, 6, 7))
    b0 = ticks()
    time.sleep(1)
    return (ticks() - b0) / HZ


def wait_quiet(max_s=60, limit=0.3):
    """Waits until the whole machine used under `limit` cores for a second (other people's test
    runs share it). Returns the cores used in the last sample."""
    t0 = time.monotonic()
    while True:
        used = busy_cores_1s()
        if used < limit or time.monotonic() - t0 > max_s:
            return used


# ---------------------------------------------------------------- /proc sampling

def proc_status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM", "Threads", "RssAnon"):
                out[k] = int(v.split()[0])
    return out


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def cpu_s(pid, tid=None):
    path = "/proc/%d/stat" % pid if tid is None else "/proc/%d/task/%d/stat" % (pid, tid)
    try:
        with open(path) as f:
            v = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(v[11]) + int(v[12])) / HZ


def thread_cpu(pid):
    """{tid: cpu seconds} for every thread of pid."""
    out = {}
    for t in os.listdir("/proc/%d/task" % pid):
        out[int(t)] = cpu_s(pid, int(t))
    return out


class Sampler(threading.Thread):
    """Samples VmRSS (KiB), Threads and open fds of a process every `period` seconds."""

    def __init__(self, pid, period=0.05):
        super().__init__(daemon=True)
        self.pid, self.period = pid, period
        self.samples = []  # (t, rss_kib, threads, fds)
        self._halt = threading.Event()

    def run(self):
        while not self._halt.is_set():
            try:
                st = proc_status(self.pid)
                self.samples.append((time.monotonic(), st["VmRSS"], st["Threads"], fd_count(self.pid)))
            except (OSError, KeyError):
                pass
            self._halt.wait(self.period)

    def stop(self):
        self._halt.set()
        self.join()
        return self.samples


# ---------------------------------------------------------------- the server

class Server:
    """One `pixelprompt serve` with its own DATA_DIR; env on top of a clean environment."""

    def __init__(self, env, binary=None, name="server", data_parent=None):
        self.name = name
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="pp-bench-", dir=data_parent)
        e = {k: v for k, v in os.environ.items()
             if not k.startswith(("MODEL_", "AWS_", "PROMPT_", "ENHANCE_", "DEMO_"))}
        e.update({"PORT": str(self.port), "DATA_DIR": os.path.join(self.dir, "data"),
                  "IP_LIMIT": "1000000000", "GLOBAL_LIMIT": "1000000000"})
        e.update({k: str(v) for k, v in env.items()})
        self.env = e
        self.bin = binary or os.path.join(ROOT, "build", "pixelprompt")
        self.log = open(os.path.join(self.dir, "serve.log"), "w")
        self.proc = subprocess.Popen([self.bin, "serve"], env=e, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        self.pid = self.proc.pid
        for _ in range(400):
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                c.request("GET", "/healthz")
                if c.getresponse().status == 200:
                    c.close()
                    break
            except OSError:
                pass
            if self.proc.poll() is not None:
                sys.exit("bench: %s exited at start; see %s" % (name, self.log.name))
            time.sleep(0.025)
        else:
            sys.exit("bench: %s did not answer /healthz" % name)
        # Thread roles by creation order (src/main.c, runtime.c, engine.c, front/http.c):
        # main, WORKERS workers, the engine I/O thread, MHD's pool threads, the SSE waker.
        tids = sorted(int(t) for t in os.listdir("/proc/%d/task" % self.pid))
        w = int(e.get("WORKERS", "2"))
        self.roles = {}
        for i, t in enumerate(tids):
            if i == 0:
                r = "main"
            elif i <= w:
                r = "workers"
            elif i == w + 1:
                r = "engine-io"
            elif i == len(tids) - 1:
                r = "sse-waker"
            else:
                r = "http(MHD)"
            self.roles[t] = r
        self.start_threads = len(tids)

    def role_cpu(self):
        """{role: cpu seconds}; threads created after start-up count as 'later'."""
        out = {}
        for tid, s in thread_cpu(self.pid).items():
            r = self.roles.get(tid, "later")
            out[r] = out.get(r, 0.0) + s
        return out

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def diff_roles(a, b):
    return {k: b.get(k, 0.0) - a.get(k, 0.0) for k in set(a) | set(b)}


# ---------------------------------------------------------------- fakes

class Fake:
    """One fake provider server (tests/fakes/fake_<module>.py, through bench/run_fake.py) in its
    own process; nodelay=True sets TCP_NODELAY on its connections (see run_fake.py)."""

    def __init__(self, module, latency_ms=0, image="big", env=None, nodelay=True):
        e = dict(os.environ)
        e.update(env or {})
        self.module = module
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(ROOT, "bench", "run_fake.py"), module, "--port", "0",
             "--latency-ms", str(latency_ms), "--image", image] + (["--nodelay"] if nodelay else []),
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=e, text=True)
        self.pid = self.proc.pid
        self.base_url = self.proc.stdout.readline().strip()
        if not self.base_url.startswith("http://"):
            sys.exit("bench: fake %s did not start" % module)
        rest = self.base_url[len("http://"):]
        self.host, _, tail = rest.partition(":")
        self.port = int(tail.split("/", 1)[0])

    def control(self, method, path, body=None):
        c = http.client.HTTPConnection(self.host, self.port, timeout=10)
        c.request(method, path, body=json.dumps(body) if body is not None else None,
                  headers={"Content-Type": "application/json"})
        r = c.getresponse()
        data = json.loads(r.read())
        c.close()
        return data

    def stats(self):
        return self.control("GET", "/_fake/stats")

    def reset(self):
        return self.control("POST", "/_fake/reset", {})

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
