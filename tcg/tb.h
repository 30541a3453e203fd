/* Translation blocks and their cache.
 *
 * A block is found by (physical pc, virtual pc, CS base, mode flags); its
 * code never
 * spans two physical pages, so invalidating a page finds every block that
 * read it. Direct jumps chain blocks by patching a jump slot, but only
 * between blocks of the same physical page: when a page is invalidated,
 * every block that could jump into it dies with it and no chain has to
 * be undone. Indirect jumps and cross-page jumps use the jump cache,
 * indexed by virtual pc, whose hits are validated by the caller. */
#ifndef TCG_TB_H
#define TCG_TB_H
#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct TB TB;
struct TB {
    uint32_t pc;               /* guest virtual pc */
    uint32_t cs_base;
    uint32_t flags;            /* guest mode bits (guest-defined) */
    uint16_t size;             /* guest bytes */
    uint16_t ninsns;
    uint64_t phys_pc;          /* physical address of the first byte */
    const uint8_t *code;       /* rx view */
    uint32_t code_size;
    uint32_t jmp_off[2];       /* jump slot offsets in code, or UINT32_MAX */
    bool invalid;
    uint64_t exec_count;       /* blocks entered through the run loop */
    TB *hash_next;
    TB *page_next;
};

#define TB_HASH_BITS 16
#define TB_PAGE_HASH_BITS 12
#define TB_JC_BITS 12

typedef struct TbCache {
    TB *pool;                  /* all blocks since the last flush */
    int npool, maxpool;
    TB *hash[1 << TB_HASH_BITS];
    TB *page_hash[1 << TB_PAGE_HASH_BITS];   /* lists mix pages: compare */
    TB *jc[1 << TB_JC_BITS];   /* jump cache by virtual pc */
    uint64_t generation;       /* bumps at every flush */
} TbCache;

struct TcgCtx;
/* Find a valid block; NULL when there is none. The virtual pc is part of
 * the key: the same physical code mapped at two addresses (a shared
 * library in two processes) has different absolute targets baked in. */
TB *tb_lookup(struct TcgCtx *s, uint64_t phys_pc, uint32_t pc,
              uint32_t cs_base, uint32_t flags);
static inline unsigned tb_jc_hash(uint32_t pc)
{ return (pc ^ (pc >> TB_JC_BITS)) & ((1u << TB_JC_BITS) - 1); }
/* A new, empty block (NULL when the pool is full: flush and retry). */
TB *tb_alloc(struct TcgCtx *s);
/* Publish a block whose code has been generated. */
void tb_insert(struct TcgCtx *s, TB *tb);
/* Patch tb's jump slot to go straight to next (same physical page only;
 * refused otherwise or when either block is invalid). */
bool tb_link(struct TcgCtx *s, TB *tb, int slot, TB *next);
/* Invalidate every block that overlaps [pa, pa + len); returns how many.
 * Sets s->code_invalidated when one did, so a running block can stop. */
int tb_invalidate_phys(struct TcgCtx *s, uint64_t pa, size_t len);
/* Drop every block and reset the code buffer. */
void tb_flush(struct TcgCtx *s);
/* Is a page (physical page number) holding any valid block? */
bool tb_page_has_code(struct TcgCtx *s, uint64_t pfn);
#endif
