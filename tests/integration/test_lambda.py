"""The Lambda front door (`pixelprompt lambda`) against a Lambda Runtime API and Invoke endpoint
written here from AWS's documented protocol (cloudutil.FakeLambda), with moto (SigV4 checked)
behind it for DynamoDB and S3: every route through the API Gateway v2.0 event format, the
asynchronous hand-off to a worker invocation, a worker that runs out of time, a foreign event,
a failed start (init/error), structured logs and EMF metrics.

PP_LAMBDA_CMD overrides the command (default: "$PP_BIN lambda").
"""

import base64
import json
import os
import shlex
import shutil
import subprocess
import tempfile
import threading
import time
import unittest
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cloudutil as cu

FUNCTION = "pp-GenerateFunction"


def lambda_cmd():
    cmd = os.environ.get("PP_LAMBDA_CMD")
    return shlex.split(cmd) if cmd else [cu.pp_bin(), "lambda"]


def lambda_supported():
    cmd = lambda_cmd()
    if not os.access(cmd[0], os.X_OK):
        return False, f"{cmd[0]} not built"
    if len(cmd) > 1 and cmd[-1] == "lambda":
        p = subprocess.run([cmd[0], "help"], capture_output=True, text=True)
        if "lambda" not in p.stdout + p.stderr:
            return False, "this build has no `lambda` command"
        # A build whose main.c does not dispatch `lambda` yet says "unknown command".
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=10,
                           env=cu.clean_env(AWS_LAMBDA_RUNTIME_API="127.0.0.1:1", STORE="nosuch"))
        if "unknown command" in p.stderr:
            return False, "main.c does not dispatch `lambda` yet"
    return True, ""


class FakeChat:
    """An OpenAI-compatible chat completions endpoint, so /enhance takes the deferred path."""

    def __init__(self):
        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                time.sleep(0.05)
                content = json.dumps({"short": "A red fox in fresh snow.",
                                      "long": "A red fox stands in fresh snow at dawn, its breath "
                                              "visible, soft golden light on the ridge."})
                body = json.dumps({"id": "x", "object": "chat.completion", "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": content},
                     "finish_reason": "stop"}]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class Function:
    """One `pixelprompt lambda` process (a sandbox) with its fake Runtime API."""

    def __init__(self, moto, table, bucket, secrets=None, feed_invokes=True, extra=None,
                 worker_timeout_ms=60000):
        self.fake = cu.FakeLambda(secrets or {moto.ak: moto.sk}, FUNCTION, feed_invokes,
                                  worker_timeout_ms)
        self.dir = tempfile.mkdtemp(prefix="pp-lambda-")
        self.out_path = os.path.join(self.dir, "stdout")
        self.err_path = os.path.join(self.dir, "stderr")
        env = cu.clean_env(**moto.env(table, bucket))
        env.update({"AWS_LAMBDA_RUNTIME_API": self.fake.api, "AWS_LAMBDA_FUNCTION_NAME": FUNCTION,
                    "AWS_ENDPOINT_URL_LAMBDA": self.fake.url, "DATA_DIR": self.dir,
                    "QUOTA_HASH_KEY": "lambda-test-key", "MODEL_COUNT": "2",
                    "MODEL_1_PROVIDER": "demo", "MODEL_1_ID": "demo-a",
                    "MODEL_2_PROVIDER": "demo", "MODEL_2_ID": "demo-b",
                    "DEMO_LATENCY_MS": "30", "DEMO_IMAGE_SIZE": "64", "LOG_LEVEL": "INFO"})
        env.update(extra or {})
        self.env = env
        self.t_exec = time.monotonic()
        self._out = open(self.out_path, "wb")
        self._err = open(self.err_path, "wb")
        self.proc = subprocess.Popen(lambda_cmd(), env=env, stdout=self._out, stderr=self._err)

    def invoke(self, event, timeout_ms=30000, wait=30):
        rid = self.fake.push(event, timeout_ms)
        return self.fake.wait(rid, wait)

    def http(self, method, path, body=None, **kw):
        kind, etype, raw = self.invoke(cu.apigw_event(method, path, body, **kw))
        assert kind == "response", (kind, etype, raw)
        doc = json.loads(raw)
        payload = doc.get("body", "")
        data = base64.b64decode(payload) if doc.get("isBase64Encoded") else payload.encode()
        return doc["statusCode"], {k.lower(): v for k, v in doc.get("headers", {}).items()}, data, doc

    def stdout(self):
        with open(self.out_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stderr(self):
        with open(self.err_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._out.close()
        self._err.close()
        self.fake.stop()
        if not os.environ.get("PP_KEEP_LOGS"):
            shutil.rmtree(self.dir, ignore_errors=True)


def wait_job(fn, job_id, timeout=30):
    end = time.time() + timeout
    while True:
        st, _, data, _ = fn.http("GET", f"/status/{job_id}")
        doc = json.loads(data)
        if doc["status"] not in ("pending", "in_progress") or time.time() > end:
            return doc
        time.sleep(0.1)


_ok, _why = lambda_supported()


@unittest.skipUnless(_ok, _why)
class LambdaFrontDoor(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not cu.moto_python():
            raise unittest.SkipTest("moto not installed")
        cls.moto = cu.Moto().start()
        n = uuid.uuid4().hex[:8]
        cls.table, cls.bucket = f"pp-lambda-{n}", f"pp-lambda-{n}"
        cu.create_layout(cls.moto, cls.table, cls.bucket)
        cls.chat = FakeChat()
        cls.fn = Function(cls.moto, cls.table, cls.bucket, extra={
            "MODEL_COUNT": "3", "MODEL_3_PROVIDER": "openai_compatible", "MODEL_3_ID": "chat-1",
            "MODEL_3_BASE_URL": cls.chat.url, "PROMPT_MODEL_INDEX": "3", "IP_LIMIT": "5",
            "MAX_BODY_BYTES": "65536"})

    @classmethod
    def tearDownClass(cls):
        cls.fn.stop()
        cls.chat.stop()
        cls.moto.stop()

    def generate(self, prompt="a red fox in the snow", ip="203.0.113.7", **kw):
        return self.fn.http("POST", "/generate", {"prompt": prompt, "models": ["demo-a", "demo-b"]},
                            source_ip=ip, **kw)

    def test_generate_hands_off_and_worker_completes(self):
        before = len(self.fn.fake.invokes)
        st, h, data, _ = self.generate(headers={"X-Correlation-ID": "corr-123"})
        self.assertEqual(st, 200, data)
        self.assertEqual(h["x-correlation-id"], "corr-123")
        self.assertEqual(h["access-control-allow-origin"], "*")
        job = json.loads(data)
        self.assertEqual(job["message"], "Job created successfully")
        self.assertEqual(job["totalModels"], 2)
        # The hand-off: one Event invocation of this function, SigV4-signed for "lambda".
        self.fn.fake.wait_for(lambda: len(self.fn.fake.invokes) > before, 10)
        headers, body, verdict = self.fn.fake.invokes[before]
        self.assertEqual(verdict, "ok")
        self.assertEqual(headers["x-amz-invocation-type"], "Event")
        self.assertIn(f"/{cu.REGION}/lambda/aws4_request", headers["authorization"])
        self.assertEqual(json.loads(body), {"pixelprompt": "run-job", "jobId": job["jobId"]})
        doc = wait_job(self.fn, job["jobId"])
        self.assertEqual(doc["status"], "completed", doc)
        self.assertEqual(doc["completedModels"], 2)
        # EMF metrics for the job and each model, on stdout.
        lines = [json.loads(l) for l in self.fn.stdout().splitlines() if l.startswith("{")]
        emf = [l for l in lines if "_aws" in l and l.get("jobId") == job["jobId"]]
        self.assertEqual(sorted(l.get("Model", "-") for l in emf), ["-", "demo-a", "demo-b"], emf)
        for l in emf:
            self.assertEqual(l["_aws"]["CloudWatchMetrics"][0]["Namespace"], "PixelPrompt")
            for m in l["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
                self.assertIn(m["Name"], l)

    def test_every_route(self):
        fn = self.fn
        st, h, data, _ = fn.http("OPTIONS", "/generate")
        self.assertEqual(st, 204)
        self.assertEqual(h["access-control-max-age"], "86400")
        st, _, data, _ = fn.http("GET", "/healthz")
        self.assertEqual(st, 200, data)
        self.assertEqual(json.loads(data)["status"], "ok")
        st, _, data, _ = fn.http("GET", "/models")
        self.assertEqual(st, 200)
        self.assertIn("demo-a", data.decode())
        self.assertNotIn("lambda-test-key", data.decode())

        st, _, data, _ = self.generate("a lighthouse at night")
        job_id = json.loads(data)["jobId"]
        doc = wait_job(fn, job_id)
        self.assertEqual(doc["status"], "completed")
        st, h, data, _ = fn.http("GET", f"/status/{job_id}/events")
        self.assertEqual(st, 200)
        self.assertTrue(h["content-type"].startswith("text/event-stream"))
        text = data.decode()
        self.assertIn("retry: 2000", text)
        self.assertEqual(text.count("event: job"), 1)  # one event, then closed
        self.assertIn('"status":"completed"', text)

        st, _, data, _ = fn.http("GET", "/gallery/list", query="limit=5")
        self.assertEqual(st, 200)
        gl = json.loads(data)
        self.assertIn(job_id, [g["id"] for g in gl["galleries"]])
        self.assertGreaterEqual(gl["total"], 1)
        st, _, data, _ = fn.http("GET", f"/gallery/{job_id}")
        images = json.loads(data)["images"]
        self.assertEqual(len(images), 2)
        # Image bytes go back base64 with isBase64Encoded.
        url = doc["results"][0]["imageUrl"]
        path = "/images/" + url.split("/images/", 1)[1]
        st, h, img, raw = fn.http("GET", path)
        self.assertEqual(st, 200, img[:200])
        self.assertTrue(raw["isBase64Encoded"])
        self.assertTrue(img.startswith(b"\x89PNG") or img[:4] == b"RIFF" or img[:2] == b"\xff\xd8")
        thumb = doc["results"][0]["thumbnailUrl"]
        st, h, t, raw = fn.http("GET", "/thumbs/" + thumb.split("/thumbs/", 1)[1])
        self.assertEqual(st, 200)
        self.assertEqual(t[:4], b"RIFF")
        st, _, data, _ = fn.http("GET", f"/gallery/{job_id}/zip")
        self.assertEqual(st, 200)
        self.assertEqual(data[:2], b"PK")

        st, _, data, _ = fn.http("POST", f"/cancel/{job_id}")
        self.assertEqual(st, 200)
        self.assertEqual(json.loads(data)["status"], "completed")  # nothing left to cancel

        st, _, data, _ = fn.http("POST", "/enhance", {"prompt": "fox"})
        self.assertEqual(st, 200, data)
        e = json.loads(data)
        self.assertEqual(e["original"], "fox")
        self.assertIn("fox", e["enhanced"])

        st, _, data, _ = fn.http("POST", "/log", {"level": "info", "message": "hello from test"})
        self.assertEqual(json.loads(data), {"success": True, "message": "Log received successfully"})
        st, h, data, _ = fn.http("GET", "/metrics")
        self.assertEqual(st, 200)
        st, h, data, _ = fn.http("GET", "/")
        self.assertEqual(st, 200)
        self.assertIn("text/html", h["content-type"])
        st, _, data, _ = fn.http("GET", "/nope")
        self.assertEqual(st, 404)
        self.assertEqual(json.loads(data)["error"], "Not found")
        st, _, data, _ = fn.http("GET", f"/status/{uuid.uuid4()}")
        self.assertEqual(json.loads(data)["error"], "JOB_NOT_FOUND")

    def test_event_details(self):
        fn = self.fn
        # A named stage puts its name in rawPath.
        st, _, data, _ = fn.http("GET", "/healthz", stage="prod")
        self.assertEqual(st, 200, data)
        # A base64 body (API Gateway encodes bodies it does not take for text).
        st, _, data, _ = fn.http("POST", "/generate",
                                 {"prompt": "a boat", "models": ["demo-a"]}, b64=True,
                                 source_ip="198.51.100.20")
        self.assertEqual(st, 200, data)
        st, _, data, _ = fn.http("POST", "/generate", "{not json", source_ip="198.51.100.20")
        self.assertEqual(st, 400)
        self.assertEqual(json.loads(data)["error"], "INVALID_JSON")
        st, _, data, _ = fn.http("POST", "/generate", "x" * 100000, source_ip="198.51.100.20")
        self.assertEqual(st, 413, data)
        # Cookies arrive in their own field; the request still works.
        st, _, _, _ = fn.http("GET", "/models", cookies=["a=1", "b=2"])
        self.assertEqual(st, 200)
        # Query strings are decoded.
        st, _, data, _ = fn.http("GET", "/gallery/list", query="limit=1&cursor=")
        self.assertEqual(st, 200)
        self.assertLessEqual(len(json.loads(data)["galleries"]), 1)

    def test_source_ip_is_the_client(self):
        # IP_LIMIT=5 per day: the 6th from one sourceIp is refused whatever X-Forwarded-For says.
        ip = "192.0.2.%d" % (int(uuid.uuid4().int % 200) + 1)
        codes = []
        for i in range(6):
            st, h, data, _ = self.generate(f"quota {i}", ip=ip,
                                           headers={"X-Forwarded-For": f"10.0.0.{i}"})
            codes.append(st)
        self.assertEqual(codes, [200] * 5 + [429], codes)
        self.assertIn("retry-after", h)
        st, _, _, _ = self.generate("another client", ip="192.0.2.250")
        self.assertEqual(st, 200)

    def test_foreign_event_is_reported_and_the_loop_goes_on(self):
        kind, etype, body = self.fn.invoke({"Records": [{"eventSource": "aws:s3"}]})
        self.assertEqual(kind, "error")
        self.assertEqual(etype, "UnsupportedEvent")
        self.assertEqual(json.loads(body)["errorType"], "UnsupportedEvent")
        kind, etype, body = self.fn.invoke({"pixelprompt": "run-job", "jobId": "../etc"})
        self.assertEqual(kind, "error")
        st, _, _, _ = self.fn.http("GET", "/healthz")
        self.assertEqual(st, 200)
        # A run-job for a job that does not exist is a success (no pointless Lambda retries).
        kind, _, body = self.fn.invoke({"pixelprompt": "run-job", "jobId": str(uuid.uuid4())})
        self.assertEqual(kind, "response")
        self.assertEqual(json.loads(body)["status"], "not_found")

    def test_logs_are_json_and_hold_no_secret(self):
        self.fn.http("GET", "/healthz")
        err = self.fn.stderr()
        lines = [l for l in err.splitlines() if l.strip()]
        self.assertTrue(lines)
        for l in lines:
            json.loads(l)  # every line is one JSON object
        self.assertTrue(any('"requestId"' in l for l in lines))
        for text in (err, self.fn.stdout()):
            self.assertNotIn(self.moto.sk, text)
            self.assertNotIn("lambda-test-key", text)


@unittest.skipUnless(_ok, _why)
class LambdaWorkerDeadline(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not cu.moto_python():
            raise unittest.SkipTest("moto not installed")
        cls.moto = cu.Moto().start()
        n = uuid.uuid4().hex[:8]
        cls.table, cls.bucket = f"pp-slow-{n}", f"pp-slow-{n}"
        cu.create_layout(cls.moto, cls.table, cls.bucket)

    @classmethod
    def tearDownClass(cls):
        cls.moto.stop()

    def test_worker_out_of_time_marks_unfinished_models(self):
        fn = Function(self.moto, self.table, self.bucket, feed_invokes=False,
                      extra={"DEMO_LATENCY_MS": "20000"})
        try:
            st, _, data, _ = fn.http("POST", "/generate", {"prompt": "slow fox"})
            self.assertEqual(st, 200, data)
            job_id = json.loads(data)["jobId"]
            fn.fake.wait_for(lambda: fn.fake.invokes, 10)
            event = json.loads(fn.fake.invokes[0][1])
            # Only 4 s left in the invocation: the worker must finish (marking errors) in time.
            t0 = time.time()
            kind, _, body = fn.invoke(event, timeout_ms=4000)
            took = time.time() - t0
            self.assertEqual(kind, "response", body)
            self.assertLess(took, 4.0)
            self.assertEqual(json.loads(body)["status"], "failed")
            doc = wait_job(fn, job_id, 1)
            self.assertEqual(doc["status"], "failed")
            for r in doc["results"]:
                self.assertEqual(r["status"], "error")
                self.assertTrue(r["error"])
        finally:
            fn.stop()

    def test_refused_invoke_is_unavailable_not_a_stuck_job(self):
        fn = Function(self.moto, self.table, self.bucket, secrets={self.moto.ak: "not-the-secret"})
        try:
            st, h, data, _ = fn.http("POST", "/generate", {"prompt": "nobody runs me"})
            self.assertEqual(st, 503, data)
            self.assertEqual(json.loads(data)["error"], "SERVICE_UNAVAILABLE")
            self.assertIn("retry-after", h)
            self.assertEqual(fn.fake.invokes[0][2], "signature mismatch")
        finally:
            fn.stop()

    def test_init_error_is_reported(self):
        fn = Function(self.moto, self.table, self.bucket, extra={"DYNAMODB_TABLE": "x"})
        try:
            fn.fake.wait_for(lambda: fn.fake.init_errors, 10)
            etype, body = fn.fake.init_errors[0]
            self.assertIn("DYNAMODB_TABLE", json.loads(body)["errorMessage"])
            self.assertTrue(etype)
            self.assertNotEqual(fn.proc.wait(10), 0)
        finally:
            fn.stop()


if __name__ == "__main__":
    unittest.main()
