#include "app/quota.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "app/client_addr.h"
#include "app/quota_window.h"
#include "store/store.h"
#include "util/clock.h"

void quota_client_hash(const struct app *app, const char *client_addr, char out[65])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), app->quota_key, sizeof app->quota_key, (const unsigned char *)client_addr,
         strlen(client_addr), mac, &len);
    for (unsigned i = 0; i < 32 && i < len; i++)
        snprintf(out + 2 * i, 3, "%02x", mac[i]);
    out[64] = '\0';
}

enum quota_verdict quota_take(struct app *app, const char *client_addr,
                              const struct quota_rule *rules, int n_rules, long *retry_after_s,
                              char taken_keys[][160], int *n_taken)
{
    char subject[65];
    quota_client_hash(app, client_addr, subject);
    bool exempt = addr_list_contains(app->ip_include, client_addr);
    int64_t now = clock_wall_ms();
    *n_taken = 0;
    for (int i = 0; i < n_rules; i++) {
        if (rules[i].per_client && exempt) continue;
        struct quota_window w = quota_window_at(now, rules[i].window_ms);
        char key[160];
        quota_key(key, sizeof key, rules[i].scope, rules[i].per_client ? subject : "all", w);
        bool allowed = false;
        long count = 0;
        int rc = store_quota_take(app->store, key, rules[i].limit, w.end_ms, &allowed, &count);
        if (rc != STORE_OK || !allowed) {
            quota_give_back(app, taken_keys, *n_taken);
            *n_taken = 0;
            if (rc != STORE_OK) return QUOTA_STORE_DOWN;
            *retry_after_s = quota_retry_after_s(w, now);
            return QUOTA_LIMITED;
        }
        snprintf(taken_keys[*n_taken], 160, "%s", key);
        (*n_taken)++;
    }
    return QUOTA_ALLOWED;
}

void quota_give_back(struct app *app, char taken_keys[][160], int n_taken)
{
    for (int i = 0; i < n_taken; i++)
        store_quota_release(app->store, taken_keys[i]);
}
