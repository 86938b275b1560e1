/* The job document: one job, one result per selected model. Shared by the store backends,
 * the engine and the HTTP handlers. A job owns its prompt and its results array (job_free). */
#ifndef PP_STORE_JOB_H
#define PP_STORE_JOB_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "util/ids.h"

enum result_status { RS_PENDING, RS_IN_PROGRESS, RS_COMPLETED, RS_ERROR, RS_CANCELLED };
enum job_status { JS_PENDING, JS_IN_PROGRESS, JS_COMPLETED, JS_PARTIAL, JS_FAILED, JS_CANCELLED };

/* Bit masks of result statuses, for conditional transitions. */
#define RS_BIT(s) (1u << (s))
#define RS_UNFINISHED (RS_BIT(RS_PENDING) | RS_BIT(RS_IN_PROGRESS))

struct result {
    int index;       /* the model's configuration slot (MODEL_N_...), 1-based */
    char model[128]; /* configured model id */
    char name[128];  /* display name */
    char provider[32];
    enum result_status status;
    char image_key[160];   /* blob key of the image, "" until completed */
    char thumb_key[160];   /* blob key of the WebP thumbnail */
    char content_type[32]; /* of the image: image/png | image/jpeg | image/webp */
    int width, height;
    int64_t duration_ms;              /* from start to image stored; 0 until finished */
    char error[300];                  /* short, sanitised, safe to show to clients */
    int64_t started_ms, completed_ms; /* wall clock, 0 when unset */
    int64_t deadline_ms;              /* wall clock by which this result must be terminal */
};

struct job {
    char id[ID_LEN + 1];
    char *prompt; /* owned, UTF-8 */
    int64_t created_ms, updated_ms;
    int n_results;
    struct result *results; /* owned, n_results entries, ordered by index */
};

struct job_counts {
    int pending, in_progress, completed, error, cancelled;
};

/* Releases what the job owns (not the struct itself, which is often on the stack). */
void job_clear(struct job *job);
/* Deep copy; returns 0 or -1 on out of memory (dst is then cleared). */
int job_copy(struct job *dst, const struct job *src);

struct job_counts job_count(const struct job *job);
enum job_status job_derive_status(const struct job *job);
bool job_is_terminal(enum job_status s);
bool result_is_terminal(enum result_status s);
const char *job_status_name(enum job_status s);
const char *result_status_name(enum result_status s);
int result_status_parse(const char *s, enum result_status *out);

/* Builds the public job document (DESIGN §4). `url_for` turns a blob key into a public URL
 * into out[outlen]. Returns a new reference, or NULL on out of memory. */
typedef void (*url_builder_fn)(void *ctx, const char *key, char *out, size_t outlen);
json_t *job_to_json(const struct job *job, url_builder_fn url_for, void *ctx);
/* Reads back what job_to_json wrote plus internal keys (used by store backends that keep JSON). */
int job_from_json(const json_t *doc, struct job *out);

#endif
