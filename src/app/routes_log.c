/* POST /log: client-side errors into the server log, bounded and rate limited. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "app/config.h"
#include "app/errors.h"
#include "app/quota.h"
#include "app/routes.h"
#include "util/log.h"
#include "util/utf8.h"

#define LOG_MESSAGE_MAX 2000
#define LOG_STACK_MAX 8000
#define LOG_METADATA_KEYS_MAX 30
#define LOG_METADATA_VALUE_MAX 500

static void bad_log(struct response *resp, const char *message)
{
    error_simple(resp, 400, "INVALID_LOG", message,
                 "Send {\"level\": \"ERROR|WARNING|INFO|DEBUG\", \"message\": \"...\"}.");
}

static json_t *clipped_string(const char *s, size_t max)
{
    size_t n = utf8_truncate(s, strlen(s), max);
    return json_stringn(s, n);
}

/* Copies at most LOG_METADATA_KEYS_MAX entries; long strings are clipped, nested values are
 * serialised and clipped, so a client cannot flood the log. */
static json_t *bounded_metadata(const json_t *in)
{
    json_t *out = json_object();
    const char *k;
    const json_t *v;
    int n = 0;
    json_object_foreach((json_t *)in, k, v)
    {
        if (n++ >= LOG_METADATA_KEYS_MAX) break;
        char key[64];
        size_t kl = utf8_truncate(k, strlen(k), sizeof key - 1);
        memcpy(key, k, kl);
        key[kl] = '\0';
        if (json_is_string(v)) {
            json_object_set_new(out, key,
                                clipped_string(json_string_value(v), LOG_METADATA_VALUE_MAX));
        } else if (json_is_number(v) || json_is_boolean(v) || json_is_null(v)) {
            json_object_set(out, key, (json_t *)v);
        } else {
            char *text = json_dumps(v, JSON_COMPACT);
            json_object_set_new(out, key, clipped_string(text ? text : "", LOG_METADATA_VALUE_MAX));
            free(text);
        }
    }
    return out;
}

void handle_log(struct app *app, const struct request *req, const struct route_params *params,
                struct response *resp)
{
    (void)params;
    json_t *body = request_json_object(app, req, resp);
    if (!body) return;
    const json_t *level_v = json_object_get(body, "level");
    const json_t *message_v = json_object_get(body, "message");
    const json_t *stack_v = json_object_get(body, "stack");
    const json_t *meta_v = json_object_get(body, "metadata");
    enum log_level level;
    if (!json_is_string(level_v) || !json_string_length(level_v)) {
        bad_log(resp, "Field 'level' is required");
    } else if (log_level_parse(json_string_value(level_v), &level) != 0) {
        bad_log(resp, "Invalid log level. Must be one of: ERROR, WARNING, INFO, DEBUG");
    } else if (!json_is_string(message_v) || !json_string_length(message_v)) {
        bad_log(resp, "Field 'message' is required");
    } else if (stack_v && !json_is_null(stack_v) && !json_is_string(stack_v)) {
        bad_log(resp, "Field 'stack' must be a string");
    } else if (meta_v && !json_is_null(meta_v) && !json_is_object(meta_v)) {
        bad_log(resp, "Field 'metadata' must be an object");
    } else {
        const struct quota_rule rule = {"log-ip", app->cfg->log_ip_limit, QUOTA_HOUR_MS, true};
        char taken[1][160];
        int n_taken = 0;
        long retry = 0;
        enum quota_verdict v = quota_take(app, req->client_addr, &rule, 1, &retry, taken, &n_taken);
        if (v == QUOTA_LIMITED) {
            error_rate_limited(resp, retry);
        } else if (v == QUOTA_STORE_DOWN) {
            error_unavailable(resp, 5);
        } else {
            json_t *fields = json_object();
            char client[65];
            quota_client_hash(app, req->client_addr, client);
            json_object_set_new(fields, "source", json_string("client"));
            json_object_set_new(fields, "clientHash", json_stringn(client, 16));
            if (json_is_string(stack_v))
                json_object_set_new(fields, "stack",
                                    clipped_string(json_string_value(stack_v), LOG_STACK_MAX));
            if (json_is_object(meta_v))
                json_object_set_new(fields, "metadata", bounded_metadata(meta_v));
            json_t *msg = clipped_string(json_string_value(message_v), LOG_MESSAGE_MAX);
            log_emit(level, req->correlation_id, json_string_value(msg), fields);
            json_decref(msg);
            json_decref(fields);
            json_t *o =
                json_pack("{s:b, s:s}", "success", 1, "message", "Log received successfully");
            if (response_json(resp, 200, o) != 0) error_internal(resp);
        }
    }
    json_decref(body);
}
