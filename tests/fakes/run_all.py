#!/usr/bin/env python3
"""Starts every fake provider on a free loopback port, prints one line of JSON mapping provider
name -> base URL (what MODEL_N_BASE_URL should be), then serves until killed (SIGTERM/SIGINT).

  python3 tests/fakes/run_all.py [--latency-ms N] [--image small|big|huge]

"bedrock" (also under "bedrock_nova" and "bedrock_sd") is the root for MODEL_N_BASE_URL or
AWS_ENDPOINT_URL_BEDROCK_RUNTIME. Each server's own control endpoint is <origin>/_fake/...
(see README.md); "_origins" maps names to origins for that.
"""

import argparse
import json
import os
import signal
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import fake_automatic1111  # noqa: E402
import fake_bedrock  # noqa: E402
import fake_bfl  # noqa: E402
import fake_gemini  # noqa: E402
import fake_imagen  # noqa: E402
import fake_openai  # noqa: E402
import fake_openai_compatible  # noqa: E402
import fake_recraft  # noqa: E402
import fake_stability  # noqa: E402

MODULES = {
    "openai": fake_openai,
    "gemini": fake_gemini,
    "imagen": fake_imagen,
    "bedrock": fake_bedrock,
    "stability": fake_stability,
    "bfl": fake_bfl,
    "recraft": fake_recraft,
    "openai_compatible": fake_openai_compatible,
    "automatic1111": fake_automatic1111,
}


def start_all(latency_ms=0, image="small", host="127.0.0.1"):
    """Starts every fake in this process; returns {name: server}."""
    servers = {}
    for name, mod in MODULES.items():
        srv = mod.make_server(host=host, port=0)
        srv.state.latency_ms = latency_ms
        srv.state.image = image
        servers[name] = srv.start()
    return servers


def url_map(servers):
    out = {name: srv.base_url for name, srv in servers.items()}
    out["bedrock_nova"] = out["bedrock_sd"] = out["bedrock"]
    out["_origins"] = {name: srv.origin for name, srv in servers.items()}
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--latency-ms", type=int, default=0, help="delay before every answer")
    ap.add_argument("--image", default="small", choices=["small", "big", "huge"])
    args = ap.parse_args()
    servers = start_all(args.latency_ms, args.image)
    print(json.dumps(url_map(servers)), flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    for srv in servers.values():
        srv.shutdown()


if __name__ == "__main__":
    main()
