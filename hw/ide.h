/* PIIX3 IDE: two ATA channels (0x1F0/0x3F6 IRQ 14, 0x170/0x376 IRQ 15)
 * with ATA disks and ATAPI CD-ROMs, and the bus-master DMA engine on BAR 4
 * of PCI function 00:01.1 (8086:7010).
 *
 * Commands complete synchronously: a command's data is ready (DRQ) or its
 * result posted (interrupt) by the time the guest's OUT returns. Guest
 * values (LBAs, counts, byte-count limits, PRD entries) are checked
 * before any block-layer or memory access; a failing host read or write
 * becomes an ATA error, never a crash. */
#ifndef HW_IDE_H
#define HW_IDE_H
#include <stdint.h>
#include <stdbool.h>
#include "hw/bus.h"
#include "block/block.h"

typedef struct PCIBus PCIBus;
typedef struct PIIX PIIX;
typedef struct MachineConfig MachineConfig;
typedef struct RTC RTC;

#define IDE_BUF_SIZE (64 * 1024)
#define IDE_MAX_MULT 16

/* ATA status / error bits (ATA-6 7.15, 7.9). */
#define ATA_SR_BSY  0x80
#define ATA_SR_DRDY 0x40
#define ATA_SR_DF   0x20
#define ATA_SR_DSC  0x10
#define ATA_SR_DRQ  0x08
#define ATA_SR_ERR  0x01
#define ATA_ER_ICRC 0x80
#define ATA_ER_UNC  0x40
#define ATA_ER_IDNF 0x10
#define ATA_ER_ABRT 0x04
#define ATA_DC_NIEN 0x02
#define ATA_DC_SRST 0x04
#define ATA_DC_HOB  0x80

/* Bus-master status bits. */
#define BM_CMD_START  0x01
#define BM_CMD_READ   0x08   /* 1: device -> memory */
#define BM_ST_ACTIVE  0x01
#define BM_ST_ERROR   0x02
#define BM_ST_INTR    0x04

/* Per-drive state: plain data, saved by snapshots as bytes. */
typedef struct IDEDriveState {
    uint8_t present, is_cd, medium;      /* medium: CD tray holds a disc */
    uint8_t feature, error, nsector, sector, lcyl, hcyl, select, status;
    uint8_t hob_feature, hob_nsector, hob_sector, hob_lcyl, hob_hcyl;
    uint8_t cmd, lba48, mult_sectors, write_cache, power_standby;
    uint8_t mdma_mode, udma_mode;        /* 0xff: not selected */
    uint16_t cyls, heads, secs;          /* default geometry */
    uint16_t cur_heads, cur_secs;        /* INITIALIZE DEVICE PARAMETERS */
    uint64_t nb_sectors;                 /* 512-byte sectors */
    /* The PIO data phase: buf[data_pos..data_end) is transferred, then
     * end_op says what happens next. */
    uint32_t data_pos, data_end;
    uint8_t end_op;
    uint8_t dma_op;                      /* DMA command waiting for BM */
    uint64_t lba;                        /* next sector of the command */
    uint32_t remaining;                  /* sectors still to move */
    uint32_t block;                      /* sectors per DRQ block */
    /* ATAPI */
    uint8_t sense_key, asc, ascq, locked, media_event;
    uint8_t cd_disk, cd_dma;             /* reply from the disc; by DMA */
    uint16_t byte_limit;
    uint64_t cd_lba;                     /* 2048-byte blocks */
    uint32_t cd_remaining;               /* bytes still to send */
    uint32_t cd_buf_left;                /* bytes of buf not yet sent */
    uint8_t cdb[12];
    uint8_t buf[IDE_BUF_SIZE];
} IDEDriveState;

typedef struct IDEChannelState {
    IDEDriveState drive[2];
    uint8_t cur;                         /* selected drive */
    uint8_t devctl;
    uint8_t irq_pending;
    uint8_t bm_cmd, bm_status;
    uint32_t bm_prd;
} IDEChannelState;

typedef struct IDEChannel {
    IDEChannelState st;
    Bus *bus;
    int irq;
    uint16_t base, ctl;
    BlockDriverState *bs[2];             /* host side, not saved */
    Device dev;
} IDEChannel;

typedef struct IDEController {
    IDEChannel ch[2];
    struct PCIDevice *pci;
} IDEController;

/* Creates both channels on the legacy ports; pci may be NULL (no bus
 * master). Drives are attached afterwards with ide_attach. */
IDEController *ide_init(Bus *b, struct PCIDevice *pci);
/* unit: 0-3 (primary master, primary slave, secondary master, ...).
 * Takes ownership of bs. */
void ide_attach(IDEController *c, int unit, BlockDriverState *bs, bool cd);
/* Flushes and closes every image, frees the controller. */
void ide_free(IDEController *c);
int ide_flush_all(IDEController *c);

/* The board's one call: opens cfg's drives (-hda.. -cdrom, -drive),
 * adds 00:01.1 through piix_add_ide, and writes the CMOS disk bytes.
 * NULL with err set on a bad drive; returns a controller with no drives
 * when there are none. */
IDEController *ide_init_from_config(Bus *b, PIIX *piix,
                                    const MachineConfig *cfg, RTC *rtc,
                                    char *err, size_t errlen);

/* Command line: -hda/-hdb/-hdc/-hdd FILE (legacy_unit 0-3), -cdrom FILE
 * (2, cdrom), -drive KEY=VALUE,... (legacy_unit -1). Appends to
 * cfg->drives; -1 with err set on a bad description. */
int drive_config_add(MachineConfig *cfg, int legacy_unit, bool cdrom,
                     const char *arg, char *err, size_t errlen);

/* Port handlers (also for tests). */
uint32_t ide_ioport_read(void *opaque, uint16_t port, int size);
void ide_ioport_write(void *opaque, uint16_t port, uint32_t val, int size);
uint32_t ide_bm_read(void *opaque, uint16_t port, int size);
void ide_bm_write(void *opaque, uint16_t port, uint32_t val, int size);
#endif
