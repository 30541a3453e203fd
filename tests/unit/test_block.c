/* The block layer: raw read/write/flush against the host file, range
 * checks, -snapshot leaving the image untouched, read-only images, and
 * qcow2 images made by QEMU's qemu-img (v2, v3, compressed clusters,
 * backing file) read back equal to the raw source. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <cmocka.h>
#include "block/block.h"

#define IMG_SIZE (4u << 20)

static char dir[64];
static char raw_path[128];
static uint8_t *pattern;

static void path_in(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", dir, name);
}

/* Mixed content: text-like runs (compressible), random runs, and zero
 * regions (unallocated in qcow2 once converted). */
static void make_pattern(void)
{
    pattern = malloc(IMG_SIZE);
    uint32_t x = 12345;
    for (uint32_t i = 0; i < IMG_SIZE; i++) {
        uint32_t region = i / 65536;
        if (region % 5 == 3) {
            pattern[i] = 0;
        } else if (region % 2) {
            x = x * 1103515245u + 12345u;
            pattern[i] = (uint8_t)(x >> 16);
        } else {
            pattern[i] = (uint8_t)("kestrel block layer "[i % 20] + region);
        }
    }
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void read_file_at(const char *path, uint64_t off, void *buf,
                         size_t len)
{
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, buf, len, (off_t)off), (ssize_t)len);
    close(fd);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/kestrel-test-block-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    path_in(raw_path, sizeof(raw_path), "disk.raw");
    make_pattern();
    write_file(raw_path, pattern, IMG_SIZE);
    return 0;
}

static int teardown(void **state)
{
    char cmd[256];
    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        return -1;
    free(pattern);
    return 0;
}

static void test_raw_rw_flush(void **state)
{
    char err[256];
    uint8_t buf[4096], fresh[4096];
    (void)state;
    BlockDriverState *bs = bdrv_open(raw_path, "raw", 0, err, sizeof(err));
    assert_non_null(bs);
    assert_int_equal(bdrv_size(bs), IMG_SIZE);
    assert_false(bdrv_is_read_only(bs));
    assert_int_equal(bdrv_pread(bs, 70000, buf, sizeof(buf)), 0);
    assert_memory_equal(buf, pattern + 70000, sizeof(buf));
    memset(buf, 0xa5, sizeof(buf));
    assert_int_equal(bdrv_pwrite(bs, 512 * 9, buf, 1024), 0);
    assert_int_equal(bdrv_flush(bs), 0);
    read_file_at(raw_path, 512 * 9, fresh, 1024);
    assert_memory_equal(fresh, buf, 1024);
    /* Past the end, straddling the end, and offset overflow: refused. */
    assert_int_equal(bdrv_pread(bs, IMG_SIZE, buf, 1), -EINVAL);
    assert_int_equal(bdrv_pread(bs, IMG_SIZE - 512, buf, 1024), -EINVAL);
    assert_int_equal(bdrv_pwrite(bs, UINT64_MAX - 10, buf, 512), -EINVAL);
    assert_int_equal(bdrv_pread(bs, IMG_SIZE - 512, buf, 512), 0);
    /* Restore the pattern for the other tests. */
    assert_int_equal(bdrv_pwrite(bs, 512 * 9, pattern + 512 * 9, 1024), 0);
    bdrv_close(bs);
}

static void test_snapshot_leaves_file(void **state)
{
    char err[256];
    uint8_t buf[200000], check[200000];
    (void)state;
    BlockDriverState *bs = bdrv_open(raw_path, NULL, BDRV_O_SNAPSHOT, err,
                                     sizeof(err));
    assert_non_null(bs);
    /* A write spanning several overlay chunks, then reads across the
     * boundary between overlay and image. */
    memset(buf, 0x5a, sizeof(buf));
    assert_int_equal(bdrv_pwrite(bs, 60000, buf, sizeof(buf)), 0);
    assert_int_equal(bdrv_pread(bs, 50000, check, sizeof(check)), 0);
    assert_memory_equal(check, pattern + 50000, 10000);
    assert_memory_equal(check + 10000, buf, sizeof(check) - 10000);
    assert_int_equal(bdrv_pread(bs, 260000, check, 1000), 0);
    assert_memory_equal(check, pattern + 260000, 1000);
    assert_int_equal(bdrv_flush(bs), 0);
    bdrv_close(bs);
    read_file_at(raw_path, 0, check, sizeof(check));
    assert_memory_equal(check, pattern, sizeof(check));
    read_file_at(raw_path, 200000, check, 100000);
    assert_memory_equal(check, pattern + 200000, 100000);
}

static void test_readonly(void **state)
{
    char err[256];
    uint8_t buf[512] = { 0 };
    (void)state;
    BlockDriverState *bs = bdrv_open(raw_path, "raw", BDRV_O_RDONLY, err,
                                     sizeof(err));
    assert_non_null(bs);
    assert_true(bdrv_is_read_only(bs));
    assert_int_equal(bdrv_pwrite(bs, 0, buf, 512), -EROFS);
    bdrv_close(bs);
    assert_null(bdrv_open("/nonexistent/x.img", NULL, 0, err, sizeof(err)));
    assert_non_null(strstr(err, "No such file"));
    assert_null(bdrv_open(raw_path, "vmdk", 0, err, sizeof(err)));
    assert_non_null(strstr(err, "unknown driver format"));
}

static bool have_qemu_img(void)
{
    return system("qemu-img --version >/dev/null 2>&1") == 0;
}

static void check_qcow2(const char *name, const char *args)
{
    char path[160], cmd[512], err[256];
    path_in(path, sizeof(path), name);
    snprintf(cmd, sizeof(cmd), "qemu-img %s '%s' >/dev/null 2>&1", args,
             path);
    assert_int_equal(system(cmd), 0);
    BlockDriverState *bs = bdrv_open(path, NULL, BDRV_O_RDONLY, err,
                                     sizeof(err));
    if (!bs)
        fail_msg("%s: %s", name, err);
    assert_int_equal(bdrv_size(bs), IMG_SIZE);
    uint8_t *buf = malloc(IMG_SIZE);
    /* Whole image, then unaligned pieces crossing cluster boundaries. */
    assert_int_equal(bdrv_pread(bs, 0, buf, IMG_SIZE), 0);
    assert_memory_equal(buf, pattern, IMG_SIZE);
    for (uint64_t off = 1; off < IMG_SIZE - 70000; off += 299993) {
        assert_int_equal(bdrv_pread(bs, off, buf, 70000), 0);
        assert_memory_equal(buf, pattern + off, 70000);
    }
    free(buf);
    bdrv_close(bs);
}

static void test_qcow2(void **state)
{
    char args[512];
    (void)state;
    if (!have_qemu_img())
        skip();
    snprintf(args, sizeof(args), "convert -O qcow2 -o compat=1.1 '%s'",
             raw_path);
    check_qcow2("v3.qcow2", args);
    snprintf(args, sizeof(args), "convert -O qcow2 -o compat=0.10 '%s'",
             raw_path);
    check_qcow2("v2.qcow2", args);
    snprintf(args, sizeof(args), "convert -c -O qcow2 '%s'", raw_path);
    check_qcow2("compressed.qcow2", args);
    snprintf(args, sizeof(args),
             "convert -c -O qcow2 -o cluster_size=4096 '%s'", raw_path);
    check_qcow2("compressed4k.qcow2", args);
    /* An empty overlay shows its backing file. */
    snprintf(args, sizeof(args), "create -f qcow2 -F raw -b '%s'", raw_path);
    check_qcow2("overlay.qcow2", args);
}

/* Writes a mix of spots (inside allocated, compressed and unallocated
 * clusters, across cluster boundaries, the last byte), then lets
 * qemu-img check the metadata and convert the image back to raw. */
static void qcow2_write_check(const char *name, const char *create,
                              bool from_pattern)
{
    char path[160], out[160], cmd[768], err[256];
    static const uint64_t spots[][2] = {
        { 0, 512 }, { 65536 * 3 - 100, 300 }, { 65536 * 3 + 5, 70000 },
        { 1 << 20, 131072 }, { IMG_SIZE - 4096, 4096 }, { 2000000, 1 },
    };
    path_in(path, sizeof(path), name);
    path_in(out, sizeof(out), "check.raw");
    snprintf(cmd, sizeof(cmd), create, raw_path, path);
    assert_int_equal(system(cmd), 0);
    uint8_t *want = malloc(IMG_SIZE);
    if (from_pattern)
        memcpy(want, pattern, IMG_SIZE);
    else
        memset(want, 0, IMG_SIZE);
    BlockDriverState *bs = bdrv_open(path, "qcow2", 0, err, sizeof(err));
    if (!bs)
        fail_msg("%s: %s", name, err);
    for (size_t i = 0; i < sizeof(spots) / sizeof(spots[0]); i++) {
        uint64_t off = spots[i][0], len = spots[i][1];
        for (uint64_t j = 0; j < len; j++)
            want[off + j] = (uint8_t)(i * 31 + j * 7 + 1);
        assert_int_equal(bdrv_pwrite(bs, off, want + off, len), 0);
    }
    /* A rewrite of an already rewritten spot goes in place. */
    memset(want + 100, 0xee, 50);
    assert_int_equal(bdrv_pwrite(bs, 100, want + 100, 50), 0);
    uint8_t *got = malloc(IMG_SIZE);
    assert_int_equal(bdrv_pread(bs, 0, got, IMG_SIZE), 0);
    assert_memory_equal(got, want, IMG_SIZE);
    assert_int_equal(bdrv_flush(bs), 0);
    bdrv_close(bs);
    /* qemu-img check: 0 = clean, 3 = leaked clusters only (replaced
     * compressed clusters); anything else is corruption. */
    snprintf(cmd, sizeof(cmd), "qemu-img check -q '%s' >/dev/null 2>&1",
             path);
    int st = system(cmd);
    st = WEXITSTATUS(st);
    if (st != 0 && !(st == 3 && from_pattern))
        fail_msg("%s: qemu-img check exit %d", name, st);
    snprintf(cmd, sizeof(cmd), "qemu-img convert -O raw '%s' '%s'", path,
             out);
    assert_int_equal(system(cmd), 0);
    read_file_at(out, 0, got, IMG_SIZE);
    assert_memory_equal(got, want, IMG_SIZE);
    free(got);
    free(want);
}

static void test_qcow2_write(void **state)
{
    char path[160], cmd[512], err[256];
    (void)state;
    if (!have_qemu_img())
        skip();
    qcow2_write_check("empty.qcow2",
                      "true '%s'; qemu-img create -q -f qcow2 '%s' 4M", false);
    qcow2_write_check("empty-v2.qcow2",
                      "true '%s'; qemu-img create -q -f qcow2 -o compat=0.10 "
                      "'%s' 4M", false);
    qcow2_write_check("full.qcow2", "qemu-img convert -O qcow2 '%s' '%s'",
                      true);
    qcow2_write_check("packed.qcow2",
                      "qemu-img convert -c -O qcow2 '%s' '%s'", true);
    qcow2_write_check("small-clusters.qcow2",
                      "qemu-img convert -O qcow2 -o cluster_size=512 '%s' '%s'",
                      true);
    /* Internal snapshots: writes refused at open, -snapshot still fine. */
    path_in(path, sizeof(path), "snap.qcow2");
    snprintf(cmd, sizeof(cmd), "qemu-img convert -O qcow2 '%s' '%s' && "
             "qemu-img snapshot -c s1 '%s'", raw_path, path, path);
    assert_int_equal(system(cmd), 0);
    assert_null(bdrv_open(path, NULL, 0, err, sizeof(err)));
    assert_non_null(strstr(err, "snapshot"));
    BlockDriverState *bs = bdrv_open(path, NULL, BDRV_O_SNAPSHOT, err,
                                     sizeof(err));
    assert_non_null(bs);
    uint8_t buf[1024], back[3000];
    memset(buf, 0x77, sizeof(buf));
    assert_int_equal(bdrv_pwrite(bs, 4000, buf, sizeof(buf)), 0);
    assert_int_equal(bdrv_pread(bs, 3000, back, sizeof(back)), 0);
    assert_memory_equal(back, pattern + 3000, 1000);
    assert_memory_equal(back + 1000, buf, 1024);
    assert_memory_equal(back + 2024, pattern + 5024, 976);
    bdrv_close(bs);
}

static void test_qcow2_garbage(void **state)
{
    char path[160], err[256];
    uint8_t h[512];
    (void)state;
    path_in(path, sizeof(path), "bad.qcow2");
    /* A header whose L1 table lies outside the file, and one with a
     * cluster size out of range: both refused, no crash. */
    memset(h, 0, sizeof(h));
    memcpy(h, "QFI\xfb\0\0\0\3", 8);
    h[23] = 16;                        /* cluster_bits */
    h[31] = 0x10;                      /* size: 4 KiB */
    h[39] = 1;                         /* l1_size */
    h[41] = 0x7f;                      /* l1 offset far away */
    write_file(path, h, sizeof(h));
    assert_null(bdrv_open(path, NULL, BDRV_O_RDONLY, err, sizeof(err)));
    h[23] = 40;
    write_file(path, h, sizeof(h));
    assert_null(bdrv_open(path, NULL, BDRV_O_RDONLY, err, sizeof(err)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_raw_rw_flush),
        cmocka_unit_test(test_snapshot_leaves_file),
        cmocka_unit_test(test_readonly),
        cmocka_unit_test(test_qcow2),
        cmocka_unit_test(test_qcow2_write),
        cmocka_unit_test(test_qcow2_garbage),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
