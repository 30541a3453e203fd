/* Decoded x86 instructions: Kestrel's own form of what capstone reports,
 * shared by the interpreter and the translator.
 *
 * x86_decode() turns guest bytes into a struct insn. Everything an engine
 * needs is resolved here once (register numbers in Kestrel's encoding,
 * effective segments, operand and address sizes, relative branch
 * displacements), so executing an insn never looks at capstone again and
 * a cached insn is valid for as long as its bytes are unchanged.
 *
 * Operation ids are named after capstone's mnemonics (OP_ADD for
 * X86_INS_ADD, ...); the list below is the set of operations Kestrel
 * implements. An encoding capstone rejects, or decodes to an operation not
 * in this list, or with LOCK where LOCK is not allowed, decodes to
 * OP_INVALID (the engines raise #UD for it).
 */
#ifndef CPU_DECODE_H
#define CPU_DECODE_H
#include <stdint.h>
#include <stdbool.h>

/* X(name): an operation, X86_INS_<name> in capstone. Grouped by family. */
#define INSN_OPS(X) \
    /* arithmetic and logic */ \
    X(ADD) X(ADC) X(SUB) X(SBB) X(AND) X(OR) X(XOR) X(CMP) X(TEST) \
    X(INC) X(DEC) X(NEG) X(NOT) \
    X(ROL) X(ROR) X(RCL) X(RCR) X(SHL) X(SAL) X(SHR) X(SAR) X(SHLD) X(SHRD) \
    X(MUL) X(IMUL) X(DIV) X(IDIV) \
    X(DAA) X(DAS) X(AAA) X(AAS) X(AAM) X(AAD) \
    X(BT) X(BTS) X(BTR) X(BTC) X(BSF) X(BSR) X(BSWAP) \
    X(XADD) X(CMPXCHG) X(CMPXCHG8B) \
    /* conditional moves and sets (cond holds the condition) */ \
    X(CMOVO) X(CMOVNO) X(CMOVB) X(CMOVAE) X(CMOVE) X(CMOVNE) X(CMOVBE) \
    X(CMOVA) X(CMOVS) X(CMOVNS) X(CMOVP) X(CMOVNP) X(CMOVL) X(CMOVGE) \
    X(CMOVLE) X(CMOVG) \
    X(SETO) X(SETNO) X(SETB) X(SETAE) X(SETE) X(SETNE) X(SETBE) X(SETA) \
    X(SETS) X(SETNS) X(SETP) X(SETNP) X(SETL) X(SETGE) X(SETLE) X(SETG) \
    /* data movement */ \
    X(MOV) X(MOVABS) X(MOVSX) X(MOVZX) X(XCHG) X(LEA) X(XLATB) \
    X(PUSH) X(POP) X(PUSHAW) X(PUSHAL) X(POPAW) X(POPAL) \
    X(PUSHF) X(PUSHFD) X(POPF) X(POPFD) X(LAHF) X(SAHF) \
    X(CBW) X(CWDE) X(CWD) X(CDQ) X(SALC) \
    X(LDS) X(LES) X(LFS) X(LGS) X(LSS) \
    /* control flow */ \
    X(JO) X(JNO) X(JB) X(JAE) X(JE) X(JNE) X(JBE) X(JA) \
    X(JS) X(JNS) X(JP) X(JNP) X(JL) X(JGE) X(JLE) X(JG) \
    X(JCXZ) X(JECXZ) X(LOOP) X(LOOPE) X(LOOPNE) \
    X(JMP) X(LJMP) X(CALL) X(LCALL) X(RET) X(RETF) \
    X(ENTER) X(LEAVE) X(BOUND) \
    X(INT) X(INT3) X(INTO) X(INT1) X(IRET) X(IRETD) \
    /* strings (the REP prefixes are in insn.prefixes) */ \
    X(MOVSB) X(MOVSW) X(MOVSD) X(CMPSB) X(CMPSW) X(CMPSD) \
    X(SCASB) X(SCASW) X(SCASD) X(LODSB) X(LODSW) X(LODSD) \
    X(STOSB) X(STOSW) X(STOSD) X(INSB) X(INSW) X(INSD) \
    X(OUTSB) X(OUTSW) X(OUTSD) \
    /* flags, I/O, misc */ \
    X(CLC) X(STC) X(CMC) X(CLD) X(STD) X(CLI) X(STI) \
    X(IN) X(OUT) X(NOP) X(PAUSE) X(UD2) X(HLT) X(CPUID) X(RDTSC) \
    X(RDMSR) X(WRMSR) X(RDPMC) \
    /* system */ \
    X(LGDT) X(LIDT) X(SGDT) X(SIDT) X(LLDT) X(SLDT) X(LTR) X(STR) \
    X(LMSW) X(SMSW) X(CLTS) X(INVLPG) X(INVD) X(WBINVD) \
    X(LAR) X(LSL) X(VERR) X(VERW) X(ARPL) X(SYSENTER) X(SYSEXIT) \
    /* x87 state (cpu/fpu.c) */ \
    X(WAIT) X(FNINIT) X(FNCLEX) X(FNSTSW) X(FNSTCW) X(FLDCW) \
    X(FNSAVE) X(FRSTOR) X(FNSTENV) X(FLDENV) X(FXSAVE) X(FXRSTOR) \
    X(FLD) X(FST) X(FSTP) X(FILD) X(FIST) X(FISTP) X(FLD1) X(FLDZ) \
    X(FXCH) X(FCHS) X(FABS) X(FADD) X(FSUB) X(FMUL) X(FDIV) X(FFREE) \
    X(FNOP) X(FTST) X(FXAM) X(FCOM) X(FCOMP) X(FUCOM) X(FUCOMP) \
    X(FCOMPP) X(FUCOMPP) X(FADDP) X(FSUBP) X(FMULP) X(FDIVP) \
    X(FSUBR) X(FSUBRP) X(FDIVR) X(FDIVRP) X(FCOMI) X(FUCOMI) \
    X(FCOMIP) X(FUCOMIP) \
    X(FIADD) X(FISUB) X(FISUBR) X(FIMUL) X(FIDIV) X(FIDIVR) X(FICOM) \
    X(FICOMP) X(FSQRT) X(FRNDINT) X(FSCALE) X(FPREM) X(FPREM1) X(FXTRACT) \
    X(FLDPI) X(FLDL2E) X(FLDL2T) X(FLDLG2) X(FLDLN2) X(FINCSTP) X(FDECSTP) \
    X(FSIN) X(FCOS) X(FSINCOS) X(FPTAN) X(FPATAN) X(F2XM1) X(FYL2X) \
    X(FYL2XP1) X(FCMOVB) X(FCMOVE) X(FCMOVBE) X(FCMOVU) X(FCMOVNB) \
    X(FCMOVNE) X(FCMOVNBE) X(FCMOVNU) X(FFREEP) X(FBLD) X(FBSTP)

enum insn_op {
    OP_INVALID = 0,
#define INSN_OP_ENUM(n) OP_##n,
    INSN_OPS(INSN_OP_ENUM)
#undef INSN_OP_ENUM
    OP_COUNT
};

/* Operand kinds. */
enum { OPK_NONE, OPK_REG, OPK_MEM, OPK_IMM };

/* Register classes of an OPK_REG operand; reg is the number within it:
 * GPR: 0-7 in encoding order (EAX..EDI); for size 1, 0-3 are AL CL DL BL
 *      and 4-7 are AH CH DH BH, as in the ModR/M encoding.
 * SEG: R_ES..R_GS (cpu.h). CR/DR: the register number. ST: ST(i). */
enum { RC_GPR, RC_SEG, RC_CR, RC_DR, RC_ST, RC_OTHER };

#define INSN_NOREG 0xff

typedef struct InsnOperand {
    uint8_t kind;         /* OPK_* */
    uint8_t size;         /* bytes: 1, 2, 4, 6 (far pointer / pseudo-desc),
                             8, 10, or the FPU environment sizes */
    uint8_t rclass;       /* OPK_REG: RC_* */
    uint8_t reg;          /* OPK_REG: register number */
    /* OPK_MEM: effective segment (override, or DS/SS by the base register,
     * or ES for string destinations), base and index GPR numbers (or
     * INSN_NOREG), scale 1/2/4/8, displacement. */
    int8_t seg;
    uint8_t base, index, scale;
    int32_t disp;
    /* OPK_IMM: value sign- or zero-extended to 32 bits as the manuals
     * define for the instruction; for relative branches the displacement
     * from the next instruction. */
    uint32_t imm;
} InsnOperand;

/* insn.prefixes */
#define PFX_REP    0x01    /* F3 (REP / REPE) */
#define PFX_REPNE  0x02    /* F2 */
#define PFX_LOCK   0x04
#define PFX_OPSIZE 0x08    /* 66 present */
#define PFX_ADSIZE 0x10    /* 67 present */
#define PFX_SEG    0x20    /* a segment override is present (seg_override) */

/* insn.iflags: properties engines care about. */
#define IF_BRANCH   0x01   /* changes EIP other than to the next insn */
#define IF_REL      0x02   /* operand 0 is a relative displacement */
#define IF_STRING   0x04
#define IF_PRIV     0x08   /* system: may change mode/state, end a block */
#define IF_MODRM    0x10   /* has a ModR/M byte (modrm is valid) */

typedef struct Insn {
    uint16_t op;          /* enum insn_op */
    uint8_t len;          /* bytes, 1..15 */
    uint8_t nops;         /* operands in ops[] (capstone's order: dest first) */
    uint8_t opsize;       /* operand size: 2 or 4 */
    uint8_t addrsize;     /* address size: 2 or 4 */
    uint8_t prefixes;     /* PFX_* */
    int8_t seg_override;  /* R_ES..R_GS or SEG_NONE */
    uint8_t cond;         /* Jcc/SETcc/CMOVcc: condition 0-15 (tttn) */
    uint8_t modrm;
    uint8_t iflags;       /* IF_* */
    uint8_t opcode[3];    /* opcode bytes as capstone reports them */
    /* EF_* bits the insn may read (a safe superset), and the bits it
     * writes or leaves undefined every time it completes (a safe subset:
     * a shift by CL, whose count may be 0, writes none). From Kestrel's
     * own table for the integer set, capstone's lists otherwise. */
    uint32_t flags_read;
    uint32_t flags_written;
    InsnOperand ops[4];
} Insn;

/* Decode one instruction from bytes[0..len) in 16- or 32-bit code
 * (mode16or32 = 16 or 32). Returns the instruction length (> 0) with *out
 * filled, or 0 when the bytes are not a valid instruction for Kestrel's
 * CPU (out->op = OP_INVALID). When the caller could supply fewer than 15
 * bytes (a page or the segment limit ended) and decoding fails, the
 * instruction may continue there: the caller touches the next byte so
 * that its #PF/#GP comes first, and raises #UD only if that succeeds. */
int x86_decode(const uint8_t *bytes, int len, int mode16or32, Insn *out);
/* After x86_decode failed on 15 bytes: true when they start a valid
 * instruction that redundant prefixes make longer than 15 bytes (#GP(0)
 * on the CPU, where an invalid one is #UD). */
bool x86_too_long(const uint8_t bytes[15], int mode16or32);
/* The operation's name ("add"), for traces and tests. */
const char *insn_op_name(int op);
#endif
