/* Store dispatch: picks the backend by name (cfg->store) and checks arguments once for every
 * backend, so a malformed id or a NULL never reaches a query. */
#include "store/store_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/config.h"

/* Backends by name. A new backend adds one line here and one file (see store_impl.h). */
static const struct store_ops *const store_backends[] = {
    &store_sqlite_ops,
    &store_dynamodb_ops,
};

struct store *store_open(const struct config *cfg, char *err, size_t errlen)
{
    char scratch[8]; /* so backends can always write a reason */
    if (!err || !errlen) {
        err = scratch;
        errlen = sizeof scratch;
    }
    err[0] = '\0';
    if (!cfg) {
        snprintf(err, errlen, "STORE: no configuration");
        return NULL;
    }
    const char *name = cfg->store[0] ? cfg->store : "sqlite";
    for (size_t i = 0; i < sizeof store_backends / sizeof store_backends[0]; i++) {
        if (strcmp(store_backends[i]->name, name) == 0)
            return store_backends[i]->open(cfg, err, errlen);
    }
    snprintf(err, errlen, "STORE: unknown backend \"%.32s\"", name);
    return NULL;
}

void store_close(struct store *s)
{
    if (s) s->ops->close(s);
}

int store_ping(struct store *s)
{
    return s ? s->ops->ping(s) : STORE_INVALID;
}

int store_create_job(struct store *s, const struct job *job, const char *idem_key,
                     int64_t idem_ttl_ms, char existing_id[ID_LEN + 1])
{
    if (existing_id) existing_id[0] = '\0';
    if (!s || !job || !job->prompt || !id_is_valid(job->id) || job->n_results < 0 ||
        (job->n_results > 0 && !job->results))
        return STORE_INVALID;
    if (idem_key && (!idem_key[0] || !existing_id)) return STORE_INVALID;
    return s->ops->create_job(s, job, idem_key, idem_ttl_ms, existing_id);
}

int store_get_job(struct store *s, const char *job_id, struct job *out)
{
    if (!out) return STORE_INVALID;
    memset(out, 0, sizeof *out);
    if (!s || !id_is_valid(job_id)) return STORE_INVALID;
    return s->ops->get_job(s, job_id, out);
}

int store_update_result(struct store *s, const char *job_id, const struct result *r,
                        unsigned from_mask)
{
    if (!s || !r || !id_is_valid(job_id) || (unsigned)r->status > RS_CANCELLED)
        return STORE_INVALID;
    return s->ops->update_result(s, job_id, r, from_mask);
}

int store_gallery_list(struct store *s, int limit, const char *cursor, struct gallery_page *out)
{
    if (!out) return STORE_INVALID;
    memset(out, 0, sizeof *out);
    if (!s || limit < 1 || limit > 1000) return STORE_INVALID;
    return s->ops->gallery_list(s, limit, cursor ? cursor : "", out);
}

void gallery_page_clear(struct gallery_page *p)
{
    if (!p) return;
    for (int i = 0; i < p->n; i++)
        free(p->entries[i].prompt);
    free(p->entries);
    memset(p, 0, sizeof *p);
}

int store_quota_take(struct store *s, const char *key, long limit, int64_t expires_ms,
                     bool *allowed, long *count)
{
    bool a_dummy;
    long c_dummy;
    if (!allowed) allowed = &a_dummy;
    if (!count) count = &c_dummy;
    *allowed = false;
    *count = 0;
    if (!s || !key || !key[0]) return STORE_INVALID;
    return s->ops->quota_take(s, key, limit, expires_ms, allowed, count);
}

int store_quota_release(struct store *s, const char *key)
{
    if (!s || !key || !key[0]) return STORE_INVALID;
    return s->ops->quota_release(s, key);
}

int store_recover_interrupted(struct store *s, int64_t before_ms, int64_t now_ms, int *n_marked)
{
    int n_dummy;
    if (!n_marked) n_marked = &n_dummy;
    *n_marked = 0;
    if (!s) return STORE_INVALID;
    return s->ops->recover_interrupted(s, before_ms, now_ms, n_marked);
}

const char *store_strerror(int code)
{
    switch (code) {
    case STORE_OK:
        return "ok";
    case STORE_NOT_FOUND:
        return "not found";
    case STORE_EXISTS:
        return "idempotency key already used";
    case STORE_CONFLICT:
        return "conditional update did not apply";
    case STORE_UNAVAILABLE:
        return "store unavailable";
    case STORE_INVALID:
        return "invalid argument";
    case STORE_NOMEM:
        return "out of memory";
    default:
        return "unknown store error";
    }
}
