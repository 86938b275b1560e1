"""Fake Bedrock Runtime: POST /model/{modelId}/invoke (Nova Canvas, Stable Diffusion 3.5) and
POST /model/{modelId}/converse (prompt enhancement).

Every request must carry a well-formed SigV4 Authorization header
("AWS4-HMAC-SHA256 Credential=<AKID>/<yyyymmdd>/<region>/bedrock/aws4_request,
SignedHeaders=..., Signature=<64 hex>") and X-Amz-Date; otherwise 403 like AWS. When the secret
is known (env FAKE_AWS_SECRET_ACCESS_KEY, or POST /_fake/config {"aws_secret": ...}) the signature
itself is verified the way AWS does for non-S3 services (the canonical URI is the request path
URI-encoded once more), answering 403 SignatureDoesNotMatch on a mismatch.
The model kind comes from the id: "nova-canvas" -> Nova body/answer, "stability." or "sd3" ->
SD 3.5, anything else answers converse only.
Docs: https://docs.aws.amazon.com/nova/latest/userguide/image-gen-req-resp-structure.html
      https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-diffusion-3-5-large.html
      https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html
      https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
"""

import base64
import hashlib
import hmac
import json
import os
import re
from urllib.parse import quote, unquote

try:
    from . import common
except ImportError:
    import common

AUTH_RE = re.compile(r"^AWS4-HMAC-SHA256 Credential=([A-Z0-9]{16,128})/(\d{8})/([a-z0-9-]+)/bedrock/aws4_request, ?"
                     r"SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$")
PATH_RE = re.compile(r"^/model/([^/]+)/(invoke|converse)$")


def sigv4_expected(method, raw_path, query, headers, signed, body, secret, date, region, amz_date):
    canonical_uri = quote(raw_path, safe="/~")  # non-S3: the (already encoded) path encoded again
    pairs = sorted((k, v) for k, v in (p.split("=", 1) if "=" in p else (p, "") for p in query.split("&") if p))
    canonical_query = "&".join(f"{k}={v}" for k, v in pairs)
    lower = {k.lower(): " ".join(v.strip().split()) for k, v in headers.items()}
    canonical_headers = "".join(f"{h}:{lower.get(h, '')}\n" for h in signed.split(";"))
    payload = lower.get("x-amz-content-sha256") or hashlib.sha256(body).hexdigest()
    creq = "\n".join([method, canonical_uri, canonical_query, canonical_headers, signed, payload])
    scope = f"{date}/{region}/bedrock/aws4_request"
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(creq.encode()).hexdigest()])
    k = hmac.new(("AWS4" + secret).encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, "bedrock", "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    return hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()


class BedrockHandler(common.FakeHandler):
    def error(self, status, typ, message):
        self.send_json(status, {"message": message}, {"x-amzn-ErrorType": f"{typ}:http://internal.amazon.com/coral/com.amazon.bedrock/"})

    def check_sigv4(self):
        auth = self.headers.get("Authorization", "")
        m = AUTH_RE.match(auth)
        amz_date = self.headers.get("X-Amz-Date", "")
        if not m or not re.match(r"^\d{8}T\d{6}Z$", amz_date):
            self.error(403, "MissingAuthenticationTokenException" if not auth else "IncompleteSignatureException",
                       "Missing Authentication Token" if not auth else "Authorization header requires "
                       "'Credential', 'SignedHeaders' and 'Signature' for AWS4-HMAC-SHA256")
            return False
        _, date, region, signed, sig = m.groups()
        if amz_date[:8] != date or "host" not in signed.split(";") or "x-amz-date" not in signed.split(";"):
            self.error(403, "IncompleteSignatureException", "Credential date or signed headers are wrong")
            return False
        secret = self.st.tasks.get("aws_secret") or os.environ.get("FAKE_AWS_SECRET_ACCESS_KEY")
        if secret:
            raw_path = self.path.split("?", 1)[0]
            want = sigv4_expected("POST", raw_path, self.url.query, dict(self.headers.items()), signed,
                                  self.body, secret, date, region, amz_date)
            if not hmac.compare_digest(want, sig):
                with self.st.lock:
                    self.st.counters["signature_mismatch"] = self.st.counters.get("signature_mismatch", 0) + 1
                self.error(403, "InvalidSignatureException", "The request signature we calculated does not match "
                           "the signature you provided. Check your AWS Secret Access Key and signing method.")
                return False
        return True

    def control(self, method):
        if self.url.path == "/_fake/config" and method == "POST":
            cfg = json.loads(self.body or b"{}")
            if "aws_secret" in cfg:
                with self.st.lock:
                    self.st.tasks["aws_secret"] = cfg["aws_secret"]
        return super().control(method)

    def handle_api(self, method):
        m = PATH_RE.match(self.url.path)
        if method != "POST" or not m:
            return self.error(404, "UnknownOperationException", "Unknown operation")
        if not self.check_sigv4():
            return
        model, action = unquote(m.group(1)), m.group(2)
        body = self.json_body()
        if body is None:
            return self.error(400, "ValidationException", "Malformed input request, please reformat your input and try again.")
        if action == "converse":
            return self.converse(model, body)
        if "nova-canvas" in model:
            return self.nova(body)
        if "stability." in model or "sd3" in model:
            return self.sd(body)
        return self.error(400, "ValidationException", f"The provided model identifier is invalid: {model}")

    def transient(self, faults, key):
        return self.pre_faults(faults, key,
                               error_429={"message": "Too many requests, please wait before trying again."},
                               error_500={"message": "The system encountered an unexpected error during processing. Try your request again."})

    def nova(self, body):
        if body.get("taskType") != "TEXT_IMAGE":
            return self.error(400, "ValidationException", "Malformed input request: taskType must be TEXT_IMAGE")
        text = (body.get("textToImageParams") or {}).get("text")
        if not isinstance(text, str) or not 1 <= len(text) <= 1024:
            return self.error(400, "ValidationException", "Malformed input request: #/textToImageParams/text: "
                              "expected minLength: 1, maxLength: 1024")
        cfg = body.get("imageGenerationConfig") or {}
        cfg_scale = cfg.get("cfgScale", 6.5)
        if not isinstance(cfg_scale, (int, float)) or not 1.1 <= cfg_scale <= 10:
            return self.error(400, "ValidationException", "Malformed input request: #/imageGenerationConfig/cfgScale: "
                              f"{cfg_scale} is not in range 1.1-10.0")
        faults = self.faults_for(text)
        if self.transient(faults, ("nova", text)):
            return
        if "safety" in faults:
            return self.error(400, "ValidationException", "This request has been blocked by our content filters. "
                              "Please adjust your text prompt to submit a new request.")
        images = [base64.b64encode(self.image_bytes(faults)).decode()] * int(cfg.get("numberOfImages", 1))
        return self.send_inline_json(faults, {"images": images})

    def sd(self, body):
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not prompt:
            return self.error(400, "ValidationException", "Malformed input request: #: required key [prompt] not found")
        allowed = {"prompt", "mode", "aspect_ratio", "output_format", "seed", "negative_prompt", "image", "strength"}
        extra = set(body) - allowed
        if extra:
            return self.error(400, "ValidationException", f"Malformed input request: #: extraneous key [{sorted(extra)[0]}] is not permitted")
        faults = self.faults_for(prompt)
        if self.transient(faults, ("sd", prompt)):
            return
        if "safety" in faults:
            return self.send_json(200, {"seeds": [0], "finish_reasons": ["Filter reason: prompt"], "images": []})
        b64 = base64.b64encode(self.image_bytes(faults)).decode()
        return self.send_inline_json(faults, {"seeds": [2130420379], "finish_reasons": [None], "images": [b64]})

    def converse(self, model, body):
        msgs = body.get("messages")
        try:
            text = " ".join(c.get("text", "") for m in msgs for c in m.get("content", []))
        except (TypeError, AttributeError):
            return self.error(400, "ValidationException", "messages is required")
        if "nova-canvas" in model or "stability." in model:
            return self.error(400, "ValidationException", "This model doesn't support the Converse API.")
        faults = self.faults_for(text)
        if self.transient(faults, ("converse", text)):
            return
        if "malformed" in faults:
            return self.send_malformed()
        stop = "content_filtered" if "safety" in faults else "end_turn"
        answer = "" if "safety" in faults else common.enhance_variants(text, faults)
        self.send_json(200, {"output": {"message": {"role": "assistant", "content": [{"text": answer}]}},
                             "stopReason": stop, "usage": {"inputTokens": 10, "outputTokens": 40, "totalTokens": 50},
                             "metrics": {"latencyMs": 120}})


def make_server(host="127.0.0.1", port=0):
    return common.FakeServer(BedrockHandler, "bedrock", host, port, api_prefix="")


if __name__ == "__main__":
    common.serve_main(make_server)
