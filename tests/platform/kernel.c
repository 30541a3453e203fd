/* Platform test kernel (Multiboot): finds the ACPI tables the way an OS
 * does and checks them, probes the chipset through PCI configuration
 * mechanism #1 and fw_cfg, takes interrupts from the local APIC timer and
 * from the PIT through the I/O APIC (routed as the MADT says), then powers
 * the machine off through the FADT's PM1a control block with the DSDT's
 * \_S5 sleep type. Every line it prints is the same on any correct PC, so
 * Kestrel's output can be compared with QEMU's. */
#include <stdint.h>
#include <stddef.h>

static inline void outb(uint16_t p, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(p)); }
static inline void outw(uint16_t p, uint16_t v) { __asm__ volatile("outw %0, %1" :: "a"(v), "Nd"(p)); }
static inline void outl(uint16_t p, uint32_t v) { __asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(p)); }
static inline uint8_t inb(uint16_t p) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(p)); return v; }
static inline uint32_t inl(uint16_t p) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(p)); return v; }
static inline uint32_t rd32(uint32_t a) { return *(volatile uint32_t *)a; }
static inline void wr32(uint32_t a, uint32_t v) { *(volatile uint32_t *)a = v; }
static inline uint16_t ld16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t ld32(const uint8_t *p) { return ld16(p) | (uint32_t)ld16(p + 2) << 16; }

static void puts_(const char *s) { while (*s) outb(0xe9, (uint8_t)*s++); }
static int fails;
static void check(int ok, const char *what)
{
    puts_(ok ? "ok   " : "FAIL ");
    puts_(what);
    puts_("\n");
    if (!ok)
        fails++;
}

static volatile uint32_t irq_count[256];
static uint32_t lapic = 0xfee00000u;

void guest_irq(uint32_t vec);
void guest_irq(uint32_t vec)
{
    irq_count[vec & 255]++;
    if (vec >= 0x40 && vec < 0x50)
        wr32(lapic + 0xb0, 0);                 /* EOI */
}

void guest_fault(void);
void guest_fault(void)
{
    puts_("FAIL unexpected exception\n");
    outw(0x604, 0x2000);
}

static uint8_t sum(const uint8_t *p, uint32_t n)
{
    uint8_t s = 0;
    while (n--)
        s = (uint8_t)(s + *p++);
    return s;
}

static int sig(const uint8_t *p, const char *s)
{
    for (int i = 0; i < 4; i++)
        if (p[i] != (uint8_t)s[i])
            return 0;
    return 1;
}

static const uint8_t *find_rsdp(void)
{
    for (uint32_t a = 0xe0000; a < 0x100000; a += 16) {
        const uint8_t *p = (const uint8_t *)a;
        if (sig(p, "RSD ") && sig(p + 4, "PTR ") && sum(p, 20) == 0)
            return p;
    }
    return NULL;
}

static int table_ok(const uint8_t *t, const char *s)
{
    return t && sig(t, s) && ld32(t + 4) >= 36 && ld32(t + 4) < 0x100000 &&
           sum(t, ld32(t + 4)) == 0;
}

/* \_S5's first package element (SLP_TYPa), or -1. */
static int find_s5(const uint8_t *dsdt)
{
    uint32_t len = ld32(dsdt + 4);
    for (uint32_t i = 36; i + 8 < len; i++) {
        const uint8_t *p = dsdt + i;
        if (!sig(p, "_S5_") || (p[-1] != 0x08 && !(p[-1] == '\\' && p[-2] == 0x08)))
            continue;
        p += 4;
        if (*p++ != 0x12)                       /* PackageOp */
            return -1;
        p += (*p >> 6) + 1;                     /* PkgLength */
        p++;                                    /* NumElements */
        if (*p == 0x00) return 0;               /* ZeroOp */
        if (*p == 0x01) return 1;               /* OneOp */
        if (*p == 0x0a) return p[1];            /* BytePrefix */
        return -1;
    }
    return -1;
}

static uint32_t pci_read(int devfn, int off)
{
    outl(0xcf8, 0x80000000u | (uint32_t)devfn << 8 | (uint32_t)off);
    return inl(0xcfc);
}

static uint32_t pm_tmr_port;
static uint32_t pm_now(void) { return inl((uint16_t)pm_tmr_port) & 0xffffff; }

/* Waits until irq_count[vec] >= n with interrupts on, for at most about
 * half a second of PM timer time. */
static int wait_irqs(int vec, uint32_t n)
{
    uint32_t t0 = pm_now();
    while (irq_count[vec] < n) {
        __asm__ volatile("sti; nop; nop; cli");
        if (((pm_now() - t0) & 0xffffff) > 1800000)
            return 0;
    }
    return 1;
}

extern uint32_t mb_magic, mb_info;

static void put_dec(uint32_t v)
{
    char b[11];
    int i = 10;
    b[i] = 0;
    do {
        b[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    puts_(b + i);
}

/* The Multiboot information as a boot loader passes it: command line and
 * modules (string, length, page alignment, first bytes). */
static int want_reset;

static int contains(const char *s, const char *w)
{
    for (; *s; s++) {
        int i = 0;
        while (w[i] && s[i] == w[i])
            i++;
        if (!w[i])
            return 1;
    }
    return 0;
}

static void multiboot_report(void)
{
    check(mb_magic == 0x2badb002u, "Multiboot magic in EAX");
    const uint8_t *mbi = (const uint8_t *)mb_info;
    uint32_t flags = ld32(mbi);
    check((flags & 0x4d) == 0x4d, "Multiboot info: memory, cmdline, modules, mmap");
    if (flags & 0x4) {
        puts_("cmdline: ");
        puts_((const char *)ld32(mbi + 16));
        puts_("\n");
        want_reset = contains((const char *)ld32(mbi + 16), "acpi-reset");
    }
    uint32_t n = ld32(mbi + 20);
    const uint8_t *mods = (const uint8_t *)ld32(mbi + 24);
    for (uint32_t i = 0; i < n && i < 8; i++) {
        const uint8_t *m = mods + 16 * i;
        uint32_t start = ld32(m), end = ld32(m + 4);
        puts_("module: '");
        puts_((const char *)ld32(m + 8));
        puts_("' ");
        put_dec(end - start);
        puts_(" bytes, ");
        puts_((start & 0xfff) == 0 ? "page-aligned, " : "unaligned, ");
        for (uint32_t j = start; j < end && j < start + 10; j++)
            outb(0xe9, *(const uint8_t *)j);
        puts_("\n");
    }
    /* The memory map covers low RAM and the RAM above 1 MiB. */
    uint32_t ml = ld32(mbi + 44), ma = ld32(mbi + 48);
    int low = 0, high = 0;
    for (uint32_t o = 0; o + 24 <= ml;) {
        const uint8_t *e = (const uint8_t *)(ma + o);
        uint32_t base = ld32(e + 4), len = ld32(e + 12), type = ld32(e + 20);
        if (type == 1 && base == 0 && len >= 0x9f000)
            low = 1;
        if (type == 1 && base == 0x100000 && len >= 0x6000000)
            high = 1;
        o += ld32(e) + 4;
    }
    check(low && high, "Multiboot memory map: RAM at 0 and at 1 MiB");
}

void kmain(void);
void kmain(void)
{
    multiboot_report();
    outb(0x21, 0xff);                           /* PICs masked: APIC only */
    outb(0xa1, 0xff);
    const uint8_t *rsdp = find_rsdp();
    check(rsdp != NULL, "RSDP in the BIOS area, checksum");
    if (!rsdp)
        return;
    const uint8_t *rsdt = (const uint8_t *)ld32(rsdp + 16);
    check(table_ok(rsdt, "RSDT"), "RSDT signature and checksum");
    const uint8_t *fadt = NULL, *madt = NULL;
    for (uint32_t o = 36; o + 4 <= ld32(rsdt + 4); o += 4) {
        const uint8_t *t = (const uint8_t *)ld32(rsdt + o);
        if (sig(t, "FACP")) fadt = t;
        if (sig(t, "APIC")) madt = t;
    }
    check(table_ok(fadt, "FACP"), "FADT found, checksum");
    check(table_ok(madt, "APIC"), "MADT found, checksum");
    if (!fadt || !madt)
        return;
    const uint8_t *dsdt = (const uint8_t *)ld32(fadt + 40);
    check(table_ok(dsdt, "DSDT"), "DSDT found, checksum");
    const uint8_t *facs = (const uint8_t *)ld32(fadt + 36);
    check(sig(facs, "FACS") && ((uint32_t)facs & 63) == 0, "FACS found, 64-byte aligned");
    check(ld16(fadt + 46) == 9, "SCI on IRQ 9");
    uint32_t pm1a_cnt = ld32(fadt + 64);
    pm_tmr_port = ld32(fadt + 76);
    check(pm1a_cnt != 0 && fadt[89] == 2, "PM1a control block");
    int s5 = find_s5(dsdt);
    check(s5 >= 0, "\\_S5 package in the DSDT");

    check(pci_read(0x00, 0) == 0x12378086u, "PCI 00:00.0 is the i440FX (8086:1237)");
    check(pci_read(0x08, 0) == 0x70008086u, "PCI 00:01.0 is the PIIX3 ISA bridge (8086:7000)");
    check(pci_read(0x0b, 0) == 0x71138086u, "PCI 00:01.3 is the PIIX4 PM function (8086:7113)");
    check((pci_read(0x08, 0x0c) >> 16 & 0x80) != 0, "PCI 00:01.0 is multi-function");
    check(pci_read(0xf8, 0) == 0xffffffffu, "empty slot reads all ones");

    outw(0x510, 0);
    char fw[4];
    for (int i = 0; i < 4; i++)
        fw[i] = (char)inb(0x511);
    check(fw[0] == 'Q' && fw[1] == 'E' && fw[2] == 'M' && fw[3] == 'U', "fw_cfg signature");

    uint32_t t0 = pm_now();
    for (volatile int i = 0; i < 100000; i++)
        ;
    check(pm_now() != t0, "ACPI PM timer counts");

    /* MADT: local APIC address, I/O APIC, where ISA IRQ 0 arrives. */
    lapic = ld32(madt + 36);
    uint32_t ioapic = 0, irq0_gsi = 0;
    for (uint32_t o = 44; o + 2 <= ld32(madt + 4) && madt[o + 1] >= 2; o += madt[o + 1]) {
        const uint8_t *e = madt + o;
        if (e[0] == 1 && !ioapic)
            ioapic = ld32(e + 4);
        if (e[0] == 2 && e[2] == 0 && e[3] == 0)
            irq0_gsi = ld32(e + 4);
    }
    check(ioapic != 0, "MADT lists an I/O APIC");
    check(irq0_gsi == 2, "MADT routes ISA IRQ 0 to GSI 2");

    /* Local APIC timer, one-shot, divide by 1. */
    wr32(lapic + 0xf0, 0x1ff);
    wr32(lapic + 0x80, 0);
    wr32(lapic + 0x3e0, 0xb);
    wr32(lapic + 0x320, 0x40);
    wr32(lapic + 0x380, 200000);
    check(wait_irqs(0x40, 1), "local APIC timer interrupt");
    check(rd32(lapic + 0x390) == 0, "one-shot count ends at zero");

    /* PIT channel 0 at ~1 kHz through the I/O APIC pin from the MADT. */
    uint32_t apic_id = rd32(lapic + 0x20) >> 24;
    wr32(ioapic, 0x11 + 2 * irq0_gsi);
    wr32(ioapic + 0x10, apic_id << 24);
    wr32(ioapic, 0x10 + 2 * irq0_gsi);
    wr32(ioapic + 0x10, 0x41);                 /* fixed, edge, unmasked */
    outb(0x43, 0x34);                          /* ch0, lo/hi, mode 2 */
    outb(0x40, 1193 & 0xff);
    outb(0x40, 1193 >> 8);
    check(wait_irqs(0x41, 5), "PIT interrupts through the I/O APIC");
    wr32(ioapic, 0x10 + 2 * irq0_gsi);
    wr32(ioapic + 0x10, 0x10041);              /* masked again */
    check(irq_count[0xff] == 0, "no spurious APIC interrupts");

    puts_(fails ? "platform: some checks FAILED\n" : "platform: all checks passed\n");
    if (want_reset) {
        /* ACPI reset: RESET_VALUE into the FADT's RESET_REG when the FADT
         * has one (Kestrel's revision 3 does; QEMU's revision 1 for "pc"
         * does not), else the PIIX3 reset control register it names. With
         * -no-reboot the emulator then exits. */
        puts_("platform: resetting\n");
        if (fadt[8] >= 2 && (ld32(fadt + 112) & (1u << 10)) && fadt[116] == 1)
            outb((uint16_t)ld32(fadt + 120), fadt[128]);
        else
            outb(0xcf9, 0x06);
        for (;;)
            __asm__ volatile("cli; hlt");
    }
    /* Soft-off: SLP_TYPa from \_S5 with SLP_EN. */
    outw((uint16_t)pm1a_cnt, (uint16_t)((s5 < 0 ? 0 : s5) << 10 | 1 << 13));
    /* The power-off may take effect a few instructions later (QEMU);
     * print nothing more, the runner notices a machine that stays up. */
}
