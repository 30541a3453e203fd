/* The IR optimizer: one forward pass of constant propagation and folding,
 * then one backward pass that drops dead ops.
 *
 * The backward pass is where lazy flags pay off: the front end writes the
 * flag state (operation and operands) to globals after every arithmetic
 * instruction, and a write to a global that is overwritten before anyone
 * can observe it is dead. Observers are helpers (they see the whole guest
 * state), guest memory accesses (they may fault, and the exception frame
 * needs the state of the faulting instruction), branches and exits. So a
 * run of arithmetic without memory access keeps only its last flag state.
 * Blocks branch only forward, which keeps the local-temp analysis a
 * single use count. */
#include <string.h>
#include "tcg/ir.h"

static bool has_b(const IROp *op)
{
    return !(op->flags & IRF_BIMM) && op->t[2] != IR_NOTEMP;
}

/* Temps an op reads; returns the count. */
int ir_op_uses(const IROp *op, int out[5])
{
    int n = 0;
    switch (op->opc) {
    case IR_MOV: case IR_NEG: case IR_NOT: case IR_EXT8S: case IR_EXT8U:
    case IR_EXT16S: case IR_EXT16U: case IR_PARITY: case IR_STENV: case IR_QLD:
        out[n++] = op->t[1];
        break;
    case IR_ADD: case IR_SUB: case IR_AND: case IR_OR: case IR_XOR:
    case IR_SHL: case IR_SHR: case IR_SAR: case IR_ROL: case IR_ROR:
    case IR_MUL: case IR_SETCOND: case IR_MULU2: case IR_MULS2:
    case IR_BRCOND:
        out[n++] = op->t[1];
        if (has_b(op))
            out[n++] = op->t[2];
        break;
    case IR_MOVCOND:
        out[n++] = op->t[0];
        out[n++] = op->t[1];
        if (has_b(op))
            out[n++] = op->t[2];
        out[n++] = op->t[3];
        break;
    case IR_QST:
        out[n++] = op->t[1];
        out[n++] = op->t[2];
        break;
    case IR_CALL:
        for (int i = 1; i < 5; i++)
            if (op->t[i] != IR_NOTEMP)
                out[n++] = op->t[i];
        break;
    }
    return n;
}

/* Temps an op writes. */
static int op_defs(const IROp *op, int out[2])
{
    int n = 0;
    switch (op->opc) {
    case IR_MULU2: case IR_MULS2:
        out[n++] = op->t[0];
        out[n++] = op->t[3];
        break;
    case IR_CALL: case IR_QLD:
        if (op->t[0] != IR_NOTEMP)
            out[n++] = op->t[0];
        break;
    default:
        if (ir_op_pure(op))
            out[n++] = op->t[0];
        break;
    }
    return n;
}

static bool commutative(int opc)
{
    return opc == IR_ADD || opc == IR_AND || opc == IR_OR || opc == IR_XOR ||
           opc == IR_MUL;
}

static void make_movi(IROp *op, uint32_t v)
{
    uint16_t d = op->t[0];
    memset(op, 0, sizeof(*op));
    op->opc = IR_MOVI;
    for (int i = 0; i < 5; i++)
        op->t[i] = IR_NOTEMP;
    op->t[0] = d;
    op->imm = v;
}

static void make_mov(IROp *op)
{
    op->opc = IR_MOV;
    op->flags = 0;
    op->t[2] = IR_NOTEMP;
}

/* Forward pass. Known constants are forgotten at labels (a branch may
 * arrive with other values) and, for globals, whenever something outside
 * the IR may write the guest state. */
static void fold_constants(IRFunc *f)
{
    static bool known[IR_MAX_TEMPS];
    static uint32_t val[IR_MAX_TEMPS];
    memset(known, 0, sizeof(bool) * (size_t)f->ntemps);
    for (int i = 0; i < f->nops; i++) {
        IROp *op = &f->ops[i];
        switch (op->opc) {
        case IR_LABEL:
            memset(known, 0, sizeof(bool) * (size_t)f->ntemps);
            continue;
        case IR_CALL: case IR_QLD: case IR_QST: case IR_STENV:
            memset(known, 0, sizeof(bool) * (size_t)f->nglobals);
            if (op->opc == IR_CALL || op->opc == IR_QLD)
                if (op->t[0] != IR_NOTEMP)
                    known[op->t[0]] = false;
            continue;
        default:
            break;
        }
        /* Second operand known: use the immediate form. */
        bool binary = (op->opc >= IR_ADD && op->opc <= IR_MUL) ||
                      op->opc == IR_SETCOND || op->opc == IR_MOVCOND ||
                      op->opc == IR_BRCOND || op->opc == IR_MULU2 ||
                      op->opc == IR_MULS2;
        if (binary && commutative(op->opc) && has_b(op) &&
            known[op->t[1]] && !known[op->t[2]]) {
            uint16_t x = op->t[1];
            op->t[1] = op->t[2];
            op->t[2] = x;
        }
        if (binary && has_b(op) && known[op->t[2]]) {
            op->imm = val[op->t[2]];
            op->flags |= IRF_BIMM;
            op->t[2] = IR_NOTEMP;
        }
        uint32_t r;
        switch (op->opc) {
        case IR_MOVI:
            known[op->t[0]] = true;
            val[op->t[0]] = op->imm;
            break;
        case IR_MOV: case IR_NEG: case IR_NOT: case IR_EXT8S: case IR_EXT8U:
        case IR_EXT16S: case IR_EXT16U: case IR_PARITY:
            if (known[op->t[1]]) {
                ir_fold(op->opc, val[op->t[1]], 0, &r);
                make_movi(op, r);
                known[op->t[0]] = true;
                val[op->t[0]] = r;
            } else {
                known[op->t[0]] = false;
            }
            break;
        case IR_ADD: case IR_SUB: case IR_AND: case IR_OR: case IR_XOR:
        case IR_SHL: case IR_SHR: case IR_SAR: case IR_ROL: case IR_ROR:
        case IR_MUL:
            if (known[op->t[1]] && (op->flags & IRF_BIMM)) {
                ir_fold(op->opc, val[op->t[1]], op->imm, &r);
                make_movi(op, r);
                known[op->t[0]] = true;
                val[op->t[0]] = r;
                break;
            }
            known[op->t[0]] = false;
            if (op->flags & IRF_BIMM) {
                uint32_t k = op->imm;
                bool shift = op->opc >= IR_SHL && op->opc <= IR_ROR;
                if ((k == 0 && (op->opc == IR_ADD || op->opc == IR_SUB ||
                                op->opc == IR_OR || op->opc == IR_XOR)) ||
                    (shift && (k & 31) == 0) ||
                    (k == 0xffffffffu && op->opc == IR_AND) ||
                    (k == 1 && op->opc == IR_MUL))
                    make_mov(op);
                else if (k == 0 && (op->opc == IR_AND || op->opc == IR_MUL)) {
                    make_movi(op, 0);
                    known[op->t[0]] = true;
                    val[op->t[0]] = 0;
                }
            }
            break;
        case IR_SETCOND:
            if (known[op->t[1]] && (op->flags & IRF_BIMM)) {
                r = ir_cond_eval(op->cond, val[op->t[1]], op->imm);
                make_movi(op, r);
                known[op->t[0]] = true;
                val[op->t[0]] = r;
            } else {
                known[op->t[0]] = false;
            }
            break;
        case IR_MOVCOND:
            if (known[op->t[1]] && (op->flags & IRF_BIMM)) {
                if (ir_cond_eval(op->cond, val[op->t[1]], op->imm)) {
                    op->opc = IR_MOV;
                    op->flags = 0;
                    op->t[1] = op->t[3];
                    op->t[2] = op->t[3] = IR_NOTEMP;
                    known[op->t[0]] = known[op->t[1]];
                    val[op->t[0]] = val[op->t[1]];
                } else {
                    op->opc = IR_NOP;
                }
            } else {
                known[op->t[0]] = false;
            }
            break;
        case IR_BRCOND:
            if (known[op->t[1]] && (op->flags & IRF_BIMM)) {
                bool taken = ir_cond_eval(op->cond, val[op->t[1]], op->imm);
                uint32_t label = (uint32_t)op->imm2;
                memset(op, 0, sizeof(*op));
                for (int k = 0; k < 5; k++)
                    op->t[k] = IR_NOTEMP;
                op->opc = taken ? IR_BR : IR_NOP;
                op->imm = label;
            }
            break;
        default: {
            int d[2];
            int nd = op_defs(op, d);
            for (int k = 0; k < nd; k++)
                known[d[k]] = false;
            break;
        }
        }
    }
}

static bool is_barrier(const IROp *op)
{
    switch (op->opc) {
    case IR_CALL:
        return !(op->flags & IRF_PURE_CALL);
    case IR_QLD: case IR_QST: case IR_LDENV: case IR_STENV: case IR_BR:
    case IR_BRCOND: case IR_ENTRY: case IR_GOTO_TB: case IR_EXIT:
    case IR_GOTO_PTR: case IR_CHECK_EXIT:
        return true;
    default:
        return false;
    }
}

/* LDENV/STENV touch CPU-state bytes that may belong to globals: those
 * globals count as read (a partial write keeps earlier stores alive). */
static void mark_env_overlap(const IRFunc *f, const IROp *op, bool *dead_global)
{
    int32_t off = (int32_t)op->imm, len = 1 << (op->cond & IRM_SIZE);
    for (int g = 0; g < f->nglobals; g++) {
        int32_t go = f->temps[g].env_off;
        if (go < off + len && off < go + 4)
            dead_global[g] = false;
    }
}

static void remove_dead(IRFunc *f)
{
    static uint16_t uses[IR_MAX_TEMPS];
    static bool dead_global[IR_MAX_TEMPS];
    memset(uses, 0, sizeof(uint16_t) * (size_t)f->ntemps);
    memset(dead_global, 0, sizeof(bool) * (size_t)f->nglobals);
    int u[5], d[2];
    for (int i = 0; i < f->nops; i++) {
        int n = ir_op_uses(&f->ops[i], u);
        for (int k = 0; k < n; k++)
            if (u[k] < f->ntemps && uses[u[k]] < 0xffff)
                uses[u[k]]++;
    }
    for (int i = f->nops - 1; i >= 0; i--) {
        IROp *op = &f->ops[i];
        if (op->opc == IR_NOP)
            continue;
        int nd = op_defs(op, d);
        if (ir_op_pure(op) && nd > 0) {
            bool all_dead = true;
            for (int k = 0; k < nd; k++) {
                int t = d[k];
                bool dead = t < f->nglobals ? dead_global[t] : uses[t] == 0;
                all_dead &= dead;
            }
            if (all_dead) {
                int n = ir_op_uses(op, u);
                for (int k = 0; k < n; k++)
                    if (u[k] < f->ntemps && uses[u[k]] > 0)
                        uses[u[k]]--;
                op->opc = IR_NOP;
                continue;
            }
        }
        if (op->opc == IR_LDENV || op->opc == IR_STENV) {
            mark_env_overlap(f, op, dead_global);
        } else if (is_barrier(op)) {
            memset(dead_global, 0, sizeof(bool) * (size_t)f->nglobals);
        } else {
            for (int k = 0; k < nd; k++)
                if (d[k] < f->nglobals)
                    dead_global[d[k]] = true;
        }
        int n = ir_op_uses(op, u);
        for (int k = 0; k < n; k++)
            if (u[k] < f->nglobals)
                dead_global[u[k]] = false;
    }
}

static bool op_defines(const IROp *op, int t)
{
    int d[2];
    int n = op_defs(op, d);
    for (int k = 0; k < n; k++)
        if (d[k] == t)
            return true;
    return false;
}

static bool op_reads(const IROp *op, int t)
{
    int u[5];
    int n = ir_op_uses(op, u);
    for (int k = 0; k < n; k++)
        if (u[k] == t)
            return true;
    return false;
}

/* Is global g overwritten after op q before anything could read it (an
 * op reading it or any barrier)? */
static bool overwritten_after(const IRFunc *f, int q, int g)
{
    for (int i = q + 1; i < f->nops; i++) {
        const IROp *op = &f->ops[i];
        if (op->opc == IR_NOP || op->opc == IR_INSN)
            continue;
        if (op_reads(op, g) || is_barrier(op))
            return false;
        if (ir_op_pure(op) && op_defines(op, g))
            return true;
    }
    return false;
}

/* Move stores to globals that only a fault in the next guest memory
 * access could observe into that access's slow path. This is what keeps
 * lazy-flag bookkeeping off the fast path around loads and stores while
 * exceptions stay precise. */
static void sink_stores(IRFunc *f)
{
    for (int q = 0; q < f->nops; q++) {
        IROp *qop = &f->ops[q];
        if (qop->opc != IR_QLD && qop->opc != IR_QST)
            continue;
        for (int i = q - 1; i >= 0; i--) {
            IROp *op = &f->ops[i];
            if (op->opc == IR_NOP || op->opc == IR_INSN)
                continue;
            if (is_barrier(op))
                break;
            if ((op->opc != IR_MOV && op->opc != IR_MOVI) ||
                op->t[0] >= f->nglobals)
                continue;
            int g = op->t[0];
            int src = op->opc == IR_MOV ? op->t[1] : IR_NOTEMP;
            if (src != IR_NOTEMP && src < f->nglobals)
                continue;
            /* Between the store and the access: nothing reads the global
             * or redefines it or the source. */
            bool clean = true;
            for (int j = i + 1; j <= q && clean; j++) {
                const IROp *m = &f->ops[j];
                if (op_reads(m, g) || op_defines(m, g) ||
                    (src != IR_NOTEMP && op_defines(m, src)))
                    clean = false;
            }
            if (!clean || !overwritten_after(f, q, g) ||
                f->nsinks >= IR_MAX_SINKS)
                continue;
            f->sinks[f->nsinks++] = (IRSink){
                .op = (uint16_t)q, .global = (uint16_t)g,
                .src = (uint16_t)src, .imm = op->imm };
            op->opc = IR_NOP;
        }
    }
}

void ir_optimize(IRFunc *f)
{
    fold_constants(f);
    remove_dead(f);
    sink_stores(f);
}
