/* 8259A PIC pair: register-level behaviour from the Intel 8259A datasheet
 * (ICW/OCW formats, priority rules, spurious IR7) and the PIIX ELCR. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "hw/bus.h"
#include "hw/pic.h"

static Bus bus;
static PIC *pic;
static bool intr;
static int intr_calls;

static void on_intr(void *opaque, bool level)
{
    (void)opaque;
    intr = level;
    intr_calls++;
}

static void outb(uint16_t port, uint8_t v) { bus_pio_write(&bus, port, v, 1); }
static uint8_t inb(uint16_t port) { return (uint8_t)bus_pio_read(&bus, port, 1); }

/* The sequence SeaBIOS and Linux use: edge, cascade, 8086 mode. */
static void init_pair(uint8_t icw4)
{
    outb(0x20, 0x11); outb(0x21, 0x08); outb(0x21, 0x04); outb(0x21, icw4);
    outb(0xA0, 0x11); outb(0xA1, 0x70); outb(0xA1, 0x02); outb(0xA1, icw4);
    outb(0x21, 0x00); outb(0xA1, 0x00);
}

static int setup(void **state)
{
    (void)state;
    bus_init(&bus, 1 << 20);
    intr = false;
    pic = pic_init(&bus, on_intr, NULL);
    init_pair(0x01);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    pic_free(pic);
    bus_free(&bus);
    return 0;
}

static uint8_t read_isr(uint16_t base) { outb(base, 0x0B); return inb(base); }
static uint8_t read_irr(uint16_t base) { outb(base, 0x0A); return inb(base); }

static void test_imr_readback(void **state)
{
    (void)state;
    outb(0x21, 0xA5);
    assert_int_equal(inb(0x21), 0xA5);
    outb(0xA1, 0x5A);
    assert_int_equal(inb(0xA1), 0x5A);
    /* ICW1 clears the IMR. */
    outb(0x20, 0x11);
    assert_int_equal(inb(0x21), 0x00);
}

static void test_edge_ack_eoi(void **state)
{
    (void)state;
    pic_set_irq(pic, 0, 1);
    assert_true(intr);
    assert_int_equal(read_irr(0x20) & 1, 1);
    assert_int_equal(pic_ack(pic), 0x08);
    assert_false(intr);
    assert_int_equal(read_isr(0x20), 0x01);
    assert_int_equal(read_irr(0x20) & 1, 0);
    /* A new edge while in service is latched but held off. */
    pic_set_irq(pic, 0, 0);
    pic_set_irq(pic, 0, 1);
    assert_false(intr);
    assert_int_equal(read_irr(0x20) & 1, 1);
    outb(0x20, 0x20);                       /* non-specific EOI */
    assert_int_equal(read_isr(0x20), 0);
    assert_true(intr);
    /* Holding the line high gives no second edge. */
    assert_int_equal(pic_ack(pic), 0x08);
    outb(0x20, 0x20);
    pic_set_irq(pic, 0, 1);
    assert_false(intr);
}

static void test_priority_order(void **state)
{
    (void)state;
    pic_set_irq(pic, 5, 1);
    pic_set_irq(pic, 3, 1);
    pic_set_irq(pic, 1, 1);
    assert_int_equal(pic_ack(pic), 0x09);
    /* IRQ 3 and 5 are lower priority than 1, which is in service. */
    assert_false(intr);
    outb(0x20, 0x20);
    assert_int_equal(pic_ack(pic), 0x0B);
    /* Fully nested: a higher priority request interrupts a lower one. */
    pic_set_irq(pic, 0, 1);
    assert_true(intr);
    assert_int_equal(pic_ack(pic), 0x08);
    assert_int_equal(read_isr(0x20), 0x09);
    outb(0x20, 0x20);                       /* clears IRQ0, the highest */
    assert_int_equal(read_isr(0x20), 0x08);
    outb(0x20, 0x63);                       /* specific EOI for IRQ 3 */
    assert_int_equal(read_isr(0x20), 0x00);
    assert_int_equal(pic_ack(pic), 0x0D);
}

static void test_imr_masks(void **state)
{
    (void)state;
    outb(0x21, 0x10);
    pic_set_irq(pic, 4, 1);
    assert_false(intr);
    assert_int_equal(read_irr(0x20), 0x10);  /* IRR ignores the mask */
    outb(0x21, 0x00);
    assert_true(intr);
    assert_int_equal(pic_ack(pic), 0x0C);
}

static void test_cascade(void **state)
{
    (void)state;
    pic_set_irq(pic, 8, 1);
    assert_true(intr);
    assert_int_equal(pic_ack(pic), 0x70);
    assert_int_equal(read_isr(0x20), 0x04);
    assert_int_equal(read_isr(0xA0), 0x01);
    pic_set_irq(pic, 12, 1);
    assert_false(intr);                     /* slave level 0 in service */
    outb(0xA0, 0x20);
    assert_false(intr);                     /* master IR2 still in service */
    outb(0x20, 0x20);
    assert_true(intr);
    assert_int_equal(pic_ack(pic), 0x74);
    /* Masking IR2 on the master masks the whole slave. */
    outb(0xA0, 0x20); outb(0x20, 0x20);
    outb(0x21, 0x04);
    pic_set_irq(pic, 9, 1);
    assert_false(intr);
    outb(0x21, 0x00);
    assert_true(intr);
    assert_int_equal(pic_ack(pic), 0x71);
}

static void test_spurious(void **state)
{
    (void)state;
    /* A level request withdrawn before INTA yields IR7 with no ISR bit. */
    pic_set_elcr(pic, 0, 0x20);
    pic_set_irq(pic, 5, 1);
    assert_true(intr);
    pic_set_irq(pic, 5, 0);
    assert_false(intr);
    assert_int_equal(pic_ack(pic), 0x0F);
    assert_int_equal(read_isr(0x20), 0);
    /* The same on the slave: vector of IRQ 15, the master still took IR2. */
    pic_set_elcr(pic, 1, 0x04);
    pic_set_irq(pic, 10, 1);
    pic_set_irq(pic, 10, 0);
    /* The master latched the edge on IR2 although the slave dropped. */
    assert_int_equal(pic_ack(pic), 0x77);
    assert_int_equal(read_isr(0xA0), 0);
    assert_int_equal(read_isr(0x20), 0x04);
}

static void test_level_triggered(void **state)
{
    (void)state;
    pic_set_elcr(pic, 1, 0x08);              /* IRQ 11 level */
    assert_int_equal(inb(0x4D1), 0x08);
    pic_set_irq(pic, 11, 1);
    assert_int_equal(pic_ack(pic), 0x73);
    assert_int_equal(read_irr(0xA0) & 0x08, 0x08); /* IRR follows the line */
    outb(0xA0, 0x20); outb(0x20, 0x20);
    assert_true(intr);                        /* still asserted: again */
    pic_set_irq(pic, 11, 0);
    assert_int_equal(read_irr(0xA0) & 0x08, 0);
    /* The master latched the cascade edge; the slave, whose request is
     * gone, answers with its IR7 vector. */
    assert_int_equal(pic_ack(pic), 0x77);
    outb(0x20, 0x20);
    assert_false(intr);
}

static void test_elcr_mask(void **state)
{
    (void)state;
    outb(0x4D0, 0xFF);
    outb(0x4D1, 0xFF);
    assert_int_equal(inb(0x4D0), 0xF8);
    assert_int_equal(inb(0x4D1), 0xDE);
    assert_int_equal(pic_get_elcr(pic, 1), 0xDE);
}

static void test_ltim(void **state)
{
    (void)state;
    /* ICW1 bit 3 makes every input of that chip level-sensitive. */
    outb(0x20, 0x19); outb(0x21, 0x08); outb(0x21, 0x04); outb(0x21, 0x01);
    pic_set_irq(pic, 6, 1);
    assert_int_equal(pic_ack(pic), 0x0E);
    outb(0x20, 0x20);
    assert_true(intr);
}

static void test_auto_eoi(void **state)
{
    (void)state;
    init_pair(0x03);
    pic_set_irq(pic, 1, 1);
    assert_int_equal(pic_ack(pic), 0x09);
    assert_int_equal(read_isr(0x20), 0);
    pic_set_irq(pic, 3, 1);
    assert_true(intr);                       /* nothing held in service */
}

static void test_rotation(void **state)
{
    (void)state;
    outb(0x20, 0xC2);                  /* set priority: IRQ 2 lowest */
    pic_set_irq(pic, 1, 1);
    pic_set_irq(pic, 4, 1);
    assert_int_equal(pic_ack(pic), 0x0C);    /* IRQ 3 is now highest */
    /* Rotate on non-specific EOI: IRQ 4 becomes lowest, 5 highest. */
    outb(0x20, 0xA0);
    assert_int_equal(read_isr(0x20), 0);
    pic_set_irq(pic, 4, 0);
    pic_set_irq(pic, 4, 1);
    pic_set_irq(pic, 6, 1);
    assert_int_equal(pic_ack(pic), 0x0E);
    outb(0x20, 0xE6);                  /* rotate on specific EOI, level 6 */
    assert_int_equal(pic_ack(pic), 0x09);    /* 7,0,1 ... order */
}

static void test_poll_mode(void **state)
{
    (void)state;
    outb(0x21, 0xFF);                  /* poll works with masked INT too? */
    outb(0x21, 0x00);
    outb(0x20, 0x0C);
    assert_int_equal(inb(0x20), 0x00);       /* nothing pending */
    pic_set_irq(pic, 6, 1);
    outb(0x20, 0x0C);
    assert_int_equal(inb(0x20), 0x86);
    assert_int_equal(read_isr(0x20), 0x40);
    assert_false(intr);
}

static void test_special_mask(void **state)
{
    (void)state;
    pic_set_irq(pic, 3, 1);
    assert_int_equal(pic_ack(pic), 0x0B);
    pic_set_irq(pic, 5, 1);
    assert_false(intr);                      /* lower than 3 in service */
    outb(0x21, 0x08);                        /* mask the level in service */
    outb(0x20, 0x68);                        /* OCW3: set special mask */
    assert_true(intr);
    assert_int_equal(pic_ack(pic), 0x0D);
    outb(0x20, 0x48);                        /* reset special mask */
    assert_int_equal(read_isr(0x20), 0x28);
}

static void test_bus_reset(void **state)
{
    (void)state;
    pic_set_elcr(pic, 1, 0x08);
    outb(0x21, 0x55);
    bus_reset_devices(&bus);
    assert_int_equal(inb(0x21), 0);
    assert_int_equal(inb(0x4D1), 0);
    assert_non_null(bus_find_device(&bus, "pic"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_imr_readback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_edge_ack_eoi, setup, teardown),
        cmocka_unit_test_setup_teardown(test_priority_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_imr_masks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cascade, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spurious, setup, teardown),
        cmocka_unit_test_setup_teardown(test_level_triggered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_elcr_mask, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ltim, setup, teardown),
        cmocka_unit_test_setup_teardown(test_auto_eoi, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_poll_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_special_mask, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bus_reset, setup, teardown),
    };
    return cmocka_run_group_tests_name("pic", tests, NULL, NULL);
}
