/* Kestrel's command line: QEMU's flags with QEMU's meanings, so scripts
 * written for qemu-system-i386 run unchanged. Every option is in one table;
 * the parser fills a MachineConfig and hands it to the board. An option
 * whose subsystem does not exist yet is refused by name, never ignored. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "config.h"
#include "system/machine.h"
#include "system/chardev.h"
#include "debug/trace.h"
#include "hw/debugdev.h"
#include "hw/ide.h"

enum {
    O_VERSION, O_HELP, O_M, O_BIOS, O_KERNEL, O_INITRD, O_APPEND, O_HDA,
    O_HDB, O_HDC, O_HDD, O_CDROM, O_DRIVE, O_BOOT, O_SERIAL, O_DEBUGCON,
    O_DISPLAY, O_NOGRAPHIC, O_NO_REBOOT, O_ACCEL, O_MACHINE, O_NODEFAULTS,
    O_CPU, O_GDB, O_S, O_S_GDB, O_D, O_DLOG, O_MONITOR, O_NETDEV, O_NIC,
    O_NET, O_DEVICE, O_GLOBAL, O_CHARDEV, O_SNAPSHOT, O_RTC, O_SCREENDUMP_AT,
    O_SMP, O_VGA, O_ENABLE_KVM, O_NAME, O_NO_SHUTDOWN,
};

static const struct option_def {
    const char *name;
    int id;
    const char *arg;          /* NULL: takes no argument */
    const char *help;
} options[] = {
    { "version", O_VERSION, NULL, "print the version and exit" },
    { "h", O_HELP, NULL, "print this help and exit" },
    { "help", O_HELP, NULL, NULL },
    { "machine", O_MACHINE, "pc[,accel=tcg|interp]",
      "select the machine (pc only; -M is the same)" },
    { "M", O_MACHINE, "pc[,accel=tcg|interp]", NULL },
    { "accel", O_ACCEL, "tcg|interp",
      "tcg: binary translation (default), interp: the interpreter" },
    { "cpu", O_CPU, "MODEL", "CPU model (-cpu help lists them)" },
    { "smp", O_SMP, "1", "one CPU (more are not supported yet)" },
    { "m", O_M, "SIZE[M|G]", "guest RAM, MiB unless suffixed (default 128)" },
    { "bios", O_BIOS, "FILE", "firmware image (default SeaBIOS bios-256k.bin)" },
    { "kernel", O_KERNEL, "FILE", "boot a Linux bzImage or Multiboot kernel" },
    { "initrd", O_INITRD, "FILE", "initial ramdisk (Multiboot: \"mod args,mod\")" },
    { "append", O_APPEND, "CMDLINE", "kernel command line" },
    { "hda", O_HDA, "FILE", "IDE disk 0" },
    { "hdb", O_HDB, "FILE", "IDE disk 1" },
    { "hdc", O_HDC, "FILE", NULL },
    { "hdd", O_HDD, "FILE", NULL },
    { "cdrom", O_CDROM, "FILE", "IDE CD-ROM" },
    { "drive", O_DRIVE, "file=F[,format=,if=,media=]", "a disk drive" },
    { "snapshot", O_SNAPSHOT, NULL, "write disk changes to a temporary overlay" },
    { "boot", O_BOOT, "[order=]DRIVES", "boot order: c disk, d CD-ROM, n net" },
    { "serial", O_SERIAL, "DEV",
      "COM port backend: stdio, file:PATH, null, none, chardev:ID, ..." },
    { "debugcon", O_DEBUGCON, "DEV", "isa-debugcon at port 0xE9 to DEV" },
    { "monitor", O_MONITOR, "DEV", "human monitor on DEV (stdio, none, ...)" },
    { "chardev", O_CHARDEV, "BACKEND,id=ID[,...]",
      "define a character device: stdio, file, null, pipe, socket" },
    { "device", O_DEVICE, "NAME[,PROP=VAL...]",
      "add a device (-device help lists them)" },
    { "global", O_GLOBAL, "DEV.PROP=VAL", "default property for a device type" },
    { "nodefaults", O_NODEFAULTS, NULL, "no default devices (VGA, NIC, serial)" },
    { "display", O_DISPLAY, "sdl|none", "display front end" },
    { "nographic", O_NOGRAPHIC, NULL,
      "no display; serial (and monitor) on the terminal" },
    { "vga", O_VGA, "std|none", "VGA card" },
    { "screendump-at", O_SCREENDUMP_AT, "SECONDS:FILE.png",
      "write the screen as PNG at that guest-run time" },
    { "no-reboot", O_NO_REBOOT, NULL, "exit instead of rebooting" },
    { "no-shutdown", O_NO_SHUTDOWN, NULL, NULL },
    { "rtc", O_RTC, "base=utc|localtime|DATETIME", "RTC start time" },
    { "netdev", O_NETDEV, "user,id=ID[,...]", "network back end" },
    { "nic", O_NIC, "none|user[,...]", "network card with back end" },
    { "net", O_NET, "none|...", NULL },
    { "gdb", O_GDB, "DEV", "wait for gdb on DEV (tcp::1234)" },
    { "s", O_S_GDB, NULL, "shorthand for -gdb tcp::1234" },
    { "S", O_S, NULL, "start with the CPU stopped (monitor 'cont')" },
    { "d", O_D, "ITEM,...", "log items (-d help lists them)" },
    { "D", O_DLOG, "FILE", "write the log to FILE" },
    { "name", O_NAME, "NAME", "guest name (accepted)" },
    { "enable-kvm", O_ENABLE_KVM, NULL, NULL },
};
#define NOPTIONS (sizeof(options) / sizeof(options[0]))

static const char *const cpu_models[] = {
    "qemu32", "kvm32", "486", "pentium", "pentium2", "pentium3",
    "coreduo", "n270", "max", NULL,
};

#ifdef CONFIG_SDL
static const bool have_sdl = true;
#else
static const bool have_sdl = false;
#endif

static void usage(void)
{
    printf("usage: kestrel [options]\n"
           "Kestrel %s, a full-system x86 PC emulator with QEMU's command "
           "line.\n\n", KESTREL_VERSION);
    for (size_t i = 0; i < NOPTIONS; i++) {
        const struct option_def *o = &options[i];
        char lhs[64];
        if (!o->help)
            continue;
        snprintf(lhs, sizeof(lhs), "-%s%s%s", o->name, o->arg ? " " : "",
                 o->arg ? o->arg : "");
        if (strlen(lhs) > 26)
            printf("  %s\n  %-26s %s\n", lhs, "", o->help);
        else
            printf("  %-26s %s\n", lhs, o->help);
    }
    printf("\nOptions also take two dashes (--kernel). Ctrl-A x quits when "
           "the terminal is the guest's console.\n");
}

static _Noreturn void die(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("kestrel: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static _Noreturn void unsupported(const char *opt)
{
    die("-%s is not supported yet", opt);
}

/* QEMU's -m: a number of MiB, or with a K/M/G/T suffix; "size=" prefix. */
static uint64_t parse_ram_size(const char *s)
{
    const char *p = s;
    char *end;
    if (!strncmp(p, "size=", 5))
        p += 5;
    errno = 0;
    unsigned long long v = strtoull(p, &end, 10);
    if (end == p || errno || *p == '-')
        die("-m %s: not a size", s);
    unsigned shift = 20;
    if (*end) {
        switch (*end) {
        case 'k': case 'K': shift = 10; break;
        case 'm': case 'M': shift = 20; break;
        case 'g': case 'G': shift = 30; break;
        case 't': case 'T': shift = 40; break;
        default: die("-m %s: unknown size suffix '%c'", s, *end);
        }
        if (end[1] == 'B' || end[1] == 'b')
            end++;
        if (end[1])
            die("-m %s: trailing characters after the size", s);
    }
    if (v > (1ull << 40) >> shift)
        die("-m %s: too large", s);
    uint64_t bytes = (uint64_t)v << shift;
    /* A 32-bit PC without PAE sees under 4 GiB; PAE reaches more, but the
     * board maps RAM above 4 GiB only up to this limit. */
    if (bytes < (2u << 20))
        die("-m %s: at least 2 MiB of RAM is needed", s);
    if (bytes > (8ull << 30))
        die("-m %s: at most 8 GiB of RAM is supported", s);
    if (bytes & 0xfff)
        die("-m %s: the size must be a multiple of 4 KiB", s);
    return bytes;
}

/* Character device specs in -serial form; validated now so a typo fails
 * before the machine is built. */
static void check_chardev_spec(const char *opt, const char *s)
{
    static const char *const prefixes[] = {
        "file:", "pipe:", "tcp:", "chardev:", NULL
    };
    if (!strcmp(s, "stdio") || !strcmp(s, "null") || !strcmp(s, "none") ||
        !strcmp(s, "mon:stdio"))
        return;
    for (int i = 0; prefixes[i]; i++) {
        size_t n = strlen(prefixes[i]);
        if (!strncmp(s, prefixes[i], n)) {
            if (!s[n])
                die("-%s %s: missing the part after ':'", opt, s);
            if (!strcmp(prefixes[i], "chardev:") && !chardev_find(s + n))
                die("-%s %s: no -chardev with id '%s' (define it first)",
                    opt, s, s + n);
            return;
        }
    }
    if (!strcmp(s, "vc") || !strncmp(s, "vc:", 3) || !strcmp(s, "pty") ||
        !strncmp(s, "udp:", 4) || !strncmp(s, "unix:", 5) ||
        !strncmp(s, "telnet:", 7) || !strcmp(s, "msmouse") ||
        !strcmp(s, "braille") || !strncmp(s, "/dev/", 5))
        die("-%s %s: this character device is not supported yet", opt, s);
    die("-%s %s: unknown character device (stdio, file:PATH, null, none, "
        "pipe:PATH, tcp:HOST:PORT,server=on,wait=off, chardev:ID)", opt, s);
}

static void parse_machine(MachineConfig *cfg, const char *arg)
{
    char *copy = strdup(arg), *save = NULL;
    if (!copy)
        die("out of memory");
    if (!strcmp(arg, "help") || !strcmp(arg, "?")) {
        printf("Supported machines are:\n"
               "pc                   Standard PC (i440FX + PIIX, 1996) "
               "(default)\n");
        exit(0);
    }
    for (char *tok = strtok_r(copy, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq) {
            if (tok == copy && (!strcmp(tok, "pc") ||
                                !strncmp(tok, "pc-i440fx", 9)))
                continue;
            die("-machine %s: unknown machine '%s' (Kestrel has 'pc')",
                arg, tok);
        }
        *eq = 0;
        const char *val = eq + 1;
        if (!strcmp(tok, "type")) {
            if (strcmp(val, "pc") && strncmp(val, "pc-i440fx", 9))
                die("-machine %s: unknown machine '%s'", arg, val);
        } else if (!strcmp(tok, "accel")) {
            if (!strcmp(val, "tcg"))
                cfg->accel = ACCEL_TCG;
            else if (!strcmp(val, "interp"))
                cfg->accel = ACCEL_INTERP;
            else
                die("-machine %s: accelerator '%s' is not supported "
                    "(tcg, interp)", arg, val);
        } else {
            die("-machine %s: property '%s' is not supported", arg, tok);
        }
    }
    free(copy);
}

static void parse_accel(MachineConfig *cfg, const char *arg)
{
    size_t n = strcspn(arg, ",");
    if (!strcmp(arg, "help")) {
        printf("Accelerators supported in Kestrel:\ntcg\ninterp\n");
        exit(0);
    }
    if (n == 3 && !strncmp(arg, "tcg", 3))
        cfg->accel = ACCEL_TCG;
    else if (n == 6 && !strncmp(arg, "interp", 6))
        cfg->accel = ACCEL_INTERP;
    else
        die("-accel %s: unknown accelerator (tcg, interp)", arg);
    /* QEMU's tcg sub-options that mean nothing for one vCPU are fine. */
    if (arg[n] && strcmp(arg + n, ",thread=single"))
        die("-accel %s: option '%s' is not supported", arg, arg + n + 1);
}

static void parse_cpu(MachineConfig *cfg, const char *arg)
{
    if (!strcmp(arg, "help") || !strcmp(arg, "?")) {
        printf("Available CPUs (all run as Kestrel's P6-class model):\n");
        for (int i = 0; cpu_models[i]; i++)
            printf("  %s\n", cpu_models[i]);
        exit(0);
    }
    size_t n = strcspn(arg, ",");
    for (int i = 0; cpu_models[i]; i++) {
        if (strlen(cpu_models[i]) == n && !strncmp(arg, cpu_models[i], n)) {
            if (arg[n])
                die("-cpu %s: CPU feature flags are not supported yet", arg);
            cfg->cpu_model = cpu_models[i];
            return;
        }
    }
    die("-cpu %s: unknown CPU model (-cpu help lists them)", arg);
}

static void parse_boot(MachineConfig *cfg, const char *arg)
{
    const char *order = arg;
    if (!strncmp(arg, "order=", 6))
        order = arg + 6;
    else if (strchr(arg, '='))
        die("-boot %s: only order= is supported", arg);
    if (!*order || strlen(order) > 8)
        die("-boot %s: bad boot order", arg);
    for (const char *p = order; *p; p++)
        if (*p < 'a' || *p > 'p')
            die("-boot %s: bad boot device '%c' (a-p; c disk, d CD-ROM, "
                "n network)", arg, *p);
    cfg->boot_order = order;
}

static void parse_display(MachineConfig *cfg, const char *arg)
{
    size_t n = strcspn(arg, ",");
    if (!strcmp(arg, "help")) {
        printf("Available display backend types:\nnone\n%s",
               have_sdl ? "sdl\n" : "");
        exit(0);
    }
    if (n == 4 && !strncmp(arg, "none", 4)) {
        cfg->display = "none";
    } else if (n == 3 && !strncmp(arg, "sdl", 3)) {
        if (!have_sdl)
            die("-display sdl: Kestrel was built without SDL "
                "(configure --disable-sdl)");
        cfg->display = "sdl";
    } else {
        die("-display %s: unknown display (sdl, none)", arg);
    }
    if (arg[n])
        die("-display %s: display options are not supported", arg);
}

static void parse_rtc(MachineConfig *cfg, const char *arg)
{
    char *copy = strdup(arg), *save = NULL;
    if (!copy)
        die("out of memory");
    for (char *tok = strtok_r(copy, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        if (!strncmp(tok, "base=", 5)) {
            const char *v = arg + (tok - copy) + 5;
            size_t len = strcspn(v, ",");
            int y, mo, d, h = 0, mi = 0, s = 0, used = 0;
            if ((len == 3 && !strncmp(v, "utc", 3)) ||
                (len == 9 && !strncmp(v, "localtime", 9))) {
                cfg->rtc_base = v;
                continue;
            }
            if ((sscanf(v, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi,
                        &s, &used) == 6 ||
                 sscanf(v, "%4d-%2d-%2d%n", &y, &mo, &d, &used) == 3) &&
                (size_t)used == len && mo >= 1 && mo <= 12 && d >= 1 &&
                d <= 31 && h < 24 && mi < 60 && s < 60 && y >= 1900) {
                cfg->rtc_base = v;
                continue;
            }
            die("-rtc %s: bad base (utc, localtime or "
                "YYYY-MM-DDTHH:MM:SS)", arg);
        } else if (!strcmp(tok, "clock=host") || !strcmp(tok, "clock=vm") ||
                   !strcmp(tok, "driftfix=none")) {
            continue;
        } else {
            die("-rtc %s: option '%s' is not supported", arg, tok);
        }
    }
    free(copy);
}

static void parse_screendump_at(MachineConfig *cfg, const char *arg)
{
    char *end;
    errno = 0;
    double t = strtod(arg, &end);
    if (end == arg || *end != ':' || !end[1] || errno || t < 0 || t > 1e6)
        die("-screendump-at %s: expected SECONDS:FILE.png", arg);
    if (cfg->nscreendumps >= 4)
        die("-screendump-at: at most 4 screendumps");
    cfg->screendump_at[cfg->nscreendumps++] = arg;
}

static const struct option_def *find_option(const char *name)
{
    for (size_t i = 0; i < NOPTIONS; i++)
        if (!strcmp(options[i].name, name))
            return &options[i];
    return NULL;
}

int main(int argc, char **argv)
{
    MachineConfig cfg = {
        .ram_size = 128ull << 20,
        .boot_order = NULL,
        .accel = ACCEL_TCG,
        .cpu_model = "qemu32",
    };
    char err[256];
    const char *serial_default = NULL;  /* set by -nographic */
    bool have_serial = false, have_monitor = false, have_display = false;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || !a[1])
            die("'%s': not an option (options start with '-'; see -h)", a);
        const char *name = a + 1 + (a[1] == '-');
        const struct option_def *o = find_option(name);
        const char *arg = NULL;
        if (!o)
            die("unknown option '%s' (see -h)", a);
        if (o->arg) {
            if (i + 1 >= argc)
                die("%s needs an argument (%s)", a, o->arg);
            arg = argv[++i];
        }
        switch (o->id) {
        case O_VERSION:
            printf("Kestrel emulator version %s (backend %s)\n",
                   KESTREL_VERSION, CONFIG_BACKEND);
            return 0;
        case O_HELP:
            usage();
            return 0;
        case O_M: cfg.ram_size = parse_ram_size(arg); break;
        case O_BIOS: cfg.bios = arg; break;
        case O_KERNEL:
            if (access(arg, R_OK))
                die("-kernel %s: %s", arg, strerror(errno));
            cfg.kernel = arg;
            break;
        case O_INITRD: cfg.initrd = arg; break;
        case O_APPEND: cfg.append = arg; break;
        case O_HDA: case O_HDB: case O_HDC: case O_HDD: case O_CDROM:
        case O_DRIVE:
            if (drive_config_add(&cfg, o->id == O_DRIVE ? -1 :
                                 o->id == O_CDROM ? 2 : o->id - O_HDA,
                                 o->id == O_CDROM, arg, err, sizeof(err)))
                die("-%s %s: %s", o->name, arg, err);
            break;
        case O_NETDEV:
            unsupported(o->name);
        case O_NIC: case O_NET:
            if (!strcmp(arg, "none"))
                break;
            unsupported(o->name);
        case O_SNAPSHOT: cfg.snapshot = true; break;
        case O_BOOT: parse_boot(&cfg, arg); break;
        case O_SERIAL:
            check_chardev_spec("serial", arg);
            if (cfg.nserial >= 4)
                die("-serial: at most 4 serial ports");
            cfg.serial[cfg.nserial++] = strcmp(arg, "none") ? arg : NULL;
            have_serial = true;
            break;
        case O_DEBUGCON:
            check_chardev_spec("debugcon", arg);
            cfg.debugcon = strcmp(arg, "none") ? arg : NULL;
            break;
        case O_MONITOR:
            check_chardev_spec("monitor", arg);
            cfg.monitor = strcmp(arg, "none") ? arg : NULL;
            have_monitor = true;
            break;
        case O_CHARDEV:
            if (chardev_define(arg, err, sizeof(err)))
                die("%s", err);
            break;
        case O_DEVICE: {
            int r = device_help(arg, stdout);
            if (r > 0)
                return 0;
            if (device_check(arg, err, sizeof(err)))
                die("%s", err);
            if (cfg.ndevices >= MAX_DEVICES)
                die("-device: at most %d devices", MAX_DEVICES);
            cfg.devices[cfg.ndevices++] = arg;
            break;
        }
        case O_GLOBAL:
            if (global_check(arg, err, sizeof(err)))
                die("%s", err);
            if (cfg.nglobals >= MAX_DEVICES)
                die("-global: at most %d", MAX_DEVICES);
            cfg.globals[cfg.nglobals++] = arg;
            break;
        case O_NODEFAULTS: cfg.nodefaults = true; break;
        case O_DISPLAY: parse_display(&cfg, arg); have_display = true; break;
        case O_NOGRAPHIC:
            cfg.nographic = true;
            cfg.display = "none";
            serial_default = "stdio";
            break;
        case O_VGA:
            if (!strcmp(arg, "none"))
                cfg.nodefaults_vga = true;
            else if (strcmp(arg, "std"))
                die("-vga %s: only std and none are supported", arg);
            break;
        case O_SCREENDUMP_AT: parse_screendump_at(&cfg, arg); break;
        case O_NO_REBOOT: cfg.no_reboot = true; break;
        case O_NO_SHUTDOWN: unsupported(o->name);
        case O_RTC: parse_rtc(&cfg, arg); break;
        case O_ACCEL: parse_accel(&cfg, arg); break;
        case O_MACHINE: parse_machine(&cfg, arg); break;
        case O_CPU: parse_cpu(&cfg, arg); break;
        case O_SMP:
            if (strcmp(arg, "1") && strcmp(arg, "cpus=1"))
                die("-smp %s: only one CPU is supported", arg);
            break;
        case O_GDB: cfg.gdb = arg; break;
        case O_S_GDB: cfg.gdb = "tcp::1234"; break;
        case O_S: cfg.start_paused = true; break;
        case O_D: {
            uint32_t mask;
            int r = trace_parse(arg, &mask, err, sizeof(err));
            if (r < 0)
                die("%s", err);
            if (r > 0)
                return 0;
            cfg.trace = arg;
            trace_flags |= mask;
            break;
        }
        case O_DLOG:
            if (trace_set_logfile(arg, err, sizeof(err)))
                die("%s", err);
            cfg.logfile = arg;
            break;
        case O_NAME: cfg.name = arg; break;
        case O_ENABLE_KVM:
            die("-enable-kvm: Kestrel is a pure emulator; use -accel tcg");
        }
    }

    /* QEMU's defaults: COM1 goes to the terminal with -nographic, and to
     * nowhere with -nodefaults; the display is a window when possible. */
    if (!have_serial && !cfg.nodefaults && serial_default)
        cfg.serial[cfg.nserial++] = serial_default;
    if (cfg.nographic && !have_monitor && !cfg.nodefaults)
        cfg.monitor_mux_stdio = true;
    if (!cfg.display)
        cfg.display = have_sdl &&
                      (getenv("DISPLAY") || getenv("WAYLAND_DISPLAY"))
                      ? "sdl" : "none";
    (void)have_display;
    if (cfg.start_paused && !cfg.monitor && !cfg.monitor_mux_stdio &&
        !cfg.gdb)
        die("-S needs -gdb, -monitor or -nographic to continue the machine");

    /* A reader that goes away (kestrel ... | head) must not kill the
     * machine; writes to it just fail. */
    signal(SIGPIPE, SIG_IGN);
    Machine *m = machine_create(&cfg, err, sizeof(err));
    if (!m)
        die("%s", err);
    int status = machine_run(m);
    machine_destroy(m);
    chardev_close_all();
    trace_close();
    return status;
}
