#include "app/job_factory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"

int job_build(const struct config *cfg, const char *prompt,
              const struct model_config *const *models, int n, struct job *job)
{
    memset(job, 0, sizeof *job);
    int64_t now = clock_wall_ms();
    if (id_new_uuid7(now, job->id) != 0) return -1;
    job->prompt = strdup(prompt);
    job->results = calloc((size_t)(n > 0 ? n : 1), sizeof *job->results);
    if (!job->prompt || !job->results) {
        job_clear(job);
        return -1;
    }
    job->created_ms = job->updated_ms = now;
    job->n_results = n;
    for (int i = 0; i < n; i++) {
        struct result *r = &job->results[i];
        r->index = models[i]->slot;
        snprintf(r->model, sizeof r->model, "%s", models[i]->id);
        snprintf(r->name, sizeof r->name, "%s", models[i]->name);
        snprintf(r->provider, sizeof r->provider, "%s", models[i]->provider);
        r->status = RS_PENDING;
        r->deadline_ms = now + (int64_t)cfg->model_timeout_s * 1000 + DEADLINE_GRACE_MS;
    }
    return 0;
}
