/* The embedded store: one SQLite database, DATA_DIR/pixelprompt.db, in WAL mode.
 * Schema, cursor format and the connection strategy are explained in docs/adr/0003-sqlite-store.md.
 *
 * Connections: one writer and a small pool of readers, each guarded by its own mutex and opened
 * SQLITE_OPEN_NOMUTEX (the mutex is ours, so SQLite's own per-call locking is not paid twice).
 * SQLite admits one writer at a time anyway, so a single writer connection costs no parallelism and
 * never meets SQLITE_BUSY from this process; readers run on WAL snapshots and are never blocked by
 * it. Every statement is prepared once per connection, on first use, and kept until close.
 *
 * Job ids are checked by store.c (id_is_valid) before they get here. Status values are stored by
 * name (result_status_name), so the file stays readable with the sqlite3 shell and does not depend
 * on the order of enum result_status. */
#include "store/store_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "app/config.h"
#include "util/clock.h"
#include "util/utf8.h"

#define SCHEMA_VERSION 1
#define BUSY_TIMEOUT_MS 5000
#define PURGE_EVERY_MS 60000
#define MAX_READERS 8

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS jobs("
    " id TEXT PRIMARY KEY NOT NULL,"
    " prompt TEXT NOT NULL,"
    " created_ms INTEGER NOT NULL,"
    " updated_ms INTEGER NOT NULL,"
    " n_results INTEGER NOT NULL,"
    " in_gallery INTEGER NOT NULL DEFAULT 0," /* 1 when image_count > 0 */
    " image_count INTEGER NOT NULL DEFAULT 0,"
    " preview_key TEXT NOT NULL DEFAULT ''"
    ") WITHOUT ROWID;"
    /* The gallery: only jobs with an image, in page order, so a page is one range scan. */
    "CREATE INDEX IF NOT EXISTS jobs_gallery ON jobs(created_ms DESC, id DESC)"
    " WHERE in_gallery = 1;"
    "CREATE TABLE IF NOT EXISTS results("
    " job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,"
    " idx INTEGER NOT NULL,"
    " model TEXT NOT NULL,"
    " name TEXT NOT NULL,"
    " provider TEXT NOT NULL,"
    " status TEXT NOT NULL,"
    " image_key TEXT NOT NULL DEFAULT '',"
    " thumb_key TEXT NOT NULL DEFAULT '',"
    " content_type TEXT NOT NULL DEFAULT '',"
    " width INTEGER NOT NULL DEFAULT 0,"
    " height INTEGER NOT NULL DEFAULT 0,"
    " duration_ms INTEGER NOT NULL DEFAULT 0,"
    " error TEXT NOT NULL DEFAULT '',"
    " started_ms INTEGER NOT NULL DEFAULT 0,"
    " completed_ms INTEGER NOT NULL DEFAULT 0,"
    " deadline_ms INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY(job_id, idx)"
    ") WITHOUT ROWID;"
    /* Small (finished results leave it), so recovery at start is O(unfinished). */
    "CREATE INDEX IF NOT EXISTS results_unfinished ON results(deadline_ms)"
    " WHERE status IN ('pending','in_progress');"
    "CREATE TABLE IF NOT EXISTS counters("
    " name TEXT PRIMARY KEY NOT NULL,"
    " value INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "INSERT OR IGNORE INTO counters(name, value) VALUES('gallery', 0);"
    "CREATE TABLE IF NOT EXISTS quota("
    " key TEXT PRIMARY KEY NOT NULL,"
    " count INTEGER NOT NULL,"
    " expires_ms INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS quota_expires ON quota(expires_ms);"
    "CREATE TABLE IF NOT EXISTS idempotency("
    " key TEXT PRIMARY KEY NOT NULL,"
    " job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,"
    " created_ms INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS idempotency_created ON idempotency(created_ms);";

/* Columns read back into struct result, in this order, by read_result(). */
#define RESULT_COLS                                                                                \
    "idx, model, name, provider, status, image_key, thumb_key, content_type, width, height, "      \
    "duration_ms, error, started_ms, completed_ms, deadline_ms"

/* Recomputes a job's gallery fields from its rows (first completed image by index is the preview).
 */
#define COMPLETED_IMAGE "status = 'completed' AND image_key <> ''"

enum stmt_id {
    /* readers */
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_PING,
    ST_GET_JOB,
    ST_GALLERY_PAGE,
    ST_GALLERY_TOTAL,
    /* writer */
    ST_BEGIN_IMMEDIATE,
    ST_IDEM_GET,
    ST_IDEM_PUT,
    ST_JOB_INSERT,
    ST_RESULT_INSERT,
    ST_RESULT_UPDATE,
    ST_RESULT_EXISTS,
    ST_JOB_TOUCH,
    ST_JOB_REFRESH,
    ST_GALLERY_SYNC,
    ST_COUNTER_ADD,
    ST_QUOTA_TAKE,
    ST_QUOTA_GET,
    ST_QUOTA_RELEASE,
    ST_QUOTA_PURGE,
    ST_IDEM_PURGE,
    ST_RECOVER_TOUCH,
    ST_RECOVER,
    ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_PING] = "SELECT value FROM counters WHERE name = 'gallery'",
    /* One statement is one snapshot: the job and its rows can never disagree. */
    [ST_GET_JOB] = "SELECT j.prompt, j.created_ms, j.updated_ms, r.idx, r.model, r.name,"
                   " r.provider, r.status, r.image_key, r.thumb_key, r.content_type, r.width,"
                   " r.height, r.duration_ms, r.error, r.started_ms, r.completed_ms,"
                   " r.deadline_ms"
                   " FROM jobs j LEFT JOIN results r ON r.job_id = j.id"
                   " WHERE j.id = ?1 ORDER BY r.idx",
    /* Keyset paging: (created_ms, id) strictly below the cursor, on the partial index. */
    [ST_GALLERY_PAGE] = "SELECT id, created_ms, prompt, preview_key, image_count FROM jobs"
                        " WHERE in_gallery = 1 AND (created_ms, id) < (?1, ?2)"
                        " ORDER BY created_ms DESC, id DESC LIMIT ?3",
    [ST_GALLERY_TOTAL] = "SELECT value FROM counters WHERE name = 'gallery'",
    [ST_BEGIN_IMMEDIATE] = "BEGIN IMMEDIATE",
    [ST_IDEM_GET] = "SELECT job_id, created_ms FROM idempotency WHERE key = ?1",
    [ST_IDEM_PUT] = "INSERT INTO idempotency(key, job_id, created_ms) VALUES(?1, ?2, ?3)"
                    " ON CONFLICT(key) DO UPDATE SET job_id = excluded.job_id,"
                    " created_ms = excluded.created_ms",
    [ST_JOB_INSERT] = "INSERT INTO jobs(id, prompt, created_ms, updated_ms, n_results)"
                      " VALUES(?1, ?2, ?3, ?4, ?5)",
    [ST_RESULT_INSERT] = "INSERT INTO results(job_id, " RESULT_COLS ")"
                         " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
                         " ?15, ?16)",
    /* ?14 is ",name,name," of the statuses the row may be in: one cached statement for any mask */
    [ST_RESULT_UPDATE] = "UPDATE results SET status = ?3, image_key = ?4, thumb_key = ?5,"
                         " content_type = ?6, width = ?7, height = ?8, duration_ms = ?9,"
                         " error = ?10, started_ms = ?11, completed_ms = ?12, deadline_ms = ?13"
                         " WHERE job_id = ?1 AND idx = ?2 AND instr(?14, ',' || status || ',') > 0",
    [ST_RESULT_EXISTS] = "SELECT 1 FROM results WHERE job_id = ?1 AND idx = ?2",
    [ST_JOB_TOUCH] = "UPDATE jobs SET updated_ms = max(updated_ms, ?2) WHERE id = ?1",
    [ST_JOB_REFRESH] =
        "UPDATE jobs SET updated_ms = max(updated_ms, ?2),"
        " image_count = (SELECT count(*) FROM results WHERE job_id = ?1 AND " COMPLETED_IMAGE "),"
        " preview_key = coalesce((SELECT CASE WHEN thumb_key <> '' THEN thumb_key"
        " ELSE image_key END FROM results WHERE job_id = ?1 AND " COMPLETED_IMAGE
        " ORDER BY idx LIMIT 1), '')"
        " WHERE id = ?1",
    /* Returns a row only when the job enters or leaves the gallery, to move the counter. */
    [ST_GALLERY_SYNC] = "UPDATE jobs SET in_gallery = (image_count > 0)"
                        " WHERE id = ?1 AND in_gallery <> (image_count > 0) RETURNING in_gallery",
    [ST_COUNTER_ADD] = "UPDATE counters SET value = value + ?2 WHERE name = ?1",
    /* ?2 expiry, ?3 now, ?4 limit. An expired counter starts again, as if it had been purged. */
    [ST_QUOTA_TAKE] = "INSERT INTO quota(key, count, expires_ms) VALUES(?1, 1, ?2)"
                      " ON CONFLICT(key) DO UPDATE SET"
                      " count = CASE WHEN expires_ms < ?3 THEN 1 ELSE count + 1 END,"
                      " expires_ms = excluded.expires_ms"
                      " WHERE count < ?4 OR expires_ms < ?3"
                      " RETURNING count",
    [ST_QUOTA_GET] = "SELECT count FROM quota WHERE key = ?1",
    [ST_QUOTA_RELEASE] = "UPDATE quota SET count = count - 1 WHERE key = ?1 AND count > 0",
    [ST_QUOTA_PURGE] = "DELETE FROM quota WHERE expires_ms < ?1",
    [ST_IDEM_PURGE] = "DELETE FROM idempotency WHERE created_ms < ?1",
    [ST_RECOVER_TOUCH] = "UPDATE jobs SET updated_ms = max(updated_ms, ?2) WHERE id IN"
                         " (SELECT job_id FROM results WHERE status IN ('pending','in_progress')"
                         " AND deadline_ms < ?1)",
    [ST_RECOVER] = "UPDATE results SET status = 'error', error = 'interrupted',"
                   " completed_ms = ?2"
                   " WHERE status IN ('pending','in_progress') AND deadline_ms < ?1",
};

struct conn {
    pthread_mutex_t mu; /* held for the whole of one store call */
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT]; /* prepared on first use, finalized at close */
};

struct sqlite_store {
    struct store base;
    struct conn writer;
    struct conn *readers; /* owned array of n_readers */
    int n_readers;
    atomic_uint next_reader;
    /* Guarded by writer.mu: housekeeping of expired quota and idempotency rows. */
    int64_t next_purge_mono_ms;
    int64_t idem_ttl_max_ms;
};

/* ---- errors ---------------------------------------------------------------------------------- */

static int map_rc(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
        return STORE_OK;
    case SQLITE_NOMEM:
        return STORE_NOMEM;
    case SQLITE_CONSTRAINT: /* duplicate job id or result index: a caller bug */
    case SQLITE_TOOBIG:
    case SQLITE_RANGE:
    case SQLITE_MISMATCH:
        return STORE_INVALID;
    default: /* BUSY past the timeout, IOERR, FULL, CORRUPT, READONLY, CANTOPEN, ... */
        return STORE_UNAVAILABLE;
    }
}

/* ---- connections ----------------------------------------------------------------------------- */

static sqlite3_stmt *stmt(struct conn *c, enum stmt_id id)
{
    if (!c->st[id]) {
        if (sqlite3_prepare_v3(c->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &c->st[id],
                               NULL) != SQLITE_OK)
            c->st[id] = NULL;
    }
    return c->st[id];
}

/* Runs a statement that returns no rows we need; the statement is reset either way. */
static int exec_stmt(sqlite3_stmt *st)
{
    if (!st) return SQLITE_ERROR;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int exec_id(struct conn *c, enum stmt_id id)
{
    return exec_stmt(stmt(c, id));
}

/* Ends a transaction that failed; harmless when SQLite already rolled it back itself. */
static void rollback(struct conn *c)
{
    if (!sqlite3_get_autocommit(c->db)) exec_id(c, ST_ROLLBACK);
}

static void conn_close(struct conn *c)
{
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(c->st[i]);
    sqlite3_close_v2(c->db);
    pthread_mutex_destroy(&c->mu);
    memset(c, 0, sizeof *c);
}

static int conn_open(struct conn *c, const char *path, bool writer, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_PRIVATECACHE;
    if (writer) flags |= SQLITE_OPEN_CREATE;
    int rc = sqlite3_open_v2(path, &c->db, flags, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "STORE: cannot open %.200s: %s", path,
                 c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
        conn_close(c);
        return -1;
    }
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
    const char *pragmas = writer ? "PRAGMA journal_mode = WAL;"
                                   "PRAGMA synchronous = NORMAL;"
                                   "PRAGMA foreign_keys = ON;"
                                   "PRAGMA journal_size_limit = 67108864;"
                                 : "PRAGMA query_only = ON;";
    /* No mmap: it saved little here, and it turns a disk error into SIGBUS instead of an error. */
    rc = sqlite3_exec(c->db, pragmas, NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "STORE: cannot configure %.200s: %s", path, sqlite3_errmsg(c->db));
        conn_close(c);
        return -1;
    }
    return 0;
}

/* Creates or checks the schema on the writer connection. */
static int schema_init(struct conn *c, char *err, size_t errlen)
{
    char *msg = NULL;
    sqlite3_stmt *st = NULL;
    int version = -1;
    if (sqlite3_prepare_v2(c->db, "PRAGMA journal_mode", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        const char *mode = (const char *)sqlite3_column_text(st, 0);
        if (!mode || strcmp(mode, "wal") != 0) {
            snprintf(err, errlen, "STORE: WAL mode unavailable (journal_mode=%s)",
                     mode ? mode : "?");
            sqlite3_finalize(st);
            return -1;
        }
    }
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(c->db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (version < 0) {
        snprintf(err, errlen, "STORE: cannot read the database: %s", sqlite3_errmsg(c->db));
        return -1;
    }
    if (version > SCHEMA_VERSION) {
        snprintf(err, errlen, "STORE: database schema %d is newer than this program's (%d)",
                 version, SCHEMA_VERSION);
        return -1;
    }
    if (version == SCHEMA_VERSION) return 0;
    char sql[sizeof schema_sql + 96];
    snprintf(sql, sizeof sql, "BEGIN IMMEDIATE;%sPRAGMA user_version = %d;COMMIT;", schema_sql,
             SCHEMA_VERSION);
    if (sqlite3_exec(c->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "STORE: cannot create the schema: %s", msg ? msg : "?");
        sqlite3_free(msg);
        rollback(c);
        return -1;
    }
    return 0;
}

static int mkdir_p(const char *path, mode_t mode)
{
    char tmp[sizeof(((struct config *)0)->data_dir) + 16];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(tmp, path, n + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(tmp, mode) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    if (mkdir(tmp, mode) != 0 && errno != EEXIST) return -1;
    return 0;
}

static void sq_close(struct store *base)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    for (int i = 0; i < s->n_readers; i++)
        conn_close(&s->readers[i]);
    free(s->readers);
    if (s->writer.db) conn_close(&s->writer); /* last: the final close checkpoints the WAL */
    free(s);
}

static struct store *sq_open(const struct config *cfg, char *err, size_t errlen)
{
    if (!sqlite3_threadsafe()) {
        snprintf(err, errlen, "STORE: this SQLite library is built without thread support");
        return NULL;
    }
    const char *dir = cfg->data_dir[0] ? cfg->data_dir : "./data";
    if (mkdir_p(dir, 0700) != 0) {
        snprintf(err, errlen, "DATA_DIR: cannot create %.200s: %s", dir, strerror(errno));
        return NULL;
    }
    char path[sizeof cfg->data_dir + 32];
    snprintf(path, sizeof path, "%s/pixelprompt.db", dir);
    /* Created here so it is private (0600) whatever the umask; SQLite would use 0644. */
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "DATA_DIR: cannot create %.200s: %s", path, strerror(errno));
        return NULL;
    }
    close(fd);

    struct sqlite_store *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "STORE: out of memory");
        return NULL;
    }
    s->base.ops = &store_sqlite_ops;
    if (conn_open(&s->writer, path, true, err, errlen) != 0) {
        free(s);
        return NULL;
    }
    if (schema_init(&s->writer, err, errlen) != 0) {
        sq_close(&s->base);
        return NULL;
    }
    /* Two readers per core: enough that a reader is nearly always free without waiting. */
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int n = cpus > 0 ? (int)(cpus * 2) : 4;
    if (n < 2) n = 2;
    if (n > MAX_READERS) n = MAX_READERS;
    s->readers = calloc((size_t)n, sizeof *s->readers);
    if (!s->readers) {
        snprintf(err, errlen, "STORE: out of memory");
        conn_close(&s->writer);
        free(s);
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        if (conn_open(&s->readers[i], path, false, err, errlen) != 0) {
            sq_close(&s->base);
            return NULL;
        }
        s->n_readers = i + 1;
    }
    return &s->base;
}

/* A free reader if there is one, else waits for one; the rotating start spreads the load. */
static struct conn *reader_acquire(struct sqlite_store *s)
{
    unsigned start = atomic_fetch_add_explicit(&s->next_reader, 1, memory_order_relaxed);
    for (int i = 0; i < s->n_readers; i++) {
        struct conn *c = &s->readers[(start + (unsigned)i) % (unsigned)s->n_readers];
        if (pthread_mutex_trylock(&c->mu) == 0) return c;
    }
    struct conn *c = &s->readers[start % (unsigned)s->n_readers];
    pthread_mutex_lock(&c->mu);
    return c;
}

static void conn_release(struct conn *c)
{
    pthread_mutex_unlock(&c->mu);
}

/* ---- binding and reading --------------------------------------------------------------------- */

/* Fixed-size fields may lack a NUL: never read past the field. */
static int bind_field(sqlite3_stmt *st, int i, const char *field, size_t size)
{
    return sqlite3_bind_text(st, i, field, (int)strnlen(field, size), SQLITE_STATIC);
}

#define BIND_FIELD(st, i, arr) bind_field((st), (i), (arr), sizeof(arr))

/* Copies column `col` into dst[size], cut on a UTF-8 boundary when it does not fit. */
static void column_field(sqlite3_stmt *st, int col, char *dst, size_t size)
{
    const char *src = (const char *)sqlite3_column_text(st, col);
    size_t n = src ? (size_t)sqlite3_column_bytes(st, col) : 0;
    if (n >= size) n = utf8_truncate(src, n, size - 1);
    if (n) memcpy(dst, src, n);
    dst[n] = '\0';
}

#define COLUMN_FIELD(st, col, arr) column_field((st), (col), (arr), sizeof(arr))

/* A malloc'ed copy of a text column (the caller owns it), or NULL when memory runs out. */
static char *column_dup(sqlite3_stmt *st, int col)
{
    const char *src = (const char *)sqlite3_column_text(st, col);
    size_t n = src ? (size_t)sqlite3_column_bytes(st, col) : 0;
    char *p = malloc(n + 1);
    if (!p) return NULL;
    if (n) memcpy(p, src, n);
    p[n] = '\0';
    return p;
}

/* Reads RESULT_COLS starting at column `c0`. */
static void read_result(sqlite3_stmt *st, int c0, struct result *r)
{
    memset(r, 0, sizeof *r);
    r->index = sqlite3_column_int(st, c0);
    COLUMN_FIELD(st, c0 + 1, r->model);
    COLUMN_FIELD(st, c0 + 2, r->name);
    COLUMN_FIELD(st, c0 + 3, r->provider);
    enum result_status status;
    if (result_status_parse((const char *)sqlite3_column_text(st, c0 + 4), &status) != 0)
        status = RS_ERROR; /* unreadable row: show it as failed rather than hide the job */
    r->status = status;
    COLUMN_FIELD(st, c0 + 5, r->image_key);
    COLUMN_FIELD(st, c0 + 6, r->thumb_key);
    COLUMN_FIELD(st, c0 + 7, r->content_type);
    r->width = sqlite3_column_int(st, c0 + 8);
    r->height = sqlite3_column_int(st, c0 + 9);
    r->duration_ms = sqlite3_column_int64(st, c0 + 10);
    COLUMN_FIELD(st, c0 + 11, r->error);
    r->started_ms = sqlite3_column_int64(st, c0 + 12);
    r->completed_ms = sqlite3_column_int64(st, c0 + 13);
    r->deadline_ms = sqlite3_column_int64(st, c0 + 14);
}

/* Binds the mutable columns of a result (status .. deadline_ms of RESULT_COLS) from `p0` on. */
static int bind_mutable(sqlite3_stmt *st, int p0, const struct result *r)
{
    int rc = sqlite3_bind_text(st, p0, result_status_name(r->status), -1, SQLITE_STATIC);
    if (rc == SQLITE_OK) rc = BIND_FIELD(st, p0 + 1, r->image_key);
    if (rc == SQLITE_OK) rc = BIND_FIELD(st, p0 + 2, r->thumb_key);
    if (rc == SQLITE_OK) rc = BIND_FIELD(st, p0 + 3, r->content_type);
    if (rc == SQLITE_OK) rc = sqlite3_bind_int(st, p0 + 4, r->width);
    if (rc == SQLITE_OK) rc = sqlite3_bind_int(st, p0 + 5, r->height);
    if (rc == SQLITE_OK) rc = sqlite3_bind_int64(st, p0 + 6, r->duration_ms);
    if (rc == SQLITE_OK) rc = BIND_FIELD(st, p0 + 7, r->error);
    if (rc == SQLITE_OK) rc = sqlite3_bind_int64(st, p0 + 8, r->started_ms);
    if (rc == SQLITE_OK) rc = sqlite3_bind_int64(st, p0 + 9, r->completed_ms);
    if (rc == SQLITE_OK) rc = sqlite3_bind_int64(st, p0 + 10, r->deadline_ms);
    return rc;
}

/* Binds all of a result's columns (RESULT_COLS order) from `p0` on. */
static int bind_result(sqlite3_stmt *st, int p0, const struct result *r)
{
    int rc = sqlite3_bind_int(st, p0, r->index);
    if (rc == SQLITE_OK) rc = BIND_FIELD(st, p0 + 1, r->model);
    if (rc == SQLITE_OK) rc = BIND_FIELD(st, p0 + 2, r->name);
    if (rc == SQLITE_OK) rc = BIND_FIELD(st, p0 + 3, r->provider);
    if (rc == SQLITE_OK) rc = bind_mutable(st, p0 + 4, r);
    return rc;
}

/* ---- operations ------------------------------------------------------------------------------ */

static int sq_ping(struct store *base)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    struct conn *c = reader_acquire(s);
    sqlite3_stmt *st = stmt(c, ST_PING);
    int rc = st ? sqlite3_step(st) : SQLITE_ERROR;
    if (st) sqlite3_reset(st);
    conn_release(c);
    return rc == SQLITE_ROW ? STORE_OK : STORE_UNAVAILABLE;
}

/* Housekeeping inside the caller's write transaction, at most once a minute: both deletes run on
 * an index over the expiry, so each costs only the rows it removes. */
static int maybe_purge(struct sqlite_store *s, int64_t now_ms)
{
    int64_t mono = clock_mono_ms();
    if (mono < s->next_purge_mono_ms) return SQLITE_OK;
    s->next_purge_mono_ms = mono + PURGE_EVERY_MS;
    struct conn *c = &s->writer;
    sqlite3_stmt *st = stmt(c, ST_QUOTA_PURGE);
    if (!st) return SQLITE_ERROR;
    sqlite3_bind_int64(st, 1, now_ms);
    int rc = exec_stmt(st);
    if (rc == SQLITE_OK && s->idem_ttl_max_ms > 0) {
        st = stmt(c, ST_IDEM_PURGE);
        if (!st) return SQLITE_ERROR;
        sqlite3_bind_int64(st, 1, now_ms - s->idem_ttl_max_ms);
        rc = exec_stmt(st);
    }
    return rc;
}

/* Recomputes image_count/preview and the gallery flag of one job, moving the gallery counter when
 * the job enters or leaves it. Runs inside the caller's write transaction. */
static int refresh_gallery(struct conn *c, const char *job_id, int64_t now_ms)
{
    sqlite3_stmt *st = stmt(c, ST_JOB_REFRESH);
    if (!st) return SQLITE_ERROR;
    sqlite3_bind_text(st, 1, job_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now_ms);
    int rc = exec_stmt(st);
    if (rc != SQLITE_OK) return rc;

    st = stmt(c, ST_GALLERY_SYNC);
    if (!st) return SQLITE_ERROR;
    sqlite3_bind_text(st, 1, job_id, -1, SQLITE_STATIC);
    int delta = 0;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        delta = sqlite3_column_int(st, 0) ? 1 : -1;
        rc = sqlite3_step(st);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return rc;
    if (delta == 0) return SQLITE_OK;

    st = stmt(c, ST_COUNTER_ADD);
    if (!st) return SQLITE_ERROR;
    sqlite3_bind_text(st, 1, "gallery", -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, delta);
    return exec_stmt(st);
}

static int sq_create_job(struct store *base, const struct job *job, const char *idem_key,
                         int64_t idem_ttl_ms, char existing_id[ID_LEN + 1])
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    struct conn *c = &s->writer;
    int64_t now = clock_wall_ms();
    int rc = SQLITE_OK;
    bool has_image = false;
    sqlite3_stmt *st;

    pthread_mutex_lock(&c->mu);
    rc = exec_id(c, ST_BEGIN_IMMEDIATE);
    if (rc != SQLITE_OK) goto fail;

    if (idem_key) {
        if (idem_ttl_ms > s->idem_ttl_max_ms) s->idem_ttl_max_ms = idem_ttl_ms;
        if (!(st = stmt(c, ST_IDEM_GET))) goto fail_err;
        sqlite3_bind_text(st, 1, idem_key, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW && now - sqlite3_column_int64(st, 1) < idem_ttl_ms) {
            column_field(st, 0, existing_id, ID_LEN + 1);
            sqlite3_reset(st);
            rollback(c);
            pthread_mutex_unlock(&c->mu);
            return STORE_EXISTS;
        }
        sqlite3_reset(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) goto fail;
    }

    if (!(st = stmt(c, ST_JOB_INSERT))) goto fail_err;
    sqlite3_bind_text(st, 1, job->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, job->prompt, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, job->created_ms);
    sqlite3_bind_int64(st, 4, job->updated_ms ? job->updated_ms : job->created_ms);
    sqlite3_bind_int(st, 5, job->n_results);
    if ((rc = exec_stmt(st)) != SQLITE_OK) goto fail;

    if (!(st = stmt(c, ST_RESULT_INSERT))) goto fail_err;
    for (int i = 0; i < job->n_results; i++) {
        const struct result *r = &job->results[i];
        sqlite3_bind_text(st, 1, job->id, -1, SQLITE_STATIC);
        if ((rc = bind_result(st, 2, r)) != SQLITE_OK) goto fail;
        if ((rc = exec_stmt(st)) != SQLITE_OK) goto fail;
        if (r->status == RS_COMPLETED && r->image_key[0]) has_image = true;
    }
    if (has_image && (rc = refresh_gallery(c, job->id, job->created_ms)) != SQLITE_OK) goto fail;

    if (idem_key) {
        if (!(st = stmt(c, ST_IDEM_PUT))) goto fail_err;
        sqlite3_bind_text(st, 1, idem_key, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, job->id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, now);
        if ((rc = exec_stmt(st)) != SQLITE_OK) goto fail;
    }
    if ((rc = maybe_purge(s, now)) != SQLITE_OK) goto fail;
    if ((rc = exec_id(c, ST_COMMIT)) != SQLITE_OK) goto fail;
    pthread_mutex_unlock(&c->mu);
    return STORE_OK;

fail_err:
    rc = sqlite3_errcode(c->db);
    if (rc == SQLITE_OK) rc = SQLITE_ERROR;
fail:
    rollback(c);
    pthread_mutex_unlock(&c->mu);
    return map_rc(rc);
}

static int sq_get_job(struct store *base, const char *job_id, struct job *out)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    struct conn *c = reader_acquire(s);
    sqlite3_stmt *st = stmt(c, ST_GET_JOB);
    int rc = SQLITE_ERROR, cap = 0;
    bool found = false;
    if (!st) goto done;
    sqlite3_bind_text(st, 1, job_id, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!found) {
            found = true;
            memcpy(out->id, job_id, ID_LEN + 1);
            out->prompt = column_dup(st, 0); /* owned by out */
            if (!out->prompt) {
                rc = SQLITE_NOMEM;
                break;
            }
            out->created_ms = sqlite3_column_int64(st, 1);
            out->updated_ms = sqlite3_column_int64(st, 2);
        }
        if (sqlite3_column_type(st, 3) == SQLITE_NULL) continue; /* a job without results */
        if (out->n_results == cap) {
            int ncap = cap ? cap * 2 : 4;
            struct result *nr = realloc(out->results, sizeof *nr * (size_t)ncap);
            if (!nr) {
                rc = SQLITE_NOMEM;
                break;
            }
            out->results = nr;
            cap = ncap;
        }
        read_result(st, 3, &out->results[out->n_results++]);
    }
done:
    if (st) sqlite3_reset(st);
    conn_release(c);
    if (rc != SQLITE_DONE) {
        job_clear(out);
        return map_rc(rc == SQLITE_ROW ? SQLITE_ERROR : rc);
    }
    if (!found) return STORE_NOT_FOUND;
    return STORE_OK;
}

static int sq_update_result(struct store *base, const char *job_id, const struct result *r,
                            unsigned from_mask)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    struct conn *c = &s->writer;
    int64_t now = clock_wall_ms();
    char allowed[96] = ","; /* e.g. ",pending,in_progress," */
    for (int i = RS_PENDING; i <= RS_CANCELLED; i++) {
        if (!(from_mask & RS_BIT(i))) continue;
        strcat(allowed, result_status_name((enum result_status)i));
        strcat(allowed, ",");
    }
    /* The gallery can only change when a row becomes, or may stop being, completed. */
    bool gallery = r->status == RS_COMPLETED || (from_mask & RS_BIT(RS_COMPLETED));
    sqlite3_stmt *st;
    int rc;

    pthread_mutex_lock(&c->mu);
    if ((rc = exec_id(c, ST_BEGIN_IMMEDIATE)) != SQLITE_OK) goto fail;
    if (!(st = stmt(c, ST_RESULT_UPDATE))) goto fail_err;
    sqlite3_bind_text(st, 1, job_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, r->index);
    if ((rc = bind_mutable(st, 3, r)) != SQLITE_OK) goto fail;
    sqlite3_bind_text(st, 14, allowed, -1, SQLITE_STATIC);
    if ((rc = exec_stmt(st)) != SQLITE_OK) goto fail;

    if (sqlite3_changes(c->db) == 0) {
        if (!(st = stmt(c, ST_RESULT_EXISTS))) goto fail_err;
        sqlite3_bind_text(st, 1, job_id, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, r->index);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) goto fail;
        rollback(c); /* nothing was written */
        pthread_mutex_unlock(&c->mu);
        return rc == SQLITE_ROW ? STORE_CONFLICT : STORE_NOT_FOUND;
    }

    if (gallery) {
        if ((rc = refresh_gallery(c, job_id, now)) != SQLITE_OK) goto fail;
    } else {
        if (!(st = stmt(c, ST_JOB_TOUCH))) goto fail_err;
        sqlite3_bind_text(st, 1, job_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, now);
        if ((rc = exec_stmt(st)) != SQLITE_OK) goto fail;
    }
    if ((rc = exec_id(c, ST_COMMIT)) != SQLITE_OK) goto fail;
    pthread_mutex_unlock(&c->mu);
    return STORE_OK;

fail_err:
    rc = sqlite3_errcode(c->db);
    if (rc == SQLITE_OK) rc = SQLITE_ERROR;
fail:
    rollback(c);
    pthread_mutex_unlock(&c->mu);
    return map_rc(rc);
}

/* Cursor: "<created_ms>_<job id>" of the last entry shown; the next page starts strictly after
 * it. Anything else is STORE_INVALID. */
static int parse_cursor(const char *cursor, int64_t *ms, char id[ID_LEN + 1])
{
    if (!cursor[0]) {
        *ms = INT64_MAX; /* (created_ms, id) < (INT64_MAX, "") holds for every entry */
        id[0] = '\0';
        return 0;
    }
    int64_t v = 0;
    const char *p = cursor;
    if (*p < '0' || *p > '9') return -1;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (INT64_MAX - 9) / 10) return -1;
        v = v * 10 + (*p - '0');
    }
    if (*p != '_' || !id_is_valid(p + 1)) return -1;
    *ms = v;
    memcpy(id, p + 1, ID_LEN + 1);
    return 0;
}

static int sq_gallery_list(struct store *base, int limit, const char *cursor,
                           struct gallery_page *out)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    int64_t after_ms;
    char after_id[ID_LEN + 1];
    if (parse_cursor(cursor, &after_ms, after_id) != 0) return STORE_INVALID;
    out->entries = calloc((size_t)limit, sizeof *out->entries); /* owned by out */
    if (!out->entries) return STORE_NOMEM;

    struct conn *c = reader_acquire(s);
    sqlite3_stmt *st = NULL;
    bool more = false;
    /* One read transaction, so the total matches the page. */
    int rc = exec_id(c, ST_BEGIN);
    if (rc != SQLITE_OK) goto done;
    if (!(st = stmt(c, ST_GALLERY_PAGE))) {
        rc = SQLITE_ERROR;
        goto done;
    }
    sqlite3_bind_int64(st, 1, after_ms);
    sqlite3_bind_text(st, 2, after_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, limit + 1); /* one more than shown tells whether a next page exists */
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (out->n == limit) {
            more = true;
            continue;
        }
        struct gallery_entry *e = &out->entries[out->n];
        COLUMN_FIELD(st, 0, e->id);
        e->created_ms = sqlite3_column_int64(st, 1);
        e->prompt = column_dup(st, 2); /* owned by the page */
        if (!e->prompt) {
            rc = SQLITE_NOMEM;
            break;
        }
        COLUMN_FIELD(st, 3, e->preview_key);
        e->image_count = sqlite3_column_int(st, 4);
        out->n++;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) goto done;

    st = stmt(c, ST_GALLERY_TOTAL);
    rc = st ? sqlite3_step(st) : SQLITE_ERROR;
    if (rc == SQLITE_ROW) {
        out->total = (long)sqlite3_column_int64(st, 0);
        rc = SQLITE_DONE;
    }
    if (st) sqlite3_reset(st);
done:
    if (rc == SQLITE_DONE)
        rc = exec_id(c, ST_COMMIT);
    else
        rollback(c);
    conn_release(c);
    if (rc != SQLITE_OK) {
        gallery_page_clear(out);
        return map_rc(rc);
    }
    if (more) {
        const struct gallery_entry *last = &out->entries[out->n - 1];
        snprintf(out->next_cursor, sizeof out->next_cursor, "%" PRId64 "_%s", last->created_ms,
                 last->id);
    }
    return STORE_OK;
}

static int sq_quota_take(struct store *base, const char *key, long limit, int64_t expires_ms,
                         bool *allowed, long *count)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    struct conn *c = &s->writer;
    int64_t now = clock_wall_ms();
    sqlite3_stmt *st;
    int rc;
    *allowed = false;
    *count = 0;

    pthread_mutex_lock(&c->mu);
    if ((rc = exec_id(c, ST_BEGIN_IMMEDIATE)) != SQLITE_OK) goto fail;
    if (limit > 0) {
        if (!(st = stmt(c, ST_QUOTA_TAKE))) goto fail_err;
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, expires_ms);
        sqlite3_bind_int64(st, 3, now);
        sqlite3_bind_int64(st, 4, limit);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) { /* the insert or the increment applied */
            *allowed = true;
            *count = (long)sqlite3_column_int64(st, 0);
            rc = sqlite3_step(st);
        }
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) goto fail;
    }
    if (!*allowed) {
        if (!(st = stmt(c, ST_QUOTA_GET))) goto fail_err;
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *count = (long)sqlite3_column_int64(st, 0);
            rc = SQLITE_DONE;
        }
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) goto fail;
    }
    if ((rc = maybe_purge(s, now)) != SQLITE_OK) goto fail;
    if ((rc = exec_id(c, ST_COMMIT)) != SQLITE_OK) goto fail;
    pthread_mutex_unlock(&c->mu);
    return STORE_OK;

fail_err:
    rc = sqlite3_errcode(c->db);
    if (rc == SQLITE_OK) rc = SQLITE_ERROR;
fail:
    rollback(c);
    pthread_mutex_unlock(&c->mu);
    *allowed = false;
    *count = 0;
    return map_rc(rc);
}

static int sq_quota_release(struct store *base, const char *key)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    struct conn *c = &s->writer;
    pthread_mutex_lock(&c->mu);
    sqlite3_stmt *st = stmt(c, ST_QUOTA_RELEASE);
    int rc = SQLITE_ERROR;
    if (st) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        rc = exec_stmt(st); /* a single statement is its own transaction */
    }
    pthread_mutex_unlock(&c->mu);
    return map_rc(rc);
}

static int sq_recover_interrupted(struct store *base, int64_t before_ms, int64_t now_ms,
                                  int *n_marked)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    struct conn *c = &s->writer;
    sqlite3_stmt *st;
    int rc;

    pthread_mutex_lock(&c->mu);
    if ((rc = exec_id(c, ST_BEGIN_IMMEDIATE)) != SQLITE_OK) goto fail;
    /* Jobs first: the subquery still sees the rows as unfinished. */
    if (!(st = stmt(c, ST_RECOVER_TOUCH))) goto fail_err;
    sqlite3_bind_int64(st, 1, before_ms);
    sqlite3_bind_int64(st, 2, now_ms);
    if ((rc = exec_stmt(st)) != SQLITE_OK) goto fail;
    if (!(st = stmt(c, ST_RECOVER))) goto fail_err;
    sqlite3_bind_int64(st, 1, before_ms);
    sqlite3_bind_int64(st, 2, now_ms);
    if ((rc = exec_stmt(st)) != SQLITE_OK) goto fail;
    int n = sqlite3_changes(c->db);
    if ((rc = exec_id(c, ST_COMMIT)) != SQLITE_OK) goto fail;
    pthread_mutex_unlock(&c->mu);
    *n_marked = n;
    return STORE_OK;

fail_err:
    rc = sqlite3_errcode(c->db);
    if (rc == SQLITE_OK) rc = SQLITE_ERROR;
fail:
    rollback(c);
    pthread_mutex_unlock(&c->mu);
    return map_rc(rc);
}

const struct store_ops store_sqlite_ops = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .ping = sq_ping,
    .create_job = sq_create_job,
    .get_job = sq_get_job,
    .update_result = sq_update_result,
    .gallery_list = sq_gallery_list,
    .quota_take = sq_quota_take,
    .quota_release = sq_quota_release,
    .recover_interrupted = sq_recover_interrupted,
};
