/* Deterministic pictures for the offline `demo` provider: the same prompt and style always give
 * the same pixels. The style is picked from the model id (gradient, mosaic, rings, stripes, ...). */
#ifndef PP_PROVIDERS_DEMO_ART_H
#define PP_PROVIDERS_DEMO_ART_H

#include <stddef.h>

#include "util/buf.h"

enum demo_style { DEMO_GRADIENT, DEMO_MOSAIC, DEMO_RINGS, DEMO_STRIPES, DEMO_STYLE_COUNT };

/* Picks a style from a model id: a style name inside the id wins ("demo-rings"), otherwise a hash. */
enum demo_style demo_style_for(const char *model_id);
const char *demo_style_name(enum demo_style s);
/* Draws size x size RGB pixels for the prompt into a PNG in out (caller owns). Returns 0 or -1. */
int demo_art_render_png(const char *prompt, enum demo_style style, int size, struct buf *out);

#endif
