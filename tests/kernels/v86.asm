; Virtual-8086 mode: entering it with IRET, INT n at IOPL 3 through a
; 32-bit trap gate (the ring-0 frame carries GS/FS/DS/ES and the data
; registers read as null inside the handler), IRET back to v86, I/O through
; the TSS bitmap (always consulted in v86), and the IOPL-sensitive
; instructions at IOPL 0 (#GP(0) each).
%include "lib.inc"

kernel_name: db "v86", 0

V86_SEG  equ 0x0800          ; code copied to 0x8000
V86_SS   equ 0x0900
%define V(label) ((label) - v86_code)

; EXPECT for 16-bit v86 code: the runtime's variables sit just above 1 MiB,
; which v86 code reaches through segment 0xffff (A20 is on).
%macro EXPECT32 2
    push ds
    push word 0xffff
    pop ds
    mov dword [expect_eip - $$ + 0x10], %1     ; $$ = 0x100000 = 0xffff:0x10
    mov dword [resume - $$ + 0x10], %2
    pop ds
%endmacro

main:
    mov esi, v86_code
    mov edi, V86_SEG * 16
    mov ecx, v86_end - v86_code
    rep movsb
    mov eax, 0x81
    mov ebx, int81
    mov dl, 0xef                          ; trap gate, DPL 3
    call set_idt
    mov eax, 6                            ; #UD: the way out of v86
    mov ebx, v86_exit
    mov dl, 0x8e
    call set_idt

    mov dword [v86_cont], .back1
    mov eax, 0x23002                      ; VM, IOPL 3 (IF stays 0: no IRQs)
    mov ebx, V(v86_iopl3)
    call enter_v86
.back1:
    mov dword [v86_cont], .back2
    mov eax, 0x20002                      ; VM, IOPL 0
    mov ebx, V(v86_iopl0)
    call enter_v86
.back2:
    ret

; eax = EFLAGS, ebx = IP: IRET into v86 mode at V86_SEG:bx.
enter_v86:
    lea ecx, [esp + 4]                    ; v86_exit continues at v86_cont
    mov [k_esp], ecx
    push dword 0x5000                     ; GS
    push dword 0x4000                     ; FS
    push dword V86_SEG                    ; DS
    push dword 0x3000                     ; ES
    push dword V86_SS
    push dword 0xfffe
    push eax
    push dword V86_SEG
    push ebx
    iretd

v86_exit:
    mov ax, SEL_DATA0
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov eax, [esp]
    mov esi, msg_ud_ip
    call report
    mov esp, [k_esp]
    jmp [v86_cont]

int81:
    mov eax, ds                           ; null inside the handler
    mov esi, msg_h_ds
    mov cx, SEL_DATA0
    mov ds, cx
    call report
    mov esi, frame_names
    xor ebx, ebx
.frame:
    mov eax, [esp + ebx * 4]
    call report
.skip:
    lodsb                                 ; next name
    test al, al
    jnz .skip
    inc ebx
    cmp ebx, 9
    jb .frame
    iretd

frame_names:
    db "frame EIP", 0, "frame CS", 0, "frame EFLAGS", 0, "frame ESP", 0
    db "frame SS", 0, "frame ES", 0, "frame DS", 0, "frame FS", 0
    db "frame GS", 0
msg_h_ds:  db "handler DS", 0
msg_ud_ip: db "left v86 at IP", 0

align 4
v86_cont: dd 0

; ---- 16-bit code, copied to V86_SEG:0 ----
bits 16
v86_code:
v86_iopl3:
    int 0x81
    ; IN/OUT: COM1 is open in the bitmap, port 0x60 is not
    mov dx, COM1 + 7
    mov al, 0x5a
    out dx, al
    in al, dx
    EXPECT32 V(p1_at), V(p1_done)
p1_at:
    in al, 0x60
p1_done:
    ; CLI/PUSHF/POPF are allowed at IOPL 3
    cli
    pushf
    popf
    ud2

v86_iopl0:
    EXPECT32 V(g1_at), V(g1_done)
g1_at:
    int 0x81
g1_done:
    EXPECT32 V(g2_at), V(g2_done)
g2_at:
    cli
g2_done:
    EXPECT32 V(g3_at), V(g3_done)
g3_at:
    pushf
g3_done:
    EXPECT32 V(g4_at), V(g4_done)
g4_at:
    iret
g4_done:
    ud2
v86_end:
bits 32

KERNEL_END
