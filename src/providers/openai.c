/* OpenAI Images API: POST {root}/images/generations.
 * Docs: https://platform.openai.com/docs/api-reference/images/create
 *       https://platform.openai.com/docs/guides/image-generation
 * DALL-E models return a URL by default (we ask for "url" and download it); the GPT image models
 * always return b64_json and reject response_format, so each family gets only the parameters it
 * accepts (the original sent quality "standard" and read only `url`: §16 item 21). */
#include <stdlib.h>
#include <string.h>

#include "providers/provider_util.h"

extern const struct provider_ops provider_openai;

#define LABEL "OpenAI"

static bool is_dalle(const char *id)
{
    return strncmp(id, "dall-e", 6) == 0;
}

static int openai_start(const struct provider_call *c, struct provider_step *out)
{
    if (pu_missing_key(c, out, LABEL)) return 0;
    char root[600], url[700];
    if (provider_root(&provider_openai, c->cfg, c->model, root, sizeof root) != 0) {
        provider_step_error(out, LABEL ": no API root");
        return 0;
    }
    snprintf(url, sizeof url, "%s/images/generations", root);

    json_t *body = json_pack("{s:s, s:s, s:i, s:s}", "model", c->model->id, "prompt", c->prompt,
                             "n", 1, "size", "1024x1024");
    if (!body) return -1;
    if (is_dalle(c->model->id)) json_object_set_new(body, "response_format", json_string("url"));
    int rc = pu_json_request(&out->req, url, body);
    json_decref(body);
    if (rc != 0 || http_request_add_header(&out->req, "Authorization: Bearer %s", c->model->key))
        return -1;
    out->kind = STEP_REQUEST;
    return 0;
}

static int openai_on_response(const struct provider_call *c, const struct http_response *r,
                              struct provider_step *out)
{
    if (pu_state_is_download(c->state)) return pu_on_download(c, r, out, LABEL);
    return pu_openai_images_result(c, r, out, LABEL);
}

const struct provider_ops provider_openai = {
    .name = "openai",
    .default_root = "https://api.openai.com/v1",
    .start = openai_start,
    .on_response = openai_on_response,
};
