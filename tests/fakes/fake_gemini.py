"""Fake Gemini API: POST /v1beta/models/{model}:generateContent with the key in x-goog-api-key.

With generationConfig.responseModalities containing "IMAGE" it answers a text part and an
inlineData PNG part (camelCase, as the REST API does); otherwise (prompt enhancement) a text
answer. Faults: [fault:safety] -> candidate finishReason IMAGE_SAFETY with no content,
[fault:blocked] -> promptFeedback.blockReason PROHIBITED_CONTENT and no candidates.
Docs: https://ai.google.dev/gemini-api/docs/image-generation, https://ai.google.dev/api/generate-content
"""

import base64
import re

try:
    from . import common
except ImportError:
    import common

PATH_RE = re.compile(r"^/v1beta/models/([^/:]+):(generateContent|predict)$")


def google_error(handler, status, message, state):
    handler.send_json(status, {"error": {"code": status, "message": message, "status": state}})


class GeminiHandler(common.FakeHandler):
    action = "generateContent"

    def handle_api(self, method):
        m = PATH_RE.match(self.url.path)
        if method != "POST" or not m or m.group(2) != self.action:
            return google_error(self, 404, f"Method not found: {self.url.path}", "NOT_FOUND")
        key = self.headers.get("x-goog-api-key")
        if not key or key == "None":
            return google_error(self, 403, "Method doesn't allow unregistered callers (callers without "
                                "established identity). Please use API Key or other form of API consumer "
                                "identity to call this API.", "PERMISSION_DENIED")
        body = self.json_body()
        if body is None:
            return google_error(self, 400, "Invalid JSON payload received.", "INVALID_ARGUMENT")
        return self.generate(m.group(1), body)

    def generate(self, model, body):
        contents = body.get("contents")
        try:
            text = " ".join(p.get("text", "") for c in contents for p in c.get("parts", []))
        except (TypeError, AttributeError):
            return google_error(self, 400, "* GenerateContentRequest.contents: contents is not specified",
                                "INVALID_ARGUMENT")
        if not text:
            return google_error(self, 400, "* GenerateContentRequest.contents[0].parts: contents.parts must "
                                "not be empty.", "INVALID_ARGUMENT")
        faults = self.faults_for(text)
        if "401" in faults:
            return google_error(self, 400, "API key not valid. Please pass a valid API key.", "INVALID_ARGUMENT")
        if self.pre_faults(faults, ("gen", text),
                           error_429={"error": {"code": 429, "message": "Resource has been exhausted (e.g. check quota).",
                                                "status": "RESOURCE_EXHAUSTED"}},
                           error_500={"error": {"code": 500, "message": "An internal error has occurred.",
                                                "status": "INTERNAL"}}):
            return
        usage = {"promptTokenCount": 9, "totalTokenCount": 9}
        if "blocked" in faults:
            return self.send_json(200, {"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"},
                                        "usageMetadata": usage, "modelVersion": model})
        if "safety" in faults:
            return self.send_json(200, {"candidates": [{"finishReason": "IMAGE_SAFETY", "index": 0}],
                                        "usageMetadata": usage, "modelVersion": model})
        modalities = [str(x).upper() for x in (body.get("generationConfig") or {}).get("responseModalities", [])]
        if "IMAGE" in modalities:
            parts = [{"text": "Here is your image."},
                     {"inlineData": {"mimeType": "image/png",
                                     "data": base64.b64encode(self.image_bytes(faults)).decode()}}]
        else:
            if "malformed" in faults:
                return self.send_malformed()
            parts = [{"text": common.enhance_variants(text, faults)}]
        return self.send_inline_json(faults, {"candidates": [{"content": {"parts": parts, "role": "model"},
                                                              "finishReason": "STOP", "index": 0}],
                                              "usageMetadata": usage, "modelVersion": model})


def make_server(host="127.0.0.1", port=0):
    return common.FakeServer(GeminiHandler, "gemini", host, port, api_prefix="/v1beta")


if __name__ == "__main__":
    common.serve_main(make_server)
