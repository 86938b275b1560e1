/* The Lambda front door: `pixelprompt lambda` is the bootstrap of a provided.al2023 function.
 *
 * It runs the Lambda Runtime API loop (GET .../invocation/next, POST .../{id}/response or
 * .../{id}/error) and answers three kinds of events:
 *  - API Gateway HTTP API payload v2.0: mapped to a struct request for router_handle, and the
 *    response back to {statusCode, headers, cookies, body, isBase64Encoded};
 *  - {"pixelprompt":"run-job","jobId":...}: the asynchronous worker invocation that POST /generate
 *    hands a job to (app->start_job is replaced by a Lambda Invoke with
 *    X-Amz-Invocation-Type: Event); it runs the job with engine_run_job until the invocation's
 *    deadline minus a safety margin, so unfinished models are marked error in time;
 *  - anything else: reported through .../{id}/error (errorType UnsupportedEvent); the loop goes on.
 *
 * API Gateway cannot stream: GET /status/{id}/events answers one event (the current job document)
 * with "retry: 2000" and closes; EventSource reconnects by itself, which makes it a 2 s poll.
 * Logs are JSON lines on stderr; metrics are CloudWatch EMF lines on stdout (util/emf.h). */
#ifndef PP_FRONT_LAMBDA_H
#define PP_FRONT_LAMBDA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "app/app.h"
#include "util/buf.h"

/* Seconds of an invocation kept back so the worker marks unfinished models before Lambda stops
 * it. */
#define LAMBDA_SAFETY_MARGIN_MS 3000

/* Runs the loop against runtime_api ("host:port", the value of AWS_LAMBDA_RUNTIME_API). app is
 * opened with its engine (runtime_open(..., 1, ...)); lambda_main replaces app->start_job for its
 * own lifetime. Returns only when the Runtime API is gone for good: the exit status (1). */
int lambda_main(struct app *app, const char *runtime_api);

/* Reports a failed start (bad configuration, store unreachable) through .../init/error, so the
 * invocation fails with that message instead of a timeout. Returns 0 when it was delivered. */
int lambda_report_init_error(const char *runtime_api, const char *error_type, const char *message);

/* ---- the API Gateway v2 mapping, exposed for tests and fuzzing ---------------------------- */

/* A decoded API Gateway v2 event. Owns everything; req points into it. */
struct lambda_http_event {
    struct request req;
    char method[16];
    char *path;      /* rawPath */
    json_t *headers; /* lowercase name -> value (cookies joined into "cookie") */
    json_t *query;   /* decoded name -> first value */
    struct buf body; /* decoded (base64 undone) */
};

/* True for an API Gateway HTTP API v2.0 event. */
bool lambda_is_http_event(const json_t *event);
/* Fills ev from event. max_body is MAX_BODY_BYTES (a larger body sets req.body_too_large).
 * Returns 0, or -1 when the event is not usable (ev is then cleared). */
int lambda_http_decode(const json_t *event, size_t max_body, struct lambda_http_event *ev);
void lambda_http_event_clear(struct lambda_http_event *ev);
/* The v2 response document for a finished response (no stream, no deferred): a new reference,
 * NULL on out of memory. */
json_t *lambda_http_encode(const struct response *resp);

#endif
