/* GET /models, GET /healthz, GET /metrics. */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "app/config.h"
#include "app/errors.h"
#include "app/metrics.h"
#include "app/routes.h"
#include "blob/blob.h"
#include "providers/provider.h"
#include "store/store.h"

void handle_models(struct app *app, const struct request *req, const struct route_params *params,
                   struct response *resp)
{
    (void)req;
    (void)params;
    const struct config *cfg = app->cfg;
    json_t *models = json_array();
    for (int i = 0; i < cfg->n_models; i++) {
        const struct model_config *m = &cfg->models[i];
        const struct provider_ops *ops = provider_find(m->provider);
        json_t *o = json_object();
        json_object_set_new(o, "id", json_string(m->id));
        json_object_set_new(o, "name", json_string(m->name));
        json_object_set_new(o, "provider", json_string(m->provider));
        json_object_set_new(o, "index", json_integer(m->slot));
        json_object_set_new(o, "demo", json_boolean(ops && ops->is_demo));
        json_array_append_new(models, o);
    }
    const struct model_config *pm = config_prompt_model(cfg);
    json_t *enhancer = json_object();
    json_object_set_new(enhancer, "available", json_boolean(pm != NULL));
    json_object_set_new(enhancer, "provider", pm ? json_string(pm->provider) : json_null());
    json_object_set_new(enhancer, "model", pm ? json_string(pm->id) : json_null());
    json_object_set_new(enhancer, "index", json_integer(cfg->prompt_model_index));
    json_t *o = json_object();
    json_object_set_new(o, "models", models);
    json_object_set_new(o, "enhancer", enhancer);
    json_object_set_new(o, "limits",
                        json_pack("{s:i, s:i}", "promptMaxLength", PROMPT_MAX_CODEPOINTS,
                                  "enhanceMaxLength", ENHANCE_MAX_CODEPOINTS));
    if (response_json(resp, 200, o) != 0) error_internal(resp);
}

void handle_healthz(struct app *app, const struct request *req, const struct route_params *params,
                    struct response *resp)
{
    (void)req;
    (void)params;
    int s = store_ping(app->store);
    int b = blob_ping(app->blob);
    bool ok = s == STORE_OK && b == BLOB_OK;
    json_t *o = json_object();
    json_object_set_new(o, "status", json_string(ok ? "ok" : "unavailable"));
    json_object_set_new(o, "version", json_string(PP_VERSION));
    json_object_set_new(o, "store", json_string(s == STORE_OK ? "ok" : store_strerror(s)));
    json_object_set_new(o, "blobs", json_string(b == BLOB_OK ? "ok" : blob_strerror(b)));
    json_object_set_new(o, "models", json_integer(app->cfg->n_models));
    if (response_json(resp, ok ? 200 : 503, o) != 0) error_internal(resp);
    if (!ok) response_set_header(resp, "Retry-After", "5");
    response_set_header(resp, "Cache-Control", "no-store");
}

void handle_metrics(struct app *app, const struct request *req, const struct route_params *params,
                    struct response *resp)
{
    (void)app;
    (void)req;
    (void)params;
    if (metrics_render(&resp->body) != 0) {
        error_internal(resp);
        return;
    }
    resp->status = 200;
    snprintf(resp->content_type, sizeof resp->content_type, "text/plain; version=0.0.4");
}
