/* Content filter (docs/adr/0004-content-filter.md).
 *
 * Why this design: the original tested 19 words as substrings of the lowercased prompt, so
 * "whatever" hit "hate" and "Sussex" hit "sex", while "n u d e", "s3x" or "nüde" went through.
 * Here the prompt and every term pass through one normaliser that yields word tokens:
 *  - UTF-8 is decoded here; an invalid byte is a word separator (the API rejects invalid UTF-8
 *    earlier anyway). Letters are case-folded; Latin-1 Supplement and Latin Extended-A lose their
 *    diacritics (é -> e, ß -> ss, æ -> ae); combining marks and invisible characters (zero-width
 *    space, soft hyphen, variation selectors) are dropped so they cannot split a word; fullwidth,
 *    circled and "mathematical" letters and Cyrillic/Greek look-alikes become ASCII; apostrophes
 *    are dropped so "it's" stays one word.
 *  - CJK, kana, Thai and similar scripts do not separate words with spaces: each of their
 *    characters is a token of its own, so a Latin word inside such text is still a word, and a
 *    configured term in those scripts still matches. Other letters are kept as they are.
 *  - Leetspeak is compared rather than rewritten: in a token holding at least one ASCII letter,
 *    0 matches o, 1 i or l, 3 e, 4 a, 5 s, 7 t, @ a, $ s, ! i. Tokens without letters ("2024",
 *    "1080") compare literally, so numbers are not read as words. @ $ ! count as letters inside
 *    or at the start of a token only ("$ex" is "sex", "nude!!!" is "nude").
 *  - A letter written three or more times matches one ("nuuude"); a doubled letter does not, so
 *    "Gorée" (goree) is not "gore".
 * Terms match whole tokens, which is what keeps "whatever", "chateau", "Sussex", "Scunthorpe",
 * "asexual", "snaked", "denuded" and "hateful" clean. A multi-word term matches a token sequence
 * ("adult content", "adult-content") and its glued form ("adultcontent"); a few terms also match
 * as a prefix ("porn" -> "pornographic"). Normal words are never glued together, with one
 * exception: a run of one-character tokens ("n u d e", "n.u.d.e", "n_u_d_e") is joined and any
 * term anywhere in it counts ("a n u d e"); real prose rarely has several one-letter words in a
 * row.
 * An allow-listed phrase excuses one term where the term lies inside it ("blood orange" excuses
 * "blood", "Al Gore" and "Gore-Tex" excuse "gore"), so "a blood orange covered in blood" is still
 * refused by the second "blood", and an operator's extra term is never excused by accident.
 *
 * Cost is linear in the text: stretched letters are followed for at most MAX_STRETCH repeats,
 * so no input makes a match attempt long. */
#include "app/filter.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

/* ---- Lists ------------------------------------------------------------------------------- */

struct builtin_term {
    const char *text;
    bool prefix; /* also matches words starting with it */
};

/* The original's 19 terms, minus "offensive" (a judgement, not a subject: it names no content
 * and its ordinary senses, a sports offence or a military offensive, are fine to draw), plus the
 * obvious variants. Operators add more with extra_terms. */
static const struct builtin_term BLOCKED[] = {
    /* sexual content */
    {"nude", false},
    {"nudes", false},
    {"nudity", false},
    {"naked", false},
    {"nakedness", false},
    {"topless", false},
    {"nsfw", false},
    {"explicit", false},
    {"porn", true}, /* porno, pornography, pornographic, pornstar */
    {"sex", false},
    {"sexual", false},
    {"sexually", false},
    {"erotic", true}, /* erotica, eroticism */
    {"hentai", true},
    {"lewd", true},
    {"genital", true}, /* genitals, genitalia */
    {"xxx", false},
    {"x rated", false},
    {"adult content", false},
    /* graphic violence */
    {"gore", false},
    {"gory", false},
    {"blood", false},
    {"bloodbath", false},
    {"bloodshed", false},
    {"violent", false},
    {"violence", false},
    {"gruesome", false},
    {"mutilate", false},
    {"mutilated", false},
    {"mutilation", false},
    {"dismembered", false},
    {"dismemberment", false},
    {"decapitated", false},
    {"beheaded", false},
    {"beheading", false},
    {"disembowel", true},
    /* hate */
    {"hate", false},
    {"racist", false},
    {"racists", false},
    {"racism", false},
    {"discriminatory", false},
};

struct builtin_allow {
    const char *phrase;
    const char *excuses; /* the BLOCKED text this phrase is a false positive of */
};

/* Single words ("whatever", "Sussex", "asexual", "hateful"...) need no entry: whole-token
 * matching never sees the blocked word inside them. These are the phrases where a blocked word
 * stands alone but means something harmless. */
static const struct builtin_allow ALLOWED[] = {
    {"blood orange", "blood"},
    {"blood oranges", "blood"},
    {"blood moon", "blood"},
    {"blood red", "blood"},
    {"blood type", "blood"},
    {"blood cell", "blood"},
    {"blood cells", "blood"},
    {"blood vessel", "blood"},
    {"blood vessels", "blood"},
    {"blood pressure", "blood"},
    {"blood sugar", "blood"},
    {"blood bank", "blood"},
    {"blood donor", "blood"},
    {"blood donation", "blood"},
    {"blood drive", "blood"},
    {"blood test", "blood"},
    {"al gore", "gore"},
    {"gore tex", "gore"},
    {"naked eye", "naked"},
    {"naked mole rat", "naked"},
    {"naked mole rats", "naked"},
    {"violent storm", "violent"},
    {"violent storms", "violent"},
    {"violent sea", "violent"},
    {"violent seas", "violent"},
    {"violent waves", "violent"},
    {"violent wind", "violent"},
    {"violent winds", "violent"},
    {"violent eruption", "violent"},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

enum { MAX_STRETCH = 32 };

/* ---- Normaliser -------------------------------------------------------------------------- */

enum cls {
    C_SEP,  /* ends the current word */
    C_DROP, /* invisible: ignored, the word goes on */
    C_WORD, /* bytes appended to the current word */
    C_SOLO, /* a word of its own (scripts without spaces) */
};

struct fold_range {
    uint16_t lo, hi;
    const char *to; /* NULL: a symbol (separator) */
};

/* Latin-1 Supplement letters and Latin Extended-A, sorted. */
static const struct fold_range LATIN[] = {
    {0xC0, 0xC5, "a"},   {0xC6, 0xC6, "ae"},   {0xC7, 0xC7, "c"},   {0xC8, 0xCB, "e"},
    {0xCC, 0xCF, "i"},   {0xD0, 0xD0, "d"},    {0xD1, 0xD1, "n"},   {0xD2, 0xD6, "o"},
    {0xD7, 0xD7, NULL},  {0xD8, 0xD8, "o"},    {0xD9, 0xDC, "u"},   {0xDD, 0xDD, "y"},
    {0xDE, 0xDE, "th"},  {0xDF, 0xDF, "ss"},   {0xE0, 0xE5, "a"},   {0xE6, 0xE6, "ae"},
    {0xE7, 0xE7, "c"},   {0xE8, 0xEB, "e"},    {0xEC, 0xEF, "i"},   {0xF0, 0xF0, "d"},
    {0xF1, 0xF1, "n"},   {0xF2, 0xF6, "o"},    {0xF7, 0xF7, NULL},  {0xF8, 0xF8, "o"},
    {0xF9, 0xFC, "u"},   {0xFD, 0xFD, "y"},    {0xFE, 0xFE, "th"},  {0xFF, 0xFF, "y"},
    {0x100, 0x105, "a"}, {0x106, 0x10D, "c"},  {0x10E, 0x111, "d"}, {0x112, 0x11B, "e"},
    {0x11C, 0x123, "g"}, {0x124, 0x127, "h"},  {0x128, 0x131, "i"}, {0x132, 0x133, "ij"},
    {0x134, 0x135, "j"}, {0x136, 0x138, "k"},  {0x139, 0x142, "l"}, {0x143, 0x14B, "n"},
    {0x14C, 0x151, "o"}, {0x152, 0x153, "oe"}, {0x154, 0x159, "r"}, {0x15A, 0x161, "s"},
    {0x162, 0x167, "t"}, {0x168, 0x173, "u"},  {0x174, 0x175, "w"}, {0x176, 0x178, "y"},
    {0x179, 0x17E, "z"}, {0x17F, 0x17F, "s"},
};

struct glyph {
    uint16_t cp;
    char to;
};

/* Lowercase Greek and Cyrillic letters that look like Latin ones ("nаked" with a Cyrillic а). */
static const struct glyph LOOKALIKE[] = {
    {0x3B1, 'a'}, {0x3B2, 'b'}, {0x3B5, 'e'}, {0x3B7, 'n'}, {0x3B9, 'i'}, {0x3BA, 'k'},
    {0x3BD, 'v'}, {0x3BF, 'o'}, {0x3C1, 'p'}, {0x3C4, 't'}, {0x3C5, 'u'}, {0x3C7, 'x'},
    {0x430, 'a'}, {0x432, 'b'}, {0x435, 'e'}, {0x43A, 'k'}, {0x43C, 'm'}, {0x43D, 'h'},
    {0x43E, 'o'}, {0x440, 'p'}, {0x441, 'c'}, {0x442, 't'}, {0x443, 'y'}, {0x445, 'x'},
    {0x451, 'e'}, {0x455, 's'}, {0x456, 'i'}, {0x457, 'i'}, {0x458, 'j'},
};

struct cp_range {
    uint32_t lo, hi;
};

/* Combining marks and invisible characters. */
static const struct cp_range DROPPED[] = {
    {0x00AD, 0x00AD}, {0x02BC, 0x02BC}, {0x0300, 0x036F},   {0x115F, 0x1160},   {0x180E, 0x180E},
    {0x1AB0, 0x1AFF}, {0x1DC0, 0x1DFF}, {0x200B, 0x200F},   {0x2018, 0x2019},   {0x202A, 0x202E},
    {0x2060, 0x2064}, {0x20D0, 0x20FF}, {0x3164, 0x3164},   {0xFE00, 0xFE0F},   {0xFE20, 0xFE2F},
    {0xFEFF, 0xFEFF}, {0xFFA0, 0xFFA0}, {0xE0000, 0xE007F}, {0xE0100, 0xE01EF},
};

/* Scripts written without spaces between words: one token per character. */
static const struct cp_range SOLO[] = {
    {0x0E00, 0x0EFF}, {0x1000, 0x109F}, {0x1780, 0x17FF}, {0x3040, 0x312F}, {0x3400, 0x4DBF},
    {0x4E00, 0x9FFF}, {0xAC00, 0xD7AF}, {0xF900, 0xFAFF}, {0xFF66, 0xFF9D}, {0x20000, 0x3134F},
};

/* Punctuation, symbols, emoji, private use: word separators. */
static const struct cp_range SEPARATORS[] = {
    {0x0080, 0x00BF}, {0x02B0, 0x02FF}, {0x2000, 0x2BFF}, {0x2E00, 0x2E7F}, {0x3000, 0x303F},
    {0xE000, 0xF8FF}, {0xFE10, 0xFE6F}, {0xFF00, 0xFFEF}, {0xFFF0, 0xFFFF}, {0x1F000, 0x1FAFF},
};

static bool in_ranges(const struct cp_range *r, size_t n, uint32_t cp)
{
    for (size_t i = 0; i < n; i++)
        if (cp >= r[i].lo && cp <= r[i].hi) return true;
    return false;
}

#define BAD_CP UINT32_MAX

/* Decodes one code point at *i and advances; a malformed sequence gives BAD_CP and skips one
 * byte, so decoding always resynchronises. */
static uint32_t decode(const unsigned char *s, size_t n, size_t *i)
{
    unsigned char c = s[*i];
    size_t need;
    uint32_t cp, min;
    if (c < 0x80) {
        (*i)++;
        return c;
    } else if (c >= 0xC2 && c <= 0xDF) {
        need = 1, cp = c & 0x1Fu, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2, cp = c & 0x0Fu, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3, cp = c & 0x07u, min = 0x10000;
    } else {
        (*i)++;
        return BAD_CP;
    }
    if (n - *i - 1 < need) {
        (*i)++;
        return BAD_CP;
    }
    for (size_t k = 1; k <= need; k++) {
        unsigned char b = s[*i + k];
        if ((b & 0xC0) != 0x80) {
            (*i)++;
            return BAD_CP;
        }
        cp = (cp << 6) | (b & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        (*i)++;
        return BAD_CP;
    }
    *i += need + 1;
    return cp;
}

static size_t encode(uint32_t cp, char out[4])
{
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    } else if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static enum cls ascii_class(uint32_t c, char out[4], size_t *olen)
{
    if (c >= 'A' && c <= 'Z') c += 'a' - 'A';
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '@' || c == '$' || c == '!') {
        out[0] = (char)c;
        *olen = 1;
        return C_WORD;
    }
    return c == '\'' ? C_DROP : C_SEP;
}

/* What one code point contributes to the normalised text. */
static enum cls classify(uint32_t cp, char out[4], size_t *olen)
{
    if (cp < 0x80) return ascii_class(cp, out, olen);
    if (in_ranges(DROPPED, COUNT(DROPPED), cp)) return C_DROP;
    if (cp == 0xB5) return ascii_class('u', out, olen); /* micro sign */
    if (cp >= 0xC0 && cp <= 0x17F) {
        for (size_t i = 0; i < COUNT(LATIN); i++) {
            if (cp < LATIN[i].lo || cp > LATIN[i].hi) continue;
            if (!LATIN[i].to) return C_SEP;
            *olen = strlen(LATIN[i].to);
            memcpy(out, LATIN[i].to, *olen);
            return C_WORD;
        }
    }
    if (cp >= 0xFF01 && cp <= 0xFF5E) return ascii_class(cp - 0xFEE0, out, olen); /* fullwidth */
    if (cp >= 0x24B6 && cp <= 0x24CF) return ascii_class('a' + (cp - 0x24B6), out, olen);
    if (cp >= 0x24D0 && cp <= 0x24E9) return ascii_class('a' + (cp - 0x24D0), out, olen);
    if (cp >= 0x1D400 && cp <= 0x1D6A3) /* mathematical letters: 52-letter alphabets */
        return ascii_class('a' + (cp - 0x1D400) % 52 % 26, out, olen);
    if (cp >= 0x1D7CE && cp <= 0x1D7FF) return ascii_class('0' + (cp - 0x1D7CE) % 10, out, olen);
    if (in_ranges(SEPARATORS, COUNT(SEPARATORS), cp)) return C_SEP;
    if (in_ranges(SOLO, COUNT(SOLO), cp)) {
        *olen = encode(cp, out);
        return C_SOLO;
    }
    if (cp >= 0x391 && cp <= 0x3A9) cp += 0x20; /* Greek capitals */
    if (cp >= 0x410 && cp <= 0x42F)
        cp += 0x20; /* Cyrillic capitals */
    else if (cp >= 0x400 && cp <= 0x40F)
        cp += 0x50; /* Ѐ..Џ */
    for (size_t i = 0; i < COUNT(LOOKALIKE); i++)
        if (LOOKALIKE[i].cp == cp) return ascii_class((uint32_t)LOOKALIKE[i].to, out, olen);
    *olen = encode(cp, out);
    return C_WORD;
}

struct tok {
    size_t off, len;
    size_t ncp; /* code points; 1 marks a one-character token ("n" of "n u d e") */
    bool leet;  /* holds an ASCII letter, so digits and @ $ ! may stand for letters */
};

#define NO_TOKEN SIZE_MAX

/* Normalised text: the tokens' bytes back to back in b (nothing between them), described by
 * toks. Owns b and toks; release with norm_free. */
struct norm {
    struct buf b;
    struct tok *toks;
    size_t ntoks, cap;
    size_t open; /* start of the token being built, or NO_TOKEN */
};

static void norm_free(struct norm *nm)
{
    buf_free(&nm->b);
    free(nm->toks);
    nm->toks = NULL;
    nm->ntoks = nm->cap = 0;
}

static bool is_leet_symbol(char c)
{
    return c == '@' || c == '$' || c == '!';
}

/* Ends the open token: trailing @ $ ! and leading ! are punctuation there, not letters. */
static int close_token(struct norm *nm)
{
    if (nm->open == NO_TOKEN) return 0;
    size_t off = nm->open, len = nm->b.len - off;
    char *p = nm->b.data + off;
    nm->open = NO_TOKEN;
    while (len > 0 && is_leet_symbol(p[len - 1]))
        len--;
    size_t lead = 0;
    while (lead < len && p[lead] == '!')
        lead++;
    memmove(p, p + lead, len - lead);
    len -= lead;
    nm->b.len = off + len;
    nm->b.data[nm->b.len] = '\0'; /* keeps the buf invariant */
    if (len == 0) return 0;
    struct tok t = {off, len, 0, false};
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        if ((c & 0xC0) != 0x80) t.ncp++;
        if (c >= 'a' && c <= 'z') t.leet = true;
    }
    if (nm->ntoks == nm->cap) {
        size_t ncap = nm->cap ? nm->cap * 2 : 16;
        struct tok *nt = realloc(nm->toks, ncap * sizeof *nt);
        if (!nt) return -1;
        nm->toks = nt;
        nm->cap = ncap;
    }
    nm->toks[nm->ntoks++] = t;
    return 0;
}

static int append(struct norm *nm, const char *bytes, size_t n)
{
    if (nm->open == NO_TOKEN) nm->open = nm->b.len;
    return buf_append(&nm->b, bytes, n);
}

/* Splits text into normalised tokens. Returns 0, or -1 when memory runs out (nm is then freed). */
static int normalise(struct norm *nm, const char *text, size_t n)
{
    const unsigned char *s = (const unsigned char *)text;
    *nm = (struct norm){BUF_INIT, NULL, 0, 0, NO_TOKEN};
    if (buf_reserve(&nm->b, n + 1) != 0) return -1;
    int rc = 0;
    size_t i = 0;
    while (i < n && rc == 0) {
        uint32_t cp = decode(s, n, &i);
        char out[4];
        size_t olen = 0;
        enum cls c = cp == BAD_CP ? C_SEP : classify(cp, out, &olen);
        switch (c) {
        case C_DROP:
            break;
        case C_SEP:
            rc = close_token(nm);
            break;
        case C_WORD:
            rc = append(nm, out, olen);
            break;
        case C_SOLO:
            rc = close_token(nm);
            if (rc == 0) rc = append(nm, out, olen);
            if (rc == 0) rc = close_token(nm);
            break;
        }
    }
    if (rc == 0) rc = close_token(nm);
    if (rc != 0) norm_free(nm);
    return rc;
}

/* ---- Matching ---------------------------------------------------------------------------- */

/* Whether text byte c may stand for pattern byte t in a token with letters. */
static bool leet_eq(unsigned char t, unsigned char c)
{
    switch (c) {
    case '0':
        return t == 'o';
    case '1':
        return t == 'i' || t == 'l';
    case '3':
        return t == 'e';
    case '4':
        return t == 'a';
    case '5':
        return t == 's';
    case '7':
        return t == 't';
    case '@':
        return t == 'a';
    case '$':
        return t == 's';
    case '!':
        return t == 'i';
    default:
        return t == '1' && (c == 'i' || c == 'l'); /* a pattern keeps its ambiguous 1 */
    }
}

static bool char_eq(unsigned char t, unsigned char c, bool leet)
{
    return t == c || (leet && leet_eq(t, c));
}

/* Bytes of s consumed by a match of the whole pattern at the start of s, or 0. Pattern letters
 * are taken in runs of equal letters: a run of k matches k text letters, or three or more. */
static size_t match_word(const char *pat, size_t plen, const char *s, size_t slen, bool leet)
{
    size_t i = 0, j = 0;
    while (i < plen) {
        unsigned char t = (unsigned char)pat[i];
        size_t k = 1;
        while (i + k < plen && pat[i + k] == pat[i])
            k++;
        if (t >= 0x80) { /* part of a non-ASCII letter: exact */
            if (slen - j < k || memcmp(pat + i, s + j, k) != 0) return 0;
            j += k;
        } else {
            bool has_next = i + k < plen;
            unsigned char next = has_next ? (unsigned char)pat[i + k] : 0;
            size_t m = 0;
            /* Past k, stop where the text could already be the next pattern letter
             * ("expl1cit": the 1 after l is the i). */
            while (j < slen && m < k + MAX_STRETCH && char_eq(t, (unsigned char)s[j], leet) &&
                   (m < k || !has_next || !char_eq(next, (unsigned char)s[j], leet))) {
                m++;
                j++;
            }
            if (m < k || (m > k && m < 3)) return 0;
        }
        i += k;
    }
    return j;
}

/* A term or an allow-listed phrase, normalised like the text. Owns words, glued and display. */
struct pattern {
    struct norm words; /* one token per word */
    char *glued;       /* the words concatenated: "adultcontent" */
    size_t glued_len;
    char *display; /* the words joined by spaces: what *matched points at */
    bool prefix;
    size_t excuses; /* allow-list only: index of the blocked term it excuses */
};

static void pattern_free(struct pattern *p)
{
    norm_free(&p->words);
    free(p->glued);
    free(p->display);
}

/* Leetspeak in a configured term means the letter: "pr0n" is stored as "pron". An ambiguous 1
 * stays (leet_eq lets it match i or l). */
static void canonical_leet(char *w, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        switch (w[i]) {
        case '0':
            w[i] = 'o';
            break;
        case '3':
            w[i] = 'e';
            break;
        case '4':
        case '@':
            w[i] = 'a';
            break;
        case '5':
        case '$':
            w[i] = 's';
            break;
        case '7':
            w[i] = 't';
            break;
        case '!':
            w[i] = 'i';
            break;
        default:
            break;
        }
    }
}

/* Returns 0, or -1 when memory runs out. A text with no word gives a pattern without words. */
static int pattern_init(struct pattern *p, const char *text, size_t n, bool prefix)
{
    memset(p, 0, sizeof *p);
    p->prefix = prefix;
    if (normalise(&p->words, text, n) != 0) return -1;
    size_t total = p->words.b.len;
    for (size_t w = 0; w < p->words.ntoks; w++) {
        struct tok *t = &p->words.toks[w];
        if (t->leet) canonical_leet(p->words.b.data + t->off, t->len);
    }
    p->glued = malloc(total + 1);
    p->display = malloc(total + p->words.ntoks + 1);
    if (!p->glued || !p->display) {
        pattern_free(p);
        return -1;
    }
    /* Token bytes are back to back, so the glued form is the buffer itself. */
    memcpy(p->glued, p->words.b.data, total);
    p->glued[total] = '\0';
    p->glued_len = total;
    size_t d = 0;
    for (size_t w = 0; w < p->words.ntoks; w++) {
        const struct tok *t = &p->words.toks[w];
        if (w > 0) p->display[d++] = ' ';
        memcpy(p->display + d, p->words.b.data + t->off, t->len);
        d += t->len;
    }
    p->display[d] = '\0';
    return 0;
}

struct content_filter {
    struct pattern *blocked; /* owned, nblocked entries */
    size_t nblocked;
    struct pattern *allowed; /* owned, nallowed entries */
    size_t nallowed;
};

/* Whether pattern p's words match the text tokens from index i on. */
static bool match_seq(const struct pattern *p, const struct norm *t, size_t i)
{
    size_t nw = p->words.ntoks;
    if (nw == 0 || i >= t->ntoks || t->ntoks - i < nw) return false;
    for (size_t w = 0; w < nw; w++) {
        const struct tok *pw = &p->words.toks[w];
        const struct tok *tw = &t->toks[i + w];
        size_t r =
            match_word(p->words.b.data + pw->off, pw->len, t->b.data + tw->off, tw->len, tw->leet);
        bool last = w + 1 == nw;
        if (!(r == tw->len || (last && p->prefix && r > 0))) return false;
    }
    return true;
}

/* Whether an allow-listed phrase for blocked term `term` covers tokens [i, end). */
static bool excused(const struct content_filter *f, size_t term, const struct norm *t, size_t i,
                    size_t end)
{
    for (size_t a = 0; a < f->nallowed; a++) {
        const struct pattern *ap = &f->allowed[a];
        if (ap->excuses != term) continue;
        size_t w = ap->words.ntoks;
        for (size_t s = end > w ? end - w : 0; s <= i; s++)
            if (match_seq(ap, t, s)) return true;
    }
    return false;
}

/* The first blocked term found in the tokens, or NULL. */
static const char *scan(const struct content_filter *f, const struct norm *t)
{
    for (size_t i = 0; i < t->ntoks; i++) {
        const struct tok *tk = &t->toks[i];
        for (size_t b = 0; b < f->nblocked; b++) {
            const struct pattern *p = &f->blocked[b];
            if (match_seq(p, t, i) && !excused(f, b, t, i, i + p->words.ntoks)) return p->display;
            if (p->words.ntoks > 1) {
                size_t r =
                    match_word(p->glued, p->glued_len, t->b.data + tk->off, tk->len, tk->leet);
                if ((r == tk->len || (p->prefix && r > 0)) && !excused(f, b, t, i, i + 1))
                    return p->display;
            }
        }
    }
    /* Runs of one-character tokens: their bytes are adjacent in the buffer, so the run is one
     * slice; a term anywhere inside it counts. */
    for (size_t i = 0; i < t->ntoks;) {
        if (t->toks[i].ncp != 1) {
            i++;
            continue;
        }
        size_t j = i;
        bool leet = false;
        while (j < t->ntoks && t->toks[j].ncp == 1)
            leet |= t->toks[j++].leet;
        if (j - i >= 2) {
            const char *run = t->b.data + t->toks[i].off;
            size_t len = t->toks[j - 1].off + t->toks[j - 1].len - t->toks[i].off;
            for (size_t b = 0; b < f->nblocked; b++) {
                const struct pattern *p = &f->blocked[b];
                for (size_t s = 0; s < len; s++)
                    if (match_word(p->glued, p->glued_len, run + s, len - s, leet) > 0)
                        return p->display;
            }
        }
        i = j;
    }
    return NULL;
}

/* ---- API --------------------------------------------------------------------------------- */

void filter_free(struct content_filter *f)
{
    if (!f) return;
    for (size_t i = 0; i < f->nblocked; i++)
        pattern_free(&f->blocked[i]);
    for (size_t i = 0; i < f->nallowed; i++)
        pattern_free(&f->allowed[i]);
    free(f->blocked);
    free(f->allowed);
    free(f);
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Adds one configured term (trimmed). Terms with no word, or already listed, are skipped. */
static int add_extra(struct content_filter *f, const char *s, size_t n)
{
    while (n > 0 && is_space(*s))
        s++, n--;
    while (n > 0 && is_space(s[n - 1]))
        n--;
    if (n == 0) return 0;
    struct pattern *p = &f->blocked[f->nblocked];
    if (pattern_init(p, s, n, false) != 0) return -1;
    bool keep = p->words.ntoks > 0;
    for (size_t i = 0; keep && i < f->nblocked; i++)
        if (strcmp(f->blocked[i].display, p->display) == 0) keep = false;
    if (keep)
        f->nblocked++;
    else
        pattern_free(p);
    return 0;
}

struct content_filter *filter_new(const char *extra_terms)
{
    struct content_filter *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    size_t nextra = 0;
    if (extra_terms) {
        nextra = 1;
        for (const char *c = extra_terms; *c; c++)
            nextra += *c == ',';
    }
    f->blocked = calloc(COUNT(BLOCKED) + nextra, sizeof *f->blocked);
    f->allowed = calloc(COUNT(ALLOWED), sizeof *f->allowed);
    if (!f->blocked || !f->allowed) goto oom;
    for (size_t i = 0; i < COUNT(BLOCKED); i++) {
        if (pattern_init(&f->blocked[i], BLOCKED[i].text, strlen(BLOCKED[i].text),
                         BLOCKED[i].prefix) != 0)
            goto oom;
        f->nblocked++;
    }
    for (size_t i = 0; i < COUNT(ALLOWED); i++) {
        struct pattern *p = &f->allowed[i];
        if (pattern_init(p, ALLOWED[i].phrase, strlen(ALLOWED[i].phrase), false) != 0) goto oom;
        f->nallowed++;
        p->excuses = SIZE_MAX; /* a table typo excuses nothing rather than something else */
        for (size_t b = 0; b < COUNT(BLOCKED); b++)
            if (strcmp(BLOCKED[b].text, ALLOWED[i].excuses) == 0) p->excuses = b;
    }
    if (extra_terms) {
        const char *s = extra_terms;
        for (;;) {
            const char *comma = strchr(s, ',');
            size_t n = comma ? (size_t)(comma - s) : strlen(s);
            if (add_extra(f, s, n) != 0) goto oom;
            if (!comma) break;
            s = comma + 1;
        }
    }
    return f;
oom:
    filter_free(f);
    return NULL;
}

/* Out of memory while checking refuses the text (fails closed) with *matched NULL. *matched
 * points into f and stays valid until filter_free. */
bool filter_blocks(const struct content_filter *f, const char *text, const char **matched)
{
    if (matched) *matched = NULL;
    if (!f || !text || !*text) return false;
    struct norm t;
    if (normalise(&t, text, strlen(text)) != 0) return true;
    const char *hit = scan(f, &t);
    norm_free(&t);
    if (matched) *matched = hit;
    return hit != NULL;
}
