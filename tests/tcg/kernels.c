/* Compute kernels as a flat i386 image (gcc -m32 -ffreestanding), run by
 * tests/tcg/run.c from 0x100000 in ring-0 flat protected mode under each
 * engine. Compiler-generated code is the instruction mix real programs
 * have; the results are checked against values computed on the host.
 *
 * The image starts with _start; it writes the results to RESULTS and
 * halts. No libc: everything is here. */
#include <stdint.h>
#include <stddef.h>

#define RESULTS ((volatile uint32_t *)0x00300000)
#define HEAP ((uint8_t *)0x00400000)

/* The scale the runner asks for (iterations), at 0x300100. */
#define SCALE (*(volatile uint32_t *)0x00300100)

static uint32_t rng_state;
static uint32_t rng(void)
{
    rng_state = rng_state * 1103515245u + 12345u;
    return rng_state >> 8;
}

/* ---- SHA-256 (FIPS 180-4) ---- */
static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
    0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
    0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
    0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
    0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t ror(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

static void sha256_block(uint32_t h[8], const uint8_t *p)
{
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5],
             g = h[6], hh = h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = hh + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) +
                      ((e & f) ^ (~e & g)) + K[i] + w[i];
        uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) +
                      ((a & b) ^ (a & c) ^ (b & c));
        hh = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d;
    h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}

/* SHA-256 of len bytes (len a multiple of 64, padding block added). */
static void sha256(const uint8_t *msg, uint32_t len, uint32_t out[8])
{
    uint32_t h[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                      0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
    for (uint32_t i = 0; i + 64 <= len; i += 64)
        sha256_block(h, msg + i);
    uint8_t pad[64] = { 0x80 };
    uint64_t bits = (uint64_t)len * 8;
    for (int i = 0; i < 8; i++)
        pad[63 - i] = (uint8_t)(bits >> (8 * i));
    sha256_block(h, pad);
    for (int i = 0; i < 8; i++)
        out[i] = h[i];
}

/* ---- sorting ---- */
static void quicksort(int32_t *a, int lo, int hi)
{
    while (lo < hi) {
        int32_t p = a[(lo + hi) / 2];
        int i = lo, j = hi;
        while (i <= j) {
            while (a[i] < p) i++;
            while (a[j] > p) j--;
            if (i <= j) {
                int32_t t = a[i]; a[i] = a[j]; a[j] = t;
                i++; j--;
            }
        }
        if (j - lo < hi - i) {
            quicksort(a, lo, j);
            lo = i;
        } else {
            quicksort(a, i, hi);
            hi = j;
        }
    }
}

/* ---- memcpy / strlen in C loops (not rep movs) ---- */
static void copy_bytes(uint8_t *d, const uint8_t *s, uint32_t n)
{
    while (n--)
        *d++ = *s++;
}

static uint32_t str_len(const char *s)
{
    const char *p = s;
    while (*p)
        p++;
    return (uint32_t)(p - s);
}

/* ---- a small bytecode interpreter ---- */
enum { B_PUSH, B_ADD, B_SUB, B_MUL, B_DUP, B_SWAP, B_JNZ, B_DEC, B_DROP,
       B_HALT, B_XOR, B_SHL, B_ROT };
static uint32_t run_bytecode(const uint8_t *code, uint32_t arg)
{
    uint32_t st[64];
    int sp = 0;
    uint32_t pc = 0;
    st[sp++] = arg;
    for (;;) {
        uint8_t op = code[pc++];
        switch (op) {
        case B_PUSH: st[sp++] = code[pc++]; break;
        case B_ADD: sp--; st[sp - 1] += st[sp]; break;
        case B_SUB: sp--; st[sp - 1] -= st[sp]; break;
        case B_MUL: sp--; st[sp - 1] *= st[sp]; break;
        case B_XOR: sp--; st[sp - 1] ^= st[sp]; break;
        case B_SHL: sp--; st[sp - 1] <<= (st[sp] & 31); break;
        case B_DUP: st[sp] = st[sp - 1]; sp++; break;
        case B_SWAP: { uint32_t t = st[sp - 1]; st[sp - 1] = st[sp - 2]; st[sp - 2] = t; break; }
        case B_DEC: st[sp - 1]--; break;
        case B_ROT: {               /* a b c -> b c a */
            uint32_t t = st[sp - 3];
            st[sp - 3] = st[sp - 2]; st[sp - 2] = st[sp - 1]; st[sp - 1] = t;
            break;
        }
        case B_DROP: sp--; break;
        case B_JNZ: { uint8_t t = code[pc++]; if (st[sp - 1]) pc = t; break; }
        default: return sp ? st[sp - 1] : 0;
        }
    }
}

void kmain(void)
{
    uint32_t n = SCALE;
    /* 1: sha256 over 4 KiB of generated bytes, n times chained */
    uint8_t *buf = HEAP;
    rng_state = 1;
    for (int i = 0; i < 4096; i++)
        buf[i] = (uint8_t)rng();
    uint32_t h[8];
    for (uint32_t r = 0; r < n; r++) {
        sha256(buf, 4096, h);
        buf[r & 4095] ^= (uint8_t)h[0];
    }
    for (int i = 0; i < 8; i++)
        RESULTS[i] = h[i];

    /* 2: quicksort of 2048 * n ints, checksum of the sorted order */
    int32_t *arr = (int32_t *)(HEAP + 0x10000);
    uint32_t cnt = 2048 * n;
    for (uint32_t i = 0; i < cnt; i++)
        arr[i] = (int32_t)(rng() ^ (rng() << 16));
    quicksort(arr, 0, (int)cnt - 1);
    uint32_t sum = 0, sorted = 1;
    for (uint32_t i = 0; i < cnt; i++) {
        sum = sum * 31 + (uint32_t)arr[i];
        if (i && arr[i - 1] > arr[i])
            sorted = 0;
    }
    RESULTS[8] = sum;
    RESULTS[9] = sorted;

    /* 3: byte copies and strlen */
    char *s = (char *)(HEAP + 0x200000);
    uint32_t total = 0;
    for (uint32_t r = 0; r < n; r++) {
        for (int i = 0; i < 8191; i++)
            s[i] = (char)(1 + (i * 7 + (int)r) % 250);
        s[8191] = 0;
        copy_bytes((uint8_t *)s + 8192, (uint8_t *)s, 8192);
        total += str_len(s + 8192 + (r % 100));
    }
    RESULTS[10] = total;

    /* 4: bytecode: acc = sum of (i*i ^ 5) for i = arg..1 */
    static const uint8_t step[] = {
        B_PUSH, 0, B_SWAP,              /* 0: acc i */
        B_DUP, B_DUP, B_MUL,            /* 3: acc i i*i */
        B_PUSH, 5, B_XOR,               /* 6: acc i f */
        B_ROT, B_ADD, B_SWAP,           /* 9: acc+f i */
        B_DEC, B_JNZ, 3,                /* 12: acc i-1, loop while i-1 */
        B_DROP, B_HALT,                 /* 15: acc */
    };
    uint32_t acc = 0;
    for (uint32_t r = 0; r < 2000 * n; r++)
        acc += run_bytecode(step, 1 + (r & 15));
    RESULTS[11] = acc;
}

/* Under QEMU (qemu-system-i386 -kernel kernels.elf, Multiboot) the scale
 * comes from the command line and the results go to the debug console
 * (port 0xE9); isa-debug-exit at 0xF4 ends the run. Under tests/tcg/run.c
 * neither port has a device and the runner reads RESULTS itself. */
static void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static void put_hex(uint32_t v)
{
    for (int i = 28; i >= 0; i -= 4)
        outb(0xe9, "0123456789abcdef"[(v >> i) & 15]);
}

void kentry(uint32_t magic, const uint32_t *mbi)
{
    if (magic == 0x2badb002u && (mbi[0] & 4) && !SCALE) {
        const char *cmd = (const char *)mbi[4];
        uint32_t v = 0;
        while (*cmd && (*cmd < '0' || *cmd > '9'))
            cmd++;
        while (*cmd >= '0' && *cmd <= '9')
            v = v * 10 + (uint32_t)(*cmd++ - '0');
        SCALE = v ? v : 1;
    }
    if (!SCALE)
        SCALE = 1;
    kmain();
    for (int i = 0; i < 12; i++) {
        put_hex(RESULTS[i]);
        outb(0xe9, i == 11 ? '\n' : ' ');
    }
    outb(0xf4, 0);
}

/* Multiboot header (flags 0: the loader reads the ELF program headers). */
__attribute__((section(".mbhdr"), used, aligned(4)))
static const uint32_t multiboot_header[3] = {
    0x1badb002u, 0, (uint32_t)-(0x1badb002u)
};

__attribute__((naked, section(".text.start"))) void _start(void)
{
    __asm__ volatile("mov $0x00380000, %esp\n"
                     "push %ebx\n"
                     "push %eax\n"
                     "call kentry\n"
                     "1: hlt\n"
                     "jmp 1b\n");
}
