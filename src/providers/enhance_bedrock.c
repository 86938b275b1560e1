/* Enhancement through the Bedrock Converse API: POST {root}/model/{id}/converse, SigV4 service
 * "bedrock"; works with any Bedrock chat model id or inference profile (e.g. amazon.nova-lite-v1:0,
 * us.anthropic.claude-...).
 * Docs: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html
 *       https://docs.aws.amazon.com/bedrock/latest/userguide/conversation-inference.html
 * Response: output.message.content[].text; stopReason content_filtered/guardrail_intervened is
 * an error. */
#include <stdio.h>
#include <string.h>

#include "providers/enhancer.h"
#include "providers/provider_util.h"

#define LABEL "Enhancer"

static int converse_build(const struct provider_call *c, struct http_request *out, char *err,
                          size_t errlen)
{
    json_t *body =
        json_pack("{s:[{s:s, s:[{s:s}]}], s:[{s:s}], s:{s:i, s:f}}", "messages", "role", "user",
                  "content", "text", c->prompt, "system", "text", enhancer_system_prompt(),
                  "inferenceConfig", "maxTokens", 800, "temperature", 0.7);
    if (!body) return -1;
    int rc = pu_bedrock_build(c, "converse", body, out, err, errlen);
    json_decref(body);
    return rc;
}

static int converse_parse(const struct provider_call *c, const struct http_response *r,
                          struct enhance_result *out, char *err, size_t errlen)
{
    if (!pu_status_ok(r)) {
        pu_http_error_text(c, LABEL, r, err, errlen);
        return -1;
    }
    json_t *root = pu_json_parse(r);
    const char *stop = pu_json_str(root, "stopReason");
    const json_t *content =
        json_object_get(json_object_get(json_object_get(root, "output"), "message"), "content");
    struct buf text = BUF_INIT;
    size_t i;
    const json_t *block;
    json_array_foreach(content, i, block)
    {
        const char *t = pu_json_str(block, "text");
        if (t) buf_append_str(&text, t);
    }
    int rc = -1;
    if (!root)
        snprintf(err, errlen, LABEL ": the response is not JSON");
    else if (stop &&
             (strcmp(stop, "content_filtered") == 0 || strcmp(stop, "guardrail_intervened") == 0))
        snprintf(err, errlen, LABEL ": blocked by Bedrock (%.40s)", stop);
    else if (text.len == 0)
        snprintf(err, errlen, LABEL ": the answer has no text");
    else
        rc = enhancer_parse_text(text.data, text.len, out, err, errlen);
    buf_free(&text);
    json_decref(root);
    return rc;
}

const struct enhancer_ops enhancer_bedrock_converse = {
    .name = "bedrock_converse",
    .build = converse_build,
    .parse = converse_parse,
};
