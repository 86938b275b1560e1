/* GET /images/..., GET /thumbs/... (blob bytes) and the embedded web UI. */
#include <stdio.h>
#include <string.h>

#include "app/errors.h"
#include "app/routes.h"
#include "app/web_assets.h"
#include "blob/blob.h"

static bool etag_matches(const struct request *req, const char *etag)
{
    const char *inm = req->header ? req->header(req, "If-None-Match") : NULL;
    return inm && etag[0] && strstr(inm, etag) != NULL;
}

/* The route prefix is part of the key ("images/..." or "thumbs/..."). */
static void serve_blob(struct app *app, const struct request *req, const char *prefix,
                       const char *rest, struct response *resp)
{
    char key[300];
    snprintf(key, sizeof key, "%s/%s", prefix, rest);
    if (!blob_key_is_valid(key)) {
        error_simple(resp, 404, "NOT_FOUND", "No such image", NULL);
        return;
    }
    char type[64] = "", etag[64] = "";
    int rc = blob_get(app->blob, key, &resp->body, type, etag);
    if (rc == BLOB_NOT_FOUND || rc == BLOB_INVALID) {
        buf_reset(&resp->body);
        error_simple(resp, 404, "NOT_FOUND", "No such image", NULL);
        return;
    }
    if (rc != BLOB_OK) {
        buf_reset(&resp->body);
        error_unavailable(resp, 5);
        return;
    }
    resp->status = 200;
    snprintf(resp->content_type, sizeof resp->content_type, "%s",
             type[0] ? type : blob_content_type_for(key));
    if (etag[0]) response_set_header(resp, "ETag", etag);
    /* Keys are never reused for other bytes, so they can be cached for good. */
    response_set_header(resp, "Cache-Control", "public, max-age=31536000, immutable");
    if (etag_matches(req, etag)) {
        resp->status = 304;
        buf_reset(&resp->body);
    }
}

void handle_image_file(struct app *app, const struct request *req,
                       const struct route_params *params, struct response *resp)
{
    serve_blob(app, req, "images", params->value[0], resp);
}

void handle_thumb_file(struct app *app, const struct request *req,
                       const struct route_params *params, struct response *resp)
{
    serve_blob(app, req, "thumbs", params->value[0], resp);
}

int serve_web_asset(const struct request *req, const char *path, struct response *resp)
{
    if (strcmp(path, "/") == 0) path = "/index.html";
    const struct web_asset *a = NULL;
    for (int i = 0; i < web_asset_count; i++)
        if (strcmp(web_assets[i].path, path) == 0) a = &web_assets[i];
    if (!a) return -1;
    resp->status = 200;
    snprintf(resp->content_type, sizeof resp->content_type, "%s", a->content_type);
    response_set_header(resp, "ETag", a->etag);
    response_set_header(resp, "Vary", "Accept-Encoding");
    bool revalidate = strstr(a->path, ".html") || strcmp(a->path, "/config.js") == 0;
    response_set_header(resp, "Cache-Control", revalidate ? "no-cache" : "public, max-age=3600");
    if (strstr(a->path, ".html"))
        response_set_header(resp, "Content-Security-Policy",
                            "default-src 'self'; img-src 'self' data: blob: https: http:; "
                            "connect-src 'self' https: http:; style-src 'self'; "
                            "script-src 'self'; object-src 'none'; base-uri 'none'; "
                            "frame-ancestors 'none'");
    if (etag_matches(req, a->etag)) {
        resp->status = 304;
        return 0;
    }
    const char *ae = req->header ? req->header(req, "Accept-Encoding") : NULL;
    if (ae && strstr(ae, "gzip") && a->gz_len < a->len) {
        resp->static_body = a->gz;
        resp->static_len = a->gz_len;
        response_set_header(resp, "Content-Encoding", "gzip");
    } else {
        resp->static_body = a->data;
        resp->static_len = a->len;
    }
    return 0;
}
