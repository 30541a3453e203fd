/* Interpreter: string instructions with their REP forms, and port I/O.
 *
 * A REP string instruction runs a bounded chunk of iterations per step.
 * Each iteration commits ESI/EDI/ECX after its memory accesses, so a
 * fault leaves the registers describing exactly the iterations done; if
 * iterations remain, EIP stays on the instruction so the run loop can take
 * an interrupt in between and then resume it. */
#include "cpu/interp_priv.h"

#define REP_CHUNK 4096

enum { S_MOVS, S_CMPS, S_SCAS, S_LODS, S_STOS, S_INS, S_OUTS };

static int str_size(int op)
{
    switch (op) {
    case OP_MOVSB: case OP_CMPSB: case OP_SCASB: case OP_LODSB:
    case OP_STOSB: case OP_INSB: case OP_OUTSB:
        return 1;
    case OP_MOVSW: case OP_CMPSW: case OP_SCASW: case OP_LODSW:
    case OP_STOSW: case OP_INSW: case OP_OUTSW:
        return 2;
    default:
        return 4;
    }
}

static bool io_allowed_fast(const CPUState *c)
{
    return !cpu_pe(c) || (!cpu_vm86(c) && c->cpl <= iopl(c));
}

static void io_check(CPUState *c, uint16_t port, int size)
{
    if (!io_allowed_fast(c))
        cpu_check_io(c, port, size);
}

static void string_op(CPUState *c, const Insn *in, int kind)
{
    int size = str_size(in->op);
    uint32_t am = in->addrsize == 2 ? 0xffff : 0xffffffffu;
    int src_seg = in->seg_override != SEG_NONE ? in->seg_override : R_DS;
    uint32_t delta = (c->eflags & EF_DF) ? (uint32_t)-size : (uint32_t)size;
    bool rep = in->prefixes & (PFX_REP | PFX_REPNE);
    bool repne = in->prefixes & PFX_REPNE;
    uint16_t port = (uint16_t)c->regs[R_EDX];

    if (kind == S_INS || kind == S_OUTS)
        io_check(c, port, size);
    if (rep && !(c->regs[R_ECX] & am))
        return;

    /* Under TF each iteration traps (the #DB comes after the first one,
     * with EIP still on the instruction). */
    int chunk = (c->eflags & EF_TF) ? 1 : REP_CHUNK;
    for (int n = 0; n < chunk; n++) {
        uint32_t si = c->regs[R_ESI] & am, di = c->regs[R_EDI] & am;
        bool adv_si = false, adv_di = false;
        switch (kind) {
        case S_MOVS: {
            uint32_t v = cpu_ld(c, src_seg, si, size);
            cpu_st(c, R_ES, di, v, size);
            adv_si = adv_di = true;
            break;
        }
        case S_CMPS: {
            uint32_t a = cpu_ld(c, src_seg, si, size);
            uint32_t b = cpu_ld(c, R_ES, di, size);
            cc_record(c, cc_op_sized(CC_OP_SUBB, size),
                      (a - b) & size_mask(size), b, 0);
            adv_si = adv_di = true;
            break;
        }
        case S_SCAS: {
            uint32_t a = reg_get(c, R_EAX, size);
            uint32_t b = cpu_ld(c, R_ES, di, size);
            cc_record(c, cc_op_sized(CC_OP_SUBB, size),
                      (a - b) & size_mask(size), b, 0);
            adv_di = true;
            break;
        }
        case S_LODS:
            reg_set(c, R_EAX, size, cpu_ld(c, src_seg, si, size));
            adv_si = true;
            break;
        case S_STOS:
            cpu_st(c, R_ES, di, reg_get(c, R_EAX, size), size);
            adv_di = true;
            break;
        case S_INS: {
            /* The destination must be writable before the port is read
             * (a port read can have side effects). */
            cpu_check_seg(c, R_ES, di, size, ACC_WRITE);
            uint32_t v = bus_pio_read(c->bus, port, size);
            cpu_st(c, R_ES, di, v, size);
            adv_di = true;
            break;
        }
        default: {
            uint32_t v = cpu_ld(c, src_seg, si, size);
            bus_pio_write(c->bus, port, v, size);
            adv_si = true;
            break;
        }
        }
        if (adv_si)
            c->regs[R_ESI] = (c->regs[R_ESI] & ~am) | ((si + delta) & am);
        if (adv_di)
            c->regs[R_EDI] = (c->regs[R_EDI] & ~am) | ((di + delta) & am);
        if (!rep)
            return;
        uint32_t cx = (c->regs[R_ECX] - 1) & am;
        c->regs[R_ECX] = (c->regs[R_ECX] & ~am) | cx;
        if (!cx)
            return;
        if (kind == S_CMPS || kind == S_SCAS) {
            bool zf = cc_arith(c) & EF_ZF;
            if (repne ? zf : !zf)
                return;
        }
        if (c->interrupt_request)
            break;
    }
    c->next_eip = c->eip;      /* more to do: run this instruction again */
}

#define STR(name, kind) \
    static void op_##name(CPUState *c, const Insn *in) \
    { string_op(c, in, kind); }
STR(movs, S_MOVS) STR(cmps, S_CMPS) STR(scas, S_SCAS) STR(lods, S_LODS)
STR(stos, S_STOS) STR(ins, S_INS) STR(outs, S_OUTS)

/* IN/OUT: capstone gives (acc, port) and (port, acc). */
static void op_in(CPUState *c, const Insn *in)
{
    int size = in->ops[0].size;
    const InsnOperand *p = &in->ops[1];
    uint16_t port = p->kind == OPK_IMM ? (uint16_t)(p->imm & 0xff)
                                       : (uint16_t)c->regs[R_EDX];
    io_check(c, port, size);
    reg_set(c, R_EAX, size, bus_pio_read(c->bus, port, size));
}

static void op_out(CPUState *c, const Insn *in)
{
    int size = in->ops[1].size;
    const InsnOperand *p = &in->ops[0];
    uint16_t port = p->kind == OPK_IMM ? (uint16_t)(p->imm & 0xff)
                                       : (uint16_t)c->regs[R_EDX];
    io_check(c, port, size);
    bus_pio_write(c->bus, port, reg_get(c, R_EAX, size), size);
}

const InterpEntry interp_string_ops[] = {
    { OP_MOVSB, op_movs }, { OP_MOVSW, op_movs }, { OP_MOVSD, op_movs },
    { OP_CMPSB, op_cmps }, { OP_CMPSW, op_cmps }, { OP_CMPSD, op_cmps },
    { OP_SCASB, op_scas }, { OP_SCASW, op_scas }, { OP_SCASD, op_scas },
    { OP_LODSB, op_lods }, { OP_LODSW, op_lods }, { OP_LODSD, op_lods },
    { OP_STOSB, op_stos }, { OP_STOSW, op_stos }, { OP_STOSD, op_stos },
    { OP_INSB, op_ins }, { OP_INSW, op_ins }, { OP_INSD, op_ins },
    { OP_OUTSB, op_outs }, { OP_OUTSW, op_outs }, { OP_OUTSD, op_outs },
    { OP_IN, op_in }, { OP_OUT, op_out },
    { 0, NULL }
};
