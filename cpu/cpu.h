/* The x86 guest CPU: architectural state and the interface between the
 * parts of cpu/ (decoder, interpreter, translator, system architecture).
 *
 * Conventions:
 * - cpu->eip is the address of the instruction being executed until it
 *   completes; an instruction computes its successor in cpu->next_eip and
 *   the executor commits it. A fault (cpu_raise) longjmps back to the run
 *   loop with eip still at the faulting instruction, so every instruction
 *   must perform all checks and memory reads that can fault before it
 *   changes any register (writes go last, or in a restartable order).
 * - Arithmetic flags are lazy (see flags.h): cpu_get_eflags() computes the
 *   whole register, cpu_set_eflags() stores it.
 */
#ifndef CPU_CPU_H
#define CPU_CPU_H
#include <stdint.h>
#include <stdbool.h>
#include <setjmp.h>
#include "hw/bus.h"

enum { R_EAX, R_ECX, R_EDX, R_EBX, R_ESP, R_EBP, R_ESI, R_EDI };
/* Segment registers in encoding order, then the two system segments. */
enum { R_ES, R_CS, R_SS, R_DS, R_FS, R_GS, R_LDTR, R_TR, SEG_NONE = -1 };

#define EF_CF   0x00000001
#define EF_FIXED 0x00000002            /* bit 1 always reads 1 */
#define EF_PF   0x00000004
#define EF_AF   0x00000010
#define EF_ZF   0x00000040
#define EF_SF   0x00000080
#define EF_TF   0x00000100
#define EF_IF   0x00000200
#define EF_DF   0x00000400
#define EF_OF   0x00000800
#define EF_IOPL 0x00003000
#define EF_NT   0x00004000
#define EF_RF   0x00010000
#define EF_VM   0x00020000
#define EF_AC   0x00040000
#define EF_VIF  0x00080000
#define EF_VIP  0x00100000
#define EF_ID   0x00200000
#define EF_ARITH (EF_CF | EF_PF | EF_AF | EF_ZF | EF_SF | EF_OF)

#define CR0_PE 0x00000001
#define CR0_MP 0x00000002
#define CR0_EM 0x00000004
#define CR0_TS 0x00000008
#define CR0_ET 0x00000010
#define CR0_NE 0x00000020
#define CR0_WP 0x00010000
#define CR0_AM 0x00040000
#define CR0_NW 0x20000000
#define CR0_CD 0x40000000
#define CR0_PG 0x80000000
#define CR4_VME 0x0001
#define CR4_PVI 0x0002
#define CR4_TSD 0x0004
#define CR4_DE  0x0008
#define CR4_PSE 0x0010
#define CR4_PAE 0x0020
#define CR4_MCE 0x0040
#define CR4_PGE 0x0080
#define CR4_PCE 0x0100
#define CR4_OSFXSR 0x0200
#define CR4_OSXMMEXCPT 0x0400
#define EFER_NXE (1u << 11)

/* Exception vectors. */
enum {
    EXC_DE = 0, EXC_DB = 1, EXC_NMI = 2, EXC_BP = 3, EXC_OF = 4, EXC_BR = 5,
    EXC_UD = 6, EXC_NM = 7, EXC_DF = 8, EXC_TS = 10, EXC_NP = 11,
    EXC_SS = 12, EXC_GP = 13, EXC_PF = 14, EXC_MF = 16, EXC_AC = 17,
    EXC_MC = 18, EXC_XM = 19,
};

/* A segment register's hidden part (descriptor cache). */
typedef struct SegCache {
    uint16_t sel;
    uint32_t base;
    uint32_t limit;     /* in bytes, already scaled by G */
    uint32_t flags;     /* descriptor high dword & 0x00f0ff00: type, S, DPL,
                           P in bits 8-15; AVL, L, D/B, G in bits 20-23 */
} SegCache;
#define SEGF_TYPE(f)  (((f) >> 8) & 15)
#define SEGF_S        (1u << 12)
#define SEGF_DPL(f)   (((f) >> 13) & 3)
#define SEGF_P        (1u << 15)
#define SEGF_DB       (1u << 22)
#define SEGF_G        (1u << 23)

typedef struct DescTable { uint32_t base; uint32_t limit; } DescTable;

/* Soft TLB: linear page -> physical page and a host pointer when the page
 * is plain RAM. Separate tags for read, write and fetch so a hit costs one
 * compare; a tag holds the linear page address, or -1 when not valid. */
#define TLB_BITS 10
#define TLB_SIZE (1 << TLB_BITS)
typedef struct TLBEntry {
    uint32_t tag_read, tag_write, tag_code;   /* page | (user? 0 : 0) */
    uint32_t pad;
    uintptr_t addend;   /* host pointer = linear + addend (RAM pages only) */
    uint64_t paddr;     /* physical page address */
} TLBEntry;
#define TLB_INVALID 0xffffffffu
/* Tag encoding (cpu/mmu.c): a fast-path hit compares a tag with
 * (lin & ~0xfff) | (CPL 3 ? TLB_USER : 0). TLB_SLOW marks a known
 * translation that must take the slow path (MMIO, ROM, or a write to a
 * page holding cached code), so the one compare fails for it. The low bits
 * of paddr hold TLB_PA_* flags. */
#define TLB_USER 0x1u
#define TLB_SLOW 0x2u
#define TLB_PA_GLOBAL 0x1u
#define TLB_PA_LARGE  0x2u

typedef struct FPUState {
    uint16_t fcw, fsw, ftw;        /* ftw: full 16-bit tag word */
    uint16_t fop;
    uint32_t fip, fcs, fdp, fds;
    int top;
    long double st[8];             /* physical registers R0..R7 */
} FPUState;

/* interrupt_request bits (set by devices, the board or a debugger). */
#define CPU_INT_HARD  0x01   /* INTR line from the PIC/LAPIC is asserted */
#define CPU_INT_NMI   0x02
#define CPU_INT_EXIT  0x04   /* leave cpu_exec soon (timer, UI, debugger) */
#define CPU_INT_RESET 0x08   /* reset requested (triple fault, KBC, 0xCF9) */
#define CPU_INT_SMI   0x10
#define CPU_INT_INIT  0x20

typedef struct CPUState CPUState;
struct CPUState {
    uint32_t regs[8];
    uint32_t eip;
    uint32_t next_eip;
    uint32_t eflags;               /* non-lazy bits (and all, when
                                      cc_op == CC_OP_EFLAGS) */
    uint32_t cc_op, cc_dst, cc_src, cc_src2;  /* lazy flags, see flags.h */

    SegCache seg[8];               /* ES CS SS DS FS GS LDTR TR */
    DescTable gdt, idt;
    uint32_t cr0, cr2, cr3, cr4;
    uint64_t efer;
    uint32_t dr[8];
    int cpl;

    FPUState fpu;
    uint32_t mxcsr;
    uint8_t xmm[8][16];

    /* MSRs */
    uint64_t tsc_offset;
    uint32_t sysenter_cs, sysenter_esp, sysenter_eip;
    uint64_t apic_base;
    uint64_t pat;
    uint64_t mtrr_cap, mtrr_def_type, mtrr_fixed[11], mtrr_var[16];
    uint64_t misc_enable;

    TLBEntry tlb[TLB_SIZE];
    /* Entries evicted from tlb[] by a conflicting page (cpu/mmu.c's slow
     * path looks here before walking the page tables). */
#define TLB_VICTIMS 8
    TLBEntry tlb_victim[TLB_VICTIMS];
    unsigned tlb_victim_next;
    /* Hardware breakpoints (DR0-DR3, DR7; cpu/exec.c, cpu/mmu.c): the
     * configuration the TLB was last built for (pages under a data
     * breakpoint only get slow-path entries), and the data breakpoints the
     * current instruction hit (a #DB trap after it completes). */
    uint32_t dbg_seen[5];
    uint32_t dbg_hits;
    bool dbg_data;

    /* Run state */
    volatile uint32_t interrupt_request;
    bool halted;
    bool inhibit_irq;        /* one-instruction shadow after STI, MOV SS */
    bool nmi_blocked;        /* NMI handler running until IRET */
    int exc_depth;           /* for double/triple fault detection */
    int exc_vec;             /* vector being delivered (-1: benign/none) */
    uint64_t icount;         /* instructions retired */
    jmp_buf jmp_env;         /* cpu_raise lands here (the run loop) */

    /* Connections */
    Bus *bus;
    /* Acknowledge a maskable interrupt: returns the vector (PIC/APIC). */
    int (*intr_ack)(void *opaque);
    void *intr_opaque;
    /* Board hooks: triple fault / reset request, and port/MMIO go through
     * bus. shutdown_req is set by the board when the guest powers off. */
    void (*on_triple_fault)(void *opaque);
    void *board_opaque;

    /* Engine-private data (decode cache, translator state). */
    void *decode_cache;
    void *tcg;
    int accel;               /* ACCEL_TCG or ACCEL_INTERP */
    bool singlestep;         /* debugger: one instruction per exec call */
    uint32_t trace_flags;    /* -d items, see debug/trace.h */
    /* Debugger breakpoints (debug/gdbstub.c): cpu_exec returns EXEC_DEBUG
     * before running an instruction whose linear address (CS base + EIP)
     * is listed, except once at bp_skip_lin when bp_skip is set (resuming
     * from a breakpoint). While any is set, no translated block runs. */
#define CPU_MAX_BREAKPOINTS 64
    int nbreakpoints;
    uint32_t breakpoints[CPU_MAX_BREAKPOINTS];
    bool bp_skip;
    uint32_t bp_skip_lin;
    /* Debugger watchpoints (gdb's Z2 write, Z3 read, Z4 access): pages
     * under one get slow-path TLB entries (the debugger flushes the TLB
     * when it changes them), an access that overlaps one sets wp_hit and
     * cpu_exec returns EXEC_DEBUG once the instruction has completed. */
#define CPU_MAX_WATCHPOINTS 16
    int nwatchpoints;
    struct { uint32_t lin, len; int type; } watchpoints[CPU_MAX_WATCHPOINTS];
    bool wp_hit;
    int wp_hit_index;
};

enum { ACCEL_TCG = 0, ACCEL_INTERP = 1 };

/* Derived mode bits. */
static inline bool cpu_pe(const CPUState *c) { return c->cr0 & CR0_PE; }
static inline bool cpu_vm86(const CPUState *c) { return c->eflags & EF_VM; }
static inline bool cpu_code32(const CPUState *c)
{ return (c->seg[R_CS].flags & SEGF_DB) && cpu_pe(c) && !cpu_vm86(c); }
static inline bool cpu_stack32(const CPUState *c)
{ return (c->seg[R_SS].flags & SEGF_DB) && cpu_pe(c) && !cpu_vm86(c); }

/* ---- cpu/exec.c: life cycle and run loop ---- */
CPUState *cpu_new(Bus *bus);
void cpu_free(CPUState *c);
void cpu_reset(CPUState *c);           /* power-on / RESET state */
/* Run until about `budget` instructions have retired, or an exit request.
 * Returns one of the EXEC_* reasons. */
enum { EXEC_BUDGET, EXEC_HALTED, EXEC_EXIT_REQ, EXEC_DEBUG, EXEC_RESET };
int cpu_exec(CPUState *c, int64_t budget);
void cpu_set_irq(CPUState *c, bool level);   /* INTR line */
void cpu_request_exit(CPUState *c);

/* ---- cpu/except.c: exceptions and interrupts ---- */
/* Raise an exception at the current instruction and longjmp to the run
 * loop; the error code is pushed for vectors that have one. */
_Noreturn void cpu_raise(CPUState *c, int vec, uint32_t err);
_Noreturn void cpu_raise_pf(CPUState *c, uint32_t lin, uint32_t err);
/* Deliver an interrupt now (real, protected or v86 mode): kind says
 * whether it is an exception, a software INT n (privilege-checked against
 * the gate DPL; INT3/INTO count as software), or external. */
enum { INTK_EXC, INTK_SOFT, INTK_HW, INTK_ICEBP };
void cpu_interrupt(CPUState *c, int vec, int kind, bool has_err,
                   uint32_t err, uint32_t next_eip);

/* ---- cpu/seg.c: segmentation and far control transfers ---- */
void cpu_load_seg(CPUState *c, int seg, uint16_t sel);  /* MOV/POP Sreg, LxS */
void cpu_far_jmp(CPUState *c, uint16_t sel, uint32_t off, uint32_t next_eip);
void cpu_far_call(CPUState *c, uint16_t sel, uint32_t off, bool op32,
                  uint32_t next_eip);
void cpu_far_ret(CPUState *c, bool op32, uint16_t imm);
void cpu_iret(CPUState *c, bool op32);
void cpu_lldt(CPUState *c, uint16_t sel);
void cpu_ltr(CPUState *c, uint16_t sel);
/* LAR/LSL/VERR/VERW: return true and the value when accessible (ZF=1). */
bool cpu_lar(CPUState *c, uint16_t sel, uint32_t *out);
bool cpu_lsl(CPUState *c, uint16_t sel, uint32_t *out);
bool cpu_verr(CPUState *c, uint16_t sel);
bool cpu_verw(CPUState *c, uint16_t sel);
void cpu_sysenter(CPUState *c);
void cpu_sysexit(CPUState *c);
/* Task switch through a TSS selector; reason: jmp, call/int, iret. */
enum { TS_JMP, TS_CALL, TS_IRET, TS_INT };
void cpu_task_switch(CPUState *c, uint16_t tss_sel, int reason,
                     bool has_err, uint32_t err, uint32_t next_eip);
/* Load a selector in real/v86 mode or set a cache directly. */
void cpu_set_seg_real(CPUState *c, int seg, uint16_t sel);
/* I/O permission: raise #GP(0) unless CPL <= IOPL or the TSS bitmap allows. */
void cpu_check_io(CPUState *c, uint16_t port, int size);

/* Internals shared by except.c, seg.c and task.c (not for other users). */
/* Read the 8-byte descriptor for sel from the GDT/LDT: false when the
 * index is outside the table (or the LDT is unusable). */
bool cpu_read_desc(CPUState *c, uint16_t sel, uint32_t *lo, uint32_t *hi);
void cpu_write_desc_hi(CPUState *c, uint16_t sel, uint32_t hi);
void cpu_seg_from_desc(SegCache *s, uint16_t sel, uint32_t lo, uint32_t hi);
/* A stack that a far transfer builds before committing SS:ESP; a limit
 * violation raises #SS(err). */
typedef struct StackPtr {
    SegCache ss;
    uint32_t esp;
    bool user;
    uint32_t err;
} StackPtr;
void cpu_stk_init(CPUState *c, StackPtr *s);   /* from the current SS:ESP */
void cpu_stk_push(CPUState *c, StackPtr *s, uint32_t val, int size);
uint32_t cpu_stk_pop(CPUState *c, StackPtr *s, int size);
void cpu_stk_commit(CPUState *c, const StackPtr *s);  /* ESP (and SP) only */

/* ---- cpu/mmu.c: paging, soft TLB, memory access ---- */
enum { ACC_READ = 0, ACC_WRITE = 1, ACC_FETCH = 2 };
/* Linear-address access at the current privilege (CPL 3 is user). */
uint32_t cpu_ld_lin(CPUState *c, uint32_t lin, int size);     /* 1,2,4 */
uint64_t cpu_ld64_lin(CPUState *c, uint32_t lin);
void cpu_st_lin(CPUState *c, uint32_t lin, uint32_t val, int size);
void cpu_st64_lin(CPUState *c, uint32_t lin, uint64_t val);
/* Supervisor accesses (descriptor tables, TSS, IDT) regardless of CPL. */
uint32_t cpu_ld_sys(CPUState *c, uint32_t lin, int size);
void cpu_st_sys(CPUState *c, uint32_t lin, uint32_t val, int size);
/* Segmented access: checks limit, type and null selector (#GP/#SS), then
 * the linear access. seg is R_ES..R_GS. */
uint32_t cpu_ld(CPUState *c, int seg, uint32_t off, int size);
uint64_t cpu_ld64(CPUState *c, int seg, uint32_t off);
void cpu_st(CPUState *c, int seg, uint32_t off, uint32_t val, int size);
void cpu_st64(CPUState *c, int seg, uint32_t off, uint64_t val);
/* Check a segmented range for access without touching memory (for
 * instructions that must fault before they write anything). Returns the
 * linear address. */
uint32_t cpu_check_seg(CPUState *c, int seg, uint32_t off, uint32_t len,
                       int acc);
/* Fetch up to len code bytes at linear address (stops early at an
 * unmapped page after the first byte; faults if the first is unmapped). */
int cpu_fetch(CPUState *c, uint32_t lin, uint8_t *buf, int len);
/* Translate for the given access, raising #PF on failure. */
uint64_t cpu_translate(CPUState *c, uint32_t lin, int acc, bool user);
/* Translate without side effects (debugger, monitor): -1 if unmapped. */
int64_t cpu_probe(CPUState *c, uint32_t lin);
void cpu_tlb_flush(CPUState *c, bool global);
void cpu_tlb_flush_page(CPUState *c, uint32_t lin);
void cpu_set_cr0(CPUState *c, uint32_t v);
void cpu_set_cr3(CPUState *c, uint32_t v);
void cpu_set_cr4(CPUState *c, uint32_t v);
/* A physical page just became a code page (bus_mark_code): drop every
 * write fast-path entry for it so the next write reaches bus_notify_write.
 * Whoever marks a page as code must call this. */
void cpu_tlb_drop_phys_page(CPUState *c, uint64_t pa);
/* Linear access with an explicit privilege (user: CPL 3 rules), for the
 * system-architecture code (stack pushes while changing privilege). */
uint32_t cpu_ld_priv(CPUState *c, uint32_t lin, int size, bool user);
void cpu_st_priv(CPUState *c, uint32_t lin, uint32_t val, int size, bool user);
/* Data-breakpoint match for an access (DR7 RW=01 writes, RW=11 both):
 * the DR6 B0-B3 bits it hits. */
uint32_t cpu_dbg_match(const CPUState *c, uint32_t lin, uint32_t len, bool write);

/* ---- cpu/msr.c, cpu/cpuid.c ---- */
bool cpu_rdmsr(CPUState *c, uint32_t idx, uint64_t *val);  /* false: #GP */
bool cpu_wrmsr(CPUState *c, uint32_t idx, uint64_t val);
uint64_t cpu_rdtsc(CPUState *c);
void cpu_cpuid(CPUState *c, uint32_t leaf, uint32_t sub, uint32_t out[4]);

/* ---- cpu/interp.c: the reference interpreter ---- */
/* Execute exactly one instruction at CS:EIP (decode through the cache). */
void interp_step(CPUState *c);
/* Code invalidation for the decode cache (called from the bus hook). */
void interp_invalidate(CPUState *c, uint64_t pa, size_t len);
/* Frees the decode cache (cpu_free calls it). */
void interp_free_cache(CPUState *c);

/* ---- cpu/flags.c ---- */
uint32_t cpu_get_eflags(CPUState *c);
void cpu_set_eflags(CPUState *c, uint32_t val, uint32_t mask);
#endif
