/* Interpreter: string instructions, REP forms, interruption between
 * iterations, and faults in the middle of a REP. */
#include <stdlib.h>
#include "test_interp.h"

static void test_rep_movsb(void **st)
{
    Fix *f = fx_prot(0);
    CPUState *c = f->c;
    for (int i = 0; i < 100; i++)
        cpu_st(c, R_DS, FX_DATA + i, (uint32_t)i * 3, 1);
    c->regs[R_ESI] = FX_DATA;
    c->regs[R_EDI] = FX_DATA + 0x400;
    c->regs[R_ECX] = 100;
    assert_int_equal(FX_RUN(f, 0xf3, 0xa4), -1);
    assert_int_equal(c->regs[R_ECX], 0);
    assert_int_equal(c->regs[R_ESI], FX_DATA + 100);
    assert_int_equal(c->regs[R_EDI], FX_DATA + 0x400 + 100);
    assert_int_equal(c->eip, FX_CODE + 2);
    for (int i = 0; i < 100; i++)
        assert_int_equal(fx_r8(f, FX_DATA + 0x400 + i), (i * 3) & 0xff);
    fx_free(f);
}

static void test_rep_zero_count(void **st)
{
    Fix *f = fx_prot(0);
    CPUState *c = f->c;
    c->regs[R_ECX] = 0;
    c->regs[R_EDI] = 0xdeadbeef;           /* would fault if touched */
    assert_int_equal(FX_RUN(f, 0xf3, 0xaa), -1);
    assert_int_equal(c->regs[R_EDI], 0xdeadbeef);
    assert_int_equal(c->eip, FX_CODE + 2);
    fx_free(f);
}

static void test_std_stosw(void **st)
{
    Fix *f = fx_prot(0);
    CPUState *c = f->c;
    c->eflags |= EF_DF;
    c->regs[R_EAX] = 0xabcd;
    c->regs[R_EDI] = FX_DATA + 10;
    c->regs[R_ECX] = 3;
    assert_int_equal(FX_RUN(f, 0x66, 0xf3, 0xab), -1);  /* rep stosw */
    assert_int_equal(c->regs[R_EDI], FX_DATA + 4);
    assert_int_equal(cpu_ld(c, R_DS, FX_DATA + 6, 2), 0xabcd);
    assert_int_equal(cpu_ld(c, R_DS, FX_DATA + 10, 2), 0xabcd);
    fx_free(f);
}

static void test_repe_cmpsb_stops(void **st)
{
    Fix *f = fx_prot(0);
    CPUState *c = f->c;
    const char *a = "kestrel!", *b = "kestral!";
    for (int i = 0; i < 8; i++) {
        cpu_st(c, R_DS, FX_DATA + i, (uint8_t)a[i], 1);
        cpu_st(c, R_DS, FX_DATA + 0x100 + i, (uint8_t)b[i], 1);
    }
    c->regs[R_ESI] = FX_DATA;
    c->regs[R_EDI] = FX_DATA + 0x100;
    c->regs[R_ECX] = 8;
    assert_int_equal(FX_RUN(f, 0xf3, 0xa6), -1);
    /* stops after comparing 'e' with 'a' (the 6th byte) */
    assert_int_equal(c->regs[R_ECX], 2);
    assert_int_equal(c->regs[R_ESI], FX_DATA + 6);
    assert_false(fx_flags(f) & EF_ZF);
    /* repne scasb finds the '!' */
    c->eip = FX_CODE;
    c->regs[R_EAX] = '!';
    c->regs[R_EDI] = FX_DATA;
    c->regs[R_ECX] = 100;
    assert_int_equal(FX_RUN(f, 0xf2, 0xae), -1);
    assert_int_equal(c->regs[R_EDI], FX_DATA + 8);
    assert_int_equal(c->regs[R_ECX], 92);
    assert_true(fx_flags(f) & EF_ZF);
    fx_free(f);
}

/* A long REP runs in chunks: with an interrupt pending it stops between
 * iterations with EIP still on the instruction, then resumes. */
static void test_rep_interruptible(void **st)
{
    Fix *f = fx_prot(0);
    CPUState *c = f->c;
    c->regs[R_EDI] = 0x100000;
    c->regs[R_ECX] = 100000;
    c->regs[R_EAX] = 0x5a;
    c->interrupt_request = CPU_INT_HARD;
    assert_int_equal(FX_RUN(f, 0xf3, 0xaa), -1);
    assert_int_equal(c->eip, FX_CODE);
    assert_true(c->regs[R_ECX] < 100000);
    assert_true(c->regs[R_ECX] > 0);
    assert_int_equal(c->regs[R_EDI], 0x100000 + (100000 - c->regs[R_ECX]));
    c->interrupt_request = 0;
    int steps = 0;
    while (c->eip == FX_CODE && steps++ < 1000)
        assert_int_equal(fx_step(f), -1);
    assert_int_equal(c->regs[R_ECX], 0);
    assert_int_equal(c->eip, FX_CODE + 2);
    assert_int_equal(fx_r8(f, 0x100000 + 99999), 0x5a);
    fx_free(f);
}

/* A fault in the middle of a REP leaves the registers describing the
 * iterations that completed, and EIP on the instruction. */
static void test_rep_fault_midway(void **st)
{
    Fix *f = fx_prot(0);
    CPUState *c = f->c;
    /* ES limited to 0x2003: the 4th byte store after 0x2000 faults */
    uint32_t lo = 0x2003, hi = 0x00409200;
    fx_desc(f, 6, lo, hi);
    c->gdt.limit = 7 * 8 - 1;
    cpu_load_seg(c, R_ES, 0x30);
    c->regs[R_EDI] = 0x2000;
    c->regs[R_ECX] = 10;
    assert_int_equal(FX_RUN(f, 0xf3, 0xaa), EXC_GP);
    assert_int_equal(c->regs[R_EDI], 0x2004);
    assert_int_equal(c->regs[R_ECX], 6);
    assert_int_equal(cpu_ld(c, R_SS, c->regs[R_ESP] + 4, 4), FX_CODE);
    fx_free(f);
}

static void test_rep_single_step(void **st)
{
    Fix *f = fx_prot(0);
    CPUState *c = f->c;
    c->eflags |= EF_TF;
    c->regs[R_EDI] = FX_DATA;
    c->regs[R_ECX] = 3;
    assert_int_equal(FX_RUN(f, 0xf3, 0xaa), -1);
    assert_int_equal(c->regs[R_ECX], 2);                 /* one iteration */
    assert_int_equal(c->eip, FX_CODE);
    fx_free(f);
}

static void test_addr16_wraps(void **st)
{
    Fix *f = fx_real();
    CPUState *c = f->c;
    /* lodsb with SI=0xffff: SI wraps to 0 and ESI's top half stays */
    c->regs[R_ESI] = 0x1234ffff;
    cpu_st(c, R_DS, 0xffff, 0x77, 1);
    assert_int_equal(FX_RUN(f, 0xac), -1);
    assert_int_equal(c->regs[R_EAX] & 0xff, 0x77);
    assert_int_equal(c->regs[R_ESI], 0x12340000);
    fx_free(f);
}

static void test_port_io(void **st)
{
    Fix *f = fx_real();
    CPUState *c = f->c;
    /* unassigned ports read all ones */
    c->regs[R_EDX] = 0x1234;
    assert_int_equal(FX_RUN(f, 0xed), -1);               /* in ax,dx */
    assert_int_equal(c->regs[R_EAX] & 0xffff, 0xffff);
    c->regs[R_EDI] = 0x100;
    c->regs[R_ECX] = 4;
    assert_int_equal(FX_RUN(f, 0xf3, 0x6c), -1);         /* rep insb */
    assert_int_equal(cpu_ld(c, R_ES, 0x100, 4), 0xffffffff);
    assert_int_equal(c->regs[R_EDI], 0x104);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rep_movsb),
        cmocka_unit_test(test_rep_zero_count),
        cmocka_unit_test(test_std_stosw),
        cmocka_unit_test(test_repe_cmpsb_stops),
        cmocka_unit_test(test_rep_interruptible),
        cmocka_unit_test(test_rep_fault_midway),
        cmocka_unit_test(test_rep_single_step),
        cmocka_unit_test(test_addr16_wraps),
        cmocka_unit_test(test_port_io),
    };
    return cmocka_run_group_tests_name("interp_string", tests, NULL, NULL);
}
