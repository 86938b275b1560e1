/* A response finished later by another thread (e.g. /enhance waiting for a provider), so the front
 * door can park the request without holding a thread. Reference counted: the handler's response
 * holds one reference, the completer another. Thread-safe. */
#ifndef PP_APP_DEFERRED_H
#define PP_APP_DEFERRED_H

#include "app/http_types.h"

struct deferred *deferred_new(void);
void deferred_retain(struct deferred *d);
void deferred_release(struct deferred *d);

/* The completer moves its final response in (final is left empty) and wakes the front door. */
void deferred_complete(struct deferred *d, struct response *final);
/* The front door asks to be woken (fn runs once, possibly at once on this thread if already
 * complete, otherwise on the completer's thread). */
void deferred_on_ready(struct deferred *d, void (*fn)(void *ctx), void *ctx);
/* Moves the final response into out. Returns 0, or -1 when not complete yet. */
int deferred_take(struct deferred *d, struct response *out);
/* Blocks until complete (the Lambda front door and tests, which have nothing else to do). */
void deferred_wait(struct deferred *d);

#endif
