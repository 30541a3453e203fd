/* I/O APIC redirection, edge/level semantics and remote IRR, per the
 * 82093AA datasheet, delivered into a real local APIC model. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <stdlib.h>
#include <cmocka.h>
#include "hw/ioapic.h"

static Bus bus;
static CPUState *cpu;
static APIC *apic;
static IOAPIC *io;

static uint32_t io_rd(uint32_t idx)
{
    bus_mem_write(&bus, 0xfec00000u, idx, 4);
    return (uint32_t)bus_mem_read(&bus, 0xfec00010u, 4);
}
static void io_wr(uint32_t idx, uint32_t v)
{
    bus_mem_write(&bus, 0xfec00000u, idx, 4);
    bus_mem_write(&bus, 0xfec00010u, v, 4);
}
static void lapic_wr(uint32_t off, uint32_t v) { bus_mem_write(&bus, 0xfee00000u + off, v, 4); }
static bool irr(int v)
{
    uint32_t w = (uint32_t)bus_mem_read(&bus, 0xfee00200u + (v >> 5) * 0x10, 4);
    return (w >> (v & 31)) & 1;
}

static int setup(void **state)
{
    (void)state;
    bus_init(&bus, 16 << 20);
    cpu = calloc(1, sizeof *cpu);
    apic = apic_init(&bus, cpu);
    io = ioapic_init(&bus, apic);
    lapic_wr(0xf0, 0x1ff);                       /* APIC software enable */
    lapic_wr(0x350, 0x10000);                    /* no PIC */
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ioapic_free(io);
    apic_free(apic);
    free(cpu);
    bus_free(&bus);
    return 0;
}

static void test_id_version_reset(void **state)
{
    (void)state;
    assert_int_equal(io_rd(0x01), 0x00170011u);  /* 24 entries, v0x11 */
    io_wr(0x00, 0x0f000000u);
    assert_int_equal(io_rd(0x00), 0x0f000000u);
    for (int pin = 0; pin < 24; pin++)
        assert_int_equal(io_rd(0x10 + 2 * pin), 0x10000);   /* masked */
    /* Byte-wide IOREGSEL read-back. */
    bus_mem_write(&bus, 0xfec00000u, 0x12, 4);
    assert_int_equal(bus_mem_read(&bus, 0xfec00000u, 4), 0x12);
}

static void test_edge(void **state)
{
    (void)state;
    io_wr(0x10 + 2 * 4, 0x34);                   /* pin 4: vec 0x34, edge */
    io_wr(0x11 + 2 * 4, 0);
    ioapic_set_irq(io, 4, 1);
    assert_true(irr(0x34));
    assert_int_equal(apic_intr_ack(apic), 0x34);
    lapic_wr(0xb0, 0);
    /* Holding the line high does not re-trigger an edge input. */
    ioapic_set_irq(io, 4, 1);
    assert_false(irr(0x34));
    ioapic_set_irq(io, 4, 0);
    ioapic_set_irq(io, 4, 1);
    assert_true(irr(0x34));
}

static void test_masked_edge_latched(void **state)
{
    (void)state;
    io_wr(0x10 + 2 * 1, 0x10031);                /* masked */
    ioapic_set_irq(io, 1, 1);
    ioapic_set_irq(io, 1, 0);
    assert_false(irr(0x31));
    io_wr(0x10 + 2 * 1, 0x31);                   /* unmask: delivered */
    assert_true(irr(0x31));
}

static void test_level_remote_irr(void **state)
{
    (void)state;
    io_wr(0x10 + 2 * 9, 0x8039);                 /* level, vector 0x39 */
    ioapic_set_irq(io, 9, 1);
    assert_true(irr(0x39));
    assert_true(io_rd(0x10 + 2 * 9) & (1u << 14));   /* remote IRR */
    /* Remote IRR is read-only. */
    io_wr(0x10 + 2 * 9, 0x8039);
    assert_true(io_rd(0x10 + 2 * 9) & (1u << 14));
    assert_int_equal(apic_intr_ack(apic), 0x39);
    /* Line still asserted at EOI: the interrupt comes again. */
    lapic_wr(0xb0, 0);
    assert_true(irr(0x39));
    assert_int_equal(apic_intr_ack(apic), 0x39);
    ioapic_set_irq(io, 9, 0);
    lapic_wr(0xb0, 0);
    assert_false(irr(0x39));
    assert_false(io_rd(0x10 + 2 * 9) & (1u << 14));
}

static void test_destination_field(void **state)
{
    (void)state;
    io_wr(0x11 + 2 * 2, 0xff000000u);
    assert_int_equal(io_rd(0x11 + 2 * 2), 0xff000000u);
    /* Reserved bits of the high dword stay zero. */
    io_wr(0x11 + 2 * 3, 0x00ffffffu);
    assert_int_equal(io_rd(0x11 + 2 * 3), 0);
    /* Out-of-range index reads all ones and writes are ignored. */
    io_wr(0x40, 0x1234);
    assert_int_equal(io_rd(0x40), 0xffffffffu);
    ioapic_set_irq(io, 24, 1);                  /* ignored, no crash */
    ioapic_set_irq(io, -1, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_id_version_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_edge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_masked_edge_latched, setup, teardown),
        cmocka_unit_test_setup_teardown(test_level_remote_irr, setup, teardown),
        cmocka_unit_test_setup_teardown(test_destination_field, setup, teardown),
    };
    return cmocka_run_group_tests_name("ioapic", tests, NULL, NULL);
}
