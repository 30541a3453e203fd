; A Multiboot (v1, a.out kludge) kernel that programs the classic PC
; devices into known states and prints what their registers read back, one
; "name=XX" line each, on the debug console (0xE9). Only values that follow
; from the programming (not from firmware or timing) are printed, so the
; log from Kestrel must equal the log from qemu-system-i386 byte for byte.
; Bits where QEMU departs from the datasheets are masked here and checked
; by the unit tests instead: the 8254's NULL COUNT and initial OUT in the
; read-back status, a mode-0 count held while GATE is low, and the 16550's
; modem-status delta bits in loopback.
; Ends through isa-debug-exit (0xF4) with status 33.
bits 32
org 0x100000

MB_MAGIC equ 0x1BADB002
MB_FLAGS equ 0x00010000

header:
    dd MB_MAGIC
    dd MB_FLAGS
    dd -(MB_MAGIC + MB_FLAGS)
    dd header
    dd header
    dd load_end
    dd bss_end
    dd start

; print esi (NUL-terminated), '=', al in hex, newline
show:
    push eax
    push edx
    mov ah, al
    mov dx, 0xe9
.name:
    lodsb
    test al, al
    jz .value
    out dx, al
    jmp .name
.value:
    mov al, '='
    out dx, al
    mov al, ah
    shr al, 4
    call hexdigit
    mov al, ah
    and al, 0x0f
    call hexdigit
    mov al, 10
    out dx, al
    pop edx
    pop eax
    ret
hexdigit:
    add al, '0'
    cmp al, '9'
    jbe .out
    add al, 'a' - '0' - 10
.out:
    out dx, al
    ret

%macro OUTB 2
    mov dx, %1
    mov al, %2
    out dx, al
%endmacro

; read a port and print it under a name
%macro INB 2
    jmp %%go
%%s: db %2, 0
%%go:
    mov dx, %1
    in al, dx
    mov esi, %%s
    call show
%endmacro

; print al under a name
%macro SHOW 1
    jmp %%go
%%s: db %1, 0
%%go:
    mov esi, %%s
    call show
%endmacro

; i8042: wait for the output buffer, print the byte (or "--" as 0xee
; never comes from these commands, print 0xff and the status on timeout)
%macro KBD_READ 1
    call kbc_read
    SHOW %1
%endmacro

kbc_read:
    push ecx
    mov ecx, 2000000
.w:
    in al, 0x64
    test al, 1
    jnz .got
    loop .w
    mov al, 0xff                     ; nothing came
    pop ecx
    ret
.got:
    in al, 0x60
    pop ecx
    ret

kbc_drain:
    mov ecx, 100
.d:
    in al, 0x64
    test al, 1
    jz .done
    in al, 0x60
    loop .d
.done:
    ret

kbc_cmd:                             ; al = command
    out 0x64, al
    ret

start:
    cli
    mov esp, stack_top

    ; ---------------- 8259A
    OUTB 0x20, 0x11
    OUTB 0xa0, 0x11
    OUTB 0x21, 0x30
    OUTB 0xa1, 0x38
    OUTB 0x21, 0x04
    OUTB 0xa1, 0x02
    OUTB 0x21, 0x01
    OUTB 0xa1, 0x01
    OUTB 0x21, 0xa5
    OUTB 0xa1, 0x5a
    INB 0x21, "pic1.imr"
    INB 0xa1, "pic2.imr"
    OUTB 0x20, 0x0b
    INB 0x20, "pic1.isr"
    OUTB 0x20, 0x0c                  ; poll: nothing pending unmasked
    OUTB 0x21, 0xff
    OUTB 0xa1, 0xff
    OUTB 0x20, 0x0a
    OUTB 0xa0, 0x0a
    OUTB 0x4d0, 0xff
    OUTB 0x4d1, 0xff
    INB 0x4d0, "elcr1.all"
    INB 0x4d1, "elcr2.all"
    OUTB 0x4d0, 0x00
    OUTB 0x4d1, 0x00
    INB 0x4d0, "elcr1.none"

    ; ---------------- 8254
    OUTB 0x43, 0x34                  ; ch0 lsb/msb mode 2
    OUTB 0x43, 0xe2                  ; read-back status ch0
    in al, 0x40
    and al, 0x3f
    SHOW "pit0.status"
    OUTB 0x40, 0x00
    OUTB 0x40, 0x10
    OUTB 0x43, 0x76                  ; ch1 lsb/msb mode 3
    OUTB 0x41, 0x00
    OUTB 0x41, 0x20
    OUTB 0x43, 0x50                  ; ch1 lsb only mode 0
    OUTB 0x43, 0xe4
    in al, 0x41
    and al, 0x3f
    SHOW "pit1.status.lsb.mode0"
    OUTB 0x43, 0x6b                  ; ch1 msb only mode 5, BCD
    OUTB 0x43, 0xe4
    in al, 0x41
    and al, 0x3f
    SHOW "pit1.status.msb.mode5.bcd"
    OUTB 0x43, 0x7e                  ; mode bits 111 read back as 011
    OUTB 0x43, 0xe4
    in al, 0x41
    and al, 0x3f
    SHOW "pit1.status.mode7"
    in al, 0x61
    and al, 0xfc
    out 0x61, al                     ; gate 2 off
    OUTB 0x43, 0xb0                  ; ch2 mode 0
    OUTB 0x42, 0x34
    OUTB 0x42, 0x12
    OUTB 0x43, 0xc8                  ; read-back count + status ch2
    in al, 0x42
    and al, 0x3f
    SHOW "pit2.readback.status"
    INB 0x42, "pit2.readback.lsb"
    INB 0x42, "pit2.readback.msb"
    in al, 0x61
    and al, 0x2f                     ; drop the refresh toggle
    SHOW "port61.gate-off"
    OUTB 0x61, 0x03
    in al, 0x61
    and al, 0x0f
    SHOW "port61.low-bits"
    OUTB 0x61, 0x00

    ; ---------------- MC146818
    OUTB 0x70, 0x0a
    OUTB 0x71, 0x26
    INB 0x71, "rtc.a"
    OUTB 0x70, 0x0b
    OUTB 0x71, 0x02
    INB 0x71, "rtc.b"
    OUTB 0x70, 0x0d
    INB 0x71, "rtc.d"
    OUTB 0x70, 0x0c
    in al, 0x71
    OUTB 0x70, 0x0b
    OUTB 0x71, 0x82                  ; SET: freeze and write a time
    OUTB 0x70, 0x00
    OUTB 0x71, 0x59
    OUTB 0x70, 0x02
    OUTB 0x71, 0x59
    OUTB 0x70, 0x04
    OUTB 0x71, 0x23
    OUTB 0x70, 0x00
    INB 0x71, "rtc.sec.set"
    OUTB 0x70, 0x04
    INB 0x71, "rtc.hour.set"
    OUTB 0x70, 0x0b
    OUTB 0x71, 0x92                  ; SET with UIE: UIE clears
    INB 0x71, "rtc.b.set-uie"
    OUTB 0x70, 0x0b
    OUTB 0x71, 0x02
    OUTB 0x70, 0x0a
    in al, 0x71
    and al, 0x7f                     ; UIP is timing
    SHOW "rtc.a.after"
    OUTB 0x70, 0x3f                  ; plain CMOS byte
    OUTB 0x71, 0xc3
    OUTB 0x70, 0x3f
    INB 0x71, "cmos.3f"

    ; ---------------- i8042
    call kbc_drain
    OUTB 0x64, 0x60
    OUTB 0x60, 0x44                  ; no interrupts, translate, sys
    OUTB 0x64, 0x20
    KBD_READ "kbc.cmdbyte"
    OUTB 0x64, 0xaa
    KBD_READ "kbc.selftest"
    OUTB 0x64, 0x60
    OUTB 0x60, 0x44                  ; self test may reset it
    OUTB 0x64, 0xab
    KBD_READ "kbc.kbdtest"
    OUTB 0x64, 0xa9
    KBD_READ "kbc.auxtest"
    in al, 0x64
    and al, 0x0f                     ; OBF empty, A2 from the last cmd
    SHOW "kbc.status"
    OUTB 0x60, 0xff
    KBD_READ "kbd.reset.ack"
    KBD_READ "kbd.reset.bat"
    OUTB 0x60, 0xf2
    KBD_READ "kbd.id.ack"
    KBD_READ "kbd.id.1"
    KBD_READ "kbd.id.2"
    OUTB 0x60, 0xf0
    KBD_READ "kbd.set.ack1"
    OUTB 0x60, 0x00
    KBD_READ "kbd.set.ack2"
    KBD_READ "kbd.set.value"
    OUTB 0x60, 0xee
    KBD_READ "kbd.echo"
    OUTB 0x60, 0xed
    KBD_READ "kbd.leds.ack1"
    OUTB 0x60, 0x02
    KBD_READ "kbd.leds.ack2"
    OUTB 0x64, 0xd2
    OUTB 0x60, 0x5b
    KBD_READ "kbc.d2"
    OUTB 0x64, 0xd3
    OUTB 0x60, 0x6c
    in al, 0x64
    and al, 0x21
    SHOW "kbc.d3.status"
    KBD_READ "kbc.d3"
    OUTB 0x64, 0xa8                  ; aux on
    OUTB 0x64, 0xd4
    OUTB 0x60, 0xff
    KBD_READ "aux.reset.ack"
    KBD_READ "aux.reset.bat"
    KBD_READ "aux.reset.id"
    OUTB 0x64, 0xd4
    OUTB 0x60, 0xe8
    KBD_READ "aux.res.ack1"
    OUTB 0x64, 0xd4
    OUTB 0x60, 0x01
    KBD_READ "aux.res.ack2"
    OUTB 0x64, 0xd4
    OUTB 0x60, 0xe9
    KBD_READ "aux.status.ack"
    KBD_READ "aux.status.1"
    KBD_READ "aux.status.res"
    KBD_READ "aux.status.rate"
%macro AUX 1
    OUTB 0x64, 0xd4
    OUTB 0x60, %1
    call kbc_read
%endmacro
    AUX 0xf3
    AUX 200
    AUX 0xf3
    AUX 100
    AUX 0xf3
    AUX 80
    OUTB 0x64, 0xd4
    OUTB 0x60, 0xf2
    KBD_READ "aux.wheel.ack"
    KBD_READ "aux.wheel.id"
    AUX 0xf3
    AUX 200
    AUX 0xf3
    AUX 200
    AUX 0xf3
    AUX 80
    OUTB 0x64, 0xd4
    OUTB 0x60, 0xf2
    KBD_READ "aux.5btn.ack"
    KBD_READ "aux.5btn.id"
    OUTB 0x64, 0xd4
    OUTB 0x60, 0xf0                  ; remote mode
    KBD_READ "aux.remote.ack"
    OUTB 0x64, 0xd4
    OUTB 0x60, 0xeb                  ; read data: a still packet
    KBD_READ "aux.read.ack"
    KBD_READ "aux.read.b0"
    KBD_READ "aux.read.dx"
    KBD_READ "aux.read.dy"
    KBD_READ "aux.read.dz"
    OUTB 0x64, 0xd4
    OUTB 0x60, 0xff
    call kbc_read
    call kbc_read
    call kbc_read
    OUTB 0x64, 0xa7                  ; aux off
    OUTB 0x64, 0x20
    KBD_READ "kbc.cmdbyte.auxoff"

    ; ---------------- 16550A at 0x3F8
    OUTB 0x3fb, 0x80
    OUTB 0x3f8, 0x0c
    OUTB 0x3f9, 0x00
    INB 0x3f8, "uart.dll"
    INB 0x3f9, "uart.dlm"
    OUTB 0x3fb, 0x03
    INB 0x3fb, "uart.lcr"
    OUTB 0x3f9, 0xff
    INB 0x3f9, "uart.ier.all"
    OUTB 0x3f9, 0x00
    INB 0x3fa, "uart.iir.nofifo"
    OUTB 0x3fa, 0x07
    INB 0x3fa, "uart.iir.fifo"
    OUTB 0x3fa, 0x00
    OUTB 0x3ff, 0x5a
    INB 0x3ff, "uart.scr"
    OUTB 0x3fc, 0x10                 ; loopback, outputs off
    mov dx, 0x3fe
    in al, dx                        ; clear deltas
    OUTB 0x3fc, 0x1f                 ; loopback, all outputs on
    mov dx, 0x3fe
    in al, dx
    and al, 0xf0
    SHOW "uart.msr.loop.on"
    OUTB 0x3fc, 0x13                 ; OUT1/OUT2 off: RI falls, DCD falls
    mov dx, 0x3fe
    in al, dx
    and al, 0xf0
    SHOW "uart.msr.loop.fall"
    INB 0x3fc, "uart.mcr"
    INB 0x3fd, "uart.lsr.idle"
    OUTB 0x3f8, 0x41
    mov ecx, 100000
.lsr:
    mov dx, 0x3fd
    in al, dx
    test al, 1
    jnz .lsr_done
    loop .lsr
.lsr_done:
    INB 0x3fd, "uart.lsr.data"
    INB 0x3f8, "uart.rbr"
    OUTB 0x3f8, 0x42
    OUTB 0x3f8, 0x43                 ; overrun (no FIFO)
    mov ecx, 100000
.lsr2:
    mov dx, 0x3fd
    in al, dx
    test al, 2
    jnz .lsr2_done
    loop .lsr2
.lsr2_done:
    and al, 0x63
    SHOW "uart.lsr.overrun"
    INB 0x3fd, "uart.lsr.after"
    INB 0x3f8, "uart.rbr.first"
    OUTB 0x3fc, 0x00

    ; ---------------- 8259A with real requests, the i8042 as the source:
    ; IRQ 1 from 0xD2, IRQ 12 from 0xD3; interrupts stay disabled (CLI)
    OUTB 0x43, 0x30                  ; PIT ch0 mode 0, 65536: no IRQ 0 edge
    OUTB 0x40, 0xff
    OUTB 0x40, 0xff
    OUTB 0x20, 0x11
    OUTB 0xa0, 0x11
    OUTB 0x21, 0x30
    OUTB 0xa1, 0x38
    OUTB 0x21, 0x04
    OUTB 0xa1, 0x02
    OUTB 0x21, 0x01
    OUTB 0xa1, 0x01
    OUTB 0x21, 0xf9                  ; IRQ 1 and the cascade (IF stays 0)
    OUTB 0xa1, 0xef                  ; IRQ 12
    OUTB 0x20, 0xc0                  ; set priority: IRQ 0 lowest
    call kbc_drain
    OUTB 0x64, 0x60
    OUTB 0x60, 0x47                  ; both interrupts on
    OUTB 0x64, 0xd2
    OUTB 0x60, 0x11
    OUTB 0x20, 0x0a
    in al, 0x20
    and al, 0xfe                     ; IRQ 0 may have fired before
    SHOW "pic1.irr.kbd"
    OUTB 0x20, 0x0c                  ; poll
    INB 0x20, "pic1.poll.kbd"
    OUTB 0x20, 0x0b
    in al, 0x20
    and al, 0xfe
    SHOW "pic1.isr.kbd"
    INB 0x60, "kbc.d2.byte"
    OUTB 0x20, 0x61                  ; specific EOI, IRQ 1
    OUTB 0x20, 0x0b
    in al, 0x20
    and al, 0xfe
    SHOW "pic1.isr.eoi"
    OUTB 0x64, 0xd3
    OUTB 0x60, 0x22
    OUTB 0xa0, 0x0a
    INB 0xa0, "pic2.irr.aux"
    OUTB 0x20, 0x0a
    in al, 0x20
    and al, 0xfe
    SHOW "pic1.irr.cascade"
    OUTB 0xa0, 0x0c                  ; poll the slave
    INB 0xa0, "pic2.poll.aux"
    OUTB 0xa0, 0x0b
    INB 0xa0, "pic2.isr.aux"
    INB 0x60, "kbc.d3.byte"
    OUTB 0xa0, 0x20
    OUTB 0xa0, 0x0b
    INB 0xa0, "pic2.isr.eoi"
    OUTB 0x64, 0x60
    OUTB 0x60, 0x44
    OUTB 0x20, 0x20                  ; the cascade level the poll took
    OUTB 0x21, 0xff
    OUTB 0xa1, 0xff

    ; ---------------- 16550A interrupt identification (IRQ masked)
    OUTB 0x3fc, 0x10                 ; loopback
    OUTB 0x3fa, 0x47                 ; FIFO, trigger 4, clear receive
    OUTB 0x3f9, 0x02                 ; THRE
    INB 0x3fa, "uart.iir.thre"
    INB 0x3fa, "uart.iir.thre.read"
    OUTB 0x3f9, 0x05                 ; RDA and RLS
    OUTB 0x3f8, 0x31
    OUTB 0x3f8, 0x32
    OUTB 0x3f8, 0x33
    OUTB 0x3f8, 0x34
    mov ecx, 100000
.fifo:
    mov dx, 0x3fa
    in al, dx
    test al, 1
    jz .fifo_done
    loop .fifo
.fifo_done:
    INB 0x3fa, "uart.iir.rda.trigger4"
    INB 0x3fd, "uart.lsr.fifo"
    INB 0x3f8, "uart.fifo.0"
    INB 0x3f8, "uart.fifo.1"
    INB 0x3f8, "uart.fifo.2"
    INB 0x3f8, "uart.fifo.3"
    INB 0x3fd, "uart.lsr.empty"
    OUTB 0x3f9, 0x00
    OUTB 0x3fa, 0x00
    OUTB 0x3fc, 0x00

    ; ---------------- 8237
    OUTB 0x0c, 0x00
    OUTB 0x02, 0x34
    OUTB 0x02, 0x12
    OUTB 0x0c, 0x00
    INB 0x02, "dma1.ch1.addr.lo"
    INB 0x02, "dma1.ch1.addr.hi"
    OUTB 0x0c, 0x00
    OUTB 0x03, 0xcd
    OUTB 0x03, 0xab
    OUTB 0x0c, 0x00
    INB 0x03, "dma1.ch1.count.lo"
    INB 0x03, "dma1.ch1.count.hi"
    OUTB 0x83, 0x5e
    INB 0x83, "dma.page.ch1"
    OUTB 0xd8, 0x00
    OUTB 0xc4, 0x78
    OUTB 0xc4, 0x56
    OUTB 0xd8, 0x00
    INB 0xc4, "dma2.ch5.addr.lo"
    INB 0xc4, "dma2.ch5.addr.hi"

    mov esi, msg_end
    mov dx, 0xe9
.p:
    lodsb
    test al, al
    jz .exit
    out dx, al
    jmp .p
.exit:
    mov al, 0x10
    out 0xf4, al                     ; exit status 33
    hlt

msg_end: db "end", 10, 0

align 4
load_end:
absolute load_end
alignb 16
stack: resb 4096
stack_top:
bss_end:
