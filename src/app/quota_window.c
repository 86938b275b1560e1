/* Fixed-window quota arithmetic (docs/adr/0005-quota-fixed-windows.md). Windows are aligned to
 * the Unix epoch so every process and every store agrees on them without coordination: the
 * window is a pure function of the time, and its start names the counter. */
#include "app/quota_window.h"

#include <limits.h>
#include <stdio.h>

struct quota_window quota_window_at(int64_t now_ms, int64_t length_ms)
{
    if (length_ms <= 0) length_ms = 1; /* a nonsense length still gives a well-formed window */
    int64_t r = now_ms % length_ms;
    if (r < 0) r += length_ms; /* floor, not truncation, for times before 1970 */
    struct quota_window w;
    w.start_ms = now_ms - r;
    w.end_ms = w.start_ms > INT64_MAX - length_ms ? INT64_MAX : w.start_ms + length_ms;
    return w;
}

long quota_retry_after_s(struct quota_window w, int64_t now_ms)
{
    if (w.end_ms <= now_ms) return 1;
    /* end > now, so the difference is positive; it only overflows for absurd windows. */
    uint64_t left = (uint64_t)w.end_ms - (uint64_t)now_ms;
    uint64_t s = left / 1000 + (left % 1000 != 0);
    if (s < 1) s = 1;
    return s > (uint64_t)LONG_MAX ? LONG_MAX : (long)s;
}

/* Always NUL-terminated; the caller sizes out (the subject is a fixed-length hash). */
void quota_key(char *out, size_t outlen, const char *scope, const char *subject,
               struct quota_window w)
{
    if (!out || outlen == 0) return;
    snprintf(out, outlen, "%s:%s:%lld", scope ? scope : "", subject ? subject : "",
             (long long)w.start_ms);
}
