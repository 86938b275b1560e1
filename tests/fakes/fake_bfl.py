"""Fake Black Forest Labs (FLUX) API.

POST /v1/{model} with x-key and {prompt, width, height} (or aspect_ratio) answers
{"id", "polling_url"}; GET polling_url (x-key) answers {"id", "status", "result"}: "Pending" for
a couple of polls ([fault:slowpoll=N] for N polls), then "Ready" with result.sample, a signed
download URL on this server that needs no key (a request that still carries x-key counts as a key
leak in /_fake/stats). Statuses by fault: [fault:moderated] Content Moderated,
[fault:request_moderated] Request Moderated, [fault:bfl_error] Error, [fault:task_not_found]
Task not found; an unknown id is "Task not found" too. Image faults (html, truncated, huge)
apply to the sample download.
Docs: https://docs.bfl.ai/quick_start/generating_images, https://docs.bfl.ai/api_integration/errors
"""

import re
import uuid

try:
    from . import common
except ImportError:
    import common

MODEL_RE = re.compile(r"^/v1/([a-z0-9.\-]+)$")


class BFLHandler(common.FakeHandler):
    def detail(self, status, detail):
        self.send_json(status, {"detail": detail})

    def handle_api(self, method):
        path = self.url.path
        if method == "GET" and path.startswith("/results/"):
            return self.sample()
        key = self.headers.get("x-key")
        if not key or key == "None":
            return self.detail(403, "Not authenticated - Invalid Authentication")
        if method == "GET" and path == "/v1/get_result":
            return self.poll()
        m = MODEL_RE.match(path)
        if method != "POST" or not m or m.group(1) == "get_result":
            return self.detail(404, "Not Found")
        return self.submit(m.group(1))

    def submit(self, model):
        body = self.json_body()
        if body is None:
            return self.detail(422, [{"loc": ["body"], "msg": "Input should be a valid dictionary", "type": "dict_type"}])
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not prompt:
            return self.detail(422, [{"loc": ["body", "prompt"], "msg": "Field required", "type": "missing"}])
        for dim in ("width", "height"):
            v = body.get(dim)
            if v is not None and (not isinstance(v, int) or v % 32 or not 256 <= v <= 1440):
                return self.detail(422, [{"loc": ["body", dim], "msg": "Input should be a multiple of 32 between 256 and 1440",
                                          "type": "multiple_of"}])
        faults = self.faults_for(prompt)
        if "401" in faults:
            return self.detail(403, "Not authenticated - Invalid Authentication")
        if self.pre_faults(faults, ("submit", prompt), error_429={"detail": "Too many active tasks"},
                           error_500={"detail": "Internal Server Error"}):
            return
        if "malformed" in faults:
            return self.send_malformed()
        task = str(uuid.uuid4())
        with self.st.lock:
            self.st.tasks[task] = {"prompt": prompt, "faults": faults, "polls": 0, "model": model}
        self.send_json(200, {"id": task, "polling_url": f"{self.origin}/v1/get_result?id={task}"})

    def poll(self):
        task_id = dict(p.partition("=")[::2] for p in self.url.query.split("&")).get("id", "")
        with self.st.lock:
            task = self.st.tasks.get(task_id)
            if task:
                task["polls"] += 1
        if not task or "task_not_found" in task["faults"]:
            return self.send_json(200, {"id": task_id, "status": "Task not found"})
        f = task["faults"]
        if "request_moderated" in f:
            return self.send_json(200, {"id": task_id, "status": "Request Moderated", "result": None,
                                        "details": {"Moderation Reasons": ["Derivative Works Filter"]}})
        if task["polls"] <= f.get("slowpoll", 2):
            return self.send_json(200, {"id": task_id, "status": "Pending", "result": None,
                                        "progress": min(0.9, task["polls"] / 4)})
        if "moderated" in f:
            return self.send_json(200, {"id": task_id, "status": "Content Moderated", "result": None,
                                        "details": {"Moderation Reasons": ["NSFW"]}})
        if "bfl_error" in f:
            return self.send_json(200, {"id": task_id, "status": "Error", "result": None,
                                        "error": "Internal generation failure"})
        sample = f"{self.origin}/results/{task_id}/sample.png?se=2099-01-01T00%3A00%3A00Z&sig=fake"
        self.send_json(200, {"id": task_id, "status": "Ready", "progress": None,
                             "result": {"sample": sample, "prompt": task["prompt"], "seed": 42,
                                        "start_time": 1.0, "end_time": 2.0, "duration": 1.0}})

    def sample(self):
        task_id = self.url.path.split("/")[2]
        with self.st.lock:
            task = self.st.tasks.get(task_id)
            if self.headers.get("x-key") or self.headers.get("Authorization"):
                self.st.key_leaks += 1
        if not task:
            return self.send_bytes(404, b"<Error><Code>BlobNotFound</Code></Error>", "application/xml")
        self.send_image(task["faults"])


def make_server(host="127.0.0.1", port=0):
    return common.FakeServer(BFLHandler, "bfl", host, port, api_prefix="/v1")


if __name__ == "__main__":
    common.serve_main(make_server)
