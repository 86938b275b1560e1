#include "util/emf.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* {"_aws":{"Timestamp":ts,"CloudWatchMetrics":[{"Namespace":...,"Dimensions":dims,
 * "Metrics":[{"Name":..,"Unit":..},...]}]}} plus the caller's members. Steals dims and metrics. */
static json_t *emf_envelope(int64_t ts_ms, json_t *dims, json_t *metrics)
{
    return json_pack("{s:{s:I,s:[{s:s,s:o,s:o}]}}", "_aws", "Timestamp", (json_int_t)ts_ms,
                     "CloudWatchMetrics", "Namespace", EMF_NAMESPACE, "Dimensions", dims, "Metrics",
                     metrics);
}

static char *dump(json_t *o)
{
    char *text = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
    json_decref(o);
    return text;
}

char *emf_model_line(int64_t ts_ms, const char *job_id, const struct result *r)
{
    json_t *o = emf_envelope(ts_ms, json_pack("[[s],[s,s]]", "Model", "Model", "Outcome"),
                             json_pack("[{s:s,s:s},{s:s,s:s}]", "Name", "ModelResults", "Unit",
                                       "Count", "Name", "ModelLatency", "Unit", "Milliseconds"));
    if (!o) return NULL;
    char model[sizeof r->model + 1];
    snprintf(model, sizeof model, "%.*s", (int)strnlen(r->model, sizeof r->model), r->model);
    json_object_set_new(o, "Model", json_string(model));
    json_object_set_new(o, "Outcome", json_string(result_status_name(r->status)));
    json_object_set_new(o, "ModelResults", json_integer(1));
    json_object_set_new(o, "ModelLatency", json_integer(r->duration_ms > 0 ? r->duration_ms : 0));
    /* Plain properties: searchable in Logs Insights, not metric dimensions (cardinality). */
    json_object_set_new(o, "jobId", json_string(job_id));
    json_object_set_new(o, "provider", json_string(r->provider));
    json_object_set_new(o, "slot", json_integer(r->index));
    return dump(o);
}

char *emf_job_line(int64_t ts_ms, const struct job *job)
{
    json_t *o = emf_envelope(ts_ms, json_pack("[[],[s]]", "Status"),
                             json_pack("[{s:s,s:s},{s:s,s:s},{s:s,s:s}]", "Name", "Jobs", "Unit",
                                       "Count", "Name", "JobDuration", "Unit", "Milliseconds",
                                       "Name", "ImagesCompleted", "Unit", "Count"));
    if (!o) return NULL;
    struct job_counts c = job_count(job);
    int64_t last = job->created_ms;
    for (int i = 0; i < job->n_results; i++)
        if (job->results[i].completed_ms > last) last = job->results[i].completed_ms;
    json_object_set_new(o, "Status", json_string(job_status_name(job_derive_status(job))));
    json_object_set_new(o, "Jobs", json_integer(1));
    json_object_set_new(o, "JobDuration", json_integer(last - job->created_ms));
    json_object_set_new(o, "ImagesCompleted", json_integer(c.completed));
    json_object_set_new(o, "jobId", json_string(job->id));
    json_object_set_new(o, "totalModels", json_integer(job->n_results));
    return dump(o);
}

void emf_emit_job(FILE *out, const struct job *job)
{
    char *lines[1 + 64];
    int n = 0;
    int64_t now = job->updated_ms > 0 ? job->updated_ms : job->created_ms;
    lines[n++] = emf_job_line(now, job);
    for (int i = 0; i < job->n_results && n < (int)(sizeof lines / sizeof lines[0]); i++) {
        const struct result *r = &job->results[i];
        if (result_is_terminal(r->status))
            lines[n++] = emf_model_line(r->completed_ms > 0 ? r->completed_ms : now, job->id, r);
    }
    /* One locked write per batch keeps lines whole beside other threads' output. */
    flockfile(out);
    for (int i = 0; i < n; i++) {
        if (!lines[i]) continue;
        fputs(lines[i], out);
        fputc('\n', out);
        free(lines[i]);
    }
    fflush(out);
    funlockfile(out);
}
