/* Interpreter: privileged instructions fault at CPL 3, the interrupt flag
 * rules, #UD for invalid encodings, and the system registers at CPL 0. */
#include <stdlib.h>
#include "test_interp.h"

/* Every one of these raises #GP(0) at CPL 3 (IOPL 0) and changes nothing. */
static void test_privileged_at_cpl3(void **st)
{
    static const struct { const char *name; uint8_t b[8]; int n; } cases[] = {
        { "hlt", { 0xf4 }, 1 },
        { "cli", { 0xfa }, 1 },
        { "sti", { 0xfb }, 1 },
        { "mov cr0,eax", { 0x0f, 0x22, 0xc0 }, 3 },
        { "mov eax,cr3", { 0x0f, 0x20, 0xd8 }, 3 },
        { "mov dr7,eax", { 0x0f, 0x23, 0xf8 }, 3 },
        { "lgdt [eax]", { 0x0f, 0x01, 0x10 }, 3 },
        { "lidt [eax]", { 0x0f, 0x01, 0x18 }, 3 },
        { "lmsw ax", { 0x0f, 0x01, 0xf0 }, 3 },
        { "clts", { 0x0f, 0x06 }, 2 },
        { "invlpg [eax]", { 0x0f, 0x01, 0x38 }, 3 },
        { "wbinvd", { 0x0f, 0x09 }, 2 },
        { "invd", { 0x0f, 0x08 }, 2 },
        { "rdmsr", { 0x0f, 0x32 }, 2 },
        { "wrmsr", { 0x0f, 0x30 }, 2 },
        { "lldt ax", { 0x0f, 0x00, 0xd0 }, 3 },
        { "ltr ax", { 0x0f, 0x00, 0xd8 }, 3 },
        { "in al,0x60", { 0xe4, 0x60 }, 2 },
        { "out dx,al", { 0xee }, 1 },
        { "insb", { 0x6c }, 1 },
        { "outsb", { 0x6e }, 1 },
    };
    for (unsigned i = 0; i < sizeof cases / sizeof *cases; i++) {
        Fix *f = fx_prot(3);
        CPUState *c = f->c;
        c->regs[R_EAX] = FX_DATA;
        uint32_t cr0 = c->cr0, efl = fx_flags(f);
        fx_load(f, cases[i].b, (size_t)cases[i].n);
        int v = fx_step(f);
        if (v != EXC_GP)
            fail_msg("%s: vector %d, expected #GP", cases[i].name, v);
        /* ring-0 handler: frame is err, eip, cs, eflags, esp, ss */
        assert_int_equal(fx_errcode(f), 0);
        assert_int_equal(cpu_ld(c, R_SS, c->regs[R_ESP] + 4, 4), FX_CODE);
        assert_int_equal(c->cr0, cr0);
        assert_false(c->halted);
        assert_int_equal(cpu_ld(c, R_SS, c->regs[R_ESP] + 12, 4) & EF_IF,
                         efl & EF_IF);
        fx_free(f);
    }
}

static void test_unprivileged_at_cpl3(void **st)
{
    Fix *f = fx_prot(3);
    CPUState *c = f->c;
    c->regs[R_EAX] = 0;
    assert_int_equal(FX_RUN(f, 0x0f, 0xa2), -1);        /* cpuid */
    assert_true(c->regs[R_EAX] >= 1);
    assert_int_equal(FX_RUN(f, 0x0f, 0x31), -1);        /* rdtsc */
    c->regs[R_EAX] = FX_DATA;
    assert_int_equal(FX_RUN(f, 0x0f, 0x01, 0x00), -1);  /* sgdt [eax] */
    assert_int_equal(cpu_ld(c, R_DS, FX_DATA + 2, 4), FX_GDT);
    assert_int_equal(FX_RUN(f, 0x0f, 0x01, 0xe1), -1);  /* smsw ecx */
    assert_int_equal(c->regs[R_ECX], c->cr0);
    assert_int_equal(FX_RUN(f, 0x0f, 0x00, 0xc8), -1);  /* str ax */
    assert_int_equal(c->regs[R_EAX] & 0xffff, SEL_TSS);
    fx_free(f);
}

static void test_rdtsc_tsd(void **st)
{
    Fix *f = fx_prot(3);
    f->c->cr4 |= CR4_TSD;
    assert_int_equal(FX_RUN(f, 0x0f, 0x31), EXC_GP);
    fx_free(f);
}

static void test_iopl3_allows_cli_io(void **st)
{
    Fix *f = fx_prot(3);
    CPUState *c = f->c;
    cpu_set_eflags(c, 3u << 12, EF_IOPL);
    assert_int_equal(FX_RUN(f, 0xfa), -1);              /* cli */
    assert_false(fx_flags(f) & EF_IF);
    assert_int_equal(FX_RUN(f, 0xfb), -1);              /* sti */
    assert_true(fx_flags(f) & EF_IF);
    assert_true(c->inhibit_irq);                         /* STI shadow */
    assert_int_equal(FX_RUN(f, 0xe4, 0x80), -1);        /* in al,0x80 */
    assert_false(c->inhibit_irq);                        /* one insn only */
    fx_free(f);
}

static void test_popf_cpl3_keeps_iopl_if(void **st)
{
    Fix *f = fx_prot(3);
    /* push 0x3000 | CF ... popfd: IOPL and IF stay (CPL 3 > IOPL 0) */
    assert_int_equal(FX_RUN(f, 0x68, 0x01, 0x30, 0x00, 0x00), -1);
    assert_int_equal(FX_RUN(f, 0x9d), -1);
    uint32_t fl = fx_flags(f);
    assert_true(fl & EF_CF);
    assert_int_equal(fl & EF_IOPL, 0);
    assert_true(fl & EF_IF);
    fx_free(f);
}

static void test_invalid_encodings(void **st)
{
    static const struct { const char *name; uint8_t b[8]; int n; } cases[] = {
        { "ud2", { 0x0f, 0x0b }, 2 },
        { "lock nop", { 0xf0, 0x90 }, 2 },
        { "lock add eax,ecx", { 0xf0, 0x01, 0xc8 }, 3 },
        { "lock mov [eax],eax", { 0xf0, 0x89, 0x00 }, 3 },
        { "lea eax,eax", { 0x8d, 0xc0 }, 2 },
        { "mov cs,ax", { 0x8e, 0xc8 }, 2 },
        { "mov eax,cr1", { 0x0f, 0x20, 0xc8 }, 3 },
        { "cmpxchg8b eax", { 0x0f, 0xc7, 0xc8 }, 3 },
        { "les eax,ecx", { 0xc4, 0xc1 }, 2 },
        { "ff /7", { 0xff, 0xf8 }, 2 },
        { "xabort (c6 f8)", { 0xc6, 0xf8, 0x00 }, 3 },
        { "syscall", { 0x0f, 0x05 }, 2 },
    };
    for (unsigned i = 0; i < sizeof cases / sizeof *cases; i++) {
        Fix *f = fx_prot(0);
        f->c->regs[R_EAX] = FX_DATA;
        fx_load(f, cases[i].b, (size_t)cases[i].n);
        int v = fx_step(f);
        if (v != EXC_UD)
            fail_msg("%s: vector %d, expected #UD", cases[i].name, v);
        fx_free(f);
    }
}

/* More than 15 bytes (here 12 redundant prefixes before a 5-byte MOV):
 * #GP(0), not #UD; 15 bytes exactly still run. */
static void test_too_long(void **st)
{
    Fix *f = fx_prot(0);
    uint8_t b[17];
    memset(b, 0x3e, 12);
    b[12] = 0xb8;
    memset(b + 13, 0x11, 4);
    fx_load(f, b, sizeof b);
    assert_int_equal(fx_step(f), EXC_GP);
    fx_free(f);
    f = fx_prot(0);
    fx_load(f, b + 2, 15);
    assert_int_equal(fx_step(f), -1);
    assert_int_equal(f->c->regs[R_EAX], 0x11111111);
    fx_free(f);
}

static void test_pmode_only_in_real_mode(void **st)
{
    /* LLDT, LAR and ARPL do not exist in real mode */
    Fix *f = fx_real();
    assert_int_equal(FX_RUN(f, 0x0f, 0x00, 0xd0), EXC_UD);
    fx_free(f);
    f = fx_real();
    assert_int_equal(FX_RUN(f, 0x0f, 0x02, 0xc0), EXC_UD);
    fx_free(f);
    f = fx_real();
    assert_int_equal(FX_RUN(f, 0x63, 0xc0), EXC_UD);
    fx_free(f);
}

static void test_cpl0_system_registers(void **st)
{
    Fix *f = fx_prot(0);
    CPUState *c = f->c;
    c->regs[R_EAX] = CR4_PSE;
    assert_int_equal(FX_RUN(f, 0x0f, 0x22, 0xe0), -1);  /* mov cr4,eax */
    assert_true(c->cr4 & CR4_PSE);
    assert_int_equal(FX_RUN(f, 0x0f, 0x20, 0xe1), -1);  /* mov ecx,cr4 */
    assert_int_equal(c->regs[R_ECX], c->cr4);
    /* lidt from memory */
    cpu_st(c, R_DS, FX_DATA, 0x7ff, 2);
    cpu_st(c, R_DS, FX_DATA + 2, 0x12345678, 4);
    c->regs[R_EAX] = FX_DATA;
    assert_int_equal(FX_RUN(f, 0x0f, 0x01, 0x18), -1);
    assert_int_equal(c->idt.base, 0x12345678);
    assert_int_equal(c->idt.limit, 0x7ff);
    /* and with a 16-bit operand size only 24 bits of base load */
    assert_int_equal(FX_RUN(f, 0x66, 0x0f, 0x01, 0x18), -1);
    assert_int_equal(c->idt.base, 0x345678);
    c->idt.base = FX_IDT;
    c->idt.limit = 256 * 8 - 1;
    /* lmsw cannot clear PE */
    c->regs[R_EAX] = 0;
    assert_int_equal(FX_RUN(f, 0x0f, 0x01, 0xf0), -1);
    assert_true(c->cr0 & CR0_PE);
    /* wrmsr/rdmsr round trip through SYSENTER_CS */
    c->regs[R_ECX] = 0x174;
    c->regs[R_EAX] = 0x10;
    c->regs[R_EDX] = 0;
    assert_int_equal(FX_RUN(f, 0x0f, 0x30), -1);
    c->regs[R_EAX] = 0;
    assert_int_equal(FX_RUN(f, 0x0f, 0x32), -1);
    assert_int_equal(c->regs[R_EAX], 0x10);
    /* hlt at CPL 0 halts */
    assert_int_equal(FX_RUN(f, 0xf4), -1);
    assert_true(c->halted);
    fx_free(f);
}

static void test_mov_ss_shadow(void **st)
{
    Fix *f = fx_real();
    CPUState *c = f->c;
    c->regs[R_EAX] = 0;
    assert_int_equal(FX_RUN(f, 0x8e, 0xd0), -1);        /* mov ss,ax */
    assert_true(c->inhibit_irq);
    fx_free(f);
}

static void test_fpu_state(void **st)
{
    Fix *f = fx_prot(0);
    CPUState *c = f->c;
    assert_int_equal(FX_RUN(f, 0xdb, 0xe3), -1);        /* fninit */
    c->regs[R_EAX] = 0xffff;
    assert_int_equal(FX_RUN(f, 0xdf, 0xe0), -1);        /* fnstsw ax */
    assert_int_equal(c->regs[R_EAX] & 0xffff, 0);
    c->regs[R_EAX] = FX_DATA;
    assert_int_equal(FX_RUN(f, 0xd9, 0x38), -1);        /* fnstcw [eax] */
    assert_int_equal(cpu_ld(c, R_DS, FX_DATA, 2), 0x037f);
    /* with CR0.TS an x87 insn raises #NM */
    c->cr0 |= CR0_TS;
    assert_int_equal(FX_RUN(f, 0xdb, 0xe3), EXC_NM);
    fx_free(f);
}

/* Linux's FDIV-bug check (arch/x86/kernel/fpu/bugs.c), as the kernel runs
 * it at boot: x - (x / y) * y must come out as exactly 0. */
static void test_fpu_fdiv_check(void **st)
{
    Fix *f = fx_prot(0);
    CPUState *c = f->c;
    double x = 4195835.0, y = 3145727.0;
    uint64_t u;
    memcpy(&u, &x, 8);
    cpu_st64(c, R_DS, FX_DATA, u);
    memcpy(&u, &y, 8);
    cpu_st64(c, R_DS, FX_DATA + 8, u);
    cpu_st(c, R_DS, FX_DATA + 16, 0x12345678, 4);
    c->regs[R_EAX] = FX_DATA;
    assert_int_equal(FX_RUN(f, 0xdb, 0xe3), -1);            /* fninit */
    assert_int_equal(FX_RUN(f, 0xdd, 0x00), -1);            /* fld qword [eax] */
    assert_int_equal(FX_RUN(f, 0xdc, 0x70, 0x08), -1);      /* fdiv qword [eax+8] */
    assert_int_equal(FX_RUN(f, 0xdc, 0x48, 0x08), -1);      /* fmul qword [eax+8] */
    assert_int_equal(FX_RUN(f, 0xdd, 0x00), -1);            /* fld qword [eax] */
    assert_int_equal(FX_RUN(f, 0xde, 0xe9), -1);            /* fsubp st(1),st */
    assert_int_equal(FX_RUN(f, 0xdb, 0x58, 0x10), -1);      /* fistp dword [eax+16] */
    assert_int_equal(FX_RUN(f, 0x9b), -1);                  /* fwait */
    assert_int_equal(cpu_ld(c, R_DS, FX_DATA + 16, 4), 0);
    /* the stack is empty again: TOP back to 0, all tags empty */
    assert_int_equal(c->fpu.ftw, 0xffff);
    assert_int_equal(FX_RUN(f, 0xdf, 0xe0), -1);            /* fnstsw ax */
    assert_int_equal((c->regs[R_EAX] >> 11) & 7, 0);
    /* 1 + 1 = 2 compared with 2: equal (ZF) through fcomi */
    assert_int_equal(FX_RUN(f, 0xd9, 0xe8), -1);            /* fld1 */
    assert_int_equal(FX_RUN(f, 0xd9, 0xe8), -1);            /* fld1 */
    assert_int_equal(FX_RUN(f, 0xd8, 0xc1), -1);            /* fadd st,st(1) */
    c->regs[R_EAX] = FX_DATA;
    cpu_st(c, R_DS, FX_DATA + 24, 2, 4);
    assert_int_equal(FX_RUN(f, 0xdb, 0x40, 0x18), -1);      /* fild dword [eax+24] */
    assert_int_equal(FX_RUN(f, 0xdb, 0xf1), -1);            /* fcomi st,st(1) */
    assert_int_equal(fx_flags(f) & (EF_ZF | EF_CF | EF_PF), EF_ZF);
    fx_free(f);
}

/* Virtual-8086 mode: IOPL-sensitive instructions fault with IOPL < 3,
 * VME moves CLI/STI/PUSHF/POPF onto VIF, and I/O follows the TSS bitmap
 * (here: none, so every port faults) whatever the IOPL. */
static void test_v86_sensitive(void **st)
{
    static const struct { const char *name; uint8_t b[4]; int n; } gp[] = {
        { "int 0x21", { 0xcd, 0x21 }, 2 }, { "cli", { 0xfa }, 1 },
        { "sti", { 0xfb }, 1 }, { "pushf", { 0x9c }, 1 },
        { "popf", { 0x9d }, 1 }, { "iret", { 0xcf }, 1 },
        { "hlt", { 0xf4 }, 1 }, { "in al,dx", { 0xec }, 1 },
        { "mov eax,cr0", { 0x0f, 0x20, 0xc0 }, 3 },
        { "lldt ax (#UD)", { 0x0f, 0x00, 0xd0 }, 3 },
    };
    for (unsigned i = 0; i < sizeof gp / sizeof *gp; i++) {
        Fix *f = fx_v86(0, false);
        fx_load(f, gp[i].b, (size_t)gp[i].n);
        int v = fx_step(f);
        int want = i == 9 ? EXC_UD : EXC_GP;
        if (v != want)
            fail_msg("%s: vector %d, expected %d", gp[i].name, v, want);
        assert_false(f->c->halted);
        fx_free(f);
    }
}

static void test_v86_vme_and_iopl3(void **st)
{
    Fix *f = fx_v86(0, true);
    CPUState *c = f->c;
    c->eflags |= EF_VIF;
    assert_int_equal(FX_RUN(f, 0xfa), -1);               /* cli -> VIF */
    assert_true(c->eflags & EF_IF);
    assert_false(c->eflags & EF_VIF);
    assert_int_equal(FX_RUN(f, 0x9c), -1);               /* pushf: IF=VIF */
    uint32_t img = cpu_ld(c, R_SS, c->regs[R_ESP] & 0xffff, 2);
    assert_false(img & EF_IF);
    assert_int_equal(img & EF_IOPL, EF_IOPL);
    assert_int_equal(FX_RUN(f, 0x66, 0x9c), EXC_GP);    /* pushfd: #GP */
    fx_free(f);

    f = fx_v86(3, false);
    c = f->c;
    assert_int_equal(FX_RUN(f, 0xfa), -1);               /* IOPL 3: real CLI */
    assert_false(c->eflags & EF_IF);
    assert_int_equal(FX_RUN(f, 0x9c), -1);
    assert_int_equal(FX_RUN(f, 0x9d), -1);
    assert_true(c->eflags & EF_VM);                      /* POPF keeps VM */
    assert_int_equal(FX_RUN(f, 0xe4, 0x80), EXC_GP);    /* no I/O bitmap */
    fx_free(f);
}

static void put_double(CPUState *c, uint32_t a, double x)
{
    uint64_t u;
    memcpy(&u, &x, 8);
    cpu_st64(c, R_DS, a, u);
}

static double get_double(CPUState *c, uint32_t a)
{
    uint64_t u = cpu_ld64(c, R_DS, a);
    double x;
    memcpy(&x, &u, 8);
    return x;
}

/* More x87: integer operands, sqrt, constants, FPREM quotient bits,
 * FCMOV, packed BCD, and rounding control in FIST. */
static void test_fpu_more(void **st)
{
    Fix *f = fx_prot(0);
    CPUState *c = f->c;
    c->regs[R_EAX] = FX_DATA;
    put_double(c, FX_DATA, 2.0);
    cpu_st(c, R_DS, FX_DATA + 8, 7, 4);
    assert_int_equal(FX_RUN(f, 0xdb, 0xe3), -1);            /* fninit */
    assert_int_equal(FX_RUN(f, 0xdd, 0x00), -1);            /* fld qword [eax] */
    assert_int_equal(FX_RUN(f, 0xda, 0x40, 0x08), -1);      /* fiadd dword [eax+8] */
    assert_int_equal(FX_RUN(f, 0xd9, 0xfa), -1);            /* fsqrt: sqrt(9) */
    assert_int_equal(FX_RUN(f, 0xdd, 0x58, 0x10), -1);      /* fstp qword [eax+16] */
    assert_true(get_double(c, FX_DATA + 16) == 3.0);
    /* fprem: 17 mod 5 = 2, quotient 3 -> C0=0 C3=1 C1=1 */
    cpu_st(c, R_DS, FX_DATA + 8, 5, 4);
    cpu_st(c, R_DS, FX_DATA + 12, 17, 4);
    assert_int_equal(FX_RUN(f, 0xdb, 0x40, 0x08), -1);      /* fild dword [eax+8] */
    assert_int_equal(FX_RUN(f, 0xdb, 0x40, 0x0c), -1);      /* fild dword [eax+12] */
    assert_int_equal(FX_RUN(f, 0xd9, 0xf8), -1);            /* fprem */
    assert_int_equal(c->fpu.fsw & 0x4700, 0x4200);
    assert_int_equal(FX_RUN(f, 0xdb, 0x58, 0x18), -1);      /* fistp dword [eax+24] */
    assert_int_equal(cpu_ld(c, R_DS, FX_DATA + 24, 4), 2);
    /* rounding control: 2.5 -> 2 (nearest even), 3 (up), 2 (chop) */
    put_double(c, FX_DATA, 2.5);
    static const struct { uint16_t cw; uint32_t want; } rc[] = {
        { 0x037f, 2 }, { 0x0b7f, 3 }, { 0x0f7f, 2 }, { 0x077f, 2 },
    };
    for (int i = 0; i < 4; i++) {
        cpu_st(c, R_DS, FX_DATA + 32, rc[i].cw, 2);
        assert_int_equal(FX_RUN(f, 0xd9, 0x68, 0x20), -1);  /* fldcw [eax+32] */
        assert_int_equal(FX_RUN(f, 0xdd, 0x00), -1);
        assert_int_equal(FX_RUN(f, 0xdb, 0x58, 0x18), -1);
        assert_int_equal(cpu_ld(c, R_DS, FX_DATA + 24, 4), rc[i].want);
    }
    /* fldpi compared with 3 through fcomi; fcmovnbe picks the bigger */
    cpu_st(c, R_DS, FX_DATA + 8, 3, 4);
    assert_int_equal(FX_RUN(f, 0xdb, 0x40, 0x08), -1);      /* fild 3 */
    assert_int_equal(FX_RUN(f, 0xd9, 0xeb), -1);            /* fldpi */
    assert_int_equal(FX_RUN(f, 0xdb, 0xf1), -1);            /* fcomi st,st(1) */
    assert_int_equal(fx_flags(f) & (EF_ZF | EF_CF), 0);     /* pi > 3 */
    assert_int_equal(FX_RUN(f, 0xd9, 0xc9), -1);            /* fxch: 3 on top */
    assert_int_equal(FX_RUN(f, 0xdb, 0xd1), -1);            /* fcmovnbe st,st(1) */
    assert_int_equal(FX_RUN(f, 0xdd, 0x58, 0x10), -1);
    assert_true(get_double(c, FX_DATA + 16) > 3.14 &&
                get_double(c, FX_DATA + 16) < 3.15);
    /* packed BCD round trip of -1234 */
    cpu_st(c, R_DS, FX_DATA + 8, (uint32_t)-1234, 4);
    assert_int_equal(FX_RUN(f, 0xdb, 0x40, 0x08), -1);
    assert_int_equal(FX_RUN(f, 0xdf, 0x70, 0x28), -1);      /* fbstp [eax+40] */
    assert_int_equal(fx_r8(f, FX_DATA + 40), 0x34);
    assert_int_equal(fx_r8(f, FX_DATA + 41), 0x12);
    assert_int_equal(fx_r8(f, FX_DATA + 49), 0x80);
    assert_int_equal(FX_RUN(f, 0xdf, 0x60, 0x28), -1);      /* fbld [eax+40] */
    assert_int_equal(FX_RUN(f, 0xdb, 0x58, 0x18), -1);
    assert_int_equal(cpu_ld(c, R_DS, FX_DATA + 24, 4), (uint32_t)-1234);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_privileged_at_cpl3),
        cmocka_unit_test(test_unprivileged_at_cpl3),
        cmocka_unit_test(test_rdtsc_tsd),
        cmocka_unit_test(test_iopl3_allows_cli_io),
        cmocka_unit_test(test_popf_cpl3_keeps_iopl_if),
        cmocka_unit_test(test_invalid_encodings),
        cmocka_unit_test(test_too_long),
        cmocka_unit_test(test_pmode_only_in_real_mode),
        cmocka_unit_test(test_cpl0_system_registers),
        cmocka_unit_test(test_mov_ss_shadow),
        cmocka_unit_test(test_fpu_state),
        cmocka_unit_test(test_fpu_fdiv_check),
        cmocka_unit_test(test_fpu_more),
        cmocka_unit_test(test_v86_sensitive),
        cmocka_unit_test(test_v86_vme_and_iopl3),
    };
    return cmocka_run_group_tests_name("interp_system", tests, NULL, NULL);
}
