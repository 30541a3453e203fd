/* Local APIC of the single CPU (Intel SDM vol. 3, chapter 10/11 "APIC").
 *
 * Interrupt acceptance follows the manual: a fixed interrupt sets its IRR
 * bit (and TMR for level-triggered); the highest IRR vector is presented
 * to the CPU when its priority class is above the processor priority
 * (PPR = max(TPR, class of the highest ISR vector)); INTA moves it to ISR;
 * EOI clears the highest ISR bit and, for level-triggered vectors, tells
 * the I/O APIC. The timer counts at 1 GHz / divider on the virtual clock. */
#include <stdlib.h>
#include <string.h>
#include "hw/apic.h"
#include "system/event.h"

#define APIC_VERSION 0x00050014u      /* version 0x14, 6 LVT entries */
#define APIC_BUS_NS 1                 /* 1 GHz timer input clock */
#define APIC_MIN_PERIOD_NS 1000       /* keep a periodic timer sane */
#define LVT_MASKED  (1u << 16)
#define LVT_LEVEL   (1u << 15)
#define LVT_TIMER_PERIODIC (1u << 17)
#define SVR_ENABLE  (1u << 8)
#define ESR_ILLEGAL_VECTOR_RECV (1u << 6)
#define ESR_ILLEGAL_VECTOR_SEND (1u << 5)

enum { LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR };

static bool bit_get(const uint32_t *v, int n) { return (v[n >> 5] >> (n & 31)) & 1; }
static void bit_set(uint32_t *v, int n) { v[n >> 5] |= 1u << (n & 31); }
static void bit_clr(uint32_t *v, int n) { v[n >> 5] &= ~(1u << (n & 31)); }

static int highest(const uint32_t *v)
{
    for (int i = 7; i >= 0; i--)
        if (v[i])
            return i * 32 + 31 - __builtin_clz(v[i]);
    return -1;
}

static bool global_enabled(const APIC *a)
{
    return (a->cpu->apic_base & APIC_BASE_ENABLE) != 0;
}

static bool sw_enabled(const APIC *a)
{
    return global_enabled(a) && (a->st.svr & SVR_ENABLE);
}

static uint32_t ppr(const APIC *a)
{
    int isrv = highest(a->st.isr);
    uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;
    return (a->st.tpr & 0xf0) >= isr_class ? a->st.tpr & 0xff : isr_class;
}

/* The fixed vector the CPU would get now, or -1. */
static int pending_vector(const APIC *a)
{
    if (!sw_enabled(a))
        return -1;
    int v = highest(a->st.irr);
    if (v < 0 || ((uint32_t)v & 0xf0) <= (ppr(a) & 0xf0))
        return -1;
    return v;
}

bool apic_pic_passthrough(APIC *a)
{
    uint32_t lint0 = a->st.lvt[LVT_LINT0];
    if (!global_enabled(a))
        return true;
    return !(lint0 & LVT_MASKED) && ((lint0 >> 8) & 7) == APIC_DM_EXTINT;
}

bool apic_has_intr(APIC *a)
{
    if (pending_vector(a) >= 0)
        return true;
    return a->st.extint_pending && apic_pic_passthrough(a);
}

static void update_irq(APIC *a)
{
    if (a->cpu)
        cpu_set_irq(a->cpu, apic_has_intr(a));
}

static void raise_nmi(APIC *a)
{
    if (a->cpu)
        a->cpu->interrupt_request |= CPU_INT_NMI;
}

/* An APIC error: latch it for the next ESR write and raise the error LVT
 * (an illegal vector programmed there cannot raise anything, which also
 * keeps this from recursing). */
static void apic_error(APIC *a, uint32_t bit)
{
    a->st.esr_pending |= bit;
    uint32_t lvt = a->st.lvt[LVT_ERROR];
    if (!(lvt & (1u << 16)) && (lvt & 0xff) >= 16) {
        bit_set(a->st.irr, (int)(lvt & 0xff));
        bit_clr(a->st.tmr, (int)(lvt & 0xff));
    }
}

static void accept_fixed(APIC *a, int vector, bool level)
{
    if (vector < 16) {
        apic_error(a, ESR_ILLEGAL_VECTOR_RECV);
        return;
    }
    bit_set(a->st.irr, vector);
    if (level)
        bit_set(a->st.tmr, vector);
    else
        bit_clr(a->st.tmr, vector);
}

void apic_deliver(APIC *a, int vector, int dm, bool level)
{
    switch (dm) {
    case APIC_DM_FIXED:
    case APIC_DM_LOWPRI:
        if (!sw_enabled(a))
            return;          /* a disabled APIC accepts no fixed IRQs */
        accept_fixed(a, vector & 0xff, level);
        break;
    case APIC_DM_NMI:
        raise_nmi(a);
        break;
    case APIC_DM_INIT:
    case APIC_DM_STARTUP:
    case APIC_DM_SMI:
    case APIC_DM_EXTINT:
        /* One CPU, no SMM; an ExtINT message from the I/O APIC is not
         * modelled (the PIC reaches the CPU through LINT0 instead). */
        break;
    }
    update_irq(a);
}

static void lvt_fire(APIC *a, int idx)
{
    uint32_t lvt = a->st.lvt[idx];
    if (lvt & LVT_MASKED)
        return;
    int dm = (lvt >> 8) & 7;
    if (idx == LVT_TIMER || idx == LVT_ERROR || idx == LVT_THERMAL ||
        idx == LVT_PERF)
        dm = APIC_DM_FIXED;
    apic_deliver(a, lvt & 0xff, dm, false);
}

void apic_set_lint(APIC *a, int lint, int level)
{
    if (lint < 0 || lint > 1)
        return;
    int old = a->st.lint_level[lint];
    a->st.lint_level[lint] = level != 0;
    if (lint == 0)
        a->st.extint_pending = level != 0;
    uint32_t lvt = a->st.lvt[lint ? LVT_LINT1 : LVT_LINT0];
    int dm = (lvt >> 8) & 7;
    if (lint == 1 && !global_enabled(a)) {
        /* With the APIC off, LINT1 is the plain NMI pin. */
        if (level && !old)
            raise_nmi(a);
    } else if (!(lvt & LVT_MASKED) && dm != APIC_DM_EXTINT) {
        bool lvl = lvt & LVT_LEVEL;
        if (level && (!old || lvl))
            apic_deliver(a, lvt & 0xff, dm, lvl && dm == APIC_DM_FIXED);
    }
    update_irq(a);
}

int apic_intr_ack(void *opaque)
{
    APIC *a = opaque;
    /* The PIC's request has the 8259's priority scheme of its own; it is
     * served when it is up and nothing from the APIC outranks it. */
    int v = pending_vector(a);
    if (v < 0 && a->st.extint_pending && apic_pic_passthrough(a) &&
        a->pic_ack) {
        int vec = a->pic_ack(a->pic_opaque);
        update_irq(a);
        return vec;
    }
    if (v < 0) {
        update_irq(a);
        return a->st.svr & 0xff;             /* spurious vector */
    }
    bit_clr(a->st.irr, v);
    bit_set(a->st.isr, v);
    update_irq(a);
    return v;
}

static void apic_eoi(APIC *a)
{
    int v = highest(a->st.isr);
    if (v < 0)
        return;
    bit_clr(a->st.isr, v);
    if (bit_get(a->st.tmr, v) && a->eoi_fn)
        a->eoi_fn(a->eoi_opaque, v);
    update_irq(a);
}

/* ---------------- timer ---------------- */

static int timer_divider(const APIC *a)
{
    uint32_t d = (a->st.timer_dcr & 3) | ((a->st.timer_dcr >> 1) & 4);
    return 1 << ((d + 1) & 7);
}

static uint32_t timer_current(APIC *a)
{
    if (!a->st.timer_running || a->st.timer_period_ns <= 0)
        return 0;
    int64_t el = clock_ns() - a->st.timer_start_ns;
    int64_t tick_ns = (int64_t)timer_divider(a) * APIC_BUS_NS;
    int64_t ticks = el / tick_ns;
    if (a->st.lvt[LVT_TIMER] & LVT_TIMER_PERIODIC) {
        ticks %= a->st.timer_icr;
    } else if (ticks >= a->st.timer_icr) {
        return 0;
    }
    return (uint32_t)(a->st.timer_icr - ticks);
}

static void timer_arm(APIC *a)
{
    if (!a->st.timer_running) {
        timer_del(a->timer);
        return;
    }
    timer_mod(a->timer, a->st.timer_start_ns + a->st.timer_period_ns);
}

static void timer_start(APIC *a)
{
    a->st.timer_start_ns = clock_ns();
    int64_t period = (int64_t)a->st.timer_icr * timer_divider(a) * APIC_BUS_NS;
    if ((a->st.lvt[LVT_TIMER] & LVT_TIMER_PERIODIC) &&
        period < APIC_MIN_PERIOD_NS)
        period = APIC_MIN_PERIOD_NS;
    a->st.timer_period_ns = period;
    a->st.timer_running = a->st.timer_icr != 0;
    timer_arm(a);
}

static void timer_cb(void *opaque)
{
    APIC *a = opaque;
    if (!a->st.timer_running)
        return;
    lvt_fire(a, LVT_TIMER);
    if (a->st.lvt[LVT_TIMER] & LVT_TIMER_PERIODIC) {
        /* Next period from the previous boundary; if we fell behind by
         * more than a period, restart from now instead of bursting. */
        int64_t next = a->st.timer_start_ns + a->st.timer_period_ns;
        int64_t now = clock_ns();
        a->st.timer_start_ns = next + a->st.timer_period_ns <= now ? now : next;
        timer_arm(a);
    } else {
        a->st.timer_running = false;
    }
}

/* ---------------- registers ---------------- */

static void send_ipi(APIC *a)
{
    uint32_t lo = a->st.icr_lo;
    int shorthand = (lo >> 18) & 3;
    int dm = (lo >> 8) & 7;
    bool to_self;
    switch (shorthand) {
    case 1: case 2: to_self = true; break;
    case 3: to_self = false; break;
    default: {
        uint8_t dest = (uint8_t)(a->st.icr_hi >> 24);
        if (lo & (1u << 11))                 /* logical */
            to_self = dest == 0xff || (dest & (a->st.ldr >> 24));
        else
            to_self = dest == 0xff || dest == (a->st.id >> 24);
        break;
    }
    }
    if (to_self && (dm == APIC_DM_FIXED || dm == APIC_DM_LOWPRI)) {
        if ((lo & 0xff) < 16)
            apic_error(a, ESR_ILLEGAL_VECTOR_SEND);
        apic_deliver(a, lo & 0xff, APIC_DM_FIXED, false);
    } else if (to_self && dm == APIC_DM_NMI) {
        raise_nmi(a);
    }
}

static uint32_t reg_read(APIC *a, uint32_t reg)
{
    switch (reg) {
    case 0x02: return a->st.id;
    case 0x03: return APIC_VERSION;
    case 0x08: return a->st.tpr;
    case 0x09: return 0;                      /* APR */
    case 0x0a: return ppr(a);
    case 0x0b: return 0;                      /* EOI is write-only */
    case 0x0d: return a->st.ldr;
    case 0x0e: return a->st.dfr;
    case 0x0f: return a->st.svr;
    case 0x28: return a->st.esr;
    case 0x2f: return a->st.lvt_cmci;
    case 0x30: return a->st.icr_lo & ~(1u << 12);   /* always idle */
    case 0x31: return a->st.icr_hi;
    case 0x38: return a->st.timer_icr;
    case 0x39: return timer_current(a);
    case 0x3e: return a->st.timer_dcr;
    }
    if (reg >= 0x10 && reg < 0x18) return a->st.isr[reg - 0x10];
    if (reg >= 0x18 && reg < 0x20) return a->st.tmr[reg - 0x18];
    if (reg >= 0x20 && reg < 0x28) return a->st.irr[reg - 0x20];
    if (reg >= 0x32 && reg < 0x38) return a->st.lvt[reg - 0x32];
    return 0;
}

static const uint32_t lvt_wmask[6] = {
    0x000700ff,            /* timer: vector, mask, mode (bits 17-18) */
    0x000107ff,            /* thermal */
    0x000107ff,            /* perf */
    0x0001a7ff,            /* LINT0: vector, dm, polarity, trigger, mask */
    0x0001a7ff,            /* LINT1 */
    0x000100ff,            /* error */
};

static void reg_write(APIC *a, uint32_t reg, uint32_t v)
{
    switch (reg) {
    case 0x02: a->st.id = v & 0xff000000u; return;
    case 0x08: a->st.tpr = v & 0xff; update_irq(a); return;
    case 0x0b: apic_eoi(a); return;
    case 0x0d: a->st.ldr = v & 0xff000000u; return;
    case 0x0e: a->st.dfr = v | 0x0fffffffu; return;
    case 0x0f:
        a->st.svr = v & 0x1ff;
        if (!(v & SVR_ENABLE)) {
            /* Software disable masks every LVT entry. */
            for (int i = 0; i < 6; i++)
                a->st.lvt[i] |= LVT_MASKED;
        }
        update_irq(a);
        return;
    case 0x28:
        a->st.esr = a->st.esr_pending;
        a->st.esr_pending = 0;
        return;
    case 0x2f: a->st.lvt_cmci = v & 0x000107ff; return;
    case 0x30: a->st.icr_lo = v & 0x000ccfff; send_ipi(a); return;
    case 0x31: a->st.icr_hi = v & 0xff000000u; return;
    case 0x38:
        a->st.timer_icr = v;
        timer_start(a);
        return;
    case 0x3e: a->st.timer_dcr = v & 0xb; return;
    }
    if (reg >= 0x32 && reg < 0x38) {
        int i = (int)reg - 0x32;
        uint32_t nv = v & lvt_wmask[i];
        if (!(a->st.svr & SVR_ENABLE))
            nv |= LVT_MASKED;
        uint32_t old = a->st.lvt[i];
        a->st.lvt[i] = nv;
        if (i == LVT_TIMER && ((old ^ nv) & LVT_TIMER_PERIODIC) &&
            a->st.timer_running)
            timer_start(a);
        update_irq(a);
    }
}

static uint64_t apic_mmio_read(void *opaque, uint64_t off, int size)
{
    APIC *a = opaque;
    uint32_t v = reg_read(a, (uint32_t)(off >> 4) & 0xff);
    int shift = (int)(off & 3) * 8;
    uint64_t r = (uint64_t)v >> shift;
    return size >= 4 ? r : r & ((1ull << (8 * size)) - 1);
}

static void apic_mmio_write(void *opaque, uint64_t off, uint64_t val, int size)
{
    APIC *a = opaque;
    (void)size;
    /* Registers take aligned 32-bit writes; narrower ones are treated as
     * writes of the whole register with the given low bytes. */
    if (off & 0xf)
        return;
    reg_write(a, (uint32_t)(off >> 4) & 0xff, (uint32_t)val);
}

static void apic_reset(void *opaque)
{
    APIC *a = opaque;
    memset(&a->st, 0, sizeof a->st);
    a->st.dfr = 0xffffffffu;
    a->st.svr = 0xff;
    for (int i = 0; i < 6; i++)
        a->st.lvt[i] = LVT_MASKED;
    a->st.lvt_cmci = LVT_MASKED;
    /* As on QEMU's BSP: LINT0 starts as ExtINT so the 8259 reaches the
     * CPU once firmware enables the APIC without touching LINT0. */
    a->st.lvt[LVT_LINT0] = APIC_DM_EXTINT << 8;
    if (a->timer)
        timer_del(a->timer);
    if (a->cpu) {
        a->cpu->apic_base = APIC_DEFAULT_BASE | APIC_BASE_BSP | APIC_BASE_ENABLE;
        apic_base_changed(a);
    }
    update_irq(a);
}

static void apic_post_load(void *opaque)
{
    APIC *a = opaque;
    apic_base_changed(a);
    timer_arm(a);
    update_irq(a);
}

void apic_base_changed(APIC *a)
{
    if (!a->cpu || a->mmio_handle < 0)
        return;
    uint64_t base = a->cpu->apic_base & 0xfffff000u;
    bus_mmio_move(a->bus, a->mmio_handle, base, global_enabled(a));
    update_irq(a);
}

APIC *apic_init(Bus *b, CPUState *cpu)
{
    APIC *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->bus = b;
    a->cpu = cpu;
    a->timer = timer_new(timer_cb, a);
    a->mmio_handle = bus_mmio_register(b, APIC_DEFAULT_BASE, 0x1000,
                                       apic_mmio_read, apic_mmio_write, a,
                                       "lapic");
    bus_mmio_move(b, a->mmio_handle, APIC_DEFAULT_BASE, true);
    a->dev.name = "lapic";
    a->dev.opaque = a;
    a->dev.reset = apic_reset;
    a->dev.state = &a->st;
    a->dev.state_size = sizeof a->st;
    a->dev.post_load = apic_post_load;
    bus_add_device(b, &a->dev);
    apic_reset(a);
    return a;
}

void apic_free(APIC *a)
{
    if (!a)
        return;
    timer_free(a->timer);
    free(a);
}

void apic_set_pic_ack(APIC *a, PicAckFn *fn, void *opaque)
{
    a->pic_ack = fn;
    a->pic_opaque = opaque;
}

void apic_set_eoi_fn(APIC *a, ApicEoiFn *fn, void *opaque)
{
    a->eoi_fn = fn;
    a->eoi_opaque = opaque;
}
