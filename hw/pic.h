/* Intel 8259A programmable interrupt controller, the PC's master/slave
 * pair (master at 0x20/0x21, slave at 0xA0/0xA1 cascaded on IRQ 2) and the
 * PIIX edge/level control registers (ELCR) at 0x4D0/0x4D1.
 *
 * The pair raises the CPU's INTR line through intr_out; the CPU's
 * interrupt-acknowledge cycle is pic_ack(), which returns the vector
 * (the spurious vector of IRQ 7 or 15 when the request went away). */
#ifndef HW_PIC_H
#define HW_PIC_H
#include <stdbool.h>
#include <stdint.h>
#include "hw/bus.h"

typedef struct PIC PIC;

/* One 8259A's registers, as the datasheet names them. */
typedef struct PICChip {
    uint8_t irr;          /* interrupt request register */
    uint8_t isr;          /* in-service register */
    uint8_t imr;          /* interrupt mask register (OCW1) */
    uint8_t elcr;         /* PIIX ELCR: 1 = level triggered */
    uint8_t last_level;   /* input line levels, for edge detection */
    uint8_t vector_base;  /* ICW2 & 0xF8 */
    uint8_t icw3;
    uint8_t icw_step;     /* 0: operational; 2..4: next ICW expected */
    uint8_t priority_add; /* lowest-priority IRQ + 1 (rotation) */
    uint8_t elcr_mask;    /* ELCR bits that exist on this chip */
    bool icw4_needed, single, level_mode, auto_eoi, rotate_on_aeoi;
    bool special_mask, special_fully_nested, poll, read_isr;
} PICChip;

typedef struct PICState {
    PICChip chip[2];      /* 0: master, 1: slave */
} PICState;

PIC *pic_init(Bus *b, void (*intr_out)(void *opaque, bool level),
              void *opaque);
void pic_free(PIC *p);
/* Input line irq 0..15 (8..15 are the slave's). */
void pic_set_irq(PIC *p, int irq, int level);
/* INTA cycle: returns the vector and moves the request into service. */
int pic_ack(PIC *p);
/* The same, shaped for CPUState.intr_ack (opaque is the PIC). */
int pic_intr_ack(void *opaque);
bool pic_has_intr(PIC *p);
/* ELCR (chip 0: IRQ 0-7, chip 1: IRQ 8-15); also reachable by ports. */
uint8_t pic_get_elcr(PIC *p, int chip);
void pic_set_elcr(PIC *p, int chip, uint8_t val);
void pic_reset(void *opaque);
#endif
