/* I/O APIC (82093AA datasheet): an index/data register pair in front of
 * 24 redirection entries. Edge inputs latch in IRR and are sent when the
 * pin is unmasked; level inputs are sent while asserted and not waiting
 * for an EOI (remote IRR). Polarity is accepted but the lines here are
 * all active-high, so it does not invert anything (as on QEMU). */
#include <stdlib.h>
#include <string.h>
#include "hw/ioapic.h"

#define IOAPIC_VERSION 0x11
#define RTE_MASKED   (1ull << 16)
#define RTE_LEVEL    (1ull << 15)
#define RTE_REMOTE_IRR (1ull << 14)
#define RTE_DELIVS   (1ull << 12)
/* Writable: vector, delivery mode, dest mode, polarity, trigger, mask,
 * destination. Delivery status and remote IRR are read-only. */
#define RTE_WMASK    (0xff000000000000ffull | 0x1af00ull)

static void service(IOAPIC *s)
{
    for (int pin = 0; pin < IOAPIC_NUM_PINS; pin++) {
        uint32_t bit = 1u << pin;
        uint64_t e = s->st.redtbl[pin];
        if (!(s->st.irr & bit) || (e & RTE_MASKED))
            continue;
        bool level = e & RTE_LEVEL;
        if (level) {
            if (e & RTE_REMOTE_IRR)
                continue;
            s->st.redtbl[pin] |= RTE_REMOTE_IRR;
        } else {
            s->st.irr &= ~bit;
        }
        /* One CPU: every destination (physical or logical) reaches it. */
        if (s->apic)
            apic_deliver(s->apic, (int)(e & 0xff), (int)((e >> 8) & 7), level);
    }
}

void ioapic_set_irq(IOAPIC *s, int gsi, int level)
{
    if (gsi < 0 || gsi >= IOAPIC_NUM_PINS)
        return;
    uint32_t bit = 1u << gsi;
    bool was = s->st.level & bit;
    if (level)
        s->st.level |= bit;
    else
        s->st.level &= ~bit;
    if (s->st.redtbl[gsi] & RTE_LEVEL) {
        if (level)
            s->st.irr |= bit;
        else
            s->st.irr &= ~bit;
    } else if (level && !was) {
        s->st.irr |= bit;
    }
    service(s);
}

void ioapic_eoi(IOAPIC *s, int vector)
{
    for (int pin = 0; pin < IOAPIC_NUM_PINS; pin++) {
        uint64_t *e = &s->st.redtbl[pin];
        if ((*e & RTE_LEVEL) && (*e & 0xff) == (uint64_t)vector &&
            (*e & RTE_REMOTE_IRR)) {
            *e &= ~RTE_REMOTE_IRR;
            /* A still-asserted level line fires again. */
            if (s->st.level & (1u << pin))
                s->st.irr |= 1u << pin;
        }
    }
    service(s);
}

static void eoi_cb(void *opaque, int vector)
{
    ioapic_eoi(opaque, vector);
}

static uint32_t reg_read(IOAPIC *s)
{
    uint32_t idx = s->st.ioregsel & 0xff;
    switch (idx) {
    case 0x00: return s->st.id;
    case 0x01: return (uint32_t)(IOAPIC_NUM_PINS - 1) << 16 | IOAPIC_VERSION;
    case 0x02: return s->st.id;                /* arbitration ID */
    }
    if (idx >= 0x10 && idx < 0x10 + 2 * IOAPIC_NUM_PINS) {
        uint64_t e = s->st.redtbl[(idx - 0x10) / 2];
        return idx & 1 ? (uint32_t)(e >> 32) : (uint32_t)e;
    }
    return 0xffffffffu;
}

static void reg_write(IOAPIC *s, uint32_t v)
{
    uint32_t idx = s->st.ioregsel & 0xff;
    if (idx == 0x00) {
        s->st.id = v & 0x0f000000u;
        return;
    }
    if (idx < 0x10 || idx >= 0x10 + 2 * IOAPIC_NUM_PINS)
        return;
    int pin = (int)(idx - 0x10) / 2;
    uint64_t *e = &s->st.redtbl[pin];
    uint64_t nv = idx & 1 ? ((uint64_t)v << 32) | (*e & 0xffffffffull)
                          : (*e & 0xffffffff00000000ull) | v;
    *e = (*e & ~RTE_WMASK) | (nv & RTE_WMASK);
    /* Switching a pin to edge drops a stale remote IRR; switching it to
     * level samples the current line. */
    if (!(*e & RTE_LEVEL))
        *e &= ~RTE_REMOTE_IRR;
    else if (s->st.level & (1u << pin))
        s->st.irr |= 1u << pin;
    else
        s->st.irr &= ~(1u << pin);
    service(s);
}

static uint64_t ioapic_mmio_read(void *opaque, uint64_t off, int size)
{
    IOAPIC *s = opaque;
    uint32_t v;
    if ((off & ~3ull) == 0x00)
        v = s->st.ioregsel;
    else if ((off & ~3ull) == 0x10)
        v = reg_read(s);
    else
        return 0;
    uint64_t r = v >> (8 * (off & 3));
    return size >= 4 ? r : r & ((1ull << (8 * size)) - 1);
}

static void ioapic_mmio_write(void *opaque, uint64_t off, uint64_t val, int size)
{
    IOAPIC *s = opaque;
    (void)size;
    if (off == 0x00)
        s->st.ioregsel = (uint32_t)val & 0xff;
    else if (off == 0x10)
        reg_write(s, (uint32_t)val);
    else if (off == 0x40 && s->apic)
        ioapic_eoi(s, (int)(val & 0xff));   /* directed EOI (version 0x20) */
}

static void ioapic_reset(void *opaque)
{
    IOAPIC *s = opaque;
    uint32_t level = s->st.level;
    memset(&s->st, 0, sizeof s->st);
    s->st.level = level;                    /* input lines keep their state */
    s->st.id = (uint32_t)IOAPIC_ID << 24;
    for (int i = 0; i < IOAPIC_NUM_PINS; i++)
        s->st.redtbl[i] = RTE_MASKED;
}

IOAPIC *ioapic_init(Bus *b, APIC *apic)
{
    IOAPIC *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->bus = b;
    s->apic = apic;
    int h = bus_mmio_register(b, IOAPIC_DEFAULT_BASE, 0x1000, ioapic_mmio_read,
                              ioapic_mmio_write, s, "ioapic");
    bus_mmio_move(b, h, IOAPIC_DEFAULT_BASE, true);
    if (apic)
        apic_set_eoi_fn(apic, eoi_cb, s);
    s->dev.name = "ioapic";
    s->dev.opaque = s;
    s->dev.reset = ioapic_reset;
    s->dev.state = &s->st;
    s->dev.state_size = sizeof s->st;
    bus_add_device(b, &s->dev);
    ioapic_reset(s);
    return s;
}

void ioapic_free(IOAPIC *s)
{
    free(s);
}
