/* UTF-8 checks used on request input (jansson already rejects invalid UTF-8 in JSON). */
#ifndef PP_UTIL_UTF8_H
#define PP_UTIL_UTF8_H

#include <stdbool.h>
#include <stddef.h>

bool utf8_is_valid(const char *s, size_t len);
/* Number of code points in valid UTF-8 text. */
size_t utf8_codepoints(const char *s, size_t len);
/* Longest prefix of s (valid UTF-8) that is at most max_bytes and ends on a code point boundary. */
size_t utf8_truncate(const char *s, size_t len, size_t max_bytes);

#endif
