/* pixelprompt: serve | lambda | generate | check-config | version */
#include <malloc.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <curl/curl.h>

#include "app/runtime.h"
#include "engine/engine.h"
#include "front/cli_generate.h"
#include "front/http.h"
#include "front/lambda.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/log.h"

#define RECOVERY_INTERVAL_S 30

static void usage(FILE *out)
{
    fputs("usage: pixelprompt <command>\n"
          "  serve          serve the API and web UI (PORT, BIND, DATA_DIR, ...)\n"
          "  lambda         run as an AWS Lambda custom runtime (the function's bootstrap)\n"
          "  generate PROMPT [--models id,...] [--out DIR]\n"
          "                 run one job from the terminal and write its images to DIR\n"
          "  check-config   print the resolved configuration with secrets masked\n"
          "  version        print the version\n"
          "Configuration comes from environment variables; see docs/CONFIGURATION.md.\n",
          out);
}

static int fail_start(int code, const char *err)
{
    fprintf(stderr, "pixelprompt: %s\n", err);
    return code;
}

/* Results whose process died are marked error so no job stays unfinished. With SQLite this
 * process owns the directory (flock), so everything unfinished at start was left by a dead one. */
static void recover(struct runtime *rt, bool at_start)
{
    bool sole_owner = strcmp(rt->cfg.store, "sqlite") == 0;
    int64_t now = clock_wall_ms();
    int marked = 0;
    int rc = store_recover_interrupted(rt->app.store, at_start && sole_owner ? INT64_MAX : now, now,
                                       &marked);
    if (rc != STORE_OK)
        log_msg(LOG_WARNING, "recovery of interrupted results failed: %s", store_strerror(rc));
    else if (marked > 0)
        log_msg(LOG_WARNING, "marked %d interrupted result(s) as error", marked);
}

/* Hundreds of SSE streams and provider transfers each need a descriptor. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
    rlim_t want = rl.rlim_max < 65536 ? rl.rlim_max : 65536;
    if (rl.rlim_cur < want) {
        rl.rlim_cur = want;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* A result changed on this instance: its live streams hear it now, not at their next poll. */
static void wake_streams(void *ctx, const char *job_id)
{
    http_server_notify(ctx, job_id);
}

static int cmd_serve(void)
{
    struct runtime rt;
    memset(&rt, 0, sizeof rt);
    rt.lock_fd = -1;
    char err[512];
    int rc = runtime_load_config(&rt.cfg, err, sizeof err);
    if (rc != RUNTIME_OK) return fail_start(rc, err);

    /* Signals are taken synchronously by this thread; every thread started later inherits the
     * mask, so none of them is interrupted. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    rc = runtime_open(&rt, 1, err, sizeof err);
    if (rc != RUNTIME_OK) {
        runtime_close(&rt);
        return fail_start(rc, err);
    }
    recover(&rt, true);
    struct http_server *server = http_server_start(&rt.app, err, sizeof err);
    if (!server) {
        runtime_close(&rt);
        return fail_start(RUNTIME_FAILED, err);
    }
    engine_set_listener(rt.app.engine, wake_streams, server);
    json_t *f = json_pack("{s:s, s:i, s:s, s:s, s:i, s:s}", "bind", rt.cfg.bind, "port",
                          http_server_port(server), "store", rt.cfg.store, "blobs", rt.cfg.blobs,
                          "models", rt.cfg.n_models, "version", PP_VERSION);
    log_emit(LOG_INFO, NULL, "listening", f);
    json_decref(f);
    fprintf(stdout, "Pixel Prompt %s listening on http://%s:%d/\n", PP_VERSION, rt.cfg.bind,
            http_server_port(server));
    fflush(stdout);

    for (;;) {
        struct timespec wait = {RECOVERY_INTERVAL_S, 0};
        int sig = sigtimedwait(&set, NULL, &wait);
        if (sig == SIGTERM || sig == SIGINT) break;
        recover(&rt, false); /* leases of instances that died elsewhere */
    }
    log_msg(LOG_INFO, "shutting down");
    engine_set_listener(rt.app.engine, NULL, NULL);
    http_server_stop(server);
    runtime_close(&rt); /* the engine finishes its writes before the store closes */
    log_msg(LOG_INFO, "stopped");
    return 0;
}

/* The bootstrap of a provided.al2023 function: the Runtime API loop until the sandbox ends. */
static int cmd_lambda(void)
{
    const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
    if (!api || !*api)
        return fail_start(RUNTIME_BAD_CONFIG, "AWS_LAMBDA_RUNTIME_API is not set (not on Lambda?)");
    struct runtime rt;
    memset(&rt, 0, sizeof rt);
    rt.lock_fd = -1;
    char err[512];
    int rc = runtime_load_config(&rt.cfg, err, sizeof err);
    if (rc != RUNTIME_OK) {
        lambda_report_init_error(api, "Runtime.ConfigError", err);
        return fail_start(rc, err);
    }
    signal(SIGPIPE, SIG_IGN);
    rc = runtime_open(&rt, 1, err, sizeof err);
    if (rc != RUNTIME_OK) {
        lambda_report_init_error(api, "Runtime.InitError", err);
        runtime_close(&rt);
        return fail_start(rc, err);
    }
    rc = lambda_main(&rt.app, api);
    runtime_close(&rt);
    return rc;
}

static int cmd_check_config(void)
{
    struct config cfg;
    char err[512];
    if (runtime_load_config(&cfg, err, sizeof err) != RUNTIME_OK)
        return fail_start(RUNTIME_BAD_CONFIG, err);
    char *text = config_describe(&cfg);
    if (!text) return fail_start(RUNTIME_FAILED, "out of memory");
    puts(text);
    free(text);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("pixelprompt %s\n", PP_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        usage(stdout);
        return 0;
    }
    raise_fd_limit();
    /* Image bodies are megabytes: a fixed threshold makes them separate mappings that go back to
     * the system when freed, instead of glibc raising the threshold and keeping bursts in the
     * heap (bench/README.md, memory at 900 transfers). */
    mallopt(M_MMAP_THRESHOLD, 512 * 1024);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return fail_start(RUNTIME_FAILED, "libcurl failed to initialise");
    int rc;
    if (!strcmp(cmd, "serve"))
        rc = cmd_serve();
    else if (!strcmp(cmd, "lambda"))
        rc = cmd_lambda();
    else if (!strcmp(cmd, "check-config"))
        rc = cmd_check_config();
    else if (!strcmp(cmd, "generate"))
        rc = cli_generate(argc - 2, argv + 2);
    else {
        fprintf(stderr, "pixelprompt: unknown command \"%s\"\n", cmd);
        usage(stderr);
        rc = 2;
    }
    curl_global_cleanup();
    return rc;
}
