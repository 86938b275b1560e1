/* Unit tests for src/store/job.c: the job document (DESIGN §4), its derived status and counters,
 * and job_to_json / job_from_json. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "store/job.h"
#include "util/clock.h"
#include "util/ids.h"

#define T0 1795844417123LL /* 2026-11-28T05:40:17.123Z */

static void url_for(void *ctx, const char *key, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s/%s", (const char *)ctx, key);
}

/* A job whose results have the given statuses (slots 1..n); caller clears. */
static void make_job(struct job *job, const enum result_status *st, int n)
{
    memset(job, 0, sizeof *job);
    assert_int_equal(id_new_uuid7(T0, job->id), 0);
    job->prompt = strdup("a red fox \xf0\x9f\xa6\x8a in the \"snow\"");
    job->created_ms = T0;
    job->updated_ms = T0 + 2500;
    job->n_results = n;
    job->results = n ? calloc((size_t)n, sizeof *job->results) : NULL;
    for (int i = 0; i < n; i++) {
        struct result *r = &job->results[i];
        r->index = i + 1;
        snprintf(r->model, sizeof r->model, "model-%d", i + 1);
        snprintf(r->name, sizeof r->name, "Model %d \xc3\xa9", i + 1);
        snprintf(r->provider, sizeof r->provider, "demo");
        r->status = st[i];
        r->deadline_ms = T0 + 120000;
        if (st[i] != RS_PENDING) r->started_ms = T0 + 10;
        if (result_is_terminal(st[i])) {
            r->completed_ms = T0 + 1510;
            r->duration_ms = 1500;
        }
        if (st[i] == RS_COMPLETED) {
            snprintf(r->image_key, sizeof r->image_key, "images/%s/%02d-model.png", job->id, i + 1);
            snprintf(r->thumb_key, sizeof r->thumb_key, "thumbs/%s/%02d-model.webp", job->id,
                     i + 1);
            snprintf(r->content_type, sizeof r->content_type, "image/png");
            r->width = 1024;
            r->height = 768;
        }
        if (st[i] == RS_ERROR) snprintf(r->error, sizeof r->error, "provider said no");
        if (st[i] == RS_CANCELLED) snprintf(r->error, sizeof r->error, "cancelled");
    }
}

static const char *jstr(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static void derived_status(void **state)
{
    (void)state;
    const enum result_status P = RS_PENDING, I = RS_IN_PROGRESS, C = RS_COMPLETED, E = RS_ERROR,
                             X = RS_CANCELLED;
    struct {
        enum result_status st[4];
        int n;
        enum job_status want;
    } cases[] = {
        {{P, P, P, P}, 4, JS_PENDING},
        {{P}, 1, JS_PENDING},
        {{I, P, P, P}, 4, JS_IN_PROGRESS},
        {{C, P, P, P}, 4, JS_IN_PROGRESS},
        {{C, C, C, I}, 4, JS_IN_PROGRESS},
        {{E, E, E, P}, 4, JS_IN_PROGRESS},
        {{X, P}, 2, JS_IN_PROGRESS},
        {{C, C, C, C}, 4, JS_COMPLETED},
        {{C}, 1, JS_COMPLETED},
        {{C, E, C, C}, 4, JS_PARTIAL},
        {{C, X, X, X}, 4, JS_PARTIAL},
        {{C, E, X}, 3, JS_PARTIAL},
        {{E, E, E, E}, 4, JS_FAILED},
        {{E}, 1, JS_FAILED},
        {{X, X, X, X}, 4, JS_CANCELLED},
        {{E, X}, 2, JS_CANCELLED},
        {{P}, 0, JS_FAILED}, /* zero results: terminal, never stuck */
    };
    const char *names[] = {"pending", "in_progress", "completed", "partial", "failed", "cancelled"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct job job;
        make_job(&job, cases[i].st, cases[i].n);
        enum job_status got = job_derive_status(&job);
        if (got != cases[i].want)
            fail_msg("case %zu: %s, want %s", i, job_status_name(got), names[cases[i].want]);
        json_t *doc = job_to_json(&job, url_for, "https://cdn");
        assert_string_equal(jstr(doc, "status"), names[cases[i].want]);
        json_decref(doc);
        bool terminal = cases[i].want != JS_PENDING && cases[i].want != JS_IN_PROGRESS;
        assert_int_equal(job_is_terminal(got), terminal);
        job_clear(&job);
    }
    for (int s = 0; s < 6; s++)
        assert_string_equal(job_status_name((enum job_status)s), names[s]);
}

static void result_status_names(void **state)
{
    (void)state;
    const char *names[] = {"pending", "in_progress", "completed", "error", "cancelled"};
    for (int s = 0; s < 5; s++) {
        assert_string_equal(result_status_name((enum result_status)s), names[s]);
        enum result_status back;
        assert_int_equal(result_status_parse(names[s], &back), 0);
        assert_int_equal(back, s);
    }
    enum result_status x = RS_COMPLETED;
    assert_int_not_equal(result_status_parse("done", &x), 0);
    assert_int_not_equal(result_status_parse(NULL, &x), 0);
    assert_int_not_equal(result_status_parse("Completed", &x), 0);
    assert_true(result_is_terminal(RS_COMPLETED));
    assert_true(result_is_terminal(RS_ERROR));
    assert_true(result_is_terminal(RS_CANCELLED));
    assert_false(result_is_terminal(RS_PENDING));
    assert_false(result_is_terminal(RS_IN_PROGRESS));
}

static void counters(void **state)
{
    (void)state;
    enum result_status st[] = {RS_COMPLETED,   RS_ERROR,   RS_CANCELLED, RS_COMPLETED,
                               RS_IN_PROGRESS, RS_PENDING, RS_ERROR};
    struct job job;
    make_job(&job, st, 7);
    struct job_counts c = job_count(&job);
    assert_int_equal(c.completed, 2);
    assert_int_equal(c.error, 2);
    assert_int_equal(c.cancelled, 1);
    assert_int_equal(c.in_progress, 1);
    assert_int_equal(c.pending, 1);
    json_t *doc = job_to_json(&job, url_for, "https://cdn");
    assert_int_equal(json_integer_value(json_object_get(doc, "totalModels")), 7);
    assert_int_equal(json_integer_value(json_object_get(doc, "completedModels")), 2);
    assert_int_equal(json_integer_value(json_object_get(doc, "failedModels")), 2);
    assert_string_equal(jstr(doc, "status"), "in_progress");
    json_decref(doc);
    job_clear(&job);
}

static bool is_iso_z(const char *s)
{
    /* YYYY-MM-DDTHH:MM:SS.mmmZ */
    if (!s || strlen(s) != 24) return false;
    const char *shape = "dddd-dd-ddTdd:dd:dd.dddZ";
    for (int i = 0; i < 24; i++) {
        if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i]) return false;
    }
    return true;
}

static void document_shape(void **state)
{
    (void)state;
    enum result_status st[] = {RS_COMPLETED, RS_IN_PROGRESS, RS_ERROR, RS_PENDING, RS_CANCELLED};
    struct job job;
    make_job(&job, st, 5);
    /* A result that is not completed never shows URLs even if keys were left behind. */
    snprintf(job.results[1].image_key, sizeof job.results[1].image_key, "images/x/2.png");
    snprintf(job.results[2].image_key, sizeof job.results[2].image_key, "images/x/3.png");
    json_t *doc = job_to_json(&job, url_for, "https://cdn.example");
    assert_non_null(doc);
    const char *keys[] = {"jobId",           "status",       "prompt",
                          "createdAt",       "updatedAt",    "totalModels",
                          "completedModels", "failedModels", "results"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        assert_non_null(json_object_get(doc, keys[i]));
    assert_string_equal(jstr(doc, "jobId"), job.id);
    assert_string_equal(jstr(doc, "prompt"), job.prompt);
    assert_string_equal(jstr(doc, "createdAt"), "2026-11-28T05:40:17.123Z");
    assert_true(is_iso_z(jstr(doc, "updatedAt")));
    json_t *results = json_object_get(doc, "results");
    assert_int_equal(json_array_size(results), 5);
    const char *rkeys[] = {"model",    "name",         "provider",    "index",      "status",
                           "imageUrl", "thumbnailUrl", "contentType", "width",      "height",
                           "duration", "error",        "startedAt",   "completedAt"};
    for (size_t i = 0; i < 5; i++) {
        json_t *r = json_array_get(results, i);
        for (size_t k = 0; k < sizeof rkeys / sizeof rkeys[0]; k++)
            if (!json_object_get(r, rkeys[k])) fail_msg("result %zu lacks %s", i, rkeys[k]);
        assert_int_equal(json_object_size(r), sizeof rkeys / sizeof rkeys[0]);
        assert_int_equal(json_integer_value(json_object_get(r, "index")), (json_int_t)i + 1);
        /* Never an inline image. */
        assert_null(json_object_get(r, "output"));
        assert_null(json_object_get(r, "image"));
    }
    json_t *done = json_array_get(results, 0);
    char want[200];
    snprintf(want, sizeof want, "https://cdn.example/images/%s/01-model.png", job.id);
    assert_string_equal(jstr(done, "imageUrl"), want);
    snprintf(want, sizeof want, "https://cdn.example/thumbs/%s/01-model.webp", job.id);
    assert_string_equal(jstr(done, "thumbnailUrl"), want);
    assert_string_equal(jstr(done, "contentType"), "image/png");
    assert_int_equal(json_integer_value(json_object_get(done, "width")), 1024);
    assert_int_equal(json_integer_value(json_object_get(done, "height")), 768);
    assert_true(json_is_real(json_object_get(done, "duration")));
    assert_true(json_real_value(json_object_get(done, "duration")) == 1.5);
    assert_true(json_is_null(json_object_get(done, "error")));
    assert_string_equal(jstr(done, "startedAt"), "2026-11-28T05:40:17.133Z");
    assert_string_equal(jstr(done, "completedAt"), "2026-11-28T05:40:18.633Z");

    for (size_t i = 1; i < 5; i++) {
        json_t *r = json_array_get(results, i);
        assert_true(json_is_null(json_object_get(r, "imageUrl")));
        assert_true(json_is_null(json_object_get(r, "thumbnailUrl")));
        assert_true(json_is_null(json_object_get(r, "contentType")));
        assert_true(json_is_null(json_object_get(r, "width")));
        assert_true(json_is_null(json_object_get(r, "height")));
    }
    json_t *running = json_array_get(results, 1);
    assert_string_equal(jstr(running, "status"), "in_progress");
    assert_true(is_iso_z(jstr(running, "startedAt")));
    assert_true(json_is_null(json_object_get(running, "completedAt")));
    assert_true(json_is_null(json_object_get(running, "duration")));
    json_t *failed = json_array_get(results, 2);
    assert_string_equal(jstr(failed, "status"), "error");
    assert_string_equal(jstr(failed, "error"), "provider said no");
    assert_true(json_real_value(json_object_get(failed, "duration")) == 1.5);
    json_t *pending = json_array_get(results, 3);
    assert_true(json_is_null(json_object_get(pending, "startedAt")));
    assert_true(json_is_null(json_object_get(pending, "error")));
    assert_string_equal(jstr(json_array_get(results, 4), "status"), "cancelled");
    json_decref(doc);

    /* Without a URL builder (or a thumbnail) the URL is null, not "". */
    job.results[0].thumb_key[0] = '\0';
    doc = job_to_json(&job, NULL, NULL);
    done = json_array_get(json_object_get(doc, "results"), 0);
    assert_true(json_is_null(json_object_get(done, "imageUrl")));
    assert_true(json_is_null(json_object_get(done, "thumbnailUrl")));
    json_decref(doc);
    doc = job_to_json(&job, url_for, "");
    done = json_array_get(json_object_get(doc, "results"), 0);
    assert_true(json_is_string(json_object_get(done, "imageUrl")));
    assert_true(json_is_null(json_object_get(done, "thumbnailUrl")));
    json_decref(doc);
    job_clear(&job);
}

static void durations_in_seconds(void **state)
{
    (void)state;
    enum result_status st[] = {RS_COMPLETED};
    struct job job;
    make_job(&job, st, 1);
    int64_t ms[] = {1, 999, 1000, 61234, 120000};
    double s[] = {0.001, 0.999, 1.0, 61.234, 120.0};
    for (int i = 0; i < 5; i++) {
        job.results[0].duration_ms = ms[i];
        json_t *doc = job_to_json(&job, url_for, "");
        double got = json_real_value(
            json_object_get(json_array_get(json_object_get(doc, "results"), 0), "duration"));
        assert_true(got > s[i] - 1e-9 && got < s[i] + 1e-9);
        json_decref(doc);
    }
    job.results[0].duration_ms = 0;
    json_t *doc = job_to_json(&job, url_for, "");
    assert_true(json_is_null(
        json_object_get(json_array_get(json_object_get(doc, "results"), 0), "duration")));
    json_decref(doc);
    /* Zero timestamps are null, not 1970. */
    job.created_ms = 0;
    doc = job_to_json(&job, url_for, "");
    assert_true(json_is_null(json_object_get(doc, "createdAt")));
    json_decref(doc);
    job_clear(&job);
}

static void round_trip(void **state)
{
    (void)state;
    enum result_status st[] = {RS_COMPLETED, RS_IN_PROGRESS, RS_ERROR,
                               RS_PENDING,   RS_CANCELLED,   RS_COMPLETED};
    struct job job;
    make_job(&job, st, 6);
    job.results[5].duration_ms = 61234;
    json_t *doc = job_to_json(&job, url_for, "https://cdn");
    /* Through text and back, as a store that keeps JSON would. */
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    doc = json_loads(text, 0, NULL);
    free(text);
    assert_non_null(doc);
    struct job back;
    assert_int_equal(job_from_json(doc, &back), 0);
    json_decref(doc);
    assert_string_equal(back.id, job.id);
    assert_string_equal(back.prompt, job.prompt);
    assert_true(back.created_ms == job.created_ms);
    assert_true(back.updated_ms == job.updated_ms);
    assert_int_equal(back.n_results, job.n_results);
    for (int i = 0; i < job.n_results; i++) {
        const struct result *a = &job.results[i], *b = &back.results[i];
        assert_int_equal(b->index, a->index);
        assert_string_equal(b->model, a->model);
        assert_string_equal(b->name, a->name);
        assert_string_equal(b->provider, a->provider);
        assert_int_equal(b->status, a->status);
        assert_string_equal(b->content_type, a->content_type);
        assert_int_equal(b->width, a->width);
        assert_int_equal(b->height, a->height);
        assert_string_equal(b->error, a->error);
        assert_true(b->duration_ms == a->duration_ms);
        assert_true(b->started_ms == a->started_ms);
        assert_true(b->completed_ms == a->completed_ms);
    }
    assert_int_equal(job_derive_status(&back), job_derive_status(&job));
    /* The document of the read-back job is the same status and counters. */
    json_t *d1 = job_to_json(&job, NULL, NULL), *d2 = job_to_json(&back, NULL, NULL);
    const char *same[] = {"jobId", "status", "prompt", "createdAt", "updatedAt"};
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++)
        assert_string_equal(jstr(d1, same[i]), jstr(d2, same[i]));
    assert_true(
        json_equal(json_object_get(d1, "failedModels"), json_object_get(d2, "failedModels")));
    json_decref(d1);
    json_decref(d2);
    job_clear(&back);

    struct job copy;
    assert_int_equal(job_copy(&copy, &job), 0);
    assert_ptr_not_equal(copy.prompt, job.prompt);
    assert_ptr_not_equal(copy.results, job.results);
    assert_string_equal(copy.prompt, job.prompt);
    assert_memory_equal(copy.results, job.results, sizeof *job.results * (size_t)job.n_results);
    job_clear(&copy);
    job_clear(&job);
    assert_null(job.prompt);
    assert_int_equal(job.n_results, 0);
}

static void from_json_rejects(void **state)
{
    (void)state;
    const char *bad[] = {
        "[]",
        "{}",
        "{\"jobId\":\"0190a3b4-0000-7000-8000-000000000000\"}",
        "{\"jobId\":\"0190a3b4-0000-7000-8000-000000000000\",\"results\":{}}",
        "{\"jobId\":\"../../etc/passwd\",\"results\":[]}",
        "{\"jobId\":5,\"results\":[]}",
        "{\"results\":[]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *doc = json_loads(bad[i], JSON_DECODE_ANY, NULL);
        assert_non_null(doc);
        struct job job;
        if (job_from_json(doc, &job) == 0) fail_msg("accepted %s", bad[i]);
        assert_null(job.prompt);
        json_decref(doc);
    }
    /* Unknown statuses read as pending; missing fields as empty. */
    json_t *doc = json_loads("{\"jobId\":\"0190a3b4-0000-7000-8000-000000000000\",\"results\":"
                             "[{\"index\":1,\"status\":\"weird\"},{\"index\":2}]}",
                             0, NULL);
    struct job job;
    assert_int_equal(job_from_json(doc, &job), 0);
    assert_int_equal(job.n_results, 2);
    assert_int_equal(job.results[0].status, RS_PENDING);
    assert_int_equal(job.results[1].status, RS_PENDING);
    assert_string_equal(job.prompt, "");
    assert_string_equal(job.results[0].model, "");
    assert_true(job.created_ms == 0);
    json_decref(doc);
    job_clear(&job);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(derived_status),
        cmocka_unit_test(result_status_names),
        cmocka_unit_test(counters),
        cmocka_unit_test(document_shape),
        cmocka_unit_test(durations_in_seconds),
        cmocka_unit_test(round_trip),
        cmocka_unit_test(from_json_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
