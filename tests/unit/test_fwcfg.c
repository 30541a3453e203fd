/* fw_cfg as QEMU documents it (docs/specs/fw_cfg.rst): selector/data
 * ports, file directory, DMA descriptors, and the PC items SeaBIOS reads. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <stdlib.h>
#include <cmocka.h>
#include "hw/fwcfg.h"

static Bus bus;
static FWCfg *fw;

static int setup(void **state)
{
    (void)state;
    bus_init(&bus, 64 << 20);
    fw = fwcfg_init(&bus);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fwcfg_free(fw);
    bus_free(&bus);
    return 0;
}

static void sel(uint16_t key) { bus_pio_write(&bus, 0x510, key, 2); }
static void read_bytes(uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)bus_pio_read(&bus, 0x511, 1);
}
static uint32_t be32(const uint8_t *p)
{ return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }
static void put_be32(uint8_t *p, uint32_t v)
{ p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v; }
static uint32_t bswap(uint32_t v)
{ return v >> 24 | ((v >> 8) & 0xff00) | ((v << 8) & 0xff0000) | v << 24; }

static void test_signature_and_id(void **state)
{
    (void)state;
    uint8_t b[8];
    sel(FW_CFG_SIGNATURE);
    read_bytes(b, 4);
    assert_memory_equal(b, "QEMU", 4);
    sel(FW_CFG_ID);
    read_bytes(b, 4);
    assert_int_equal(b[0], 3);                   /* traditional + DMA */
    /* Reading beyond an item yields zeros; reselecting rewinds. */
    sel(FW_CFG_SIGNATURE);
    read_bytes(b, 6);
    assert_int_equal(b[4], 0);
    assert_int_equal(b[5], 0);
    sel(FW_CFG_SIGNATURE);
    assert_int_equal(bus_pio_read(&bus, 0x511, 1), 'Q');
    /* Unknown key: zeros. */
    sel(0x1ff);
    assert_int_equal(bus_pio_read(&bus, 0x511, 1), 0);
    /* The DMA register reads "QEMU CFG" in big-endian byte order. */
    uint32_t hi = bus_pio_read(&bus, 0x514, 4), lo = bus_pio_read(&bus, 0x518, 4);
    memcpy(b, &hi, 4);
    memcpy(b + 4, &lo, 4);
    assert_memory_equal(b, "QEMU CFG", 8);
}

static void test_pc_items(void **state)
{
    (void)state;
    fwcfg_setup_pc(fw, 1, NULL);
    uint8_t b[64];
    sel(FW_CFG_RAM_SIZE);
    read_bytes(b, 8);
    uint64_t ram;
    memcpy(&ram, b, 8);
    assert_int_equal(ram, 64 << 20);
    sel(FW_CFG_NB_CPUS);
    read_bytes(b, 2);
    assert_int_equal(b[0] | b[1] << 8, 1);

    /* Directory: be32 count, 64-byte entries (be32 size, be16 key). */
    sel(FW_CFG_FILE_DIR);
    read_bytes(b, 4);
    uint32_t count = be32(b);
    assert_true(count >= 1);
    bool found = false;
    for (uint32_t i = 0; i < count; i++) {
        read_bytes(b, 64);
        if (strcmp((char *)b + 8, "etc/e820") == 0) {
            found = true;
            assert_int_equal(be32(b), 20);          /* one RAM entry */
            sel((uint16_t)(b[4] << 8 | b[5]));
            uint8_t e[20];
            read_bytes(e, 20);
            uint64_t addr, len;
            uint32_t type;
            memcpy(&addr, e, 8);
            memcpy(&len, e + 8, 8);
            memcpy(&type, e + 16, 4);
            assert_int_equal(addr, 0);
            assert_int_equal(len, 64 << 20);
            assert_int_equal(type, 1);
            break;
        }
    }
    assert_true(found);
}

static void test_files_sorted_and_replaced(void **state)
{
    (void)state;
    int kz = fwcfg_add_file(fw, "z/last", "zz", 2);
    int ka = fwcfg_add_file(fw, "a/first", "a", 1);
    assert_true(kz >= FW_CFG_FILE_FIRST && ka >= FW_CFG_FILE_FIRST);
    assert_int_equal(fwcfg_add_file(fw, "a/first", "abc", 3), FW_CFG_FILE_FIRST);
    const FWCfgItem *it = fwcfg_find_file(fw, "a/first");
    assert_non_null(it);
    assert_int_equal(it->len, 3);
    char longname[80];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    assert_int_equal(fwcfg_add_file(fw, longname, "", 0), -1);
    uint8_t b[4];
    sel(FW_CFG_FILE_DIR);
    read_bytes(b, 4);
    assert_int_equal(be32(b), 2);
}

/* A DMA descriptor in guest RAM: be32 control, be32 length, be64 addr. */
static void dma(uint32_t desc_pa, uint32_t control, uint32_t len, uint32_t addr)
{
    uint8_t d[16] = {0};
    put_be32(d, control);
    put_be32(d + 4, len);
    put_be32(d + 12, addr);
    bus_mem_rw(&bus, desc_pa, d, 16, true);
    bus_pio_write(&bus, 0x514, bswap(0), 4);
    bus_pio_write(&bus, 0x518, bswap(desc_pa), 4);
}

static void test_dma(void **state)
{
    (void)state;
    fwcfg_add_file(fw, "test/blob", "0123456789", 10);
    memset(bus.ram + 0x2000, 0xee, 32);
    dma(0x1000, (uint32_t)FW_CFG_FILE_FIRST << 16 | FW_CFG_DMA_SELECT |
        FW_CFG_DMA_READ, 4, 0x2000);
    assert_memory_equal(bus.ram + 0x2000, "0123", 4);
    assert_int_equal(bus.ram[0x2004], 0xee);
    assert_int_equal(be32(bus.ram + 0x1000), 0);     /* done, no error */
    /* Skip 2, then read past the end: the tail is zero-filled. */
    dma(0x1000, FW_CFG_DMA_SKIP, 2, 0);
    dma(0x1000, FW_CFG_DMA_READ, 8, 0x2000);
    assert_memory_equal(bus.ram + 0x2000, "6789\0\0\0\0", 8);
    /* The data port continues where DMA left off (at the end now). */
    assert_int_equal(bus_pio_read(&bus, 0x511, 1), 0);
    /* Writes are refused with the error bit. */
    dma(0x1000, FW_CFG_DMA_WRITE, 4, 0x2000);
    assert_int_equal(be32(bus.ram + 0x1000), FW_CFG_DMA_ERROR);
    /* A descriptor pointing outside RAM does no harm. */
    dma(0x1000, (uint32_t)FW_CFG_SIGNATURE << 16 | FW_CFG_DMA_SELECT |
        FW_CFG_DMA_READ, 0x100000, 0xfffff000u);
    assert_int_equal(be32(bus.ram + 0x1000), 0);
    /* A 4 GiB read of a short item: the copy, then a bounded zero fill. */
    bus.ram[0x3000 + 4] = 0x77;
    dma(0x1000, (uint32_t)FW_CFG_SIGNATURE << 16 | FW_CFG_DMA_SELECT |
        FW_CFG_DMA_READ, 0xffffffffu, 0x3000);
    assert_memory_equal(bus.ram + 0x3000, "QEMU", 4);
    assert_int_equal(bus.ram[0x3000 + 4], 0);
    assert_int_equal(be32(bus.ram + 0x1000), 0);
}

static void test_cmos_boot_order(void **state)
{
    (void)state;
    uint8_t a, b;
    assert_int_equal(fwcfg_cmos_boot_order("cd", &a, &b), 0);
    assert_int_equal(a, 0x32);
    assert_int_equal(b, 0x00);
    assert_int_equal(fwcfg_cmos_boot_order("dcn", &a, &b), 0);
    assert_int_equal(a, 0x23);
    assert_int_equal(b, 0x40);
    assert_int_equal(fwcfg_cmos_boot_order("x", &a, &b), -1);
    assert_int_equal(fwcfg_cmos_boot_order("cdna", &a, &b), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_signature_and_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pc_items, setup, teardown),
        cmocka_unit_test_setup_teardown(test_files_sorted_and_replaced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dma, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cmos_boot_order, setup, teardown),
    };
    return cmocka_run_group_tests_name("fwcfg", tests, NULL, NULL);
}
