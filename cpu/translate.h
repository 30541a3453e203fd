/* The x86 front end of the translator and its place in the run loop
 * (-accel tcg). See cpu/translate.c. */
#ifndef CPU_TRANSLATE_H
#define CPU_TRANSLATE_H
#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>
#include "cpu/cpu.h"

/* Run translated code at CS:EIP until a block returns to the run loop,
 * without going past `end` retired instructions by more than a block.
 * Returns false when nothing ran (no translation possible for this state
 * or instruction): the caller then executes one instruction with
 * interp_step. Must be called inside the run loop's setjmp (guest
 * exceptions longjmp out of translated code). */
bool tcg_cpu_exec(CPUState *c, uint64_t end);
/* Guest physical memory [pa, pa + len) that held translated code was
 * written: drop its blocks (the board's bus code_write hook calls this
 * alongside interp_invalidate). Safe to call when tcg never ran. */
void tcg_cpu_invalidate(CPUState *c, uint64_t pa, size_t len);
/* Drop every translation (e.g. after loading a snapshot). */
void tcg_cpu_flush(CPUState *c);
/* Print the -d stats counters (blocks, hit rates, translate time). */
void tcg_cpu_print_stats(CPUState *c);
/* Free the translator's state (prints the stats first with -d stats). */
void tcg_cpu_free(CPUState *c);
#endif
