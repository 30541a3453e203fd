/* National Semiconductor 16550A UART (COM1 0x3F8/IRQ 4, COM2 0x2F8/IRQ 3,
 * COM3 0x3E8/IRQ 4, COM4 0x2E8/IRQ 3) with 16-byte FIFOs. Transmitted
 * bytes go to a Chardev; received bytes come from it, accepted only while
 * the receive FIFO has room (chardev can_read). */
#ifndef HW_UART_H
#define HW_UART_H
#include <stdbool.h>
#include <stdint.h>
#include "hw/bus.h"
#include "system/chardev.h"

typedef struct UART UART;

#define UART_FIFO_SIZE 16

typedef struct UARTState {
    uint8_t ier, fcr, lcr, mcr, lsr, msr, scr;
    uint16_t divisor;
    uint8_t rx[UART_FIFO_SIZE];
    int rx_r, rx_n;
    bool fifo_enabled;
    uint8_t rx_trigger;       /* 1, 4, 8 or 14 bytes */
    bool thre_pending;        /* THRE interrupt source armed */
    bool timeout_pending;     /* character timeout (IIR 0xC) */
} UARTState;

/* chr may be NULL (output dropped, no input). */
UART *uart_init(Bus *b, uint16_t iobase, int irq, Chardev *chr);
void uart_free(UART *u);
/* Feed received bytes (what the chardev handler does); returns how many
 * fit. */
int uart_receive(UART *u, const uint8_t *buf, int len);
void uart_reset(void *opaque);
#endif
