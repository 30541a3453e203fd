/* Interpreter: branches, calls, the stack instructions, ENTER/LEAVE,
 * BOUND, software interrupts, and the bit-test/exchange family. */
#include <stdlib.h>
#include "test_interp.h"

static void test_call_ret(void **st)
{
    Fix *f = fx_prot(0);
    CPUState *c = f->c;
    uint32_t sp = c->regs[R_ESP];
    assert_int_equal(FX_RUN(f, 0xe8, 0x10, 0, 0, 0), -1);   /* call +0x10 */
    assert_int_equal(c->eip, FX_CODE + 5 + 0x10);
    assert_int_equal(c->regs[R_ESP], sp - 4);
    assert_int_equal(cpu_ld(c, R_SS, sp - 4, 4), FX_CODE + 5);
    assert_int_equal(FX_RUN(f, 0xc2, 0x08, 0x00), -1);      /* ret 8 */
    assert_int_equal(c->eip, FX_CODE + 5);
    assert_int_equal(c->regs[R_ESP], sp + 8);
    fx_free(f);
}

static void test_jcc_loop(void **st)
{
    Fix *f = fx_prot(0);
    CPUState *c = f->c;
    c->regs[R_EAX] = 1;
    assert_int_equal(FX_RUN(f, 0x83, 0xf8, 0x02), -1);      /* cmp eax,2 */
    assert_int_equal(FX_RUN(f, 0x7c, 0x10), -1);            /* jl +0x10 */
    assert_int_equal(c->eip, FX_CODE + 3 + 2 + 0x10);
    assert_int_equal(FX_RUN(f, 0x7f, 0x10), -1);            /* jg: not taken */
    assert_int_equal(c->eip, FX_CODE + 3 + 2 + 0x10 + 2);
    c->eip = FX_CODE;
    c->regs[R_ECX] = 2;
    assert_int_equal(FX_RUN(f, 0xe2, 0xfe), -1);            /* loop $ */
    assert_int_equal(c->eip, FX_CODE);
    assert_int_equal(fx_step(f), -1);
    assert_int_equal(c->eip, FX_CODE + 2);
    assert_int_equal(c->regs[R_ECX], 0);
    /* a 16-bit jump wraps IP */
    c->eip = FX_CODE;
    assert_int_equal(FX_RUN(f, 0x66, 0xe9, 0x00, 0xf0), -1); /* jmp -0x1000 */
    assert_int_equal(c->eip, (FX_CODE + 4 - 0x1000) & 0xffff);
    fx_free(f);
}

static void test_jump_beyond_limit(void **st)
{
    Fix *f = fx_real();
    CPUState *c = f->c;
    /* real mode: CS limit 0xffff; a 32-bit jump past it is #GP */
    assert_int_equal(FX_RUN(f, 0x66, 0xe9, 0x00, 0x00, 0x01, 0x00), EXC_GP);
    (void)c;
    fx_free(f);
}

static void test_push_pop(void **st)
{
    Fix *f = fx_prot(0);
    CPUState *c = f->c;
    uint32_t sp = c->regs[R_ESP];
    assert_int_equal(FX_RUN(f, 0x54), -1);                  /* push esp */
    assert_int_equal(cpu_ld(c, R_SS, sp - 4, 4), sp);      /* old value */
    assert_int_equal(FX_RUN(f, 0x6a, 0xff), -1);            /* push -1 */
    assert_int_equal(cpu_ld(c, R_SS, sp - 8, 4), 0xffffffff);
    /* pop [esp]: the address is computed after the pop */
    assert_int_equal(FX_RUN(f, 0x8f, 0x04, 0x24), -1);
    assert_int_equal(c->regs[R_ESP], sp - 4);
    assert_int_equal(cpu_ld(c, R_SS, sp - 4, 4), 0xffffffff);
    /* pusha/popa round trip; popa skips ESP */
    for (int r = 0; r < 8; r++)
        if (r != R_ESP)
            c->regs[r] = 0x1000u * (uint32_t)r + 1;
    assert_int_equal(FX_RUN(f, 0x60), -1);
    for (int r = 0; r < 8; r++)
        if (r != R_ESP)
            c->regs[r] = 0;
    assert_int_equal(FX_RUN(f, 0x61), -1);
    for (int r = 0; r < 8; r++)
        if (r != R_ESP)
            assert_int_equal(c->regs[r], 0x1000u * (uint32_t)r + 1);
    assert_int_equal(c->regs[R_ESP], sp - 4);
    fx_free(f);
}

static void test_enter_leave(void **st)
{
    Fix *f = fx_prot(0);
    CPUState *c = f->c;
    uint32_t sp = c->regs[R_ESP];
    c->regs[R_EBP] = sp + 0x40;
    cpu_st(c, R_SS, sp + 0x40 - 4, 0xaaaa0001, 4);   /* outer frame ptrs */
    cpu_st(c, R_SS, sp + 0x40 - 8, 0xaaaa0002, 4);
    assert_int_equal(FX_RUN(f, 0xc8, 0x10, 0x00, 0x03), -1); /* enter 16,3 */
    uint32_t frame = sp - 4;
    assert_int_equal(c->regs[R_EBP], frame);
    assert_int_equal(cpu_ld(c, R_SS, sp - 4, 4), sp + 0x40);   /* old EBP */
    assert_int_equal(cpu_ld(c, R_SS, sp - 8, 4), 0xaaaa0001);
    assert_int_equal(cpu_ld(c, R_SS, sp - 12, 4), 0xaaaa0002);
    assert_int_equal(cpu_ld(c, R_SS, sp - 16, 4), frame);
    assert_int_equal(c->regs[R_ESP], sp - 16 - 16);
    assert_int_equal(FX_RUN(f, 0xc9), -1);                     /* leave */
    assert_int_equal(c->regs[R_ESP], sp);
    assert_int_equal(c->regs[R_EBP], sp + 0x40);
    fx_free(f);
}

static void test_bound(void **st)
{
    Fix *f = fx_prot(0);
    CPUState *c = f->c;
    cpu_st(c, R_DS, FX_DATA, (uint32_t)-5, 4);
    cpu_st(c, R_DS, FX_DATA + 4, 10, 4);
    c->regs[R_EAX] = FX_DATA;
    c->regs[R_ECX] = (uint32_t)-5;
    assert_int_equal(FX_RUN(f, 0x62, 0x08), -1);            /* bound ecx,[eax] */
    c->regs[R_ECX] = 11;
    assert_int_equal(FX_RUN(f, 0x62, 0x08), EXC_BR);
    /* #BR is a fault: it reports the BOUND itself */
    assert_int_equal(cpu_ld(c, R_SS, c->regs[R_ESP], 4), FX_CODE + 2);
    fx_free(f);
}

static void test_int_real_mode(void **st)
{
    Fix *f = fx_real();
    CPUState *c = f->c;
    uint32_t sp = c->regs[R_ESP];
    cpu_set_eflags(c, EF_IF | EF_CF, EF_IF | EF_CF);
    assert_int_equal(FX_RUN(f, 0xcd, 0x21), 0x21);
    assert_int_equal(c->regs[R_ESP], sp - 6);
    assert_int_equal(cpu_ld(c, R_SS, sp - 6, 2), FX_CODE + 2);   /* IP */
    assert_false(fx_flags(f) & EF_IF);
    /* iret back */
    c->eip = FX_CODE + 0x100;
    assert_int_equal(FX_RUN(f, 0xcf), -1);
    assert_int_equal(c->eip, FX_CODE + 2);
    assert_true(fx_flags(f) & EF_IF);
    assert_true(fx_flags(f) & EF_CF);
    /* into with OF clear does nothing; int3 goes to vector 3 */
    assert_int_equal(FX_RUN(f, 0xce), -1);
    assert_int_equal(FX_RUN(f, 0xcc), EXC_BP);
    fx_free(f);
}

static void test_far_call_real(void **st)
{
    Fix *f = fx_real();
    CPUState *c = f->c;
    uint32_t sp = c->regs[R_ESP];
    assert_int_equal(FX_RUN(f, 0x9a, 0x34, 0x12, 0x00, 0x20), -1); /* call 2000:1234 */
    assert_int_equal(c->seg[R_CS].sel, 0x2000);
    assert_int_equal(c->seg[R_CS].base, 0x20000);
    assert_int_equal(c->eip, 0x1234);
    assert_int_equal(cpu_ld(c, R_SS, sp - 2, 2), 0);        /* old CS */
    assert_int_equal(cpu_ld(c, R_SS, sp - 4, 2), FX_CODE + 5);
    assert_int_equal(FX_RUN(f, 0xcb), -1);                  /* retf */
    assert_int_equal(c->seg[R_CS].sel, 0);
    assert_int_equal(c->eip, FX_CODE + 5);
    assert_int_equal(c->regs[R_ESP], sp);
    fx_free(f);
}

static void test_far_beyond_limit_real(void **st)
{
    Fix *f = fx_real();
    CPUState *c = f->c;
    /* jmp far 2000:00012345 (32-bit offset) is past the 64 KiB limit */
    assert_int_equal(FX_RUN(f, 0x66, 0xea, 0x45, 0x23, 0x01, 0x00, 0x00,
                            0x20), EXC_GP);
    assert_int_equal(c->seg[R_CS].sel, 0);
    fx_free(f);
}

static void test_bit_ops(void **st)
{
    Fix *f = fx_prot(0);
    CPUState *c = f->c;
    cpu_st(c, R_DS, FX_DATA, 0, 4);
    cpu_st(c, R_DS, FX_DATA + 4, 0, 4);
    /* bts [eax],ecx with ecx=37 sets bit 5 of the next dword */
    c->regs[R_EAX] = FX_DATA;
    c->regs[R_ECX] = 37;
    assert_int_equal(FX_RUN(f, 0x0f, 0xab, 0x08), -1);
    assert_int_equal(cpu_ld(c, R_DS, FX_DATA + 4, 4), 0x20);
    assert_false(fx_flags(f) & EF_CF);
    assert_int_equal(FX_RUN(f, 0x0f, 0xa3, 0x08), -1);      /* bt: now set */
    assert_true(fx_flags(f) & EF_CF);
    /* negative offsets reach below the operand */
    c->regs[R_EAX] = FX_DATA + 8;
    c->regs[R_ECX] = (uint32_t)-27;                         /* bit 5 of +4 */
    assert_int_equal(FX_RUN(f, 0x0f, 0xb3, 0x08), -1);      /* btr */
    assert_true(fx_flags(f) & EF_CF);
    assert_int_equal(cpu_ld(c, R_DS, FX_DATA + 4, 4), 0);
    /* register form masks the offset */
    c->regs[R_EDX] = 1;
    c->regs[R_ECX] = 32;
    assert_int_equal(FX_RUN(f, 0x0f, 0xbb, 0xca), -1);      /* btc edx,ecx */
    assert_int_equal(c->regs[R_EDX], 0);
    /* bsf/bsr */
    c->regs[R_EBX] = 0x00f0;
    assert_int_equal(FX_RUN(f, 0x0f, 0xbc, 0xc3), -1);      /* bsf eax,ebx */
    assert_int_equal(c->regs[R_EAX], 4);
    assert_int_equal(FX_RUN(f, 0x0f, 0xbd, 0xc3), -1);      /* bsr eax,ebx */
    assert_int_equal(c->regs[R_EAX], 7);
    c->regs[R_EBX] = 0;
    assert_int_equal(FX_RUN(f, 0x0f, 0xbc, 0xc3), -1);
    assert_true(fx_flags(f) & EF_ZF);
    assert_int_equal(c->regs[R_EAX], 7);                    /* unchanged */
    c->regs[R_ECX] = 0x11223344;
    assert_int_equal(FX_RUN(f, 0x0f, 0xc9), -1);            /* bswap ecx */
    assert_int_equal(c->regs[R_ECX], 0x44332211);
    fx_free(f);
}

static void test_xadd_cmpxchg(void **st)
{
    Fix *f = fx_prot(0);
    CPUState *c = f->c;
    cpu_st(c, R_DS, FX_DATA, 5, 4);
    c->regs[R_EBX] = FX_DATA;
    c->regs[R_ECX] = 3;
    assert_int_equal(FX_RUN(f, 0xf0, 0x0f, 0xc1, 0x0b), -1); /* lock xadd [ebx],ecx */
    assert_int_equal(cpu_ld(c, R_DS, FX_DATA, 4), 8);
    assert_int_equal(c->regs[R_ECX], 5);
    c->regs[R_EAX] = 8;
    c->regs[R_EDX] = 42;
    assert_int_equal(FX_RUN(f, 0x0f, 0xb1, 0x13), -1);       /* cmpxchg [ebx],edx */
    assert_true(fx_flags(f) & EF_ZF);
    assert_int_equal(cpu_ld(c, R_DS, FX_DATA, 4), 42);
    assert_int_equal(FX_RUN(f, 0x0f, 0xb1, 0x13), -1);       /* now differs */
    assert_false(fx_flags(f) & EF_ZF);
    assert_int_equal(c->regs[R_EAX], 42);
    /* cmpxchg8b */
    cpu_st64(c, R_DS, FX_DATA, 0x1111111122222222ull);
    c->regs[R_EDX] = 0x11111111;
    c->regs[R_EAX] = 0x22222222;
    c->regs[R_ECX] = 0xcafe;
    c->regs[R_EBX] = 0xbabe;
    c->regs[R_ESI] = FX_DATA;
    assert_int_equal(FX_RUN(f, 0x0f, 0xc7, 0x0e), -1);       /* cmpxchg8b [esi] */
    assert_true(fx_flags(f) & EF_ZF);
    assert_int_equal(cpu_ld64(c, R_DS, FX_DATA), 0x0000cafe0000babeull);
    assert_int_equal(FX_RUN(f, 0x0f, 0xc7, 0x0e), -1);
    assert_false(fx_flags(f) & EF_ZF);
    assert_int_equal(c->regs[R_EDX], 0xcafe);
    assert_int_equal(c->regs[R_EAX], 0xbabe);
    fx_free(f);
}

static void test_cmov_setcc(void **st)
{
    Fix *f = fx_prot(0);
    CPUState *c = f->c;
    c->regs[R_EAX] = 1;
    c->regs[R_ECX] = 2;
    assert_int_equal(FX_RUN(f, 0x39, 0xc8), -1);             /* cmp eax,ecx */
    assert_int_equal(FX_RUN(f, 0x0f, 0x4c, 0xd1), -1);       /* cmovl edx,ecx */
    assert_int_equal(c->regs[R_EDX], 2);
    assert_int_equal(FX_RUN(f, 0x0f, 0x9f, 0xc3), -1);       /* setg bl */
    assert_int_equal(c->regs[R_EBX] & 0xff, 0);
    assert_int_equal(FX_RUN(f, 0x0f, 0x92, 0xc7), -1);       /* setb bh */
    assert_int_equal((c->regs[R_EBX] >> 8) & 0xff, 1);
    fx_free(f);
}

static void test_self_modifying_code(void **st)
{
    Fix *f = fx_real();
    CPUState *c = f->c;
    assert_int_equal(FX_RUN(f, 0x40), -1);                   /* inc ax */
    assert_int_equal(c->regs[R_EAX] & 0xffff, 1);
    /* the guest rewrites the instruction it just ran: mov byte [0x1000],0x48 */
    c->eip = FX_CODE + 0x10;
    assert_int_equal(FX_RUN(f, 0xc6, 0x06, 0x00, 0x10, 0x48), -1);
    c->eip = FX_CODE;
    assert_int_equal(fx_step(f), -1);                        /* now dec ax */
    assert_int_equal(c->regs[R_EAX] & 0xffff, 0);
    fx_free(f);
}

/* An instruction that straddles a page boundary: #PF for the second page
 * (CR2 = its address) when it is not present, correct execution once it
 * is, and a change to its bytes on the second page is seen (straddling
 * instructions are never served from the decode cache). */
static void test_page_straddle(void **st)
{
    Fix *f = fx_prot(0);
    CPUState *c = f->c;
    const uint32_t pd = 0x20000, pt = 0x21000, code = 0x10ffd;
    fx_w32(f, pd, pt | 3);
    for (uint32_t i = 0; i < 1024; i++)
        fx_w32(f, pt + 4 * i, i == 0x11 ? 0 : (i << 12) | 3);
    cpu_set_cr3(c, pd);
    cpu_set_cr0(c, c->cr0 | CR0_PG);
    static const uint8_t mov[] = { 0xb8, 0x44, 0x33, 0x22, 0x11 };
    bus_mem_rw(&f->bus, code, (void *)mov, sizeof mov, true);
    c->eip = code;
    assert_int_equal(fx_step(f), EXC_PF);
    assert_int_equal(c->cr2, 0x11000);
    assert_int_equal(fx_errcode(f), 0);       /* not present, supervisor read */
    assert_int_equal(cpu_ld(c, R_SS, c->regs[R_ESP] + 4, 4), code);
    /* map it and run the instruction */
    fx_w32(f, pt + 4 * 0x11, 0x11000 | 3);
    cpu_tlb_flush(c, true);
    c->eip = code;
    c->regs[R_ESP] = FX_STACK0;
    assert_int_equal(fx_step(f), -1);
    assert_int_equal(c->regs[R_EAX], 0x11223344);
    /* the last byte lives on the second page: change it and re-run */
    uint8_t b = 0x99;
    bus_mem_rw(&f->bus, 0x11001, &b, 1, true);
    c->eip = code;
    assert_int_equal(fx_step(f), -1);
    assert_int_equal(c->regs[R_EAX], 0x99223344);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_call_ret),
        cmocka_unit_test(test_jcc_loop),
        cmocka_unit_test(test_jump_beyond_limit),
        cmocka_unit_test(test_push_pop),
        cmocka_unit_test(test_enter_leave),
        cmocka_unit_test(test_bound),
        cmocka_unit_test(test_int_real_mode),
        cmocka_unit_test(test_far_call_real),
        cmocka_unit_test(test_far_beyond_limit_real),
        cmocka_unit_test(test_bit_ops),
        cmocka_unit_test(test_xadd_cmpxchg),
        cmocka_unit_test(test_cmov_setcc),
        cmocka_unit_test(test_self_modifying_code),
        cmocka_unit_test(test_page_straddle),
    };
    return cmocka_run_group_tests_name("interp_control", tests, NULL, NULL);
}
