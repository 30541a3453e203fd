/* In-process fuzzing of the VGA/Bochs VBE device and its renderer: random
 * register writes (standard VGA, VBE with extreme resolutions, depths,
 * virtual widths and offsets), writes through the legacy window and the
 * LFB at any offset, and a full redraw every few steps. The guest drives
 * all of this, so under --enable-sanitizers any out-of-bounds access in
 * hw/vga*.c aborts the run.
 *   vgafuzz SEED ITERATIONS */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "hw/vga.h"
#include "ui/console.h"

static uint64_t rs;
static uint32_t rnd(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (uint32_t)(rs >> 16);
}
static uint32_t below(uint32_t n) { return (uint32_t)(((uint64_t)rnd() * n) >> 32); }
static uint32_t val(void)
{
    static const uint32_t e[] = { 0, 1, 4, 8, 15, 16, 24, 32, 640, 1024,
        1600, 2560, 4096, 8192, 0x7fff, 0x8000, 0xffff };
    return below(2) ? e[below(sizeof e / sizeof e[0])] : rnd();
}

static void fe_update(void *o, const DisplaySurface *d, int x, int y, int w, int h)
{
    (void)o; (void)d; (void)x; (void)y; (void)w; (void)h;
}
static const ConsoleFrontendOps fe = { .name = "vgafuzz", .update = fe_update };

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: vgafuzz SEED ITERATIONS\n");
        return 2;
    }
    rs = strtoull(argv[1], NULL, 0) * 0x9e3779b97f4a7c15ull + 1;
    long iters = strtol(argv[2], NULL, 0);
    char err[128];
    VGAConfig cfg = { .console = true, .devfn = -1,
                      .vram_size = below(2) ? 0 : 1u << 20 };
    console_register_frontend(&fe, NULL);
    VGAState *s = vga_create(NULL, &cfg, err, sizeof err);
    if (!s) {
        fprintf(stderr, "vgafuzz: vga_create: %s\n", err);
        return 1;
    }
    uint32_t vram = vga_vram_size(s);
    long draws = 0;
    for (long it = 0; it < iters; it++) {
        int size = 1 << below(3);
        switch (below(8)) {
        case 0: case 1:                                  /* VBE */
            vga_ioport_write(s, 0x1ce, below(12), 2);
            vga_ioport_write(s, 0x1cf, val() & 0xffff, 2);
            if (below(4) == 0) {
                vga_ioport_write(s, 0x1ce, 4, 2);
                vga_ioport_write(s, 0x1cf, 0x41 | (rnd() & 0x82), 2);
            }
            break;
        case 2: {                                        /* indexed VGA registers */
            static const uint16_t idx[] = { 0x3c4, 0x3ce, 0x3d4, 0x3b4 };
            uint16_t p = idx[below(4)];
            vga_ioport_write(s, p, below(4) ? below(0x20) : rnd() & 0xff, 1);
            vga_ioport_write(s, p + 1, val() & 0xff, 1);
            break;
        }
        case 3:                                          /* attribute, DAC, misc */
            vga_ioport_read(s, 0x3da, 1);
            vga_ioport_write(s, 0x3c0, rnd() & 0xff, 1);
            vga_ioport_write(s, 0x3c0, val() & 0xff, 1);
            vga_ioport_write(s, 0x3c0 + below(0x20), val() & 0xff, size > 2 ? 2 : size);
            vga_ioport_read(s, 0x3c0 + below(0x20), size > 2 ? 2 : size);
            break;
        case 4:
            vga_legacy_write(s, below(0x20000), rnd(), size);
            vga_legacy_read(s, below(0x20000), size);
            break;
        case 5: {
            uint64_t off = below(4) ? below(vram) : below(vram * 4u);
            vga_lfb_write(s, off, rnd(), size);
            vga_lfb_read(s, below(vram * 2u), size);
            break;
        }
        case 6:
            vga_ioport_write(s, 0x1ce, below(0x10000), 2);
            vga_ioport_read(s, 0x1cf, 2);
            break;
        default:
            vga_update_display(s, below(2));
            draws++;
            break;
        }
    }
    vga_destroy(s);
    console_register_frontend(NULL, NULL);
    printf("vgafuzz: %ld steps, %ld redraws, VRAM %u KiB\n", iters, draws, vram >> 10);
    printf("1 passed, 0 failed\n");
    return 0;
}
