/* AWS request glue: endpoints, SigV4 through libcurl, retries. See aws.h for the libcurl traps. */
#include "util/aws.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "app/config.h"
#include "util/ids.h"

#define POOL_MAX 16
#define DEFAULT_TIMEOUT_MS 10000L
#define CONNECT_TIMEOUT_MS 3000L
#define DEFAULT_ATTEMPTS 4
#define BACKOFF_BASE_MS 50
#define BACKOFF_CAP_MS 2000
#define MAX_BODY_BYTES (64u << 20) /* a runaway answer must not exhaust memory */

struct aws_client {
    enum aws_service svc;
    char sigv4[96];
    char access_key[128];
    char secret[256];
    char token_header[2100]; /* "X-Amz-Security-Token: ..." or "" */
    pthread_mutex_t lock;
    CURL *idle[POOL_MAX]; /* owned; reused so connections (and TLS sessions) are kept */
    int n_idle;
};

/* ---- small helpers ---------------------------------------------------------------------- */

void aws_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    unsigned int mdlen = 0;
    static const char hex[] = "0123456789abcdef";
    EVP_Digest(data ? data : "", len, md, &mdlen, EVP_sha256(), NULL);
    for (unsigned i = 0; i < SHA256_DIGEST_LENGTH; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

const char *aws_signing_name(enum aws_service svc)
{
    switch (svc) {
    case AWS_S3:
        return "s3";
    case AWS_DYNAMODB:
        return "dynamodb";
    case AWS_LAMBDA:
        return "lambda";
    case AWS_BEDROCK_RUNTIME:
        return "bedrock";
    }
    return "s3";
}

static const char *host_prefix(enum aws_service svc)
{
    return svc == AWS_BEDROCK_RUNTIME ? "bedrock-runtime" : aws_signing_name(svc);
}

static const char *configured_endpoint(const struct config *cfg, enum aws_service svc)
{
    switch (svc) {
    case AWS_S3:
        return cfg->endpoint_s3;
    case AWS_DYNAMODB:
        return cfg->endpoint_dynamodb;
    case AWS_LAMBDA:
        return cfg->endpoint_lambda;
    case AWS_BEDROCK_RUNTIME:
        return cfg->endpoint_bedrock;
    }
    return "";
}

static const char *region_of(const struct config *cfg)
{
    return cfg->aws_region[0] ? cfg->aws_region : "us-east-1";
}

int aws_endpoint(const struct config *cfg, enum aws_service svc, char *out, size_t outlen,
                 bool *custom)
{
    const char *ep = configured_endpoint(cfg, svc);
    bool is_custom = ep[0] != '\0'; /* never NULL: the endpoints are arrays in the config */
    if (custom) *custom = is_custom;
    int n;
    if (is_custom) {
        size_t len = strlen(ep);
        while (len > 0 && ep[len - 1] == '/')
            len--;
        n = snprintf(out, outlen, "%.*s", (int)len, ep);
    } else {
        n = snprintf(out, outlen, "https://%s.%s.amazonaws.com", host_prefix(svc), region_of(cfg));
    }
    return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

int aws_sigv4_param(const char *region, const char *service, char *out, size_t outlen)
{
    int n =
        snprintf(out, outlen, "aws:amz:%s:%s", region && region[0] ? region : "us-east-1", service);
    return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

static bool unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

int aws_uri_encode(struct buf *out, const char *s, bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (unreserved(*p) || (keep_slash && *p == '/')) {
            if (buf_append(out, p, 1) != 0) return -1;
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            if (buf_append(out, e, 3) != 0) return -1;
        }
    }
    if (!out->data && buf_append(out, "", 0) != 0) return -1;
    return 0;
}

/* Orders two encoded "name=value" pairs by name, then value (the SigV4 canonical query order). */
static int pair_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t an = 0, bn = 0;
    while (an < alen && a[an] != '=')
        an++;
    while (bn < blen && b[bn] != '=')
        bn++;
    size_t n = an < bn ? an : bn;
    int c = memcmp(a, b, n);
    if (c != 0) return c;
    if (an != bn) return an < bn ? -1 : 1;
    n = alen < blen ? alen : blen;
    c = memcmp(a, b, n);
    if (c != 0) return c;
    return alen < blen ? -1 : alen > blen;
}

/* Sorted insert, so a URL's query is always in canonical order. */
int aws_query_add(struct buf *q, const char *name, const char *value)
{
    struct buf pair = BUF_INIT;
    if (aws_uri_encode(&pair, name, false) || buf_append(&pair, "=", 1) ||
        aws_uri_encode(&pair, value ? value : "", false)) {
        buf_free(&pair);
        return -1;
    }
    size_t at = q->len; /* insertion offset: before the first larger pair */
    for (size_t i = 0; i < q->len;) {
        size_t end = i;
        while (end < q->len && q->data[end] != '&')
            end++;
        if (pair_cmp(q->data + i, end - i, pair.data, pair.len) > 0) {
            at = i;
            break;
        }
        i = end + 1;
    }
    struct buf out = BUF_INIT;
    int rc = 0;
    if (at > 0) rc |= buf_append(&out, q->data, at);
    if (at > 0 && at == q->len) rc |= buf_append(&out, "&", 1);
    rc |= buf_append(&out, pair.data, pair.len);
    if (at < q->len) {
        rc |= buf_append(&out, "&", 1);
        rc |= buf_append(&out, q->data + at, q->len - at);
    }
    buf_free(&pair);
    if (rc) {
        buf_free(&out);
        return -1;
    }
    buf_free(q);
    *q = out;
    return 0;
}

/* ---- signing ------------------------------------------------------------------------------ */

static int add_header(struct curl_slist **list, const char *line)
{
    struct curl_slist *n = curl_slist_append(*list, line);
    if (!n) return -1;
    *list = n;
    return 0;
}

static int sign_with(CURL *h, const char *sigv4, const char *ak, const char *sk,
                     const char *token_header, const void *body, size_t body_len,
                     struct curl_slist **headers)
{
    char sha[65];
    char line[100];
    aws_sha256_hex(body, body_len, sha);
    snprintf(line, sizeof line, "x-amz-content-sha256: %s", sha);
    if (add_header(headers, line)) return -1;
    if (token_header[0] && add_header(headers, token_header)) return -1;
    curl_easy_setopt(h, CURLOPT_AWS_SIGV4, sigv4);
    /* Separate options, so nothing depends on how curl splits "user:password". */
    curl_easy_setopt(h, CURLOPT_USERNAME, ak);
    curl_easy_setopt(h, CURLOPT_PASSWORD, sk);
    return 0;
}

static void token_header_for(const struct config *cfg, char *out, size_t outlen)
{
    out[0] = '\0';
    if (cfg->aws_session_token[0])
        snprintf(out, outlen, "X-Amz-Security-Token: %s", cfg->aws_session_token);
}

int aws_sign_easy(CURL *h, const struct config *cfg, const char *service, const void *body,
                  size_t body_len, struct curl_slist **headers)
{
    char sigv4[96];
    char token[sizeof(((struct aws_client *)0)->token_header)];
    if (!cfg->aws_access_key_id[0] || !cfg->aws_secret_access_key[0]) return -1;
    if (aws_sigv4_param(cfg->aws_region, service, sigv4, sizeof sigv4)) return -1;
    token_header_for(cfg, token, sizeof token);
    return sign_with(h, sigv4, cfg->aws_access_key_id, cfg->aws_secret_access_key, token, body,
                     body_len, headers);
}

/* ---- client ------------------------------------------------------------------------------- */

struct aws_client *aws_client_new(const struct config *cfg, enum aws_service svc, char *err,
                                  size_t errlen)
{
    struct aws_client *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->svc = svc;
    if (aws_sigv4_param(region_of(cfg), aws_signing_name(svc), c->sigv4, sizeof c->sigv4)) {
        snprintf(err, errlen, "AWS_REGION too long");
        free(c);
        return NULL;
    }
    snprintf(c->access_key, sizeof c->access_key, "%s", cfg->aws_access_key_id);
    snprintf(c->secret, sizeof c->secret, "%s", cfg->aws_secret_access_key);
    token_header_for(cfg, c->token_header, sizeof c->token_header);
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        snprintf(err, errlen, "mutex init failed");
        free(c);
        return NULL;
    }
    return c;
}

void aws_client_free(struct aws_client *c)
{
    if (!c) return;
    for (int i = 0; i < c->n_idle; i++)
        curl_easy_cleanup(c->idle[i]);
    pthread_mutex_destroy(&c->lock);
    /* The secret does not linger in freed memory. */
    OPENSSL_cleanse(c->secret, sizeof c->secret);
    OPENSSL_cleanse(c->token_header, sizeof c->token_header);
    free(c);
}

static CURL *take_handle(struct aws_client *c)
{
    CURL *h = NULL;
    pthread_mutex_lock(&c->lock);
    if (c->n_idle > 0) h = c->idle[--c->n_idle];
    pthread_mutex_unlock(&c->lock);
    if (h) {
        curl_easy_reset(h); /* keeps the connection cache */
        return h;
    }
    return curl_easy_init();
}

static void give_handle(struct aws_client *c, CURL *h)
{
    pthread_mutex_lock(&c->lock);
    if (c->n_idle < POOL_MAX) {
        c->idle[c->n_idle++] = h;
        h = NULL;
    }
    pthread_mutex_unlock(&c->lock);
    if (h) curl_easy_cleanup(h);
}

void aws_response_clear(struct aws_response *r)
{
    if (!r) return;
    buf_free(&r->body);
    memset(r, 0, sizeof *r);
}

struct xfer {
    struct aws_response *resp;
    bool too_big;
    char amzn_error[96];
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    struct xfer *x = ud;
    size_t len = size * n;
    if (x->resp->body.len + len > MAX_BODY_BYTES) {
        x->too_big = true;
        return 0;
    }
    return buf_append(&x->resp->body, p, len) == 0 ? len : 0;
}

/* Copies a header's value (trimmed) when the line is "name: value". */
static bool header_value(const char *line, size_t len, const char *name, char *out, size_t outlen)
{
    size_t nl = strlen(name);
    if (len <= nl || line[nl] != ':' || strncasecmp(line, name, nl) != 0) return false;
    const char *v = line + nl + 1;
    const char *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    snprintf(out, outlen, "%.*s", (int)(end - v), v);
    return true;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    struct xfer *x = ud;
    size_t len = size * n;
    if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
        /* A new response (after a redirect or 100-continue): forget the earlier headers. */
        x->resp->content_type[0] = x->resp->etag[0] = x->amzn_error[0] = '\0';
        return len;
    }
    header_value(p, len, "content-type", x->resp->content_type, sizeof x->resp->content_type);
    header_value(p, len, "etag", x->resp->etag, sizeof x->resp->etag);
    header_value(p, len, "x-amzn-errortype", x->amzn_error, sizeof x->amzn_error);
    return len;
}

/* The error code of a failed answer: DynamoDB JSON "__type" ("...#Code"), the x-amzn-ErrorType
 * header ("Code:http://..."), or an XML <Code> (S3, IAM-style errors from moto). */
static void parse_error_code(struct aws_response *r, const char *amzn_error)
{
    char *out = r->error_code;
    size_t cap = sizeof r->error_code;
    out[0] = '\0';
    const char *body = r->body.data ? r->body.data : "";
    const char *t = strstr(body, "\"__type\"");
    if (t) {
        t = strchr(t + 8, '"');
        const char *end = t ? strchr(t + 1, '"') : NULL;
        if (t && end) {
            const char *hash = memchr(t + 1, '#', (size_t)(end - t - 1));
            const char *start = hash ? hash + 1 : t + 1;
            snprintf(out, cap, "%.*s", (int)(end - start), start);
            return;
        }
    }
    if (amzn_error[0]) {
        size_t n = strcspn(amzn_error, ":");
        snprintf(out, cap, "%.*s", (int)n, amzn_error);
        return;
    }
    const char *c = strstr(body, "<Code>");
    const char *ce = c ? strstr(c, "</Code>") : NULL;
    if (c && ce) snprintf(out, cap, "%.*s", (int)(ce - c - 6), c + 6);
}

bool aws_error_is_throttling(const char *code)
{
    static const char *const codes[] = {
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    };
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (strcmp(code, codes[i]) == 0) return true;
    return false;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* Full jitter: uniform in [0, min(cap, base * 2^attempt)]. */
static long backoff_ms(int attempt)
{
    long ceiling = BACKOFF_BASE_MS;
    for (int i = 0; i < attempt && ceiling < BACKOFF_CAP_MS; i++)
        ceiling *= 2;
    if (ceiling > BACKOFF_CAP_MS) ceiling = BACKOFF_CAP_MS;
    uint32_t r = 0;
    if (id_random_bytes(&r, sizeof r) != 0) r = (uint32_t)clock();
    return (long)(r % (uint32_t)(ceiling + 1));
}

/* Transport failures where the request surely never reached the service. */
static bool never_sent(CURLcode rc)
{
    return rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
           rc == CURLE_COULDNT_RESOLVE_PROXY || rc == CURLE_SSL_CONNECT_ERROR;
}

static bool should_retry(const struct aws_request *req, CURLcode rc, const struct aws_response *r)
{
    if (rc != CURLE_OK) {
        if (never_sent(rc)) return true;
        return req->idempotent &&
               (rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_SEND_ERROR ||
                rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING || rc == CURLE_PARTIAL_FILE);
    }
    if (r->status == 429 || r->status == 503) return true; /* rejected before any work */
    if ((r->status == 400 || r->status == 403) && aws_error_is_throttling(r->error_code))
        return true;
    if (r->status >= 500) return req->idempotent || strcmp(r->error_code, "SlowDown") == 0;
    return false;
}

static int one_attempt(struct aws_client *c, CURL *h, const struct aws_request *req,
                       struct aws_response *resp, CURLcode *rc_out)
{
    struct curl_slist *hdrs = NULL;
    struct xfer x = {resp, false, ""};
    int ret = 0;
    buf_reset(&resp->body);
    resp->status = 0;
    resp->content_type[0] = resp->etag[0] = resp->error_code[0] = '\0';
    resp->transport_error[0] = '\0';

    for (const char *const *hl = req->headers; hl && *hl; hl++)
        if (add_header(&hdrs, *hl)) ret = -2;
    curl_easy_setopt(h, CURLOPT_URL, req->url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
                     req->timeout_ms > 0 ? req->timeout_ms : DEFAULT_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
    const char *m = req->method;
    if (strcmp(m, "GET") == 0) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(m, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (strcmp(m, "DELETE") == 0 && req->body_len == 0) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "DELETE");
    } else {
        /* POSTFIELDS + CUSTOMREQUEST: the body is hashed and signed as sent (TOOLING §2). */
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? req->body : "");
        if (strcmp(m, "POST") != 0) curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, m);
    }
    if (!req->unsigned_request && ret == 0 &&
        sign_with(h, c->sigv4, c->access_key, c->secret, c->token_header, req->body, req->body_len,
                  &hdrs))
        ret = -2;
    if (ret == 0) {
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
        CURLcode rc = curl_easy_perform(h);
        *rc_out = rc;
        if (rc == CURLE_OK) {
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
            if (resp->status < 200 || resp->status > 299) parse_error_code(resp, x.amzn_error);
        } else if (x.too_big) {
            snprintf(resp->transport_error, sizeof resp->transport_error, "answer too large");
            *rc_out = CURLE_FILESIZE_EXCEEDED;
        } else {
            snprintf(resp->transport_error, sizeof resp->transport_error, "%s",
                     curl_easy_strerror(rc));
        }
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(hdrs);
    return ret;
}

int aws_perform(struct aws_client *c, const struct aws_request *req, struct aws_response *resp)
{
    memset(resp, 0, sizeof *resp);
    CURL *h = take_handle(c);
    if (!h) return -2;
    int attempts = req->max_attempts > 0 ? req->max_attempts : DEFAULT_ATTEMPTS;
    int ret = -1;
    for (int i = 0; i < attempts; i++) {
        CURLcode rc = CURLE_OK;
        resp->attempts = i + 1;
        if (one_attempt(c, h, req, resp, &rc) != 0) {
            ret = -2;
            break;
        }
        bool answered = rc == CURLE_OK;
        if (i + 1 < attempts && should_retry(req, rc, resp)) {
            sleep_ms(backoff_ms(i));
            continue;
        }
        ret = answered ? 0 : -1;
        break;
    }
    give_handle(c, h);
    return ret;
}

/* ---- base64 ------------------------------------------------------------------------------- */

int aws_base64_encode(struct buf *out, const void *data, size_t len, bool url)
{
    const char *tbl = url ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                          : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = data;
    if (buf_reserve(out, (len + 2) / 3 * 4 + 1)) return -1;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        size_t rem = len - i;
        if (rem > 1) v |= (uint32_t)p[i + 1] << 8;
        if (rem > 2) v |= p[i + 2];
        char q[4] = {tbl[(v >> 18) & 63], tbl[(v >> 12) & 63], tbl[(v >> 6) & 63], tbl[v & 63]};
        size_t keep = rem > 2 ? 4 : rem + 1;
        if (buf_append(out, q, keep)) return -1;
        if (!url && keep < 4 && buf_append(out, "==", 4 - keep)) return -1;
    }
    return buf_append(out, "", 0); /* terminates, also when nothing was written */
}

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

int aws_base64_decode(struct buf *out, const char *s, size_t len)
{
    while (len > 0 && s[len - 1] == '=')
        len--;
    if (len % 4 == 1) return -1;
    if (buf_reserve(out, len / 4 * 3 + 3)) return -1;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64_value((unsigned char)s[i]);
        if (v < 0) return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            unsigned char byte = (unsigned char)(acc >> bits);
            if (buf_append(out, &byte, 1)) return -1;
        }
    }
    return buf_append(out, "", 0);
}
