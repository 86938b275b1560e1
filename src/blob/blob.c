/* Blob dispatch: picks the backend by name (cfg->blobs) and checks keys once for every backend. */
#include "blob/blob_impl.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "app/config.h"

#define BLOB_KEY_MAX 200

/* Backends by name. A new backend adds one line here and one file (see blob_impl.h). */
static const struct blob_ops *const blob_backends[] = {
    &blob_fs_ops,
    &blob_s3_ops,
};

struct blob *blob_open(const struct config *cfg, char *err, size_t errlen)
{
    char scratch[8]; /* so backends can always write a reason */
    if (!err || !errlen) {
        err = scratch;
        errlen = sizeof scratch;
    }
    err[0] = '\0';
    if (!cfg) {
        snprintf(err, errlen, "BLOBS: no configuration");
        return NULL;
    }
    const char *name = cfg->blobs[0] ? cfg->blobs : "fs";
    for (size_t i = 0; i < sizeof blob_backends / sizeof blob_backends[0]; i++) {
        if (strcmp(blob_backends[i]->name, name) == 0)
            return blob_backends[i]->open(cfg, err, errlen);
    }
    snprintf(err, errlen, "BLOBS: unknown backend \"%.32s\"", name);
    return NULL;
}

void blob_close(struct blob *b)
{
    if (b) b->ops->close(b);
}

int blob_ping(struct blob *b)
{
    return b ? b->ops->ping(b) : BLOB_INVALID;
}

int blob_put(struct blob *b, const char *key, const void *data, size_t len,
             const char *content_type)
{
    if (!b || (!data && len) || !blob_key_is_valid(key)) return BLOB_INVALID;
    return b->ops->put(b, key, data, len, content_type);
}

int blob_get(struct blob *b, const char *key, struct buf *out, char content_type[64], char etag[64])
{
    if (content_type) content_type[0] = '\0';
    if (etag) etag[0] = '\0';
    if (!b || !out || !blob_key_is_valid(key)) return BLOB_INVALID;
    return b->ops->get(b, key, out, content_type, etag);
}

int blob_delete(struct blob *b, const char *key)
{
    if (!b || !blob_key_is_valid(key)) return BLOB_INVALID;
    return b->ops->del(b, key);
}

static bool key_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '/';
}

/* Stricter than the header's minimum: a segment may not start with '.', which rules out ".",
 * "..", hidden files and the fs backend's ".tmp-" files in one test. */
bool blob_key_is_valid(const char *key)
{
    if (!key || !key[0]) return false;
    size_t n = strnlen(key, BLOB_KEY_MAX + 1);
    if (n > BLOB_KEY_MAX) return false;
    if (key[n - 1] == '/') return false;
    bool seg_start = true;
    for (size_t i = 0; i < n; i++) {
        char c = key[i];
        if (!key_char_ok(c)) return false;
        if (seg_start && (c == '/' || c == '.')) return false; /* "//", leading '/', ".x" */
        if (c == '.' && key[i + 1] == '.') return false;
        seg_start = c == '/';
    }
    return true;
}

const char *blob_content_type_for(const char *key)
{
    static const struct {
        const char *ext;
        const char *type;
    } types[] = {
        {"png", "image/png"},
        {"jpg", "image/jpeg"},
        {"jpeg", "image/jpeg"},
        {"webp", "image/webp"},
        {"gif", "image/gif"},
        {"svg", "image/svg+xml"},
        {"ico", "image/x-icon"},
        {"json", "application/json"},
        {"map", "application/json"},
        {"zip", "application/zip"},
        {"html", "text/html; charset=utf-8"},
        {"css", "text/css; charset=utf-8"},
        {"js", "text/javascript; charset=utf-8"},
        {"txt", "text/plain; charset=utf-8"},
        {"woff2", "font/woff2"},
    };
    const char *dot = key ? strrchr(key, '.') : NULL;
    if (dot && !strchr(dot, '/')) {
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
            if (strcasecmp(dot + 1, types[i].ext) == 0) return types[i].type;
        }
    }
    return "application/octet-stream";
}

const char *blob_strerror(int code)
{
    switch (code) {
    case BLOB_OK:
        return "ok";
    case BLOB_NOT_FOUND:
        return "blob not found";
    case BLOB_UNAVAILABLE:
        return "blob storage unavailable";
    case BLOB_INVALID:
        return "invalid blob key or argument";
    case BLOB_TOO_LARGE:
        return "blob too large";
    case BLOB_NOMEM:
        return "out of memory";
    default:
        return "unknown blob error";
    }
}
