; Privilege changes: ring 3 through IRET, back through an interrupt gate
; (stack switch from the TSS), a call gate with parameters and RETF to the
; outer level, conforming code, data-segment nulling on the way out,
; IOPL, SYSENTER/SYSEXIT, and LAR/LSL/VERR/VERW.
%include "lib.inc"

kernel_name: db "priv", 0

SEL_GATE  equ 0x33           ; call gate, DPL 3, 2 dword parameters
SEL_CONF  equ 0x38           ; conforming code, DPL 0
SEL_GATE2 equ 0x43           ; call gate DPL 0 (not callable from ring 3)

main:
    mov edi, gdt + SEL_GATE - 3
    mov ebx, gate_target
    mov ecx, SEL_CODE0
    mov dl, 0xec
    mov dh, 2
    call set_gate
    mov eax, SEL_CONF
    xor ebx, ebx
    mov ecx, 0xfffff
    mov dl, 0x9f
    mov dh, 0xc
    call set_desc
    mov edi, gdt + SEL_GATE2 - 3
    mov ebx, gate_target
    mov ecx, SEL_CODE0
    mov dl, 0x8c
    mov dh, 0
    call set_gate
    mov eax, 0x81
    mov ebx, syscall_81
    mov dl, 0xef                          ; trap gate, DPL 3
    call set_idt

    call enter_ring3
    mov eax, cs
    mov esi, msg_cs3
    call report
    ; INT 0x81: ring 0 on the TSS stack, and back with IRET
    mov eax, 0x81
    int 0x81
    mov eax, esp
    mov esi, msg_esp_back
    call report
    ; call gate with two parameters
    push dword 0x1111
    push dword 0x2222
    call SEL_GATE:0
    mov eax, esp
    mov esi, msg_esp_ret
    call report
    mov eax, es
    mov esi, msg_es_nulled
    call report
    ; conforming code keeps CPL 3
    call SEL_CONF:conf_code
    ; a DPL-0 call gate and a DPL-0 data segment are out of reach
    EXPECT g1_at, g1_done
g1_at:
    call SEL_GATE2:0
g1_done:
    mov ax, SEL_DATA0
    EXPECT g2_at, g2_done
g2_at:
    mov ds, ax
g2_done:
    EXPECT g3_at, g3_done
g3_at:
    hlt
g3_done:
    EXPECT g4_at, g4_done
g4_at:
    lgdt [gdt_desc]
g4_done:
    ; descriptor inspection from ring 3
    mov ebx, SEL_CODE3
    call inspect
    mov ebx, SEL_DATA0                    ; DPL 0: invisible from ring 3
    call inspect
    mov ebx, SEL_TSS
    call inspect
    mov ebx, SEL_CONF
    call inspect
    int 0x80

    ; IOPL 3: CLI/STI are allowed in ring 3
    mov cx, SEL_DATA3
    mov ds, cx
    mov es, cx
    push dword SEL_DATA3
    push dword USTACK
    push dword 0x3002
    push dword SEL_CODE3
    push dword iopl3_code
    iretd
iopl3_code:
    cli
    mov esi, msg_cli_ok
    call say
    int 0x80

    call sysenter_test
    ret

; LAR/LSL/VERR/VERW of the selector in ebx, one line each.
inspect:
    mov eax, ebx
    mov esi, msg_sel
    call report
    xor eax, eax
    lar eax, ebx
    call zf_report_lar
    xor eax, eax
    lsl eax, ebx
    call zf_report_lsl
    verr bx
    setz al
    movzx eax, al
    mov esi, msg_verr
    call report
    verw bx
    setz al
    movzx eax, al
    mov esi, msg_verw
    call report
    ret
zf_report_lar:
    mov esi, msg_lar
    jz report
    mov esi, msg_lar_fail
    jmp say
zf_report_lsl:
    mov esi, msg_lsl
    jz report
    mov esi, msg_lsl_fail
    jmp say

syscall_81:
    mov eax, [esp + 4]                    ; CS of the caller
    mov esi, msg_frame_cs
    call report
    mov eax, esp
    mov esi, msg_ring0_esp
    call report
    mov eax, cs
    mov esi, msg_handler_cs
    call report
    iretd

gate_target:
    mov eax, cs
    mov esi, msg_gate_cs
    call report
    mov eax, [esp + 8]
    mov esi, msg_param0
    call report
    mov eax, [esp + 12]
    mov esi, msg_param1
    call report
    mov eax, [esp + 16]
    mov esi, msg_old_esp
    call report
    mov eax, [esp + 20]
    mov esi, msg_old_ss
    call report
    mov ax, SEL_DATA0                     ; must be nulled by RETF
    mov es, ax
    retf 8

conf_code:
    mov eax, cs
    mov esi, msg_conf_cs
    call report
    retf

sysenter_test:
    xor edx, edx
    mov ecx, 0x174
    mov eax, SEL_CODE0
    wrmsr
    mov ecx, 0x175
    mov eax, ISTACK
    wrmsr
    mov ecx, 0x176
    mov eax, sysenter_entry
    wrmsr
    call enter_ring3
    mov ecx, esp
    mov edx, after_sysexit
    sysenter
after_sysexit:
    mov eax, cs
    mov esi, msg_after_exit
    call report
    mov eax, ss
    mov esi, msg_after_exit_ss
    call report
    int 0x80
    ret

sysenter_entry:
    mov eax, cs
    mov esi, msg_sysenter_cs
    call report
    mov eax, ss
    mov esi, msg_sysenter_ss
    call report
    mov eax, esp
    mov esi, msg_sysenter_esp
    call report
    sysexit

msg_cs3:           db "ring-3 CS", 0
msg_frame_cs:      db "INT 0x81 frame CS", 0
msg_ring0_esp:     db "INT 0x81 ring-0 ESP", 0
msg_handler_cs:    db "INT 0x81 handler CS", 0
msg_esp_back:      db "ESP after IRET", 0
msg_gate_cs:       db "call gate target CS", 0
msg_param0:        db "param 0", 0
msg_param1:        db "param 1", 0
msg_old_esp:       db "saved ESP", 0
msg_old_ss:        db "saved SS", 0
msg_esp_ret:       db "ESP after RETF 8", 0
msg_es_nulled:     db "ES after RETF to ring 3", 0
msg_conf_cs:       db "conforming CS", 0
msg_sel:           db "selector", 0
msg_lar:           db " LAR", 0
msg_lar_fail:      db " LAR fails", 0
msg_lsl:           db " LSL", 0
msg_lsl_fail:      db " LSL fails", 0
msg_verr:          db " VERR", 0
msg_verw:          db " VERW", 0
msg_cli_ok:        db "CLI at IOPL 3 ok", 0
msg_sysenter_cs:   db "SYSENTER CS", 0
msg_sysenter_ss:   db "SYSENTER SS", 0
msg_sysenter_esp:  db "SYSENTER ESP", 0
msg_after_exit:    db "SYSEXIT CS", 0
msg_after_exit_ss: db "SYSEXIT SS", 0

KERNEL_END
