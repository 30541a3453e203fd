/* Runs SingleStepTests MOO files (recorded on real CPUs) against the
 * interpreter: for each test, load the initial registers and memory into a
 * real-mode CPU with 16 MiB of RAM, run until the HLT that ends the test
 * (or the exception handler's HLT) retires, and compare with the recorded
 * final state.
 *
 * Usage: moo FILE.MOO[.gz]...
 * Prints one line per file with its pass count, the first few failures of
 * each file, and finally "N passed, M failed". metadata.json and
 * revocation_list.txt are looked up next to each file. MOO_VERBOSE=1
 * prints the registers of each shown failure; MOO_ACCEL=tcg runs the
 * tests through the translator.
 *
 * Kestrel is a P6, the 80286 data a 286. Where their documented behaviour
 * differs the runner says so and does not count the test (see
 * lock_differs and p6_differs), or adapts the comparison (vector 12
 * routed to the #13 handler, SI/DI/CX after a faulting string insn). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <setjmp.h>
#include <zlib.h>
#include "cpu/cpu.h"
#include "cpu/translate.h"
#include "hw/bus.h"

#define MAX_FAIL_SHOWN 3
#define MAX_STEPS 200000

/* ---- input helpers ---- */

typedef struct Buf { const uint8_t *p; size_t len; } Buf;

static bool take(Buf *b, void *out, size_t n)
{
    if (b->len < n)
        return false;
    if (out)
        memcpy(out, b->p, n);
    b->p += n;
    b->len -= n;
    return true;
}

static uint32_t rd32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    gzFile f = gzopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 20, n = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            gzclose(f);
            return NULL;
        }
        if (n == cap) {
            cap *= 2;
            uint8_t *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                gzclose(f);
                return NULL;
            }
            buf = nb;
        }
        int r = gzread(f, buf + n, (unsigned)(cap - n));
        if (r < 0) {
            free(buf);
            gzclose(f);
            return NULL;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    gzclose(f);
    *len = n;
    return buf;
}

/* ---- metadata.json: just the parts we need ----
 * A minimal JSON reader that calls back for every scalar with the list of
 * keys leading to it (opcodes.80.reg.4.flags-mask = 65519). */

#define JDEPTH 8
typedef struct JCtx {
    const char *s;
    char path[JDEPTH][32];
    int depth;
    void (*cb)(struct JCtx *j, const char *val);
    void *opaque;
    bool err;
} JCtx;

static void jws(JCtx *j)
{
    while (*j->s && isspace((unsigned char)*j->s))
        j->s++;
}

static bool jstr(JCtx *j, char *out, size_t cap)
{
    if (*j->s != '"')
        return false;
    j->s++;
    size_t n = 0;
    while (*j->s && *j->s != '"') {
        if (*j->s == '\\' && j->s[1])
            j->s++;
        if (n + 1 < cap)
            out[n++] = *j->s;
        j->s++;
    }
    if (*j->s != '"')
        return false;
    j->s++;
    out[n] = 0;
    return true;
}

static void jvalue(JCtx *j);

static void jobject(JCtx *j)
{
    j->s++;
    jws(j);
    if (*j->s == '}') {
        j->s++;
        return;
    }
    for (;;) {
        jws(j);
        char key[32];
        if (!jstr(j, key, sizeof key)) {
            j->err = true;
            return;
        }
        jws(j);
        if (*j->s != ':') {
            j->err = true;
            return;
        }
        j->s++;
        if (j->depth < JDEPTH)
            snprintf(j->path[j->depth], sizeof j->path[0], "%s", key);
        j->depth++;
        jvalue(j);
        j->depth--;
        if (j->err)
            return;
        jws(j);
        if (*j->s == ',') {
            j->s++;
            continue;
        }
        if (*j->s == '}') {
            j->s++;
            return;
        }
        j->err = true;
        return;
    }
}

static void jvalue(JCtx *j)
{
    jws(j);
    if (*j->s == '{') {
        jobject(j);
    } else if (*j->s == '[') {
        int nest = 0;
        do {   /* arrays are not needed: skip them */
            if (*j->s == '[') nest++;
            else if (*j->s == ']') nest--;
            else if (*j->s == '"') { char tmp[2]; jstr(j, tmp, 2); continue; }
            j->s++;
        } while (*j->s && nest > 0);
    } else if (*j->s == '"') {
        char v[64];
        if (!jstr(j, v, sizeof v)) {
            j->err = true;
            return;
        }
        j->cb(j, v);
    } else {
        char v[64];
        size_t n = 0;
        while (*j->s && *j->s != ',' && *j->s != '}' && *j->s != ']' &&
               !isspace((unsigned char)*j->s)) {
            if (n + 1 < sizeof v)
                v[n++] = *j->s;
            j->s++;
        }
        v[n] = 0;
        if (!n)
            j->err = true;
        else
            j->cb(j, v);
    }
}

/* What metadata says about one opcode file. */
typedef struct OpMeta {
    char key[16];         /* "80" */
    char reg[4];          /* "4" or "" */
    bool found;
    char status[24];
    uint32_t flags_mask;
} OpMeta;

static void meta_cb(JCtx *j, const char *val)
{
    OpMeta *m = j->opaque;
    if (j->depth < 3 || strcmp(j->path[0], "opcodes") ||
        strcasecmp(j->path[1], m->key))
        return;
    const char *field;
    if (m->reg[0]) {
        if (j->depth != 5 || strcmp(j->path[2], "reg") ||
            strcmp(j->path[3], m->reg))
            return;
        field = j->path[4];
    } else {
        if (j->depth != 3)
            return;
        field = j->path[2];
    }
    if (!strcmp(field, "status")) {
        snprintf(m->status, sizeof m->status, "%s", val);
        m->found = true;
    } else if (!strcmp(field, "flags-mask")) {
        m->flags_mask = (uint32_t)strtoul(val, NULL, 10);
    }
}

static void lookup_meta(const char *json, OpMeta *m)
{
    JCtx j = { .s = json, .cb = meta_cb, .opaque = m };
    m->found = false;
    m->flags_mask = 0xffff;
    m->status[0] = 0;
    jvalue(&j);
}

/* ---- revocation list ---- */

typedef struct Revoked { char (*hex)[41]; size_t n; } Revoked;

static void load_revoked(const char *path, Revoked *r)
{
    r->hex = NULL;
    r->n = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        char *p = line;
        while (isspace((unsigned char)*p))
            p++;
        if (*p == '#' || strlen(p) < 40)
            continue;
        void *nh = realloc(r->hex, (r->n + 1) * sizeof *r->hex);
        if (!nh)
            break;
        r->hex = nh;
        memcpy(r->hex[r->n], p, 40);
        r->hex[r->n][40] = 0;
        for (int i = 0; i < 40; i++)
            r->hex[r->n][i] = (char)tolower((unsigned char)r->hex[r->n][i]);
        r->n++;
    }
    fclose(f);
}

static bool is_revoked(const Revoked *r, const uint8_t hash[20])
{
    char hex[41];
    for (int i = 0; i < 20; i++)
        snprintf(hex + 2 * i, 3, "%02x", hash[i]);
    for (size_t i = 0; i < r->n; i++)
        if (!memcmp(r->hex[i], hex, 40))
            return true;
    return false;
}

/* ---- one test ---- */

/* The registers a test names, whichever layout it uses: REGS (16-bit
 * CPUs) or RG32 (32-bit CPUs, where G_AX is EAX and so on). */
enum { G_AX, G_BX, G_CX, G_DX, G_CS, G_SS, G_DS, G_ES, G_SP, G_BP, G_SI,
       G_DI, G_IP, G_FLAGS, G_FS, G_GS, G_CR0, G_CR3, G_DR6, G_DR7,
       G_NREGS };
static const char *const greg_name[2][G_NREGS] = {
    { "ax", "bx", "cx", "dx", "cs", "ss", "ds", "es", "sp", "bp", "si", "di",
      "ip", "flags", "fs", "gs", "cr0", "cr3", "dr6", "dr7" },
    { "eax", "ebx", "ecx", "edx", "cs", "ss", "ds", "es", "esp", "ebp", "esi",
      "edi", "eip", "eflags", "fs", "gs", "cr0", "cr3", "dr6", "dr7" },
};
/* Bit order of REGS and of RG32. */
static const uint8_t regs16_order[] = {
    G_AX, G_BX, G_CX, G_DX, G_CS, G_SS, G_DS, G_ES, G_SP, G_BP, G_SI, G_DI,
    G_IP, G_FLAGS,
};
static const uint8_t regs32_order[] = {
    G_CR0, G_CR3, G_AX, G_BX, G_CX, G_DX, G_SI, G_DI, G_BP, G_SP, G_CS,
    G_DS, G_ES, G_FS, G_GS, G_SS, G_IP, G_FLAGS, G_DR6, G_DR7,
};
static bool is_seg(int g)
{
    return g == G_CS || g == G_SS || g == G_DS || g == G_ES || g == G_FS ||
           g == G_GS;
}

typedef struct RamEnt { uint32_t addr; uint8_t val; } RamEnt;

typedef struct State {
    bool has[G_NREGS];
    uint32_t r[G_NREGS];
    bool has_mask;        /* RMSK/RM32 inside FINA */
    uint32_t mask[G_NREGS];
    const uint8_t *ram;   /* count x (u32 addr, u8 val) */
    uint32_t nram;
} State;

typedef struct Test {
    char name[128];
    const uint8_t *bytes;
    uint32_t nbytes;
    State init, fina;
    bool wide;            /* RG32 layout */
    bool has_excp;
    uint8_t excp_vec;
    uint32_t excp_flags_addr;
    uint8_t hash[20];
} Test;

/* REGS/RG32/RMSK/RM32 payload: a bit mask, then one value per set bit. */
static bool parse_regs(Buf p, bool wide, bool *has, uint32_t *r)
{
    uint32_t mask = 0;
    const uint8_t *order = wide ? regs32_order : regs16_order;
    int n = wide ? (int)sizeof regs32_order : (int)sizeof regs16_order;
    if (!take(&p, &mask, wide ? 4 : 2))
        return false;
    for (int i = 0; i < n; i++) {
        if (!(mask & (1u << i)))
            continue;
        uint32_t v = 0;
        if (!take(&p, &v, wide ? 4 : 2))
            return false;
        r[order[i]] = v;
        if (has)
            has[order[i]] = true;
    }
    return true;
}

static bool parse_state(Buf b, State *s, bool *wide)
{
    memset(s, 0, sizeof *s);
    for (int i = 0; i < G_NREGS; i++)
        s->mask[i] = 0xffffffffu;
    while (b.len >= 8) {
        char id[4] = { 0 };
        uint32_t len = 0;
        take(&b, id, 4);
        take(&b, &len, 4);
        if (len > b.len)
            return false;
        Buf p = { b.p, len };
        take(&b, NULL, len);
        if (!memcmp(id, "REGS", 4) || !memcmp(id, "RG32", 4)) {
            *wide = id[1] == 'G';
            if (!parse_regs(p, *wide, s->has, s->r))
                return false;
        } else if (!memcmp(id, "RMSK", 4) || !memcmp(id, "RM32", 4)) {
            s->has_mask = true;
            if (!parse_regs(p, id[2] == '3', NULL, s->mask))
                return false;
        } else if (!memcmp(id, "RAM ", 4)) {
            uint32_t n;
            if (!take(&p, &n, 4) || p.len / 5 < n)
                return false;
            s->ram = p.p;
            s->nram = n;
        }
    }
    return true;
}

static bool parse_test(Buf b, Test *t)
{
    memset(t, 0, sizeof *t);
    take(&b, NULL, 4);                     /* index */
    while (b.len >= 8) {
        char id[4] = { 0 };
        uint32_t len = 0;
        take(&b, id, 4);
        take(&b, &len, 4);
        if (len > b.len)
            return false;
        Buf p = { b.p, len };
        take(&b, NULL, len);
        if (!memcmp(id, "NAME", 4) && len >= 4) {
            uint32_t n = rd32(p.p);
            if (n > len - 4)
                n = len - 4;
            if (n >= sizeof t->name)
                n = sizeof t->name - 1;
            memcpy(t->name, p.p + 4, n);
            t->name[n] = 0;
        } else if (!memcmp(id, "BYTS", 4) && len >= 4) {
            uint32_t n = rd32(p.p);
            t->bytes = p.p + 4;
            t->nbytes = n > len - 4 ? len - 4 : n;
        } else if (!memcmp(id, "INIT", 4)) {
            if (!parse_state(p, &t->init, &t->wide))
                return false;
        } else if (!memcmp(id, "FINA", 4)) {
            if (!parse_state(p, &t->fina, &t->wide))
                return false;
        } else if (!memcmp(id, "EXCP", 4) && len >= 5) {
            t->has_excp = true;
            t->excp_vec = p.p[0];
            t->excp_flags_addr = rd32(p.p + 1);
        } else if (!memcmp(id, "HASH", 4) && len >= 20) {
            memcpy(t->hash, p.p, 20);
        }
    }
    return true;
}

/* The test machine: one CPU and 16 MiB of RAM, with the decode cache
 * wired to RAM writes as a board would. */
static Bus bus;
static CPUState *cpu;
/* The recording CPU is a 286 ("C286" in the MOO chunk): its real-mode
 * FLAGS bits 12-15 are not comparable with a 386 or later. */
static bool cpu286;
/* A top-level RMSK/RM32: applies to every test of the file. */
static uint32_t file_mask[G_NREGS];
#define RAM_SIZE (16u << 20)

static void code_write(void *opaque, uint64_t pa, size_t len)
{
    interp_invalidate(opaque, pa, len);
    tcg_cpu_invalidate(opaque, pa, len);
}

/* The test CPUs see 16 MiB of plain RAM: the PC's VGA window is mapped
 * back onto RAM and the BIOS shadow area is writable. */
static uint64_t vga_hole_read(void *opaque, uint64_t off, int size)
{
    uint64_t v = 0;
    memcpy(&v, bus.ram + 0xa0000 + off, (size_t)size);
    return v;
}

static void vga_hole_write(void *opaque, uint64_t off, uint64_t val, int size)
{
    memcpy(bus.ram + 0xa0000 + off, &val, (size_t)size);
}

static void poke(uint32_t addr, uint8_t v)
{
    addr &= RAM_SIZE - 1;
    if (bus.ram[addr] == v)
        return;
    bus.ram[addr] = v;
    if (bus_page_has_code(&bus, addr))
        bus_notify_write(&bus, addr, 1);
}

static bool init_has(const Test *t, uint32_t addr)
{
    for (uint32_t i = 0; i < t->init.nram; i++)
        if (rd32(t->init.ram + 5 * i) == addr)
            return true;
    return false;
}

static int gpr_of(int g)
{
    static const int8_t map[G_NREGS] = {
        [G_AX] = R_EAX, [G_BX] = R_EBX, [G_CX] = R_ECX, [G_DX] = R_EDX,
        [G_SP] = R_ESP, [G_BP] = R_EBP, [G_SI] = R_ESI, [G_DI] = R_EDI,
    };
    return map[g];
}

static void set_state(const Test *t)
{
    CPUState *c = cpu;
    cpu_reset(c);
    const State *s = &t->init;
    for (int i = 0; i < G_NREGS; i++) {
        if (!s->has[i])
            continue;
        uint32_t v = s->r[i];
        switch (i) {
        case G_CS: cpu_set_seg_real(c, R_CS, (uint16_t)v); break;
        case G_SS: cpu_set_seg_real(c, R_SS, (uint16_t)v); break;
        case G_DS: cpu_set_seg_real(c, R_DS, (uint16_t)v); break;
        case G_ES: cpu_set_seg_real(c, R_ES, (uint16_t)v); break;
        case G_FS: cpu_set_seg_real(c, R_FS, (uint16_t)v); break;
        case G_GS: cpu_set_seg_real(c, R_GS, (uint16_t)v); break;
        case G_IP: c->eip = v; break;
        case G_FLAGS:
            /* Bits 12-15 mean nothing comparable in 286 real mode. */
            cpu_set_eflags(c, cpu286 ? v & 0x0fff : v, 0xffffffffu);
            break;
        case G_CR0: c->cr0 = v & ~(CR0_PE | CR0_PG); break;
        case G_CR3: c->cr3 = v; break;
        case G_DR6: c->dr[6] = v; break;
        case G_DR7: c->dr[7] = v; break;
        default: c->regs[gpr_of(i)] = v; break;
        }
    }
    c->halted = false;
    c->interrupt_request = 0;
    for (uint32_t i = 0; i < s->nram; i++)
        poke(rd32(s->ram + 5 * i), s->ram[5 * i + 4]);
    /* The 286 reports a stack-segment overrun as exception 13 where a
     * 386 or later raises #SS (12): send vector 12 to the same handler. */
    if (t->has_excp && t->excp_vec == 13)
        for (uint32_t a = 0; a < 4; a++)
            if (!init_has(t, 0x30 + a))
                poke(0x30 + a, bus.ram[0x34 + a]);
}

/* A register as the test names it (16-bit CPUs see the low halves). */
static uint32_t get_reg(CPUState *c, int i, bool wide)
{
    uint32_t v;
    switch (i) {
    case G_CS: return c->seg[R_CS].sel;
    case G_SS: return c->seg[R_SS].sel;
    case G_DS: return c->seg[R_DS].sel;
    case G_ES: return c->seg[R_ES].sel;
    case G_FS: return c->seg[R_FS].sel;
    case G_GS: return c->seg[R_GS].sel;
    case G_IP: v = c->eip; break;
    case G_FLAGS: v = cpu_get_eflags(c); break;
    case G_CR0: v = c->cr0; break;
    case G_CR3: v = c->cr3; break;
    case G_DR6: v = c->dr[6]; break;
    case G_DR7: v = c->dr[7]; break;
    default: v = c->regs[gpr_of(i)]; break;
    }
    return wide ? v : v & 0xffff;
}

/* The run loop of the test machine: cpu_raise delivers an exception and
 * lands here, and execution goes on at the handler. */
static void run_until_halt(CPUState *c)
{
    if (c->accel == ACCEL_TCG) {
        /* MOO_ACCEL=tcg: the translator runs the test (cpu_exec has its
         * own landing point for exceptions). */
        for (int i = 0; i < 16 && !c->halted; i++)
            cpu_exec(c, MAX_STEPS);
        return;
    }
    volatile int steps = 0;
    if (setjmp(c->jmp_env))
        steps++;
    while (!c->halted && steps < MAX_STEPS) {
        steps++;
        interp_step(c);
    }
}

/* Runs the test; returns NULL on success or a description of the first
 * difference. */
static const char *run_test(const Test *t, uint32_t flags_mask, int opcode,
                            char *why, size_t whylen)
{
    CPUState *c = cpu;
    set_state(t);
    run_until_halt(c);
    if (!c->halted) {
        snprintf(why, whylen, "did not reach HLT");
        return why;
    }

    /* Registers. The FLAGS mask (metadata's undefined flags, and bits
     * 12-15 on a 286) covers the low word; a 32-bit EFLAGS is compared
     * whole above it. */
    flags_mask &= cpu286 ? 0x0fff : 0xffff;
    if (t->wide)
        flags_mask |= 0xffff0000u;
    bool string_fault = t->has_excp && t->excp_vec == 13 &&
        ((opcode >= 0xa4 && opcode <= 0xa7) ||
         (opcode >= 0xaa && opcode <= 0xaf) ||
         (opcode >= 0x6c && opcode <= 0x6f));
    for (int i = 0; i < G_NREGS; i++) {
        if (string_fault && (i == G_SI || i == G_DI || i == G_CX))
            continue;
        if (!t->init.has[i] && !t->fina.has[i])
            continue;
        uint32_t exp = t->fina.has[i] ? t->fina.r[i] : t->init.r[i];
        uint32_t got = get_reg(c, i, t->wide);
        uint32_t m = i == G_FLAGS ? flags_mask
                   : is_seg(i) || !t->wide ? 0xffff : 0xffffffffu;
        m &= t->fina.mask[i] & file_mask[i];
        if ((exp & m) != (got & m)) {
            snprintf(why, whylen, "%s: expected %0*x, got %0*x",
                     greg_name[t->wide][i], t->wide ? 8 : 4, exp & m,
                     t->wide ? 8 : 4, got & m);
            return why;
        }
    }
    /* FLAGS images on the stack: compare them under the flags mask. */
    uint32_t fimg = UINT32_MAX;
    uint16_t fss = (uint16_t)(t->fina.has[G_SS] ? t->fina.r[G_SS]
                                                : t->init.r[G_SS]);
    uint16_t fsp = (uint16_t)(t->fina.has[G_SP] ? t->fina.r[G_SP]
                                                : t->init.r[G_SP]);
    /* (The EXCP chunk's address is one byte below the FLAGS word in this
     * data set, so the image is located from the final SS:SP instead.) */
    if (opcode == 0x9c)
        fimg = (uint32_t)fss * 16 + fsp;
    else if (t->has_excp || opcode == 0xcc || opcode == 0xcd ||
             opcode == 0xce)
        fimg = (uint32_t)fss * 16 + ((fsp + 4) & 0xffff);
    /* Memory: every byte the test names must hold its final value. */
    for (int pass = 0; pass < 2; pass++) {
        const State *s = pass ? &t->init : &t->fina;
        for (uint32_t i = 0; i < s->nram; i++) {
            uint32_t a = rd32(s->ram + 5 * i);
            uint8_t exp = s->ram[5 * i + 4];
            if (pass) {
                /* an initial byte not in FINA must be unchanged */
                bool changed = false;
                for (uint32_t k = 0; k < t->fina.nram; k++)
                    if (rd32(t->fina.ram + 5 * k) == a) {
                        changed = true;
                        break;
                    }
                if (changed)
                    continue;
            }
            uint8_t got = bus.ram[a & (RAM_SIZE - 1)];
            uint8_t m = 0xff;
            if (fimg != UINT32_MAX && a == fimg)
                m = (uint8_t)flags_mask;
            else if (fimg != UINT32_MAX && a == fimg + 1)
                m = (uint8_t)(flags_mask >> 8);
            if ((exp & m) != (got & m)) {
                snprintf(why, whylen, "mem[%05x]: expected %02x, got %02x",
                         a, exp & m, got & m);
                return why;
            }
        }
    }
    return NULL;
}

static void clear_ram(const Test *t)
{
    for (uint32_t a = 0x30; a < 0x34; a++)
        poke(a, 0);
    const State *ss[2] = { &t->init, &t->fina };
    for (int k = 0; k < 2; k++)
        for (uint32_t i = 0; i < ss[k]->nram; i++)
            poke(rd32(ss[k]->ram + 5 * i), 0);
}

/* LOCK: the 286 accepts it on any instruction, a P6 raises #UD unless
 * the instruction is one of the read-modify-write ones below with a
 * memory destination (SDM vol. 2, LOCK). Tests that lock anything else
 * record behaviour Kestrel's CPU does not have, so they are skipped. */
static bool lock_differs(const uint8_t *b, uint32_t n)
{
    uint32_t i = 0;
    bool lock = false;
    while (i < n && (b[i] == 0xf0 || b[i] == 0xf2 || b[i] == 0xf3 ||
                     b[i] == 0x26 || b[i] == 0x2e || b[i] == 0x36 ||
                     b[i] == 0x3e)) {
        if (b[i] == 0xf0)
            lock = true;
        i++;
    }
    if (!lock)
        return false;
    if (i + 1 >= n)
        return true;
    uint8_t op = b[i], modrm = b[i + 1];
    int reg = (modrm >> 3) & 7;
    if ((modrm >> 6) == 3)
        return true;                       /* register destination */
    if (op < 0x40 && (op & 7) <= 1 && (op & 0x38) != 0x38)
        return false;                      /* ADD..XOR r/m, reg (not CMP) */
    if (op >= 0x80 && op <= 0x83)
        return reg == 7;                   /* CMP */
    if (op == 0x86 || op == 0x87)
        return false;
    if (op == 0xf6 || op == 0xf7)
        return reg != 2 && reg != 3;       /* NOT, NEG */
    if (op == 0xfe || op == 0xff)
        return reg > 1;                    /* INC, DEC */
    return true;
}

/* Other encodings where a P6 is not a 286: an instruction longer than 10
 * bytes (prefixes included) raises exception 13 on the 286 only, and
 * MOV to/from segment registers 4 and 5 (FS, GS) is #UD only there. */
static bool p6_differs(const Test *t)
{
    if (t->nbytes > 11 && t->has_excp && t->excp_vec == 13)
        return true;
    uint32_t i = 0;
    while (i < t->nbytes && (t->bytes[i] == 0x26 || t->bytes[i] == 0x2e ||
                             t->bytes[i] == 0x36 || t->bytes[i] == 0x3e ||
                             t->bytes[i] == 0xf0 || t->bytes[i] == 0xf2 ||
                             t->bytes[i] == 0xf3))
        i++;
    if (i + 1 < t->nbytes && (t->bytes[i] == 0x8c || t->bytes[i] == 0x8e)) {
        int reg = (t->bytes[i + 1] >> 3) & 7;
        if (reg == 4 || reg == 5)
            return true;
    }
    return false;
}

/* ---- one file ---- */

static char *slurp_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    if (s)
        s[n] = 0;
    fclose(f);
    return s;
}

static long total_pass, total_fail, total_skip;

static void run_file(const char *path)
{
    /* metadata and revocations live next to the file */
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    const char *base = slash ? slash + 1 : path;
    if (slash)
        *slash = 0;
    else
        snprintf(dir, sizeof dir, ".");
    char mpath[1100], rpath[1100];
    snprintf(mpath, sizeof mpath, "%s/metadata.json", dir);
    snprintf(rpath, sizeof rpath, "%s/revocation_list.txt", dir);

    OpMeta meta = { 0 };
    {
        /* "80.4.MOO.gz" -> key 80, reg 4 */
        size_t i = 0;
        while (base[i] && base[i] != '.' && i + 1 < sizeof meta.key) {
            meta.key[i] = base[i];
            i++;
        }
        meta.key[i] = 0;
        if (base[i] == '.' && isdigit((unsigned char)base[i + 1]) &&
            base[i + 2] == '.') {
            meta.reg[0] = base[i + 1];
            meta.reg[1] = 0;
        }
    }
    char *json = slurp_text(mpath);
    if (json) {
        lookup_meta(json, &meta);
        free(json);
    }
    int opcode = (int)strtol(meta.key, NULL, 16);
    if ((meta.found && (!strcmp(meta.status, "prefix") ||
                        !strcmp(meta.status, "fpu") ||
                        !strcmp(meta.status, "extension") ||
                        !strcmp(meta.status, "undefined"))) ||
        (opcode >= 0x64 && opcode <= 0x67)) {
        printf("%s: skipped (%s)\n", base, meta.found ? meta.status : "prefix");
        return;
    }
    Revoked rev;
    load_revoked(rpath, &rev);

    size_t len;
    uint8_t *data = read_file(path, &len);
    if (!data) {
        fprintf(stderr, "moo: cannot read %s\n", path);
        total_fail++;
        free(rev.hex);
        return;
    }
    Buf b = { data, len };
    long pass = 0, fail = 0, skip = 0, lskip = 0;
    for (int i = 0; i < G_NREGS; i++)
        file_mask[i] = 0xffffffffu;
    int shown = 0;
    while (b.len >= 8) {
        char id[4] = { 0 };
        uint32_t clen = 0;
        take(&b, id, 4);
        take(&b, &clen, 4);
        if (clen > b.len)
            break;
        Buf p = { b.p, clen };
        take(&b, NULL, clen);
        if (!memcmp(id, "RMSK", 4) || !memcmp(id, "RM32", 4)) {
            parse_regs(p, id[2] == '3', NULL, file_mask);
            continue;
        }
        if (!memcmp(id, "MOO ", 4) && clen >= 12) {
            cpu286 = !memcmp(p.p + 8, "C286", 4);
            continue;
        }
        if (!memcmp(id, "META", 4) && clen >= 28 && p.p[27] != 0) {
            /* protected, v86 and unreal mode files need descriptor state
             * this runner does not set up */
            printf("%s: skipped (CPU mode %u: only real-mode files are "
                   "supported)\n", base, p.p[27]);
            break;
        }
        if (memcmp(id, "TEST", 4))
            continue;
        Test t;
        if (!parse_test(p, &t)) {
            fail++;
            continue;
        }
        if (is_revoked(&rev, t.hash)) {
            skip++;
            continue;
        }
        if (lock_differs(t.bytes, t.nbytes) || p6_differs(&t)) {
            lskip++;
            continue;
        }
        char why[160];
        const char *err = run_test(&t, meta.flags_mask, opcode, why,
                                   sizeof why);
        if (!err) {
            pass++;
        } else {
            fail++;
            if (shown++ < MAX_FAIL_SHOWN) {
                printf("  FAIL %s [", t.name);
                for (uint32_t i = 0; i < t.nbytes; i++)
                    printf("%s%02x", i ? " " : "", t.bytes[i]);
                printf("]: %s\n", err);
                if (getenv("MOO_VERBOSE")) {
                    for (int r = 0; r < G_NREGS; r++)
                        if (t.init.has[r] || t.fina.has[r])
                            printf("    %-6s init %08x  final %08x%s  mine %08x\n",
                                   greg_name[t.wide][r], t.init.r[r],
                                   t.fina.has[r] ? t.fina.r[r] : t.init.r[r],
                                   t.fina.has[r] ? "*" : " ",
                                   get_reg(cpu, r, t.wide));
                    if (t.has_excp)
                        printf("    exception %d, flags at %05x\n",
                               t.excp_vec, t.excp_flags_addr);
                    for (uint32_t r = 0; r < t.fina.nram; r++)
                        printf("    ram %05x = %02x\n", rd32(t.fina.ram + 5 * r),
                               t.fina.ram[5 * r + 4]);
                }
            }
        }
        clear_ram(&t);
    }
    printf("%s: %ld/%ld passed", base, pass, pass + fail);
    if (skip)
        printf(", %ld revoked", skip);
    if (lskip)
        printf(", %ld skipped (286-only behaviour)", lskip);
    printf("\n");
    total_pass += pass;
    total_fail += fail;
    total_skip += skip + lskip;
    free(data);
    free(rev.hex);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: moo FILE.MOO[.gz]...\n");
        return 2;
    }
    bus_init(&bus, RAM_SIZE);
    cpu = cpu_new(&bus);
    if (!cpu) {
        fprintf(stderr, "moo: cannot create the CPU\n");
        return 1;
    }
    cpu->accel = getenv("MOO_ACCEL") && !strcmp(getenv("MOO_ACCEL"), "tcg") ?
                 ACCEL_TCG : ACCEL_INTERP;
    for (int i = 0; i < 16; i++)
        bus.shadow_writable[i] = true;
    bus_mmio_register(&bus, 0xa0000, 0x20000, vga_hole_read, vga_hole_write,
                      NULL, "flat-ram");
    bus.code_write = code_write;
    bus.code_write_opaque = cpu;
    for (int i = 1; i < argc; i++)
        run_file(argv[i]);
    if (total_skip)
        printf("(%ld tests skipped)\n", total_skip);
    printf("%ld passed, %ld failed\n", total_pass, total_fail);
    cpu_free(cpu);
    bus_free(&bus);
    return total_fail ? 1 : 0;
}
