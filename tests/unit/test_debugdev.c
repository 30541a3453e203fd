/* isa-debugcon, isa-debug-exit and pc-testdev on a real bus, checked
 * against QEMU's documented behaviour (the same facts the qemucompat test
 * kernel checks under both emulators). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "hw/bus.h"
#include "hw/debugdev.h"
#include "system/chardev.h"

static Bus bus;
static int exit_status = -1;
static int irq_level[24];

static void on_shutdown(void *opaque, int status) { exit_status = status; }
static void on_irq(void *opaque, int gsi, int level)
{
    if (gsi >= 0 && gsi < 24)
        irq_level[gsi] = level;
}

static int setup(void **state)
{
    bus_init(&bus, 16 << 20);
    bus.on_shutdown = on_shutdown;
    bus.irq_sink = on_irq;
    exit_status = -1;
    memset(irq_level, 0, sizeof(irq_level));
    return 0;
}

static int teardown(void **state)
{
    device_free_all();
    chardev_close_all();
    bus_free(&bus);
    return 0;
}

static void create(const char *opt, const char *const *globals, int ng,
                   Chardev *chr)
{
    char err[256];
    if (device_create(&bus, opt, globals, ng, chr, err, sizeof(err)))
        fail_msg("%s: %s", opt, err);
}

static void test_debugcon(void **state)
{
    char path[] = "/tmp/kestrel-debugcon-XXXXXX", spec[64], err[256];
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    snprintf(spec, sizeof(spec), "file:%s", path);
    Chardev *c = chardev_open(spec, err, sizeof(err));
    assert_non_null(c);
    create("isa-debugcon", NULL, 0, c);               /* 0xE9 by default */
    static const char *const g[] = { "isa-debugcon.readback=0x42" };
    create("isa-debugcon,iobase=0x402", g, 1, c);
    bus_pio_write(&bus, 0xe9, 'o', 1);
    bus_pio_write(&bus, 0xe9, 0x4b, 1);
    bus_pio_write(&bus, 0x402, '!', 1);
    assert_int_equal(bus_pio_read(&bus, 0xe9, 1), 0xe9);
    assert_int_equal(bus_pio_read(&bus, 0x402, 1), 0x42);
    char got[8] = "";
    assert_int_equal(read(fd, got, sizeof(got)), 3);
    assert_memory_equal(got, "oK!", 3);
    close(fd);
    unlink(path);
}

static void test_debug_exit(void **state)
{
    create("isa-debug-exit,iobase=0xf4,iosize=4", NULL, 0, NULL);
    assert_int_equal(bus_pio_read(&bus, 0xf4, 1), 0);
    bus_pio_write(&bus, 0xf6, 0x10, 1);     /* any port of the range */
    assert_int_equal(exit_status, 33);
    exit_status = -1;
    bus_pio_write(&bus, 0xf8, 0x10, 1);     /* outside: nothing */
    assert_int_equal(exit_status, -1);
}

static void test_debug_exit_default_port(void **state)
{
    create("isa-debug-exit", NULL, 0, NULL);   /* QEMU: 0x501, 2 ports */
    bus_pio_write(&bus, 0x502, 0, 1);
    assert_int_equal(exit_status, 1);
}

static void test_testdev(void **state)
{
    create("pc-testdev", NULL, 0, NULL);
    bus_pio_write(&bus, 0xe0, 0x12345678, 4);
    assert_int_equal(bus_pio_read(&bus, 0xe0, 4), 0x12345678);
    bus_pio_write(&bus, 0xe2, 0xab, 1);
    assert_int_equal(bus_pio_read(&bus, 0xe0, 4), 0x12ab5678);
    assert_int_equal(bus_pio_read(&bus, 0xe2, 2), 0x12ab);
    assert_int_equal(bus_pio_read(&bus, 0xe3, 1), 0x12);
    /* 0xE8 is a byte-wise view of the same latch. */
    assert_int_equal(bus_pio_read(&bus, 0xe8, 1), 0x78);
    bus_pio_write(&bus, 0xeb, 0x99, 1);
    assert_int_equal(bus_pio_read(&bus, 0xe0, 4), 0x99ab5678);
    /* IRQ lines. */
    bus_pio_write(&bus, 0x2005, 1, 1);
    assert_int_equal(irq_level[5], 1);
    bus_pio_write(&bus, 0x2005, 0, 1);
    assert_int_equal(irq_level[5], 0);
    bus_pio_write(&bus, 0x2017, 1, 1);      /* beyond the ISA lines */
    assert_int_equal(irq_level[23], 0);
    /* RAM-like MMIO, bounded at its end. */
    bus_mem_write(&bus, 0xff000000, 0xcafef00d, 4);
    assert_int_equal(bus_mem_read(&bus, 0xff000000, 4), 0xcafef00d);
    assert_int_equal(bus_mem_read(&bus, 0xff000001, 1), 0xf0);
    bus_mem_write(&bus, 0xff00fffc, 0x55aa1234, 4);
    assert_int_equal(bus_mem_read(&bus, 0xff00fffd, 1), 0x12);
}

/* With a debug console at 0xE9, pc-testdev's byte alias leaves that port
 * alone (QEMU routes 0xE9 to isa-debugcon), in either creation order. */
static void test_testdev_and_debugcon(void **state)
{
    create("isa-debugcon", NULL, 0, NULL);
    create("pc-testdev", NULL, 0, NULL);
    assert_int_equal(bus_pio_read(&bus, 0xe9, 1), 0xe9);
    bus_pio_write(&bus, 0xe0, 0, 4);
    bus_pio_write(&bus, 0xe9, 0x55, 1);
    assert_int_equal(bus_pio_read(&bus, 0xe0, 4), 0);
}

static void test_parse(void **state)
{
    char err[256];
    assert_int_equal(device_check("pc-testdev", err, sizeof(err)), 0);
    assert_int_equal(device_check("isa-debug-exit,iobase=0x501,iosize=2,"
                                  "id=x", err, sizeof(err)), 0);
    assert_int_equal(device_check("isa-debugcon,chardev=nope", err,
                                  sizeof(err)), -1);
    assert_non_null(strstr(err, "nope"));
    assert_int_equal(device_check("isa-debug-exit,iosize=0", err,
                                  sizeof(err)), -1);
    assert_int_equal(global_check("isa-debugcon.iobase=0x402", err,
                                  sizeof(err)), 0);
    assert_int_equal(global_check("isa-debugcon.iobase=x", err,
                                  sizeof(err)), -1);
    assert_int_equal(global_check("pc-testdev.iobase=1", err,
                                  sizeof(err)), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_debugcon, setup, teardown),
        cmocka_unit_test_setup_teardown(test_debug_exit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_debug_exit_default_port, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_testdev, setup, teardown),
        cmocka_unit_test_setup_teardown(test_testdev_and_debugcon, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_parse, setup, teardown),
    };
    return cmocka_run_group_tests_name("debugdev", tests, NULL, NULL);
}
