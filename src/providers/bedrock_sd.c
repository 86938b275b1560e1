/* Stable Diffusion 3.5 Large on Bedrock: InvokeModel, POST {root}/model/{id}/invoke, SigV4
 * service "bedrock".
 * Docs:
 * https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-diffusion-3-5-large.html
 *       https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_InvokeModel.html
 * Body {prompt, mode "text-to-image", aspect_ratio "1:1", output_format "png"}; response
 * {"seeds":[...], "finish_reasons":[null | "Filter reason: ..."], "images":[base64]}. A non-null
 * finish reason means the request or the image was filtered. */
#include <string.h>

#include "providers/provider_util.h"

#define LABEL "Bedrock SD"

static int sd_start(const struct provider_call *c, struct provider_step *out)
{
    json_t *body = json_pack("{s:s, s:s, s:s, s:s}", "prompt", c->prompt, "mode", "text-to-image",
                             "aspect_ratio", "1:1", "output_format", "png");
    if (!body) return -1;
    int rc = pu_bedrock_invoke_step(c, LABEL, body, out);
    json_decref(body);
    return rc;
}

static int sd_on_response(const struct provider_call *c, const struct http_response *r,
                          struct provider_step *out)
{
    json_t *root = pu_json_answer(c, r, out, LABEL);
    if (!root) return 0;
    int rc = 0;
    const json_t *reason = json_array_get(json_object_get(root, "finish_reasons"), 0);
    const json_t *img = json_array_get(json_object_get(root, "images"), 0);
    if (reason && !json_is_null(reason)) {
        char why[PU_MSG_MAX * 4] = "unknown reason";
        const char *s = json_string_value(reason);
        if (s) pu_sanitize(s, strlen(s), NULL, PU_MSG_MAX, why, sizeof why);
        provider_step_error(out, LABEL ": no image (%s)", why);
    } else {
        rc = pu_image_from_json_b64(c, out, LABEL, img);
    }
    json_decref(root);
    return rc;
}

const struct provider_ops provider_bedrock_sd = {
    .name = "bedrock_sd",
    .default_root = "https://bedrock-runtime.{region}.amazonaws.com",
    .start = sd_start,
    .on_response = sd_on_response,
};
