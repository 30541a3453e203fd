/* ui/png.c: write a PNG, then read it back the way a PNG decoder does —
 * walk the chunks, check each CRC-32 and the IHDR fields, inflate the IDAT
 * stream with zlib and compare every pixel. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <zlib.h>
#include "ui/console.h"

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)n);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Decodes an 8-bit RGB, non-interlaced PNG with filter 0 rows (what the
 * writer promises) into XRGB; returns the pixel array. */
static uint32_t *decode(const uint8_t *buf, size_t len, int *w, int *h)
{
    static const uint8_t sig[8] = { 0x89, 'P', 'N', 'G', 13, 10, 26, 10 };
    assert_true(len > 8);
    assert_memory_equal(buf, sig, 8);
    size_t pos = 8;
    uint8_t *idat = NULL;
    size_t idat_len = 0;
    bool saw_ihdr = false, saw_iend = false;
    int chunks = 0;
    while (pos + 12 <= len) {
        uint32_t clen = be32(buf + pos);
        assert_true(pos + 12 + clen <= len);
        const uint8_t *type = buf + pos + 4, *data = buf + pos + 8;
        uint32_t crc = (uint32_t)crc32(crc32(0, Z_NULL, 0), type, 4 + clen);
        assert_int_equal(crc, be32(data + clen));
        if (chunks == 0)
            assert_memory_equal(type, "IHDR", 4);
        if (!memcmp(type, "IHDR", 4)) {
            assert_int_equal(clen, 13);
            *w = (int)be32(data);
            *h = (int)be32(data + 4);
            assert_int_equal(data[8], 8);     /* bit depth */
            assert_int_equal(data[9], 2);     /* truecolour */
            assert_int_equal(data[10], 0);
            assert_int_equal(data[11], 0);
            assert_int_equal(data[12], 0);
            saw_ihdr = true;
        } else if (!memcmp(type, "IDAT", 4)) {
            idat = realloc(idat, idat_len + clen);
            memcpy(idat + idat_len, data, clen);
            idat_len += clen;
        } else if (!memcmp(type, "IEND", 4)) {
            assert_int_equal(clen, 0);
            saw_iend = true;
        }
        pos += 12 + clen;
        chunks++;
    }
    assert_int_equal(pos, len);
    assert_true(saw_ihdr && saw_iend && idat);
    uLongf raw_len = (uLongf)(*w * 3 + 1) * *h;
    uint8_t *raw = malloc(raw_len);
    uLongf got = raw_len;
    assert_int_equal(uncompress(raw, &got, idat, idat_len), Z_OK);
    assert_int_equal(got, raw_len);
    uint32_t *px = malloc((size_t)*w * *h * 4);
    for (int y = 0; y < *h; y++) {
        const uint8_t *row = raw + (size_t)y * (*w * 3 + 1);
        assert_int_equal(row[0], 0);
        for (int x = 0; x < *w; x++)
            px[y * *w + x] = (uint32_t)row[1 + 3 * x] << 16 |
                             (uint32_t)row[2 + 3 * x] << 8 | row[3 + 3 * x];
    }
    free(raw);
    free(idat);
    return px;
}

static void test_png_roundtrip(void **state)
{
    (void)state;
    enum { W = 37, H = 23, PITCH = 40 * 4 };
    uint32_t *img = calloc(PITCH / 4 * H, 4);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            img[y * (PITCH / 4) + x] = (uint32_t)(x * 7) << 16 |
                                       (uint32_t)(y * 11) << 8 | (uint32_t)((x ^ y) * 5);
    /* Bytes beyond the width (pitch padding) must not leak into the file. */
    img[W] = 0xffffffff;
    char path[] = "/tmp/kestrel-png-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char err[128];
    assert_int_equal(png_write_xrgb(path, img, W, H, PITCH, err, sizeof(err)), 0);
    size_t len;
    uint8_t *buf = slurp(path, &len);
    int w = 0, h = 0;
    uint32_t *px = decode(buf, len, &w, &h);
    assert_int_equal(w, W);
    assert_int_equal(h, H);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            assert_int_equal(px[y * W + x], img[y * (PITCH / 4) + x] & 0xffffff);
    free(px);
    free(buf);
    free(img);
    unlink(path);
}

static void test_png_errors(void **state)
{
    (void)state;
    uint32_t px[4] = { 0 };
    char err[128] = "";
    assert_int_equal(png_write_xrgb("/nonexistent-dir/x.png", px, 2, 2, 8, err,
                                    sizeof(err)), -1);
    assert_non_null(strstr(err, "/nonexistent-dir/x.png"));
    assert_int_equal(png_write_xrgb("/tmp/x.png", px, 0, 2, 8, err,
                                    sizeof(err)), -1);
    assert_int_equal(png_write_xrgb("/tmp/x.png", px, 2, 2, 4, err,
                                    sizeof(err)), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_png_roundtrip),
        cmocka_unit_test(test_png_errors),
    };
    return cmocka_run_group_tests_name("png", tests, NULL, NULL);
}
