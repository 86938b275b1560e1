"""The store/blob contract suite (tests/unit/test_store_contract.c) run unchanged against
STORE=dynamodb + BLOBS=s3 on a moto server that checks SigV4 signatures, plus what only a remote
backend has: session tokens, wrong secrets, the table layout the SAM template declares, outages.
"""

import os
import subprocess
import time
import unittest
import uuid

import cloudutil as cu

CONTRACT = os.path.join(cu.build_dir(), "tests", "test_store_contract")


def run_contract(env, timeout=180):
    p = subprocess.run([CONTRACT], env=cu.clean_env(**env), capture_output=True, text=True,
                       timeout=timeout)
    return p.returncode, p.stdout + p.stderr


@unittest.skipUnless(os.access(CONTRACT, os.X_OK), f"{CONTRACT} not built (make test)")
class CloudBackends(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not cu.moto_python():
            raise unittest.SkipTest("moto not installed: pip install 'moto[server]'")
        cls.moto = cu.Moto().start()

    @classmethod
    def tearDownClass(cls):
        cls.moto.stop()

    def names(self):
        n = uuid.uuid4().hex[:10]
        return f"pp-jobs-{n}", f"pp-blobs-{n}"

    def test_contract_on_dynamodb_and_s3(self):
        table, bucket = self.names()
        rc, out = run_contract(self.moto.env(table, bucket))
        self.assertEqual(rc, 0, out)
        self.assertIn("PASSED", out)
        # Again on the tables and bucket the first run created (open must accept them as they are).
        rc, out = run_contract(self.moto.env(table, bucket))
        self.assertEqual(rc, 0, out)

    def test_contract_with_session_token(self):
        ak, sk, token = self.moto.role_creds()
        table, bucket = self.names()
        env = self.moto.env(table, bucket, AWS_ACCESS_KEY_ID=ak, AWS_SECRET_ACCESS_KEY=sk,
                            AWS_SESSION_TOKEN=token)
        rc, out = run_contract(env)
        self.assertEqual(rc, 0, out)
        # The token is signed: a different token with the same key is refused.
        env["AWS_SESSION_TOKEN"] = token[:-4] + "AAAA"
        rc, out = run_contract(env, timeout=60)
        self.assertNotEqual(rc, 0, out)
        self.assertIn("403", out)

    def test_wrong_secret_is_refused(self):
        table, bucket = self.names()
        rc, out = run_contract(self.moto.env(table, bucket, AWS_SECRET_ACCESS_KEY="wrong" + "x" * 35),
                               timeout=60)
        self.assertNotEqual(rc, 0, out)
        self.assertIn("403", out)  # store_open/blob_open name the refusal
        self.assertIn("SignatureDoesNotMatch", out)
        # and nothing got created with the bad key
        st, body = self.moto.ddb("DescribeTable", {"TableName": table})
        self.assertEqual(st, 400, body)

    def test_table_layout_matches_the_template(self):
        table, bucket = self.names()
        rc, out = run_contract(self.moto.env(table, bucket))
        self.assertEqual(rc, 0, out)
        st, d = self.moto.ddb("DescribeTable", {"TableName": table})
        self.assertEqual(st, 200, d)
        t = d["Table"]
        keys = {k["AttributeName"]: k["KeyType"] for k in t["KeySchema"]}
        self.assertEqual(keys, {"pk": "HASH", "sk": "RANGE"})
        types = {a["AttributeName"]: a["AttributeType"] for a in t["AttributeDefinitions"]}
        self.assertEqual(types, {"pk": "S", "sk": "S", "gpk": "S", "gsk": "S"})
        self.assertEqual(t["BillingModeSummary"]["BillingMode"], "PAY_PER_REQUEST")
        gsi = {g["IndexName"]: g for g in t["GlobalSecondaryIndexes"]}
        self.assertEqual(list(gsi), ["gallery"])
        self.assertEqual({k["AttributeName"]: k["KeyType"] for k in gsi["gallery"]["KeySchema"]},
                         {"gpk": "HASH", "gsk": "RANGE"})
        self.assertEqual(gsi["gallery"]["Projection"]["ProjectionType"], "ALL")
        st, ttl = self.moto.ddb("DescribeTimeToLive", {"TableName": table})
        self.assertEqual(ttl["TimeToLiveDescription"],
                         {"TimeToLiveStatus": "ENABLED", "AttributeName": "ttl"})
        # Quota counters and idempotency keys carry the TTL attribute.
        st, scan = self.moto.ddb("Scan", {"TableName": table})
        kinds = {}
        for it in scan["Items"]:
            kinds.setdefault(it["pk"]["S"].split("#")[0], []).append(it)
        for kind in ("QUOTA", "IDEM"):
            self.assertTrue(kinds.get(kind), kind)
            for it in kinds[kind]:
                self.assertIn("ttl", it)
                self.assertGreater(int(it["ttl"]["N"]), time.time() - 60)
        # No result is left in the "unfinished" part of the index with a terminal status.
        for it in kinds.get("JOB", []):
            if it["sk"]["S"].startswith("R#") and it.get("gpk", {}).get("S") == "UNFINISHED":
                self.assertIn(it["status"]["S"], ("pending", "in_progress"))
        # The bucket exists and is private (no public ACL was asked for).
        st, _, _ = self.moto.s3("HEAD", f"/{bucket}")
        self.assertEqual(st, 200)

    def test_outage_is_unavailable_not_a_crash(self):
        # An endpoint where nothing listens: open fails fast with a reason naming the service.
        port = cu.free_port()
        env = self.moto.env(*self.names(), AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}")
        t0 = time.time()
        rc, out = run_contract(env, timeout=60)
        self.assertNotEqual(rc, 0)
        self.assertIn("connect", out.lower())
        self.assertLess(time.time() - t0, 30)


if __name__ == "__main__":
    unittest.main()
