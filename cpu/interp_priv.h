/* Shared helpers of the interpreter's files (cpu/interp*.c).
 *
 * Every handler executes one decoded instruction. It computes the next
 * EIP in c->next_eip (preset to the following instruction) and obeys the
 * fault convention of cpu.h: all reads and checks that can fault come
 * before any change to registers, and memory writes come before the
 * register writes of the same instruction.
 */
#ifndef CPU_INTERP_PRIV_H
#define CPU_INTERP_PRIV_H
#include "cpu/cpu.h"
#include "cpu/decode.h"
#include "cpu/flags.h"

typedef void InterpFn(CPUState *c, const Insn *in);
typedef struct InterpEntry { uint16_t op; InterpFn *fn; } InterpEntry;

/* Per-family dispatch tables, terminated by { 0, NULL }. */
extern const InterpEntry interp_alu_ops[];
extern const InterpEntry interp_bits_ops[];
extern const InterpEntry interp_control_ops[];
extern const InterpEntry interp_string_ops[];
extern const InterpEntry interp_system_ops[];
extern const InterpEntry interp_fpu_ops[];

static inline uint32_t size_mask(int size)
{
    return size >= 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
}
static inline uint32_t sign_bit(int size) { return 1u << (size * 8 - 1); }
static inline int32_t sext(uint32_t v, int size)
{
    return size == 1 ? (int8_t)v : size == 2 ? (int16_t)v : (int32_t)v;
}

/* General registers by ModR/M number and size. */
static inline uint32_t reg_get(const CPUState *c, int r, int size)
{
    if (size == 1)
        return r < 4 ? c->regs[r] & 0xff : (c->regs[r - 4] >> 8) & 0xff;
    if (size == 2)
        return c->regs[r] & 0xffff;
    return c->regs[r];
}
static inline void reg_set(CPUState *c, int r, int size, uint32_t v)
{
    if (size == 1) {
        if (r < 4)
            c->regs[r] = (c->regs[r] & ~0xffu) | (v & 0xff);
        else
            c->regs[r - 4] = (c->regs[r - 4] & ~0xff00u) | ((v & 0xff) << 8);
    } else if (size == 2) {
        c->regs[r] = (c->regs[r] & ~0xffffu) | (v & 0xffff);
    } else {
        c->regs[r] = v;
    }
}

/* Effective address (offset within the segment) of a memory operand. */
static inline uint32_t insn_ea(const CPUState *c, const Insn *in,
                               const InsnOperand *o)
{
    uint32_t a = (uint32_t)o->disp;
    if (o->base != INSN_NOREG)
        a += c->regs[o->base];
    if (o->index != INSN_NOREG)
        a += c->regs[o->index] * o->scale;
    return in->addrsize == 2 ? a & 0xffff : a;
}

/* Operand access. Immediates are returned masked to the operand size. */
uint32_t op_read(CPUState *c, const Insn *in, int i);
void op_write(CPUState *c, const Insn *in, int i, uint32_t v);

/* Stack: push/pop honour SS's B bit for ESP and the given size. */
static inline uint32_t sp_mask(const CPUState *c)
{
    return cpu_stack32(c) ? 0xffffffffu : 0xffff;
}
static inline void set_sp(CPUState *c, uint32_t v)
{
    uint32_t m = sp_mask(c);
    c->regs[R_ESP] = (c->regs[R_ESP] & ~m) | (v & m);
}
void push(CPUState *c, uint32_t v, int size);
uint32_t pop(CPUState *c, int size);
/* Read the stack at ESP+off without changing ESP (for pops that must not
 * commit before other checks). */
uint32_t stack_peek(CPUState *c, uint32_t off, int size);

/* Current privilege as the I/O and CLI/STI rules see it. */
static inline int iopl(const CPUState *c) { return (c->eflags >> 12) & 3; }

/* #UD for the current instruction. */
_Noreturn void interp_ud(CPUState *c);
/* Near jump to target (masked to the operand size). */
static inline void jump_near(CPUState *c, const Insn *in, uint32_t target)
{
    c->next_eip = in->opsize == 2 ? target & 0xffff : target;
}
/* Privileged instruction check: #GP(0) unless CPL 0 (and not v86). */
void require_cpl0(CPUState *c);
/* MOV to/from control and debug registers (interp_system.c). */
void interp_mov_crdr(CPUState *c, const Insn *in);
#endif
