/* The translator's guest-independent half: IR, optimizer, the configured
 * backend, the code buffer and the block cache.
 *
 * The reference for every arithmetic result is the C compiler's own
 * arithmetic on the host (written out here, not taken from tcg/), and
 * each random program also runs unoptimized and optimized so that the
 * optimizer is checked against the backend and both against C. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>
#include "tcg/tcg.h"

typedef struct TEnv {
    uint32_t regs[8];
    uint32_t pc;
    uint32_t irq;
    uint64_t icount;
    struct TEntry {
        uint32_t tag_read, tag_write, tag_code, pad;
        uintptr_t addend;
        uint64_t paddr;
    } tlb[16];
} TEnv;

#define GBASE 0x00400000u          /* guest linear address of mem[] */
static uint8_t mem[3 * 4096];
static int slow_loads, slow_stores, lookups;
static const void *lookup_result;

static uint32_t seen_r3;        /* regs[3] when a slow load ran */

static uint32_t t_ld_slow(void *env, uint32_t lin, uint32_t size)
{
    seen_r3 = ((TEnv *)env)->regs[3];
    slow_loads++;
    uint32_t v = 0;
    if (lin >= GBASE && lin - GBASE + size <= sizeof(mem))
        memcpy(&v, mem + (lin - GBASE), size);
    else
        v = 0xdeadbeef;
    return size == 4 ? v : v & ((1u << (8 * size)) - 1);
}

static void t_st_slow(void *env, uint32_t lin, uint32_t val, uint32_t size)
{
    (void)env;
    slow_stores++;
    if (lin >= GBASE && lin - GBASE + size <= sizeof(mem))
        memcpy(mem + (lin - GBASE), &val, size);
}

static const void *t_lookup(void *env, uint32_t hint)
{
    (void)hint;
    (void)env;
    lookups++;
    return lookup_result;
}

static TcgCtx ctx;
static TEnv env;
static int g[8];                   /* global temps for regs[] */

static void map_pages(void)
{
    for (int i = 0; i < 16; i++)
        env.tlb[i].tag_read = env.tlb[i].tag_write = 0xffffffffu;
    /* Pages 0 and 1 are fast; page 2 stays on the slow path. */
    for (int p = 0; p < 2; p++) {
        uint32_t lin = GBASE + (uint32_t)p * 4096;
        struct TEntry *e = &env.tlb[(lin >> 12) & 15];
        e->tag_read = e->tag_write = lin;
        e->addend = (uintptr_t)(mem + p * 4096) - lin;
    }
}

static int setup(void **state)
{
    (void)state;
    TcgEnvLayout L = {
        .pc = offsetof(TEnv, pc), .icount = offsetof(TEnv, icount),
        .interrupt_request = offsetof(TEnv, irq), .tlb = offsetof(TEnv, tlb),
        .tlb_entry_size = sizeof(struct TEntry), .tlb_mask = 15,
        .tag_read = offsetof(struct TEntry, tag_read),
        .tag_write = offsetof(struct TEntry, tag_write),
        .addend = offsetof(struct TEntry, addend), .page_bits = 12,
        .ld_slow = t_ld_slow, .st_slow = t_st_slow, .lookup = t_lookup,
    };
    if (tcg_ctx_init(&ctx, &L, 1 << 20) < 0)
        return -1;
    static const char *names[8] = { "r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7" };
    for (int i = 0; i < 8; i++)
        g[i] = ir_global(ctx.ir, (int32_t)offsetof(TEnv, regs[i]), names[i]);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tcg_ctx_free(&ctx);
    return 0;
}

/* Generate and run the IR now in ctx.ir. */
static uint64_t run(bool optimize)
{
    if (optimize)
        ir_optimize(ctx.ir);
    size_t size;
    uint32_t jo[2];
    const uint8_t *code = tcg_backend_gen(&ctx, ctx.ir, 0x1000, &size, jo);
    if (!code) {
        tb_flush(&ctx);
        code = tcg_backend_gen(&ctx, ctx.ir, 0x1000, &size, jo);
    }
    assert_non_null(code);
    ctx.code_invalidated = 0;
    return tcg_backend_run(&ctx, &env, code);
}

/* ---- random straight-line programs against C arithmetic ---- */

static uint32_t rnd_state = 12345;
static uint32_t rnd(void)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 17;
    rnd_state ^= rnd_state << 5;
    return rnd_state;
}

static uint32_t rnd_imm(void)
{
    switch (rnd() % 4) {
    case 0: return rnd() % 8;
    case 1: return (uint32_t)(int32_t)(int8_t)rnd();
    case 2: return rnd() & 31;
    default: return rnd();
    }
}

static bool c_cond(int c, uint32_t a, uint32_t b)
{
    int32_t sa = (int32_t)a, sb = (int32_t)b;
    static const int table_size = 12;
    (void)table_size;
    switch (c) {
    case IRC_EQ: return a == b;
    case IRC_NE: return a != b;
    case IRC_LTU: return a < b;
    case IRC_GEU: return a >= b;
    case IRC_LEU: return a <= b;
    case IRC_GTU: return a > b;
    case IRC_LT: return sa < sb;
    case IRC_GE: return sa >= sb;
    case IRC_LE: return sa <= sb;
    case IRC_GT: return sa > sb;
    case IRC_TSTEQ: return !(a & b);
    default: return (a & b) != 0;
    }
}

/* Build one random program into ctx.ir and compute its expected effect on
 * a copy of the registers (vals[] holds every temp's value). */
static void random_program(uint32_t *expect, int nops)
{
    static uint32_t vals[64];
    IRFunc *f = ctx.ir;
    ir_reset(f);
    ir_entry(f, 1, 0);
    int nloc = 8;
    int loc[8];
    for (int i = 0; i < nloc; i++) {
        loc[i] = ir_temp(f);
        uint32_t v = rnd_imm();
        ir_movi(f, loc[i], v);
        vals[loc[i]] = v;
    }
    for (int i = 0; i < 8; i++)
        vals[g[i]] = expect[i];
    for (int n = 0; n < nops; n++) {
        int all[16];
        for (int i = 0; i < 8; i++) {
            all[i] = g[i];
            all[8 + i] = loc[i];
        }
        int d = all[rnd() % 16], a = all[rnd() % 16], b = all[rnd() % 16];
        uint32_t A = vals[a], B = vals[b], R = 0;
        bool imm = rnd() % 3 == 0;
        if (imm)
            B = rnd_imm();
        int kind = (int)(rnd() % 20);
        int opc = -1;
        switch (kind) {
        case 0: opc = IR_ADD; R = A + B; break;
        case 1: opc = IR_SUB; R = A - B; break;
        case 2: opc = IR_AND; R = A & B; break;
        case 3: opc = IR_OR; R = A | B; break;
        case 4: opc = IR_XOR; R = A ^ B; break;
        case 5: opc = IR_SHL; R = A << (B & 31); break;
        case 6: opc = IR_SHR; R = A >> (B & 31); break;
        case 7: opc = IR_SAR; R = (uint32_t)((int32_t)A >> (B & 31)); break;
        case 8:
            opc = IR_ROL;
            R = (A << (B & 31)) | (A >> ((32 - (B & 31)) & 31));
            break;
        case 9:
            opc = IR_ROR;
            R = (A >> (B & 31)) | (A << ((32 - (B & 31)) & 31));
            break;
        case 10: opc = IR_MUL; R = A * B; break;
        case 11: ir_op1(f, IR_NEG, d, a); vals[d] = 0u - A; continue;
        case 12: ir_op1(f, IR_NOT, d, a); vals[d] = ~A; continue;
        case 13: {
            static const int ex[5] = { IR_EXT8S, IR_EXT8U, IR_EXT16S, IR_EXT16U,
                                       IR_PARITY };
            int k = (int)(rnd() % 5);
            ir_op1(f, ex[k], d, a);
            int bits = 0;
            for (int i = 0; i < 8; i++)
                bits += (A >> i) & 1;
            vals[d] = k == 0 ? (uint32_t)(int32_t)(int8_t)A : k == 1 ? (A & 0xff) :
                      k == 2 ? (uint32_t)(int32_t)(int16_t)A :
                      k == 3 ? (A & 0xffff) : (uint32_t)(bits % 2 == 0);
            continue;
        }
        case 14: {
            int c = (int)(rnd() % 12);
            if (imm)
                ir_setcondi(f, c, d, a, B);
            else
                ir_setcond(f, c, d, a, b);
            vals[d] = c_cond(c, A, B);
            continue;
        }
        case 15: {
            int c = (int)(rnd() % 12);
            int v = all[rnd() % 16];
            uint32_t V = vals[v];
            ir_movcond(f, c, d, a, b, v);
            if (c_cond(c, A, vals[b]))
                vals[d] = V;
            continue;
        }
        case 16: {
            int hi = all[rnd() % 16];
            if (hi == d)
                hi = d == loc[0] ? loc[1] : loc[0];
            bool sign = rnd() & 1;
            ir_mul2(f, sign, d, hi, a, b);
            uint64_t p = sign ? (uint64_t)((int64_t)(int32_t)A * (int32_t)vals[b])
                              : (uint64_t)A * vals[b];
            vals[d] = (uint32_t)p;
            vals[hi] = (uint32_t)(p >> 32);
            continue;
        }
        case 17: ir_movi(f, d, B); vals[d] = B; continue;
        case 18: ir_mov(f, d, a); vals[d] = A; continue;
        default: {
            /* a value through a local whose result is never used */
            ir_op2i(f, IR_ADD, loc[7], a, 1);
            vals[loc[7]] = A + 1;
            continue;
        }
        }
        if (imm)
            ir_op2i(f, opc, d, a, B);
        else
            ir_op2(f, opc, d, a, b);
        vals[d] = R;
    }
    ir_exit(f, 7);
    for (int i = 0; i < 8; i++)
        expect[i] = vals[g[i]];
}

static void test_random_alu(void **state)
{
    (void)state;
    for (int iter = 0; iter < 400; iter++) {
        uint32_t init[8], expect[8];
        for (int i = 0; i < 8; i++)
            init[i] = expect[i] = rnd_imm();
        random_program(expect, 1 + (int)(rnd() % 40));
        for (int o = 0; o < 2; o++) {
            static IRFunc copy;
            if (o == 0)
                memcpy(&copy, ctx.ir, sizeof(copy));
            memcpy(env.regs, init, sizeof(init));
            assert_int_equal(run(o == 1), 7);
            for (int i = 0; i < 8; i++) {
                if (env.regs[i] != expect[i]) {
                    fprintf(stderr, "iter %d opt %d r%d: got %08x want %08x\n",
                            iter, o, i, env.regs[i], expect[i]);
                    ir_dump(ctx.ir, stderr);
                }
                assert_int_equal(env.regs[i], expect[i]);
            }
            if (o == 0)
                memcpy(ctx.ir, &copy, sizeof(copy));
        }
    }
}

/* ---- the optimizer ---- */

static int count_ops(int opc)
{
    int n = 0;
    for (int i = 0; i < ctx.ir->nops; i++)
        n += ctx.ir->ops[i].opc == opc;
    return n;
}

static void test_opt_folds_and_kills(void **state)
{
    (void)state;
    IRFunc *f = ctx.ir;
    ir_reset(f);
    int t0 = ir_temp(f), t1 = ir_temp(f);
    ir_movi(f, t0, 6);
    ir_op2i(f, IR_MUL, t1, t0, 7);         /* 42, folded */
    ir_op2(f, IR_ADD, g[0], g[1], t1);     /* becomes add r0, r1, $42 */
    ir_op2i(f, IR_XOR, g[2], g[2], 5);     /* dead: r2 overwritten below */
    ir_movi(f, g[2], 9);
    ir_exit(f, 0);
    ir_optimize(f);
    assert_int_equal(count_ops(IR_MUL), 0);
    assert_int_equal(count_ops(IR_XOR), 0);
    assert_int_equal(count_ops(IR_ADD), 1);
    env.regs[1] = 100;
    env.regs[2] = 1;
    run(false);
    assert_int_equal(env.regs[0], 142);
    assert_int_equal(env.regs[2], 9);
}

static void test_opt_keeps_state_before_fault(void **state)
{
    /* A global written before a guest access must be visible if the access
     * faults (the exception handler sees the guest state): overwritten
     * right after, its store moves into the access's slow path. */
    (void)state;
    IRFunc *f = ctx.ir;
    ir_reset(f);
    int a = ir_temp(f), v = ir_temp(f);
    ir_movi(f, g[3], 1);
    ir_movi(f, g[5], 7);                   /* read after: stays */
    ir_movi(f, a, GBASE + 8192 + 64);      /* page 2: the slow path */
    ir_qld(f, v, a, IRM_32, 0x1234);
    ir_movi(f, g[3], 2);
    ir_op2(f, IR_ADD, g[4], v, g[5]);
    ir_exit(f, 0);
    ir_optimize(f);
    assert_int_equal(count_ops(IR_MOVI), 3);
    assert_int_equal(f->nsinks, 1);
    assert_int_equal(f->sinks[0].global, g[3]);
    map_pages();
    uint32_t word = 0x1000;
    memcpy(mem + 8192 + 64, &word, 4);
    env.regs[3] = 0;
    seen_r3 = 0;
    run(false);
    assert_int_equal(seen_r3, 1);          /* the slow path stored it */
    assert_int_equal(env.regs[3], 2);
    assert_int_equal(env.regs[4], 0x1007);
}

static void test_opt_branch_folding(void **state)
{
    (void)state;
    IRFunc *f = ctx.ir;
    ir_reset(f);
    int t = ir_temp(f);
    int l = ir_label(f);
    ir_movi(f, t, 3);
    ir_brcondi(f, IRC_GTU, t, 2, l);       /* always taken */
    ir_movi(f, g[5], 111);
    ir_set_label(f, l);
    ir_exit(f, 0);
    ir_optimize(f);
    assert_int_equal(count_ops(IR_BRCOND), 0);
    assert_int_equal(count_ops(IR_BR), 1);
    env.regs[5] = 5;
    run(false);
    assert_int_equal(env.regs[5], 5);
}

/* ---- guest memory, calls, branches, exits ---- */

static void test_guest_memory(void **state)
{
    (void)state;
    map_pages();
    memset(mem, 0, sizeof(mem));
    static const struct { uint32_t off; int size; bool fast; } cases[] = {
        { 0, IRM_32, true }, { 4094, IRM_16, true }, { 4095, IRM_8, true },
        { 4094, IRM_32, false },      /* crosses into page 1: slow path */
        { 8190, IRM_32, false },      /* crosses into unmapped page 2 */
        { 8192 + 16, IRM_32, false }, /* page 2 */
        { 100, IRM_8 | IRM_SIGN, true }, { 200, IRM_16 | IRM_SIGN, true },
        { 8192 + 40, IRM_16 | IRM_SIGN, false },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        IRFunc *f = ctx.ir;
        ir_reset(f);
        int a = ir_temp(f), v = ir_temp(f);
        ir_movi(f, a, GBASE + cases[i].off);
        ir_movi(f, v, 0x89abcdefu + (uint32_t)i);
        ir_qst(f, v, a, cases[i].size & IRM_SIZE, 0x100 + (uint32_t)i);
        ir_qld(f, g[0], a, cases[i].size, 0x200 + (uint32_t)i);
        ir_exit(f, 0);
        slow_loads = slow_stores = 0;
        env.pc = 0;
        run(true);
        uint32_t want = 0x89abcdefu + (uint32_t)i;
        int bytes = 1 << (cases[i].size & IRM_SIZE);
        uint32_t exp = bytes == 4 ? want : want & ((1u << (8 * bytes)) - 1);
        if (cases[i].size & IRM_SIGN)
            exp = bytes == 1 ? (uint32_t)(int32_t)(int8_t)exp :
                               (uint32_t)(int32_t)(int16_t)exp;
        assert_int_equal(env.regs[0], exp);
        uint32_t stored;
        memcpy(&stored, mem + cases[i].off, 4);
        assert_int_equal(stored & (bytes == 4 ? ~0u : (1u << (8 * bytes)) - 1),
                         want & (bytes == 4 ? ~0u : (1u << (8 * bytes)) - 1));
        assert_int_equal(slow_loads, cases[i].fast ? 0 : 1);
        assert_int_equal(slow_stores, cases[i].fast ? 0 : 1);
        /* The slow path saw the guest pc of the access. */
        assert_int_equal(env.pc, cases[i].fast ? 0 : 0x200 + (uint32_t)i);
    }
}

static uint32_t helper_sum(void *e, uint32_t a, uint32_t b, uint32_t c,
                           uint32_t d)
{
    TEnv *te = e;
    te->regs[7] = 77;                 /* helpers may write globals */
    return a + 2 * b + 3 * c + 4 * d;
}

static void test_call_and_branches(void **state)
{
    (void)state;
    IRFunc *f = ctx.ir;
    ir_reset(f);
    int t = ir_temp(f), l1 = ir_label(f), l2 = ir_label(f);
    ir_movi(f, g[7], 1);
    ir_call(f, helper_sum, t, g[0], g[1], g[2], g[3]);
    ir_op2i(f, IR_ADD, g[6], g[7], 1);    /* must see the helper's 77 */
    ir_brcondi(f, IRC_LT, t, 0, l1);
    ir_mov(f, g[4], t);
    ir_br(f, l2);
    ir_set_label(f, l1);
    ir_op1(f, IR_NEG, g[4], t);
    ir_set_label(f, l2);
    ir_exit(f, 0x55);
    env.regs[0] = 1; env.regs[1] = 2; env.regs[2] = 3; env.regs[3] = 4;
    assert_int_equal(run(true), 0x55);
    assert_int_equal(env.regs[4], 30);
    assert_int_equal(env.regs[6], 78);
    env.regs[0] = (uint32_t)-100;
    ir_reset(f);
    t = ir_temp(f); l1 = ir_label(f); l2 = ir_label(f);
    ir_call(f, helper_sum, t, g[0], g[1], g[2], g[3]);
    ir_brcondi(f, IRC_LT, t, 0, l1);
    ir_mov(f, g[4], t);
    ir_br(f, l2);
    ir_set_label(f, l1);
    ir_op1(f, IR_NEG, g[4], t);
    ir_set_label(f, l2);
    ir_exit(f, 0x55);
    run(true);
    assert_int_equal(env.regs[4], 71);   /* -(-100 + 4 + 9 + 16) */
}

static void test_entry_checks(void **state)
{
    (void)state;
    IRFunc *f = ctx.ir;
    ir_reset(f);
    ir_entry(f, 5, 0x1);
    ir_movi(f, g[0], 1);
    ir_exit(f, 9);
    env.regs[0] = 0;
    env.icount = 10;
    env.irq = 0;
    ctx.icount_limit = 100;
    size_t size; uint32_t jo[2];
    const uint8_t *code = tcg_backend_gen(&ctx, f, 0, &size, jo);
    assert_non_null(code);
    assert_int_equal(tcg_backend_run(&ctx, &env, code), 9);
    assert_int_equal(env.icount, 15);
    env.irq = 0x2;                        /* masked off: still runs */
    assert_int_equal(tcg_backend_run(&ctx, &env, code), 9);
    env.irq = 0x1;                        /* wanted: leaves before running */
    env.regs[0] = 0;
    assert_int_equal(tcg_backend_run(&ctx, &env, code), 0);
    assert_int_equal(env.regs[0], 0);
    assert_int_equal(env.icount, 20);
    env.irq = 0;
    env.icount = 100;                     /* budget used up */
    assert_int_equal(tcg_backend_run(&ctx, &env, code), 0);
    assert_int_equal(env.icount, 100);
    ctx.icount_limit = UINT64_MAX;
}

/* ---- the block cache: chaining, jump cache, invalidation ---- */

/* A block that adds 1 to r0 and leaves through slot 0 while r0 < limit,
 * else exits with 0x99. */
static TB *make_counting_tb(uint64_t phys, uint32_t limit, int via)
{
    IRFunc *f = ctx.ir;
    ir_reset(f);
    int l = ir_label(f);
    ir_entry(f, 1, 0);
    ir_op2i(f, IR_ADD, g[0], g[0], 1);
    ir_brcondi(f, IRC_GEU, g[0], limit, l);
    if (via == 0)
        ir_goto_tb(f, 0);
    else
        ir_goto_ptr(f, 0);
    ir_set_label(f, l);
    ir_exit(f, 0x99);
    ir_optimize(f);
    TB *tb = tb_alloc(&ctx);
    assert_non_null(tb);
    tb->pc = (uint32_t)phys;
    tb->phys_pc = phys;
    tb->size = 4;
    size_t size;
    tb->code = tcg_backend_gen(&ctx, f, (uint64_t)(uintptr_t)tb, &size,
                               tb->jmp_off);
    assert_non_null(tb->code);
    tb->code_size = (uint32_t)size;
    tb_insert(&ctx, tb);
    return tb;
}

static void test_chaining(void **state)
{
    (void)state;
    tb_flush(&ctx);
    TB *tb = make_counting_tb(0x5000, 50, 0);
    assert_ptr_equal(tb_lookup(&ctx, 0x5000, 0x5000, 0, 0), tb);
    assert_null(tb_lookup(&ctx, 0x5000, 0x5000, 0, 1));
    env.regs[0] = 0;
    uint64_t r = tcg_backend_run(&ctx, &env, tb->code);
    assert_int_equal(r, (uint64_t)(uintptr_t)tb | 0);
    assert_int_equal(env.regs[0], 1);
    /* Chain to itself: now it loops inside generated code. */
    assert_true(tb_link(&ctx, tb, 0, tb));
    r = tcg_backend_run(&ctx, &env, tb->code);
    assert_int_equal(r, 0x99);
    assert_int_equal(env.regs[0], 50);
    /* No chains across pages. */
    TB *other = make_counting_tb(0x7000, 50, 0);
    assert_false(tb_link(&ctx, tb, 0, other));
    /* Writing the page drops the block, and a running block can see it. */
    ctx.code_invalidated = 0;
    assert_int_equal(tb_invalidate_phys(&ctx, 0x5002, 1), 1);
    assert_true(ctx.code_invalidated);
    assert_null(tb_lookup(&ctx, 0x5000, 0x5000, 0, 0));
    assert_ptr_equal(tb_lookup(&ctx, 0x7000, 0x7000, 0, 0), other);
    assert_false(tb_link(&ctx, tb, 0, tb));
    assert_int_equal(tb_invalidate_phys(&ctx, 0x6000, 0x1000), 0);
    assert_false(tb_page_has_code(&ctx, 5));
    assert_true(tb_page_has_code(&ctx, 7));
}

static void test_goto_ptr(void **state)
{
    (void)state;
    tb_flush(&ctx);
    TB *tb = make_counting_tb(0x9000, 20, 1);
    lookup_result = tb->code;               /* an indirect jump to itself */
    lookups = 0;
    env.regs[0] = 0;
    assert_int_equal(tcg_backend_run(&ctx, &env, tb->code), 0x99);
    assert_int_equal(env.regs[0], 20);
    assert_int_equal(lookups, 19);
    lookup_result = NULL;
    env.regs[0] = 0;
    assert_int_equal(tcg_backend_run(&ctx, &env, tb->code), 0);
    assert_int_equal(env.regs[0], 1);
}

static void test_check_exit(void **state)
{
    (void)state;
    IRFunc *f = ctx.ir;
    ir_reset(f);
    ir_movi(f, g[0], 1);
    ir_check_exit(f, 0xabc);
    ir_movi(f, g[0], 2);
    ir_exit(f, 3);
    size_t size; uint32_t jo[2];
    const uint8_t *code = tcg_backend_gen(&ctx, f, 0, &size, jo);
    ctx.code_invalidated = 0;
    assert_int_equal(tcg_backend_run(&ctx, &env, code), 3);
    assert_int_equal(env.regs[0], 2);
    ctx.code_invalidated = 1;
    env.pc = 0;
    assert_int_equal(tcg_backend_run(&ctx, &env, code), 0);
    assert_int_equal(env.regs[0], 1);
    assert_int_equal(env.pc, 0xabc);
    ctx.code_invalidated = 0;
}

static void test_flush_when_full(void **state)
{
    (void)state;
    tb_flush(&ctx);
    uint64_t flushes = ctx.stats.flushes;
    int made = 0;
    /* Fill the 1 MiB buffer with large blocks until generation fails. */
    for (int n = 0; n < 100000; n++) {
        IRFunc *f = ctx.ir;
        ir_reset(f);
        for (int i = 0; i < 1000; i++)
            ir_op2i(f, IR_ADD, g[i & 7], g[(i + 1) & 7], (uint32_t)i << 8);
        ir_exit(f, 0);
        size_t size; uint32_t jo[2];
        if (!tcg_backend_gen(&ctx, f, 0, &size, jo)) {
            tb_flush(&ctx);
            assert_non_null(tcg_backend_gen(&ctx, f, 0, &size, jo));
            break;
        }
        made++;
    }
    assert_true(made > 5);
    assert_int_equal(ctx.stats.flushes, flushes + 1);
}

static void test_no_writable_exec_mapping(void **state)
{
    (void)state;
    FILE *m = fopen("/proc/self/maps", "r");
    if (!m)
        skip();
    char line[512];
    int rwx = 0;
    while (fgets(line, sizeof(line), m)) {
        char perms[8] = "";
        if (sscanf(line, "%*s %7s", perms) == 1 && perms[1] == 'w' &&
            perms[2] == 'x')
            rwx++;
    }
    fclose(m);
    assert_int_equal(rwx, 0);
    if (tcg_backend_jit)
        assert_true(ctx.cb.dual || !ctx.cb.writable);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_alu),
        cmocka_unit_test(test_opt_folds_and_kills),
        cmocka_unit_test(test_opt_keeps_state_before_fault),
        cmocka_unit_test(test_opt_branch_folding),
        cmocka_unit_test(test_guest_memory),
        cmocka_unit_test(test_call_and_branches),
        cmocka_unit_test(test_entry_checks),
        cmocka_unit_test(test_chaining),
        cmocka_unit_test(test_goto_ptr),
        cmocka_unit_test(test_check_exit),
        cmocka_unit_test(test_flush_when_full),
        cmocka_unit_test(test_no_writable_exec_mapping),
    };
    return cmocka_run_group_tests_name("tcg", tests, setup, teardown);
}
