#include "engine/timer_heap.h"

#include <stdlib.h>

static void swap(struct timer_entry *a, struct timer_entry *b)
{
    struct timer_entry t = *a;
    *a = *b;
    *b = t;
}

int timer_heap_push(struct timer_heap *h, struct timer_entry e)
{
    if (h->len == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        struct timer_entry *p = realloc(h->items, cap * sizeof *p);
        if (!p) return -1;
        h->items = p;
        h->cap = cap;
    }
    size_t i = h->len++;
    h->items[i] = e;
    while (i > 0 && h->items[(i - 1) / 2].due_ms > h->items[i].due_ms) {
        swap(&h->items[(i - 1) / 2], &h->items[i]);
        i = (i - 1) / 2;
    }
    return 0;
}

int timer_heap_pop_due(struct timer_heap *h, int64_t now_ms, struct timer_entry *out)
{
    if (h->len == 0 || h->items[0].due_ms > now_ms) return 0;
    *out = h->items[0];
    h->items[0] = h->items[--h->len];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->len && h->items[l].due_ms < h->items[m].due_ms) m = l;
        if (r < h->len && h->items[r].due_ms < h->items[m].due_ms) m = r;
        if (m == i) break;
        swap(&h->items[i], &h->items[m]);
        i = m;
    }
    return 1;
}

int64_t timer_heap_wait_ms(const struct timer_heap *h, int64_t now_ms)
{
    if (h->len == 0) return -1;
    int64_t d = h->items[0].due_ms - now_ms;
    return d < 0 ? 0 : d;
}

void timer_heap_free(struct timer_heap *h)
{
    free(h->items);
    h->items = NULL;
    h->len = h->cap = 0;
}
