/* GET /gallery/list, GET /gallery/{id}, GET /gallery/{id}/zip. A gallery is a job with images. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <zip.h>

#include "app/errors.h"
#include "app/routes.h"
#include "blob/blob.h"
#include "store/store.h"
#include "util/clock.h"

#define GALLERY_DEFAULT_LIMIT 24
#define GALLERY_MAX_LIMIT 100

void handle_gallery_list(struct app *app, const struct request *req,
                         const struct route_params *params, struct response *resp)
{
    (void)params;
    int limit = GALLERY_DEFAULT_LIMIT;
    const char *l = req->query ? req->query(req, "limit") : NULL;
    if (l && *l) {
        char *end = NULL;
        errno = 0;
        long v = strtol(l, &end, 10);
        if (errno || *end || v < 1 || v > GALLERY_MAX_LIMIT) {
            error_simple(resp, 400, "INVALID_LIMIT", "limit must be a whole number from 1 to 100",
                         NULL);
            return;
        }
        limit = (int)v;
    }
    const char *cursor = req->query ? req->query(req, "cursor") : NULL;
    struct gallery_page page;
    int rc = store_gallery_list(app->store, limit, cursor, &page);
    if (rc == STORE_INVALID) {
        error_simple(resp, 400, "INVALID_CURSOR", "cursor is not one this server gave out",
                     "Start again without a cursor.");
        return;
    }
    if (rc != STORE_OK) {
        respond_store_error(resp, rc, NULL);
        return;
    }
    json_t *list = json_array();
    for (int i = 0; i < page.n && list; i++) {
        const struct gallery_entry *e = &page.entries[i];
        char ts[32], url[768];
        json_t *g = json_object();
        json_object_set_new(g, "id", json_string(e->id));
        json_object_set_new(g, "timestamp",
                            json_string(clock_iso8601(e->created_ms, ts, sizeof ts)));
        json_object_set_new(g, "prompt", json_string(e->prompt ? e->prompt : ""));
        if (e->preview_key[0]) {
            app_blob_url(app, e->preview_key, url, sizeof url);
            json_object_set_new(g, "preview", json_string(url));
        } else {
            json_object_set_new(g, "preview", json_null());
        }
        json_object_set_new(g, "imageCount", json_integer(e->image_count));
        json_array_append_new(list, g);
    }
    json_t *o = json_object();
    json_object_set_new(o, "galleries", list);
    json_object_set_new(o, "total", json_integer(page.total));
    json_object_set_new(o, "nextCursor",
                        page.next_cursor[0] ? json_string(page.next_cursor) : json_null());
    gallery_page_clear(&page);
    if (response_json(resp, 200, o) != 0) error_internal(resp);
    response_set_header(resp, "Cache-Control", "no-store");
}

static json_t *image_entry(struct app *app, const struct job *job, const struct result *r)
{
    char url[768], ts[32];
    json_t *img = json_object();
    json_object_set_new(img, "key", json_string(r->image_key));
    app_blob_url(app, r->image_key, url, sizeof url);
    json_object_set_new(img, "url", json_string(url));
    if (r->thumb_key[0]) {
        app_blob_url(app, r->thumb_key, url, sizeof url);
        json_object_set_new(img, "thumbnailUrl", json_string(url));
    } else {
        json_object_set_new(img, "thumbnailUrl", json_null());
    }
    json_object_set_new(img, "model", json_string(r->model));
    json_object_set_new(img, "name", json_string(r->name));
    json_object_set_new(img, "provider", json_string(r->provider));
    json_object_set_new(img, "prompt", json_string(job->prompt));
    json_object_set_new(img, "timestamp",
                        json_string(clock_iso8601(r->completed_ms, ts, sizeof ts)));
    json_object_set_new(img, "contentType", json_string(r->content_type));
    json_object_set_new(img, "width", json_integer(r->width));
    json_object_set_new(img, "height", json_integer(r->height));
    json_object_set_new(img, "duration", json_real((double)r->duration_ms / 1000.0));
    return img;
}

void handle_gallery_detail(struct app *app, const struct request *req,
                           const struct route_params *params, struct response *resp)
{
    (void)req;
    const char *id = params->value[0];
    struct job job;
    memset(&job, 0, sizeof job);
    int rc = id_is_valid(id) ? store_get_job(app->store, id, &job) : STORE_NOT_FOUND;
    if (rc != STORE_OK && rc != STORE_NOT_FOUND) {
        respond_store_error(resp, rc, id);
        return;
    }
    json_t *images = json_array();
    char ts[32];
    for (int i = 0; rc == STORE_OK && i < job.n_results; i++)
        if (job.results[i].status == RS_COMPLETED && job.results[i].image_key[0])
            json_array_append_new(images, image_entry(app, &job, &job.results[i]));
    json_t *o = json_object();
    /* An unknown gallery is an empty one (the original's contract). */
    json_object_set_new(o, "galleryId", json_string(rc == STORE_OK ? job.id : ""));
    json_object_set_new(o, "prompt", rc == STORE_OK ? json_string(job.prompt) : json_null());
    json_object_set_new(o, "timestamp",
                        rc == STORE_OK ? json_string(clock_iso8601(job.created_ms, ts, sizeof ts))
                                       : json_null());
    json_object_set_new(o, "total", json_integer((json_int_t)json_array_size(images)));
    json_object_set_new(o, "images", images);
    if (rc == STORE_OK) job_clear(&job);
    if (response_json(resp, 200, o) != 0) error_internal(resp);
}

/* "03-demo-rings.png": slot order, then a file-system-safe model id. */
static void zip_entry_name(const struct result *r, char *out, size_t outlen)
{
    char slug[100];
    size_t n = 0;
    for (const char *p = r->model; *p && n + 1 < sizeof slug; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.';
        slug[n++] = ok ? c : '-';
    }
    slug[n] = '\0';
    const char *dot = strrchr(r->image_key, '.');
    snprintf(out, outlen, "%02d-%s%s", r->index, slug, dot ? dot : "");
}

void handle_gallery_zip(struct app *app, const struct request *req,
                        const struct route_params *params, struct response *resp)
{
    (void)req;
    const char *id = params->value[0];
    struct job job;
    if (!id_is_valid(id)) {
        error_job_not_found(resp, id);
        return;
    }
    int rc = store_get_job(app->store, id, &job);
    if (rc != STORE_OK) {
        respond_store_error(resp, rc, id);
        return;
    }
    zip_error_t zerr;
    zip_error_init(&zerr);
    zip_source_t *mem = zip_source_buffer_create(NULL, 0, 0, &zerr);
    zip_t *za = mem ? zip_open_from_source(mem, ZIP_TRUNCATE, &zerr) : NULL;
    bool ok = za != NULL;
    int added = 0;
    if (mem) zip_source_keep(mem); /* we read the archive back from it after zip_close */
    for (int i = 0; ok && i < job.n_results; i++) {
        const struct result *r = &job.results[i];
        if (r->status != RS_COMPLETED || !r->image_key[0]) continue;
        struct buf data = BUF_INIT;
        int brc = blob_get(app->blob, r->image_key, &data, NULL, NULL);
        if (brc == BLOB_NOT_FOUND) continue;
        if (brc != BLOB_OK) {
            ok = false;
            buf_free(&data);
            break;
        }
        size_t len = 0;
        void *bytes = buf_steal(&data, &len);
        /* The source frees the bytes (last argument 1) when the archive is written. */
        zip_source_t *src = zip_source_buffer(za, bytes, len, 1);
        char name[160];
        zip_entry_name(r, name, sizeof name);
        zip_int64_t idx = src ? zip_file_add(za, name, src, ZIP_FL_ENC_UTF_8) : -1;
        if (idx < 0) {
            if (src)
                zip_source_free(src);
            else
                free(bytes);
            ok = false;
            break;
        }
        /* Images are already compressed; storing them is faster and no bigger. */
        zip_set_file_compression(za, (zip_uint64_t)idx, ZIP_CM_STORE, 0);
        added++;
    }
    /* libzip deletes an archive without entries on close, so there is nothing to read back. */
    if (za && (ok && added > 0 ? zip_close(za) : (zip_discard(za), 0)) != 0) ok = false;
    if (ok && mem && added > 0) {
        zip_stat_t st;
        if (zip_source_stat(mem, &st) == 0 && zip_source_open(mem) == 0) {
            if (buf_reserve(&resp->body, (size_t)st.size) == 0) {
                zip_int64_t got = zip_source_read(mem, resp->body.data, st.size);
                ok = got == (zip_int64_t)st.size;
                resp->body.len = ok ? (size_t)got : 0;
            } else {
                ok = false;
            }
            zip_source_close(mem);
        } else {
            ok = false;
        }
    }
    if (mem) zip_source_free(mem);
    zip_error_fini(&zerr);
    if (!ok) {
        buf_reset(&resp->body);
        error_unavailable(resp, 5);
    } else if (added == 0) {
        buf_reset(&resp->body);
        error_simple(resp, 404, "NO_IMAGES", "This job has no finished images yet", NULL);
    } else {
        char disp[120];
        resp->status = 200;
        snprintf(resp->content_type, sizeof resp->content_type, "application/zip");
        snprintf(disp, sizeof disp, "attachment; filename=\"pixel-prompt-%.36s.zip\"", job.id);
        response_set_header(resp, "Content-Disposition", disp);
    }
    job_clear(&job);
}
