/* Interpreter: arithmetic, logic, shifts, multiply/divide and BCD, with
 * flag results worked out from the SDM's definitions and its examples. */
#include <stdlib.h>
#include "test_interp.h"

#define F6 (EF_CF | EF_PF | EF_AF | EF_ZF | EF_SF | EF_OF)

static void set_flags(Fix *f, uint32_t fl)
{
    cpu_set_eflags(f->c, fl, F6);
}

static void test_add_flags(void **st)
{
    Fix *f = fx_prot(0);
    CPUState *c = f->c;
    c->regs[R_EAX] = 0x7f;
    assert_int_equal(FX_RUN(f, 0x04, 0x01), -1);        /* add al,1 */
    assert_int_equal(c->regs[R_EAX] & 0xff, 0x80);
    assert_int_equal(fx_flags(f) & F6, EF_OF | EF_SF | EF_AF);
    c->regs[R_EAX] = 0xff;
    assert_int_equal(FX_RUN(f, 0x04, 0x01), -1);
    assert_int_equal(fx_flags(f) & F6, EF_CF | EF_ZF | EF_AF | EF_PF);
    c->regs[R_EAX] = 0xffffffff;
    c->regs[R_ECX] = 1;
    assert_int_equal(FX_RUN(f, 0x01, 0xc8), -1);        /* add eax,ecx */
    assert_int_equal(c->regs[R_EAX], 0);
    assert_int_equal(fx_flags(f) & F6, EF_CF | EF_ZF | EF_AF | EF_PF);
    assert_int_equal(c->eip, FX_CODE + 6);     /* three 2-byte insns */
    fx_free(f);
}

static void test_adc_sbb(void **st)
{
    Fix *f = fx_prot(0);
    CPUState *c = f->c;
    set_flags(f, EF_CF);
    c->regs[R_EAX] = 0xfffe;
    /* adc ax,1 with CF=1: 0xfffe + 1 + 1 = 0x10000 */
    assert_int_equal(FX_RUN(f, 0x66, 0x83, 0xd0, 0x01), -1);
    assert_int_equal(c->regs[R_EAX], 0);
    assert_true(fx_flags(f) & EF_CF);
    assert_true(fx_flags(f) & EF_ZF);
    set_flags(f, EF_CF);
    c->regs[R_EAX] = 0;
    /* sbb eax,0 with CF=1: 0 - 0 - 1 = -1, borrow */
    assert_int_equal(FX_RUN(f, 0x83, 0xd8, 0x00), -1);
    assert_int_equal(c->regs[R_EAX], 0xffffffff);
    assert_int_equal(fx_flags(f) & (EF_CF | EF_SF | EF_OF | EF_AF),
                     EF_CF | EF_SF | EF_AF);
    /* sub: 0x80 - 1 overflows in 8 bits */
    c->regs[R_EAX] = 0x80;
    assert_int_equal(FX_RUN(f, 0x2c, 0x01), -1);
    assert_int_equal(c->regs[R_EAX], 0x7f);
    assert_int_equal(fx_flags(f) & F6, EF_OF | EF_AF);
    fx_free(f);
}

static void test_inc_dec_neg(void **st)
{
    Fix *f = fx_prot(0);
    CPUState *c = f->c;
    set_flags(f, EF_CF);
    c->regs[R_EAX] = 0x7fffffff;
    assert_int_equal(FX_RUN(f, 0x40), -1);             /* inc eax */
    assert_int_equal(c->regs[R_EAX], 0x80000000);
    /* INC keeps CF */
    assert_int_equal(fx_flags(f) & F6, EF_CF | EF_OF | EF_SF | EF_AF | EF_PF);
    set_flags(f, 0);
    c->regs[R_ECX] = 0;
    assert_int_equal(FX_RUN(f, 0x49), -1);             /* dec ecx */
    assert_int_equal(c->regs[R_ECX], 0xffffffff);
    assert_int_equal(fx_flags(f) & (EF_CF | EF_SF | EF_AF), EF_SF | EF_AF);
    c->regs[R_EDX] = 0;
    assert_int_equal(FX_RUN(f, 0xf7, 0xda), -1);       /* neg edx */
    assert_false(fx_flags(f) & EF_CF);                  /* NEG 0: CF=0 */
    c->regs[R_EDX] = 1;
    assert_int_equal(FX_RUN(f, 0xf7, 0xda), -1);
    assert_int_equal(c->regs[R_EDX], 0xffffffff);
    assert_true(fx_flags(f) & EF_CF);
    fx_free(f);
}

static void test_logic_clears_cf_of(void **st)
{
    Fix *f = fx_prot(0);
    CPUState *c = f->c;
    set_flags(f, EF_CF | EF_OF);
    c->regs[R_EAX] = 0xf0;
    assert_int_equal(FX_RUN(f, 0x24, 0x0f), -1);       /* and al,0x0f */
    assert_int_equal(fx_flags(f) & (EF_CF | EF_OF | EF_ZF | EF_PF),
                     EF_ZF | EF_PF);
    c->regs[R_EAX] = 0x80000000;
    assert_int_equal(FX_RUN(f, 0x85, 0xc0), -1);       /* test eax,eax */
    assert_int_equal(fx_flags(f) & (EF_SF | EF_ZF), EF_SF);
    fx_free(f);
}

static void test_shifts(void **st)
{
    Fix *f = fx_prot(0);
    CPUState *c = f->c;
    c->regs[R_EAX] = 0x80000001;
    assert_int_equal(FX_RUN(f, 0xd1, 0xe0), -1);       /* shl eax,1 */
    assert_int_equal(c->regs[R_EAX], 2);
    assert_int_equal(fx_flags(f) & (EF_CF | EF_OF), EF_CF | EF_OF);
    c->regs[R_EAX] = 0x80000000;
    assert_int_equal(FX_RUN(f, 0xc1, 0xf8, 0x04), -1); /* sar eax,4 */
    assert_int_equal(c->regs[R_EAX], 0xf8000000);
    /* counts are masked to 5 bits: shl eax,32 changes nothing */
    set_flags(f, EF_CF);
    c->regs[R_EAX] = 0x1234;
    assert_int_equal(FX_RUN(f, 0xc1, 0xe0, 0x20), -1);
    assert_int_equal(c->regs[R_EAX], 0x1234);
    assert_true(fx_flags(f) & EF_CF);
    /* rcl al,1 with CF=1 rotates the carry in */
    set_flags(f, EF_CF);
    c->regs[R_EAX] = 0x80;
    assert_int_equal(FX_RUN(f, 0xd0, 0xd0), -1);
    assert_int_equal(c->regs[R_EAX] & 0xff, 0x01);
    assert_true(fx_flags(f) & EF_CF);
    /* rcr by 9 on a byte is a full turn through CF */
    set_flags(f, 0);
    c->regs[R_EAX] = 0x5a;
    c->regs[R_ECX] = 9;
    assert_int_equal(FX_RUN(f, 0xd2, 0xd8), -1);
    assert_int_equal(c->regs[R_EAX] & 0xff, 0x5a);
    /* rol eax,8 */
    c->regs[R_EAX] = 0x12345678;
    assert_int_equal(FX_RUN(f, 0xc1, 0xc0, 0x08), -1);
    assert_int_equal(c->regs[R_EAX], 0x34567812);
    fx_free(f);
}

static void test_shld_shrd(void **st)
{
    Fix *f = fx_prot(0);
    CPUState *c = f->c;
    c->regs[R_EAX] = 0x12345678;
    c->regs[R_EDX] = 0x9abcdef0;
    assert_int_equal(FX_RUN(f, 0x0f, 0xa4, 0xd0, 0x08), -1); /* shld eax,edx,8 */
    assert_int_equal(c->regs[R_EAX], 0x3456789a);
    c->regs[R_EAX] = 0x12345678;
    c->regs[R_ECX] = 4;
    assert_int_equal(FX_RUN(f, 0x0f, 0xad, 0xd0), -1);       /* shrd eax,edx,cl */
    assert_int_equal(c->regs[R_EAX], 0x01234567);
    assert_true(fx_flags(f) & EF_CF);                         /* bit 3 of 0x..78 */
    fx_free(f);
}

static void test_mul_div(void **st)
{
    Fix *f = fx_prot(0);
    CPUState *c = f->c;
    c->regs[R_EAX] = 0x80000000;
    c->regs[R_ECX] = 4;
    assert_int_equal(FX_RUN(f, 0xf7, 0xe1), -1);       /* mul ecx */
    assert_int_equal(c->regs[R_EAX], 0);
    assert_int_equal(c->regs[R_EDX], 2);
    assert_int_equal(fx_flags(f) & (EF_CF | EF_OF), EF_CF | EF_OF);
    c->regs[R_EAX] = (uint32_t)-3;
    c->regs[R_ECX] = 7;
    assert_int_equal(FX_RUN(f, 0x0f, 0xaf, 0xc1), -1); /* imul eax,ecx */
    assert_int_equal(c->regs[R_EAX], (uint32_t)-21);
    assert_false(fx_flags(f) & EF_CF);
    assert_int_equal(FX_RUN(f, 0x6b, 0xc0, 0x80), -1); /* imul eax,eax,-128 */
    assert_int_equal(c->regs[R_EAX], 21 * 128);
    c->regs[R_EAX] = 0x40000000;
    assert_int_equal(FX_RUN(f, 0x69, 0xc0, 0x04, 0, 0, 0), -1);
    assert_int_equal(fx_flags(f) & (EF_CF | EF_OF), EF_CF | EF_OF);
    /* div: edx:eax = 0x1_00000005 / 0x10 */
    c->regs[R_EDX] = 1;
    c->regs[R_EAX] = 5;
    c->regs[R_ECX] = 0x10;
    assert_int_equal(FX_RUN(f, 0xf7, 0xf1), -1);
    assert_int_equal(c->regs[R_EAX], 0x10000000);
    assert_int_equal(c->regs[R_EDX], 5);
    /* idiv: -7 / 2 = -3 rem -1 (truncating) */
    c->regs[R_EAX] = (uint32_t)-7;
    c->regs[R_EDX] = 0xffffffff;
    c->regs[R_ECX] = 2;
    assert_int_equal(FX_RUN(f, 0xf7, 0xf9), -1);
    assert_int_equal(c->regs[R_EAX], (uint32_t)-3);
    assert_int_equal(c->regs[R_EDX], (uint32_t)-1);
    fx_free(f);
}

static void test_divide_errors(void **st)
{
    Fix *f = fx_prot(0);
    CPUState *c = f->c;
    c->regs[R_EAX] = 1234;
    c->regs[R_EDX] = 0;
    c->regs[R_ECX] = 0;
    assert_int_equal(FX_RUN(f, 0xf7, 0xf1), EXC_DE);   /* div ecx, ecx = 0 */
    /* the fault leaves the registers alone and reports the DIV itself */
    assert_int_equal(c->regs[R_EAX], 1234);
    assert_int_equal(cpu_ld(c, R_SS, c->regs[R_ESP], 4), FX_CODE);
    fx_free(f);

    f = fx_prot(0);
    c = f->c;
    /* quotient too big: 0x100 / 1 in AL */
    c->regs[R_EAX] = 0x100;
    c->regs[R_ECX] = 1;
    assert_int_equal(FX_RUN(f, 0xf6, 0xf1), EXC_DE);
    fx_free(f);

    f = fx_prot(0);
    c = f->c;
    /* idiv: INT_MIN / -1 overflows */
    c->regs[R_EAX] = 0x80000000;
    c->regs[R_EDX] = 0xffffffff;
    c->regs[R_ECX] = 0xffffffff;
    assert_int_equal(FX_RUN(f, 0xf7, 0xf9), EXC_DE);
    fx_free(f);

    f = fx_prot(0);
    c = f->c;
    c->regs[R_EAX] = 0x55;
    assert_int_equal(FX_RUN(f, 0xd4, 0x00), EXC_DE);   /* aam 0 */
    fx_free(f);
}

static void test_bcd(void **st)
{
    Fix *f = fx_real();
    CPUState *c = f->c;
    /* SDM DAA example: 0x79 + 0x35 = 0xAE, DAA -> 0x14, CF=1 */
    c->regs[R_EAX] = 0x79;
    c->regs[R_EBX] = 0x35;
    assert_int_equal(FX_RUN(f, 0x00, 0xd8), -1);       /* add al,bl */
    c->eip = FX_CODE;
    assert_int_equal(FX_RUN(f, 0x27), -1);             /* daa */
    assert_int_equal(c->regs[R_EAX] & 0xff, 0x14);
    assert_true(fx_flags(f) & EF_CF);
    /* SDM DAS example: 0x35 - 0x47 = 0xEE, DAS -> 0x88, CF=1 */
    c->eip = FX_CODE;
    c->regs[R_EAX] = 0x35;
    c->regs[R_EBX] = 0x47;
    assert_int_equal(FX_RUN(f, 0x28, 0xd8), -1);       /* sub al,bl */
    c->eip = FX_CODE;
    assert_int_equal(FX_RUN(f, 0x2f), -1);
    assert_int_equal(c->regs[R_EAX] & 0xff, 0x88);
    assert_true(fx_flags(f) & EF_CF);
    /* AAA after 8 + 9 = 0x11 with AF: AX = 0x0107 */
    c->eip = FX_CODE;
    c->regs[R_EAX] = 0x08;
    assert_int_equal(FX_RUN(f, 0x04, 0x09), -1);
    c->eip = FX_CODE;
    assert_int_equal(FX_RUN(f, 0x37), -1);
    assert_int_equal(c->regs[R_EAX] & 0xffff, 0x0107);
    /* AAM: 0x3f -> AH=6, AL=3; AAD: back to 0x3f */
    c->eip = FX_CODE;
    c->regs[R_EAX] = 0x3f;
    assert_int_equal(FX_RUN(f, 0xd4, 0x0a), -1);
    assert_int_equal(c->regs[R_EAX] & 0xffff, 0x0603);
    c->eip = FX_CODE;
    assert_int_equal(FX_RUN(f, 0xd5, 0x0a), -1);
    assert_int_equal(c->regs[R_EAX] & 0xffff, 0x003f);
    fx_free(f);
}

static void test_cbw_family(void **st)
{
    Fix *f = fx_real();
    CPUState *c = f->c;
    c->regs[R_EAX] = 0x12345680;
    assert_int_equal(FX_RUN(f, 0x98), -1);             /* cbw (16-bit) */
    assert_int_equal(c->regs[R_EAX], 0x1234ff80);
    c->eip = FX_CODE;
    assert_int_equal(FX_RUN(f, 0x66, 0x98), -1);       /* cwde */
    assert_int_equal(c->regs[R_EAX], 0xffffff80);
    c->eip = FX_CODE;
    c->regs[R_EDX] = 0x11111111;
    assert_int_equal(FX_RUN(f, 0x99), -1);             /* cwd */
    assert_int_equal(c->regs[R_EDX], 0x1111ffff);
    c->eip = FX_CODE;
    assert_int_equal(FX_RUN(f, 0x66, 0x99), -1);       /* cdq */
    assert_int_equal(c->regs[R_EDX], 0xffffffff);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_flags),
        cmocka_unit_test(test_adc_sbb),
        cmocka_unit_test(test_inc_dec_neg),
        cmocka_unit_test(test_logic_clears_cf_of),
        cmocka_unit_test(test_shifts),
        cmocka_unit_test(test_shld_shrd),
        cmocka_unit_test(test_mul_div),
        cmocka_unit_test(test_divide_errors),
        cmocka_unit_test(test_bcd),
        cmocka_unit_test(test_cbw_family),
    };
    return cmocka_run_group_tests_name("interp_alu", tests, NULL, NULL);
}
