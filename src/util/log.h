/* One JSON object per line on stderr, so CloudWatch Logs Insights and jq can query every field.
 * Callers pass extra fields as a jansson object they keep owning (may be NULL). */
#ifndef PP_UTIL_LOG_H
#define PP_UTIL_LOG_H

#include <jansson.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERROR };

/* Set once at start from configuration; lines below it are dropped. */
void log_set_min_level(enum log_level level);
const char *log_level_name(enum log_level level);
/* Parses "DEBUG" | "INFO" | "WARNING" | "ERROR" (case-insensitive). Returns 0 on success. */
int log_level_parse(const char *s, enum log_level *out);

/* Writes {"timestamp","level","message","correlationId"?, ...fields} as one line. */
void log_emit(enum log_level level, const char *correlation_id, const char *message,
              const json_t *fields);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
