/* Amazon Nova Canvas on Bedrock: InvokeModel, POST {root}/model/{id}/invoke, SigV4 service
 * "bedrock" (the engine signs with the configured AWS credentials).
 * Docs: https://docs.aws.amazon.com/nova/latest/userguide/image-gen-req-resp-structure.html
 *       https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_InvokeModel.html
 * Body: TEXT_IMAGE task, one 1024x1024 image, cfgScale 6.5 (the documented default, inside the
 * documented 1.1-10 range; the original passed a client value through unchecked: §16 item 22).
 * Response: {"images": [base64...], "error": "..."}. The region comes from AWS_REGION, not a
 * hard-coded us-east-1. */
#include <string.h>

#include "providers/provider_util.h"

#define LABEL "Bedrock Nova"

static int nova_start(const struct provider_call *c, struct provider_step *out)
{
    json_t *body = json_pack("{s:s, s:{s:s}, s:{s:i, s:i, s:i, s:f}}", "taskType", "TEXT_IMAGE",
                             "textToImageParams", "text", c->prompt, "imageGenerationConfig",
                             "numberOfImages", 1, "width", 1024, "height", 1024, "cfgScale", 6.5);
    if (!body) return -1;
    int rc = pu_bedrock_invoke_step(c, LABEL, body, out);
    json_decref(body);
    return rc;
}

static int nova_on_response(const struct provider_call *c, const struct http_response *r,
                            struct provider_step *out)
{
    json_t *root = pu_json_answer(c, r, out, LABEL);
    if (!root) return 0;
    int rc = 0;
    const char *error = pu_json_str(root, "error");
    const json_t *img = json_array_get(json_object_get(root, "images"), 0);
    if (error) {
        char why[PU_MSG_MAX * 4];
        pu_sanitize(error, strlen(error), NULL, PU_MSG_MAX, why, sizeof why);
        provider_step_error(out, LABEL ": %s", why);
    } else {
        rc = pu_image_from_json_b64(c, out, LABEL, img);
    }
    json_decref(root);
    return rc;
}

const struct provider_ops provider_bedrock_nova = {
    .name = "bedrock_nova",
    .default_root = "https://bedrock-runtime.{region}.amazonaws.com",
    .start = nova_start,
    .on_response = nova_on_response,
};
