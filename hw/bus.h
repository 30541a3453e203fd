/* The system bus: guest physical memory, port I/O and MMIO dispatch, IRQ
 * lines, and the list of devices (for reset and save/load).
 *
 * Guest RAM is one host mapping (Bus.ram). Below 4 GiB it appears at
 * [0, ram_below_4g) except the legacy hole 0xA0000-0xFFFFF, where the VGA
 * window (MMIO) and the option-ROM/BIOS shadow area (RAM, filled by the
 * loader, write-enabled by the i440FX PAM registers) live; the rest of RAM
 * appears from 4 GiB up. The BIOS image is also mapped read-only just below
 * 4 GiB. Anything else is MMIO (registered regions) or unassigned (reads
 * all-ones, writes ignored). */
#ifndef HW_BUS_H
#define HW_BUS_H
#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct Bus Bus;

/* Port handlers get the absolute port number; size is 1, 2 or 4. */
typedef uint32_t PioRead(void *opaque, uint16_t port, int size);
typedef void PioWrite(void *opaque, uint16_t port, uint32_t val, int size);
/* MMIO handlers get the offset from the region's base; size 1, 2, 4 or 8. */
typedef uint64_t MmioRead(void *opaque, uint64_t off, int size);
typedef void MmioWrite(void *opaque, uint64_t off, uint64_t val, int size);
/* Interrupt controller input: gsi 0..23, level 0/1. */
typedef void IrqSink(void *opaque, int gsi, int level);
/* Called when guest memory that holds decoded/translated code is written. */
typedef void CodeWriteFn(void *opaque, uint64_t pa, size_t len);

/* A device's common face: name, reset, and its plain-old-data state, which
 * save/load copy as bytes (keep host pointers out of `state`). */
typedef struct Device {
    const char *name;
    void *opaque;
    void (*reset)(void *opaque);
    void *state;
    size_t state_size;
    void (*post_load)(void *opaque);   /* optional: rebuild derived state */
    struct Device *next;
} Device;

/* For post_load: a saved image is outside input, so a bool may hold any
 * byte and a time any value. Read the byte without the bool type (no UB)
 * and store a proper bool; clamp times to a range where arithmetic on
 * them cannot overflow. */
static inline void state_fix_bool(bool *b)
{
    const volatile uint8_t *p = (const volatile uint8_t *)b;
    *b = *p != 0;
}
static inline int64_t state_clamp_time(int64_t t)
{
    const int64_t lim = (int64_t)1 << 60;
    return t < -lim ? -lim : t > lim ? lim : t;
}

#define BUS_MAX_PIO 256
#define BUS_MAX_MMIO 64

struct Bus {
    uint8_t *ram;                 /* guest RAM, ram_size bytes */
    uint64_t ram_size;
    uint64_t ram_below_4g;        /* bytes of RAM mapped below 4 GiB */
    const uint8_t *bios;          /* BIOS image mapped at 4G - bios_size */
    uint32_t bios_size;
    bool shadow_writable[16];     /* 0xC0000-0xFFFFF in 16 KiB chunks (PAM) */
    uint32_t a20_mask;            /* ~(1<<20) when the A20 gate is off */

    /* One bit per 4 KiB RAM page: set while decoded or translated code
     * from that page is cached; a write there calls code_write. */
    uint8_t *code_bitmap;         /* covers physical pages [0, code_npages) */
    uint64_t code_npages;
    CodeWriteFn *code_write;
    void *code_write_opaque;

    struct PioEntry {
        uint16_t base, len;
        PioRead *read; PioWrite *write; void *opaque;
        const char *name;
        uint32_t seq;             /* registration order: later decodes first */
    } pio[BUS_MAX_PIO];
    uint32_t pio_seq;
    int npio;
    /* Direct port -> entry index + 1 (0: unassigned) for speed. */
    uint8_t pio_map[65536];

    struct MmioEntry {
        uint64_t base, len;
        MmioRead *read; MmioWrite *write; void *opaque;
        const char *name;
        bool enabled;
    } mmio[BUS_MAX_MMIO];
    int nmmio;

    IrqSink *irq_sink;
    void *irq_opaque;

    /* Board requests from devices: reset line (KBC, port 0x92, 0xCF9,
     * ACPI), power off / debug exit with an exit status, A20 gate change
     * (the CPU must drop its TLB). Set by the board. */
    void (*on_reset)(void *opaque);
    void (*on_shutdown)(void *opaque, int exit_status);
    void (*on_a20)(void *opaque, bool enabled);
    void *board_opaque;

    Device *devices;
    bool log_unimp;               /* -d unimp */
    uint8_t unimp_logged[65536 / 8];
};

void bus_init(Bus *b, uint64_t ram_size);
void bus_free(Bus *b);

/* Port I/O. A later registration over the same ports hides the earlier one
 * (or replaces it: same range and opaque); unregistering the later one (same
 * base and len) uncovers what it hid, as when a PCI I/O BAR is moved over
 * an ISA device and away again. */
void bus_pio_register(Bus *b, uint16_t base, uint16_t len, PioRead *r,
                      PioWrite *w, void *opaque, const char *name);
void bus_pio_unregister(Bus *b, uint16_t base, uint16_t len);
uint32_t bus_pio_read(Bus *b, uint16_t port, int size);
void bus_pio_write(Bus *b, uint16_t port, uint32_t val, int size);

/* MMIO regions; returns a handle for bus_mmio_move (PCI BARs). */
int bus_mmio_register(Bus *b, uint64_t base, uint64_t len, MmioRead *r,
                      MmioWrite *w, void *opaque, const char *name);
void bus_mmio_move(Bus *b, int handle, uint64_t base, bool enabled);

/* Physical memory. bus_mem_ptr returns a host pointer to plain RAM/ROM at
 * pa (valid to the end of its 4 KiB page) or NULL when pa is MMIO or
 * unassigned; for writes it also returns NULL for ROM and write-protected
 * shadow. The a20 mask is the caller's business (the CPU applies it). */
uint8_t *bus_mem_ptr(Bus *b, uint64_t pa, bool write);
uint64_t bus_mem_read(Bus *b, uint64_t pa, int size);
void bus_mem_write(Bus *b, uint64_t pa, uint64_t val, int size);
/* Bulk copies for DMA and loaders (MMIO-aware, code-invalidating). */
void bus_mem_rw(Bus *b, uint64_t pa, void *buf, size_t len, bool write);

static inline bool bus_page_has_code(const Bus *b, uint64_t pa)
{
    uint64_t pfn = pa >> 12;
    return pfn < b->code_npages && ((b->code_bitmap[pfn >> 3] >> (pfn & 7)) & 1);
}
void bus_mark_code(Bus *b, uint64_t pa);     /* set the page's code bit */
void bus_clear_code(Bus *b, uint64_t pa);
void bus_notify_write(Bus *b, uint64_t pa, size_t len); /* invalidate code */

/* Interrupt lines, routed by the board to the PIC and the I/O APIC. */
void bus_set_irq(Bus *b, int gsi, int level);

void bus_request_reset(Bus *b);
void bus_request_shutdown(Bus *b, int exit_status);
void bus_set_a20(Bus *b, bool enabled);   /* sets a20_mask, tells the board */

void bus_add_device(Bus *b, Device *d);
void bus_del_device(Bus *b, Device *d);   /* before freeing a device */
void bus_reset_devices(Bus *b);
Device *bus_find_device(Bus *b, const char *name);
#endif
