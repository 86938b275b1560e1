/* POST /generate: validate, filter, take quota, create the job (idempotently), hand it over. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "app/config.h"
#include "app/errors.h"
#include "app/filter.h"
#include "app/job_factory.h"
#include "app/metrics.h"
#include "app/quota.h"
#include "app/routes.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/utf8.h"

#define IDEMPOTENCY_TTL_MS (24LL * 3600 * 1000)

/* Picks the models: all configured ones, or those named in "models" (in slot order). Returns
 * the count, or -1 with resp set. */
static int select_models(const struct config *cfg, const json_t *body,
                         const struct model_config *chosen[CONFIG_MAX_MODELS],
                         struct response *resp)
{
    const json_t *wanted = json_object_get(body, "models");
    int n = 0;
    if (!wanted || json_is_null(wanted)) {
        for (int i = 0; i < cfg->n_models; i++)
            chosen[n++] = &cfg->models[i];
        return n;
    }
    if (!json_is_array(wanted) || json_array_size(wanted) == 0) {
        error_simple(resp, 400, "INVALID_MODELS",
                     "\"models\" must be a non-empty array of model ids",
                     "GET /models lists the models this server offers.");
        return -1;
    }
    size_t i;
    const json_t *v;
    json_array_foreach(wanted, i, v)
    {
        if (!json_is_string(v)) {
            error_simple(resp, 400, "INVALID_MODELS", "\"models\" must contain only strings", NULL);
            return -1;
        }
        if (!config_model_by_id(cfg, json_string_value(v))) {
            error_unknown_model(resp, json_string_value(v));
            return -1;
        }
    }
    for (int m = 0; m < cfg->n_models; m++) {
        json_array_foreach(wanted, i, v)
        {
            if (strcmp(json_string_value(v), cfg->models[m].id) == 0) {
                chosen[n++] = &cfg->models[m];
                break;
            }
        }
    }
    return n;
}

static void idempotency_key(struct app *app, const struct request *req, char out[65], bool *has)
{
    const char *header = req->header ? req->header(req, "Idempotency-Key") : NULL;
    *has = header && *header;
    if (!*has) return;
    /* Same key from another client is another request: hash both together. */
    char composed[64 + 300];
    snprintf(composed, sizeof composed, "%s\n%.256s", req->client_addr, header);
    quota_client_hash(app, composed, out);
}

static void respond_created(struct response *resp, const char *job_id,
                            const struct model_config *const *models, int n, bool replayed)
{
    json_t *o = json_object();
    json_t *list = json_array();
    for (int i = 0; i < n && list; i++) {
        json_t *m = json_object();
        json_object_set_new(m, "id", json_string(models[i]->id));
        json_object_set_new(m, "name", json_string(models[i]->name));
        json_object_set_new(m, "provider", json_string(models[i]->provider));
        json_array_append_new(list, m);
    }
    json_object_set_new(o, "jobId", json_string(job_id));
    json_object_set_new(o, "message", json_string("Job created successfully"));
    json_object_set_new(o, "totalModels", json_integer(n));
    json_object_set_new(o, "models", list);
    if (replayed) json_object_set_new(o, "replayed", json_true());
    if (response_json(resp, 200, o) != 0) error_internal(resp);
}

/* A replayed Idempotency-Key answers with the original job's own model list. */
static void respond_replay(struct app *app, struct response *resp, const char *job_id)
{
    struct job job;
    int rc = store_get_job(app->store, job_id, &job);
    if (rc != STORE_OK) {
        respond_store_error(resp, rc, job_id);
        return;
    }
    const struct model_config *models[CONFIG_MAX_MODELS];
    int n = 0;
    for (int i = 0; i < job.n_results && n < CONFIG_MAX_MODELS; i++) {
        const struct model_config *m = config_model_by_id(app->cfg, job.results[i].model);
        if (m) models[n++] = m;
    }
    respond_created(resp, job_id, models, n, true);
    job_clear(&job);
}

void handle_generate(struct app *app, const struct request *req, const struct route_params *params,
                     struct response *resp)
{
    (void)params;
    json_t *body = request_json_object(app, req, resp);
    if (!body) return;
    const struct model_config *models[CONFIG_MAX_MODELS];
    const char *prompt = request_prompt(body, PROMPT_MAX_CODEPOINTS, resp);
    int n = prompt ? select_models(app->cfg, body, models, resp) : -1;
    if (!prompt || n < 0) goto out;
    if (n == 0) {
        error_no_models(resp);
        goto out;
    }
    /* The filter runs before the quota so a refused prompt costs nothing. */
    const char *term = NULL;
    if (filter_blocks(app->filter, prompt, &term)) {
        log_emit(LOG_INFO, req->correlation_id, "prompt refused by content filter", NULL);
        error_inappropriate(resp);
        goto out;
    }
    const struct quota_rule rules[] = {
        {"generate-ip", app->cfg->ip_limit, QUOTA_DAY_MS, true},
        {"generate-global", app->cfg->global_limit, QUOTA_HOUR_MS, false},
    };
    char taken[2][160];
    int n_taken = 0;
    long retry_after = 0;
    enum quota_verdict v =
        quota_take(app, req->client_addr, rules, 2, &retry_after, taken, &n_taken);
    if (v == QUOTA_STORE_DOWN) {
        error_unavailable(resp, 5);
        goto out;
    }
    if (v == QUOTA_LIMITED) {
        error_rate_limited(resp, retry_after);
        goto out;
    }

    struct job job;
    if (job_build(app->cfg, prompt, models, n, &job) != 0) {
        quota_give_back(app, taken, n_taken);
        error_internal(resp);
        goto out;
    }
    char idem[65];
    bool has_idem = false;
    idempotency_key(app, req, idem, &has_idem);
    char existing[ID_LEN + 1] = "";
    int rc =
        store_create_job(app->store, &job, has_idem ? idem : NULL, IDEMPOTENCY_TTL_MS, existing);
    if (rc == STORE_EXISTS) {
        quota_give_back(app, taken, n_taken);
        respond_replay(app, resp, existing);
    } else if (rc != STORE_OK) {
        quota_give_back(app, taken, n_taken);
        respond_store_error(resp, rc == STORE_NOT_FOUND ? STORE_UNAVAILABLE : rc, NULL);
    } else if (app->start_job(app->start_job_ctx, &job) != 0) {
        /* Nothing will run it: finish every result now so the job is never stuck. */
        for (int i = 0; i < job.n_results; i++) {
            struct result r = job.results[i];
            r.status = RS_ERROR;
            r.completed_ms = clock_wall_ms();
            snprintf(r.error, sizeof r.error, "the server is shutting down");
            store_update_result(app->store, job.id, &r, RS_UNFINISHED);
        }
        error_unavailable(resp, 5);
    } else {
        metrics_job_created();
        json_t *fields = json_pack("{s:s, s:i}", "jobId", job.id, "models", n);
        log_emit(LOG_INFO, req->correlation_id, "job created", fields);
        json_decref(fields);
        respond_created(resp, job.id, models, n, false);
    }
    job_clear(&job);
out:
    json_decref(body);
}
