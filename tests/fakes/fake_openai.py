"""Fake OpenAI API: POST /v1/images/generations and POST /v1/chat/completions.

Follows https://platform.openai.com/docs/api-reference/images/create: DALL-E models answer with
`url` by default (served by this fake under /files/) or `b64_json` when asked; GPT image models
always answer `b64_json` and reject `response_format`. Errors use {"error": {"message", "type",
"code"}}. fake_openai_compatible.py reuses this handler without key checks.
"""

import base64
import time

try:
    from . import common
except ImportError:  # run as a script
    import common


class OpenAIHandler(common.FakeHandler):
    require_key = True
    label = "openai"

    def error(self, status, message, typ="invalid_request_error", code=None, headers=None):
        self.send_json(status, {"error": {"message": message, "type": typ, "param": None, "code": code}}, headers)

    def handle_api(self, method):
        path = self.url.path
        if method == "GET" and path.startswith("/files/"):
            return self.handle_file()
        if method != "POST":
            return self.error(404, f"Invalid URL ({method} {path})")
        if self.require_key and not self.bearer():
            return self.error(401, "You didn't provide an API key. You need to provide your API key in an "
                              "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                              code="missing_api_key")
        body = self.json_body()
        if body is None:
            return self.error(400, "We could not parse the JSON body of your request.")
        if path.endswith("/images/generations"):
            return self.images(body)
        if path.endswith("/chat/completions"):
            return self.chat(body)
        return self.error(404, f"Invalid URL (POST {path})")

    def images(self, body):
        prompt = body.get("prompt")
        model = body.get("model") or "dall-e-2"
        if not isinstance(prompt, str) or not prompt:
            return self.error(400, "'prompt' is a required property")
        faults = self.faults_for(prompt)
        if "401" in faults or self.bearer() == "bad-key":
            return self.error(401, f"Incorrect API key provided: {self.bearer() or ''}. You can find your "
                              "API key at https://platform.openai.com/account/api-keys.", code="invalid_api_key")
        if self.pre_faults(faults, ("images", prompt)):
            return
        if "safety" in faults:
            return self.error(400, "Your request was rejected as a result of our safety system.",
                              code="content_policy_violation")
        fmt = body.get("response_format")
        gpt_image = model.startswith("gpt-image")
        if gpt_image and fmt is not None:
            return self.error(400, "Unknown parameter: 'response_format'.", code="unknown_parameter")
        if gpt_image and body.get("quality") == "standard":
            return self.error(400, "Invalid value: 'standard'. Supported values are: 'low', 'medium', 'high', "
                              "and 'auto'.", code="invalid_value")
        if fmt not in (None, "url", "b64_json"):
            return self.error(400, f"Invalid value: '{fmt}'. Supported values are: 'url' and 'b64_json'.")
        if body.get("n", 1) != 1:
            return self.error(400, "n must be 1 for this model")
        created = int(time.time())
        if gpt_image or fmt == "b64_json":
            b64 = base64.b64encode(self.image_bytes(faults)).decode()
            return self.send_inline_json(faults, {"created": created, "data": [{"b64_json": b64}]})
        item = {"url": self.file_url(prompt)}
        if model == "dall-e-3":
            item["revised_prompt"] = prompt
        if "malformed" in faults:
            return self.send_malformed()
        return self.send_json(200, {"created": created, "data": [item]})

    def chat(self, body):
        model = body.get("model") or ""
        msgs = body.get("messages")
        if not isinstance(msgs, list) or not msgs:
            return self.error(400, "'messages' is a required property")
        if model.startswith(("dall-e", "gpt-image")):
            return self.error(404, f"The model `{model}` does not exist or you do not have access to it.",
                              code="model_not_found")
        if "max_tokens" in body and model.startswith(("gpt-5", "o1", "o3", "o4")):
            return self.error(400, "Unsupported parameter: 'max_tokens' is not supported with this model. "
                              "Use 'max_completion_tokens' instead.", code="unsupported_parameter")
        user = next((m.get("content", "") for m in reversed(msgs) if m.get("role") == "user"), "")
        if not isinstance(user, str):
            user = " ".join(p.get("text", "") for p in user if isinstance(p, dict))
        faults = self.faults_for(user)
        if "401" in faults:
            return self.error(401, "Incorrect API key provided.", code="invalid_api_key")
        if self.pre_faults(faults, ("chat", user)):
            return
        if "malformed" in faults:
            return self.send_malformed()
        if "safety" in faults:
            choice = {"index": 0, "message": {"role": "assistant", "content": None}, "finish_reason": "content_filter"}
        else:
            choice = {"index": 0, "message": {"role": "assistant", "content": common.enhance_variants(user, faults)},
                      "finish_reason": "stop"}
        self.send_json(200, {"id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
                             "model": model, "choices": [choice],
                             "usage": {"prompt_tokens": 10, "completion_tokens": 50, "total_tokens": 60}})


def make_server(host="127.0.0.1", port=0):
    return common.FakeServer(OpenAIHandler, "openai", host, port, api_prefix="/v1")


if __name__ == "__main__":
    common.serve_main(make_server)
