/* x86 -> IR: the translator's guest front end (the run-loop side is
 * cpu/translate_exec.c).
 *
 * A block is translated from the decoded instructions (cpu/decode.h, the
 * same struct insn the interpreter executes) until a control transfer, a
 * page boundary, 64 instructions, or an instruction that may change the
 * CPU mode. Common integer instructions become IR inline; everything else
 * runs through the interpreter for that one instruction (h_interp), with
 * EIP and the flags state in CPUState exactly as the interpreter expects.
 *
 * Guest registers, EIP and the lazy-flag words are IR globals: they live
 * in CPUState, so at any helper call or fault the state is already there.
 * Every instruction does its loads and checks first and its stores before
 * its register and flag writes, so a fault leaves the instruction undone.
 *
 * The block key's flags hold everything the code depends on besides the
 * bytes: code/stack size, CPL, PE/VM86, IF (which interrupts end a chain)
 * and, per data segment, "no checks needed" (base 0 or not, 4 GiB
 * expand-up writable, present) so that flat accesses skip segmentation.
 * Anything else goes through cpu_check_seg at run time.
 */
#include <string.h>
#include <stdlib.h>
#include <time.h>
#include "cpu/translate_priv.h"
#include "cpu/interp_priv.h"

/* ---- helpers called from generated code ---- */

static uint32_t h_interp(void *env, uint32_t a, uint32_t b, uint32_t x,
                         uint32_t d)
{
    CPUState *c = env;
    interp_step(c);
    /* The block's entry already counted this instruction. */
    c->icount--;
    return 0;
}

/* The fetch of the part of an instruction on the next page: raises the
 * #PF (with the fetch error code, also for NX) that fetching it would. */
static uint32_t h_fetch_check(void *env, uint32_t lin, uint32_t user,
                              uint32_t x, uint32_t d)
{
    CPUState *c = env;
    cpu_translate(c, lin, ACC_FETCH, user != 0);
    return 0;
}

/* The interpreter's handlers by operation, for h_interp_insn. */
static InterpFn *direct_fn[OP_COUNT];

__attribute__((constructor)) static void build_direct_fn(void)
{
    static const InterpEntry *const tables[] = {
        interp_alu_ops, interp_bits_ops, interp_control_ops,
        interp_string_ops, interp_system_ops, interp_fpu_ops,
    };
    for (unsigned t = 0; t < sizeof tables / sizeof *tables; t++)
        for (const InterpEntry *e = tables[t]; e->fn; e++)
            if (e->op < OP_COUNT)
                direct_fn[e->op] = e->fn;
}

/* What interp_step does for an instruction the translator decoded
 * already: the fetch, decode-cache lookup and dispatch it saves were most
 * of the cost of the hot fallbacks (REP MOVS/STOS, RDTSC, DIV). */
static uint32_t h_interp_insn(void *env, uint32_t idx, uint32_t next,
                              uint32_t x, uint32_t d)
{
    CPUState *c = env;
    const Insn *in = &((TcgCpu *)c->tcg)->direct[idx];
    c->next_eip = next;
    /* The interrupt shadow of STI / MOV SS covers one instruction. */
    c->inhibit_irq = false;
    direct_fn[in->op](c, in);
    c->eip = c->next_eip;
    return 0;
}

static uint32_t h_check_seg(void *env, uint32_t seg, uint32_t off,
                            uint32_t lenacc, uint32_t d)
{
    return cpu_check_seg(env, (int)seg, off, lenacc & 0xff, (int)(lenacc >> 8));
}

/* CF alone from the lazy state (cpu/flags.h's recording rules): the
 * common reader (ADC, SBB, INC, DEC at the start of a block) needs no
 * other flag, so this avoids computing all six. */
static uint32_t h_cf(void *env, uint32_t a, uint32_t b, uint32_t x, uint32_t d)
{
    const CPUState *c = env;
    uint32_t op = c->cc_op;
    if (op == CC_OP_EFLAGS || op >= CC_OP_COUNT)
        return op == CC_OP_EFLAGS ? c->eflags & EF_CF : 0;
    uint32_t sz = (op - 1) % 3, base = op - sz;
    uint32_t m = sz == 0 ? 0xff : sz == 1 ? 0xffff : 0xffffffffu;
    uint32_t r = c->cc_dst & m, s = c->cc_src & m, s2 = c->cc_src2;
    switch (base) {
    case CC_OP_ADDB: {
        uint32_t v = (r - s - s2) & m;
        return s2 ? r <= v : r < v;
    }
    case CC_OP_SUBB: {
        uint32_t v = (r + s + s2) & m;
        return s2 ? v <= s : v < s;
    }
    case CC_OP_INCB: case CC_OP_DECB:
        return s2 & EF_CF;
    default:
        return 0;
    }
}

static uint32_t h_arith(void *env, uint32_t a, uint32_t b, uint32_t x,
                        uint32_t d)
{
    return cc_arith(env);
}

static uint32_t h_cond(void *env, uint32_t cond, uint32_t b, uint32_t x,
                       uint32_t d)
{
    return cc_test(env, (int)cond);
}

static uint32_t h_raise(void *env, uint32_t vec, uint32_t err, uint32_t x,
                        uint32_t d)
{
    cpu_raise(env, (int)vec, err);
}

/* ---- translation state ---- */

enum { K_ADD, K_SUB, K_LOGIC, K_INC, K_DEC };

typedef struct DC {
    TcgCpu *t;
    CPUState *c;
    IRFunc *f;
    uint32_t flags, cs_base, block_pc, pc, next_pc;
    const Insn *in;
    const Insn *next_in; /* the following instruction of this block, if any */
    const Insn *end_in;  /* the end of the instructions sure to follow */
    bool eip_synced;     /* g_eip == pc already for this instruction */
    bool stores;         /* this instruction stored to guest memory */
    bool user;
    /* What the lazy-flag globals hold, when this block set them. */
    struct { int op; int dst, src; bool src2_zero; } cc;
} DC;

typedef struct Cond { int irc; int a; uint32_t imm; int b; } Cond;

static uint32_t mask_of(int size)
{
    return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

static int tmp(DC *s) { return ir_temp(s->f); }

static int movi(DC *s, uint32_t v)
{
    int t = tmp(s);
    ir_movi(s->f, t, v);
    return t;
}

static void sync_eip(DC *s)
{
    if (!s->eip_synced) {
        ir_movi(s->f, s->t->g_eip, s->pc);
        s->eip_synced = true;
    }
}

static int ext(DC *s, int v, int size, bool sign)
{
    if (size >= 4)
        return v;
    int t = tmp(s);
    ir_op1(s->f, size == 1 ? (sign ? IR_EXT8S : IR_EXT8U)
                           : (sign ? IR_EXT16S : IR_EXT16U), t, v);
    return t;
}

/* A copy in a local, so later writes to the global do not change it. */
static int local(DC *s, int v)
{
    if (v >= s->f->nglobals)
        return v;
    int t = tmp(s);
    ir_mov(s->f, t, v);
    return t;
}

static int reg_rd(DC *s, int r, int size)
{
    const int *g = s->t->g_reg;
    if (size == 4)
        return g[r];
    if (size == 2 || r < 4)
        return ext(s, g[r], size, false);
    int t = tmp(s);
    ir_op2i(s->f, IR_SHR, t, g[r - 4], 8);
    ir_op1(s->f, IR_EXT8U, t, t);
    return t;
}

static void reg_wr(DC *s, int r, int size, int v)
{
    const int *g = s->t->g_reg;
    IRFunc *f = s->f;
    if (size == 4) {
        ir_mov(f, g[r], v);
        return;
    }
    (void)g;
    /* A byte or word of the register in CPUState (little-endian host):
     * AL..BL and AX..DI at its start, AH..BH one byte in. */
    int hi = size == 1 && r >= 4;
    int32_t off = (int32_t)offsetof(CPUState, regs[hi ? r - 4 : r]) + hi;
    ir_stenv(f, v, off, size == 2 ? IRM_16 : IRM_8);
}

static int gen_ea(DC *s, const InsnOperand *o)
{
    IRFunc *f = s->f;
    const int *g = s->t->g_reg;
    /* A chain of fresh temps, each used once by the next op: the backend
     * keeps it in one host register. */
    int t = -1;
    if (o->index != INSN_NOREG) {
        int sh = o->scale == 8 ? 3 : o->scale == 4 ? 2 : o->scale == 2 ? 1 : 0;
        t = tmp(s);
        if (sh)
            ir_op2i(f, IR_SHL, t, g[o->index], (uint32_t)sh);
        else
            ir_mov(f, t, g[o->index]);
    }
    if (o->base != INSN_NOREG) {
        if (t < 0) {
            t = tmp(s);
            ir_mov(f, t, g[o->base]);
        } else {
            int u = tmp(s);
            ir_op2(f, IR_ADD, u, t, g[o->base]);
            t = u;
        }
    }
    if (t < 0) {
        t = tmp(s);
        ir_movi(f, t, (uint32_t)o->disp);
    } else if (o->disp) {
        int u = tmp(s);
        ir_op2i(f, IR_ADD, u, t, (uint32_t)o->disp);
        t = u;
    }
    if (s->in->addrsize == 2) {
        int u = tmp(s);
        ir_op1(f, IR_EXT16U, u, t);
        t = u;
    }
    return t;
}

/* Linear address of seg:ea for an access of size bytes. */
static int gen_seg(DC *s, int seg, int ea, int size, int acc)
{
    if (seg >= R_ES && seg <= R_GS && seg != R_CS &&
        (s->flags & TBF_NOCHK(seg))) {
        if (s->flags & TBF_BASE0(seg))
            return ea;
        int b = tmp(s);
        ir_ldenv(s->f, b, (int32_t)offsetof(CPUState, seg[seg].base), IRM_32);
        ir_op2(s->f, IR_ADD, b, b, ea);
        return b;
    }
    sync_eip(s);
    int lin = tmp(s);
    ir_call(s->f, h_check_seg, lin, movi(s, (uint32_t)seg), ea,
            movi(s, (uint32_t)size | (uint32_t)acc << 8), IR_NOTEMP);
    return lin;
}

static int mem_flags(DC *s, int size, bool sign)
{
    return (size == 1 ? IRM_8 : size == 2 ? IRM_16 : IRM_32) |
           (sign ? IRM_SIGN : 0) | (s->user ? IRM_USER : 0);
}

static int ld(DC *s, int lin, int size)
{
    int v = tmp(s);
    ir_qld(s->f, v, lin, mem_flags(s, size, false), s->pc);
    return v;
}

static void st(DC *s, int lin, int v, int size)
{
    ir_qst(s->f, v, lin, mem_flags(s, size, false), s->pc);
    s->stores = true;
}

/* Operand access: a memory operand's linear address is computed once
 * (*lin) so read-modify-write instructions check it once. */
static int opnd_rd(DC *s, int i, int *lin, int acc)
{
    const InsnOperand *o = &s->in->ops[i];
    switch (o->kind) {
    case OPK_REG:
        return reg_rd(s, o->reg, o->size);
    case OPK_MEM:
        *lin = gen_seg(s, o->seg, gen_ea(s, o), o->size, acc);
        return ld(s, *lin, o->size);
    default:
        return movi(s, o->imm & mask_of(o->size));
    }
}

static void opnd_wr(DC *s, int i, int lin, int v)
{
    const InsnOperand *o = &s->in->ops[i];
    if (o->kind == OPK_REG)
        reg_wr(s, o->reg, o->size, v);
    else
        st(s, lin, v, o->size);
}

static void set_cc(DC *s, int kind, int size, int dst, int src, int src2)
{
    IRFunc *f = s->f;
    TcgCpu *t = s->t;
    int op = CC_OP_ADDB + kind * 3 + (size == 1 ? 0 : size == 2 ? 1 : 2);
    ir_movi(f, t->g_ccop, (uint32_t)op);
    ir_mov(f, t->g_ccdst, dst);
    if (src >= 0)
        ir_mov(f, t->g_ccsrc, src);
    else
        ir_movi(f, t->g_ccsrc, 0);
    if (src2 >= 0)
        ir_mov(f, t->g_ccsrc2, src2);
    else
        ir_movi(f, t->g_ccsrc2, 0);
    s->cc.op = op;
    s->cc.dst = dst;
    s->cc.src = src;
    s->cc.src2_zero = src2 < 0;
}

static void cc_unknown(DC *s) { s->cc.op = -1; }

static int cc_kind(int op) { return (op - 1) / 3; }
static int cc_size(int op) { return 1 << ((op - 1) % 3); }

/* CF (0 or 1) of the flags state now. */
static int gen_cf(DC *s)
{
    IRFunc *f = s->f;
    int op = s->cc.op;
    if (op == CC_OP_EFLAGS) {
        int r = tmp(s);
        ir_op2i(f, IR_AND, r, s->t->g_eflags, EF_CF);
        return r;
    }
    if (op > 0) {
        int k = cc_kind(op), size = cc_size(op);
        if (k == K_LOGIC)
            return movi(s, 0);
        if ((k == K_ADD || k == K_SUB) && s->cc.src2_zero && s->cc.src >= 0) {
            int d = ext(s, s->cc.dst, size, false);
            int b = ext(s, s->cc.src, size, false);
            int r = tmp(s);
            if (k == K_ADD) {
                ir_setcond(f, IRC_LTU, r, d, b);
            } else {
                int a = tmp(s);
                ir_op2(f, IR_ADD, a, s->cc.dst, s->cc.src);
                a = ext(s, a, size, false);
                ir_setcond(f, IRC_LTU, r, a, b);
            }
            return r;
        }
    }
    int r = tmp(s);
    ir_call(f, h_cf, r, IR_NOTEMP, IR_NOTEMP, IR_NOTEMP, IR_NOTEMP);
    return r;
}

static int invert_irc(int c)
{
    static const uint8_t inv[] = {
        [IRC_EQ] = IRC_NE, [IRC_NE] = IRC_EQ, [IRC_LTU] = IRC_GEU,
        [IRC_GEU] = IRC_LTU, [IRC_LEU] = IRC_GTU, [IRC_GTU] = IRC_LEU,
        [IRC_LT] = IRC_GE, [IRC_GE] = IRC_LT, [IRC_LE] = IRC_GT,
        [IRC_GT] = IRC_LE, [IRC_TSTEQ] = IRC_TSTNE, [IRC_TSTNE] = IRC_TSTEQ,
        [IRC_ALWAYS] = IRC_NEVER, [IRC_NEVER] = IRC_ALWAYS,
    };
    return inv[c];
}

/* Condition tttn (Jcc encoding) as an IR comparison. Fast forms for the
 * flag states a block produced itself; the rest asks cc_test. */
static Cond gen_cond(DC *s, int cond)
{
    int base = cond >> 1;
    int op = s->cc.op;
    Cond r = { IRC_NE, -1, 0, -1 };
    static const uint32_t bits[8] = { EF_OF, EF_CF, EF_ZF, EF_CF | EF_ZF,
                                      EF_SF, EF_PF, 0, 0 };
    if (op == CC_OP_EFLAGS && bits[base]) {
        r = (Cond){ IRC_TSTNE, s->t->g_eflags, bits[base], -1 };
        if (cond & 1)
            r.irc = invert_irc(r.irc);
        return r;
    }
    if (op > 0) {
        int k = cc_kind(op), size = cc_size(op);
        bool done = true;
        if (base == 2) {                                   /* E */
            r = (Cond){ IRC_EQ, ext(s, s->cc.dst, size, false), 0, -1 };
        } else if (base == 4) {                            /* S */
            r = (Cond){ IRC_LT, ext(s, s->cc.dst, size, true), 0, -1 };
        } else if (k == K_SUB && s->cc.src2_zero && s->cc.src >= 0 &&
                   (base == 1 || base == 3 || base == 6 || base == 7)) {
            int a = tmp(s);
            ir_op2(s->f, IR_ADD, a, s->cc.dst, s->cc.src);
            bool sign = base >= 6;
            int ea = ext(s, a, size, sign), eb = ext(s, s->cc.src, size, sign);
            static const uint8_t irc[8] = { 0, IRC_LTU, 0, IRC_LEU, 0, 0,
                                            IRC_LT, IRC_LE };
            r = (Cond){ irc[base], ea, 0, eb };
        } else if (k == K_LOGIC && (base == 0 || base == 1)) {
            r = (Cond){ IRC_NEVER, -1, 0, -1 };            /* OF = CF = 0 */
        } else if (k == K_LOGIC && base == 3) {
            r = (Cond){ IRC_EQ, ext(s, s->cc.dst, size, false), 0, -1 };
        } else if (k == K_LOGIC && base == 6) {
            r = (Cond){ IRC_LT, ext(s, s->cc.dst, size, true), 0, -1 };
        } else if (k == K_LOGIC && base == 7) {
            r = (Cond){ IRC_LE, ext(s, s->cc.dst, size, true), 0, -1 };
        } else if (k == K_ADD && s->cc.src2_zero && s->cc.src >= 0 &&
                   base == 1) {
            r = (Cond){ IRC_LTU, ext(s, s->cc.dst, size, false), 0,
                        ext(s, s->cc.src, size, false) };
        } else {
            done = false;
        }
        if (done) {
            if (cond & 1)
                r.irc = invert_irc(r.irc);
            return r;
        }
    }
    int t = tmp(s);
    ir_call(s->f, h_cond, t, movi(s, (uint32_t)cond), IR_NOTEMP, IR_NOTEMP,
            IR_NOTEMP);
    return (Cond){ IRC_NE, t, 0, -1 };
}

/* Materialize a condition as 0/1. */
static int cond_value(DC *s, Cond k)
{
    int t = tmp(s);
    if (k.irc == IRC_ALWAYS || k.irc == IRC_NEVER)
        ir_movi(s->f, t, k.irc == IRC_ALWAYS);
    else if (k.b >= 0)
        ir_setcond(s->f, k.irc, t, k.a, k.b);
    else
        ir_setcondi(s->f, k.irc, t, k.a, k.imm);
    return t;
}

/* ---- block exits ---- */

/* An indirect jump that keeps the block's mode: the backend may probe the
 * jump cache inline with exactly the checks of h_lookup. */
static void gen_goto_ptr(DC *s)
{
    if (tracing_blocks(s->c)) {
        ir_exit(s->f, 0);
        return;
    }
    ir_goto_ptr(s->f, s->flags);
    IROp *op = &s->f->ops[s->f->nops - 1];
    op->flags |= IRF_EXACT_HINT;
    op->cond = s->user ? IRM_USER : 0;
}

static void gen_goto(DC *s, uint32_t target, int slot)
{
    ir_movi(s->f, s->t->g_eip, target);
    /* A store of this instruction (CALL's push) may have hit this page's
     * code: then the chained jump could lead into a dropped block. */
    if (s->stores)
        ir_check_exit(s->f, target);
    bool same_page = ((s->cs_base + target) >> 12) ==
                     ((s->cs_base + s->block_pc) >> 12);
    if (same_page && !tracing_blocks(s->c))
        ir_goto_tb(s->f, slot);
    else
        gen_goto_ptr(s);
}

/* Near branch targets must lie within CS (#GP(0) at the branch). */
static void check_target(DC *s, int target)
{
    if (s->flags & TBF_NOCHK(R_CS))
        return;
    IRFunc *f = s->f;
    int lim = tmp(s), ok = ir_label(f);
    ir_ldenv(f, lim, (int32_t)offsetof(CPUState, seg[R_CS].limit), IRM_32);
    ir_brcond(f, IRC_LEU, target, lim, ok);
    sync_eip(s);
    ir_call(f, h_raise, IR_NOTEMP, movi(s, EXC_GP), movi(s, 0), IR_NOTEMP,
            IR_NOTEMP);
    ir_set_label(f, ok);
}

static uint32_t rel_target(DC *s)
{
    uint32_t t = s->next_pc + s->in->ops[0].imm;
    return s->in->opsize == 2 ? t & 0xffff : t;
}

/* ---- the stack ---- */

static int sp_now(DC *s)
{
    return (s->flags & TBF_SS32) ? s->t->g_reg[R_ESP]
                                 : ext(s, s->t->g_reg[R_ESP], 2, false);
}

static void sp_set(DC *s, int v)
{
    if (s->flags & TBF_SS32)
        ir_mov(s->f, s->t->g_reg[R_ESP], v);
    else
        reg_wr(s, R_ESP, 2, v);
}

/* Push v (size bytes); returns the new SP value (not yet committed). */
static int push_mem(DC *s, int v, int size)
{
    int sp = tmp(s);
    ir_op2i(s->f, IR_SUB, sp, s->t->g_reg[R_ESP], (uint32_t)size);
    if (!(s->flags & TBF_SS32))
        ir_op1(s->f, IR_EXT16U, sp, sp);
    st(s, gen_seg(s, R_SS, sp, size, ACC_WRITE), v, size);
    return sp;
}

/* ---- instruction families ---- */

static bool simple_operands(const Insn *in)
{
    for (int i = 0; i < in->nops; i++) {
        const InsnOperand *o = &in->ops[i];
        if (o->kind == OPK_REG && o->rclass != RC_GPR)
            return false;
        if (o->kind == OPK_NONE)
            return false;
        if (o->kind == OPK_MEM && (o->seg < R_ES || o->seg > R_GS))
            return false;
    }
    return true;
}

static bool t_alu(DC *s)
{
    const Insn *in = s->in;
    IRFunc *f = s->f;
    int op = in->op, size = in->ops[0].size;
    if (in->nops != 2)
        return false;
    bool wb = op != OP_CMP && op != OP_TEST;
    const InsnOperand *o0 = &in->ops[0], *o1 = &in->ops[1];
    if ((op == OP_XOR || op == OP_SUB) && o0->kind == OPK_REG &&
        o1->kind == OPK_REG && o0->reg == o1->reg) {
        /* The zeroing idiom: the result is known. */
        int z = movi(s, 0);
        int b = op == OP_SUB ? local(s, reg_rd(s, o0->reg, size)) : -1;
        reg_wr(s, o0->reg, size, z);
        set_cc(s, op == OP_XOR ? K_LOGIC : K_SUB, size, z, b, -1);
        return true;
    }
    int cin = -1;
    if (op == OP_ADC || op == OP_SBB)
        cin = gen_cf(s);
    int lin = -1;
    int a = opnd_rd(s, 0, &lin, wb ? ACC_WRITE : ACC_READ);
    int dummy;
    int b = opnd_rd(s, 1, &dummy, ACC_READ);
    if (in->ops[1].kind == OPK_IMM)
        ir_movi(f, b, in->ops[1].imm & mask_of(size));
    b = local(s, b);
    int r = tmp(s), kind;
    switch (op) {
    case OP_ADD: case OP_ADC:
        ir_op2(f, IR_ADD, r, a, b);
        if (cin >= 0)
            ir_op2(f, IR_ADD, r, r, cin);
        kind = K_ADD;
        break;
    case OP_SUB: case OP_SBB: case OP_CMP:
        ir_op2(f, IR_SUB, r, a, b);
        if (cin >= 0)
            ir_op2(f, IR_SUB, r, r, cin);
        kind = K_SUB;
        break;
    case OP_AND: case OP_TEST: ir_op2(f, IR_AND, r, a, b); kind = K_LOGIC; break;
    case OP_OR: ir_op2(f, IR_OR, r, a, b); kind = K_LOGIC; break;
    default: ir_op2(f, IR_XOR, r, a, b); kind = K_LOGIC; break;
    }
    if (size < 4)
        r = ext(s, r, size, false);
    if (wb)
        opnd_wr(s, 0, lin, r);
    if (kind == K_LOGIC)
        set_cc(s, kind, size, r, -1, -1);
    else
        set_cc(s, kind, size, r, b, cin);
    return true;
}

static bool flags_dead_mask(DC *s, uint32_t mask);

static bool t_incdec(DC *s)
{
    const Insn *in = s->in;
    int size = in->ops[0].size;
    /* INC/DEC keep CF; when no one reads it before it is overwritten,
     * what they record for it does not matter. */
    int cf = flags_dead_mask(s, EF_CF) ? movi(s, 0) : local(s, gen_cf(s));
    int lin = -1;
    int a = opnd_rd(s, 0, &lin, ACC_WRITE);
    int r = tmp(s);
    ir_op2i(s->f, in->op == OP_INC ? IR_ADD : IR_SUB, r, a, 1);
    r = ext(s, r, size, false);
    opnd_wr(s, 0, lin, r);
    set_cc(s, in->op == OP_INC ? K_INC : K_DEC, size, r, movi(s, 1), cf);
    return true;
}

static bool t_negnot(DC *s)
{
    const Insn *in = s->in;
    int size = in->ops[0].size;
    int lin = -1;
    int a = local(s, opnd_rd(s, 0, &lin, ACC_WRITE));
    int r = tmp(s);
    ir_op1(s->f, in->op == OP_NEG ? IR_NEG : IR_NOT, r, a);
    r = ext(s, r, size, false);
    opnd_wr(s, 0, lin, r);
    if (in->op == OP_NEG)
        set_cc(s, K_SUB, size, r, ext(s, a, size, false), -1);
    return true;
}

static bool t_mov(DC *s)
{
    const Insn *in = s->in;
    int lin = -1, dummy;
    if (in->nops != 2)
        return false;
    int v = opnd_rd(s, 1, &dummy, ACC_READ);
    if (in->op == OP_MOVSX)
        v = ext(s, v, in->ops[1].size, true);
    if (in->ops[0].kind == OPK_MEM)
        lin = gen_seg(s, in->ops[0].seg, gen_ea(s, &in->ops[0]),
                      in->ops[0].size, ACC_WRITE);
    opnd_wr(s, 0, lin, v);
    return true;
}

static bool t_lea(DC *s)
{
    const Insn *in = s->in;
    if (in->nops != 2 || in->ops[1].kind != OPK_MEM || in->ops[0].kind != OPK_REG)
        return false;
    reg_wr(s, in->ops[0].reg, in->ops[0].size, gen_ea(s, &in->ops[1]));
    return true;
}

static bool t_xchg(DC *s)
{
    const Insn *in = s->in;
    if (in->nops != 2)
        return false;
    int la = -1, lb = -1;
    int a = local(s, opnd_rd(s, 0, &la, ACC_WRITE));
    int b = local(s, opnd_rd(s, 1, &lb, ACC_WRITE));
    /* The memory side (if any) is written first. */
    if (in->ops[1].kind == OPK_MEM) {
        opnd_wr(s, 1, lb, a);
        opnd_wr(s, 0, la, b);
    } else {
        opnd_wr(s, 0, la, b);
        opnd_wr(s, 1, lb, a);
    }
    return true;
}

static bool t_setcc(DC *s)
{
    const Insn *in = s->in;
    int lin = -1;
    if (in->ops[0].kind == OPK_MEM)
        lin = gen_seg(s, in->ops[0].seg, gen_ea(s, &in->ops[0]), 1, ACC_WRITE);
    int v = cond_value(s, gen_cond(s, in->cond));
    opnd_wr(s, 0, lin, v);
    return true;
}

static bool t_cmov(DC *s)
{
    const Insn *in = s->in;
    int size = in->ops[0].size, dummy;
    if (in->ops[0].kind != OPK_REG)
        return false;
    int v = opnd_rd(s, 1, &dummy, ACC_READ);
    Cond k = gen_cond(s, in->cond);
    int d = local(s, reg_rd(s, in->ops[0].reg, size));
    if (k.irc == IRC_ALWAYS || k.irc == IRC_NEVER) {
        if (k.irc == IRC_ALWAYS)
            ir_mov(s->f, d, v);
    } else {
        if (k.b < 0)
            k.b = movi(s, k.imm);
        ir_movcond(s->f, k.irc, d, k.a, k.b, v);
    }
    reg_wr(s, in->ops[0].reg, size, d);
    return true;
}

static bool t_push(DC *s)
{
    const Insn *in = s->in;
    int size = in->opsize, dummy;
    int v;
    if (in->ops[0].kind == OPK_IMM)
        v = movi(s, in->ops[0].imm);
    else
        v = local(s, opnd_rd(s, 0, &dummy, ACC_READ));
    sp_set(s, push_mem(s, v, size));
    return true;
}

static bool t_pop(DC *s)
{
    const Insn *in = s->in;
    int size = in->opsize;
    if (in->ops[0].kind != OPK_REG)
        return false;
    int sp = sp_now(s);
    int v = ld(s, gen_seg(s, R_SS, sp, size, ACC_READ), size);
    int nsp = tmp(s);
    ir_op2i(s->f, IR_ADD, nsp, s->t->g_reg[R_ESP], (uint32_t)size);
    sp_set(s, nsp);
    reg_wr(s, in->ops[0].reg, in->ops[0].size, v);
    return true;
}

static bool t_leave(DC *s)
{
    int size = s->in->opsize;
    int bp = (s->flags & TBF_SS32) ? s->t->g_reg[R_EBP]
                                   : ext(s, s->t->g_reg[R_EBP], 2, false);
    bp = local(s, bp);
    int v = ld(s, gen_seg(s, R_SS, bp, size, ACC_READ), size);
    int nsp = tmp(s);
    ir_op2i(s->f, IR_ADD, nsp, bp, (uint32_t)size);
    sp_set(s, nsp);
    reg_wr(s, R_EBP, size, v);
    return true;
}

static bool t_convert(DC *s)
{
    const int *g = s->t->g_reg;
    IRFunc *f = s->f;
    int t = tmp(s);
    switch (s->in->op) {
    case OP_CBW:
        ir_op1(f, IR_EXT8S, t, g[R_EAX]);
        reg_wr(s, R_EAX, 2, t);
        break;
    case OP_CWDE:
        ir_op1(f, IR_EXT16S, g[R_EAX], g[R_EAX]);
        break;
    case OP_CWD:
        ir_op1(f, IR_EXT16S, t, g[R_EAX]);
        ir_op2i(f, IR_SAR, t, t, 31);
        reg_wr(s, R_EDX, 2, t);
        break;
    default:
        ir_op2i(f, IR_SAR, g[R_EDX], g[R_EAX], 31);
        break;
    }
    return true;
}

static bool t_flagbits(DC *s)
{
    int ef = s->t->g_eflags;
    if (s->in->op == OP_CLD)
        ir_op2i(s->f, IR_AND, ef, ef, ~(uint32_t)EF_DF);
    else
        ir_op2i(s->f, IR_OR, ef, ef, EF_DF);
    return true;
}

/* Control transfers end the block; they return true when translated. */
static bool t_jcc(DC *s)
{
    uint32_t target = rel_target(s);
    IRFunc *f = s->f;
    if (!(s->flags & TBF_NOCHK(R_CS)) && target > s->c->seg[R_CS].limit)
        return false;
    Cond k = gen_cond(s, s->in->cond);
    int l = ir_label(f);
    if (k.irc == IRC_ALWAYS)
        ir_br(f, l);
    else if (k.irc != IRC_NEVER) {
        if (k.b >= 0)
            ir_brcond(f, k.irc, k.a, k.b, l);
        else
            ir_brcondi(f, k.irc, k.a, k.imm, l);
    }
    gen_goto(s, s->next_pc, 1);
    ir_set_label(f, l);
    gen_goto(s, target, 0);
    return true;
}

/* LOOP/LOOPE/LOOPNE/JCXZ/JECXZ: the count register is CX or ECX by the
 * address size. */
static bool t_loop(DC *s)
{
    const Insn *in = s->in;
    IRFunc *f = s->f;
    uint32_t target = rel_target(s);
    if (!(s->flags & TBF_NOCHK(R_CS)) && target > s->c->seg[R_CS].limit)
        return false;
    int asz = in->addrsize;
    int l = ir_label(f);
    if (in->op == OP_JCXZ || in->op == OP_JECXZ) {
        int cx = reg_rd(s, R_ECX, asz);
        ir_brcondi(f, IRC_EQ, cx, 0, l);
    } else {
        /* The ZF test comes first: it may read flags that the decrement
         * does not change, but from the block's own knowledge. */
        Cond z = { IRC_ALWAYS, -1, 0, -1 };
        if (in->op != OP_LOOP)
            z = gen_cond(s, in->op == OP_LOOPE ? 5 : 4);   /* NE / E inverted */
        int cx = tmp(s);
        ir_op2i(f, IR_SUB, cx, s->t->g_reg[R_ECX], 1);
        reg_wr(s, R_ECX, asz, cx);
        int skip = ir_label(f);
        if (z.irc != IRC_ALWAYS) {
            /* LOOPE leaves when ZF = 0 (cond 5 = NE), LOOPNE when ZF = 1. */
            if (z.irc == IRC_NEVER)
                ;
            else if (z.b >= 0)
                ir_brcond(f, z.irc, z.a, z.b, skip);
            else
                ir_brcondi(f, z.irc, z.a, z.imm, skip);
        }
        int m = ext(s, cx, asz, false);
        ir_brcondi(f, IRC_NE, m, 0, l);
        ir_set_label(f, skip);
    }
    gen_goto(s, s->next_pc, 1);
    ir_set_label(f, l);
    gen_goto(s, target, 0);
    return true;
}

static bool t_jmp_call(DC *s)
{
    const Insn *in = s->in;
    bool call = in->op == OP_CALL;
    int dummy;
    if (in->iflags & IF_REL) {
        uint32_t target = rel_target(s);
        if (!(s->flags & TBF_NOCHK(R_CS)) && target > s->c->seg[R_CS].limit)
            return false;
        if (call)
            sp_set(s, push_mem(s, movi(s, s->next_pc), in->opsize));
        gen_goto(s, target, 0);
        return true;
    }
    int t = local(s, opnd_rd(s, 0, &dummy, ACC_READ));
    if (in->opsize == 2)
        ir_op1(s->f, IR_EXT16U, t, t);
    check_target(s, t);
    if (call)
        sp_set(s, push_mem(s, movi(s, s->next_pc), in->opsize));
    ir_mov(s->f, s->t->g_eip, t);
    gen_goto_ptr(s);
    return true;
}

static bool t_ret(DC *s)
{
    const Insn *in = s->in;
    int size = in->opsize;
    uint32_t imm = in->nops ? in->ops[0].imm & 0xffff : 0;
    int sp = local(s, sp_now(s));
    int t = ld(s, gen_seg(s, R_SS, sp, size, ACC_READ), size);
    check_target(s, t);
    int nsp = tmp(s);
    ir_op2i(s->f, IR_ADD, nsp, s->t->g_reg[R_ESP], (uint32_t)size + imm);
    sp_set(s, nsp);
    ir_mov(s->f, s->t->g_eip, t);
    gen_goto_ptr(s);
    return true;
}

/* ---- flags in EFLAGS form (shifts, multiplies) ---- */

/* Are the arithmetic flags this instruction would produce dead? They are
 * when the next instruction of the block overwrites all six without
 * reading any and cannot fault first (register operands only, translated
 * inline): nothing can observe them in between. This is where capstone's
 * EFLAGS read/write sets drive flag liveness. */
static bool reg_only(const Insn *n)
{
    if (!simple_operands(n) || (n->prefixes & PFX_LOCK))
        return false;
    for (int i = 0; i < n->nops; i++)
        if (n->ops[i].kind == OPK_MEM)
            return false;
    return true;
}

static bool flags_dead_mask(DC *s, uint32_t mask)
{
    /* Walk the rest of the block: instructions that leave these flags
     * alone and cannot fault are passed over, until one overwrites them
     * all. */
    for (const Insn *n = s->next_in; n && n < s->end_in; n++) {
        if ((n->flags_read & mask) || !reg_only(n))
            return false;
        switch (n->op) {
        case OP_ADD: case OP_SUB: case OP_AND: case OP_OR: case OP_XOR:
        case OP_CMP: case OP_TEST:
            if (n->nops == 2 && (n->flags_written & mask) == mask)
                return true;
            return false;
        /* Register forms that cannot fault either; flags_written says
         * whether they overwrite all of the mask (a shift by a count of
         * zero or by CL does not). IMUL and shifts by constants are most
         * of the flag work of the kernel's multi-precision code. */
        case OP_IMUL: case OP_MUL: case OP_NEG: case OP_ADC: case OP_SBB:
        case OP_SHL: case OP_SAL: case OP_SHR: case OP_SAR: case OP_SHLD:
        case OP_SHRD: case OP_XADD:
            return (n->flags_written & mask) == mask;
        case OP_INC: case OP_DEC:
            /* They keep CF: they pass over it, or overwrite the rest. */
            if ((mask & ~EF_CF) == 0)
                continue;
            if ((n->flags_written & mask) == mask)
                return true;
            return false;
        case OP_MOV: case OP_MOVZX: case OP_MOVSX: case OP_LEA: case OP_NOT:
        case OP_XCHG: case OP_CBW: case OP_CWDE: case OP_CWD: case OP_CDQ:
        case OP_NOP: case OP_BSWAP:
            if (n->flags_written & mask)
                return false;
            continue;
        default:
            /* SETcc and CMOVcc read only their condition's flags (checked
             * above) and write none. */
            if (((n->op >= OP_SETO && n->op <= OP_SETG) ||
                 (n->op >= OP_CMOVO && n->op <= OP_CMOVG)) &&
                !(n->flags_written & mask))
                continue;
            return false;
        }
    }
    return false;
}

static bool flags_dead(DC *s)
{
    return flags_dead_mask(s, EF_ARITH);
}

/* SF ZF PF of r (size bytes) as EFLAGS bits. */
static int gen_szp(DC *s, int r, int size)
{
    IRFunc *f = s->f;
    int m = ext(s, r, size, false);
    int z = tmp(s), sg = tmp(s), p = tmp(s);
    ir_setcondi(f, IRC_EQ, z, m, 0);
    ir_op2i(f, IR_SHL, z, z, 6);
    ir_op2i(f, IR_SHR, sg, m, (uint32_t)size * 8 - 1);
    ir_op2i(f, IR_SHL, sg, sg, 7);
    ir_op1(f, IR_PARITY, p, m);
    ir_op2i(f, IR_SHL, p, p, 2);
    ir_op2(f, IR_OR, z, z, sg);
    ir_op2(f, IR_OR, z, z, p);
    return z;
}

static void set_eflags_arith(DC *s, int fl)
{
    IRFunc *f = s->f;
    int t = tmp(s);
    ir_op2i(f, IR_AND, t, s->t->g_eflags, ~(uint32_t)EF_ARITH);
    ir_op2(f, IR_OR, s->t->g_eflags, t, fl);
    ir_movi(f, s->t->g_ccop, CC_OP_EFLAGS);
    s->cc.op = CC_OP_EFLAGS;
}

/* The six flags now (for instructions that keep some of them). */
static int gen_arith(DC *s)
{
    int r = tmp(s);
    if (s->cc.op == CC_OP_EFLAGS)
        ir_op2i(s->f, IR_AND, r, s->t->g_eflags, EF_ARITH);
    else if (s->cc.op > 0 && cc_kind(s->cc.op) == K_LOGIC)
        return gen_szp(s, s->cc.dst, cc_size(s->cc.op));
    else
        ir_call(s->f, h_arith, r, IR_NOTEMP, IR_NOTEMP, IR_NOTEMP, IR_NOTEMP);
    return r;
}

static int bit_of(DC *s, int v, unsigned bit)
{
    int t = tmp(s);
    ir_op2i(s->f, IR_SHR, t, v, bit);
    ir_op2i(s->f, IR_AND, t, t, 1);
    return t;
}

/* Shifts and rotates by an immediate count (the common case). */
static bool t_shift(DC *s)
{
    const Insn *in = s->in;
    IRFunc *f = s->f;
    int size = in->ops[0].size, bits = size * 8, op = in->op;
    if (in->nops == 2 && in->ops[1].kind != OPK_IMM)
        return false;
    unsigned n = (in->nops == 2 ? in->ops[1].imm : 1) & 31;
    bool rot = op == OP_ROL || op == OP_ROR;
    if (n == 0 || (rot && size != 4) || (!rot && (int)n >= bits))
        return false;
    bool dead = flags_dead(s);
    int lin = -1;
    int old = rot && !dead ? gen_arith(s) : -1;
    int a = local(s, opnd_rd(s, 0, &lin, ACC_WRITE));
    int r = tmp(s), sa = -1;
    switch (op) {
    case OP_SHL: case OP_SAL: ir_op2i(f, IR_SHL, r, a, n); break;
    case OP_SHR: ir_op2i(f, IR_SHR, r, a, n); break;
    case OP_SAR:
        sa = ext(s, a, size, true);
        ir_op2i(f, IR_SAR, r, sa, n);
        break;
    case OP_ROL: ir_op2i(f, IR_ROL, r, a, n); break;
    default: ir_op2i(f, IR_ROR, r, a, n); break;
    }
    r = ext(s, r, size, false);
    opnd_wr(s, 0, lin, r);
    if (dead) {
        cc_unknown(s);
        return true;
    }
    int cf, of = -1, fl;
    switch (op) {
    case OP_SHL: case OP_SAL:
        cf = bit_of(s, a, (unsigned)bits - n);
        of = bit_of(s, r, (unsigned)bits - 1);
        ir_op2(f, IR_XOR, of, of, cf);
        fl = gen_szp(s, r, size);
        break;
    case OP_SHR:
        cf = bit_of(s, a, n - 1);
        /* OF is the top bit before the last one-bit step: only a count
         * of one can leave it set. */
        if (n == 1)
            of = bit_of(s, a, (unsigned)bits - 1);
        fl = gen_szp(s, r, size);
        break;
    case OP_SAR:
        cf = bit_of(s, sa, n - 1);
        fl = gen_szp(s, r, size);
        break;
    case OP_ROL:
        cf = bit_of(s, r, 0);
        of = bit_of(s, r, 31);
        ir_op2(f, IR_XOR, of, of, cf);
        fl = tmp(s);
        ir_op2i(f, IR_AND, fl, old, ~(uint32_t)(EF_CF | EF_OF));
        break;
    default:
        cf = bit_of(s, r, 31);
        of = bit_of(s, r, 30);
        ir_op2(f, IR_XOR, of, of, cf);
        fl = tmp(s);
        ir_op2i(f, IR_AND, fl, old, ~(uint32_t)(EF_CF | EF_OF));
        break;
    }
    ir_op2(f, IR_OR, fl, fl, cf);
    if (of >= 0) {
        ir_op2i(f, IR_SHL, of, of, 11);
        ir_op2(f, IR_OR, fl, fl, of);
    }
    set_eflags_arith(s, fl);
    return true;
}

/* 32-bit register shifts and rotates by CL (decompressors live on them). A
 * count of zero changes nothing, flags included. */
static bool t_shift_cl(DC *s)
{
    const Insn *in = s->in;
    IRFunc *f = s->f;
    int op = in->op;
    if (in->nops != 2 || in->ops[0].kind != OPK_REG || in->ops[0].size != 4 ||
        in->ops[1].kind != OPK_REG || in->ops[1].reg != R_ECX ||
        in->ops[1].size != 1)
        return false;
    bool dead = flags_dead(s);
    int reg = in->ops[0].reg;
    int a = local(s, s->t->g_reg[reg]);
    int n = tmp(s);
    ir_op2i(f, IR_AND, n, s->t->g_reg[R_ECX], 31);
    int skip = ir_label(f);
    if (!dead)
        ir_brcondi(f, IRC_EQ, n, 0, skip);
    int old = !dead && (op == OP_ROL || op == OP_ROR) ? gen_arith(s) : -1;
    int r = tmp(s);
    static const uint8_t irop[] = { [OP_SHL] = IR_SHL, [OP_SAL] = IR_SHL,
        [OP_SHR] = IR_SHR, [OP_SAR] = IR_SAR, [OP_ROL] = IR_ROL,
        [OP_ROR] = IR_ROR };
    ir_op2(f, irop[op], r, a, n);
    ir_mov(f, s->t->g_reg[reg], r);
    if (dead) {
        cc_unknown(s);
        return true;
    }
    int cf = tmp(s), of = tmp(s), fl, k = tmp(s);
    switch (op) {
    case OP_SHL: case OP_SAL:
        ir_op1(f, IR_NEG, k, n);                  /* k = 32 - n */
        ir_op2i(f, IR_ADD, k, k, 32);
        ir_op2(f, IR_SHR, cf, a, k);
        ir_op2i(f, IR_AND, cf, cf, 1);
        ir_op2i(f, IR_SHR, of, r, 31);
        ir_op2(f, IR_XOR, of, of, cf);
        fl = gen_szp(s, r, 4);
        break;
    case OP_SHR: case OP_SAR: {
        ir_op2i(f, IR_SUB, k, n, 1);
        ir_op2(f, op == OP_SHR ? IR_SHR : IR_SAR, cf, a, k);
        ir_op2i(f, IR_AND, cf, cf, 1);
        if (op == OP_SHR) {
            /* OF: the top bit before the last step, so only for 1 */
            int one = tmp(s);
            ir_setcondi(f, IRC_EQ, one, n, 1);
            ir_op2i(f, IR_SHR, of, a, 31);
            ir_op2(f, IR_AND, of, of, one);
        } else {
            ir_movi(f, of, 0);
        }
        fl = gen_szp(s, r, 4);
        break;
    }
    case OP_ROL:
        ir_op2i(f, IR_AND, cf, r, 1);
        ir_op2i(f, IR_SHR, of, r, 31);
        ir_op2(f, IR_XOR, of, of, cf);
        fl = tmp(s);
        ir_op2i(f, IR_AND, fl, old, ~(uint32_t)(EF_CF | EF_OF));
        break;
    default:
        ir_op2i(f, IR_SHR, cf, r, 31);
        ir_op2i(f, IR_SHR, of, r, 30);
        ir_op2i(f, IR_AND, of, of, 1);
        ir_op2(f, IR_XOR, of, of, cf);
        fl = tmp(s);
        ir_op2i(f, IR_AND, fl, old, ~(uint32_t)(EF_CF | EF_OF));
        break;
    }
    ir_op2(f, IR_OR, fl, fl, cf);
    ir_op2i(f, IR_SHL, of, of, 11);
    ir_op2(f, IR_OR, fl, fl, of);
    set_eflags_arith(s, fl);
    ir_set_label(f, skip);
    /* Old or new flags, depending on the count. */
    cc_unknown(s);
    return true;
}

/* 32-bit MUL and IMUL (one, two and three operands). */
static bool t_mul(DC *s)
{
    const Insn *in = s->in;
    IRFunc *f = s->f;
    const int *g = s->t->g_reg;
    int dummy;
    if (in->ops[0].size != 4)
        return false;
    bool sign = in->op == OP_IMUL;
    int lo = tmp(s), hi = tmp(s), a, b;
    if (in->nops == 1) {
        b = local(s, opnd_rd(s, 0, &dummy, ACC_READ));
        a = g[R_EAX];
    } else if (in->nops == 2 && sign && in->ops[0].kind == OPK_REG) {
        a = g[in->ops[0].reg];
        b = opnd_rd(s, 1, &dummy, ACC_READ);
    } else if (in->nops == 3 && sign && in->ops[0].kind == OPK_REG &&
               in->ops[2].kind == OPK_IMM) {
        a = opnd_rd(s, 1, &dummy, ACC_READ);
        b = movi(s, in->ops[2].imm);
    } else {
        return false;
    }
    ir_mul2(f, sign, lo, hi, a, b);
    bool dead = flags_dead(s);
    int ovf = -1;
    if (!dead) {
        ovf = tmp(s);
        if (sign) {
            int sx = tmp(s);
            ir_op2i(f, IR_SAR, sx, lo, 31);
            ir_setcond(f, IRC_NE, ovf, hi, sx);
        } else {
            ir_setcondi(f, IRC_NE, ovf, hi, 0);
        }
    }
    if (in->nops == 1) {
        ir_mov(f, g[R_EAX], lo);
        ir_mov(f, g[R_EDX], hi);
    } else {
        reg_wr(s, in->ops[0].reg, 4, lo);
    }
    if (dead) {
        cc_unknown(s);
        return true;
    }
    int fl = gen_szp(s, lo, 4);
    ir_op2i(f, IR_MUL, ovf, ovf, EF_CF | EF_OF);
    ir_op2(f, IR_OR, fl, fl, ovf);
    set_eflags_arith(s, fl);
    return true;
}

/* ---- string instructions without REP (REP forms stay with the
 * interpreter, which runs them in chunks) ---- */

static int str_size(int op)
{
    switch (op) {
    case OP_MOVSB: case OP_CMPSB: case OP_SCASB: case OP_LODSB: case OP_STOSB:
        return 1;
    case OP_MOVSW: case OP_CMPSW: case OP_SCASW: case OP_LODSW: case OP_STOSW:
        return 2;
    default:
        return 4;
    }
}

/* The pointer step: -size when EFLAGS.DF is set, else +size. */
static int str_delta(DC *s, int size)
{
    IRFunc *f = s->f;
    int t = tmp(s);
    ir_op2i(f, IR_SHR, t, s->t->g_eflags, 10);
    ir_op2i(f, IR_AND, t, t, 1);
    ir_op2i(f, IR_MUL, t, t, (uint32_t)(-2 * size));
    ir_op2i(f, IR_ADD, t, t, (uint32_t)size);
    return t;
}

static int str_addr(DC *s, int reg, int seg, int size, int acc)
{
    int off = s->in->addrsize == 2 ? ext(s, s->t->g_reg[reg], 2, false)
                                   : s->t->g_reg[reg];
    return gen_seg(s, seg, off, size, acc);
}

static void str_advance(DC *s, int reg, int delta)
{
    int t = tmp(s);
    ir_op2(s->f, IR_ADD, t, s->t->g_reg[reg], delta);
    reg_wr(s, reg, s->in->addrsize, t);
}

static bool t_string(DC *s)
{
    const Insn *in = s->in;
    int op = in->op, size = str_size(op);
    int src_seg = in->seg_override != SEG_NONE ? in->seg_override : R_DS;
    if (src_seg < R_ES || src_seg > R_GS)
        return false;
    int delta, v, a;
    switch (op) {
    case OP_LODSB: case OP_LODSW: case OP_LODSD:
        v = ld(s, str_addr(s, R_ESI, src_seg, size, ACC_READ), size);
        delta = str_delta(s, size);
        reg_wr(s, R_EAX, size, v);
        str_advance(s, R_ESI, delta);
        return true;
    case OP_STOSB: case OP_STOSW: case OP_STOSD:
        st(s, str_addr(s, R_EDI, R_ES, size, ACC_WRITE),
           reg_rd(s, R_EAX, size), size);
        str_advance(s, R_EDI, str_delta(s, size));
        return true;
    case OP_MOVSB: case OP_MOVSW: case OP_MOVSD:
        v = ld(s, str_addr(s, R_ESI, src_seg, size, ACC_READ), size);
        st(s, str_addr(s, R_EDI, R_ES, size, ACC_WRITE), v, size);
        delta = str_delta(s, size);
        str_advance(s, R_ESI, delta);
        str_advance(s, R_EDI, delta);
        return true;
    case OP_SCASB: case OP_SCASW: case OP_SCASD: {
        v = local(s, ld(s, str_addr(s, R_EDI, R_ES, size, ACC_READ), size));
        a = reg_rd(s, R_EAX, size);
        int r = tmp(s);
        ir_op2(s->f, IR_SUB, r, a, v);
        r = ext(s, r, size, false);
        str_advance(s, R_EDI, str_delta(s, size));
        set_cc(s, K_SUB, size, r, v, -1);
        return true;
    }
    case OP_CMPSB: case OP_CMPSW: case OP_CMPSD: {
        a = local(s, ld(s, str_addr(s, R_ESI, src_seg, size, ACC_READ), size));
        v = local(s, ld(s, str_addr(s, R_EDI, R_ES, size, ACC_READ), size));
        int r = tmp(s);
        ir_op2(s->f, IR_SUB, r, a, v);
        r = ext(s, r, size, false);
        delta = str_delta(s, size);
        str_advance(s, R_ESI, delta);
        str_advance(s, R_EDI, delta);
        set_cc(s, K_SUB, size, r, v, -1);
        return true;
    }
    default:
        return false;
    }
}

/* Run one instruction in the interpreter. Returns true when the block
 * must end after it (it may branch, change the mode, the flags that key
 * the block, the interrupt flag, or do I/O). */
static bool t_fallback(DC *s)
{
    const Insn *in = s->in;
    TcgCpu *t = s->t;
    sync_eip(s);
    if (in->op != OP_INVALID && in->op < OP_COUNT && direct_fn[in->op] &&
        (t->direct || (t->direct = malloc(MAX_DIRECT * sizeof(Insn)))) &&
        t->ndirect < MAX_DIRECT) {
        t->direct[t->ndirect] = *in;
        ir_call(s->f, h_interp_insn, IR_NOTEMP,
                movi(s, (uint32_t)t->ndirect++), movi(s, s->next_pc),
                IR_NOTEMP, IR_NOTEMP);
    } else {
        ir_call(s->f, h_interp, IR_NOTEMP, IR_NOTEMP, IR_NOTEMP, IR_NOTEMP,
                IR_NOTEMP);
    }
    cc_unknown(s);
    bool end = (in->iflags & (IF_BRANCH | IF_PRIV)) != 0;
    switch (in->op) {
    case OP_IN: case OP_OUT: case OP_INSB: case OP_INSW: case OP_INSD:
    case OP_OUTSB: case OP_OUTSW: case OP_OUTSD: case OP_POP: case OP_MOV:
    case OP_INVALID: case OP_UD2: case OP_BOUND: case OP_WAIT:
        end = true;
        break;
    case OP_RDTSC: case OP_CPUID: case OP_RDPMC:
        end = false;                     /* system, but no mode change */
        break;
    default:
        break;
    }
    if (!end && (in->iflags & IF_STRING) &&
        (in->prefixes & (PFX_REP | PFX_REPNE))) {
        /* The interpreter runs REP in chunks: when it stopped short, EIP
         * is still this instruction, and the rest of the block waits. */
        int done = ir_label(s->f);
        ir_brcondi(s->f, IRC_EQ, s->t->g_eip, s->next_pc, done);
        gen_goto_ptr(s);
        ir_set_label(s->f, done);
    }
    if (end) {
        /* The interpreter left EIP at the next instruction to run; go on
         * through the jump cache (which checks the mode afresh and whose
         * next block checks interrupts), except after HLT, which is the
         * run loop's business. */
        if (in->op == OP_HLT || tracing_blocks(s->c))
            ir_exit(s->f, 0);
        else
            ir_goto_ptr(s->f, TBF_NONE);
    } else {
        /* It may have stored into this very block's code. */
        ir_check_exit(s->f, s->next_pc);
    }
    return end;
}

/* Translate one instruction; returns true when it ended the block. */
static bool gen_insn(DC *s)
{
    const Insn *in = s->in;
    bool ok = false, ends = false;
    if (simple_operands(in) && !(in->prefixes & PFX_LOCK)) {
        switch (in->op) {
        case OP_ADD: case OP_ADC: case OP_SUB: case OP_SBB: case OP_AND:
        case OP_OR: case OP_XOR: case OP_CMP: case OP_TEST:
            ok = t_alu(s);
            break;
        case OP_INC: case OP_DEC:
            ok = t_incdec(s);
            break;
        case OP_NEG: case OP_NOT:
            ok = t_negnot(s);
            break;
        case OP_MOV: case OP_MOVZX: case OP_MOVSX:
            ok = t_mov(s);
            break;
        case OP_LEA:
            ok = t_lea(s);
            break;
        case OP_XCHG:
            ok = t_xchg(s);
            break;
        case OP_SETO ... OP_SETG:
            ok = t_setcc(s);
            break;
        case OP_CMOVO ... OP_CMOVG:
            ok = t_cmov(s);
            break;
        case OP_PUSH:
            ok = t_push(s);
            break;
        case OP_POP:
            ok = t_pop(s);
            break;
        case OP_LEAVE:
            ok = t_leave(s);
            break;
        case OP_CBW: case OP_CWDE: case OP_CWD: case OP_CDQ:
            ok = t_convert(s);
            break;
        case OP_CLD: case OP_STD:
            ok = t_flagbits(s);
            break;
        case OP_SHL: case OP_SAL: case OP_SHR: case OP_SAR: case OP_ROL:
        case OP_ROR:
            ok = in->nops == 2 && in->ops[1].kind == OPK_REG ? t_shift_cl(s)
                                                             : t_shift(s);
            break;
        case OP_MUL: case OP_IMUL:
            ok = t_mul(s);
            break;
        case OP_NOP: case OP_PAUSE:
            ok = true;
            break;
        case OP_JO ... OP_JG:
            ok = ends = t_jcc(s);
            break;
        case OP_JMP: case OP_CALL:
            ok = ends = t_jmp_call(s);
            break;
        case OP_RET:
            ok = ends = t_ret(s);
            break;
        case OP_LOOP: case OP_LOOPE: case OP_LOOPNE: case OP_JCXZ:
        case OP_JECXZ:
            ok = ends = t_loop(s);
            break;
        default:
            break;
        }
    }
    if (!ok && (in->iflags & IF_STRING) &&
        !(in->prefixes & (PFX_REP | PFX_REPNE | PFX_LOCK)))
        ok = t_string(s);
    if (!ok)
        return t_fallback(s);
    if (s->stores && !ends)
        ir_check_exit(s->f, s->next_pc);
    return ends;
}

/* ---- translation of one block ---- */

/* The first instruction of a block that goes on into the next page: its
 * bytes from both pages in buf (for the trace). Returns how many of them
 * are on the next page, 0 when it cannot be translated that way (the next
 * page is unmapped or not RAM, the bytes are no valid instruction). Such a
 * block used to run the instruction through the interpreter, which cannot
 * cache its decoding either, so a hot one cost a capstone decode each
 * time (a Linux boot ran one 585,000 times). */
static int decode_crossing(const DC *s, CPUState *c, const uint8_t *host,
                           uint32_t page_left, int mode, Insn *in,
                           uint8_t buf[15])
{
    const SegCache *cs = &c->seg[R_CS];
    uint32_t pc = s->block_pc;
    if (page_left >= 15 || pc > cs->limit)
        return 0;
    uint64_t room = (uint64_t)cs->limit - pc + 1;
    uint32_t want = room < 15 ? (uint32_t)room : 15;
    if (want <= page_left)
        return 0;
    int64_t pa2 = cpu_probe(c, s->cs_base + pc + page_left);
    if (pa2 < 0)
        return 0;
    const uint8_t *h2 = bus_mem_ptr(c->bus, (uint64_t)pa2 & ~0xfffull, false);
    if (!h2)
        return 0;
    memcpy(buf, host, page_left);
    memcpy(buf + page_left, h2, want - page_left);
    int len = x86_decode(buf, (int)want, mode, in);
    if (len <= (int)page_left)
        return 0;
    if (mode == 16 && pc + (uint32_t)len > 0xffff)
        return 0;
    return len - (int)page_left;
}

/* The block is invalidated only by writes to its first page: at run time,
 * check the fetch of the next page and that its k bytes are still the
 * ones translated; otherwise run the instruction in the interpreter. */
static void gen_crossing_guard(DC *s, uint32_t lin2, const uint8_t *b, int k)
{
    IRFunc *f = s->f;
    int slow = ir_label(f), done = ir_label(f);
    sync_eip(s);
    ir_call(f, h_fetch_check, IR_NOTEMP, movi(s, lin2),
            movi(s, s->user ? 1 : 0), IR_NOTEMP, IR_NOTEMP);
    for (int i = 0; i < k;) {
        int sz = k - i >= 4 ? 4 : k - i >= 2 ? 2 : 1;
        uint32_t want = 0;
        memcpy(&want, b + i, (size_t)sz);
        int v = ld(s, movi(s, lin2 + (uint32_t)i), sz);
        ir_brcondi(f, IRC_NE, v, want, slow);
        i += sz;
    }
    ir_br(f, done);
    ir_set_label(f, slow);
    ir_call(f, h_interp, IR_NOTEMP, IR_NOTEMP, IR_NOTEMP, IR_NOTEMP,
            IR_NOTEMP);
    ir_exit(f, 0);
    ir_set_label(f, done);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

TB *translate_block(TcgCpu *t, CPUState *c, uint64_t phys, uint32_t flags)
{
    const uint8_t *host = bus_mem_ptr(c->bus, phys, false);
    if (!host)
        return NULL;                     /* code in MMIO: interpret it */
    uint64_t t0 = now_ns();
    const SegCache *cs = &c->seg[R_CS];
    DC s = {
        .t = t, .c = c, .f = t->s.ir, .flags = flags, .cs_base = cs->base,
        .block_pc = c->eip, .user = c->cpl == 3,
    };
    IRFunc *f = s.f;
    /* The blocks that used the direct instructions are gone. */
    if (t->direct_gen != t->s.tbs.generation) {
        t->direct_gen = t->s.tbs.generation;
        t->ndirect = 0;
    }
    ir_reset(f);
    ir_entry(f, 0, entry_mask(flags));
    cc_unknown(&s);
    uint32_t page_left = 0x1000 - (uint32_t)(phys & 0xfff);
    uint32_t off = 0;
    int n = 0;
    bool ended = false;
    int mode = (flags & TBF_CODE32) ? 32 : 16;
    /* Decode the block first so each instruction can see the next one
     * (flag liveness). */
    static Insn insns[MAX_INSNS];
    int nd = 0;
    while (nd < MAX_INSNS) {
        uint32_t pc = s.block_pc + off;
        uint64_t limit_room = (uint64_t)cs->limit - pc + 1;
        if (pc > cs->limit || off >= page_left)
            break;
        uint32_t avail = page_left - off;
        if (avail > 15)
            avail = 15;
        if (avail > limit_room)
            avail = (uint32_t)limit_room;
        int len = x86_decode(host + off, (int)avail, mode, &insns[nd]);
        if (len <= 0)
            break;
        if (mode == 16 && pc + (uint32_t)len > 0xffff)
            break;                       /* IP wraps: leave it to interp */
        off += (uint32_t)len;
        nd++;
        /* Control transfers and mode changes end the block: decoding
         * past them would be wasted (capstone is the dearest part of a
         * translation). */
        if (insns[nd - 1].iflags & (IF_BRANCH | IF_PRIV))
            break;
    }
    uint8_t xbytes[15];
    int xk = 0;
    if (nd == 0) {
        xk = decode_crossing(&s, c, host, page_left, mode, &insns[0], xbytes);
        if (xk > 0)
            nd = 1;
    }
    off = 0;
    while (!ended && n < nd && ir_room(f, 400)) {
        const Insn *in = &insns[n];
        uint32_t pc = s.block_pc + off;
        s.pc = pc;
        s.next_pc = pc + in->len;
        s.in = in;
        /* Only an instruction sure to be in this block may vouch for
         * the flags (an interrupt can come between blocks). */
        s.next_in = n + 1 < nd && ir_room(f, 800) ? &insns[n + 1] : NULL;
        /* Each instruction needs well under 100 ops and 50 temps: this
         * many more are sure to fit in this block. */
        int sure_ops = (IR_MAX_OPS - f->nops - 400) / 100;
        int sure_temps = (IR_MAX_TEMPS - f->ntemps - 400) / 50;
        int sure = (sure_ops < sure_temps ? sure_ops : sure_temps) - 1;
        if (sure < 0)
            sure = 0;
        s.end_in = &insns[n + 1 + sure < nd ? n + 1 + sure : nd];
        s.eip_synced = false;
        s.stores = false;
        ir_insn(f, pc);
        if (xk > 0)
            gen_crossing_guard(&s, s.cs_base + pc + page_left, xbytes + page_left,
                               xk);
        ended = gen_insn(&s);
        off += in->len;
        n++;
    }
    if (n == 0) {
        /* The first instruction cannot be decoded from this page alone
         * (it crosses into the next page, wraps IP, or is invalid): a
         * block that hands it to the interpreter, which fetches and
         * decodes it afresh every time, so the block depends on no byte
         * but the first and trying again is not needed. */
        s.pc = s.block_pc;
        s.eip_synced = false;
        sync_eip(&s);
        ir_call(f, h_interp, IR_NOTEMP, IR_NOTEMP, IR_NOTEMP, IR_NOTEMP,
                IR_NOTEMP);
        ir_exit(f, 0);
        n = 1;
        off = 1;
        ended = true;
    }
    if (!ended)
        gen_goto(&s, s.block_pc + off, 0);
    if (f->overflow)
        return NULL;
    f->ops[0].imm = (uint32_t)n;
    ir_optimize(f);

    TB *tb = tb_alloc(&t->s);
    if (!tb) {
        tb_flush(&t->s);
        t->direct_gen = t->s.tbs.generation;   /* this block's stay */
        tb = tb_alloc(&t->s);
    }
    tb->pc = s.block_pc;
    tb->cs_base = cs->base;
    tb->flags = flags;
    tb->phys_pc = phys;
    tb->size = (uint16_t)off;
    tb->ninsns = (uint16_t)n;
    size_t size;
    const uint8_t *code = tcg_backend_gen(&t->s, f, (uint64_t)(uintptr_t)tb,
                                          &size, tb->jmp_off);
    if (!code) {
        /* The buffer is full: start over with an empty cache. */
        tb_flush(&t->s);
        t->direct_gen = t->s.tbs.generation;   /* this block's stay */
        tb = tb_alloc(&t->s);
        *tb = (TB){ .pc = s.block_pc, .cs_base = cs->base, .flags = flags,
                    .phys_pc = phys, .size = (uint16_t)off,
                    .ninsns = (uint16_t)n,
                    .jmp_off = { UINT32_MAX, UINT32_MAX } };
        code = tcg_backend_gen(&t->s, f, (uint64_t)(uintptr_t)tb, &size,
                               tb->jmp_off);
        if (!code)
            return NULL;
    }
    tb->code = code;
    tb->code_size = (uint32_t)size;
    tb_insert(&t->s, tb);
    if (!bus_page_has_code(c->bus, phys)) {
        bus_mark_code(c->bus, phys);
        cpu_tlb_drop_phys_page(c, phys & ~0xfffull);
    }
    t->s.stats.blocks_translated++;
    t->s.stats.insns_translated += (uint64_t)n;
    t->s.stats.bytes_host += size;
    t->s.stats.translate_ns += now_ns() - t0;
    if (c->trace_flags & (TRACE_IN_ASM | TRACE_OUT_ASM))
        trace_new_block(t, c, tb, xk > 0 ? xbytes : host);
    return tb;
}

