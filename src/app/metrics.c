#include "app/metrics.h"

#include <stdatomic.h>
#include <string.h>

#define MAX_ROUTES 24
#define MAX_PROVIDERS 16
#define N_OUTCOMES 3

static const char *const outcome_names[N_OUTCOMES] = {"completed", "error", "cancelled"};

/* Slots are claimed once per name with a compare-and-swap; the names are string literals or
 * configuration strings that live for the whole process. */
static _Atomic(const char *) route_names[MAX_ROUTES];
static atomic_long route_hits[MAX_ROUTES];
static atomic_long responses_by_class[6]; /* 1xx..5xx */
static atomic_long response_ms_sum;
static atomic_long jobs_created;
static atomic_long sse_streams;
static _Atomic(const char *) provider_names[MAX_PROVIDERS];
static atomic_long results[MAX_PROVIDERS][N_OUTCOMES];
static atomic_long result_ms_sum[MAX_PROVIDERS];

static int slot_for(_Atomic(const char *) *names, int cap, const char *name)
{
    for (int i = 0; i < cap; i++) {
        const char *cur = atomic_load(&names[i]);
        if (cur == NULL) {
            const char *expected = NULL;
            if (atomic_compare_exchange_strong(&names[i], &expected, name)) return i;
            cur = expected;
        }
        if (strcmp(cur, name) == 0) return i;
    }
    return -1;
}

void metrics_route_hit(const char *route_pattern)
{
    int i = slot_for(route_names, MAX_ROUTES, route_pattern);
    if (i >= 0) atomic_fetch_add(&route_hits[i], 1);
}

void metrics_response(int status, int64_t duration_ms)
{
    int cls = status / 100;
    if (cls >= 1 && cls <= 5) atomic_fetch_add(&responses_by_class[cls], 1);
    atomic_fetch_add(&response_ms_sum, (long)duration_ms);
}

void metrics_job_created(void)
{
    atomic_fetch_add(&jobs_created, 1);
}

void metrics_sse_streams(int delta)
{
    atomic_fetch_add(&sse_streams, delta);
}

void metrics_result(const char *provider, const char *outcome, int64_t duration_ms)
{
    int p = slot_for(provider_names, MAX_PROVIDERS, provider);
    if (p < 0) return;
    for (int o = 0; o < N_OUTCOMES; o++) {
        if (strcmp(outcome_names[o], outcome) == 0) {
            atomic_fetch_add(&results[p][o], 1);
            atomic_fetch_add(&result_ms_sum[p], (long)duration_ms);
        }
    }
}

int metrics_render(struct buf *out)
{
    int rc = 0;
    rc |= buf_append_str(out, "# HELP pixelprompt_route_requests_total Requests per route.\n"
                              "# TYPE pixelprompt_route_requests_total counter\n");
    for (int i = 0; i < MAX_ROUTES; i++) {
        const char *name = atomic_load(&route_names[i]);
        if (!name) break;
        rc |= buf_printf(out, "pixelprompt_route_requests_total{route=\"%s\"} %ld\n", name,
                         atomic_load(&route_hits[i]));
    }
    rc |= buf_append_str(out, "# HELP pixelprompt_responses_total Responses by status class.\n"
                              "# TYPE pixelprompt_responses_total counter\n");
    for (int c = 1; c <= 5; c++)
        rc |= buf_printf(out, "pixelprompt_responses_total{class=\"%dxx\"} %ld\n", c,
                         atomic_load(&responses_by_class[c]));
    rc |= buf_printf(out,
                     "# TYPE pixelprompt_response_milliseconds_sum counter\n"
                     "pixelprompt_response_milliseconds_sum %ld\n"
                     "# TYPE pixelprompt_jobs_created_total counter\n"
                     "pixelprompt_jobs_created_total %ld\n"
                     "# TYPE pixelprompt_sse_streams gauge\n"
                     "pixelprompt_sse_streams %ld\n",
                     atomic_load(&response_ms_sum), atomic_load(&jobs_created),
                     atomic_load(&sse_streams));
    rc |= buf_append_str(out, "# HELP pixelprompt_model_results_total Model results by outcome.\n"
                              "# TYPE pixelprompt_model_results_total counter\n");
    for (int p = 0; p < MAX_PROVIDERS; p++) {
        const char *name = atomic_load(&provider_names[p]);
        if (!name) break;
        for (int o = 0; o < N_OUTCOMES; o++)
            rc |= buf_printf(
                out, "pixelprompt_model_results_total{provider=\"%s\",outcome=\"%s\"} %ld\n", name,
                outcome_names[o], atomic_load(&results[p][o]));
        rc |= buf_printf(out, "pixelprompt_model_milliseconds_sum{provider=\"%s\"} %ld\n", name,
                         atomic_load(&result_ms_sum[p]));
    }
    return rc ? -1 : 0;
}
