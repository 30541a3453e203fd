/* The PC board: QEMU's "pc" machine (i440FX + PIIX3/4) with one CPU.
 *
 * machine_create() wires everything in one function, top to bottom:
 * RAM and the bus, the CPU and its interrupt front end (local APIC with the
 * 8259 pair behind LINT0, and the I/O APIC), the ISA devices, PCI with the
 * chipset, VGA, fw_cfg and ACPI for the firmware, the debug devices, and
 * then either SeaBIOS or a direct kernel boot. machine_run() is the main
 * loop: guest code in slices, timers and host fds between slices, and a
 * real sleep (ppoll until the next timer) while the CPU is halted. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "system/machine.h"
#include "system/chardev.h"
#include "system/event.h"
#include "system/loader.h"
#include "cpu/translate.h"
#include "hw/pic.h"
#include "hw/pit.h"
#include "hw/rtc.h"
#include "hw/kbc.h"
#include "hw/uart.h"
#include "hw/port92.h"
#include "hw/dma.h"
#include "hw/pci.h"
#include "hw/piix.h"
#include "hw/ide.h"
#include "hw/apic.h"
#include "hw/ioapic.h"
#include "hw/fwcfg.h"
#include "hw/acpi.h"
#include "hw/vga.h"
#include "hw/debugdev.h"
#include "ui/console.h"
#include "debug/trace.h"
#include "debug/monitor.h"
#include "debug/gdbstub.h"

/* Guest instructions per slice: long enough that the per-slice work (one
 * ppoll with a zero timeout) is noise, short enough that host input and
 * timers are looked at every millisecond or so. */
#define SLICE_INSNS 100000

static const struct { uint16_t base; int irq; } com_ports[4] = {
    { 0x3f8, 4 }, { 0x2f8, 3 }, { 0x3e8, 4 }, { 0x2e8, 3 },
};

struct Machine {
    MachineConfig cfg;
    Bus bus;
    CPUState *cpu;
    PIC *pic;
    PIT *pit;
    RTC *rtc;
    KBC *kbc;
    DMA *dma;
    UART *uart[4];
    PCIBus *pci;
    PIIX *piix;
    IDEController *ide;        /* disks and CD-ROMs (hw/ide.c) */
    APIC *apic;
    IOAPIC *ioapic;
    FWCfg *fwcfg;
    VGAState *vga;
    Monitor *mon;
    GdbStub *gdb;              /* -gdb (debug/gdbstub.c) */
    AcpiConfig acpi;
    uint8_t *vga_rom;
    size_t vga_rom_size;
    bool have_console;
    Timer *refresh_timer;
    struct Screendump {
        Timer *timer;
        char *path;
        Machine *m;
    } dumps[4];
    int ndumps;

    bool reset_req, shutdown_req, paused;
    int exit_status;
    int64_t start_host_ns;
};

/* SIGINT/SIGTERM/SIGHUP end the machine the orderly way (terminal
 * restored, files flushed, -d stats printed), as QEMU's "terminating on
 * signal" does. */
static volatile sig_atomic_t stop_signal;
static CPUState *volatile signal_cpu;

static void on_stop_signal(int sig)
{
    stop_signal = sig;
    if (signal_cpu)
        cpu_request_exit(signal_cpu);
    event_notify();
}

/* ---- board hooks ---- */

/* Every interrupt line goes to both controllers, as on the real board;
 * the PIT's IRQ 0 reaches the I/O APIC on pin 2 (the MADT says so). */
static void board_irq(void *opaque, int gsi, int level)
{
    Machine *m = opaque;
    if (gsi < 0 || gsi >= IOAPIC_NUM_PINS)
        return;
    if (gsi < 16)
        pic_set_irq(m->pic, gsi, level);
    ioapic_set_irq(m->ioapic, gsi == 0 ? 2 : gsi, level);
}

/* The 8259's INT output is wired to the local APIC's LINT0; the APIC then
 * decides (ExtINT passthrough or masked) and drives the CPU's INTR. */
static void pic_intr_out(void *opaque, bool level)
{
    Machine *m = opaque;
    apic_set_lint(m->apic, 0, level);
}

static void board_reset(void *opaque)
{
    machine_request_reset(opaque);
}

static void board_shutdown(void *opaque, int status)
{
    machine_request_shutdown(opaque, status);
}

static void board_a20(void *opaque, bool enabled)
{
    Machine *m = opaque;
    /* The TLB caches translations made with the old mask. */
    cpu_tlb_flush(m->cpu, true);
}

/* Guest writes to pages holding decoded or translated code: both engines
 * drop what they cached from there. */
static void board_code_write(void *opaque, uint64_t pa, size_t len)
{
    Machine *m = opaque;
    interp_invalidate(m->cpu, pa, len);
    tcg_cpu_invalidate(m->cpu, pa, len);
}

static void board_triple_fault(void *opaque)
{
    Machine *m = opaque;
    if (trace_on(TRACE_GUEST_ERRORS | TRACE_INT))
        kestrel_log("triple fault at %04x:%08x: resetting\n",
                    m->cpu->seg[R_CS].sel, m->cpu->eip);
    machine_request_reset(m);
}

/* Keys and mouse from the front end go into the i8042. */
static void input_key(void *opaque, uint32_t set2_code, bool down)
{
    kbc_key_event(opaque, set2_code, down);
}

static void input_mouse(void *opaque, int dx, int dy, int dz, int buttons)
{
    kbc_mouse_event(opaque, dx, dy, dz, buttons);
}

static const ConsoleInputOps kbc_input = { input_key, input_mouse };

static void board_quit(void *opaque)
{
    machine_request_shutdown(opaque, 0);
}

void machine_request_reset(Machine *m)
{
    m->reset_req = true;
    if (m->cpu)
        cpu_request_exit(m->cpu);
}

void machine_request_shutdown(Machine *m, int exit_status)
{
    if (!m->shutdown_req)
        m->exit_status = exit_status;
    m->shutdown_req = true;
    if (m->cpu)
        cpu_request_exit(m->cpu);
}

CPUState *machine_cpu(Machine *m) { return m->cpu; }
Bus *machine_bus(Machine *m) { return &m->bus; }
bool machine_paused(const Machine *m) { return m->paused; }

void machine_pause(Machine *m, bool pause)
{
    if (pause == m->paused)
        return;
    m->paused = pause;
    if (pause) {
        clock_pause();
        cpu_request_exit(m->cpu);
    } else {
        clock_resume();
    }
    if (m->have_console)
        console_set_state(pause ? "paused" : "running");
}

/* ---- console refresh and scheduled screendumps ---- */

static void refresh_tick(void *opaque)
{
    Machine *m = opaque;
    console_refresh();
    timer_mod(m->refresh_timer, clock_ns() + CONSOLE_REFRESH_NS);
}

static void screendump_tick(void *opaque)
{
    struct Screendump *d = opaque;
    char err[256];
    if (console_screendump(d->path, err, sizeof(err)))
        fprintf(stderr, "kestrel: -screendump-at: %s\n", err);
}

/* ---- firmware, boot and CMOS ---- */

static uint8_t cmos_boot_code(char c)
{
    switch (c) {
    case 'a': return 1;     /* floppy */
    case 'c': return 2;     /* hard disk */
    case 'd': return 3;     /* CD-ROM */
    case 'n': return 4;     /* network */
    default: return 0;
    }
}

/* What a PC's CMOS says before the BIOS runs: memory sizes, the boot
 * order in the Bochs/QEMU layout SeaBIOS understands, and the equipment
 * byte (no floppy, FPU present, PS/2 mouse). */
static void setup_cmos(Machine *m)
{
    const char *order = m->cfg.boot_order ? m->cfg.boot_order : "cad";
    size_t n = strlen(order);
    uint8_t b0 = cmos_boot_code(order[0]);
    uint8_t b1 = n > 1 ? cmos_boot_code(order[1]) : 0;
    uint8_t b2 = n > 2 ? cmos_boot_code(order[2]) : 0;
    rtc_set_memory(m->rtc, m->bus.ram_below_4g,
                   m->bus.ram_size - m->bus.ram_below_4g);
    rtc_set_cmos(m->rtc, 0x3d, (uint8_t)(b1 << 4 | b0));
    rtc_set_cmos(m->rtc, 0x38, (uint8_t)(b2 << 4));      /* fd sig check */
    rtc_set_cmos(m->rtc, 0x14, 0x06);
    rtc_set_cmos(m->rtc, 0x10, 0x00);                     /* no floppies */
    rtc_set_cmos(m->rtc, 0x5f, 0x00);                     /* CPUs - 1 */
    rtc_update_checksum(m->rtc);
}

static int read_file(const char *path, uint8_t **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f)
        return -1;
    if (fstat(fileno(f), &st) || st.st_size <= 0 || st.st_size > (16 << 20)) {
        fclose(f);
        return -1;
    }
    *data = malloc((size_t)st.st_size);
    *len = *data ? fread(*data, 1, (size_t)st.st_size, f) : 0;
    fclose(f);
    if (*len != (size_t)st.st_size) {
        free(*data);
        *data = NULL;
        return -1;
    }
    return 0;
}

/* Direct boot (-kernel) or the BIOS; also what a reset repeats. */
static int boot(Machine *m, char *err, size_t errlen)
{
    const MachineConfig *c = &m->cfg;
    if (c->kernel) {
        int mb = is_multiboot(c->kernel, err, errlen);
        if (mb < 0)
            return -1;
        /* No BIOS runs, so do its chipset setup: PCI resources, PIRQ
         * routing, the PM block that ACPI poweroff writes. */
        piix_firmware_setup(m->piix);
        if (m->vga) {
            /* What the VGA BIOS would have done: text mode 3 with its
             * font, so console=tty0 has a screen. */
            long off = m->vga_rom ? vga_find_rom_font(m->vga_rom,
                                                      m->vga_rom_size, 16)
                                  : -1;
            vga_set_text_mode(m->vga, off >= 0 ? m->vga_rom + off : NULL);
        }
        if (mb)
            return load_multiboot(&m->bus, m->cpu, c->kernel, c->initrd,
                                  c->append ? c->append : "", err, errlen);
        return load_linux(&m->bus, m->cpu, c->kernel, c->initrd,
                          c->append ? c->append : "", &m->acpi, err, errlen);
    }
    if (c->initrd || c->append) {
        snprintf(err, errlen, "-initrd and -append need -kernel");
        return -1;
    }
    if (m->bus.bios)
        loader_free_bios(&m->bus);
    return load_bios(&m->bus, c->bios ? c->bios : DEFAULT_BIOS, err, errlen);
}

static void machine_reset(Machine *m)
{
    char err[256];
    m->reset_req = false;
    bus_reset_devices(&m->bus);
    bus_set_a20(&m->bus, true);
    cpu_reset(m->cpu);
    setup_cmos(m);
    if (boot(m, err, sizeof(err))) {
        fprintf(stderr, "kestrel: reset: %s\n", err);
        machine_request_shutdown(m, 1);
    }
}

/* ---- the board ---- */

/* Subsystem IDs belong to the board maker; QEMU's pc board puts Red Hat's
 * "QEMU virtual machine" (1af4:1100) on its chipset functions, and that
 * is how SeaBIOS recognises the machine and takes its QEMU paths (the
 * boot order from CMOS, among others). Also the value after a reset. */
static void set_board_subsystem(PCIDevice *d)
{
    if (!d)
        return;
    pci_set_word(d, PCI_SUBSYSTEM_VENDOR_ID, 0x1af4);
    pci_set_word(d, PCI_SUBSYSTEM_ID, 0x1100);
    memcpy(d->config_init + PCI_SUBSYSTEM_VENDOR_ID,
           d->config + PCI_SUBSYSTEM_VENDOR_ID, 4);
}

static Chardev *open_chr(const char *what, const char *spec, char *err,
                         size_t errlen)
{
    char e[200];
    Chardev *c = chardev_open(spec, e, sizeof(e));
    if (!c)
        snprintf(err, errlen, "%s %s: %s", what, spec, e);
    return c;
}

Machine *machine_create(const MachineConfig *cfg, char *err, size_t errlen)
{
    Machine *m = calloc(1, sizeof(*m));
    if (!m) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    m->cfg = *cfg;

    /* Memory and the bus; board requests come back to us. */
    bus_init(&m->bus, cfg->ram_size);
    m->bus.irq_sink = board_irq;
    m->bus.irq_opaque = m;
    m->bus.on_reset = board_reset;
    m->bus.on_shutdown = board_shutdown;
    m->bus.on_a20 = board_a20;
    m->bus.board_opaque = m;
    m->bus.log_unimp = trace_on(TRACE_UNIMP);

    /* The CPU and its interrupt path: PIC -> LAPIC LINT0 -> INTR, and
     * every line also into the I/O APIC, which delivers to the LAPIC. */
    m->cpu = cpu_new(&m->bus);
    m->cpu->accel = cfg->accel;
    m->cpu->trace_flags = trace_flags;
    m->cpu->on_triple_fault = board_triple_fault;
    m->cpu->board_opaque = m;
    m->bus.code_write = board_code_write;
    m->bus.code_write_opaque = m;
    m->apic = apic_init(&m->bus, m->cpu);
    m->pic = pic_init(&m->bus, pic_intr_out, m);
    apic_set_pic_ack(m->apic, pic_intr_ack, m->pic);
    m->ioapic = ioapic_init(&m->bus, m->apic);
    m->cpu->intr_ack = apic_intr_ack;
    m->cpu->intr_opaque = m->apic;

    /* ISA devices. */
    m->pit = pit_init(&m->bus);
    m->rtc = rtc_init(&m->bus, cfg->rtc_base, err, errlen);
    if (!m->rtc)
        goto fail;
    m->kbc = kbc_init(&m->bus);
    port92_init(&m->bus);
    m->dma = dma_init(&m->bus);
    for (int i = 0; i < cfg->nserial && i < 4; i++) {
        Chardev *chr;
        if (!cfg->serial[i])
            continue;               /* -serial none: no port at all */
        chr = open_chr("-serial", cfg->serial[i], err, errlen);
        if (!chr)
            goto fail;
        m->uart[i] = uart_init(&m->bus, com_ports[i].base, com_ports[i].irq,
                               chr);
    }
    /* QEMU always has COM1 unless told otherwise; with no backend its
     * output goes nowhere. */
    if (!cfg->nserial && !cfg->nodefaults)
        m->uart[0] = uart_init(&m->bus, com_ports[0].base, com_ports[0].irq,
                               NULL);

    /* PCI and the chipset, carrying QEMU's board subsystem IDs. */
    m->pci = pci_init(&m->bus);
    m->piix = piix_init(&m->bus, m->pci);
    set_board_subsystem(m->piix->host);
    set_board_subsystem(m->piix->isa);
    set_board_subsystem(m->piix->pm);
    m->ide = ide_init_from_config(&m->bus, m->piix, cfg, m->rtc, err, errlen);
    if (!m->ide)
        goto fail;

    /* Display: the console front end, then the stdvga card with
     * SeaVGABIOS on its ROM BAR. */
    if (console_init(cfg->display, err, errlen))
        goto fail;
    m->have_console = true;
    console_set_name(cfg->name);
    if (!cfg->nodefaults && !cfg->nodefaults_vga) {
        VGAConfig vc = { .pci = m->pci, .devfn = -1, .console = true };
        if (!read_file(DEFAULT_VGABIOS, &m->vga_rom, &m->vga_rom_size)) {
            vc.rom = m->vga_rom;
            vc.rom_size = m->vga_rom_size;
        }
        m->vga = vga_create(&m->bus, &vc, err, errlen);
        if (!m->vga)
            goto fail;
    }
    if (cfg->display && strcmp(cfg->display, "none")) {
        m->refresh_timer = timer_new(refresh_tick, m);
        timer_mod(m->refresh_timer, clock_ns() + CONSOLE_REFRESH_NS);
    }
    console_set_quit_handler(board_quit, m);
    console_register_input(&kbc_input, m->kbc);

    /* Firmware interface and ACPI tables for SeaBIOS. */
    acpi_default_config(&m->acpi);
    m->fwcfg = fwcfg_init(&m->bus);
    fwcfg_setup_pc(m->fwcfg, 1, cfg->boot_order);
    fwcfg_add_i16(m->fwcfg, FW_CFG_NOGRAPHIC, cfg->nographic);
    if (acpi_fwcfg_install(m->fwcfg, &m->acpi)) {
        snprintf(err, errlen, "cannot build the ACPI tables");
        goto fail;
    }

    /* Debug and test devices: -debugcon first, then -device in order. */
    device_set_pci_bus(m->pci);
    if (cfg->debugcon) {
        Chardev *chr = open_chr("-debugcon", cfg->debugcon, err, errlen);
        if (!chr || device_create(&m->bus, "isa-debugcon", cfg->globals,
                                  cfg->nglobals, chr, err, errlen))
            goto fail;
    }
    for (int i = 0; i < cfg->ndevices; i++)
        if (device_create(&m->bus, cfg->devices[i], cfg->globals,
                          cfg->nglobals, NULL, err, errlen))
            goto fail;

    /* The human monitor, and Ctrl-A x on the terminal. */
    if (cfg->monitor || cfg->monitor_mux_stdio) {
        const char *spec = cfg->monitor ? cfg->monitor : "stdio";
        Chardev *chr = open_chr("-monitor", spec, err, errlen);
        if (!chr)
            goto fail;
        m->mon = monitor_new(chr, m, !cfg->monitor);
    }
    chardev_set_quit_handler(board_quit, m);
    if (cfg->gdb && !(m->gdb = gdbstub_new(cfg->gdb, m, err, errlen)))
        goto fail;

    for (int i = 0; i < cfg->nscreendumps; i++) {
        const char *s = cfg->screendump_at[i];
        struct Screendump *d = &m->dumps[m->ndumps++];
        double t = strtod(s, NULL);
        d->path = strdup(strchr(s, ':') + 1);
        d->m = m;
        d->timer = timer_new(screendump_tick, d);
        timer_mod(d->timer, (int64_t)(t * NS_PER_SEC));
    }

    setup_cmos(m);
    if (boot(m, err, errlen))
        goto fail;
    if (cfg->start_paused)
        machine_pause(m, true);
    return m;
fail:
    machine_destroy(m);
    return NULL;
}

int machine_run(Machine *m)
{
    m->start_host_ns = host_clock_ns();
    signal_cpu = m->cpu;
    signal(SIGINT, on_stop_signal);
    signal(SIGTERM, on_stop_signal);
    signal(SIGHUP, on_stop_signal);
    if (m->have_console)
        console_set_state(m->paused ? "paused" : "running");
    while (!m->shutdown_req) {
        if (stop_signal) {
            fprintf(stderr, "kestrel: terminating on signal %d\n",
                    (int)stop_signal);
            machine_request_shutdown(m, 0);
            break;
        }
        if (m->reset_req) {
            if (m->cfg.no_reboot)
                break;             /* QEMU's -no-reboot: exit status 0 */
            machine_reset(m);
            continue;
        }
        if (m->paused) {
            /* The virtual clock is stopped, so timers do not fire: keep a
             * window responsive by refreshing it from here. */
            event_poll(m->refresh_timer ? CONSOLE_REFRESH_NS : NS_PER_SEC);
            if (m->refresh_timer)
                console_refresh();
            chardev_pump();
            continue;
        }
        int r = cpu_exec(m->cpu, SLICE_INSNS);
        if (r == EXEC_RESET) {
            machine_request_reset(m);
            continue;
        }
        if (r == EXEC_DEBUG && m->gdb)
            gdbstub_cpu_stopped(m->gdb);   /* breakpoint or step: pauses */
        /* Clear the exit request that ended the slice; whoever asked for
         * it has had its effect by now or sets a flag we test above. */
        m->cpu->interrupt_request &= ~(uint32_t)CPU_INT_EXIT;
        if (r == EXEC_HALTED) {
            /* Sleep until the next timer or host input: an idle guest
             * costs no host CPU. */
            int64_t dl = timers_deadline();
            event_poll(dl == INT64_MAX ? NS_PER_SEC : dl - clock_ns());
        } else {
            event_poll(0);
        }
        chardev_pump();
    }
    if (trace_on(TRACE_STATS)) {
        double secs = (double)(host_clock_ns() - m->start_host_ns) / 1e9;
        kestrel_log("stats: %llu instructions in %.3f s (%.1f MIPS)\n",
                    (unsigned long long)m->cpu->icount, secs,
                    secs > 0 ? (double)m->cpu->icount / secs / 1e6 : 0.0);
    }
    signal_cpu = NULL;
    chardev_flush_all();
    if (m->ide && ide_flush_all(m->ide))   /* guest writes reach the disk */
        fprintf(stderr, "kestrel: flushing a disk image failed\n");
    int status = m->shutdown_req ? m->exit_status : 0;
    if (m->gdb)
        gdbstub_exited(m->gdb, status);    /* gdb hears "exited" */
    return status;
}

void machine_destroy(Machine *m)
{
    if (!m)
        return;
    if (m->mon)
        monitor_free(m->mon);
    gdbstub_free(m->gdb);
    for (int i = 0; i < m->ndumps; i++) {
        timer_free(m->dumps[i].timer);
        free(m->dumps[i].path);
    }
    if (m->refresh_timer)
        timer_free(m->refresh_timer);
    if (m->have_console)
        console_shutdown();
    device_free_all();
    if (m->vga)
        vga_destroy(m->vga);
    free(m->vga_rom);
    if (m->fwcfg)
        fwcfg_free(m->fwcfg);
    ide_free(m->ide);              /* flushes and closes the images */
    if (m->piix)
        piix_free(m->piix);
    if (m->pci)
        pci_free(m->pci);
    for (int i = 0; i < 4; i++)
        if (m->uart[i])
            uart_free(m->uart[i]);
    if (m->dma)
        dma_free(m->dma);
    if (m->kbc)
        kbc_free(m->kbc);
    if (m->rtc)
        rtc_free(m->rtc);
    if (m->pit)
        pit_free(m->pit);
    if (m->ioapic)
        ioapic_free(m->ioapic);
    if (m->pic)
        pic_free(m->pic);
    if (m->apic)
        apic_free(m->apic);
    if (m->cpu)
        cpu_free(m->cpu);
    if (m->bus.bios)
        loader_free_bios(&m->bus);
    bus_free(&m->bus);
    free(m);
}
