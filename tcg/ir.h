/* Kestrel's translator IR: a straight list of ops over 32-bit temps.
 *
 * The IR knows nothing about x86 guests. A temp is either a global (it
 * lives in the CPU state at a fixed byte offset from the env pointer, so
 * helpers and exceptions always see it) or a local (a slot in the host
 * frame, valid within one block). Every value is 32 bits wide because the
 * guest is; host pointers never appear in the IR: guest memory goes
 * through QLD/QST (the backend emits the soft-TLB lookup) and the CPU
 * state through LDENV/STENV.
 *
 * Binary ops take their second operand either from a temp or, when the
 * op has IRF_BIMM set, from the op's immediate. The optimizer turns
 * temps with a known constant into that form.
 */
#ifndef TCG_IR_H
#define TCG_IR_H
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>

#define IR_MAX_OPS    4096
#define IR_MAX_TEMPS  2048
#define IR_MAX_LABELS 256
#define IR_NOTEMP     0xffff

typedef enum IROpc {
    IR_NOP,
    IR_MOVI,     /* t0 = imm */
    IR_MOV,      /* t0 = t1 */
    /* t0 = t1 OP t2 (or imm with IRF_BIMM). Shift counts use the low 5 bits. */
    IR_ADD, IR_SUB, IR_AND, IR_OR, IR_XOR, IR_SHL, IR_SHR, IR_SAR,
    IR_ROL, IR_ROR, IR_MUL,
    IR_NEG, IR_NOT,                       /* t0 = op t1 */
    IR_EXT8S, IR_EXT8U, IR_EXT16S, IR_EXT16U,
    IR_PARITY,   /* t0 = 1 when the low byte of t1 has an even number of
                    set bits (x86's PF; hosts compute it in one op) */
    IR_SETCOND,  /* t0 = cond(t1, t2/imm) ? 1 : 0 */
    IR_MOVCOND,  /* t0 = cond(t1, t2/imm) ? t3 : t0 */
    IR_MULU2,    /* t0:t3 = t1 * t2 unsigned (t0 low half, t3 high) */
    IR_MULS2,    /* the same, signed */
    IR_LDENV,    /* t0 = *(size *)(env + imm), cond = size | IRM_SIGN */
    IR_STENV,    /* *(size *)(env + imm) = t1 */
    IR_QLD,      /* t0 = guest[t1] (linear address), size in cond; imm = guest pc */
    IR_QST,      /* guest[t1] = t2 */
    IR_CALL,     /* t0 = fn(env, t1, t2, t3, t4); t0/args may be IR_NOTEMP */
    IR_LABEL,    /* imm = label */
    IR_BR,       /* goto label imm */
    IR_BRCOND,   /* if cond(t1, t2/imm) goto label imm2 */
    IR_ENTRY,    /* block entry: interrupt/budget check; imm = guest insns,
                    imm2 = interrupt_request mask that forces an exit */
    IR_INSN,     /* marks the start of a guest instruction at pc imm */
    IR_GOTO_TB,  /* chainable exit through jump slot imm (0 or 1) */
    IR_EXIT,     /* return imm2 to the run loop */
    IR_GOTO_PTR, /* jump to the block the context's lookup hook finds for
                    the guest state now, or exit with 0 (indirect jumps);
                    imm is passed to the hook as a hint */
    IR_CHECK_EXIT, /* if a store invalidated code, leave with pc imm */
    IR_NUM_OPC
} IROpc;

/* Conditions for SETCOND/MOVCOND/BRCOND (over 32-bit values). */
typedef enum IRCond {
    IRC_EQ, IRC_NE, IRC_LTU, IRC_GEU, IRC_LEU, IRC_GTU,
    IRC_LT, IRC_GE, IRC_LE, IRC_GT,
    IRC_TSTEQ, IRC_TSTNE,              /* (a & b) == 0, != 0 */
    IRC_ALWAYS, IRC_NEVER,
} IRCond;

/* Memory access sizes for LDENV/STENV/QLD/QST. */
enum { IRM_8 = 0, IRM_16 = 1, IRM_32 = 2, IRM_SIZE = 3, IRM_SIGN = 4,
       IRM_USER = 8 /* QLD/QST: a user-privilege access (TLB tag bit) */ };

#define IRF_BIMM 0x01    /* the second operand is op->imm */
#define IRF_PURE_CALL 0x02 /* a call that neither reads nor writes globals
                              and cannot fault: the optimizer may drop it */
#define IRF_EXACT_HINT 0x04 /* GOTO_PTR: the hint is the target's exact mode
                               flags, so a JIT may probe the jump cache
                               inline (cond: IRM_USER for the TLB key) */

typedef struct IROp {
    uint8_t opc;
    uint8_t cond;        /* IRCond, or the IRM_* size of memory ops */
    uint8_t flags;
    uint8_t pad;
    uint16_t t[5];
    uint32_t imm;
    uint64_t imm2;       /* label, exit value, or helper address */
} IROp;

typedef struct IRTemp {
    bool global;
    int32_t env_off;     /* globals: byte offset in the CPU state */
    const char *name;
} IRTemp;

typedef uint32_t IRHelper(void *env, uint32_t a, uint32_t b, uint32_t c,
                          uint32_t d);

/* A store to a global that the optimizer moved off the fast path into a
 * guest memory access's slow path: the global is overwritten right after
 * the access, so only a fault there (or the slow path itself) can see
 * the value. */
#define IR_MAX_SINKS 512
typedef struct IRSink {
    uint16_t op;         /* index of the QLD/QST */
    uint16_t global;     /* temp number of the global */
    uint16_t src;        /* temp holding the value, or IR_NOTEMP: imm */
    uint32_t imm;
} IRSink;

typedef struct IRFunc {
    IROp ops[IR_MAX_OPS];
    int nops;
    IRSink sinks[IR_MAX_SINKS];
    int nsinks;
    IRTemp temps[IR_MAX_TEMPS];
    int ntemps;
    int nglobals;        /* temps [0, nglobals) are the globals */
    int nlabels;
    bool overflow;       /* ran out of ops/temps: the caller must retry smaller */
} IRFunc;

/* Globals are declared once; ir_reset keeps them and drops everything else. */
void ir_init(IRFunc *f);
int ir_global(IRFunc *f, int32_t env_off, const char *name);
void ir_reset(IRFunc *f);
int ir_temp(IRFunc *f);
int ir_label(IRFunc *f);
/* Room left for about n more ops (a translator checks before each insn). */
static inline bool ir_room(const IRFunc *f, int n)
{ return f->nops + n < IR_MAX_OPS && f->ntemps + n < IR_MAX_TEMPS; }

IROp *ir_emit(IRFunc *f, int opc);
void ir_movi(IRFunc *f, int d, uint32_t imm);
void ir_mov(IRFunc *f, int d, int a);
void ir_op2(IRFunc *f, int opc, int d, int a, int b);      /* d = a op b */
void ir_op2i(IRFunc *f, int opc, int d, int a, uint32_t imm);
void ir_op1(IRFunc *f, int opc, int d, int a);
void ir_setcond(IRFunc *f, int cond, int d, int a, int b);
void ir_setcondi(IRFunc *f, int cond, int d, int a, uint32_t imm);
void ir_movcond(IRFunc *f, int cond, int d, int a, int b, int v);
void ir_mul2(IRFunc *f, bool sign, int lo, int hi, int a, int b);
void ir_ldenv(IRFunc *f, int d, int32_t off, int size);
void ir_stenv(IRFunc *f, int a, int32_t off, int size);
void ir_qld(IRFunc *f, int d, int addr, int size, uint32_t pc);
void ir_qst(IRFunc *f, int val, int addr, int size, uint32_t pc);
void ir_call(IRFunc *f, IRHelper *fn, int d, int a, int b, int c, int e);
void ir_set_label(IRFunc *f, int label);
void ir_br(IRFunc *f, int label);
void ir_brcond(IRFunc *f, int cond, int a, int b, int label);
void ir_brcondi(IRFunc *f, int cond, int a, uint32_t imm, int label);
void ir_entry(IRFunc *f, uint32_t ninsns, uint32_t irq_mask);
void ir_insn(IRFunc *f, uint32_t pc);
void ir_goto_tb(IRFunc *f, int slot);
void ir_exit(IRFunc *f, uint64_t val);
void ir_goto_ptr(IRFunc *f, uint32_t hint);
void ir_check_exit(IRFunc *f, uint32_t pc);

/* Evaluate a condition (shared by the optimizer and the IR interpreter). */
bool ir_cond_eval(int cond, uint32_t a, uint32_t b);
/* Evaluate a pure one- or two-operand op; false when opc is not one. */
bool ir_fold(int opc, uint32_t a, uint32_t b, uint32_t *out);
/* Does the op write t0 as its result (and nothing else of note)? */
bool ir_op_pure(const IROp *op);
/* The temps an op reads (tcg/opt.c); returns how many. */
int ir_op_uses(const IROp *op, int out[5]);
void ir_dump(const IRFunc *f, FILE *out);

/* tcg/opt.c: constant folding and propagation, dead code and dead
 * global-store elimination. */
void ir_optimize(IRFunc *f);
/* Host registers for locals (temps past the globals), shared by the JIT
 * backends: one register per local for its whole interval, by a linear
 * scan over the block (which branches only forward). A local whose
 * interval spans a call gets a register from pool[first_saved..] (the
 * callee-saved ones); others may take any. With uses, only locals read
 * at least twice are candidates. treg[t] = host register or -1. */
#define IR_MAX_POOL 32
void ir_alloc_locals(const IRFunc *f, const int8_t *pool, int npool,
                     int first_saved, const uint16_t *uses, int8_t *treg);
#endif
