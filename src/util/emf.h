/* CloudWatch Embedded Metric Format: one JSON line per metric event, written to stdout, which
 * CloudWatch Logs turns into metrics without any API call (the Lambda worker writes them after a
 * job). Namespace "PixelPrompt":
 *   job line:    Jobs (Count), JobDuration (Milliseconds), ImagesCompleted (Count);
 *                dimension sets [] and [Status]
 *   model line:  ModelResults (Count), ModelLatency (Milliseconds);
 *                dimension sets [Model] and [Model, Outcome]
 * Builders return text the caller frees; nothing here keeps state. */
#ifndef PP_UTIL_EMF_H
#define PP_UTIL_EMF_H

#include <stdint.h>
#include <stdio.h>

#include "store/job.h"

#define EMF_NAMESPACE "PixelPrompt"

/* One line (no newline) for a finished result of a job; NULL on out of memory. */
char *emf_model_line(int64_t ts_ms, const char *job_id, const struct result *r);
/* One line for a job; duration from created_ms to the latest completion. */
char *emf_job_line(int64_t ts_ms, const struct job *job);
/* Writes the job line and one line per terminal result to out (stdout on Lambda). */
void emf_emit_job(FILE *out, const struct job *job);

#endif
