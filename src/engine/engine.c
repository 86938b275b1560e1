/* The engine: one I/O thread (curl multi + timers) and a worker pool. See engine.h.
 *
 * Threads: callers post commands under `lock` and wake the I/O thread with curl_multi_wakeup.
 * Everything about a task's I/O happens on the I/O thread; image work and storage writes happen
 * on workers, which post the task back (CMD_RELEASE) when they are through with it. */
#include "engine/engine.h"

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "app/config.h"
#include "app/metrics.h"
#include "blob/blob.h"
#include "engine/image.h"
#include "engine/retry.h"
#include "engine/task.h"
#include "engine/timer_heap.h"
#include "engine/work_queue.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/ids.h"
#include "util/log.h"

#define THUMB_MAX_SIDE 256
#define API_RESPONSE_CAP (8u * 1024 * 1024) /* JSON answers that may carry base64 images grow */

enum timer_kind { TIMER_SEND, TIMER_RENDER, TIMER_DEADLINE };
enum cmd_kind { CMD_START, CMD_CANCEL, CMD_RELEASE, CMD_STEP };

struct command {
    enum cmd_kind kind;
    struct task *task;
    char job_id[ID_LEN + 1];
    struct command *next;
};

struct job_run {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int remaining; /* tasks not yet terminal */
    int refs;
};

struct engine {
    const struct config *cfg;
    struct store *store;
    struct blob *blob;
    CURLM *multi;
    struct work_queue *workers;
    pthread_t io_thread;
    pthread_mutex_t lock; /* guards commands, stopping, listener */
    struct command *cmd_head, *cmd_tail;
    bool stopping;
    engine_job_listener listener;
    void *listener_ctx;
    /* I/O thread only: */
    struct timer_heap timers;
    struct task *tasks;
    int in_flight;
};

/* ---- job runs (blocking waiters) ---- */

static void run_release(struct job_run *run)
{
    pthread_mutex_lock(&run->lock);
    int left = --run->refs;
    pthread_mutex_unlock(&run->lock);
    if (left) return;
    pthread_cond_destroy(&run->cond);
    pthread_mutex_destroy(&run->lock);
    free(run);
}

static void run_task_finished(struct job_run *run)
{
    pthread_mutex_lock(&run->lock);
    run->remaining--;
    pthread_cond_broadcast(&run->cond);
    pthread_mutex_unlock(&run->lock);
}

/* ---- commands ---- */

static int post_command(struct engine *e, enum cmd_kind kind, struct task *t, const char *job_id)
{
    struct command *c = calloc(1, sizeof *c);
    if (!c) return -1;
    c->kind = kind;
    c->task = t;
    if (job_id) snprintf(c->job_id, sizeof c->job_id, "%s", job_id);
    pthread_mutex_lock(&e->lock);
    if (e->cmd_tail)
        e->cmd_tail->next = c;
    else
        e->cmd_head = c;
    e->cmd_tail = c;
    pthread_mutex_unlock(&e->lock);
    curl_multi_wakeup(e->multi);
    return 0;
}

/* ---- task lifetime ---- */

static void task_link(struct task *t)
{
    if (t->linked) return;
    t->linked = true;
    t->next = t->e->tasks;
    if (t->next) t->next->prev = t;
    t->e->tasks = t;
}

static void task_free(struct task *t)
{
    struct engine *e = t->e;
    if (t->linked) {
        if (t->prev)
            t->prev->next = t->next;
        else
            e->tasks = t->next;
        if (t->next) t->next->prev = t->prev;
    }
    if (t->in_flight) {
        curl_multi_remove_handle(e->multi, t->xfer.easy);
        e->in_flight--;
    }
    transfer_cleanup(&t->xfer);
    http_request_clear(&t->req);
    provider_step_clear(&t->next_step);
    buf_free(&t->image);
    free(t->state);
    free(t->prompt);
    if (t->run) run_release(t->run);
    free(t);
}

static void task_maybe_free(struct task *t)
{
    if (t->released && t->timer_refs == 0) task_free(t);
}

static void add_timer(struct task *t, enum timer_kind kind, int64_t due)
{
    struct timer_entry te = {due, t, (int)kind, t->gen};
    if (timer_heap_push(&t->e->timers, te) == 0) t->timer_refs++;
}

static void abort_transfer(struct task *t)
{
    if (!t->in_flight) return;
    curl_multi_remove_handle(t->e->multi, t->xfer.easy);
    t->e->in_flight--;
    t->in_flight = false;
    transfer_cleanup(&t->xfer);
}

/* ---- worker side: finishing a model ---- */

/* Called under the lock, so once engine_set_listener(NULL) returns no call is still running and
 * the listener's context may go. Listeners must be quick and must not call into the engine. */
static void notify(struct engine *e, const char *job_id)
{
    pthread_mutex_lock(&e->lock);
    if (e->listener) e->listener(e->listener_ctx, job_id);
    pthread_mutex_unlock(&e->lock);
}

static void slug(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    for (; *in && n + 1 < cap && n < 48; in++) {
        char c = *in;
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a'), ok = true;
        out[n++] = ok ? c : '-';
    }
    out[n] = '\0';
}

static void write_result(struct task *t, const char *outcome)
{
    struct engine *e = t->e;
    int64_t now = clock_wall_ms();
    t->result.completed_ms = now;
    t->result.duration_ms = t->result.started_ms ? now - t->result.started_ms : 0;
    int rc = store_update_result(e->store, t->job_id, &t->result, RS_BIT(RS_IN_PROGRESS));
    if (rc == STORE_CONFLICT && t->result.status == RS_COMPLETED) {
        /* Cancelled meanwhile: the row says cancelled, so the files would be orphans. */
        blob_delete(e->blob, t->result.image_key);
        blob_delete(e->blob, t->result.thumb_key);
        outcome = "cancelled";
    }
    json_t *fields = json_pack("{s:s, s:s, s:s, s:s, s:I}", "jobId", t->job_id, "model",
                               t->result.model, "provider", t->result.provider, "outcome", outcome,
                               "durationMs", (json_int_t)t->result.duration_ms);
    if (t->result.status == RS_ERROR && fields)
        json_object_set_new(fields, "error", json_string(t->result.error));
    if (rc != STORE_OK && rc != STORE_CONFLICT && fields)
        json_object_set_new(fields, "storeError", json_string(store_strerror(rc)));
    log_emit(t->result.status == RS_ERROR ? LOG_WARNING : LOG_INFO, NULL, "model finished", fields);
    json_decref(fields);
    metrics_result(t->ops ? t->ops->name : "http", outcome, t->result.duration_ms);
    notify(e, t->job_id);
}

static void finish_error_now(struct task *t, const char *text)
{
    t->result.status = RS_ERROR;
    snprintf(t->result.error, sizeof t->result.error, "%s", text);
    write_result(t, "error");
}

static const char *image_error_text(int rc)
{
    switch (rc) {
    case IMAGE_ERR_FORMAT:
        return "the provider returned something that is not an image";
    case IMAGE_ERR_CORRUPT:
        return "the provider returned a damaged or truncated image";
    case IMAGE_ERR_TOO_LARGE:
        return "the provider returned an image over the size limit";
    default:
        return "the image could not be processed (out of memory)";
    }
}

static void finish_image_now(struct task *t)
{
    struct engine *e = t->e;
    struct image_limits lim = {e->cfg->max_image_bytes, e->cfg->max_image_pixels_side};
    struct buf thumb = BUF_INIT;
    struct image_info info;
    int rc = image_thumbnail(t->image.data, t->image.len, &lim, THUMB_MAX_SIDE, &thumb, &info);
    if (rc != IMAGE_OK) {
        finish_error_now(t, image_error_text(rc));
        buf_free(&thumb);
        return;
    }
    char s[64];
    slug(t->result.model, s, sizeof s);
    struct result *r = &t->result;
    snprintf(r->image_key, sizeof r->image_key, "images/%s/%02d-%s.%s", t->job_id, r->index, s,
             image_extension(info.format));
    snprintf(r->thumb_key, sizeof r->thumb_key, "thumbs/%s/%02d-%s.webp", t->job_id, r->index, s);
    snprintf(r->content_type, sizeof r->content_type, "%s", image_mime(info.format));
    r->width = info.width;
    r->height = info.height;
    int b1 = blob_put(e->blob, r->image_key, t->image.data, t->image.len, r->content_type);
    int b2 =
        b1 == BLOB_OK ? blob_put(e->blob, r->thumb_key, thumb.data, thumb.len, "image/webp") : b1;
    buf_free(&thumb);
    buf_free(&t->image);
    if (b1 != BLOB_OK || b2 != BLOB_OK) {
        if (b1 == BLOB_OK) blob_delete(e->blob, r->image_key);
        r->image_key[0] = r->thumb_key[0] = '\0';
        finish_error_now(t, "the image could not be stored; please try again");
        return;
    }
    r->status = RS_COMPLETED;
    r->error[0] = '\0';
    write_result(t, "completed");
}

static void worker_done(struct task *t)
{
    if (t->run) run_task_finished(t->run);
    post_command(t->e, CMD_RELEASE, t, NULL);
}

static void work_finish_image(void *arg)
{
    struct task *t = arg;
    finish_image_now(t);
    worker_done(t);
}

static void work_finish_error(void *arg)
{
    struct task *t = arg;
    finish_error_now(t, t->error);
    worker_done(t);
}

static void work_render(void *arg)
{
    struct task *t = arg;
    struct provider_call call = {t->e->cfg, t->model, t->prompt, t->state, t->poll_count};
    char err[200] = "";
    if (t->ops->render(&call, &t->image, err, sizeof err) != 0)
        finish_error_now(t, err);
    else
        finish_image_now(t);
    worker_done(t);
}

/* Marks the row in_progress, then lets the I/O thread start it. */
static void work_claim(void *arg)
{
    struct task *t = arg;
    if (!t->model || !t->ops) {
        /* The model left the configuration since the job was created. */
        t->result.status = RS_IN_PROGRESS;
        char text[200];
        snprintf(text, sizeof text, "model \"%.100s\" is no longer configured", t->result.model);
        finish_error_now(t, text);
        worker_done(t);
        return;
    }
    t->result.status = RS_IN_PROGRESS;
    t->result.started_ms = clock_wall_ms();
    int rc = store_update_result(t->e->store, t->job_id, &t->result, RS_BIT(RS_PENDING));
    if (rc != STORE_OK) {
        /* Cancelled before it started (CONFLICT) or the store is down: nothing to run. */
        t->done = true;
        if (rc != STORE_CONFLICT) {
            t->result.status = RS_PENDING;
            snprintf(t->result.error, sizeof t->result.error, "storage unavailable");
        }
        worker_done(t);
        return;
    }
    notify(t->e, t->job_id);
    post_command(t->e, CMD_START, t, NULL);
}

/* Hands a task to a worker; from then on the I/O thread leaves it alone. */
static void hand_off(struct task *t, work_fn fn)
{
    abort_transfer(t);
    t->done = true;
    t->gen++;
    if (work_queue_post(t->e->workers, fn, t) != 0) {
        /* Stopping: the store keeps the row in_progress; recovery marks it interrupted. */
        if (t->run) run_task_finished(t->run);
        t->released = true;
    }
}

static void fail_task(struct task *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail_task(struct task *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->error, sizeof t->error, fmt, ap);
    va_end(ap);
    if (t->http_cb) { /* a bare HTTP call: report a transport failure */
        struct http_response r = {0, "", "", 0, -1, t->error};
        abort_transfer(t);
        t->http_cb(t->http_ctx, &r);
        t->http_cb = NULL;
        t->done = true;
        t->released = true;
        t->gen++;
        return;
    }
    hand_off(t, work_finish_error);
}

/* Runs the adapter's on_response off the I/O thread; the task is the worker's until CMD_STEP. */
static void work_parse(void *arg)
{
    struct task *t = arg;
    struct engine *e = t->e;
    struct provider_step *step = &t->next_step;
    provider_step_init(step);
    struct provider_call call = {e->cfg, t->model, t->prompt, t->state, t->poll_count};
    if (t->ops->on_response(&call, &t->answer, step) != 0 && step->kind != STEP_ERROR)
        provider_step_error(step, "the provider's answer could not be read");
    if (step->kind == STEP_ERROR) {
        json_t *f = json_pack("{s:s, s:s, s:i, s:s}", "jobId", t->job_id, "model", t->result.model,
                              "status", (int)t->answer.status, "error", step->error);
        log_emit(LOG_WARNING, NULL, "provider error", f);
        json_decref(f);
    }
    post_command(e, CMD_STEP, t, NULL);
}

/* ---- I/O thread ---- */

static void apply_step(struct task *t, struct provider_step *step)
{
    int64_t now = clock_mono_ms();
    if (step->state) {
        free(t->state);
        t->state = step->state;
        step->state = NULL;
    }
    switch (step->kind) {
    case STEP_REQUEST:
        http_request_clear(&t->req);
        t->req = step->req;
        memset(&step->req, 0, sizeof step->req);
        t->attempt = 0;
        add_timer(t, TIMER_SEND, now + (step->delay_ms > 0 ? step->delay_ms : 0));
        break;
    case STEP_RENDER:
        add_timer(t, TIMER_RENDER, now + (step->delay_ms > 0 ? step->delay_ms : 0));
        break;
    case STEP_IMAGE:
        buf_free(&t->image);
        t->image = step->image;
        memset(&step->image, 0, sizeof step->image);
        hand_off(t, work_finish_image);
        break;
    case STEP_ERROR:
        fail_task(t, "%s", step->error[0] ? step->error : "the provider failed");
        break;
    }
    provider_step_clear(step);
}

static void start_task(struct task *t)
{
    struct engine *e = t->e;
    t->deadline_mono = clock_mono_ms() + (int64_t)e->cfg->model_timeout_s * 1000;
    add_timer(t, TIMER_DEADLINE, t->deadline_mono);
    struct provider_step step;
    provider_step_init(&step);
    struct provider_call call = {e->cfg, t->model, t->prompt, NULL, 0};
    if (t->ops->start(&call, &step) != 0 && step.kind != STEP_ERROR)
        provider_step_error(&step, "the request could not be built");
    apply_step(t, &step);
}

static void send_request(struct task *t)
{
    struct engine *e = t->e;
    int64_t left = t->deadline_mono - clock_mono_ms();
    if (left <= 0) {
        fail_task(t, "timed out after %d s", e->cfg->model_timeout_s);
        return;
    }
    if (t->req.timeout_ms > 0 && t->req.timeout_ms < left) left = t->req.timeout_ms;
    size_t cap = t->req.body_is_image ? e->cfg->max_image_bytes : API_RESPONSE_CAP;
    if (cap < e->cfg->max_image_bytes * 2 && !t->req.body_is_image)
        cap = e->cfg->max_image_bytes * 2; /* base64 inside JSON is 4/3 of the image */
    if (transfer_setup(&t->xfer, e->cfg, &t->req, left, cap) != 0 ||
        curl_multi_add_handle(e->multi, t->xfer.easy) != CURLM_OK) {
        transfer_cleanup(&t->xfer);
        fail_task(t, "could not start the request (out of memory)");
        return;
    }
    t->in_flight = true;
    e->in_flight++;
    t->poll_count++;
}

static unsigned jitter_seed(const struct task *t)
{
    return (unsigned)(uintptr_t)t ^ (unsigned)clock_mono_ms();
}

static void transfer_finished(struct task *t, CURLcode result)
{
    struct engine *e = t->e;
    t->in_flight = false;
    e->in_flight--;
    curl_multi_remove_handle(e->multi, t->xfer.easy);
    struct http_response resp;
    transfer_response(&t->xfer, result, &resp, clock_wall_ms());

    int64_t now = clock_mono_ms();
    if (retry_is_retryable(resp.status) && !t->xfer.too_large &&
        t->attempt + 1 < RETRY_MAX_ATTEMPTS) {
        unsigned seed = jitter_seed(t);
        int64_t delay = retry_delay_ms(t->attempt + 1, resp.retry_after_s,
                                       (double)rand_r(&seed) / ((double)RAND_MAX + 1.0));
        if (now + delay < t->deadline_mono) {
            json_t *f = json_pack("{s:s, s:s, s:i, s:i, s:I}", "jobId", t->job_id, "model",
                                  t->result.model, "status", (int)resp.status, "attempt",
                                  t->attempt + 1, "delayMs", (json_int_t)delay);
            log_emit(LOG_INFO, NULL, "retrying provider request", f);
            json_decref(f);
            t->attempt++;
            transfer_cleanup(&t->xfer);
            add_timer(t, TIMER_SEND, now + delay);
            return;
        }
    }
    if (t->http_cb) {
        t->http_cb(t->http_ctx, &resp);
        t->http_cb = NULL;
        transfer_cleanup(&t->xfer);
        t->done = true;
        t->released = true;
        t->gen++;
        return;
    }
    if (t->req.body_is_image) {
        if (resp.status >= 200 && resp.status < 300) {
            buf_free(&t->image);
            t->image = t->xfer.body;
            memset(&t->xfer.body, 0, sizeof t->xfer.body);
            transfer_cleanup(&t->xfer);
            hand_off(t, work_finish_image);
        } else if (resp.status == 0) {
            char why[200];
            snprintf(why, sizeof why, "%s", resp.transport_error ? resp.transport_error : "");
            transfer_cleanup(&t->xfer);
            fail_task(t, "image download failed: %.150s", why);
        } else {
            long status = resp.status;
            transfer_cleanup(&t->xfer);
            fail_task(t, "image download failed: HTTP %ld", status);
        }
        return;
    }
    /* Reading an answer can mean parsing megabytes of JSON and base64, so a worker does it and
     * this thread keeps every other transfer moving. The deadline timer goes stale meanwhile and
     * is armed again when the step comes back (CMD_STEP). */
    t->answer = resp;
    t->parsing = true;
    t->gen++;
    if (work_queue_post(e->workers, work_parse, t) != 0) {
        t->parsing = false;
        fail_task(t, "interrupted: the server is shutting down");
    }
}

/* The step a parsing worker found, back on the I/O thread. */
static void step_returned(struct task *t)
{
    t->parsing = false;
    transfer_cleanup(&t->xfer);
    struct provider_step step = t->next_step;
    provider_step_init(&t->next_step);
    if (t->cancel_requested) {
        provider_step_clear(&step);
        t->done = true;
        t->released = true;
        if (t->run) run_task_finished(t->run);
        metrics_result(t->ops->name, "cancelled", 0);
        return;
    }
    if (clock_mono_ms() >= t->deadline_mono) {
        provider_step_clear(&step);
        fail_task(t, "timed out after %d s", t->e->cfg->model_timeout_s);
        return;
    }
    add_timer(t, TIMER_DEADLINE, t->deadline_mono);
    apply_step(t, &step);
}

static void run_timer(struct engine *e, struct timer_entry *te)
{
    struct task *t = te->payload;
    t->timer_refs--;
    if (t->done || te->gen != t->gen) {
        task_maybe_free(t);
        return;
    }
    switch ((enum timer_kind)te->kind) {
    case TIMER_SEND:
        send_request(t);
        break;
    case TIMER_RENDER:
        hand_off(t, work_render);
        break;
    case TIMER_DEADLINE:
        abort_transfer(t);
        fail_task(t, "timed out after %d s", e->cfg->model_timeout_s);
        break;
    }
    task_maybe_free(t);
}

static void run_command(struct engine *e, struct command *c)
{
    struct task *t = c->task;                /* NULL for CMD_CANCEL only */
    if (c->kind != CMD_CANCEL) task_link(t); /* only the I/O thread touches the task list */
    switch (c->kind) {
    case CMD_START:
        if (e->stopping) {
            fail_task(t, "interrupted: the server is shutting down");
        } else if (t->http_cb) {
            t->deadline_mono = t->deadline_mono ? t->deadline_mono : clock_mono_ms() + 25000;
            add_timer(t, TIMER_DEADLINE, t->deadline_mono);
            add_timer(t, TIMER_SEND, clock_mono_ms());
        } else {
            start_task(t);
        }
        break;
    case CMD_CANCEL:
        for (struct task *it = e->tasks, *next; it; it = next) {
            next = it->next; /* task_maybe_free may free it */
            if (it->done || strcmp(it->job_id, c->job_id) != 0) continue;
            if (it->parsing) { /* a worker holds it: drop it when the step comes back */
                it->cancel_requested = true;
                continue;
            }
            abort_transfer(it);
            it->done = true;
            it->released = true;
            it->gen++;
            if (it->run) run_task_finished(it->run);
            metrics_result(it->ops ? it->ops->name : "http", "cancelled", 0);
            task_maybe_free(it);
        }
        break;
    case CMD_RELEASE:
        t->released = true;
        task_maybe_free(t);
        break;
    case CMD_STEP:
        step_returned(t);
        task_maybe_free(t);
        break;
    }
}

static void drain_commands(struct engine *e)
{
    pthread_mutex_lock(&e->lock);
    struct command *c = e->cmd_head;
    e->cmd_head = e->cmd_tail = NULL;
    pthread_mutex_unlock(&e->lock);
    while (c) {
        struct command *next = c->next;
        run_command(e, c);
        free(c);
        c = next;
    }
}

static void *io_main(void *arg)
{
    struct engine *e = arg;
    for (;;) {
        drain_commands(e);
        pthread_mutex_lock(&e->lock);
        bool stopping = e->stopping;
        pthread_mutex_unlock(&e->lock);
        if (stopping) break;
        struct timer_entry te;
        while (timer_heap_pop_due(&e->timers, clock_mono_ms(), &te))
            run_timer(e, &te);
        int running = 0;
        curl_multi_perform(e->multi, &running);
        CURLMsg *msg;
        int left = 0;
        while ((msg = curl_multi_info_read(e->multi, &left)) != NULL) {
            if (msg->msg != CURLMSG_DONE) continue;
            struct transfer *x = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
            struct task *t = (struct task *)((char *)x - offsetof(struct task, xfer));
            CURLcode result = msg->data.result;
            transfer_finished(t, result);
            task_maybe_free(t);
        }
        int64_t wait = timer_heap_wait_ms(&e->timers, clock_mono_ms());
        if (wait < 0 || wait > 1000) wait = 1000;
        curl_multi_poll(e->multi, NULL, 0, (int)wait, NULL);
    }
    /* Stopping: whatever is still running ends as an error the client can read. */
    for (struct task *t = e->tasks; t; t = t->next)
        if (!t->done && !t->parsing) fail_task(t, "interrupted: the server is shutting down");
    return NULL;
}

/* ---- public API ---- */

struct engine *engine_start(const struct config *cfg, struct store *store, struct blob *blob,
                            char *err, size_t errlen)
{
    struct engine *e = calloc(1, sizeof *e);
    if (!e) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    e->cfg = cfg;
    e->store = store;
    e->blob = blob;
    pthread_mutex_init(&e->lock, NULL);
    e->multi = curl_multi_init();
    e->workers = work_queue_start(cfg->workers);
    if (!e->multi || !e->workers) {
        snprintf(err, errlen, "could not start the engine's threads");
        if (e->multi) curl_multi_cleanup(e->multi);
        work_queue_stop(e->workers);
        free(e);
        return NULL;
    }
    curl_multi_setopt(e->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    if (pthread_create(&e->io_thread, NULL, io_main, e) != 0) {
        snprintf(err, errlen, "could not start the engine's I/O thread");
        work_queue_stop(e->workers);
        curl_multi_cleanup(e->multi);
        free(e);
        return NULL;
    }
    return e;
}

void engine_stop(struct engine *e)
{
    if (!e) return;
    pthread_mutex_lock(&e->lock);
    e->stopping = true;
    pthread_mutex_unlock(&e->lock);
    curl_multi_wakeup(e->multi);
    pthread_join(e->io_thread, NULL);
    work_queue_stop(e->workers); /* runs every queued write to the end */
    /* Workers may have claimed tasks after the I/O thread left: those rows say in_progress and
     * nothing will run them, so they end here as interrupted. Every task is then freed below. */
    struct command *c = e->cmd_head;
    e->cmd_head = e->cmd_tail = NULL;
    while (c) {
        struct command *next = c->next;
        if (c->task) {
            task_link(c->task);
            if (c->kind == CMD_STEP) provider_step_clear(&c->task->next_step);
            bool unstarted = c->kind == CMD_START && !c->task->done && !c->task->http_cb;
            bool parsed = c->kind == CMD_STEP && !c->task->cancel_requested;
            if (unstarted || parsed) {
                finish_error_now(c->task, "interrupted: the server is shutting down");
                if (c->task->run) run_task_finished(c->task->run);
            } else if (c->kind == CMD_STEP && c->task->run) {
                run_task_finished(c->task->run);
            } else if (c->kind == CMD_START && c->task->http_cb) {
                struct http_response r = {0, "", "", 0, -1, "the server is shutting down"};
                c->task->http_cb(c->task->http_ctx, &r);
            }
        }
        free(c);
        c = next;
    }
    for (struct task *t = e->tasks, *next; t; t = next) {
        next = t->next;
        task_free(t);
    }
    e->tasks = NULL;
    timer_heap_free(&e->timers);
    curl_multi_cleanup(e->multi);
    pthread_mutex_destroy(&e->lock);
    free(e);
}

void engine_set_listener(struct engine *e, engine_job_listener fn, void *ctx)
{
    pthread_mutex_lock(&e->lock);
    e->listener = fn;
    e->listener_ctx = ctx;
    pthread_mutex_unlock(&e->lock);
}

/* Tasks join the engine's list on the I/O thread only; until then the creator owns them. */
static struct task *task_new(struct engine *e, const struct job *job, const struct result *r)
{
    struct task *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->e = e;
    snprintf(t->job_id, sizeof t->job_id, "%s", job->id);
    t->prompt = strdup(job->prompt ? job->prompt : "");
    t->result = *r;
    t->model = config_model_by_id(e->cfg, r->model);
    t->ops = t->model ? provider_find(t->model->provider) : NULL;
    if (!t->prompt) {
        free(t);
        return NULL;
    }
    return t;
}

static int submit(struct engine *e, const struct job *job, struct job_run *run)
{
    pthread_mutex_lock(&e->lock);
    bool stopping = e->stopping;
    pthread_mutex_unlock(&e->lock);
    if (stopping) return -1;
    for (int i = 0; i < job->n_results; i++) {
        const struct result *r = &job->results[i];
        if (r->status != RS_PENDING) continue;
        struct task *t = task_new(e, job, r);
        if (!t) return -1;
        if (run) {
            pthread_mutex_lock(&run->lock);
            run->refs++;
            run->remaining++;
            pthread_mutex_unlock(&run->lock);
            t->run = run;
        }
        if (!t->model || !t->ops) {
            if (work_queue_post(e->workers, work_finish_error, t) != 0) return -1;
        } else if (work_queue_post(e->workers, work_claim, t) != 0) {
            return -1;
        }
    }
    return 0;
}

int engine_submit(struct engine *e, const struct job *job)
{
    return submit(e, job, NULL);
}

void engine_cancel(struct engine *e, const char *job_id)
{
    post_command(e, CMD_CANCEL, NULL, job_id);
}

int engine_run_job(struct engine *e, const struct job *job, int64_t deadline_wall_ms)
{
    struct job_run *run = calloc(1, sizeof *run);
    if (!run) return -1;
    pthread_mutex_init(&run->lock, NULL);
    pthread_cond_init(&run->cond, NULL);
    run->refs = 1;
    int rc = submit(e, job, run);
    struct timespec until = {(time_t)(deadline_wall_ms / 1000),
                             (long)(deadline_wall_ms % 1000) * 1000000L};
    pthread_mutex_lock(&run->lock);
    while (rc == 0 && run->remaining > 0)
        if (pthread_cond_timedwait(&run->cond, &run->lock, &until) != 0) break;
    bool timed_out = run->remaining > 0;
    pthread_mutex_unlock(&run->lock);
    if (timed_out || rc != 0) {
        engine_cancel(e, job->id);
        /* What did not finish in time ends as an error, so the job is terminal. */
        int64_t now = clock_wall_ms();
        for (int i = 0; i < job->n_results; i++) {
            struct result r = job->results[i];
            r.status = RS_ERROR;
            r.completed_ms = now;
            snprintf(r.error, sizeof r.error, "timed out: the worker ran out of time");
            store_update_result(e->store, job->id, &r, RS_UNFINISHED);
        }
    }
    run_release(run);
    return timed_out || rc != 0 ? -1 : 0;
}

int engine_http(struct engine *e, struct http_request *req, int64_t deadline_mono_ms,
                engine_http_done cb, void *ctx)
{
    struct task *t = calloc(1, sizeof *t);
    if (!t) {
        http_request_clear(req);
        return -1;
    }
    t->e = e;
    t->req = *req;
    memset(req, 0, sizeof *req);
    t->http_cb = cb;
    t->http_ctx = ctx;
    t->deadline_mono = deadline_mono_ms;
    if (post_command(e, CMD_START, t, NULL) != 0) {
        http_request_clear(&t->req);
        free(t);
        return -1;
    }
    return 0;
}
