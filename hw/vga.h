/* VGA with the Bochs VBE extensions: QEMU's "stdvga" (PCI 1234:1111),
 * the device SeaVGABIOS's vgabios-stdvga.bin drives.
 *
 * Ports 0x3b4/0x3b5, 0x3ba, 0x3c0-0x3cf, 0x3d4/0x3d5, 0x3da (VGA) and
 * 0x1ce/0x1cf (VBE index/data); the legacy window 0xA0000-0xBFFFF as MMIO;
 * the linear framebuffer on PCI BAR 0 (prefetchable memory, vram_size). The
 * display is drawn into the console surface (ui/console.h).
 *
 * Board wiring (system/machine.c), in order:
 *   VGAConfig vc = { .pci = pcibus, .devfn = -1, .console = true };
 *   vga = vga_create(bus, &vc, err, n);
 *   load_option_rom_fwcfg(fw, DEFAULT_VGABIOS, "vgaroms/vgabios-stdvga.bin", ...);
 *   console_init(cfg->display, err, n);          -- "sdl", "none" or NULL
 *   console_register_input(&ops, kbc);           -- ops call kbc_key_event /
 *                                                   kbc_mouse_event
 *   console_set_quit_handler(fn, m); console_set_state("running"/"paused");
 *   a timer every CONSOLE_REFRESH_NS calling console_refresh() (host time
 *   is fine; keep polling while paused so the window stays alive);
 *   -screendump-at: a timer calling console_screendump(path, err, n).
 * Direct kernel boot (no SeaBIOS to run the VGA BIOS): read
 * DEFAULT_VGABIOS, off = vga_find_rom_font(rom, len, 16), and call
 * vga_set_text_mode(vga, rom + off) (font NULL if not found); the loader
 * already tells Linux it is in 80x25 VGA text mode. */
#ifndef HW_VGA_H
#define HW_VGA_H
#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>
#include "hw/bus.h"

#define VGA_VRAM_DEFAULT (16u << 20)
#define VGA_PCI_VENDOR 0x1234
#define VGA_PCI_DEVICE 0x1111
/* Where the LFB sits until PCI assigns BAR 0 (and without PCI). */
#define VGA_LFB_DEFAULT 0xE0000000u

/* VBE dispi interface (index register values and constants). */
enum {
    VBE_DISPI_INDEX_ID, VBE_DISPI_INDEX_XRES, VBE_DISPI_INDEX_YRES,
    VBE_DISPI_INDEX_BPP, VBE_DISPI_INDEX_ENABLE, VBE_DISPI_INDEX_BANK,
    VBE_DISPI_INDEX_VIRT_WIDTH, VBE_DISPI_INDEX_VIRT_HEIGHT,
    VBE_DISPI_INDEX_X_OFFSET, VBE_DISPI_INDEX_Y_OFFSET,
    VBE_DISPI_INDEX_VIDEO_MEMORY_64K, VBE_DISPI_INDEX_NB
};
#define VBE_DISPI_ID0 0xB0C0
#define VBE_DISPI_ID5 0xB0C5
#define VBE_DISPI_MAX_XRES 2560
#define VBE_DISPI_MAX_YRES 1600
#define VBE_DISPI_DISABLED 0x00
#define VBE_DISPI_ENABLED 0x01
#define VBE_DISPI_GETCAPS 0x02
#define VBE_DISPI_8BIT_DAC 0x20
#define VBE_DISPI_LFB_ENABLED 0x40
#define VBE_DISPI_NOCLEARMEM 0x80

typedef struct VGAState VGAState;
struct PCIBus;

typedef struct VGAConfig {
    uint32_t vram_size;        /* 0: VGA_VRAM_DEFAULT; a power of two, 1-256 MiB */
    /* The PCI bus to sit on (NULL: an ISA VGA whose LFB stays at
     * VGA_LFB_DEFAULT) and the slot (devfn; -1: PCI_DEVFN(2, 0) as QEMU). */
    struct PCIBus *pci;
    int devfn;
    /* VGA BIOS image offered on the PCI expansion-ROM BAR (may be NULL, as
     * when the board publishes it through fw_cfg "vgaroms/"; copied). */
    const uint8_t *rom;
    size_t rom_size;
    /* Attach to the console (false in unit tests that drive it alone). */
    bool console;
} VGAConfig;

/* Registers ports and the legacy window on bus (bus may be NULL in unit
 * tests, which then call the handlers below directly). Returns NULL with a
 * message in err on a bad configuration. */
VGAState *vga_create(Bus *bus, const VGAConfig *cfg, char *err, size_t n);
void vga_destroy(VGAState *s);
void vga_reset(void *opaque);

/* The device's bus handlers (port numbers absolute; memory offsets from
 * 0xA0000 for the legacy window, from the BAR base for the LFB). */
uint32_t vga_ioport_read(void *opaque, uint16_t port, int size);
void vga_ioport_write(void *opaque, uint16_t port, uint32_t val, int size);
uint64_t vga_legacy_read(void *opaque, uint64_t off, int size);
void vga_legacy_write(void *opaque, uint64_t off, uint64_t val, int size);
uint64_t vga_lfb_read(void *opaque, uint64_t off, int size);
void vga_lfb_write(void *opaque, uint64_t off, uint64_t val, int size);

/* Redraw into the console surface (the console's update calls this);
 * full forces every line. */
void vga_update_display(VGAState *s, bool full);
uint8_t *vga_vram(VGAState *s);

/* For boots without a VGA BIOS (direct -kernel boot): put the card in
 * 80x25 colour text mode (BIOS mode 3) with the standard EGA palette, a
 * cleared screen and, when font16 is not NULL, that 256-glyph 8x16 font
 * in plane 2. */
void vga_set_text_mode(VGAState *s, const uint8_t *font16);
/* Finds the 256-glyph 8 x height font (height 8, 14 or 16) inside a VGA
 * BIOS image: returns its offset or -1. */
long vga_find_rom_font(const uint8_t *rom, size_t len, int height);
uint32_t vga_vram_size(const VGAState *s);
#endif
