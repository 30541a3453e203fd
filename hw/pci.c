/* PCI configuration mechanism #1 and a single PCI bus.
 *
 * The config space of each function is a plain byte array with a mask of
 * guest-writable bits, so the generic code handles every read-only and
 * read/write field the same way; BAR sizing falls out of the mask (the
 * low bits of a BAR are not writable, so writing all-ones reads back the
 * size). After each write that touches the command register or a BAR the
 * mappings are recomputed and moved on the system bus. */
#include <stdlib.h>
#include <string.h>
#include "hw/pci.h"

#define CONFIG_ADDR_ENABLE 0x80000000u

static void pci_update_mappings(PCIDevice *d);

static void pci_device_reset(void *opaque)
{
    PCIDevice *d = opaque;
    memcpy(d->config, d->config_init, sizeof d->config);
    pci_update_mappings(d);
    d->irq_level = 0;
    if (d->irq_asserted) {
        d->irq_asserted = false;
        pci_update_irq_routing(d->bus);
    }
}

static void pci_device_post_load(void *opaque)
{
    PCIDevice *d = opaque;
    pci_update_mappings(d);
    /* irq_level belongs to the device model; recompute what the router
     * sees from it and the (restored) command register. */
    d->irq_asserted = d->irq_level &&
        !(pci_get_word(d, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE) &&
        d->config[PCI_INTERRUPT_PIN] != 0;
    pci_update_irq_routing(d->bus);
}

PCIDevice *pci_add_device(PCIBus *pb, int devfn, uint16_t vendor,
                          uint16_t device, uint32_t class_rev,
                          const char *name)
{
    if (!pb || devfn < 0 || devfn >= PCI_MAX_DEVFN || pb->devs[devfn])
        return NULL;
    PCIDevice *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->devfn = devfn;
    d->bus = pb;
    d->name = name;
    for (int i = 0; i < PCI_NUM_BARS; i++)
        d->bar[i].mmio_handle = -1;
    pci_set_word(d, PCI_VENDOR_ID, vendor);
    pci_set_word(d, PCI_DEVICE_ID, device);
    pci_set_long(d, PCI_REVISION_ID, class_rev);
    /* Command: I/O, memory, bus master, INTx disable are writable. */
    pci_set_word(d, PCI_COMMAND + 0, 0);
    d->wmask[PCI_COMMAND] = PCI_COMMAND_IO | PCI_COMMAND_MEMORY |
                            PCI_COMMAND_MASTER;
    d->wmask[PCI_COMMAND + 1] = PCI_COMMAND_INTX_DISABLE >> 8;
    /* Status: error bits are write-1-to-clear; DEVSEL medium. */
    pci_set_word(d, PCI_STATUS, 0x0200);
    d->w1cmask[PCI_STATUS + 1] = 0xf9;
    d->wmask[0x0c] = 0xff;                   /* cache line size */
    d->wmask[0x0d] = 0xff;                   /* latency timer */
    d->wmask[PCI_INTERRUPT_LINE] = 0xff;
    /* Multi-function: function 0 of a slot with other functions says so
     * in its header type; keep it consistent whichever is added first. */
    int slot0 = devfn & ~7;
    if (PCI_FUNC(devfn) != 0 && pb->devs[slot0])
        pb->devs[slot0]->config[PCI_HEADER_TYPE] |= PCI_HEADER_TYPE_MULTI;
    if (PCI_FUNC(devfn) == 0) {
        for (int f = 1; f < 8; f++)
            if (pb->devs[slot0 + f])
                d->config[PCI_HEADER_TYPE] |= PCI_HEADER_TYPE_MULTI;
    }
    pb->devs[devfn] = d;
    if (PCI_FUNC(devfn) != 0 && pb->devs[slot0])
        memcpy(pb->devs[slot0]->config_init, pb->devs[slot0]->config, 256);
    memcpy(d->config_init, d->config, sizeof d->config);

    d->dev.name = name ? name : "pci-device";
    d->dev.opaque = d;
    d->dev.reset = pci_device_reset;
    d->dev.state = d->config;
    d->dev.state_size = sizeof d->config;
    d->dev.post_load = pci_device_post_load;
    bus_add_device(pb->bus, &d->dev);
    return d;
}

PCIDevice *pci_find_device(PCIBus *pb, int devfn)
{
    if (!pb || devfn < 0 || devfn >= PCI_MAX_DEVFN)
        return NULL;
    return pb->devs[devfn];
}

/* Header fields set by models after pci_add_device become the reset
 * contents too; models call the pci_set_* helpers before the guest runs,
 * so refresh the snapshot on each BAR/pin declaration. */
static void snapshot_init(PCIDevice *d)
{
    memcpy(d->config_init, d->config, sizeof d->config);
}

static uint32_t round_pow2(uint32_t v, uint32_t min)
{
    uint32_t r = min;
    while (r < v && r < 0x80000000u)
        r <<= 1;
    return r;
}

static void bar_set_mask(PCIDevice *d, int n, uint32_t mask)
{
    int off = n == PCI_ROM_SLOT ? PCI_ROM_ADDRESS : PCI_BASE_ADDRESS_0 + 4 * n;
    for (int i = 0; i < 4; i++)
        d->wmask[off + i] = (uint8_t)(mask >> (8 * i));
}

void pci_set_bar_io(PCIDevice *d, int n, uint32_t size, PioRead *r,
                    PioWrite *w, void *opaque)
{
    if (!d || n < 0 || n >= PCI_ROM_SLOT || size == 0 || size > 0x10000)
        return;
    PCIBar *b = &d->bar[n];
    b->size = round_pow2(size, 4);
    b->is_io = true;
    b->pio_read = r;
    b->pio_write = w;
    b->opaque = opaque;
    pci_set_long(d, PCI_BASE_ADDRESS_0 + 4 * n, 1);   /* bit 0: I/O space */
    bar_set_mask(d, n, ~(b->size - 1) & ~3u);
    snapshot_init(d);
}

void pci_set_bar_mem(PCIDevice *d, int n, uint32_t size, bool prefetch,
                     MmioRead *r, MmioWrite *w, void *opaque)
{
    if (!d || n < 0 || n >= PCI_NUM_BARS || size == 0 || size > 0x80000000u)
        return;
    PCIBar *b = &d->bar[n];
    b->size = round_pow2(size, n == PCI_ROM_SLOT ? 2048 : 16);
    b->is_io = false;
    b->prefetch = prefetch && n != PCI_ROM_SLOT;
    b->mmio_read = r;
    b->mmio_write = w;
    b->opaque = opaque;
    if (n == PCI_ROM_SLOT) {
        pci_set_long(d, PCI_ROM_ADDRESS, 0);
        bar_set_mask(d, n, ~(b->size - 1) | 1u);
    } else {
        pci_set_long(d, PCI_BASE_ADDRESS_0 + 4 * n, b->prefetch ? 8 : 0);
        bar_set_mask(d, n, ~(b->size - 1));
    }
    snapshot_init(d);
}

void pci_set_bar_map_hook(PCIDevice *d, int n, PCIBarMapHook *hook)
{
    if (d && n >= 0 && n < PCI_NUM_BARS)
        d->bar[n].map = hook;
}

uint32_t pci_bar_addr(const PCIDevice *d, int n)
{
    if (!d || n < 0 || n >= PCI_NUM_BARS || !d->bar[n].mapped)
        return 0;
    return d->bar[n].addr;
}

void pci_set_intr_pin(PCIDevice *d, int pin)
{
    if (!d || pin < 0 || pin > 4)
        return;
    d->config[PCI_INTERRUPT_PIN] = (uint8_t)pin;
    snapshot_init(d);
}

/* Where a BAR should be decoded now, or false when it should not be. */
static bool bar_target(const PCIDevice *d, int n, uint32_t *addr)
{
    const PCIBar *b = &d->bar[n];
    uint16_t cmd = pci_get_word(d, PCI_COMMAND);
    if (n == PCI_ROM_SLOT) {
        uint32_t v = pci_get_long(d, PCI_ROM_ADDRESS);
        if (!(cmd & PCI_COMMAND_MEMORY) || !(v & 1))
            return false;
        *addr = v & ~(b->size - 1);
    } else {
        uint32_t v = pci_get_long(d, PCI_BASE_ADDRESS_0 + 4 * n);
        if (b->is_io) {
            if (!(cmd & PCI_COMMAND_IO))
                return false;
            *addr = v & ~(b->size - 1) & ~3u;
        } else {
            if (!(cmd & PCI_COMMAND_MEMORY))
                return false;
            *addr = v & ~(b->size - 1) & ~0xfu;
        }
    }
    if (*addr == 0)
        return false;
    /* A BAR left at its sizing value (all ones) or wrapping past the top
     * of its space is not decoded. */
    uint64_t end = (uint64_t)*addr + b->size;
    if (b->is_io ? end > 0x10000 : end > 0x100000000ull)
        return false;
    if (!b->is_io && *addr == ~(b->size - 1))
        return false;
    /* Never let a BAR take over the configuration ports themselves: the
     * bus could not give them back when the BAR moves away. */
    if (b->is_io && *addr < 0xd00 && end > 0xcf8)
        return false;
    return true;
}

static void pci_update_mappings(PCIDevice *d)
{
    Bus *bus = d->bus->bus;
    for (int n = 0; n < PCI_NUM_BARS; n++) {
        PCIBar *b = &d->bar[n];
        if (!b->size)
            continue;
        uint32_t addr = 0;
        bool on = bar_target(d, n, &addr);
        if (on == b->mapped && (!on || addr == b->addr))
            continue;
        if (b->is_io) {
            if (b->mapped)
                bus_pio_unregister(bus, (uint16_t)b->addr, (uint16_t)b->size);
            if (on && (b->pio_read || b->pio_write))
                bus_pio_register(bus, (uint16_t)addr, (uint16_t)b->size,
                                 b->pio_read, b->pio_write, b->opaque,
                                 d->name);
        } else if (b->mmio_read || b->mmio_write) {
            if (b->mmio_handle < 0 && on)
                b->mmio_handle = bus_mmio_register(bus, addr, b->size,
                                                   b->mmio_read, b->mmio_write,
                                                   b->opaque, d->name);
            if (b->mmio_handle >= 0)
                bus_mmio_move(bus, b->mmio_handle, on ? addr : b->addr, on);
        }
        b->mapped = on;
        if (on)
            b->addr = addr;
        if (b->map)
            b->map(d, n, on ? addr : 0, on);
    }
}

static uint32_t dev_config_read(PCIDevice *d, int off, int size)
{
    uint32_t v = 0;
    for (int i = 0; i < size; i++) {
        uint8_t byte = off + i < 256 ? d->config[off + i] : 0xff;
        v |= (uint32_t)byte << (8 * i);
    }
    if (d->config_read)
        v = d->config_read(d, off, size, v);
    return v;
}

static void dev_config_write(PCIDevice *d, int off, uint32_t val, int size)
{
    bool remap = false;
    bool intx_changed = false;
    for (int i = 0; i < size && off + i < 256; i++) {
        int a = off + i;
        uint8_t b = (uint8_t)(val >> (8 * i));
        uint8_t old = d->config[a];
        uint8_t nv = (uint8_t)((old & ~d->wmask[a]) | (b & d->wmask[a]));
        nv &= (uint8_t)~(b & d->w1cmask[a]);
        d->config[a] = nv;
        if ((a >= PCI_COMMAND && a < PCI_COMMAND + 2) ||
            (a >= PCI_BASE_ADDRESS_0 && a < PCI_BASE_ADDRESS_0 + 24) ||
            (a >= PCI_ROM_ADDRESS && a < PCI_ROM_ADDRESS + 4))
            remap = remap || nv != old;
        if (a == PCI_COMMAND + 1 && ((nv ^ old) & (PCI_COMMAND_INTX_DISABLE >> 8)))
            intx_changed = true;
    }
    if (remap)
        pci_update_mappings(d);
    if (intx_changed)
        pci_set_irq(d, d->irq_level);
    if (d->config_write)
        d->config_write(d, off, val, size);
}

uint32_t pci_config_read(PCIBus *pb, int devfn, int off, int size)
{
    uint32_t ones = size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
    if (devfn < 0 || devfn >= PCI_MAX_DEVFN || off < 0 || off > 255 ||
        !pb->devs[devfn])
        return ones;
    return dev_config_read(pb->devs[devfn], off, size) & ones;
}

void pci_config_write(PCIBus *pb, int devfn, int off, uint32_t val, int size)
{
    if (devfn < 0 || devfn >= PCI_MAX_DEVFN || off < 0 || off > 255 ||
        !pb->devs[devfn])
        return;
    dev_config_write(pb->devs[devfn], off, val, size);
}

/* Decode the config address for an access to 0xCFC-0xCFF; -1 when the
 * access is not a type-0 access to bus 0 (nothing answers). */
static int config_target(PCIBus *pb, uint16_t port, int *off)
{
    uint32_t a = pb->config_addr;
    if (!(a & CONFIG_ADDR_ENABLE) || ((a >> 16) & 0xff) != 0)
        return -1;
    *off = (int)(a & 0xfc) | (port & 3);
    return (int)((a >> 8) & 0xff);
}

static uint32_t pci_io_read(void *opaque, uint16_t port, int size)
{
    PCIBus *pb = opaque;
    uint32_t ones = size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
    if (port >= 0xcfc) {
        int off, devfn = config_target(pb, port, &off);
        if (devfn < 0)
            return ones;
        return pci_config_read(pb, devfn, off, size);
    }
    if (port == 0xcf8 && size == 4)
        return pb->config_addr;
    if (port == 0xcf9 && size == 1 && pb->cf9_read)
        return pb->cf9_read(pb->cf9_opaque, port, size) & 0xff;
    return ones;
}

static void pci_io_write(void *opaque, uint16_t port, uint32_t val, int size)
{
    PCIBus *pb = opaque;
    if (port >= 0xcfc) {
        int off, devfn = config_target(pb, port, &off);
        if (devfn >= 0)
            pci_config_write(pb, devfn, off, val, size);
        return;
    }
    if (port == 0xcf8 && size == 4) {
        /* Bits 30-24 are reserved (read as 0); bits 1-0 select type 0/1
         * and read back as written only for bridges we do not have. */
        pb->config_addr = val & 0x80fffffcu;
        return;
    }
    if (port == 0xcf9 && size == 1 && pb->cf9_write)
        pb->cf9_write(pb->cf9_opaque, port, val & 0xff, size);
}

static void pci_bus_reset(void *opaque)
{
    PCIBus *pb = opaque;
    pb->config_addr = 0;
}

static Device pci_bus_dev_template = {
    .name = "pci-host", .reset = pci_bus_reset,
};

typedef struct PCIBusHolder { PCIBus pb; Device dev; } PCIBusHolder;

PCIBus *pci_init(Bus *b)
{
    PCIBusHolder *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    PCIBus *pb = &h->pb;
    pb->bus = b;
    bus_pio_register(b, 0xcf8, 8, pci_io_read, pci_io_write, pb, "pci");
    h->dev = pci_bus_dev_template;
    h->dev.opaque = pb;
    h->dev.state = &pb->config_addr;
    h->dev.state_size = sizeof pb->config_addr;
    bus_add_device(b, &h->dev);
    return pb;
}

void pci_free(PCIBus *pb)
{
    if (!pb)
        return;
    for (int i = 0; i < PCI_MAX_DEVFN; i++)
        free(pb->devs[i]);
    free((PCIBusHolder *)pb);
}

int pci_slot_pirq(int slot, int pin)
{
    if (pin < 1 || pin > 4)
        return -1;
    return (slot + pin - 1) & 3;
}

void pci_set_irq(PCIDevice *d, int level)
{
    if (!d)
        return;
    d->irq_level = level != 0;
    bool on = d->irq_level && d->config[PCI_INTERRUPT_PIN] != 0 &&
              !(pci_get_word(d, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE);
    /* The interrupt status bit follows the device's line even when INTx
     * is disabled (that is how drivers poll with INTx masked). */
    if (d->irq_level)
        d->config[PCI_STATUS] |= PCI_STATUS_INTERRUPT;
    else
        d->config[PCI_STATUS] &= (uint8_t)~PCI_STATUS_INTERRUPT;
    if (on == d->irq_asserted)
        return;
    d->irq_asserted = on;
    pci_update_irq_routing(d->bus);
}

/* Recompute every PIRQ from the functions asserting it, route them, and
 * drive each ISA IRQ with the OR of the PIRQs that reach it (two PIRQs
 * commonly share one IRQ). */
void pci_update_irq_routing(PCIBus *pb)
{
    if (!pb)
        return;
    int count[4] = {0, 0, 0, 0};
    for (int i = 0; i < PCI_MAX_DEVFN; i++) {
        PCIDevice *d = pb->devs[i];
        if (d && d->irq_asserted) {
            int p = pci_slot_pirq(PCI_SLOT(i), d->config[PCI_INTERRUPT_PIN]);
            if (p >= 0)
                count[p]++;
        }
    }
    uint16_t levels = 0;
    for (int p = 0; p < 4; p++) {
        pb->pirq_count[p] = count[p];
        int irq = pb->route_irq ? pb->route_irq(pb->route_opaque, p) : -1;
        if (count[p] && irq >= 0 && irq < 16)
            levels |= (uint16_t)(1u << irq);
    }
    uint16_t changed = levels ^ pb->isa_levels;
    pb->isa_levels = levels;
    for (int irq = 0; irq < 16; irq++)
        if (changed & (1u << irq))
            bus_set_irq(pb->bus, irq, (levels >> irq) & 1);
}
