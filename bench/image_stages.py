#!/usr/bin/env python3
"""Where the per-image time goes in the demo fan-out: times, in this process, the same library
calls the server makes for each result, on real demo pictures made by the real binary.

  PNG decode   libspng decode to RGBA8 (the server's validation + thumbnail source decode)
  PNG encode   libspng encode RGB, compression level 1, no filter (the demo renderer's encode)
  WebP thumb   libwebp import RGBX + rescale to <= 256 px + lossy encode q80; the server uses
               WebPConfigInit's default method (4); methods 2, 1 and 0 are shown for comparison

The demo drawing itself and the file/SQLite writes are not reproducible from Python; the server
CPU per image from bench/fanout.py ("server CPU s/batch" / 9) bounds the whole.

Python stdlib + ctypes only (libspng.so.0, libwebp.so.7, the same shared objects the binary
links). Starts the binary once per size with DEMO_LATENCY_MS=0 to get one job's 4 pictures.

usage: bench/image_stages.py [--sizes 512,256] [--reps 30]
"""
import argparse
import ctypes as C
import http.client
import json
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
spng = C.CDLL("libspng.so.0")
webp = C.CDLL("libwebp.so.7")
WEBP_ABI = 0x020F


class SpngIhdr(C.Structure):
    _fields_ = [("width", C.c_uint32), ("height", C.c_uint32), ("bit_depth", C.c_uint8),
                ("color_type", C.c_uint8), ("compression_method", C.c_uint8),
                ("filter_method", C.c_uint8), ("interlace_method", C.c_uint8)]


class WebPConfig(C.Structure):
    _fields_ = [("lossless", C.c_int), ("quality", C.c_float), ("method", C.c_int)] + \
        [("f%d" % i, C.c_int) for i in range(3)] + [("target_PSNR", C.c_float)] + \
        [("g%d" % i, C.c_int) for i in range(22)]


class WebPPicture(C.Structure):
    _fields_ = [("use_argb", C.c_int), ("colorspace", C.c_int), ("width", C.c_int),
                ("height", C.c_int), ("y", C.c_void_p), ("u", C.c_void_p), ("v", C.c_void_p),
                ("y_stride", C.c_int), ("uv_stride", C.c_int), ("a", C.c_void_p),
                ("a_stride", C.c_int), ("pad1", C.c_uint32 * 2), ("argb", C.c_void_p),
                ("argb_stride", C.c_int), ("pad2", C.c_uint32 * 3), ("writer", C.c_void_p),
                ("custom_ptr", C.c_void_p), ("extra_info_type", C.c_int),
                ("extra_info", C.c_void_p), ("stats", C.c_void_p), ("error_code", C.c_int),
                ("progress_hook", C.c_void_p), ("user_data", C.c_void_p),
                ("pad3", C.c_uint32 * 3), ("pad4", C.c_void_p), ("pad5", C.c_void_p),
                ("pad6", C.c_uint32 * 8), ("memory_", C.c_void_p), ("memory_argb_", C.c_void_p),
                ("pad7", C.c_void_p * 2)]


class WebPMemoryWriter(C.Structure):
    _fields_ = [("mem", C.c_void_p), ("size", C.c_size_t), ("max_size", C.c_size_t),
                ("pad", C.c_uint32 * 1)]


spng.spng_ctx_new.restype = C.c_void_p
spng.spng_ctx_new.argtypes = [C.c_int]
spng.spng_ctx_free.argtypes = [C.c_void_p]
spng.spng_set_png_buffer.argtypes = [C.c_void_p, C.c_char_p, C.c_size_t]
spng.spng_decoded_image_size.argtypes = [C.c_void_p, C.c_int, C.POINTER(C.c_size_t)]
spng.spng_decode_image.argtypes = [C.c_void_p, C.c_void_p, C.c_size_t, C.c_int, C.c_int]
spng.spng_set_ihdr.argtypes = [C.c_void_p, C.POINTER(SpngIhdr)]
spng.spng_set_option.argtypes = [C.c_void_p, C.c_int, C.c_int]
spng.spng_encode_image.argtypes = [C.c_void_p, C.c_void_p, C.c_size_t, C.c_int, C.c_int]
spng.spng_get_png_buffer.restype = C.c_void_p
spng.spng_get_png_buffer.argtypes = [C.c_void_p, C.POINTER(C.c_size_t), C.POINTER(C.c_int)]
spng.spng_get_ihdr.argtypes = [C.c_void_p, C.POINTER(SpngIhdr)]
libc = C.CDLL(None)
libc.free.argtypes = [C.c_void_p]
webp.WebPConfigInitInternal.argtypes = [C.POINTER(WebPConfig), C.c_int, C.c_float, C.c_int]
webp.WebPPictureInitInternal.argtypes = [C.POINTER(WebPPicture), C.c_int]
webp.WebPPictureImportRGBX.argtypes = [C.POINTER(WebPPicture), C.c_void_p, C.c_int]
webp.WebPPictureRescale.argtypes = [C.POINTER(WebPPicture), C.c_int, C.c_int]
webp.WebPEncode.argtypes = [C.POINTER(WebPConfig), C.POINTER(WebPPicture)]
webp.WebPPictureFree.argtypes = [C.POINTER(WebPPicture)]
webp.WebPMemoryWriterInit.argtypes = [C.POINTER(WebPMemoryWriter)]
webp.WebPMemoryWriterClear.argtypes = [C.POINTER(WebPMemoryWriter)]
MEMORY_WRITE = C.cast(webp.WebPMemoryWrite, C.c_void_p).value


def png_decode(data):
    ctx = spng.spng_ctx_new(0)
    spng.spng_set_png_buffer(ctx, data, len(data))
    ihdr = SpngIhdr()
    assert spng.spng_get_ihdr(ctx, C.byref(ihdr)) == 0
    n = C.c_size_t()
    spng.spng_decoded_image_size(ctx, 1, C.byref(n))
    out = C.create_string_buffer(n.value)
    e = spng.spng_decode_image(ctx, out, n.value, 1, 1)  # RGBA8, DECODE_TRNS
    spng.spng_ctx_free(ctx)
    assert e == 0, e
    return out, ihdr.width, ihdr.height


def png_encode(rgb, w, h):
    ctx = spng.spng_ctx_new(2)  # encoder
    ihdr = SpngIhdr(w, h, 8, 2, 0, 0, 0)
    spng.spng_set_option(ctx, 12, 1)  # ENCODE_TO_BUFFER
    spng.spng_set_ihdr(ctx, C.byref(ihdr))
    spng.spng_set_option(ctx, 2, 1)  # IMG_COMPRESSION_LEVEL 1
    spng.spng_set_option(ctx, 10, 8)  # FILTER_CHOICE NONE
    e = spng.spng_encode_image(ctx, rgb, len(rgb), 256, 2)  # FMT_PNG, ENCODE_FINALIZE
    n, err = C.c_size_t(), C.c_int()
    p = spng.spng_get_png_buffer(ctx, C.byref(n), C.byref(err))
    spng.spng_ctx_free(ctx)
    assert e == 0 and p, (e, err.value)
    libc.free(p)
    return n.value


def webp_thumb(rgba, w, h, method):
    cfg, pic, wr = WebPConfig(), WebPPicture(), WebPMemoryWriter()
    assert webp.WebPConfigInitInternal(C.byref(cfg), 0, 75.0, WEBP_ABI)
    cfg.quality = 80.0
    if method is not None:
        cfg.method = method
    assert webp.WebPPictureInitInternal(C.byref(pic), WEBP_ABI)
    pic.use_argb, pic.width, pic.height = 1, w, h
    assert webp.WebPPictureImportRGBX(C.byref(pic), rgba, w * 4)
    side = max(w, h)
    if side > 256:
        assert webp.WebPPictureRescale(C.byref(pic), w * 256 // side, h * 256 // side)
    webp.WebPMemoryWriterInit(C.byref(wr))
    pic.writer, pic.custom_ptr = MEMORY_WRITE, C.cast(C.byref(wr), C.c_void_p).value
    ok = webp.WebPEncode(C.byref(cfg), C.byref(pic))
    size = wr.size
    webp.WebPPictureFree(C.byref(pic))
    webp.WebPMemoryWriterClear(C.byref(wr))
    assert ok
    return size


def timed(fn, reps):
    xs = []
    r = None
    for _ in range(reps):
        t = time.perf_counter()
        r = fn()
        xs.append((time.perf_counter() - t) * 1000.0)
    return statistics.median(xs), r


def demo_pictures(size, port):
    d = tempfile.mkdtemp(prefix="pp-bench-img-")
    env = dict(os.environ, PORT=str(port), DATA_DIR=os.path.join(d, "data"), DEMO_LATENCY_MS="0",
               DEMO_IMAGE_SIZE=str(size))
    log = open(os.path.join(d, "serve.log"), "w")
    p = subprocess.Popen([os.path.join(ROOT, "build", "pixelprompt"), "serve"], env=env,
                         stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(400):
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("GET", "/healthz")
                if c.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.025)
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.request("POST", "/generate", json.dumps({"prompt": "a lighthouse on a cliff at dusk"}),
                  {"Content-Type": "application/json"})
        job = json.loads(c.getresponse().read())["jobId"]
        while True:
            c.request("GET", "/status/" + job)
            doc = json.loads(c.getresponse().read())
            if doc["status"] in ("completed", "partial", "failed"):
                break
            time.sleep(0.02)
        out = []
        for r in doc["results"]:
            c.request("GET", r["imageUrl"])
            png = c.getresponse().read()
            c.request("GET", r["thumbnailUrl"])
            thumb = c.getresponse().read()
            out.append((r["model"], png, len(thumb)))
        return out
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=30)
        log.close()
        shutil.rmtree(d, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="512,256")
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--port", type=int, default=18140)
    a = ap.parse_args()
    print("# image_stages: median of %d repetitions per picture, one thread, ms per picture"
          % a.reps)
    print("%-5s %-15s %7s %9s %9s %9s %9s %9s %9s %9s" % (
        "size", "model", "PNG KB", "decode", "encode", "webp m4", "webp m2", "webp m1",
        "webp m0", "  thumb KB m4/m2/m1/m0"))
    for size in [int(s) for s in a.sizes.split(",")]:
        rows = []
        for model, png, server_thumb in demo_pictures(size, a.port):
            dec, (rgba, w, h) = timed(lambda: png_decode(png), a.reps)
            raw = bytes(rgba)
            rgb = bytearray(w * h * 3)
            rgb[0::3], rgb[1::3], rgb[2::3] = raw[0::4], raw[1::4], raw[2::4]
            rgb = bytes(rgb)
            enc, _ = timed(lambda: png_encode(rgb, w, h), a.reps)
            wt, ws = {}, {}
            for m in (4, 2, 1, 0):
                wt[m], ws[m] = timed(lambda: webp_thumb(rgba, w, h, m), a.reps)
            m4size = ws[4]
            rows.append((dec, enc, wt[4], wt[2], wt[1], wt[0]))
            print("%-5d %-15s %7.1f %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f   %s" % (
                size, model, len(png) / 1024, dec, enc, wt[4], wt[2], wt[1], wt[0],
                "/".join("%.1f" % (ws[m] / 1024) for m in (4, 2, 1, 0))))
            assert abs(m4size - server_thumb) <= max(64, server_thumb // 20), \
                "thumbnail differs from the server's (%d vs %d bytes): settings differ" % (
                    m4size, server_thumb)
        mean = [statistics.mean(r[i] for r in rows) for i in range(6)]
        print("%-5d %-15s %7s %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f" % (size, "mean", "", *mean))


if __name__ == "__main__":
    main()
