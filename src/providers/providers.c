/* The table of providers by name, and the small helpers every adapter shares. */
#include "providers/provider.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const struct provider_ops provider_demo;
extern const struct provider_ops provider_openai;
extern const struct provider_ops provider_gemini;
extern const struct provider_ops provider_imagen;
extern const struct provider_ops provider_bedrock_nova;
extern const struct provider_ops provider_bedrock_sd;
extern const struct provider_ops provider_stability;
extern const struct provider_ops provider_bfl;
extern const struct provider_ops provider_recraft;
extern const struct provider_ops provider_openai_compatible;
extern const struct provider_ops provider_automatic1111;

/* Adding a provider: one new file and one line here. */
static const struct provider_ops *const all_providers[] = {
    &provider_demo,          &provider_openai,
    &provider_gemini,        &provider_imagen,
    &provider_bedrock_nova,  &provider_bedrock_sd,
    &provider_stability,     &provider_bfl,
    &provider_recraft,       &provider_openai_compatible,
    &provider_automatic1111,
};

const struct provider_ops *provider_find(const char *name)
{
    for (size_t i = 0; i < sizeof all_providers / sizeof all_providers[0]; i++)
        if (name && strcmp(all_providers[i]->name, name) == 0) return all_providers[i];
    return NULL;
}

const struct provider_ops *provider_at(size_t i)
{
    return i < sizeof all_providers / sizeof all_providers[0] ? all_providers[i] : NULL;
}

int provider_root(const struct provider_ops *ops, const struct config *cfg,
                  const struct model_config *m, char *out, size_t outlen)
{
    const char *root = m->base_url[0] ? m->base_url : ops->default_root;
    if (!root) return -1;
    /* AWS_ENDPOINT_URL_BEDROCK_RUNTIME replaces Bedrock's default root, as in the AWS SDKs. */
    if (!m->base_url[0] && cfg->endpoint_bedrock[0] && strstr(root, "bedrock-runtime"))
        root = cfg->endpoint_bedrock;
    /* "{region}" in a default root (Bedrock) is the configured AWS region. */
    const char *hole = strstr(root, "{region}");
    if (hole)
        snprintf(out, outlen, "%.*s%s%s", (int)(hole - root), root, cfg->aws_region, hole + 8);
    else
        snprintf(out, outlen, "%s", root);
    size_t n = strlen(out);
    while (n > 0 && out[n - 1] == '/')
        out[--n] = '\0'; /* roots are joined with "/path" */
    return 0;
}

void provider_step_init(struct provider_step *s)
{
    memset(s, 0, sizeof *s);
}

void provider_step_clear(struct provider_step *s)
{
    http_request_clear(&s->req);
    buf_free(&s->image);
    free(s->state);
    memset(s, 0, sizeof *s);
}

void provider_step_error(struct provider_step *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->error, sizeof s->error, fmt, ap);
    va_end(ap);
    s->kind = STEP_ERROR;
}

int http_request_set(struct http_request *r, const char *method, const char *url)
{
    snprintf(r->method, sizeof r->method, "%s", method);
    free(r->url);
    r->url = strdup(url);
    return r->url ? 0 : -1;
}

int http_request_add_header(struct http_request *r, const char *fmt, ...)
{
    if (r->n_headers >= HTTP_MAX_HEADERS) return -1;
    va_list ap;
    va_start(ap, fmt);
    char *line = NULL;
    int n = vasprintf(&line, fmt, ap);
    va_end(ap);
    if (n < 0) return -1;
    r->headers[r->n_headers++] = line;
    return 0;
}

void http_request_take_body(struct http_request *r, char *body, size_t len)
{
    free(r->body);
    r->body = body;
    r->body_len = len;
}

void http_request_clear(struct http_request *r)
{
    free(r->url);
    for (int i = 0; i < r->n_headers; i++)
        free(r->headers[i]);
    free(r->body);
    memset(r, 0, sizeof *r);
}
