/* 8237 DMA pair registers (flip-flop, masks, status, page registers) and a
 * memory transfer with terminal count; port 0x92 fast A20 and reset. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "hw/bus.h"
#include "hw/dma.h"
#include "hw/port92.h"

static Bus bus;
static DMA *dma;
static int resets;
static void on_reset(void *o) { (void)o; resets++; }

static void outb(uint16_t port, uint8_t v) { bus_pio_write(&bus, port, v, 1); }
static uint8_t inb(uint16_t port) { return (uint8_t)bus_pio_read(&bus, port, 1); }

static int setup(void **state)
{
    (void)state;
    bus_init(&bus, 1 << 20);
    bus.on_reset = on_reset;
    resets = 0;
    dma = dma_init(&bus);
    port92_init(&bus);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    dma_free(dma);
    bus_free(&bus);
    return 0;
}

static void test_registers(void **state)
{
    (void)state;
    assert_int_equal(inb(0x0F) & 0x0F, 0x0F);    /* all masked at reset */
    outb(0x0C, 0);                               /* clear flip-flop */
    outb(0x04, 0x34);
    outb(0x04, 0x12);                            /* ch2 address 0x1234 */
    outb(0x0C, 0);
    assert_int_equal(inb(0x04), 0x34);
    assert_int_equal(inb(0x04), 0x12);
    outb(0x0A, 0x02);                            /* unmask ch2 */
    assert_int_equal(inb(0x0F) & 0x0F, 0x0B);
    outb(0x0E, 0);                               /* clear all masks */
    assert_int_equal(inb(0x0F) & 0x0F, 0x00);
    outb(0x0F, 0x05);
    assert_int_equal(inb(0x0F) & 0x0F, 0x05);
    outb(0xD4, 0x01);                            /* DMA2 single mask */
    assert_int_equal(inb(0xDE) & 0x0F, 0x0D);    /* channel 5 unmasked */
    outb(0x81, 0x07);
    assert_int_equal(inb(0x81), 0x07);
    outb(0x0D, 0);                               /* master clear */
    assert_int_equal(inb(0x0F) & 0x0F, 0x0F);
}

static void test_transfer(void **state)
{
    (void)state;
    outb(0x0C, 0);
    outb(0x04, 0x00); outb(0x04, 0x30);          /* ch2 addr 0x3000 */
    outb(0x05, 0x03); outb(0x05, 0x00);          /* count 3 (4 bytes) */
    outb(0x81, 0x01);                            /* page 1: 0x13000 */
    outb(0x0B, 0x46);                            /* ch2, write memory */
    outb(0x0A, 0x02);
    uint8_t buf[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    assert_int_equal(dma_transfer(dma, 2, buf, 8), 4);
    assert_int_equal(bus.ram[0x13003], 4);
    assert_int_equal(bus.ram[0x13004], 0);
    assert_int_equal(inb(0x08) & 0x04, 0x04);    /* TC reached */
    assert_int_equal(inb(0x08) & 0x04, 0x00);    /* cleared by reading */
    assert_int_equal(dma_transfer(dma, 2, buf, 8), 0);  /* masked at TC */
    assert_int_equal(dma_transfer(dma, 9, buf, 8), 0);
}

static void test_port92(void **state)
{
    (void)state;
    assert_int_equal(inb(0x92) & 0x02, 0x02);
    outb(0x92, 0x00);
    assert_int_equal(bus.a20_mask, 0xFFEFFFFFu);
    assert_int_equal(inb(0x92) & 0x02, 0x00);
    outb(0x92, 0x02);
    assert_int_equal(bus.a20_mask, 0xFFFFFFFFu);
    assert_int_equal(resets, 0);
    outb(0x92, 0x03);
    assert_int_equal(resets, 1);
    outb(0x92, 0x03);                            /* no new edge */
    assert_int_equal(resets, 1);
    bus_reset_devices(&bus);
    outb(0x92, 0x03);
    assert_int_equal(resets, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_registers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transfer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_port92, setup, teardown),
    };
    return cmocka_run_group_tests_name("dma", tests, NULL, NULL);
}
