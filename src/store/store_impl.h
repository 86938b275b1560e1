/* Private to src/store/: the table of functions each backend fills in (the curl vtls pattern). */
#ifndef PP_STORE_IMPL_H
#define PP_STORE_IMPL_H

#include "store/store.h"

struct store_ops {
    const char *name;
    struct store *(*open)(const struct config *cfg, char *err, size_t errlen);
    void (*close)(struct store *s);
    int (*ping)(struct store *s);
    int (*create_job)(struct store *s, const struct job *job, const char *idem_key,
                      int64_t idem_ttl_ms, char existing_id[ID_LEN + 1]);
    int (*get_job)(struct store *s, const char *job_id, struct job *out);
    int (*update_result)(struct store *s, const char *job_id, const struct result *r,
                         unsigned from_mask);
    int (*gallery_list)(struct store *s, int limit, const char *cursor, struct gallery_page *out);
    int (*quota_take)(struct store *s, const char *key, long limit, int64_t expires_ms,
                      bool *allowed, long *count);
    int (*quota_release)(struct store *s, const char *key);
    int (*recover_interrupted)(struct store *s, int64_t before_ms, int64_t now_ms, int *n_marked);
};

/* Every backend's struct starts with this, so store.c can find the ops. */
struct store {
    const struct store_ops *ops;
};

extern const struct store_ops store_sqlite_ops;
extern const struct store_ops store_dynamodb_ops;

#endif
