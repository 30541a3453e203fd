/* Intel 8254 PIT and port 0x61 (see hw/pit.h).
 *
 * The counters are not stepped: each one remembers when its count was
 * loaded, and its count and OUT level at any moment follow from the
 * elapsed input clocks. Channel 0 arms one timer for its next OUT rising
 * edge, which is when IRQ 0 needs to see an edge. */
#include <stdlib.h>
#include <string.h>
#include "hw/pit.h"
#include "system/event.h"

/* Do not let a tiny reload value flood the host with timer callbacks: no
 * PC OS asks for IRQ 0 faster than this. */
#define PIT_MIN_IRQ_NS 20000
/* DRAM refresh request toggles bit 4 of port 0x61 every 15.085 us. */
#define REFRESH_NS 15085

struct PIT {
    PITState s;
    Bus *bus;
    Timer *irq_timer;
    Device dev;
};

static int64_t ns_to_ticks(int64_t ns)
{
    if (ns <= 0)
        return 0;
    return (int64_t)(((unsigned __int128)ns * PIT_FREQ) / NS_PER_SEC);
}

/* First virtual ns at which at least `ticks` clocks have elapsed. */
static int64_t ticks_to_ns(int64_t ticks)
{
    return (int64_t)(((unsigned __int128)ticks * NS_PER_SEC + PIT_FREQ - 1) /
                     PIT_FREQ);
}

/* The same, rounded down: a new time base on a clock edge, so counting
 * from it never comes up a clock short. */
static int64_t ticks_to_ns_floor(int64_t ticks)
{
    return (int64_t)(((unsigned __int128)ticks * NS_PER_SEC) / PIT_FREQ);
}

static int bcd_to_bin(int v)
{
    return ((v >> 12) & 0xF) * 1000 + ((v >> 8) & 0xF) * 100 +
           ((v >> 4) & 0xF) * 10 + (v & 0xF);
}

static uint16_t bin_to_bcd(int v)
{
    return (uint16_t)(((v / 1000) % 10) << 12 | ((v / 100) % 10) << 8 |
                      ((v / 10) % 10) << 4 | (v % 10));
}

/* The initial count N as a number of clocks. */
static int64_t initial_count(const PITChannel *c)
{
    if (c->bcd) {
        int v = bcd_to_bin(c->count_reg);
        return v ? v : 10000;
    }
    return c->count_reg ? c->count_reg : 0x10000;
}

static int64_t elapsed_ticks(const PITChannel *c, int64_t now)
{
    return ns_to_ticks(now - c->load_time);
}

/* Modes 2 and 3 take a count written while running at the end of the
 * current cycle: bring that in once its time has come. */
static void sync_channel(PITChannel *c, int64_t now)
{
    if (c->reload_pending && now >= c->pending_time) {
        c->count_reg = c->pending_count;
        c->load_time = c->pending_time;
        c->reload_pending = false;
        c->null_count = false;
    }
}

static void sync_all(PIT *p, int64_t now)
{
    for (int i = 0; i < 3; i++)
        sync_channel(&p->s.ch[i], now);
}

/* The counting element's value (binary) d clocks after loading. */
static int64_t count_at(const PITChannel *c, int64_t d)
{
    int64_t n = initial_count(c);
    int64_t wrap = c->bcd ? 10000 : 0x10000;
    switch (c->mode) {
    case 2:
        return n - d % n;
    case 3: {
        /* Decrements by two through each half period. */
        int64_t high = (n + 1) / 2;
        int64_t p = d % n;
        int64_t q = p < high ? p : p - high;
        int64_t v = (n & ~1LL) - 2 * q;
        return v > 0 ? v : 2;
    }
    default:
        /* Modes 0, 1, 4, 5 keep counting down through zero. */
        return ((n - d) % wrap + wrap) % wrap;
    }
}

static bool out_at(const PITChannel *c, int64_t d)
{
    int64_t n = initial_count(c);
    switch (c->mode) {
    case 0:
        return c->counting && d >= n;
    case 1:
        return !c->counting || d >= n;
    case 2:
        return !c->counting || !c->gate || n < 2 || d % n != n - 1;
    case 3:
        return !c->counting || !c->gate || d % n < (n + 1) / 2;
    case 4:
    case 5:
        return !c->counting || d != n;
    }
    return true;
}

static int64_t current_count(const PITChannel *c, int64_t now)
{
    if (c->paused)
        return c->paused_count;
    if (!c->counting)
        return initial_count(c) & 0xFFFF;
    return count_at(c, elapsed_ticks(c, now));
}

bool pit_get_out(PIT *p, int ch, int64_t now)
{
    if (ch < 0 || ch > 2)
        return false;
    sync_channel(&p->s.ch[ch], now);
    const PITChannel *c = &p->s.ch[ch];
    if (c->paused)
        return c->mode == 0 ? false : true;
    return out_at(c, c->counting ? elapsed_ticks(c, now) : 0);
}

uint32_t pit_get_count(PIT *p, int ch, int64_t now)
{
    if (ch < 0 || ch > 2)
        return 0;
    sync_channel(&p->s.ch[ch], now);
    return (uint32_t)current_count(&p->s.ch[ch], now);
}

/* Clock number (after load) of the next OUT rising edge after d, or -1. */
static int64_t next_rise(const PITChannel *c, int64_t d)
{
    if (!c->counting || c->paused)
        return -1;
    int64_t n = initial_count(c);
    switch (c->mode) {
    case 0:
    case 1:
        return d < n ? n : -1;
    case 2:
    case 3:
        if (!c->gate)
            return -1;
        return (d / n + 1) * n;
    case 4:
    case 5:
        return d < n + 1 ? n + 1 : -1;
    }
    return -1;
}

static void irq0_set(PIT *p, bool level)
{
    PITChannel *c = &p->s.ch[0];
    c->irq_level = level;
    bus_set_irq(p->bus, 0, level);
}

/* Re-arm channel 0's timer for its next rising edge and drive IRQ 0 to
 * the current OUT level. */
static void irq0_update(PIT *p, int64_t now)
{
    PITChannel *c = &p->s.ch[0];
    bool out = pit_get_out(p, 0, now);
    if (out != c->irq_level)
        irq0_set(p, out);
    int64_t d = c->counting ? elapsed_ticks(c, now) : 0;
    int64_t r = next_rise(c, d);
    if (r < 0) {
        timer_del(p->irq_timer);
        return;
    }
    int64_t t = c->load_time + ticks_to_ns(r);
    if (t < now + PIT_MIN_IRQ_NS && (c->mode == 2 || c->mode == 3))
        t = now + PIT_MIN_IRQ_NS;
    timer_mod(p->irq_timer, t);
}

static void irq0_timer(void *opaque)
{
    PIT *p = opaque;
    int64_t now = clock_ns();
    sync_all(p, now);
    /* An edge is due: make sure the PIC sees low then high, even if the
     * line never looked low between two of our samples. */
    irq0_set(p, false);
    irq0_set(p, true);
    irq0_update(p, now);
}

static void channel_changed(PIT *p, int ch, int64_t now)
{
    if (ch == 0)
        irq0_update(p, now);
}

/* Load CR into the counting element (modes 1 and 5 wait for the gate). */
static void load_count(PIT *p, int ch, int64_t now)
{
    PITChannel *c = &p->s.ch[ch];
    c->paused = false;
    if (c->mode == 1 || c->mode == 5) {
        c->counting = false;
        channel_changed(p, ch, now);
        return;
    }
    c->null_count = false;
    c->counting = true;
    c->load_time = now;
    if (!c->gate && (c->mode == 0 || c->mode == 4)) {
        c->paused = true;
        c->paused_count = (uint32_t)count_at(c, 0);
    }
    channel_changed(p, ch, now);
}

void pit_set_gate(PIT *p, int ch, bool gate)
{
    if (ch < 0 || ch > 2)
        return;
    PITChannel *c = &p->s.ch[ch];
    int64_t now = clock_ns();
    sync_channel(c, now);
    if (gate == c->gate)
        return;
    if (gate) {
        switch (c->mode) {
        case 1:
        case 5:
            /* Rising edge triggers (and retriggers) the count. */
            if (c->count_written) {
                c->counting = true;
                c->null_count = false;
                c->load_time = now;
            }
            break;
        case 2:
        case 3:
            c->gate = true;
            if (c->counting)
                c->load_time = now;        /* the gate reloads N */
            break;
        default:
            if (c->paused) {
                /* Resume from the held count. */
                int64_t n = initial_count(c);
                int64_t done = n - c->paused_count;
                if (done < 0)
                    done += c->bcd ? 10000 : 0x10000;
                c->load_time = now - ticks_to_ns(done);
                c->paused = false;
            }
            break;
        }
    } else if (c->counting && (c->mode == 0 || c->mode == 4)) {
        c->paused_count = (uint32_t)count_at(c, elapsed_ticks(c, now));
        c->paused = true;
    }
    c->gate = gate;
    channel_changed(p, ch, now);
}

static void latch_count(PITChannel *c, int64_t now)
{
    if (c->latch_bytes)
        return;                         /* first latch holds until read */
    int64_t v = current_count(c, now);
    c->latched = c->bcd ? bin_to_bcd((int)(v % 10000)) : (uint16_t)v;
    c->latch_bytes = c->rw == 3 ? 2 : 1;
    c->read_msb_next = c->rw == 2;
}

static void latch_status(PIT *p, int ch, int64_t now)
{
    PITChannel *c = &p->s.ch[ch];
    if (c->status_latched)
        return;
    c->status = (uint8_t)((pit_get_out(p, ch, now) ? 0x80 : 0) |
                          (c->null_count ? 0x40 : 0) | (c->rw << 4) |
                          (c->cw_mode << 1) | (c->bcd ? 1 : 0));
    c->status_latched = true;
}

static void control_word(PIT *p, uint8_t val, int64_t now)
{
    int sc = val >> 6;
    if (sc == 3) {
        /* Read-back: bit 5 clear latches counts, bit 4 clear latches
         * status, bits 1-3 select the counters. */
        for (int ch = 0; ch < 3; ch++) {
            if (!(val & (2 << ch)))
                continue;
            if (!(val & 0x20))
                latch_count(&p->s.ch[ch], now);
            if (!(val & 0x10))
                latch_status(p, ch, now);
        }
        return;
    }
    PITChannel *c = &p->s.ch[sc];
    int rw = (val >> 4) & 3;
    if (rw == 0) {
        latch_count(c, now);
        return;
    }
    c->rw = (uint8_t)rw;
    /* 110 and 111 work as modes 2 and 3; read-back reports them as
     * written. */
    c->cw_mode = (val >> 1) & 7;
    c->mode = c->cw_mode > 5 ? c->cw_mode - 4 : c->cw_mode;
    c->bcd = val & 1;
    c->write_msb_next = false;
    c->read_msb_next = false;
    c->latch_bytes = 0;
    c->status_latched = false;
    c->null_count = true;
    c->counting = false;                /* waits for a count */
    c->count_written = false;
    c->reload_pending = false;
    c->paused = false;
    channel_changed(p, sc, now);
}

/* A complete count written to a channel. */
static void new_count(PIT *p, int ch, uint16_t val, int64_t now)
{
    PITChannel *c = &p->s.ch[ch];
    if ((c->mode == 2 || c->mode == 3) && c->counting && c->count_written &&
        c->gate && !c->paused) {
        /* Running: the new count waits for the end of this cycle. */
        int64_t n = initial_count(c);
        int64_t d = elapsed_ticks(c, now);
        c->pending_count = val;
        c->pending_time = c->load_time + ticks_to_ns_floor((d / n + 1) * n);
        c->reload_pending = true;
        c->null_count = true;
        return;
    }
    c->count_reg = val;
    c->null_count = true;
    c->count_written = true;
    load_count(p, ch, now);
}

static void write_counter(PIT *p, int ch, uint8_t val, int64_t now)
{
    PITChannel *c = &p->s.ch[ch];
    switch (c->rw) {
    case 1:
        new_count(p, ch, val, now);
        break;
    case 2:
        new_count(p, ch, (uint16_t)(val << 8), now);
        break;
    default:
        if (!c->write_msb_next) {
            c->write_lsb = val;
            c->write_msb_next = true;
            /* Mode 0: the first byte stops the count and drops OUT. */
            if (c->mode == 0) {
                c->counting = false;
                c->paused = false;
                channel_changed(p, ch, now);
            }
            return;
        }
        c->write_msb_next = false;
        new_count(p, ch, (uint16_t)(c->write_lsb | (val << 8)), now);
        break;
    }
}

static uint8_t read_counter(PIT *p, int ch, int64_t now)
{
    PITChannel *c = &p->s.ch[ch];
    if (c->status_latched) {
        c->status_latched = false;
        return c->status;
    }
    uint16_t v;
    if (c->latch_bytes) {
        v = c->latched;
        c->latch_bytes--;
    } else {
        int64_t cnt = current_count(c, now);
        v = c->bcd ? bin_to_bcd((int)(cnt % 10000)) : (uint16_t)cnt;
    }
    bool msb;
    if (c->rw == 1)
        msb = false;
    else if (c->rw == 2)
        msb = true;
    else {
        msb = c->read_msb_next;
        c->read_msb_next = !c->read_msb_next;
    }
    return msb ? (uint8_t)(v >> 8) : (uint8_t)v;
}

static uint8_t port61_read(PIT *p, int64_t now)
{
    uint8_t v = p->s.port61 & 0x0F;
    if ((now / REFRESH_NS) & 1)
        v |= 0x10;
    if (pit_get_out(p, 2, now))
        v |= 0x20;
    return v;
}

static uint32_t pit_pio_read(void *opaque, uint16_t port, int size)
{
    PIT *p = opaque;
    int64_t now = clock_ns();
    sync_all(p, now);
    uint32_t v = 0;
    for (int i = 0; i < size; i++) {
        uint16_t pt = (uint16_t)(port + i);
        uint8_t b = 0xFF;
        if (pt == 0x61)
            b = port61_read(p, now);
        else if (pt >= 0x40 && pt <= 0x42)
            b = read_counter(p, pt - 0x40, now);
        v |= (uint32_t)b << (8 * i);
    }
    return v;
}

static void pit_pio_write(void *opaque, uint16_t port, uint32_t val, int size)
{
    PIT *p = opaque;
    int64_t now = clock_ns();
    sync_all(p, now);
    for (int i = 0; i < size; i++) {
        uint16_t pt = (uint16_t)(port + i);
        uint8_t b = (uint8_t)(val >> (8 * i));
        if (pt == 0x43)
            control_word(p, b, now);
        else if (pt >= 0x40 && pt <= 0x42)
            write_counter(p, pt - 0x40, b, now);
        else if (pt == 0x61) {
            p->s.port61 = b & 0x0F;
            pit_set_gate(p, 2, b & 1);
        }
    }
}

void pit_reset(void *opaque)
{
    PIT *p = opaque;
    int64_t now = clock_ns();
    memset(&p->s, 0, sizeof(p->s));
    /* The state the BIOS finds: square wave, count 65536, channels 0
     * and 1 gated on, channel 2 gated by port 0x61 (off). */
    for (int ch = 0; ch < 3; ch++) {
        PITChannel *c = &p->s.ch[ch];
        c->mode = c->cw_mode = 3;
        c->rw = 3;
        c->gate = ch != 2;
        c->counting = true;
        c->count_written = true;
        c->load_time = now;
    }
    p->s.ch[0].irq_level = false;
    bus_set_irq(p->bus, 0, 0);
    irq0_update(p, now);
}

static void pit_post_load(void *opaque)
{
    PIT *p = opaque;
    for (int i = 0; i < 3; i++) {
        PITChannel *c = &p->s.ch[i];
        bool *flags[] = { &c->status_latched, &c->bcd, &c->gate,
                          &c->write_msb_next, &c->read_msb_next,
                          &c->null_count, &c->counting, &c->paused,
                          &c->count_written, &c->reload_pending,
                          &c->irq_level };
        for (size_t j = 0; j < sizeof(flags) / sizeof(flags[0]); j++)
            state_fix_bool(flags[j]);
        c->cw_mode &= 7;
        c->mode = c->cw_mode > 5 ? c->cw_mode - 4 : c->cw_mode;
        c->rw &= 3;
        c->load_time = state_clamp_time(c->load_time);
        c->pending_time = state_clamp_time(c->pending_time);
    }
    irq0_update(p, clock_ns());
}

PIT *pit_init(Bus *b)
{
    PIT *p = calloc(1, sizeof(*p));
    if (!p)
        abort();
    p->bus = b;
    p->irq_timer = timer_new(irq0_timer, p);
    bus_pio_register(b, 0x40, 4, pit_pio_read, pit_pio_write, p, "pit");
    bus_pio_register(b, 0x61, 1, pit_pio_read, pit_pio_write, p, "port61");
    p->dev = (Device){ .name = "pit", .opaque = p, .reset = pit_reset,
                       .state = &p->s, .state_size = sizeof(p->s),
                       .post_load = pit_post_load };
    bus_add_device(b, &p->dev);
    pit_reset(p);
    return p;
}

void pit_free(PIT *p)
{
    if (!p)
        return;
    timer_free(p->irq_timer);
    bus_del_device(p->bus, &p->dev);
    free(p);
}
