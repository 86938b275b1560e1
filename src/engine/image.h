/* Image validation and thumbnails with each format's reference codec: libspng (PNG),
 * libjpeg-turbo (JPEG, scale-on-decode), libwebp (WebP decode, rescale and encode).
 * Pure functions, safe from any thread. */
#ifndef PP_ENGINE_IMAGE_H
#define PP_ENGINE_IMAGE_H

#include <stddef.h>

#include "util/buf.h"

enum image_format { IMAGE_UNKNOWN = 0, IMAGE_PNG, IMAGE_JPEG, IMAGE_WEBP };

struct image_limits {
    size_t max_bytes; /* encoded size cap */
    int max_side;     /* width and height cap, pixels */
};

struct image_info {
    enum image_format format;
    int width, height;
};

enum {
    IMAGE_OK = 0,
    IMAGE_ERR_FORMAT = -1,   /* not PNG/JPEG/WebP (e.g. HTML, JSON) */
    IMAGE_ERR_CORRUPT = -2,  /* the decoder rejected the bytes (truncated, damaged) */
    IMAGE_ERR_TOO_LARGE = -3,/* bytes or dimensions over the limits */
    IMAGE_ERR_NOMEM = -4,
};

enum image_format image_sniff(const void *data, size_t len);
const char *image_mime(enum image_format f);      /* "image/png" ... */
const char *image_extension(enum image_format f); /* "png" | "jpg" | "webp" */

/* Proves the bytes are a whole image by decoding all of it, within limits. */
int image_validate(const void *data, size_t len, const struct image_limits *lim,
                   struct image_info *info);
/* Validates like image_validate and writes a WebP thumbnail whose longer side is at most
 * max_side (never upscaled) into thumb (caller owns it). */
int image_thumbnail(const void *data, size_t len, const struct image_limits *lim, int max_side,
                    struct buf *thumb, struct image_info *info);
/* Encodes RGB8 pixels (width*height*3 bytes) as a PNG into out (caller owns). */
int image_encode_png_rgb(const unsigned char *rgb, int width, int height, struct buf *out);
const char *image_strerror(int code);

#endif
