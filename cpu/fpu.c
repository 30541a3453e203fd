/* x87 state: what an operating system needs to find, initialise, save and
 * restore the FPU (FNINIT, FNSTSW, FNSTCW, FLDCW, FNCLEX, WAIT, FNSAVE,
 * FRSTOR, FNSTENV, FLDENV, FXSAVE, FXRSTOR), and the x87 data and
 * arithmetic instructions of a P6 computed in the host's long double
 * (transcendentals through the C library: results may differ from a P6
 * in the last bits).
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

/* ---- the register stack and simple arithmetic ----
 * Enough of the x87 for what kernels and ordinary programs do at boot
 * (Linux's FDIV-bug check, printf of a double): loads, stores, integer
 * conversion, the four operations, compares, sign and magnitude. Results
 * use the host's long double; masked-exception responses (QNaN
 * indefinite, integer indefinite) follow the SDM; unmasked exceptions are
 * only flagged in FSW. */

#define FSW_IE 0x0001
#define FSW_ZE 0x0004
#define FSW_SF 0x0040
#define FSW_C0 0x0100
#define FSW_C1 0x0200
#define FSW_C2 0x0400
#define FSW_C3 0x4000
#define TAG_VALID 0
#define TAG_ZERO 1
#define TAG_SPECIAL 2
#define TAG_EMPTY 3

static int phys(const FPUState *f, int i) { return (f->top + i) & 7; }

static int tag_of(const FPUState *f, int p) { return (f->ftw >> (2 * p)) & 3; }

static void set_tag(FPUState *f, int p, int t)
{
    f->ftw = (uint16_t)((f->ftw & ~(3u << (2 * p))) | ((unsigned)t << (2 * p)));
}

static int tag_for(long double v)
{
    if (v == 0)
        return TAG_ZERO;
    if (isnan(v) || isinf(v) || fpclassify(v) == FP_SUBNORMAL)
        return TAG_SPECIAL;
    return TAG_VALID;
}

static long double st_get(FPUState *f, int i)
{
    int p = phys(f, i);
    if (tag_of(f, p) == TAG_EMPTY) {
        f->fsw |= FSW_IE | FSW_SF;           /* stack underflow */
        f->fsw &= ~FSW_C1;
        return NAN;
    }
    return f->st[p];
}

static void st_set(FPUState *f, int i, long double v)
{
    int p = phys(f, i);
    f->st[p] = v;
    set_tag(f, p, tag_for(v));
}

static void fpush(FPUState *f, long double v)
{
    int p = (f->top - 1) & 7;
    if (tag_of(f, p) != TAG_EMPTY) {
        f->fsw |= FSW_IE | FSW_SF | FSW_C1;  /* stack overflow */
        v = NAN;
    }
    f->top = p;
    f->st[p] = v;
    set_tag(f, p, tag_for(v));
}

static void fpop(FPUState *f)
{
    set_tag(f, f->top, TAG_EMPTY);
    f->top = (f->top + 1) & 7;
}

/* ST(i) number of a register operand (default when absent). */
static int st_index(const Insn *in, int k, int dflt)
{
    if (in->nops > k && in->ops[k].kind == OPK_REG &&
        in->ops[k].rclass == RC_ST)
        return in->ops[k].reg;
    return dflt;
}

static long double mem_real(CPUState *c, const Insn *in, int k)
{
    const InsnOperand *o = &in->ops[k];
    uint32_t ea = insn_ea(c, in, o);
    if (o->size == 4) {
        uint32_t v = cpu_ld(c, o->seg, ea, 4);
        float x;
        memcpy(&x, &v, 4);
        return x;
    }
    if (o->size == 8) {
        uint64_t v = cpu_ld64(c, o->seg, ea);
        double x;
        memcpy(&x, &v, 8);
        return x;
    }
    uint8_t b[10];
    uint64_t lo = cpu_ld64(c, o->seg, ea);
    uint32_t hi = cpu_ld(c, o->seg, in->addrsize == 2 ? (ea + 8) & 0xffff
                                                      : ea + 8, 2);
    memcpy(b, &lo, 8);
    memcpy(b + 8, &hi, 2);
    return from80(b);
}

static void store_real(CPUState *c, const Insn *in, int k, long double v)
{
    const InsnOperand *o = &in->ops[k];
    uint32_t ea = insn_ea(c, in, o);
    if (o->size == 4) {
        float x = (float)v;
        uint32_t u;
        memcpy(&u, &x, 4);
        cpu_st(c, o->seg, ea, u, 4);
    } else if (o->size == 8) {
        double x = (double)v;
        uint64_t u;
        memcpy(&u, &x, 8);
        cpu_st64(c, o->seg, ea, u);
    } else {
        uint8_t b[10];
        uint64_t lo;
        uint16_t hi;
        to80(v, b);
        memcpy(&lo, b, 8);
        memcpy(&hi, b + 8, 2);
        cpu_check_seg(c, o->seg, ea, 10, ACC_WRITE);
        cpu_st64(c, o->seg, ea, lo);
        cpu_st(c, o->seg, in->addrsize == 2 ? (ea + 8) & 0xffff : ea + 8,
               hi, 2);
    }
}

static long double round_fcw(const FPUState *f, long double v)
{
    switch ((f->fcw >> 10) & 3) {
    case 0: return rintl(v);          /* host default: nearest-even */
    case 1: return floorl(v);
    case 2: return ceill(v);
    default: return truncl(v);
    }
}

static void op_fld(CPUState *c, const Insn *in)
{
    fpu_check(c);
    FPUState *f = &c->fpu;
    long double v = in->ops[0].kind == OPK_MEM ? mem_real(c, in, 0)
                                              : st_get(f, st_index(in, 0, 1));
    fpush(f, v);
}

static void fst_common(CPUState *c, const Insn *in, bool pop)
{
    fpu_check(c);
    FPUState *f = &c->fpu;
    long double v = st_get(f, 0);
    if (in->ops[0].kind == OPK_MEM)
        store_real(c, in, 0, v);
    else
        st_set(f, st_index(in, 0, 1), v);
    if (pop)
        fpop(f);
}

static void op_fst(CPUState *c, const Insn *in) { fst_common(c, in, false); }
static void op_fstp(CPUState *c, const Insn *in) { fst_common(c, in, true); }

static void op_fild(CPUState *c, const Insn *in)
{
    fpu_check(c);
    const InsnOperand *o = &in->ops[0];
    uint32_t ea = insn_ea(c, in, o);
    int64_t v;
    if (o->size == 2)
        v = (int16_t)cpu_ld(c, o->seg, ea, 2);
    else if (o->size == 4)
        v = (int32_t)cpu_ld(c, o->seg, ea, 4);
    else
        v = (int64_t)cpu_ld64(c, o->seg, ea);
    fpush(&c->fpu, (long double)v);
}

static void fist_common(CPUState *c, const Insn *in, bool pop)
{
    fpu_check(c);
    FPUState *f = &c->fpu;
    const InsnOperand *o = &in->ops[0];
    long double v = round_fcw(f, st_get(f, 0));
    int bits = o->size * 8;
    long double lim = ldexpl(1.0L, bits - 1);
    uint64_t u;
    if (isnan(v) || v >= lim || v < -lim) {
        f->fsw |= FSW_IE;                     /* integer indefinite */
        u = (uint64_t)1 << (bits - 1);
    } else {
        u = (uint64_t)(int64_t)v;
    }
    uint32_t ea = insn_ea(c, in, o);
    if (o->size == 8)
        cpu_st64(c, o->seg, ea, u);
    else
        cpu_st(c, o->seg, ea, (uint32_t)u, o->size);
    if (pop)
        fpop(f);
}

static void op_fist(CPUState *c, const Insn *in) { fist_common(c, in, false); }
static void op_fistp(CPUState *c, const Insn *in) { fist_common(c, in, true); }

static void op_fld1(CPUState *c, const Insn *in)
{
    fpu_check(c);
    fpush(&c->fpu, 1.0L);
}

static void op_fldz(CPUState *c, const Insn *in)
{
    fpu_check(c);
    fpush(&c->fpu, 0.0L);
}

static void op_fxch(CPUState *c, const Insn *in)
{
    fpu_check(c);
    FPUState *f = &c->fpu;
    int i = st_index(in, 0, 1);
    long double a = st_get(f, 0), b = st_get(f, i);
    st_set(f, 0, b);
    st_set(f, i, a);
}

static void op_fchs(CPUState *c, const Insn *in)
{
    fpu_check(c);
    st_set(&c->fpu, 0, -st_get(&c->fpu, 0));
}

static void op_fabs(CPUState *c, const Insn *in)
{
    fpu_check(c);
    st_set(&c->fpu, 0, fabsl(st_get(&c->fpu, 0)));
}

static void op_ffree(CPUState *c, const Insn *in)
{
    fpu_check(c);
    set_tag(&c->fpu, phys(&c->fpu, st_index(in, 0, 0)), TAG_EMPTY);
}

static void op_fnop(CPUState *c, const Insn *in) { fpu_check(c); }

enum { FA_ADD, FA_SUB, FA_SUBR, FA_MUL, FA_DIV, FA_DIVR };

/* Operand forms (Intel syntax as capstone prints them):
 *   fop m32/m64      ST0 = ST0 op m
 *   fop st(i)        ST0 = ST0 op STi
 *   fop st(i), st(0) STi = STi op ST0
 *   fopp st(i)       STi = STi op ST0, then pop */
static long double mem_int(CPUState *c, const Insn *in, int k)
{
    const InsnOperand *o = &in->ops[k];
    uint32_t v = cpu_ld(c, o->seg, insn_ea(c, in, o), o->size);
    return o->size == 2 ? (long double)(int16_t)v : (long double)(int32_t)v;
}

static void farith(CPUState *c, const Insn *in, int kind, bool pop)
{
    fpu_check(c);
    FPUState *f = &c->fpu;
    int dst;
    long double a, b;
    if (in->nops >= 1 && in->ops[0].kind == OPK_MEM) {
        dst = 0;
        a = st_get(f, 0);
        b = (in->op >= OP_FIADD && in->op <= OP_FIDIVR) ? mem_int(c, in, 0)
                                                        : mem_real(c, in, 0);
    } else if (pop || in->nops >= 2) {
        dst = st_index(in, 0, 1);
        a = st_get(f, dst);
        b = st_get(f, 0);
    } else {
        dst = 0;
        a = st_get(f, 0);
        b = st_get(f, st_index(in, 0, 1));
    }
    long double r;
    switch (kind) {
    case FA_ADD: r = a + b; break;
    case FA_SUB: r = a - b; break;
    case FA_SUBR: r = b - a; break;
    case FA_MUL: r = a * b; break;
    case FA_DIV:
        if (b == 0 && !isnan(a) && a != 0)
            f->fsw |= FSW_ZE;
        r = a / b;
        break;
    default:
        if (a == 0 && !isnan(b) && b != 0)
            f->fsw |= FSW_ZE;
        r = b / a;
        break;
    }
    if (isnan(r) && !isnan(a) && !isnan(b))
        f->fsw |= FSW_IE;
    st_set(f, dst, r);
    if (pop)
        fpop(f);
}

#define FARITH(name, kind, pop) \
    static void op_##name(CPUState *c, const Insn *in) \
    { farith(c, in, kind, pop); }
FARITH(fadd, FA_ADD, false) FARITH(faddp, FA_ADD, true)
FARITH(fsub, FA_SUB, false) FARITH(fsubp, FA_SUB, true)
FARITH(fsubr, FA_SUBR, false) FARITH(fsubrp, FA_SUBR, true)
FARITH(fmul, FA_MUL, false) FARITH(fmulp, FA_MUL, true)
FARITH(fdiv, FA_DIV, false) FARITH(fdivp, FA_DIV, true)
FARITH(fdivr, FA_DIVR, false) FARITH(fdivrp, FA_DIVR, true)

/* Compare ST0 with the operand: C3 C2 C0 (or ZF PF CF for FCOMI). */
static void fcompare(CPUState *c, const Insn *in, int pops, bool to_eflags,
                     bool zero)
{
    fpu_check(c);
    FPUState *f = &c->fpu;
    long double a = st_get(f, 0), b;
    if (zero)
        b = 0;
    else if (in->nops >= 1 && in->ops[0].kind == OPK_MEM)
        b = (in->op == OP_FICOM || in->op == OP_FICOMP) ? mem_int(c, in, 0)
                                                         : mem_real(c, in, 0);
    else
        b = st_get(f, st_index(in, in->nops >= 2 ? 1 : 0, 1));
    bool un = isnan(a) || isnan(b);
    bool lt = !un && a < b, eq = !un && a == b;
    if (to_eflags) {
        uint32_t fl = un ? (EF_ZF | EF_PF | EF_CF)
                    : lt ? EF_CF : eq ? EF_ZF : 0;
        cc_set_arith(c, fl);
    } else {
        f->fsw &= ~(FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3);
        f->fsw |= un ? (FSW_C0 | FSW_C2 | FSW_C3)
                : lt ? FSW_C0 : eq ? FSW_C3 : 0;
    }
    if (un)
        f->fsw |= FSW_IE;
    while (pops-- > 0)
        fpop(f);
}

static void op_fcom(CPUState *c, const Insn *in) { fcompare(c, in, 0, false, false); }
static void op_fcomp(CPUState *c, const Insn *in) { fcompare(c, in, 1, false, false); }
static void op_fcompp(CPUState *c, const Insn *in) { fcompare(c, in, 2, false, false); }
static void op_fcomi(CPUState *c, const Insn *in) { fcompare(c, in, 0, true, false); }
static void op_fcomip(CPUState *c, const Insn *in) { fcompare(c, in, 1, true, false); }
static void op_ftst(CPUState *c, const Insn *in) { fcompare(c, in, 0, false, true); }

FARITH(fiadd, FA_ADD, false) FARITH(fisub, FA_SUB, false)
FARITH(fisubr, FA_SUBR, false) FARITH(fimul, FA_MUL, false)
FARITH(fidiv, FA_DIV, false) FARITH(fidivr, FA_DIVR, false)
static void op_ficom(CPUState *c, const Insn *in) { fcompare(c, in, 0, false, false); }
static void op_ficomp(CPUState *c, const Insn *in) { fcompare(c, in, 1, false, false); }

/* ---- constants, stack pointer, rounding, transcendentals ---- */

static const long double fconst[] = {
    3.14159265358979323846264338327950288L,    /* FLDPI */
    1.44269504088896340735992468100189214L,    /* FLDL2E */
    3.32192809488736234787031942948939018L,    /* FLDL2T */
    0.301029995663981195213738894724493027L,   /* FLDLG2 */
    0.693147180559945309417232121458176568L,   /* FLDLN2 */
};

static void op_fldconst(CPUState *c, const Insn *in)
{
    fpu_check(c);
    fpush(&c->fpu, fconst[in->op - OP_FLDPI]);
}

static void op_fincstp(CPUState *c, const Insn *in)
{
    fpu_check(c);
    c->fpu.top = (c->fpu.top + (in->op == OP_FINCSTP ? 1 : 7)) & 7;
    c->fpu.fsw &= ~FSW_C1;
}

static void op_ffreep(CPUState *c, const Insn *in)
{
    op_ffree(c, in);
    fpop(&c->fpu);
}

/* One-operand functions of ST0. The trigonometric ones leave an operand
 * beyond +-2^63 alone and set C2, as the hardware does. */
static bool trig_range(FPUState *f, long double x)
{
    if (fabsl(x) >= 0x1p63L) {
        f->fsw |= FSW_C2;
        return false;
    }
    f->fsw &= ~FSW_C2;
    return true;
}

static void op_funary(CPUState *c, const Insn *in)
{
    fpu_check(c);
    FPUState *f = &c->fpu;
    long double x = st_get(f, 0), r;
    switch (in->op) {
    case OP_FSQRT:
        if (x < 0)
            f->fsw |= FSW_IE;
        r = sqrtl(x);
        break;
    case OP_FRNDINT: r = round_fcw(f, x); break;
    case OP_F2XM1: r = expm1l(x * fconst[4]); break;
    case OP_FSIN:
        if (!trig_range(f, x))
            return;
        r = sinl(x);
        break;
    default:
        if (!trig_range(f, x))
            return;
        r = cosl(x);
        break;
    }
    st_set(f, 0, r);
}

static void op_fsincos(CPUState *c, const Insn *in)
{
    fpu_check(c);
    FPUState *f = &c->fpu;
    long double x = st_get(f, 0);
    if (!trig_range(f, x))
        return;
    bool tan = in->op == OP_FPTAN;
    st_set(f, 0, tan ? tanl(x) : sinl(x));
    fpush(f, tan ? 1.0L : cosl(x));
}

/* Two-operand functions: ST1 op ST0 into ST1, then pop (FPATAN, FYL2X,
 * FYL2XP1), or results kept in ST0 (FSCALE, FPREM, FPREM1). */
static void op_fbinary(CPUState *c, const Insn *in)
{
    fpu_check(c);
    FPUState *f = &c->fpu;
    long double x = st_get(f, 0), y = st_get(f, 1);
    switch (in->op) {
    case OP_FPATAN: st_set(f, 1, atan2l(y, x)); fpop(f); return;
    case OP_FYL2X: st_set(f, 1, y * log2l(x)); fpop(f); return;
    case OP_FYL2XP1: st_set(f, 1, y * log1pl(x) / fconst[4]); fpop(f); return;
    case OP_FSCALE: {
        long double n = truncl(y);
        int e = n > 100000 ? 100000 : n < -100000 ? -100000 : (int)n;
        st_set(f, 0, ldexpl(x, e));
        return;
    }
    default: {
        /* FPREM truncates the quotient, FPREM1 rounds it to nearest; the
         * low three quotient bits go to C0 C3 C1; C2 = 0: complete. */
        long double q = in->op == OP_FPREM ? truncl(x / y) : rintl(x / y);
        long double r = in->op == OP_FPREM ? fmodl(x, y) : remainderl(x, y);
        uint64_t qi = isfinite(q) ? (uint64_t)fabsl(fmodl(q, 8.0L)) : 0;
        f->fsw &= ~(FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3);
        if (qi & 4) f->fsw |= FSW_C0;
        if (qi & 2) f->fsw |= FSW_C3;
        if (qi & 1) f->fsw |= FSW_C1;
        if (isnan(r) && !isnan(x) && !isnan(y))
            f->fsw |= FSW_IE;
        st_set(f, 0, r);
        return;
    }
    }
}

static void op_fxtract(CPUState *c, const Insn *in)
{
    fpu_check(c);
    FPUState *f = &c->fpu;
    long double x = st_get(f, 0);
    if (x == 0) {
        f->fsw |= FSW_ZE;
        st_set(f, 0, -INFINITY);
        fpush(f, x);
        return;
    }
    long double e = logbl(x);
    st_set(f, 0, e);
    fpush(f, isfinite(e) ? ldexpl(x, -(int)e) : x);
}

/* FCMOVcc ST0, STi: B E BE U and their negations, on CF ZF PF. */
static void op_fcmov(CPUState *c, const Insn *in)
{
    fpu_check(c);
    static const uint32_t need[4] = { EF_CF, EF_ZF, EF_CF | EF_ZF, EF_PF };
    int k = in->op - OP_FCMOVB;
    bool take = cc_arith(c) & need[k & 3];
    if (k >= 4)
        take = !take;
    if (take)
        st_set(&c->fpu, 0, st_get(&c->fpu, st_index(in, 1, 1)));
}

/* Packed BCD: 18 digits, two per byte from the low end, sign in bit 7 of
 * byte 9. */
static void op_fbld(CPUState *c, const Insn *in)
{
    fpu_check(c);
    const InsnOperand *o = &in->ops[0];
    uint32_t ea = insn_ea(c, in, o);
    long double v = 0;
    uint8_t b[10];
    for (int i = 0; i < 10; i++)
        b[i] = (uint8_t)cpu_ld(c, o->seg, in->addrsize == 2
                                   ? (ea + (uint32_t)i) & 0xffff
                                   : ea + (uint32_t)i, 1);
    for (int i = 8; i >= 0; i--)
        v = v * 100 + (b[i] >> 4) * 10 + (b[i] & 15);
    fpush(&c->fpu, (b[9] & 0x80) ? -v : v);
}

static void op_fbstp(CPUState *c, const Insn *in)
{
    fpu_check(c);
    FPUState *f = &c->fpu;
    const InsnOperand *o = &in->ops[0];
    uint32_t ea = insn_ea(c, in, o);
    long double v = round_fcw(f, st_get(f, 0));
    uint8_t b[10] = { 0 };
    if (isnan(v) || fabsl(v) >= 1e18L) {
        f->fsw |= FSW_IE;                         /* BCD indefinite */
        b[9] = 0xff;
        b[8] = 0xc0;
        b[7] = 0xff;
    } else {
        uint64_t u = (uint64_t)fabsl(v);
        for (int i = 0; i < 9; i++) {
            b[i] = (uint8_t)(u % 10);
            u /= 10;
            b[i] |= (uint8_t)((u % 10) << 4);
            u /= 10;
        }
        b[9] = signbit(v) ? 0x80 : 0;
    }
    cpu_check_seg(c, o->seg, ea, 10, ACC_WRITE);
    for (int i = 0; i < 10; i++)
        cpu_st(c, o->seg, in->addrsize == 2 ? (ea + (uint32_t)i) & 0xffff
                                            : ea + (uint32_t)i, b[i], 1);
    fpop(f);
}

static void op_fxam(CPUState *c, const Insn *in)
{
    fpu_check(c);
    FPUState *f = &c->fpu;
    int p = phys(f, 0);
    long double v = f->st[p];
    uint16_t cc;
    if (tag_of(f, p) == TAG_EMPTY)
        cc = FSW_C3 | FSW_C0;
    else if (isnan(v))
        cc = FSW_C0;
    else if (isinf(v))
        cc = FSW_C2 | FSW_C0;
    else if (v == 0)
        cc = FSW_C3;
    else if (fpclassify(v) == FP_SUBNORMAL)
        cc = FSW_C3 | FSW_C2;
    else
        cc = FSW_C2;
    if (signbit(v))
        cc |= FSW_C1;
    f->fsw = (f->fsw & ~(FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3)) | cc;
}

const InterpEntry interp_fpu_ops[] = {
    { OP_FLD, op_fld }, { OP_FST, op_fst }, { OP_FSTP, op_fstp },
    { OP_FILD, op_fild }, { OP_FIST, op_fist }, { OP_FISTP, op_fistp },
    { OP_FLD1, op_fld1 }, { OP_FLDZ, op_fldz }, { OP_FXCH, op_fxch },
    { OP_FCHS, op_fchs }, { OP_FABS, op_fabs }, { OP_FFREE, op_ffree },
    { OP_FNOP, op_fnop },
    { OP_FADD, op_fadd }, { OP_FADDP, op_faddp }, { OP_FSUB, op_fsub },
    { OP_FSUBP, op_fsubp }, { OP_FSUBR, op_fsubr }, { OP_FSUBRP, op_fsubrp },
    { OP_FMUL, op_fmul }, { OP_FMULP, op_fmulp }, { OP_FDIV, op_fdiv },
    { OP_FDIVP, op_fdivp }, { OP_FDIVR, op_fdivr }, { OP_FDIVRP, op_fdivrp },
    { OP_FCOM, op_fcom }, { OP_FCOMP, op_fcomp }, { OP_FCOMPP, op_fcompp },
    { OP_FUCOM, op_fcom }, { OP_FUCOMP, op_fcomp },
    { OP_FUCOMPP, op_fcompp }, { OP_FCOMI, op_fcomi },
    { OP_FUCOMI, op_fcomi }, { OP_FCOMIP, op_fcomip },
    { OP_FUCOMIP, op_fcomip }, { OP_FTST, op_ftst }, { OP_FXAM, op_fxam },
    { OP_FIADD, op_fiadd }, { OP_FISUB, op_fisub }, { OP_FISUBR, op_fisubr },
    { OP_FIMUL, op_fimul }, { OP_FIDIV, op_fidiv }, { OP_FIDIVR, op_fidivr },
    { OP_FICOM, op_ficom }, { OP_FICOMP, op_ficomp },
    { OP_FLDPI, op_fldconst }, { OP_FLDL2E, op_fldconst },
    { OP_FLDL2T, op_fldconst }, { OP_FLDLG2, op_fldconst },
    { OP_FLDLN2, op_fldconst }, { OP_FINCSTP, op_fincstp },
    { OP_FDECSTP, op_fincstp }, { OP_FFREEP, op_ffreep },
    { OP_FSQRT, op_funary }, { OP_FRNDINT, op_funary },
    { OP_F2XM1, op_funary }, { OP_FSIN, op_funary }, { OP_FCOS, op_funary },
    { OP_FSINCOS, op_fsincos }, { OP_FPTAN, op_fsincos },
    { OP_FPATAN, op_fbinary }, { OP_FYL2X, op_fbinary },
    { OP_FYL2XP1, op_fbinary }, { OP_FSCALE, op_fbinary },
    { OP_FPREM, op_fbinary }, { OP_FPREM1, op_fbinary },
    { OP_FXTRACT, op_fxtract },
    { OP_FCMOVB, op_fcmov }, { OP_FCMOVE, op_fcmov },
    { OP_FCMOVBE, op_fcmov }, { OP_FCMOVU, op_fcmov },
    { OP_FCMOVNB, op_fcmov }, { OP_FCMOVNE, op_fcmov },
    { OP_FCMOVNBE, op_fcmov }, { OP_FCMOVNU, op_fcmov },
    { OP_FBLD, op_fbld }, { OP_FBSTP, op_fbstp },
    { OP_FNINIT, op_fninit }, { OP_FNCLEX, op_fnclex }, { OP_WAIT, op_wait },
    { OP_FNSTSW, op_fnstsw }, { OP_FNSTCW, op_fnstcw },
    { OP_FLDCW, op_fldcw }, { OP_FNSTENV, op_fnstenv },
    { OP_FLDENV, op_fldenv }, { OP_FNSAVE, op_fnsave },
    { OP_FRSTOR, op_frstor }, { OP_FXSAVE, op_fxsave },
    { OP_FXRSTOR, op_fxrstor },
    { 0, NULL }
};
