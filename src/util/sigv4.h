/* AWS Signature Version 4 computed here for non-S3 services (Bedrock, Lambda, DynamoDB) because
 * libcurl 7.88's CURLOPT_AWS_SIGV4 signs the path exactly as sent, while AWS signs non-S3 paths
 * URI-encoded a second time ("amazon.nova-canvas-v1%3A0" is signed as "...v1%253A0"). Pure. */
#ifndef PP_UTIL_SIGV4_H
#define PP_UTIL_SIGV4_H

#include <stddef.h>
#include <stdint.h>

struct sigv4_input {
    const char *method; /* "POST" */
    const char *url;    /* scheme://host[:port]/path?query, as it will be sent */
    const char *region;
    const char *service; /* "bedrock", "lambda", "dynamodb" */
    const char *access_key;
    const char *secret_key;
    const char *session_token; /* NULL or "" when none */
    const void *body;
    size_t body_len;
    int64_t now_wall_ms;
};

/* Header values to send (names: Authorization, X-Amz-Date, X-Amz-Content-Sha256,
 * X-Amz-Security-Token when a token is given). */
struct sigv4_headers {
    char authorization[400];
    char amz_date[20];
    char content_sha256[65];
};

/* Returns 0, or -1 when the URL cannot be read. */
int sigv4_sign(const struct sigv4_input *in, struct sigv4_headers *out);

#endif
