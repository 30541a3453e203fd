/* The portable backend: no host code at all. A "translated" block is a
 * copy of its optimized IR (labels resolved to op indexes) in the code
 * buffer, run by a small interpreter. Chaining stores the next block's
 * address in the GOTO_TB op itself. Slower than a JIT, but it keeps the
 * whole translator (front end, optimizer, cache) usable and testable on
 * any host. */
#include <string.h>
#include "tcg/tcg.h"

const char tcg_backend_name[] = "interp";
const bool tcg_backend_jit = false;

typedef struct BlockHdr {
    uint64_t exit_base;
    uint32_t nops, nglobals;
    uint32_t nsinks, pad;
} BlockHdr;

static size_t align8(size_t n) { return (n + 7) & ~(size_t)7; }

int tcg_backend_init(TcgCtx *s)
{
    /* Nothing to emit; keep offset 0 unused so no block sits at the start. */
    s->cb.used = 16;
    s->prologue = s->epilogue = s->cb.rx;
    return 0;
}

const uint8_t *tcg_backend_gen(TcgCtx *s, IRFunc *f, uint64_t exit_base,
                               size_t *size, uint32_t jmp_off[2])
{
    size_t start = align8(s->cb.used);
    size_t goff_bytes = align8((size_t)f->nglobals * 4);
    size_t need = sizeof(BlockHdr) + goff_bytes + (size_t)f->nops * sizeof(IROp) +
                  align8((size_t)f->nsinks * sizeof(IRSink));
    if (start > s->cb.size || s->cb.size - start < need)
        return NULL;
    uint8_t *p = s->cb.rw + start;
    BlockHdr h = { exit_base, (uint32_t)f->nops, (uint32_t)f->nglobals,
                   (uint32_t)f->nsinks, 0 };
    memcpy(p, &h, sizeof(h));
    int32_t *goff = (int32_t *)(p + sizeof(BlockHdr));
    for (int i = 0; i < f->nglobals; i++)
        goff[i] = f->temps[i].env_off;
    IROp *ops = (IROp *)(p + sizeof(BlockHdr) + goff_bytes);
    memcpy(ops, f->ops, (size_t)f->nops * sizeof(IROp));
    memcpy(ops + f->nops, f->sinks, (size_t)f->nsinks * sizeof(IRSink));
    int label_at[IR_MAX_LABELS];
    for (int i = 0; i < IR_MAX_LABELS; i++)
        label_at[i] = f->nops;
    for (int i = 0; i < f->nops; i++)
        if (ops[i].opc == IR_LABEL && ops[i].imm < IR_MAX_LABELS)
            label_at[ops[i].imm] = i;
    jmp_off[0] = jmp_off[1] = UINT32_MAX;
    for (int i = 0; i < f->nops; i++) {
        IROp *op = &ops[i];
        if (op->opc == IR_BR)
            op->imm = op->imm < IR_MAX_LABELS ? (uint32_t)label_at[op->imm] :
                      (uint32_t)f->nops;
        else if (op->opc == IR_BRCOND)
            op->imm2 = op->imm2 < IR_MAX_LABELS ? (uint64_t)label_at[op->imm2] :
                       (uint64_t)f->nops;
        else if (op->opc == IR_GOTO_TB) {
            op->imm2 = 0;
            if (op->imm < 2)
                jmp_off[op->imm] = (uint32_t)((uint8_t *)&op->imm2 - p);
        }
    }
    s->cb.used = start + need;
    *size = need;
    return s->cb.rx + start;
}

void tcg_backend_patch(TcgCtx *s, uint8_t *patch_rx, const void *target_rx)
{
    uint64_t v = (uint64_t)(uintptr_t)target_rx;
    memcpy(codebuf_rw(&s->cb, patch_rx), &v, 8);
}

static uint32_t env_ld(const uint8_t *env, int32_t off, int size)
{
    uint32_t v = 0;
    memcpy(&v, env + off, (size_t)(1 << (size & IRM_SIZE)));
    if (size & IRM_SIGN)
        v = (size & IRM_SIZE) == IRM_8 ? (uint32_t)(int32_t)(int8_t)v :
            (size & IRM_SIZE) == IRM_16 ? (uint32_t)(int32_t)(int16_t)v : v;
    return v;
}

static void env_st(uint8_t *env, int32_t off, uint32_t v, int size)
{
    memcpy(env + off, &v, (size_t)(1 << (size & IRM_SIZE)));
}

/* Inline soft-TLB probe: the host address of the access, or NULL. */
static uint8_t *tlb_host(const TcgEnvLayout *L, const uint8_t *env,
                         uint32_t lin, int size, bool write)
{
    uint32_t last = lin + (uint32_t)(1 << (size & IRM_SIZE)) - 1;
    uint32_t page = (last & ~((1u << L->page_bits) - 1)) |
                    (size & IRM_USER ? L->user_tag : 0);
    uint32_t idx = (lin >> L->page_bits) & L->tlb_mask;
    const uint8_t *ent = env + L->tlb + (int32_t)idx * L->tlb_entry_size;
    uint32_t tag;
    memcpy(&tag, ent + (write ? L->tag_write : L->tag_read), 4);
    if (tag != page)
        return NULL;
    uintptr_t addend;
    memcpy(&addend, ent + L->addend, sizeof(addend));
    return (uint8_t *)(addend + lin);
}

uint64_t tcg_backend_run(TcgCtx *s, void *envp, const void *code)
{
    uint8_t *env = envp;
    const TcgEnvLayout *L = &s->layout;
    uint32_t loc[IR_MAX_TEMPS];
    const uint8_t *blk = code;
next_block:;
    BlockHdr h;
    memcpy(&h, blk, sizeof(h));
    const int32_t *goff = (const int32_t *)(blk + sizeof(BlockHdr));
    const IROp *ops = (const IROp *)(blk + sizeof(BlockHdr) +
                                     align8((size_t)h.nglobals * 4));
    uint32_t ng = h.nglobals;
    const IRSink *sinks = (const IRSink *)(ops + h.nops);
#define RD(t) ((t) < ng ? env_ld(env, goff[t], IRM_32) : loc[(t) - ng])
#define WR(t, v) do { uint32_t v_ = (v); if ((t) < ng) env_st(env, goff[t], v_, IRM_32); \
                      else loc[(t) - ng] = v_; } while (0)
    /* The globals the optimizer moved into op i's slow path. */
#define SINKS(i) do { for (uint32_t k_ = 0; k_ < h.nsinks; k_++) \
                          if (sinks[k_].op == (i)) \
                              WR(sinks[k_].global, sinks[k_].src == IR_NOTEMP ? \
                                 sinks[k_].imm : RD(sinks[k_].src)); } while (0)
    for (uint32_t i = 0; i < h.nops; i++) {
        const IROp *op = &ops[i];
        uint32_t a, b, r;
        switch (op->opc) {
        case IR_NOP: case IR_INSN: case IR_LABEL:
            break;
        case IR_MOVI:
            WR(op->t[0], op->imm);
            break;
        case IR_MOV: case IR_ADD: case IR_SUB: case IR_AND: case IR_OR:
        case IR_XOR: case IR_SHL: case IR_SHR: case IR_SAR: case IR_ROL:
        case IR_ROR: case IR_MUL: case IR_NEG: case IR_NOT: case IR_EXT8S:
        case IR_EXT8U: case IR_EXT16S: case IR_EXT16U: case IR_PARITY:
            a = RD(op->t[1]);
            b = op->flags & IRF_BIMM ? op->imm :
                op->t[2] != IR_NOTEMP ? RD(op->t[2]) : 0;
            ir_fold(op->opc, a, b, &r);
            WR(op->t[0], r);
            break;
        case IR_SETCOND:
            a = RD(op->t[1]);
            b = op->flags & IRF_BIMM ? op->imm : RD(op->t[2]);
            WR(op->t[0], ir_cond_eval(op->cond, a, b));
            break;
        case IR_MOVCOND:
            a = RD(op->t[1]);
            b = op->flags & IRF_BIMM ? op->imm : RD(op->t[2]);
            if (ir_cond_eval(op->cond, a, b))
                WR(op->t[0], RD(op->t[3]));
            break;
        case IR_MULU2: case IR_MULS2: {
            a = RD(op->t[1]);
            b = op->flags & IRF_BIMM ? op->imm : RD(op->t[2]);
            uint64_t p = op->opc == IR_MULU2 ? (uint64_t)a * b :
                (uint64_t)((int64_t)(int32_t)a * (int64_t)(int32_t)b);
            WR(op->t[0], (uint32_t)p);
            WR(op->t[3], (uint32_t)(p >> 32));
            break;
        }
        case IR_LDENV:
            WR(op->t[0], env_ld(env, (int32_t)op->imm, op->cond));
            break;
        case IR_STENV:
            env_st(env, (int32_t)op->imm, RD(op->t[1]), op->cond);
            break;
        case IR_QLD: {
            a = RD(op->t[1]);
            uint8_t *hp = tlb_host(L, env, a, op->cond, false);
            if (hp) {
                r = 0;
                memcpy(&r, hp, (size_t)(1 << (op->cond & IRM_SIZE)));
            } else {
                env_st(env, L->pc, op->imm, IRM_32);
                SINKS(i);
                r = L->ld_slow(env, a, 1u << (op->cond & IRM_SIZE));
            }
            if ((op->cond & IRM_SIGN) && (op->cond & IRM_SIZE) != IRM_32)
                r = (op->cond & IRM_SIZE) == IRM_8 ? (uint32_t)(int32_t)(int8_t)r :
                    (uint32_t)(int32_t)(int16_t)r;
            WR(op->t[0], r);
            break;
        }
        case IR_QST: {
            a = RD(op->t[1]);
            b = RD(op->t[2]);
            uint8_t *hp = tlb_host(L, env, a, op->cond, true);
            if (hp) {
                memcpy(hp, &b, (size_t)(1 << (op->cond & IRM_SIZE)));
            } else {
                env_st(env, L->pc, op->imm, IRM_32);
                SINKS(i);
                L->st_slow(env, a, b, 1u << (op->cond & IRM_SIZE));
            }
            break;
        }
        case IR_CALL: {
            uint32_t v[4];
            for (int k = 0; k < 4; k++)
                v[k] = op->t[k + 1] != IR_NOTEMP ? RD(op->t[k + 1]) : 0;
            IRHelper *fn;
            uintptr_t fp = (uintptr_t)op->imm2;
            memcpy(&fn, &fp, sizeof(fn));
            r = fn(env, v[0], v[1], v[2], v[3]);
            if (op->t[0] != IR_NOTEMP)
                WR(op->t[0], r);
            break;
        }
        case IR_BR:
            i = op->imm - 1;
            break;
        case IR_BRCOND:
            a = RD(op->t[1]);
            b = op->flags & IRF_BIMM ? op->imm : RD(op->t[2]);
            if (ir_cond_eval(op->cond, a, b))
                i = (uint32_t)op->imm2 - 1;
            break;
        case IR_ENTRY: {
            uint32_t irq = env_ld(env, L->interrupt_request, IRM_32);
            uint64_t ic;
            memcpy(&ic, env + L->icount, 8);
            if ((irq & (uint32_t)op->imm2) || ic >= s->icount_limit)
                return 0;
            ic += op->imm;
            memcpy(env + L->icount, &ic, 8);
            break;
        }
        case IR_GOTO_TB:
            if (op->imm2) {
                blk = (const uint8_t *)(uintptr_t)op->imm2;
                goto next_block;
            }
            return h.exit_base | (op->imm & TCG_EXIT_SLOT_MASK);
        case IR_EXIT:
            return op->imm2;
        case IR_GOTO_PTR: {
            const void *p = L->lookup(env, op->imm);
            if (!p)
                return 0;
            blk = p;
            goto next_block;
        }
        case IR_CHECK_EXIT:
            if (s->code_invalidated) {
                env_st(env, L->pc, op->imm, IRM_32);
                return 0;
            }
            break;
        }
    }
#undef RD
#undef WR
#undef SINKS
    return 0;
}
