/* Image validation and thumbnails: libspng (PNG), libjpeg-turbo (JPEG), libwebp (WebP).
 *
 * Validation decodes every pixel row (or, for JPEG, every entropy-coded coefficient) so a
 * truncated or damaged file fails, but it never holds the whole image: PNG rows stream through
 * one row buffer, JPEG decodes at 1/8 scale and WebP decodes into a 1/8-size output. Dimensions
 * are read from the header and checked before any pixel memory is allocated.
 *
 * Output buffers (thumb, out) are appended to; on failure they are left as they were. A NULL
 * `lim`, or a zero field in it, means the defaults below. */
#include "engine/image.h"

#include <setjmp.h>
#include <stdint.h>
#include <stdio.h> /* jpeglib.h needs FILE and size_t first */
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>
#include <spng.h>
#include <webp/decode.h>
#include <webp/encode.h>

#define DEFAULT_MAX_BYTES ((size_t)32 << 20)
#define DEFAULT_MAX_SIDE 8192
/* Ancillary PNG chunks (text, ICC, EXIF) kept in memory at most: a zTXt bomb cannot grow past
 * this. */
#define PNG_CHUNK_CACHE_LIMIT ((size_t)8 << 20)
/* A progressive JPEG with thousands of tiny scans costs minutes of CPU (libjpeg-turbo's own
 * TurboJPEG API caps it at 500 too). */
#define JPEG_MAX_SCANS 500
#define THUMB_QUALITY 80

/* Decoded pixels: always 4 bytes per pixel (RGBA, or RGBX when !has_alpha). */
struct pixels {
    unsigned char *px;
    int w, h;
    int has_alpha;
};

struct limits {
    size_t max_bytes;
    int max_side;
};

static struct limits limits_of(const struct image_limits *lim)
{
    struct limits l = {DEFAULT_MAX_BYTES, DEFAULT_MAX_SIDE};
    if (lim && lim->max_bytes > 0) l.max_bytes = lim->max_bytes;
    if (lim && lim->max_side > 0) l.max_side = lim->max_side;
    return l;
}

enum image_format image_sniff(const void *data, size_t len)
{
    const unsigned char *d = data;
    if (!d) return IMAGE_UNKNOWN;
    if (len >= 8 && memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0) return IMAGE_PNG;
    if (len >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF) return IMAGE_JPEG;
    if (len >= 12 && memcmp(d, "RIFF", 4) == 0 && memcmp(d + 8, "WEBP", 4) == 0) return IMAGE_WEBP;
    return IMAGE_UNKNOWN;
}

const char *image_mime(enum image_format f)
{
    switch (f) {
    case IMAGE_PNG:
        return "image/png";
    case IMAGE_JPEG:
        return "image/jpeg";
    case IMAGE_WEBP:
        return "image/webp";
    default:
        return "application/octet-stream";
    }
}

const char *image_extension(enum image_format f)
{
    switch (f) {
    case IMAGE_PNG:
        return "png";
    case IMAGE_JPEG:
        return "jpg";
    case IMAGE_WEBP:
        return "webp";
    default:
        return "bin";
    }
}

const char *image_strerror(int code)
{
    switch (code) {
    case IMAGE_OK:
        return "ok";
    case IMAGE_ERR_FORMAT:
        return "not a PNG, JPEG or WebP image";
    case IMAGE_ERR_CORRUPT:
        return "the image is damaged or truncated";
    case IMAGE_ERR_TOO_LARGE:
        return "the image is too large";
    case IMAGE_ERR_NOMEM:
        return "out of memory";
    default:
        return "unknown image error";
    }
}

/* Longer side at most max_side, aspect kept, never upscaled, never 0. */
static void fit_size(int w, int h, int max_side, int *tw, int *th)
{
    *tw = w;
    *th = h;
    if (w <= max_side && h <= max_side) return;
    if (w >= h) {
        *tw = max_side;
        /* w >= h and w, h are not both <= max_side (>= 1), so w > max_side > 0. The analyser
         * does not follow that: */
        // NOLINTNEXTLINE(clang-analyzer-core.DivideZero)
        *th = (int)(((int64_t)h * max_side + w / 2) / w);
    } else {
        *th = max_side;
        *tw = (int)(((int64_t)w * max_side + h / 2) / h);
    }
    if (*tw < 1) *tw = 1;
    if (*th < 1) *th = 1;
}

static unsigned char *alloc_rgba(int w, int h)
{
    return malloc((size_t)w * (size_t)h * 4);
}

/* ---- PNG ---------------------------------------------------------------------------------- */

static int png_error(int e)
{
    switch (e) {
    case SPNG_EMEM:
        return IMAGE_ERR_NOMEM;
    case SPNG_EUSER_WIDTH:
    case SPNG_EUSER_HEIGHT:
    case SPNG_ECHUNK_LIMITS:
        return IMAGE_ERR_TOO_LARGE;
    default:
        return IMAGE_ERR_CORRUPT;
    }
}

/* want == 0: validate only (stream rows through one buffer). Otherwise decode the whole
 * image into out (PNG has no scale-on-decode; WebPPictureRescale shrinks it later). */
static int png_decode(const unsigned char *d, size_t len, const struct limits *l, int want,
                      struct pixels *out, struct image_info *info)
{
    spng_ctx *ctx = spng_ctx_new(0);
    if (!ctx) return IMAGE_ERR_NOMEM;
    unsigned char *px = NULL;
    int rc;
    spng_set_image_limits(ctx, (uint32_t)l->max_side, (uint32_t)l->max_side);
    size_t chunk_max, cache_max;
    spng_get_chunk_limits(ctx, &chunk_max, &cache_max);
    spng_set_chunk_limits(ctx, chunk_max, PNG_CHUNK_CACHE_LIMIT);
    spng_set_png_buffer(ctx, d, len);

    struct spng_ihdr ihdr;
    int e = spng_get_ihdr(ctx, &ihdr);
    if (e) {
        rc = png_error(e);
        goto done;
    }
    /* spng already enforced the limits; checked again so this does not hinge on that. */
    if (ihdr.width > (uint32_t)l->max_side || ihdr.height > (uint32_t)l->max_side) {
        rc = IMAGE_ERR_TOO_LARGE;
        goto done;
    }
    int w = (int)ihdr.width, h = (int)ihdr.height;
    struct spng_trns trns;
    int has_alpha = ihdr.color_type == SPNG_COLOR_TYPE_TRUECOLOR_ALPHA ||
                    ihdr.color_type == SPNG_COLOR_TYPE_GRAYSCALE_ALPHA ||
                    spng_get_trns(ctx, &trns) == 0;
    size_t row = (size_t)w * 4;
    if (!want) {
        px = malloc(row);
        if (!px) {
            rc = IMAGE_ERR_NOMEM;
            goto done;
        }
        e = spng_decode_image(ctx, NULL, 0, SPNG_FMT_RGBA8,
                              SPNG_DECODE_TRNS | SPNG_DECODE_PROGRESSIVE);
        while (e == 0)
            e = spng_decode_row(ctx, px, row);
        if (e != SPNG_EOI) {
            rc = png_error(e);
            goto done;
        }
    } else {
        px = alloc_rgba(w, h);
        if (!px) {
            rc = IMAGE_ERR_NOMEM;
            goto done;
        }
        e = spng_decode_image(ctx, px, row * (size_t)h, SPNG_FMT_RGBA8, SPNG_DECODE_TRNS);
        if (e) {
            rc = png_error(e);
            goto done;
        }
    }
    /* Read on to IEND so a file cut after its last IDAT still counts as truncated. */
    e = spng_decode_chunks(ctx);
    if (e) {
        rc = png_error(e);
        goto done;
    }
    info->format = IMAGE_PNG;
    info->width = w;
    info->height = h;
    if (want) {
        out->px = px;
        out->w = w;
        out->h = h;
        out->has_alpha = has_alpha;
        px = NULL;
    }
    rc = IMAGE_OK;
done:
    free(px);
    spng_ctx_free(ctx);
    return rc;
}

/* ---- JPEG --------------------------------------------------------------------------------- */

struct jpeg_err {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    int damaged;   /* a warning that means lost data (libjpeg only warns on truncation) */
    int too_large; /* set before jumping out for the dimension or scan limit */
    int nomem;
};

/* Everything that must survive a longjmp lives here, outside the frame that calls setjmp. */
struct jpeg_job {
    struct jpeg_decompress_struct cinfo;
    struct jpeg_err err;
    struct jpeg_progress_mgr progress;
    unsigned char *px;  /* whole output (thumbnail) */
    unsigned char *row; /* one output row (validation) */
};

static void jpeg_on_error(j_common_ptr c)
{
    struct jpeg_err *e = (struct jpeg_err *)c->err;
    if (c->err->msg_code == JERR_OUT_OF_MEMORY) e->nomem = 1;
    longjmp(e->jump, 1);
}

/* Replaces libjpeg's stderr printing: warnings are recorded, nothing is printed. */
static void jpeg_on_message(j_common_ptr c, int level)
{
    if (level >= 0) return; /* trace messages */
    struct jpeg_err *e = (struct jpeg_err *)c->err;
    switch (c->err->msg_code) {
    case JWRN_ARITH_BAD_CODE:
    case JWRN_BOGUS_PROGRESSION:
    case JWRN_HIT_MARKER:
    case JWRN_HUFF_BAD_CODE:
    case JWRN_JPEG_EOF:
    case JWRN_MUST_RESYNC:
    case JWRN_NOT_SEQUENTIAL:
        e->damaged = 1;
        break;
    default: /* harmless: extraneous bytes between markers, unknown JFIF revision, ... */
        break;
    }
    c->err->num_warnings++;
}

static void jpeg_on_output(j_common_ptr c)
{
    (void)c;
}

static void jpeg_on_progress(j_common_ptr c)
{
    struct jpeg_decompress_struct *d = (struct jpeg_decompress_struct *)c;
    if (d->input_scan_number > JPEG_MAX_SCANS) {
        ((struct jpeg_err *)c->err)->too_large = 1;
        longjmp(((struct jpeg_err *)c->err)->jump, 1);
    }
}

/* Adobe CMYK JPEGs store inverted ink values; c*k/255 gives the RGB (no ICC, good enough for a
 * thumbnail). In place, 4 bytes per pixel. */
static void cmyk_to_rgbx(unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++, p += 4) {
        unsigned k = p[3];
        p[0] = (unsigned char)(p[0] * k / 255);
        p[1] = (unsigned char)(p[1] * k / 255);
        p[2] = (unsigned char)(p[2] * k / 255);
        p[3] = 255;
    }
}

/* max_side == 0: validate only. The frame that calls setjmp touches state only through j. */
static int jpeg_run(struct jpeg_job *j, const unsigned char *d, size_t len, const struct limits *l,
                    int max_side, struct pixels *out, struct image_info *info)
{
    struct jpeg_decompress_struct *ci = &j->cinfo;
    ci->err = jpeg_std_error(&j->err.pub);
    j->err.pub.error_exit = jpeg_on_error;
    j->err.pub.emit_message = jpeg_on_message;
    j->err.pub.output_message = jpeg_on_output;
    if (setjmp(j->err.jump)) {
        if (j->err.nomem) return IMAGE_ERR_NOMEM;
        return j->err.too_large ? IMAGE_ERR_TOO_LARGE : IMAGE_ERR_CORRUPT;
    }
    jpeg_create_decompress(ci);
    j->progress.progress_monitor = jpeg_on_progress;
    ci->progress = &j->progress;
    jpeg_mem_src(ci, d, (unsigned long)len);
    jpeg_read_header(ci, TRUE);
    if (ci->image_width > (JDIMENSION)l->max_side || ci->image_height > (JDIMENSION)l->max_side)
        return IMAGE_ERR_TOO_LARGE;

    int cmyk = ci->jpeg_color_space == JCS_CMYK || ci->jpeg_color_space == JCS_YCCK;
    ci->out_color_space = cmyk ? JCS_CMYK : JCS_EXT_RGBX;
    ci->scale_num = 1;
    ci->scale_denom = 8;
    if (max_side > 0) {
        /* The smallest decode (largest denominator) still at least the thumbnail size: the
         * IDCT does the bulk of the shrinking for free, WebPPictureRescale the rest. */
        int tw, th;
        fit_size((int)ci->image_width, (int)ci->image_height, max_side, &tw, &th);
        for (unsigned denom = 8; denom >= 1; denom /= 2) {
            ci->scale_denom = denom;
            jpeg_calc_output_dimensions(ci);
            if (ci->output_width >= (JDIMENSION)tw && ci->output_height >= (JDIMENSION)th) break;
        }
    } else {
        /* 1/8 still entropy-decodes every coefficient, which is what finds damage. */
        ci->dct_method = JDCT_IFAST;
        ci->do_fancy_upsampling = FALSE;
    }
    jpeg_start_decompress(ci);
    if (ci->output_components != 4) return IMAGE_ERR_CORRUPT;
    int ow = (int)ci->output_width, oh = (int)ci->output_height;
    size_t stride = (size_t)ow * 4;
    if (max_side > 0) {
        j->px = alloc_rgba(ow, oh);
        if (!j->px) return IMAGE_ERR_NOMEM;
    } else {
        j->row = malloc(stride);
        if (!j->row) return IMAGE_ERR_NOMEM;
    }
    while (ci->output_scanline < ci->output_height) {
        JSAMPROW r = j->px ? j->px + (size_t)ci->output_scanline * stride : j->row;
        jpeg_read_scanlines(ci, &r, 1);
    }
    jpeg_finish_decompress(ci);
    if (j->err.damaged) return IMAGE_ERR_CORRUPT;
    if (cmyk && j->px) {
        if (!ci->saw_Adobe_marker) { /* plain CMYK stores ink amounts: invert to Adobe's form */
            for (size_t i = 0; i < stride * (size_t)oh; i++)
                j->px[i] = (unsigned char)~j->px[i];
        }
        cmyk_to_rgbx(j->px, (size_t)ow * (size_t)oh);
    }
    info->format = IMAGE_JPEG;
    info->width = (int)ci->image_width;
    info->height = (int)ci->image_height;
    if (j->px) {
        out->px = j->px;
        out->w = ow;
        out->h = oh;
        out->has_alpha = 0;
        j->px = NULL;
    }
    return IMAGE_OK;
}

static int jpeg_decode(const unsigned char *d, size_t len, const struct limits *l, int max_side,
                       struct pixels *out, struct image_info *info)
{
    struct jpeg_job *j = calloc(1, sizeof *j);
    if (!j) return IMAGE_ERR_NOMEM;
    int rc = jpeg_run(j, d, len, l, max_side, out, info);
    jpeg_destroy_decompress(&j->cinfo);
    free(j->px);
    free(j->row);
    free(j);
    return rc;
}

/* ---- WebP --------------------------------------------------------------------------------- */

static int webp_status(VP8StatusCode st)
{
    switch (st) {
    case VP8_STATUS_OK:
        return IMAGE_OK;
    case VP8_STATUS_OUT_OF_MEMORY:
        return IMAGE_ERR_NOMEM;
    case VP8_STATUS_UNSUPPORTED_FEATURE:
        return IMAGE_ERR_FORMAT;
    default:
        return IMAGE_ERR_CORRUPT;
    }
}

/* libwebp's decoder can rescale while decoding (same area-averaging rescaler as
 * WebPPictureRescale), so a WebP is never held at full size: validation decodes every
 * macroblock into a 1/8-size output, a thumbnail straight into its final size. */
static int webp_decode(const unsigned char *d, size_t len, const struct limits *l, int max_side,
                       struct pixels *out, struct image_info *info)
{
    WebPDecoderConfig cfg;
    if (!WebPInitDecoderConfig(&cfg)) return IMAGE_ERR_FORMAT; /* library/header mismatch */
    VP8StatusCode st = WebPGetFeatures(d, len, &cfg.input);
    if (st != VP8_STATUS_OK) return webp_status(st);
    if (cfg.input.has_animation) return IMAGE_ERR_FORMAT; /* animations are not images we show */
    int w = cfg.input.width, h = cfg.input.height;
    if (w > l->max_side || h > l->max_side) return IMAGE_ERR_TOO_LARGE;
    if (w < 1 || h < 1) return IMAGE_ERR_CORRUPT;

    int ow, oh;
    if (max_side > 0) {
        fit_size(w, h, max_side, &ow, &oh);
    } else {
        ow = w > 8 ? w / 8 : 1;
        oh = h > 8 ? h / 8 : 1;
    }
    unsigned char *px = alloc_rgba(ow, oh);
    if (!px) return IMAGE_ERR_NOMEM;
    if (ow != w || oh != h) {
        cfg.options.use_scaling = 1;
        cfg.options.scaled_width = ow;
        cfg.options.scaled_height = oh;
    }
    cfg.output.colorspace = MODE_RGBA;
    cfg.output.is_external_memory = 1;
    cfg.output.u.RGBA.rgba = px;
    cfg.output.u.RGBA.stride = ow * 4;
    cfg.output.u.RGBA.size = (size_t)ow * (size_t)oh * 4;
    st = WebPDecode(d, len, &cfg);
    WebPFreeDecBuffer(&cfg.output); /* external memory: frees nothing of ours */
    if (st != VP8_STATUS_OK) {
        free(px);
        return webp_status(st);
    }
    info->format = IMAGE_WEBP;
    info->width = w;
    info->height = h;
    if (max_side > 0) {
        out->px = px;
        out->w = ow;
        out->h = oh;
        out->has_alpha = cfg.input.has_alpha;
    } else {
        free(px);
    }
    return IMAGE_OK;
}

/* ---- public ------------------------------------------------------------------------------- */

/* max_side == 0: validate only (out untouched). */
static int decode(const void *data, size_t len, const struct image_limits *lim, int max_side,
                  struct pixels *out, struct image_info *info)
{
    struct image_info tmp;
    if (!info) info = &tmp;
    info->format = IMAGE_UNKNOWN;
    info->width = info->height = 0;
    struct limits l = limits_of(lim);
    enum image_format f = image_sniff(data, len);
    if (f == IMAGE_UNKNOWN) return IMAGE_ERR_FORMAT;
    if (len > l.max_bytes) return IMAGE_ERR_TOO_LARGE;
    struct image_info got = {IMAGE_UNKNOWN, 0, 0};
    int rc;
    switch (f) {
    case IMAGE_PNG:
        rc = png_decode(data, len, &l, max_side, out, &got);
        break;
    case IMAGE_JPEG:
        rc = jpeg_decode(data, len, &l, max_side, out, &got);
        break;
    default:
        rc = webp_decode(data, len, &l, max_side, out, &got);
        break;
    }
    if (rc == IMAGE_OK) *info = got;
    return rc;
}

int image_validate(const void *data, size_t len, const struct image_limits *lim,
                   struct image_info *info)
{
    return decode(data, len, lim, 0, NULL, info);
}

struct thumb_writer {
    struct buf *b;
    int failed;
};

static int thumb_write(const uint8_t *data, size_t n, const WebPPicture *pic)
{
    struct thumb_writer *w = pic->custom_ptr;
    if (buf_append(w->b, data, n) != 0) {
        w->failed = 1;
        return 0;
    }
    return 1;
}

/* Alpha is kept, not flattened: WebP stores it cheaply, and a transparent logo flattened onto
 * white would look wrong on the UI's dark gallery background. */
int image_thumbnail(const void *data, size_t len, const struct image_limits *lim, int max_side,
                    struct buf *thumb, struct image_info *info)
{
    if (max_side < 1) max_side = 1;
    struct pixels p = {NULL, 0, 0, 0};
    struct image_info got;
    int rc = decode(data, len, lim, max_side, &p, &got);
    if (info) *info = got;
    if (rc != IMAGE_OK) return rc;

    int tw, th;
    fit_size(got.width, got.height, max_side, &tw, &th);
    WebPPicture pic;
    WebPConfig cfg;
    if (!WebPPictureInit(&pic) || !WebPConfigInit(&cfg)) {
        free(p.px);
        return IMAGE_ERR_NOMEM;
    }
    cfg.quality = THUMB_QUALITY;
    /* Method 2 instead of the default 4: about 2 ms less per thumbnail (bench/README.md) for
     * files 1-3 % larger, and thumbnails are made on the hot path of every result. */
    cfg.method = 2;
    pic.use_argb = 1; /* rescale in RGB, convert to YUV once at the end */
    pic.width = p.w;
    pic.height = p.h;
    int ok = p.has_alpha ? WebPPictureImportRGBA(&pic, p.px, p.w * 4)
                         : WebPPictureImportRGBX(&pic, p.px, p.w * 4);
    free(p.px); /* the picture has its own copy */
    if (ok && (p.w != tw || p.h != th)) ok = WebPPictureRescale(&pic, tw, th);
    size_t before = thumb->len;
    struct thumb_writer wr = {thumb, 0};
    if (ok) {
        pic.writer = thumb_write;
        pic.custom_ptr = &wr;
        ok = WebPEncode(&cfg, &pic);
    }
    WebPPictureFree(&pic);
    if (!ok) {
        thumb->len = before;
        if (thumb->data) thumb->data[before] = '\0';
        /* Only memory can fail here: the pixels were already decoded and checked. */
        return IMAGE_ERR_NOMEM;
    }
    return IMAGE_OK;
}

struct png_sink {
    struct buf *b;
};

static int png_write(spng_ctx *ctx, void *user, void *src, size_t n)
{
    (void)ctx;
    return buf_append(((struct png_sink *)user)->b, src, n) == 0 ? 0 : SPNG_IO_ERROR;
}

/* zlib level 1, no row filter. Measured on 512x512 demo pictures (2-core Debian 12 box):
 * spng's default (level 6, adaptive filters) takes 18-38 ms; level 1 unfiltered 2-4 ms for
 * files 30-50% larger (80-200 KB); level 2 costs ~10% more time for ~5% smaller files; "up"
 * or "sub" filters with Z_RLE were slower on most styles. Unfiltered wins because
 * palette-based pictures repeat exact pixel values, which LZ77 matches directly and filtering
 * would hide; it would be the wrong choice for photographs, which this is not used for. */
int image_encode_png_rgb(const unsigned char *rgb, int width, int height, struct buf *out)
{
    if (!rgb || width < 1 || height < 1) return IMAGE_ERR_FORMAT;
    spng_ctx *ctx = spng_ctx_new(SPNG_CTX_ENCODER);
    if (!ctx) return IMAGE_ERR_NOMEM;
    size_t before = out->len;
    struct png_sink sink = {out};
    struct spng_ihdr ihdr = {
        .width = (uint32_t)width,
        .height = (uint32_t)height,
        .bit_depth = 8,
        .color_type = SPNG_COLOR_TYPE_TRUECOLOR,
    };
    int e = spng_set_png_stream(ctx, png_write, &sink);
    if (!e) e = spng_set_ihdr(ctx, &ihdr);
    if (!e) e = spng_set_option(ctx, SPNG_IMG_COMPRESSION_LEVEL, 1);
    if (!e) e = spng_set_option(ctx, SPNG_FILTER_CHOICE, SPNG_FILTER_CHOICE_NONE);
    if (!e) {
        e = spng_encode_image(ctx, rgb, (size_t)width * (size_t)height * 3, SPNG_FMT_PNG,
                              SPNG_ENCODE_FINALIZE);
    }
    spng_ctx_free(ctx);
    if (e) {
        out->len = before;
        if (out->data) out->data[before] = '\0';
        return e == SPNG_EMEM || e == SPNG_IO_ERROR ? IMAGE_ERR_NOMEM : IMAGE_ERR_FORMAT;
    }
    return IMAGE_OK;
}
