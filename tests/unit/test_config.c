/* Unit tests for src/app/config.c: defaults, every bad value names its variable, model slots,
 * PROMPT_MODEL_INDEX, and config_describe never prints a secret. The environment is a fake
 * getenv over a small table, so nothing here depends on the real environment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "app/config.h"

#define MAX_ENV 40
static const char *names[MAX_ENV];
static const char *values[MAX_ENV];
static int n_env;

static const char *fake_getenv(const char *name)
{
    for (int i = 0; i < n_env; i++)
        if (strcmp(names[i], name) == 0) return values[i];
    return NULL;
}

static int reset(void **state)
{
    (void)state;
    n_env = 0;
    return 0;
}

static void set_env(const char *name, const char *value)
{
    assert_true(n_env < MAX_ENV);
    for (int i = 0; i < n_env; i++) {
        if (strcmp(names[i], name) == 0) {
            values[i] = value;
            return;
        }
    }
    names[n_env] = name;
    values[n_env] = value;
    n_env++;
}

static struct config cfg; /* large: kept off the stack */

static void load_ok(void)
{
    char err[512] = "";
    if (config_load(&cfg, fake_getenv, err, sizeof err) != 0) fail_msg("config_load: %s", err);
}

/* Loads, expects failure, and checks that the message names `var` (and contains `also`). */
static void load_fails_naming(const char *var, const char *also)
{
    char err[512] = "";
    int rc = config_load(&cfg, fake_getenv, err, sizeof err);
    if (rc == 0) fail_msg("config_load accepted a bad %s", var);
    assert_int_equal(rc, -1);
    if (!strstr(err, var)) fail_msg("error \"%s\" does not name %s", err, var);
    if (also && !strstr(err, also)) fail_msg("error \"%s\" does not say \"%s\"", err, also);
}

static void defaults(void **state)
{
    (void)state;
    load_ok();
    assert_int_equal(cfg.port, 8080);
    assert_string_equal(cfg.bind, "127.0.0.1");
    assert_string_equal(cfg.data_dir, "./data");
    assert_string_equal(cfg.cors_origins, "*");
    assert_int_equal(cfg.max_body_bytes, 65536);
    assert_string_equal(cfg.public_base_url, "");
    assert_string_equal(cfg.log_level, "INFO");
    assert_string_equal(cfg.store, "sqlite");
    assert_string_equal(cfg.blobs, "fs");
    assert_true(cfg.store_create);
    assert_false(cfg.on_lambda);
    assert_string_equal(cfg.aws_region, "us-east-1");
    assert_string_equal(cfg.endpoint_s3, "");
    assert_int_equal(cfg.n_models, 4);
    const char *ids[] = {"demo-gradient", "demo-mosaic", "demo-rings", "demo-stripes"};
    const char *display[] = {"Demo Gradient", "Demo Mosaic", "Demo Rings", "Demo Stripes"};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(cfg.models[i].slot, i + 1);
        assert_string_equal(cfg.models[i].provider, "demo");
        assert_string_equal(cfg.models[i].id, ids[i]);
        assert_string_equal(cfg.models[i].name, display[i]);
        assert_string_equal(cfg.models[i].key, "");
        assert_ptr_equal(config_model_by_id(&cfg, ids[i]), &cfg.models[i]);
        assert_ptr_equal(config_model_by_slot(&cfg, i + 1), &cfg.models[i]);
    }
    assert_null(config_model_by_id(&cfg, "dall-e-3"));
    assert_null(config_model_by_slot(&cfg, 5));
    assert_int_equal(cfg.prompt_model_index, 1);
    assert_ptr_equal(config_prompt_model(&cfg), &cfg.models[0]);
    assert_int_equal(cfg.demo_latency_ms, 1500);
    assert_int_equal(cfg.demo_size, 512);
    assert_int_equal(cfg.global_limit, 1000);
    assert_int_equal(cfg.ip_limit, 50);
    assert_int_equal(cfg.enhance_ip_limit, 100);
    assert_int_equal(cfg.log_ip_limit, 100);
    assert_int_equal(cfg.model_timeout_s, 120);
    assert_int_equal(cfg.workers, 2);
    assert_int_equal(cfg.max_image_bytes, 20 * 1024 * 1024);
    assert_int_equal(cfg.max_image_pixels_side, 4096);
    assert_string_equal(cfg.quota_hash_key, "");
}

static void values_are_read(void **state)
{
    (void)state;
    set_env("PORT", "9000");
    set_env("BIND", "0.0.0.0");
    set_env("DATA_DIR", "/srv/pp");
    set_env("MAX_BODY_BYTES", "1024");
    set_env("STORE", "dynamodb");
    set_env("BLOBS", "s3");
    set_env("STORE_CREATE", "off");
    set_env("AWS_DEFAULT_REGION", "eu-west-1");
    set_env("AWS_ENDPOINT_URL", "http://127.0.0.1:5000");
    set_env("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9000");
    set_env("IP_LIMIT", "0");
    set_env("LOG_LEVEL", "debug");
    set_env("PORT", "0"); /* any free port */
    load_ok();
    assert_int_equal(cfg.port, 0);
    assert_string_equal(cfg.bind, "0.0.0.0");
    assert_string_equal(cfg.data_dir, "/srv/pp");
    assert_int_equal(cfg.max_body_bytes, 1024);
    assert_string_equal(cfg.store, "dynamodb");
    assert_string_equal(cfg.blobs, "s3");
    assert_false(cfg.store_create);
    assert_string_equal(cfg.aws_region, "eu-west-1");
    assert_string_equal(cfg.endpoint_s3, "http://127.0.0.1:9000");
    assert_string_equal(cfg.endpoint_dynamodb, "http://127.0.0.1:5000");
    assert_string_equal(cfg.endpoint_lambda, "http://127.0.0.1:5000");
    assert_int_equal(cfg.ip_limit, 0);
    /* On Lambda, STORE_CREATE defaults off. */
    reset(NULL);
    set_env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001");
    set_env("AWS_REGION", "us-west-2");
    set_env("AWS_DEFAULT_REGION", "eu-west-1");
    load_ok();
    assert_true(cfg.on_lambda);
    assert_false(cfg.store_create);
    assert_string_equal(cfg.aws_region, "us-west-2");
    const char *truthy[] = {"1", "true", "YES", "On"};
    for (int i = 0; i < 4; i++) {
        set_env("STORE_CREATE", truthy[i]);
        load_ok();
        assert_true(cfg.store_create);
    }
}

static void bad_values_name_the_variable(void **state)
{
    (void)state;
    struct {
        const char *name, *value, *var, *also;
    } cases[] = {
        {"PORT", "abc", "PORT", "abc"},
        {"PORT", "70000", "PORT", "70000"},
        {"PORT", "-1", "PORT", NULL},
        {"PORT", "80x", "PORT", NULL},
        {"PORT", "99999999999999999999999", "PORT", NULL},
        {"STORE", "mysql", "STORE", "mysql"},
        {"BLOBS", "gcs", "BLOBS", "gcs"},
        {"STORE_CREATE", "maybe", "STORE_CREATE", "maybe"},
        {"MAX_BODY_BYTES", "100", "MAX_BODY_BYTES", NULL},
        {"MAX_BODY_BYTES", "1023", "MAX_BODY_BYTES", NULL},
        {"MAX_BODY_BYTES", "lots", "MAX_BODY_BYTES", NULL},
        {"LOG_LEVEL", "LOUD", "LOG_LEVEL", NULL},
        {"MODEL_COUNT", "21", "MODEL_COUNT", NULL},
        {"MODEL_COUNT", "-1", "MODEL_COUNT", NULL},
        {"DEMO_LATENCY_MS", "-5", "DEMO_LATENCY_MS", NULL},
        {"DEMO_IMAGE_SIZE", "8", "DEMO_IMAGE_SIZE", NULL},
        {"IP_LIMIT", "ten", "IP_LIMIT", NULL},
        {"IP_LIMIT", "-3", "IP_LIMIT", NULL},
        {"GLOBAL_LIMIT", "1.5", "GLOBAL_LIMIT", NULL},
        {"ENHANCE_IP_LIMIT", "x", "ENHANCE_IP_LIMIT", NULL},
        {"LOG_IP_LIMIT", "x", "LOG_IP_LIMIT", NULL},
        {"MODEL_TIMEOUT_S", "0", "MODEL_TIMEOUT_S", NULL},
        {"WORKERS", "0", "WORKERS", NULL},
        {"MAX_IMAGE_BYTES", "10", "MAX_IMAGE_BYTES", NULL},
        {"MAX_IMAGE_SIDE", "99999", "MAX_IMAGE_SIDE", NULL},
        {"PROMPT_MODEL_INDEX", "21", "PROMPT_MODEL_INDEX", NULL},
        {"PROMPT_MODEL_INDEX", "one", "PROMPT_MODEL_INDEX", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        reset(NULL);
        set_env(cases[i].name, cases[i].value);
        load_fails_naming(cases[i].var, cases[i].also);
    }
    /* Too long for its field. */
    char long_bind[200];
    memset(long_bind, '1', sizeof long_bind - 1);
    long_bind[sizeof long_bind - 1] = '\0';
    reset(NULL);
    set_env("BIND", long_bind);
    load_fails_naming("BIND", "too long");
}

static void model_slots(void **state)
{
    (void)state;
    /* An unknown provider names the slot's variable and lists the known ones. */
    set_env("MODEL_1_PROVIDER", "nope");
    load_fails_naming("MODEL_1_PROVIDER", "nope");
    load_fails_naming("MODEL_1_PROVIDER", "openai");

    reset(NULL);
    set_env("MODEL_1_PROVIDER", "openai");
    load_fails_naming("MODEL_1_ID", "required");

    reset(NULL);
    set_env("MODEL_3_PROVIDER", "openai_compatible");
    set_env("MODEL_3_ID", "local-sd");
    load_fails_naming("MODEL_3_BASE_URL", "openai_compatible");
    set_env("MODEL_3_BASE_URL", "ftp://example.com");
    load_fails_naming("MODEL_3_BASE_URL", "http");
    set_env("MODEL_3_BASE_URL", "http://127.0.0.1:8081/v1");
    load_ok();
    assert_int_equal(cfg.n_models, 1);
    assert_int_equal(cfg.models[0].slot, 3);
    assert_string_equal(cfg.models[0].name, "local-sd"); /* the name defaults to the id */
    assert_int_equal(cfg.prompt_model_index, 3);         /* the first configured slot */

    reset(NULL);
    set_env("MODEL_1_PROVIDER", "automatic1111");
    set_env("MODEL_1_ID", "sdxl");
    load_fails_naming("MODEL_1_BASE_URL", NULL);

    reset(NULL);
    set_env("MODEL_1_PROVIDER", "openai");
    set_env("MODEL_1_ID", "dall-e-3");
    set_env("MODEL_2_PROVIDER", "demo");
    set_env("MODEL_2_ID", "dall-e-3");
    load_fails_naming("MODEL_2_ID", "dall-e-3");
    load_fails_naming("MODEL_1_ID", "already used");

    reset(NULL);
    set_env("MODEL_1_PROVIDER", "demo");
    set_env("MODEL_1_ID", "bad\nid");
    load_fails_naming("MODEL_1_ID", "control");

    /* A configured slot replaces the demo defaults; unset slots are skipped. */
    reset(NULL);
    set_env("MODEL_2_PROVIDER", "openai");
    set_env("MODEL_2_ID", "gpt-image-1");
    set_env("MODEL_2_NAME", "GPT Image");
    set_env("MODEL_2_KEY", "sk-test");
    set_env("MODEL_5_PROVIDER", "demo");
    set_env("MODEL_5_ID", "demo-x");
    load_ok();
    assert_int_equal(cfg.n_models, 2);
    assert_int_equal(cfg.models[0].slot, 2);
    assert_string_equal(cfg.models[0].name, "GPT Image");
    assert_string_equal(cfg.models[0].key, "sk-test");
    assert_int_equal(cfg.models[1].slot, 5);
    assert_ptr_equal(config_model_by_slot(&cfg, 5), &cfg.models[1]);

    /* MODEL_COUNT bounds the slots read. */
    set_env("MODEL_COUNT", "2");
    load_ok();
    assert_int_equal(cfg.n_models, 1);
    assert_null(config_model_by_id(&cfg, "demo-x"));

    /* MODEL_COUNT=0: no models at all (no demo defaults) and no enhancer. */
    reset(NULL);
    set_env("MODEL_COUNT", "0");
    load_ok();
    assert_int_equal(cfg.n_models, 0);
    assert_int_equal(cfg.prompt_model_index, 0);
    assert_null(config_prompt_model(&cfg));
}

static void prompt_model_index(void **state)
{
    (void)state;
    set_env("MODEL_1_PROVIDER", "demo");
    set_env("MODEL_1_ID", "one");
    set_env("MODEL_2_PROVIDER", "demo");
    set_env("MODEL_2_ID", "two");
    set_env("PROMPT_MODEL_INDEX", "2");
    load_ok();
    assert_string_equal(config_prompt_model(&cfg)->id, "two");
    set_env("PROMPT_MODEL_INDEX", "3");
    load_fails_naming("PROMPT_MODEL_INDEX", "3");
    set_env("PROMPT_MODEL_INDEX", "0");
    load_ok();
    assert_int_equal(cfg.prompt_model_index, 0);
    assert_null(config_prompt_model(&cfg));
    /* The default points at the first configured model. */
    set_env("PROMPT_MODEL_INDEX", "");
    load_ok();
    assert_int_equal(cfg.prompt_model_index, 1);
    /* The demo defaults: 4 names nowhere only if set explicitly past them. */
    reset(NULL);
    set_env("PROMPT_MODEL_INDEX", "4");
    load_ok();
    assert_string_equal(config_prompt_model(&cfg)->id, "demo-stripes");
    set_env("PROMPT_MODEL_INDEX", "7");
    load_fails_naming("PROMPT_MODEL_INDEX", NULL);
}

static void describe_masks_secrets(void **state)
{
    (void)state;
    set_env("MODEL_1_PROVIDER", "openai");
    set_env("MODEL_1_ID", "dall-e-3");
    set_env("MODEL_1_KEY", "sk-zz9q-model-one-0123456789");
    set_env("MODEL_2_PROVIDER", "demo");
    set_env("MODEL_2_ID", "demo-two");
    set_env("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEID");
    set_env("AWS_SECRET_ACCESS_KEY", "aws-zz9q-access-key-abcdef");
    set_env("AWS_SESSION_TOKEN", "aws-zz9q-session-token-xyz");
    set_env("QUOTA_HASH_KEY", "quota-zz9q-hash-key-42");
    load_ok();
    char *text = config_describe(&cfg);
    assert_non_null(text);
    const char *secrets[] = {"sk-zz9q-model-one-0123456789", "aws-zz9q-access-key-abcdef",
                             "aws-zz9q-session-token-xyz", "quota-zz9q-hash-key-42", "zz9q"};
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
        if (strstr(text, secrets[i])) fail_msg("config_describe printed a secret: %s", secrets[i]);
    json_error_t jerr;
    json_t *o = json_loads(text, 0, &jerr);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "AWS_SECRET_ACCESS_KEY")), "********");
    assert_string_equal(json_string_value(json_object_get(o, "AWS_SESSION_TOKEN")), "********");
    assert_string_equal(json_string_value(json_object_get(o, "QUOTA_HASH_KEY")), "********");
    /* Not a secret: the key id is shown. */
    assert_string_equal(json_string_value(json_object_get(o, "AWS_ACCESS_KEY_ID")),
                        "AKIAEXAMPLEID");
    assert_int_equal(json_integer_value(json_object_get(o, "PORT")), 8080);
    json_t *models = json_object_get(o, "models");
    assert_int_equal(json_array_size(models), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(models, 0), "key")),
                        "********");
    assert_string_equal(json_string_value(json_object_get(json_array_get(models, 0), "id")),
                        "dall-e-3");
    /* An unset secret shows as empty, so an operator sees it is missing. */
    assert_string_equal(json_string_value(json_object_get(json_array_get(models, 1), "key")), "");
    json_decref(o);
    free(text);

    reset(NULL);
    load_ok();
    text = config_describe(&cfg);
    assert_non_null(text);
    o = json_loads(text, 0, &jerr);
    assert_string_equal(json_string_value(json_object_get(o, "AWS_SECRET_ACCESS_KEY")), "");
    assert_string_equal(json_string_value(json_object_get(o, "QUOTA_HASH_KEY")), "");
    json_decref(o);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(defaults, reset),
        cmocka_unit_test_setup(values_are_read, reset),
        cmocka_unit_test_setup(bad_values_name_the_variable, reset),
        cmocka_unit_test_setup(model_slots, reset),
        cmocka_unit_test_setup(prompt_model_index, reset),
        cmocka_unit_test_setup(describe_masks_secrets, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
