#include "app/errors.h"

#include "util/utf8.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

static json_t *error_body(const char *code, const char *message, const char *details)
{
    json_t *o = json_object();
    if (!o) return NULL;
    json_object_set_new(o, "error", json_string(code));
    json_object_set_new(o, "message", json_string(message));
    if (details) json_object_set_new(o, "details", json_string(details));
    return o;
}

static void send(struct response *resp, int status, json_t *body)
{
    if (!body || response_json(resp, status, body) != 0) {
        /* Out of memory while building an error: a fixed body still gets out. */
        resp->status = 500;
        buf_reset(&resp->body);
        buf_append_str(
            &resp->body,
            "{\"error\":\"INTERNAL_SERVER_ERROR\",\"message\":\"Internal server error\"}");
    }
}

void error_simple(struct response *resp, int status, const char *code, const char *message,
                  const char *details)
{
    send(resp, status, error_body(code, message, details));
}

void error_invalid_json(struct response *resp, const char *why)
{
    json_t *o = error_body("INVALID_JSON", "Invalid JSON in request body",
                           "The request body contains invalid JSON. Please check the format and "
                           "try again.");
    if (o && why) json_object_set_new(o, "reason", json_string(why));
    send(resp, 400, o);
}

void error_prompt_required(struct response *resp)
{
    error_simple(resp, 400, "PROMPT_REQUIRED", "Prompt is required",
                 "Please provide a text prompt to generate images.");
}

void error_prompt_not_string(struct response *resp)
{
    error_simple(resp, 400, "PROMPT_REQUIRED", "Prompt must be a string",
                 "Please provide the prompt as a JSON string.");
}

void error_prompt_too_long(struct response *resp, int max_length)
{
    char msg[96], details[128];
    snprintf(msg, sizeof msg, "Prompt is too long (maximum %d characters)", max_length);
    snprintf(details, sizeof details, "Please shorten your prompt to %d characters or less.",
             max_length);
    json_t *o = error_body("PROMPT_TOO_LONG", msg, details);
    if (o) json_object_set_new(o, "maxLength", json_integer(max_length));
    send(resp, 400, o);
}

void error_inappropriate(struct response *resp)
{
    error_simple(resp, 400, "INAPPROPRIATE_CONTENT",
                 "Your prompt contains inappropriate content and cannot be processed.",
                 "Please revise your prompt to remove inappropriate content.");
}

void error_job_not_found(struct response *resp, const char *job_id)
{
    char details[160];
    /* The id is echoed only after validation elsewhere; clip whatever arrives. */
    snprintf(details, sizeof details,
             "The job with ID '%.40s' could not be found. It may have expired.", job_id);
    json_t *o = error_body("JOB_NOT_FOUND", "Job not found", details);
    if (o) {
        char id[41];
        snprintf(id, sizeof id, "%.40s", job_id);
        json_t *s = json_string(id);
        json_object_set_new(o, "jobId", s ? s : json_string(""));
    }
    send(resp, 404, o);
}

void error_rate_limited(struct response *resp, long retry_after_s)
{
    long minutes = (retry_after_s + 59) / 60;
    char msg[128], header[32];
    if (retry_after_s < 60)
        snprintf(msg, sizeof msg, "Rate limit exceeded. Please try again in %ld second%s.",
                 retry_after_s, retry_after_s == 1 ? "" : "s");
    else
        snprintf(msg, sizeof msg, "Rate limit exceeded. Please try again in %ld minute%s.", minutes,
                 minutes == 1 ? "" : "s");
    json_t *o =
        error_body("RATE_LIMIT_EXCEEDED", msg, "Too many requests. Please wait and try again.");
    if (o) json_object_set_new(o, "retryAfter", json_integer(retry_after_s));
    send(resp, 429, o);
    snprintf(header, sizeof header, "%ld", retry_after_s);
    response_set_header(resp, "Retry-After", header);
}

void error_payload_too_large(struct response *resp, size_t max_bytes)
{
    char msg[128];
    snprintf(msg, sizeof msg, "Request body is too large (maximum %zu bytes)", max_bytes);
    json_t *o = error_body("PAYLOAD_TOO_LARGE", msg, NULL);
    if (o) json_object_set_new(o, "maxBytes", json_integer((json_int_t)max_bytes));
    send(resp, 413, o);
}

void error_unknown_model(struct response *resp, const char *model)
{
    char msg[200];
    /* Clip on a code point boundary so the message stays valid UTF-8. */
    int n = (int)utf8_truncate(model, strlen(model), 120);
    snprintf(msg, sizeof msg, "Unknown model '%.*s'", n, model);
    json_t *o =
        error_body("UNKNOWN_MODEL", msg, "GET /models lists the models this server offers.");
    if (o) json_object_set_new(o, "model", json_stringn(model, (size_t)n));
    send(resp, 400, o);
}

void error_no_models(struct response *resp)
{
    error_simple(resp, 503, "NO_MODELS_CONFIGURED", "No image models are configured",
                 "Set MODEL_1_PROVIDER and MODEL_1_ID (see docs/CONFIGURATION.md).");
}

void error_unavailable(struct response *resp, long retry_after_s)
{
    char header[32];
    json_t *o = error_body("SERVICE_UNAVAILABLE", "Service temporarily unavailable",
                           "Storage is not answering. Please try again shortly.");
    if (o) json_object_set_new(o, "retryAfter", json_integer(retry_after_s));
    send(resp, 503, o);
    snprintf(header, sizeof header, "%ld", retry_after_s);
    response_set_header(resp, "Retry-After", header);
}

void error_internal(struct response *resp)
{
    error_simple(resp, 500, "INTERNAL_SERVER_ERROR", "Internal server error", NULL);
}

void error_not_found_route(struct response *resp, const char *path, const char *method)
{
    json_t *o = json_object();
    if (o) {
        json_object_set_new(o, "error", json_string("Not found"));
        json_t *p = json_string(path);
        json_object_set_new(o, "path", p ? p : json_string(""));
        json_t *m = json_string(method);
        json_object_set_new(o, "method", m ? m : json_string(""));
    }
    send(resp, 404, o);
}

void error_method_not_allowed(struct response *resp, const char *allow)
{
    error_simple(resp, 405, "METHOD_NOT_ALLOWED", "Method not allowed for this path", NULL);
    response_set_header(resp, "Allow", allow);
}
