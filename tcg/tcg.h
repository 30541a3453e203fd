/* The translator's context: the code buffer, the block cache, the layout
 * of the guest CPU state that generated code touches, and the interface
 * every backend (tcg/backend-*.c, one per build) implements.
 *
 * Guest-independent: the guest front end (cpu/translate.c) describes its
 * state through TcgEnvLayout and provides the slow paths as plain C
 * functions. */
#ifndef TCG_TCG_H
#define TCG_TCG_H
#include <stdint.h>
#include <stdbool.h>
#include "tcg/ir.h"
#include "tcg/codebuf.h"
#include "tcg/tb.h"

/* Where generated code finds things in the guest state (the env pointer).
 * The soft TLB is an array of entries; an entry hits for an access when
 * its tag equals the page of the access's last byte, which also sends
 * accesses that cross a page to the slow path. */
typedef struct TcgEnvLayout {
    int32_t pc;                  /* uint32_t: guest pc, synced before slow paths */
    int32_t icount;              /* uint64_t: instructions retired */
    int32_t interrupt_request;   /* uint32_t */
    int32_t tlb;                 /* first entry */
    int32_t tlb_entry_size;
    uint32_t tlb_mask;           /* number of entries - 1 */
    int32_t tag_read, tag_write; /* uint32_t, within an entry */
    int32_t addend;              /* uintptr_t: host = linear + addend */
    int page_bits;               /* 12 */
    uint32_t user_tag;           /* or-ed into the compared tag for IRM_USER */
    /* Slow paths: may raise a guest exception (longjmp out of the block). */
    uint32_t (*ld_slow)(void *env, uint32_t lin, uint32_t size);
    void (*st_slow)(void *env, uint32_t lin, uint32_t val, uint32_t size);
    /* Indirect jumps: the host code of the block for the guest state now,
     * or NULL to return to the run loop. hint is the GOTO_PTR's immediate
     * (the front end's knowledge of the mode, or a value meaning none). */
    const void *(*lookup)(void *env, uint32_t hint);
    /* For an inline jump-cache probe (jc_probe): where the code segment
     * base is, and the fetch tag and physical page of a TLB entry. A hit
     * needs the block's pc, CS base and flags to match, and the TLB's
     * fetch translation of the pc to lead to the block's physical pc. */
    bool jc_probe;
    int32_t cs_base;             /* uint32_t */
    int32_t tag_code;            /* uint32_t, within an entry */
    int32_t paddr;               /* uint64_t page | flag bits, within an entry */
} TcgEnvLayout;

typedef struct TcgStats {
    uint64_t blocks_translated, insns_translated, bytes_host;
    uint64_t lookups, lookup_hits, jc_hits, chains, flushes, invalidations;
    uint64_t interp_fallbacks, exec_calls;
    uint64_t translate_ns;
} TcgStats;

typedef struct TcgCtx {
    /* Read by generated code through a host register: keep these first. */
    uint64_t icount_limit;       /* leave at block entry when icount >= */
    uint32_t code_invalidated;   /* set when a store hit translated code */
    uint32_t pad;

    TcgEnvLayout layout;
    CodeBuf cb;
    const uint8_t *prologue;     /* rx: enter(env, ctx, code) */
    const uint8_t *epilogue;     /* rx: return to the caller of enter */
    size_t prologue_size;        /* bytes kept by a flush */
    TbCache tbs;
    IRFunc *ir;
    TcgStats stats;
    bool trace_out_asm;
} TcgCtx;

/* Exit values of a run: 0 (nothing to chain), or the address of the TB
 * that left through chainable slot n, plus n. TBs are 4-byte aligned. */
#define TCG_EXIT_SLOT_MASK 3

/* ---- the backend (tcg/backend-$(BACKEND).c) ---- */
extern const char tcg_backend_name[];
extern const bool tcg_backend_jit;   /* emits host code (else IR interpreter) */
/* Emit the enter/leave trampolines at the start of the code buffer. */
int tcg_backend_init(TcgCtx *s);
/* Emit code for f into the buffer at cb.used. exit_base is the value that
 * chainable exits return (slot added). On success returns the code's rx
 * address and fills *size and the patch offsets of jump slots 0/1
 * (UINT32_MAX when unused); returns NULL when the buffer has no room. */
const uint8_t *tcg_backend_gen(TcgCtx *s, IRFunc *f, uint64_t exit_base,
                               size_t *size, uint32_t jmp_off[2]);
/* Run generated code until it exits; returns the exit value. */
uint64_t tcg_backend_run(TcgCtx *s, void *env, const void *code);
/* Point jump slot at patch_rx to the code at target_rx (NULL: unchain). */
void tcg_backend_patch(TcgCtx *s, uint8_t *patch_rx, const void *target_rx);

/* ---- tcg/tb.c: life cycle ---- */
int tcg_ctx_init(TcgCtx *s, const TcgEnvLayout *layout, size_t code_size);
void tcg_ctx_free(TcgCtx *s);
#endif
