/* The HTTP front door on libmicrohttpd: turns connections into struct request, calls the router,
 * sends struct response (including streamed SSE bodies and deferred answers, both parked with
 * suspend/resume so they hold no thread). */
#ifndef PP_FRONT_HTTP_H
#define PP_FRONT_HTTP_H

#include <stddef.h>

struct app;
struct http_server;

/* Starts listening on cfg->bind:cfg->port (borrowing app). NULL with err filled on failure. */
struct http_server *http_server_start(struct app *app, char *err, size_t errlen);
/* The port actually bound (useful with PORT=0). */
int http_server_port(const struct http_server *s);
/* Wakes the streams that follow topic (a job id) now instead of at their next poll. Safe from
 * any thread. */
void http_server_notify(struct http_server *s, const char *topic);
/* Stops accepting, finishes in-flight requests, closes streams, frees. */
void http_server_stop(struct http_server *s);

#endif
