#include "app/runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "app/client_addr.h"
#include "app/filter.h"
#include "blob/blob.h"
#include "engine/engine.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/ids.h"
#include "util/log.h"

static const char *env_get(const char *name)
{
    return getenv(name);
}

int runtime_load_config(struct config *cfg, char *err, size_t errlen)
{
    return config_load(cfg, env_get, err, errlen) == 0 ? RUNTIME_OK : RUNTIME_BAD_CONFIG;
}

static int start_on_engine(void *ctx, const struct job *job)
{
    return engine_submit(ctx, job);
}

/* The quota key: QUOTA_HASH_KEY when set (shared by every instance), else a random key kept in
 * DATA_DIR/.quota-key, else (read-only file systems such as Lambda) one derived from the AWS secret
 * so it is still unknown to clients. */
static void load_quota_key(struct runtime *rt)
{
    const struct config *cfg = &rt->cfg;
    unsigned char *key = rt->app.quota_key;
    if (cfg->quota_hash_key[0]) {
        SHA256((const unsigned char *)cfg->quota_hash_key, strlen(cfg->quota_hash_key), key);
        return;
    }
    char path[600];
    snprintf(path, sizeof path, "%s/.quota-key", cfg->data_dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t n = read(fd, key, 32);
        close(fd);
        if (n == 32) return;
    }
    if (id_random_bytes(key, 32) == 0) {
        mkdir(cfg->data_dir, 0700);
        char tmp[620];
        snprintf(tmp, sizeof tmp, "%s.tmp-%d", path, (int)getpid());
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd >= 0) {
            bool ok = write(fd, key, 32) == 32 && fsync(fd) == 0;
            close(fd);
            if (ok && rename(tmp, path) == 0) return;
            unlink(tmp);
        }
    }
    char material[600];
    snprintf(material, sizeof material, "pixelprompt-quota:%s:%s", cfg->aws_secret_access_key,
             cfg->dynamodb_table);
    SHA256((const unsigned char *)material, strlen(material), key);
}

/* Two servers on one SQLite directory would each think the other's running jobs were dead. */
static int lock_data_dir(struct runtime *rt, char *err, size_t errlen)
{
    rt->lock_fd = -1;
    if (strcmp(rt->cfg.store, "sqlite") != 0) return 0;
    if (mkdir(rt->cfg.data_dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "DATA_DIR %s cannot be created: %s", rt->cfg.data_dir,
                 strerror(errno));
        return -1;
    }
    char path[600];
    snprintf(path, sizeof path, "%s/.lock", rt->cfg.data_dir);
    rt->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (rt->lock_fd < 0 || flock(rt->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        snprintf(err, errlen, "DATA_DIR %s is in use by another pixelprompt process",
                 rt->cfg.data_dir);
        if (rt->lock_fd >= 0) close(rt->lock_fd);
        rt->lock_fd = -1;
        return -1;
    }
    return 0;
}

int runtime_open(struct runtime *rt, int with_engine, char *err, size_t errlen)
{
    struct config *cfg = &rt->cfg;
    enum log_level level = LOG_INFO;
    log_level_parse(cfg->log_level, &level);
    log_set_min_level(level);
    char bad[256] = "";
    rt->ip_include = addr_list_parse(cfg->ip_include, bad, sizeof bad);
    if (!rt->ip_include) {
        snprintf(err, errlen, "IP_INCLUDE: not an address or CIDR: \"%s\"", bad);
        return RUNTIME_BAD_CONFIG;
    }
    rt->trusted_proxies = addr_list_parse(cfg->trusted_proxies, bad, sizeof bad);
    if (!rt->trusted_proxies) {
        snprintf(err, errlen, "TRUSTED_PROXIES: not an address or CIDR: \"%s\"", bad);
        return RUNTIME_BAD_CONFIG;
    }
    rt->filter = filter_new(cfg->filter_extra_terms);
    if (!rt->filter) {
        snprintf(err, errlen, "out of memory");
        return RUNTIME_FAILED;
    }
    if (lock_data_dir(rt, err, errlen) != 0) return RUNTIME_FAILED;
    struct app *app = &rt->app;
    app->cfg = cfg;
    app->filter = rt->filter;
    app->ip_include = rt->ip_include;
    app->trusted_proxies = rt->trusted_proxies;
    app->store = store_open(cfg, err, errlen);
    if (!app->store) return RUNTIME_FAILED;
    app->blob = blob_open(cfg, err, errlen);
    if (!app->blob) return RUNTIME_FAILED;
    load_quota_key(rt);
    if (with_engine) {
        app->engine = engine_start(cfg, app->store, app->blob, err, errlen);
        if (!app->engine) return RUNTIME_FAILED;
        app->start_job = start_on_engine;
        app->start_job_ctx = app->engine;
    }
    return RUNTIME_OK;
}

void runtime_close(struct runtime *rt)
{
    if (rt->app.engine) engine_stop(rt->app.engine);
    if (rt->app.blob) blob_close(rt->app.blob);
    if (rt->app.store) store_close(rt->app.store);
    filter_free(rt->filter);
    addr_list_free(rt->ip_include);
    addr_list_free(rt->trusted_proxies);
    if (rt->lock_fd >= 0) close(rt->lock_fd);
    memset(&rt->app, 0, sizeof rt->app);
    rt->filter = NULL;
    rt->ip_include = rt->trusted_proxies = NULL;
    rt->lock_fd = -1;
}
