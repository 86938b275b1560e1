"""Shared plumbing for the fake provider servers (Python 3 standard library only).

Every fake is a ThreadingHTTPServer on 127.0.0.1 (port 0 = a free port) speaking HTTP/1.1 with
keep-alive, whose handler subclasses FakeHandler. What is shared here:

* real PNG images made with zlib+struct (64x64 by default; a ~1.5 MB 1024x1024 one for the
  benchmarks; a ~31 MB one for the size-cap fault);
* fault directives read from the prompt text, e.g. "a fox [fault:500=2] [fault:slow=300]",
  or set for every request through the control endpoint (see README.md);
* per-key counters, so "500 then success" and "429 then success" work across retries;
* statistics (requests, in flight, max in flight, key leaks) at GET /_fake/stats.
"""

import json
import os
import random
import re
import socket
import struct
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

# ---------------------------------------------------------------- images

_png_cache = {}
_png_lock = threading.Lock()


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def make_png(width, height, noise=0.0, seed=1, level=6):
    """A valid RGB PNG. `noise` is the fraction of rows filled with random bytes, which controls
    how large the file gets (noise compresses badly)."""
    rnd = random.Random(seed)
    noisy_rows = int(height * noise)
    rows = []
    for y in range(height):
        if y < noisy_rows:
            rows.append(b"\x00" + rnd.randbytes(width * 3))
        else:
            r, g = (y * 255) // max(1, height - 1), 80
            line = bytearray()
            for x in range(width):
                line += bytes((r, g, (x * 255) // max(1, width - 1)))
            rows.append(b"\x00" + bytes(line))
    raw = b"".join(rows)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(raw, level))
            + _chunk(b"IEND", b""))


def png(kind="small"):
    """Cached images: "small" (64x64), "big" (1024x1024, ~1.5 MB), "huge" (~31 MB, over the
    default size cap)."""
    with _png_lock:
        if kind not in _png_cache:
            if kind == "small":
                _png_cache[kind] = make_png(64, 64)
            elif kind == "big":
                _png_cache[kind] = make_png(1024, 1024, noise=0.5)
            elif kind == "huge":
                _png_cache[kind] = make_png(3300, 3300, noise=1.0, level=0)
            else:
                raise ValueError(kind)
        return _png_cache[kind]


# ---------------------------------------------------------------- faults

FAULT_RE = re.compile(r"\[fault:([a-z0-9_]+)(?:=(\d+))?\]")

# name -> default argument
FAULTS = {
    "slow": 1000,        # sleep N ms before answering
    "hang": 600000,      # never answer in time (sleep N ms)
    "429": 1,            # the first N requests get 429 with Retry-After: 1
    "500": 1,            # the first N requests get 500, then success
    "401": 1,            # unauthorized
    "malformed": 1,      # 200 with broken JSON where JSON is expected
    "html": 1,           # an HTML page where the image (or its JSON) is expected
    "truncated": 1,      # Content-Length larger than what is sent, then the connection closes
    "huge": 1,           # an image of ~31 MB (over the default cap)
    "safety": 1,         # the provider's safety block (Gemini IMAGE_SAFETY, Imagen empty, ...)
    "blocked": 1,        # Gemini promptFeedback.blockReason
    "moderated": 1,      # BFL "Content Moderated"
    "request_moderated": 1,  # BFL "Request Moderated"
    "bfl_error": 1,      # BFL "Error"
    "task_not_found": 1,  # BFL "Task not found"
    "slowpoll": 5,       # BFL: Pending for N polls before Ready
    "prose": 1,          # enhancers: answer in prose instead of JSON
    "same": 1,           # enhancers: identical short and long variants
}


def parse_faults(text):
    out = {}
    for name, arg in FAULT_RE.findall(text or ""):
        if name in FAULTS:
            out[name] = int(arg) if arg else FAULTS[name]
    return out


class FakeState:
    """Per-server mutable state, guarded by one lock."""

    def __init__(self, name):
        self.name = name
        self.lock = threading.Lock()
        self.counters = {}
        self.requests = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.key_leaks = 0
        self.paths = {}
        self.default_faults = {}
        self.latency_ms = 0
        self.image = "small"
        self.tasks = {}  # provider-specific (BFL tasks)
        self.last = []   # the last few requests (method, path, headers, body head)

    def bump(self, key):
        """Returns how many times `key` was seen before this call."""
        with self.lock:
            n = self.counters.get(key, 0)
            self.counters[key] = n + 1
            return n

    def stats(self):
        with self.lock:
            return {"name": self.name, "requests": self.requests, "in_flight": self.in_flight,
                    "max_in_flight": self.max_in_flight, "key_leaks": self.key_leaks,
                    "paths": dict(self.paths), "latency_ms": self.latency_ms, "image": self.image}

    def reset(self):
        with self.lock:
            self.counters.clear()
            self.requests = self.in_flight = self.max_in_flight = self.key_leaks = 0
            self.paths.clear()
            self.default_faults = {}
            self.tasks.clear()
            self.last = []


class FakeServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 2048  # hundreds of concurrent connections in the load tests
    allow_reuse_address = True

    def __init__(self, handler, name, host="127.0.0.1", port=0, api_prefix=""):
        self.state = FakeState(name)
        self.api_prefix = api_prefix
        super().__init__((host, port), handler)

    @property
    def origin(self):
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def base_url(self):
        """What MODEL_N_BASE_URL should be set to."""
        return self.origin + self.api_prefix

    def handle_error(self, request, client_address):
        # Clients dropping connections (timeouts, the engine aborting a hung request) are normal.
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)

    def start(self):
        t = threading.Thread(target=self.serve_forever, name=f"fake-{self.state.name}", daemon=True)
        t.start()
        return self


class FakeHandler(BaseHTTPRequestHandler):
    # Small answers otherwise wait for the delayed ACK (Nagle), adding ~40 ms to every call.
    disable_nagle_algorithm = True
    protocol_version = "HTTP/1.1"
    server_version = "FakeProvider/1.0"

    # ------------------------------------------------------------ plumbing

    def log_message(self, fmt, *args):  # quiet unless asked
        if os.environ.get("FAKE_VERBOSE"):
            sys.stderr.write("%s %s\n" % (self.server.state.name, fmt % args))

    @property
    def st(self):
        return self.server.state

    @property
    def origin(self):
        return self.server.origin

    def _read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _dispatch(self, method):
        st = self.st
        self.body = self._read_body() if method == "POST" else b""
        self.url = urlsplit(self.path)
        if self.url.path.startswith("/_fake/"):
            return self.control(method)
        with st.lock:
            st.requests += 1
            st.in_flight += 1
            st.max_in_flight = max(st.max_in_flight, st.in_flight)
            st.paths[self.url.path] = st.paths.get(self.url.path, 0) + 1
            st.last = (st.last + [{"method": method, "path": self.path,
                                   "headers": dict(self.headers.items()),
                                   "body": self.body[:2000].decode("utf-8", "replace")}])[-20:]
            latency = st.latency_ms
        try:
            if latency:
                time.sleep(latency / 1000.0)
            self.handle_api(method)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        finally:
            with st.lock:
                st.in_flight -= 1

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def control(self, method):
        st = self.st
        if self.url.path == "/_fake/stats":
            return self.send_json(200, st.stats())
        if self.url.path == "/_fake/last":
            with st.lock:
                return self.send_json(200, st.last)
        if self.url.path == "/_fake/reset" and method == "POST":
            st.reset()
            return self.send_json(200, {"ok": True})
        if self.url.path == "/_fake/config" and method == "POST":
            cfg = json.loads(self.body or b"{}")
            with st.lock:
                if "latency_ms" in cfg:
                    st.latency_ms = int(cfg["latency_ms"])
                if "image" in cfg:
                    st.image = cfg["image"]
                if "faults" in cfg:  # e.g. "[fault:500] [fault:slow=200]" for every request
                    st.default_faults = parse_faults(cfg["faults"])
            return self.send_json(200, st.stats())
        return self.send_json(404, {"error": "unknown control path"})

    # ------------------------------------------------------------ responses

    def send_bytes(self, status, body, content_type, headers=None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def send_json(self, status, obj, headers=None):
        self.send_bytes(status, json.dumps(obj).encode(), "application/json", headers)

    def send_html(self, status=200):
        self.send_bytes(status, b"<!DOCTYPE html><html><head><title>Oops</title></head>"
                        b"<body><h1>Something went wrong</h1></body></html>", "text/html; charset=utf-8")

    def send_truncated(self, body, content_type):
        """Declares the full length, sends half, and drops the connection."""
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body) + 1024))
        self.end_headers()
        self.wfile.write(body[: max(1, len(body) // 2)])
        self.wfile.flush()
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def send_malformed(self):
        self.send_bytes(200, b'{"data": [{"b64_json": "iVBORw0KGgo', "application/json")

    # ------------------------------------------------------------ faults

    def faults_for(self, text):
        f = dict(self.st.default_faults)
        f.update(parse_faults(text))
        return f

    def pre_faults(self, faults, key, error_429=None, error_500=None):
        """Applies the timing and transient faults. Returns True when it answered."""
        if "hang" in faults:
            time.sleep(faults["hang"] / 1000.0)
        if "slow" in faults:
            time.sleep(faults["slow"] / 1000.0)
        if "429" in faults and self.st.bump(("429", key)) < faults["429"]:
            self.send_json(429, error_429 or {"error": {"message": "Rate limit exceeded", "type": "requests"}},
                           {"Retry-After": "1"})
            return True
        if "500" in faults and self.st.bump(("500", key)) < faults["500"]:
            self.send_json(500, error_500 or {"error": {"message": "The server had an error", "type": "server_error"}})
            return True
        return False

    def image_bytes(self, faults):
        return png("huge" if "huge" in faults else self.st.image)

    def send_image(self, faults, content_type="image/png", headers=None):
        """Answers a download (or raw-image API) with the image, or its fault."""
        if "html" in faults:
            return self.send_html()
        data = self.image_bytes(faults)
        if "truncated" in faults:
            return self.send_truncated(data, content_type)
        self.send_bytes(200, data, content_type, headers)

    def send_inline_json(self, faults, obj, headers=None):
        """Answers with JSON that carries the image inline, or its fault."""
        if "malformed" in faults:
            return self.send_malformed()
        if "html" in faults:
            return self.send_html()
        if "truncated" in faults:
            return self.send_truncated(json.dumps(obj).encode(), "application/json")
        self.send_json(200, obj, headers)

    # ------------------------------------------------------------ files served for downloads

    def serve_file(self, faults):
        self.send_image(faults)

    def file_url(self, text):
        """A download URL on this server that remembers the prompt's faults."""
        token = "%08x" % random.getrandbits(32)
        with self.st.lock:
            self.st.tasks["file:" + token] = text
        return f"{self.origin}/files/{token}.png"

    def handle_file(self):
        token = self.url.path.rsplit("/", 1)[-1].split(".")[0]
        with self.st.lock:
            text = self.st.tasks.get("file:" + token)
        if text is None:
            return self.send_bytes(404, b"<Error><Code>BlobNotFound</Code></Error>", "application/xml")
        if self.headers.get("Authorization") or self.headers.get("x-key"):
            with self.st.lock:
                self.st.key_leaks += 1
        self.serve_file(self.faults_for(text))

    # ------------------------------------------------------------ to implement

    def handle_api(self, method):
        raise NotImplementedError

    def json_body(self):
        try:
            obj = json.loads(self.body or b"")
        except ValueError:
            return None
        return obj if isinstance(obj, dict) else None

    def bearer(self):
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return None
        key = auth[7:].strip()
        return key if key and key != "None" else None


# ---------------------------------------------------------------- helpers for the enhancers

def enhance_variants(prompt, faults):
    """What a chat model would answer to the enhancement system prompt."""
    p = FAULT_RE.sub("", prompt).strip().rstrip(".") or "an empty scene"
    short = f"{p[:1].upper()}{p[1:]}, in soft morning light."
    long = (f"{p[:1].upper()}{p[1:]}, photographed in soft morning light with a shallow depth of field. "
            f"The palette is warm and muted, with fine texture in every surface. "
            f"A quiet, cinematic mood ties the scene together.")
    if "same" in faults:
        return json.dumps({"short": short, "long": short})
    if "prose" in faults:
        return long
    return json.dumps({"short": short, "long": long})


def serve_main(make_server, argv=None):
    """Runs one fake standalone: prints its base URL and serves until killed."""
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--latency-ms", type=int, default=0)
    ap.add_argument("--image", default="small", choices=["small", "big", "huge"])
    args = ap.parse_args(argv)
    srv = make_server(port=args.port)
    srv.state.latency_ms = args.latency_ms
    srv.state.image = args.image
    print(srv.base_url, flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
