/* Enhancement through Gemini generateContent (text only): POST {root}/models/{id}:generateContent
 * with systemInstruction and a JSON response MIME type; key in x-goog-api-key.
 * Docs: https://ai.google.dev/api/generate-content
 *       https://ai.google.dev/gemini-api/docs/text-generation (system instructions)
 *       https://ai.google.dev/gemini-api/docs/structured-output (responseMimeType) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/enhancer.h"
#include "providers/provider_util.h"

#define LABEL "Enhancer"

static int gemini_build(const struct provider_call *c, struct http_request *out, char *err,
                        size_t errlen)
{
    const struct model_config *m = c->model;
    char root[600], url[900];
    if (pu_root("gemini", c, root, sizeof root) != 0) {
        snprintf(err, errlen, "no API root for the enhancement model");
        return 1;
    }
    if (!m->key[0]) {
        snprintf(err, errlen, "no API key configured for the enhancement model");
        return 1;
    }
    const char *id = strncmp(m->id, "models/", 7) == 0 ? m->id + 7 : m->id;
    char *seg = pu_url_segment(id);
    if (!seg) return -1;
    snprintf(url, sizeof url, "%s/models/%s:generateContent", root, seg);
    free(seg);
    json_t *body = json_pack(
        "{s:{s:[{s:s}]}, s:[{s:s, s:[{s:s}]}], s:{s:f, s:s}}", "systemInstruction", "parts", "text",
        enhancer_system_prompt(), "contents", "role", "user", "parts", "text", c->prompt,
        "generationConfig", "temperature", 0.7, "responseMimeType", "application/json");
    if (!body) return -1;
    int rc = pu_json_request(out, url, body);
    json_decref(body);
    if (rc != 0 || http_request_add_header(out, "x-goog-api-key: %s", m->key) != 0) return -1;
    return 0;
}

static int gemini_parse(const struct provider_call *c, const struct http_response *r,
                        struct enhance_result *out, char *err, size_t errlen)
{
    if (!pu_status_ok(r)) {
        pu_http_error_text(c, LABEL, r, err, errlen);
        return -1;
    }
    json_t *root = pu_json_parse(r);
    const char *block = root ? pu_gemini_block_reason(root) : NULL;
    const json_t *cand = json_array_get(json_object_get(root, "candidates"), 0);
    const json_t *parts = json_object_get(json_object_get(cand, "content"), "parts");
    struct buf text = BUF_INIT;
    size_t i;
    const json_t *part;
    json_array_foreach(parts, i, part)
    {
        const char *t = pu_json_str(part, "text");
        if (t && !json_is_true(json_object_get(part, "thought"))) buf_append_str(&text, t);
    }
    int rc = -1;
    if (!root)
        snprintf(err, errlen, LABEL ": the response is not JSON");
    else if (block)
        snprintf(err, errlen, LABEL ": blocked by Gemini (%.40s)", block);
    else if (text.len == 0)
        snprintf(err, errlen, LABEL ": the answer has no text");
    else
        rc = enhancer_parse_text(text.data, text.len, out, err, errlen);
    buf_free(&text);
    json_decref(root);
    return rc;
}

const struct enhancer_ops enhancer_gemini = {
    .name = "gemini",
    .build = gemini_build,
    .parse = gemini_parse,
};
