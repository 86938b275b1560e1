"""Fake AUTOMATIC1111 stable-diffusion-webui API (--api): POST /sdapi/v1/txt2img answering
{"images": [base64 PNG], "parameters": {...}, "info": "<json text>"}. Validation errors are
FastAPI 422 {"detail": [{"loc", "msg", "type"}]}; server errors {"error", "detail", "body",
"errors"}. Basic auth is required when started with --api-auth user:pass (env FAKE_A1111_AUTH).
Docs: https://github.com/AUTOMATIC1111/stable-diffusion-webui/wiki/API
"""

import base64
import json
import os

try:
    from . import common
except ImportError:
    import common


class A1111Handler(common.FakeHandler):
    def handle_api(self, method):
        if self.url.path != "/sdapi/v1/txt2img" or method != "POST":
            return self.send_json(404, {"detail": "Not Found"})
        auth = os.environ.get("FAKE_A1111_AUTH")
        if auth:
            want = "Basic " + base64.b64encode(auth.encode()).decode()
            if self.headers.get("Authorization") != want:
                return self.send_json(401, {"detail": "Incorrect username or password"},
                                      {"WWW-Authenticate": "Basic"})
        body = self.json_body()
        if body is None:
            return self.send_json(422, {"detail": [{"loc": ["body"], "msg": "value is not a valid dict",
                                                    "type": "type_error.dict"}]})
        for k in ("steps", "width", "height", "batch_size"):
            if k in body and not isinstance(body[k], int):
                return self.send_json(422, {"detail": [{"loc": ["body", k], "msg": "value is not a valid integer",
                                                        "type": "type_error.integer"}]})
        prompt = body.get("prompt", "")
        faults = self.faults_for(prompt)
        if self.pre_faults(faults, ("txt2img", prompt), error_429={"detail": "Too Many Requests"},
                           error_500={"error": "OutOfMemoryError", "detail": "", "body": "",
                                      "errors": "CUDA out of memory. Tried to allocate 2.00 GiB"}):
            return
        b64 = base64.b64encode(self.image_bytes(faults)).decode()
        info = {"prompt": prompt, "seed": 1234, "steps": body.get("steps", 20),
                "width": body.get("width", 512), "height": body.get("height", 512)}
        self.send_inline_json(faults, {"images": [b64], "parameters": body, "info": json.dumps(info)})


def make_server(host="127.0.0.1", port=0):
    return common.FakeServer(A1111Handler, "automatic1111", host, port, api_prefix="")


if __name__ == "__main__":
    common.serve_main(make_server)
