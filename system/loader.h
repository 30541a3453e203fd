/* Firmware and kernel loading: the BIOS image, option ROMs, the Linux
 * 32-bit boot protocol and Multiboot v1 (direct boot, no BIOS).
 *
 * Every function returns 0 on success or -1 with one line (no newline) in
 * err; bad, truncated or unsupported files are reported, never crash. */
#ifndef SYSTEM_LOADER_H
#define SYSTEM_LOADER_H
#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include "hw/bus.h"
#include "cpu/cpu.h"
#include "hw/fwcfg.h"
#include "hw/acpi.h"

#define DEFAULT_BIOS   "/usr/share/seabios/bios-256k.bin"
#define DEFAULT_VGABIOS "/usr/share/seabios/vgabios-stdvga.bin"

/* Reads the BIOS file (size a multiple of 64 KiB, at most 16 MiB) into a
 * buffer that becomes b->bios (mapped at 4 GiB - size; the caller frees it
 * with loader_free_bios), and copies its last 128 KiB to RAM 0xE0000-
 * 0xFFFFF (the shadow area; the rest of a 128 KiB image also goes to the
 * isa-bios range as on the PC). */
int load_bios(Bus *b, const char *path, char *err, size_t n);
void loader_free_bios(Bus *b);

/* Option ROM for SeaBIOS: reads path and publishes it in fw_cfg as name
 * (e.g. "vgaroms/vgabios-stdvga.bin", "genroms/x.bin"). Checks the 0x55AA
 * signature. */
int load_option_rom_fwcfg(FWCfg *f, const char *path, const char *name,
                          char *err, size_t n);

/* The PC's e820 map from the bus layout: RAM below 640K, reserved BIOS
 * areas, RAM from 1 MiB to ram_below_4g, RAM above 4 GiB, reserved BIOS
 * ROM below 4G. Returns the entry count (<= max). */
typedef struct E820Entry { uint64_t addr, size; uint32_t type; } E820Entry;
enum { E820_RAM = 1, E820_RESERVED = 2, E820_ACPI = 3, E820_NVS = 4 };
int loader_e820(const Bus *b, E820Entry *out, int max);

/* ---- Linux boot protocol ---- */
typedef struct LinuxHeader {
    uint16_t version;            /* boot protocol, e.g. 0x020f */
    uint8_t setup_sects;         /* 0 means 4 */
    uint8_t loadflags;
    uint32_t setup_size;         /* bytes, including the boot sector */
    uint32_t kernel_offset;      /* start of the protected-mode kernel */
    uint32_t kernel_size;        /* bytes of protected-mode kernel */
    uint32_t code32_start;
    uint32_t initrd_addr_max;
    uint32_t cmdline_size;       /* max cmdline length (protocol >= 2.06) */
    bool relocatable;
    uint32_t kernel_alignment;
    uint32_t init_size;          /* 2.10+: memory the kernel needs */
    uint64_t pref_address;
} LinuxHeader;
/* Parses the setup header of a bzImage held in memory. */
int linux_parse_header(const uint8_t *img, size_t len, LinuxHeader *h,
                       char *err, size_t n);

/* Loads a bzImage (+ initrd, + cmdline) for direct boot: protected-mode
 * kernel at 1 MiB, initrd page-aligned at the top of low RAM (below the
 * 64 KiB ACPI area and initrd_addr_max), boot_params (zero page) at
 * 0x10000 with the e820 map, cmdline at 0x20000, GDT at 0x8000; ACPI
 * tables at the top of low RAM with the RSDP at 0xF0000; the CPU in flat
 * 32-bit protected mode at the 32-bit entry with ESI = boot_params. Call
 * after cpu_reset and the device resets, with piix_firmware_setup done
 * (the PM block must be decoded at the FADT's ports). */
int load_linux(Bus *b, CPUState *cpu, const char *kernel, const char *initrd,
               const char *cmdline, const AcpiConfig *acpi, char *err,
               size_t n);
/* Same from memory buffers (tests). */
int load_linux_mem(Bus *b, CPUState *cpu, const uint8_t *kimg, size_t klen,
                   const uint8_t *initrd, size_t ilen, const char *cmdline,
                   const AcpiConfig *acpi, char *err, size_t n);

/* ---- Multiboot v1 ---- */
typedef struct MultibootHeader {
    uint32_t offset;             /* of the header in the file */
    uint32_t flags;
    bool aout_kludge;            /* flags bit 16: use the address fields */
    uint32_t header_addr, load_addr, load_end_addr, bss_end_addr,
             entry_addr;
} MultibootHeader;
/* Looks for the header in the first 8 KiB: 1 found, 0 not multiboot,
 * -1 malformed (err set). */
int multiboot_find_header(const uint8_t *img, size_t len, MultibootHeader *h,
                          char *err, size_t n);

/* Is the file a Multiboot kernel (header present)? 1/0, -1 on read error. */
int is_multiboot(const char *path, char *err, size_t n);
/* Loads an ELF32 or a.out-kludge Multiboot kernel; initrd is QEMU's
 * "mod1 args,mod2" list (a ",," is a literal comma); boot info (memory,
 * mmap, cmdline, modules, boot loader name) below 640K; Kestrel's ACPI
 * tables (default AcpiConfig) with the RSDP in the BIOS area;
 * EAX=0x2BADB002, EBX=info, flat 32-bit protected mode, paging off. */
int load_multiboot(Bus *b, CPUState *cpu, const char *kernel,
                   const char *initrd, const char *cmdline, char *err,
                   size_t n);
int load_multiboot_mem(Bus *b, CPUState *cpu, const uint8_t *img, size_t len,
                       const char *kname, const char *initrd,
                       const char *cmdline, char *err, size_t n);

/* Flat 32-bit protected mode as both boot protocols require: CS = 0x10
 * (code, base 0, limit 4G), DS/ES/SS/FS/GS = 0x18 (data), CR0.PE, IF=0,
 * A20 on. A GDT is written at `gdt_pa` in RAM (for reloads). */
void loader_set_flat32(Bus *b, CPUState *cpu, uint32_t gdt_pa, uint32_t eip);
#endif
