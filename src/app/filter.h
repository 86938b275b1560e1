/* Content filter: normalised word matching against a block list, with an allow-list so benign
 * words pass ("whatever", "chateau", "blood orange", "Gore-Tex", "Al Gore", "Sussex"...).
 * Built once at start; matching is read-only and safe from any thread. */
#ifndef PP_APP_FILTER_H
#define PP_APP_FILTER_H

#include <stdbool.h>

struct content_filter;

/* extra_terms: comma-separated additional blocked terms from configuration (may be NULL/"").
 * Returns NULL on out of memory. Owner frees with filter_free. */
struct content_filter *filter_new(const char *extra_terms);
void filter_free(struct content_filter *f);
/* True when the UTF-8 text should be refused. matched (optional) receives the blocked term. */
bool filter_blocks(const struct content_filter *f, const char *text, const char **matched);

#endif
