; Hardware task switches: JMP to a TSS and back, CALL with NT and the back
; link then IRET, busy bits, an LDT loaded from the incoming TSS, INT n
; through a task gate, and a task gate for #DF (the way Windows handles
; double faults).
%include "lib.inc"

kernel_name: db "task", 0

TSS_B   equ 0x194000
TSS_DF  equ 0x195000
STACK_B equ 0x1a0000
STACK_DF equ 0x1a8000

SEL_TSSB  equ 0x30
SEL_TSSDF equ 0x38
SEL_LDT   equ 0x40
SEL_LDATA equ 0x0c           ; LDT entry 1, TI=1

main:
    mov eax, SEL_TSSB
    mov ebx, TSS_B
    mov ecx, 0x67
    mov dl, 0x89
    mov dh, 0
    call set_desc
    mov eax, SEL_TSSDF
    mov ebx, TSS_DF
    call set_desc
    mov eax, SEL_LDT
    mov ebx, ldt_table
    mov ecx, 15
    mov dl, 0x82
    call set_desc
    mov dword [0x160000], 0xdeadbeef

    ; JMP to task B and back by JMP
    mov edi, TSS_B
    mov ebx, task_b
    mov ecx, STACK_B
    call init_tss
    mov ebx, 0x12345678
    jmp SEL_TSSB:0
    mov eax, ebx
    mov esi, msg_ebx
    call report
    call busy_bits

    ; CALL task B: it sees NT and the back link, and returns with IRET
    mov edi, TSS_B
    mov ebx, task_b
    mov ecx, STACK_B
    call init_tss
    call SEL_TSSB:0
    mov esi, msg_back_call
    call say
    call busy_bits

    ; INT 0x50 through a task gate
    mov edi, IDT_BASE + 0x50 * 8
    xor ebx, ebx
    mov ecx, SEL_TSSB
    mov dl, 0x85
    mov dh, 0
    call set_gate
    mov edi, TSS_B
    mov ebx, task_b
    mov ecx, STACK_B
    call init_tss
    int 0x50
    mov esi, msg_back_int
    call say

    ; #DF through a task gate
    mov edi, IDT_BASE + 8 * 8
    xor ebx, ebx
    mov ecx, SEL_TSSDF
    mov dl, 0x85
    mov dh, 0
    call set_gate
    mov edi, TSS_DF
    mov ebx, df_task
    mov ecx, STACK_DF
    call init_tss
    and byte [IDT_BASE + 13 * 8 + 5], 0x7f
    mov ax, 0xfff8
    mov ds, ax                            ; #GP -> #NP -> #DF
df_resume:
    mov esi, msg_df_resumed
    call say
    call busy_bits
    ret

; edi = TSS, ebx = EIP, ecx = ESP: a ring-0 flat task with the test LDT.
init_tss:
    push edi
    push ecx
    push eax
    push ecx
    mov ecx, 0x68 / 4
    xor eax, eax
    rep stosd
    pop ecx
    pop eax
    mov edi, [esp + 4]
    mov [edi + 0x20], ebx
    mov dword [edi + 0x24], 2
    mov [edi + 0x38], ecx
    mov dword [edi + 0x48], SEL_DATA0
    mov dword [edi + 0x4c], SEL_CODE0
    mov dword [edi + 0x50], SEL_DATA0
    mov dword [edi + 0x54], SEL_DATA0
    mov dword [edi + 0x58], SEL_DATA0
    mov dword [edi + 0x5c], SEL_DATA0
    mov dword [edi + 0x60], SEL_LDT
    mov word [edi + 0x66], 0x68
    pop ecx
    pop edi
    ret

busy_bits:
    mov eax, [gdt + SEL_TSS + 4]
    shr eax, 9
    and eax, 1
    mov esi, msg_busy_main
    call report
    mov eax, [gdt + SEL_TSSB + 4]
    shr eax, 9
    and eax, 1
    mov esi, msg_busy_b
    call report
    mov eax, [gdt + SEL_TSSDF + 4]
    shr eax, 9
    and eax, 1
    mov esi, msg_busy_df
    jmp report

task_b:
    xor eax, eax
    str ax
    mov esi, msg_tr
    call report
    pushfd
    pop eax
    and eax, 0x4000
    mov esi, msg_nt
    call report
    movzx eax, word [TSS_B]
    mov esi, msg_link
    call report
    xor eax, eax
    sldt ax
    mov esi, msg_ldtr
    call report
    mov ax, SEL_LDATA
    mov ds, ax
    mov eax, [0]
    mov cx, SEL_DATA0
    mov ds, cx
    mov esi, msg_ldt_read
    call report
    mov eax, ebx
    mov esi, msg_b_ebx                    ; task B's own (zero) EBX
    call report
    call busy_bits
    pushfd
    test dword [esp], 0x4000
    pop eax
    jz .by_jmp
    iretd
.by_jmp:
    jmp SEL_TSS:0

df_task:
    pop eax
    mov esi, msg_df_err
    call report
    xor eax, eax
    str ax
    mov esi, msg_df_tr
    call report
    movzx eax, word [TSS_DF]
    mov esi, msg_link
    call report
    ; Resume the faulting task past the fault, with #GP's gate repaired.
    mov dword [TSS_MAIN + 0x20], df_resume
    mov dword [TSS_MAIN + 0x54], SEL_DATA0
    or byte [IDT_BASE + 13 * 8 + 5], 0x80
    iretd

align 8
ldt_table:
    dq 0
    dq 0x0040931600000fff       ; data, base 0x160000, limit 0xfff

msg_ebx:        db "EBX back in main task", 0
msg_back_call:  db "back from CALL to task", 0
msg_back_int:   db "back from INT through task gate", 0
msg_df_resumed: db "resumed after #DF task", 0
msg_busy_main:  db "busy main", 0
msg_busy_b:     db "busy B", 0
msg_busy_df:    db "busy DF", 0
msg_tr:         db "task B TR", 0
msg_nt:         db "task B NT", 0
msg_link:       db "back link", 0
msg_ldtr:       db "task B LDTR", 0
msg_ldt_read:   db "read through LDT segment", 0
msg_b_ebx:      db "task B EBX", 0
msg_df_err:     db "#DF error code on task stack", 0
msg_df_tr:      db "#DF task TR", 0

KERNEL_END
