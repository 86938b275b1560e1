#include "util/ids.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>

int id_random_bytes(void *out, unsigned n)
{
    unsigned char *p = out;
    while (n > 0) {
        ssize_t got = getrandom(p, n, 0);
        if (got <= 0) return -1;
        p += got;
        n -= (unsigned)got;
    }
    return 0;
}

int id_new_uuid7(int64_t wall_ms, char out[ID_LEN + 1])
{
    unsigned char b[16];
    if (id_random_bytes(b + 6, 10) != 0) return -1;
    uint64_t ms = (uint64_t)wall_ms;
    for (int i = 0; i < 6; i++)
        b[i] = (unsigned char)(ms >> (40 - 8 * i));
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x70); /* version 7 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    snprintf(out, ID_LEN + 1,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
    return 0;
}

bool id_is_valid(const char *s)
{
    if (!s || strlen(s) != ID_LEN) return false;
    for (int i = 0; i < ID_LEN; i++) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-') return false;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}
