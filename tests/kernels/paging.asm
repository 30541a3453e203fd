; Paging: 4 KiB and 4 MiB (PSE) pages, accessed/dirty bits, INVLPG and CR3
; reloads, U/S from both levels, a store that straddles into a read-only
; page (nothing written), PAE with 2 MiB pages and NX (EFER.NXE). The
; reserved-bit fault is in strict.asm (QEMU reports it without the P bit).
%include "lib.inc"

kernel_name: db "paging", 0

PD   equ 0x200000
PT0  equ 0x201000            ; 0-4 MiB identity, user
PT2  equ 0x203000            ; 8-12 MiB test pages
PDPT equ 0x204000            ; PAE
PAED equ 0x205000            ; PAE page directory for 0-1 GiB
PAET equ 0x206000            ; PAE page table for 0-2 MiB

PHYS_A equ 0x300000
PHYS_B equ 0x301000
VIRT   equ 0x800000

main:
    mov dword [PHYS_A], 0xaaaa0001
    mov dword [PHYS_B], 0xbbbb0002
    mov dword [0x400000 + 0x1234], 0x4d4d4d4d
    mov edi, PD
    mov ecx, 0x3000 / 4
    xor eax, eax
    rep stosd
    mov dword [PD], PT0 | 7
    mov dword [PD + 8], PT2 | 7
    mov edi, PT0
    mov eax, 7
    mov ecx, 1024
.fill:
    stosd
    add eax, 0x1000
    loop .fill
    mov dword [PT2], PHYS_A | 3          ; VIRT -> A, supervisor RW
    mov eax, PD
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80010000                   ; PG, WP
    mov cr0, eax

    mov eax, [VIRT]
    mov esi, msg_read
    call report
    mov eax, [PT2]
    and eax, 0x60
    mov esi, msg_ad_read                 ; A set, D clear
    call report
    mov dword [VIRT + 4], 0x5555
    mov eax, [PT2]
    and eax, 0x60
    mov esi, msg_ad_write                ; A and D
    call report
    mov eax, [PD + 8]
    and eax, 0x60
    mov esi, msg_pde_ad                  ; PDE: A only
    call report

    ; remap and INVLPG
    mov dword [PT2], PHYS_B | 3
    invlpg [VIRT]
    mov eax, [VIRT]
    mov esi, msg_invlpg
    call report
    ; remap and reload CR3
    mov dword [PT2], PHYS_A | 3
    mov eax, cr3
    mov cr3, eax
    mov eax, [VIRT]
    mov esi, msg_cr3
    call report

    ; not-present PDE: error code 0, CR2 the address
    EXPECT pf1_at, pf1_done
pf1_at:
    mov eax, [0x1c00004]
pf1_done:

    ; U/S: PTE user but PDE supervisor -> user read faults with P|U
    mov dword [PT2 + 4], PHYS_B | 7
    mov dword [PD + 8], PT2 | 3
    mov eax, cr3
    mov cr3, eax
    call enter_ring3
    EXPECT pf2_at, pf2_done
pf2_at:
    mov eax, [VIRT + 0x1000]
pf2_done:
    int 0x80
    mov dword [PD + 8], PT2 | 7
    mov eax, cr3
    mov cr3, eax

    ; straddling store into a read-only page: #PF for the second page,
    ; and the first page keeps its old bytes
    mov dword [PT2 + 8], PHYS_A | 3      ; VIRT+0x2000 RW
    mov dword [PT2 + 12], PHYS_B | 1     ; VIRT+0x3000 read-only
    mov eax, cr3
    mov cr3, eax
    mov dword [PHYS_A + 0xffc], 0x11111111
    EXPECT pf3_at, pf3_done
pf3_at:
    mov dword [VIRT + 0x2ffe], 0x22222222
pf3_done:
    mov eax, [PHYS_A + 0xffc]
    mov esi, msg_straddle
    call report

    ; 4 MiB page with CR4.PSE: 12 MiB -> 4 MiB physical
    mov dword [PD + 12], 0x400000 | 0x83
    mov eax, cr4
    or eax, 0x10
    mov cr4, eax
    mov eax, cr3
    mov cr3, eax
    mov eax, [0xc01234]
    mov esi, msg_pse
    call report
    mov dword [0xc01238], 1
    mov eax, [PD + 12]
    and eax, 0xe0
    mov esi, msg_pse_ad                  ; PS, D, A
    call report

    mov eax, cr0
    and eax, ~0x80000000
    mov cr0, eax
    call pae_tests
    ret

pae_tests:
    mov edi, PDPT
    mov ecx, 0x3000 / 4
    xor eax, eax
    rep stosd
    mov dword [PDPT], PAED | 1
    mov dword [PAED], PAET | 7            ; 0-2 MiB through a table
    mov dword [PAED + 8], 0x200000 | 0x87 ; 2-4 MiB: 2 MiB page
    mov dword [PAED + 16], 0x400000 | 0x83
    mov dword [PAED + 20], 0x80000000     ; 4-6 MiB: NX
    mov dword [PAED + 24], 0x400000 | 0x83
    mov edi, PAET
    mov eax, 7
    mov ecx, 512
.fill:
    mov [edi], eax
    add edi, 8
    add eax, 0x1000
    loop .fill
    mov byte [0x400000 + 0x100], 0xc3     ; RET in the NX page
    mov ecx, 0xc0000080
    rdmsr
    or eax, 0x800                          ; EFER.NXE
    wrmsr
    mov eax, cr4
    or eax, 0x20
    mov cr4, eax
    mov eax, PDPT
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax

    mov eax, [0x400000 + 0x1234]
    mov esi, msg_pae
    call report
    ; fetch from an NX page: P | I/D
    EXPECT 0x400100, nx_done
    call 0x400100
nx_done:
    add esp, 4                             ; the CALL's return address
    ; data reads from the NX page still work
    mov eax, [0x400100]
    and eax, 0xff
    mov esi, msg_nx_read
    call report

    mov eax, cr0
    and eax, ~0x80000000
    mov cr0, eax
    mov eax, cr4
    and eax, ~0x30
    mov cr4, eax
    ret

msg_read:     db "read via 4K page", 0
msg_ad_read:  db "PTE A/D after read", 0
msg_ad_write: db "PTE A/D after write", 0
msg_pde_ad:   db "PDE A/D", 0
msg_invlpg:   db "after INVLPG", 0
msg_cr3:      db "after CR3 reload", 0
msg_straddle: db "first page after faulting straddle", 0
msg_pse:      db "read via 4M page", 0
msg_pse_ad:   db "4M PDE PS/D/A", 0
msg_pae:      db "read via PAE 2M page", 0
msg_nx_read:  db "read from NX page", 0

KERNEL_END
