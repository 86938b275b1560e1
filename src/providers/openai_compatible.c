/* Any server speaking the OpenAI Images API (LocalAI, stable-diffusion.cpp's server, gateways):
 * POST {MODEL_N_BASE_URL}/images/generations; the answer may carry `url` or `b64_json`.
 * Docs: https://platform.openai.com/docs/api-reference/images/create
 *       https://localai.io/features/image-generation/
 * No response_format is sent: servers differ in what they accept, and both answers are read.
 * The key is optional (local servers often have none); the base URL is required. */
#include <string.h>

#include "providers/provider_util.h"

extern const struct provider_ops provider_openai_compatible;

#define LABEL "OpenAI-compatible"

static int compat_start(const struct provider_call *c, struct provider_step *out)
{
    char root[600], url[700];
    if (provider_root(&provider_openai_compatible, c->cfg, c->model, root, sizeof root) != 0 ||
        !root[0]) {
        provider_step_error(out, LABEL ": no base URL configured (MODEL_%d_BASE_URL)",
                            c->model->slot);
        return 0;
    }
    snprintf(url, sizeof url, "%s/images/generations", root);
    json_t *body = json_pack("{s:s, s:i, s:s}", "prompt", c->prompt, "n", 1, "size", "1024x1024");
    if (!body) return -1;
    if (c->model->id[0]) json_object_set_new(body, "model", json_string(c->model->id));
    int rc = pu_json_request(&out->req, url, body);
    json_decref(body);
    if (rc != 0) return -1;
    if (c->model->key[0] &&
        http_request_add_header(&out->req, "Authorization: Bearer %s", c->model->key) != 0)
        return -1;
    out->kind = STEP_REQUEST;
    return 0;
}

static int compat_on_response(const struct provider_call *c, const struct http_response *r,
                              struct provider_step *out)
{
    if (pu_state_is_download(c->state)) return pu_on_download(c, r, out, LABEL);
    return pu_openai_images_result(c, r, out, LABEL);
}

const struct provider_ops provider_openai_compatible = {
    .name = "openai_compatible",
    .default_root = NULL,
    .start = compat_start,
    .on_response = compat_on_response,
};
