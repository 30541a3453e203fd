/* Runs the compute kernels (tests/tcg/kernels.c, a flat i386 image built by
 * gcc -m32) under the interpreter and the translator: both must produce
 * the same results, and the results with a closed form must match it.
 * Prints each engine's time too (information, never a pass criterion).
 *
 * Usage: run-kernels IMAGE [SCALE] */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "cpu_fixture.h"
#include "cpu/translate.h"

#define RESULTS 0x300000u
#define NRESULTS 12

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void code_write(void *opaque, uint64_t pa, size_t len)
{
    interp_invalidate(opaque, pa, len);
    tcg_cpu_invalidate(opaque, pa, len);
}

static int run(const uint8_t *img, size_t len, uint32_t scale, int accel,
               uint32_t out[NRESULTS], double *secs, uint64_t *insns)
{
    Fx *f = fx_new();
    f->bus.code_write = code_write;
    f->bus.code_write_opaque = f->c;
    memset(f->bus.ram + FX_HANDLERS, 0xf4, 256 * 16);   /* faults halt */
    bus_mem_rw(&f->bus, 0x100000, (void *)img, len, true);
    fx_w32(&f->bus, RESULTS + 0x100, scale);
    f->c->accel = accel;
    f->c->eip = 0x100000;
    double t0 = now();
    int i;
    for (i = 0; i < 100000; i++)
        if (cpu_exec(f->c, 10000000) == EXEC_HALTED)
            break;
    *secs = now() - t0;
    *insns = f->c->icount;
    int ok = i < 100000 &&
             !(f->c->eip >= FX_HANDLERS && f->c->eip < FX_HANDLERS + 4096);
    if (!ok)
        fprintf(stderr, "run-kernels: %s did not finish cleanly (eip %08x)\n",
                accel == ACCEL_TCG ? "tcg" : "interp", f->c->eip);
    memcpy(out, f->bus.ram + RESULTS, NRESULTS * 4);
    fx_free(f);
    return ok;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: run-kernels IMAGE [SCALE]\n");
        return 2;
    }
    FILE *fp = fopen(argv[1], "rb");
    if (!fp) {
        fprintf(stderr, "run-kernels: cannot open %s\n", argv[1]);
        return 2;
    }
    static uint8_t img[1 << 20];
    size_t len = fread(img, 1, sizeof(img), fp);
    fclose(fp);
    uint32_t scale = argc > 2 ? (uint32_t)atoi(argv[2]) : 2;
    if (scale < 1 || scale > 200) {
        fprintf(stderr, "run-kernels: SCALE must be 1..200\n");
        return 2;
    }
    uint32_t ri[NRESULTS], rt[NRESULTS];
    double si, st;
    uint64_t ni, nt;
    int pass = 0, fail = 0;
    /* KERNELS_TCG_ONLY=1 (profiling): skip the interpreter's run. */
    bool tcg_only = getenv("KERNELS_TCG_ONLY") != NULL;
    int okt = run(img, len, scale, ACCEL_TCG, rt, &st, &nt);
    int oki = tcg_only ? okt : run(img, len, scale, ACCEL_INTERP, ri, &si, &ni);
    if (tcg_only) {
        memcpy(ri, rt, sizeof(ri));
        si = st;
        ni = nt;
    }
    (oki && okt) ? pass++ : fail++;

    /* The same results from both engines. */
    if (memcmp(ri, rt, sizeof(ri)) == 0) {
        pass++;
    } else {
        fail++;
        for (int i = 0; i < NRESULTS; i++)
            if (ri[i] != rt[i])
                printf("result %d: interp %08x tcg %08x\n", i, ri[i], rt[i]);
    }
    /* Closed forms. */
    uint32_t total = 0, acc = 0;
    for (uint32_t r = 0; r < scale; r++)
        total += 8191 - r % 100;
    for (uint32_t r = 0; r < 2000 * scale; r++)
        for (uint32_t i = 1; i <= 1 + (r & 15); i++)
            acc += (i * i) ^ 5;
    const struct { const char *what; int idx; uint32_t want; } known[] = {
        { "quicksort leaves the array sorted", 9, 1 },
        { "byte copy + strlen total", 10, total },
        { "bytecode interpreter sum", 11, acc },
    };
    for (unsigned k = 0; k < sizeof(known) / sizeof(known[0]); k++) {
        if (rt[known[k].idx] == known[k].want) {
            pass++;
        } else {
            fail++;
            printf("FAIL %s: got %u want %u\n", known[k].what,
                   rt[known[k].idx], known[k].want);
        }
    }
    /* The same format as the image prints on QEMU's debug console, so the
     * two can be compared (tests/tcg/rules.mk does when QEMU is there). */
    printf("results:");
    for (int i = 0; i < NRESULTS; i++)
        printf(" %08x", rt[i]);
    printf("\n");
    printf("kernels (scale %u): interp %.3f s (%.0f M insns/s), tcg %.3f s "
           "(%.0f M insns/s), tcg %.1fx faster\n", scale, si,
           (double)ni / si / 1e6, st, (double)nt / st / 1e6, si / st);
    printf("run-kernels: %d passed, %d failed\n", pass, fail);
    return fail ? 1 : 0;
}
