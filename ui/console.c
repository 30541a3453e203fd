/* The console (ui/console.h): one surface, one display device, one front
 * end and one input sink, all on the machine's thread. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "config.h"
#include "ui/console.h"

#ifdef CONFIG_SDL
int sdl_frontend_init(char *err, size_t n);    /* ui/sdl.c */
#endif

static struct {
    DisplaySurface surf;
    bool have_surface;
    const ConsoleDisplayOps *display;
    void *display_opaque;
    const ConsoleFrontendOps *fe;
    void *fe_opaque;
    const ConsoleInputOps *input;
    void *input_opaque;
    void (*quit)(void *opaque);
    void *quit_opaque;
    /* Union of dirty rectangles since the front end's last update. */
    int dx0, dy0, dx1, dy1;
    bool dirty;
    char state[32];
    char name[64];
} con;

void console_register_display(const ConsoleDisplayOps *ops, void *opaque)
{
    con.display = ops;
    con.display_opaque = opaque;
}

DisplaySurface *console_surface(void)
{
    return con.have_surface ? &con.surf : NULL;
}

DisplaySurface *console_resize(int width, int height)
{
    if (width < 1)
        width = 1;
    if (height < 1)
        height = 1;
    if (width > CONSOLE_MAX_W)
        width = CONSOLE_MAX_W;
    if (height > CONSOLE_MAX_H)
        height = CONSOLE_MAX_H;
    uint32_t *px = calloc((size_t)width * height, 4);
    if (!px) {
        fprintf(stderr, "kestrel: out of memory for a %dx%d display\n",
                width, height);
        exit(1);
    }
    free(con.surf.pixels);
    con.surf.pixels = px;
    con.surf.width = width;
    con.surf.height = height;
    con.surf.pitch = width * 4;
    con.have_surface = true;
    con.dirty = false;
    console_dirty(0, 0, width, height);
    if (con.fe && con.fe->resize)
        con.fe->resize(con.fe_opaque, &con.surf);
    return &con.surf;
}

void console_dirty(int x, int y, int w, int h)
{
    if (!con.have_surface || w <= 0 || h <= 0)
        return;
    int x1 = x + w, y1 = y + h;
    if (x < 0) x = 0;
    if (y < 0) y = 0;
    if (x1 > con.surf.width) x1 = con.surf.width;
    if (y1 > con.surf.height) y1 = con.surf.height;
    if (x >= x1 || y >= y1)
        return;
    if (!con.dirty) {
        con.dx0 = x; con.dy0 = y; con.dx1 = x1; con.dy1 = y1;
        con.dirty = true;
        return;
    }
    if (x < con.dx0) con.dx0 = x;
    if (y < con.dy0) con.dy0 = y;
    if (x1 > con.dx1) con.dx1 = x1;
    if (y1 > con.dy1) con.dy1 = y1;
}

int console_init(const char *display, char *err, size_t n)
{
    if (!display) {
#ifdef CONFIG_SDL
        const char *x = getenv("DISPLAY"), *wl = getenv("WAYLAND_DISPLAY");
        display = ((x && *x) || (wl && *wl)) ? "sdl" : "none";
#else
        display = "none";
#endif
    }
    if (!strcmp(display, "none"))
        return 0;
    if (!strcmp(display, "sdl")) {
#ifdef CONFIG_SDL
        return sdl_frontend_init(err, n);
#else
        snprintf(err, n, "-display sdl: this Kestrel was built without SDL");
        return -1;
#endif
    }
    snprintf(err, n, "-display %s: unknown display (sdl or none)", display);
    return -1;
}

void console_register_frontend(const ConsoleFrontendOps *ops, void *opaque)
{
    con.fe = ops;
    con.fe_opaque = opaque;
    if (ops && con.have_surface && ops->resize)
        ops->resize(opaque, &con.surf);
    if (ops && ops->set_state && con.state[0])
        ops->set_state(opaque, con.state);
    if (ops && ops->set_name && con.name[0])
        ops->set_name(opaque, con.name);
}

void console_refresh(void)
{
    /* Without a front end nobody looks: drawing waits for a screendump. */
    if (!con.fe)
        return;
    if (con.display && con.display->update)
        con.display->update(con.display_opaque, false);
    if (con.dirty && con.have_surface && con.fe->update) {
        con.dirty = false;
        con.fe->update(con.fe_opaque, &con.surf, con.dx0, con.dy0,
                       con.dx1 - con.dx0, con.dy1 - con.dy0);
    }
    if (con.fe->poll)
        con.fe->poll(con.fe_opaque);
}

void console_set_state(const char *state)
{
    snprintf(con.state, sizeof(con.state), "%s", state ? state : "");
    if (con.fe && con.fe->set_state)
        con.fe->set_state(con.fe_opaque, con.state);
}

void console_set_name(const char *name)
{
    snprintf(con.name, sizeof(con.name), "%s", name ? name : "");
    if (con.fe && con.fe->set_name)
        con.fe->set_name(con.fe_opaque, con.name);
}

void console_set_quit_handler(void (*fn)(void *opaque), void *opaque)
{
    con.quit = fn;
    con.quit_opaque = opaque;
}

void console_request_quit(void)
{
    if (con.quit)
        con.quit(con.quit_opaque);
    else
        exit(0);
}

/* QEMU's monitor writes PPM by default; a .ppm name gets PPM (P6) so that
 * scripts written for QEMU keep working. */
static int write_ppm(const char *path, const DisplaySurface *d, char *err,
                     size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        snprintf(err, n, "screendump: cannot create '%s': %s", path,
                 strerror(errno));
        return -1;
    }
    bool bad = fprintf(f, "P6\n%d %d\n255\n", d->width, d->height) < 0;
    uint8_t *row = malloc((size_t)d->width * 3);
    for (int y = 0; y < d->height && row && !bad; y++) {
        const uint32_t *px = (const uint32_t *)((const uint8_t *)d->pixels +
                                                (size_t)y * d->pitch);
        for (int x = 0; x < d->width; x++) {
            row[3 * x] = (uint8_t)(px[x] >> 16);
            row[3 * x + 1] = (uint8_t)(px[x] >> 8);
            row[3 * x + 2] = (uint8_t)px[x];
        }
        bad = fwrite(row, 3, (size_t)d->width, f) != (size_t)d->width;
    }
    if (!row)
        bad = true;
    free(row);
    if (fclose(f) != 0)
        bad = true;
    if (bad) {
        snprintf(err, n, "screendump: cannot write '%s'", path);
        remove(path);
        return -1;
    }
    return 0;
}

int console_screendump(const char *path, char *err, size_t n)
{
    if (!con.display || !con.display->update) {
        snprintf(err, n, "screendump: there is no display device");
        return -1;
    }
    con.display->update(con.display_opaque, true);
    if (!con.have_surface) {
        snprintf(err, n, "screendump: the display has no picture yet");
        return -1;
    }
    size_t len = strlen(path);
    if (len > 4 && !strcasecmp(path + len - 4, ".ppm"))
        return write_ppm(path, &con.surf, err, n);
    return png_write_xrgb(path, con.surf.pixels, con.surf.width,
                          con.surf.height, con.surf.pitch, err, n);
}

void console_shutdown(void)
{
    if (con.fe && con.fe->destroy)
        con.fe->destroy(con.fe_opaque);
    con.fe = NULL;
    free(con.surf.pixels);
    con.surf.pixels = NULL;
    con.have_surface = false;
}

void console_register_input(const ConsoleInputOps *ops, void *opaque)
{
    con.input = ops;
    con.input_opaque = opaque;
}

void console_key(uint32_t set2_code, bool down)
{
    if (con.input && con.input->key)
        con.input->key(con.input_opaque, set2_code, down);
}

void console_mouse(int dx, int dy, int dz, int buttons)
{
    if (con.input && con.input->mouse)
        con.input->mouse(con.input_opaque, dx, dy, dz, buttons);
}
