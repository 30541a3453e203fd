/* Intel 8259A PIC pair with the PIIX ELCR (see hw/pic.h).
 *
 * Priorities are kept as the datasheet's rotating scheme: priority_add is
 * the IRQ that currently has the highest priority; the others follow in
 * increasing number modulo 8. */
#include <stdlib.h>
#include <string.h>
#include "hw/pic.h"

struct PIC {
    PICState s;
    Bus *bus;
    void (*intr_out)(void *opaque, bool level);
    void *intr_opaque;
    Device dev;
};

/* Priority rank (0 = highest) of the best bit in mask, 8 if none. */
static int best_priority(const PICChip *c, uint8_t mask)
{
    if (!mask)
        return 8;
    for (int p = 0; p < 8; p++)
        if (mask & (1u << ((p + c->priority_add) & 7)))
            return p;
    return 8;
}

/* The IRQ this chip would present on INT now, or -1. */
static int chip_pending(const PICChip *c, bool is_master)
{
    int p = best_priority(c, c->irr & ~c->imr);
    if (p == 8)
        return -1;
    uint8_t in_service = c->isr;
    /* Special mask mode: a masked level in service no longer holds off
     * the levels below it. */
    if (c->special_mask)
        in_service &= ~c->imr;
    /* Special fully nested mode: the master lets a higher-priority slave
     * request through while the cascade level is in service. */
    if (is_master && c->special_fully_nested)
        in_service &= ~(1u << 2);
    if (p < best_priority(c, in_service))
        return (p + c->priority_add) & 7;
    return -1;
}

static uint8_t level_triggered(const PICChip *c)
{
    return c->level_mode ? 0xFF : c->elcr;
}

static void chip_set_input(PICChip *c, int irq, int level)
{
    uint8_t mask = (uint8_t)(1u << irq);
    if (level_triggered(c) & mask) {
        if (level)
            c->irr |= mask;
        else
            c->irr &= ~mask;
    } else if (level && !(c->last_level & mask)) {
        c->irr |= mask;
    }
    if (level)
        c->last_level |= mask;
    else
        c->last_level &= ~mask;
}

static void pic_update(PIC *p)
{
    PICChip *m = &p->s.chip[0], *s = &p->s.chip[1];
    if (!m->single)
        chip_set_input(m, 2, chip_pending(s, false) >= 0);
    if (p->intr_out)
        p->intr_out(p->intr_opaque, chip_pending(m, true) >= 0);
}

/* The INTA pulses as seen by one chip. */
static void chip_ack(PICChip *c, int irq)
{
    uint8_t mask = (uint8_t)(1u << irq);
    if (c->auto_eoi) {
        if (c->rotate_on_aeoi)
            c->priority_add = (uint8_t)((irq + 1) & 7);
    } else {
        c->isr |= mask;
    }
    /* Level-triggered requests stay in the IRR while the line is high. */
    if (!(level_triggered(c) & mask))
        c->irr &= ~mask;
}

void pic_set_irq(PIC *p, int irq, int level)
{
    if (irq < 0 || irq > 15)
        return;
    chip_set_input(&p->s.chip[irq >> 3], irq & 7, level);
    pic_update(p);
}

int pic_ack(PIC *p)
{
    PICChip *m = &p->s.chip[0], *s = &p->s.chip[1];
    int vec;
    int irq = chip_pending(m, true);
    if (irq < 0) {
        /* The request vanished before INTA: the datasheet's IR7 answer,
         * with nothing put in service. */
        vec = m->vector_base | 7;
    } else if (irq == 2 && !m->single) {
        int irq2 = chip_pending(s, false);
        chip_ack(m, 2);
        if (irq2 >= 0) {
            chip_ack(s, irq2);
            vec = s->vector_base | irq2;
        } else {
            vec = s->vector_base | 7;   /* spurious IRQ 15 */
        }
        /* The slave's INT drops during INTA: the next request from it
         * must be seen as a new edge by the master. */
        m->last_level &= (uint8_t)~(1u << 2);
    } else {
        chip_ack(m, irq);
        vec = m->vector_base | irq;
    }
    pic_update(p);
    return vec;
}

int pic_intr_ack(void *opaque)
{
    return pic_ack(opaque);
}

bool pic_has_intr(PIC *p)
{
    return chip_pending(&p->s.chip[0], true) >= 0;
}

uint8_t pic_get_elcr(PIC *p, int chip)
{
    return p->s.chip[chip & 1].elcr;
}

void pic_set_elcr(PIC *p, int chip, uint8_t val)
{
    PICChip *c = &p->s.chip[chip & 1];
    c->elcr = val & c->elcr_mask;
    pic_update(p);
}

/* ---------------- register interface ---------------- */

static void chip_icw1(PICChip *c, uint8_t val)
{
    c->icw4_needed = val & 1;
    c->single = (val >> 1) & 1;
    c->level_mode = (val >> 3) & 1;
    c->icw_step = 2;
    c->imr = 0;
    c->isr = 0;
    c->irr &= level_triggered(c);     /* edge sense reset */
    c->priority_add = 0;
    c->special_mask = false;
    c->read_isr = false;
    c->poll = false;
    /* Without ICW4 its functions are all zero. */
    c->auto_eoi = false;
    c->special_fully_nested = false;
    c->rotate_on_aeoi = false;
}

static void chip_ocw2(PICChip *c, uint8_t val)
{
    int cmd = val >> 5;
    int level = val & 7;
    switch (cmd) {
    case 0: /* clear rotate in automatic EOI mode */
        c->rotate_on_aeoi = false;
        break;
    case 4: /* set rotate in automatic EOI mode */
        c->rotate_on_aeoi = true;
        break;
    case 1: /* non-specific EOI */
    case 5: { /* rotate on non-specific EOI */
        int p = best_priority(c, c->isr);
        if (p < 8) {
            int irq = (p + c->priority_add) & 7;
            c->isr &= (uint8_t)~(1u << irq);
            if (cmd == 5)
                c->priority_add = (uint8_t)((irq + 1) & 7);
        }
        break;
    }
    case 3: /* specific EOI */
        c->isr &= (uint8_t)~(1u << level);
        break;
    case 7: /* rotate on specific EOI */
        c->isr &= (uint8_t)~(1u << level);
        c->priority_add = (uint8_t)((level + 1) & 7);
        break;
    case 6: /* set priority: level becomes the lowest */
        c->priority_add = (uint8_t)((level + 1) & 7);
        break;
    default: /* 2: no operation */
        break;
    }
}

static void pic_write_byte(PIC *p, uint16_t port, uint8_t val)
{
    if (port == 0x4D0 || port == 0x4D1) {
        pic_set_elcr(p, port & 1, val);
        return;
    }
    PICChip *c = &p->s.chip[port >= 0xA0];
    if (!(port & 1)) {
        if (val & 0x10)
            chip_icw1(c, val);
        else if (val & 0x08) {          /* OCW3 */
            if (val & 0x04)
                c->poll = true;
            if (val & 0x02)
                c->read_isr = val & 1;
            if (val & 0x40)
                c->special_mask = (val >> 5) & 1;
        } else {
            chip_ocw2(c, val);
        }
    } else {
        switch (c->icw_step) {
        case 2:
            c->vector_base = val & 0xF8;
            c->icw_step = c->single ? (c->icw4_needed ? 4 : 0) : 3;
            break;
        case 3:
            c->icw3 = val;
            c->icw_step = c->icw4_needed ? 4 : 0;
            break;
        case 4:
            c->auto_eoi = (val >> 1) & 1;
            c->special_fully_nested = (val >> 4) & 1;
            c->icw_step = 0;
            break;
        default:
            c->imr = val;                /* OCW1 */
            break;
        }
    }
    pic_update(p);
}

static uint8_t pic_read_byte(PIC *p, uint16_t port)
{
    if (port == 0x4D0 || port == 0x4D1)
        return p->s.chip[port & 1].elcr;
    bool slave = port >= 0xA0;
    PICChip *c = &p->s.chip[slave];
    if (port & 1)
        return c->imr;
    if (c->poll) {
        /* Poll command: the read itself is the acknowledge. */
        c->poll = false;
        int irq = chip_pending(c, !slave);
        if (irq < 0)
            return 0;
        chip_ack(c, irq);
        if (slave)
            p->s.chip[0].last_level &= (uint8_t)~(1u << 2);
        pic_update(p);
        return (uint8_t)(0x80 | irq);
    }
    return c->read_isr ? c->isr : c->irr;
}

static uint32_t pic_pio_read(void *opaque, uint16_t port, int size)
{
    uint32_t v = 0;
    for (int i = 0; i < size; i++)
        v |= (uint32_t)pic_read_byte(opaque, (uint16_t)(port + i)) << (8 * i);
    return v;
}

static void pic_pio_write(void *opaque, uint16_t port, uint32_t val, int size)
{
    for (int i = 0; i < size; i++)
        pic_write_byte(opaque, (uint16_t)(port + i), (uint8_t)(val >> (8 * i)));
}

void pic_reset(void *opaque)
{
    PIC *p = opaque;
    memset(&p->s, 0, sizeof(p->s));
    p->s.chip[0].elcr_mask = 0xF8;   /* IRQ 0-2 are always edge */
    p->s.chip[1].elcr_mask = 0xDE;   /* IRQ 8 and 13 are always edge */
    pic_update(p);
}

static void pic_post_load(void *opaque)
{
    PIC *p = opaque;
    for (int i = 0; i < 2; i++) {
        PICChip *c = &p->s.chip[i];
        bool *flags[] = { &c->icw4_needed, &c->single, &c->level_mode,
                          &c->auto_eoi, &c->rotate_on_aeoi, &c->special_mask,
                          &c->special_fully_nested, &c->poll, &c->read_isr };
        for (size_t j = 0; j < sizeof(flags) / sizeof(flags[0]); j++)
            state_fix_bool(flags[j]);
        c->elcr_mask = i ? 0xDE : 0xF8;
        c->elcr &= c->elcr_mask;
    }
    pic_update(p);
}

PIC *pic_init(Bus *b, void (*intr_out)(void *opaque, bool level),
              void *opaque)
{
    PIC *p = calloc(1, sizeof(*p));
    if (!p)
        abort();
    p->bus = b;
    p->intr_out = intr_out;
    p->intr_opaque = opaque;
    bus_pio_register(b, 0x20, 2, pic_pio_read, pic_pio_write, p, "pic1");
    bus_pio_register(b, 0xA0, 2, pic_pio_read, pic_pio_write, p, "pic2");
    bus_pio_register(b, 0x4D0, 2, pic_pio_read, pic_pio_write, p, "elcr");
    p->dev = (Device){ .name = "pic", .opaque = p, .reset = pic_reset,
                       .state = &p->s, .state_size = sizeof(p->s),
                       .post_load = pic_post_load };
    bus_add_device(b, &p->dev);
    pic_reset(p);
    return p;
}

void pic_free(PIC *p)
{
    if (!p)
        return;
    bus_del_device(p->bus, &p->dev);
    free(p);
}
