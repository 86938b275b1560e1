/* Private to src/engine/: one model of one job (or one bare HTTP call) as the engine runs it.
 * Tasks are owned by the engine; the I/O thread frees a task once it is released by whoever
 * finished it and no timer still points at it. */
#ifndef PP_ENGINE_TASK_H
#define PP_ENGINE_TASK_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/engine.h"
#include "engine/transfer.h"
#include "store/job.h"

struct job_run; /* a blocking engine_run_job waiting for its tasks */

struct task {
    struct engine *e;
    struct task *prev, *next; /* the engine's list of every task not yet freed */
    char job_id[ID_LEN + 1];
    char *prompt;                     /* owned */
    struct result result;             /* this model's row, as last written */
    const struct model_config *model; /* borrowed from the config */
    const struct provider_ops *ops;
    struct job_run *run; /* holds a reference when set */
    int64_t deadline_mono;
    char *state; /* provider-private, owned */
    int poll_count;
    struct http_request req; /* the request being sent (owned) */
    int attempt;
    struct transfer xfer;
    bool in_flight;
    bool done;        /* no more I/O: finished, cancelled or handed to a worker */
    bool released;    /* the finisher is through with it */
    bool linked;      /* on the engine's list (the I/O thread links it) */
    int timer_refs;   /* heap entries still pointing here */
    uint32_t gen;     /* bumped to invalidate pending timers */
    bool parsing;                   /* a worker is reading the last answer (on_response) */
    bool cancel_requested;          /* cancelled while parsing: dropped when the worker is done */
    struct http_response answer;    /* what the parsing worker reads (borrows xfer) */
    struct provider_step next_step; /* what it found, applied back on the I/O thread */
    struct buf image;               /* handed to the worker */
    char error[300];
    engine_http_done http_cb; /* bare HTTP calls (enhancement) */
    void *http_ctx;
};

#endif
