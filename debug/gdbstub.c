/* The gdb remote stub: gdb's Remote Serial Protocol over a chardev.
 *
 * The stub lives on the machine's event loop: bytes from gdb arrive
 * between guest slices (or while the machine is paused), so commands never
 * race the CPU. Resuming unpauses the machine; the CPU stops again through
 * cpu_exec returning EXEC_DEBUG (a breakpoint in CPUState.breakpoints, or
 * the end of CPUState.singlestep) and the board calling
 * gdbstub_cpu_stopped, or through Ctrl-C from gdb.
 *
 * Breakpoints never touch guest memory: cpu_exec compares the linear
 * address of each instruction with the list, so Z0 and Z1 are the same
 * thing here. While any is set cpu_exec interprets every instruction
 * rather than running translated blocks, which could run past one. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "debug/gdbstub.h"
#include "system/chardev.h"
#include "cpu/cpu.h"

/* ---- the packet layer ---- */

enum { RX_IDLE, RX_DATA, RX_CSUM1, RX_CSUM2 };

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

static const char hexdig[] = "0123456789abcdef";

void gdb_rx_init(GdbRx *rx)
{
    memset(rx, 0, sizeof(*rx));
    rx->state = RX_IDLE;
}

int gdb_rx_byte(GdbRx *rx, uint8_t ch)
{
    int v;
    switch (rx->state) {
    case RX_IDLE:
        if (ch == '$') {
            rx->state = RX_DATA;
            rx->len = 0;
            rx->sum = 0;
            rx->overflow = false;
            return GDB_RX_NONE;
        }
        if (ch == '+')
            return GDB_RX_ACK;
        if (ch == '-')
            return GDB_RX_NACK;
        if (ch == 0x03)
            return GDB_RX_INTERRUPT;
        return GDB_RX_NONE;        /* line noise between packets */
    case RX_DATA:
        if (ch == '#') {
            rx->state = RX_CSUM1;
            return GDB_RX_NONE;
        }
        if (ch == '$') {
            /* A new start inside a packet: the earlier one was cut off;
             * gdb resends it, so begin again. */
            rx->len = 0;
            rx->sum = 0;
            rx->overflow = false;
            return GDB_RX_NONE;
        }
        rx->sum = (uint8_t)(rx->sum + ch);
        if (rx->len < GDB_MAX_PACKET)
            rx->buf[rx->len++] = (char)ch;
        else
            rx->overflow = true;
        return GDB_RX_NONE;
    case RX_CSUM1:
        v = hexval(ch);
        if (v < 0) {
            rx->state = RX_IDLE;
            return GDB_RX_BAD;
        }
        rx->csum = (uint8_t)(v << 4);
        rx->state = RX_CSUM2;
        return GDB_RX_NONE;
    default:
        rx->state = RX_IDLE;
        v = hexval(ch);
        if (v < 0)
            return GDB_RX_BAD;
        rx->csum |= (uint8_t)v;
        if (rx->overflow)
            return GDB_RX_OVERFLOW;
        if (rx->csum != rx->sum)
            return GDB_RX_BAD;
        rx->buf[rx->len] = 0;
        return GDB_RX_PACKET;
    }
}

size_t gdb_frame(const uint8_t *payload, size_t len, char *out, size_t cap)
{
    size_t n = 0;
    uint8_t sum = 0;
    if (cap < 4)
        return 0;
    out[n++] = '$';
    for (size_t i = 0; i < len; i++) {
        uint8_t ch = payload[i];
        bool esc = ch == '$' || ch == '#' || ch == '}' || ch == '*';
        if (n + (esc ? 2 : 1) + 3 > cap)
            return 0;
        if (esc) {
            out[n++] = '}';
            sum = (uint8_t)(sum + '}');
            ch ^= 0x20;
        }
        out[n++] = (char)ch;
        sum = (uint8_t)(sum + ch);
    }
    out[n++] = '#';
    out[n++] = hexdig[sum >> 4];
    out[n++] = hexdig[sum & 15];
    return n;
}

long gdb_unescape(uint8_t *buf, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '}') {
            if (++i >= len)
                return -1;
            buf[o++] = buf[i] ^ 0x20;
        } else {
            buf[o++] = buf[i];
        }
    }
    return (long)o;
}

/* ---- the stub ---- */

struct GdbStub {
    Machine *m;
    CPUState *cpu;
    Chardev *chr;
    GdbRx rx;
    bool noack;
    bool running;           /* gdb resumed us: a stop reply is owed */
    bool stepping;
    uint64_t resume_icount;
    /* One kind per breakpoint slot (Z0 or Z1), for the stop reason. */
    uint8_t bp_type[CPU_MAX_BREAKPOINTS];
    char out[2 * GDB_MAX_PACKET + 8];
    size_t out_len;         /* last packet sent, for a '-' */
};

/* A reply being built; binary-safe because qXfer data is framed raw. */
typedef struct Reply {
    uint8_t buf[GDB_MAX_PACKET];
    size_t len;
    bool none;              /* send nothing (resume, kill) */
} Reply;

static void put_str(Reply *r, const char *s)
{
    size_t n = strlen(s);
    if (n > sizeof(r->buf) - r->len)
        n = sizeof(r->buf) - r->len;
    memcpy(r->buf + r->len, s, n);
    r->len += n;
}

static void put_hex(Reply *r, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n && r->len + 2 <= sizeof(r->buf); i++) {
        r->buf[r->len++] = (uint8_t)hexdig[p[i] >> 4];
        r->buf[r->len++] = (uint8_t)hexdig[p[i] & 15];
    }
}

static void send_packet(GdbStub *g, const uint8_t *p, size_t len)
{
    size_t n = gdb_frame(p, len, g->out, sizeof(g->out));
    if (!n)
        n = gdb_frame((const uint8_t *)"E01", 3, g->out, sizeof(g->out));
    g->out_len = n;
    chardev_write(g->chr, (const uint8_t *)g->out, n);
}

static void send_str(GdbStub *g, const char *s)
{
    send_packet(g, (const uint8_t *)s, strlen(s));
}

/* Parse hex digits at *p (at most 16); false when there are none. */
static bool parse_hex(const char **p, uint64_t *out)
{
    uint64_t v = 0;
    int n = 0, d;
    while ((d = hexval((unsigned char)**p)) >= 0) {
        if (++n > 16)
            return false;
        v = v << 4 | (uint64_t)d;
        (*p)++;
    }
    *out = v;
    return n > 0;
}

static bool parse_hex_bytes(const char *s, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int hi = hexval((unsigned char)s[2 * i]);
        int lo = hi < 0 ? -1 : hexval((unsigned char)s[2 * i + 1]);
        if (lo < 0)
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

/* ---- registers: gdb's i386 numbering ---- */

enum {
    REG_EIP = 8, REG_EFLAGS = 9, REG_CS = 10, REG_ST0 = 16, REG_FCTRL = 24,
    REG_XMM0 = 32, REG_MXCSR = 40, NUM_REGS = 41,
};
/* gdb's order of the selectors: cs ss ds es fs gs. */
static const int seg_order[6] = { R_CS, R_SS, R_DS, R_ES, R_FS, R_GS };

static int reg_size(int n)
{
    if (n >= REG_ST0 && n < REG_FCTRL)
        return 10;
    if (n >= REG_XMM0 && n < REG_MXCSR)
        return 16;
    return 4;
}

/* The x87 80-bit format from the host's long double (which is not
 * necessarily that format: aarch64 has binary128). */
static void ext80_store(long double v, uint8_t out[10])
{
    uint16_t sexp = signbit(v) ? 0x8000 : 0;
    uint64_t sig = 0;
    if (isnan(v)) {
        sexp |= 0x7fff;
        sig = 3ull << 62;                   /* the default quiet NaN */
    } else if (isinf(v)) {
        sexp |= 0x7fff;
        sig = 1ull << 63;
    } else if (v != 0) {
        int e;
        long double f = frexpl(fabsl(v), &e);      /* [0.5, 1) * 2^e */
        int biased = e + 16382;
        if (biased > 0) {
            sig = (uint64_t)ldexpl(f, 64);
            sexp |= (uint16_t)(biased > 0x7ffe ? 0x7fff : biased);
        } else {
            sig = (uint64_t)ldexpl(f, biased + 63); /* denormal */
        }
    }
    memcpy(out, &sig, 8);
    memcpy(out + 8, &sexp, 2);
}

static long double ext80_load(const uint8_t in[10])
{
    uint64_t sig;
    uint16_t sexp;
    memcpy(&sig, in, 8);
    memcpy(&sexp, in + 8, 2);
    int e = sexp & 0x7fff;
    long double v;
    if (e == 0x7fff)
        v = (sig << 1) ? NAN : INFINITY;
    else
        v = ldexpl((long double)sig, (e ? e : 1) - 16383 - 63);
    return (sexp & 0x8000) ? -v : v;
}

static uint32_t fpu_reg32(CPUState *c, int k)
{
    FPUState *f = &c->fpu;
    switch (k) {
    case 0: return f->fcw;
    case 1: return (f->fsw & ~0x3800u) | ((uint32_t)(f->top & 7) << 11);
    case 2: return f->ftw;
    case 3: return f->fcs;
    case 4: return f->fip;
    case 5: return f->fds;
    case 6: return f->fdp;
    default: return f->fop;
    }
}

static void set_fpu_reg32(CPUState *c, int k, uint32_t v)
{
    FPUState *f = &c->fpu;
    switch (k) {
    case 0: f->fcw = (uint16_t)v; break;
    case 1: f->fsw = (uint16_t)(v & ~0x3800u); f->top = (v >> 11) & 7; break;
    case 2: f->ftw = (uint16_t)v; break;
    case 3: f->fcs = v & 0xffff; break;
    case 4: f->fip = v; break;
    case 5: f->fds = v & 0xffff; break;
    case 6: f->fdp = v; break;
    default: f->fop = (uint16_t)(v & 0x7ff); break;
    }
}

/* Little-endian bytes of register n into out; returns its size. */
static int reg_read(CPUState *c, int n, uint8_t *out)
{
    uint32_t v;
    if (n >= REG_ST0 && n < REG_FCTRL) {
        ext80_store(c->fpu.st[(c->fpu.top + n - REG_ST0) & 7], out);
        return 10;
    }
    if (n >= REG_XMM0 && n < REG_MXCSR) {
        memcpy(out, c->xmm[n - REG_XMM0], 16);
        return 16;
    }
    if (n < 8)
        v = c->regs[n];
    else if (n == REG_EIP)
        v = c->eip;
    else if (n == REG_EFLAGS)
        v = cpu_get_eflags(c);
    else if (n < REG_ST0)
        v = c->seg[seg_order[n - REG_CS]].sel;
    else if (n < REG_XMM0)
        v = fpu_reg32(c, n - REG_FCTRL);
    else
        v = c->mxcsr;
    memcpy(out, &v, 4);
    return 4;
}

/* Returns false for a write Kestrel cannot make safely: a different
 * selector in protected mode would need a descriptor load with its
 * checks and faults, which only the guest can take. */
static bool reg_write(CPUState *c, int n, const uint8_t *in)
{
    uint32_t v;
    if (n >= REG_ST0 && n < REG_FCTRL) {
        c->fpu.st[(c->fpu.top + n - REG_ST0) & 7] = ext80_load(in);
        return true;
    }
    if (n >= REG_XMM0 && n < REG_MXCSR) {
        memcpy(c->xmm[n - REG_XMM0], in, 16);
        return true;
    }
    memcpy(&v, in, 4);
    if (n < 8) {
        c->regs[n] = v;
    } else if (n == REG_EIP) {
        c->eip = v;
    } else if (n == REG_EFLAGS) {
        /* VM would change the mode under the segment caches. */
        cpu_set_eflags(c, v, ~(uint32_t)EF_VM);
    } else if (n < REG_ST0) {
        int s = seg_order[n - REG_CS];
        if ((v & 0xffff) == c->seg[s].sel)
            return true;
        if (cpu_pe(c) && !cpu_vm86(c))
            return false;
        cpu_set_seg_real(c, s, (uint16_t)v);
    } else if (n < REG_XMM0) {
        set_fpu_reg32(c, n - REG_FCTRL, v);
    } else {
        c->mxcsr = v & 0xffff;
    }
    return true;
}

/* ---- guest memory through the current page tables ---- */

/* Copies up to len bytes at linear address lin; returns how many, stopping
 * at the first unmapped page. With check_only nothing is copied. */
static size_t mem_access(GdbStub *g, uint64_t lin, uint8_t *buf, size_t len,
                         bool write, bool check_only)
{
    size_t done = 0;
    while (done < len) {
        uint64_t a = lin + done;
        if (a > 0xffffffffull)
            break;
        size_t chunk = 0x1000 - (a & 0xfff);
        if (chunk > len - done)
            chunk = len - done;
        int64_t pa = cpu_probe(g->cpu, (uint32_t)a);
        if (pa < 0)
            break;
        if (!check_only)
            bus_mem_rw(machine_bus(g->m), (uint64_t)pa, buf + done, chunk,
                       write);
        done += chunk;
    }
    return done;
}

/* ---- breakpoints ---- */

static bool bp_insert(GdbStub *g, uint32_t lin, int type)
{
    CPUState *c = g->cpu;
    if (c->nbreakpoints >= CPU_MAX_BREAKPOINTS)
        return false;
    g->bp_type[c->nbreakpoints] = (uint8_t)type;
    c->breakpoints[c->nbreakpoints++] = lin;
    return true;
}

static bool bp_remove(GdbStub *g, uint32_t lin, int type)
{
    CPUState *c = g->cpu;
    for (int i = 0; i < c->nbreakpoints; i++) {
        if (c->breakpoints[i] != lin || g->bp_type[i] != type)
            continue;
        c->nbreakpoints--;
        c->breakpoints[i] = c->breakpoints[c->nbreakpoints];
        g->bp_type[i] = g->bp_type[c->nbreakpoints];
        return true;
    }
    return false;
}

/* Watchpoints: the CPU's MMU notes overlapping accesses (cpu/mmu.c);
 * the TLB is flushed so pages under one lose their fast-path entries. */
static bool wp_insert(GdbStub *g, uint32_t lin, uint64_t len, int type)
{
    CPUState *c = g->cpu;
    if (c->nwatchpoints >= CPU_MAX_WATCHPOINTS || !len || len > 0x1000)
        return false;
    c->watchpoints[c->nwatchpoints].lin = lin;
    c->watchpoints[c->nwatchpoints].len = (uint32_t)len;
    c->watchpoints[c->nwatchpoints].type = type;
    c->nwatchpoints++;
    cpu_tlb_flush(c, true);
    return true;
}

static bool wp_remove(GdbStub *g, uint32_t lin, uint64_t len, int type)
{
    CPUState *c = g->cpu;
    for (int i = 0; i < c->nwatchpoints; i++) {
        if (c->watchpoints[i].lin != lin || c->watchpoints[i].len != len ||
            c->watchpoints[i].type != type)
            continue;
        c->watchpoints[i] = c->watchpoints[--c->nwatchpoints];
        cpu_tlb_flush(c, true);
        return true;
    }
    return false;
}

static void clear_all(GdbStub *g)
{
    CPUState *c = g->cpu;
    c->nbreakpoints = 0;
    if (c->nwatchpoints) {
        c->nwatchpoints = 0;
        cpu_tlb_flush(c, true);
    }
    c->wp_hit = false;
    c->singlestep = false;
}

/* ---- run control ---- */

static uint32_t pc_linear(const CPUState *c)
{
    return c->seg[R_CS].base + c->eip;
}

static void resume(GdbStub *g, bool step)
{
    CPUState *c = g->cpu;
    c->singlestep = step;
    /* The instruction under a breakpoint we stopped at runs once. */
    c->bp_skip = true;
    c->bp_skip_lin = pc_linear(c);
    g->stepping = step;
    g->running = true;
    g->resume_icount = c->icount;
    c->wp_hit = false;
    machine_pause(g->m, false);
}

static void stop_reply(GdbStub *g, int sig, const char *why)
{
    char s[64];
    snprintf(s, sizeof(s), "T%02xthread:01;%s", sig, why);
    send_str(g, s);
}

void gdbstub_cpu_stopped(GdbStub *g)
{
    CPUState *c = g->cpu;
    const char *why = "";
    char wbuf[40];
    c->singlestep = false;
    machine_pause(g->m, true);
    if (!g->running)
        return;
    g->running = false;
    if (c->wp_hit && c->wp_hit_index >= 0 &&
        c->wp_hit_index < c->nwatchpoints) {
        static const char *const kind[3] = { "watch", "rwatch", "awatch" };
        int t = c->watchpoints[c->wp_hit_index].type;
        snprintf(wbuf, sizeof(wbuf), "%s:%x;", kind[(t - 2) % 3],
                 c->watchpoints[c->wp_hit_index].lin);
        c->wp_hit = false;
        g->stepping = false;
        stop_reply(g, 5, wbuf);
        return;
    }
    c->wp_hit = false;
    /* A stop before anything ran (or any stop while continuing) is a
     * breakpoint; gdb is told which kind, so it never backs up the PC the
     * way it must after an INT3. */
    if (!g->stepping || c->icount == g->resume_icount) {
        uint32_t pc = pc_linear(c);
        for (int i = 0; i < c->nbreakpoints; i++)
            if (c->breakpoints[i] == pc) {
                why = g->bp_type[i] == 1 ? "hwbreak:;" : "swbreak:;";
                break;
            }
    }
    g->stepping = false;
    stop_reply(g, 5, why);
}

void gdbstub_exited(GdbStub *g, int status)
{
    char s[8];
    if (!g->running)
        return;
    g->running = false;
    snprintf(s, sizeof(s), "W%02x", status & 0xff);
    send_str(g, s);
}

static void interrupt(GdbStub *g)
{
    if (!g->running)
        return;
    g->cpu->singlestep = false;
    g->running = g->stepping = false;
    machine_pause(g->m, true);
    stop_reply(g, 2, "");
}

/* ---- the target description ---- */

/* Names, order and the core feature's contents are what gdb's i386
 * support validates; the SSE feature is optional for it. */
static const char target_xml[] =
    "<?xml version=\"1.0\"?>\n"
    "<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
    "<target version=\"1.0\">\n"
    "<architecture>i386</architecture>\n"
    "<feature name=\"org.gnu.gdb.i386.core\">\n"
    "<flags id=\"kestrel_eflags\" size=\"4\">\n"
    " <field name=\"CF\" start=\"0\" end=\"0\"/>\n"
    " <field name=\"\" start=\"1\" end=\"1\"/>\n"
    " <field name=\"PF\" start=\"2\" end=\"2\"/>\n"
    " <field name=\"AF\" start=\"4\" end=\"4\"/>\n"
    " <field name=\"ZF\" start=\"6\" end=\"6\"/>\n"
    " <field name=\"SF\" start=\"7\" end=\"7\"/>\n"
    " <field name=\"TF\" start=\"8\" end=\"8\"/>\n"
    " <field name=\"IF\" start=\"9\" end=\"9\"/>\n"
    " <field name=\"DF\" start=\"10\" end=\"10\"/>\n"
    " <field name=\"OF\" start=\"11\" end=\"11\"/>\n"
    " <field name=\"NT\" start=\"14\" end=\"14\"/>\n"
    " <field name=\"RF\" start=\"16\" end=\"16\"/>\n"
    " <field name=\"VM\" start=\"17\" end=\"17\"/>\n"
    " <field name=\"AC\" start=\"18\" end=\"18\"/>\n"
    " <field name=\"VIF\" start=\"19\" end=\"19\"/>\n"
    " <field name=\"VIP\" start=\"20\" end=\"20\"/>\n"
    " <field name=\"ID\" start=\"21\" end=\"21\"/>\n"
    "</flags>\n"
    "<reg name=\"eax\" bitsize=\"32\" type=\"int32\" regnum=\"0\"/>\n"
    "<reg name=\"ecx\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"edx\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"ebx\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"esp\" bitsize=\"32\" type=\"data_ptr\"/>\n"
    "<reg name=\"ebp\" bitsize=\"32\" type=\"data_ptr\"/>\n"
    "<reg name=\"esi\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"edi\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"eip\" bitsize=\"32\" type=\"code_ptr\"/>\n"
    "<reg name=\"eflags\" bitsize=\"32\" type=\"kestrel_eflags\"/>\n"
    "<reg name=\"cs\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"ss\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"ds\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"es\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"fs\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"gs\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"st0\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "<reg name=\"st1\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "<reg name=\"st2\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "<reg name=\"st3\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "<reg name=\"st4\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "<reg name=\"st5\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "<reg name=\"st6\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "<reg name=\"st7\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "<reg name=\"fctrl\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "<reg name=\"fstat\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "<reg name=\"ftag\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "<reg name=\"fiseg\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "<reg name=\"fioff\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "<reg name=\"foseg\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "<reg name=\"fooff\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "<reg name=\"fop\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "</feature>\n"
    "<feature name=\"org.gnu.gdb.i386.sse\">\n"
    "<vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/>\n"
    "<vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>\n"
    "<vector id=\"v16i8\" type=\"int8\" count=\"16\"/>\n"
    "<vector id=\"v8i16\" type=\"int16\" count=\"8\"/>\n"
    "<vector id=\"v4i32\" type=\"int32\" count=\"4\"/>\n"
    "<vector id=\"v2i64\" type=\"int64\" count=\"2\"/>\n"
    "<union id=\"vec128\">\n"
    " <field name=\"v4_float\" type=\"v4f\"/>\n"
    " <field name=\"v2_double\" type=\"v2d\"/>\n"
    " <field name=\"v16_int8\" type=\"v16i8\"/>\n"
    " <field name=\"v8_int16\" type=\"v8i16\"/>\n"
    " <field name=\"v4_int32\" type=\"v4i32\"/>\n"
    " <field name=\"v2_int64\" type=\"v2i64\"/>\n"
    " <field name=\"uint128\" type=\"uint128\"/>\n"
    "</union>\n"
    "<reg name=\"xmm0\" bitsize=\"128\" type=\"vec128\" regnum=\"32\"/>\n"
    "<reg name=\"xmm1\" bitsize=\"128\" type=\"vec128\"/>\n"
    "<reg name=\"xmm2\" bitsize=\"128\" type=\"vec128\"/>\n"
    "<reg name=\"xmm3\" bitsize=\"128\" type=\"vec128\"/>\n"
    "<reg name=\"xmm4\" bitsize=\"128\" type=\"vec128\"/>\n"
    "<reg name=\"xmm5\" bitsize=\"128\" type=\"vec128\"/>\n"
    "<reg name=\"xmm6\" bitsize=\"128\" type=\"vec128\"/>\n"
    "<reg name=\"xmm7\" bitsize=\"128\" type=\"vec128\"/>\n"
    "<reg name=\"mxcsr\" bitsize=\"32\" type=\"int\" group=\"vector\"/>\n"
    "</feature>\n"
    "</target>\n";

/* ---- commands ---- */

static void cmd_read_regs(GdbStub *g, Reply *r)
{
    uint8_t v[16];
    for (int n = 0; n < NUM_REGS; n++)
        put_hex(r, v, (size_t)reg_read(g->cpu, n, v));
}

static void cmd_write_regs(GdbStub *g, const char *p, size_t len, Reply *r)
{
    uint8_t v[16];
    size_t off = 0;
    bool ok = true;
    /* gdb may send fewer registers than it knows; the rest stay. */
    for (int n = 0; n < NUM_REGS; n++) {
        size_t sz = (size_t)reg_size(n);
        if (off + 2 * sz > len)
            break;
        if (!parse_hex_bytes(p + off, v, sz)) {
            put_str(r, "E22");
            return;
        }
        ok &= reg_write(g->cpu, n, v);
        off += 2 * sz;
    }
    put_str(r, off == len && ok ? "OK" : "E22");
}

static void cmd_reg(GdbStub *g, const char *p, bool write, Reply *r)
{
    uint64_t n;
    uint8_t v[16];
    if (!parse_hex(&p, &n) || n >= NUM_REGS) {
        /* An unknown register: 'p' answers empty, as the protocol asks. */
        put_str(r, write ? "E22" : "");
        return;
    }
    if (!write) {
        put_hex(r, v, (size_t)reg_read(g->cpu, (int)n, v));
        return;
    }
    size_t sz = (size_t)reg_size((int)n);
    if (*p++ != '=' || strlen(p) != 2 * sz || !parse_hex_bytes(p, v, sz) ||
        !reg_write(g->cpu, (int)n, v)) {
        put_str(r, "E22");
        return;
    }
    put_str(r, "OK");
}

/* "ADDR,LEN" followed by the given terminator. */
static bool parse_addr_len(const char **p, uint64_t *addr, uint64_t *len,
                           char term)
{
    if (!parse_hex(p, addr) || *(*p)++ != ',' || !parse_hex(p, len))
        return false;
    if (term && *(*p)++ != term)
        return false;
    return *addr <= 0xffffffffull;
}

static void cmd_read_mem(GdbStub *g, const char *p, Reply *r)
{
    uint64_t addr, len;
    uint8_t data[GDB_MAX_PACKET / 2];
    if (!parse_addr_len(&p, &addr, &len, 0) || *p) {
        put_str(r, "E22");
        return;
    }
    /* A shorter answer is allowed: gdb asks again for the rest. */
    if (len > sizeof(data))
        len = sizeof(data);
    size_t n = mem_access(g, addr, data, (size_t)len, false, false);
    if (!n && len) {
        put_str(r, "E14");
        return;
    }
    put_hex(r, data, n);
}

/* M (hex) and X (binary): all or nothing, so first check every page. */
static void cmd_write_mem(GdbStub *g, char *p, size_t plen, bool binary,
                          Reply *r)
{
    const char *q = p;
    uint64_t addr, len;
    uint8_t data[GDB_MAX_PACKET];
    if (!parse_addr_len(&q, &addr, &len, ':') || len > sizeof(data)) {
        put_str(r, "E22");
        return;
    }
    size_t rest = plen - (size_t)(q - p);
    if (binary) {
        long n = gdb_unescape((uint8_t *)p + (q - p), rest);
        if (n < 0 || (uint64_t)n != len) {
            put_str(r, "E22");
            return;
        }
        memcpy(data, q, (size_t)n);
    } else if (rest != 2 * len || !parse_hex_bytes(q, data, (size_t)len)) {
        put_str(r, "E22");
        return;
    }
    if (mem_access(g, addr, data, (size_t)len, true, true) != len) {
        put_str(r, "E14");
        return;
    }
    mem_access(g, addr, data, (size_t)len, true, false);
    put_str(r, "OK");
}

static void cmd_breakpoint(GdbStub *g, const char *p, bool insert, Reply *r)
{
    int type = *p - '0';
    uint64_t addr, kind;
    if (type < 0 || type > 4 || p[1] != ',') {
        put_str(r, "E22");
        return;
    }
    p += 2;
    if (!parse_addr_len(&p, &addr, &kind, 0)) {
        put_str(r, "E22");
        return;
    }
    bool ok;
    if (type > 1)               /* kind is the watched length */
        ok = insert ? wp_insert(g, (uint32_t)addr, kind, type)
                    : wp_remove(g, (uint32_t)addr, kind, type);
    else
        ok = insert ? bp_insert(g, (uint32_t)addr, type)
                    : bp_remove(g, (uint32_t)addr, type);
    put_str(r, ok ? "OK" : "E22");
}

/* c [ADDR], s [ADDR], C SIG[;ADDR], S SIG[;ADDR]: the signal is for a
 * process and means nothing to a machine; it is ignored. */
static void cmd_resume(GdbStub *g, const char *p, bool step, bool sig,
                       Reply *r)
{
    uint64_t addr, s;
    if (sig) {
        if (!parse_hex(&p, &s)) {
            put_str(r, "E22");
            return;
        }
        if (*p == ';')
            p++;
    }
    if (*p) {
        if (!parse_hex(&p, &addr) || *p) {
            put_str(r, "E22");
            return;
        }
        g->cpu->eip = (uint32_t)addr;
    }
    r->none = true;
    resume(g, step);
}

/* vCont;ACTION[:TID][;ACTION...]: one thread, so the first action that
 * names it (or every thread) decides. */
static void cmd_vcont(GdbStub *g, const char *p, Reply *r)
{
    if (!strcmp(p, "?")) {
        put_str(r, "vCont;c;C;s;S");
        return;
    }
    while (*p == ';') {
        char act = p[1];
        const char *end = strchr(p + 1, ';');
        const char *tid = strchr(p + 1, ':');
        bool ours = !tid || (end && tid > end) || !strncmp(tid, ":1", 2) ||
                    !strncmp(tid, ":-1", 3) || !strncmp(tid, ":01", 3);
        if (ours && (act == 'c' || act == 'C' || act == 's' || act == 'S')) {
            r->none = true;
            resume(g, act == 's' || act == 'S');
            return;
        }
        if (!end)
            break;
        p = end;
    }
    put_str(r, "E22");
}

static void cmd_xfer(GdbStub *g, const char *p, Reply *r)
{
    (void)g;
    const char *pre = "features:read:target.xml:";
    uint64_t off, len;
    if (strncmp(p, pre, strlen(pre))) {
        put_str(r, "");
        return;
    }
    p += strlen(pre);
    if (!parse_addr_len(&p, &off, &len, 0) || *p) {
        put_str(r, "E00");
        return;
    }
    size_t total = sizeof(target_xml) - 1;
    if (off >= total) {
        put_str(r, "l");
        return;
    }
    /* Room for the escaped worst case is not needed: the XML has none of
     * the characters that need escaping. */
    size_t n = total - (size_t)off;
    if (n > len)
        n = (size_t)len;
    if (n > sizeof(r->buf) - 1)
        n = sizeof(r->buf) - 1;
    r->buf[0] = (off + n < total) ? 'm' : 'l';
    memcpy(r->buf + 1, target_xml + off, n);
    r->len = 1 + n;
}

static void cmd_query(GdbStub *g, const char *p, Reply *r)
{
    if (!strncmp(p, "qSupported", 10)) {
        char s[128];
        snprintf(s, sizeof(s), "PacketSize=%x;qXfer:features:read+;"
                 "QStartNoAckMode+;vContSupported+;swbreak+;hwbreak+",
                 GDB_MAX_PACKET);
        put_str(r, s);
    } else if (!strncmp(p, "qXfer:", 6)) {
        cmd_xfer(g, p + 6, r);
    } else if (!strcmp(p, "qAttached") || !strncmp(p, "qAttached:", 10)) {
        put_str(r, "1");            /* detach, not kill, on quit */
    } else if (!strcmp(p, "qC")) {
        put_str(r, "QC1");
    } else if (!strcmp(p, "qfThreadInfo")) {
        put_str(r, "m1");
    } else if (!strcmp(p, "qsThreadInfo")) {
        put_str(r, "l");
    } else if (!strncmp(p, "qThreadExtraInfo", 16)) {
        const char *s = "CPU#0 [running]";
        put_hex(r, (const uint8_t *)s, strlen(s));
    } else if (!strcmp(p, "qSymbol::")) {
        put_str(r, "OK");
    } else if (!strcmp(p, "QStartNoAckMode")) {
        put_str(r, "OK");
        g->noack = true;            /* from after this reply's ack */
    }
    /* Anything else: empty, "not supported". */
}

static void handle_packet(GdbStub *g, char *p, size_t len, Reply *r)
{
    switch (p[0]) {
    case '?':
        /* gdb asks this first on connecting: a running machine stops. */
        if (!machine_paused(g->m) || g->running) {
            g->cpu->singlestep = false;
            g->running = g->stepping = false;
            machine_pause(g->m, true);
        }
        put_str(r, "T05thread:01;");
        break;
    case 'g': cmd_read_regs(g, r); break;
    case 'G': cmd_write_regs(g, p + 1, len - 1, r); break;
    case 'p': cmd_reg(g, p + 1, false, r); break;
    case 'P': cmd_reg(g, p + 1, true, r); break;
    case 'm': cmd_read_mem(g, p + 1, r); break;
    case 'M': cmd_write_mem(g, p + 1, len - 1, false, r); break;
    case 'X': cmd_write_mem(g, p + 1, len - 1, true, r); break;
    case 'c': cmd_resume(g, p + 1, false, false, r); break;
    case 's': cmd_resume(g, p + 1, true, false, r); break;
    case 'C': cmd_resume(g, p + 1, false, true, r); break;
    case 'S': cmd_resume(g, p + 1, true, true, r); break;
    case 'Z': cmd_breakpoint(g, p + 1, true, r); break;
    case 'z': cmd_breakpoint(g, p + 1, false, r); break;
    case 'H': case 'T': put_str(r, "OK"); break;
    case 'k':
        r->none = true;
        machine_request_shutdown(g->m, 0);
        machine_pause(g->m, false);
        break;
    case 'D':
        clear_all(g);
        g->running = g->stepping = false;
        put_str(r, "OK");
        machine_pause(g->m, false);
        break;
    case 'v':
        if (!strncmp(p, "vCont", 5))
            cmd_vcont(g, p + 5, r);
        else if (!strncmp(p, "vKill", 5)) {
            put_str(r, "OK");
            machine_request_shutdown(g->m, 0);
            machine_pause(g->m, false);
        }
        break;
    case 'q': case 'Q': cmd_query(g, p, r); break;
    default: break;             /* unsupported: empty reply */
    }
}

static size_t gdb_can_read(void *opaque)
{
    (void)opaque;
    return GDB_MAX_PACKET;
}

static void gdb_read(void *opaque, const uint8_t *buf, size_t len)
{
    GdbStub *g = opaque;
    static Reply r;             /* 4 KiB: kept off the stack */
    for (size_t i = 0; i < len; i++) {
        switch (gdb_rx_byte(&g->rx, buf[i])) {
        case GDB_RX_PACKET:
            if (!g->noack)
                chardev_write(g->chr, (const uint8_t *)"+", 1);
            r.len = 0;
            r.none = false;
            handle_packet(g, g->rx.buf, g->rx.len, &r);
            if (!r.none)
                send_packet(g, r.buf, r.len);
            break;
        case GDB_RX_BAD:
        case GDB_RX_OVERFLOW:
            if (!g->noack)
                chardev_write(g->chr, (const uint8_t *)"-", 1);
            break;
        case GDB_RX_NACK:
            if (!g->noack && g->out_len)
                chardev_write(g->chr, (const uint8_t *)g->out, g->out_len);
            break;
        case GDB_RX_INTERRUPT:
            interrupt(g);
            break;
        default:
            break;
        }
    }
}

GdbStub *gdbstub_new(const char *spec, Machine *m, char *err, size_t errlen)
{
    char buf[300], e[200];
    const char *open_spec = spec;
    /* QEMU's -gdb tcp::PORT listens without waiting for gdb; with
     * options (tcp::1234,server=on,wait=on) the user says how. */
    if (!strncmp(spec, "tcp:", 4)) {
        if (!strchr(spec, ',')) {
            snprintf(buf, sizeof(buf), "%s,server=on,wait=off", spec);
            open_spec = buf;
        }
    } else if (strncmp(spec, "chardev:", 8)) {
        snprintf(err, errlen, "-gdb %s: expected tcp::PORT, tcp:HOST:PORT "
                 "or chardev:ID", spec);
        return NULL;
    }
    Chardev *chr = chardev_open(open_spec, e, sizeof(e));
    if (!chr) {
        snprintf(err, errlen, "-gdb %s: %s", spec, e);
        return NULL;
    }
    GdbStub *g = calloc(1, sizeof(*g));
    if (!g) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    g->m = m;
    g->cpu = machine_cpu(m);
    g->chr = chr;
    gdb_rx_init(&g->rx);
    chardev_set_handlers(chr, gdb_can_read, gdb_read, g);
    return g;
}

void gdbstub_free(GdbStub *g)
{
    if (!g)
        return;
    chardev_set_handlers(g->chr, NULL, NULL, NULL);
    clear_all(g);
    free(g);
}
