/* The route table (DESIGN §4) and the dispatch: stage prefixes, OPTIONS, CORS, correlation ids. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "app/config.h"
#include "app/errors.h"
#include "app/metrics.h"
#include "app/routes.h"

struct route {
    const char *method;
    const char *pattern;
    route_handler handler;
};

#define ROUTE(method, pattern, handler)                                                            \
    {                                                                                              \
#method, pattern, handler                                                                  \
    }

static const struct route routes[] = {
    ROUTE(POST, "/generate", handle_generate),
    ROUTE(GET, "/status/{jobId}", handle_status),
    ROUTE(GET, "/status/{jobId}/events", handle_status_events),
    ROUTE(POST, "/cancel/{jobId}", handle_cancel),
    ROUTE(POST, "/enhance", handle_enhance),
    ROUTE(GET, "/gallery/list", handle_gallery_list),
    ROUTE(GET, "/gallery/{galleryId}", handle_gallery_detail),
    ROUTE(GET, "/gallery/{galleryId}/zip", handle_gallery_zip),
    ROUTE(POST, "/log", handle_log),
    ROUTE(GET, "/models", handle_models),
    ROUTE(GET, "/healthz", handle_healthz),
    ROUTE(GET, "/metrics", handle_metrics),
    ROUTE(GET, "/images/{key+}", handle_image_file),
    ROUTE(GET, "/thumbs/{key+}", handle_thumb_file),
};

#define ALLOWED_HEADERS                                                                            \
    "Content-Type, Authorization, X-Requested-With, X-Correlation-ID, Idempotency-Key"

/* Matches one pattern against a path; captures parameters. Segments are compared exactly. */
static bool match(const char *pattern, const char *path, struct route_params *params)
{
    params->n = 0;
    const char *p = pattern, *s = path;
    while (*p && *s) {
        if (*p != '/' || *s != '/') return false;
        p++, s++;
        const char *pend = strchr(p, '/');
        size_t plen = pend ? (size_t)(pend - p) : strlen(p);
        const char *send = strchr(s, '/');
        size_t slen = send ? (size_t)(send - s) : strlen(s);
        if (plen >= 2 && p[0] == '{') {
            bool rest = p[plen - 2] == '+';
            size_t take = rest ? strlen(s) : slen;
            if (take == 0 || take >= sizeof params->value[0] || params->n >= 2) return false;
            memcpy(params->value[params->n], s, take);
            params->value[params->n][take] = '\0';
            params->n++;
            s += take;
            p += plen;
            if (rest) return *p == '\0';
        } else {
            if (plen != slen || strncmp(p, s, plen) != 0) return false;
            p += plen;
            s += slen;
        }
    }
    return *p == '\0' && *s == '\0';
}

static const struct route *find_route(const char *method, const char *path,
                                      struct route_params *params)
{
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (strcmp(routes[i].method, method) == 0 && match(routes[i].pattern, path, params))
            return &routes[i];
    return NULL;
}

void router_common_headers(const struct app *app, const struct request *req, struct response *resp)
{
    const char *origins = app->cfg->cors_origins;
    if (strcmp(origins, "*") == 0) {
        response_set_header(resp, "Access-Control-Allow-Origin", "*");
    } else {
        /* Echo the request's Origin only when it is on the list. */
        const char *origin = req->header ? req->header(req, "Origin") : NULL;
        size_t olen = origin ? strlen(origin) : 0;
        for (const char *p = origins; origin && *p;) {
            while (*p == ' ' || *p == ',')
                p++;
            size_t n = strcspn(p, ", ");
            if (n == olen && n > 0 && strncmp(p, origin, n) == 0) {
                response_set_header(resp, "Access-Control-Allow-Origin", origin);
                break;
            }
            p += n;
        }
        response_set_header(resp, "Vary", "Origin");
    }
    response_set_header(resp, "Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS");
    response_set_header(resp, "Access-Control-Allow-Headers", ALLOWED_HEADERS);
    response_set_header(resp, "Access-Control-Expose-Headers", "X-Correlation-ID, Retry-After");
    response_set_header(resp, "X-Correlation-ID", req->correlation_id);
    response_set_header(resp, "X-Content-Type-Options", "nosniff");
}

/* API Gateway stages put their name first ("/Prod/generate"); strip one leading segment when the
 * path as given matches nothing. */
static const char *strip_stage(const char *path)
{
    if (path[0] != '/') return NULL;
    const char *next = strchr(path + 1, '/');
    return next && next[1] ? next : NULL;
}

static void dispatch(struct app *app, const struct request *req, struct response *resp)
{
    struct route_params params;
    const char *path = req->path;
    if (strcasecmp(req->method, "OPTIONS") == 0) {
        resp->status = 204;
        response_set_header(resp, "Access-Control-Max-Age", "86400");
        return;
    }
    const struct route *r = find_route(req->method, path, &params);
    if (!r) {
        const char *stripped = strip_stage(path);
        if (stripped && (r = find_route(req->method, stripped, &params)) != NULL) path = stripped;
    }
    if (r) {
        metrics_route_hit(r->pattern);
        r->handler(app, req, &params, resp);
        return;
    }
    if (strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0) {
        if (serve_web_asset(req, path, resp) == 0) return;
        const char *stripped = strip_stage(path);
        if (stripped && serve_web_asset(req, stripped, resp) == 0) return;
    }
    error_not_found_route(resp, req->path, req->method);
}

void router_handle(struct app *app, const struct request *req, struct response *resp)
{
    if (req->body_too_large) {
        error_payload_too_large(resp, app->cfg->max_body_bytes);
    } else {
        dispatch(app, req, resp);
    }
    router_common_headers(app, req, resp);
}
