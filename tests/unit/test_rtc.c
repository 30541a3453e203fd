/* MC146818 RTC/CMOS: time registers in BCD/binary and 12/24 h, calendar
 * rollover (checked against the C library's calendar), SET, registers
 * A-D, periodic/update/alarm interrupts on IRQ 8, the NMI mask bit and the
 * CMOS memory-size bytes SeaBIOS reads. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include "hw/bus.h"
#include "hw/rtc.h"
#include "fake_clock.h"

static Bus bus;
static RTC *rtc;
static int irq8_level, irq8_rises;

static void sink(void *opaque, int gsi, int level)
{
    (void)opaque;
    if (gsi != 8)
        return;
    if (level && !irq8_level)
        irq8_rises++;
    irq8_level = level;
}

static uint8_t cmos(uint8_t idx)
{
    bus_pio_write(&bus, 0x70, idx, 1);
    return (uint8_t)bus_pio_read(&bus, 0x71, 1);
}

static void cmos_w(uint8_t idx, uint8_t v)
{
    bus_pio_write(&bus, 0x70, idx, 1);
    bus_pio_write(&bus, 0x71, v, 1);
}

static void start(const char *base)
{
    bus_init(&bus, 1 << 20);
    bus.irq_sink = sink;
    irq8_level = irq8_rises = 0;
    char err[128];
    rtc = rtc_init(&bus, base, err, sizeof(err));
    assert_non_null(rtc);
}

static int teardown(void **state)
{
    (void)state;
    rtc_free(rtc);
    bus_free(&bus);
    return 0;
}

/* Reference: the C library's own breakdown of a UTC time. */
static void expect_time(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    int bcd = !(cmos(0x0B) & 4);
#define V(x) (bcd ? (((x) / 10) << 4 | ((x) % 10)) : (x))
    assert_int_equal(cmos(0x00), V(tm.tm_sec));
    assert_int_equal(cmos(0x02), V(tm.tm_min));
    assert_int_equal(cmos(0x04), V(tm.tm_hour));
    assert_int_equal(cmos(0x06), V(tm.tm_wday + 1));
    assert_int_equal(cmos(0x07), V(tm.tm_mday));
    assert_int_equal(cmos(0x08), V(tm.tm_mon + 1));
    assert_int_equal(cmos(0x09), V(tm.tm_year % 100));
    assert_int_equal(cmos(0x32), V((tm.tm_year + 1900) / 100));
#undef V
}

static int64_t utc(int y, int mo, int d, int h, int mi, int s)
{
    struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
                     .tm_hour = h, .tm_min = mi, .tm_sec = s };
    return (int64_t)timegm(&tm);
}

static void test_fixed_base_bcd(void **state)
{
    (void)state;
    start("2006-06-17T16:01:21");
    /* Saturday 17 June 2006, BCD, 24 h: the power-on format. */
    assert_int_equal(cmos(0x00), 0x21);
    assert_int_equal(cmos(0x04), 0x16);
    assert_int_equal(cmos(0x06), 7);
    assert_int_equal(cmos(0x32), 0x20);
    assert_int_equal(cmos(0x0A), 0x26);
    assert_int_equal(cmos(0x0B), 0x02);
    assert_int_equal(cmos(0x0D), 0x80);
    fake_advance(1500000000LL);
    assert_int_equal(cmos(0x00), 0x22);
    assert_int_equal(rtc_get_time(rtc), utc(2006, 6, 17, 16, 1, 22));
}

static void test_formats(void **state)
{
    (void)state;
    start("2006-06-17T16:01:21");
    cmos_w(0x0B, 0x00);                     /* BCD, 12 hour */
    assert_int_equal(cmos(0x04), 0x84);     /* 4 PM */
    cmos_w(0x0B, 0x06);                     /* binary, 24 hour */
    assert_int_equal(cmos(0x00), 21);
    assert_int_equal(cmos(0x04), 16);
    cmos_w(0x0B, 0x04);                     /* binary, 12 hour */
    assert_int_equal(cmos(0x04), 0x84);
    rtc_free(rtc);
    bus_free(&bus);
    start("2006-06-17T00:30:00");
    cmos_w(0x0B, 0x00);
    assert_int_equal(cmos(0x04), 0x12);     /* 12 AM */
}

static void test_rollover(void **state)
{
    (void)state;
    static const char *bases[] = { "1999-12-31T23:59:59",
                                   "2000-02-28T23:59:59",
                                   "2100-02-28T23:59:59",
                                   "2024-02-29T23:59:59" };
    static const int64_t starts[][6] = { { 1999, 12, 31, 23, 59, 59 },
                                         { 2000, 2, 28, 23, 59, 59 },
                                         { 2100, 2, 28, 23, 59, 59 },
                                         { 2024, 2, 29, 23, 59, 59 } };
    for (int i = 0; i < 4; i++) {
        start(bases[i]);
        int64_t t = utc((int)starts[i][0], (int)starts[i][1],
                        (int)starts[i][2], (int)starts[i][3],
                        (int)starts[i][4], (int)starts[i][5]);
        expect_time(t);
        fake_advance(1000000000LL);
        expect_time(t + 1);
        cmos_w(0x0B, 0x06);
        expect_time(t + 1);
        rtc_free(rtc);
        bus_free(&bus);
    }
    start("utc");
}

static void test_set_bit(void **state)
{
    (void)state;
    start("2006-06-17T16:01:21");
    cmos_w(0x0B, 0x82);                     /* SET: stop updates */
    fake_advance(5000000000LL);
    assert_int_equal(cmos(0x00), 0x21);
    assert_int_equal(cmos(0x0A) & 0x80, 0); /* no UIP while SET */
    cmos_w(0x00, 0x30);
    cmos_w(0x02, 0x45);
    cmos_w(0x04, 0x09);
    cmos_w(0x07, 0x01);
    cmos_w(0x08, 0x01);
    cmos_w(0x09, 0x10);
    cmos_w(0x0B, 0x02);                     /* run */
    assert_int_equal(rtc_get_time(rtc), utc(2010, 1, 1, 9, 45, 30));
    fake_advance(2000000000LL);
    expect_time(utc(2010, 1, 1, 9, 45, 32));
    /* Writing a field while running changes just that field. */
    cmos_w(0x04, 0x23);
    expect_time(utc(2010, 1, 1, 23, 45, 32));
}

static void test_divider_reset(void **state)
{
    (void)state;
    start("2006-06-17T16:01:21");
    cmos_w(0x0A, 0x70);                     /* divider held in reset */
    fake_advance(3000000000LL);
    assert_int_equal(cmos(0x00), 0x21);
    cmos_w(0x0A, 0x26);
    fake_advance(600000000LL);              /* first update after 0.5 s */
    assert_int_equal(cmos(0x00), 0x22);
}

static void test_uip(void **state)
{
    (void)state;
    start("2006-06-17T16:01:21");
    fake_advance(500000000LL);
    assert_int_equal(cmos(0x0A) & 0x80, 0);
    fake_advance(500000000LL - 100000);     /* 100 us before the update */
    assert_int_equal(cmos(0x0A) & 0x80, 0x80);
    assert_int_equal(cmos(0x00), 0x21);
    fake_advance(100000);
    assert_int_equal(cmos(0x00), 0x22);
}

static void test_periodic_irq(void **state)
{
    (void)state;
    start("utc");
    cmos(0x0C);
    /* Flags are set even with interrupts disabled, for polling. */
    fake_advance(2000000);
    assert_int_equal(cmos(0x0C), 0x40);
    assert_int_equal(irq8_rises, 0);
    cmos_w(0x0B, 0x42);                     /* PIE, 1024 Hz */
    irq8_rises = 0;
    for (int i = 0; i < 100000; i++) {      /* 100 ms in 1 us steps */
        fake_advance(1000);
        if (irq8_level)
            assert_int_equal(cmos(0x0C), 0xC0);  /* read acks */
        assert_int_equal(irq8_level, 0);
    }
    assert_in_range(irq8_rises, 101, 103);  /* 102.4 expected */
    cmos_w(0x0A, 0x2F);                     /* RS 15: 2 Hz */
    cmos(0x0C);
    irq8_rises = 0;
    fake_advance(2000000000LL);
    assert_int_equal(irq8_rises, 1);        /* not acked: one edge */
    cmos(0x0C);
    fake_advance(1000000000LL);
    assert_int_equal(irq8_rises, 2);        /* two periods, one edge */
}

static void test_update_irq(void **state)
{
    (void)state;
    start("2006-06-17T16:01:21");
    cmos_w(0x0B, 0x12);                     /* UIE */
    for (int i = 0; i < 3; i++) {
        fake_advance(1000000000LL);
        assert_int_equal(irq8_level, 1);
        assert_int_equal(cmos(0x0C) & 0xB0, 0x90);  /* PF runs too */
        assert_int_equal(irq8_level, 0);
    }
    /* Setting SET clears UIE. */
    cmos_w(0x0B, 0x92);
    assert_int_equal(cmos(0x0B), 0x82);
}

static void test_alarm_irq(void **state)
{
    (void)state;
    start("2006-06-17T16:01:21");
    cmos_w(0x01, 0x24);
    cmos_w(0x03, 0x01);
    cmos_w(0x05, 0xC0);                     /* any hour */
    cmos_w(0x0B, 0x22);                     /* AIE */
    cmos(0x0C);
    fake_advance(2500000000LL);
    assert_int_equal(irq8_level, 0);
    fake_advance(1000000000LL);
    assert_int_equal(irq8_level, 1);
    assert_int_equal(cmos(0x0C) & 0xA0, 0xA0);
}

static void test_nmi_bit_and_ram(void **state)
{
    (void)state;
    start("utc");
    bus_pio_write(&bus, 0x70, 0x80 | 0x40, 1);
    bus_pio_write(&bus, 0x71, 0x5A, 1);
    assert_int_equal(rtc_get_cmos(rtc, 0x40), 0x5A);
    assert_int_equal(bus_pio_read(&bus, 0x70, 1), 0xFF);
    cmos_w(0x7F, 0x11);
    assert_int_equal(cmos(0x7F), 0x11);
    cmos_w(0x0D, 0x00);                     /* read-only */
    assert_int_equal(cmos(0x0D), 0x80);
}

static void test_memory_bytes(void **state)
{
    (void)state;
    start("utc");
    rtc_set_memory(rtc, 128ULL << 20, 0);
    assert_int_equal(cmos(0x15) | cmos(0x16) << 8, 640);
    assert_int_equal(cmos(0x17) | cmos(0x18) << 8, 0xFFFF);  /* capped */
    assert_int_equal(cmos(0x30) | cmos(0x31) << 8, 0xFFFF);
    assert_int_equal(cmos(0x34) | cmos(0x35) << 8, (128 - 16) * 16);
    rtc_set_memory(rtc, 32ULL << 20, 1ULL << 30);
    assert_int_equal(cmos(0x17) | cmos(0x18) << 8, 31 * 1024);
    assert_int_equal(cmos(0x34) | cmos(0x35) << 8, 16 * 16);
    assert_int_equal(cmos(0x5B) | cmos(0x5C) << 8 | cmos(0x5D) << 16,
                     16384);
    unsigned sum = 0;
    for (int i = 0x10; i <= 0x2D; i++)
        sum += cmos((uint8_t)i);
    assert_int_equal(cmos(0x2E) << 8 | cmos(0x2F), sum);
}

static void test_bad_base(void **state)
{
    (void)state;
    start("localtime");
    char err[128] = "";
    static const char *bad[] = { "2006-13-01", "yesterday", "2006-02-30",
                                 "2006-06-17T25:00:00", "2006-06-17T1",
                                 "2005-02-29" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = 0;
        assert_null(rtc_init(&bus, bad[i], err, sizeof(err)));
        assert_non_null(strstr(err, "-rtc base"));
    }
    /* The board may hand over the rest of the -rtc option too. */
    RTC *ok2 = rtc_init(&bus, "2010-01-01T00:00:00,clock=host", err,
                        sizeof(err));
    assert_non_null(ok2);
    assert_int_equal(rtc_get_time(ok2), utc(2010, 1, 1, 0, 0, 0));
    rtc_free(ok2);
    ok2 = rtc_init(&bus, "utc,clock=host", err, sizeof(err));
    assert_non_null(ok2);
    rtc_free(ok2);
    RTC *ok = rtc_init(&bus, "2004-02-29", err, sizeof(err));
    assert_non_null(ok);
    assert_int_equal(rtc_get_time(ok), utc(2004, 2, 29, 0, 0, 0));
    rtc_free(ok);
}

static void test_reset(void **state)
{
    (void)state;
    start("2006-06-17T16:01:21");
    cmos_w(0x0B, 0x72);
    fake_advance(1000000000LL);
    assert_int_equal(irq8_level, 1);
    bus_reset_devices(&bus);
    assert_int_equal(irq8_level, 0);
    assert_int_equal(cmos(0x0B), 0x02);
    assert_int_equal(cmos(0x00), 0x22);     /* time survives */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_fixed_base_bcd, teardown),
        cmocka_unit_test_teardown(test_formats, teardown),
        cmocka_unit_test_teardown(test_rollover, teardown),
        cmocka_unit_test_teardown(test_set_bit, teardown),
        cmocka_unit_test_teardown(test_divider_reset, teardown),
        cmocka_unit_test_teardown(test_uip, teardown),
        cmocka_unit_test_teardown(test_periodic_irq, teardown),
        cmocka_unit_test_teardown(test_update_irq, teardown),
        cmocka_unit_test_teardown(test_alarm_irq, teardown),
        cmocka_unit_test_teardown(test_nmi_bit_and_ram, teardown),
        cmocka_unit_test_teardown(test_memory_bytes, teardown),
        cmocka_unit_test_teardown(test_bad_base, teardown),
        cmocka_unit_test_teardown(test_reset, teardown),
    };
    return cmocka_run_group_tests_name("rtc", tests, NULL, NULL);
}
