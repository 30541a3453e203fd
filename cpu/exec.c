/* The CPU's life cycle and run loop (the dispatcher: decide what runs next,
 * an interrupt, the interpreter or, later, a translated block). */
#include <stdlib.h>
#include <string.h>
#include "cpu/cpu.h"
#include "cpu/translate.h"

/* CPUID leaf 1 EAX; also EDX after RESET (cpu/cpuid.c uses the same). */
extern const uint32_t cpu_signature;

CPUState *cpu_new(Bus *bus)
{
    CPUState *c = calloc(1, sizeof(*c));
    if (!c)
        abort();
    c->bus = bus;
    c->accel = ACCEL_INTERP;
    cpu_reset(c);
    return c;
}

void cpu_free(CPUState *c)
{
    tcg_cpu_free(c);
    interp_free_cache(c);
    free(c);
}

static void seg_init(SegCache *s, uint16_t sel, uint32_t base, uint32_t type)
{
    s->sel = sel;
    s->base = base;
    s->limit = 0xffff;
    s->flags = (type << 8) | SEGF_S | SEGF_P;
}

void cpu_reset(CPUState *c)
{
    /* Everything the manual lists as 0 at RESET is 0 here too. */
    memset(c->regs, 0, sizeof(c->regs));
    c->regs[R_EDX] = cpu_signature;
    c->eip = c->next_eip = 0xfff0;
    c->cc_op = 0;
    c->cc_dst = c->cc_src = c->cc_src2 = 0;
    c->eflags = EF_FIXED;
    cpu_set_eflags(c, EF_FIXED, 0xffffffffu);

    for (int i = R_ES; i <= R_GS; i++)
        seg_init(&c->seg[i], 0, 0, 3);          /* data RW accessed */
    seg_init(&c->seg[R_CS], 0xf000, 0xffff0000u, 11);  /* code RX acc. */
    c->seg[R_LDTR] = (SegCache){ .limit = 0xffff, .flags = SEGF_P | (2 << 8) };
    c->seg[R_TR] = (SegCache){ .limit = 0xffff, .flags = SEGF_P | (11 << 8) };
    c->gdt = c->idt = (DescTable){ 0, 0xffff };
    c->cr0 = 0x60000010;
    c->cr2 = c->cr3 = c->cr4 = 0;
    c->efer = 0;
    memset(c->dr, 0, sizeof(c->dr));
    c->dr[6] = 0xffff0ff0;
    c->dr[7] = 0x00000400;
    memset(c->dbg_seen, 0, sizeof(c->dbg_seen));
    c->dbg_hits = 0;
    c->dbg_data = false;
    c->cpl = 0;

    memset(&c->fpu, 0, sizeof(c->fpu));
    c->fpu.fcw = 0x0040;
    c->fpu.ftw = 0x5555;
    c->mxcsr = 0x1f80;
    memset(c->xmm, 0, sizeof(c->xmm));

    c->tsc_offset = 0;
    c->tsc_offset = -cpu_rdtsc(c);
    c->sysenter_cs = c->sysenter_esp = c->sysenter_eip = 0;
    c->apic_base = 0xfee00000u | 0x800 | 0x100;   /* enabled, BSP */
    c->pat = 0x0007040600070406ull;
    c->mtrr_cap = 0x508;            /* 8 variable ranges, fixed, WC */
    c->mtrr_def_type = 0;
    memset(c->mtrr_fixed, 0, sizeof(c->mtrr_fixed));
    memset(c->mtrr_var, 0, sizeof(c->mtrr_var));
    c->misc_enable = 1;             /* fast strings */

    cpu_tlb_flush(c, true);
    c->interrupt_request &= ~(CPU_INT_RESET | CPU_INT_NMI | CPU_INT_SMI |
                              CPU_INT_INIT);
    c->halted = false;
    c->inhibit_irq = false;
    c->nmi_blocked = false;
    c->exc_depth = 0;
    c->exc_vec = -1;
}

void cpu_set_irq(CPUState *c, bool level)
{
    if (level)
        c->interrupt_request |= CPU_INT_HARD;
    else
        c->interrupt_request &= ~CPU_INT_HARD;
}

void cpu_request_exit(CPUState *c)
{
    c->interrupt_request |= CPU_INT_EXIT;
}

/* Pending events before the next instruction. Returns -1 to go on running,
 * or an EXEC_* reason to leave cpu_exec. */
static int service_events(CPUState *c)
{
    uint32_t req = c->interrupt_request;
    if (req & CPU_INT_RESET) {
        cpu_reset(c);
        return EXEC_RESET;
    }
    if (req & CPU_INT_EXIT) {
        c->interrupt_request &= ~CPU_INT_EXIT;
        return EXEC_EXIT_REQ;
    }
    if (req & (CPU_INT_SMI | CPU_INT_INIT)) {
        /* No SMM and a single CPU: nothing to do but not leave them
         * pending (they would keep the run loop on its slow path). */
        c->interrupt_request &= ~(CPU_INT_SMI | CPU_INT_INIT);
    }
    if (c->inhibit_irq || (c->singlestep && !c->halted)) {
        /* STI / MOV SS shadow: the next instruction runs first. A
         * debugger's single step runs the instruction, not an interrupt
         * handler (QEMU's default too); a halted CPU still wakes. */
        return -1;
    }
    if ((req & CPU_INT_NMI) && !c->nmi_blocked) {
        c->interrupt_request &= ~CPU_INT_NMI;
        c->halted = false;
        c->nmi_blocked = true;
        c->exc_depth = 1;
        c->exc_vec = -1;
        cpu_interrupt(c, EXC_NMI, INTK_HW, false, 0, c->eip);
        c->exc_depth = 0;
        return -1;
    }
    if ((req & CPU_INT_HARD) && (c->eflags & EF_IF)) {
        int vec = c->intr_ack ? c->intr_ack(c->intr_opaque) : -1;
        c->halted = false;
        if (vec >= 0) {
            c->exc_depth = 1;
            c->exc_vec = -1;
            cpu_interrupt(c, vec & 0xff, INTK_HW, false, 0, c->eip);
            c->exc_depth = 0;
        }
        return -1;
    }
    return -1;
}

/* Hardware breakpoints, on the slow path while DR7 enables any. Brings
 * the TLB in line with a changed configuration (MOV DR writes the
 * registers directly), then checks instruction breakpoints: a #DB fault
 * before the instruction runs, unless EFLAGS.RF says it was just taken. */
static void debug_before_insn(CPUState *c)
{
    uint32_t now[5] = { c->dr[0], c->dr[1], c->dr[2], c->dr[3],
                        c->dr[7] & 0xffff00ffu };
    if (memcmp(now, c->dbg_seen, sizeof(now))) {
        memcpy(c->dbg_seen, now, sizeof(now));
        bool data = false;
        for (int n = 0; n < 4; n++)
            if (((now[4] >> (2 * n)) & 3) && ((now[4] >> (16 + 4 * n)) & 1))
                data = true;           /* RW = 01 or 11 */
        c->dbg_data = data;
        cpu_tlb_flush(c, true);
    }
    c->dbg_hits = 0;
    if (c->eflags & EF_RF) {
        /* RF covers exactly this instruction: cleared as it starts, so an
         * IRET that sets it again protects the one after. */
        c->eflags &= ~EF_RF;
        return;
    }
    uint32_t lin = c->seg[R_CS].base + c->eip, hits = 0;
    for (int n = 0; n < 4; n++)
        if (((now[4] >> (2 * n)) & 3) && !((now[4] >> (16 + 4 * n)) & 3) &&
            c->dr[n] == lin)
            hits |= 1u << n;
    if (hits) {
        c->dr[6] = (c->dr[6] & ~0xfu) | hits;
        cpu_raise(c, EXC_DB, 0);
    }
}

/* Debugger breakpoints: gdb's, not the guest's (those are DR0-DR3). */
static bool at_breakpoint(CPUState *c)
{
    uint32_t lin = c->seg[R_CS].base + c->eip;
    bool skip = c->bp_skip && lin == c->bp_skip_lin;
    c->bp_skip = false;
    if (skip)
        return false;
    for (int i = 0; i < c->nbreakpoints && i < CPU_MAX_BREAKPOINTS; i++)
        if (c->breakpoints[i] == lin)
            return true;
    return false;
}

int cpu_exec(CPUState *c, int64_t budget)
{
    /* A budget of 0 only delivers what is pending. */
    const uint64_t end = c->icount + (budget > 0 ? (uint64_t)budget : 0);

    /* cpu_raise delivers the exception and lands here; nothing else is
     * needed to resume, so the jump buffer is armed once per call rather
     * than once per instruction. */
    if (setjmp(c->jmp_env)) {
        c->exc_depth = 0;
        /* Count the fault so a guest stuck in a fault loop still ends the
         * slice. */
        c->icount++;
        /* A fault during a debugger single step ends the step at the
         * handler's first instruction. */
        if (c->singlestep)
            return EXEC_DEBUG;
    }

    for (;;) {
        if (__builtin_expect(c->interrupt_request != 0 || c->halted ||
                             c->inhibit_irq, 0)) {
            int r = service_events(c);
            if (r >= 0)
                return r;
            if (c->halted)
                return EXEC_HALTED;
        }
        if (c->icount >= end)
            return EXEC_BUDGET;

        if (__builtin_expect(c->nbreakpoints > 0, 0) && at_breakpoint(c))
            return EXEC_DEBUG;

        bool dbg = (c->dr[7] & 0xff) || c->dbg_data;
        if (__builtin_expect(dbg, 0))
            debug_before_insn(c);

        /* Translated blocks (ACCEL_TCG): run them for CS:EIP; they count
         * their own instructions. What tcg cannot run (TF, the interrupt
         * shadow, untranslatable code, breakpoints) takes the interp_step
         * below. */
        if (c->accel == ACCEL_TCG && !c->inhibit_irq && !c->singlestep &&
            !dbg && !c->nbreakpoints && !c->nwatchpoints &&
            tcg_cpu_exec(c, end))
            continue;

        /* interp_step retires the instruction: commits EIP, counts it in
         * icount and ends a STI/MOV SS interrupt shadow it started from. */
        bool tf = c->eflags & EF_TF;
        interp_step(c);
        if (__builtin_expect(tf || dbg, 0)) {
            /* Traps after the instruction completed: single step (BS) and
             * data breakpoints (B0-B3) share one #DB. */
            uint32_t db = (tf ? 0x4000 : 0) | (dbg ? c->dbg_hits : 0);
            c->dbg_hits = 0;
            if (db) {
                c->dr[6] |= db;
                c->exc_depth = 1;
                c->exc_vec = EXC_DB;
                cpu_interrupt(c, EXC_DB, INTK_EXC, false, 0, c->eip);
                c->exc_depth = 0;
            }
        }
        if (c->singlestep || __builtin_expect(c->wp_hit, 0))
            return EXEC_DEBUG;      /* debugger step or watchpoint */
    }
}
