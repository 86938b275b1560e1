/* Recraft: POST {root}/images/generations with the configured model (the original hard-coded
 * "recraftv3" and ignored both the id and the base URL: §16 item 18).
 * Docs: https://www.recraft.ai/docs/api-reference/endpoints
 *       https://www.recraft.ai/docs/api-reference/usage
 * The answer is OpenAI-shaped: data[0].url (downloaded) or data[0].b64_json. */
#include <string.h>

#include "providers/provider_util.h"

extern const struct provider_ops provider_recraft;

#define LABEL "Recraft"

static int recraft_start(const struct provider_call *c, struct provider_step *out)
{
    if (pu_missing_key(c, out, LABEL)) return 0;
    char root[600], url[700];
    if (provider_root(&provider_recraft, c->cfg, c->model, root, sizeof root) != 0) {
        provider_step_error(out, LABEL ": no API root");
        return 0;
    }
    snprintf(url, sizeof url, "%s/images/generations", root);
    json_t *body = json_pack("{s:s, s:s, s:s, s:i}", "prompt", c->prompt, "model", c->model->id,
                             "size", "1024x1024", "n", 1);
    if (!body) return -1;
    int rc = pu_json_request(&out->req, url, body);
    json_decref(body);
    if (rc != 0 || http_request_add_header(&out->req, "Authorization: Bearer %s", c->model->key))
        return -1;
    out->kind = STEP_REQUEST;
    return 0;
}

static int recraft_on_response(const struct provider_call *c, const struct http_response *r,
                               struct provider_step *out)
{
    if (pu_state_is_download(c->state)) return pu_on_download(c, r, out, LABEL);
    return pu_openai_images_result(c, r, out, LABEL);
}

const struct provider_ops provider_recraft = {
    .name = "recraft",
    .default_root = "https://external.api.recraft.ai/v1",
    .start = recraft_start,
    .on_response = recraft_on_response,
};
