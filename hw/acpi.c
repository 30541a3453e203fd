/* ACPI tables built from the ACPI 3.0 table layouts (see hw/acpi.h).
 *
 * One blob holds FACS, DSDT, FADT, MADT and RSDT in that order (FACS first
 * because it needs 64-byte alignment); the RSDP is separate because it
 * must live in the BIOS area. Table pointers are written as base + offset,
 * so a blob built for base 0 holds offsets, which is what the SeaBIOS
 * table-loader script patches (ADD_POINTER adds the allocation address). */
#include <stdlib.h>
#include <string.h>
#include "hw/acpi.h"
#include "hw/piix.h"
#include "hw/apic.h"
#include "hw/ioapic.h"

#define FACS_LEN 64
#define FADT_LEN 244          /* revision 3 */
#define HDR_LEN 36

uint8_t acpi_checksum(const uint8_t *p, size_t len)
{
    uint8_t s = 0;
    for (size_t i = 0; i < len; i++)
        s = (uint8_t)(s + p[i]);
    return s;
}

void acpi_default_config(AcpiConfig *c)
{
    memset(c, 0, sizeof *c);
    c->ncpus = 1;
    c->lapic_addr = APIC_DEFAULT_BASE;
    c->ioapic_addr = IOAPIC_DEFAULT_BASE;
    c->pm_base = PIIX_PM_BASE_DEFAULT;
    c->sci_irq = PIIX_SCI_IRQ;
    c->smi_cmd = PIIX_APM_CNT;
}

uint32_t acpi_pci_hole_for_ram(uint64_t ram_below_4g)
{
    if (ram_below_4g <= 0x80000000ull)
        return 0x80000000u;
    if (ram_below_4g <= 0xc0000000ull)
        return 0xc0000000u;
    return 0xe0000000u;
}

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static void header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
    memcpy(t, sig, 4);
    put32(t + 4, len);
    t[8] = rev;
    t[9] = 0;                                  /* checksum, filled last */
    memcpy(t + 10, "KESTRL", 6);               /* OEM ID */
    memcpy(t + 16, "KESTREL ", 8);             /* OEM table ID */
    put32(t + 24, 1);
    memcpy(t + 28, "KSTL", 4);                 /* creator ID */
    put32(t + 32, 1);
}

static void fix_checksum(uint8_t *t, size_t len)
{
    t[9] = 0;
    t[9] = (uint8_t)(0 - acpi_checksum(t, len));
}

/* ---------------- DSDT (hand-assembled AML) ---------------- */

typedef struct Aml { uint8_t *p; size_t len, cap; bool overflow; } Aml;

static void aml_byte(Aml *a, uint8_t b)
{
    if (a->len < a->cap)
        a->p[a->len] = b;
    else
        a->overflow = true;
    a->len++;
}

static void aml_bytes(Aml *a, const void *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        aml_byte(a, ((const uint8_t *)d)[i]);
}

/* PkgLength covers itself plus the body. One byte holds up to 63; the
 * two-byte form has the count of following bytes in bits 7-6 and the
 * low nibble in bits 3-0. Bodies here stay below 4 KiB. */
static void aml_pkglen(Aml *a, size_t body)
{
    if (body + 1 < 64) {
        aml_byte(a, (uint8_t)(body + 1));
    } else {
        size_t total = body + 2;
        aml_byte(a, (uint8_t)(0x40 | (total & 15)));
        aml_byte(a, (uint8_t)(total >> 4));
    }
}

static void aml_name_int0(Aml *a, const char *seg)
{
    aml_byte(a, 0x08);                         /* NameOp */
    aml_bytes(a, seg, 4);
    aml_byte(a, 0x00);                         /* ZeroOp */
}

/* Emits op (one or two bytes), PkgLength and a body built separately. */
static void aml_package(Aml *a, const uint8_t *op, size_t oplen,
                        const Aml *body)
{
    aml_bytes(a, op, oplen);
    aml_pkglen(a, body->len);
    aml_bytes(a, body->p, body->len);
    if (body->overflow)
        a->overflow = true;
}

/* Name (_HID, EisaId ("PNPxxxx")): three 5-bit letters and a 16-bit
 * product number, stored big-endian in a DWordConst. */
static void aml_hid(Aml *a, uint16_t product)
{
    uint16_t vendor = (uint16_t)((('P' - 0x40) << 10) | (('N' - 0x40) << 5) |
                                 ('P' - 0x40));
    uint8_t v[10] = { 0x08, '_', 'H', 'I', 'D', 0x0c, (uint8_t)(vendor >> 8),
                      (uint8_t)vendor, (uint8_t)(product >> 8),
                      (uint8_t)product };
    aml_bytes(a, v, sizeof v);
}

/* Name (_CRS, Buffer () { resource descriptors, end tag }). */
static void aml_crs(Aml *a, const uint8_t *res, size_t len)
{
    uint8_t body[256];
    Aml b = { body, 0, sizeof body, false };
    aml_byte(&b, 0x0a);                        /* BytePrefix: buffer size */
    aml_byte(&b, (uint8_t)(len + 2));
    aml_bytes(&b, res, len);
    aml_byte(&b, 0x79);                        /* end tag, no checksum */
    aml_byte(&b, 0x00);
    aml_bytes(a, "\x08_CRS", 5);
    static const uint8_t buffer_op = 0x11;
    aml_package(a, &buffer_op, 1, &b);
}

/* Device (NAME) { _HID; _CRS } */
static void aml_isa_device(Aml *a, const char *name, uint16_t product,
                           const uint8_t *res, size_t len)
{
    uint8_t body[96];
    Aml d = { body, 0, sizeof body, false };
    aml_bytes(&d, name, 4);
    aml_hid(&d, product);
    aml_crs(&d, res, len);
    static const uint8_t device_op[2] = { 0x5b, 0x82 };
    aml_package(a, device_op, 2, &d);
}

/* Word/DWord address space descriptors (ACPI 6.4.3.5): producer,
 * min and max fixed. type 0 memory, 1 I/O, 2 bus number. */
static size_t word_space(uint8_t *d, uint8_t type, uint8_t tflags,
                         uint16_t min, uint16_t max)
{
    uint8_t v[16] = { 0x88, 13, 0, type, 0x0c, tflags, 0, 0,
                      (uint8_t)min, (uint8_t)(min >> 8),
                      (uint8_t)max, (uint8_t)(max >> 8), 0, 0,
                      (uint8_t)(max - min + 1), (uint8_t)((max - min + 1) >> 8) };
    memcpy(d, v, sizeof v);
    return sizeof v;
}

static size_t dword_mem(uint8_t *d, uint8_t tflags, uint32_t min, uint32_t max)
{
    d[0] = 0x87; d[1] = 23; d[2] = 0;
    d[3] = 0;                                  /* memory range */
    d[4] = 0x0c;                               /* min/max fixed */
    d[5] = tflags;                             /* bit 0 RW, 2:1 caching */
    put32(d + 6, 0);                           /* granularity */
    put32(d + 10, min);
    put32(d + 14, max);
    put32(d + 18, 0);                          /* translation */
    put32(d + 22, max - min + 1);
    return 26;
}

/* The root bridge's windows: bus 0-255, I/O around the config ports,
 * the VGA hole and the 32-bit PCI hole up to the I/O APIC. */
static size_t pci_root_crs(const AcpiConfig *c, uint8_t *r)
{
    size_t n = 0;
    n += word_space(r + n, 2, 0, 0x00, 0xff);
    n += word_space(r + n, 1, 0x03, 0x0000, 0x0cf7);
    static const uint8_t cf8[8] = { 0x47, 0x01, 0xf8, 0x0c, 0xf8, 0x0c, 0x01, 0x08 };
    memcpy(r + n, cf8, sizeof cf8);
    n += sizeof cf8;
    n += word_space(r + n, 1, 0x03, 0x0d00, 0xffff);
    n += dword_mem(r + n, 0x03, 0x000a0000, 0x000bffff);   /* cacheable */
    uint32_t hole = c->pci_hole_start ? c->pci_hole_start : 0x80000000u;
    if (hole < 0xfec00000u)
        n += dword_mem(r + n, 0x01, hole, 0xfebfffffu);    /* uncached */
    return n;
}

static void aml_int(Aml *a, uint32_t v)
{
    if (v == 0) {
        aml_byte(a, 0x00);                     /* ZeroOp */
    } else if (v == 1) {
        aml_byte(a, 0x01);                     /* OneOp */
    } else if (v <= 0xff) {
        aml_byte(a, 0x0a);                     /* BytePrefix */
        aml_byte(a, (uint8_t)v);
    } else {
        aml_byte(a, 0x0c);                     /* DWordPrefix */
        for (int i = 0; i < 4; i++)
            aml_byte(a, (uint8_t)(v >> (8 * i)));
    }
}

/* Name (_PRT, Package () { Package () { slot << 16 | 0xFFFF, pin, Zero,
 * GSI }, ... }): the routing firmware sets up (PIRQA-D -> 10, 10, 11, 11,
 * PIRQ = (slot + pin) & 3), given as GSIs so no link devices are needed.
 * Slot 1 INTA is the PIIX4 PM function, whose interrupt is the SCI. */
static void aml_prt(Aml *a)
{
    static const uint8_t pirq_gsi[4] = { 10, 10, 11, 11 };
    uint8_t body[2400];
    Aml list = { body, 0, sizeof body, false };
    int n = 0;
    aml_byte(&list, 0);                        /* NumElements, set below */
    for (int slot = 1; slot < 32; slot++) {
        for (int pin = 0; pin < 4; pin++) {
            uint8_t eb[16];
            Aml e = { eb, 0, sizeof eb, false };
            aml_byte(&e, 4);
            aml_byte(&e, 0x0c);                /* DWordConst address */
            uint32_t addr = (uint32_t)slot << 16 | 0xffff;
            for (int i = 0; i < 4; i++)
                aml_byte(&e, (uint8_t)(addr >> (8 * i)));
            aml_int(&e, (uint32_t)pin);
            aml_byte(&e, 0x00);                /* source: none (GSI) */
            aml_int(&e, slot == 1 && pin == 0 ? PIIX_SCI_IRQ
                                              : pirq_gsi[(slot + pin) & 3]);
            static const uint8_t package_op = 0x12;
            aml_package(&list, &package_op, 1, &e);
            n++;
        }
    }
    if (list.len)
        body[0] = (uint8_t)n;
    aml_bytes(a, "\x08_PRT", 5);
    static const uint8_t package_op = 0x12;
    aml_package(a, &package_op, 1, &list);
}

int acpi_build_dsdt(const AcpiConfig *c, uint8_t *buf, size_t cap)
{
    uint8_t res[160];
    Aml a = { buf, 0, cap, false };
    uint8_t hdr[HDR_LEN] = {0};
    aml_bytes(&a, hdr, HDR_LEN);

    /* Name (\_S5, Package (4) { SLP_TYP_a, SLP_TYP_b, 0, 0 }) */
    aml_byte(&a, 0x08);
    aml_bytes(&a, "\\_S5_", 5);
    aml_byte(&a, 0x12);                        /* PackageOp */
    aml_pkglen(&a, 1 + 4);
    aml_byte(&a, 4);                           /* NumElements */
    for (int i = 0; i < 4; i++)
        aml_byte(&a, PIIX_SLP_TYP_S5);         /* ZeroOp (S5 type is 0) */

    /* Scope (\_SB) { Device (PCI0) { _HID PNP0A03, _ADR 0, _UID 0,
     *   Device (KBD) PNP0303, Device (MOU) PNP0F13 } }. The i8042 devices
     * matter: SeaBIOS only drives a PS/2 keyboard the DSDT announces. */
    uint8_t pci_body[2700];
    Aml p = { pci_body, 0, sizeof pci_body, false };
    aml_bytes(&p, "PCI0", 4);
    aml_hid(&p, 0x0a03);
    aml_name_int0(&p, "_ADR");
    aml_name_int0(&p, "_UID");
    aml_crs(&p, res, pci_root_crs(c, res));
    /* IO (Decode16, 0x60, 0x60, 1, 1), IO (Decode16, 0x64, ...),
     * IRQNoFlags () {1} */
    static const uint8_t kbd_res[] = {
        0x47, 0x01, 0x60, 0x00, 0x60, 0x00, 0x01, 0x01,
        0x47, 0x01, 0x64, 0x00, 0x64, 0x00, 0x01, 0x01,
        0x22, 0x02, 0x00,
    };
    static const uint8_t mou_res[] = { 0x22, 0x00, 0x10 };   /* IRQ 12 */
    aml_isa_device(&p, "KBD_", 0x0303, kbd_res, sizeof kbd_res);
    aml_isa_device(&p, "MOU_", 0x0f13, mou_res, sizeof mou_res);
    aml_prt(&p);
    static const uint8_t device_op[2] = { 0x5b, 0x82 };
    uint8_t sb_body[2800];
    Aml sb = { sb_body, 0, sizeof sb_body, false };
    aml_bytes(&sb, "\\_SB_", 5);
    aml_package(&sb, device_op, 2, &p);
    static const uint8_t scope_op = 0x10;
    aml_package(&a, &scope_op, 1, &sb);

    if (a.overflow)
        return -1;
    header(buf, "DSDT", (uint32_t)a.len, 1);
    fix_checksum(buf, a.len);
    return (int)a.len;
}

/* ---------------- FADT, MADT, RSDT, RSDP ---------------- */

static void gas_io(uint8_t *g, uint8_t bits, uint8_t access, uint64_t addr)
{
    g[0] = 1;                                  /* system I/O space */
    g[1] = bits;
    g[2] = 0;
    g[3] = access;                             /* 1 = byte access */
    put64(g + 4, addr);
}

static void build_fadt(const AcpiConfig *c, uint8_t *t, uint32_t facs,
                       uint32_t dsdt)
{
    memset(t, 0, FADT_LEN);
    header(t, "FACP", FADT_LEN, 3);
    put32(t + 36, facs);
    put32(t + 40, dsdt);
    t[45] = 0;                                 /* profile: unspecified */
    put16(t + 46, c->sci_irq);
    put32(t + 48, c->smi_cmd);
    if (c->smi_cmd) {
        t[52] = PIIX_ACPI_ENABLE;
        t[53] = PIIX_ACPI_DISABLE;
    }
    put32(t + 56, c->pm_base + PM_PM1_STS);    /* PM1a_EVT_BLK */
    put32(t + 64, c->pm_base + PM_PM1_CNT);    /* PM1a_CNT_BLK */
    put32(t + 76, c->pm_base + PM_PM_TMR);     /* PM_TMR_BLK */
    put32(t + 80, c->pm_base + PM_GPE0_STS);   /* GPE0_BLK */
    t[88] = 4;                                 /* PM1_EVT_LEN */
    t[89] = 2;                                 /* PM1_CNT_LEN */
    t[91] = 4;                                 /* PM_TMR_LEN */
    t[92] = 4;                                 /* GPE0_BLK_LEN */
    put16(t + 96, 0x0fff);                     /* no C2 */
    put16(t + 98, 0x0fff);                     /* no C3 */
    t[108] = 0x32;                             /* CMOS century register */
    put16(t + 109, 0x0003);                    /* legacy devices, 8042 */
    /* WBINVD, PROC_C1, no fixed power/sleep buttons, reset register. */
    put32(t + 112, 0x1 | 0x4 | 0x10 | 0x20 | 0x400);
    gas_io(t + 116, 8, 1, 0xcf9);
    t[128] = 0x06;                             /* RST_CPU | SYS_RST */
    fix_checksum(t, FADT_LEN);
}

static size_t build_madt(const AcpiConfig *c, uint8_t *t)
{
    size_t n = 44;
    memset(t, 0, 44);
    put32(t + 36, c->lapic_addr);
    put32(t + 40, 1);                          /* PCAT_COMPAT: has 8259s */
    for (int i = 0; i < c->ncpus; i++) {
        uint8_t *e = t + n;
        e[0] = 0; e[1] = 8; e[2] = (uint8_t)i; e[3] = (uint8_t)i;
        put32(e + 4, 1);                       /* enabled */
        n += 8;
    }
    uint8_t *e = t + n;
    e[0] = 1; e[1] = 12; e[2] = IOAPIC_ID; e[3] = 0;
    put32(e + 4, c->ioapic_addr);
    put32(e + 8, 0);                           /* GSI base */
    n += 12;
    /* Interrupt source overrides: the PIT's IRQ 0 is wired to pin 2;
     * the SCI and the IRQs the PCI PIRQs are routed to (10, 11) are
     * level-triggered, active high. Other ISA IRQs stay edge. */
    static const struct { uint8_t irq; uint8_t gsi; uint16_t flags; } iso[] = {
        { 0, 2, 0x0000 }, { 9, 9, 0x000d },
        { 10, 10, 0x000d }, { 11, 11, 0x000d },
    };
    for (size_t i = 0; i < sizeof iso / sizeof iso[0]; i++) {
        uint8_t irq = iso[i].irq == 9 ? c->sci_irq : iso[i].irq;
        uint8_t gsi = iso[i].irq == 9 ? c->sci_irq : iso[i].gsi;
        e = t + n;
        e[0] = 2; e[1] = 10; e[2] = 0; e[3] = irq;
        put32(e + 4, gsi);
        put16(e + 8, iso[i].flags);
        n += 10;
    }
    /* LINT1 of every processor is the NMI input. */
    e = t + n;
    e[0] = 4; e[1] = 6; e[2] = 0xff;
    put16(e + 3, 0);
    e[5] = 1;
    n += 6;
    header(t, "APIC", (uint32_t)n, 1);
    fix_checksum(t, n);
    return n;
}

int acpi_build_tables(const AcpiConfig *c, uint32_t base, AcpiBlob *out)
{
    memset(out, 0, sizeof *out);
    size_t cap = 8192;
    uint8_t *b = calloc(1, cap);
    if (!b)
        return -1;
    size_t off = 0;
    out->facs_off = (uint32_t)off;
    memcpy(b, "FACS", 4);
    put32(b + 4, FACS_LEN);
    b[32] = 1;                                 /* version */
    off += FACS_LEN;

    out->dsdt_off = (uint32_t)off;
    int dl = acpi_build_dsdt(c, b + off, cap - off);
    if (dl < 0) {
        free(b);
        return -1;
    }
    off = (off + (size_t)dl + 15) & ~(size_t)15;

    out->fadt_off = (uint32_t)off;
    build_fadt(c, b + off, base + out->facs_off, base + out->dsdt_off);
    off = (off + FADT_LEN + 15) & ~(size_t)15;

    out->madt_off = (uint32_t)off;
    off = (off + build_madt(c, b + off) + 15) & ~(size_t)15;

    out->rsdt_off = (uint32_t)off;
    uint8_t *r = b + off;
    header(r, "RSDT", HDR_LEN + 8, 1);
    put32(r + 36, base + out->fadt_off);
    put32(r + 40, base + out->madt_off);
    fix_checksum(r, HDR_LEN + 8);
    off += HDR_LEN + 8;

    uint8_t *p = out->rsdp;
    memcpy(p, "RSD PTR ", 8);
    memcpy(p + 9, "KESTRL", 6);
    p[15] = 0;                                 /* revision 0: ACPI 1.0 */
    put32(p + 16, base + out->rsdt_off);
    p[8] = 0;
    p[8] = (uint8_t)(0 - acpi_checksum(p, 20));

    out->data = b;
    out->len = off;
    return 0;
}

void acpi_blob_free(AcpiBlob *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
}

/* ---------------- SeaBIOS table loader ---------------- */

#define LOADER_ENTRY 128
#define LOADER_FILESZ 56
enum { CMD_ALLOCATE = 1, CMD_ADD_POINTER = 2, CMD_ADD_CHECKSUM = 3 };
enum { ZONE_HIGH = 1, ZONE_FSEG = 2 };

static uint8_t *loader_entry(uint8_t *script, int *n, uint32_t cmd)
{
    uint8_t *e = script + (size_t)(*n)++ * LOADER_ENTRY;
    memset(e, 0, LOADER_ENTRY);
    put32(e, cmd);
    return e;
}

static void cmd_alloc(uint8_t *s, int *n, const char *file, uint32_t align,
                      uint8_t zone)
{
    uint8_t *e = loader_entry(s, n, CMD_ALLOCATE);
    strncpy((char *)e + 4, file, LOADER_FILESZ - 1);
    put32(e + 4 + LOADER_FILESZ, align);
    e[8 + LOADER_FILESZ] = zone;
}

static void cmd_pointer(uint8_t *s, int *n, const char *dst, const char *src,
                        uint32_t offset, uint8_t size)
{
    uint8_t *e = loader_entry(s, n, CMD_ADD_POINTER);
    strncpy((char *)e + 4, dst, LOADER_FILESZ - 1);
    strncpy((char *)e + 4 + LOADER_FILESZ, src, LOADER_FILESZ - 1);
    put32(e + 4 + 2 * LOADER_FILESZ, offset);
    e[8 + 2 * LOADER_FILESZ] = size;
}

static void cmd_checksum(uint8_t *s, int *n, const char *file,
                         uint32_t offset, uint32_t start, uint32_t len)
{
    uint8_t *e = loader_entry(s, n, CMD_ADD_CHECKSUM);
    strncpy((char *)e + 4, file, LOADER_FILESZ - 1);
    put32(e + 4 + LOADER_FILESZ, offset);
    put32(e + 8 + LOADER_FILESZ, start);
    put32(e + 12 + LOADER_FILESZ, len);
}

int acpi_fwcfg_install(FWCfg *f, const AcpiConfig *c)
{
    static const char TABLES[] = "etc/acpi/tables";
    static const char RSDP[] = "etc/acpi/rsdp";
    AcpiConfig cfg = *c;
    if (!cfg.pci_hole_start)
        cfg.pci_hole_start = acpi_pci_hole_for_ram(f->bus->ram_below_4g);
    AcpiBlob blob;
    if (acpi_build_tables(&cfg, 0, &blob) < 0)
        return -1;
    uint8_t *t = blob.data;
    uint32_t fadt = blob.fadt_off, rsdt = blob.rsdt_off;

    uint8_t script[16 * LOADER_ENTRY];
    int n = 0;
    cmd_alloc(script, &n, RSDP, 16, ZONE_FSEG);
    cmd_alloc(script, &n, TABLES, 64, ZONE_HIGH);
    cmd_pointer(script, &n, TABLES, TABLES, fadt + 36, 4);   /* FIRMWARE_CTRL */
    cmd_pointer(script, &n, TABLES, TABLES, fadt + 40, 4);   /* DSDT */
    cmd_checksum(script, &n, TABLES, fadt + 9, fadt, FADT_LEN);
    cmd_pointer(script, &n, TABLES, TABLES, rsdt + 36, 4);
    cmd_pointer(script, &n, TABLES, TABLES, rsdt + 40, 4);
    cmd_checksum(script, &n, TABLES, rsdt + 9, rsdt, HDR_LEN + 8);
    cmd_pointer(script, &n, RSDP, TABLES, 16, 4);
    cmd_checksum(script, &n, RSDP, 8, 0, 20);

    int r = 0;
    if (fwcfg_add_file(f, TABLES, t, blob.len) < 0 ||
        fwcfg_add_file(f, RSDP, blob.rsdp, 20) < 0 ||
        fwcfg_add_file(f, "etc/table-loader", script,
                       (size_t)n * LOADER_ENTRY) < 0)
        r = -1;
    acpi_blob_free(&blob);
    return r;
}
