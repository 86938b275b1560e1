/* When to retry an outbound request, and how long to wait (capped exponential backoff with full
 * jitter, honouring Retry-After), always inside the model's deadline. Pure functions. */
#ifndef PP_ENGINE_RETRY_H
#define PP_ENGINE_RETRY_H

#include <stdbool.h>
#include <stdint.h>

#define RETRY_MAX_ATTEMPTS 4
#define RETRY_BASE_MS 500
#define RETRY_CAP_MS 8000

/* status 0 = connection error or timeout of one attempt. */
bool retry_is_retryable(long status);
/* Delay before attempt number `attempt` (1 = first retry). jitter01 in [0,1). Retry-After (s, or
 * -1) wins when longer. */
int64_t retry_delay_ms(int attempt, long retry_after_s, double jitter01);
/* Parses a Retry-After value: seconds or an HTTP date; -1 when absent or unreadable. */
long retry_after_parse(const char *value, int64_t now_wall_ms);

#endif
