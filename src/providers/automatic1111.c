/* AUTOMATIC1111 stable-diffusion-webui API (also Forge and SD.Next), started with --api:
 * POST {MODEL_N_BASE_URL}/sdapi/v1/txt2img {prompt, steps, width, height}; the answer is
 * {"images": [base64 PNG...], "parameters": {...}, "info": "..."}.
 * Docs: https://github.com/AUTOMATIC1111/stable-diffusion-webui/wiki/API
 *       (the server's own schema at {root}/docs)
 * The base URL is required. MODEL_N_KEY is optional: "user:password" (the --api-auth form)
 * becomes HTTP Basic auth, anything else a Bearer token for a proxy in front. MODEL_N_ID, when
 * set, picks the checkpoint (a title or name from /sdapi/v1/sd-models) through
 * override_settings.sd_model_checkpoint; leave it empty to use whatever is loaded. */
#include <string.h>

#include "providers/provider_util.h"

extern const struct provider_ops provider_automatic1111;

#define LABEL "AUTOMATIC1111"

static int a1111_auth(const struct provider_call *c, struct http_request *req)
{
    const char *key = c->model->key;
    if (!key[0]) return 0;
    if (!strchr(key, ':')) return http_request_add_header(req, "Authorization: Bearer %s", key);
    struct buf b = BUF_INIT;
    int rc = pu_base64_encode(key, strlen(key), &b);
    if (rc == 0) rc = http_request_add_header(req, "Authorization: Basic %s", b.data);
    buf_free(&b);
    return rc;
}

static int a1111_start(const struct provider_call *c, struct provider_step *out)
{
    char root[600], url[700];
    if (provider_root(&provider_automatic1111, c->cfg, c->model, root, sizeof root) != 0 ||
        !root[0]) {
        provider_step_error(out, LABEL ": no base URL configured (MODEL_%d_BASE_URL)",
                            c->model->slot);
        return 0;
    }
    snprintf(url, sizeof url, "%s/sdapi/v1/txt2img", root);
    json_t *body = json_pack("{s:s, s:i, s:i, s:i, s:i}", "prompt", c->prompt, "steps", 20, "width",
                             1024, "height", 1024, "batch_size", 1);
    if (!body) return -1;
    if (c->model->id[0]) {
        /* Keep the checkpoint loaded afterwards: restoring it would reload weights per job. */
        json_object_set_new(body, "override_settings",
                            json_pack("{s:s}", "sd_model_checkpoint", c->model->id));
        json_object_set_new(body, "override_settings_restore_afterwards", json_false());
    }
    int rc = pu_json_request(&out->req, url, body);
    json_decref(body);
    if (rc != 0 || a1111_auth(c, &out->req) != 0) return -1;
    out->kind = STEP_REQUEST;
    return 0;
}

static int a1111_on_response(const struct provider_call *c, const struct http_response *r,
                             struct provider_step *out)
{
    json_t *root = pu_json_answer(c, r, out, LABEL);
    if (!root) return 0;
    const json_t *img = json_array_get(json_object_get(root, "images"), 0);
    int rc = pu_image_from_json_b64(c, out, LABEL, img);
    json_decref(root);
    return rc;
}

const struct provider_ops provider_automatic1111 = {
    .name = "automatic1111",
    .default_root = NULL,
    .start = a1111_start,
    .on_response = a1111_on_response,
};
