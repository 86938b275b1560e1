"""Fake Stability AI Stable Image API: POST /v2beta/stable-image/generate/{sd3,core,ultra} as
multipart/form-data with "Authorization: Bearer <key>". "Accept: image/*" answers the raw PNG
(with finish-reason and seed headers), "Accept: application/json" answers {image, finish_reason,
seed}. Errors are JSON {"id", "name", "errors": [...]}; [fault:safety] is a 403
content_moderation. Docs: https://platform.stability.ai/docs/api-reference#tag/Generate
"""

import base64
import uuid

try:
    from . import common
except ImportError:
    import common

SD3_MODELS = {"sd3.5-large", "sd3.5-large-turbo", "sd3.5-medium", "sd3.5-flash", "sd3-large", "sd3-large-turbo",
              "sd3-medium"}
ASPECTS = {"16:9", "1:1", "21:9", "2:3", "3:2", "4:5", "5:4", "9:16", "9:21"}


def parse_multipart(content_type, body):
    """Fields of a multipart/form-data body (text parts only), or None when malformed."""
    if not content_type.startswith("multipart/form-data"):
        return None
    boundary = None
    for piece in content_type.split(";")[1:]:
        k, _, v = piece.strip().partition("=")
        if k == "boundary":
            boundary = v.strip('"')
    if not boundary:
        return None
    delim = b"--" + boundary.encode()
    if not body.startswith(delim) or not body.rstrip(b"\r\n").endswith(delim + b"--"):
        return None
    fields = {}
    for part in body.split(delim)[1:-1]:
        if not part.startswith(b"\r\n") or not part.endswith(b"\r\n"):
            return None
        head, sep, value = part[2:-2].partition(b"\r\n\r\n")
        if not sep:
            return None
        name = None
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-disposition:"):
                for attr in line.split(b";")[1:]:
                    k, _, v = attr.strip().partition(b"=")
                    if k == b"name":
                        name = v.strip(b'"').decode()
        if name is None:
            return None
        fields[name] = value.decode("utf-8")
    return fields


class StabilityHandler(common.FakeHandler):
    def error(self, status, name, message, headers=None):
        self.send_json(status, {"id": uuid.uuid4().hex, "name": name, "errors": [message]}, headers)

    def handle_api(self, method):
        path = self.url.path
        prefix = "/v2beta/stable-image/generate/"
        if method != "POST" or not path.startswith(prefix) or path[len(prefix):] not in ("sd3", "core", "ultra"):
            return self.error(404, "not_found", f"{method} {path} not found")
        endpoint = path[len(prefix):]
        if not self.bearer():
            return self.error(401, "unauthorized", "authorization: invalid or missing header value")
        fields = parse_multipart(self.headers.get("Content-Type", ""), self.body)
        if fields is None:
            return self.error(400, "bad_request", "content-type: must be multipart/form-data with a valid body")
        prompt = fields.get("prompt", "")
        if not prompt:
            return self.error(400, "bad_request", "prompt: cannot be empty")
        if endpoint == "sd3" and "model" in fields and fields["model"] not in SD3_MODELS:
            return self.error(400, "bad_request", f"model: must be one of {', '.join(sorted(SD3_MODELS))}")
        if fields.get("aspect_ratio", "1:1") not in ASPECTS:
            return self.error(400, "bad_request", "aspect_ratio: invalid value")
        if fields.get("output_format", "png") not in ("png", "jpeg", "webp"):
            return self.error(400, "bad_request", "output_format: invalid value")
        accept = self.headers.get("Accept", "image/*")
        if accept not in ("image/*", "application/json"):
            return self.error(400, "bad_request", "accept: must be image/* or application/json")
        faults = self.faults_for(prompt)
        if "401" in faults:
            return self.error(401, "unauthorized", "authorization: invalid API key")
        if self.pre_faults(faults, ("gen", prompt),
                           error_429={"id": "x", "name": "rate_limit_exceeded", "errors": ["You have exceeded the rate limit"]},
                           error_500={"id": "x", "name": "internal_error", "errors": ["An unexpected server error occurred"]}):
            return
        if "safety" in faults:
            return self.error(403, "content_moderation", "Your request was flagged by our content moderation system, "
                              "as a result your request was denied and you were not charged.")
        reason = "CONTENT_FILTERED" if "filtered" in faults else "SUCCESS"
        headers = {"finish-reason": reason, "seed": "343940597"}
        if accept == "application/json":
            b64 = base64.b64encode(self.image_bytes(faults)).decode()
            return self.send_inline_json(faults, {"image": b64, "finish_reason": reason, "seed": 343940597})
        if "malformed" in faults:
            return self.send_malformed()
        return self.send_image(faults, "image/png", headers)


def make_server(host="127.0.0.1", port=0):
    return common.FakeServer(StabilityHandler, "stability", host, port, api_prefix="")


if __name__ == "__main__":
    common.serve_main(make_server)
