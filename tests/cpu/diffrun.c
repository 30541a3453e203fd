/* Runs the differential test's cases (tests/diff, cases.bin) directly in
 * the interpreter, without a board or a guest kernel: each case's code
 * runs at CPL 3 in flat 32-bit protected mode at the same addresses the
 * native runner uses, and the results are written in the native runner's
 * format for difftest-compare. This checks the reference interpreter
 * against the host CPU before a machine can boot the Multiboot guest.
 *
 * Usage: diffrun CASES.bin ACTUAL.bin */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cpu/cpu.h"
#include "hw/bus.h"
#include "../diff/difftest.h"

#define RAM_SIZE    (32u << 20)
#define GDT         0x3800u
#define IDT         0x2000u
#define TSS         0x3000u
#define HANDLERS    0x9000u          /* vector v at HANDLERS + 16 v */
#define STACK0      0x7000u
#define EXIT_ADDR   0x00800000u      /* where the exit jump leads */
#define MAX_STEPS   200000

static Bus bus;
static CPUState *cpu;

static void code_write(void *opaque, uint64_t pa, size_t len)
{
    interp_invalidate(opaque, pa, len);
}

static void w32(uint32_t a, uint32_t v) { bus_mem_rw(&bus, a, &v, 4, true); }

static void setup_tables(void)
{
    static const uint32_t gdt[][2] = {
        { 0, 0 }, { 0x0000ffff, 0x00cf9a00 }, { 0x0000ffff, 0x00cf9200 },
        { 0x0000ffff, 0x00cffa00 }, { 0x0000ffff, 0x00cff200 },
        { 0x0067 | (TSS << 16), 0x00008900 },
    };
    for (unsigned i = 0; i < 6; i++) {
        w32(GDT + 8 * i, gdt[i][0]);
        w32(GDT + 8 * i + 4, gdt[i][1]);
    }
    w32(TSS + 4, STACK0);
    w32(TSS + 8, 0x10);
    w32(TSS + 0x64, 0x00680000);         /* I/O map base past the limit */
    for (uint32_t v = 0; v < 256; v++) {
        uint32_t h = HANDLERS + 16 * v;
        uint32_t dpl = (v == 3 || v == 4) ? 3 : 0;
        w32(IDT + 8 * v, (h & 0xffff) | (0x08u << 16));
        w32(IDT + 8 * v + 4, (h & 0xffff0000u) | 0x8e00 | (dpl << 13));
    }
}

/* Ring 0 first (to load TR), then drop to a flat ring-3 state. */
static void enter_user(void)
{
    CPUState *c = cpu;
    cpu_reset(c);
    c->gdt.base = GDT;
    c->gdt.limit = 6 * 8 - 1;
    c->idt.base = IDT;
    c->idt.limit = 256 * 8 - 1;
    cpu_set_cr0(c, c->cr0 | CR0_PE);
    c->cpl = 0;
    c->seg[R_CS] = (SegCache){ 0x08, 0, 0xffffffffu, 0x00c09b00 };
    w32(GDT + 0x28 + 4, 0x00008900);     /* LTR marked it busy last time */
    cpu_load_seg(c, R_SS, 0x10);
    cpu_ltr(c, 0x28);
    c->seg[R_CS] = (SegCache){ 0x1b, 0, 0xffffffffu, 0x00c0fb00 };
    c->cpl = 3;
    for (int s = R_ES; s <= R_GS; s++)
        if (s != R_CS)
            cpu_load_seg(c, s, 0x23);
}

static int handler_vector(const CPUState *c)
{
    uint32_t e = c->eip;
    if (c->cpl == 0 && e >= HANDLERS && e < HANDLERS + 256 * 16 && !(e & 15))
        return (int)((e - HANDLERS) / 16);
    return -1;
}

/* Runs until the exit jump lands, an exception reaches its handler, or
 * the step limit. Returns 0, DT_ST_EXC | vector or DT_ST_TIMEOUT. At an
 * exception, *fault_eip, *user_esp and *user_efl are what the ring-0
 * frame recorded: the state the CPU saw at the fault. */
static uint32_t run_case(CPUState *c, uint32_t *fault_eip, uint32_t *user_esp,
                         uint32_t *user_efl)
{
    volatile int steps = 0;
    if (setjmp(c->jmp_env))
        steps++;
    while (steps < MAX_STEPS) {
        int v = handler_vector(c);
        if (v >= 0) {
            /* error-code vectors push one more word before EIP */
            bool err = v == 8 || (v >= 10 && v <= 14) || v == 17;
            uint32_t fr = c->regs[R_ESP] + (err ? 4 : 0);
            *fault_eip = cpu_ld_sys(c, fr, 4);
            *user_efl = cpu_ld_sys(c, fr + 8, 4);
            *user_esp = cpu_ld_sys(c, fr + 12, 4);
            return DT_ST_EXC | (uint32_t)v;
        }
        if (c->eip == EXIT_ADDR)
            return DT_ST_OK;
        steps++;
        interp_step(c);
    }
    return DT_ST_TIMEOUT;
}

static uint8_t *load_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = n > 0 ? malloc((size_t)n) : NULL;
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = b ? (size_t)n : 0;
    return b;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: diffrun CASES.bin ACTUAL.bin\n");
        return 2;
    }
    size_t len;
    uint8_t *buf = load_file(argv[1], &len);
    struct dt_file_header h;
    if (!buf || len < sizeof h) {
        fprintf(stderr, "diffrun: cannot read %s\n", argv[1]);
        return 2;
    }
    memcpy(&h, buf, sizeof h);
    if (h.magic != DT_FILE_MAGIC || h.version != DT_VERSION) {
        fprintf(stderr, "diffrun: %s is not a cases file\n", argv[1]);
        return 2;
    }
    FILE *out = fopen(argv[2], "wb");
    if (!out) {
        fprintf(stderr, "diffrun: cannot create %s\n", argv[2]);
        return 2;
    }
    bus_init(&bus, RAM_SIZE);
    cpu = cpu_new(&bus);
    if (!cpu) {
        fprintf(stderr, "diffrun: cannot create the CPU\n");
        return 2;
    }
    cpu->accel = ACCEL_INTERP;
    bus.code_write = code_write;
    bus.code_write_opaque = cpu;
    setup_tables();

    static uint8_t init[DT_SCRATCH_SIZE], now[DT_SCRATCH_SIZE];
    static uint32_t mem[DT_SCRATCH_SIZE];
    size_t off = sizeof h;
    uint32_t done = 0;
    for (uint32_t i = 0; i < h.count; i++) {
        struct dt_case cs;
        if (off + sizeof cs > len)
            break;
        memcpy(&cs, buf + off, sizeof cs);
        if (cs.magic != DT_CASE_MAGIC || cs.code_len > DT_CODE_MAX ||
            off + sizeof cs + dt_code_padded(cs.code_len) > len)
            break;
        const uint8_t *code = buf + off + sizeof cs;
        off += sizeof cs + dt_code_padded(cs.code_len);

        CPUState *c = cpu;
        if (setjmp(c->jmp_env)) {
            fprintf(stderr, "diffrun: cannot set up the CPU\n");
            return 2;
        }
        enter_user();
        uint8_t tail[6];
        dt_fill_scratch(init, cs.mem_seed);
        bus_mem_rw(&bus, DT_SCRATCH, init, sizeof init, true);
        bus_mem_rw(&bus, DT_CODE, (void *)code, cs.code_len, true);
        dt_put_exit_jump(tail);
        bus_mem_rw(&bus, DT_CODE + cs.code_len, tail, sizeof tail, true);
        w32(DT_CTRL + DT_C_EXIT, EXIT_ADDR);
        memcpy(c->regs, cs.regs, sizeof c->regs);
        cpu_set_eflags(c, (cs.eflags & DT_FL_CASE) | EF_IF,
                       DT_FL_CASE | EF_IF);
        c->eip = DT_CODE;

        struct dt_result r = { .magic = DT_RES_MAGIC, .index = cs.index };
        uint32_t uesp = 0, uefl = 0;
        r.status = run_case(c, &r.fault_eip, &uesp, &uefl);
        memcpy(r.regs, c->regs, sizeof r.regs);
        r.eflags = cpu_get_eflags(c);
        if ((r.status & 0xf00) == DT_ST_EXC) {
            r.regs[R_ESP] = uesp;
            r.eflags = uefl;
        }
        bus_mem_rw(&bus, DT_SCRATCH, now, sizeof now, false);
        uint32_t n = 0;
        for (uint32_t k = 0; k < DT_SCRATCH_SIZE; k++)
            if (now[k] != init[k])
                mem[n++] = k << 8 | now[k];
        r.n_mem = n;
        fwrite(&r, sizeof r, 1, out);
        fwrite(mem, sizeof *mem, n, out);
        done++;
    }
    struct dt_done d = { DT_DONE_MAGIC, done };
    fwrite(&d, sizeof d, 1, out);
    fclose(out);
    cpu_free(cpu);
    bus_free(&bus);
    free(buf);
    return done == h.count ? 0 : 1;
}
