"""Fake Imagen on the Gemini API: POST /v1beta/models/{model}:predict with x-goog-api-key and
{"instances":[{"prompt"}], "parameters":{"sampleCount"}}; answers
{"predictions":[{"mimeType","bytesBase64Encoded"}]}. [fault:safety] answers {} (every image
filtered, as the API does). Docs: https://ai.google.dev/gemini-api/docs/imagen
"""

import base64

try:
    from . import common
    from .fake_gemini import GeminiHandler, google_error
except ImportError:
    import common
    from fake_gemini import GeminiHandler, google_error


class ImagenHandler(GeminiHandler):
    action = "predict"

    def generate(self, model, body):
        inst = body.get("instances")
        if not isinstance(inst, list) or not inst or not isinstance(inst[0], dict) or not inst[0].get("prompt"):
            return google_error(self, 400, "* PredictRequest.instances[0].prompt: prompt is required",
                                "INVALID_ARGUMENT")
        count = (body.get("parameters") or {}).get("sampleCount", 4)
        if not isinstance(count, int) or not 1 <= count <= 4:
            return google_error(self, 400, "sampleCount must be between 1 and 4", "INVALID_ARGUMENT")
        prompt = inst[0]["prompt"]
        faults = self.faults_for(prompt)
        if "401" in faults:
            return google_error(self, 400, "API key not valid. Please pass a valid API key.", "INVALID_ARGUMENT")
        if self.pre_faults(faults, ("predict", prompt),
                           error_429={"error": {"code": 429, "message": "Resource has been exhausted.",
                                                "status": "RESOURCE_EXHAUSTED"}},
                           error_500={"error": {"code": 500, "message": "Internal error.", "status": "INTERNAL"}}):
            return
        if "safety" in faults:
            return self.send_json(200, {})
        b64 = base64.b64encode(self.image_bytes(faults)).decode()
        preds = [{"mimeType": "image/png", "bytesBase64Encoded": b64} for _ in range(count)]
        return self.send_inline_json(faults, {"predictions": preds})


def make_server(host="127.0.0.1", port=0):
    return common.FakeServer(ImagenHandler, "imagen", host, port, api_prefix="/v1beta")


if __name__ == "__main__":
    common.serve_main(make_server)
