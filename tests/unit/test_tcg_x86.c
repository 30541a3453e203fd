/* The translator against the reference interpreter: random guest code
 * runs under -accel interp and under -accel tcg from the same state, and
 * registers, flags, EIP and memory must agree. Plus self-modifying code,
 * whose expected results follow from the x86 rule that a store into the
 * instruction stream is seen by the next fetch. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <cmocka.h>
#include "cpu_fixture.h"
#include "cpu/translate.h"
#include "debug/trace.h"

#define CODE 0x100000u
#define DATA 0x200000u
#define DATA_SIZE 0x1000u

static void code_write(void *opaque, uint64_t pa, size_t len)
{
    CPUState *c = opaque;
    interp_invalidate(c, pa, len);
    tcg_cpu_invalidate(c, pa, len);
}

static Fx *new_machine(void)
{
    Fx *f = fx_new();
    f->bus.code_write = code_write;
    f->bus.code_write_opaque = f->c;
    /* Every exception vector lands on HLT, so a fault ends the run at a
     * comparable EIP. */
    memset(f->bus.ram + FX_HANDLERS, 0xf4, 256 * 16);
    return f;
}

/* cpu/interp.c frees its decode cache here; cpu_free does not (yet). */
void interp_free_cache(CPUState *c);
static void free_machine(Fx *f)
{
    interp_free_cache(f->c);
    fx_free(f);
}

static void run_to_halt(CPUState *c)
{
    for (int i = 0; i < 1000; i++)
        if (cpu_exec(c, 100000) == EXEC_HALTED)
            return;
    fail_msg("guest did not halt");
}

/* ---- a random program generator (raw encodings) ---- */

static uint32_t rs = 0x1234567;
static uint32_t rnd(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 17;
    rs ^= rs << 5;
    return rs;
}

typedef struct Gen { uint8_t *p; uint32_t at; } Gen;   /* at: offset in CS */

/* The machine state a case runs in. */
enum { M_PM32, M_USER, M_SEGS, M_REAL, M_PAGED, M_COUNT };
static const char *const mode_names[M_COUNT] = {
    "flat ring 0", "flat ring 3", "DS/ES with bases and limits", "real mode",
    "ring 3, paging, read-only data page" };
static int gmode;
static bool g16(void) { return gmode == M_REAL; }

static void b(Gen *g, unsigned v) { *g->p++ = (uint8_t)v; g->at++; }
static void d32(Gen *g, uint32_t v) { for (int i = 0; i < 4; i++) b(g, (v >> (8 * i)) & 0xff); }
static void d16(Gen *g, uint32_t v) { b(g, v & 0xff); b(g, (v >> 8) & 0xff); }
/* An immediate of the default operand size. */
static void dimm(Gen *g, uint32_t v) { if (g16()) d16(g, v); else d32(g, v); }

/* A general register other than ESP. */
static unsigned greg(void)
{
    unsigned r;
    do r = rnd() % 8; while (r == 4);
    return r;
}

/* The data area as an offset in DS (flat modes: its linear address). */
static uint32_t data_base(void)
{
    return gmode == M_PM32 || gmode == M_USER || gmode == M_PAGED ? DATA : 0;
}

static uint32_t daddr(int size)
{
    /* With a segment limit, now and then an access just past it. */
    if (gmode == M_SEGS && rnd() % 64 == 0)
        return 0xffe;                      /* limit 0xfff: #GP */
    return data_base() + (rnd() % (DATA_SIZE - 8)) / (unsigned)size *
           (unsigned)size + (rnd() % 4 == 0 ? 1 : 0);
}

static void modrm_abs(Gen *g, unsigned reg, int size)
{
    if (g16()) {
        b(g, (reg & 7) << 3 | 6);
        d16(g, daddr(size));
    } else {
        b(g, (reg & 7) << 3 | 5);
        d32(g, daddr(size));
    }
}

static void one_insn(Gen *g)
{
    static const uint8_t alu[8] = { 0x01, 0x09, 0x11, 0x19, 0x21, 0x29, 0x31, 0x39 };
    unsigned k = rnd() % 36;
    switch (k) {
    case 0: case 1: case 2:                 /* alu r32, r32 */
        b(g, alu[rnd() % 8]);
        b(g, 0xc0 | greg() << 3 | greg());
        break;
    case 3:                                 /* alu r8, r8 (AH..BH too) */
        b(g, alu[rnd() % 8] - 1);
        b(g, 0xc0 | (rnd() % 8) << 3 | (rnd() % 8));
        break;
    case 4:                                 /* alu r16, r16 */
        b(g, 0x66);
        b(g, alu[rnd() % 8]);
        b(g, 0xc0 | greg() << 3 | greg());
        break;
    case 5:                                 /* alu r32, imm32 / imm8 */
        if (rnd() & 1) {
            b(g, 0x81); b(g, 0xc0 | (rnd() % 8) << 3 | greg()); dimm(g, rnd());
        } else {
            b(g, 0x83); b(g, 0xc0 | (rnd() % 8) << 3 | greg()); b(g, rnd());
        }
        break;
    case 6:                                 /* alu [mem], r / r, [mem] */
        b(g, alu[rnd() % 8] + ((rnd() & 1) ? 2 : 0) - ((rnd() % 3 == 0) ? 1 : 0));
        modrm_abs(g, greg(), 4);
        break;
    case 7:                                 /* alu [mem], imm8 */
        b(g, 0x83); modrm_abs(g, rnd() % 8, 4); b(g, rnd());
        break;
    case 8:                                 /* inc/dec r32 */
        b(g, ((rnd() & 1) ? 0x40 : 0x48) + greg());
        break;
    case 9:                                 /* inc/dec/not/neg r/m */
        if (rnd() & 1) {
            b(g, 0xfe + (rnd() & 1)); b(g, 0xc0 | (rnd() & 1) << 3 | (rnd() % 8));
        } else {
            b(g, 0xf7 - (rnd() & 1)); b(g, 0xc0 | (2 + rnd() % 2) << 3 | greg());
        }
        break;
    case 10:                                /* mov r, imm32 */
        b(g, 0xb8 + greg()); dimm(g, rnd());
        break;
    case 11:                                /* mov r, r / [mem] both ways */
        b(g, 0x89 + (rnd() % 2) * 2 - (rnd() % 3 == 0));
        if (rnd() & 1)
            b(g, 0xc0 | greg() << 3 | greg());
        else
            modrm_abs(g, greg(), 4);
        break;
    case 12:                                /* movzx / movsx */
        b(g, 0x0f); b(g, (rnd() & 1 ? 0xb6 : 0xbe) + (rnd() & 1));
        if (rnd() & 1)
            b(g, 0xc0 | greg() << 3 | (rnd() % 8));
        else
            modrm_abs(g, greg(), 2);
        break;
    case 13:                                /* lea r, [r + r*s + disp] */
        if (g16()) {
            b(g, 0x8d); b(g, greg() << 3 | 0x80 | (rnd() % 8)); d16(g, rnd());
        } else {
            b(g, 0x8d); b(g, greg() << 3 | 0x84);
            b(g, (rnd() % 4) << 6 | greg() << 3 | greg()); d32(g, rnd());
        }
        break;
    case 14:                                /* xchg */
        b(g, 0x87);
        if (rnd() & 1)
            b(g, 0xc0 | greg() << 3 | greg());
        else
            modrm_abs(g, greg(), 4);
        break;
    case 15:                                /* test */
        if (rnd() & 1) {
            b(g, 0x85); b(g, 0xc0 | greg() << 3 | greg());
        } else {
            b(g, 0xa9); dimm(g, rnd());
        }
        break;
    case 16: case 17:                       /* setcc r8 / [mem] */
        b(g, 0x0f); b(g, 0x90 + rnd() % 16);
        if (rnd() & 1)
            b(g, 0xc0 | (rnd() % 8));
        else
            modrm_abs(g, 0, 1);
        break;
    case 18: case 19:                       /* cmovcc r32, r/m32 */
        b(g, 0x0f); b(g, 0x40 + rnd() % 16);
        if (rnd() & 1)
            b(g, 0xc0 | greg() << 3 | greg());
        else
            modrm_abs(g, greg(), 4);
        break;
    case 20:                                /* push r / push imm / pop r */
        switch (rnd() % 3) {
        case 0: b(g, 0x50 + rnd() % 8); break;
        case 1: b(g, 0x68); dimm(g, rnd()); break;
        default: b(g, 0x6a); b(g, rnd()); break;
        }
        b(g, 0x58 + greg());
        break;
    case 21:                                /* shifts and rotates */
        switch (rnd() % 4) {
        case 0:
            b(g, 0xc1); b(g, 0xc0 | (rnd() % 8) << 3 | greg()); b(g, rnd() % 40);
            break;
        case 1:                             /* by one, 8/32-bit */
            b(g, 0xd0 + (rnd() & 1)); b(g, 0xc0 | (rnd() % 8) << 3 | greg());
            break;
        case 2:                             /* by CL */
            b(g, 0xd3); b(g, 0xc0 | (rnd() % 8) << 3 | greg());
            break;
        default:                            /* memory, then an ALU op */
            b(g, 0xc1); modrm_abs(g, rnd() % 8, 4); b(g, rnd() % 34);
            b(g, alu[rnd() % 8]); b(g, 0xc0 | greg() << 3 | greg());
            break;
        }
        break;
    case 22:                                /* imul r, r/m [, imm] */
        if (rnd() & 1) {
            b(g, 0x0f); b(g, 0xaf); b(g, 0xc0 | greg() << 3 | greg());
        } else if (rnd() & 1) {
            b(g, 0x6b); b(g, 0xc0 | greg() << 3 | greg()); b(g, rnd());
        } else {
            b(g, 0x69); modrm_abs(g, greg(), 4); dimm(g, rnd());
        }
        if (rnd() & 1) {                    /* flags dead or read */
            b(g, alu[rnd() % 8]); b(g, 0xc0 | greg() << 3 | greg());
        }
        break;
    case 23:                                /* mul / imul edx:eax */
        b(g, 0xf7); b(g, 0xc0 | (4 + rnd() % 2) << 3 | greg());
        break;
    case 24: {                              /* jcc over the next insn */
        uint8_t buf[32];
        Gen sub = { buf, g->at + 2 };
        one_insn(&sub);
        int n = (int)(sub.p - buf);
        b(g, 0x70 + rnd() % 16); b(g, (unsigned)n);
        for (int i = 0; i < n; i++)
            b(g, buf[i]);
        break;
    }
    case 25:                                /* call next; pop r */
        b(g, 0xe8); dimm(g, 0);
        b(g, 0x58 + greg());
        break;
    case 26:                                /* push next; ret */
        b(g, 0x68); dimm(g, g->at + (g16() ? 3 : 5));
        b(g, 0xc3);
        break;
    case 27:                                /* flag instructions */
        b(g, (const uint8_t[]){ 0xf8, 0xf9, 0xf5, 0xfc, 0xfd, 0x98, 0x99,
                                0x9f }[rnd() % 8]);
        break;
    case 28:                                /* 16-bit operand mov/alu imm */
        b(g, 0x66); b(g, 0x81); b(g, 0xc0 | (rnd() % 8) << 3 | greg());
        if (g16())
            d32(g, rnd());
        else
            d16(g, rnd());
        break;
    case 29: {                              /* a short rep movs/stos */
        /* Away from the area's edges: with DF=1 they run downwards. */
        b(g, 0xbe); dimm(g, data_base() + (1 + rnd() % 3) * 0x100); /* esi */
        b(g, 0xbf); dimm(g, data_base() + (1 + rnd() % 3) * 0x100 + 8);
        b(g, 0xb9); dimm(g, rnd() % 9);                 /* mov ecx */
        if (rnd() % 4 == 0)
            b(g, 0xfd);                                 /* std */
        for (int k2 = 0; k2 < 3; k2++) {
            switch (rnd() % 4) {                        /* REP, REPNE, none */
            case 0: b(g, 0xf3); break;
            case 1: b(g, 0xf2); break;
            default: break;
            }
            if (rnd() % 4 == 0)
                b(g, 0x66);
            static const uint8_t str_ops[] = {           /* movs cmps */
                0xa4, 0xa5, 0xa6, 0xa7, 0xaa, 0xab,      /* stos */
                0xac, 0xad, 0xae, 0xaf };                /* lods scas */
            b(g, str_ops[rnd() % 10]);
        }
        b(g, 0xfc);                                     /* cld */
        break;
    }
    case 30:                                /* adc/sbb right after add/sub */
        b(g, alu[rnd() % 2 ? 0 : 5]); b(g, 0xc0 | greg() << 3 | greg());
        b(g, alu[rnd() % 2 ? 2 : 3]); b(g, 0xc0 | greg() << 3 | greg());
        break;
    case 31:                                /* cmp then jcc/setcc on it */
        b(g, 0x39); b(g, 0xc0 | greg() << 3 | greg());
        b(g, 0x0f); b(g, 0x90 + rnd() % 16); b(g, 0xc0 | (rnd() % 8));
        break;
    case 32:                                /* 8-bit mov to high regs */
        b(g, 0x88 + 2 * (rnd() & 1)); b(g, 0xc0 | (rnd() % 8) << 3 | (rnd() % 8));
        break;
    case 34: {                              /* a short LOOP/LOOPE/LOOPNE */
        b(g, 0xb9); dimm(g, 1 + rnd() % 4);             /* mov ecx, n */
        uint32_t top = g->at;
        b(g, 0x01); b(g, 0xd8);                         /* add eax, ebx */
        b(g, 0x39); b(g, 0xc2 | (rnd() % 2) << 3);      /* cmp edx, eax/ecx */
        b(g, 0xe0 + rnd() % 3);                         /* loopne/loope/loop */
        b(g, (top - (g->at + 1)) & 0xff);
        break;
    }
    case 35: {                              /* jcxz over the next insn */
        if (rnd() & 1) {
            b(g, 0xb9); dimm(g, rnd() % 2);             /* mov ecx, 0/1 */
        }
        uint8_t buf[32];
        Gen sub = { buf, g->at + 2 };
        one_insn(&sub);
        int n = (int)(sub.p - buf);
        b(g, 0xe3); b(g, (unsigned)n);
        for (int i = 0; i < n; i++)
            b(g, buf[i]);
        break;
    }
    default:                                /* inc then jcc/cmov on it */
        b(g, 0x40 + greg());
        b(g, 0x0f); b(g, 0x40 + rnd() % 16); b(g, 0xc0 | greg() << 3 | greg());
        break;
    }
}

typedef struct Snap {
    uint32_t regs[8], eip, eflags;
    uint8_t data[DATA_SIZE];
    uint8_t stack[256];
    uint8_t kstack[64];  /* ring 0 stack: exception frames from ring 3 */
} Snap;

#define REAL_CS 0x5000
#define REAL_DS 0x6000
#define REAL_SS 0x7000
#define REAL_SP 0x200

static uint32_t code_lin(void) { return gmode == M_REAL ? REAL_CS << 4 : CODE; }
static uint32_t code_start(void) { return gmode == M_REAL ? 0 : CODE; }

static uint32_t data_lin(void)
{
    return gmode == M_REAL ? REAL_DS << 4 : gmode == M_SEGS ? 0x40000 : DATA;
}

static uint32_t stack_top(void)
{
    return gmode == M_REAL ? (REAL_SS << 4) + REAL_SP :
           gmode == M_USER || gmode == M_PAGED ? FX_STACK3 : FX_STACK0;
}

/* 4 KiB pages identity-mapping 8 MiB for user access, except the data
 * page, which is read-only: the first store to it faults (#PF), in the
 * middle of whatever instruction does it. */
#define PDIR 0x700000u
static void map_user_pages(Fx *f)
{
    for (uint32_t t = 0; t < 2; t++) {
        fx_w32(&f->bus, PDIR + t * 4, (PDIR + 0x1000 * (t + 1)) | 7);
        for (uint32_t i = 0; i < 1024; i++) {
            uint32_t pa = (t * 1024 + i) << 12;
            fx_w32(&f->bus, PDIR + 0x1000 * (t + 1) + i * 4,
                   pa | (pa == DATA ? 5 : 7));
        }
    }
    for (uint32_t t = 2; t < 1024; t++)
        fx_w32(&f->bus, PDIR + t * 4, 0);
}

static void snap(Fx *f, Snap *s)
{
    memcpy(s->regs, f->c->regs, sizeof(s->regs));
    s->eip = f->c->eip;
    s->eflags = cpu_get_eflags(f->c) & (EF_ARITH | EF_DF);
    memcpy(s->data, f->bus.ram + data_lin(), DATA_SIZE);
    memcpy(s->stack, f->bus.ram + stack_top() - 256, 256);
    memcpy(s->kstack, f->bus.ram + FX_STACK0 - 64, 64);
}

static void real_seg(CPUState *c, int seg, uint16_t sel)
{
    c->seg[seg].sel = sel;
    c->seg[seg].base = (uint32_t)sel << 4;
    c->seg[seg].limit = 0xffff;
    c->seg[seg].flags = SEGF_P | SEGF_S | ((seg == R_CS ? 11u : 3u) << 8);
}

static void set_mode(Fx *f)
{
    CPUState *c = f->c;
    c->cr0 |= CR0_PE;
    if (c->cr0 & CR0_PG)
        cpu_set_cr0(c, c->cr0 & ~CR0_PG);
    c->idt.base = FX_IDT;
    c->idt.limit = 256 * 8 - 1;
    fx_load_flat(c, R_CS, SEL_CODE0, 0, true);
    for (int s = R_ES; s <= R_GS; s++)
        if (s != R_CS)
            fx_load_flat(c, s, SEL_DATA0, 0, false);
    c->cpl = 0;
    switch (gmode) {
    case M_USER:
        fx_ring3(f);
        break;
    case M_PAGED:
        map_user_pages(f);
        cpu_set_cr3(c, PDIR);
        cpu_set_cr0(c, c->cr0 | CR0_PG);
        fx_ring3(f);
        break;
    case M_SEGS:
        cpu_load_seg(c, R_DS, SEL_SMALL);
        cpu_load_seg(c, R_ES, SEL_SMALL);
        break;
    case M_REAL:
        c->cr0 &= ~CR0_PE;
        real_seg(c, R_CS, REAL_CS);
        real_seg(c, R_DS, REAL_DS);
        real_seg(c, R_ES, REAL_DS);
        real_seg(c, R_FS, REAL_DS);
        real_seg(c, R_GS, REAL_DS);
        real_seg(c, R_SS, REAL_SS);
        /* Real-mode vectors all lead to a HLT at 0:0x500. */
        c->idt.base = 0;
        c->idt.limit = 0x3ff;
        for (int v = 0; v < 256; v++)
            fx_w32(&f->bus, (uint32_t)v * 4, 0x500);
        f->bus.ram[0x500] = 0xf4;
        break;
    default:
        break;
    }
}

static void setup_case(Fx *f, const uint8_t *code, size_t len, uint32_t seed)
{
    CPUState *c = f->c;
    /* Through the bus, so both engines drop what they cached of the old
     * program at the same address (NULL: keep the program). */
    if (code)
        bus_mem_rw(&f->bus, code_lin(), (void *)code, len, true);
    set_mode(f);
    uint32_t save = rs;
    rs = seed;
    for (int i = 0; i < 8; i++)
        c->regs[i] = rnd() % 3 == 0 ? rnd() % 256 : rnd();
    c->regs[R_ESP] = stack_top() - (gmode == M_REAL ? REAL_SS << 4 : 0);
    uint8_t buf[DATA_SIZE];
    for (uint32_t i = 0; i < DATA_SIZE; i++)
        buf[i] = (uint8_t)rnd();
    bus_mem_rw(&f->bus, data_lin(), buf, DATA_SIZE, true);
    memset(buf, 0, 256);
    bus_mem_rw(&f->bus, stack_top() - 256, buf, 256, true);
    bus_mem_rw(&f->bus, FX_STACK0 - 64, buf, 64, true);
    cpu_set_eflags(c, EF_FIXED | (rnd() & EF_ARITH), 0xffffffffu);
    c->eip = code_start();
    c->halted = false;
    rs = save;
}

static void test_random_vs_interp(void **state)
{
    (void)state;
    Fx *fi = new_machine(), *ft = new_machine();
    fi->c->accel = ACCEL_INTERP;
    ft->c->accel = ACCEL_TCG;
    static uint8_t code[8192];
    static Snap a, t;
    /* TCG_CASES=n TCG_SEED=s widen the search (make check-tcg-full). */
    int cases = getenv("TCG_CASES") ? atoi(getenv("TCG_CASES")) : 400;
    int failed = 0, faulted = 0;
    if (getenv("TCG_SEED"))
        rs = (uint32_t)strtoul(getenv("TCG_SEED"), NULL, 0) | 1;
    for (int n = 0; n < cases; n++) {
        gmode = n % M_COUNT;
        Gen g = { code, code_start() };
        int ninsn = 1 + (int)(rnd() % 60);
        for (int i = 0; i < ninsn; i++)
            one_insn(&g);
        b(&g, 0xf4);                                   /* hlt */
        size_t len = (size_t)(g.p - code);
        uint32_t seed = rnd();
        setup_case(fi, code, len, seed);
        setup_case(ft, code, len, seed);
        if (getenv("TCG_TRACE_CASE"))
            ft->c->trace_flags = atoi(getenv("TCG_TRACE_CASE")) == n ?
                                 (TRACE_IN_ASM | TRACE_CPU | TRACE_EXEC) : 0;
        /* The same code twice under tcg: the second run uses the cache. */
        for (int rep = 0; rep < 2; rep++) {
            if (rep)
                setup_case(ft, NULL, 0, seed);
            run_to_halt(ft->c);
            snap(ft, &t);
            if (!rep) {
                run_to_halt(fi->c);
                snap(fi, &a);
                uint32_t e = fi->c->eip;
                faulted += (e >= FX_HANDLERS && e < FX_HANDLERS + 4096) ||
                           (gmode == M_REAL && e == 0x501);
            }
            if (memcmp(&a, &t, sizeof(a)) != 0) {
                failed++;
                fprintf(stderr, "case %d (%s, rep %d, %d insns, %zu bytes) "
                        "differs:\n", n, mode_names[gmode], rep, ninsn, len);
                for (int i = 0; i < 8; i++)
                    if (a.regs[i] != t.regs[i])
                        fprintf(stderr, "  reg %d: interp %08x tcg %08x\n", i,
                                a.regs[i], t.regs[i]);
                if (a.eip != t.eip || a.eflags != t.eflags)
                    fprintf(stderr, "  eip %08x/%08x eflags %08x/%08x\n",
                            a.eip, t.eip, a.eflags, t.eflags);
                for (uint32_t i = 0; i < DATA_SIZE; i++)
                    if (a.data[i] != t.data[i])
                        fprintf(stderr, "  data[%03x]: interp %02x tcg %02x\n",
                                i, a.data[i], t.data[i]);
                if (memcmp(a.stack, t.stack, sizeof(a.stack)))
                    fprintf(stderr, "  stack memory differs\n");
                if (memcmp(a.kstack, t.kstack, sizeof(a.kstack)))
                    fprintf(stderr, "  ring-0 stack (exception frame) differs\n");
                fprintf(stderr, "  code:");
                for (size_t i = 0; i < len; i++)
                    fprintf(stderr, " %02x", code[i]);
                fprintf(stderr, "\n");
                break;
            }
        }
        if (failed >= 3)
            break;
    }
    if (getenv("TCG_STATS")) {
        tcg_cpu_print_stats(ft->c);
        fprintf(stderr, "cases ending in an exception handler: %d of %d\n",
                faulted, cases);
    }
    free_machine(fi);
    free_machine(ft);
    assert_int_equal(failed, 0);
}

/* A store into the very next instruction's immediate must be seen. */
static void test_smc_next_insn(void **state)
{
    (void)state;
    for (int accel = 0; accel < 2; accel++) {
        Fx *f = new_machine();
        f->c->accel = accel ? ACCEL_TCG : ACCEL_INTERP;
        /* 0: mov ecx, 5
         * 5: mov byte [CODE+0x15], 0x42   (the imm of the mov at 0x14)
         * c: dec ecx ; ... loop body patched below
         */
        static const uint8_t prog[] = {
            0xb9, 0x05, 0x00, 0x00, 0x00,             /* 0: mov ecx, 5 */
            0x31, 0xdb,                               /* 5: xor ebx, ebx */
            0xc6, 0x05, 0x15, 0x00, 0x10, 0x00, 0x42, /* 7: mov byte [0x100015], 0x42 */
            0x90, 0x90, 0x90, 0x90, 0x90, 0x90,       /* e: nops */
            0xb8, 0x11, 0x00, 0x00, 0x00,             /* 14: mov eax, 0x11 (patched) */
            0x01, 0xc3,                               /* 19: add ebx, eax */
            0xfe, 0x05, 0x15, 0x00, 0x10, 0x00,       /* 1b: inc byte [0x100015] */
            0x49,                                     /* 21: dec ecx */
            0x75, 0xf0,                               /* 22: jnz 0x14 */
            0xf4,                                     /* 24: hlt */
        };
        memcpy(f->bus.ram + CODE, prog, sizeof(prog));
        f->c->eip = CODE;
        run_to_halt(f->c);
        /* eax takes 0x42, 0x43, ... 0x46 across the five iterations. */
        assert_int_equal(f->c->regs[R_EAX], 0x46);
        assert_int_equal(f->c->regs[R_EBX], 0x42 + 0x43 + 0x44 + 0x45 + 0x46);
        assert_int_equal(f->c->eip, CODE + 0x25);
        free_machine(f);
    }
}

/* An instruction that crosses into the next page, whose tail on that page
 * the loop rewrites: the block holding it belongs to the first page, so
 * only its run-time check of the tail sees the change. */
static void test_insn_across_pages(void **state)
{
    (void)state;
    for (int accel = 0; accel < 2; accel++) {
        Fx *f = new_machine();
        f->c->accel = accel ? ACCEL_TCG : ACCEL_INTERP;
        static const uint8_t head[] = {
            0xb9, 0x05, 0x00, 0x00, 0x00,             /* 0: mov ecx, 5 */
            0x31, 0xdb,                               /* 5: xor ebx, ebx */
            0xe9, 0xf1, 0x0f, 0x00, 0x00,             /* 7: jmp 0xffd */
        };
        static const uint8_t tail[] = {
            0xb8, 0x11, 0x00, 0x00, 0x00,             /* ffd: mov eax, 0x11 */
            0x01, 0xc3,                               /* 1002: add ebx, eax */
            0xfe, 0x05, 0x00, 0x10, 0x10, 0x00,       /* 1004: inc byte [0x101000] */
            0x49,                                     /* 100a: dec ecx */
            0x0f, 0x85, 0xec, 0xff, 0xff, 0xff,       /* 100b: jnz 0xffd */
            0xf4,                                     /* 1011: hlt */
        };
        memcpy(f->bus.ram + CODE, head, sizeof(head));
        memcpy(f->bus.ram + CODE + 0xffd, tail, sizeof(tail));
        f->c->eip = CODE;
        run_to_halt(f->c);
        /* The immediate's third byte counts 0..4 across the iterations. */
        assert_int_equal(f->c->regs[R_EAX], 0x40011);
        assert_int_equal(f->c->regs[R_EBX], 5 * 0x11 + 10 * 0x10000);
        assert_int_equal(f->c->eip, CODE + 0x1012);
        free_machine(f);
    }
}

/* A block that rewrites an instruction inside itself, after the store. */
static void test_smc_same_block(void **state)
{
    (void)state;
    for (int accel = 0; accel < 2; accel++) {
        Fx *f = new_machine();
        f->c->accel = accel ? ACCEL_TCG : ACCEL_INTERP;
        static const uint8_t prog[] = {
            0xc7, 0x05, 0x0b, 0x00, 0x10, 0x00,       /* 0: mov dword [0x10000b], */
            0x99, 0x99, 0x99, 0x99,                   /*    0x99999999          */
            0xb8, 0x01, 0x00, 0x00, 0x00,             /* a: mov eax, 1 (imm patched) */
            0xf4,                                     /* f: hlt */
        };
        memcpy(f->bus.ram + CODE, prog, sizeof(prog));
        f->c->eip = CODE;
        run_to_halt(f->c);
        assert_int_equal(f->c->regs[R_EAX], 0x99999999u);
        /* Run it again from the start: the patched bytes are the code. */
        f->c->eip = CODE;
        f->c->halted = false;
        f->c->regs[R_EAX] = 0;
        run_to_halt(f->c);
        assert_int_equal(f->c->regs[R_EAX], 0x99999999u);
        free_machine(f);
    }
}

/* REP MOVSB (run by the interpreter inside a block) rewrites the
 * instruction right after it in the same block. */
static void test_smc_rep_movs(void **state)
{
    (void)state;
    for (int accel = 0; accel < 2; accel++) {
        Fx *f = new_machine();
        f->c->accel = accel ? ACCEL_TCG : ACCEL_INTERP;
        static const uint8_t prog[] = {
            0xbe, 0x00, 0x01, 0x10, 0x00,         /* 0: mov esi, CODE+0x100 */
            0xbf, 0x16, 0x00, 0x10, 0x00,         /* 5: mov edi, CODE+0x16 */
            0xb9, 0x04, 0x00, 0x00, 0x00,         /* a: mov ecx, 4 */
            0xfc,                                 /* f: cld */
            0xf3, 0xa4,                           /* 10: rep movsb */
            0x90,                                 /* 12: nop */
            0xb8, 0x11, 0x11, 0x11, 0x11,         /* 13: mov eax, 0x11111111 */
            0xf4,                                 /* 18: hlt (imm at 0x14..) */
        };
        /* The copy lands on bytes 0x16-0x19: the high half of the mov's
         * imm32 and the hlt after it (kept a hlt). */
        static const uint8_t patch[] = { 0x22, 0x22, 0xf4, 0xf4 };
        memcpy(f->bus.ram + CODE, prog, sizeof(prog));
        memcpy(f->bus.ram + CODE + 0x100, patch, sizeof(patch));
        f->c->eip = CODE;
        /* Run once with the original code first so that the whole block
         * is translated before it is patched. */
        run_to_halt(f->c);
        assert_int_equal(f->c->regs[R_EAX], 0x22221111u);
        /* Restore the original mov (through the bus: code-invalidating)
         * and run again from the cached translation of the start. */
        bus_mem_rw(&f->bus, CODE + 0x13, (void *)(prog + 0x13), 6, true);
        f->c->eip = CODE;
        f->c->halted = false;
        f->c->regs[R_EAX] = 0;
        run_to_halt(f->c);
        assert_int_equal(f->c->regs[R_EAX], 0x22221111u);
        free_machine(f);
    }
}

/* A page fault in the middle of a block: EIP and every register as the
 * interpreter leaves them (precise exceptions). */
static void test_precise_fault(void **state)
{
    (void)state;
    static const uint8_t prog[] = {
        0xb8, 0x01, 0x00, 0x00, 0x00,             /* mov eax, 1 */
        0x01, 0xc3,                               /* add ebx, eax */
        0x8b, 0x0d, 0x00, 0x00, 0x00, 0x40,       /* mov ecx, [0x40000000] */
        0xb8, 0x02, 0x00, 0x00, 0x00,             /* mov eax, 2 */
        0xf4,
    };
    Snap a, t;
    for (int accel = 0; accel < 2; accel++) {
        Fx *f = new_machine();
        f->c->accel = accel ? ACCEL_TCG : ACCEL_INTERP;
        /* Paging on with one identity-mapped 4 MiB page: 0x40000000 is
         * unmapped. */
        uint32_t pd = 0x300000;
        memset(f->bus.ram + pd, 0, 4096);
        fx_w32(&f->bus, pd, 0x000000e3);          /* 4 MiB, P RW A D PS */
        f->c->cr4 |= CR4_PSE;
        cpu_set_cr3(f->c, pd);
        cpu_set_cr0(f->c, f->c->cr0 | CR0_PG);
        memcpy(f->bus.ram + CODE, prog, sizeof(prog));
        f->c->regs[R_EBX] = 10;
        f->c->eip = CODE;
        run_to_halt(f->c);
        snap(f, accel ? &t : &a);
        /* #PF delivered: the handler's HLT, the faulting EIP pushed. */
        assert_int_equal(f->c->eip, FX_HANDLERS + 14 * 16 + 1);
        assert_int_equal(fx_stack(f, 1), CODE + 7);
        assert_int_equal(f->c->cr2, 0x40000000u);
        assert_int_equal(f->c->regs[R_EAX], 1);
        assert_int_equal(f->c->regs[R_EBX], 11);
        free_machine(f);
    }
    assert_memory_equal(&a, &t, sizeof(a));
}

/* The same physical code at two virtual addresses (a shared library in
 * two processes): each address must run with its own absolute targets. */
static void test_code_aliased(void **state)
{
    (void)state;
    for (int accel = 0; accel < 2; accel++) {
        Fx *f = new_machine();
        f->c->accel = accel ? ACCEL_TCG : ACCEL_INTERP;
        uint32_t pd = 0x300000;
        memset(f->bus.ram + pd, 0, 4096);
        fx_w32(&f->bus, pd, 0x000000e3);          /* 0-4 MiB: identity */
        fx_w32(&f->bus, pd + 4, 0x000000e3);      /* 4-8 MiB: the same */
        f->c->cr4 |= CR4_PSE;
        cpu_set_cr3(f->c, pd);
        cpu_set_cr0(f->c, f->c->cr0 | CR0_PG);
        static const uint8_t prog[] = {
            0xe8, 0x00, 0x00, 0x00, 0x00,         /* call next */
            0x58,                                 /* pop eax */
            0xf4,                                 /* hlt */
        };
        memcpy(f->bus.ram + CODE, prog, sizeof(prog));
        for (int run = 0; run < 2; run++) {
            uint32_t va = run ? CODE + 0x400000 : CODE;
            f->c->eip = va;
            f->c->halted = false;
            run_to_halt(f->c);
            assert_int_equal(f->c->regs[R_EAX], va + 5);
            assert_int_equal(f->c->eip, va + 7);
        }
        free_machine(f);
    }
}

/* -d in_asm,out_asm,exec,cpu,stats: each item writes what it promises. */
static void test_trace_items(void **state)
{
    (void)state;
    char path[] = "/tmp/kestrel-tcg-trace-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char err[128];
    assert_int_equal(trace_set_logfile(path, err, sizeof(err)), 0);
    Fx *f = new_machine();
    static const uint8_t prog[] = {
        0xb9, 0x03, 0x00, 0x00, 0x00,             /* mov ecx, 3 */
        0x83, 0xc0, 0x07,                         /* L: add eax, 7 */
        0x49,                                     /* dec ecx */
        0x75, 0xfa,                               /* jnz L */
        0xf4,                                     /* hlt */
    };
    memcpy(f->bus.ram + CODE, prog, sizeof(prog));
    f->c->accel = ACCEL_TCG;
    f->c->trace_flags = TRACE_IN_ASM | TRACE_OUT_ASM | TRACE_EXEC |
                        TRACE_CPU | TRACE_STATS;
    f->c->regs[R_EAX] = 0;
    f->c->eip = CODE;
    run_to_halt(f->c);
    assert_int_equal(f->c->regs[R_EAX], 21);
    free_machine(f);                     /* prints the stats */
    trace_close();
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    static char log[1 << 16];
    size_t n = fread(log, 1, sizeof(log) - 1, fp);
    log[n] = 0;
    fclose(fp);
    unlink(path);
    /* in_asm: the guest code, disassembled */
    assert_non_null(strstr(log, "IN: pc 0008:00100005"));
    assert_non_null(strstr(log, "add      eax, 7"));
    /* out_asm: host code (or the IR on the portable backend) */
    assert_non_null(strstr(log, "OUT: [size="));
    /* exec and cpu: each block run, with the registers before it; the
     * first block holds the first iteration, the loop block runs twice */
    int execs = 0;
    for (const char *p = log; (p = strstr(p, "[0008:00100005]")); p++)
        execs++;
    assert_int_equal(execs, 2);
    assert_non_null(strstr(log, "EAX=0000000e"));
    /* stats */
    assert_non_null(strstr(log, "tcg: blocks translated"));
    assert_non_null(strstr(log, "cache hits"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trace_items),
        cmocka_unit_test(test_code_aliased),
        cmocka_unit_test(test_smc_next_insn),
        cmocka_unit_test(test_smc_same_block),
        cmocka_unit_test(test_insn_across_pages),
        cmocka_unit_test(test_smc_rep_movs),
        cmocka_unit_test(test_precise_fault),
        cmocka_unit_test(test_random_vs_interp),
    };
    return cmocka_run_group_tests_name("tcg_x86", tests, NULL, NULL);
}
