/* Local APIC registers and interrupt acceptance, as the Intel SDM vol. 3
 * ("Advanced Programmable Interrupt Controller") specifies them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>
#include <cmocka.h>
#include "hw/apic.h"
#include "system/event.h"

static Bus bus;
static CPUState *cpu;
static APIC *apic;
static int eoi_vec, eoi_count, pic_acks;

static void eoi_fn(void *o, int v) { (void)o; eoi_vec = v; eoi_count++; }
static int pic_ack(void *o) { (void)o; pic_acks++; return 0x08; }

static uint32_t rd(uint32_t off) { return (uint32_t)bus_mem_read(&bus, 0xfee00000u + off, 4); }
static void wr(uint32_t off, uint32_t v) { bus_mem_write(&bus, 0xfee00000u + off, v, 4); }

static int setup(void **state)
{
    (void)state;
    bus_init(&bus, 16 << 20);
    cpu = calloc(1, sizeof *cpu);
    cpu->bus = &bus;
    apic = apic_init(&bus, cpu);
    apic_set_eoi_fn(apic, eoi_fn, NULL);
    apic_set_pic_ack(apic, pic_ack, NULL);
    eoi_vec = -1;
    eoi_count = pic_acks = 0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    apic_free(apic);
    free(cpu);
    bus_free(&bus);
    return 0;
}

static bool irr(int v) { return (rd(0x200 + (v >> 5) * 0x10) >> (v & 31)) & 1; }
static bool isr(int v) { return (rd(0x100 + (v >> 5) * 0x10) >> (v & 31)) & 1; }

static void test_reset_values(void **state)
{
    (void)state;
    assert_int_equal(cpu->apic_base, 0xfee00900u);      /* BSP, enabled */
    assert_int_equal(rd(0x30), 0x00050014u);
    assert_int_equal(rd(0xf0), 0xff);                   /* SVR */
    assert_int_equal(rd(0xe0), 0xffffffffu);            /* DFR flat */
    assert_int_equal(rd(0x320), 0x10000);               /* timer masked */
    assert_int_equal(rd(0x360), 0x10000);               /* LINT1 masked */
    assert_int_equal(rd(0x350), 0x700);                 /* LINT0 ExtINT */
    assert_true(apic_pic_passthrough(apic));
}

static void test_software_disable(void **state)
{
    (void)state;
    apic_deliver(apic, 0x40, APIC_DM_FIXED, false);
    assert_false(irr(0x40));                 /* SVR.8 clear: not accepted */
    wr(0xf0, 0x1ff);
    wr(0x320, 0x30);                         /* unmask timer LVT */
    assert_int_equal(rd(0x320), 0x30);
    wr(0xf0, 0x0ff);                         /* disable again: LVTs mask */
    assert_int_equal(rd(0x320), 0x10030);
    wr(0x320, 0x31);                         /* and stay masked */
    assert_int_equal(rd(0x320), 0x10031);
}

static void test_priority_and_eoi(void **state)
{
    (void)state;
    wr(0xf0, 0x1ff);
    wr(0x350, 0x10000);                      /* PIC out of the way */
    apic_deliver(apic, 0x31, APIC_DM_FIXED, false);
    assert_true(irr(0x31));
    assert_true(apic_has_intr(apic));
    assert_true(cpu->interrupt_request & CPU_INT_HARD);
    assert_int_equal(apic_intr_ack(apic), 0x31);
    assert_false(irr(0x31));
    assert_true(isr(0x31));
    assert_int_equal(rd(0xa0), 0x30);        /* PPR = ISR class */
    /* Same priority class as the one in service: held back. */
    apic_deliver(apic, 0x3a, APIC_DM_FIXED, false);
    assert_false(apic_has_intr(apic));
    assert_false(cpu->interrupt_request & CPU_INT_HARD);
    /* Higher class nests. */
    apic_deliver(apic, 0x41, APIC_DM_FIXED, false);
    assert_int_equal(apic_intr_ack(apic), 0x41);
    wr(0xb0, 0);                             /* EOI clears highest ISR */
    assert_false(isr(0x41));
    assert_true(isr(0x31));
    wr(0xb0, 0);
    assert_int_equal(apic_intr_ack(apic), 0x3a);
    wr(0xb0, 0);
    assert_int_equal(eoi_count, 0);          /* edge: no broadcast */
    /* TPR blocks classes at or below it. */
    wr(0x80, 0x50);
    apic_deliver(apic, 0x45, APIC_DM_FIXED, false);
    assert_false(apic_has_intr(apic));
    assert_int_equal(rd(0xa0), 0x50);
    wr(0x80, 0x30);
    assert_true(apic_has_intr(apic));
    /* Nothing left: the acknowledge returns the spurious vector. */
    assert_int_equal(apic_intr_ack(apic), 0x45);
    assert_int_equal(apic_intr_ack(apic), 0xff);
}

static void test_level_eoi_broadcast(void **state)
{
    (void)state;
    wr(0xf0, 0x1ff);
    wr(0x350, 0x10000);
    apic_deliver(apic, 0x61, APIC_DM_FIXED, true);
    assert_true((rd(0x180 + 0x30) >> 1) & 1);    /* TMR bit 0x61 */
    assert_int_equal(apic_intr_ack(apic), 0x61);
    wr(0xb0, 0);
    assert_int_equal(eoi_count, 1);
    assert_int_equal(eoi_vec, 0x61);
}

static void test_self_ipi_and_esr(void **state)
{
    (void)state;
    wr(0xf0, 0x1ff);
    wr(0x300, (1u << 18) | 0x55);            /* shorthand: self, fixed */
    assert_true(irr(0x55));
    assert_int_equal(rd(0x300) & (1u << 12), 0);   /* delivery idle */
    /* Physical destination that is not us: ignored. */
    wr(0x310, 5u << 24);
    wr(0x300, 0x56);
    assert_false(irr(0x56));
    wr(0x310, 0u << 24);
    wr(0x300, 0x57);
    assert_true(irr(0x57));
    /* Illegal vector: error bits appear after a write to ESR. */
    wr(0x300, (1u << 18) | 0x05);
    wr(0x280, 0);
    assert_int_equal(rd(0x280) & 0x60, 0x60);
    /* With the error LVT unmasked, an error also raises its vector. */
    wr(0x370, 0xfe);
    assert_false(irr(0xfe));
    wr(0x300, (1u << 18) | 0x03);
    assert_true(irr(0xfe));
    /* An error LVT with an illegal vector raises nothing (and does not
     * loop on its own error). */
    wr(0x370, 0x02);
    wr(0x300, (1u << 18) | 0x03);
    assert_false(irr(0x02));
}

static void test_extint_passthrough(void **state)
{
    (void)state;
    apic_set_lint(apic, 0, 1);               /* PIC raises INT */
    assert_true(apic_has_intr(apic));
    assert_int_equal(apic_intr_ack(apic), 0x08);
    assert_int_equal(pic_acks, 1);
    /* LINT0 masked: the PIC no longer reaches the CPU... */
    wr(0xf0, 0x1ff);
    wr(0x350, 0x10700);
    assert_false(apic_pic_passthrough(apic));
    assert_false(apic_has_intr(apic));
    /* ...unless the APIC is globally disabled (IA32_APIC_BASE.EN). */
    cpu->apic_base &= ~(uint64_t)APIC_BASE_ENABLE;
    apic_base_changed(apic);
    assert_true(apic_pic_passthrough(apic));
    assert_true(apic_has_intr(apic));
    /* and its registers disappear from the bus. */
    assert_int_equal(rd(0x30), 0xffffffffu);
    apic_set_lint(apic, 0, 0);
}

static void test_lint1_nmi(void **state)
{
    (void)state;
    wr(0xf0, 0x1ff);
    wr(0x360, 0x400);                        /* NMI, unmasked */
    apic_set_lint(apic, 1, 1);
    assert_true(cpu->interrupt_request & CPU_INT_NMI);
}

static void sleep_ms(int ms)
{
    struct timespec ts = { 0, ms * 1000000L };
    nanosleep(&ts, NULL);
}

static void test_timer_oneshot(void **state)
{
    (void)state;
    wr(0xf0, 0x1ff);
    wr(0x3e0, 0xb);                          /* divide by 1 */
    wr(0x320, 0x60);                         /* one-shot, vector 0x60 */
    wr(0x380, 3000000);                      /* 3 ms at 1 GHz */
    uint32_t c1 = rd(0x390);
    assert_true(c1 > 0 && c1 <= 3000000);
    sleep_ms(1);
    assert_true(rd(0x390) < c1);
    assert_false(irr(0x60));
    sleep_ms(5);
    timers_run();
    assert_true(irr(0x60));
    assert_int_equal(rd(0x390), 0);          /* stays at zero */
    assert_int_equal(rd(0x380), 3000000);
}

static void test_timer_divide_and_periodic(void **state)
{
    (void)state;
    wr(0xf0, 0x1ff);
    wr(0x3e0, 0x3);                          /* divide by 16 */
    wr(0x320, (1u << 17) | 0x61);            /* periodic */
    assert_int_equal(rd(0x320), (1u << 17) | 0x61);
    wr(0x380, 62500);                        /* 1 ms period */
    sleep_ms(3);
    timers_run();
    assert_true(irr(0x61));
    /* Periodic: the count reloads instead of stopping at 0. */
    uint32_t c = rd(0x390);
    assert_true(c > 0 && c <= 62500);
    /* Masked LVT: the count runs but nothing is delivered. */
    apic_intr_ack(apic);
    wr(0xb0, 0);
    wr(0x320, (1u << 17) | 0x10061);
    sleep_ms(3);
    timers_run();
    assert_false(irr(0x61));
    wr(0x380, 0);                            /* count 0 stops the timer */
    assert_int_equal(rd(0x390), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reset_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_software_disable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_priority_and_eoi, setup, teardown),
        cmocka_unit_test_setup_teardown(test_level_eoi_broadcast, setup, teardown),
        cmocka_unit_test_setup_teardown(test_self_ipi_and_esr, setup, teardown),
        cmocka_unit_test_setup_teardown(test_extint_passthrough, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lint1_nmi, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timer_oneshot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timer_divide_and_periodic, setup, teardown),
    };
    return cmocka_run_group_tests_name("apic", tests, NULL, NULL);
}
