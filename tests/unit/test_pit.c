/* 8254 PIT: counter modes, latch and read-back, access modes, BCD, gate 2
 * through port 0x61, and IRQ 0 edges on the virtual clock. Expected values
 * are from the Intel 8254 datasheet's mode descriptions. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "hw/bus.h"
#include "hw/pit.h"
#include "fake_clock.h"

static Bus bus;
static PIT *pit;
static int irq0_level, irq0_rises;

static void sink(void *opaque, int gsi, int level)
{
    (void)opaque;
    if (gsi != 0)
        return;
    if (level && !irq0_level)
        irq0_rises++;
    irq0_level = level;
}

static void outb(uint16_t port, uint8_t v) { bus_pio_write(&bus, port, v, 1); }
static uint8_t inb(uint16_t port) { return (uint8_t)bus_pio_read(&bus, port, 1); }

/* ns from now at which exactly `ticks` input clocks have passed since
 * the last load (loads happen at the current fake time). */
static int64_t at_ticks(int64_t load, int64_t ticks)
{
    return load + (int64_t)(((unsigned __int128)ticks * NS_PER_SEC +
                             PIT_FREQ - 1) / PIT_FREQ);
}

static int setup(void **state)
{
    (void)state;
    bus_init(&bus, 1 << 20);
    bus.irq_sink = sink;
    irq0_level = 0;
    irq0_rises = 0;
    pit = pit_init(&bus);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    pit_free(pit);
    bus_free(&bus);
    return 0;
}

static uint16_t latch_read(int ch)
{
    outb(0x43, (uint8_t)(ch << 6));          /* counter latch */
    uint8_t lo = inb((uint16_t)(0x40 + ch));
    uint8_t hi = inb((uint16_t)(0x40 + ch));
    return (uint16_t)(lo | hi << 8);
}

static uint8_t status(int ch)
{
    outb(0x43, (uint8_t)(0xE0 | (2 << ch)));  /* read-back status only */
    return inb((uint16_t)(0x40 + ch));
}

static void test_mode2_count_and_irq(void **state)
{
    (void)state;
    outb(0x43, 0x34);                        /* ch0, lsb/msb, mode 2 */
    outb(0x40, 1000 & 0xFF);
    outb(0x40, 1000 >> 8);
    int64_t load = fake_now;
    assert_int_equal(latch_read(0), 1000);
    fake_advance_to(at_ticks(load, 100));
    assert_int_equal(latch_read(0), 900);
    fake_advance_to(at_ticks(load, 998));
    assert_int_equal(latch_read(0), 2);
    assert_true(status(0) & 0x80);
    fake_advance_to(at_ticks(load, 999));    /* count 1: OUT low */
    assert_int_equal(latch_read(0), 1);
    assert_false(status(0) & 0x80);
    fake_advance_to(at_ticks(load, 1000));   /* reload, OUT high */
    assert_int_equal(latch_read(0), 1000);
    assert_true(status(0) & 0x80);
    /* One IRQ 0 edge per period: 10 ms periods over 100 ms. */
    outb(0x40, 11932 & 0xFF);
    outb(0x40, 11932 >> 8);
    load = fake_now;
    irq0_rises = 0;
    fake_advance_to(at_ticks(load, 11932 * 10) + 1000);
    assert_int_equal(irq0_rises, 10);
}

static void test_mode2_reload_at_cycle_end(void **state)
{
    (void)state;
    outb(0x43, 0x34);
    outb(0x40, 0xE8);
    outb(0x40, 0x03);                        /* 1000 */
    int64_t load = fake_now;
    fake_advance_to(at_ticks(load, 300));
    outb(0x40, 0xF4);
    outb(0x40, 0x01);                        /* 500, while running */
    assert_true(status(0) & 0x40);           /* null count until loaded */
    fake_advance_to(at_ticks(load, 700));
    assert_int_equal(latch_read(0), 300);    /* old cycle goes on */
    fake_advance_to(at_ticks(load, 1100));
    assert_int_equal(latch_read(0), 400);    /* new cycle of 500 */
    assert_false(status(0) & 0x40);
    irq0_rises = 0;
    fake_advance_to(at_ticks(load, 1000 + 500 * 4));
    assert_int_equal(irq0_rises, 4);
    /* A control word in between starts over at once instead. */
    outb(0x43, 0x34);
    outb(0x40, 100);
    outb(0x40, 0);
    load = fake_now;
    fake_advance_to(at_ticks(load, 10));
    assert_int_equal(latch_read(0), 90);
}

static void test_mode0_terminal_count(void **state)
{
    (void)state;
    outb(0x43, 0x30);                        /* ch0 mode 0 */
    assert_false(status(0) & 0x80);          /* OUT low after the mode */
    assert_true(status(0) & 0x40);           /* null count */
    outb(0x40, 0x00);
    outb(0x40, 0x01);                        /* 256 */
    int64_t load = fake_now;
    assert_false(status(0) & 0x40);
    irq0_rises = 0;
    fake_advance_to(at_ticks(load, 255));
    assert_false(status(0) & 0x80);
    assert_int_equal(irq0_rises, 0);
    fake_advance_to(at_ticks(load, 256));
    assert_true(status(0) & 0x80);
    assert_int_equal(irq0_rises, 1);
    /* The count wraps and keeps going; OUT stays high, no more IRQs. */
    fake_advance_to(at_ticks(load, 256 + 0x10000 + 10));
    assert_int_equal(latch_read(0), 0x10000 - 10);
    assert_true(status(0) & 0x80);
    assert_int_equal(irq0_rises, 1);
    /* Writing the first byte of a new count drops OUT. */
    outb(0x40, 0x10);
    assert_false(status(0) & 0x80);
    assert_int_equal(irq0_level, 0);
}

static void test_mode3_square_wave(void **state)
{
    (void)state;
    outb(0x43, 0x36);                        /* ch0 mode 3 */
    outb(0x40, 0xE8);
    outb(0x40, 0x03);                        /* 1000 */
    int64_t load = fake_now;
    fake_advance_to(at_ticks(load, 250));
    assert_true(status(0) & 0x80);
    assert_int_equal(latch_read(0), 500);    /* counts by two */
    fake_advance_to(at_ticks(load, 750));
    assert_false(status(0) & 0x80);
    fake_advance_to(at_ticks(load, 1001));
    assert_true(status(0) & 0x80);
}

static void test_latch_holds(void **state)
{
    (void)state;
    outb(0x43, 0x74);                        /* ch1 mode 2 */
    outb(0x41, 0x00);
    outb(0x41, 0x10);                        /* 4096 */
    int64_t load = fake_now;
    fake_advance_to(at_ticks(load, 96));
    outb(0x43, 0x40);                        /* latch ch1 */
    fake_advance_to(at_ticks(load, 500));
    outb(0x43, 0x40);                        /* ignored: already latched */
    assert_int_equal(inb(0x41), 0xA0);       /* 4096 - 96 = 0x0FA0 */
    assert_int_equal(inb(0x41), 0x0F);
    assert_int_equal(latch_read(1), 4096 - 500);
}

static void test_readback(void **state)
{
    (void)state;
    outb(0x43, 0xB4);                        /* ch2, lsb/msb, mode 2 */
    /* Status: OUT, NULL COUNT, then the control word's low six bits. */
    assert_int_equal(status(2) & 0x7F, 0x40 | 0x34);
    outb(0x42, 100);
    outb(0x42, 0);
    /* Count and status together: status first, then the count. */
    outb(0x43, 0xC8);                        /* read-back ch2 both */
    assert_int_equal(inb(0x42) & 0x3F, 0x34);
    assert_int_equal(inb(0x42), 100);        /* gate off: held */
    assert_int_equal(inb(0x42), 0);
}

static void test_mode_alias_readback(void **state)
{
    (void)state;
    /* Mode bits 111 act as mode 3 but read back as written. */
    outb(0x43, 0x7E);
    assert_int_equal(status(1) & 0x3F, 0x3E);
    outb(0x41, 0xE8);
    outb(0x41, 0x03);                        /* 1000 */
    int64_t load = fake_now;
    fake_advance_to(at_ticks(load, 250));
    assert_int_equal(latch_read(1), 500);    /* square wave counts by 2 */
    fake_advance_to(at_ticks(load, 750));
    assert_false(status(1) & 0x80);
}

static void test_access_modes(void **state)
{
    (void)state;
    outb(0x43, 0x50);                        /* ch1, lsb only, mode 0 */
    outb(0x41, 0x80);
    assert_int_equal(inb(0x41), 0x80);
    outb(0x43, 0x60);                        /* ch1, msb only, mode 0 */
    outb(0x41, 0x02);
    assert_int_equal(inb(0x41), 0x02);       /* 0x0200, msb read */
    outb(0x43, 0x40);
    assert_int_equal(inb(0x41), 0x02);
}

static void test_bcd(void **state)
{
    (void)state;
    outb(0x43, 0x31);                        /* ch0 mode 0 BCD */
    outb(0x40, 0x00);
    outb(0x40, 0x10);                        /* 1000 decimal */
    int64_t load = fake_now;
    fake_advance_to(at_ticks(load, 1));
    assert_int_equal(latch_read(0), 0x0999);
    fake_advance_to(at_ticks(load, 1000));
    assert_true(status(0) & 0x80);
    fake_advance_to(at_ticks(load, 1001));
    assert_int_equal(latch_read(0), 0x9999); /* wraps in decimal */
}

static void test_gate2_port61(void **state)
{
    (void)state;
    outb(0x61, 0x00);
    outb(0x43, 0xB0);                        /* ch2 mode 0 */
    outb(0x42, 100);
    outb(0x42, 0);
    int64_t t0 = fake_now;
    fake_advance_to(at_ticks(t0, 500));
    assert_int_equal(latch_read(2), 100);    /* gate low: no counting */
    assert_int_equal(inb(0x61) & 0x20, 0);
    outb(0x61, 0x01);                        /* gate on, speaker off */
    int64_t t1 = fake_now;
    fake_advance_to(at_ticks(t1, 99));
    assert_int_equal(inb(0x61) & 0x20, 0);
    assert_int_equal(inb(0x61) & 0x0F, 0x01);
    fake_advance_to(at_ticks(t1, 100));
    assert_int_equal(inb(0x61) & 0x20, 0x20);
}

static void test_mode1_one_shot(void **state)
{
    (void)state;
    outb(0x43, 0xB2);                        /* ch2 mode 1 */
    outb(0x42, 50);
    outb(0x42, 0);
    assert_true(status(2) & 0x80);           /* high until triggered */
    assert_true(status(2) & 0x40);           /* not loaded yet */
    outb(0x61, 0x01);                        /* gate rising edge */
    int64_t t = fake_now;
    assert_false(status(2) & 0x80);
    fake_advance_to(at_ticks(t, 49));
    assert_false(status(2) & 0x80);
    fake_advance_to(at_ticks(t, 50));
    assert_true(status(2) & 0x80);
    /* Retrigger restarts the one-shot. */
    outb(0x61, 0x00);
    outb(0x61, 0x01);
    assert_false(status(2) & 0x80);
}

static void test_mode4_strobe(void **state)
{
    (void)state;
    outb(0x43, 0x38);                        /* ch0 mode 4 */
    outb(0x40, 20);
    outb(0x40, 0);
    int64_t t = fake_now;
    irq0_rises = 0;
    fake_advance_to(at_ticks(t, 19));
    assert_true(status(0) & 0x80);
    fake_advance_to(at_ticks(t, 20));
    assert_false(status(0) & 0x80);          /* one clock low */
    fake_advance_to(at_ticks(t, 21));
    assert_true(status(0) & 0x80);
    assert_int_equal(irq0_rises, 1);
    fake_advance_to(at_ticks(t, 2000));
    assert_int_equal(irq0_rises, 1);
}

static void test_mode5_hw_strobe(void **state)
{
    (void)state;
    outb(0x43, 0xBA);                        /* ch2 mode 5 */
    outb(0x42, 10);
    outb(0x42, 0);
    fake_advance(1000000);
    assert_true(status(2) & 0x80);
    outb(0x61, 0x01);
    int64_t t = fake_now;
    fake_advance_to(at_ticks(t, 10));
    assert_false(status(2) & 0x80);
    fake_advance_to(at_ticks(t, 11));
    assert_true(status(2) & 0x80);
}

static void test_refresh_toggle(void **state)
{
    (void)state;
    uint8_t a = inb(0x61) & 0x10;
    fake_advance(15085);
    uint8_t b = inb(0x61) & 0x10;
    assert_int_not_equal(a, b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mode2_count_and_irq, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mode2_reload_at_cycle_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mode0_terminal_count, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mode3_square_wave, setup, teardown),
        cmocka_unit_test_setup_teardown(test_latch_holds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_readback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mode_alias_readback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_access_modes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bcd, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gate2_port61, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mode1_one_shot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mode4_strobe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mode5_hw_strobe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refresh_toggle, setup, teardown),
    };
    return cmocka_run_group_tests_name("pit", tests, NULL, NULL);
}
