#include "app/config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "providers/provider.h"

/* The models a fresh install serves: offline, no keys (the embedded default). */
static const struct {
    const char *id, *name;
} default_demo_models[] = {
    {"demo-gradient", "Demo Gradient"},
    {"demo-mosaic", "Demo Mosaic"},
    {"demo-rings", "Demo Rings"},
    {"demo-stripes", "Demo Stripes"},
};

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static const char *env_or(config_getenv_fn get, const char *name, const char *fallback)
{
    const char *v = get(name);
    return v && *v ? v : fallback;
}

static int read_str(config_getenv_fn get, const char *name, const char *fallback, char *dst,
                    size_t cap, char *err, size_t errlen)
{
    const char *v = env_or(get, name, fallback);
    if (strlen(v) >= cap)
        return fail(err, errlen, "%s is too long (at most %zu bytes)", name, cap - 1);
    memcpy(dst, v, strlen(v) + 1);
    return 0;
}

static int read_long(config_getenv_fn get, const char *name, long fallback, long min, long max,
                     long *out, char *err, size_t errlen)
{
    const char *v = get(name);
    if (!v || !*v) {
        *out = fallback;
        return 0;
    }
    char *end = NULL;
    errno = 0;
    long n = strtol(v, &end, 10);
    while (isspace((unsigned char)*end))
        end++;
    if (errno || end == v || *end != '\0')
        return fail(err, errlen, "%s must be a whole number, got \"%.40s\"", name, v);
    if (n < min || n > max)
        return fail(err, errlen, "%s must be between %ld and %ld, got %ld", name, min, max, n);
    *out = n;
    return 0;
}

static int read_int(config_getenv_fn get, const char *name, long fallback, long min, long max,
                    int *out, char *err, size_t errlen)
{
    long v = 0;
    if (read_long(get, name, fallback, min, max, &v, err, errlen)) return -1;
    *out = (int)v;
    return 0;
}

static int read_bool(config_getenv_fn get, const char *name, bool fallback, bool *out, char *err,
                     size_t errlen)
{
    const char *v = get(name);
    if (!v || !*v) {
        *out = fallback;
        return 0;
    }
    if (!strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on"))
        *out = true;
    else if (!strcmp(v, "0") || !strcasecmp(v, "false") || !strcasecmp(v, "no") ||
             !strcasecmp(v, "off"))
        *out = false;
    else
        return fail(err, errlen, "%s must be 1/0, true/false, yes/no or on/off, got \"%.40s\"",
                    name, v);
    return 0;
}

static int one_of(const char *name, const char *v, const char *a, const char *b, char *err,
                  size_t errlen)
{
    if (!strcmp(v, a) || !strcmp(v, b)) return 0;
    return fail(err, errlen, "%s must be \"%s\" or \"%s\", got \"%.40s\"", name, a, b, v);
}

static int load_model_slot(struct config *cfg, config_getenv_fn get, int slot, char *err,
                           size_t errlen)
{
    char var[64];
    snprintf(var, sizeof var, "MODEL_%d_PROVIDER", slot);
    const char *provider = env_or(get, var, "");
    if (!*provider) return 0; /* slots with no provider are skipped */
    if (!provider_find(provider)) {
        char known[512] = "";
        for (size_t i = 0; provider_at(i); i++) {
            strncat(known, i ? ", " : "", sizeof known - strlen(known) - 1);
            strncat(known, provider_at(i)->name, sizeof known - strlen(known) - 1);
        }
        return fail(err, errlen, "%s: unknown provider \"%.40s\" (known: %s)", var, provider,
                    known);
    }
    if (cfg->n_models >= CONFIG_MAX_MODELS)
        return fail(err, errlen, "at most %d models can be configured", CONFIG_MAX_MODELS);
    struct model_config *m = &cfg->models[cfg->n_models];
    memset(m, 0, sizeof *m);
    m->slot = slot;
    snprintf(m->provider, sizeof m->provider, "%s", provider);

    snprintf(var, sizeof var, "MODEL_%d_ID", slot);
    if (read_str(get, var, "", m->id, sizeof m->id, err, errlen)) return -1;
    if (!m->id[0])
        return fail(err, errlen, "%s is required when MODEL_%d_PROVIDER is set", var, slot);
    for (const char *p = m->id; *p; p++)
        if ((unsigned char)*p < 0x20)
            return fail(err, errlen, "%s contains a control character", var);
    snprintf(var, sizeof var, "MODEL_%d_NAME", slot);
    if (read_str(get, var, m->id, m->name, sizeof m->name, err, errlen)) return -1;
    snprintf(var, sizeof var, "MODEL_%d_KEY", slot);
    if (read_str(get, var, "", m->key, sizeof m->key, err, errlen)) return -1;
    snprintf(var, sizeof var, "MODEL_%d_BASE_URL", slot);
    if (read_str(get, var, "", m->base_url, sizeof m->base_url, err, errlen)) return -1;
    if (m->base_url[0] && strncmp(m->base_url, "http://", 7) != 0 &&
        strncmp(m->base_url, "https://", 8) != 0)
        return fail(err, errlen, "%s must start with http:// or https://", var);
    const struct provider_ops *ops = provider_find(provider);
    if (!ops->default_root && !m->base_url[0])
        return fail(err, errlen, "%s is required for provider \"%s\"", var, provider);
    for (int i = 0; i < cfg->n_models; i++)
        if (!strcmp(cfg->models[i].id, m->id))
            return fail(err, errlen, "MODEL_%d_ID \"%.60s\" is already used by MODEL_%d_ID", slot,
                        m->id, cfg->models[i].slot);
    cfg->n_models++;
    return 0;
}

/* ENHANCE_PROVIDER/ENHANCE_MODEL/ENHANCE_KEY/ENHANCE_BASE_URL: a chat model just for /enhance,
 * so the image slots need not include one. */
static int load_enhance_model(struct config *cfg, config_getenv_fn get, char *err, size_t errlen)
{
    static const char *const chat_providers[] = {
        "demo", "openai", "openai_compatible", "gemini", "bedrock", "bedrock_nova", "bedrock_sd"};
    const char *provider = env_or(get, "ENHANCE_PROVIDER", "");
    if (!*provider) return 0;
    bool known = false;
    for (size_t i = 0; i < sizeof chat_providers / sizeof chat_providers[0]; i++)
        known = known || strcmp(provider, chat_providers[i]) == 0;
    if (!known)
        return fail(err, errlen,
                    "ENHANCE_PROVIDER must be one of demo, openai, openai_compatible, gemini, "
                    "bedrock; got \"%.40s\"",
                    provider);
    struct model_config *m = &cfg->enhance_model;
    memset(m, 0, sizeof *m);
    snprintf(m->provider, sizeof m->provider, "%s", provider);
    if (read_str(get, "ENHANCE_MODEL", strcmp(provider, "demo") == 0 ? "demo" : "", m->id,
                 sizeof m->id, err, errlen) ||
        read_str(get, "ENHANCE_KEY", "", m->key, sizeof m->key, err, errlen) ||
        read_str(get, "ENHANCE_BASE_URL", "", m->base_url, sizeof m->base_url, err, errlen))
        return -1;
    if (!m->id[0])
        return fail(err, errlen, "ENHANCE_MODEL is required when ENHANCE_PROVIDER is set");
    if (strcmp(provider, "openai_compatible") == 0 && !m->base_url[0])
        return fail(err, errlen,
                    "ENHANCE_BASE_URL is required for ENHANCE_PROVIDER=openai_compatible");
    if (m->base_url[0] && strncmp(m->base_url, "http://", 7) != 0 &&
        strncmp(m->base_url, "https://", 8) != 0)
        return fail(err, errlen, "ENHANCE_BASE_URL must start with http:// or https://");
    snprintf(m->name, sizeof m->name, "%s", m->id);
    cfg->has_enhance_model = true;
    return 0;
}

static int load_models(struct config *cfg, config_getenv_fn get, char *err, size_t errlen)
{
    int count;
    if (read_int(get, "MODEL_COUNT", CONFIG_MAX_MODELS, 0, CONFIG_MAX_MODELS, &count, err, errlen))
        return -1;
    for (int slot = 1; slot <= count; slot++)
        if (load_model_slot(cfg, get, slot, err, errlen)) return -1;
    bool any_set = false;
    for (int slot = 1; slot <= CONFIG_MAX_MODELS && !any_set; slot++) {
        char var[64];
        snprintf(var, sizeof var, "MODEL_%d_PROVIDER", slot);
        any_set = env_or(get, var, "")[0] != '\0';
    }
    if (cfg->n_models == 0 && !any_set && !get("MODEL_COUNT")) {
        for (size_t i = 0; i < sizeof default_demo_models / sizeof default_demo_models[0]; i++) {
            struct model_config *m = &cfg->models[cfg->n_models++];
            memset(m, 0, sizeof *m);
            m->slot = (int)i + 1;
            snprintf(m->provider, sizeof m->provider, "demo");
            snprintf(m->id, sizeof m->id, "%s", default_demo_models[i].id);
            snprintf(m->name, sizeof m->name, "%s", default_demo_models[i].name);
        }
    }
    if (read_int(get, "PROMPT_MODEL_INDEX", cfg->n_models ? cfg->models[0].slot : 0, 0,
                 CONFIG_MAX_MODELS, &cfg->prompt_model_index, err, errlen))
        return -1;
    if (load_enhance_model(cfg, get, err, errlen)) return -1;
    if (cfg->prompt_model_index && !config_model_by_slot(cfg, cfg->prompt_model_index) &&
        get("PROMPT_MODEL_INDEX") && *get("PROMPT_MODEL_INDEX"))
        return fail(err, errlen, "PROMPT_MODEL_INDEX %d names no configured model slot",
                    cfg->prompt_model_index);
    return 0;
}

int config_load(struct config *cfg, config_getenv_fn get, char *err, size_t errlen)
{
    memset(cfg, 0, sizeof *cfg);
    long n = 0;
    if (read_int(get, "PORT", 8080, 0, 65535, &cfg->port, err, errlen)) return -1;
    if (read_str(get, "BIND", "127.0.0.1", cfg->bind, sizeof cfg->bind, err, errlen)) return -1;
    if (read_str(get, "DATA_DIR", "./data", cfg->data_dir, sizeof cfg->data_dir, err, errlen))
        return -1;
    if (read_str(get, "CORS_ORIGINS", "*", cfg->cors_origins, sizeof cfg->cors_origins, err,
                 errlen))
        return -1;
    if (read_long(get, "MAX_BODY_BYTES", 65536, 1024, 16L * 1024 * 1024, &n, err, errlen))
        return -1;
    cfg->max_body_bytes = (size_t)n;
    if (read_str(get, "PUBLIC_BASE_URL", "", cfg->public_base_url, sizeof cfg->public_base_url, err,
                 errlen) ||
        read_str(get, "CLOUDFRONT_DOMAIN", "", cfg->cloudfront_domain,
                 sizeof cfg->cloudfront_domain, err, errlen) ||
        read_str(get, "LOG_LEVEL", "INFO", cfg->log_level, sizeof cfg->log_level, err, errlen))
        return -1;
    if (strcasecmp(cfg->log_level, "DEBUG") != 0 && strcasecmp(cfg->log_level, "INFO") != 0 &&
        strcasecmp(cfg->log_level, "WARNING") != 0 && strcasecmp(cfg->log_level, "ERROR") != 0)
        return fail(err, errlen, "LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR");

    cfg->on_lambda = env_or(get, "AWS_LAMBDA_RUNTIME_API", "")[0] != '\0';
    if (read_str(get, "STORE", "sqlite", cfg->store, sizeof cfg->store, err, errlen) ||
        one_of("STORE", cfg->store, "sqlite", "dynamodb", err, errlen) ||
        read_str(get, "BLOBS", "fs", cfg->blobs, sizeof cfg->blobs, err, errlen) ||
        one_of("BLOBS", cfg->blobs, "fs", "s3", err, errlen) ||
        read_str(get, "S3_BUCKET", "pixel-prompt", cfg->s3_bucket, sizeof cfg->s3_bucket, err,
                 errlen) ||
        read_str(get, "DYNAMODB_TABLE", "pixel-prompt", cfg->dynamodb_table,
                 sizeof cfg->dynamodb_table, err, errlen) ||
        read_bool(get, "STORE_CREATE", !cfg->on_lambda, &cfg->store_create, err, errlen) ||
        read_str(get, "AWS_REGION", env_or(get, "AWS_DEFAULT_REGION", "us-east-1"), cfg->aws_region,
                 sizeof cfg->aws_region, err, errlen) ||
        read_str(get, "AWS_ACCESS_KEY_ID", "", cfg->aws_access_key_id,
                 sizeof cfg->aws_access_key_id, err, errlen) ||
        read_str(get, "AWS_SECRET_ACCESS_KEY", "", cfg->aws_secret_access_key,
                 sizeof cfg->aws_secret_access_key, err, errlen) ||
        read_str(get, "AWS_SESSION_TOKEN", "", cfg->aws_session_token,
                 sizeof cfg->aws_session_token, err, errlen))
        return -1;
    const char *common = env_or(get, "AWS_ENDPOINT_URL", "");
    if (read_str(get, "AWS_ENDPOINT_URL_S3", common, cfg->endpoint_s3, sizeof cfg->endpoint_s3, err,
                 errlen) ||
        read_str(get, "AWS_ENDPOINT_URL_DYNAMODB", common, cfg->endpoint_dynamodb,
                 sizeof cfg->endpoint_dynamodb, err, errlen) ||
        read_str(get, "AWS_ENDPOINT_URL_LAMBDA", common, cfg->endpoint_lambda,
                 sizeof cfg->endpoint_lambda, err, errlen) ||
        read_str(get, "AWS_ENDPOINT_URL_BEDROCK_RUNTIME", common, cfg->endpoint_bedrock,
                 sizeof cfg->endpoint_bedrock, err, errlen) ||
        read_str(get, "AWS_LAMBDA_FUNCTION_NAME", "", cfg->lambda_function_name,
                 sizeof cfg->lambda_function_name, err, errlen))
        return -1;

    if (load_models(cfg, get, err, errlen)) return -1;
    if (read_int(get, "DEMO_LATENCY_MS", 1500, 0, 600000, &cfg->demo_latency_ms, err, errlen) ||
        read_int(get, "DEMO_IMAGE_SIZE", 512, 16, 2048, &cfg->demo_size, err, errlen))
        return -1;

    if (read_long(get, "GLOBAL_LIMIT", 1000, 0, LONG_MAX, &cfg->global_limit, err, errlen) ||
        read_long(get, "IP_LIMIT", 50, 0, LONG_MAX, &cfg->ip_limit, err, errlen) ||
        read_long(get, "ENHANCE_IP_LIMIT", 100, 0, LONG_MAX, &cfg->enhance_ip_limit, err, errlen) ||
        read_long(get, "LOG_IP_LIMIT", 100, 0, LONG_MAX, &cfg->log_ip_limit, err, errlen) ||
        read_str(get, "IP_INCLUDE", "", cfg->ip_include, sizeof cfg->ip_include, err, errlen) ||
        read_str(get, "TRUSTED_PROXIES", "", cfg->trusted_proxies, sizeof cfg->trusted_proxies, err,
                 errlen) ||
        read_int(get, "MODEL_TIMEOUT_S", 120, 1, 3600, &cfg->model_timeout_s, err, errlen) ||
        read_int(get, "WORKERS", 2, 1, 64, &cfg->workers, err, errlen) ||
        read_long(get, "MAX_IMAGE_BYTES", 20L * 1024 * 1024, 1024, 512L * 1024 * 1024, &n, err,
                  errlen))
        return -1;
    cfg->max_image_bytes = (size_t)n;
    if (read_int(get, "MAX_IMAGE_SIDE", 4096, 16, 16384, &cfg->max_image_pixels_side, err,
                 errlen) ||
        read_str(get, "FILTER_EXTRA_TERMS", "", cfg->filter_extra_terms,
                 sizeof cfg->filter_extra_terms, err, errlen) ||
        read_str(get, "QUOTA_HASH_KEY", "", cfg->quota_hash_key, sizeof cfg->quota_hash_key, err,
                 errlen))
        return -1;
    return 0;
}

const struct model_config *config_model_by_id(const struct config *cfg, const char *id)
{
    for (int i = 0; i < cfg->n_models; i++)
        if (!strcmp(cfg->models[i].id, id)) return &cfg->models[i];
    return NULL;
}

const struct model_config *config_model_by_slot(const struct config *cfg, int slot)
{
    for (int i = 0; i < cfg->n_models; i++)
        if (cfg->models[i].slot == slot) return &cfg->models[i];
    return NULL;
}

const struct model_config *config_prompt_model(const struct config *cfg)
{
    if (cfg->has_enhance_model) return &cfg->enhance_model;
    return cfg->prompt_model_index ? config_model_by_slot(cfg, cfg->prompt_model_index) : NULL;
}

/* Secrets show only whether they are set. */
static json_t *masked(const char *secret)
{
    return json_string(secret[0] ? "********" : "");
}

char *config_describe(const struct config *cfg)
{
    json_t *o = json_object();
    json_t *models = json_array();
    if (!o || !models) {
        json_decref(o);
        json_decref(models);
        return NULL;
    }
    json_object_set_new(o, "PORT", json_integer(cfg->port));
    json_object_set_new(o, "BIND", json_string(cfg->bind));
    json_object_set_new(o, "DATA_DIR", json_string(cfg->data_dir));
    json_object_set_new(o, "CORS_ORIGINS", json_string(cfg->cors_origins));
    json_object_set_new(o, "MAX_BODY_BYTES", json_integer((json_int_t)cfg->max_body_bytes));
    json_object_set_new(o, "PUBLIC_BASE_URL", json_string(cfg->public_base_url));
    json_object_set_new(o, "CLOUDFRONT_DOMAIN", json_string(cfg->cloudfront_domain));
    json_object_set_new(o, "LOG_LEVEL", json_string(cfg->log_level));
    json_object_set_new(o, "STORE", json_string(cfg->store));
    json_object_set_new(o, "BLOBS", json_string(cfg->blobs));
    json_object_set_new(o, "S3_BUCKET", json_string(cfg->s3_bucket));
    json_object_set_new(o, "DYNAMODB_TABLE", json_string(cfg->dynamodb_table));
    json_object_set_new(o, "STORE_CREATE", json_boolean(cfg->store_create));
    json_object_set_new(o, "AWS_REGION", json_string(cfg->aws_region));
    json_object_set_new(o, "AWS_ACCESS_KEY_ID", json_string(cfg->aws_access_key_id));
    json_object_set_new(o, "AWS_SECRET_ACCESS_KEY", masked(cfg->aws_secret_access_key));
    json_object_set_new(o, "AWS_SESSION_TOKEN", masked(cfg->aws_session_token));
    json_object_set_new(o, "AWS_ENDPOINT_URL_S3", json_string(cfg->endpoint_s3));
    json_object_set_new(o, "AWS_ENDPOINT_URL_DYNAMODB", json_string(cfg->endpoint_dynamodb));
    json_object_set_new(o, "AWS_ENDPOINT_URL_LAMBDA", json_string(cfg->endpoint_lambda));
    json_object_set_new(o, "AWS_ENDPOINT_URL_BEDROCK_RUNTIME", json_string(cfg->endpoint_bedrock));
    json_object_set_new(o, "PROMPT_MODEL_INDEX", json_integer(cfg->prompt_model_index));
    if (cfg->has_enhance_model) {
        json_object_set_new(o, "ENHANCE_PROVIDER", json_string(cfg->enhance_model.provider));
        json_object_set_new(o, "ENHANCE_MODEL", json_string(cfg->enhance_model.id));
        json_object_set_new(o, "ENHANCE_BASE_URL", json_string(cfg->enhance_model.base_url));
        json_object_set_new(o, "ENHANCE_KEY", masked(cfg->enhance_model.key));
    }
    json_object_set_new(o, "DEMO_LATENCY_MS", json_integer(cfg->demo_latency_ms));
    json_object_set_new(o, "DEMO_IMAGE_SIZE", json_integer(cfg->demo_size));
    json_object_set_new(o, "GLOBAL_LIMIT", json_integer(cfg->global_limit));
    json_object_set_new(o, "IP_LIMIT", json_integer(cfg->ip_limit));
    json_object_set_new(o, "ENHANCE_IP_LIMIT", json_integer(cfg->enhance_ip_limit));
    json_object_set_new(o, "LOG_IP_LIMIT", json_integer(cfg->log_ip_limit));
    json_object_set_new(o, "IP_INCLUDE", json_string(cfg->ip_include));
    json_object_set_new(o, "TRUSTED_PROXIES", json_string(cfg->trusted_proxies));
    json_object_set_new(o, "MODEL_TIMEOUT_S", json_integer(cfg->model_timeout_s));
    json_object_set_new(o, "WORKERS", json_integer(cfg->workers));
    json_object_set_new(o, "MAX_IMAGE_BYTES", json_integer((json_int_t)cfg->max_image_bytes));
    json_object_set_new(o, "MAX_IMAGE_SIDE", json_integer(cfg->max_image_pixels_side));
    json_object_set_new(o, "FILTER_EXTRA_TERMS", json_string(cfg->filter_extra_terms));
    json_object_set_new(o, "QUOTA_HASH_KEY", masked(cfg->quota_hash_key));
    for (int i = 0; i < cfg->n_models; i++) {
        const struct model_config *m = &cfg->models[i];
        json_t *mo = json_object();
        json_object_set_new(mo, "slot", json_integer(m->slot));
        json_object_set_new(mo, "provider", json_string(m->provider));
        json_object_set_new(mo, "id", json_string(m->id));
        json_object_set_new(mo, "name", json_string(m->name));
        json_object_set_new(mo, "baseUrl", json_string(m->base_url));
        json_object_set_new(mo, "key", masked(m->key));
        json_array_append_new(models, mo);
    }
    json_object_set_new(o, "models", models);
    char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(o);
    return text;
}
