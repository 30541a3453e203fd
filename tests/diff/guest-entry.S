/* Multiboot v1 entry of the difftest guest kernel: a flat GDT of its own,
 * an IDT whose handlers turn an exception inside a case into a result (so
 * one bad case does not end the run), and the exit paths.
 *
 * Cases run in ring 0 (difftest_enter in run.S, shared with the native
 * runner) or, with "ring3" on the command line, in ring 3 like the native
 * ones (difftest_enter_user below): an IRET into the case, an INT 0x30 out
 * of it, exceptions and timer interrupts on the TSS's ring-0 stack, so the
 * case's own stack never sees a frame. */
#include "difftest.h"
#define C(off) (DT_CTRL + (off))
#define MB_MAGIC 0x1badb002
#define MB_FLAGS 0x00000001          /* page-align modules */

    .section .multiboot, "a"
    .align 4
    .long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

    .text
    .globl _start
_start:
    cli
    mov $stack_top, %esp
    mov %eax, mb_magic
    mov %ebx, mb_info
    lgdt gdt_desc
    ljmp $0x08, $1f
1:  mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %fs
    mov %ax, %gs
    mov %ax, %ss
    cld
    call kmain
    .globl guest_halt
guest_halt:
    /* isa-debug-exit ends the run; without it, a triple fault does (the
     * emulator runs with -no-reboot). */
    cli
    lidt idt_null
    int3
2:  hlt
    jmp 2b

/* Exception stubs: push a zero error code where the CPU pushes none. */
    .macro isr n
isr\n:
    .if (\n == 8) || (\n == 10) || (\n == 11) || (\n == 12) || (\n == 13) || (\n == 14) || (\n == 17)
    .else
    push $0
    .endif
    push $\n
    jmp isr_common
    .endm
    .altmacro
    .set i, 0
    .rept 32
    isr %i
    .set i, i + 1
    .endr

isr_common:
    /* The registers of the faulting case first, before any is touched. */
    mov %eax, C(DT_C_OUT + 0)
    mov %ecx, C(DT_C_OUT + 4)
    mov %edx, C(DT_C_OUT + 8)
    mov %ebx, C(DT_C_OUT + 12)
    mov %ebp, C(DT_C_OUT + 20)
    mov %esi, C(DT_C_OUT + 24)
    mov %edi, C(DT_C_OUT + 28)
    cmpl $0, C(DT_C_IN_CASE)
    je kernel_fault
    movl $0, C(DT_C_IN_CASE)
    mov (%esp), %eax
    inc %eax
    mov %eax, C(DT_C_FAULT)
    mov 4(%esp), %eax
    mov %eax, C(DT_C_FAULT_ERR)
    mov 8(%esp), %eax
    mov %eax, C(DT_C_FAULT_EIP)
    mov 16(%esp), %eax
    mov %eax, C(DT_C_OUT_EFL)
    lea 20(%esp), %eax
    testl $3, 12(%esp)               /* from ring 3: the frame has ESP */
    jz 1f
    mov 20(%esp), %eax
1:  mov %eax, C(DT_C_OUT + 16)
    jmp back_to_kernel
kernel_fault:
    mov $stack_top, %eax
    xchg %eax, %esp
    push 8(%eax)                     /* eip */
    push (%eax)                      /* vector */
    call kernel_panic
    jmp guest_halt

/* Ring-3 cases end here: the exit jump lands on this INT 0x30 (gate DPL 3),
 * which reaches exit_gate on the ring-0 stack with every register intact. */
    .globl user_exit_stub
user_exit_stub:
    int $0x30
    .globl exit_gate
exit_gate:
    mov %eax, C(DT_C_OUT + 0)
    mov %ecx, C(DT_C_OUT + 4)
    mov %edx, C(DT_C_OUT + 8)
    mov %ebx, C(DT_C_OUT + 12)
    mov %ebp, C(DT_C_OUT + 20)
    mov %esi, C(DT_C_OUT + 24)
    mov %edi, C(DT_C_OUT + 28)
    mov 8(%esp), %eax                /* EFLAGS */
    mov %eax, C(DT_C_OUT_EFL)
    mov 12(%esp), %eax               /* ESP */
    mov %eax, C(DT_C_OUT + 16)
    movl $0, C(DT_C_IN_CASE)
back_to_kernel:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %fs
    mov %ax, %gs
    mov C(DT_C_HOST_ESP), %esp
    jmp difftest_return

/* void difftest_enter_user(uint32_t if_flag): the ring-3 twin of
 * difftest_enter: IRET to CS 0x1b / SS 0x23 with the case's registers and
 * flags (plus IF when timer interrupts are on). */
    .globl difftest_enter_user
difftest_enter_user:
    mov 4(%esp), %ecx
    push %ebp
    push %ebx
    push %esi
    push %edi
    mov %esp, C(DT_C_HOST_ESP)
    pushf
    pop %eax
    andl $~(DT_FL_CASE | 0x200 | 0x3000 | 0x4000 | 0x40000 | 0x200000), %eax
    mov C(DT_C_IN_EFL), %edx
    andl $DT_FL_CASE, %edx
    or %edx, %eax
    or %ecx, %eax
    pushl $0x23                      /* SS */
    pushl C(DT_C_IN + 16)            /* ESP */
    push %eax                        /* EFLAGS */
    pushl $0x1b                      /* CS */
    pushl C(DT_C_ENTRY)              /* EIP */
    mov $0x23, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %fs
    mov %ax, %gs
    mov C(DT_C_IN + 0), %eax
    mov C(DT_C_IN + 4), %ecx
    mov C(DT_C_IN + 8), %edx
    mov C(DT_C_IN + 12), %ebx
    mov C(DT_C_IN + 20), %ebp
    mov C(DT_C_IN + 24), %esi
    mov C(DT_C_IN + 28), %edi
    iret

/* Single-stepping ("step"): the #DB after each instruction of a ring-3
 * case counts (while EIP is in the code area, as natively) and returns
 * with TF set again (a POPF in the case may have cleared it); only memory
 * operands, so no register changes. */
    .globl db_step, step_count
db_step:
    testl $3, %ss:4(%esp)
    jz 1f
    cmpl $DT_CODE, %ss:(%esp)
    jb 1f
    cmpl $(DT_CODE + DT_CODE_AREA), %ss:(%esp)
    jae 1f
    orl $0x100, %ss:8(%esp)
    incl %ss:step_count
1:  iret

/* Timer and other PIC interrupts: acknowledge, count, return; nothing of
 * the interrupted case changes. */
    .globl irq_master, irq_slave, irq_count
irq_slave:
    push %eax
    mov $0x20, %al
    out %al, $0xa0
    jmp 1f
irq_master:
    push %eax
1:  mov $0x20, %al
    out %al, $0x20
    incl %ss:irq_count
    pop %eax
    iret

    .globl idt_load
idt_load:
    mov 4(%esp), %eax
    lidt (%eax)
    ret

    .section .rodata
    .globl isr_table
    .align 4
isr_table:
    .macro isr_ref n
    .long isr\n
    .endm
    .set i, 0
    .rept 32
    isr_ref %i
    .set i, i + 1
    .endr

gdt_desc:
    .word gdt_end - gdt - 1
    .long gdt
idt_null:
    .word 0
    .long 0

    .data
    .globl mb_magic, mb_info, gdt
mb_magic: .long 0
mb_info:  .long 0
irq_count: .long 0
step_count: .long 0
    .align 8
gdt:
    .quad 0
    .quad 0x00cf9a000000ffff         /* 0x08: code, base 0, limit 4 GiB */
    .quad 0x00cf92000000ffff         /* 0x10: data */
    .quad 0x00cffa000000ffff         /* 0x18: ring-3 code */
    .quad 0x00cff2000000ffff         /* 0x20: ring-3 data */
    .quad 0                          /* 0x28: the TSS, filled in by kmain */
gdt_end:

    .bss
    .align 16
    .space 16384
stack_top:
    .section .note.GNU-stack,"",@progbits
