#include "engine/work_queue.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

struct work_item {
    work_fn fn;
    void *arg;
    struct work_item *next;
};

struct work_queue {
    pthread_mutex_t lock;
    pthread_cond_t ready;
    struct work_item *head, *tail;
    bool stopping;
    int n_threads;
    pthread_t threads[];
};

static void *worker_main(void *arg)
{
    struct work_queue *q = arg;
    for (;;) {
        pthread_mutex_lock(&q->lock);
        while (!q->head && !q->stopping)
            pthread_cond_wait(&q->ready, &q->lock);
        struct work_item *it = q->head;
        if (it) {
            q->head = it->next;
            if (!q->head) q->tail = NULL;
        }
        pthread_mutex_unlock(&q->lock);
        if (!it) return NULL; /* stopping and drained */
        it->fn(it->arg);
        free(it);
    }
}

struct work_queue *work_queue_start(int n_threads)
{
    struct work_queue *q = calloc(1, sizeof *q + sizeof(pthread_t) * (size_t)n_threads);
    if (!q) return NULL;
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->ready, NULL);
    for (int i = 0; i < n_threads; i++) {
        if (pthread_create(&q->threads[i], NULL, worker_main, q) != 0) break;
        q->n_threads++;
    }
    if (q->n_threads == 0) {
        work_queue_stop(q);
        return NULL;
    }
    return q;
}

int work_queue_post(struct work_queue *q, work_fn fn, void *arg)
{
    struct work_item *it = malloc(sizeof *it);
    if (!it) return -1;
    it->fn = fn;
    it->arg = arg;
    it->next = NULL;
    pthread_mutex_lock(&q->lock);
    if (q->stopping) {
        pthread_mutex_unlock(&q->lock);
        free(it);
        return -1;
    }
    if (q->tail)
        q->tail->next = it;
    else
        q->head = it;
    q->tail = it;
    pthread_cond_signal(&q->ready);
    pthread_mutex_unlock(&q->lock);
    return 0;
}

void work_queue_stop(struct work_queue *q)
{
    if (!q) return;
    pthread_mutex_lock(&q->lock);
    q->stopping = true;
    pthread_cond_broadcast(&q->ready);
    pthread_mutex_unlock(&q->lock);
    for (int i = 0; i < q->n_threads; i++)
        pthread_join(q->threads[i], NULL);
    pthread_cond_destroy(&q->ready);
    pthread_mutex_destroy(&q->lock);
    free(q);
}
