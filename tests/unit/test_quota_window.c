/* Unit tests for src/app/quota_window: epoch-aligned windows, Retry-After, counter keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "app/quota_window.h"

#define HOUR_MS INT64_C(3600000)
#define DAY_MS INT64_C(86400000)

static void windows_align_to_the_epoch(void **state)
{
    (void)state;
    int64_t t = INT64_C(1795844417123); /* 2026-11-28T05:40:17.123Z */
    struct quota_window h = quota_window_at(t, HOUR_MS);
    assert_true(h.start_ms == INT64_C(1795842000000)); /* 05:00:00.000 */
    assert_true(h.end_ms == INT64_C(1795845600000));   /* 06:00:00.000 */
    struct quota_window d = quota_window_at(t, DAY_MS);
    assert_true(d.start_ms == INT64_C(1795824000000)); /* 2026-11-28T00:00:00Z */
    assert_true(d.end_ms - d.start_ms == DAY_MS);

    /* The first millisecond belongs to the window, the end to the next one. */
    struct quota_window a = quota_window_at(h.start_ms, HOUR_MS);
    assert_true(a.start_ms == h.start_ms);
    struct quota_window b = quota_window_at(h.end_ms - 1, HOUR_MS);
    assert_true(b.start_ms == h.start_ms);
    struct quota_window c = quota_window_at(h.end_ms, HOUR_MS);
    assert_true(c.start_ms == h.end_ms);
    assert_true(c.end_ms == h.end_ms + HOUR_MS);

    struct quota_window z = quota_window_at(0, HOUR_MS);
    assert_true(z.start_ms == 0 && z.end_ms == HOUR_MS);
    struct quota_window neg = quota_window_at(-1, HOUR_MS); /* floor, not truncation */
    assert_true(neg.start_ms == -HOUR_MS && neg.end_ms == 0);
    struct quota_window bad = quota_window_at(1234, 0);
    assert_true(bad.start_ms == 1234 && bad.end_ms == 1235);
}

static void retry_after_is_the_true_wait(void **state)
{
    (void)state;
    struct quota_window h = quota_window_at(INT64_C(1795844417123), HOUR_MS);
    assert_int_equal(quota_retry_after_s(h, h.start_ms), 3600);
    assert_int_equal(quota_retry_after_s(h, h.start_ms + 1), 3600); /* rounded up */
    assert_int_equal(quota_retry_after_s(h, h.start_ms + 999), 3600);
    assert_int_equal(quota_retry_after_s(h, h.start_ms + 1000), 3599);
    assert_int_equal(quota_retry_after_s(h, h.start_ms + HOUR_MS / 2), 1800);
    assert_int_equal(quota_retry_after_s(h, INT64_C(1795844417123)), 1183); /* 19:42.877 left */
    assert_int_equal(quota_retry_after_s(h, h.end_ms - 1000), 1);
    assert_int_equal(quota_retry_after_s(h, h.end_ms - 1001), 2);
    assert_int_equal(quota_retry_after_s(h, h.end_ms - 1), 1); /* last millisecond */
    assert_int_equal(quota_retry_after_s(h, h.end_ms), 1);     /* never 0 */
    assert_int_equal(quota_retry_after_s(h, h.end_ms + 5000), 1);

    struct quota_window d = quota_window_at(INT64_C(1795824000000), DAY_MS);
    assert_int_equal(quota_retry_after_s(d, d.start_ms), 86400);
    assert_int_equal(quota_retry_after_s(d, d.end_ms - 1), 1);
}

static void keys_name_the_window(void **state)
{
    (void)state;
    struct quota_window h = quota_window_at(INT64_C(1795844417123), HOUR_MS);
    char key[128];
    quota_key(key, sizeof key, "ip", "3f2a9c", h);
    assert_string_equal(key, "ip:3f2a9c:1795842000000");
    quota_key(key, sizeof key, "global", "all", quota_window_at(h.end_ms - 1, HOUR_MS));
    assert_string_equal(key, "global:all:1795842000000");
    quota_key(key, sizeof key, "global", "all", quota_window_at(h.end_ms, HOUR_MS));
    assert_string_equal(key, "global:all:1795845600000");
    quota_key(key, sizeof key, "ip", "x", quota_window_at(-1, HOUR_MS));
    assert_string_equal(key, "ip:x:-3600000");

    char small[8];
    quota_key(small, sizeof small, "enhance", "abc", h);
    assert_string_equal(small, "enhance"); /* truncated, still terminated */
    quota_key(NULL, 0, "ip", "x", h);      /* nothing to write to */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(windows_align_to_the_epoch),
        cmocka_unit_test(retry_after_is_the_true_wait),
        cmocka_unit_test(keys_name_the_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
