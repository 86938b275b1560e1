/* Blobs: images, thumbnails (and, on S3, the web UI). Backends: fs.c (DATA_DIR), s3.c.
 * Keys look like "images/<jobId>/<slot>-<slug>.png"; blob_key_is_valid is checked by every
 * backend before a key touches a path or a URL. Safe from any thread. */
#ifndef PP_BLOB_BLOB_H
#define PP_BLOB_BLOB_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

enum {
    BLOB_OK = 0,
    BLOB_NOT_FOUND = -1,
    BLOB_UNAVAILABLE = -2, /* backend down: 503 */
    BLOB_INVALID = -3,     /* bad key */
    BLOB_TOO_LARGE = -4,
    BLOB_NOMEM = -5,
};

struct blob;
struct config;

struct blob *blob_open(const struct config *cfg, char *err, size_t errlen);
void blob_close(struct blob *b);
int blob_ping(struct blob *b);

/* Stores all of data under key atomically (readers see the old object or the whole new one). */
int blob_put(struct blob *b, const char *key, const void *data, size_t len,
             const char *content_type);
/* Reads the object into out (caller owns out; appended to). content_type and etag, when not
 * NULL, receive at most 63 bytes each. */
int blob_get(struct blob *b, const char *key, struct buf *out, char content_type[64],
             char etag[64]);
int blob_delete(struct blob *b, const char *key);

/* Letters, digits, '-', '_', '.', and '/' between non-empty segments; no "..", no leading '/',
 * at most 200 bytes. */
bool blob_key_is_valid(const char *key);
/* The Content-Type that belongs to a key's extension (.png .jpg .webp .json ...). */
const char *blob_content_type_for(const char *key);
const char *blob_strerror(int code);

#endif
