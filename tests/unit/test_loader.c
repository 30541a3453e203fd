/* Loader: BIOS images, the Linux 32-bit boot protocol (setup header and
 * zero page offsets from Documentation/arch/x86/boot.rst) and Multiboot
 * v1 (Multiboot Specification 0.6.96), on synthetic images built here,
 * plus the truncated and malformed cases. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <stdlib.h>
#include <stdio.h>
#include <unistd.h>
#include <cmocka.h>
#include "system/loader.h"

static Bus bus;
static CPUState *cpu;
static char err[256];

static int setup(void **state)
{
    (void)state;
    bus_init(&bus, 64 << 20);
    cpu = calloc(1, sizeof *cpu);
    cpu->bus = &bus;
    err[0] = 0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    loader_free_bios(&bus);
    free(cpu);
    bus_free(&bus);
    return 0;
}

static uint32_t rd32(uint32_t pa) { return (uint32_t)bus_mem_read(&bus, pa, 4); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }

static const char *tmpfile_with(const void *data, size_t len, char *path)
{
    strcpy(path, "/tmp/kestrel-test-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
    return path;
}

/* ---- BIOS ---- */

static void test_bios_load(void **state)
{
    (void)state;
    size_t len = 256 * 1024;
    uint8_t *img = malloc(len);
    for (size_t i = 0; i < len; i++)
        img[i] = (uint8_t)(i * 7 + (i >> 12));
    char path[64];
    tmpfile_with(img, len, path);
    assert_int_equal(load_bios(&bus, path, err, sizeof err), 0);
    assert_int_equal(bus.bios_size, len);
    /* Top 128 KiB mirrored at 0xE0000; the whole image below 4 GiB. */
    assert_memory_equal(bus.ram + 0xe0000, img + len - 128 * 1024, 128 * 1024);
    assert_int_equal(bus_mem_read(&bus, 0xfffffff0u, 4), *(uint32_t *)(img + len - 16));
    assert_int_equal(bus_mem_read(&bus, 0xfffc0000u, 1), img[0]);
    unlink(path);
    /* A size that is not a multiple of 64 KiB: one error, nothing mapped. */
    loader_free_bios(&bus);
    tmpfile_with(img, 100000, path);
    assert_int_equal(load_bios(&bus, path, err, sizeof err), -1);
    assert_non_null(strstr(err, "64 KiB"));
    assert_null(strchr(err, '\n'));
    assert_int_equal(bus.bios_size, 0);
    unlink(path);
    assert_int_equal(load_bios(&bus, "/nonexistent/bios.bin", err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent/bios.bin"));
    free(img);
}

static void test_seabios_reset_vector(void **state)
{
    (void)state;
    if (access(DEFAULT_BIOS, R_OK) != 0)
        skip();
    assert_int_equal(load_bios(&bus, NULL, err, sizeof err), 0);
    /* The reset vector (F000:FFF0) of the real SeaBIOS is a far JMP. */
    assert_int_equal(bus.ram[0xffff0], 0xea);
    assert_int_equal(bus_mem_read(&bus, 0xfffffff0u, 1), 0xea);
}

/* ---- Linux ---- */

#define SETUP_SECTS 4
#define PM_SIZE 8192

static uint8_t *make_bzimage(size_t *len, uint16_t version)
{
    size_t setup = (SETUP_SECTS + 1) * 512;
    *len = setup + PM_SIZE;
    uint8_t *k = calloc(1, *len);
    k[0x1f1] = SETUP_SECTS;
    put32(k + 0x1f4, PM_SIZE / 16);            /* syssize */
    put16(k + 0x1fe, 0xaa55);
    k[0x200] = 0xeb;                           /* jump over the header */
    k[0x201] = 0x66;                           /* header ends at 0x268 */
    memcpy(k + 0x202, "HdrS", 4);
    put16(k + 0x206, version);
    k[0x211] = 0x01;                           /* LOADED_HIGH */
    put32(k + 0x214, 0x100000);
    put32(k + 0x22c, 0x37ffffff);              /* initrd_addr_max */
    put32(k + 0x230, 0x200000);
    k[0x234] = 1;
    put32(k + 0x238, 2047);                    /* cmdline_size */
    put32(k + 0x260, 0x20000);                 /* init_size */
    for (size_t i = 0; i < PM_SIZE; i++)
        k[setup + i] = (uint8_t)(i ^ 0x5a);
    return k;
}

static void test_linux_header(void **state)
{
    (void)state;
    size_t len;
    uint8_t *k = make_bzimage(&len, 0x020f);
    LinuxHeader h;
    assert_int_equal(linux_parse_header(k, len, &h, err, sizeof err), 0);
    assert_int_equal(h.version, 0x020f);
    assert_int_equal(h.setup_size, 2560);
    assert_int_equal(h.kernel_size, PM_SIZE);
    assert_int_equal(h.initrd_addr_max, 0x37ffffff);
    assert_int_equal(h.cmdline_size, 2047);
    assert_true(h.relocatable);
    assert_int_equal(h.init_size, 0x20000);
    /* setup_sects 0 means 4. */
    k[0x1f1] = 0;
    assert_int_equal(linux_parse_header(k, len, &h, err, sizeof err), 0);
    assert_int_equal(h.setup_sects, 4);
    /* Before 2.03 initrd_addr_max is not in the header. */
    put16(k + 0x206, 0x0202);
    assert_int_equal(linux_parse_header(k, len, &h, err, sizeof err), 0);
    assert_int_equal(h.initrd_addr_max, 0x37ffffff);
    assert_int_equal(h.cmdline_size, 255);
    free(k);
}

static void test_linux_bad_images(void **state)
{
    (void)state;
    size_t len;
    uint8_t *k = make_bzimage(&len, 0x020f);
    LinuxHeader h;
    /* Truncated protected-mode part (syssize says more). */
    assert_int_equal(linux_parse_header(k, len - 100, &h, err, sizeof err), -1);
    assert_non_null(strstr(err, "truncated"));
    /* Truncated inside the setup sectors. */
    assert_int_equal(linux_parse_header(k, 2000, &h, err, sizeof err), -1);
    assert_int_equal(linux_parse_header(k, 100, &h, err, sizeof err), -1);
    k[0x201 + 1] = 'X';
    assert_int_equal(linux_parse_header(k, len, &h, err, sizeof err), -1);
    assert_non_null(strstr(err, "HdrS"));
    k[0x201 + 1] = 'H';
    put16(k + 0x206, 0x0201);
    assert_int_equal(linux_parse_header(k, len, &h, err, sizeof err), -1);
    put16(k + 0x206, 0x020f);
    k[0x211] = 0;                                 /* zImage */
    assert_int_equal(linux_parse_header(k, len, &h, err, sizeof err), -1);
    k[0x211] = 1;
    /* Command line longer than cmdline_size. */
    char *cl = malloc(3000);
    memset(cl, 'a', 2999);
    cl[2999] = 0;
    assert_int_equal(load_linux_mem(&bus, cpu, k, len, NULL, 0, cl, NULL,
                                    err, sizeof err), -1);
    free(cl);
    /* An initrd bigger than RAM. */
    static uint8_t big[1];
    assert_int_equal(load_linux_mem(&bus, cpu, k, len, big, 80u << 20, "",
                                    NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "initrd"));
    free(k);
}

static void test_linux_load(void **state)
{
    (void)state;
    size_t len;
    uint8_t *k = make_bzimage(&len, 0x020f);
    uint8_t initrd[10000];
    for (size_t i = 0; i < sizeof initrd; i++)
        initrd[i] = (uint8_t)(i * 13);
    assert_int_equal(load_linux_mem(&bus, cpu, k, len, initrd, sizeof initrd,
                                    "console=ttyS0 panic=-1", NULL, err,
                                    sizeof err), 0);
    /* Protected-mode kernel at 1 MiB. */
    assert_memory_equal(bus.ram + 0x100000, k + 2560, PM_SIZE);
    /* CPU: flat 32-bit protected mode at the 32-bit entry, ESI = zero page. */
    assert_int_equal(cpu->eip, 0x100000);
    assert_true(cpu->cr0 & CR0_PE);
    assert_false(cpu->cr0 & CR0_PG);
    assert_int_equal(cpu->seg[R_CS].sel, 0x10);
    assert_int_equal(cpu->seg[R_DS].sel, 0x18);
    assert_int_equal(cpu->seg[R_CS].base, 0);
    assert_int_equal(cpu->seg[R_CS].limit, 0xffffffffu);
    assert_true(cpu->seg[R_CS].flags & SEGF_DB);
    assert_false(cpu->eflags & EF_IF);
    uint32_t zp = cpu->regs[R_ESI];
    /* The GDT in RAM really holds the selectors' descriptors. */
    assert_int_equal(bus_mem_read(&bus, cpu->gdt.base + 0x10, 8), 0x00cf9b000000ffffull);
    assert_int_equal(bus_mem_read(&bus, cpu->gdt.base + 0x18, 8), 0x00cf93000000ffffull);
    /* Zero page: header copied, loader fields filled. */
    assert_int_equal(rd32(zp + 0x202), 0x53726448);          /* "HdrS" */
    assert_int_equal(bus.ram[zp + 0x210], 0xff);              /* loader */
    uint32_t cmd = rd32(zp + 0x228);
    assert_string_equal((char *)bus.ram + cmd, "console=ttyS0 panic=-1");
    uint32_t ird = rd32(zp + 0x218);
    assert_int_equal(rd32(zp + 0x21c), sizeof initrd);
    assert_int_equal(ird & 0xfff, 0);
    assert_true(ird >= 0x100000 + 0x20000);
    assert_true(ird + sizeof initrd <= bus.ram_below_4g);
    assert_memory_equal(bus.ram + ird, initrd, sizeof initrd);
    /* e820 map: sorted, usable RAM at 0 and 1 MiB, the initrd inside
     * usable RAM, and the ACPI area where the RSDP's RSDT lives. */
    int n = bus.ram[zp + 0x1e8];
    assert_true(n >= 4 && n <= 128);
    uint64_t prev_end = 0;
    bool initrd_in_ram = false, rsdt_in_acpi = false;
    uint32_t rsdt = rd32(0xf0000 + 16);
    for (int i = 0; i < n; i++) {
        uint64_t a, l;
        uint32_t t;
        memcpy(&a, bus.ram + zp + 0x2d0 + i * 20, 8);
        memcpy(&l, bus.ram + zp + 0x2d0 + i * 20 + 8, 8);
        memcpy(&t, bus.ram + zp + 0x2d0 + i * 20 + 16, 4);
        assert_true(a >= prev_end);
        prev_end = a + l;
        if (t == 1 && ird >= a && ird + sizeof initrd <= a + l)
            initrd_in_ram = true;
        if (t == 3 && rsdt >= a && rsdt < a + l)
            rsdt_in_acpi = true;
    }
    assert_true(initrd_in_ram);
    assert_true(rsdt_in_acpi);
    assert_memory_equal(bus.ram + 0xf0000, "RSD PTR ", 8);
    assert_memory_equal(bus.ram + rsdt, "RSDT", 4);
    free(k);
}

/* ---- Multiboot ---- */

static void mb_header(uint8_t *p, uint32_t flags)
{
    put32(p, 0x1badb002);
    put32(p + 4, flags);
    put32(p + 8, (uint32_t)-(0x1badb002 + flags));
}

static uint8_t *make_mb_elf(size_t *len)
{
    *len = 0x2000;
    uint8_t *e = calloc(1, *len);
    memcpy(e, "\x7f" "ELF", 4);
    e[4] = 1; e[5] = 1; e[6] = 1;
    put16(e + 16, 2);                         /* ET_EXEC */
    put16(e + 18, 3);                         /* EM_386 */
    put32(e + 20, 1);
    put32(e + 24, 0xc0100010);                /* entry (virtual) */
    put32(e + 28, 52);                        /* phoff */
    put16(e + 40, 52);
    put16(e + 42, 32);
    put16(e + 44, 1);
    uint8_t *ph = e + 52;
    put32(ph, 1);                             /* PT_LOAD */
    put32(ph + 4, 0x1000);                    /* offset */
    put32(ph + 8, 0xc0100000);                /* vaddr */
    put32(ph + 12, 0x100000);                 /* paddr */
    put32(ph + 16, 0x1000);                   /* filesz */
    put32(ph + 20, 0x3000);                   /* memsz: 8 KiB of bss */
    mb_header(e + 0x1000, 0x3);
    for (int i = 12; i < 0x1000; i++)
        e[0x1000 + i] = (uint8_t)i;
    return e;
}

static void test_multiboot_header_search(void **state)
{
    (void)state;
    size_t len;
    uint8_t *e = make_mb_elf(&len);
    MultibootHeader h;
    assert_int_equal(multiboot_find_header(e, len, &h, err, sizeof err), 1);
    assert_int_equal(h.offset, 0x1000);
    assert_false(h.aout_kludge);
    /* Bad checksum: not a Multiboot header at all. */
    e[0x1008] ^= 1;
    assert_int_equal(multiboot_find_header(e, len, &h, err, sizeof err), 0);
    e[0x1008] ^= 1;
    /* Beyond the first 8 KiB it does not count. */
    uint8_t *far = calloc(1, 0x3000);
    mb_header(far + 0x2000, 0);
    assert_int_equal(multiboot_find_header(far, 0x3000, &h, err, sizeof err), 0);
    /* A required feature bit we do not provide. */
    mb_header(far, 0x8);
    assert_int_equal(multiboot_find_header(far, 0x3000, &h, err, sizeof err), -1);
    free(far);
    free(e);
}

static void test_multiboot_elf(void **state)
{
    (void)state;
    size_t len;
    uint8_t *e = make_mb_elf(&len);
    memset(bus.ram + 0x101000, 0xcc, 0x2000);    /* bss must be cleared */
    char m1[64], m2[64];
    tmpfile_with("module-one", 10, m1);
    tmpfile_with("module-two!", 11, m2);
    char mods[200];
    snprintf(mods, sizeof mods, "%s arg1 a,,b,%s", m1, m2);
    assert_int_equal(load_multiboot_mem(&bus, cpu, e, len, "kern.elf", mods,
                                        "hello world", err, sizeof err), 0);
    assert_int_equal(cpu->regs[R_EAX], 0x2badb002);
    assert_int_equal(cpu->eip, 0x100010);        /* entry translated */
    assert_true(cpu->cr0 & CR0_PE);
    assert_memory_equal(bus.ram + 0x100000, e + 0x1000, 0x1000);
    for (int i = 0; i < 0x2000; i++)
        assert_int_equal(bus.ram[0x101000 + i], 0);
    uint32_t mbi = cpu->regs[R_EBX];
    uint32_t flags = rd32(mbi);
    assert_true(flags & 0x1);                   /* mem_lower/upper */
    assert_true(flags & 0x4);                   /* cmdline */
    assert_true(flags & 0x8);                   /* mods */
    assert_true(flags & 0x40);                  /* mmap */
    assert_int_equal(rd32(mbi + 4), 639);
    assert_int_equal(rd32(mbi + 8), (64 << 10) - 1024);
    assert_string_equal((char *)bus.ram + rd32(mbi + 16), "kern.elf hello world");
    assert_int_equal(rd32(mbi + 20), 2);
    uint32_t ma = rd32(mbi + 24);
    uint32_t s0 = rd32(ma), e0 = rd32(ma + 4);
    assert_int_equal(s0 & 0xfff, 0);            /* page aligned (flag 0) */
    assert_true(s0 >= 0x103000);                /* after the kernel's bss */
    assert_int_equal(e0 - s0, 10);
    assert_memory_equal(bus.ram + s0, "module-one", 10);
    char expect[100];
    snprintf(expect, sizeof expect, "%s arg1 a,b", m1);
    assert_string_equal((char *)bus.ram + rd32(ma + 8), expect);
    uint32_t s1 = rd32(ma + 16);
    assert_true(s1 >= e0 && (s1 & 0xfff) == 0);
    assert_memory_equal(bus.ram + s1, "module-two!", 11);
    assert_string_equal((char *)bus.ram + rd32(ma + 24), m2);
    /* mmap entries: size field 20, first one is RAM at 0. */
    uint32_t mm = rd32(mbi + 48), mml = rd32(mbi + 44);
    assert_true(mml >= 24 && mml % 24 == 0);
    assert_int_equal(rd32(mm), 20);
    assert_int_equal(bus_mem_read(&bus, mm + 4, 8), 0);
    assert_int_equal(rd32(mm + 20), 1);
    unlink(m1);
    unlink(m2);
    /* A missing module is one error line. */
    assert_int_equal(load_multiboot_mem(&bus, cpu, e, len, "k", "/nonexistent/m",
                                        "", err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent/m"));
    free(e);
}

static void test_multiboot_aout(void **state)
{
    (void)state;
    /* Header at file offset 0x40, image loaded at 0x200000 from offset 0. */
    uint8_t img[0x400];
    memset(img, 0x90, sizeof img);
    mb_header(img + 0x40, 0x10002);
    put32(img + 0x40 + 12, 0x200040);          /* header_addr */
    put32(img + 0x40 + 16, 0x200000);          /* load_addr */
    put32(img + 0x40 + 20, 0x200400);          /* load_end_addr */
    put32(img + 0x40 + 24, 0x201000);          /* bss_end_addr */
    put32(img + 0x40 + 28, 0x200100);          /* entry */
    memset(bus.ram + 0x200400, 0xcc, 0xc00);
    assert_int_equal(load_multiboot_mem(&bus, cpu, img, sizeof img, "a.out",
                                        NULL, NULL, err, sizeof err), 0);
    assert_int_equal(cpu->eip, 0x200100);
    assert_memory_equal(bus.ram + 0x200000, img, sizeof img);
    assert_int_equal(bus.ram[0x200400], 0);
    assert_int_equal(bus.ram[0x200fff], 0);
    /* load_end_addr past the end of the file: truncated. */
    put32(img + 0x40 + 20, 0x200800);
    assert_int_equal(load_multiboot_mem(&bus, cpu, img, sizeof img, "a.out",
                                        NULL, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "truncated"));
    /* Load address outside RAM. */
    put32(img + 0x40 + 12, 0xf0000040u);
    put32(img + 0x40 + 16, 0xf0000000u);
    put32(img + 0x40 + 20, 0xf0000400u);
    put32(img + 0x40 + 24, 0);
    assert_int_equal(load_multiboot_mem(&bus, cpu, img, sizeof img, "a.out",
                                        NULL, NULL, err, sizeof err), -1);
}

static void test_multiboot_elf_bad_segment(void **state)
{
    (void)state;
    size_t len;
    uint8_t *e = make_mb_elf(&len);
    put32(e + 52 + 16, 0x5000);                /* filesz beyond the file */
    put32(e + 52 + 20, 0x5000);
    assert_int_equal(load_multiboot_mem(&bus, cpu, e, len, "k", NULL, NULL,
                                        err, sizeof err), -1);
    put32(e + 52 + 16, 0x1000);
    put32(e + 52 + 12, 0x7fff000);             /* runs past RAM */
    assert_int_equal(load_multiboot_mem(&bus, cpu, e, len, "k", NULL, NULL,
                                        err, sizeof err), -1);
    put16(e + 44, 0xffff);                     /* phnum past the file */
    assert_int_equal(load_multiboot_mem(&bus, cpu, e, len, "k", NULL, NULL,
                                        err, sizeof err), -1);
    free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bios_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seabios_reset_vector, setup, teardown),
        cmocka_unit_test_setup_teardown(test_linux_header, setup, teardown),
        cmocka_unit_test_setup_teardown(test_linux_bad_images, setup, teardown),
        cmocka_unit_test_setup_teardown(test_linux_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multiboot_header_search, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multiboot_elf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multiboot_aout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multiboot_elf_bad_segment, setup, teardown),
    };
    return cmocka_run_group_tests_name("loader", tests, NULL, NULL);
}
