/* Stability AI Stable Image: POST {root}/v2beta/stable-image/generate/{sd3|core|ultra} as
 * multipart/form-data, "Authorization: Bearer <key>", "Accept: application/json".
 * Docs: https://platform.stability.ai/docs/api-reference#tag/Generate
 *       (Stable Image Ultra, Stable Image Core, Stable Diffusion 3.5 endpoints)
 * The endpoint and model come from MODEL_N_ID (the original hard-coded sd3-large-turbo: §16
 * item 18): "core"/"stable-image-core" -> core, "ultra"/"stable-image-ultra" -> ultra, anything
 * else (e.g. "sd3.5-large") -> sd3 with model=<id>. Errors are JSON {id, name, errors[]}.
 * JSON answers are asked for because with "Accept: image/(any)" a filtered result arrives as a
 * blurred image whose only sign is a finish-reason header; the JSON body carries finish_reason
 * itself. Raw image bytes are still accepted in case a gateway ignores Accept. */
#include <string.h>

#include "providers/provider_util.h"

extern const struct provider_ops provider_stability;

#define LABEL "Stability"

/* The endpoint for a model id, and whether the id is sent as the `model` field. */
static const char *endpoint_for(const char *id, bool *send_model)
{
    *send_model = false;
    if (strcmp(id, "core") == 0 || strcmp(id, "stable-image-core") == 0) return "core";
    if (strcmp(id, "ultra") == 0 || strcmp(id, "stable-image-ultra") == 0) return "ultra";
    *send_model = id[0] && strcmp(id, "sd3") != 0;
    return "sd3";
}

static int stability_start(const struct provider_call *c, struct provider_step *out)
{
    if (pu_missing_key(c, out, LABEL)) return 0;
    char root[600], url[800];
    if (provider_root(&provider_stability, c->cfg, c->model, root, sizeof root) != 0) {
        provider_step_error(out, LABEL ": no API root");
        return 0;
    }
    bool send_model;
    const char *ep = endpoint_for(c->model->id, &send_model);
    snprintf(url, sizeof url, "%s/v2beta/stable-image/generate/%s", root, ep);

    struct pu_multipart mp;
    if (pu_multipart_init(&mp) != 0) return -1;
    int rc = pu_multipart_field(&mp, "prompt", c->prompt);
    if (rc == 0 && send_model) rc = pu_multipart_field(&mp, "model", c->model->id);
    if (rc == 0) rc = pu_multipart_field(&mp, "aspect_ratio", "1:1");
    if (rc == 0) rc = pu_multipart_field(&mp, "output_format", "png");
    if (rc == 0) rc = http_request_set(&out->req, "POST", url);
    if (rc == 0) rc = pu_multipart_finish(&mp, &out->req);
    pu_multipart_free(&mp);
    if (rc == 0) rc = http_request_add_header(&out->req, "Authorization: Bearer %s", c->model->key);
    if (rc == 0) rc = http_request_add_header(&out->req, "Accept: application/json");
    if (rc != 0) return -1;
    out->kind = STEP_REQUEST;
    return 0;
}

static int stability_on_response(const struct provider_call *c, const struct http_response *r,
                                 struct provider_step *out)
{
    if (!pu_status_ok(r)) {
        pu_fail_http(out, c, LABEL, r);
        return 0;
    }
    const char *ct = r->content_type ? r->content_type : "";
    if (strncmp(ct, "application/json", 16) != 0) return pu_image_from_bytes(c, out, LABEL, r);

    json_t *root = pu_json_parse(r);
    int rc = 0;
    const char *fr = pu_json_str(root, "finish_reason");
    const json_t *img = json_object_get(root, "image");
    if (fr && strcmp(fr, "SUCCESS") != 0)
        provider_step_error(out, LABEL ": no image (%.40s)", fr);
    else
        rc = pu_image_from_json_b64(c, out, LABEL, img);
    json_decref(root);
    return rc;
}

const struct provider_ops provider_stability = {
    .name = "stability",
    .default_root = "https://api.stability.ai",
    .start = stability_start,
    .on_response = stability_on_response,
};
