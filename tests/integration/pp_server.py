"""Start and stop the real pixelprompt binary for integration tests (Python 3 stdlib only).

    with PPServer({"IP_LIMIT": "3"}) as srv:
        status, headers, body = srv.request("GET", "/healthz")
        job = srv.json("POST", "/generate", {"prompt": "a red fox"})[2]
    # leaving the block sends SIGTERM and asserts exit status 0

The binary comes from env PP_BIN (default build/pixelprompt). Each server gets a free loopback port
(found by binding port 0), a fresh temporary DATA_DIR (unless one is given) and a hermetic
environment: nothing from the caller's environment reaches it except PATH, locale, TMPDIR and the
sanitizer options, so a developer's MODEL_* or AWS_* variables never leak into a test.
"""

import http.client
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Variables passed through from the caller's environment; everything else is dropped.
_PASS_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "ASAN_OPTIONS",
                 "UBSAN_OPTIONS", "LSAN_OPTIONS", "MSAN_OPTIONS", "TSAN_OPTIONS")


def pp_bin():
    path = os.environ.get("PP_BIN") or os.path.join(ROOT, "build", "pixelprompt")
    return path if os.path.isabs(path) else os.path.join(ROOT, path)


def sanitized():
    """True when the binary is an ASan/UBSan build (everything is slower; allow more time)."""
    return bool(os.environ.get("PP_SANITIZED")) or "asan" in pp_bin()


def slow_factor():
    return 4.0 if sanitized() else 1.0


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def base_env(extra=None):
    env = {k: v for k, v in os.environ.items() if k in _PASS_THROUGH}
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    if extra:
        env.update({k: str(v) for k, v in extra.items()})
    return env


def run_cli(args, env=None, timeout=60):
    """Runs `pixelprompt ARGS...` to completion; returns CompletedProcess (text mode)."""
    return subprocess.run([pp_bin()] + list(args), env=base_env(env), capture_output=True,
                          text=True, timeout=timeout * slow_factor())


class ServerError(AssertionError):
    pass


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # http.client.HTTPMessage (case-insensitive get)
        self.body = body        # bytes

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def header(self, name):
        return self.headers.get(name)

    def __iter__(self):  # status, headers, body = resp
        return iter((self.status, self.headers, self.body))

    def __repr__(self):
        return "<Response %d %r>" % (self.status, self.body[:300])


class PPServer:
    """One running `pixelprompt serve`. Use as a context manager or call start()/stop()."""

    def __init__(self, env=None, data_dir=None, keep_data=False, demo_latency_ms=30,
                 demo_image_size=128):
        self.extra_env = dict(env or {})
        self.extra_env.setdefault("DEMO_LATENCY_MS", str(demo_latency_ms))
        self.extra_env.setdefault("DEMO_IMAGE_SIZE", str(demo_image_size))
        self.extra_env.setdefault("LOG_LEVEL", "INFO")
        self.own_data_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="pp-int-")
        self.keep_data = keep_data
        self.proc = None
        self.port = None
        self.returncode = None
        self._log_dir = tempfile.mkdtemp(prefix="pp-int-log-")
        self._stderr_path = os.path.join(self._log_dir, "stderr")
        self._stdout_path = os.path.join(self._log_dir, "stdout")

    # ---- lifecycle ----

    def start(self, timeout=15.0):
        timeout *= slow_factor()
        last_err = ""
        for _attempt in range(3):  # another process may take the free port first
            self.port = free_port()
            env = base_env(self.extra_env)
            env["PORT"] = str(self.port)
            env["BIND"] = "127.0.0.1"
            env["DATA_DIR"] = self.data_dir
            self._stderr = open(self._stderr_path, "ab")
            self._stdout = open(self._stdout_path, "ab")
            self.proc = subprocess.Popen([pp_bin(), "serve"], env=env, stdout=self._stdout,
                                         stderr=self._stderr, stdin=subprocess.DEVNULL)
            self.returncode = None
            if self._wait_healthy(timeout):
                return self
            rc = self.proc.poll()
            if rc is None:
                self.proc.kill()
                self.proc.wait()
            self._close_logs()
            last_err = self.stderr()
            if "could not listen" not in last_err:
                break
        self.proc = None
        raise ServerError("pixelprompt did not become healthy (exit %r); stderr:\n%s"
                          % (rc, last_err[-4000:]))

    def _wait_healthy(self, timeout):
        end = time.time() + timeout
        mine = ("127.0.0.1:%d/" % self.port).encode()
        while time.time() < end:
            if self.proc.poll() is not None:
                return False
            # Only our own process announces this port (another one may hold it already).
            try:
                with open(self._stdout_path, "rb") as f:
                    if mine not in f.read():
                        time.sleep(0.02)
                        continue
            except OSError:
                pass
            try:
                if self.request("GET", "/healthz", timeout=2).status == 200:
                    return True
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.03)
        return False

    def _close_logs(self):
        for f in (getattr(self, "_stderr", None), getattr(self, "_stdout", None)):
            if f and not f.closed:
                f.close()

    def stop(self, sig=signal.SIGTERM, timeout=30.0):
        """Sends sig and waits; returns the exit status (negative: killed by a signal)."""
        if self.proc is None:
            return self.returncode
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout * slow_factor())
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self._close_logs()
                self.returncode = self.proc.returncode
                self.proc = None
                raise ServerError("pixelprompt did not stop within %.0fs after signal %d; "
                                  "stderr tail:\n%s" % (timeout, sig, self.stderr()[-3000:]))
        self.returncode = self.proc.returncode
        self.proc = None
        self._close_logs()
        return self.returncode

    def kill9(self):
        return self.stop(signal.SIGKILL)

    def stop_clean(self):
        """SIGTERM and assert exit status 0 (with stderr in the message)."""
        rc = self.stop()
        if rc != 0:
            raise ServerError("pixelprompt exited with %r after SIGTERM; stderr tail:\n%s"
                              % (rc, self.stderr()[-4000:]))

    def cleanup(self):
        if self.proc is not None:
            try:
                self.stop(signal.SIGKILL)
            except ServerError:
                pass
        self._close_logs()
        if self.own_data_dir and not self.keep_data:
            shutil.rmtree(self.data_dir, ignore_errors=True)
        shutil.rmtree(self._log_dir, ignore_errors=True)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.cleanup()
            raise

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                self.stop_clean()
        finally:
            self.cleanup()
        return False

    def stderr(self):
        try:
            with open(self._stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_lines(self):
        """The server's JSON log lines (stderr), parsed; other lines are skipped."""
        out = []
        for line in self.stderr().splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
        return out

    # ---- HTTP ----

    def connection(self, timeout=20.0):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout * slow_factor())

    def request(self, method, path, body=None, headers=None, timeout=20.0):
        """Raw request: path is sent exactly as given (no normalisation, no quoting)."""
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode("utf-8")
        elif isinstance(body, str):
            body = body.encode("utf-8")
        conn = self.connection(timeout)
        try:
            conn.putrequest(method, path, skip_accept_encoding=True)
            hdrs = dict(headers or {})
            if body is not None:
                hdrs.setdefault("Content-Type", "application/json")
                hdrs.setdefault("Content-Length", str(len(body)))
            for k, v in hdrs.items():
                conn.putheader(k, v)
            conn.endheaders()
            if body is not None:
                conn.send(body)
            resp = conn.getresponse()
            data = resp.read()
            return Response(resp.status, resp.headers, data)
        finally:
            conn.close()

    def json(self, method, path, body=None, headers=None, timeout=20.0):
        """(status, headers, parsed JSON or None)."""
        r = self.request(method, path, body, headers, timeout)
        try:
            doc = r.json()
        except ValueError:
            doc = None
        return r.status, r.headers, doc

    def get_json(self, path, want=200):
        r = self.request("GET", path)
        if r.status != want:
            raise AssertionError("GET %s: %d (want %d): %r" % (path, r.status, want, r.body[:500]))
        return r.json()

    def generate(self, prompt="a red fox in the snow", models=None, headers=None):
        body = {"prompt": prompt}
        if models is not None:
            body["models"] = models
        status, _, doc = self.json("POST", "/generate", body, headers)
        if status != 200:
            raise AssertionError("POST /generate: %d %r" % (status, doc))
        return doc

    def wait_job(self, job_id, timeout=20.0, terminal=("completed", "partial", "failed",
                                                       "cancelled"), poll=0.05):
        """Polls /status until the job's status is in `terminal`; returns the document."""
        end = time.time() + timeout * slow_factor()
        doc = None
        while time.time() < end:
            doc = self.get_json("/status/" + urllib.parse.quote(job_id))
            if doc["status"] in terminal:
                return doc
            time.sleep(poll)
        raise AssertionError("job %s not %s after %.0fs: %r" % (job_id, terminal, timeout, doc))


# ---- image checks ----

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data):
    """(width, height) from a PNG's IHDR; raises AssertionError when it is not a PNG."""
    if not data.startswith(PNG_SIGNATURE):
        raise AssertionError("not a PNG: %r" % data[:16])
    length, kind = struct.unpack(">I4s", data[8:16])
    if kind != b"IHDR" or length != 13:
        raise AssertionError("PNG without IHDR first: %r" % data[8:16])
    return struct.unpack(">II", data[16:24])


def is_webp(data):
    return len(data) >= 12 and data[0:4] == b"RIFF" and data[8:12] == b"WEBP"


def files_under(root):
    out = []
    for dirpath, _dirs, names in os.walk(root):
        for n in names:
            out.append(os.path.join(dirpath, n))
    return out
