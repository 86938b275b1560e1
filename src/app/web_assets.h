/* The web UI, embedded at build time by scripts/embed-web.sh (build/gen/web_assets.c). */
#ifndef PP_APP_WEB_ASSETS_H
#define PP_APP_WEB_ASSETS_H

#include <stddef.h>

struct web_asset {
    const char *path;         /* "/index.html" */
    const char *content_type;
    const char *etag;         /* quoted, from the content hash */
    const unsigned char *data;
    size_t len;
    const unsigned char *gz;  /* gzip -9 of data */
    size_t gz_len;
};

extern const struct web_asset web_assets[];
extern const int web_asset_count;

#endif
