/* The translator in the run loop (-accel tcg): block lookup through the
 * jump cache and the block cache, chaining, the slow paths and lookup hook
 * that generated code calls, invalidation, -d output and statistics.
 * Translation itself is cpu/translate.c. */
#include <string.h>
#include <stdlib.h>
#include "cpu/translate_priv.h"

static uint32_t h_ld_slow(void *env, uint32_t lin, uint32_t size)
{
    return cpu_ld_lin(env, lin, (int)size);
}

static void h_st_slow(void *env, uint32_t lin, uint32_t val, uint32_t size)
{
    cpu_st_lin(env, lin, val, (int)size);
}

/* ---- block flags ---- */

uint32_t tb_flags(const CPUState *c)
{
    if (c->eflags & EF_TF)
        return TBF_NONE;
    /* Alignment checks are rare enough to leave to the interpreter. */
    if (c->cpl == 3 && (c->cr0 & CR0_AM) && (c->eflags & EF_AC))
        return TBF_NONE;
    bool pe = cpu_pe(c);
    uint32_t f = (uint32_t)c->cpl << TBF_CPL_SHIFT;
    if (cpu_code32(c)) f |= TBF_CODE32;
    if (cpu_stack32(c)) f |= TBF_SS32;
    if (pe) f |= TBF_PE;
    if (cpu_vm86(c)) f |= TBF_VM86;
    if (c->eflags & EF_IF) f |= TBF_IF;
    for (int s = R_ES; s <= R_GS; s++) {
        const SegCache *sc = &c->seg[s];
        if (sc->limit != 0xffffffffu)
            continue;
        if (s == R_CS) {
            f |= TBF_NOCHK(s);
        } else {
            uint32_t ty = SEGF_TYPE(sc->flags);
            bool ok = !pe || ((sc->flags & SEGF_P) && (sc->flags & SEGF_S) &&
                              (ty & 0xe) == 2);   /* data, writable, up */
            if (ok && !cpu_vm86(c))
                f |= TBF_NOCHK(s);
        }
        if (sc->base == 0)
            f |= TBF_BASE0(s);
    }
    return f;
}

/* interrupt_request bits that make a block leave before it runs. */
uint32_t entry_mask(uint32_t flags)
{
    /* Only requests the run loop acts on at once: a pending NMI that is
     * blocked (until IRET) must not stop every block, and an unblocked
     * one is delivered when the slice ends. */
    return CPU_INT_EXIT | CPU_INT_RESET | ((flags & TBF_IF) ? CPU_INT_HARD : 0);
}

bool tracing_blocks(const CPUState *c)
{
    return (c->trace_flags & (TRACE_EXEC | TRACE_CPU)) != 0;
}

/* The translated code for the state now, through the jump cache only
 * (indirect jumps from generated code, and the run loop's fast path). */
static TB *jc_find(CPUState *c, TcgCpu *t, uint32_t flags)
{
    uint32_t pc = c->eip;
    TB *tb = t->s.tbs.jc[tb_jc_hash(pc)];
    if (!tb || tb->invalid || tb->pc != pc ||
        tb->cs_base != c->seg[R_CS].base || tb->flags != flags)
        return NULL;
    uint32_t lin = c->seg[R_CS].base + pc;
    const TLBEntry *e = &c->tlb[(lin >> 12) & (TLB_SIZE - 1)];
    uint32_t key = (lin & 0xfffff000u) | (c->cpl == 3 ? TLB_USER : 0);
    if (e->tag_code != key ||
        (e->paddr & ~0xfffull) + (lin & 0xfff) != tb->phys_pc)
        return NULL;
    return tb;
}

static const void *h_lookup(void *env, uint32_t hint)
{
    CPUState *c = env;
    TcgCpu *t = c->tcg;
    /* After STI or MOV SS the next instruction runs with interrupts held
     * off: the run loop does that one with the interpreter. */
    if (tracing_blocks(c) || c->inhibit_irq)
        return NULL;
    /* A plain indirect jump or return keeps the mode of the block it
     * leaves: its flags come as the hint. After an interpreted
     * instruction (hint TBF_NONE) they are computed afresh. */
    uint32_t flags = hint != TBF_NONE ? hint : tb_flags(c);
    if (flags == TBF_NONE)
        return NULL;
    TB *tb = jc_find(c, t, flags);
    if (!tb)
        return NULL;
    t->s.stats.jc_hits++;
    return tb->code;
}

/* ---- -d in_asm / out_asm ---- */

static void open_disasm(TcgCpu *t)
{
    if (t->cs_open)
        return;
    t->cs_open = true;
    cs_open(CS_ARCH_X86, CS_MODE_16, &t->cs16);
    cs_open(CS_ARCH_X86, CS_MODE_32, &t->cs32);
    cs_open(CS_ARCH_X86, CS_MODE_64, &t->cs64);
}

static void log_disasm(csh h, const uint8_t *code, size_t size, uint64_t addr)
{
    cs_insn *insn;
    size_t n = h ? cs_disasm(h, code, size, addr, 0, &insn) : 0;
    for (size_t i = 0; i < n; i++)
        kestrel_log("0x%08llx:  %-8s %s\n", (unsigned long long)insn[i].address,
                    insn[i].mnemonic, insn[i].op_str);
    if (n)
        cs_free(insn, n);
}

void trace_new_block(TcgCpu *t, CPUState *c, TB *tb, const uint8_t *host)
{
    open_disasm(t);
    if (c->trace_flags & TRACE_IN_ASM) {
        kestrel_log("IN: pc %04x:%08x phys %08llx (%d insns)\n",
                    c->seg[R_CS].sel, tb->pc, (unsigned long long)tb->phys_pc,
                    tb->ninsns);
        log_disasm((tb->flags & TBF_CODE32) ? t->cs32 : t->cs16, host,
                   tb->size, tb->cs_base + tb->pc);
        kestrel_log("\n");
    }
    if (c->trace_flags & TRACE_OUT_ASM) {
        kestrel_log("OUT: [size=%u] backend %s\n", tb->code_size,
                    tcg_backend_name);
        if (tcg_backend_jit && !strcmp(tcg_backend_name, "x86_64"))
            log_disasm(t->cs64, tb->code, tb->code_size,
                       (uint64_t)(uintptr_t)tb->code);
        else
            ir_dump(t->s.ir, trace_file());
        kestrel_log("\n");
    }
}

/* ---- life cycle and the run loop's entry ---- */

static TcgCpu *tcg_get(CPUState *c)
{
    if (c->tcg)
        return c->tcg;
    TcgCpu *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    TcgEnvLayout L = {
        .pc = offsetof(CPUState, eip),
        .icount = offsetof(CPUState, icount),
        .interrupt_request = offsetof(CPUState, interrupt_request),
        .tlb = offsetof(CPUState, tlb),
        .tlb_entry_size = sizeof(TLBEntry),
        .tlb_mask = TLB_SIZE - 1,
        .tag_read = offsetof(TLBEntry, tag_read),
        .tag_write = offsetof(TLBEntry, tag_write),
        .addend = offsetof(TLBEntry, addend),
        .page_bits = 12,
        .user_tag = TLB_USER,
        .ld_slow = h_ld_slow, .st_slow = h_st_slow, .lookup = h_lookup,
        .jc_probe = true,
        .cs_base = offsetof(CPUState, seg[R_CS].base),
        .tag_code = offsetof(TLBEntry, tag_code),
        .paddr = offsetof(TLBEntry, paddr),
    };
    if (tcg_ctx_init(&t->s, &L, CODE_BUFFER_SIZE) < 0) {
        free(t);
        return NULL;
    }
    static const char *const names[8] = {
        "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi" };
    IRFunc *f = t->s.ir;
    for (int i = 0; i < 8; i++)
        t->g_reg[i] = ir_global(f, (int32_t)offsetof(CPUState, regs[i]), names[i]);
    t->g_eip = ir_global(f, offsetof(CPUState, eip), "eip");
    t->g_ccop = ir_global(f, offsetof(CPUState, cc_op), "cc_op");
    t->g_ccdst = ir_global(f, offsetof(CPUState, cc_dst), "cc_dst");
    t->g_ccsrc = ir_global(f, offsetof(CPUState, cc_src), "cc_src");
    t->g_ccsrc2 = ir_global(f, offsetof(CPUState, cc_src2), "cc_src2");
    t->g_eflags = ir_global(f, offsetof(CPUState, eflags), "eflags");
    c->tcg = t;
    return t;
}

static void trace_exec(CPUState *c, TB *tb)
{
    if (c->trace_flags & TRACE_CPU) {
        const uint32_t *r = c->regs;
        kestrel_log("EAX=%08x EBX=%08x ECX=%08x EDX=%08x\n"
                    "ESI=%08x EDI=%08x EBP=%08x ESP=%08x\n"
                    "EIP=%08x EFL=%08x CPL=%d CR0=%08x\n",
                    r[R_EAX], r[R_EBX], r[R_ECX], r[R_EDX], r[R_ESI],
                    r[R_EDI], r[R_EBP], r[R_ESP], c->eip, cpu_get_eflags(c),
                    c->cpl, c->cr0);
    }
    if (c->trace_flags & TRACE_EXEC)
        kestrel_log("Trace %p [%04x:%08x] flags %05x\n", (const void *)tb->code,
                    c->seg[R_CS].sel, tb->pc, tb->flags);
}

bool tcg_cpu_exec(CPUState *c, uint64_t end)
{
    TcgCpu *t = tcg_get(c);
    if (!t)
        return false;
    uint32_t flags = tb_flags(c);
    if (flags == TBF_NONE || (c->interrupt_request & entry_mask(flags)))
        return false;
    TcgCtx *s = &t->s;
    s->stats.lookups++;
    TB *tb = jc_find(c, t, flags);
    if (tb) {
        s->stats.lookup_hits++;
    } else {
        const SegCache *cs = &c->seg[R_CS];
        if (c->eip > cs->limit)
            return false;
        uint32_t lin = cs->base + c->eip;
        /* A fault here is the fetch fault of the instruction at EIP. */
        uint64_t phys = cpu_translate(c, lin, ACC_FETCH, c->cpl == 3);
        tb = tb_lookup(s, phys, c->eip, cs->base, flags);
        if (tb) {
            s->stats.lookup_hits++;
        } else {
            tb = translate_block(t, c, phys, flags);
            if (!tb) {
                s->stats.interp_fallbacks++;
                t->last_exit = 0;
                return false;
            }
        }
        s->tbs.jc[tb_jc_hash(tb->pc)] = tb;
    }
    /* Chain the block we just left to this one. */
    if (t->last_exit && t->last_gen == s->tbs.generation &&
        !tracing_blocks(c)) {
        TB *prev = (TB *)(uintptr_t)(t->last_exit & ~(uint64_t)TCG_EXIT_SLOT_MASK);
        tb_link(s, prev, (int)(t->last_exit & TCG_EXIT_SLOT_MASK), tb);
    }
    if (c->trace_flags & (TRACE_EXEC | TRACE_CPU))
        trace_exec(c, tb);
    tb->exec_count++;
    s->stats.exec_calls++;
    s->icount_limit = end;
    s->code_invalidated = 0;
    t->last_exit = 0;
    t->last_gen = s->tbs.generation;
    uint64_t r = tcg_backend_run(s, c, tb->code);
    t->last_exit = r;
    return true;
}

void tcg_cpu_invalidate(CPUState *c, uint64_t pa, size_t len)
{
    TcgCpu *t = c->tcg;
    if (t)
        tb_invalidate_phys(&t->s, pa, len);
}

void tcg_cpu_flush(CPUState *c)
{
    TcgCpu *t = c->tcg;
    if (t) {
        tb_flush(&t->s);
        t->last_exit = 0;
    }
}

void tcg_cpu_print_stats(CPUState *c)
{
    TcgCpu *t = c->tcg;
    if (!t)
        return;
    const TcgStats *st = &t->s.stats;
    kestrel_log("tcg: backend %s\n", tcg_backend_name);
    kestrel_log("tcg: blocks translated %llu (%llu guest insns, %.1f insns/block,"
                " %llu host bytes)\n",
                (unsigned long long)st->blocks_translated,
                (unsigned long long)st->insns_translated,
                st->blocks_translated ? (double)st->insns_translated /
                                        (double)st->blocks_translated : 0.0,
                (unsigned long long)st->bytes_host);
    kestrel_log("tcg: run-loop entries %llu, cache hits %.2f%%, jump-cache hits"
                " from code %llu, chains %llu\n",
                (unsigned long long)st->exec_calls,
                st->lookups ? 100.0 * (double)st->lookup_hits /
                              (double)st->lookups : 0.0,
                (unsigned long long)st->jc_hits, (unsigned long long)st->chains);
    kestrel_log("tcg: invalidated blocks %llu, flushes %llu, interpreter"
                " fallbacks %llu, translate time %.3f ms\n",
                (unsigned long long)st->invalidations,
                (unsigned long long)st->flushes,
                (unsigned long long)st->interp_fallbacks,
                (double)st->translate_ns / 1e6);
}

void tcg_cpu_free(CPUState *c)
{
    TcgCpu *t = c->tcg;
    if (!t)
        return;
    if (c->trace_flags & TRACE_STATS)
        tcg_cpu_print_stats(c);
    if (t->cs_open) {
        cs_close(&t->cs16);
        cs_close(&t->cs32);
        cs_close(&t->cs64);
    }
    tcg_ctx_free(&t->s);
    free(t->direct);
    free(t);
    c->tcg = NULL;
}
