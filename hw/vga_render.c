/* Drawing the VGA/VBE display into the console surface.
 *
 * Each refresh works out the mode's geometry from the CRTC, sequencer,
 * graphics and attribute registers (or the VBE registers), resizes the
 * surface when it changed, and redraws only what changed: text cells whose
 * character, attribute, cursor or blink state differ from what was drawn,
 * and graphics scanlines that touch a VRAM page written since last time. */
#include <stdlib.h>
#include <string.h>
#include "hw/vga_int.h"
#include "system/event.h"
#include "ui/console.h"

#define LEGACY_VRAM_MASK 0x3ffffu      /* 64 Ki plane addresses x 4 planes */
#define FRAME_NS (NS_PER_SEC / 60)

/* 16-colour index -> XRGB through the attribute palette and the DAC. */
static void build_pal16(const VGAState *s, uint32_t out[16])
{
    const VGARegs *r = s->r;
    for (int c = 0; c < 16; c++) {
        uint8_t v = r->ar[c & r->ar[0x12] & 0x0f];
        if (r->ar[0x10] & 0x80)          /* P5/P4 from the colour select */
            v = (uint8_t)((v & 0x0f) | ((r->ar[0x14] & 3) << 4));
        v = (uint8_t)((v & 0x3f) | ((r->ar[0x14] & 0x0c) << 4));
        out[c] = s->pal_rgb[v & r->pel_mask];
    }
}

static int crtc_vde(const VGARegs *r)
{
    return (r->cr[0x12] | (r->cr[7] & 0x02) << 7 | (r->cr[7] & 0x40) << 3) + 1;
}

static void compute_geom(const VGAState *s, VGAGeom *g)
{
    const VGARegs *r = s->r;
    memset(g, 0, sizeof(*g));
    if (r->vbe_regs[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_ENABLED) {
        g->width = g->src_w = r->vbe_regs[VBE_DISPI_INDEX_XRES];
        g->height = g->src_h = r->vbe_regs[VBE_DISPI_INDEX_YRES];
        g->xdup = g->yrep = 1;
        g->lc = INT32_MAX;
        g->bpp = r->vbe_regs[VBE_DISPI_INDEX_BPP];
        g->start = r->vbe_start;
        g->line = r->vbe_line;
        g->kind = g->bpp == 4 ? VGA_KIND_PLANAR : VGA_KIND_VBE;
        return;
    }
    /* Palette address source clear or screen off: the display is blank
     * (the BIOS does this while it reprograms a mode). */
    if (!(r->ar_index & 0x20) || (r->sr[1] & 0x20)) {
        g->kind = VGA_KIND_BLANK;
        return;
    }
    int hde = r->cr[1] + 1, vde = crtc_vde(r);
    int dot2 = (r->sr[1] & 0x08) ? 2 : 1;    /* dot clock halved */
    g->start = (uint32_t)(r->cr[0x0c] << 8 | r->cr[0x0d]);
    /* CRTC offset counts words of the (compressed) address: two plane
     * addresses per unit, four VRAM bytes per plane address. */
    g->line = (uint32_t)r->cr[0x13] * 2;
    if (!(r->gr[6] & 1)) {
        g->kind = VGA_KIND_TEXT;
        g->cw = (r->sr[1] & 1) ? 8 : 9;
        g->ch = (r->cr[9] & 0x1f) + 1;
        g->cols = hde;
        g->rows = vde / g->ch;
        g->xdup = dot2;
        g->width = g->cols * g->cw * dot2;
        g->height = g->rows * g->ch;
        return;
    }
    int msl = (r->cr[9] & 0x1f) + 1, ds = (r->cr[9] & 0x80) ? 2 : 1;
    g->height = vde;
    g->width = hde * 8 * dot2;
    g->yrep = msl * ds;
    g->lc = r->cr[0x18] | (r->cr[7] & 0x10) << 4 | (r->cr[9] & 0x40) << 3;
    if (!(r->cr[0x17] & 1) && msl > 1) {
        /* CGA compatibility (CR17 bit 0 clear): the row scan counter's bit
         * 0 replaces address bit 13, so odd scanlines of a character row
         * come from the bank 8 KiB up (in CPU bytes; half that in plane
         * addresses when the CPU writes odd/even). */
        g->yrep = ds;
        g->cga_rows = msl;
        g->cga_bank = (r->cr[0x17] & 0x40) ? 0x2000 * 4 : 0x1000 * 4;
    }
    g->src_h = vde / g->yrep;
    if (r->gr[5] & 0x40) {
        g->kind = VGA_KIND_256;       /* two dots per 8-bit pixel */
        g->src_w = hde * 4;
        g->xdup = 2 * dot2;
    } else {
        /* 4-colour packed pixels (CGA modes 4/5) or planar 16 colours */
        g->kind = (r->gr[5] & 0x20) ? VGA_KIND_CGA2 : VGA_KIND_PLANAR;
        g->src_w = hde * 8;
        g->xdup = dot2;
    }
    g->line *= 4;                      /* graphics: VRAM bytes per line */
    g->start *= 4;
}

static bool geom_valid(const VGAGeom *g)
{
    return g->width > 0 && g->height > 0 && g->width <= CONSOLE_MAX_W &&
           g->height <= CONSOLE_MAX_H;
}

static bool line_dirty(const VGAState *s, uint32_t off, uint32_t len)
{
    if (!len)
        return false;
    uint32_t first = off >> VGA_PAGE_SHIFT;
    uint32_t last = (off + len - 1) >> VGA_PAGE_SHIFT;
    for (uint32_t p = first; p <= last && p < s->dirty_pages; p++)
        if (s->dirty[p])
            return true;
    return false;
}

/* ---------------- text ---------------- */

static uint32_t font_base(uint8_t sr3, bool map_a)
{
    int n = map_a ? ((sr3 >> 5) & 1) << 2 | ((sr3 >> 2) & 3)
                  : ((sr3 >> 4) & 1) << 2 | (sr3 & 3);
    /* Maps sit in 16 KiB steps of plane 2, the upper four at +8 KiB. */
    return (uint32_t)((n & 3) * 2 + (n >> 2)) * 0x2000;
}

static void draw_text(VGAState *s, DisplaySurface *surf, bool full)
{
    VGARegs *r = s->r;
    VGAGeom *g = &s->geom;
    int cells = g->cols * g->rows;
    if (s->text_cells != cells || !s->text_shadow) {
        free(s->text_shadow);
        s->text_shadow = calloc((size_t)cells, sizeof(uint32_t));
        s->text_cells = s->text_shadow ? cells : 0;
        full = true;
    }
    if (!s->text_shadow)
        return;
    if (s->font_dirty)
        full = true;
    s->font_dirty = false;

    uint32_t pal[16];
    build_pal16(s, pal);
    uint64_t frame = (uint64_t)clock_ns() / FRAME_NS;
    bool cursor_phase = (frame / 16) & 1;     /* ~1.9 Hz */
    bool blink_phase = (frame / 32) & 1;      /* ~0.9 Hz */
    bool blink_enabled = r->ar[0x10] & 0x08;
    bool line_gfx = r->ar[0x10] & 0x04;
    bool mono_ul = r->ar[0x10] & 0x02;
    int ul_line = r->cr[0x14] & 0x1f;

    int cur_cell = -1;
    int cs = r->cr[0x0a] & 0x1f, ce = r->cr[0x0b] & 0x1f;
    if (!(r->cr[0x0a] & 0x20) && cs <= ce && g->line) {
        uint32_t pos = (uint32_t)(r->cr[0x0e] << 8 | r->cr[0x0f]);
        uint32_t rel = (pos - g->start) & 0xffff;
        uint32_t row = rel / g->line, col = rel % g->line;
        if (row < (uint32_t)g->rows && col < (uint32_t)g->cols)
            cur_cell = (int)(row * g->cols + col);
    }
    uint32_t *shadow = s->text_shadow;
    for (int row = 0; row < g->rows; row++) {
        for (int col = 0; col < g->cols; col++) {
            int k = row * g->cols + col;
            uint32_t a = ((g->start + (uint32_t)row * g->line + col) & 0xffff) * 4;
            uint8_t chr = s->vram[a], attr = s->vram[a + 1];
            bool blinking = blink_enabled && (attr & 0x80);
            bool cur = k == cur_cell && cursor_phase;
            uint32_t key = chr | attr << 8 | (uint32_t)cur << 16 |
                           (uint32_t)(blinking && blink_phase) << 17 | 1u << 18;
            if (!full && shadow[k] == key)
                continue;
            shadow[k] = key;

            uint32_t fg = pal[attr & 0x0f];
            uint32_t bg = pal[(attr >> 4) & (blink_enabled ? 7 : 15)];
            if (blinking && !blink_phase)
                fg = bg;
            uint32_t glyph = font_base(r->sr[3], attr & 0x08) + chr * 32u;
            bool ninth_copies = line_gfx && chr >= 0xc0 && chr <= 0xdf;
            bool underline = mono_ul && (attr & 0x77) == 0x01;
            int x0 = col * g->cw * g->xdup, y0 = row * g->ch;
            for (int y = 0; y < g->ch; y++) {
                uint8_t bits = s->vram[((glyph + y) & 0xffff) * 4 + 2];
                if ((cur && y >= cs && y <= ce) || (underline && y == ul_line))
                    bits = 0xff;
                uint32_t *px = (uint32_t *)((uint8_t *)surf->pixels +
                                            (size_t)(y0 + y) * surf->pitch) + x0;
                uint32_t dots[9];
                for (int x = 0; x < 8; x++)
                    dots[x] = (bits & (0x80 >> x)) ? fg : bg;
                dots[8] = (ninth_copies && (bits & 1)) ? fg : bg;
                for (int x = 0; x < g->cw * g->xdup; x++)
                    px[x] = dots[x / g->xdup];
            }
            console_dirty(x0, y0, g->cw * g->xdup, g->ch);
        }
    }
}

/* ---------------- graphics ---------------- */

static inline uint32_t expand5(uint32_t v) { return (v << 3) | (v >> 2); }
static inline uint32_t expand6(uint32_t v) { return (v << 2) | (v >> 4); }

static void draw_line_vbe(const VGAState *s, uint32_t *px, uint32_t off,
                          int width, int bpp)
{
    const uint8_t *p = s->vram + off;
    switch (bpp) {
    case 8:
        for (int x = 0; x < width; x++)
            px[x] = s->pal_rgb[p[x]];
        break;
    case 15:
        for (int x = 0; x < width; x++) {
            uint32_t v = p[2 * x] | p[2 * x + 1] << 8;
            px[x] = expand5((v >> 10) & 31) << 16 | expand5((v >> 5) & 31) << 8 |
                    expand5(v & 31);
        }
        break;
    case 16:
        for (int x = 0; x < width; x++) {
            uint32_t v = p[2 * x] | p[2 * x + 1] << 8;
            px[x] = expand5((v >> 11) & 31) << 16 | expand6((v >> 5) & 63) << 8 |
                    expand5(v & 31);
        }
        break;
    case 24:
        for (int x = 0; x < width; x++)
            px[x] = (uint32_t)p[3 * x + 2] << 16 | p[3 * x + 1] << 8 | p[3 * x];
        break;
    default:
        for (int x = 0; x < width; x++) {
            uint32_t v;
            memcpy(&v, p + 4 * x, 4);
            px[x] = v & 0xffffff;
        }
        break;
    }
}

/* One memory line at VRAM offset off, widened by xdup, into out. */
static void draw_source_line(VGAState *s, const VGAGeom *g, uint32_t *out,
                             uint64_t off, bool in_range,
                             const uint32_t pal16[16])
{
    int w = g->src_w;
    uint32_t *px = g->xdup == 1 ? out : s->linebuf;
    if (!in_range) {
        memset(px, 0, (size_t)w * 4);
    } else if (g->kind == VGA_KIND_VBE) {
        draw_line_vbe(s, px, (uint32_t)off, w, g->bpp);
    } else if (g->kind == VGA_KIND_256) {
        for (int x = 0; x < w; x++)
            px[x] = s->pal_rgb[s->vram[off + x] & s->r->pel_mask];
    } else if (g->kind == VGA_KIND_CGA2) {
        /* Odd/even layout: CPU byte b lives at 4 * (b / 2) + b % 2. */
        uint64_t b0 = off / 2;
        for (int x = 0; x < w; x++) {
            uint64_t b = b0 + (uint64_t)(x >> 2);
            uint8_t v = s->vram[(((b >> 1) << 2) | (b & 1)) & LEGACY_VRAM_MASK];
            px[x] = pal16[(v >> (6 - 2 * (x & 3))) & 3];
        }
    } else {
        for (int x = 0; x < w; x++) {
            const uint8_t *p = &s->vram[off + (uint32_t)(x >> 3) * 4];
            int b = 7 - (x & 7);
            int c = ((p[0] >> b) & 1) | ((p[1] >> b) & 1) << 1 |
                    ((p[2] >> b) & 1) << 2 | ((p[3] >> b) & 1) << 3;
            px[x] = pal16[c];
        }
    }
    if (g->xdup > 1)
        for (int x = 0; x < g->width; x++)
            out[x] = px[x / g->xdup];
}

static void draw_graphics(VGAState *s, DisplaySurface *surf, bool full)
{
    const VGAGeom *g = &s->geom;
    uint32_t pal16[16];
    build_pal16(s, pal16);
    bool legacy = g->kind != VGA_KIND_VBE &&
                  !(s->r->vbe_regs[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_ENABLED);
    int w = g->src_w;
    uint32_t bytes = g->kind == VGA_KIND_VBE ? (uint32_t)w * ((g->bpp + 7) / 8)
                   : g->kind == VGA_KIND_256 ? (uint32_t)w
                   : g->kind == VGA_KIND_CGA2 ? (uint32_t)(w + 3) / 4 * 2
                   : (uint32_t)(w + 7) / 8 * 4;
    int y0 = -1;                      /* first line of a pending dirty run */
    int64_t prev_l = -1;
    bool prev_drawn = false;
    for (int y = 0; y < g->height; y++) {
        /* Below the line compare scanline the display restarts at address
         * 0; the scanline repeat count runs on across the split. */
        bool bottom = y > g->lc;
        int k = bottom ? y - (g->lc + 1) + (g->lc + 1) % g->yrep : y;
        int l = k / g->yrep;
        uint32_t base = bottom ? 0 : g->start;
        uint64_t off = g->cga_rows
            ? base + (uint64_t)(l / g->cga_rows) * g->line +
              ((l % g->cga_rows) & 1) * g->cga_bank
            : base + (uint64_t)l * g->line;
        if (legacy)
            off &= LEGACY_VRAM_MASK;
        uint32_t *out = (uint32_t *)((uint8_t *)surf->pixels +
                                     (size_t)y * surf->pitch);
        int64_t key = (int64_t)l | (int64_t)bottom << 40;
        bool drawn;
        if (key == prev_l) {
            /* Another scanline of the same memory line. */
            drawn = prev_drawn;
            if (drawn)
                memcpy(out, (uint8_t *)out - surf->pitch, (size_t)g->width * 4);
        } else {
            bool in_range = off + bytes <= s->vram_size;
            drawn = full || (in_range && line_dirty(s, (uint32_t)off, bytes));
            if (drawn)
                draw_source_line(s, g, out, off, in_range, pal16);
        }
        prev_l = key;
        prev_drawn = drawn;
        if (drawn && y0 < 0)
            y0 = y;
        if (!drawn && y0 >= 0) {
            console_dirty(0, y0, g->width, y - y0);
            y0 = -1;
        }
    }
    if (y0 >= 0)
        console_dirty(0, y0, g->width, g->height - y0);
}

void vga_update_display(VGAState *s, bool full)
{
    VGAGeom g;
    compute_geom(s, &g);
    if (g.kind == VGA_KIND_BLANK || !geom_valid(&g)) {
        /* Keep the last size (or a VGA-ish default) and show black. */
        bool was_blank = s->geom.kind == VGA_KIND_BLANK;
        int w = s->geom.width > 0 ? s->geom.width : 640;
        int h = s->geom.height > 0 ? s->geom.height : 400;
        memset(&s->geom, 0, sizeof(s->geom));
        s->geom.kind = VGA_KIND_BLANK;
        s->geom.width = w;
        s->geom.height = h;
        DisplaySurface *surf = console_surface();
        if (!surf || surf->width != w || surf->height != h)
            console_resize(w, h);
        else if (!was_blank || full) {
            for (int y = 0; y < surf->height; y++)
                memset((uint8_t *)surf->pixels + (size_t)y * surf->pitch, 0,
                       (size_t)surf->width * 4);
            console_dirty(0, 0, w, h);
        }
        memset(s->dirty, 0, s->dirty_pages);
        s->full_redraw = false;
        return;
    }
    DisplaySurface *surf = console_surface();
    if (memcmp(&g, &s->geom, sizeof(g)) != 0 || !surf ||
        surf->width != g.width || surf->height != g.height) {
        s->geom = g;
        if (!surf || surf->width != g.width || surf->height != g.height)
            surf = console_resize(g.width, g.height);
        full = true;
    }
    if (!surf)
        return;
    if (s->full_redraw)
        full = true;
    s->full_redraw = false;
    if (g.kind == VGA_KIND_TEXT)
        draw_text(s, surf, full);
    else
        draw_graphics(s, surf, full);
    memset(s->dirty, 0, s->dirty_pages);
    s->frame++;
}
