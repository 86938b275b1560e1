/* GET /status/{jobId}, GET /status/{jobId}/events (Server-Sent Events), POST /cancel/{jobId}. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "app/errors.h"
#include "app/metrics.h"
#include "app/routes.h"
#include "engine/engine.h"
#include "store/store.h"
#include "util/clock.h"

#define SSE_POLL_MS 250
#define SSE_HEARTBEAT_MS 15000

/* Loads a job by the id in the path. A malformed id never reaches storage. */
static int load_job(struct app *app, const char *job_id, struct job *job, struct response *resp)
{
    if (!id_is_valid(job_id)) {
        error_job_not_found(resp, job_id);
        return -1;
    }
    int rc = store_get_job(app->store, job_id, job);
    if (rc != STORE_OK) {
        respond_store_error(resp, rc, job_id);
        return -1;
    }
    return 0;
}

static void respond_job(struct app *app, const struct job *job, struct response *resp)
{
    json_t *doc = job_to_json(job, app_blob_url, app);
    if (!doc || response_json(resp, 200, doc) != 0) error_internal(resp);
    response_set_header(resp, "Cache-Control", "no-store");
}

void handle_status(struct app *app, const struct request *req, const struct route_params *params,
                   struct response *resp)
{
    (void)req;
    struct job job;
    if (load_job(app, params->value[0], &job, resp) != 0) return;
    respond_job(app, &job, resp);
    job_clear(&job);
}

struct sse_stream {
    struct stream base;
    struct app *app;
    char job_id[ID_LEN + 1];
    char last_version[64]; /* event id of the last document sent (see sse_version) */
    int64_t last_send_mono;
    bool finished;
};

/* The event id: the update time plus how many results are in each state. Results only move
 * forward, so every change gives a new id even when two updates share a millisecond. */
static void sse_version(const struct job *job, char *out, size_t outlen)
{
    struct job_counts c = job_count(job);
    snprintf(out, outlen, "%lld-%d.%d.%d.%d.%d", (long long)job->updated_ms, c.pending,
             c.in_progress, c.completed, c.error, c.cancelled);
}

static enum stream_status sse_next(struct stream *base, struct buf *out, int *wait_ms)
{
    struct sse_stream *s = (struct sse_stream *)base;
    if (s->finished) return STREAM_END;
    int64_t now = clock_mono_ms();
    struct job job;
    int rc = store_get_job(s->app->store, s->job_id, &job);
    if (rc != STORE_OK) {
        /* Storage trouble: tell the client to retry later; EventSource reconnects by itself. */
        buf_append_str(out, "retry: 2000\n\n");
        s->finished = true;
        return STREAM_MORE;
    }
    bool terminal = job_is_terminal(job_derive_status(&job));
    char version[64];
    sse_version(&job, version, sizeof version);
    if (strcmp(version, s->last_version) != 0) {
        json_t *doc = job_to_json(&job, app_blob_url, s->app);
        char *text = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        json_decref(doc);
        if (text) {
            buf_printf(out, "id: %s\nevent: job\ndata: %s\n\n", version, text);
            free(text);
        }
        memcpy(s->last_version, version, sizeof version);
        s->last_send_mono = now;
        s->finished = terminal;
        job_clear(&job);
        return STREAM_MORE;
    }
    job_clear(&job);
    if (terminal) { /* the client already has the final document (Last-Event-ID) */
        s->finished = true;
        return STREAM_END;
    }
    if (now - s->last_send_mono >= SSE_HEARTBEAT_MS) {
        buf_append_str(out, ": heartbeat\n\n");
        s->last_send_mono = now;
        return STREAM_MORE;
    }
    *wait_ms = SSE_POLL_MS;
    return STREAM_WAIT;
}

static void sse_free(struct stream *base)
{
    metrics_sse_streams(-1);
    free(base);
}

void handle_status_events(struct app *app, const struct request *req,
                          const struct route_params *params, struct response *resp)
{
    struct job job;
    if (load_job(app, params->value[0], &job, resp) != 0) return;
    job_clear(&job);
    struct sse_stream *s = calloc(1, sizeof *s);
    if (!s) {
        error_internal(resp);
        return;
    }
    s->base.next = sse_next;
    s->base.free = sse_free;
    s->app = app;
    memcpy(s->job_id, params->value[0], ID_LEN); /* validated by load_job */
    memcpy(s->base.topic, s->job_id, ID_LEN + 1);
    s->last_send_mono = clock_mono_ms();
    const char *last = req->header ? req->header(req, "Last-Event-ID") : NULL;
    if (last && *last) snprintf(s->last_version, sizeof s->last_version, "%.63s", last);
    metrics_sse_streams(1);
    resp->status = 200;
    snprintf(resp->content_type, sizeof resp->content_type, "text/event-stream");
    response_set_header(resp, "Cache-Control", "no-store");
    response_set_header(resp, "X-Accel-Buffering", "no");
    resp->stream = &s->base;
}

void handle_cancel(struct app *app, const struct request *req, const struct route_params *params,
                   struct response *resp)
{
    (void)req;
    struct job job;
    if (load_job(app, params->value[0], &job, resp) != 0) return;
    int64_t now = clock_wall_ms();
    for (int i = 0; i < job.n_results; i++) {
        struct result r = job.results[i];
        if (result_is_terminal(r.status)) continue;
        r.status = RS_CANCELLED;
        r.completed_ms = now;
        r.duration_ms = r.started_ms ? now - r.started_ms : 0;
        snprintf(r.error, sizeof r.error, "cancelled");
        int rc = store_update_result(app->store, job.id, &r, RS_UNFINISHED);
        if (rc != STORE_OK && rc != STORE_CONFLICT) {
            job_clear(&job);
            respond_store_error(resp, rc, params->value[0]);
            return;
        }
    }
    if (app->engine) engine_cancel(app->engine, job.id);
    job_clear(&job);
    if (load_job(app, params->value[0], &job, resp) != 0) return;
    respond_job(app, &job, resp);
    job_clear(&job);
}
