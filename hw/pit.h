/* Intel 8254 programmable interval timer at 0x40-0x43, 1.193182 MHz, and
 * the PC's port 0x61 (NMI status/control: channel 2 gate, speaker data,
 * refresh toggle, OUT2). Channel 0 drives IRQ 0 from timers on the virtual
 * clock; nothing polls. */
#ifndef HW_PIT_H
#define HW_PIT_H
#include <stdbool.h>
#include <stdint.h>
#include "hw/bus.h"

#define PIT_FREQ 1193182

typedef struct PIT PIT;

typedef struct PITChannel {
    uint16_t count_reg;     /* CR as written (0 means 65536, or 10000 BCD) */
    uint16_t latched;       /* OL: latched count */
    uint8_t latch_bytes;    /* latched count bytes still to be read */
    bool status_latched;
    uint8_t status;
    uint8_t mode;           /* 0..5 */
    uint8_t cw_mode;        /* mode bits as written (6, 7 alias 2, 3) */
    uint8_t rw;             /* 1 lsb, 2 msb, 3 lsb then msb */
    bool bcd;
    bool gate;
    bool write_msb_next;    /* rw==3: second byte expected */
    bool read_msb_next;
    bool null_count;        /* count written, not yet in the counter */
    bool counting;          /* counter loaded (modes 1/5: and triggered) */
    bool paused;            /* modes 0/4: gate low holds the count */
    bool count_written;     /* a count followed the last control word */
    bool reload_pending;    /* modes 2/3: new count waits for the cycle end */
    uint16_t pending_count;
    int64_t pending_time;   /* virtual ns of that cycle end */
    uint8_t write_lsb;
    uint32_t paused_count;
    int64_t load_time;      /* virtual ns when the counter was loaded */
    bool irq_level;         /* channel 0: level last sent to IRQ 0 */
} PITChannel;

typedef struct PITState {
    PITChannel ch[3];
    uint8_t port61;         /* bits 0-3 as written */
} PITState;

PIT *pit_init(Bus *b);
void pit_free(PIT *p);
/* OUT pin of a channel at virtual time now (HPET legacy, tests). */
bool pit_get_out(PIT *p, int ch, int64_t now);
/* Current count as the counting element holds it. */
uint32_t pit_get_count(PIT *p, int ch, int64_t now);
void pit_set_gate(PIT *p, int ch, bool gate);
void pit_reset(void *opaque);
#endif
