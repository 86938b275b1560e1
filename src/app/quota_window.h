/* Fixed-window quota arithmetic (docs/adr: quotas use fixed windows aligned to the epoch):
 * which window a moment falls in, the counter key naming it, and the true wait until it ends. */
#ifndef PP_APP_QUOTA_WINDOW_H
#define PP_APP_QUOTA_WINDOW_H

#include <stddef.h>
#include <stdint.h>

struct quota_window {
    int64_t start_ms;
    int64_t end_ms;
};

struct quota_window quota_window_at(int64_t now_ms, int64_t length_ms);
/* Whole seconds until the window ends, rounded up, at least 1. */
long quota_retry_after_s(struct quota_window w, int64_t now_ms);
/* "<scope>:<subject>:<start_ms>" into out. */
void quota_key(char *out, size_t outlen, const char *scope, const char *subject,
               struct quota_window w);

#endif
