/* Robustness of the ISA devices: random guest port I/O (with the clock
 * moving and timers firing) and random saved-state images followed by
 * post_load must never crash or read out of bounds (run it under the
 * sanitizers), and the devices must still answer sensibly afterwards. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "hw/bus.h"
#include "hw/pic.h"
#include "hw/pit.h"
#include "hw/rtc.h"
#include "hw/kbc.h"
#include "hw/uart.h"
#include "hw/port92.h"
#include "hw/dma.h"
#include "fake_clock.h"

struct Chardev { int dummy; };
static struct Chardev chr;
static size_t written;
void chardev_write(Chardev *c, const uint8_t *buf, size_t len)
{
    (void)c; (void)buf;
    written += len;
}
static ChrCanRead *h_can_read;
static ChrRead *h_read;
static void *h_opaque;
void chardev_set_handlers(Chardev *c, ChrCanRead *cr, ChrRead *rd, void *o)
{
    (void)c;
    h_can_read = cr;
    h_read = rd;
    h_opaque = o;
}

static Bus bus;
static PIC *pic;
static PIT *pit;
static RTC *rtc;
static KBC *kbc;
static UART *uart;
static DMA *dma;
static int irq_calls;

static void sink(void *opaque, int gsi, int level)
{
    (void)opaque;
    irq_calls++;
    if (gsi < 16)
        pic_set_irq(pic, gsi, level);
}
static void intr(void *opaque, bool level) { (void)opaque; (void)level; }

static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)rng;
}

static int setup(void **state)
{
    (void)state;
    bus_init(&bus, 1 << 20);
    bus.irq_sink = sink;
    pic = pic_init(&bus, intr, NULL);
    pit = pit_init(&bus);
    char err[128];
    rtc = rtc_init(&bus, "2020-02-02T02:02:02", err, sizeof(err));
    kbc = kbc_init(&bus);
    uart = uart_init(&bus, 0x3F8, 4, &chr);
    port92_init(&bus);
    dma = dma_init(&bus);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    dma_free(dma);
    uart_free(uart);
    kbc_free(kbc);
    rtc_free(rtc);
    pit_free(pit);
    pic_free(pic);
    bus_free(&bus);
    return 0;
}

/* Ports of these devices, excluding 0x92 and 0x64's reset pulses, which
 * only call the (absent) board. */
static uint16_t random_port(void)
{
    static const uint16_t bases[][2] = {
        { 0x00, 16 }, { 0x20, 2 }, { 0x40, 4 }, { 0x60, 1 }, { 0x61, 1 },
        { 0x64, 1 }, { 0x70, 2 }, { 0x80, 16 }, { 0xA0, 2 }, { 0xC0, 32 },
        { 0x3F8, 8 }, { 0x4D0, 2 },
    };
    int i = (int)(rnd() % (sizeof(bases) / sizeof(bases[0])));
    return (uint16_t)(bases[i][0] + rnd() % bases[i][1]);
}

static void random_io(int n)
{
    static const int sizes[3] = { 1, 2, 4 };
    for (int i = 0; i < n; i++) {
        uint16_t port = random_port();
        int size = sizes[rnd() % 3];
        if (rnd() & 1)
            bus_pio_write(&bus, port, rnd(), size);
        else
            bus_pio_read(&bus, port, size);
        if ((i & 15) == 0)
            fake_advance(rnd() % 2000000);
        if ((i & 63) == 0) {
            kbc_key_event(kbc, rnd() & 0xE07F, rnd() & 1);
            kbc_mouse_event(kbc, (int)(rnd() % 2001) - 1000,
                            (int)(rnd() % 2001) - 1000, (int)(rnd() % 9) - 4,
                            (int)(rnd() & 31));
            uint8_t buf[40];
            for (size_t j = 0; j < sizeof(buf); j++)
                buf[j] = (uint8_t)rnd();
            size_t room = h_can_read(h_opaque);
            if (room)
                h_read(h_opaque, buf, room < sizeof(buf) ? room : sizeof(buf));
        }
        if ((i & 255) == 0) {
            uint8_t b[64];
            dma_transfer(dma, (int)(rnd() % 10) - 1, b, (int)(rnd() % 64));
        }
    }
}

/* After the noise, the devices still follow their datasheets. */
static void still_sane(void)
{
    bus_pio_write(&bus, 0x21, 0x5A, 1);
    assert_int_equal(bus_pio_read(&bus, 0x21, 1), 0x5A);
    bus_pio_write(&bus, 0x3FB, 0x03, 1);
    bus_pio_write(&bus, 0x3FF, 0xC3, 1);
    assert_int_equal(bus_pio_read(&bus, 0x3FF, 1), 0xC3);
    bus_pio_write(&bus, 0x70, 0x3F, 1);
    bus_pio_write(&bus, 0x71, 0x77, 1);
    assert_int_equal(bus_pio_read(&bus, 0x71, 1), 0x77);
    bus_pio_write(&bus, 0x43, 0xE2, 1);      /* read-back status ch0 */
    bus_pio_read(&bus, 0x40, 1);
}

static void test_random_io(void **state)
{
    (void)state;
    random_io(200000);
    still_sane();
    assert_true(irq_calls > 0);
}

static void test_random_state_images(void **state)
{
    (void)state;
    static const char *names[] = { "pic", "pit", "rtc", "kbc", "serial0",
                                   "dma", "port92" };
    for (int round = 0; round < 200; round++) {
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
            Device *d = bus_find_device(&bus, names[i]);
            assert_non_null(d);
            uint8_t *p = d->state;
            for (size_t j = 0; j < d->state_size; j++)
                p[j] = (uint8_t)rnd();
            if (d->post_load)
                d->post_load(d->opaque);
        }
        random_io(500);
        bus_reset_devices(&bus);
    }
    still_sane();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_random_io, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_state_images, setup, teardown),
    };
    return cmocka_run_group_tests_name("isa_fuzz", tests, NULL, NULL);
}
