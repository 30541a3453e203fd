/* Fixture for the interpreter's unit tests (tests/unit/test_interp_*.c):
 * a CPU on 16 MiB of RAM, in real mode or in flat 32-bit protected mode at
 * CPL 0 or 3 with a GDT, a TSS and an IDT whose gates lead to per-vector
 * handler addresses, so a test can tell which exception an instruction
 * raised (and with what error code) from where execution went. */
#ifndef TEST_INTERP_H
#define TEST_INTERP_H
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "cpu/cpu.h"
#include "cpu/flags.h"
#include "hw/bus.h"

#define FX_CODE     0x1000u      /* where test code goes (CS base 0) */
#define FX_IDT      0x2000u
#define FX_TSS      0x3000u
#define FX_GDT      0x3800u
#define FX_HANDLERS 0x9000u      /* vector v's handler: FX_HANDLERS + 16 v */
#define FX_STACK0   0x7000u      /* ring-0 stack top */
#define FX_STACK3   0x6000u      /* ring-3 / real-mode stack top */
#define FX_DATA     0x5000u      /* scratch data */

#define SEL_CODE0 0x08
#define SEL_DATA0 0x10
#define SEL_CODE3 0x1b
#define SEL_DATA3 0x23
#define SEL_TSS   0x28

typedef struct Fix { Bus bus; CPUState *c; } Fix;

static void fx_code_write(void *opaque, uint64_t pa, size_t len)
{
    interp_invalidate(opaque, pa, len);
}

static inline void fx_w32(Fix *f, uint32_t a, uint32_t v)
{
    bus_mem_rw(&f->bus, a, &v, 4, true);
}
static inline void fx_w16(Fix *f, uint32_t a, uint16_t v)
{
    bus_mem_rw(&f->bus, a, &v, 2, true);
}
static inline uint32_t fx_r32(Fix *f, uint32_t a)
{
    uint32_t v;
    bus_mem_rw(&f->bus, a, &v, 4, false);
    return v;
}
static inline uint8_t fx_r8(Fix *f, uint32_t a)
{
    uint8_t v;
    bus_mem_rw(&f->bus, a, &v, 1, false);
    return v;
}

static inline Fix *fx_new(void)
{
    Fix *f = calloc(1, sizeof *f);
    assert_non_null(f);
    bus_init(&f->bus, 16u << 20);
    f->c = cpu_new(&f->bus);
    assert_non_null(f->c);
    f->c->accel = ACCEL_INTERP;
    f->bus.code_write = fx_code_write;
    f->bus.code_write_opaque = f->c;
    return f;
}

static inline void fx_free(Fix *f)
{
    cpu_free(f->c);
    bus_free(&f->bus);
    free(f);
}

/* Real mode, all segments 0, IVT entries pointing at the handlers. */
static inline Fix *fx_real(void)
{
    Fix *f = fx_new();
    CPUState *c = f->c;
    for (int v = 0; v < 256; v++)
        fx_w32(f, (uint32_t)v * 4, FX_HANDLERS + 16u * (uint32_t)v);
    for (int s = R_ES; s <= R_GS; s++)
        cpu_set_seg_real(c, s, 0);
    c->idt.base = 0;
    c->idt.limit = 0x3ff;
    c->eip = FX_CODE;
    c->regs[R_ESP] = FX_STACK3;
    return f;
}

static inline void fx_desc(Fix *f, int idx, uint32_t lo, uint32_t hi)
{
    fx_w32(f, FX_GDT + 8u * (uint32_t)idx, lo);
    fx_w32(f, FX_GDT + 8u * (uint32_t)idx + 4, hi);
}

/* Flat 32-bit protected mode at the given CPL, IOPL 0, IF set. */
static inline Fix *fx_prot(int cpl)
{
    Fix *f = fx_new();
    CPUState *c = f->c;
    fx_desc(f, 0, 0, 0);
    fx_desc(f, 1, 0x0000ffff, 0x00cf9a00);
    fx_desc(f, 2, 0x0000ffff, 0x00cf9200);
    fx_desc(f, 3, 0x0000ffff, 0x00cffa00);
    fx_desc(f, 4, 0x0000ffff, 0x00cff200);
    fx_desc(f, 5, 0x0067 | (FX_TSS << 16), 0x00008900);
    c->gdt.base = FX_GDT;
    c->gdt.limit = 6 * 8 - 1;
    fx_w32(f, FX_TSS + 4, FX_STACK0);
    fx_w32(f, FX_TSS + 8, SEL_DATA0);
    fx_w16(f, FX_TSS + 0x66, 0x68);          /* no I/O bitmap */
    for (int v = 0; v < 256; v++) {
        uint32_t h = FX_HANDLERS + 16u * (uint32_t)v;
        uint32_t dpl = (v == 0x80 || v == 3 || v == 4) ? 3 : 0;
        fx_w32(f, FX_IDT + 8u * (uint32_t)v, (h & 0xffff) | (SEL_CODE0 << 16));
        fx_w32(f, FX_IDT + 8u * (uint32_t)v + 4,
               (h & 0xffff0000u) | 0x8e00 | (dpl << 13));
    }
    c->idt.base = FX_IDT;
    c->idt.limit = 256 * 8 - 1;
    cpu_set_cr0(c, c->cr0 | CR0_PE);
    c->cpl = 0;
    cpu_load_seg(c, R_SS, SEL_DATA0);
    c->seg[R_CS] = (SegCache){ SEL_CODE0, 0, 0xffffffffu, 0x00c09b00 };
    cpu_ltr(c, SEL_TSS);
    uint16_t code = cpl ? SEL_CODE3 : SEL_CODE0;
    uint16_t data = cpl ? SEL_DATA3 : SEL_DATA0;
    c->seg[R_CS] = (SegCache){ code, 0, 0xffffffffu,
                               0x00c09b00 | ((uint32_t)cpl << 13) };
    c->cpl = cpl;
    for (int s = R_ES; s <= R_GS; s++)
        if (s != R_CS)
            cpu_load_seg(c, s, data);
    c->eip = FX_CODE;
    c->regs[R_ESP] = cpl ? FX_STACK3 : FX_STACK0;
    cpu_set_eflags(c, EF_IF, 0xffffffffu);
    return f;
}

/* Virtual-8086 mode under the protected-mode fixture (CPL 3, segments 0). */
static inline Fix *fx_v86(int iopl, bool vme)
{
    Fix *f = fx_prot(0);
    CPUState *c = f->c;
    cpu_set_eflags(c, EF_VM | EF_IF | ((uint32_t)iopl << 12),
                   EF_VM | EF_IF | EF_IOPL);
    c->cpl = 3;
    for (int s = R_ES; s <= R_GS; s++)
        cpu_set_seg_real(c, s, 0);
    if (vme)
        c->cr4 |= CR4_VME;
    c->regs[R_ESP] = FX_STACK3;
    return f;
}

static inline void fx_load(Fix *f, const void *bytes, size_t n)
{
    bus_mem_rw(&f->bus, f->c->seg[R_CS].base + f->c->eip, (void *)bytes, n,
               true);
}

/* Which handler execution went to (-1: none). */
static inline int fx_where(Fix *f)
{
    uint32_t e = f->c->eip;
    if (e >= FX_HANDLERS && e < FX_HANDLERS + 256 * 16 && !(e & 15))
        return (int)((e - FX_HANDLERS) / 16);
    return -1;
}

/* Executes one instruction; returns the vector of the exception or
 * interrupt it raised (-1 if none). */
static inline int fx_step(Fix *f)
{
    if (setjmp(f->c->jmp_env))
        return fx_where(f);
    interp_step(f->c);
    return fx_where(f);
}

/* Load the bytes at CS:EIP and run one instruction. */
#define FX_RUN(f, ...) \
    ({ static const uint8_t fx_b_[] = { __VA_ARGS__ }; \
       fx_load((f), fx_b_, sizeof fx_b_); fx_step(f); })

/* The error code the handler got (32-bit gate, no privilege change). */
static inline uint32_t fx_errcode(Fix *f)
{
    return cpu_ld(f->c, R_SS, f->c->regs[R_ESP], 4);
}

static inline uint32_t fx_flags(Fix *f) { return cpu_get_eflags(f->c); }
#endif
