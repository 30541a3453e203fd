/* Comparer for the differential test: reads the cases, the expected
 * results (native CPU) and the actual results (an emulator), prints the
 * first few differing cases with their disassembly, registers, flags and
 * memory, and ends with "N passed, M failed". */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <capstone/capstone.h>
#include "difftest.h"

static const char *prog = "difftest-compare";
static const char *reg_names[8] = { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi" };

typedef struct Results {
    const struct dt_result **by_index;   /* NULL where missing */
    uint32_t n_records;
    int done;                            /* the closing record was seen */
    long bad_at;                         /* offset of garbage, or -1 */
} Results;

static uint8_t *load_file(const char *path, size_t *len, int must_exist)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (!must_exist && errno == ENOENT) { *len = 0; return calloc(1, 1); }
        fprintf(stderr, "%s: cannot open %s: %s\n", prog, path, strerror(errno));
        exit(2);
    }
    size_t cap = 1 << 20, n = 0, r;
    uint8_t *buf = malloc(cap);
    while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    if (!buf) { fprintf(stderr, "%s: out of memory\n", prog); exit(2); }
    *len = n;
    return buf;
}

static const struct dt_case **index_cases(const uint8_t *buf, size_t len, uint32_t *count)
{
    struct dt_file_header h;
    if (len < sizeof h) goto bad;
    memcpy(&h, buf, sizeof h);
    if (h.magic != DT_FILE_MAGIC || h.version != DT_VERSION || h.count > 10000000) goto bad;
    const struct dt_case **v = calloc(h.count ? h.count : 1, sizeof *v);
    size_t off = sizeof h;
    for (uint32_t i = 0; i < h.count; i++) {
        if (off + sizeof(struct dt_case) > len) goto bad;
        const struct dt_case *c = (const void *)(buf + off);
        if (c->magic != DT_CASE_MAGIC || c->index != i || c->code_len > DT_CODE_MAX) goto bad;
        off += sizeof *c + dt_code_padded(c->code_len);
        if (off > len) goto bad;
        v[i] = c;
    }
    *count = h.count;
    return v;
bad:
    fprintf(stderr, "%s: malformed cases file\n", prog);
    exit(2);
}

/* Results arrive as a stream (the guest's may be cut short or have junk
 * from other output before it): find the first record, then walk. */
static Results parse_results(const uint8_t *buf, size_t len, uint32_t count)
{
    Results r = { calloc(count ? count : 1, sizeof *r.by_index), 0, 0, -1 };
    size_t off = 0;
    uint32_t magic = 0;
    while (off + 4 <= len) {
        memcpy(&magic, buf + off, 4);
        if (magic == DT_RES_MAGIC || magic == DT_DONE_MAGIC) break;
        off++;
    }
    while (off + 8 <= len) {
        memcpy(&magic, buf + off, 4);
        if (magic == DT_DONE_MAGIC) { r.done = 1; break; }
        if (magic != DT_RES_MAGIC || off + sizeof(struct dt_result) > len) { r.bad_at = (long)off; break; }
        const struct dt_result *res = (const void *)(buf + off);
        if (res->n_mem > DT_SCRATCH_SIZE || res->index >= count) { r.bad_at = (long)off; break; }
        size_t next = off + sizeof *res + res->n_mem * 4u;
        if (next > len) { r.bad_at = (long)off; break; }
        r.by_index[res->index] = res;
        r.n_records++;
        off = next;
    }
    if (off + 4 > len && !r.done && r.bad_at < 0 && len) r.bad_at = (long)off;
    return r;
}

static void describe_status(uint32_t st, char *out, size_t n)
{
    if (st == DT_ST_OK) snprintf(out, n, "completed");
    else if ((st & 0xf00) == DT_ST_EXC) snprintf(out, n, "exception %u", st & 0xff);
    else if ((st & 0xf00) == DT_ST_NATIVE_SIG) snprintf(out, n, "native signal %u", st & 0xff);
    else if (st == DT_ST_TIMEOUT) snprintf(out, n, "timed out natively");
    else snprintf(out, n, "status %#x", st);
}

static const uint32_t *mem_of(const struct dt_result *r) { return (const uint32_t *)(r + 1); }

/* --strict-flags: compare the flags the SDM leaves undefined too (the
 * issue wants them to match real hardware; the generator never lets a
 * later instruction consume one, so the host's value is deterministic). */
static int strict_flags;

static uint32_t flag_mask(const struct dt_case *c)
{
    return strict_flags ? DT_FL_CASE : c->flag_mask;
}

/* Is scratch offset `off` inside the guest's exception frame? */
static int in_frame(const struct dt_result *r, uint32_t off)
{
    uint32_t esp = r->regs[4] - DT_SCRATCH;
    return (r->status & 0xf00) == DT_ST_EXC && off < esp && off + DT_EXC_FRAME >= esp;
}

/* Compares the changed-byte lists (sorted by offset) of two results; for
 * each differing byte calls show (if not NULL) and counts it. */
static uint32_t mem_diffs(const struct dt_case *c, const struct dt_result *e,
                          const struct dt_result *a, uint32_t max_show)
{
    const uint32_t *me = mem_of(e), *ma = mem_of(a);
    uint32_t i = 0, j = 0, n = 0;
    uint8_t init[DT_SCRATCH_SIZE];
    dt_fill_scratch(init, c->mem_seed);
    while (i < e->n_mem || j < a->n_mem) {
        uint32_t oe = i < e->n_mem ? me[i] >> 8 : ~0u, oa = j < a->n_mem ? ma[j] >> 8 : ~0u;
        uint32_t off = oe < oa ? oe : oa;
        uint32_t ve = off == oe ? me[i++] & 0xff : init[off];
        uint32_t va = off == oa ? ma[j++] & 0xff : init[off];
        if (ve == va || in_frame(a, off) || off >= DT_SCRATCH_SIZE) continue;
        if (n++ < max_show)
            printf("  mem %08x (scratch+%#x): expected %02x actual %02x (initial %02x)\n",
                   DT_SCRATCH + off, off, ve, va, init[off]);
    }
    return n;
}

static int same(const struct dt_case *c, const struct dt_result *e, const struct dt_result *a)
{
    if (e->status != a->status) return 0;
    int exc = (e->status & 0xf00) == DT_ST_EXC;
    if (e->status != DT_ST_OK && !exc) return 1;
    if (exc && e->fault_eip != a->fault_eip) return 0;
    if (e->steps != a->steps) return 0;
    if (memcmp(e->regs, a->regs, sizeof e->regs)) return 0;
    if ((e->eflags ^ a->eflags) & flag_mask(c)) return 0;
    return mem_diffs(c, e, a, 0) == 0;
}

static void flags_str(uint32_t f, uint32_t mask, char *out)
{
    static const struct { uint32_t bit; char c; } fl[] = {
        { DT_FL_OF, 'O' }, { DT_FL_DF, 'D' }, { DT_FL_SF, 'S' }, { DT_FL_ZF, 'Z' },
        { DT_FL_AF, 'A' }, { DT_FL_PF, 'P' }, { DT_FL_CF, 'C' },
    };
    for (int i = 0; i < 7; i++)
        out[i] = !(mask & fl[i].bit) ? '.' : (f & fl[i].bit) ? fl[i].c : (char)(fl[i].c + 32);
    out[7] = 0;
}

static void show_case(csh cs, const struct dt_case *c)
{
    const uint8_t *code = (const uint8_t *)(c + 1);
    printf("  code (%u bytes, %u insns):", c->code_len, c->n_insns);
    for (uint32_t i = 0; i < c->code_len && i < 128; i++) printf(" %02x", code[i]);
    printf("%s\n", c->code_len > 128 ? " ..." : "");
    cs_insn *insn;
    size_t n = cs ? cs_disasm(cs, code, c->code_len, DT_CODE, 0, &insn) : 0;
    for (size_t i = 0; i < n; i++) {
        /* the page-crossing item skips a gap of INT3s: one line for it */
        size_t run = 0;
        while (i + run < n && insn[i + run].bytes[0] == 0xcc && insn[i + run].size == 1) run++;
        if (run > 2) {
            printf("    %08" PRIx64 ":  (%zu x int3, skipped)\n", insn[i].address, run);
            i += run - 1;
            continue;
        }
        printf("    %08" PRIx64 ":  %-8s %s\n", insn[i].address, insn[i].mnemonic, insn[i].op_str);
    }
    if (n) cs_free(insn, n);
    printf("  initial:");
    for (int r = 0; r < 8; r++) printf(" %s=%08x", reg_names[r], c->regs[r]);
    char fs[8];
    flags_str(c->eflags, DT_FL_CASE, fs);
    printf(" flags=%s mem_seed=%08x\n", fs, c->mem_seed);
}

static void show_diff(const struct dt_case *c, const struct dt_result *e, const struct dt_result *a)
{
    char se[64], sa[64];
    describe_status(e->status, se, sizeof se);
    describe_status(a->status, sa, sizeof sa);
    int exc = (e->status & 0xf00) == DT_ST_EXC;
    if (e->status != a->status || e->status != DT_ST_OK) {
        printf("  expected: %s", se);
        if (exc) printf(" at eip %08x (code+%#x)", e->fault_eip, e->fault_eip - DT_CODE);
        printf(", actual: %s", sa);
        if ((a->status & 0xf00) == DT_ST_EXC)
            printf(" at eip %08x (code+%#x)", a->fault_eip, a->fault_eip - DT_CODE);
        printf("\n");
        if (e->status != a->status || (e->status != DT_ST_OK && !exc)) return;
    }
    for (int r = 0; r < 8; r++)
        printf("  %s expected %08x actual %08x%s\n", reg_names[r], e->regs[r], a->regs[r],
               e->regs[r] != a->regs[r] ? "   <-- differs" : "");
    char fe[8], fa[8];
    flags_str(e->eflags, flag_mask(c), fe);
    flags_str(a->eflags, flag_mask(c), fa);
    printf("  flags expected %s actual %s (ODSZAPC, '.' = undefined here)%s\n", fe, fa,
           (e->eflags ^ a->eflags) & flag_mask(c) ? "   <-- differs" : "");
    mem_diffs(c, e, a, 16);
    if (e->steps != a->steps)
        printf("  single-step traps expected %u actual %u   <-- differs\n", e->steps, a->steps);
}

/* --self-test: the comparer must catch a flipped register bit, a flipped
 * defined flag, a changed memory byte and a changed status, and must not
 * mind a flipped undefined flag.  Run on the expected results before every
 * comparison, so a broken comparer cannot report a silent pass. */
static int self_test(const struct dt_case **cases, const Results *exp, uint32_t count)
{
    uint32_t caught = 0, ignored = 0, wrong = 0;
    for (uint32_t i = 0; i < count; i++) {
        const struct dt_case *c = cases[i];
        const struct dt_result *e = exp->by_index[i];
        size_t sz = sizeof *e + (e->n_mem + 1) * 4u;
        struct dt_result *m = calloc(1, sz);
        memcpy(m, e, sizeof *e + e->n_mem * 4u);
        uint32_t *mem = (uint32_t *)(m + 1);
        int must_differ = -1;
        uint32_t undef = DT_FL_ARITH & ~flag_mask(c);
        switch (i % 6) {
        case 0: m->regs[i / 6 % 8] ^= 1u << (i % 32); must_differ = 1; break;
        case 1:
            if (flag_mask(c) && e->status == DT_ST_OK) {
                m->eflags ^= flag_mask(c) & -flag_mask(c);
                must_differ = 1;
            }
            break;
        case 2:
            if (undef) { m->eflags ^= undef & -undef; must_differ = 0; }
            break;
        case 3:
            if (e->status != DT_ST_OK) break;
            if (e->n_mem) mem[0] ^= 1;
            else {
                uint8_t init[DT_SCRATCH_SIZE];
                dt_fill_scratch(init, c->mem_seed);
                mem[0] = (uint32_t)(init[0] ^ 1);
                m->n_mem = 1;
            }
            must_differ = 1;
            break;
        case 4: m->status = e->status == DT_ST_OK ? DT_ST_EXC | 6 : DT_ST_OK; must_differ = 1; break;
        default: must_differ = 0; break;
        }
        if (must_differ >= 0) {
            int differs = !same(c, e, m);
            if (differs != must_differ) {
                if (wrong++ < 3)
                    printf("self-test: case %u, mutation %u %s\n", i, i % 6,
                           must_differ ? "went unnoticed" : "was reported wrongly");
            } else if (must_differ) caught++;
            else ignored++;
        }
        free(m);
    }
    printf("self-test: %u mutations caught, %u harmless changes accepted, %u wrong\n",
           caught, ignored, wrong);
    return wrong ? 1 : 0;
}

int main(int argc, char **argv)
{
    int max_show = 5;
    const char *label = NULL;
    int ai = 1;
    while (ai < argc && argv[ai][0] == '-' && argv[ai][1] == '-') {
        if (!strcmp(argv[ai], "--show") && ai + 1 < argc) max_show = atoi(argv[ai + 1]), ai += 2;
        else if (!strcmp(argv[ai], "--label") && ai + 1 < argc) label = argv[ai + 1], ai += 2;
        else if (!strcmp(argv[ai], "--strict-flags")) strict_flags = 1, ai++;
        else break;
    }
    if (argc - ai == 3 && !strcmp(argv[ai], "--self-test")) {
        size_t lc, le;
        uint8_t *bc = load_file(argv[ai + 1], &lc, 1);
        uint8_t *be = load_file(argv[ai + 2], &le, 1);
        uint32_t count;
        const struct dt_case **cases = index_cases(bc, lc, &count);
        Results exp = parse_results(be, le, count);
        if (!exp.done || exp.n_records != count) {
            fprintf(stderr, "%s: %s is incomplete\n", prog, argv[ai + 2]);
            return 2;
        }
        int rc = self_test(cases, &exp, count);
        free(cases); free(exp.by_index); free(bc); free(be);
        return rc;
    }
    if (argc - ai != 3) {
        fprintf(stderr, "usage: %s [--show N] [--label NAME] [--strict-flags] CASES.bin EXPECTED.bin ACTUAL.bin\n"
                "       %s --self-test CASES.bin EXPECTED.bin\n", prog, prog);
        return 2;
    }
    size_t lc, le, la;
    uint8_t *bc = load_file(argv[ai], &lc, 1);
    uint8_t *be = load_file(argv[ai + 1], &le, 1);
    uint8_t *ba = load_file(argv[ai + 2], &la, 0);
    uint32_t count;
    const struct dt_case **cases = index_cases(bc, lc, &count);
    Results exp = parse_results(be, le, count);
    Results act = parse_results(ba, la, count);
    if (!exp.done || exp.n_records != count) {
        fprintf(stderr, "%s: %s is incomplete (%u of %u results)\n", prog, argv[ai + 1],
                exp.n_records, count);
        return 2;
    }
    csh cs = 0;
    if (cs_open(CS_ARCH_X86, CS_MODE_32, &cs) != CS_ERR_OK) cs = 0;
    else cs_option(cs, CS_OPT_SKIPDATA, CS_OPT_ON);

    if (act.n_records == 0)
        printf("%s%sno results in %s: the difftest kernel did not boot or did not run "
               "(check the emulator's log)\n", label ? label : "", label ? ": " : "", argv[ai + 2]);
    else if (!act.done)
        printf("%s%sresults in %s stop after %u of %u cases%s: the guest hung, crashed or "
               "timed out in the next case\n", label ? label : "", label ? ": " : "",
               argv[ai + 2], act.n_records, count, act.bad_at >= 0 ? " (or are garbled)" : "");

    uint32_t pass = 0, fail = 0, shown = 0, missing = 0;
    int told_missing = 0;
    for (uint32_t i = 0; i < count; i++) {
        const struct dt_result *e = exp.by_index[i], *a = act.by_index[i];
        if (!a) {
            fail++; missing++;
            if (act.n_records && !told_missing) {
                told_missing = 1;
                printf("first case without a result: %u\n", i);
                if (shown < (uint32_t)max_show) show_case(cs, cases[i]);
            }
            continue;
        }
        if (same(cases[i], e, a)) { pass++; continue; }
        fail++;
        if (shown++ < (uint32_t)max_show) {
            printf("case %u differs:\n", i);
            show_case(cs, cases[i]);
            show_diff(cases[i], e, a);
        }
    }
    if (missing) printf("%u cases have no result\n", missing);
    if (cs) cs_close(&cs);
    printf("%s%s%u passed, %u failed\n", label ? label : "", label ? ": " : "", pass, fail);
    free(cases); free(exp.by_index); free(act.by_index);
    free(bc); free(be); free(ba);
    return fail ? 1 : 0;
}
