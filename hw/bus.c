/* The system bus: physical memory map, port and MMIO dispatch, IRQ lines,
 * board requests and the device list. See hw/bus.h for the memory map. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "hw/bus.h"
#include "debug/trace.h"

#define PAGE_SIZE_4K 4096ULL
#define GiB4 0x100000000ULL
#define LEGACY_HOLE_START 0xA0000ULL
#define SHADOW_START 0xC0000ULL
#define ONE_MIB 0x100000ULL
/* i440FX boards keep RAM below 3.5 GiB so the PCI hole and the BIOS fit. */
#define MAX_RAM_BELOW_4G 0xE0000000ULL

static uint8_t *ram_alloc(uint64_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        fprintf(stderr, "kestrel: cannot allocate %llu MiB of guest RAM\n",
                (unsigned long long)(size >> 20));
        exit(1);
    }
    return p;
}

void bus_init(Bus *b, uint64_t ram_size)
{
    memset(b, 0, sizeof(*b));
    /* The legacy area below 1 MiB is addressed as plain offsets into the
     * RAM mapping, so the mapping is never smaller than that. */
    uint64_t host_size = ram_size < ONE_MIB ? ONE_MIB : ram_size;
    host_size = (host_size + PAGE_SIZE_4K - 1) & ~(PAGE_SIZE_4K - 1);
    b->ram = ram_alloc(host_size);
    b->ram_size = ram_size;
    b->ram_below_4g = ram_size > MAX_RAM_BELOW_4G ? MAX_RAM_BELOW_4G : ram_size;
    b->a20_mask = 0xFFFFFFFFu;
    uint64_t top = b->ram_size > b->ram_below_4g
                   ? GiB4 + (b->ram_size - b->ram_below_4g)
                   : (b->ram_below_4g < ONE_MIB ? ONE_MIB : b->ram_below_4g);
    b->code_npages = (top + PAGE_SIZE_4K - 1) >> 12;
    b->code_bitmap = calloc((b->code_npages + 7) / 8, 1);
    if (!b->code_bitmap) {
        fprintf(stderr, "kestrel: out of memory\n");
        exit(1);
    }
}

void bus_free(Bus *b)
{
    if (b->ram) {
        uint64_t host_size = b->ram_size < ONE_MIB ? ONE_MIB : b->ram_size;
        host_size = (host_size + PAGE_SIZE_4K - 1) & ~(PAGE_SIZE_4K - 1);
        munmap(b->ram, host_size);
        b->ram = NULL;
    }
    free(b->code_bitmap);
    b->code_bitmap = NULL;
    b->code_npages = 0;
}

/* ---------------- port I/O ---------------- */

static void unimp_log(Bus *b, uint16_t port, bool write, uint32_t val,
                      int size)
{
    if (!b->log_unimp || (b->unimp_logged[port >> 3] & (1u << (port & 7))))
        return;
    b->unimp_logged[port >> 3] |= 1u << (port & 7);
    /* Through the -d log, so -D puts it in the log file as QEMU does. */
    if (write)
        kestrel_log("unimp: out%c port 0x%04x <- 0x%x\n",
                    size == 1 ? 'b' : size == 2 ? 'w' : 'l', port, val);
    else
        kestrel_log("unimp: in%c port 0x%04x\n",
                    size == 1 ? 'b' : size == 2 ? 'w' : 'l', port);
}

static bool pio_live(const struct PioEntry *e)
{
    return e->name || e->read || e->write;
}

/* Points each port of [base, end) at the latest live registration that
 * covers it (0 when none does). */
static void pio_remap(Bus *b, uint32_t base, uint32_t end)
{
    for (uint32_t p = base; p < end; p++) {
        int best = -1;
        for (int i = 0; i < b->npio; i++) {
            const struct PioEntry *e = &b->pio[i];
            if (pio_live(e) && p >= e->base && p < (uint32_t)e->base + e->len &&
                (best < 0 || e->seq > b->pio[best].seq))
                best = i;
        }
        b->pio_map[p] = (uint8_t)(best + 1);
    }
}

void bus_pio_register(Bus *b, uint16_t base, uint16_t len, PioRead *r,
                      PioWrite *w, void *opaque, const char *name)
{
    if (len == 0)
        return;
    uint32_t end = (uint32_t)base + len;
    if (end > 65536)
        end = 65536;
    /* pio_map holds index + 1 in a byte: at most 255 live entries. A
     * device registering the same range again replaces its entry, so
     * re-registration at reset does not use up slots. */
    int max = BUS_MAX_PIO < 255 ? BUS_MAX_PIO : 255;
    int idx = -1, free_idx = -1;
    for (int i = 0; i < b->npio; i++) {
        struct PioEntry *e = &b->pio[i];
        if (!pio_live(e)) {
            if (free_idx < 0)
                free_idx = i;
        } else if (e->base == base && e->len == end - base &&
                   e->opaque == opaque) {
            idx = i;
        }
    }
    if (idx < 0)
        idx = free_idx;
    if (idx < 0) {
        if (b->npio >= max) {
            fprintf(stderr, "kestrel: too many port I/O regions (%s)\n",
                    name ? name : "?");
            abort();
        }
        idx = b->npio++;
    }
    struct PioEntry *e = &b->pio[idx];
    e->base = base;
    e->len = (uint16_t)(end - base);
    e->read = r;
    e->write = w;
    e->opaque = opaque;
    e->name = name ? name : "?";
    e->seq = ++b->pio_seq;
    for (uint32_t p = base; p < end; p++)
        b->pio_map[p] = (uint8_t)(idx + 1);
}

void bus_pio_unregister(Bus *b, uint16_t base, uint16_t len)
{
    uint32_t end = (uint32_t)base + len;
    if (end > 65536)
        end = 65536;
    /* Drop the latest registration of exactly this range; whatever it hid
     * decodes again. */
    int idx = -1;
    for (int i = 0; i < b->npio; i++) {
        const struct PioEntry *e = &b->pio[i];
        if (pio_live(e) && e->base == base && e->len == end - base &&
            (idx < 0 || e->seq > b->pio[idx].seq))
            idx = i;
    }
    if (idx >= 0) {
        memset(&b->pio[idx], 0, sizeof b->pio[idx]);
    } else {
        /* No such registration: cut the range out of whatever covers it
         * (entries left with no port are freed). */
        for (int i = 0; i < b->npio; i++) {
            struct PioEntry *e = &b->pio[i];
            if (pio_live(e) && e->base >= base &&
                (uint32_t)e->base + e->len <= end)
                memset(e, 0, sizeof *e);
        }
        for (uint32_t p = base; p < end; p++)
            b->pio_map[p] = 0;
        return;
    }
    pio_remap(b, base, end);
}

static uint32_t size_mask(int size)
{
    return size >= 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
}

/* True when every byte of the access lands on one handler; otherwise the
 * access is split into bytes, as the ISA bus would do. */
static bool pio_one_entry(Bus *b, uint16_t port, int size)
{
    uint8_t e = b->pio_map[port];
    for (int i = 1; i < size; i++)
        if ((uint32_t)port + i > 0xFFFF || b->pio_map[port + i] != e)
            return false;
    return true;
}

uint32_t bus_pio_read(Bus *b, uint16_t port, int size)
{
    if (size != 1 && size != 2 && size != 4)
        size = 1;
    if (size > 1 && !pio_one_entry(b, port, size)) {
        uint32_t v = 0;
        for (int i = 0; i < size; i++)
            v |= bus_pio_read(b, (uint16_t)(port + i), 1) << (8 * i);
        return v;
    }
    uint8_t idx = b->pio_map[port];
    if (idx && b->pio[idx - 1].read)
        return b->pio[idx - 1].read(b->pio[idx - 1].opaque, port, size) &
               size_mask(size);
    if (!idx)
        unimp_log(b, port, false, 0, size);
    return size_mask(size);
}

void bus_pio_write(Bus *b, uint16_t port, uint32_t val, int size)
{
    if (size != 1 && size != 2 && size != 4)
        size = 1;
    val &= size_mask(size);
    if (size > 1 && !pio_one_entry(b, port, size)) {
        for (int i = 0; i < size; i++)
            bus_pio_write(b, (uint16_t)(port + i), (val >> (8 * i)) & 0xFF, 1);
        return;
    }
    uint8_t idx = b->pio_map[port];
    if (idx && b->pio[idx - 1].write)
        b->pio[idx - 1].write(b->pio[idx - 1].opaque, port, val, size);
    else if (!idx)
        unimp_log(b, port, true, val, size);
}

/* ---------------- MMIO ---------------- */

int bus_mmio_register(Bus *b, uint64_t base, uint64_t len, MmioRead *r,
                      MmioWrite *w, void *opaque, const char *name)
{
    if (b->nmmio >= BUS_MAX_MMIO) {
        fprintf(stderr, "kestrel: too many MMIO regions (%s)\n",
                name ? name : "?");
        abort();
    }
    int h = b->nmmio++;
    struct MmioEntry *e = &b->mmio[h];
    e->base = base;
    e->len = len;
    e->read = r;
    e->write = w;
    e->opaque = opaque;
    e->name = name ? name : "?";
    e->enabled = true;
    return h;
}

void bus_mmio_move(Bus *b, int handle, uint64_t base, bool enabled)
{
    if (handle < 0 || handle >= b->nmmio)
        return;
    b->mmio[handle].base = base;
    b->mmio[handle].enabled = enabled;
}

/* The most recently registered enabled region wins where regions overlap
 * (a BAR moved over another during PCI enumeration). */
static struct MmioEntry *mmio_find(Bus *b, uint64_t pa)
{
    for (int i = b->nmmio - 1; i >= 0; i--) {
        struct MmioEntry *e = &b->mmio[i];
        if (e->enabled && pa >= e->base && pa - e->base < e->len)
            return e;
    }
    return NULL;
}

/* ---------------- physical memory ---------------- */

uint8_t *bus_mem_ptr(Bus *b, uint64_t pa, bool write)
{
    if (pa < b->ram_below_4g) {
        if (pa < LEGACY_HOLE_START || pa >= ONE_MIB)
            return b->ram + pa;
        if (pa < SHADOW_START)
            return NULL;                     /* VGA window */
        if (write && !b->shadow_writable[(pa - SHADOW_START) >> 14])
            return NULL;
        return b->ram + pa;
    }
    if (pa >= SHADOW_START && pa < ONE_MIB) {
        /* RAM smaller than 1 MiB: the shadow area still exists. */
        if (write && !b->shadow_writable[(pa - SHADOW_START) >> 14])
            return NULL;
        return b->ram + pa;
    }
    if (pa >= GiB4) {
        uint64_t off = pa - GiB4;
        if (off < b->ram_size - b->ram_below_4g)
            return b->ram + b->ram_below_4g + off;
        return NULL;
    }
    if (!write && b->bios && pa >= GiB4 - b->bios_size) {
        /* The BIOS ROM is read-only: the const is cast away for the
         * read-only pointer the caller may only read through. */
        return (uint8_t *)(uintptr_t)(b->bios + (pa - (GiB4 - b->bios_size)));
    }
    return NULL;
}

static uint64_t ld_le(const uint8_t *p, int size)
{
    uint64_t v = 0;
    memcpy(&v, p, (size_t)size);
    return v;
}

static uint64_t mask64(int size)
{
    return size >= 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
}

uint64_t bus_mem_read(Bus *b, uint64_t pa, int size)
{
    if (size < 1 || size > 8)
        size = 1;
    if ((pa & 0xFFF) + (uint64_t)size > 0x1000) {
        uint64_t v = 0;
        for (int i = 0; i < size; i++)
            v |= bus_mem_read(b, pa + i, 1) << (8 * i);
        return v;
    }
    uint8_t *p = bus_mem_ptr(b, pa, false);
    if (p)
        return ld_le(p, size);
    struct MmioEntry *e = mmio_find(b, pa);
    if (e && e->read)
        return e->read(e->opaque, pa - e->base, size) & mask64(size);
    return mask64(size);
}

void bus_mem_write(Bus *b, uint64_t pa, uint64_t val, int size)
{
    if (size < 1 || size > 8)
        size = 1;
    if ((pa & 0xFFF) + (uint64_t)size > 0x1000) {
        for (int i = 0; i < size; i++)
            bus_mem_write(b, pa + i, (val >> (8 * i)) & 0xFF, 1);
        return;
    }
    uint8_t *p = bus_mem_ptr(b, pa, true);
    if (p) {
        memcpy(p, &val, (size_t)size);
        if (bus_page_has_code(b, pa))
            bus_notify_write(b, pa, (size_t)size);
        return;
    }
    struct MmioEntry *e = mmio_find(b, pa);
    if (e && e->write)
        e->write(e->opaque, pa - e->base, val & mask64(size), size);
}

void bus_mem_rw(Bus *b, uint64_t pa, void *buf, size_t len, bool write)
{
    uint8_t *q = buf;
    while (len > 0) {
        size_t chunk = 0x1000 - (pa & 0xFFF);
        if (chunk > len)
            chunk = len;
        uint8_t *p = bus_mem_ptr(b, pa, write);
        if (p) {
            if (write) {
                memcpy(p, q, chunk);
                if (bus_page_has_code(b, pa))
                    bus_notify_write(b, pa, chunk);
            } else {
                memcpy(q, p, chunk);
            }
        } else {
            for (size_t i = 0; i < chunk; i++) {
                if (write)
                    bus_mem_write(b, pa + i, q[i], 1);
                else
                    q[i] = (uint8_t)bus_mem_read(b, pa + i, 1);
            }
        }
        pa += chunk;
        q += chunk;
        len -= chunk;
    }
}

void bus_mark_code(Bus *b, uint64_t pa)
{
    uint64_t pfn = pa >> 12;
    if (pfn < b->code_npages)
        b->code_bitmap[pfn >> 3] |= (uint8_t)(1u << (pfn & 7));
}

void bus_clear_code(Bus *b, uint64_t pa)
{
    uint64_t pfn = pa >> 12;
    if (pfn < b->code_npages)
        b->code_bitmap[pfn >> 3] &= (uint8_t)~(1u << (pfn & 7));
}

/* The code owner decides what to drop and clears the page bits it no
 * longer needs; the bus only forwards. */
void bus_notify_write(Bus *b, uint64_t pa, size_t len)
{
    if (b->code_write)
        b->code_write(b->code_write_opaque, pa, len);
}

/* ---------------- IRQs and board requests ---------------- */

void bus_set_irq(Bus *b, int gsi, int level)
{
    if (gsi < 0 || gsi > 23)
        return;
    if (b->irq_sink)
        b->irq_sink(b->irq_opaque, gsi, level ? 1 : 0);
}

void bus_request_reset(Bus *b)
{
    if (b->on_reset)
        b->on_reset(b->board_opaque);
}

void bus_request_shutdown(Bus *b, int exit_status)
{
    if (b->on_shutdown)
        b->on_shutdown(b->board_opaque, exit_status);
}

void bus_set_a20(Bus *b, bool enabled)
{
    uint32_t m = enabled ? 0xFFFFFFFFu : ~(1u << 20);
    if (m == b->a20_mask)
        return;
    b->a20_mask = m;
    if (b->on_a20)
        b->on_a20(b->board_opaque, enabled);
}

/* ---------------- devices ---------------- */

void bus_add_device(Bus *b, Device *d)
{
    /* Keep creation order: reset runs in the order the board wired. */
    d->next = NULL;
    Device **pp = &b->devices;
    while (*pp)
        pp = &(*pp)->next;
    *pp = d;
}

void bus_del_device(Bus *b, Device *d)
{
    for (Device **pp = &b->devices; *pp; pp = &(*pp)->next) {
        if (*pp == d) {
            *pp = d->next;
            d->next = NULL;
            return;
        }
    }
}

void bus_reset_devices(Bus *b)
{
    for (Device *d = b->devices; d; d = d->next)
        if (d->reset)
            d->reset(d->opaque);
}

Device *bus_find_device(Bus *b, const char *name)
{
    for (Device *d = b->devices; d; d = d->next)
        if (d->name && name && !strcmp(d->name, name))
            return d;
    return NULL;
}
