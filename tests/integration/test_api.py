"""Integration tests: the real pixelprompt binary on loopback, driven over HTTP (DESIGN §4-6).

Standard library only. The binary comes from env PP_BIN (default build/pixelprompt); each test
class starts the servers it needs (pp_server.PPServer) with a fresh DATA_DIR and checks that SIGTERM
ends them with exit status 0. Demo models make everything offline.
"""

import concurrent.futures
import io
import json
import os
import re
import shutil
import signal
import tempfile
import threading
import time
import unittest
import urllib.parse
import zipfile

from pp_server import (ROOT, PPServer, files_under, is_webp, png_size, run_cli, slow_factor)

TERMINAL = ("completed", "partial", "failed", "cancelled")
RESULT_RANK = {"pending": 0, "in_progress": 1, "completed": 2, "error": 2, "cancelled": 2}
JOB_RANK = {"pending": 0, "in_progress": 1, "completed": 2, "partial": 2, "failed": 2,
            "cancelled": 2}
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$")
DEMO_IDS = ["demo-gradient", "demo-mosaic", "demo-rings", "demo-stripes"]
ALLOWED_HEADERS = ("Content-Type, Authorization, X-Requested-With, X-Correlation-ID, "
                   "Idempotency-Key")


def version():
    with open(os.path.join(ROOT, "VERSION")) as f:
        return f.read().strip()


def read_sse(srv, path, timeout=30.0, headers=None):
    """Reads a whole Server-Sent Events stream; returns (response, [events]) once the server
    closes it. Each event is a dict of its fields (data joined with newlines)."""
    conn = srv.connection(timeout)
    try:
        conn.putrequest("GET", path, skip_accept_encoding=True)
        for k, v in (headers or {}).items():
            conn.putheader(k, v)
        conn.endheaders()
        resp = conn.getresponse()
        events, cur = [], {}
        deadline = time.time() + timeout * slow_factor()
        while True:
            if time.time() > deadline:
                raise AssertionError("SSE stream %s did not close in time; got %r" % (path, events))
            line = resp.readline()
            if not line:  # the server closed the stream
                if cur:
                    events.append(cur)
                break
            line = line.decode("utf-8").rstrip("\r\n")
            if line == "":
                if cur:
                    events.append(cur)
                cur = {}
            elif line.startswith(":"):
                cur.setdefault("comments", []).append(line)
            else:
                name, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                if name == "data" and "data" in cur:
                    cur["data"] += "\n" + value
                else:
                    cur[name] = value
        return resp, events
    finally:
        conn.close()


def chunked(data, size=65536):
    for i in range(0, len(data), size):
        yield data[i:i + size]


class ApiTests(unittest.TestCase):
    """One shared server (fast demo models) for every route, the error codes and malformed input.
    DATA_DIR lives inside a parent directory that also holds a sentinel file, which no request
    may ever reach."""

    @classmethod
    def setUpClass(cls):
        cls.parent = tempfile.mkdtemp(prefix="pp-int-parent-")
        cls.addClassCleanup(shutil.rmtree, cls.parent, True)
        cls.data_dir = os.path.join(cls.parent, "data")
        os.mkdir(cls.data_dir)
        cls.sentinel_text = b"SENTINEL-7f3a9c-never-serve-me"
        cls.sentinel = os.path.join(cls.parent, "sentinel.txt")
        with open(cls.sentinel, "wb") as f:
            f.write(cls.sentinel_text)
        # atime older than mtime: with relatime, any read of the file would move it.
        st = os.stat(cls.sentinel)
        os.utime(cls.sentinel, (st.st_mtime - 7200, st.st_mtime))
        cls.sentinel_atime = os.stat(cls.sentinel).st_atime
        cls.srv = PPServer({"IP_LIMIT": "100000", "GLOBAL_LIMIT": "100000",
                            "ENHANCE_IP_LIMIT": "10000", "LOG_IP_LIMIT": "10000"},
                           data_dir=cls.data_dir)
        cls.addClassCleanup(cls.srv.cleanup)
        cls.srv.start()
        created = cls.srv.generate("a red fox in the snow")
        cls.job_id = created["jobId"]
        cls.job = cls.srv.wait_job(cls.job_id)

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop_clean()

    # ---- helpers ----

    def expect_error(self, method, path, body, status, code, headers=None):
        r = self.srv.request(method, path, body, headers)
        self.assertEqual(r.status, status, "%s %s %r -> %r" % (method, path, body, r))
        doc = r.json()
        self.assertEqual(doc.get("error"), code, "%s %s %r -> %r" % (method, path, body, doc))
        self.assertIsInstance(doc.get("message"), str)
        self.assertTrue(r.header("Content-Type").startswith("application/json"))
        return doc

    def assert_cors(self, r):
        self.assertEqual(r.header("Access-Control-Allow-Origin"), "*")
        self.assertEqual(r.header("Access-Control-Allow-Methods"), "GET, POST, DELETE, OPTIONS")
        self.assertEqual(r.header("Access-Control-Allow-Headers"), ALLOWED_HEADERS)
        self.assertTrue(r.header("X-Correlation-ID"))

    # ---- meta routes ----

    def test_healthz(self):
        r = self.srv.request("GET", "/healthz")
        self.assertEqual(r.status, 200)
        doc = r.json()
        self.assertEqual(doc["status"], "ok")
        self.assertEqual(doc["version"], version())
        self.assert_cors(r)
        self.assertEqual(self.srv.request("GET", "/Prod/healthz").status, 200)

    def test_models(self):
        r = self.srv.request("GET", "/models")
        self.assertEqual(r.status, 200)
        doc = r.json()
        self.assertEqual([m["id"] for m in doc["models"]], DEMO_IDS)
        for m in doc["models"]:
            self.assertEqual(m["provider"], "demo")
            self.assertNotIn("key", m)
        self.assertTrue(doc["enhancer"]["available"])

    def test_metrics(self):
        self.srv.request("GET", "/healthz")
        r = self.srv.request("GET", "/metrics")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.header("Content-Type").startswith("text/plain"))
        text = r.body.decode()
        self.assertIn("# TYPE ", text)
        m = re.search(r'^pixelprompt_route_requests_total\{route="/healthz"\} (\d+)$', text, re.M)
        self.assertIsNotNone(m, text[:800])
        self.assertGreaterEqual(int(m.group(1)), 1)
        for line in text.splitlines():  # every sample line is "name{labels} number"
            if line and not line.startswith("#"):
                self.assertRegex(line, r"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? -?[0-9.eE+-]+$")

    def test_options_preflight(self):
        for path in ("/generate", "/status/whatever", "/Prod/enhance", "/no/such/route"):
            r = self.srv.request("OPTIONS", path, headers={
                "Origin": "https://example.com", "Access-Control-Request-Method": "POST"})
            self.assertEqual(r.status, 204, path)
            self.assertEqual(r.body, b"")
            self.assert_cors(r)
            self.assertEqual(r.header("Access-Control-Max-Age"), "86400")

    def test_not_found(self):
        r = self.srv.request("GET", "/no/such/thing")
        self.assertEqual(r.status, 404)
        self.assertEqual(r.json(), {"error": "Not found", "path": "/no/such/thing",
                                    "method": "GET"})
        self.assert_cors(r)
        r = self.srv.request("PUT", "/generate", {"prompt": "x"})
        self.assertEqual(r.status, 404)
        self.assertEqual(r.json()["method"], "PUT")
        self.assertEqual(self.srv.request("GET", "/generate").status, 404)

    def test_correlation_id(self):
        r = self.srv.request("GET", "/healthz", headers={"X-Correlation-ID": "test-abc_123.x"})
        self.assertEqual(r.header("X-Correlation-ID"), "test-abc_123.x")
        r = self.srv.request("GET", "/nope", headers={"X-Correlation-ID": "abc-404"})
        self.assertEqual(r.header("X-Correlation-ID"), "abc-404")
        generated = self.srv.request("GET", "/healthz").header("X-Correlation-ID")
        self.assertTrue(generated)
        # Unsafe or oversized ids are replaced, never echoed.
        for bad in ("a b", "x" * 65, "<script>", "a\"b"):
            got = self.srv.request("GET", "/healthz", headers={"X-Correlation-ID": bad})
            self.assertNotEqual(got.header("X-Correlation-ID"), bad)
            self.assertTrue(got.header("X-Correlation-ID"))

    def test_web_ui(self):
        r = self.srv.request("GET", "/")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.header("Content-Type").startswith("text/html"))
        self.assertIn(b"<", r.body)

    # ---- a job end to end ----

    def test_generate_result_document(self):
        doc = self.job
        self.assertEqual(doc["jobId"], self.job_id)
        self.assertEqual(doc["status"], "completed")
        self.assertEqual(doc["prompt"], "a red fox in the snow")
        self.assertEqual(doc["totalModels"], 4)
        self.assertEqual(doc["completedModels"], 4)
        self.assertEqual(doc["failedModels"], 0)
        self.assertRegex(doc["createdAt"], ISO_Z)
        self.assertRegex(doc["updatedAt"], ISO_Z)
        self.assertEqual([r["model"] for r in doc["results"]], DEMO_IDS)
        for i, res in enumerate(doc["results"]):
            self.assertEqual(res["index"], i + 1)
            self.assertEqual(res["status"], "completed")
            self.assertEqual(res["contentType"], "image/png")
            self.assertIsNone(res["error"])
            self.assertRegex(res["startedAt"], ISO_Z)
            self.assertRegex(res["completedAt"], ISO_Z)
            self.assertIsInstance(res["duration"], (int, float))
            self.assertGreater(res["duration"], 0)
            self.assertLess(res["duration"], 600)  # seconds, not milliseconds
            self.assertNotIn("output", res)
        # The stage prefix reaches the same document.
        staged = self.srv.get_json("/Prod/status/" + self.job_id)
        self.assertEqual(staged["jobId"], self.job_id)

    def test_images_and_thumbnails(self):
        for res in self.job["results"]:
            r = self.srv.request("GET", res["imageUrl"])
            self.assertEqual(r.status, 200, res["imageUrl"])
            self.assertEqual(r.header("Content-Type"), "image/png")
            self.assertEqual(png_size(r.body), (res["width"], res["height"]))
            self.assertEqual((res["width"], res["height"]), (128, 128))
            self.assertIn("max-age", r.header("Cache-Control"))
            etag = r.header("ETag")
            self.assertTrue(etag)
            r304 = self.srv.request("GET", res["imageUrl"], headers={"If-None-Match": etag})
            self.assertEqual(r304.status, 304)
            self.assertEqual(r304.body, b"")
            other = self.srv.request("GET", res["imageUrl"], headers={"If-None-Match": '"nope"'})
            self.assertEqual(other.status, 200)
            t = self.srv.request("GET", res["thumbnailUrl"])
            self.assertEqual(t.status, 200, res["thumbnailUrl"])
            self.assertEqual(t.header("Content-Type"), "image/webp")
            self.assertTrue(is_webp(t.body), t.body[:16])
            self.assertTrue(t.header("ETag"))
            # With an API Gateway stage in front.
            self.assertEqual(self.srv.request("GET", "/Prod" + res["imageUrl"]).status, 200)

    def test_gallery_detail(self):
        doc = self.srv.get_json("/gallery/" + self.job_id)
        self.assertEqual(doc["galleryId"], self.job_id)
        self.assertEqual(doc["prompt"], "a red fox in the snow")
        self.assertEqual(doc["total"], 4)
        self.assertEqual(len(doc["images"]), 4)
        for img in doc["images"]:
            for key in ("key", "url", "thumbnailUrl", "model", "name", "prompt", "timestamp",
                        "contentType", "width", "height"):
                self.assertIn(key, img)
            self.assertRegex(img["timestamp"], ISO_Z)
            self.assertNotIn("output", img)
            r = self.srv.request("GET", img["url"])
            self.assertEqual(r.status, 200)
            png_size(r.body)
        unknown = self.srv.get_json("/gallery/0190a3b4-0000-7000-8000-000000000000")
        self.assertEqual(unknown["images"], [])
        self.assertEqual(unknown["total"], 0)

    def test_gallery_zip(self):
        r = self.srv.request("GET", "/gallery/%s/zip" % self.job_id)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("Content-Type"), "application/zip")
        self.assertIn("attachment", r.header("Content-Disposition"))
        with zipfile.ZipFile(io.BytesIO(r.body)) as z:
            self.assertIsNone(z.testzip())
            names = z.namelist()
            self.assertEqual(len(names), 4, names)
            for name in names:
                self.assertTrue(name.endswith(".png"), name)
                self.assertNotIn("/", name)
                self.assertEqual(png_size(z.read(name)), (128, 128))

    def test_gallery_list_contains_job(self):
        doc = self.srv.get_json("/gallery/list")
        ids = [g["id"] for g in doc["galleries"]]
        self.assertIn(self.job_id, ids)
        g = doc["galleries"][ids.index(self.job_id)]
        self.assertEqual(g["imageCount"], 4)
        self.assertEqual(g["prompt"], "a red fox in the snow")
        self.assertRegex(g["timestamp"], ISO_Z)
        self.assertEqual(self.srv.request("GET", g["preview"]).status, 200)
        self.assertGreaterEqual(doc["total"], 1)
        self.expect_error("GET", "/gallery/list?limit=0", None, 400, "INVALID_LIMIT")
        self.expect_error("GET", "/gallery/list?limit=abc", None, 400, "INVALID_LIMIT")
        self.expect_error("GET", "/gallery/list?limit=101", None, 400, "INVALID_LIMIT")
        self.expect_error("GET", "/gallery/list?cursor=garbage%21", None, 400, "INVALID_CURSOR")

    def test_status_events_of_finished_job(self):
        resp, events = read_sse(self.srv, "/status/%s/events" % self.job_id)
        self.assertEqual(resp.status, 200)
        self.assertTrue(resp.getheader("Content-Type").startswith("text/event-stream"))
        jobs = [e for e in events if e.get("event") == "job"]
        self.assertEqual(len(jobs), 1, events)
        doc = json.loads(jobs[0]["data"])
        self.assertEqual(doc["status"], "completed")
        self.assertEqual(doc["jobId"], self.job_id)

    def test_status_events_follow_a_new_job(self):
        job_id = self.srv.generate("a lighthouse on a cliff")["jobId"]
        resp, events = read_sse(self.srv, "/status/%s/events" % job_id)
        self.assertEqual(resp.status, 200)
        docs = [json.loads(e["data"]) for e in events if e.get("event") == "job"]
        self.assertGreaterEqual(len(docs), 1)
        self.assertEqual(docs[-1]["status"], "completed")
        for d in docs[:-1]:
            self.assertNotIn(d["status"], TERMINAL)
        ranks = [JOB_RANK[d["status"]] for d in docs]
        self.assertEqual(ranks, sorted(ranks))

    def test_cancel_finished_job_changes_nothing(self):
        r = self.srv.request("POST", "/cancel/" + self.job_id)
        self.assertEqual(r.status, 200)
        doc = r.json()
        self.assertEqual(doc["status"], "completed")
        self.assertEqual([x["status"] for x in doc["results"]], ["completed"] * 4)

    def test_enhance(self):
        r = self.srv.request("POST", "/enhance", {"prompt": "a cat on a windowsill"})
        self.assertEqual(r.status, 200, r)
        doc = r.json()
        self.assertEqual(doc["original"], "a cat on a windowsill")
        self.assertTrue(doc["short_prompt"])
        self.assertTrue(doc["long_prompt"])
        self.assertNotEqual(doc["short_prompt"], doc["long_prompt"])
        self.assertLess(len(doc["short_prompt"]), len(doc["long_prompt"]))
        self.assertEqual(doc["enhanced"], doc["long_prompt"])
        ok = self.srv.request("POST", "/enhance", {"prompt": "\u00e9" * 500})
        self.assertEqual(ok.status, 200)
        doc = self.expect_error("POST", "/enhance", {"prompt": "\u00e9" * 501}, 400,
                                "PROMPT_TOO_LONG")
        self.assertEqual(doc["maxLength"], 500)
        self.expect_error("POST", "/enhance", "{nope", 400, "INVALID_JSON")
        self.expect_error("POST", "/enhance", {}, 400, "PROMPT_REQUIRED")
        self.expect_error("POST", "/enhance", {"prompt": "a nude model"}, 400,
                          "INAPPROPRIATE_CONTENT")

    def test_log(self):
        r = self.srv.request("POST", "/log", {"level": "WARNING", "message": "client oops",
                                              "stack": "at foo (app.js:1)",
                                              "metadata": {"page": "/", "n": 3}})
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json(), {"success": True, "message": "Log received successfully"})
        for body in ({}, {"level": "ERROR"}, {"message": "x"},
                     {"level": "SHOUT", "message": "x"}, {"level": "INFO", "message": ""},
                     {"level": "INFO", "message": "x", "stack": 5},
                     {"level": "INFO", "message": "x", "metadata": [1]}):
            self.expect_error("POST", "/log", body, 400, "INVALID_LOG")
        self.expect_error("POST", "/log", "not json", 400, "INVALID_JSON")
        # The client's message reached the server log as structured JSON.
        deadline = time.time() + 5
        while time.time() < deadline:
            if any(l.get("message") == "client oops" for l in self.srv.log_lines()):
                break
            time.sleep(0.05)
        line = [l for l in self.srv.log_lines() if l.get("message") == "client oops"][0]
        self.assertEqual(line["level"], "WARNING")

    # ---- errors and malformed input ----

    def test_generate_invalid_json(self):
        for body in (b"not json", b"[1, 2]", b"[]", b"null", b"\"a prompt\"", b"42", b"{",
                     b"", b"{\"prompt\": \"a\", \"prompt\": \"b\"}",
                     b"{\"prompt\": \"caf\xc3\"}", b"{\"prompt\": \"\xff\xfe\"}",
                     b"\xff\xfe{}", b"{\"prompt\": \"a\\u0000b\"}"):
            doc = self.expect_error("POST", "/generate", body, 400, "INVALID_JSON")
            self.assertEqual(doc["message"], "Invalid JSON in request body")
        # No body at all.
        r = self.srv.request("POST", "/generate")
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json()["error"], "INVALID_JSON")

    def test_generate_prompt_required_and_not_string(self):
        for body in ({}, {"prompt": ""}, {"prompt": None}, {"prompt": False},
                     {"prompt": "   \t\n"}, {"ip": "1.2.3.4"}):
            doc = self.expect_error("POST", "/generate", body, 400, "PROMPT_REQUIRED")
            self.assertEqual(doc["message"], "Prompt is required")
            self.assertEqual(doc["details"], "Please provide a text prompt to generate images.")
        for prompt in (5, 0, True, ["a"], {"text": "a"}, 1.5):
            doc = self.expect_error("POST", "/generate", {"prompt": prompt}, 400,
                                    "PROMPT_REQUIRED")
            self.assertEqual(doc["message"], "Prompt must be a string")

    def test_generate_prompt_length_multibyte(self):
        for ch in ("\u00e9", "\u20ac", "\U0001F98A"):  # 2, 3 and 4 bytes in UTF-8
            r = self.srv.request("POST", "/generate", {"prompt": ch * 1000,
                                                       "models": ["demo-rings"]})
            self.assertEqual(r.status, 200, r)
            doc = self.expect_error("POST", "/generate", {"prompt": ch * 1001}, 400,
                                    "PROMPT_TOO_LONG")
            self.assertEqual(doc["maxLength"], 1000)
            self.assertEqual(doc["message"], "Prompt is too long (maximum 1000 characters)")
            # Raw UTF-8 on the wire, not \u escapes.
            raw = ('{"prompt": "%s"}' % (ch * 1001)).encode("utf-8")
            self.expect_error("POST", "/generate", raw, 400, "PROMPT_TOO_LONG")

    def test_generate_model_errors(self):
        doc = self.expect_error("POST", "/generate", {"prompt": "x", "models": ["nope"]}, 400,
                                "UNKNOWN_MODEL")
        self.assertEqual(doc["model"], "nope")
        for models in ("demo-rings", [], [1], {}, [None], True):
            self.expect_error("POST", "/generate", {"prompt": "x", "models": models}, 400,
                              "INVALID_MODELS")
        doc = self.srv.generate("two models", models=["demo-stripes", "demo-gradient"])
        self.assertEqual(doc["totalModels"], 2)
        self.assertEqual([m["id"] for m in doc["models"]], ["demo-gradient", "demo-stripes"])

    def test_generate_inappropriate(self):
        for prompt in ("a nude portrait", "NSFW poster", "p0rn star"):
            doc = self.expect_error("POST", "/generate", {"prompt": prompt}, 400,
                                    "INAPPROPRIATE_CONTENT")
            self.assertEqual(doc["message"],
                             "Your prompt contains inappropriate content and cannot be processed.")

    def test_payload_too_large(self):
        big = b'{"prompt": "' + b"a" * (1024 * 1024) + b'"}'
        doc = self.expect_error("POST", "/generate", big, 413, "PAYLOAD_TOO_LARGE")
        self.assertEqual(doc["maxBytes"], 65536)
        # Without Content-Length (chunked): the server counts as it reads.
        conn = self.srv.connection()
        try:
            conn.request("POST", "/generate", body=chunked(big),
                         headers={"Content-Type": "application/json",
                                  "Transfer-Encoding": "chunked"}, encode_chunked=True)
            resp = conn.getresponse()
            self.assertEqual(resp.status, 413)
            self.assertEqual(json.loads(resp.read())["error"], "PAYLOAD_TOO_LARGE")
        finally:
            conn.close()
        self.expect_error("POST", "/enhance", big, 413, "PAYLOAD_TOO_LARGE")
        self.assertEqual(self.srv.request("GET", "/healthz").status, 200)

    def test_job_not_found(self):
        unknown = "0190a3b4-0000-7000-8000-000000000000"
        doc = self.expect_error("GET", "/status/" + unknown, None, 404, "JOB_NOT_FOUND")
        self.assertEqual(doc["jobId"], unknown)
        self.assertEqual(doc["message"], "Job not found")
        # Ids of 256+ bytes match no route at all (route parameters are capped): a plain 404.
        self.assertEqual(self.srv.request("GET", "/status/" + "x" * 300).status, 404)
        for bad in ("not-a-uuid", "0190A3B4-0000-7000-8000-000000000000", "%2e%2e", "x" * 200):
            self.expect_error("GET", "/status/" + bad, None, 404, "JOB_NOT_FOUND")
            self.expect_error("GET", "/status/%s/events" % bad, None, 404, "JOB_NOT_FOUND")
            self.expect_error("POST", "/cancel/" + bad, None, 404, "JOB_NOT_FOUND")
            self.expect_error("GET", "/gallery/%s/zip" % bad, None, 404, "JOB_NOT_FOUND")
        self.expect_error("POST", "/cancel/" + unknown, None, 404, "JOB_NOT_FOUND")
        self.expect_error("GET", "/images/no/such.png", None, 404, "NOT_FOUND")

    def test_path_traversal_never_reaches_disk(self):
        paths = [
            "/gallery/..%2F..%2Fetc%2Fpasswd", "/gallery/..%2F..%2Fsentinel.txt",
            "/gallery/../../pixelprompt.db", "/gallery/..%2Fpixelprompt.db",
            "/gallery/%2e%2e%2f%2e%2e%2fsentinel.txt", "/gallery/%2E%2E", "/gallery/..",
            "/gallery/..%2F..%2F..%2Fsentinel.txt/zip",
            "/status/..%2F..%2Fetc%2Fpasswd", "/status/../../pixelprompt.db",
            "/status/%2e%2e%2f%2e%2e%2fsentinel.txt", "/status/..%252F..%252Fsentinel.txt",
            "/status/..%2F..%2Fsentinel.txt/events", "/cancel/..%2F..%2Fpixelprompt.db",
            "/images/..%2F..%2Fsentinel.txt", "/images/../../sentinel.txt",
            "/images/%2e%2e/%2e%2e/%2e%2e/sentinel.txt", "/images/..%2F..%2Fpixelprompt.db",
            "/images/../pixelprompt.db", "/images/%2e%2e%2f%2e%2e%2fpixelprompt.db",
            "/images/..%252F..%252Fsentinel.txt", "/images/....//....//....//sentinel.txt",
            "/images/..\\..\\..\\sentinel.txt", "/images//etc/passwd", "/images/%2Fetc%2Fpasswd",
            "/images/.quota-key", "/images/..%2F.quota-key", "/thumbs/..%2F..%2F..%2Fsentinel.txt",
            "/thumbs/../../../sentinel.txt", "/images/x%00/../../../sentinel.txt",
            "/Prod/images/..%2F..%2F..%2Fsentinel.txt", "/..%2F..%2Fsentinel.txt",
            "/../../sentinel.txt", "/%2e%2e/%2e%2e/sentinel.txt",
        ]
        for path in paths:
            method = "POST" if path.startswith("/cancel") else "GET"
            r = self.srv.request(method, path)
            self.assertNotIn(self.sentinel_text, r.body, path)
            self.assertNotIn(b"SQLite format 3", r.body, path)
            self.assertNotIn(b"root:", r.body, path)
            if path.startswith("/gallery/") and r.status == 200:
                self.assertEqual(r.json()["images"], [], path)
            else:
                self.assertEqual(r.status, 404, "%s -> %r" % (path, r))
        self.assertEqual(os.stat(self.sentinel).st_atime, self.sentinel_atime,
                         "the sentinel next to DATA_DIR was read")


class IdempotencyTests(unittest.TestCase):
    """Same Idempotency-Key, same client: the same job, and nothing new in the gallery."""

    def test_idempotency_key_replay(self):
        with PPServer() as srv:
            self._replay(srv)

    def _replay(self, srv):
        key = {"Idempotency-Key": "idem-%d" % time.time_ns()}
        before = srv.get_json("/gallery/list?limit=100")["total"]
        self.assertEqual(before, 0)
        first = srv.generate("an idempotent teapot", headers=key)
        srv.wait_job(first["jobId"])
        after_first = srv.get_json("/gallery/list?limit=100")["total"]
        self.assertEqual(after_first, before + 1)
        again = srv.generate("an idempotent teapot", headers=key)
        self.assertEqual(again["jobId"], first["jobId"])
        self.assertTrue(again.get("replayed"))
        self.assertEqual(again["totalModels"], first["totalModels"])
        srv.wait_job(again["jobId"])
        time.sleep(0.2)
        self.assertEqual(srv.get_json("/gallery/list?limit=100")["total"], after_first)
        self.assertEqual(srv.get_json("/gallery/list")["galleries"][0]["id"], first["jobId"])
        other = srv.generate("an idempotent teapot",
                             headers={"Idempotency-Key": key["Idempotency-Key"] + "-2"})
        self.assertNotEqual(other["jobId"], first["jobId"])
        srv.wait_job(other["jobId"])


class ProgressTests(unittest.TestCase):
    """Slow demo models (DEMO_LATENCY_MS=800) so progress and cancellation can be watched."""

    @classmethod
    def setUpClass(cls):
        cls.srv = PPServer(demo_latency_ms=800)
        cls.addClassCleanup(cls.srv.cleanup)
        cls.srv.start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop_clean()

    def test_results_move_pending_in_progress_completed(self):
        job_id = self.srv.generate("a slow sunrise")["jobId"]
        seen = {}  # index -> statuses in the order observed (consecutive duplicates dropped)
        job_seen = []
        deadline = time.time() + 20 * slow_factor()
        doc = None
        while time.time() < deadline:
            doc = self.srv.get_json("/status/" + job_id)
            if not job_seen or job_seen[-1] != doc["status"]:
                job_seen.append(doc["status"])
            for res in doc["results"]:
                lst = seen.setdefault(res["index"], [])
                if not lst or lst[-1] != res["status"]:
                    lst.append(res["status"])
                if res["status"] != "completed":
                    self.assertIsNone(res["imageUrl"])
                    self.assertIsNone(res["thumbnailUrl"])
                if res["status"] == "pending":
                    self.assertIsNone(res["startedAt"])
            if doc["status"] in TERMINAL:
                break
            time.sleep(0.02)
        self.assertEqual(doc["status"], "completed", doc)
        for index, statuses in seen.items():
            ranks = [RESULT_RANK[s] for s in statuses]
            self.assertEqual(ranks, sorted(ranks), statuses)
            self.assertIn(statuses[0], ("pending", "in_progress"), statuses)
            self.assertIn("in_progress", statuses, statuses)
            self.assertEqual(statuses[-1], "completed")
        self.assertIn("in_progress", job_seen)
        self.assertEqual(job_seen[-1], "completed")
        ranks = [JOB_RANK[s] for s in job_seen]
        self.assertEqual(ranks, sorted(ranks), job_seen)

    def test_events_stream_progress_and_close(self):
        job_id = self.srv.generate("a slow moonrise")["jobId"]
        resp, events = read_sse(self.srv, "/status/%s/events" % job_id)
        self.assertEqual(resp.status, 200)
        jobs = [e for e in events if e.get("event") == "job"]
        self.assertGreaterEqual(len(jobs), 2, events)
        docs = [json.loads(e["data"]) for e in jobs]
        self.assertNotIn(docs[0]["status"], TERMINAL)
        self.assertEqual(docs[-1]["status"], "completed")
        # Ids are "<updatedAt ms>-<pending>.<in_progress>.<completed>.<error>.<cancelled>": each
        # document gets a new one, even two changes within one millisecond.
        ids = [e["id"] for e in jobs]
        self.assertEqual(len(set(ids)), len(ids), ids)
        stamps = [int(i.split("-")[0]) for i in ids]
        self.assertEqual(stamps, sorted(stamps))
        self.assertEqual(ids[-1].split("-")[1], "0.0.4.0.0")
        # Resuming with Last-Event-ID of the final document sends nothing more and closes.
        _, tail = read_sse(self.srv, "/status/%s/events" % job_id,
                           headers={"Last-Event-ID": ids[-1]})
        self.assertEqual([e for e in tail if e.get("event") == "job"], [])
        # Resuming from an earlier document delivers the final one.
        _, tail = read_sse(self.srv, "/status/%s/events" % job_id,
                           headers={"Last-Event-ID": ids[0]})
        finals = [json.loads(e["data"]) for e in tail if e.get("event") == "job"]
        self.assertEqual([d["status"] for d in finals], ["completed"])

    def test_cancel_mid_job(self):
        job_id = self.srv.generate("a cancelled comet")["jobId"]
        r = self.srv.request("POST", "/cancel/" + job_id)
        self.assertEqual(r.status, 200)
        doc = r.json()
        self.assertIn(doc["status"], ("cancelled", "partial"))
        for res in doc["results"]:
            self.assertIn(res["status"], ("cancelled", "completed"))
        cancelled = [res["index"] for res in doc["results"] if res["status"] == "cancelled"]
        self.assertTrue(cancelled)
        # Nothing the engine does afterwards brings a cancelled model back.
        time.sleep(1.5 * slow_factor())
        later = self.srv.get_json("/status/" + job_id)
        self.assertEqual(later["status"], doc["status"])
        for res in later["results"]:
            if res["index"] in cancelled:
                self.assertEqual(res["status"], "cancelled")
                self.assertIsNone(res["imageUrl"])
        gallery = self.srv.get_json("/gallery/" + job_id)
        self.assertEqual(len(gallery["images"]), 4 - len(cancelled))


class GalleryPagingTests(unittest.TestCase):
    def test_pages_newest_first(self):
        with PPServer() as srv:
            ids = []
            for i in range(5):
                ids.append(srv.generate("gallery picture %d" % i, models=["demo-rings"])["jobId"])
                time.sleep(0.005)
            for job_id in ids:
                srv.wait_job(job_id)
            pages, cursor = [], None
            while True:
                path = "/gallery/list?limit=2"
                if cursor:
                    path += "&cursor=" + urllib.parse.quote(cursor, safe="")
                doc = srv.get_json(path)
                self.assertEqual(doc["total"], 5)
                pages.append(doc["galleries"])
                cursor = doc["nextCursor"]
                if not cursor:
                    break
                self.assertLess(len(pages), 10, "paging does not end")
            self.assertEqual([len(p) for p in pages], [2, 2, 1])
            seen = [g["id"] for p in pages for g in p]
            self.assertEqual(sorted(seen), sorted(ids))
            self.assertEqual(len(set(seen)), 5)
            self.assertEqual(seen, list(reversed(ids)))  # newest first
            stamps = [g["timestamp"] for p in pages for g in p]
            self.assertEqual(stamps, sorted(stamps, reverse=True))
            for g in (g for p in pages for g in p):
                self.assertEqual(g["imageCount"], 1)
                self.assertTrue(is_webp(srv.request("GET", g["preview"]).body))


class RateLimitTests(unittest.TestCase):
    def test_200_concurrent_generates_with_ip_limit_50(self):
        # Long demo latency: accepted jobs just wait, so the test measures admission only.
        with PPServer({"IP_LIMIT": "50", "GLOBAL_LIMIT": "100000"}, demo_latency_ms=60000) as srv:
            barrier = threading.Barrier(200, timeout=60 * slow_factor())

            def one(i):
                barrier.wait()
                return srv.request("POST", "/generate",
                                   {"prompt": "concurrent fox %d" % i, "models": ["demo-rings"]},
                                   timeout=60)

            with concurrent.futures.ThreadPoolExecutor(max_workers=200) as pool:
                results = list(pool.map(one, range(200)))
            statuses = [r.status for r in results]
            self.assertEqual(statuses.count(200), 50, statuses)
            self.assertEqual(statuses.count(429), 150, statuses)
            job_ids = {r.json()["jobId"] for r in results if r.status == 200}
            self.assertEqual(len(job_ids), 50)
            for r in results:
                if r.status != 429:
                    continue
                doc = r.json()
                self.assertEqual(doc["error"], "RATE_LIMIT_EXCEEDED")
                retry = int(r.header("Retry-After"))
                self.assertGreater(retry, 0)
                self.assertLessEqual(retry, 24 * 3600)
                self.assertEqual(doc["retryAfter"], retry)
            self.assertEqual(srv.request("POST", "/generate", {"prompt": "one more"}).status, 429)

    def test_body_ip_and_forwarded_for_do_not_escape_the_limit(self):
        with PPServer({"IP_LIMIT": "3"}, demo_latency_ms=60000) as srv:
            statuses = []
            for i in range(6):
                r = srv.request("POST", "/generate",
                                {"prompt": "fox", "ip": "203.0.113.%d" % (i + 1),
                                 "models": ["demo-rings"]},
                                headers={"X-Forwarded-For": "198.51.100.%d" % (i + 1)})
                statuses.append(r.status)
            self.assertEqual(statuses, [200, 200, 200, 429, 429, 429])


class CrashAndShutdownTests(unittest.TestCase):
    def test_kill9_then_restart_marks_interrupted(self):
        data_dir = tempfile.mkdtemp(prefix="pp-int-crash-")
        self.addCleanup(shutil.rmtree, data_dir, True)
        first = PPServer(data_dir=data_dir, demo_latency_ms=60000)
        self.addCleanup(first.cleanup)
        first.start()
        job_id = first.generate("a fox that never finishes")["jobId"]
        first.wait_job(job_id, timeout=10, terminal=("in_progress",))
        deadline = time.time() + 10 * slow_factor()
        while time.time() < deadline:  # every model claimed
            doc = first.get_json("/status/" + job_id)
            if all(r["status"] == "in_progress" for r in doc["results"]):
                break
            time.sleep(0.02)
        self.assertEqual(first.kill9(), -signal.SIGKILL)

        with PPServer(data_dir=data_dir) as second:
            doc = second.get_json("/status/" + job_id)
            self.assertIn(doc["status"], TERMINAL)
            self.assertEqual(doc["status"], "failed")
            self.assertEqual(doc["failedModels"], 4)
            for res in doc["results"]:
                self.assertEqual(res["status"], "error")
                self.assertEqual(res["error"], "interrupted")
                self.assertRegex(res["completedAt"], ISO_Z)
            # The new server works on the same directory.
            new_id = second.generate("after the crash", models=["demo-rings"])["jobId"]
            self.assertEqual(second.wait_job(new_id)["status"], "completed")

    def test_sigterm_mid_job_leaves_no_temp_files(self):
        data_dir = tempfile.mkdtemp(prefix="pp-int-term-")
        self.addCleanup(shutil.rmtree, data_dir, True)
        srv = PPServer(data_dir=data_dir, demo_latency_ms=0, demo_image_size=768)
        self.addCleanup(srv.cleanup)
        srv.start()
        ids = [srv.generate("busy picture %d" % i)["jobId"] for i in range(3)]
        deadline = time.time() + 10 * slow_factor()
        while time.time() < deadline:  # stop while images are being made and written
            if any(r["status"] == "in_progress"
                   for r in srv.get_json("/status/" + ids[0])["results"]):
                break
            time.sleep(0.01)
        srv.stop_clean()
        leftovers = [p for p in files_under(data_dir) if ".tmp-" in os.path.basename(p)]
        self.assertEqual(leftovers, [])
        self.assertIn("stopped", srv.stderr())
        # Every image written is whole, and after a restart no job is left unfinished.
        for p in files_under(os.path.join(data_dir, "blobs", "images")):
            with open(p, "rb") as f:
                png_size(f.read())
        with PPServer(data_dir=data_dir) as again:
            for job_id in ids:
                doc = again.get_json("/status/" + job_id)
                self.assertIn(doc["status"], TERMINAL, doc)
                for res in doc["results"]:
                    if res["status"] == "completed":
                        self.assertEqual(again.request("GET", res["imageUrl"]).status, 200)


    def test_sigterm_finishes_its_own_results(self):
        """engine_stop promises to mark what it could not finish as error ("interrupted"), so a
        clean stop leaves nothing for the next start's crash recovery to mark."""
        data_dir = tempfile.mkdtemp(prefix="pp-int-term2-")
        self.addCleanup(shutil.rmtree, data_dir, True)
        srv = PPServer(data_dir=data_dir, demo_latency_ms=0, demo_image_size=768)
        self.addCleanup(srv.cleanup)
        srv.start()
        ids = [srv.generate("busy picture %d" % i)["jobId"] for i in range(3)]
        deadline = time.time() + 10 * slow_factor()
        while time.time() < deadline:
            if any(r["status"] == "in_progress"
                   for r in srv.get_json("/status/" + ids[0])["results"]):
                break
            time.sleep(0.01)
        srv.stop_clean()
        with PPServer(data_dir=data_dir) as again:
            marked = [l for l in again.log_lines()
                      if "interrupted result" in str(l.get("message", ""))]
            for job_id in ids:
                self.assertIn(again.get_json("/status/" + job_id)["status"], TERMINAL)
        # A clean stop finishes its own results; nothing is left for the next start to recover.
        self.assertEqual(marked, [])


class NoModelsTests(unittest.TestCase):
    def test_no_models_configured(self):
        with PPServer({"MODEL_COUNT": "0"}) as srv:
            r = srv.request("POST", "/generate", {"prompt": "a red fox"})
            self.assertEqual(r.status, 503)
            self.assertEqual(r.json()["error"], "NO_MODELS_CONFIGURED")
            r = srv.request("POST", "/enhance", {"prompt": "a red fox"})
            self.assertEqual(r.status, 503)
            self.assertEqual(r.json()["error"], "ENHANCER_UNAVAILABLE")
            doc = srv.get_json("/models")
            self.assertEqual(doc["models"], [])
            self.assertFalse(doc["enhancer"]["available"])
            self.assertEqual(srv.get_json("/healthz")["models"], 0)


class CorsOriginsTests(unittest.TestCase):
    def test_listed_origins_only(self):
        with PPServer({"CORS_ORIGINS": "https://app.example,https://admin.example"}) as srv:
            r = srv.request("GET", "/healthz", headers={"Origin": "https://app.example"})
            self.assertEqual(r.header("Access-Control-Allow-Origin"), "https://app.example")
            self.assertIn("Origin", r.header("Vary"))
            r = srv.request("OPTIONS", "/generate", headers={"Origin": "https://admin.example"})
            self.assertEqual(r.status, 204)
            self.assertEqual(r.header("Access-Control-Allow-Origin"), "https://admin.example")
            for origin in ("https://evil.example", "https://app.example.evil", "null"):
                r = srv.request("GET", "/healthz", headers={"Origin": origin})
                self.assertIsNone(r.header("Access-Control-Allow-Origin"), origin)


class CliTests(unittest.TestCase):
    def test_bad_config_exits_2_naming_the_variable(self):
        data_dir = tempfile.mkdtemp(prefix="pp-int-cfg-")
        self.addCleanup(shutil.rmtree, data_dir, True)
        cases = [({"PORT": "abc"}, "PORT"), ({"PORT": "70000"}, "PORT"),
                 ({"STORE": "mysql"}, "STORE"), ({"MODEL_1_PROVIDER": "nope"}, "MODEL_1_PROVIDER"),
                 ({"MODEL_1_PROVIDER": "openai"}, "MODEL_1_ID"),
                 ({"STORE_CREATE": "maybe"}, "STORE_CREATE"),
                 ({"IP_INCLUDE": "not-an-ip"}, "IP_INCLUDE")]
        for env, var in cases:
            env = dict(env, DATA_DIR=data_dir)
            p = run_cli(["serve"], env=env, timeout=20)
            self.assertEqual(p.returncode, 2, "%r: %s" % (env, p.stderr))
            self.assertIn(var, p.stderr, env)
        p = run_cli(["check-config"], env={"PORT": "abc"})
        self.assertEqual(p.returncode, 2)
        self.assertIn("PORT", p.stderr)
        p = run_cli(["no-such-command"])
        self.assertEqual(p.returncode, 2)

    def test_check_config_masks_secrets(self):
        secrets = {"MODEL_1_KEY": "sk-zz9q-model-key-123456",
                   "AWS_SECRET_ACCESS_KEY": "aws-zz9q-secret-abcdef",
                   "AWS_SESSION_TOKEN": "aws-zz9q-session-xyz",
                   "QUOTA_HASH_KEY": "quota-zz9q-hash"}
        env = dict(secrets, MODEL_1_PROVIDER="openai", MODEL_1_ID="dall-e-3",
                   AWS_ACCESS_KEY_ID="AKIAEXAMPLE")
        p = run_cli(["check-config"], env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotIn("zz9q", p.stdout + p.stderr)
        doc = json.loads(p.stdout)
        self.assertEqual(doc["AWS_SECRET_ACCESS_KEY"], "********")
        self.assertEqual(doc["AWS_SESSION_TOKEN"], "********")
        self.assertEqual(doc["QUOTA_HASH_KEY"], "********")
        self.assertEqual(doc["models"][0]["key"], "********")
        self.assertEqual(doc["models"][0]["id"], "dall-e-3")
        self.assertEqual(doc["AWS_ACCESS_KEY_ID"], "AKIAEXAMPLE")

    def test_version(self):
        p = run_cli(["version"])
        self.assertEqual(p.returncode, 0)
        self.assertEqual(p.stdout.strip(), "pixelprompt " + version())

    def test_generate_command_writes_pngs(self):
        tmp = tempfile.mkdtemp(prefix="pp-int-cli-")
        self.addCleanup(shutil.rmtree, tmp, True)
        out = os.path.join(tmp, "out")
        p = run_cli(["generate", "a red fox", "--out", out],
                    env={"DATA_DIR": os.path.join(tmp, "data"), "DEMO_LATENCY_MS": "0",
                         "DEMO_IMAGE_SIZE": "64"})
        self.assertEqual(p.returncode, 0, p.stderr)
        pngs = sorted(n for n in os.listdir(out) if n.endswith(".png"))
        self.assertEqual(len(pngs), 4, os.listdir(out))
        for n in pngs:
            with open(os.path.join(out, n), "rb") as f:
                self.assertEqual(png_size(f.read()), (64, 64))
        self.assertEqual(len(p.stdout.split()), 4)
        self.assertEqual([n for n in os.listdir(out) if ".tmp-" in n], [])
        p = run_cli(["generate", "--out", out], env={"DATA_DIR": os.path.join(tmp, "data")})
        self.assertEqual(p.returncode, 2)


if __name__ == "__main__":
    unittest.main()
