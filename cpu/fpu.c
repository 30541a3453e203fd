/* x87 state: what an operating system needs to find, initialise, save and
 * restore the FPU (FNINIT, FNSTSW, FNSTCW, FLDCW, FNCLEX, WAIT, FNSAVE,
 * FRSTOR, FNSTENV, FLDENV, FXSAVE, FXRSTOR). Arithmetic is a later issue;
 * the other x87 operations raise #UD until then.
 *
 * Registers are kept as host long doubles; the 80-bit memory format is
 * converted explicitly so that hosts whose long double is not the x87
 * format get the same bytes. */
#include <math.h>
#include <string.h>
#include "cpu/interp_priv.h"

#define FSW_TOP_SHIFT 11
#define FSW_TOP_MASK  0x3800

/* #NM when the FPU is emulated or its state belongs to another task. */
static void fpu_check(CPUState *c)
{
    if (c->cr0 & (CR0_EM | CR0_TS))
        cpu_raise(c, EXC_NM, 0);
}

static uint16_t fsw_read(const FPUState *f)
{
    return (uint16_t)((f->fsw & ~FSW_TOP_MASK) |
                      ((f->top & 7) << FSW_TOP_SHIFT));
}

static void fsw_write(FPUState *f, uint16_t v)
{
    f->fsw = v & ~FSW_TOP_MASK;
    f->top = (v >> FSW_TOP_SHIFT) & 7;
}

void fpu_reset_state(FPUState *f);
void fpu_reset_state(FPUState *f)
{
    f->fcw = 0x037f;
    f->fsw = 0;
    f->ftw = 0xffff;
    f->top = 0;
    f->fop = 0;
    f->fip = f->fcs = f->fdp = f->fds = 0;
}

static void to80(long double v, uint8_t out[10])
{
    uint64_t mant = 0;
    uint16_t se = 0;
    if (signbit(v))
        se = 0x8000;
    v = fabsl(v);
    if (isnan(v)) {
        se |= 0x7fff;
        mant = 0xc000000000000000ull;
    } else if (isinf(v)) {
        se |= 0x7fff;
        mant = 0x8000000000000000ull;
    } else if (v != 0) {
        int e;
        long double m = frexpl(v, &e);         /* v = m * 2^e, m in [.5,1) */
        int be = e - 1 + 16383;
        if (be <= 0) {                         /* denormal */
            mant = (uint64_t)ldexpl(v, 16382 + 63);
            be = 0;
        } else {
            mant = (uint64_t)ldexpl(m, 64);
        }
        se |= (uint16_t)be;
    }
    memcpy(out, &mant, 8);
    memcpy(out + 8, &se, 2);
}

static long double from80(const uint8_t in[10])
{
    uint64_t mant;
    uint16_t se;
    memcpy(&mant, in, 8);
    memcpy(&se, in + 8, 2);
    int e = se & 0x7fff;
    long double v;
    if (e == 0x7fff)
        v = (mant << 1) ? NAN : INFINITY;
    else if (e == 0)
        v = ldexpl((long double)mant, -16382 - 63);
    else
        v = ldexpl((long double)mant, e - 16383 - 63);
    return (se & 0x8000) ? -v : v;
}

/* The x87 environment image (FNSTENV layout) in 16- or 32-bit form, real
 * or protected mode flavour. */
static void store_env(CPUState *c, int seg, uint32_t ea, bool op32,
                      bool addr16)
{
    FPUState *f = &c->fpu;
    uint32_t w[7];
    int n = 7;
    w[0] = f->fcw;
    w[1] = fsw_read(f);
    w[2] = f->ftw;
    if (cpu_pe(c) && !cpu_vm86(c)) {
        w[3] = f->fip;
        w[4] = (f->fcs & 0xffff) | ((uint32_t)(f->fop & 0x7ff) << 16);
        w[5] = f->fdp;
        w[6] = f->fds & 0xffff;
    } else {
        w[3] = f->fip & 0xffff;
        w[4] = ((f->fip >> 4) & 0xf000) | (f->fop & 0x7ff);
        w[5] = f->fdp & 0xffff;
        w[6] = (f->fdp >> 4) & 0xf000;
    }
    int sz = op32 ? 4 : 2;
    for (int i = 0; i < n; i++) {
        uint32_t a = ea + (uint32_t)(i * sz);
        if (addr16)
            a &= 0xffff;
        cpu_st(c, seg, a, w[i], sz);
    }
}

static void load_env(CPUState *c, int seg, uint32_t ea, bool op32,
                     bool addr16)
{
    FPUState *f = &c->fpu;
    uint32_t w[7];
    int sz = op32 ? 4 : 2;
    for (int i = 0; i < 7; i++) {
        uint32_t a = ea + (uint32_t)(i * sz);
        if (addr16)
            a &= 0xffff;
        w[i] = cpu_ld(c, seg, a, sz);
    }
    f->fcw = (uint16_t)w[0];
    fsw_write(f, (uint16_t)w[1]);
    f->ftw = (uint16_t)w[2];
    if (cpu_pe(c) && !cpu_vm86(c)) {
        f->fip = w[3];
        f->fcs = w[4] & 0xffff;
        f->fop = (uint16_t)((w[4] >> 16) & 0x7ff);
        f->fdp = w[5];
        f->fds = w[6] & 0xffff;
    } else {
        f->fip = (w[3] & 0xffff) | ((w[4] & 0xf000) << 4);
        f->fop = (uint16_t)(w[4] & 0x7ff);
        f->fdp = (w[5] & 0xffff) | ((w[6] & 0xf000) << 4);
    }
}

static uint32_t fpu_ea(CPUState *c, const Insn *in, int *seg)
{
    const InsnOperand *o = &in->ops[0];
    if (o->kind != OPK_MEM)
        interp_ud(c);
    *seg = o->seg;
    return insn_ea(c, in, o);
}

static void op_fninit(CPUState *c, const Insn *in)
{
    fpu_check(c);
    fpu_reset_state(&c->fpu);
}

static void op_fnclex(CPUState *c, const Insn *in)
{
    fpu_check(c);
    c->fpu.fsw &= 0x7f00;
}

static void op_wait(CPUState *c, const Insn *in)
{
    if ((c->cr0 & (CR0_TS | CR0_MP)) == (CR0_TS | CR0_MP))
        cpu_raise(c, EXC_NM, 0);
}

static void op_fnstsw(CPUState *c, const Insn *in)
{
    fpu_check(c);
    const InsnOperand *o = &in->ops[0];
    if (o->kind == OPK_REG)
        reg_set(c, R_EAX, 2, fsw_read(&c->fpu));
    else
        cpu_st(c, o->seg, insn_ea(c, in, o), fsw_read(&c->fpu), 2);
}

static void op_fnstcw(CPUState *c, const Insn *in)
{
    fpu_check(c);
    int seg;
    uint32_t ea = fpu_ea(c, in, &seg);
    cpu_st(c, seg, ea, c->fpu.fcw, 2);
}

static void op_fldcw(CPUState *c, const Insn *in)
{
    fpu_check(c);
    int seg;
    uint32_t ea = fpu_ea(c, in, &seg);
    c->fpu.fcw = (uint16_t)(cpu_ld(c, seg, ea, 2) | 0x40);
}

static void op_fnstenv(CPUState *c, const Insn *in)
{
    fpu_check(c);
    int seg;
    uint32_t ea = fpu_ea(c, in, &seg);
    store_env(c, seg, ea, in->opsize == 4, in->addrsize == 2);
    c->fpu.fcw |= 0x3f;
}

static void op_fldenv(CPUState *c, const Insn *in)
{
    fpu_check(c);
    int seg;
    uint32_t ea = fpu_ea(c, in, &seg);
    load_env(c, seg, ea, in->opsize == 4, in->addrsize == 2);
}

static void op_fnsave(CPUState *c, const Insn *in)
{
    fpu_check(c);
    int seg;
    uint32_t ea = fpu_ea(c, in, &seg);
    uint32_t envsz = in->opsize == 4 ? 28 : 14;
    cpu_check_seg(c, seg, ea, envsz + 80, ACC_WRITE);
    store_env(c, seg, ea, in->opsize == 4, in->addrsize == 2);
    for (int i = 0; i < 8; i++) {
        uint8_t b[10];
        to80(c->fpu.st[(c->fpu.top + i) & 7], b);
        for (int k = 0; k < 10; k++) {
            uint32_t a = ea + envsz + (uint32_t)(i * 10 + k);
            if (in->addrsize == 2)
                a &= 0xffff;
            cpu_st(c, seg, a, b[k], 1);
        }
    }
    fpu_reset_state(&c->fpu);
}

static void op_frstor(CPUState *c, const Insn *in)
{
    fpu_check(c);
    int seg;
    uint32_t ea = fpu_ea(c, in, &seg);
    uint32_t envsz = in->opsize == 4 ? 28 : 14;
    long double st[8];
    uint8_t b[10];
    for (int i = 0; i < 8; i++) {
        for (int k = 0; k < 10; k++) {
            uint32_t a = ea + envsz + (uint32_t)(i * 10 + k);
            if (in->addrsize == 2)
                a &= 0xffff;
            b[k] = (uint8_t)cpu_ld(c, seg, a, 1);
        }
        st[i] = from80(b);
    }
    load_env(c, seg, ea, in->opsize == 4, in->addrsize == 2);
    for (int i = 0; i < 8; i++)
        c->fpu.st[(c->fpu.top + i) & 7] = st[i];
}

/* FXSAVE area offsets (SDM vol. 2, FXSAVE). */
static void op_fxsave(CPUState *c, const Insn *in)
{
    if (c->cr0 & CR0_EM)
        interp_ud(c);
    if (c->cr0 & CR0_TS)
        cpu_raise(c, EXC_NM, 0);
    int seg;
    uint32_t ea = fpu_ea(c, in, &seg);
    if (ea & 15)
        cpu_raise(c, EXC_GP, 0);
    cpu_check_seg(c, seg, ea, 512, ACC_WRITE);
    FPUState *f = &c->fpu;
    uint8_t img[512];
    memset(img, 0, sizeof img);
    uint16_t fsw = fsw_read(f);
    uint8_t abridged = 0;
    for (int i = 0; i < 8; i++)
        if (((f->ftw >> (2 * i)) & 3) != 3)
            abridged |= (uint8_t)(1u << i);
    uint32_t mxcsr_mask = 0xffbf;
    memcpy(img + 0, &f->fcw, 2);
    memcpy(img + 2, &fsw, 2);
    img[4] = abridged;
    memcpy(img + 6, &f->fop, 2);
    memcpy(img + 8, &f->fip, 4);
    memcpy(img + 12, &f->fcs, 2);
    memcpy(img + 16, &f->fdp, 4);
    memcpy(img + 20, &f->fds, 2);
    memcpy(img + 24, &c->mxcsr, 4);
    memcpy(img + 28, &mxcsr_mask, 4);
    for (int i = 0; i < 8; i++)
        to80(f->st[(f->top + i) & 7], img + 32 + 16 * i);
    for (int i = 0; i < 8; i++)
        memcpy(img + 160 + 16 * i, c->xmm[i], 16);
    for (int i = 0; i < 512; i += 4) {
        uint32_t w;
        memcpy(&w, img + i, 4);
        cpu_st(c, seg, ea + (uint32_t)i, w, 4);
    }
}

static void op_fxrstor(CPUState *c, const Insn *in)
{
    if (c->cr0 & CR0_EM)
        interp_ud(c);
    if (c->cr0 & CR0_TS)
        cpu_raise(c, EXC_NM, 0);
    int seg;
    uint32_t ea = fpu_ea(c, in, &seg);
    if (ea & 15)
        cpu_raise(c, EXC_GP, 0);
    uint8_t img[512];
    for (int i = 0; i < 512; i += 4) {
        uint32_t w = cpu_ld(c, seg, ea + (uint32_t)i, 4);
        memcpy(img + i, &w, 4);
    }
    uint32_t mxcsr;
    memcpy(&mxcsr, img + 24, 4);
    if (mxcsr & ~0xffbfu)
        cpu_raise(c, EXC_GP, 0);
    FPUState *f = &c->fpu;
    uint16_t fsw;
    memcpy(&f->fcw, img + 0, 2);
    memcpy(&fsw, img + 2, 2);
    fsw_write(f, fsw);
    f->ftw = 0;
    for (int i = 0; i < 8; i++)
        if (!(img[4] & (1u << i)))
            f->ftw |= (uint16_t)(3u << (2 * i));
    memcpy(&f->fop, img + 6, 2);
    memcpy(&f->fip, img + 8, 4);
    f->fcs = 0;
    memcpy(&f->fcs, img + 12, 2);
    memcpy(&f->fdp, img + 16, 4);
    f->fds = 0;
    memcpy(&f->fds, img + 20, 2);
    c->mxcsr = mxcsr;
    for (int i = 0; i < 8; i++)
        f->st[(f->top + i) & 7] = from80(img + 32 + 16 * i);
    for (int i = 0; i < 8; i++)
        memcpy(c->xmm[i], img + 160 + 16 * i, 16);
}

const InterpEntry interp_fpu_ops[] = {
    { OP_FNINIT, op_fninit }, { OP_FNCLEX, op_fnclex }, { OP_WAIT, op_wait },
    { OP_FNSTSW, op_fnstsw }, { OP_FNSTCW, op_fnstcw },
    { OP_FLDCW, op_fldcw }, { OP_FNSTENV, op_fnstenv },
    { OP_FLDENV, op_fldenv }, { OP_FNSAVE, op_fnsave },
    { OP_FRSTOR, op_frstor }, { OP_FXSAVE, op_fxsave },
    { OP_FXRSTOR, op_fxrstor },
    { 0, NULL }
};
