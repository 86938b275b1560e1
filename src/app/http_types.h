/* The request and response every front door (front/http.c for libmicrohttpd, front/lambda.c for
 * API Gateway v2 events) fills in and hands to the same router. */
#ifndef PP_APP_HTTP_TYPES_H
#define PP_APP_HTTP_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

struct request {
    const char *method; /* "GET", "POST", ... */
    const char *path;   /* the path as received (the router strips a stage prefix) */
    const char *body;   /* may be NULL when empty; not NUL-terminated necessarily */
    size_t body_len;
    bool body_too_large;  /* the front door stopped reading at MAX_BODY_BYTES */
    char client_addr[64]; /* resolved client address (DESIGN §6) */
    char correlation_id[80];
    int64_t received_mono_ms;
    /* Header and query lookups (case-insensitive names); NULL when absent. */
    const char *(*header)(const struct request *req, const char *name);
    const char *(*query)(const struct request *req, const char *name);
    void *front; /* the front door's own state, for the lookups */
};

#define RESPONSE_MAX_HEADERS 12

/* A streamed body (Server-Sent Events). The front door calls next() when it can send; next()
 * appends bytes to out and returns STREAM_MORE, STREAM_WAIT (nothing now: call again after
 * wait_ms or when woken) or STREAM_END. free() releases the stream (owner: the response, then
 * the front door). */
enum stream_status { STREAM_MORE, STREAM_WAIT, STREAM_END };
struct stream {
    enum stream_status (*next)(struct stream *s, struct buf *out, int *wait_ms);
    void (*free)(struct stream *s);
    char topic[40]; /* what it follows (a job id): a change there wakes it before wait_ms */
};

/* A response completed later by another thread (e.g. /enhance waiting on a provider). The handler
 * returns it in response.deferred; the front door parks the request without holding a thread and
 * calls deferred_wait_ready() hooks. See app/deferred.h. */
struct deferred;

struct response {
    int status;
    char content_type[96];
    struct buf body;                  /* owned */
    const unsigned char *static_body; /* borrowed (embedded assets), used when non-NULL */
    size_t static_len;
    struct {
        char name[48];
        char value[400];
    } headers[RESPONSE_MAX_HEADERS];
    int n_headers;
    struct stream *stream;     /* owned; when set, the body is streamed */
    struct deferred *deferred; /* owned; when set, status/body arrive later */
};

void response_init(struct response *r);
void response_clear(struct response *r);
void response_set_header(struct response *r, const char *name, const char *value);
const char *response_header(const struct response *r, const char *name);
/* Takes a jansson value (stolen reference) as the JSON body. Returns 0 or -1 (then 500). */
struct json_t;
int response_json(struct response *r, int status, struct json_t *body);

#endif
