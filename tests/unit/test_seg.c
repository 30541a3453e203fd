/* Segment loads and their faults, limit and type checks on accesses, far
 * transfers through call gates and across rings, task switches, I/O
 * permission, LAR/LSL/VERR/VERW and SYSENTER/SYSEXIT. Expected error codes
 * are those the SDM lists for each instruction. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "cpu_fixture.h"

static void test_null_selector(void **st)
{
    (void)st;
    Fx *f = fx_new();
    CPUState *c = f->c;
    assert_int_equal(FX_TRY(c, cpu_load_seg(c, R_DS, 0)), -1);
    assert_int_equal(c->seg[R_DS].sel, 0);
    /* Using a null DS faults #GP(0); a null SS cannot even be loaded. */
    assert_int_equal(FX_TRY(c, cpu_ld(c, R_DS, 0x100, 4)), EXC_GP);
    assert_int_equal(fx_stack(f, 0), 0);
    assert_int_equal(FX_TRY(c, cpu_load_seg(c, R_SS, 3)), EXC_GP);
    assert_int_equal(fx_stack(f, 0), 0);
    fx_free(f);
}

static void test_load_faults(void **st)
{
    (void)st;
    Fx *f = fx_new();
    CPUState *c = f->c;
    assert_int_equal(FX_TRY(c, cpu_load_seg(c, R_DS, SEL_NOTP)), EXC_NP);
    assert_int_equal(fx_stack(f, 0), SEL_NOTP);
    assert_int_equal(FX_TRY(c, cpu_load_seg(c, R_SS, SEL_NOTP)), EXC_SS);
    assert_int_equal(fx_stack(f, 0), SEL_NOTP);
    assert_int_equal(FX_TRY(c, cpu_load_seg(c, R_DS, SEL_XONLY)), EXC_GP);
    assert_int_equal(fx_stack(f, 0), SEL_XONLY);
    assert_int_equal(FX_TRY(c, cpu_load_seg(c, R_SS, SEL_RODATA)), EXC_GP);
    assert_int_equal(fx_stack(f, 0), SEL_RODATA);
    assert_int_equal(FX_TRY(c, cpu_load_seg(c, R_SS, SEL_DATA0 | 1)), EXC_GP);
    assert_int_equal(fx_stack(f, 0), SEL_DATA0);
    assert_int_equal(FX_TRY(c, cpu_load_seg(c, R_ES, 0x400)), EXC_GP);  /* > limit */
    assert_int_equal(fx_stack(f, 0), 0x400);
    /* LDT selector with no LDT. */
    assert_int_equal(FX_TRY(c, cpu_load_seg(c, R_ES, 0x0c)), EXC_GP);
    assert_int_equal(fx_stack(f, 0), 0x0c);
    /* Ring 3 may not load a DPL-0 data segment. */
    fx_ring3(f);
    assert_int_equal(FX_TRY(c, cpu_load_seg(c, R_DS, SEL_DATA0 | 3)), EXC_GP);
    assert_int_equal(fx_r32(&f->bus, c->regs[R_ESP]), SEL_DATA0);
    fx_free(f);
}

static void test_accessed_bit(void **st)
{
    (void)st;
    Fx *f = fx_new();
    CPUState *c = f->c;
    uint8_t *acc = &f->bus.ram[FX_GDT + (SEL_SMALL >> 3) * 8 + 5];
    assert_false(*acc & 1);
    assert_int_equal(FX_TRY(c, cpu_load_seg(c, R_FS, SEL_SMALL)), -1);
    assert_true(*acc & 1);
    assert_int_equal(c->seg[R_FS].base, 0x40000);
    assert_int_equal(c->seg[R_FS].limit, 0xfff);
    fx_free(f);
}

static void test_limits_and_types(void **st)
{
    (void)st;
    Fx *f = fx_new();
    CPUState *c = f->c;
    cpu_load_seg(c, R_FS, SEL_SMALL);
    assert_int_equal(FX_TRY(c, cpu_ld(c, R_FS, 0xffc, 4)), -1);
    assert_int_equal(FX_TRY(c, cpu_ld(c, R_FS, 0xffd, 4)), EXC_GP);
    assert_int_equal(fx_stack(f, 0), 0);
    /* The same violation through SS is #SS(0). */
    c->seg[R_SS] = c->seg[R_FS];
    c->seg[R_SS].limit = 0x9fff;           /* room for the frame */
    c->seg[R_SS].base = 0;
    int v = FX_TRY(c, cpu_st(c, R_SS, 0x9fff, 1, 2));
    assert_int_equal(v, EXC_SS);
    fx_load_flat(c, R_SS, SEL_DATA0, 0, false);
    c->regs[R_ESP] = FX_STACK0;

    /* Expand-down, B=1: valid offsets are (limit, 4G-1]. */
    cpu_load_seg(c, R_GS, SEL_EXPDOWN);
    assert_int_equal(FX_TRY(c, cpu_ld(c, R_GS, 0x800, 1)), EXC_GP);
    assert_int_equal(FX_TRY(c, cpu_ld(c, R_GS, 0x1000, 4)), -1);
    /* Writes to read-only data, reads from execute-only code. */
    cpu_load_seg(c, R_ES, SEL_RODATA);
    assert_int_equal(FX_TRY(c, cpu_ld(c, R_ES, 0x100, 4)), -1);
    assert_int_equal(FX_TRY(c, cpu_st(c, R_ES, 0x100, 1, 4)), EXC_GP);
    c->seg[R_ES].flags = (c->seg[R_ES].flags & ~0xf00u) | (8 << 8);
    assert_int_equal(FX_TRY(c, cpu_ld(c, R_ES, 0x100, 4)), EXC_GP);
    fx_free(f);
}

static void test_far_jmp_checks(void **st)
{
    (void)st;
    Fx *f = fx_new();
    CPUState *c = f->c;
    /* Ring 0 to a non-conforming DPL-3 segment: #GP(sel). */
    assert_int_equal(FX_TRY(c, cpu_far_jmp(c, SEL_CODE3, 0x1000, 0)), EXC_GP);
    assert_int_equal(fx_stack(f, 0), SEL_CODE3 & ~3);
    /* To a data segment: #GP(sel). */
    assert_int_equal(FX_TRY(c, cpu_far_jmp(c, SEL_DATA0, 0x1000, 0)), EXC_GP);
    /* Null: #GP(0). */
    assert_int_equal(FX_TRY(c, cpu_far_jmp(c, 0, 0x1000, 0)), EXC_GP);
    assert_int_equal(fx_stack(f, 0), 0);
    /* Beyond the 16-bit segment's limit: #GP(0). */
    assert_int_equal(FX_TRY(c, cpu_far_jmp(c, SEL_CODE16, 0x10000, 0)), EXC_GP);
    assert_int_equal(FX_TRY(c, cpu_far_jmp(c, SEL_CODE16, 0xfff0, 0)), -1);
    assert_int_equal(c->eip, 0xfff0);
    assert_false(cpu_code32(c));
    /* A conforming segment keeps CPL 3 from ring 3. */
    fx_ring3(f);
    assert_int_equal(FX_TRY(c, cpu_far_jmp(c, SEL_CONF | 3, 0x2000, 0)), -1);
    assert_int_equal(c->cpl, 3);
    assert_int_equal(c->seg[R_CS].sel, SEL_CONF | 3);
    fx_free(f);
}

static void test_call_gate_to_ring0(void **st)
{
    (void)st;
    Fx *f = fx_new();
    CPUState *c = f->c;
    Bus *b = &f->bus;
    fx_ring3(f);
    c->regs[R_ESP] = FX_STACK3 - 8;
    fx_w32(b, FX_STACK3 - 8, 0x11111111);     /* parameter 0 (top) */
    fx_w32(b, FX_STACK3 - 4, 0x22222222);     /* parameter 1 */
    assert_int_equal(FX_TRY(c, cpu_far_call(c, SEL_CGATE, 0, true, 0x5555)), -1);
    assert_int_equal(c->cpl, 0);
    assert_int_equal(c->eip, 0x20000);
    assert_int_equal(c->seg[R_CS].sel, SEL_CODE0);
    assert_int_equal(c->seg[R_SS].sel, SEL_DATA0);
    assert_int_equal(c->regs[R_ESP], FX_STACK0 - 24);
    assert_int_equal(fx_stack(f, 0), 0x5555);              /* EIP */
    assert_int_equal(fx_stack(f, 1), SEL_CODE3);           /* CS */
    assert_int_equal(fx_stack(f, 2), 0x11111111);
    assert_int_equal(fx_stack(f, 3), 0x22222222);
    assert_int_equal(fx_stack(f, 4), FX_STACK3 - 8);       /* ESP */
    assert_int_equal(fx_stack(f, 5), SEL_DATA3);           /* SS */
    /* The loads set the accessed bits of the target CS and the new SS. */
    assert_true(b->ram[FX_GDT + (SEL_CODE0 >> 3) * 8 + 5] & 1);
    assert_true(b->ram[FX_GDT + (SEL_DATA0 >> 3) * 8 + 5] & 1);

    /* RET 8 back to ring 3 drops the parameters on both stacks. */
    assert_int_equal(FX_TRY(c, cpu_far_ret(c, true, 8)), -1);
    assert_int_equal(c->cpl, 3);
    assert_int_equal(c->eip, 0x5555);
    assert_int_equal(c->regs[R_ESP], FX_STACK3);
    assert_int_equal(c->seg[R_SS].sel, SEL_DATA3);
    fx_free(f);
}

static void test_call_gate_16(void **st)
{
    (void)st;
    Fx *f = fx_new();
    CPUState *c = f->c;
    Bus *b = &f->bus;
    fx_ring3(f);
    c->regs[R_ESP] = FX_STACK3 - 2;
    fx_w16(b, FX_STACK3 - 2, 0xbeef);
    assert_int_equal(FX_TRY(c, cpu_far_call(c, SEL_CGATE16, 0, false, 0x77)), -1);
    assert_int_equal(c->eip, 0x1100);
    assert_int_equal(c->regs[R_ESP], FX_STACK0 - 10);
    uint32_t sp = c->regs[R_ESP];
    assert_int_equal(fx_r16(b, sp), 0x77);
    assert_int_equal(fx_r16(b, sp + 2), SEL_CODE3);
    assert_int_equal(fx_r16(b, sp + 4), 0xbeef);
    assert_int_equal(fx_r16(b, sp + 6), FX_STACK3 - 2);
    assert_int_equal(fx_r16(b, sp + 8), SEL_DATA3);
    fx_free(f);
}

static void test_call_gate_checks(void **st)
{
    (void)st;
    Fx *f = fx_new();
    CPUState *c = f->c;
    fx_ring3(f);
    /* Gate DPL 3 but RPL 3 > ... fine; a gate with DPL 0 from ring 3: */
    f->bus.ram[FX_GDT + (SEL_CGATE >> 3) * 8 + 5] &= ~0x60;
    assert_int_equal(FX_TRY(c, cpu_far_call(c, SEL_CGATE, 0, true, 0)), EXC_GP);
    assert_int_equal(fx_stack(f, 0), SEL_CGATE & ~3);
    /* Not present gate: #NP(gate). */
    f->bus.ram[FX_GDT + (SEL_CGATE >> 3) * 8 + 5] = 0x0c | 0x60;
    fx_ring3(f);
    assert_int_equal(FX_TRY(c, cpu_far_call(c, SEL_CGATE, 0, true, 0)), EXC_NP);
    assert_int_equal(fx_stack(f, 0), SEL_CGATE & ~3);
    fx_free(f);
}

static void test_ret_checks(void **st)
{
    (void)st;
    Fx *f = fx_new();
    CPUState *c = f->c;
    Bus *b = &f->bus;
    fx_ring3(f);
    /* RET to ring 0 from ring 3: RPL < CPL -> #GP(sel). */
    c->regs[R_ESP] = FX_STACK3 - 8;
    fx_w32(b, FX_STACK3 - 8, 0x1000);
    fx_w32(b, FX_STACK3 - 4, SEL_CODE0);
    assert_int_equal(FX_TRY(c, cpu_far_ret(c, true, 0)), EXC_GP);
    assert_int_equal(fx_stack(f, 0), SEL_CODE0);
    fx_free(f);
}

static void test_task_switch_jmp(void **st)
{
    (void)st;
    Fx *f = fx_new();
    CPUState *c = f->c;
    Bus *b = &f->bus;
    fx_w32(b, FX_TSS2 + 0x20, 0x200000);
    fx_w32(b, FX_TSS2 + 0x24, 0x202);
    fx_w32(b, FX_TSS2 + 0x2c, 0xc0ffee);     /* ECX */
    fx_w32(b, FX_TSS2 + 0x38, 0x6800);
    fx_w32(b, FX_TSS2 + 0x48, SEL_DATA0);
    fx_w32(b, FX_TSS2 + 0x4c, SEL_CODE0);
    fx_w32(b, FX_TSS2 + 0x50, SEL_DATA0);
    fx_w32(b, FX_TSS2 + 0x54, SEL_DATA0);
    c->regs[R_EBX] = 0x5150;
    assert_int_equal(FX_TRY(c, cpu_far_jmp(c, SEL_TSS2, 0, 0x100010)), -1);
    assert_int_equal(c->eip, 0x200000);
    assert_int_equal(c->regs[R_ECX], 0xc0ffee);
    assert_true(c->eflags & EF_IF);
    assert_false(c->eflags & EF_NT);          /* JMP does not nest */
    assert_int_equal(fx_r32(b, FX_TSS + 0x34), 0x5150);   /* saved EBX */
    assert_int_equal(fx_r32(b, FX_TSS + 0x20), 0x100010);
    assert_false(b->ram[FX_GDT + (SEL_TSS >> 3) * 8 + 5] & 2);
    assert_true(b->ram[FX_GDT + (SEL_TSS2 >> 3) * 8 + 5] & 2);
    /* Jumping to a busy TSS: #GP(sel). */
    assert_int_equal(FX_TRY(c, cpu_far_jmp(c, SEL_TSS2, 0, 0)), EXC_GP);
    fx_free(f);
}

static void test_io_permission(void **st)
{
    (void)st;
    Fx *f = fx_new();
    CPUState *c = f->c;
    fx_ring3(f);
    assert_int_equal(FX_TRY(c, cpu_check_io(c, 0x3f8, 1)), -1);
    f->bus.ram[FX_TSS + 0x68 + (0x3f9 >> 3)] |= 1 << (0x3f9 & 7);
    assert_int_equal(FX_TRY(c, cpu_check_io(c, 0x3f8, 1)), -1);
    assert_int_equal(FX_TRY(c, cpu_check_io(c, 0x3f8, 2)), EXC_GP);
    assert_int_equal(fx_stack(f, 0), 0);
    /* Ports past the bitmap (beyond the TSS limit) are denied. */
    fx_ring3(f);
    assert_int_equal(FX_TRY(c, cpu_check_io(c, 0x3000, 1)), EXC_GP);
    /* IOPL 3 allows everything outside v86 mode... */
    fx_ring3(f);
    c->eflags |= EF_IOPL;
    assert_int_equal(FX_TRY(c, cpu_check_io(c, 0x3000, 1)), -1);
    /* ...but v86 mode always consults the bitmap. */
    c->eflags |= EF_VM;
    assert_int_equal(FX_TRY(c, cpu_check_io(c, 0x3f8, 4)), EXC_GP);
    fx_free(f);
}

static void test_lar_lsl_verr_verw(void **st)
{
    (void)st;
    Fx *f = fx_new();
    CPUState *c = f->c;
    uint32_t v;
    assert_true(cpu_lar(c, SEL_CODE0, &v));
    assert_int_equal(v & 0x00f0ff00u, 0x00cf9a00u & 0x00f0ff00u);
    assert_true(cpu_lsl(c, SEL_SMALL, &v));
    assert_int_equal(v, 0xfff);
    assert_true(cpu_lsl(c, SEL_CODE0, &v));
    assert_int_equal(v, 0xffffffffu);
    assert_false(cpu_lar(c, 0, &v));
    assert_false(cpu_lsl(c, SEL_TGATE, &v));     /* gates have no limit */
    assert_true(cpu_lar(c, SEL_TGATE, &v));
    assert_true(cpu_verr(c, SEL_CODE0));
    assert_false(cpu_verr(c, SEL_XONLY));
    assert_false(cpu_verw(c, SEL_RODATA));
    assert_true(cpu_verw(c, SEL_DATA0));
    fx_ring3(f);
    assert_false(cpu_verr(c, SEL_DATA0 | 3));    /* DPL 0 from ring 3 */
    assert_true(cpu_verr(c, SEL_CONF | 3));      /* conforming: visible */
    fx_free(f);
}

static void test_sysenter_sysexit(void **st)
{
    (void)st;
    Fx *f = fx_new();
    CPUState *c = f->c;
    fx_ring3(f);
    assert_int_equal(FX_TRY(c, cpu_sysenter(c)), EXC_GP);   /* CS MSR 0 */
    fx_ring3(f);
    assert_true(cpu_wrmsr(c, 0x174, SEL_CODE0));
    assert_true(cpu_wrmsr(c, 0x175, 0x9000));
    assert_true(cpu_wrmsr(c, 0x176, 0xc0001000));
    c->eflags |= EF_IF;
    cpu_sysenter(c);
    assert_int_equal(c->cpl, 0);
    assert_int_equal(c->seg[R_CS].sel, SEL_CODE0);
    assert_int_equal(c->seg[R_SS].sel, SEL_DATA0);
    assert_int_equal(c->eip, 0xc0001000);
    assert_false(c->eflags & EF_IF);
    c->regs[R_ECX] = 0x7ff0;
    c->regs[R_EDX] = 0x8048000;
    cpu_sysexit(c);
    assert_int_equal(c->cpl, 3);
    assert_int_equal(c->seg[R_CS].sel, SEL_CODE3);
    assert_int_equal(c->seg[R_SS].sel, SEL_DATA3);
    assert_int_equal(c->regs[R_ESP], 0x7ff0);
    assert_int_equal(c->eip, 0x8048000);
    /* SYSEXIT from ring 3: #GP(0). */
    assert_int_equal(FX_TRY(c, cpu_sysexit(c)), EXC_GP);
    fx_free(f);
}

static void test_msr_cpuid(void **st)
{
    (void)st;
    Fx *f = fx_new();
    CPUState *c = f->c;
    uint64_t v;
    assert_false(cpu_wrmsr(c, 0xc0000080u, 1u << 8));    /* EFER.LME */
    assert_true(cpu_wrmsr(c, 0xc0000080u, EFER_NXE));
    assert_true(cpu_rdmsr(c, 0xc0000080u, &v));
    assert_int_equal(v, EFER_NXE);
    assert_false(cpu_wrmsr(c, 0x277, 0x0000000000000002ull)); /* type 2 */
    assert_false(cpu_rdmsr(c, 0x12345678, &v));
    assert_true(cpu_wrmsr(c, 0x10, 1000000));
    assert_true(cpu_rdmsr(c, 0x10, &v));
    assert_true(v >= 1000000 && v < 1000000 + 1000000000ull);
    uint32_t r[4];
    cpu_cpuid(c, 0, 0, r);
    assert_memory_equal(&r[1], "Genu", 4);
    assert_memory_equal(&r[3], "ineI", 4);
    assert_memory_equal(&r[2], "ntel", 4);
    cpu_cpuid(c, 1, 0, r);
    assert_int_equal((r[0] >> 8) & 15, 6);
    /* What the Debian i386 kernel needs: FPU, CX8, CMOV, PAE. */
    assert_true(r[3] & 1);
    assert_true(r[3] & (1u << 8));
    assert_true(r[3] & (1u << 15));
    assert_true(r[3] & (1u << 6));
    assert_false(r[3] & (1u << 23));   /* no MMX advertised */
    cpu_cpuid(c, 0x80000001u, 0, r);
    assert_true(r[3] & (1u << 20));    /* NX */
    fx_free(f);
}

static void test_task_switch_16bit_tss(void **st)
{
    (void)st;
    Fx *f = fx_new();
    CPUState *c = f->c;
    Bus *b = &f->bus;
    /* A 16-bit TSS (type 1) at 0x3c00: IP 0x0e, FLAGS 0x10, AX.. 0x12,
     * ES CS SS DS at 0x22.. */
    fx_desc(b, FX_GDT, 13, 0x3c00, 0x2b, 0x81, 0);
    fx_w16(b, 0x3c00 + 0x0e, 0x4321);
    fx_w16(b, 0x3c00 + 0x10, 0x0002);
    fx_w16(b, 0x3c00 + 0x12, 0x7777);           /* AX */
    fx_w16(b, 0x3c00 + 0x1a, 0x6000);           /* SP */
    fx_w16(b, 0x3c00 + 0x22, SEL_DATA0);
    fx_w16(b, 0x3c00 + 0x24, SEL_CODE16);
    fx_w16(b, 0x3c00 + 0x26, SEL_DATA0);
    fx_w16(b, 0x3c00 + 0x28, SEL_DATA0);
    c->regs[R_EAX] = 0x12340000;
    assert_int_equal(FX_TRY(c, cpu_far_call(c, SEL_TSS2, 0, true, 0x100005)), -1);
    assert_int_equal(c->eip, 0x4321);
    assert_int_equal(c->regs[R_EAX], 0x12347777);   /* high word kept */
    assert_false(cpu_code32(c));
    assert_true(c->eflags & EF_NT);
    assert_int_equal(fx_r16(b, 0x3c00), SEL_TSS);   /* back link */
    /* IRET (NT) goes back to the 32-bit task. */
    cpu_iret(c, false);
    assert_int_equal(c->seg[R_TR].sel, SEL_TSS);
    assert_int_equal(c->eip, 0x100005);
    assert_true(cpu_code32(c));
    fx_free(f);
}

static void test_v86_iret_needs_iopl3(void **st)
{
    (void)st;
    Fx *f = fx_new();
    CPUState *c = f->c;
    c->eflags |= EF_VM;
    c->cpl = 3;
    cpu_set_seg_real(c, R_SS, 0x100);
    c->regs[R_ESP] = 0x100;
    int v = FX_TRY(c, cpu_iret(c, false));
    assert_int_equal(v, EXC_GP);
    assert_int_equal(fx_stack(f, 0), 0);
    fx_free(f);
}

static void test_expand_down_stack(void **st)
{
    (void)st;
    Fx *f = fx_new();
    CPUState *c = f->c;
    /* Ring-3 expand-down SS (limit 0xfff, B=1): offsets above the limit
     * are the stack; a push to 0xffc faults #SS(0), delivered on the
     * ring-0 stack from the TSS. */
    fx_desc(&f->bus, FX_GDT, 7, 0, 0x0fff, 0xf6, 0x4);
    fx_ring3(f);
    cpu_load_seg(c, R_SS, SEL_EXPDOWN | 3);
    c->regs[R_ESP] = 0x1004;
    StackPtr s;
    cpu_stk_init(c, &s);
    assert_int_equal(FX_TRY(c, cpu_stk_push(c, &s, 1, 4)), -1);
    assert_int_equal(s.esp, 0x1000);
    int v = FX_TRY(c, cpu_stk_push(c, &s, 2, 4));
    assert_int_equal(v, EXC_SS);
    assert_int_equal(fx_stack(f, 0), 0);
    assert_int_equal(fx_stack(f, 4), 0x1004);     /* SS:ESP before the push */
    fx_free(f);
}

static void test_lldt_and_ldt_selectors(void **st)
{
    (void)st;
    Fx *f = fx_new();
    CPUState *c = f->c;
    Bus *b = &f->bus;
    /* LDT at 0x6000 with one data segment (index 1, base 0x12340000). */
    fx_desc(b, 0x6000, 1, 0x12340000, 0xffff, 0x93, 0x4);
    fx_desc(b, FX_GDT, 14, 0x6000, 0xf, 0x82, 0);
    assert_int_equal(FX_TRY(c, cpu_lldt(c, SEL_TGATE)), -1);
    assert_int_equal(FX_TRY(c, cpu_load_seg(c, R_FS, 0x0c)), -1);
    assert_int_equal(c->seg[R_FS].base, 0x12340000);
    /* Index 2 is past the LDT limit. */
    assert_int_equal(FX_TRY(c, cpu_load_seg(c, R_FS, 0x14)), EXC_GP);
    assert_int_equal(fx_stack(f, 0), 0x14);
    /* LLDT of something that is not an LDT: #GP(sel). */
    assert_int_equal(FX_TRY(c, cpu_lldt(c, SEL_DATA0)), EXC_GP);
    assert_int_equal(fx_stack(f, 0), SEL_DATA0);
    /* LTR of a busy TSS: #GP(sel). */
    assert_int_equal(FX_TRY(c, cpu_ltr(c, SEL_TSS)), EXC_GP);
    fx_free(f);
}

static void test_control_register_faults(void **st)
{
    (void)st;
    Fx *f = fx_new();
    CPUState *c = f->c;
    assert_int_equal(FX_TRY(c, cpu_set_cr0(c, CR0_PG | CR0_ET)), EXC_GP);
    assert_int_equal(FX_TRY(c, cpu_set_cr0(c, CR0_PE | CR0_NW)), EXC_GP);
    assert_int_equal(FX_TRY(c, cpu_set_cr4(c, CR4_VME)), EXC_GP);
    assert_int_equal(FX_TRY(c, cpu_set_cr4(c, 1u << 13)), EXC_GP);  /* VMXE */
    assert_int_equal(FX_TRY(c, cpu_set_cr4(c, CR4_PSE | CR4_PGE)), -1);
    assert_int_equal(c->cr4, CR4_PSE | CR4_PGE);
    fx_free(f);
}

static uint32_t rnd(uint32_t *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return *seed >> 8;
}

typedef struct FuzzOp {
    int op, vec, kind, seg;
    uint16_t sel, imm;
    uint32_t off;
    bool flag;
} FuzzOp;

static void fuzz_do(CPUState *c, const FuzzOp *o)
{
    switch (o->op) {
    case 0: cpu_far_jmp(c, o->sel, o->off, 0x100000); break;
    case 1: cpu_far_call(c, o->sel, o->off, o->flag, 0x100000); break;
    case 2: cpu_far_ret(c, o->flag, o->imm); break;
    case 3: cpu_iret(c, o->flag); break;
    case 4: cpu_load_seg(c, o->seg, o->sel); break;
    case 5: cpu_interrupt(c, o->vec, o->kind, o->flag, o->sel, 0x100000); break;
    case 6: cpu_raise(c, o->vec % 20, o->sel); break;
    case 7: cpu_task_switch(c, o->sel, o->kind, o->flag, 0, 0x100000); break;
    default: cpu_lldt(c, o->sel); cpu_ltr(c, o->sel); break;
    }
}

static void fuzz_one(Fx *f, uint32_t *seed)
{
    CPUState *c = f->c;
    FuzzOp o;
    o.sel = (uint16_t)rnd(seed);
    if (rnd(seed) % 2)
        o.sel = (uint16_t)((rnd(seed) % 20) * 8 + rnd(seed) % 8);
    o.off = rnd(seed) % 3 ? rnd(seed) % 0x20000 : rnd(seed) << 8;
    o.op = (int)(rnd(seed) % 9);
    o.vec = (int)(rnd(seed) % 256);
    o.kind = (int)(rnd(seed) % 4);
    o.seg = (int)(rnd(seed) % 6);
    o.imm = (uint16_t)(rnd(seed) % 16);
    o.flag = rnd(seed) % 2;
    if (rnd(seed) % 4 == 0)
        fx_ring3(f);
    c->regs[R_ESP] = rnd(seed) % 4 ? FX_STACK0 - (rnd(seed) % 64) * 4
                                   : rnd(seed);
    if (o.op == 5 && o.kind == 3)
        o.kind = INTK_SOFT;
    (void)FX_TRY(c, fuzz_do(c, &o));
    assert_true(c->cpl >= 0 && c->cpl <= 3);
    if (cpu_vm86(c))
        assert_int_equal(c->cpl, 3);
    /* Back to a sane ring-0 state for the next attempt. */
    c->exc_depth = 0;
    c->interrupt_request = 0;
    fx_load_flat(c, R_CS, SEL_CODE0, 0, true);
    fx_load_flat(c, R_SS, SEL_DATA0, 0, false);
    c->cpl = 0;
    c->eflags &= ~(EF_VM | EF_NT);
    c->seg[R_TR].sel = SEL_TSS;
    c->seg[R_TR].base = FX_TSS;
    c->seg[R_TR].limit = 0x67 + 0x2000 / 8 + 1;
    c->seg[R_TR].flags = SEGF_P | (11 << 8);
}

static int fuzz_triples;
static void fuzz_triple(void *o)
{
    (void)o;
    fuzz_triples++;
}

/* Garbage descriptor tables, IDT, TSS and stack pointers with random
 * selectors and operations: each far transfer, load, interrupt or task
 * switch ends in a delivered exception, a triple fault or success, never a
 * host crash (this also runs in the sanitizer build), and leaves CPL and
 * the VM flag consistent. */
static void test_random_tables_never_crash_the_host(void **st)
{
    (void)st;
    uint32_t seed = 12345;
    fuzz_triples = 0;
    for (int round = 0; round < 40; round++) {
        Fx *f = fx_new();
        Bus *b = &f->bus;
        f->c->on_triple_fault = fuzz_triple;
        for (uint32_t a = FX_GDT + 8; a < FX_GDT + 19 * 8; a++)
            if ((a - FX_GDT) / 8 != (SEL_TSS >> 3) && rnd(&seed) % 3 == 0)
                b->ram[a] = (uint8_t)rnd(&seed);
        for (int i = 0; i < 64; i++)
            b->ram[FX_IDT + rnd(&seed) % 2048] = (uint8_t)rnd(&seed);
        for (int i = 0; i < 16; i++)
            b->ram[FX_TSS + rnd(&seed) % 0x68] = (uint8_t)rnd(&seed);
        for (int it = 0; it < 200; it++)
            fuzz_one(f, &seed);
        fx_free(f);
    }
    /* The garbage is bad enough that some events cannot be delivered. */
    assert_true(fuzz_triples > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_null_selector),
        cmocka_unit_test(test_load_faults),
        cmocka_unit_test(test_accessed_bit),
        cmocka_unit_test(test_limits_and_types),
        cmocka_unit_test(test_far_jmp_checks),
        cmocka_unit_test(test_call_gate_to_ring0),
        cmocka_unit_test(test_call_gate_16),
        cmocka_unit_test(test_call_gate_checks),
        cmocka_unit_test(test_ret_checks),
        cmocka_unit_test(test_task_switch_jmp),
        cmocka_unit_test(test_io_permission),
        cmocka_unit_test(test_lar_lsl_verr_verw),
        cmocka_unit_test(test_sysenter_sysexit),
        cmocka_unit_test(test_msr_cpuid),
        cmocka_unit_test(test_task_switch_16bit_tss),
        cmocka_unit_test(test_v86_iret_needs_iopl3),
        cmocka_unit_test(test_expand_down_stack),
        cmocka_unit_test(test_lldt_and_ldt_selectors),
        cmocka_unit_test(test_control_register_faults),
        cmocka_unit_test(test_random_tables_never_crash_the_host),
    };
    return cmocka_run_group_tests_name("seg", tests, NULL, NULL);
}
