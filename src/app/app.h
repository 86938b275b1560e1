/* Everything a handler needs, built once at start by main.c and shared read-only by threads.
 * The struct does not own its members; main.c (or the test) opens and closes them. */
#ifndef PP_APP_APP_H
#define PP_APP_APP_H

#include "app/http_types.h"

struct config;
struct store;
struct blob;
struct engine;
struct content_filter;
struct addr_list;
struct job;

struct app {
    const struct config *cfg;
    struct store *store;
    struct blob *blob;
    struct engine *engine;
    const struct content_filter *filter;
    const struct addr_list *ip_include;
    const struct addr_list *trusted_proxies;
    unsigned char quota_key[32]; /* HMAC key for hashing client addresses */
    /* Hands a job created in the store to whatever runs it: the local engine by default; on
     * Lambda, an asynchronous invocation of the same function. Returns 0 on success. */
    int (*start_job)(void *ctx, const struct job *job);
    void *start_job_ctx;
};

/* Routes one request (DESIGN §4). Always fills resp (errors included); never fails. */
void router_handle(struct app *app, const struct request *req, struct response *resp);

/* Adds CORS, correlation id and the like to any response (router_handle does it already; the
 * front doors call it for responses they build themselves). */
void router_common_headers(const struct app *app, const struct request *req, struct response *resp);

#endif
