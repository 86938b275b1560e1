/* The store: jobs, results, the gallery index, quota counters and idempotency keys.
 * One small interface, several backends (sqlite.c, dynamodb.c) chosen by name; nothing outside
 * src/store/ knows which one is in use. Every call is safe from any thread.
 *
 * Return codes: STORE_OK, or a negative STORE_* below. Errors are values; nothing is printed.
 * `err` buffers (when given) receive a short reason for the log, never for clients. */
#ifndef PP_STORE_STORE_H
#define PP_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/job.h"

enum {
    STORE_OK = 0,
    STORE_NOT_FOUND = -1,   /* no such job */
    STORE_EXISTS = -2,      /* idempotency key already used: existing id returned */
    STORE_CONFLICT = -3,    /* a conditional transition did not apply */
    STORE_UNAVAILABLE = -4, /* backend down or timed out: answer 503, try again later */
    STORE_INVALID = -5,     /* bad argument (caller bug or bad id) */
    STORE_NOMEM = -6,
};

struct store;
struct config;

/* Opens the backend named by cfg->store ("sqlite" | "dynamodb"). Returns NULL and fills err. */
struct store *store_open(const struct config *cfg, char *err, size_t errlen);
void store_close(struct store *s);

/* Cheap round trip for /healthz. */
int store_ping(struct store *s);

/* Creates the job and all its result rows at once. With a non-NULL idem_key (already a keyed hash of
 * client + Idempotency-Key header) the creation only happens if the key is new or older than
 * idem_ttl_ms; otherwise STORE_EXISTS and existing_id receives the job id the key points at. */
int store_create_job(struct store *s, const struct job *job, const char *idem_key,
                     int64_t idem_ttl_ms, char existing_id[ID_LEN + 1]);

/* Loads a job with all its results (ordered by index). On STORE_OK the caller owns *out
 * (job_clear). */
int store_get_job(struct store *s, const char *job_id, struct job *out);

/* Atomically replaces the mutable fields of one result (status, keys, sizes, times, error) with
 * r's, only if the stored status is in from_mask (RS_BIT set). STORE_CONFLICT when it was not.
 * r->index picks the result. Also bumps the job's updated time and, when r completes with an
 * image, enters the job into the gallery index. */
int store_update_result(struct store *s, const char *job_id, const struct result *r,
                        unsigned from_mask);

/* Newest-first page of jobs with at least one completed image. cursor is NULL/"" for the first
 * page; next_cursor is "" on the last one. Cost is O(limit), not O(all jobs). */
struct gallery_entry {
    char id[ID_LEN + 1];
    int64_t created_ms;
    char *prompt;           /* owned by the page */
    char preview_key[160];  /* thumbnail key of the first completed result */
    int image_count;
};
struct gallery_page {
    struct gallery_entry *entries; /* owned, n entries */
    int n;
    long total;                    /* all gallery entries */
    char next_cursor[128];
};
int store_gallery_list(struct store *s, int limit, const char *cursor, struct gallery_page *out);
void gallery_page_clear(struct gallery_page *p);

/* Atomically adds 1 to the counter `key` (one fixed window; the key names the window) unless it
 * already reached `limit`. *allowed tells which; *count is the value after the call. The counter
 * may be dropped after expires_ms. */
int store_quota_take(struct store *s, const char *key, long limit, int64_t expires_ms,
                     bool *allowed, long *count);
/* Gives one back (a later check rejected the request after this counter accepted it). */
int store_quota_release(struct store *s, const char *key);

/* Marks every unfinished result whose deadline is before `before_ms` as error "interrupted"
 * (completed_ms = now). Used at start so no job stays unfinished after a crash. *n_marked
 * receives the count. */
int store_recover_interrupted(struct store *s, int64_t before_ms, int64_t now_ms, int *n_marked);

const char *store_strerror(int code);

#endif
