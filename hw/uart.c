/* National Semiconductor 16550A UART (see hw/uart.h).
 *
 * Transmission is instantaneous: a byte written to THR goes straight to
 * the chardev (or, in loopback, to the receiver), so THR is always empty
 * again by the time the guest looks. Reception is paced by the receive
 * FIFO: the chardev is only offered room that exists, so nothing the host
 * types is dropped. */
#include <stdlib.h>
#include <string.h>
#include "hw/uart.h"
#include "system/event.h"

/* Register offsets */
enum { UART_RBR_THR = 0, UART_IER = 1, UART_IIR_FCR = 2, UART_LCR = 3,
       UART_MCR = 4, UART_LSR = 5, UART_MSR = 6, UART_SCR = 7 };
/* IER */
#define IER_RDA 0x01
#define IER_THRE 0x02
#define IER_RLS 0x04
#define IER_MSI 0x08
/* IIR identification codes, highest priority first */
#define IIR_NONE 0x01
#define IIR_RLS 0x06
#define IIR_RDA 0x04
#define IIR_TIMEOUT 0x0C
#define IIR_THRE 0x02
#define IIR_MSI 0x00
#define IIR_FIFO 0xC0
/* LCR */
#define LCR_DLAB 0x80
/* MCR */
#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
/* LSR */
#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_PE 0x04
#define LSR_FE 0x08
#define LSR_BI 0x10
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define LSR_ERRORS (LSR_OE | LSR_PE | LSR_FE | LSR_BI)
/* MSR */
#define MSR_DCTS 0x01
#define MSR_DDSR 0x02
#define MSR_TERI 0x04
#define MSR_DDCD 0x08
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80

#define UART_CLOCK 1843200      /* 1.8432 MHz crystal, 16x oversampling */

struct UART {
    UARTState s;
    Bus *bus;
    uint16_t iobase;
    int irq;
    bool irq_level;
    Chardev *chr;
    Timer *timeout_timer;
    char name[16];
    Device dev;
};

static uint8_t current_iir(const UART *u)
{
    const UARTState *s = &u->s;
    uint8_t id = IIR_NONE;
    bool rda = s->fifo_enabled ? s->rx_n >= s->rx_trigger : s->rx_n > 0;
    if ((s->ier & IER_RLS) && (s->lsr & LSR_ERRORS))
        id = IIR_RLS;
    else if ((s->ier & IER_RDA) && rda)
        id = IIR_RDA;
    else if ((s->ier & IER_RDA) && s->timeout_pending && s->rx_n)
        id = IIR_TIMEOUT;
    else if ((s->ier & IER_THRE) && s->thre_pending)
        id = IIR_THRE;
    else if ((s->ier & IER_MSI) && (s->msr & 0x0F))
        id = IIR_MSI;
    return (uint8_t)(id | (s->fifo_enabled ? IIR_FIFO : 0));
}

static void update_irq(UART *u)
{
    /* On the PC, OUT2 gates the UART's interrupt onto the ISA line. */
    bool level = !(current_iir(u) & IIR_NONE) && (u->s.mcr & MCR_OUT2);
    if (level != u->irq_level) {
        u->irq_level = level;
        bus_set_irq(u->bus, u->irq, level);
    }
}

static int64_t char_time_ns(const UART *u)
{
    /* start + data + parity + stop bits, at the divisor's baud rate */
    int bits = 1 + 5 + (u->s.lcr & 3) + ((u->s.lcr & 8) ? 1 : 0) +
               ((u->s.lcr & 4) ? 2 : 1);
    int div = u->s.divisor ? u->s.divisor : 1;
    return (int64_t)bits * NS_PER_SEC * 16 * div / UART_CLOCK;
}

static void arm_timeout(UART *u)
{
    u->s.timeout_pending = false;
    if (u->s.fifo_enabled && u->s.rx_n)
        timer_mod(u->timeout_timer, clock_ns() + 4 * char_time_ns(u));
    else
        timer_del(u->timeout_timer);
}

static void timeout_fire(void *opaque)
{
    UART *u = opaque;
    if (u->s.rx_n) {
        u->s.timeout_pending = true;
        update_irq(u);
    }
}

static int rx_capacity(const UART *u)
{
    return u->s.fifo_enabled ? UART_FIFO_SIZE : 1;
}

static void rx_push(UART *u, uint8_t b)
{
    UARTState *s = &u->s;
    if (s->rx_n >= rx_capacity(u)) {
        /* Overrun. Without FIFOs the new character overwrites RBR; with
         * them it stays in the shift register and is lost. */
        s->lsr |= LSR_OE;
        if (!s->fifo_enabled)
            s->rx[s->rx_r] = b;
        return;
    }
    s->rx[(s->rx_r + s->rx_n) % UART_FIFO_SIZE] = b;
    s->rx_n++;
    s->lsr |= LSR_DR;
}

static void rx_clear(UART *u)
{
    u->s.rx_r = u->s.rx_n = 0;
    u->s.lsr &= (uint8_t)~LSR_DR;
    u->s.timeout_pending = false;
    timer_del(u->timeout_timer);
}

int uart_receive(UART *u, const uint8_t *buf, int len)
{
    int n = 0;
    /* In loopback the receiver hears only the transmitter. */
    if (u->s.mcr & MCR_LOOP)
        return 0;
    while (n < len && u->s.rx_n < rx_capacity(u))
        rx_push(u, buf[n++]);
    if (n) {
        arm_timeout(u);
        update_irq(u);
    }
    return n;
}

static size_t chr_can_read(void *opaque)
{
    UART *u = opaque;
    if (u->s.mcr & MCR_LOOP)
        return 0;
    return (size_t)(rx_capacity(u) - u->s.rx_n);
}

static void chr_read(void *opaque, const uint8_t *buf, size_t len)
{
    uart_receive(opaque, buf, len > 64 ? 64 : (int)len);
}

/* Modem inputs: a connected terminal (CTS, DSR, DCD), or in loopback the
 * modem outputs wired back. */
static uint8_t modem_inputs(const UART *u)
{
    uint8_t m = u->s.mcr;
    if (!(m & MCR_LOOP))
        return MSR_CTS | MSR_DSR | MSR_DCD;
    return (uint8_t)(((m & MCR_RTS) ? MSR_CTS : 0) |
                     ((m & MCR_DTR) ? MSR_DSR : 0) |
                     ((m & MCR_OUT1) ? MSR_RI : 0) |
                     ((m & MCR_OUT2) ? MSR_DCD : 0));
}

static void update_msr(UART *u)
{
    uint8_t old = u->s.msr & 0xF0, now = modem_inputs(u);
    uint8_t delta = 0;
    if ((old ^ now) & MSR_CTS)
        delta |= MSR_DCTS;
    if ((old ^ now) & MSR_DSR)
        delta |= MSR_DDSR;
    if ((old & MSR_RI) && !(now & MSR_RI))
        delta |= MSR_TERI;     /* trailing edge only */
    if ((old ^ now) & MSR_DCD)
        delta |= MSR_DDCD;
    u->s.msr = (uint8_t)(now | (u->s.msr & 0x0F) | delta);
}

static void transmit(UART *u, uint8_t b)
{
    if (u->s.mcr & MCR_LOOP) {
        rx_push(u, b);
        arm_timeout(u);
    } else if (u->chr) {
        chardev_write(u->chr, &b, 1);
    }
    /* The byte has left: THR is empty again and may interrupt. */
    u->s.lsr |= LSR_THRE | LSR_TEMT;
    u->s.thre_pending = true;
}

static void write_fcr(UART *u, uint8_t v)
{
    UARTState *s = &u->s;
    bool en = v & 1;
    if (en != s->fifo_enabled) {
        /* Switching the FIFOs on or off empties them. */
        rx_clear(u);
        s->fifo_enabled = en;
    }
    if (!en) {
        s->fcr = 0;
        return;
    }
    if (v & 0x02)
        rx_clear(u);
    /* bit 2 (clear transmit FIFO): transmission is immediate, nothing
     * is ever waiting there. */
    static const uint8_t trig[4] = { 1, 4, 8, 14 };
    s->rx_trigger = trig[v >> 6];
    s->fcr = v & 0xC9;
}

static uint8_t uart_read_reg(UART *u, int reg)
{
    UARTState *s = &u->s;
    switch (reg) {
    case UART_RBR_THR: {
        if (s->lcr & LCR_DLAB)
            return (uint8_t)s->divisor;
        uint8_t v = 0;
        if (s->rx_n) {
            v = s->rx[s->rx_r];
            s->rx_r = (s->rx_r + 1) % UART_FIFO_SIZE;
            s->rx_n--;
        }
        if (!s->rx_n)
            s->lsr &= (uint8_t)~LSR_DR;
        arm_timeout(u);
        update_irq(u);
        return v;
    }
    case UART_IER:
        if (s->lcr & LCR_DLAB)
            return (uint8_t)(s->divisor >> 8);
        return s->ier;
    case UART_IIR_FCR: {
        uint8_t v = current_iir(u);
        /* Reading IIR while it shows THRE acknowledges THRE. */
        if ((v & 0x0F) == IIR_THRE) {
            s->thre_pending = false;
            update_irq(u);
        }
        return v;
    }
    case UART_LCR:
        return s->lcr;
    case UART_MCR:
        return s->mcr;
    case UART_LSR: {
        uint8_t v = s->lsr;
        if (s->fifo_enabled && (s->lsr & (LSR_PE | LSR_FE | LSR_BI)))
            v |= 0x80;
        s->lsr &= (uint8_t)~LSR_ERRORS;
        update_irq(u);
        return v;
    }
    case UART_MSR: {
        update_msr(u);
        uint8_t v = s->msr;
        s->msr &= 0xF0;
        update_irq(u);
        return v;
    }
    default:
        return s->scr;
    }
}

static void uart_write_reg(UART *u, int reg, uint8_t v)
{
    UARTState *s = &u->s;
    switch (reg) {
    case UART_RBR_THR:
        if (s->lcr & LCR_DLAB) {
            s->divisor = (uint16_t)((s->divisor & 0xFF00) | v);
            return;
        }
        s->thre_pending = false;
        transmit(u, v);
        break;
    case UART_IER:
        if (s->lcr & LCR_DLAB) {
            s->divisor = (uint16_t)((s->divisor & 0x00FF) | (v << 8));
            return;
        }
        /* Enabling ETBEI with THR empty raises THRE at once. */
        if ((v & IER_THRE) && !(s->ier & IER_THRE) && (s->lsr & LSR_THRE))
            s->thre_pending = true;
        s->ier = v & 0x0F;
        break;
    case UART_IIR_FCR:
        write_fcr(u, v);
        break;
    case UART_LCR:
        s->lcr = v;
        break;
    case UART_MCR:
        s->mcr = v & 0x1F;
        update_msr(u);
        break;
    case UART_LSR:
    case UART_MSR:
        break;                  /* factory test registers: ignore */
    default:
        s->scr = v;
        break;
    }
    update_irq(u);
}

static uint32_t uart_pio_read(void *opaque, uint16_t port, int size)
{
    UART *u = opaque;
    uint32_t v = 0;
    for (int i = 0; i < size; i++) {
        int reg = (port + i - u->iobase) & 7;
        v |= (uint32_t)uart_read_reg(u, reg) << (8 * i);
    }
    return v;
}

static void uart_pio_write(void *opaque, uint16_t port, uint32_t val, int size)
{
    UART *u = opaque;
    for (int i = 0; i < size; i++) {
        int reg = (port + i - u->iobase) & 7;
        uart_write_reg(u, reg, (uint8_t)(val >> (8 * i)));
    }
}

void uart_reset(void *opaque)
{
    UART *u = opaque;
    UARTState *s = &u->s;
    memset(s, 0, sizeof(*s));
    s->divisor = 12;            /* 9600 baud */
    s->lsr = LSR_THRE | LSR_TEMT;
    s->rx_trigger = 1;
    s->msr = modem_inputs(u);
    timer_del(u->timeout_timer);
    update_irq(u);
}

static void uart_post_load(void *opaque)
{
    UART *u = opaque;
    UARTState *s = &u->s;
    if (s->rx_r < 0 || s->rx_r >= UART_FIFO_SIZE || s->rx_n < 0 ||
        s->rx_n > UART_FIFO_SIZE)
        s->rx_r = s->rx_n = 0;
    if (s->rx_trigger != 1 && s->rx_trigger != 4 && s->rx_trigger != 8 &&
        s->rx_trigger != 14)
        s->rx_trigger = 1;
    state_fix_bool(&s->fifo_enabled);
    state_fix_bool(&s->thre_pending);
    state_fix_bool(&s->timeout_pending);
    u->irq_level = !u->irq_level;
    update_irq(u);
    arm_timeout(u);
}

UART *uart_init(Bus *b, uint16_t iobase, int irq, Chardev *chr)
{
    UART *u = calloc(1, sizeof(*u));
    if (!u)
        abort();
    u->bus = b;
    u->iobase = iobase;
    u->irq = irq;
    u->chr = chr;
    u->timeout_timer = timer_new(timeout_fire, u);
    static const uint16_t com[4] = { 0x3F8, 0x2F8, 0x3E8, 0x2E8 };
    int idx = -1;
    for (int i = 0; i < 4; i++)
        if (com[i] == iobase)
            idx = i;
    if (idx >= 0) {
        memcpy(u->name, "serial0", 8);
        u->name[6] = (char)('0' + idx);
    } else {
        memcpy(u->name, "serial", 7);
    }
    bus_pio_register(b, iobase, 8, uart_pio_read, uart_pio_write, u, u->name);
    u->dev = (Device){ .name = u->name, .opaque = u, .reset = uart_reset,
                       .state = &u->s, .state_size = sizeof(u->s),
                       .post_load = uart_post_load };
    bus_add_device(b, &u->dev);
    uart_reset(u);
    if (chr)
        chardev_set_handlers(chr, chr_can_read, chr_read, u);
    return u;
}

void uart_free(UART *u)
{
    if (!u)
        return;
    if (u->chr)
        chardev_set_handlers(u->chr, NULL, NULL, NULL);
    timer_free(u->timeout_timer);
    bus_del_device(u->bus, &u->dev);
    free(u);
}
