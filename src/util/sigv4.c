#include "util/sigv4.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "util/buf.h"

static void hex(const unsigned char *in, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", in[i]);
}

static void sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256(data, len, d);
    hex(d, sizeof d, out);
}

static void hmac(const void *key, size_t keylen, const char *msg, unsigned char out[32])
{
    unsigned int n = 32;
    HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg, strlen(msg), out, &n);
}

static bool unreserved(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

/* The path as sent, URI-encoded once more ('/' kept), which is what AWS does for non-S3. */
static int canonical_uri(const char *path, size_t len, struct buf *out)
{
    if (len == 0) return buf_append_str(out, "/");
    for (size_t i = 0; i < len; i++) {
        char c = path[i];
        int rc = (unreserved(c) || c == '/') ? buf_append(out, &c, 1)
                                             : buf_printf(out, "%%%02X", (unsigned char)c);
        if (rc) return -1;
    }
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Query parameters (already encoded as sent) sorted; a valueless one gets "=". */
static int canonical_query(const char *query, struct buf *out)
{
    if (!query || !*query) return 0;
    char *copy = strdup(query);
    if (!copy) return -1;
    size_t n = 1;
    for (const char *p = copy; *p; p++)
        n += *p == '&';
    char **parts = calloc(n, sizeof *parts);
    if (!parts) {
        free(copy);
        return -1;
    }
    size_t k = 0;
    for (char *save = NULL, *tok = strtok_r(copy, "&", &save); tok;
         tok = strtok_r(NULL, "&", &save))
        parts[k++] = tok;
    qsort(parts, k, sizeof *parts, cmp_str);
    int rc = 0;
    for (size_t i = 0; i < k && rc == 0; i++) {
        rc |= buf_append_str(out, i ? "&" : "");
        rc |= buf_append_str(out, parts[i]);
        if (!strchr(parts[i], '=')) rc |= buf_append_str(out, "=");
    }
    free(parts);
    free(copy);
    return rc;
}

int sigv4_sign(const struct sigv4_input *in, struct sigv4_headers *out)
{
    const char *p = strstr(in->url, "://");
    if (!p) return -1;
    p += 3;
    size_t host_len = strcspn(p, "/?#");
    const char *at = memchr(p, '@', host_len); /* no credentials in the host header */
    if (at) {
        host_len -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    char host[256];
    if (host_len == 0 || host_len >= sizeof host) return -1;
    memcpy(host, p, host_len);
    host[host_len] = '\0';
    const char *path = p + host_len;
    size_t path_len = strcspn(path, "?#");
    const char *query = path[path_len] == '?' ? path + path_len + 1 : NULL;
    char *query_copy = query ? strndup(query, strcspn(query, "#")) : NULL;

    time_t secs = (time_t)(in->now_wall_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char date[9];
    strftime(out->amz_date, sizeof out->amz_date, "%Y%m%dT%H%M%SZ", &tm);
    strftime(date, sizeof date, "%Y%m%d", &tm);
    sha256_hex(in->body ? in->body : "", in->body ? in->body_len : 0, out->content_sha256);
    bool token = in->session_token && *in->session_token;

    struct buf req = BUF_INIT;
    int rc = buf_printf(&req, "%s\n", in->method);
    rc |= canonical_uri(path, path_len, &req);
    rc |= buf_append_str(&req, "\n");
    rc |= canonical_query(query_copy, &req);
    rc |= buf_printf(&req, "\nhost:%s\nx-amz-content-sha256:%s\nx-amz-date:%s\n", host,
                     out->content_sha256, out->amz_date);
    if (token) rc |= buf_printf(&req, "x-amz-security-token:%s\n", in->session_token);
    const char *signed_headers = token ? "host;x-amz-content-sha256;x-amz-date;x-amz-security-token"
                                       : "host;x-amz-content-sha256;x-amz-date";
    rc |= buf_printf(&req, "\n%s\n%s", signed_headers, out->content_sha256);
    free(query_copy);
    if (rc) {
        buf_free(&req);
        return -1;
    }
    char req_hash[65];
    sha256_hex(req.data, req.len, req_hash);
    buf_free(&req);

    char scope[160], to_sign[400];
    snprintf(scope, sizeof scope, "%s/%s/%s/aws4_request", date, in->region, in->service);
    snprintf(to_sign, sizeof to_sign, "AWS4-HMAC-SHA256\n%s\n%s\n%s", out->amz_date, scope,
             req_hash);
    char k_secret[300];
    snprintf(k_secret, sizeof k_secret, "AWS4%s", in->secret_key);
    unsigned char k1[32], k2[32], k3[32], k4[32], sig[32];
    hmac(k_secret, strlen(k_secret), date, k1);
    hmac(k1, 32, in->region, k2);
    hmac(k2, 32, in->service, k3);
    hmac(k3, 32, "aws4_request", k4);
    hmac(k4, 32, to_sign, sig);
    char sig_hex[65];
    hex(sig, 32, sig_hex);
    snprintf(out->authorization, sizeof out->authorization,
             "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s", in->access_key,
             scope, signed_headers, sig_hex);
    return 0;
}
