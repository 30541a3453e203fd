/* PIIX3 IDE at the register level: IDENTIFY contents (ATA-6 layout and
 * checksum), PIO reads and writes checked against the host file, LBA48,
 * bus-master DMA through a PRD table in guest RAM, error reporting for
 * out-of-range requests, FLUSH CACHE, soft reset signatures, and ATAPI
 * packets (INQUIRY, READ CAPACITY, READ(10) under a byte-count limit,
 * REQUEST SENSE after an error). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "hw/ide.h"
#include "hw/pci.h"

#define DISK_SECTORS 2048            /* 1 MiB */
#define CD_BLOCKS 16
#define BM_BASE 0xc000

static Bus bus;
static PCIBus *pci;
static IDEController *ide;
static int irq[24];
static char disk_path[64], cd_path[64];

static void irq_sink(void *o, int gsi, int level)
{
    (void)o;
    if (gsi >= 0 && gsi < 24)
        irq[gsi] = level;
}

static uint8_t sector_byte(uint64_t lba, int i)
{
    return (uint8_t)(lba * 7 + (unsigned)i * 13 + (lba >> 8));
}

static void make_file(char *path, const char *tmpl, size_t blocks,
                      size_t bsize)
{
    strcpy(path, tmpl);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    uint8_t *b = malloc(bsize);
    for (size_t s = 0; s < blocks; s++) {
        for (size_t i = 0; i < bsize; i++)
            b[i] = sector_byte(s * (bsize / 512) + i / 512, (int)(i % 512));
        assert_int_equal(write(fd, b, bsize), (ssize_t)bsize);
    }
    free(b);
    close(fd);
}

static int setup(void **state)
{
    char err[128];
    (void)state;
    bus_init(&bus, 16 << 20);
    bus.irq_sink = irq_sink;
    pci = pci_init(&bus);
    PCIDevice *pd = pci_add_device(pci, PCI_DEVFN(1, 1), 0x8086, 0x7010,
                                   0x01018000, "ide");
    ide = ide_init(&bus, pd);
    make_file(disk_path, "/tmp/kestrel-ide-disk-XXXXXX", DISK_SECTORS, 512);
    make_file(cd_path, "/tmp/kestrel-ide-cd-XXXXXX", CD_BLOCKS, 2048);
    ide_attach(ide, 0, bdrv_open(disk_path, "raw", 0, err, sizeof(err)),
               false);
    ide_attach(ide, 2, bdrv_open(cd_path, "raw", BDRV_O_RDONLY, err,
                                 sizeof(err)), true);
    pci_config_write(pci, PCI_DEVFN(1, 1), 0x20, BM_BASE, 4);
    pci_config_write(pci, PCI_DEVFN(1, 1), PCI_COMMAND,
                     PCI_COMMAND_IO | PCI_COMMAND_MASTER, 2);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ide_free(ide);
    pci_free(pci);
    bus_free(&bus);
    unlink(disk_path);
    unlink(cd_path);
    return 0;
}

static uint8_t inb(uint16_t p) { return (uint8_t)bus_pio_read(&bus, p, 1); }
static uint16_t inw(uint16_t p) { return (uint16_t)bus_pio_read(&bus, p, 2); }
static void outb(uint16_t p, uint8_t v) { bus_pio_write(&bus, p, v, 1); }
static void outw(uint16_t p, uint16_t v) { bus_pio_write(&bus, p, v, 2); }

static void lba28(uint16_t base, uint32_t lba, uint8_t count)
{
    outb(base + 6, (uint8_t)(0xe0 | (lba >> 24)));
    outb(base + 2, count);
    outb(base + 3, (uint8_t)lba);
    outb(base + 4, (uint8_t)(lba >> 8));
    outb(base + 5, (uint8_t)(lba >> 16));
}

static void read_words(uint16_t base, uint8_t *buf, int words)
{
    for (int i = 0; i < words; i++) {
        uint16_t w = inw(base);
        buf[2 * i] = (uint8_t)w;
        buf[2 * i + 1] = (uint8_t)(w >> 8);
    }
}

static void check_sectors(const uint8_t *buf, uint64_t lba, int n)
{
    for (int s = 0; s < n; s++)
        for (int i = 0; i < 512; i++)
            if (buf[s * 512 + i] != sector_byte(lba + (uint64_t)s, i))
                fail_msg("sector %llu byte %d differs",
                         (unsigned long long)(lba + (uint64_t)s), i);
}

static void test_identify(void **state)
{
    uint8_t id[512];
    (void)state;
    outb(0x1f6, 0xa0);
    outb(0x1f7, 0xec);
    assert_int_equal(inb(0x3f6), 0x58);            /* DRDY DSC DRQ */
    assert_int_equal(irq[14], 1);
    assert_int_equal(inb(0x1f7), 0x58);
    assert_int_equal(irq[14], 0);                  /* status read acks */
    read_words(0x1f0, id, 256);
    assert_int_equal(inb(0x1f7), 0x50);
    assert_int_equal(id[0] | id[1] << 8, 0x0040);
    char model[41];
    for (int i = 0; i < 40; i++)
        model[i] = (char)id[54 + (i ^ 1)];
    model[40] = 0;
    assert_string_equal(model, "KESTREL HARDDISK                        ");
    assert_int_equal(id[120] | id[121] << 8 | id[122] << 16, DISK_SECTORS);
    assert_int_equal(id[200] | id[201] << 8, DISK_SECTORS);  /* word 100 */
    assert_true((id[166] | id[167] << 8) & (1 << 10));      /* LBA48 */
    assert_int_equal(id[176], 0x3f);                        /* UDMA 0-5 */
    assert_int_equal(id[126], 0x07);                        /* MWDMA 0-2 */
    uint8_t sum = 0;
    for (int i = 0; i < 512; i++)
        sum = (uint8_t)(sum + id[i]);
    assert_int_equal(id[510], 0xa5);
    assert_int_equal(sum, 0);
}

static void test_pio_read_write_flush(void **state)
{
    uint8_t buf[1024];
    (void)state;
    lba28(0x1f0, 100, 2);
    outb(0x1f7, 0x20);
    assert_int_equal(inb(0x1f7) & 0x89, 0x08);
    read_words(0x1f0, buf, 256);
    assert_int_equal(inb(0x1f7) & 0x89, 0x08);     /* second block ready */
    read_words(0x1f0, buf + 512, 256);
    assert_int_equal(inb(0x1f7), 0x50);
    check_sectors(buf, 100, 2);

    /* WRITE SECTORS, then FLUSH CACHE; a fresh read of the host file
     * must show the data. */
    for (int i = 0; i < 512; i++)
        buf[i] = (uint8_t)(0xff - i);
    lba28(0x1f0, 300, 1);
    outb(0x1f7, 0x30);
    assert_int_equal(inb(0x1f7) & 0x89, 0x08);
    for (int i = 0; i < 256; i++)
        outw(0x1f0, (uint16_t)(buf[2 * i] | buf[2 * i + 1] << 8));
    assert_int_equal(inb(0x1f7), 0x50);
    outb(0x1f7, 0xe7);
    assert_int_equal(inb(0x1f7), 0x50);
    uint8_t fresh[512];
    int fd = open(disk_path, O_RDONLY);
    assert_int_equal(pread(fd, fresh, 512, 300 * 512), 512);
    close(fd);
    assert_memory_equal(fresh, buf, 512);

    /* READ MULTIPLE after SET MULTIPLE MODE 4: one DRQ block of 4. */
    outb(0x1f2, 4);
    outb(0x1f7, 0xc6);
    assert_int_equal(inb(0x1f7), 0x50);
    uint8_t mb[2048];
    lba28(0x1f0, 8, 4);
    outb(0x1f7, 0xc4);
    read_words(0x1f0, mb, 1024);
    assert_int_equal(inb(0x1f7), 0x50);
    check_sectors(mb, 8, 4);
}

static void test_lba48_and_errors(void **state)
{
    uint8_t buf[512];
    (void)state;
    /* READ SECTORS EXT of LBA 1000, count 1: high bytes first. */
    outb(0x1f6, 0x40);
    outb(0x1f2, 0); outb(0x1f2, 1);
    outb(0x1f3, 0); outb(0x1f3, 1000 & 0xff);
    outb(0x1f4, 0); outb(0x1f4, 1000 >> 8);
    outb(0x1f5, 0); outb(0x1f5, 0);
    outb(0x1f7, 0x24);
    assert_int_equal(inb(0x1f7) & 0x89, 0x08);
    read_words(0x1f0, buf, 256);
    check_sectors(buf, 1000, 1);
    /* An LBA48 address past the end: IDNF with ERR, no data phase. */
    outb(0x1f2, 0); outb(0x1f2, 1);
    outb(0x1f3, 1); outb(0x1f3, 0);
    outb(0x1f4, 0); outb(0x1f4, 0);
    outb(0x1f5, 0); outb(0x1f5, 0);
    outb(0x1f7, 0x24);
    assert_int_equal(inb(0x1f7), 0x41);
    assert_true(inb(0x1f1) & 0x10);
    /* LBA28 straddling the end. */
    lba28(0x1f0, DISK_SECTORS - 1, 2);
    outb(0x1f7, 0x20);
    assert_int_equal(inb(0x1f7), 0x41);
    assert_true(inb(0x1f1) & 0x10);
    /* An unknown command aborts. */
    outb(0x1f7, 0xff);
    assert_int_equal(inb(0x1f7), 0x41);
    assert_int_equal(inb(0x1f1), 0x04);
    /* READ MULTIPLE with multiple mode off aborts. */
    outb(0x1f2, 0);
    outb(0x1f7, 0xc6);
    lba28(0x1f0, 0, 1);
    outb(0x1f7, 0xc4);
    assert_int_equal(inb(0x1f1), 0x04);
}

static void test_dma(void **state)
{
    (void)state;
    /* PRD table at 0x1000: 1024 bytes to 0x20000, 512 to 0x30000 (EOT). */
    uint8_t prd[16] = { 0x00, 0x00, 0x02, 0x00, 0x00, 0x04, 0, 0,
                        0x00, 0x00, 0x03, 0x00, 0x00, 0x02, 0, 0x80 };
    bus_mem_rw(&bus, 0x1000, prd, 16, true);
    bus_pio_write(&bus, BM_BASE + 4, 0x1000, 4);
    lba28(0x1f0, 40, 3);
    outb(0x1f7, 0xc8);                              /* READ DMA */
    outb(BM_BASE, 0x09);                            /* start, to memory */
    assert_int_equal(irq[14], 1);
    assert_int_equal(inb(BM_BASE + 2) & 7, 0x04);   /* INTR, not active */
    assert_int_equal(inb(0x1f7), 0x50);
    outb(BM_BASE, 0);
    outb(BM_BASE + 2, 0x04);                        /* clear INTR */
    assert_int_equal(inb(BM_BASE + 2) & 7, 0);
    uint8_t got[1536];
    bus_mem_rw(&bus, 0x20000, got, 1024, false);
    bus_mem_rw(&bus, 0x30000, got + 1024, 512, false);
    check_sectors(got, 40, 3);

    /* WRITE DMA of two sectors from 0x20000 to LBA 500, then a check
     * in the host file. */
    uint8_t prd2[8] = { 0x00, 0x00, 0x02, 0x00, 0x00, 0x04, 0, 0x80 };
    bus_mem_rw(&bus, 0x1000, prd2, 8, true);
    lba28(0x1f0, 500, 2);
    outb(0x1f7, 0xca);
    outb(BM_BASE, 0x01);
    assert_int_equal(inb(0x1f7), 0x50);
    outb(BM_BASE, 0);
    uint8_t fresh[1024];
    int fd = open(disk_path, O_RDONLY);
    assert_int_equal(pread(fd, fresh, 1024, 500 * 512), 1024);
    close(fd);
    check_sectors(fresh, 40, 2);

    /* A PRD table shorter than the transfer: error, not a crash; PRD
     * entries pointing outside RAM are harmless. */
    uint8_t prd3[8] = { 0x00, 0xf0, 0xff, 0xff, 0x00, 0x02, 0, 0x80 };
    bus_mem_rw(&bus, 0x1000, prd3, 8, true);
    lba28(0x1f0, 0, 4);
    outb(0x1f7, 0xc8);
    outb(BM_BASE, 0x09);
    assert_true(inb(BM_BASE + 2) & 0x02);
    assert_int_equal(inb(0x1f7) & 1, 1);
    outb(BM_BASE, 0);
    outb(BM_BASE + 2, 0x06);
}

static void test_soft_reset_signature(void **state)
{
    (void)state;
    outb(0x3f6, 0x04);
    assert_int_equal(inb(0x3f6) & 0x80, 0x80);
    outb(0x3f6, 0x00);
    assert_int_equal(inb(0x1f7), 0x50);
    assert_int_equal(inb(0x1f2), 1);
    assert_int_equal(inb(0x1f3), 1);
    assert_int_equal(inb(0x1f4), 0);
    assert_int_equal(inb(0x1f5), 0);
    assert_int_equal(inb(0x1f1), 1);
    /* nIEN masks the line. */
    outb(0x3f6, 0x02);
    outb(0x1f7, 0xe7);
    assert_int_equal(irq[14], 0);
    outb(0x3f6, 0x00);
    assert_int_equal(irq[14], 1);
    inb(0x1f7);
    /* The CD-ROM on the secondary channel shows the ATAPI signature
     * and aborts IDENTIFY DEVICE. */
    outb(0x176, 0xa0);
    outb(0x177, 0xec);
    assert_int_equal(inb(0x177) & 1, 1);
    assert_int_equal(inb(0x174), 0x14);
    assert_int_equal(inb(0x175), 0xeb);
}

/* Sends a 12-byte packet with the given byte-count limit. */
static void packet(const uint8_t *cdb, uint16_t limit)
{
    outb(0x176, 0xa0);
    outb(0x171, 0);
    outb(0x174, (uint8_t)limit);
    outb(0x175, (uint8_t)(limit >> 8));
    outb(0x177, 0xa0);
    assert_int_equal(inb(0x177) & 0x89, 0x08);
    assert_int_equal(inb(0x172) & 3, 1);            /* CoD: wants packet */
    for (int i = 0; i < 6; i++)
        outw(0x170, (uint16_t)(cdb[2 * i] | cdb[2 * i + 1] << 8));
}

/* Reads one DRQ block, returns its byte count. */
static int data_block(uint8_t *buf)
{
    assert_int_equal(inb(0x177) & 0x89, 0x08);
    assert_int_equal(inb(0x172) & 3, 2);            /* IO, data */
    int n = inb(0x174) | inb(0x175) << 8;
    read_words(0x170, buf, n / 2);
    return n;
}

static void expect_done(bool error)
{
    assert_int_equal(inb(0x172) & 3, 3);
    assert_int_equal(inb(0x177) & 0x89, error ? 0x01 : 0x00);
}

static void test_atapi(void **state)
{
    uint8_t buf[8192];
    (void)state;
    uint8_t inquiry[12] = { 0x12, 0, 0, 0, 36, 0 };
    packet(inquiry, 0x100);
    assert_int_equal(data_block(buf), 36);
    expect_done(false);
    assert_int_equal(buf[0], 0x05);
    assert_int_equal(buf[1], 0x80);
    assert_memory_equal(buf + 8, "KESTREL ", 8);

    uint8_t cap[12] = { 0x25 };
    packet(cap, 0x100);
    assert_int_equal(data_block(buf), 8);
    expect_done(false);
    assert_int_equal(buf[3], CD_BLOCKS - 1);
    assert_int_equal(buf[6] << 8 | buf[7], 2048);

    /* READ(10) of blocks 3-5 with a 2048-byte limit: three blocks. */
    uint8_t rd[12] = { 0x28, 0, 0, 0, 0, 3, 0, 0, 3 };
    packet(rd, 2048);
    for (int i = 0; i < 3; i++)
        assert_int_equal(data_block(buf + i * 2048), 2048);
    expect_done(false);
    check_sectors(buf, 3 * 4, 12);
    /* An odd limit is rounded down to even. */
    packet(rd, 1001);
    int got = 0;
    while (got < 3 * 2048) {
        int n = data_block(buf + got);
        assert_true(n <= 1000 && n > 0);
        got += n;
    }
    expect_done(false);
    check_sectors(buf, 3 * 4, 12);

    /* Past the end: CHECK CONDITION, then REQUEST SENSE says why. */
    uint8_t bad[12] = { 0x28, 0, 0, 0, 0, CD_BLOCKS - 1, 0, 0, 2 };
    packet(bad, 2048);
    expect_done(true);
    assert_int_equal(inb(0x171) >> 4, 0x05);
    uint8_t rs[12] = { 0x03, 0, 0, 0, 18 };
    packet(rs, 0x100);
    assert_int_equal(data_block(buf), 18);
    expect_done(false);
    assert_int_equal(buf[0], 0x70);
    assert_int_equal(buf[2], 0x05);                 /* ILLEGAL REQUEST */
    assert_int_equal(buf[12], 0x21);                /* LBA out of range */

    /* READ TOC format 0: track 1 at 0, lead-out at the size. */
    uint8_t toc[12] = { 0x43, 0, 0, 0, 0, 0, 0, 0, 100 };
    packet(toc, 0x100);
    assert_int_equal(data_block(buf), 20);
    expect_done(false);
    assert_int_equal(buf[3], 1);
    assert_int_equal(buf[14], 0xaa);
    assert_int_equal(buf[19], CD_BLOCKS);

    /* An unknown opcode: ILLEGAL REQUEST / invalid command. */
    uint8_t unk[12] = { 0xee };
    packet(unk, 0x100);
    expect_done(true);
    packet(rs, 0x100);
    data_block(buf);
    assert_int_equal(buf[12], 0x20);

    /* READ(10) by DMA through the bus master. */
    uint8_t prd[8] = { 0x00, 0x00, 0x04, 0x00, 0x00, 0x08, 0, 0x80 };
    bus_mem_rw(&bus, 0x1000, prd, 8, true);
    bus_pio_write(&bus, BM_BASE + 8 + 4, 0x1000, 4);
    uint8_t rd1[12] = { 0x28, 0, 0, 0, 0, 7, 0, 0, 1 };
    outb(0x176, 0xa0);
    outb(0x171, 1);                                 /* DMA */
    outb(0x177, 0xa0);
    for (int i = 0; i < 6; i++)
        outw(0x170, (uint16_t)(rd1[2 * i] | rd1[2 * i + 1] << 8));
    outb(BM_BASE + 8, 0x09);
    expect_done(false);
    assert_true(inb(BM_BASE + 8 + 2) & 0x04);
    outb(BM_BASE + 8, 0);
    bus_mem_rw(&bus, 0x40000, buf, 2048, false);
    check_sectors(buf, 7 * 4, 4);
}

/* Random register traffic (commands, counts, LBAs, PRD tables, byte
 * limits) must never crash or touch memory outside the guest; run under
 * ASan/UBSan by the sanitizer build. Runs last: it scribbles on the
 * disk file. */
static void test_random_io(void **state)
{
    static const uint16_t ports[] = {
        0x1f0, 0x1f1, 0x1f2, 0x1f3, 0x1f4, 0x1f5, 0x1f6, 0x1f7, 0x3f6,
        0x170, 0x171, 0x172, 0x173, 0x174, 0x175, 0x176, 0x177, 0x376,
        BM_BASE, BM_BASE + 2, BM_BASE + 4, BM_BASE + 8, BM_BASE + 10,
        BM_BASE + 12,
    };
    static const uint8_t cmds[] = {
        0x20, 0x24, 0x29, 0x30, 0x34, 0x39, 0xc4, 0xc5, 0xc6, 0xc8, 0xca,
        0x25, 0x35, 0xe7, 0xea, 0xec, 0xa1, 0xa0, 0xef, 0x91, 0x90, 0x08,
        0xe5, 0x40, 0x42, 0x70,
    };
    static const uint8_t ops[] = {
        0x00, 0x03, 0x12, 0x25, 0x28, 0xa8, 0x43, 0x5a, 0x46, 0x4a, 0x1b,
        0x1e, 0xbb, 0x55,
    };
    uint32_t x = 2463534242u;
    (void)state;
    for (int i = 0; i < 300000; i++) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        uint16_t p = ports[x % (sizeof(ports) / sizeof(ports[0]))];
        uint32_t v = x >> 8;
        switch ((x >> 28) & 7) {
        case 0:
            bus_pio_read(&bus, p, 1 + (int)(v & 1));
            break;
        case 1:                                 /* a plausible command */
            outb((p & 0xff00) | 0x07 | (p & 0x80 ? 0x70 : 0xf0),
                 cmds[v % sizeof(cmds)]);
            break;
        case 2: {                               /* a packet */
            uint16_t base = 0x170;
            outb(base + 7, 0xa0);
            for (int j = 0; j < 6; j++) {
                x ^= x << 13; x ^= x >> 17; x ^= x << 5;
                outw(base, (uint16_t)(j ? x : ops[x % sizeof(ops)]));
            }
            break;
        }
        case 3: {                               /* a random PRD entry */
            uint32_t e[2] = { x * 2654435761u, (v & 0x8000ffffu) };
            bus_mem_rw(&bus, 0x1000, e, 8, true);
            bus_pio_write(&bus, BM_BASE + 4, 0x1000, 4);
            bus_pio_write(&bus, BM_BASE + 12, 0x1000, 4);
            break;
        }
        case 4:                                 /* drain data */
            for (int j = 0; j < 64; j++)
                inw(p < 0x1f0 ? 0x170 : 0x1f0);
            break;
        default:
            bus_pio_write(&bus, p, v & 0xff, 1);
            break;
        }
    }
    /* Still a working disk afterwards. */
    outb(0x3f6, 0x04);
    outb(0x3f6, 0x00);
    outb(BM_BASE, 0);
    outb(0x1f6, 0xa0);
    outb(0x1f7, 0xec);
    assert_int_equal(inb(0x1f7), 0x58);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identify),
        cmocka_unit_test(test_pio_read_write_flush),
        cmocka_unit_test(test_lba48_and_errors),
        cmocka_unit_test(test_dma),
        cmocka_unit_test(test_soft_reset_signature),
        cmocka_unit_test(test_atapi),
        cmocka_unit_test(test_random_io),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
