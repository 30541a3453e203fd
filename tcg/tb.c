/* The block cache (see tb.h) and the translator context's life cycle. */
#include <stdlib.h>
#include <string.h>
#include "tcg/tcg.h"

#define TB_POOL_SIZE (1 << 18)

static unsigned tb_hash(uint64_t phys_pc, uint32_t pc, uint32_t cs_base,
                        uint32_t flags)
{
    uint64_t h = (phys_pc ^ ((uint64_t)pc << 32)) * 0x9e3779b97f4a7c15ull;
    h ^= (uint64_t)(cs_base ^ flags * 0x85ebca6bu) * 0xc2b2ae3d27d4eb4full;
    return (unsigned)(h >> (64 - TB_HASH_BITS));
}

static unsigned page_hash(uint64_t pfn)
{
    return (unsigned)((pfn * 0x9e3779b97f4a7c15ull) >> (64 - TB_PAGE_HASH_BITS));
}

int tcg_ctx_init(TcgCtx *s, const TcgEnvLayout *layout, size_t code_size)
{
    memset(s, 0, sizeof(*s));
    s->layout = *layout;
    s->tbs.pool = calloc(TB_POOL_SIZE, sizeof(TB));
    s->ir = malloc(sizeof(IRFunc));
    if (!s->tbs.pool || !s->ir)
        goto fail;
    s->tbs.maxpool = TB_POOL_SIZE;
    ir_init(s->ir);
    if (codebuf_init(&s->cb, code_size, tcg_backend_jit) < 0)
        goto fail;
    if (tcg_backend_init(s) < 0) {
        codebuf_free(&s->cb);
        goto fail;
    }
    s->prologue_size = s->cb.used;
    s->icount_limit = UINT64_MAX;
    return 0;
fail:
    free(s->tbs.pool);
    free(s->ir);
    s->tbs.pool = NULL;
    s->ir = NULL;
    return -1;
}

void tcg_ctx_free(TcgCtx *s)
{
    codebuf_free(&s->cb);
    free(s->tbs.pool);
    free(s->ir);
    memset(s, 0, sizeof(*s));
}

TB *tb_lookup(TcgCtx *s, uint64_t phys_pc, uint32_t pc, uint32_t cs_base,
              uint32_t flags)
{
    unsigned h = tb_hash(phys_pc, pc, cs_base, flags);
    TB **pp = &s->tbs.hash[h];
    for (TB *tb = *pp; tb; pp = &tb->hash_next, tb = *pp) {
        if (tb->phys_pc == phys_pc && tb->pc == pc && tb->cs_base == cs_base &&
            tb->flags == flags) {
            /* Move to the front: loops look up the same block again. */
            *pp = tb->hash_next;
            tb->hash_next = s->tbs.hash[h];
            s->tbs.hash[h] = tb;
            return tb;
        }
    }
    return NULL;
}

TB *tb_alloc(TcgCtx *s)
{
    if (s->tbs.npool >= s->tbs.maxpool)
        return NULL;
    TB *tb = &s->tbs.pool[s->tbs.npool++];
    memset(tb, 0, sizeof(*tb));
    tb->jmp_off[0] = tb->jmp_off[1] = UINT32_MAX;
    return tb;
}

void tb_insert(TcgCtx *s, TB *tb)
{
    unsigned h = tb_hash(tb->phys_pc, tb->pc, tb->cs_base, tb->flags);
    tb->hash_next = s->tbs.hash[h];
    s->tbs.hash[h] = tb;
    unsigned ph = page_hash(tb->phys_pc >> 12);
    tb->page_next = s->tbs.page_hash[ph];
    s->tbs.page_hash[ph] = tb;
}

bool tb_link(TcgCtx *s, TB *tb, int slot, TB *next)
{
    if (slot < 0 || slot > 1 || tb->jmp_off[slot] == UINT32_MAX ||
        tb->invalid || next->invalid ||
        (tb->phys_pc >> 12) != (next->phys_pc >> 12))
        return false;
    codebuf_begin_write(&s->cb);
    tcg_backend_patch(s, (uint8_t *)tb->code + tb->jmp_off[slot], next->code);
    codebuf_end_write(&s->cb);
    s->stats.chains++;
    return true;
}

static void hash_remove(TcgCtx *s, TB *tb)
{
    TB **pp = &s->tbs.hash[tb_hash(tb->phys_pc, tb->pc, tb->cs_base,
                                   tb->flags)];
    for (; *pp; pp = &(*pp)->hash_next) {
        if (*pp == tb) {
            *pp = tb->hash_next;
            return;
        }
    }
}

int tb_invalidate_phys(TcgCtx *s, uint64_t pa, size_t len)
{
    if (len == 0)
        return 0;
    int n = 0;
    uint64_t first = pa >> 12, last = (pa + len - 1) >> 12;
    for (uint64_t pfn = first; pfn <= last; pfn++) {
        TB **pp = &s->tbs.page_hash[page_hash(pfn)];
        bool hit = false;
        /* Blocks on the same page chain into each other: when one byte of
         * code changes, drop the whole page's blocks so no chain survives
         * into a dead block. */
        for (TB *tb = *pp; tb; tb = *pp) {
            if ((tb->phys_pc >> 12) == pfn &&
                tb->phys_pc < pa + len && tb->phys_pc + tb->size > pa) {
                hit = true;
                break;
            }
            pp = &tb->page_next;
        }
        if (!hit)
            continue;
        pp = &s->tbs.page_hash[page_hash(pfn)];
        for (TB *tb = *pp; tb; tb = *pp) {
            if ((tb->phys_pc >> 12) != pfn) {
                pp = &tb->page_next;
                continue;
            }
            *pp = tb->page_next;
            tb->invalid = true;
            hash_remove(s, tb);
            unsigned j = tb_jc_hash(tb->pc);
            if (s->tbs.jc[j] == tb)
                s->tbs.jc[j] = NULL;
            n++;
        }
    }
    if (n) {
        s->code_invalidated = 1;
        s->stats.invalidations += (uint64_t)n;
    }
    return n;
}

bool tb_page_has_code(TcgCtx *s, uint64_t pfn)
{
    for (TB *tb = s->tbs.page_hash[page_hash(pfn)]; tb; tb = tb->page_next)
        if ((tb->phys_pc >> 12) == pfn)
            return true;
    return false;
}

void tb_flush(TcgCtx *s)
{
    memset(s->tbs.hash, 0, sizeof(s->tbs.hash));
    memset(s->tbs.page_hash, 0, sizeof(s->tbs.page_hash));
    memset(s->tbs.jc, 0, sizeof(s->tbs.jc));
    /* Blocks that are still referenced (a caller holding the last exit
     * value) must not be mistaken for live ones. */
    for (int i = 0; i < s->tbs.npool; i++)
        s->tbs.pool[i].invalid = true;
    s->tbs.npool = 0;
    s->tbs.generation++;
    s->cb.used = s->prologue_size;
    s->stats.flushes++;
}
