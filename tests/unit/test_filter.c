/* Unit tests for src/app/filter: evasions caught, benign words passing, extra terms, odd input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "app/filter.h"

static int setup(void **state)
{
    *state = filter_new(NULL);
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    filter_free(*state);
    return 0;
}

/* Fails naming the text, so a broken case is easy to find. */
static void expect(const struct content_filter *f, const char *text, const char *term)
{
    const char *m = "unset";
    bool blocked = filter_blocks(f, text, &m);
    if (!term && blocked) fail_msg("\"%s\" was blocked by \"%s\"", text, m);
    if (term && !blocked) fail_msg("\"%s\" was not blocked", text);
    if (term && strcmp(m, term) != 0) fail_msg("\"%s\" matched \"%s\", not \"%s\"", text, m, term);
    if (!term) assert_null(m);
}

static void original_terms_blocked(void **state)
{
    const struct content_filter *f = *state;
    expect(f, "a nude figure", "nude");
    expect(f, "Naked man", "naked");
    expect(f, "NSFW art", "nsfw");
    expect(f, "explicit scene", "explicit");
    expect(f, "pornographic", "porn");
    expect(f, "sexual act", "sexual");
    expect(f, "xxx movie", "xxx");
    expect(f, "an erotic pose", "erotic");
    expect(f, "adult content please", "adult content");
    expect(f, "something lewd", "lewd");
    expect(f, "lots of gore", "gore");
    expect(f, "covered in blood", "blood");
    expect(f, "a violent fight", "violent");
    expect(f, "gruesome scene", "gruesome");
    expect(f, "mutilated body", "mutilated");
    expect(f, "I hate them", "hate");
    expect(f, "racist poster", "racist");
    expect(f, "discriminatory sign", "discriminatory");
}

static void variants_blocked(void **state)
{
    const struct content_filter *f = *state;
    expect(f, "porn", "porn");
    expect(f, "pornstar", "porn");
    expect(f, "nudes", "nudes");
    expect(f, "nudity", "nudity");
    expect(f, "hentai girl", "hentai");
    expect(f, "erotica", "erotic");
    expect(f, "sex", "sex");
    expect(f, "x-rated", "x rated");
    expect(f, "adult-content", "adult content");
    expect(f, "adultcontent", "adult content");
    expect(f, "topless", "topless");
    expect(f, "a bloodbath", "bloodbath");
    expect(f, "racism", "racism");
    expect(f, "Nude!!!", "nude");
    expect(f, "(nude)", "nude");
    expect(f, "nude's", "nudes");
}

static void spacing_and_punctuation_caught(void **state)
{
    const struct content_filter *f = *state;
    expect(f, "n u d e", "nude");
    expect(f, "n.u.d.e", "nude");
    expect(f, "n-u-d-e", "nude");
    expect(f, "n_u_d_e", "nude");
    expect(f, "N*U*D*E", "nude");
    expect(f, "n'u'd'e", "nude");
    expect(f, "a n u d e woman", "nude");
    expect(f, "s e x", "sex");
    expect(f, "p o r n", "porn");
    expect(f, "x x x", "xxx");
    expect(f, "a d u l t c o n t e n t", "adult content");
    expect(f, "g.o.r.e", "gore");
    expect(f, "n u d 3", "nude");
}

static void leetspeak_caught(void **state)
{
    const struct content_filter *f = *state;
    expect(f, "nud3", "nude");
    expect(f, "s3x", "sex");
    expect(f, "5ex", "sex");
    expect(f, "$ex", "sex");
    expect(f, "p0rn", "porn");
    expect(f, "h4te", "hate");
    expect(f, "h@te", "hate");
    expect(f, "1ewd", "lewd");
    expect(f, "exp1icit", "explicit");
    expect(f, "exp11cit", "explicit");
    expect(f, "nak3d", "naked");
    expect(f, "7opless", "topless");
    expect(f, "rac!st", "racist");
    expect(f, "g0r3", "gore");
    expect(f, "bl00d", "blood");
    expect(f, "nuuuude", "nude");
    expect(f, "N U D E", "nude");
}

static void unicode_caught(void **state)
{
    const struct content_filter *f = *state;
    expect(f,
           "n\xc3\xbc"
           "de",
           "nude");                     /* nüde */
    expect(f, "NUD\xc3\x89", "nude");   /* NUDÉ */
    expect(f, "n\xc3\xa0ked", "naked"); /* nàked */
    expect(f,
           "\xc5\x9b"
           "ex",
           "sex"); /* śex (Latin Extended-A) */
    expect(f,
           "nu\xcc\x88"
           "de",
           "nude"); /* combining diaeresis */
    expect(f,
           "nu\xe2\x80\x8b"
           "de",
           "nude"); /* zero-width space */
    expect(f,
           "nu\xc2\xad"
           "de",
           "nude");                                                        /* soft hyphen */
    expect(f, "n\xd0\xb0ked", "naked");                                    /* Cyrillic a */
    expect(f, "\xef\xbd\x8e\xef\xbd\x95\xef\xbd\x84\xef\xbd\x85", "nude"); /* fullwidth */
    expect(f, "\xf0\x9d\x90\xa7\xf0\x9d\x90\xae\xf0\x9d\x90\x9d\xf0\x9d\x90\x9e",
           "nude");                                            /* bold */
    expect(f, "\xe4\xb8\x80nude\xe4\xb8\x80", "nude");         /* inside CJK text */
    expect(f, "\xf0\x9f\x94\xa5nude\xf0\x9f\x94\xa5", "nude"); /* between emoji */
}

static void benign_words_pass(void **state)
{
    const struct content_filter *f = *state;
    expect(f, "whatever you like", NULL);
    expect(f, "a chateau in France", NULL);
    expect(f, "Ch\xc3\xa2teau Margaux", NULL);
    expect(f, "a blood orange on a plate", NULL);
    expect(f, "blood-orange sorbet", NULL);
    expect(f, "a blood moon over the sea", NULL);
    expect(f, "blood-red roses", NULL);
    expect(f, "Gore-Tex jacket", NULL);
    expect(f, "Al Gore giving a speech", NULL);
    expect(f, "Sussex countryside", NULL);
    expect(f, "Essex and Middlesex", NULL);
    expect(f, "Scunthorpe", NULL);
    expect(f, "asexual flag", NULL);
    expect(f, "bisexual pride", NULL);
    expect(f, "the river snaked through the valley", NULL);
    expect(f, "denuded hillside", NULL);
    expect(f, "a hateful glare", NULL);
    expect(f, "The Hateful Eight poster", NULL);
    expect(f, "visible to the naked eye", NULL);
    expect(f, "a naked mole-rat", NULL);
    expect(f, "a violent storm at sea", NULL);
    expect(f,
           "Gor\xc3\xa9"
           "e Island",
           NULL);
    expect(f, "unisex sextant", NULL);
    expect(f, "a therapist's office", NULL);
    expect(f, "the offensive line of a football team", NULL);
    expect(f, "bloody mary cocktail", NULL);
    expect(f, "J. R. R. Tolkien reading to the U.S.A.", NULL);
    expect(f, "rock 'n' roll", NULL);
    expect(f, "4k 1080p 3d render of a 1970s car, 35mm, f/1.4, 2024", NULL);
    expect(f, "Plan B: a 3 d printer", NULL);
    expect(f, "Hello!!! What's up? $5 coffee @ 7am", NULL);
    expect(f, "A cyberpunk city at night, neon lights, trending on artstation", NULL);
    expect(f, "\xe7\x8c\xab\xe5\x9c\xa8\xe5\xb1\x8b\xe9\xa1\xb6\xe4\xb8\x8a", NULL); /* CJK */
    expect(f, "\xd0\xba\xd0\xbe\xd1\x82 \xd0\xbd\xd0\xb0 \xd0\xba\xd1\x80\xd1\x8b\xd1\x88\xd0\xb5",
           NULL); /* Russian */
}

static void allow_list_excuses_only_its_own_words(void **state)
{
    const struct content_filter *f = *state;
    expect(f, "a blood orange covered in blood", "blood");
    expect(f, "Al Gore in a pool of gore", "gore");
    expect(f, "blood orange, nude", "nude");
}

static void extra_terms_from_configuration(void **state)
{
    (void)state;
    struct content_filter *f = filter_new("  Dragon , Tower Bridge,,\xc3\x89P\xc3\x89"
                                          "E ,pr0n, 1488, blood, !!!, ");
    assert_non_null(f);
    expect(f, "a red DRAGON", "dragon");
    expect(f, "a red dragons", NULL);
    expect(f, "tower-bridge at dusk", "tower bridge");
    expect(f, "TowerBridge", "tower bridge");
    expect(f,
           "an \xc3\xa9p\xc3\xa9"
           "e",
           "epee");
    expect(f, "an epee", "epee");
    expect(f, "pron", "pron");
    expect(f, "pr0n", "pron");
    expect(f, "1488", "1488");
    expect(f, "14880 steps", NULL);
    expect(f, "a blood orange", NULL); /* a repeated built-in term keeps its allow-list */
    expect(f, "a tower", NULL);
    filter_free(f);

    f = filter_new(" , ,");
    assert_non_null(f);
    expect(f, "a tower", NULL);
    expect(f, "nude", "nude");
    filter_free(f);
    f = filter_new("");
    assert_non_null(f);
    expect(f, "a tower", NULL);
    filter_free(f);
}

static void odd_input_is_safe(void **state)
{
    const struct content_filter *f = *state;
    const char *m = "unset";
    assert_false(filter_blocks(f, "", &m));
    assert_null(m);
    assert_false(filter_blocks(f, NULL, &m));
    assert_true(filter_blocks(f, "nude", NULL));
    assert_false(filter_blocks(NULL, "nude", &m));
    expect(f, "\xff\xfe\xfd", NULL);
    expect(f, "\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80\xc3", NULL); /* overlong, surrogate, > max */
    expect(f, "\xffnude\xff", "nude");
    expect(f,
           "nu\xff"
           "de",
           NULL); /* an invalid byte separates */
    expect(f, "!!!", NULL);
    expect(f, "$ @ !", NULL);
    expect(f, "\xe2\x80\x8b\xcc\x88", NULL);

    /* Long input: benign, one-letter runs and stretched letters stay fast and clean; a term at
     * the very end is still found. */
    size_t n = 1 << 18;
    char *s = malloc(n + 16);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++)
        s[i] = "abc de "[i % 7];
    s[n] = '\0';
    expect(f, s, NULL);
    memcpy(s + n, " nude", 6);
    expect(f, s, "nude");
    for (size_t i = 0; i < n; i += 2)
        s[i] = 'n', s[i + 1] = ' ';
    s[n] = '\0';
    expect(f, s, NULL);
    memset(s, 'x', n);
    expect(f, s, NULL); /* one token, far longer than any stretch */
    memset(s, 'u', n);
    s[0] = 'n';
    s[n - 2] = 'd', s[n - 1] = 'e';
    expect(f, s, NULL);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(original_terms_blocked, setup, teardown),
        cmocka_unit_test_setup_teardown(variants_blocked, setup, teardown),
        cmocka_unit_test_setup_teardown(spacing_and_punctuation_caught, setup, teardown),
        cmocka_unit_test_setup_teardown(leetspeak_caught, setup, teardown),
        cmocka_unit_test_setup_teardown(unicode_caught, setup, teardown),
        cmocka_unit_test_setup_teardown(benign_words_pass, setup, teardown),
        cmocka_unit_test_setup_teardown(allow_list_excuses_only_its_own_words, setup, teardown),
        cmocka_unit_test(extra_terms_from_configuration),
        cmocka_unit_test_setup_teardown(odd_input_is_safe, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
