/* Demo pictures: a palette and layout derived from a hash of the prompt, drawn with cheap
 * per-pixel maths (lookup tables, no libm in the pixel loops) so 512 x 512 plus the PNG encode
 * takes a few milliseconds. The palette depends on the prompt only, so the styles of one prompt
 * look like siblings; the layout depends on prompt and style. */
#include "providers/demo_art.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/image.h"

#define DEFAULT_SIZE 512
#define MAX_SIZE 4096
#define PAL_N 256  /* palette entries per cycle */
#define SIN_N 1024 /* sine table entries per turn */
#define TAU 6.28318530718f

static const char *const style_names[DEMO_STYLE_COUNT] = {"gradient", "mosaic", "rings", "stripes"};

struct rgb {
    float r, g, b; /* sRGB, 0..1 */
};

/* Everything one render needs, allocated per call: no global state, safe on any thread. */
struct canvas {
    int size;
    unsigned char *px;
    float *vig; /* per row/column share of the corner darkening */
    uint64_t rng;
    struct rgb pal[PAL_N]; /* cyclic: pal[PAL_N-1] flows back into pal[0] */
    float sin_tab[SIN_N];
};

static uint64_t fnv1a(const char *s, uint64_t h)
{
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ull;
    }
    return h;
}

static uint64_t next_u64(uint64_t *s) /* splitmix64 */
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static float rnd(uint64_t *s) /* [0, 1) */
{
    return (float)(next_u64(s) >> 40) * (1.0f / 16777216.0f);
}

static float rnd_in(uint64_t *s, float lo, float hi)
{
    return lo + (hi - lo) * rnd(s);
}

static inline float clamp01(float v)
{
    v = v < 1.0f ? v : 1.0f; /* written so the compiler emits minss/maxss, no branches */
    return v > 0.0f ? v : 0.0f;
}

static float smooth(float t)
{
    return t * t * (3.0f - 2.0f * t);
}

/* Sine of an angle in turns; t must be >= 0 (callers add whole turns). */
static float sin_turns(const struct canvas *c, float t)
{
    return c->sin_tab[(unsigned)(t * SIN_N) & (SIN_N - 1)];
}

/* Palette colour at t turns (any t >= 0): a cyclic lookup, no interpolation needed at 256. */
static struct rgb pal_at(const struct canvas *c, float t)
{
    return c->pal[(unsigned)(t * PAL_N) & (PAL_N - 1)];
}

static struct rgb mix(struct rgb a, struct rgb b, float t)
{
    struct rgb o = {a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t, a.b + (b.b - a.b) * t};
    return o;
}

/* Interpolated lookup, for wide smooth areas where 256 steps could show as bands. */
static struct rgb pal_lerp(const struct canvas *c, float t)
{
    float f = t * PAL_N;
    unsigned i = (unsigned)f;
    return mix(c->pal[i & (PAL_N - 1)], c->pal[(i + 1) & (PAL_N - 1)], f - (float)i);
}

static struct rgb scale(struct rgb a, float k)
{
    struct rgb o = {a.r * k, a.g * k, a.b * k};
    return o;
}

/* Writes one pixel; the darkening towards the corners is applied here for every style. */
static inline void put(const struct canvas *c, int x, int y, struct rgb v)
{
    unsigned char *p = c->px + ((size_t)y * (size_t)c->size + (size_t)x) * 3;
    float k = 1.0f - c->vig[x] - c->vig[y];
    v = scale(v, k);
    p[0] = (unsigned char)(clamp01(v.r) * 255.0f + 0.5f);
    p[1] = (unsigned char)(clamp01(v.g) * 255.0f + 0.5f);
    p[2] = (unsigned char)(clamp01(v.b) * 255.0f + 0.5f);
}

static struct rgb hsl(float h, float s, float l)
{
    h -= floorf(h);
    float k[3] = {h * 12.0f, h * 12.0f + 8.0f, h * 12.0f + 4.0f};
    float a = s * (l < 1.0f - l ? l : 1.0f - l);
    float out[3];
    for (int i = 0; i < 3; i++) {
        float n = fmodf(k[i], 12.0f);
        float m = fminf(n - 3.0f, fminf(9.0f - n, 1.0f));
        out[i] = l - a * fmaxf(-1.0f, m);
    }
    struct rgb o = {out[0], out[1], out[2]};
    return o;
}

/* Four key colours from a colour-harmony scheme, dark -> mid -> light -> mid, blended smoothly
 * in a cycle. Shadows lean cool and lights warm, which reads as "lit" rather than flat. The
 * blend runs on squared values (close to linear light) so midpoints do not go muddy; pixels
 * then mix in sRGB, which is cheap and only matters at edges. */
static void make_palette(struct canvas *c, uint64_t seed)
{
    static const float schemes[][4] = {
        {0.0f, 0.08f, 0.16f, 0.05f},  /* analogous */
        {0.0f, 0.06f, 0.50f, 0.56f},  /* complementary pairs */
        {0.0f, 0.42f, 0.58f, 0.08f},  /* split complementary */
        {0.0f, -0.10f, 0.12f, 0.33f}, /* wide analogous */
        {0.0f, 0.33f, 0.12f, 0.67f},  /* soft triad */
    };
    static const float light[4] = {0.24f, 0.50f, 0.76f, 0.56f};
    uint64_t s = seed;
    float h0 = rnd(&s);
    const float *sc = schemes[next_u64(&s) % (sizeof schemes / sizeof schemes[0])];
    float sat = rnd_in(&s, 0.50f, 0.82f);
    struct rgb key[4];
    for (int i = 0; i < 4; i++) {
        float l = light[i] + rnd_in(&s, -0.05f, 0.05f);
        float warm = (l - 0.5f) * 0.06f; /* nudge lights towards orange, shadows towards blue */
        key[i] = hsl(h0 + sc[i] - warm, sat + rnd_in(&s, -0.08f, 0.08f), l);
    }
    for (int i = 0; i < PAL_N; i++) {
        float t = (float)i * 4.0f / PAL_N;
        int k = (int)t;
        struct rgb a = key[k], b = key[(k + 1) & 3];
        float f = smooth(t - (float)k);
        c->pal[i].r = sqrtf(a.r * a.r + (b.r * b.r - a.r * a.r) * f);
        c->pal[i].g = sqrtf(a.g * a.g + (b.g * b.g - a.g * a.g) * f);
        c->pal[i].b = sqrtf(a.b * a.b + (b.b * b.b - a.b * a.b) * f);
    }
}

/* A flowing gradient: the palette laid along a random direction through a domain warp of two
 * sine layers, so soft colour bands curve across the picture. Sweeping palette positions
 * (rather than blending colours) keeps every pixel on the palette: no grey midpoints. */
static void draw_gradient(struct canvas *c)
{
    float dir = rnd(&c->rng);
    float dx = sin_turns(c, dir + 1.25f), dy = sin_turns(c, dir + 1.0f); /* cos, sin */
    float base = rnd(&c->rng) + 4.0f, span = rnd_in(&c->rng, 0.55f, 0.9f);
    float f1 = rnd_in(&c->rng, 0.6f, 1.4f), a1 = rnd_in(&c->rng, 0.10f, 0.22f);
    float f2 = rnd_in(&c->rng, 0.8f, 1.8f), a2 = rnd_in(&c->rng, 0.08f, 0.18f);
    float p1 = rnd(&c->rng) + 4.0f, p2 = rnd(&c->rng) + 4.0f;
    float inv = 1.0f / (float)c->size;
    for (int y = 0; y < c->size; y++) {
        float v = ((float)y + 0.5f) * inv;
        float wu = a1 * sin_turns(c, v * f1 + p1);
        for (int x = 0; x < c->size; x++) {
            float u = ((float)x + 0.5f) * inv + wu;
            float w = v + a2 * sin_turns(c, u * f2 + p2);
            /* (u, w) stays within about [-0.3, 1.3]; projected and centred on 0.5. */
            float d = 0.5f + ((u - 0.5f) * dx + (w - 0.5f) * dy) * 0.8f;
            put(c, x, y, pal_lerp(c, base + span * d));
        }
    }
}

/* Stained glass: a jittered-grid Voronoi tiling, cells coloured along a smooth flow across the
 * picture, lit from their centre, with dark anti-aliased leading between them. */
static int draw_mosaic(struct canvas *c)
{
    int n = 7 + (int)(next_u64(&c->rng) % 6); /* cells per side */
    int g = n + 2;                            /* with a ring of neighbours outside */
    float cell = (float)c->size / (float)n, inv_cell = 1.0f / cell;
    /* Per site: position, palette position, and 1 / distance to each site within +-2 cells
     * (the two nearest sites of a pixel are always that close), so the pixel loop needs no
     * square root or division for the edge distance. */
    float *sx = malloc(sizeof(float) * (size_t)(g * g) * 28);
    if (!sx) return -1;
    float *sy = sx + g * g, *st = sy + g * g, *inv_len = st + g * g;
    float dir = rnd(&c->rng), base = rnd(&c->rng) + 2.0f;
    float dcx = sin_turns(c, dir + 1.25f), dcy = sin_turns(c, dir + 1.0f); /* cos, sin */
    for (int j = 0; j < g; j++) {
        for (int i = 0; i < g; i++) {
            int k = j * g + i;
            sx[k] = ((float)(i - 1) + rnd_in(&c->rng, 0.15f, 0.85f)) * cell;
            sy[k] = ((float)(j - 1) + rnd_in(&c->rng, 0.15f, 0.85f)) * cell;
            float along = (sx[k] * dcx + sy[k] * dcy) / (float)c->size;
            st[k] = base + 0.55f * along + rnd_in(&c->rng, -0.07f, 0.07f);
        }
    }
    for (int j = 0; j < g; j++) {
        for (int i = 0; i < g; i++) {
            for (int o = 0; o < 25; o++) {
                int jj = j + o / 5 - 2, ii = i + o % 5 - 2;
                float len = 1.0f;
                if (jj >= 0 && jj < g && ii >= 0 && ii < g && o != 12) {
                    float ex = sx[jj * g + ii] - sx[j * g + i],
                          ey = sy[jj * g + ii] - sy[j * g + i];
                    len = sqrtf(ex * ex + ey * ey);
                }
                inv_len[(j * g + i) * 25 + o] = 0.5f / len;
            }
        }
    }
    struct rgb lead = scale(c->pal[0], 0.4f);
    float lead_w = 1.0f + (float)c->size / 512.0f; /* half-width of the leading, pixels */
    for (int y = 0; y < c->size; y++) {
        int cj = (int)((float)y * inv_cell) + 1;
        float fy = (float)y + 0.5f;
        int ci = -1;
        int ks[9];
        float kx[9], kdy2[9];
        for (int x = 0; x < c->size; x++) {
            int cx = (int)((float)x * inv_cell) + 1;
            if (cx != ci) { /* entering a new cell column: its 9 candidate sites */
                ci = cx;
                for (int o = 0; o < 9; o++) {
                    ks[o] = (cj + o / 3 - 1) * g + ci + o % 3 - 1;
                    kx[o] = sx[ks[o]];
                    kdy2[o] = (fy - sy[ks[o]]) * (fy - sy[ks[o]]);
                }
            }
            float fx = (float)x + 0.5f;
            float d1 = 1e30f, d2 = 1e30f;
            int o1 = 0, o2 = 0; /* offsets 0..8 of the two nearest sites */
            for (int o = 0; o < 9; o++) {
                float d = (fx - kx[o]) * (fx - kx[o]) + kdy2[o];
                if (d < d1) {
                    d2 = d1, o2 = o1;
                    d1 = d, o1 = o;
                } else if (d < d2) {
                    d2 = d, o2 = o;
                }
            }
            /* Exact distance to the bisector between the two nearest sites. */
            int rel = (o2 / 3 - o1 / 3 + 2) * 5 + (o2 % 3 - o1 % 3 + 2);
            float edge = (d2 - d1) * inv_len[ks[o1] * 25 + rel];
            float glow = 1.05f - 0.22f * d1 * inv_cell * inv_cell;
            struct rgb v = scale(pal_at(c, st[ks[o1]]), glow);
            v = mix(lead, v, clamp01(edge - lead_w + 0.5f));
            put(c, x, y, v);
        }
    }
    free(sx);
    return 0;
}

/* Concentric rings around one centre, rippled by a second one (soft interference). */
static void draw_rings(struct canvas *c)
{
    float cx = rnd_in(&c->rng, 0.25f, 0.75f), cy = rnd_in(&c->rng, 0.25f, 0.75f);
    float qx = rnd_in(&c->rng, -0.2f, 1.2f), qy = rnd_in(&c->rng, -0.2f, 1.2f);
    float f1 = rnd_in(&c->rng, 2.0f, 4.0f), f2 = rnd_in(&c->rng, 1.0f, 2.5f);
    float amp = rnd_in(&c->rng, 0.05f, 0.12f), phase = rnd(&c->rng) + 2.0f;
    float inv = 1.0f / (float)c->size;
    for (int y = 0; y < c->size; y++) {
        float v = ((float)y + 0.5f) * inv;
        for (int x = 0; x < c->size; x++) {
            float u = ((float)x + 0.5f) * inv;
            float r1 = sqrtf((u - cx) * (u - cx) + (v - cy) * (v - cy));
            float r2 = sqrtf((u - qx) * (u - qx) + (v - qy) * (v - qy));
            float ripple = sin_turns(c, r2 * f2 + 2.0f);
            float t = phase + r1 * f1 + amp * ripple;
            /* A soft highlight on each ring's crest gives the rings some relief. */
            float shade = 0.965f + 0.035f * sin_turns(c, t * 4.0f);
            put(c, x, y, scale(pal_at(c, t), shade));
        }
    }
}

/* Wavy bands of palette colours at an angle, with anti-aliased edges and ribbon shading. */
static void draw_stripes(struct canvas *c)
{
    float angle = rnd(&c->rng);
    float ca = sin_turns(c, angle + 1.25f), sa = sin_turns(c, angle + 1.0f);
    float bands = rnd_in(&c->rng, 6.0f, 13.0f);
    float wave_k = rnd_in(&c->rng, 0.7f, 2.2f), wave_a = rnd_in(&c->rng, 0.02f, 0.06f);
    float step = rnd_in(&c->rng, 0.11f, 0.19f), base = rnd(&c->rng);
    float inv = 1.0f / (float)c->size;
    float aa = bands * inv * 1.2f; /* one pixel in band units */
    for (int y = 0; y < c->size; y++) {
        float v0 = ((float)y + 0.5f) * inv;
        for (int x = 0; x < c->size; x++) {
            float u0 = ((float)x + 0.5f) * inv;
            float across = u0 * ca + v0 * sa + 2.0f; /* >= 0.58 for any angle */
            float along = -u0 * sa + v0 * ca + 2.0f;
            float s = (across + wave_a * sin_turns(c, along * wave_k)) * bands;
            int band = (int)s;
            float f = s - (float)band;
            struct rgb cur = pal_at(c, base + (float)band * step);
            if (f < aa) cur = mix(pal_at(c, base + (float)(band - 1) * step), cur, f / aa);
            float ribbon = 0.95f + 0.05f * sin_turns(c, f * 0.5f); /* lighter mid-band */
            put(c, x, y, scale(cur, ribbon));
        }
    }
}

enum demo_style demo_style_for(const char *model_id)
{
    if (!model_id) return DEMO_GRADIENT;
    for (int i = 0; i < DEMO_STYLE_COUNT; i++)
        if (strcasestr(model_id, style_names[i])) return (enum demo_style)i;
    return (enum demo_style)(fnv1a(model_id, 0xcbf29ce484222325ull) % DEMO_STYLE_COUNT);
}

const char *demo_style_name(enum demo_style s)
{
    return (unsigned)s < DEMO_STYLE_COUNT ? style_names[s] : "unknown";
}

int demo_art_render_png(const char *prompt, enum demo_style style, int size, struct buf *out)
{
    if ((unsigned)style >= DEMO_STYLE_COUNT || size > MAX_SIZE) return -1;
    if (size <= 0) size = DEFAULT_SIZE;
    struct canvas *c = malloc(sizeof *c);
    if (!c) return -1;
    c->size = size;
    c->px = malloc((size_t)size * (size_t)size * 3);
    c->vig = malloc(sizeof(float) * (size_t)size);
    if (!c->px || !c->vig) {
        free(c->px);
        free(c->vig);
        free(c);
        return -1;
    }
    for (int i = 0; i < size; i++) {
        float d = ((float)i + 0.5f) / (float)size - 0.5f;
        c->vig[i] = 0.25f * d * d;
    }
    for (int i = 0; i < SIN_N; i++)
        c->sin_tab[i] = sinf(TAU * (float)i / SIN_N);
    uint64_t h = fnv1a(prompt ? prompt : "", 0xcbf29ce484222325ull);
    make_palette(c, h);
    c->rng = h ^ (0x9e3779b97f4a7c15ull * (uint64_t)(style + 1));
    int rc = 0;
    switch (style) {
    case DEMO_GRADIENT:
        draw_gradient(c);
        break;
    case DEMO_MOSAIC:
        rc = draw_mosaic(c);
        break;
    case DEMO_RINGS:
        draw_rings(c);
        break;
    default:
        draw_stripes(c);
        break;
    }
    if (rc == 0 && image_encode_png_rgb(c->px, size, size, out) != IMAGE_OK) rc = -1;
    free(c->px);
    free(c->vig);
    free(c);
    return rc;
}
