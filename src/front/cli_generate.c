#include "front/cli_generate.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/filter.h"
#include "app/job_factory.h"
#include "app/runtime.h"
#include "blob/blob.h"
#include "engine/engine.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/utf8.h"

struct progress {
    struct store *store;
    bool tty;
    pthread_mutex_t lock;
    enum result_status last[CONFIG_MAX_MODELS];
    int64_t started_mono;
};

static const char *symbol(enum result_status s)
{
    switch (s) {
    case RS_PENDING:
        return "waiting";
    case RS_IN_PROGRESS:
        return "running";
    case RS_COMPLETED:
        return "done";
    case RS_ERROR:
        return "error";
    case RS_CANCELLED:
        return "cancelled";
    }
    return "?";
}

/* Prints what changed since the last call: a line per change (plain), or a redrawn status line
 * (TTY). Runs on engine threads; the lock keeps lines whole. */
static void on_change(void *ctx, const char *job_id)
{
    struct progress *p = ctx;
    struct job job;
    if (store_get_job(p->store, job_id, &job) != STORE_OK) return;
    pthread_mutex_lock(&p->lock);
    double t = (double)(clock_mono_ms() - p->started_mono) / 1000.0;
    for (int i = 0; i < job.n_results && i < CONFIG_MAX_MODELS; i++) {
        const struct result *r = &job.results[i];
        if (r->status == p->last[i]) continue;
        p->last[i] = r->status;
        if (p->tty) fprintf(stderr, "\r\033[K");
        fprintf(stderr, "[%6.1fs] %-24s %s%s%s\n", t, r->name, symbol(r->status),
                r->error[0] ? ": " : "", r->error);
    }
    if (p->tty) {
        struct job_counts c = job_count(&job);
        fprintf(stderr, "%d of %d done, %d running, %d failed", c.completed + c.error + c.cancelled,
                job.n_results, c.in_progress, c.error);
    }
    fflush(stderr);
    pthread_mutex_unlock(&p->lock);
    job_clear(&job);
}

static int write_file(const char *dir, const char *name, const struct buf *data)
{
    char path[1024], tmp[1100];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp-%d", path, (int)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) return -1;
    bool ok = fwrite(data->data, 1, data->len, f) == data->len;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    printf("%s\n", path);
    return 0;
}

int cli_generate(int argc, char **argv)
{
    const char *prompt = NULL, *models_arg = NULL, *out_dir = ".";
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--models") && i + 1 < argc)
            models_arg = argv[++i];
        else if (!strcmp(argv[i], "--out") && i + 1 < argc)
            out_dir = argv[++i];
        else if (argv[i][0] == '-' && argv[i][1] == '-') {
            fprintf(stderr, "pixelprompt generate: unknown option %s\n", argv[i]);
            return 2;
        } else if (!prompt)
            prompt = argv[i];
        else {
            fprintf(stderr, "pixelprompt generate: give the prompt as one argument (quote it)\n");
            return 2;
        }
    }
    if (!prompt || !*prompt) {
        fprintf(stderr, "usage: pixelprompt generate PROMPT [--models id,...] [--out DIR]\n");
        return 2;
    }
    if (!utf8_is_valid(prompt, strlen(prompt)) ||
        utf8_codepoints(prompt, strlen(prompt)) > PROMPT_MAX_CODEPOINTS) {
        fprintf(stderr,
                "pixelprompt generate: the prompt must be UTF-8 text of at most %d characters\n",
                PROMPT_MAX_CODEPOINTS);
        return 2;
    }
    static struct runtime rt; /* large; lives for the command */
    memset(&rt, 0, sizeof rt);
    rt.lock_fd = -1;
    char err[512];
    int rc = runtime_load_config(&rt.cfg, err, sizeof err);
    if (rc != RUNTIME_OK) {
        fprintf(stderr, "pixelprompt: %s\n", err);
        return 2;
    }
    const struct model_config *chosen[CONFIG_MAX_MODELS];
    int n = 0;
    for (int i = 0; i < rt.cfg.n_models; i++) {
        const struct model_config *m = &rt.cfg.models[i];
        bool wanted = !models_arg;
        if (models_arg) {
            const char *p = models_arg;
            size_t len = strlen(m->id);
            while (*p && !wanted) {
                size_t seg = strcspn(p, ",");
                wanted = seg == len && strncmp(p, m->id, len) == 0;
                p += seg + (p[seg] == ',');
            }
        }
        if (wanted) chosen[n++] = m;
    }
    if (n == 0) {
        fprintf(stderr, "pixelprompt generate: no configured model matches%s%s\n",
                models_arg ? " " : "", models_arg ? models_arg : "");
        return 2;
    }
    if (mkdir(out_dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "pixelprompt generate: cannot create %s: %s\n", out_dir, strerror(errno));
        return 2;
    }
    rc = runtime_open(&rt, 1, err, sizeof err);
    if (rc != RUNTIME_OK) {
        fprintf(stderr, "pixelprompt: %s\n", err);
        runtime_close(&rt);
        return rc == RUNTIME_BAD_CONFIG ? 2 : 1;
    }
    if (filter_blocks(rt.app.filter, prompt, NULL)) {
        fprintf(stderr, "pixelprompt generate: the prompt was refused by the content filter\n");
        runtime_close(&rt);
        return 2;
    }
    struct job job;
    struct progress p = {
        .store = rt.app.store, .tty = isatty(2) == 1, .started_mono = clock_mono_ms()};
    pthread_mutex_init(&p.lock, NULL);
    int status = 1;
    if (job_build(&rt.cfg, prompt, chosen, n, &job) == 0 &&
        store_create_job(rt.app.store, &job, NULL, 0, NULL) == STORE_OK) {
        engine_set_listener(rt.app.engine, on_change, &p);
        int64_t deadline = clock_wall_ms() + (int64_t)rt.cfg.model_timeout_s * 1000 + 5000;
        engine_run_job(rt.app.engine, &job, deadline);
        engine_set_listener(rt.app.engine, NULL, NULL);
        if (p.tty) fputc('\n', stderr);
        struct job done;
        if (store_get_job(rt.app.store, job.id, &done) == STORE_OK) {
            for (int i = 0; i < done.n_results; i++) {
                const struct result *r = &done.results[i];
                if (r->status != RS_COMPLETED) continue;
                struct buf data = BUF_INIT;
                const char *name = strrchr(r->image_key, '/');
                if (blob_get(rt.app.blob, r->image_key, &data, NULL, NULL) == BLOB_OK && name &&
                    write_file(out_dir, name + 1, &data) == 0)
                    status = 0;
                buf_free(&data);
            }
            job_clear(&done);
        }
        job_clear(&job);
    } else {
        fprintf(stderr, "pixelprompt generate: could not create the job (storage unavailable)\n");
    }
    pthread_mutex_destroy(&p.lock);
    runtime_close(&rt);
    return status;
}
