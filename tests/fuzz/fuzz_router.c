/* Fuzz target: router_handle on an arbitrary request, against a real app (fuzz_app.h).
 *
 * The input reads like an HTTP request, so the seed corpus stays legible:
 *   line 1            the method
 *   line 2            the path, "?name=value&..." splitting off the query (no %-decoding: the
 *                     front doors decode before the router); every '@' becomes the id of the
 *                     seeded job, so status, cancel, gallery and file routes find something
 *   "Name: value"     header lines, up to an empty line ("X-Client-Addr" sets the client address)
 *   the rest          the body (an exact-size copy, not NUL-terminated, as the front doors pass it)
 * Missing parts are empty. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app/app.h"
#include "fuzz_app.h"

#define MAX_PAIRS 16

struct fuzz_req {
    struct request req;
    const char *hname[MAX_PAIRS], *hvalue[MAX_PAIRS];
    int nh;
    const char *qname[MAX_PAIRS], *qvalue[MAX_PAIRS];
    int nq;
};

static const char *f_header(const struct request *req, const char *name)
{
    const struct fuzz_req *f = req->front;
    for (int i = 0; i < f->nh; i++)
        if (strcasecmp(f->hname[i], name) == 0) return f->hvalue[i];
    return NULL;
}

static const char *f_query(const struct request *req, const char *name)
{
    const struct fuzz_req *f = req->front;
    for (int i = 0; i < f->nq; i++)
        if (strcmp(f->qname[i], name) == 0) return f->qvalue[i];
    return NULL;
}

/* The next line of [*p, end) as a new NUL-terminated string (caller frees); NULL at the end. */
static char *next_line(const char **p, const char *end)
{
    if (*p >= end) return NULL;
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));
    size_t n = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
    char *s = malloc(n + 1);
    if (!s) abort();
    memcpy(s, *p, n);
    s[n] = '\0';
    if (n && s[n - 1] == '\r') s[n - 1] = '\0';
    *p += n + (nl ? 1 : 0);
    return s;
}

/* Copies path with each '@' replaced by the seeded job id. */
static char *expand_path(const char *path, const char *id)
{
    size_t at = 0;
    for (const char *c = path; *c; c++)
        at += *c == '@';
    size_t idlen = strlen(id);
    char *out = malloc(strlen(path) + at * idlen + 1);
    if (!out) abort();
    char *o = out;
    for (const char *c = path; *c; c++) {
        if (*c == '@') {
            memcpy(o, id, idlen);
            o += idlen;
        } else {
            *o++ = *c;
        }
    }
    *o = '\0';
    return out;
}

/* Splits "a=1&b&c=3" in place into the query table. */
static void split_query(struct fuzz_req *f, char *q)
{
    while (q && *q && f->nq < MAX_PAIRS) {
        char *amp = strchr(q, '&');
        if (amp) *amp = '\0';
        char *eq = strchr(q, '=');
        if (eq) *eq = '\0';
        f->qname[f->nq] = q;
        f->qvalue[f->nq] = eq ? eq + 1 : "";
        f->nq++;
        q = amp ? amp + 1 : NULL;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct app *app = fuzz_app();
    const char *p = (const char *)data, *end = p + size;
    char *method = next_line(&p, end);
    char *raw_path = next_line(&p, end);
    char *lines[MAX_PAIRS];
    int nlines = 0;
    struct fuzz_req f;
    memset(&f, 0, sizeof f);
    snprintf(f.req.client_addr, sizeof f.req.client_addr, "192.0.2.10");
    snprintf(f.req.correlation_id, sizeof f.req.correlation_id, "fuzz");
    while (nlines < MAX_PAIRS) {
        char *line = next_line(&p, end);
        if (!line) break;
        if (!line[0]) {
            free(line);
            break;
        }
        lines[nlines++] = line;
        char *colon = strchr(line, ':');
        if (!colon) continue;
        *colon = '\0';
        const char *value = colon + 1;
        while (*value == ' ')
            value++;
        if (strcasecmp(line, "X-Client-Addr") == 0) {
            snprintf(f.req.client_addr, sizeof f.req.client_addr, "%s", value);
            continue;
        }
        f.hname[f.nh] = line;
        f.hvalue[f.nh] = value;
        f.nh++;
    }
    size_t body_len = (size_t)(end - p);
    char *body = body_len ? malloc(body_len) : NULL;
    if (body_len && !body) abort();
    if (body_len) memcpy(body, p, body_len);

    char *path = expand_path(raw_path ? raw_path : "", fuzz_app_job_id());
    char *q = strchr(path, '?');
    if (q) *q++ = '\0';
    split_query(&f, q);

    f.req.method = method ? method : "";
    f.req.path = path;
    f.req.body = body;
    f.req.body_len = body_len;
    f.req.header = f_header;
    f.req.query = f_query;
    f.req.front = &f;

    struct response resp;
    response_init(&resp);
    router_handle(app, &f.req, &resp);
    fuzz_finish_response(&resp);

    free(path);
    free(body);
    for (int i = 0; i < nlines; i++)
        free(lines[i]);
    free(raw_path);
    free(method);
    return 0;
}
