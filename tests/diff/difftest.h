/* Differential CPU test: the contract shared by the generator, the native
 * runner (gcc -m32), the Multiboot guest kernel and the comparer.
 *
 * Both runners execute a case's bytes at the same fixed linear addresses, so
 * pointers that end up in registers (ESP, ESI/EDI after string operations,
 * EBP after ENTER) compare equal without any relocation.  This header is
 * included by freestanding guest code too: no libc here. */
#ifndef TESTS_DIFF_DIFFTEST_H
#define TESTS_DIFF_DIFFTEST_H

/* Fixed layout.  16 MiB is above where Multiboot loaders put a kernel and
 * its modules (just past the kernel at 1 MiB) and below every 32-bit
 * process's own image, so the native side can map it at the same address. */
#define DT_CTRL      0x01000000u   /* control block, see DT_C_* */
/* The scratch area straddles a page boundary 256 bytes in, right in the
 * range [EBX+disp8] reaches, so some accesses are split across two pages. */
#define DT_SCRATCH   0x01000f00u   /* data area, then the case's stack */
#define DT_DATA_SIZE 512u
#define DT_STACK_SIZE 512u
#define DT_SCRATCH_SIZE (DT_DATA_SIZE + DT_STACK_SIZE)
#define DT_CODE      0x01002000u   /* the case's bytes, then the exit jump */
#define DT_CODE_MAX  7936u         /* two pages, less room for the exit jump */
#define DT_MAP_SIZE  0x4000u
/* Single-stepping counts the #DB traps whose return EIP lies in the code
 * area [DT_CODE, DT_CODE + DT_CODE_AREA): one per instruction or REP
 * iteration after the first instruction, none for the exit path. */
#define DT_CODE_AREA 0x2000u

/* EBX holds the data pointer throughout a case (generated code never writes
 * it), so [EBX+disp8] reaches the whole middle of the data area. */
#define DT_EBX_INIT  (DT_SCRATCH + 192u)
#define DT_ESP_INIT  (DT_SCRATCH + DT_DATA_SIZE + 256u)

/* Control block offsets (used from assembly as DT_CTRL + offset). */
#define DT_C_IN       0x00   /* u32 regs[8]: EAX ECX EDX EBX ESP EBP ESI EDI */
#define DT_C_IN_EFL   0x20
#define DT_C_HOST_ESP 0x24
#define DT_C_ENTRY    0x28   /* = DT_CODE */
#define DT_C_EXIT     0x2c   /* address of difftest_exit (the code jumps here) */
#define DT_C_XFL      0x38   /* EFLAGS bits to add on entry (TF to single-step) */
#define DT_C_OUT      0x40
#define DT_C_OUT_EFL  0x60
#define DT_C_FAULT    0x64   /* exception vector + 1, 0 = none */
#define DT_C_FAULT_EIP 0x68
#define DT_C_FAULT_ERR 0x6c
#define DT_C_IN_CASE  0x70   /* guest: 1 while a case runs */

/* The arithmetic flags plus DF: the only EFLAGS bits a case may change. */
#define DT_FL_CF 0x001u
#define DT_FL_PF 0x004u
#define DT_FL_AF 0x010u
#define DT_FL_ZF 0x040u
#define DT_FL_SF 0x080u
#define DT_FL_DF 0x400u
#define DT_FL_OF 0x800u
#define DT_FL_ARITH 0x8d5u
#define DT_FL_CASE  (DT_FL_ARITH | DT_FL_DF)

#ifndef __ASSEMBLER__
#include <stdint.h>

/* cases.bin: a file header, then records; all little-endian. */
#define DT_FILE_MAGIC   0x4354444bu  /* "KDTC" */
#define DT_CASE_MAGIC   0x45534143u  /* "CASE" */
#define DT_RES_MAGIC    0x544c5352u  /* "RSLT" */
#define DT_DONE_MAGIC   0x454e4f44u  /* "DONE" */
#define DT_VERSION      1u

struct dt_file_header {
    uint32_t magic, version, count, seed;
};

struct dt_case {               /* followed by code_len bytes, padded to 4 */
    uint32_t magic;
    uint32_t index;
    uint32_t mem_seed;         /* the scratch area's initial contents */
    uint32_t regs[8];
    uint32_t eflags;           /* only DT_FL_CASE bits are loaded */
    uint32_t flag_mask;        /* flags defined at the end of the sequence */
    uint16_t code_len;
    uint16_t n_insns;
};

/* Status of one result.  A case may end in a CPU exception on purpose
 * (#DE, #UD, #BP, #OF, #BR): both sides then report the vector, the EIP the
 * CPU reported and the registers at that point.  Natively the vector is the
 * trap number Linux passes in the signal context. */
#define DT_ST_OK          0u
#define DT_ST_EXC         0x100u  /* | vector */
#define DT_ST_GUEST_EXC   DT_ST_EXC  /* the earlier name (tests/cpu/diffrun.c) */
#define DT_ST_NATIVE_SIG  0x200u  /* | signal number: the runner itself died */
#define DT_ST_TIMEOUT     0x300u
/* Under an exception the guest pushes its frame on the case's stack (16
 * bytes with the error code its stubs add, then the vector number); the
 * host kernel uses an alternate stack.  These bytes below the reported ESP
 * are left out of the comparison. */
#define DT_EXC_FRAME      20u

/* A result: followed by n_mem words (offset << 8 | new byte) for each
 * scratch byte that differs from its initial value. */
struct dt_result {
    uint32_t magic;
    uint32_t index;
    uint32_t status;
    uint32_t regs[8];
    uint32_t eflags;
    uint32_t fault_eip;
    uint32_t n_mem;
    uint32_t steps;            /* single-step traps inside the code, 0 = not stepped */
};

/* Closing record: magic DT_DONE_MAGIC and the number of results. */
struct dt_done {
    uint32_t magic, count;
};

static inline uint32_t dt_code_padded(uint32_t len) { return (len + 3u) & ~3u; }

/* xorshift32 seeded through a mixer so that neighbouring seeds differ. */
static inline uint32_t dt_mix(uint32_t x)
{
    x ^= x >> 16; x *= 0x7feb352du; x ^= x >> 15; x *= 0x846ca68bu;
    x ^= x >> 16;
    return x ? x : 0x9e3779b9u;
}

/* The initial scratch contents for a case: random words in which some
 * bytes are forced to 0x00 or 0xff so that compares, carries and BCD see
 * their edge values.  Word-sized steps keep the guest's share of each case
 * small under a slow interpreter. */
static inline void dt_fill_scratch(uint8_t *p, uint32_t seed)
{
    uint32_t s = dt_mix(seed);
    for (uint32_t i = 0; i < DT_SCRATCH_SIZE; i += 4) {
        s ^= s << 13; s ^= s >> 17; s ^= s << 5;
        uint32_t w = s;
        s ^= s << 13; s ^= s >> 17; s ^= s << 5;
        uint32_t m = s;
        if ((m & 7) == 0) w &= ~(0xffu << (8 * ((m >> 3) & 3)));
        if ((m & 0x60) == 0) w |= 0xffu << (8 * ((m >> 7) & 3));
        p[i] = (uint8_t)w; p[i + 1] = (uint8_t)(w >> 8);
        p[i + 2] = (uint8_t)(w >> 16); p[i + 3] = (uint8_t)(w >> 24);
    }
}

/* The jump that ends every case: jmp dword [DT_CTRL + DT_C_EXIT]. */
static inline uint32_t dt_put_exit_jump(uint8_t *p)
{
    uint32_t a = DT_CTRL + DT_C_EXIT;
    p[0] = 0xff; p[1] = 0x25;
    p[2] = (uint8_t)a; p[3] = (uint8_t)(a >> 8);
    p[4] = (uint8_t)(a >> 16); p[5] = (uint8_t)(a >> 24);
    return 6;
}
#endif
#endif
