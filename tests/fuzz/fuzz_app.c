/* See fuzz_app.h. */
#include "fuzz_app.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <jansson.h>

#include "app/client_addr.h"
#include "app/config.h"
#include "app/filter.h"
#include "blob/blob.h"
#include "engine/image.h"
#include "store/job.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/ids.h"
#include "util/log.h"

static char data_dir[256];
static struct config cfg;
static struct app app;
static struct store *store;
static struct blob *blob;
static struct content_filter *filter;
static struct addr_list *ip_include, *trusted;
static char job_id[ID_LEN + 1];

static const char *fake_getenv(const char *name)
{
    if (strcmp(name, "DATA_DIR") == 0) return data_dir;
    if (strcmp(name, "LOG_LEVEL") == 0) return "ERROR";
    return NULL;
}

static int fake_start_job(void *ctx, const struct job *job)
{
    (void)ctx;
    (void)job;
    return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void teardown(void)
{
    if (store) store_close(store);
    if (blob) blob_close(blob);
    filter_free(filter);
    addr_list_free(ip_include);
    addr_list_free(trusted);
    if (data_dir[0]) nftw(data_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void die(const char *what, const char *err)
{
    fprintf(stderr, "fuzz_app: %s: %s\n", what, err);
    abort();
}

static const char *no_lookup(const struct request *req, const char *name)
{
    (void)req;
    (void)name;
    return NULL;
}

/* One job with a completed PNG and its thumbnail, as the engine would leave it. */
static void seed_job(void)
{
    const char *body = "{\"prompt\":\"a red fox in snow\",\"models\":[\"demo-gradient\"]}";
    struct request req = {.method = "POST",
                          .path = "/generate",
                          .body = body,
                          .body_len = strlen(body),
                          .client_addr = "192.0.2.1",
                          .correlation_id = "fuzz-seed",
                          .header = no_lookup,
                          .query = no_lookup};
    struct response resp;
    response_init(&resp);
    router_handle(&app, &req, &resp);
    json_t *doc = resp.body.len ? json_loadb(resp.body.data, resp.body.len, 0, NULL) : NULL;
    const char *id = json_string_value(json_object_get(doc, "jobId"));
    if (resp.status != 200 || !id) die("seed job", resp.body.data ? resp.body.data : "no body");
    snprintf(job_id, sizeof job_id, "%s", id);
    json_decref(doc);
    response_clear(&resp);

    unsigned char rgb[16 * 12 * 3];
    for (size_t i = 0; i < sizeof rgb; i++)
        rgb[i] = (unsigned char)(i * 7);
    struct buf png = BUF_INIT, thumb = BUF_INIT;
    struct image_limits lim = {1u << 20, 64};
    if (image_encode_png_rgb(rgb, 16, 12, &png) != 0 ||
        image_thumbnail(png.data, png.len, &lim, 8, &thumb, NULL) != IMAGE_OK)
        die("seed image", "encoding failed");
    struct result r;
    memset(&r, 0, sizeof r);
    r.index = 1;
    r.status = RS_COMPLETED;
    snprintf(r.image_key, sizeof r.image_key, "images/%s/01-demo-gradient.png", job_id);
    snprintf(r.thumb_key, sizeof r.thumb_key, "thumbs/%s/01-demo-gradient.webp", job_id);
    snprintf(r.content_type, sizeof r.content_type, "image/png");
    r.width = 16;
    r.height = 12;
    r.duration_ms = 5;
    if (blob_put(blob, r.image_key, png.data, png.len, "image/png") != 0 ||
        blob_put(blob, r.thumb_key, thumb.data, thumb.len, "image/webp") != 0 ||
        store_update_result(store, job_id, &r, RS_UNFINISHED) != STORE_OK)
        die("seed job", "storing the image failed");
    buf_free(&png);
    buf_free(&thumb);
}

struct app *fuzz_app(void)
{
    if (app.cfg) return &app;
    char err[512] = "";
    const char *tmp = getenv("TMPDIR");
    snprintf(data_dir, sizeof data_dir, "%s/pixelprompt-fuzz-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (!mkdtemp(data_dir)) die("mkdtemp", data_dir);
    atexit(teardown);
    log_set_min_level(LOG_ERROR);
    if (config_load(&cfg, fake_getenv, err, sizeof err) != 0) die("config_load", err);
    if (!(store = store_open(&cfg, err, sizeof err))) die("store_open", err);
    if (!(blob = blob_open(&cfg, err, sizeof err))) die("blob_open", err);
    if (!(filter = filter_new(cfg.filter_extra_terms))) die("filter_new", "out of memory");
    if (!(ip_include = addr_list_parse(cfg.ip_include, err, sizeof err))) die("IP_INCLUDE", err);
    if (!(trusted = addr_list_parse(cfg.trusted_proxies, err, sizeof err)))
        die("TRUSTED_PROXIES", err);
    app.cfg = &cfg;
    app.store = store;
    app.blob = blob;
    app.engine = NULL;
    app.filter = filter;
    app.ip_include = ip_include;
    app.trusted_proxies = trusted;
    app.start_job = fake_start_job;
    app.start_job_ctx = NULL;
    seed_job();
    return &app;
}

const char *fuzz_app_job_id(void)
{
    return job_id;
}

void fuzz_finish_response(struct response *resp)
{
    if (resp->stream) {
        struct buf out = BUF_INIT;
        int wait_ms = 0;
        resp->stream->next(resp->stream, &out, &wait_ms);
        buf_free(&out);
    }
    response_clear(resp);
}
