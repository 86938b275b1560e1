/* Configuration from the environment (DESIGN §5; docs/CONFIGURATION.md lists every variable).
 * Read once at start into a plain struct that nothing writes afterwards. */
#ifndef PP_APP_CONFIG_H
#define PP_APP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_MAX_MODELS 20
#define PROMPT_MAX_CODEPOINTS 1000
#define ENHANCE_MAX_CODEPOINTS 500

struct model_config {
    int slot;           /* N of MODEL_N_* (1-based) */
    char provider[32];  /* demo | openai | gemini | ... */
    char id[128];       /* MODEL_N_ID, always honoured */
    char name[128];     /* MODEL_N_NAME, defaults to the id */
    char key[1024];     /* MODEL_N_KEY: secret, never printed */
    char base_url[512]; /* MODEL_N_BASE_URL, "" = the provider's default root */
};

struct config {
    /* server */
    int port;
    char bind[64];
    char data_dir[512];
    char cors_origins[512];
    size_t max_body_bytes;
    char public_base_url[512]; /* base of image URLs ("" = relative /images/...) */
    char cloudfront_domain[256];
    char log_level[16];

    /* storage */
    char store[16]; /* sqlite | dynamodb */
    char blobs[16]; /* fs | s3 */
    char s3_bucket[128];
    char dynamodb_table[128];
    bool store_create;
    char aws_region[32];
    char aws_access_key_id[128];
    char aws_secret_access_key[256]; /* secret */
    char aws_session_token[2048];    /* secret */
    char endpoint_s3[512];
    char endpoint_dynamodb[512];
    char endpoint_lambda[512];
    char endpoint_bedrock[512];
    char lambda_function_name[160];
    bool on_lambda; /* AWS_LAMBDA_RUNTIME_API is set */

    /* models */
    int n_models;
    struct model_config models[CONFIG_MAX_MODELS];
    int prompt_model_index; /* slot number of the enhancer; 0 = none */
    bool has_enhance_model; /* ENHANCE_PROVIDER set: a dedicated chat model (slot 0) enhances */
    struct model_config enhance_model;
    int demo_latency_ms;    /* DEMO_LATENCY_MS: how long a demo model "works" */
    int demo_size;          /* DEMO_IMAGE_SIZE: pixels per side of demo pictures */

    /* limits */
    long global_limit;     /* generate, per hour, all clients */
    long ip_limit;         /* generate, per day, per client */
    long enhance_ip_limit; /* per hour, per client */
    long log_ip_limit;     /* per hour, per client */
    char ip_include[2048]; /* allow-list: addresses and CIDRs, comma separated */
    char trusted_proxies[2048];
    int model_timeout_s;
    int workers;               /* image/storage worker threads */
    size_t max_image_bytes;    /* cap on a provider's image (inline or download) */
    int max_image_pixels_side; /* cap on width and height */
    char filter_extra_terms[2048];
    char quota_hash_key[128]; /* secret used to hash client addresses; generated if empty */
};

typedef const char *(*config_getenv_fn)(const char *name);

/* Fills cfg from the environment. On a bad value returns -1 with a message naming the variable in
 * err (the caller exits with status 2). */
int config_load(struct config *cfg, config_getenv_fn getenv_fn, char *err, size_t errlen);
/* The resolved view as JSON text with secrets masked; caller frees. */
char *config_describe(const struct config *cfg);
const struct model_config *config_model_by_id(const struct config *cfg, const char *id);
const struct model_config *config_model_by_slot(const struct config *cfg, int slot);
const struct model_config *config_prompt_model(const struct config *cfg);

#endif
