/* Black Forest Labs (FLUX): submit POST {root}/{id} with "x-key", then poll the returned
 * polling_url on engine timers until the task is Ready, then download result.sample.
 * Docs: https://docs.bfl.ai/quick_start/generating_images (submit, polling_url, result.sample)
 *       https://docs.bfl.ai/api_integration/errors (Ready, Pending, Request Moderated,
 *       Content Moderated, Task not found, Error)
 * Fixes from the original (§16 item 19): the polling_url the API returns is used (regional
 * hosts), every terminal status ends the model at once with its reason, and polls are timers
 * (500 ms growing to 2 s) bounded by the model deadline rather than 40 sleeps of 3 s.
 * The key goes only to the API root's own domain; the signed sample URL is fetched without it. */
#include <stdlib.h>
#include <string.h>

#include "providers/provider_util.h"

extern const struct provider_ops provider_bfl;

#define LABEL "BFL"
#define POLL_PREFIX "poll "

static int64_t poll_delay_ms(int poll_count)
{
    int n = poll_count < 1 ? 0 : poll_count - 1;
    return (int64_t)500 << (n > 2 ? 2 : n); /* 500, 1000, 2000, 2000, ... */
}

static bool is_ip_literal(const char *host)
{
    return strchr(host, ':') || strspn(host, "0123456789.") == strlen(host);
}

/* The polling URL must stay on the root's host or its parent domain (api.bfl.ai ->
 * api.us1.bfl.ai is fine), so a forged response cannot send our key elsewhere. */
static bool same_site(const char *root, const char *url)
{
    char rh[256], uh[256];
    if (!pu_url_is_http(url) || pu_url_host(root, rh, sizeof rh) != 0 ||
        pu_url_host(url, uh, sizeof uh) != 0)
        return false;
    if (strncmp(root, "https://", 8) == 0 && strncmp(url, "https://", 8) != 0) return false;
    if (strcmp(rh, uh) == 0) return true;
    if (is_ip_literal(rh)) return false;
    const char *dot = strchr(rh, '.');
    const char *parent = dot && strchr(dot + 1, '.') ? dot + 1 : rh; /* "bfl.ai": itself */
    size_t pl = strlen(parent), ul = strlen(uh);
    return strcmp(uh, parent) == 0 ||
           (ul > pl && uh[ul - pl - 1] == '.' && strcmp(uh + ul - pl, parent) == 0);
}

static int bfl_start(const struct provider_call *c, struct provider_step *out)
{
    if (pu_missing_key(c, out, LABEL)) return 0;
    char root[600], url[800];
    if (provider_root(&provider_bfl, c->cfg, c->model, root, sizeof root) != 0) {
        provider_step_error(out, LABEL ": no API root");
        return 0;
    }
    char *seg = pu_url_segment(c->model->id);
    if (!seg) return -1;
    snprintf(url, sizeof url, "%s/%s", root, seg);
    free(seg);
    /* Ultra and Kontext endpoints size by aspect ratio; the others by width and height. */
    json_t *body;
    if (strstr(c->model->id, "ultra") || strstr(c->model->id, "kontext"))
        body = json_pack("{s:s, s:s}", "prompt", c->prompt, "aspect_ratio", "1:1");
    else
        body = json_pack("{s:s, s:i, s:i}", "prompt", c->prompt, "width", 1024, "height", 1024);
    if (!body) return -1;
    int rc = pu_json_request(&out->req, url, body);
    json_decref(body);
    if (rc != 0 || http_request_add_header(&out->req, "x-key: %s", c->model->key) != 0) return -1;
    out->kind = STEP_REQUEST;
    return 0;
}

static int step_poll(const struct provider_call *c, struct provider_step *out, const char *url)
{
    struct buf st = BUF_INIT;
    int rc = buf_printf(&st, POLL_PREFIX "%s", url);
    http_request_clear(&out->req);
    if (rc == 0) rc = http_request_set(&out->req, "GET", url);
    if (rc == 0) rc = http_request_add_header(&out->req, "x-key: %s", c->model->key);
    if (rc == 0) rc = http_request_add_header(&out->req, "Accept: application/json");
    if (rc == 0) rc = pu_set_state(out, st.data);
    buf_free(&st);
    if (rc != 0) return -1;
    out->kind = STEP_REQUEST;
    out->delay_ms = poll_delay_ms(c->poll_count);
    return 0;
}

static int on_submit(const struct provider_call *c, const json_t *root, struct provider_step *out)
{
    char api[600], url[900];
    if (provider_root(&provider_bfl, c->cfg, c->model, api, sizeof api) != 0) return -1;
    const char *polling = pu_json_str(root, "polling_url");
    const char *id = pu_json_str(root, "id");
    if (polling) {
        if (!same_site(api, polling)) {
            provider_step_error(out, LABEL ": the polling URL is not on the API's domain");
            return 0;
        }
        snprintf(url, sizeof url, "%s", polling);
    } else if (id) { /* older API versions answer only with an id */
        char *seg = pu_url_segment(id);
        if (!seg) return -1;
        snprintf(url, sizeof url, "%s/get_result?id=%s", api, seg);
        free(seg);
    } else {
        provider_step_error(out, LABEL ": no task id in the response");
        return 0;
    }
    return step_poll(c, out, url);
}

static int on_poll(const struct provider_call *c, const json_t *root, const char *poll_url,
                   struct provider_step *out)
{
    const char *status = pu_json_str(root, "status");
    if (!status) {
        provider_step_error(out, LABEL ": no status in the poll response");
        return 0;
    }
    if (strcmp(status, "Ready") == 0) {
        const char *sample = pu_json_str(json_object_get(root, "result"), "sample");
        if (!sample) {
            provider_step_error(out, LABEL ": ready but no sample URL");
            return 0;
        }
        return pu_step_download(out, LABEL, sample);
    }
    if (strcmp(status, "Request Moderated") == 0) {
        provider_step_error(out, LABEL ": the prompt was rejected by content moderation "
                                       "(Request Moderated)");
        return 0;
    }
    if (strcmp(status, "Content Moderated") == 0) {
        provider_step_error(out, LABEL ": the generated image was blocked by content moderation "
                                       "(Content Moderated)");
        return 0;
    }
    if (strcmp(status, "Task not found") == 0) {
        provider_step_error(out, LABEL ": task not found (unknown or expired)");
        return 0;
    }
    if (strcmp(status, "Error") == 0) {
        char why[PU_MSG_MAX * 4] = "";
        const json_t *details = json_object_get(root, "details");
        const char *s = pu_json_str(root, "error");
        if (!s) s = json_string_value(details);
        if (!s) s = pu_json_str(details, "message");
        if (s) pu_sanitize(s, strlen(s), c->model->key, PU_MSG_MAX, why, sizeof why);
        provider_step_error(out, LABEL ": generation failed%s%s", why[0] ? ": " : "", why);
        return 0;
    }
    /* Pending, Queued, Processing and statuses added later: poll again; the deadline bounds it. */
    return step_poll(c, out, poll_url);
}

static int bfl_on_response(const struct provider_call *c, const struct http_response *r,
                           struct provider_step *out)
{
    if (pu_state_is_download(c->state)) return pu_on_download(c, r, out, LABEL);
    bool polling = c->state && strncmp(c->state, POLL_PREFIX, strlen(POLL_PREFIX)) == 0;
    if (!pu_status_ok(r)) {
        pu_fail_http(out, c, polling ? LABEL " poll" : LABEL, r);
        return 0;
    }
    json_t *root = pu_json_parse(r);
    if (!json_is_object(root)) {
        json_decref(root);
        provider_step_error(out, LABEL ": the response is not JSON");
        return 0;
    }
    int rc =
        polling ? on_poll(c, root, c->state + strlen(POLL_PREFIX), out) : on_submit(c, root, out);
    json_decref(root);
    return rc;
}

const struct provider_ops provider_bfl = {
    .name = "bfl",
    .default_root = "https://api.bfl.ai/v1",
    .start = bfl_start,
    .on_response = bfl_on_response,
};
