/* Interpreter: bit tests and scans, byte swap, and the atomic exchange
 * family (XADD, CMPXCHG, CMPXCHG8B). The interpreter runs one CPU on one
 * thread, so LOCK needs no host atomics here. */
#include "cpu/interp_priv.h"

enum { BT_TEST, BT_SET, BT_RESET, BT_COMPLEMENT };

static void bt_common(CPUState *c, const Insn *in, int kind)
{
    const InsnOperand *d = &in->ops[0];
    int size = d->size, bits = size * 8;
    uint32_t off = op_read(c, in, 1), v, bit;
    uint32_t ea = 0;
    if (d->kind == OPK_MEM && in->ops[1].kind == OPK_REG) {
        /* A register bit offset is signed and may reach outside the
         * operand: it selects the operand-sized word at ea + offset/bits. */
        int32_t so = sext(off, size);
        int32_t word = so >= 0 ? so / bits : -((-so + bits - 1) / bits);
        bit = (uint32_t)(so - word * bits);
        ea = insn_ea(c, in, d) + (uint32_t)(word * size);
        if (in->addrsize == 2)
            ea &= 0xffff;
        v = cpu_ld(c, d->seg, ea, size);
    } else {
        bit = off & (uint32_t)(bits - 1);
        if (d->kind == OPK_MEM)
            ea = insn_ea(c, in, d);
        v = d->kind == OPK_MEM ? cpu_ld(c, d->seg, ea, size)
                               : op_read(c, in, 0);
    }
    uint32_t cf = (v >> bit) & 1, nv = v;
    switch (kind) {
    case BT_SET: nv = v | (1u << bit); break;
    case BT_RESET: nv = v & ~(1u << bit); break;
    case BT_COMPLEMENT: nv = v ^ (1u << bit); break;
    }
    if (kind != BT_TEST) {
        if (d->kind == OPK_MEM)
            cpu_st(c, d->seg, ea, nv, size);
        else
            op_write(c, in, 0, nv);
    }
    cc_set_arith(c, (cc_arith(c) & ~EF_CF) | cf);
}

static void op_bt(CPUState *c, const Insn *in) { bt_common(c, in, BT_TEST); }
static void op_bts(CPUState *c, const Insn *in) { bt_common(c, in, BT_SET); }
static void op_btr(CPUState *c, const Insn *in) { bt_common(c, in, BT_RESET); }
static void op_btc(CPUState *c, const Insn *in)
{ bt_common(c, in, BT_COMPLEMENT); }

/* BSF/BSR: a zero source sets ZF and leaves the destination alone (what
 * P6 processors do; the manuals call it undefined). */
static void bit_scan(CPUState *c, const Insn *in, bool reverse)
{
    int size = in->ops[0].size;
    uint32_t v = op_read(c, in, 1) & size_mask(size);
    uint32_t f = cc_arith(c) & ~EF_ZF;
    if (!v) {
        cc_set_arith(c, f | EF_ZF);
        return;
    }
    uint32_t idx = reverse ? 31u - (uint32_t)__builtin_clz(v)
                           : (uint32_t)__builtin_ctz(v);
    op_write(c, in, 0, idx);
    cc_set_arith(c, f);
}

static void op_bsf(CPUState *c, const Insn *in) { bit_scan(c, in, false); }
static void op_bsr(CPUState *c, const Insn *in) { bit_scan(c, in, true); }

static void op_bswap(CPUState *c, const Insn *in)
{
    const InsnOperand *d = &in->ops[0];
    if (d->size == 4)
        c->regs[d->reg] = __builtin_bswap32(c->regs[d->reg]);
    else
        reg_set(c, d->reg, 2, 0);   /* 16-bit BSWAP clears the word */
}

static void op_xadd(CPUState *c, const Insn *in)
{
    int size = in->ops[0].size;
    uint32_t a = op_read(c, in, 0), b = op_read(c, in, 1);
    uint32_t r = (a + b) & size_mask(size);
    if (in->ops[0].kind == OPK_MEM) {
        op_write(c, in, 0, r);
        op_write(c, in, 1, a);
    } else {
        op_write(c, in, 1, a);
        op_write(c, in, 0, r);
    }
    cc_record(c, cc_op_sized(CC_OP_ADDB, size), r, b, 0);
}

static void op_cmpxchg(CPUState *c, const Insn *in)
{
    int size = in->ops[0].size;
    uint32_t d = op_read(c, in, 0), acc = reg_get(c, R_EAX, size);
    uint32_t r = (acc - d) & size_mask(size);
    if (acc == d) {
        op_write(c, in, 0, op_read(c, in, 1));
    } else {
        /* The destination is written back either way (locked cycle). */
        if (in->ops[0].kind == OPK_MEM)
            op_write(c, in, 0, d);
        reg_set(c, R_EAX, size, d);
    }
    cc_record(c, cc_op_sized(CC_OP_SUBB, size), r, d, 0);
}

static void op_cmpxchg8b(CPUState *c, const Insn *in)
{
    const InsnOperand *o = &in->ops[0];
    if (o->kind != OPK_MEM)
        interp_ud(c);
    uint32_t ea = insn_ea(c, in, o);
    uint64_t m = cpu_ld64(c, o->seg, ea);
    uint64_t cmp = ((uint64_t)c->regs[R_EDX] << 32) | c->regs[R_EAX];
    uint32_t f = cc_arith(c) & ~EF_ZF;
    if (m == cmp) {
        cpu_st64(c, o->seg, ea,
                 ((uint64_t)c->regs[R_ECX] << 32) | c->regs[R_EBX]);
        f |= EF_ZF;
    } else {
        cpu_st64(c, o->seg, ea, m);
        c->regs[R_EAX] = (uint32_t)m;
        c->regs[R_EDX] = (uint32_t)(m >> 32);
    }
    cc_set_arith(c, f);
}

const InterpEntry interp_bits_ops[] = {
    { OP_BT, op_bt }, { OP_BTS, op_bts }, { OP_BTR, op_btr },
    { OP_BTC, op_btc }, { OP_BSF, op_bsf }, { OP_BSR, op_bsr },
    { OP_BSWAP, op_bswap }, { OP_XADD, op_xadd },
    { OP_CMPXCHG, op_cmpxchg }, { OP_CMPXCHG8B, op_cmpxchg8b },
    { 0, NULL }
};
