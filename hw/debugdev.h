/* QEMU's debug and test devices, with QEMU's names, ports and properties,
 * so that test kernels and scripts written for QEMU work unchanged:
 *
 *   isa-debugcon    iobase (0xE9), chardev, readback (0xE9): bytes written
 *                   to the port go to the chardev; reads return readback.
 *   isa-debug-exit  iobase (0x501), iosize (2): a write of v ends Kestrel
 *                   with exit status (v << 1) | 1.
 *   pc-testdev      a 32-bit latch at 0xE0 (and its byte-wise alias at
 *                   0xE8), the page-flush port 0xE4, ISA IRQ lines at
 *                   0x2000 + n, and 64 KiB of RAM-like MMIO at 0xFF000000.
 *   pci-testdev     PCI 1b36:0005 with QEMU's I/O-write test headers on
 *                   BAR0 (memory) and BAR1 (I/O).
 *
 * -device strings are "NAME[,PROP=VAL...]"; -global strings are
 * "NAME.PROP=VAL" and set a default for every instance of NAME. */
#ifndef HW_DEBUGDEV_H
#define HW_DEBUGDEV_H
#include <stddef.h>
#include <stdio.h>
#include "hw/bus.h"
#include "system/chardev.h"

/* "help" or "NAME,help": print what exists and return 1; else 0. An
 * unknown NAME with help returns -1 (the caller reports it through
 * device_check). */
int device_help(const char *opt, FILE *out);
/* Validate a -device / -global string: 0, or -1 with one line in err. */
int device_check(const char *opt, char *err, size_t errlen);
int global_check(const char *opt, char *err, size_t errlen);

/* Create the device described by opt on bus, after applying the -global
 * defaults. chr, when not NULL, is the chardev of an isa-debugcon whose
 * string names none (how -debugcon DEV is built). Returns 0, or -1 with
 * one line in err. Devices live until device_free_all. */
int device_create(Bus *bus, const char *opt, const char *const *globals,
                  int nglobals, Chardev *chr, char *err, size_t errlen);
/* The bus pci-testdev plugs into (the board sets it before creating). */
struct PCIBus;
void device_set_pci_bus(struct PCIBus *pb);
void device_free_all(void);
#endif
