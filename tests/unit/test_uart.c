/* 16550A UART: reset values, divisor latch, FIFOs and trigger levels,
 * interrupt identification and priority (datasheet IIR table), character
 * timeout, OUT2 gating of the PC interrupt line, loopback and modem status,
 * and flow control toward the chardev. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "hw/bus.h"
#include "hw/uart.h"
#include "fake_clock.h"

/* Chardev double: records output, exposes the frontend's handlers. */
struct Chardev { int dummy; };
static struct Chardev chr;
static uint8_t out[256];
static int nout;
static ChrCanRead *h_can_read;
static ChrRead *h_read;
static void *h_opaque;
void chardev_write(Chardev *c, const uint8_t *buf, size_t len)
{
    (void)c;
    for (size_t i = 0; i < len && nout < 256; i++)
        out[nout++] = buf[i];
}
void chardev_set_handlers(Chardev *c, ChrCanRead *cr, ChrRead *rd, void *o)
{
    (void)c;
    h_can_read = cr;
    h_read = rd;
    h_opaque = o;
}

static Bus bus;
static UART *uart;
static int irq4;
static void sink(void *opaque, int gsi, int level)
{
    (void)opaque;
    if (gsi == 4)
        irq4 = level;
}

#define BASE 0x3F8
static void w(int reg, uint8_t v) { bus_pio_write(&bus, (uint16_t)(BASE + reg), v, 1); }
static uint8_t r(int reg) { return (uint8_t)bus_pio_read(&bus, (uint16_t)(BASE + reg), 1); }

static int setup(void **state)
{
    (void)state;
    bus_init(&bus, 1 << 20);
    bus.irq_sink = sink;
    irq4 = 0;
    nout = 0;
    uart = uart_init(&bus, BASE, 4, &chr);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    uart_free(uart);
    bus_free(&bus);
    return 0;
}

static void feed(const char *s)
{
    size_t n = strlen(s);
    size_t room = h_can_read(h_opaque);
    h_read(h_opaque, (const uint8_t *)s, n < room ? n : room);
}

static void test_reset_values(void **state)
{
    (void)state;
    assert_int_equal(r(1), 0x00);
    assert_int_equal(r(2), 0x01);
    assert_int_equal(r(3), 0x00);
    assert_int_equal(r(4), 0x00);
    assert_int_equal(r(5), 0x60);
    assert_int_equal(r(6) & 0xF0, 0xB0);    /* CTS, DSR, DCD */
    w(7, 0x5A);
    assert_int_equal(r(7), 0x5A);
    assert_non_null(bus_find_device(&bus, "serial0"));
}

static void test_divisor_latch(void **state)
{
    (void)state;
    w(3, 0x80);
    w(0, 0x01);
    w(1, 0x02);
    assert_int_equal(r(0), 0x01);
    assert_int_equal(r(1), 0x02);
    w(3, 0x03);                              /* 8N1, DLAB off */
    assert_int_equal(r(1), 0x00);            /* IER again */
    w(0, 'k');
    assert_int_equal(nout, 1);
    assert_int_equal(out[0], 'k');
}

static void test_receive_no_fifo(void **state)
{
    (void)state;
    assert_int_equal(h_can_read(h_opaque), 1);
    feed("ab");
    assert_int_equal(r(5) & 1, 1);
    assert_int_equal(h_can_read(h_opaque), 0);  /* flow control */
    assert_int_equal(r(0), 'a');
    assert_int_equal(r(5) & 1, 0);
    feed("b");
    assert_int_equal(r(0), 'b');
}

static void test_fifo_trigger(void **state)
{
    (void)state;
    w(2, 0xC7);                              /* FIFO on, trigger 14 */
    assert_int_equal(r(2), 0xC1);
    w(4, 0x08);                              /* OUT2 */
    w(1, 0x01);                              /* RDA interrupt */
    assert_int_equal(h_can_read(h_opaque), 16);
    feed("0123456789abc");                   /* 13 bytes */
    assert_int_equal(r(2), 0xC1);
    assert_int_equal(irq4, 0);
    feed("d");
    assert_int_equal(r(2), 0xC4);
    assert_int_equal(irq4, 1);
    assert_int_equal(r(0), '0');             /* below trigger again */
    assert_int_equal(r(2) & 0x0F, 0x01);
    assert_int_equal(irq4, 0);
    /* Trigger level 4 and clearing the receive FIFO. */
    w(2, 0x43);
    assert_int_equal(r(5) & 1, 0);
    feed("wxyz");
    assert_int_equal(r(2), 0xC4);
    /* FIFOs off: back to the 8250 single byte. */
    w(2, 0x00);
    assert_int_equal(r(2), 0x01);
    assert_int_equal(h_can_read(h_opaque), 1);
}

static void test_char_timeout(void **state)
{
    (void)state;
    w(3, 0x80); w(0, 1); w(1, 0); w(3, 0x03);   /* 115200 8N1 */
    w(2, 0x81);                              /* FIFO, trigger 8 */
    w(4, 0x08);
    w(1, 0x01);
    feed("abc");
    assert_int_equal(r(2), 0xC1);
    /* 4 character times = 4 * 10 bits / 115200 = 347 us */
    fake_advance(300000);
    assert_int_equal(r(2), 0xC1);
    fake_advance(60000);
    assert_int_equal(r(2), 0xCC);
    assert_int_equal(irq4, 1);
    assert_int_equal(r(0), 'a');             /* reading clears it */
    assert_int_equal(r(2), 0xC1);
    fake_advance(400000);
    assert_int_equal(r(2), 0xCC);
}

static void test_fifo_overrun_keeps_old(void **state)
{
    (void)state;
    w(2, 0x07);
    w(4, 0x10);                              /* loopback */
    for (int i = 0; i < 17; i++)
        w(0, (uint8_t)('a' + i));
    assert_int_equal(r(5) & 0x03, 0x03);     /* full, then overrun */
    assert_int_equal(r(0), 'a');
    for (int i = 1; i < 16; i++)
        assert_int_equal(r(0), 'a' + i);
    assert_int_equal(r(5) & 0x01, 0);        /* the 17th was lost */
}

static void test_thre_interrupt(void **state)
{
    (void)state;
    w(4, 0x08);
    w(1, 0x02);
    assert_int_equal(r(2), 0x02);            /* THR empty: at once */
    assert_int_equal(irq4, 0);               /* reading IIR acked it */
    assert_int_equal(r(2), 0x01);
    w(0, 'x');
    assert_int_equal(irq4, 1);
    assert_int_equal(r(5) & 0x60, 0x60);
    assert_int_equal(r(2), 0x02);
    /* Writing THR also clears it (and sends again). */
    w(0, 'y');
    w(1, 0x00);
    assert_int_equal(irq4, 0);
}

static void test_priority_and_out2(void **state)
{
    (void)state;
    w(4, 0x10 | 0x08);                       /* loopback, OUT2 */
    w(1, 0x0F);                              /* everything */
    /* MSR change (loop wiring: DCD follows OUT2) is lowest. */
    r(2);
    w(0, 'a');                               /* RDA via loopback */
    w(0, 'b');                               /* overrun: RLS */
    assert_int_equal(r(2), 0x06);            /* RLS first */
    assert_int_equal(r(5) & 0x03, 0x03);     /* OE, DR; read clears OE */
    assert_int_equal(r(2), 0x04);            /* then RDA */
    assert_int_equal(r(0), 'b');             /* no FIFO: the new byte won */
    assert_int_equal(r(2), 0x02);            /* then THRE */
    assert_int_equal(r(2), 0x00);            /* then modem status */
    r(6);
    assert_int_equal(r(2), 0x01);
    assert_int_equal(nout, 0);               /* loopback kept it in */
    /* OUT2 off: same sources, no line. */
    w(1, 0x00);
    w(4, 0x10);
    w(1, 0x02);
    assert_int_equal(irq4, 0);
    assert_int_equal(r(2), 0x02);
}

static void test_loopback_modem(void **state)
{
    (void)state;
    w(4, 0x10);
    r(6);
    w(4, 0x10 | 0x01 | 0x02);                /* DTR, RTS */
    uint8_t m = r(6);
    assert_int_equal(m & 0xF0, 0x30);        /* CTS, DSR */
    assert_int_equal(m & 0x0F, 0x03);        /* their deltas */
    assert_int_equal(r(6) & 0x0F, 0);        /* read clears deltas */
    w(4, 0x10 | 0x04);                       /* OUT1 -> RI */
    assert_int_equal(r(6) & 0xF0, 0x40);
    w(4, 0x10);                              /* RI falls: TERI */
    assert_int_equal(r(6) & 0x04, 0x04);
    assert_int_equal(h_can_read(h_opaque), 0); /* host input held */
    w(4, 0x00);
    assert_int_equal(r(6) & 0xF0, 0xB0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reset_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_divisor_latch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_receive_no_fifo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fifo_trigger, setup, teardown),
        cmocka_unit_test_setup_teardown(test_char_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fifo_overrun_keeps_old, setup, teardown),
        cmocka_unit_test_setup_teardown(test_thre_interrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_priority_and_out2, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loopback_modem, setup, teardown),
    };
    return cmocka_run_group_tests_name("uart", tests, NULL, NULL);
}
