/* Fuzz target: the Lambda front door's API Gateway HTTP API v2.0 event decoding
 * (lambda_is_http_event, lambda_http_decode), then what answer_http does with the request:
 * router_handle against a real app (fuzz_app.h) and lambda_http_encode of the response.
 * The input is the event text, parsed as lambda.c parses it. Use
 * -dict=tests/fuzz/fuzz_lambda_event.dict. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "app/app.h"
#include "app/config.h"
#include "front/lambda.h"
#include "fuzz_app.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct app *app = fuzz_app();
    json_error_t jerr;
    json_t *event = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
    if (!event) return 0;
    if (!lambda_is_http_event(event)) {
        json_decref(event);
        return 0;
    }
    struct lambda_http_event ev;
    /* A small limit, so inputs the fuzzer can reach hit the "too large" paths as well. */
    if (lambda_http_decode(event, 2048, &ev) != 0) {
        json_decref(event);
        return 0;
    }
    json_decref(event); /* ev owns copies of everything it needs */
    const struct request *req = &ev.req;
    /* The lookups the handlers use. */
    (void)req->header(req, "content-type");
    (void)req->header(req, "Cookie");
    (void)req->query(req, "limit");
    (void)req->query(req, "cursor");

    struct response resp;
    response_init(&resp);
    router_handle(app, req, &resp);
    json_t *doc = lambda_http_encode(&resp);
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    free(text);
    json_decref(doc);
    fuzz_finish_response(&resp);
    lambda_http_event_clear(&ev);
    return 0;
}
