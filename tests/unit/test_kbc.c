/* i8042 controller, PS/2 keyboard and mouse: controller commands, the
 * command byte, output port (A20, reset), set 2 -> set 1 translation
 * (checked against Linux's KEY_* numbers, which are the set-1 codes),
 * keyboard commands and typematic repeat, mouse packets, remote and wrap
 * modes and the IntelliMouse wheel knock. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <linux/input-event-codes.h>
#include "hw/bus.h"
#include "hw/kbc.h"
#include "fake_clock.h"

static Bus bus;
static KBC *kbc;
static int irq1, irq12, resets, irq1_edges, irq12_edges;

static void sink(void *opaque, int gsi, int level)
{
    (void)opaque;
    if (gsi == 1) {
        irq1_edges += level && !irq1;
        irq1 = level;
    }
    if (gsi == 12) {
        irq12_edges += level && !irq12;
        irq12 = level;
    }
}
static void on_reset(void *o) { (void)o; resets++; }

static void outb(uint16_t port, uint8_t v) { bus_pio_write(&bus, port, v, 1); }
static uint8_t inb(uint16_t port) { return (uint8_t)bus_pio_read(&bus, port, 1); }

static int setup(void **state)
{
    (void)state;
    bus_init(&bus, 1 << 20);
    bus.irq_sink = sink;
    bus.on_reset = on_reset;
    irq1 = irq12 = resets = 0;
    kbc = kbc_init(&bus);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    kbc_free(kbc);
    bus_free(&bus);
    return 0;
}

/* Next byte from the output buffer, or -1 when empty. */
static int rd(void)
{
    if (!(inb(0x64) & 1))
        return -1;
    return inb(0x60);
}

static void expect(const int *bytes, int n)
{
    for (int i = 0; i < n; i++)
        assert_int_equal(rd(), bytes[i]);
    assert_int_equal(rd(), -1);
}
#define EXPECT(...) do { static const int e_[] = { __VA_ARGS__ }; \
    expect(e_, (int)(sizeof(e_) / sizeof(e_[0]))); } while (0)

static void set_cb(uint8_t v) { outb(0x64, 0x60); outb(0x60, v); }
static void aux(uint8_t v) { outb(0x64, 0xD4); outb(0x60, v); }

static void test_controller_basics(void **state)
{
    (void)state;
    assert_int_equal(inb(0x64) & 1, 0);
    outb(0x64, 0xAA);
    assert_int_equal(inb(0x64) & 0x0D, 0x0D);   /* OBF, SYS, A2 */
    EXPECT(0x55);
    outb(0x64, 0xAB);
    EXPECT(0x00);
    outb(0x64, 0xA9);
    EXPECT(0x00);
    outb(0x64, 0x20);
    EXPECT(0x61);                               /* as SeaBIOS leaves it */
    set_cb(0x61);
    assert_int_equal(inb(0x64) & 0x08, 0);      /* last write was data */
    outb(0x64, 0x20);
    EXPECT(0x61);
    /* Controller RAM beyond the command byte. */
    outb(0x64, 0x65); outb(0x60, 0x3C);
    outb(0x64, 0x25);
    EXPECT(0x3C);
}

static void test_outport_a20_reset(void **state)
{
    (void)state;
    outb(0x64, 0xD0);
    EXPECT(0x03);
    outb(0x64, 0xD1); outb(0x60, 0x01);         /* A20 off */
    assert_int_equal(bus.a20_mask, 0xFFEFFFFFu);
    outb(0x64, 0xDF);
    assert_int_equal(bus.a20_mask, 0xFFFFFFFFu);
    outb(0x64, 0xDD);
    assert_int_equal(bus.a20_mask, 0xFFEFFFFFu);
    outb(0x64, 0xD1); outb(0x60, 0x03);
    assert_int_equal(bus.a20_mask, 0xFFFFFFFFu);
    assert_int_equal(resets, 0);
    outb(0x64, 0xFE);                           /* pulse reset */
    assert_int_equal(resets, 1);
    outb(0x64, 0xFF);                           /* pulse nothing */
    assert_int_equal(resets, 1);
    outb(0x64, 0xD1); outb(0x60, 0x02);         /* reset line low */
    assert_int_equal(resets, 2);
}

static void test_keyboard_commands(void **state)
{
    (void)state;
    outb(0x60, 0xFF);
    EXPECT(0xFA, 0xAA);
    outb(0x60, 0xF2);
    EXPECT(0xFA, 0xAB, 0x41);                   /* translated ID */
    set_cb(0x01);                               /* translation off */
    outb(0x60, 0xF2);
    EXPECT(0xFA, 0xAB, 0x83);
    outb(0x60, 0xF0); outb(0x60, 0x00);
    EXPECT(0xFA, 0xFA, 0x02);
    set_cb(0x41);
    outb(0x60, 0xF0); outb(0x60, 0x00);
    EXPECT(0xFA, 0xFA, 0x41);                   /* "2" as translated */
    outb(0x60, 0xED); outb(0x60, 0x07);
    EXPECT(0xFA, 0xFA);
    outb(0x60, 0xEE);
    EXPECT(0xEE);
    outb(0x60, 0xF3); outb(0x60, 0x00);
    EXPECT(0xFA, 0xFA);
    outb(0x60, 0x77);                           /* not a command */
    EXPECT(0xFE);
}

static void test_irq1(void **state)
{
    (void)state;
    set_cb(0x44);                               /* no kbd interrupt */
    kbc_key_event(kbc, 0x1C, true);
    assert_int_equal(irq1, 0);
    assert_int_equal(inb(0x64) & 1, 1);
    set_cb(0x45);
    assert_int_equal(irq1, 1);
    assert_int_equal(inb(0x60), 0x1E);
    assert_int_equal(irq1, 0);
    kbc_key_event(kbc, 0x1C, false);
    assert_int_equal(irq1, 1);
    assert_int_equal(inb(0x60), 0x9E);
    assert_int_equal(irq1, 0);
}

static void test_translation_vs_linux(void **state)
{
    (void)state;
    static const struct { uint8_t set2; int key; } keys[] = {
        { 0x76, KEY_ESC }, { 0x16, KEY_1 }, { 0x45, KEY_0 },
        { 0x4E, KEY_MINUS }, { 0x55, KEY_EQUAL }, { 0x66, KEY_BACKSPACE },
        { 0x0D, KEY_TAB }, { 0x15, KEY_Q }, { 0x4D, KEY_P },
        { 0x54, KEY_LEFTBRACE }, { 0x5B, KEY_RIGHTBRACE },
        { 0x5A, KEY_ENTER }, { 0x14, KEY_LEFTCTRL }, { 0x1C, KEY_A },
        { 0x4C, KEY_SEMICOLON }, { 0x52, KEY_APOSTROPHE },
        { 0x0E, KEY_GRAVE }, { 0x12, KEY_LEFTSHIFT },
        { 0x5D, KEY_BACKSLASH }, { 0x1A, KEY_Z }, { 0x3A, KEY_M },
        { 0x41, KEY_COMMA }, { 0x49, KEY_DOT }, { 0x4A, KEY_SLASH },
        { 0x59, KEY_RIGHTSHIFT }, { 0x7C, KEY_KPASTERISK },
        { 0x11, KEY_LEFTALT }, { 0x29, KEY_SPACE }, { 0x58, KEY_CAPSLOCK },
        { 0x05, KEY_F1 }, { 0x06, KEY_F2 }, { 0x04, KEY_F3 },
        { 0x0C, KEY_F4 }, { 0x03, KEY_F5 }, { 0x0B, KEY_F6 },
        { 0x83, KEY_F7 }, { 0x0A, KEY_F8 }, { 0x01, KEY_F9 },
        { 0x09, KEY_F10 }, { 0x77, KEY_NUMLOCK }, { 0x7E, KEY_SCROLLLOCK },
        { 0x6C, KEY_KP7 }, { 0x75, KEY_KP8 }, { 0x7D, KEY_KP9 },
        { 0x7B, KEY_KPMINUS }, { 0x6B, KEY_KP4 }, { 0x73, KEY_KP5 },
        { 0x74, KEY_KP6 }, { 0x79, KEY_KPPLUS }, { 0x69, KEY_KP1 },
        { 0x72, KEY_KP2 }, { 0x7A, KEY_KP3 }, { 0x70, KEY_KP0 },
        { 0x71, KEY_KPDOT }, { 0x61, KEY_102ND }, { 0x78, KEY_F11 },
        { 0x07, KEY_F12 },
    };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        kbc_key_event(kbc, keys[i].set2, true);
        kbc_key_event(kbc, keys[i].set2, false);
        assert_int_equal(rd(), keys[i].key);
        assert_int_equal(rd(), keys[i].key | 0x80);
        assert_int_equal(rd(), -1);
    }
}

static void test_irq_edge_per_byte(void **state)
{
    (void)state;
    /* Each byte must give a fresh rising edge: the PIC and I/O APIC see
     * IRQ 1 and 12 as edge-triggered. */
    set_cb(0x47);
    outb(0x64, 0xA8);
    irq1_edges = 0;
    outb(0x60, 0xF2);                           /* FA AB 41 */
    assert_int_equal(irq1_edges, 1);
    assert_int_equal(inb(0x60), 0xFA);
    assert_int_equal(irq1_edges, 2);
    assert_int_equal(inb(0x60), 0xAB);
    assert_int_equal(irq1_edges, 3);
    assert_int_equal(inb(0x60), 0x41);
    assert_int_equal(irq1, 0);
    irq12_edges = 0;
    aux(0xFF);                                  /* FA AA 00 */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(irq12_edges, i + 1);
        inb(0x60);
    }
    assert_int_equal(irq12, 0);
}

static void test_extended_and_pause(void **state)
{
    (void)state;
    kbc_key_event(kbc, 0xE075, true);           /* Up */
    kbc_key_event(kbc, 0xE075, false);
    EXPECT(0xE0, 0x48, 0xE0, 0xC8);
    kbc_key_event(kbc, 0xE11477, true);
    kbc_key_event(kbc, 0xE11477, false);        /* Pause: no break */
    EXPECT(0xE1, 0x1D, 0x45, 0xE1, 0x9D, 0xC5);
    set_cb(0x05);                               /* raw set 2 */
    kbc_key_event(kbc, 0xE01F, true);           /* left Windows */
    kbc_key_event(kbc, 0xE01F, false);
    EXPECT(0xE0, 0x1F, 0xE0, 0xF0, 0x1F);
    /* The keyboard in set 1 itself, no controller translation. */
    outb(0x60, 0xF0); outb(0x60, 0x01);
    EXPECT(0xFA, 0xFA);
    kbc_key_event(kbc, 0x1C, true);
    kbc_key_event(kbc, 0x1C, false);
    EXPECT(0x1E, 0x9E);
}

static void test_typematic(void **state)
{
    (void)state;
    kbc_key_event(kbc, 0x1C, true);
    EXPECT(0x1E);
    fake_advance(499000000LL);

    assert_int_equal(rd(), -1);
    fake_advance(2000000LL);                    /* 500 ms delay */
    EXPECT(0x1E);
    fake_advance(91760000LL);                   /* 10.9 cps: 91.7 ms */
    EXPECT(0x1E);
    kbc_key_event(kbc, 0x1C, true);             /* host repeat: ignored */
    assert_int_equal(rd(), -1);
    kbc_key_event(kbc, 0x1C, false);
    EXPECT(0x9E);
    fake_advance(1000000000LL);
    assert_int_equal(rd(), -1);
    /* Fastest rate, shortest delay: 30 cps after 250 ms. */
    outb(0x60, 0xF3); outb(0x60, 0x00);
    EXPECT(0xFA, 0xFA);
    kbc_key_event(kbc, 0x29, true);
    EXPECT(0x39);
    fake_advance(250000000LL + 33360000LL * 3);
    EXPECT(0x39, 0x39, 0x39, 0x39);
    kbc_key_event(kbc, 0x29, false);
    EXPECT(0xB9);
}

static void test_disable_interface(void **state)
{
    (void)state;
    outb(0x64, 0xAD);
    kbc_key_event(kbc, 0x1C, true);
    assert_int_equal(rd(), -1);
    outb(0x64, 0xAE);
    EXPECT(0x1E);
    /* Scanning disabled by the keyboard command: keys are dropped. */
    outb(0x60, 0xF5);
    EXPECT(0xFA);
    kbc_key_event(kbc, 0x1B, true);
    assert_int_equal(rd(), -1);
    outb(0x60, 0xF4);
    EXPECT(0xFA);
    kbc_key_event(kbc, 0x1B, true);
    EXPECT(0x1F);
}

static void test_inject(void **state)
{
    (void)state;
    set_cb(0x47);
    outb(0x64, 0xD2); outb(0x60, 0x12);
    assert_int_equal(irq1, 1);
    EXPECT(0x12);
    outb(0x64, 0xD3); outb(0x60, 0x34);
    assert_int_equal(inb(0x64) & 0x21, 0x21);   /* AUX data */
    assert_int_equal(irq12, 1);
    EXPECT(0x34);
    assert_int_equal(irq12, 0);
}

static void test_mouse_stream(void **state)
{
    (void)state;
    set_cb(0x47);
    outb(0x64, 0xA8);
    aux(0xFF);
    EXPECT(0xFA, 0xAA, 0x00);
    aux(0xF2);
    EXPECT(0xFA, 0x00);
    kbc_mouse_event(kbc, 5, 5, 0, 0);           /* not enabled yet */
    assert_int_equal(rd(), -1);
    aux(0xF4);
    assert_int_equal(irq12, 1);
    EXPECT(0xFA);
    kbc_mouse_event(kbc, 5, -3, 0, 1);          /* right 5, up 3, left */
    EXPECT(0x09, 0x05, 0x03);
    kbc_mouse_event(kbc, -5, 2, 0, 2);          /* left 5, down 2, right */
    EXPECT(0x3A, 0xFB, 0xFE);
    /* Large motion is split into packets of at most 255. */
    kbc_mouse_event(kbc, 300, 0, 0, 0);
    EXPECT(0x08, 0xFF, 0x00, 0x08, 45, 0x00);
    /* Disabled aux interface holds the data back. */
    outb(0x64, 0xA7);
    kbc_mouse_event(kbc, 1, 0, 0, 0);
    assert_int_equal(rd(), -1);
    outb(0x64, 0xA8);
    EXPECT(0x08, 0x01, 0x00);
}

static void test_mouse_status_and_modes(void **state)
{
    (void)state;
    outb(0x64, 0xA8);
    aux(0xE8); aux(0x03);                       /* 8 counts/mm */
    aux(0xF3); aux(40);
    aux(0xE7);                                  /* scaling 2:1 */
    aux(0xF4);
    EXPECT(0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA);
    kbc_mouse_event(kbc, 0, 0, 0, 1);
    EXPECT(0x09, 0x00, 0x00);
    aux(0xE9);
    EXPECT(0xFA, 0x34, 0x03, 40);               /* enabled, 2:1, left */
    kbc_mouse_event(kbc, 3, 0, 0, 1);
    EXPECT(0x09, 0x03, 0x00);                   /* 2:1 maps 3 -> 3 */
    kbc_mouse_event(kbc, 4, 0, 0, 1);
    EXPECT(0x09, 0x06, 0x00);                   /* 4 -> 6 */
    aux(0xE6);
    EXPECT(0xFA);
    /* Remote mode: nothing until Read Data. */
    aux(0xF0);
    EXPECT(0xFA);
    kbc_mouse_event(kbc, 7, 0, 0, 0);
    assert_int_equal(rd(), -1);
    aux(0xEB);
    EXPECT(0xFA, 0x08, 0x07, 0x00);
    aux(0xE9);
    EXPECT(0xFA, 0x60, 0x03, 40);
    /* Wrap mode echoes. */
    aux(0xEE);
    aux(0x42);
    aux(0xEC);
    EXPECT(0xFA, 0x42, 0xFA);
}

static void test_intellimouse(void **state)
{
    (void)state;
    outb(0x64, 0xA8);
    aux(0xF3); aux(200); aux(0xF3); aux(100); aux(0xF3); aux(80);
    aux(0xF2);
    EXPECT(0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0x03);
    aux(0xF4);
    EXPECT(0xFA);
    kbc_mouse_event(kbc, 0, 0, 1, 0);           /* wheel towards user */
    EXPECT(0x08, 0x00, 0x00, 0x01);
    kbc_mouse_event(kbc, 0, 0, -2, 0);
    EXPECT(0x08, 0x00, 0x00, 0xFE);
    /* Then the five-button knock. */
    aux(0xF3); aux(200); aux(0xF3); aux(200); aux(0xF3); aux(80);
    aux(0xF2);
    EXPECT(0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0x04);
    kbc_mouse_event(kbc, 0, 0, -1, 0x08);       /* button 4 */
    EXPECT(0x08, 0x00, 0x00, 0x1F);
    aux(0xFF);
    EXPECT(0xFA, 0xAA, 0x00);
    aux(0xF2);
    EXPECT(0xFA, 0x00);                         /* reset drops the wheel */
}

static void test_reset_state(void **state)
{
    (void)state;
    set_cb(0x00);
    kbc_put_kbd_bytes(kbc, (const uint8_t[]){ 1, 2 }, 2);
    bus_reset_devices(&bus);
    assert_int_equal(rd(), -1);
    outb(0x64, 0x20);
    EXPECT(0x61);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_controller_basics, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outport_a20_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keyboard_commands, setup, teardown),
        cmocka_unit_test_setup_teardown(test_irq1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_translation_vs_linux, setup, teardown),
        cmocka_unit_test_setup_teardown(test_irq_edge_per_byte, setup, teardown),
        cmocka_unit_test_setup_teardown(test_extended_and_pause, setup, teardown),
        cmocka_unit_test_setup_teardown(test_typematic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disable_interface, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inject, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mouse_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mouse_status_and_modes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_intellimouse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_state, setup, teardown),
    };
    return cmocka_run_group_tests_name("kbc", tests, NULL, NULL);
}
