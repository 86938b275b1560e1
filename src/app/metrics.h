/* Process metrics in Prometheus text format. The counters are the only mutable globals besides
 * configuration; all updates are atomic. */
#ifndef PP_APP_METRICS_H
#define PP_APP_METRICS_H

#include <stdint.h>

#include "util/buf.h"

void metrics_route_hit(const char *route_pattern);
void metrics_response(int status, int64_t duration_ms);
void metrics_job_created(void);
void metrics_result(const char *provider, const char *outcome, int64_t duration_ms);
void metrics_sse_streams(int delta);
/* Appends the Prometheus exposition text to out. */
int metrics_render(struct buf *out);

#endif
