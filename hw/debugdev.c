/* isa-debugcon, isa-debug-exit and pc-testdev (see debugdev.h). The port
 * layouts and behaviours follow QEMU's device definitions; the property
 * tables drive parsing, -global, `-device help` and `-device NAME,help`. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "hw/debugdev.h"
#include "hw/pci.h"

enum { P_U32, P_CHARDEV };

typedef struct PropDef {
    const char *name;
    int type;
    uint32_t def;
    const char *help;
} PropDef;

enum { DEV_DEBUGCON, DEV_DEBUG_EXIT, DEV_PC_TESTDEV, DEV_PCI_TESTDEV };

#define MAX_PROPS 4
static const struct DevDef {
    const char *name;
    int kind;
    const char *desc;
    PropDef props[MAX_PROPS];
} devdefs[] = {
    { "isa-debugcon", DEV_DEBUGCON, "debug console on an I/O port",
      { { "iobase", P_U32, 0xe9, "I/O port" },
        { "chardev", P_CHARDEV, 0, "ID of a chardev to use as a backend" },
        { "readback", P_U32, 0xe9, "value a read of the port returns" } } },
    { "isa-debug-exit", DEV_DEBUG_EXIT,
      "a write of v exits with status (v << 1) | 1",
      { { "iobase", P_U32, 0x501, "I/O port" },
        { "iosize", P_U32, 0x02, "number of ports" } } },
    { "pc-testdev", DEV_PC_TESTDEV,
      "latch 0xe0, flush 0xe4, IRQ lines 0x2000+n, MMIO 0xff000000", { { 0 } } },
    { "pci-testdev", DEV_PCI_TESTDEV,
      "PCI 1b36:0005: I/O-write test headers on BAR0 (MMIO) and BAR1 (I/O)",
      { { 0 } } },
};
#define NDEVDEFS (sizeof(devdefs) / sizeof(devdefs[0]))

typedef struct DevProps {
    uint32_t u32[MAX_PROPS];
    const char *chardev;        /* an id (points into the option string) */
    size_t chardev_len;
} DevProps;

static const struct DevDef *find_def(const char *name, size_t n)
{
    for (size_t i = 0; i < NDEVDEFS; i++)
        if (strlen(devdefs[i].name) == n && !strncmp(devdefs[i].name, name, n))
            return &devdefs[i];
    return NULL;
}

static int find_prop(const struct DevDef *d, const char *name, size_t n)
{
    for (int i = 0; i < MAX_PROPS && d->props[i].name; i++)
        if (strlen(d->props[i].name) == n && !strncmp(d->props[i].name, name, n))
            return i;
    return -1;
}

static int parse_u32(const char *s, size_t n, uint32_t *out)
{
    char buf[32], *end;
    if (!n || n >= sizeof(buf))
        return -1;
    memcpy(buf, s, n);
    buf[n] = 0;
    errno = 0;
    unsigned long long v = strtoull(buf, &end, 0);
    if (*end || errno || v > 0xffffffffull || buf[0] == '-')
        return -1;
    *out = (uint32_t)v;
    return 0;
}

/* Apply one PROP=VAL (s, length n) to props; error messages name ctx. */
static int set_prop(const struct DevDef *d, DevProps *p, const char *s,
                    size_t n, const char *ctx, char *err, size_t errlen)
{
    const char *eq = memchr(s, '=', n);
    if (!eq) {
        snprintf(err, errlen, "%s: '%.*s' is not PROP=VALUE", ctx, (int)n, s);
        return -1;
    }
    size_t klen = (size_t)(eq - s), vlen = n - klen - 1;
    if (klen == 2 && !strncmp(s, "id", 2))
        return 0;           /* instance names are accepted and unused */
    int i = find_prop(d, s, klen);
    if (i < 0) {
        snprintf(err, errlen, "%s: %s has no property '%.*s' (see -device "
                 "%s,help)", ctx, d->name, (int)klen, s, d->name);
        return -1;
    }
    if (d->props[i].type == P_CHARDEV) {
        if (!vlen) {
            snprintf(err, errlen, "%s: empty chardev id", ctx);
            return -1;
        }
        p->chardev = eq + 1;
        p->chardev_len = vlen;
        return 0;
    }
    if (parse_u32(eq + 1, vlen, &p->u32[i])) {
        snprintf(err, errlen, "%s: property '%s' needs a number, not '%.*s'",
                 ctx, d->props[i].name, (int)vlen, eq + 1);
        return -1;
    }
    return 0;
}

static int check_ranges(const struct DevDef *d, const DevProps *p,
                        const char *ctx, char *err, size_t errlen)
{
    if (d->kind == DEV_DEBUGCON && p->u32[0] > 0xffff)
        goto bad;
    if (d->kind == DEV_DEBUG_EXIT &&
        (p->u32[0] > 0xffff || p->u32[1] < 1 || p->u32[1] > 0x10000 - p->u32[0]))
        goto bad;
    return 0;
bad:
    snprintf(err, errlen, "%s: the ports lie outside 0-0xffff", ctx);
    return -1;
}

/* Parse "NAME,P=V,..." after the globals; fills *def and *props. */
static int parse_device(const char *opt, const char *const *globals,
                        int nglobals, const struct DevDef **def,
                        DevProps *props, char *err, size_t errlen)
{
    char ctx[96];
    size_t n = strcspn(opt, ",");
    const struct DevDef *d = find_def(opt, n);
    snprintf(ctx, sizeof(ctx), "-device %.80s", opt);
    if (!d) {
        snprintf(err, errlen, "-device %.*s: no such device (see -device "
                 "help)", (int)n, opt);
        return -1;
    }
    memset(props, 0, sizeof(*props));
    for (int i = 0; i < MAX_PROPS; i++)
        props->u32[i] = d->props[i].def;
    for (int g = 0; g < nglobals; g++) {
        size_t gn = strlen(d->name);
        if (!strncmp(globals[g], d->name, gn) && globals[g][gn] == '.') {
            const char *s = globals[g] + gn + 1;
            if (set_prop(d, props, s, strlen(s), "-global", err, errlen))
                return -1;
        }
    }
    for (const char *s = opt + n; *s == ',';) {
        s++;
        size_t len = strcspn(s, ",");
        if (set_prop(d, props, s, len, ctx, err, errlen))
            return -1;
        s += len;
    }
    if (check_ranges(d, props, ctx, err, errlen))
        return -1;
    *def = d;
    return 0;
}

int device_help(const char *opt, FILE *out)
{
    if (!strcmp(opt, "help") || !strcmp(opt, "?")) {
        fprintf(out, "Misc devices:\n");
        for (size_t i = 0; i < NDEVDEFS; i++)
            fprintf(out, "name \"%s\", bus %s, desc \"%s\"\n",
                    devdefs[i].name,
                    devdefs[i].kind == DEV_PCI_TESTDEV ? "PCI" : "ISA",
                    devdefs[i].desc);
        return 1;
    }
    size_t n = strcspn(opt, ",");
    if (strcmp(opt + n, ",help") && strcmp(opt + n, ",?"))
        return 0;
    const struct DevDef *d = find_def(opt, n);
    if (!d)
        return -1;
    if (!d->props[0].name) {
        fprintf(out, "There are no options for %s.\n", d->name);
        return 1;
    }
    fprintf(out, "%s options:\n", d->name);
    for (int i = 0; i < MAX_PROPS && d->props[i].name; i++) {
        const PropDef *p = &d->props[i];
        char lhs[48];
        snprintf(lhs, sizeof(lhs), "%s=<%s>", p->name,
                 p->type == P_CHARDEV ? "str" : "uint32");
        if (p->type == P_CHARDEV)
            fprintf(out, "  %-22s - %s\n", lhs, p->help);
        else
            fprintf(out, "  %-22s - %s (default: %u)\n", lhs, p->help,
                    p->def);
    }
    return 1;
}

int device_check(const char *opt, char *err, size_t errlen)
{
    const struct DevDef *d;
    DevProps p;
    if (parse_device(opt, NULL, 0, &d, &p, err, errlen))
        return -1;
    if (p.chardev) {
        char id[64];
        snprintf(id, sizeof(id), "%.*s", (int)p.chardev_len, p.chardev);
        if (!chardev_find(id)) {
            snprintf(err, errlen, "-device %s: no -chardev with id '%s' "
                     "(define it first)", opt, id);
            return -1;
        }
    }
    return 0;
}

int global_check(const char *opt, char *err, size_t errlen)
{
    const char *dot = strchr(opt, '.');
    const char *eq = strchr(opt, '=');
    if (!dot || !eq || eq < dot) {
        snprintf(err, errlen, "-global %s: expected DEVICE.PROP=VALUE", opt);
        return -1;
    }
    const struct DevDef *d = find_def(opt, (size_t)(dot - opt));
    if (!d) {
        snprintf(err, errlen, "-global %s: Kestrel has no device '%.*s'",
                 opt, (int)(dot - opt), opt);
        return -1;
    }
    DevProps p;
    if (set_prop(d, &p, dot + 1, strlen(dot + 1), "-global", err, errlen))
        return -1;
    if (d->props[find_prop(d, dot + 1, (size_t)(eq - dot - 1))].type ==
        P_CHARDEV) {
        snprintf(err, errlen, "-global %s: set the chardev per device", opt);
        return -1;
    }
    return 0;
}

/* ---- the devices ---- */

typedef struct DebugDev {
    int kind;
    Bus *bus;
    Chardev *chr;
    uint32_t iobase, iosize, readback;
    uint32_t latch;              /* pc-testdev 0xE0 */
    uint8_t *iomem;              /* pc-testdev 64 KiB window */
    struct PciTestdev *pcitest;
    struct DebugDev *next;
} DebugDev;

static PCIBus *pci_bus;

void device_set_pci_bus(PCIBus *pb)
{
    pci_bus = pb;
}

#define TESTDEV_IOMEM_BASE 0xff000000ull
#define TESTDEV_IOMEM_LEN 0x10000u

static DebugDev *all_devs;

static uint32_t debugcon_read(void *opaque, uint16_t port, int size)
{
    DebugDev *d = opaque;
    return d->readback;
}

static void debugcon_write(void *opaque, uint16_t port, uint32_t val, int size)
{
    DebugDev *d = opaque;
    uint8_t c = (uint8_t)val;   /* the device is one byte wide */
    if (d->chr)
        chardev_write(d->chr, &c, 1);
}

static uint32_t debug_exit_read(void *opaque, uint16_t port, int size)
{
    return 0;
}

static void debug_exit_write(void *opaque, uint16_t port, uint32_t val,
                             int size)
{
    DebugDev *d = opaque;
    /* The status wraps to 8 bits in the host's exit(), as with QEMU. */
    bus_request_shutdown(d->bus, (int)((val << 1) | 1));
}

/* The latch: an access of `size` bytes at byte offset (port & 3) reads or
 * replaces that slice of the 32-bit value. */
static uint32_t latch_mask(uint16_t port, int size, int *shift)
{
    int off = port & 3;
    if (size + off > 4)
        size = 4 - off;
    *shift = off * 8;
    return (size >= 4 ? 0xffffffffu : ((1u << (size * 8)) - 1)) << *shift;
}

static uint32_t testdev_latch_read(void *opaque, uint16_t port, int size)
{
    DebugDev *d = opaque;
    int shift;
    uint32_t mask = latch_mask(port, size, &shift);
    return (d->latch & mask) >> shift;
}

static void testdev_latch_write(void *opaque, uint16_t port, uint32_t val,
                                int size)
{
    DebugDev *d = opaque;
    int shift;
    uint32_t mask = latch_mask(port, size, &shift);
    d->latch = (d->latch & ~mask) | ((val << shift) & mask);
}

static uint32_t testdev_flush_read(void *opaque, uint16_t port, int size)
{
    return 0;
}

/* In QEMU this write makes the host remap the page at the given guest
 * address to exercise a hypervisor's page tracking; under emulation there
 * is no host mapping to disturb, so the only visible effect is none. */
static void testdev_flush_write(void *opaque, uint16_t port, uint32_t val,
                                int size)
{
}

static uint32_t testdev_irq_read(void *opaque, uint16_t port, int size)
{
    return 0;
}

static void testdev_irq_write(void *opaque, uint16_t port, uint32_t val,
                              int size)
{
    DebugDev *d = opaque;
    int line = port - 0x2000;
    if (line >= 0 && line < 16)        /* the ISA IRQ lines */
        bus_set_irq(d->bus, line, val != 0);
}

static uint64_t testdev_iomem_read(void *opaque, uint64_t off, int size)
{
    DebugDev *d = opaque;
    uint64_t v = 0;
    if (off < TESTDEV_IOMEM_LEN && (uint64_t)size <= TESTDEV_IOMEM_LEN - off)
        memcpy(&v, d->iomem + off, (size_t)size);
    return v;
}

static void testdev_iomem_write(void *opaque, uint64_t off, uint64_t val,
                                int size)
{
    DebugDev *d = opaque;
    if (off < TESTDEV_IOMEM_LEN && (uint64_t)size <= TESTDEV_IOMEM_LEN - off)
        memcpy(d->iomem + off, &val, (size_t)size);
}

/* ---- pci-testdev ----
 * Six tests, QEMU's numbering: index = type * 3 + test, type 0 for the
 * memory BAR and 1 for the I/O BAR, test 0 "no-eventfd", 1
 * "wildcard-eventfd", 2 "datamatch-eventfd". Writing n to offset 0 of a
 * BAR selects test n of that BAR's type and clears its count. Each test
 * has a header the guest reads from the BAR, one byte per access:
 *   0 test index, 1 access width (1), 4 offset (le32), 8 data, 12 count
 *   (le32), 16 the NUL-terminated name.
 * A 1-byte write of `data` to `offset` counts; for the wildcard test any
 * write there counts. In QEMU the two eventfd tests hang a host notifier
 * on that exact 1-byte access, which swallows it before the device sees
 * it (TCG emulates the notifier that way). Checked side by side with
 * qemu-system-i386 7.2 by tests/qemucompat. */
#define PCITEST_IOSIZE 128
#define PCITEST_MEMSIZE 2048
#define PCITEST_NTESTS 6
#define PCITEST_HDR 16

typedef struct PciTestdev {
    PCIDevice *pci;
    Device dev;                  /* resets the selection */
    Bus *bus;
    int current;                 /* -1: none selected */
    uint8_t hdr[PCITEST_NTESTS][PCITEST_HDR + 32];
    uint32_t hdr_len[PCITEST_NTESTS];
} PciTestdev;

static const char *const pcitest_names[PCITEST_NTESTS] = {
    "mmio-no-eventfd", "mmio-wildcard-eventfd", "mmio-datamatch-eventfd",
    "portio-no-eventfd", "portio-wildcard-eventfd",
    "portio-datamatch-eventfd",
};

static void pcitest_init_headers(PciTestdev *t)
{
    for (int i = 0; i < PCITEST_NTESTS; i++) {
        uint8_t *h = t->hdr[i];
        uint32_t off = (i < 3 ? PCITEST_MEMSIZE : PCITEST_IOSIZE) + (uint32_t)i;
        size_t n = strlen(pcitest_names[i]) + 1;
        memset(h, 0, sizeof(t->hdr[i]));
        h[0] = (uint8_t)i;
        h[1] = 1;
        memcpy(h + 4, &off, 4);
        h[8] = i % 3 == 1 ? 0xce : 0xfa;   /* the wildcard's is unused */
        memcpy(h + PCITEST_HDR, pcitest_names[i], n);
        t->hdr_len[i] = (uint32_t)(PCITEST_HDR + n);
    }
    t->current = -1;
}

static uint32_t pcitest_offset(const PciTestdev *t, int i)
{
    uint32_t off;
    memcpy(&off, t->hdr[i] + 4, 4);
    return off;
}

static uint64_t pcitest_read(PciTestdev *t, uint64_t addr, int size)
{
    /* One header byte per access, whatever its width (QEMU's device
     * returns buf[addr] zero-extended). */
    if (t->current < 0 || addr + (uint64_t)size >= t->hdr_len[t->current])
        return 0;
    return t->hdr[t->current][addr];
}

static void pcitest_write(PciTestdev *t, uint64_t addr, uint64_t val,
                          int size, int type)
{
    int c = t->current;
    if (c >= 0 && c % 3 != 0 && size == 1 &&
        addr == pcitest_offset(t, c) &&
        (c % 3 == 1 || (uint8_t)val == t->hdr[c][8]))
        return;                  /* taken by the (emulated) notifier */
    if (addr == 0) {
        t->current = -1;
        if (val >= 3)
            return;
        t->current = type * 3 + (int)val;
        memset(t->hdr[t->current] + 12, 0, 4);
        return;
    }
    if (c < 0 || addr != pcitest_offset(t, c))
        return;
    /* Data-matched tests count only a 1-byte write of the data byte. */
    if (c % 3 != 1 && (size != 1 || val != t->hdr[c][8]))
        return;
    uint32_t count;
    memcpy(&count, t->hdr[c] + 12, 4);
    count++;
    memcpy(t->hdr[c] + 12, &count, 4);
}

static uint64_t pcitest_mmio_read(void *opaque, uint64_t off, int size)
{
    return pcitest_read(opaque, off, size);
}

static void pcitest_mmio_write(void *opaque, uint64_t off, uint64_t val,
                               int size)
{
    pcitest_write(opaque, off, val, size, 0);
}

static uint32_t pcitest_pio_read(void *opaque, uint16_t port, int size)
{
    PciTestdev *t = opaque;
    return (uint32_t)pcitest_read(t, (uint16_t)(port - pci_bar_addr(t->pci, 1)),
                                  size);
}

static void pcitest_pio_write(void *opaque, uint16_t port, uint32_t val,
                              int size)
{
    PciTestdev *t = opaque;
    pcitest_write(t, (uint16_t)(port - pci_bar_addr(t->pci, 1)), val, size, 1);
}

static void pcitest_reset(void *opaque)
{
    PciTestdev *t = opaque;
    t->current = -1;
}

static int pcitest_create(DebugDev *d, char *err, size_t errlen)
{
    if (!pci_bus) {
        snprintf(err, errlen, "pci-testdev: this machine has no PCI bus");
        return -1;
    }
    /* The first free slot from 2 up, as QEMU assigns. */
    int devfn = -1;
    for (int slot = 2; slot < 32 && devfn < 0; slot++)
        if (!pci_find_device(pci_bus, PCI_DEVFN(slot, 0)))
            devfn = PCI_DEVFN(slot, 0);
    PciTestdev *t = calloc(1, sizeof(*t));
    if (!t || devfn < 0) {
        free(t);
        snprintf(err, errlen, "pci-testdev: no free PCI slot");
        return -1;
    }
    t->pci = pci_add_device(pci_bus, devfn, 0x1b36, 0x0005, 0x00ff0000,
                            "pci-testdev");
    if (!t->pci) {
        free(t);
        snprintf(err, errlen, "pci-testdev: no free PCI slot");
        return -1;
    }
    pcitest_init_headers(t);
    pci_set_bar_mem(t->pci, 0, PCITEST_MEMSIZE * 2, false, pcitest_mmio_read,
                    pcitest_mmio_write, t);
    pci_set_bar_io(t->pci, 1, PCITEST_IOSIZE * 2, pcitest_pio_read,
                   pcitest_pio_write, t);
    t->bus = d->bus;
    t->dev = (Device){ .name = "pci-testdev", .opaque = t,
                       .reset = pcitest_reset };
    bus_add_device(d->bus, &t->dev);
    d->pcitest = t;
    return 0;
}

int device_create(Bus *bus, const char *opt, const char *const *globals,
                  int nglobals, Chardev *chr, char *err, size_t errlen)
{
    const struct DevDef *def;
    DevProps p;
    if (parse_device(opt, globals, nglobals, &def, &p, err, errlen))
        return -1;
    DebugDev *d = calloc(1, sizeof(*d));
    if (!d) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    d->kind = def->kind;
    d->bus = bus;
    switch (def->kind) {
    case DEV_DEBUGCON:
        d->iobase = p.u32[0];
        d->readback = p.u32[2];
        d->chr = chr;
        if (p.chardev) {
            char id[64];
            snprintf(id, sizeof(id), "%.*s", (int)p.chardev_len, p.chardev);
            d->chr = chardev_find(id);
            if (!d->chr) {
                snprintf(err, errlen, "-device %s: no -chardev with id '%s'",
                         opt, id);
                free(d);
                return -1;
            }
        }
        bus_pio_register(bus, (uint16_t)d->iobase, 1, debugcon_read,
                         debugcon_write, d, "isa-debugcon");
        break;
    case DEV_DEBUG_EXIT:
        d->iobase = p.u32[0];
        d->iosize = p.u32[1];
        bus_pio_register(bus, (uint16_t)d->iobase, (uint16_t)d->iosize,
                         debug_exit_read, debug_exit_write, d,
                         "isa-debug-exit");
        break;
    case DEV_PC_TESTDEV:
        d->iomem = calloc(1, TESTDEV_IOMEM_LEN);
        if (!d->iomem) {
            free(d);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        bus_pio_register(bus, 0xe0, 4, testdev_latch_read,
                         testdev_latch_write, d, "pc-testdev-ioport");
        bus_pio_register(bus, 0xe4, 4, testdev_flush_read,
                         testdev_flush_write, d, "pc-testdev-flush-page");
        /* The byte-wise alias overlaps the debug console at 0xE9; there
         * QEMU gives the port to isa-debugcon, so only claim free ports. */
        for (uint16_t port = 0xe8; port < 0xec; port++)
            if (!bus->pio_map[port])
                bus_pio_register(bus, port, 1, testdev_latch_read,
                                 testdev_latch_write, d,
                                 "pc-testdev-ioport-byte");
        bus_pio_register(bus, 0x2000, 24, testdev_irq_read, testdev_irq_write,
                         d, "pc-testdev-irq-line");
        bus_mmio_register(bus, TESTDEV_IOMEM_BASE, TESTDEV_IOMEM_LEN,
                          testdev_iomem_read, testdev_iomem_write, d,
                          "pc-testdev-iomem");
        break;
    case DEV_PCI_TESTDEV:
        if (pcitest_create(d, err, errlen)) {
            free(d);
            return -1;
        }
        break;
    }
    d->next = all_devs;
    all_devs = d;
    return 0;
}

void device_free_all(void)
{
    while (all_devs) {
        DebugDev *d = all_devs;
        all_devs = d->next;
        free(d->iomem);
        if (d->pcitest)
            bus_del_device(d->pcitest->bus, &d->pcitest->dev);
        free(d->pcitest);
        free(d);
    }
}
