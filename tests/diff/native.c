/* Native side of the differential test: runs every case of cases.bin on the
 * host CPU (built with gcc -m32) and writes the expected results.
 *
 * Cases run in a forked child so that a bad case (a generator bug, a fault,
 * an endless loop) cannot take the runner down: the child reports progress
 * through a shared counter, and when it dies the parent records that case
 * as failed and forks a fresh child for the rest. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <ucontext.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "difftest.h"

void difftest_enter(void);
void difftest_exit(void);

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

static uint8_t *load_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "difftest-native: cannot open %s: %s\n", path, strerror(errno));
        exit(2);
    }
    size_t cap = 1 << 20, n = 0;
    uint8_t *buf = malloc(cap);
    size_t r;
    while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    if (!buf) { fprintf(stderr, "difftest-native: out of memory\n"); exit(2); }
    *len = n;
    return buf;
}

static void write_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) { perror("difftest-native: write"); _exit(2); }
        b += w; n -= (size_t)w;
    }
}

/* Offsets of each case record in the file, checked against its length. */
static const struct dt_case **index_cases(const uint8_t *buf, size_t len, uint32_t *count)
{
    struct dt_file_header h;
    if (len < sizeof h) goto bad;
    memcpy(&h, buf, sizeof h);
    if (h.magic != DT_FILE_MAGIC || h.version != DT_VERSION) goto bad;
    const struct dt_case **v = calloc(h.count ? h.count : 1, sizeof *v);
    size_t off = sizeof h;
    for (uint32_t i = 0; i < h.count; i++) {
        if (off + sizeof(struct dt_case) > len) goto bad;
        const struct dt_case *c = (const void *)(buf + off);
        if (c->magic != DT_CASE_MAGIC || c->code_len > DT_CODE_MAX) goto bad;
        off += sizeof *c + dt_code_padded(c->code_len);
        if (off > len) goto bad;
        v[i] = c;
    }
    *count = h.count;
    return v;
bad:
    fprintf(stderr, "difftest-native: malformed cases file\n");
    exit(2);
}

/* A case that ends in a CPU exception: the handler records what the CPU
 * reported (Linux passes the vector as the trap number) and jumps back.
 * It runs on an alternate stack so that the case's stack stays untouched. */
static sigjmp_buf case_jmp;

/* --step: the case runs with TF set; each single-step trap whose return
 * EIP is in the code area counts, and TF is set again there (a POPF in the
 * case may clear it) or cleared once the case has left the area.  The
 * trap after the entry stub's jump (EIP = DT_CODE) has no counterpart in
 * the guest, which enters with IRET: it is not counted. */
static int stepping;
static volatile uint32_t step_count;
static volatile int step_entered;

static void on_exception(int sig, siginfo_t *si, void *ucv)
{
    (void)si;
    ucontext_t *uc = ucv;
    greg_t *gr = uc->uc_mcontext.gregs;
    if (sig == SIGTRAP && gr[REG_TRAPNO] == 1 && stepping) {
        uint32_t eip = (uint32_t)gr[REG_EIP];
        if (eip >= DT_CODE && eip < DT_CODE + DT_CODE_AREA) {
            if (step_entered) step_count++;
            step_entered = 1;
            gr[REG_EFL] |= 0x100;
        } else if (step_entered) {
            gr[REG_EFL] &= ~(greg_t)0x100;
        }
        return;
    }
    uint8_t *ctrl = (uint8_t *)(uintptr_t)DT_CTRL;
    static const int order[8] = { REG_EAX, REG_ECX, REG_EDX, REG_EBX, REG_ESP, REG_EBP,
                                  REG_ESI, REG_EDI };
    for (int r = 0; r < 8; r++) {
        uint32_t v = (uint32_t)gr[order[r]];
        memcpy(ctrl + DT_C_OUT + 4 * r, &v, 4);
    }
    uint32_t efl = (uint32_t)gr[REG_EFL], eip = (uint32_t)gr[REG_EIP];
    uint32_t vec = (uint32_t)gr[REG_TRAPNO] + 1, err = (uint32_t)gr[REG_ERR];
    memcpy(ctrl + DT_C_OUT_EFL, &efl, 4);
    memcpy(ctrl + DT_C_FAULT, &vec, 4);
    memcpy(ctrl + DT_C_FAULT_EIP, &eip, 4);
    memcpy(ctrl + DT_C_FAULT_ERR, &err, 4);
    siglongjmp(case_jmp, 1);
}

static void catch_exceptions(void)
{
    static uint8_t alt[65536];
    stack_t ss = { .ss_sp = alt, .ss_size = sizeof alt };
    if (sigaltstack(&ss, NULL)) { perror("difftest-native: sigaltstack"); _exit(2); }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_exception;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    static const int sigs[] = { SIGILL, SIGFPE, SIGSEGV, SIGTRAP, SIGBUS };
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
        if (sigaction(sigs[i], &sa, NULL)) { perror("difftest-native: sigaction"); _exit(2); }
}

static void emit_result(int fd, const struct dt_result *r, const uint32_t *mem, uint32_t n)
{
    write_all(fd, r, sizeof *r);
    if (n) write_all(fd, mem, n * sizeof *mem);
}

/* Kept out of line so that nothing of the caller lives across the jump. */
static void __attribute__((noinline)) enter_case(void)
{
    if (!sigsetjmp(case_jmp, 1)) difftest_enter();
}

/* Child: runs cases from `first` on, bumping *done after each result. */
static void run_child(const struct dt_case **cases, uint32_t first, uint32_t count,
                      int fd, volatile uint32_t *done)
{
    uint8_t *ctrl = (uint8_t *)(uintptr_t)DT_CTRL;
    uint8_t *scratch = (uint8_t *)(uintptr_t)DT_SCRATCH;
    uint8_t *code = (uint8_t *)(uintptr_t)DT_CODE;
    static uint8_t init[DT_SCRATCH_SIZE];
    static uint32_t mem[DT_SCRATCH_SIZE];
    uint32_t entry = DT_CODE, exitp = (uint32_t)(uintptr_t)difftest_exit;
    catch_exceptions();

    for (uint32_t i = first; i < count; i++) {
        const struct dt_case *c = cases[i];
        dt_fill_scratch(init, c->mem_seed);
        memcpy(scratch, init, sizeof init);
        memcpy(code, c + 1, c->code_len);
        dt_put_exit_jump(code + c->code_len);
        __builtin___clear_cache((char *)code, (char *)code + c->code_len + 6);
        memcpy(ctrl + DT_C_IN, c->regs, sizeof c->regs);
        memcpy(ctrl + DT_C_IN_EFL, &c->eflags, 4);
        memcpy(ctrl + DT_C_ENTRY, &entry, 4);
        memcpy(ctrl + DT_C_EXIT, &exitp, 4);
        memset(ctrl + DT_C_FAULT, 0, 12);
        uint32_t xfl = stepping ? 0x100 : 0;
        memcpy(ctrl + DT_C_XFL, &xfl, 4);
        step_count = 0;
        step_entered = 0;
        alarm(5);
        enter_case();
        alarm(0);
        struct dt_result r = { .magic = DT_RES_MAGIC, .index = c->index, .status = DT_ST_OK };
        uint32_t fault;
        memcpy(&fault, ctrl + DT_C_FAULT, 4);
        if (fault) {
            r.status = DT_ST_EXC | (fault - 1);
            memcpy(&r.fault_eip, ctrl + DT_C_FAULT_EIP, 4);
        }
        memcpy(r.regs, ctrl + DT_C_OUT, sizeof r.regs);
        memcpy(&r.eflags, ctrl + DT_C_OUT_EFL, 4);
        uint32_t n = 0;
        for (uint32_t k = 0; k < DT_SCRATCH_SIZE; k++)
            if (scratch[k] != init[k]) mem[n++] = k << 8 | scratch[k];
        r.n_mem = n;
        r.steps = stepping ? step_count : 0;
        emit_result(fd, &r, mem, n);
        *done = i + 1;
    }
    _exit(0);
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--step")) { stepping = 1; argc--; argv++; }
    if (argc != 3) {
        fprintf(stderr, "usage: difftest-native [--step] CASES.bin EXPECTED.bin\n");
        return 2;
    }
    size_t len;
    uint8_t *buf = load_file(argv[1], &len);
    uint32_t count;
    const struct dt_case **cases = index_cases(buf, len, &count);

    void *m = mmap((void *)(uintptr_t)DT_CTRL, DT_MAP_SIZE,
                   PROT_READ | PROT_WRITE | PROT_EXEC,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (m != (void *)(uintptr_t)DT_CTRL) {
        fprintf(stderr, "difftest-native: cannot map the fixed test area at %#x: %s\n",
                DT_CTRL, m == MAP_FAILED ? strerror(errno) : "address taken");
        return 2;
    }
    volatile uint32_t *done = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (done == MAP_FAILED) { perror("difftest-native: mmap"); return 2; }

    FILE *out = fopen(argv[2], "wb");
    if (!out) {
        fprintf(stderr, "difftest-native: cannot create %s: %s\n", argv[2], strerror(errno));
        return 2;
    }
    int fd = fileno(out);
    uint32_t next = 0, bad = 0;
    while (next < count) {
        *done = next;
        pid_t pid = fork();
        if (pid < 0) { perror("difftest-native: fork"); return 2; }
        if (pid == 0) run_child(cases, next, count, fd, done);
        int st;
        while (waitpid(pid, &st, 0) < 0)
            if (errno != EINTR) { perror("difftest-native: waitpid"); return 2; }
        next = *done;
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0 && next == count) break;
        if (WIFEXITED(st) && WEXITSTATUS(st) != 0) return 2;
        /* The child died inside case `next`: record it and go on. */
        struct dt_result r = { .magic = DT_RES_MAGIC, .index = cases[next]->index };
        int sig = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
        r.status = sig == SIGALRM ? DT_ST_TIMEOUT : DT_ST_NATIVE_SIG | (uint32_t)sig;
        emit_result(fd, &r, NULL, 0);
        fprintf(stderr, "difftest-native: case %u %s (signal %d)\n", cases[next]->index,
                sig == SIGALRM ? "timed out" : "crashed", sig);
        bad++;
        next++;
    }
    struct dt_done d = { DT_DONE_MAGIC, count };
    write_all(fd, &d, sizeof d);
    fclose(out);
    free(cases);
    free(buf);
    if (bad) fprintf(stderr, "difftest-native: %u of %u cases did not run natively\n", bad, count);
    return 0;
}
