/* The console: the one interface between display devices (hw/vga.c) and
 * front ends (ui/sdl.c, headless), and the path input events take from a
 * front end back to the input device (the i8042).
 *
 * There is one console per machine, so the API is a set of plain functions
 * over a single global instance. The pieces:
 *
 *   display device --console_resize/console_dirty--> surface (XRGB8888)
 *   board timer    --console_refresh (~60 Hz)-------> device update, then
 *                                                    front end update + poll
 *   front end      --console_key/console_mouse-----> input sink (i8042)
 *
 * Everything runs on the machine's single thread: the front end polls its
 * host events from console_refresh, never from a thread of its own. */
#ifndef UI_CONSOLE_H
#define UI_CONSOLE_H
#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>

/* 32-bit pixels, 0x00RRGGBB in host (little-endian) order; pitch in bytes. */
typedef struct DisplaySurface {
    int width, height;
    int pitch;
    uint32_t *pixels;
} DisplaySurface;

/* What a display device offers the console. */
typedef struct ConsoleDisplayOps {
    /* Render whatever changed since the last call into the surface (after
     * console_resize when the mode changed) and mark it with console_dirty.
     * full: redraw everything (a screendump, a new front end). */
    void (*update)(void *opaque, bool full);
} ConsoleDisplayOps;

/* What a front end offers the console. All optional but update. */
typedef struct ConsoleFrontendOps {
    const char *name;
    /* The surface changed size (or was reallocated). */
    void (*resize)(void *opaque, const DisplaySurface *s);
    /* Pixels in the rectangle changed; called once per refresh with the
     * union of the dirty rectangles. */
    void (*update)(void *opaque, const DisplaySurface *s, int x, int y,
                   int w, int h);
    /* Poll host events (keys, mouse, window close); never blocks. */
    void (*poll)(void *opaque);
    /* Guest state for the window title ("running", "paused", ...). */
    void (*set_state)(void *opaque, const char *state);
    /* The guest's name for the window title (may be NULL). */
    void (*set_name)(void *opaque, const char *name);
    void (*destroy)(void *opaque);
} ConsoleFrontendOps;

/* Where input goes (the board registers the i8042 here).
 * key: a PS/2 scan code set 2 make code in hw/kbc.h's encoding: extended
 *      keys carry the 0xE0 prefix in the high byte (0xE075 is Up), Pause is
 *      0xE11477; the keyboard adds break prefixes and any translation.
 * mouse: relative motion (dx right, dy DOWN as on screen, dz > 0 is the
 *      wheel towards the user) and the button state (bit 0 left, bit 1
 *      right, bit 2 middle). */
typedef struct ConsoleInputOps {
    void (*key)(void *opaque, uint32_t set2_code, bool down);
    void (*mouse)(void *opaque, int dx, int dy, int dz, int buttons);
} ConsoleInputOps;

#define CONSOLE_KEY_PAUSE 0xE11477u

/* Device side. */
void console_register_display(const ConsoleDisplayOps *ops, void *opaque);
/* (Re)size the surface; returns it (pixels cleared to black). Sizes are
 * clamped to 1..CONSOLE_MAX_W x 1..CONSOLE_MAX_H. Marks it all dirty. */
#define CONSOLE_MAX_W 4096
#define CONSOLE_MAX_H 4096
DisplaySurface *console_resize(int width, int height);
DisplaySurface *console_surface(void);
void console_dirty(int x, int y, int w, int h);

/* Board side. */
/* Choose the front end: "sdl", "none", or NULL for the default (sdl when
 * built with SDL and $DISPLAY or $WAYLAND_DISPLAY is set, else none).
 * Returns 0, or -1 with a one-line message in err. */
int console_init(const char *display, char *err, size_t n);
/* Called by the board about 60 times a second of host time. */
void console_refresh(void);
#define CONSOLE_REFRESH_NS (1000000000LL / 60)
void console_set_state(const char *state);
/* The guest's name (-name) for the window title; NULL for none. */
void console_set_name(const char *name);
/* Called when the user closes the window. */
void console_set_quit_handler(void (*fn)(void *opaque), void *opaque);
/* Write the current screen as PNG (the monitor's screendump and
 * -screendump-at), or as binary PPM when path ends in ".ppm" (QEMU's
 * default format). Returns 0, or -1 with a message in err. */
int console_screendump(const char *path, char *err, size_t n);
void console_shutdown(void);

/* Input side. */
void console_register_input(const ConsoleInputOps *ops, void *opaque);
void console_key(uint32_t set2_code, bool down);
void console_mouse(int dx, int dy, int dz, int buttons);

/* Front-end side (ui/sdl.c registers itself from console_init). */
void console_register_frontend(const ConsoleFrontendOps *ops, void *opaque);
void console_request_quit(void);

/* ui/png.c: write w x h XRGB8888 pixels (pitch bytes per row) as an RGB
 * 8-bit PNG. Returns 0, or -1 with a message in err. */
int png_write_xrgb(const char *path, const uint32_t *pixels, int w, int h,
                   int pitch, char *err, size_t n);
#endif
