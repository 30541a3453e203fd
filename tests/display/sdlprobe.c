/* sdlprobe: the SDL front end without a machine. Shows a text screen drawn
 * by the VGA model (font from SeaVGABIOS), runs the console's 60 Hz
 * refresh, and prints every input event the front end delivers:
 *   key 0x1c down | key 0xe075 up | mouse DX DY DZ BUTTONS
 * Usage: sdlprobe SECONDS VGABIOS.bin */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "hw/vga.h"
#include "ui/console.h"

static void on_key(void *o, uint32_t code, bool down)
{
    printf("key 0x%x %s\n", code, down ? "down" : "up");
    fflush(stdout);
}

static void on_mouse(void *o, int dx, int dy, int dz, int buttons)
{
    printf("mouse %d %d %d %d\n", dx, dy, dz, buttons);
    fflush(stdout);
}

static bool quit;
static void on_quit(void *o) { quit = true; }

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: sdlprobe SECONDS VGABIOS.bin\n");
        return 2;
    }
    static uint8_t rom[256 * 1024];
    FILE *f = fopen(argv[2], "rb");
    if (!f) {
        fprintf(stderr, "sdlprobe: cannot open %s\n", argv[2]);
        return 1;
    }
    size_t n = fread(rom, 1, sizeof(rom), f);
    fclose(f);
    long font = vga_find_rom_font(rom, n, 16);
    char err[256];
    VGAConfig cfg = { .console = true, .devfn = -1 };
    VGAState *s = vga_create(NULL, &cfg, err, sizeof(err));
    if (!s || font < 0) {
        fprintf(stderr, "sdlprobe: %s\n", s ? "no font in the VGA BIOS" : err);
        return 1;
    }
    vga_set_text_mode(s, rom + font);
    const char *lines[] = { "Kestrel SDL probe", "", "Type here." };
    for (int r = 0; r < 3; r++)
        for (size_t i = 0; i < strlen(lines[r]); i++) {
            vga_legacy_write(s, 0x18000 + (r * 80 + i) * 2, (uint8_t)lines[r][i], 1);
            vga_legacy_write(s, 0x18000 + (r * 80 + i) * 2 + 1, 0x1f, 1);
        }
    static const ConsoleInputOps in = { on_key, on_mouse };
    console_register_input(&in, NULL);
    console_set_quit_handler(on_quit, NULL);
    if (console_init("sdl", err, sizeof(err))) {
        fprintf(stderr, "sdlprobe: %s\n", err);
        return 1;
    }
    console_set_state("running");
    console_refresh();
    printf("ready\n");
    fflush(stdout);
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    double secs = atof(argv[1]);
    do {
        struct timespec ts = { 0, CONSOLE_REFRESH_NS };
        nanosleep(&ts, NULL);
        console_refresh();
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while (!quit && (now.tv_sec - t0.tv_sec) + (now.tv_nsec - t0.tv_nsec) / 1e9 < secs);
    console_shutdown();
    vga_destroy(s);
    printf("done\n");
    return 0;
}
