/* 82093AA-style I/O APIC at 0xFEC00000: IOREGSEL (+0x00) / IOWIN (+0x10),
 * 24 redirection entries, edge/level triggering with remote IRR, masks,
 * delivery to the local APIC.
 *
 * The board feeds every interrupt line through ioapic_set_irq(); on the PC,
 * ISA IRQ 0 (the PIT) arrives at pin 2 and every other ISA IRQ n at pin n
 * (the MADT says so with an interrupt source override), PCI PIRQs at the
 * ISA IRQ the PIIX3 routes them to. */
#ifndef HW_IOAPIC_H
#define HW_IOAPIC_H
#include <stdint.h>
#include <stdbool.h>
#include "hw/bus.h"
#include "hw/apic.h"

#define IOAPIC_DEFAULT_BASE 0xfec00000u
#define IOAPIC_NUM_PINS 24
#define IOAPIC_ID 0      /* the MADT and the ID register agree on it */

typedef struct IOAPICState {
    uint32_t ioregsel;
    uint32_t id;
    uint64_t redtbl[IOAPIC_NUM_PINS];
    uint32_t irr;                /* pin levels (level) / latched edges */
    uint32_t level;              /* current input levels */
} IOAPICState;

typedef struct IOAPIC {
    Bus *bus;
    APIC *apic;
    IOAPICState st;
    Device dev;
} IOAPIC;

/* Maps the registers at IOAPIC_DEFAULT_BASE and registers itself as the
 * APIC's EOI listener (for level-triggered remote IRR). */
IOAPIC *ioapic_init(Bus *b, APIC *apic);
void ioapic_free(IOAPIC *s);
void ioapic_set_irq(IOAPIC *s, int gsi, int level);
/* EOI broadcast from the local APIC. */
void ioapic_eoi(IOAPIC *s, int vector);
#endif
