#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/clock.h"

/* Configuration, written once before threads start. */
static enum log_level min_level = LOG_INFO;

void log_set_min_level(enum log_level level)
{
    min_level = level;
}

const char *log_level_name(enum log_level level)
{
    switch (level) {
    case LOG_DEBUG:
        return "DEBUG";
    case LOG_INFO:
        return "INFO";
    case LOG_WARNING:
        return "WARNING";
    case LOG_ERROR:
        return "ERROR";
    }
    return "INFO";
}

int log_level_parse(const char *s, enum log_level *out)
{
    static const enum log_level all[] = {LOG_ERROR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (strcasecmp(s, log_level_name(all[i])) == 0) {
            *out = all[i];
            return 0;
        }
    }
    return -1;
}

void log_emit(enum log_level level, const char *correlation_id, const char *message,
              const json_t *fields)
{
    if (level < min_level) return;
    char ts[32];
    json_t *line = json_object();
    if (!line) return;
    json_object_set_new(line, "timestamp",
                        json_string(clock_iso8601(clock_wall_ms(), ts, sizeof ts)));
    json_object_set_new(line, "level", json_string(log_level_name(level)));
    json_object_set_new(line, "message", json_string(message ? message : ""));
    if (correlation_id && *correlation_id)
        json_object_set_new(line, "correlationId", json_string(correlation_id));
    if (fields) json_object_update_missing(line, (json_t *)fields);
    char *text = json_dumps(line, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(line);
    if (!text) return;
    /* The newline goes in the same write, so a line costs one system call and lines from
     * different threads stay whole. */
    size_t n = strlen(text);
    char *out = realloc(text, n + 2);
    if (!out) {
        free(text);
        return;
    }
    out[n] = '\n';
    out[n + 1] = '\0';
    fwrite(out, 1, n + 1, stderr);
    free(out);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    if (level < min_level) return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log_emit(level, NULL, msg, NULL);
}
