/* Multiboot v1 entry of the difftest guest kernel: a flat GDT of its own,
 * an IDT whose handlers turn an exception inside a case into a result (so
 * one bad case does not end the run), and the exit paths. */
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
    mov %eax, C(DT_C_OUT + 16)
    mov C(DT_C_HOST_ESP), %esp
    jmp difftest_return
kernel_fault:
    mov $stack_top, %eax
    xchg %eax, %esp
    push 8(%eax)                     /* eip */
    push (%eax)                      /* vector */
    call kernel_panic
    jmp guest_halt

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

    .align 8
gdt:
    .quad 0
    .quad 0x00cf9a000000ffff         /* 0x08: code, base 0, limit 4 GiB */
    .quad 0x00cf92000000ffff         /* 0x10: data */
gdt_desc:
    .word gdt_desc - gdt - 1
    .long gdt
idt_null:
    .word 0
    .long 0

    .data
    .globl mb_magic, mb_info
mb_magic: .long 0
mb_info:  .long 0

    .bss
    .align 16
    .space 16384
stack_top:
    .section .note.GNU-stack,"",@progbits
