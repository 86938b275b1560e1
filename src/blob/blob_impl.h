/* Private to src/blob/: the table of functions each backend fills in. */
#ifndef PP_BLOB_IMPL_H
#define PP_BLOB_IMPL_H

#include "blob/blob.h"

struct blob_ops {
    const char *name;
    struct blob *(*open)(const struct config *cfg, char *err, size_t errlen);
    void (*close)(struct blob *b);
    int (*ping)(struct blob *b);
    int (*put)(struct blob *b, const char *key, const void *data, size_t len,
               const char *content_type);
    int (*get)(struct blob *b, const char *key, struct buf *out, char content_type[64],
               char etag[64]);
    int (*del)(struct blob *b, const char *key);
};

/* Every backend's struct starts with this. */
struct blob {
    const struct blob_ops *ops;
};

extern const struct blob_ops blob_fs_ops;
extern const struct blob_ops blob_s3_ops;

#endif
