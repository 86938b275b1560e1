/* The contract every store and blob backend keeps, through the public store.h / blob.h API only.
 * The backends come from PP_TEST_STORE (default sqlite) and PP_TEST_BLOBS (default fs), so the same
 * suite runs unchanged against dynamodb + s3. Each test gets a fresh mkdtemp DATA_DIR; tests also
 * use fresh ids and far-future times so they hold on a shared remote table as well. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>
#include <pthread.h>
#include <cmocka.h>

#include "app/config.h"
#include "blob/blob.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/ids.h"
#include "util/utf8.h"

#define DAY_MS (24LL * 3600 * 1000)

struct fixture {
    char dir[256];
    struct config cfg;
    struct store *store;
    struct blob *blob;
};

static void copy_env(char *dst, size_t size, const char *name, const char *fallback)
{
    const char *v = getenv(name);
    snprintf(dst, size, "%s", v && v[0] ? v : fallback);
}

/* Zeroed config with only what a storage backend reads; remote backends find their endpoints in
 * the same variables the service uses. */
static void test_config(struct config *cfg, const char *dir)
{
    memset(cfg, 0, sizeof *cfg);
    copy_env(cfg->store, sizeof cfg->store, "PP_TEST_STORE", "sqlite");
    copy_env(cfg->blobs, sizeof cfg->blobs, "PP_TEST_BLOBS", "fs");
    snprintf(cfg->data_dir, sizeof cfg->data_dir, "%s", dir);
    copy_env(cfg->s3_bucket, sizeof cfg->s3_bucket, "S3_BUCKET", "");
    copy_env(cfg->dynamodb_table, sizeof cfg->dynamodb_table, "DYNAMODB_TABLE", "");
    copy_env(cfg->aws_region, sizeof cfg->aws_region, "AWS_REGION", "us-east-1");
    copy_env(cfg->aws_access_key_id, sizeof cfg->aws_access_key_id, "AWS_ACCESS_KEY_ID", "");
    copy_env(cfg->aws_secret_access_key, sizeof cfg->aws_secret_access_key, "AWS_SECRET_ACCESS_KEY",
             "");
    copy_env(cfg->aws_session_token, sizeof cfg->aws_session_token, "AWS_SESSION_TOKEN", "");
    copy_env(cfg->endpoint_s3, sizeof cfg->endpoint_s3, "AWS_ENDPOINT_URL_S3",
             getenv("AWS_ENDPOINT_URL") ? getenv("AWS_ENDPOINT_URL") : "");
    copy_env(cfg->endpoint_dynamodb, sizeof cfg->endpoint_dynamodb, "AWS_ENDPOINT_URL_DYNAMODB",
             getenv("AWS_ENDPOINT_URL") ? getenv("AWS_ENDPOINT_URL") : "");
    cfg->store_create = true;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int rm_rf(const char *dir)
{
    return nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f) return -1;
    const char *tmp = getenv("TMPDIR");
    snprintf(f->dir, sizeof f->dir, "%s/pixelprompt-store-test-XXXXXX",
             tmp && tmp[0] ? tmp : "/tmp");
    if (!mkdtemp(f->dir)) return -1;
    test_config(&f->cfg, f->dir);
    char err[256];
    f->store = store_open(&f->cfg, err, sizeof err);
    if (!f->store) fprintf(stderr, "store_open: %s\n", err);
    f->blob = blob_open(&f->cfg, err, sizeof err);
    if (!f->blob) fprintf(stderr, "blob_open: %s\n", err);
    *state = f;
    return f->store && f->blob ? 0 : -1;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    store_close(f->store);
    blob_close(f->blob);
    rm_rf(f->dir);
    free(f);
    return 0;
}

/* A job with n pending results (slots 1..n) created at created_ms; the caller clears it. */
static void make_job(struct job *job, const char *prompt, int n, int64_t created_ms)
{
    memset(job, 0, sizeof *job);
    assert_int_equal(id_new_uuid7(created_ms, job->id), 0);
    job->prompt = strdup(prompt);
    assert_non_null(job->prompt);
    job->created_ms = job->updated_ms = created_ms;
    job->n_results = n;
    job->results = calloc((size_t)n, sizeof *job->results);
    assert_non_null(job->results);
    for (int i = 0; i < n; i++) {
        struct result *r = &job->results[i];
        r->index = i + 1;
        snprintf(r->model, sizeof r->model, "model-%d", i + 1);
        snprintf(r->name, sizeof r->name, "Model %d \xc3\xa9", i + 1);
        snprintf(r->provider, sizeof r->provider, "demo");
        r->status = RS_PENDING;
        r->deadline_ms = created_ms + 120000;
    }
}

static void complete(struct result *r, const char *job_id)
{
    r->status = RS_COMPLETED;
    snprintf(r->image_key, sizeof r->image_key, "images/%s/%d.png", job_id, r->index);
    snprintf(r->thumb_key, sizeof r->thumb_key, "thumbs/%s/%d.webp", job_id, r->index);
    snprintf(r->content_type, sizeof r->content_type, "image/png");
    r->width = r->height = 1024;
    r->duration_ms = 1500;
    r->completed_ms = clock_wall_ms();
}

static void assert_result_equal(const struct result *a, const struct result *b)
{
    assert_int_equal(a->index, b->index);
    assert_string_equal(a->model, b->model);
    assert_string_equal(a->name, b->name);
    assert_string_equal(a->provider, b->provider);
    assert_int_equal(a->status, b->status);
    assert_string_equal(a->image_key, b->image_key);
    assert_string_equal(a->thumb_key, b->thumb_key);
    assert_string_equal(a->content_type, b->content_type);
    assert_int_equal(a->width, b->width);
    assert_int_equal(a->height, b->height);
    assert_true(a->duration_ms == b->duration_ms);
    assert_string_equal(a->error, b->error);
    assert_true(a->started_ms == b->started_ms);
    assert_true(a->completed_ms == b->completed_ms);
    assert_true(a->deadline_ms == b->deadline_ms);
}

static void open_errors_name_the_variable(void **state)
{
    (void)state;
    struct config cfg;
    test_config(&cfg, "/nonexistent-never-created");
    char err[256];
    snprintf(cfg.store, sizeof cfg.store, "nosuch");
    assert_null(store_open(&cfg, err, sizeof err));
    assert_non_null(strstr(err, "STORE"));
    snprintf(cfg.blobs, sizeof cfg.blobs, "nosuch");
    assert_null(blob_open(&cfg, err, sizeof err));
    assert_non_null(strstr(err, "BLOBS"));
    assert_string_equal(store_strerror(STORE_NOT_FOUND), "not found");
    assert_non_null(blob_strerror(BLOB_INVALID));
}

static void ping(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(store_ping(f->store), STORE_OK);
    assert_int_equal(blob_ping(f->blob), BLOB_OK);
}

static void create_get_round_trip(void **state)
{
    struct fixture *f = *state;
    struct job job, got;
    /* German, an emoji (4-byte UTF-8) and Japanese */
    const char *prompt =
        "Ein Fuchs im Schnee \xf0\x9f\xa6\x8a \xe2\x80\x94 \xe9\x9b\xaa\xe3\x81\xae"
        "\xe7\x8b\x90, caf\xc3\xa9";
    make_job(&job, prompt, 3, clock_wall_ms());
    job.results[1].status = RS_IN_PROGRESS;
    job.results[1].started_ms = job.created_ms + 5;
    snprintf(job.results[2].error, sizeof job.results[2].error,
             "quota \xe2\x80\x9c"
             "exceeded\xe2\x80\x9d");
    job.results[2].status = RS_ERROR;
    assert_int_equal(store_create_job(f->store, &job, NULL, 0, NULL), STORE_OK);

    assert_int_equal(store_get_job(f->store, job.id, &got), STORE_OK);
    assert_string_equal(got.id, job.id);
    assert_string_equal(got.prompt, prompt);
    assert_true(got.created_ms == job.created_ms);
    assert_true(got.updated_ms >= job.created_ms);
    assert_int_equal(got.n_results, 3);
    for (int i = 0; i < 3; i++)
        assert_result_equal(&got.results[i], &job.results[i]);
    assert_int_equal(job_derive_status(&got), JS_IN_PROGRESS);
    job_clear(&got);
    job_clear(&job);
}

/* Fixed-size fields without a NUL are stored as their full size and read back cut safely. */
static void overlong_fields_are_truncated(void **state)
{
    struct fixture *f = *state;
    struct job job, got;
    make_job(&job, "long fields", 1, clock_wall_ms());
    memset(job.results[0].model, 'm', sizeof job.results[0].model); /* no NUL */
    /* "xy" then two-byte characters to the very end, no NUL: the cut must not split one */
    char *e = job.results[0].error;
    e[0] = 'x';
    e[1] = 'y';
    for (size_t i = 2; i + 1 < sizeof job.results[0].error; i += 2) {
        e[i] = (char)0xc3;
        e[i + 1] = (char)0xa9;
    }
    assert_int_equal(store_create_job(f->store, &job, NULL, 0, NULL), STORE_OK);
    assert_int_equal(store_get_job(f->store, job.id, &got), STORE_OK);
    assert_int_equal(strlen(got.results[0].model), sizeof got.results[0].model - 1);
    /* "xy" plus whole characters: one byte short of the field would split the last one */
    assert_int_equal(strlen(got.results[0].error), sizeof got.results[0].error - 2);
    assert_true(utf8_is_valid(got.results[0].error, strlen(got.results[0].error)));
    job_clear(&got);
    job_clear(&job);
}

static void unknown_and_invalid_ids(void **state)
{
    struct fixture *f = *state;
    struct job got;
    char id[ID_LEN + 1];
    assert_int_equal(id_new_uuid7(clock_wall_ms(), id), 0);
    assert_int_equal(store_get_job(f->store, id, &got), STORE_NOT_FOUND);
    assert_null(got.prompt);
    assert_int_equal(store_get_job(f->store, "../../etc/passwd", &got), STORE_INVALID);
    assert_int_equal(store_get_job(f->store, "", &got), STORE_INVALID);
    assert_int_equal(store_get_job(f->store, NULL, &got), STORE_INVALID);
    assert_int_equal(store_get_job(f->store, "0190A3B4-0000-7000-8000-000000000000", &got),
                     STORE_INVALID);

    struct result r;
    memset(&r, 0, sizeof r);
    r.index = 1;
    r.status = RS_IN_PROGRESS;
    assert_int_equal(store_update_result(f->store, "nope", &r, RS_UNFINISHED), STORE_INVALID);
    assert_int_equal(store_update_result(f->store, id, &r, RS_UNFINISHED), STORE_NOT_FOUND);

    struct job job;
    make_job(&job, "p", 1, clock_wall_ms());
    snprintf(job.id, sizeof job.id, "not-an-id");
    assert_int_equal(store_create_job(f->store, &job, NULL, 0, NULL), STORE_INVALID);
    job_clear(&job);
}

static enum job_status status_of(struct store *s, const char *id)
{
    struct job got;
    assert_int_equal(store_get_job(s, id, &got), STORE_OK);
    enum job_status st = job_derive_status(&got);
    job_clear(&got);
    return st;
}

static void update_transitions(void **state)
{
    struct fixture *f = *state;
    struct job job, got;
    int64_t t0 = clock_wall_ms() - 1000;
    make_job(&job, "transitions", 3, t0);
    assert_int_equal(store_create_job(f->store, &job, NULL, 0, NULL), STORE_OK);
    assert_int_equal(status_of(f->store, job.id), JS_PENDING);

    struct result r = job.results[0];
    r.status = RS_IN_PROGRESS;
    r.started_ms = clock_wall_ms();
    assert_int_equal(store_update_result(f->store, job.id, &r, RS_BIT(RS_PENDING)), STORE_OK);
    assert_int_equal(status_of(f->store, job.id), JS_IN_PROGRESS);
    /* the same transition again no longer applies */
    assert_int_equal(store_update_result(f->store, job.id, &r, RS_BIT(RS_PENDING)), STORE_CONFLICT);

    complete(&r, job.id);
    assert_int_equal(store_update_result(f->store, job.id, &r, RS_BIT(RS_IN_PROGRESS)), STORE_OK);
    struct result back = r;
    back.status = RS_IN_PROGRESS;
    assert_int_equal(store_update_result(f->store, job.id, &back, RS_BIT(RS_IN_PROGRESS)),
                     STORE_CONFLICT);

    /* cancel: only unfinished rows move */
    struct result c2 = job.results[1], c1 = r;
    c2.status = RS_CANCELLED;
    c2.completed_ms = clock_wall_ms();
    c1.status = RS_CANCELLED;
    assert_int_equal(store_update_result(f->store, job.id, &c1, RS_UNFINISHED), STORE_CONFLICT);
    assert_int_equal(store_update_result(f->store, job.id, &c2, RS_UNFINISHED), STORE_OK);
    assert_int_equal(status_of(f->store, job.id), JS_IN_PROGRESS); /* slot 3 still pending */

    struct result e3 = job.results[2];
    e3.status = RS_ERROR;
    snprintf(e3.error, sizeof e3.error, "provider said no");
    assert_int_equal(store_update_result(f->store, job.id, &e3, RS_UNFINISHED), STORE_OK);

    /* a slot that does not exist */
    struct result r9 = e3;
    r9.index = 9;
    assert_int_equal(store_update_result(f->store, job.id, &r9, RS_UNFINISHED), STORE_NOT_FOUND);

    assert_int_equal(store_get_job(f->store, job.id, &got), STORE_OK);
    assert_result_equal(&got.results[0], &r); /* the conflicts changed nothing */
    assert_result_equal(&got.results[1], &c2);
    assert_result_equal(&got.results[2], &e3);
    assert_true(got.updated_ms > t0);
    assert_int_equal(job_derive_status(&got), JS_PARTIAL);
    struct job_counts n = job_count(&got);
    assert_int_equal(n.completed, 1);
    assert_int_equal(n.cancelled, 1);
    assert_int_equal(n.error, 1);
    job_clear(&got);
    job_clear(&job);
}

struct race_arg {
    struct store *store;
    const char *job_id;
    struct result r;
    int rc;
};

static void *race_one(void *p)
{
    struct race_arg *a = p;
    a->rc = store_update_result(a->store, a->job_id, &a->r, RS_UNFINISHED);
    return NULL;
}

/* Each result is its own row: parallel updates of one job never lose each other. */
static void concurrent_updates_do_not_lose_each_other(void **state)
{
    struct fixture *f = *state;
    enum { N = 8 };
    struct job job, got;
    make_job(&job, "race", N, clock_wall_ms());
    assert_int_equal(store_create_job(f->store, &job, NULL, 0, NULL), STORE_OK);
    pthread_t th[N];
    struct race_arg args[N];
    for (int i = 0; i < N; i++) {
        args[i] = (struct race_arg){f->store, job.id, job.results[i], -99};
        complete(&args[i].r, job.id);
        assert_int_equal(pthread_create(&th[i], NULL, race_one, &args[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(args[i].rc, STORE_OK);
    }
    assert_int_equal(store_get_job(f->store, job.id, &got), STORE_OK);
    assert_int_equal(job_count(&got).completed, N);
    assert_int_equal(job_derive_status(&got), JS_COMPLETED);
    job_clear(&got);
    job_clear(&job);
}

static void gallery_pages(void **state)
{
    struct fixture *f = *state;
    enum { WITH = 7, WITHOUT = 2 };
    struct gallery_page page;
    assert_int_equal(store_gallery_list(f->store, 24, NULL, &page), STORE_OK);
    long total0 = page.total;
    gallery_page_clear(&page);

    /* Far-future, distinct times: these are the newest entries whatever else is stored. */
    int64_t base = clock_wall_ms() + 3650 * DAY_MS + (clock_wall_ms() % 100000) * 100;
    char ids[WITH][ID_LEN + 1];
    for (int i = 0; i < WITH + WITHOUT; i++) {
        struct job job;
        make_job(&job, i < WITH ? "with image" : "no image", 2, base + i * 10);
        assert_int_equal(store_create_job(f->store, &job, NULL, 0, NULL), STORE_OK);
        if (i < WITH) {
            snprintf(ids[i], sizeof ids[i], "%s", job.id);
            struct result r = job.results[1]; /* slot 2 completes first ... */
            complete(&r, job.id);
            assert_int_equal(store_update_result(f->store, job.id, &r, RS_UNFINISHED), STORE_OK);
            if (i % 2 == 0) { /* ... and slot 1 later on every other job */
                r = job.results[0];
                complete(&r, job.id);
                assert_int_equal(store_update_result(f->store, job.id, &r, RS_UNFINISHED),
                                 STORE_OK);
            }
        } else { /* finished without an image: not in the gallery */
            struct result r = job.results[0];
            r.status = RS_ERROR;
            assert_int_equal(store_update_result(f->store, job.id, &r, RS_UNFINISHED), STORE_OK);
            r = job.results[1];
            r.status = RS_COMPLETED; /* completed, yet no image key */
            assert_int_equal(store_update_result(f->store, job.id, &r, RS_UNFINISHED), STORE_OK);
        }
        job_clear(&job);
    }

    int seen[WITH] = {0};
    int pages = 0, ours = 0;
    int64_t prev_ms = INT64_MAX;
    char cursor[128] = "";
    for (;;) {
        assert_int_equal(store_gallery_list(f->store, 3, cursor, &page), STORE_OK);
        pages++;
        assert_true(page.n <= 3);
        assert_true(page.total - total0 == WITH);
        for (int k = 0; k < page.n; k++) {
            const struct gallery_entry *e = &page.entries[k];
            assert_true(e->created_ms <= prev_ms); /* newest first */
            prev_ms = e->created_ms;
            for (int i = 0; i < WITH; i++) {
                if (strcmp(e->id, ids[i]) != 0) continue;
                seen[i]++;
                ours++;
                assert_string_equal(e->prompt, "with image");
                assert_true(e->created_ms == base + i * 10);
                assert_int_equal(e->image_count, i % 2 == 0 ? 2 : 1);
                assert_non_null(strstr(e->preview_key, "thumbs/"));
                assert_non_null(strstr(e->preview_key, ids[i]));
            }
        }
        snprintf(cursor, sizeof cursor, "%s", page.next_cursor);
        bool stop = !cursor[0] || prev_ms < base;
        gallery_page_clear(&page);
        if (stop) break;
        assert_true(pages < 100);
    }
    for (int i = 0; i < WITH; i++)
        assert_int_equal(seen[i], 1);
    assert_int_equal(ours, WITH);
    if (total0 == 0) assert_int_equal(pages, 3); /* 3 + 3 + 1 */

    assert_int_equal(store_gallery_list(f->store, 3, "garbage", &page), STORE_INVALID);
    assert_int_equal(store_gallery_list(f->store, 0, NULL, &page), STORE_INVALID);
}

static void idempotency_keys(void **state)
{
    struct fixture *f = *state;
    char key[64], existing[ID_LEN + 1];
    char rnd[ID_LEN + 1];
    assert_int_equal(id_new_uuid7(clock_wall_ms(), rnd), 0);
    snprintf(key, sizeof key, "idem-%s", rnd);

    struct job a, b, c, got;
    make_job(&a, "first", 1, clock_wall_ms());
    make_job(&b, "second", 1, clock_wall_ms() + 1);
    assert_int_equal(store_create_job(f->store, &a, key, DAY_MS, existing), STORE_OK);
    assert_int_equal(store_create_job(f->store, &b, key, DAY_MS, existing), STORE_EXISTS);
    assert_string_equal(existing, a.id);
    assert_int_equal(store_get_job(f->store, b.id, &got), STORE_NOT_FOUND); /* nothing created */

    /* with ttl 0 the key is always expired: a new job is made and the key moves to it */
    make_job(&c, "third", 1, clock_wall_ms() + 2);
    assert_int_equal(store_create_job(f->store, &c, key, 0, existing), STORE_OK);
    assert_int_equal(store_get_job(f->store, c.id, &got), STORE_OK);
    job_clear(&got);
    assert_int_equal(store_create_job(f->store, &b, key, DAY_MS, existing), STORE_EXISTS);
    assert_string_equal(existing, c.id);

    /* no key: always created */
    assert_int_equal(store_create_job(f->store, &b, NULL, 0, NULL), STORE_OK);
    job_clear(&a);
    job_clear(&b);
    job_clear(&c);
}

struct quota_arg {
    struct store *store;
    const char *key;
    int allowed, errors;
};

static void *quota_worker(void *p)
{
    struct quota_arg *a = p;
    for (int i = 0; i < 10; i++) {
        bool ok = false;
        long count = 0;
        int rc = store_quota_take(a->store, a->key, 5, clock_wall_ms() + 3600000, &ok, &count);
        if (rc != STORE_OK)
            a->errors++;
        else if (ok)
            a->allowed++;
    }
    return NULL;
}

static void quota_is_atomic(void **state)
{
    struct fixture *f = *state;
    char key[64], rnd[ID_LEN + 1];
    assert_int_equal(id_new_uuid7(clock_wall_ms(), rnd), 0);
    snprintf(key, sizeof key, "q-%s", rnd);

    enum { T = 8 };
    pthread_t th[T];
    struct quota_arg args[T];
    for (int i = 0; i < T; i++) {
        args[i] = (struct quota_arg){f->store, key, 0, 0};
        assert_int_equal(pthread_create(&th[i], NULL, quota_worker, &args[i]), 0);
    }
    int allowed = 0;
    for (int i = 0; i < T; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(args[i].errors, 0);
        allowed += args[i].allowed;
    }
    assert_int_equal(allowed, 5);

    bool ok = true;
    long count = 0;
    int64_t exp = clock_wall_ms() + 3600000;
    assert_int_equal(store_quota_take(f->store, key, 5, exp, &ok, &count), STORE_OK);
    assert_false(ok);
    assert_int_equal(count, 5);
    assert_int_equal(store_quota_release(f->store, key), STORE_OK);
    assert_int_equal(store_quota_take(f->store, key, 5, exp, &ok, &count), STORE_OK);
    assert_true(ok);
    assert_int_equal(count, 5);

    /* a limit of 0 never admits; a new key starts at 1 */
    snprintf(key, sizeof key, "q0-%s", rnd);
    assert_int_equal(store_quota_take(f->store, key, 0, exp, &ok, &count), STORE_OK);
    assert_false(ok);
    snprintf(key, sizeof key, "q1-%s", rnd);
    assert_int_equal(store_quota_take(f->store, key, 1, exp, &ok, &count), STORE_OK);
    assert_true(ok);
    assert_int_equal(count, 1);
}

/* Two handles on the same storage (two processes, or two instances on one table) still share one
 * atomic counter and see each other's writes. */
static void two_handles_share_state(void **state)
{
    struct fixture *f = *state;
    char err[256];
    struct store *other = store_open(&f->cfg, err, sizeof err);
    assert_non_null(other);
    char key[64], rnd[ID_LEN + 1];
    assert_int_equal(id_new_uuid7(clock_wall_ms(), rnd), 0);
    snprintf(key, sizeof key, "q2-%s", rnd);

    enum { T = 8 };
    pthread_t th[T];
    struct quota_arg args[T];
    for (int i = 0; i < T; i++) {
        args[i] = (struct quota_arg){i % 2 ? other : f->store, key, 0, 0};
        assert_int_equal(pthread_create(&th[i], NULL, quota_worker, &args[i]), 0);
    }
    int allowed = 0;
    for (int i = 0; i < T; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(args[i].errors, 0);
        allowed += args[i].allowed;
    }
    assert_int_equal(allowed, 5);

    struct job job, got;
    make_job(&job, "seen by both", 1, clock_wall_ms());
    assert_int_equal(store_create_job(other, &job, NULL, 0, NULL), STORE_OK);
    assert_int_equal(store_get_job(f->store, job.id, &got), STORE_OK);
    job_clear(&got);
    struct result r = job.results[0];
    complete(&r, job.id);
    assert_int_equal(store_update_result(f->store, job.id, &r, RS_UNFINISHED), STORE_OK);
    assert_int_equal(store_get_job(other, job.id, &got), STORE_OK);
    assert_int_equal(got.results[0].status, RS_COMPLETED);
    job_clear(&got);
    job_clear(&job);
    store_close(other);
}

static void recover_marks_only_overdue_unfinished(void **state)
{
    struct fixture *f = *state;
    int64_t now = clock_wall_ms();
    struct job job, got;
    make_job(&job, "crash", 4, now - 600000);
    job.results[0].status = RS_IN_PROGRESS; /* overdue */
    job.results[0].deadline_ms = now - 1000;
    job.results[1].status = RS_PENDING; /* overdue */
    job.results[1].deadline_ms = now - 1000;
    job.results[2].status = RS_IN_PROGRESS; /* still has time */
    job.results[2].deadline_ms = now + 600000;
    complete(&job.results[3], job.id); /* finished: untouched */
    job.results[3].deadline_ms = now - 1000;
    assert_int_equal(store_create_job(f->store, &job, NULL, 0, NULL), STORE_OK);

    int n = -1;
    assert_int_equal(store_recover_interrupted(f->store, now, now + 5, &n), STORE_OK);
    assert_true(n >= 2);
    assert_int_equal(store_get_job(f->store, job.id, &got), STORE_OK);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(got.results[i].status, RS_ERROR);
        assert_string_equal(got.results[i].error, "interrupted");
        assert_true(got.results[i].completed_ms == now + 5);
    }
    assert_result_equal(&got.results[2], &job.results[2]);
    assert_result_equal(&got.results[3], &job.results[3]);
    assert_true(got.updated_ms >= now + 5);
    job_clear(&got);

    assert_int_equal(store_recover_interrupted(f->store, now, now + 6, &n), STORE_OK);
    assert_int_equal(store_get_job(f->store, job.id, &got), STORE_OK);
    assert_true(got.results[0].completed_ms == now + 5); /* second run: nothing left to mark */
    job_clear(&got);
    job_clear(&job);
}

static void blob_round_trip(void **state)
{
    struct fixture *f = *state;
    char id[ID_LEN + 1], key[128], tkey[128];
    assert_int_equal(id_new_uuid7(clock_wall_ms(), id), 0);
    snprintf(key, sizeof key, "images/%s/1-fox.png", id);
    snprintf(tkey, sizeof tkey, "thumbs/%s/1-fox.webp", id);
    static const unsigned char png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13};

    assert_int_equal(blob_put(f->blob, key, png, sizeof png, "image/png"), BLOB_OK);
    assert_int_equal(blob_put(f->blob, tkey, "RIFF", 4, "image/webp"), BLOB_OK);
    struct buf out = BUF_INIT;
    char ct[64], etag[64], etag2[64];
    assert_int_equal(blob_get(f->blob, key, &out, ct, etag), BLOB_OK);
    assert_int_equal(out.len, sizeof png);
    assert_memory_equal(out.data, png, sizeof png);
    assert_string_equal(ct, "image/png");
    assert_true(strlen(etag) >= 3 && etag[0] == '"' && etag[strlen(etag) - 1] == '"');
    buf_reset(&out);
    assert_int_equal(blob_get(f->blob, tkey, &out, ct, NULL), BLOB_OK);
    assert_string_equal(ct, "image/webp");
    assert_int_equal(out.len, 4);

    /* overwrite: readers see the new bytes and a new ETag */
    assert_int_equal(blob_put(f->blob, key, "new bytes", 9, "image/png"), BLOB_OK);
    buf_reset(&out);
    assert_int_equal(blob_get(f->blob, key, &out, NULL, etag2), BLOB_OK);
    assert_int_equal(out.len, 9);
    assert_string_not_equal(etag, etag2);

    /* empty object */
    char ekey[128];
    snprintf(ekey, sizeof ekey, "images/%s/empty.json", id);
    assert_int_equal(blob_put(f->blob, ekey, NULL, 0, "application/json"), BLOB_OK);
    buf_reset(&out);
    assert_int_equal(blob_get(f->blob, ekey, &out, ct, NULL), BLOB_OK);
    assert_int_equal(out.len, 0);
    assert_string_equal(ct, "application/json");

    assert_int_equal(blob_delete(f->blob, key), BLOB_OK);
    buf_reset(&out);
    assert_int_equal(blob_get(f->blob, key, &out, NULL, NULL), BLOB_NOT_FOUND);
    assert_int_equal(blob_delete(f->blob, key), BLOB_OK); /* deleting twice is fine (as on S3) */
    assert_int_equal(blob_delete(f->blob, tkey), BLOB_OK);
    assert_int_equal(blob_delete(f->blob, ekey), BLOB_OK);
    buf_free(&out);
}

static void blob_invalid_keys(void **state)
{
    struct fixture *f = *state;
    static const char *const bad[] = {
        "../x",
        "/abs",
        "a//b",
        "a/../b",
        "",
        "a/",
        "a\\b",
        "a b",
        "..",
        ".",
        "a/./b",
        ".hidden",
        "images/.tmp-123",
        "caf\xc3\xa9.png",
        "a?b",
        "a%2e%2e/b",
    };
    struct buf out = BUF_INIT;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_false(blob_key_is_valid(bad[i]));
        assert_int_equal(blob_put(f->blob, bad[i], "x", 1, "text/plain"), BLOB_INVALID);
        assert_int_equal(blob_get(f->blob, bad[i], &out, NULL, NULL), BLOB_INVALID);
        assert_int_equal(blob_delete(f->blob, bad[i]), BLOB_INVALID);
    }
    assert_false(blob_key_is_valid(NULL));
    char long_key[256];
    memset(long_key, 'a', sizeof long_key - 1);
    long_key[sizeof long_key - 1] = '\0';
    assert_false(blob_key_is_valid(long_key));
    long_key[200] = '\0';
    assert_true(blob_key_is_valid(long_key));
    assert_true(blob_key_is_valid("images/0190a3b4-0000-7000-8000-000000000000/1-a_b.c.png"));

    assert_int_equal(blob_get(f->blob, "images/never-stored.png", &out, NULL, NULL),
                     BLOB_NOT_FOUND);
    buf_free(&out);

    assert_string_equal(blob_content_type_for("a/b.PNG"), "image/png");
    assert_string_equal(blob_content_type_for("a/b.jpeg"), "image/jpeg");
    assert_string_equal(blob_content_type_for("a/b.jpg"), "image/jpeg");
    assert_string_equal(blob_content_type_for("a/b.webp"), "image/webp");
    assert_string_equal(blob_content_type_for("a.b/c"), "application/octet-stream");
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(open_errors_name_the_variable),
        T(ping),
        T(create_get_round_trip),
        T(overlong_fields_are_truncated),
        T(unknown_and_invalid_ids),
        T(update_transitions),
        T(concurrent_updates_do_not_lose_each_other),
        T(gallery_pages),
        T(idempotency_keys),
        T(quota_is_atomic),
        T(two_handles_share_state),
        T(recover_marks_only_overdue_unfinished),
        T(blob_round_trip),
        T(blob_invalid_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
