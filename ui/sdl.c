/* The SDL2 front end: a resizable window showing the console surface
 * scaled to fit, keyboard input as PS/2 set-2 codes, relative mouse input
 * while grabbed. Host events are polled from console_refresh on the
 * machine's thread; SDL never gets a thread of its own.
 *
 * Hot keys (held Ctrl+Alt): G grabs/releases the mouse, F toggles full
 * screen. A click in the window grabs the mouse too. */
#include "config.h"
#ifdef CONFIG_SDL
#include <stdio.h>
#include <string.h>
#include <SDL.h>
#include "ui/console.h"

typedef struct SDLFrontend {
    SDL_Window *win;
    SDL_Renderer *ren;
    SDL_Texture *tex;
    int tw, th;
    bool grabbed, fullscreen;
    int buttons;
    char state[32];
    char name[64];
    /* Keys forwarded as held, so a hot key or focus loss can release them. */
    uint8_t held[SDL_NUM_SCANCODES];
} SDLFrontend;

static SDLFrontend sdl;

/* SDL scancodes (USB HID usages) -> PS/2 set 2 make codes, 0xE0 prefix in
 * the high byte as hw/kbc.h expects. From the PS/2 set-2 scan code table. */
static const uint32_t keymap[SDL_NUM_SCANCODES] = {
    [SDL_SCANCODE_A] = 0x1c, [SDL_SCANCODE_B] = 0x32, [SDL_SCANCODE_C] = 0x21,
    [SDL_SCANCODE_D] = 0x23, [SDL_SCANCODE_E] = 0x24, [SDL_SCANCODE_F] = 0x2b,
    [SDL_SCANCODE_G] = 0x34, [SDL_SCANCODE_H] = 0x33, [SDL_SCANCODE_I] = 0x43,
    [SDL_SCANCODE_J] = 0x3b, [SDL_SCANCODE_K] = 0x42, [SDL_SCANCODE_L] = 0x4b,
    [SDL_SCANCODE_M] = 0x3a, [SDL_SCANCODE_N] = 0x31, [SDL_SCANCODE_O] = 0x44,
    [SDL_SCANCODE_P] = 0x4d, [SDL_SCANCODE_Q] = 0x15, [SDL_SCANCODE_R] = 0x2d,
    [SDL_SCANCODE_S] = 0x1b, [SDL_SCANCODE_T] = 0x2c, [SDL_SCANCODE_U] = 0x3c,
    [SDL_SCANCODE_V] = 0x2a, [SDL_SCANCODE_W] = 0x1d, [SDL_SCANCODE_X] = 0x22,
    [SDL_SCANCODE_Y] = 0x35, [SDL_SCANCODE_Z] = 0x1a,
    [SDL_SCANCODE_1] = 0x16, [SDL_SCANCODE_2] = 0x1e, [SDL_SCANCODE_3] = 0x26,
    [SDL_SCANCODE_4] = 0x25, [SDL_SCANCODE_5] = 0x2e, [SDL_SCANCODE_6] = 0x36,
    [SDL_SCANCODE_7] = 0x3d, [SDL_SCANCODE_8] = 0x3e, [SDL_SCANCODE_9] = 0x46,
    [SDL_SCANCODE_0] = 0x45,
    [SDL_SCANCODE_RETURN] = 0x5a, [SDL_SCANCODE_ESCAPE] = 0x76,
    [SDL_SCANCODE_BACKSPACE] = 0x66, [SDL_SCANCODE_TAB] = 0x0d,
    [SDL_SCANCODE_SPACE] = 0x29, [SDL_SCANCODE_MINUS] = 0x4e,
    [SDL_SCANCODE_EQUALS] = 0x55, [SDL_SCANCODE_LEFTBRACKET] = 0x54,
    [SDL_SCANCODE_RIGHTBRACKET] = 0x5b, [SDL_SCANCODE_BACKSLASH] = 0x5d,
    [SDL_SCANCODE_NONUSHASH] = 0x5d, [SDL_SCANCODE_SEMICOLON] = 0x4c,
    [SDL_SCANCODE_APOSTROPHE] = 0x52, [SDL_SCANCODE_GRAVE] = 0x0e,
    [SDL_SCANCODE_COMMA] = 0x41, [SDL_SCANCODE_PERIOD] = 0x49,
    [SDL_SCANCODE_SLASH] = 0x4a, [SDL_SCANCODE_CAPSLOCK] = 0x58,
    [SDL_SCANCODE_F1] = 0x05, [SDL_SCANCODE_F2] = 0x06, [SDL_SCANCODE_F3] = 0x04,
    [SDL_SCANCODE_F4] = 0x0c, [SDL_SCANCODE_F5] = 0x03, [SDL_SCANCODE_F6] = 0x0b,
    [SDL_SCANCODE_F7] = 0x83, [SDL_SCANCODE_F8] = 0x0a, [SDL_SCANCODE_F9] = 0x01,
    [SDL_SCANCODE_F10] = 0x09, [SDL_SCANCODE_F11] = 0x78,
    [SDL_SCANCODE_F12] = 0x07,
    [SDL_SCANCODE_PRINTSCREEN] = 0xe07c, [SDL_SCANCODE_SCROLLLOCK] = 0x7e,
    [SDL_SCANCODE_PAUSE] = CONSOLE_KEY_PAUSE,
    [SDL_SCANCODE_INSERT] = 0xe070, [SDL_SCANCODE_HOME] = 0xe06c,
    [SDL_SCANCODE_PAGEUP] = 0xe07d, [SDL_SCANCODE_DELETE] = 0xe071,
    [SDL_SCANCODE_END] = 0xe069, [SDL_SCANCODE_PAGEDOWN] = 0xe07a,
    [SDL_SCANCODE_RIGHT] = 0xe074, [SDL_SCANCODE_LEFT] = 0xe06b,
    [SDL_SCANCODE_DOWN] = 0xe072, [SDL_SCANCODE_UP] = 0xe075,
    [SDL_SCANCODE_NUMLOCKCLEAR] = 0x77, [SDL_SCANCODE_KP_DIVIDE] = 0xe04a,
    [SDL_SCANCODE_KP_MULTIPLY] = 0x7c, [SDL_SCANCODE_KP_MINUS] = 0x7b,
    [SDL_SCANCODE_KP_PLUS] = 0x79, [SDL_SCANCODE_KP_ENTER] = 0xe05a,
    [SDL_SCANCODE_KP_1] = 0x69, [SDL_SCANCODE_KP_2] = 0x72,
    [SDL_SCANCODE_KP_3] = 0x7a, [SDL_SCANCODE_KP_4] = 0x6b,
    [SDL_SCANCODE_KP_5] = 0x73, [SDL_SCANCODE_KP_6] = 0x74,
    [SDL_SCANCODE_KP_7] = 0x6c, [SDL_SCANCODE_KP_8] = 0x75,
    [SDL_SCANCODE_KP_9] = 0x7d, [SDL_SCANCODE_KP_0] = 0x70,
    [SDL_SCANCODE_KP_PERIOD] = 0x71, [SDL_SCANCODE_NONUSBACKSLASH] = 0x61,
    [SDL_SCANCODE_APPLICATION] = 0xe02f,
    [SDL_SCANCODE_LCTRL] = 0x14, [SDL_SCANCODE_LSHIFT] = 0x12,
    [SDL_SCANCODE_LALT] = 0x11, [SDL_SCANCODE_LGUI] = 0xe01f,
    [SDL_SCANCODE_RCTRL] = 0xe014, [SDL_SCANCODE_RSHIFT] = 0x59,
    [SDL_SCANCODE_RALT] = 0xe011, [SDL_SCANCODE_RGUI] = 0xe027,
};

static void update_title(void)
{
    char title[192];
    snprintf(title, sizeof(title), "%s%sKestrel%s%s%s", sdl.name,
             sdl.name[0] ? " - " : "", sdl.state[0] ? " [" : "", sdl.state,
             sdl.state[0] ? "]" : "");
    if (sdl.grabbed)
        snprintf(title + strlen(title), sizeof(title) - strlen(title),
                 " - Press Ctrl+Alt+G to release the mouse");
    SDL_SetWindowTitle(sdl.win, title);
}

static void set_grab(bool on)
{
    sdl.grabbed = on;
    SDL_SetRelativeMouseMode(on ? SDL_TRUE : SDL_FALSE);
    SDL_SetWindowGrab(sdl.win, on ? SDL_TRUE : SDL_FALSE);
    update_title();
}

static void release_all_keys(void)
{
    for (int sc = 0; sc < SDL_NUM_SCANCODES; sc++)
        if (sdl.held[sc]) {
            sdl.held[sc] = 0;
            if (keymap[sc] != CONSOLE_KEY_PAUSE)
                console_key(keymap[sc], false);
        }
}

static void redraw(void)
{
    SDL_RenderClear(sdl.ren);
    if (sdl.tex)
        SDL_RenderCopy(sdl.ren, sdl.tex, NULL, NULL);
    SDL_RenderPresent(sdl.ren);
}

static void fe_resize(void *opaque, const DisplaySurface *s)
{
    if (sdl.tex)
        SDL_DestroyTexture(sdl.tex);
    sdl.tex = SDL_CreateTexture(sdl.ren, SDL_PIXELFORMAT_RGB888,
                                SDL_TEXTUREACCESS_STREAMING, s->width,
                                s->height);
    sdl.tw = s->width;
    sdl.th = s->height;
    if (!sdl.fullscreen) {
        /* Follow the guest's mode, doubling the small ones. */
        int scale = (s->width <= 400 && s->height <= 300) ? 2 : 1;
        SDL_SetWindowSize(sdl.win, s->width * scale, s->height * scale);
    }
    SDL_RenderSetLogicalSize(sdl.ren, s->width, s->height);
}

static void fe_update(void *opaque, const DisplaySurface *s, int x, int y,
                      int w, int h)
{
    if (!sdl.tex)
        return;
    SDL_Rect r = { x, y, w, h };
    SDL_UpdateTexture(sdl.tex, &r,
                      (const uint8_t *)s->pixels + (size_t)y * s->pitch +
                      (size_t)x * 4, s->pitch);
    redraw();
}

static void handle_key(const SDL_KeyboardEvent *ev)
{
    SDL_Scancode sc = ev->keysym.scancode;
    bool down = ev->type == SDL_KEYDOWN;
    /* The emulated keyboard repeats held keys itself (typematic), as a
     * real one does; the host's auto-repeat would double it. */
    if (down && ev->repeat)
        return;
    /* Modifiers from our own record of held keys as well as SDL's: SDL's
     * modifier state is reset by the focus changes a grab causes. */
    SDL_Keymod mod = ev->keysym.mod;
    bool ctrl = (mod & KMOD_CTRL) || sdl.held[SDL_SCANCODE_LCTRL] ||
                sdl.held[SDL_SCANCODE_RCTRL];
    bool alt = (mod & KMOD_ALT) || sdl.held[SDL_SCANCODE_LALT] ||
               sdl.held[SDL_SCANCODE_RALT];
    if (down && ctrl && alt) {
        if (sc == SDL_SCANCODE_G) {
            set_grab(!sdl.grabbed);
            return;
        }
        if (sc == SDL_SCANCODE_F) {
            sdl.fullscreen = !sdl.fullscreen;
            SDL_SetWindowFullscreen(sdl.win, sdl.fullscreen ?
                                    SDL_WINDOW_FULLSCREEN_DESKTOP : 0);
            return;
        }
    }
    if ((unsigned)sc >= SDL_NUM_SCANCODES || !keymap[sc])
        return;
    if (!down && !sdl.held[sc])
        return;                   /* its press went to a hot key */
    if (keymap[sc] == CONSOLE_KEY_PAUSE) {
        /* Pause has no break code: send it once, on the press. */
        if (down)
            console_key(CONSOLE_KEY_PAUSE, true);
        return;
    }
    sdl.held[sc] = down;
    console_key(keymap[sc], down);
}

static int sdl_buttons(uint32_t state)
{
    return ((state & SDL_BUTTON_LMASK) ? 1 : 0) |
           ((state & SDL_BUTTON_RMASK) ? 2 : 0) |
           ((state & SDL_BUTTON_MMASK) ? 4 : 0);
}

static void fe_poll(void *opaque)
{
    SDL_Event ev;
    while (SDL_PollEvent(&ev)) {
        switch (ev.type) {
        case SDL_QUIT:
            console_request_quit();
            break;
        case SDL_KEYDOWN:
        case SDL_KEYUP:
            handle_key(&ev.key);
            break;
        case SDL_MOUSEMOTION:
            if (sdl.grabbed)
                console_mouse(ev.motion.xrel, ev.motion.yrel, 0,
                              sdl.buttons = sdl_buttons(ev.motion.state));
            break;
        case SDL_MOUSEBUTTONDOWN:
        case SDL_MOUSEBUTTONUP:
            if (!sdl.grabbed) {
                if (ev.type == SDL_MOUSEBUTTONDOWN &&
                    ev.button.button == SDL_BUTTON_LEFT)
                    set_grab(true);
                break;
            }
            {
                int bit = ev.button.button == SDL_BUTTON_LEFT ? 1
                        : ev.button.button == SDL_BUTTON_RIGHT ? 2
                        : ev.button.button == SDL_BUTTON_MIDDLE ? 4 : 0;
                if (ev.type == SDL_MOUSEBUTTONDOWN)
                    sdl.buttons |= bit;
                else
                    sdl.buttons &= ~bit;
            }
            console_mouse(0, 0, 0, sdl.buttons);
            break;
        case SDL_MOUSEWHEEL:
            if (sdl.grabbed) {
                /* SDL's y is positive away from the user; PS/2's dz is
                 * positive towards the user. */
                int dz = ev.wheel.y;
                if (ev.wheel.direction == SDL_MOUSEWHEEL_FLIPPED)
                    dz = -dz;
                console_mouse(0, 0, -dz, sdl.buttons);
            }
            break;
        case SDL_WINDOWEVENT:
            if (ev.window.event == SDL_WINDOWEVENT_FOCUS_LOST)
                release_all_keys();
            if (ev.window.event == SDL_WINDOWEVENT_EXPOSED ||
                ev.window.event == SDL_WINDOWEVENT_SIZE_CHANGED)
                redraw();
            break;
        default:
            break;
        }
    }
}

static void fe_set_state(void *opaque, const char *state)
{
    snprintf(sdl.state, sizeof(sdl.state), "%s", state);
    update_title();
}

static void fe_set_name(void *opaque, const char *name)
{
    snprintf(sdl.name, sizeof(sdl.name), "%s", name);
    update_title();
}

static void fe_destroy(void *opaque)
{
    if (sdl.tex)
        SDL_DestroyTexture(sdl.tex);
    if (sdl.ren)
        SDL_DestroyRenderer(sdl.ren);
    if (sdl.win)
        SDL_DestroyWindow(sdl.win);
    SDL_QuitSubSystem(SDL_INIT_VIDEO);
    memset(&sdl, 0, sizeof(sdl));
}

static const ConsoleFrontendOps sdl_ops = {
    .name = "sdl",
    .resize = fe_resize,
    .update = fe_update,
    .poll = fe_poll,
    .set_state = fe_set_state,
    .set_name = fe_set_name,
    .destroy = fe_destroy,
};

int sdl_frontend_init(char *err, size_t n)
{
    /* Keep SDL from installing its own signal handlers: Ctrl+C belongs to
     * the board. */
    SDL_SetHint(SDL_HINT_NO_SIGNAL_HANDLERS, "1");
    if (SDL_InitSubSystem(SDL_INIT_VIDEO) != 0) {
        snprintf(err, n, "-display sdl: cannot open a window: %s",
                 SDL_GetError());
        return -1;
    }
    sdl.win = SDL_CreateWindow("Kestrel", SDL_WINDOWPOS_UNDEFINED,
                               SDL_WINDOWPOS_UNDEFINED, 720, 400,
                               SDL_WINDOW_RESIZABLE);
    if (sdl.win)
        sdl.ren = SDL_CreateRenderer(sdl.win, -1, 0);
    if (!sdl.win || !sdl.ren) {
        snprintf(err, n, "-display sdl: cannot create a window: %s",
                 SDL_GetError());
        fe_destroy(NULL);
        return -1;
    }
    SDL_SetHint(SDL_HINT_RENDER_SCALE_QUALITY, "linear");
    SDL_SetRenderDrawColor(sdl.ren, 0, 0, 0, 255);
    redraw();
    console_register_frontend(&sdl_ops, &sdl);
    update_title();
    return 0;
}
#endif
