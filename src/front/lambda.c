/* The Lambda front door: Runtime API loop, API Gateway v2 mapping, asynchronous job hand-off.
 * See lambda.h. Protocol references: AWS Lambda "Using the Lambda runtime API for custom
 * runtimes" and API Gateway "Working with AWS Lambda proxy integrations for HTTP APIs" (v2.0). */
#include "front/lambda.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "app/config.h"
#include "app/deferred.h"
#include "engine/engine.h"
#include "store/store.h"
#include "util/aws.h"
#include "util/clock.h"
#include "util/emf.h"
#include "util/ids.h"
#include "util/log.h"
#include "util/utf8.h"

#define RUNTIME_VERSION "2018-06-01"
#define MAX_RESPONSE_BYTES (6u * 1000u * 1000u) /* Lambda's synchronous payload limit */
#define SSE_MAX_WAIT_MS 10000 /* a stream with nothing new answers before API Gateway's 30 s */
#define NEXT_RETRIES 20
#define INVOKE_TIMEOUT_MS 5000L

/* ---- API Gateway v2 in ------------------------------------------------------------------- */

bool lambda_is_http_event(const json_t *event)
{
    const char *v = json_string_value(json_object_get(event, "version"));
    const json_t *http = json_object_get(json_object_get(event, "requestContext"), "http");
    return v && strcmp(v, "2.0") == 0 && json_is_object(http) &&
           json_is_string(json_object_get(http, "method"));
}

static const char *lookup_ci(const json_t *obj, const char *name)
{
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        if (strcasecmp(key, name) == 0) return json_string_value(v);
    }
    return NULL;
}

static const char *ev_header(const struct request *req, const char *name)
{
    const struct lambda_http_event *ev = req->front;
    return lookup_ci(ev->headers, name);
}

static const char *ev_query(const struct request *req, const char *name)
{
    const struct lambda_http_event *ev = req->front;
    return lookup_ci(ev->query, name);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Form decoding ('+' is a space); a broken %-escape stays as written. */
static char *url_decode(const char *s, size_t len)
{
    char *out = malloc(len + 1);
    if (!out) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '+') {
            out[o++] = ' ';
        } else if (s[i] == '%' && i + 2 < len && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            out[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return out;
}

/* rawQueryString -> {name: first value}; names and values that are not UTF-8 are dropped. */
static int parse_query(const char *raw, json_t *into)
{
    while (raw && *raw) {
        size_t n = strcspn(raw, "&");
        const char *eq = memchr(raw, '=', n);
        size_t klen = eq ? (size_t)(eq - raw) : n;
        char *k = url_decode(raw, klen);
        char *v = eq ? url_decode(eq + 1, n - klen - 1) : strdup("");
        if (!k || !v) {
            free(k);
            free(v);
            return -1;
        }
        if (k[0] && !json_object_get(into, k) && utf8_is_valid(k, strlen(k)) &&
            utf8_is_valid(v, strlen(v)))
            json_object_set_new(into, k, json_string(v));
        free(k);
        free(v);
        raw += n;
        if (*raw == '&') raw++;
    }
    return 0;
}

/* A client's correlation id is echoed only when it is short and plain (as front/http.c does). */
static void correlation_id(const char *given, char *out, size_t outlen)
{
    bool ok = given && *given && strlen(given) <= 64;
    for (const char *p = given; ok && *p; p++)
        ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
             *p == '-' || *p == '_' || *p == '.' || *p == ':';
    if (ok) {
        snprintf(out, outlen, "%s", given);
    } else {
        char id[ID_LEN + 1];
        if (id_new_uuid7(clock_wall_ms(), id) != 0) snprintf(id, sizeof id, "none");
        snprintf(out, outlen, "%s", id);
    }
}

void lambda_http_event_clear(struct lambda_http_event *ev)
{
    free(ev->path);
    json_decref(ev->headers);
    json_decref(ev->query);
    buf_free(&ev->body);
    memset(ev, 0, sizeof *ev);
}

int lambda_http_decode(const json_t *event, size_t max_body, struct lambda_http_event *ev)
{
    memset(ev, 0, sizeof *ev);
    if (!lambda_is_http_event(event)) return -1;
    const json_t *http = json_object_get(json_object_get(event, "requestContext"), "http");
    snprintf(ev->method, sizeof ev->method, "%s",
             json_string_value(json_object_get(http, "method")));
    for (char *p = ev->method; *p; p++)
        if (*p >= 'a' && *p <= 'z') *p = (char)(*p - 'a' + 'A');
    const char *path = json_string_value(json_object_get(event, "rawPath"));
    ev->path = strdup(path && path[0] == '/' ? path : "/");
    ev->headers = json_object();
    ev->query = json_object();
    if (!ev->path || !ev->headers || !ev->query) goto fail;

    const char *key;
    const json_t *v;
    json_object_foreach(json_object_get(event, "headers"), key, v)
    {
        if (!json_is_string(v)) continue;
        char lower[128];
        size_t n = strlen(key);
        if (n == 0 || n >= sizeof lower) continue;
        for (size_t i = 0; i <= n; i++)
            lower[i] = (key[i] >= 'A' && key[i] <= 'Z') ? (char)(key[i] - 'A' + 'a') : key[i];
        json_object_set(ev->headers, lower, (json_t *)v);
    }
    /* v2 moves Cookie headers into "cookies"; the app reads them as one header. */
    const json_t *cookies = json_object_get(event, "cookies");
    if (json_array_size(cookies) > 0) {
        struct buf c = BUF_INIT;
        size_t i;
        json_array_foreach(cookies, i, v)
        {
            if (!json_is_string(v)) continue;
            if ((c.len && buf_append_str(&c, "; ")) || buf_append_str(&c, json_string_value(v))) {
                buf_free(&c);
                goto fail;
            }
        }
        if (c.data) json_object_set_new(ev->headers, "cookie", json_string(c.data));
        buf_free(&c);
    }
    const char *raw_query = json_string_value(json_object_get(event, "rawQueryString"));
    if (raw_query) {
        if (parse_query(raw_query, ev->query)) goto fail;
    } else {
        json_object_foreach(json_object_get(event, "queryStringParameters"), key, v)
        {
            if (json_is_string(v)) json_object_set(ev->query, key, (json_t *)v);
        }
    }

    const json_t *body = json_object_get(event, "body");
    if (json_is_string(body)) {
        const char *b = json_string_value(body);
        size_t blen = json_string_length(body);
        bool b64 = json_is_true(json_object_get(event, "isBase64Encoded"));
        if ((b64 ? blen / 4 * 3 : blen) > max_body + 3) {
            ev->req.body_too_large = true;
        } else if (!b64 || aws_base64_decode(&ev->body, b, blen) != 0) {
            /* Not base64 after all: the router answers what the raw text deserves. */
            buf_reset(&ev->body);
            if (buf_append(&ev->body, b, blen) != 0) goto fail;
        }
        if (ev->body.len > max_body) {
            ev->req.body_too_large = true;
            buf_reset(&ev->body);
        }
    }

    struct request *req = &ev->req;
    req->method = ev->method;
    req->path = ev->path;
    req->body = ev->body.len ? ev->body.data : NULL;
    req->body_len = ev->body.len;
    const char *ip = json_string_value(json_object_get(http, "sourceIp"));
    snprintf(req->client_addr, sizeof req->client_addr, "%s", ip && ip[0] ? ip : "unknown");
    correlation_id(lookup_ci(ev->headers, "x-correlation-id"), req->correlation_id,
                   sizeof req->correlation_id);
    req->received_mono_ms = clock_mono_ms();
    req->header = ev_header;
    req->query = ev_query;
    req->front = ev;
    return 0;
fail:
    lambda_http_event_clear(ev);
    return -1;
}

/* ---- API Gateway v2 out ------------------------------------------------------------------ */

/* Text goes as is; anything else (images, zip) base64 with isBase64Encoded. */
static bool is_text_type(const char *ct)
{
    static const char *const text[] = {
        "text/",         "application/json",          "application/javascript",  "application/xml",
        "image/svg+xml", "application/manifest+json", "application/problem+json"};
    for (size_t i = 0; i < sizeof text / sizeof text[0]; i++)
        if (strncasecmp(ct, text[i], strlen(text[i])) == 0) return true;
    return false;
}

json_t *lambda_http_encode(const struct response *resp)
{
    json_t *headers = json_object();
    json_t *cookies = json_array();
    json_t *out = json_object();
    if (!headers || !cookies || !out) goto fail;
    if (resp->content_type[0])
        json_object_set_new(headers, "content-type", json_string(resp->content_type));
    for (int i = 0; i < resp->n_headers; i++) {
        if (strcasecmp(resp->headers[i].name, "Set-Cookie") == 0)
            json_array_append_new(cookies, json_string(resp->headers[i].value));
        else
            json_object_set_new(headers, resp->headers[i].name,
                                json_string(resp->headers[i].value));
    }
    const char *body = resp->static_body ? (const char *)resp->static_body : resp->body.data;
    size_t len = resp->static_body ? resp->static_len : resp->body.len;
    bool text = len == 0 || (is_text_type(resp->content_type) && utf8_is_valid(body, len));
    json_t *jbody;
    if (text) {
        jbody = json_stringn(body ? body : "", len);
    } else {
        struct buf b64 = BUF_INIT;
        jbody = aws_base64_encode(&b64, body, len, false) == 0 ? json_string(b64.data) : NULL;
        buf_free(&b64);
    }
    if (!jbody) goto fail;
    json_object_set_new(out, "statusCode", json_integer(resp->status));
    json_object_set_new(out, "headers", headers);
    if (json_array_size(cookies))
        json_object_set_new(out, "cookies", cookies);
    else
        json_decref(cookies);
    json_object_set_new(out, "body", jbody);
    json_object_set_new(out, "isBase64Encoded", json_boolean(!text));
    return out;
fail:
    json_decref(headers);
    json_decref(cookies);
    json_decref(out);
    return NULL;
}

/* ---- the Runtime API client -------------------------------------------------------------- */

struct invocation {
    char request_id[128];
    char trace_id[512];
    char function_arn[256];
    int64_t deadline_ms;
};

struct lambda {
    struct app *app;
    char base[320];            /* http://<api>/2018-06-01/runtime */
    CURL *rt;                  /* owned: every Runtime API call, one at a time */
    struct aws_client *invoke; /* owned: the async self-invocation */
    char invoke_url[800];
};

static size_t collect(char *p, size_t size, size_t n, void *ud)
{
    return buf_append(ud, p, size * n) == 0 ? size * n : 0;
}

static bool header_is(const char *line, size_t len, const char *name, char *out, size_t outlen)
{
    size_t nl = strlen(name);
    if (len <= nl || line[nl] != ':' || strncasecmp(line, name, nl) != 0) return false;
    const char *v = line + nl + 1, *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    snprintf(out, outlen, "%.*s", (int)(end - v), v);
    return true;
}

static size_t on_next_header(char *p, size_t size, size_t n, void *ud)
{
    struct invocation *inv = ud;
    size_t len = size * n;
    char deadline[32];
    header_is(p, len, "Lambda-Runtime-Aws-Request-Id", inv->request_id, sizeof inv->request_id);
    header_is(p, len, "Lambda-Runtime-Trace-Id", inv->trace_id, sizeof inv->trace_id);
    header_is(p, len, "Lambda-Runtime-Invoked-Function-Arn", inv->function_arn,
              sizeof inv->function_arn);
    if (header_is(p, len, "Lambda-Runtime-Deadline-Ms", deadline, sizeof deadline))
        inv->deadline_ms = strtoll(deadline, NULL, 10);
    return len;
}

/* GET .../invocation/next: blocks until Lambda has an event (no timeout: the sandbox is frozen
 * in between). Returns 0, or -1 when the Runtime API did not answer. */
static int rt_next(struct lambda *L, struct invocation *inv, struct buf *event)
{
    char url[400];
    snprintf(url, sizeof url, "%s/invocation/next", L->base);
    memset(inv, 0, sizeof *inv);
    buf_reset(event);
    curl_easy_reset(L->rt);
    curl_easy_setopt(L->rt, CURLOPT_URL, url);
    curl_easy_setopt(L->rt, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(L->rt, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(L->rt, CURLOPT_WRITEDATA, event);
    curl_easy_setopt(L->rt, CURLOPT_HEADERFUNCTION, on_next_header);
    curl_easy_setopt(L->rt, CURLOPT_HEADERDATA, inv);
    CURLcode rc = curl_easy_perform(L->rt);
    long status = 0;
    curl_easy_getinfo(L->rt, CURLINFO_RESPONSE_CODE, &status);
    if (rc != CURLE_OK || status != 200 || !inv->request_id[0]) return -1;
    return 0;
}

/* POSTs a document to the Runtime API. Returns the HTTP status (0 when none). */
static long rt_post(CURL *h, const char *url, const char *body, size_t len, const char *error_type)
{
    struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    char line[160];
    if (error_type) {
        snprintf(line, sizeof line, "Lambda-Runtime-Function-Error-Type: %s", error_type);
        struct curl_slist *n = curl_slist_append(hdrs, line);
        if (n) hdrs = n;
    }
    struct buf ignored = BUF_INIT;
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &ignored);
    long status = 0;
    if (curl_easy_perform(h) == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(hdrs);
    buf_free(&ignored);
    return status;
}

static char *error_doc(const char *type, const char *message, size_t *len)
{
    json_t *o = json_pack("{s:s,s:s,s:[]}", "errorType", type, "errorMessage",
                          message ? message : "", "stackTrace");
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    *len = text ? strlen(text) : 0;
    return text;
}

static void post_error(struct lambda *L, const char *request_id, const char *type,
                       const char *message)
{
    char url[600];
    size_t len;
    snprintf(url, sizeof url, "%s/invocation/%s/error", L->base, request_id);
    char *doc = error_doc(type, message, &len);
    if (doc) rt_post(L->rt, url, doc, len, type);
    free(doc);
}

int lambda_report_init_error(const char *runtime_api, const char *error_type, const char *message)
{
    if (!runtime_api || !runtime_api[0]) return -1;
    CURL *h = curl_easy_init();
    if (!h) return -1;
    char url[400];
    size_t len;
    snprintf(url, sizeof url, "http://%s/" RUNTIME_VERSION "/runtime/init/error", runtime_api);
    char *doc = error_doc(error_type, message, &len);
    long status = doc ? rt_post(h, url, doc, len, error_type) : 0;
    free(doc);
    curl_easy_cleanup(h);
    return status == 202 ? 0 : -1;
}

/* ---- the asynchronous hand-off ----------------------------------------------------------- */

/* app->start_job on Lambda: an Event invocation of this same function with the job id. A frozen
 * sandbox runs no background threads, so the job must run in an invocation of its own. */
static int start_by_invoke(void *ctx, const struct job *job)
{
    struct lambda *L = ctx;
    if (!L->invoke || !L->invoke_url[0]) return -1;
    char body[128];
    snprintf(body, sizeof body, "{\"pixelprompt\":\"run-job\",\"jobId\":\"%s\"}", job->id);
    const char *const hdrs[] = {"Content-Type: application/json", "X-Amz-Invocation-Type: Event",
                                NULL};
    struct aws_request req = {.method = "POST",
                              .url = L->invoke_url,
                              .headers = hdrs,
                              .body = body,
                              .body_len = strlen(body),
                              .timeout_ms = INVOKE_TIMEOUT_MS,
                              .idempotent = false}; /* a duplicate would run the job twice */
    struct aws_response resp;
    int rc = aws_perform(L->invoke, &req, &resp);
    bool ok = rc == 0 && resp.status == 202;
    if (!ok) {
        json_t *f =
            json_pack("{s:s,s:I,s:s,s:s}", "jobId", job->id, "status", (json_int_t)resp.status,
                      "errorCode", resp.error_code, "transport", resp.transport_error);
        log_emit(LOG_ERROR, NULL, "async invoke failed", f);
        json_decref(f);
    }
    aws_response_clear(&resp);
    return ok ? 0 : -1;
}

static bool function_name_ok(const char *s)
{
    if (!s[0] || strlen(s) > 140) return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_'))
            return false;
    return true;
}

/* ---- invocations ------------------------------------------------------------------------- */

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* API Gateway cannot stream: the first event (the current document) and a retry hint. */
static void drain_stream(struct response *resp)
{
    struct stream *s = resp->stream;
    resp->stream = NULL;
    buf_reset(&resp->body);
    buf_append_str(&resp->body, "retry: 2000\n\n");
    size_t start = resp->body.len;
    int waited = 0;
    for (;;) {
        int wait_ms = 250;
        enum stream_status st = s->next(s, &resp->body, &wait_ms);
        if (st == STREAM_END || (st == STREAM_MORE && resp->body.len > start)) break;
        if (st == STREAM_WAIT) {
            if (waited >= SSE_MAX_WAIT_MS) break;
            if (wait_ms < 10) wait_ms = 10;
            sleep_ms(wait_ms);
            waited += wait_ms;
        }
    }
    s->free(s);
}

static void finish_deferred(struct response *resp)
{
    struct deferred *d = resp->deferred;
    resp->deferred = NULL;
    deferred_wait(d);
    struct response final;
    response_init(&final);
    if (deferred_take(d, &final) == 0) {
        response_clear(resp);
        *resp = final;
    }
    deferred_release(d);
}

static void answer_http(struct lambda *L, const struct invocation *inv, const json_t *event,
                        char *url, size_t urllen)
{
    int64_t t0 = clock_mono_ms();
    struct lambda_http_event ev;
    size_t max_body = L->app->cfg->max_body_bytes ? L->app->cfg->max_body_bytes : 1u << 20;
    if (lambda_http_decode(event, max_body, &ev) != 0) {
        post_error(L, inv->request_id, "InvalidEvent", "unreadable API Gateway event");
        return;
    }
    struct response resp;
    response_init(&resp);
    router_handle(L->app, &ev.req, &resp);
    if (resp.deferred) finish_deferred(&resp);
    if (resp.stream) drain_stream(&resp);
    json_t *doc = lambda_http_encode(&resp);
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (text && strlen(text) > MAX_RESPONSE_BYTES) {
        free(text);
        text = strdup("{\"statusCode\":500,\"headers\":{\"content-type\":\"application/json\"},"
                      "\"body\":\"{\\\"error\\\":\\\"INTERNAL_SERVER_ERROR\\\",\\\"message\\\":"
                      "\\\"The response is larger than AWS Lambda allows.\\\"}\","
                      "\"isBase64Encoded\":false}");
    }
    if (text) {
        snprintf(url, urllen, "%s/invocation/%s/response", L->base, inv->request_id);
        rt_post(L->rt, url, text, strlen(text), NULL);
    } else {
        post_error(L, inv->request_id, "OutOfMemory", "could not encode the response");
    }
    free(text);
    json_t *f = json_pack("{s:s,s:s,s:s,s:i,s:I}", "requestId", inv->request_id, "method",
                          ev.method, "path", ev.path, "status", resp.status, "durationMs",
                          (json_int_t)(clock_mono_ms() - t0));
    log_emit(resp.status >= 500 ? LOG_ERROR : LOG_INFO, ev.req.correlation_id, "request", f);
    json_decref(f);
    response_clear(&resp);
    lambda_http_event_clear(&ev);
}

/* The worker: runs the job until the invocation's deadline minus the margin. A job that is gone
 * or already finished is a success (an error would make Lambda retry the event). */
static void answer_run_job(struct lambda *L, const struct invocation *inv, const char *job_id)
{
    char url[600];
    char msg[200];
    struct job job;
    int64_t t0 = clock_mono_ms();
    int rc = store_get_job(L->app->store, job_id, &job);
    if (rc == STORE_UNAVAILABLE || rc == STORE_NOMEM) {
        /* Lambda retries a failed Event invocation: the job gets another chance. */
        snprintf(msg, sizeof msg, "store: %s", store_strerror(rc));
        post_error(L, inv->request_id, "StoreUnavailable", msg);
        return;
    }
    const char *outcome = "not_found";
    if (rc == STORE_OK) {
        outcome = "already_finished";
        if (!job_is_terminal(job_derive_status(&job)) && L->app->engine) {
            int64_t now = clock_wall_ms();
            int64_t left = inv->deadline_ms > now ? inv->deadline_ms - now : 0;
            int64_t deadline = left > 2 * LAMBDA_SAFETY_MARGIN_MS
                                   ? inv->deadline_ms - LAMBDA_SAFETY_MARGIN_MS
                                   : now + left / 2;
            engine_run_job(L->app->engine, &job, deadline);
            outcome = "ran";
        }
        job_clear(&job);
        /* Metrics from what the store holds now (every result is terminal after run_job). */
        if (store_get_job(L->app->store, job_id, &job) == STORE_OK) {
            if (strcmp(outcome, "ran") == 0) emf_emit_job(stdout, &job);
            outcome = job_status_name(job_derive_status(&job));
            job_clear(&job);
        }
    }
    snprintf(url, sizeof url, "%s/invocation/%s/response", L->base, inv->request_id);
    char body[200];
    snprintf(body, sizeof body, "{\"jobId\":\"%s\",\"status\":\"%s\"}", job_id, outcome);
    rt_post(L->rt, url, body, strlen(body), NULL);
    json_t *f = json_pack("{s:s,s:s,s:s,s:I}", "requestId", inv->request_id, "jobId", job_id,
                          "status", outcome, "durationMs", (json_int_t)(clock_mono_ms() - t0));
    log_emit(LOG_INFO, NULL, "job invocation", f);
    json_decref(f);
}

static void handle_invocation(struct lambda *L, const struct invocation *inv,
                              const struct buf *event_text)
{
    char url[600];
    if (inv->trace_id[0])
        setenv("_X_AMZN_TRACE_ID", inv->trace_id, 1); /* the documented contract for tracing */
    else
        unsetenv("_X_AMZN_TRACE_ID");
    json_error_t jerr;
    json_t *event = json_loadb(event_text->data ? event_text->data : "", event_text->len,
                               JSON_REJECT_DUPLICATES, &jerr);
    const char *marker = json_string_value(json_object_get(event, "pixelprompt"));
    const char *job_id = json_string_value(json_object_get(event, "jobId"));
    if (lambda_is_http_event(event)) {
        answer_http(L, inv, event, url, sizeof url);
    } else if (marker && strcmp(marker, "run-job") == 0 && job_id && id_is_valid(job_id)) {
        answer_run_job(L, inv, job_id);
    } else {
        post_error(L, inv->request_id, "UnsupportedEvent",
                   event ? "neither an API Gateway HTTP API v2.0 event nor a run-job event"
                         : "the event is not JSON");
        json_t *f = json_pack("{s:s}", "requestId", inv->request_id);
        log_emit(LOG_WARNING, NULL, "unsupported event", f);
        json_decref(f);
    }
    json_decref(event);
}

int lambda_main(struct app *app, const char *runtime_api)
{
    struct lambda L;
    memset(&L, 0, sizeof L);
    L.app = app;
    char err[256] = "";
    if (!runtime_api || !runtime_api[0] || strlen(runtime_api) > 200) {
        log_msg(LOG_ERROR, "AWS_LAMBDA_RUNTIME_API is not set");
        return 1;
    }
    snprintf(L.base, sizeof L.base, "http://%s/" RUNTIME_VERSION "/runtime", runtime_api);
    L.rt = curl_easy_init();
    if (!L.rt) {
        lambda_report_init_error(runtime_api, "Runtime.InitError", "libcurl failed to start");
        return 1;
    }
    const struct config *cfg = app->cfg;
    char ep[600];
    if (function_name_ok(cfg->lambda_function_name) &&
        aws_endpoint(cfg, AWS_LAMBDA, ep, sizeof ep, NULL) == 0) {
        snprintf(L.invoke_url, sizeof L.invoke_url, "%s/2015-03-31/functions/%s/invocations", ep,
                 cfg->lambda_function_name);
        L.invoke = aws_client_new(cfg, AWS_LAMBDA, err, sizeof err);
    }
    if (!L.invoke) log_msg(LOG_WARNING, "no async hand-off: AWS_LAMBDA_FUNCTION_NAME unusable");
    int (*saved_start)(void *, const struct job *) = app->start_job;
    void *saved_ctx = app->start_job_ctx;
    app->start_job = start_by_invoke;
    /* L outlives every use: the saved hook is restored below before returning. */
    // cppcheck-suppress autoVariables
    app->start_job_ctx = &L;

    struct buf event = BUF_INIT;
    int failures = 0;
    for (;;) {
        struct invocation inv;
        if (rt_next(&L, &inv, &event) != 0) {
            /* The Runtime API is local and always there while the sandbox lives. */
            if (++failures >= NEXT_RETRIES) break;
            sleep_ms(50L * failures);
            continue;
        }
        failures = 0;
        handle_invocation(&L, &inv, &event);
    }
    log_msg(LOG_ERROR, "the Lambda Runtime API stopped answering");
    buf_free(&event);
    app->start_job = saved_start;
    app->start_job_ctx = saved_ctx;
    aws_client_free(L.invoke);
    curl_easy_cleanup(L.rt);
    return 1;
}
