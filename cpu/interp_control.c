/* Interpreter: jumps, calls, returns, loops, the stack (PUSH/POP/PUSHA/
 * POPA/PUSHF/POPF/ENTER/LEAVE), BOUND and software interrupts.
 *
 * Real-mode far transfers are done here (they cannot fail in interesting
 * ways); protected and virtual-8086 mode ones go to cpu/seg.c and
 * cpu/except.c, which set both c->eip and c->next_eip. */
#include "cpu/interp_priv.h"

/* Near branch: the target is masked to the operand size and must lie in
 * CS (#GP(0) otherwise, before anything changes). */
static uint32_t near_target(CPUState *c, const Insn *in, uint32_t target)
{
    if (in->opsize == 2)
        target &= 0xffff;
    if (target > c->seg[R_CS].limit)
        cpu_raise(c, EXC_GP, 0);
    return target;
}

static uint32_t rel_target(CPUState *c, const Insn *in)
{
    return near_target(c, in, c->next_eip + in->ops[0].imm);
}

static void op_jcc(CPUState *c, const Insn *in)
{
    if (cc_test(c, in->cond))
        c->next_eip = rel_target(c, in);
}

static void op_jcxz(CPUState *c, const Insn *in)
{
    uint32_t cx = in->addrsize == 2 ? c->regs[R_ECX] & 0xffff : c->regs[R_ECX];
    if (!cx)
        c->next_eip = rel_target(c, in);
}

static void loop_common(CPUState *c, const Insn *in, int kind)
{
    uint32_t m = in->addrsize == 2 ? 0xffff : 0xffffffffu;
    uint32_t cx = (c->regs[R_ECX] - 1) & m;
    bool take = cx != 0;
    if (kind == 1)
        take = take && (cc_arith(c) & EF_ZF);
    else if (kind == 2)
        take = take && !(cc_arith(c) & EF_ZF);
    uint32_t t = take ? rel_target(c, in) : c->next_eip;
    c->regs[R_ECX] = (c->regs[R_ECX] & ~m) | cx;
    c->next_eip = t;
}

static void op_loop(CPUState *c, const Insn *in) { loop_common(c, in, 0); }
static void op_loope(CPUState *c, const Insn *in) { loop_common(c, in, 1); }
static void op_loopne(CPUState *c, const Insn *in) { loop_common(c, in, 2); }

static void op_jmp(CPUState *c, const Insn *in)
{
    if (in->iflags & IF_REL)
        c->next_eip = rel_target(c, in);
    else
        c->next_eip = near_target(c, in, op_read(c, in, 0));
}

static void op_call(CPUState *c, const Insn *in)
{
    uint32_t t = (in->iflags & IF_REL) ? rel_target(c, in)
                                       : near_target(c, in, op_read(c, in, 0));
    push(c, c->next_eip, in->opsize);
    c->next_eip = t;
}

static void op_ret(CPUState *c, const Insn *in)
{
    uint32_t t = near_target(c, in, stack_peek(c, 0, in->opsize));
    uint32_t imm = in->nops ? in->ops[0].imm & 0xffff : 0;
    set_sp(c, c->regs[R_ESP] + in->opsize + imm);
    c->next_eip = t;
}

/* Far pointer operand: offset then selector, either immediate (EA/9A:
 * capstone gives selector, offset) or in memory. */
static void far_operand(CPUState *c, const Insn *in, uint16_t *sel,
                        uint32_t *off)
{
    if (in->ops[0].kind == OPK_IMM) {
        *sel = (uint16_t)in->ops[0].imm;
        *off = in->ops[1].imm & size_mask(in->opsize);
        return;
    }
    const InsnOperand *o = &in->ops[0];
    if (o->kind != OPK_MEM)
        interp_ud(c);
    uint32_t ea = insn_ea(c, in, o);
    *off = cpu_ld(c, o->seg, ea, in->opsize);
    uint32_t ea2 = ea + in->opsize;
    if (in->addrsize == 2)
        ea2 &= 0xffff;
    *sel = (uint16_t)cpu_ld(c, o->seg, ea2, 2);
}

static bool real_mode(const CPUState *c) { return !cpu_pe(c); }

/* Real-mode far transfers keep CS's cached limit: a new IP beyond it is
 * #GP(0), raised before anything changes. */
static void real_far_check(CPUState *c, uint32_t ip)
{
    if (ip > c->seg[R_CS].limit)
        cpu_raise(c, EXC_GP, 0);
}

static void op_ljmp(CPUState *c, const Insn *in)
{
    uint16_t sel;
    uint32_t off;
    far_operand(c, in, &sel, &off);
    if (real_mode(c)) {
        real_far_check(c, off);
        cpu_set_seg_real(c, R_CS, sel);
        c->next_eip = off;
        return;
    }
    cpu_far_jmp(c, sel, off, c->next_eip);
}

static void op_lcall(CPUState *c, const Insn *in)
{
    uint16_t sel;
    uint32_t off;
    far_operand(c, in, &sel, &off);
    if (real_mode(c)) {
        int sz = in->opsize;
        uint32_t sp = c->regs[R_ESP], m = sp_mask(c);
        real_far_check(c, off);
        cpu_st(c, R_SS, (sp - sz) & m, c->seg[R_CS].sel, sz);
        cpu_st(c, R_SS, (sp - 2 * sz) & m, c->next_eip, sz);
        set_sp(c, sp - 2 * sz);
        cpu_set_seg_real(c, R_CS, sel);
        c->next_eip = off;
        return;
    }
    cpu_far_call(c, sel, off, in->opsize == 4, c->next_eip);
}

static void op_retf(CPUState *c, const Insn *in)
{
    uint16_t imm = in->nops ? (uint16_t)in->ops[0].imm : 0;
    if (real_mode(c)) {
        int sz = in->opsize;
        uint32_t ip = stack_peek(c, 0, sz);
        uint16_t cs = (uint16_t)stack_peek(c, sz, 2);
        real_far_check(c, ip);
        set_sp(c, c->regs[R_ESP] + 2 * sz + imm);
        cpu_set_seg_real(c, R_CS, cs);
        c->next_eip = ip;
        return;
    }
    cpu_far_ret(c, in->opsize == 4, imm);
}

/* ---- flags on the stack ---- */

/* The EFLAGS bits POPF/IRET may change at the current privilege. */
static uint32_t popf_mask(const CPUState *c, int size)
{
    uint32_t m = EF_ARITH | EF_TF | EF_DF | EF_NT;
    if (size == 4)
        m |= EF_AC | EF_ID;
    if (!cpu_pe(c) || c->cpl == 0)
        m |= EF_IOPL | EF_IF;
    else if (c->cpl <= iopl(c))
        m |= EF_IF;
    if (cpu_vm86(c))
        m = (m & ~EF_IOPL) | EF_IF;
    if (size == 2)
        m &= 0xffff;
    return m;
}

/* Virtual-8086 mode with IOPL < 3: 16-bit PUSHF/POPF work on VIF in place
 * of IF when CR4.VME is set (SDM vol. 3, 20.3); otherwise #GP(0). */
static bool vme_flags(CPUState *c, const Insn *in)
{
    if (!cpu_vm86(c) || iopl(c) == 3)
        return false;
    if (!(c->cr4 & CR4_VME) || in->opsize != 2)
        cpu_raise(c, EXC_GP, 0);
    return true;
}

static void op_pushf(CPUState *c, const Insn *in)
{
    uint32_t f = cpu_get_eflags(c) & ~(EF_VM | EF_RF);
    if (vme_flags(c, in))
        f = (f & ~EF_IF) | ((f & EF_VIF) ? EF_IF : 0) | EF_IOPL;
    push(c, f, in->opsize);
}

static void op_popf(CPUState *c, const Insn *in)
{
    if (vme_flags(c, in)) {
        uint32_t f = stack_peek(c, 0, 2);
        if ((f & EF_TF) || ((f & EF_IF) && (c->eflags & EF_VIP)))
            cpu_raise(c, EXC_GP, 0);
        set_sp(c, c->regs[R_ESP] + 2);
        uint32_t m = (EF_ARITH | EF_DF | EF_NT) & 0xffff;
        cpu_set_eflags(c, f, m);
        c->eflags = (c->eflags & ~EF_VIF) | ((f & EF_IF) ? EF_VIF : 0);
        return;
    }
    int sz = in->opsize;
    uint32_t f = pop(c, sz);
    cpu_set_eflags(c, f, popf_mask(c, sz) | (sz == 4 ? EF_RF : 0));
    if (sz == 4)
        c->eflags &= ~EF_RF;
}

static void op_iret(CPUState *c, const Insn *in)
{
    int sz = in->opsize;
    if (real_mode(c)) {
        uint32_t ip = stack_peek(c, 0, sz);
        uint16_t cs = (uint16_t)stack_peek(c, sz, 2);
        uint32_t f = stack_peek(c, 2 * sz, sz);
        real_far_check(c, ip);
        set_sp(c, c->regs[R_ESP] + 3 * sz);
        cpu_set_seg_real(c, R_CS, cs);
        cpu_set_eflags(c, f, popf_mask(c, sz) | (sz == 4 ? EF_RF : 0));
        c->next_eip = ip;
        c->nmi_blocked = false;
        return;
    }
    cpu_iret(c, sz == 4);
    c->nmi_blocked = false;
}

/* ---- PUSH / POP ---- */

static void op_push(CPUState *c, const Insn *in)
{
    const InsnOperand *o = &in->ops[0];
    int sz = in->opsize;
    uint32_t v;
    if (o->kind == OPK_REG && o->rclass == RC_SEG)
        v = c->seg[o->reg].sel;
    else if (o->kind == OPK_IMM)
        v = o->imm;
    else
        v = op_read(c, in, 0);
    push(c, v, sz);
}

static void op_pop(CPUState *c, const Insn *in)
{
    const InsnOperand *o = &in->ops[0];
    int sz = in->opsize;
    uint32_t v = stack_peek(c, 0, sz);
    if (o->kind == OPK_REG && o->rclass == RC_SEG) {
        if (o->reg == R_CS)
            interp_ud(c);
        cpu_load_seg(c, o->reg, (uint16_t)v);
        set_sp(c, c->regs[R_ESP] + sz);
        if (o->reg == R_SS)
            c->inhibit_irq = true;
        return;
    }
    if (o->kind == OPK_MEM) {
        /* The address uses ESP as it is after the pop. */
        uint32_t old = c->regs[R_ESP];
        set_sp(c, old + sz);
        uint32_t ea = insn_ea(c, in, o);
        c->regs[R_ESP] = old;
        cpu_st(c, o->seg, ea, v, sz);
        set_sp(c, old + sz);
        return;
    }
    set_sp(c, c->regs[R_ESP] + sz);
    reg_set(c, o->reg, sz, v);
}

static void op_pusha(CPUState *c, const Insn *in)
{
    int sz = in->opsize;
    uint32_t m = sp_mask(c), sp = c->regs[R_ESP];
    for (int r = R_EAX; r <= R_EDI; r++) {
        sp -= sz;
        cpu_st(c, R_SS, sp & m, reg_get(c, r, sz), sz);
    }
    set_sp(c, sp);
}

static void op_popa(CPUState *c, const Insn *in)
{
    int sz = in->opsize;
    uint32_t v[8];
    for (int r = R_EDI; r >= R_EAX; r--)
        v[r] = stack_peek(c, (uint32_t)((R_EDI - r) * sz), sz);
    for (int r = R_EAX; r <= R_EDI; r++)
        if (r != R_ESP)
            reg_set(c, r, sz, v[r]);
    set_sp(c, c->regs[R_ESP] + 8 * sz);
}

static void op_enter(CPUState *c, const Insn *in)
{
    int sz = in->opsize;
    uint32_t size = in->ops[0].imm & 0xffff;
    unsigned level = in->ops[1].imm & 31;
    uint32_t m = sp_mask(c);
    uint32_t sp = c->regs[R_ESP], bp = c->regs[R_EBP];
    sp -= sz;
    cpu_st(c, R_SS, sp & m, bp, sz);
    uint32_t frame = sp;
    if (level) {
        for (unsigned i = 1; i < level; i++) {
            bp -= sz;
            uint32_t v = cpu_ld(c, R_SS, bp & m, sz);
            sp -= sz;
            cpu_st(c, R_SS, sp & m, v, sz);
        }
        sp -= sz;
        cpu_st(c, R_SS, sp & m, frame, sz);
    }
    sp -= size;
    /* the new stack top must be writable before anything commits */
    cpu_check_seg(c, R_SS, sp & m, 1, ACC_WRITE);
    if (sz == 2)
        c->regs[R_EBP] = (c->regs[R_EBP] & ~0xffffu) | (frame & 0xffff);
    else
        c->regs[R_EBP] = (c->regs[R_EBP] & ~m) | (frame & m);
    set_sp(c, sp);
}

static void op_leave(CPUState *c, const Insn *in)
{
    int sz = in->opsize;
    uint32_t m = sp_mask(c);
    uint32_t bp = c->regs[R_EBP] & m;
    uint32_t v = cpu_ld(c, R_SS, bp, sz);
    set_sp(c, bp + sz);
    reg_set(c, R_EBP, sz, v);
}

static void op_bound(CPUState *c, const Insn *in)
{
    const InsnOperand *o = &in->ops[1];
    if (o->kind != OPK_MEM)
        interp_ud(c);
    int sz = in->ops[0].size;
    uint32_t ea = insn_ea(c, in, o);
    uint32_t ea2 = ea + sz;
    if (in->addrsize == 2)
        ea2 &= 0xffff;
    int32_t lo = sext(cpu_ld(c, o->seg, ea, sz), sz);
    int32_t hi = sext(cpu_ld(c, o->seg, ea2, sz), sz);
    int32_t v = sext(reg_get(c, in->ops[0].reg, sz), sz);
    if (v < lo || v > hi)
        cpu_raise(c, EXC_BR, 0);
}

/* ---- software interrupts ---- */

static void op_int(CPUState *c, const Insn *in)
{
    cpu_interrupt(c, in->ops[0].imm & 0xff, INTK_SOFT, false, 0, c->next_eip);
}

static void op_int3(CPUState *c, const Insn *in)
{
    cpu_interrupt(c, EXC_BP, INTK_SOFT, false, 0, c->next_eip);
}

static void op_into(CPUState *c, const Insn *in)
{
    if (cc_arith(c) & EF_OF)
        cpu_interrupt(c, EXC_OF, INTK_SOFT, false, 0, c->next_eip);
}

static void op_int1(CPUState *c, const Insn *in)
{
    cpu_interrupt(c, EXC_DB, INTK_ICEBP, false, 0, c->next_eip);
}

const InterpEntry interp_control_ops[] = {
    { OP_JO, op_jcc }, { OP_JNO, op_jcc }, { OP_JB, op_jcc },
    { OP_JAE, op_jcc }, { OP_JE, op_jcc }, { OP_JNE, op_jcc },
    { OP_JBE, op_jcc }, { OP_JA, op_jcc }, { OP_JS, op_jcc },
    { OP_JNS, op_jcc }, { OP_JP, op_jcc }, { OP_JNP, op_jcc },
    { OP_JL, op_jcc }, { OP_JGE, op_jcc }, { OP_JLE, op_jcc },
    { OP_JG, op_jcc },
    { OP_JCXZ, op_jcxz }, { OP_JECXZ, op_jcxz }, { OP_LOOP, op_loop },
    { OP_LOOPE, op_loope }, { OP_LOOPNE, op_loopne },
    { OP_JMP, op_jmp }, { OP_CALL, op_call }, { OP_RET, op_ret },
    { OP_LJMP, op_ljmp }, { OP_LCALL, op_lcall }, { OP_RETF, op_retf },
    { OP_PUSHF, op_pushf }, { OP_PUSHFD, op_pushf },
    { OP_POPF, op_popf }, { OP_POPFD, op_popf },
    { OP_IRET, op_iret }, { OP_IRETD, op_iret },
    { OP_PUSH, op_push }, { OP_POP, op_pop },
    { OP_PUSHAW, op_pusha }, { OP_PUSHAL, op_pusha },
    { OP_POPAW, op_popa }, { OP_POPAL, op_popa },
    { OP_ENTER, op_enter }, { OP_LEAVE, op_leave }, { OP_BOUND, op_bound },
    { OP_INT, op_int }, { OP_INT3, op_int3 }, { OP_INTO, op_into },
    { OP_INT1, op_int1 },
    { 0, NULL }
};
