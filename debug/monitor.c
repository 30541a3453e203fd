/* The human monitor. Commands and their output follow QEMU's HMP where
 * Kestrel has the feature, so muscle memory and expect scripts carry over
 * (the prompt is QEMU's "(qemu) " for that reason). Commands are a table;
 * each gets the rest of the line. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "debug/monitor.h"
#include "cpu/cpu.h"
#include "ui/console.h"

#define LINE_MAX_LEN 512

struct Monitor {
    Chardev *chr;
    Machine *m;
    char line[LINE_MAX_LEN];
    size_t len;
    bool last_cr;
    bool greeted;
};

static void mprintf(Monitor *mon, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Output goes through the chardev with LF turned into CR LF, since a
 * terminal in raw mode would otherwise staircase the lines. */
static void mprintf(Monitor *mon, const char *fmt, ...)
{
    char buf[1024], out[2048];
    size_t n = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    for (const char *p = buf; *p && n < sizeof(out) - 2; p++) {
        if (*p == '\n')
            out[n++] = '\r';
        out[n++] = *p;
    }
    chardev_write(mon->chr, (const uint8_t *)out, n);
}

static void prompt(Monitor *mon)
{
    mprintf(mon, "(qemu) ");
}

/* ---- info ---- */

static void print_seg(Monitor *mon, const char *name, const SegCache *s)
{
    mprintf(mon, "%s =%04x %08x %08x %08x\n", name, s->sel, s->base,
            s->limit, s->flags);
}

static void info_registers(Monitor *mon)
{
    CPUState *c = machine_cpu(mon->m);
    static const char *const segs[] = { "ES", "CS", "SS", "DS", "FS", "GS",
                                        "LDT", "TR" };
    uint32_t ef = cpu_get_eflags(c);
    mprintf(mon, "EAX=%08x EBX=%08x ECX=%08x EDX=%08x\n",
            c->regs[R_EAX], c->regs[R_EBX], c->regs[R_ECX], c->regs[R_EDX]);
    mprintf(mon, "ESI=%08x EDI=%08x EBP=%08x ESP=%08x\n",
            c->regs[R_ESI], c->regs[R_EDI], c->regs[R_EBP], c->regs[R_ESP]);
    mprintf(mon, "EIP=%08x EFL=%08x [%c%c%c%c%c%c%c] CPL=%d II=%d HLT=%d\n",
            c->eip, ef, ef & EF_DF ? 'D' : '-', ef & EF_OF ? 'O' : '-',
            ef & EF_SF ? 'S' : '-', ef & EF_ZF ? 'Z' : '-',
            ef & EF_AF ? 'A' : '-', ef & EF_PF ? 'P' : '-',
            ef & EF_CF ? 'C' : '-', c->cpl, c->inhibit_irq, c->halted);
    for (int i = 0; i < 8; i++) {
        char name[4];
        snprintf(name, sizeof(name), "%-3s", segs[i]);
        print_seg(mon, name, &c->seg[i]);
    }
    mprintf(mon, "GDT=     %08x %08x\n", c->gdt.base, c->gdt.limit);
    mprintf(mon, "IDT=     %08x %08x\n", c->idt.base, c->idt.limit);
    mprintf(mon, "CR0=%08x CR2=%08x CR3=%08x CR4=%08x\n", c->cr0, c->cr2,
            c->cr3, c->cr4);
    mprintf(mon, "EFER=%016llx\n", (unsigned long long)c->efer);
}

/* Walks the guest page tables straight from physical memory (no side
 * effects on accessed/dirty bits) and prints each present mapping. */
static void info_tlb(Monitor *mon)
{
    CPUState *c = machine_cpu(mon->m);
    Bus *b = machine_bus(mon->m);
    if (!(c->cr0 & CR0_PG)) {
        mprintf(mon, "PG disabled\n");
        return;
    }
    int shown = 0;
    if (c->cr4 & CR4_PAE) {
        uint64_t pdpt = c->cr3 & ~0x1fu;
        for (int i = 0; i < 4; i++) {
            uint64_t pdpte = bus_mem_read(b, pdpt + 8 * (uint64_t)i, 8);
            if (!(pdpte & 1))
                continue;
            uint64_t pd = pdpte & 0x000ffffffffff000ull;
            for (int j = 0; j < 512; j++) {
                uint64_t pde = bus_mem_read(b, pd + 8 * (uint64_t)j, 8);
                uint32_t va = (uint32_t)i << 30 | (uint32_t)j << 21;
                if (!(pde & 1))
                    continue;
                if (pde & 0x80) {
                    mprintf(mon, "%08x: %012llx 2M %c%c\n", va,
                            (unsigned long long)(pde & 0xfffffffe00000ull),
                            pde & 2 ? 'W' : '-', pde & 4 ? 'U' : '-');
                    shown++;
                    continue;
                }
                uint64_t pt = pde & 0x000ffffffffff000ull;
                for (int k = 0; k < 512; k++) {
                    uint64_t pte = bus_mem_read(b, pt + 8 * (uint64_t)k, 8);
                    if (pte & 1) {
                        mprintf(mon, "%08x: %012llx %c%c\n",
                                va | (uint32_t)k << 12,
                                (unsigned long long)(pte & 0xffffffffff000ull),
                                pte & 2 ? 'W' : '-', pte & 4 ? 'U' : '-');
                        shown++;
                    }
                }
            }
        }
    } else {
        uint32_t pd = c->cr3 & ~0xfffu;
        for (uint32_t i = 0; i < 1024; i++) {
            uint32_t pde = (uint32_t)bus_mem_read(b, pd + 4 * i, 4);
            uint32_t va = i << 22;
            if (!(pde & 1))
                continue;
            if ((pde & 0x80) && (c->cr4 & CR4_PSE)) {
                mprintf(mon, "%08x: %08x 4M %c%c\n", va, pde & 0xffc00000u,
                        pde & 2 ? 'W' : '-', pde & 4 ? 'U' : '-');
                shown++;
                continue;
            }
            uint32_t pt = pde & ~0xfffu;
            for (uint32_t k = 0; k < 1024; k++) {
                uint32_t pte = (uint32_t)bus_mem_read(b, pt + 4 * k, 4);
                if (pte & 1) {
                    mprintf(mon, "%08x: %08x %c%c\n", va | k << 12,
                            pte & ~0xfffu, pte & 2 ? 'W' : '-',
                            pte & 4 ? 'U' : '-');
                    shown++;
                }
            }
        }
    }
    if (!shown)
        mprintf(mon, "no present mappings\n");
}

static void cmd_info(Monitor *mon, const char *arg)
{
    if (!strcmp(arg, "registers"))
        info_registers(mon);
    else if (!strcmp(arg, "tlb"))
        info_tlb(mon);
    else if (!strcmp(arg, "status"))
        mprintf(mon, "VM status: %s\n",
                machine_paused(mon->m) ? "paused" : "running");
    else if (!strcmp(arg, "version"))
        mprintf(mon, "%s\n", KESTREL_VERSION);
    else
        mprintf(mon, "info: registers, tlb, status, version\n");
}

/* ---- memory dumps: x/FMT ADDR (linear), xp/FMT ADDR (physical) ---- */

static void dump_memory(Monitor *mon, const char *cmd, const char *arg,
                        bool physical)
{
    int count = 1, size = 4;
    char fmt = 'x';
    const char *p = cmd + (physical ? 2 : 1);
    if (*p == '/') {
        p++;
        if (isdigit((unsigned char)*p))
            count = (int)strtol(p, (char **)&p, 10);
        for (; *p; p++) {
            switch (*p) {
            case 'x': case 'd': case 'u': case 'o': case 'c': fmt = *p; break;
            case 'b': size = 1; break;
            case 'h': size = 2; break;
            case 'w': size = 4; break;
            case 'g': size = 8; break;
            default:
                mprintf(mon, "invalid format '%c'\n", *p);
                return;
            }
        }
        if (fmt == 'c')
            size = 1;
    }
    char *end;
    unsigned long long addr = strtoull(arg, &end, 0);
    if (end == arg) {
        mprintf(mon, "%s: address expected\n", physical ? "xp" : "x");
        return;
    }
    if (count < 1 || count > 4096) {
        mprintf(mon, "count must be 1..4096\n");
        return;
    }
    CPUState *c = machine_cpu(mon->m);
    Bus *b = machine_bus(mon->m);
    int per_line = fmt == 'c' ? 16 : 16 / size;
    for (int i = 0; i < count; i++) {
        uint64_t a = addr + (uint64_t)i * (uint64_t)size;
        uint64_t pa = a;
        if (i % per_line == 0)
            mprintf(mon, "%s%0*llx:", i ? "\n" : "", physical ? 16 : 8,
                    (unsigned long long)a);
        if (!physical) {
            int64_t t = cpu_probe(c, (uint32_t)a);
            if (t < 0) {
                mprintf(mon, "\nCannot access memory\n");
                return;
            }
            pa = (uint64_t)t;
        }
        uint64_t v = bus_mem_read(b, pa, size);
        switch (fmt) {
        case 'x': mprintf(mon, " 0x%0*llx", size * 2, (unsigned long long)v);
                  break;
        case 'd': {
            int64_t sv = size == 1 ? (int8_t)v : size == 2 ? (int16_t)v
                       : size == 4 ? (int32_t)v : (int64_t)v;
            mprintf(mon, " %lld", (long long)sv);
            break;
        }
        case 'u': mprintf(mon, " %llu", (unsigned long long)v); break;
        case 'o': mprintf(mon, " %llo", (unsigned long long)v); break;
        case 'c': mprintf(mon, " %c", isprint((int)v) ? (int)v : '.'); break;
        }
    }
    mprintf(mon, "\n");
}

/* ---- the command table ---- */

static void cmd_help(Monitor *mon, const char *arg);

static void cmd_stop(Monitor *mon, const char *arg)
{
    machine_pause(mon->m, true);
}

static void cmd_cont(Monitor *mon, const char *arg)
{
    machine_pause(mon->m, false);
}

static void cmd_reset(Monitor *mon, const char *arg)
{
    machine_request_reset(mon->m);
}

static void cmd_quit(Monitor *mon, const char *arg)
{
    machine_request_shutdown(mon->m, 0);
}

static void cmd_screendump(Monitor *mon, const char *arg)
{
    char err[256];
    if (!*arg) {
        mprintf(mon, "screendump: file name expected\n");
        return;
    }
    if (console_screendump(arg, err, sizeof(err)))
        mprintf(mon, "screendump: %s\n", err);
}

/* QEMU's key names for sendkey, as PS/2 set-2 make codes (0xE0xx for the
 * extended keys), the encoding console_key takes. */
static const struct { const char *name; uint32_t code; } keys[] = {
    { "a", 0x1c }, { "b", 0x32 }, { "c", 0x21 }, { "d", 0x23 }, { "e", 0x24 },
    { "f", 0x2b }, { "g", 0x34 }, { "h", 0x33 }, { "i", 0x43 }, { "j", 0x3b },
    { "k", 0x42 }, { "l", 0x4b }, { "m", 0x3a }, { "n", 0x31 }, { "o", 0x44 },
    { "p", 0x4d }, { "q", 0x15 }, { "r", 0x2d }, { "s", 0x1b }, { "t", 0x2c },
    { "u", 0x3c }, { "v", 0x2a }, { "w", 0x1d }, { "x", 0x22 }, { "y", 0x35 },
    { "z", 0x1a }, { "1", 0x16 }, { "2", 0x1e }, { "3", 0x26 }, { "4", 0x25 },
    { "5", 0x2e }, { "6", 0x36 }, { "7", 0x3d }, { "8", 0x3e }, { "9", 0x46 },
    { "0", 0x45 }, { "ret", 0x5a }, { "spc", 0x29 }, { "tab", 0x0d },
    { "backspace", 0x66 }, { "esc", 0x76 }, { "minus", 0x4e },
    { "equal", 0x55 }, { "bracket_left", 0x54 }, { "bracket_right", 0x5b },
    { "backslash", 0x5d }, { "semicolon", 0x4c }, { "apostrophe", 0x52 },
    { "grave_accent", 0x0e }, { "comma", 0x41 }, { "dot", 0x49 },
    { "slash", 0x4a }, { "shift", 0x12 }, { "shift_r", 0x59 },
    { "ctrl", 0x14 }, { "ctrl_r", 0xe014 }, { "alt", 0x11 },
    { "alt_r", 0xe011 }, { "caps_lock", 0x58 }, { "f1", 0x05 },
    { "f2", 0x06 }, { "f3", 0x04 }, { "f4", 0x0c }, { "f5", 0x03 },
    { "f6", 0x0b }, { "f7", 0x83 }, { "f8", 0x0a }, { "f9", 0x01 },
    { "f10", 0x09 }, { "f11", 0x78 }, { "f12", 0x07 }, { "up", 0xe075 },
    { "down", 0xe072 }, { "left", 0xe06b }, { "right", 0xe074 },
    { "home", 0xe06c }, { "end", 0xe069 }, { "pgup", 0xe07d },
    { "pgdn", 0xe07a }, { "insert", 0xe070 }, { "delete", 0xe071 },
};

/* sendkey ctrl-alt-delete: press each key of the combination in order,
 * then release them in reverse, as QEMU does. */
static void cmd_sendkey(Monitor *mon, const char *arg)
{
    uint32_t codes[8];
    int n = 0;
    const char *p = arg;
    if (!*p) {
        mprintf(mon, "sendkey: key name expected (e.g. ctrl-alt-delete)\n");
        return;
    }
    while (*p && *p != ' ') {
        size_t len = strcspn(p, "- ");
        size_t i;
        for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
            if (strlen(keys[i].name) == len && !strncmp(keys[i].name, p, len))
                break;
        if (i == sizeof(keys) / sizeof(keys[0]) || n == 8) {
            mprintf(mon, "sendkey: unknown key '%.*s'\n", (int)len, p);
            return;
        }
        codes[n++] = keys[i].code;
        p += len;
        if (*p == '-')
            p++;
    }
    for (int i = 0; i < n; i++)
        console_key(codes[i], true);
    for (int i = n - 1; i >= 0; i--)
        console_key(codes[i], false);
}

static const struct MonCmd {
    const char *name, *alias, *args, *help;
    void (*fn)(Monitor *mon, const char *arg);
} cmds[] = {
    { "help", "?", "[cmd]", "show the help", cmd_help },
    { "info", NULL, "subsystem", "registers, tlb, status, version", cmd_info },
    { "x", NULL, "/fmt addr", "virtual memory dump (fmt: count, x d u o c, "
      "b h w g)", NULL },
    { "xp", NULL, "/fmt addr", "physical memory dump", NULL },
    { "stop", "s", "", "stop emulation", cmd_stop },
    { "cont", "c", "", "resume emulation", cmd_cont },
    { "system_reset", NULL, "", "reset the system", cmd_reset },
    { "screendump", NULL, "filename", "save the screen as PNG",
      cmd_screendump },
    { "sendkey", NULL, "keys", "send keys to the guest (e.g. ctrl-alt-f1)",
      cmd_sendkey },
    { "quit", "q", "", "quit the emulator", cmd_quit },
};
#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

static void cmd_help(Monitor *mon, const char *arg)
{
    for (size_t i = 0; i < NCMDS; i++) {
        if (*arg && strcmp(arg, cmds[i].name))
            continue;
        mprintf(mon, "%s%s%s %s -- %s\n", cmds[i].name,
                cmds[i].alias ? "|" : "", cmds[i].alias ? cmds[i].alias : "",
                cmds[i].args, cmds[i].help);
    }
}

void monitor_command(Monitor *mon, const char *line)
{
    char word[64];
    while (isspace((unsigned char)*line))
        line++;
    size_t n = strcspn(line, " \t");
    if (!n)
        return;
    if (n >= sizeof(word)) {
        mprintf(mon, "unknown command: '%.20s...'\n", line);
        return;
    }
    memcpy(word, line, n);
    word[n] = 0;
    const char *arg = line + n;
    while (isspace((unsigned char)*arg))
        arg++;
    char argbuf[LINE_MAX_LEN];
    snprintf(argbuf, sizeof(argbuf), "%s", arg);
    for (size_t l = strlen(argbuf); l && isspace((unsigned char)argbuf[l - 1]);)
        argbuf[--l] = 0;

    if (word[0] == 'x' && (word[1] == 0 || word[1] == '/')) {
        dump_memory(mon, word, argbuf, false);
        return;
    }
    if (word[0] == 'x' && word[1] == 'p' && (word[2] == 0 || word[2] == '/')) {
        dump_memory(mon, word, argbuf, true);
        return;
    }
    for (size_t i = 0; i < NCMDS; i++) {
        if (cmds[i].fn && (!strcmp(word, cmds[i].name) ||
                           (cmds[i].alias && !strcmp(word, cmds[i].alias)))) {
            cmds[i].fn(mon, argbuf);
            return;
        }
    }
    mprintf(mon, "unknown command: '%s'\n", word);
}

/* ---- input: a minimal line editor ---- */

static size_t mon_can_read(void *opaque)
{
    return LINE_MAX_LEN;
}

static void mon_read(void *opaque, const uint8_t *buf, size_t len)
{
    Monitor *mon = opaque;
    if (!len) {
        /* The terminal's focus just moved to us (Ctrl-A c). */
        if (!mon->greeted) {
            mon->greeted = true;
            mprintf(mon, "Kestrel %s monitor - type 'help' for more "
                    "information\n", KESTREL_VERSION);
        }
        prompt(mon);
        return;
    }
    for (size_t i = 0; i < len; i++) {
        uint8_t ch = buf[i];
        if (ch == '\n' && mon->last_cr) {
            mon->last_cr = false;        /* CR LF from a terminal: one line */
            continue;
        }
        mon->last_cr = ch == '\r';
        if (ch == '\r' || ch == '\n') {
            mprintf(mon, "\n");
            mon->line[mon->len] = 0;
            monitor_command(mon, mon->line);
            mon->len = 0;
            prompt(mon);
        } else if (ch == 0x7f || ch == 0x08) {
            if (mon->len) {
                mon->len--;
                mprintf(mon, "\b \b");
            }
        } else if (ch >= 0x20 && ch < 0x7f && mon->len < LINE_MAX_LEN - 1) {
            mon->line[mon->len++] = (char)ch;
            chardev_write(mon->chr, &ch, 1);
        }
    }
}

Monitor *monitor_new(Chardev *chr, Machine *m, bool quiet)
{
    Monitor *mon = calloc(1, sizeof(*mon));
    if (!mon)
        return NULL;
    mon->chr = chr;
    mon->m = m;
    if (!quiet) {
        mon->greeted = true;
        mprintf(mon, "Kestrel %s monitor - type 'help' for more "
                "information\n", KESTREL_VERSION);
        prompt(mon);
    }
    chardev_set_handlers(chr, mon_can_read, mon_read, mon);
    return mon;
}

void monitor_free(Monitor *mon)
{
    if (!mon)
        return;
    chardev_set_handlers(mon->chr, NULL, NULL, NULL);
    free(mon);
}
