/* POST /enhance: one chat model rewrites the prompt into a short and a long variant. A remote
 * enhancer runs on the engine's I/O thread and the answer is deferred, so no thread waits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "app/config.h"
#include "app/deferred.h"
#include "app/errors.h"
#include "app/filter.h"
#include "app/quota.h"
#include "app/routes.h"
#include "engine/engine.h"
#include "providers/enhancer.h"
#include "util/clock.h"
#include "util/log.h"

/* Below API Gateway's 30 s so a cloud front never times out first. */
#define ENHANCE_DEADLINE_MS 25000


struct enhance_call {
    struct app *app;
    struct deferred *deferred; /* one reference */
    const struct enhancer_ops *ops;
    const struct model_config *model;
    char *prompt;
    char correlation_id[80];
};

static void unavailable(struct response *resp, const char *why)
{
    error_simple(resp, 503, "ENHANCER_UNAVAILABLE", "Prompt enhancement is not available", why);
}

static void respond_variants(struct app *app, const char *prompt, const struct enhance_result *er,
                             struct response *resp)
{
    if (filter_blocks(app->filter, er->short_prompt, NULL) ||
        filter_blocks(app->filter, er->long_prompt, NULL)) {
        error_simple(resp, 502, "ENHANCE_FAILED",
                     "The enhanced prompt was refused by the content filter",
                     "Try rephrasing the prompt.");
        return;
    }
    json_t *o = json_object();
    json_object_set_new(o, "original", json_string(prompt));
    json_object_set_new(o, "enhanced", json_string(er->long_prompt));
    json_object_set_new(o, "short_prompt", json_string(er->short_prompt));
    json_object_set_new(o, "long_prompt", json_string(er->long_prompt));
    if (!json_is_string(json_object_get(o, "enhanced")) ||
        !json_is_string(json_object_get(o, "short_prompt"))) {
        json_decref(o);
        error_simple(resp, 502, "ENHANCE_FAILED", "The enhancer answered with unreadable text",
                     NULL);
        return;
    }
    if (response_json(resp, 200, o) != 0) error_internal(resp);
}

/* Runs on the engine's I/O thread with the provider's final answer. */
static void enhance_done(void *ctx, const struct http_response *r)
{
    struct enhance_call *call = ctx;
    struct response resp;
    response_init(&resp);
    struct provider_call pc = {call->app->cfg, call->model, call->prompt, NULL, 0};
    struct enhance_result *er = calloc(1, sizeof *er);
    char err[300] = "";
    if (!er) {
        error_internal(&resp);
    } else if (r->status == 0) {
        json_t *f = json_pack("{s:s}", "error", r->transport_error ? r->transport_error : "");
        log_emit(LOG_WARNING, call->correlation_id, "enhancement failed: no answer", f);
        json_decref(f);
        error_simple(&resp, 502, "ENHANCE_FAILED", "The prompt enhancer did not answer in time",
                     "Please try again.");
    } else if (call->ops->parse(&pc, r, er, err, sizeof err) != 0) {
        json_t *f = json_pack("{s:s, s:i}", "error", err, "status", (int)r->status);
        log_emit(LOG_WARNING, call->correlation_id, "enhancement failed", f);
        json_decref(f);
        error_simple(&resp, 502, "ENHANCE_FAILED", "The prompt enhancer failed", err);
    } else {
        respond_variants(call->app, call->prompt, er, &resp);
    }
    free(er);
    deferred_complete(call->deferred, &resp);
    response_clear(&resp);
    deferred_release(call->deferred);
    free(call->prompt);
    free(call);
}

static void start_remote(struct app *app, const struct request *req, const struct enhancer_ops *ops,
                         const struct model_config *m, const char *prompt, struct response *resp)
{
    struct provider_call pc = {app->cfg, m, prompt, NULL, 0};
    struct http_request hr;
    memset(&hr, 0, sizeof hr);
    char err[300] = "";
    int rc = ops->build(&pc, &hr, err, sizeof err);
    if (rc != 0) {
        http_request_clear(&hr);
        if (rc > 0)
            unavailable(resp, err);
        else
            error_internal(resp);
        return;
    }
    struct enhance_call *call = calloc(1, sizeof *call);
    struct deferred *d = deferred_new();
    if (!call || !d || !(call->prompt = strdup(prompt))) {
        http_request_clear(&hr);
        free(call);
        if (d) deferred_release(d);
        error_internal(resp);
        return;
    }
    call->app = app;
    call->ops = ops;
    call->model = m;
    call->deferred = d;
    snprintf(call->correlation_id, sizeof call->correlation_id, "%s", req->correlation_id);
    deferred_retain(d); /* one for the response, one for the call */
    if (!app->engine || engine_http(app->engine, &hr, clock_mono_ms() + ENHANCE_DEADLINE_MS,
                                    enhance_done, call) != 0) {
        http_request_clear(&hr);
        deferred_release(d);
        deferred_release(d);
        free(call->prompt);
        free(call);
        unavailable(resp, "the server is shutting down");
        return;
    }
    resp->deferred = d;
}

void handle_enhance(struct app *app, const struct request *req, const struct route_params *params,
                    struct response *resp)
{
    (void)params;
    json_t *body = request_json_object(app, req, resp);
    if (!body) return;
    const char *prompt = request_prompt(body, ENHANCE_MAX_CODEPOINTS, resp);
    if (!prompt) goto out;
    if (filter_blocks(app->filter, prompt, NULL)) {
        error_inappropriate(resp);
        goto out;
    }
    const struct model_config *m = config_prompt_model(app->cfg);
    char why[200] = "";
    const struct enhancer_ops *ops = m ? enhancer_select(m, why, sizeof why) : NULL;
    if (!m) {
        unavailable(resp, "No model is configured for prompt enhancement (PROMPT_MODEL_INDEX).");
        goto out;
    }
    if (!ops) {
        unavailable(resp, why[0] ? why : "The configured enhancement model cannot chat.");
        goto out;
    }
    const struct quota_rule rule = {"enhance-ip", app->cfg->enhance_ip_limit, QUOTA_HOUR_MS, true};
    char taken[1][160];
    int n_taken = 0;
    long retry = 0;
    enum quota_verdict v = quota_take(app, req->client_addr, &rule, 1, &retry, taken, &n_taken);
    if (v == QUOTA_LIMITED) {
        error_rate_limited(resp, retry);
        goto out;
    }
    if (v == QUOTA_STORE_DOWN) {
        error_unavailable(resp, 5);
        goto out;
    }
    if (ops->is_local) {
        struct enhance_result *er = calloc(1, sizeof *er);
        char err[200] = "";
        if (!er)
            error_internal(resp);
        else if (ops->local(prompt, er, err, sizeof err) != 0)
            error_simple(resp, 502, "ENHANCE_FAILED", "The prompt enhancer failed", err);
        else
            respond_variants(app, prompt, er, resp);
        free(er);
    } else {
        start_remote(app, req, ops, m, prompt, resp);
    }
out:
    json_decref(body);
}
