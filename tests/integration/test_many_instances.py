"""Many `serve` instances sharing one DynamoDB table and one S3 bucket (moto, SigV4 checked):
a job made on one is followed live on the other (status and SSE), the gallery is the same on both,
IP_LIMIT holds across instances under concurrency, an instance killed mid-job leaves no job
unfinished, and a store outage answers 503 with Retry-After.
"""

import concurrent.futures
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
import urllib.request
import uuid

import cloudutil as cu

HAVE_BIN = os.access(cu.pp_bin(), os.X_OK)


class Instance:
    def __init__(self, moto, table, bucket, **extra):
        self.port = cu.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.dir = tempfile.mkdtemp(prefix="pp-inst-")
        env = cu.clean_env(**moto.env(table, bucket))
        env.update({"PORT": str(self.port), "BIND": "127.0.0.1", "DATA_DIR": self.dir,
                    "STORE_CREATE": "1", "QUOTA_HASH_KEY": "shared-by-every-instance",
                    "TRUSTED_PROXIES": "127.0.0.1", "MODEL_COUNT": "2",
                    "MODEL_1_PROVIDER": "demo", "MODEL_1_ID": "demo-a",
                    "MODEL_2_PROVIDER": "demo", "MODEL_2_ID": "demo-b",
                    "DEMO_LATENCY_MS": "400", "DEMO_IMAGE_SIZE": "64", "IP_LIMIT": "50",
                    "GLOBAL_LIMIT": "100000"})
        env.update({k: str(v) for k, v in extra.items()})
        self.log = open(os.path.join(self.dir, "log"), "wb")
        self.proc = subprocess.Popen([cu.pp_bin(), "serve"], env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        if not cu.wait_port(self.port, 20, self.proc):
            self.stop()
            raise RuntimeError("instance did not start: " + self.logtext()[-2000:])

    def logtext(self):
        with open(os.path.join(self.dir, "log"), "rb") as f:
            return f.read().decode(errors="replace")

    def req(self, method, path, body=None, ip="203.0.113.1", timeout=30):
        data = json.dumps(body).encode() if body is not None else b""
        h = {"X-Forwarded-For": ip}
        if body is not None:
            h["Content-Type"] = "application/json"
        st, headers, out = cu.http(method, self.url + path, data, h, timeout)
        try:
            return st, headers, json.loads(out)
        except ValueError:
            return st, headers, out

    def generate(self, prompt, ip, models=("demo-a", "demo-b")):
        return self.req("POST", "/generate", {"prompt": prompt, "models": list(models)}, ip)

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        if not os.environ.get("PP_KEEP_LOGS"):
            shutil.rmtree(self.dir, ignore_errors=True)


def wait_status(inst, job_id, done, timeout=30, ip="203.0.113.1"):
    end = time.time() + timeout
    while True:
        st, _, doc = inst.req("GET", f"/status/{job_id}", ip=ip)
        if st == 200 and done(doc):
            return doc
        if time.time() > end:
            raise AssertionError(f"status never matched: {st} {doc}")
        time.sleep(0.1)


def terminal(doc):
    return doc["status"] in ("completed", "partial", "failed", "cancelled")


def unique_ip():
    n = uuid.uuid4().int
    return f"198.18.{n % 250 + 1}.{(n >> 8) % 250 + 1}"


@unittest.skipUnless(HAVE_BIN, f"{cu.pp_bin()} not built")
class ManyInstances(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not cu.moto_python():
            raise unittest.SkipTest("moto not installed")
        cls.moto = cu.Moto().start()
        n = uuid.uuid4().hex[:8]
        cls.table, cls.bucket = f"pp-many-{n}", f"pp-many-{n}"
        # Both start at once: both find the table missing; one creates it, the other waits for it.
        with concurrent.futures.ThreadPoolExecutor(2) as ex:
            a, b = ex.map(lambda _: Instance(cls.moto, cls.table, cls.bucket), range(2))
        cls.a, cls.b = a, b

    @classmethod
    def tearDownClass(cls):
        cls.a.stop()
        cls.b.stop()
        cls.moto.stop()

    def test_job_is_followed_on_the_other_instance(self):
        ip = unique_ip()
        st, _, created = self.a.generate("a lighthouse in a storm", ip)
        self.assertEqual(st, 200, created)
        job_id = created["jobId"]
        # SSE on B while A works: documents arrive as the results change, closed at the end.
        events = []
        with urllib.request.urlopen(f"{self.b.url}/status/{job_id}/events", timeout=30) as r:
            self.assertTrue(r.headers["Content-Type"].startswith("text/event-stream"))
            for line in r:
                line = line.decode().rstrip("\n")
                if line.startswith("data: "):
                    events.append(json.loads(line[6:]))
        self.assertGreaterEqual(len(events), 2, events)
        self.assertIn(events[0]["status"], ("pending", "in_progress"))
        self.assertEqual(events[-1]["status"], "completed")
        doc = wait_status(self.b, job_id, terminal)
        self.assertEqual(doc["completedModels"], 2)
        # The image A stored is served by B.
        key = doc["results"][0]["imageUrl"].split("/images/", 1)[1]
        st, h, data = cu.http("GET", f"{self.b.url}/images/{key}")
        self.assertEqual(st, 200)
        self.assertEqual(h["content-type"], "image/png")
        self.assertEqual(data[:4], b"\x89PNG")
        # ... and sits in S3 with its type and the immutable cache policy.
        st, h, _ = self.moto.s3("HEAD", f"/{self.bucket}/images/{key}")
        self.assertEqual(st, 200)
        self.assertEqual(h["content-type"], "image/png")
        self.assertEqual(h["cache-control"], "public, max-age=31536000, immutable")
        # Cancel on B of A's finished job changes nothing.
        st, _, after = self.b.req("POST", f"/cancel/{job_id}")
        self.assertEqual(after["status"], "completed")

    def test_gallery_is_the_same_on_both(self):
        ip = unique_ip()
        ids = []
        for i, inst in enumerate((self.a, self.b, self.a)):
            st, _, created = inst.generate(f"gallery picture {i}", ip, models=("demo-a",))
            self.assertEqual(st, 200, created)
            ids.append(created["jobId"])
        for job_id in ids:
            wait_status(self.a, job_id, terminal)
        st, _, ga = self.a.req("GET", "/gallery/list?limit=50")
        st, _, gb = self.b.req("GET", "/gallery/list?limit=50")
        self.assertEqual(ga, gb)
        listed = [g["id"] for g in ga["galleries"]]
        for job_id in ids:
            self.assertIn(job_id, listed)
        self.assertEqual(listed, sorted(listed, reverse=True))  # newest first (UUIDv7 ids)
        # Paging with the cursor gives the same sequence on either instance.
        seen, cursor, inst = [], None, 0
        while True:
            path = "/gallery/list?limit=2" + (f"&cursor={cursor}" if cursor else "")
            st, _, page = (self.a, self.b)[inst % 2].req("GET", path)
            self.assertEqual(st, 200, page)
            seen += [g["id"] for g in page["galleries"]]
            cursor, inst = page["nextCursor"], inst + 1
            if not cursor:
                break
        self.assertEqual(seen, listed[:len(seen)])
        self.assertEqual(len(seen), ga["total"])
        st, _, da = self.a.req("GET", f"/gallery/{ids[1]}")
        st, _, db = self.b.req("GET", f"/gallery/{ids[1]}")
        self.assertEqual(da, db)
        self.assertEqual(len(da["images"]), 1)

    def test_ip_limit_holds_across_instances(self):
        ip = unique_ip()

        def one(i):
            inst = (self.a, self.b)[i % 2]
            st, h, _ = inst.generate(f"quota {i}", ip, models=("demo-a",))
            return st, h.get("retry-after")

        with concurrent.futures.ThreadPoolExecutor(200) as ex:
            results = list(ex.map(one, range(200)))
        codes = [st for st, _ in results]
        self.assertEqual(codes.count(200), 50, codes)
        self.assertEqual(codes.count(429), 150, codes)
        for st, retry in results:
            if st == 429:
                self.assertTrue(retry and int(retry) > 0)
        # Another client is not affected.
        st, _, _ = self.b.generate("someone else", unique_ip(), models=("demo-a",))
        self.assertEqual(st, 200)

    def test_killed_instance_leaves_no_job_unfinished(self):
        ip = unique_ip()
        # Models that would take 10 minutes; the per-model lease (deadline) is MODEL_TIMEOUT_S
        # plus the 30 s grace every result gets at creation.
        k = Instance(self.moto, self.table, self.bucket, DEMO_LATENCY_MS=600000, MODEL_TIMEOUT_S=2)
        try:
            st, _, created = k.generate("never finished here", ip)
            self.assertEqual(st, 200, created)
            job_id = created["jobId"]
            wait_status(self.b, job_id, lambda d: d["status"] == "in_progress", 5)
            k.kill()
            t_killed = time.time()
        finally:
            k.stop()
        # Until the lease runs out the job stays in progress (another instance may not steal it).
        st, _, doc = self.b.req("GET", f"/status/{job_id}")
        self.assertEqual(doc["status"], "in_progress")
        # After it, a periodic recovery pass (every instance, every 30 s) or the start of any
        # instance marks the abandoned results; a fresh instance makes the test deterministic.
        time.sleep(max(0.0, 2 + 30 + 1 - (time.time() - t_killed)))
        c = Instance(self.moto, self.table, self.bucket)
        try:
            doc = wait_status(self.b, job_id, terminal, 30)
        finally:
            c.stop()
        self.assertEqual(doc["status"], "failed")
        for r in doc["results"]:
            self.assertEqual(r["status"], "error")
            self.assertEqual(r["error"], "interrupted")
        # Nothing in the whole table is left unfinished past its deadline.
        st, scan = self.moto.ddb("Scan", {"TableName": self.table})
        now_ms = time.time() * 1000
        for it in scan["Items"]:
            if it["sk"]["S"].startswith("R#") and it["status"]["S"] in ("pending", "in_progress"):
                self.assertGreater(int(it["deadline_ms"]["N"]), now_ms - 1000, it)


@unittest.skipUnless(HAVE_BIN, f"{cu.pp_bin()} not built")
class StoreOutage(unittest.TestCase):
    def test_outage_answers_503_with_retry_after(self):
        if not cu.moto_python():
            self.skipTest("moto not installed")
        moto = cu.Moto().start()
        n = uuid.uuid4().hex[:8]
        inst = Instance(moto, f"pp-out-{n}", f"pp-out-{n}", DEMO_LATENCY_MS=50)
        try:
            ip = unique_ip()
            st, _, created = inst.generate("before the outage", ip)
            self.assertEqual(st, 200)
            wait_status(inst, created["jobId"], terminal)
            moto.stop()  # DynamoDB and S3 gone
            for method, path, body in (("GET", f"/status/{created['jobId']}", None),
                                       ("POST", "/generate", {"prompt": "during the outage"}),
                                       ("GET", "/gallery/list", None)):
                t0 = time.time()
                st, h, doc = inst.req(method, path, body, ip)
                self.assertEqual(st, 503, (path, doc))
                self.assertEqual(doc["error"], "SERVICE_UNAVAILABLE")
                self.assertTrue(int(h["retry-after"]) > 0)
                self.assertLess(time.time() - t0, 10)
            st, _, doc = inst.req("GET", "/healthz")
            self.assertEqual(st, 503)
            self.assertEqual(inst.proc.poll(), None)  # still serving
        finally:
            inst.stop()
            moto.stop()


if __name__ == "__main__":
    unittest.main()
