/* capstone -> struct insn (see decode.h).
 *
 * capstone does the hard part (prefixes, ModR/M, SIB, lengths). This file
 * maps its ids and registers to Kestrel's numbering, applies the rules that
 * capstone does not enforce (LOCK validity, P6-only operations), and holds
 * the one table of encodings capstone 4.0.2 gets wrong (decode_fixups[]).
 */
#include <string.h>
#include <capstone.h>
#include "cpu/cpu.h"
#include "cpu/decode.h"

/* capstone instruction id -> operation. */
static const uint16_t cs_to_op[X86_INS_ENDING] = {
#define INSN_MAP(n) [X86_INS_##n] = OP_##n,
    INSN_OPS(INSN_MAP)
#undef INSN_MAP
};

static const char *const op_names[OP_COUNT] = {
    [OP_INVALID] = "(bad)",
#define INSN_NAME(n) [OP_##n] = #n,
    INSN_OPS(INSN_NAME)
#undef INSN_NAME
};

const char *insn_op_name(int op)
{
    return op >= 0 && op < OP_COUNT ? op_names[op] : "?";
}

/* capstone register -> (class, number). size comes from the operand. */
struct regmap { uint8_t valid, rclass, reg; };
#define GPR(r, n) [X86_REG_##r] = { 1, RC_GPR, n }
#define SEG(r, n) [X86_REG_##r] = { 1, RC_SEG, n }
static const struct regmap regmap[X86_REG_ENDING] = {
    GPR(AL, 0), GPR(CL, 1), GPR(DL, 2), GPR(BL, 3),
    GPR(AH, 4), GPR(CH, 5), GPR(DH, 6), GPR(BH, 7),
    GPR(AX, 0), GPR(CX, 1), GPR(DX, 2), GPR(BX, 3),
    GPR(SP, 4), GPR(BP, 5), GPR(SI, 6), GPR(DI, 7),
    GPR(EAX, 0), GPR(ECX, 1), GPR(EDX, 2), GPR(EBX, 3),
    GPR(ESP, 4), GPR(EBP, 5), GPR(ESI, 6), GPR(EDI, 7),
    SEG(ES, R_ES), SEG(CS, R_CS), SEG(SS, R_SS), SEG(DS, R_DS),
    SEG(FS, R_FS), SEG(GS, R_GS),
    [X86_REG_CR0] = { 1, RC_CR, 0 }, [X86_REG_CR1] = { 1, RC_CR, 1 },
    [X86_REG_CR2] = { 1, RC_CR, 2 }, [X86_REG_CR3] = { 1, RC_CR, 3 },
    [X86_REG_CR4] = { 1, RC_CR, 4 }, [X86_REG_CR5] = { 1, RC_CR, 5 },
    [X86_REG_CR6] = { 1, RC_CR, 6 }, [X86_REG_CR7] = { 1, RC_CR, 7 },
    [X86_REG_DR0] = { 1, RC_DR, 0 }, [X86_REG_DR1] = { 1, RC_DR, 1 },
    [X86_REG_DR2] = { 1, RC_DR, 2 }, [X86_REG_DR3] = { 1, RC_DR, 3 },
    [X86_REG_DR4] = { 1, RC_DR, 4 }, [X86_REG_DR5] = { 1, RC_DR, 5 },
    [X86_REG_DR6] = { 1, RC_DR, 6 }, [X86_REG_DR7] = { 1, RC_DR, 7 },
    [X86_REG_ST0] = { 1, RC_ST, 0 }, [X86_REG_ST1] = { 1, RC_ST, 1 },
    [X86_REG_ST2] = { 1, RC_ST, 2 }, [X86_REG_ST3] = { 1, RC_ST, 3 },
    [X86_REG_ST4] = { 1, RC_ST, 4 }, [X86_REG_ST5] = { 1, RC_ST, 5 },
    [X86_REG_ST6] = { 1, RC_ST, 6 }, [X86_REG_ST7] = { 1, RC_ST, 7 },
};
#undef GPR
#undef SEG

/* Operations that accept LOCK (with a memory destination). */
static const uint8_t lockable[OP_COUNT] = {
    [OP_ADD] = 1, [OP_ADC] = 1, [OP_AND] = 1, [OP_BTC] = 1, [OP_BTR] = 1,
    [OP_BTS] = 1, [OP_CMPXCHG] = 1, [OP_CMPXCHG8B] = 1, [OP_DEC] = 1,
    [OP_INC] = 1, [OP_NEG] = 1, [OP_NOT] = 1, [OP_OR] = 1, [OP_SBB] = 1,
    [OP_SUB] = 1, [OP_XOR] = 1, [OP_XADD] = 1, [OP_XCHG] = 1,
};

/* Encodings capstone 4.0.2 decodes wrongly or rejects, and what they are
 * on a P6. Each entry: the opcode byte after prefixes (after 0F when
 * twobyte), the ModR/M forms it applies to (reg field, or -1 for any; and
 * whether only register operands, mod = 3), and the opcode byte whose
 * decoding (same length, same operands) gives the right answer. Each is
 * tested in tests/unit/test_decode.c. */
static const struct decode_fixup {
    uint8_t twobyte;
    uint8_t opcode;
    int8_t reg;
    uint8_t mod3_only;
    uint8_t as_opcode;
} decode_fixups[] = {
    /* 82 /r ib is an alias of 80 /r ib outside 64-bit mode; capstone
     * rejects some of its forms in 16-bit code. */
    { 0, 0x82, -1, 0, 0x80 },
    /* 0F 1A-1F with a register operand are reserved NOPs (0F 1F /0 is the
     * documented NOP r/m); capstone rejects them (the MPX/CET forms) and
     * only accepts 0F 19 that way. */
    { 1, 0x1a, -1, 1, 0x19 }, { 1, 0x1b, -1, 1, 0x19 },
    /* 0F 18 is a hint NOP on a P6 without SSE (PREFETCHh later): decode
     * every form as the NOP it is here; capstone rejects its register
     * forms. */
    { 1, 0x18, -1, 0, 0x19 },
    { 1, 0x1c, -1, 1, 0x19 }, { 1, 0x1d, -1, 1, 0x19 },
    { 1, 0x1e, -1, 1, 0x19 }, { 1, 0x1f, -1, 1, 0x19 },
};

/* Encodings capstone decodes as a later extension's instruction that a
 * P6 executes as the older one it shares the opcode with, the prefix
 * being ignored: F3 0F BC/BD are BSF/BSR without BMI1/LZCNT (Linux's
 * __ffs() emits "rep; bsf" and runs it on every CPU). */
static const struct { uint16_t cs_id, op; } cs_older[] = {
    { X86_INS_TZCNT, OP_BSF },
    { X86_INS_LZCNT, OP_BSR },
};

/* One-byte opcodes whose operation capstone 4.0.2 names without regard
 * to the operand size (it reports CWDE/CDQ for 98/99 in 16-bit code). */
static const struct opsize_fixup {
    uint8_t opcode;
    uint16_t op16, op32;
} opsize_fixups[] = {
    { 0x98, OP_CBW, OP_CWDE },
    { 0x99, OP_CWD, OP_CDQ },
};

/* Operations whose capstone decoding needs no operands of ours or whose
 * operands the engine takes from fixed registers (strings). */
static uint8_t op_iflags(int op)
{
    switch (op) {
    case OP_JO ... OP_JG: case OP_JCXZ: case OP_JECXZ: case OP_LOOP:
    case OP_LOOPE: case OP_LOOPNE: case OP_JMP: case OP_CALL:
        return IF_BRANCH;
    case OP_LJMP: case OP_LCALL: case OP_RET: case OP_RETF: case OP_INT:
    case OP_INT3: case OP_INTO: case OP_INT1: case OP_IRET: case OP_IRETD:
    case OP_SYSENTER: case OP_SYSEXIT:
        return IF_BRANCH | IF_PRIV;
    case OP_MOVSB ... OP_OUTSD:
        return IF_STRING;
    case OP_LGDT ... OP_ARPL: case OP_HLT: case OP_CLI: case OP_STI:
    case OP_POPF: case OP_POPFD: case OP_LDS: case OP_LES: case OP_LFS:
    case OP_LGS: case OP_LSS: case OP_WRMSR: case OP_RDMSR:
    case OP_CPUID: case OP_RDTSC: case OP_RDPMC:
        return IF_PRIV;
    default:
        return 0;
    }
}

static uint32_t cs_flags_read(uint64_t f)
{
    uint32_t r = 0;
    if (f & (X86_EFLAGS_TEST_OF | X86_EFLAGS_PRIOR_OF)) r |= EF_OF;
    if (f & (X86_EFLAGS_TEST_SF | X86_EFLAGS_PRIOR_SF)) r |= EF_SF;
    if (f & (X86_EFLAGS_TEST_ZF | X86_EFLAGS_PRIOR_ZF)) r |= EF_ZF;
    if (f & (X86_EFLAGS_TEST_PF | X86_EFLAGS_PRIOR_PF)) r |= EF_PF;
    if (f & (X86_EFLAGS_TEST_CF | X86_EFLAGS_PRIOR_CF)) r |= EF_CF;
    if (f & (X86_EFLAGS_TEST_AF | X86_EFLAGS_PRIOR_AF)) r |= EF_AF;
    if (f & (X86_EFLAGS_TEST_DF | X86_EFLAGS_PRIOR_DF)) r |= EF_DF;
    if (f & (X86_EFLAGS_TEST_IF | X86_EFLAGS_PRIOR_IF)) r |= EF_IF;
    if (f & (X86_EFLAGS_TEST_TF | X86_EFLAGS_PRIOR_TF)) r |= EF_TF;
    if (f & (X86_EFLAGS_TEST_NT | X86_EFLAGS_PRIOR_NT)) r |= EF_NT;
    return r;
}

static uint32_t cs_flags_written(uint64_t f)
{
    static const struct { uint64_t cs; uint32_t ef; } w[] = {
        { X86_EFLAGS_MODIFY_OF | X86_EFLAGS_RESET_OF | X86_EFLAGS_SET_OF |
          X86_EFLAGS_UNDEFINED_OF, EF_OF },
        { X86_EFLAGS_MODIFY_SF | X86_EFLAGS_RESET_SF | X86_EFLAGS_SET_SF |
          X86_EFLAGS_UNDEFINED_SF, EF_SF },
        { X86_EFLAGS_MODIFY_ZF | X86_EFLAGS_RESET_ZF | X86_EFLAGS_SET_ZF |
          X86_EFLAGS_UNDEFINED_ZF, EF_ZF },
        { X86_EFLAGS_MODIFY_PF | X86_EFLAGS_RESET_PF | X86_EFLAGS_SET_PF |
          X86_EFLAGS_UNDEFINED_PF, EF_PF },
        { X86_EFLAGS_MODIFY_CF | X86_EFLAGS_RESET_CF | X86_EFLAGS_SET_CF |
          X86_EFLAGS_UNDEFINED_CF, EF_CF },
        { X86_EFLAGS_MODIFY_AF | X86_EFLAGS_RESET_AF | X86_EFLAGS_SET_AF |
          X86_EFLAGS_UNDEFINED_AF, EF_AF },
        { X86_EFLAGS_MODIFY_DF | X86_EFLAGS_RESET_DF | X86_EFLAGS_SET_DF,
          EF_DF },
        { X86_EFLAGS_MODIFY_IF | X86_EFLAGS_RESET_IF | X86_EFLAGS_SET_IF,
          EF_IF },
        { X86_EFLAGS_MODIFY_TF | X86_EFLAGS_RESET_TF, EF_TF },
        { X86_EFLAGS_MODIFY_NT | X86_EFLAGS_RESET_NT, EF_NT },
        { X86_EFLAGS_MODIFY_RF | X86_EFLAGS_RESET_RF, EF_RF },
        { X86_EFLAGS_RESET_AC, EF_AC },
    };
    uint32_t r = 0;
    for (unsigned i = 0; i < sizeof w / sizeof w[0]; i++)
        if (f & w[i].cs)
            r |= w[i].ef;
    return r;
}

/* EFLAGS use per operation, in Kestrel's own terms (capstone 4.0.2's
 * lists are incomplete: it says ADC does not read CF). flags_read is what
 * the instruction may read (a superset is safe); flags_written is what it
 * writes, or leaves undefined, every time it completes (a subset is
 * safe), so a shift by CL, whose count may be 0, writes nothing here. */
static const uint32_t cond_reads[8] = {
    EF_OF, EF_CF, EF_ZF, EF_CF | EF_ZF, EF_SF, EF_PF, EF_SF | EF_OF,
    EF_ZF | EF_SF | EF_OF,
};

static void set_flag_use(Insn *in)
{
    uint32_t r = 0, w = 0;
    int op = in->op;
    bool imm_count = in->nops >= 2 && in->ops[in->nops - 1].kind == OPK_IMM;
    bool count_nz = imm_count && (in->ops[in->nops - 1].imm & 31) != 0;
    if (op == OP_SHL || op == OP_SAL || op == OP_SHR || op == OP_SAR) {
        if (in->nops < 2 || count_nz)
            w = EF_ARITH;
    } else if (op == OP_ROL || op == OP_ROR || op == OP_RCL || op == OP_RCR) {
        if (in->nops < 2 || count_nz)
            w = EF_CF | EF_OF;
        if (op == OP_RCL || op == OP_RCR)
            r = EF_CF;
    } else if (op == OP_SHLD || op == OP_SHRD) {
        if (count_nz)
            w = EF_ARITH;
    } else if ((op >= OP_JO && op <= OP_JG) ||
               (op >= OP_SETO && op <= OP_SETG) ||
               (op >= OP_CMOVO && op <= OP_CMOVG)) {
        r = cond_reads[in->cond >> 1];
    } else if (in->iflags & IF_STRING) {
        r = EF_DF;
        if (op >= OP_CMPSB && op <= OP_SCASD)
            if (!(in->prefixes & (PFX_REP | PFX_REPNE)))
                w = EF_ARITH;
        if (op >= OP_CMPSB && op <= OP_SCASD &&
            (in->prefixes & (PFX_REP | PFX_REPNE)))
            r |= EF_ZF;
    } else {
        switch (op) {
        case OP_ADD: case OP_SUB: case OP_CMP: case OP_NEG: case OP_AND:
        case OP_OR: case OP_XOR: case OP_TEST: case OP_MUL: case OP_IMUL:
        case OP_DIV: case OP_IDIV: case OP_AAM: case OP_AAD: case OP_XADD:
        case OP_CMPXCHG:
            w = EF_ARITH; break;
        case OP_ADC: case OP_SBB: r = EF_CF; w = EF_ARITH; break;
        case OP_INC: case OP_DEC: w = EF_ARITH & ~EF_CF; break;
        case OP_DAA: case OP_DAS: r = EF_CF | EF_AF; w = EF_ARITH; break;
        case OP_AAA: case OP_AAS: r = EF_AF; w = EF_ARITH; break;
        case OP_BT: case OP_BTS: case OP_BTR: case OP_BTC: w = EF_CF; break;
        case OP_BSF: case OP_BSR: case OP_CMPXCHG8B: case OP_ARPL:
        case OP_LAR: case OP_LSL: case OP_VERR: case OP_VERW:
            w = EF_ZF; break;
        case OP_LOOPE: case OP_LOOPNE: r = EF_ZF; break;
        case OP_CLC: case OP_STC: w = EF_CF; break;
        case OP_CMC: case OP_SALC: r = EF_CF; w = op == OP_CMC ? EF_CF : 0;
            break;
        case OP_LAHF: r = EF_ARITH & ~EF_OF; break;
        case OP_SAHF: w = EF_ARITH & ~EF_OF; break;
        case OP_CLD: case OP_STD: w = EF_DF; break;
        case OP_INTO: r = EF_OF; break;
        case OP_PUSHF: case OP_PUSHFD: case OP_INT: case OP_INT3:
        case OP_INT1: case OP_LCALL: case OP_LJMP: case OP_SYSENTER:
        case OP_SYSEXIT: case OP_IRET: case OP_IRETD: case OP_POPF:
        case OP_POPFD: case OP_RETF: case OP_CLI: case OP_STI:
        case OP_HLT:
            /* these save, restore or depend on the whole register */
            r = EF_ARITH | EF_DF | EF_TF | EF_IF; break;
        case OP_FCOMI: case OP_FUCOMI: case OP_FCOMIP: case OP_FUCOMIP:
            w = EF_ARITH; break;
        case OP_FCMOVB: case OP_FCMOVNB: r = EF_CF; break;
        case OP_FCMOVE: case OP_FCMOVNE: r = EF_ZF; break;
        case OP_FCMOVBE: case OP_FCMOVNBE: r = EF_CF | EF_ZF; break;
        case OP_FCMOVU: case OP_FCMOVNU: r = EF_PF; break;
        default:
            /* the rest of the x87 leaves EFLAGS alone (capstone's lists
             * say otherwise for some); MOV, LEA and the like touch none,
             * and there capstone agrees */
            if (op < OP_WAIT)
                return;
            break;
        }
    }
    in->flags_read = r;
    in->flags_written = w;
}

/* One capstone handle per mode and thread (capstone handles are not
 * thread-safe; the translator may decode on another thread). */
static _Thread_local csh handles[2];
static _Thread_local cs_insn *scratch[2];

static cs_insn *cs_get(int mode16or32, csh *h)
{
    int m = mode16or32 == 32;
    if (!scratch[m]) {
        if (cs_open(CS_ARCH_X86, m ? CS_MODE_32 : CS_MODE_16, &handles[m])
            != CS_ERR_OK)
            return NULL;
        cs_option(handles[m], CS_OPT_DETAIL, CS_OPT_ON);
        scratch[m] = cs_malloc(handles[m]);
    }
    *h = handles[m];
    return scratch[m];
}

static bool is_prefix(uint8_t b)
{
    return b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e || b == 0x64 ||
           b == 0x65 || b == 0x66 || b == 0x67 || b == 0xf0 || b == 0xf2 ||
           b == 0xf3;
}

static int cs_decode(const uint8_t *bytes, int len, int mode, cs_insn **out)
{
    csh h;
    cs_insn *ci = cs_get(mode, &h);
    if (!ci)
        return 0;
    const uint8_t *p = bytes;
    size_t n = (size_t)len;
    uint64_t addr = 0;
    if (!cs_disasm_iter(h, &p, &n, &addr, ci))
        return 0;
    *out = ci;
    return ci->size;
}

static int seg_of_csreg(int r)
{
    switch (r) {
    case X86_REG_ES: return R_ES;
    case X86_REG_CS: return R_CS;
    case X86_REG_SS: return R_SS;
    case X86_REG_DS: return R_DS;
    case X86_REG_FS: return R_FS;
    case X86_REG_GS: return R_GS;
    default: return SEG_NONE;
    }
}

static int fail(Insn *out, int len)
{
    out->op = OP_INVALID;
    out->len = len > 0 ? len : 1;
    return 0;
}

int x86_decode(const uint8_t *bytes, int len, int mode16or32, Insn *out)
{
    memset(out, 0, sizeof *out);
    out->seg_override = SEG_NONE;
    if (len <= 0)
        return fail(out, 1);
    if (len > 15)
        len = 15;

    uint8_t buf[15];
    memcpy(buf, bytes, len);
    /* Skip prefixes to find the opcode byte for the fixup table. */
    int pos = 0;
    while (pos < len && is_prefix(buf[pos]))
        pos++;
    /* capstone 4.0.2 drops a 66 prefix that comes before F2/F3 (66 F3 AB
     * decodes as REP STOSD). The order of legacy prefixes means nothing
     * to the CPU, so capstone is given the LOCK/REP group first. */
    {
        uint8_t pre[15];
        int np = 0;
        for (int i = 0; i < pos; i++)
            if (buf[i] == 0xf0 || buf[i] == 0xf2 || buf[i] == 0xf3)
                pre[np++] = buf[i];
        for (int i = 0; i < pos; i++)
            if (buf[i] != 0xf0 && buf[i] != 0xf2 && buf[i] != 0xf3)
                pre[np++] = buf[i];
        memcpy(buf, pre, (size_t)pos);
    }
    int fixed = -1, fixpos = 0;
    for (unsigned i = 0; pos < len && fixed < 0 &&
                         i < sizeof decode_fixups / sizeof *decode_fixups; i++) {
        const struct decode_fixup *f = &decode_fixups[i];
        int op = pos + (f->twobyte ? 1 : 0);
        if (op + 1 >= len || (f->twobyte && buf[pos] != 0x0f) ||
            buf[op] != f->opcode)
            continue;
        uint8_t modrm = buf[op + 1];
        if (f->reg >= 0 && ((modrm >> 3) & 7) != f->reg)
            continue;
        if (f->mod3_only && (modrm >> 6) != 3)
            continue;
        buf[op] = f->as_opcode;
        fixed = (int)i;
        fixpos = op - pos;
    }

    cs_insn *ci;
    int n = cs_decode(buf, len, mode16or32, &ci);
    if (n <= 0 || n > 15)
        return fail(out, n);
    cs_x86 *x = &ci->detail->x86;

    out->len = (uint8_t)n;
    bool p66 = false, p67 = false;
    /* Walk the prefix bytes ourselves: capstone keeps only one per group
     * and sometimes drops REP (F3 90). The last segment override wins. */
    for (int i = 0; i < pos && i < n; i++) {
        switch (bytes[i]) {
        case 0xf3: out->prefixes |= PFX_REP; out->prefixes &= ~PFX_REPNE; break;
        case 0xf2: out->prefixes |= PFX_REPNE; out->prefixes &= ~PFX_REP; break;
        case 0xf0: out->prefixes |= PFX_LOCK; break;
        case 0x66: p66 = true; break;
        case 0x67: p67 = true; break;
        case 0x26: out->seg_override = R_ES; break;
        case 0x2e: out->seg_override = R_CS; break;
        case 0x36: out->seg_override = R_SS; break;
        case 0x3e: out->seg_override = R_DS; break;
        case 0x64: out->seg_override = R_FS; break;
        case 0x65: out->seg_override = R_GS; break;
        }
    }
    if (p66) out->prefixes |= PFX_OPSIZE;
    if (p67) out->prefixes |= PFX_ADSIZE;
    if (out->seg_override != SEG_NONE) out->prefixes |= PFX_SEG;
    bool m32 = mode16or32 == 32;
    out->opsize = (m32 ^ p66) ? 4 : 2;
    out->addrsize = (m32 ^ p67) ? 4 : 2;
    memcpy(out->opcode, x->opcode, 3);
    if (fixed >= 0)
        out->opcode[fixpos] = decode_fixups[fixed].opcode;
    out->modrm = x->modrm;

    int op = ci->id < X86_INS_ENDING ? cs_to_op[ci->id] : OP_INVALID;
    for (unsigned i = 0; i < sizeof cs_older / sizeof *cs_older; i++)
        if (ci->id == cs_older[i].cs_id)
            op = cs_older[i].op;
    /* capstone names the SSE forms MOVSD/CMPSD too; those are 0F-map. */
    if ((op == OP_MOVSD || op == OP_CMPSD) && x->opcode[0] == 0x0f)
        op = OP_INVALID;
    if (op == OP_NOP && (out->prefixes & PFX_REP) && x->opcode[0] == 0x90)
        op = OP_PAUSE;
    for (unsigned i = 0; i < sizeof opsize_fixups / sizeof *opsize_fixups; i++)
        if (x->opcode[0] == opsize_fixups[i].opcode && op != OP_INVALID)
            op = out->opsize == 2 ? opsize_fixups[i].op16
                                  : opsize_fixups[i].op32;
    out->op = (uint16_t)op;
    if (op == OP_INVALID)
        return fail(out, n);
    if ((out->prefixes & PFX_LOCK) &&
        (!lockable[op] || x->op_count < 1 || x->operands[0].type != X86_OP_MEM))
        return fail(out, n);

    out->iflags = op_iflags(op);
    if (op >= OP_JO && op <= OP_JG)
        out->cond = (uint8_t)(op - OP_JO);
    else if (op >= OP_SETO && op <= OP_SETG)
        out->cond = (uint8_t)(op - OP_SETO);
    else if (op >= OP_CMOVO && op <= OP_CMOVG)
        out->cond = (uint8_t)(op - OP_CMOVO);
    out->flags_read = cs_flags_read(x->eflags);
    out->flags_written = cs_flags_written(x->eflags);

    int nops = x->op_count > 4 ? 4 : x->op_count;
    out->nops = (uint8_t)nops;
    for (int i = 0; i < nops; i++) {
        cs_x86_op *o = &x->operands[i];
        InsnOperand *d = &out->ops[i];
        d->size = o->size;
        d->base = d->index = INSN_NOREG;
        switch (o->type) {
        case X86_OP_REG:
            if (o->reg <= 0 || o->reg >= X86_REG_ENDING || !regmap[o->reg].valid) {
                d->kind = OPK_REG;
                d->rclass = RC_OTHER;
                d->reg = 0;
                break;
            }
            d->kind = OPK_REG;
            d->rclass = regmap[o->reg].rclass;
            d->reg = regmap[o->reg].reg;
            break;
        case X86_OP_IMM:
            d->kind = OPK_IMM;
            d->imm = (uint32_t)o->imm;
            break;
        case X86_OP_MEM: {
            d->kind = OPK_MEM;
            int b = o->mem.base, ix = o->mem.index;
            if (b > 0 && b < X86_REG_ENDING && regmap[b].valid &&
                regmap[b].rclass == RC_GPR)
                d->base = regmap[b].reg;
            if (ix > 0 && ix < X86_REG_ENDING && regmap[ix].valid &&
                regmap[ix].rclass == RC_GPR)
                d->index = regmap[ix].reg;
            d->scale = (uint8_t)(o->mem.scale ? o->mem.scale : 1);
            d->disp = (int32_t)o->mem.disp;
            int s = seg_of_csreg(o->mem.segment);
            if (s == SEG_NONE)
                s = out->seg_override;
            if (s == SEG_NONE)
                s = (d->base == R_EBP || d->base == R_ESP) ? R_SS : R_DS;
            d->seg = (int8_t)s;
            break;
        }
        default:
            d->kind = OPK_NONE;
            break;
        }
    }
    for (int i = 0; i < nops; i++)
        if (out->ops[i].kind == OPK_MEM && x->opcode[0] != 0xa0 &&
            x->opcode[0] != 0xa1 && x->opcode[0] != 0xa2 &&
            x->opcode[0] != 0xa3 && !(out->iflags & IF_STRING))
            out->iflags |= IF_MODRM;

    set_flag_use(out);

    /* Relative branches: capstone reports the target as if the insn were
     * at address 0; turn that back into the displacement. */
    if ((out->iflags & IF_BRANCH) && op != OP_LJMP && op != OP_LCALL &&
        op != OP_RET && op != OP_RETF && nops == 1 &&
        out->ops[0].kind == OPK_IMM &&
        !(op >= OP_INT && op <= OP_IRETD)) {
        out->ops[0].imm -= (uint32_t)n;
        out->iflags |= IF_REL;
    }
    return n;
}

bool x86_too_long(const uint8_t bytes[15], int mode16or32)
{
    /* Keep each prefix byte once, pad the rest with zeros: if that
     * decodes, the real instruction is the decoded body after all the
     * original prefixes. */
    uint8_t tmp[30] = { 0 };
    bool seen[256] = { false };
    int p = 0, n = 0;
    while (p < 15 && is_prefix(bytes[p])) {
        if (!seen[bytes[p]]) {
            seen[bytes[p]] = true;
            tmp[n++] = bytes[p];
        }
        p++;
    }
    if (n == p)
        return false;
    memcpy(tmp + n, bytes + p, (size_t)(15 - p));
    Insn in;
    int len = x86_decode(tmp, 15, mode16or32, &in);
    return len > 0 && len - n + p > 15;
}
