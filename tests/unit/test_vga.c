/* hw/vga.c and hw/vga_render.c: register behaviour, the memory pipeline,
 * VBE, and drawing into the console surface. Mode register values are the
 * standard BIOS mode tables from the IBM VGA technical reference. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <string.h>
#include <cmocka.h>
#include "hw/vga.h"
#include "ui/console.h"

static VGAState *s;

static void outb(uint16_t port, uint8_t v) { vga_ioport_write(s, port, v, 1); }
static void outw(uint16_t port, uint16_t v) { vga_ioport_write(s, port, v, 2); }
static uint8_t inb(uint16_t port) { return (uint8_t)vga_ioport_read(s, port, 1); }
static void memb(uint32_t pa, uint8_t v) { vga_legacy_write(s, pa - 0xA0000, v, 1); }
static uint8_t rdb(uint32_t pa) { return (uint8_t)vga_legacy_read(s, pa - 0xA0000, 1); }

static void vbe_write(int idx, uint16_t v) { outw(0x1ce, (uint16_t)idx); outw(0x1cf, v); }
static uint16_t vbe_read(int idx)
{
    outw(0x1ce, (uint16_t)idx);
    return (uint16_t)vga_ioport_read(s, 0x1cf, 2);
}

typedef struct ModeRegs {
    uint8_t misc, sr[5], cr[25], gr[9], ar[21];
} ModeRegs;

static const ModeRegs mode03 = {
    0x67, { 0x03, 0x00, 0x03, 0x00, 0x02 },
    { 0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f, 0x00, 0x4f, 0x0d, 0x0e,
      0x00, 0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x28, 0x1f, 0x96, 0xb9, 0xa3,
      0xff },
    { 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0e, 0x00, 0xff },
    { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3a, 0x3b,
      0x3c, 0x3d, 0x3e, 0x3f, 0x0c, 0x00, 0x0f, 0x08, 0x00 },
};
static const ModeRegs mode12 = {
    0xe3, { 0x03, 0x01, 0x0f, 0x00, 0x06 },
    { 0x5f, 0x4f, 0x50, 0x82, 0x54, 0x80, 0x0b, 0x3e, 0x00, 0x40, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0xea, 0x8c, 0xdf, 0x28, 0x00, 0xe7, 0x04, 0xe3,
      0xff },
    { 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x0f, 0xff },
    { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3a, 0x3b,
      0x3c, 0x3d, 0x3e, 0x3f, 0x01, 0x00, 0x0f, 0x00, 0x00 },
};
static const ModeRegs mode13 = {
    0x63, { 0x03, 0x01, 0x0f, 0x00, 0x0e },
    { 0x5f, 0x4f, 0x50, 0x82, 0x54, 0x80, 0xbf, 0x1f, 0x00, 0x41, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x28, 0x40, 0x96, 0xb9, 0xa3,
      0xff },
    { 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x05, 0x0f, 0xff },
    { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
      0x0c, 0x0d, 0x0e, 0x0f, 0x41, 0x00, 0x0f, 0x00, 0x00 },
};

static const ModeRegs mode04 = {
    0x63, { 0x03, 0x09, 0x03, 0x00, 0x02 },
    { 0x2d, 0x27, 0x28, 0x90, 0x2b, 0x80, 0xbf, 0x1f, 0x00, 0xc1, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x14, 0x00, 0x96, 0xb9, 0xa2,
      0xff },
    { 0x00, 0x00, 0x00, 0x00, 0x00, 0x30, 0x0f, 0x00, 0xff },
    { 0x00, 0x13, 0x15, 0x17, 0x02, 0x04, 0x06, 0x07, 0x10, 0x11, 0x12, 0x13,
      0x14, 0x15, 0x16, 0x17, 0x01, 0x00, 0x03, 0x00, 0x00 },
};
static const ModeRegs mode06 = {
    0x63, { 0x03, 0x01, 0x01, 0x00, 0x06 },
    { 0x5f, 0x4f, 0x50, 0x82, 0x54, 0x80, 0xbf, 0x1f, 0x00, 0xc1, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x28, 0x00, 0x96, 0xb9, 0xc2,
      0xff },
    { 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0d, 0x00, 0xff },
    { 0x00, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17,
      0x17, 0x17, 0x17, 0x17, 0x01, 0x00, 0x01, 0x00, 0x00 },
};

/* What a BIOS mode set does: program every register, then enable the
 * display by setting the palette address source bit. */
static void set_mode(const ModeRegs *m)
{
    outb(0x3c2, m->misc);
    for (int i = 0; i < 5; i++)
        outw(0x3c4, (uint16_t)(m->sr[i] << 8 | i));
    outw(0x3d4, 0x0011);                       /* unlock CR0-7 */
    for (int i = 0; i < 25; i++)
        outw(0x3d4, (uint16_t)(m->cr[i] << 8 | i));
    for (int i = 0; i < 9; i++)
        outw(0x3ce, (uint16_t)(m->gr[i] << 8 | i));
    inb(0x3da);
    for (int i = 0; i < 21; i++) {
        outb(0x3c0, (uint8_t)i);
        outb(0x3c0, m->ar[i]);
    }
    outb(0x3c0, 0x20);
}

static void set_dac(uint8_t idx, uint8_t r, uint8_t g, uint8_t b)
{
    outb(0x3c8, idx);
    outb(0x3c9, r);
    outb(0x3c9, g);
    outb(0x3c9, b);
}

static uint32_t pixel(int x, int y)
{
    DisplaySurface *d = console_surface();
    assert_non_null(d);
    assert_true(x < d->width && y < d->height);
    return d->pixels[y * (d->pitch / 4) + x];
}

/* A front end that records the dirty rectangles it is given. */
static int upd_calls, upd_x, upd_y, upd_w, upd_h;
static void fe_update(void *o, const DisplaySurface *d, int x, int y, int w, int h)
{
    upd_calls++;
    upd_x = x; upd_y = y; upd_w = w; upd_h = h;
}
static const ConsoleFrontendOps fake_fe = { .name = "test", .update = fe_update };

static int setup(void **state)
{
    char err[128];
    VGAConfig cfg = { .console = true, .devfn = -1 };
    s = vga_create(NULL, &cfg, err, sizeof(err));
    assert_non_null(s);
    return 0;
}

static int teardown(void **state)
{
    console_register_frontend(NULL, NULL);
    vga_destroy(s);
    console_shutdown();
    s = NULL;
    return 0;
}

static void test_index_data_registers(void **state)
{
    outb(0x3c4, 0x02);
    outb(0x3c5, 0x0a);
    assert_int_equal(inb(0x3c4), 0x02);
    assert_int_equal(inb(0x3c5), 0x0a);
    outw(0x3c4, 0xff01);                  /* word write: index then data */
    assert_int_equal(inb(0x3c5), 0x3d);   /* reserved bits of SR1 read 0 */
    outw(0x3ce, 0x5a08);
    assert_int_equal(inb(0x3ce), 0x08);
    assert_int_equal(inb(0x3cf), 0x5a);
    outw(0x3ce, 0xff05);
    assert_int_equal(inb(0x3cf), 0x7b);

    /* Colour emulation: CRTC at 0x3d4; 0x3b4 is dead. */
    outb(0x3c2, 0x67);
    assert_int_equal(inb(0x3cc), 0x67);
    outw(0x3d4, 0x3c0e);
    assert_int_equal(inb(0x3d5), 0x3c);
    assert_int_equal(inb(0x3b5), 0xff);
    /* Mono: the same register at 0x3b4. */
    outb(0x3c2, 0x66);
    assert_int_equal(inb(0x3b5), 0x3c);
    assert_int_equal(inb(0x3d5), 0xff);
    outb(0x3c2, 0x67);

    /* CR11 bit 7 protects CR0-7 except CR7 bit 4. */
    outw(0x3d4, 0x0011);
    outw(0x3d4, 0x5f00);
    outw(0x3d4, 0x0007);
    outw(0x3d4, 0x8011);
    outw(0x3d4, 0x1200);
    outw(0x3d4, 0xff07);
    outb(0x3d4, 0x00);
    assert_int_equal(inb(0x3d5), 0x5f);
    outb(0x3d4, 0x07);
    assert_int_equal(inb(0x3d5), 0x10);
}

static void test_attribute_flipflop(void **state)
{
    inb(0x3da);                            /* reset to index state */
    outb(0x3c0, 0x05);
    outb(0x3c0, 0x2a);
    outb(0x3c0, 0x25);                     /* index 5 with PAS */
    assert_int_equal(inb(0x3c0), 0x25);
    assert_int_equal(inb(0x3c1), 0x2a);
    /* A status read resets the flip-flop mid-pair. */
    outb(0x3c0, 0x06);
    inb(0x3da);
    outb(0x3c0, 0x07);
    outb(0x3c0, 0x11);
    outb(0x3c0, 0x07);
    assert_int_equal(inb(0x3c1), 0x11);
}

static void test_dac(void **state)
{
    outb(0x3c8, 5);
    outb(0x3c9, 0x3f);
    outb(0x3c9, 0xe0);                     /* only 6 bits are kept */
    outb(0x3c9, 0x01);
    outb(0x3c9, 0x10);                     /* entry 6 begins */
    outb(0x3c9, 0x11);
    outb(0x3c9, 0x12);
    assert_int_equal(inb(0x3c8), 7);
    outb(0x3c7, 5);
    assert_int_equal(inb(0x3c7), 3);       /* DAC state: read mode */
    assert_int_equal(inb(0x3c9), 0x3f);
    assert_int_equal(inb(0x3c9), 0x20);
    assert_int_equal(inb(0x3c9), 0x01);
    assert_int_equal(inb(0x3c9), 0x10);
    assert_int_equal(inb(0x3c9), 0x11);
    assert_int_equal(inb(0x3c9), 0x12);
    outb(0x3c8, 0);
    assert_int_equal(inb(0x3c7), 0);
}

static void test_planar_pipeline(void **state)
{
    set_mode(&mode12);
    /* Write mode 2, bit mask 0x80: pixel 0 becomes colour 12. */
    outw(0x3ce, 0x0205);
    outw(0x3ce, 0x8008);
    rdb(0xA0000);                          /* load latches */
    memb(0xA0000, 0x0c);
    /* Read mode 1: which pixels have colour 12? */
    outw(0x3ce, 0x0805);
    outw(0x3ce, 0x0c02);
    outw(0x3ce, 0x0f07);
    assert_int_equal(rdb(0xA0000), 0x80);
    /* Colour don't care on every plane: all pixels match. */
    outw(0x3ce, 0x0007);
    assert_int_equal(rdb(0xA0000), 0xff);
    /* Read mode 0 with read map 2 and 3. */
    outw(0x3ce, 0x0005);
    outw(0x3ce, 0x0204);
    assert_int_equal(rdb(0xA0000), 0x80);
    outw(0x3ce, 0x0104);
    assert_int_equal(rdb(0xA0000), 0x00);

    /* Write mode 0 with set/reset on all planes: colour 5. */
    outw(0x3ce, 0xff08);
    outw(0x3ce, 0x0f01);
    outw(0x3ce, 0x0500);
    memb(0xA0001, 0x00);
    outw(0x3ce, 0x0001);
    for (int p = 0; p < 4; p++) {
        outw(0x3ce, (uint16_t)(p << 8 | 4));
        assert_int_equal(rdb(0xA0001), (5 >> p) & 1 ? 0xff : 0x00);
    }
    /* Write mode 1 copies the latches. */
    rdb(0xA0001);
    outw(0x3ce, 0x0105);
    memb(0xA0002, 0x00);
    outw(0x3ce, 0x0005);
    outw(0x3ce, 0x0204);
    assert_int_equal(rdb(0xA0002), 0xff);
    /* Map mask keeps plane 0 from being written. */
    outw(0x3c4, 0x0e02);
    outw(0x3ce, 0x0f01);
    outw(0x3ce, 0x0f00);
    memb(0xA0003, 0);
    outw(0x3ce, 0x0001);
    outw(0x3c4, 0x0f02);
    outw(0x3ce, 0x0004);
    assert_int_equal(rdb(0xA0003), 0x00);
    outw(0x3ce, 0x0304);
    assert_int_equal(rdb(0xA0003), 0xff);
    /* Logical function XOR with the latches, rotate by 1. */
    rdb(0xA0003);
    outw(0x3ce, 0x1903);                   /* XOR, rotate 1 */
    memb(0xA0003, 0x02);                   /* rotated: 0x01 */
    outw(0x3ce, 0x0003);
    assert_int_equal(rdb(0xA0003), 0xfe);  /* plane 3: 0xff ^ 0x01 */

    /* Draw: pixel 0 of line 0 is colour 12 through the attribute palette. */
    set_dac(0x3c, 0x3f, 0x00, 0x00);       /* AR12 = 0x3c */
    vga_update_display(s, true);
    DisplaySurface *d = console_surface();
    assert_int_equal(d->width, 640);
    assert_int_equal(d->height, 480);
    assert_int_equal(pixel(0, 0), 0xff0000);
}

/* Line compare: scanlines below it restart at VRAM address 0. */
static void test_split_screen(void **state)
{
    set_mode(&mode12);
    set_dac(0x3c, 0x3f, 0x00, 0x00);       /* colour 12 (AR12 = 0x3c) */
    /* Line 0 of memory: first pixel colour 12 (write mode 2). */
    outw(0x3ce, 0x0205);
    outw(0x3ce, 0x8008);
    rdb(0xA0000);
    memb(0xA0000, 0x0c);
    outw(0x3ce, 0x0005);
    outw(0x3ce, 0xff08);
    /* Show from line 100 on top; split after scanline 99. */
    outw(0x3d4, (uint16_t)(((100 * 80) >> 8) << 8 | 0x0c));
    outw(0x3d4, (uint16_t)(((100 * 80) & 0xff) << 8 | 0x0d));
    outw(0x3d4, 0x6318);                    /* line compare low bits = 99 */
    outb(0x3d4, 0x07);
    outb(0x3d5, inb(0x3d5) & ~0x10);
    outb(0x3d4, 0x09);
    outb(0x3d5, inb(0x3d5) & ~0x40);
    vga_update_display(s, true);
    assert_int_equal(pixel(0, 0), 0);       /* memory line 100 */
    assert_int_equal(pixel(0, 100), 0xff0000);  /* memory line 0 */
    assert_int_equal(pixel(0, 101), 0);
    assert_int_equal(pixel(1, 100), 0);
}

static void test_memory_map_select(void **state)
{
    set_mode(&mode03);                     /* window at 0xB8000 */
    memb(0xA0000, 0x55);
    memb(0xB0000, 0x55);
    memb(0xB8000, 0x41);
    memb(0xB8001, 0x1e);
    assert_int_equal(rdb(0xA0000), 0xff);
    assert_int_equal(rdb(0xB8000), 0x41);
    assert_int_equal(rdb(0xB8001), 0x1e);
    /* Odd/even: character in plane 0, attribute in plane 1. */
    uint8_t *v = vga_vram(s);
    assert_int_equal(v[0], 0x41);
    assert_int_equal(v[1], 0x1e);
    assert_int_equal(v[2], 0x00);
}

static void load_glyph(uint8_t ch, const uint8_t rows[16])
{
    /* The BIOS font-load sequence: plane 2 only, sequential addressing,
     * window at 0xA0000. */
    outw(0x3c4, 0x0402);
    outw(0x3c4, 0x0704);
    outw(0x3ce, 0x0204);
    outw(0x3ce, 0x0005);
    outw(0x3ce, 0x0406);
    for (int y = 0; y < 16; y++)
        memb(0xA0000 + ch * 32u + (uint32_t)y, rows[y]);
}

static void test_text_render(void **state)
{
    static const uint8_t glyph[16] = { 0x00, 0x81, 0xc3, 0xff, 0x18, 0x3c,
                                       0x7e, 0xe7, 0x01, 0x80, 0x55, 0xaa,
                                       0x0f, 0xf0, 0xff, 0x00 };
    set_mode(&mode03);
    load_glyph(0x41, glyph);
    load_glyph(0xc4, glyph);
    set_mode(&mode03);
    outw(0x3d4, 0x200a);                   /* cursor off */
    set_dac(0x01, 0x00, 0x00, 0x2a);       /* blue */
    set_dac(0x3e, 0x3f, 0x3f, 0x15);       /* yellow (AR14 = 0x3e) */
    /* 'A' yellow on blue at column 3, row 2; a line-drawing char next. */
    uint32_t cell = (2 * 80 + 3) * 2;
    memb(0xB8000 + cell, 0x41);
    memb(0xB8001 + cell, 0x1e);
    memb(0xB8002 + cell, 0xc4);
    memb(0xB8003 + cell, 0x1e);
    vga_update_display(s, true);
    DisplaySurface *d = console_surface();
    assert_int_equal(d->width, 720);
    assert_int_equal(d->height, 400);
    const uint32_t yellow = 0xffff55, blue = 0x0000aa;
    for (int y = 0; y < 16; y++) {
        for (int x = 0; x < 8; x++) {
            uint32_t want = (glyph[y] & (0x80 >> x)) ? yellow : blue;
            assert_int_equal(pixel(27 + x, 32 + y), want);
            assert_int_equal(pixel(36 + x, 32 + y), want);
        }
        /* Ninth dot: background for letters, a copy of the eighth for
         * 0xC0-0xDF with line graphics enabled (AR10 bit 2). */
        assert_int_equal(pixel(27 + 8, 32 + y), blue);
        assert_int_equal(pixel(36 + 8, 32 + y), (glyph[y] & 1) ? yellow : blue);
    }
    /* Cell 0 is black (attribute 0, DAC 0). */
    assert_int_equal(pixel(0, 0), 0);

    /* 8-dot cells (SR1 bit 0) make the screen 640 wide. */
    outw(0x3c4, 0x0101);
    vga_update_display(s, false);
    assert_int_equal(console_surface()->width, 640);
    assert_int_equal(pixel(24, 32 + 1), yellow);   /* glyph row 1: 0x81 */
    assert_int_equal(pixel(25, 32 + 1), blue);

    /* 80x50: 8-line cells. */
    outw(0x3c4, 0x0001);
    outw(0x3d4, 0x4709);
    memb(0xB8000 + 49 * 160, 0x41);
    memb(0xB8001 + 49 * 160, 0x1e);
    vga_update_display(s, false);
    assert_int_equal(console_surface()->height, 400);
    assert_int_equal(pixel(0, 49 * 8 + 1), yellow);   /* glyph row 1: 0x81 */
    assert_int_equal(pixel(1, 49 * 8 + 1), blue);
}

static void test_cursor(void **state)
{
    set_mode(&mode03);
    set_dac(0x07, 0x2a, 0x2a, 0x2a);
    /* Blank cells of grey-on-black; cursor at cell 81, lines 14-15. */
    for (int i = 0; i < 200; i++) {
        memb(0xB8000 + i * 2u, 0x00);
        memb(0xB8001 + i * 2u, 0x07);
    }
    outw(0x3d4, 0x0e0a);
    outw(0x3d4, 0x0f0b);
    outw(0x3d4, 0x000e);
    outw(0x3d4, 0x510f);
    /* The cursor blinks; over a second of frames it must show at least
     * once on lines 14-15 and never elsewhere. */
    vga_update_display(s, true);
    bool seen = false;
    for (int i = 0; i < 64 && !seen; i++) {
        vga_update_display(s, true);
        seen = pixel(9 + 2, 16 + 14) == 0xaaaaaa;
        if (!seen) {
            struct timespec ts = { 0, 20 * 1000 * 1000 };
            nanosleep(&ts, NULL);
        }
    }
    assert_true(seen);
    assert_int_equal(pixel(9 + 2, 16 + 15), 0xaaaaaa);
    assert_int_equal(pixel(9 + 2, 16 + 13), 0);
}

static void test_mode13_and_dirty_lines(void **state)
{
    set_mode(&mode13);
    set_dac(0x42, 0x3f, 0x20, 0x00);
    memb(0xA0000 + 7 * 320 + 5, 0x42);
    vga_update_display(s, true);
    DisplaySurface *d = console_surface();
    /* The signal: 320x200 pixels doubled both ways (as QEMU shows it). */
    assert_int_equal(d->width, 640);
    assert_int_equal(d->height, 400);
    assert_int_equal(pixel(10, 14), 0xff8200);
    assert_int_equal(pixel(11, 15), 0xff8200);
    assert_int_equal(pixel(12, 14), 0);
    assert_int_equal(pixel(10, 16), 0);
    /* Chain-4 is linear in VRAM. */
    assert_int_equal(vga_vram(s)[7 * 320 + 5], 0x42);

    /* Only the written line is redrawn. */
    console_register_frontend(&fake_fe, NULL);
    console_refresh();
    upd_calls = 0;
    memb(0xA0000 + 150 * 320 + 10, 0x42);
    console_refresh();
    assert_int_equal(upd_calls, 1);
    /* One 4 KiB page spans at most 14 lines of 320 bytes (28 scanlines). */
    assert_true(upd_y <= 300 && upd_y + upd_h > 301);
    assert_true(upd_h <= 28);
    assert_int_equal(upd_x, 0);
    assert_int_equal(pixel(20, 300), 0xff8200);
    upd_calls = 0;
    console_refresh();
    assert_int_equal(upd_calls, 0);
    console_register_frontend(NULL, NULL);
}

/* CGA modes: odd scanlines come from the bank at +8 KiB. */
static void test_cga_modes(void **state)
{
    set_mode(&mode04);
    set_dac(0x15, 0x3f, 0x00, 0x3f);       /* colour 2 -> AR2 = 0x15 */
    memb(0xB8000 + 0x2000 + 80 + 1, 0x20); /* pixel (5, 3) = 2 */
    vga_update_display(s, true);
    assert_int_equal(console_surface()->width, 640);
    assert_int_equal(console_surface()->height, 400);
    assert_int_equal(pixel(10, 6), 0xff00ff);
    assert_int_equal(pixel(11, 7), 0xff00ff);
    assert_int_equal(pixel(10, 5), 0);
    assert_int_equal(pixel(9, 6), 0);
    assert_int_equal(rdb(0xB8000 + 0x2000 + 81), 0x20);

    set_mode(&mode06);
    set_dac(0x17, 0x3f, 0x3f, 0x3f);
    memb(0xB8000 + 0x2000 + 1, 0x40);      /* pixel (9, 1) */
    memb(0xB8000 + 80, 0x80);              /* pixel (0, 2) */
    vga_update_display(s, true);
    assert_int_equal(console_surface()->width, 640);
    assert_int_equal(console_surface()->height, 400);
    assert_int_equal(pixel(9, 2), 0xffffff);
    assert_int_equal(pixel(9, 3), 0xffffff);
    assert_int_equal(pixel(0, 4), 0xffffff);
    assert_int_equal(pixel(9, 1), 0);
    assert_int_equal(pixel(8, 2), 0);
}

static void test_vbe(void **state)
{
    vbe_write(VBE_DISPI_INDEX_ID, 0xB0C5);
    assert_int_equal(vbe_read(VBE_DISPI_INDEX_ID), 0xB0C5);
    assert_int_equal(vbe_read(VBE_DISPI_INDEX_VIDEO_MEMORY_64K), 256);
    vbe_write(VBE_DISPI_INDEX_ENABLE, VBE_DISPI_GETCAPS);
    assert_int_equal(vbe_read(VBE_DISPI_INDEX_XRES), VBE_DISPI_MAX_XRES);
    assert_int_equal(vbe_read(VBE_DISPI_INDEX_BPP), 32);
    vbe_write(VBE_DISPI_INDEX_ENABLE, 0);
    vbe_write(VBE_DISPI_INDEX_XRES, 1024);
    vbe_write(VBE_DISPI_INDEX_YRES, 768);
    vbe_write(VBE_DISPI_INDEX_BPP, 32);
    vbe_write(VBE_DISPI_INDEX_BPP, 12);    /* invalid: ignored */
    vbe_write(VBE_DISPI_INDEX_ENABLE, VBE_DISPI_ENABLED | VBE_DISPI_LFB_ENABLED);
    assert_int_equal(vbe_read(VBE_DISPI_INDEX_XRES), 1024);
    assert_int_equal(vbe_read(VBE_DISPI_INDEX_BPP), 32);
    assert_int_equal(vbe_read(VBE_DISPI_INDEX_VIRT_WIDTH), 1024);
    assert_int_equal(vbe_read(VBE_DISPI_INDEX_VIRT_HEIGHT), 16 * 1024 * 1024 / 4096);
    /* Resolution is fixed while enabled. */
    vbe_write(VBE_DISPI_INDEX_XRES, 800);
    assert_int_equal(vbe_read(VBE_DISPI_INDEX_XRES), 1024);

    vga_lfb_write(s, (5 * 1024 + 10) * 4, 0x00123456, 4);
    vga_update_display(s, true);
    assert_int_equal(console_surface()->width, 1024);
    assert_int_equal(console_surface()->height, 768);
    assert_int_equal(pixel(10, 5), 0x123456);
    /* Y offset pans the display by whole lines. */
    vbe_write(VBE_DISPI_INDEX_Y_OFFSET, 5);
    vga_update_display(s, false);
    assert_int_equal(pixel(10, 0), 0x123456);
    /* Out-of-range LFB accesses are dropped. */
    vga_lfb_write(s, 16u << 20, 1, 4);
    assert_true(vga_lfb_read(s, (16u << 20) - 2, 4) == ~0ull);

    /* Re-enable at 16 bpp banked: bank 1 of the 64 KiB window. */
    vbe_write(VBE_DISPI_INDEX_ENABLE, 0);
    vbe_write(VBE_DISPI_INDEX_XRES, 640);
    vbe_write(VBE_DISPI_INDEX_YRES, 480);
    vbe_write(VBE_DISPI_INDEX_BPP, 16);
    vbe_write(VBE_DISPI_INDEX_ENABLE, VBE_DISPI_ENABLED);
    assert_int_equal(vbe_read(VBE_DISPI_INDEX_Y_OFFSET), 0);
    vbe_write(VBE_DISPI_INDEX_BANK, 1);
    memb(0xA0000 + 0x10, 0x00);
    memb(0xA0000 + 0x11, 0xf8);           /* 0xF800: pure red in 5:6:5 */
    assert_int_equal(vga_vram(s)[0x10011], 0xf8);
    vga_update_display(s, false);
    int px = (0x10010 / 2) % 640, py = (0x10010 / 2) / 640;
    assert_int_equal(pixel(px, py), 0xff0000);
    vbe_write(VBE_DISPI_INDEX_BANK, 0x7fff);  /* beyond VRAM: refused */
    assert_int_equal(vbe_read(VBE_DISPI_INDEX_BANK), 1);
    /* A mode larger than VRAM stays disabled (a 1 MiB card). */
    vga_destroy(s);
    char err[128];
    VGAConfig small = { .console = true, .devfn = -1, .vram_size = 1 << 20 };
    s = vga_create(NULL, &small, err, sizeof(err));
    assert_non_null(s);
    assert_int_equal(vbe_read(VBE_DISPI_INDEX_VIDEO_MEMORY_64K), 16);
    vbe_write(VBE_DISPI_INDEX_XRES, 1024);
    vbe_write(VBE_DISPI_INDEX_YRES, 768);
    vbe_write(VBE_DISPI_INDEX_BPP, 32);
    vbe_write(VBE_DISPI_INDEX_ENABLE, VBE_DISPI_ENABLED);
    assert_int_equal(vbe_read(VBE_DISPI_INDEX_ENABLE) & VBE_DISPI_ENABLED, 0);
    vbe_write(VBE_DISPI_INDEX_BPP, 8);
    vbe_write(VBE_DISPI_INDEX_ENABLE, VBE_DISPI_ENABLED);
    assert_int_equal(vbe_read(VBE_DISPI_INDEX_ENABLE) & VBE_DISPI_ENABLED, 1);
    /* A bad VRAM size is a configuration error, not a crash. */
    VGAConfig bad = { .vram_size = 3 << 20 };
    assert_null(vga_create(NULL, &bad, err, sizeof(err)));
    assert_non_null(strstr(err, "VRAM"));
}

static void test_guest_cannot_escape(void **state)
{
    /* Hostile values everywhere must not touch memory out of bounds (run
     * under ASan in the sanitizer build). */
    set_mode(&mode13);
    for (int i = 0; i < 0x40; i++) {
        outw(0x3d4, (uint16_t)(0xff << 8 | i));
        outw(0x3c4, (uint16_t)(0xff << 8 | i));
        outw(0x3ce, (uint16_t)(0xff << 8 | i));
    }
    for (uint32_t a = 0; a < 0x20000; a += 0x1fff) {
        memb(0xA0000 + a, 0xaa);
        rdb(0xA0000 + a);
    }
    vga_update_display(s, true);
    vbe_write(VBE_DISPI_INDEX_XRES, 8);
    vbe_write(VBE_DISPI_INDEX_YRES, 8);
    vbe_write(VBE_DISPI_INDEX_BPP, 32);
    vbe_write(VBE_DISPI_INDEX_ENABLE, 1);
    vbe_write(VBE_DISPI_INDEX_X_OFFSET, 0xffff);
    vbe_write(VBE_DISPI_INDEX_Y_OFFSET, 0xffff);
    vbe_write(VBE_DISPI_INDEX_VIRT_WIDTH, 0xfff8);
    vga_update_display(s, true);
    vbe_write(0x55, 0x1234);
    assert_int_equal(vbe_read(0x55), 0);
    assert_non_null(console_surface());
}

/* Direct-boot text mode with the font taken from SeaVGABIOS's ROM. */
static void test_text_mode_rom_font(void **state)
{
    FILE *f = fopen("/usr/share/seabios/vgabios-stdvga.bin", "rb");
    if (!f) {
        skip();
        return;
    }
    static uint8_t rom[128 * 1024];
    size_t len = fread(rom, 1, sizeof(rom), f);
    fclose(f);
    long off = vga_find_rom_font(rom, len, 16);
    assert_true(off >= 0);
    const uint8_t *font = rom + off;
    vga_set_text_mode(s, font);
    memb(0xB8000 + 2 * 81, 'K');
    memb(0xB8001 + 2 * 81, 0x4e);         /* yellow on red */
    vga_update_display(s, true);
    assert_int_equal(console_surface()->width, 720);
    assert_int_equal(console_surface()->height, 400);
    int lit = 0;
    for (int y = 0; y < 16; y++)
        for (int x = 0; x < 9; x++) {
            bool on = x < 8 && (font['K' * 16 + y] & (0x80 >> x));
            lit += on;
            /* EGA palette: 14 is 0xffff55, 4 is 0xaa0000. */
            assert_int_equal(pixel(9 + x, 16 + y), on ? 0xffff55 : 0xaa0000);
        }
    assert_true(lit > 10);
    /* The rest of the screen is blank grey-on-black spaces. */
    assert_int_equal(pixel(400, 300), 0);
}

/* console_screendump: PNG by default, PPM for a .ppm name, same pixels. */
static void test_screendump_formats(void **state)
{
    char err[256];
    char png[] = "/tmp/kestrel-vga-XXXXXX.png";
    int pfd = mkstemps(png, 4);
    assert_true(pfd >= 0);
    close(pfd);
    assert_int_equal(console_screendump(png, err, sizeof(err)), 0);
    FILE *pf = fopen(png, "rb");
    uint8_t sig[8] = { 0 };
    assert_non_null(pf);
    assert_int_equal(fread(sig, 1, 8, pf), 8);
    fclose(pf);
    assert_memory_equal(sig, "\x89PNG\r\n\x1a\n", 8);
    unlink(png);
    set_mode(&mode13);
    set_dac(0x42, 0x3f, 0x20, 0x00);
    memb(0xA0000 + 7 * 320 + 5, 0x42);
    char ppm[] = "/tmp/kestrel-vga-XXXXXX.ppm";
    int fd = mkstemps(ppm, 4);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(console_screendump(ppm, err, sizeof(err)), 0);
    DisplaySurface *d = console_surface();
    FILE *f = fopen(ppm, "rb");
    assert_non_null(f);
    int w = 0, h = 0, max = 0;
    assert_int_equal(fscanf(f, "P6 %d %d %d", &w, &h, &max), 3);
    fgetc(f);
    assert_int_equal(w, d->width);
    assert_int_equal(h, d->height);
    assert_int_equal(max, 255);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t rgb[3];
            assert_int_equal(fread(rgb, 1, 3, f), 3);
            uint32_t v = (uint32_t)rgb[0] << 16 | rgb[1] << 8 | rgb[2];
            if (v != pixel(x, y))
                fail_msg("pixel %d,%d: %06x vs %06x", x, y, v, pixel(x, y));
        }
    assert_int_equal(fgetc(f), EOF);
    fclose(f);
    unlink(ppm);
    assert_int_equal(pixel(10, 14), 0xff8200);
    /* An unwritable path is one error line, not a crash. */
    assert_int_equal(console_screendump("/nonexistent/x.png", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "/nonexistent/x.png"));
}

/* Random guest traffic on every port and the whole window, with renders in
 * between: nothing may touch memory out of bounds (ASan build) and the
 * surface stays within limits. Fixed seed, so failures reproduce. */
static void test_random_traffic(void **state)
{
    static const uint16_t ports[] = { 0x1ce, 0x1cf, 0x1d0, 0x3b4, 0x3b5, 0x3ba,
        0x3c0, 0x3c1, 0x3c2, 0x3c3, 0x3c4, 0x3c5, 0x3c6, 0x3c7, 0x3c8, 0x3c9,
        0x3ca, 0x3cc, 0x3ce, 0x3cf, 0x3d4, 0x3d5, 0x3da };
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        uint32_t r = (uint32_t)(x >> 16);
        int size = 1 << (r & 1);
        switch ((x >> 8) & 7) {
        case 0: case 1: case 2:
            vga_ioport_write(s, ports[r % (sizeof(ports) / 2)],
                             (uint32_t)(x >> 32), size);
            break;
        case 3:
            vga_ioport_read(s, ports[r % (sizeof(ports) / 2)], size);
            break;
        case 4: case 5:
            vga_legacy_write(s, (x >> 24) & 0x1ffff, x >> 40, 1 << ((x >> 4) & 3));
            break;
        case 6:
            vga_legacy_read(s, (x >> 24) & 0x1ffff, 1 << ((x >> 4) & 3));
            break;
        default:
            vga_lfb_write(s, (x >> 20) & 0xffffff, x, 1 << ((x >> 4) & 3));
            break;
        }
        if (i % 2000 == 0) {
            vga_update_display(s, (i / 2000) & 1);
            DisplaySurface *d = console_surface();
            assert_non_null(d);
            assert_true(d->width >= 1 && d->width <= CONSOLE_MAX_W);
            assert_true(d->height >= 1 && d->height <= CONSOLE_MAX_H);
        }
    }
}

/* On a real bus: ports and the legacy window are registered, and the
 * device's saved state carries registers and VRAM and survives a hostile
 * image. */
static void test_bus_and_snapshot(void **state)
{
    static Bus b;
    bus_init(&b, 2 << 20);
    char err[128];
    VGAConfig cfg = { .devfn = -1, .vram_size = 1 << 20 };
    VGAState *v = vga_create(&b, &cfg, err, sizeof(err));
    assert_non_null(v);
    bus_pio_write(&b, 0x3c4, 0x0a02, 2);
    assert_int_equal(bus_pio_read(&b, 0x3c5, 1), 0x0a);
    bus_pio_write(&b, 0x1ce, VBE_DISPI_INDEX_ID, 2);
    assert_int_equal(bus_pio_read(&b, 0x1cf, 2), VBE_DISPI_ID5);
    bus_pio_write(&b, 0x3c4, 0x0f02, 2);
    bus_pio_write(&b, 0x3ce, 0x1005, 2);            /* odd/even reads */
    bus_mem_write(&b, 0xB8000, 0x1e41, 2);          /* window at B8000 */
    assert_int_equal(bus_mem_read(&b, 0xB8000, 2), 0x1e41);
    /* Without PCI the LFB sits at its fixed address. */
    bus_mem_write(&b, VGA_LFB_DEFAULT + 0x100, 0xdeadbeef, 4);
    assert_int_equal(vga_vram(v)[0x100], 0xef);

    Device *d = bus_find_device(&b, "vga-regs");
    assert_non_null(d);
    assert_true(d->state_size > (1u << 20));
    uint8_t *saved = malloc(d->state_size);
    memcpy(saved, d->state, d->state_size);
    bus_pio_write(&b, 0x3c4, 0x0a02, 2);
    bus_mem_write(&b, VGA_LFB_DEFAULT + 0x100, 0, 4);
    bus_pio_write(&b, 0x3c4, 0x0302, 2);
    memcpy(d->state, saved, d->state_size);
    d->post_load(d->opaque);
    assert_int_equal(vga_vram(v)[0x100], 0xef);
    assert_int_equal(bus_pio_read(&b, 0x3c5, 1), 0x0f);   /* as saved */
    assert_int_equal(bus_mem_read(&b, 0xB8000, 2), 0x1e41);
    /* Garbage state: every byte 0xff. Nothing may go out of bounds. */
    memset(d->state, 0xff, d->state_size);
    d->post_load(d->opaque);
    for (int i = 0; i < 8; i++) {
        bus_pio_write(&b, 0x3c9, 0x3f, 1);
        bus_pio_read(&b, 0x3c9, 1);
        bus_mem_write(&b, 0xA0000 + i * 0x3333u, 0x55, 1);
        bus_mem_read(&b, 0xA0000 + i * 0x3333u, 1);
    }
    vga_update_display(v, true);
    free(saved);
    vga_destroy(v);
    bus_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_index_data_registers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_attribute_flipflop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dac, setup, teardown),
        cmocka_unit_test_setup_teardown(test_planar_pipeline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_split_screen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memory_map_select, setup, teardown),
        cmocka_unit_test_setup_teardown(test_text_render, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cursor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mode13_and_dirty_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cga_modes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vbe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_guest_cannot_escape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_text_mode_rom_font, setup, teardown),
        cmocka_unit_test(test_bus_and_snapshot),
        cmocka_unit_test_setup_teardown(test_random_traffic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_screendump_formats, setup, teardown),
    };
    return cmocka_run_group_tests_name("vga", tests, NULL, NULL);
}
