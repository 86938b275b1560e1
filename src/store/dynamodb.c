/* The store on DynamoDB (or a DynamoDB-compatible service such as ScyllaDB Alternator), over the
 * JSON protocol: HTTPS POST with X-Amz-Target, signed by util/aws.c.
 *
 * One table, string keys pk/sk, one GSI `gallery` (gpk/gsk, projection ALL), TTL attribute `ttl`.
 * docs/adr/0008-dynamodb-layout.md explains the layout; in short:
 *
 *   item            pk                 sk              other attributes
 *   job             JOB#<id>           JOB             prompt created_ms updated_ms n_results
 *                                                      + gpk=GALLERY gsk=<created13>#<id> preview
 *                                                        images   (once an image completed)
 *   result          JOB#<id>           R#<index4>      idx model name provider status image_key
 *                                                      thumb_key content_type width height
 *                                                      duration_ms error started_ms completed_ms
 *                                                      deadline_ms
 *                                                      + gpk=UNFINISHED
 * gsk=<deadline13>#<id>#<index4> (while pending/in_progress) quota counter   QUOTA#<key> QUOTA c
 * ttl idempotency     IDEM#<key>         IDEM            job_id created_ms ttl gallery total   META
 * GALLERY_TOTAL   total
 *
 * - A job and its results come back with one consistent Query on pk.
 * - Each result is its own item, changed by one conditional UpdateItem (inside a transaction that
 *   also bumps the job's updated_ms): concurrent results never overwrite each other.
 * - The GSI is overloaded: gpk=GALLERY lists jobs newest first; gpk=UNFINISHED lists unfinished
 *   results by deadline, so store_recover_interrupted reads only what is overdue (a sparse index:
 *   a result leaves it when it becomes terminal).
 * - Job creation (job + results + idempotency key) is one TransactWriteItems: all or nothing. */
#include "store/store_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "app/config.h"
#include "util/aws.h"
#include "util/clock.h"
#include "util/ids.h"
#include "util/utf8.h"

#define GSI_NAME "gallery"
#define GALLERY_PK "GALLERY"
#define UNFINISHED_PK "UNFINISHED"
#define TOTAL_PK "META"
#define TOTAL_SK "GALLERY_TOTAL"
#define CALL_TIMEOUT_MS 5000L
#define CREATE_WAIT_MS 60000
#define RECOVER_PAGE 100
#define INTERRUPTED_TEXT "interrupted"
#define TX_CONFLICT_ATTEMPTS 6

struct store_ddb {
    struct store base;
    struct aws_client *aws; /* owned */
    char url[600];
    char table[256];
};

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* ---- attribute values ------------------------------------------------------------------- */

/* A string value of at most cap bytes: fixed-size fields may lack their NUL. DynamoDB rejects
 * invalid UTF-8, so text cut mid-character is cut back to its valid prefix. */
static json_t *av_sn(const char *s, size_t cap)
{
    size_t len = strnlen(s, cap);
    while (len > 0 && !utf8_is_valid(s, len)) /* cut back to the valid prefix */
        len--;
    json_t *v = json_stringn(s, len);
    return v ? json_pack("{s:o}", "S", v) : NULL;
}

static json_t *av_s(const char *s)
{
    return av_sn(s, (size_t)-1);
}

/* A fixed-size char array field. */
#define AV_FIELD(f) av_sn((f), sizeof(f))

static json_t *av_n(int64_t n)
{
    char b[24];
    snprintf(b, sizeof b, "%lld", (long long)n);
    return json_pack("{s:s}", "N", b);
}

static const char *item_s(const json_t *item, const char *name)
{
    return json_string_value(json_object_get(json_object_get(item, name), "S"));
}

/* Copies a string attribute, cut on a character boundary to fit. */
static void item_str(const json_t *item, const char *name, char *out, size_t cap)
{
    const char *str = item_s(item, name);
    size_t len = str ? strlen(str) : 0;
    if (len > cap - 1) len = utf8_truncate(str, len, cap - 1);
    if (len) memcpy(out, str, len);
    out[len] = '\0';
}

static int64_t item_n(const json_t *item, const char *name)
{
    const char *s = json_string_value(json_object_get(json_object_get(item, name), "N"));
    return s ? strtoll(s, NULL, 10) : 0;
}

static void job_pk(char out[48], const char *id)
{
    snprintf(out, 48, "JOB#%s", id);
}

static void result_sk(char out[16], int index)
{
    snprintf(out, 16, "R#%04d", index);
}

static int64_t clamp13(int64_t ms)
{
    return ms < 0 ? 0 : ms > 9999999999999LL ? 9999999999999LL : ms;
}

static void gallery_sk(char out[64], int64_t created_ms, const char *id)
{
    snprintf(out, 64, "%013lld#%s", (long long)clamp13(created_ms), id);
}

static void unfinished_sk(char out[80], int64_t deadline_ms, const char *id, int index)
{
    snprintf(out, 80, "%013lld#%s#%04d", (long long)clamp13(deadline_ms), id, index);
}

static json_t *key_of(const char *pk, const char *sk)
{
    return json_pack("{s:o,s:o}", "pk", av_s(pk), "sk", av_s(sk));
}

/* ---- one call --------------------------------------------------------------------------- */

/* Sends op with the request text. On STORE_OK *out (if asked) is the answer; on STORE_CONFLICT
 * (a condition or transaction check failed) *out is the error document, which holds
 * CancellationReasons or the old item. why (may be NULL) gets a reason for logs. */
static int ddb_call_text(struct store_ddb *d, const char *op, const char *text, bool idempotent,
                         json_t **out, char *why, size_t whylen, int *attempts)
{
    if (out) *out = NULL;
    char target[80];
    snprintf(target, sizeof target, "X-Amz-Target: DynamoDB_20120810.%s", op);
    const char *const hdrs[] = {"Content-Type: application/x-amz-json-1.0", target, NULL};
    struct aws_request req = {.method = "POST",
                              .url = d->url,
                              .headers = hdrs,
                              .body = text,
                              .body_len = strlen(text),
                              .timeout_ms = CALL_TIMEOUT_MS,
                              .idempotent = idempotent};
    struct aws_response resp;
    int rc = aws_perform(d->aws, &req, &resp);
    if (attempts) *attempts = resp.attempts;
    int ret;
    if (rc == -2) {
        ret = STORE_NOMEM;
    } else if (rc != 0) {
        if (why) snprintf(why, whylen, "%s: %s", op, resp.transport_error);
        ret = STORE_UNAVAILABLE;
    } else if (resp.status == 200) {
        ret = STORE_OK;
        if (out) {
            *out = json_loadb(resp.body.data ? resp.body.data : "", resp.body.len, 0, NULL);
            if (!*out) ret = STORE_UNAVAILABLE;
        }
    } else {
        const char *code = resp.error_code;
        if (why) snprintf(why, whylen, "%s: HTTP %ld %s", op, resp.status, code);
        if (strcmp(code, "ConditionalCheckFailedException") == 0 ||
            strcmp(code, "TransactionCanceledException") == 0) {
            ret = STORE_CONFLICT;
            if (out)
                *out = json_loadb(resp.body.data ? resp.body.data : "", resp.body.len, 0, NULL);
        } else if (strcmp(code, "ValidationException") == 0) {
            ret = STORE_INVALID;
        } else {
            ret = STORE_UNAVAILABLE; /* auth, missing table, throttled after retries, 5xx */
        }
    }
    aws_response_clear(&resp);
    return ret;
}

/* The same with a request document (stolen), which gets the table name. */
static int ddb_call(struct store_ddb *d, const char *op, json_t *body, bool idempotent,
                    json_t **out, char *why, size_t whylen)
{
    if (out) *out = NULL;
    if (!body) return STORE_NOMEM;
    json_object_set_new(body, "TableName", json_string(d->table));
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (!text) return STORE_NOMEM;
    int rc = ddb_call_text(d, op, text, idempotent, out, why, whylen, NULL);
    free(text);
    return rc;
}

/* The Code of the i-th CancellationReason ("None" when that item passed), "" when unknown. */
static const char *cancel_code(const json_t *err, size_t i)
{
    const json_t *reasons = json_object_get(err, "CancellationReasons");
    const char *c = json_string_value(json_object_get(json_array_get(reasons, i), "Code"));
    return c ? c : "";
}

static bool any_cancel_code(const json_t *err, const char *code)
{
    size_t i;
    const json_t *r;
    json_array_foreach(json_object_get(err, "CancellationReasons"), i, r)
    {
        const char *c = json_string_value(json_object_get(r, "Code"));
        if (c && strcmp(c, code) == 0) return true;
    }
    return false;
}

/* A transaction (items stolen). Its ClientRequestToken is derived from the request itself, so a
 * resend of the very same request after an ambiguous failure is applied once, while a different
 * request never meets DynamoDB's IdempotentParameterMismatch. Two transactions touching one item
 * at once cancel one of them with TransactionConflict: the same request is sent again after a
 * jittered pause. On STORE_CONFLICT *err_doc (if asked) holds the CancellationReasons. */
static int ddb_transact(struct store_ddb *d, json_t *items, json_t **err_doc)
{
    if (err_doc) *err_doc = NULL;
    char *items_text = items ? json_dumps(items, JSON_COMPACT) : NULL;
    if (!items_text) {
        json_decref(items);
        return STORE_NOMEM;
    }
    char token[65];
    aws_sha256_hex(items_text, strlen(items_text), token);
    free(items_text);
    token[36] = '\0'; /* the API takes at most 36 characters */
    json_t *body = json_pack("{s:o,s:s}", "TransactItems", items, "ClientRequestToken", token);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!text) return STORE_NOMEM;
    int rc = STORE_UNAVAILABLE;
    for (int attempt = 0; attempt < TX_CONFLICT_ATTEMPTS; attempt++) {
        json_t *doc = NULL;
        rc = ddb_call_text(d, "TransactWriteItems", text, true, &doc, NULL, 0, NULL);
        bool conflict = rc == STORE_CONFLICT && any_cancel_code(doc, "TransactionConflict");
        if (!conflict || attempt + 1 == TX_CONFLICT_ATTEMPTS) {
            if (conflict) rc = STORE_UNAVAILABLE;
            if (err_doc)
                *err_doc = doc;
            else
                json_decref(doc);
            break;
        }
        json_decref(doc);
        unsigned char r = 0;
        id_random_bytes(&r, 1);
        sleep_ms(10L * (1L << attempt) + r % 20);
    }
    free(text);
    return rc;
}

static int get_item(struct store_ddb *d, const char *pk, const char *sk, json_t **item_out,
                    json_t **resp_out)
{
    json_t *resp = NULL;
    int rc =
        ddb_call(d, "GetItem", json_pack("{s:o,s:b}", "Key", key_of(pk, sk), "ConsistentRead", 1),
                 true, &resp, NULL, 0);
    *item_out = rc == STORE_OK ? json_object_get(resp, "Item") : NULL;
    *resp_out = resp;
    if (rc == STORE_OK && !json_is_object(*item_out)) rc = STORE_NOT_FOUND;
    return rc;
}

/* ---- open / close / ping ---------------------------------------------------------------- */

static bool table_name_ok(const char *t)
{
    size_t n = strlen(t);
    if (n < 3 || n > 255) return false;
    for (size_t i = 0; i < n; i++) {
        char c = t[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return false;
    }
    return true;
}

static bool has_gallery_index(const json_t *table)
{
    const json_t *gsis = json_object_get(table, "GlobalSecondaryIndexes");
    size_t i;
    const json_t *g;
    json_array_foreach(gsis, i, g)
    {
        const char *name = json_string_value(json_object_get(g, "IndexName"));
        if (name && strcmp(name, GSI_NAME) == 0) return true;
    }
    return false;
}

static json_t *create_table_request(void)
{
    return json_pack("{s:[{s:s,s:s},{s:s,s:s},{s:s,s:s},{s:s,s:s}],s:[{s:s,s:s},{s:s,s:s}],s:s,"
                     "s:[{s:s,s:[{s:s,s:s},{s:s,s:s}],s:{s:s}}]}",
                     "AttributeDefinitions", "AttributeName", "pk", "AttributeType", "S",
                     "AttributeName", "sk", "AttributeType", "S", "AttributeName", "gpk",
                     "AttributeType", "S", "AttributeName", "gsk", "AttributeType", "S",
                     "KeySchema", "AttributeName", "pk", "KeyType", "HASH", "AttributeName", "sk",
                     "KeyType", "RANGE", "BillingMode", "PAY_PER_REQUEST", "GlobalSecondaryIndexes",
                     "IndexName", GSI_NAME, "KeySchema", "AttributeName", "gpk", "KeyType", "HASH",
                     "AttributeName", "gsk", "KeyType", "RANGE", "Projection", "ProjectionType",
                     "ALL");
}

/* Creates the table (layout of deploy/template.yaml) when missing, waits until it is ACTIVE and
 * turns TTL on. An existing table must have the gallery index. */
static int ensure_table(struct store_ddb *d, char *err, size_t errlen)
{
    char why[200] = "";
    json_t *resp = NULL;
    int rc = ddb_call(d, "DescribeTable", json_object(), true, &resp, why, sizeof why);
    if (rc == STORE_OK) {
        bool ok = has_gallery_index(json_object_get(resp, "Table"));
        json_decref(resp);
        if (!ok)
            snprintf(err, errlen,
                     "DYNAMODB_TABLE \"%s\" exists without the \"" GSI_NAME
                     "\" index (gpk/gsk); see docs/adr/0008-dynamodb-layout.md",
                     d->table);
        return ok ? 0 : -1;
    }
    json_decref(resp);
    if (!strstr(why, "ResourceNotFoundException")) {
        snprintf(err, errlen, "DynamoDB: %s", why);
        return -1;
    }
    rc = ddb_call(d, "CreateTable", create_table_request(), false, NULL, why, sizeof why);
    if (rc != STORE_OK && !strstr(why, "ResourceInUseException")) { /* a racing instance */
        snprintf(err, errlen, "DynamoDB: cannot create table \"%s\": %s", d->table, why);
        return -1;
    }
    for (int waited = 0;; waited += 200) {
        rc = ddb_call(d, "DescribeTable", json_object(), true, &resp, why, sizeof why);
        const char *st =
            json_string_value(json_object_get(json_object_get(resp, "Table"), "TableStatus"));
        bool active = rc == STORE_OK && st && strcmp(st, "ACTIVE") == 0;
        json_decref(resp);
        if (active) break;
        if (waited >= CREATE_WAIT_MS) {
            snprintf(err, errlen, "DynamoDB: table \"%s\" did not become ACTIVE", d->table);
            return -1;
        }
        sleep_ms(200);
    }
    rc = ddb_call(
        d, "UpdateTimeToLive",
        json_pack("{s:{s:b,s:s}}", "TimeToLiveSpecification", "Enabled", 1, "AttributeName", "ttl"),
        true, NULL, why, sizeof why);
    /* Already enabled counts as done. */
    if (rc != STORE_OK && !strstr(why, "already enabled") && !strstr(why, "ValidationException")) {
        snprintf(err, errlen, "DynamoDB: cannot enable TTL: %s", why);
        return -1;
    }
    return 0;
}

static void ddb_close(struct store *s)
{
    struct store_ddb *d = (struct store_ddb *)s;
    if (!d) return;
    aws_client_free(d->aws);
    free(d);
}

static struct store *ddb_open(const struct config *cfg, char *err, size_t errlen)
{
    if (!table_name_ok(cfg->dynamodb_table)) {
        snprintf(err, errlen, "DYNAMODB_TABLE: \"%.64s\" is not a valid table name",
                 cfg->dynamodb_table);
        return NULL;
    }
    if (!cfg->aws_access_key_id[0] || !cfg->aws_secret_access_key[0]) {
        snprintf(err, errlen, "STORE=dynamodb needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
        return NULL;
    }
    struct store_ddb *d = calloc(1, sizeof *d);
    if (!d) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    d->base.ops = &store_dynamodb_ops;
    snprintf(d->table, sizeof d->table, "%s", cfg->dynamodb_table);
    if (aws_endpoint(cfg, AWS_DYNAMODB, d->url, sizeof d->url, NULL)) {
        snprintf(err, errlen, "AWS_ENDPOINT_URL_DYNAMODB: too long");
        free(d);
        return NULL;
    }
    strncat(d->url, "/", sizeof d->url - strlen(d->url) - 1);
    d->aws = aws_client_new(cfg, AWS_DYNAMODB, err, errlen);
    if (!d->aws) {
        free(d);
        return NULL;
    }
    /* Only when asked to: a Lambda cold start makes no round trip here. */
    if (cfg->store_create && ensure_table(d, err, errlen) != 0) {
        ddb_close(&d->base);
        return NULL;
    }
    return &d->base;
}

static int ddb_ping(struct store *s)
{
    struct store_ddb *d = (struct store_ddb *)s;
    json_t *item, *resp;
    int rc = get_item(d, TOTAL_PK, TOTAL_SK, &item, &resp);
    json_decref(resp);
    return rc == STORE_NOT_FOUND ? STORE_OK : rc == STORE_OK ? STORE_OK : STORE_UNAVAILABLE;
}

/* ---- jobs --------------------------------------------------------------------------------- */

static bool unfinished(enum result_status s)
{
    return s == RS_PENDING || s == RS_IN_PROGRESS;
}

static json_t *result_item(const char *job_id, const struct result *r)
{
    char pk[48], sk[16];
    job_pk(pk, job_id);
    result_sk(sk, r->index);
    json_t *it = json_object();
    if (!it) return NULL;
    json_object_set_new(it, "pk", av_s(pk));
    json_object_set_new(it, "sk", av_s(sk));
    json_object_set_new(it, "idx", av_n(r->index));
    json_object_set_new(it, "model", AV_FIELD(r->model));
    json_object_set_new(it, "name", AV_FIELD(r->name));
    json_object_set_new(it, "provider", AV_FIELD(r->provider));
    json_object_set_new(it, "status", av_s(result_status_name(r->status)));
    json_object_set_new(it, "image_key", AV_FIELD(r->image_key));
    json_object_set_new(it, "thumb_key", AV_FIELD(r->thumb_key));
    json_object_set_new(it, "content_type", AV_FIELD(r->content_type));
    json_object_set_new(it, "width", av_n(r->width));
    json_object_set_new(it, "height", av_n(r->height));
    json_object_set_new(it, "duration_ms", av_n(r->duration_ms));
    json_object_set_new(it, "error", AV_FIELD(r->error));
    json_object_set_new(it, "started_ms", av_n(r->started_ms));
    json_object_set_new(it, "completed_ms", av_n(r->completed_ms));
    json_object_set_new(it, "deadline_ms", av_n(r->deadline_ms));
    if (unfinished(r->status)) {
        char gsk[80];
        unfinished_sk(gsk, r->deadline_ms, job_id, r->index);
        json_object_set_new(it, "gpk", av_s(UNFINISHED_PK));
        json_object_set_new(it, "gsk", av_s(gsk));
    }
    return it;
}

static void result_from_item(const json_t *it, struct result *r)
{
    memset(r, 0, sizeof *r);
    r->index = (int)item_n(it, "idx");
    item_str(it, "model", r->model, sizeof r->model);
    item_str(it, "name", r->name, sizeof r->name);
    item_str(it, "provider", r->provider, sizeof r->provider);
    if (result_status_parse(item_s(it, "status"), &r->status) != 0) r->status = RS_PENDING;
    item_str(it, "image_key", r->image_key, sizeof r->image_key);
    item_str(it, "thumb_key", r->thumb_key, sizeof r->thumb_key);
    item_str(it, "content_type", r->content_type, sizeof r->content_type);
    r->width = (int)item_n(it, "width");
    r->height = (int)item_n(it, "height");
    r->duration_ms = item_n(it, "duration_ms");
    item_str(it, "error", r->error, sizeof r->error);
    r->started_ms = item_n(it, "started_ms");
    r->completed_ms = item_n(it, "completed_ms");
    r->deadline_ms = item_n(it, "deadline_ms");
}

static json_t *put_op(json_t *item, const char *cond, json_t *values)
{
    json_t *put = json_pack("{s:o}", "Item", item);
    if (!put) {
        json_decref(values);
        return NULL;
    }
    if (cond) json_object_set_new(put, "ConditionExpression", json_string(cond));
    if (values) json_object_set_new(put, "ExpressionAttributeValues", values);
    return put;
}

/* A transaction's items each name the table. */
static json_t *tx_item(struct store_ddb *d, const char *kind, json_t *op)
{
    if (!op) return NULL;
    json_object_set_new(op, "TableName", json_string(d->table));
    return json_pack("{s:o}", kind, op);
}

/* STORE_EXISTS (existing_id filled) when the idempotency key points at a job and is younger
 * than cutoff_ms allows; STORE_NOT_FOUND when it is free. */
static int idem_lookup(struct store_ddb *d, const char *ipk, int64_t cutoff_ms,
                       char existing_id[ID_LEN + 1])
{
    json_t *item, *resp;
    int rc = get_item(d, ipk, "IDEM", &item, &resp);
    const char *id = item_s(item, "job_id");
    if (rc == STORE_OK) {
        if (id && id_is_valid(id) && item_n(item, "created_ms") > cutoff_ms) {
            memcpy(existing_id, id, ID_LEN + 1);
            rc = STORE_EXISTS;
        } else {
            rc = STORE_NOT_FOUND;
        }
    }
    json_decref(resp);
    return rc;
}

static bool is_this_job(struct store_ddb *d, const struct job *job)
{
    char pk[48];
    job_pk(pk, job->id);
    json_t *item, *resp;
    int rc = get_item(d, pk, "JOB", &item, &resp);
    const char *prompt = item_s(item, "prompt");
    bool same = rc == STORE_OK && prompt && strcmp(prompt, job->prompt) == 0 &&
                item_n(item, "created_ms") == job->created_ms;
    json_decref(resp);
    return same;
}

static int ddb_create_job(struct store *s, const struct job *job, const char *idem_key,
                          int64_t idem_ttl_ms, char existing_id[ID_LEN + 1])
{
    struct store_ddb *d = (struct store_ddb *)s;
    int64_t now = clock_wall_ms();
    char ipk[300];
    if (idem_key) {
        if ((size_t)snprintf(ipk, sizeof ipk, "IDEM#%s", idem_key) >= sizeof ipk)
            return STORE_INVALID;
        /* A replay is answered by one read, without a transaction that would be cancelled (and
         * cost a write). The condition in the transaction still settles a race. */
        int rc = idem_lookup(d, ipk, now - idem_ttl_ms, existing_id);
        if (rc != STORE_NOT_FOUND) return rc;
    }
    char pk[48];
    job_pk(pk, job->id);
    json_t *items = json_array();
    json_t *meta =
        json_pack("{s:o,s:o,s:o,s:o,s:o,s:o}", "pk", av_s(pk), "sk", av_s("JOB"), "prompt",
                  av_s(job->prompt), "created_ms", av_n(job->created_ms), "updated_ms",
                  av_n(job->updated_ms ? job->updated_ms : job->created_ms), "n_results",
                  av_n(job->n_results));
    char gsk[64];
    gallery_sk(gsk, job->created_ms, job->id);
    /* The gallery sort key is written now; the job enters the index when gpk is set. */
    json_object_set_new(meta, "gsk", av_s(gsk));
    json_array_append_new(items, tx_item(d, "Put", put_op(meta, "attribute_not_exists(pk)", NULL)));
    for (int i = 0; i < job->n_results; i++)
        json_array_append_new(items, tx_item(d, "Put",
                                             put_op(result_item(job->id, &job->results[i]),
                                                    "attribute_not_exists(pk)", NULL)));
    if (idem_key) {
        /* TTL is only housekeeping (AWS deletes lazily); the condition decides expiry. */
        json_t *it = json_pack("{s:o,s:o,s:o,s:o,s:o}", "pk", av_s(ipk), "sk", av_s("IDEM"),
                               "job_id", av_s(job->id), "created_ms", av_n(now), "ttl",
                               av_n((now + idem_ttl_ms) / 1000 + 1));
        json_array_append_new(
            items, tx_item(d, "Put",
                           put_op(it, "attribute_not_exists(pk) OR created_ms <= :cutoff",
                                  json_pack("{s:o}", ":cutoff", av_n(now - idem_ttl_ms)))));
    }
    if (!items || json_array_size(items) != (size_t)job->n_results + 1 + (idem_key ? 1 : 0)) {
        json_decref(items);
        return STORE_NOMEM;
    }
    json_t *err_doc = NULL;
    int rc = ddb_transact(d, items, &err_doc);
    if (rc == STORE_CONFLICT && strcmp(cancel_code(err_doc, 0), "ConditionalCheckFailed") == 0) {
        /* The job item exists: ids are UUIDv7 with 74 random bits, so it is this very job from an
         * attempt that timed out yet went through (DynamoDB honours the token; not every
         * compatible store does). */
        json_decref(err_doc);
        return is_this_job(d, job) ? STORE_OK : STORE_CONFLICT;
    }
    if (rc == STORE_CONFLICT && idem_key &&
        strcmp(cancel_code(err_doc, (size_t)job->n_results + 1), "ConditionalCheckFailed") == 0) {
        rc = idem_lookup(d, ipk, now - idem_ttl_ms, existing_id);
        if (rc == STORE_NOT_FOUND) rc = STORE_CONFLICT; /* changed meanwhile: try again */
    }
    json_decref(err_doc);
    return rc;
}

static int query_all(struct store_ddb *d, json_t *request, json_t *into)
{
    json_t *start = NULL;
    for (;;) {
        json_t *req = json_deep_copy(request);
        if (!req) {
            json_decref(start);
            return STORE_NOMEM;
        }
        if (start) json_object_set_new(req, "ExclusiveStartKey", start);
        start = NULL;
        json_t *resp = NULL;
        int rc = ddb_call(d, "Query", req, true, &resp, NULL, 0);
        if (rc != STORE_OK) {
            json_decref(resp);
            return rc == STORE_CONFLICT ? STORE_UNAVAILABLE : rc;
        }
        json_array_extend(into, json_object_get(resp, "Items"));
        json_t *lek = json_object_get(resp, "LastEvaluatedKey");
        if (json_is_object(lek)) start = json_incref(lek);
        json_decref(resp);
        if (!start) return STORE_OK;
    }
}

static int ddb_get_job(struct store *s, const char *job_id, struct job *out)
{
    struct store_ddb *d = (struct store_ddb *)s;
    char pk[48];
    job_pk(pk, job_id);
    json_t *request = json_pack("{s:s,s:{s:s},s:{s:o},s:b}", "KeyConditionExpression", "#p = :p",
                                "ExpressionAttributeNames", "#p", "pk", "ExpressionAttributeValues",
                                ":p", av_s(pk), "ConsistentRead", 1);
    json_t *items = json_array();
    int rc = request && items ? query_all(d, request, items) : STORE_NOMEM;
    json_decref(request);
    if (rc != STORE_OK) {
        json_decref(items);
        return rc;
    }
    const json_t *meta = NULL;
    size_t n_res = 0, i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        const char *sk = item_s(it, "sk");
        if (sk && strcmp(sk, "JOB") == 0)
            meta = it;
        else if (sk && strncmp(sk, "R#", 2) == 0)
            n_res++;
    }
    if (!meta) {
        json_decref(items);
        return STORE_NOT_FOUND;
    }
    memset(out, 0, sizeof *out);
    memcpy(out->id, job_id, ID_LEN + 1);
    const char *prompt = item_s(meta, "prompt");
    out->prompt = strdup(prompt ? prompt : "");
    out->created_ms = item_n(meta, "created_ms");
    out->updated_ms = item_n(meta, "updated_ms");
    out->results = n_res ? calloc(n_res, sizeof *out->results) : NULL;
    if (!out->prompt || (n_res && !out->results)) {
        job_clear(out);
        json_decref(items);
        return STORE_NOMEM;
    }
    /* Items arrive in sk order, i.e. by index ("R#0001" < "R#0002"). */
    json_array_foreach(items, i, it)
    {
        const char *sk = item_s(it, "sk");
        if (sk && strncmp(sk, "R#", 2) == 0) result_from_item(it, &out->results[out->n_results++]);
    }
    json_decref(items);
    return STORE_OK;
}

/* ---- result updates ----------------------------------------------------------------------- */

/* The UpdateItem of one result: every mutable field, the unfinished index entry kept in step,
 * and the condition that the stored status is in from_mask. */
static json_t *result_update(const char *job_id, const struct result *r, unsigned from_mask)
{
    char pk[48], sk[16];
    job_pk(pk, job_id);
    result_sk(sk, r->index);
    json_t *names =
        json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "#st", "status",
                  "#ik", "image_key", "#tk", "thumb_key", "#ct", "content_type", "#w", "width",
                  "#h", "height", "#du", "duration_ms", "#er", "error", "#sa", "started_ms", "#ca",
                  "completed_ms", "#dl", "deadline_ms", "#gp", "gpk", "#gs", "gsk", "#pk", "pk");
    json_t *values = json_pack(
        "{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", ":st", av_s(result_status_name(r->status)),
        ":ik", AV_FIELD(r->image_key), ":tk", AV_FIELD(r->thumb_key), ":ct",
        AV_FIELD(r->content_type), ":w", av_n(r->width), ":h", av_n(r->height), ":du",
        av_n(r->duration_ms), ":er", AV_FIELD(r->error), ":sa", av_n(r->started_ms), ":ca",
        av_n(r->completed_ms), ":dl", av_n(r->deadline_ms));
    if (!names || !values) {
        json_decref(names);
        json_decref(values);
        return NULL;
    }
    char expr[512] = "SET #st = :st, #ik = :ik, #tk = :tk, #ct = :ct, #w = :w, #h = :h, "
                     "#du = :du, #er = :er, #sa = :sa, #ca = :ca, #dl = :dl";
    if (unfinished(r->status)) {
        char gsk[80];
        unfinished_sk(gsk, r->deadline_ms, job_id, r->index);
        strcat(expr, ", #gp = :gp, #gs = :gs");
        json_object_set_new(values, ":gp", av_s(UNFINISHED_PK));
        json_object_set_new(values, ":gs", av_s(gsk));
    } else {
        strcat(expr, " REMOVE #gp, #gs");
    }
    char cond[256] = "attribute_exists(#pk) AND #st IN (";
    int k = 0;
    for (int st = RS_PENDING; st <= RS_CANCELLED; st++) {
        if (!(from_mask & RS_BIT(st))) continue;
        char name[8];
        snprintf(name, sizeof name, ":f%d", st);
        json_object_set_new(values, name, av_s(result_status_name((enum result_status)st)));
        strcat(cond, k++ ? ", " : "");
        strcat(cond, name);
    }
    strcat(cond, ")");
    /* ALL_OLD on failure tells "no such result" (no item) from "another state". */
    return json_pack("{s:o,s:s,s:s,s:o,s:o,s:s}", "Key", key_of(pk, sk), "UpdateExpression", expr,
                     "ConditionExpression", cond, "ExpressionAttributeNames", names,
                     "ExpressionAttributeValues", values, "ReturnValuesOnConditionCheckFailure",
                     "ALL_OLD");
}

/* Applies a result update; STORE_NOT_FOUND when the result does not exist. A failed condition
 * after a resend (the first attempt timed out but went through) finds the item already in the
 * state asked for: that is this call's own success, not a conflict. */
static int apply_result_update(struct store_ddb *d, json_t *update, const struct result *want)
{
    json_t *doc = NULL;
    int attempts = 0;
    if (update) json_object_set_new(update, "TableName", json_string(d->table));
    char *text = update ? json_dumps(update, JSON_COMPACT) : NULL;
    json_decref(update);
    if (!text) return STORE_NOMEM;
    int rc = ddb_call_text(d, "UpdateItem", text, true, &doc, NULL, 0, &attempts);
    free(text);
    const json_t *old = json_object_get(doc, "Item");
    if (rc == STORE_CONFLICT && !json_is_object(old)) {
        rc = STORE_NOT_FOUND;
    } else if (rc == STORE_CONFLICT && attempts > 1 && want) {
        struct result now;
        result_from_item(old, &now);
        if (now.status == want->status && now.started_ms == want->started_ms &&
            now.completed_ms == want->completed_ms)
            rc = STORE_OK;
    }
    json_decref(doc);
    return rc;
}

/* Bumps the job's updated_ms; with a completed image also lists the job in the gallery (the sort
 * key gsk was written at creation, so setting gpk is what puts the item into the index) and
 * counts the image. The first listing also adds one to the gallery total: ALL_OLD shows
 * whether gpk was there before, and single-item updates serialise, so exactly one caller sees it
 * missing. */
static int touch_job(struct store_ddb *d, const char *job_id, int64_t now, const char *preview)
{
    char pk[48];
    job_pk(pk, job_id);
    json_t *req;
    if (!preview) {
        req = json_pack("{s:o,s:s,s:s,s:{s:s,s:s},s:{s:o}}", "Key", key_of(pk, "JOB"),
                        "UpdateExpression", "SET #u = :now", "ConditionExpression",
                        "attribute_exists(#pk)", "ExpressionAttributeNames", "#u", "updated_ms",
                        "#pk", "pk", "ExpressionAttributeValues", ":now", av_n(now));
        int rc = ddb_call(d, "UpdateItem", req, true, NULL, NULL, 0);
        return rc == STORE_CONFLICT ? STORE_NOT_FOUND : rc;
    }
    req = json_pack(
        "{s:o,s:s,s:s,s:{s:s,s:s,s:s,s:s,s:s},s:{s:o,s:o,s:o,s:o},s:s}", "Key", key_of(pk, "JOB"),
        "UpdateExpression", "SET #u = :now, #gp = :gp, #pv = if_not_exists(#pv, :pv) ADD #im :one",
        "ConditionExpression", "attribute_exists(#pk)", "ExpressionAttributeNames", "#u",
        "updated_ms", "#pk", "pk", "#gp", "gpk", "#pv", "preview", "#im", "images",
        "ExpressionAttributeValues", ":now", av_n(now), ":gp", av_s(GALLERY_PK), ":pv",
        av_s(preview), ":one", av_n(1), "ReturnValues", "ALL_OLD");
    json_t *resp = NULL;
    /* ADD is not idempotent: no retry after an ambiguous failure. */
    int rc = ddb_call(d, "UpdateItem", req, false, &resp, NULL, 0);
    bool first = rc == STORE_OK && !json_object_get(json_object_get(resp, "Attributes"), "gpk");
    json_decref(resp);
    if (rc == STORE_CONFLICT) return STORE_NOT_FOUND;
    if (rc != STORE_OK || !first) return rc;
    req = json_pack("{s:o,s:s,s:{s:s},s:{s:o}}", "Key", key_of(TOTAL_PK, TOTAL_SK),
                    "UpdateExpression", "ADD #t :one", "ExpressionAttributeNames", "#t", "total",
                    "ExpressionAttributeValues", ":one", av_n(1));
    return ddb_call(d, "UpdateItem", req, false, NULL, NULL, 0);
}

static int ddb_update_result(struct store *s, const char *job_id, const struct result *r,
                             unsigned from_mask)
{
    struct store_ddb *d = (struct store_ddb *)s;
    if (!(from_mask & ((1u << (RS_CANCELLED + 1)) - 1))) return STORE_CONFLICT;
    json_t *update = result_update(job_id, r, from_mask);
    if (!update) return STORE_NOMEM;
    int rc = apply_result_update(d, update, r);
    if (rc != STORE_OK) return rc;
    /* The transition happened, and it is what callers act on: the job item's derived fields
     * follow as a second write (see the ADR for what a crash in between can leave). */
    bool image = r->status == RS_COMPLETED && r->image_key[0];
    char preview[sizeof r->thumb_key + 1];
    snprintf(preview, sizeof preview, "%.*s", (int)strnlen(r->thumb_key, sizeof r->thumb_key),
             r->thumb_key);
    touch_job(d, job_id, clock_wall_ms(), image ? preview : NULL);
    return STORE_OK;
}

/* ---- gallery ------------------------------------------------------------------------------ */

/* The cursor is base64url of the last entry's gallery sort key "<created13>#<id>": everything
 * else of DynamoDB's LastEvaluatedKey follows from it, and it fits gallery_page.next_cursor. */
static int cursor_to_start_key(const char *cursor, json_t **start)
{
    *start = NULL;
    if (!cursor[0]) return STORE_OK;
    struct buf raw = BUF_INIT;
    size_t len = strnlen(cursor, 128);
    if (len >= 128 || aws_base64_decode(&raw, cursor, len) != 0 || raw.len != 14 + ID_LEN ||
        memchr(raw.data, '\0', raw.len)) {
        buf_free(&raw);
        return STORE_INVALID;
    }
    bool ok = raw.data[13] == '#' && id_is_valid(raw.data + 14);
    for (int i = 0; i < 13 && ok; i++)
        ok = raw.data[i] >= '0' && raw.data[i] <= '9';
    if (!ok) {
        buf_free(&raw);
        return STORE_INVALID;
    }
    char pk[48];
    job_pk(pk, raw.data + 14);
    *start = json_pack("{s:o,s:o,s:o,s:o}", "pk", av_s(pk), "sk", av_s("JOB"), "gpk",
                       av_s(GALLERY_PK), "gsk", av_s(raw.data));
    buf_free(&raw);
    return *start ? STORE_OK : STORE_NOMEM;
}

static int ddb_gallery_list(struct store *s, int limit, const char *cursor,
                            struct gallery_page *out)
{
    struct store_ddb *d = (struct store_ddb *)s;
    json_t *start;
    int rc = cursor_to_start_key(cursor, &start);
    if (rc != STORE_OK) return rc;
    /* One more than asked: whether it exists decides if there is a next page, so the last page
     * never carries a cursor to an empty one. */
    json_t *req = json_pack("{s:s,s:s,s:{s:s},s:{s:o},s:b,s:i}", "IndexName", GSI_NAME,
                            "KeyConditionExpression", "#g = :g", "ExpressionAttributeNames", "#g",
                            "gpk", "ExpressionAttributeValues", ":g", av_s(GALLERY_PK),
                            "ScanIndexForward", 0, "Limit", limit + 1);
    if (!req) {
        json_decref(start);
        return STORE_NOMEM;
    }
    if (start) json_object_set_new(req, "ExclusiveStartKey", start);
    json_t *resp = NULL;
    rc = ddb_call(d, "Query", req, true, &resp, NULL, 0);
    if (rc != STORE_OK) {
        json_decref(resp);
        return rc == STORE_CONFLICT ? STORE_UNAVAILABLE : rc;
    }
    const json_t *items = json_object_get(resp, "Items");
    size_t n = json_array_size(items);
    size_t take = n > (size_t)limit ? (size_t)limit : n;
    out->entries = take ? calloc(take, sizeof *out->entries) : NULL;
    if (take && !out->entries) {
        json_decref(resp);
        return STORE_NOMEM;
    }
    for (size_t i = 0; i < take; i++) {
        const json_t *it = json_array_get(items, i);
        struct gallery_entry *e = &out->entries[out->n];
        const char *pk = item_s(it, "pk");
        if (!pk || strncmp(pk, "JOB#", 4) != 0 || !id_is_valid(pk + 4)) continue;
        memcpy(e->id, pk + 4, ID_LEN + 1);
        e->created_ms = item_n(it, "created_ms");
        const char *prompt = item_s(it, "prompt");
        e->prompt = strdup(prompt ? prompt : "");
        if (!e->prompt) {
            json_decref(resp);
            gallery_page_clear(out);
            return STORE_NOMEM;
        }
        item_str(it, "preview", e->preview_key, sizeof e->preview_key);
        e->image_count = (int)item_n(it, "images");
        out->n++;
    }
    if (n > (size_t)limit && take > 0) {
        const char *gsk = item_s(json_array_get(items, take - 1), "gsk");
        struct buf c = BUF_INIT;
        if (gsk && aws_base64_encode(&c, gsk, strlen(gsk), true) == 0 &&
            c.len < sizeof out->next_cursor)
            memcpy(out->next_cursor, c.data, c.len + 1);
        buf_free(&c);
    }
    json_decref(resp);

    json_t *item;
    rc = get_item(d, TOTAL_PK, TOTAL_SK, &item, &resp);
    out->total = rc == STORE_OK ? (long)item_n(item, "total") : 0;
    json_decref(resp);
    if (rc != STORE_OK && rc != STORE_NOT_FOUND) {
        gallery_page_clear(out);
        return rc;
    }
    return STORE_OK;
}

/* ---- quotas ------------------------------------------------------------------------------- */

static int quota_pk(char *out, size_t cap, const char *key)
{
    return (size_t)snprintf(out, cap, "QUOTA#%s", key) < cap ? 0 : -1;
}

static int ddb_quota_take(struct store *s, const char *key, long limit, int64_t expires_ms,
                          bool *allowed, long *count)
{
    struct store_ddb *d = (struct store_ddb *)s;
    char pk[600];
    if (quota_pk(pk, sizeof pk, key)) return STORE_INVALID;
    if (limit <= 0) { /* never admits; "not exists" below would let a first one through */
        *allowed = false;
        *count = 0;
        return STORE_OK;
    }
    /* The condition makes check-and-increment one atomic step across every instance. */
    json_t *resp = NULL;
    int rc = ddb_call(
        d, "UpdateItem",
        json_pack("{s:o,s:s,s:s,s:{s:s,s:s},s:{s:o,s:o,s:o},s:s,s:s}", "Key", key_of(pk, "QUOTA"),
                  "UpdateExpression", "ADD #c :one SET #t = :ttl", "ConditionExpression",
                  "attribute_not_exists(#c) OR #c < :limit", "ExpressionAttributeNames", "#c", "c",
                  "#t", "ttl", "ExpressionAttributeValues", ":one", av_n(1), ":limit", av_n(limit),
                  ":ttl", av_n(expires_ms / 1000 + 1), "ReturnValues", "UPDATED_NEW",
                  "ReturnValuesOnConditionCheckFailure", "ALL_OLD"),
        false, &resp, NULL, 0);
    if (rc == STORE_OK) {
        *allowed = true;
        *count = (long)item_n(json_object_get(resp, "Attributes"), "c");
    } else if (rc == STORE_CONFLICT) {
        const json_t *old = json_object_get(resp, "Item");
        *allowed = false;
        *count = old ? (long)item_n(old, "c") : limit;
        rc = STORE_OK;
    }
    json_decref(resp);
    return rc;
}

static int ddb_quota_release(struct store *s, const char *key)
{
    struct store_ddb *d = (struct store_ddb *)s;
    char pk[600];
    if (quota_pk(pk, sizeof pk, key)) return STORE_INVALID;
    int rc = ddb_call(d, "UpdateItem",
                      json_pack("{s:o,s:s,s:s,s:{s:s},s:{s:o,s:o}}", "Key", key_of(pk, "QUOTA"),
                                "UpdateExpression", "ADD #c :minus", "ConditionExpression",
                                "#c > :zero", "ExpressionAttributeNames", "#c", "c",
                                "ExpressionAttributeValues", ":minus", av_n(-1), ":zero", av_n(0)),
                      false, NULL, NULL, 0);
    return rc == STORE_CONFLICT ? STORE_OK : rc; /* nothing to give back */
}

/* ---- recovery ----------------------------------------------------------------------------- */

static int ddb_recover_interrupted(struct store *s, int64_t before_ms, int64_t now_ms,
                                   int *n_marked)
{
    struct store_ddb *d = (struct store_ddb *)s;
    char bound[16];
    snprintf(bound, sizeof bound, "%013lld", (long long)clamp13(before_ms));
    json_t *start = NULL;
    for (;;) {
        /* "<deadline13>#..." < "<before13>" exactly when deadline < before. */
        json_t *req =
            json_pack("{s:s,s:s,s:{s:s,s:s},s:{s:o,s:o},s:i}", "IndexName", GSI_NAME,
                      "KeyConditionExpression", "#g = :g AND #s < :b", "ExpressionAttributeNames",
                      "#g", "gpk", "#s", "gsk", "ExpressionAttributeValues", ":g",
                      av_s(UNFINISHED_PK), ":b", av_s(bound), "Limit", RECOVER_PAGE);
        if (!req) {
            json_decref(start);
            return STORE_NOMEM;
        }
        if (start) json_object_set_new(req, "ExclusiveStartKey", start);
        start = NULL;
        json_t *resp = NULL;
        int rc = ddb_call(d, "Query", req, true, &resp, NULL, 0);
        if (rc != STORE_OK) {
            json_decref(resp);
            return rc == STORE_CONFLICT ? STORE_UNAVAILABLE : rc;
        }
        size_t i;
        json_t *it;
        json_array_foreach(json_object_get(resp, "Items"), i, it)
        {
            const char *pk = item_s(it, "pk");
            if (!pk || strncmp(pk, "JOB#", 4) != 0 || !id_is_valid(pk + 4)) continue;
            const char *sk = item_s(it, "sk");
            if (!sk) continue;
            /* Only the fields recovery owns; the GSI is eventually consistent, so the condition
             * re-checks the item itself (a live owner that moved its deadline is left alone). */
            json_t *update = json_pack(
                "{s:o,s:s,s:s,s:{s:s,s:s,s:s,s:s,s:s,s:s,s:s},s:{s:o,s:o,s:o,s:o,s:o,s:o},s:s}",
                "Key", key_of(pk, sk), "UpdateExpression",
                "SET #st = :err, #er = :why, #ca = :now REMOVE #gp, #gs", "ConditionExpression",
                "attribute_exists(#pk) AND #st IN (:p, :ip) AND #dl < :before",
                "ExpressionAttributeNames", "#st", "status", "#er", "error", "#ca", "completed_ms",
                "#gp", "gpk", "#gs", "gsk", "#pk", "pk", "#dl", "deadline_ms",
                "ExpressionAttributeValues", ":err", av_s(result_status_name(RS_ERROR)), ":why",
                av_s(INTERRUPTED_TEXT), ":now", av_n(now_ms), ":p",
                av_s(result_status_name(RS_PENDING)), ":ip",
                av_s(result_status_name(RS_IN_PROGRESS)), ":before", av_n(before_ms),
                "ReturnValuesOnConditionCheckFailure", "ALL_OLD");
            rc = update ? apply_result_update(d, update, NULL) : STORE_NOMEM;
            if (rc == STORE_OK) {
                (*n_marked)++;
                touch_job(d, pk + 4, now_ms, NULL);
            } else if (rc != STORE_CONFLICT && rc != STORE_NOT_FOUND) {
                json_decref(resp);
                return rc;
            }
        }
        json_t *lek = json_object_get(resp, "LastEvaluatedKey");
        if (json_is_object(lek)) start = json_incref(lek);
        json_decref(resp);
        if (!start) return STORE_OK;
    }
}

const struct store_ops store_dynamodb_ops = {
    .name = "dynamodb",
    .open = ddb_open,
    .close = ddb_close,
    .ping = ddb_ping,
    .create_job = ddb_create_job,
    .get_job = ddb_get_job,
    .update_result = ddb_update_result,
    .gallery_list = ddb_gallery_list,
    .quota_take = ddb_quota_take,
    .quota_release = ddb_quota_release,
    .recover_interrupted = ddb_recover_interrupted,
};
