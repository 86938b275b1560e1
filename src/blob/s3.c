/* Blobs in an S3 bucket (AWS, or MinIO/Ceph/Garage/moto through a custom endpoint).
 *
 * Addressing: a custom endpoint (AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL) uses path style
 * ("<endpoint>/<bucket>/<key>"), as the SDKs do; AWS itself uses virtual-hosted style
 * ("https://<bucket>.s3.<region>.amazonaws.com/<key>"), except for bucket names with dots, which
 * the wildcard TLS certificate does not cover.
 *
 * Keys are already restricted to [A-Za-z0-9._/-] by blob_key_is_valid, so they never need
 * percent-encoding (and so never meet libcurl 7.88's single-encoding SigV4 canonical path).
 * A single PUT is atomic: readers see the old object or the whole new one.
 * Objects under images/ and thumbs/ never change once written (their keys are unique per job), so
 * they carry a one-year immutable Cache-Control that CloudFront and browsers honour. */
#include "blob/blob_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/config.h"
#include "util/aws.h"

#define IMMUTABLE_CACHE "Cache-Control: public, max-age=31536000, immutable"
#define PUT_TIMEOUT_MS 60000L

struct blob_s3 {
    struct blob base;
    struct aws_client *aws; /* owned */
    char bucket[128];
    char base_url[768]; /* "<endpoint>/<bucket>" or "https://<bucket>.s3.<region>.amazonaws.com" */
};

static bool bucket_name_ok(const char *b)
{
    size_t n = strlen(b);
    if (n < 3 || n > 63) return false;
    for (size_t i = 0; i < n; i++) {
        char c = b[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'))
            return false;
    }
    return b[0] != '-' && b[0] != '.' && b[n - 1] != '-' && b[n - 1] != '.';
}

static int object_url(const struct blob_s3 *s, const char *key, char *out, size_t outlen)
{
    int n = key ? snprintf(out, outlen, "%s/%s", s->base_url, key)
                : snprintf(out, outlen, "%s/", s->base_url);
    return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/* Any failure that is not about the object itself means the store is not usable right now. */
static int map_status(const struct aws_response *r, int rc)
{
    if (rc == -2) return BLOB_NOMEM;
    if (rc != 0) return BLOB_UNAVAILABLE;
    if (r->status >= 200 && r->status < 300) return BLOB_OK;
    if (r->status == 404 && strcmp(r->error_code, "NoSuchBucket") != 0) return BLOB_NOT_FOUND;
    if (r->status == 400 && strcmp(r->error_code, "EntityTooLarge") == 0) return BLOB_TOO_LARGE;
    if (r->status == 413) return BLOB_TOO_LARGE;
    return BLOB_UNAVAILABLE;
}

static int head_bucket(struct blob_s3 *s, struct aws_response *resp)
{
    char url[900];
    memset(resp, 0, sizeof *resp); /* the caller reads and clears it on every path */
    if (object_url(s, NULL, url, sizeof url)) return -2;
    struct aws_request req = {.method = "HEAD", .url = url, .idempotent = true};
    return aws_perform(s->aws, &req, resp);
}

static int create_bucket(struct blob_s3 *s, const struct config *cfg, char *err, size_t errlen)
{
    char url[900];
    char body[300] = "";
    const char *region = cfg->aws_region[0] ? cfg->aws_region : "us-east-1";
    /* us-east-1 takes no LocationConstraint (S3 rejects one naming it). */
    if (strcmp(region, "us-east-1") != 0)
        snprintf(body, sizeof body,
                 "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                 "<LocationConstraint>%s</LocationConstraint></CreateBucketConfiguration>",
                 region);
    if (object_url(s, NULL, url, sizeof url)) return -1;
    const char *const hdrs[] = {"Content-Type: application/xml", NULL};
    struct aws_request req = {.method = "PUT",
                              .url = url,
                              .headers = hdrs,
                              .body = body,
                              .body_len = strlen(body),
                              .idempotent = true};
    struct aws_response resp;
    int rc = aws_perform(s->aws, &req, &resp);
    bool ok = rc == 0 && ((resp.status >= 200 && resp.status < 300) ||
                          strcmp(resp.error_code, "BucketAlreadyOwnedByYou") == 0);
    if (!ok) {
        if (rc != 0)
            snprintf(err, errlen, "S3: cannot create bucket \"%s\": %s", s->bucket,
                     resp.transport_error);
        else
            snprintf(err, errlen, "S3: cannot create bucket \"%s\": HTTP %ld %s", s->bucket,
                     resp.status, resp.error_code);
    }
    aws_response_clear(&resp);
    return ok ? 0 : -1;
}

static void s3_close(struct blob *b)
{
    struct blob_s3 *s = (struct blob_s3 *)b;
    if (!s) return;
    aws_client_free(s->aws);
    free(s);
}

static struct blob *s3_open(const struct config *cfg, char *err, size_t errlen)
{
    if (!bucket_name_ok(cfg->s3_bucket)) {
        snprintf(err, errlen, "S3_BUCKET: \"%.64s\" is not a valid bucket name", cfg->s3_bucket);
        return NULL;
    }
    if (!cfg->aws_access_key_id[0] || !cfg->aws_secret_access_key[0]) {
        snprintf(err, errlen, "BLOBS=s3 needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
        return NULL;
    }
    struct blob_s3 *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->base.ops = &blob_s3_ops;
    snprintf(s->bucket, sizeof s->bucket, "%s", cfg->s3_bucket);
    char ep[600];
    bool custom = false;
    if (aws_endpoint(cfg, AWS_S3, ep, sizeof ep, &custom)) {
        snprintf(err, errlen, "AWS_ENDPOINT_URL_S3: too long");
        free(s);
        return NULL;
    }
    if (custom || strchr(s->bucket, '.'))
        snprintf(s->base_url, sizeof s->base_url, "%s/%s", ep, s->bucket);
    else
        snprintf(s->base_url, sizeof s->base_url, "https://%s.s3.%s.amazonaws.com", s->bucket,
                 cfg->aws_region[0] ? cfg->aws_region : "us-east-1");
    s->aws = aws_client_new(cfg, AWS_S3, err, errlen);
    if (!s->aws) {
        free(s);
        return NULL;
    }
    /* Only when asked to create: a Lambda cold start makes no round trip here. */
    if (cfg->store_create) {
        struct aws_response resp;
        int rc = head_bucket(s, &resp);
        long status = resp.status;
        if (rc != 0) {
            snprintf(err, errlen, "S3: %s unreachable: %s", ep, resp.transport_error);
        } else if (status == 404) {
            rc = create_bucket(s, cfg, err, errlen);
        } else if (status < 200 || status > 299) {
            snprintf(err, errlen, "S3: bucket \"%s\": HTTP %ld %s", s->bucket, status,
                     resp.error_code[0] ? resp.error_code : "(no code)");
            rc = -1;
        }
        aws_response_clear(&resp);
        if (rc != 0) {
            s3_close(&s->base);
            return NULL;
        }
    }
    return &s->base;
}

static int s3_ping(struct blob *b)
{
    struct blob_s3 *s = (struct blob_s3 *)b;
    struct aws_response resp;
    int rc = head_bucket(s, &resp);
    int out = map_status(&resp, rc);
    if (out == BLOB_NOT_FOUND) out = BLOB_UNAVAILABLE; /* no bucket: nothing works */
    aws_response_clear(&resp);
    return out;
}

static bool is_immutable_key(const char *key)
{
    return strncmp(key, "images/", 7) == 0 || strncmp(key, "thumbs/", 7) == 0;
}

static int s3_put(struct blob *b, const char *key, const void *data, size_t len,
                  const char *content_type)
{
    struct blob_s3 *s = (struct blob_s3 *)b;
    char url[1000];
    char ct[128];
    if (!blob_key_is_valid(key) || object_url(s, key, url, sizeof url)) return BLOB_INVALID;
    snprintf(ct, sizeof ct, "Content-Type: %s",
             content_type && content_type[0] ? content_type : blob_content_type_for(key));
    if (strpbrk(ct, "\r\n")) return BLOB_INVALID;
    const char *hdrs[3] = {ct, NULL, NULL};
    if (is_immutable_key(key)) hdrs[1] = IMMUTABLE_CACHE;
    struct aws_request req = {.method = "PUT",
                              .url = url,
                              .headers = hdrs,
                              .body = data,
                              .body_len = len,
                              .timeout_ms = PUT_TIMEOUT_MS,
                              .idempotent = true}; /* same key, same bytes */
    struct aws_response resp;
    int rc = aws_perform(s->aws, &req, &resp);
    int out = map_status(&resp, rc);
    if (out == BLOB_NOT_FOUND) out = BLOB_UNAVAILABLE;
    aws_response_clear(&resp);
    return out;
}

static int s3_get(struct blob *b, const char *key, struct buf *out, char content_type[64],
                  char etag[64])
{
    struct blob_s3 *s = (struct blob_s3 *)b;
    char url[1000];
    if (!blob_key_is_valid(key) || object_url(s, key, url, sizeof url)) return BLOB_INVALID;
    struct aws_request req = {
        .method = "GET", .url = url, .timeout_ms = PUT_TIMEOUT_MS, .idempotent = true};
    struct aws_response resp;
    int rc = aws_perform(s->aws, &req, &resp);
    int ret = map_status(&resp, rc);
    if (ret == BLOB_OK) {
        if (buf_append(out, resp.body.data ? resp.body.data : "", resp.body.len) != 0)
            ret = BLOB_NOMEM;
        if (content_type)
            snprintf(content_type, 64, "%s",
                     resp.content_type[0] ? resp.content_type : blob_content_type_for(key));
        if (etag) snprintf(etag, 64, "%s", resp.etag);
    }
    aws_response_clear(&resp);
    return ret;
}

static int s3_del(struct blob *b, const char *key)
{
    struct blob_s3 *s = (struct blob_s3 *)b;
    char url[1000];
    if (!blob_key_is_valid(key) || object_url(s, key, url, sizeof url)) return BLOB_INVALID;
    struct aws_request req = {.method = "DELETE", .url = url, .idempotent = true};
    struct aws_response resp;
    int rc = aws_perform(s->aws, &req, &resp);
    int ret = map_status(&resp, rc);
    if (ret == BLOB_NOT_FOUND) ret = BLOB_OK; /* already gone, as on fs */
    aws_response_clear(&resp);
    return ret;
}

const struct blob_ops blob_s3_ops = {
    .name = "s3",
    .open = s3_open,
    .close = s3_close,
    .ping = s3_ping,
    .put = s3_put,
    .get = s3_get,
    .del = s3_del,
};
