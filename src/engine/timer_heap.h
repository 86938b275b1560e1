/* A binary min-heap of timers keyed by due time (monotonic ms). Used only by the I/O thread. The
 * heap owns its array; entries borrow their payload pointers. */
#ifndef PP_ENGINE_TIMER_HEAP_H
#define PP_ENGINE_TIMER_HEAP_H

#include <stddef.h>
#include <stdint.h>

struct timer_entry {
    int64_t due_ms;
    void *payload;
    int kind;
    uint32_t gen;
};

struct timer_heap {
    struct timer_entry *items;
    size_t len, cap;
};

int timer_heap_push(struct timer_heap *h, struct timer_entry e);
/* Pops the earliest entry due at or before now_ms into *out; returns 1, or 0 when none is due. */
int timer_heap_pop_due(struct timer_heap *h, int64_t now_ms, struct timer_entry *out);
/* Milliseconds until the earliest entry (0 if overdue), or -1 when empty. */
int64_t timer_heap_wait_ms(const struct timer_heap *h, int64_t now_ms);
void timer_heap_free(struct timer_heap *h);

#endif
