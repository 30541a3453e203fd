/* Intel 8237A DMA controller pair and the page registers (see hw/dma.h).
 *
 * DMA1 serves the 8-bit channels 0-3, DMA2 the 16-bit channels 4-7 (its
 * channel 0 is the cascade from DMA1). DMA2's registers sit on even ports,
 * so register n of DMA2 is port 0xC0 + 2n. */
#include <stdlib.h>
#include <string.h>
#include "hw/dma.h"

typedef struct DMAChannel {
    uint16_t base_addr, base_count;  /* as programmed (autoinit reloads) */
    uint16_t cur_addr, cur_count;
    uint8_t mode;                    /* mode register bits 2-7 */
    uint8_t page;
} DMAChannel;

typedef struct DMAController {
    DMAChannel ch[4];
    uint8_t command, status, mask, request, temp;
    bool flip_flop;                  /* false: next byte is the low one */
} DMAController;

typedef struct DMAState {
    DMAController c[2];
    uint8_t extra_page[16];          /* 0x80-0x8F, including unused ones */
} DMAState;

struct DMA {
    DMAState s;
    Bus *bus;
    Device dev;
};

/* Page register port offset (from 0x80) of each channel 0-7. */
static const uint8_t page_port[8] = { 0x7, 0x3, 0x1, 0x2, 0xF, 0xB, 0x9, 0xA };

static uint8_t ctrl_read(DMA *d, int n, int reg)
{
    DMAController *c = &d->s.c[n];
    if (reg < 8) {
        DMAChannel *ch = &c->ch[reg >> 1];
        uint16_t v = (reg & 1) ? ch->cur_count : ch->cur_addr;
        bool hi = c->flip_flop;
        c->flip_flop = !c->flip_flop;
        return hi ? (uint8_t)(v >> 8) : (uint8_t)v;
    }
    switch (reg) {
    case 8: {
        /* Status: TC bits 0-3 clear on read; request bits 4-7. */
        uint8_t v = c->status | (uint8_t)(c->request << 4);
        c->status &= 0xF0;
        return v;
    }
    case 0xD:
        return c->temp;
    case 0xF:
        return (uint8_t)(0xF0 | c->mask);
    default:
        return 0xFF;
    }
}

static void ctrl_write(DMA *d, int n, int reg, uint8_t v)
{
    DMAController *c = &d->s.c[n];
    if (reg < 8) {
        DMAChannel *ch = &c->ch[reg >> 1];
        uint16_t *base = (reg & 1) ? &ch->base_count : &ch->base_addr;
        uint16_t *cur = (reg & 1) ? &ch->cur_count : &ch->cur_addr;
        if (c->flip_flop)
            *base = (uint16_t)((*base & 0x00FF) | (v << 8));
        else
            *base = (uint16_t)((*base & 0xFF00) | v);
        *cur = *base;
        c->flip_flop = !c->flip_flop;
        return;
    }
    switch (reg) {
    case 8:
        c->command = v;
        break;
    case 9:
        if (v & 4)
            c->request |= (uint8_t)(1u << (v & 3));
        else
            c->request &= (uint8_t)~(1u << (v & 3));
        break;
    case 0xA:
        if (v & 4)
            c->mask |= (uint8_t)(1u << (v & 3));
        else
            c->mask &= (uint8_t)~(1u << (v & 3));
        break;
    case 0xB:
        c->ch[v & 3].mode = v & 0xFC;
        break;
    case 0xC:
        c->flip_flop = false;
        break;
    case 0xD:                        /* master clear */
        c->command = c->status = c->request = c->temp = 0;
        c->flip_flop = false;
        c->mask = 0x0F;
        break;
    case 0xE:
        c->mask = 0;
        break;
    case 0xF:
        c->mask = v & 0x0F;
        break;
    }
}

static uint32_t dma_pio_read(void *opaque, uint16_t port, int size)
{
    DMA *d = opaque;
    uint32_t v = 0;
    for (int i = 0; i < size; i++) {
        uint16_t p = (uint16_t)(port + i);
        uint8_t b = 0xFF;
        if (p <= 0x0F)
            b = ctrl_read(d, 0, p);
        else if (p >= 0xC0 && p <= 0xDF)
            b = (p & 1) ? 0xFF : ctrl_read(d, 1, (p - 0xC0) >> 1);
        else if (p >= 0x80 && p <= 0x8F)
            b = d->s.extra_page[p - 0x80];
        v |= (uint32_t)b << (8 * i);
    }
    return v;
}

static void dma_pio_write(void *opaque, uint16_t port, uint32_t val, int size)
{
    DMA *d = opaque;
    for (int i = 0; i < size; i++) {
        uint16_t p = (uint16_t)(port + i);
        uint8_t b = (uint8_t)(val >> (8 * i));
        if (p <= 0x0F) {
            ctrl_write(d, 0, p, b);
        } else if (p >= 0xC0 && p <= 0xDF) {
            if (!(p & 1))
                ctrl_write(d, 1, (p - 0xC0) >> 1, b);
        } else if (p >= 0x80 && p <= 0x8F) {
            d->s.extra_page[p - 0x80] = b;
            for (int ch = 0; ch < 8; ch++)
                if (page_port[ch] == p - 0x80)
                    d->s.c[ch >> 2].ch[ch & 3].page = b;
        }
    }
}

int dma_transfer(DMA *d, int chn, uint8_t *buf, int len)
{
    if (chn < 0 || chn > 7 || chn == 4 || len <= 0)
        return 0;
    DMAController *c = &d->s.c[chn >> 2];
    DMAChannel *ch = &c->ch[chn & 3];
    if (c->mask & (1u << (chn & 3)))
        return 0;
    bool wide = chn >= 4;
    int unit = wide ? 2 : 1;
    int kind = (ch->mode >> 2) & 3;  /* 1: write memory, 2: read memory */
    bool down = ch->mode & 0x20;
    int done = 0;
    while (done + unit <= len) {
        uint64_t pa = wide
            ? ((uint64_t)(ch->page & 0xFE) << 16) | ((uint64_t)ch->cur_addr << 1)
            : ((uint64_t)ch->page << 16) | ch->cur_addr;
        if (kind == 1)
            bus_mem_rw(d->bus, pa, buf + done, (size_t)unit, true);
        else if (kind == 2)
            bus_mem_rw(d->bus, pa, buf + done, (size_t)unit, false);
        done += unit;
        ch->cur_addr = (uint16_t)(ch->cur_addr + (down ? -1 : 1));
        if (ch->cur_count-- == 0) {
            /* Terminal count: reload on autoinit, else mask the channel. */
            c->status |= (uint8_t)(1u << (chn & 3));
            if (ch->mode & 0x10) {
                ch->cur_addr = ch->base_addr;
                ch->cur_count = ch->base_count;
            } else {
                c->mask |= (uint8_t)(1u << (chn & 3));
            }
            break;
        }
    }
    return done;
}

static void dma_reset(void *opaque)
{
    DMA *d = opaque;
    memset(&d->s, 0, sizeof(d->s));
    d->s.c[0].mask = d->s.c[1].mask = 0x0F;
}

static void dma_post_load(void *opaque)
{
    DMA *d = opaque;
    for (int i = 0; i < 2; i++)
        state_fix_bool(&d->s.c[i].flip_flop);
}

DMA *dma_init(Bus *b)
{
    DMA *d = calloc(1, sizeof(*d));
    if (!d)
        abort();
    d->bus = b;
    bus_pio_register(b, 0x00, 16, dma_pio_read, dma_pio_write, d, "dma1");
    bus_pio_register(b, 0xC0, 32, dma_pio_read, dma_pio_write, d, "dma2");
    bus_pio_register(b, 0x81, 15, dma_pio_read, dma_pio_write, d, "dma-page");
    d->dev = (Device){ .name = "dma", .opaque = d, .reset = dma_reset,
                       .state = &d->s, .state_size = sizeof(d->s),
                       .post_load = dma_post_load };
    bus_add_device(b, &d->dev);
    dma_reset(d);
    return d;
}

void dma_free(DMA *d)
{
    if (!d)
        return;
    bus_del_device(d->bus, &d->dev);
    free(d);
}
