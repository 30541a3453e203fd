/* The gdb remote stub (-gdb DEV, -s): gdb's Remote Serial Protocol for an
 * i386 target, so a real gdb can stop, step and inspect the guest.
 *
 * What gdb sees: the registers of gdb's i386 layout (eax..edi, eip,
 * eflags, the six selectors, the x87 stack and control words, xmm0-7 and
 * mxcsr) described by the target.xml it reads with qXfer. EIP is the
 * register itself, as QEMU reports it; in real mode the instruction is at
 * CS*16+IP. Memory (m, M, X) and breakpoint addresses (Z0, Z1) are linear
 * addresses translated through the guest's current page tables; with
 * flat segments that is what gdb calls a virtual address. */
#ifndef DEBUG_GDBSTUB_H
#define DEBUG_GDBSTUB_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "system/machine.h"

typedef struct GdbStub GdbStub;

/* spec: "tcp::PORT", "tcp:HOST:PORT" (listening, loopback when HOST is
 * empty) or "chardev:ID". NULL with one line in err on failure. */
GdbStub *gdbstub_new(const char *spec, Machine *m, char *err, size_t errlen);
void gdbstub_free(GdbStub *g);
/* cpu_exec returned EXEC_DEBUG (a breakpoint or the end of a single
 * step): the stub pauses the machine and tells gdb. */
void gdbstub_cpu_stopped(GdbStub *g);
/* The machine is ending with this exit status: a gdb waiting for a stop
 * is told the program exited (W), so it does not just lose the line. */
void gdbstub_exited(GdbStub *g, int status);

/* ---- the packet layer (exposed for tests/unit/test_gdbstub.c) ---- */

/* Largest packet payload accepted or sent (qSupported's PacketSize). */
#define GDB_MAX_PACKET 4096

enum {
    GDB_RX_NONE,        /* byte consumed, nothing complete yet */
    GDB_RX_PACKET,      /* rx->buf holds a checked payload (NUL-ended) */
    GDB_RX_BAD,         /* checksum mismatch or junk: answer '-' */
    GDB_RX_OVERFLOW,    /* payload longer than GDB_MAX_PACKET: '-' */
    GDB_RX_ACK,         /* '+' */
    GDB_RX_NACK,        /* '-': send the last packet again */
    GDB_RX_INTERRUPT,   /* 0x03 between packets (Ctrl-C) */
};

typedef struct GdbRx {
    int state;
    size_t len;
    uint8_t sum, csum;
    bool overflow;
    char buf[GDB_MAX_PACKET + 1];
} GdbRx;

void gdb_rx_init(GdbRx *rx);
int gdb_rx_byte(GdbRx *rx, uint8_t ch);
/* Frame a payload as $...#cs, escaping '$', '#', '}' and '*' (so binary
 * qXfer data survives). Returns the framed length, or 0 when it does not
 * fit in cap. */
size_t gdb_frame(const uint8_t *payload, size_t len, char *out, size_t cap);
/* Undo '}' escaping in place (X packet data); returns the new length, or
 * -1 when the data ends in a lone escape character. */
long gdb_unescape(uint8_t *buf, size_t len);
#endif
