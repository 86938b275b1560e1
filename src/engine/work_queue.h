/* A fixed pool of worker threads running queued closures (image validation, thumbnails, storage
 * writes). The pool owns its threads; each queued item is freed after it runs. */
#ifndef PP_ENGINE_WORK_QUEUE_H
#define PP_ENGINE_WORK_QUEUE_H

struct work_queue;

typedef void (*work_fn)(void *arg);

struct work_queue *work_queue_start(int n_threads);
/* Returns 0, or -1 when out of memory or stopping (fn is then not run). */
int work_queue_post(struct work_queue *q, work_fn fn, void *arg);
/* Runs everything already queued, then joins the threads and frees the pool. */
void work_queue_stop(struct work_queue *q);

#endif
