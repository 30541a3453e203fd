/* Paging and the soft TLB: page walks (4 KiB, 4 MiB PSE, PAE with 2 MiB
 * pages and NX), #PF error codes (P/W/U/RSVD/I bits as the SDM defines
 * them), accessed/dirty bits, CR0.WP, TLB caching and its invalidation
 * (INVLPG, CR3, global pages), page-straddling stores, A20, MMIO, and the
 * self-modifying-code hook. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "cpu_fixture.h"

#define PD   0x100000u
#define PT   0x101000u
#define PDPT 0x102000u
#define PD2  0x103000u
#define PT2  0x104000u

enum { P = 1, RW = 2, US = 4, A = 0x20, D = 0x40, PS = 0x80, G = 0x100 };

static void map4k(Bus *b, uint32_t lin, uint32_t pa, uint32_t flags)
{
    fx_w32(b, PD + (lin >> 22) * 4, PT | P | RW | US);
    fx_w32(b, PT + ((lin >> 12) & 1023) * 4, pa | flags);
}

static Fx *paged(void)
{
    Fx *f = fx_new();
    CPUState *c = f->c;
    Bus *b = &f->bus;
    memset(b->ram + PD, 0, 0x5000);
    /* Identity-map the first 4 MiB (fixture tables, stacks, handlers). */
    fx_w32(b, PD, PT2 | P | RW);
    for (int i = 0; i < 1024; i++)
        fx_w32(b, PT2 + i * 4, (i << 12) | P | RW);
    cpu_set_cr3(c, PD);
    cpu_set_cr0(c, c->cr0 | CR0_PG);
    return f;
}

static void test_walk_and_ad_bits(void **st)
{
    (void)st;
    Fx *f = paged();
    CPUState *c = f->c;
    Bus *b = &f->bus;
    map4k(b, 0x400000, 0x500000, P | RW | US);
    fx_w32(b, 0x500010, 0xfeedf00d);
    assert_int_equal(cpu_ld_lin(c, 0x400010, 4), 0xfeedf00d);
    uint32_t pte = fx_r32(b, PT);
    assert_true(pte & A);
    assert_false(pte & D);           /* a read does not dirty */
    assert_true(fx_r32(b, PD + 4) & A);
    cpu_st_lin(c, 0x400020, 0x12345678, 4);
    assert_true(fx_r32(b, PT) & D);
    assert_int_equal(fx_r32(b, 0x500020), 0x12345678);
    assert_int_equal(cpu_translate(c, 0x400abc, ACC_READ, false), 0x500abc);
    fx_free(f);
}

static void test_pf_error_codes(void **st)
{
    (void)st;
    Fx *f = paged();
    CPUState *c = f->c;
    Bus *b = &f->bus;
    map4k(b, 0x400000, 0x500000, P);            /* supervisor, read-only */
    /* Not present: P=0. */
    assert_int_equal(FX_TRY(c, cpu_ld_lin(c, 0x800000, 4)), EXC_PF);
    assert_int_equal(fx_stack(f, 0), 0);
    assert_int_equal(c->cr2, 0x800000);
    assert_int_equal(FX_TRY(c, cpu_st_lin(c, 0x401000, 1, 4)), EXC_PF);
    assert_int_equal(fx_stack(f, 0), 2);
    assert_int_equal(c->cr2, 0x401000);
    /* Supervisor write to read-only with WP=0 succeeds, WP=1 faults. */
    assert_int_equal(FX_TRY(c, cpu_st_lin(c, 0x400000, 1, 4)), -1);
    cpu_set_cr0(c, c->cr0 | CR0_WP);
    assert_int_equal(FX_TRY(c, cpu_st_lin(c, 0x400004, 1, 4)), EXC_PF);
    assert_int_equal(fx_stack(f, 0), 3);
    /* User access to a supervisor page: P|U, and P|W|U for a write. */
    assert_int_equal(FX_TRY(c, cpu_ld_priv(c, 0x400000, 4, true)), EXC_PF);
    assert_int_equal(fx_stack(f, 0), 5);
    assert_int_equal(FX_TRY(c, cpu_st_priv(c, 0x400000, 0, 4, true)), EXC_PF);
    assert_int_equal(fx_stack(f, 0), 7);
    /* User read of a user read-only page works; its write faults. */
    map4k(b, 0x402000, 0x502000, P | US);
    assert_int_equal(FX_TRY(c, cpu_ld_priv(c, 0x402000, 4, true)), -1);
    assert_int_equal(FX_TRY(c, cpu_st_priv(c, 0x402000, 0, 4, true)), EXC_PF);
    assert_int_equal(fx_stack(f, 0), 7);
    fx_free(f);
}

static void test_pse_4m(void **st)
{
    (void)st;
    Fx *f = paged();
    CPUState *c = f->c;
    Bus *b = &f->bus;
    fx_w32(b, PD + 1 * 4, 0x400000 | P | RW | PS);     /* 4M at 4M */
    fx_w32(b, 0x400000 + 0x3ff000, 0x4d4d4d4d);
    /* Without CR4.PSE the PS bit is ignored: the PDE points at a table. */
    cpu_set_cr4(c, CR4_PSE);
    assert_int_equal(cpu_ld_lin(c, 0x7ff000, 4), 0x4d4d4d4d);
    assert_int_equal(cpu_probe(c, 0x7ff123), 0x7ff123);
    assert_true(fx_r32(b, PD + 4) & A);
    cpu_st_lin(c, 0x7ff000, 1, 4);
    assert_true(fx_r32(b, PD + 4) & D);        /* D lives in the PDE */
    fx_free(f);
}

static void test_pae_nx(void **st)
{
    (void)st;
    Fx *f = fx_new();
    CPUState *c = f->c;
    Bus *b = &f->bus;
    memset(b->ram + PD, 0, 0x5000);
    uint64_t e;
    /* PDPT[0] -> PD2; PD2[0]: 2M identity page; PD2[2]: 2M at 4M, NX. */
    e = PD2 | P;
    memcpy(b->ram + PDPT, &e, 8);
    e = 0 | P | RW | PS;
    memcpy(b->ram + PD2, &e, 8);
    e = 0x400000ull | P | RW | PS | (1ull << 63);
    memcpy(b->ram + PD2 + 16, &e, 8);
    cpu_set_cr4(c, CR4_PAE);
    cpu_set_cr3(c, PDPT);
    assert_true(cpu_wrmsr(c, 0xc0000080u, EFER_NXE));
    cpu_set_cr0(c, c->cr0 | CR0_PG);
    fx_w32(b, 0x400100, 0xabcd);
    assert_int_equal(cpu_ld_lin(c, 0x400100, 4), 0xabcd);
    uint8_t buf[4];
    assert_int_equal(FX_TRY(c, cpu_fetch(c, 0x400100, buf, 4)), EXC_PF);
    assert_int_equal(fx_stack(f, 0), 0x11);     /* P | I/D */
    assert_int_equal(c->cr2, 0x400100);
    /* With NXE clear the XD bit is reserved: RSVD | P. */
    assert_true(cpu_wrmsr(c, 0xc0000080u, 0));
    assert_int_equal(FX_TRY(c, cpu_ld_lin(c, 0x400100, 4)), EXC_PF);
    assert_int_equal(fx_stack(f, 0), 0x09);
    fx_free(f);
}

static void test_tlb_invalidation(void **st)
{
    (void)st;
    Fx *f = paged();
    CPUState *c = f->c;
    Bus *b = &f->bus;
    fx_w32(b, 0x500000, 0x1111);
    fx_w32(b, 0x600000, 0x2222);
    map4k(b, 0x400000, 0x500000, P | RW | D | A);
    assert_int_equal(cpu_ld_lin(c, 0x400000, 4), 0x1111);
    /* Changing the PTE without INVLPG: the TLB still holds the old page
     * (as on hardware), INVLPG drops it. */
    map4k(b, 0x400000, 0x600000, P | RW | D | A);
    assert_int_equal(cpu_ld_lin(c, 0x400000, 4), 0x1111);
    cpu_tlb_flush_page(c, 0x400000);
    assert_int_equal(cpu_ld_lin(c, 0x400000, 4), 0x2222);

    /* Global pages survive a CR3 write when CR4.PGE is on. */
    cpu_set_cr4(c, CR4_PGE);
    map4k(b, 0x401000, 0x500000, P | RW | G);
    map4k(b, 0x402000, 0x500000, P | RW);
    assert_int_equal(cpu_ld_lin(c, 0x401000, 4), 0x1111);
    assert_int_equal(cpu_ld_lin(c, 0x402000, 4), 0x1111);
    map4k(b, 0x401000, 0x600000, P | RW | G);
    map4k(b, 0x402000, 0x600000, P | RW);
    cpu_set_cr3(c, PD);
    assert_int_equal(cpu_ld_lin(c, 0x401000, 4), 0x1111);   /* global kept */
    assert_int_equal(cpu_ld_lin(c, 0x402000, 4), 0x2222);   /* reloaded */
    cpu_set_cr4(c, 0);                                      /* PGE off: all */
    assert_int_equal(cpu_ld_lin(c, 0x401000, 4), 0x2222);
    fx_free(f);
}

static void test_straddling_store(void **st)
{
    (void)st;
    Fx *f = paged();
    CPUState *c = f->c;
    Bus *b = &f->bus;
    map4k(b, 0x400000, 0x500000, P | RW | US);
    map4k(b, 0x401000, 0x501000, P | US);         /* read-only for users */
    fx_w32(b, 0x500ffc, 0);
    int v = FX_TRY(c, cpu_st_priv(c, 0x400ffe, 0xaabbccdd, 4, true));
    assert_int_equal(v, EXC_PF);
    assert_int_equal(c->cr2, 0x401000);
    assert_int_equal(fx_r32(b, 0x500ffc), 0);    /* nothing written */
    map4k(b, 0x401000, 0x501000, P | RW | US);
    cpu_tlb_flush(c, true);
    cpu_st_priv(c, 0x400ffe, 0xaabbccdd, 4, true);
    assert_int_equal(fx_r16(b, 0x500ffe), 0xccdd);
    assert_int_equal(fx_r16(b, 0x501000), 0xaabb);
    assert_int_equal(cpu_ld_priv(c, 0x400ffe, 4, true), 0xaabbccdd);
    fx_free(f);
}

static int code_writes;
static uint64_t code_write_pa;
static void on_code_write(void *opaque, uint64_t pa, size_t len)
{
    (void)opaque;
    (void)len;
    code_writes++;
    code_write_pa = pa;
}

static void test_code_page_writes_reach_hook(void **st)
{
    (void)st;
    Fx *f = fx_new();
    CPUState *c = f->c;
    Bus *b = &f->bus;
    b->code_write = on_code_write;
    code_writes = 0;
    /* A write fast-path entry exists before the page becomes code... */
    cpu_st_lin(c, 0x200000, 1, 4);
    cpu_st_lin(c, 0x200004, 1, 4);
    assert_int_equal(code_writes, 0);
    bus_mark_code(b, 0x200000);
    cpu_tlb_drop_phys_page(c, 0x200000);
    /* ...and the next write still reaches the hook. */
    cpu_st_lin(c, 0x200008, 7, 4);
    assert_int_equal(code_writes, 1);
    assert_int_equal(code_write_pa, 0x200008);
    /* A fresh TLB fill for a code page never gets a fast write entry. */
    cpu_tlb_flush(c, true);
    cpu_st_lin(c, 0x20000c, 7, 4);
    cpu_st_lin(c, 0x200010, 7, 2);
    assert_int_equal(code_writes, 3);
    fx_free(f);
}

static void test_a20(void **st)
{
    (void)st;
    Fx *f = fx_new();
    CPUState *c = f->c;
    Bus *b = &f->bus;
    fx_w32(b, 0x000010, 0x10101010);
    fx_w32(b, 0x100010, 0x20202020);
    assert_int_equal(cpu_ld_lin(c, 0x100010, 4), 0x20202020);
    b->a20_mask = ~(1u << 20);
    cpu_tlb_flush(c, true);
    assert_int_equal(cpu_ld_lin(c, 0x100010, 4), 0x10101010);
    fx_free(f);
}

static uint64_t mmio_last_off;
static uint64_t mmio_read(void *o, uint64_t off, int size)
{
    (void)o;
    (void)size;
    mmio_last_off = off;
    return 0x5a5a5a5a;
}
static void mmio_write(void *o, uint64_t off, uint64_t val, int size)
{
    (void)o;
    (void)size;
    mmio_last_off = off + val;
}

static void test_mmio(void **st)
{
    (void)st;
    Fx *f = fx_new();
    CPUState *c = f->c;
    bus_mmio_register(&f->bus, 0xfe000000u, 0x1000, mmio_read, mmio_write,
                      NULL, "t");
    assert_int_equal(cpu_ld_lin(c, 0xfe000040u, 4), 0x5a5a5a5a);
    assert_int_equal(mmio_last_off, 0x40);
    cpu_st_lin(c, 0xfe000080u, 1, 4);
    assert_int_equal(mmio_last_off, 0x81);
    fx_free(f);
}

static void test_alignment_check(void **st)
{
    (void)st;
    Fx *f = fx_new();
    CPUState *c = f->c;
    fx_ring3(f);
    assert_int_equal(FX_TRY(c, cpu_ld(c, R_DS, 0x201, 4)), -1);
    c->eflags |= EF_AC;
    assert_int_equal(FX_TRY(c, cpu_ld(c, R_DS, 0x201, 4)), -1); /* AM off */
    c->cr0 |= CR0_AM;
    fx_ring3(f);
    c->eflags |= EF_AC;
    assert_int_equal(FX_TRY(c, cpu_ld(c, R_DS, 0x201, 4)), EXC_AC);
    assert_int_equal(fx_stack(f, 0), 0);
    fx_free(f);
}

static void test_probe_has_no_side_effects(void **st)
{
    (void)st;
    Fx *f = paged();
    CPUState *c = f->c;
    Bus *b = &f->bus;
    map4k(b, 0x400000, 0x500000, P | RW);
    assert_int_equal(cpu_probe(c, 0x400123), 0x500123);
    assert_false(fx_r32(b, PT) & A);
    assert_int_equal(cpu_probe(c, 0x900000), -1);
    fx_free(f);
}

static void test_conflicting_pages_and_victims(void **st)
{
    (void)st;
    Fx *f = paged();
    CPUState *c = f->c;
    Bus *b = &f->bus;
    /* Two linear pages that share a TLB slot (TLB_SIZE pages apart). */
    uint32_t l1 = 0x400000, l2 = l1 + TLB_SIZE * 4096u;
    fx_w32(b, PD + (l2 >> 22) * 4, (PT + 0x1000) | 7);
    fx_w32(b, PT + ((l1 >> 12) & 1023) * 4, 0x500000 | 7);
    fx_w32(b, PT + 0x1000 + ((l2 >> 12) & 1023) * 4, 0x600000 | 7);
    map4k(b, l1, 0x500000, 7);
    fx_w32(b, 0x500000, 0x1111);
    fx_w32(b, 0x600000, 0x2222);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(cpu_ld_lin(c, l1, 4), 0x1111);
        assert_int_equal(cpu_ld_lin(c, l2, 4), 0x2222);
    }
    /* INVLPG reaches an entry parked among the victims. */
    fx_w32(b, PT + ((l1 >> 12) & 1023) * 4, 0x600000 | 7);
    cpu_tlb_flush_page(c, l1);
    assert_int_equal(cpu_ld_lin(c, l2, 4), 0x2222);
    assert_int_equal(cpu_ld_lin(c, l1, 4), 0x2222);
    /* So do CR3 writes. */
    fx_w32(b, PT + ((l1 >> 12) & 1023) * 4, 0x500000 | 7);
    assert_int_equal(cpu_ld_lin(c, l2, 4), 0x2222);
    cpu_set_cr3(c, PD);
    assert_int_equal(cpu_ld_lin(c, l1, 4), 0x1111);
    fx_free(f);
}

static void test_shadow_write_enable_is_live(void **st)
{
    (void)st;
    Fx *f = fx_new();
    CPUState *c = f->c;
    Bus *b = &f->bus;
    /* PAM: 0xF0000 writable, the BIOS writes, then write-protects it;
     * the write that follows must not land (no TLB flush in between). */
    for (int i = 0; i < 16; i++)
        b->shadow_writable[i] = true;
    cpu_st_lin(c, 0xf1000, 0x11, 1);
    assert_int_equal(b->ram[0xf1000], 0x11);
    for (int i = 0; i < 16; i++)
        b->shadow_writable[i] = false;
    cpu_st_lin(c, 0xf1000, 0x22, 1);
    assert_int_equal(b->ram[0xf1000], 0x11);
    assert_int_equal(cpu_ld_lin(c, 0xf1000, 1), 0x11);
    fx_free(f);
}

static uint32_t rnd(uint32_t *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return *seed >> 8;
}

typedef struct MmuOp { int kind, size; uint32_t lin, val; bool user; } MmuOp;

static uint64_t mmu_out;   /* outside the frame that setjmp returns to */
static int mmu_compared, mmu_faulted;

static void mmu_do(CPUState *c, const MmuOp *o)
{
    uint64_t *out = &mmu_out;
    uint8_t buf[16];
    switch (o->kind) {
    case 0: *out = cpu_ld_priv(c, o->lin, o->size, o->user); break;
    case 1: cpu_st_priv(c, o->lin, o->val, o->size, o->user); break;
    case 2: *out = cpu_fetch(c, o->lin, buf, 15); break;
    default: *out = cpu_ld64_lin(c, o->lin); break;
    }
}

static void mmu_one(Fx *f, uint32_t *seed)
{
    CPUState *c = f->c;
    Bus *b = &f->bus;
    MmuOp o = { (int)(rnd(seed) % 4), 1 << (rnd(seed) % 3),
                ((rnd(seed) % 2 ? 0 : rnd(seed) % 1024) << 22) |
                    (rnd(seed) % 0x400000),
                rnd(seed), rnd(seed) % 2 };
    mmu_out = 0;
    int v = FX_TRY(c, mmu_do(c, &o));
    if (v == -1 && o.kind == 0 && (o.lin & 0xfff) + o.size <= 0x1000) {
        int64_t pa = cpu_probe(c, o.lin);
        assert_true(pa >= 0);
        assert_int_equal(mmu_out, bus_mem_read(b, (uint64_t)pa, o.size));
        mmu_compared++;
    } else if (v == EXC_PF) {
        mmu_faulted++;
    }
    /* A store may have rewritten a table: flush, as a kernel would. Keep
     * the fixture's identity map (IDT, stacks) and stack usable. */
    if (o.kind == 1)
        cpu_tlb_flush(c, true);
    fx_w32(b, PD, PT2 | P | RW);
    c->regs[R_ESP] = FX_STACK0;
    c->exc_depth = 0;
}

/* Random page tables (entries pointing anywhere, including past RAM and
 * into MMIO), random paging modes and random accesses: no host crash, and
 * every load that succeeds returns what a side-effect-free walk
 * (cpu_probe) plus a bus read says, so the TLB (victims included) never
 * disagrees with the tables it caches after a flush. */
static void test_random_page_tables(void **st)
{
    (void)st;
    uint32_t seed = 777;
    Fx *f = paged();
    CPUState *c = f->c;
    Bus *b = &f->bus;
    for (int round = 0; round < 200; round++) {
        /* Mostly sane entries into RAM, sometimes garbage. */
        for (int i = 0; i < 64; i++) {
            uint32_t slot = rnd(&seed) % 1024;
            uint32_t v = rnd(&seed) % 8 ? ((rnd(&seed) % 0x800) << 12) |
                                              (rnd(&seed) & 0x1ff)
                                        : (uint32_t)rnd(&seed) << 8;
            if (rnd(&seed) % 2)
                fx_w32(b, PT + slot * 4, v);
            else if (slot != 0)
                fx_w32(b, PD + slot * 4, (rnd(&seed) % 2 ? PT : v) | (v & 0x1ff));
        }
        uint32_t cr4 = rnd(&seed) % 2 ? CR4_PSE : 0;
        int v0 = FX_TRY(c, cpu_set_cr4(c, cr4));
        assert_int_equal(v0, -1);
        cpu_tlb_flush(c, true);
        for (int i = 0; i < 100; i++)
            mmu_one(f, &seed);
    }
    /* Both outcomes happened often enough to mean something. */
    print_message("%d loads compared, %d page faults\n", mmu_compared,
                  mmu_faulted);
    assert_true(mmu_compared > 1000 && mmu_faulted > 1000);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_walk_and_ad_bits),
        cmocka_unit_test(test_pf_error_codes),
        cmocka_unit_test(test_pse_4m),
        cmocka_unit_test(test_pae_nx),
        cmocka_unit_test(test_tlb_invalidation),
        cmocka_unit_test(test_straddling_store),
        cmocka_unit_test(test_code_page_writes_reach_hook),
        cmocka_unit_test(test_a20),
        cmocka_unit_test(test_mmio),
        cmocka_unit_test(test_alignment_check),
        cmocka_unit_test(test_probe_has_no_side_effects),
        cmocka_unit_test(test_conflicting_pages_and_victims),
        cmocka_unit_test(test_shadow_write_enable_is_live),
        cmocka_unit_test(test_random_page_tables),
    };
    return cmocka_run_group_tests_name("mmu", tests, NULL, NULL);
}
