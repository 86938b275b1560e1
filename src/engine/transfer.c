#include "engine/transfer.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "engine/retry.h"
#include "util/clock.h"
#include "util/sigv4.h"

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    struct transfer *t = arg;
    size_t len = size * n;
    if (t->body.len + len > t->max_bytes) {
        t->too_large = true;
        return 0; /* aborts the transfer: a cap protects memory from a hostile or broken peer */
    }
    return buf_append(&t->body, data, len) == 0 ? len : 0;
}

static void copy_header_value(char *dst, size_t cap, const char *v, size_t len)
{
    while (len && (*v == ' ' || *v == '\t'))
        v++, len--;
    while (len && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
        len--;
    if (len >= cap) len = cap - 1;
    memcpy(dst, v, len);
    dst[len] = '\0';
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
    struct transfer *t = arg;
    size_t len = size * n;
    if (len > 13 && strncasecmp(data, "content-type:", 13) == 0)
        copy_header_value(t->content_type, sizeof t->content_type, data + 13, len - 13);
    else if (len > 12 && strncasecmp(data, "retry-after:", 12) == 0)
        copy_header_value(t->retry_after, sizeof t->retry_after, data + 12, len - 12);
    else if (len > 5 && strncasecmp(data, "HTTP/", 5) == 0)
        t->content_type[0] = t->retry_after[0] = '\0'; /* a new response (redirect) starts */
    return len;
}

static int add_header(struct transfer *t, const char *line)
{
    struct curl_slist *next = curl_slist_append(t->headers, line);
    if (!next) return -1;
    t->headers = next;
    return 0;
}

int transfer_setup(struct transfer *t, const struct config *cfg, const struct http_request *req,
                   int64_t timeout_ms, size_t max_bytes)
{
    memset(t, 0, sizeof *t);
    t->easy = curl_easy_init();
    if (!t->easy) return -1;
    t->max_bytes = max_bytes;
    CURL *h = t->easy;
    curl_easy_setopt(h, CURLOPT_URL, req->url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(timeout_ms > 0 ? timeout_ms : 1));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, t->curl_error);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "pixelprompt/" PP_VERSION);
    /* Image downloads may redirect to a CDN; API calls never need to. */
    if (req->body_is_image) {
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(h, CURLOPT_MAXREDIRS, 3L);
    }
    for (int i = 0; i < req->n_headers; i++)
        if (add_header(t, req->headers[i]) != 0) return -1;
    if (strcmp(req->method, "POST") == 0) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? req->body : "");
    } else if (strcmp(req->method, "GET") != 0) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
    }
    if (req->sigv4_service[0]) {
        struct sigv4_input in = {req->method,
                                 req->url,
                                 cfg->aws_region,
                                 req->sigv4_service,
                                 cfg->aws_access_key_id,
                                 cfg->aws_secret_access_key,
                                 cfg->aws_session_token,
                                 req->body,
                                 req->body_len,
                                 clock_wall_ms()};
        struct sigv4_headers sig;
        if (sigv4_sign(&in, &sig) != 0) return -1;
        char line[2200];
        snprintf(line, sizeof line, "Authorization: %s", sig.authorization);
        if (add_header(t, line) != 0) return -1;
        snprintf(line, sizeof line, "X-Amz-Date: %s", sig.amz_date);
        if (add_header(t, line) != 0) return -1;
        snprintf(line, sizeof line, "X-Amz-Content-Sha256: %s", sig.content_sha256);
        if (add_header(t, line) != 0) return -1;
        if (cfg->aws_session_token[0]) {
            snprintf(line, sizeof line, "X-Amz-Security-Token: %s", cfg->aws_session_token);
            if (add_header(t, line) != 0) return -1;
        }
    }
    if (t->headers) curl_easy_setopt(h, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(h, CURLOPT_PRIVATE, t);
    return 0;
}

void transfer_response(struct transfer *t, CURLcode result, struct http_response *out,
                       int64_t now_wall_ms)
{
    memset(out, 0, sizeof *out);
    long status = 0;
    if (result == CURLE_OK) curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    out->status = status;
    out->content_type = t->content_type;
    out->body = t->body.data ? t->body.data : "";
    out->body_len = t->body.len;
    out->retry_after_s = retry_after_parse(t->retry_after[0] ? t->retry_after : NULL, now_wall_ms);
    if (result != CURLE_OK) {
        if (t->too_large)
            snprintf(t->curl_error, sizeof t->curl_error, "response larger than %zu bytes",
                     t->max_bytes);
        else if (!t->curl_error[0])
            snprintf(t->curl_error, sizeof t->curl_error, "%s", curl_easy_strerror(result));
        out->transport_error = t->curl_error;
    }
}

void transfer_cleanup(struct transfer *t)
{
    if (t->easy) curl_easy_cleanup(t->easy);
    curl_slist_free_all(t->headers);
    buf_free(&t->body);
    memset(t, 0, sizeof *t);
}
