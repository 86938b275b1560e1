"""Fake OpenAI-compatible image server (LocalAI / stable-diffusion.cpp style): the OpenAI images
and chat routes without any key check, answering `url` unless `b64_json` is asked for.
Docs: https://localai.io/features/image-generation/ (OpenAI-compatible /v1/images/generations)
"""

try:
    from . import common
    from .fake_openai import OpenAIHandler
except ImportError:  # run as a script
    import common
    from fake_openai import OpenAIHandler


class CompatibleHandler(OpenAIHandler):
    require_key = False
    label = "openai_compatible"


def make_server(host="127.0.0.1", port=0):
    return common.FakeServer(CompatibleHandler, "openai_compatible", host, port, api_prefix="/v1")


if __name__ == "__main__":
    common.serve_main(make_server)
