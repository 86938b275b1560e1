/* Job ids are UUIDv7 (time-ordered, so newest-first listings sort naturally), lowercase. */
#ifndef PP_UTIL_IDS_H
#define PP_UTIL_IDS_H

#include <stdbool.h>
#include <stdint.h>

#define ID_LEN 36 /* characters, without the NUL */

/* Writes a new UUIDv7 for `wall_ms` into out[37]. Returns 0, or -1 if no randomness. */
int id_new_uuid7(int64_t wall_ms, char out[ID_LEN + 1]);
/* A job id is exactly 8-4-4-4-12 lowercase hex. Anything else never reaches storage. */
bool id_is_valid(const char *s);
/* Fills out with `n` random bytes. Returns 0 on success. */
int id_random_bytes(void *out, unsigned n);

#endif
