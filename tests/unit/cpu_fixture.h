/* A protected-mode machine state built in guest RAM for the system-
 * architecture unit tests (test_mmu.c, test_seg.c, test_except.c): a GDT,
 * an IDT whose every vector lands at its own address, a TSS with ring-0
 * stack and an I/O bitmap. The values follow the SDM's descriptor formats,
 * so the tests check Kestrel against the manual, not against itself. */
#ifndef TESTS_UNIT_CPU_FIXTURE_H
#define TESTS_UNIT_CPU_FIXTURE_H
#include <string.h>
#include <stdlib.h>
#include "cpu/cpu.h"

#define FX_GDT   0x1000u
#define FX_IDT   0x2000u
#define FX_TSS   0x3000u
#define FX_TSS2  0x3800u
#define FX_HANDLERS 0x10000u     /* vector v handler at FX_HANDLERS + 16 v */
#define FX_STACK0 0x9000u
#define FX_STACK3 0x8000u

/* Selectors of the fixture GDT. */
enum {
    SEL_CODE0 = 0x08, SEL_DATA0 = 0x10, SEL_CODE3 = 0x1b, SEL_DATA3 = 0x23,
    SEL_TSS = 0x28, SEL_SMALL = 0x30, SEL_EXPDOWN = 0x38, SEL_NOTP = 0x40,
    SEL_CGATE = 0x4b, SEL_CODE16 = 0x50, SEL_RODATA = 0x58, SEL_XONLY = 0x60,
    SEL_TSS2 = 0x68, SEL_TGATE = 0x70, SEL_CONF = 0x78, SEL_DATA1 = 0x81,
    SEL_CODE1 = 0x89, SEL_CGATE16 = 0x93,
};

static inline void fx_w32(Bus *b, uint32_t pa, uint32_t v) { memcpy(b->ram + pa, &v, 4); }
static inline uint32_t fx_r32(Bus *b, uint32_t pa) { uint32_t v; memcpy(&v, b->ram + pa, 4); return v; }
static inline void fx_w16(Bus *b, uint32_t pa, uint16_t v) { memcpy(b->ram + pa, &v, 2); }
static inline uint16_t fx_r16(Bus *b, uint32_t pa) { uint16_t v; memcpy(&v, b->ram + pa, 2); return v; }

/* Segment descriptor: access = P|DPL|S|type byte, flags = G D/B nibble. */
static inline void fx_desc(Bus *b, uint32_t table, int idx, uint32_t base,
                           uint32_t limit, uint8_t access, uint8_t gran)
{
    uint32_t lo = (limit & 0xffff) | (base << 16);
    uint32_t hi = ((base >> 16) & 0xff) | ((uint32_t)access << 8) |
                  (limit & 0xf0000) | ((uint32_t)(gran & 0xf) << 20) |
                  (base & 0xff000000u);
    fx_w32(b, table + idx * 8, lo);
    fx_w32(b, table + idx * 8 + 4, hi);
}

/* Gate: type 0x5 task, 0x4/0xc call, 0x6/0xe interrupt, 0x7/0xf trap. */
static inline void fx_gate(Bus *b, uint32_t table, int idx, uint16_t sel,
                           uint32_t off, int type, int dpl, int params)
{
    uint32_t lo = (off & 0xffff) | ((uint32_t)sel << 16);
    uint32_t hi = (off & 0xffff0000u) | 0x8000 | (dpl << 13) | (type << 8) |
                  (params & 31);
    fx_w32(b, table + idx * 8, lo);
    fx_w32(b, table + idx * 8 + 4, hi);
}

typedef struct Fx { Bus bus; CPUState *c; } Fx;

static inline void fx_load_flat(CPUState *c, int seg, uint16_t sel, int dpl,
                                bool code)
{
    c->seg[seg].sel = sel;
    c->seg[seg].base = 0;
    c->seg[seg].limit = 0xffffffffu;
    c->seg[seg].flags = SEGF_P | SEGF_S | SEGF_DB | SEGF_G | (dpl << 13) |
                        ((code ? 0xb : 0x3) << 8);
}

/* Ring 0, 32-bit protected mode, paging off, IF=0. */
static inline Fx *fx_new(void)
{
    Fx *f = calloc(1, sizeof(*f));
    bus_init(&f->bus, 8u << 20);
    Bus *b = &f->bus;
    CPUState *c = f->c = cpu_new(b);

    uint32_t g = FX_GDT;
    fx_desc(b, g, 1, 0, 0xfffff, 0x9a, 0xc);   /* code0 */
    fx_desc(b, g, 2, 0, 0xfffff, 0x92, 0xc);   /* data0 */
    fx_desc(b, g, 3, 0, 0xfffff, 0xfa, 0xc);   /* code3 */
    fx_desc(b, g, 4, 0, 0xfffff, 0xf2, 0xc);   /* data3 */
    fx_desc(b, g, 5, FX_TSS, 0x67 + 0x2000 / 8 + 1, 0x89, 0);  /* TSS32 */
    fx_desc(b, g, 6, 0x40000, 0xfff, 0x92, 0x4);     /* small data */
    fx_desc(b, g, 7, 0x50000, 0x0fff, 0x96, 0x4);    /* expand-down, B=1 */
    fx_desc(b, g, 8, 0, 0xfffff, 0x12, 0xc);          /* not present */
    fx_gate(b, g, 9, SEL_CODE0, 0x20000, 0xc, 3, 2);  /* call gate DPL3 */
    fx_desc(b, g, 10, 0, 0xffff, 0x9a, 0x0);          /* code16 */
    fx_desc(b, g, 11, 0, 0xfffff, 0x90, 0xc);         /* read-only data */
    fx_desc(b, g, 12, 0, 0xfffff, 0x98, 0xc);         /* execute-only */
    fx_desc(b, g, 13, FX_TSS2, 0x67, 0x89, 0);        /* TSS32 #2 */
    fx_gate(b, g, 14, SEL_TSS2, 0, 0x5, 0, 0);         /* task gate */
    fx_desc(b, g, 15, 0, 0xfffff, 0x9e, 0xc);         /* conforming code */
    fx_desc(b, g, 16, 0, 0xfffff, 0xb2, 0xc);         /* data DPL1 */
    fx_desc(b, g, 17, 0, 0xfffff, 0xba, 0xc);         /* code DPL1 */
    fx_gate(b, g, 18, SEL_CODE0, 0x1100, 0x4, 3, 1); /* 16-bit call gate */
    c->gdt.base = g;
    c->gdt.limit = 19 * 8 - 1;

    for (int v = 0; v < 256; v++)
        fx_gate(b, FX_IDT, v, SEL_CODE0, FX_HANDLERS + v * 16, 0xe,
                v == 0x80 ? 3 : 0, 0);
    c->idt.base = FX_IDT;
    c->idt.limit = 256 * 8 - 1;

    /* TSS: ring-0 stack, I/O bitmap right after the 104-byte header. */
    fx_w32(b, FX_TSS + 4, FX_STACK0);
    fx_w32(b, FX_TSS + 8, SEL_DATA0);
    fx_w32(b, FX_TSS + 12, 0x7000);       /* esp1 */
    fx_w32(b, FX_TSS + 16, SEL_DATA1);
    fx_w16(b, FX_TSS + 0x66, 0x68);
    memset(b->ram + FX_TSS + 0x68, 0, 0x2000 / 8 + 1);
    b->ram[FX_TSS + 0x68 + 0x2000 / 8] = 0xff;

    c->cr0 = CR0_PE | CR0_ET;
    cpu_set_eflags(c, EF_FIXED, 0xffffffffu);
    fx_load_flat(c, R_CS, SEL_CODE0, 0, true);
    for (int s = R_ES; s <= R_GS; s++)
        if (s != R_CS)
            fx_load_flat(c, s, SEL_DATA0, 0, false);
    cpu_ltr(c, SEL_TSS);
    c->cpl = 0;
    c->regs[R_ESP] = FX_STACK0;
    c->eip = c->next_eip = 0x100000;
    return f;
}

static inline void fx_free(Fx *f)
{
    cpu_free(f->c);
    bus_free(&f->bus);
    free(f);
}

/* Switch the fixture to ring 3 (flat user segments). */
static inline void fx_ring3(Fx *f)
{
    CPUState *c = f->c;
    fx_load_flat(c, R_CS, SEL_CODE3, 3, true);
    for (int s = R_ES; s <= R_GS; s++)
        if (s != R_CS)
            fx_load_flat(c, s, SEL_DATA3, 3, false);
    c->cpl = 3;
    c->regs[R_ESP] = FX_STACK3;
}

/* Runs fn and reports the exception it delivered: the vector (from where
 * EIP landed in the fixture IDT), or -1 if nothing was raised. */
#define FX_TRY(c, stmt) ({                                             \
    volatile int vec_ = -1;                                                  \
    if (setjmp((c)->jmp_env) == 0) {                                   \
        stmt;                                                          \
    } else if ((c)->eip >= FX_HANDLERS && (c)->eip < FX_HANDLERS + 4096) { \
        vec_ = ((c)->eip - FX_HANDLERS) / 16;                          \
    } else {                                                           \
        vec_ = 999;                                                    \
    }                                                                  \
    vec_; })

/* Dword at the top of the (flat) stack after delivery. */
static inline uint32_t fx_stack(Fx *f, int i)
{
    return fx_r32(&f->bus, f->c->regs[R_ESP] + 4 * i);
}
#endif
