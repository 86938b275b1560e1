/* The offline `demo` provider: after a configurable latency (DEMO_LATENCY_MS) it draws a
 * deterministic picture from the prompt, so the whole flow works without any key or network. */
#include <stdio.h>

#include "providers/demo_art.h"
#include "providers/provider.h"

static int demo_start(const struct provider_call *c, struct provider_step *out)
{
    out->kind = STEP_RENDER;
    out->delay_ms = c->cfg->demo_latency_ms;
    return 0;
}

static int demo_on_response(const struct provider_call *c, const struct http_response *r,
                            struct provider_step *out)
{
    (void)c;
    (void)r;
    provider_step_error(out, "demo provider makes no HTTP requests");
    return 0;
}

static int demo_render(const struct provider_call *c, struct buf *image, char *err, size_t errlen)
{
    int size = c->cfg->demo_size > 0 ? c->cfg->demo_size : 512;
    if (demo_art_render_png(c->prompt, demo_style_for(c->model->id), size, image) != 0) {
        snprintf(err, errlen, "demo renderer ran out of memory");
        return -1;
    }
    return 0;
}

const struct provider_ops provider_demo = {
    .name = "demo",
    .default_root = "",
    .is_demo = true,
    .start = demo_start,
    .on_response = demo_on_response,
    .render = demo_render,
};
