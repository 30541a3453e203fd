/* Generator of random user-mode i386 instruction sequences for the
 * differential test.  Deterministic from the seed: the same seed gives the
 * same cases.bin on every host.
 *   difftest-gen [--qemu-compat] [--faults] SEED COUNT OUT.bin
 * Environment: DT_ITEMS=name,... (item kinds, see item_names), DT_MAX_ITEMS,
 * DT_BSF_ZERO (BSF/BSR also with a zero source).
 *
 * Each case is a short list of "items": one instruction under test plus the
 * setup that keeps it inside the rules every case obeys:
 *   - every memory access stays inside the scratch area (EBX is its fixed
 *     base and is never written; index registers are loaded just before);
 *   - nothing faults (DIV/IDIV operands are chosen so the quotient fits,
 *     AAM's immediate is non-zero, BSF/BSR sources are made non-zero),
 *     except the one deliberate exception that ends some cases (--faults);
 *   - ESP stays inside the case's stack (pushes and pops are counted);
 *   - no instruction consumes a flag the SDM leaves undefined at that point
 *     (a CMP is inserted first), and the flags still undefined at the end
 *     are left out of the comparison (flag_mask in the case record);
 *   - control flow only goes forward (jumps, calls with their returns), so
 *     every case ends.
 * Besides the instruction families there are items for CALL/RET and
 * indirect jumps, ENTER/LEAVE frames, self-modifying code, and a jump that
 * makes the next instruction straddle a page boundary.
 * The undefined-flag rules per instruction follow the Intel SDM vol. 2. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "difftest.h"

#define CF DT_FL_CF
#define PF DT_FL_PF
#define AF DT_FL_AF
#define ZF DT_FL_ZF
#define SF DT_FL_SF
#define OF DT_FL_OF
#define ALL6 DT_FL_ARITH

enum { EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI };

/* Stack head room: ESP starts 768 bytes into the 1 KiB scratch area; pushes
 * may run down into the data area (still scratch), pops up to its end. */
#define DEPTH_MAX 480
#define DEPTH_MIN (-200)

static int qemu_compat;
static int bsf_zero;

typedef struct Gen {
    uint8_t code[DT_CODE_MAX];
    uint32_t len;
    uint32_t n_insns;
    uint32_t undef;       /* arithmetic flags currently undefined */
    int depth;            /* bytes pushed since the case started */
    int in_frame;         /* inside ENTER..LEAVE: EBP must survive */
    int in_skip;          /* inside a forward-jump body: stack-neutral only */
    int data_only;        /* memory operands stay below the stack area */
    uint64_t rng;
} Gen;

static uint32_t rnd32(Gen *g)
{
    /* xorshift64* */
    g->rng ^= g->rng >> 12; g->rng ^= g->rng << 25; g->rng ^= g->rng >> 27;
    return (uint32_t)((g->rng * 0x2545F4914F6CDD1Dull) >> 32);
}
static uint32_t rnd(Gen *g, uint32_t n) { return n ? rnd32(g) % n : 0; }
static int chance(Gen *g, uint32_t n) { return rnd(g, n) == 0; }

/* Values that hit edge cases in flags and carries more often than chance. */
static uint32_t rval(Gen *g)
{
    static const uint32_t special[] = {
        0, 1, 2, 0xffffffff, 0xfffffffe, 0x80000000, 0x7fffffff, 0x8000,
        0x7fff, 0xffff, 0x80, 0x7f, 0xff, 0x100, 0x10000, 0x0f, 0x99, 0x9a,
        0x09, 0x0a, 0xf0, 0x5555aaaa,
    };
    switch (rnd(g, 8)) {
    case 0: case 1: return special[rnd(g, sizeof special / sizeof *special)];
    case 2: return rnd(g, 64);
    case 3: return (uint32_t)-(int32_t)rnd(g, 64);
    default: return rnd32(g);
    }
}

static void put8(Gen *g, uint32_t v)
{
    if (g->len >= DT_CODE_MAX) { fprintf(stderr, "difftest-gen: code overflow\n"); exit(2); }
    g->code[g->len++] = (uint8_t)v;
}
static void putn(Gen *g, uint32_t v, int n)
{
    for (int i = 0; i < n; i++) put8(g, v >> (8 * i));
}

/* ---- operands ---- */

typedef struct Opnd {
    int mem;              /* 0: the register `reg` */
    int reg;
    uint8_t mod, rm;
    int has_sib;
    uint8_t sib;
    int disp_len;
    uint32_t disp;
    uint8_t seg;          /* segment override prefix or 0 */
    int addr16;           /* needs 0x67 (LEA only) */
} Opnd;

static uint32_t wmask32(Gen *g)
{
    uint32_t m = 1u << EAX | 1u << ECX | 1u << EDX | 1u << ESI | 1u << EDI;
    if (!g->in_frame) m |= 1u << EBP;
    return m;
}

/* A register of `sz` bytes: writable ones avoid EBX (the data pointer),
 * ESP and, inside a frame, EBP; `avoid` is a mask of 32-bit register
 * numbers that later setup instructions or operands need. */
static int pick_reg(Gen *g, int sz, int writable, uint32_t avoid)
{
    int cand[8], n = 0;
    for (int r = 0; r < 8; r++) {
        int r32 = sz == 1 ? (r & 3) : r;
        if (avoid & (1u << r32)) continue;
        if (writable) {
            if (sz == 1 ? r32 == EBX : !(wmask32(g) & (1u << r))) continue;
        }
        cand[n++] = r;
    }
    if (!n) return -1;
    return cand[rnd(g, (uint32_t)n)];
}

static Opnd reg_opnd(int r) { Opnd o = { 0 }; o.reg = r; o.mod = 3; o.rm = (uint8_t)r; return o; }

static void emit_insn_raw(Gen *g, const uint8_t *pfx, int npfx, const uint8_t *opc, int nopc,
                          int regf, const Opnd *o, uint32_t imm, int imm_len);

static void mov_r32_imm(Gen *g, int r, uint32_t v)
{
    uint8_t op = (uint8_t)(0xb8 + r);
    emit_insn_raw(g, NULL, 0, &op, 1, -1, NULL, v, 4);
}

/* Where memory operands may end: inside a CALL body the return address
 * on the stack must survive, so only the data area is used there. */
static uint32_t mem_limit(Gen *g)
{
    return g->data_only ? DT_DATA_SIZE : DT_SCRATCH_SIZE;
}

/* A memory operand of `sz` bytes inside the scratch area.  Index forms load
 * their index register first (never one in `avoid`). */
static Opnd pick_mem(Gen *g, int sz, uint32_t avoid, int allow_esp)
{
    Opnd o = { 0 };
    o.mem = 1;
    for (;;) {
        switch (rnd(g, 10)) {
        case 0: case 1: case 2:        /* [ebx+disp8] */
            o.mod = 1; o.rm = EBX; o.disp_len = 1; o.disp = (uint32_t)((int)rnd(g, 256) - 128);
            break;
        case 3:                        /* [ebx] */
            o.mod = 0; o.rm = EBX;
            break;
        case 4: {                      /* [ebx+disp32] */
            int off = (int)rnd(g, mem_limit(g) - (uint32_t)sz + 1);
            o.mod = 2; o.rm = EBX; o.disp_len = 4; o.disp = (uint32_t)(off - 192);
            break;
        }
        case 5:                        /* [disp32] */
            o.mod = 0; o.rm = 5; o.disp_len = 4;
            o.disp = DT_SCRATCH + rnd(g, mem_limit(g) - (uint32_t)sz + 1);
            break;
        case 6: case 7: {              /* [ebx+idx*s+disp8], or [idx*s+disp32] */
            int idx = pick_reg(g, 4, 1, avoid);
            if (idx < 0) continue;
            uint32_t s = rnd(g, g->data_only ? 2 : 4);
            int v = (int)rnd(g, g->data_only ? 24 : 40) - 8;
            mov_r32_imm(g, idx, (uint32_t)v);
            o.rm = 4; o.has_sib = 1;
            if (chance(g, 3)) {
                o.mod = 0; o.sib = (uint8_t)(s << 6 | (uint32_t)idx << 3 | 5);
                o.disp_len = 4; o.disp = DT_SCRATCH + 300;
            } else {
                o.mod = 1; o.sib = (uint8_t)(s << 6 | (uint32_t)idx << 3 | EBX);
                o.disp_len = 1; o.disp = (uint32_t)((int)rnd(g, 256) - 128);
            }
            break;
        }
        case 8:                        /* [ebx+disp8] through a SIB with no index */
            o.mod = 1; o.rm = 4; o.has_sib = 1;
            o.sib = (uint8_t)(rnd(g, 4) << 6 | 4u << 3 | EBX);
            o.disp_len = 1; o.disp = (uint32_t)((int)rnd(g, 256) - 128);
            break;
        case 9: {                      /* [esp+disp8] */
            if (!allow_esp || g->data_only) continue;
            int base = (int)(DT_ESP_INIT - DT_SCRATCH) - g->depth;
            int lo = -base > -128 ? -base : -128;
            int hi = (int)DT_SCRATCH_SIZE - sz - base;
            if (hi > 127) hi = 127;
            if (hi < lo) continue;
            o.mod = 1; o.rm = 4; o.has_sib = 1; o.sib = 4u << 3 | ESP;
            o.disp_len = 1; o.disp = (uint32_t)(lo + (int)rnd(g, (uint32_t)(hi - lo + 1)));
            break;
        }
        }
        break;
    }
    if (chance(g, 10)) {
        static const uint8_t segs[] = { 0x26, 0x36, 0x3e };
        o.seg = segs[rnd(g, 3)];
    }
    return o;
}

/* Register or memory: `writable` as in pick_reg. */
static Opnd pick_rm(Gen *g, int sz, int writable, uint32_t avoid)
{
    if (chance(g, 2)) {
        int r = pick_reg(g, sz, writable, avoid);
        if (r >= 0) return reg_opnd(r);
    }
    return pick_mem(g, sz, avoid, 1);
}

/* ---- encoding ---- */

static void emit_insn_raw(Gen *g, const uint8_t *pfx, int npfx, const uint8_t *opc, int nopc,
                          int regf, const Opnd *o, uint32_t imm, int imm_len)
{
    uint8_t p[8];
    int np = 0;
    for (int i = 0; i < npfx; i++) if (pfx[i]) p[np++] = pfx[i];
    if (o && o->mem && o->seg) p[np++] = o->seg;
    if (o && o->addr16) p[np++] = 0x67;
    /* Prefix order does not matter to the CPU; decoders must agree. */
    if (np > 1 && chance(g, 4))
        for (int i = np - 1; i > 0; i--) {
            int j = (int)rnd(g, (uint32_t)i + 1);
            uint8_t t = p[i]; p[i] = p[j]; p[j] = t;
        }
    for (int i = 0; i < np; i++) put8(g, p[i]);
    for (int i = 0; i < nopc; i++) put8(g, opc[i]);
    if (o) {
        put8(g, (uint32_t)o->mod << 6 | (uint32_t)(regf & 7) << 3 | o->rm);
        if (o->has_sib) put8(g, o->sib);
        putn(g, o->disp, o->disp_len);
    }
    putn(g, imm, imm_len);
    g->n_insns++;
}

/* Common shape: [lock] [66] opcode modrm... imm. */
static void emit(Gen *g, int sz, int lock, const uint8_t *opc, int nopc, int regf,
                 const Opnd *o, uint32_t imm, int imm_len)
{
    uint8_t pfx[2] = { (uint8_t)(lock ? 0xf0 : 0), (uint8_t)(sz == 2 ? 0x66 : 0) };
    emit_insn_raw(g, pfx, 2, opc, nopc, regf, o, imm, imm_len);
}
static void emit1(Gen *g, int sz, int lock, uint8_t opc, int regf, const Opnd *o,
                  uint32_t imm, int imm_len)
{
    emit(g, sz, lock, &opc, 1, regf, o, imm, imm_len);
}
static void emit2(Gen *g, int sz, int lock, uint8_t opc2, int regf, const Opnd *o,
                  uint32_t imm, int imm_len)
{
    uint8_t op[2] = { 0x0f, opc2 };
    emit(g, sz, lock, op, 2, regf, o, imm, imm_len);
}

/* ---- flags bookkeeping ---- */

static void fl(Gen *g, uint32_t defined, uint32_t undefined)
{
    g->undef = (g->undef & ~(defined | undefined)) | undefined;
}

/* Before an instruction reads `mask`: make those flags defined again. */
static void need(Gen *g, uint32_t mask)
{
    if (!(g->undef & mask)) return;
    Opnd o = reg_opnd((int)rnd(g, 8));
    emit1(g, 4, 0, 0x39, (int)rnd(g, 8), &o, 0, 0);   /* cmp r32, r32 */
    fl(g, ALL6, 0);
}

static const uint32_t cc_reads[16] = {
    OF, OF, CF, CF, ZF, ZF, CF | ZF, CF | ZF, SF, SF, PF, PF,
    SF | OF, SF | OF, ZF | SF | OF, ZF | SF | OF,
};

static int pick_size(Gen *g)
{
    static const int s[] = { 1, 2, 4, 4 };
    return s[rnd(g, 4)];
}

/* ---- items ---- */

static void gen_alu(Gen *g)
{
    int op = (int)rnd(g, 8), sz = pick_size(g), w = op != 7;
    uint32_t reads = (op == 2 || op == 3) ? CF : 0;
    int logic = op == 1 || op == 4 || op == 6;
    int b = sz == 1 ? 0 : 1;
    Opnd o;
    switch (rnd(g, 5)) {
    case 0: {                                  /* r/m, reg */
        o = pick_rm(g, sz, w, 0);
        int r = pick_reg(g, sz, 0, 0);
        need(g, reads);
        emit1(g, sz, o.mem && w && chance(g, 4), (uint8_t)(op * 8 + b), r, &o, 0, 0);
        break;
    }
    case 1: {                                  /* reg, r/m */
        int r = pick_reg(g, sz, w, 0);
        o = pick_rm(g, sz, 0, 0);
        need(g, reads);
        emit1(g, sz, 0, (uint8_t)(op * 8 + 2 + b), r, &o, 0, 0);
        break;
    }
    case 2:                                    /* AL/AX/EAX, imm */
        need(g, reads);
        emit1(g, sz, 0, (uint8_t)(op * 8 + 4 + b), -1, NULL, rval(g), sz);
        break;
    default: {                                 /* 80/81/83 (/82 rarely) */
        o = pick_rm(g, sz, w, 0);
        need(g, reads);
        int lock = o.mem && w && chance(g, 4);
        if (sz == 1) emit1(g, sz, lock, chance(g, 8) ? 0x82 : 0x80, op, &o, rval(g), 1);
        else if (chance(g, 2)) emit1(g, sz, lock, 0x83, op, &o, rval(g), 1);
        else emit1(g, sz, lock, 0x81, op, &o, rval(g), sz);
        break;
    }
    }
    if (logic) fl(g, ALL6 & ~AF, AF);
    else fl(g, ALL6, 0);
}

static void gen_test(Gen *g)
{
    int sz = pick_size(g), b = sz == 1 ? 0 : 1;
    Opnd o;
    switch (rnd(g, 3)) {
    case 0:
        o = pick_rm(g, sz, 0, 0);
        emit1(g, sz, 0, (uint8_t)(0x84 + b), pick_reg(g, sz, 0, 0), &o, 0, 0);
        break;
    case 1:
        emit1(g, sz, 0, (uint8_t)(0xa8 + b), -1, NULL, rval(g), sz);
        break;
    default:
        o = pick_rm(g, sz, 0, 0);
        emit1(g, sz, 0, (uint8_t)(0xf6 + b), 0, &o, rval(g), sz);
        break;
    }
    fl(g, ALL6 & ~AF, AF);
}

static void gen_incdec_notneg(Gen *g)
{
    int sz = pick_size(g), b = sz == 1 ? 0 : 1, k = (int)rnd(g, 4);
    if (k < 2 && sz != 1 && chance(g, 3)) {    /* 40+r / 48+r */
        int r = pick_reg(g, sz, 1, 0);
        emit1(g, sz, 0, (uint8_t)(0x40 + 8 * k + r), -1, NULL, 0, 0);
        fl(g, ALL6 & ~CF, 0);
        return;
    }
    Opnd o = pick_rm(g, sz, 1, 0);
    int lock = o.mem && chance(g, 4);
    if (k < 2) {
        emit1(g, sz, lock, (uint8_t)(0xfe + b), k, &o, 0, 0);
        fl(g, ALL6 & ~CF, 0);
    } else {
        emit1(g, sz, lock, (uint8_t)(0xf6 + b), k, &o, 0, 0);
        if (k == 3) fl(g, ALL6, 0);
    }
}

static void gen_mul(Gen *g)
{
    int sz = pick_size(g), b = sz == 1 ? 0 : 1;
    int form = sz == 1 ? 0 : (int)rnd(g, 4);
    if (form == 0) {                           /* MUL/IMUL r/m: EDX:EAX */
        Opnd o = pick_rm(g, sz, 0, 0);
        emit1(g, sz, 0, (uint8_t)(0xf6 + b), chance(g, 2) ? 4 : 5, &o, 0, 0);
    } else {
        int r = pick_reg(g, sz, 1, 0);
        Opnd o = pick_rm(g, sz, 0, 0);
        if (form == 1) emit2(g, sz, 0, 0xaf, r, &o, 0, 0);
        else if (form == 2) emit1(g, sz, 0, 0x6b, r, &o, rval(g), 1);
        else emit1(g, sz, 0, 0x69, r, &o, rval(g), sz);
    }
    fl(g, CF | OF, SF | ZF | AF | PF);
}

/* DIV/IDIV with operands chosen so that the quotient fits: dividend =
 * q*d + r with |r| < |d| and r carrying the dividend's sign (truncating
 * division), checked with 64-bit arithmetic before use. */
static void gen_div(Gen *g)
{
    int sz = pick_size(g), b = sz == 1 ? 0 : 1, is_signed = chance(g, 2);
    int bits = sz * 8;
    uint64_t smask = bits == 32 ? 0xffffffffull : (1ull << bits) - 1;
    int ebx_reg = chance(g, 10) ? (sz == 1 && chance(g, 2) ? 7 : EBX) : -1;
    uint64_t ud;
    uint32_t dv;
    for (;;) {
        uint64_t v = rval(g) & smask;
        if (chance(g, 2)) v &= smask >> rnd(g, (uint32_t)bits);
        if (ebx_reg >= 0) v = ((uint64_t)DT_EBX_INIT >> (ebx_reg == 7 ? 8 : 0)) & smask;
        uint64_t qv = rval(g) & smask;
        if (chance(g, 2)) qv &= smask >> rnd(g, (uint32_t)bits);
        if (v == 0) continue;
        dv = (uint32_t)v;
        if (!is_signed) {
            uint64_t r = rnd32(g) % v;
            ud = qv * v + r;                  /* < 2^(2*bits): no overflow */
            if (ud / v != qv) continue;
            break;
        }
        int64_t d = (int64_t)v, q = (int64_t)qv;
        if (d > (int64_t)(smask >> 1)) d -= (int64_t)smask + 1;
        if (q > (int64_t)(smask >> 1)) q -= (int64_t)smask + 1;
        int64_t ad = d < 0 ? -d : d;
        int64_t r = (int64_t)(rnd32(g) % (uint64_t)ad);
        int64_t p = q * d;                    /* |p| <= 2^62 */
        if (p < 0 || (p == 0 && chance(g, 2))) r = -r;
        int64_t dividend = p + r;
        if (dividend / d != q || dividend % d != r) continue;
        if (bits < 32) {                      /* 64-bit dividends always fit */
            int64_t lim = (int64_t)1 << (2 * bits - 1);
            if (dividend < -lim || dividend >= lim) continue;
        }
        ud = (uint64_t)dividend;
        break;
    }
    /* EAX (and EDX) get random bits above the operand. */
    if (sz == 1) {
        mov_r32_imm(g, EAX, (rnd32(g) & 0xffff0000u) | (uint32_t)(ud & 0xffff));
    } else {
        uint32_t lo = (uint32_t)(ud & smask), hi = (uint32_t)((ud >> bits) & smask);
        mov_r32_imm(g, EAX, (rnd32(g) & ~(uint32_t)smask) | lo);
        mov_r32_imm(g, EDX, (rnd32(g) & ~(uint32_t)smask) | hi);
    }
    Opnd o;
    uint32_t avoid = 1u << EAX | 1u << EDX;
    if (ebx_reg >= 0) {
        o = reg_opnd(ebx_reg);
    } else if (chance(g, 2)) {
        int rr = pick_reg(g, sz, 1, avoid);
        if (sz == 1) emit1(g, 1, 0, (uint8_t)(0xb0 + rr), -1, NULL, dv, 1);
        else mov_r32_imm(g, rr, (rnd32(g) & ~(uint32_t)smask) | dv);
        o = reg_opnd(rr);
    } else {
        o = pick_mem(g, sz, avoid, 1);
        emit1(g, sz, 0, (uint8_t)(0xc6 + b), 0, &o, dv, sz);   /* mov [m], imm */
    }
    emit1(g, sz, 0, (uint8_t)(0xf6 + b), is_signed ? 7 : 6, &o, 0, 0);
    fl(g, 0, ALL6);
}

/* Shift count: mostly within the operand, sometimes past it or past 31. */
static uint32_t shift_count(Gen *g, int bits)
{
    switch (rnd(g, 6)) {
    case 0: return 0;
    case 1: return 1;
    case 2: return rnd(g, 32);
    case 3: return rnd(g, 256);
    default: return rnd(g, (uint32_t)bits + 2);
    }
}

static void gen_shift(Gen *g)
{
    int sz = pick_size(g), b = sz == 1 ? 0 : 1, bits = sz * 8;
    int op = (int)rnd(g, 8);
    if (op == 6 && !chance(g, 4)) op = 4;      /* /6 is an alias of SHL */
    int form = (int)rnd(g, 3);
    uint32_t count = form == 0 ? 1 : shift_count(g, bits);
    Opnd o;
    if (form == 2) {
        o = pick_rm(g, sz, 1, 1u << ECX);
        emit1(g, 1, 0, 0xb1, -1, NULL, count, 1);            /* mov cl, count */
    } else {
        o = pick_rm(g, sz, 1, 0);
    }
    uint32_t c = count & 31;
    if (c && (op == 2 || op == 3)) need(g, CF);
    if (form == 0) emit1(g, sz, 0, (uint8_t)(0xd0 + b), op, &o, 0, 0);
    else if (form == 1) emit1(g, sz, 0, (uint8_t)(0xc0 + b), op, &o, count, 1);
    else emit1(g, sz, 0, (uint8_t)(0xd2 + b), op, &o, 0, 0);
    if (!c) return;
    uint32_t ofd = c == 1 ? OF : 0, ofu = c == 1 ? 0 : OF;
    if (op < 4) {
        fl(g, CF | ofd, ofu);
    } else {
        uint32_t cfd = CF, cfu = 0;
        if (op != 7 && c >= (uint32_t)bits) { cfd = 0; cfu = CF; }
        fl(g, SF | ZF | PF | cfd | ofd, AF | cfu | ofu);
    }
}

static void gen_shld(Gen *g)
{
    int sz = chance(g, 3) ? 2 : 4, bits = sz * 8;
    int right = chance(g, 2), cl = chance(g, 2);
    uint32_t count;
    do count = shift_count(g, bits); while (bits == 16 && (count & 31) > 16);
    Opnd o = pick_rm(g, sz, 1, cl ? 1u << ECX : 0);
    int r = pick_reg(g, sz, 0, 0);
    if (cl) emit1(g, 1, 0, 0xb1, -1, NULL, count, 1);
    if (cl) emit2(g, sz, 0, right ? 0xad : 0xa5, r, &o, 0, 0);
    else emit2(g, sz, 0, right ? 0xac : 0xa4, r, &o, count, 1);
    uint32_t c = count & 31;
    if (!c) return;
    fl(g, CF | SF | ZF | PF | (c == 1 ? OF : 0), AF | (c == 1 ? 0 : OF));
}

static void gen_bt(Gen *g)
{
    int sz = chance(g, 3) ? 2 : 4, op = (int)rnd(g, 4);
    int w = op != 0;
    if (chance(g, 2)) {                        /* 0F BA /4-7 ib */
        Opnd o = pick_rm(g, sz, w, 0);
        emit2(g, sz, o.mem && w && chance(g, 4), 0xba, 4 + op, &o, rnd(g, 256), 1);
    } else if (chance(g, 2)) {                 /* register destination */
        int d = pick_reg(g, sz, w, 0);
        Opnd o = reg_opnd(d);
        emit2(g, sz, 0, (uint8_t)(0xa3 + 8 * op), pick_reg(g, sz, 0, 0), &o, 0, 0);
    } else {
        /* Memory with a register bit offset addresses outside the operand:
         * keep the offset in [-128, 255] and the base near the middle. */
        int r = pick_reg(g, sz, 1, 0);
        uint32_t v = (uint32_t)((int)rnd(g, 384) - 128);
        if (sz == 2) v = (v & 0xffff) | (rnd32(g) & 0xffff0000u);
        mov_r32_imm(g, r, v);
        Opnd o = { 0 };
        o.mem = 1; o.mod = 1; o.rm = EBX; o.disp_len = 1;
        o.disp = (uint32_t)((int)rnd(g, 97) - 48);
        emit2(g, sz, w && chance(g, 4), (uint8_t)(0xa3 + 8 * op), r, &o, 0, 0);
    }
    fl(g, CF, OF | SF | AF | PF);
}

/* BSF/BSR with a source that is never zero: the destination is undefined
 * for a zero source in the SDM. */
static void gen_bsf(Gen *g)
{
    int sz = chance(g, 3) ? 2 : 4, rev = chance(g, 2);
    int d = pick_reg(g, sz, 1, 0);
    Opnd o;
    if (chance(g, 8)) {
        o = reg_opnd(EBX);                     /* EBX is never zero */
    } else if (bsf_zero && chance(g, 2)) {
        /* DT_BSF_ZERO: a zero source, where hardware (AMD documents it,
         * Intel does it) leaves the destination unchanged */
        o = pick_rm(g, sz, 1, 0);
        if (o.mem) emit1(g, sz, 0, 0xc7, 0, &o, 0, sz);
        else emit1(g, sz, 0, 0x31, o.reg, &o, 0, 0);      /* xor r, r */
        fl(g, ALL6 & ~AF, AF);
    } else {
        o = pick_rm(g, sz, 1, 0);
        uint32_t bit = 1u << rnd(g, (uint32_t)sz * 8);
        if (chance(g, 2)) bit |= rval(g);
        if (sz == 2) bit &= 0xffff;
        if (!bit) bit = 1;
        emit1(g, sz, 0, 0x81, 1, &o, bit, sz);  /* or r/m, imm */
    }
    emit2(g, sz, 0, rev ? 0xbd : 0xbc, d, &o, 0, 0);
    fl(g, ZF, CF | OF | SF | AF | PF);
}

static void gen_bswap(Gen *g)
{
    int r = pick_reg(g, 4, 1, 0);
    uint8_t op[2] = { 0x0f, (uint8_t)(0xc8 + r) };
    emit(g, 4, 0, op, 2, -1, NULL, 0, 0);
}

static void gen_xchg(Gen *g)
{
    int sz = pick_size(g), b = sz == 1 ? 0 : 1;
    switch (rnd(g, 4)) {
    case 0:
        if (sz != 1) {
            int r = pick_reg(g, sz, 1, 0);
            emit1(g, sz, 0, (uint8_t)(0x90 + r), -1, NULL, 0, 0);
            return;
        }
        /* fall through */
    case 1: {                                  /* XCHG r/m, reg */
        Opnd o = pick_rm(g, sz, 1, 0);
        emit1(g, sz, o.mem && chance(g, 4), (uint8_t)(0x86 + b), pick_reg(g, sz, 1, 0), &o, 0, 0);
        return;
    }
    case 2: {                                  /* XADD */
        Opnd o = pick_rm(g, sz, 1, 0);
        emit2(g, sz, o.mem && chance(g, 3), (uint8_t)(0xc0 + b), pick_reg(g, sz, 1, 0), &o, 0, 0);
        fl(g, ALL6, 0);
        return;
    }
    default: {                                 /* CMPXCHG, half of them equal */
        Opnd o = pick_rm(g, sz, 1, 1u << EAX);
        if (chance(g, 2)) emit1(g, sz, 0, (uint8_t)(0x8a + b), EAX, &o, 0, 0);
        emit2(g, sz, o.mem && chance(g, 3), (uint8_t)(0xb0 + b), pick_reg(g, sz, 0, 0), &o, 0, 0);
        fl(g, ALL6, 0);
        return;
    }
    }
}

static void gen_cmpxchg8b(Gen *g)
{
    Opnd o = { 0 };
    o.mem = 1; o.mod = 1; o.rm = EBX; o.disp_len = 1;
    int disp = (int)rnd(g, 240) - 120;
    o.disp = (uint32_t)disp;
    if (chance(g, 2)) {                        /* make it succeed */
        Opnd lo = o, hi = o;
        hi.disp = (uint32_t)(disp + 4);
        emit1(g, 4, 0, 0x8b, EAX, &lo, 0, 0);
        emit1(g, 4, 0, 0x8b, EDX, &hi, 0, 0);
    } else if (chance(g, 4)) {
        o = pick_mem(g, 8, 0, 1);
    }
    emit2(g, 4, chance(g, 3), 0xc7, 1, &o, 0, 0);
    fl(g, ZF, 0);
    /* QEMU 7.2's CMPXCHG8B clobbers the other flags (seen against the host
     * CPU: after "add eax,eax" it leaves A=1 P=0 C=1, and PUSHF then shows
     * DF=1 until the next flag-setting instruction).  --qemu-compat
     * overwrites them at once, so the harness can be validated under QEMU. */
    if (qemu_compat) {
        g->undef |= ALL6;
        need(g, ALL6);
    }
}

static void gen_cmov_setcc(Gen *g)
{
    int cc = (int)rnd(g, 16);
    if (chance(g, 2)) {
        int sz = chance(g, 3) ? 2 : 4;
        int d = pick_reg(g, sz, 1, 0);
        Opnd o = pick_rm(g, sz, 0, 0);
        need(g, cc_reads[cc]);
        emit2(g, sz, 0, (uint8_t)(0x40 + cc), d, &o, 0, 0);
    } else {
        Opnd o = pick_rm(g, 1, 1, 0);
        need(g, cc_reads[cc]);
        emit2(g, 4, 0, (uint8_t)(0x90 + cc), chance(g, 8) ? (int)rnd(g, 8) : 0, &o, 0, 0);
    }
}

/* LEA computes an address without touching memory: any registers, scales
 * and displacements, and 16-bit addressing too. */
static void gen_lea(Gen *g)
{
    int sz = chance(g, 4) ? 2 : 4;
    int d = pick_reg(g, sz, 1, 0);
    Opnd o = { 0 };
    o.mem = 1;
    if (chance(g, 4)) {
        o.addr16 = 1;
        o.mod = (uint8_t)rnd(g, 3); o.rm = (uint8_t)rnd(g, 8);
        if (o.mod == 1) o.disp_len = 1;
        else if (o.mod == 2 || o.rm == 6) o.disp_len = 2;
        o.disp = rval(g);
    } else {
        o.mod = (uint8_t)rnd(g, 3); o.rm = (uint8_t)rnd(g, 8);
        if (o.rm == 4) { o.has_sib = 1; o.sib = (uint8_t)rnd32(g); }
        if (o.mod == 1) o.disp_len = 1;
        else if (o.mod == 2 || (o.mod == 0 && o.rm == 5) ||
                 (o.mod == 0 && o.has_sib && (o.sib & 7) == 5)) o.disp_len = 4;
        o.disp = rval(g);
    }
    emit1(g, sz, 0, 0x8d, d, &o, 0, 0);
}

static void gen_mov(Gen *g)
{
    int sz = pick_size(g), b = sz == 1 ? 0 : 1;
    switch (rnd(g, 8)) {
    case 0: case 1: {                          /* movzx/movsx */
        int dsz = chance(g, 3) ? 2 : 4, ssz = dsz == 2 || chance(g, 2) ? 1 : 2;
        int d = pick_reg(g, dsz, 1, 0);
        Opnd o = pick_rm(g, ssz, 0, 0);
        emit2(g, dsz, 0, (uint8_t)((chance(g, 2) ? 0xb6 : 0xbe) + (ssz == 2)), d, &o, 0, 0);
        return;
    }
    case 2: {
        Opnd o = pick_rm(g, sz, 1, 0);
        emit1(g, sz, 0, (uint8_t)(0x88 + b), pick_reg(g, sz, 0, 0), &o, 0, 0);
        return;
    }
    case 3: {
        int d = pick_reg(g, sz, 1, 0);
        Opnd o = pick_rm(g, sz, 0, 0);
        emit1(g, sz, 0, (uint8_t)(0x8a + b), d, &o, 0, 0);
        return;
    }
    case 4: {
        int d = pick_reg(g, sz, 1, 0);
        emit1(g, sz, 0, (uint8_t)((sz == 1 ? 0xb0 : 0xb8) + d), -1, NULL, rval(g), sz);
        return;
    }
    case 5: {
        Opnd o = pick_rm(g, sz, 1, 0);
        emit1(g, sz, 0, (uint8_t)(0xc6 + b), 0, &o, rval(g), sz);
        return;
    }
    case 6: {                                  /* A0-A3: moffs */
        uint32_t a = DT_SCRATCH + rnd(g, mem_limit(g) - (uint32_t)sz + 1);
        emit1(g, sz, 0, (uint8_t)(0xa0 + b + (chance(g, 2) ? 2 : 0)), -1, NULL, a, 4);
        return;
    }
    default:                                   /* CBW/CWDE, CWD/CDQ */
        emit1(g, chance(g, 2) ? 2 : 4, 0, chance(g, 2) ? 0x98 : 0x99, -1, NULL, 0, 0);
        return;
    }
}

/* String operations on the scratch area with a small ECX and either
 * direction; the pointers start far enough from both ends. */
/* String operations on the scratch area in either direction.  Counts are
 * mostly small, sometimes up to 64 elements (long runs are where emulators
 * take fast paths, and the scratch area's page boundary splits some); the
 * pointers are placed so the whole run stays inside the area. */
static uint32_t string_ptr(Gen *g, uint32_t travel, int sz, int down)
{
    uint32_t lim = mem_limit(g), room = lim - travel - (uint32_t)sz;
    return DT_SCRATCH + (down ? travel : 0) + rnd(g, room + 1);
}

static void gen_string(Gen *g)
{
    static const uint8_t ops[] = { 0xa4, 0xa6, 0xaa, 0xac, 0xae };
    int k = (int)rnd(g, 5), sz = pick_size(g);
    int cmp = ops[k] == 0xa6 || ops[k] == 0xae;
    int rep = (int)rnd(g, 3);                  /* none, F3, F2 */
    if (rep == 2 && !cmp) rep = 1;
    int down = chance(g, 2);
    uint32_t n = chance(g, 4) ? rnd(g, 65) : rnd(g, 9);
    uint32_t travel = (rep ? n : 1) * (uint32_t)sz;
    uint32_t si = string_ptr(g, travel, sz, down);
    if (ops[k] != 0xaa) mov_r32_imm(g, ESI, si);
    if (ops[k] != 0xac) {
        uint32_t di = string_ptr(g, travel, sz, down);
        /* CMPS over the same bytes: REPE runs to the end */
        if (ops[k] == 0xa6 && chance(g, 3)) di = si;
        mov_r32_imm(g, EDI, di);
    }
    if (rep) mov_r32_imm(g, ECX, n);
    emit1(g, 4, 0, down ? 0xfd : 0xfc, -1, NULL, 0, 0);       /* std/cld */
    uint8_t pfx[3] = { (uint8_t)(rep == 1 ? 0xf3 : rep == 2 ? 0xf2 : 0),
                       (uint8_t)(sz == 2 ? 0x66 : 0), 0 };
    if (ops[k] != 0xaa && ops[k] != 0xae && chance(g, 6)) {
        static const uint8_t segs[] = { 0x26, 0x36, 0x3e };
        pfx[2] = segs[rnd(g, 3)];
    }
    uint8_t op = (uint8_t)(ops[k] + (sz != 1));
    emit_insn_raw(g, pfx, 3, &op, 1, -1, NULL, 0, 0);
    if (cmp && (!rep || n)) fl(g, ALL6, 0);
}

static int stack_room(Gen *g, int push, int pop)
{
    return g->depth + push <= DEPTH_MAX && g->depth - pop >= DEPTH_MIN;
}

static void gen_pushpop(Gen *g)
{
    int sz = chance(g, 5) ? 2 : 4;
    int push = g->depth - sz < DEPTH_MIN || (g->depth + sz <= DEPTH_MAX && chance(g, 2));
    if (push) {
        if (!stack_room(g, sz, 0)) return;
        switch (rnd(g, 4)) {
        case 0: emit1(g, sz, 0, (uint8_t)(0x50 + rnd(g, 8)), -1, NULL, 0, 0); break;
        case 1: emit1(g, sz, 0, 0x6a, -1, NULL, rval(g), 1); break;
        case 2: emit1(g, sz, 0, 0x68, -1, NULL, rval(g), sz); break;
        default: {
            Opnd o = pick_mem(g, sz, 0, 1);
            emit1(g, sz, 0, 0xff, 6, &o, 0, 0);
        }
        }
        g->depth += sz;
    } else {
        if (!stack_room(g, 0, sz)) return;
        if (chance(g, 3)) {
            /* POP [mem] computes an ESP-based address after the pop */
            g->depth -= sz;
            Opnd o = pick_mem(g, sz, 0, 1);
            g->depth += sz;
            emit1(g, sz, 0, 0x8f, 0, &o, 0, 0);
        } else {
            emit1(g, sz, 0, (uint8_t)(0x58 + pick_reg(g, sz, 1, 0)), -1, NULL, 0, 0);
        }
        g->depth -= sz;
    }
}

/* PUSHF/POPF: the image always has IF and TF cleared (TF is 1 while the
 * guest single-steps a case; IF is 1 natively in user
 * mode and 0 in the ring-0 guest), and POPF only ever loads arithmetic
 * flags and DF that differ from the current ones. */
static void gen_pushf(Gen *g)
{
    int sz = chance(g, 4) ? 2 : 4;
    if (!stack_room(g, sz, 0)) return;
    need(g, ALL6);
    Opnd top = { 0 };
    top.mem = 1; top.mod = 0; top.rm = 4; top.has_sib = 1; top.sib = 4u << 3 | ESP;
    emit1(g, sz, 0, 0x9c, -1, NULL, 0, 0);
    emit1(g, sz, 0, 0x81, 4, &top, ~0x300u, sz);          /* and [esp], ~(IF|TF) */
    fl(g, ALL6 & ~AF, AF);
    if (g->in_skip || chance(g, 3)) {
        if (chance(g, 2)) emit1(g, sz, 0, 0x81, 6, &top, rnd32(g) & DT_FL_CASE, sz);
        emit1(g, sz, 0, 0x9d, -1, NULL, 0, 0);            /* popf */
        fl(g, ALL6, 0);
    } else if (chance(g, 2)) {
        emit1(g, sz, 0, (uint8_t)(0x58 + pick_reg(g, sz, 1, 0)), -1, NULL, 0, 0);
    } else {
        g->depth += sz;
    }
}

static void gen_pusha(Gen *g)
{
    int sz = chance(g, 4) ? 2 : 4;
    if (!stack_room(g, 8 * sz, 0)) return;
    emit1(g, sz, 0, 0x60, -1, NULL, 0, 0);
    /* Slots from ESP up: EDI ESI EBP ESP EBX EDX ECX EAX. */
    static const int slot_reg[8] = { EDI, ESI, EBP, ESP, EBX, EDX, ECX, EAX };
    for (int i = 0, n = (int)rnd(g, 3); i < n; i++) {
        int s = (int)rnd(g, 8);
        if (!(wmask32(g) & (1u << slot_reg[s]))) continue;
        Opnd o = { 0 };
        o.mem = 1; o.mod = 1; o.rm = 4; o.has_sib = 1; o.sib = 4u << 3 | ESP;
        o.disp_len = 1; o.disp = (uint32_t)(s * sz);
        emit1(g, sz, 0, 0xc7, 0, &o, rval(g), sz);
    }
    emit1(g, sz, 0, 0x61, -1, NULL, 0, 0);
}

static void gen_flagops(Gen *g)
{
    switch (rnd(g, 6)) {
    case 0: need(g, SF | ZF | AF | PF | CF); emit1(g, 4, 0, 0x9f, -1, NULL, 0, 0); break;
    case 1: emit1(g, 4, 0, 0x9e, -1, NULL, 0, 0); fl(g, SF | ZF | AF | PF | CF, 0); break;
    case 2: emit1(g, 4, 0, 0xf8, -1, NULL, 0, 0); fl(g, CF, 0); break;
    case 3: emit1(g, 4, 0, 0xf9, -1, NULL, 0, 0); fl(g, CF, 0); break;
    case 4: need(g, CF); emit1(g, 4, 0, 0xf5, -1, NULL, 0, 0); break;
    default: emit1(g, 4, 0, chance(g, 2) ? 0xfc : 0xfd, -1, NULL, 0, 0); break;
    }
}

static void gen_bcd(Gen *g)
{
    if (chance(g, 3)) mov_r32_imm(g, EAX, rval(g));
    if (chance(g, 2)) {                        /* the usual ADD/SUB before */
        uint8_t op = chance(g, 2) ? 0x04 : 0x2c;
        emit1(g, 1, 0, op, -1, NULL, rval(g), 1);
        fl(g, ALL6, 0);
    }
    switch (rnd(g, 6)) {
    case 0: case 1:
        need(g, AF | CF);
        emit1(g, 4, 0, chance(g, 2) ? 0x27 : 0x2f, -1, NULL, 0, 0);
        fl(g, SF | ZF | AF | PF | CF, OF);
        break;
    case 2: case 3:
        need(g, AF);
        emit1(g, 4, 0, chance(g, 2) ? 0x37 : 0x3f, -1, NULL, 0, 0);
        fl(g, AF | CF, OF | SF | ZF | PF);
        break;
    case 4: {
        uint32_t imm = chance(g, 2) ? 10 : 1 + rnd(g, 255);
        emit1(g, 4, 0, 0xd4, -1, NULL, imm, 1);
        fl(g, SF | ZF | PF, OF | AF | CF);
        break;
    }
    default:
        emit1(g, 4, 0, 0xd5, -1, NULL, chance(g, 2) ? 10 : rnd(g, 256), 1);
        fl(g, SF | ZF | PF, OF | AF | CF);
        break;
    }
}

static void gen_misc(Gen *g)
{
    switch (rnd(g, qemu_compat ? 4 : 5)) {
    case 4: {               /* pause (QEMU 7.2 skips the single-step trap after it) */
        uint8_t p = 0xf3, op = 0x90;
        emit_insn_raw(g, &p, 1, &op, 1, -1, NULL, 0, 0);
        break;
    }
    case 0: emit1(g, 4, 0, 0xd7, -1, NULL, 0, 0); break;            /* xlat */
    case 1: emit1(g, chance(g, 2) ? 2 : 4, 0, 0x90, -1, NULL, 0, 0); break;
    case 2: {                                                       /* 0F 1F /0 */
        Opnd o = pick_rm(g, 4, 0, 0);
        emit2(g, chance(g, 2) ? 2 : 4, 0, 0x1f, 0, &o, 0, 0);
        break;
    }
    default: gen_bswap(g); break;
    }
}

typedef void (*ItemFn)(Gen *);

/* Items allowed inside a forward-jump body or a frame: no net stack
 * change, no nesting of jumps or frames. */
static void gen_simple_item(Gen *g)
{
    static const ItemFn fns[] = {
        gen_alu, gen_alu, gen_alu, gen_test, gen_incdec_notneg, gen_mul, gen_div,
        gen_shift, gen_shift, gen_shld, gen_bt, gen_bsf, gen_xchg, gen_cmpxchg8b,
        gen_cmov_setcc, gen_lea, gen_mov, gen_string, gen_flagops, gen_bcd, gen_misc,
        gen_pusha,
    };
    fns[rnd(g, sizeof fns / sizeof *fns)](g);
}

/* A forward branch over a body of one to three items.  At the join a flag
 * is undefined if it is undefined on either path. */
static void gen_jump(Gen *g)
{
    int kind = (int)rnd(g, 7), cc = (int)rnd(g, 16);
    int a16 = 0;
    uint8_t op[2];
    int nop = 1, rel32 = 0;
    switch (kind) {
    case 0: case 1: need(g, cc_reads[cc]); op[0] = (uint8_t)(0x70 + cc); break;
    case 2: need(g, cc_reads[cc]); op[0] = 0x0f; op[1] = (uint8_t)(0x80 + cc); nop = 2; rel32 = 1; break;
    case 3: op[0] = chance(g, 2) ? 0xeb : 0xe9; rel32 = op[0] == 0xe9; break;
    case 4:
        if (chance(g, 2)) mov_r32_imm(g, ECX, rnd(g, 3) == 0 ? 0 : rval(g));
        op[0] = 0xe3; a16 = chance(g, 4); break;
    default: {
        if (chance(g, 2)) mov_r32_imm(g, ECX, rnd(g, 3));
        op[0] = (uint8_t)(0xe0 + rnd(g, 3));
        if (op[0] != 0xe2) need(g, ZF);
        a16 = chance(g, 4);
        break;
    }
    }
    /* 2E/3E before a Jcc are the (ignored) branch hints */
    uint8_t pfx[2] = { (uint8_t)(a16 ? 0x67 : 0),
                       (uint8_t)(kind <= 2 && chance(g, 8) ? (chance(g, 2) ? 0x2e : 0x3e) : 0) };
    emit_insn_raw(g, pfx, 2, op, nop, -1, NULL, 0, rel32 ? 4 : 1);
    uint32_t at = g->len;
    Gen save = *g;
    uint32_t undef_taken = g->undef;
    for (int tries = 0;; tries++) {
        g->in_skip = 1;
        int n = tries ? 1 : 1 + (int)rnd(g, 3);
        for (int i = 0; i < n; i++) gen_simple_item(g);
        g->in_skip = save.in_skip;
        if (rel32 || g->len - at <= 127) break;
        uint64_t rng = g->rng;
        *g = save;
        g->rng = rng;
        if (tries > 3) break;
    }
    uint32_t dist = g->len - at;
    if (rel32) { for (int i = 0; i < 4; i++) g->code[at - 4 + i] = (uint8_t)(dist >> (8 * i)); }
    else g->code[at - 1] = (uint8_t)dist;
    if (op[0] == 0xeb || op[0] == 0xe9) g->undef = undef_taken;
    else g->undef |= undef_taken;
}

/* Patches a 32-bit little-endian value already emitted at `at`. */
static void patch32(Gen *g, uint32_t at, uint32_t v)
{
    for (int i = 0; i < 4; i++) g->code[at + i] = (uint8_t)(v >> (8 * i));
}

/* CALL (direct, through a register or through memory) to a body that ends
 * in RET or RET imm16, then a jump over the body:
 *     call L1 ; jmp L2 ; L1: body ; ret [n] ; L2:
 * Targets are absolute addresses in the fixed code area, the same on both
 * sides.  Also indirect forward JMPs (register, memory). */
static void gen_call(Gen *g)
{
    int kind = (int)rnd(g, 5);
    uint32_t ret_n = chance(g, 4) ? 2u * rnd(g, 5) : 0;
    /* keep the return address above the data area (see mem_limit) */
    if (g->depth > 200 || !stack_room(g, 4, (int)ret_n)) return;
    uint32_t patch_at = 0;
    Opnd o = { 0 };
    if (kind == 1 || kind == 3) {                  /* through a register */
        int r = pick_reg(g, 4, 1, 0);
        mov_r32_imm(g, r, 0);
        patch_at = g->len - 4;
        o = reg_opnd(r);
    } else if (kind == 2 || kind == 4) {           /* through memory */
        o = pick_mem(g, 4, 0, 1);
        emit1(g, 4, 0, 0xc7, 0, &o, 0, 4);         /* mov [m], target */
        patch_at = g->len - 4;
    }
    if (kind >= 3) {                               /* JMP reg / JMP [m] */
        emit1(g, 4, 0, 0xff, 4, &o, 0, 0);
        Gen save = *g;
        g->in_skip = 1;
        gen_simple_item(g);
        g->in_skip = save.in_skip;
        g->undef = save.undef;                     /* the body never runs */
        patch32(g, patch_at, DT_CODE + g->len);
        return;
    }
    uint32_t call_rel = 0;
    if (kind == 0) { emit1(g, 4, 0, 0xe8, -1, NULL, 0, 4); call_rel = g->len; }
    else emit1(g, 4, 0, 0xff, 2, &o, 0, 0);
    emit1(g, 4, 0, 0xe9, -1, NULL, 0, 4);          /* jmp L2 */
    uint32_t jmp_end = g->len;
    if (kind == 0) patch32(g, call_rel - 4, jmp_end - call_rel);
    else patch32(g, patch_at, DT_CODE + jmp_end);
    g->depth += 4;
    int in_skip = g->in_skip;
    g->in_skip = 1;
    g->data_only = 1;
    for (int i = 0, n = (int)rnd(g, 3); i < n; i++) gen_simple_item(g);
    g->data_only = 0;
    g->in_skip = in_skip;
    if (ret_n) emit1(g, 4, 0, 0xc2, -1, NULL, ret_n, 2);
    else emit1(g, 4, 0, 0xc3, -1, NULL, 0, 0);
    g->depth -= 4 + (int)ret_n;
    patch32(g, jmp_end - 4, g->len - jmp_end);
}

/* Self-modifying code: a store rewrites an instruction further on (the
 * immediate of a MOV, or the opcode of an ALU op), optionally with other
 * items in between, optionally followed by a jump.  P6 and later CPUs see
 * the new bytes without any serialisation; emulators must invalidate the
 * translation of the very block that is running. */
static void gen_smc(Gen *g)
{
    static const uint8_t alu_ops[] = { 0x01, 0x09, 0x11, 0x19, 0x21, 0x29, 0x31, 0x39 };
    int patch_opcode = chance(g, 2);
    uint32_t newv = rval(g);
    int narrow = !patch_opcode && chance(g, 3);
    /* mov byte/dword [abs32], imm: the address is patched in below */
    Opnd o = { 0 };
    o.mem = 1; o.mod = 0; o.rm = 5; o.disp_len = 4;
    uint8_t newop = alu_ops[rnd(g, 8)];
    int op = newop >> 3;
    if (patch_opcode) emit1(g, 1, 0, 0xc6, 0, &o, newop, 1);
    else emit1(g, narrow ? 1 : 4, 0, narrow ? 0xc6 : 0xc7, 0, &o, newv, narrow ? 1 : 4);
    uint32_t addr_at = g->len - (patch_opcode || narrow ? 1 : 4) - 4;
    for (int i = 0, n = (int)rnd(g, 3); i < n; i++) gen_simple_item(g);
    if (chance(g, 2)) emit1(g, 4, 0, 0xeb, -1, NULL, 0, 1);   /* jmp $+2 */
    if (patch_opcode) {
        if (op == 2 || op == 3) need(g, CF);
        patch32(g, addr_at, DT_CODE + g->len);
        uint8_t orig = alu_ops[rnd(g, 8)];
        Opnd r = reg_opnd(pick_reg(g, 4, 1, 0));
        emit1(g, 4, 0, orig, (int)rnd(g, 8), &r, 0, 0);
        /* the flags are those of the op that really runs: the new one */
        if (op == 1 || op == 4 || op == 6) fl(g, ALL6 & ~AF, AF);
        else fl(g, ALL6, 0);
    } else {
        int r = pick_reg(g, 4, 1, 0);
        patch32(g, addr_at, DT_CODE + g->len + 1 + (uint32_t)rnd(g, narrow ? 4 : 1));
        mov_r32_imm(g, r, rval(g));
    }
}

/* The last item of some cases: an instruction that raises an exception
 * (or, for INTO and BOUND, may raise one).  Both sides must report the same
 * vector, the EIP the CPU reports (the instruction for faults, the next one
 * for the INT3/INTO traps) and the registers and flags unchanged by it. */
static void gen_fault(Gen *g)
{
    switch (rnd(g, 9)) {
    case 0: case 1: {                           /* #DE: divide by zero or overflow */
        int sz = pick_size(g), b = sz == 1 ? 0 : 1;
        uint32_t dv = chance(g, 2) ? 0 : 1 + rnd(g, 3);
        if (dv) {                               /* quotient too big for the operand */
            /* a positive dividend of at least 2^30 (AX >= 0x4000 for the
             * byte form) over 1..3: the quotient overflows every size */
            mov_r32_imm(g, EAX, sz == 1 ? (0x4000u | rval(g)) & 0xffff7fffu : rval(g));
            mov_r32_imm(g, EDX, (0x40004000u | rval(g)) & 0x7fff7fffu);
        }
        Opnd o;
        if (chance(g, 2)) {
            int r = pick_reg(g, sz, 1, 1u << EAX | 1u << EDX);
            if (sz == 1) emit1(g, 1, 0, (uint8_t)(0xb0 + r), -1, NULL, dv, 1);
            else mov_r32_imm(g, r, dv);
            o = reg_opnd(r);
        } else {
            o = pick_mem(g, sz, 1u << EAX | 1u << EDX, 1);
            emit1(g, sz, 0, (uint8_t)(0xc6 + b), 0, &o, dv, sz);
        }
        emit1(g, sz, 0, (uint8_t)(0xf6 + b), chance(g, 2) ? 6 : 7, &o, 0, 0);
        fl(g, 0, ALL6);                         /* should it not fault after all */
        break;
    }
    case 2:
        emit1(g, 4, 0, 0xd4, -1, NULL, 0, 1);   /* AAM 0: #DE */
        break;
    case 3: {                                   /* #UD: UD2, UD1 */
        static const uint8_t ud2[2] = { 0x0f, 0x0b };
        if (chance(g, 4)) {
            Opnd o = pick_rm(g, 4, 0, 0);
            emit2(g, 4, 0, 0xb9, (int)rnd(g, 8), &o, 0, 0);
        } else {
            emit(g, 4, 0, ud2, 2, -1, NULL, 0, 0);
        }
        break;
    }
    case 4: {                                   /* #UD: invalid operand forms */
        Opnd r = reg_opnd((int)rnd(g, 8));
        switch (rnd(g, 6)) {
        case 0: {                               /* LOCK op reg, reg */
            /* QEMU 7.2 runs LOCK XOR/SUB of a register with itself */
            int regf = qemu_compat ? (r.reg + 1 + (int)rnd(g, 7)) & 7 : (int)rnd(g, 8);
            emit1(g, 4, 1, (uint8_t)(8 * rnd(g, 7) + 1), regf, &r, 0, 0);
            break;
        }
        case 1: {                               /* LOCK MOV (QEMU 7.2 runs it) */
            Opnd m = pick_mem(g, 4, 0, 1);
            emit1(g, 4, !qemu_compat, 0x89, (int)rnd(g, 8), &m, 0, 0);
            break;
        }
        case 2: emit1(g, 4, 0, 0x8d, (int)rnd(g, 8), &r, 0, 0); break;        /* LEA reg, reg */
        case 3: emit2(g, 4, 0, 0xc7, 1, &r, 0, 0); break;                     /* CMPXCHG8B reg */
        case 4: emit1(g, 4, 0, 0xff, chance(g, 2) ? 3 : 5, &r, 0, 0); break;  /* far CALL/JMP reg */
        default: emit1(g, 4, 0, 0x8e, 1, &r, 0, 0); break;                    /* MOV CS, r */
        }
        break;
    }
    case 5: case 6:
        emit1(g, 4, 0, 0xcc, -1, NULL, 0, 0);   /* INT3: #BP, a trap */
        break;
    case 7:                                     /* INTO: #OF when OF=1 */
        if (chance(g, 2)) {
            /* 0x7fffffff + 1 overflows */
            mov_r32_imm(g, EAX, 0x7fffffff);
            emit1(g, 4, 0, 0x05, -1, NULL, chance(g, 4) ? 0 : 1, 4);
            fl(g, ALL6, 0);
        }
        need(g, OF);
        emit1(g, 4, 0, 0xce, -1, NULL, 0, 0);
        break;
    default: {                                  /* BOUND: #BR when out of range */
        int sz = chance(g, 4) ? 2 : 4;
        int r = pick_reg(g, sz, 1, 0);
        Opnd o = { 0 };
        o.mem = 1; o.mod = 1; o.rm = EBX; o.disp_len = 1;
        int disp = (int)rnd(g, 200) - 100;
        o.disp = (uint32_t)disp;
        Opnd hi = o;
        hi.disp = (uint32_t)(disp + sz);
        uint32_t lo_v = rval(g), hi_v = rval(g);
        emit1(g, sz, 0, 0xc7, 0, &o, lo_v, sz);
        emit1(g, sz, 0, 0xc7, 0, &hi, hi_v, sz);
        if (chance(g, 2)) mov_r32_imm(g, r, rval(g));
        emit1(g, sz, 0, 0x62, r, &o, 0, 0);
        break;
    }
    }
}

/* Moves the code on so that the next item starts 1-7 bytes before the
 * second code page: its first instruction is split across the boundary.
 * The skipped gap is INT3s, so a wrong jump shows as #BP. */
static void gen_pagecross(Gen *g)
{
    uint32_t target = 0x1000u - 1 - rnd(g, 7);
    if (g->len + 5 >= target) return;              /* already past: no-op */
    emit1(g, 4, 0, 0xe9, -1, NULL, target - (g->len + 5), 4);
    while (g->len < target) put8(g, 0xcc);
    gen_simple_item(g);
}

/* ENTER (nesting level 0-3) .. body .. LEAVE.  For a non-zero level ENTER
 * copies frame pointers from [EBP-4*i], so EBP is pointed at the stack. */
static void gen_enter(Gen *g)
{
    int level = chance(g, 2) ? 0 : chance(g, 8) ? (int)rnd(g, 32) : 1 + (int)rnd(g, 3);
    int size = (int)rnd(g, 49);
    int push = 4 + 4 * level + size;
    if (!stack_room(g, push + 64, 0)) return;
    if (level) {
        Opnd o = { 0 };
        o.mem = 1; o.mod = 1; o.rm = 4; o.has_sib = 1; o.sib = 4u << 3 | ESP;
        o.disp_len = 1; o.disp = 4u * rnd(g, 8);
        emit1(g, 4, 0, 0x8d, EBP, &o, 0, 0);               /* lea ebp, [esp+d] */
    }
    emit1(g, 4, 0, 0xc8, -1, NULL, (uint32_t)size | (uint32_t)level << 16, 3);
    int depth0 = g->depth;
    g->depth += push;
    g->in_frame = 1;
    for (int i = 0, n = (int)rnd(g, 4); i < n; i++) {
        if (chance(g, 3)) gen_pushpop(g);
        else gen_simple_item(g);
    }
    emit1(g, 4, 0, 0xc9, -1, NULL, 0, 0);
    g->in_frame = 0;
    g->depth = depth0;
}

static const struct { const char *name; ItemFn fn; } item_names[] = {
    { "alu", gen_alu }, { "test", gen_test }, { "incdec", gen_incdec_notneg },
    { "mul", gen_mul }, { "div", gen_div }, { "shift", gen_shift }, { "shld", gen_shld },
    { "bt", gen_bt }, { "bsf", gen_bsf }, { "xchg", gen_xchg }, { "cmpxchg8b", gen_cmpxchg8b },
    { "cmov", gen_cmov_setcc }, { "lea", gen_lea }, { "mov", gen_mov }, { "string", gen_string },
    { "flagops", gen_flagops }, { "bcd", gen_bcd }, { "misc", gen_misc }, { "pusha", gen_pusha },
    { "pushpop", gen_pushpop }, { "pushf", gen_pushf }, { "jump", gen_jump }, { "enter", gen_enter },
    { "call", gen_call }, { "smc", gen_smc }, { "fault", gen_fault },
    { "pagecross", gen_pagecross },
};
#define N_ITEMS (sizeof item_names / sizeof *item_names)
/* DT_ITEMS=name,name... restricts the items (to narrow down a failure). */
static ItemFn only[N_ITEMS];
static uint32_t n_only;

static void gen_item(Gen *g)
{
    if (n_only) {
        ItemFn f = only[rnd(g, n_only)];
        /* a fault ends the case: only ever the last item */
        if (f != gen_fault) f(g);
        return;
    }
    switch (rnd(g, 15)) {
    case 6: gen_smc(g); break;
    case 7: if (chance(g, 3)) gen_pagecross(g); else gen_simple_item(g); break;
    case 0: gen_pushpop(g); break;
    case 1: gen_pushf(g); break;
    case 2: case 3: gen_jump(g); break;
    case 4: gen_enter(g); break;
    case 5: gen_call(g); break;
    default: gen_simple_item(g); break;
    }
}

static const char *prog = "difftest-gen";

int main(int argc, char **argv)
{
    /* --faults: some cases end in a CPU exception (see gen_fault); a runner
     * must then report the registers and flags at the fault as the CPU saw
     * them, with ESP before the exception frame. */
    int faults = 0;
    for (;;) {
        if (argc > 1 && !strcmp(argv[1], "--qemu-compat")) { qemu_compat = 1; argc--; argv++; }
        else if (argc > 1 && !strcmp(argv[1], "--faults")) { faults = 1; argc--; argv++; }
        else break;
    }
    if (argc != 4) {
        fprintf(stderr, "usage: %s [--qemu-compat] [--faults] SEED COUNT OUT.bin\n", prog);
        return 2;
    }
    char *end;
    unsigned long seed = strtoul(argv[1], &end, 0);
    if (*end) { fprintf(stderr, "%s: bad seed '%s'\n", prog, argv[1]); return 2; }
    unsigned long count = strtoul(argv[2], &end, 0);
    if (*end || count > 1000000) { fprintf(stderr, "%s: bad count '%s'\n", prog, argv[2]); return 2; }
    FILE *f = fopen(argv[3], "wb");
    if (!f) { perror(argv[3]); return 2; }
    struct dt_file_header h = { DT_FILE_MAGIC, DT_VERSION, (uint32_t)count, (uint32_t)seed };
    fwrite(&h, sizeof h, 1, f);
    static Gen g;
    const char *sel = getenv("DT_ITEMS");
    for (size_t i = 0; sel && i < N_ITEMS; i++) {
        const char *p = strstr(sel, item_names[i].name);
        size_t l = strlen(item_names[i].name);
        if (p && (p == sel || p[-1] == ',') && (p[l] == 0 || p[l] == ','))
            only[n_only++] = item_names[i].fn;
    }
    int fault_ok = faults && (!sel || strstr(sel, "fault"));
    bsf_zero = getenv("DT_BSF_ZERO") != NULL;
    /* DT_MAX_ITEMS: longer sequences stress flag liveness across blocks */
    uint32_t max_items = 10;
    if (getenv("DT_MAX_ITEMS")) {
        max_items = (uint32_t)strtoul(getenv("DT_MAX_ITEMS"), NULL, 0);
        if (max_items < 1 || max_items > 200) {
            fprintf(stderr, "%s: DT_MAX_ITEMS must be 1..200\n", prog);
            return 2;
        }
    }
    if (sel && !n_only) { fprintf(stderr, "%s: DT_ITEMS matches no item\n", prog); return 2; }
    for (uint32_t i = 0; i < count; i++) {
        memset(&g, 0, sizeof g);
        g.rng = ((uint64_t)dt_mix((uint32_t)seed) << 32 | dt_mix(i * 2654435761u + 1)) | 1;
        struct dt_case c = { 0 };
        c.magic = DT_CASE_MAGIC;
        c.index = i;
        c.mem_seed = rnd32(&g);
        for (int r = 0; r < 8; r++) c.regs[r] = rval(&g);
        c.regs[EBX] = DT_EBX_INIT;
        c.regs[ESP] = DT_ESP_INIT;
        c.eflags = rnd32(&g) & DT_FL_CASE;
        g.undef = 0;
        /* stop well before the code area is full: one item is < 400 bytes */
        for (int k = 0, n = 1 + (int)rnd(&g, max_items); k < n && g.len < DT_CODE_MAX - 400; k++)
            gen_item(&g);
        if (fault_ok && chance(&g, 8)) gen_fault(&g);
        c.flag_mask = DT_FL_CASE & ~g.undef;
        c.code_len = (uint16_t)g.len;
        c.n_insns = (uint16_t)g.n_insns;
        static const uint8_t zero[4];
        fwrite(&c, sizeof c, 1, f);
        fwrite(g.code, 1, g.len, f);
        fwrite(zero, 1, dt_code_padded(g.len) - g.len, f);
    }
    if (fclose(f)) { perror(argv[3]); return 2; }
    return 0;
}
