/* The decoder: Kestrel's fixes for capstone 4.0.2 (each entry of the
 * fix tables in cpu/decode.c), operand resolution, and what must decode
 * as invalid (#UD). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>
#include "cpu/cpu.h"
#include "cpu/decode.h"

static int dec(int mode, Insn *in, int n, ...)
{
    uint8_t b[16];
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++)
        b[i] = (uint8_t)va_arg(ap, int);
    va_end(ap);
    return x86_decode(b, n, mode, in);
}

static void test_fixup_82_alias(void **st)
{
    Insn in;
    /* 82 /0 ib = ADD r/m8, imm8 (capstone rejects it in 16-bit code) */
    assert_int_equal(dec(16, &in, 3, 0x82, 0xc0, 0x05), 3);
    assert_int_equal(in.op, OP_ADD);
    assert_int_equal(in.ops[0].kind, OPK_REG);
    assert_int_equal(in.ops[0].reg, 0);
    assert_int_equal(in.ops[1].imm, 5);
    assert_int_equal(in.opcode[0], 0x82);
    assert_int_equal(dec(32, &in, 3, 0x82, 0xf9, 0x10), 3);   /* cmp cl,16 */
    assert_int_equal(in.op, OP_CMP);
}

static void test_fixup_reserved_nops(void **st)
{
    Insn in;
    /* 0F 1F /0 with a register operand is NOP (capstone rejects it) */
    for (int op = 0x1a; op <= 0x1f; op++) {
        assert_int_equal(dec(32, &in, 3, 0x0f, op, 0xc7), 3);
        assert_int_equal(in.op, OP_NOP);
        assert_int_equal(in.opcode[1], op);
    }
    assert_int_equal(dec(32, &in, 3, 0x0f, 0x18, 0xdb), 3);
    assert_int_equal(in.op, OP_NOP);
    assert_int_equal(dec(32, &in, 7, 0x0f, 0x18, 0x05, 0, 0, 0, 0), 7);
    assert_int_equal(in.op, OP_NOP);
    assert_int_equal(dec(16, &in, 4, 0x66, 0x0f, 0x1f, 0xc0), 4);
    assert_int_equal(in.op, OP_NOP);
    /* memory forms were right already: 0F 1F 44 00 00 is 5 bytes */
    assert_int_equal(dec(32, &in, 5, 0x0f, 0x1f, 0x44, 0x00, 0x00), 5);
    assert_int_equal(in.op, OP_NOP);
}

static void test_older_meanings(void **st)
{
    Insn in;
    /* rep bsf (TZCNT on BMI1 CPUs) is BSF on a P6 */
    assert_int_equal(dec(32, &in, 4, 0xf3, 0x0f, 0xbc, 0xdb), 4);
    assert_int_equal(in.op, OP_BSF);
    assert_int_equal(in.ops[0].reg, R_EBX);
    assert_int_equal(dec(32, &in, 4, 0xf3, 0x0f, 0xbd, 0xc1), 4);
    assert_int_equal(in.op, OP_BSR);
    /* POPCNT has no older meaning: #UD */
    assert_int_equal(dec(32, &in, 4, 0xf3, 0x0f, 0xb8, 0xc1), 0);
}

static void test_fixup_cbw_names(void **st)
{
    Insn in;
    assert_int_equal(dec(16, &in, 1, 0x98), 1);
    assert_int_equal(in.op, OP_CBW);
    assert_int_equal(dec(16, &in, 2, 0x66, 0x98), 2);
    assert_int_equal(in.op, OP_CWDE);
    assert_int_equal(dec(16, &in, 1, 0x99), 1);
    assert_int_equal(in.op, OP_CWD);
    assert_int_equal(dec(32, &in, 1, 0x99), 1);
    assert_int_equal(in.op, OP_CDQ);
    assert_int_equal(dec(32, &in, 2, 0x66, 0x98), 2);
    assert_int_equal(in.op, OP_CBW);
}

static void test_fixup_prefix_order(void **st)
{
    Insn in;
    /* 66 before F3 still makes REP STOSW a word operation */
    assert_int_equal(dec(32, &in, 3, 0x66, 0xf3, 0xab), 3);
    assert_int_equal(in.op, OP_STOSW);
    assert_int_equal(in.opsize, 2);
    assert_true(in.prefixes & PFX_REP);
    assert_int_equal(dec(16, &in, 4, 0x66, 0x67, 0xf3, 0xa5), 4);
    assert_int_equal(in.op, OP_MOVSD);
    assert_int_equal(in.addrsize, 4);
    /* F3 90 is PAUSE */
    assert_int_equal(dec(32, &in, 2, 0xf3, 0x90), 2);
    assert_int_equal(in.op, OP_PAUSE);
}

static void test_lock_rules(void **st)
{
    Insn in;
    assert_int_equal(dec(16, &in, 3, 0xf0, 0x01, 0x00), 3);  /* lock add [bx+si],ax */
    assert_int_equal(in.op, OP_ADD);
    assert_true(in.prefixes & PFX_LOCK);
    assert_int_equal(dec(16, &in, 3, 0xf0, 0x01, 0xc0), 0);  /* register dest */
    assert_int_equal(in.op, OP_INVALID);
    assert_int_equal(dec(32, &in, 2, 0xf0, 0x40), 0);        /* lock inc eax */
    assert_int_equal(dec(32, &in, 3, 0xf0, 0x8b, 0x00), 0);  /* lock mov */
    assert_int_equal(dec(32, &in, 3, 0xf0, 0x39, 0x00), 0);  /* lock cmp */
    assert_int_equal(dec(32, &in, 4, 0xf0, 0x0f, 0xc7, 0x08), 4); /* cmpxchg8b */
    assert_int_equal(in.op, OP_CMPXCHG8B);
    assert_int_equal(dec(32, &in, 3, 0xf0, 0x87, 0x03), 3);  /* xchg [ebx],eax */
}

static void test_invalid(void **st)
{
    Insn in;
    assert_int_equal(dec(32, &in, 2, 0x0f, 0x0b), 2);        /* UD2 decodes... */
    assert_int_equal(in.op, OP_UD2);                          /* ...to raise #UD */
    assert_int_equal(dec(32, &in, 3, 0xc6, 0xf8, 0x00), 0);  /* XABORT: not P6 */
    assert_int_equal(dec(32, &in, 2, 0x8c, 0xf8), 0);        /* mov eax,sreg7 */
    assert_int_equal(dec(32, &in, 2, 0xff, 0xff), 0);        /* ff /7 */
    assert_int_equal(dec(32, &in, 3, 0x0f, 0xc7, 0xc8), 0);  /* cmpxchg8b reg */
    assert_int_equal(dec(32, &in, 2, 0x0f, 0x05), 0);        /* syscall */
    assert_int_equal(dec(32, &in, 2, 0x8d, 0xc0), 0);        /* lea reg,reg */
    /* more than 15 bytes */
    uint8_t b[16];
    for (int i = 0; i < 15; i++)
        b[i] = 0x66;
    b[15] = 0x90;
    assert_int_equal(x86_decode(b, 16, 32, &in), 0);
    /* truncated */
    assert_int_equal(dec(32, &in, 2, 0xb8, 0x01), 0);
}

static void test_operands(void **st)
{
    Insn in;
    /* mov ax,[bp+si+5]: SS by default through BP */
    assert_int_equal(dec(16, &in, 3, 0x8b, 0x42, 0x05), 3);
    assert_int_equal(in.op, OP_MOV);
    assert_int_equal(in.ops[1].kind, OPK_MEM);
    assert_int_equal(in.ops[1].seg, R_SS);
    assert_int_equal(in.ops[1].base, R_EBP);
    assert_int_equal(in.ops[1].index, R_ESI);
    assert_int_equal(in.ops[1].disp, 5);
    assert_int_equal(in.ops[1].size, 2);
    /* with ES override */
    assert_int_equal(dec(16, &in, 4, 0x26, 0x8b, 0x42, 0x05), 4);
    assert_int_equal(in.ops[1].seg, R_ES);
    assert_int_equal(in.seg_override, R_ES);
    /* mov eax,[esp+ecx*4+0x10] */
    assert_int_equal(dec(32, &in, 4, 0x8b, 0x44, 0x8c, 0x10), 4);
    assert_int_equal(in.ops[1].seg, R_SS);
    assert_int_equal(in.ops[1].base, R_ESP);
    assert_int_equal(in.ops[1].index, R_ECX);
    assert_int_equal(in.ops[1].scale, 4);
    /* byte registers keep the ModR/M numbering: AH is 4 */
    assert_int_equal(dec(32, &in, 2, 0x88, 0xe0), 2);        /* mov al,ah */
    assert_int_equal(in.ops[1].reg, 4);
    assert_int_equal(in.ops[1].size, 1);
    /* relative branches carry the displacement */
    assert_int_equal(dec(32, &in, 5, 0xe9, 0xfb, 0xff, 0xff, 0xff), 5);
    assert_int_equal(in.op, OP_JMP);
    assert_true(in.iflags & IF_REL);
    assert_int_equal(in.ops[0].imm, (uint32_t)-5);
    assert_int_equal(dec(16, &in, 2, 0x74, 0x80), 2);        /* je -128 */
    assert_int_equal(in.cond, 4);
    assert_int_equal((int16_t)in.ops[0].imm, -128);
    /* sizes from the prefixes */
    assert_int_equal(dec(16, &in, 3, 0x66, 0x67, 0x90), 3);
    assert_int_equal(in.opsize, 4);
    assert_int_equal(in.addrsize, 4);
    /* control registers */
    assert_int_equal(dec(32, &in, 3, 0x0f, 0x22, 0xd8), 3);  /* mov cr3,eax */
    assert_int_equal(in.ops[0].rclass, RC_CR);
    assert_int_equal(in.ops[0].reg, 3);
    /* flags: ADC reads CF, writes the six */
    assert_int_equal(dec(32, &in, 2, 0x11, 0xc0), 2);
    assert_true(in.flags_read & EF_CF);
    assert_int_equal(in.flags_written & EF_ARITH, EF_ARITH);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixup_82_alias),
        cmocka_unit_test(test_fixup_reserved_nops),
        cmocka_unit_test(test_older_meanings),
        cmocka_unit_test(test_fixup_cbw_names),
        cmocka_unit_test(test_fixup_prefix_order),
        cmocka_unit_test(test_lock_rules),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_operands),
    };
    return cmocka_run_group_tests_name("decode", tests, NULL, NULL);
}
