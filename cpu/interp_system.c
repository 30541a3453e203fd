/* Interpreter: system instructions (descriptor tables, control and debug
 * registers, MSRs, CPUID, TSC), interrupt-flag control, HLT, segment
 * loads through far pointers, and the protected-mode-only checks (LAR,
 * LSL, VERR, VERW, ARPL). The work of loading descriptors belongs to
 * cpu/seg.c; this file checks privilege and moves operands. */
#include "cpu/interp_priv.h"

/* Instructions that exist only in protected mode raise #UD in real and
 * virtual-8086 mode. */
static void require_pmode(CPUState *c)
{
    if (!cpu_pe(c) || cpu_vm86(c))
        interp_ud(c);
}

static void op_nop(CPUState *c, const Insn *in) { (void)c; (void)in; }

static void op_ud2(CPUState *c, const Insn *in) { interp_ud(c); }

static void op_hlt(CPUState *c, const Insn *in)
{
    require_cpl0(c);
    c->halted = true;
}

/* CLI/STI: with CPL > IOPL, the virtual interrupt flag takes the change
 * when VME (v86) or PVI (CPL 3) allows it; otherwise #GP(0). */
static void op_cli(CPUState *c, const Insn *in)
{
    if (cpu_pe(c) && (cpu_vm86(c) ? iopl(c) < 3 : c->cpl > iopl(c))) {
        if ((cpu_vm86(c) && (c->cr4 & CR4_VME)) ||
            (!cpu_vm86(c) && c->cpl == 3 && (c->cr4 & CR4_PVI))) {
            c->eflags &= ~EF_VIF;
            return;
        }
        cpu_raise(c, EXC_GP, 0);
    }
    c->eflags &= ~EF_IF;
}

static void op_sti(CPUState *c, const Insn *in)
{
    if (cpu_pe(c) && (cpu_vm86(c) ? iopl(c) < 3 : c->cpl > iopl(c))) {
        if (((cpu_vm86(c) && (c->cr4 & CR4_VME)) ||
             (!cpu_vm86(c) && c->cpl == 3 && (c->cr4 & CR4_PVI))) &&
            !(c->eflags & EF_VIP)) {
            c->eflags |= EF_VIF;
            return;
        }
        cpu_raise(c, EXC_GP, 0);
    }
    if (!(c->eflags & EF_IF))
        c->inhibit_irq = true;
    c->eflags |= EF_IF;
}

static void op_cpuid(CPUState *c, const Insn *in)
{
    uint32_t out[4];
    cpu_cpuid(c, c->regs[R_EAX], c->regs[R_ECX], out);
    c->regs[R_EAX] = out[0];
    c->regs[R_EBX] = out[1];
    c->regs[R_ECX] = out[2];
    c->regs[R_EDX] = out[3];
}

static void op_rdtsc(CPUState *c, const Insn *in)
{
    if ((c->cr4 & CR4_TSD) && cpu_pe(c) && (c->cpl || cpu_vm86(c)))
        cpu_raise(c, EXC_GP, 0);
    uint64_t t = cpu_rdtsc(c);
    c->regs[R_EAX] = (uint32_t)t;
    c->regs[R_EDX] = (uint32_t)(t >> 32);
}

static void op_rdpmc(CPUState *c, const Insn *in)
{
    if (!(c->cr4 & CR4_PCE))
        require_cpl0(c);
    if (c->regs[R_ECX] > 1)
        cpu_raise(c, EXC_GP, 0);
    c->regs[R_EAX] = c->regs[R_EDX] = 0;
}

static void op_rdmsr(CPUState *c, const Insn *in)
{
    require_cpl0(c);
    uint64_t v;
    if (!cpu_rdmsr(c, c->regs[R_ECX], &v))
        cpu_raise(c, EXC_GP, 0);
    c->regs[R_EAX] = (uint32_t)v;
    c->regs[R_EDX] = (uint32_t)(v >> 32);
}

static void op_wrmsr(CPUState *c, const Insn *in)
{
    require_cpl0(c);
    uint64_t v = ((uint64_t)c->regs[R_EDX] << 32) | c->regs[R_EAX];
    if (!cpu_wrmsr(c, c->regs[R_ECX], v))
        cpu_raise(c, EXC_GP, 0);
}

/* ---- descriptor-table registers ---- */

static uint32_t mem_ea(CPUState *c, const Insn *in, int i)
{
    if (in->ops[i].kind != OPK_MEM)
        interp_ud(c);
    return insn_ea(c, in, &in->ops[i]);
}

static uint32_t ea_plus(const Insn *in, uint32_t ea, uint32_t k)
{
    return in->addrsize == 2 ? (ea + k) & 0xffff : ea + k;
}

static void load_dtr(CPUState *c, const Insn *in, DescTable *t)
{
    require_cpl0(c);
    uint32_t ea = mem_ea(c, in, 0);
    int seg = in->ops[0].seg;
    uint32_t limit = cpu_ld(c, seg, ea, 2);
    uint32_t base = cpu_ld(c, seg, ea_plus(in, ea, 2), 4);
    if (in->opsize == 2)
        base &= 0xffffff;
    t->limit = limit;
    t->base = base;
}

static void store_dtr(CPUState *c, const Insn *in, const DescTable *t)
{
    uint32_t ea = mem_ea(c, in, 0);
    int seg = in->ops[0].seg;
    cpu_check_seg(c, seg, ea, 6, ACC_WRITE);
    cpu_st(c, seg, ea, t->limit, 2);
    cpu_st(c, seg, ea_plus(in, ea, 2), t->base, 4);
}

static void op_lgdt(CPUState *c, const Insn *in) { load_dtr(c, in, &c->gdt); }
static void op_lidt(CPUState *c, const Insn *in) { load_dtr(c, in, &c->idt); }
static void op_sgdt(CPUState *c, const Insn *in) { store_dtr(c, in, &c->gdt); }
static void op_sidt(CPUState *c, const Insn *in) { store_dtr(c, in, &c->idt); }

static void op_lldt(CPUState *c, const Insn *in)
{
    require_pmode(c);
    require_cpl0(c);
    cpu_lldt(c, (uint16_t)op_read(c, in, 0));
}

static void op_ltr(CPUState *c, const Insn *in)
{
    require_pmode(c);
    require_cpl0(c);
    cpu_ltr(c, (uint16_t)op_read(c, in, 0));
}

/* Store a selector-sized value: registers take the operand size (the
 * upper bits are zero on a P6), memory always 16 bits. */
static void store_sel(CPUState *c, const Insn *in, uint32_t v)
{
    const InsnOperand *o = &in->ops[0];
    if (o->kind == OPK_MEM)
        cpu_st(c, o->seg, insn_ea(c, in, o), v & 0xffff, 2);
    else
        reg_set(c, o->reg, o->size, v);
}

static void op_sldt(CPUState *c, const Insn *in)
{
    require_pmode(c);
    store_sel(c, in, c->seg[R_LDTR].sel);
}

static void op_str(CPUState *c, const Insn *in)
{
    require_pmode(c);
    store_sel(c, in, c->seg[R_TR].sel);
}

static void op_smsw(CPUState *c, const Insn *in)
{
    store_sel(c, in, in->ops[0].kind == OPK_MEM ? c->cr0 & 0xffff : c->cr0);
}

static void op_lmsw(CPUState *c, const Insn *in)
{
    require_cpl0(c);
    uint32_t v = op_read(c, in, 0) & 0xf;
    /* LMSW can set PE but never clear it. */
    uint32_t cr0 = (c->cr0 & ~0xeu) | v | (c->cr0 & CR0_PE);
    cpu_set_cr0(c, cr0);
}

static void op_clts(CPUState *c, const Insn *in)
{
    require_cpl0(c);
    cpu_set_cr0(c, c->cr0 & ~CR0_TS);
}

static void op_invlpg(CPUState *c, const Insn *in)
{
    require_cpl0(c);
    uint32_t ea = mem_ea(c, in, 0);
    cpu_tlb_flush_page(c, c->seg[in->ops[0].seg].base + ea);
}

static void op_wbinvd(CPUState *c, const Insn *in) { require_cpl0(c); }

/* ---- control and debug registers (MOV to/from CRn, DRn) ---- */

void interp_mov_crdr(CPUState *c, const Insn *in)
{
    const InsnOperand *d = &in->ops[0], *s = &in->ops[1];
    bool to_ctl = d->kind == OPK_REG && (d->rclass == RC_CR ||
                                         d->rclass == RC_DR);
    const InsnOperand *ctl = to_ctl ? d : s, *gpr = to_ctl ? s : d;
    if (ctl->kind != OPK_REG || gpr->kind != OPK_REG ||
        gpr->rclass != RC_GPR)
        interp_ud(c);
    int n = ctl->reg;
    if (ctl->rclass == RC_CR) {
        if (n == 1 || n > 4)
            interp_ud(c);
        require_cpl0(c);
        if (!to_ctl) {
            uint32_t v = n == 0 ? c->cr0 : n == 2 ? c->cr2
                       : n == 3 ? c->cr3 : c->cr4;
            c->regs[gpr->reg] = v;
            return;
        }
        uint32_t v = c->regs[gpr->reg];
        switch (n) {
        case 0: cpu_set_cr0(c, v); break;
        case 2: c->cr2 = v; break;
        case 3: cpu_set_cr3(c, v); break;
        default: cpu_set_cr4(c, v); break;
        }
        return;
    }
    if (ctl->rclass != RC_DR)
        interp_ud(c);
    if ((n == 4 || n == 5) && (c->cr4 & CR4_DE))
        interp_ud(c);
    require_cpl0(c);
    if (n == 4 || n == 5)
        n += 2;
    if (c->dr[7] & 0x2000) {          /* DR7.GD: general detect */
        c->dr[6] |= 0x2000;
        c->dr[7] &= ~0x2000u;
        cpu_raise(c, EXC_DB, 0);
    }
    if (!to_ctl) {
        c->regs[gpr->reg] = c->dr[n];
        return;
    }
    uint32_t v = c->regs[gpr->reg];
    if (n == 6)
        v = (v & 0x0000e00f) | 0xffff0ff0;
    else if (n == 7)
        v = (v & ~0x0000d800u) | 0x400;
    c->dr[n] = v;
}

/* ---- segment loads through far pointers ---- */

static void load_far(CPUState *c, const Insn *in, int seg)
{
    const InsnOperand *o = &in->ops[1];
    if (o->kind != OPK_MEM)
        interp_ud(c);
    int sz = in->ops[0].size;
    uint32_t ea = insn_ea(c, in, o);
    uint32_t off = cpu_ld(c, o->seg, ea, sz);
    uint16_t sel = (uint16_t)cpu_ld(c, o->seg, ea_plus(in, ea, sz), 2);
    cpu_load_seg(c, seg, sel);
    reg_set(c, in->ops[0].reg, sz, off);
}

static void op_lds(CPUState *c, const Insn *in) { load_far(c, in, R_DS); }
static void op_les(CPUState *c, const Insn *in) { load_far(c, in, R_ES); }
static void op_lfs(CPUState *c, const Insn *in) { load_far(c, in, R_FS); }
static void op_lgs(CPUState *c, const Insn *in) { load_far(c, in, R_GS); }
static void op_lss(CPUState *c, const Insn *in) { load_far(c, in, R_SS); }

/* ---- protected-mode checks ---- */

static void set_zf(CPUState *c, bool z)
{
    uint32_t f = cc_arith(c) & ~EF_ZF;
    cc_set_arith(c, f | (z ? EF_ZF : 0));
}

static void op_lar(CPUState *c, const Insn *in)
{
    require_pmode(c);
    uint32_t v;
    uint16_t sel = (uint16_t)op_read(c, in, 1);
    bool ok = cpu_lar(c, sel, &v);
    if (ok)
        reg_set(c, in->ops[0].reg, in->ops[0].size, v);
    set_zf(c, ok);
}

static void op_lsl(CPUState *c, const Insn *in)
{
    require_pmode(c);
    uint32_t v;
    uint16_t sel = (uint16_t)op_read(c, in, 1);
    bool ok = cpu_lsl(c, sel, &v);
    if (ok)
        reg_set(c, in->ops[0].reg, in->ops[0].size, v);
    set_zf(c, ok);
}

static void op_verr(CPUState *c, const Insn *in)
{
    require_pmode(c);
    set_zf(c, cpu_verr(c, (uint16_t)op_read(c, in, 0)));
}

static void op_verw(CPUState *c, const Insn *in)
{
    require_pmode(c);
    set_zf(c, cpu_verw(c, (uint16_t)op_read(c, in, 0)));
}

static void op_arpl(CPUState *c, const Insn *in)
{
    require_pmode(c);
    uint32_t d = op_read(c, in, 0), s = op_read(c, in, 1);
    if ((d & 3) < (s & 3)) {
        op_write(c, in, 0, (d & ~3u) | (s & 3));
        set_zf(c, true);
    } else {
        set_zf(c, false);
    }
}

static void op_sysenter(CPUState *c, const Insn *in) { cpu_sysenter(c); }
static void op_sysexit(CPUState *c, const Insn *in) { cpu_sysexit(c); }

const InterpEntry interp_system_ops[] = {
    { OP_NOP, op_nop }, { OP_PAUSE, op_nop }, { OP_UD2, op_ud2 },
    { OP_HLT, op_hlt }, { OP_CLI, op_cli }, { OP_STI, op_sti },
    { OP_CPUID, op_cpuid }, { OP_RDTSC, op_rdtsc }, { OP_RDPMC, op_rdpmc },
    { OP_RDMSR, op_rdmsr }, { OP_WRMSR, op_wrmsr },
    { OP_LGDT, op_lgdt }, { OP_LIDT, op_lidt }, { OP_SGDT, op_sgdt },
    { OP_SIDT, op_sidt }, { OP_LLDT, op_lldt }, { OP_LTR, op_ltr },
    { OP_SLDT, op_sldt }, { OP_STR, op_str }, { OP_SMSW, op_smsw },
    { OP_LMSW, op_lmsw }, { OP_CLTS, op_clts }, { OP_INVLPG, op_invlpg },
    { OP_INVD, op_wbinvd }, { OP_WBINVD, op_wbinvd },
    { OP_LDS, op_lds }, { OP_LES, op_les }, { OP_LFS, op_lfs },
    { OP_LGS, op_lgs }, { OP_LSS, op_lss },
    { OP_LAR, op_lar }, { OP_LSL, op_lsl }, { OP_VERR, op_verr },
    { OP_VERW, op_verw }, { OP_ARPL, op_arpl },
    { OP_SYSENTER, op_sysenter }, { OP_SYSEXIT, op_sysexit },
    { 0, NULL }
};
