/* Kestrel's ACPI tables: RSDP, RSDT, FADT (PIIX4 PM ports, SCI on IRQ 9,
 * reset register 0xCF9), FACS, MADT (local APIC, I/O APIC, IRQ0 -> GSI2
 * and level/high SCI overrides) and a DSDT with \_S5 (soft off), \_SB.PCI0
 * and the standard sleep object so Linux's poweroff writes SLP_TYP/SLP_EN.
 *
 * Two ways to hand them over:
 * - direct boot: acpi_build() lays them out at a physical address in RAM
 *   and the RSDP in the BIOS area (0xE0000-0xFFFFF), where Linux scans;
 * - SeaBIOS: acpi_fwcfg_install() publishes "etc/acpi/tables",
 *   "etc/acpi/rsdp" and an "etc/table-loader" script that tells SeaBIOS to
 *   allocate, link the pointers and fix the checksums. */
#ifndef HW_ACPI_H
#define HW_ACPI_H
#include <stdint.h>
#include <stddef.h>
#include "hw/fwcfg.h"

typedef struct AcpiConfig {
    int ncpus;                   /* 1 */
    uint32_t lapic_addr;         /* 0xFEE00000 */
    uint32_t ioapic_addr;        /* 0xFEC00000 */
    uint16_t pm_base;            /* PIIX_PM_BASE_DEFAULT */
    uint8_t sci_irq;             /* 9 */
    uint8_t smi_cmd;             /* 0xB2 (0: ACPI always on) */
    /* Start of the 32-bit PCI memory window in \_SB.PCI0._CRS (it ends
     * below the I/O APIC); 0 means 0x80000000, where SeaBIOS starts. */
    uint32_t pci_hole_start;
} AcpiConfig;
void acpi_default_config(AcpiConfig *c);
/* The PCI hole start for a given amount of low RAM, on the boundaries
 * SeaBIOS uses for its 32-bit BAR window: 2 GiB, 3 GiB or 3.5 GiB. Used
 * when pci_hole_start is 0 and the RAM size is known (fw_cfg install,
 * direct boot). */
uint32_t acpi_pci_hole_for_ram(uint64_t ram_below_4g);

/* Table blob layout produced by acpi_build_tables(): offsets within blob. */
typedef struct AcpiBlob {
    uint8_t *data;
    size_t len;
    uint32_t facs_off, dsdt_off, fadt_off, madt_off, rsdt_off;
    uint8_t rsdp[20];            /* ACPI 1.0 RSDP (revision 0) */
} AcpiBlob;

/* Builds all tables for a blob that will live at physical address `base`
 * (pointers and checksums final for that address). Returns 0, or -1 on
 * allocation failure. acpi_blob_free() releases data. */
int acpi_build_tables(const AcpiConfig *c, uint32_t base, AcpiBlob *out);
void acpi_blob_free(AcpiBlob *b);

/* Byte sum of a region (a valid table sums to 0). */
uint8_t acpi_checksum(const uint8_t *p, size_t len);

/* For SeaBIOS: adds etc/acpi/tables, etc/acpi/rsdp and etc/table-loader.
 * Returns 0 or -1. */
int acpi_fwcfg_install(FWCfg *f, const AcpiConfig *c);

/* The DSDT's AML, for tests: writes into buf (cap bytes), returns length
 * or -1 if it does not fit. */
int acpi_build_dsdt(const AcpiConfig *c, uint8_t *buf, size_t cap);
#endif
