; Debug registers: an instruction breakpoint (#DB fault before the
; instruction, DR6.B0), data breakpoints on writes and on reads or writes
; (#DB trap after the access, DR6.B1/B2), a read that a write-only
; breakpoint ignores, and EFLAGS.RF letting the broken instruction run
; once after the handler returns.
%include "lib.inc"

kernel_name: db "dbg", 0

main:
    ; instruction breakpoint on bp1 (DR7: L0, RW0=00, LEN0=00)
    mov eax, bp1
    mov dr0, eax
    mov eax, 0x00000001
    mov dr7, eax
    xor ebx, ebx
    EXPECT bp1, bp1_done
bp1:
    inc ebx                       ; skipped by the resume
bp1_done:
    call show_dr6
    mov eax, ebx
    mov esi, msg_skipped
    call report

    ; write breakpoint on var1 (DR7: L1, RW1=01, LEN1=11)
    mov eax, var1
    mov dr1, eax
    mov eax, 0x00d00004
    mov dr7, eax
    mov eax, [var1]               ; a read: ignored
    mov esi, msg_no_trap
    call say
    EXPECT w1_next, w1_next
    mov dword [var1], 5
w1_next:
    call show_dr6

    ; read/write breakpoint on a byte of var2 (DR7: L2, RW2=11, LEN2=00)
    mov eax, var2 + 2
    mov dr2, eax
    mov eax, 0x03000010
    mov dr7, eax
    EXPECT r1_next, r1_next
    mov eax, [var2]               ; a dword read covering var2+2
r1_next:
    call show_dr6

    ; RF: a #DB handler that returns with RF set lets the instruction run
    mov eax, 1
    mov ebx, db_rf_handler
    mov dl, 0x8e
    call set_idt
    mov eax, bp2
    mov dr0, eax
    mov eax, 0x00000001
    mov dr7, eax
    xor ebx, ebx
bp2:
    inc ebx
    mov eax, [db_count]
    mov esi, msg_db_count
    call report
    mov eax, ebx
    mov esi, msg_ran
    call report

    ; all disabled: nothing fires
    xor eax, eax
    mov dr7, eax
    mov dword [var1], 6
    mov esi, msg_disabled
    call say
    ret

show_dr6:
    mov eax, dr6
    and eax, 0x400f
    mov esi, msg_dr6
    call report
    xor eax, eax
    mov dr6, eax
    ret

db_rf_handler:
    inc dword [db_count]
    or dword [esp + 8], 0x10000   ; RF in the EFLAGS image
    iretd

align 4
var1:     dd 0
var2:     dd 0
db_count: dd 0

msg_dr6:      db "DR6 B0-B3/BS", 0
msg_skipped:  db "breakpointed INC ran", 0
msg_no_trap:  db "read under a write breakpoint: no trap", 0
msg_db_count: db "#DB count with RF", 0
msg_ran:      db "INC after RF ran", 0
msg_disabled: db "DR7 clear: no trap", 0

KERNEL_END
