/* Model-specific registers and the time-stamp counter. */
#include "cpu/cpu.h"
#include "system/event.h"

enum {
    MSR_PLATFORM_ID = 0x17, MSR_TSC = 0x10, MSR_APIC_BASE = 0x1b,
    MSR_BIOS_SIGN_ID = 0x8b, MSR_MTRRCAP = 0xfe,
    MSR_SYSENTER_CS = 0x174, MSR_SYSENTER_ESP = 0x175,
    MSR_SYSENTER_EIP = 0x176, MSR_MISC_ENABLE = 0x1a0,
    MSR_MTRR_PHYS_BASE0 = 0x200, MSR_PAT = 0x277, MSR_MTRR_DEF_TYPE = 0x2ff,
    MSR_EFER = 0xc0000080u,
};

/* The TSC ticks at a fixed nominal 1 GHz of virtual time, so a guest's
 * calibration against the PIT finds a steady clock. */
uint64_t cpu_rdtsc(CPUState *c)
{
    return (uint64_t)clock_ns() + c->tsc_offset;
}

/* Fixed-range MTRR MSR -> index into mtrr_fixed[], or -1. */
static int mtrr_fixed_index(uint32_t idx)
{
    if (idx == 0x250)
        return 0;
    if (idx == 0x258 || idx == 0x259)
        return 1 + (idx - 0x258);
    if (idx >= 0x268 && idx <= 0x26f)
        return 3 + (idx - 0x268);
    return -1;
}

/* Memory types valid in PAT and MTRRs: UC WC WT WP WB (and UC- for PAT). */
static bool valid_type(unsigned t, bool pat)
{
    return t == 0 || t == 1 || t == 4 || t == 5 || t == 6 || (pat && t == 7);
}

bool cpu_rdmsr(CPUState *c, uint32_t idx, uint64_t *val)
{
    int fi = mtrr_fixed_index(idx);
    if (fi >= 0) {
        *val = c->mtrr_fixed[fi];
        return true;
    }
    if (idx >= MSR_MTRR_PHYS_BASE0 && idx < MSR_MTRR_PHYS_BASE0 + 16) {
        *val = c->mtrr_var[idx - MSR_MTRR_PHYS_BASE0];
        return true;
    }
    switch (idx) {
    case MSR_TSC: *val = cpu_rdtsc(c); return true;
    case MSR_PLATFORM_ID: *val = 0; return true;
    case MSR_BIOS_SIGN_ID: *val = 0; return true;
    case MSR_APIC_BASE: *val = c->apic_base; return true;
    case MSR_MTRRCAP: *val = c->mtrr_cap; return true;
    case MSR_SYSENTER_CS: *val = c->sysenter_cs; return true;
    case MSR_SYSENTER_ESP: *val = c->sysenter_esp; return true;
    case MSR_SYSENTER_EIP: *val = c->sysenter_eip; return true;
    case MSR_MISC_ENABLE: *val = c->misc_enable; return true;
    case MSR_PAT: *val = c->pat; return true;
    case MSR_MTRR_DEF_TYPE: *val = c->mtrr_def_type; return true;
    case MSR_EFER: *val = c->efer; return true;
    }
    return false;
}

bool cpu_wrmsr(CPUState *c, uint32_t idx, uint64_t val)
{
    int fi = mtrr_fixed_index(idx);
    if (fi >= 0) {
        for (int i = 0; i < 8; i++)
            if (!valid_type((val >> (8 * i)) & 0xff, false))
                return false;
        c->mtrr_fixed[fi] = val;
        return true;
    }
    if (idx >= MSR_MTRR_PHYS_BASE0 && idx < MSR_MTRR_PHYS_BASE0 + 16) {
        int i = idx - MSR_MTRR_PHYS_BASE0;
        /* Even: PhysBase (type in 7:0), odd: PhysMask (valid bit 11);
         * 36-bit physical addresses. */
        uint64_t rsvd = (i & 1) ? 0xfffffff0000007ffull : 0xfffffff000000f00ull;
        if ((val & rsvd) || (!(i & 1) && !valid_type(val & 0xff, false)))
            return false;
        c->mtrr_var[i] = val;
        return true;
    }
    switch (idx) {
    case MSR_TSC:
        c->tsc_offset = val - (uint64_t)clock_ns();
        return true;
    case MSR_BIOS_SIGN_ID:
        return true;                 /* no microcode update to load */
    case MSR_APIC_BASE:
        if (val & ~0x0000000ffffff900ull)
            return false;
        c->apic_base = (val & ~0x100ull) | (c->apic_base & 0x100);
        return true;
    case MSR_SYSENTER_CS: c->sysenter_cs = (uint32_t)val; return true;
    case MSR_SYSENTER_ESP: c->sysenter_esp = (uint32_t)val; return true;
    case MSR_SYSENTER_EIP: c->sysenter_eip = (uint32_t)val; return true;
    case MSR_MISC_ENABLE: c->misc_enable = val; return true;
    case MSR_PAT:
        for (int i = 0; i < 8; i++)
            if (!valid_type((val >> (8 * i)) & 0xff, true))
                return false;
        c->pat = val;
        return true;
    case MSR_MTRR_DEF_TYPE:
        if ((val & ~0xcffull) || !valid_type(val & 0xff, false))
            return false;
        c->mtrr_def_type = val;
        return true;
    case MSR_EFER:
        /* Only NXE exists on this 32-bit CPU; LME and the rest #GP. */
        if (val & ~(uint64_t)EFER_NXE)
            return false;
        if ((val ^ c->efer) & EFER_NXE)
            cpu_tlb_flush(c, true);
        c->efer = val;
        return true;
    }
    return false;
}
