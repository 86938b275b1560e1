/* Provider adapters are pure: they build HTTP requests and read HTTP responses; the engine owns
 * all I/O, retries, timers and deadlines (DESIGN §6-7). One file per provider fills a
 * struct provider_ops; providers.c lists them by name. Nothing here blocks or touches a socket.
 *
 * Flow for one model:  start() -> step;  while step is REQUEST: engine sends it (after delay_ms,
 * retrying connection errors, 429 and 5xx itself), then on_response(final response) -> next step.
 * A step ends as IMAGE (bytes to validate and store), ERROR (short text safe for clients) or
 * RENDER (a local provider draws the image on a worker thread, after delay_ms). */
#ifndef PP_PROVIDERS_PROVIDER_H
#define PP_PROVIDERS_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/config.h"
#include "util/buf.h"

#define HTTP_MAX_HEADERS 12

/* An outbound request. Owns url, headers and body (http_request_clear). */
struct http_request {
    char method[8]; /* "GET" | "POST" */
    char *url;
    char *headers[HTTP_MAX_HEADERS]; /* "Name: value" lines */
    int n_headers;
    char *body;
    size_t body_len;
    char sigv4_service[32]; /* "bedrock" etc. when AWS SigV4 signing is needed, else "" */
    bool body_is_image;     /* a download: a 2xx body goes straight to validation */
    int64_t timeout_ms;     /* 0 = up to the model's deadline */
};

/* The final response the engine hands back (borrowed: valid during on_response only). */
struct http_response {
    long status; /* HTTP status; 0 = no response (connection error, timeout) */
    const char *content_type;
    const char *body;
    size_t body_len;
    long retry_after_s;          /* parsed Retry-After, -1 when absent */
    const char *transport_error; /* curl's text when status == 0 */
};

enum step_kind { STEP_REQUEST, STEP_IMAGE, STEP_ERROR, STEP_RENDER };

struct provider_step {
    enum step_kind kind;
    int64_t delay_ms;        /* REQUEST/RENDER: wait this long first (polling, demo latency) */
    struct http_request req; /* REQUEST */
    struct buf image;        /* IMAGE: encoded bytes (owned) */
    char error[300];         /* ERROR: short and sanitised; no keys, no raw bodies */
    char *state;             /* provider-private text carried to the next call (owned), e.g.
                                BFL's polling URL */
};

/* What an adapter may read. All borrowed. */
struct provider_call {
    const struct config *cfg;
    const struct model_config *model;
    const char *prompt;
    const char *state; /* from the previous step, NULL on start */
    int poll_count;    /* how many REQUEST steps this model has made so far */
};

struct provider_ops {
    const char *name;         /* the MODEL_N_PROVIDER value */
    const char *default_root; /* API root when MODEL_N_BASE_URL is empty; NULL = required */
    bool is_demo;
    int (*start)(const struct provider_call *c, struct provider_step *out);
    int (*on_response)(const struct provider_call *c, const struct http_response *r,
                       struct provider_step *out);
    /* RENDER steps only; runs on a worker thread. Returns 0 or -1 with err filled. */
    int (*render)(const struct provider_call *c, struct buf *image, char *err, size_t errlen);
};

const struct provider_ops *provider_find(const char *name);
/* The i-th provider of the table, NULL past the end (for config validation and docs). */
const struct provider_ops *provider_at(size_t i);
/* The API root for a model: its base URL, else the provider default (Bedrock: by region).
 * Writes into out; returns -1 when the provider needs a base URL and none is set. */
int provider_root(const struct provider_ops *ops, const struct config *cfg,
                  const struct model_config *m, char *out, size_t outlen);

/* Step helpers (owners: the step) */
void provider_step_init(struct provider_step *s);
void provider_step_clear(struct provider_step *s);
void provider_step_error(struct provider_step *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int http_request_set(struct http_request *r, const char *method, const char *url);
int http_request_add_header(struct http_request *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Takes ownership of body (malloc'd). */
void http_request_take_body(struct http_request *r, char *body, size_t len);
void http_request_clear(struct http_request *r);

#endif
