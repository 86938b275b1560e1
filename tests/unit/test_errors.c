/* Unit tests for src/app/errors.c: every error body byte for byte (the original's codes and texts,
 * reference/original-backend.md §2.6), statuses, and the Retry-After header. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "app/errors.h"
#include "app/http_types.h"

static struct response resp;

static int fresh(void **state)
{
    (void)state;
    response_init(&resp);
    return 0;
}

static int clear(void **state)
{
    (void)state;
    response_clear(&resp);
    return 0;
}

static void expect(int status, const char *body)
{
    assert_int_equal(resp.status, status);
    assert_string_equal(resp.content_type, "application/json");
    assert_non_null(resp.body.data);
    assert_int_equal(resp.body.len, strlen(body));
    assert_memory_equal(resp.body.data, body, resp.body.len);
    /* ... and it is valid JSON. */
    json_t *j = json_loadb(resp.body.data, resp.body.len, 0, NULL);
    assert_non_null(j);
    json_decref(j);
    response_clear(&resp);
    response_init(&resp);
}

static void invalid_json(void **state)
{
    (void)state;
    error_invalid_json(&resp, NULL);
    expect(400, "{\"error\":\"INVALID_JSON\",\"message\":\"Invalid JSON in request body\","
                "\"details\":\"The request body contains invalid JSON. Please check the format "
                "and try again.\"}");
    error_invalid_json(&resp, "the request body is empty");
    expect(400, "{\"error\":\"INVALID_JSON\",\"message\":\"Invalid JSON in request body\","
                "\"details\":\"The request body contains invalid JSON. Please check the format "
                "and try again.\",\"reason\":\"the request body is empty\"}");
}

static void prompt_errors(void **state)
{
    (void)state;
    error_prompt_required(&resp);
    expect(400, "{\"error\":\"PROMPT_REQUIRED\",\"message\":\"Prompt is required\","
                "\"details\":\"Please provide a text prompt to generate images.\"}");
    error_prompt_not_string(&resp);
    expect(400, "{\"error\":\"PROMPT_REQUIRED\",\"message\":\"Prompt must be a string\","
                "\"details\":\"Please provide the prompt as a JSON string.\"}");
    error_prompt_too_long(&resp, 1000);
    expect(400, "{\"error\":\"PROMPT_TOO_LONG\",\"message\":\"Prompt is too long (maximum 1000 "
                "characters)\",\"details\":\"Please shorten your prompt to 1000 characters or "
                "less.\",\"maxLength\":1000}");
    error_prompt_too_long(&resp, 500);
    expect(400, "{\"error\":\"PROMPT_TOO_LONG\",\"message\":\"Prompt is too long (maximum 500 "
                "characters)\",\"details\":\"Please shorten your prompt to 500 characters or "
                "less.\",\"maxLength\":500}");
    error_inappropriate(&resp);
    expect(400, "{\"error\":\"INAPPROPRIATE_CONTENT\",\"message\":\"Your prompt contains "
                "inappropriate content and cannot be processed.\",\"details\":\"Please revise "
                "your prompt to remove inappropriate content.\"}");
}

static void job_not_found(void **state)
{
    (void)state;
    error_job_not_found(&resp, "0190a3b4-0000-7000-8000-000000000000");
    expect(404, "{\"error\":\"JOB_NOT_FOUND\",\"message\":\"Job not found\",\"details\":\"The job "
                "with ID '0190a3b4-0000-7000-8000-000000000000' could not be found. It may have "
                "expired.\",\"jobId\":\"0190a3b4-0000-7000-8000-000000000000\"}");
    /* Whatever arrives is clipped to 40 bytes and escaped, never echoed whole. */
    char long_id[300];
    memset(long_id, 'a', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    error_job_not_found(&resp, long_id);
    assert_int_equal(resp.status, 404);
    json_t *j = json_loadb(resp.body.data, resp.body.len, 0, NULL);
    assert_non_null(j);
    assert_int_equal(strlen(json_string_value(json_object_get(j, "jobId"))), 40);
    json_decref(j);
    response_clear(&resp);
    response_init(&resp);
    error_job_not_found(&resp, "\"<script>\\");
    assert_int_equal(resp.status, 404);
    j = json_loadb(resp.body.data, resp.body.len, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "jobId")), "\"<script>\\");
    json_decref(j);
    /* An id cut inside a multi-byte character is still a JSON body, never a 500 without one. */
    response_clear(&resp);
    response_init(&resp);
    char cut[64];
    memset(cut, 'a', 39);
    memcpy(cut + 39, "\xc3\xa9\xc3\xa9", 5);
    error_job_not_found(&resp, cut);
    assert_int_equal(resp.status, 404);
    j = json_loadb(resp.body.data, resp.body.len, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "error")), "JOB_NOT_FOUND");
    json_decref(j);
}

static void rate_limited(void **state)
{
    (void)state;
    struct {
        long retry;
        const char *message;
    } cases[] = {
        {3600, "Rate limit exceeded. Please try again in 60 minutes."},
        {86400, "Rate limit exceeded. Please try again in 1440 minutes."},
        {61, "Rate limit exceeded. Please try again in 2 minutes."},
        {60, "Rate limit exceeded. Please try again in 1 minute."},
        {119, "Rate limit exceeded. Please try again in 2 minutes."},
        {59, "Rate limit exceeded. Please try again in 59 seconds."},
        {2, "Rate limit exceeded. Please try again in 2 seconds."},
        {1, "Rate limit exceeded. Please try again in 1 second."},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        error_rate_limited(&resp, cases[i].retry);
        char header[32], body[400];
        snprintf(header, sizeof header, "%ld", cases[i].retry);
        assert_string_equal(response_header(&resp, "Retry-After"), header);
        snprintf(body, sizeof body,
                 "{\"error\":\"RATE_LIMIT_EXCEEDED\",\"message\":\"%s\",\"details\":\"Too many "
                 "requests. Please wait and try again.\",\"retryAfter\":%ld}",
                 cases[i].message, cases[i].retry);
        expect(429, body);
    }
}

static void payload_and_models(void **state)
{
    (void)state;
    error_payload_too_large(&resp, 65536);
    expect(413, "{\"error\":\"PAYLOAD_TOO_LARGE\",\"message\":\"Request body is too large (maximum "
                "65536 bytes)\",\"maxBytes\":65536}");
    error_unknown_model(&resp, "dall-e-4");
    expect(400, "{\"error\":\"UNKNOWN_MODEL\",\"message\":\"Unknown model 'dall-e-4'\","
                "\"details\":\"GET /models lists the models this server offers.\","
                "\"model\":\"dall-e-4\"}");
    /* A long name is clipped on a code point boundary: the body stays valid UTF-8 JSON. */
    char name[400] = "";
    for (int i = 0; i < 150; i++)
        strcat(name, "\xc3\xa9");
    error_unknown_model(&resp, name);
    assert_int_equal(resp.status, 400);
    json_t *j = json_loadb(resp.body.data, resp.body.len, 0, NULL);
    assert_non_null(j);
    assert_int_equal(strlen(json_string_value(json_object_get(j, "model"))), 120);
    json_decref(j);
    response_clear(&resp);
    response_init(&resp);
    error_no_models(&resp);
    expect(503, "{\"error\":\"NO_MODELS_CONFIGURED\",\"message\":\"No image models are "
                "configured\",\"details\":\"Set MODEL_1_PROVIDER and MODEL_1_ID (see "
                "docs/CONFIGURATION.md).\"}");
}

static void unavailable_internal_and_routes(void **state)
{
    (void)state;
    error_unavailable(&resp, 5);
    assert_string_equal(response_header(&resp, "Retry-After"), "5");
    expect(503, "{\"error\":\"SERVICE_UNAVAILABLE\",\"message\":\"Service temporarily "
                "unavailable\",\"details\":\"Storage is not answering. Please try again "
                "shortly.\",\"retryAfter\":5}");
    error_internal(&resp);
    expect(500, "{\"error\":\"INTERNAL_SERVER_ERROR\",\"message\":\"Internal server error\"}");
    error_not_found_route(&resp, "/nope", "PUT");
    expect(404, "{\"error\":\"Not found\",\"path\":\"/nope\",\"method\":\"PUT\"}");
    /* A path that is not UTF-8 still gives a JSON body. */
    error_not_found_route(&resp, "/\xff\xfe", "GET");
    expect(404, "{\"error\":\"Not found\",\"path\":\"\",\"method\":\"GET\"}");
    error_method_not_allowed(&resp, "GET, POST");
    assert_string_equal(response_header(&resp, "Allow"), "GET, POST");
    expect(405, "{\"error\":\"METHOD_NOT_ALLOWED\",\"message\":\"Method not allowed for this "
                "path\"}");
    error_simple(&resp, 418, "TEAPOT", "short and stout", NULL);
    expect(418, "{\"error\":\"TEAPOT\",\"message\":\"short and stout\"}");
    error_simple(&resp, 400, "X", "m", "d");
    expect(400, "{\"error\":\"X\",\"message\":\"m\",\"details\":\"d\"}");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(invalid_json, fresh, clear),
        cmocka_unit_test_setup_teardown(prompt_errors, fresh, clear),
        cmocka_unit_test_setup_teardown(job_not_found, fresh, clear),
        cmocka_unit_test_setup_teardown(rate_limited, fresh, clear),
        cmocka_unit_test_setup_teardown(payload_and_models, fresh, clear),
        cmocka_unit_test_setup_teardown(unavailable_internal_and_routes, fresh, clear),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
