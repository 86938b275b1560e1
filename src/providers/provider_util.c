/* Helpers shared by the provider and enhancer adapters (see provider_util.h). */
#include "providers/provider_util.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/ids.h"
#include "util/utf8.h"

/* ---- base64 ---- */

static int b64_value(unsigned char ch)
{
    if (ch >= 'A' && ch <= 'Z') return ch - 'A';
    if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9') return ch - '0' + 52;
    if (ch == '+' || ch == '-') return 62; /* standard and URL-safe alphabets */
    if (ch == '/' || ch == '_') return 63;
    return -1;
}

int pu_base64_decode(const char *in, size_t len, struct buf *out)
{
    if (!in) return -1;
    /* Some servers (A1111 forks, gateways) send a data URL instead of bare base64. */
    if (len > 5 && strncmp(in, "data:", 5) == 0) {
        const char *comma = memchr(in, ',', len < 256 ? len : 256);
        if (!comma) return -1;
        len -= (size_t)(comma + 1 - in);
        in = comma + 1;
    }
    if (buf_reserve(out, len / 4 * 3 + 3) != 0) return -1;
    unsigned char *dst = (unsigned char *)out->data + out->len;
    size_t n = 0;
    uint32_t acc = 0;
    int bits = 0, quads = 0;
    size_t i = 0;
    for (; i < len; i++) {
        unsigned char ch = (unsigned char)in[i];
        if (ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t') continue;
        if (ch == '=') break;
        int v = b64_value(ch);
        if (v < 0) return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        quads++;
        if (bits >= 8) {
            bits -= 8;
            dst[n++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    for (; i < len; i++) { /* only padding and whitespace may follow '=' */
        unsigned char ch = (unsigned char)in[i];
        if (ch != '=' && ch != ' ' && ch != '\n' && ch != '\r' && ch != '\t') return -1;
    }
    if (quads % 4 == 1) return -1; /* a lone 6-bit group cannot encode a byte */
    out->len += n;
    out->data[out->len] = '\0';
    return 0;
}

int pu_base64_encode(const void *in, size_t len, struct buf *out)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = in;
    if (buf_reserve(out, (len + 2) / 3 * 4 + 1) != 0) return -1;
    char *dst = out->data + out->len;
    size_t n = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < len) v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < len) v |= p[i + 2];
        dst[n++] = tbl[(v >> 18) & 63];
        dst[n++] = tbl[(v >> 12) & 63];
        dst[n++] = i + 1 < len ? tbl[(v >> 6) & 63] : '=';
        dst[n++] = i + 2 < len ? tbl[v & 63] : '=';
    }
    out->len += n;
    out->data[out->len] = '\0';
    return 0;
}

/* ---- text ---- */

static bool word_char(unsigned char ch)
{
    return isalnum(ch) || ch == '_' || ch == '-';
}

/* Length of a key-looking token at s (0 when none): OpenAI-style "sk-...", Google "AIza...",
 * AWS access key ids. Providers sometimes echo (partly masked) keys in their errors. */
static size_t key_token_len(const char *s, size_t avail)
{
    static const struct {
        const char *prefix;
        size_t min_run;
    } pats[] = {{"sk-", 8}, {"AIza", 20}, {"AKIA", 12}, {"ASIA", 12}};
    for (size_t k = 0; k < sizeof pats / sizeof pats[0]; k++) {
        size_t pl = strlen(pats[k].prefix);
        if (avail < pl || strncmp(s, pats[k].prefix, pl) != 0) continue;
        size_t run = 0;
        while (pl + run < avail) {
            unsigned char ch = (unsigned char)s[pl + run];
            if (!(isalnum(ch) || ch == '_' || ch == '-' || ch == '*' || ch == '.')) break;
            run++;
        }
        if (run >= pats[k].min_run) return pl + run;
    }
    return 0;
}

/* Byte length of the valid UTF-8 sequence at s, 0 when invalid. */
static size_t utf8_seq(const unsigned char *s, size_t avail)
{
    size_t n = s[0] < 0x80             ? 1
               : (s[0] & 0xe0) == 0xc0 ? 2
               : (s[0] & 0xf0) == 0xe0 ? 3
               : (s[0] & 0xf8) == 0xf0 ? 4
                                       : 0;
    if (n == 0 || n > avail) return 0;
    return utf8_is_valid((const char *)s, n) ? n : 0;
}

void pu_sanitize(const char *in, size_t len, const char *secret, size_t max_chars, char *out,
                 size_t outlen)
{
    if (outlen == 0) return;
    out[0] = '\0';
    if (!in) return;
    if (len > 8192) len = 8192; /* the head is all a short message can use */
    size_t slen = secret ? strlen(secret) : 0;
    size_t o = 0, chars = 0;
    bool space = true; /* drops leading spaces */
    bool cut = false;
    const unsigned char *p = (const unsigned char *)in;
    for (size_t i = 0; i < len;) {
        const char *piece;
        size_t plen;
        size_t adv;
        size_t kt;
        bool prev_word = i > 0 && word_char(p[i - 1]);
        if (slen >= 4 && len - i >= slen && memcmp(p + i, secret, slen) == 0) {
            piece = "[redacted]";
            plen = 10;
            adv = slen;
        } else if (!prev_word && (kt = key_token_len((const char *)p + i, len - i)) > 0) {
            piece = "[redacted]";
            plen = 10;
            adv = kt;
        } else if (p[i] < 0x20 || p[i] == 0x7f || p[i] == ' ') {
            adv = 1;
            if (space) {
                i += adv;
                continue;
            }
            piece = " ";
            plen = 1;
        } else {
            size_t n = utf8_seq(p + i, len - i);
            if (n == 0) { /* invalid byte: drop it */
                i++;
                continue;
            }
            piece = (const char *)p + i;
            plen = n;
            adv = n;
        }
        size_t pchars = plen == 10 && piece[0] == '[' ? 10 : 1;
        if (chars + pchars > max_chars || o + plen + 4 > outlen) {
            cut = true;
            break;
        }
        memcpy(out + o, piece, plen);
        o += plen;
        chars += pchars;
        space = piece[0] == ' ';
        i += adv;
    }
    while (o > 0 && out[o - 1] == ' ')
        o--;
    if (cut && o + 4 <= outlen) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

char *pu_url_segment(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s);
    char *out = malloc(n * 3 + 1);
    if (!out) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
            out[o++] = (char)ch;
        } else {
            out[o++] = '%';
            out[o++] = hex[ch >> 4];
            out[o++] = hex[ch & 15];
        }
    }
    out[o] = '\0';
    return out;
}

bool pu_url_is_http(const char *url)
{
    char host[256];
    return url && (strncmp(url, "https://", 8) == 0 || strncmp(url, "http://", 7) == 0) &&
           pu_url_host(url, host, sizeof host) == 0 && host[0];
}

int pu_url_host(const char *url, char *out, size_t outlen)
{
    const char *p = strstr(url, "://");
    if (!p) return -1;
    p += 3;
    const char *end = p + strcspn(p, "/?#");
    const char *at = memchr(p, '@', (size_t)(end - p));
    if (at) p = at + 1; /* userinfo */
    const char *hend;
    if (*p == '[') { /* IPv6 literal */
        const char *rb = memchr(p, ']', (size_t)(end - p));
        if (!rb) return -1;
        p++;
        hend = rb;
    } else {
        hend = memchr(p, ':', (size_t)(end - p));
        if (!hend) hend = end;
    }
    size_t n = (size_t)(hend - p);
    if (n + 1 > outlen) return -1;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)tolower((unsigned char)p[i]);
    out[n] = '\0';
    return 0;
}

/* ---- JSON ---- */

json_t *pu_json_parse(const struct http_response *r)
{
    if (!r->body || r->body_len == 0) return NULL;
    return json_loadb(r->body, r->body_len, JSON_DECODE_ANY, NULL);
}

int pu_json_request(struct http_request *req, const char *url, const json_t *obj)
{
    char *body = json_dumps(obj, JSON_COMPACT);
    if (!body) return -1;
    if (http_request_set(req, "POST", url) != 0) {
        free(body);
        return -1;
    }
    http_request_take_body(req, body, strlen(body));
    if (http_request_add_header(req, "Content-Type: application/json") != 0 ||
        http_request_add_header(req, "Accept: application/json") != 0)
        return -1;
    return 0;
}

const char *pu_json_str(const json_t *obj, const char *key)
{
    if (!json_is_object(obj)) return NULL;
    const char *s = json_string_value(json_object_get(obj, key));
    return s && s[0] ? s : NULL;
}

/* ---- errors ---- */

static const char *status_words(long status)
{
    switch (status) {
    case 400:
        return "bad request";
    case 401:
        return "unauthorized (check the API key)";
    case 402:
        return "payment required";
    case 403:
        return "forbidden";
    case 404:
        return "not found (check the model id and base URL)";
    case 408:
        return "request timeout";
    case 413:
        return "request too large";
    case 422:
        return "unprocessable request";
    case 429:
        return "rate limited";
    default:
        return status >= 500 ? "server error" : "";
    }
}

/* Appends the strings of a JSON array, "; "-separated, to b. */
static void join_strings(const json_t *arr, struct buf *b)
{
    size_t i;
    const json_t *v;
    json_array_foreach(arr, i, v)
    {
        const char *s = json_string_value(v);
        if (!s) s = pu_json_str(v, "message");
        if (!s) s = pu_json_str(v, "msg");
        if (!s) continue;
        if (b->len) buf_append_str(b, "; ");
        buf_append_str(b, s);
    }
}

static void json_error_text(const json_t *root, struct buf *b)
{
    if (json_is_string(root)) {
        buf_append_str(b, json_string_value(root));
        return;
    }
    if (!json_is_object(root)) return;
    const json_t *err = json_object_get(root, "error");
    const char *s;
    if (json_is_object(err)) {
        if (!(s = pu_json_str(err, "message"))) s = pu_json_str(err, "code");
        if (s) buf_append_str(b, s);
        return;
    }
    if (json_is_string(err) && json_string_value(err)[0]) {
        /* A1111: {"error": "OutOfMemoryError", "errors": "CUDA out of memory ..."} */
        buf_append_str(b, json_string_value(err));
        if (!(s = pu_json_str(root, "errors"))) s = pu_json_str(root, "detail");
        if (s) buf_printf(b, ": %s", s);
        return;
    }
    const json_t *errors = json_object_get(root, "errors");
    if (json_is_array(errors) && json_array_size(errors) > 0) {
        /* Stability: {"id": ..., "name": "bad_request", "errors": ["..."]} */
        struct buf tmp = BUF_INIT;
        join_strings(errors, &tmp);
        if ((s = pu_json_str(root, "name"))) buf_printf(b, "%s: ", s);
        if (tmp.len) buf_append(b, tmp.data, tmp.len);
        buf_free(&tmp);
        return;
    }
    if ((s = pu_json_str(root, "message")) || (s = pu_json_str(root, "Message"))) {
        buf_append_str(b, s);
        return;
    }
    const json_t *detail = json_object_get(root, "detail");
    if (json_is_string(detail)) {
        buf_append_str(b, json_string_value(detail));
        return;
    }
    if (json_is_array(detail)) { /* FastAPI validation errors: [{"loc": [...], "msg": "..."}] */
        join_strings(detail, b);
        return;
    }
    if ((s = pu_json_str(root, "name")) || (s = pu_json_str(root, "status"))) buf_append_str(b, s);
}

void pu_error_message(const struct http_response *r, const char *secret, char *out, size_t outlen)
{
    if (outlen) out[0] = '\0';
    if (!r->body || r->body_len == 0) return;
    json_t *root = pu_json_parse(r);
    struct buf b = BUF_INIT;
    if (root) {
        json_error_text(root, &b);
        json_decref(root);
    } else {
        size_t skip = 0;
        while (skip < r->body_len && isspace((unsigned char)r->body[skip]))
            skip++;
        bool html = (r->content_type && strstr(r->content_type, "html")) ||
                    (skip < r->body_len && r->body[skip] == '<');
        if (html)
            buf_append_str(&b, "unexpected HTML page");
        else
            buf_append(&b, r->body + skip, r->body_len - skip);
    }
    if (b.len) pu_sanitize(b.data, b.len, secret, PU_MSG_MAX, out, outlen);
    buf_free(&b);
}

void pu_http_error_text(const struct provider_call *c, const char *label,
                        const struct http_response *r, char *out, size_t outlen)
{
    const char *secret = c && c->model ? c->model->key : NULL;
    if (r->status == 0) {
        char why[128] = "";
        if (r->transport_error) {
            pu_sanitize(r->transport_error, strlen(r->transport_error), secret, 100, why,
                        sizeof why);
        }
        if (why[0])
            snprintf(out, outlen, "%s: request failed (%s)", label, why);
        else
            snprintf(out, outlen, "%s: no response", label);
        return;
    }
    char msg[PU_MSG_MAX * 4 + 8];
    pu_error_message(r, secret, msg, sizeof msg);
    const char *words = msg[0] ? msg : status_words(r->status);
    snprintf(out, outlen, "%s: HTTP %ld%s%s", label, r->status, words[0] ? ": " : "", words);
}

void pu_fail_http(struct provider_step *out, const struct provider_call *c, const char *label,
                  const struct http_response *r)
{
    pu_http_error_text(c, label, r, out->error, sizeof out->error);
    out->kind = STEP_ERROR;
}

bool pu_status_ok(const struct http_response *r)
{
    return r->status >= 200 && r->status < 300;
}

/* ---- steps ---- */

bool pu_missing_key(const struct provider_call *c, struct provider_step *out, const char *label)
{
    if (c->model->key[0]) return false;
    provider_step_error(out, "%s: no API key configured (MODEL_%d_KEY)", label, c->model->slot);
    return true;
}

static size_t image_cap(const struct provider_call *c)
{
    return c->cfg ? c->cfg->max_image_bytes : 0;
}

int pu_image_from_base64(const struct provider_call *c, struct provider_step *out,
                         const char *label, const char *b64, size_t len)
{
    size_t cap = image_cap(c);
    if (cap && len / 4 * 3 > cap + 3) {
        provider_step_error(out, "%s: image is larger than the %zu byte limit", label, cap);
        return 0;
    }
    buf_reset(&out->image);
    if (pu_base64_decode(b64, len, &out->image) != 0) {
        buf_free(&out->image);
        provider_step_error(out, "%s: image data is not valid base64", label);
        return 0;
    }
    if (out->image.len == 0) {
        buf_free(&out->image);
        provider_step_error(out, "%s: empty image data", label);
        return 0;
    }
    out->kind = STEP_IMAGE;
    return 0;
}

int pu_image_from_bytes(const struct provider_call *c, struct provider_step *out, const char *label,
                        const struct http_response *r)
{
    size_t cap = image_cap(c);
    const char *ct = r->content_type ? r->content_type : "";
    if (r->body_len == 0) {
        provider_step_error(out, "%s: empty image", label);
        return 0;
    }
    if (cap && r->body_len > cap) {
        provider_step_error(out, "%s: image is larger than the %zu byte limit", label, cap);
        return 0;
    }
    if (strncasecmp(ct, "text/html", 9) == 0 || r->body[0] == '<') {
        provider_step_error(out, "%s: expected an image but got an HTML page", label);
        return 0;
    }
    if (strncasecmp(ct, "application/json", 16) == 0 || r->body[0] == '{') {
        provider_step_error(out, "%s: expected an image but got JSON", label);
        return 0;
    }
    buf_reset(&out->image);
    if (buf_append(&out->image, r->body, r->body_len) != 0) {
        provider_step_error(out, "%s: out of memory", label);
        return 0;
    }
    out->kind = STEP_IMAGE;
    return 0;
}

int pu_set_state(struct provider_step *out, const char *state)
{
    free(out->state);
    out->state = strdup(state);
    return out->state ? 0 : -1;
}

int pu_step_download(struct provider_step *out, const char *label, const char *url)
{
    if (!pu_url_is_http(url)) {
        provider_step_error(out, "%s: the image URL is not http(s)", label);
        return 0;
    }
    http_request_clear(&out->req);
    if (http_request_set(&out->req, "GET", url) != 0 ||
        http_request_add_header(&out->req, "Accept: image/*") != 0 ||
        pu_set_state(out, "download") != 0)
        return -1;
    out->req.body_is_image = true;
    out->kind = STEP_REQUEST;
    return 0;
}

bool pu_state_is_download(const char *state)
{
    return state && strcmp(state, "download") == 0;
}

int pu_on_download(const struct provider_call *c, const struct http_response *r,
                   struct provider_step *out, const char *label)
{
    char lab[96];
    snprintf(lab, sizeof lab, "%s image download", label);
    if (!pu_status_ok(r)) {
        pu_fail_http(out, c, lab, r);
        return 0;
    }
    return pu_image_from_bytes(c, out, lab, r);
}

json_t *pu_json_answer(const struct provider_call *c, const struct http_response *r,
                       struct provider_step *out, const char *label)
{
    if (!pu_status_ok(r)) {
        pu_fail_http(out, c, label, r);
        return NULL;
    }
    json_t *root = pu_json_parse(r);
    if (!json_is_object(root)) {
        json_decref(root);
        provider_step_error(out, "%s: the response is not JSON", label);
        return NULL;
    }
    return root;
}

int pu_image_from_json_b64(const struct provider_call *c, struct provider_step *out,
                           const char *label, const json_t *value)
{
    if (json_is_string(value) && json_string_length(value) > 0)
        return pu_image_from_base64(c, out, label, json_string_value(value),
                                    json_string_length(value));
    provider_step_error(out, "%s: no image in the response", label);
    return 0;
}

int pu_bedrock_invoke_step(const struct provider_call *c, const char *label, const json_t *body,
                           struct provider_step *out)
{
    char err[128];
    int rc = pu_bedrock_build(c, "invoke", body, &out->req, err, sizeof err);
    if (rc < 0) return -1;
    if (rc > 0) {
        provider_step_error(out, "%s: %s", label, err);
        return 0;
    }
    out->kind = STEP_REQUEST;
    return 0;
}

int pu_openai_images_result(const struct provider_call *c, const struct http_response *r,
                            struct provider_step *out, const char *label)
{
    json_t *root = pu_json_answer(c, r, out, label);
    if (!root) return 0;
    const json_t *item = json_array_get(json_object_get(root, "data"), 0);
    const json_t *b64 = json_object_get(item, "b64_json");
    const char *url = pu_json_str(item, "url");
    int rc = 0;
    if (json_is_string(b64) && json_string_length(b64) > 0)
        rc = pu_image_from_base64(c, out, label, json_string_value(b64), json_string_length(b64));
    else if (url)
        rc = pu_step_download(out, label, url);
    else
        provider_step_error(out, "%s: no image in the response", label);
    json_decref(root);
    return rc;
}

static void trim_slashes(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == '/')
        s[--n] = '\0';
}

int pu_root(const char *provider, const struct provider_call *c, char *out, size_t outlen)
{
    const struct provider_ops *ops = provider_find(provider);
    if (!ops) return -1;
    if (provider_root(ops, c->cfg, c->model, out, outlen) != 0 || !out[0]) return -1;
    trim_slashes(out);
    return 0;
}

int pu_bedrock_root(const struct provider_call *c, char *out, size_t outlen)
{
    if (c->model->base_url[0]) {
        snprintf(out, outlen, "%s", c->model->base_url);
    } else if (c->cfg->endpoint_bedrock[0]) {
        snprintf(out, outlen, "%s", c->cfg->endpoint_bedrock);
    } else {
        if (!c->cfg->aws_region[0]) return -1;
        snprintf(out, outlen, "https://bedrock-runtime.%s.amazonaws.com", c->cfg->aws_region);
    }
    trim_slashes(out);
    return 0;
}

int pu_bedrock_build(const struct provider_call *c, const char *action, const json_t *body,
                     struct http_request *req, char *err, size_t errlen)
{
    char root[600], url[900];
    if (pu_bedrock_root(c, root, sizeof root) != 0) {
        snprintf(err, errlen, "AWS_REGION is not set");
        return 1;
    }
    if (!c->cfg->aws_access_key_id[0] || !c->cfg->aws_secret_access_key[0]) {
        snprintf(err, errlen, "no AWS credentials configured");
        return 1;
    }
    /* Model ids carry ':' (amazon.nova-canvas-v1:0), which Bedrock wants percent-encoded. */
    char *seg = pu_url_segment(c->model->id);
    if (!seg) return -1;
    snprintf(url, sizeof url, "%s/model/%s/%s", root, seg, action);
    free(seg);
    if (pu_json_request(req, url, body) != 0) return -1;
    snprintf(req->sigv4_service, sizeof req->sigv4_service, "bedrock");
    return 0;
}

const char *pu_gemini_block_reason(const json_t *root)
{
    const char *s = pu_json_str(json_object_get(root, "promptFeedback"), "blockReason");
    if (s) return s;
    static const char *const blocked[] = {
        "SAFETY",    "IMAGE_SAFETY", "PROHIBITED_CONTENT", "IMAGE_PROHIBITED_CONTENT",
        "BLOCKLIST", "SPII",         "RECITATION",         "IMAGE_RECITATION",
    };
    const json_t *cand = json_array_get(json_object_get(root, "candidates"), 0);
    const char *fr = pu_json_str(cand, "finishReason");
    if (!fr) return NULL;
    for (size_t i = 0; i < sizeof blocked / sizeof blocked[0]; i++)
        if (strcmp(fr, blocked[i]) == 0) return fr;
    return NULL;
}

/* ---- multipart/form-data ---- */

int pu_multipart_init(struct pu_multipart *m)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char rnd[16];
    memset(m, 0, sizeof *m);
    if (id_random_bytes(rnd, sizeof rnd) != 0) return -1;
    int o = snprintf(m->boundary, sizeof m->boundary, "----PixelPromptBoundary");
    for (size_t i = 0; i < sizeof rnd; i++) {
        m->boundary[o++] = hex[rnd[i] >> 4];
        m->boundary[o++] = hex[rnd[i] & 15];
    }
    m->boundary[o] = '\0';
    return 0;
}

int pu_multipart_field(struct pu_multipart *m, const char *name, const char *value)
{
    if (strstr(value, m->boundary)) return -1;
    return buf_printf(&m->body, "--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n",
                      m->boundary, name, value);
}

int pu_multipart_finish(struct pu_multipart *m, struct http_request *req)
{
    if (buf_printf(&m->body, "--%s--\r\n", m->boundary) != 0) return -1;
    if (http_request_add_header(req, "Content-Type: multipart/form-data; boundary=%s",
                                m->boundary) != 0)
        return -1;
    size_t len = 0;
    char *body = buf_steal(&m->body, &len);
    http_request_take_body(req, body, len);
    return 0;
}

void pu_multipart_free(struct pu_multipart *m)
{
    buf_free(&m->body);
}
