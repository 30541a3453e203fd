/* Disk images: a small driver interface (raw, qcow2) under one handle,
 * with an optional in-memory copy-on-write overlay for -snapshot.
 *
 * Offsets and lengths are bytes; every access is checked against the
 * image size here, so device models can pass guest-derived values after
 * their own range check without risking a host-side overrun. Functions
 * return 0 or a negative errno. */
#ifndef BLOCK_BLOCK_H
#define BLOCK_BLOCK_H
#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct BlockDriverState BlockDriverState;

typedef struct BlockDriver {
    const char *format_name;
    /* Returns 0 and fills bs->size, bs->opaque; or -1 with err set. */
    int (*open)(BlockDriverState *bs, const char *path, bool read_only,
                char *err, size_t errlen);
    int (*read)(BlockDriverState *bs, uint64_t off, void *buf, size_t len);
    int (*write)(BlockDriverState *bs, uint64_t off, const void *buf,
                 size_t len);
    int (*flush)(BlockDriverState *bs);
    void (*close)(BlockDriverState *bs);
} BlockDriver;

struct BlockDriverState {
    const BlockDriver *drv;
    void *opaque;              /* the driver's own state */
    uint64_t size;             /* guest-visible bytes */
    bool read_only;            /* writes fail with -EROFS */
    bool snapshot;             /* writes go to the overlay below */
    /* -snapshot overlay: one pointer per BDRV_OVL_CHUNK bytes of the
     * image, NULL until the guest first writes there. */
    uint8_t **ovl;
    uint64_t ovl_chunks;
    char *filename;
};

#define BDRV_OVL_CHUNK 65536

enum {
    BDRV_O_RDONLY   = 1,       /* open the host file read-only */
    BDRV_O_SNAPSHOT = 2,       /* keep guest writes in memory */
};

extern const BlockDriver bdrv_raw, bdrv_qcow2;

/* format: "raw", "qcow2" or NULL to probe (with QEMU's warning when the
 * probe settles on raw for a writable image). */
BlockDriverState *bdrv_open(const char *path, const char *format, int flags,
                            char *err, size_t errlen);
int bdrv_pread(BlockDriverState *bs, uint64_t off, void *buf, size_t len);
int bdrv_pwrite(BlockDriverState *bs, uint64_t off, const void *buf,
                size_t len);
/* Makes earlier writes durable on the host disk (fdatasync). */
int bdrv_flush(BlockDriverState *bs);
uint64_t bdrv_size(const BlockDriverState *bs);
bool bdrv_is_read_only(const BlockDriverState *bs);
/* Flushes, then frees. NULL is fine. */
void bdrv_close(BlockDriverState *bs);

/* Helpers shared by the drivers. */
int bdrv_host_pread(int fd, uint64_t off, void *buf, size_t len);
int bdrv_host_pwrite(int fd, uint64_t off, const void *buf, size_t len);
#endif
