/* PCI configuration mechanism #1, BARs, INTx routing and the i440FX/PIIX
 * chipset registers, checked against the PCI 2.1 spec and the Intel
 * 82441FX / 82371SB / 82371AB datasheets. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>
#include <cmocka.h>
#include "hw/pci.h"
#include "hw/piix.h"
#include "system/event.h"

static Bus bus;
static PCIBus *pci;
static PIIX *piix;
static int irq_level[24];
static int resets, shutdowns, shutdown_status;

static void irq_sink(void *o, int gsi, int level)
{
    (void)o;
    if (gsi >= 0 && gsi < 24)
        irq_level[gsi] = level;
}
static void on_reset(void *o) { (void)o; resets++; }
static void on_shutdown(void *o, int st) { (void)o; shutdowns++; shutdown_status = st; }

static int setup(void **state)
{
    (void)state;
    bus_init(&bus, 16 << 20);
    bus.irq_sink = irq_sink;
    bus.on_reset = on_reset;
    bus.on_shutdown = on_shutdown;
    memset(irq_level, 0, sizeof irq_level);
    resets = shutdowns = 0;
    shutdown_status = -1;
    pci = pci_init(&bus);
    piix = piix_init(&bus, pci);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    piix_free(piix);
    pci_free(pci);
    bus_free(&bus);
    return 0;
}

static uint32_t cfg_read(int devfn, int off, int size)
{
    bus_pio_write(&bus, 0xcf8, 0x80000000u | devfn << 8 | (off & 0xfc), 4);
    return bus_pio_read(&bus, (uint16_t)(0xcfc + (off & 3)), size);
}

static void cfg_write(int devfn, int off, uint32_t v, int size)
{
    bus_pio_write(&bus, 0xcf8, 0x80000000u | devfn << 8 | (off & 0xfc), 4);
    bus_pio_write(&bus, (uint16_t)(0xcfc + (off & 3)), v, size);
}

static void test_config_address(void **state)
{
    (void)state;
    bus_pio_write(&bus, 0xcf8, 0xffffffffu, 4);
    /* Bits 30-24 reserved and bits 1-0 (type 0) read as zero. */
    assert_int_equal(bus_pio_read(&bus, 0xcf8, 4), 0x80fffffcu);
    /* Enable bit clear: no configuration cycle, reads float high. */
    bus_pio_write(&bus, 0xcf8, 0x00000000u, 4);
    assert_int_equal(bus_pio_read(&bus, 0xcfc, 4), 0xffffffffu);
}

static void test_chipset_ids(void **state)
{
    (void)state;
    assert_int_equal(cfg_read(PCI_DEVFN(0, 0), 0, 4), 0x12378086u);
    assert_int_equal(cfg_read(PCI_DEVFN(1, 0), 0, 4), 0x70008086u);
    assert_int_equal(cfg_read(PCI_DEVFN(1, 3), 0, 4), 0x71138086u);
    assert_int_equal(cfg_read(PCI_DEVFN(0, 0), PCI_CLASS_DEVICE, 2), 0x0600);
    assert_int_equal(cfg_read(PCI_DEVFN(1, 0), PCI_CLASS_DEVICE, 2), 0x0601);
    /* 01.0 has further functions, so its header type says multi-function. */
    assert_int_equal(cfg_read(PCI_DEVFN(1, 0), PCI_HEADER_TYPE, 1) & 0x80, 0x80);
    /* Byte and word reads pick the right lanes of the dword. */
    assert_int_equal(cfg_read(PCI_DEVFN(0, 0), 2, 2), 0x1237);
    assert_int_equal(cfg_read(PCI_DEVFN(0, 0), 1, 1), 0x80);
    /* Empty slot and a non-zero bus: master abort, all ones. */
    assert_int_equal(cfg_read(PCI_DEVFN(7, 0), 0, 4), 0xffffffffu);
    bus_pio_write(&bus, 0xcf8, 0x80010000u, 4);
    assert_int_equal(bus_pio_read(&bus, 0xcfc, 4), 0xffffffffu);
    /* Vendor ID is read-only. */
    cfg_write(PCI_DEVFN(0, 0), 0, 0xdead, 2);
    assert_int_equal(cfg_read(PCI_DEVFN(0, 0), 0, 2), 0x8086);
}

static uint32_t io_last_port;
static uint32_t io_read(void *o, uint16_t port, int size)
{ (void)o; (void)size; io_last_port = port; return 0x5a; }
static uint64_t mem_read(void *o, uint64_t off, int size)
{ (void)o; (void)size; return 0x1000 + off; }

static void test_bar_sizing_and_mapping(void **state)
{
    (void)state;
    PCIDevice *d = pci_add_device(pci, PCI_DEVFN(3, 0), 0x1234, 0x5678,
                                  0x02000001, "test-dev");
    assert_non_null(d);
    assert_null(pci_add_device(pci, PCI_DEVFN(3, 0), 1, 2, 0, "dup"));
    pci_set_bar_io(d, 0, 200, io_read, NULL, NULL);        /* -> 256 */
    pci_set_bar_mem(d, 1, 4096, true, mem_read, NULL, NULL);
    int df = PCI_DEVFN(3, 0);
    cfg_write(df, 0x10, 0xffffffffu, 4);
    assert_int_equal(cfg_read(df, 0x10, 4) & 0xffff, 0xff01);   /* I/O, 256 */
    cfg_write(df, 0x14, 0xffffffffu, 4);
    assert_int_equal(cfg_read(df, 0x14, 4), 0xfffff008u);       /* 4K, pref */
    /* An unimplemented BAR is hardwired to zero. */
    cfg_write(df, 0x18, 0xffffffffu, 4);
    assert_int_equal(cfg_read(df, 0x18, 4), 0);

    cfg_write(df, 0x10, 0xc100, 4);
    cfg_write(df, 0x14, 0xe0000000u, 4);
    /* Not decoded until the command register enables the space. */
    assert_int_equal(bus_pio_read(&bus, 0xc110, 1), 0xff);
    cfg_write(df, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY, 2);
    assert_int_equal(bus_pio_read(&bus, 0xc110, 1), 0x5a);
    assert_int_equal(io_last_port, 0xc110);
    assert_int_equal(bus_mem_read(&bus, 0xe0000010u, 4), 0x1010);
    assert_int_equal(pci_bar_addr(d, 0), 0xc100);
    /* Moving the BAR moves the decode. */
    cfg_write(df, 0x10, 0xd000, 4);
    assert_int_equal(bus_pio_read(&bus, 0xc110, 1), 0xff);
    assert_int_equal(bus_pio_read(&bus, 0xd004, 1), 0x5a);
    /* A BAR over 0xCF8-0xCFF is not decoded; config access survives,
     * also after the BAR moves on. */
    cfg_write(df, 0x10, 0xc00, 4);
    assert_int_equal(pci_bar_addr(d, 0), 0);
    assert_int_equal(cfg_read(df, 0, 4), 0x56781234u);
    cfg_write(df, 0x10, 0xd000, 4);
    assert_int_equal(cfg_read(df, 0, 4), 0x56781234u);
    cfg_write(df, PCI_COMMAND, 0, 2);
    assert_int_equal(bus_pio_read(&bus, 0xd004, 1), 0xff);
    assert_int_equal(bus_mem_read(&bus, 0xe0000010u, 4), 0xffffffffu);
}

static void test_status_w1c(void **state)
{
    (void)state;
    PCIDevice *d = pci_add_device(pci, PCI_DEVFN(4, 0), 0x1234, 1, 0, "t");
    pci_set_word(d, PCI_STATUS, 0xf900 | 0x0200);
    cfg_write(PCI_DEVFN(4, 0), PCI_STATUS, 0x1000, 2);    /* clear one bit */
    assert_int_equal(cfg_read(PCI_DEVFN(4, 0), PCI_STATUS, 2), 0xe900 | 0x0200);
}

static void test_pirq_routing(void **state)
{
    (void)state;
    PCIDevice *d = pci_add_device(pci, PCI_DEVFN(3, 0), 0x1234, 1, 0, "t");
    PCIDevice *e = pci_add_device(pci, PCI_DEVFN(4, 0), 0x1234, 2, 0, "u");
    pci_set_intr_pin(d, 1);                 /* slot 3 INTA -> PIRQD */
    pci_set_intr_pin(e, 1);                 /* slot 4 INTA -> PIRQA */
    assert_int_equal(pci_slot_pirq(3, 1), 3);
    assert_int_equal(pci_slot_pirq(4, 1), 0);
    assert_int_equal(pci_slot_pirq(1, 4), 0);
    /* Routing disabled at reset (bit 7 of PIRQRC). */
    assert_int_equal(cfg_read(PCI_DEVFN(1, 0), 0x60, 4), 0x80808080u);
    pci_set_irq(d, 1);
    assert_int_equal(irq_level[11], 0);
    cfg_write(PCI_DEVFN(1, 0), 0x63, 11, 1);
    assert_int_equal(irq_level[11], 1);
    /* Two PIRQs sharing IRQ 11: the line stays up until both drop. */
    cfg_write(PCI_DEVFN(1, 0), 0x60, 11, 1);
    pci_set_irq(e, 1);
    pci_set_irq(d, 0);
    assert_int_equal(irq_level[11], 1);
    pci_set_irq(e, 0);
    assert_int_equal(irq_level[11], 0);
    /* INTx disable in the command register masks the pin; the status
     * bit still shows the device's request. */
    cfg_write(PCI_DEVFN(3, 0), PCI_COMMAND, PCI_COMMAND_INTX_DISABLE, 2);
    pci_set_irq(d, 1);
    assert_int_equal(irq_level[11], 0);
    assert_int_equal(cfg_read(PCI_DEVFN(3, 0), PCI_STATUS, 2) & 8, 8);
    cfg_write(PCI_DEVFN(3, 0), PCI_COMMAND, 0, 2);
    assert_int_equal(irq_level[11], 1);
    /* Reserved IRQ numbers (0-2, 8, 13) route nowhere. */
    cfg_write(PCI_DEVFN(1, 0), 0x63, 8, 1);
    assert_int_equal(irq_level[11], 0);
    assert_int_equal(irq_level[8], 0);
}

static void test_reset_control_cf9(void **state)
{
    (void)state;
    bus_pio_write(&bus, 0xcf9, 0x02, 1);            /* SYS_RST alone: no */
    assert_int_equal(resets, 0);
    assert_int_equal(bus_pio_read(&bus, 0xcf9, 1), 0x02);
    bus_pio_write(&bus, 0xcf9, 0x06, 1);            /* RST_CPU */
    assert_int_equal(resets, 1);
    /* The dword at 0xCF8 is still the config address register. */
    bus_pio_write(&bus, 0xcf8, 0x80000800u, 4);
    assert_int_equal(bus_pio_read(&bus, 0xcf8, 4), 0x80000800u);
    assert_int_equal(resets, 1);
}

static void test_pam(void **state)
{
    (void)state;
    for (int i = 0; i < 16; i++)
        assert_false(bus.shadow_writable[i]);
    cfg_write(0, 0x59, 0x30, 1);            /* PAM0 hi: F0000-FFFFF RW */
    for (int i = 12; i < 16; i++)
        assert_true(bus.shadow_writable[i]);
    cfg_write(0, 0x5a, 0x21, 1);            /* C4000 WE, C0000 RE only */
    assert_false(bus.shadow_writable[0]);
    assert_true(bus.shadow_writable[1]);
    cfg_write(0, 0x5f, 0x20, 1);            /* PAM6 hi: EC000 */
    assert_true(bus.shadow_writable[11]);
    assert_false(bus.shadow_writable[10]);
    /* The bus honours it: writes land only where enabled. */
    bus_mem_write(&bus, 0xf0000, 0xab, 1);
    assert_int_equal(bus.ram[0xf0000], 0xab);
    cfg_write(0, 0x59, 0x10, 1);
    bus_mem_write(&bus, 0xf0000, 0xcd, 1);
    assert_int_equal(bus.ram[0xf0000], 0xab);
    assert_int_equal(cfg_read(0, 0x72, 1), 0x02);   /* SMRAM default */
}

static void enable_pm(void)
{
    cfg_write(PIIX_DEVFN_PM, 0x40, 0x601, 4);
    cfg_write(PIIX_DEVFN_PM, 0x80, 1, 1);
}

static void sleep_ms(int ms)
{
    struct timespec ts = { 0, ms * 1000000L };
    nanosleep(&ts, NULL);
}

static void test_pm_timer(void **state)
{
    (void)state;
    /* Not decoded until PMIOSE (0x80 bit 0) is set. */
    assert_int_equal(bus_pio_read(&bus, 0x608, 4), 0xffffffffu);
    enable_pm();
    assert_int_equal(cfg_read(PIIX_DEVFN_PM, 0x40, 4), 0x601);
    uint32_t t0 = bus_pio_read(&bus, 0x608, 4);
    int64_t h0 = host_clock_ns();
    sleep_ms(20);
    uint32_t t1 = bus_pio_read(&bus, 0x608, 4);
    int64_t h1 = host_clock_ns();
    assert_int_equal(t0 >> 24, 0);                 /* 24-bit counter */
    uint32_t d = (t1 - t0) & 0xffffff;
    double expect = (double)(h1 - h0) * 3579545.0 / 1e9;
    /* 3.579545 MHz against the host clock, within 10 % (+ rounding). */
    assert_true(d > expect * 0.9 - 4 && d < expect * 1.1 + 4);
}

static void test_pm_block_not_over_config_ports(void **state)
{
    (void)state;
    cfg_write(PIIX_DEVFN_PM, 0x40, 0xcc1, 4);      /* 0xCC0-0xCFF */
    cfg_write(PIIX_DEVFN_PM, 0x80, 1, 1);
    assert_int_equal(cfg_read(PCI_DEVFN(0, 0), 0, 4), 0x12378086u);
    cfg_write(PIIX_DEVFN_PM, 0x40, 0x601, 4);
    assert_int_equal(cfg_read(PCI_DEVFN(0, 0), 0, 4), 0x12378086u);
    assert_true(bus_pio_read(&bus, 0x608, 4) != 0xffffffffu);
}

static void test_pm_s5_and_acpi_enable(void **state)
{
    (void)state;
    enable_pm();
    assert_int_equal(bus_pio_read(&bus, 0x604, 2) & 1, 0);   /* SCI_EN */
    bus_pio_write(&bus, 0xb2, 0xf1, 1);                      /* ACPI on */
    assert_int_equal(bus_pio_read(&bus, 0x604, 2) & 1, 1);
    /* Sleep type 1 with SLP_EN: not S5, no power off; WAK_STS set. */
    bus_pio_write(&bus, 0x604, 0x2401, 2);
    assert_int_equal(shutdowns, 0);
    assert_int_equal(bus_pio_read(&bus, 0x600, 2) & 0x8000, 0x8000);
    /* SLP_EN reads back as zero. */
    assert_int_equal(bus_pio_read(&bus, 0x604, 2) & 0x2000, 0);
    bus_pio_write(&bus, 0x604, 0x2001, 2);                   /* S5 */
    assert_int_equal(shutdowns, 1);
    assert_int_equal(shutdown_status, 0);
}

static void test_pm_sci(void **state)
{
    (void)state;
    enable_pm();
    bus_pio_write(&bus, 0xb2, 0xf1, 1);
    bus_pio_write(&bus, 0x60e, 0x0001, 2);          /* GPE0_EN bit 0 */
    assert_int_equal(irq_level[9], 0);
    piix->st.gpe0_sts |= 1;                         /* event source */
    bus_pio_write(&bus, 0x60e, 0x0001, 2);
    assert_int_equal(irq_level[9], 1);
    bus_pio_write(&bus, 0x60c, 0x0001, 2);          /* W1C */
    assert_int_equal(irq_level[9], 0);
}

static void test_smm_skipped(void **state)
{
    (void)state;
    /* DEVACTB APMC_EN reads set: firmware sees SMI already configured. */
    assert_int_equal(cfg_read(PIIX_DEVFN_PM, 0x58, 4) & (1u << 25), 1u << 25);
}

static void test_firmware_setup(void **state)
{
    (void)state;
    PCIDevice *d = pci_add_device(pci, PCI_DEVFN(3, 0), 0x1234, 1, 0, "t");
    pci_set_bar_io(d, 0, 32, io_read, NULL, NULL);
    pci_set_bar_mem(d, 1, 1 << 20, false, mem_read, NULL, NULL);
    pci_set_intr_pin(d, 1);
    piix_firmware_setup(piix);
    assert_int_equal(cfg_read(PCI_DEVFN(3, 0), PCI_INTERRUPT_LINE, 1), 11);
    assert_int_equal(cfg_read(PIIX_DEVFN_PM, PCI_INTERRUPT_LINE, 1), 9);
    uint32_t io = pci_bar_addr(d, 0), mem = pci_bar_addr(d, 1);
    assert_true(io >= 0xc000 && (io & 31) == 0);
    assert_true(mem >= 0xe0000000u && (mem & 0xfffff) == 0);
    assert_int_equal(bus_pio_read(&bus, (uint16_t)io, 1), 0x5a);
    assert_true(bus_pio_read(&bus, 0x608, 4) != 0xffffffffu);
    assert_true(bus.shadow_writable[15]);
}

static void test_device_reset(void **state)
{
    (void)state;
    cfg_write(PCI_DEVFN(1, 0), 0x60, 10, 1);
    cfg_write(PCI_DEVFN(0, 0), 0x59, 0x30, 1);
    bus_reset_devices(&bus);
    assert_int_equal(cfg_read(PCI_DEVFN(1, 0), 0x60, 1), 0x80);
    assert_int_equal(cfg_read(PCI_DEVFN(0, 0), 0x59, 1), 0);
    assert_false(bus.shadow_writable[15]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_config_address, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chipset_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bar_sizing_and_mapping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_w1c, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pirq_routing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_control_cf9, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pam, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pm_timer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pm_block_not_over_config_ports, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pm_s5_and_acpi_enable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pm_sci, setup, teardown),
        cmocka_unit_test_setup_teardown(test_smm_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_firmware_setup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_device_reset, setup, teardown),
    };
    return cmocka_run_group_tests_name("pci", tests, NULL, NULL);
}
