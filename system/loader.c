/* BIOS/option-ROM loading and direct kernel boot (Linux boot protocol,
 * Documentation/arch/x86/boot.rst; Multiboot 0.6.96). Every length and
 * address taken from a file is checked against the file and against RAM
 * before anything is copied. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include "system/loader.h"

#define KiB 1024u
#define MiB (1024u * 1024u)
#define MAX_FILE (1024ull * MiB)           /* sanity cap on any input */

/* Fixed low-memory layout for direct boot (all below the EBDA). */
#define EBDA_ADDR     0x9fc00u
#define GDT_ADDR      0x8000u
#define MB_INFO_ADDR  0x9000u
#define MB_MMAP_ADDR  0x9100u
#define MB_MODS_ADDR  0x9400u
#define MB_MAX_MODS   48
#define MB_STR_ADDR   0xa000u
#define MB_STR_END    0x80000u
#define ZERO_PAGE     0x10000u
#define CMDLINE_ADDR  0x20000u
#define RSDP_ADDR     0xf0000u
#define ACPI_AREA     (64u * KiB)            /* at the top of low RAM */
#define KERNEL_ADDR   0x100000u

#include <stdarg.h>
__attribute__((format(printf, 3, 4)))
static void seterr(char *err, size_t n, const char *fmt, ...)
{
    if (!err || !n)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, n, fmt, ap);
    va_end(ap);
}

/* Reads a whole file; -1 with err on failure. */
static int read_file(const char *path, uint8_t **out, size_t *len,
                     const char *what, char *err, size_t n)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (err && n)
            snprintf(err, n, "cannot open %s '%s': %s", what, path,
                     strerror(errno));
        return -1;
    }
    long sz = -1;
    if (fseek(f, 0, SEEK_END) == 0)
        sz = ftell(f);
    if (sz < 0 || fseek(f, 0, SEEK_SET) != 0) {
        if (err && n)
            snprintf(err, n, "cannot read %s '%s'", what, path);
        fclose(f);
        return -1;
    }
    if ((unsigned long long)sz > MAX_FILE) {
        if (err && n)
            snprintf(err, n, "%s '%s' is too large", what, path);
        fclose(f);
        return -1;
    }
    uint8_t *buf = malloc(sz ? (size_t)sz : 1);
    if (!buf || fread(buf, 1, (size_t)sz, f) != (size_t)sz) {
        if (err && n)
            snprintf(err, n, "cannot read %s '%s'", what, path);
        free(buf);
        fclose(f);
        return -1;
    }
    fclose(f);
    *out = buf;
    *len = (size_t)sz;
    return 0;
}

static uint16_t ld16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t ld32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static void st16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void st32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void st64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static void ram_write(Bus *b, uint64_t pa, const void *src, size_t len)
{
    bus_mem_rw(b, pa, (void *)(uintptr_t)src, len, true);
}

static void ram_zero(Bus *b, uint64_t pa, size_t len)
{
    static const uint8_t zero[4096];
    while (len) {
        size_t k = len < sizeof zero ? len : sizeof zero;
        ram_write(b, pa, zero, k);
        pa += k;
        len -= k;
    }
}

/* ---------------- BIOS and option ROMs ---------------- */

int load_bios(Bus *b, const char *path, char *err, size_t n)
{
    uint8_t *buf;
    size_t len;
    if (!path)
        path = DEFAULT_BIOS;
    if (read_file(path, &buf, &len, "BIOS", err, n) < 0)
        return -1;
    if (len == 0 || len % (64 * KiB) || len > 16 * MiB) {
        if (err && n)
            snprintf(err, n, "BIOS '%s' is %zu bytes: it must be a non-zero "
                     "multiple of 64 KiB and at most 16 MiB", path, len);
        free(buf);
        return -1;
    }
    loader_free_bios(b);
    b->bios = buf;
    b->bios_size = (uint32_t)len;
    /* The top 128 KiB also appear at 0xE0000-0xFFFFF (the isa-bios
     * alias); the shadow RAM there starts out as a copy. */
    size_t low = len < 128 * KiB ? len : 128 * KiB;
    memcpy(b->ram + 0x100000 - low, buf + len - low, low);
    bus_notify_write(b, 0x100000 - low, low);
    return 0;
}

void loader_free_bios(Bus *b)
{
    free((void *)(uintptr_t)b->bios);
    b->bios = NULL;
    b->bios_size = 0;
}

int load_option_rom_fwcfg(FWCfg *f, const char *path, const char *name,
                          char *err, size_t n)
{
    uint8_t *buf;
    size_t len;
    if (read_file(path, &buf, &len, "option ROM", err, n) < 0)
        return -1;
    if (len < 512 || buf[0] != 0x55 || buf[1] != 0xaa) {
        seterr(err, n, "option ROM '%s' has no 0x55AA signature", path);
        free(buf);
        return -1;
    }
    int r = fwcfg_add_file(f, name, buf, len) < 0 ? -1 : 0;
    if (r < 0)
        seterr(err, n, "cannot add option ROM '%s' to fw_cfg", path);
    free(buf);
    return r;
}

/* ---------------- memory map ---------------- */

int loader_e820(const Bus *b, E820Entry *out, int max)
{
    E820Entry t[8];
    int k = 0;
    uint64_t low = b->ram_below_4g;
    t[k++] = (E820Entry){ 0, low < EBDA_ADDR ? low : EBDA_ADDR, E820_RAM };
    t[k++] = (E820Entry){ EBDA_ADDR, 0xa0000 - EBDA_ADDR, E820_RESERVED };
    t[k++] = (E820Entry){ 0xe0000, 0x20000, E820_RESERVED };
    if (low > 0x100000 + ACPI_AREA) {
        t[k++] = (E820Entry){ 0x100000, low - ACPI_AREA - 0x100000, E820_RAM };
        t[k++] = (E820Entry){ low - ACPI_AREA, ACPI_AREA, E820_ACPI };
    }
    if (b->bios_size)
        t[k++] = (E820Entry){ 0x100000000ull - b->bios_size, b->bios_size,
                              E820_RESERVED };
    if (b->ram_size > low)
        t[k++] = (E820Entry){ 0x100000000ull, b->ram_size - low, E820_RAM };
    int m = k < max ? k : max;
    memcpy(out, t, (size_t)m * sizeof t[0]);
    return m;
}

/* ---------------- CPU state ---------------- */

void loader_set_flat32(Bus *b, CPUState *cpu, uint32_t gdt_pa, uint32_t eip)
{
    /* Null, null, 0x10 code (execute/read, accessed), 0x18 data
     * (read/write, accessed): base 0, limit 4 GiB, 32-bit, 4 KiB granular. */
    static const uint64_t gdt[4] = {
        0, 0, 0x00cf9b000000ffffull, 0x00cf93000000ffffull,
    };
    ram_write(b, gdt_pa, gdt, sizeof gdt);
    cpu->gdt.base = gdt_pa;
    cpu->gdt.limit = sizeof gdt - 1;
    SegCache code = { 0x10, 0, 0xffffffffu, 0x00c09b00u };
    SegCache data = { 0x18, 0, 0xffffffffu, 0x00c09300u };
    for (int s = R_ES; s <= R_GS; s++)
        cpu->seg[s] = s == R_CS ? code : data;
    cpu->cr0 = (cpu->cr0 | CR0_PE | CR0_ET) & ~(CR0_PG | CR0_CD | CR0_NW);
    cpu->cpl = 0;
    cpu_set_eflags(cpu, EF_FIXED, 0xffffffffu);
    cpu->eip = cpu->next_eip = eip;
    cpu->halted = false;
    cpu_tlb_flush(cpu, true);
    bus_set_a20(b, true);
}

/* ---------------- ACPI for direct boot ---------------- */

static int place_acpi(Bus *b, const AcpiConfig *acpi, char *err, size_t n)
{
    AcpiConfig def;
    if (acpi)
        def = *acpi;
    else
        acpi_default_config(&def);
    /* The PCI window starts above RAM (BARs assigned by
     * piix_firmware_setup sit at 0xE0000000 and up). */
    if (!def.pci_hole_start)
        def.pci_hole_start = acpi_pci_hole_for_ram(b->ram_below_4g);
    acpi = &def;
    uint32_t base = (uint32_t)(b->ram_below_4g - ACPI_AREA);
    AcpiBlob blob;
    if (acpi_build_tables(acpi, base, &blob) < 0 || blob.len > ACPI_AREA) {
        seterr(err, n, "cannot build ACPI tables");
        return -1;
    }
    ram_write(b, base, blob.data, blob.len);
    /* The RSDP goes in the BIOS area, where the OS scans for it; write
     * the RAM directly since the shadow area may be write-protected. */
    memcpy(b->ram + RSDP_ADDR, blob.rsdp, sizeof blob.rsdp);
    bus_notify_write(b, RSDP_ADDR, sizeof blob.rsdp);
    acpi_blob_free(&blob);
    /* BIOS data area: base memory size (KiB) and the EBDA segment. */
    uint8_t bda[2];
    st16(bda, EBDA_ADDR / KiB);
    ram_write(b, 0x413, bda, 2);
    st16(bda, EBDA_ADDR >> 4);
    ram_write(b, 0x40e, bda, 2);
    return 0;
}

/* ---------------- Linux ---------------- */

int linux_parse_header(const uint8_t *img, size_t len, LinuxHeader *h,
                       char *err, size_t n)
{
    memset(h, 0, sizeof *h);
    if (len < 0x400) {
        seterr(err, n, "kernel image too short (%llu bytes)", (unsigned long long)(len));
        return -1;
    }
    if (memcmp(img + 0x202, "HdrS", 4) != 0) {
        seterr(err, n, "not a Linux bzImage (no HdrS signature)");
        return -1;
    }
    h->version = ld16(img + 0x206);
    if (h->version < 0x202) {
        seterr(err, n, "Linux boot protocol 0x%llx is too old (need 2.02)", (unsigned long long)(h->version));
        return -1;
    }
    h->setup_sects = img[0x1f1] ? img[0x1f1] : 4;
    h->setup_size = (h->setup_sects + 1u) * 512u;
    h->loadflags = img[0x211];
    if (!(h->loadflags & 1)) {
        seterr(err, n, "zImage kernels (loaded low) are not supported");
        return -1;
    }
    if (h->setup_size >= len) {
        seterr(err, n, "kernel image truncated inside its setup code "
               "(%llu bytes)", (unsigned long long)(len));
        return -1;
    }
    h->kernel_offset = h->setup_size;
    h->kernel_size = (uint32_t)(len - h->setup_size);
    uint64_t syssize = (uint64_t)ld32(img + 0x1f4) * 16;
    if (syssize > h->kernel_size) {
        seterr(err, n, "kernel image truncated: header says %llu bytes of "
               "protected-mode code", (unsigned long long)(syssize));
        return -1;
    }
    h->code32_start = ld32(img + 0x214);
    h->initrd_addr_max = h->version >= 0x203 ? ld32(img + 0x22c) : 0x37ffffff;
    h->kernel_alignment = h->version >= 0x205 ? ld32(img + 0x230) : 0;
    h->relocatable = h->version >= 0x205 && img[0x234];
    h->cmdline_size = h->version >= 0x206 ? ld32(img + 0x238) : 255;
    if (h->version >= 0x20a) {
        memcpy(&h->pref_address, img + 0x258, 8);
        h->init_size = ld32(img + 0x260);
    }
    return 0;
}

int load_linux_mem(Bus *b, CPUState *cpu, const uint8_t *kimg, size_t klen,
                   const uint8_t *initrd, size_t ilen, const char *cmdline,
                   const AcpiConfig *acpi, char *err, size_t n)
{
    LinuxHeader h;
    if (linux_parse_header(kimg, klen, &h, err, n) < 0)
        return -1;
    if (!cmdline)
        cmdline = "";
    size_t clen = strlen(cmdline);
    if (clen > h.cmdline_size || clen >= 64 * KiB) {
        seterr(err, n, "kernel command line too long (max %llu bytes)", (unsigned long long)(h.cmdline_size));
        return -1;
    }
    uint64_t low = b->ram_below_4g;
    uint64_t need = h.init_size > h.kernel_size ? h.init_size : h.kernel_size;
    uint64_t kernel_end = KERNEL_ADDR + need;
    if (low < kernel_end + ACPI_AREA) {
        seterr(err, n, "not enough RAM for the kernel (needs %llu MiB)", (unsigned long long)((kernel_end + ACPI_AREA + MiB - 1) / MiB));
        return -1;
    }
    uint32_t initrd_addr = 0;
    if (initrd && ilen) {
        uint64_t top = low - ACPI_AREA;
        if ((uint64_t)h.initrd_addr_max + 1 < top)
            top = (uint64_t)h.initrd_addr_max + 1;
        if (ilen > top || ((top - ilen) & ~0xfffull) < kernel_end) {
            seterr(err, n, "initrd does not fit in RAM (%llu bytes)", (unsigned long long)(ilen));
            return -1;
        }
        initrd_addr = (uint32_t)((top - ilen) & ~0xfffull);
        ram_write(b, initrd_addr, initrd, ilen);
    }
    ram_write(b, KERNEL_ADDR, kimg + h.kernel_offset, h.kernel_size);

    /* The zero page: the kernel's own setup header, then what a boot
     * loader fills in. */
    uint8_t zp[4096];
    memset(zp, 0, sizeof zp);
    size_t hdr_end = 0x202 + (size_t)kimg[0x201];
    if (hdr_end > 0x290)
        hdr_end = 0x290;
    memcpy(zp + 0x1f1, kimg + 0x1f1, hdr_end - 0x1f1);
    zp[0x210] = 0xff;                             /* type_of_loader: other */
    st16(zp + 0x1fa, 0xffff);                     /* vid_mode: normal */
    /* screen_info: the 80x25 colour VGA text mode the board sets up
     * without a BIOS (vga_set_text_mode), so vgacon drives tty0. */
    zp[0x06] = 3;                                 /* orig_video_mode */
    zp[0x07] = 80;                                /* orig_video_cols */
    st16(zp + 0x0a, 0x0003);                      /* ega_bx: VGA, 256K */
    zp[0x0e] = 25;                                /* orig_video_lines */
    zp[0x0f] = 1;                                 /* orig_video_isVGA */
    st16(zp + 0x10, 16);                          /* orig_video_points */
    st32(zp + 0x228, CMDLINE_ADDR);               /* cmd_line_ptr */
    st32(zp + 0x218, initrd_addr);                /* ramdisk_image */
    st32(zp + 0x21c, initrd_addr ? (uint32_t)ilen : 0);
    uint64_t ext_k = (low - MiB) / KiB;
    st16(zp + 0x002, (uint16_t)(ext_k > 0xfc00 ? 0xfc00 : ext_k));
    st32(zp + 0x1e0, (uint32_t)ext_k);            /* alt_mem_k */
    st64(zp + 0x070, RSDP_ADDR);                  /* acpi_rsdp_addr */
    E820Entry map[8];
    int cnt = loader_e820(b, map, 8);
    zp[0x1e8] = (uint8_t)cnt;
    for (int i = 0; i < cnt; i++) {
        uint8_t *e = zp + 0x2d0 + i * 20;
        st64(e, map[i].addr);
        st64(e + 8, map[i].size);
        st32(e + 16, map[i].type);
    }
    if (place_acpi(b, acpi, err, n) < 0)
        return -1;
    ram_write(b, ZERO_PAGE, zp, sizeof zp);
    ram_write(b, CMDLINE_ADDR, cmdline, clen + 1);

    loader_set_flat32(b, cpu, GDT_ADDR, KERNEL_ADDR);
    memset(cpu->regs, 0, sizeof cpu->regs);
    cpu->regs[R_ESI] = ZERO_PAGE;
    return 0;
}

int load_linux(Bus *b, CPUState *cpu, const char *kernel, const char *initrd,
               const char *cmdline, const AcpiConfig *acpi, char *err,
               size_t n)
{
    uint8_t *k = NULL, *i = NULL;
    size_t kl = 0, il = 0;
    if (read_file(kernel, &k, &kl, "kernel", err, n) < 0)
        return -1;
    if (initrd && read_file(initrd, &i, &il, "initrd", err, n) < 0) {
        free(k);
        return -1;
    }
    int r = load_linux_mem(b, cpu, k, kl, i, il, cmdline, acpi, err, n);
    free(k);
    free(i);
    return r;
}

/* ---------------- Multiboot ---------------- */

#define MB_MAGIC 0x1badb002u
#define MB_BOOT_MAGIC 0x2badb002u
#define MB_SEARCH 8192

int multiboot_find_header(const uint8_t *img, size_t len, MultibootHeader *h,
                          char *err, size_t n)
{
    memset(h, 0, sizeof *h);
    size_t lim = len < MB_SEARCH ? len : MB_SEARCH;
    for (size_t off = 0; off + 12 <= lim; off += 4) {
        uint32_t magic = ld32(img + off), flags = ld32(img + off + 4);
        if (magic != MB_MAGIC || magic + flags + ld32(img + off + 8) != 0)
            continue;
        h->offset = (uint32_t)off;
        h->flags = flags;
        /* Bits 0-15 the loader must honour: we do 0 (page-aligned
         * modules), 1 (memory info) and 2 (video: text mode is fine). */
        if (flags & 0xfff8u) {
            seterr(err, n, "Multiboot kernel needs unsupported features "
                   "(flags 0x%llx)", (unsigned long long)(flags));
            return -1;
        }
        if (flags & (1u << 16)) {
            if (off + 32 > len) {
                seterr(err, n, "Multiboot header truncated");
                return -1;
            }
            h->aout_kludge = true;
            h->header_addr = ld32(img + off + 12);
            h->load_addr = ld32(img + off + 16);
            h->load_end_addr = ld32(img + off + 20);
            h->bss_end_addr = ld32(img + off + 24);
            h->entry_addr = ld32(img + off + 28);
        }
        return 1;
    }
    return 0;
}

int is_multiboot(const char *path, char *err, size_t n)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (err && n)
            snprintf(err, n, "cannot open kernel '%s': %s", path, strerror(errno));
        return -1;
    }
    uint8_t buf[MB_SEARCH];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    if (len >= 0x206 && memcmp(buf + 0x202, "HdrS", 4) == 0)
        return 0;                  /* a Linux kernel wins, as on QEMU */
    MultibootHeader h;
    char dummy[8];
    return multiboot_find_header(buf, len, &h, dummy, sizeof dummy) != 0;
}

/* A range [pa, pa+len) that a kernel may occupy: inside low RAM, clear of
 * the legacy hole and of the boot-info area we write. */
static bool range_ok(const Bus *b, uint64_t pa, uint64_t len)
{
    uint64_t end = pa + len;
    if (end < pa || end > b->ram_below_4g - ACPI_AREA)
        return false;
    if (pa < 0x100000 && end > 0xa0000)
        return false;
    if (pa < MB_STR_END && end > GDT_ADDR)
        return false;
    return true;
}

typedef struct MbImage {
    uint32_t entry, low, high;            /* entry, lowest/highest address */
} MbImage;

static int mb_load_elf(Bus *b, const uint8_t *img, size_t len, MbImage *mi,
                       char *err, size_t n)
{
    if (len < 52 || img[4] != 1 || img[5] != 1 || ld16(img + 18) != 3) {
        seterr(err, n, "Multiboot ELF kernel is not 32-bit little-endian "
               "i386");
        return -1;
    }
    uint32_t phoff = ld32(img + 28);
    uint16_t phentsize = ld16(img + 42), phnum = ld16(img + 44);
    if (phentsize < 32 || phoff > len ||
        (uint64_t)phnum * phentsize > len - phoff) {
        seterr(err, n, "Multiboot ELF program headers out of file");
        return -1;
    }
    uint32_t entry = ld32(img + 24);
    mi->low = 0xffffffffu;
    mi->high = 0;
    bool loaded = false;
    for (int pass = 0; pass < 2; pass++) {
        for (unsigned i = 0; i < phnum; i++) {
            const uint8_t *ph = img + phoff + (size_t)i * phentsize;
            if (ld32(ph) != 1)                       /* PT_LOAD */
                continue;
            uint32_t off = ld32(ph + 4), vaddr = ld32(ph + 8),
                     paddr = ld32(ph + 12), filesz = ld32(ph + 16),
                     memsz = ld32(ph + 20);
            if (pass == 0) {
                if (filesz > memsz || off > len || filesz > len - off ||
                    !range_ok(b, paddr, memsz)) {
                    seterr(err, n, "Multiboot ELF segment at 0x%llx is "
                           "outside the file or usable RAM", (unsigned long long)(paddr));
                    return -1;
                }
                continue;
            }
            ram_write(b, paddr, img + off, filesz);
            ram_zero(b, paddr + filesz, memsz - filesz);
            if (paddr < mi->low)
                mi->low = paddr;
            if (paddr + memsz > mi->high)
                mi->high = paddr + memsz;
            /* Entry given as a virtual address inside this segment. */
            if (entry >= vaddr && entry - vaddr < memsz && vaddr != paddr)
                entry = paddr + (entry - vaddr);
            loaded = true;
        }
    }
    if (!loaded) {
        seterr(err, n, "Multiboot ELF kernel has no loadable segment");
        return -1;
    }
    mi->entry = entry;
    return 0;
}

static int mb_load_aout(Bus *b, const uint8_t *img, size_t len,
                        const MultibootHeader *h, MbImage *mi, char *err,
                        size_t n)
{
    if (h->header_addr < h->load_addr ||
        h->header_addr - h->load_addr > h->offset) {
        seterr(err, n, "Multiboot header addresses are inconsistent");
        return -1;
    }
    uint32_t text_off = h->offset - (h->header_addr - h->load_addr);
    uint64_t load_size = h->load_end_addr ? (uint64_t)h->load_end_addr - h->load_addr
                                          : len - text_off;
    if (h->load_end_addr && h->load_end_addr < h->load_addr) {
        seterr(err, n, "Multiboot load_end_addr is below load_addr");
        return -1;
    }
    if (text_off + load_size > len) {
        seterr(err, n, "Multiboot kernel truncated (needs %llu bytes)", (unsigned long long)(text_off + load_size));
        return -1;
    }
    uint64_t mem_size = load_size;
    if (h->bss_end_addr) {
        if (h->bss_end_addr < h->load_addr + load_size) {
            seterr(err, n, "Multiboot bss_end_addr is below the image");
            return -1;
        }
        mem_size = (uint64_t)h->bss_end_addr - h->load_addr;
    }
    if (!range_ok(b, h->load_addr, mem_size)) {
        seterr(err, n, "Multiboot kernel at 0x%llx does not fit in usable RAM",
               (unsigned long long)(h->load_addr));
        return -1;
    }
    ram_write(b, h->load_addr, img + text_off, load_size);
    ram_zero(b, h->load_addr + load_size, mem_size - load_size);
    mi->entry = h->entry_addr;
    mi->low = h->load_addr;
    mi->high = (uint32_t)(h->load_addr + mem_size);
    return 0;
}

/* Strings (command lines, names) go in a low area; returns the address. */
static uint32_t mb_add_string(Bus *b, uint32_t *next, const char *s)
{
    size_t len = strlen(s) + 1;
    if (*next + len > MB_STR_END)
        return 0;
    uint32_t a = *next;
    ram_write(b, a, s, len);
    *next += (uint32_t)len;
    return a;
}

/* Next entry of QEMU's module list: up to an unescaped ',' (",," is a
 * literal comma). Returns the position after it, or NULL at the end. */
static const char *next_module(const char *p, char *out, size_t cap)
{
    size_t k = 0;
    while (*p) {
        if (*p == ',') {
            if (p[1] == ',') {
                p++;
            } else {
                p++;
                break;
            }
        }
        if (k + 1 < cap)
            out[k++] = *p;
        p++;
    }
    out[k] = 0;
    return p;
}

int load_multiboot_mem(Bus *b, CPUState *cpu, const uint8_t *img, size_t len,
                       const char *kname, const char *initrd,
                       const char *cmdline, char *err, size_t n)
{
    MultibootHeader h;
    int f = multiboot_find_header(img, len, &h, err, n);
    if (f <= 0) {
        if (f == 0)
            seterr(err, n, "'%s' is not a Multiboot kernel", kname);
        return -1;
    }
    if (b->ram_below_4g < 2 * MiB + ACPI_AREA) {
        seterr(err, n, "not enough RAM for a Multiboot kernel");
        return -1;
    }
    MbImage mi;
    int r;
    if (h.aout_kludge || len < 4 || memcmp(img, "\x7f" "ELF", 4) != 0) {
        if (!h.aout_kludge) {
            seterr(err, n, "Multiboot kernel is neither ELF nor has the "
                   "address fields (flag 16)");
            return -1;
        }
        r = mb_load_aout(b, img, len, &h, &mi, err, n);
    } else {
        r = mb_load_elf(b, img, len, &mi, err, n);
    }
    if (r < 0)
        return -1;

    uint32_t str = MB_STR_ADDR;
    uint8_t mods[MB_MAX_MODS * 16];
    int nmods = 0;
    uint64_t mod_next = ((uint64_t)mi.high + 4095) & ~4095ull;
    if (initrd && *initrd) {
        const char *p = initrd;
        size_t speclen = strlen(initrd) + 1;
        char *spec = malloc(speclen);
        if (!spec)
            return -1;
        while (p && *p) {
            p = next_module(p, spec, speclen);
            if (nmods >= MB_MAX_MODS) {
                seterr(err, n, "too many Multiboot modules (max %llu)", (unsigned long long)(MB_MAX_MODS));
                free(spec);
                return -1;
            }
            char *sp = strchr(spec, ' ');
            uint32_t str_addr = mb_add_string(b, &str, spec);
            if (sp)
                *sp = 0;
            uint8_t *data;
            size_t dlen;
            if (read_file(spec, &data, &dlen, "Multiboot module", err, n) < 0) {
                free(spec);
                return -1;
            }
            if (!range_ok(b, mod_next, dlen)) {
                seterr(err, n, "Multiboot module '%s' does not fit in RAM",
                       spec);
                free(data);
                free(spec);
                return -1;
            }
            ram_write(b, mod_next, data, dlen);
            free(data);
            uint8_t *m = mods + nmods * 16;
            st32(m, (uint32_t)mod_next);
            st32(m + 4, (uint32_t)(mod_next + dlen));
            st32(m + 8, str_addr);
            st32(m + 12, 0);
            nmods++;
            mod_next = (mod_next + dlen + 4095) & ~4095ull;
        }
        free(spec);
        ram_write(b, MB_MODS_ADDR, mods, (size_t)nmods * 16);
    }

    /* QEMU passes "<kernel file> <append>" as the kernel command line. */
    size_t cl = strlen(kname) + (cmdline ? strlen(cmdline) : 0) + 2;
    char *kcl = malloc(cl);
    if (!kcl)
        return -1;
    snprintf(kcl, cl, "%s %s", kname, cmdline ? cmdline : "");
    uint32_t cmd_addr = mb_add_string(b, &str, kcl);
    free(kcl);
    uint32_t name_addr = mb_add_string(b, &str, "kestrel");
    if (!cmd_addr || !name_addr) {
        seterr(err, n, "Multiboot command line too long");
        return -1;
    }

    E820Entry map[8];
    int cnt = loader_e820(b, map, 8);
    uint8_t mm[8 * 24];
    for (int i = 0; i < cnt; i++) {
        uint8_t *e = mm + i * 24;
        st32(e, 20);
        st64(e + 4, map[i].addr);
        st64(e + 12, map[i].size);
        st32(e + 20, map[i].type);
    }
    ram_write(b, MB_MMAP_ADDR, mm, (size_t)cnt * 24);

    uint8_t info[88];
    memset(info, 0, sizeof info);
    /* memory, boot device, cmdline, modules, memory map, loader name */
    st32(info + 0, 0x1 | 0x2 | 0x4 | 0x8 | 0x40 | 0x200);
    st32(info + 4, EBDA_ADDR / KiB);
    st32(info + 8, (uint32_t)((b->ram_below_4g - MiB) / KiB));
    st32(info + 12, 0x8000ffffu);
    st32(info + 16, cmd_addr);
    st32(info + 20, (uint32_t)nmods);
    st32(info + 24, MB_MODS_ADDR);
    st32(info + 44, (uint32_t)cnt * 24);
    st32(info + 48, MB_MMAP_ADDR);
    st32(info + 64, name_addr);
    ram_write(b, MB_INFO_ADDR, info, sizeof info);
    /* Multiboot kernels find ACPI the same way Linux does. */
    if (place_acpi(b, NULL, err, n) < 0)
        return -1;

    loader_set_flat32(b, cpu, GDT_ADDR, mi.entry);
    memset(cpu->regs, 0, sizeof cpu->regs);
    cpu->regs[R_EAX] = MB_BOOT_MAGIC;
    cpu->regs[R_EBX] = MB_INFO_ADDR;
    return 0;
}

int load_multiboot(Bus *b, CPUState *cpu, const char *kernel,
                   const char *initrd, const char *cmdline, char *err,
                   size_t n)
{
    uint8_t *k;
    size_t kl;
    if (read_file(kernel, &k, &kl, "kernel", err, n) < 0)
        return -1;
    int r = load_multiboot_mem(b, cpu, k, kl, kernel, initrd, cmdline, err, n);
    free(k);
    return r;
}
