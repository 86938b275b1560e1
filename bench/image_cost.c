/* Where the CPU of one result image goes: image_thumbnail() (src/engine/image.c, what a worker
 * runs for every image) on a PNG file, timed as a whole and step by step with the same libraries
 * and settings (libspng decode to RGBA, WebPPictureImportRGBX/RGBA with use_argb, WebPPictureRescale
 * to 256 px, WebPEncode at quality 80), plus base64 decoding of the same image as the engine's I/O
 * thread does for b64_json answers (pu_base64_decode) and jansson parsing of that JSON answer.
 *
 *   make all && cc -O2 -std=c11 -D_GNU_SOURCE -Isrc bench/image_cost.c build/libpixelprompt.a \
 *      $(pkg-config --cflags --libs libmicrohttpd libcurl jansson sqlite3 spng libjpeg libwebp libzip openssl) \
 *      -lpthread -lm -o /tmp/image_cost
 *   /tmp/image_cost FILE.png [iterations]
 * (bench/image_cost.sh does both and makes the 1024x1024 benchmark PNG with tests/fakes/common.py)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <spng.h>
#include <webp/encode.h>

#include "engine/image.h"
#include "providers/provider_util.h"
#include "util/buf.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double med(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp);
    return v[n / 2];
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE.png [iterations]\n", argv[0]);
        return 2;
    }
    int iters = argc > 2 ? atoi(argv[2]) : 30;
    FILE *f = fopen(argv[1], "rb");
    if (!f) return perror(argv[1]), 1;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *png = malloc((size_t)len);
    if (fread(png, 1, (size_t)len, f) != (size_t)len) return 1;
    fclose(f);

    double *t_all = calloc((size_t)iters, sizeof(double)), *t_dec = calloc((size_t)iters, sizeof(double)),
           *t_imp = calloc((size_t)iters, sizeof(double)), *t_res = calloc((size_t)iters, sizeof(double)),
           *t_enc = calloc((size_t)iters, sizeof(double)), *t_val = calloc((size_t)iters, sizeof(double)),
           *t_b64 = calloc((size_t)iters, sizeof(double)), *t_json = calloc((size_t)iters, sizeof(double)),
           *t_enc1 = calloc((size_t)iters, sizeof(double));
    struct image_info info;
    struct buf b64 = BUF_INIT;
    pu_base64_encode(png, (size_t)len, &b64);
    struct buf js = BUF_INIT;
    buf_append_str(&js, "{\"created\": 1, \"data\": [{\"b64_json\": \"");
    buf_append(&js, b64.data, b64.len);
    buf_append_str(&js, "\"}]}");

    for (int i = 0; i < iters; i++) {
        struct buf thumb = BUF_INIT;
        double t0 = now_ms();
        int rc = image_thumbnail(png, (size_t)len, NULL, 256, &thumb, &info);
        t_all[i] = now_ms() - t0;
        if (rc != IMAGE_OK) return fprintf(stderr, "image_thumbnail: %d\n", rc), 1;
        buf_free(&thumb);

        t0 = now_ms();
        image_validate(png, (size_t)len, NULL, &info);
        t_val[i] = now_ms() - t0;

        /* the same steps by hand */
        t0 = now_ms();
        spng_ctx *ctx = spng_ctx_new(0);
        spng_set_png_buffer(ctx, png, (size_t)len);
        struct spng_ihdr ih;
        spng_get_ihdr(ctx, &ih);
        size_t out_len = (size_t)ih.width * ih.height * 4;
        unsigned char *px = malloc(out_len);
        spng_decode_image(ctx, px, out_len, SPNG_FMT_RGBA8, SPNG_DECODE_TRNS);
        spng_decode_chunks(ctx);
        spng_ctx_free(ctx);
        t_dec[i] = now_ms() - t0;

        WebPPicture pic;
        WebPConfig cfg;
        WebPPictureInit(&pic);
        WebPConfigInit(&cfg);
        cfg.quality = 80;
        pic.use_argb = 1;
        pic.width = (int)ih.width;
        pic.height = (int)ih.height;
        t0 = now_ms();
        WebPPictureImportRGBX(&pic, px, (int)ih.width * 4);
        t_imp[i] = now_ms() - t0;
        free(px);
        t0 = now_ms();
        if (ih.width > 256) /* image_thumbnail only shrinks (fit_size) */
            WebPPictureRescale(&pic, 256, 256 * (int)ih.height / (int)ih.width);
        t_res[i] = now_ms() - t0;
        WebPMemoryWriter wr;
        WebPMemoryWriterInit(&wr);
        pic.writer = WebPMemoryWrite;
        pic.custom_ptr = &wr;
        t0 = now_ms();
        WebPEncode(&cfg, &pic);
        t_enc[i] = now_ms() - t0;
        WebPMemoryWriterClear(&wr);
        WebPMemoryWriterInit(&wr);
        cfg.method = 1; /* for comparison: a faster encoder setting, not what the server uses */
        t0 = now_ms();
        WebPEncode(&cfg, &pic);
        t_enc1[i] = now_ms() - t0;
        WebPMemoryWriterClear(&wr);
        WebPPictureFree(&pic);

        struct buf raw = BUF_INIT;
        t0 = now_ms();
        pu_base64_decode(b64.data, b64.len, &raw);
        t_b64[i] = now_ms() - t0;
        buf_free(&raw);

        t0 = now_ms();
        json_t *root = json_loadb(js.data, js.len, JSON_DECODE_ANY, NULL);
        t_json[i] = now_ms() - t0;
        json_decref(root);
    }
    printf("image %s: %ld bytes, %dx%d; CPU ms per call, median of %d (this thread's CPU clock)\n",
           argv[1], len, info.width, info.height, iters);
    printf("  image_thumbnail() total (what a worker runs) %7.2f\n", med(t_all, iters));
    printf("    spng decode to RGBA                         %7.2f\n", med(t_dec, iters));
    printf("    WebPPictureImportRGBX (use_argb)            %7.2f\n", med(t_imp, iters));
    printf("    WebPPictureRescale to 256 px (if larger)    %7.2f\n", med(t_res, iters));
    printf("    WebPEncode 256 px, quality 80               %7.2f\n", med(t_enc, iters));
    printf("    (WebPEncode with method 1 instead of 4:     %7.2f, for comparison)\n", med(t_enc1, iters));
    printf("  image_validate() (streaming, no thumbnail)    %7.2f\n", med(t_val, iters));
    printf("  b64_json answer (%zu bytes), I/O thread work:\n", js.len);
    printf("    json_loadb (jansson)                        %7.2f\n", med(t_json, iters));
    printf("    pu_base64_decode                            %7.2f\n", med(t_b64, iters));
    return 0;
}
