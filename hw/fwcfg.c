/* QEMU fw_cfg, I/O-port flavour with DMA (see hw/fwcfg.h).
 *
 * Items are immutable byte strings owned here; the guest selects one and
 * reads it sequentially (reads past the end return 0) or has it copied
 * into RAM by a DMA descriptor. Multi-byte values inside items are
 * little-endian except where the interface says big-endian (the file
 * directory and the DMA descriptor). */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include "hw/fwcfg.h"

static void put_be16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put_be32(uint8_t *p, uint32_t v)
{ put_be16(p, (uint16_t)(v >> 16)); put_be16(p + 2, (uint16_t)v); }
static uint32_t get_be32(const uint8_t *p)
{ return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

static FWCfgItem *item_for_key(FWCfg *f, uint16_t key)
{
    key &= (uint16_t)~FW_CFG_WRITE_CHANNEL;
    if (key & FW_CFG_ARCH_LOCAL) {
        uint16_t k = key & 0x3fff;
        return k < FW_CFG_NUM_ARCH ? &f->arch[k] : NULL;
    }
    if (key < FW_CFG_NUM_STD)
        return &f->std[key];
    if (key >= FW_CFG_FILE_FIRST && key - FW_CFG_FILE_FIRST < f->nfiles)
        return &f->files[key - FW_CFG_FILE_FIRST];
    return NULL;
}

static void set_item(FWCfgItem *it, const void *data, size_t len)
{
    free(it->data);
    it->data = NULL;
    it->len = 0;
    if (len) {
        it->data = malloc(len);
        if (!it->data)
            return;
        memcpy(it->data, data, len);
        it->len = (uint32_t)len;
    }
}

void fwcfg_add_bytes(FWCfg *f, uint16_t key, const void *data, size_t len)
{
    FWCfgItem *it = item_for_key(f, key);
    if (it && key != FW_CFG_FILE_DIR && len <= 0xffffffffu)
        set_item(it, data, len);
}

void fwcfg_add_i16(FWCfg *f, uint16_t key, uint16_t v)
{
    uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
    fwcfg_add_bytes(f, key, b, 2);
}

void fwcfg_add_i32(FWCfg *f, uint16_t key, uint32_t v)
{
    uint8_t b[4];
    memcpy(b, &v, 4);                 /* little-endian host */
    fwcfg_add_bytes(f, key, b, 4);
}

void fwcfg_add_i64(FWCfg *f, uint16_t key, uint64_t v)
{
    uint8_t b[8];
    memcpy(b, &v, 8);
    fwcfg_add_bytes(f, key, b, 8);
}

void fwcfg_add_string(FWCfg *f, uint16_t key, const char *s)
{
    fwcfg_add_bytes(f, key, s, strlen(s) + 1);
}

/* Directory: be32 count, then per file be32 size, be16 select, be16
 * reserved, 56-byte NUL-padded name. */
static void rebuild_dir(FWCfg *f)
{
    size_t len = 4 + (size_t)f->nfiles * 64;
    uint8_t *d = calloc(1, len);
    if (!d)
        return;
    put_be32(d, (uint32_t)f->nfiles);
    for (int i = 0; i < f->nfiles; i++) {
        uint8_t *e = d + 4 + i * 64;
        put_be32(e, f->files[i].len);
        put_be16(e + 4, (uint16_t)(FW_CFG_FILE_FIRST + i));
        memcpy(e + 8, f->files[i].name, FW_CFG_NAME_LEN);
    }
    FWCfgItem *it = &f->std[FW_CFG_FILE_DIR];
    free(it->data);
    it->data = d;
    it->len = (uint32_t)len;
}

const FWCfgItem *fwcfg_find_file(const FWCfg *f, const char *name)
{
    for (int i = 0; i < f->nfiles; i++)
        if (strncmp(f->files[i].name, name, FW_CFG_NAME_LEN) == 0)
            return &f->files[i];
    return NULL;
}

int fwcfg_add_file(FWCfg *f, const char *name, const void *data, size_t len)
{
    if (strlen(name) >= FW_CFG_NAME_LEN || len > 0xffffffffu)
        return -1;
    int i;
    for (i = 0; i < f->nfiles; i++)
        if (strcmp(f->files[i].name, name) == 0)
            break;
    if (i == f->nfiles) {
        if (f->nfiles >= FW_CFG_MAX_FILES)
            return -1;
        /* SeaBIOS does not care about order, but keep the directory
         * sorted by name as QEMU does so listings compare equal. */
        for (i = 0; i < f->nfiles && strcmp(f->files[i].name, name) < 0; i++)
            ;
        memmove(&f->files[i + 1], &f->files[i],
                (size_t)(f->nfiles - i) * sizeof f->files[0]);
        memset(&f->files[i], 0, sizeof f->files[0]);
        f->nfiles++;
        snprintf(f->files[i].name, FW_CFG_NAME_LEN, "%s", name);
    }
    set_item(&f->files[i], data, len);
    rebuild_dir(f);
    for (int j = 0; j < f->nfiles; j++)
        if (strcmp(f->files[j].name, name) == 0)
            return FW_CFG_FILE_FIRST + j;
    return -1;
}

static uint8_t read_byte(FWCfg *f)
{
    FWCfgItem *it = item_for_key(f, f->st.cur_key);
    if (!it || f->st.cur_off >= it->len)
        return 0;
    return it->data[f->st.cur_off++];
}

/* One DMA descriptor at guest address a: be32 control, be32 length,
 * be64 address. The control word is written back as 0 on success or with
 * the error bit. */
/* Zero-filling past an item's end is capped so a descriptor with a huge
 * length cannot keep the machine busy for minutes. */
#define DMA_ZERO_MAX (64u << 20)

static void dma_zero(FWCfg *f, uint64_t addr, uint32_t from, uint32_t len)
{
    static const uint8_t zero[256];
    if (len > DMA_ZERO_MAX)
        len = DMA_ZERO_MAX;
    for (uint32_t done = from; done < len;) {
        uint32_t n = len - done < sizeof zero ? len - done : sizeof zero;
        bus_mem_rw(f->bus, addr + done, (void *)(uintptr_t)zero, n, true);
        done += n;
    }
}

static void dma_run(FWCfg *f, uint64_t a)
{
    uint8_t desc[16];
    bus_mem_rw(f->bus, a, desc, sizeof desc, false);
    uint32_t control = get_be32(desc);
    uint32_t len = get_be32(desc + 4);
    uint64_t addr = (uint64_t)get_be32(desc + 8) << 32 | get_be32(desc + 12);
    bool error = false;

    if (control & FW_CFG_DMA_SELECT) {
        f->st.cur_key = (uint16_t)(control >> 16);
        f->st.cur_off = 0;
    }
    if (control & (FW_CFG_DMA_READ | FW_CFG_DMA_SKIP | FW_CFG_DMA_WRITE)) {
        FWCfgItem *it = item_for_key(f, f->st.cur_key);
        if (control & FW_CFG_DMA_WRITE) {
            /* No item is guest-writable. */
            error = true;
        } else if (!it) {
            /* Reading an absent item yields zeros, like the data port. */
            if (control & FW_CFG_DMA_READ)
                dma_zero(f, addr, 0, len);
        } else {
            uint32_t avail = f->st.cur_off < it->len ? it->len - f->st.cur_off : 0;
            uint32_t n = len < avail ? len : avail;
            if (control & FW_CFG_DMA_READ) {
                if (n)
                    bus_mem_rw(f->bus, addr, it->data + f->st.cur_off, n, true);
                dma_zero(f, addr, n, len);
            }
            f->st.cur_off += n;
        }
    }
    uint8_t out[4];
    put_be32(out, error ? FW_CFG_DMA_ERROR : 0);
    bus_mem_rw(f->bus, a, out, 4, true);
}

static uint32_t bswap32(uint32_t v)
{
    return v >> 24 | ((v >> 8) & 0xff00) | ((v << 8) & 0xff0000) | v << 24;
}

uint32_t fwcfg_io_read(void *opaque, uint16_t port, int size)
{
    FWCfg *f = opaque;
    if (port == FW_CFG_PORT_DATA) {
        uint32_t v = 0;
        for (int i = 0; i < size; i++)
            v |= (uint32_t)read_byte(f) << (8 * i);
        return v;
    }
    if (port >= FW_CFG_PORT_DMA && port < FW_CFG_PORT_DMA + 8) {
        /* The register reads as the big-endian signature "QEMU CFG". */
        uint8_t sig[8];
        for (int i = 0; i < 8; i++)
            sig[i] = (uint8_t)(FW_CFG_DMA_SIGNATURE >> (56 - 8 * i));
        int off = port - FW_CFG_PORT_DMA;
        uint32_t v = 0;
        for (int i = 0; i < size && off + i < 8; i++)
            v |= (uint32_t)sig[off + i] << (8 * i);
        return v;
    }
    if (port == FW_CFG_PORT_SEL && size == 2)
        return f->st.cur_key;
    return size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

void fwcfg_io_write(void *opaque, uint16_t port, uint32_t val, int size)
{
    FWCfg *f = opaque;
    if (port == FW_CFG_PORT_SEL) {
        f->st.cur_key = (uint16_t)val;
        f->st.cur_off = 0;
        return;
    }
    if (port == FW_CFG_PORT_DMA && size == 4) {
        /* High half of the big-endian address: the guest stored its
         * bytes most significant first, which the port sees swapped. */
        f->st.dma_addr = (uint64_t)bswap32(val) << 32;
        return;
    }
    if (port == FW_CFG_PORT_DMA + 4 && size == 4) {
        uint64_t a = f->st.dma_addr | bswap32(val);
        f->st.dma_addr = 0;
        dma_run(f, a);
        return;
    }
    /* Writes to the data port are ignored (no writable items). */
}

static void fwcfg_reset(void *opaque)
{
    FWCfg *f = opaque;
    memset(&f->st, 0, sizeof f->st);
}

FWCfg *fwcfg_init(Bus *b)
{
    FWCfg *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->bus = b;
    bus_pio_register(b, FW_CFG_PORT_SEL, 2, fwcfg_io_read, fwcfg_io_write, f,
                     "fw_cfg");
    bus_pio_register(b, FW_CFG_PORT_DMA, 8, fwcfg_io_read, fwcfg_io_write, f,
                     "fw_cfg-dma");
    fwcfg_add_bytes(f, FW_CFG_SIGNATURE, "QEMU", 4);
    fwcfg_add_i32(f, FW_CFG_ID, FW_CFG_ID_TRADITIONAL | FW_CFG_ID_DMA);
    rebuild_dir(f);
    f->dev.name = "fw_cfg";
    f->dev.opaque = f;
    f->dev.reset = fwcfg_reset;
    f->dev.state = &f->st;
    f->dev.state_size = sizeof f->st;
    bus_add_device(b, &f->dev);
    return f;
}

void fwcfg_free(FWCfg *f)
{
    if (!f)
        return;
    for (int i = 0; i < FW_CFG_NUM_STD; i++)
        free(f->std[i].data);
    for (int i = 0; i < FW_CFG_NUM_ARCH; i++)
        free(f->arch[i].data);
    for (int i = 0; i < f->nfiles; i++)
        free(f->files[i].data);
    free(f);
}

int fwcfg_cmos_boot_order(const char *order, uint8_t *reg3d, uint8_t *reg38)
{
    uint8_t dev[3] = {0, 0, 0};
    int n = 0;
    if (!order || !*order)
        order = "cd";
    for (const char *p = order; *p; p++) {
        uint8_t code;
        switch (*p) {
        case 'a': case 'b': code = 1; break;
        case 'c': code = 2; break;
        case 'd': code = 3; break;
        case 'n': code = 4; break;
        default: return -1;
        }
        if (n >= 3)
            return -1;
        dev[n++] = code;
    }
    *reg3d = (uint8_t)(dev[1] << 4 | dev[0]);
    *reg38 = (uint8_t)(dev[2] << 4);
    return 0;
}

void fwcfg_setup_pc(FWCfg *f, int ncpus, const char *boot_order)
{
    Bus *b = f->bus;
    uint8_t uuid[16] = {0};
    (void)boot_order;
    fwcfg_add_i64(f, FW_CFG_RAM_SIZE, b->ram_size);
    fwcfg_add_i16(f, FW_CFG_NB_CPUS, (uint16_t)ncpus);
    fwcfg_add_i16(f, FW_CFG_MAX_CPUS, (uint16_t)ncpus);
    fwcfg_add_i16(f, FW_CFG_NOGRAPHIC, 0);
    fwcfg_add_i16(f, FW_CFG_BOOT_MENU, 0);
    fwcfg_add_bytes(f, FW_CFG_UUID, uuid, sizeof uuid);
    fwcfg_add_i32(f, FW_CFG_IRQ0_OVERRIDE, 1);

    /* etc/e820 lists RAM only (the firmware adds its own reservations):
     * le64 address, le64 length, le32 type per entry. */
    uint8_t e820[2 * 20];
    size_t n = 0;
    uint64_t rows[2][2] = {
        { 0, b->ram_below_4g },
        { 0x100000000ull, b->ram_size - b->ram_below_4g },
    };
    for (int i = 0; i < 2; i++) {
        if (!rows[i][1])
            continue;
        uint32_t type = 1;
        memcpy(e820 + n, &rows[i][0], 8);
        memcpy(e820 + n + 8, &rows[i][1], 8);
        memcpy(e820 + n + 16, &type, 4);
        n += 20;
    }
    fwcfg_add_file(f, "etc/e820", e820, n);
}
