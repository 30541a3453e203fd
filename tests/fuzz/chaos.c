/* Guest-chaos kernel (Multiboot). Driven by its command line:
 *     seed=N ops=N mode=dev|cpu3|cpu0
 * mode=dev   pokes every device: random IN/OUT of sizes 1/2/4 on all ports,
 *            MMIO in the VGA window, the LFB and every other PCI BAR, the
 *            local APIC and I/O APIC pages and the pc-testdev window, PCI
 *            configuration writes (BARs moved over RAM and over each other),
 *            fw_cfg with random DMA descriptors, extreme VBE modes, the DMA
 *            controller, CMOS, i8042, UARTs, PIC and PIT; interrupts are
 *            let in now and then.
 * mode=cpu3  jumps into pages of random bytes at CPL 3 with random
 *            registers; every exception and the PIT's interrupt end the
 *            attempt and the next one starts.
 * mode=cpu0  the same at CPL 0 (the random code may well wreck the kernel;
 *            the harness then accepts a triple-fault reset or the timeout).
 * A fault or an interrupt anywhere comes back through chaos_trap(), which
 * resumes the loop from the globals below: no state lives on the stack.
 * The run ends by writing 0x10 to isa-debug-exit at 0xf4 (status 33); in
 * mode=cpu0, where random code can write any port, there is no exit
 * device and the run ends with an ACPI power-off (status 0).
 * Writes that would end the run legitimately (reset through 0xCF9, port
 * 0x92 or the i8042; A20 off, which hides this kernel at 1 MiB; ACPI S5;
 * INIT/SIPI to ourselves) are defused; everything else goes through. */
#include <stdint.h>
#include <stddef.h>

static inline void outb(uint16_t p, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(p)); }
static inline void outw(uint16_t p, uint16_t v) { __asm__ volatile("outw %0, %1" :: "a"(v), "Nd"(p)); }
static inline void outl(uint16_t p, uint32_t v) { __asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(p)); }
static inline uint8_t inb(uint16_t p) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(p)); return v; }
static inline uint16_t inw(uint16_t p) { uint16_t v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(p)); return v; }
static inline uint32_t inl(uint16_t p) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(p)); return v; }

void chaos_trap(uint32_t vec) __attribute__((noreturn));
void kmain(void);
void reload_flat(void);
void enter_chaos(uint32_t eip, uint32_t cpl3, const uint32_t *regs) __attribute__((noreturn));
extern uint32_t mb_info;
extern uint64_t gdt[];

/* ---- output on the debug console ---- */
static void puts_(const char *s) { while (*s) outb(0xe9, (uint8_t)*s++); }
static void putx(uint32_t v)
{
    char b[11] = "0x";
    for (int i = 0; i < 8; i++)
        b[2 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 15];
    b[10] = 0;
    puts_(b);
}
static void putu(uint32_t v)
{
    char b[12];
    int i = 11;
    b[i] = 0;
    do { b[--i] = (char)('0' + v % 10); v /= 10; } while (v);
    puts_(b + i);
}

static void __attribute__((noreturn)) debug_exit(uint8_t code)
{
    outb(0xf4, code);
    for (;;)
        __asm__ volatile("cli; hlt");
}

/* ---- PRNG (xorshift32; the seed fixes the whole run) ---- */
static uint32_t rs = 1;
static uint32_t rnd(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 17;
    rs ^= rs << 5;
    return rs;
}
static uint32_t below(uint32_t n) { return (uint32_t)(((uint64_t)rnd() * n) >> 32); }
/* Values with more edges than uniform ones: 0, all ones, powers of two. */
static uint32_t val(void)
{
    switch (below(8)) {
    case 0: return 0;
    case 1: return 0xffffffffu;
    case 2: return 1u << below(32);
    case 3: return (1u << below(32)) - 1;
    case 4: return below(256);
    default: return rnd();
    }
}

/* ---- the loop state (global: traps resume from here) ---- */
static uint32_t mode;       /* 0 dev, 1 cpu3, 2 cpu0 */
static uint32_t nops = 20000, op;
static uint32_t traps, irqs, vec_seen[8];
static uint32_t ram_end = 32u << 20;

/* ---- checked port and memory access helpers ---- */
static uint32_t pm_base = 0x600;

/* Defuses one byte lane of a port write (see the header comment). */
static uint8_t defuse_byte(uint16_t port, uint8_t v)
{
    if (port == 0xcf9)
        v &= (uint8_t)~0x04;                 /* reset */
    if (port == 0x92)
        v = (uint8_t)((v | 0x02) & ~0x01);   /* A20 stays on, no reset */
    if (port == 0x64 && (v == 0xd1 || v == 0xdd || (v >= 0xf0 && !(v & 1))))
        v = 0xd0;                            /* output port, A20 off, pulse reset */
    if (port >= pm_base && port < pm_base + 0x40 && (port & 1))
        v &= (uint8_t)~0x20;                 /* SLP_EN of PM1 control */
    return v;
}

static void pout(uint16_t port, uint32_t v, int size)
{
    for (int i = 0; i < size; i++) {
        uint16_t p = (uint16_t)(port + i);
        if (p >= 0xf4 && p <= 0xf7)
            return;                          /* the exit device */
        if (p >= 0xcfc && p <= 0xcff)
            return;                          /* config data: op_pci's job (BAR filter) */
        uint32_t b = defuse_byte(p, (uint8_t)(v >> (8 * i)));
        v = (v & ~(0xffu << (8 * i))) | b << (8 * i);
    }
    if (size == 1) outb(port, (uint8_t)v);
    else if (size == 2) outw(port, (uint16_t)v);
    else outl(port, v);
}

static uint32_t pin(uint16_t port, int size)
{
    if (size == 1) return inb(port);
    if (size == 2) return inw(port);
    return inl(port);
}

static int rsize(void) { static const int s[3] = { 1, 2, 4 }; return s[below(3)]; }

static uint32_t mem_sink;
static void mread(uint32_t a, int size)
{
    if (size == 1) mem_sink += *(volatile uint8_t *)a;
    else if (size == 2) mem_sink += *(volatile uint16_t *)a;
    else mem_sink += *(volatile uint32_t *)a;
}
static void mwrite(uint32_t a, uint32_t v, int size)
{
    if (size == 1) *(volatile uint8_t *)a = (uint8_t)v;
    else if (size == 2) *(volatile uint16_t *)a = (uint16_t)v;
    else *(volatile uint32_t *)a = v;
}

/* ---- PCI ---- */
static uint32_t cfg_addr(int dev, int fn, int reg) { return 0x80000000u | (uint32_t)dev << 11 | (uint32_t)fn << 8 | (uint32_t)(reg & 0xfc); }
static uint32_t cfg_rd(int dev, int fn, int reg) { outl(0xcf8, cfg_addr(dev, fn, reg)); return inl(0xcfc); }
static void cfg_wr(int dev, int fn, int reg, uint32_t v) { outl(0xcf8, cfg_addr(dev, fn, reg)); outl(0xcfc, v); }

/* Memory windows found at start (BARs), re-read as they move. */
typedef struct Fn { uint8_t dev, fn; } Fn;
static Fn fns[64];
static int nfns;
static uint32_t bars[64];          /* memory BAR bases seen at start */
static uint32_t bar_len[64];
static int nbars;
static int ide_dev = -1, ide_fn;      /* the PIIX IDE function (class 01:01) */

static void pci_scan(void)
{
    for (int dev = 0; dev < 32; dev++)
        for (int fn = 0; fn < 8; fn++) {
            uint32_t id = cfg_rd(dev, fn, 0);
            if (id == 0xffffffffu || (id & 0xffff) == 0xffff) {
                if (fn == 0)
                    break;
                continue;
            }
            if (nfns < 64)
                fns[nfns++] = (Fn){ (uint8_t)dev, (uint8_t)fn };
            for (int r = 0x10; r <= 0x24; r += 4) {
                uint32_t b = cfg_rd(dev, fn, r);
                if (b & 1 || b == 0 || nbars >= 64)
                    continue;
                cfg_wr(dev, fn, r, ~0u);
                uint32_t sz = ~(cfg_rd(dev, fn, r) & ~0xfu) + 1;
                cfg_wr(dev, fn, r, b);
                bars[nbars] = b & ~0xfu;
                bar_len[nbars++] = sz ? sz : 0x1000;
            }
            if ((cfg_rd(dev, fn, 8) >> 16) == 0x0101) {
                ide_dev = dev;
                ide_fn = fn;
                cfg_wr(dev, fn, 0x04, cfg_rd(dev, fn, 0x04) | 0x5);   /* I/O + bus master */
            }
            if (dev == 1 && fn == 3)
                pm_base = cfg_rd(1, 3, 0x40) & 0xffc0;
        }
}

/* ---- device operations ---- */
static const uint16_t hot_ports[] = {
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
    0x0c, 0x0d, 0x0e, 0x0f, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8a, 0x8b, 0x8f,
    0xc0, 0xc4, 0xc8, 0xcc, 0xd0, 0xd2, 0xd4, 0xd6, 0xd8, 0xda, 0xdc, 0xde,
    0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1, 0x40, 0x41, 0x42, 0x43, 0x61,
    0x70, 0x71, 0x60, 0x64, 0x92, 0xcf8, 0xcf9, 0xcfc, 0xcfd, 0xcfe, 0xcff,
    0x3f8, 0x3f9, 0x3fa, 0x3fb, 0x3fc, 0x3fd, 0x3fe, 0x3ff,
    0x2f8, 0x2f9, 0x2fa, 0x2fb, 0x2fc, 0x2fd, 0x2fe, 0x2ff,
    0x1ce, 0x1cf, 0x1d0, 0x3c0, 0x3c1, 0x3c2, 0x3c4, 0x3c5, 0x3c6, 0x3c7,
    0x3c8, 0x3c9, 0x3ca, 0x3cc, 0x3ce, 0x3cf, 0x3d4, 0x3d5, 0x3da, 0x3b4,
    0x3b5, 0x3ba, 0x510, 0x511, 0x514, 0x518, 0xe0, 0xe4, 0xe8, 0xe9,
    0x402, 0x2000, 0x2001, 0x2008, 0x2017, 0x600, 0x604, 0x608, 0x1f0,
    0x1f1, 0x1f2, 0x1f7, 0x3f6, 0x170, 0x177, 0x376, 0xb000, 0xc000,
};
#define NHOT (sizeof(hot_ports) / sizeof(hot_ports[0]))

static void op_port_random(void)
{
    uint16_t port = (uint16_t)rnd();
    int size = rsize();
    if (rnd() & 1)
        pin(port, size);
    else
        pout(port, val(), size);
}

static void op_port_hot(void)
{
    uint16_t port = hot_ports[below(NHOT)];
    if (port == 0x600 || port == 0x604 || port == 0x608)
        port = (uint16_t)(pm_base + (port - 0x600));
    port = (uint16_t)(port + below(4) * (below(4) == 0));
    int size = rsize();
    int n = 1 + (int)below(8);
    for (int i = 0; i < n; i++) {
        if (below(3) == 0)
            pin(port, size);
        else
            pout(port, val(), size);
    }
}

static uint32_t pick_mmio(void)
{
    switch (below(9)) {
    case 0: return 0xa0000 + below(0x20000);
    case 1: return 0xfee00000u + below(0x1000);
    case 2: return 0xfec00000u + below(0x1000);
    case 3: return 0xff000000u + below(0x10000);
    case 4:
        if (nbars) {
            int i = (int)below((uint32_t)nbars);
            return bars[i] + below(bar_len[i] > 0x1000000 ? 0x1000000 : bar_len[i]);
        }
        return 0xfd000000u + below(0x1000000);
    case 5: return 0xfd000000u + below(0x2000000);      /* the usual BAR area */
    case 6: return 0xfffc0000u + below(0x40000);        /* BIOS ROM */
    case 7: return ram_end + below(0xe0000000u - ram_end); /* holes above RAM */
    default: return (16u << 20) + below(ram_end - (16u << 20)); /* scratch RAM */
    }
}

static void op_mmio(void)
{
    uint32_t a = pick_mmio();
    int size = rsize();
    int n = 1 + (int)below(6);
    for (int i = 0; i < n; i++, a += (uint32_t)size) {
        if (a >= 0xfee00000u && a < 0xfee01000u && (a & 0xff0) == 0x300) {
            uint32_t v = val();
            uint32_t dm = (v >> 8) & 7;
            if (dm == 2 || dm == 4 || dm == 5 || dm == 6)
                v &= ~0x700u;                       /* no SMI/NMI/INIT/SIPI to ourselves */
            if (below(2))
                mwrite(a & ~3u, v, 4);
            continue;
        }
        if (below(2))
            mread(a, size);
        else
            mwrite(a, val(), size);
    }
}

static void op_ioapic(void)
{
    volatile uint32_t *sel = (volatile uint32_t *)0xfec00000u;
    volatile uint32_t *win = (volatile uint32_t *)0xfec00010u;
    *sel = below(4) ? 0x10 + below(48) : val();
    if (below(2)) {
        uint32_t v = val();
        if (((v >> 8) & 7) >= 4)
            v &= ~0x700u;                           /* no NMI/INIT/ExtINT storms at us */
        *win = v;
    } else {
        mem_sink += *win;
    }
}

static void op_pci(void)
{
    if (!nfns)
        return;
    Fn f = fns[below((uint32_t)nfns)];
    int dev = f.dev, fn = f.fn;
    if (below(8) == 0) {                            /* absent functions too */
        dev = (int)below(32);
        fn = (int)below(8);
    }
    int reg;
    uint32_t v;
    switch (below(5)) {
    case 0:                                         /* BAR over scratch RAM */
        reg = 0x10 + 4 * (int)below(6);
        v = (16u << 20) + below(ram_end - (16u << 20));
        v &= ~0xfffu;
        break;
    case 1:                                         /* BAR over another BAR */
        reg = 0x10 + 4 * (int)below(6);
        v = nbars ? bars[below((uint32_t)nbars)] : val();
        break;
    case 2:                                         /* sizing or garbage */
        reg = 0x10 + 4 * (int)below(7);
        v = below(2) ? ~0u : val();
        break;
    case 3:                                         /* command: decode on/off */
        reg = 0x04;
        v = val() & 0x7;
        break;
    default:
        reg = (int)below(256);
        v = val();
        break;
    }
    /* Moving the PM or SMBus I/O base is fine; hiding PIIX's ISA bridge
     * positive decode or PAM shadow of our own RAM is not what we test. */
    if (dev == 0 && fn == 0 && reg >= 0x58 && reg <= 0x5f)
        return;
    if (dev == 1 && fn == 3 && (reg & 0xfc) == 0x40)
        return;
    int size = rsize();
    /* An I/O BAR or the SMBus block moved over the legacy ports takes the
     * ISA device there away for good in Kestrel (hw/bus.c: the overlapped
     * entry is freed, not restored when the BAR moves on), the exit device
     * at 0xf4 included: keep I/O blocks above 0x600. */
    if ((reg >= 0x10 && reg < 0x28) || (dev == 1 && fn == 3 && reg >= 0x90 && reg < 0x94)) {
        uint32_t cur = cfg_rd(dev, fn, reg);
        int sh = 8 * (reg & (size == 2 ? 2 : 3));
        uint32_t m = size == 4 ? ~0u : ((1u << (8 * size)) - 1) << sh;
        uint32_t nv = size == 4 ? v : (cur & ~m) | ((v << sh) & m);
        if ((cur & 1 || nv & 1 || (reg & 0xfc) == 0x90) && (nv & 0xfffc) < 0x600)
            return;
    }
    outl(0xcf8, cfg_addr(dev, fn, reg));
    uint16_t port = (uint16_t)(0xcfc + (reg & 3 & (size == 4 ? 0 : size == 2 ? 2 : 3)));
    if (below(4) == 0)
        pin(port, size);
    else if (size == 1) outb(port, (uint8_t)v);
    else if (size == 2) outw(port, (uint16_t)v);
    else outl(port, v);
}

static uint32_t be32(uint32_t v) { return __builtin_bswap32(v); }

static void op_fwcfg(void)
{
    static volatile uint32_t desc[4] __attribute__((aligned(16)));
    if (below(2)) {
        outw(0x510, below(2) ? (uint16_t)below(0x40) : (uint16_t)(0x8000 + below(0x10) + below(2) * 0x4000));
        int n = (int)below(64);
        for (int i = 0; i < n; i++)
            mem_sink += inb(0x511);
        if (below(4) == 0)
            outb(0x511, (uint8_t)rnd());
        return;
    }
    /* A DMA descriptor: control (select/read/write/skip bits), length,
     * address; big-endian, as the interface defines. The target is
     * scratch RAM, beyond RAM, or near the top of the address space. */
    uint32_t ctl = val();
    if (below(2))
        ctl = (below(0x30) << 16) | (1u << (1 + below(4))) | (below(2) << 3);
    uint32_t len = below(3) ? below(0x4000) : val();
    uint32_t addr_lo, addr_hi = below(4) == 0 ? val() : 0;
    switch (below(3)) {
    case 0: addr_lo = (16u << 20) + below(8u << 20); break;
    case 1: addr_lo = ram_end + below(0x100000); break;
    default: addr_lo = val(); addr_hi = 0; break;
    }
    if (addr_hi == 0 && addr_lo < (16u << 20) && addr_lo + (uint64_t)len > 0x100000)
        addr_lo = 16u << 20;                        /* keep off this kernel */
    if (addr_hi == 0 && addr_lo < 0x100000 && addr_lo + (uint64_t)len > 0x9f000)
        addr_lo = 16u << 20;
    desc[0] = be32(ctl);
    desc[1] = be32(len);
    desc[2] = be32(addr_hi);
    desc[3] = be32(addr_lo);
    uint32_t d = (uint32_t)(uintptr_t)desc;
    if (below(8) == 0)
        d = val();                                  /* descriptor itself anywhere */
    if (d < ram_end && d != (uint32_t)(uintptr_t)desc)
        d = (uint32_t)(uintptr_t)desc;      /* random RAM could aim it at us */
    outl(0x514, be32(0));
    outl(0x518, be32(d));
}

static void op_vbe(void)
{
    static const uint16_t extreme[] = { 0, 1, 8, 640, 1024, 2560, 4096, 8192, 0x7fff, 0xffff };
    int n = 1 + (int)below(6);
    for (int i = 0; i < n; i++) {
        uint16_t idx = (uint16_t)(below(8) ? below(11) : below(0x10000));
        uint16_t v = below(2) ? extreme[below(10)] : (uint16_t)val();
        if (idx == 3)
            v = (uint16_t)(below(2) ? (4 + 4 * below(8)) : v);
        if (idx == 4 && below(2))
            v = (uint16_t)(0x41 | (rnd() & 0x80));  /* enable + LFB (+ no-clear) */
        outw(0x1ce, idx);
        if (below(4) == 0)
            mem_sink += inw(0x1cf);
        else
            outw(0x1cf, v);
    }
    if (nbars)
        for (int i = 0; i < 4; i++)
            mwrite(bars[0] + below(bar_len[0]), rnd(), 4);
}

static void op_vga(void)
{
    static const uint16_t idxports[] = { 0x3c4, 0x3ce, 0x3d4, 0x3b4 };
    int n = 1 + (int)below(8);
    for (int i = 0; i < n; i++) {
        switch (below(4)) {
        case 0: {
            uint16_t p = idxports[below(4)];
            outb(p, (uint8_t)(below(4) ? below(0x20) : rnd()));
            outb((uint16_t)(p + 1), (uint8_t)val());
            break;
        }
        case 1:                                     /* attribute flip-flop */
            inb(0x3da);
            outb(0x3c0, (uint8_t)rnd());
            outb(0x3c0, (uint8_t)rnd());
            break;
        case 2:
            outb(0x3c8, (uint8_t)rnd());
            outb(0x3c9, (uint8_t)rnd());
            inb(0x3c9);
            break;
        default:
            mwrite(0xa0000 + below(0x20000), val(), rsize());
            mread(0xa0000 + below(0x20000), rsize());
            break;
        }
    }
}

static void op_dma(void)
{
    int ch = (int)below(8);
    int hi = ch >= 4;
    uint16_t base = hi ? 0xc0 : 0x00;
    int sh = hi ? 1 : 0;
    int c = ch & 3;
    static const uint16_t page[8] = { 0x87, 0x83, 0x81, 0x82, 0x8f, 0x8b, 0x89, 0x8a };
    outb((uint16_t)(base + (0x0c << sh)), 0);                   /* flip-flop */
    outb((uint16_t)(base + ((2 * c) << sh)), (uint8_t)rnd());   /* address */
    outb((uint16_t)(base + ((2 * c) << sh)), (uint8_t)rnd());
    outb((uint16_t)(base + ((2 * c + 1) << sh)), (uint8_t)val());  /* count */
    outb((uint16_t)(base + ((2 * c + 1) << sh)), (uint8_t)val());
    outb(page[ch], (uint8_t)rnd());
    outb((uint16_t)(base + (0x0b << sh)), (uint8_t)(c | (rnd() & 0xfc)));  /* mode */
    outb((uint16_t)(base + (0x0a << sh)), (uint8_t)(c | (rnd() & 4)));     /* mask */
    if (below(2))
        outb((uint16_t)(base + (0x09 << sh)), (uint8_t)(c | 4));           /* request */
    mem_sink += inb((uint16_t)(base + (0x08 << sh)));
}

static void op_rtc(void)
{
    uint8_t idx = (uint8_t)(below(2) ? below(0x40) : rnd());
    outb(0x70, idx);
    if (below(2))
        outb(0x71, (uint8_t)val());
    mem_sink += inb(0x71);
}

static void op_kbc(void)
{
    int n = 1 + (int)below(4);
    for (int i = 0; i < n; i++) {
        if (below(2))
            pout(0x64, (uint8_t)(below(2) ? 0x20 + below(0xe0) : rnd()), 1);
        if (below(2))
            outb(0x60, (uint8_t)val());
        mem_sink += inb(0x64);
        mem_sink += inb(0x60);
    }
}

static void op_uart(void)
{
    uint16_t base = below(2) ? 0x3f8 : 0x2f8;
    int n = 1 + (int)below(8);
    for (int i = 0; i < n; i++) {
        uint16_t p = (uint16_t)(base + below(8));
        if (below(2))
            outb(p, (uint8_t)val());
        else
            mem_sink += inb(p);
    }
}

static void op_pic_pit(void)
{
    if (below(2)) {
        uint16_t b = below(2) ? 0x20 : 0xa0;
        if (below(2)) {                             /* a whole random init */
            outb(b, (uint8_t)(0x10 | (rnd() & 0x0f)));
            outb((uint16_t)(b + 1), (uint8_t)rnd());
            outb((uint16_t)(b + 1), (uint8_t)rnd());
            outb((uint16_t)(b + 1), (uint8_t)rnd());
        } else {
            outb((uint16_t)(b + below(2)), (uint8_t)val());
        }
        outb((uint16_t)(0x4d0 + below(2)), (uint8_t)rnd());
    } else {
        uint8_t ctl = (uint8_t)rnd();
        outb(0x43, ctl);
        int ch = (int)below(3);
        outb((uint16_t)(0x40 + ch), (uint8_t)val());
        outb((uint16_t)(0x40 + ch), (uint8_t)val());
        mem_sink += inb((uint16_t)(0x40 + ch));
        outb(0x61, (uint8_t)rnd());
    }
}

/* IDE/ATAPI: registers, commands (PIO, DMA, PACKET with a random CDB)
 * and bus-master DMA with random PRD tables. PRD tables and targets stay
 * in scratch RAM above 16 MiB or beyond RAM. */
static void op_ide(void)
{
    static const uint8_t cmds[] = { 0x20, 0x24, 0x30, 0x34, 0xc8, 0xca, 0x25,
        0x35, 0xec, 0xa1, 0xa0, 0xef, 0x91, 0x10, 0x70, 0xe7, 0xea, 0x40,
        0xc4, 0xc5, 0xc6, 0xe0, 0xe1, 0x08, 0xf8, 0x27, 0x00 };
    uint16_t cmd = below(2) ? 0x1f0 : 0x170;
    uint16_t ctl = (uint16_t)(cmd == 0x1f0 ? 0x3f6 : 0x376);
    if (below(8) == 0)
        outb(ctl, (uint8_t)(rnd() & 0x06));          /* nIEN / SRST */
    outb((uint16_t)(cmd + 6), (uint8_t)(0xa0 | (rnd() & 0x5f)));
    for (int r = 1; r <= 5; r++)
        if (below(2))
            outb((uint16_t)(cmd + r), (uint8_t)val());
    uint32_t bm = 0;
    if (ide_dev >= 0)
        bm = (cfg_rd(ide_dev, ide_fn, 0x20) & 0xfffc) + (cmd == 0x170 ? 8 : 0);
    if (bm < 0xf8 && bm + 8 > 0xf4)
        bm = 0;                                     /* moved over the exit device */
    if (bm && below(2)) {
        uint32_t *prd = (uint32_t *)(uintptr_t)((20u << 20) + (below(256) << 4));
        int n = 1 + (int)below(4);
        for (int i = 0; i < n; i++) {
            uint32_t a;
            switch (below(3)) {
            case 0: a = (24u << 20) + below(4u << 20); break;
            case 1: a = ram_end + below(0x100000); break;
            default: a = 0xffff0000u + below(0x10000); break;
            }
            prd[2 * i] = a & ~1u;
            prd[2 * i + 1] = (uint32_t)val() & 0xffff;
            if (i == n - 1 && below(4))
                prd[2 * i + 1] |= 0x80000000u;      /* end of table */
        }
        uint32_t table = below(8) ? (uint32_t)(uintptr_t)prd : ram_end + below(0x1000);
        outl((uint16_t)(bm + 4), table);
        outb((uint16_t)(bm + 2), 0x06);             /* clear IRQ/error */
    }
    outb((uint16_t)(cmd + 7), below(4) ? cmds[below(sizeof cmds)] : (uint8_t)rnd());
    if (bm && below(2))
        outb((uint16_t)bm, (uint8_t)(1 | (rnd() & 8)));   /* start, direction */
    if (below(2)) {                                 /* a CDB or PIO data */
        int n = (int)below(below(4) ? 6 : 300);
        for (int i = 0; i < n; i++) {
            if (below(2))
                outw(cmd, (uint16_t)rnd());
            else
                mem_sink += inw(cmd);
        }
    }
    mem_sink += inb((uint16_t)(cmd + 7)) + inb(ctl);
    if (bm) {
        mem_sink += inb((uint16_t)(bm + 2));
        if (below(2))
            outb((uint16_t)bm, 0);                  /* stop */
    }
}

static void op_irq_window(void)
{
    __asm__ volatile("sti; nop; nop; nop; nop; pause; nop; nop; cli");
}

static void (*const dev_ops[])(void) = {
    op_port_random, op_port_random, op_port_hot, op_port_hot, op_port_hot,
    op_mmio, op_mmio, op_mmio, op_ioapic, op_pci, op_pci, op_fwcfg,
    op_fwcfg, op_vbe, op_vga, op_dma, op_rtc, op_kbc, op_uart, op_pic_pit,
    op_irq_window, op_ide, op_ide,
};
#define NDEVOPS (sizeof(dev_ops) / sizeof(dev_ops[0]))

/* ---- CPU chaos: paging, a TSS, random pages ---- */
static uint32_t pd[1024] __attribute__((aligned(4096)));
static uint32_t pt0[1024] __attribute__((aligned(4096)));
static uint32_t pt1[1024] __attribute__((aligned(4096)));
static uint32_t tss[26] __attribute__((aligned(16)));
static uint32_t tss_df[26] __attribute__((aligned(16)));
extern uint8_t stack_top[];
extern uint8_t idt_desc[];
void df_entry(void);
void df_resume(void);
void df_recover(void);

static uint64_t tss_desc(const uint32_t *t)
{
    uint32_t base = (uint32_t)(uintptr_t)t;
    return 103 | (uint64_t)(base & 0xffffff) << 16 | (uint64_t)0x89 << 40 |
           (uint64_t)(base >> 24) << 56;
}

/* The main task becomes available again and resumes at df_resume on the
 * kernel stack, with the flat segments and our page tables. */
void df_recover(void)
{
    gdt[5] = tss_desc(tss);
    tss[7] = (uint32_t)(uintptr_t)pd;               /* CR3 */
    tss[8] = (uint32_t)(uintptr_t)df_resume;        /* EIP */
    tss[9] = 2;                                     /* EFLAGS */
    tss[14] = (uint32_t)(uintptr_t)stack_top;       /* ESP */
    tss[18] = tss[20] = tss[21] = tss[22] = tss[23] = 0x10;
    tss[19] = 0x08;
    tss[24] = 0;                                    /* LDT */
}

static void cpu_setup(void)
{
    for (uint32_t i = 0; i < 1024; i++)
        pt0[i] = (i << 12) | 0x3;                   /* 0-4 MiB: supervisor */
    for (uint32_t i = 0; i < 1024; i++)
        pt1[i] = 0;
    pt1[0] = 0x400000 | 0x7;                        /* chaos code, user RW */
    pt1[2] = 0x402000 | 0x7;                        /* user stack */
    pt1[3] = 0x403000 | 0x3;                        /* ring-0 chaos stack */
    pd[0] = (uint32_t)(uintptr_t)pt0 | 0x3;
    pd[1] = (uint32_t)(uintptr_t)pt1 | 0x7;
    tss[1] = (uint32_t)(uintptr_t)stack_top;        /* esp0 */
    tss[2] = 0x10;                                  /* ss0 */
    tss[25] = 104u << 16;                           /* no I/O bitmap */
    gdt[5] = tss_desc(tss);
    __asm__ volatile("ltr %w0" :: "r"(0x28));
    tss_df[7] = (uint32_t)(uintptr_t)pd;
    tss_df[8] = (uint32_t)(uintptr_t)df_entry;
    tss_df[9] = 2;
    tss_df[14] = (uint32_t)(uintptr_t)stack_top;    /* df_entry sets its own */
    tss_df[18] = tss_df[20] = tss_df[21] = tss_df[22] = tss_df[23] = 0x10;
    tss_df[19] = 0x08;
    tss_df[25] = 104u << 16;
    gdt[6] = tss_desc(tss_df);
    /* IDT entry 8: a task gate to selector 0x30 */
    uint32_t *idt = *(uint32_t **)(idt_desc + 2);
    idt[16] = 0x30u << 16;
    idt[17] = 0x8500;
    __asm__ volatile("mov %0, %%cr3" :: "r"(pd) : "memory");
    uint32_t cr0;
    __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
    __asm__ volatile("mov %0, %%cr0" :: "r"(cr0 | 0x80010000u) : "memory");  /* PG, WP */
    /* PIC at 0x20/0x28 with only the PIT unmasked; PIT at ~1 kHz so that
     * a random endless loop at CPL 3 ends too. */
    outb(0x20, 0x11); outb(0x21, 0x20); outb(0x21, 4); outb(0x21, 1);
    outb(0xa0, 0x11); outb(0xa1, 0x28); outb(0xa1, 2); outb(0xa1, 1);
    outb(0x21, 0xfe); outb(0xa1, 0xff);
    outb(0x43, 0x34); outb(0x40, 0xa9); outb(0x40, 0x04);
}

static void cpu_next(void) __attribute__((noreturn));
static void cpu_next(void)
{
    /* Fresh random bytes for part of the page, with a bias to prefixes
     * and the 0F escape so that system instructions turn up. */
    volatile uint8_t *code = (volatile uint8_t *)0x400000;
    uint32_t off = below(0x1000 - 64);
    for (uint32_t i = 0; i < 64; i++) {
        uint32_t r = rnd();
        static const uint8_t pfx[8] = { 0x0f, 0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x2e, 0x0f };
        code[off + i] = (r & 0x700) == 0 ? pfx[(r >> 12) & 7] : (uint8_t)r;
    }
    /* Random descriptors (code, data, TSS, LDT, call and task gates with
     * any base, limit, DPL) for random selector loads, far transfers and
     * task switches, and random gates for INT 0x40-0x7f. */
    for (int k = 0; k < 2; k++) {
        static const uint8_t types[] = { 0x9a, 0x92, 0xfa, 0xf2, 0x89, 0x8b,
            0x82, 0x8c, 0xec, 0x85, 0xe5, 0x9e, 0x96, 0x90, 0x00 };
        uint32_t lo = rnd(), hi = rnd();
        if (below(4))
            hi = (hi & ~0xff00u) | (uint32_t)types[below(sizeof types)] << 8;
        if (below(2))
            lo = (lo & 0xffff) | (below(4) ? 0x08u : (uint32_t)(8 * below(32) + below(4))) << 16;
        gdt[7 + below(25)] = (uint64_t)hi << 32 | lo;
        uint32_t *idt = *(uint32_t **)(idt_desc + 2);
        uint32_t v = 0x40 + below(0x40);
        idt[2 * v] = lo;
        idt[2 * v + 1] = hi;
    }
    uint32_t regs[7];
    for (int i = 0; i < 7; i++) {
        regs[i] = below(2) ? val() : 0x400000 + below(0x4000);
        if (below(4) == 0)
            regs[i] = 8 * below(32) + below(4);     /* a selector */
    }
    enter_chaos(0x400000 + off, mode == 1, regs);
}

static void finish(void) __attribute__((noreturn));
static void finish(void)
{
    puts_("chaos: done, ops ");
    putu(op);
    puts_(", traps ");
    putu(traps);
    puts_(", irqs ");
    putu(irqs);
    puts_(", vectors seen (bitmap) ");
    for (int i = 7; i >= 0; i--)
        putx(vec_seen[i]);
    puts_("\n");
    /* A random I/O BAR may now sit over the exit device (or the debug
     * console): switch decoding off on every PCI function but the host
     * bridge and the ISA bridge before using them. */
    for (int i = 0; i < nfns; i++)
        if (fns[i].dev != 0 && !(fns[i].dev == 1 && fns[i].fn == 0))
            cfg_wr(fns[i].dev, fns[i].fn, 0x04, 0);
    if (mode == 2)
        outw((uint16_t)(pm_base + 4), 0x2000);      /* ACPI S5: see run.sh */
    outb(0xf4, 0x10);
    puts_("chaos: isa-debug-exit at 0xf4 did not end the run\n");
    debug_exit(0x01);
}

static void loop(void) __attribute__((noreturn));
static void loop(void)
{
    if (mode == 0) {
        while (op < nops) {
            op++;
            dev_ops[below(NDEVOPS)]();
        }
        finish();
    }
    if (op >= nops)
        finish();
    op++;
    if (op % 100 == 0) {                            /* how far cpu0 got */
        puts_("chaos: ");
        putu(op);
        puts_(" attempts\n");
    }
    cpu_next();
}

void chaos_trap(uint32_t vec)
{
    vec &= 255;
    vec_seen[vec >> 5] |= 1u << (vec & 31);
    if (vec < 32) {
        traps++;
    } else {
        irqs++;
        outb(0x20, 0x20);                           /* EOI, whichever PIC */
        outb(0xa0, 0x20);
        if (mode == 0)
            *(volatile uint32_t *)0xfee000b0u = 0;  /* and the local APIC */
    }
    if (mode != 0) {
        /* Random CPL-0 code may have switched paging or CR4 bits off. */
        uint32_t cr0;
        __asm__ volatile("mov %0, %%cr3" :: "r"(pd) : "memory");
        __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
        __asm__ volatile("mov %0, %%cr0" :: "r"((cr0 | 0x80010001u) & ~0x6000000cu) : "memory");
        __asm__ volatile("lidt idt_desc");
    }
    loop();
}

static uint32_t parse_num(const char *s)
{
    uint32_t v = 0;
    while (*s >= '0' && *s <= '9')
        v = v * 10 + (uint32_t)(*s++ - '0');
    return v;
}

static int starts(const char *s, const char *p)
{
    while (*p)
        if (*s++ != *p++)
            return 0;
    return 1;
}

void kmain(void)
{
    const uint32_t *mbi = (const uint32_t *)(uintptr_t)mb_info;
    uint32_t seed = 1;
    if (mbi && (mbi[0] & 1))
        ram_end = (mbi[2] + 1024) << 10;
    if (mbi && (mbi[0] & 4)) {
        const char *c = (const char *)(uintptr_t)mbi[4];
        for (; *c; c++) {
            if ((c[0] == ' ' || c == (const char *)(uintptr_t)mbi[4])) {
                const char *w = c[0] == ' ' ? c + 1 : c;
                if (starts(w, "seed=")) seed = parse_num(w + 5);
                else if (starts(w, "ops=")) nops = parse_num(w + 4);
                else if (starts(w, "mode=cpu3")) mode = 1;
                else if (starts(w, "mode=cpu0")) mode = 2;
            }
        }
    }
    if (ram_end < (32u << 20)) {
        puts_("chaos: needs at least 32 MiB of RAM\n");
        debug_exit(0x01);
    }
    rs = seed * 2654435761u + 0x9e3779b9u;
    if (!rs)
        rs = 1;
    puts_("chaos: mode ");
    puts_(mode == 0 ? "dev" : mode == 1 ? "cpu3" : "cpu0");
    puts_(" seed ");
    putu(seed);
    puts_(" ops ");
    putu(nops);
    puts_("\n");
    if (mode == 0) {
        pci_scan();
        puts_("chaos: ");
        putu((uint32_t)nfns);
        puts_(" PCI functions, ");
        putu((uint32_t)nbars);
        puts_(" memory BARs, PM base ");
        putx(pm_base);
        puts_("\n");
    } else {
        cpu_setup();
    }
    loop();
}
