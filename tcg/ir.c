/* IR construction, evaluation of pure ops, and the text dump. */
#include <string.h>
#include "tcg/ir.h"

void ir_init(IRFunc *f)
{
    memset(f, 0, sizeof(*f));
}

int ir_global(IRFunc *f, int32_t env_off, const char *name)
{
    /* Globals must come before any local so that ir_reset can keep them. */
    if (f->ntemps != f->nglobals || f->ntemps >= IR_MAX_TEMPS)
        return -1;
    IRTemp *t = &f->temps[f->ntemps];
    t->global = true;
    t->env_off = env_off;
    t->name = name;
    f->nglobals++;
    return f->ntemps++;
}

void ir_reset(IRFunc *f)
{
    f->nops = 0;
    f->ntemps = f->nglobals;
    f->nlabels = 0;
    f->nsinks = 0;
    f->overflow = false;
}

int ir_temp(IRFunc *f)
{
    if (f->ntemps >= IR_MAX_TEMPS) {
        /* Keep going with a harmless slot; the caller sees overflow. */
        f->overflow = true;
        return f->ntemps - 1;
    }
    IRTemp *t = &f->temps[f->ntemps];
    t->global = false;
    t->env_off = 0;
    t->name = NULL;
    return f->ntemps++;
}

int ir_label(IRFunc *f)
{
    if (f->nlabels >= IR_MAX_LABELS) {
        f->overflow = true;
        return 0;
    }
    return f->nlabels++;
}

IROp *ir_emit(IRFunc *f, int opc)
{
    static IROp sink;
    if (f->nops >= IR_MAX_OPS) {
        f->overflow = true;
        memset(&sink, 0, sizeof(sink));
        return &sink;
    }
    IROp *op = &f->ops[f->nops++];
    memset(op, 0, sizeof(*op));
    op->opc = (uint8_t)opc;
    for (int i = 0; i < 5; i++)
        op->t[i] = IR_NOTEMP;
    return op;
}

void ir_movi(IRFunc *f, int d, uint32_t imm)
{
    IROp *op = ir_emit(f, IR_MOVI);
    op->t[0] = (uint16_t)d;
    op->imm = imm;
}

void ir_mov(IRFunc *f, int d, int a)
{
    if (d == a)
        return;
    IROp *op = ir_emit(f, IR_MOV);
    op->t[0] = (uint16_t)d;
    op->t[1] = (uint16_t)a;
}

void ir_op2(IRFunc *f, int opc, int d, int a, int b)
{
    IROp *op = ir_emit(f, opc);
    op->t[0] = (uint16_t)d;
    op->t[1] = (uint16_t)a;
    op->t[2] = (uint16_t)b;
}

void ir_op2i(IRFunc *f, int opc, int d, int a, uint32_t imm)
{
    IROp *op = ir_emit(f, opc);
    op->t[0] = (uint16_t)d;
    op->t[1] = (uint16_t)a;
    op->flags = IRF_BIMM;
    op->imm = imm;
}

void ir_op1(IRFunc *f, int opc, int d, int a)
{
    IROp *op = ir_emit(f, opc);
    op->t[0] = (uint16_t)d;
    op->t[1] = (uint16_t)a;
}

void ir_setcond(IRFunc *f, int cond, int d, int a, int b)
{
    ir_op2(f, IR_SETCOND, d, a, b);
    f->ops[f->nops - 1].cond = (uint8_t)cond;
}

void ir_setcondi(IRFunc *f, int cond, int d, int a, uint32_t imm)
{
    ir_op2i(f, IR_SETCOND, d, a, imm);
    f->ops[f->nops - 1].cond = (uint8_t)cond;
}

void ir_movcond(IRFunc *f, int cond, int d, int a, int b, int v)
{
    IROp *op = ir_emit(f, IR_MOVCOND);
    op->cond = (uint8_t)cond;
    op->t[0] = (uint16_t)d;
    op->t[1] = (uint16_t)a;
    op->t[2] = (uint16_t)b;
    op->t[3] = (uint16_t)v;
}

void ir_mul2(IRFunc *f, bool sign, int lo, int hi, int a, int b)
{
    IROp *op = ir_emit(f, sign ? IR_MULS2 : IR_MULU2);
    op->t[0] = (uint16_t)lo;
    op->t[1] = (uint16_t)a;
    op->t[2] = (uint16_t)b;
    op->t[3] = (uint16_t)hi;
}

void ir_ldenv(IRFunc *f, int d, int32_t off, int size)
{
    IROp *op = ir_emit(f, IR_LDENV);
    op->t[0] = (uint16_t)d;
    op->cond = (uint8_t)size;
    op->imm = (uint32_t)off;
}

void ir_stenv(IRFunc *f, int a, int32_t off, int size)
{
    IROp *op = ir_emit(f, IR_STENV);
    op->t[1] = (uint16_t)a;
    op->cond = (uint8_t)size;
    op->imm = (uint32_t)off;
}

void ir_qld(IRFunc *f, int d, int addr, int size, uint32_t pc)
{
    IROp *op = ir_emit(f, IR_QLD);
    op->t[0] = (uint16_t)d;
    op->t[1] = (uint16_t)addr;
    op->cond = (uint8_t)size;
    op->imm = pc;
}

void ir_qst(IRFunc *f, int val, int addr, int size, uint32_t pc)
{
    IROp *op = ir_emit(f, IR_QST);
    op->t[1] = (uint16_t)addr;
    op->t[2] = (uint16_t)val;
    op->cond = (uint8_t)size;
    op->imm = pc;
}

void ir_call(IRFunc *f, IRHelper *fn, int d, int a, int b, int c, int e)
{
    IROp *op = ir_emit(f, IR_CALL);
    op->t[0] = (uint16_t)d;
    op->t[1] = (uint16_t)a;
    op->t[2] = (uint16_t)b;
    op->t[3] = (uint16_t)c;
    op->t[4] = (uint16_t)e;
    op->imm2 = (uint64_t)(uintptr_t)fn;
}

void ir_set_label(IRFunc *f, int label)
{
    ir_emit(f, IR_LABEL)->imm = (uint32_t)label;
}

void ir_br(IRFunc *f, int label)
{
    ir_emit(f, IR_BR)->imm = (uint32_t)label;
}

void ir_brcond(IRFunc *f, int cond, int a, int b, int label)
{
    IROp *op = ir_emit(f, IR_BRCOND);
    op->cond = (uint8_t)cond;
    op->t[1] = (uint16_t)a;
    op->t[2] = (uint16_t)b;
    op->imm2 = (uint64_t)label;
}

void ir_brcondi(IRFunc *f, int cond, int a, uint32_t imm, int label)
{
    IROp *op = ir_emit(f, IR_BRCOND);
    op->cond = (uint8_t)cond;
    op->t[1] = (uint16_t)a;
    op->flags = IRF_BIMM;
    op->imm = imm;
    op->imm2 = (uint64_t)label;
}

void ir_entry(IRFunc *f, uint32_t ninsns, uint32_t irq_mask)
{
    IROp *op = ir_emit(f, IR_ENTRY);
    op->imm = ninsns;
    op->imm2 = irq_mask;
}

void ir_insn(IRFunc *f, uint32_t pc)
{
    ir_emit(f, IR_INSN)->imm = pc;
}

void ir_goto_tb(IRFunc *f, int slot)
{
    ir_emit(f, IR_GOTO_TB)->imm = (uint32_t)slot;
}

void ir_exit(IRFunc *f, uint64_t val)
{
    ir_emit(f, IR_EXIT)->imm2 = val;
}

void ir_goto_ptr(IRFunc *f, uint32_t hint)
{
    ir_emit(f, IR_GOTO_PTR)->imm = hint;
}

void ir_check_exit(IRFunc *f, uint32_t pc)
{
    ir_emit(f, IR_CHECK_EXIT)->imm = pc;
}

bool ir_cond_eval(int cond, uint32_t a, uint32_t b)
{
    switch (cond) {
    case IRC_EQ: return a == b;
    case IRC_NE: return a != b;
    case IRC_LTU: return a < b;
    case IRC_GEU: return a >= b;
    case IRC_LEU: return a <= b;
    case IRC_GTU: return a > b;
    case IRC_LT: return (int32_t)a < (int32_t)b;
    case IRC_GE: return (int32_t)a >= (int32_t)b;
    case IRC_LE: return (int32_t)a <= (int32_t)b;
    case IRC_GT: return (int32_t)a > (int32_t)b;
    case IRC_TSTEQ: return (a & b) == 0;
    case IRC_TSTNE: return (a & b) != 0;
    case IRC_ALWAYS: return true;
    default: return false;
    }
}

bool ir_fold(int opc, uint32_t a, uint32_t b, uint32_t *out)
{
    unsigned s = b & 31;
    switch (opc) {
    case IR_MOV: *out = a; return true;
    case IR_ADD: *out = a + b; return true;
    case IR_SUB: *out = a - b; return true;
    case IR_AND: *out = a & b; return true;
    case IR_OR: *out = a | b; return true;
    case IR_XOR: *out = a ^ b; return true;
    case IR_SHL: *out = a << s; return true;
    case IR_SHR: *out = a >> s; return true;
    case IR_SAR: *out = (uint32_t)((int32_t)a >> s); return true;
    case IR_ROL: *out = s ? (a << s) | (a >> (32 - s)) : a; return true;
    case IR_ROR: *out = s ? (a >> s) | (a << (32 - s)) : a; return true;
    case IR_MUL: *out = a * b; return true;
    case IR_NEG: *out = 0u - a; return true;
    case IR_NOT: *out = ~a; return true;
    case IR_EXT8S: *out = (uint32_t)(int32_t)(int8_t)a; return true;
    case IR_EXT8U: *out = a & 0xff; return true;
    case IR_EXT16S: *out = (uint32_t)(int32_t)(int16_t)a; return true;
    case IR_EXT16U: *out = a & 0xffff; return true;
    case IR_PARITY: *out = !__builtin_parity(a & 0xff); return true;
    default: return false;
    }
}

bool ir_op_pure(const IROp *op)
{
    switch (op->opc) {
    case IR_MOVI: case IR_MOV: case IR_ADD: case IR_SUB: case IR_AND:
    case IR_OR: case IR_XOR: case IR_SHL: case IR_SHR: case IR_SAR:
    case IR_ROL: case IR_ROR: case IR_MUL: case IR_NEG: case IR_NOT:
    case IR_EXT8S: case IR_EXT8U: case IR_EXT16S: case IR_EXT16U:
    case IR_PARITY: case IR_SETCOND: case IR_MOVCOND: case IR_LDENV:
        return true;
    case IR_CALL:
        return (op->flags & IRF_PURE_CALL) != 0;
    default:
        return false;
    }
}

static const char *const opc_names[IR_NUM_OPC] = {
    "nop", "movi", "mov", "add", "sub", "and", "or", "xor", "shl", "shr",
    "sar", "rol", "ror", "mul", "neg", "not", "ext8s", "ext8u", "ext16s",
    "ext16u", "parity", "setcond", "movcond", "mulu2", "muls2", "ldenv", "stenv",
    "qld", "qst", "call", "label", "br", "brcond", "entry", "insn",
    "goto_tb", "exit", "goto_ptr", "check_exit",
};
static const char *const cond_names[] = {
    "eq", "ne", "ltu", "geu", "leu", "gtu", "lt", "ge", "le", "gt",
    "tsteq", "tstne", "always", "never",
};

static void dump_temp(const IRFunc *f, FILE *out, int t)
{
    if (t == IR_NOTEMP)
        fputs(" -", out);
    else if (t < f->ntemps && f->temps[t].global && f->temps[t].name)
        fprintf(out, " %s", f->temps[t].name);
    else
        fprintf(out, " %c%d", t < f->ntemps && f->temps[t].global ? 'g' : 't',
                t);
}

void ir_dump(const IRFunc *f, FILE *out)
{
    for (int i = 0; i < f->nops; i++) {
        const IROp *op = &f->ops[i];
        if (op->opc == IR_NOP)
            continue;
        if (op->opc == IR_INSN) {
            fprintf(out, " ---- %08x\n", op->imm);
            continue;
        }
        fprintf(out, "  %s", op->opc < IR_NUM_OPC ? opc_names[op->opc] : "?");
        if (op->opc == IR_SETCOND || op->opc == IR_MOVCOND ||
            op->opc == IR_BRCOND)
            fprintf(out, ".%s", op->cond < 14 ? cond_names[op->cond] : "?");
        else if (op->opc == IR_QLD || op->opc == IR_QST ||
                 op->opc == IR_LDENV || op->opc == IR_STENV)
            fprintf(out, ".%d%s", 8 << (op->cond & IRM_SIZE),
                    op->cond & IRM_SIGN ? "s" : "");
        int n = op->opc == IR_CALL ? 5 : 4;
        for (int k = 0; k < n; k++)
            if (op->t[k] != IR_NOTEMP)
                dump_temp(f, out, op->t[k]);
        if (op->flags & IRF_BIMM || op->opc == IR_MOVI || op->opc == IR_LABEL ||
            op->opc == IR_BR || op->opc == IR_LDENV || op->opc == IR_STENV ||
            op->opc == IR_QLD || op->opc == IR_QST || op->opc == IR_ENTRY ||
            op->opc == IR_GOTO_TB || op->opc == IR_CHECK_EXIT)
            fprintf(out, " $0x%x", op->imm);
        if (op->opc == IR_BRCOND || op->opc == IR_EXIT || op->opc == IR_ENTRY)
            fprintf(out, " #0x%llx", (unsigned long long)op->imm2);
        fputc('\n', out);
    }
}

/* Does the op call out of generated code (a helper, or a guest access
 * whose slow path calls)? Such an op clobbers caller-saved registers. */
static bool ir_op_calls(const IROp *op)
{
    return op->opc == IR_CALL || op->opc == IR_QLD || op->opc == IR_QST ||
           op->opc == IR_GOTO_PTR;
}

void ir_alloc_locals(const IRFunc *f, const int8_t *pool, int npool,
                     int first_saved, const uint16_t *uses, int8_t *treg)
{
    static int16_t first[IR_MAX_TEMPS], last[IR_MAX_TEMPS];
    static uint16_t calls[IR_MAX_OPS + 1];
    int busy_until[IR_MAX_POOL];
    int ng = f->nglobals;
    if (npool > IR_MAX_POOL)
        npool = IR_MAX_POOL;
    memset(treg, -1, (size_t)f->ntemps);
    for (int t = ng; t < f->ntemps; t++)
        first[t] = last[t] = -1;
    calls[0] = 0;
    for (int i = 0; i < f->nops; i++) {
        const IROp *op = &f->ops[i];
        calls[i + 1] = (uint16_t)(calls[i] + ir_op_calls(op));
        for (int k = 0; k < 5; k++) {
            int t = op->t[k];
            if (t == IR_NOTEMP || t < ng || t >= f->ntemps)
                continue;
            if (first[t] < 0)
                first[t] = (int16_t)i;
            if (last[t] < i)
                last[t] = (int16_t)i;
        }
    }
    for (int k = 0; k < f->nsinks; k++) {
        int t = f->sinks[k].src;
        if (t != IR_NOTEMP && t >= ng && t < f->ntemps &&
            last[t] < f->sinks[k].op)
            last[t] = (int16_t)f->sinks[k].op;
    }
    for (int r = 0; r < npool; r++)
        busy_until[r] = -1;
    /* Temps appear in increasing order of first use (the front end
     * allocates them as it goes), so one pass is a linear scan; a temp
     * that does not fit that order just stays in memory. */
    for (int t = ng; t < f->ntemps; t++) {
        if (first[t] < 0 || (uses && uses[t] < 2))
            continue;
        /* A call strictly inside the interval (at its ends the value is
         * not yet made or already passed on). */
        bool spans_call = last[t] > first[t] + 1 &&
                          calls[last[t]] - calls[first[t] + 1] > 0;
        for (int r = spans_call ? first_saved : 0; r < npool; r++) {
            if (busy_until[r] < first[t]) {
                treg[t] = pool[r];
                busy_until[r] = last[t];
                break;
            }
        }
    }
}
