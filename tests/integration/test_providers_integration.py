"""Integration: the real binary (PP_BIN, default build/pixelprompt) against the fake providers in
tests/fakes, all on loopback.

* one job across all ten providers at once, every model completed, images served;
* one job where every model meets a different fault (slow, 429 + Retry-After, 500 then success,
  malformed JSON, HTML instead of an image, truncated body, an image over the size cap, BFL
  moderation statuses, Gemini safety blocks, a hung server...), each reaching its right terminal
  state, the whole job within MODEL_TIMEOUT_S, and no key in any error text;
* 500 provider calls in flight at once with a constant number of threads;
* POST /enhance with every enhancer and each failure code.

Python standard library only. The enhancement-deadline test takes about 25 s.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "fakes"))

import common  # noqa: E402
import fake_automatic1111  # noqa: E402
import fake_bedrock  # noqa: E402
import fake_bfl  # noqa: E402
import fake_gemini  # noqa: E402
import fake_imagen  # noqa: E402
import fake_openai  # noqa: E402
import fake_openai_compatible  # noqa: E402
import fake_recraft  # noqa: E402
import fake_stability  # noqa: E402

PP_BIN = os.environ.get("PP_BIN") or os.path.join(ROOT, "build", "pixelprompt")
KEY = "sk-integration-secret-0123456789"
AWS_SECRET = "integration/aws/secret/key/0123456789abcdef"
TERMINAL = {"completed", "partial", "failed", "cancelled"}

FAKES = {
    "openai": fake_openai, "gemini": fake_gemini, "imagen": fake_imagen, "bedrock_nova": fake_bedrock,
    "bedrock_sd": fake_bedrock, "stability": fake_stability, "bfl": fake_bfl, "recraft": fake_recraft,
    "openai_compatible": fake_openai_compatible, "automatic1111": fake_automatic1111,
}
DEFAULT_IDS = {
    "openai": "dall-e-3", "gemini": "gemini-2.5-flash-image", "imagen": "imagen-4.0-generate-001",
    "bedrock_nova": "amazon.nova-canvas-v1:0", "bedrock_sd": "stability.sd3-5-large-v1:0",
    "stability": "sd3.5-large", "bfl": "flux-pro-1.1", "recraft": "recraftv3",
    "openai_compatible": "sd-local", "automatic1111": "sdxl",
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fake(provider, faults="", latency_ms=0):
    """A fresh fake server for one provider, with faults applied to every request."""
    srv = FAKES[provider].make_server()
    srv.state.default_faults = common.parse_faults(faults)
    srv.state.latency_ms = latency_ms
    return srv.start()


class Binary:
    """One `pixelprompt serve` process with its own data directory and configuration."""

    def __init__(self, slots, extra=None):
        self.dir = tempfile.mkdtemp(prefix="pp-int-")
        self.port = free_port()
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("MODEL_", "AWS_", "PROMPT_", "ENHANCE_", "PP_"))}
        env.update({
            "PORT": str(self.port), "BIND": "127.0.0.1", "DATA_DIR": self.dir, "STORE": "sqlite",
            "BLOBS": "fs", "GLOBAL_LIMIT": "1000000", "IP_LIMIT": "1000000", "ENHANCE_IP_LIMIT": "1000000",
            "LOG_LEVEL": "WARNING", "MODEL_TIMEOUT_S": "20", "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": AWS_SECRET,
            "MODEL_COUNT": str(len(slots)),
        })
        for i, s in enumerate(slots, 1):
            env[f"MODEL_{i}_PROVIDER"] = s["provider"]
            env[f"MODEL_{i}_ID"] = s.get("id", DEFAULT_IDS.get(s["provider"], "demo"))
            env[f"MODEL_{i}_NAME"] = s.get("name", f"slot-{i}")
            env[f"MODEL_{i}_KEY"] = s.get("key", KEY)
            if s.get("base_url"):
                env[f"MODEL_{i}_BASE_URL"] = s["base_url"]
        env.update(extra or {})
        self.log = open(os.path.join(self.dir, "server.log"), "w+b")
        self.proc = subprocess.Popen([PP_BIN, "serve"], env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                self.fail_start("pixelprompt exited at start")
            try:
                if self.request("GET", "/healthz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        self.fail_start("pixelprompt did not become healthy")

    def fail_start(self, why):
        tail = self.log_tail()
        self.stop()
        raise RuntimeError(f"{why}:\n{tail}")

    def log_tail(self, n=4000):
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")[-n:]

    def request(self, method, path, body=None, timeout=60):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"} if data else {})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                raw, status, ctype = r.read(), r.status, r.headers.get("Content-Type", "")
        except urllib.error.HTTPError as e:
            raw, status, ctype = e.read(), e.code, e.headers.get("Content-Type", "")
        if ctype.startswith("application/json"):
            return status, json.loads(raw)
        return status, raw

    def generate(self, prompt):
        status, doc = self.request("POST", "/generate", {"prompt": prompt})
        if status != 200:
            raise AssertionError(f"POST /generate -> {status} {doc}")
        return doc["jobId"]

    def wait(self, job_id, timeout):
        deadline = time.time() + timeout
        while True:
            status, doc = self.request("GET", f"/status/{job_id}")
            if status == 200 and doc["status"] in TERMINAL:
                return doc
            if time.time() > deadline:
                raise AssertionError(f"job {job_id} not terminal after {timeout}s: {json.dumps(doc)[:2000]}")
            time.sleep(0.1)

    def threads(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("Threads:"):
                    return int(line.split()[1])
        return -1

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def by_name(doc):
    return {r["name"]: r for r in doc["results"]}


@unittest.skipUnless(os.access(PP_BIN, os.X_OK), f"no binary at {PP_BIN} (set PP_BIN)")
class ProvidersIntegration(unittest.TestCase):
    maxDiff = None

    def start(self, slots, **extra):
        b = Binary(slots, {k: str(v) for k, v in extra.items()})
        self.addCleanup(b.stop)
        return b

    def fake(self, provider, faults="", latency_ms=0):
        srv = fake(provider, faults, latency_ms)
        self.addCleanup(srv.server_close)
        self.addCleanup(srv.shutdown)
        return srv

    def assert_no_secrets(self, doc):
        text = json.dumps(doc)
        self.assertNotIn(KEY, text)
        self.assertNotIn(AWS_SECRET, text)

    # ------------------------------------------------------------------ all providers

    def test_all_ten_providers_in_one_job(self):
        servers = {p: self.fake(p) for p in FAKES if p != "bedrock_sd"}
        servers["bedrock_sd"] = servers["bedrock_nova"]
        slots = [{"provider": p, "base_url": servers[p].base_url, "name": p} for p in FAKES]
        b = self.start(slots)
        job = b.generate("a red fox in snow, watercolour")
        doc = b.wait(job, 30)
        self.assertEqual(doc["status"], "completed", json.dumps(doc, indent=1))
        self.assertEqual(doc["totalModels"], 10)
        self.assertEqual(doc["completedModels"], 10)
        for name, r in by_name(doc).items():
            self.assertEqual(r["status"], "completed", f"{name}: {r.get('error')}")
            self.assertEqual((r["width"], r["height"]), (64, 64), name)
            status, body = b.request("GET", r["imageUrl"]) if r["imageUrl"].startswith("/") else (None, None)
            if status is not None:
                self.assertEqual(status, 200, name)
                self.assertTrue(body.startswith(b"\x89PNG"), name)
        self.assertEqual(servers["bfl"].state.key_leaks, 0, "the BFL key went to the sample URL")
        self.assertEqual(servers["openai"].state.key_leaks, 0, "the OpenAI key went to the download URL")
        self.assertGreaterEqual(servers["bfl"].state.paths.get("/v1/get_result", 0), 1)

    # ------------------------------------------------------------------ faults

    def test_every_fault_mode_reaches_its_terminal_state_within_the_deadline(self):
        common.png("huge")  # build the 31 MB image before the clock starts
        timeout_s = 12
        plan = [
            # (provider, faults, expected status, substrings of the error)
            ("openai_compatible", "[fault:slow=2000]", "completed", []),
            ("openai", "[fault:429=2]", "completed", []),
            ("recraft", "[fault:500=1]", "completed", []),
            ("automatic1111", "[fault:500=2]", "completed", []),
            ("automatic1111", "[fault:malformed]", "error", ["not JSON"]),
            ("openai_compatible", "[fault:html]", "error", []),
            ("stability", "[fault:truncated]", "error", []),
            ("imagen", "[fault:huge]", "error", []),
            ("bfl", "[fault:moderated]", "error", ["Content Moderated"]),
            ("bfl", "[fault:request_moderated]", "error", ["Request Moderated"]),
            ("bfl", "[fault:task_not_found]", "error", ["task not found"]),
            ("bfl", "[fault:bfl_error]", "error", ["generation failed"]),
            ("gemini", "[fault:safety]", "error", ["IMAGE_SAFETY"]),
            ("gemini", "[fault:blocked]", "error", ["PROHIBITED_CONTENT"]),
            ("gemini", f"[fault:hang={(timeout_s + 10) * 1000}]", "error", []),
            ("bedrock_nova", "[fault:safety]", "error", ["content filters"]),
            ("bedrock_sd", "[fault:safety]", "error", ["Filter reason"]),
            ("openai", "[fault:401]", "error", ["HTTP 401"]),
            ("stability", "[fault:safety]", "error", ["content_moderation"]),
        ]
        # Model ids must be unique; the fakes accept any id except Stability's (a fixed list).
        fixed_ids = {("openai", "[fault:401]"): "gpt-image-1", ("stability", "[fault:safety]"): "sd3.5-medium"}
        slots = []
        for i, (provider, faults, _, _) in enumerate(plan, 1):
            srv = self.fake(provider, faults)
            ident = fixed_ids.get((provider, faults)) or DEFAULT_IDS[provider]
            if provider not in ("openai", "stability") and (provider, faults) not in fixed_ids:
                ident = f"{ident}-{i}"
            slots.append({"provider": provider, "id": ident, "base_url": srv.base_url,
                          "name": f"{i:02d}-{provider}"})
        b = self.start(slots, MODEL_TIMEOUT_S=timeout_s)
        t0 = time.time()
        job = b.generate("a lighthouse at dusk")
        doc = b.wait(job, timeout_s + 10)
        elapsed = time.time() - t0
        self.assertLessEqual(elapsed, timeout_s + 3, f"job took {elapsed:.1f}s")
        self.assertEqual(doc["status"], "partial")
        results = by_name(doc)
        for i, (provider, faults, want, contains) in enumerate(plan, 1):
            r = results[f"{i:02d}-{provider}"]
            with self.subTest(provider=provider, faults=faults):
                self.assertEqual(r["status"], want, f"{provider} {faults}: {r.get('error')}")
                for s in contains:
                    self.assertIn(s, r.get("error") or "")
                if want == "error":
                    self.assertLess(len(r["error"]), 300)
        self.assert_no_secrets(doc)

    # ------------------------------------------------------------------ concurrency

    def test_500_calls_in_flight_with_a_constant_thread_count(self):
        latency = 4000
        srv = self.fake("automatic1111", latency_ms=latency)
        slots = [{"provider": "automatic1111", "id": f"sdxl-{i}", "base_url": srv.base_url, "name": f"m{i:02d}"}
                 for i in range(20)]
        b = self.start(slots, MODEL_TIMEOUT_S=60)
        warm = b.generate("warm up")
        self.assertEqual(b.wait(warm, 30)["status"], "completed")
        baseline = b.threads()
        srv.state.reset()
        srv.state.latency_ms = latency
        jobs = [b.generate(f"load test {i}") for i in range(25)]  # 25 jobs x 20 models = 500 calls
        peak_threads = baseline
        end = time.time() + latency / 1000.0 + 20
        while time.time() < end:
            peak_threads = max(peak_threads, b.threads())
            if srv.state.max_in_flight >= 500 and srv.state.in_flight == 0:
                break
            time.sleep(0.05)
        docs = [b.wait(j, 60) for j in jobs]
        self.assertTrue(all(d["status"] == "completed" for d in docs),
                        [(d["status"], [r.get("error") for r in d["results"] if r["status"] != "completed"][:3])
                         for d in docs if d["status"] != "completed"][:3])
        self.assertEqual(srv.state.max_in_flight, 500, "not every provider call was in flight at once")
        self.assertEqual(peak_threads, baseline, "the thread count grew with the number of transfers")

    # ------------------------------------------------------------------ enhancement

    def enhance_slots(self):
        oa, gm, bd, oc = self.fake("openai"), self.fake("gemini"), self.fake("bedrock_nova"), self.fake("openai_compatible")
        return [
            {"provider": "openai", "id": "gpt-4o-mini", "base_url": oa.base_url},
            {"provider": "gemini", "id": "gemini-2.5-flash", "base_url": gm.base_url},
            {"provider": "bedrock_nova", "id": "amazon.nova-lite-v1:0", "base_url": bd.base_url},
            {"provider": "openai_compatible", "id": "llama3.1:8b", "key": "", "base_url": oc.base_url},
            {"provider": "demo", "id": "demo", "key": ""},
            {"provider": "openai", "id": "dall-e-3", "base_url": oa.base_url},
            {"provider": "recraft", "id": "recraftv3", "base_url": oa.base_url},
        ]

    def test_enhance_with_every_enhancer(self):
        slots = self.enhance_slots()
        for index in (1, 2, 3, 4, 5):
            with self.subTest(enhancer=slots[index - 1]["provider"]):
                b = Binary(slots, {"PROMPT_MODEL_INDEX": str(index)})
                try:
                    status, doc = b.request("POST", "/enhance", {"prompt": "a red fox in snow"})
                    self.assertEqual(status, 200, doc)
                    self.assertEqual(doc["original"], "a red fox in snow")
                    self.assertNotEqual(doc["short_prompt"], doc["long_prompt"])
                    self.assertEqual(doc["enhanced"], doc["long_prompt"])
                    self.assertIn("fox", doc["short_prompt"].lower())
                finally:
                    b.stop()

    def test_enhance_failure_codes(self):
        slots = self.enhance_slots()
        for index in (6, 7, 0):  # an image model, a provider without chat, none (0)
            with self.subTest(index=index):
                b = Binary(slots, {"PROMPT_MODEL_INDEX": str(index)})
                try:
                    status, doc = b.request("POST", "/enhance", {"prompt": "a red fox"})
                    self.assertEqual(status, 503, doc)
                    self.assertEqual(doc["error"], "ENHANCER_UNAVAILABLE")
                finally:
                    b.stop()
        b = self.start(slots, PROMPT_MODEL_INDEX=1)
        for prompt in ("a fox [fault:401]", "a fox [fault:same]", "a fox [fault:safety]",
                       "a fox [fault:malformed]", "a fox [fault:500=9]"):
            with self.subTest(prompt=prompt):
                status, doc = b.request("POST", "/enhance", {"prompt": prompt})
                self.assertEqual(status, 502, doc)
                self.assertEqual(doc["error"], "ENHANCE_FAILED")
                self.assert_no_secrets(doc)
        status, doc = b.request("POST", "/enhance", {"prompt": "a fox [fault:429=1]"})
        self.assertEqual(status, 200, doc)  # one 429 with Retry-After is retried

    def test_enhance_deadline_is_under_api_gateway_timeout(self):
        b = self.start(self.enhance_slots(), PROMPT_MODEL_INDEX=1)
        t0 = time.time()
        status, doc = b.request("POST", "/enhance", {"prompt": "a fox [fault:hang=40000]"}, timeout=40)
        self.assertEqual(status, 502, doc)
        self.assertLess(time.time() - t0, 29)

    # ------------------------------------------------------------------ SigV4 as AWS checks it

    # AWS canonicalises a non-S3 request path by URI-encoding the (already encoded) path once more
    # ("amazon.nova-canvas-v1%3A0" -> "%253A0"). curl 7.88's CURLOPT_AWS_SIGV4 signs the path as
    # sent, so the engine signs with src/util/sigv4.c; the fake verifies the way AWS does.
    def test_bedrock_signatures_verify_like_aws(self):
        srv = self.fake("bedrock_nova")
        srv.state.tasks["aws_secret"] = AWS_SECRET
        b = self.start([{"provider": "bedrock_nova", "base_url": srv.base_url, "name": "nova"},
                        {"provider": "bedrock_sd", "base_url": srv.base_url, "name": "sd"}])
        doc = b.wait(b.generate("a red fox"), 30)
        self.assertEqual(srv.state.counters.get("signature_mismatch", 0), 0, json.dumps(doc))
        self.assertEqual(doc["status"], "completed")

    def test_bedrock_requests_carry_sigv4(self):
        srv = self.fake("bedrock_nova")
        b = self.start([{"provider": "bedrock_nova", "base_url": srv.base_url, "name": "nova"}])
        doc = b.wait(b.generate("a red fox"), 30)
        self.assertEqual(doc["status"], "completed", json.dumps(doc))
        last = [r for r in srv.state.last if r["path"].endswith("/invoke")][-1]
        auth = last["headers"].get("Authorization", "")
        self.assertRegex(auth, r"^AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/\d{8}/us-east-1/bedrock/aws4_request")
        self.assertIn("/model/amazon.nova-canvas-v1%3A0/invoke", last["path"])


if __name__ == "__main__":
    unittest.main()
