/* One outbound HTTP transfer on a curl easy handle: set-up from a struct http_request (headers,
 * body, SigV4, HTTP/2, timeouts, a size cap) and the captured response. Used only by the engine's
 * I/O thread. The transfer owns the easy handle, the header list and the received bytes. */
#ifndef PP_ENGINE_TRANSFER_H
#define PP_ENGINE_TRANSFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "app/config.h"
#include "providers/provider.h"
#include "util/buf.h"

struct transfer {
    CURL *easy;
    struct curl_slist *headers;
    struct buf body;
    char content_type[128];
    char retry_after[64];
    size_t max_bytes;
    bool too_large;
    char curl_error[CURL_ERROR_SIZE];
};

/* Prepares t for req (borrowed: it must outlive the transfer). timeout_ms bounds this attempt. */
int transfer_setup(struct transfer *t, const struct config *cfg, const struct http_request *req,
                   int64_t timeout_ms, size_t max_bytes);
/* Fills a response view of the finished transfer (borrowing t's memory). */
void transfer_response(struct transfer *t, CURLcode result, struct http_response *out,
                       int64_t now_wall_ms);
void transfer_cleanup(struct transfer *t);

#endif
