"""Fake Recraft API: POST /v1/images/generations (Bearer key) answering data[0].url (a download
served here) or data[0].b64_json when response_format is b64_json. Errors {"code", "message"}.
Docs: https://www.recraft.ai/docs/api-reference/endpoints
"""

import base64
import time

try:
    from . import common
except ImportError:
    import common


class RecraftHandler(common.FakeHandler):
    def error(self, status, code, message, headers=None):
        self.send_json(status, {"code": code, "message": message}, headers)

    def handle_api(self, method):
        path = self.url.path
        if method == "GET" and path.startswith("/files/"):
            return self.handle_file()
        if method != "POST" or path != "/v1/images/generations":
            return self.error(404, "not_found", "Not found")
        if not self.bearer():
            return self.error(401, "unauthorized", "Missing or invalid Authorization header")
        body = self.json_body()
        if body is None or not isinstance(body.get("prompt"), str) or not body["prompt"]:
            return self.error(400, "invalid_request", "prompt is required")
        prompt, model = body["prompt"], body.get("model", "recraftv3")
        if not isinstance(model, str) or not model:
            return self.error(400, "invalid_model", "model must be a non-empty string")
        faults = self.faults_for(prompt)
        if "401" in faults:
            return self.error(401, "unauthorized", "Invalid API token")
        if self.pre_faults(faults, ("gen", prompt), error_429={"code": "rate_limit", "message": "Too many requests"},
                           error_500={"code": "internal", "message": "Internal server error"}):
            return
        if "safety" in faults:
            return self.error(400, "prompt_rejected", "The prompt was rejected by moderation")
        if body.get("response_format") == "b64_json":
            b64 = base64.b64encode(self.image_bytes(faults)).decode()
            return self.send_inline_json(faults, {"created": int(time.time()), "credits": 40, "data": [{"b64_json": b64}]})
        if "malformed" in faults:
            return self.send_malformed()
        self.send_json(200, {"created": int(time.time()), "credits": 40,
                             "data": [{"image_id": "00000000-0000-4000-8000-000000000001", "url": self.file_url(prompt)}]})


def make_server(host="127.0.0.1", port=0):
    return common.FakeServer(RecraftHandler, "recraft", host, port, api_prefix="/v1")


if __name__ == "__main__":
    common.serve_main(make_server)
