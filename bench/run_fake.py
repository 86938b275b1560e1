#!/usr/bin/env python3
"""Runs one fake provider from tests/fakes/ unchanged, optionally with TCP_NODELAY on its
connections (--nodelay). Python's http.server writes the response headers and the body in two
send() calls; with Nagle's algorithm on, the body then waits for the client's delayed ACK (~40 ms
on Linux) whenever the connection is no longer in quick-ACK mode (a reused keep-alive connection).
That stall belongs to the fake, not to the engine, so the benchmarks measure with --nodelay and
report the stock fake side by side.

  python3 bench/run_fake.py MODULE [--nodelay] [--port 0] [--latency-ms N] [--image big]
  (MODULE: openai_compatible, openai, gemini, imagen, bedrock, stability, recraft, bfl, automatic1111)
"""
import importlib
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "tests", "fakes"))
import common  # noqa: E402


def main():
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    module = importlib.import_module("fake_" + args.pop(0))
    if "--nodelay" in args:
        args.remove("--nodelay")
        common.FakeHandler.disable_nagle_algorithm = True  # socketserver.StreamRequestHandler
    common.serve_main(module.make_server, args)


if __name__ == "__main__":
    main()
