/* The block layer's front: format choice, range checks, the -snapshot
 * overlay, and the raw driver (the image file is the disk). */
#include "block/block.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int bdrv_host_pread(int fd, uint64_t off, void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len) {
        ssize_t n = pread(fd, p, len, (off_t)off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0) {          /* past the end of the file reads as zeros */
            memset(p, 0, len);
            return 0;
        }
        p += n; off += (uint64_t)n; len -= (size_t)n;
    }
    return 0;
}

int bdrv_host_pwrite(int fd, uint64_t off, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len) {
        ssize_t n = pwrite(fd, p, len, (off_t)off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            return -EIO;
        p += n; off += (uint64_t)n; len -= (size_t)n;
    }
    return 0;
}

/* ---- raw ---- */

typedef struct RawState { int fd; } RawState;

static int raw_open(BlockDriverState *bs, const char *path, bool read_only,
                    char *err, size_t errlen)
{
    RawState *s = calloc(1, sizeof(*s));
    struct stat st;
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    s->fd = open(path, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    if (s->fd < 0 || fstat(s->fd, &st)) {
        snprintf(err, errlen, "could not open '%s': %s", path,
                 strerror(errno));
        if (s->fd >= 0)
            close(s->fd);
        free(s);
        return -1;
    }
    if (S_ISBLK(st.st_mode)) {
        off_t end = lseek(s->fd, 0, SEEK_END);
        bs->size = end > 0 ? (uint64_t)end : 0;
    } else {
        bs->size = (uint64_t)st.st_size;
    }
    bs->opaque = s;
    return 0;
}

static int raw_read(BlockDriverState *bs, uint64_t off, void *buf, size_t len)
{
    return bdrv_host_pread(((RawState *)bs->opaque)->fd, off, buf, len);
}

static int raw_write(BlockDriverState *bs, uint64_t off, const void *buf,
                     size_t len)
{
    return bdrv_host_pwrite(((RawState *)bs->opaque)->fd, off, buf, len);
}

static int raw_flush(BlockDriverState *bs)
{
    return fdatasync(((RawState *)bs->opaque)->fd) ? -errno : 0;
}

static void raw_close(BlockDriverState *bs)
{
    RawState *s = bs->opaque;
    close(s->fd);
    free(s);
}

const BlockDriver bdrv_raw = {
    .format_name = "raw",
    .open = raw_open, .read = raw_read, .write = raw_write,
    .flush = raw_flush, .close = raw_close,
};

/* ---- the generic layer ---- */

static const BlockDriver *find_driver(const char *name)
{
    if (!strcmp(name, "raw"))
        return &bdrv_raw;
    if (!strcmp(name, "qcow2"))
        return &bdrv_qcow2;
    return NULL;
}

static const BlockDriver *probe(const char *path, char *err, size_t errlen)
{
    uint8_t magic[4] = { 0 };
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "could not open '%s': %s", path,
                 strerror(errno));
        return NULL;
    }
    ssize_t n = pread(fd, magic, sizeof(magic), 0);
    close(fd);
    if (n == 4 && !memcmp(magic, "QFI\xfb", 4))
        return &bdrv_qcow2;
    return &bdrv_raw;
}

BlockDriverState *bdrv_open(const char *path, const char *format, int flags,
                            char *err, size_t errlen)
{
    const BlockDriver *drv;
    bool ro = flags & BDRV_O_RDONLY;
    if (format) {
        drv = find_driver(format);
        if (!drv) {
            snprintf(err, errlen, "unknown driver format '%s' (raw, qcow2)",
                     format);
            return NULL;
        }
    } else {
        drv = probe(path, err, errlen);
        if (!drv)
            return NULL;
        if (drv == &bdrv_raw && !ro && !(flags & BDRV_O_SNAPSHOT))
            fprintf(stderr, "kestrel: warning: image format was not "
                    "specified for '%s' and probing guessed raw; specify "
                    "format=raw to silence this warning\n", path);
    }
    BlockDriverState *bs = calloc(1, sizeof(*bs));
    if (!bs) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    bs->drv = drv;
    bs->snapshot = flags & BDRV_O_SNAPSHOT;
    /* A snapshot never touches the image, so the file is opened
     * read-only; a file we may not write is opened read-only too and
     * the disk then refuses writes (as readonly=on). */
    bool open_ro = ro || bs->snapshot;
    if (!open_ro && access(path, W_OK) && errno == EACCES)
        open_ro = ro = true;
    bs->read_only = ro;
    if (drv->open(bs, path, open_ro, err, errlen)) {
        free(bs);
        return NULL;
    }
    bs->filename = strdup(path);
    if (bs->snapshot) {
        bs->ovl_chunks = (bs->size + BDRV_OVL_CHUNK - 1) / BDRV_OVL_CHUNK;
        bs->ovl = calloc(bs->ovl_chunks ? bs->ovl_chunks : 1,
                         sizeof(*bs->ovl));
        if (!bs->ovl) {
            snprintf(err, errlen, "out of memory");
            bdrv_close(bs);
            return NULL;
        }
    }
    return bs;
}

static bool in_range(const BlockDriverState *bs, uint64_t off, size_t len)
{
    return off <= bs->size && len <= bs->size - off;
}

int bdrv_pread(BlockDriverState *bs, uint64_t off, void *buf, size_t len)
{
    if (!in_range(bs, off, len))
        return -EINVAL;
    if (!bs->snapshot)
        return bs->drv->read(bs, off, buf, len);
    uint8_t *p = buf;
    while (len) {
        uint64_t c = off / BDRV_OVL_CHUNK, in = off % BDRV_OVL_CHUNK;
        size_t n = BDRV_OVL_CHUNK - in;
        if (n > len)
            n = len;
        if (bs->ovl[c]) {
            memcpy(p, bs->ovl[c] + in, n);
        } else {
            int r = bs->drv->read(bs, off, p, n);
            if (r)
                return r;
        }
        p += n; off += n; len -= n;
    }
    return 0;
}

int bdrv_pwrite(BlockDriverState *bs, uint64_t off, const void *buf,
                size_t len)
{
    if (!in_range(bs, off, len))
        return -EINVAL;
    if (bs->read_only)
        return -EROFS;
    if (!bs->snapshot)
        return bs->drv->write(bs, off, buf, len);
    const uint8_t *p = buf;
    while (len) {
        uint64_t c = off / BDRV_OVL_CHUNK, in = off % BDRV_OVL_CHUNK;
        size_t n = BDRV_OVL_CHUNK - in;
        if (n > len)
            n = len;
        if (!bs->ovl[c]) {
            /* First write here: copy the chunk up from the image. */
            uint64_t start = c * BDRV_OVL_CHUNK;
            uint64_t clen = bs->size - start < BDRV_OVL_CHUNK
                          ? bs->size - start : BDRV_OVL_CHUNK;
            uint8_t *chunk = calloc(1, BDRV_OVL_CHUNK);
            if (!chunk)
                return -ENOMEM;
            int r = bs->drv->read(bs, start, chunk, (size_t)clen);
            if (r) {
                free(chunk);
                return r;
            }
            bs->ovl[c] = chunk;
        }
        memcpy(bs->ovl[c] + in, p, n);
        p += n; off += n; len -= n;
    }
    return 0;
}

int bdrv_flush(BlockDriverState *bs)
{
    if (bs->snapshot || bs->read_only || !bs->drv->flush)
        return 0;
    return bs->drv->flush(bs);
}

uint64_t bdrv_size(const BlockDriverState *bs) { return bs->size; }
bool bdrv_is_read_only(const BlockDriverState *bs) { return bs->read_only; }

void bdrv_close(BlockDriverState *bs)
{
    if (!bs)
        return;
    if (bdrv_flush(bs))
        fprintf(stderr, "kestrel: %s: flush failed on close\n",
                bs->filename ? bs->filename : "disk");
    bs->drv->close(bs);
    for (uint64_t i = 0; i < bs->ovl_chunks; i++)
        free(bs->ovl[i]);
    free(bs->ovl);
    free(bs->filename);
    free(bs);
}
