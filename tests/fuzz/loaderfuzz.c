/* In-process mutation fuzzing of the kernel loaders (system/loader.h):
 * thousands of mutated bzImages and Multiboot images (ELF and a.out
 * kludge) go through load_linux_mem and load_multiboot_mem on a large and
 * a tiny RAM. Run under --enable-sanitizers, any out-of-bounds access
 * aborts the run; the driver itself checks the loaders' contract: 0, or
 * -1 with one non-empty message line.
 *   loaderfuzz SEED ITERATIONS [SEED-IMAGE...]
 * Besides the files given, three seeds are built here. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "system/loader.h"

static uint64_t rs;
static uint32_t rnd(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (uint32_t)(rs >> 16);
}
static uint32_t below(uint32_t n) { return n ? (uint32_t)(((uint64_t)rnd() * n) >> 32) : 0; }

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

typedef struct Img { uint8_t *p; size_t len; } Img;

/* A bzImage shape: boot sector signatures, 4 setup sectors, 64 KiB of
 * "kernel", protocol 2.15, relocatable, with init_size and pref_address. */
static Img make_bzimage(void)
{
    size_t len = 5 * 512 + 65536;
    uint8_t *p = calloc(1, len);
    p[0x1f1] = 4;
    put16(p + 0x1fe, 0xaa55);
    memcpy(p + 0x202, "HdrS", 4);
    put16(p + 0x206, 0x020f);
    p[0x211] = 0x01;                     /* loadflags: LOADED_HIGH */
    put32(p + 0x214, 0x100000);          /* code32_start */
    put32(p + 0x22c, 0x37ffffff);        /* initrd_addr_max */
    put32(p + 0x230, 0x200000);          /* kernel_alignment */
    p[0x234] = 1;                        /* relocatable */
    put32(p + 0x238, 2048);              /* cmdline_size */
    put32(p + 0x258, 0x100000);          /* pref_address (low half) */
    put32(p + 0x260, 0x200000);          /* init_size */
    return (Img){ p, len };
}

/* Multiboot ELF: one PT_LOAD at 1 MiB with the header in its first bytes. */
static Img make_mb_elf(void)
{
    size_t len = 0x3000;
    uint8_t *p = calloc(1, len);
    memcpy(p, "\x7f" "ELF", 4);
    p[4] = 1; p[5] = 1; p[6] = 1;
    put16(p + 16, 2); put16(p + 18, 3); put32(p + 20, 1);
    put32(p + 24, 0x100010);             /* entry */
    put32(p + 28, 52);                   /* phoff */
    put16(p + 40, 52); put16(p + 42, 32); put16(p + 44, 1); put16(p + 46, 40);
    uint8_t *ph = p + 52;
    put32(ph, 1); put32(ph + 4, 0x1000); put32(ph + 8, 0x100000);
    put32(ph + 12, 0x100000); put32(ph + 16, 0x1000); put32(ph + 20, 0x4000);
    put32(ph + 24, 7); put32(ph + 28, 0x1000);
    put32(p + 0x1000, 0x1badb002); put32(p + 0x1004, 3);
    put32(p + 0x1008, (uint32_t)-(0x1badb002 + 3));
    return (Img){ p, len };
}

/* Multiboot a.out kludge: flags bit 16 and the address fields. */
static Img make_mb_aout(void)
{
    size_t len = 0x2000;
    uint8_t *p = calloc(1, len);
    uint32_t f = 0x00010003;
    put32(p, 0x1badb002); put32(p + 4, f); put32(p + 8, (uint32_t)-(0x1badb002 + f));
    put32(p + 12, 0x100000); put32(p + 16, 0x100000); put32(p + 20, 0x101800);
    put32(p + 24, 0x108000); put32(p + 28, 0x100020);
    return (Img){ p, len };
}

static Img read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    Img m = { NULL, 0 };
    if (!f)
        return m;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (n > 0 && n < (16 << 20)) {
        m.p = malloc((size_t)n);
        if (fread(m.p, 1, (size_t)n, f) == (size_t)n)
            m.len = (size_t)n;
    }
    fclose(f);
    return m;
}

/* Header areas are where the parsers look: mutate there most often. */
static size_t hot_offset(size_t len)
{
    static const uint32_t hot[] = { 0, 0x18, 0x1c, 0x2c, 0x34, 0x38, 0x48,
        0x1f1, 0x202, 0x206, 0x211, 0x214, 0x218, 0x21c, 0x22c, 0x230,
        0x234, 0x238, 0x248, 0x24c, 0x258, 0x260, 0x1000, 0x1004, 0x100c,
        0x1010, 0x1014, 0x1018, 0x101c, 12, 16, 20, 24, 28 };
    size_t o = hot[below(sizeof hot / sizeof hot[0])] + below(8);
    return len ? o % len : 0;
}

static uint32_t edge(void)
{
    static const uint32_t e[] = { 0, 1, 0x7fffffff, 0x80000000u, 0xffffffffu,
        0xfffff000u, 0x100000, 0xffff, 0x10000, 0x1badb002, 0x400000 };
    return below(3) ? e[below(sizeof e / sizeof e[0])] : rnd();
}

static void mutate(Img *m)
{
    int n = 1 + (int)below(8);
    for (int i = 0; i < n && m->len; i++) {
        size_t o = below(2) ? hot_offset(m->len) : below((uint32_t)m->len);
        switch (below(5)) {
        case 0: m->p[o] ^= (uint8_t)(1u << below(8)); break;
        case 1: m->p[o] = (uint8_t)rnd(); break;
        case 2:
            if (o + 4 <= m->len)
                put32(m->p + o, edge());
            break;
        case 3:
            if (o + 2 <= m->len)
                put16(m->p + o, (uint16_t)edge());
            break;
        default:
            if (below(4) == 0)
                m->len = below((uint32_t)m->len + 1);    /* truncate */
            break;
        }
    }
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: loaderfuzz SEED ITERATIONS [IMAGE...]\n");
        return 2;
    }
    rs = strtoull(argv[1], NULL, 0) * 0x9e3779b97f4a7c15ull + 1;
    long iters = strtol(argv[2], NULL, 0);
    Img seeds[16];
    int ns = 0;
    seeds[ns++] = make_bzimage();
    seeds[ns++] = make_mb_elf();
    seeds[ns++] = make_mb_aout();
    for (int i = 3; i < argc && ns < 16; i++) {
        Img m = read_file(argv[i]);
        if (!m.len) {
            fprintf(stderr, "loaderfuzz: cannot read seed image '%s'\n", argv[i]);
            while (ns > 0)
                free(seeds[--ns].p);
            return 2;
        }
        seeds[ns++] = m;
    }
    static Bus big, tiny;
    bus_init(&big, 64 << 20);
    bus_init(&tiny, 2 << 20);
    CPUState *cpu = calloc(1, sizeof *cpu);
    long ok = 0, rejected = 0, bad = 0;
    uint8_t initrd[300];
    memset(initrd, 0x5a, sizeof initrd);
    char cmdline[5000];
    for (long it = 0; it < iters; it++) {
        Img s = seeds[below((uint32_t)ns)];
        Img m = { malloc(s.len ? s.len : 1), s.len };
        memcpy(m.p, s.p, s.len);
        mutate(&m);
        /* an exact-size copy so ASan sees any read past the end */
        uint8_t *exact = malloc(m.len ? m.len : 1);
        memcpy(exact, m.p, m.len);
        Bus *b = below(4) ? &big : &tiny;
        cpu->bus = b;
        size_t cl = below(4) == 0 ? below(sizeof cmdline) : below(40);
        memset(cmdline, 'x', cl);
        cmdline[cl] = 0;
        char err[256] = "";
        int r;
        if (m.len >= 0x202 + 4 && !memcmp(exact + 0x202, "HdrS", 4) && below(4))
            r = load_linux_mem(b, cpu, exact, m.len, below(2) ? initrd : NULL,
                               below(2) ? sizeof initrd : 0, cmdline, NULL,
                               err, sizeof err);
        else if (below(2))
            r = load_multiboot_mem(b, cpu, exact, m.len, "fuzz", NULL,
                                   cmdline, err, sizeof err);
        else {
            LinuxHeader h;
            MultibootHeader mh;
            r = linux_parse_header(exact, m.len, &h, err, sizeof err);
            if (r == 0)
                r = multiboot_find_header(exact, m.len, &mh, err, sizeof err) < 0 ? -1 : 0;
            else
                err[0] = err[0] ? err[0] : '?';
        }
        if (r == 0) {
            ok++;
        } else if (r == -1 && err[0] && !strchr(err, '\n')) {
            rejected++;
        } else {
            bad++;
            if (bad <= 5)
                fprintf(stderr, "loaderfuzz: iteration %ld: status %d with message '%s'\n",
                        it, r, err);
        }
        free(exact);
        free(m.p);
    }
    printf("loaderfuzz: %ld images: %ld loaded, %ld rejected with a message, %ld broke the contract\n",
           iters, ok, rejected, bad);
    printf("%ld passed, %ld failed\n", ok + rejected, bad);
    for (int i = 0; i < ns; i++)
        free(seeds[i].p);
    free(cpu);
    bus_free(&big);
    bus_free(&tiny);
    return bad ? 1 : 0;
}
