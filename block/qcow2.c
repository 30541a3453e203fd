/* qcow2 (versions 2 and 3): header, L1/L2 lookup, zero
 * clusters, zlib-compressed clusters, and an optional backing file.
 *
 * Writing in place: new clusters (data, L2 tables, refcount blocks) are
 * appended to the file with refcount 1; images with internal snapshots or
 * other refcount widths open only read-only or under -snapshot. All image
 * metadata is untrusted: offsets are checked against the file and table
 * sizes before use. Multi-byte header fields are big-endian. */
#include "block/block.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define QCOW2_OFLAG_COPIED     (1ULL << 63)
#define QCOW2_OFLAG_COMPRESSED (1ULL << 62)
#define QCOW2_OFLAG_ZERO       1ULL
#define QCOW2_OFFSET_MASK      0x00fffffffffffe00ULL

/* Incompatible feature bits (v3). */
#define QCOW2_INCOMPAT_DIRTY   (1ULL << 0)
#define QCOW2_INCOMPAT_CORRUPT (1ULL << 1)
#define QCOW2_INCOMPAT_KNOWN   (QCOW2_INCOMPAT_DIRTY)

typedef struct Qcow2State {
    int fd;
    uint64_t file_size;
    int cluster_bits;
    uint64_t cluster_size;
    uint64_t l2_entries;       /* per L2 table */
    uint64_t *l1;              /* host-endian copy */
    uint32_t l1_size;
    /* One cached L2 table: enough for sequential guest reads. */
    uint64_t *l2;
    uint64_t l2_offset;        /* 0: cache empty */
    uint8_t *cbuf, *dbuf;      /* compressed input, inflated cluster */
    uint64_t dbuf_offset;      /* host offset dbuf holds (0: none) */
    BlockDriverState *backing;
    /* Writing: the L1 table's place, and the refcount table (16-bit
     * refcounts only). */
    uint64_t l1_offset;
    uint64_t *rt;              /* host-endian copy */
    uint64_t rt_offset, rt_entries;
} Qcow2State;

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
           (uint32_t)p[2] << 8 | p[3];
}
static uint64_t be64(const uint8_t *p)
{
    return (uint64_t)be32(p) << 32 | be32(p + 4);
}

static void qcow2_free(Qcow2State *s)
{
    if (s->fd >= 0)
        close(s->fd);
    bdrv_close(s->backing);
    free(s->l1); free(s->l2); free(s->cbuf); free(s->dbuf); free(s->rt);
    free(s);
}

static int open_backing(Qcow2State *s, const char *path, uint64_t off,
                        uint32_t len, char *err, size_t errlen)
{
    char name[1024], full[2048];
    if (len == 0 || len >= sizeof(name) || off > s->file_size ||
        len > s->file_size - off) {
        snprintf(err, errlen, "qcow2 '%s': bad backing file name", path);
        return -1;
    }
    if (bdrv_host_pread(s->fd, off, name, len)) {
        snprintf(err, errlen, "qcow2 '%s': cannot read header", path);
        return -1;
    }
    name[len] = 0;
    /* A relative backing name is relative to the overlay's folder. */
    const char *slash = strrchr(path, '/');
    if (name[0] != '/' && slash)
        snprintf(full, sizeof(full), "%.*s/%s", (int)(slash - path), path,
                 name);
    else
        snprintf(full, sizeof(full), "%s", name);
    char sub[256];
    s->backing = bdrv_open(full, NULL, BDRV_O_RDONLY, sub, sizeof(sub));
    if (!s->backing) {
        snprintf(err, errlen, "qcow2 '%s': backing file: %s", path, sub);
        return -1;
    }
    return 0;
}

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static int write_be64(Qcow2State *s, uint64_t off, uint64_t v)
{
    uint8_t b[8];
    put_be64(b, v);
    return bdrv_host_pwrite(s->fd, off, b, 8);
}

static int qcow2_open(BlockDriverState *bs, const char *path, bool read_only,
                      char *err, size_t errlen)
{
    uint8_t h[112];
    struct stat st;
    Qcow2State *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    s->fd = open(path, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    if (s->fd < 0 || fstat(s->fd, &st)) {
        snprintf(err, errlen, "could not open '%s': %s", path,
                 strerror(errno));
        s->fd = -1;
        goto fail;
    }
    s->file_size = (uint64_t)st.st_size;
    memset(h, 0, sizeof(h));
    if (bdrv_host_pread(s->fd, 0, h, sizeof(h)) || memcmp(h, "QFI\xfb", 4)) {
        snprintf(err, errlen, "'%s' is not a qcow2 image", path);
        goto fail;
    }
    uint32_t version = be32(h + 4);
    if (version != 2 && version != 3) {
        snprintf(err, errlen, "qcow2 '%s': unsupported version %u", path,
                 version);
        goto fail;
    }
    s->cluster_bits = (int)be32(h + 20);
    if (s->cluster_bits < 9 || s->cluster_bits > 21) {
        snprintf(err, errlen, "qcow2 '%s': bad cluster size", path);
        goto fail;
    }
    s->cluster_size = 1ULL << s->cluster_bits;
    s->l2_entries = s->cluster_size / 8;
    bs->size = be64(h + 24);
    if (bs->size > (1ULL << 56)) {
        snprintf(err, errlen, "qcow2 '%s': bad disk size", path);
        goto fail;
    }
    if (be32(h + 32)) {
        snprintf(err, errlen, "qcow2 '%s': encrypted images are not "
                 "supported", path);
        goto fail;
    }
    if (!read_only) {
        /* In-place writes handle the common layout: 16-bit refcounts, no
         * internal snapshots (so every cluster has refcount 1), a clean
         * image. */
        uint32_t order = version == 3 ? be32(h + 96) : 4;
        if (be32(h + 60) || order != 4 ||
            (version == 3 && (be64(h + 72) & QCOW2_INCOMPAT_DIRTY))) {
            snprintf(err, errlen, "qcow2 '%s': writing images with internal "
                     "snapshots, a dirty flag or non-16-bit refcounts is not "
                     "supported; use -snapshot or readonly=on", path);
            goto fail;
        }
    }
    if (version == 3) {
        uint64_t incompat = be64(h + 72);
        uint32_t hlen = be32(h + 100);
        if (incompat & ~QCOW2_INCOMPAT_KNOWN) {
            snprintf(err, errlen, "qcow2 '%s': unsupported incompatible "
                     "features 0x%llx", path,
                     (unsigned long long)(incompat & ~QCOW2_INCOMPAT_KNOWN));
            goto fail;
        }
        /* A compression type other than zlib sets an incompatible bit,
         * caught above; so does the extended-L2 layout. */
        (void)hlen;
    }
    s->l1_size = be32(h + 36);
    uint64_t l1_off = be64(h + 40);
    s->l1_offset = l1_off;
    uint64_t per_l1 = s->cluster_size * s->l2_entries;
    uint64_t need = (bs->size + per_l1 - 1) / per_l1;
    if (s->l1_size < need || s->l1_size > (32u << 20) / 8 ||
        l1_off > s->file_size || (uint64_t)s->l1_size * 8 > s->file_size - l1_off) {
        snprintf(err, errlen, "qcow2 '%s': bad L1 table", path);
        goto fail;
    }
    s->l1 = calloc(s->l1_size ? s->l1_size : 1, 8);
    s->l2 = malloc(s->cluster_size);
    s->cbuf = malloc(2 * s->cluster_size);
    s->dbuf = malloc(s->cluster_size);
    if (!s->l1 || !s->l2 || !s->cbuf || !s->dbuf) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (bdrv_host_pread(s->fd, l1_off, s->l1, (size_t)s->l1_size * 8)) {
        snprintf(err, errlen, "qcow2 '%s': cannot read L1 table", path);
        goto fail;
    }
    for (uint32_t i = 0; i < s->l1_size; i++)
        s->l1[i] = be64((uint8_t *)&s->l1[i]);
    if (!read_only) {
        uint32_t rtc = be32(h + 56);
        s->rt_offset = be64(h + 48);
        s->rt_entries = (uint64_t)rtc * s->cluster_size / 8;
        if (!rtc || rtc > 256 || s->rt_offset > s->file_size ||
            s->rt_entries * 8 > s->file_size - s->rt_offset ||
            (s->rt_offset & (s->cluster_size - 1))) {
            snprintf(err, errlen, "qcow2 '%s': bad refcount table", path);
            goto fail;
        }
        s->rt = malloc(s->rt_entries * 8);
        if (!s->rt || bdrv_host_pread(s->fd, s->rt_offset, s->rt,
                                      s->rt_entries * 8)) {
            snprintf(err, errlen, "qcow2 '%s': cannot read refcount table",
                     path);
            goto fail;
        }
        for (uint64_t i = 0; i < s->rt_entries; i++)
            s->rt[i] = be64((uint8_t *)&s->rt[i]);
        /* Auto-clear features (e.g. dirty bitmaps) describe data this
         * writer does not maintain: the spec says to clear them. */
        if (version == 3 && be64(h + 88) && write_be64(s, 88, 0)) {
            snprintf(err, errlen, "qcow2 '%s': cannot update header", path);
            goto fail;
        }
    }
    if (be64(h + 8) && open_backing(s, path, be64(h + 8), be32(h + 16), err,
                                    errlen))
        goto fail;
    bs->opaque = s;
    return 0;
fail:
    qcow2_free(s);
    return -1;
}

static int load_l2(Qcow2State *s, uint64_t off)
{
    if (s->l2_offset == off)
        return 0;
    if (off & (s->cluster_size - 1) || off > s->file_size ||
        s->cluster_size > s->file_size - off)
        return -EIO;
    s->l2_offset = 0;
    int r = bdrv_host_pread(s->fd, off, s->l2, s->cluster_size);
    if (r)
        return r;
    for (uint64_t i = 0; i < s->l2_entries; i++)
        s->l2[i] = be64((uint8_t *)&s->l2[i]);
    s->l2_offset = off;
    return 0;
}

static int read_compressed(Qcow2State *s, uint64_t entry)
{
    int x = 62 - (s->cluster_bits - 8);
    uint64_t coff = entry & ((1ULL << x) - 1);
    uint64_t nsect = ((entry >> x) & ((1ULL << (s->cluster_bits - 8)) - 1)) + 1;
    uint64_t csize = nsect * 512 - (coff & 511);
    if (s->dbuf_offset == coff + 1)
        return 0;
    if (csize > 2 * s->cluster_size || coff >= s->file_size)
        return -EIO;
    if (csize > s->file_size - coff)
        csize = s->file_size - coff;
    int r = bdrv_host_pread(s->fd, coff, s->cbuf, (size_t)csize);
    if (r)
        return r;
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (inflateInit2(&z, -15) != Z_OK)
        return -EIO;
    z.next_in = s->cbuf;
    z.avail_in = (uInt)csize;
    z.next_out = s->dbuf;
    z.avail_out = (uInt)s->cluster_size;
    int zr = inflate(&z, Z_FINISH);
    uint64_t out = s->cluster_size - z.avail_out;
    inflateEnd(&z);
    /* The stream may end without Z_STREAM_END when the compressed data
     * was padded; a full cluster of output is what matters. */
    if ((zr != Z_STREAM_END && zr != Z_BUF_ERROR && zr != Z_OK) ||
        out != s->cluster_size) {
        s->dbuf_offset = 0;
        return -EIO;
    }
    s->dbuf_offset = coff + 1;
    return 0;
}

/* Reads within one cluster. */
static int read_in_cluster(BlockDriverState *bs, uint64_t off, uint8_t *buf,
                           size_t n)
{
    Qcow2State *s = bs->opaque;
    uint64_t in = off & (s->cluster_size - 1);
    uint64_t l2_index = (off >> s->cluster_bits) & (s->l2_entries - 1);
    uint64_t l1_index = off >> s->cluster_bits >> (s->cluster_bits - 3);
    uint64_t entry = 0;
    if (l1_index >= s->l1_size)
        return -EIO;
    uint64_t l2_off = s->l1[l1_index] & QCOW2_OFFSET_MASK;
    if (l2_off) {
        int r = load_l2(s, l2_off);
        if (r)
            return r;
        entry = s->l2[l2_index];
    }
    if (entry & QCOW2_OFLAG_COMPRESSED) {
        int r = read_compressed(s, entry & ~(QCOW2_OFLAG_COPIED |
                                             QCOW2_OFLAG_COMPRESSED));
        if (r)
            return r;
        memcpy(buf, s->dbuf + in, n);
        return 0;
    }
    uint64_t host = entry & QCOW2_OFFSET_MASK;
    if (entry & QCOW2_OFLAG_ZERO) {
        memset(buf, 0, n);
        return 0;
    }
    if (!host) {
        /* Unallocated: the backing file shows through, else zeros. */
        memset(buf, 0, n);
        if (s->backing && off < bdrv_size(s->backing)) {
            uint64_t bn = bdrv_size(s->backing) - off;
            return bdrv_pread(s->backing, off, buf, bn < n ? bn : n);
        }
        return 0;
    }
    if (host & (s->cluster_size - 1))
        return -EIO;
    return bdrv_host_pread(s->fd, host + in, buf, n);
}

static int qcow2_read(BlockDriverState *bs, uint64_t off, void *buf,
                      size_t len)
{
    Qcow2State *s = bs->opaque;
    uint8_t *p = buf;
    while (len) {
        size_t n = (size_t)(s->cluster_size - (off & (s->cluster_size - 1)));
        if (n > len)
            n = len;
        int r = read_in_cluster(bs, off, p, n);
        if (r)
            return r;
        p += n; off += n; len -= n;
    }
    return 0;
}

/* Sets the 16-bit refcount of the host cluster at `host`, creating the
 * refcount block (at the end of the file) when there is none. */
static int set_refcount(Qcow2State *s, uint64_t host, uint16_t val, int depth)
{
    uint64_t per_block = s->cluster_size / 2;
    uint64_t ci = host >> s->cluster_bits;
    uint64_t ri = ci / per_block;
    if (ri >= s->rt_entries || depth > 2)
        return -ENOSPC;
    uint64_t rb = s->rt[ri] & QCOW2_OFFSET_MASK;
    int r;
    if (!rb) {
        rb = (s->file_size + s->cluster_size - 1) & ~(s->cluster_size - 1);
        memset(s->dbuf, 0, s->cluster_size);
        s->dbuf_offset = 0;
        if ((r = bdrv_host_pwrite(s->fd, rb, s->dbuf, s->cluster_size)))
            return r;
        s->file_size = rb + s->cluster_size;
        if ((r = write_be64(s, s->rt_offset + ri * 8, rb)))
            return r;
        s->rt[ri] = rb;
        /* The new block counts itself, here or in another block. */
        if ((r = set_refcount(s, rb, 1, depth + 1)))
            return r;
    }
    uint8_t b[2] = { (uint8_t)(val >> 8), (uint8_t)val };
    return bdrv_host_pwrite(s->fd, rb + (ci % per_block) * 2, b, 2);
}

/* A new cluster at the end of the file holding `data`, refcount 1. */
static int alloc_cluster(Qcow2State *s, const uint8_t *data, uint64_t *out)
{
    uint64_t off = (s->file_size + s->cluster_size - 1) &
                   ~(s->cluster_size - 1);
    int r = bdrv_host_pwrite(s->fd, off, data, s->cluster_size);
    if (r)
        return r;
    s->file_size = off + s->cluster_size;
    if ((r = set_refcount(s, off, 1, 0)))
        return r;
    *out = off;
    return 0;
}

/* Writes within one cluster: in place when the cluster is the image's
 * own (refcount 1); else a copy of the cluster's current contents
 * (zeros, the backing file, or inflated data) with the new bytes goes to
 * a fresh cluster. A replaced compressed cluster is leaked, not freed
 * (qemu-img check reports leaks; nothing is corrupted). */
static int write_in_cluster(BlockDriverState *bs, uint64_t off,
                            const uint8_t *buf, size_t n)
{
    Qcow2State *s = bs->opaque;
    uint64_t in = off & (s->cluster_size - 1);
    uint64_t l2_index = (off >> s->cluster_bits) & (s->l2_entries - 1);
    uint64_t l1_index = off >> s->cluster_bits >> (s->cluster_bits - 3);
    int r;
    if (l1_index >= s->l1_size)
        return -EIO;
    uint64_t l2_off = s->l1[l1_index] & QCOW2_OFFSET_MASK;
    if (!l2_off) {
        memset(s->l2, 0, s->cluster_size);
        s->l2_offset = 0;
        if ((r = alloc_cluster(s, (uint8_t *)s->l2, &l2_off)))
            return r;
        uint64_t e = l2_off | QCOW2_OFLAG_COPIED;
        if ((r = write_be64(s, s->l1_offset + l1_index * 8, e)))
            return r;
        s->l1[l1_index] = e;
    }
    if ((r = load_l2(s, l2_off)))
        return r;
    uint64_t entry = s->l2[l2_index];
    uint64_t host = entry & QCOW2_OFFSET_MASK;
    if ((entry & QCOW2_OFLAG_COPIED) && !(entry & QCOW2_OFLAG_COMPRESSED) &&
        !(entry & QCOW2_OFLAG_ZERO) && host) {
        if (host & (s->cluster_size - 1))
            return -EIO;
        return bdrv_host_pwrite(s->fd, host + in, buf, n);
    }
    uint8_t *c = malloc(s->cluster_size);
    if (!c)
        return -ENOMEM;
    uint64_t start = off - in;
    uint64_t clen = bs->size - start < s->cluster_size ? bs->size - start
                                                       : s->cluster_size;
    memset(c, 0, s->cluster_size);
    r = read_in_cluster(bs, start, c, (size_t)clen);
    if (!r) {
        memcpy(c + in, buf, n);
        r = alloc_cluster(s, c, &host);
    }
    free(c);
    if (r)
        return r;
    /* alloc may have moved the cached L2 out (refcount block writes use
     * dbuf only), but reload to be safe before updating it. */
    if ((r = load_l2(s, l2_off)))
        return r;
    uint64_t e = host | QCOW2_OFLAG_COPIED;
    if ((r = write_be64(s, l2_off + l2_index * 8, e)))
        return r;
    s->l2[l2_index] = e;
    return 0;
}

static int qcow2_write(BlockDriverState *bs, uint64_t off, const void *buf,
                       size_t len)
{
    Qcow2State *s = bs->opaque;
    const uint8_t *p = buf;
    if (!s->rt)
        return -EROFS;
    while (len) {
        size_t n = (size_t)(s->cluster_size - (off & (s->cluster_size - 1)));
        if (n > len)
            n = len;
        int r = write_in_cluster(bs, off, p, n);
        if (r)
            return r;
        p += n; off += n; len -= n;
    }
    return 0;
}

static int qcow2_flush(BlockDriverState *bs)
{
    Qcow2State *s = bs->opaque;
    return fdatasync(s->fd) ? -errno : 0;
}

static void qcow2_close(BlockDriverState *bs)
{
    qcow2_free(bs->opaque);
}

const BlockDriver bdrv_qcow2 = {
    .format_name = "qcow2",
    .open = qcow2_open, .read = qcow2_read, .write = qcow2_write,
    .flush = qcow2_flush, .close = qcow2_close,
};
