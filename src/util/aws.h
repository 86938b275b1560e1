/* AWS request glue over libcurl easy handles, shared by the S3 blob backend, the DynamoDB store,
 * the Lambda front door (Invoke API) and the engine (Bedrock signing).
 *
 * Signing is libcurl's own SigV4 (CURLOPT_AWS_SIGV4). libcurl 7.88 has traps this file handles:
 *  - it signs the hash of an empty payload unless x-amz-content-sha256 is sent, so that header is
 *    always set to the hex SHA-256 of the body;
 *  - it signs a blank "Expect:" header it never sends, so Expect is left alone;
 *  - it does not sort the query string: callers build URLs with aws_query_add (sorted, encoded);
 *  - it signs every header the caller adds, so X-Amz-Security-Token (AWS_SESSION_TOKEN) is sent as
 *    a plain header and ends up in SignedHeaders (checked against moto with an assumed role).
 *
 * Endpoints follow the SDK convention: cfg->endpoint_<service> (config.c folds
 * AWS_ENDPOINT_URL_<SERVICE> over AWS_ENDPOINT_URL into it) else
 * https://<host>.<region>.amazonaws.com.
 *
 * Owners: an aws_client owns its copy of the credentials and a small pool of idle easy handles;
 * an aws_response owns its body (aws_response_clear). Secrets are never written anywhere. */
#ifndef PP_UTIL_AWS_H
#define PP_UTIL_AWS_H

#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>

#include "util/buf.h"

struct config;

enum aws_service { AWS_S3, AWS_DYNAMODB, AWS_LAMBDA, AWS_BEDROCK_RUNTIME };

/* The endpoint root for a service, without a trailing '/'. *custom (may be NULL) tells whether it
 * came from configuration (an S3 custom endpoint means path-style addressing). Returns 0, or -1
 * when out is too small or no region is known for the default endpoint. */
int aws_endpoint(const struct config *cfg, enum aws_service svc, char *out, size_t outlen,
                 bool *custom);

/* The SigV4 signing name of a service ("s3", "dynamodb", "lambda", "bedrock"). */
const char *aws_signing_name(enum aws_service svc);

/* "aws:amz:<region>:<service>", the value of CURLOPT_AWS_SIGV4. Returns 0 or -1 (too small). */
int aws_sigv4_param(const char *region, const char *service, char *out, size_t outlen);

/* Hex SHA-256 of data (OpenSSL libcrypto). */
void aws_sha256_hex(const void *data, size_t len, char out[65]);

/* Signs a transfer the caller set up on `h` (URL, method, body): sets the SigV4 options and the
 * credentials, and appends x-amz-content-sha256 (+ X-Amz-Security-Token) to *headers, which the
 * caller then installs with CURLOPT_HTTPHEADER and frees after the transfer. For the engine's
 * multi handles (Bedrock). Returns 0, or -1 on out of memory or missing credentials. */
int aws_sign_easy(CURL *h, const struct config *cfg, const char *service, const void *body,
                  size_t body_len, struct curl_slist **headers);

/* Appends "name=value" to a query being built in q, keeping it sorted by name (SigV4 canonical
 * order) and URI-encoding both per AWS rules. q holds "" or "a=1&b=2" (no '?'). Returns 0/-1. */
int aws_query_add(struct buf *q, const char *name, const char *value);
/* AWS URI encoding: unreserved characters stay, the rest become %XX; '/' stays when keep_slash. */
int aws_uri_encode(struct buf *out, const char *s, bool keep_slash);

struct aws_client;

/* A client signs for one service with the credentials and region of cfg (copied). Returns NULL on
 * out of memory or curl failure (err filled). The client is safe to use from any thread. */
struct aws_client *aws_client_new(const struct config *cfg, enum aws_service svc, char *err,
                                  size_t errlen);
void aws_client_free(struct aws_client *c);

struct aws_request {
    const char *method;         /* GET | HEAD | PUT | POST | DELETE */
    const char *url;            /* full URL; any query already sorted (aws_query_add) */
    const char *const *headers; /* NULL-terminated "Name: value" lines, may be NULL */
    const void *body;
    size_t body_len;
    long timeout_ms;       /* per attempt; 0 = 10 s */
    int max_attempts;      /* 0 = 4 */
    bool idempotent;       /* may be retried after an ambiguous failure (timeout, 500) */
    bool unsigned_request; /* no SigV4 (public endpoints, tests) */
};

struct aws_response {
    long status;     /* 0 when no HTTP answer came */
    struct buf body; /* owned */
    char content_type[64];
    char etag[64];
    char error_code[96];       /* AWS error code of a non-2xx answer ("" when none) */
    char transport_error[128]; /* curl's reason when status == 0 */
    int attempts;
};

/* Sends the request, retrying connection errors, throttling and 5xx with capped exponential
 * backoff and full jitter. Returns 0 when an HTTP answer arrived (any status: look at
 * resp->status), -1 when none did after the retries (resp->transport_error says why), -2 on out
 * of memory. resp is initialised here; clear it with aws_response_clear in every case. */
int aws_perform(struct aws_client *c, const struct aws_request *req, struct aws_response *resp);
void aws_response_clear(struct aws_response *r);

/* True for the error codes AWS documents as throttling (retry later). */
bool aws_error_is_throttling(const char *code);

/* Base64 (standard alphabet, padded) and base64url (no padding) helpers for the Lambda and
 * DynamoDB code. Decoding accepts both alphabets and missing padding. Return 0 or -1. */
int aws_base64_encode(struct buf *out, const void *data, size_t len, bool url);
int aws_base64_decode(struct buf *out, const char *s, size_t len);

#endif
