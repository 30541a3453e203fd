/* CPUID: a P6-class GenuineIntel CPU that advertises only what Kestrel
 * implements. */
#include <string.h>
#include "cpu/cpu.h"

/* Family 6, model 6, stepping 3 (a Pentium II-class part: SEP is valid). */
const uint32_t cpu_signature = 0x00000663;

/* Leaf 1 EDX feature bits. */
#define F_FPU   (1u << 0)
#define F_PSE   (1u << 3)
#define F_TSC   (1u << 4)
#define F_MSR   (1u << 5)
#define F_PAE   (1u << 6)
#define F_CX8   (1u << 8)
#define F_APIC  (1u << 9)
#define F_SEP   (1u << 11)
#define F_MTRR  (1u << 12)
#define F_PGE   (1u << 13)
#define F_CMOV  (1u << 15)
#define F_PAT   (1u << 16)
#define X_NX    (1u << 20)   /* leaf 0x80000001 EDX */

#define MAX_BASIC 2u
#define MAX_EXT   0x80000004u

static const char brand[48] = "Kestrel Virtual CPU (P6 family)";

void cpu_cpuid(CPUState *c, uint32_t leaf, uint32_t sub, uint32_t out[4])
{
    (void)sub;
    out[0] = out[1] = out[2] = out[3] = 0;
    /* Intel answers an out-of-range basic leaf with the highest one. */
    if (leaf > MAX_BASIC && leaf < 0x80000000u)
        leaf = MAX_BASIC;
    if (leaf > MAX_EXT)
        leaf = MAX_BASIC;
    switch (leaf) {
    case 0:
        out[0] = MAX_BASIC;
        memcpy(&out[1], "Genu", 4);   /* EBX */
        memcpy(&out[3], "ineI", 4);   /* EDX */
        memcpy(&out[2], "ntel", 4);   /* ECX */
        break;
    case 1:
        out[0] = cpu_signature;
        out[1] = 0;                   /* APIC ID 0, no CLFLUSH, brand 0 */
        out[2] = 0;
        out[3] = F_FPU | F_PSE | F_TSC | F_MSR | F_PAE | F_CX8 | F_SEP |
                 F_MTRR | F_PGE | F_CMOV | F_PAT;
        if (c->apic_base & 0x800)
            out[3] |= F_APIC;
        break;
    case 2:
        out[0] = 1;                   /* one call; no cache descriptors */
        break;
    case 0x80000000u:
        out[0] = MAX_EXT;
        break;
    case 0x80000001u:
        out[3] = X_NX;
        break;
    case 0x80000002u: case 0x80000003u: case 0x80000004u:
        memcpy(out, brand + (leaf - 0x80000002u) * 16, 16);
        break;
    }
}
