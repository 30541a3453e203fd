/* Intel 8042 keyboard controller (ports 0x60/0x64) with a PS/2 keyboard
 * on IRQ 1 and a PS/2 mouse on IRQ 12. The output port carries the A20
 * gate (bus_set_a20) and the CPU reset line (command 0xFE and friends ->
 * bus_request_reset).
 *
 * Input from the UI: keys as PS/2 scan code set 2 make codes; the keyboard
 * adds the break prefix and the controller translates to set 1 when its
 * command byte says so (bit 6, the default). */
#ifndef HW_KBC_H
#define HW_KBC_H
#include <stdbool.h>
#include <stdint.h>
#include "hw/bus.h"

typedef struct KBC KBC;

#define PS2_QUEUE_SIZE 256

typedef struct PS2Queue {
    uint8_t data[PS2_QUEUE_SIZE];
    int rptr, count;
} PS2Queue;

typedef struct KBCState {
    /* controller */
    uint8_t status;        /* port 0x64 read, bits other than OBF/AUX */
    uint8_t ram[32];       /* controller RAM; ram[0] is the command byte */
    uint8_t outport;       /* bit 0 reset (active low), bit 1 A20 */
    uint8_t pending_cmd;   /* controller command awaiting a data byte */
    uint8_t obf_data;      /* byte in the output buffer */
    uint8_t obf_source;    /* 0 empty, 1 keyboard, 2 aux, 3 controller */
    bool xlate_break;      /* translating: a set-2 0xF0 was swallowed */
    PS2Queue cq;           /* controller replies */
    /* keyboard */
    PS2Queue kq;
    uint8_t kbd_cmd;       /* keyboard command awaiting a parameter */
    bool kbd_scanning;
    uint8_t kbd_leds, kbd_scanset, kbd_typematic;
    uint8_t kbd_last;      /* last byte sent, for resend */
    uint32_t repeat_code;  /* key being repeated (set-2), 0 none */
    /* mouse */
    PS2Queue mq;
    uint8_t mouse_cmd;
    bool mouse_remote, mouse_enabled, mouse_wrap, mouse_scaling21;
    uint8_t mouse_rate, mouse_resolution, mouse_id, mouse_buttons;
    uint8_t rate_hist[3];  /* last sample rates, for the wheel unlock */
    int32_t mouse_dx, mouse_dy, mouse_dz;
} KBCState;

KBC *kbc_init(Bus *b);
void kbc_free(KBC *k);
/* A key press or release. code is a set-2 make code; extended keys carry
 * the 0xE0 prefix in the high byte (0xE075 is Up). Pause is 0xE11477. */
void kbc_key_event(KBC *k, uint32_t set2_code, bool down);
/* Raw bytes straight into the keyboard's output queue (set 2 bytes). */
void kbc_put_kbd_bytes(KBC *k, const uint8_t *bytes, int n);
/* Relative mouse motion: dx right, dy down (screen sense), dz > 0 wheel
 * towards the user; buttons bit 0 left, bit 1 right, bit 2 middle. */
void kbc_mouse_event(KBC *k, int dx, int dy, int dz, int buttons);
void kbc_reset(void *opaque);
#endif
