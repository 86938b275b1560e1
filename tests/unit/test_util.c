/* Unit tests for src/util: UTF-8 checks, ids, ISO-8601 times, buffers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util/buf.h"
#include "util/clock.h"
#include "util/ids.h"
#include "util/utf8.h"

static void utf8_validity(void **state)
{
    (void)state;
    assert_true(utf8_is_valid("caf\xc3\xa9", 5));
    assert_false(utf8_is_valid("\xc3", 1));              /* truncated */
    assert_false(utf8_is_valid("\xc0\xaf", 2));          /* overlong '/' */
    assert_false(utf8_is_valid("\xed\xa0\x80", 3));      /* surrogate */
    assert_false(utf8_is_valid("\xf4\x90\x80\x80", 4));  /* above U+10FFFF */
    assert_true(utf8_is_valid("\xf0\x9f\xa6\x8a", 4));   /* fox emoji */
    assert_int_equal(utf8_codepoints("a\xc3\xa9\xf0\x9f\xa6\x8a", 7), 3);
    assert_int_equal(utf8_truncate("a\xc3\xa9", 3, 2), 1);
}

static void ids_are_uuid7(void **state)
{
    (void)state;
    char a[ID_LEN + 1], b[ID_LEN + 1];
    assert_int_equal(id_new_uuid7(1000, a), 0);
    assert_int_equal(id_new_uuid7(2000, b), 0);
    assert_true(id_is_valid(a));
    assert_int_equal(a[14], '7');
    assert_true(strcmp(a, b) < 0); /* time-ordered */
    assert_false(id_is_valid("../../etc/passwd"));
    assert_false(id_is_valid("0190A3B4-0000-7000-8000-000000000000"));
    assert_false(id_is_valid(""));
    assert_false(id_is_valid(NULL));
}

static void iso8601_round_trip(void **state)
{
    (void)state;
    char s[32];
    int64_t t = 1795844417123;
    clock_iso8601(t, s, sizeof s);
    assert_string_equal(s, "2026-11-28T05:40:17.123Z");
    int64_t back = 0;
    assert_int_equal(clock_parse_iso8601(s, &back), 0);
    assert_true(back == t);
    assert_int_equal(clock_parse_iso8601("2026-11-28T05:40:17Z", &back), 0);
    assert_true(back == 1795844417000);
    assert_int_not_equal(clock_parse_iso8601("yesterday", &back), 0);
}

static void buffers_grow(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    for (int i = 0; i < 1000; i++) assert_int_equal(buf_printf(&b, "%d,", i), 0);
    assert_true(b.len > 2000);
    assert_int_equal(strncmp(b.data, "0,1,2,", 6), 0);
    size_t n;
    char *p = buf_steal(&b, &n);
    assert_null(b.data);
    assert_true(n > 2000);
    free(p);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(utf8_validity),
        cmocka_unit_test(ids_are_uuid7),
        cmocka_unit_test(iso8601_round_trip),
        cmocka_unit_test(buffers_grow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
