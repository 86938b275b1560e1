/* Fuzz target: filter_blocks on arbitrary bytes (not necessarily UTF-8).
 * First byte even: the text is the rest of the input, matched by the default filter.
 * First byte odd: the rest is "extra terms\ntext"; a filter is built with those terms
 * (FILTER_EXTRA_TERMS) and matches the text. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app/filter.h"

static char *cstr(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);
    if (!s) abort();
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct content_filter *deflt;
    if (!deflt && !(deflt = filter_new(""))) abort();
    if (size == 0) return 0;
    bool custom = data[0] & 1;
    data++;
    size--;
    struct content_filter *f = deflt;
    char *terms = NULL;
    if (custom) {
        const uint8_t *nl = memchr(data, '\n', size);
        size_t n = nl ? (size_t)(nl - data) : size;
        terms = cstr(data, n);
        f = filter_new(terms);
        if (!f) abort();
        data += nl ? n + 1 : n;
        size -= nl ? n + 1 : n;
    }
    char *text = cstr(data, size);
    const char *matched = NULL;
    if (filter_blocks(f, text, &matched) && !matched) abort(); /* a block names its term */
    if (matched) (void)strlen(matched);
    free(text);
    if (f != deflt) filter_free(f);
    free(terms);
    return 0;
}
