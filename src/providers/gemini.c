/* Gemini native image output: POST {root}/models/{id}:generateContent with
 * generationConfig.responseModalities ["TEXT","IMAGE"]; the key goes in x-goog-api-key.
 * Docs: https://ai.google.dev/gemini-api/docs/image-generation
 *       https://ai.google.dev/api/generate-content (GenerateContentResponse, PromptFeedback,
 *       FinishReason)
 * The image is the first candidates[0].content.parts[] with inlineData (REST, camelCase) or
 * inline_data (some gateways). A blocked prompt or answer is an error that names the reason
 * (the original crashed with an AttributeError text). */
#include <stdlib.h>
#include <string.h>

#include "providers/provider_util.h"

extern const struct provider_ops provider_gemini;

#define LABEL "Gemini"

static int gemini_start(const struct provider_call *c, struct provider_step *out)
{
    if (pu_missing_key(c, out, LABEL)) return 0;
    char root[600], url[900];
    if (provider_root(&provider_gemini, c->cfg, c->model, root, sizeof root) != 0) {
        provider_step_error(out, LABEL ": no API root");
        return 0;
    }
    const char *id = c->model->id;
    if (strncmp(id, "models/", 7) == 0) id += 7; /* accept the resource-name form too */
    char *seg = pu_url_segment(id);
    if (!seg) return -1;
    snprintf(url, sizeof url, "%s/models/%s:generateContent", root, seg);
    free(seg);

    json_t *body =
        json_pack("{s:[{s:s, s:[{s:s}]}], s:{s:[s,s]}}", "contents", "role", "user", "parts",
                  "text", c->prompt, "generationConfig", "responseModalities", "TEXT", "IMAGE");
    if (!body) return -1;
    int rc = pu_json_request(&out->req, url, body);
    json_decref(body);
    if (rc != 0 || http_request_add_header(&out->req, "x-goog-api-key: %s", c->model->key))
        return -1;
    out->kind = STEP_REQUEST;
    return 0;
}

/* The base64 data of the first image part, or NULL. */
static const json_t *find_image(const json_t *cand)
{
    const json_t *parts = json_object_get(json_object_get(cand, "content"), "parts");
    size_t i;
    const json_t *part;
    json_array_foreach(parts, i, part)
    {
        const json_t *inl = json_object_get(part, "inlineData");
        if (!inl) inl = json_object_get(part, "inline_data");
        const json_t *data = json_object_get(inl, "data");
        const char *mime = pu_json_str(inl, "mimeType");
        if (!mime) mime = pu_json_str(inl, "mime_type");
        if (json_is_string(data) && json_string_length(data) > 0 &&
            (!mime || strncmp(mime, "image/", 6) == 0))
            return data;
    }
    return NULL;
}

static int gemini_on_response(const struct provider_call *c, const struct http_response *r,
                              struct provider_step *out)
{
    json_t *root = pu_json_answer(c, r, out, LABEL);
    if (!root) return 0;
    int rc = 0;
    const char *prompt_block = pu_json_str(json_object_get(root, "promptFeedback"), "blockReason");
    const json_t *cand = json_array_get(json_object_get(root, "candidates"), 0);
    const json_t *img = cand ? find_image(cand) : NULL;
    const char *block = pu_gemini_block_reason(root);
    if (prompt_block) {
        provider_step_error(out, LABEL ": the prompt was blocked (%.40s)", prompt_block);
    } else if (img) {
        rc = pu_image_from_base64(c, out, LABEL, json_string_value(img), json_string_length(img));
    } else if (block) {
        provider_step_error(out, LABEL ": the image was blocked (%.40s)", block);
    } else if (!cand) {
        provider_step_error(out, LABEL ": no candidates in the response");
    } else {
        const char *fr = pu_json_str(cand, "finishReason");
        if (fr && strcmp(fr, "STOP") != 0)
            provider_step_error(out, LABEL ": no image in the response (finishReason %.40s)", fr);
        else
            provider_step_error(out, LABEL ": the model answered with text only, no image");
    }
    json_decref(root);
    return rc;
}

const struct provider_ops provider_gemini = {
    .name = "gemini",
    .default_root = "https://generativelanguage.googleapis.com/v1beta",
    .start = gemini_start,
    .on_response = gemini_on_response,
};
