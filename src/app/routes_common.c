/* Helpers every handler shares: JSON bodies, public blob URLs, store errors. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "app/config.h"
#include "app/errors.h"
#include "app/routes.h"
#include "store/store.h"
#include "util/utf8.h"

json_t *request_json_object(const struct app *app, const struct request *req, struct response *resp)
{
    if (req->body_too_large || req->body_len > app->cfg->max_body_bytes) {
        error_payload_too_large(resp, app->cfg->max_body_bytes);
        return NULL;
    }
    if (!req->body || req->body_len == 0) {
        error_invalid_json(resp, "the request body is empty");
        return NULL;
    }
    if (!utf8_is_valid(req->body, req->body_len)) {
        error_invalid_json(resp, "the request body is not valid UTF-8");
        return NULL;
    }
    json_error_t jerr;
    /* Duplicate keys are ambiguous: refuse them rather than guess which one wins. */
    json_t *doc =
        json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!doc) {
        char why[200];
        snprintf(why, sizeof why, "%.120s at line %d, column %d", jerr.text, jerr.line,
                 jerr.column);
        error_invalid_json(resp, why);
        return NULL;
    }
    if (!json_is_object(doc)) {
        json_decref(doc);
        error_invalid_json(resp, "the request body must be a JSON object");
        return NULL;
    }
    return doc;
}

void app_blob_url(void *ctx, const char *key, char *out, size_t outlen)
{
    const struct app *app = ctx;
    const struct config *cfg = app->cfg;
    if (cfg->public_base_url[0]) {
        size_t n = strlen(cfg->public_base_url);
        bool slash = n > 0 && cfg->public_base_url[n - 1] == '/';
        snprintf(out, outlen, "%s%s%s", cfg->public_base_url, slash ? "" : "/", key);
    } else if (cfg->cloudfront_domain[0]) {
        snprintf(out, outlen, "https://%s/%s", cfg->cloudfront_domain, key);
    } else {
        snprintf(out, outlen, "/%s", key);
    }
}

void respond_store_error(struct response *resp, int store_rc, const char *job_id)
{
    switch (store_rc) {
    case STORE_NOT_FOUND:
    case STORE_INVALID:
        error_job_not_found(resp, job_id ? job_id : "");
        break;
    case STORE_UNAVAILABLE:
        error_unavailable(resp, 5);
        break;
    default:
        error_internal(resp);
        break;
    }
}

static bool is_blank(const char *s)
{
    for (; *s; s++)
        if (!isspace((unsigned char)*s)) return false;
    return true;
}

const char *request_prompt(const json_t *body, int max_codepoints, struct response *resp)
{
    const json_t *p = json_object_get(body, "prompt");
    if (!p || json_is_null(p) || json_is_false(p) ||
        (json_is_string(p) && json_string_length(p) == 0)) {
        error_prompt_required(resp);
        return NULL;
    }
    if (!json_is_string(p)) {
        error_prompt_not_string(resp);
        return NULL;
    }
    const char *prompt = json_string_value(p);
    size_t len = json_string_length(p);
    if (strlen(prompt) != len) { /* an embedded NUL (\u0000) */
        error_simple(resp, 400, "INVALID_PROMPT", "Prompt must not contain NUL characters", NULL);
        return NULL;
    }
    if (is_blank(prompt)) {
        error_prompt_required(resp);
        return NULL;
    }
    if (utf8_codepoints(prompt, len) > (size_t)max_codepoints) {
        error_prompt_too_long(resp, max_codepoints);
        return NULL;
    }
    return prompt;
}
