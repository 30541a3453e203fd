/* Enter and leave one case; shared by the native runner and the guest
 * kernel.  Only absolute addresses in the fixed control block are used, so
 * the same code works position-independent (native PIE) and flat (guest),
 * and no register is needed to find the save areas. */
#include "difftest.h"
#define C(off) (DT_CTRL + (off))

    .text
    .globl difftest_enter
    .type difftest_enter, @function
/* void difftest_enter(void): runs the case at DT_CODE with the registers
 * and flags in the control block; results land in the control block. */
difftest_enter:
    push %ebp
    push %ebx
    push %esi
    push %edi
    mov %esp, C(DT_C_HOST_ESP)
    /* Only the arithmetic flags and DF: IF and IOPL stay as they are
     * (user mode ignores them anyway, and the guest must keep IF=0). */
    pushf
    pop %eax
    andl $~DT_FL_CASE, %eax
    mov C(DT_C_IN_EFL), %ecx
    andl $DT_FL_CASE, %ecx
    or %ecx, %eax
    or C(DT_C_XFL), %eax
    push %eax
    mov C(DT_C_IN + 0), %eax
    mov C(DT_C_IN + 4), %ecx
    mov C(DT_C_IN + 8), %edx
    mov C(DT_C_IN + 12), %ebx
    mov C(DT_C_IN + 20), %ebp
    mov C(DT_C_IN + 24), %esi
    mov C(DT_C_IN + 28), %edi
    popf
    mov C(DT_C_IN + 16), %esp
    jmp *C(DT_C_ENTRY)
    .size difftest_enter, . - difftest_enter

    .globl difftest_exit
    .type difftest_exit, @function
difftest_exit:
    mov %eax, C(DT_C_OUT + 0)
    mov %ecx, C(DT_C_OUT + 4)
    mov %edx, C(DT_C_OUT + 8)
    mov %ebx, C(DT_C_OUT + 12)
    mov %esp, C(DT_C_OUT + 16)
    mov %ebp, C(DT_C_OUT + 20)
    mov %esi, C(DT_C_OUT + 24)
    mov %edi, C(DT_C_OUT + 28)
    mov C(DT_C_HOST_ESP), %esp
    pushf
    popl C(DT_C_OUT_EFL)
    .globl difftest_return
difftest_return:
    cld
    pop %edi
    pop %esi
    pop %ebx
    pop %ebp
    ret
    .size difftest_exit, . - difftest_exit
    .section .note.GNU-stack,"",@progbits
