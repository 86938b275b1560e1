#include "engine/retry.h"

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

bool retry_is_retryable(long status)
{
    return status == 0 || status == 408 || status == 429 || (status >= 500 && status <= 599);
}

int64_t retry_delay_ms(int attempt, long retry_after_s, double jitter01)
{
    int64_t ceiling = RETRY_BASE_MS;
    for (int i = 1; i < attempt && ceiling < RETRY_CAP_MS; i++)
        ceiling *= 2;
    if (ceiling > RETRY_CAP_MS) ceiling = RETRY_CAP_MS;
    /* Full jitter over the upper half keeps retries spread but never instant. */
    int64_t half = ceiling / 2;
    int64_t delay = half + (int64_t)((double)half * jitter01);
    if (retry_after_s >= 0 && retry_after_s * 1000 > delay) delay = retry_after_s * 1000;
    return delay;
}

long retry_after_parse(const char *value, int64_t now_wall_ms)
{
    if (!value) return -1;
    while (*value == ' ')
        value++;
    if (!*value) return -1;
    char *end = NULL;
    long secs = strtol(value, &end, 10);
    if (end != value && (*end == '\0' || *end == '\r' || *end == '\n' || *end == ' '))
        return secs < 0 ? 0 : secs;
    time_t when = curl_getdate(value, NULL);
    if (when < 0) return -1;
    long diff = (long)(when - now_wall_ms / 1000);
    return diff < 0 ? 0 : diff;
}
