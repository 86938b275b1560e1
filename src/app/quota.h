/* Request quotas (docs/adr/0005): per-client and global counters in fixed windows, kept in the
 * store under a keyed hash of the client address, never the address itself. */
#ifndef PP_APP_QUOTA_H
#define PP_APP_QUOTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/app.h"

#define QUOTA_HOUR_MS (3600LL * 1000)
#define QUOTA_DAY_MS (24LL * 3600 * 1000)

enum quota_verdict { QUOTA_ALLOWED, QUOTA_LIMITED, QUOTA_STORE_DOWN };

struct quota_rule {
    const char *scope; /* "generate-ip", "generate-global", "enhance-ip", "log-ip" */
    long limit;        /* 0 = no requests allowed */
    int64_t window_ms;
    bool per_client;
};

/* Keyed hash of the client address (hex, 64 chars + NUL). */
void quota_client_hash(const struct app *app, const char *client_addr, char out[65]);

/* Takes one unit from each rule in order; if a later rule refuses, the earlier ones are given back.
 * Clients on IP_INCLUDE skip per-client rules. *retry_after_s is the true wait on QUOTA_LIMITED. */
enum quota_verdict quota_take(struct app *app, const char *client_addr,
                              const struct quota_rule *rules, int n_rules, long *retry_after_s,
                              char taken_keys[][160], int *n_taken);
/* Gives back what quota_take took (an idempotent replay must not cost quota). */
void quota_give_back(struct app *app, char taken_keys[][160], int n_taken);

#endif
