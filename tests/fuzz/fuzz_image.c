/* Fuzz target: image_validate and image_thumbnail on arbitrary bytes with small limits
 * (1 MiB, 512 px a side), and the properties the store relies on: a valid image is within the
 * limits, and its thumbnail is itself a valid WebP no larger than asked. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "engine/image.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct image_limits lim = {1u << 20, 512};
    struct image_info info;
    int rc = image_validate(data, size, &lim, &info);
    if (rc == IMAGE_OK && (info.format == IMAGE_UNKNOWN || info.width < 1 || info.height < 1 ||
                           info.width > lim.max_side || info.height > lim.max_side))
        abort();
    (void)image_strerror(rc);

    int max_side = 1 + (int)(size % 64);
    struct buf thumb = BUF_INIT;
    struct image_info tinfo;
    int trc = image_thumbnail(data, size, &lim, max_side, &thumb, &tinfo);
    if ((trc == IMAGE_OK) != (rc == IMAGE_OK) && trc != IMAGE_ERR_NOMEM) abort();
    if (trc == IMAGE_OK) {
        struct image_info check;
        if (image_validate(thumb.data, thumb.len, &lim, &check) != IMAGE_OK ||
            check.format != IMAGE_WEBP || check.width > max_side || check.height > max_side)
            abort();
    }
    buf_free(&thumb);
    return 0;
}
