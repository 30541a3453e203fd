/* Lazy flag evaluation (see flags.h). */
#include "cpu/flags.h"

static const uint32_t size_mask[3] = { 0xff, 0xffff, 0xffffffff };
static const uint32_t sign_bit[3] = { 0x80, 0x8000, 0x80000000 };

uint32_t cc_compute(uint32_t cc_op, uint32_t dst, uint32_t src,
                    uint32_t src2)
{
    if (cc_op == CC_OP_EFLAGS || cc_op >= CC_OP_COUNT)
        return 0;
    int sz = (int)((cc_op - 1) % 3);
    uint32_t base = cc_op - (uint32_t)sz;
    uint32_t m = size_mask[sz], sb = sign_bit[sz];
    uint32_t r = dst & m, a, b = src & m, f = 0;

    switch (base) {
    case CC_OP_ADDB:
        a = (r - b - src2) & m;
        if (src2 ? r <= a : r < a)
            f |= EF_CF;
        if ((a ^ r) & (b ^ r) & sb)
            f |= EF_OF;
        f |= (a ^ b ^ r) & EF_AF;
        break;
    case CC_OP_SUBB:
        a = (r + b + src2) & m;
        if (src2 ? a <= b : a < b)
            f |= EF_CF;
        if ((a ^ b) & (a ^ r) & sb)
            f |= EF_OF;
        f |= (a ^ b ^ r) & EF_AF;
        break;
    case CC_OP_LOGICB:
        break;
    case CC_OP_INCB:
        a = (r - 1) & m;
        f |= src2 & EF_CF;
        if (r == sb)
            f |= EF_OF;
        f |= (a ^ 1 ^ r) & EF_AF;
        break;
    case CC_OP_DECB:
        a = (r + 1) & m;
        f |= src2 & EF_CF;
        if (r == sb - 1)
            f |= EF_OF;
        f |= (a ^ 1 ^ r) & EF_AF;
        break;
    }
    if (!r)
        f |= EF_ZF;
    if (r & sb)
        f |= EF_SF;
    f |= cc_parity(r);
    return f;
}

uint32_t cc_compute_cf(const CPUState *c)
{
    return cc_arith(c) & EF_CF;
}

bool cc_test(CPUState *c, int cond)
{
    uint32_t f = cc_arith(c);
    bool r;
    switch (cond >> 1) {
    case 0: r = f & EF_OF; break;                        /* O */
    case 1: r = f & EF_CF; break;                        /* B */
    case 2: r = f & EF_ZF; break;                        /* E */
    case 3: r = f & (EF_CF | EF_ZF); break;              /* BE */
    case 4: r = f & EF_SF; break;                        /* S */
    case 5: r = f & EF_PF; break;                        /* P */
    case 6: r = !(f & EF_SF) != !(f & EF_OF); break;     /* L */
    default: r = (f & EF_ZF) || (!(f & EF_SF) != !(f & EF_OF)); break;
    }
    return r ^ (cond & 1);
}

/* Bits that exist on a P6 (reserved ones read as 0, bit 1 as 1). */
#define EF_DEFINED (EF_ARITH | EF_TF | EF_IF | EF_DF | EF_IOPL | EF_NT | \
                    EF_RF | EF_VM | EF_AC | EF_VIF | EF_VIP | EF_ID)

uint32_t cpu_get_eflags(CPUState *c)
{
    if (c->cc_op != CC_OP_EFLAGS)
        cc_set_arith(c, cc_arith(c));
    return (c->eflags & EF_DEFINED) | EF_FIXED;
}

void cpu_set_eflags(CPUState *c, uint32_t val, uint32_t mask)
{
    uint32_t cur = cpu_get_eflags(c);
    c->eflags = (((cur & ~mask) | (val & mask)) & EF_DEFINED) | EF_FIXED;
    c->cc_op = CC_OP_EFLAGS;
}
