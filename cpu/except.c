/* Exceptions and interrupt delivery in real, protected and virtual-8086
 * mode, with the double- and triple-fault rules. */
#include "cpu/cpu.h"
#include "debug/trace.h"

/* Vectors that push an error code in protected mode. */
static bool has_error_code(int vec)
{
    return vec == EXC_DF || (vec >= EXC_TS && vec <= EXC_PF) || vec == EXC_AC;
}

/* The SDM's exception classes for the double-fault decision. */
static bool contributory(int vec)
{
    return vec == EXC_DE || (vec >= EXC_TS && vec <= EXC_GP);
}

_Noreturn void cpu_raise(CPUState *c, int vec, uint32_t err)
{
    if (c->exc_depth > 0) {
        /* A fault while delivering an earlier event. */
        int prev = c->exc_vec;
        if (prev == EXC_DF) {
            c->exc_depth = 0;
            c->exc_vec = -1;
            /* Shutdown: the board resets the machine or ends the run
             * (-no-reboot); either way cpu_exec returns to it first. */
            if (c->on_triple_fault) {
                c->on_triple_fault(c->board_opaque);
                c->interrupt_request |= CPU_INT_EXIT;
            } else {
                c->interrupt_request |= CPU_INT_RESET;
            }
            longjmp(c->jmp_env, 1);
        }
        if ((contributory(prev) && contributory(vec)) ||
            (prev == EXC_PF && (contributory(vec) || vec == EXC_PF))) {
            vec = EXC_DF;
            err = 0;
        }
    }
    c->exc_depth++;
    c->exc_vec = vec;
    cpu_interrupt(c, vec, INTK_EXC, has_error_code(vec), err, c->eip);
    c->exc_depth = 0;
    c->exc_vec = -1;
    longjmp(c->jmp_env, 1);
}

_Noreturn void cpu_raise_pf(CPUState *c, uint32_t lin, uint32_t err)
{
    c->cr2 = lin;
    cpu_raise(c, EXC_PF, err);
}

/* ---- stacks under construction ---- */

void cpu_stk_init(CPUState *c, StackPtr *s)
{
    s->ss = c->seg[R_SS];
    s->esp = c->regs[R_ESP];
    s->user = c->cpl == 3;
    s->err = 0;
}

static bool stk_big(CPUState *c, const StackPtr *s)
{
    return (s->ss.flags & SEGF_DB) && cpu_pe(c);
}

static uint32_t stk_check(CPUState *c, StackPtr *s, uint32_t off, int size)
{
    const SegCache *ss = &s->ss;
    uint64_t last = (uint64_t)off + size - 1;
    bool expand_down = cpu_pe(c) && !(SEGF_TYPE(ss->flags) & 8) &&
                       (SEGF_TYPE(ss->flags) & 4);
    if (expand_down) {
        uint64_t top = (ss->flags & SEGF_DB) ? 0xffffffffull : 0xffffull;
        if (off <= ss->limit || last > top)
            cpu_raise(c, EXC_SS, s->err);
    } else if (last > ss->limit) {
        cpu_raise(c, EXC_SS, s->err);
    }
    return ss->base + off;
}

void cpu_stk_push(CPUState *c, StackPtr *s, uint32_t val, int size)
{
    uint32_t esp = s->esp - size;
    if (!stk_big(c, s))
        esp = (s->esp & 0xffff0000u) | (esp & 0xffff);
    uint32_t off = stk_big(c, s) ? esp : (esp & 0xffff);
    uint32_t lin = stk_check(c, s, off, size);
    cpu_st_priv(c, lin, val, size, s->user);
    s->esp = esp;
}

uint32_t cpu_stk_pop(CPUState *c, StackPtr *s, int size)
{
    uint32_t off = stk_big(c, s) ? s->esp : (s->esp & 0xffff);
    uint32_t lin = stk_check(c, s, off, size);
    uint32_t v = cpu_ld_priv(c, lin, size, s->user);
    if (stk_big(c, s))
        s->esp += size;
    else
        s->esp = (s->esp & 0xffff0000u) | ((s->esp + size) & 0xffff);
    return v;
}

void cpu_stk_commit(CPUState *c, const StackPtr *s)
{
    c->regs[R_ESP] = s->esp;
}

/* ---- delivery ---- */

static void real_mode_interrupt(CPUState *c, int vec, uint32_t next_eip)
{
    if ((uint32_t)vec * 4 + 3 > c->idt.limit)
        cpu_raise(c, EXC_GP, vec * 8 + 2);
    uint32_t ent = cpu_ld_sys(c, c->idt.base + vec * 4, 4);
    StackPtr s;
    cpu_stk_init(c, &s);
    cpu_stk_push(c, &s, cpu_get_eflags(c) & 0xffff, 2);
    cpu_stk_push(c, &s, c->seg[R_CS].sel, 2);
    cpu_stk_push(c, &s, next_eip & 0xffff, 2);
    cpu_stk_commit(c, &s);
    c->eflags &= ~(EF_IF | EF_TF | EF_AC | EF_RF);
    cpu_set_seg_real(c, R_CS, ent >> 16);
    c->eip = c->next_eip = ent & 0xffff;
}

/* Validates the interrupt target code segment; error codes carry EXT. */
static void load_target_cs(CPUState *c, uint16_t sel, int ext, SegCache *cs)
{
    uint32_t lo, hi;
    if ((sel & 0xfffc) == 0)
        cpu_raise(c, EXC_GP, ext);
    if (!cpu_read_desc(c, sel, &lo, &hi))
        cpu_raise(c, EXC_GP, (sel & 0xfffc) | ext);
    uint32_t type = (hi >> 8) & 0x1f;        /* S + type */
    if ((type & 0x18) != 0x18 || ((hi >> 13) & 3) > (uint32_t)c->cpl)
        cpu_raise(c, EXC_GP, (sel & 0xfffc) | ext);
    if (!(hi & SEGF_P))
        cpu_raise(c, EXC_NP, (sel & 0xfffc) | ext);
    cpu_seg_from_desc(cs, sel, lo, hi);
}

/* SS:ESP for privilege level dpl from the current TSS. */
static void tss_stack(CPUState *c, int dpl, uint16_t *ss, uint32_t *esp)
{
    const SegCache *tr = &c->seg[R_TR];
    bool tss32 = SEGF_TYPE(tr->flags) & 8;
    uint32_t off = tss32 ? 4 + dpl * 8 : 2 + dpl * 4;
    uint32_t len = tss32 ? 8 : 4;
    if (!(tr->flags & SEGF_P) || off + len - 1 > tr->limit)
        cpu_raise(c, EXC_TS, tr->sel & 0xfffc);
    if (tss32) {
        *esp = cpu_ld_sys(c, tr->base + off, 4);
        *ss = cpu_ld_sys(c, tr->base + off + 4, 2);
    } else {
        *esp = cpu_ld_sys(c, tr->base + off, 2);
        *ss = cpu_ld_sys(c, tr->base + off + 2, 2);
    }
}

/* Validates the inner stack for a privilege change to dpl (#TS rules). */
static void load_inner_ss(CPUState *c, uint16_t sel, int dpl, int ext,
                          SegCache *ss)
{
    uint32_t lo, hi;
    if ((sel & 0xfffc) == 0)
        cpu_raise(c, EXC_TS, ext);
    if ((sel & 3) != dpl || !cpu_read_desc(c, sel, &lo, &hi))
        cpu_raise(c, EXC_TS, (sel & 0xfffc) | ext);
    uint32_t type = (hi >> 8) & 0x1f;
    /* Writable data segment with DPL equal to the new CPL. */
    if ((type & 0x1a) != 0x12 || (int)((hi >> 13) & 3) != dpl)
        cpu_raise(c, EXC_TS, (sel & 0xfffc) | ext);
    if (!(hi & SEGF_P))
        cpu_raise(c, EXC_SS, (sel & 0xfffc) | ext);
    cpu_seg_from_desc(ss, sel, lo, hi);
}

static void null_seg(SegCache *s)
{
    s->sel = 0;
    s->base = 0;
    s->limit = 0;
    s->flags = 0;
}

static void protected_interrupt(CPUState *c, int vec, int kind, bool has_err,
                                uint32_t err, uint32_t next_eip)
{
    int ext = kind == INTK_SOFT ? 0 : 1;
    uint32_t gerr = vec * 8 + 2 + ext;
    bool vm = cpu_vm86(c);

    if (vm && kind == INTK_SOFT && ((c->eflags & EF_IOPL) >> 12) < 3)
        cpu_raise(c, EXC_GP, 0);
    if ((uint32_t)vec * 8 + 7 > c->idt.limit)
        cpu_raise(c, EXC_GP, gerr);
    uint32_t lo = cpu_ld_sys(c, c->idt.base + vec * 8, 4);
    uint32_t hi = cpu_ld_sys(c, c->idt.base + vec * 8 + 4, 4);
    int gtype = (hi >> 8) & 0x1f;        /* S must be 0 */
    int gdpl = (hi >> 13) & 3;
    if (gtype != 5 && gtype != 6 && gtype != 7 && gtype != 14 && gtype != 15)
        cpu_raise(c, EXC_GP, gerr);
    if (kind == INTK_SOFT && gdpl < c->cpl)
        cpu_raise(c, EXC_GP, gerr);
    if (!(hi & SEGF_P))
        cpu_raise(c, EXC_NP, gerr);

    if (gtype == 5) {
        cpu_task_switch(c, lo >> 16, TS_INT, has_err, err, next_eip);
        return;
    }

    bool gate32 = gtype & 8;
    int sz = gate32 ? 4 : 2;
    uint32_t off = gate32 ? (hi & 0xffff0000u) | (lo & 0xffff) : lo & 0xffff;
    SegCache cs;
    load_target_cs(c, lo >> 16, ext, &cs);
    int dpl = SEGF_DPL(cs.flags);
    bool conforming = SEGF_TYPE(cs.flags) & 4;
    uint32_t eflags = cpu_get_eflags(c);
    StackPtr s;

    if (!conforming && dpl < c->cpl) {
        uint16_t ss_sel;
        uint32_t esp;
        if (vm && dpl != 0)
            cpu_raise(c, EXC_GP, (cs.sel & 0xfffc) | ext);
        tss_stack(c, dpl, &ss_sel, &esp);
        load_inner_ss(c, ss_sel, dpl, ext, &s.ss);
        s.esp = esp;
        s.user = dpl == 3;
        s.err = (ss_sel & 0xfffc) | ext;
        if (vm) {
            cpu_stk_push(c, &s, c->seg[R_GS].sel, sz);
            cpu_stk_push(c, &s, c->seg[R_FS].sel, sz);
            cpu_stk_push(c, &s, c->seg[R_DS].sel, sz);
            cpu_stk_push(c, &s, c->seg[R_ES].sel, sz);
        }
        cpu_stk_push(c, &s, c->seg[R_SS].sel, sz);
        cpu_stk_push(c, &s, c->regs[R_ESP], sz);
    } else if (conforming || dpl == c->cpl) {
        if (vm)
            cpu_raise(c, EXC_GP, (cs.sel & 0xfffc) | ext);
        cpu_stk_init(c, &s);
        dpl = c->cpl;
    } else {
        cpu_raise(c, EXC_GP, (cs.sel & 0xfffc) | ext);
    }
    cpu_stk_push(c, &s, eflags, sz);
    cpu_stk_push(c, &s, c->seg[R_CS].sel, sz);
    cpu_stk_push(c, &s, next_eip, sz);
    if (has_err)
        cpu_stk_push(c, &s, err, sz);
    if (off > cs.limit)
        cpu_raise(c, EXC_GP, ext);

    /* Commit: nothing above changed a register. */
    if (vm) {
        null_seg(&c->seg[R_ES]);
        null_seg(&c->seg[R_DS]);
        null_seg(&c->seg[R_FS]);
        null_seg(&c->seg[R_GS]);
    }
    if (dpl != c->cpl || vm)
        c->seg[R_SS] = s.ss;
    c->regs[R_ESP] = s.esp;
    cs.sel = (cs.sel & 0xfffc) | dpl;
    c->seg[R_CS] = cs;
    c->cpl = dpl;
    c->eflags &= ~(EF_TF | EF_NT | EF_RF | EF_VM);
    if (!(gtype & 1))
        c->eflags &= ~EF_IF;
    c->eip = c->next_eip = off;
}

/* -d int: one line per delivery, in the spirit of QEMU's, with the state
 * the handler will see pushed (CS:EIP of the faulting or next instruction). */
static void trace_interrupt(CPUState *c, int vec, int kind, bool has_err,
                            uint32_t err, uint32_t next_eip)
{
    static const char *const kinds[] = { "exception", "int", "irq", "icebp" };
    uint32_t eip = kind == INTK_EXC ? c->eip : next_eip;
    char errs[24] = "";
    if (has_err)
        snprintf(errs, sizeof errs, " err=%04x", err);
    kestrel_log("int: %s v=%02x%s cpl=%d %s=%04x:%08x esp=%08x eflags=%08x"
                " cr2=%08x cr3=%08x icount=%llu\n",
                kind >= 0 && kind < 4 ? kinds[kind] : "?", vec, errs, c->cpl,
                kind == INTK_EXC ? "at" : "ret", c->seg[R_CS].sel, eip,
                c->regs[R_ESP], cpu_get_eflags(c), c->cr2, c->cr3,
                (unsigned long long)c->icount);
}

void cpu_interrupt(CPUState *c, int vec, int kind, bool has_err, uint32_t err,
                   uint32_t next_eip)
{
    c->halted = false;
    if (c->trace_flags & TRACE_INT)
        trace_interrupt(c, vec, kind, has_err, err, next_eip);
    if (!cpu_pe(c))
        real_mode_interrupt(c, vec, next_eip);
    else
        protected_interrupt(c, vec, kind, has_err, err, next_eip);
}
