/* i440FX host bridge, PIIX3 ISA bridge, PIIX IDE presence and PIIX4 power
 * management (see hw/piix.h for the layout). Register facts follow the
 * Intel 82441FX/82371SB/82371AB datasheets. */
#include <stdlib.h>
#include <string.h>
#include "hw/piix.h"
#include "system/event.h"

/* i440FX (82441FX) registers. */
#define I440FX_PAM0   0x59
#define I440FX_SMRAM  0x72
/* PIIX3 (82371SB) function 0. */
#define PIIX_PIRQRC   0x60
/* PIIX4 (82371AB) function 3. */
#define PIIX4_PMBA    0x40
#define PIIX4_DEVACTB 0x58
#define PIIX4_DEVACTB_APMC_EN (1u << 25)
#define PIIX4_PMREGMISC 0x80
#define PIIX4_SMBBA   0x90
#define PIIX4_SMBHSTCFG 0xd2

#define RCR_SYS_RST 0x02
#define RCR_RST_CPU 0x04

/* ---------------- i440FX: PAM shadow control ---------------- */

/* Each PAM register holds two nibbles (bit 0 read enable, bit 1 write
 * enable); PAM0's high nibble covers all of 0xF0000-0xFFFFF, the others
 * one 16 KiB chunk per nibble from 0xC0000 up. Reads always come from the
 * shadow RAM the loader filled, so only the write enables matter here. */
static void pam_update(PIIX *p)
{
    const uint8_t *c = p->host->config;
    bool we_f = (c[I440FX_PAM0] >> 4) & 2;
    for (int chunk = 0; chunk < 12; chunk++) {
        uint8_t reg = c[I440FX_PAM0 + 1 + chunk / 2];
        uint8_t nib = chunk & 1 ? reg >> 4 : reg & 15;
        p->bus->shadow_writable[chunk] = nib & 2;
    }
    for (int chunk = 12; chunk < 16; chunk++)
        p->bus->shadow_writable[chunk] = we_f;
}

static void host_config_write(PCIDevice *d, int off, uint32_t val, int size)
{
    (void)val;
    PIIX *p = d->opaque;
    if (off + size > I440FX_PAM0 && off <= I440FX_PAM0 + 6)
        pam_update(p);
}

/* ---------------- PIIX3: PIRQ routing ---------------- */

static int piix_route_irq(void *opaque, int pirq)
{
    PIIX *p = opaque;
    uint8_t r = p->isa->config[PIIX_PIRQRC + (pirq & 3)];
    /* Bit 7 disables routing; IRQs 0-2, 8 and 13 are reserved. */
    if (r & 0x80)
        return -1;
    r &= 15;
    if (r < 3 || r == 8 || r == 13)
        return -1;
    return r;
}

static void isa_config_write(PCIDevice *d, int off, uint32_t val, int size)
{
    (void)val;
    PIIX *p = d->opaque;
    if (off + size > PIIX_PIRQRC && off < PIIX_PIRQRC + 4)
        pci_update_irq_routing(p->pci);
}

static uint32_t rcr_read(void *opaque, uint16_t port, int size)
{
    (void)port; (void)size;
    PIIX *p = opaque;
    return p->st.rcr;
}

static void rcr_write(void *opaque, uint16_t port, uint32_t val, int size)
{
    (void)port; (void)size;
    PIIX *p = opaque;
    p->st.rcr = val & RCR_SYS_RST;
    if (val & RCR_RST_CPU)
        bus_request_reset(p->bus);
}

/* ---------------- PIIX4 PM ---------------- */

static int64_t pm_ticks(PIIX *p)
{
    int64_t ns = clock_ns() - p->st.tmr_epoch_ns;
    if (ns < 0)
        ns = 0;
    /* Split to keep the product in range for days of uptime. */
    return (ns / NS_PER_SEC) * PM_TIMER_HZ +
           (ns % NS_PER_SEC) * PM_TIMER_HZ / NS_PER_SEC;
}

uint32_t piix_pm_timer(PIIX *p)
{
    return (uint32_t)(pm_ticks(p) & 0xffffff);
}

/* TMR_STS is set each time bit 23 of the counter changes; the count of
 * such changes is ticks >> 23, compared with the count at the last clear. */
static uint16_t pm1_sts(PIIX *p)
{
    uint16_t s = p->st.pm1_sts;
    if ((pm_ticks(p) >> 23) != (int64_t)p->st.tmr_sts_base)
        s |= PM1_STS_TMR;
    return s;
}

static void pm_update_sci(PIIX *p)
{
    uint16_t sts = pm1_sts(p);
    bool level = (p->st.pm1_cnt & PM1_CNT_SCI_EN) &&
                 ((sts & p->st.pm1_en & (PM1_STS_TMR | PM1_STS_GBL |
                                         PM1_STS_PWRBTN | PM1_STS_RTC)) ||
                  (p->st.gpe0_sts & p->st.gpe0_en));
    if (level != p->st.sci_level) {
        p->st.sci_level = level;
        bus_set_irq(p->bus, PIIX_SCI_IRQ, level);
    }
    /* While the timer interrupt is enabled, wake at the next bit-23 edge
     * so the SCI rises without anybody polling. */
    if (p->tmr_timer) {
        if ((p->st.pm1_en & PM1_STS_TMR) && !(sts & PM1_STS_TMR)) {
            int64_t next = ((pm_ticks(p) >> 23) + 1) << 23;
            int64_t ns = next / PM_TIMER_HZ * NS_PER_SEC +
                         (next % PM_TIMER_HZ) * NS_PER_SEC / PM_TIMER_HZ + 1;
            timer_mod(p->tmr_timer, p->st.tmr_epoch_ns + ns);
        } else {
            timer_del(p->tmr_timer);
        }
    }
}

static void pm_tmr_cb(void *opaque)
{
    pm_update_sci(opaque);
}

static uint32_t pm_read(void *opaque, uint16_t port, int size)
{
    PIIX *p = opaque;
    int off = port - p->st.pm_io_base;
    uint8_t regs[PIIX_PM_SIZE];
    memset(regs, 0, sizeof regs);
    uint16_t sts = pm1_sts(p);
    uint32_t tmr = piix_pm_timer(p);
    memcpy(regs + PM_PM1_STS, &sts, 2);
    memcpy(regs + PM_PM1_EN, &p->st.pm1_en, 2);
    memcpy(regs + PM_PM1_CNT, &p->st.pm1_cnt, 2);
    memcpy(regs + PM_PM_TMR, &tmr, 4);
    memcpy(regs + PM_GPE0_STS, &p->st.gpe0_sts, 2);
    memcpy(regs + PM_GPE0_EN, &p->st.gpe0_en, 2);
    uint32_t v = 0;
    for (int i = 0; i < size; i++)
        if (off + i >= 0 && off + i < PIIX_PM_SIZE)
            v |= (uint32_t)regs[off + i] << (8 * i);
    return v;
}

static void pm1_cnt_write(PIIX *p, uint16_t v)
{
    /* SLP_EN is write-only: it starts the transition and reads as 0. */
    p->st.pm1_cnt = v & ~PM1_CNT_SLP_EN;
    if (v & PM1_CNT_SLP_EN) {
        int typ = (v >> PM1_CNT_SLP_TYP_SHIFT) & 7;
        if (typ == PIIX_SLP_TYP_S5) {
            bus_request_shutdown(p->bus, 0);
        } else {
            /* Other sleep states are not modelled: wake at once. */
            p->st.pm1_sts |= PM1_STS_WAK;
        }
    }
}

static void pm_write(void *opaque, uint16_t port, uint32_t val, int size)
{
    PIIX *p = opaque;
    int off = port - p->st.pm_io_base;
    for (int i = 0; i < size; i++) {
        int a = off + i;
        uint8_t b = (uint8_t)(val >> (8 * i));
        switch (a) {
        case PM_PM1_STS: case PM_PM1_STS + 1: {
            uint16_t m = (uint16_t)(b << (8 * (a - PM_PM1_STS)));
            if (m & PM1_STS_TMR)
                p->st.tmr_sts_base = (uint64_t)(pm_ticks(p) >> 23);
            p->st.pm1_sts &= (uint16_t)~m;
            break;
        }
        case PM_PM1_EN:
            p->st.pm1_en = (uint16_t)((p->st.pm1_en & 0xff00) | b);
            break;
        case PM_PM1_EN + 1:
            p->st.pm1_en = (uint16_t)((p->st.pm1_en & 0x00ff) | b << 8);
            break;
        case PM_PM1_CNT:
            /* A 16-bit write arrives as two bytes; act on the high byte
             * (where SLP_EN lives) with the complete value. */
            if (size == 1)
                pm1_cnt_write(p, (uint16_t)((p->st.pm1_cnt & 0xff00) | b));
            else
                p->st.pm1_cnt = (uint16_t)((p->st.pm1_cnt & 0xff00) | b);
            break;
        case PM_PM1_CNT + 1:
            pm1_cnt_write(p, (uint16_t)((p->st.pm1_cnt & 0x00ff) | b << 8));
            break;
        case PM_GPE0_STS: case PM_GPE0_STS + 1:
            p->st.gpe0_sts &= (uint16_t)~(b << (8 * (a - PM_GPE0_STS)));
            break;
        case PM_GPE0_EN:
            p->st.gpe0_en = (uint16_t)((p->st.gpe0_en & 0xff00) | b);
            break;
        case PM_GPE0_EN + 1:
            p->st.gpe0_en = (uint16_t)((p->st.gpe0_en & 0x00ff) | b << 8);
            break;
        default:
            break;
        }
    }
    pm_update_sci(p);
}

/* SMBus host controller: enough registers that a probe finds an idle
 * controller with no devices (every transaction ends with a device
 * error). */
static uint32_t smb_read(void *opaque, uint16_t port, int size)
{
    PIIX *p = opaque;
    int off = (port - p->st.smb_io_base) & 15;
    (void)size;
    return p->st.smb_regs[off];
}

static void smb_write(void *opaque, uint16_t port, uint32_t val, int size)
{
    PIIX *p = opaque;
    int off = (port - p->st.smb_io_base) & 15;
    (void)size;
    if (off == 0) {                       /* host status: write 1 to clear */
        p->st.smb_regs[0] &= (uint8_t)~val;
    } else if (off == 2) {                /* host control */
        p->st.smb_regs[2] = (uint8_t)(val & ~0x40);
        if (val & 0x40)                   /* START: no slave answers */
            p->st.smb_regs[0] |= 0x04;    /* DEV_ERR */
    } else {
        p->st.smb_regs[off] = (uint8_t)val;
    }
}

static void pm_io_update(PIIX *p)
{
    const uint8_t *c = p->pm->config;
    uint16_t base = 0, smb = 0;
    if (c[PIIX4_PMREGMISC] & 1)
        base = (uint16_t)(pci_get_long(p->pm, PIIX4_PMBA) & 0xffc0);
    if (c[PIIX4_SMBHSTCFG] & 1)
        smb = (uint16_t)(pci_get_long(p->pm, PIIX4_SMBBA) & 0xfff0);
    /* Blocks over the PCI config ports are not decoded (see pci.c). */
    if (base && base < 0xd00 && base + PIIX_PM_SIZE > 0xcf8)
        base = 0;
    if (smb && smb < 0xd00 && smb + 16 > 0xcf8)
        smb = 0;
    if (base != p->st.pm_io_base) {
        if (p->st.pm_io_base)
            bus_pio_unregister(p->bus, p->st.pm_io_base, PIIX_PM_SIZE);
        if (base)
            bus_pio_register(p->bus, base, PIIX_PM_SIZE, pm_read, pm_write, p,
                             "piix4-pm");
        p->st.pm_io_base = base;
    }
    if (smb != p->st.smb_io_base) {
        if (p->st.smb_io_base)
            bus_pio_unregister(p->bus, p->st.smb_io_base, 16);
        if (smb)
            bus_pio_register(p->bus, smb, 16, smb_read, smb_write, p,
                             "piix4-smbus");
        p->st.smb_io_base = smb;
    }
}

static void pm_config_write(PCIDevice *d, int off, uint32_t val, int size)
{
    (void)off; (void)val; (void)size;
    pm_io_update(d->opaque);
}

/* APM control/status (0xB2/0xB3). Without SMM, the ACPI enable/disable
 * commands an SMI handler would carry out are done here directly. */
static uint32_t apm_read(void *opaque, uint16_t port, int size)
{
    PIIX *p = opaque;
    (void)size;
    return port == PIIX_APM_CNT ? p->st.apm_cnt : p->st.apm_sts;
}

static void apm_write(void *opaque, uint16_t port, uint32_t val, int size)
{
    PIIX *p = opaque;
    (void)size;
    if (port != PIIX_APM_CNT) {
        p->st.apm_sts = (uint8_t)val;
        return;
    }
    p->st.apm_cnt = (uint8_t)val;
    if (val == PIIX_ACPI_ENABLE)
        p->st.pm1_cnt |= PM1_CNT_SCI_EN;
    else if (val == PIIX_ACPI_DISABLE)
        p->st.pm1_cnt &= (uint16_t)~PM1_CNT_SCI_EN;
    pm_update_sci(p);
}

/* ---------------- life cycle ---------------- */

static void piix_reset(void *opaque)
{
    PIIX *p = opaque;
    /* The PCI functions reset their own config spaces (they are separate
     * devices, reset before this one as they were added first). */
    if (p->st.pm_io_base)
        bus_pio_unregister(p->bus, p->st.pm_io_base, PIIX_PM_SIZE);
    if (p->st.smb_io_base)
        bus_pio_unregister(p->bus, p->st.smb_io_base, 16);
    if (p->st.sci_level)
        bus_set_irq(p->bus, PIIX_SCI_IRQ, 0);
    memset(&p->st, 0, sizeof p->st);
    p->st.tmr_epoch_ns = clock_ns();
    if (p->tmr_timer)
        timer_del(p->tmr_timer);
    pam_update(p);
    pci_update_irq_routing(p->pci);
}

static void piix_post_load(void *opaque)
{
    PIIX *p = opaque;
    /* The loaded bases say nothing about what is registered on the bus
     * now: map the blocks afresh from the (loaded) PM config space. A
     * block left at an old base keeps bounds-checked handlers. */
    p->st.pm_io_base = 0;
    p->st.smb_io_base = 0;
    pm_io_update(p);
    pam_update(p);
    pci_update_irq_routing(p->pci);
    p->st.sci_level = -1;
    pm_update_sci(p);
}

static void set_wmask_range(PCIDevice *d, int from, int to)
{
    for (int i = from; i <= to; i++)
        d->wmask[i] = 0xff;
}

PIIX *piix_init(Bus *b, PCIBus *pci)
{
    PIIX *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->bus = b;
    p->pci = pci;

    p->host = pci_add_device(pci, PIIX_DEVFN_HOST, 0x8086, 0x1237,
                             0x06000002, "i440fx");
    p->isa = pci_add_device(pci, PIIX_DEVFN_ISA, 0x8086, 0x7000,
                            0x06010000, "piix3-isa");
    p->pm = pci_add_device(pci, PIIX_DEVFN_PM, 0x8086, 0x7113,
                           0x06800003, "piix4-pm");
    if (!p->host || !p->isa || !p->pm) {
        free(p);
        return NULL;
    }
    p->isa->config[PCI_HEADER_TYPE] |= PCI_HEADER_TYPE_MULTI;

    /* Host bridge: DRAM and PAM registers are plain read/write; SMRAM's
     * default is 0x02 (compatible SMRAM at 0xA0000). */
    set_wmask_range(p->host, 0x50, 0x5f);
    set_wmask_range(p->host, 0x60, 0x67);
    p->host->config[I440FX_SMRAM] = 0x02;
    p->host->wmask[I440FX_SMRAM] = 0x78;
    p->host->config_write = host_config_write;
    p->host->opaque = p;
    memcpy(p->host->config_init, p->host->config, 256);

    /* ISA bridge: PIRQ routes disabled at reset; the rest of the
     * device-specific space is firmware scratch we simply store. */
    set_wmask_range(p->isa, 0x40, 0xff);
    for (int i = 0; i < 4; i++)
        p->isa->config[PIIX_PIRQRC + i] = 0x80;
    p->isa->config_write = isa_config_write;
    p->isa->opaque = p;
    memcpy(p->isa->config_init, p->isa->config, 256);

    /* PM: PMBA bit 0 reads 1 (I/O space); SMBus base likewise. Kestrel
     * has no SMM, so APMC SMI generation reads as already set up: SeaBIOS
     * then skips its SMM relocation, which would wait for an SMI. */
    set_wmask_range(p->pm, 0x40, 0xff);
    pci_set_long(p->pm, PIIX4_PMBA, 1);
    p->pm->wmask[PIIX4_PMBA] = 0xc0;
    pci_set_long(p->pm, PIIX4_SMBBA, 1);
    p->pm->wmask[PIIX4_SMBBA] = 0xf0;
    pci_set_long(p->pm, PIIX4_DEVACTB, PIIX4_DEVACTB_APMC_EN);
    p->pm->config[PCI_INTERRUPT_PIN] = 1;
    p->pm->config_write = pm_config_write;
    p->pm->opaque = p;
    memcpy(p->pm->config_init, p->pm->config, 256);

    pci->route_irq = piix_route_irq;
    pci->route_opaque = p;
    pci->cf9_read = rcr_read;
    pci->cf9_write = rcr_write;
    pci->cf9_opaque = p;
    bus_pio_register(b, PIIX_APM_CNT, 2, apm_read, apm_write, p, "apm");

    p->tmr_timer = timer_new(pm_tmr_cb, p);
    p->dev.name = "piix";
    p->dev.opaque = p;
    p->dev.reset = piix_reset;
    p->dev.state = &p->st;
    p->dev.state_size = sizeof p->st;
    p->dev.post_load = piix_post_load;
    bus_add_device(b, &p->dev);
    p->st.tmr_epoch_ns = clock_ns();
    pam_update(p);
    return p;
}

void piix_free(PIIX *p)
{
    if (!p)
        return;
    if (p->tmr_timer)
        timer_free(p->tmr_timer);
    free(p);
}

PCIDevice *piix_add_ide(PIIX *p)
{
    /* Class 01.01, prog-if 0x80: bus-master capable, both channels in
     * legacy (compatibility) mode at 0x1F0/0x170, IRQ 14/15. */
    PCIDevice *d = pci_add_device(p->pci, PIIX_DEVFN_IDE, 0x8086, 0x7010,
                                  0x01018000, "piix3-ide");
    if (d) {
        set_wmask_range(d, 0x40, 0x4f);
        memcpy(d->config_init, d->config, 256);
    }
    return d;
}

/* ---------------- firmware duties for direct boot ---------------- */

static const uint8_t firmware_pirq_irqs[4] = { 10, 10, 11, 11 };

/* Assign BARs the way a BIOS would: I/O from 0xC000 up, memory from
 * 0xE0000000 up, biggest first so alignment wastes nothing, then enable
 * decoding. The ROM BAR stays off. */
static void assign_bars(PIIX *p)
{
    uint32_t io_next = 0xc000, mem_next = 0xe0000000u;
    for (int pass_io = 1; pass_io >= 0; pass_io--) {
        for (;;) {
            PCIDevice *best = NULL;
            int best_n = -1;
            uint32_t best_size = 0;
            for (int df = 0; df < PCI_MAX_DEVFN; df++) {
                PCIDevice *d = p->pci->devs[df];
                if (!d)
                    continue;
                for (int n = 0; n < PCI_ROM_SLOT; n++) {
                    PCIBar *b = &d->bar[n];
                    uint32_t v = pci_get_long(d, PCI_BASE_ADDRESS_0 + 4 * n);
                    bool assigned = (v & (b->is_io ? ~3u : ~15u)) != 0;
                    if (b->size && b->is_io == (bool)pass_io && !assigned &&
                        b->size > best_size) {
                        best = d; best_n = n; best_size = b->size;
                    }
                }
            }
            if (!best)
                break;
            uint32_t *next = pass_io ? &io_next : &mem_next;
            uint32_t a = (*next + best_size - 1) & ~(best_size - 1);
            if (pass_io ? a + best_size > 0x10000
                        : (uint64_t)a + best_size > 0xfec00000ull) {
                /* Out of space: leave it unassigned (and mark it so we
                 * do not pick it again) rather than overlap. */
                best->bar[best_n].size = 0;
                continue;
            }
            *next = a + best_size;
            uint32_t low = pci_get_long(best, PCI_BASE_ADDRESS_0 + 4 * best_n) &
                           (pass_io ? 3u : 15u);
            pci_config_write(p->pci, best->devfn,
                             PCI_BASE_ADDRESS_0 + 4 * best_n, a | low, 4);
        }
    }
    for (int df = 0; df < PCI_MAX_DEVFN; df++) {
        PCIDevice *d = p->pci->devs[df];
        if (!d || df == PIIX_DEVFN_HOST)
            continue;
        uint16_t cmd = pci_get_word(d, PCI_COMMAND);
        for (int n = 0; n < PCI_ROM_SLOT; n++)
            if (d->bar[n].size)
                cmd |= d->bar[n].is_io ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY;
        cmd |= PCI_COMMAND_MASTER;
        pci_config_write(p->pci, df, PCI_COMMAND, cmd, 2);
    }
}

void piix_firmware_setup(PIIX *p)
{
    PCIBus *pci = p->pci;
    /* Shadow RAM read/write everywhere, as a BIOS leaves it for an OS that
     * may use the area (Linux only reads it). */
    for (int i = 0; i < 7; i++)
        pci_config_write(pci, PIIX_DEVFN_HOST, I440FX_PAM0 + i,
                         i == 0 ? 0x30 : 0x33, 1);
    for (int i = 0; i < 4; i++)
        pci_config_write(pci, PIIX_DEVFN_ISA, PIIX_PIRQRC + i,
                         firmware_pirq_irqs[i], 1);
    pci_config_write(pci, PIIX_DEVFN_PM, PIIX4_PMBA, PIIX_PM_BASE_DEFAULT | 1, 4);
    pci_config_write(pci, PIIX_DEVFN_PM, PIIX4_PMREGMISC, 1, 1);
    pci_config_write(pci, PIIX_DEVFN_PM, PIIX4_SMBBA,
                     PIIX_SMBUS_BASE_DEFAULT | 1, 4);
    pci_config_write(pci, PIIX_DEVFN_PM, PIIX4_SMBHSTCFG, 9, 1);
    pci_config_write(pci, PIIX_DEVFN_PM, PCI_INTERRUPT_LINE, PIIX_SCI_IRQ, 1);
    for (int df = 0; df < PCI_MAX_DEVFN; df++) {
        PCIDevice *d = pci->devs[df];
        if (!d || df == PIIX_DEVFN_PM)
            continue;
        int pin = d->config[PCI_INTERRUPT_PIN];
        int pirq = pci_slot_pirq(PCI_SLOT(df), pin);
        if (pirq >= 0)
            pci_config_write(pci, df, PCI_INTERRUPT_LINE,
                             firmware_pirq_irqs[pirq], 1);
    }
    assign_bars(p);
}
