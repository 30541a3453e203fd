/* i8042 keyboard controller with a PS/2 keyboard and mouse (see hw/kbc.h).
 *
 * Bytes flow keyboard/mouse -> their queues -> the controller's single
 * output buffer (port 0x60), which raises IRQ 1 or 12 while full. The
 * controller moves the next byte in when the guest has read the last one,
 * translating keyboard bytes to scan code set 1 when command byte bit 6
 * asks for it. */
#include <stdlib.h>
#include <string.h>
#include "hw/kbc.h"
#include "system/event.h"

/* Status register (port 0x64) */
#define ST_OBF 0x01
#define ST_IBF 0x02
#define ST_SYS 0x04
#define ST_A2 0x08          /* last write was a command */
#define ST_UNLOCKED 0x10
#define ST_AUX_OBF 0x20
/* Command byte */
#define CB_KBD_INT 0x01
#define CB_AUX_INT 0x02
#define CB_SYS 0x04
#define CB_KBD_DISABLE 0x10
#define CB_AUX_DISABLE 0x20
#define CB_XLATE 0x40
/* Output port */
#define OP_RESET 0x01       /* active low: 0 holds the CPU in reset */
#define OP_A20 0x02
#define OP_KBD_OBF 0x10
#define OP_AUX_OBF 0x20

enum { SRC_NONE, SRC_KBD, SRC_AUX, SRC_CTRL };

#define PS2_ACK 0xFA
#define PS2_RESEND 0xFE
#define PS2_BAT_OK 0xAA

struct KBC {
    KBCState s;
    Bus *bus;
    Timer *repeat_timer;
    bool irq1, irq12;
    Device dev;
};

/* The 8042's set 2 -> set 1 translation for codes below 0x80, written out
 * key by key (set-2 code = set-1 code). Codes no key produces stay 0. */
static const uint8_t xlate[0x80] = {
    [0x76] = 0x01, [0x16] = 0x02, [0x1E] = 0x03, [0x26] = 0x04,
    [0x25] = 0x05, [0x2E] = 0x06, [0x36] = 0x07, [0x3D] = 0x08,
    [0x3E] = 0x09, [0x46] = 0x0A, [0x45] = 0x0B, [0x4E] = 0x0C,
    [0x55] = 0x0D, [0x66] = 0x0E, [0x0D] = 0x0F, [0x15] = 0x10,
    [0x1D] = 0x11, [0x24] = 0x12, [0x2D] = 0x13, [0x2C] = 0x14,
    [0x35] = 0x15, [0x3C] = 0x16, [0x43] = 0x17, [0x44] = 0x18,
    [0x4D] = 0x19, [0x54] = 0x1A, [0x5B] = 0x1B, [0x5A] = 0x1C,
    [0x14] = 0x1D, [0x1C] = 0x1E, [0x1B] = 0x1F, [0x23] = 0x20,
    [0x2B] = 0x21, [0x34] = 0x22, [0x33] = 0x23, [0x3B] = 0x24,
    [0x42] = 0x25, [0x4B] = 0x26, [0x4C] = 0x27, [0x52] = 0x28,
    [0x0E] = 0x29, [0x12] = 0x2A, [0x5D] = 0x2B, [0x1A] = 0x2C,
    [0x22] = 0x2D, [0x21] = 0x2E, [0x2A] = 0x2F, [0x32] = 0x30,
    [0x31] = 0x31, [0x3A] = 0x32, [0x41] = 0x33, [0x49] = 0x34,
    [0x4A] = 0x35, [0x59] = 0x36, [0x7C] = 0x37, [0x11] = 0x38,
    [0x29] = 0x39, [0x58] = 0x3A, [0x05] = 0x3B, [0x06] = 0x3C,
    [0x04] = 0x3D, [0x0C] = 0x3E, [0x03] = 0x3F, [0x0B] = 0x40,
    [0x0A] = 0x42, [0x01] = 0x43, [0x09] = 0x44, [0x77] = 0x45,
    [0x7E] = 0x46, [0x6C] = 0x47, [0x75] = 0x48, [0x7D] = 0x49,
    [0x7B] = 0x4A, [0x6B] = 0x4B, [0x73] = 0x4C, [0x74] = 0x4D,
    [0x79] = 0x4E, [0x69] = 0x4F, [0x72] = 0x50, [0x7A] = 0x51,
    [0x70] = 0x52, [0x71] = 0x53, [0x61] = 0x56, [0x78] = 0x57,
    [0x07] = 0x58,
    /* Windows and menu keys (after E0), and the Japanese keys. */
    [0x1F] = 0x5B, [0x27] = 0x5C, [0x2F] = 0x5D, [0x13] = 0x70,
    [0x51] = 0x73, [0x64] = 0x79, [0x67] = 0x7B, [0x6A] = 0x7D,
    /* Not a key: the scan-set reply "2" reads 0x41 when translated. */
    [0x02] = 0x41,
};

static uint8_t translate_byte(uint8_t b)
{
    if (b < 0x80)
        return xlate[b];
    if (b == 0x83)
        return 0x41;             /* F7: the one set-2 code above 0x7F */
    if (b == 0x84)
        return 0x54;             /* Alt+SysRq */
    return b;
}

/* ---------------- queues ---------------- */

static void q_put(PS2Queue *q, uint8_t b)
{
    if (q->count >= PS2_QUEUE_SIZE)
        return;                  /* overrun: the byte is lost */
    q->data[(q->rptr + q->count) % PS2_QUEUE_SIZE] = b;
    q->count++;
}

static int q_get(PS2Queue *q)
{
    if (q->count <= 0)
        return -1;
    uint8_t b = q->data[q->rptr];
    q->rptr = (q->rptr + 1) % PS2_QUEUE_SIZE;
    q->count--;
    return b;
}

static int q_free(const PS2Queue *q)
{
    return PS2_QUEUE_SIZE - q->count;
}

static void q_clear(PS2Queue *q)
{
    q->rptr = q->count = 0;
}

/* ---------------- controller output buffer ---------------- */

static void update_irq(KBC *k)
{
    uint8_t cb = k->s.ram[0];
    bool i1 = k->s.obf_source && k->s.obf_source != SRC_AUX &&
              (cb & CB_KBD_INT);
    bool i12 = k->s.obf_source == SRC_AUX && (cb & CB_AUX_INT);
    if (i1 != k->irq1) {
        k->irq1 = i1;
        bus_set_irq(k->bus, 1, i1);
    }
    if (i12 != k->irq12) {
        k->irq12 = i12;
        bus_set_irq(k->bus, 12, i12);
    }
}

static void mouse_send_packet(KBC *k);

/* Move the next byte into an empty output buffer. */
static void refill(KBC *k)
{
    KBCState *s = &k->s;
    while (!s->obf_source) {
        int b;
        if ((b = q_get(&s->cq)) >= 0) {
            s->obf_data = (uint8_t)b;
            s->obf_source = SRC_CTRL;
        } else if (!(s->ram[0] & CB_KBD_DISABLE) && s->kq.count) {
            b = q_get(&s->kq);
            if (s->ram[0] & CB_XLATE) {
                if (b == 0xF0) {
                    s->xlate_break = true;   /* folds into the next byte */
                    continue;
                }
                b = translate_byte((uint8_t)b);
                if (s->xlate_break) {
                    b |= 0x80;
                    s->xlate_break = false;
                }
            }
            s->obf_data = (uint8_t)b;
            s->obf_source = SRC_KBD;
        } else if (!(s->ram[0] & CB_AUX_DISABLE) && s->mq.count) {
            s->obf_data = (uint8_t)q_get(&s->mq);
            s->obf_source = SRC_AUX;
            if (!s->mq.count)
                mouse_send_packet(k);        /* leftover motion */
        } else {
            break;
        }
    }
    update_irq(k);
}

static void ctrl_reply(KBC *k, uint8_t b)
{
    q_put(&k->s.cq, b);
    refill(k);
}

/* Place a byte straight into the output buffer as if it came from a
 * device (commands 0xD2/0xD3), ahead of anything queued. */
static void inject(KBC *k, uint8_t b, int src)
{
    k->s.obf_data = b;
    k->s.obf_source = (uint8_t)src;
    update_irq(k);
}

/* ---------------- keyboard ---------------- */

static void kbd_put(KBC *k, uint8_t b)
{
    k->s.kbd_last = b;
    q_put(&k->s.kq, b);
}

static void kbd_defaults(KBC *k)
{
    k->s.kbd_scanset = 2;
    k->s.kbd_typematic = 0x2B;   /* 10.9 characters/s after 500 ms */
    k->s.repeat_code = 0;
    timer_del(k->repeat_timer);
}

static int64_t typematic_delay_ns(const KBC *k)
{
    return (int64_t)(((k->s.kbd_typematic >> 5) & 3) + 1) * 250000000LL;
}

static int64_t typematic_period_ns(const KBC *k)
{
    int rate = k->s.kbd_typematic & 0x1F;
    /* (8 + A) * 2^B * 4.17 ms, A = bits 0-2, B = bits 3-4 */
    return (int64_t)(8 + (rate & 7)) * (1 << ((rate >> 3) & 3)) * 4170000LL;
}

/* Emit a set-2 code (make or break) in the keyboard's current set. */
static void kbd_emit(KBC *k, uint32_t code, bool down)
{
    uint8_t bytes[4];
    int n = 0;
    if (code == 0xE11477) {
        /* Pause has no break code; its make includes the release. */
        if (!down)
            return;
        static const uint8_t pause2[] = { 0xE1, 0x14, 0x77, 0xE1, 0xF0,
                                          0x14, 0xF0, 0x77 };
        static const uint8_t pause1[] = { 0xE1, 0x1D, 0x45, 0xE1, 0x9D,
                                          0xC5 };
        if (k->s.kbd_scanset == 1)
            for (size_t i = 0; i < sizeof(pause1); i++)
                kbd_put(k, pause1[i]);
        else
            for (size_t i = 0; i < sizeof(pause2); i++)
                kbd_put(k, pause2[i]);
        return;
    }
    if (code > 0xFF)
        bytes[n++] = (uint8_t)(code >> 8);
    uint8_t base = (uint8_t)code;
    if (k->s.kbd_scanset == 1) {
        bytes[n++] = (uint8_t)(translate_byte(base) | (down ? 0 : 0x80));
    } else {
        if (!down)
            bytes[n++] = 0xF0;
        bytes[n++] = base;
    }
    if (q_free(&k->s.kq) < n)
        return;
    for (int i = 0; i < n; i++)
        kbd_put(k, bytes[i]);
}

static void repeat_tick(void *opaque)
{
    KBC *k = opaque;
    if (!k->s.repeat_code || !k->s.kbd_scanning)
        return;
    kbd_emit(k, k->s.repeat_code, true);
    refill(k);
    timer_mod(k->repeat_timer, clock_ns() + typematic_period_ns(k));
}

void kbc_key_event(KBC *k, uint32_t code, bool down)
{
    if (!k->s.kbd_scanning)
        return;
    if (down && code == k->s.repeat_code)
        return;                  /* host auto-repeat: we do our own */
    kbd_emit(k, code, down);
    if (down && code != 0xE11477) {
        k->s.repeat_code = code;
        timer_mod(k->repeat_timer, clock_ns() + typematic_delay_ns(k));
    } else if (!down && code == k->s.repeat_code) {
        k->s.repeat_code = 0;
        timer_del(k->repeat_timer);
    }
    refill(k);
}

void kbc_put_kbd_bytes(KBC *k, const uint8_t *bytes, int n)
{
    for (int i = 0; i < n; i++)
        kbd_put(k, bytes[i]);
    refill(k);
}

static void kbd_reset_device(KBC *k)
{
    kbd_defaults(k);
    k->s.kbd_scanning = true;
    k->s.kbd_leds = 0;
    k->s.kbd_cmd = 0;
}

/* A byte written to port 0x60 for the keyboard. */
static void kbd_write(KBC *k, uint8_t b)
{
    KBCState *s = &k->s;
    if (s->kbd_cmd) {
        uint8_t cmd = s->kbd_cmd;
        s->kbd_cmd = 0;
        switch (cmd) {
        case 0xED:
            s->kbd_leds = b & 7;
            kbd_put(k, PS2_ACK);
            return;
        case 0xF3:
            s->kbd_typematic = b & 0x7F;
            kbd_put(k, PS2_ACK);
            return;
        case 0xF0:
            kbd_put(k, PS2_ACK);
            if (b == 0)
                kbd_put(k, s->kbd_scanset);
            else if (b <= 3)
                s->kbd_scanset = b;
            return;
        }
    }
    switch (b) {
    case 0xED: case 0xF3: case 0xF0:
        s->kbd_cmd = b;
        kbd_put(k, PS2_ACK);
        break;
    case 0xEE:
        kbd_put(k, 0xEE);                     /* echo */
        break;
    case 0xF2:
        /* ACK then the MF2 keyboard ID (the controller translates the
         * 0x83 to 0x41 when translation is on, as Linux expects). */
        kbd_put(k, PS2_ACK);
        kbd_put(k, 0xAB);
        kbd_put(k, 0x83);
        break;
    case 0xF4:
        q_clear(&s->kq);
        s->kbd_scanning = true;
        kbd_put(k, PS2_ACK);
        break;
    case 0xF5:
        kbd_defaults(k);
        s->kbd_scanning = false;
        kbd_put(k, PS2_ACK);
        break;
    case 0xF6:
        kbd_defaults(k);
        kbd_put(k, PS2_ACK);
        break;
    case 0xF7: case 0xF8: case 0xF9: case 0xFA:
    case 0xFB: case 0xFC: case 0xFD:
        kbd_put(k, PS2_ACK);                  /* set-3 key types */
        break;
    case 0xFE:
        kbd_put(k, s->kbd_last);
        break;
    case 0xFF:
        q_clear(&s->kq);
        kbd_reset_device(k);
        kbd_put(k, PS2_ACK);
        kbd_put(k, PS2_BAT_OK);
        break;
    default:
        kbd_put(k, PS2_RESEND);
        break;
    }
}

/* ---------------- mouse ---------------- */

static void mouse_defaults(KBC *k)
{
    KBCState *s = &k->s;
    s->mouse_rate = 100;
    s->mouse_resolution = 2;
    s->mouse_scaling21 = false;
    s->mouse_enabled = false;
    s->mouse_remote = false;
    s->mouse_dx = s->mouse_dy = s->mouse_dz = 0;
}

static int scale21(int d)
{
    static const int t[6] = { 0, 1, 1, 3, 6, 9 };
    int a = d < 0 ? -d : d;
    int v = a < 6 ? t[a] : 2 * a;
    return d < 0 ? -v : v;
}

static int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Queue one packet from the accumulated motion (any left is sent after
 * this one has been read). */
static void mouse_packet(KBC *k, bool force)
{
    KBCState *s = &k->s;
    int need = s->mouse_id ? 4 : 3;
    if (q_free(&s->mq) < need)
        return;
    if (!force && !s->mouse_dx && !s->mouse_dy && !s->mouse_dz)
        return;
    int dx = clampi(s->mouse_dx, -256, 255);
    int dy = clampi(s->mouse_dy, -256, 255);
    int dz = clampi(s->mouse_dz, -8, 7);
    s->mouse_dx -= dx;
    s->mouse_dy -= dy;
    s->mouse_dz -= dz;
    if (s->mouse_scaling21 && !s->mouse_remote) {
        dx = clampi(scale21(dx), -256, 255);
        dy = clampi(scale21(dy), -256, 255);
    }
    uint8_t b0 = 0x08 | (s->mouse_buttons & 7);
    if (dx < 0)
        b0 |= 0x10;
    if (dy < 0)
        b0 |= 0x20;
    q_put(&s->mq, b0);
    q_put(&s->mq, (uint8_t)dx);
    q_put(&s->mq, (uint8_t)dy);
    if (s->mouse_id == 3)
        q_put(&s->mq, (uint8_t)dz);
    else if (s->mouse_id == 4)
        q_put(&s->mq, (uint8_t)((dz & 0x0F) | ((s->mouse_buttons & 0x18) << 1)));
}

static void mouse_send_packet(KBC *k)
{
    if (k->s.mouse_enabled && !k->s.mouse_remote)
        mouse_packet(k, false);
}

void kbc_mouse_event(KBC *k, int dx, int dy, int dz, int buttons)
{
    KBCState *s = &k->s;
    if (!s->mouse_enabled && !s->mouse_remote) {
        /* A stream-mode mouse with reporting off counts nothing. */
        s->mouse_buttons = (uint8_t)(buttons & 0x1F);
        return;
    }
    /* Keep accumulated motion bounded while the guest is not reading. */
    s->mouse_dx = clampi(s->mouse_dx + dx, -4096, 4096);
    s->mouse_dy = clampi(s->mouse_dy - dy, -4096, 4096);  /* PS/2: up */
    s->mouse_dz = clampi(s->mouse_dz + dz, -64, 64);
    bool changed = (buttons & 0x1F) != s->mouse_buttons;
    s->mouse_buttons = (uint8_t)(buttons & 0x1F);
    if (s->mouse_enabled && !s->mouse_remote && s->mq.count == 0)
        mouse_packet(k, changed);
    refill(k);
}

static void mouse_write(KBC *k, uint8_t b)
{
    KBCState *s = &k->s;
    if (s->mouse_wrap && b != 0xEC && b != 0xFF) {
        q_put(&s->mq, b);                      /* echo mode */
        return;
    }
    if (s->mouse_cmd) {
        uint8_t cmd = s->mouse_cmd;
        s->mouse_cmd = 0;
        if (cmd == 0xF3) {
            s->mouse_rate = b;
            s->rate_hist[0] = s->rate_hist[1];
            s->rate_hist[1] = s->rate_hist[2];
            s->rate_hist[2] = b;
            /* The IntelliMouse knocks: 200,100,80 unlocks the wheel,
             * then 200,200,80 the extra buttons. */
            if (s->rate_hist[0] == 200 && s->rate_hist[1] == 100 &&
                s->rate_hist[2] == 80 && s->mouse_id == 0)
                s->mouse_id = 3;
            else if (s->rate_hist[0] == 200 && s->rate_hist[1] == 200 &&
                     s->rate_hist[2] == 80 && s->mouse_id == 3)
                s->mouse_id = 4;
        } else if (cmd == 0xE8) {
            s->mouse_resolution = b & 3;
        }
        q_put(&s->mq, PS2_ACK);
        return;
    }
    switch (b) {
    case 0xE6:
        s->mouse_scaling21 = false;
        q_put(&s->mq, PS2_ACK);
        break;
    case 0xE7:
        s->mouse_scaling21 = true;
        q_put(&s->mq, PS2_ACK);
        break;
    case 0xE8: case 0xF3:
        s->mouse_cmd = b;
        q_put(&s->mq, PS2_ACK);
        break;
    case 0xE9: {
        q_put(&s->mq, PS2_ACK);
        uint8_t st = (uint8_t)((s->mouse_remote ? 0x40 : 0) |
                               (s->mouse_enabled ? 0x20 : 0) |
                               (s->mouse_scaling21 ? 0x10 : 0) |
                               ((s->mouse_buttons & 1) << 2) |
                               ((s->mouse_buttons & 4) >> 1) |
                               ((s->mouse_buttons & 2) >> 1));
        q_put(&s->mq, st);
        q_put(&s->mq, s->mouse_resolution);
        q_put(&s->mq, s->mouse_rate);
        break;
    }
    case 0xEA:
        s->mouse_remote = false;
        q_put(&s->mq, PS2_ACK);
        break;
    case 0xEB:
        q_put(&s->mq, PS2_ACK);
        mouse_packet(k, true);
        break;
    case 0xEC:
        s->mouse_wrap = false;
        q_put(&s->mq, PS2_ACK);
        break;
    case 0xEE:
        s->mouse_wrap = true;
        q_put(&s->mq, PS2_ACK);
        break;
    case 0xF0:
        s->mouse_remote = true;
        q_put(&s->mq, PS2_ACK);
        break;
    case 0xF2:
        q_put(&s->mq, PS2_ACK);
        q_put(&s->mq, s->mouse_id);
        break;
    case 0xF4:
        s->mouse_enabled = true;
        s->mouse_dx = s->mouse_dy = s->mouse_dz = 0;
        q_put(&s->mq, PS2_ACK);
        break;
    case 0xF5:
        s->mouse_enabled = false;
        q_put(&s->mq, PS2_ACK);
        break;
    case 0xF6:
        mouse_defaults(k);
        q_put(&s->mq, PS2_ACK);
        break;
    case 0xFF:
        q_clear(&s->mq);
        mouse_defaults(k);
        s->mouse_id = 0;
        s->mouse_wrap = false;
        q_put(&s->mq, PS2_ACK);
        q_put(&s->mq, PS2_BAT_OK);
        q_put(&s->mq, 0x00);                   /* device ID */
        break;
    default:
        q_put(&s->mq, PS2_RESEND);
        break;
    }
}

/* ---------------- controller ---------------- */

static void set_outport(KBC *k, uint8_t v)
{
    uint8_t old = k->s.outport;
    k->s.outport = v;
    if ((old ^ v) & OP_A20)
        bus_set_a20(k->bus, v & OP_A20);
    if (!(v & OP_RESET)) {
        /* Reset asserted: the CPU restarts; the line reads high again
         * once it is back out of reset. */
        k->s.outport |= OP_RESET;
        bus_request_reset(k->bus);
    }
}

static void ctrl_command(KBC *k, uint8_t cmd)
{
    KBCState *s = &k->s;
    if (cmd >= 0x20 && cmd <= 0x3F) {
        ctrl_reply(k, s->ram[cmd & 0x1F]);
        return;
    }
    if ((cmd >= 0x60 && cmd <= 0x7F) || cmd == 0xD1 || cmd == 0xD2 ||
        cmd == 0xD3 || cmd == 0xD4) {
        s->pending_cmd = cmd;                 /* data byte follows */
        return;
    }
    if (cmd >= 0xF0) {
        /* Pulse output port bits whose mask bit is 0; bit 0 is reset. */
        if (!(cmd & 1))
            bus_request_reset(k->bus);
        return;
    }
    switch (cmd) {
    case 0xA1:
        ctrl_reply(k, 0x00);                  /* firmware version */
        break;
    case 0xA4:
        ctrl_reply(k, 0xF1);                  /* no password installed */
        break;
    case 0xA7:
        s->ram[0] |= CB_AUX_DISABLE;
        break;
    case 0xA8:
        s->ram[0] &= (uint8_t)~CB_AUX_DISABLE;
        refill(k);
        break;
    case 0xA9:
    case 0xAB:
        ctrl_reply(k, 0x00);                  /* interface test passed */
        break;
    case 0xAA:
        s->status |= ST_SYS;
        ctrl_reply(k, 0x55);                  /* self test passed */
        break;
    case 0xAD:
        s->ram[0] |= CB_KBD_DISABLE;
        break;
    case 0xAE:
        s->ram[0] &= (uint8_t)~CB_KBD_DISABLE;
        refill(k);
        break;
    case 0xC0:
        ctrl_reply(k, 0x80);                  /* input port: not locked */
        break;
    case 0xD0: {
        uint8_t v = s->outport & (uint8_t)~(OP_KBD_OBF | OP_AUX_OBF);
        if (s->obf_source == SRC_AUX)
            v |= OP_AUX_OBF;
        else if (s->obf_source)
            v |= OP_KBD_OBF;
        ctrl_reply(k, v);
        break;
    }
    case 0xDD:
        set_outport(k, s->outport & (uint8_t)~OP_A20);
        break;
    case 0xDF:
        set_outport(k, s->outport | OP_A20);
        break;
    case 0xE0:
        ctrl_reply(k, 0x00);                  /* test inputs */
        break;
    default:
        break;                                /* ignored, as many do */
    }
}

static void ctrl_data(KBC *k, uint8_t b)
{
    KBCState *s = &k->s;
    uint8_t cmd = s->pending_cmd;
    s->pending_cmd = 0;
    if (cmd >= 0x60 && cmd <= 0x7F) {
        s->ram[cmd & 0x1F] = b;
        if (cmd == 0x60) {
            s->status = (uint8_t)((s->status & ~ST_SYS) | (b & CB_SYS));
            refill(k);
            update_irq(k);
        }
        return;
    }
    switch (cmd) {
    case 0xD1:
        set_outport(k, b);
        break;
    case 0xD2:
        inject(k, b, SRC_KBD);
        break;
    case 0xD3:
        inject(k, b, SRC_AUX);
        break;
    case 0xD4:
        mouse_write(k, b);
        refill(k);
        break;
    default:
        kbd_write(k, b);
        refill(k);
        break;
    }
}

static uint32_t kbc_pio_read(void *opaque, uint16_t port, int size)
{
    KBC *k = opaque;
    KBCState *s = &k->s;
    (void)size;
    if (port == 0x64) {
        uint8_t v = (uint8_t)(s->status | ST_UNLOCKED);
        if (s->obf_source)
            v |= ST_OBF;
        if (s->obf_source == SRC_AUX)
            v |= ST_AUX_OBF;
        return v;
    }
    /* Port 0x60: reading empties the buffer; an empty one still returns
     * the last byte, as the hardware latch does. */
    uint8_t v = s->obf_data;
    if (s->obf_source) {
        s->obf_source = SRC_NONE;
        /* The line drops with OBF before the next byte comes in, so an
         * edge-triggered PIC or I/O APIC sees every byte. */
        update_irq(k);
        refill(k);
    }
    return v;
}

static void kbc_pio_write(void *opaque, uint16_t port, uint32_t val, int size)
{
    KBC *k = opaque;
    (void)size;
    if (port == 0x64) {
        k->s.status |= ST_A2;
        k->s.pending_cmd = 0;
        ctrl_command(k, (uint8_t)val);
    } else {
        k->s.status &= (uint8_t)~ST_A2;
        ctrl_data(k, (uint8_t)val);
    }
}

void kbc_reset(void *opaque)
{
    KBC *k = opaque;
    KBCState *s = &k->s;
    memset(s, 0, sizeof(*s));
    /* Keyboard interrupt, translation, aux port off: the command byte
     * SeaBIOS leaves, so a directly booted kernel finds what it would
     * after the BIOS (the SYS status flag says the self test passed). */
    s->ram[0] = CB_KBD_INT | CB_AUX_DISABLE | CB_XLATE;
    s->status = ST_SYS;
    s->outport = OP_RESET | OP_A20;
    kbd_reset_device(k);
    mouse_defaults(k);
    timer_del(k->repeat_timer);
    update_irq(k);
}

static void kbc_post_load(void *opaque)
{
    KBC *k = opaque;
    KBCState *s = &k->s;
    /* Queue indexes come from the saved image: keep them in range. */
    PS2Queue *qs[3] = { &s->cq, &s->kq, &s->mq };
    for (int i = 0; i < 3; i++) {
        if (qs[i]->rptr < 0 || qs[i]->rptr >= PS2_QUEUE_SIZE ||
            qs[i]->count < 0 || qs[i]->count > PS2_QUEUE_SIZE)
            q_clear(qs[i]);
    }
    bool *flags[] = { &s->xlate_break, &s->kbd_scanning, &s->mouse_remote,
                      &s->mouse_enabled, &s->mouse_wrap, &s->mouse_scaling21 };
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
        state_fix_bool(flags[i]);
    s->mouse_dx = clampi(s->mouse_dx, -4096, 4096);
    s->mouse_dy = clampi(s->mouse_dy, -4096, 4096);
    s->mouse_dz = clampi(s->mouse_dz, -64, 64);
    k->irq1 = !k->irq1;
    k->irq12 = !k->irq12;
    update_irq(k);
    if (s->repeat_code)
        timer_mod(k->repeat_timer, clock_ns() + typematic_period_ns(k));
}

KBC *kbc_init(Bus *b)
{
    KBC *k = calloc(1, sizeof(*k));
    if (!k)
        abort();
    k->bus = b;
    k->repeat_timer = timer_new(repeat_tick, k);
    bus_pio_register(b, 0x60, 1, kbc_pio_read, kbc_pio_write, k, "i8042");
    bus_pio_register(b, 0x64, 1, kbc_pio_read, kbc_pio_write, k, "i8042");
    k->dev = (Device){ .name = "kbc", .opaque = k, .reset = kbc_reset,
                       .state = &k->s, .state_size = sizeof(k->s),
                       .post_load = kbc_post_load };
    bus_add_device(b, &k->dev);
    kbc_reset(k);
    return k;
}

void kbc_free(KBC *k)
{
    if (!k)
        return;
    timer_free(k->repeat_timer);
    bus_del_device(k->bus, &k->dev);
    free(k);
}
