#include "app/deferred.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

struct deferred {
    pthread_mutex_t lock;
    pthread_cond_t done_cond;
    int refs;
    bool done;
    struct response final;
    void (*ready_fn)(void *ctx);
    void *ready_ctx;
};

struct deferred *deferred_new(void)
{
    struct deferred *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    pthread_mutex_init(&d->lock, NULL);
    pthread_cond_init(&d->done_cond, NULL);
    d->refs = 1;
    response_init(&d->final);
    return d;
}

void deferred_retain(struct deferred *d)
{
    pthread_mutex_lock(&d->lock);
    d->refs++;
    pthread_mutex_unlock(&d->lock);
}

void deferred_release(struct deferred *d)
{
    pthread_mutex_lock(&d->lock);
    int left = --d->refs;
    pthread_mutex_unlock(&d->lock);
    if (left > 0) return;
    response_clear(&d->final);
    pthread_cond_destroy(&d->done_cond);
    pthread_mutex_destroy(&d->lock);
    free(d);
}

void deferred_complete(struct deferred *d, struct response *final)
{
    pthread_mutex_lock(&d->lock);
    d->final = *final;
    response_init(final);
    d->done = true;
    void (*fn)(void *) = d->ready_fn;
    void *ctx = d->ready_ctx;
    d->ready_fn = NULL;
    pthread_cond_broadcast(&d->done_cond);
    pthread_mutex_unlock(&d->lock);
    if (fn) fn(ctx);
}

void deferred_on_ready(struct deferred *d, void (*fn)(void *ctx), void *ctx)
{
    pthread_mutex_lock(&d->lock);
    bool now = d->done;
    if (!now) {
        d->ready_fn = fn;
        d->ready_ctx = ctx;
    }
    pthread_mutex_unlock(&d->lock);
    if (now) fn(ctx);
}

int deferred_take(struct deferred *d, struct response *out)
{
    pthread_mutex_lock(&d->lock);
    int rc = -1;
    if (d->done) {
        *out = d->final;
        response_init(&d->final);
        rc = 0;
    }
    pthread_mutex_unlock(&d->lock);
    return rc;
}

void deferred_wait(struct deferred *d)
{
    pthread_mutex_lock(&d->lock);
    while (!d->done)
        pthread_cond_wait(&d->done_cond, &d->lock);
    pthread_mutex_unlock(&d->lock);
}
