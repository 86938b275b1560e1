/* The engine runs jobs: one I/O thread drives every outbound transfer through libcurl multi and
 * fires timers (polls, demo latency, retries, deadlines); a small worker pool validates images,
 * makes thumbnails and writes to storage. No thread ever blocks on a provider.
 * The engine borrows cfg, store and blob; they must outlive it. */
#ifndef PP_ENGINE_ENGINE_H
#define PP_ENGINE_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "providers/provider.h"
#include "store/job.h"

struct engine;
struct config;
struct store;
struct blob;

/* Called (on an engine thread) whenever a result of job_id changes in the store. It must be quick
 * and must not call into the engine; after engine_set_listener(e, NULL, NULL) returns, it is
 * never called again. */
typedef void (*engine_job_listener)(void *ctx, const char *job_id);

struct engine *engine_start(const struct config *cfg, struct store *store, struct blob *blob,
                            char *err, size_t errlen);
/* Stops taking work, aborts transfers, lets in-flight storage writes finish, marks the results it
 * could not finish as error ("interrupted"), joins its threads and frees. */
void engine_stop(struct engine *e);

void engine_set_listener(struct engine *e, engine_job_listener fn, void *ctx);

/* Starts every pending result of a job already created in the store (the job is copied).
 * Returns 0, or -1 when the engine is stopping. */
int engine_submit(struct engine *e, const struct job *job);

/* Aborts this instance's transfers and timers for the job's unfinished results. The caller marks
 * them cancelled in the store (which is what other instances see). */
void engine_cancel(struct engine *e, const char *job_id);

/* Runs a job and blocks until every result is terminal or deadline_wall_ms passes, then marks what
 * is unfinished as error. For the Lambda worker invocation and the terminal `generate` command. */
int engine_run_job(struct engine *e, const struct job *job, int64_t deadline_wall_ms);

/* One HTTP request on the I/O thread (prompt enhancement). Takes ownership of req. cb runs once,
 * on the I/O thread, with the final response (after retries), or status 0 at the deadline. */
typedef void (*engine_http_done)(void *ctx, const struct http_response *resp);
int engine_http(struct engine *e, struct http_request *req, int64_t deadline_mono_ms,
                engine_http_done cb, void *ctx);

#endif
