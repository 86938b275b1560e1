/* Enhancement through OpenAI-compatible chat completions: POST {root}/chat/completions.
 * Works for OpenAI, any openai_compatible base URL (LocalAI, vLLM, Ollama's /v1, gateways).
 * Docs: https://platform.openai.com/docs/api-reference/chat/create
 *       https://platform.openai.com/docs/guides/reasoning (reasoning models take
 *       max_completion_tokens and no temperature)
 * Only parameters the model family accepts are sent: reasoning models (o1/o3/o4, gpt-5) get
 * max_completion_tokens and no temperature; OpenAI's other models max_completion_tokens with
 * JSON mode; other servers the widely supported max_tokens + temperature. */
#include <stdio.h>
#include <string.h>

#include "providers/enhancer.h"
#include "providers/provider_util.h"

#define LABEL "Enhancer"

static bool is_reasoning(const char *id)
{
    return strncmp(id, "gpt-5", 5) == 0 || (id[0] == 'o' && id[1] >= '1' && id[1] <= '9');
}

static int chat_build(const struct provider_call *c, struct http_request *out, char *err,
                      size_t errlen)
{
    const struct model_config *m = c->model;
    bool openai = strcmp(m->provider, "openai") == 0;
    char root[600], url[700];
    if (pu_root(m->provider, c, root, sizeof root) != 0) {
        snprintf(err, errlen, "no base URL configured for the enhancement model");
        return 1;
    }
    if (openai && !m->key[0]) {
        snprintf(err, errlen, "no API key configured for the enhancement model");
        return 1;
    }
    snprintf(url, sizeof url, "%s/chat/completions", root);
    json_t *body =
        json_pack("{s:s, s:[{s:s, s:s}, {s:s, s:s}]}", "model", m->id, "messages", "role", "system",
                  "content", enhancer_system_prompt(), "role", "user", "content", c->prompt);
    if (!body) return -1;
    if (openai && is_reasoning(m->id)) {
        json_object_set_new(body, "max_completion_tokens", json_integer(2000));
    } else if (openai) {
        json_object_set_new(body, "max_completion_tokens", json_integer(600));
        json_object_set_new(body, "temperature", json_real(0.7));
    } else {
        json_object_set_new(body, "max_tokens", json_integer(600));
        json_object_set_new(body, "temperature", json_real(0.7));
    }
    if (openai)
        json_object_set_new(body, "response_format", json_pack("{s:s}", "type", "json_object"));
    int rc = pu_json_request(out, url, body);
    json_decref(body);
    if (rc != 0) return -1;
    if (m->key[0] && http_request_add_header(out, "Authorization: Bearer %s", m->key) != 0)
        return -1;
    return 0;
}

static int chat_parse(const struct provider_call *c, const struct http_response *r,
                      struct enhance_result *out, char *err, size_t errlen)
{
    if (!pu_status_ok(r)) {
        pu_http_error_text(c, LABEL, r, err, errlen);
        return -1;
    }
    json_t *root = pu_json_parse(r);
    const json_t *choice = json_array_get(json_object_get(root, "choices"), 0);
    const json_t *msg = json_object_get(choice, "message");
    const json_t *content = json_object_get(msg, "content");
    const char *finish = pu_json_str(choice, "finish_reason");
    int rc = -1;
    struct buf text = BUF_INIT;
    if (json_is_string(content)) {
        buf_append_str(&text, json_string_value(content));
    } else if (json_is_array(content)) { /* some servers answer with content parts */
        size_t i;
        const json_t *part;
        json_array_foreach(content, i, part)
        {
            const char *t = pu_json_str(part, "text");
            if (t) buf_append_str(&text, t);
        }
    }
    if (!root) {
        snprintf(err, errlen, LABEL ": the response is not JSON");
    } else if (pu_json_str(msg, "refusal")) {
        snprintf(err, errlen, LABEL ": the model refused the prompt");
    } else if (finish && strcmp(finish, "content_filter") == 0) {
        snprintf(err, errlen, LABEL ": the answer was blocked by the content filter");
    } else if (text.len == 0) {
        snprintf(err, errlen, LABEL ": the answer has no text");
    } else {
        rc = enhancer_parse_text(text.data, text.len, out, err, errlen);
    }
    buf_free(&text);
    json_decref(root);
    return rc;
}

const struct enhancer_ops enhancer_chat_completions = {
    .name = "chat_completions",
    .build = chat_build,
    .parse = chat_parse,
};
