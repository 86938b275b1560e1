/* Opening and closing everything a front door needs (config, store, blobs, filter, address lists,
 * quota key, engine) in one place, so `serve`, `lambda` and `generate` start the same way. */
#ifndef PP_APP_RUNTIME_H
#define PP_APP_RUNTIME_H

#include <stddef.h>

#include "app/app.h"
#include "app/config.h"

struct runtime {
    struct config cfg;
    struct app app;
    struct content_filter *filter;
    struct addr_list *ip_include;
    struct addr_list *trusted_proxies;
    int lock_fd; /* holds the sqlite data directory against a second server */
};

/* Exit codes for main: configuration mistakes are 2, other start failures 1. */
enum { RUNTIME_OK = 0, RUNTIME_FAILED = 1, RUNTIME_BAD_CONFIG = 2 };

/* Loads configuration from the environment only (check-config). */
int runtime_load_config(struct config *cfg, char *err, size_t errlen);
/* Opens storage, the filter, address lists and the quota key; with_engine also starts the engine
 * and points app.start_job at it. */
int runtime_open(struct runtime *rt, int with_engine, char *err, size_t errlen);
void runtime_close(struct runtime *rt);

#endif
