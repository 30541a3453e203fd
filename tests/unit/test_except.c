/* Interrupt and exception delivery: stack frames in real, protected and
 * virtual-8086 mode, gate checks with their error codes, double fault,
 * triple fault and a task gate for #DF. Expected frames are the SDM's
 * (vol. 3, "Exception and Interrupt Handling"). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "cpu_fixture.h"
#include <stdio.h>
#include <unistd.h>
#include "debug/trace.h"

static void test_real_mode_int(void **st)
{
    (void)st;
    Bus b;
    bus_init(&b, 1u << 20);
    CPUState *c = cpu_new(&b);
    cpu_set_seg_real(c, R_CS, 0x1000);
    cpu_set_seg_real(c, R_SS, 0x2000);
    c->regs[R_ESP] = 0x100;
    c->eip = 0x50;
    c->eflags |= EF_IF | EF_TF;
    fx_w16(&b, 0x21 * 4, 0x1234);         /* IVT[0x21] = 0x5678:0x1234 */
    fx_w16(&b, 0x21 * 4 + 2, 0x5678);
    cpu_interrupt(c, 0x21, INTK_SOFT, false, 0, 0x52);
    assert_int_equal(c->seg[R_CS].sel, 0x5678);
    assert_int_equal(c->seg[R_CS].base, 0x56780);
    assert_int_equal(c->eip, 0x1234);
    assert_int_equal(c->regs[R_ESP], 0xfa);
    assert_int_equal(fx_r16(&b, 0x200fa), 0x52);     /* IP */
    assert_int_equal(fx_r16(&b, 0x200fc), 0x1000);   /* CS */
    uint16_t fl = fx_r16(&b, 0x200fe);
    assert_true(fl & EF_IF);
    assert_true(fl & EF_TF);
    assert_false(c->eflags & (EF_IF | EF_TF));
    cpu_free(c);
    bus_free(&b);
}

/* -d int: each delivery is one log line naming kind, vector, error code
 * and where it came from. */
static void test_trace_int_line(void **st)
{
    (void)st;
    char path[] = "/tmp/kestrel-test-int-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char err[128];
    assert_int_equal(trace_set_logfile(path, err, sizeof err), 0);
    Bus b;
    bus_init(&b, 1u << 20);
    CPUState *c = cpu_new(&b);
    cpu_set_seg_real(c, R_CS, 0x1000);
    cpu_set_seg_real(c, R_SS, 0x2000);
    c->regs[R_ESP] = 0x100;
    c->eip = 0x50;
    c->trace_flags = TRACE_INT;
    cpu_interrupt(c, 0x21, INTK_SOFT, false, 0, 0x52);
    c->trace_flags = 0;
    cpu_interrupt(c, 0x22, INTK_SOFT, false, 0, 0x52);   /* not logged */
    trace_close();
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[256], rest[256];
    assert_non_null(fgets(line, sizeof line, f));
    assert_non_null(strstr(line, "int: int v=21 cpl=0 ret=1000:00000052"));
    assert_null(fgets(rest, sizeof rest, f));
    fclose(f);
    unlink(path);
    cpu_free(c);
    bus_free(&b);
}

static void test_real_mode_iret(void **st)
{
    (void)st;
    Bus b;
    bus_init(&b, 1u << 20);
    CPUState *c = cpu_new(&b);
    cpu_set_seg_real(c, R_SS, 0);
    c->regs[R_ESP] = 0x7000;
    fx_w16(&b, 0x7000, 0x4444);   /* IP */
    fx_w16(&b, 0x7002, 0x3333);   /* CS */
    fx_w16(&b, 0x7004, 0x0203 | 0x3000);
    cpu_iret(c, false);
    assert_int_equal(c->eip, 0x4444);
    assert_int_equal(c->seg[R_CS].base, 0x33330);
    assert_int_equal(c->regs[R_ESP], 0x7006);
    uint32_t fl = cpu_get_eflags(c);
    assert_true(fl & EF_IF);
    assert_true(fl & EF_CF);
    assert_int_equal(fl & EF_IOPL, 0x3000);      /* real mode may set IOPL */
    cpu_free(c);
    bus_free(&b);
}

static void test_pm_fault_same_ring(void **st)
{
    (void)st;
    Fx *f = fx_new();
    CPUState *c = f->c;
    c->eip = 0x100123;
    cpu_set_eflags(c, EF_FIXED | EF_IF | EF_CF, 0xffffffffu);
    int v = FX_TRY(c, cpu_raise(c, EXC_GP, 0x1234));
    assert_int_equal(v, EXC_GP);
    assert_int_equal(c->regs[R_ESP], FX_STACK0 - 16);
    assert_int_equal(fx_stack(f, 0), 0x1234);         /* error code */
    assert_int_equal(fx_stack(f, 1), 0x100123);       /* faulting EIP */
    assert_int_equal(fx_stack(f, 2), SEL_CODE0);
    assert_true(fx_stack(f, 3) & EF_IF);
    assert_true(fx_stack(f, 3) & EF_CF);
    assert_false(c->eflags & EF_IF);                   /* interrupt gate */
    fx_free(f);
}

static void test_pm_int_from_ring3(void **st)
{
    (void)st;
    Fx *f = fx_new();
    CPUState *c = f->c;
    fx_ring3(f);
    cpu_interrupt(c, 0x80, INTK_SOFT, false, 0, 0x4000);
    assert_int_equal(c->eip, FX_HANDLERS + 0x80 * 16);
    assert_int_equal(c->cpl, 0);
    assert_int_equal(c->seg[R_CS].sel, SEL_CODE0);
    assert_int_equal(c->seg[R_SS].sel, SEL_DATA0);
    assert_int_equal(c->regs[R_ESP], FX_STACK0 - 20);
    assert_int_equal(fx_stack(f, 0), 0x4000);
    assert_int_equal(fx_stack(f, 1), SEL_CODE3);
    assert_int_equal(fx_stack(f, 3), FX_STACK3);
    assert_int_equal(fx_stack(f, 4), SEL_DATA3);

    /* IRET returns to ring 3 and nulls ring-0 data registers. */
    c->seg[R_ES].sel = SEL_DATA0;
    c->seg[R_ES].flags = SEGF_P | SEGF_S | (3 << 8);
    cpu_iret(c, true);
    assert_int_equal(c->cpl, 3);
    assert_int_equal(c->eip, 0x4000);
    assert_int_equal(c->regs[R_ESP], FX_STACK3);
    assert_int_equal(c->seg[R_SS].sel, SEL_DATA3);
    assert_int_equal(c->seg[R_ES].sel, 0);
    assert_int_equal(c->seg[R_DS].sel, SEL_DATA3);   /* DPL 3: kept */
    fx_free(f);
}

static void test_soft_int_gate_dpl(void **st)
{
    (void)st;
    Fx *f = fx_new();
    CPUState *c = f->c;
    fx_ring3(f);
    /* INT 0x21 from ring 3 through a DPL-0 gate: #GP(0x21*8+2), no EXT. */
    int v = FX_TRY(c, cpu_interrupt(c, 0x21, INTK_SOFT, false, 0, 0x4000));
    assert_int_equal(v, EXC_GP);
    assert_int_equal(fx_stack(f, 0), 0x21 * 8 + 2);
    fx_free(f);
}

static void test_gate_not_present(void **st)
{
    (void)st;
    Fx *f = fx_new();
    CPUState *c = f->c;
    f->bus.ram[FX_IDT + 0x30 * 8 + 5] &= 0x7f;
    /* External interrupt: #NP with IDT and EXT bits. */
    c->exc_depth = 1;
    c->exc_vec = -1;
    int v = FX_TRY(c, cpu_interrupt(c, 0x30, INTK_HW, false, 0, c->eip));
    assert_int_equal(v, EXC_NP);
    assert_int_equal(fx_stack(f, 0), 0x30 * 8 + 3);
    /* Beyond the IDT limit: #GP. */
    c->idt.limit = 0x40 * 8 - 1;
    v = FX_TRY(c, cpu_interrupt(c, 0x41, INTK_SOFT, false, 0, c->eip));
    assert_int_equal(v, EXC_GP);
    assert_int_equal(fx_stack(f, 0), 0x41 * 8 + 2);
    fx_free(f);
}

static void test_v86_interrupt(void **st)
{
    (void)st;
    Fx *f = fx_new();
    CPUState *c = f->c;
    c->eflags |= EF_VM | EF_IF;
    c->cpl = 3;
    cpu_set_seg_real(c, R_CS, 0x1000);
    cpu_set_seg_real(c, R_SS, 0x2000);
    cpu_set_seg_real(c, R_DS, 0x3000);
    cpu_set_seg_real(c, R_ES, 0x4000);
    cpu_set_seg_real(c, R_FS, 0x5000);
    cpu_set_seg_real(c, R_GS, 0x6000);
    c->regs[R_ESP] = 0xfffe;
    c->eip = 0x10;
    cpu_interrupt(c, 0x30, INTK_HW, false, 0, 0x10);
    assert_int_equal(c->cpl, 0);
    assert_false(c->eflags & EF_VM);
    assert_int_equal(c->regs[R_ESP], FX_STACK0 - 36);
    assert_int_equal(fx_stack(f, 0), 0x10);
    assert_int_equal(fx_stack(f, 1), 0x1000);
    assert_true(fx_stack(f, 2) & EF_VM);
    assert_int_equal(fx_stack(f, 3), 0xfffe);
    assert_int_equal(fx_stack(f, 4), 0x2000);
    assert_int_equal(fx_stack(f, 5), 0x4000);   /* ES */
    assert_int_equal(fx_stack(f, 6), 0x3000);   /* DS */
    assert_int_equal(fx_stack(f, 7), 0x5000);   /* FS */
    assert_int_equal(fx_stack(f, 8), 0x6000);   /* GS */
    assert_int_equal(c->seg[R_DS].sel, 0);
    assert_int_equal(c->seg[R_GS].sel, 0);

    /* IRET from ring 0 returns to v86 mode with every segment back. */
    cpu_iret(c, true);
    assert_true(c->eflags & EF_VM);
    assert_int_equal(c->cpl, 3);
    assert_int_equal(c->seg[R_DS].base, 0x30000);
    assert_int_equal(c->seg[R_GS].base, 0x60000);
    assert_int_equal(c->seg[R_CS].base, 0x10000);
    assert_int_equal(c->regs[R_ESP], 0xfffe);

    /* INT n in v86 mode with IOPL < 3: #GP(0). */
    int v = FX_TRY(c, cpu_interrupt(c, 0x21, INTK_SOFT, false, 0, 0x12));
    assert_int_equal(v, EXC_GP);
    assert_int_equal(fx_stack(f, 0), 0);
    assert_int_equal(fx_stack(f, 1), 0x10);     /* faulting EIP */
    fx_free(f);
}

static void test_double_fault(void **st)
{
    (void)st;
    Fx *f = fx_new();
    CPUState *c = f->c;
    /* #GP's gate not present: #NP while delivering #GP -> #DF(0). */
    f->bus.ram[FX_IDT + EXC_GP * 8 + 5] &= 0x7f;
    int v = FX_TRY(c, cpu_raise(c, EXC_GP, 0x18));
    assert_int_equal(v, EXC_DF);
    assert_int_equal(fx_stack(f, 0), 0);
    fx_free(f);
}

static void test_pf_then_pf_is_double(void **st)
{
    (void)st;
    Fx *f = fx_new();
    CPUState *c = f->c;
    /* A page fault whose gate is missing: #NP is contributory -> #DF. */
    f->bus.ram[FX_IDT + EXC_PF * 8 + 5] &= 0x7f;
    int v = FX_TRY(c, cpu_raise_pf(c, 0xdead000, 2));
    assert_int_equal(v, EXC_DF);
    assert_int_equal(c->cr2, 0xdead000);
    fx_free(f);
}

static void test_benign_then_fault_is_not_double(void **st)
{
    (void)st;
    Fx *f = fx_new();
    CPUState *c = f->c;
    /* #NP while delivering #BP (benign) is just #NP. */
    f->bus.ram[FX_IDT + EXC_BP * 8 + 5] &= 0x7f;
    int v = FX_TRY(c, cpu_raise(c, EXC_BP, 0));
    assert_int_equal(v, EXC_NP);
    assert_int_equal(fx_stack(f, 0), EXC_BP * 8 + 3);
    fx_free(f);
}

static int triple_count;
static void on_triple(void *opaque)
{
    (void)opaque;
    triple_count++;
}

static void test_triple_fault(void **st)
{
    (void)st;
    Fx *f = fx_new();
    CPUState *c = f->c;
    c->on_triple_fault = on_triple;
    triple_count = 0;
    f->bus.ram[FX_IDT + EXC_GP * 8 + 5] &= 0x7f;
    f->bus.ram[FX_IDT + EXC_DF * 8 + 5] &= 0x7f;
    int v = FX_TRY(c, cpu_raise(c, EXC_GP, 0));
    assert_int_equal(v, 999);        /* nothing delivered */
    assert_int_equal(triple_count, 1);
    assert_int_equal(c->exc_depth, 0);
    assert_true(c->interrupt_request & CPU_INT_EXIT);   /* back to the board */
    c->interrupt_request = 0;

    /* Without a board hook the CPU asks the run loop for a reset. */
    c->on_triple_fault = NULL;
    v = FX_TRY(c, cpu_raise(c, EXC_GP, 0));
    assert_true(c->interrupt_request & CPU_INT_RESET);
    fx_free(f);
}

static void test_df_task_gate(void **st)
{
    (void)st;
    Fx *f = fx_new();
    CPUState *c = f->c;
    Bus *b = &f->bus;
    fx_gate(b, FX_IDT, EXC_DF, SEL_TSS2, 0, 0x5, 0, 0);
    f->bus.ram[FX_IDT + EXC_GP * 8 + 5] &= 0x7f;
    /* The #DF task: its own EIP, stack and segments. */
    fx_w32(b, FX_TSS2 + 0x20, 0x123456);       /* EIP */
    fx_w32(b, FX_TSS2 + 0x24, 2);              /* EFLAGS */
    fx_w32(b, FX_TSS2 + 0x38, 0x6000);         /* ESP */
    fx_w32(b, FX_TSS2 + 0x48, SEL_DATA0);      /* ES */
    fx_w32(b, FX_TSS2 + 0x4c, SEL_CODE0);
    fx_w32(b, FX_TSS2 + 0x50, SEL_DATA0);
    fx_w32(b, FX_TSS2 + 0x54, SEL_DATA0);
    c->regs[R_EAX] = 0xaaaa;
    c->eip = 0x100777;
    int v = FX_TRY(c, cpu_raise(c, EXC_GP, 0));
    (void)v;
    assert_int_equal(c->eip, 0x123456);
    assert_int_equal(c->seg[R_TR].sel, SEL_TSS2);
    assert_int_equal(c->regs[R_ESP], 0x6000 - 4);
    assert_int_equal(fx_r32(b, 0x6000 - 4), 0);           /* #DF error code */
    assert_true(c->eflags & EF_NT);
    assert_true(c->cr0 & CR0_TS);
    assert_int_equal(fx_r16(b, FX_TSS2), SEL_TSS);        /* back link */
    assert_int_equal(fx_r32(b, FX_TSS + 0x20), 0x100777); /* saved EIP */
    assert_int_equal(fx_r32(b, FX_TSS + 0x28), 0xaaaa);   /* saved EAX */
    /* Both TSS descriptors busy (a nested task). */
    assert_true(b->ram[FX_GDT + (SEL_TSS >> 3) * 8 + 5] & 2);
    assert_true(b->ram[FX_GDT + (SEL_TSS2 >> 3) * 8 + 5] & 2);

    /* IRET with NT returns to the first task and frees the second. */
    cpu_iret(c, true);
    assert_int_equal(c->seg[R_TR].sel, SEL_TSS);
    assert_int_equal(c->eip, 0x100777);
    assert_int_equal(c->regs[R_EAX], 0xaaaa);
    assert_false(b->ram[FX_GDT + (SEL_TSS2 >> 3) * 8 + 5] & 2);
    fx_free(f);
}

static int ack_0x40(void *opaque)
{
    (void)opaque;
    return 0x40;
}

static void test_hw_interrupt_run_loop(void **st)
{
    (void)st;
    /* The run loop takes INTR only with IF=1, and wakes from HLT. */
    Bus b;
    bus_init(&b, 1u << 20);
    CPUState *c = cpu_new(&b);
    cpu_set_seg_real(c, R_CS, 0);
    cpu_set_seg_real(c, R_SS, 0);
    c->regs[R_ESP] = 0x7000;
    c->eip = 0x500;
    fx_w16(&b, 0x40 * 4, 0x600);
    c->halted = true;
    c->eflags &= ~EF_IF;
    cpu_set_irq(c, true);
    assert_int_equal(cpu_exec(c, 10), EXEC_HALTED);
    assert_int_equal(c->eip, 0x500);
    c->eflags |= EF_IF;
    c->intr_ack = ack_0x40;
    assert_int_equal(cpu_exec(c, 1), EXEC_BUDGET);
    assert_false(c->halted);
    assert_int_equal(fx_r16(&b, 0x7000 - 6), 0x500);    /* return IP */
    assert_int_equal(c->eip, 0x602);   /* ran one insn (00 00) at 0x600 */
    cpu_free(c);
    bus_free(&b);
}

static void test_gate16_and_trap_gate(void **st)
{
    (void)st;
    Fx *f = fx_new();
    CPUState *c = f->c;
    Bus *b = &f->bus;
    /* A 16-bit trap gate pushes 16-bit FLAGS/CS/IP and keeps IF. */
    fx_gate(b, FX_IDT, 0x60, SEL_CODE0, 0x1230, 0x7, 0, 0);
    c->eflags |= EF_IF;
    cpu_interrupt(c, 0x60, INTK_SOFT, false, 0, 0xabcd1234);
    assert_int_equal(c->eip, 0x1230);
    assert_int_equal(c->regs[R_ESP], FX_STACK0 - 6);
    assert_int_equal(fx_r16(b, FX_STACK0 - 6), 0x1234);
    assert_int_equal(fx_r16(b, FX_STACK0 - 4), SEL_CODE0);
    assert_true(fx_r16(b, FX_STACK0 - 2) & EF_IF);
    assert_true(c->eflags & EF_IF);
    fx_free(f);
}

static void test_real_mode_exception_has_no_error_code(void **st)
{
    (void)st;
    Bus b;
    bus_init(&b, 1u << 20);
    CPUState *c = cpu_new(&b);
    cpu_set_seg_real(c, R_SS, 0);
    c->regs[R_ESP] = 0x7000;
    c->eip = 0x1111;
    fx_w16(&b, EXC_GP * 4, 0x2222);
    int v = FX_TRY(c, cpu_raise(c, EXC_GP, 0x55));
    (void)v;
    assert_int_equal(c->eip, 0x2222);
    assert_int_equal(c->regs[R_ESP], 0x7000 - 6);
    assert_int_equal(fx_r16(&b, 0x7000 - 6), 0x1111);
    cpu_free(c);
    bus_free(&b);
}

static void test_nmi_blocked_until_iret(void **st)
{
    (void)st;
    Bus b;
    bus_init(&b, 1u << 20);
    CPUState *c = cpu_new(&b);
    cpu_set_seg_real(c, R_CS, 0);
    cpu_set_seg_real(c, R_SS, 0);
    c->regs[R_ESP] = 0x7000;
    c->eip = 0x500;
    fx_w16(&b, EXC_NMI * 4, 0x600);      /* handler: IRET at 0x600 */
    b.ram[0x600] = 0xcf;
    c->interrupt_request |= CPU_INT_NMI;
    assert_int_equal(cpu_exec(c, 0), EXEC_BUDGET);
    assert_true(c->nmi_blocked);
    assert_int_equal(c->eip, 0x600);
    /* A second NMI waits while the first handler runs... */
    c->interrupt_request |= CPU_INT_NMI;
    assert_int_equal(cpu_exec(c, 0), EXEC_BUDGET);
    assert_int_equal(c->eip, 0x600);
    assert_int_equal(c->regs[R_ESP], 0x7000 - 6);
    /* ...and is taken right after its IRET, returning to 0x500. */
    assert_int_equal(cpu_exec(c, 1), EXEC_BUDGET);
    assert_true(c->nmi_blocked);
    assert_int_equal(c->eip, 0x600);
    assert_int_equal(c->regs[R_ESP], 0x7000 - 6);
    assert_int_equal(fx_r16(&b, 0x7000 - 6), 0x500);
    cpu_free(c);
    bus_free(&b);
}

static void test_bad_inner_stack_is_ts(void **st)
{
    (void)st;
    Fx *f = fx_new();
    CPUState *c = f->c;
    Bus *b = &f->bus;
    /* TSS.SS0 names a read-only segment: INT 0x80 from ring 3 cannot
     * switch stacks -> #TS(SS0 selector). #TS itself goes through a task
     * gate (its own stack), where the error code lands. */
    fx_w32(b, FX_TSS + 8, SEL_RODATA);
    fx_gate(b, FX_IDT, EXC_TS, SEL_TSS2, 0, 0x5, 0, 0);
    fx_w32(b, FX_TSS2 + 0x20, 0x222000);
    fx_w32(b, FX_TSS2 + 0x24, 2);
    fx_w32(b, FX_TSS2 + 0x38, 0x6000);
    fx_w32(b, FX_TSS2 + 0x48, SEL_DATA0);
    fx_w32(b, FX_TSS2 + 0x4c, SEL_CODE0);
    fx_w32(b, FX_TSS2 + 0x50, SEL_DATA0);
    fx_w32(b, FX_TSS2 + 0x54, SEL_DATA0);
    fx_ring3(f);
    c->eip = 0x400100;
    int v = FX_TRY(c, cpu_interrupt(c, 0x80, INTK_SOFT, false, 0, 0x400102));
    (void)v;
    assert_int_equal(c->seg[R_TR].sel, SEL_TSS2);
    assert_int_equal(c->eip, 0x222000);
    assert_int_equal(fx_r32(b, 0x6000 - 4), SEL_RODATA);
    /* The interrupted task resumes at the INT (a fault), in ring 3. */
    assert_int_equal(fx_r32(b, FX_TSS + 0x20), 0x400100);
    assert_int_equal(fx_r16(b, FX_TSS + 0x4c), SEL_CODE3);
    fx_free(f);
}

static void test_debug_register_matching(void **st)
{
    (void)st;
    Bus b;
    bus_init(&b, 1u << 20);
    CPUState *c = cpu_new(&b);
    /* DR0: 4-byte write watch at 0x1002 (aligned down to 0x1000);
     * DR3: 2-byte read/write watch at 0x2001 (aligned to 0x2000). */
    c->dr[0] = 0x1002;
    c->dr[3] = 0x2001;
    c->dr[7] = 0x1 | (1u << 16) | (3u << 18) | 0x40 | (3u << 28) | (1u << 30);
    assert_int_equal(cpu_dbg_match(c, 0x1003, 1, true), 1);
    assert_int_equal(cpu_dbg_match(c, 0x1003, 1, false), 0);  /* write only */
    assert_int_equal(cpu_dbg_match(c, 0x0ffe, 4, true), 1);   /* overlaps */
    assert_int_equal(cpu_dbg_match(c, 0x0ffc, 4, true), 0);
    assert_int_equal(cpu_dbg_match(c, 0x1004, 4, true), 0);
    assert_int_equal(cpu_dbg_match(c, 0x2000, 1, false), 8);
    assert_int_equal(cpu_dbg_match(c, 0x2002, 2, false), 0);
    c->dr[7] &= ~0x40u;                                        /* L3 off */
    assert_int_equal(cpu_dbg_match(c, 0x2000, 1, false), 0);

    /* An instruction breakpoint faults before the instruction (real mode:
     * IVT[1] at 0:0x600), with DR6.B0. */
    cpu_set_seg_real(c, R_CS, 0);
    cpu_set_seg_real(c, R_SS, 0);
    c->regs[R_ESP] = 0x7000;
    c->eip = 0x500;
    b.ram[0x500] = 0x40;                 /* INC AX */
    fx_w16(&b, 1 * 4, 0x600);
    c->dr[0] = 0x500;
    c->dr[7] = 0x1;
    assert_int_equal(cpu_exec(c, 1), EXEC_BUDGET);
    assert_int_equal(c->regs[R_EAX], 0);                 /* did not run */
    assert_int_equal(fx_r16(&b, 0x7000 - 6), 0x500);     /* return IP */
    assert_int_equal(c->dr[6] & 0xf, 1);
    cpu_free(c);
    bus_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_mode_int),
        cmocka_unit_test(test_trace_int_line),
        cmocka_unit_test(test_real_mode_iret),
        cmocka_unit_test(test_pm_fault_same_ring),
        cmocka_unit_test(test_pm_int_from_ring3),
        cmocka_unit_test(test_soft_int_gate_dpl),
        cmocka_unit_test(test_gate_not_present),
        cmocka_unit_test(test_v86_interrupt),
        cmocka_unit_test(test_double_fault),
        cmocka_unit_test(test_pf_then_pf_is_double),
        cmocka_unit_test(test_benign_then_fault_is_not_double),
        cmocka_unit_test(test_triple_fault),
        cmocka_unit_test(test_df_task_gate),
        cmocka_unit_test(test_hw_interrupt_run_loop),
        cmocka_unit_test(test_gate16_and_trap_gate),
        cmocka_unit_test(test_real_mode_exception_has_no_error_code),
        cmocka_unit_test(test_nmi_blocked_until_iret),
        cmocka_unit_test(test_bad_inner_stack_is_ts),
        cmocka_unit_test(test_debug_register_matching),
    };
    return cmocka_run_group_tests_name("except", tests, NULL, NULL);
}
