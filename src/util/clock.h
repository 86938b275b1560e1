/* Wall-clock and monotonic time in milliseconds, and ISO-8601 formatting. */
#ifndef PP_UTIL_CLOCK_H
#define PP_UTIL_CLOCK_H

#include <stddef.h>
#include <stdint.h>

int64_t clock_wall_ms(void); /* milliseconds since the Unix epoch */
int64_t clock_mono_ms(void); /* monotonic, for deadlines and durations */
/* Writes "2026-11-28T05:40:17.123Z" into out (at least 25 bytes). Returns out. */
char *clock_iso8601(int64_t wall_ms, char *out, size_t outlen);
/* Parses the form written above (milliseconds optional). Returns 0 on success. */
int clock_parse_iso8601(const char *s, int64_t *wall_ms);

#endif
