/* Private to the translator's two files: cpu/translate.c (x86 -> IR) and
 * cpu/translate_exec.c (the run-loop glue, block lookup, -d output). */
#ifndef CPU_TRANSLATE_PRIV_H
#define CPU_TRANSLATE_PRIV_H
#include <capstone.h>
#include "cpu/cpu.h"
#include "cpu/decode.h"
#include "cpu/flags.h"
#include "cpu/translate.h"
#include "tcg/tcg.h"
#include "debug/trace.h"

/* Block flags: everything translated code depends on besides its bytes. */
#define TBF_CODE32    0x01u
#define TBF_SS32      0x02u
#define TBF_PE        0x04u
#define TBF_VM86      0x08u
#define TBF_IF        0x10u
#define TBF_CPL_SHIFT 5
#define TBF_NOCHK(s)  (0x100u << (s))     /* bits 8..13 */
#define TBF_BASE0(s)  (0x4000u << (s))    /* bits 14..19 */
#define TBF_NONE      0xffffffffu         /* state the translator avoids */

#define MAX_INSNS 64
#define CODE_BUFFER_SIZE (64u << 20)

/* The translator's state for one CPU (CPUState.tcg). */
typedef struct TcgCpu {
    TcgCtx s;
    int g_reg[8], g_eip, g_ccop, g_ccdst, g_ccsrc, g_ccsrc2, g_eflags;
    uint64_t last_exit, last_gen;
    csh cs16, cs32, cs64;
    bool cs_open;
    /* Instructions that blocks hand to an interpreter handler directly
     * (h_interp_insn), by index; valid until the cache is flushed. */
    Insn *direct;
    int ndirect;
    uint64_t direct_gen;
} TcgCpu;

#define MAX_DIRECT 65536

/* The block's flags for the CPU state now, or TBF_NONE. */
uint32_t tb_flags(const CPUState *c);
/* interrupt_request bits that make a block leave before it runs. */
uint32_t entry_mask(uint32_t flags);
/* -d exec/cpu: every block goes through the run loop (no chaining). */
bool tracing_blocks(const CPUState *c);
/* Translate the block at CS:EIP (physical address phys); NULL when the
 * code is not in RAM. */
TB *translate_block(TcgCpu *t, CPUState *c, uint64_t phys, uint32_t flags);
/* -d in_asm/out_asm for a new block. */
void trace_new_block(TcgCpu *t, CPUState *c, TB *tb, const uint8_t *host);
#endif
