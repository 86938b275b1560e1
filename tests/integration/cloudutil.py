"""Shared helpers for the cloud integration tests (moto server, SigV4, a Lambda Runtime API).

Standard library only. moto is started from the Python that has it (`python3 -m moto.server`);
when none has it the tests that need it are skipped with the reason.

SigV4 here is written from AWS's documented algorithm (Signature Version 4 signing process), so a
request the C code signed through libcurl is checked by an independent implementation.
"""

import datetime
import hashlib
import hmac
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REGION = "us-east-1"
ALLOW_ALL = json.dumps({"Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})


def build_dir():
    return os.environ.get("PP_BUILD", os.path.join(ROOT, "build"))


def pp_bin():
    return os.environ.get("PP_BIN", os.path.join(build_dir(), "pixelprompt"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=15.0, proc=None):
    end = time.time() + timeout
    while time.time() < end:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.03)
    return False


def moto_python():
    """A Python that can import moto, or None."""
    for py in (sys.executable, shutil.which("python3"), "/usr/bin/python3"):
        if py and subprocess.run([py, "-c", "import moto.server"], capture_output=True).returncode == 0:
            return py
    return None


# ---- SigV4 -------------------------------------------------------------------------------------

def _hmac(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def _uri_encode(s, keep_slash):
    safe = "-_.~" + ("/" if keep_slash else "")
    return urllib.parse.quote(s, safe=safe)


def canonical_query(query):
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
    enc = sorted((_uri_encode(k, False), _uri_encode(v, False)) for k, v in pairs)
    return "&".join(f"{k}={v}" for k, v in enc)


def signature(secret, date, region, service, method, path, query, headers, signed, payload_hash,
              amz_date, double_encode_path):
    path = path or "/"
    if double_encode_path:  # every service but S3 encodes the (already encoded) path once more
        path = _uri_encode(path, True)
    canon_headers = "".join(f"{h}:{' '.join(headers[h].strip().split())}\n" for h in signed)
    creq = "\n".join([method, path, canonical_query(query), canon_headers, ";".join(signed),
                      payload_hash])
    scope = f"{date}/{region}/{service}/aws4_request"
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                     hashlib.sha256(creq.encode()).hexdigest()])
    k = _hmac(("AWS4" + secret).encode(), date)
    k = _hmac(k, region)
    k = _hmac(k, service)
    k = _hmac(k, "aws4_request")
    return hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()


def sign(method, url, service, ak, sk, body=b"", headers=None, token=None, region=REGION):
    """Headers (dict) for a signed request."""
    u = urllib.parse.urlsplit(url)
    now = datetime.datetime.now(datetime.timezone.utc)
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    h = {k.lower(): v for k, v in (headers or {}).items()}
    h["host"] = u.netloc
    h["x-amz-date"] = amz_date
    h["x-amz-content-sha256"] = hashlib.sha256(body).hexdigest()
    if token:
        h["x-amz-security-token"] = token
    signed = sorted(h)
    sig = signature(sk, amz_date[:8], region, service, method, u.path, u.query, h, signed,
                    h["x-amz-content-sha256"], amz_date, service != "s3")
    h["authorization"] = (f"AWS4-HMAC-SHA256 Credential={ak}/{amz_date[:8]}/{region}/{service}/"
                          f"aws4_request, SignedHeaders={';'.join(signed)}, Signature={sig}")
    return h


def verify(method, path_and_query, headers, body, secrets, region=REGION):
    """Checks a received request's SigV4 Authorization. headers: dict with lowercase names.
    secrets: {access_key: secret}. Returns (ok, reason, service)."""
    auth = headers.get("authorization", "")
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        return False, "no SigV4 authorization", ""
    fields = dict(p.strip().split("=", 1) for p in auth[len("AWS4-HMAC-SHA256 "):].split(","))
    ak, date, reg, service, _ = fields["Credential"].split("/")
    if ak not in secrets:
        return False, "unknown access key", service
    if reg != region:
        return False, "wrong region", service
    signed = fields["SignedHeaders"].split(";")
    for must in ("host", "x-amz-date"):
        if must not in signed:
            return False, f"{must} not signed", service
    if "x-amz-security-token" in headers and "x-amz-security-token" not in signed:
        return False, "security token not signed", service
    missing = [h for h in signed if h not in headers]
    if missing:
        return False, f"signed headers not sent: {missing}", service
    payload = headers.get("x-amz-content-sha256") or hashlib.sha256(body).hexdigest()
    if payload != "UNSIGNED-PAYLOAD" and payload != hashlib.sha256(body).hexdigest():
        return False, "payload hash mismatch", service
    u = urllib.parse.urlsplit(path_and_query)
    want = signature(secrets[ak], date, reg, service, method, u.path, u.query, headers, signed,
                     payload, headers["x-amz-date"], service != "s3")
    if not hmac.compare_digest(want, fields["Signature"]):
        return False, "signature mismatch", service
    return True, "ok", service


# ---- HTTP --------------------------------------------------------------------------------------

def http(method, url, body=b"", headers=None, timeout=10):
    """Returns (status, headers dict lowercase, body bytes); never raises for HTTP errors."""
    req = urllib.request.Request(url, data=body if method not in ("GET", "HEAD") or body else None,
                                 method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


# ---- moto --------------------------------------------------------------------------------------

# moto's server handles requests on concurrent threads without item-level atomicity (a conditional
# update can interleave with another, and a cancelled transaction restores a snapshot of the whole
# table over concurrent writes). DynamoDB serialises the writes to an item, and the code under test
# relies on exactly that, so requests are applied one at a time here while connections are still
# accepted concurrently. Same moto app and signature checks as `python -m moto.server`.
_MOTO_MAIN = r"""
import sys, threading
from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
app = DomainDispatcherApplication(create_backend_app)
lock = threading.Lock()
def serialised(environ, start_response):
    with lock:
        return list(app(environ, start_response))
run_simple("127.0.0.1", int(sys.argv[1]), serialised, threaded=True)
"""


class Moto:
    """A moto server on a free loopback port with SigV4 checking on, and an IAM user (allow-all
    policy) whose key the tests use. `role_creds()` gives session credentials of an assumed role."""

    NO_AUTH_ACTIONS = 5  # create-user, put-user-policy, create-access-key, create-role, put-role-policy

    def __init__(self):
        self.proc = None
        self.port = None
        self.url = None
        self.ak = self.sk = None
        self.log = None

    def start(self):
        py = moto_python()
        if not py:
            raise RuntimeError("moto is not installed (pip install 'moto[server]')")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT=str(self.NO_AUTH_ACTIONS),
                   MOTO_ALLOW_NONEXISTENT_REGION="false")
        self.log = open(os.path.join(_tmpdir(), f"moto-{self.port}.log"), "wb")
        env["MOTO_PORT"] = str(self.port)
        self.proc = subprocess.Popen([py, "-c", _MOTO_MAIN, str(self.port)], stdout=self.log,
                                     stderr=subprocess.STDOUT, env=env, start_new_session=True)
        if not wait_port(self.port, 30, self.proc):
            self.stop()
            raise RuntimeError("moto server did not start")
        self._iam_setup()
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.log:
            self.log.close()
            if not os.environ.get("PP_KEEP_LOGS"):
                try:
                    os.unlink(self.log.name)
                except OSError:
                    pass
        self.proc = None

    def pause(self):
        os.killpg(self.proc.pid, signal.SIGSTOP)

    def resume(self):
        os.killpg(self.proc.pid, signal.SIGCONT)

    def _query(self, service, params, ak="AKIAIOSFODNN7EXAMPLE", sk="x", token=None):
        body = urllib.parse.urlencode(params).encode()
        h = sign("POST", self.url + "/", service, ak, sk, body,
                 {"content-type": "application/x-www-form-urlencoded; charset=utf-8"}, token)
        st, _, out = http("POST", self.url + "/", body, h)
        if st != 200:
            raise RuntimeError(f"{service} {params.get('Action')}: HTTP {st} {out[:300]!r}")
        return out.decode()

    def _iam_setup(self):
        # The first NO_AUTH_ACTIONS calls are not checked; every later one is.
        v = {"Version": "2010-05-08"}
        self._query("iam", dict(v, Action="CreateUser", UserName="pp-test"))
        self._query("iam", dict(v, Action="PutUserPolicy", UserName="pp-test", PolicyName="all",
                                PolicyDocument=ALLOW_ALL))
        out = self._query("iam", dict(v, Action="CreateAccessKey", UserName="pp-test"))
        self.ak = _xml_text(out, "AccessKeyId")
        self.sk = _xml_text(out, "SecretAccessKey")
        trust = json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]})
        self._query("iam", dict(v, Action="CreateRole", RoleName="pp-role",
                                AssumeRolePolicyDocument=trust))
        self._query("iam", dict(v, Action="PutRolePolicy", RoleName="pp-role", PolicyName="all",
                                PolicyDocument=ALLOW_ALL))

    def role_creds(self):
        out = self._query("sts", {"Action": "AssumeRole", "Version": "2011-06-15",
                                  "RoleArn": "arn:aws:iam::123456789012:role/pp-role",
                                  "RoleSessionName": "pp-session"}, self.ak, self.sk)
        return (_xml_text(out, "AccessKeyId"), _xml_text(out, "SecretAccessKey"),
                _xml_text(out, "SessionToken"))

    def env(self, table="pp-jobs", bucket="pp-blobs", **extra):
        e = {"AWS_ACCESS_KEY_ID": self.ak, "AWS_SECRET_ACCESS_KEY": self.sk,
             "AWS_REGION": REGION, "AWS_ENDPOINT_URL": self.url, "DYNAMODB_TABLE": table,
             "S3_BUCKET": bucket, "STORE": "dynamodb", "BLOBS": "s3",
             "PP_TEST_STORE": "dynamodb", "PP_TEST_BLOBS": "s3"}
        e.update(extra)
        return e

    def ddb(self, op, body):
        data = json.dumps(body).encode()
        h = sign("POST", self.url + "/", "dynamodb", self.ak, self.sk, data,
                 {"content-type": "application/x-amz-json-1.0",
                  "x-amz-target": "DynamoDB_20120810." + op})
        st, _, out = http("POST", self.url + "/", data, h)
        return st, json.loads(out or b"{}")

    def s3(self, method, path, body=b""):
        h = sign(method, self.url + path, "s3", self.ak, self.sk, body)
        return http(method, self.url + path, body, h)


def _xml_text(xml, tag):
    start = xml.index(f"<{tag}>") + len(tag) + 2
    return xml[start:xml.index(f"</{tag}>", start)]


_TMP = None


def _tmpdir():
    global _TMP
    if _TMP is None:
        import tempfile
        _TMP = tempfile.mkdtemp(prefix="pp-cloud-")
    return _TMP


def clean_env(**extra):
    """The process environment without AWS/Pixel Prompt settings that could leak into a test."""
    e = {k: v for k, v in os.environ.items()
         if not k.startswith(("AWS_", "MODEL_", "PP_TEST_")) and k not in (
             "STORE", "BLOBS", "S3_BUCKET", "DYNAMODB_TABLE", "STORE_CREATE", "DATA_DIR")}
    e.update(extra)
    return e


# ---- a Lambda Runtime API and Invoke endpoint -------------------------------------------------

import queue
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RUNTIME = "/2018-06-01/runtime"


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a runtime killed mid-request is expected here


class FakeLambda:
    """The Lambda Runtime API (what the sandbox offers a custom runtime) and the Lambda Invoke API,
    on one loopback port, written from AWS's documented protocol:

      GET  /2018-06-01/runtime/invocation/next       -> event; Lambda-Runtime-Aws-Request-Id,
                                                        -Deadline-Ms, -Trace-Id,
                                                        -Invoked-Function-Arn
      POST /2018-06-01/runtime/invocation/{id}/response  -> 202
      POST /2018-06-01/runtime/invocation/{id}/error     -> 202 (Lambda-Runtime-Function-Error-Type)
      POST /2018-06-01/runtime/init/error                -> 202
      POST /2015-03-31/functions/{name}/invocations      -> 202 for X-Amz-Invocation-Type: Event,
                                                            after checking SigV4 (service lambda)

    An Event invocation is queued as the next event when feed_invokes is on (what Lambda does:
    the async invocation reaches a sandbox of the same function)."""

    def __init__(self, secrets, function_name="pp-GenerateFunction", feed_invokes=True,
                 worker_timeout_ms=60000):
        self.secrets = dict(secrets)
        self.function_name = function_name
        self.feed_invokes = feed_invokes
        self.worker_timeout_ms = worker_timeout_ms
        self.events = queue.Queue()
        self.done = {}            # request id -> ("response"|"error", error type, body bytes)
        self.done_at = {}         # request id -> time.monotonic() of the answer
        self.cond = threading.Condition()
        self.invokes = []         # (headers, body, verdict)
        self.init_errors = []
        self.next_calls = 0
        self.first_next_at = None
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _body(self):
                n = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(n) if n else b""

            def _send(self, status, body=b"", headers=None):
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                if self.path != RUNTIME + "/invocation/next":
                    return self._send(404)
                with fake.cond:
                    fake.next_calls += 1
                    if fake.first_next_at is None:
                        fake.first_next_at = time.monotonic()
                    fake.cond.notify_all()
                item = fake.events.get()
                if item is None:  # shutdown: leave the runtime hanging like a frozen sandbox
                    return self._send(500)
                rid, event, timeout_ms = item
                deadline = int(time.time() * 1000) + timeout_ms
                self._send(200, json.dumps(event).encode(), {
                    "Content-Type": "application/json",
                    "Lambda-Runtime-Aws-Request-Id": rid,
                    "Lambda-Runtime-Deadline-Ms": str(deadline),
                    "Lambda-Runtime-Trace-Id": f"Root=1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]};Sampled=0",
                    "Lambda-Runtime-Invoked-Function-Arn":
                        f"arn:aws:lambda:{REGION}:123456789012:function:{fake.function_name}"})

            def do_POST(self):
                body = self._body()
                p = self.path
                if p.startswith(RUNTIME + "/invocation/"):
                    rid, kind = p[len(RUNTIME + "/invocation/"):].split("/", 1)
                    with fake.cond:
                        fake.done[rid] = (kind, self.headers.get("Lambda-Runtime-Function-Error-Type"), body)
                        fake.done_at[rid] = time.monotonic()
                        fake.cond.notify_all()
                    return self._send(202, b'{"status":"OK"}', {"Content-Type": "application/json"})
                if p == RUNTIME + "/init/error":
                    with fake.cond:
                        fake.init_errors.append((self.headers.get("Lambda-Runtime-Function-Error-Type"), body))
                        fake.cond.notify_all()
                    return self._send(202, b'{"status":"OK"}')
                prefix = f"/2015-03-31/functions/{fake.function_name}/invocations"
                if p.split("?")[0] == prefix:
                    headers = {k.lower(): v for k, v in self.headers.items()}
                    ok, why, service = verify("POST", p, headers, body, fake.secrets)
                    if ok and service != "lambda":
                        ok, why = False, f"signed for {service}"
                    with fake.cond:
                        fake.invokes.append((headers, body, why))
                        fake.cond.notify_all()
                    if not ok:
                        return self._send(403, json.dumps({"message": why}).encode(),
                                          {"x-amzn-ErrorType": "InvalidSignatureException"})
                    if headers.get("x-amz-invocation-type") != "Event":
                        return self._send(400, b'{"message":"only Event invocations here"}')
                    if fake.feed_invokes:
                        fake.push(json.loads(body), fake.worker_timeout_ms)
                    return self._send(202)
                return self._send(404)

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.api = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.api}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def push(self, event, timeout_ms=30000):
        rid = str(uuid.uuid4())
        self.events.put((rid, event, timeout_ms))
        return rid

    def wait(self, rid, timeout=30):
        end = time.time() + timeout
        with self.cond:
            while rid not in self.done:
                left = end - time.time()
                if left <= 0:
                    raise TimeoutError(f"invocation {rid} not answered")
                self.cond.wait(left)
            return self.done[rid]

    def wait_for(self, pred, timeout=30):
        end = time.time() + timeout
        with self.cond:
            while not pred():
                left = end - time.time()
                if left <= 0:
                    raise TimeoutError("condition not met")
                self.cond.wait(left)

    def stop(self):
        for _ in range(8):
            self.events.put(None)
        self.server.shutdown()
        self.server.server_close()


def apigw_event(method, path, body=None, headers=None, query="", cookies=None, b64=False,
                source_ip="203.0.113.7", stage="$default"):
    """An API Gateway HTTP API payload v2.0 event, as the documentation shows it."""
    h = {"accept": "*/*", "host": "abc123.execute-api.us-east-1.amazonaws.com",
         "user-agent": "test", "x-forwarded-for": source_ip, "x-forwarded-proto": "https"}
    h.update({k.lower(): v for k, v in (headers or {}).items()})
    raw_path = path if stage == "$default" else f"/{stage}{path}"
    ev = {"version": "2.0", "routeKey": "$default", "rawPath": raw_path, "rawQueryString": query,
          "headers": h,
          "requestContext": {"accountId": "123456789012", "apiId": "abc123",
                             "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
                             "domainPrefix": "abc123",
                             "http": {"method": method, "path": raw_path, "protocol": "HTTP/1.1",
                                      "sourceIp": source_ip, "userAgent": "test"},
                             "requestId": str(uuid.uuid4()), "routeKey": "$default",
                             "stage": stage, "time": "28/Nov/2026:05:00:00 +0000",
                             "timeEpoch": int(time.time() * 1000)},
          "isBase64Encoded": b64}
    if query:
        ev["queryStringParameters"] = dict(urllib.parse.parse_qsl(query))
    if cookies:
        ev["cookies"] = cookies
    if body is not None:
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        if b64:
            import base64
            body = base64.b64encode(body.encode() if isinstance(body, str) else body).decode()
        ev["body"] = body
    return ev


def create_layout(moto, table, bucket):
    """The table and bucket as deploy/template.yaml declares them (SAM creates them on AWS)."""
    st, out = moto.ddb("CreateTable", {
        "TableName": table, "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": n, "AttributeType": "S"}
                                 for n in ("pk", "sk", "gpk", "gsk")],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                      {"AttributeName": "sk", "KeyType": "RANGE"}],
        "GlobalSecondaryIndexes": [{"IndexName": "gallery", "KeySchema": [
            {"AttributeName": "gpk", "KeyType": "HASH"}, {"AttributeName": "gsk", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"}}]})
    assert st == 200, out
    st, out = moto.ddb("UpdateTimeToLive", {"TableName": table, "TimeToLiveSpecification":
                                            {"Enabled": True, "AttributeName": "ttl"}})
    assert st == 200, out
    st, _, out = moto.s3("PUT", f"/{bucket}")
    assert st == 200, out
