/* Imagen on the Gemini API: POST {root}/models/{id}:predict with
 * {"instances":[{"prompt"}], "parameters":{"sampleCount":1}}; key in x-goog-api-key.
 * Docs: https://ai.google.dev/gemini-api/docs/imagen
 *       https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/imagen-api
 * The image is predictions[0].bytesBase64Encoded. A filtered prompt or image yields no
 * predictions at all, which becomes a clear error. The configured id is honoured (the original
 * hard-coded imagen-3.0-generate-002: §16 item 18). */
#include <stdlib.h>
#include <string.h>

#include "providers/provider_util.h"

extern const struct provider_ops provider_imagen;

#define LABEL "Imagen"

static int imagen_start(const struct provider_call *c, struct provider_step *out)
{
    if (pu_missing_key(c, out, LABEL)) return 0;
    char root[600], url[900];
    if (provider_root(&provider_imagen, c->cfg, c->model, root, sizeof root) != 0) {
        provider_step_error(out, LABEL ": no API root");
        return 0;
    }
    const char *id = c->model->id;
    if (strncmp(id, "models/", 7) == 0) id += 7;
    char *seg = pu_url_segment(id);
    if (!seg) return -1;
    snprintf(url, sizeof url, "%s/models/%s:predict", root, seg);
    free(seg);

    json_t *body = json_pack("{s:[{s:s}], s:{s:i}}", "instances", "prompt", c->prompt, "parameters",
                             "sampleCount", 1);
    if (!body) return -1;
    int rc = pu_json_request(&out->req, url, body);
    json_decref(body);
    if (rc != 0 || http_request_add_header(&out->req, "x-goog-api-key: %s", c->model->key))
        return -1;
    out->kind = STEP_REQUEST;
    return 0;
}

static int imagen_on_response(const struct provider_call *c, const struct http_response *r,
                              struct provider_step *out)
{
    json_t *root = pu_json_answer(c, r, out, LABEL);
    if (!root) return 0;
    int rc = 0;
    const json_t *pred = json_array_get(json_object_get(root, "predictions"), 0);
    const json_t *b64 = json_object_get(pred, "bytesBase64Encoded");
    const char *rai = pu_json_str(pred, "raiFilteredReason");
    if (json_is_string(b64) && json_string_length(b64) > 0) {
        rc = pu_image_from_base64(c, out, LABEL, json_string_value(b64), json_string_length(b64));
    } else if (rai) {
        char why[PU_MSG_MAX * 4];
        pu_sanitize(rai, strlen(rai), NULL, PU_MSG_MAX, why, sizeof why);
        provider_step_error(out, LABEL ": the image was filtered (%s)", why);
    } else {
        provider_step_error(out, LABEL ": no image returned (the prompt or the image was "
                                       "filtered by the provider's safety checks)");
    }
    json_decref(root);
    return rc;
}

const struct provider_ops provider_imagen = {
    .name = "imagen",
    .default_root = "https://generativelanguage.googleapis.com/v1beta",
    .start = imagen_start,
    .on_response = imagen_on_response,
};
