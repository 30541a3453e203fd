/* A minimal PNG writer for screenshots: 8-bit RGB, one zlib stream in one
 * IDAT chunk, filter type 0 (none) on every row. The PNG specification
 * (ISO/IEC 15948) defines the chunk layout: a big-endian length, the
 * four-byte type, the data, and a CRC-32 over type and data. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "ui/console.h"

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static int write_chunk(FILE *f, const char type[4], const uint8_t *data,
                       uint32_t len)
{
    uint8_t hdr[8], crc_be[4];
    put_be32(hdr, len);
    memcpy(hdr + 4, type, 4);
    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc32(crc, hdr + 4, 4);
    if (len)
        crc = crc32(crc, data, len);
    put_be32(crc_be, (uint32_t)crc);
    if (fwrite(hdr, 1, 8, f) != 8 || (len && fwrite(data, 1, len, f) != len) ||
        fwrite(crc_be, 1, 4, f) != 4)
        return -1;
    return 0;
}

int png_write_xrgb(const char *path, const uint32_t *pixels, int w, int h,
                   int pitch, char *err, size_t n)
{
    static const uint8_t sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
    if (w <= 0 || h <= 0 || w > 65535 || h > 65535 || pitch < w * 4) {
        snprintf(err, n, "screendump: bad image size %dx%d", w, h);
        return -1;
    }
    size_t row = (size_t)w * 3 + 1;
    size_t raw_len = row * (size_t)h;
    uint8_t *raw = malloc(raw_len);
    uLongf zlen = compressBound((uLong)raw_len);
    uint8_t *z = malloc(zlen);
    if (!raw || !z) {
        free(raw);
        free(z);
        snprintf(err, n, "screendump: out of memory");
        return -1;
    }
    for (int y = 0; y < h; y++) {
        uint8_t *o = raw + row * (size_t)y;
        const uint8_t *src = (const uint8_t *)pixels + (size_t)y * pitch;
        *o++ = 0;                                  /* filter: none */
        for (int x = 0; x < w; x++) {
            uint32_t p;
            memcpy(&p, src + 4 * (size_t)x, 4);
            *o++ = (uint8_t)(p >> 16);
            *o++ = (uint8_t)(p >> 8);
            *o++ = (uint8_t)p;
        }
    }
    int rc = compress2(z, &zlen, raw, (uLong)raw_len, 6);
    free(raw);
    if (rc != Z_OK) {
        free(z);
        snprintf(err, n, "screendump: zlib error %d", rc);
        return -1;
    }
    FILE *f = fopen(path, "wb");
    if (!f) {
        free(z);
        snprintf(err, n, "screendump: cannot create '%s': %s", path,
                 strerror(errno));
        return -1;
    }
    uint8_t ihdr[13];
    put_be32(ihdr, (uint32_t)w);
    put_be32(ihdr + 4, (uint32_t)h);
    ihdr[8] = 8;        /* bit depth */
    ihdr[9] = 2;        /* colour type: truecolour */
    ihdr[10] = 0;       /* deflate */
    ihdr[11] = 0;       /* adaptive filtering */
    ihdr[12] = 0;       /* no interlace */
    bool bad = fwrite(sig, 1, 8, f) != 8 ||
               write_chunk(f, "IHDR", ihdr, 13) ||
               write_chunk(f, "IDAT", z, (uint32_t)zlen) ||
               write_chunk(f, "IEND", NULL, 0);
    free(z);
    if (fclose(f) != 0)
        bad = true;
    if (bad) {
        snprintf(err, n, "screendump: cannot write '%s': %s", path,
                 strerror(errno));
        remove(path);
        return -1;
    }
    return 0;
}
