/* Lazy arithmetic flags.
 *
 * Most instructions that set flags are followed by one that overwrites
 * them, so an instruction only records what it did: cc_op names the
 * operation and its operand size, cc_dst is the result, cc_src the second
 * operand and cc_src2 the carry/borrow in (ADD/SUB) or the previous CF
 * (INC/DEC). The six arithmetic flags (CF PF AF ZF SF OF) are computed
 * only when something reads them. With cc_op == CC_OP_EFLAGS they are
 * already in cpu->eflags. All other EFLAGS bits always live in
 * cpu->eflags.
 *
 * Recording (the interpreter and the translator's helpers use these):
 *   ADD/ADC/CMPs of addition:  cc_dst=result cc_src=b cc_src2=carry-in
 *   SUB/SBB/CMP/NEG:           cc_dst=result cc_src=b cc_src2=borrow-in
 *                              (NEG is 0 - b)
 *   AND/OR/XOR/TEST:           cc_dst=result (CF=OF=AF=0)
 *   INC/DEC:                   cc_dst=result cc_src2=CF before
 * The first operand of ADD/SUB is recovered from the others, so three
 * words describe every case. Everything else (shifts, multiplies, BCD,
 * bit tests) computes its flags at once and uses CC_OP_EFLAGS.
 */
#ifndef CPU_FLAGS_H
#define CPU_FLAGS_H
#include "cpu/cpu.h"

/* Sizes: B = 8, W = 16, L = 32 bits; an op's size index is cc_op % 3
 * for every op after CC_OP_EFLAGS. */
enum {
    CC_OP_EFLAGS = 0,
    CC_OP_ADDB, CC_OP_ADDW, CC_OP_ADDL,
    CC_OP_SUBB, CC_OP_SUBW, CC_OP_SUBL,
    CC_OP_LOGICB, CC_OP_LOGICW, CC_OP_LOGICL,
    CC_OP_INCB, CC_OP_INCW, CC_OP_INCL,
    CC_OP_DECB, CC_OP_DECW, CC_OP_DECL,
    CC_OP_COUNT
};

/* The CC_OP for an operation of size bytes (1, 2, 4): base is e.g.
 * CC_OP_ADDB. */
static inline uint32_t cc_op_sized(uint32_t base, int size)
{
    return base + (size == 1 ? 0 : size == 2 ? 1 : 2);
}

/* The six arithmetic flags (EF_ARITH bits) the lazy state describes. */
uint32_t cc_compute(uint32_t cc_op, uint32_t dst, uint32_t src,
                    uint32_t src2);
/* Just CF (the common reader: ADC, SBB, RCL, Jb). */
uint32_t cc_compute_cf(const CPUState *c);
/* Evaluate condition tttn (0..15, the Jcc encoding order) on the flags. */
bool cc_test(CPUState *c, int cond);
/* PF of the low byte of v. */
static inline uint32_t cc_parity(uint32_t v)
{
    return (uint32_t)(!__builtin_parity(v & 0xff)) * EF_PF;
}
/* Store the arithmetic flags directly (CC_OP_EFLAGS) keeping the rest. */
static inline void cc_set_arith(CPUState *c, uint32_t arith)
{
    c->eflags = (c->eflags & ~EF_ARITH) | (arith & EF_ARITH);
    c->cc_op = CC_OP_EFLAGS;
}
/* Arithmetic flags now, whatever the lazy state. */
static inline uint32_t cc_arith(const CPUState *c)
{
    if (c->cc_op == CC_OP_EFLAGS)
        return c->eflags & EF_ARITH;
    return cc_compute(c->cc_op, c->cc_dst, c->cc_src, c->cc_src2);
}
/* Record a lazily evaluated result. */
static inline void cc_record(CPUState *c, uint32_t op, uint32_t dst,
                             uint32_t src, uint32_t src2)
{
    c->cc_op = op;
    c->cc_dst = dst;
    c->cc_src = src;
    c->cc_src2 = src2;
}
#endif
