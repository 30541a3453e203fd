/* The difftest guest kernel: runs every case of the Multiboot module (the
 * cases.bin the generator wrote) with the same initial state as the native
 * runner, and streams the results in the same format to the debug console
 * (port 0xE9).  Progress and errors go to COM1 as text. */
#include <stddef.h>
#include <stdint.h>
#include "difftest.h"

void difftest_enter(void);
void difftest_exit(void);
void difftest_enter_user(uint32_t if_flag);
void user_exit_stub(void);
void exit_gate(void);
void irq_master(void);
void irq_slave(void);
void db_step(void);
extern uint32_t irq_count, step_count;
extern uint64_t gdt[6];
void idt_load(const void *desc);
void guest_halt(void) __attribute__((noreturn));
void kmain(void);
void kernel_panic(uint32_t vector, uint32_t eip);
extern const uint32_t isr_table[32];
extern uint32_t mb_magic, mb_info;

/* The compiler may turn loops into calls to these. */
void *memcpy(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n)
{
    uint8_t *dp = d;
    const uint8_t *sp = s;
    /* x86 allows unaligned words; the compiler must not see a memcpy here */
    for (; n >= 4; n -= 4, dp += 4, sp += 4)
        __asm__ volatile("movl (%1), %%eax; movl %%eax, (%0)" : : "r"(dp), "r"(sp) : "eax", "memory");
    while (n--) *dp++ = *sp++;
    return d;
}
void *memset(void *d, int c, size_t n)
{
    uint8_t *dp = d;
    while (n--) *dp++ = (uint8_t)c;
    return d;
}

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static void serial_puts(const char *s)
{
    for (; *s; s++) outb(0x3f8, (uint8_t)*s);
}

static void serial_hex(uint32_t v)
{
    char b[11] = "0x";
    for (int i = 0; i < 8; i++) b[2 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 15];
    b[10] = 0;
    serial_puts(b);
}

static void serial_dec(uint32_t v)
{
    char b[12];
    int i = 11;
    b[i] = 0;
    do b[--i] = (char)('0' + v % 10); while (v /= 10);
    serial_puts(b + i);
}

static void debug_write(const void *p, uint32_t n)
{
    const uint8_t *b = p;
    for (uint32_t i = 0; i < n; i++) outb(0xe9, b[i]);
}

static void __attribute__((noreturn)) finish(const char *why, int ok)
{
    serial_puts("difftest: ");
    serial_puts(why);
    serial_puts("\n");
    outb(0xf4, ok ? 0 : 1);
    guest_halt();
}

void kernel_panic(uint32_t vector, uint32_t eip)
{
    serial_puts("difftest: exception ");
    serial_dec(vector);
    serial_puts(" in the kernel itself at ");
    serial_hex(eip);
    serial_puts("\n");
    outb(0xf4, 1);
    guest_halt();
}

struct idt_entry { uint16_t off_lo, sel; uint8_t zero, type; uint16_t off_hi; };
static struct idt_entry idt[0x31];

static void set_gate(int v, void (*fn)(void), uint8_t type)
{
    uint32_t a = (uint32_t)(uintptr_t)fn;
    idt[v].off_lo = (uint16_t)a;
    idt[v].off_hi = (uint16_t)(a >> 16);
    idt[v].sel = 0x08;
    idt[v].zero = 0;
    idt[v].type = type;
}

/* The TSS only supplies the ring-0 stack for ring-3 cases. */
static struct { uint32_t link, esp0, ss0, rest[22]; uint16_t trap, iomap; } tss;
static uint8_t irq_stack[8192] __attribute__((aligned(16)));

/* Multiboot command line options: "ring3" runs cases in ring 3, "irq"
 * (with ring3) lets the PIT interrupt them about 18,600 times a second,
 * "step" (with ring3) single-steps them with TF: a #DB after every
 * instruction and every REP iteration, which must change nothing. */
static int opt_ring3, opt_irq, opt_step;
static uint32_t step_total;

static int has_word(const char *s, const char *w)
{
    for (; *s; s++) {
        int i = 0;
        while (w[i] && s[i] == w[i]) i++;
        if (!w[i] && (s[i] == 0 || s[i] == ' ' || s[i] == ',')) return 1;
    }
    return 0;
}

static void setup_ring3(void)
{
    uint32_t base = (uint32_t)(uintptr_t)&tss, limit = sizeof tss - 1;
    tss.esp0 = (uint32_t)(uintptr_t)(irq_stack + sizeof irq_stack);
    tss.ss0 = 0x10;
    tss.iomap = sizeof tss;
    gdt[5] = (uint64_t)(limit & 0xffff) | (uint64_t)(base & 0xffffff) << 16 |
             (uint64_t)0x89 << 40 | (uint64_t)(limit >> 16 & 0xf) << 48 |
             (uint64_t)(base >> 24) << 56;
    __asm__ volatile("ltr %w0" : : "r"(0x28));
}

static void setup_irq(void)
{
    /* 8259s: vectors 0x20/0x28, only IRQ 0 unmasked */
    static const uint8_t seq[][2] = {
        { 0x20, 0x11 }, { 0xa0, 0x11 }, { 0x21, 0x20 }, { 0xa1, 0x28 },
        { 0x21, 0x04 }, { 0xa1, 0x02 }, { 0x21, 0x01 }, { 0xa1, 0x01 },
        { 0x21, 0xfe }, { 0xa1, 0xff },
        /* PIT channel 0, rate generator, divisor 64 (18.6 kHz) */
        { 0x43, 0x34 }, { 0x40, 0x40 }, { 0x40, 0x00 },
    };
    for (unsigned i = 0; i < sizeof seq / sizeof *seq; i++) outb(seq[i][0], seq[i][1]);
}
static struct { uint16_t limit; uint32_t base; } __attribute__((packed)) idt_desc;

static uint32_t rd32(const uint8_t *p)
{
    uint32_t v;
    __builtin_memcpy(&v, p, 4);
    return v;
}

static uint8_t init_mem[DT_SCRATCH_SIZE];
static uint32_t diff_words[DT_SCRATCH_SIZE];

void kmain(void)
{
    serial_puts("difftest: kernel started\n");
    if (mb_magic != 0x2badb002) finish("not started by a Multiboot loader (bad EAX)", 0);
    const uint8_t *mbi = (const uint8_t *)(uintptr_t)mb_info;
    if (!(rd32(mbi) & (1u << 3)) || rd32(mbi + 20) == 0)
        finish("no Multiboot module: pass cases.bin with -initrd", 0);
    const uint8_t *mod = (const uint8_t *)(uintptr_t)rd32(mbi + 24);
    uint32_t start = rd32(mod), end = rd32(mod + 4);
    if (end < start || (start < DT_CTRL + DT_MAP_SIZE && end > DT_CTRL))
        finish("module overlaps the fixed test area at 16 MiB", 0);

    if (rd32(mbi) & (1u << 2)) {
        const char *cmd = (const char *)(uintptr_t)rd32(mbi + 16);
        opt_ring3 = has_word(cmd, "ring3");
        opt_irq = opt_ring3 && has_word(cmd, "irq");
        opt_step = opt_ring3 && has_word(cmd, "step");
    }
    /* present 32-bit interrupt gates; INT3, INTO and the exit INT 0x30
     * may be raised from ring 3 (DPL 3) */
    for (int v = 0; v < 32; v++)
        set_gate(v, (void (*)(void))(uintptr_t)isr_table[v], v == 3 || v == 4 ? 0xee : 0x8e);
    for (int v = 0x20; v < 0x30; v++) set_gate(v, v < 0x28 ? irq_master : irq_slave, 0x8e);
    set_gate(0x30, exit_gate, 0xee);
    if (opt_step) set_gate(1, db_step, 0x8e);
    idt_desc.limit = sizeof idt - 1;
    idt_desc.base = (uint32_t)(uintptr_t)idt;
    idt_load(&idt_desc);

    const uint8_t *buf = (const uint8_t *)(uintptr_t)start;
    uint32_t len = end - start;
    struct dt_file_header h;
    if (len < sizeof h) finish("module too short", 0);
    memcpy(&h, buf, sizeof h);
    if (h.magic != DT_FILE_MAGIC || h.version != DT_VERSION) finish("module is not a cases file", 0);
    serial_puts("difftest: ");
    serial_dec(h.count);
    serial_puts(opt_ring3 ? " cases in ring 3" : " cases in ring 0");
    serial_puts(opt_irq ? ", timer interrupts" : "");
    serial_puts(opt_step ? ", single-stepped\n" : "\n");
    if (opt_ring3) setup_ring3();
    if (opt_irq) setup_irq();

    uint8_t *ctrl = (uint8_t *)(uintptr_t)DT_CTRL;
    uint8_t *scratch = (uint8_t *)(uintptr_t)DT_SCRATCH;
    uint8_t *code = (uint8_t *)(uintptr_t)DT_CODE;
    uint32_t entry = DT_CODE;
    uint32_t exitp = (uint32_t)(uintptr_t)(opt_ring3 ? user_exit_stub : difftest_exit);
    uint32_t off = sizeof h;
    for (uint32_t i = 0; i < h.count; i++) {
        struct dt_case c;
        if (off + sizeof c > len) finish("module truncated", 0);
        memcpy(&c, buf + off, sizeof c);
        if (c.magic != DT_CASE_MAGIC || c.code_len > DT_CODE_MAX ||
            off + sizeof c + c.code_len > len)
            finish("malformed case record", 0);
        dt_fill_scratch(init_mem, c.mem_seed);
        memcpy(scratch, init_mem, sizeof init_mem);
        memcpy(code, buf + off + sizeof c, c.code_len);
        dt_put_exit_jump(code + c.code_len);
        off += sizeof c + dt_code_padded(c.code_len);

        memset(ctrl, 0, DT_C_IN_CASE + 4);
        memcpy(ctrl + DT_C_IN, c.regs, sizeof c.regs);
        memcpy(ctrl + DT_C_IN_EFL, &c.eflags, 4);
        memcpy(ctrl + DT_C_ENTRY, &entry, 4);
        memcpy(ctrl + DT_C_EXIT, &exitp, 4);
        uint32_t one = 1;
        memcpy(ctrl + DT_C_IN_CASE, &one, 4);
        __asm__ volatile("" ::: "memory");
        step_total += step_count;
        step_count = 0;
        if (opt_ring3) difftest_enter_user((opt_irq ? 0x200u : 0) | (opt_step ? 0x100u : 0));
        else difftest_enter();
        __asm__ volatile("" ::: "memory");
        memset(ctrl + DT_C_IN_CASE, 0, 4);

        struct dt_result r = { .magic = DT_RES_MAGIC, .index = c.index, .status = DT_ST_OK };
        uint32_t fault = rd32(ctrl + DT_C_FAULT);
        if (fault) {
            r.status = DT_ST_EXC | (fault - 1);
            r.fault_eip = rd32(ctrl + DT_C_FAULT_EIP);
        }
        memcpy(r.regs, ctrl + DT_C_OUT, sizeof r.regs);
        r.eflags = rd32(ctrl + DT_C_OUT_EFL);
        uint32_t n = 0;
        for (uint32_t k = 0; k < DT_SCRATCH_SIZE; k += 4) {
            if (rd32(scratch + k) == rd32(init_mem + k)) continue;
            for (uint32_t j = k; j < k + 4; j++)
                if (scratch[j] != init_mem[j]) diff_words[n++] = j << 8 | scratch[j];
        }
        r.n_mem = n;
        r.steps = step_count;
        debug_write(&r, sizeof r);
        debug_write(diff_words, n * 4);
    }
    struct dt_done d = { DT_DONE_MAGIC, h.count };
    debug_write(&d, sizeof d);
    if (opt_irq) {
        serial_puts("difftest: ");
        serial_dec(irq_count);
        serial_puts(" timer interrupts during the run\n");
    }
    if (opt_step) {
        serial_puts("difftest: ");
        serial_dec(step_total + step_count);
        serial_puts(" single-step traps during the run\n");
    }
    finish("all cases done", 1);
}
