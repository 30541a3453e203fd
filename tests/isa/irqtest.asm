; A Multiboot (v1, a.out kludge) kernel that drives the classic PC devices
; through real interrupts: the 8259A pair, the 8254 (IRQ 0 and channel 2
; through port 0x61), the MC146818 (periodic and update-ended IRQ 8 on the
; slave), the i8042 (IRQ 1 from command 0xD2) and a 16550A (THRE on IRQ 4,
; loopback). It waits with HLT, so the emulator must wake it with timers.
; Each check prints "ok NAME" or "FAIL NAME" on the debug console (0xE9);
; the end goes through isa-debug-exit at 0xF4: status 33 when all passed,
; 3 otherwise. Run it the same way under Kestrel and qemu-system-i386:
;   -M pc -nodefaults -display none -kernel irqtest.bin -debugcon file:LOG
;   -device isa-debug-exit,iobase=0xf4,iosize=0x04
bits 32
org 0x100000

MB_MAGIC equ 0x1BADB002
MB_FLAGS equ 0x00010000              ; bit 16: the address fields are valid

header:
    dd MB_MAGIC
    dd MB_FLAGS
    dd -(MB_MAGIC + MB_FLAGS)
    dd header
    dd header
    dd load_end
    dd bss_end
    dd start

; ---------------------------------------------------------------- helpers

; print the NUL-terminated string at esi on the debug console
puts:
    push eax
    push edx
    mov dx, 0xe9
.next:
    lodsb
    test al, al
    jz .done
    out dx, al
    jmp .next
.done:
    pop edx
    pop eax
    ret

; report: ZF set = pass. esi = check name.
report:
    jnz .fail
    push esi
    mov esi, msg_ok
    call puts
    pop esi
    call puts
    jmp .nl
.fail:
    mov byte [failed], 1
    push esi
    mov esi, msg_fail
    call puts
    pop esi
    call puts
.nl:
    mov esi, msg_nl
    call puts
    ret

%macro CHECK 1                       ; ZF from the caller's compare
    mov esi, %1
    call report
%endmacro

; wait (with HLT) until dword [%1] >= %2, or PIT ticks pass %3 since now
%macro WAIT_FOR 3
    mov ebx, [pit_ticks]
    add ebx, %3
%%loop:
    cmp dword [%1], %2
    jae %%done
    cmp [pit_ticks], ebx
    jae %%done
    sti
    hlt
    cli
    jmp %%loop
%%done:
%endmacro

%macro EOI_MASTER 0
    mov al, 0x20
    out 0x20, al
%endmacro
%macro EOI_BOTH 0
    mov al, 0x20
    out 0xa0, al
    out 0x20, al
%endmacro

; ---------------------------------------------------------------- handlers

isr_pit:                             ; IRQ 0, vector 0x20
    push eax
    inc dword [pit_ticks]
    mov al, 0x0b                     ; OCW3: read ISR
    out 0x20, al
    in al, 0x20
    cmp al, 0x01                     ; only IRQ 0 in service
    je .isr_ok
    inc dword [isr_bad]
.isr_ok:
    mov al, 0x0a                     ; back to reading IRR
    out 0x20, al
    EOI_MASTER
    pop eax
    iret

isr_kbd:                             ; IRQ 1, vector 0x21
    push eax
    in al, 0x60
    mov [kbd_byte], al
    inc dword [kbd_irqs]
    EOI_MASTER
    pop eax
    iret

isr_uart:                            ; IRQ 4, vector 0x24
    push eax
    push edx
    mov dx, 0x3fa
    in al, dx                        ; IIR: THRE, and reading acks it
    mov [uart_iir], al
    mov dx, 0x3f9
    xor al, al
    out dx, al                       ; IER = 0: no more
    inc dword [uart_irqs]
    EOI_MASTER
    pop edx
    pop eax
    iret

isr_spurious_master:                 ; IRQ 7: no EOI for a spurious one
    inc dword [spurious]
    iret

isr_rtc:                             ; IRQ 8, vector 0x28
    push eax
    mov al, 0x0c
    out 0x70, al
    in al, 0x71                      ; register C: flags, clears IRQF
    test al, 0x40
    jz .no_pf
    inc dword [rtc_periodic]
.no_pf:
    test al, 0x10
    jz .no_uf
    inc dword [rtc_update]
.no_uf:
    EOI_BOTH
    pop eax
    iret

isr_spurious_slave:                  ; IRQ 15: the master took IR2
    push eax
    inc dword [spurious]
    EOI_MASTER
    pop eax
    iret

isr_other_master:
    push eax
    inc dword [unexpected]
    EOI_MASTER
    pop eax
    iret

isr_other_slave:
    push eax
    inc dword [unexpected]
    EOI_BOTH
    pop eax
    iret

isr_exception:
    mov esi, msg_exception
    call puts
    mov al, 0x01
    out 0xf4, al                     ; exit status 3
    cli
    hlt

; ---------------------------------------------------------------- setup

; set IDT entry eax (vector) to handler edx
set_gate:
    push edi
    lea edi, [idt + eax * 8]
    mov [edi], dx
    mov word [edi + 2], 0x08
    mov word [edi + 4], 0x8e00       ; present, DPL 0, 32-bit interrupt gate
    shr edx, 16
    mov [edi + 6], dx
    pop edi
    ret

start:
    cli
    mov esp, stack_top
    lgdt [gdt_desc]
    jmp 0x08:.reload
.reload:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov fs, ax
    mov gs, ax

    ; IDT: exceptions, then the 16 IRQ vectors at 0x20
    xor eax, eax
.exc:
    mov edx, isr_exception
    call set_gate
    inc eax
    cmp eax, 0x20
    jb .exc
.irq:
    mov edx, isr_other_master
    cmp eax, 0x28
    jb .m
    mov edx, isr_other_slave
.m:
    call set_gate
    inc eax
    cmp eax, 0x30
    jb .irq
    mov eax, 0x20
    mov edx, isr_pit
    call set_gate
    mov eax, 0x21
    mov edx, isr_kbd
    call set_gate
    mov eax, 0x24
    mov edx, isr_uart
    call set_gate
    mov eax, 0x27
    mov edx, isr_spurious_master
    call set_gate
    mov eax, 0x28
    mov edx, isr_rtc
    call set_gate
    mov eax, 0x2f
    mov edx, isr_spurious_slave
    call set_gate
    lidt [idt_desc]

    mov esi, msg_hello
    call puts

    ; 8259A pair: edge, cascade, vectors 0x20/0x28, 8086 mode
    mov al, 0x11
    out 0x20, al
    out 0xa0, al
    mov al, 0x20
    out 0x21, al
    mov al, 0x28
    out 0xa1, al
    mov al, 0x04
    out 0x21, al
    mov al, 0x02
    out 0xa1, al
    mov al, 0x01
    out 0x21, al
    out 0xa1, al
    mov al, 0xff                     ; everything masked for now
    out 0x21, al
    out 0xa1, al
    in al, 0x21
    cmp al, 0xff
    CHECK name_pic_imr

    ; ---- PIT channel 0, mode 2, 100 Hz, on IRQ 0
    mov al, 0x34
    out 0x43, al
    mov al, 11932 & 0xff
    out 0x40, al
    mov al, 11932 >> 8
    out 0x40, al
    mov al, 0xfe                     ; unmask IRQ 0
    out 0x21, al
    WAIT_FOR pit_ticks, 10, 0x7fffffff
    cmp dword [pit_ticks], 10
    setb al
    test al, al
    CHECK name_pit_irq
    cmp dword [isr_bad], 0
    CHECK name_pic_isr

    ; latched count of channel 0 stays within its reload value
    mov al, 0x00
    out 0x43, al
    in al, 0x40
    mov ah, al
    in al, 0x40
    xchg al, ah
    cmp ax, 1
    setb bl
    cmp ax, 11932
    seta bh
    or bl, bh
    CHECK name_pit_latch

    ; read-back status of channel 0: mode 2, lsb/msb, binary
    mov al, 0xe2
    out 0x43, al
    in al, 0x40
    and al, 0x3f
    cmp al, 0x34
    CHECK name_pit_status

    ; ---- PIT channel 2, mode 0, gated by port 0x61: OUT2 rises
    in al, 0x61
    and al, 0xfc
    out 0x61, al                     ; gate off, speaker off
    mov al, 0xb0
    out 0x43, al
    mov al, 0xe8
    out 0x42, al
    mov al, 0x03
    out 0x42, al                     ; 1000 clocks (838 us)
    in al, 0x61
    test al, 0x20                    ; OUT2 low after the count is written
    CHECK name_pit_out2_low
    in al, 0x61
    or al, 0x01
    out 0x61, al                     ; gate on
    mov ebx, [pit_ticks]
    add ebx, 5
.out2_wait:
    in al, 0x61
    test al, 0x20
    jnz .out2_done
    cmp [pit_ticks], ebx
    jae .out2_done
    sti
    nop
    cli
    jmp .out2_wait
.out2_done:
    in al, 0x61
    and al, 0x20
    cmp al, 0x20
    CHECK name_pit_out2_high

    ; ---- RTC periodic interrupt at 1024 Hz over 20 PIT ticks (200 ms)
    mov al, 0x0a
    out 0x70, al
    mov al, 0x26
    out 0x71, al
    mov al, 0x0c
    out 0x70, al
    in al, 0x71
    mov al, 0x0b
    out 0x70, al
    in al, 0x71
    or al, 0x40                      ; PIE
    mov ah, al
    mov al, 0x0b
    out 0x70, al
    mov al, ah
    out 0x71, al
    mov al, 0xfa                     ; IRQ 0 and the cascade
    out 0x21, al
    mov al, 0xfe                     ; IRQ 8
    out 0xa1, al
    mov dword [rtc_periodic], 0
    WAIT_FOR never, 1, 20            ; just 20 ticks
    mov eax, [rtc_periodic]
    ; 1024 Hz for 0.2 s is 205; allow for interrupt latency either way
    cmp eax, 150
    setb bl
    cmp eax, 260
    seta bh
    or bl, bh
    CHECK name_rtc_periodic

    ; ---- RTC update-ended interrupt, within 1.5 s
    mov al, 0x0b
    out 0x70, al
    mov al, 0x12                     ; UIE only, 24 h, BCD
    out 0x71, al
    mov al, 0x0c
    out 0x70, al
    in al, 0x71
    mov dword [rtc_update], 0
    WAIT_FOR rtc_update, 1, 150
    cmp dword [rtc_update], 1
    setb al
    test al, al
    CHECK name_rtc_update
    mov al, 0x0b
    out 0x70, al
    mov al, 0x02
    out 0x71, al
    mov al, 0x0c
    out 0x70, al
    in al, 0x71
    ; register D: valid RAM and time
    mov al, 0x0d
    out 0x70, al
    in al, 0x71
    cmp al, 0x80
    CHECK name_rtc_regd

    ; ---- i8042: self test, then a byte injected with 0xD2 on IRQ 1
.drain:
    in al, 0x64
    test al, 1
    jz .drained
    in al, 0x60
    jmp .drain
.drained:
    mov al, 0x60
    out 0x64, al
    mov al, 0x44                     ; no interrupts while polling
    out 0x60, al
    mov al, 0xaa
    out 0x64, al
    call kbc_wait_obf
    in al, 0x60
    cmp al, 0x55
    CHECK name_kbc_selftest
    mov al, 0x60
    out 0x64, al
    mov al, 0x45                     ; keyboard interrupt on
    out 0x60, al
    mov al, 0xf8                     ; IRQ 0, 1, 2
    out 0x21, al
    mov al, 0xd2
    out 0x64, al
    mov al, 0x1e
    out 0x60, al
    WAIT_FOR kbd_irqs, 1, 50
    cmp dword [kbd_irqs], 1
    jne .kbd_bad
    cmp byte [kbd_byte], 0x1e
.kbd_bad:
    CHECK name_kbc_irq1

    ; ---- 16550A in loopback: data comes back; THRE interrupt on IRQ 4
    mov dx, 0x3fb
    mov al, 0x80
    out dx, al
    mov dx, 0x3f8
    mov al, 0x01
    out dx, al                       ; divisor 1: 115200
    mov dx, 0x3f9
    xor al, al
    out dx, al
    mov dx, 0x3fb
    mov al, 0x03
    out dx, al                       ; 8N1
    mov dx, 0x3fc
    mov al, 0x18                     ; loopback, OUT2
    out dx, al
    mov dx, 0x3f8
    mov al, 'Z'
    out dx, al
    mov ecx, 100000
    mov dx, 0x3fd
.lsr:
    in al, dx
    test al, 1
    jnz .lsr_done
    loop .lsr
.lsr_done:
    mov dx, 0x3f8
    in al, dx
    cmp al, 'Z'
    CHECK name_uart_loop
    mov al, 0xe8                     ; IRQ 0, 1, 2, 4
    out 0x21, al
    mov dx, 0x3f9
    mov al, 0x02                     ; ETBEI: THR is empty, so at once
    out dx, al
    WAIT_FOR uart_irqs, 1, 50
    cmp dword [uart_irqs], 1
    jne .uart_bad
    mov al, [uart_iir]
    and al, 0x0f
    cmp al, 0x02
.uart_bad:
    CHECK name_uart_thre
    mov dx, 0x3fc
    xor al, al
    out dx, al

    ; ---- nothing unexpected or spurious on the way
    mov eax, [spurious]
    add eax, [unexpected]
    test eax, eax
    CHECK name_no_spurious

    mov al, 0xff
    out 0x21, al
    out 0xa1, al
    cmp byte [failed], 0
    jne .fail
    mov esi, msg_pass
    call puts
    mov al, 0x10
    out 0xf4, al                     ; exit status 33
.fail:
    mov al, 0x01
    out 0xf4, al                     ; exit status 3
    cli
    hlt

kbc_wait_obf:
    push ecx
    mov ecx, 1000000
.w:
    in al, 0x64
    test al, 1
    jnz .done
    loop .w
.done:
    pop ecx
    ret

; ---------------------------------------------------------------- data

align 8
gdt:
    dq 0
    dq 0x00cf9a000000ffff            ; 0x08: flat 32-bit code
    dq 0x00cf92000000ffff            ; 0x10: flat data
gdt_desc:
    dw gdt_desc - gdt - 1
    dd gdt
idt_desc:
    dw 0x30 * 8 - 1
    dd idt

msg_hello: db "kestrel-isa irqtest", 10, 0
msg_ok: db "ok ", 0
msg_fail: db "FAIL ", 0
msg_nl: db 10, 0
msg_pass: db "all checks passed", 10, 0
msg_exception: db "FAIL unexpected exception", 10, 0
name_pic_imr: db "pic imr", 0
name_pit_irq: db "pit irq0 100 Hz", 0
name_pic_isr: db "pic isr in handler", 0
name_pit_latch: db "pit latch", 0
name_pit_status: db "pit read-back status", 0
name_pit_out2_low: db "pit out2 low", 0
name_pit_out2_high: db "pit out2 via port 0x61", 0
name_rtc_periodic: db "rtc periodic irq8", 0
name_rtc_update: db "rtc update irq8", 0
name_rtc_regd: db "rtc register d", 0
name_kbc_selftest: db "kbc self test", 0
name_kbc_irq1: db "kbc irq1", 0
name_uart_loop: db "uart loopback", 0
name_uart_thre: db "uart thre irq4", 0
name_no_spurious: db "no spurious irqs", 0

align 4
load_end:
absolute load_end
failed: resd 1
pit_ticks: resd 1
isr_bad: resd 1
rtc_periodic: resd 1
rtc_update: resd 1
kbd_irqs: resd 1
kbd_byte: resd 1
uart_irqs: resd 1
uart_iir: resd 1
spurious: resd 1
unexpected: resd 1
never: resd 1
alignb 8
idt: resb 0x30 * 8
alignb 16
stack: resb 4096
stack_top:
bss_end:
