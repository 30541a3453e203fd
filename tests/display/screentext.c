/* screentext: reads a Kestrel screenshot (PNG) back, independently of the
 * code that wrote it, and reports what a person would see.
 *
 *   screentext FILE.png [VGABIOS.bin]
 *   screentext --diff A B [TOL]  (PNG or binary PPM, e.g. from QEMU)
 *   screentext --pixel FILE X Y   (prints the pixel as RRGGBB)
 *
 * Prints "size WxH colours C lit L" (L: pixels that differ from the most
 * common colour) and, when the picture is a text screen of 80 columns and
 * a VGA BIOS image is given, the screen's text recognised cell by cell
 * against the 8x16 font inside that BIOS (not the font Kestrel drew with:
 * Kestrel draws what the guest loaded into plane 2).
 * --diff prints "diff N of M pixels" (N pixels with a channel more than
 * TOL, default 3, apart; M in all) when
 * the sizes match, "size WxH vs WxH" otherwise.
 * Exit status 0 when the files are valid pictures, 1 otherwise. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap)
            buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    *len = n;
    return buf;
}

static int fail(const char *msg)
{
    fprintf(stderr, "screentext: %s\n", msg);
    return 1;
}

static int paeth(int a, int b, int c)
{
    int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
    return (pa <= pb && pa <= pc) ? a : (pb <= pc ? b : c);
}

/* Decodes 8-bit RGB (colour type 2) or RGBA (6), non-interlaced, any
 * filter, checking every chunk CRC. */
static uint32_t *decode_png(const uint8_t *buf, size_t len, int *w, int *h)
{
    static const uint8_t sig[8] = { 0x89, 'P', 'N', 'G', 13, 10, 26, 10 };
    if (len < 8 || memcmp(buf, sig, 8))
        return NULL;
    size_t pos = 8, zlen = 0;
    uint8_t *z = NULL;
    int ctype = -1;
    bool end = false;
    while (!end && pos + 12 <= len) {
        uint32_t clen = be32(buf + pos);
        if (clen > len - pos - 12)
            return NULL;
        const uint8_t *type = buf + pos + 4, *d = buf + pos + 8;
        if ((uint32_t)crc32(crc32(0, Z_NULL, 0), type, 4 + clen) != be32(d + clen)) {
            fprintf(stderr, "screentext: bad CRC in %.4s\n", (const char *)type);
            return NULL;
        }
        if (!memcmp(type, "IHDR", 4) && clen == 13) {
            *w = (int)be32(d);
            *h = (int)be32(d + 4);
            if (d[8] != 8 || (d[9] != 2 && d[9] != 6) || d[12] != 0)
                return NULL;
            ctype = d[9];
        } else if (!memcmp(type, "IDAT", 4)) {
            z = realloc(z, zlen + clen);
            memcpy(z + zlen, d, clen);
            zlen += clen;
        } else if (!memcmp(type, "IEND", 4)) {
            end = true;
        }
        pos += 12 + clen;
    }
    if (!end || ctype < 0 || !z || *w <= 0 || *h <= 0 || *w > 8192 || *h > 8192)
        return NULL;
    int bpp = ctype == 6 ? 4 : 3;
    size_t stride = (size_t)*w * bpp;
    uLongf rawlen = (uLongf)((stride + 1) * *h), got = rawlen;
    uint8_t *raw = malloc(rawlen);
    if (uncompress(raw, &got, z, zlen) != Z_OK || got != rawlen) {
        free(raw);
        free(z);
        return NULL;
    }
    free(z);
    uint8_t *prev = calloc(stride, 1), *cur = malloc(stride);
    uint32_t *px = malloc((size_t)*w * *h * 4);
    for (int y = 0; y < *h; y++) {
        const uint8_t *row = raw + (stride + 1) * y;
        int f = row[0];
        for (size_t i = 0; i < stride; i++) {
            int a = i >= (size_t)bpp ? cur[i - bpp] : 0, b = prev[i];
            int c = i >= (size_t)bpp ? prev[i - bpp] : 0, x = row[1 + i];
            switch (f) {
            case 0: cur[i] = (uint8_t)x; break;
            case 1: cur[i] = (uint8_t)(x + a); break;
            case 2: cur[i] = (uint8_t)(x + b); break;
            case 3: cur[i] = (uint8_t)(x + (a + b) / 2); break;
            case 4: cur[i] = (uint8_t)(x + paeth(a, b, c)); break;
            default: free(raw); free(prev); free(cur); free(px); return NULL;
            }
        }
        for (int x = 0; x < *w; x++)
            px[y * *w + x] = (uint32_t)cur[x * bpp] << 16 |
                             (uint32_t)cur[x * bpp + 1] << 8 | cur[x * bpp + 2];
        memcpy(prev, cur, stride);
    }
    free(raw);
    free(prev);
    free(cur);
    return px;
}

/* Binary PPM (P6, maxval 255), QEMU's default screendump format. */
static uint32_t *decode_ppm(const uint8_t *buf, size_t len, int *w, int *h)
{
    if (len < 2 || buf[0] != 'P' || buf[1] != '6')
        return NULL;
    size_t pos = 2;
    long v[3];
    for (int i = 0; i < 3; i++) {
        while (pos < len && (buf[pos] == ' ' || buf[pos] == '\n' ||
                             buf[pos] == '\r' || buf[pos] == '\t' ||
                             buf[pos] == '#')) {
            if (buf[pos] == '#')
                while (pos < len && buf[pos] != '\n')
                    pos++;
            else
                pos++;
        }
        v[i] = 0;
        while (pos < len && buf[pos] >= '0' && buf[pos] <= '9')
            v[i] = v[i] * 10 + (buf[pos++] - '0');
    }
    pos++;
    if (v[0] <= 0 || v[1] <= 0 || v[0] > 8192 || v[1] > 8192 || v[2] != 255 ||
        len - pos < (size_t)(v[0] * v[1] * 3))
        return NULL;
    *w = (int)v[0];
    *h = (int)v[1];
    uint32_t *px = malloc((size_t)*w * *h * 4);
    for (long i = 0; i < v[0] * v[1]; i++)
        px[i] = (uint32_t)buf[pos + 3 * i] << 16 |
                (uint32_t)buf[pos + 3 * i + 1] << 8 | buf[pos + 3 * i + 2];
    return px;
}

static uint32_t *load_picture(const char *path, int *w, int *h)
{
    size_t len;
    uint8_t *buf = slurp(path, &len);
    if (!buf)
        return NULL;
    uint32_t *px = len > 2 && buf[0] == 'P' ? decode_ppm(buf, len, w, h)
                                            : decode_png(buf, len, w, h);
    free(buf);
    return px;
}

static int diff_main(const char *a, const char *b, int tol)
{
    int wa = 0, ha = 0, wb = 0, hb = 0;
    uint32_t *pa = load_picture(a, &wa, &ha), *pb = load_picture(b, &wb, &hb);
    if (!pa || !pb) {
        free(pa);
        free(pb);
        return fail("cannot decode both pictures");
    }
    if (wa != wb || ha != hb) {
        printf("size %dx%d vs %dx%d\n", wa, ha, wb, hb);
    } else {
        /* 6-bit DAC values widen to 8 bits differently from one emulator
         * to another (0x15 -> 0x55 or 0x57): channels within 3 match. */
        long n = 0, exact = 0, first = -1;
        for (long i = 0; i < (long)wa * ha; i++) {
            if (pa[i] == pb[i])
                continue;
            exact++;
            bool near = true;
            for (int sh = 0; sh < 24; sh += 8) {
                int d = (int)((pa[i] >> sh) & 255) - (int)((pb[i] >> sh) & 255);
                near = near && d >= -tol && d <= tol;
            }
            if (near)
                continue;
            if (first < 0)
                first = i;
            n++;
        }
        printf("diff %ld of %ld pixels (%ld not identical)", n, (long)wa * ha,
               exact);
        if (first >= 0)
            printf(" (first at %ld,%ld: %06x vs %06x)", first % wa, first / wa,
                   pa[first], pb[first]);
        printf("\n");
    }
    free(pa);
    free(pb);
    return 0;
}

static long find_font(const uint8_t *rom, size_t len)
{
    /* NUL and space are empty and 0xDB is the full block in every PC font. */
    for (size_t o = 0; o + 4096 <= len; o++) {
        bool ok = true;
        for (int y = 0; y < 16 && ok; y++)
            ok = rom[o + y] == 0 && rom[o + 0x200 + y] == 0 &&
                 rom[o + 0xdb * 16 + y] == 0xff;
        if (ok)
            return (long)o;
    }
    return -1;
}

static char recognise(const uint32_t *px, int w, int x0, int y0, int cw,
                      const uint8_t *font)
{
    /* The background is the cell's most common colour. */
    uint32_t cols[4];
    int counts[4] = { 0 }, ncol = 0;
    for (int y = 0; y < 16; y++)
        for (int x = 0; x < cw; x++) {
            uint32_t c = px[(y0 + y) * w + x0 + x];
            int k = 0;
            while (k < ncol && cols[k] != c)
                k++;
            if (k == ncol) {
                if (ncol == 4)
                    return '?';
                cols[ncol++] = c;
            }
            counts[k]++;
        }
    int bgk = 0;
    for (int k = 1; k < ncol; k++)
        if (counts[k] > counts[bgk])
            bgk = k;
    uint8_t bits[16];
    for (int y = 0; y < 16; y++) {
        bits[y] = 0;
        for (int x = 0; x < 8; x++)
            if (px[(y0 + y) * w + x0 + x] != cols[bgk])
                bits[y] |= (uint8_t)(0x80 >> x);
    }
    /* Exact glyphs first; then allow fully lit rows low in the cell to be
     * the text cursor drawn over the character. */
    int best = ' ', best_d = 1 << 30, best_c = ' ', best_cd = 1 << 30;
    for (int ch = 0x20; ch < 0x7f; ch++) {
        int d = 0, dc = 0;
        for (int y = 0; y < 16; y++) {
            int e = __builtin_popcount(bits[y] ^ font[ch * 16 + y]);
            d += e;
            if (!(bits[y] == 0xff && y >= 12))
                dc += e;
        }
        if (d < best_d) {
            best_d = d;
            best = ch;
        }
        if (dc < best_cd) {
            best_cd = dc;
            best_c = ch;
        }
    }
    if (best_d <= 3)
        return (char)best;
    return best_cd <= 3 ? (char)best_c : '?';
}

int main(int argc, char **argv)
{
    if ((argc == 4 || argc == 5) && !strcmp(argv[1], "--diff"))
        return diff_main(argv[2], argv[3], argc == 5 ? atoi(argv[4]) : 3);
    if (argc == 5 && !strcmp(argv[1], "--pixel")) {
        int w = 0, h = 0, x = atoi(argv[3]), y = atoi(argv[4]);
        uint32_t *px = load_picture(argv[2], &w, &h);
        if (!px)
            return fail("cannot decode the picture");
        if (x < 0 || y < 0 || x >= w || y >= h) {
            free(px);
            return fail("pixel outside the picture");
        }
        printf("%06x\n", px[(long)y * w + x]);
        free(px);
        return 0;
    }
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: screentext FILE.png [VGABIOS.bin]\n"
                        "       screentext --diff A B\n");
        return 2;
    }
    size_t len;
    int w = 0, h = 0;
    uint32_t *px = load_picture(argv[1], &w, &h);
    if (!px)
        return fail("not a readable 8-bit RGB PNG (or PPM)");
    /* Colour statistics. */
    uint32_t seen[256];
    int nseen = 0;
    uint32_t bg = px[0];
    long lit = 0;
    for (long i = 0; i < (long)w * h; i++) {
        int k = 0;
        while (k < nseen && seen[k] != px[i])
            k++;
        if (k == nseen && nseen < 256)
            seen[nseen++] = px[i];
    }
    /* The most common colour is the background (sampled on a grid). */
    int best = 0;
    for (int k = 0; k < nseen && k < 16; k++) {
        int c = 0;
        for (long i = 0; i < (long)w * h; i += 7)
            c += px[i] == seen[k];
        if (c > best) {
            best = c;
            bg = seen[k];
        }
    }
    for (long i = 0; i < (long)w * h; i++)
        lit += px[i] != bg;
    printf("size %dx%d colours %d lit %ld\n", w, h, nseen, lit);

    if (argc == 3 && w % 80 == 0 && (w / 80 == 8 || w / 80 == 9) && h % 16 == 0) {
        uint8_t *rom = slurp(argv[2], &len);
        long off = rom ? find_font(rom, len) : -1;
        if (off < 0) {
            free(px);
            free(rom);
            return fail("no 8x16 font in the VGA BIOS image");
        }
        int cw = w / 80;
        for (int row = 0; row < h / 16; row++) {
            char line[81];
            for (int col = 0; col < 80; col++)
                line[col] = recognise(px, w, col * cw, row * 16, cw, rom + off);
            int n = 80;
            while (n > 0 && line[n - 1] == ' ')
                n--;
            line[n] = 0;
            printf("|%s\n", line);
        }
        free(rom);
    }
    free(px);
    return 0;
}
