#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "app/deferred.h"
#include "app/http_types.h"

void response_init(struct response *r)
{
    memset(r, 0, sizeof *r);
    r->status = 200;
}

void response_clear(struct response *r)
{
    buf_free(&r->body);
    if (r->stream) r->stream->free(r->stream);
    if (r->deferred) deferred_release(r->deferred);
    memset(r, 0, sizeof *r);
}

void response_set_header(struct response *r, const char *name, const char *value)
{
    for (int i = 0; i < r->n_headers; i++) {
        if (strcasecmp(r->headers[i].name, name) == 0) {
            snprintf(r->headers[i].value, sizeof r->headers[i].value, "%s", value);
            return;
        }
    }
    if (r->n_headers >= RESPONSE_MAX_HEADERS) return;
    snprintf(r->headers[r->n_headers].name, sizeof r->headers[0].name, "%s", name);
    snprintf(r->headers[r->n_headers].value, sizeof r->headers[0].value, "%s", value);
    r->n_headers++;
}

const char *response_header(const struct response *r, const char *name)
{
    for (int i = 0; i < r->n_headers; i++)
        if (strcasecmp(r->headers[i].name, name) == 0) return r->headers[i].value;
    return NULL;
}

int response_json(struct response *r, int status, json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(body);
    if (!text) return -1;
    buf_reset(&r->body);
    int rc = buf_append_str(&r->body, text);
    free(text);
    r->status = status;
    snprintf(r->content_type, sizeof r->content_type, "application/json");
    r->static_body = NULL;
    return rc;
}
