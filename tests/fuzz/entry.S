/* Multiboot entry of the chaos kernel. Every one of the 256 vectors lands
 * in trap_common, which throws the interrupted context away: it reloads the
 * flat segments and the kernel stack and calls chaos_trap(vector), which
 * never returns (it resumes the op loop from its global state). That way a
 * fault or an interrupt at any point, with or without an error code, from
 * CPL 0 or CPL 3, can never confuse the handler. */
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
    mov %ebx, mb_info
    call reload_flat
    call idt_setup
    lidt idt_desc
    call kmain
1:  cli
    hlt
    jmp 1b

    .globl reload_flat
reload_flat:
    lgdt gdt_desc
    ljmp $0x08, $2f
2:  mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %fs
    mov %ax, %gs
    mov %ax, %ss
    ret

idt_setup:
    xor %ecx, %ecx
3:  mov %ecx, %eax
    shl $4, %eax
    add $trap_stubs, %eax
    mov %eax, %edx
    and $0xffff, %edx
    or $0x00080000, %edx              /* selector 0x08, offset 15:0 */
    mov %edx, idt(,%ecx,8)
    and $0xffff0000, %eax
    or $0xee00, %eax                  /* present, DPL 3 (int n from ring 3), int gate */
    mov %eax, idt+4(,%ecx,8)
    inc %ecx
    cmp $256, %ecx
    jb 3b
    ret

    .align 16
trap_stubs:
    .set v, 0
    .rept 256
    .align 16
    pushl $v
    jmp trap_common
    .set v, v + 1
    .endr

trap_common:
    mov (%esp), %ebx                  /* the vector pushed by the stub */
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov $stack_top, %esp
    call reload_flat
    cld
    push %ebx
    call chaos_trap                   /* never returns */
4:  cli
    hlt
    jmp 4b

/* The #DF task: a task gate gives it a fresh stack however broken ESP was
 * (random CPL-0 code swaps ESP freely). df_recover() frees the main TSS
 * and points it at df_resume; the far jump switches back to the main task,
 * and the next #DF re-enters this task after the jump, hence the loop. */
    .globl df_entry, df_resume
df_entry:
    mov $df_stack_top, %esp
    call df_recover
    ljmp $0x28, $0
    jmp df_entry

df_resume:
    pushl $8
    jmp trap_common

/* enter_chaos(eip, cpl3, regs[7]): load eax,ebx,ecx,edx,esi,edi,ebp from
 * regs and jump to eip at CPL 3 (iret, IF=1, IOPL 0) or at CPL 0 with IF=1
 * and ESP at the ring-0 chaos stack. */
    .globl enter_chaos
enter_chaos:
    mov 4(%esp), %eax                 /* eip */
    mov %eax, chaos_eip
    mov 8(%esp), %ecx                 /* cpl3? */
    mov 12(%esp), %esi                /* regs */
    test %ecx, %ecx
    jz 5f
    mov $0x23, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %fs
    mov %ax, %gs
    pushl $0x23
    pushl $0x403000                   /* user stack top */
    pushl $0x202
    pushl $0x1b
    pushl chaos_eip
    jmp 6f
5:  mov $0x403800, %esp               /* mid-page: ring-0 chaos stack */
    pushl $0x202
    pushl $0x08
    pushl %ss:chaos_eip
6:  mov %ss:0(%esi), %eax
    mov %ss:4(%esi), %ebx
    mov %ss:8(%esi), %ecx
    mov %ss:12(%esi), %edx
    mov %ss:20(%esi), %edi
    mov %ss:24(%esi), %ebp
    mov %ss:16(%esi), %esi
    iret

    .data
    .align 8
    .globl gdt
gdt:
    .quad 0
    .quad 0x00cf9a000000ffff          /* 0x08 ring-0 code */
    .quad 0x00cf92000000ffff          /* 0x10 ring-0 data */
    .quad 0x00cffa000000ffff          /* 0x18 ring-3 code */
    .quad 0x00cff2000000ffff          /* 0x20 ring-3 data */
    .quad 0                           /* 0x28 TSS, filled in by cpu_setup */
    .quad 0                           /* 0x30 the #DF task's TSS */
    .space 8 * 25                     /* 0x38-0xf8: random descriptors (cpu modes) */
gdt_desc:
    .word gdt_desc - gdt - 1
    .long gdt
    .globl idt_desc
idt_desc:
    .word 256 * 8 - 1
    .long idt
    .globl mb_info
mb_info:
    .long 0
chaos_eip:
    .long 0

    .bss
    .align 16
idt:
    .space 256 * 8
    .space 16384
    .globl stack_top
stack_top:
    .space 4096
df_stack_top:
