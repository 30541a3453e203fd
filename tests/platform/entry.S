/* Multiboot v1 entry for the platform test kernel: its own flat GDT, an
 * IDT whose vectors 0x20-0x4f count interrupts (and send the local APIC
 * an EOI), and every other vector reporting a fault on 0xE9. */
#define MB_MAGIC 0x1badb002
#define MB_FLAGS 0x00000000

    .section .note.GNU-stack, "", @progbits
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
    call idt_setup
    lidt idt_desc
    call kmain
2:  cli
    hlt
    jmp 2b

/* Fill the IDT: vectors 0-31 -> fault_stub, 32-255 -> irq stubs. */
idt_setup:
    xor %ecx, %ecx
3:  cmp $32, %ecx
    jb 4f
    mov %ecx, %eax
    sub $32, %eax
    imul $16, %eax
    add $irq_stubs, %eax
    jmp 5f
4:  mov $fault_stub, %eax
5:  mov %eax, %edx
    and $0xffff, %edx
    or $0x00080000, %edx              /* selector 0x08, offset 15:0 */
    mov %edx, idt(,%ecx,8)
    and $0xffff0000, %eax
    or $0x8e00, %eax                  /* present, DPL 0, 32-bit int gate */
    mov %eax, idt+4(,%ecx,8)
    inc %ecx
    cmp $256, %ecx
    jb 3b
    ret

fault_stub:
    push $0
    call guest_fault
    cli
    hlt

/* Each stub is 16 bytes: push the vector, jump to the common part. */
    .align 16
irq_stubs:
    .set v, 32
    .rept 224
    .align 16
    pushl $v
    jmp irq_common
    .set v, v + 1
    .endr

irq_common:
    pusha
    push 32(%esp)                     /* the vector pushed by the stub */
    call guest_irq
    add $4, %esp
    popa
    add $4, %esp
    iret

    .data
    .align 8
gdt:
    .quad 0
    .quad 0x00cf9a000000ffff          /* 0x08 code */
    .quad 0x00cf92000000ffff          /* 0x10 data */
gdt_desc:
    .word gdt_desc - gdt - 1
    .long gdt
idt_desc:
    .word 256 * 8 - 1
    .long idt

    .globl mb_magic, mb_info
mb_magic:
    .long 0
mb_info:
    .long 0

    .bss
    .align 16
idt:
    .space 256 * 8
    .space 16384
stack_top:
