/* VGA registers, the legacy memory window and the Bochs VBE interface of
 * the stdvga device (hw/vga.h). Drawing lives in vga_render.c.
 *
 * References: the IBM VGA technical reference for the register set and the
 * memory-access pipeline (latches, write modes, set/reset, rotate, logical
 * function, bit mask, map mask), and the Bochs "dispi" interface as
 * SeaVGABIOS uses it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hw/vga_int.h"
#include "system/event.h"
#include "ui/console.h"

#define LEGACY_BASE 0xA0000u
#define LEGACY_SIZE 0x20000u

/* Sequencer / graphics / CRTC / attribute register counts. */
#define SR_COUNT 5
#define GR_COUNT 9
#define CR_COUNT 0x19
#define AR_COUNT 0x15

/* Writable bits of each register (reserved bits read back as 0). */
static const uint8_t sr_mask[8] = { 0x03, 0x3d, 0x0f, 0x3f, 0x0e };
static const uint8_t gr_mask[16] = { 0x0f, 0x0f, 0x0f, 0x1f, 0x03, 0x7b,
                                     0x0f, 0x0f, 0xff };
static const uint8_t ar_mask[32] = {
    0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f,
    0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f,
    0xef, 0xff, 0x3f, 0x0f, 0x0f };

/* ---------------- helpers ---------------- */

static inline bool crtc_is_color(const VGAState *s)
{
    return s->r->misc & 1;
}

static inline uint32_t expand_bits(uint8_t four)
{
    /* Bit p of `four` becomes 0xff in byte p. */
    uint32_t v = 0;
    for (int p = 0; p < 4; p++)
        if (four & (1u << p))
            v |= 0xffu << (8 * p);
    return v;
}

static inline uint32_t replicate(uint8_t b)
{
    return b * 0x01010101u;
}

static uint8_t dac_component(const VGAState *s, uint8_t v)
{
    if (s->r->vbe_regs[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_8BIT_DAC)
        return v;
    v &= 0x3f;
    return (uint8_t)((v << 2) | (v >> 4));
}

void vga_palette_changed(VGAState *s)
{
    for (int i = 0; i < 256; i++) {
        const uint8_t *c = &s->r->palette[i * 3];
        s->pal_rgb[i] = (uint32_t)dac_component(s, c[0]) << 16 |
                        (uint32_t)dac_component(s, c[1]) << 8 |
                        dac_component(s, c[2]);
    }
    s->full_redraw = true;
}

void vga_invalidate(VGAState *s)
{
    vga_palette_changed(s);
    s->font_dirty = true;
    s->geom.kind = VGA_KIND_NONE;
}

/* ---------------- the legacy memory window ---------------- */

/* Maps an offset in 0xA0000-0xBFFFF to a CPU address within the window the
 * memory map select bits (GR6 bits 2-3) open, or -1 when outside it. */
static int64_t legacy_addr(const VGAState *s, uint32_t off)
{
    switch ((s->r->gr[6] >> 2) & 3) {
    case 0:
        return off;
    case 1:
        if (off >= 0x10000)
            return -1;
        return (int64_t)off + s->r->bank_offset;
    case 2:
        if (off < 0x10000 || off >= 0x18000)
            return -1;
        return off - 0x10000;
    default:
        if (off < 0x18000)
            return -1;
        return off - 0x18000;
    }
}

static uint8_t legacy_readb(VGAState *s, uint32_t off)
{
    int64_t a = legacy_addr(s, off);
    if (a < 0)
        return 0xff;
    VGARegs *r = s->r;
    if (r->sr[4] & 0x08) {                    /* chain-4 */
        return (uint64_t)a < s->vram_size ? s->vram[a] : 0xff;
    }
    if (r->gr[5] & 0x10) {                    /* odd/even read */
        int plane = (r->gr[4] & 2) | (a & 1);
        uint64_t i = ((uint64_t)(a & ~1) << 1) | plane;
        return i < s->vram_size ? s->vram[i] : 0xff;
    }
    uint64_t i = (uint64_t)a << 2;
    if (i + 4 > s->vram_size)
        return 0xff;
    memcpy(&r->latch, &s->vram[i], 4);
    if (!(r->gr[5] & 0x08))                   /* read mode 0 */
        return (uint8_t)(r->latch >> (8 * (r->gr[4] & 3)));
    /* Read mode 1: a 1 bit where every plane selected by Color Don't Care
     * matches the Color Compare colour. */
    uint32_t cmp = (r->latch ^ expand_bits(r->gr[2])) & expand_bits(r->gr[7]);
    cmp |= cmp >> 16;
    cmp |= cmp >> 8;
    return (uint8_t)~cmp;
}

static void legacy_writeb(VGAState *s, uint32_t off, uint8_t v)
{
    int64_t a = legacy_addr(s, off);
    if (a < 0)
        return;
    VGARegs *r = s->r;
    uint8_t map_mask = r->sr[2] & 0x0f;
    if (r->sr[4] & 0x08) {                    /* chain-4 */
        if ((uint64_t)a < s->vram_size && (map_mask & (1u << (a & 3)))) {
            s->vram[a] = v;
            s->dirty[a >> VGA_PAGE_SHIFT] = 1;
        }
        return;
    }
    if (!(r->sr[4] & 0x04)) {                 /* odd/even write */
        uint8_t planes = map_mask & ((a & 1) ? 0x0a : 0x05);
        uint64_t base = (uint64_t)(a & ~1) << 1;
        if (base + 4 > s->vram_size)
            return;
        for (int p = 0; p < 4; p++)
            if (planes & (1u << p))
                s->vram[base + p] = v;
        if (planes & 4)
            s->font_dirty = true;
        s->dirty[base >> VGA_PAGE_SHIFT] = 1;
        return;
    }

    uint64_t i = (uint64_t)a << 2;
    if (i + 4 > s->vram_size)
        return;
    int mode = r->gr[5] & 3;
    uint8_t rot = r->gr[3] & 7;
    uint8_t rv = (uint8_t)((v >> rot) | (v << ((8 - rot) & 7)));
    uint32_t val, bit_mask = r->gr[8];
    switch (mode) {
    case 0: {
        val = replicate(rv);
        uint32_t sr_en = expand_bits(r->gr[1]);
        val = (val & ~sr_en) | (expand_bits(r->gr[0]) & sr_en);
        break;
    }
    case 1:
        val = r->latch;
        bit_mask = 0xff;
        break;
    case 2:
        val = expand_bits(v);
        break;
    default:
        val = expand_bits(r->gr[0]);
        bit_mask &= rv;
        break;
    }
    if (mode != 1) {
        switch ((r->gr[3] >> 3) & 3) {
        case 1: val &= r->latch; break;
        case 2: val |= r->latch; break;
        case 3: val ^= r->latch; break;
        default: break;
        }
        uint32_t m = replicate((uint8_t)bit_mask);
        val = (val & m) | (r->latch & ~m);
    }
    uint32_t plane_mask = expand_bits(map_mask);
    uint32_t old;
    memcpy(&old, &s->vram[i], 4);
    old = (old & ~plane_mask) | (val & plane_mask);
    memcpy(&s->vram[i], &old, 4);
    if (map_mask & 4)
        s->font_dirty = true;
    s->dirty[i >> VGA_PAGE_SHIFT] = 1;
}

uint64_t vga_legacy_read(void *opaque, uint64_t off, int size)
{
    VGAState *s = opaque;
    uint64_t v = 0;
    for (int k = 0; k < size && k < 8; k++)
        v |= (uint64_t)legacy_readb(s, (uint32_t)((off + k) & (LEGACY_SIZE - 1)))
             << (8 * k);
    return v;
}

void vga_legacy_write(void *opaque, uint64_t off, uint64_t val, int size)
{
    VGAState *s = opaque;
    for (int k = 0; k < size && k < 8; k++)
        legacy_writeb(s, (uint32_t)((off + k) & (LEGACY_SIZE - 1)),
                      (uint8_t)(val >> (8 * k)));
}

/* ---------------- the linear framebuffer ---------------- */

uint64_t vga_lfb_read(void *opaque, uint64_t off, int size)
{
    VGAState *s = opaque;
    uint64_t v = 0;
    if (size < 1 || size > 8 || off > s->vram_size - (uint64_t)size)
        return ~0ull;
    memcpy(&v, &s->vram[off], (size_t)size);
    return v;
}

void vga_lfb_write(void *opaque, uint64_t off, uint64_t val, int size)
{
    VGAState *s = opaque;
    if (size < 1 || size > 8 || off > s->vram_size - (uint64_t)size)
        return;
    memcpy(&s->vram[off], &val, (size_t)size);
    vga_mark_dirty(s, (uint32_t)off, (uint32_t)size);
}

static uint64_t rom_read(void *opaque, uint64_t off, int size)
{
    VGAState *s = opaque;
    uint64_t v = 0;
    for (int k = 0; k < size && k < 8; k++)
        if (off + k < s->rom_size)
            v |= (uint64_t)s->rom[off + k] << (8 * k);
    return v;
}

static void rom_write(void *opaque, uint64_t off, uint64_t val, int size)
{
}

/* ---------------- Bochs VBE ---------------- */

static int vbe_bytes_pp(int bpp)
{
    return bpp == 15 ? 2 : bpp / 8;
}

static bool vbe_enabled(const VGAState *s)
{
    return s->r->vbe_regs[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_ENABLED;
}

/* Recompute the scanline length and the visible origin from the virtual
 * width and the x/y offsets. */
static void vbe_update_layout(VGAState *s)
{
    uint16_t *v = s->r->vbe_regs;
    int bpp = v[VBE_DISPI_INDEX_BPP];
    uint32_t vw = v[VBE_DISPI_INDEX_VIRT_WIDTH];
    uint32_t line = bpp == 4 ? vw / 2 : vw * vbe_bytes_pp(bpp);
    if (!line)
        line = 1;
    s->r->vbe_line = line;
    uint32_t vh = s->vram_size / line;
    v[VBE_DISPI_INDEX_VIRT_HEIGHT] = vh > 0xffff ? 0xffff : (uint16_t)vh;
    uint32_t x = v[VBE_DISPI_INDEX_X_OFFSET], y = v[VBE_DISPI_INDEX_Y_OFFSET];
    uint64_t start = (uint64_t)y * line +
                     (bpp == 4 ? (x / 8) * 4 : (uint64_t)x * vbe_bytes_pp(bpp));
    s->r->vbe_start = start < s->vram_size ? (uint32_t)start : 0;
    s->full_redraw = true;
}

static bool vbe_bpp_ok(int bpp)
{
    return bpp == 4 || bpp == 8 || bpp == 15 || bpp == 16 || bpp == 24 ||
           bpp == 32;
}

static void vbe_enable(VGAState *s, uint16_t val)
{
    uint16_t *v = s->r->vbe_regs;
    int bpp = v[VBE_DISPI_INDEX_BPP];
    uint32_t xres = v[VBE_DISPI_INDEX_XRES], yres = v[VBE_DISPI_INDEX_YRES];
    uint64_t need = bpp == 4 ? (uint64_t)xres / 2 * yres
                             : (uint64_t)xres * yres * vbe_bytes_pp(bpp);
    if (!xres || !yres || need > s->vram_size || !vbe_bpp_ok(bpp)) {
        /* A mode that cannot be shown stays off rather than half-on. */
        v[VBE_DISPI_INDEX_ENABLE] = val & ~VBE_DISPI_ENABLED;
        return;
    }
    bool was = vbe_enabled(s);
    v[VBE_DISPI_INDEX_ENABLE] = val;
    if (was)
        return;
    v[VBE_DISPI_INDEX_VIRT_WIDTH] = (uint16_t)xres;
    v[VBE_DISPI_INDEX_X_OFFSET] = 0;
    v[VBE_DISPI_INDEX_Y_OFFSET] = 0;
    v[VBE_DISPI_INDEX_BANK] = 0;
    s->r->bank_offset = 0;
    vbe_update_layout(s);
    if (!(val & VBE_DISPI_NOCLEARMEM)) {
        memset(s->vram, 0, need);
        vga_mark_dirty(s, 0, (uint32_t)need);
    }
    /* Put the VGA side into a graphics mode with the 64 KiB window at
     * 0xA0000, linear (chain-4) for packed pixels, so the banked window
     * and legacy readers see the framebuffer as SeaVGABIOS expects. */
    s->r->gr[6] = (uint8_t)((s->r->gr[6] & ~0x0c) | 0x05);
    s->r->gr[5] &= ~0x10;
    if (bpp != 4)
        s->r->sr[4] |= 0x08;
    s->r->sr[4] |= 0x04;
    s->r->sr[2] = 0x0f;
    s->r->cr[0x17] |= 0x03;
    s->full_redraw = true;
}

static uint16_t vbe_read_data(VGAState *s)
{
    uint16_t idx = s->r->vbe_index;
    uint16_t *v = s->r->vbe_regs;
    if (idx >= VBE_DISPI_INDEX_NB)
        return 0;
    if ((v[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_GETCAPS) &&
        idx >= VBE_DISPI_INDEX_XRES && idx <= VBE_DISPI_INDEX_BPP) {
        static const uint16_t caps[] = { 0, VBE_DISPI_MAX_XRES,
                                         VBE_DISPI_MAX_YRES, 32 };
        return caps[idx];
    }
    if (idx == VBE_DISPI_INDEX_VIDEO_MEMORY_64K)
        return (uint16_t)(s->vram_size >> 16);
    return v[idx];
}

static void vbe_write_data(VGAState *s, uint16_t val)
{
    uint16_t *v = s->r->vbe_regs;
    switch (s->r->vbe_index) {
    case VBE_DISPI_INDEX_ID:
        if (val >= VBE_DISPI_ID0 && val <= VBE_DISPI_ID5)
            v[VBE_DISPI_INDEX_ID] = val;
        break;
    case VBE_DISPI_INDEX_XRES:
    case VBE_DISPI_INDEX_YRES:
    case VBE_DISPI_INDEX_BPP: {
        /* The mode is fixed while it is shown. */
        if (vbe_enabled(s))
            break;
        if (s->r->vbe_index == VBE_DISPI_INDEX_XRES &&
            (val > VBE_DISPI_MAX_XRES || (val & 7)))
            break;
        if (s->r->vbe_index == VBE_DISPI_INDEX_YRES && val > VBE_DISPI_MAX_YRES)
            break;
        if (s->r->vbe_index == VBE_DISPI_INDEX_BPP) {
            if (val == 0)
                val = 8;
            if (!vbe_bpp_ok(val))
                break;
        }
        v[s->r->vbe_index] = val;
        break;
    }
    case VBE_DISPI_INDEX_ENABLE:
        if (val & VBE_DISPI_ENABLED) {
            vbe_enable(s, val);
        } else {
            v[VBE_DISPI_INDEX_ENABLE] = val;
            s->r->bank_offset = 0;
            s->full_redraw = true;
        }
        /* The 8-bit DAC flag changes how palette entries read. */
        vga_palette_changed(s);
        break;
    case VBE_DISPI_INDEX_BANK: {
        uint32_t off = (uint32_t)val << 16;
        if (off < s->vram_size) {
            v[VBE_DISPI_INDEX_BANK] = val;
            s->r->bank_offset = off;
        }
        break;
    }
    case VBE_DISPI_INDEX_VIRT_WIDTH: {
        int bpp = v[VBE_DISPI_INDEX_BPP];
        uint64_t line = bpp == 4 ? val / 2u : (uint64_t)val * vbe_bytes_pp(bpp);
        if (val < v[VBE_DISPI_INDEX_XRES] && vbe_enabled(s))
            break;
        if (!line || line * v[VBE_DISPI_INDEX_YRES] > s->vram_size)
            break;
        v[VBE_DISPI_INDEX_VIRT_WIDTH] = val;
        vbe_update_layout(s);
        break;
    }
    case VBE_DISPI_INDEX_X_OFFSET:
    case VBE_DISPI_INDEX_Y_OFFSET:
        v[s->r->vbe_index] = val;
        vbe_update_layout(s);
        break;
    default:
        break;                 /* VIRT_HEIGHT, VIDEO_MEMORY_64K: read-only */
    }
}

/* ---------------- VGA ports ---------------- */

static uint8_t ioport_readb(VGAState *s, uint16_t port)
{
    VGARegs *r = s->r;
    /* The CRTC and status ports answer at 0x3bx or 0x3dx, not both. */
    if ((port >= 0x3b0 && port <= 0x3bf && crtc_is_color(s)) ||
        (port >= 0x3d0 && port <= 0x3df && !crtc_is_color(s)))
        return 0xff;
    switch (port) {
    case 0x3c0:
        return r->ar_index;
    case 0x3c1:
        return (r->ar_index & 0x1f) < AR_COUNT ? r->ar[r->ar_index & 0x1f] : 0;
    case 0x3c2:
        return 0x10;                  /* input status 0: switch sense */
    case 0x3c3:
        return 1;                     /* VGA enabled */
    case 0x3c4:
        return r->sr_index;
    case 0x3c5:
        return r->sr_index < SR_COUNT ? r->sr[r->sr_index] : 0xff;
    case 0x3c6:
        return r->pel_mask;
    case 0x3c7:
        return r->dac_state;
    case 0x3c8:
        return r->dac_write_index;
    case 0x3c9: {
        uint8_t v = r->palette[r->dac_read_index * 3 + r->dac_sub];
        if (++r->dac_sub == 3) {
            r->dac_sub = 0;
            r->dac_read_index++;
        }
        return v;
    }
    case 0x3ca:
        return r->fcr;
    case 0x3cc:
        return r->misc;
    case 0x3ce:
        return r->gr_index;
    case 0x3cf:
        return r->gr_index < GR_COUNT ? r->gr[r->gr_index] : 0xff;
    case 0x3b4: case 0x3d4:
        return r->cr_index;
    case 0x3b5: case 0x3d5:
        return r->cr_index < CR_COUNT ? r->cr[r->cr_index] : 0xff;
    case 0x3ba: case 0x3da: {
        /* Software polls these bits to find retrace; derive them from the
         * virtual clock: a 60 Hz frame with ~1.5% vertical retrace, and a
         * display-enable bit that flips on every read (horizontal blank). */
        int64_t t = clock_ns() % (NS_PER_SEC / 60);
        r->st01 ^= 0x01;
        r->st01 = (uint8_t)((r->st01 & ~0x08) |
                            (t < NS_PER_SEC / 60 / 64 ? 0x09 : 0));
        r->ar_flip = 0;
        return r->st01;
    }
    default:
        return 0xff;
    }
}

static void ioport_writeb(VGAState *s, uint16_t port, uint8_t v)
{
    VGARegs *r = s->r;
    if ((port >= 0x3b0 && port <= 0x3bf && crtc_is_color(s)) ||
        (port >= 0x3d0 && port <= 0x3df && !crtc_is_color(s)))
        return;
    switch (port) {
    case 0x3c0: case 0x3c1:
        if (!r->ar_flip) {
            bool was_on = r->ar_index & 0x20;
            r->ar_index = v & 0x3f;
            if (was_on != !!(v & 0x20))
                s->full_redraw = true;
        } else {
            int idx = r->ar_index & 0x1f;
            if (idx < AR_COUNT) {
                r->ar[idx] = v & ar_mask[idx];
                s->full_redraw = true;
            }
        }
        r->ar_flip ^= 1;
        break;
    case 0x3c2:
        r->misc = v & 0xef;
        s->full_redraw = true;
        break;
    case 0x3c4:
        r->sr_index = v & 7;
        break;
    case 0x3c5:
        if (r->sr_index < SR_COUNT) {
            r->sr[r->sr_index] = v & sr_mask[r->sr_index];
            if (r->sr_index != 2)
                s->full_redraw = true;
            if (r->sr_index == 3)
                s->font_dirty = true;
        }
        break;
    case 0x3c6:
        r->pel_mask = v;
        s->full_redraw = true;
        break;
    case 0x3c7:
        r->dac_read_index = v;
        r->dac_sub = 0;
        r->dac_state = 3;
        break;
    case 0x3c8:
        r->dac_write_index = v;
        r->dac_sub = 0;
        r->dac_state = 0;
        break;
    case 0x3c9:
        /* The DAC keeps 6 bits per component unless VBE asked for 8. */
        r->dac_cache[r->dac_sub++] =
            (r->vbe_regs[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_8BIT_DAC)
            ? v : (v & 0x3f);
        if (r->dac_sub == 3) {
            memcpy(&r->palette[r->dac_write_index * 3], r->dac_cache, 3);
            r->dac_write_index++;
            r->dac_sub = 0;
            vga_palette_changed(s);
        }
        break;
    case 0x3ce:
        r->gr_index = v & 0x0f;
        break;
    case 0x3cf:
        if (r->gr_index < GR_COUNT) {
            r->gr[r->gr_index] = v & gr_mask[r->gr_index];
            if (r->gr_index >= 5 && r->gr_index <= 6)
                s->full_redraw = true;
        }
        break;
    case 0x3b4: case 0x3d4:
        r->cr_index = v & 0x3f;
        break;
    case 0x3b5: case 0x3d5: {
        int idx = r->cr_index;
        if (idx >= CR_COUNT)
            break;
        /* CR11 bit 7 write-protects CR0-CR7, except CR7's line compare
         * bit 8 (bit 4). */
        if ((r->cr[0x11] & 0x80) && idx <= 7) {
            if (idx == 7)
                r->cr[7] = (uint8_t)((r->cr[7] & ~0x10) | (v & 0x10));
            break;
        }
        r->cr[idx] = v;
        /* Cursor moves are picked up by the per-frame compare. */
        if (idx != 0x0e && idx != 0x0f)
            s->full_redraw = true;
        break;
    }
    case 0x3ba: case 0x3da:
        r->fcr = v & 0x03;
        break;
    default:
        break;
    }
}

uint32_t vga_ioport_read(void *opaque, uint16_t port, int size)
{
    VGAState *s = opaque;
    if (port >= 0x1ce && port <= 0x1d0) {
        if (port == 0x1ce)
            return s->r->vbe_index;
        return vbe_read_data(s);
    }
    uint32_t v = 0;
    for (int k = 0; k < size && k < 4; k++)
        v |= (uint32_t)ioport_readb(s, (uint16_t)(port + k)) << (8 * k);
    return v;
}

void vga_ioport_write(void *opaque, uint16_t port, uint32_t val, int size)
{
    VGAState *s = opaque;
    if (port >= 0x1ce && port <= 0x1d0) {
        if (port == 0x1ce)
            s->r->vbe_index = (uint16_t)val;
        else
            vbe_write_data(s, (uint16_t)val);
        return;
    }
    /* A word write is an index/data pair (OUT DX, AX on 0x3c4 and so on). */
    for (int k = 0; k < size && k < 4; k++)
        ioport_writeb(s, (uint16_t)(port + k), (uint8_t)(val >> (8 * k)));
}

/* ---------------- lifecycle ---------------- */

void vga_reset(void *opaque)
{
    VGAState *s = opaque;
    memset(s->r, 0, sizeof(*s->r));
    s->r->pel_mask = 0xff;
    s->r->misc = 0x01;                  /* colour CRTC ports at 0x3dx */
    s->r->sr[2] = 0x0f;
    s->r->gr[6] = 0x0c;                 /* text window at 0xB8000 */
    s->r->gr[8] = 0xff;
    s->r->vbe_regs[VBE_DISPI_INDEX_ID] = VBE_DISPI_ID5;
    s->r->vbe_regs[VBE_DISPI_INDEX_XRES] = 640;
    s->r->vbe_regs[VBE_DISPI_INDEX_YRES] = 480;
    s->r->vbe_regs[VBE_DISPI_INDEX_BPP] = 8;
    s->r->vbe_regs[VBE_DISPI_INDEX_VIRT_WIDTH] = 640;
    vbe_update_layout(s);
    memset(s->vram, 0, s->vram_size);
    memset(s->dirty, 1, s->dirty_pages);
    vga_invalidate(s);
}

static void vga_post_load(void *opaque)
{
    VGAState *s = opaque;
    VGARegs *r = s->r;
    /* A loaded image is untrusted: bring every index back in range. */
    if (r->bank_offset >= s->vram_size)
        r->bank_offset = 0;
    if (r->dac_sub > 2)
        r->dac_sub = 0;
    if (!vbe_bpp_ok(r->vbe_regs[VBE_DISPI_INDEX_BPP])) {
        r->vbe_regs[VBE_DISPI_INDEX_BPP] = 8;
        r->vbe_regs[VBE_DISPI_INDEX_ENABLE] &= ~VBE_DISPI_ENABLED;
    }
    vbe_update_layout(s);
    vga_invalidate(s);
}

static void console_update(void *opaque, bool full)
{
    vga_update_display(opaque, full);
}

static const ConsoleDisplayOps vga_console_ops = { .update = console_update };

uint8_t *vga_vram(VGAState *s) { return s->vram; }
uint32_t vga_vram_size(const VGAState *s) { return s->vram_size; }

VGAState *vga_create(Bus *bus, const VGAConfig *cfg, char *err, size_t n)
{
    uint32_t vram = cfg->vram_size ? cfg->vram_size : VGA_VRAM_DEFAULT;
    if (vram < (1u << 20) || vram > (256u << 20) || (vram & (vram - 1))) {
        snprintf(err, n, "vga: VRAM size must be a power of two from 1 to "
                 "256 MiB");
        return NULL;
    }
    VGAState *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, n, "vga: out of memory");
        return NULL;
    }
    s->vram_size = vram;
    s->r = calloc(1, sizeof(VGARegs) + vram);
    s->vram = s->r ? (uint8_t *)(s->r + 1) : NULL;
    s->dirty_pages = vram >> VGA_PAGE_SHIFT;
    s->dirty = calloc(1, s->dirty_pages);
    if (!s->vram || !s->dirty) {
        vga_destroy(s);
        snprintf(err, n, "vga: out of memory for %u MiB of VRAM", vram >> 20);
        return NULL;
    }
    if (cfg->rom && cfg->rom_size) {
        s->rom = malloc(cfg->rom_size);
        if (!s->rom) {
            vga_destroy(s);
            snprintf(err, n, "vga: out of memory");
            return NULL;
        }
        memcpy(s->rom, cfg->rom, cfg->rom_size);
        s->rom_size = cfg->rom_size;
    }
    s->bus = bus;
    s->legacy_handle = s->lfb_handle = -1;
    vga_reset(s);

    if (bus) {
        bus_pio_register(bus, 0x3b4, 2, vga_ioport_read, vga_ioport_write, s,
                         "vga");
        bus_pio_register(bus, 0x3ba, 1, vga_ioport_read, vga_ioport_write, s,
                         "vga");
        bus_pio_register(bus, 0x3c0, 16, vga_ioport_read, vga_ioport_write, s,
                         "vga");
        bus_pio_register(bus, 0x3d4, 2, vga_ioport_read, vga_ioport_write, s,
                         "vga");
        bus_pio_register(bus, 0x3da, 1, vga_ioport_read, vga_ioport_write, s,
                         "vga");
        bus_pio_register(bus, 0x1ce, 3, vga_ioport_read, vga_ioport_write, s,
                         "vbe");
        s->legacy_handle = bus_mmio_register(bus, LEGACY_BASE, LEGACY_SIZE,
                                             vga_legacy_read, vga_legacy_write,
                                             s, "vga-window");
        if (cfg->pci) {
            int devfn = cfg->devfn >= 0 ? cfg->devfn : PCI_DEVFN(2, 0);
            s->pci = pci_add_device(cfg->pci, devfn, VGA_PCI_VENDOR,
                                    VGA_PCI_DEVICE, 0x03000002, "vga");
            if (!s->pci) {
                vga_destroy(s);
                snprintf(err, n, "vga: PCI slot %d.%d is taken",
                         PCI_SLOT(devfn), PCI_FUNC(devfn));
                return NULL;
            }
            s->pci->opaque = s;
            /* QEMU's subsystem IDs, which guest drivers may match on. */
            pci_set_word(s->pci, PCI_SUBSYSTEM_VENDOR_ID, 0x1af4);
            pci_set_word(s->pci, PCI_SUBSYSTEM_ID, 0x1100);
            memcpy(s->pci->config_init, s->pci->config, 256);
            pci_set_bar_mem(s->pci, 0, vram, true, vga_lfb_read,
                            vga_lfb_write, s);
            if (s->rom)
                pci_set_bar_mem(s->pci, PCI_ROM_SLOT, (uint32_t)s->rom_size,
                                false, rom_read, rom_write, s);
        } else {
            s->lfb_base = VGA_LFB_DEFAULT;
            s->lfb_handle = bus_mmio_register(bus, s->lfb_base, vram,
                                              vga_lfb_read, vga_lfb_write, s,
                                              "vga-lfb");
        }
        s->dev.name = "vga-regs";
        s->dev.opaque = s;
        s->dev.reset = vga_reset;
        /* Registers and VRAM are one block, so snapshots carry both. */
        s->dev.state = s->r;
        s->dev.state_size = sizeof(*s->r) + s->vram_size;
        s->dev.post_load = vga_post_load;
        bus_add_device(bus, &s->dev);
    }
    if (cfg->console) {
        s->console = true;
        console_register_display(&vga_console_ops, s);
    }
    return s;
}

void vga_destroy(VGAState *s)
{
    if (!s)
        return;
    if (s->console)
        console_register_display(NULL, NULL);
    free(s->r);
    free(s->dirty);
    free(s->rom);
    free(s->text_shadow);
    free(s);
}

/* ---------------- text mode without a BIOS ---------------- */

/* BIOS mode 3 (80x25 colour text, 9x16 cells), from the standard VGA mode
 * tables. */
static const uint8_t mode3_sr[SR_COUNT] = { 0x03, 0x00, 0x03, 0x00, 0x02 };
static const uint8_t mode3_cr[CR_COUNT] = {
    0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f, 0x00, 0x4f, 0x0d, 0x0e,
    0x00, 0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x28, 0x1f, 0x96, 0xb9, 0xa3,
    0xff };
static const uint8_t mode3_gr[GR_COUNT] = { 0x00, 0x00, 0x00, 0x00, 0x00,
                                            0x10, 0x0e, 0x00, 0xff };
static const uint8_t mode3_ar[AR_COUNT] = {
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3a, 0x3b,
    0x3c, 0x3d, 0x3e, 0x3f, 0x0c, 0x00, 0x0f, 0x08, 0x00 };

void vga_set_text_mode(VGAState *s, const uint8_t *font16)
{
    VGARegs *r = s->r;
    r->vbe_regs[VBE_DISPI_INDEX_ENABLE] = 0;
    r->bank_offset = 0;
    r->misc = 0x67;
    memcpy(r->sr, mode3_sr, sizeof(mode3_sr));
    memcpy(r->cr, mode3_cr, sizeof(mode3_cr));
    memcpy(r->gr, mode3_gr, sizeof(mode3_gr));
    memcpy(r->ar, mode3_ar, sizeof(mode3_ar));
    r->ar_index = 0x20;
    r->ar_flip = 0;
    r->pel_mask = 0xff;
    /* The 64-colour EGA palette: index bits 5..0 are r g b R G B, the
     * capitals worth 2/3 of full scale and the small letters 1/3. */
    memset(r->palette, 0, sizeof(r->palette));
    for (int i = 0; i < 64; i++) {
        r->palette[i * 3 + 0] = (uint8_t)(((i >> 2) & 1) * 0x2a + ((i >> 5) & 1) * 0x15);
        r->palette[i * 3 + 1] = (uint8_t)(((i >> 1) & 1) * 0x2a + ((i >> 4) & 1) * 0x15);
        r->palette[i * 3 + 2] = (uint8_t)((i & 1) * 0x2a + ((i >> 3) & 1) * 0x15);
    }
    /* Blank screen (space, light grey on black) in planes 0/1, font in
     * plane 2 (map 0, 32 bytes per glyph). */
    memset(s->vram, 0, 0x40000);
    for (uint32_t k = 0; k < 80 * 25 * 2; k++) {
        s->vram[k * 4] = ' ';
        s->vram[k * 4 + 1] = 0x07;
    }
    if (font16)
        for (uint32_t ch = 0; ch < 256; ch++)
            for (uint32_t y = 0; y < 16; y++)
                s->vram[(ch * 32 + y) * 4 + 2] = font16[ch * 16 + y];
    memset(s->dirty, 1, s->dirty_pages);
    vga_invalidate(s);
}

long vga_find_rom_font(const uint8_t *rom, size_t len, int h)
{
    /* Recognise the font by glyphs every PC font agrees on: NUL and space
     * are empty, 0xDB is the full block. */
    if (h < 8 || h > 16 || len < 256u * h)
        return -1;
    for (size_t o = 0; o + 256u * h <= len; o++) {
        const uint8_t *f = rom + o;
        bool ok = true;
        for (int y = 0; y < h && ok; y++)
            ok = f[y] == 0 && f[0x20 * h + y] == 0 && f[0xdb * h + y] == 0xff;
        if (ok)
            return (long)o;
    }
    return -1;
}
