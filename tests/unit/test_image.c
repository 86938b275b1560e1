/* Unit tests for src/engine/image: validation, limits and thumbnails. Every fixture is made
 * here with the reference encoders (spng, libjpeg, libwebp), so no binary files are checked in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jpeglib.h>
#include <spng.h>
#include <webp/decode.h>
#include <webp/encode.h>

#include "engine/image.h"
#include "util/buf.h"

static const struct image_limits LIM = {16u << 20, 4096};

/* A gradient with a little texture: compresses like a real picture, not like a flat fill. */
static unsigned char *pattern(int w, int h, int channels)
{
    unsigned char *p = malloc((size_t)w * (size_t)h * (size_t)channels);
    assert_non_null(p);
    uint32_t s = 12345;
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            s = s * 1103515245u + 12345u;
            unsigned char *q = p + ((size_t)y * (size_t)w + (size_t)x) * (size_t)channels;
            int n = (int)((s >> 16) & 15);
            q[0] = (unsigned char)(x * 255 / w);
            if (channels > 1) q[1] = (unsigned char)(y * 255 / h);
            if (channels > 2) q[2] = (unsigned char)((x + y + n) & 255);
            if (channels > 3) q[3] = (unsigned char)(x < w / 2 ? 255 : 96);
        }
    }
    return p;
}

static void make_png(int w, int h, struct buf *out)
{
    unsigned char *rgb = pattern(w, h, 3);
    assert_int_equal(image_encode_png_rgb(rgb, w, h, out), IMAGE_OK);
    free(rgb);
}

/* RGBA or 16-bit grey straight through spng, to cover decode paths beyond RGB8. */
static void make_png_spng(int w, int h, int color_type, int depth, struct buf *out)
{
    int ch = color_type == SPNG_COLOR_TYPE_TRUECOLOR_ALPHA ? 4 : 1;
    int bpc = depth / 8;
    unsigned char *px = pattern(w * bpc, h, ch);
    spng_ctx *ctx = spng_ctx_new(SPNG_CTX_ENCODER);
    assert_non_null(ctx);
    struct spng_ihdr ihdr = {.width = (uint32_t)w,
                             .height = (uint32_t)h,
                             .bit_depth = (uint8_t)depth,
                             .color_type = (uint8_t)color_type};
    assert_int_equal(spng_set_option(ctx, SPNG_ENCODE_TO_BUFFER, 1), 0);
    assert_int_equal(spng_set_ihdr(ctx, &ihdr), 0);
    assert_int_equal(spng_encode_image(ctx, px, (size_t)w * (size_t)h * (size_t)(ch * bpc),
                                       SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE),
                     0);
    size_t n = 0;
    int err = 0;
    void *png = spng_get_png_buffer(ctx, &n, &err);
    assert_non_null(png);
    assert_int_equal(buf_append(out, png, n), 0);
    free(png);
    spng_ctx_free(ctx);
    free(px);
}

static void make_jpeg(int w, int h, J_COLOR_SPACE cs, struct buf *out)
{
    int ch = cs == JCS_GRAYSCALE ? 1 : cs == JCS_CMYK ? 4 : 3;
    unsigned char *px = pattern(w, h, ch);
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr err;
    c.err = jpeg_std_error(&err);
    jpeg_create_compress(&c);
    unsigned char *mem = NULL;
    unsigned long n = 0;
    jpeg_mem_dest(&c, &mem, &n);
    c.image_width = (JDIMENSION)w;
    c.image_height = (JDIMENSION)h;
    c.input_components = ch;
    c.in_color_space = cs;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, 85, TRUE);
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = px + (size_t)c.next_scanline * (size_t)w * (size_t)ch;
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    assert_int_equal(buf_append(out, mem, n), 0);
    free(mem);
    free(px);
}

static void make_webp(int w, int h, struct buf *out)
{
    unsigned char *rgb = pattern(w, h, 3);
    uint8_t *webp = NULL;
    size_t n = WebPEncodeRGB(rgb, w, h, w * 3, 80, &webp);
    assert_true(n > 0);
    assert_int_equal(buf_append(out, webp, n), 0);
    WebPFree(webp);
    free(rgb);
}

static void assert_valid(const struct buf *b, enum image_format f, int w, int h)
{
    struct image_info info;
    assert_int_equal(image_validate(b->data, b->len, &LIM, &info), IMAGE_OK);
    assert_int_equal(info.format, f);
    assert_int_equal(info.width, w);
    assert_int_equal(info.height, h);
}

static void each_format_validates(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    make_png(320, 200, &b);
    assert_int_equal(image_sniff(b.data, b.len), IMAGE_PNG);
    assert_valid(&b, IMAGE_PNG, 320, 200);
    buf_reset(&b);
    make_png_spng(64, 48, SPNG_COLOR_TYPE_TRUECOLOR_ALPHA, 8, &b);
    assert_valid(&b, IMAGE_PNG, 64, 48);
    buf_reset(&b);
    make_png_spng(33, 17, SPNG_COLOR_TYPE_GRAYSCALE, 16, &b);
    assert_valid(&b, IMAGE_PNG, 33, 17);
    buf_reset(&b);
    make_jpeg(321, 199, JCS_RGB, &b);
    assert_int_equal(image_sniff(b.data, b.len), IMAGE_JPEG);
    assert_valid(&b, IMAGE_JPEG, 321, 199);
    buf_reset(&b);
    make_jpeg(50, 40, JCS_GRAYSCALE, &b);
    assert_valid(&b, IMAGE_JPEG, 50, 40);
    buf_reset(&b);
    make_jpeg(50, 40, JCS_CMYK, &b);
    assert_valid(&b, IMAGE_JPEG, 50, 40);
    buf_reset(&b);
    make_webp(300, 301, &b);
    assert_int_equal(image_sniff(b.data, b.len), IMAGE_WEBP);
    assert_valid(&b, IMAGE_WEBP, 300, 301);
    buf_reset(&b);
    make_webp(5, 3, &b); /* smaller than the 1/8 validation output */
    assert_valid(&b, IMAGE_WEBP, 5, 3);
    buf_free(&b);
}

static void names(void **state)
{
    (void)state;
    assert_string_equal(image_mime(IMAGE_PNG), "image/png");
    assert_string_equal(image_mime(IMAGE_JPEG), "image/jpeg");
    assert_string_equal(image_mime(IMAGE_WEBP), "image/webp");
    assert_string_equal(image_extension(IMAGE_JPEG), "jpg");
    assert_string_equal(image_extension(IMAGE_WEBP), "webp");
    assert_non_null(image_strerror(IMAGE_ERR_CORRUPT));
}

static void assert_rc(const struct buf *b, size_t len, int rc)
{
    struct image_info info = {IMAGE_PNG, 7, 7};
    assert_int_equal(image_validate(b->data, len, &LIM, &info), rc);
    assert_int_equal(info.width, 0); /* nothing half-filled on failure */
    struct buf t = BUF_INIT;
    assert_int_equal(image_thumbnail(b->data, len, &LIM, 256, &t, NULL), rc);
    assert_int_equal(t.len, 0);
    buf_free(&t);
}

static void truncated_and_damaged_are_corrupt(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    make_png(256, 256, &b);
    assert_rc(&b, b.len / 2, IMAGE_ERR_CORRUPT);
    assert_rc(&b, b.len - 12, IMAGE_ERR_CORRUPT); /* cut just before IEND */
    assert_rc(&b, 40, IMAGE_ERR_CORRUPT);         /* header only */
    b.data[b.len / 2] ^= 0x55;                    /* inside IDAT: CRC mismatch */
    assert_rc(&b, b.len, IMAGE_ERR_CORRUPT);
    buf_reset(&b);

    make_jpeg(256, 256, JCS_RGB, &b);
    assert_rc(&b, b.len / 2, IMAGE_ERR_CORRUPT);
    assert_rc(&b, b.len - 2, IMAGE_ERR_CORRUPT); /* no EOI */
    assert_rc(&b, 3, IMAGE_ERR_CORRUPT);
    buf_reset(&b);

    make_webp(256, 256, &b);
    assert_rc(&b, b.len / 2, IMAGE_ERR_CORRUPT);
    assert_rc(&b, 12, IMAGE_ERR_CORRUPT);
    buf_free(&b);
}

static void not_an_image_is_format(void **state)
{
    (void)state;
    const char *texts[] = {
        "<!DOCTYPE html><html><body>502 Bad Gateway</body></html>",
        "{\"error\":{\"message\":\"content policy\"}}",
        "",
        "RIFF\x10\0\0\0WAVEfmt ",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        struct buf b = BUF_INIT;
        assert_int_equal(buf_append_str(&b, texts[i]), 0);
        assert_rc(&b, b.len, IMAGE_ERR_FORMAT);
        buf_free(&b);
    }
    struct image_info info;
    assert_int_equal(image_validate(NULL, 0, &LIM, &info), IMAGE_ERR_FORMAT);
}

static uint32_t crc32_png(const unsigned char *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return c ^ 0xFFFFFFFFu;
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static void over_limits_is_too_large(void **state)
{
    (void)state;
    /* A well-formed IHDR claiming 100000 x 100000 followed by a tiny IDAT: must be refused from
     * the header, before any pixel memory (40 GB) is asked for. */
    unsigned char png[8 + 25 + 12];
    memcpy(png, "\x89PNG\r\n\x1a\n", 8);
    put32(png + 8, 13);
    memcpy(png + 12, "IHDR", 4);
    put32(png + 16, 100000);
    put32(png + 20, 100000);
    memcpy(png + 24, "\x08\x02\x00\x00\x00", 5);
    put32(png + 29, crc32_png(png + 12, 17));
    put32(png + 33, 0);
    memcpy(png + 37, "IDAT", 4);
    put32(png + 41, crc32_png(png + 37, 4));
    struct buf b = BUF_INIT;
    assert_int_equal(buf_append(&b, png, sizeof png), 0);
    assert_rc(&b, b.len, IMAGE_ERR_TOO_LARGE);
    buf_free(&b);

    /* Real images over a smaller side cap, in each format. */
    struct image_limits small = {16u << 20, 500};
    struct image_info info;
    make_png(600, 100, &b);
    assert_int_equal(image_validate(b.data, b.len, &small, &info), IMAGE_ERR_TOO_LARGE);
    buf_reset(&b);
    make_jpeg(100, 600, JCS_RGB, &b);
    assert_int_equal(image_validate(b.data, b.len, &small, &info), IMAGE_ERR_TOO_LARGE);
    buf_reset(&b);
    make_webp(501, 501, &b);
    assert_int_equal(image_validate(b.data, b.len, &small, &info), IMAGE_ERR_TOO_LARGE);

    /* Byte cap. */
    struct image_limits bytes = {b.len - 1, 4096};
    assert_int_equal(image_validate(b.data, b.len, &bytes, &info), IMAGE_ERR_TOO_LARGE);
    bytes.max_bytes = b.len;
    assert_int_equal(image_validate(b.data, b.len, &bytes, &info), IMAGE_OK);
    buf_free(&b);
}

/* Thumbnails the image and checks the result is a WebP of exactly tw x th that validates. */
static void assert_thumb(const struct buf *src, int max_side, int w, int h, int tw, int th)
{
    struct buf t = BUF_INIT;
    struct image_info in;
    assert_int_equal(image_thumbnail(src->data, src->len, &LIM, max_side, &t, &in), IMAGE_OK);
    assert_int_equal(in.width, w);
    assert_int_equal(in.height, h);
    assert_int_equal(image_sniff(t.data, t.len), IMAGE_WEBP);
    struct image_info out;
    assert_int_equal(image_validate(t.data, t.len, &LIM, &out), IMAGE_OK);
    assert_int_equal(out.format, IMAGE_WEBP);
    assert_int_equal(out.width, tw);
    assert_int_equal(out.height, th);
    buf_free(&t);
}

static void thumbnails(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    make_png(1024, 512, &b);
    assert_thumb(&b, 256, 1024, 512, 256, 128);
    buf_reset(&b);
    make_jpeg(1024, 512, JCS_RGB, &b);
    assert_thumb(&b, 256, 1024, 512, 256, 128);
    buf_reset(&b);
    make_jpeg(300, 1000, JCS_RGB, &b); /* no power-of-two scale fits: 1/2 then rescale */
    assert_thumb(&b, 256, 300, 1000, 77, 256);
    buf_reset(&b);
    make_jpeg(800, 600, JCS_CMYK, &b);
    assert_thumb(&b, 256, 800, 600, 256, 192);
    buf_reset(&b);
    make_jpeg(640, 480, JCS_GRAYSCALE, &b);
    assert_thumb(&b, 256, 640, 480, 256, 192);
    buf_reset(&b);
    make_webp(1024, 512, &b);
    assert_thumb(&b, 256, 1024, 512, 256, 128);
    buf_reset(&b);
    make_png(3000, 2, &b); /* extreme aspect: the short side never rounds to 0 */
    assert_thumb(&b, 256, 3000, 2, 256, 1);
    buf_free(&b);
}

static void small_images_are_not_upscaled(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    make_png(100, 50, &b);
    assert_thumb(&b, 256, 100, 50, 100, 50);
    buf_reset(&b);
    make_jpeg(200, 256, JCS_RGB, &b);
    assert_thumb(&b, 256, 200, 256, 200, 256);
    buf_reset(&b);
    make_webp(10, 20, &b);
    assert_thumb(&b, 256, 10, 20, 10, 20);
    buf_free(&b);
}

static void thumbnail_keeps_alpha(void **state)
{
    (void)state;
    struct buf b = BUF_INIT, t = BUF_INIT;
    make_png_spng(512, 512, SPNG_COLOR_TYPE_TRUECOLOR_ALPHA, 8, &b);
    assert_int_equal(image_thumbnail(b.data, b.len, &LIM, 256, &t, NULL), IMAGE_OK);
    WebPBitstreamFeatures f;
    assert_int_equal(WebPGetFeatures((const uint8_t *)t.data, t.len, &f), VP8_STATUS_OK);
    assert_true(f.has_alpha);
    assert_int_equal(f.width, 256);
    buf_reset(&t);
    buf_reset(&b);
    make_png(512, 512, &b);
    assert_int_equal(image_thumbnail(b.data, b.len, &LIM, 256, &t, NULL), IMAGE_OK);
    assert_int_equal(WebPGetFeatures((const uint8_t *)t.data, t.len, &f), VP8_STATUS_OK);
    assert_false(f.has_alpha);
    buf_free(&t);
    buf_free(&b);
}

/* A solid colour survives JPEG (RGB and Adobe CMYK) -> thumbnail -> WebP within codec error. */
static void thumbnail_colours(void **state)
{
    (void)state;
    static const unsigned char want[3] = {200, 100, 50};
    for (int cmyk = 0; cmyk <= 1; cmyk++) {
        int ch = cmyk ? 4 : 3, w = 64, h = 64;
        unsigned char *px = malloc((size_t)(w * h * ch));
        assert_non_null(px);
        for (int i = 0; i < w * h; i++) {
            /* Adobe CMYK stores inverted inks: with no black, the bytes are R, G, B, 255. */
            memcpy(px + i * ch, want, 3);
            if (cmyk) px[i * ch + 3] = 255;
        }
        struct jpeg_compress_struct c;
        struct jpeg_error_mgr err;
        c.err = jpeg_std_error(&err);
        jpeg_create_compress(&c);
        unsigned char *mem = NULL;
        unsigned long n = 0;
        jpeg_mem_dest(&c, &mem, &n);
        c.image_width = (JDIMENSION)w;
        c.image_height = (JDIMENSION)h;
        c.input_components = ch;
        c.in_color_space = cmyk ? JCS_CMYK : JCS_RGB;
        jpeg_set_defaults(&c);
        jpeg_set_quality(&c, 95, TRUE);
        jpeg_start_compress(&c, TRUE);
        while (c.next_scanline < c.image_height) {
            JSAMPROW row = px + (size_t)c.next_scanline * (size_t)(w * ch);
            jpeg_write_scanlines(&c, &row, 1);
        }
        jpeg_finish_compress(&c);
        jpeg_destroy_compress(&c);
        struct buf t = BUF_INIT;
        assert_int_equal(image_thumbnail(mem, n, &LIM, 32, &t, NULL), IMAGE_OK);
        int tw = 0, th = 0;
        uint8_t *rgb = WebPDecodeRGB((const uint8_t *)t.data, t.len, &tw, &th);
        assert_non_null(rgb);
        assert_int_equal(tw, 32);
        const uint8_t *mid = rgb + ((size_t)16 * 32 + 16) * 3;
        for (int k = 0; k < 3; k++)
            assert_in_range(mid[k], want[k] - 10, want[k] + 10);
        WebPFree(rgb);
        buf_free(&t);
        free(mem);
        free(px);
    }
}

static void png_encoder_round_trips(void **state)
{
    (void)state;
    unsigned char *rgb = pattern(97, 61, 3);
    struct buf b = BUF_INIT;
    assert_int_equal(buf_append_str(&b, "keep"), 0); /* output is appended */
    assert_int_equal(image_encode_png_rgb(rgb, 97, 61, &b), IMAGE_OK);
    assert_memory_equal(b.data, "keep", 4);
    spng_ctx *ctx = spng_ctx_new(0);
    assert_non_null(ctx);
    assert_int_equal(spng_set_png_buffer(ctx, b.data + 4, b.len - 4), 0);
    size_t n = 0;
    assert_int_equal(spng_decoded_image_size(ctx, SPNG_FMT_RGB8, &n), 0);
    assert_int_equal(n, 97 * 61 * 3);
    unsigned char *back = malloc(n);
    assert_non_null(back);
    assert_int_equal(spng_decode_image(ctx, back, n, SPNG_FMT_RGB8, 0), 0);
    assert_memory_equal(back, rgb, n);
    free(back);
    spng_ctx_free(ctx);
    assert_int_equal(image_encode_png_rgb(rgb, 0, 61, &b), IMAGE_ERR_FORMAT);
    free(rgb);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_format_validates),
        cmocka_unit_test(names),
        cmocka_unit_test(truncated_and_damaged_are_corrupt),
        cmocka_unit_test(not_an_image_is_format),
        cmocka_unit_test(over_limits_is_too_large),
        cmocka_unit_test(thumbnails),
        cmocka_unit_test(small_images_are_not_upscaled),
        cmocka_unit_test(thumbnail_keeps_alpha),
        cmocka_unit_test(thumbnail_colours),
        cmocka_unit_test(png_encoder_round_trips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
