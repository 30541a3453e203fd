/* Local APIC (xAPIC, one CPU) at its MMIO page (default 0xFEE00000).
 *
 * The APIC is the CPU's interrupt front end: the board connects the 8259
 * PIC's INT output to LINT0 (apic_set_lint(a, 0, level)) and the NMI source
 * to LINT1, points cpu->intr_ack at apic_intr_ack, and gives the APIC the
 * PIC's acknowledge function. The APIC then drives the CPU's INTR line
 * (cpu_set_irq) for both its own fixed interrupts and ExtINT (the PIC
 * passed through: APIC globally/software disabled with LINT0 in its reset
 * state, or LINT0 programmed as ExtINT and unmasked). */
#ifndef HW_APIC_H
#define HW_APIC_H
#include <stdint.h>
#include <stdbool.h>
#include "hw/bus.h"
#include "cpu/cpu.h"

#define APIC_DEFAULT_BASE 0xfee00000u
#define APIC_BASE_BSP     (1u << 8)     /* IA32_APIC_BASE bits */
#define APIC_BASE_ENABLE  (1u << 11)

/* Delivery modes (ICR / LVT / I/O APIC redirection). */
enum { APIC_DM_FIXED = 0, APIC_DM_LOWPRI = 1, APIC_DM_SMI = 2,
       APIC_DM_NMI = 4, APIC_DM_INIT = 5, APIC_DM_STARTUP = 6,
       APIC_DM_EXTINT = 7 };

typedef void ApicEoiFn(void *opaque, int vector);
typedef int PicAckFn(void *opaque);

/* The POD state saved by snapshots. */
typedef struct APICState {
    uint32_t id, tpr, ldr, dfr, svr, esr, esr_pending;
    uint32_t isr[8], tmr[8], irr[8];
    uint32_t icr_lo, icr_hi;
    uint32_t lvt[6];             /* timer, thermal, perf, LINT0, LINT1, error */
    uint32_t lvt_cmci;
    uint32_t timer_icr, timer_dcr;
    int64_t timer_start_ns;      /* when the current count started */
    int64_t timer_period_ns;     /* initial count * divider in ns */
    bool timer_running;
    int lint_level[2];
    int extint_pending;          /* PIC INT output seen through LINT0 */
} APICState;

typedef struct APIC {
    Bus *bus;
    CPUState *cpu;
    APICState st;
    Device dev;
    struct Timer *timer;
    int mmio_handle;
    ApicEoiFn *eoi_fn; void *eoi_opaque;   /* the I/O APIC's EOI input */
    PicAckFn *pic_ack; void *pic_opaque;
} APIC;

/* Maps the register page at APIC_DEFAULT_BASE; init and every reset set
 * cpu->apic_base to the power-on value (base | BSP | enable), so reset the
 * APIC after the CPU. */
APIC *apic_init(Bus *b, CPUState *cpu);
void apic_free(APIC *a);
void apic_set_pic_ack(APIC *a, PicAckFn *fn, void *opaque);
void apic_set_eoi_fn(APIC *a, ApicEoiFn *fn, void *opaque);

/* cpu->apic_base changed (WRMSR 0x1B): remap or disable. */
void apic_base_changed(APIC *a);

/* LINT0 (PIC INT) and LINT1 (NMI) inputs. */
void apic_set_lint(APIC *a, int lint, int level);
/* Message delivery from the I/O APIC (or an MSI): vector, delivery mode,
 * trigger mode (true: level). */
void apic_deliver(APIC *a, int vector, int dm, bool level);

/* Is a maskable interrupt (APIC fixed or PIC ExtINT) pending for the CPU? */
bool apic_has_intr(APIC *a);
/* The CPU acknowledges INTR: returns the vector (moves IRR -> ISR for the
 * APIC's own, runs the PIC's INTA cycle for ExtINT); the spurious vector
 * when nothing is left. Signature matches cpu->intr_ack. */
int apic_intr_ack(void *apic);
/* True while interrupts reach the CPU through the PIC (the APIC disabled,
 * or LINT0 set to ExtINT and unmasked). */
bool apic_pic_passthrough(APIC *a);
#endif
