/* PCI: configuration mechanism #1 (ports 0xCF8/0xCFC), one bus of devices
 * with 256-byte configuration spaces, BAR sizing and mapping, and the
 * INTx -> PIRQ -> ISA IRQ path.
 *
 * A device model creates its function with pci_add_device(), fills in any
 * further header fields with pci_set_*, declares its BARs with pci_set_bar()
 * and raises INTx with pci_set_irq(). When the guest programs a BAR and
 * enables decoding in the command register, the BAR's handlers are mapped
 * at the new address (I/O through bus_pio_register, memory through
 * bus_mmio_move); the device never has to watch its own config space. */
#ifndef HW_PCI_H
#define HW_PCI_H
#include <stdint.h>
#include <stdbool.h>
#include "hw/bus.h"

#define PCI_DEVFN(slot, fn) (((slot) << 3) | (fn))
#define PCI_SLOT(devfn) (((devfn) >> 3) & 31)
#define PCI_FUNC(devfn) ((devfn) & 7)

/* Configuration header offsets (type 0). */
#define PCI_VENDOR_ID      0x00
#define PCI_DEVICE_ID      0x02
#define PCI_COMMAND        0x04
#define PCI_STATUS         0x06
#define PCI_REVISION_ID    0x08
#define PCI_CLASS_PROG     0x09
#define PCI_CLASS_DEVICE   0x0a
#define PCI_HEADER_TYPE    0x0e
#define PCI_BASE_ADDRESS_0 0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID   0x2e
#define PCI_ROM_ADDRESS    0x30
#define PCI_CAPABILITY_LIST 0x34
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN  0x3d

#define PCI_COMMAND_IO     0x1
#define PCI_COMMAND_MEMORY 0x2
#define PCI_COMMAND_MASTER 0x4
#define PCI_COMMAND_INTX_DISABLE 0x400
#define PCI_STATUS_INTERRUPT 0x8
#define PCI_HEADER_TYPE_MULTI 0x80

#define PCI_NUM_BARS 7            /* BAR0-5 and the expansion ROM (6) */
#define PCI_ROM_SLOT 6

typedef struct PCIBus PCIBus;
typedef struct PCIDevice PCIDevice;

/* Optional per-device config hooks: called after the generic code has
 * applied a write (so the device sees the new value), or to produce a
 * read value for device-specific registers (return the default `val` to
 * keep the stored one). off is 0..255, size 1/2/4, naturally aligned. */
typedef void PCIConfigWriteHook(PCIDevice *d, int off, uint32_t val, int size);
typedef uint32_t PCIConfigReadHook(PCIDevice *d, int off, int size,
                                   uint32_t val);
/* Called when a BAR is mapped/unmapped (after the bus mapping changed). */
typedef void PCIBarMapHook(PCIDevice *d, int bar, uint32_t addr, bool mapped);

typedef struct PCIBar {
    uint32_t size;               /* power of two; 0 = BAR not implemented */
    bool is_io, prefetch;
    PioRead *pio_read; PioWrite *pio_write;       /* I/O BARs */
    MmioRead *mmio_read; MmioWrite *mmio_write;   /* memory BARs */
    void *opaque;
    PCIBarMapHook *map;          /* optional, e.g. a framebuffer BAR */
    /* Derived (not part of saved state; rebuilt from config on load). */
    int mmio_handle;             /* -1 until first mapped */
    bool mapped;
    uint32_t addr;               /* address currently mapped */
} PCIBar;

struct PCIDevice {
    uint8_t config[256];         /* the POD state saved by snapshots */
    uint8_t wmask[256];          /* guest-writable bits */
    uint8_t w1cmask[256];        /* write-1-to-clear bits (status) */
    int devfn;
    const char *name;
    PCIBus *bus;
    PCIBar bar[PCI_NUM_BARS];
    PCIConfigWriteHook *config_write;
    PCIConfigReadHook *config_read;
    void *opaque;                /* the device model's own state */
    int irq_level;               /* INTx as driven by the device */
    bool irq_asserted;           /* as seen by the router (INTx enabled) */
    uint8_t config_init[256];    /* power-on contents, for reset */
    Device dev;
};

/* The PIRQ router (PIIX3): maps PIRQA-D to an ISA IRQ, or -1 (disabled).
 * Without a router, PIRQn goes to nothing. */
typedef int PCIRouteIrq(void *opaque, int pirq);

#define PCI_MAX_DEVFN 256
struct PCIBus {
    Bus *bus;
    uint32_t config_addr;        /* 0xCF8 */
    PCIDevice *devs[PCI_MAX_DEVFN];
    int pirq_count[4];           /* how many functions assert each PIRQ */
    PCIRouteIrq *route_irq;
    void *route_opaque;
    uint16_t isa_levels;         /* ISA IRQs the PIRQs currently drive */
    /* Byte access at 0xCF9 is the PIIX3 reset control register, which
     * shares the dword of the config address register. */
    PioRead *cf9_read; PioWrite *cf9_write; void *cf9_opaque;
};

/* Creates the bus and claims ports 0xCF8-0xCFF. */
PCIBus *pci_init(Bus *b);
void pci_free(PCIBus *pb);

/* Adds a function: vendor/device IDs, class_rev = class << 8 | revision
 * (e.g. 0x06000002 for a host bridge rev 2), header type 0. The default
 * writable bits are the command register, latency timer, interrupt line
 * and the implemented BARs. Registers the function's Device for reset and
 * save/load. Returns NULL if devfn is taken or out of range. */
PCIDevice *pci_add_device(PCIBus *pb, int devfn, uint16_t vendor,
                          uint16_t device, uint32_t class_rev,
                          const char *name);
PCIDevice *pci_find_device(PCIBus *pb, int devfn);

/* Declare BAR n (0-5, or PCI_ROM_SLOT). size is rounded up to a power of
 * two (min 4 for I/O, 16 for memory, 2 KiB for the ROM). For I/O BARs pass
 * pio_read/pio_write (they get absolute port numbers); for memory BARs
 * mmio_read/mmio_write (offset from the BAR's base). */
void pci_set_bar_io(PCIDevice *d, int n, uint32_t size, PioRead *r,
                    PioWrite *w, void *opaque);
void pci_set_bar_mem(PCIDevice *d, int n, uint32_t size, bool prefetch,
                     MmioRead *r, MmioWrite *w, void *opaque);
void pci_set_bar_map_hook(PCIDevice *d, int n, PCIBarMapHook *hook);
/* Current base address of a BAR (0 when not mapped). */
uint32_t pci_bar_addr(const PCIDevice *d, int n);

/* Interrupt pin: 1 = INTA# .. 4 = INTD#, 0 = none. */
void pci_set_intr_pin(PCIDevice *d, int pin);
/* Drive the function's INTx line (level-triggered, shared). */
void pci_set_irq(PCIDevice *d, int level);
/* The PIRQ (0-3) a slot's pin reaches on the i440FX board:
 * (slot + pin - 1) & 3, with pin 1..4. */
int pci_slot_pirq(int slot, int pin);
/* Called by the router when its routing registers change. */
void pci_update_irq_routing(PCIBus *pb);

/* Raw config access by bus number 0 (for the firmware emulation in the
 * loader, the monitor, and tests). */
uint32_t pci_config_read(PCIBus *pb, int devfn, int off, int size);
void pci_config_write(PCIBus *pb, int devfn, int off, uint32_t val, int size);

/* Little-endian helpers for config space. */
static inline void pci_set_byte(PCIDevice *d, int off, uint8_t v)
{ d->config[off & 255] = v; }
static inline void pci_set_word(PCIDevice *d, int off, uint16_t v)
{ d->config[off & 255] = (uint8_t)v; d->config[(off + 1) & 255] = (uint8_t)(v >> 8); }
static inline void pci_set_long(PCIDevice *d, int off, uint32_t v)
{ pci_set_word(d, off, (uint16_t)v); pci_set_word(d, off + 2, (uint16_t)(v >> 16)); }
static inline uint16_t pci_get_word(const PCIDevice *d, int off)
{ return (uint16_t)(d->config[off & 255] | d->config[(off + 1) & 255] << 8); }
static inline uint32_t pci_get_long(const PCIDevice *d, int off)
{ return pci_get_word(d, off) | (uint32_t)pci_get_word(d, off + 2) << 16; }
#endif
