/* Unit tests for the router and the handlers behind it (DESIGN §4): router_handle() is driven
 * directly with a struct request filled here, against a real SQLite store and fs blobs in a mkdtemp
 * directory. The store is wrapped in a counting shim (store_impl.h) so a test can prove that a
 * request never reached storage, and can make storage "fail" to see the 503s. The engine is NULL;
 * app.start_job is a fake that records the job. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>

#include "app/app.h"
#include "app/client_addr.h"
#include "app/config.h"
#include "app/filter.h"
#include "blob/blob.h"
#include "store/store.h"
#include "store/store_impl.h"
#include "util/buf.h"
#include "util/ids.h"
#include "util/log.h"

/* ---- fake environment for config_load ---- */

#define MAX_ENV 32
static const char *env_names[MAX_ENV];
static const char *env_values[MAX_ENV];
static int n_env;
static char env_data_dir[256];

static const char *fake_getenv(const char *name)
{
    for (int i = 0; i < n_env; i++)
        if (strcmp(env_names[i], name) == 0) return env_values[i];
    if (strcmp(name, "DATA_DIR") == 0) return env_data_dir;
    return NULL;
}

/* ---- a counting (and optionally failing) shim around the real store ---- */

struct shim_store {
    struct store base;
    struct store *real;
    int calls; /* every backend call */
    int get_job_calls;
    bool down; /* answer STORE_UNAVAILABLE to everything */
};

#define SHIM(s) ((struct shim_store *)(s))

static struct store *shim_open(const struct config *cfg, char *err, size_t errlen)
{
    (void)cfg;
    (void)err;
    (void)errlen;
    return NULL;
}
static void shim_close(struct store *s)
{
    (void)s;
}
static int shim_ping(struct store *s)
{
    SHIM(s)->calls++;
    return SHIM(s)->down ? STORE_UNAVAILABLE : store_ping(SHIM(s)->real);
}
static int shim_create_job(struct store *s, const struct job *job, const char *idem_key,
                           int64_t ttl, char existing[ID_LEN + 1])
{
    SHIM(s)->calls++;
    if (SHIM(s)->down) return STORE_UNAVAILABLE;
    return store_create_job(SHIM(s)->real, job, idem_key, ttl, existing);
}
static int shim_get_job(struct store *s, const char *id, struct job *out)
{
    SHIM(s)->calls++;
    SHIM(s)->get_job_calls++;
    if (SHIM(s)->down) return STORE_UNAVAILABLE;
    return store_get_job(SHIM(s)->real, id, out);
}
static int shim_update_result(struct store *s, const char *id, const struct result *r,
                              unsigned mask)
{
    SHIM(s)->calls++;
    if (SHIM(s)->down) return STORE_UNAVAILABLE;
    return store_update_result(SHIM(s)->real, id, r, mask);
}
static int shim_gallery_list(struct store *s, int limit, const char *cursor,
                             struct gallery_page *out)
{
    SHIM(s)->calls++;
    if (SHIM(s)->down) return STORE_UNAVAILABLE;
    return store_gallery_list(SHIM(s)->real, limit, cursor, out);
}
static int shim_quota_take(struct store *s, const char *key, long limit, int64_t exp, bool *allowed,
                           long *count)
{
    SHIM(s)->calls++;
    if (SHIM(s)->down) return STORE_UNAVAILABLE;
    return store_quota_take(SHIM(s)->real, key, limit, exp, allowed, count);
}
static int shim_quota_release(struct store *s, const char *key)
{
    SHIM(s)->calls++;
    if (SHIM(s)->down) return STORE_UNAVAILABLE;
    return store_quota_release(SHIM(s)->real, key);
}
static int shim_recover(struct store *s, int64_t before, int64_t now, int *n)
{
    SHIM(s)->calls++;
    if (SHIM(s)->down) return STORE_UNAVAILABLE;
    return store_recover_interrupted(SHIM(s)->real, before, now, n);
}

static const struct store_ops shim_ops = {
    "shim",          shim_open,          shim_close,         shim_ping,
    shim_create_job, shim_get_job,       shim_update_result, shim_gallery_list,
    shim_quota_take, shim_quota_release, shim_recover,
};

/* ---- the fixture: config, store, blobs, filter, address lists, app ---- */

struct fixture {
    char dir[256];
    struct config cfg;
    struct shim_store shim;
    struct blob *blob;
    struct content_filter *filter;
    struct addr_list *ip_include, *trusted;
    struct app app;
    int started;
    char last_job_id[ID_LEN + 1];
    int last_job_results;
    int start_rc;
};

static int fake_start_job(void *ctx, const struct job *job)
{
    struct fixture *f = ctx;
    f->started++;
    snprintf(f->last_job_id, sizeof f->last_job_id, "%s", job->id);
    f->last_job_results = job->n_results;
    return f->start_rc;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f) return -1;
    const char *tmp = getenv("TMPDIR");
    snprintf(f->dir, sizeof f->dir, "%s/pixelprompt-router-test-XXXXXX",
             tmp && tmp[0] ? tmp : "/tmp");
    if (!mkdtemp(f->dir)) return -1;
    snprintf(env_data_dir, sizeof env_data_dir, "%s", f->dir);
    n_env = 0;
    log_set_min_level(LOG_ERROR);
    *state = f;
    return 0;
}

static void set_env(const char *name, const char *value)
{
    assert_true(n_env < MAX_ENV);
    env_names[n_env] = name;
    env_values[n_env] = value;
    n_env++;
}

/* Builds the app from the environment set so far (call once per test). */
static void app_up(struct fixture *f)
{
    char err[512] = "";
    int rc = config_load(&f->cfg, fake_getenv, err, sizeof err);
    if (rc != 0) fail_msg("config_load: %s", err);
    struct store *real = store_open(&f->cfg, err, sizeof err);
    if (!real) fail_msg("store_open: %s", err);
    f->shim.base.ops = &shim_ops;
    f->shim.real = real;
    f->blob = blob_open(&f->cfg, err, sizeof err);
    if (!f->blob) fail_msg("blob_open: %s", err);
    f->filter = filter_new(f->cfg.filter_extra_terms);
    assert_non_null(f->filter);
    f->ip_include = addr_list_parse(f->cfg.ip_include, err, sizeof err);
    f->trusted = addr_list_parse(f->cfg.trusted_proxies, err, sizeof err);
    assert_non_null(f->ip_include);
    assert_non_null(f->trusted);
    f->app.cfg = &f->cfg;
    f->app.store = &f->shim.base;
    f->app.blob = f->blob;
    f->app.engine = NULL;
    f->app.filter = f->filter;
    f->app.ip_include = f->ip_include;
    f->app.trusted_proxies = f->trusted;
    memset(f->app.quota_key, 0, sizeof f->app.quota_key);
    f->app.start_job = fake_start_job;
    f->app.start_job_ctx = f;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (f->shim.real) store_close(f->shim.real);
    if (f->blob) blob_close(f->blob);
    filter_free(f->filter);
    addr_list_free(f->ip_include);
    addr_list_free(f->trusted);
    nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    n_env = 0;
    return 0;
}

/* ---- requests ---- */

struct treq {
    struct request req;
    const char *hnames[8], *hvalues[8];
    int nh;
    const char *qnames[4], *qvalues[4];
    int nq;
};

static const char *t_header(const struct request *req, const char *name)
{
    const struct treq *t = req->front;
    for (int i = 0; i < t->nh; i++)
        if (strcasecmp(t->hnames[i], name) == 0) return t->hvalues[i];
    return NULL;
}

static const char *t_query(const struct request *req, const char *name)
{
    const struct treq *t = req->front;
    for (int i = 0; i < t->nq; i++)
        if (strcmp(t->qnames[i], name) == 0) return t->qvalues[i];
    return NULL;
}

static void treq_init(struct treq *t, const char *method, const char *path, const char *body)
{
    memset(t, 0, sizeof *t);
    t->req.method = method;
    t->req.path = path;
    t->req.body = body;
    t->req.body_len = body ? strlen(body) : 0;
    snprintf(t->req.client_addr, sizeof t->req.client_addr, "192.0.2.10");
    snprintf(t->req.correlation_id, sizeof t->req.correlation_id, "test-corr-1");
    t->req.header = t_header;
    t->req.query = t_query;
    t->req.front = t;
}

static void treq_header(struct treq *t, const char *name, const char *value)
{
    t->hnames[t->nh] = name;
    t->hvalues[t->nh] = value;
    t->nh++;
}

static void treq_query(struct treq *t, const char *name, const char *value)
{
    t->qnames[t->nq] = name;
    t->qvalues[t->nq] = value;
    t->nq++;
}

/* Runs the request; returns the parsed JSON body (NULL when it is not JSON). */
static json_t *run(struct fixture *f, struct treq *t, struct response *resp)
{
    response_init(resp);
    router_handle(&f->app, &t->req, resp);
    if (resp->body.len == 0) return NULL;
    return json_loadb(resp->body.data, resp->body.len, 0, NULL);
}

/* One-shot helper: method, path, body; checks the status; returns the JSON body (caller frees). */
static json_t *call(struct fixture *f, const char *method, const char *path, const char *body,
                    int want_status)
{
    struct treq t;
    struct response resp;
    treq_init(&t, method, path, body);
    json_t *j = run(f, &t, &resp);
    if (resp.status != want_status)
        fail_msg("%s %s: status %d, want %d; body %.*s", method, path, resp.status, want_status,
                 (int)resp.body.len, resp.body.data ? resp.body.data : "");
    response_clear(&resp);
    return j;
}

static const char *jstr(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_string(v)) fail_msg("field %s is not a string", key);
    return json_string_value(v);
}

static void assert_error(const json_t *j, const char *code)
{
    assert_non_null(j);
    assert_string_equal(jstr(j, "error"), code);
    assert_true(json_is_string(json_object_get(j, "message")));
}

/* Calls and checks an error code; frees the body. */
static void expect_error(struct fixture *f, const char *method, const char *path, const char *body,
                         int status, const char *code)
{
    json_t *j = call(f, method, path, body, status);
    if (!j) fail_msg("%s %s (%s): no JSON body", method, path, body ? body : "");
    if (strcmp(jstr(j, "error"), code) != 0)
        fail_msg("%s %s (%s): error %s, want %s", method, path, body ? body : "", jstr(j, "error"),
                 code);
    json_decref(j);
}

/* A body {"prompt": "<n copies of the UTF-8 char>"} (caller frees). */
static char *prompt_body(const char *unit, int n, const char *key)
{
    size_t ul = strlen(unit);
    char *s = malloc(ul * (size_t)n + 64);
    assert_non_null(s);
    size_t off = (size_t)sprintf(s, "{\"%s\":\"", key ? key : "prompt");
    for (int i = 0; i < n; i++, off += ul)
        memcpy(s + off, unit, ul);
    strcpy(s + off, "\"}");
    return s;
}

/* Creates a job through POST /generate and copies its id. */
static void create_job(struct fixture *f, char id[ID_LEN + 1])
{
    json_t *j = call(f, "POST", "/generate", "{\"prompt\":\"a red fox in the snow\"}", 200);
    assert_non_null(j);
    snprintf(id, ID_LEN + 1, "%s", jstr(j, "jobId"));
    assert_true(id_is_valid(id));
    json_decref(j);
}

/* ---- tests ---- */

static void routes_match_with_and_without_stage(void **state)
{
    struct fixture *f = *state;
    app_up(f);
    json_t *j = call(f, "GET", "/healthz", NULL, 200);
    assert_string_equal(jstr(j, "status"), "ok");
    json_decref(j);
    json_decref(call(f, "GET", "/Prod/healthz", NULL, 200));

    j = call(f, "POST", "/Prod/generate", "{\"prompt\":\"a lighthouse at dusk\"}", 200);
    assert_string_equal(jstr(j, "message"), "Job created successfully");
    assert_int_equal(json_integer_value(json_object_get(j, "totalModels")), 4);
    assert_int_equal(json_array_size(json_object_get(j, "models")), 4);
    char id[ID_LEN + 1];
    snprintf(id, sizeof id, "%s", jstr(j, "jobId"));
    assert_string_equal(id, f->last_job_id);
    assert_int_equal(f->started, 1);
    assert_int_equal(f->last_job_results, 4);
    json_decref(j);

    char path[128];
    snprintf(path, sizeof path, "/Staging/status/%s", id);
    j = call(f, "GET", path, NULL, 200);
    assert_string_equal(jstr(j, "jobId"), id);
    assert_string_equal(jstr(j, "status"), "pending");
    json_decref(j);
    snprintf(path, sizeof path, "/status/%s", id);
    json_decref(call(f, "GET", path, NULL, 200));
    json_decref(call(f, "GET", "/Prod/gallery/list", NULL, 200));
    json_decref(call(f, "GET", "/Prod/models", NULL, 200));
    /* One stage segment only; methods must match. */
    json_decref(call(f, "GET", "/a/b/healthz", NULL, 404));
    json_decref(call(f, "GET", "/generate", NULL, 404));
    json_decref(call(f, "POST", "/healthz", "{}", 404));
    json_decref(call(f, "GET", "/healthz/", NULL, 404));
    json_decref(call(f, "GET", "/healthzz", NULL, 404));
}

static void not_found_body(void **state)
{
    struct fixture *f = *state;
    app_up(f);
    struct treq t;
    struct response resp;
    treq_init(&t, "DELETE", "/no/such/thing", NULL);
    json_t *j = run(f, &t, &resp);
    assert_int_equal(resp.status, 404);
    assert_string_equal(resp.content_type, "application/json");
    assert_non_null(j);
    assert_int_equal(json_object_size(j), 3);
    assert_string_equal(jstr(j, "error"), "Not found");
    assert_string_equal(jstr(j, "path"), "/no/such/thing");
    assert_string_equal(jstr(j, "method"), "DELETE");
    assert_string_equal(response_header(&resp, "Access-Control-Allow-Origin"), "*");
    json_decref(j);
    response_clear(&resp);
    /* The path is reported as received, stage included. */
    j = call(f, "GET", "/Prod/nothing", NULL, 404);
    assert_string_equal(jstr(j, "path"), "/Prod/nothing");
    assert_string_equal(jstr(j, "method"), "GET");
    json_decref(j);
}

static void options_preflight(void **state)
{
    struct fixture *f = *state;
    app_up(f);
    const char *paths[] = {"/generate", "/Prod/status/x", "/anything/at/all", "/"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        struct treq t;
        struct response resp;
        treq_init(&t, "OPTIONS", paths[i], NULL);
        json_t *j = run(f, &t, &resp);
        assert_null(j);
        assert_int_equal(resp.status, 204);
        assert_int_equal(resp.body.len, 0);
        assert_string_equal(response_header(&resp, "Access-Control-Allow-Origin"), "*");
        assert_string_equal(response_header(&resp, "Access-Control-Allow-Methods"),
                            "GET, POST, DELETE, OPTIONS");
        assert_string_equal(response_header(&resp, "Access-Control-Allow-Headers"),
                            "Content-Type, Authorization, X-Requested-With, X-Correlation-ID, "
                            "Idempotency-Key");
        assert_string_equal(response_header(&resp, "Access-Control-Max-Age"), "86400");
        assert_string_equal(response_header(&resp, "X-Correlation-ID"), "test-corr-1");
        response_clear(&resp);
    }
    assert_int_equal(f->shim.calls, 0);
}

static void correlation_id_echoed(void **state)
{
    struct fixture *f = *state;
    app_up(f);
    const char *paths[] = {"/healthz", "/nope", "/status/bad-id"};
    const char *methods[] = {"GET", "GET", "GET"};
    for (size_t i = 0; i < 3; i++) {
        struct treq t;
        struct response resp;
        treq_init(&t, methods[i], paths[i], NULL);
        snprintf(t.req.correlation_id, sizeof t.req.correlation_id, "corr-%zu-abc", i);
        json_decref(run(f, &t, &resp));
        char want[32];
        snprintf(want, sizeof want, "corr-%zu-abc", i);
        assert_string_equal(response_header(&resp, "X-Correlation-ID"), want);
        assert_non_null(response_header(&resp, "Access-Control-Expose-Headers"));
        response_clear(&resp);
    }
    /* Errors carry it too, including the 413 that never reaches a handler. */
    struct treq t;
    struct response resp;
    treq_init(&t, "POST", "/generate", "{}");
    t.req.body_too_large = true;
    json_decref(run(f, &t, &resp));
    assert_int_equal(resp.status, 413);
    assert_string_equal(response_header(&resp, "X-Correlation-ID"), "test-corr-1");
    response_clear(&resp);
}

static void cors_origins_list(void **state)
{
    struct fixture *f = *state;
    set_env("CORS_ORIGINS", "https://a.example, https://b.example:8443");
    app_up(f);
    struct {
        const char *origin;
        const char *want; /* NULL = no Allow-Origin header */
    } cases[] = {
        {"https://a.example", "https://a.example"},
        {"https://b.example:8443", "https://b.example:8443"},
        {"https://evil.example", NULL},
        {"https://a.exampl", NULL},
        {"https://a.example.evil", NULL},
        {"https://b.example", NULL},
        {"*", NULL},
        {NULL, NULL},
    };
    const char *methods[] = {"GET", "OPTIONS"};
    for (size_t m = 0; m < 2; m++) {
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            struct treq t;
            struct response resp;
            treq_init(&t, methods[m], "/healthz", NULL);
            if (cases[i].origin) treq_header(&t, "Origin", cases[i].origin);
            json_decref(run(f, &t, &resp));
            const char *got = response_header(&resp, "Access-Control-Allow-Origin");
            if (cases[i].want) {
                if (!got || strcmp(got, cases[i].want) != 0)
                    fail_msg("origin %s: got %s", cases[i].origin, got ? got : "(none)");
            } else if (got) {
                fail_msg("origin %s: must not be allowed, got %s",
                         cases[i].origin ? cases[i].origin : "(none)", got);
            }
            assert_string_equal(response_header(&resp, "Vary"), "Origin");
            response_clear(&resp);
        }
    }
}

static void generate_invalid_json(void **state)
{
    struct fixture *f = *state;
    app_up(f);
    const char *bodies[] = {
        "not json",
        "[1,2,3]",
        "[]",
        "null",
        "\"a prompt\"",
        "42",
        "true",
        "{",
        "{\"prompt\":}",
        "{\"prompt\":\"a\",\"prompt\":\"b\"}", /* duplicate keys */
        "{\"prompt\":\"caf\xc3\"}",            /* invalid UTF-8 */
        "{\"prompt\":\"\xff\xfe\"}",
        "{\"prompt\":\"\xed\xa0\x80\"}", /* surrogate */
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        json_t *j = call(f, "POST", "/generate", bodies[i], 400);
        assert_error(j, "INVALID_JSON");
        assert_string_equal(jstr(j, "message"), "Invalid JSON in request body");
        assert_string_equal(jstr(j, "details"),
                            "The request body contains invalid JSON. Please check the format and "
                            "try again.");
        json_decref(j);
    }
    /* An empty body (NULL and "") is not JSON either. */
    expect_error(f, "POST", "/generate", NULL, 400, "INVALID_JSON");
    expect_error(f, "POST", "/generate", "", 400, "INVALID_JSON");
    assert_int_equal(f->started, 0);
}

static void generate_prompt_required(void **state)
{
    struct fixture *f = *state;
    app_up(f);
    const char *bodies[] = {
        "{}",
        "{\"prompt\":\"\"}",
        "{\"prompt\":null}",
        "{\"prompt\":false}",
        "{\"prompt\":\"   \"}",
        "{\"prompt\":\" \\t\\n\\r \"}",
        "{\"ip\":\"1.2.3.4\"}",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        json_t *j = call(f, "POST", "/generate", bodies[i], 400);
        assert_error(j, "PROMPT_REQUIRED");
        assert_string_equal(jstr(j, "message"), "Prompt is required");
        assert_string_equal(jstr(j, "details"), "Please provide a text prompt to generate images.");
        json_decref(j);
    }
    /* A prompt that is not a string is a 400, never a 500. */
    const char *not_strings[] = {
        "{\"prompt\":5}",
        "{\"prompt\":0}",
        "{\"prompt\":true}",
        "{\"prompt\":[\"a\"]}",
        "{\"prompt\":{\"text\":\"a\"}}",
        "{\"prompt\":1.5}",
    };
    for (size_t i = 0; i < sizeof not_strings / sizeof not_strings[0]; i++) {
        json_t *j = call(f, "POST", "/generate", not_strings[i], 400);
        assert_error(j, "PROMPT_REQUIRED");
        assert_string_equal(jstr(j, "message"), "Prompt must be a string");
        json_decref(j);
    }
    /* An embedded NUL is refused (jansson rejects \u0000 without JSON_ALLOW_NUL), never cut. */
    expect_error(f, "POST", "/generate", "{\"prompt\":\"a\\u0000b\"}", 400, "INVALID_JSON");
    assert_int_equal(f->started, 0);
}

static void generate_prompt_length_in_code_points(void **state)
{
    struct fixture *f = *state;
    app_up(f);
    /* 2-, 3- and 4-byte characters: the limit counts code points, not bytes. */
    const char *units[] = {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\xa6\x8a", "a"};
    for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
        char *ok = prompt_body(units[u], 1000, NULL);
        json_t *j = call(f, "POST", "/generate", ok, 200);
        assert_true(id_is_valid(jstr(j, "jobId")));
        json_decref(j);
        free(ok);
        char *too_long = prompt_body(units[u], 1001, NULL);
        j = call(f, "POST", "/generate", too_long, 400);
        assert_error(j, "PROMPT_TOO_LONG");
        assert_int_equal(json_integer_value(json_object_get(j, "maxLength")), 1000);
        assert_string_equal(jstr(j, "message"), "Prompt is too long (maximum 1000 characters)");
        assert_string_equal(jstr(j, "details"),
                            "Please shorten your prompt to 1000 characters or less.");
        json_decref(j);
        free(too_long);
    }
    assert_int_equal(f->started, 4);
}

static void generate_inappropriate(void **state)
{
    struct fixture *f = *state;
    set_env("IP_LIMIT", "1");
    app_up(f);
    const char *bodies[] = {"{\"prompt\":\"a nude portrait\"}", "{\"prompt\":\"NSFW art\"}",
                            "{\"prompt\":\"n u d e figure\"}"};
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        json_t *j = call(f, "POST", "/generate", bodies[i], 400);
        assert_error(j, "INAPPROPRIATE_CONTENT");
        assert_string_equal(jstr(j, "message"),
                            "Your prompt contains inappropriate content and cannot be processed.");
        assert_string_equal(jstr(j, "details"),
                            "Please revise your prompt to remove inappropriate content.");
        json_decref(j);
    }
    /* Refused prompts cost no quota: the single allowed request still goes through. */
    json_decref(call(f, "POST", "/generate", "{\"prompt\":\"a blood orange on a table\"}", 200));
    assert_int_equal(f->started, 1);
}

static void generate_models_selection(void **state)
{
    struct fixture *f = *state;
    app_up(f);
    json_t *j = call(f, "POST", "/generate", "{\"prompt\":\"x\",\"models\":[\"nope\"]}", 400);
    assert_error(j, "UNKNOWN_MODEL");
    assert_string_equal(jstr(j, "model"), "nope");
    assert_string_equal(jstr(j, "message"), "Unknown model 'nope'");
    json_decref(j);
    j = call(f, "POST", "/generate", "{\"prompt\":\"x\",\"models\":[\"demo-rings\",\"dall-e-3\"]}",
             400);
    assert_error(j, "UNKNOWN_MODEL");
    assert_string_equal(jstr(j, "model"), "dall-e-3");
    json_decref(j);
    const char *invalid[] = {
        "{\"prompt\":\"x\",\"models\":\"demo-rings\"}",
        "{\"prompt\":\"x\",\"models\":[]}",
        "{\"prompt\":\"x\",\"models\":[1]}",
        "{\"prompt\":\"x\",\"models\":{}}",
        "{\"prompt\":\"x\",\"models\":[\"demo-rings\",null]}",
        "{\"prompt\":\"x\",\"models\":true}",
    };
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++)
        expect_error(f, "POST", "/generate", invalid[i], 400, "INVALID_MODELS");
    assert_int_equal(f->started, 0);

    /* A subset comes back in slot order; null means all. */
    j = call(f, "POST", "/generate",
             "{\"prompt\":\"x\",\"models\":[\"demo-stripes\",\"demo-gradient\"]}", 200);
    assert_int_equal(json_integer_value(json_object_get(j, "totalModels")), 2);
    json_t *ms = json_object_get(j, "models");
    assert_string_equal(jstr(json_array_get(ms, 0), "id"), "demo-gradient");
    assert_string_equal(jstr(json_array_get(ms, 0), "name"), "Demo Gradient");
    assert_string_equal(jstr(json_array_get(ms, 0), "provider"), "demo");
    assert_string_equal(jstr(json_array_get(ms, 1), "id"), "demo-stripes");
    assert_int_equal(f->last_job_results, 2);
    json_decref(j);
    j = call(f, "POST", "/generate", "{\"prompt\":\"x\",\"models\":null}", 200);
    assert_int_equal(json_integer_value(json_object_get(j, "totalModels")), 4);
    json_decref(j);
}

static void payload_too_large(void **state)
{
    struct fixture *f = *state;
    app_up(f);
    const char *routes[][2] = {
        {"POST", "/generate"}, {"POST", "/enhance"}, {"POST", "/log"}, {"GET", "/healthz"}};
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        struct treq t;
        struct response resp;
        treq_init(&t, routes[i][0], routes[i][1], "{\"prompt\":\"x\"}");
        t.req.body_too_large = true;
        json_t *j = run(f, &t, &resp);
        assert_int_equal(resp.status, 413);
        assert_error(j, "PAYLOAD_TOO_LARGE");
        assert_int_equal(json_integer_value(json_object_get(j, "maxBytes")), 65536);
        assert_string_equal(jstr(j, "message"), "Request body is too large (maximum 65536 bytes)");
        json_decref(j);
        response_clear(&resp);
    }
    assert_int_equal(f->started, 0);
    assert_int_equal(f->shim.calls, 0);
}

static void payload_too_large_by_length(void **state)
{
    struct fixture *f = *state;
    set_env("MAX_BODY_BYTES", "1024");
    app_up(f);
    char *big = prompt_body("a", 1100, NULL); /* > 1024 bytes, even if a front door missed it */
    json_t *j = call(f, "POST", "/generate", big, 413);
    assert_error(j, "PAYLOAD_TOO_LARGE");
    assert_int_equal(json_integer_value(json_object_get(j, "maxBytes")), 1024);
    json_decref(j);
    free(big);
}

static void no_models_configured(void **state)
{
    struct fixture *f = *state;
    set_env("MODEL_COUNT", "0");
    app_up(f);
    assert_int_equal(f->cfg.n_models, 0);
    json_t *j = call(f, "POST", "/generate", "{\"prompt\":\"a red fox\"}", 503);
    assert_error(j, "NO_MODELS_CONFIGURED");
    assert_string_equal(jstr(j, "message"), "No image models are configured");
    json_decref(j);
    assert_int_equal(f->started, 0);
    /* Input errors still come first. */
    expect_error(f, "POST", "/generate", "{}", 400, "PROMPT_REQUIRED");
}

static void rate_limit_exceeded(void **state)
{
    struct fixture *f = *state;
    set_env("IP_LIMIT", "1");
    app_up(f);
    json_decref(call(f, "POST", "/generate", "{\"prompt\":\"first\"}", 200));
    for (int round = 0; round < 2; round++) {
        struct treq t;
        struct response resp;
        /* A body "ip" never decides the client. */
        treq_init(&t, "POST", "/generate",
                  round ? "{\"prompt\":\"again\",\"ip\":\"203.0.113.99\"}"
                        : "{\"prompt\":\"again\"}");
        json_t *j = run(f, &t, &resp);
        assert_int_equal(resp.status, 429);
        assert_error(j, "RATE_LIMIT_EXCEEDED");
        json_int_t retry = json_integer_value(json_object_get(j, "retryAfter"));
        assert_true(retry > 0 && retry <= 24 * 3600);
        const char *h = response_header(&resp, "Retry-After");
        assert_non_null(h);
        assert_int_equal(strtoll(h, NULL, 10), retry);
        assert_string_equal(jstr(j, "details"), "Too many requests. Please wait and try again.");
        assert_non_null(strstr(jstr(j, "message"), "Rate limit exceeded. Please try again in "));
        json_decref(j);
        response_clear(&resp);
    }
    assert_int_equal(f->started, 1);
    /* Another client has its own counter. */
    struct treq t;
    struct response resp;
    treq_init(&t, "POST", "/generate", "{\"prompt\":\"other client\"}");
    snprintf(t.req.client_addr, sizeof t.req.client_addr, "198.51.100.7");
    json_decref(run(f, &t, &resp));
    assert_int_equal(resp.status, 200);
    response_clear(&resp);
    assert_int_equal(f->started, 2);
}

static void rate_limit_ip_include_exempt(void **state)
{
    struct fixture *f = *state;
    set_env("IP_LIMIT", "1");
    set_env("IP_INCLUDE", "192.0.2.0/24");
    app_up(f);
    for (int i = 0; i < 3; i++)
        json_decref(call(f, "POST", "/generate", "{\"prompt\":\"x\"}", 200));
    assert_int_equal(f->started, 3);
}

static void rate_limit_global(void **state)
{
    struct fixture *f = *state;
    set_env("GLOBAL_LIMIT", "2");
    app_up(f);
    const char *addrs[] = {"192.0.2.1", "192.0.2.2", "192.0.2.3"};
    for (int i = 0; i < 3; i++) {
        struct treq t;
        struct response resp;
        treq_init(&t, "POST", "/generate", "{\"prompt\":\"x\"}");
        snprintf(t.req.client_addr, sizeof t.req.client_addr, "%s", addrs[i]);
        json_t *j = run(f, &t, &resp);
        assert_int_equal(resp.status, i < 2 ? 200 : 429);
        if (i == 2) {
            assert_error(j, "RATE_LIMIT_EXCEEDED");
            assert_true(json_integer_value(json_object_get(j, "retryAfter")) <= 3600);
        }
        json_decref(j);
        response_clear(&resp);
    }
}

static void idempotency_key_replay(void **state)
{
    struct fixture *f = *state;
    set_env("IP_LIMIT", "2");
    app_up(f);
    char first[ID_LEN + 1] = "";
    for (int i = 0; i < 3; i++) {
        struct treq t;
        struct response resp;
        treq_init(&t, "POST", "/generate", "{\"prompt\":\"same\",\"models\":[\"demo-rings\"]}");
        treq_header(&t, "Idempotency-Key", "key-123");
        json_t *j = run(f, &t, &resp);
        assert_int_equal(resp.status, 200);
        if (i == 0) {
            snprintf(first, sizeof first, "%s", jstr(j, "jobId"));
            assert_null(json_object_get(j, "replayed"));
        } else {
            assert_string_equal(jstr(j, "jobId"), first);
            assert_true(json_is_true(json_object_get(j, "replayed")));
            assert_int_equal(json_integer_value(json_object_get(j, "totalModels")), 1);
        }
        json_decref(j);
        response_clear(&resp);
    }
    assert_int_equal(f->started, 1);
    /* Replays cost no quota (IP_LIMIT=2): one more new job fits. */
    json_decref(call(f, "POST", "/generate", "{\"prompt\":\"new\"}", 200));
    assert_int_equal(f->started, 2);
    /* The same key from another client is another request. */
    struct treq t;
    struct response resp;
    treq_init(&t, "POST", "/generate", "{\"prompt\":\"same\"}");
    treq_header(&t, "Idempotency-Key", "key-123");
    snprintf(t.req.client_addr, sizeof t.req.client_addr, "198.51.100.1");
    json_t *j = run(f, &t, &resp);
    assert_int_equal(resp.status, 200);
    assert_string_not_equal(jstr(j, "jobId"), first);
    json_decref(j);
    response_clear(&resp);
}

static void start_job_failure_finishes_the_job(void **state)
{
    struct fixture *f = *state;
    app_up(f);
    f->start_rc = -1;
    json_t *j = call(f, "POST", "/generate", "{\"prompt\":\"x\"}", 503);
    assert_error(j, "SERVICE_UNAVAILABLE");
    json_decref(j);
    assert_int_equal(f->started, 1);
    char path[80];
    snprintf(path, sizeof path, "/status/%s", f->last_job_id);
    j = call(f, "GET", path, NULL, 200);
    assert_string_equal(jstr(j, "status"), "failed");
    assert_int_equal(json_integer_value(json_object_get(j, "failedModels")), 4);
    json_decref(j);
}

static void store_down_is_503(void **state)
{
    struct fixture *f = *state;
    app_up(f);
    char id[ID_LEN + 1];
    create_job(f, id);
    f->shim.down = true;
    char path[80];
    snprintf(path, sizeof path, "/status/%s", id);
    struct treq t;
    struct response resp;
    const char *cases[][3] = {{"GET", path, NULL},
                              {"POST", "/generate", "{\"prompt\":\"x\"}"},
                              {"GET", "/gallery/list", NULL}};
    for (size_t i = 0; i < 3; i++) {
        treq_init(&t, cases[i][0], cases[i][1], cases[i][2]);
        json_t *j = run(f, &t, &resp);
        assert_int_equal(resp.status, 503);
        assert_error(j, "SERVICE_UNAVAILABLE");
        assert_string_equal(response_header(&resp, "Retry-After"), "5");
        json_decref(j);
        response_clear(&resp);
    }
    treq_init(&t, "GET", "/healthz", NULL);
    json_t *j = run(f, &t, &resp);
    assert_int_equal(resp.status, 503);
    assert_string_equal(jstr(j, "status"), "unavailable");
    json_decref(j);
    response_clear(&resp);
}

static void enhance_errors_and_success(void **state)
{
    struct fixture *f = *state;
    app_up(f);
    expect_error(f, "POST", "/enhance", "nope", 400, "INVALID_JSON");
    expect_error(f, "POST", "/enhance", "[]", 400, "INVALID_JSON");
    expect_error(f, "POST", "/enhance", "null", 400, "INVALID_JSON");
    expect_error(f, "POST", "/enhance", NULL, 400, "INVALID_JSON");
    expect_error(f, "POST", "/enhance", "{}", 400, "PROMPT_REQUIRED");
    expect_error(f, "POST", "/enhance", "{\"prompt\":\"  \"}", 400, "PROMPT_REQUIRED");
    expect_error(f, "POST", "/enhance", "{\"prompt\":7}", 400, "PROMPT_REQUIRED");
    expect_error(f, "POST", "/enhance", "{\"prompt\":\"a nude figure\"}", 400,
                 "INAPPROPRIATE_CONTENT");
    char *too_long = prompt_body("\xc3\xa9", 501, NULL);
    json_t *j = call(f, "POST", "/enhance", too_long, 400);
    assert_error(j, "PROMPT_TOO_LONG");
    assert_int_equal(json_integer_value(json_object_get(j, "maxLength")), 500);
    assert_string_equal(jstr(j, "message"), "Prompt is too long (maximum 500 characters)");
    assert_string_equal(jstr(j, "details"),
                        "Please shorten your prompt to 500 characters or less.");
    json_decref(j);
    free(too_long);
    char *ok = prompt_body("\xc3\xa9", 500, NULL);
    json_decref(call(f, "POST", "/enhance", ok, 200));
    free(ok);

    j = call(f, "POST", "/enhance", "{\"prompt\":\"a cat on a windowsill\"}", 200);
    assert_string_equal(jstr(j, "original"), "a cat on a windowsill");
    const char *s = jstr(j, "short_prompt"), *l = jstr(j, "long_prompt");
    assert_true(strlen(s) > 0);
    assert_true(strlen(l) > strlen(s));
    assert_string_not_equal(s, l);
    assert_string_equal(jstr(j, "enhanced"), l);
    json_decref(j);
}

static void enhance_rate_limited(void **state)
{
    struct fixture *f = *state;
    set_env("ENHANCE_IP_LIMIT", "1");
    app_up(f);
    json_decref(call(f, "POST", "/enhance", "{\"prompt\":\"a cat\"}", 200));
    struct treq t;
    struct response resp;
    treq_init(&t, "POST", "/enhance", "{\"prompt\":\"a cat\"}");
    json_t *j = run(f, &t, &resp);
    assert_int_equal(resp.status, 429);
    assert_error(j, "RATE_LIMIT_EXCEEDED");
    assert_true(json_integer_value(json_object_get(j, "retryAfter")) <= 3600);
    assert_non_null(response_header(&resp, "Retry-After"));
    json_decref(j);
    response_clear(&resp);
}

static void malformed_job_ids_never_reach_storage(void **state)
{
    struct fixture *f = *state;
    app_up(f);
    const char *ids[] = {
        "..",
        "..%2F..%2Fetc%2Fpasswd",
        "%2e%2e",
        "x",
        "unknown",
        "pixelprompt.db",
        "0190A3B4-0000-7000-8000-000000000000",  /* uppercase */
        "0190a3b4-0000-7000-8000-0000000000000", /* 37 characters */
        "0190a3b4-0000-7000-8000-00000000000",   /* 35 characters */
        "0190a3b4_0000_7000_8000_000000000000",
        "0190a3b4-0000-7000-8000-00000000000g",
        "' OR '1'='1",
    };
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        char path[160];
        snprintf(path, sizeof path, "/status/%s", ids[i]);
        json_t *j = call(f, "GET", path, NULL, 404);
        assert_error(j, "JOB_NOT_FOUND");
        assert_string_equal(jstr(j, "message"), "Job not found");
        assert_string_equal(jstr(j, "jobId"), ids[i]);
        json_decref(j);
        snprintf(path, sizeof path, "/status/%s/events", ids[i]);
        expect_error(f, "GET", path, NULL, 404, "JOB_NOT_FOUND");
        snprintf(path, sizeof path, "/cancel/%s", ids[i]);
        expect_error(f, "POST", path, NULL, 404, "JOB_NOT_FOUND");
        snprintf(path, sizeof path, "/gallery/%s/zip", ids[i]);
        expect_error(f, "GET", path, NULL, 404, "JOB_NOT_FOUND");
        snprintf(path, sizeof path, "/gallery/%s", ids[i]);
        j = call(f, "GET", path, NULL, 200);
        assert_int_equal(json_array_size(json_object_get(j, "images")), 0);
        json_decref(j);
    }
    /* Multi-segment traversal matches no route at all. */
    json_decref(call(f, "GET", "/status/../../etc/passwd", NULL, 404));
    json_decref(call(f, "GET", "/gallery/../../pixelprompt.db", NULL, 404));
    assert_int_equal(f->shim.calls, 0);
    /* A well-formed id that does not exist does reach storage, and is 404 too. */
    json_t *j = call(f, "GET", "/status/0190a3b4-0000-7000-8000-000000000000", NULL, 404);
    assert_error(j, "JOB_NOT_FOUND");
    assert_string_equal(jstr(j, "jobId"), "0190a3b4-0000-7000-8000-000000000000");
    assert_string_equal(jstr(j, "details"),
                        "The job with ID '0190a3b4-0000-7000-8000-000000000000' could not be "
                        "found. It may have expired.");
    json_decref(j);
    assert_int_equal(f->shim.get_job_calls, 1);
}

static void gallery_unknown_is_empty(void **state)
{
    struct fixture *f = *state;
    app_up(f);
    const char *paths[] = {"/gallery/0190a3b4-0000-7000-8000-000000000000", "/gallery/nothing",
                           "/Prod/gallery/nothing"};
    for (size_t i = 0; i < 3; i++) {
        json_t *j = call(f, "GET", paths[i], NULL, 200);
        assert_true(json_is_array(json_object_get(j, "images")));
        assert_int_equal(json_array_size(json_object_get(j, "images")), 0);
        assert_int_equal(json_integer_value(json_object_get(j, "total")), 0);
        assert_non_null(json_object_get(j, "galleryId"));
        json_decref(j);
    }
    /* A job with no finished image is an empty gallery too, and has nothing to zip. */
    char id[ID_LEN + 1], path[80];
    create_job(f, id);
    snprintf(path, sizeof path, "/gallery/%s", id);
    json_t *j = call(f, "GET", path, NULL, 200);
    assert_string_equal(jstr(j, "galleryId"), id);
    assert_string_equal(jstr(j, "prompt"), "a red fox in the snow");
    assert_int_equal(json_array_size(json_object_get(j, "images")), 0);
    json_decref(j);
}

/* A job with no finished image has nothing to zip: 404 NO_IMAGES, not an outage. */
static void gallery_zip_without_images(void **state)
{
    struct fixture *f = *state;
    app_up(f);
    char id[ID_LEN + 1], path[80];
    create_job(f, id);
    snprintf(path, sizeof path, "/gallery/%s/zip", id);
    struct treq t;
    struct response resp;
    treq_init(&t, "GET", path, NULL);
    json_t *j = run(f, &t, &resp);
    int status = resp.status;
    response_clear(&resp);
    assert_int_equal(status, 404);
    assert_error(j, "NO_IMAGES");
    json_decref(j);
}

static void gallery_list_params(void **state)
{
    struct fixture *f = *state;
    app_up(f);
    json_t *j = call(f, "GET", "/gallery/list", NULL, 200);
    assert_int_equal(json_array_size(json_object_get(j, "galleries")), 0);
    assert_int_equal(json_integer_value(json_object_get(j, "total")), 0);
    assert_true(json_is_null(json_object_get(j, "nextCursor")));
    json_decref(j);
    const char *bad_limits[] = {"0", "101", "-1", "abc", "5x", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad_limits / sizeof bad_limits[0]; i++) {
        struct treq t;
        struct response resp;
        treq_init(&t, "GET", "/gallery/list", NULL);
        treq_query(&t, "limit", bad_limits[i]);
        j = run(f, &t, &resp);
        assert_int_equal(resp.status, 400);
        assert_error(j, "INVALID_LIMIT");
        json_decref(j);
        response_clear(&resp);
    }
    struct treq t;
    struct response resp;
    treq_init(&t, "GET", "/gallery/list", NULL);
    treq_query(&t, "cursor", "not-a-cursor!");
    j = run(f, &t, &resp);
    assert_int_equal(resp.status, 400);
    assert_error(j, "INVALID_CURSOR");
    json_decref(j);
    response_clear(&resp);
}

static void status_and_cancel(void **state)
{
    struct fixture *f = *state;
    app_up(f);
    char id[ID_LEN + 1], path[80];
    create_job(f, id);
    snprintf(path, sizeof path, "/status/%s", id);
    struct treq t;
    struct response resp;
    treq_init(&t, "GET", path, NULL);
    json_t *j = run(f, &t, &resp);
    assert_int_equal(resp.status, 200);
    assert_string_equal(response_header(&resp, "Cache-Control"), "no-store");
    response_clear(&resp);
    assert_string_equal(jstr(j, "status"), "pending");
    assert_int_equal(json_integer_value(json_object_get(j, "totalModels")), 4);
    assert_int_equal(json_integer_value(json_object_get(j, "completedModels")), 0);
    json_t *results = json_object_get(j, "results");
    assert_int_equal(json_array_size(results), 4);
    for (size_t i = 0; i < 4; i++) {
        json_t *r = json_array_get(results, i);
        assert_string_equal(jstr(r, "status"), "pending");
        assert_true(json_is_null(json_object_get(r, "imageUrl")));
        assert_int_equal(json_integer_value(json_object_get(r, "index")), (json_int_t)i + 1);
    }
    json_decref(j);

    snprintf(path, sizeof path, "/cancel/%s", id);
    for (int round = 0; round < 2; round++) {
        j = call(f, "POST", path, NULL, 200);
        assert_string_equal(jstr(j, "status"), "cancelled");
        results = json_object_get(j, "results");
        for (size_t i = 0; i < 4; i++)
            assert_string_equal(jstr(json_array_get(results, i), "status"), "cancelled");
        json_decref(j);
    }
    /* Events on a finished job: one document, then the end. */
    snprintf(path, sizeof path, "/status/%s/events", id);
    treq_init(&t, "GET", path, NULL);
    json_decref(run(f, &t, &resp));
    assert_int_equal(resp.status, 200);
    assert_string_equal(resp.content_type, "text/event-stream");
    assert_non_null(resp.stream);
    struct buf out = BUF_INIT;
    int wait = 0;
    assert_int_equal(resp.stream->next(resp.stream, &out, &wait), STREAM_MORE);
    assert_non_null(out.data);
    assert_non_null(strstr(out.data, "event: job\ndata: {"));
    assert_non_null(strstr(out.data, "\"status\":\"cancelled\""));
    assert_int_equal(resp.stream->next(resp.stream, &out, &wait), STREAM_END);
    buf_free(&out);
    response_clear(&resp);
}

static void log_route(void **state)
{
    struct fixture *f = *state;
    set_env("LOG_IP_LIMIT", "2");
    app_up(f);
    json_t *j = call(f, "POST", "/log",
                     "{\"level\":\"WARNING\",\"message\":\"boom\",\"stack\":\"at x\","
                     "\"metadata\":{\"a\":1,\"b\":{\"c\":[1,2]}}}",
                     200);
    assert_true(json_is_true(json_object_get(j, "success")));
    assert_string_equal(jstr(j, "message"), "Log received successfully");
    json_decref(j);
    const char *bad[] = {
        "{}",
        "{\"level\":\"ERROR\"}",
        "{\"level\":\"LOUD\",\"message\":\"x\"}",
        "{\"message\":\"x\"}",
        "{\"level\":\"INFO\",\"message\":\"\"}",
        "{\"level\":\"INFO\",\"message\":5}",
        "{\"level\":\"INFO\",\"message\":\"x\",\"stack\":5}",
        "{\"level\":\"INFO\",\"message\":\"x\",\"metadata\":[1]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_error(f, "POST", "/log", bad[i], 400, "INVALID_LOG");
    expect_error(f, "POST", "/log", "not json", 400, "INVALID_JSON");
    json_decref(call(f, "POST", "/log", "{\"level\":\"info\",\"message\":\"x\"}", 200));
    expect_error(f, "POST", "/log", "{\"level\":\"info\",\"message\":\"x\"}", 429,
                 "RATE_LIMIT_EXCEEDED");
}

static void meta_routes(void **state)
{
    struct fixture *f = *state;
    set_env("MODEL_1_PROVIDER", "demo");
    set_env("MODEL_1_ID", "demo-one");
    set_env("MODEL_1_KEY", "sk-super-secret-value");
    set_env("MODEL_2_PROVIDER", "demo");
    set_env("MODEL_2_ID", "demo-two");
    set_env("MODEL_2_NAME", "Two");
    set_env("PROMPT_MODEL_INDEX", "2");
    app_up(f);
    struct treq t;
    struct response resp;
    treq_init(&t, "GET", "/models", NULL);
    json_t *j = run(f, &t, &resp);
    assert_int_equal(resp.status, 200);
    assert_null(memmem(resp.body.data, resp.body.len, "super-secret", 12));
    response_clear(&resp);
    json_t *ms = json_object_get(j, "models");
    assert_int_equal(json_array_size(ms), 2);
    assert_string_equal(jstr(json_array_get(ms, 0), "id"), "demo-one");
    assert_string_equal(jstr(json_array_get(ms, 0), "name"), "demo-one");
    assert_string_equal(jstr(json_array_get(ms, 1), "name"), "Two");
    json_t *enh = json_object_get(j, "enhancer");
    assert_true(json_is_true(json_object_get(enh, "available")));
    assert_string_equal(jstr(enh, "model"), "demo-two");
    json_decref(j);

    j = call(f, "GET", "/healthz", NULL, 200);
    assert_string_equal(jstr(j, "status"), "ok");
    assert_string_equal(jstr(j, "version"), PP_VERSION);
    json_decref(j);

    treq_init(&t, "GET", "/metrics", NULL);
    assert_null(run(f, &t, &resp));
    assert_int_equal(resp.status, 200);
    assert_non_null(strstr(resp.content_type, "text/plain"));
    assert_non_null(memmem(resp.body.data, resp.body.len, "# TYPE ", 7));
    response_clear(&resp);
}

static void image_routes(void **state)
{
    struct fixture *f = *state;
    app_up(f);
    const char *paths[] = {"/images/../pixelprompt.db",
                           "/images/..%2Fpixelprompt.db",
                           "/images/x/../../.quota-key",
                           "/thumbs/../../etc/passwd",
                           "/images/nothing/here.png",
                           "/images//x.png",
                           "/images/.lock"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        expect_error(f, "GET", paths[i], NULL, 404, "NOT_FOUND");
    /* A stored blob is served with its type, an ETag and a 304 on a match. */
    static const unsigned char png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 0};
    assert_int_equal(blob_put(f->blob, "images/t/1.png", png, sizeof png, "image/png"), BLOB_OK);
    struct treq t;
    struct response resp;
    treq_init(&t, "GET", "/images/t/1.png", NULL);
    assert_null(run(f, &t, &resp));
    assert_int_equal(resp.status, 200);
    assert_string_equal(resp.content_type, "image/png");
    assert_int_equal(resp.body.len, sizeof png);
    assert_memory_equal(resp.body.data, png, sizeof png);
    const char *etag = response_header(&resp, "ETag");
    assert_non_null(etag);
    char saved[64];
    snprintf(saved, sizeof saved, "%s", etag);
    assert_non_null(strstr(response_header(&resp, "Cache-Control"), "max-age="));
    response_clear(&resp);
    treq_init(&t, "GET", "/Prod/images/t/1.png", NULL);
    treq_header(&t, "If-None-Match", saved);
    assert_null(run(f, &t, &resp));
    assert_int_equal(resp.status, 304);
    assert_int_equal(resp.body.len, 0);
    response_clear(&resp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(routes_match_with_and_without_stage, setup, teardown),
        cmocka_unit_test_setup_teardown(not_found_body, setup, teardown),
        cmocka_unit_test_setup_teardown(options_preflight, setup, teardown),
        cmocka_unit_test_setup_teardown(correlation_id_echoed, setup, teardown),
        cmocka_unit_test_setup_teardown(cors_origins_list, setup, teardown),
        cmocka_unit_test_setup_teardown(generate_invalid_json, setup, teardown),
        cmocka_unit_test_setup_teardown(generate_prompt_required, setup, teardown),
        cmocka_unit_test_setup_teardown(generate_prompt_length_in_code_points, setup, teardown),
        cmocka_unit_test_setup_teardown(generate_inappropriate, setup, teardown),
        cmocka_unit_test_setup_teardown(generate_models_selection, setup, teardown),
        cmocka_unit_test_setup_teardown(payload_too_large, setup, teardown),
        cmocka_unit_test_setup_teardown(payload_too_large_by_length, setup, teardown),
        cmocka_unit_test_setup_teardown(no_models_configured, setup, teardown),
        cmocka_unit_test_setup_teardown(rate_limit_exceeded, setup, teardown),
        cmocka_unit_test_setup_teardown(rate_limit_ip_include_exempt, setup, teardown),
        cmocka_unit_test_setup_teardown(rate_limit_global, setup, teardown),
        cmocka_unit_test_setup_teardown(idempotency_key_replay, setup, teardown),
        cmocka_unit_test_setup_teardown(start_job_failure_finishes_the_job, setup, teardown),
        cmocka_unit_test_setup_teardown(store_down_is_503, setup, teardown),
        cmocka_unit_test_setup_teardown(enhance_errors_and_success, setup, teardown),
        cmocka_unit_test_setup_teardown(enhance_rate_limited, setup, teardown),
        cmocka_unit_test_setup_teardown(malformed_job_ids_never_reach_storage, setup, teardown),
        cmocka_unit_test_setup_teardown(gallery_unknown_is_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(gallery_zip_without_images, setup, teardown),
        cmocka_unit_test_setup_teardown(gallery_list_params, setup, teardown),
        cmocka_unit_test_setup_teardown(status_and_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(log_route, setup, teardown),
        cmocka_unit_test_setup_teardown(meta_routes, setup, teardown),
        cmocka_unit_test_setup_teardown(image_routes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
