; Checks QEMU's TCG does not implement as the SDM specifies: segment limit
; and type checks on ordinary data accesses, the alignment check, and the
; P bit that accompanies RSVD in a reserved-bit page fault. This kernel's
; expected output comes from the SDM alone (vol. 3, 5.3 "Limit Checking",
; 5.5 "Type Checking", 6.15 "#AC", 4.7 "Page-Fault Exceptions") and it runs
; under Kestrel only.
%include "lib.inc"

kernel_name: db "strict", 0

SEL_SMALL  equ 0x30          ; data, base 0x160000, limit 0xfff
SEL_EXPDN  equ 0x38          ; expand-down data, limit 0xfff, B=1
SEL_RO     equ 0x40          ; read-only data
SEL_XO     equ 0x48          ; execute-only code
SEL_TINY3  equ 0x53          ; ring-3 stack, limit 0xfff

main:
    mov eax, SEL_SMALL
    mov ebx, 0x160000
    mov ecx, 0xfff
    mov dl, 0x92
    mov dh, 0x4
    call set_desc
    mov eax, SEL_EXPDN
    mov dl, 0x96
    call set_desc
    mov eax, SEL_RO
    xor ebx, ebx
    mov ecx, 0xfffff
    mov dl, 0x90
    mov dh, 0xc
    call set_desc
    mov eax, SEL_XO
    mov dl, 0x98
    call set_desc
    mov eax, SEL_TINY3
    mov ebx, 0x170000
    mov ecx, 0xfff
    mov dl, 0xf2
    mov dh, 0x4
    call set_desc

    ; limit: the last dword fits, one byte further faults #GP(0)
    mov ax, SEL_SMALL
    mov fs, ax
    mov eax, [fs:0xffc]
    EXPECT l1_at, l1_done
l1_at:
    mov eax, [fs:0xffd]
l1_done:
    ; expand-down: offsets at or below the limit are outside
    mov ax, SEL_EXPDN
    mov gs, ax
    mov eax, [gs:0x1000]
    EXPECT l2_at, l2_done
l2_at:
    mov eax, [gs:0x800]
l2_done:
    ; type: writes to read-only data and through CS fault
    mov ax, SEL_RO
    mov es, ax
    mov eax, [es:scratch]
    EXPECT t1_at, t1_done
t1_at:
    mov dword [es:scratch], 1
t1_done:
    EXPECT t2_at, t2_done
t2_at:
    mov dword [cs:scratch], 1
t2_done:
    ; execute-only code cannot even be loaded into a data register
    mov ax, SEL_XO
    EXPECT t3_at, t3_done
t3_at:
    mov es, ax
t3_done:
    ; a null selector loads fine but any access through it faults
    xor eax, eax
    mov es, ax
    EXPECT t4_at, t4_done
t4_at:
    mov eax, [es:scratch]
t4_done:
    mov ax, SEL_DATA0
    mov es, ax

    mov eax, cr0
    or eax, 0x40000                         ; CR0.AM
    mov cr0, eax
    call enter_ring3
    ; #SS(0): push below a small stack segment's limit
    mov ax, SEL_TINY3
    mov ss, ax
    mov esp, 0x2000
    EXPECT s1_at, s1_done
s1_at:
    push eax
s1_done:
    mov ax, SEL_DATA3
    mov ss, ax
    mov esp, USTACK
    ; misaligned access without EFLAGS.AC: fine
    mov eax, [0x170001]
    ; #AC(0) with CR0.AM and EFLAGS.AC at CPL 3
    pushfd
    or dword [esp], 0x40000
    popfd
    EXPECT a1_at, a1_done
a1_at:
    mov eax, [0x170001]
a1_done:
    pushfd
    and dword [esp], ~0x40000
    popfd
    int 0x80
    ; at CPL 0 the alignment check never applies
    pushfd
    or dword [esp], 0x40000
    popfd
    mov eax, [0x170001]
    pushfd
    and dword [esp], ~0x40000
    popfd
    mov eax, cr0
    and eax, ~0x40000
    mov cr0, eax
    call rsvd_test
    ret

PDPT equ 0x204000
PAED equ 0x205000

; PAE with EFER.NXE clear: bit 63 of a PDE is reserved -> error RSVD | P.
rsvd_test:
    mov edi, PDPT
    mov ecx, 0x2000 / 4
    xor eax, eax
    rep stosd
    mov dword [PDPT], PAED | 1
    mov dword [PAED], 0x000083            ; 0-2 MiB identity
    mov dword [PAED + 8], 0x200083        ; 2-4 MiB identity
    mov dword [PAED + 16], 0x400083       ; 4-6 MiB with bit 63 set
    mov dword [PAED + 20], 0x80000000
    mov eax, cr4
    or eax, 0x20
    mov cr4, eax
    mov eax, PDPT
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    EXPECT rsvd_at, rsvd_done
rsvd_at:
    mov eax, [0x400000]
rsvd_done:
    mov eax, cr0
    and eax, ~0x80000000
    mov cr0, eax
    mov eax, cr4
    and eax, ~0x20
    mov cr4, eax
    ret

align 4
scratch: dd 0

KERNEL_END
