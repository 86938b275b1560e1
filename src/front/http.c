#include "front/http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <microhttpd.h>

#include "app/app.h"
#include "app/client_addr.h"
#include "app/config.h"
#include "app/deferred.h"
#include "app/metrics.h"
#include "util/clock.h"
#include "util/ids.h"
#include "util/log.h"

#define MHD_THREADS 2
#define STREAM_CHUNK 16384

struct parked; /* an SSE stream waiting for its next poll */

struct http_server {
    struct app *app;
    struct MHD_Daemon *daemon;
    int port;
    /* SSE streams parked (suspended) until their wake time; guarded by lock. */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct parked *parked;
    bool stopping;
    pthread_t waker;
};

/* Per-connection state, created on the first call of the access handler. */
struct conn {
    struct http_server *server;
    struct MHD_Connection *mhd;
    struct buf body;
    bool too_large;
    struct request req;
    char method[16];
    char *path;
    struct deferred *deferred; /* waiting for a deferred answer */
    int64_t started_mono;
};

struct parked {
    struct parked *next;
    struct MHD_Connection *mhd;
    int64_t wake_mono;
    char topic[40];
};

/* The streaming body of an SSE response. */
struct stream_body {
    struct http_server *server;
    struct MHD_Connection *mhd;
    struct stream *stream;
    struct buf pending; /* produced but not yet sent */
    size_t sent;
};

static const char *header_lookup(const struct request *req, const char *name)
{
    struct conn *c = req->front;
    return MHD_lookup_connection_value(c->mhd, MHD_HEADER_KIND, name);
}

static const char *query_lookup(const struct request *req, const char *name)
{
    struct conn *c = req->front;
    return MHD_lookup_connection_value(c->mhd, MHD_GET_ARGUMENT_KIND, name);
}

static void peer_address(struct MHD_Connection *mhd, char *out, size_t outlen)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(mhd, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(out, outlen, "unknown");
    if (!info || !info->client_addr) return;
    const struct sockaddr *sa = info->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  (socklen_t)outlen);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                  (socklen_t)outlen);
}

/* A client's correlation id is echoed only when it is short and plain; otherwise a new one. */
static void correlation_id(const char *given, char *out, size_t outlen)
{
    bool ok = given && *given && strlen(given) <= 64;
    for (const char *p = given; ok && *p; p++)
        ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
             *p == '-' || *p == '_' || *p == '.' || *p == ':';
    if (ok) {
        snprintf(out, outlen, "%s", given);
    } else {
        char id[ID_LEN + 1];
        if (id_new_uuid7(clock_wall_ms(), id) != 0) snprintf(id, sizeof id, "none");
        snprintf(out, outlen, "%s", id);
    }
}

static void log_request(const struct conn *c, int status)
{
    int64_t ms = clock_mono_ms() - c->started_mono;
    metrics_response(status, ms);
    json_t *f = json_pack("{s:s, s:s, s:i, s:I}", "method", c->method, "path",
                          c->path ? c->path : "", "status", status, "durationMs", (json_int_t)ms);
    log_emit(status >= 500 ? LOG_ERROR : LOG_INFO, c->req.correlation_id, "request", f);
    json_decref(f);
}

/* ---- parked SSE streams ---- */

static void park(struct http_server *s, struct MHD_Connection *mhd, const char *topic,
                 int wait_ms)
{
    struct parked *p = malloc(sizeof *p);
    if (!p) return; /* stays suspended until the client goes; MHD's timeout closes it */
    p->mhd = mhd;
    p->wake_mono = clock_mono_ms() + wait_ms;
    snprintf(p->topic, sizeof p->topic, "%s", topic);
    pthread_mutex_lock(&s->lock);
    p->next = s->parked;
    s->parked = p;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

/* One thread resumes every parked stream when its time comes, however many there are. */
static void *waker_main(void *arg)
{
    struct http_server *s = arg;
    pthread_mutex_lock(&s->lock);
    while (!s->stopping) {
        int64_t now = clock_mono_ms(), next = now + 1000;
        for (struct parked **pp = &s->parked; *pp;) {
            struct parked *p = *pp;
            if (p->wake_mono <= now) {
                *pp = p->next;
                MHD_resume_connection(p->mhd);
                free(p);
            } else {
                if (p->wake_mono < next) next = p->wake_mono;
                pp = &p->next;
            }
        }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        int64_t wait = next - clock_mono_ms();
        if (wait < 1) wait = 1;
        until.tv_sec += (time_t)(wait / 1000);
        until.tv_nsec += (long)(wait % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) until.tv_sec++, until.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&s->cond, &s->lock, &until);
    }
    /* Let MHD finish the streams it still holds. */
    while (s->parked) {
        struct parked *p = s->parked;
        s->parked = p->next;
        MHD_resume_connection(p->mhd);
        free(p);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct stream_body *sb = cls;
    if (sb->sent >= sb->pending.len) {
        buf_reset(&sb->pending);
        sb->sent = 0;
        pthread_mutex_lock(&sb->server->lock);
        bool stopping = sb->server->stopping;
        pthread_mutex_unlock(&sb->server->lock);
        if (stopping) return MHD_CONTENT_READER_END_OF_STREAM;
        int wait_ms = 250;
        enum stream_status st = sb->stream->next(sb->stream, &sb->pending, &wait_ms);
        if (st == STREAM_END && sb->pending.len == 0) return MHD_CONTENT_READER_END_OF_STREAM;
        if (st == STREAM_WAIT && sb->pending.len == 0) {
            MHD_suspend_connection(sb->mhd);
            park(sb->server, sb->mhd, sb->stream->topic, wait_ms);
            return 0;
        }
    }
    size_t n = sb->pending.len - sb->sent;
    if (n > max) n = max;
    memcpy(buf, sb->pending.data + sb->sent, n);
    sb->sent += n;
    return (ssize_t)n;
}

static void stream_free(void *cls)
{
    struct stream_body *sb = cls;
    sb->stream->free(sb->stream);
    buf_free(&sb->pending);
    free(sb);
}

/* ---- responses ---- */

static enum MHD_Result send_response(struct conn *c, struct response *r)
{
    struct MHD_Response *mr = NULL;
    if (r->stream) {
        struct stream_body *sb = calloc(1, sizeof *sb);
        if (sb) {
            sb->server = c->server;
            sb->mhd = c->mhd;
            sb->stream = r->stream;
            mr = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_CHUNK, stream_read, sb,
                                                   stream_free);
            if (mr)
                r->stream = NULL; /* now owned by the MHD response */
            else
                free(sb);
        }
    } else if (r->static_body) {
        mr = MHD_create_response_from_buffer(r->static_len, (void *)r->static_body,
                                             MHD_RESPMEM_PERSISTENT);
    } else {
        size_t len = 0;
        char *data = buf_steal(&r->body, &len);
        mr = MHD_create_response_from_buffer(len, data ? data : (void *)"",
                                             data ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
        if (!mr) free(data);
    }
    if (!mr) return MHD_NO;
    if (r->content_type[0]) MHD_add_response_header(mr, "Content-Type", r->content_type);
    for (int i = 0; i < r->n_headers; i++)
        MHD_add_response_header(mr, r->headers[i].name, r->headers[i].value);
    enum MHD_Result ok = MHD_queue_response(c->mhd, (unsigned)r->status, mr);
    MHD_destroy_response(mr);
    log_request(c, r->status);
    return ok;
}

static void wake_deferred(void *ctx)
{
    struct conn *c = ctx;
    MHD_resume_connection(c->mhd);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *mhd, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    (void)version;
    struct http_server *s = cls;
    struct conn *c = *con_cls;
    size_t max = s->app->cfg->max_body_bytes;
    if (!c) {
        c = calloc(1, sizeof *c);
        if (!c) return MHD_NO;
        c->server = s;
        c->mhd = mhd;
        c->started_mono = clock_mono_ms();
        snprintf(c->method, sizeof c->method, "%s", method);
        c->path = strdup(url);
        *con_cls = c;
        const char *cl = MHD_lookup_connection_value(mhd, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > max) c->too_large = true;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        /* Past the cap the rest is read and dropped, so the client still gets its 413. */
        if (!c->too_large && c->body.len + *upload_size <= max)
            buf_append(&c->body, upload, *upload_size);
        else
            c->too_large = true;
        *upload_size = 0;
        return MHD_YES;
    }
    if (c->deferred) { /* resumed: the deferred answer is ready */
        struct response r;
        response_init(&r);
        if (deferred_take(c->deferred, &r) != 0) return MHD_YES; /* spurious wake */
        deferred_release(c->deferred);
        c->deferred = NULL;
        router_common_headers(s->app, &c->req, &r);
        enum MHD_Result ok = send_response(c, &r);
        response_clear(&r);
        return ok;
    }

    struct request *req = &c->req;
    req->method = c->method;
    req->path = c->path ? c->path : "/";
    req->body = c->body.data;
    req->body_len = c->body.len;
    req->body_too_large = c->too_large;
    req->received_mono_ms = c->started_mono;
    req->header = header_lookup;
    req->query = query_lookup;
    req->front = c;
    correlation_id(MHD_lookup_connection_value(mhd, MHD_HEADER_KIND, "X-Correlation-ID"),
                   req->correlation_id, sizeof req->correlation_id);
    char peer[64];
    peer_address(mhd, peer, sizeof peer);
    client_addr_resolve(peer, MHD_lookup_connection_value(mhd, MHD_HEADER_KIND, "X-Forwarded-For"),
                        s->app->trusted_proxies, req->client_addr, sizeof req->client_addr);

    struct response r;
    response_init(&r);
    router_handle(s->app, req, &r);
    if (r.deferred) {
        c->deferred = r.deferred;
        r.deferred = NULL;
        response_clear(&r);
        MHD_suspend_connection(mhd);
        deferred_on_ready(c->deferred, wake_deferred, c);
        return MHD_YES;
    }
    enum MHD_Result ok = send_response(c, &r);
    response_clear(&r);
    return ok;
}

static void on_completed(void *cls, struct MHD_Connection *mhd, void **con_cls,
                         enum MHD_RequestTerminationCode code)
{
    (void)cls;
    (void)mhd;
    (void)code;
    struct conn *c = *con_cls;
    if (!c) return;
    if (c->deferred) deferred_release(c->deferred);
    buf_free(&c->body);
    free(c->path);
    free(c);
    *con_cls = NULL;
}

struct http_server *http_server_start(struct app *app, char *err, size_t errlen)
{
    struct http_server *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->app = app;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    struct sockaddr_in6 a6;
    struct sockaddr_in a4;
    struct sockaddr *sa;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_ALLOW_SUSPEND_RESUME;
    memset(&a4, 0, sizeof a4);
    memset(&a6, 0, sizeof a6);
    if (inet_pton(AF_INET, app->cfg->bind, &a4.sin_addr) == 1) {
        a4.sin_family = AF_INET;
        a4.sin_port = htons((uint16_t)app->cfg->port);
        sa = (struct sockaddr *)&a4;
    } else if (inet_pton(AF_INET6, app->cfg->bind, &a6.sin6_addr) == 1) {
        a6.sin6_family = AF_INET6;
        a6.sin6_port = htons((uint16_t)app->cfg->port);
        sa = (struct sockaddr *)&a6;
        flags |= MHD_USE_IPv6;
    } else {
        snprintf(err, errlen, "BIND must be an IPv4 or IPv6 address, got \"%s\"", app->cfg->bind);
        free(s);
        return NULL;
    }
    s->daemon = MHD_start_daemon(
        flags, (uint16_t)app->cfg->port, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, sa,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)MHD_THREADS, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)120, MHD_OPTION_CONNECTION_LIMIT, (unsigned)4000, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, s, MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024, MHD_OPTION_END);
    if (!s->daemon) {
        snprintf(err, errlen, "could not listen on %s:%d (in use, or not allowed)", app->cfg->bind,
                 app->cfg->port);
        free(s);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : app->cfg->port;
    if (pthread_create(&s->waker, NULL, waker_main, s) != 0) {
        MHD_stop_daemon(s->daemon);
        snprintf(err, errlen, "could not start a thread");
        free(s);
        return NULL;
    }
    return s;
}

void http_server_notify(struct http_server *s, const char *topic)
{
    bool any = false;
    pthread_mutex_lock(&s->lock);
    for (struct parked *p = s->parked; p; p = p->next) {
        if (strcmp(p->topic, topic) == 0) {
            p->wake_mono = 0;
            any = true;
        }
    }
    if (any) pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

int http_server_port(const struct http_server *s)
{
    return s->port;
}

void http_server_stop(struct http_server *s)
{
    if (!s) return;
    MHD_quiesce_daemon(s->daemon); /* no new connections; in-flight ones finish */
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->waker, NULL);
    MHD_stop_daemon(s->daemon);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
