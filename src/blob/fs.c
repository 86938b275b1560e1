/* Blobs as files under DATA_DIR/blobs/<key>.
 *
 * Every path is opened relative to one directory descriptor (openat and friends), so a key can only
 * name something below the blobs directory; keys are checked with blob_key_is_valid here as well as
 * in blob.c, and the last component is opened with O_NOFOLLOW.
 *
 * Writes are atomic and durable: the bytes go to "<dir>/.tmp-<random>" (O_CREAT|O_EXCL, same
 * directory, so the rename never crosses a file system), the file is fsync'ed, renamed over the
 * final name, and the directory is fsync'ed too. Puts are rare (one per generated image) and the
 * directory fsync means a stored result row never points at an image a power cut took back.
 * A crash leaves at worst a ".tmp-" file; blob_open removes those older than a minute.
 *
 * The content type is not stored: it follows from the key's extension (blob_content_type_for).
 * The ETag is derived from inode, size and mtime (ns), which change on every put. */
#include "blob/blob_impl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app/config.h"
#include "util/ids.h"

#define TMP_PREFIX ".tmp-"
#define STALE_TMP_AGE_S 60
#define SWEEP_MAX_DEPTH 64

struct blob_fs {
    struct blob base;
    int rootfd; /* DATA_DIR/blobs, owned */
};

static int put_errno(int e)
{
    switch (e) {
    case ENOMEM:
        return BLOB_NOMEM;
    case EFBIG:
        return BLOB_TOO_LARGE;
    case ENOTDIR: /* a parent of the key is a file */
    case EISDIR:  /* the key names a directory */
    case ENAMETOOLONG:
    case ELOOP:
        return BLOB_INVALID;
    default: /* EIO, ENOSPC, EDQUOT, EROFS, EACCES, ... */
        return BLOB_UNAVAILABLE;
    }
}

static int get_errno(int e)
{
    switch (e) {
    case ENOENT:
    case ENOTDIR:
    case ELOOP: /* a symlink planted in the tree is not a blob */
        return BLOB_NOT_FOUND;
    case ENOMEM:
        return BLOB_NOMEM;
    case ENAMETOOLONG:
        return BLOB_INVALID;
    default:
        return BLOB_UNAVAILABLE;
    }
}

/* mkdir -p of an ordinary path (DATA_DIR itself). */
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

/* Creates every parent directory of `key` below rootfd. */
static int mkdir_parents_at(int rootfd, const char *key)
{
    char tmp[256];
    size_t n = strlen(key);
    if (n >= sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(tmp, key, n + 1);
    for (char *p = tmp; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdirat(rootfd, tmp, 0755) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    return 0;
}

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

static int fsync_dir_at(int rootfd, const char *dir)
{
    int fd = openat(rootfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

/* Removes ".tmp-" files older than a minute in dirfd and below. Best effort: a sweep that cannot
 * read a directory just skips it. Takes ownership of dirfd. */
static void sweep_stale_tmp(int dirfd, int depth, time_t now)
{
    DIR *d = fdopendir(dirfd);
    if (!d) {
        close(dirfd);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *name = e->d_name;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) continue;
        struct stat st;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        if (S_ISREG(st.st_mode) && strncmp(name, TMP_PREFIX, strlen(TMP_PREFIX)) == 0) {
            if (st.st_mtime + STALE_TMP_AGE_S < now) unlinkat(dirfd, name, 0);
        } else if (S_ISDIR(st.st_mode) && depth < SWEEP_MAX_DEPTH) {
            int sub = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub >= 0) sweep_stale_tmp(sub, depth + 1, now);
        }
    }
    closedir(d); /* closes dirfd */
}

static struct blob *fs_open(const struct config *cfg, char *err, size_t errlen)
{
    const char *dir = cfg->data_dir[0] ? cfg->data_dir : "./data";
    if (mkdir_p(dir, 0700) != 0) {
        snprintf(err, errlen, "DATA_DIR: cannot create %.200s: %s", dir, strerror(errno));
        return NULL;
    }
    int datafd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (datafd < 0) {
        snprintf(err, errlen, "DATA_DIR: cannot open %.200s: %s", dir, strerror(errno));
        return NULL;
    }
    if (mkdirat(datafd, "blobs", 0755) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "DATA_DIR: cannot create %.200s/blobs: %s", dir, strerror(errno));
        close(datafd);
        return NULL;
    }
    int rootfd = openat(datafd, "blobs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int e = errno;
    close(datafd);
    if (rootfd < 0) {
        snprintf(err, errlen, "DATA_DIR: cannot open %.200s/blobs: %s", dir, strerror(e));
        return NULL;
    }
    int sweepfd = dup(rootfd);
    if (sweepfd >= 0) sweep_stale_tmp(sweepfd, 0, time(NULL));

    struct blob_fs *fs = calloc(1, sizeof *fs);
    if (!fs) {
        close(rootfd);
        snprintf(err, errlen, "BLOBS: out of memory");
        return NULL;
    }
    fs->base.ops = &blob_fs_ops;
    fs->rootfd = rootfd;
    return &fs->base;
}

static void fs_close(struct blob *b)
{
    struct blob_fs *fs = (struct blob_fs *)b;
    close(fs->rootfd);
    free(fs);
}

static int fs_ping(struct blob *b)
{
    struct blob_fs *fs = (struct blob_fs *)b;
    struct stat st;
    if (fstat(fs->rootfd, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_nlink == 0)
        return BLOB_UNAVAILABLE;
    if (faccessat(fs->rootfd, ".", W_OK | X_OK, AT_EACCESS) != 0) return BLOB_UNAVAILABLE;
    return BLOB_OK;
}

static int fs_put(struct blob *b, const char *key, const void *data, size_t len,
                  const char *content_type)
{
    (void)content_type; /* implied by the key's extension */
    struct blob_fs *fs = (struct blob_fs *)b;
    if (!blob_key_is_valid(key)) return BLOB_INVALID;

    const char *slash = strrchr(key, '/');
    size_t dirlen = slash ? (size_t)(slash - key) : 0;
    char dir[256], tmp[256 + 32]; /* keys are at most 200 bytes (blob_key_is_valid) */
    if (dirlen) {
        memcpy(dir, key, dirlen);
        dir[dirlen] = '\0';
    } else {
        strcpy(dir, ".");
    }
    unsigned char rnd[8];
    if (id_random_bytes(rnd, sizeof rnd) != 0) return BLOB_UNAVAILABLE;
    snprintf(tmp, sizeof tmp, "%s/" TMP_PREFIX "%02x%02x%02x%02x%02x%02x%02x%02x", dir, rnd[0],
             rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);

    int fd = openat(fs->rootfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 && errno == ENOENT) {
        if (mkdir_parents_at(fs->rootfd, key) != 0) return put_errno(errno);
        fd = openat(fs->rootfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    }
    if (fd < 0) return put_errno(errno);

    if (write_all(fd, data, len) != 0 || fsync(fd) != 0) {
        int e = errno;
        close(fd);
        unlinkat(fs->rootfd, tmp, 0);
        return put_errno(e);
    }
    if (close(fd) != 0) { /* NFS and friends report deferred write errors here */
        int e = errno;
        unlinkat(fs->rootfd, tmp, 0);
        return put_errno(e);
    }
    if (renameat(fs->rootfd, tmp, fs->rootfd, key) != 0) {
        int e = errno;
        unlinkat(fs->rootfd, tmp, 0);
        return put_errno(e);
    }
    if (fsync_dir_at(fs->rootfd, dir) != 0) return put_errno(errno);
    return BLOB_OK;
}

static int fs_get(struct blob *b, const char *key, struct buf *out, char content_type[64],
                  char etag[64])
{
    struct blob_fs *fs = (struct blob_fs *)b;
    if (!blob_key_is_valid(key)) return BLOB_INVALID;
    int fd = openat(fs->rootfd, key, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return get_errno(errno);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return get_errno(e);
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return BLOB_NOT_FOUND;
    }
    size_t start = out->len;
    if (buf_reserve(out, (size_t)st.st_size) != 0) {
        close(fd);
        return BLOB_NOMEM;
    }
    for (;;) {
        if (buf_reserve(out, 4096) != 0) {
            close(fd);
            out->len = start;
            if (out->data) out->data[start] = '\0';
            return BLOB_NOMEM;
        }
        ssize_t r = read(fd, out->data + out->len, out->cap - out->len - 1);
        if (r < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            close(fd);
            out->len = start;
            out->data[start] = '\0';
            return get_errno(e);
        }
        if (r == 0) break;
        out->len += (size_t)r;
    }
    out->data[out->len] = '\0';
    close(fd);
    if (content_type) snprintf(content_type, 64, "%s", blob_content_type_for(key));
    if (etag) {
        snprintf(etag, 64, "\"%llx-%llx-%llx\"", (unsigned long long)st.st_ino,
                 (unsigned long long)st.st_size,
                 (unsigned long long)st.st_mtim.tv_sec * 1000000000ull +
                     (unsigned long long)st.st_mtim.tv_nsec);
    }
    return BLOB_OK;
}

/* Deleting a missing key succeeds, as on S3, so callers can retry deletes freely. */
static int fs_del(struct blob *b, const char *key)
{
    struct blob_fs *fs = (struct blob_fs *)b;
    if (!blob_key_is_valid(key)) return BLOB_INVALID;
    if (unlinkat(fs->rootfd, key, 0) != 0) {
        if (errno == ENOENT || errno == ENOTDIR) return BLOB_OK;
        return put_errno(errno);
    }
    return BLOB_OK;
}

const struct blob_ops blob_fs_ops = {
    .name = "fs",
    .open = fs_open,
    .close = fs_close,
    .ping = fs_ping,
    .put = fs_put,
    .get = fs_get,
    .del = fs_del,
};
