#include "store/job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"

static const char *const result_names[] = {"pending", "in_progress", "completed", "error",
                                           "cancelled"};
static const char *const job_names[] = {"pending", "in_progress", "completed",
                                        "partial", "failed",      "cancelled"};

void job_clear(struct job *job)
{
    free(job->prompt);
    free(job->results);
    memset(job, 0, sizeof *job);
}

int job_copy(struct job *dst, const struct job *src)
{
    *dst = *src;
    dst->prompt = NULL;
    dst->results = NULL;
    dst->prompt = strdup(src->prompt ? src->prompt : "");
    if (src->n_results > 0) {
        dst->results = malloc(sizeof *dst->results * (size_t)src->n_results);
        if (dst->results)
            memcpy(dst->results, src->results, sizeof *dst->results * (size_t)src->n_results);
    }
    if (!dst->prompt || (src->n_results > 0 && !dst->results)) {
        job_clear(dst);
        return -1;
    }
    return 0;
}

struct job_counts job_count(const struct job *job)
{
    struct job_counts c = {0, 0, 0, 0, 0};
    for (int i = 0; i < job->n_results; i++) {
        switch (job->results[i].status) {
        case RS_PENDING:
            c.pending++;
            break;
        case RS_IN_PROGRESS:
            c.in_progress++;
            break;
        case RS_COMPLETED:
            c.completed++;
            break;
        case RS_ERROR:
            c.error++;
            break;
        case RS_CANCELLED:
            c.cancelled++;
            break;
        }
    }
    return c;
}

/* Derived from the rows, never stored, so concurrent result updates cannot disagree with it. */
enum job_status job_derive_status(const struct job *job)
{
    struct job_counts c = job_count(job);
    int total = job->n_results;
    if (total == 0) return JS_FAILED; /* nothing can ever run: terminal, never stuck */
    if (c.pending == total) return JS_PENDING;
    if (c.pending + c.in_progress > 0) return JS_IN_PROGRESS;
    if (c.cancelled > 0) return c.completed > 0 ? JS_PARTIAL : JS_CANCELLED;
    if (c.error == 0) return JS_COMPLETED;
    return c.completed == 0 ? JS_FAILED : JS_PARTIAL;
}

bool job_is_terminal(enum job_status s)
{
    return s == JS_COMPLETED || s == JS_PARTIAL || s == JS_FAILED || s == JS_CANCELLED;
}

bool result_is_terminal(enum result_status s)
{
    return s == RS_COMPLETED || s == RS_ERROR || s == RS_CANCELLED;
}

const char *job_status_name(enum job_status s)
{
    return (unsigned)s < sizeof job_names / sizeof job_names[0] ? job_names[s] : "pending";
}

const char *result_status_name(enum result_status s)
{
    return (unsigned)s < sizeof result_names / sizeof result_names[0] ? result_names[s] : "pending";
}

int result_status_parse(const char *s, enum result_status *out)
{
    for (unsigned i = 0; i < sizeof result_names / sizeof result_names[0]; i++) {
        if (s && strcmp(s, result_names[i]) == 0) {
            *out = (enum result_status)i;
            return 0;
        }
    }
    return -1;
}

static json_t *time_or_null(int64_t ms)
{
    char ts[32];
    return ms > 0 ? json_string(clock_iso8601(ms, ts, sizeof ts)) : json_null();
}

static json_t *url_or_null(const char *key, url_builder_fn url_for, void *ctx)
{
    if (!key[0] || !url_for) return json_null();
    char url[768];
    url_for(ctx, key, url, sizeof url);
    return json_string(url);
}

static json_t *result_to_json(const struct result *r, url_builder_fn url_for, void *ctx)
{
    json_t *o = json_object();
    if (!o) return NULL;
    bool done = r->status == RS_COMPLETED;
    json_object_set_new(o, "model", json_string(r->model));
    json_object_set_new(o, "name", json_string(r->name));
    json_object_set_new(o, "provider", json_string(r->provider));
    json_object_set_new(o, "index", json_integer(r->index));
    json_object_set_new(o, "status", json_string(result_status_name(r->status)));
    json_object_set_new(o, "imageUrl",
                        done ? url_or_null(r->image_key, url_for, ctx) : json_null());
    json_object_set_new(o, "thumbnailUrl",
                        done ? url_or_null(r->thumb_key, url_for, ctx) : json_null());
    json_object_set_new(o, "contentType", done ? json_string(r->content_type) : json_null());
    json_object_set_new(o, "width", done ? json_integer(r->width) : json_null());
    json_object_set_new(o, "height", done ? json_integer(r->height) : json_null());
    json_object_set_new(o, "duration",
                        result_is_terminal(r->status) && r->duration_ms > 0
                            ? json_real((double)r->duration_ms / 1000.0)
                            : json_null());
    json_object_set_new(o, "error", r->error[0] ? json_string(r->error) : json_null());
    json_object_set_new(o, "startedAt", time_or_null(r->started_ms));
    json_object_set_new(o, "completedAt", time_or_null(r->completed_ms));
    return o;
}

json_t *job_to_json(const struct job *job, url_builder_fn url_for, void *ctx)
{
    struct job_counts c = job_count(job);
    json_t *o = json_object();
    json_t *results = json_array();
    if (!o || !results) {
        json_decref(o);
        json_decref(results);
        return NULL;
    }
    json_object_set_new(o, "jobId", json_string(job->id));
    json_object_set_new(o, "status", json_string(job_status_name(job_derive_status(job))));
    json_object_set_new(o, "prompt", json_string(job->prompt ? job->prompt : ""));
    json_object_set_new(o, "createdAt", time_or_null(job->created_ms));
    json_object_set_new(o, "updatedAt", time_or_null(job->updated_ms));
    json_object_set_new(o, "totalModels", json_integer(job->n_results));
    json_object_set_new(o, "completedModels", json_integer(c.completed));
    json_object_set_new(o, "failedModels", json_integer(c.error));
    for (int i = 0; i < job->n_results; i++) {
        json_t *r = result_to_json(&job->results[i], url_for, ctx);
        if (!r || json_array_append_new(results, r) != 0) {
            json_decref(o);
            json_decref(results);
            return NULL;
        }
    }
    json_object_set_new(o, "results", results);
    return o;
}

static void copy_str(char *dst, size_t cap, const json_t *v)
{
    const char *s = json_is_string(v) ? json_string_value(v) : "";
    snprintf(dst, cap, "%s", s);
}

static int64_t time_field(const json_t *v)
{
    int64_t ms = 0;
    if (json_is_string(v) && clock_parse_iso8601(json_string_value(v), &ms) == 0) return ms;
    return 0;
}

int job_from_json(const json_t *doc, struct job *out)
{
    memset(out, 0, sizeof *out);
    const json_t *results = json_object_get(doc, "results");
    const char *id = json_string_value(json_object_get(doc, "jobId"));
    if (!json_is_object(doc) || !json_is_array(results) || !id || !id_is_valid(id)) return -1;
    snprintf(out->id, sizeof out->id, "%s", id);
    const char *prompt = json_string_value(json_object_get(doc, "prompt"));
    out->prompt = strdup(prompt ? prompt : "");
    out->created_ms = time_field(json_object_get(doc, "createdAt"));
    out->updated_ms = time_field(json_object_get(doc, "updatedAt"));
    size_t n = json_array_size(results);
    out->results = n ? calloc(n, sizeof *out->results) : NULL;
    if (!out->prompt || (n && !out->results)) {
        job_clear(out);
        return -1;
    }
    out->n_results = (int)n;
    for (size_t i = 0; i < n; i++) {
        const json_t *r = json_array_get(results, i);
        struct result *dst = &out->results[i];
        dst->index = (int)json_integer_value(json_object_get(r, "index"));
        copy_str(dst->model, sizeof dst->model, json_object_get(r, "model"));
        copy_str(dst->name, sizeof dst->name, json_object_get(r, "name"));
        copy_str(dst->provider, sizeof dst->provider, json_object_get(r, "provider"));
        if (result_status_parse(json_string_value(json_object_get(r, "status")), &dst->status))
            dst->status = RS_PENDING;
        copy_str(dst->content_type, sizeof dst->content_type, json_object_get(r, "contentType"));
        copy_str(dst->error, sizeof dst->error, json_object_get(r, "error"));
        dst->width = (int)json_integer_value(json_object_get(r, "width"));
        dst->height = (int)json_integer_value(json_object_get(r, "height"));
        const json_t *d = json_object_get(r, "duration");
        dst->duration_ms = json_is_number(d) ? (int64_t)(json_number_value(d) * 1000.0 + 0.5) : 0;
        dst->started_ms = time_field(json_object_get(r, "startedAt"));
        dst->completed_ms = time_field(json_object_get(r, "completedAt"));
    }
    return 0;
}
