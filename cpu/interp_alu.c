/* Interpreter: arithmetic, logic, shifts and rotates, multiply and divide,
 * BCD adjustments, data movement within registers and memory. */
#include "cpu/interp_priv.h"

/* ---- two-operand arithmetic and logic ---- */

enum { A_ADD, A_ADC, A_SUB, A_SBB, A_AND, A_OR, A_XOR, A_CMP, A_TEST };

static void alu2(CPUState *c, const Insn *in, int kind)
{
    int size = in->ops[0].size;
    uint32_t m = size_mask(size);
    uint32_t a = op_read(c, in, 0);
    uint32_t b = op_read(c, in, 1) & m;
    uint32_t cin = 0, r, ccop;
    switch (kind) {
    case A_ADC: cin = cc_compute_cf(c); /* fall through */
    case A_ADD: r = a + b + cin; ccop = CC_OP_ADDB; break;
    case A_SBB: cin = cc_compute_cf(c); /* fall through */
    case A_SUB: case A_CMP: r = a - b - cin; ccop = CC_OP_SUBB; break;
    case A_AND: case A_TEST: r = a & b; ccop = CC_OP_LOGICB; break;
    case A_OR: r = a | b; ccop = CC_OP_LOGICB; break;
    default: r = a ^ b; ccop = CC_OP_LOGICB; break;
    }
    r &= m;
    if (kind != A_CMP && kind != A_TEST)
        op_write(c, in, 0, r);
    cc_record(c, cc_op_sized(ccop, size), r, b, cin);
}

#define ALU2(name, kind) \
    static void op_##name(CPUState *c, const Insn *in) { alu2(c, in, kind); }
ALU2(add, A_ADD) ALU2(adc, A_ADC) ALU2(sub, A_SUB) ALU2(sbb, A_SBB)
ALU2(and, A_AND) ALU2(or, A_OR) ALU2(xor, A_XOR) ALU2(cmp, A_CMP)
ALU2(test, A_TEST)

static void op_inc(CPUState *c, const Insn *in)
{
    int size = in->ops[0].size;
    uint32_t r = (op_read(c, in, 0) + 1) & size_mask(size);
    uint32_t cf = cc_compute_cf(c);
    op_write(c, in, 0, r);
    cc_record(c, cc_op_sized(CC_OP_INCB, size), r, 1, cf);
}

static void op_dec(CPUState *c, const Insn *in)
{
    int size = in->ops[0].size;
    uint32_t r = (op_read(c, in, 0) - 1) & size_mask(size);
    uint32_t cf = cc_compute_cf(c);
    op_write(c, in, 0, r);
    cc_record(c, cc_op_sized(CC_OP_DECB, size), r, 1, cf);
}

static void op_neg(CPUState *c, const Insn *in)
{
    int size = in->ops[0].size;
    uint32_t b = op_read(c, in, 0);
    uint32_t r = (0 - b) & size_mask(size);
    op_write(c, in, 0, r);
    cc_record(c, cc_op_sized(CC_OP_SUBB, size), r, b, 0);
}

static void op_not(CPUState *c, const Insn *in)
{
    op_write(c, in, 0, ~op_read(c, in, 0));
}

/* ---- shifts and rotates ---- */

enum { S_ROL, S_ROR, S_RCL, S_RCR, S_SHL, S_SHR, S_SAR };

/* Flags of a shift of `size` bytes: SF ZF PF from r, CF and OF given. */
static uint32_t szp(uint32_t r, int size)
{
    uint32_t f = cc_parity(r);
    if (!(r & size_mask(size)))
        f |= EF_ZF;
    if (r & sign_bit(size))
        f |= EF_SF;
    return f;
}

static void shift(CPUState *c, const Insn *in, int kind)
{
    int size = in->ops[0].size, bits = size * 8;
    uint32_t m = size_mask(size), sb = sign_bit(size);
    uint32_t a = op_read(c, in, 0) & m;
    unsigned n = (in->nops > 1 ? op_read(c, in, 1) : 1) & 31;
    if (!n)
        return;
    uint32_t fl = cc_arith(c);
    uint32_t cf = fl & EF_CF, of = 0, r;
    switch (kind) {
    case S_ROL:
        r = n % bits ? ((a << (n % bits)) | (a >> (bits - n % bits))) & m : a;
        cf = r & 1;
        of = ((r & sb) != 0) ^ cf;
        fl = (fl & ~(EF_CF | EF_OF)) | cf | (of ? EF_OF : 0);
        break;
    case S_ROR:
        r = n % bits ? ((a >> (n % bits)) | (a << (bits - n % bits))) & m : a;
        cf = (r & sb) != 0;
        of = cf ^ ((r >> (bits - 2)) & 1);
        fl = (fl & ~(EF_CF | EF_OF)) | cf | (of ? EF_OF : 0);
        break;
    case S_RCL: {
        unsigned k = n % (bits + 1);
        uint64_t v = ((uint64_t)cf << bits) | a;
        if (k)
            v = ((v << k) | (v >> (bits + 1 - k))) &
                (((uint64_t)1 << (bits + 1)) - 1);
        r = (uint32_t)v & m;
        cf = (uint32_t)(v >> bits) & 1;
        of = ((r & sb) != 0) ^ cf;
        fl = (fl & ~(EF_CF | EF_OF)) | cf | (of ? EF_OF : 0);
        break;
    }
    case S_RCR: {
        unsigned k = n % (bits + 1);
        uint64_t v = ((uint64_t)cf << bits) | a;
        if (k)
            v = ((v >> k) | (v << (bits + 1 - k))) &
                (((uint64_t)1 << (bits + 1)) - 1);
        r = (uint32_t)v & m;
        cf = (uint32_t)(v >> bits) & 1;
        /* OF as the last one-bit step leaves it: the top two bits */
        of = ((r >> (bits - 1)) ^ (r >> (bits - 2))) & 1;
        fl = (fl & ~(EF_CF | EF_OF)) | cf | (of ? EF_OF : 0);
        break;
    }
    case S_SHL: {
        uint64_t v = (uint64_t)a << n;
        r = (uint32_t)v & m;
        cf = (uint32_t)(v >> bits) & 1;
        of = ((r & sb) != 0) ^ cf;
        fl = szp(r, size) | cf | (of ? EF_OF : 0);
        break;
    }
    case S_SHR:
        r = n >= 32 ? 0 : (a >> n);
        cf = (a >> (n - 1)) & 1;
        /* OF is the top bit before the last one-bit step */
        fl = szp(r, size) | cf |
             ((n <= 32 && ((a >> (n - 1)) & sb)) ? EF_OF : 0);
        break;
    default: {
        int32_t sa = sext(a, size);
        r = (uint32_t)(sa >> n) & m;
        cf = (uint32_t)(sa >> (n - 1)) & 1;
        fl = szp(r, size) | cf;
        break;
    }
    }
    op_write(c, in, 0, r);
    cc_set_arith(c, fl);
}

#define SHIFT(name, kind) \
    static void op_##name(CPUState *c, const Insn *in) { shift(c, in, kind); }
SHIFT(rol, S_ROL) SHIFT(ror, S_ROR) SHIFT(rcl, S_RCL) SHIFT(rcr, S_RCR)
SHIFT(shl, S_SHL) SHIFT(shr, S_SHR) SHIFT(sar, S_SAR)

/* SHLD/SHRD: ops are dest, src, count. 16-bit counts above 16 shift in
 * the destination again, as a P6 does (the data is dest:src:dest). */
static void shxd(CPUState *c, const Insn *in, bool left)
{
    int size = in->ops[0].size;
    uint32_t m = size_mask(size);
    uint32_t a = op_read(c, in, 0) & m, b = op_read(c, in, 1) & m;
    unsigned n = op_read(c, in, 2) & 31;
    if (!n)
        return;
    uint32_t r, cf;
    if (size == 4) {
        if (left) {
            r = (a << n) | (b >> (32 - n));
            cf = (a >> (32 - n)) & 1;
        } else {
            r = (a >> n) | (b << (32 - n));
            cf = (a >> (n - 1)) & 1;
        }
    } else {
        /* 48 bits dest:src:dest (left) or dest:src with dest below (right) */
        if (left) {
            uint64_t t = ((uint64_t)a << 32) | ((uint64_t)b << 16) | a;
            r = (uint32_t)(t >> (32 - n)) & m;
            cf = (uint32_t)(t >> (48 - n)) & 1;
        } else {
            uint64_t t = a | ((uint64_t)b << 16) | ((uint64_t)a << 32);
            r = (uint32_t)(t >> n) & m;
            cf = (uint32_t)(t >> (n - 1)) & 1;
        }
    }
    uint32_t of = ((r ^ a) & sign_bit(size)) ? EF_OF : 0;
    op_write(c, in, 0, r);
    cc_set_arith(c, szp(r, size) | cf | of);
}

static void op_shld(CPUState *c, const Insn *in) { shxd(c, in, true); }
static void op_shrd(CPUState *c, const Insn *in) { shxd(c, in, false); }

/* ---- multiply and divide ---- */

static void op_mul(CPUState *c, const Insn *in)
{
    int size = in->ops[0].size;
    uint64_t a = reg_get(c, R_EAX, size), b = op_read(c, in, 0);
    uint64_t p = a * b;
    uint32_t lo, hi;
    if (size == 1) {
        reg_set(c, R_EAX, 2, (uint32_t)p);
        lo = (uint32_t)p & 0xff;
        hi = (uint32_t)(p >> 8) & 0xff;
    } else {
        lo = (uint32_t)p & size_mask(size);
        hi = (uint32_t)(p >> (size * 8)) & size_mask(size);
        reg_set(c, R_EAX, size, lo);
        reg_set(c, R_EDX, size, hi);
    }
    cc_set_arith(c, szp(lo, size) | (hi ? EF_CF | EF_OF : 0));
}

static void op_imul(CPUState *c, const Insn *in)
{
    if (in->nops == 1) {
        int size = in->ops[0].size;
        int64_t p = (int64_t)sext(reg_get(c, R_EAX, size), size) *
                    sext(op_read(c, in, 0), size);
        uint32_t lo = (uint32_t)p & size_mask(size);
        bool ovf = p != sext(lo, size);
        if (size == 1) {
            reg_set(c, R_EAX, 2, (uint32_t)p);
        } else {
            reg_set(c, R_EAX, size, lo);
            reg_set(c, R_EDX, size, (uint32_t)((uint64_t)p >> (size * 8)));
        }
        cc_set_arith(c, szp(lo, size) | (ovf ? EF_CF | EF_OF : 0));
        return;
    }
    int size = in->ops[0].size;
    int64_t a, b;
    if (in->nops == 2) {
        a = sext(op_read(c, in, 0), size);
        b = sext(op_read(c, in, 1), size);
    } else {
        a = sext(op_read(c, in, 1), size);
        b = sext(op_read(c, in, 2), size);
    }
    int64_t p = a * b;
    uint32_t lo = (uint32_t)p & size_mask(size);
    bool ovf = p != sext(lo, size);
    op_write(c, in, 0, lo);
    cc_set_arith(c, szp(lo, size) | (ovf ? EF_CF | EF_OF : 0));
}

static void op_div(CPUState *c, const Insn *in)
{
    int size = in->ops[0].size;
    uint64_t d = op_read(c, in, 0);
    if (!d)
        cpu_raise(c, EXC_DE, 0);
    uint64_t n = size == 1 ? reg_get(c, R_EAX, 2)
               : ((uint64_t)reg_get(c, R_EDX, size) << (size * 8)) |
                 reg_get(c, R_EAX, size);
    uint64_t q = n / d, r = n % d;
    if (q > size_mask(size))
        cpu_raise(c, EXC_DE, 0);
    if (size == 1) {
        reg_set(c, R_EAX, 2, (uint32_t)(q | (r << 8)));
    } else {
        reg_set(c, R_EAX, size, (uint32_t)q);
        reg_set(c, R_EDX, size, (uint32_t)r);
    }
}

static void op_idiv(CPUState *c, const Insn *in)
{
    int size = in->ops[0].size;
    int64_t d = sext(op_read(c, in, 0), size);
    if (!d)
        cpu_raise(c, EXC_DE, 0);
    int64_t n;
    if (size == 1)
        n = (int16_t)reg_get(c, R_EAX, 2);
    else if (size == 2)
        n = (int32_t)((reg_get(c, R_EDX, 2) << 16) | reg_get(c, R_EAX, 2));
    else
        n = (int64_t)(((uint64_t)c->regs[R_EDX] << 32) | c->regs[R_EAX]);
    if (size == 4 && n == INT64_MIN && d == -1)
        cpu_raise(c, EXC_DE, 0);
    int64_t q = n / d, r = n % d;
    int64_t lim = (int64_t)sign_bit(size);
    if (q >= lim || q < -lim)
        cpu_raise(c, EXC_DE, 0);
    if (size == 1) {
        reg_set(c, R_EAX, 2, ((uint32_t)q & 0xff) | (((uint32_t)r & 0xff) << 8));
    } else {
        reg_set(c, R_EAX, size, (uint32_t)q);
        reg_set(c, R_EDX, size, (uint32_t)r);
    }
}

/* ---- BCD ---- */

static void op_daa(CPUState *c, const Insn *in)
{
    uint32_t f = cc_arith(c), al = reg_get(c, R_EAX, 1), old = al;
    uint32_t cf = f & EF_CF, nf = 0;
    if ((al & 0xf) > 9 || (f & EF_AF)) {
        al += 6;
        nf |= EF_AF | (al > 0xff ? EF_CF : 0);
    }
    if (old > 0x99 || cf) {
        al += 0x60;
        nf |= EF_CF;
    }
    al &= 0xff;
    reg_set(c, R_EAX, 1, al);
    cc_set_arith(c, nf | szp(al, 1));
}

static void op_das(CPUState *c, const Insn *in)
{
    uint32_t f = cc_arith(c), al = reg_get(c, R_EAX, 1), old = al;
    uint32_t cf = f & EF_CF, nf = 0;
    if ((al & 0xf) > 9 || (f & EF_AF)) {
        nf |= EF_AF | (al < 6 ? EF_CF : 0);
        al -= 6;
    }
    if (old > 0x99 || cf) {
        al -= 0x60;
        nf |= EF_CF;
    }
    al &= 0xff;
    reg_set(c, R_EAX, 1, al);
    cc_set_arith(c, nf | szp(al, 1));
}

static void op_aaa(CPUState *c, const Insn *in)
{
    uint32_t f = cc_arith(c), ax = reg_get(c, R_EAX, 2), nf = 0;
    if ((ax & 0xf) > 9 || (f & EF_AF)) {
        ax += 0x106;
        nf = EF_AF | EF_CF;
    }
    ax &= 0xff0f;
    reg_set(c, R_EAX, 2, ax);
    cc_set_arith(c, nf | szp(ax & 0xff, 1));
}

static void op_aas(CPUState *c, const Insn *in)
{
    uint32_t f = cc_arith(c), ax = reg_get(c, R_EAX, 2), nf = 0;
    if ((ax & 0xf) > 9 || (f & EF_AF)) {
        ax = (ax - 6) - 0x100;             /* borrow reaches AH, as does -1 */
        nf = EF_AF | EF_CF;
    }
    ax &= 0xff0f;
    reg_set(c, R_EAX, 2, ax);
    cc_set_arith(c, nf | szp(ax & 0xff, 1));
}

static void op_aam(CPUState *c, const Insn *in)
{
    uint32_t base = in->nops ? in->ops[0].imm & 0xff : 10;
    if (!base)
        cpu_raise(c, EXC_DE, 0);
    uint32_t al = reg_get(c, R_EAX, 1);
    uint32_t r = al % base;
    reg_set(c, R_EAX, 2, ((al / base) << 8) | r);
    cc_set_arith(c, szp(r, 1));
}

static void op_aad(CPUState *c, const Insn *in)
{
    uint32_t base = in->nops ? in->ops[0].imm & 0xff : 10;
    uint32_t ax = reg_get(c, R_EAX, 2);
    uint32_t r = ((ax & 0xff) + (ax >> 8) * base) & 0xff;
    reg_set(c, R_EAX, 2, r);
    cc_set_arith(c, szp(r, 1));
}

/* ---- moves and conversions ---- */

static void op_mov(CPUState *c, const Insn *in)
{
    const InsnOperand *d = &in->ops[0], *s = &in->ops[1];
    if (d->kind == OPK_REG && d->rclass == RC_SEG) {
        if (d->reg == R_CS)
            interp_ud(c);
        uint16_t sel = (uint16_t)op_read(c, in, 1);
        cpu_load_seg(c, d->reg, sel);
        if (d->reg == R_SS)
            c->inhibit_irq = true;
        return;
    }
    if (s->kind == OPK_REG && s->rclass == RC_SEG) {
        uint32_t sel = c->seg[s->reg].sel;
        if (d->kind == OPK_MEM)
            cpu_st(c, d->seg, insn_ea(c, in, d), sel, 2);
        else
            reg_set(c, d->reg, d->size, sel);
        return;
    }
    if ((d->kind == OPK_REG && d->rclass != RC_GPR) ||
        (s->kind == OPK_REG && s->rclass != RC_GPR)) {
        interp_mov_crdr(c, in);       /* control/debug registers */
        return;
    }
    op_write(c, in, 0, op_read(c, in, 1));
}

static void op_movsx(CPUState *c, const Insn *in)
{
    uint32_t v = (uint32_t)sext(op_read(c, in, 1), in->ops[1].size);
    op_write(c, in, 0, v);
}

static void op_movzx(CPUState *c, const Insn *in)
{
    op_write(c, in, 0, op_read(c, in, 1));
}

static void op_xchg(CPUState *c, const Insn *in)
{
    uint32_t a = op_read(c, in, 0), b = op_read(c, in, 1);
    /* Memory (if any) is operand 0 in capstone's order: write it first. */
    if (in->ops[1].kind == OPK_MEM) {
        op_write(c, in, 1, a);
        op_write(c, in, 0, b);
    } else {
        op_write(c, in, 0, b);
        op_write(c, in, 1, a);
    }
}

static void op_lea(CPUState *c, const Insn *in)
{
    if (in->ops[1].kind != OPK_MEM)
        interp_ud(c);
    op_write(c, in, 0, insn_ea(c, in, &in->ops[1]));
}

static void op_xlatb(CPUState *c, const Insn *in)
{
    int seg = in->seg_override != SEG_NONE ? in->seg_override : R_DS;
    uint32_t a = c->regs[R_EBX] + reg_get(c, R_EAX, 1);
    if (in->addrsize == 2)
        a &= 0xffff;
    reg_set(c, R_EAX, 1, cpu_ld(c, seg, a, 1));
}

static void op_cbw(CPUState *c, const Insn *in)
{
    reg_set(c, R_EAX, 2, (uint32_t)(int8_t)c->regs[R_EAX]);
}
static void op_cwde(CPUState *c, const Insn *in)
{
    c->regs[R_EAX] = (uint32_t)(int16_t)c->regs[R_EAX];
}
static void op_cwd(CPUState *c, const Insn *in)
{
    reg_set(c, R_EDX, 2, (c->regs[R_EAX] & 0x8000) ? 0xffff : 0);
}
static void op_cdq(CPUState *c, const Insn *in)
{
    c->regs[R_EDX] = (c->regs[R_EAX] & 0x80000000u) ? 0xffffffffu : 0;
}
static void op_salc(CPUState *c, const Insn *in)
{
    reg_set(c, R_EAX, 1, cc_compute_cf(c) ? 0xff : 0);
}

static void op_lahf(CPUState *c, const Insn *in)
{
    uint32_t f = cc_arith(c) | EF_FIXED;
    c->regs[R_EAX] = (c->regs[R_EAX] & ~0xff00u) |
                     ((f & (EF_SF | EF_ZF | EF_AF | EF_PF | EF_CF | EF_FIXED))
                      << 8);
}

static void op_sahf(CPUState *c, const Insn *in)
{
    uint32_t ah = (c->regs[R_EAX] >> 8) & 0xff;
    uint32_t keep = cc_arith(c) & EF_OF;
    cc_set_arith(c, keep | (ah & (EF_SF | EF_ZF | EF_AF | EF_PF | EF_CF)));
}

static void op_setcc(CPUState *c, const Insn *in)
{
    op_write(c, in, 0, cc_test(c, in->cond) ? 1 : 0);
}

static void op_cmovcc(CPUState *c, const Insn *in)
{
    uint32_t v = op_read(c, in, 1);
    if (cc_test(c, in->cond))
        op_write(c, in, 0, v);
}

/* ---- flag instructions ---- */

static void op_clc(CPUState *c, const Insn *in)
{ cc_set_arith(c, cc_arith(c) & ~EF_CF); }
static void op_stc(CPUState *c, const Insn *in)
{ cc_set_arith(c, cc_arith(c) | EF_CF); }
static void op_cmc(CPUState *c, const Insn *in)
{ cc_set_arith(c, cc_arith(c) ^ EF_CF); }
static void op_cld(CPUState *c, const Insn *in) { c->eflags &= ~EF_DF; }
static void op_std(CPUState *c, const Insn *in) { c->eflags |= EF_DF; }

const InterpEntry interp_alu_ops[] = {
    { OP_ADD, op_add }, { OP_ADC, op_adc }, { OP_SUB, op_sub },
    { OP_SBB, op_sbb }, { OP_AND, op_and }, { OP_OR, op_or },
    { OP_XOR, op_xor }, { OP_CMP, op_cmp }, { OP_TEST, op_test },
    { OP_INC, op_inc }, { OP_DEC, op_dec }, { OP_NEG, op_neg },
    { OP_NOT, op_not },
    { OP_ROL, op_rol }, { OP_ROR, op_ror }, { OP_RCL, op_rcl },
    { OP_RCR, op_rcr }, { OP_SHL, op_shl }, { OP_SAL, op_shl },
    { OP_SHR, op_shr }, { OP_SAR, op_sar }, { OP_SHLD, op_shld },
    { OP_SHRD, op_shrd },
    { OP_MUL, op_mul }, { OP_IMUL, op_imul }, { OP_DIV, op_div },
    { OP_IDIV, op_idiv },
    { OP_DAA, op_daa }, { OP_DAS, op_das }, { OP_AAA, op_aaa },
    { OP_AAS, op_aas }, { OP_AAM, op_aam }, { OP_AAD, op_aad },
    { OP_MOV, op_mov }, { OP_MOVABS, op_mov }, { OP_MOVSX, op_movsx },
    { OP_MOVZX, op_movzx }, { OP_XCHG, op_xchg }, { OP_LEA, op_lea },
    { OP_XLATB, op_xlatb }, { OP_CBW, op_cbw }, { OP_CWDE, op_cwde },
    { OP_CWD, op_cwd }, { OP_CDQ, op_cdq }, { OP_SALC, op_salc },
    { OP_LAHF, op_lahf }, { OP_SAHF, op_sahf },
    { OP_SETO, op_setcc }, { OP_SETNO, op_setcc }, { OP_SETB, op_setcc },
    { OP_SETAE, op_setcc }, { OP_SETE, op_setcc }, { OP_SETNE, op_setcc },
    { OP_SETBE, op_setcc }, { OP_SETA, op_setcc }, { OP_SETS, op_setcc },
    { OP_SETNS, op_setcc }, { OP_SETP, op_setcc }, { OP_SETNP, op_setcc },
    { OP_SETL, op_setcc }, { OP_SETGE, op_setcc }, { OP_SETLE, op_setcc },
    { OP_SETG, op_setcc },
    { OP_CMOVO, op_cmovcc }, { OP_CMOVNO, op_cmovcc },
    { OP_CMOVB, op_cmovcc }, { OP_CMOVAE, op_cmovcc },
    { OP_CMOVE, op_cmovcc }, { OP_CMOVNE, op_cmovcc },
    { OP_CMOVBE, op_cmovcc }, { OP_CMOVA, op_cmovcc },
    { OP_CMOVS, op_cmovcc }, { OP_CMOVNS, op_cmovcc },
    { OP_CMOVP, op_cmovcc }, { OP_CMOVNP, op_cmovcc },
    { OP_CMOVL, op_cmovcc }, { OP_CMOVGE, op_cmovcc },
    { OP_CMOVLE, op_cmovcc }, { OP_CMOVG, op_cmovcc },
    { OP_CLC, op_clc }, { OP_STC, op_stc }, { OP_CMC, op_cmc },
    { OP_CLD, op_cld }, { OP_STD, op_std },
    { 0, NULL }
};
