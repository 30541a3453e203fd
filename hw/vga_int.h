/* Private to hw/vga*.c: the device state shared by the register/memory
 * side (vga.c) and the renderer (vga_render.c). */
#ifndef HW_VGA_INT_H
#define HW_VGA_INT_H
#include "hw/vga.h"
#include "hw/pci.h"
#include "ui/console.h"

/* VRAM layout: byte 4*a + p is plane p at plane address a. Odd/even (text)
 * and chain-4 (mode 13h) CPU accesses are compressed into this layout (CPU
 * address >> 1 and >> 2 give the plane address), which undoes the CRTC's
 * word and dword address shifts, so the renderer can ignore those. VBE
 * modes use the same bytes as a plain linear framebuffer. */

/* Registers: plain data, saved and loaded as bytes. */
typedef struct VGARegs {
    uint8_t misc;                 /* miscellaneous output (0x3c2 / 0x3cc) */
    uint8_t fcr;                  /* feature control */
    uint8_t st01;                 /* input status 1 (retrace bits) */
    uint8_t sr_index, sr[8];      /* sequencer */
    uint8_t gr_index, gr[16];     /* graphics controller */
    uint8_t cr_index, cr[32];     /* CRT controller */
    uint8_t ar_index, ar[32];     /* attribute controller */
    uint8_t ar_flip;              /* 0: next 0x3c0 write is the index */
    uint8_t pel_mask;             /* 0x3c6 */
    uint8_t dac_read_index, dac_write_index, dac_sub, dac_state;
    uint8_t dac_cache[3];
    uint8_t palette[768];         /* 6-bit (or 8-bit with VBE 8BIT_DAC) */
    uint32_t latch;               /* the four plane latches */
    uint16_t vbe_index;
    uint16_t vbe_regs[VBE_DISPI_INDEX_NB];
    uint32_t vbe_start;           /* byte offset of the visible origin */
    uint32_t vbe_line;            /* bytes per scanline */
    uint32_t bank_offset;         /* banked window offset in VRAM bytes */
} VGARegs;

/* What the renderer last drew, to detect mode changes. */
typedef struct VGAGeom {
    int kind;                     /* VGA_KIND_* */
    int width, height;
    int bpp;
    uint32_t start, line;
    int cols, rows, cw, ch;       /* text: cells and cell size in dots */
    /* The surface is the video signal (as a monitor sees it): each source
     * pixel is xdup dots wide and each memory line yrep scanlines high. */
    int src_w, src_h, xdup, yrep;
    int lc;                       /* line compare: scanlines below it
                                     restart at address 0 (split screen) */
    int cga_rows;                 /* CGA addressing: scanlines per row */
    uint32_t cga_bank;            /* ... and the VRAM offset of bank 1 */
} VGAGeom;

enum { VGA_KIND_NONE, VGA_KIND_TEXT, VGA_KIND_PLANAR, VGA_KIND_256,
       VGA_KIND_CGA2, VGA_KIND_VBE, VGA_KIND_BLANK };

#define VGA_PAGE_SHIFT 12

struct VGAState {
    VGARegs *r;                   /* followed by the VRAM in one block */
    Device dev;
    Bus *bus;
    PCIDevice *pci;
    uint8_t *vram;
    uint32_t vram_size;
    uint8_t *dirty;               /* one byte per 4 KiB VRAM page */
    uint32_t dirty_pages;
    uint8_t *rom;
    size_t rom_size;
    int legacy_handle, lfb_handle;
    uint64_t lfb_base;
    bool console;

    /* renderer state (derived, rebuilt on a full redraw) */
    VGAGeom geom;
    bool full_redraw;             /* palette, font or register change */
    bool font_dirty;
    uint32_t pal_rgb[256];        /* DAC entries as XRGB */
    uint32_t *text_shadow;        /* last drawn cell state per cell */
    uint32_t linebuf[CONSOLE_MAX_W]; /* one source line before doubling */
    int text_cells;
    int last_cursor, last_blink;  /* cursor cell, blink phase drawn */
    uint64_t frame;
};

static inline void vga_mark_dirty(VGAState *s, uint32_t off, uint32_t len)
{
    if (!len || off >= s->vram_size)
        return;
    uint32_t last = off + len - 1;
    if (last >= s->vram_size)
        last = s->vram_size - 1;
    for (uint32_t p = off >> VGA_PAGE_SHIFT; p <= last >> VGA_PAGE_SHIFT; p++)
        s->dirty[p] = 1;
}

void vga_invalidate(VGAState *s);
void vga_palette_changed(VGAState *s);
#endif
