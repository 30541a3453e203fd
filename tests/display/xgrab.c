/* xgrab: writes what the X server shows in a window as a PNG, so tests see
 * the SDL window's real pixels. Usage: xgrab WINDOW-ID OUT.png
 * (DISPLAY from the environment). */
#include <stdio.h>
#include <stdlib.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include "ui/console.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: xgrab WINDOW-ID OUT.png\n");
        return 2;
    }
    Display *d = XOpenDisplay(NULL);
    if (!d) {
        fprintf(stderr, "xgrab: cannot open the X display\n");
        return 1;
    }
    Window w = (Window)strtoul(argv[1], NULL, 0);
    XWindowAttributes a;
    if (!XGetWindowAttributes(d, w, &a)) {
        fprintf(stderr, "xgrab: no window %s\n", argv[1]);
        return 1;
    }
    XImage *img = XGetImage(d, w, 0, 0, (unsigned)a.width, (unsigned)a.height,
                            AllPlanes, ZPixmap);
    if (!img) {
        fprintf(stderr, "xgrab: cannot read the window\n");
        return 1;
    }
    uint32_t *px = malloc((size_t)a.width * a.height * 4);
    for (int y = 0; y < a.height; y++)
        for (int x = 0; x < a.width; x++) {
            unsigned long p = XGetPixel(img, x, y);
            px[y * a.width + x] =
                (uint32_t)((p & img->red_mask) >> __builtin_ctzl(img->red_mask)) << 16 |
                (uint32_t)((p & img->green_mask) >> __builtin_ctzl(img->green_mask)) << 8 |
                (uint32_t)((p & img->blue_mask) >> __builtin_ctzl(img->blue_mask));
        }
    char err[256];
    int rc = png_write_xrgb(argv[2], px, a.width, a.height, a.width * 4, err,
                            sizeof(err));
    if (rc)
        fprintf(stderr, "xgrab: %s\n", err);
    free(px);
    XDestroyImage(img);
    XCloseDisplay(d);
    return rc ? 1 : 0;
}
