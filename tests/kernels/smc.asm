; Self-modifying code: patching an instruction that already ran, patching
; the very next instruction (P6 and later notice the store and refetch),
; code copied with REP MOVSB and run, and a patch written through a second
; linear alias of the same physical page (paging).
%include "lib.inc"

kernel_name: db "smc", 0

PD     equ 0x200000
PT0    equ 0x201000
ALIAS  equ 0x400000           ; second mapping of the page holding `aliased`
BUF    equ 0x150000

main:
    ; 1. an instruction that already ran, patched and run again
    mov ecx, 2
again1:
patch1:
    mov eax, 0x11111111
    mov esi, msg_patch1
    call report
    mov dword [patch1 + 1], 0x22222222
    loop again1

    ; 2. the next instruction
    mov byte [next + 1], 0x42
next:
    mov al, 0x11
    movzx eax, al
    mov esi, msg_next
    call report

    ; 3. code built with REP MOVSB, run, rebuilt, run again
    mov esi, tmpl
    mov edi, BUF
    mov ecx, tmpl_end - tmpl
    rep movsb
    call BUF
    mov esi, msg_copy
    call report
    mov dword [BUF + 1], 0x44444444
    call BUF
    mov esi, msg_copy
    call report

    ; 4. patch through a second linear alias
    mov edi, PD
    mov ecx, 1024
    xor eax, eax
    rep stosd
    mov dword [PD], PT0 | 3
    mov edi, PT0
    mov eax, 3
    mov ecx, 1024
.fill:
    stosd
    add eax, 0x1000
    loop .fill
    mov eax, aliased
    and eax, ~0xfff
    or eax, 3
    mov dword [PD + 4], (PT0 + 0x1000) | 3
    mov [PT0 + 0x1000], eax               ; ALIAS -> page of `aliased`
    mov eax, PD
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    call aliased
    mov esi, msg_alias
    call report
    mov eax, aliased
    and eax, 0xfff
    mov dword [ALIAS + eax + 1], 0x66666666
    call aliased
    mov esi, msg_alias
    call report
    mov eax, cr0
    and eax, ~0x80000000
    mov cr0, eax
    ret

tmpl:
    mov eax, 0x33333333
    ret
tmpl_end:

aliased:
    mov eax, 0x55555555
    ret

msg_patch1: db "patched earlier instruction", 0
msg_next:   db "patched next instruction", 0
msg_copy:   db "copied code", 0
msg_alias:  db "patched through alias", 0

KERNEL_END
