/* The offline demo enhancer: deterministic variants built from the prompt, with a style,
 * lighting, composition and mood chosen by a hash of the prompt, so the /enhance flow works
 * without any key and tests can rely on the output. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "providers/enhancer.h"
#include "providers/provider_util.h"
#include "util/utf8.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *const styles[] = {
    "a cinematic photograph",   "a detailed oil painting",      "a soft watercolor illustration",
    "a crisp digital painting", "a vintage film photograph",    "an ink and wash drawing",
    "a polished 3D render",     "a dreamy pastel illustration",
};
static const char *const lights[] = {
    "warm golden-hour light", "soft overcast light", "dramatic side light",
    "cool blue-hour light",   "glowing neon light",  "gentle morning light through mist",
};
static const char *const compositions[] = {
    "a wide establishing shot",       "a close-up with a shallow depth of field",
    "a centred, symmetrical framing", "a low-angle view that makes the subject loom",
    "a rule-of-thirds composition",   "an elevated three-quarter view",
};
static const char *const moods[] = {
    "rich textures and fine detail",     "a calm, quiet atmosphere",  "vivid complementary colours",
    "subtle film grain and muted tones", "a playful, whimsical mood", "a moody, mysterious feel",
};

static uint32_t fnv1a(const char *s, uint32_t seed)
{
    uint32_t h = 2166136261u ^ seed;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 16777619u;
    }
    return h;
}

static int demo_local(const char *prompt, struct enhance_result *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    char subject[720];
    pu_sanitize(prompt ? prompt : "", prompt ? strlen(prompt) : 0, NULL, 300, subject,
                sizeof subject);
    size_t n = strlen(subject);
    while (n > 0 && strchr(".!?,;: ", subject[n - 1]))
        subject[--n] = '\0';
    if (n == 0) {
        snprintf(err, errlen, "the prompt is empty");
        return -1;
    }
    n = utf8_truncate(subject, n, sizeof subject - 1);
    subject[n] = '\0';

    const char *style = styles[fnv1a(subject, 1) % COUNT(styles)];
    const char *light = lights[fnv1a(subject, 2) % COUNT(lights)];
    const char *comp = compositions[fnv1a(subject, 3) % COUNT(compositions)];
    const char *mood = moods[fnv1a(subject, 4) % COUNT(moods)];
    /* Styles start with "a"/"an": capitalise for the start of a sentence. */
    char cap = (char)(style[0] - 'a' + 'A');
    snprintf(out->short_prompt, sizeof out->short_prompt, "%c%s of %s in %s.", cap, style + 1,
             subject, light);
    snprintf(out->long_prompt, sizeof out->long_prompt,
             "%c%s of %s, framed as %s. The scene is lit by %s, with %s. "
             "Every element is sharp and coherent, ready for a high-resolution render.",
             cap, style + 1, subject, comp, light, mood);
    return 0;
}

const struct enhancer_ops enhancer_demo = {
    .name = "demo",
    .is_local = true,
    .local = demo_local,
};
