/* Handlers, one file per route group (routes_*.c), all with the same signature. The route table
 * itself is in router.c and reads like the contract in DESIGN §4. */
#ifndef PP_APP_ROUTES_H
#define PP_APP_ROUTES_H

#include "app/app.h"

/* Path parameters captured by {name} (one segment) or {name+} (the rest). */
struct route_params {
    char value[2][256];
    int n;
};

typedef void (*route_handler)(struct app *app, const struct request *req,
                              const struct route_params *params, struct response *resp);

void handle_generate(struct app *, const struct request *, const struct route_params *,
                     struct response *);
void handle_status(struct app *, const struct request *, const struct route_params *,
                   struct response *);
void handle_status_events(struct app *, const struct request *, const struct route_params *,
                          struct response *);
void handle_cancel(struct app *, const struct request *, const struct route_params *,
                   struct response *);
void handle_enhance(struct app *, const struct request *, const struct route_params *,
                    struct response *);
void handle_gallery_list(struct app *, const struct request *, const struct route_params *,
                         struct response *);
void handle_gallery_detail(struct app *, const struct request *, const struct route_params *,
                           struct response *);
void handle_gallery_zip(struct app *, const struct request *, const struct route_params *,
                        struct response *);
void handle_log(struct app *, const struct request *, const struct route_params *,
                struct response *);
void handle_models(struct app *, const struct request *, const struct route_params *,
                   struct response *);
void handle_healthz(struct app *, const struct request *, const struct route_params *,
                    struct response *);
void handle_metrics(struct app *, const struct request *, const struct route_params *,
                    struct response *);
void handle_image_file(struct app *, const struct request *, const struct route_params *,
                       struct response *);
void handle_thumb_file(struct app *, const struct request *, const struct route_params *,
                       struct response *);
/* Serves an embedded web asset for path; returns 0, or -1 when there is none. */
int serve_web_asset(const struct request *req, const char *path, struct response *resp);

/* Shared by handlers (routes_common.c) */
struct json_t;
/* Parses the body as a JSON object. On failure fills resp with the 4xx and returns NULL. */
struct json_t *request_json_object(const struct app *app, const struct request *req,
                                   struct response *resp);
/* Reads and checks "prompt" (string, not blank, at most max_codepoints). Returns it (borrowed from
 * body), or NULL with resp set to the 400. */
const char *request_prompt(const struct json_t *body, int max_codepoints, struct response *resp);
/* Writes the public URL of a blob key (PUBLIC_BASE_URL, CLOUDFRONT_DOMAIN, or root-relative). */
void app_blob_url(void *app, const char *key, char *out, size_t outlen);
/* Maps a store error to the response (503 for outages, 404 for missing/invalid ids). */
void respond_store_error(struct response *resp, int store_rc, const char *job_id);

#endif
