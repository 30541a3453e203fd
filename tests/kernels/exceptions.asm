; Every exception a 32-bit kernel can meet on this CPU, each with the error
; code and reported EIP the SDM specifies (fault: the faulting instruction;
; trap: the next one). #MF (needs full x87) and #XM/#MC are not covered.
; Segment limit/type checks on data accesses and #AC live in segcheck.asm,
; because QEMU (the reference this kernel is validated against) does not
; implement them.
%include "lib.inc"

kernel_name: db "exceptions", 0

PD  equ 0x200000
PT0 equ 0x201000            ; 0-4 MiB
PT1 equ 0x202000            ; 4-8 MiB

SEL_SMALLTSS equ 0x30       ; a TSS descriptor whose limit is too small
SEL_NOTP     equ 0x38       ; a not-present data segment
SEL_NOTP_SS  equ 0x40

main:
    ; descriptors for the segment tests
    mov eax, SEL_SMALLTSS
    mov ebx, 0x194000
    mov ecx, 0x20
    mov dl, 0x89
    mov dh, 0
    call set_desc
    mov eax, SEL_NOTP
    xor ebx, ebx
    mov ecx, 0xfffff
    mov dl, 0x12             ; data RW, P=0
    mov dh, 0xc
    call set_desc
    mov eax, SEL_NOTP_SS
    call set_desc

    ; #DE: fault at the DIV
    xor ecx, ecx
    EXPECT de_at, de_done
de_at:
    div ecx
de_done:

    ; #DB single step: POPF sets TF, the trap follows the next instruction
    EXPECT db_after, db_after
    pushfd
    or dword [esp], 0x100
    popfd
    nop
db_after:

    ; #BP: trap, EIP after INT3
    EXPECT bp_after, bp_after
    int3
bp_after:

    ; #OF: INTO with OF=1
    mov al, 0x7f
    add al, 1
    EXPECT of_after, of_after
    into
of_after:

    ; #BR: BOUND with the index above the upper bound
    mov eax, 20
    EXPECT br_at, br_done
br_at:
    bound eax, [bounds]
br_done:

    ; #UD
    EXPECT ud_at, ud_done
ud_at:
    ud2
ud_done:

    ; #NM: x87 instruction with CR0.TS set
    mov eax, cr0
    or eax, 8
    mov cr0, eax
    EXPECT nm_at, nm_done
nm_at:
    fninit
nm_done:
    clts

    ; #DF: #GP whose gate is not present -> #NP -> #DF(0)
    and byte [IDT_BASE + 13 * 8 + 5], 0x7f
    mov ax, 0xfff8
    EXPECT 0, df_done
    mov ds, ax
df_done:
    or byte [IDT_BASE + 13 * 8 + 5], 0x80

    ; #TS: JMP to a TSS whose limit is below 0x67
    EXPECT ts_at, ts_done
ts_at:
    jmp SEL_SMALLTSS:0
ts_done:

    ; #NP: loading a not-present data segment
    mov ax, SEL_NOTP
    EXPECT np_at, np_done
np_at:
    mov ds, ax
np_done:

    ; #SS(sel): loading a not-present stack segment
    mov ax, SEL_NOTP_SS
    EXPECT ss_at, ss_done
ss_at:
    mov ss, ax
ss_done:

    ; #GP(sel): selector beyond the GDT limit
    mov ax, 0x1f8
    EXPECT gp1_at, gp1_done
gp1_at:
    mov es, ax
gp1_done:

    call paging_faults
    call ring3_faults
    ret

paging_faults:
    ; identity map 0-8 MiB with user pages, then carve test pages
    mov edi, PD
    mov ecx, 1024
    xor eax, eax
    rep stosd
    mov dword [PD], PT0 | 7
    mov dword [PD + 4], PT1 | 7
    mov edi, PT0
    mov eax, 7
    mov ecx, 2048
.fill:
    stosd
    add eax, 0x1000
    loop .fill
    mov dword [PT1 + 0 * 4], 0              ; 0x400000 not present
    mov dword [PT1 + 1 * 4], 0x401000 | 1   ; supervisor read-only
    mov eax, PD
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax

    EXPECT pf1_at, pf1_done
pf1_at:
    mov eax, [0x400010]                     ; not present, read: 0
pf1_done:
    EXPECT pf2_at, pf2_done
pf2_at:
    mov byte [0x400123], 1                  ; not present, write: 2
pf2_done:
    ; WP off: ring 0 may write a read-only page
    mov dword [0x401000], 0x1234
    mov eax, cr0
    or eax, 0x10000
    mov cr0, eax
    EXPECT pf3_at, pf3_done
pf3_at:
    mov dword [0x401004], 1                 ; protection, write: 3
pf3_done:
    ; user read of a supervisor page: 5 (the fault comes from ring 3)
    call enter_ring3
    EXPECT pf4_at, pf4_done
pf4_at:
    mov eax, [0x401000]
pf4_done:
    int 0x80

    mov eax, cr0
    and eax, ~0x80010000
    mov cr0, eax
    ret

ring3_faults:
    call enter_ring3
    ; #GP(0): CLI at CPL 3 > IOPL
    EXPECT r3a_at, r3a_done
r3a_at:
    cli
r3a_done:
    ; #GP(0x202): INT 0x40 through a DPL-0 gate
    EXPECT r3b_at, r3b_done
r3b_at:
    int 0x40
r3b_done:
    ; #GP(0): port 0x60 denied by the I/O bitmap; COM1 is allowed
    EXPECT r3c_at, r3c_done
r3c_at:
    in al, 0x60
r3c_done:
    mov dx, COM1 + 7                        ; scratch register: allowed
    in al, dx
    ; #GP(0): MOV CR0 at CPL 3
    EXPECT r3d_at, r3d_done
r3d_at:
    mov eax, cr0
r3d_done:
    int 0x80
    ret

align 4
bounds:   dd 0, 10
scratch:  dd 0

KERNEL_END
