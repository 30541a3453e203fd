/* QEMU's firmware configuration interface (fw_cfg), x86 I/O flavour:
 * selector at 0x510 (16-bit write), data at 0x511 (byte reads advance
 * through the selected item), DMA address at 0x514-0x51B (big-endian
 * 64-bit; writing the low half starts the transfer). SeaBIOS finds RAM
 * size, CPU count, the e820 map, boot order, option ROMs and ACPI tables
 * here. */
#ifndef HW_FWCFG_H
#define HW_FWCFG_H
#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>
#include "hw/bus.h"

#define FW_CFG_PORT_SEL  0x510
#define FW_CFG_PORT_DATA 0x511
#define FW_CFG_PORT_DMA  0x514

/* Item keys (values fixed by the interface). */
enum {
    FW_CFG_SIGNATURE = 0x00, FW_CFG_ID = 0x01, FW_CFG_UUID = 0x02,
    FW_CFG_RAM_SIZE = 0x03, FW_CFG_NOGRAPHIC = 0x04, FW_CFG_NB_CPUS = 0x05,
    FW_CFG_MACHINE_ID = 0x06, FW_CFG_KERNEL_ADDR = 0x07,
    FW_CFG_KERNEL_SIZE = 0x08, FW_CFG_KERNEL_CMDLINE = 0x09,
    FW_CFG_INITRD_ADDR = 0x0a, FW_CFG_INITRD_SIZE = 0x0b,
    FW_CFG_BOOT_DEVICE = 0x0c, FW_CFG_NUMA = 0x0d, FW_CFG_BOOT_MENU = 0x0e,
    FW_CFG_MAX_CPUS = 0x0f, FW_CFG_KERNEL_ENTRY = 0x10,
    FW_CFG_KERNEL_DATA = 0x11, FW_CFG_INITRD_DATA = 0x12,
    FW_CFG_CMDLINE_ADDR = 0x13, FW_CFG_CMDLINE_SIZE = 0x14,
    FW_CFG_CMDLINE_DATA = 0x15, FW_CFG_SETUP_ADDR = 0x16,
    FW_CFG_SETUP_SIZE = 0x17, FW_CFG_SETUP_DATA = 0x18,
    FW_CFG_FILE_DIR = 0x19, FW_CFG_FILE_FIRST = 0x20,
    FW_CFG_WRITE_CHANNEL = 0x4000, FW_CFG_ARCH_LOCAL = 0x8000,
    FW_CFG_ACPI_TABLES = 0x8000, FW_CFG_SMBIOS_ENTRIES = 0x8001,
    FW_CFG_IRQ0_OVERRIDE = 0x8002, FW_CFG_E820_TABLE = 0x8003,
    FW_CFG_HPET = 0x8004,
};
#define FW_CFG_MAX_FILES 64
#define FW_CFG_NAME_LEN 56
#define FW_CFG_ID_TRADITIONAL 0x1
#define FW_CFG_ID_DMA 0x2
/* DMA control word bits (in the big-endian FWCfgDmaAccess.control). */
#define FW_CFG_DMA_ERROR  0x01
#define FW_CFG_DMA_READ   0x02
#define FW_CFG_DMA_SKIP   0x04
#define FW_CFG_DMA_SELECT 0x08
#define FW_CFG_DMA_WRITE  0x10
/* The DMA register reads back this signature ("QEMU CFG"). */
#define FW_CFG_DMA_SIGNATURE 0x51454d5520434647ULL

typedef struct FWCfgItem {
    uint8_t *data;               /* owned copy */
    uint32_t len;
    char name[FW_CFG_NAME_LEN];  /* files only */
} FWCfgItem;

/* Runtime state (selector and offset are the guest-visible POD part). */
typedef struct FWCfgState {
    uint16_t cur_key;
    uint32_t cur_off;
    uint64_t dma_addr;
} FWCfgState;

#define FW_CFG_NUM_STD 0x20
#define FW_CFG_NUM_ARCH 0x10
typedef struct FWCfg {
    Bus *bus;
    FWCfgState st;
    FWCfgItem std[FW_CFG_NUM_STD];
    FWCfgItem arch[FW_CFG_NUM_ARCH];
    FWCfgItem files[FW_CFG_MAX_FILES];
    int nfiles;
    uint8_t *dir;                /* FW_CFG_FILE_DIR, rebuilt on add */
    Device dev;
} FWCfg;

/* Claims 0x510-0x511 and 0x514-0x51B; sets the signature and ID. */
FWCfg *fwcfg_init(Bus *b);
void fwcfg_free(FWCfg *f);
/* Items are copied. Keys: FW_CFG_* below 0x20 or FW_CFG_ARCH_LOCAL+n. */
void fwcfg_add_bytes(FWCfg *f, uint16_t key, const void *data, size_t len);
void fwcfg_add_i16(FWCfg *f, uint16_t key, uint16_t v);   /* little-endian */
void fwcfg_add_i32(FWCfg *f, uint16_t key, uint32_t v);
void fwcfg_add_i64(FWCfg *f, uint16_t key, uint64_t v);
void fwcfg_add_string(FWCfg *f, uint16_t key, const char *s); /* with NUL */
/* A named file ("etc/e820", "bootorder", "genroms/x.bin"...); returns its
 * key, or -1 when the directory is full or the name too long. Adding an
 * existing name replaces its contents. */
int fwcfg_add_file(FWCfg *f, const char *name, const void *data, size_t len);
const FWCfgItem *fwcfg_find_file(const FWCfg *f, const char *name);

/* Fills the items SeaBIOS expects on a PC: signature/ID, RAM size, CPU
 * count, "etc/e820" (from the bus's RAM layout), boot menu off, and
 * "bootorder" from a QEMU-style -boot order string ("cd": c = first disk,
 * d = first CD-ROM, a = floppy, n = network), NULL for the default. */
void fwcfg_setup_pc(FWCfg *f, int ncpus, const char *boot_order);

/* QEMU's CMOS boot-order encoding for a -boot order string ("cd"):
 * device codes 1 floppy, 2 disk, 3 CD-ROM, 4 network; the first two in
 * register 0x3D (low nibble first), the third in 0x38 bits 7-4. The board
 * stores them in the RTC's CMOS, where SeaBIOS reads them. -1 if the
 * string has an unknown letter or more than three devices. */
int fwcfg_cmos_boot_order(const char *order, uint8_t *reg3d, uint8_t *reg38);

/* Raw register access (also used by tests). */
uint32_t fwcfg_io_read(void *opaque, uint16_t port, int size);
void fwcfg_io_write(void *opaque, uint16_t port, uint32_t val, int size);
#endif
