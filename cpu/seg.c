/* Segmentation: descriptor loads with their protection checks, far
 * control transfers across privilege levels, system-segment instructions,
 * SYSENTER/SYSEXIT and the I/O permission check. Hardware task switches
 * are in task.c. */
#include "cpu/cpu.h"

/* Descriptor high-dword fields. */
#define D_TYPE(hi)  (((hi) >> 8) & 15)
#define D_S(hi)     (((hi) >> 12) & 1)
#define D_DPL(hi)   ((int)(((hi) >> 13) & 3))
#define D_P(hi)     (((hi) >> 15) & 1)
#define D_CODE(hi)  (D_S(hi) && (D_TYPE(hi) & 8))
#define D_DATA(hi)  (D_S(hi) && !(D_TYPE(hi) & 8))
#define D_CONF(hi)  (D_CODE(hi) && (D_TYPE(hi) & 4))
#define D_READ(hi)  (D_DATA(hi) || (D_TYPE(hi) & 2))   /* for S=1 only */
#define D_WRITE(hi) (D_DATA(hi) && (D_TYPE(hi) & 2))
#define ACCESSED    0x100u

#define SEL_IDX(s)  ((s) & 0xfffc)
#define FLAGS_MASK  0x00f0ff00u

/* ---- descriptors ---- */

static bool desc_addr(CPUState *c, uint16_t sel, uint32_t *addr)
{
    const DescTable *t;
    DescTable ldt;
    if (sel & 4) {
        const SegCache *l = &c->seg[R_LDTR];
        if (!(l->flags & SEGF_P) || (l->sel & 0xfffc) == 0)
            return false;
        ldt.base = l->base;
        ldt.limit = l->limit;
        t = &ldt;
    } else {
        t = &c->gdt;
    }
    uint32_t off = sel & 0xfff8;
    if (off + 7 > t->limit)
        return false;
    *addr = t->base + off;
    return true;
}

bool cpu_read_desc(CPUState *c, uint16_t sel, uint32_t *lo, uint32_t *hi)
{
    uint32_t a;
    if (!desc_addr(c, sel, &a))
        return false;
    *lo = cpu_ld_sys(c, a, 4);
    *hi = cpu_ld_sys(c, a + 4, 4);
    return true;
}

void cpu_write_desc_hi(CPUState *c, uint16_t sel, uint32_t hi)
{
    uint32_t a;
    if (desc_addr(c, sel, &a))
        cpu_st_sys(c, a + 4, hi, 4);
}

void cpu_seg_from_desc(SegCache *s, uint16_t sel, uint32_t lo, uint32_t hi)
{
    uint32_t limit = (lo & 0xffff) | (hi & 0xf0000);
    if (hi & SEGF_G)
        limit = (limit << 12) | 0xfff;
    s->sel = sel;
    s->base = (lo >> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000u);
    s->limit = limit;
    s->flags = hi & FLAGS_MASK;
}

static void set_accessed(CPUState *c, uint16_t sel, uint32_t *hi)
{
    if (!(*hi & ACCESSED)) {
        *hi |= ACCESSED;
        cpu_write_desc_hi(c, sel, *hi);
    }
}

/* ---- real mode and v86 ---- */

void cpu_set_seg_real(CPUState *c, int seg, uint16_t sel)
{
    SegCache *s = &c->seg[seg];
    s->sel = sel;
    s->base = (uint32_t)sel << 4;
    if (cpu_vm86(c)) {
        s->limit = 0xffff;
        s->flags = SEGF_P | SEGF_S | (3 << 13) | ((seg == R_CS ? 11 : 3) << 8);
    } else if (!(s->flags & SEGF_P)) {
        /* Real mode keeps the cached limit and attributes (big real mode),
         * but a register nulled in protected mode becomes usable again. */
        s->flags = SEGF_P | SEGF_S | ((seg == R_CS ? 11 : 3) << 8);
    }
}

/* ---- protected-mode segment register loads ---- */

static void load_seg_pm(CPUState *c, int seg, uint16_t sel)
{
    uint32_t lo, hi;
    SegCache *s = &c->seg[seg];
    if (SEL_IDX(sel) == 0) {
        if (seg == R_SS)
            cpu_raise(c, EXC_GP, 0);
        s->sel = sel;
        s->base = 0;
        s->limit = 0;
        s->flags = 0;
        return;
    }
    if (!cpu_read_desc(c, sel, &lo, &hi))
        cpu_raise(c, EXC_GP, SEL_IDX(sel));
    int rpl = sel & 3, dpl = D_DPL(hi);
    if (seg == R_SS) {
        if (rpl != c->cpl || !D_WRITE(hi) || dpl != c->cpl)
            cpu_raise(c, EXC_GP, SEL_IDX(sel));
        if (!D_P(hi))
            cpu_raise(c, EXC_SS, SEL_IDX(sel));
    } else {
        if (!D_S(hi) || !D_READ(hi))
            cpu_raise(c, EXC_GP, SEL_IDX(sel));
        if (!D_CONF(hi) && (rpl > dpl || c->cpl > dpl))
            cpu_raise(c, EXC_GP, SEL_IDX(sel));
        if (!D_P(hi))
            cpu_raise(c, EXC_NP, SEL_IDX(sel));
    }
    set_accessed(c, sel, &hi);
    cpu_seg_from_desc(s, sel, lo, hi);
}

void cpu_load_seg(CPUState *c, int seg, uint16_t sel)
{
    if (!cpu_pe(c) || cpu_vm86(c))
        cpu_set_seg_real(c, seg, sel);
    else
        load_seg_pm(c, seg, sel);
}

/* After a return to an outer level, data registers the new CPL may not use
 * become null. */
static void validate_data_segs(CPUState *c)
{
    static const int segs[] = { R_ES, R_DS, R_FS, R_GS };
    for (int i = 0; i < 4; i++) {
        SegCache *s = &c->seg[segs[i]];
        uint32_t f = s->flags;
        if (!(f & SEGF_P))
            continue;
        bool conf_code = (f & SEGF_S) && (SEGF_TYPE(f) & 12) == 12;
        if (!conf_code && (int)SEGF_DPL(f) < c->cpl) {
            s->sel = 0;
            s->base = s->limit = s->flags = 0;
        }
    }
}

static void set_cs(CPUState *c, SegCache *cs, int cpl, uint32_t eip)
{
    cs->sel = (cs->sel & 0xfffc) | cpl;
    c->seg[R_CS] = *cs;
    c->cpl = cpl;
    c->eip = c->next_eip = eip;
}

/* A code segment reached by JMP/CALL directly (not through a gate). */
static void check_direct_code(CPUState *c, uint16_t sel, uint32_t hi)
{
    if (D_CONF(hi)) {
        if (D_DPL(hi) > c->cpl)
            cpu_raise(c, EXC_GP, SEL_IDX(sel));
    } else if ((sel & 3) > c->cpl || D_DPL(hi) != c->cpl) {
        cpu_raise(c, EXC_GP, SEL_IDX(sel));
    }
    if (!D_P(hi))
        cpu_raise(c, EXC_NP, SEL_IDX(sel));
}

/* The target code segment of a call gate. */
static void gate_target(CPUState *c, uint16_t tsel, bool is_jmp, uint32_t *tlo,
                        uint32_t *thi)
{
    if (SEL_IDX(tsel) == 0)
        cpu_raise(c, EXC_GP, 0);
    if (!cpu_read_desc(c, tsel, tlo, thi) || !D_CODE(*thi) ||
        D_DPL(*thi) > c->cpl || (is_jmp && !D_CONF(*thi) && D_DPL(*thi) != c->cpl))
        cpu_raise(c, EXC_GP, SEL_IDX(tsel));
    if (!D_P(*thi))
        cpu_raise(c, EXC_NP, SEL_IDX(tsel));
}

/* Checks on a system descriptor used as a far target (gate or TSS). */
static void check_sys_target(CPUState *c, uint16_t sel, uint32_t hi)
{
    if (D_DPL(hi) < c->cpl || D_DPL(hi) < (sel & 3))
        cpu_raise(c, EXC_GP, SEL_IDX(sel));
    if (!D_P(hi))
        cpu_raise(c, EXC_NP, SEL_IDX(sel));
}

static void far_pm(CPUState *c, uint16_t sel, uint32_t off, bool is_call,
                   bool op32, uint32_t next_eip)
{
    uint32_t lo, hi;
    if (SEL_IDX(sel) == 0)
        cpu_raise(c, EXC_GP, 0);
    if (!cpu_read_desc(c, sel, &lo, &hi))
        cpu_raise(c, EXC_GP, SEL_IDX(sel));

    if (D_CODE(hi)) {
        check_direct_code(c, sel, hi);
        SegCache cs;
        cpu_seg_from_desc(&cs, sel, lo, hi);
        if (off > cs.limit)
            cpu_raise(c, EXC_GP, 0);
        if (is_call) {
            StackPtr s;
            cpu_stk_init(c, &s);
            int sz = op32 ? 4 : 2;
            cpu_stk_push(c, &s, c->seg[R_CS].sel, sz);
            cpu_stk_push(c, &s, next_eip, sz);
            cpu_stk_commit(c, &s);
        }
        set_accessed(c, sel, &hi);
        cs.flags |= ACCESSED;
        set_cs(c, &cs, c->cpl, off);
        return;
    }
    if (D_S(hi))
        cpu_raise(c, EXC_GP, SEL_IDX(sel));

    int type = D_TYPE(hi);
    switch (type) {
    case 1: case 9:               /* available TSS */
        check_sys_target(c, sel, hi);
        cpu_task_switch(c, sel, is_call ? TS_CALL : TS_JMP, false, 0, next_eip);
        return;
    case 5: {                     /* task gate */
        check_sys_target(c, sel, hi);
        uint16_t tss = lo >> 16;
        uint32_t tlo, thi;
        if ((tss & 4) || !cpu_read_desc(c, tss, &tlo, &thi) || D_S(thi) ||
            (D_TYPE(thi) != 1 && D_TYPE(thi) != 9))
            cpu_raise(c, EXC_GP, SEL_IDX(tss));
        if (!D_P(thi))
            cpu_raise(c, EXC_NP, SEL_IDX(tss));
        cpu_task_switch(c, tss, is_call ? TS_CALL : TS_JMP, false, 0, next_eip);
        return;
    }
    case 4: case 12:              /* call gate */
        break;
    default:
        cpu_raise(c, EXC_GP, SEL_IDX(sel));
    }

    check_sys_target(c, sel, hi);
    bool gate32 = type == 12;
    int sz = gate32 ? 4 : 2;
    uint16_t tsel = lo >> 16;
    uint32_t goff = gate32 ? (hi & 0xffff0000u) | (lo & 0xffff) : lo & 0xffff;
    uint32_t tlo, thi;
    gate_target(c, tsel, !is_call, &tlo, &thi);
    SegCache cs;
    cpu_seg_from_desc(&cs, tsel, tlo, thi);
    int dpl = D_DPL(thi);

    if (is_call && !D_CONF(thi) && dpl < c->cpl) {
        /* Inner call: new stack from the TSS, copy the parameters. */
        const SegCache *tr = &c->seg[R_TR];
        bool tss32 = SEGF_TYPE(tr->flags) & 8;
        uint32_t toff = tss32 ? 4 + dpl * 8 : 2 + dpl * 4;
        if (toff + (tss32 ? 7 : 3) > tr->limit)
            cpu_raise(c, EXC_TS, SEL_IDX(tr->sel));
        uint32_t nesp = cpu_ld_sys(c, tr->base + toff, tss32 ? 4 : 2);
        uint16_t nss = cpu_ld_sys(c, tr->base + toff + (tss32 ? 4 : 2), 2);
        uint32_t slo, shi;
        if (SEL_IDX(nss) == 0)
            cpu_raise(c, EXC_TS, 0);
        if ((nss & 3) != dpl || !cpu_read_desc(c, nss, &slo, &shi) ||
            !D_WRITE(shi) || D_DPL(shi) != dpl)
            cpu_raise(c, EXC_TS, SEL_IDX(nss));
        if (!D_P(shi))
            cpu_raise(c, EXC_SS, SEL_IDX(nss));
        StackPtr ns, os;
        cpu_seg_from_desc(&ns.ss, nss, slo, shi);
        ns.esp = nesp;
        ns.user = dpl == 3;
        ns.err = SEL_IDX(nss);
        cpu_stk_init(c, &os);
        int count = hi & 31;
        cpu_stk_push(c, &ns, c->seg[R_SS].sel, sz);
        cpu_stk_push(c, &ns, c->regs[R_ESP], sz);
        for (int i = count - 1; i >= 0; i--) {
            StackPtr p = os;
            uint32_t off_i = (uint32_t)i * sz;
            p.esp = (os.ss.flags & SEGF_DB) ? os.esp + off_i
                    : (os.esp & 0xffff0000u) | ((os.esp + off_i) & 0xffff);
            cpu_stk_push(c, &ns, cpu_stk_pop(c, &p, sz), sz);
        }
        cpu_stk_push(c, &ns, c->seg[R_CS].sel, sz);
        cpu_stk_push(c, &ns, next_eip, sz);
        if (goff > cs.limit)
            cpu_raise(c, EXC_GP, 0);
        set_accessed(c, nss, &shi);
        ns.ss.flags |= ACCESSED;
        set_accessed(c, tsel, &thi);
        cs.flags |= ACCESSED;
        c->seg[R_SS] = ns.ss;
        c->regs[R_ESP] = ns.esp;
        set_cs(c, &cs, dpl, goff);
        return;
    }
    if (goff > cs.limit)
        cpu_raise(c, EXC_GP, 0);
    if (is_call) {
        StackPtr s;
        cpu_stk_init(c, &s);
        cpu_stk_push(c, &s, c->seg[R_CS].sel, sz);
        cpu_stk_push(c, &s, next_eip, sz);
        cpu_stk_commit(c, &s);
    }
    set_accessed(c, tsel, &thi);
    cs.flags |= ACCESSED;
    set_cs(c, &cs, c->cpl, goff);
}

void cpu_far_jmp(CPUState *c, uint16_t sel, uint32_t off, uint32_t next_eip)
{
    if (!cpu_pe(c) || cpu_vm86(c)) {
        if (off > c->seg[R_CS].limit)
            cpu_raise(c, EXC_GP, 0);
        cpu_set_seg_real(c, R_CS, sel);
        c->eip = c->next_eip = off;
        return;
    }
    far_pm(c, sel, off, false, true, next_eip);
}

void cpu_far_call(CPUState *c, uint16_t sel, uint32_t off, bool op32,
                  uint32_t next_eip)
{
    if (!cpu_pe(c) || cpu_vm86(c)) {
        int sz = op32 ? 4 : 2;
        StackPtr s;
        cpu_stk_init(c, &s);
        cpu_stk_push(c, &s, c->seg[R_CS].sel, sz);
        cpu_stk_push(c, &s, next_eip, sz);
        if (off > c->seg[R_CS].limit)
            cpu_raise(c, EXC_GP, 0);
        cpu_stk_commit(c, &s);
        cpu_set_seg_real(c, R_CS, sel);
        c->eip = c->next_eip = off;
        return;
    }
    far_pm(c, sel, off, true, op32, next_eip);
}

static void stk_add(CPUState *c, StackPtr *s, uint32_t n)
{
    if ((s->ss.flags & SEGF_DB) && cpu_pe(c))
        s->esp += n;
    else
        s->esp = (s->esp & 0xffff0000u) | ((s->esp + n) & 0xffff);
}

/* Checks the CS popped by RET/IRET in protected mode. */
static void return_cs(CPUState *c, uint16_t sel, SegCache *cs)
{
    uint32_t lo, hi;
    if (SEL_IDX(sel) == 0)
        cpu_raise(c, EXC_GP, 0);
    if (!cpu_read_desc(c, sel, &lo, &hi) || !D_CODE(hi))
        cpu_raise(c, EXC_GP, SEL_IDX(sel));
    int rpl = sel & 3;
    if (rpl < c->cpl || (D_CONF(hi) ? D_DPL(hi) > rpl : D_DPL(hi) != rpl))
        cpu_raise(c, EXC_GP, SEL_IDX(sel));
    if (!D_P(hi))
        cpu_raise(c, EXC_NP, SEL_IDX(sel));
    set_accessed(c, sel, &hi);
    cpu_seg_from_desc(cs, sel, lo, hi);
}

/* Checks the SS popped on a return to an outer level. */
static void return_ss(CPUState *c, uint16_t sel, int rpl, SegCache *ss)
{
    uint32_t lo, hi;
    if (SEL_IDX(sel) == 0)
        cpu_raise(c, EXC_GP, 0);
    if ((sel & 3) != rpl || !cpu_read_desc(c, sel, &lo, &hi) ||
        !D_WRITE(hi) || D_DPL(hi) != rpl)
        cpu_raise(c, EXC_GP, SEL_IDX(sel));
    if (!D_P(hi))
        cpu_raise(c, EXC_SS, SEL_IDX(sel));
    set_accessed(c, sel, &hi);
    cpu_seg_from_desc(ss, sel, lo, hi);
}

void cpu_far_ret(CPUState *c, bool op32, uint16_t imm)
{
    int sz = op32 ? 4 : 2;
    StackPtr s;
    cpu_stk_init(c, &s);
    uint32_t eip = cpu_stk_pop(c, &s, sz);
    uint16_t sel = cpu_stk_pop(c, &s, sz);
    if (!cpu_pe(c) || cpu_vm86(c)) {
        if (eip > c->seg[R_CS].limit)
            cpu_raise(c, EXC_GP, 0);
        stk_add(c, &s, imm);
        cpu_stk_commit(c, &s);
        cpu_set_seg_real(c, R_CS, sel);
        c->eip = c->next_eip = eip;
        return;
    }
    SegCache cs;
    return_cs(c, sel, &cs);
    int rpl = sel & 3;
    stk_add(c, &s, imm);
    if (rpl == c->cpl) {
        if (eip > cs.limit)
            cpu_raise(c, EXC_GP, 0);
        cpu_stk_commit(c, &s);
        set_cs(c, &cs, rpl, eip);
        return;
    }
    uint32_t esp = cpu_stk_pop(c, &s, sz);
    uint16_t ss_sel = cpu_stk_pop(c, &s, sz);
    SegCache ss;
    return_ss(c, ss_sel, rpl, &ss);
    if (eip > cs.limit)
        cpu_raise(c, EXC_GP, 0);
    c->seg[R_SS] = ss;
    s.ss = ss;
    s.esp = (ss.flags & SEGF_DB) ? esp : (c->regs[R_ESP] & 0xffff0000u) | (esp & 0xffff);
    stk_add(c, &s, imm);
    c->regs[R_ESP] = s.esp;
    set_cs(c, &cs, rpl, eip);
    validate_data_segs(c);
}

#define IRET_BASE (EF_CF | EF_PF | EF_AF | EF_ZF | EF_SF | EF_TF | EF_DF | \
                   EF_OF | EF_NT | EF_RF | EF_AC | EF_ID)

static void iret_to_v86(CPUState *c, StackPtr *s, uint32_t eip, uint16_t cs,
                        uint32_t fl)
{
    uint32_t esp = cpu_stk_pop(c, s, 4);
    uint16_t ss = cpu_stk_pop(c, s, 4);
    uint16_t es = cpu_stk_pop(c, s, 4);
    uint16_t ds = cpu_stk_pop(c, s, 4);
    uint16_t fs = cpu_stk_pop(c, s, 4);
    uint16_t gs = cpu_stk_pop(c, s, 4);
    cpu_set_eflags(c, fl | EF_FIXED, 0xffffffffu);
    c->eflags |= EF_VM;
    c->cpl = 3;
    cpu_set_seg_real(c, R_CS, cs);
    cpu_set_seg_real(c, R_SS, ss);
    cpu_set_seg_real(c, R_ES, es);
    cpu_set_seg_real(c, R_DS, ds);
    cpu_set_seg_real(c, R_FS, fs);
    cpu_set_seg_real(c, R_GS, gs);
    c->regs[R_ESP] = esp;
    c->eip = c->next_eip = eip & 0xffff;
}

void cpu_iret(CPUState *c, bool op32)
{
    int sz = op32 ? 4 : 2;
    StackPtr s;
    c->nmi_blocked = false;

    if (!cpu_pe(c) || cpu_vm86(c)) {
        uint32_t mask;
        if (cpu_vm86(c)) {
            if (((c->eflags & EF_IOPL) >> 12) < 3)
                cpu_raise(c, EXC_GP, 0);
            mask = IRET_BASE | EF_IF;
        } else {
            mask = IRET_BASE | EF_IF | EF_IOPL;
        }
        if (!op32)
            mask &= 0xffff;
        cpu_stk_init(c, &s);
        uint32_t eip = cpu_stk_pop(c, &s, sz);
        uint16_t sel = cpu_stk_pop(c, &s, sz);
        uint32_t fl = cpu_stk_pop(c, &s, sz);
        if (eip > c->seg[R_CS].limit)
            cpu_raise(c, EXC_GP, 0);
        cpu_stk_commit(c, &s);
        cpu_set_seg_real(c, R_CS, sel);
        cpu_set_eflags(c, fl, mask);
        c->eip = c->next_eip = eip;
        return;
    }

    if (c->eflags & EF_NT) {
        const SegCache *tr = &c->seg[R_TR];
        uint16_t link = cpu_ld_sys(c, tr->base, 2);
        cpu_task_switch(c, link, TS_IRET, false, 0, c->next_eip);
        return;
    }

    cpu_stk_init(c, &s);
    uint32_t eip = cpu_stk_pop(c, &s, sz);
    uint16_t sel = cpu_stk_pop(c, &s, sz);
    uint32_t fl = cpu_stk_pop(c, &s, sz);
    if (op32 && (fl & EF_VM) && c->cpl == 0) {
        iret_to_v86(c, &s, eip, sel, fl);
        return;
    }
    SegCache cs;
    return_cs(c, sel, &cs);
    int rpl = sel & 3;
    int iopl = (c->eflags & EF_IOPL) >> 12;
    uint32_t mask = IRET_BASE;
    if (c->cpl <= iopl)
        mask |= EF_IF;
    if (c->cpl == 0)
        mask |= EF_IOPL | EF_VIF | EF_VIP;
    if (!op32)
        mask &= 0xffff;

    if (rpl == c->cpl) {
        if (eip > cs.limit)
            cpu_raise(c, EXC_GP, 0);
        cpu_stk_commit(c, &s);
        set_cs(c, &cs, rpl, eip);
        cpu_set_eflags(c, fl, mask);
        return;
    }
    uint32_t esp = cpu_stk_pop(c, &s, sz);
    uint16_t ss_sel = cpu_stk_pop(c, &s, sz);
    SegCache ss;
    return_ss(c, ss_sel, rpl, &ss);
    if (eip > cs.limit)
        cpu_raise(c, EXC_GP, 0);
    c->seg[R_SS] = ss;
    c->regs[R_ESP] = (ss.flags & SEGF_DB) ? esp
                     : (c->regs[R_ESP] & 0xffff0000u) | (esp & 0xffff);
    cpu_set_eflags(c, fl, mask);
    set_cs(c, &cs, rpl, eip);
    validate_data_segs(c);
}

/* ---- LDTR, TR and the descriptor-inspecting instructions ---- */

void cpu_lldt(CPUState *c, uint16_t sel)
{
    uint32_t lo, hi;
    SegCache *l = &c->seg[R_LDTR];
    if (SEL_IDX(sel) == 0) {
        l->sel = sel;
        l->base = l->limit = l->flags = 0;
        return;
    }
    if ((sel & 4) || !cpu_read_desc(c, sel, &lo, &hi) || D_S(hi) ||
        D_TYPE(hi) != 2)
        cpu_raise(c, EXC_GP, SEL_IDX(sel));
    if (!D_P(hi))
        cpu_raise(c, EXC_NP, SEL_IDX(sel));
    cpu_seg_from_desc(l, sel, lo, hi);
}

void cpu_ltr(CPUState *c, uint16_t sel)
{
    uint32_t lo, hi;
    if (SEL_IDX(sel) == 0)
        cpu_raise(c, EXC_GP, 0);
    if ((sel & 4) || !cpu_read_desc(c, sel, &lo, &hi) || D_S(hi) ||
        (D_TYPE(hi) != 1 && D_TYPE(hi) != 9))
        cpu_raise(c, EXC_GP, SEL_IDX(sel));
    if (!D_P(hi))
        cpu_raise(c, EXC_NP, SEL_IDX(sel));
    hi |= 0x200;                       /* busy */
    cpu_write_desc_hi(c, sel, hi);
    cpu_seg_from_desc(&c->seg[R_TR], sel, lo, hi);
}

/* Common visibility rule of LAR/LSL/VERR/VERW. */
static bool visible(CPUState *c, uint16_t sel, uint32_t hi)
{
    if (D_CONF(hi))
        return true;
    return D_DPL(hi) >= c->cpl && D_DPL(hi) >= (sel & 3);
}

/* System types LAR accepts (bit per type); LSL accepts those with a limit. */
#define LAR_SYS_TYPES 0x1a3eu   /* 1,2,3,4,5,9,11,12 */
#define LSL_SYS_TYPES 0x0a0eu   /* 1,2,3,9,11 */

bool cpu_lar(CPUState *c, uint16_t sel, uint32_t *out)
{
    uint32_t lo, hi;
    if (SEL_IDX(sel) == 0 || !cpu_read_desc(c, sel, &lo, &hi))
        return false;
    if (!D_S(hi) && !((LAR_SYS_TYPES >> D_TYPE(hi)) & 1))
        return false;
    if (!visible(c, sel, hi))
        return false;
    *out = hi & 0x00f0ff00u;
    return true;
}

bool cpu_lsl(CPUState *c, uint16_t sel, uint32_t *out)
{
    uint32_t lo, hi;
    if (SEL_IDX(sel) == 0 || !cpu_read_desc(c, sel, &lo, &hi))
        return false;
    if (!D_S(hi) && !((LSL_SYS_TYPES >> D_TYPE(hi)) & 1))
        return false;
    if (!visible(c, sel, hi))
        return false;
    SegCache s;
    cpu_seg_from_desc(&s, sel, lo, hi);
    *out = s.limit;
    return true;
}

bool cpu_verr(CPUState *c, uint16_t sel)
{
    uint32_t lo, hi;
    if (SEL_IDX(sel) == 0 || !cpu_read_desc(c, sel, &lo, &hi) || !D_S(hi))
        return false;
    return D_READ(hi) && visible(c, sel, hi);
}

bool cpu_verw(CPUState *c, uint16_t sel)
{
    uint32_t lo, hi;
    if (SEL_IDX(sel) == 0 || !cpu_read_desc(c, sel, &lo, &hi) || !D_S(hi))
        return false;
    return D_WRITE(hi) && visible(c, sel, hi);
}

/* ---- SYSENTER / SYSEXIT ---- */

static void flat_seg(SegCache *s, uint16_t sel, int dpl, int type)
{
    s->sel = sel;
    s->base = 0;
    s->limit = 0xffffffffu;
    s->flags = SEGF_P | SEGF_S | SEGF_DB | SEGF_G | (dpl << 13) | (type << 8);
}

void cpu_sysenter(CPUState *c)
{
    if (!cpu_pe(c) || (c->sysenter_cs & 0xfffc) == 0)
        cpu_raise(c, EXC_GP, 0);
    uint16_t cs = c->sysenter_cs & 0xfffc;
    c->eflags &= ~(EF_VM | EF_IF | EF_RF);
    flat_seg(&c->seg[R_CS], cs, 0, 11);
    flat_seg(&c->seg[R_SS], cs + 8, 0, 3);
    c->cpl = 0;
    c->regs[R_ESP] = c->sysenter_esp;
    c->eip = c->next_eip = c->sysenter_eip;
}

void cpu_sysexit(CPUState *c)
{
    if (!cpu_pe(c) || cpu_vm86(c) || c->cpl != 0 ||
        (c->sysenter_cs & 0xfffc) == 0)
        cpu_raise(c, EXC_GP, 0);
    uint16_t cs = c->sysenter_cs & 0xfffc;
    flat_seg(&c->seg[R_CS], (cs + 16) | 3, 3, 11);
    flat_seg(&c->seg[R_SS], (cs + 24) | 3, 3, 3);
    c->cpl = 3;
    c->regs[R_ESP] = c->regs[R_ECX];
    c->eip = c->next_eip = c->regs[R_EDX];
}

/* ---- I/O permission ---- */

void cpu_check_io(CPUState *c, uint16_t port, int size)
{
    if (!cpu_pe(c))
        return;
    int iopl = (c->eflags & EF_IOPL) >> 12;
    if (!cpu_vm86(c) && c->cpl <= iopl)
        return;
    /* Consult the I/O permission bitmap of a 32-bit TSS. */
    const SegCache *tr = &c->seg[R_TR];
    if (!(tr->flags & SEGF_P) || !(SEGF_TYPE(tr->flags) & 8) || tr->limit < 0x67)
        cpu_raise(c, EXC_GP, 0);
    uint32_t base = cpu_ld_sys(c, tr->base + 0x66, 2);
    uint32_t off = base + (port >> 3);
    if (off + 1 > tr->limit)
        cpu_raise(c, EXC_GP, 0);
    uint32_t bits = cpu_ld_sys(c, tr->base + off, 2);
    uint32_t want = ((1u << size) - 1) << (port & 7);
    if (bits & want)
        cpu_raise(c, EXC_GP, 0);
}
