/* What only the fs blob backend promises: atomic writes leave no temp files, a crash's temp files
 * are swept on open, and no key (nor a planted symlink) reaches outside DATA_DIR/blobs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "app/config.h"
#include "blob/blob.h"
#include "util/buf.h"

struct fixture {
    char root[128]; /* mkdtemp; DATA_DIR is root/data so "above DATA_DIR" is observable */
    char data[160]; /* root/data */
    char blobs[192];
    struct config cfg;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f) return -1;
    const char *tmp = getenv("TMPDIR");
    snprintf(f->root, sizeof f->root, "%s/pixelprompt-fsblob-test-XXXXXX",
             tmp && tmp[0] ? tmp : "/tmp");
    if (!mkdtemp(f->root)) return -1;
    snprintf(f->data, sizeof f->data, "%s/data", f->root);
    snprintf(f->blobs, sizeof f->blobs, "%s/blobs", f->data);
    memset(&f->cfg, 0, sizeof f->cfg);
    snprintf(f->cfg.blobs, sizeof f->cfg.blobs, "fs");
    snprintf(f->cfg.store, sizeof f->cfg.store, "sqlite");
    snprintf(f->cfg.data_dir, sizeof f->cfg.data_dir, "%s", f->data);
    *state = f;
    return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    int rc = nftw(f->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return rc == 0 ? 0 : -1;
}

static struct blob *open_fs(struct fixture *f)
{
    char err[256];
    struct blob *b = blob_open(&f->cfg, err, sizeof err);
    if (!b) fprintf(stderr, "blob_open: %s\n", err);
    assert_non_null(b);
    return b;
}

/* Counts regular files below dir whose name starts with prefix ("" counts every file). */
static int count_files(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(path, &st) != 0) continue;
        if (S_ISDIR(st.st_mode))
            n += count_files(path, prefix);
        else if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
            n++;
    }
    closedir(d);
    return n;
}

static void exists(const char *path, bool want)
{
    struct stat st;
    bool got = lstat(path, &st) == 0;
    if (got != want) fail_msg("%s: expected %s", path, want ? "present" : "absent");
}

static void data_dir_is_private(void **state)
{
    struct fixture *f = *state;
    struct blob *b = open_fs(f);
    struct stat st;
    assert_int_equal(stat(f->data, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    blob_close(b);
}

static void puts_leave_no_temp_files(void **state)
{
    struct fixture *f = *state;
    struct blob *b = open_fs(f);
    char key[128];
    for (int i = 0; i < 20; i++) {
        snprintf(key, sizeof key, "images/job-%d/%d-model.png", i % 4, i);
        assert_int_equal(blob_put(b, key, "0123456789", 10, "image/png"), BLOB_OK);
        assert_int_equal(blob_put(b, key, "abc", 3, "image/png"), BLOB_OK); /* overwrite */
    }
    assert_int_equal(blob_put(b, "top.json", "{}", 2, "application/json"), BLOB_OK);
    assert_int_equal(count_files(f->blobs, ".tmp-"), 0);
    assert_int_equal(count_files(f->blobs, ""), 21);

    /* a put that cannot complete (the key names a directory) cleans up too */
    assert_int_equal(blob_put(b, "images/job-1", "x", 1, "text/plain"), BLOB_INVALID);
    assert_int_equal(count_files(f->blobs, ".tmp-"), 0);
    exists(f->blobs, true);
    blob_close(b);
}

static void stale_temp_files_are_swept_on_open(void **state)
{
    struct fixture *f = *state;
    blob_close(open_fs(f)); /* creates the tree */
    char dir[512], stale[640], fresh[640], top[640];
    snprintf(dir, sizeof dir, "%s/images", f->blobs);
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(dir, sizeof dir, "%s/images/job", f->blobs);
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(stale, sizeof stale, "%s/.tmp-deadbeef", dir);
    snprintf(fresh, sizeof fresh, "%s/.tmp-cafebabe", dir); /* maybe another process writing */
    snprintf(top, sizeof top, "%s/.tmp-0001", f->blobs);
    const char *paths[] = {stale, fresh, top};
    for (int i = 0; i < 3; i++) {
        int fd = open(paths[i], O_WRONLY | O_CREAT | O_EXCL, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, "half", 4), 4);
        close(fd);
    }
    struct timespec old[2] = {{.tv_sec = time(NULL) - 120}, {.tv_sec = time(NULL) - 120}};
    assert_int_equal(utimensat(AT_FDCWD, stale, old, 0), 0);
    assert_int_equal(utimensat(AT_FDCWD, top, old, 0), 0);

    struct blob *b = open_fs(f);
    exists(stale, false);
    exists(top, false);
    exists(fresh, true);
    blob_close(b);
}

static void traversal_never_leaves_the_data_dir(void **state)
{
    struct fixture *f = *state;
    struct blob *b = open_fs(f);
    static const char *const keys[] = {
        "../escape.png",   "../../escape.png",       "images/../../escape.png",
        "/tmp/escape.png", "images//escape.png",     "..",
        "images/..",       "images\\..\\escape.png",
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        assert_int_equal(blob_put(b, keys[i], "x", 1, "image/png"), BLOB_INVALID);
    char path[512];
    snprintf(path, sizeof path, "%s/escape.png", f->root);
    exists(path, false);
    snprintf(path, sizeof path, "%s/escape.png", f->data);
    exists(path, false);
    exists("/tmp/escape.png", false);
    assert_int_equal(count_files(f->root, ""), 0);

    /* A symlink planted in the tree is neither followed on read nor written through. */
    char outside[512], link[512];
    snprintf(outside, sizeof outside, "%s/secret.txt", f->root);
    FILE *fp = fopen(outside, "w");
    assert_non_null(fp);
    fputs("secret", fp);
    fclose(fp);
    snprintf(link, sizeof link, "%s/link.png", f->blobs);
    assert_int_equal(symlink(outside, link), 0);
    struct buf out = BUF_INIT;
    assert_int_equal(blob_get(b, "link.png", &out, NULL, NULL), BLOB_NOT_FOUND);
    assert_int_equal(blob_put(b, "link.png", "new", 3, "image/png"), BLOB_OK);
    assert_int_equal(blob_get(b, "link.png", &out, NULL, NULL), BLOB_OK);
    assert_string_equal(out.data, "new");
    buf_free(&out);
    fp = fopen(outside, "r");
    char got[16] = "";
    assert_non_null(fgets(got, sizeof got, fp));
    fclose(fp);
    assert_string_equal(got, "secret");
    blob_close(b);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(data_dir_is_private),
        T(puts_leave_no_temp_files),
        T(stale_temp_files_are_swept_on_open),
        T(traversal_never_leaves_the_data_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
