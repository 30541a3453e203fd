/* Logging and the -d trace items (QEMU's names), and -D logfile.
 *
 * trace_flags holds the enabled TRACE_* bits; code that logs checks the
 * bit first (cheap) and then calls kestrel_log(), which writes to the -D
 * file or to stderr. CPUState.trace_flags is a copy the board makes so the
 * run loop can test it without touching a global. */
#ifndef DEBUG_TRACE_H
#define DEBUG_TRACE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum {
    TRACE_IN_ASM       = 1u << 0,  /* guest code of each new block */
    TRACE_OUT_ASM      = 1u << 1,  /* host code generated for it */
    TRACE_EXEC         = 1u << 2,  /* every block/instruction executed */
    TRACE_CPU          = 1u << 3,  /* registers before each block */
    TRACE_INT          = 1u << 4,  /* interrupts and exceptions */
    TRACE_UNIMP        = 1u << 5,  /* unimplemented ports/MSRs/features */
    TRACE_GUEST_ERRORS = 1u << 6,  /* guest misuse of devices */
    TRACE_STATS        = 1u << 7,  /* counters printed at exit */
};

extern uint32_t trace_flags;

static inline bool trace_on(uint32_t mask) { return (trace_flags & mask) != 0; }

/* Parse a -d list ("in_asm,int" or "help"); sets *out. Returns 0, 1 when
 * "help" was given (the list has been printed to stdout), or -1 with one
 * line in err for an unknown item. */
int trace_parse(const char *items, uint32_t *out, char *err, size_t errlen);
void trace_help(FILE *f);
/* -D: redirect kestrel_log output; returns -1 with err set on failure. */
int trace_set_logfile(const char *path, char *err, size_t errlen);
FILE *trace_file(void);              /* the -D file, or stderr */
void kestrel_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void trace_close(void);
#endif
