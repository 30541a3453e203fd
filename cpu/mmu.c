/* Paging, the soft TLB and every guest memory access of the CPU.
 *
 * A TLB entry caches one linear page for one privilege (the TLB_USER bit in
 * the tag), with separate tags for read, write and fetch. The fast path of
 * an access is one compare of the tag plus a host-pointer add. Everything
 * else (misses, page-crossing accesses, MMIO, ROM, writes to pages that hold
 * cached code) goes through the slow path, which walks the page tables and
 * refills the entry. Pages with cached code never get a write fast-path
 * entry, so a guest write to code always reaches bus_notify_write.
 */
#include <string.h>
#include "cpu/cpu.h"

#define PG_P    0x001u
#define PG_RW   0x002u
#define PG_US   0x004u
#define PG_A    0x020u
#define PG_D    0x040u
#define PG_PS   0x080u
#define PG_G    0x100u
#define PG_NX   (1ull << 63)

#define PF_P    0x01u
#define PF_W    0x02u
#define PF_U    0x04u
#define PF_RSVD 0x08u
#define PF_I    0x10u

/* Physical addresses of PAE entries: bits 12..51 (we model 36 bits of
 * physical space like a P6 but keep the mask wide; the bus ignores more). */
#define PAE_ADDR_MASK 0x000ffffffffff000ull

static inline uint64_t a20(const CPUState *c, uint64_t pa)
{
    return pa & (c->bus->a20_mask | 0xffffffff00000000ull);
}

/* ---- host memory of guest RAM (sizes 1, 2, 4, 8; fixed-size copies so
 * the compiler emits plain moves instead of a memcpy call) ---- */

static inline uint64_t host_ld(const void *p, int size)
{
    uint8_t b; uint16_t h; uint32_t w; uint64_t q;
    switch (size) {
    case 1: memcpy(&b, p, 1); return b;
    case 2: memcpy(&h, p, 2); return h;
    case 4: memcpy(&w, p, 4); return w;
    default: memcpy(&q, p, 8); return q;
    }
}

static inline void host_st(void *p, uint64_t v, int size)
{
    uint8_t b = (uint8_t)v; uint16_t h = (uint16_t)v; uint32_t w = (uint32_t)v;
    switch (size) {
    case 1: memcpy(p, &b, 1); break;
    case 2: memcpy(p, &h, 2); break;
    case 4: memcpy(p, &w, 4); break;
    default: memcpy(p, &v, 8); break;
    }
}

/* ---- physical memory ---- */

static uint64_t phys_ld(CPUState *c, uint64_t pa, int size)
{
    uint8_t *p = bus_mem_ptr(c->bus, pa, false);
    if (p)
        return host_ld(p, size);
    return bus_mem_read(c->bus, pa, size);
}

static void phys_st(CPUState *c, uint64_t pa, uint64_t val, int size)
{
    uint8_t *p = bus_mem_ptr(c->bus, pa, true);
    if (p) {
        host_st(p, val, size);
        if (bus_page_has_code(c->bus, pa))
            bus_notify_write(c->bus, pa, size);
    } else {
        bus_mem_write(c->bus, pa, val, size);
    }
}

/* ---- page walk ---- */

typedef struct Walk {
    uint64_t pa;          /* physical page */
    bool w_ok;            /* writable at this privilege without a D update */
    bool x_ok;
    bool global, large;
} Walk;

static inline bool paging_on(const CPUState *c)
{
    return (c->cr0 & (CR0_PG | CR0_PE)) == (CR0_PG | CR0_PE);
}

/* Walks the tables for lin. Returns 0 and fills *w, or the #PF error code
 * (never 0: a failing walk always has U/W/P bits or at least... see below).
 * With `update` false nothing in memory changes (debugger probes). */
static int walk(CPUState *c, uint32_t lin, int acc, bool user, bool update,
                Walk *w, uint32_t *err)
{
    bool pae = c->cr4 & CR4_PAE;
    bool nxe = pae && (c->efer & EFER_NXE);
    uint32_t base_err = (acc == ACC_WRITE ? PF_W : 0) | (user ? PF_U : 0) |
                        (acc == ACC_FETCH && nxe ? PF_I : 0);
    uint64_t pde_pa, pte_pa = 0, pde, pte = 0;
    uint64_t eff;         /* AND of RW/US over the levels; OR of NX */
    bool nx = false;
    uint64_t page;
    bool large;

    if (pae) {
        uint64_t pdpte_pa = a20(c, (c->cr3 & ~0x1fu) + ((lin >> 30) << 3));
        uint64_t pdpte = phys_ld(c, pdpte_pa, 8);
        if (!(pdpte & PG_P))
            goto not_present;
        /* PDPTE bits 1,2,5-8 and 63 are reserved in 32-bit PAE. */
        if (pdpte & 0x80000000000001e6ull)
            goto reserved;
        pde_pa = a20(c, (pdpte & PAE_ADDR_MASK) + (((lin >> 21) & 511) << 3));
        pde = phys_ld(c, pde_pa, 8);
        if (!(pde & PG_P))
            goto not_present;
        if ((pde & PG_NX) && !nxe)
            goto reserved;
        nx = pde & PG_NX;
        eff = pde;
        large = pde & PG_PS;
        if (large) {
            if (pde & 0x1fe000ull)          /* bits 13-20 reserved */
                goto reserved;
            page = (pde & 0x000fffffffe00000ull) | (lin & 0x1ff000);
        } else {
            pte_pa = a20(c, (pde & PAE_ADDR_MASK) + (((lin >> 12) & 511) << 3));
            pte = phys_ld(c, pte_pa, 8);
            if (!(pte & PG_P))
                goto not_present;
            if ((pte & PG_NX) && !nxe)
                goto reserved;
            nx |= (pte & PG_NX) != 0;
            eff &= pte;
            page = pte & PAE_ADDR_MASK;
        }
    } else {
        pde_pa = a20(c, (c->cr3 & ~0xfffu) + ((lin >> 22) << 2));
        pde = phys_ld(c, pde_pa, 4);
        if (!(pde & PG_P))
            goto not_present;
        eff = pde;
        large = (pde & PG_PS) && (c->cr4 & CR4_PSE);
        if (large) {
            page = (pde & 0xffc00000u) | (lin & 0x3ff000);
        } else {
            pte_pa = a20(c, (pde & 0xfffff000u) + (((lin >> 12) & 1023) << 2));
            pte = phys_ld(c, pte_pa, 4);
            if (!(pte & PG_P))
                goto not_present;
            eff &= pte;
            page = pte & 0xfffff000u;
        }
    }

    /* Permissions. Supervisor writes ignore R/W unless CR0.WP. */
    if (user && !(eff & PG_US))
        goto protection;
    bool writable = (eff & PG_RW) || (!user && !(c->cr0 & CR0_WP));
    if (acc == ACC_WRITE && !writable)
        goto protection;
    if (acc == ACC_FETCH && nx)
        goto protection;

    uint64_t leaf = large ? pde : pte;
    if (update) {
        int esz = pae ? 8 : 4;
        if (!(pde & PG_A))
            phys_st(c, pde_pa, pde | PG_A | (large && acc == ACC_WRITE ? PG_D : 0), esz);
        else if (large && acc == ACC_WRITE && !(pde & PG_D))
            phys_st(c, pde_pa, pde | PG_D, esz);
        if (!large && (!(pte & PG_A) || (acc == ACC_WRITE && !(pte & PG_D))))
            phys_st(c, pte_pa, pte | PG_A | (acc == ACC_WRITE ? PG_D : 0), esz);
        if (acc == ACC_WRITE)
            leaf |= PG_D;
    }
    w->pa = page;
    /* Only hand out write permission once D is set, so the first write
     * after a read still takes the slow path and sets it. */
    w->w_ok = writable && (leaf & PG_D);
    w->x_ok = !nx;
    w->global = (leaf & PG_G) && (c->cr4 & CR4_PGE);
    w->large = large;
    return 0;

not_present:
    *err = base_err;
    return -1;
reserved:
    *err = base_err | PF_P | PF_RSVD;
    return -1;
protection:
    *err = base_err | PF_P;
    return -1;
}

/* ---- data breakpoints ---- */

uint32_t cpu_dbg_match(const CPUState *c, uint32_t lin, uint32_t len, bool write)
{
    static const uint32_t bp_len[4] = { 1, 2, 8, 4 };   /* LEN encoding */
    uint32_t dr7 = c->dr[7], hits = 0;
    for (int n = 0; n < 4; n++) {
        uint32_t rw = (dr7 >> (16 + 4 * n)) & 3;
        if (!((dr7 >> (2 * n)) & 3) || !(rw == 3 || (rw == 1 && write)))
            continue;
        uint32_t bl = bp_len[(dr7 >> (18 + 4 * n)) & 3];
        uint32_t start = c->dr[n] & ~(bl - 1);
        /* Overlap of [lin, lin+len) and [start, start+bl), wrap-safe. */
        if (lin - start < bl || start - lin < len)
            hits |= 1u << n;
    }
    return hits;
}

/* gdb watchpoints: the first one [lin, lin+len) overlaps, or -1. type
 * 2 matches writes, 3 reads, 4 both; any = ignore the type. */
static int watch_match(const CPUState *c, uint32_t lin, uint32_t len,
                       bool write, bool any)
{
    for (int i = 0; i < c->nwatchpoints && i < CPU_MAX_WATCHPOINTS; i++) {
        int t = c->watchpoints[i].type;
        if (!any && ((t == 2 && !write) || (t == 3 && write)))
            continue;
        uint32_t start = c->watchpoints[i].lin, wl = c->watchpoints[i].len;
        if (lin - start < wl || start - lin < len)
            return i;
    }
    return -1;
}

static inline void dbg_access(CPUState *c, uint32_t lin, int size, bool write)
{
    if (__builtin_expect(c->dbg_data, 0))
        c->dbg_hits |= cpu_dbg_match(c, lin, (uint32_t)size, write);
    if (__builtin_expect(c->nwatchpoints > 0, 0) && !c->wp_hit) {
        int i = watch_match(c, lin, (uint32_t)size, write, false);
        if (i >= 0) {
            c->wp_hit = true;
            c->wp_hit_index = i;
        }
    }
}

/* ---- TLB ---- */

static inline TLBEntry *tlb_slot(CPUState *c, uint32_t lin)
{
    return &c->tlb[(lin >> 12) & (TLB_SIZE - 1)];
}

static inline uint32_t tlb_key(uint32_t lin, bool user)
{
    return (lin & 0xfffff000u) | (user ? TLB_USER : 0);
}

static inline void tlb_clear(TLBEntry *e)
{
    e->tag_read = e->tag_write = e->tag_code = TLB_INVALID;
    e->paddr = 0;
}

static inline bool tlb_valid(const TLBEntry *e)
{
    return e->tag_read != TLB_INVALID || e->tag_write != TLB_INVALID ||
           e->tag_code != TLB_INVALID;
}

void cpu_tlb_flush(CPUState *c, bool global)
{
    for (int i = 0; i < TLB_SIZE; i++)
        if (global || !(c->tlb[i].paddr & TLB_PA_GLOBAL))
            tlb_clear(&c->tlb[i]);
    for (int i = 0; i < TLB_VICTIMS; i++)
        if (global || !(c->tlb_victim[i].paddr & TLB_PA_GLOBAL))
            tlb_clear(&c->tlb_victim[i]);
}

static uint32_t entry_page(const TLBEntry *e)
{
    if (e->tag_read != TLB_INVALID)
        return e->tag_read & 0xfffff000u;
    if (e->tag_code != TLB_INVALID)
        return e->tag_code & 0xfffff000u;
    return e->tag_write & 0xfffff000u;
}

static void flush_page_in(TLBEntry *e, uint32_t lin, uint32_t large_mask)
{
    if (!tlb_valid(e))
        return;
    uint32_t pg = entry_page(e);
    bool hit = (e->paddr & TLB_PA_LARGE) ? ((pg ^ lin) & large_mask) == 0
                                         : pg == (lin & 0xfffff000u);
    if (hit)
        tlb_clear(e);
}

void cpu_tlb_flush_page(CPUState *c, uint32_t lin)
{
    /* A large page fills many 4 KiB slots; INVLPG anywhere in it must drop
     * them all, so entries from large pages are matched by region. */
    uint32_t large_mask = (c->cr4 & CR4_PAE) ? 0xffe00000u : 0xffc00000u;
    for (int i = 0; i < TLB_SIZE; i++)
        flush_page_in(&c->tlb[i], lin, large_mask);
    for (int i = 0; i < TLB_VICTIMS; i++)
        flush_page_in(&c->tlb_victim[i], lin, large_mask);
}

static void drop_write_in(TLBEntry *e, uint64_t pa)
{
    if (e->tag_write != TLB_INVALID && (e->paddr & ~0xfffull) == pa)
        e->tag_write |= TLB_SLOW;
}

void cpu_tlb_drop_phys_page(CPUState *c, uint64_t pa)
{
    pa &= ~0xfffull;
    for (int i = 0; i < TLB_SIZE; i++)
        drop_write_in(&c->tlb[i], pa);
    for (int i = 0; i < TLB_VICTIMS; i++)
        drop_write_in(&c->tlb_victim[i], pa);
}

/* The key (page | TLB_USER) an entry was filled for, or TLB_INVALID. */
static uint32_t entry_key(const TLBEntry *e)
{
    if (e->tag_read != TLB_INVALID)
        return e->tag_read & ~TLB_SLOW;
    if (e->tag_code != TLB_INVALID)
        return e->tag_code & ~TLB_SLOW;
    if (e->tag_write != TLB_INVALID)
        return e->tag_write & ~TLB_SLOW;
    return TLB_INVALID;
}

/* A page that lost its slot to a conflicting one is often needed again
 * right away (code and data a multiple of 1 MiB apart): swap it back in
 * from the victims instead of walking the tables again. */
static void victim_lookup(CPUState *c, TLBEntry *slot, uint32_t key)
{
    for (int i = 0; i < TLB_VICTIMS; i++) {
        TLBEntry *v = &c->tlb_victim[i];
        if (entry_key(v) == key) {
            TLBEntry t = *slot;
            *slot = *v;
            *v = t;
            return;
        }
    }
}

/* Translates lin for acc, refilling its TLB entry; raises #PF. */
static TLBEntry *tlb_fill(CPUState *c, uint32_t lin, int acc, bool user)
{
    Walk w;
    uint32_t page = lin & 0xfffff000u;
    TLBEntry *slot = tlb_slot(c, lin);
    uint32_t key = tlb_key(lin, user);
    if (entry_key(slot) != key) {
        victim_lookup(c, slot, key);
        uint32_t t = acc == ACC_READ ? slot->tag_read
                   : acc == ACC_WRITE ? slot->tag_write : slot->tag_code;
        if ((t & ~TLB_SLOW) == key)
            return slot;
    }
    if (paging_on(c)) {
        uint32_t err;
        if (walk(c, lin, acc, user, true, &w, &err))
            cpu_raise_pf(c, lin, err);
    } else {
        w.pa = page;
        w.w_ok = w.x_ok = true;
        w.global = w.large = false;
    }
    uint64_t pa = a20(c, w.pa);
    TLBEntry *e = slot;
    /* A page under a data breakpoint keeps every data access slow, where
     * dbg_access sees it. */
    uint32_t watch = (c->dbg_data && cpu_dbg_match(c, page, 0x1000, true)) ||
                     (c->nwatchpoints &&
                      watch_match(c, page, 0x1000, true, true) >= 0)
                     ? TLB_SLOW : 0;
    uint32_t old_key = entry_key(e);
    if (old_key != TLB_INVALID && old_key != key)
        c->tlb_victim[c->tlb_victim_next++ % TLB_VICTIMS] = *e;
    uint8_t *rp = bus_mem_ptr(c->bus, pa, false);
    uint8_t *wp = w.w_ok ? bus_mem_ptr(c->bus, pa, true) : NULL;
    e->addend = rp ? (uintptr_t)rp - page : 0;
    e->paddr = pa | (w.global ? TLB_PA_GLOBAL : 0) | (w.large ? TLB_PA_LARGE : 0);
    e->tag_read = key | (rp ? 0 : TLB_SLOW) | watch;
    e->tag_code = w.x_ok ? (key | (rp ? 0 : TLB_SLOW)) : TLB_INVALID;
    /* The option-ROM/BIOS shadow (0xC0000-0xFFFFF) changes between RAM
     * and ROM with the chipset's PAM registers, which nobody reports to
     * the CPU: writes there always ask the bus. */
    bool shadow = pa >= 0xc0000 && pa < 0x100000;
    if (w.w_ok)
        e->tag_write = key | watch |
                       ((wp && wp == rp && !shadow &&
                         !bus_page_has_code(c->bus, pa)) ? 0 : TLB_SLOW);
    else
        e->tag_write = TLB_INVALID;
    return e;
}

static inline uint32_t *tag_for(TLBEntry *e, int acc)
{
    return acc == ACC_READ ? &e->tag_read
         : acc == ACC_WRITE ? &e->tag_write : &e->tag_code;
}

/* Physical address of lin for acc (TLB hit or refill). */
static uint64_t xlate(CPUState *c, uint32_t lin, int acc, bool user)
{
    TLBEntry *e = tlb_slot(c, lin);
    uint32_t key = tlb_key(lin, user);
    if ((*tag_for(e, acc) & ~TLB_SLOW) != key)
        e = tlb_fill(c, lin, acc, user);
    return (e->paddr & ~0xfffull) | (lin & 0xfff);
}

uint64_t cpu_translate(CPUState *c, uint32_t lin, int acc, bool user)
{
    return xlate(c, lin, acc, user);
}

int64_t cpu_probe(CPUState *c, uint32_t lin)
{
    if (!paging_on(c))
        return (int64_t)a20(c, lin);
    Walk w;
    uint32_t err;
    if (walk(c, lin, ACC_READ, false, false, &w, &err))
        return -1;
    return (int64_t)(a20(c, w.pa) | (lin & 0xfff));
}

/* ---- linear accesses ---- */

static uint64_t ld_slow(CPUState *c, uint32_t lin, int size, bool user)
{
    dbg_access(c, lin, size, false);
    if ((lin & 0xfff) + size > 0x1000) {
        /* Page-crossing: translate both pages before reading anything. */
        uint64_t pa0 = xlate(c, lin, ACC_READ, user);
        uint64_t pa1 = xlate(c, (lin | 0xfff) + 1, ACC_READ, user);
        int n0 = 0x1000 - (lin & 0xfff);
        uint64_t v = 0;
        for (int i = 0; i < size; i++) {
            uint64_t b = i < n0 ? phys_ld(c, pa0 + i, 1) : phys_ld(c, pa1 + i - n0, 1);
            v |= b << (8 * i);
        }
        return v;
    }
    TLBEntry *e = tlb_slot(c, lin);
    uint32_t key = tlb_key(lin, user);
    if ((e->tag_read & ~TLB_SLOW) != key)
        e = tlb_fill(c, lin, ACC_READ, user);
    if (e->tag_read == key) {
        return host_ld((void *)(uintptr_t)(lin + e->addend), size);
    }
    return bus_mem_read(c->bus, (e->paddr & ~0xfffull) | (lin & 0xfff), size);
}

static void st_slow(CPUState *c, uint32_t lin, uint64_t val, int size, bool user)
{
    dbg_access(c, lin, size, true);
    if ((lin & 0xfff) + size > 0x1000) {
        /* Both pages must be writable before any byte changes. */
        uint64_t pa0 = xlate(c, lin, ACC_WRITE, user);
        uint64_t pa1 = xlate(c, (lin | 0xfff) + 1, ACC_WRITE, user);
        int n0 = 0x1000 - (lin & 0xfff);
        for (int i = 0; i < size; i++) {
            uint64_t pa = i < n0 ? pa0 + i : pa1 + i - n0;
            phys_st(c, pa, (val >> (8 * i)) & 0xff, 1);
        }
        return;
    }
    TLBEntry *e = tlb_slot(c, lin);
    uint32_t key = tlb_key(lin, user);
    if ((e->tag_write & ~TLB_SLOW) != key)
        e = tlb_fill(c, lin, ACC_WRITE, user);
    if (e->tag_write == key) {
        host_st((void *)(uintptr_t)(lin + e->addend), val, size);
        return;
    }
    phys_st(c, (e->paddr & ~0xfffull) | (lin & 0xfff), val, size);
}

static inline uint64_t ld_lin(CPUState *c, uint32_t lin, int size, bool user)
{
    TLBEntry *e = tlb_slot(c, lin);
    if (__builtin_expect(e->tag_read == tlb_key(lin, user) &&
                         (lin & 0xfff) <= 0x1000u - size, 1)) {
        return host_ld((void *)(uintptr_t)(lin + e->addend), size);
    }
    return ld_slow(c, lin, size, user);
}

static inline void st_lin(CPUState *c, uint32_t lin, uint64_t val, int size,
                          bool user)
{
    TLBEntry *e = tlb_slot(c, lin);
    if (__builtin_expect(e->tag_write == tlb_key(lin, user) &&
                         (lin & 0xfff) <= 0x1000u - size, 1)) {
        host_st((void *)(uintptr_t)(lin + e->addend), val, size);
        return;
    }
    st_slow(c, lin, val, size, user);
}

static inline bool cpl_user(const CPUState *c) { return c->cpl == 3; }

uint32_t cpu_ld_priv(CPUState *c, uint32_t lin, int size, bool user)
{
    return (uint32_t)ld_lin(c, lin, size, user);
}

void cpu_st_priv(CPUState *c, uint32_t lin, uint32_t val, int size, bool user)
{
    st_lin(c, lin, val, size, user);
}

uint32_t cpu_ld_lin(CPUState *c, uint32_t lin, int size)
{
    return (uint32_t)ld_lin(c, lin, size, cpl_user(c));
}

uint64_t cpu_ld64_lin(CPUState *c, uint32_t lin)
{
    return ld_lin(c, lin, 8, cpl_user(c));
}

void cpu_st_lin(CPUState *c, uint32_t lin, uint32_t val, int size)
{
    st_lin(c, lin, val, size, cpl_user(c));
}

void cpu_st64_lin(CPUState *c, uint32_t lin, uint64_t val)
{
    st_lin(c, lin, val, 8, cpl_user(c));
}

uint32_t cpu_ld_sys(CPUState *c, uint32_t lin, int size)
{
    return (uint32_t)ld_lin(c, lin, size, false);
}

void cpu_st_sys(CPUState *c, uint32_t lin, uint32_t val, int size)
{
    st_lin(c, lin, val, size, false);
}

int cpu_fetch(CPUState *c, uint32_t lin, uint8_t *buf, int len)
{
    bool user = cpl_user(c);
    int done = 0;
    while (done < len) {
        uint32_t a = lin + done;
        int n = 0x1000 - (a & 0xfff);
        if (n > len - done)
            n = len - done;
        TLBEntry *e = tlb_slot(c, a);
        uint32_t key = tlb_key(a, user);
        if ((e->tag_code & ~TLB_SLOW) != key) {
            if (done > 0) {
                /* The rest is only a look-ahead: stop instead of faulting
                 * when the next page is not executable. */
                Walk w;
                uint32_t err;
                if (paging_on(c) && walk(c, a, ACC_FETCH, user, false, &w, &err))
                    break;
            }
            e = tlb_fill(c, a, ACC_FETCH, user);
        }
        if (e->tag_code == key) {
            memcpy(buf + done, (void *)(uintptr_t)(a + e->addend), n);
        } else {
            uint64_t pa = (e->paddr & ~0xfffull) | (a & 0xfff);
            for (int i = 0; i < n; i++)
                buf[done + i] = (uint8_t)bus_mem_read(c->bus, pa + i, 1);
        }
        done += n;
    }
    return done;
}

/* ---- segmented accesses ---- */

/* Segment types (S=1) whose accesses need nothing but the expand-up limit
 * check: bit t set in the mask for type t. */
#define FAST_READ_TYPES  0xcc0fu   /* data 0-3, readable code 10,11,14,15 */
#define FAST_WRITE_TYPES 0x000cu   /* writable expand-up data 2,3 */

static _Noreturn void seg_fault(CPUState *c, int seg)
{
    cpu_raise(c, seg == R_SS ? EXC_SS : EXC_GP, 0);
}

static uint32_t seg_check_slow(CPUState *c, int seg, uint32_t off,
                               uint32_t len, int acc)
{
    const SegCache *s = &c->seg[seg];
    uint64_t last = (uint64_t)off + (len ? len - 1 : 0);
    if (!cpu_pe(c)) {
        /* Real mode: no type checks, only the (possibly big) limit. */
        if (last > s->limit)
            seg_fault(c, seg);
        return s->base + off;
    }
    uint32_t f = s->flags;
    if (!(f & SEGF_P) || !(f & SEGF_S))
        seg_fault(c, seg);     /* null or unusable */
    uint32_t type = SEGF_TYPE(f);
    bool code = type & 8;
    if (acc == ACC_WRITE && (code || !(type & 2)))
        seg_fault(c, seg);
    if (acc == ACC_READ && code && !(type & 2))
        seg_fault(c, seg);
    if (!code && (type & 4)) {
        uint64_t top = (f & SEGF_DB) ? 0xffffffffull : 0xffffull;
        if (off <= s->limit || last > top)
            seg_fault(c, seg);
    } else if (last > s->limit) {
        seg_fault(c, seg);
    }
    return s->base + off;
}

static inline uint32_t seg_lin(CPUState *c, int seg, uint32_t off, int size,
                               int acc)
{
    const SegCache *s = &c->seg[seg];
    uint32_t f = s->flags;
    uint32_t mask = acc == ACC_WRITE ? FAST_WRITE_TYPES : FAST_READ_TYPES;
    if (__builtin_expect((f & (SEGF_P | SEGF_S)) == (SEGF_P | SEGF_S) &&
                         ((mask >> SEGF_TYPE(f)) & 1) &&
                         (uint64_t)off + size - 1 <= s->limit, 1))
        return s->base + off;
    return seg_check_slow(c, seg, off, size, acc);
}

/* Alignment check applies to CPL 3 data accesses only. */
static inline void check_ac(CPUState *c, uint32_t lin, int size)
{
    if (__builtin_expect((lin & (size - 1)) != 0, 0) &&
        (c->cr0 & CR0_AM) && (c->eflags & EF_AC) && c->cpl == 3)
        cpu_raise(c, EXC_AC, 0);
}

uint32_t cpu_check_seg(CPUState *c, int seg, uint32_t off, uint32_t len,
                       int acc)
{
    return seg_check_slow(c, seg, off, len, acc);
}

uint32_t cpu_ld(CPUState *c, int seg, uint32_t off, int size)
{
    uint32_t lin = seg_lin(c, seg, off, size, ACC_READ);
    check_ac(c, lin, size);
    return (uint32_t)ld_lin(c, lin, size, cpl_user(c));
}

uint64_t cpu_ld64(CPUState *c, int seg, uint32_t off)
{
    uint32_t lin = seg_lin(c, seg, off, 8, ACC_READ);
    check_ac(c, lin, 8);
    return ld_lin(c, lin, 8, cpl_user(c));
}

void cpu_st(CPUState *c, int seg, uint32_t off, uint32_t val, int size)
{
    uint32_t lin = seg_lin(c, seg, off, size, ACC_WRITE);
    check_ac(c, lin, size);
    st_lin(c, lin, val, size, cpl_user(c));
}

void cpu_st64(CPUState *c, int seg, uint32_t off, uint64_t val)
{
    uint32_t lin = seg_lin(c, seg, off, 8, ACC_WRITE);
    check_ac(c, lin, 8);
    st_lin(c, lin, val, 8, cpl_user(c));
}

/* ---- control registers ---- */

/* VME/PVI are not implemented (and not in CPUID), so setting them faults
 * as on a CPU without them rather than silently doing nothing. */
#define CR4_SUPPORTED (CR4_TSD | CR4_DE | CR4_PSE | CR4_PAE | CR4_MCE | \
                       CR4_PGE | CR4_PCE | CR4_OSFXSR | CR4_OSXMMEXCPT)

void cpu_set_cr0(CPUState *c, uint32_t v)
{
    if ((v & CR0_PG) && !(v & CR0_PE))
        cpu_raise(c, EXC_GP, 0);
    if ((v & CR0_NW) && !(v & CR0_CD))
        cpu_raise(c, EXC_GP, 0);
    v |= CR0_ET;                      /* hardwired on P6 */
    uint32_t changed = c->cr0 ^ v;
    c->cr0 = v;
    if (changed & (CR0_PG | CR0_PE | CR0_WP))
        cpu_tlb_flush(c, true);
    if (!(v & CR0_PE))
        c->cpl = 0;
}

void cpu_set_cr3(CPUState *c, uint32_t v)
{
    c->cr3 = v;
    cpu_tlb_flush(c, false);
}

void cpu_set_cr4(CPUState *c, uint32_t v)
{
    if (v & ~CR4_SUPPORTED)
        cpu_raise(c, EXC_GP, 0);
    uint32_t changed = c->cr4 ^ v;
    c->cr4 = v;
    if (changed & (CR4_PSE | CR4_PAE | CR4_PGE))
        cpu_tlb_flush(c, true);
}
