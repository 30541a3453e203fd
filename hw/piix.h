/* The i440FX/PIIX chipset: the i440FX host bridge (PAM shadow control,
 * SMRAM), the PIIX3 PCI-to-ISA bridge (PIRQ routing, reset control at
 * 0xCF9), an optional PIIX3 IDE function (config-space presence), and the
 * PIIX4 power-management function (ACPI PM timer, PM1 event/control, SCI on
 * IRQ 9, S5 soft-off, a minimal SMBus).
 *
 * Layout, as on QEMU's "pc" machine: 00.0 host bridge, 01.0 ISA bridge,
 * 01.1 IDE, 01.3 power management. */
#ifndef HW_PIIX_H
#define HW_PIIX_H
#include <stdint.h>
#include <stdbool.h>
#include "hw/bus.h"
#include "hw/pci.h"

#define PIIX_DEVFN_HOST PCI_DEVFN(0, 0)
#define PIIX_DEVFN_ISA  PCI_DEVFN(1, 0)
#define PIIX_DEVFN_IDE  PCI_DEVFN(1, 1)
#define PIIX_DEVFN_PM   PCI_DEVFN(1, 3)

/* Where firmware (SeaBIOS) puts the PM and SMBus I/O blocks; Kestrel's
 * FADT and its direct-boot firmware setup use the same values. */
#define PIIX_PM_BASE_DEFAULT    0x600
#define PIIX_SMBUS_BASE_DEFAULT 0x700
#define PIIX_PM_SIZE            64
#define PIIX_SCI_IRQ            9
#define PIIX_APM_CNT            0xb2   /* SMI command port (FADT SMI_CMD) */
#define PIIX_ACPI_ENABLE        0xf1
#define PIIX_ACPI_DISABLE       0xf0

/* Register offsets in the PM I/O block. */
#define PM_PM1_STS  0x00
#define PM_PM1_EN   0x02
#define PM_PM1_CNT  0x04
#define PM_PM_TMR   0x08
#define PM_GPE0_STS 0x0c
#define PM_GPE0_EN  0x0e

#define PM1_STS_TMR    0x0001
#define PM1_STS_GBL    0x0020
#define PM1_STS_PWRBTN 0x0100
#define PM1_STS_RTC    0x0400
#define PM1_STS_WAK    0x8000
#define PM1_CNT_SCI_EN 0x0001
#define PM1_CNT_SLP_EN 0x2000
#define PM1_CNT_SLP_TYP_SHIFT 10
/* SLP_TYP value the DSDT's \_S5 package announces for soft-off. */
#define PIIX_SLP_TYP_S5 0

#define PM_TIMER_HZ 3579545

/* Plain-old-data chipset state beyond the config spaces. */
typedef struct PIIXPMState {
    uint16_t pm1_sts, pm1_en, pm1_cnt;
    uint16_t gpe0_sts, gpe0_en;
    uint8_t apm_cnt, apm_sts;
    uint8_t rcr;                 /* 0xCF9 reset control */
    uint16_t pm_io_base;         /* currently mapped (0 = off) */
    uint16_t smb_io_base;
    uint8_t smb_regs[16];
    int64_t tmr_epoch_ns;        /* virtual time at which the timer read 0 */
    uint64_t tmr_sts_base;       /* bit-23 periods elapsed at last TMR_STS clear */
    int sci_level;
} PIIXPMState;

typedef struct PIIX {
    Bus *bus;
    PCIBus *pci;
    PCIDevice *host, *isa, *ide, *pm;
    PIIXPMState st;
    Device dev;
    struct Timer *tmr_timer;     /* PM timer overflow (TMR_STS) for SCI */
} PIIX;

/* Adds the host bridge, ISA bridge and PM functions to pci, claims 0xCF9
 * (via the PCI bus), 0xB2/0xB3, and sets the PIRQ router. */
PIIX *piix_init(Bus *b, PCIBus *pci);
void piix_free(PIIX *p);
/* Adds the 01.1 IDE function as config-space only (class 0x0101, BM BAR4
 * unimplemented); the IDE model may instead add its own. */
PCIDevice *piix_add_ide(PIIX *p);

/* What a BIOS would do at POST, for direct kernel boot: PM block at
 * PIIX_PM_BASE_DEFAULT enabled, SMBus at PIIX_SMBUS_BASE_DEFAULT, PIRQA-D
 * -> IRQ 10,10,11,11, the shadow area 0xC0000-0xFFFFF read/write, the
 * interrupt line of every PCI function programmed from its pin, and I/O
 * and memory BARs assigned and enabled. */
void piix_firmware_setup(PIIX *p);

/* Current ACPI PM timer value (24 bits). */
uint32_t piix_pm_timer(PIIX *p);
#endif
