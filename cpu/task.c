/* Hardware task switches through a TSS (16- and 32-bit), reached by JMP,
 * CALL, INT (task gates in the IDT) and IRET with NT set. */
#include "cpu/cpu.h"

#define SEL_IDX(s) ((s) & 0xfffc)
#define BUSY 0x200u

/* Offsets of the 32-bit TSS fields. */
enum { T32_LINK = 0, T32_CR3 = 0x1c, T32_EIP = 0x20, T32_EFLAGS = 0x24,
       T32_REGS = 0x28, T32_SEGS = 0x48, T32_LDT = 0x60, T32_IOMAP = 0x66 };
/* And of the 16-bit TSS. */
enum { T16_LINK = 0, T16_IP = 0x0e, T16_FLAGS = 0x10, T16_REGS = 0x12,
       T16_SEGS = 0x22, T16_LDT = 0x2a };
/* 16-bit TSS holds ES CS SS DS only. */

static void set_busy(CPUState *c, uint16_t sel, bool busy)
{
    uint32_t lo, hi;
    if (!cpu_read_desc(c, sel, &lo, &hi))
        return;
    hi = busy ? hi | BUSY : hi & ~BUSY;
    cpu_write_desc_hi(c, sel, hi);
}

/* Loads a segment register of the incoming task; faults are #TS(sel). */
static void task_load_seg(CPUState *c, int seg, uint16_t sel)
{
    uint32_t lo, hi;
    SegCache *s = &c->seg[seg];
    if (cpu_vm86(c)) {
        cpu_set_seg_real(c, seg, sel);
        return;
    }
    if (SEL_IDX(sel) == 0) {
        if (seg == R_SS || seg == R_CS)
            cpu_raise(c, EXC_TS, 0);
        s->sel = sel;
        s->base = s->limit = s->flags = 0;
        return;
    }
    if (!cpu_read_desc(c, sel, &lo, &hi) || !((hi >> 12) & 1))
        cpu_raise(c, EXC_TS, SEL_IDX(sel));
    int type = (hi >> 8) & 15, dpl = (hi >> 13) & 3, rpl = sel & 3;
    bool code = type & 8;
    if (seg == R_CS) {
        if (!code || ((type & 4) ? dpl > rpl : dpl != rpl))
            cpu_raise(c, EXC_TS, SEL_IDX(sel));
    } else if (seg == R_SS) {
        if (code || !(type & 2) || dpl != c->cpl || rpl != c->cpl)
            cpu_raise(c, EXC_TS, SEL_IDX(sel));
    } else {
        if (code && !(type & 2))
            cpu_raise(c, EXC_TS, SEL_IDX(sel));
        if (!(code && (type & 4)) && (dpl < c->cpl || dpl < rpl))
            cpu_raise(c, EXC_TS, SEL_IDX(sel));
    }
    if (!((hi >> 15) & 1))
        cpu_raise(c, seg == R_SS ? EXC_SS : EXC_NP, SEL_IDX(sel));
    if (!(hi & 0x100)) {
        hi |= 0x100;
        cpu_write_desc_hi(c, sel, hi);
    }
    cpu_seg_from_desc(s, sel, lo, hi);
}

void cpu_task_switch(CPUState *c, uint16_t tss_sel, int reason, bool has_err,
                     uint32_t err, uint32_t next_eip)
{
    uint32_t lo, hi;
    if ((tss_sel & 4) || !cpu_read_desc(c, tss_sel, &lo, &hi))
        cpu_raise(c, reason == TS_IRET ? EXC_TS : EXC_GP, SEL_IDX(tss_sel));
    int type = (hi >> 8) & 31;        /* S + type */
    bool want_busy = reason == TS_IRET;
    if (type != (want_busy ? 3 : 1) && type != (want_busy ? 11 : 9))
        cpu_raise(c, reason == TS_IRET ? EXC_TS : EXC_GP, SEL_IDX(tss_sel));
    if (!((hi >> 15) & 1))
        cpu_raise(c, EXC_NP, SEL_IDX(tss_sel));
    SegCache ntr;
    cpu_seg_from_desc(&ntr, tss_sel, lo, hi);
    bool new32 = type & 8;
    if (ntr.limit < (new32 ? 0x67u : 0x2bu))
        cpu_raise(c, EXC_TS, SEL_IDX(tss_sel));

    /* Read the whole incoming state first: a fault here leaves the old
     * task untouched. */
    uint32_t nregs[8], nsegs[6] = { 0 }, neip, nfl, ncr3 = c->cr3, nldt;
    uint32_t b = ntr.base;
    if (new32) {
        ncr3 = cpu_ld_sys(c, b + T32_CR3, 4);
        neip = cpu_ld_sys(c, b + T32_EIP, 4);
        nfl = cpu_ld_sys(c, b + T32_EFLAGS, 4);
        for (int i = 0; i < 8; i++)
            nregs[i] = cpu_ld_sys(c, b + T32_REGS + 4 * i, 4);
        for (int i = 0; i < 6; i++)
            nsegs[i] = cpu_ld_sys(c, b + T32_SEGS + 4 * i, 2);
        nldt = cpu_ld_sys(c, b + T32_LDT, 2);
    } else {
        neip = cpu_ld_sys(c, b + T16_IP, 2);
        nfl = cpu_ld_sys(c, b + T16_FLAGS, 2);
        for (int i = 0; i < 8; i++)
            nregs[i] = cpu_ld_sys(c, b + T16_REGS + 2 * i, 2);
        for (int i = 0; i < 4; i++)
            nsegs[i] = cpu_ld_sys(c, b + T16_SEGS + 2 * i, 2);
        nldt = cpu_ld_sys(c, b + T16_LDT, 2);
    }

    /* Save the outgoing task. */
    const SegCache *otr = &c->seg[R_TR];
    bool old32 = SEGF_TYPE(otr->flags) & 8;
    uint32_t ob = otr->base;
    uint32_t ofl = cpu_get_eflags(c);
    if (reason == TS_IRET)
        ofl &= ~EF_NT;
    if (old32) {
        if (otr->limit < 0x67)
            cpu_raise(c, EXC_TS, SEL_IDX(otr->sel));
        cpu_st_sys(c, ob + T32_EIP, next_eip, 4);
        cpu_st_sys(c, ob + T32_EFLAGS, ofl, 4);
        for (int i = 0; i < 8; i++)
            cpu_st_sys(c, ob + T32_REGS + 4 * i, c->regs[i], 4);
        for (int i = 0; i < 6; i++)
            cpu_st_sys(c, ob + T32_SEGS + 4 * i, c->seg[i].sel, 2);
    } else {
        if (otr->limit < 0x2b)
            cpu_raise(c, EXC_TS, SEL_IDX(otr->sel));
        cpu_st_sys(c, ob + T16_IP, next_eip, 2);
        cpu_st_sys(c, ob + T16_FLAGS, ofl, 2);
        for (int i = 0; i < 8; i++)
            cpu_st_sys(c, ob + T16_REGS + 2 * i, c->regs[i], 2);
        for (int i = 0; i < 4; i++)
            cpu_st_sys(c, ob + T16_SEGS + 2 * i, c->seg[i].sel, 2);
    }
    uint16_t old_sel = otr->sel;
    if (reason == TS_JMP || reason == TS_IRET)
        set_busy(c, old_sel, false);
    if (reason == TS_CALL || reason == TS_INT) {
        cpu_st_sys(c, b + (new32 ? T32_LINK : T16_LINK), old_sel, 2);
        nfl |= EF_NT;
    }
    if (reason != TS_IRET)
        set_busy(c, tss_sel, true);
    ntr.flags |= BUSY;

    /* Switch. From here on faults belong to the new task. */
    c->seg[R_TR] = ntr;
    c->cr0 |= CR0_TS;
    if (new32 && (c->cr0 & CR0_PG))
        cpu_set_cr3(c, ncr3);
    /* A 16-bit TSS holds only the low words; the high words stay. */
    for (int i = 0; i < 8; i++)
        c->regs[i] = new32 ? nregs[i] : (c->regs[i] & 0xffff0000u) | nregs[i];
    cpu_set_eflags(c, nfl | EF_FIXED, new32 ? 0xffffffffu : 0xffff);
    c->eip = c->next_eip = neip;
    /* Selectors first so a fault reports the new task's values; caches
     * are then validated. */
    for (int i = 0; i < 6; i++)
        c->seg[i].sel = nsegs[i];
    c->cpl = cpu_vm86(c) ? 3 : (nsegs[R_CS] & 3);

    uint32_t llo, lhi;
    SegCache *ldt = &c->seg[R_LDTR];
    ldt->sel = nldt;
    ldt->base = ldt->limit = ldt->flags = 0;
    if (SEL_IDX(nldt)) {
        if ((nldt & 4) || !cpu_read_desc(c, nldt, &llo, &lhi) ||
            ((lhi >> 8) & 31) != 2)
            cpu_raise(c, EXC_TS, SEL_IDX(nldt));
        if (!((lhi >> 15) & 1))
            cpu_raise(c, EXC_TS, SEL_IDX(nldt));
        cpu_seg_from_desc(ldt, nldt, llo, lhi);
    }
    task_load_seg(c, R_CS, nsegs[R_CS]);
    task_load_seg(c, R_SS, nsegs[R_SS]);
    task_load_seg(c, R_ES, nsegs[R_ES]);
    task_load_seg(c, R_DS, nsegs[R_DS]);
    if (new32) {
        task_load_seg(c, R_FS, nsegs[R_FS]);
        task_load_seg(c, R_GS, nsegs[R_GS]);
    }

    if (has_err) {
        StackPtr s;
        cpu_stk_init(c, &s);
        cpu_stk_push(c, &s, err, new32 ? 4 : 2);
        cpu_stk_commit(c, &s);
    }
    if (c->eip > c->seg[R_CS].limit)
        cpu_raise(c, EXC_GP, 0);
}
