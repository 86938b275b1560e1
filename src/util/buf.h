/* Growable byte buffer. The struct owns `data`; buf_free releases it.
 * `data` is always NUL-terminated when non-NULL so text can be used as a C string. */
#ifndef PP_UTIL_BUF_H
#define PP_UTIL_BUF_H

#include <stddef.h>

struct buf {
    char *data;
    size_t len;
    size_t cap;
};

#define BUF_INIT                                                                                   \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

/* Each returns 0 on success, -1 when memory runs out (the buffer keeps its old content). */
int buf_reserve(struct buf *b, size_t extra);
int buf_append(struct buf *b, const void *data, size_t len);
int buf_append_str(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hands ownership of the bytes to the caller and leaves `b` empty. */
char *buf_steal(struct buf *b, size_t *len);
void buf_reset(struct buf *b);
void buf_free(struct buf *b);

#endif
