/* Unit tests for the pure parts of the cloud code: util/aws.c (endpoints, canonical query order,
 * encodings), front/lambda.c's API Gateway v2 mapping, util/emf.c. The network parts run against
 * moto and a fake Runtime API in tests/integration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "app/config.h"
#include "front/lambda.h"
#include "util/aws.h"
#include "util/emf.h"

static void query_is_sorted_and_encoded(void **state)
{
    (void)state;
    struct buf q = BUF_INIT;
    assert_int_equal(aws_query_add(&q, "prefix", "a b/c"), 0);
    assert_int_equal(aws_query_add(&q, "list-type", "2"), 0);
    assert_int_equal(aws_query_add(&q, "continuation-token", "x/y+z=~"), 0);
    assert_string_equal(q.data, "continuation-token=x%2Fy%2Bz%3D~&list-type=2&prefix=a%20b%2Fc");
    buf_free(&q);
    /* by name first ("a" before "a-b" although '-' < '='), then by value; valueless as "x=" */
    assert_int_equal(aws_query_add(&q, "a-b", "1"), 0);
    assert_int_equal(aws_query_add(&q, "a", "2"), 0);
    assert_int_equal(aws_query_add(&q, "a", "1"), 0);
    assert_int_equal(aws_query_add(&q, "uploads", ""), 0);
    assert_string_equal(q.data, "a=1&a=2&a-b=1&uploads=");
    buf_free(&q);

    struct buf e = BUF_INIT;
    assert_int_equal(aws_uri_encode(&e, "images/x y/\xc3\xa9~", true), 0);
    assert_string_equal(e.data, "images/x%20y/%C3%A9~");
    buf_free(&e);
}

static void base64_round_trips(void **state)
{
    (void)state;
    const char *samples[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar", "\xff\xfe\x00\x01"};
    size_t lens[] = {0, 1, 2, 3, 4, 5, 6, 4};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        for (int url = 0; url < 2; url++) {
            struct buf enc = BUF_INIT, dec = BUF_INIT;
            assert_int_equal(aws_base64_encode(&enc, samples[i], lens[i], url), 0);
            assert_non_null(enc.data);
            assert_int_equal(aws_base64_decode(&dec, enc.data, enc.len), 0);
            assert_int_equal(dec.len, lens[i]);
            if (lens[i]) assert_memory_equal(dec.data, samples[i], lens[i]);
            buf_free(&enc);
            buf_free(&dec);
        }
    }
    struct buf b = BUF_INIT;
    assert_int_equal(aws_base64_encode(&b, "foobar", 6, false), 0);
    assert_string_equal(b.data, "Zm9vYmFy");
    buf_reset(&b);
    assert_int_equal(aws_base64_encode(&b, "\xfb\xff", 2, true), 0);
    assert_string_equal(b.data, "-_8");
    buf_reset(&b);
    assert_int_equal(aws_base64_decode(&b, "a", 1), -1);
    assert_int_equal(aws_base64_decode(&b, "ab!c", 4), -1);
    buf_free(&b);
}

static void endpoints_follow_the_sdk_convention(void **state)
{
    (void)state;
    static struct config cfg;
    memset(&cfg, 0, sizeof cfg);
    char out[200];
    bool custom = true;
    snprintf(cfg.aws_region, sizeof cfg.aws_region, "eu-west-1");
    assert_int_equal(aws_endpoint(&cfg, AWS_DYNAMODB, out, sizeof out, &custom), 0);
    assert_string_equal(out, "https://dynamodb.eu-west-1.amazonaws.com");
    assert_false(custom);
    assert_int_equal(aws_endpoint(&cfg, AWS_BEDROCK_RUNTIME, out, sizeof out, NULL), 0);
    assert_string_equal(out, "https://bedrock-runtime.eu-west-1.amazonaws.com");
    assert_string_equal(aws_signing_name(AWS_BEDROCK_RUNTIME), "bedrock");
    snprintf(cfg.endpoint_s3, sizeof cfg.endpoint_s3, "http://127.0.0.1:9000//");
    assert_int_equal(aws_endpoint(&cfg, AWS_S3, out, sizeof out, &custom), 0);
    assert_string_equal(out, "http://127.0.0.1:9000");
    assert_true(custom);
    assert_int_equal(aws_endpoint(&cfg, AWS_LAMBDA, out, 10, NULL), -1); /* too small */
    assert_int_equal(aws_sigv4_param("eu-west-1", "s3", out, sizeof out), 0);
    assert_string_equal(out, "aws:amz:eu-west-1:s3");
    char sha[65];
    aws_sha256_hex("", 0, sha);
    assert_string_equal(sha, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_true(aws_error_is_throttling("ProvisionedThroughputExceededException"));
    assert_false(aws_error_is_throttling("ConditionalCheckFailedException"));
}

static json_t *event(const char *json)
{
    json_error_t e;
    json_t *v = json_loads(json, 0, &e);
    assert_non_null(v);
    return v;
}

static void apigw_v2_decodes(void **state)
{
    (void)state;
    json_t *ev =
        event("{\"version\":\"2.0\",\"rawPath\":\"/prod/generate\","
              "\"rawQueryString\":\"a=1&b=x%20y&b=2&c+d=e+f&bad=%zz\","
              "\"headers\":{\"Content-Type\":\"application/json\",\"x-correlation-id\":\"abc-1\"},"
              "\"cookies\":[\"s=1\",\"t=2\"],"
              "\"requestContext\":{\"http\":{\"method\":\"post\",\"sourceIp\":\"198.51.100.4\"}},"
              "\"body\":\"eyJwcm9tcHQiOiJmb3gifQ==\",\"isBase64Encoded\":true}");
    struct lambda_http_event le;
    assert_true(lambda_is_http_event(ev));
    assert_int_equal(lambda_http_decode(ev, 1000, &le), 0);
    const struct request *r = &le.req;
    assert_string_equal(r->method, "POST");
    assert_string_equal(r->path, "/prod/generate");
    assert_string_equal(r->client_addr, "198.51.100.4");
    assert_string_equal(r->correlation_id, "abc-1");
    assert_int_equal(r->body_len, 16);
    assert_memory_equal(r->body, "{\"prompt\":\"fox\"}", 16);
    assert_false(r->body_too_large);
    assert_string_equal(r->header(r, "content-type"), "application/json");
    assert_string_equal(r->header(r, "Cookie"), "s=1; t=2");
    assert_null(r->header(r, "authorization"));
    assert_string_equal(r->query(r, "a"), "1");
    assert_string_equal(r->query(r, "b"), "x y"); /* the first value */
    assert_string_equal(r->query(r, "c d"), "e f");
    assert_string_equal(r->query(r, "bad"), "%zz");
    lambda_http_event_clear(&le);
    json_decref(ev);

    /* too large, plain text body, generated correlation id */
    ev = event(
        "{\"version\":\"2.0\",\"rawPath\":\"/log\",\"headers\":{\"x-correlation-id\":\"a b\"},"
        "\"requestContext\":{\"http\":{\"method\":\"POST\",\"sourceIp\":\"::1\"}},"
        "\"body\":\"0123456789\",\"isBase64Encoded\":false}");
    assert_int_equal(lambda_http_decode(ev, 5, &le), 0);
    assert_true(le.req.body_too_large);
    assert_int_equal(le.req.body_len, 0);
    assert_int_equal(strlen(le.req.correlation_id), 36);
    lambda_http_event_clear(&le);
    json_decref(ev);

    /* not v2 */
    ev = event("{\"version\":\"1.0\",\"httpMethod\":\"GET\",\"path\":\"/\"}");
    assert_false(lambda_is_http_event(ev));
    assert_int_equal(lambda_http_decode(ev, 5, &le), -1);
    json_decref(ev);
    ev = event("{\"pixelprompt\":\"run-job\",\"jobId\":\"x\"}");
    assert_false(lambda_is_http_event(ev));
    json_decref(ev);
}

static void apigw_v2_encodes(void **state)
{
    (void)state;
    struct response r;
    response_init(&r);
    r.status = 201;
    snprintf(r.content_type, sizeof r.content_type, "application/json");
    buf_append_str(&r.body, "{\"ok\":\"caf\xc3\xa9\"}");
    response_set_header(&r, "X-Correlation-ID", "c1");
    response_set_header(&r, "Set-Cookie", "a=1; Path=/");
    json_t *doc = lambda_http_encode(&r);
    assert_non_null(doc);
    assert_int_equal(json_integer_value(json_object_get(doc, "statusCode")), 201);
    assert_false(json_is_true(json_object_get(doc, "isBase64Encoded")));
    assert_string_equal(json_string_value(json_object_get(doc, "body")),
                        "{\"ok\":\"caf\xc3\xa9\"}");
    json_t *h = json_object_get(doc, "headers");
    assert_string_equal(json_string_value(json_object_get(h, "content-type")), "application/json");
    assert_string_equal(json_string_value(json_object_get(h, "X-Correlation-ID")), "c1");
    assert_null(json_object_get(h, "Set-Cookie"));
    assert_string_equal(json_string_value(json_array_get(json_object_get(doc, "cookies"), 0)),
                        "a=1; Path=/");
    json_decref(doc);
    response_clear(&r);

    response_init(&r);
    snprintf(r.content_type, sizeof r.content_type, "image/png");
    static const unsigned char png[] = {0x89, 'P', 'N', 'G', 0, 1};
    r.static_body = png;
    r.static_len = sizeof png;
    doc = lambda_http_encode(&r);
    assert_true(json_is_true(json_object_get(doc, "isBase64Encoded")));
    assert_string_equal(json_string_value(json_object_get(doc, "body")), "iVBORwAB");
    json_decref(doc);
    r.static_body = NULL;
    r.status = 204;
    r.content_type[0] = '\0';
    doc = lambda_http_encode(&r); /* empty: plain "" */
    assert_false(json_is_true(json_object_get(doc, "isBase64Encoded")));
    assert_string_equal(json_string_value(json_object_get(doc, "body")), "");
    json_decref(doc);
    response_clear(&r);
}

static void emf_lines_are_valid(void **state)
{
    (void)state;
    struct result res[2];
    memset(res, 0, sizeof res);
    struct job job = {.id = "01900000-0000-7000-8000-000000000000",
                      .prompt = "p",
                      .created_ms = 1000,
                      .updated_ms = 5000,
                      .n_results = 2,
                      .results = res};
    res[0].index = 1;
    snprintf(res[0].model, sizeof res[0].model, "demo-a");
    res[0].status = RS_COMPLETED;
    res[0].duration_ms = 1234;
    res[0].completed_ms = 3000;
    res[1].index = 2;
    snprintf(res[1].model, sizeof res[1].model, "demo-b");
    res[1].status = RS_ERROR;
    res[1].completed_ms = 4000;
    char *line = emf_model_line(3000, job.id, &res[0]);
    json_t *o = json_loads(line, 0, NULL);
    assert_non_null(o);
    json_t *cw =
        json_array_get(json_object_get(json_object_get(o, "_aws"), "CloudWatchMetrics"), 0);
    assert_string_equal(json_string_value(json_object_get(cw, "Namespace")), "PixelPrompt");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "_aws"), "Timestamp")),
                     3000);
    assert_string_equal(json_string_value(json_object_get(o, "Model")), "demo-a");
    assert_string_equal(json_string_value(json_object_get(o, "Outcome")), "completed");
    assert_int_equal(json_integer_value(json_object_get(o, "ModelLatency")), 1234);
    /* every metric and dimension named has a value in the line */
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(cw, "Metrics"), i, m)
        assert_non_null(json_object_get(o, json_string_value(json_object_get(m, "Name"))));
    json_decref(o);
    free(line);
    line = emf_job_line(5000, &job);
    o = json_loads(line, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(o, "Status")), "partial");
    assert_int_equal(json_integer_value(json_object_get(o, "JobDuration")), 3000);
    assert_int_equal(json_integer_value(json_object_get(o, "ImagesCompleted")), 1);
    json_decref(o);
    free(line);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(query_is_sorted_and_encoded),
        cmocka_unit_test(base64_round_trips),
        cmocka_unit_test(endpoints_follow_the_sdk_convention),
        cmocka_unit_test(apigw_v2_decodes),
        cmocka_unit_test(apigw_v2_encodes),
        cmocka_unit_test(emf_lines_are_valid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
