/* The AArch64 backend: IR -> A64 machine code.
 *
 * Registers: x19 holds env (the guest CPU state) and x20 the TcgCtx for
 * the whole run. Globals always live in env, so helpers, slow paths and
 * exceptions see the guest state without any spilling. Every local gets
 * a host register for its interval when one is free (alloc_regs: x9-x15
 * when the interval spans no call, x21-x28 otherwise); the rest keep a
 * 4-byte slot in the host frame at sp. Scratch registers, never holding
 * a value from one op to the next: x0-x8 (x0-x4 also carry helper
 * arguments; x8 only forms large offsets), x16 and x17 (soft-TLB and
 * branch sequences).
 *
 * Guest memory accesses inline the soft-TLB compare and add; misses
 * branch to out-of-line slow paths after the block, which also perform
 * the global stores the optimizer sank there (IRSink). Direct block
 * exits are a patchable B (imm26 reaches the whole code buffer);
 * indirect jumps probe the jump cache inline.
 *
 * A guest exception longjmps out of a helper, which discards the frame
 * (setjmp saved the callee-saved registers we use). */
#define _GNU_SOURCE
#include <string.h>
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/mman.h>
#include "tcg/tcg.h"

const char tcg_backend_name[] = "aarch64";
const bool tcg_backend_jit = true;

enum { X0, X1, X2, X3, X4, X5, X6, X7, X8, X9, X15 = 15, X16 = 16, X17 = 17,
       X19 = 19, X20 = 20, X21 = 21, X28 = 28, X29 = 29, X30 = 30,
       XZR = 31, XSP = 31 };
#define ENV X19
#define CTX X20
/* Scratch roles within one op. */
#define SA X6        /* first operand */
#define SB X7        /* second operand */
#define SD X5        /* result */
#define SOFF X8      /* large memory offsets */

/* A64 condition codes. */
enum { CC_EQ, CC_NE, CC_HS, CC_LO, CC_MI, CC_PL, CC_VS, CC_VC, CC_HI, CC_LS,
       CC_GE, CC_LT, CC_GT, CC_LE };

static const uint8_t ir_to_cc[] = {
    [IRC_EQ] = CC_EQ, [IRC_NE] = CC_NE, [IRC_LTU] = CC_LO, [IRC_GEU] = CC_HS,
    [IRC_LEU] = CC_LS, [IRC_GTU] = CC_HI, [IRC_LT] = CC_LT, [IRC_GE] = CC_GE,
    [IRC_LE] = CC_LE, [IRC_GT] = CC_GT, [IRC_TSTEQ] = CC_EQ, [IRC_TSTNE] = CC_NE,
};

/* Host frame below the saved registers: one slot per local. */
#define FRAME_SIZE (IR_MAX_TEMPS * 4)
#define SAVE_SIZE 96

typedef struct SlowPath {
    uint32_t at;           /* the b.ne into the slow path (word index) */
    uint32_t back;         /* where to continue */
    const IROp *op;
    uint8_t ra, rv, rd;    /* address, store value, load result registers */
} SlowPath;

enum { FIX_B26, FIX_B19 };

typedef struct Emit {
    uint8_t *buf;          /* rw view of the output */
    const uint8_t *rx;     /* rx address of buf[0] */
    size_t cap, n;         /* in instructions */
    bool full;
    TcgCtx *s;
    IRFunc *f;
    int8_t treg[IR_MAX_TEMPS];   /* host register of a local, or -1 */
    uint32_t labels[IR_MAX_LABELS];
    struct { uint32_t at; int label; } fix[IR_MAX_OPS];
    int nfix;
    SlowPath slow[IR_MAX_OPS];
    int nslow;
    uint32_t entry_exit[4];       /* branches to the out-of-line entry exit */
    int nentry_exit;
} Emit;

/* Set when writes through the code buffer's writable view do not reach
 * the instruction stream of the executable view even after the cache
 * maintenance (seen under qemu-user 7.2, which ignores IC IVAU and only
 * notices code changes through a page becoming writable): every write is
 * then followed by a protection round trip of the executable pages. */
static bool alias_stale;

static void sync_rx(TcgCtx *s, const uint8_t *rx, size_t len)
{
    __builtin___clear_cache((char *)rx, (char *)rx + len);
    if (!alias_stale || !s->cb.dual || len == 0)
        return;
    long pg = sysconf(_SC_PAGESIZE);
    if (pg <= 0)
        pg = 4096;
    uintptr_t a = (uintptr_t)rx & ~(uintptr_t)(pg - 1);
    uintptr_t b = ((uintptr_t)rx + len + (uintptr_t)pg - 1) & ~(uintptr_t)(pg - 1);
    if (mprotect((void *)a, b - a, PROT_READ | PROT_WRITE) < 0 ||
        mprotect((void *)a, b - a, PROT_READ | PROT_EXEC) < 0) {
        perror("kestrel: mprotect code buffer");
        _exit(1);
    }
}

/* ---- instruction encoding ---- */

static void ins(Emit *e, uint32_t v)
{
    if (e->n < e->cap)
        memcpy(e->buf + 4 * e->n, &v, 4);
    else
        e->full = true;
    e->n++;
}

static uint32_t get_ins(Emit *e, uint32_t at)
{
    uint32_t v = 0;
    if (at < e->cap)
        memcpy(&v, e->buf + 4 * (size_t)at, 4);
    return v;
}

static void put_ins(Emit *e, uint32_t at, uint32_t v)
{
    if (at < e->cap)
        memcpy(e->buf + 4 * (size_t)at, &v, 4);
}

/* Point the branch at word `at` to word `to`. */
static void fix_branch(Emit *e, uint32_t at, uint32_t to, int kind)
{
    int64_t d = (int64_t)to - (int64_t)at;
    uint32_t v = get_ins(e, at);
    if (kind == FIX_B26) {
        if (d < -(1 << 25) || d >= (1 << 25))
            e->full = true;
        v = (v & 0xfc000000u) | ((uint32_t)d & 0x03ffffffu);
    } else {
        if (d < -(1 << 18) || d >= (1 << 18))
            e->full = true;
        v = (v & 0xff00001fu) | (((uint32_t)d & 0x7ffffu) << 5);
    }
    put_ins(e, at, v);
}

static void add_sub_reg(Emit *e, int sf, int sub, int setf, int rd, int rn,
                        int rm, int shift, int amount)
{
    ins(e, 0x0b000000u | (uint32_t)sf << 31 | (uint32_t)sub << 30 |
           (uint32_t)setf << 29 | (uint32_t)shift << 22 | (uint32_t)rm << 16 |
           (uint32_t)amount << 10 | (uint32_t)rn << 5 | (uint32_t)rd);
}

static void add_sub_imm(Emit *e, int sf, int sub, int setf, int rd, int rn,
                        uint32_t imm12, int lsl12)
{
    ins(e, 0x11000000u | (uint32_t)sf << 31 | (uint32_t)sub << 30 |
           (uint32_t)setf << 29 | (uint32_t)lsl12 << 22 | imm12 << 10 |
           (uint32_t)rn << 5 | (uint32_t)rd);
}

enum { LOG_AND, LOG_ORR, LOG_EOR, LOG_ANDS };

static void logic_reg(Emit *e, int sf, int opc, int invert, int rd, int rn,
                      int rm, int shift, int amount)
{
    ins(e, 0x0a000000u | (uint32_t)sf << 31 | (uint32_t)opc << 29 |
           (uint32_t)shift << 22 | (uint32_t)invert << 21 | (uint32_t)rm << 16 |
           (uint32_t)amount << 10 | (uint32_t)rn << 5 | (uint32_t)rd);
}

static uint64_t ror_w(uint64_t v, int r, int w)
{
    uint64_t m = w == 64 ? ~0ull : (1ull << w) - 1;
    v &= m;
    if (r == 0)
        return v;
    return ((v >> r) | (v << (w - r))) & m;
}

/* The N:immr:imms field of a logical immediate, or -1 when imm is not a
 * rotated run of ones repeated over 2..64-bit elements. */
static int64_t bitmask_enc(uint64_t imm, int width)
{
    uint64_t all = width == 64 ? ~0ull : (1ull << width) - 1;
    imm &= all;
    if (imm == 0 || imm == all)
        return -1;
    int es = width;
    while (es > 2) {
        int h = es / 2;
        uint64_t hm = (1ull << h) - 1;
        if ((imm & hm) != ((imm >> h) & hm))
            break;
        es = h;
    }
    uint64_t em = es == 64 ? ~0ull : (1ull << es) - 1;
    uint64_t v = imm & em;
    int ones = __builtin_popcountll(v);
    uint64_t run = ones == 64 ? ~0ull : (1ull << ones) - 1;
    for (int r = 0; r < es; r++) {
        if (ror_w(v, r, es) == run) {
            int immr = (es - r) % es;
            int imms = (int)((~(unsigned)(es - 1) << 1) & 0x3f) | (ones - 1);
            int n = es == 64;
            return (int64_t)n << 22 | (int64_t)immr << 16 | (int64_t)imms << 10;
        }
    }
    return -1;
}

static bool logic_imm(Emit *e, int sf, int opc, int rd, int rn, uint64_t imm)
{
    int64_t enc = bitmask_enc(imm, sf ? 64 : 32);
    if (enc < 0)
        return false;
    ins(e, 0x12000000u | (uint32_t)sf << 31 | (uint32_t)opc << 29 |
           (uint32_t)enc | (uint32_t)rn << 5 | (uint32_t)rd);
    return true;
}

enum { MOV_N = 0, MOV_Z = 2, MOV_K = 3 };

static void movw(Emit *e, int sf, int opc, int rd, uint32_t imm16, int hw)
{
    ins(e, 0x12800000u | (uint32_t)sf << 31 | (uint32_t)opc << 29 |
           (uint32_t)hw << 21 | (imm16 & 0xffff) << 5 | (uint32_t)rd);
}

static void mov_rr(Emit *e, int sf, int rd, int rm)
{
    if (rd != rm)
        logic_reg(e, sf, LOG_ORR, 0, rd, XZR, rm, 0, 0);
}

static void mov_i32(Emit *e, int rd, uint32_t imm)
{
    if ((imm & 0xffff0000u) == 0) {
        movw(e, 0, MOV_Z, rd, imm, 0);
    } else if ((imm & 0xffff) == 0) {
        movw(e, 0, MOV_Z, rd, imm >> 16, 1);
    } else if ((~imm & 0xffff0000u) == 0) {
        movw(e, 0, MOV_N, rd, ~imm, 0);
    } else if ((~imm & 0xffff) == 0) {
        movw(e, 0, MOV_N, rd, ~imm >> 16, 1);
    } else if (!logic_imm(e, 0, LOG_ORR, rd, XZR, imm)) {
        movw(e, 0, MOV_Z, rd, imm, 0);
        movw(e, 0, MOV_K, rd, imm >> 16, 1);
    }
}

static void mov_i64(Emit *e, int rd, uint64_t imm)
{
    if (imm <= 0xffffffffu) {
        mov_i32(e, rd, (uint32_t)imm);
        return;
    }
    if (logic_imm(e, 1, LOG_ORR, rd, XZR, imm))
        return;
    int ones = 0;
    for (int i = 0; i < 4; i++)
        ones += ((imm >> (16 * i)) & 0xffff) == 0xffff;
    bool neg = ones >= 2;
    bool first = true;
    for (int i = 0; i < 4; i++) {
        uint32_t h = (uint32_t)(imm >> (16 * i)) & 0xffff;
        if (h == (neg ? 0xffffu : 0))
            continue;
        if (first)
            movw(e, 1, neg ? MOV_N : MOV_Z, rd, neg ? ~h : h, i);
        else
            movw(e, 1, MOV_K, rd, h, i);
        first = false;
    }
    if (first)
        movw(e, 1, neg ? MOV_N : MOV_Z, rd, 0, 0);
}

/* rd = rn + imm (64-bit), for env/ctx-relative addresses. */
static void add_i64(Emit *e, int rd, int rn, uint64_t imm)
{
    if (imm < 4096) {
        add_sub_imm(e, 1, 0, 0, rd, rn, (uint32_t)imm, 0);
    } else if (imm < (1u << 24)) {
        add_sub_imm(e, 1, 0, 0, rd, rn, (uint32_t)(imm >> 12), 1);
        if (imm & 0xfff)
            add_sub_imm(e, 1, 0, 0, rd, rd, (uint32_t)imm & 0xfff, 0);
    } else {
        mov_i64(e, SOFF, imm);
        add_sub_reg(e, 1, 0, 0, rd, rn, SOFF, 0, 0);
    }
}

enum { SH_LSL, SH_LSR, SH_ASR, SH_ROR };

static void dp2(Emit *e, int opcode, int rd, int rn, int rm)
{
    ins(e, 0x1ac00000u | (uint32_t)rm << 16 | (uint32_t)opcode << 10 |
           (uint32_t)rn << 5 | (uint32_t)rd);
}

static void bfm(Emit *e, int sf, int opc, int rd, int rn, int immr, int imms)
{
    ins(e, 0x13000000u | (uint32_t)sf << 31 | (uint32_t)opc << 29 |
           (uint32_t)sf << 22 | (uint32_t)immr << 16 | (uint32_t)imms << 10 |
           (uint32_t)rn << 5 | (uint32_t)rd);
}
#define SBFM 0
#define UBFM 2

static void csinc(Emit *e, int inc, int rd, int rn, int rm, int cc)
{
    ins(e, 0x1a800000u | (inc ? 0x400u : 0) | (uint32_t)rm << 16 |
           (uint32_t)cc << 12 | (uint32_t)rn << 5 | (uint32_t)rd);
}

static void br_reg(Emit *e, int link, int rn)
{
    ins(e, (link ? 0xd63f0000u : 0xd61f0000u) | (uint32_t)rn << 5);
}

/* Load/store kinds, indexed [kind][log2 size]; scaled unsigned-offset
 * forms (clearing bit 24 gives the unscaled/register forms). */
enum { MEM_LD, MEM_LDS, MEM_ST };
static const uint32_t mem_opc[3][4] = {
    { 0x39400000u, 0x79400000u, 0xb9400000u, 0xf9400000u },
    { 0x39c00000u, 0x79c00000u, 0xb9400000u, 0xf9400000u },
    { 0x39000000u, 0x79000000u, 0xb9000000u, 0xf9000000u },
};

static void mem_off(Emit *e, int kind, int lsize, int rt, int rn, int64_t off)
{
    uint32_t opc = mem_opc[kind][lsize];
    if (off >= 0 && (off & ((1 << lsize) - 1)) == 0 && (off >> lsize) < 4096) {
        ins(e, opc | (uint32_t)(off >> lsize) << 10 | (uint32_t)rn << 5 |
               (uint32_t)rt);
    } else if (off >= -256 && off < 256) {
        ins(e, (opc & ~0x01000000u) | ((uint32_t)off & 0x1ff) << 12 |
               (uint32_t)rn << 5 | (uint32_t)rt);
    } else {
        mov_i64(e, SOFF, (uint64_t)off);
        ins(e, (opc & ~0x01000000u) | 0x00206800u | (uint32_t)SOFF << 16 |
               (uint32_t)rn << 5 | (uint32_t)rt);
    }
}

/* [xn + wm, uxtw] */
static void mem_uxtw(Emit *e, int kind, int lsize, int rt, int rn, int rm)
{
    ins(e, (mem_opc[kind][lsize] & ~0x01000000u) | 0x00204800u |
           (uint32_t)rm << 16 | (uint32_t)rn << 5 | (uint32_t)rt);
}

/* ---- temps ---- */

static bool home(Emit *e, int t, int *base, int32_t *off)
{
    const IRTemp *tp = &e->f->temps[t];
    if (tp->global) {
        *base = ENV;
        *off = tp->env_off;
    } else {
        *base = XSP;
        *off = (t - e->f->nglobals) * 4;
    }
    return true;
}

/* The register holding t's value: its own, or `scratch` loaded from home. */
static int reg_in(Emit *e, int t, int scratch)
{
    if (e->treg[t] >= 0)
        return e->treg[t];
    int base; int32_t off;
    home(e, t, &base, &off);
    mem_off(e, MEM_LD, 2, scratch, base, off);
    return scratch;
}

/* Load t into exactly register r. */
static void load_to(Emit *e, int r, int t)
{
    int x = reg_in(e, t, r);
    mov_rr(e, 0, r, x);
}

/* Where an op should compute t's new value. */
static int reg_out(Emit *e, int t, int scratch)
{
    return e->treg[t] >= 0 ? e->treg[t] : scratch;
}

/* Finish a write of t computed in register r (from reg_out, or any). */
static void write_back(Emit *e, int t, int r)
{
    if (e->treg[t] >= 0) {
        mov_rr(e, 0, e->treg[t], r);
        return;
    }
    int base; int32_t off;
    home(e, t, &base, &off);
    mem_off(e, MEM_ST, 2, r, base, off);
}

/* ---- control flow ---- */

static void b_abs(Emit *e, const uint8_t *target_rx, int link)
{
    int64_t d = (target_rx - (e->rx + 4 * e->n)) / 4;
    if (d < -(1 << 25) || d >= (1 << 25)) {
        e->full = true;
        d = 0;
    }
    ins(e, (link ? 0x94000000u : 0x14000000u) | ((uint32_t)d & 0x03ffffffu));
}

static void call_abs(Emit *e, const void *fn)
{
    intptr_t d = (const uint8_t *)fn - (e->rx + 4 * e->n);
    if (d >= -(1 << 27) && d < (1 << 27) && (d & 3) == 0) {
        b_abs(e, fn, 1);
    } else {
        mov_i64(e, X16, (uint64_t)(uintptr_t)fn);
        br_reg(e, 1, X16);
    }
}

static void exit_with(Emit *e, uint64_t val)
{
    mov_i64(e, X0, val);
    b_abs(e, e->s->epilogue, 0);
}

static void fix_label(Emit *e, int label)
{
    if (e->nfix < IR_MAX_OPS) {
        e->fix[e->nfix].at = (uint32_t)e->n;
        e->fix[e->nfix].label = label;
        e->nfix++;
    } else {
        e->full = true;
    }
}

/* Compare t1 with t2/imm for an op's condition; returns the A64
 * condition that holds when the IR condition does. */
static int emit_compare(Emit *e, const IROp *op)
{
    bool tst = op->cond == IRC_TSTEQ || op->cond == IRC_TSTNE;
    int a = reg_in(e, op->t[1], SA);
    if (op->flags & IRF_BIMM) {
        uint32_t imm = op->imm;
        if (tst) {
            if (!logic_imm(e, 0, LOG_ANDS, XZR, a, imm)) {
                mov_i32(e, SB, imm);
                logic_reg(e, 0, LOG_ANDS, 0, XZR, a, SB, 0, 0);
            }
        } else if (imm < 4096) {
            add_sub_imm(e, 0, 1, 1, XZR, a, imm, 0);
        } else if ((imm & 0xfff) == 0 && imm < (1u << 24)) {
            add_sub_imm(e, 0, 1, 1, XZR, a, imm >> 12, 1);
        } else if (-imm < 4096) {
            add_sub_imm(e, 0, 0, 1, XZR, a, -imm, 0);      /* cmn */
        } else {
            mov_i32(e, SB, imm);
            add_sub_reg(e, 0, 1, 1, XZR, a, SB, 0, 0);
        }
    } else {
        int b = reg_in(e, op->t[2], SB);
        if (tst)
            logic_reg(e, 0, LOG_ANDS, 0, XZR, a, b, 0, 0);
        else
            add_sub_reg(e, 0, 1, 1, XZR, a, b, 0, 0);
    }
    return ir_to_cc[op->cond];
}

/* ---- guest memory ---- */

/* Soft-TLB probe for an access whose linear address is in ra: branches
 * to a slow path on a miss, else leaves the host addend in x17. */
static void emit_tlb(Emit *e, const IROp *op, int ra, bool write)
{
    const TcgEnvLayout *L = &e->s->layout;
    int size = 1 << (op->cond & IRM_SIZE);
    uint32_t pmask = ~((1u << L->page_bits) - 1);
    int tagr = X16;
    if (size > 1) {
        add_sub_imm(e, 0, 0, 0, tagr, ra, (uint32_t)size - 1, 0);
        if (!logic_imm(e, 0, LOG_AND, tagr, tagr, pmask)) {
            mov_i32(e, X17, pmask);
            logic_reg(e, 0, LOG_AND, 0, tagr, tagr, X17, 0, 0);
        }
    } else if (!logic_imm(e, 0, LOG_AND, tagr, ra, pmask)) {
        mov_i32(e, X17, pmask);
        logic_reg(e, 0, LOG_AND, 0, tagr, ra, X17, 0, 0);
    }
    if ((op->cond & IRM_USER) && L->user_tag &&
        !logic_imm(e, 0, LOG_ORR, tagr, tagr, L->user_tag)) {
        mov_i32(e, X17, L->user_tag);
        logic_reg(e, 0, LOG_ORR, 0, tagr, tagr, X17, 0, 0);
    }
    uint32_t mask = L->tlb_mask;
    int nbits = mask ? 32 - __builtin_clz(mask) : 0;
    if (mask && (mask & (mask + 1)) == 0 && L->page_bits + nbits <= 32) {
        bfm(e, 0, UBFM, X17, ra, L->page_bits, L->page_bits + nbits - 1);
    } else {
        bfm(e, 0, UBFM, X17, ra, L->page_bits, 31);            /* lsr */
        if (!logic_imm(e, 0, LOG_AND, X17, X17, mask)) {
            mov_i32(e, X0, mask);
            logic_reg(e, 0, LOG_AND, 0, X17, X17, X0, 0, 0);
        }
    }
    int es = L->tlb_entry_size;
    if ((es & (es - 1)) == 0) {
        add_sub_reg(e, 1, 0, 0, X17, ENV, X17, SH_LSL, __builtin_ctz((unsigned)es));
    } else {
        mov_i32(e, X0, (uint32_t)es);
        ins(e, 0x9ba00000u | (uint32_t)X0 << 16 | (uint32_t)ENV << 10 |
               (uint32_t)X17 << 5 | X17);                  /* umaddl */
    }
    int64_t tag_off = (int64_t)L->tlb + (write ? L->tag_write : L->tag_read);
    int64_t add_off = (int64_t)L->tlb + L->addend;
    if (tag_off < 0 || tag_off / 4 >= 4096 || add_off < 0 || add_off / 8 >= 4096 ||
        (tag_off & 3) || (add_off & 7)) {
        add_i64(e, X17, X17, (uint64_t)L->tlb);
        tag_off -= L->tlb;
        add_off -= L->tlb;
    }
    mem_off(e, MEM_LD, 2, X0, X17, tag_off);
    add_sub_reg(e, 0, 1, 1, XZR, X0, tagr, 0, 0);              /* cmp */
    if (e->nslow < IR_MAX_OPS) {
        e->slow[e->nslow].at = (uint32_t)e->n;
        e->slow[e->nslow].op = op;
        e->slow[e->nslow].ra = (uint8_t)ra;
    } else {
        e->full = true;
    }
    ins(e, 0x54000000u | CC_NE);                              /* b.ne slow */
    mem_off(e, MEM_LD, 3, X17, X17, add_off);
}

static void emit_qld(Emit *e, const IROp *op)
{
    int ra = reg_in(e, op->t[1], X1);
    emit_tlb(e, op, ra, false);
    int rd = reg_out(e, op->t[0], X0);
    int sz = op->cond & IRM_SIZE;
    mem_uxtw(e, (op->cond & IRM_SIGN) && sz < 2 ? MEM_LDS : MEM_LD, sz, rd, X17, ra);
    if (e->nslow < IR_MAX_OPS) {
        e->slow[e->nslow].back = (uint32_t)e->n;
        e->slow[e->nslow].rd = (uint8_t)rd;
        e->nslow++;
    }
    write_back(e, op->t[0], rd);
}

static void emit_qst(Emit *e, const IROp *op)
{
    int ra = reg_in(e, op->t[1], X1);
    int rv = reg_in(e, op->t[2], X2);
    emit_tlb(e, op, ra, true);
    mem_uxtw(e, MEM_ST, op->cond & IRM_SIZE, rv, X17, ra);
    if (e->nslow < IR_MAX_OPS) {
        e->slow[e->nslow].back = (uint32_t)e->n;
        e->slow[e->nslow].rv = (uint8_t)rv;
        e->nslow++;
    }
}

static void emit_slow_paths(Emit *e)
{
    const TcgEnvLayout *L = &e->s->layout;
    for (int i = 0; i < e->nslow; i++) {
        const SlowPath *sp = &e->slow[i];
        const IROp *op = sp->op;
        fix_branch(e, sp->at, (uint32_t)e->n, FIX_B19);
        mov_rr(e, 0, X1, sp->ra);
        if (op->opc == IR_QST)
            mov_rr(e, 0, X2, sp->rv);
        /* The guest pc must be right if the access faults, and so must
         * the globals whose stores the optimizer moved here. */
        mov_i32(e, X3, op->imm);
        mem_off(e, MEM_ST, 2, X3, ENV, L->pc);
        int idx = (int)(op - e->f->ops);
        for (int k = 0; k < e->f->nsinks; k++) {
            const IRSink *sk = &e->f->sinks[k];
            if (sk->op != idx)
                continue;
            int32_t goff = e->f->temps[sk->global].env_off;
            int r = XZR;
            if (sk->src == IR_NOTEMP) {
                if (sk->imm) {
                    mov_i32(e, X4, sk->imm);
                    r = X4;
                }
            } else {
                r = reg_in(e, sk->src, X4);
            }
            mem_off(e, MEM_ST, 2, r, ENV, goff);
        }
        mov_rr(e, 1, X0, ENV);
        int size = 1 << (op->cond & IRM_SIZE);
        if (op->opc == IR_QLD) {
            mov_i32(e, X2, (uint32_t)size);
            call_abs(e, (const void *)L->ld_slow);
            if ((op->cond & IRM_SIGN) && size < 4)
                bfm(e, 0, SBFM, X0, X0, 0, size == 1 ? 7 : 15);
            mov_rr(e, 0, sp->rd, X0);
        } else {
            mov_i32(e, X3, (uint32_t)size);
            call_abs(e, (const void *)L->st_slow);
        }
        uint32_t at = (uint32_t)e->n;
        ins(e, 0x14000000u);
        fix_branch(e, at, sp->back, FIX_B26);
    }
}

/* ---- ops ---- */

static void emit_entry(Emit *e, const IROp *op)
{
    /* Interrupts and the instruction budget are checked once per block:
     * leave (without running it) when either wants the run loop. */
    const TcgEnvLayout *L = &e->s->layout;
    uint32_t mask = (uint32_t)op->imm2;
    if (e->nentry_exit > 2) {
        e->full = true;
        return;
    }
    mem_off(e, MEM_LD, 3, X0, ENV, L->icount);
    mem_off(e, MEM_LD, 3, X1, CTX, (int32_t)offsetof(TcgCtx, icount_limit));
    add_sub_reg(e, 1, 1, 1, XZR, X0, X1, 0, 0);               /* cmp x0, x1 */
    e->entry_exit[e->nentry_exit++] = (uint32_t)e->n;
    ins(e, 0x54000000u | CC_HS);
    if (mask) {
        mem_off(e, MEM_LD, 2, X2, ENV, L->interrupt_request);
        if (!logic_imm(e, 0, LOG_ANDS, XZR, X2, mask)) {
            mov_i32(e, X3, mask);
            logic_reg(e, 0, LOG_ANDS, 0, XZR, X2, X3, 0, 0);
        }
        e->entry_exit[e->nentry_exit++] = (uint32_t)e->n;
        ins(e, 0x54000000u | CC_NE);
    }
    if (op->imm < 4096) {
        add_sub_imm(e, 1, 0, 0, X0, X0, op->imm, 0);
    } else {
        mov_i32(e, X1, op->imm);
        add_sub_reg(e, 1, 0, 0, X0, X0, X1, 0, 0);
    }
    mem_off(e, MEM_ST, 3, X0, ENV, L->icount);
}

/* GOTO_PTR with an exact hint: the jump-cache probe of the front end's
 * lookup hook (same conditions), inline; any doubt takes the hook. */
static void emit_jc_probe(Emit *e, const IROp *op)
{
    const TcgEnvLayout *L = &e->s->layout;
    uint32_t miss[12];
    int nmiss = 0;
#define JMISS(insn) do { miss[nmiss++] = (uint32_t)e->n; ins(e, insn); } while (0)
    mem_off(e, MEM_LD, 2, X1, ENV, L->pc);                       /* w1 = pc */
    logic_reg(e, 0, LOG_EOR, 0, X0, X1, X1, SH_LSR, TB_JC_BITS);
    bfm(e, 0, UBFM, X0, X0, 0, TB_JC_BITS - 1);                  /* index */
    add_i64(e, X16, CTX, offsetof(TcgCtx, tbs.jc));
    ins(e, 0xf8607800u | (uint32_t)X0 << 16 | (uint32_t)X16 << 5 | X2);  /* ldr x2,[x16,x0,lsl 3] */
    JMISS(0xb4000000u | X2);                                      /* cbz x2 */
    mem_off(e, MEM_LD, 0, X3, X2, offsetof(TB, invalid));
    JMISS(0x35000000u | X3);                                      /* cbnz w3 */
    mem_off(e, MEM_LD, 2, X3, X2, offsetof(TB, pc));
    add_sub_reg(e, 0, 1, 1, XZR, X3, X1, 0, 0);
    JMISS(0x54000000u | CC_NE);
    mem_off(e, MEM_LD, 2, X3, X2, offsetof(TB, flags));
    mov_i32(e, X4, op->imm);
    add_sub_reg(e, 0, 1, 1, XZR, X3, X4, 0, 0);
    JMISS(0x54000000u | CC_NE);
    mem_off(e, MEM_LD, 2, X4, ENV, L->cs_base);
    mem_off(e, MEM_LD, 2, X3, X2, offsetof(TB, cs_base));
    add_sub_reg(e, 0, 1, 1, XZR, X3, X4, 0, 0);
    JMISS(0x54000000u | CC_NE);
    add_sub_reg(e, 0, 0, 0, X4, X1, X4, 0, 0);                    /* w4 = lin */
    uint32_t pmask = ~((1u << L->page_bits) - 1);
    bfm(e, 0, UBFM, X5, X4, L->page_bits, 31);
    mov_i32(e, X6, L->tlb_mask);
    logic_reg(e, 0, LOG_AND, 0, X5, X5, X6, 0, 0);
    int es = L->tlb_entry_size;
    if ((es & (es - 1)) == 0) {
        add_sub_reg(e, 1, 0, 0, X5, ENV, X5, SH_LSL, __builtin_ctz((unsigned)es));
    } else {
        mov_i32(e, X6, (uint32_t)es);
        ins(e, 0x9ba00000u | (uint32_t)X6 << 16 | (uint32_t)ENV << 10 |
               (uint32_t)X5 << 5 | X5);                            /* umaddl */
    }
    add_i64(e, X5, X5, (uint64_t)L->tlb);
    mov_i32(e, X6, pmask);
    logic_reg(e, 0, LOG_AND, 0, X7, X4, X6, 0, 0);
    if (op->cond & IRM_USER) {
        mov_i32(e, X3, L->user_tag);
        logic_reg(e, 0, LOG_ORR, 0, X7, X7, X3, 0, 0);
    }
    mem_off(e, MEM_LD, 2, X3, X5, L->tag_code);
    add_sub_reg(e, 0, 1, 1, XZR, X3, X7, 0, 0);
    JMISS(0x54000000u | CC_NE);
    mem_off(e, MEM_LD, 3, X3, X5, L->paddr);
    mov_i64(e, X6, ~(uint64_t)((1u << L->page_bits) - 1));
    logic_reg(e, 1, LOG_AND, 0, X3, X3, X6, 0, 0);
    logic_reg(e, 0, LOG_AND, 1, X4, X4, X6, 0, 0);                /* bic: offset */
    add_sub_reg(e, 1, 0, 0, X3, X3, X4, 0, 0);
    mem_off(e, MEM_LD, 3, X5, X2, offsetof(TB, phys_pc));
    add_sub_reg(e, 1, 1, 1, XZR, X3, X5, 0, 0);
    JMISS(0x54000000u | CC_NE);
    mem_off(e, MEM_LD, 3, X16, X2, offsetof(TB, code));
    br_reg(e, 0, X16);
#undef JMISS
    for (int i = 0; i < nmiss; i++)
        fix_branch(e, miss[i], (uint32_t)e->n, FIX_B19);
}

static void emit_shift(Emit *e, const IROp *op)
{
    int a = reg_in(e, op->t[1], SA);
    int d = reg_out(e, op->t[0], SD);
    if (op->flags & IRF_BIMM) {
        int n = (int)(op->imm & 31);
        if (n == 0)
            mov_rr(e, 0, d, a);
        else if (op->opc == IR_SHL)
            bfm(e, 0, UBFM, d, a, (32 - n) & 31, 31 - n);
        else if (op->opc == IR_SHR)
            bfm(e, 0, UBFM, d, a, n, 31);
        else if (op->opc == IR_SAR)
            bfm(e, 0, SBFM, d, a, n, 31);
        else                                          /* extr = ror */
            ins(e, 0x13800000u | (uint32_t)a << 16 |
                   (uint32_t)(op->opc == IR_ROR ? n : 32 - n) << 10 |
                   (uint32_t)a << 5 | (uint32_t)d);
    } else {
        int b = reg_in(e, op->t[2], SB);
        static const uint8_t opcode[] = {
            [IR_SHL] = 8, [IR_SHR] = 9, [IR_SAR] = 10, [IR_ROR] = 11 };
        if (op->opc == IR_ROL) {
            add_sub_reg(e, 0, 1, 0, X16, XZR, b, 0, 0);    /* neg */
            dp2(e, 11, d, a, X16);
        } else {
            dp2(e, opcode[op->opc], d, a, b);
        }
    }
    write_back(e, op->t[0], d);
}

static void emit_alu(Emit *e, const IROp *op)
{
    int a = reg_in(e, op->t[1], SA);
    int d = reg_out(e, op->t[0], SD);
    int opc = op->opc, b;
    if (op->flags & IRF_BIMM) {
        uint32_t imm = op->imm, neg = -imm;
        bool done = false;
        if (opc == IR_ADD || opc == IR_SUB) {
            int sub = opc == IR_SUB;
            done = true;
            if (imm < 4096)
                add_sub_imm(e, 0, sub, 0, d, a, imm, 0);
            else if (neg < 4096)
                add_sub_imm(e, 0, !sub, 0, d, a, neg, 0);
            else if ((imm & 0xfff) == 0 && imm < (1u << 24))
                add_sub_imm(e, 0, sub, 0, d, a, imm >> 12, 1);
            else
                done = false;
        } else if (opc != IR_MUL) {
            int lo = opc == IR_AND ? LOG_AND : opc == IR_OR ? LOG_ORR : LOG_EOR;
            done = logic_imm(e, 0, lo, d, a, imm);
        }
        if (done) {
            write_back(e, op->t[0], d);
            return;
        }
        mov_i32(e, SB, imm);
        b = SB;
    } else {
        b = reg_in(e, op->t[2], SB);
    }
    switch (opc) {
    case IR_ADD: add_sub_reg(e, 0, 0, 0, d, a, b, 0, 0); break;
    case IR_SUB: add_sub_reg(e, 0, 1, 0, d, a, b, 0, 0); break;
    case IR_AND: logic_reg(e, 0, LOG_AND, 0, d, a, b, 0, 0); break;
    case IR_OR: logic_reg(e, 0, LOG_ORR, 0, d, a, b, 0, 0); break;
    case IR_XOR: logic_reg(e, 0, LOG_EOR, 0, d, a, b, 0, 0); break;
    default:                                                  /* mul */
        ins(e, 0x1b000000u | (uint32_t)b << 16 | (uint32_t)XZR << 10 |
               (uint32_t)a << 5 | (uint32_t)d);
        break;
    }
    write_back(e, op->t[0], d);
}

static void emit_op(Emit *e, const IROp *op, uint64_t exit_base,
                    uint32_t jmp_off[2])
{
    const TcgEnvLayout *L = &e->s->layout;
    switch (op->opc) {
    case IR_NOP:
    case IR_INSN:
        break;
    case IR_MOVI:
        if (e->treg[op->t[0]] >= 0) {
            mov_i32(e, e->treg[op->t[0]], op->imm);
        } else if (op->imm == 0) {
            write_back(e, op->t[0], XZR);
        } else {
            mov_i32(e, SD, op->imm);
            write_back(e, op->t[0], SD);
        }
        break;
    case IR_MOV:
        write_back(e, op->t[0], reg_in(e, op->t[1], SA));
        break;
    case IR_ADD: case IR_SUB: case IR_AND: case IR_OR: case IR_XOR:
    case IR_MUL:
        emit_alu(e, op);
        break;
    case IR_SHL: case IR_SHR: case IR_SAR: case IR_ROL: case IR_ROR:
        emit_shift(e, op);
        break;
    case IR_NEG: case IR_NOT: {
        int a = reg_in(e, op->t[1], SA);
        int d = reg_out(e, op->t[0], SD);
        if (op->opc == IR_NEG)
            add_sub_reg(e, 0, 1, 0, d, XZR, a, 0, 0);
        else
            logic_reg(e, 0, LOG_ORR, 1, d, XZR, a, 0, 0);      /* mvn */
        write_back(e, op->t[0], d);
        break;
    }
    case IR_EXT8S: case IR_EXT8U: case IR_EXT16S: case IR_EXT16U: {
        int a = reg_in(e, op->t[1], SA);
        int d = reg_out(e, op->t[0], SD);
        bool sign = op->opc == IR_EXT8S || op->opc == IR_EXT16S;
        bool b8 = op->opc == IR_EXT8S || op->opc == IR_EXT8U;
        bfm(e, 0, sign ? SBFM : UBFM, d, a, 0, b8 ? 7 : 15);
        write_back(e, op->t[0], d);
        break;
    }
    case IR_PARITY: {
        /* Fold the byte to a nibble, then look the nibble up in a 16-bit
         * table of "even number of ones". */
        int a = reg_in(e, op->t[1], SA);
        int d = reg_out(e, op->t[0], SD);
        logic_reg(e, 0, LOG_EOR, 0, X16, a, a, SH_LSR, 4);
        logic_imm(e, 0, LOG_AND, X16, X16, 0xf);
        movw(e, 0, MOV_Z, X17, 0x9669, 0);
        dp2(e, 9, X17, X17, X16);                             /* lsrv */
        logic_imm(e, 0, LOG_AND, d, X17, 1);
        write_back(e, op->t[0], d);
        break;
    }
    case IR_SETCOND: {
        int d = reg_out(e, op->t[0], SD);
        if (op->cond == IRC_ALWAYS || op->cond == IRC_NEVER) {
            mov_i32(e, d, op->cond == IRC_ALWAYS);
        } else {
            int cc = emit_compare(e, op);
            csinc(e, 1, d, XZR, XZR, cc ^ 1);                 /* cset */
        }
        write_back(e, op->t[0], d);
        break;
    }
    case IR_MOVCOND: {
        if (op->cond == IRC_NEVER)
            break;
        if (op->cond == IRC_ALWAYS) {
            write_back(e, op->t[0], reg_in(e, op->t[3], SA));
            break;
        }
        int d = reg_out(e, op->t[0], SD);
        if (d == SD)
            load_to(e, SD, op->t[0]);
        int v = reg_in(e, op->t[3], X4);
        int cc = emit_compare(e, op);
        csinc(e, 0, d, v, d, cc);                             /* csel */
        write_back(e, op->t[0], d);
        break;
    }
    case IR_MULU2: case IR_MULS2: {
        int a = reg_in(e, op->t[1], SA);
        int b;
        if (op->flags & IRF_BIMM) {
            mov_i32(e, SB, op->imm);
            b = SB;
        } else {
            b = reg_in(e, op->t[2], SB);
        }
        ins(e, (op->opc == IR_MULU2 ? 0x9ba00000u : 0x9b200000u) |
               (uint32_t)b << 16 | (uint32_t)XZR << 10 | (uint32_t)a << 5 | X16);
        write_back(e, op->t[0], X16);
        int h = reg_out(e, op->t[3], SD);
        bfm(e, 1, UBFM, h, X16, 32, 63);                      /* lsr #32 */
        write_back(e, op->t[3], h);
        break;
    }
    case IR_LDENV: {
        int d = reg_out(e, op->t[0], SD);
        int sz = op->cond & IRM_SIZE;
        mem_off(e, (op->cond & IRM_SIGN) && sz < 2 ? MEM_LDS : MEM_LD, sz, d,
                ENV, (int32_t)op->imm);
        write_back(e, op->t[0], d);
        break;
    }
    case IR_STENV:
        mem_off(e, MEM_ST, op->cond & IRM_SIZE, reg_in(e, op->t[1], SA), ENV,
                (int32_t)op->imm);
        break;
    case IR_QLD:
        emit_qld(e, op);
        break;
    case IR_QST:
        emit_qst(e, op);
        break;
    case IR_CALL:
        for (int i = 0; i < 4; i++)
            if (op->t[i + 1] != IR_NOTEMP)
                load_to(e, X1 + i, op->t[i + 1]);
        mov_rr(e, 1, X0, ENV);
        call_abs(e, (const void *)(uintptr_t)op->imm2);
        if (op->t[0] != IR_NOTEMP)
            write_back(e, op->t[0], X0);
        break;
    case IR_LABEL:
        if (op->imm < IR_MAX_LABELS)
            e->labels[op->imm] = (uint32_t)e->n;
        break;
    case IR_BR:
        fix_label(e, (int)op->imm);
        ins(e, 0x14000000u);
        break;
    case IR_BRCOND:
        if (op->cond == IRC_NEVER)
            break;
        if (op->cond == IRC_ALWAYS) {
            fix_label(e, (int)op->imm2);
            ins(e, 0x14000000u);
            break;
        }
        if ((op->flags & IRF_BIMM) && op->imm == 0 &&
            (op->cond == IRC_EQ || op->cond == IRC_NE)) {
            int a = reg_in(e, op->t[1], SA);
            fix_label(e, (int)op->imm2);
            ins(e, (op->cond == IRC_EQ ? 0x34000000u : 0x35000000u) | (uint32_t)a);
            break;
        }
        {
            int cc = emit_compare(e, op);
            fix_label(e, (int)op->imm2);
            ins(e, 0x54000000u | (uint32_t)cc);
        }
        break;
    case IR_ENTRY:
        emit_entry(e, op);
        break;
    case IR_GOTO_TB:
        /* The jump slot: a B to the next instruction until tb_link
         * patches it. */
        if (op->imm < 2)
            jmp_off[op->imm] = (uint32_t)(4 * e->n);
        ins(e, 0x14000001u);
        exit_with(e, exit_base | (op->imm & TCG_EXIT_SLOT_MASK));
        break;
    case IR_EXIT:
        exit_with(e, op->imm2);
        break;
    case IR_GOTO_PTR:
        if ((op->flags & IRF_EXACT_HINT) && L->jc_probe)
            emit_jc_probe(e, op);
        mov_rr(e, 1, X0, ENV);
        mov_i32(e, X1, op->imm);
        call_abs(e, (const void *)L->lookup);
        ins(e, 0xb5000000u | 2u << 5 | X0);                   /* cbnz x0, +2 */
        b_abs(e, e->s->epilogue, 0);                          /* x0 = 0 */
        br_reg(e, 0, X0);
        break;
    case IR_CHECK_EXIT: {
        mem_off(e, MEM_LD, 2, X16, CTX, (int32_t)offsetof(TcgCtx, code_invalidated));
        uint32_t at = (uint32_t)e->n;
        ins(e, 0x34000000u | X16);                            /* cbz skip */
        mov_i32(e, X16, op->imm);
        mem_off(e, MEM_ST, 2, X16, ENV, L->pc);
        exit_with(e, 0);
        fix_branch(e, at, (uint32_t)e->n, FIX_B19);
        break;
    }
    }
}

/* Locals live in host registers for their whole interval, first
 * appearance to last read: blocks branch only forward, so a fixed
 * register per local is right on every path. A local whose interval
 * spans a call (a helper, or a guest access whose slow path calls) gets
 * a callee-saved register; others may also use x9-x15, which the emitter
 * never touches otherwise. The rest keep a frame slot. */
static void alloc_regs(Emit *e)
{
    static const int8_t pool[] = { 9, 10, 11, 12, 13, 14, 15,
                                   21, 22, 23, 24, 25, 26, 27, 28 };
    ir_alloc_locals(e->f, pool, (int)sizeof pool, 7 /* x21 on: callee-saved */,
                    NULL, e->treg);
}

const uint8_t *tcg_backend_gen(TcgCtx *s, IRFunc *f, uint64_t exit_base,
                               size_t *size, uint32_t jmp_off[2])
{
    static Emit e;   /* large; one translation at a time */
    size_t start = (s->cb.used + 15) & ~(size_t)15;
    if (start >= s->cb.size)
        return NULL;
    memset(&e, 0, offsetof(Emit, labels));
    e.buf = s->cb.rw + start;
    e.rx = s->cb.rx + start;
    e.cap = (s->cb.size - start) / 4;
    e.s = s;
    e.f = f;
    e.nfix = e.nslow = e.nentry_exit = 0;
    jmp_off[0] = jmp_off[1] = UINT32_MAX;
    alloc_regs(&e);
    /* With the dual mapping a write needs no protection change, only the
     * cache maintenance of the bytes written (sync_rx); codebuf_end_write
     * would clean the whole used buffer, which made every translation
     * cost more than the last (MOO under qemu-user: 15x slower). */
    bool toggle = !s->cb.dual;
    if (toggle)
        codebuf_begin_write(&s->cb);
    for (int i = 0; i < f->nops; i++)
        emit_op(&e, &f->ops[i], exit_base, jmp_off);
    emit_slow_paths(&e);
    if (e.nentry_exit) {
        for (int i = 0; i < e.nentry_exit; i++)
            fix_branch(&e, e.entry_exit[i], (uint32_t)e.n, FIX_B19);
        exit_with(&e, 0);                         /* nothing ran: 0 */
    }
    for (int i = 0; i < e.nfix; i++) {
        int l = e.fix[i].label;
        uint32_t to = l >= 0 && l < IR_MAX_LABELS ? e.labels[l] : 0;
        fix_branch(&e, e.fix[i].at, to,
                   (get_ins(&e, e.fix[i].at) & 0xfc000000u) == 0x14000000u ?
                   FIX_B26 : FIX_B19);
    }
    if (e.full || e.nslow >= IR_MAX_OPS || e.nfix >= IR_MAX_OPS) {
        if (toggle)
            codebuf_end_write(&s->cb);
        return NULL;
    }
    s->cb.used = start + 4 * e.n;
    if (toggle)
        codebuf_end_write(&s->cb);
    sync_rx(s, e.rx, 4 * e.n);
    *size = 4 * e.n;
    return e.rx;
}

/* Does code rewritten through the writable view run as rewritten? */
static bool probe_alias(TcgCtx *s, size_t at)
{
    uint8_t *rw = s->cb.rw + at;
    const uint8_t *rx = s->cb.rx + at;
    uint32_t (*fn)(void);
    memcpy(&fn, &rx, sizeof(fn));
    uint32_t ret = 0xd65f03c0u;
    for (uint32_t v = 1; v <= 2; v++) {
        uint32_t movz = 0x52800000u | v << 5;             /* mov w0, #v */
        codebuf_begin_write(&s->cb);
        memcpy(rw, &movz, 4);
        memcpy(rw + 4, &ret, 4);
        codebuf_end_write(&s->cb);
        __builtin___clear_cache((char *)rx, (char *)rx + 8);
        if (fn() != v)
            return false;
    }
    return true;
}

int tcg_backend_init(TcgCtx *s)
{
    static Emit e;
    memset(&e, 0, offsetof(Emit, labels));
    e.buf = s->cb.rw;
    e.rx = s->cb.rx;
    e.cap = s->cb.size / 4;
    e.s = s;
    codebuf_begin_write(&s->cb);
    /* enter(env = x0, ctx = x1, code = x2) */
    ins(&e, 0xa9800000u | (uint32_t)(-SAVE_SIZE / 8 & 0x7f) << 15 |
            (uint32_t)X30 << 10 | (uint32_t)XSP << 5 | X29);   /* stp x29,x30,[sp,#-96]! */
    for (int i = 0; i < 5; i++)                                 /* stp x19+2i.. */
        ins(&e, 0xa9000000u | (uint32_t)(2 + 2 * i) << 15 |
                (uint32_t)(X19 + 2 * i + 1) << 10 | (uint32_t)XSP << 5 |
                (uint32_t)(X19 + 2 * i));
    add_sub_imm(&e, 1, 0, 0, X29, XSP, 0, 0);                   /* mov x29, sp */
    add_sub_imm(&e, 1, 1, 0, XSP, XSP, FRAME_SIZE >> 12, 1);    /* sub sp, #frame */
    mov_rr(&e, 1, ENV, X0);
    mov_rr(&e, 1, CTX, X1);
    br_reg(&e, 0, X2);
    size_t epi = e.n;
    add_sub_imm(&e, 1, 0, 0, XSP, X29, 0, 0);                   /* mov sp, x29 */
    for (int i = 0; i < 5; i++)
        ins(&e, 0xa9400000u | (uint32_t)(2 + 2 * i) << 15 |
                (uint32_t)(X19 + 2 * i + 1) << 10 | (uint32_t)XSP << 5 |
                (uint32_t)(X19 + 2 * i));
    ins(&e, 0xa8c00000u | (uint32_t)(SAVE_SIZE / 8) << 15 |
            (uint32_t)X30 << 10 | (uint32_t)XSP << 5 | X29);   /* ldp x29,x30,[sp],#96 */
    ins(&e, 0xd65f03c0u);                                       /* ret */
    size_t used = 4 * e.n;
    s->cb.used = e.full ? 0 : used;
    codebuf_end_write(&s->cb);
    if (e.full || used + 16 > s->cb.size)
        return -1;
    s->prologue = s->cb.rx;
    s->epilogue = s->cb.rx + 4 * epi;
    /* The probe's two instructions stay part of the prologue area. */
    used = (used + 15) & ~(size_t)15;
    alias_stale = s->cb.dual && s->cb.exec && !probe_alias(s, used);
    s->cb.used = used + 16;
    return 0;
}

uint64_t tcg_backend_run(TcgCtx *s, void *env, const void *code)
{
    uint64_t (*enter)(void *, void *, const void *);
    const void *p = s->prologue;
    memcpy(&enter, &p, sizeof(enter));
    return enter(env, s, code);
}

void tcg_backend_patch(TcgCtx *s, uint8_t *patch_rx, const void *target_rx)
{
    /* The slot is a B; unchained it branches to the next instruction
     * (the exit sequence). A single aligned 4-byte store, so a racing
     * fetch sees the old or the new branch, never a mix. */
    int64_t d = target_rx ? ((const uint8_t *)target_rx - patch_rx) / 4 : 1;
    if (d < -(1 << 25) || d >= (1 << 25))
        d = 1;
    uint32_t insn = 0x14000000u | ((uint32_t)d & 0x03ffffffu);
    uint32_t *slot = (uint32_t *)(void *)codebuf_rw(&s->cb, patch_rx);
    __atomic_store_n(slot, insn, __ATOMIC_RELEASE);
    sync_rx(s, patch_rx, 4);
}
