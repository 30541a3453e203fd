/* ACPI tables: layout and checksums per the ACPI 3.0 spec, the DSDT's AML
 * compared with the SeaBIOS package's own compiled DSDT where they encode
 * the same object, and the SeaBIOS table-loader script executed the way
 * its documented commands say. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <stdlib.h>
#include <stdio.h>
#include <cmocka.h>
#include "hw/acpi.h"
#include "hw/piix.h"

static uint32_t ld32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint16_t ld16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }

#define BASE 0x07ff0000u

static const uint8_t *table_at(const AcpiBlob *b, uint32_t pa)
{
    assert_true(pa >= BASE && pa - BASE + 36 <= b->len);
    const uint8_t *t = b->data + (pa - BASE);
    assert_true(pa - BASE + ld32(t + 4) <= b->len);
    assert_int_equal(acpi_checksum(t, ld32(t + 4)), 0);
    return t;
}

static void test_rsdp_rsdt(void **state)
{
    (void)state;
    AcpiConfig c;
    acpi_default_config(&c);
    AcpiBlob b;
    assert_int_equal(acpi_build_tables(&c, BASE, &b), 0);
    assert_memory_equal(b.rsdp, "RSD PTR ", 8);
    assert_int_equal(acpi_checksum(b.rsdp, 20), 0);
    assert_int_equal(b.rsdp[15], 0);                     /* ACPI 1.0 RSDP */
    const uint8_t *rsdt = table_at(&b, ld32(b.rsdp + 16));
    assert_memory_equal(rsdt, "RSDT", 4);
    assert_int_equal(ld32(rsdt + 4), 36 + 8);
    assert_memory_equal(table_at(&b, ld32(rsdt + 36)), "FACP", 4);
    assert_memory_equal(table_at(&b, ld32(rsdt + 40)), "APIC", 4);
    /* The FACS has to be 64-byte aligned. */
    assert_int_equal((BASE + b.facs_off) & 63, 0);
    acpi_blob_free(&b);
}

static void test_fadt(void **state)
{
    (void)state;
    AcpiConfig c;
    acpi_default_config(&c);
    AcpiBlob b;
    assert_int_equal(acpi_build_tables(&c, BASE, &b), 0);
    const uint8_t *f = table_at(&b, BASE + b.fadt_off);
    assert_int_equal(ld32(f + 4), 244);
    assert_int_equal(f[8], 3);
    assert_memory_equal(b.data + (ld32(f + 36) - BASE), "FACS", 4);
    assert_memory_equal(table_at(&b, ld32(f + 40)), "DSDT", 4);
    assert_int_equal(ld16(f + 46), 9);                   /* SCI_INT */
    assert_int_equal(ld32(f + 48), 0xb2);                /* SMI_CMD */
    assert_int_equal(f[52], 0xf1);
    assert_int_equal(f[53], 0xf0);
    assert_int_equal(ld32(f + 56), 0x600);               /* PM1a_EVT */
    assert_int_equal(ld32(f + 64), 0x604);               /* PM1a_CNT */
    assert_int_equal(ld32(f + 76), 0x608);               /* PM_TMR */
    assert_int_equal(f[88], 4);
    assert_int_equal(f[89], 2);
    assert_int_equal(f[91], 4);
    assert_true(ld32(f + 112) & (1u << 10));             /* RESET_REG_SUP */
    assert_int_equal(f[116], 1);                         /* system I/O */
    assert_int_equal(ld32(f + 120), 0xcf9);
    assert_int_equal(f[128], 6);
    acpi_blob_free(&b);
}

static void test_madt(void **state)
{
    (void)state;
    AcpiConfig c;
    acpi_default_config(&c);
    AcpiBlob b;
    assert_int_equal(acpi_build_tables(&c, BASE, &b), 0);
    const uint8_t *m = table_at(&b, BASE + b.madt_off);
    uint32_t len = ld32(m + 4);
    assert_int_equal(ld32(m + 36), 0xfee00000u);
    assert_int_equal(ld32(m + 40) & 1, 1);               /* PCAT_COMPAT */
    int lapics = 0, ioapics = 0, nmi = 0;
    bool irq0_gsi2 = false, sci_level = false;
    uint32_t off = 44;
    while (off < len) {
        const uint8_t *e = m + off;
        assert_true(e[1] >= 2 && off + e[1] <= len);
        switch (e[0]) {
        case 0: lapics++; assert_int_equal(ld32(e + 4) & 1, 1); break;
        case 1: ioapics++; assert_int_equal(ld32(e + 4), 0xfec00000u);
                assert_int_equal(ld32(e + 8), 0); break;
        case 2:
            if (e[3] == 0 && ld32(e + 4) == 2)
                irq0_gsi2 = true;
            if (e[3] == 9 && ld32(e + 4) == 9 && ld16(e + 8) == 0x000d)
                sci_level = true;
            break;
        case 4: nmi++; assert_int_equal(e[5], 1); break;
        }
        off += e[1];
    }
    assert_int_equal(off, len);
    assert_int_equal(lapics, 1);
    assert_int_equal(ioapics, 1);
    assert_int_equal(nmi, 1);
    assert_true(irq0_gsi2);
    assert_true(sci_level);
    acpi_blob_free(&b);
}

static const uint8_t *find(const uint8_t *h, size_t hl, const void *n, size_t nl)
{
    for (size_t i = 0; i + nl <= hl; i++)
        if (memcmp(h + i, n, nl) == 0)
            return h + i;
    return NULL;
}

static void test_dsdt_aml(void **state)
{
    (void)state;
    AcpiConfig c;
    acpi_default_config(&c);
    static uint8_t d[4096];
    int n = acpi_build_dsdt(&c, d, sizeof d);
    assert_true(n > 36);
    assert_int_equal(ld32(d + 4), (uint32_t)n);
    assert_int_equal(acpi_checksum(d, (size_t)n), 0);
    /* NameOp \_S5_ PackageOp PkgLength(6) NumElements(4) Zero x4 */
    static const uint8_t s5[] = { 0x08, '\\', '_', 'S', '5', '_', 0x12, 0x06,
                                  0x04, 0, 0, 0, 0 };
    assert_non_null(find(d, (size_t)n, s5, sizeof s5));
    /* Name (_HID, EisaId ("PNP0A03")) as iasl compiles it: the same bytes
     * must appear in the DSDT Debian's seabios package ships. */
    static const uint8_t hid[] = { 0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0,
                                   0x0a, 0x03 };
    assert_non_null(find(d, (size_t)n, hid, sizeof hid));
    FILE *f = fopen("/usr/share/seabios/acpi-dsdt.aml", "rb");
    if (f) {
        static uint8_t ref[65536];
        size_t rl = fread(ref, 1, sizeof ref, f);
        fclose(f);
        assert_non_null(find(ref, rl, hid, sizeof hid));
    }
    /* The keyboard's Name (_CRS, Buffer) and the mouse's IRQ 12 resource,
     * byte for byte as iasl compiled them in that reference DSDT. */
    static const uint8_t kbd_crs[] = {
        0x08, '_', 'C', 'R', 'S', 0x11, 0x18, 0x0a, 0x15,
        0x47, 0x01, 0x60, 0x00, 0x60, 0x00, 0x01, 0x01,
        0x47, 0x01, 0x64, 0x00, 0x64, 0x00, 0x01, 0x01,
        0x22, 0x02, 0x00, 0x79, 0x00 };
    static const uint8_t mou_irq[] = { 0x22, 0x00, 0x10, 0x79, 0x00 };
    static const uint8_t kbd_hid[] = { 0x0c, 0x41, 0xd0, 0x03, 0x03 };
    assert_non_null(find(d, (size_t)n, kbd_crs, sizeof kbd_crs));
    assert_non_null(find(d, (size_t)n, mou_irq, sizeof mou_irq));
    assert_non_null(find(d, (size_t)n, kbd_hid, sizeof kbd_hid));
    f = fopen("/usr/share/seabios/acpi-dsdt.aml", "rb");
    if (f) {
        static uint8_t ref[65536];
        size_t rl = fread(ref, 1, sizeof ref, f);
        fclose(f);
        assert_non_null(find(ref, rl, kbd_crs, sizeof kbd_crs));
        assert_non_null(find(ref, rl, mou_irq, sizeof mou_irq));
    }
    /* The root bridge's _CRS descriptors: bus 0-255, I/O below and above
     * the config ports, 0xCF8/8, the VGA window; identical to the
     * reference's. The PCI hole ends just below the I/O APIC. */
    static const uint8_t crs_parts[5][26] = {
        { 0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff,
          0x00, 0x00, 0x00, 0x00, 0x01 },
        { 0x88, 0x0d, 0x00, 0x01, 0x0c, 0x03, 0x00, 0x00, 0x00, 0x00, 0xf7,
          0x0c, 0x00, 0x00, 0xf8, 0x0c },
        { 0x47, 0x01, 0xf8, 0x0c, 0xf8, 0x0c, 0x01, 0x08 },
        { 0x88, 0x0d, 0x00, 0x01, 0x0c, 0x03, 0x00, 0x00, 0x00, 0x0d, 0xff,
          0xff, 0x00, 0x00, 0x00, 0xf3 },
        { 0x87, 0x17, 0x00, 0x00, 0x0c, 0x03, 0, 0, 0, 0, 0x00, 0x00, 0x0a,
          0x00, 0xff, 0xff, 0x0b, 0x00, 0, 0, 0, 0, 0x00, 0x00, 0x02, 0x00 },
    };
    static const size_t crs_len[5] = { 16, 16, 8, 16, 26 };
    f = fopen("/usr/share/seabios/acpi-dsdt.aml", "rb");
    static uint8_t ref2[65536];
    size_t rl2 = f ? fread(ref2, 1, sizeof ref2, f) : 0;
    if (f)
        fclose(f);
    for (int i = 0; i < 5; i++) {
        assert_non_null(find(d, (size_t)n, crs_parts[i], crs_len[i]));
        if (rl2)
            assert_non_null(find(ref2, rl2, crs_parts[i], crs_len[i]));
    }
    static const uint8_t hole[] = { 0x87, 0x17, 0x00, 0x00, 0x0c, 0x01, 0, 0,
                                    0, 0, 0x00, 0x00, 0x00, 0x80, 0xff, 0xff,
                                    0xbf, 0xfe };
    assert_non_null(find(d, (size_t)n, hole, sizeof hole));
    /* ScopeOp \_SB_: its PkgLength (1- or 2-byte form) covers exactly the
     * rest of the table. */
    const uint8_t *sb = find(d, (size_t)n, "\\_SB_", 5);
    assert_non_null(sb);
    const uint8_t *pl = sb - 2;
    uint32_t plen;
    if ((pl[0] >> 6) == 1) {
        plen = (pl[0] & 15) | (uint32_t)pl[1] << 4;
        assert_int_equal(pl[-1], 0x10);
    } else {
        pl = sb - 1;
        plen = pl[0];
        assert_int_equal(pl[-1], 0x10);
    }
    assert_int_equal(plen, (uint32_t)(d + n - pl));
    assert_int_equal(acpi_build_dsdt(&c, d, 40), -1);     /* too small */
}

/* Decodes an AML integer (ZeroOp, OneOp, Byte/Word/DWord prefixes). */
static const uint8_t *aml_int(const uint8_t *p, uint32_t *v)
{
    switch (*p) {
    case 0x00: *v = 0; return p + 1;
    case 0x01: *v = 1; return p + 1;
    case 0x0a: *v = p[1]; return p + 2;
    case 0x0b: *v = ld16(p + 1); return p + 3;
    case 0x0c: *v = ld32(p + 1); return p + 5;
    }
    fail_msg("unexpected AML integer opcode 0x%02x", *p);
    return p;
}

static const uint8_t *pkglen(const uint8_t *p, uint32_t *len)
{
    int extra = p[0] >> 6;
    *len = extra ? (uint32_t)(p[0] & 15) : p[0];
    for (int i = 0; i < extra; i++)
        *len |= (uint32_t)p[1 + i] << (4 + 8 * i);
    return p + 1 + extra;
}

/* \_SB.PCI0._PRT: every slot/pin maps to the GSI that the PIIX3 PIRQ
 * routing set up by the direct-boot firmware (and SeaBIOS: 10,10,11,11)
 * really delivers. */
static void test_prt_matches_routing(void **state)
{
    (void)state;
    AcpiConfig c;
    acpi_default_config(&c);
    static uint8_t d[4096];
    int n = acpi_build_dsdt(&c, d, sizeof d);
    assert_true(n > 0);
    const uint8_t *p = find(d, (size_t)n, "\x08_PRT\x12", 6);
    assert_non_null(p);
    uint32_t len;
    const uint8_t *body = pkglen(p + 6, &len);
    const uint8_t *end = p + 6 + len;
    assert_true(end <= d + n);
    int count = *body++;
    assert_int_equal(count, 31 * 4);

    Bus bus;
    bus_init(&bus, 16 << 20);
    PCIBus *pci = pci_init(&bus);
    PIIX *piix = piix_init(&bus, pci);
    piix_firmware_setup(piix);
    int seen = 0;
    for (int i = 0; i < count; i++) {
        assert_int_equal(*body, 0x12);
        uint32_t el;
        const uint8_t *q = pkglen(body + 1, &el);
        const uint8_t *next = body + 1 + el;
        assert_int_equal(*q++, 4);
        uint32_t addr, pin, src, gsi;
        q = aml_int(q, &addr);
        q = aml_int(q, &pin);
        q = aml_int(q, &src);
        q = aml_int(q, &gsi);
        assert_ptr_equal(q, next);
        assert_int_equal(addr & 0xffff, 0xffff);
        assert_int_equal(src, 0);
        int slot = (int)(addr >> 16);
        if (slot == 1 && pin == 0) {
            assert_int_equal(gsi, 9);          /* the PM function's SCI */
        } else {
            int pirq = pci_slot_pirq(slot, (int)pin + 1);
            uint32_t route = pci_config_read(pci, PIIX_DEVFN_ISA, 0x60 + pirq, 1);
            assert_int_equal(gsi, route);
            seen++;
        }
        body = next;
    }
    assert_ptr_equal(body, end);
    assert_int_equal(seen, 123);
    piix_free(piix);
    pci_free(pci);
    bus_free(&bus);
}

/* The table-loader commands, applied as documented: ALLOCATE places a
 * file, ADD_POINTER adds the source file's address to a field of the
 * destination, ADD_CHECKSUM makes a range sum to zero. */
static void test_table_loader(void **state)
{
    (void)state;
    Bus bus;
    bus_init(&bus, 16 << 20);
    FWCfg *fw = fwcfg_init(&bus);
    AcpiConfig c;
    acpi_default_config(&c);
    assert_int_equal(acpi_fwcfg_install(fw, &c), 0);
    const FWCfgItem *script = fwcfg_find_file(fw, "etc/table-loader");
    assert_non_null(script);
    assert_int_equal(script->len % 128, 0);
    struct { const char *name; uint8_t *copy; uint32_t len, addr; } files[2] = {
        { "etc/acpi/rsdp", NULL, 0, 0 }, { "etc/acpi/tables", NULL, 0, 0 },
    };
    uint32_t next_high = 0x07000000, fseg = 0xf5000;
    for (uint32_t i = 0; i < script->len; i += 128) {
        const uint8_t *e = script->data + i;
        uint32_t cmd = ld32(e);
        if (cmd == 1) {
            int k = strcmp((const char *)e + 4, "etc/acpi/rsdp") == 0 ? 0 : 1;
            assert_string_equal((const char *)e + 4, files[k].name);
            const FWCfgItem *it = fwcfg_find_file(fw, files[k].name);
            assert_non_null(it);
            uint32_t align = ld32(e + 60);
            uint8_t zone = e[64];
            assert_int_equal(zone, k == 0 ? 2 : 1);       /* FSEG / HIGH */
            files[k].copy = malloc(it->len);
            memcpy(files[k].copy, it->data, it->len);
            files[k].len = it->len;
            uint32_t *cur = zone == 2 ? &fseg : &next_high;
            *cur = (*cur + align - 1) & ~(align - 1);
            files[k].addr = *cur;
            *cur += it->len;
        } else if (cmd == 2) {
            int d = strcmp((const char *)e + 4, "etc/acpi/rsdp") == 0 ? 0 : 1;
            int s = strcmp((const char *)e + 60, "etc/acpi/rsdp") == 0 ? 0 : 1;
            uint32_t off = ld32(e + 116);
            uint8_t size = e[120];
            assert_int_equal(size, 4);
            assert_true(files[d].copy && off + 4 <= files[d].len);
            uint32_t v = ld32(files[d].copy + off) + files[s].addr;
            memcpy(files[d].copy + off, &v, 4);
        } else if (cmd == 3) {
            int k = strcmp((const char *)e + 4, "etc/acpi/rsdp") == 0 ? 0 : 1;
            uint32_t off = ld32(e + 60), start = ld32(e + 64), len = ld32(e + 68);
            assert_true(start + len <= files[k].len && off < files[k].len);
            files[k].copy[off] = (uint8_t)(files[k].copy[off] -
                                 acpi_checksum(files[k].copy + start, len));
        } else {
            fail_msg("unexpected loader command %u", cmd);
        }
    }
    /* Follow the patched pointers as an OS would. */
    uint8_t *rsdp = files[0].copy, *tab = files[1].copy;
    uint32_t tbase = files[1].addr;
    assert_int_equal(acpi_checksum(rsdp, 20), 0);
    uint8_t *rsdt = tab + (ld32(rsdp + 16) - tbase);
    assert_memory_equal(rsdt, "RSDT", 4);
    assert_int_equal(acpi_checksum(rsdt, ld32(rsdt + 4)), 0);
    uint8_t *fadt = tab + (ld32(rsdt + 36) - tbase);
    assert_memory_equal(fadt, "FACP", 4);
    assert_int_equal(acpi_checksum(fadt, ld32(fadt + 4)), 0);
    assert_memory_equal(tab + (ld32(fadt + 40) - tbase), "DSDT", 4);
    assert_memory_equal(tab + (ld32(fadt + 36) - tbase), "FACS", 4);
    assert_memory_equal(tab + (ld32(rsdt + 40) - tbase), "APIC", 4);
    free(files[0].copy);
    free(files[1].copy);
    fwcfg_free(fw);
    bus_free(&bus);
}

static void test_pci_hole(void **state)
{
    (void)state;
    assert_int_equal(acpi_pci_hole_for_ram(128u << 20), 0x80000000u);
    assert_int_equal(acpi_pci_hole_for_ram(0x80000000u), 0x80000000u);
    assert_int_equal(acpi_pci_hole_for_ram(0x80001000u), 0xc0000000u);
    assert_int_equal(acpi_pci_hole_for_ram(0xe0000000u), 0xe0000000u);
    /* The window in _CRS starts there and ends below the I/O APIC. */
    AcpiConfig c;
    acpi_default_config(&c);
    c.pci_hole_start = 0xc0000000u;
    static uint8_t d[4096];
    int n = acpi_build_dsdt(&c, d, sizeof d);
    static const uint8_t win[] = { 0x87, 0x17, 0x00, 0x00, 0x0c, 0x01, 0, 0,
                                   0, 0, 0x00, 0x00, 0x00, 0xc0, 0xff, 0xff,
                                   0xbf, 0xfe, 0, 0, 0, 0, 0x00, 0x00, 0xc0,
                                   0x3e };
    assert_non_null(find(d, (size_t)n, win, sizeof win));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rsdp_rsdt),
        cmocka_unit_test(test_fadt),
        cmocka_unit_test(test_madt),
        cmocka_unit_test(test_dsdt_aml),
        cmocka_unit_test(test_table_loader),
        cmocka_unit_test(test_prt_matches_routing),
        cmocka_unit_test(test_pci_hole),
    };
    return cmocka_run_group_tests_name("acpi", tests, NULL, NULL);
}
