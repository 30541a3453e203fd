/* The reference interpreter: fetch, decode (through a cache keyed by
 * physical address), dispatch one instruction.
 *
 * The decode cache is direct-mapped on the low bits of the physical
 * address of an instruction's first byte, so the entries a guest write can
 * affect are found without a search: a write to [pa, pa+len) can only hit
 * instructions that start in [pa-14, pa+len). Instructions that cross a
 * page boundary are never cached (they would need both pages' keys), nor
 * are those outside plain RAM/ROM.
 */
#include <stdlib.h>
#include <string.h>
#include "cpu/interp_priv.h"

#define DCACHE_BITS 14
#define DCACHE_SIZE (1u << DCACHE_BITS)
#define DCACHE_NONE UINT64_MAX

typedef struct DEntry {
    uint64_t pa;          /* physical address of the first byte, or NONE */
    uint8_t mode;         /* 16 or 32 */
    Insn insn;
} DEntry;

typedef struct DCache {
    DEntry e[DCACHE_SIZE];
    uint64_t hits, misses;
} DCache;

static InterpFn *dispatch[OP_COUNT];

static void op_invalid(CPUState *c, const Insn *in)
{
    (void)in;
    interp_ud(c);
}

/* Built once at program start, before any CPU runs (engines may run on
 * other threads later). */
__attribute__((constructor)) static void build_dispatch(void)
{
    static const InterpEntry *const tables[] = {
        interp_alu_ops, interp_bits_ops, interp_control_ops,
        interp_string_ops, interp_system_ops, interp_fpu_ops,
    };
    for (int i = 0; i < OP_COUNT; i++)
        dispatch[i] = op_invalid;
    for (unsigned t = 0; t < sizeof tables / sizeof *tables; t++)
        for (const InterpEntry *e = tables[t]; e->fn; e++)
            dispatch[e->op] = e->fn;
}

static DCache *dcache_get(CPUState *c)
{
    if (!c->decode_cache) {
        DCache *d = malloc(sizeof *d);
        if (!d)
            return NULL;
        for (unsigned i = 0; i < DCACHE_SIZE; i++)
            d->e[i].pa = DCACHE_NONE;
        d->hits = d->misses = 0;
        c->decode_cache = d;
    }
    return c->decode_cache;
}

void interp_invalidate(CPUState *c, uint64_t pa, size_t len)
{
    DCache *d = c->decode_cache;
    if (!d || !len)
        return;
    uint64_t lo = pa >= 14 ? pa - 14 : 0;
    uint64_t hi = pa + len;
    if (hi - lo >= DCACHE_SIZE) {
        /* A big write (DMA, loader): check every entry by range. */
        for (unsigned i = 0; i < DCACHE_SIZE; i++) {
            DEntry *e = &d->e[i];
            if (e->pa != DCACHE_NONE && e->pa + e->insn.len > pa &&
                e->pa < hi)
                e->pa = DCACHE_NONE;
        }
        return;
    }
    for (uint64_t a = lo; a < hi; a++) {
        DEntry *e = &d->e[a & (DCACHE_SIZE - 1)];
        if (e->pa == a && a + e->insn.len > pa)
            e->pa = DCACHE_NONE;
    }
}

void interp_free_cache(CPUState *c)
{
    free(c->decode_cache);
    c->decode_cache = NULL;
}

_Noreturn void interp_ud(CPUState *c)
{
    cpu_raise(c, EXC_UD, 0);
}

void require_cpl0(CPUState *c)
{
    if (cpu_pe(c) && (c->cpl != 0 || cpu_vm86(c)))
        cpu_raise(c, EXC_GP, 0);
}

/* Fetch and decode the instruction at CS:EIP (no cache). */
static void fetch_decode(CPUState *c, uint32_t lin, uint32_t room, int mode,
                         Insn *out)
{
    uint8_t buf[15];
    int want = room < 15 ? (int)room : 15;
    int got = cpu_fetch(c, lin, buf, want);
    if (x86_decode(buf, got, mode, out))
        return;
    if (got < 15) {
        /* The instruction may go on past what we could fetch: the fault
         * for its next byte wins over #UD. */
        if ((uint32_t)got >= room)
            cpu_raise(c, EXC_GP, 0);
        uint8_t b;
        cpu_fetch(c, lin + (uint32_t)got, &b, 1);
        /* That byte exists after all: retry with all of them. */
        int more = cpu_fetch(c, lin, buf, want);
        if (more > got && x86_decode(buf, more, mode, out))
            return;
    } else if (x86_too_long(buf, mode)) {
        cpu_raise(c, EXC_GP, 0);
    }
    interp_ud(c);
}

static const Insn *decode_at_eip(CPUState *c, Insn *tmp)
{
    SegCache *cs = &c->seg[R_CS];
    int mode = cpu_code32(c) ? 32 : 16;
    if (c->eip > cs->limit)
        cpu_raise(c, EXC_GP, 0);
    uint32_t room = cs->limit - c->eip + 1;
    if (room == 0)
        room = 15;                       /* limit 0xffffffff, eip 0 */
    uint32_t lin = cs->base + c->eip;
    DCache *d = dcache_get(c);
    if (!d) {
        fetch_decode(c, lin, room, mode, tmp);
        return tmp;
    }
    uint64_t pa = cpu_translate(c, lin, ACC_FETCH, c->cpl == 3);
    DEntry *e = &d->e[pa & (DCACHE_SIZE - 1)];
    if (e->pa == pa && e->mode == mode) {
        d->hits++;
        if (e->insn.len > room)
            cpu_raise(c, EXC_GP, 0);
        return &e->insn;
    }
    d->misses++;
    fetch_decode(c, lin, room, mode, tmp);
    if ((pa & 0xfff) + tmp->len <= 0x1000 && bus_mem_ptr(c->bus, pa, false)) {
        e->pa = pa;
        e->mode = (uint8_t)mode;
        e->insn = *tmp;
        if (!bus_page_has_code(c->bus, pa)) {
            bus_mark_code(c->bus, pa);
            cpu_tlb_drop_phys_page(c, pa);
        }
    }
    return tmp;
}

void interp_step(CPUState *c)
{
    Insn tmp;
    const Insn *in = decode_at_eip(c, &tmp);
    uint32_t next = c->eip + in->len;
    if (!cpu_code32(c))
        next &= 0xffff;
    c->next_eip = next;
    /* The interrupt shadow of STI / MOV SS covers one instruction. */
    c->inhibit_irq = false;
    dispatch[in->op](c, in);
    c->eip = c->next_eip;
    c->icount++;
}

/* ---- operand access ---- */

uint32_t op_read(CPUState *c, const Insn *in, int i)
{
    const InsnOperand *o = &in->ops[i];
    switch (o->kind) {
    case OPK_REG:
        if (o->rclass == RC_GPR)
            return reg_get(c, o->reg, o->size);
        if (o->rclass == RC_SEG)
            return c->seg[o->reg].sel;
        interp_ud(c);
    case OPK_MEM:
        return cpu_ld(c, o->seg, insn_ea(c, in, o), o->size);
    case OPK_IMM:
        return o->imm & size_mask(o->size);
    default:
        interp_ud(c);
    }
}

void op_write(CPUState *c, const Insn *in, int i, uint32_t v)
{
    const InsnOperand *o = &in->ops[i];
    switch (o->kind) {
    case OPK_REG:
        if (o->rclass != RC_GPR)
            interp_ud(c);
        reg_set(c, o->reg, o->size, v);
        return;
    case OPK_MEM:
        cpu_st(c, o->seg, insn_ea(c, in, o), v, o->size);
        return;
    default:
        interp_ud(c);
    }
}

void push(CPUState *c, uint32_t v, int size)
{
    uint32_t sp = (c->regs[R_ESP] - (uint32_t)size) & sp_mask(c);
    cpu_st(c, R_SS, sp, v, size);
    set_sp(c, sp);
}

uint32_t stack_peek(CPUState *c, uint32_t off, int size)
{
    return cpu_ld(c, R_SS, (c->regs[R_ESP] + off) & sp_mask(c), size);
}

uint32_t pop(CPUState *c, int size)
{
    uint32_t v = stack_peek(c, 0, size);
    set_sp(c, c->regs[R_ESP] + (uint32_t)size);
    return v;
}
