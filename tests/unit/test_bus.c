/* The bus: PC memory map (legacy hole, PAM shadow, BIOS below 4 GiB, RAM
 * above 4 GiB), port and MMIO dispatch, code-page write notification,
 * IRQ routing and board requests. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "hw/bus.h"

static Bus bus;

static int setup(void **state)
{
    (void)state;
    bus_init(&bus, 32 << 20);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    bus_free(&bus);
    return 0;
}

static uint32_t last_port, last_val;
static int last_size, reads, writes;
static uint32_t dev_read(void *opaque, uint16_t port, int size)
{
    reads++;
    last_port = port;
    last_size = size;
    return (uint32_t)(uintptr_t)opaque + (port & 0xFF);
}
static void dev_write(void *opaque, uint16_t port, uint32_t val, int size)
{
    (void)opaque;
    writes++;
    last_port = port;
    last_val = val;
    last_size = size;
}

static void test_unclaimed_ports(void **state)
{
    (void)state;
    assert_int_equal(bus_pio_read(&bus, 0x1234, 1), 0xFF);
    assert_int_equal(bus_pio_read(&bus, 0x1234, 2), 0xFFFF);
    assert_int_equal(bus_pio_read(&bus, 0x1234, 4), 0xFFFFFFFFu);
    bus_pio_write(&bus, 0x1234, 5, 1);       /* ignored */
    bus.log_unimp = true;
    assert_int_equal(bus.unimp_logged[0x1236 >> 3] & (1 << (0x1236 & 7)), 0);
    bus_pio_read(&bus, 0x1236, 1);
    assert_int_not_equal(bus.unimp_logged[0x1236 >> 3] & (1 << (0x1236 & 7)), 0);
}

static void test_port_dispatch(void **state)
{
    (void)state;
    bus_pio_register(&bus, 0x100, 8, dev_read, dev_write, (void *)0x1000, "a");
    assert_int_equal(bus_pio_read(&bus, 0x103, 2), 0x1003);
    assert_int_equal(last_size, 2);
    bus_pio_write(&bus, 0x107, 0x1AB, 1);
    assert_int_equal(last_val, 0xAB);        /* truncated to the size */
    /* A later registration over some ports replaces those ports only. */
    bus_pio_register(&bus, 0x104, 2, dev_read, dev_write, (void *)0x20, "b");
    assert_int_equal(bus_pio_read(&bus, 0x104, 1), 0x24);
    assert_int_equal(bus_pio_read(&bus, 0x106, 1), 0x06);  /* 0x1006 & 0xFF */
    /* A word read across two handlers is split into bytes. */
    reads = 0;
    assert_int_equal(bus_pio_read(&bus, 0x103, 2), 0x2403);
    assert_int_equal(reads, 2);
    /* Across a handler and nothing: the missing byte reads 0xFF. */
    assert_int_equal(bus_pio_read(&bus, 0x107, 2), 0xFF07);
    /* Removing "a" leaves "b", registered on its own, in place. */
    bus_pio_unregister(&bus, 0x100, 8);
    assert_int_equal(bus_pio_read(&bus, 0x100, 1), 0xFF);
    assert_int_equal(bus_pio_read(&bus, 0x104, 1), 0x24);
    bus_pio_unregister(&bus, 0x104, 2);
    assert_int_equal(bus_pio_read(&bus, 0x104, 1), 0xFF);
    /* Slots are reused: many register/unregister cycles never run out. */
    for (int i = 0; i < 1000; i++) {
        bus_pio_register(&bus, 0xC000, 16, dev_read, dev_write, NULL, "bar");
        bus_pio_unregister(&bus, 0xC000, 16);
    }
    assert_true(bus.npio < 10);
}

/* A PCI I/O BAR moved over an ISA device hides it only while it is there:
 * moving the BAR away uncovers the device (a guest cannot lose the PIC or
 * the debug-exit port for good by misprogramming a BAR). */
static void test_port_overlay_uncovers(void **state)
{
    (void)state;
    bus_pio_register(&bus, 0x60, 1, dev_read, dev_write, (void *)0x300, "isa");
    bus_pio_register(&bus, 0x60, 16, dev_read, dev_write, (void *)0x500, "bar");
    assert_int_equal(bus_pio_read(&bus, 0x60, 1), 0x60);   /* 0x560 & 0xFF */
    assert_int_equal(bus_pio_read(&bus, 0x60, 2), 0x0560);
    bus_pio_unregister(&bus, 0x60, 16);
    assert_int_equal(bus_pio_read(&bus, 0x60, 2), 0xFF60); /* isa again */
    assert_int_equal(last_size, 1);
    /* Re-registering the same range with the same opaque replaces it. */
    int n = bus.npio;
    for (int i = 0; i < 300; i++)
        bus_pio_register(&bus, 0x60, 1, dev_read, dev_write, (void *)0x300, "isa");
    assert_int_equal(bus.npio, n);
    bus_pio_unregister(&bus, 0x60, 1);
    assert_int_equal(bus_pio_read(&bus, 0x60, 1), 0xFF);
}

static uint64_t mmio_last_off;
static uint64_t mm_read(void *opaque, uint64_t off, int size)
{
    (void)opaque; (void)size;
    mmio_last_off = off;
    return 0x1122334455667788ULL;
}
static void mm_write(void *opaque, uint64_t off, uint64_t val, int size)
{
    (void)opaque; (void)size;
    mmio_last_off = off;
    last_val = (uint32_t)val;
}

static void test_mmio(void **state)
{
    (void)state;
    int h = bus_mmio_register(&bus, 0xFEC00000, 0x1000, mm_read, mm_write,
                              NULL, "ioapic");
    assert_int_equal(bus_mem_read(&bus, 0xFEC00010, 4), 0x55667788);
    assert_int_equal(mmio_last_off, 0x10);
    bus_mem_write(&bus, 0xFEC00020, 0xAB, 1);
    assert_int_equal(mmio_last_off, 0x20);
    assert_int_equal(last_val, 0xAB);
    assert_null(bus_mem_ptr(&bus, 0xFEC00000, false));
    bus_mmio_move(&bus, h, 0xE0000000, true);
    assert_int_equal(bus_mem_read(&bus, 0xFEC00010, 4), 0xFFFFFFFFu);
    assert_int_equal(bus_mem_read(&bus, 0xE0000004, 2), 0x7788);
    bus_mmio_move(&bus, h, 0xE0000000, false);
    assert_int_equal(bus_mem_read(&bus, 0xE0000004, 2), 0xFFFF);
}

static void test_memory_map(void **state)
{
    (void)state;
    /* Plain RAM, little-endian, unaligned. */
    bus_mem_write(&bus, 0x1001, 0x0102030405060708ULL, 8);
    assert_int_equal(bus.ram[0x1001], 0x08);
    assert_int_equal(bus_mem_read(&bus, 0x1003, 4), 0x03040506);
    /* An access across a page boundary lands on both pages. */
    bus_mem_write(&bus, 0x1FFE, 0xAABBCCDD, 4);
    assert_int_equal(bus_mem_read(&bus, 0x1FFE, 4), 0xAABBCCDD);
    /* The VGA window is not RAM: unassigned reads all-ones. */
    assert_null(bus_mem_ptr(&bus, 0xA0000, false));
    assert_int_equal(bus_mem_read(&bus, 0xB8000, 2), 0xFFFF);
    /* Shadow RAM reads always; writes only where PAM allows. */
    bus.ram[0xF0000] = 0x5A;
    assert_int_equal(bus_mem_read(&bus, 0xF0000, 1), 0x5A);
    bus_mem_write(&bus, 0xF0000, 0x11, 1);
    assert_int_equal(bus.ram[0xF0000], 0x5A);
    bus.shadow_writable[(0xF0000 - 0xC0000) >> 14] = true;
    bus_mem_write(&bus, 0xF0000, 0x11, 1);
    assert_int_equal(bus.ram[0xF0000], 0x11);
    /* RAM above the top reads all-ones. */
    assert_null(bus_mem_ptr(&bus, 32 << 20, false));
    assert_int_equal(bus_mem_read(&bus, 32 << 20, 1), 0xFF);
    /* The BIOS sits just below 4 GiB, read-only. */
    static const uint8_t rom[0x20000] = { [0x1FFF0] = 0xEA, [0x1FFF1] = 0x5B };
    bus.bios = rom;
    bus.bios_size = sizeof(rom);
    assert_int_equal(bus_mem_read(&bus, 0xFFFFFFF0, 2), 0x5BEA);
    assert_null(bus_mem_ptr(&bus, 0xFFFFFFF0, true));
    bus_mem_write(&bus, 0xFFFFFFF0, 0, 1);
    assert_int_equal(rom[0x1FFF0], 0xEA);
    /* Bulk copies go through the same map. */
    uint8_t buf[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    bus_mem_rw(&bus, 0x9FFFC, buf, 8, true);
    assert_int_equal(bus.ram[0x9FFFF], 4);
    uint8_t back[8];
    bus_mem_rw(&bus, 0x9FFFC, back, 8, false);
    assert_int_equal(back[3], 4);
    assert_int_equal(back[4], 0xFF);         /* the hole */
}

static void test_high_ram(void **state)
{
    (void)state;
    Bus big;
    /* 3.5 GiB stay below 4 GiB; the rest moves above (address space
     * only: the host mapping is reserved lazily). */
    bus_init(&big, 0xE0000000ULL + (16 << 20));
    assert_true(big.ram_below_4g == 0xE0000000ULL);
    bus_mem_write(&big, 0x100000000ULL + 0x10, 0x77, 1);
    assert_int_equal(big.ram[0xE0000010ULL], 0x77);
    assert_null(bus_mem_ptr(&big, 0x100000000ULL + (16 << 20), false));
    assert_null(bus_mem_ptr(&big, 0xE0000000ULL, false));
    bus_mark_code(&big, 0x100000000ULL + 0x2000);
    assert_true(bus_page_has_code(&big, 0x100002000ULL));
    bus_free(&big);
}

static uint64_t cw_pa;
static size_t cw_len;
static int cw_calls;
static void code_write(void *opaque, uint64_t pa, size_t len)
{
    (void)opaque;
    cw_pa = pa;
    cw_len = len;
    cw_calls++;
}

static void test_code_pages(void **state)
{
    (void)state;
    bus.code_write = code_write;
    bus_mark_code(&bus, 0x7C00);
    assert_true(bus_page_has_code(&bus, 0x7FFF));
    assert_false(bus_page_has_code(&bus, 0x8000));
    bus_mem_write(&bus, 0x9000, 1, 4);
    assert_int_equal(cw_calls, 0);
    bus_mem_write(&bus, 0x7C10, 1, 2);
    assert_int_equal(cw_calls, 1);
    assert_int_equal(cw_pa, 0x7C10);
    assert_int_equal(cw_len, 2);
    uint8_t buf[16] = { 0 };
    bus_mem_rw(&bus, 0x7FF8, buf, 16, true);
    assert_int_equal(cw_calls, 2);
    assert_int_equal(cw_pa, 0x7FF8);
    assert_int_equal(cw_len, 8);
    bus_clear_code(&bus, 0x7000);
    bus_mem_write(&bus, 0x7C10, 1, 2);
    assert_int_equal(cw_calls, 2);
    /* Out-of-range pages are ignored, not written past the bitmap. */
    bus_mark_code(&bus, 0xFFFFF000ULL);
    assert_false(bus_page_has_code(&bus, 0xFFFFF000ULL));
}

static int sink_gsi = -1, sink_level = -1;
static void sink(void *opaque, int gsi, int level)
{
    (void)opaque;
    sink_gsi = gsi;
    sink_level = level;
}
static int resets, a20_calls, exit_status = -1;
static bool a20_state;
static void on_reset(void *o) { (void)o; resets++; }
static void on_shutdown(void *o, int st) { (void)o; exit_status = st; }
static void on_a20(void *o, bool en) { (void)o; a20_calls++; a20_state = en; }

static void test_irq_and_requests(void **state)
{
    (void)state;
    bus_set_irq(&bus, 4, 1);                 /* no sink yet: harmless */
    bus.irq_sink = sink;
    bus_set_irq(&bus, 12, 5);
    assert_int_equal(sink_gsi, 12);
    assert_int_equal(sink_level, 1);
    bus_set_irq(&bus, 24, 1);                /* out of range: dropped */
    assert_int_equal(sink_gsi, 12);
    bus.on_reset = on_reset;
    bus.on_shutdown = on_shutdown;
    bus.on_a20 = on_a20;
    bus_request_reset(&bus);
    assert_int_equal(resets, 1);
    bus_request_shutdown(&bus, 3);
    assert_int_equal(exit_status, 3);
    assert_int_equal(bus.a20_mask, 0xFFFFFFFFu);
    bus_set_a20(&bus, false);
    assert_int_equal(bus.a20_mask, 0xFFEFFFFFu);
    assert_false(a20_state);
    bus_set_a20(&bus, false);                /* no change, no call */
    assert_int_equal(a20_calls, 1);
    bus_set_a20(&bus, true);
    assert_int_equal(a20_calls, 2);
}

static int dev_resets[2];
static void dreset(void *opaque) { dev_resets[(int)(uintptr_t)opaque]++; }

static void test_devices(void **state)
{
    (void)state;
    Device a = { .name = "a", .opaque = (void *)0, .reset = dreset };
    Device b = { .name = "b", .opaque = (void *)1, .reset = dreset };
    bus_add_device(&bus, &a);
    bus_add_device(&bus, &b);
    assert_ptr_equal(bus.devices, &a);        /* creation order */
    bus_reset_devices(&bus);
    assert_int_equal(dev_resets[0], 1);
    assert_int_equal(dev_resets[1], 1);
    assert_ptr_equal(bus_find_device(&bus, "b"), &b);
    bus_del_device(&bus, &a);
    assert_null(bus_find_device(&bus, "a"));
    bus_reset_devices(&bus);
    assert_int_equal(dev_resets[0], 1);
    assert_int_equal(dev_resets[1], 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_unclaimed_ports, setup, teardown),
        cmocka_unit_test_setup_teardown(test_port_dispatch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_port_overlay_uncovers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mmio, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memory_map, setup, teardown),
        cmocka_unit_test_setup_teardown(test_high_ram, setup, teardown),
        cmocka_unit_test_setup_teardown(test_code_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_irq_and_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_devices, setup, teardown),
    };
    return cmocka_run_group_tests_name("bus", tests, NULL, NULL);
}
