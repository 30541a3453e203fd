/* The x86-64 backend: IR -> native code.
 *
 * Frame: rbp holds env (the guest CPU state) and r12 the TcgCtx for the
 * whole run. Globals always live in env, so helpers and exceptions see the
 * guest state without any spilling. Locals read more than once get a host
 * register for their interval (alloc_regs: rbx, r13-r15 across calls,
 * r9-r11 otherwise), the rest a slot in the host frame at rsp. Within a
 * run of straight-line ops the emitter remembers which temp eax holds and
 * skips reloading it; a single-use local consumed by the next op never
 * leaves eax. Scratch registers: rax, rcx, rdx, rsi, rdi, r8.
 *
 * Guest memory accesses inline the soft-TLB compare and add; misses go to
 * out-of-line slow paths, which also perform the global stores the
 * optimizer sank there (IRSink). Block entry checks the instruction budget
 * and interrupt requests; indirect jumps probe the jump cache inline.
 *
 * Generated blocks leave through the shared epilogue with the exit value
 * in rax; a guest exception longjmps out of a helper, which discards the
 * frame (setjmp saved the callee-saved registers). */
#include <string.h>
#include "tcg/tcg.h"

const char tcg_backend_name[] = "x86_64";
const bool tcg_backend_jit = true;

enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13,
       R14, R15 };
/* Condition codes (the low nibble of Jcc/SETcc/CMOVcc). */
enum { CC_O, CC_NO, CC_B, CC_AE, CC_E, CC_NE, CC_BE, CC_A, CC_S, CC_NS,
       CC_P, CC_NP, CC_L, CC_GE, CC_LE, CC_G };

static const uint8_t ir_to_cc[] = {
    [IRC_EQ] = CC_E, [IRC_NE] = CC_NE, [IRC_LTU] = CC_B, [IRC_GEU] = CC_AE,
    [IRC_LEU] = CC_BE, [IRC_GTU] = CC_A, [IRC_LT] = CC_L, [IRC_GE] = CC_GE,
    [IRC_LE] = CC_LE, [IRC_GT] = CC_G, [IRC_TSTEQ] = CC_E, [IRC_TSTNE] = CC_NE,
};

/* Host frame: 6 pushes + the return address leave rsp 8 mod 16, so the
 * frame size is 8 mod 16 to keep calls aligned. */
#define FRAME_SIZE (IR_MAX_TEMPS * 4 + 8)

typedef struct SlowPath {
    uint32_t jcc_at;       /* offset of the rel32 to patch */
    uint32_t back;         /* where to continue */
    const IROp *op;
} SlowPath;

typedef struct Emit {
    uint8_t *buf;          /* rw view of the output */
    const uint8_t *rx;     /* rx address of buf[0] */
    size_t cap, n;
    bool full;
    TcgCtx *s;
    IRFunc *f;
    int eax_temp;          /* temp whose value eax holds, or -1 */
    const IROp *next;      /* the op after the one being emitted */
    uint16_t uses[IR_MAX_TEMPS];
    int8_t treg[IR_MAX_TEMPS];   /* host register of a local, or -1 */
    uint32_t labels[IR_MAX_LABELS];
    struct { uint32_t at; int label; } fix[IR_MAX_OPS];
    int nfix;
    SlowPath slow[IR_MAX_OPS];
    int nslow;
    uint32_t entry_exit[8];   /* jumps to the out-of-line entry exit */
    int nentry_exit;
} Emit;

static void b1(Emit *e, unsigned v)
{
    if (e->n < e->cap)
        e->buf[e->n] = (uint8_t)v;
    else
        e->full = true;
    e->n++;
}

static void b4(Emit *e, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b1(e, (v >> (8 * i)) & 0xff);
}

static void b8(Emit *e, uint64_t v)
{
    b4(e, (uint32_t)v);
    b4(e, (uint32_t)(v >> 32));
}

static void put4(Emit *e, uint32_t at, uint32_t v)
{
    if (at + 4 <= e->cap)
        memcpy(e->buf + at, &v, 4);
}

/* REX prefix when any register is r8+ (or w, or a byte register that
 * needs it: spl/bpl/sil/dil). */
static void rex(Emit *e, int w, int reg, int index, int base, bool byte_reg)
{
    unsigned r = 0x40 | (w ? 8 : 0) | ((reg & 8) ? 4 : 0) |
                 ((index & 8) ? 2 : 0) | ((base & 8) ? 1 : 0);
    if (r != 0x40 || (byte_reg && reg >= 4 && reg < 8))
        b1(e, r);
}

static void opcode(Emit *e, unsigned opc)
{
    if (opc > 0xffff)
        b1(e, opc >> 16);
    if (opc > 0xff)
        b1(e, (opc >> 8) & 0xff);
    b1(e, opc & 0xff);
}

/* ModRM (+SIB, disp) for [base + index + disp]; index < 0 for none. */
static void modrm_mem(Emit *e, int reg, int base, int index, int32_t disp)
{
    int mod = disp == 0 && (base & 7) != RBP ? 0 :
              disp >= -128 && disp <= 127 ? 1 : 2;
    if (index >= 0 || (base & 7) == RSP) {
        b1(e, (unsigned)(mod << 6 | (reg & 7) << 3 | 4));
        b1(e, (unsigned)((index >= 0 ? (index & 7) : 4) << 3 | (base & 7)));
    } else {
        b1(e, (unsigned)(mod << 6 | (reg & 7) << 3 | (base & 7)));
    }
    if (mod == 1)
        b1(e, (uint8_t)disp);
    else if (mod == 2)
        b4(e, (uint32_t)disp);
}

/* opc reg, [base + index + disp] */
static void op_mem(Emit *e, unsigned opc, int w, int reg, int base, int index,
                   int32_t disp, bool byte_reg)
{
    rex(e, w, reg, index < 0 ? 0 : index, base, byte_reg);
    opcode(e, opc);
    modrm_mem(e, reg, base, index, disp);
}

/* opc reg, rm (register form) */
static void op_rr(Emit *e, unsigned opc, int w, int reg, int rm)
{
    bool byte_reg = opc == 0x0fb6 || opc == 0x0fbe || (opc & 0xfff0) == 0x0f90;
    unsigned r = 0x40 | (w ? 8 : 0) | ((reg & 8) ? 4 : 0) | ((rm & 8) ? 1 : 0);
    if (r != 0x40 || (byte_reg && rm >= 4 && rm < 8))
        b1(e, r);
    opcode(e, opc);
    b1(e, (unsigned)(0xc0 | (reg & 7) << 3 | (rm & 7)));
}

/* The memory home of a temp. */
static void home(Emit *e, int t, int *base, int32_t *disp)
{
    const IRTemp *tp = &e->f->temps[t];
    if (tp->global) {
        *base = RBP;
        *disp = tp->env_off;
    } else {
        *base = RSP;
        *disp = (t - e->f->nglobals) * 4;
    }
}

static void load_temp(Emit *e, int reg, int t)
{
    if (e->eax_temp == t) {
        /* eax holds the value (its home may not have it yet). */
        if (reg != RAX)
            op_rr(e, 0x89, 0, RAX, reg);              /* mov reg, eax */
        return;
    }
    if (e->treg[t] >= 0) {
        if (reg != e->treg[t])
            op_rr(e, 0x8b, 0, reg, e->treg[t]);
    } else {
        int base; int32_t disp;
        home(e, t, &base, &disp);
        op_mem(e, 0x8b, 0, reg, base, -1, disp, false);
    }
    if (reg == RAX)
        e->eax_temp = t;
}

static void store_temp(Emit *e, int reg, int t)
{
    if (e->treg[t] >= 0) {
        op_rr(e, 0x89, 0, reg, e->treg[t]);
    } else {
        int base; int32_t disp;
        home(e, t, &base, &disp);
        op_mem(e, 0x89, 0, reg, base, -1, disp, false);
    }
    if (reg == RAX)
        e->eax_temp = t;
    else if (e->eax_temp == t)
        e->eax_temp = -1;
}

/* A local read once, by the very next op, which starts by loading that
 * operand into eax: the value can stay in eax and never reach memory. */
static bool consumed_next(Emit *e, int t)
{
    const IROp *n = e->next;
    if (t < e->f->nglobals || e->uses[t] != 1 || !n || n->t[1] != t)
        return false;
    switch (n->opc) {
    case IR_MOV: case IR_ADD: case IR_SUB: case IR_AND: case IR_OR:
    case IR_XOR: case IR_SHL: case IR_SHR: case IR_SAR: case IR_ROL:
    case IR_ROR: case IR_MUL: case IR_NEG: case IR_NOT: case IR_EXT8S:
    case IR_EXT8U: case IR_EXT16S: case IR_EXT16U: case IR_PARITY:
    case IR_SETCOND: case IR_BRCOND: case IR_MULU2: case IR_MULS2:
    case IR_STENV:
        return n->cond != IRC_ALWAYS && n->cond != IRC_NEVER;
    case IR_QLD: case IR_QST:
        /* The address goes to esi first (mov esi, eax); eax is free
         * until then. */
        return true;
    default:
        return false;
    }
}

/* Store an op's result from eax (unless the next op takes it from there). */
static void store_res(Emit *e, int t)
{
    if (consumed_next(e, t)) {
        e->eax_temp = t;
        return;
    }
    store_temp(e, RAX, t);
}

/* Ops that take their second operand from memory: op reg, [home(t)] */
static void op_temp(Emit *e, unsigned opc, int reg, int t)
{
    if (e->treg[t] >= 0) {
        op_rr(e, opc, 0, reg, e->treg[t]);
        return;
    }
    int base; int32_t disp;
    home(e, t, &base, &disp);
    op_mem(e, opc, 0, reg, base, -1, disp, false);
}

static void mov_ri(Emit *e, int reg, uint32_t imm)
{
    if (imm == 0) {
        op_rr(e, 0x31, 0, reg, reg);          /* xor r, r */
        return;
    }
    rex(e, 0, 0, 0, reg, false);
    b1(e, 0xb8 + (reg & 7));
    b4(e, imm);
}

static void mov_ri64(Emit *e, int reg, uint64_t imm)
{
    if (imm <= 0xffffffffu) {
        mov_ri(e, reg, (uint32_t)imm);
        return;
    }
    rex(e, 1, 0, 0, reg, false);
    b1(e, 0xb8 + (reg & 7));
    b8(e, imm);
}

/* group-1 ALU with an immediate: /n is add 0, or 1, and 4, sub 5, xor 6,
 * cmp 7. */
static void alu_ri(Emit *e, int ext, int w, int reg, uint32_t imm)
{
    rex(e, w, 0, 0, reg, false);
    if ((int32_t)imm >= -128 && (int32_t)imm <= 127) {
        b1(e, 0x83);
        b1(e, (unsigned)(0xc0 | ext << 3 | (reg & 7)));
        b1(e, imm & 0xff);
    } else {
        b1(e, 0x81);
        b1(e, (unsigned)(0xc0 | ext << 3 | (reg & 7)));
        b4(e, imm);
    }
}

static void jmp_to(Emit *e, const uint8_t *target_rx)
{
    b1(e, 0xe9);
    intptr_t rel = target_rx - (e->rx + e->n + 4);
    b4(e, (uint32_t)(int32_t)rel);
}

static void call_abs(Emit *e, const void *fn)
{
    intptr_t rel = (const uint8_t *)fn - (e->rx + e->n + 5);
    if (rel == (int32_t)rel) {
        b1(e, 0xe8);
        b4(e, (uint32_t)(int32_t)rel);
    } else {
        mov_ri64(e, RAX, (uint64_t)(uintptr_t)fn);
        b1(e, 0xff);
        b1(e, 0xd0);                          /* call rax */
    }
}

static void exit_with(Emit *e, uint64_t val)
{
    mov_ri64(e, RAX, val);
    jmp_to(e, e->s->epilogue);
}

/* Compare t1 with t2/imm for a condition (sets host flags). */
static void emit_compare(Emit *e, const IROp *op)
{
    bool tst = op->cond == IRC_TSTEQ || op->cond == IRC_TSTNE;
    load_temp(e, RAX, op->t[1]);
    if (op->flags & IRF_BIMM) {
        if (tst) {
            b1(e, 0xa9);                      /* test eax, imm32 */
            b4(e, op->imm);
        } else if (op->imm == 0) {
            op_rr(e, 0x85, 0, RAX, RAX);
        } else {
            alu_ri(e, 7, 0, RAX, op->imm);
        }
    } else {
        op_temp(e, tst ? 0x85 : 0x3b, RAX, op->t[2]);
    }
}

static void jcc_label(Emit *e, int cc, int label)
{
    b1(e, 0x0f);
    b1(e, 0x80 + cc);
    if (e->nfix < IR_MAX_OPS) {
        e->fix[e->nfix].at = (uint32_t)e->n;
        e->fix[e->nfix].label = label;
        e->nfix++;
    }
    b4(e, 0);
}

/* edi = the byte offset of the TLB entry for the linear address in edi.
 * With a power-of-two entry size the page-number shift and the scaling
 * shift fold into one shift right and a mask (one op fewer per access). */
static void emit_tlb_index(Emit *e, const TcgEnvLayout *L)
{
    int es = L->tlb_entry_size;
    if ((es & (es - 1)) == 0 && __builtin_ctz((unsigned)es) <= L->page_bits) {
        int sh = __builtin_ctz((unsigned)es);
        rex(e, 0, 0, 0, RDI, false);
        b1(e, 0xc1); b1(e, 0xef); b1(e, (unsigned)(L->page_bits - sh)); /* shr */
        alu_ri(e, 4, 0, RDI, L->tlb_mask << sh);                /* and edi */
        return;
    }
    rex(e, 0, 0, 0, RDI, false);
    b1(e, 0xc1); b1(e, 0xef); b1(e, (unsigned)L->page_bits);   /* shr edi */
    alu_ri(e, 4, 0, RDI, L->tlb_mask);
    b1(e, 0x69); b1(e, 0xff); b4(e, (uint32_t)es);             /* imul edi,edi */
}

/* TLB lookup for a guest access: esi = linear address; leaves the entry
 * offset in rdi and jumps to a slow path on a miss. */
static void emit_tlb(Emit *e, const IROp *op, bool write)
{
    const TcgEnvLayout *L = &e->s->layout;
    int size = 1 << (op->cond & IRM_SIZE);
    load_temp(e, RSI, op->t[1]);
    op_mem(e, 0x8d, 0, RDX, RSI, -1, size - 1, false);   /* lea edx,[rsi+n-1] */
    alu_ri(e, 4, 0, RDX, ~((1u << L->page_bits) - 1));   /* and edx, mask */
    if (op->cond & IRM_USER)
        alu_ri(e, 1, 0, RDX, L->user_tag);                /* or edx, user */
    op_rr(e, 0x89, 0, RSI, RDI);                          /* mov edi, esi */
    emit_tlb_index(e, L);
    op_mem(e, 0x3b, 0, RDX, RBP, RDI,
           L->tlb + (write ? L->tag_write : L->tag_read), false);
    b1(e, 0x0f); b1(e, 0x85);                                  /* jne slow */
    if (e->nslow < IR_MAX_OPS) {
        e->slow[e->nslow].jcc_at = (uint32_t)e->n;
        e->slow[e->nslow].op = op;
    }
    b4(e, 0);
    op_mem(e, 0x8b, 1, RDX, RBP, RDI, L->tlb + L->addend, false);  /* mov rdx */
}

static void emit_qld(Emit *e, const IROp *op)
{
    emit_tlb(e, op, false);
    static const unsigned ld_opc[8] = {
        0x0fb6, 0x0fb7, 0x8b, 0x8b, 0x0fbe, 0x0fbf, 0x8b, 0x8b };
    op_mem(e, ld_opc[op->cond & 7], 0, RAX, RDX, RSI, 0, false);
    if (e->nslow < IR_MAX_OPS)
        e->slow[e->nslow++].back = (uint32_t)e->n;
    e->eax_temp = -1;
    store_res(e, op->t[0]);
}

static void emit_qst(Emit *e, const IROp *op)
{
    emit_tlb(e, op, true);
    load_temp(e, RAX, op->t[2]);
    switch (op->cond & IRM_SIZE) {
    case IRM_8: op_mem(e, 0x88, 0, RAX, RDX, RSI, 0, true); break;
    case IRM_16: b1(e, 0x66); op_mem(e, 0x89, 0, RAX, RDX, RSI, 0, false); break;
    default: op_mem(e, 0x89, 0, RAX, RDX, RSI, 0, false); break;
    }
    if (e->nslow < IR_MAX_OPS)
        e->slow[e->nslow++].back = (uint32_t)e->n;
    /* The slow path's call clobbered eax. */
    e->eax_temp = -1;
}

static void emit_slow_paths(Emit *e)
{
    const TcgEnvLayout *L = &e->s->layout;
    for (int i = 0; i < e->nslow; i++) {
        const SlowPath *sp = &e->slow[i];
        const IROp *op = sp->op;
        put4(e, sp->jcc_at, (uint32_t)(e->n - (sp->jcc_at + 4)));
        e->eax_temp = -1;
        /* The guest pc must be right if the access faults, and so must
         * the globals whose stores the optimizer moved here. */
        op_mem(e, 0xc7, 0, 0, RBP, -1, L->pc, false);
        b4(e, op->imm);
        int idx = (int)(op - e->f->ops);
        for (int k = 0; k < e->f->nsinks; k++) {
            const IRSink *sk = &e->f->sinks[k];
            if (sk->op != idx)
                continue;
            int32_t goff = e->f->temps[sk->global].env_off;
            if (sk->src == IR_NOTEMP) {
                op_mem(e, 0xc7, 0, 0, RBP, -1, goff, false);
                b4(e, sk->imm);
            } else {
                load_temp(e, RAX, sk->src);
                op_mem(e, 0x89, 0, RAX, RBP, -1, goff, false);
            }
        }
        op_rr(e, 0x89, 1, RBP, RDI);                     /* mov rdi, rbp */
        int size = 1 << (op->cond & IRM_SIZE);
        if (op->opc == IR_QLD) {
            mov_ri(e, RDX, (uint32_t)size);
            call_abs(e, (const void *)L->ld_slow);
            if ((op->cond & IRM_SIGN) && size < 4)
                op_rr(e, size == 1 ? 0x0fbe : 0x0fbf, 0, RAX, RAX);
        } else {
            load_temp(e, RDX, op->t[2]);
            mov_ri(e, RCX, (uint32_t)size);
            call_abs(e, (const void *)L->st_slow);
        }
        jmp_to(e, e->rx + sp->back);
    }
}

static void emit_shift(Emit *e, const IROp *op)
{
    static const uint8_t ext[] = {
        [IR_SHL] = 4, [IR_SHR] = 5, [IR_SAR] = 7, [IR_ROL] = 0, [IR_ROR] = 1 };
    int x = ext[op->opc];
    if (op->flags & IRF_BIMM) {
        load_temp(e, RAX, op->t[1]);
        if ((op->imm & 31) == 0)
            goto done;
        b1(e, 0xc1); b1(e, (unsigned)(0xc0 | x << 3)); b1(e, op->imm & 31);
    } else {
        load_temp(e, RCX, op->t[2]);
        load_temp(e, RAX, op->t[1]);
        b1(e, 0xd3); b1(e, (unsigned)(0xc0 | x << 3));
    }
done:
    e->eax_temp = -1;
    store_res(e, op->t[0]);
}

static void emit_entry(Emit *e, const IROp *op)
{
    /* Interrupts and the instruction budget are checked once per block:
     * leave (without running it) when either wants the run loop. The exit
     * itself is out of line, after the block. */
    const TcgEnvLayout *L = &e->s->layout;
    uint32_t mask = (uint32_t)op->imm2;
    if (e->nentry_exit > 6) {        /* one ENTRY per block; stay in bounds */
        e->full = true;
        return;
    }
    op_mem(e, 0x8b, 1, RAX, RBP, -1, L->icount, false);
    op_mem(e, 0x3b, 1, RAX, R12, -1, 0, false);         /* cmp rax, limit */
    b1(e, 0x0f); b1(e, 0x83);                           /* jae out */
    e->entry_exit[e->nentry_exit++] = (uint32_t)e->n;
    b4(e, 0);
    if (mask) {
        op_mem(e, 0xf7, 0, 0, RBP, -1, L->interrupt_request, false);
        b4(e, mask);                                    /* test [irq], mask */
        b1(e, 0x0f); b1(e, 0x85);                       /* jnz out */
        e->entry_exit[e->nentry_exit++] = (uint32_t)e->n;
        b4(e, 0);
    }
    alu_ri(e, 0, 1, RAX, op->imm);
    op_mem(e, 0x89, 1, RAX, RBP, -1, L->icount, false);
    e->eax_temp = -1;
}

/* GOTO_PTR with an exact hint: the jump-cache probe of the front end's
 * lookup hook (same conditions), inline; any doubt takes the hook. */
static void emit_jc_probe(Emit *e, const IROp *op)
{
    const TcgEnvLayout *L = &e->s->layout;
    uint32_t miss[8];
    int nmiss = 0;
#define JMISS(cc) do { b1(e, 0x0f); b1(e, 0x80 + (cc)); miss[nmiss++] = (uint32_t)e->n; \
                       b4(e, 0); } while (0)
    op_mem(e, 0x8b, 0, RSI, RBP, -1, L->pc, false);           /* esi = pc */
    op_rr(e, 0x89, 0, RSI, RAX);
    b1(e, 0xc1); b1(e, 0xe8); b1(e, TB_JC_BITS);               /* shr eax */
    op_rr(e, 0x31, 0, RSI, RAX);                               /* xor eax, esi */
    alu_ri(e, 4, 0, RAX, (1u << TB_JC_BITS) - 1);
    b1(e, 0xc1); b1(e, 0xe0); b1(e, 3);                        /* shl eax, 3 */
    op_mem(e, 0x8b, 1, RDX, R12, RAX,
           (int32_t)offsetof(TcgCtx, tbs.jc), false);          /* rdx = tb */
    op_rr(e, 0x85, 1, RDX, RDX);
    JMISS(CC_E);
    op_mem(e, 0x80, 0, 7, RDX, -1, (int32_t)offsetof(TB, invalid), false);
    b1(e, 0);
    JMISS(CC_NE);
    op_mem(e, 0x3b, 0, RSI, RDX, -1, (int32_t)offsetof(TB, pc), false);
    JMISS(CC_NE);
    op_mem(e, 0x81, 0, 7, RDX, -1, (int32_t)offsetof(TB, flags), false);
    b4(e, op->imm);
    JMISS(CC_NE);
    op_mem(e, 0x8b, 0, RCX, RBP, -1, L->cs_base, false);      /* ecx = base */
    op_mem(e, 0x3b, 0, RCX, RDX, -1, (int32_t)offsetof(TB, cs_base), false);
    JMISS(CC_NE);
    op_rr(e, 0x01, 0, RSI, RCX);                               /* ecx = lin */
    op_rr(e, 0x89, 0, RCX, RDI);
    emit_tlb_index(e, L);
    op_rr(e, 0x89, 0, RCX, RAX);
    alu_ri(e, 4, 0, RAX, ~((1u << L->page_bits) - 1));
    if (op->cond & IRM_USER)
        alu_ri(e, 1, 0, RAX, L->user_tag);
    op_mem(e, 0x3b, 0, RAX, RBP, RDI, L->tlb + L->tag_code, false);
    JMISS(CC_NE);
    op_mem(e, 0x8b, 1, RAX, RBP, RDI, L->tlb + L->paddr, false);
    alu_ri(e, 4, 1, RAX, ~((1u << L->page_bits) - 1));
    alu_ri(e, 4, 0, RCX, (1u << L->page_bits) - 1);
    op_rr(e, 0x01, 1, RCX, RAX);                               /* rax += rcx */
    op_mem(e, 0x3b, 1, RAX, RDX, -1, (int32_t)offsetof(TB, phys_pc), false);
    JMISS(CC_NE);
    op_mem(e, 0xff, 0, 4, RDX, -1, (int32_t)offsetof(TB, code), false);
#undef JMISS
    for (int i = 0; i < nmiss; i++)
        put4(e, miss[i], (uint32_t)(e->n - (miss[i] + 4)));
}

static void emit_op(Emit *e, const IROp *op, uint64_t exit_base,
                    uint32_t jmp_off[2])
{
    static const unsigned alu_mem[] = {
        [IR_ADD] = 0x03, [IR_SUB] = 0x2b, [IR_AND] = 0x23, [IR_OR] = 0x0b,
        [IR_XOR] = 0x33, [IR_MUL] = 0x0faf };
    static const uint8_t alu_ext[] = {
        [IR_ADD] = 0, [IR_SUB] = 5, [IR_AND] = 4, [IR_OR] = 1, [IR_XOR] = 6 };
    const TcgEnvLayout *L = &e->s->layout;
    switch (op->opc) {
    case IR_NOP:
    case IR_INSN:
        break;
    case IR_MOVI: {
        if (e->treg[op->t[0]] >= 0) {
            mov_ri(e, e->treg[op->t[0]], op->imm);
            if (e->eax_temp == op->t[0])
                e->eax_temp = -1;
            break;
        }
        int base; int32_t disp;
        home(e, op->t[0], &base, &disp);
        op_mem(e, 0xc7, 0, 0, base, -1, disp, false);
        b4(e, op->imm);
        if (e->eax_temp == op->t[0])
            e->eax_temp = -1;
        break;
    }
    case IR_MOV:
        load_temp(e, RAX, op->t[1]);
        store_res(e, op->t[0]);
        break;
    case IR_ADD: case IR_SUB: case IR_AND: case IR_OR: case IR_XOR:
        load_temp(e, RAX, op->t[1]);
        if (op->flags & IRF_BIMM)
            alu_ri(e, alu_ext[op->opc], 0, RAX, op->imm);
        else
            op_temp(e, alu_mem[op->opc], RAX, op->t[2]);
        e->eax_temp = -1;
        store_res(e, op->t[0]);
        break;
    case IR_MUL:
        if (op->flags & IRF_BIMM) {
            load_temp(e, RAX, op->t[1]);
            b1(e, 0x69); b1(e, 0xc0); b4(e, op->imm);      /* imul eax,eax,i */
        } else {
            load_temp(e, RAX, op->t[1]);
            op_temp(e, 0x0faf, RAX, op->t[2]);
        }
        e->eax_temp = -1;
        store_res(e, op->t[0]);
        break;
    case IR_SHL: case IR_SHR: case IR_SAR: case IR_ROL: case IR_ROR:
        emit_shift(e, op);
        break;
    case IR_NEG: case IR_NOT:
        load_temp(e, RAX, op->t[1]);
        b1(e, 0xf7); b1(e, op->opc == IR_NEG ? 0xd8 : 0xd0);
        e->eax_temp = -1;
        store_res(e, op->t[0]);
        break;
    case IR_EXT8S: case IR_EXT8U: case IR_EXT16S: case IR_EXT16U: {
        static const unsigned x[] = { 0x0fbe, 0x0fb6, 0x0fbf, 0x0fb7 };
        load_temp(e, RAX, op->t[1]);
        op_rr(e, x[op->opc - IR_EXT8S], 0, RAX, RAX);
        e->eax_temp = -1;
        store_res(e, op->t[0]);
        break;
    }
    case IR_PARITY:
        load_temp(e, RAX, op->t[1]);
        b1(e, 0x84); b1(e, 0xc0);                         /* test al, al */
        op_rr(e, 0x0f9a, 0, 0, RCX);                      /* setp cl */
        op_rr(e, 0x0fb6, 0, RCX, RCX);
        store_temp(e, RCX, op->t[0]);
        break;
    case IR_SETCOND:
        if (op->cond == IRC_ALWAYS || op->cond == IRC_NEVER) {
            mov_ri(e, RCX, op->cond == IRC_ALWAYS);
        } else {
            emit_compare(e, op);
            op_rr(e, 0x0f90 + ir_to_cc[op->cond], 0, 0, RCX);   /* setcc cl */
            op_rr(e, 0x0fb6, 0, RCX, RCX);
        }
        store_temp(e, RCX, op->t[0]);
        break;
    case IR_MOVCOND:
        if (op->cond == IRC_NEVER)
            break;
        if (op->cond == IRC_ALWAYS) {
            load_temp(e, RAX, op->t[3]);
            store_temp(e, RAX, op->t[0]);
            break;
        }
        load_temp(e, RDX, op->t[0]);
        emit_compare(e, op);
        op_temp(e, 0x0f40 + ir_to_cc[op->cond], RDX, op->t[3]);
        store_temp(e, RDX, op->t[0]);
        break;
    case IR_MULU2: case IR_MULS2:
        load_temp(e, RAX, op->t[1]);
        if (op->flags & IRF_BIMM) {
            mov_ri(e, RCX, op->imm);
            b1(e, 0xf7); b1(e, op->opc == IR_MULU2 ? 0xe1 : 0xe9);
        } else if (e->treg[op->t[2]] >= 0) {
            op_rr(e, 0xf7, 0, op->opc == IR_MULU2 ? 4 : 5, e->treg[op->t[2]]);
        } else {
            int base; int32_t disp;
            home(e, op->t[2], &base, &disp);
            op_mem(e, 0xf7, 0, op->opc == IR_MULU2 ? 4 : 5, base, -1, disp,
                   false);
        }
        e->eax_temp = -1;
        store_temp(e, RAX, op->t[0]);
        store_temp(e, RDX, op->t[3]);
        break;
    case IR_LDENV: {
        static const unsigned x[8] = {
            0x0fb6, 0x0fb7, 0x8b, 0x8b, 0x0fbe, 0x0fbf, 0x8b, 0x8b };
        op_mem(e, x[op->cond & 7], 0, RAX, RBP, -1, (int32_t)op->imm, false);
        e->eax_temp = -1;
        store_res(e, op->t[0]);
        break;
    }
    case IR_STENV:
        load_temp(e, RAX, op->t[1]);
        switch (op->cond & IRM_SIZE) {
        case IRM_8: op_mem(e, 0x88, 0, RAX, RBP, -1, (int32_t)op->imm, true); break;
        case IRM_16:
            b1(e, 0x66);
            op_mem(e, 0x89, 0, RAX, RBP, -1, (int32_t)op->imm, false);
            break;
        default: op_mem(e, 0x89, 0, RAX, RBP, -1, (int32_t)op->imm, false); break;
        }
        /* The store may have changed a global that eax mirrors. */
        e->eax_temp = -1;
        break;
    case IR_QLD:
        emit_qld(e, op);
        break;
    case IR_QST:
        emit_qst(e, op);
        break;
    case IR_CALL: {
        static const int argreg[] = { RSI, RDX, RCX, R8 };
        for (int i = 0; i < 4; i++)
            if (op->t[i + 1] != IR_NOTEMP)
                load_temp(e, argreg[i], op->t[i + 1]);
        op_rr(e, 0x89, 1, RBP, RDI);
        call_abs(e, (const void *)(uintptr_t)op->imm2);
        e->eax_temp = -1;
        if (op->t[0] != IR_NOTEMP)
            store_temp(e, RAX, op->t[0]);
        break;
    }
    case IR_LABEL:
        if (op->imm < IR_MAX_LABELS)
            e->labels[op->imm] = (uint32_t)e->n;
        e->eax_temp = -1;
        break;
    case IR_BR:
        b1(e, 0xe9);
        if (e->nfix < IR_MAX_OPS) {
            e->fix[e->nfix].at = (uint32_t)e->n;
            e->fix[e->nfix].label = (int)op->imm;
            e->nfix++;
        }
        b4(e, 0);
        break;
    case IR_BRCOND:
        if (op->cond == IRC_NEVER)
            break;
        if (op->cond == IRC_ALWAYS) {
            b1(e, 0xe9);
            if (e->nfix < IR_MAX_OPS) {
                e->fix[e->nfix].at = (uint32_t)e->n;
                e->fix[e->nfix].label = (int)op->imm2;
                e->nfix++;
            }
            b4(e, 0);
            break;
        }
        emit_compare(e, op);
        jcc_label(e, ir_to_cc[op->cond], (int)op->imm2);
        break;
    case IR_ENTRY:
        emit_entry(e, op);
        break;
    case IR_GOTO_TB:
        /* The jump slot: falls through until tb_link patches it. */
        b1(e, 0xe9);
        if (op->imm < 2)
            jmp_off[op->imm] = (uint32_t)e->n;
        b4(e, 0);
        exit_with(e, exit_base | (op->imm & TCG_EXIT_SLOT_MASK));
        break;
    case IR_EXIT:
        exit_with(e, op->imm2);
        break;
    case IR_GOTO_PTR:
        if ((op->flags & IRF_EXACT_HINT) && L->jc_probe)
            emit_jc_probe(e, op);
        op_rr(e, 0x89, 1, RBP, RDI);
        mov_ri(e, RSI, op->imm);
        call_abs(e, (const void *)L->lookup);
        op_rr(e, 0x85, 1, RAX, RAX);                      /* test rax, rax */
        b1(e, 0x0f); b1(e, 0x84);                         /* jz epilogue */
        {
            intptr_t rel = e->s->epilogue - (e->rx + e->n + 4);
            b4(e, (uint32_t)(int32_t)rel);
        }
        b1(e, 0xff); b1(e, 0xe0);                         /* jmp rax */
        e->eax_temp = -1;
        break;
    case IR_CHECK_EXIT:
        op_mem(e, 0x83, 0, 7, R12, -1, (int32_t)offsetof(TcgCtx, code_invalidated),
               false);
        b1(e, 0);                                         /* cmp [..], 0 */
        b1(e, 0x0f); b1(e, 0x84);                         /* je skip */
        {
            uint32_t j = (uint32_t)e->n;
            b4(e, 0);
            op_mem(e, 0xc7, 0, 0, RBP, -1, L->pc, false);
            b4(e, op->imm);
            exit_with(e, 0);
            put4(e, j, (uint32_t)(e->n - (j + 4)));
        }
        break;
    }
}

/* Locals that are read more than once live in host registers for their
 * whole interval, first appearance to last read: blocks branch only
 * forward, so a fixed register per local is right on every path. A local
 * whose interval spans a call (a helper, or a guest access whose slow
 * path calls) gets a callee-saved register; others may also use r9-r11,
 * which the emitter never touches. The rest keep a frame slot. */
static void alloc_regs(Emit *e)
{
    static const int8_t pool[] = { R9, R10, R11, RBX, R13, R14, R15 };
    ir_alloc_locals(e->f, pool, (int)sizeof pool, 3 /* rbx on: callee-saved */,
                    e->uses, e->treg);
}

const uint8_t *tcg_backend_gen(TcgCtx *s, IRFunc *f, uint64_t exit_base,
                               size_t *size, uint32_t jmp_off[2])
{
    static Emit e;   /* large; one translation at a time */
    size_t start = (s->cb.used + 15) & ~(size_t)15;
    if (start >= s->cb.size)
        return NULL;
    memset(&e, 0, offsetof(Emit, labels));
    e.buf = s->cb.rw + start;
    e.rx = s->cb.rx + start;
    e.cap = s->cb.size - start;
    e.s = s;
    e.f = f;
    e.eax_temp = -1;
    e.nfix = e.nslow = 0;
    e.nentry_exit = 0;
    jmp_off[0] = jmp_off[1] = UINT32_MAX;
    memset(e.uses, 0, sizeof(uint16_t) * (size_t)f->ntemps);
    for (int i = 0; i < f->nops; i++) {
        int u[5];
        int n = ir_op_uses(&f->ops[i], u);
        for (int k = 0; k < n; k++)
            if (u[k] < f->ntemps && e.uses[u[k]] < 0xffff)
                e.uses[u[k]]++;
    }
    /* A slow path reads its sunk stores' sources from their homes. */
    for (int k = 0; k < f->nsinks; k++)
        if (f->sinks[k].src != IR_NOTEMP)
            e.uses[f->sinks[k].src] = 0xffff;
    alloc_regs(&e);
    codebuf_begin_write(&s->cb);
    for (int i = 0; i < f->nops; i++) {
        const IROp *op = &f->ops[i];
        if (op->opc == IR_NOP || op->opc == IR_INSN)
            continue;
        int j = i + 1;
        while (j < f->nops && (f->ops[j].opc == IR_NOP || f->ops[j].opc == IR_INSN))
            j++;
        e.next = j < f->nops ? &f->ops[j] : NULL;
        emit_op(&e, op, exit_base, jmp_off);
    }
    emit_slow_paths(&e);
    if (e.nentry_exit) {
        for (int i = 0; i < e.nentry_exit; i++)
            put4(&e, e.entry_exit[i], (uint32_t)(e.n - (e.entry_exit[i] + 4)));
        op_rr(&e, 0x31, 0, RAX, RAX);                  /* nothing ran: 0 */
        jmp_to(&e, s->epilogue);
    }
    for (int i = 0; i < e.nfix; i++) {
        uint32_t at = e.fix[i].at;
        int l = e.fix[i].label;
        uint32_t to = l >= 0 && l < IR_MAX_LABELS ? e.labels[l] : 0;
        put4(&e, at, (uint32_t)(to - (at + 4)));
    }
    if (e.full || e.nslow >= IR_MAX_OPS || e.nfix >= IR_MAX_OPS) {
        codebuf_end_write(&s->cb);
        return NULL;
    }
    s->cb.used = start + e.n;
    codebuf_end_write(&s->cb);
    *size = e.n;
    return e.rx;
}

int tcg_backend_init(TcgCtx *s)
{
    static Emit e;
    memset(&e, 0, offsetof(Emit, labels));
    e.buf = s->cb.rw;
    e.rx = s->cb.rx;
    e.cap = s->cb.size;
    e.s = s;
    codebuf_begin_write(&s->cb);
    /* enter(env = rdi, ctx = rsi, code = rdx) */
    static const int saved[] = { RBP, RBX, R12, R13, R14, R15 };
    for (int i = 0; i < 6; i++) {
        rex(&e, 0, 0, 0, saved[i], false);
        b1(&e, 0x50 + (saved[i] & 7));
    }
    rex(&e, 1, 0, 0, RSP, false);
    b1(&e, 0x81); b1(&e, 0xec); b4(&e, FRAME_SIZE);      /* sub rsp, frame */
    op_rr(&e, 0x89, 1, RDI, RBP);
    op_rr(&e, 0x89, 1, RSI, R12);
    b1(&e, 0xff); b1(&e, 0xe2);                          /* jmp rdx */
    size_t epi = e.n;
    rex(&e, 1, 0, 0, RSP, false);
    b1(&e, 0x81); b1(&e, 0xc4); b4(&e, FRAME_SIZE);      /* add rsp, frame */
    for (int i = 5; i >= 0; i--) {
        rex(&e, 0, 0, 0, saved[i], false);
        b1(&e, 0x58 + (saved[i] & 7));
    }
    b1(&e, 0xc3);
    s->cb.used = e.n;
    codebuf_end_write(&s->cb);
    if (e.full)
        return -1;
    s->prologue = s->cb.rx;
    s->epilogue = s->cb.rx + epi;
    return 0;
}

uint64_t tcg_backend_run(TcgCtx *s, void *env, const void *code)
{
    uint64_t (*enter)(void *, void *, const void *);
    const void *p = s->prologue;
    memcpy(&enter, &p, sizeof(enter));
    return enter(env, s, code);
}

void tcg_backend_patch(TcgCtx *s, uint8_t *patch_rx, const void *target_rx)
{
    /* The slot is the rel32 of a jmp; unchained it jumps to the next
     * instruction (the exit sequence). */
    const uint8_t *next = patch_rx + 4;
    const uint8_t *to = target_rx ? (const uint8_t *)target_rx : next;
    int32_t rel = (int32_t)(to - next);
    memcpy(codebuf_rw(&s->cb, patch_rx), &rel, 4);
}
