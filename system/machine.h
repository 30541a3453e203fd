/* The PC board: what the command line asks for (MachineConfig) and the
 * wired machine (Machine). system/machine.c builds it in one function. */
#ifndef SYSTEM_MACHINE_H
#define SYSTEM_MACHINE_H
#include <stdint.h>
#include <stdbool.h>
#include "hw/bus.h"
#include "cpu/cpu.h"
#include "system/chardev.h"

#define MAX_DRIVES 4
#define MAX_DEVICES 32

typedef struct DriveConfig {
    const char *file;
    const char *format;        /* raw, qcow2 (NULL: probe) */
    const char *interface;     /* ide */
    const char *media;         /* disk, cdrom */
    int index;                 /* -1: next free */
    bool snapshot;
    bool readonly;             /* readonly=on */
} DriveConfig;

typedef struct MachineConfig {
    uint64_t ram_size;         /* bytes; -m (default 128 MiB) */
    const char *bios;          /* -bios (default: SeaBIOS bios-256k.bin) */
    const char *kernel, *initrd, *append;
    DriveConfig drives[MAX_DRIVES];
    int ndrives;
    const char *boot_order;    /* -boot order= (NULL: QEMU's "cad") */
    const char *serial[4];     /* -serial specs; NULL entries: none */
    int nserial;
    const char *monitor;       /* -monitor spec */
    const char *debugcon;      /* -debugcon spec (isa-debugcon at 0xE9) */
    const char *display;       /* "sdl", "none" */
    bool nographic, no_reboot, snapshot, start_paused, nodefaults;
    int accel;                 /* ACCEL_TCG / ACCEL_INTERP */
    const char *cpu_model;
    const char *gdb;           /* -gdb spec */
    const char *trace;         /* -d */
    const char *logfile;       /* -D */
    const char *rtc_base;      /* -rtc base= */
    const char *devices[MAX_DEVICES];  /* -device strings */
    int ndevices;
    const char *globals[MAX_DEVICES];  /* -global strings */
    int nglobals;
    const char *netdevs[4];
    int nnetdevs;
    const char *screendump_at[4];      /* -screendump-at SECONDS:FILE */
    int nscreendumps;
    const char *name;                  /* -name (window title) */
    bool nodefaults_vga;               /* -vga none */
    bool monitor_mux_stdio;            /* -nographic: monitor shares stdio */
} MachineConfig;

typedef struct Machine Machine;
Machine *machine_create(const MachineConfig *cfg, char *err, size_t errlen);
/* Runs until the guest powers off, exits through a debug-exit device, or
 * a fatal error; returns the process exit status. */
int machine_run(Machine *m);
void machine_destroy(Machine *m);

/* Board requests from devices (reset lines, ACPI power off, debug exit). */
void machine_request_reset(Machine *m);
void machine_request_shutdown(Machine *m, int exit_status);

/* For the monitor and debugger. Pausing stops the CPU and the virtual
 * clock until machine_pause(m, false). */
CPUState *machine_cpu(Machine *m);
Bus *machine_bus(Machine *m);
void machine_pause(Machine *m, bool pause);
bool machine_paused(const Machine *m);
#endif
