; A Multiboot (v1, a.out kludge) kernel that draws a known picture in one
; display mode and stops, so that the same picture can be taken from
; Kestrel and from qemu-system-i386 and compared pixel for pixel.
; The mode comes from the command line ("mode=X"):
;   v  Bochs VBE 640x480x32 through the linear framebuffer (PCI BAR 0)
;   w  Bochs VBE 800x600x16 through the linear framebuffer
;   b  Bochs VBE 640x480x8 through the banked 64 KiB window at 0xA0000
;   x  Bochs VBE 640x480x24 through the linear framebuffer
;   f  Bochs VBE 640x480x15 through the linear framebuffer
;   d  VGA mode 0Dh (320x200x16, planar, halved dot clock)
;   5  the firmware's text mode switched to 80x50 (8-line cells)
;   m  VGA mode 13h (320x200x256, chain-4), own DAC palette
;   p  VGA mode 12h (640x480x16, planar), own DAC palette
;   4  CGA mode 04h (320x200x4, odd/even, two interleaved banks)
;   6  CGA mode 06h (640x200x2, two interleaved banks)
;   s  mode 12h with a split screen: line compare at scanline 199
;   t  the 80x25 text mode left by the firmware: every character with
;      many attributes (no blinking ones), cursor off. Characters B0-BF
;      are left out: QEMU copies the eighth dot into the ninth column for
;      B0-DF, the VGA (and Kestrel) only for the line-drawing C0-DF.
;   k  keyboard echo: prints "ready", then polls the i8042 and shows each
;      letter, digit or space typed (set-1 codes, as the controller
;      translates by default) on the text screen and the debug console;
;      Enter prints "done".
; When done it prints "done" on the debug console (0xE9) and halts.
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

puts:                                 ; esi: NUL-terminated string -> 0xE9
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

vbe_write:                            ; ax = index, bx = value
    push edx
    mov dx, 0x1ce
    out dx, ax
    mov dx, 0x1cf
    mov ax, bx
    out dx, ax
    pop edx
    ret

; Finds PCI 1234:1111 on bus 0 and returns its BAR 0 in eax (or the Bochs
; default 0xE0000000 when there is none).
find_lfb:
    push ecx
    push edx
    xor ecx, ecx
.scan:
    mov eax, ecx
    shl eax, 8
    or eax, 0x80000000
    mov dx, 0xcf8
    out dx, eax
    mov dx, 0xcfc
    in eax, dx
    cmp eax, 0x11111234
    je .found
    inc ecx
    cmp ecx, 256
    jb .scan
    mov eax, 0xe0000000
    jmp .out
.found:
    mov eax, ecx
    shl eax, 8
    or eax, 0x80000010
    mov dx, 0xcf8
    out dx, eax
    mov dx, 0xcfc
    in eax, dx
    and eax, 0xfffffff0
.out:
    pop edx
    pop ecx
    ret

; ecx = xres, edx = yres, ebx = bpp, esi = extra ENABLE bits
vbe_set:
    push ebx
    push ecx
    push edx
    mov ax, 4
    push ebx
    xor ebx, ebx
    call vbe_write                    ; ENABLE = 0
    pop ebx
    mov ax, 3
    call vbe_write                    ; BPP
    mov ax, 1
    mov ebx, ecx
    call vbe_write                    ; XRES
    mov ax, 2
    mov ebx, edx
    call vbe_write                    ; YRES
    mov ax, 4
    mov ebx, esi
    or ebx, 1
    call vbe_write                    ; ENABLE
    pop edx
    pop ecx
    pop ebx
    ret

; esi: register table (misc, 5 SR, 25 CR, 9 GR, 21 AR)
vga_set_regs:
    push eax
    push ecx
    push edx
    mov ax, 4                         ; VBE off
    push ebx
    xor ebx, ebx
    call vbe_write
    pop ebx
    mov dx, 0x3c2
    lodsb
    out dx, al
    xor ecx, ecx
.sr:
    mov dx, 0x3c4
    mov al, cl
    out dx, al
    inc dx
    lodsb
    out dx, al
    inc ecx
    cmp ecx, 5
    jb .sr
    mov dx, 0x3d4                     ; unlock CR0-7
    mov ax, 0x0011
    out dx, ax
    xor ecx, ecx
.cr:
    mov dx, 0x3d4
    mov al, cl
    out dx, al
    inc dx
    lodsb
    out dx, al
    inc ecx
    cmp ecx, 25
    jb .cr
    xor ecx, ecx
.gr:
    mov dx, 0x3ce
    mov al, cl
    out dx, al
    inc dx
    lodsb
    out dx, al
    inc ecx
    cmp ecx, 9
    jb .gr
    mov dx, 0x3da
    in al, dx
    xor ecx, ecx
.ar:
    mov dx, 0x3c0
    mov al, cl
    out dx, al
    lodsb
    out dx, al
    inc ecx
    cmp ecx, 21
    jb .ar
    mov al, 0x20                      ; palette address source: display on
    out dx, al
    pop edx
    pop ecx
    pop eax
    ret

; DAC entry i = (i & 63, (i >> 2) & 63, (255 - i) >> 2)
dac_ramp:
    mov dx, 0x3c8
    xor al, al
    out dx, al
    inc dx
    xor ecx, ecx
.l:
    mov al, cl
    and al, 63
    out dx, al
    mov al, cl
    shr al, 2
    and al, 63
    out dx, al
    mov al, 255
    sub al, cl
    shr al, 2
    out dx, al
    inc ecx
    cmp ecx, 256
    jb .l
    ret

; ---------------------------------------------------------------- modes

draw_vbe32:
    mov ecx, 640
    mov edx, 480
    mov ebx, 32
    mov esi, 0x40
    call vbe_set
    call find_lfb
    mov edi, eax
    xor edx, edx                      ; y
.y:
    xor ecx, ecx                      ; x
.x:
    mov eax, ecx
    and eax, 0xff
    shl eax, 16                       ; red = x
    mov ebx, edx
    and ebx, 0xff
    shl ebx, 8                        ; green = y
    or eax, ebx
    mov ebx, ecx
    add ebx, edx
    and ebx, 0xff                     ; blue = x + y
    or eax, ebx
    stosd
    inc ecx
    cmp ecx, 640
    jb .x
    inc edx
    cmp edx, 480
    jb .y
    ret

draw_vbe16:
    mov ecx, 800
    mov edx, 600
    mov ebx, 16
    mov esi, 0x40
    call vbe_set
    call find_lfb
    mov edi, eax
    xor edx, edx
.y:
    xor ecx, ecx
.x:
    mov eax, ecx
    shr eax, 3
    and eax, 31
    shl eax, 11
    mov ebx, edx
    shr ebx, 3
    and ebx, 63
    shl ebx, 5
    or eax, ebx
    mov ebx, ecx
    add ebx, edx
    shr ebx, 4
    and ebx, 31
    or eax, ebx
    stosw
    inc ecx
    cmp ecx, 800
    jb .x
    inc edx
    cmp edx, 600
    jb .y
    ret

; Fills the LFB with bytes (n * 7 + n / 640) & 255: any packed format
; then has a deterministic picture. ecx, edx, ebx: mode; ebp: bytes.
draw_vbe_bytes:
    push ebp
    xor esi, esi
    or esi, 0x40
    call vbe_set
    call find_lfb
    mov edi, eax
    pop ebp
    xor ecx, ecx
.b:
    mov eax, ecx
    imul eax, eax, 7
    mov ebx, eax
    mov eax, ecx
    xor edx, edx
    push ecx
    mov ecx, 640
    div ecx
    pop ecx
    add eax, ebx
    stosb
    inc ecx
    cmp ecx, ebp
    jb .b
    ret

draw_vbe24:
    mov ecx, 640
    mov edx, 480
    mov ebx, 24
    mov ebp, 640 * 480 * 3
    jmp draw_vbe_bytes

draw_vbe15:
    mov ecx, 640
    mov edx, 480
    mov ebx, 15
    mov ebp, 640 * 480 * 2
    jmp draw_vbe_bytes

draw_mode0d:
    mov esi, regs_mode0d
    call vga_set_regs
    call dac_ramp
    mov edi, 0xa0000
    mov ecx, 4
.plane:
    mov dx, 0x3c4
    mov al, 2
    out dx, al
    inc dx
    mov al, 1
    shl al, cl
    shr al, 1
    out dx, al
    push ecx
    push edi
    mov ecx, 40 * 200
.b:
    mov eax, ecx
    imul eax, eax, 13
    xor al, ah
    stosb
    dec ecx
    jnz .b
    pop edi
    pop ecx
    loop .plane
    mov dx, 0x3c4
    mov ax, 0x0f02
    out dx, ax
    ret

draw_text50:
    mov dx, 0x3d4
    mov ax, 0x4709                    ; 8 scanlines per character row
    out dx, ax
    call draw_text
    mov edi, 0xb8000 + 80 * 25 * 2
    mov ecx, 80 * 25
.c:
    mov eax, ecx
    and eax, 0x7f
    or eax, 0x1e00
    stosw
    loop .c
    ret

draw_vbe8_banked:
    mov ecx, 640
    mov edx, 480
    mov ebx, 8
    xor esi, esi
    call vbe_set
    call dac_ramp
    ; byte n of the frame = (n / 640 + n % 640) & 255 = (x + y) & 255,
    ; written through the 64 KiB window one bank at a time.
    xor ebp, ebp                      ; bank
.bank:
    mov ax, 5
    mov ebx, ebp
    call vbe_write
    mov edi, 0xa0000
    xor ecx, ecx
.b:
    mov eax, ebp
    shl eax, 16
    add eax, ecx                      ; n
    cmp eax, 640 * 480
    jae .done
    xor edx, edx
    mov ebx, 640
    div ebx                           ; eax = y, edx = x
    add eax, edx
    stosb
    inc ecx
    cmp ecx, 0x10000
    jb .b
    inc ebp
    jmp .bank
.done:
    ret

draw_mode13:
    mov esi, regs_mode13
    call vga_set_regs
    call dac_ramp
    mov edi, 0xa0000
    xor edx, edx
.y:
    xor ecx, ecx
.x:
    mov eax, ecx
    xor eax, edx
    stosb
    inc ecx
    cmp ecx, 320
    jb .x
    inc edx
    cmp edx, 200
    jb .y
    ret

draw_mode12:
    mov esi, regs_mode12
    call vga_set_regs
    call dac_ramp
    ; plane p, byte (y, xb) = (xb * 7 + y * 3 + p * 50) & 255
    xor ebp, ebp                      ; plane
.plane:
    mov dx, 0x3c4
    mov al, 2
    out dx, al
    inc dx
    mov eax, 1
    mov ecx, ebp
    shl eax, cl
    out dx, al
    mov edi, 0xa0000
    xor edx, edx
.y:
    xor ecx, ecx
.x:
    lea eax, [ecx * 8]
    sub eax, ecx                      ; xb * 7
    lea ebx, [edx * 2 + edx]          ; y * 3
    add eax, ebx
    imul ebx, ebp, 50
    add eax, ebx
    stosb
    inc ecx
    cmp ecx, 80
    jb .x
    inc edx
    cmp edx, 480
    jb .y
    inc ebp
    cmp ebp, 4
    jb .plane
    mov dx, 0x3c4
    mov ax, 0x0f02
    out dx, ax
    ret

; Fills the two CGA banks at 0xB8000: byte (bank, row, xb) =
; (row * 3 + xb * 5 + bank * 7) & 255, 100 rows of 80 bytes per bank.
fill_cga:
    call dac_ramp
    xor ebp, ebp                      ; bank
.bank:
    mov edi, ebp
    shl edi, 13
    add edi, 0xb8000
    xor edx, edx
.y:
    xor ecx, ecx
.x:
    lea eax, [edx * 2 + edx]
    lea ebx, [ecx * 4 + ecx]
    add eax, ebx
    imul ebx, ebp, 7
    add eax, ebx
    stosb
    inc ecx
    cmp ecx, 80
    jb .x
    inc edx
    cmp edx, 100
    jb .y
    inc ebp
    cmp ebp, 2
    jb .bank
    ret

draw_mode04:
    mov esi, regs_mode04
    call vga_set_regs
    jmp fill_cga

draw_mode06:
    mov esi, regs_mode06
    call vga_set_regs
    jmp fill_cga

draw_split:
    call draw_mode12
    ; line compare = 199: bits 0-7 in CR18, bit 8 in CR7 bit 4, bit 9 in
    ; CR9 bit 6; below it the display restarts at address 0.
    mov dx, 0x3d4
    mov ax, 0xc718
    out dx, ax
    mov al, 0x07
    out dx, al
    inc dx
    in al, dx
    and al, ~0x10
    out dx, al
    dec dx
    mov al, 0x09
    out dx, al
    inc dx
    in al, dx
    and al, ~0x40
    out dx, al
    dec dx
    mov ax, 0x1e0c                    ; start address 0x1e00 (row 96)
    out dx, ax
    mov ax, 0x000d
    out dx, ax
    ret

draw_text:
    mov dx, 0x3d4                     ; cursor off: it blinks
    mov ax, 0x200a
    out dx, ax
    mov edi, 0xb8000
    xor ecx, ecx
.c:
    mov eax, ecx                      ; character = n & 255
    mov ebx, ecx                      ; attribute = (n * 5 / 3) & 0x7f
    imul ebx, ebx, 5
    push edx
    push eax
    mov eax, ebx
    xor edx, edx
    mov ebx, 3
    div ebx
    mov ebx, eax
    pop eax
    pop edx
    and ebx, 0x7f
    mov ah, bl
    mov bl, al
    and bl, 0xf0
    cmp bl, 0xb0
    jne .store
    and al, 0x7f                      ; B0-BF -> 30-3F
.store:
    stosw
    inc ecx
    cmp ecx, 80 * 25
    jb .c
    ret

kbd_echo:
    mov esi, msg_ready
    call puts
    mov edi, 0xb8000 + (10 * 80) * 2
.poll:
    in al, 0x64
    test al, 1
    jz .poll
    mov ah, al
    in al, 0x60
    test ah, 0x20                     ; a mouse byte
    jnz .poll
    cmp al, 0x1c                      ; Enter
    je .enter
    test al, 0x80                     ; a break code
    jnz .poll
    movzx ebx, al
    cmp ebx, set1_ascii_end - set1_ascii
    jae .poll
    mov al, [set1_ascii + ebx]
    test al, al
    jz .poll
    mov dx, 0xe9
    out dx, al
    mov ah, 0x1f
    stosw
    jmp .poll
.enter:
    mov al, 10
    mov dx, 0xe9
    out dx, al
    ret

; ---------------------------------------------------------------- entry

start:
    mov esp, stack_top
    cld
    mov al, 't'                       ; default
    test byte [ebx], 4                ; multiboot: cmdline present?
    jz .pick
    mov esi, [ebx + 16]
.find:
    cmp byte [esi], 0
    je .pick0
    cmp dword [esi], 'mode'
    jne .nextc
    cmp byte [esi + 4], '='
    jne .nextc
    mov al, [esi + 5]
    jmp .pick
.nextc:
    inc esi
    jmp .find
.pick0:
    mov al, 't'
.pick:
    cmp al, 'v'
    jne .n1
    call draw_vbe32
    jmp .end
.n1:
    cmp al, 'w'
    jne .n2
    call draw_vbe16
    jmp .end
.n2:
    cmp al, 'b'
    jne .n3
    call draw_vbe8_banked
    jmp .end
.n3:
    cmp al, 'm'
    jne .n4
    call draw_mode13
    jmp .end
.n4:
    cmp al, 'p'
    jne .n5
    call draw_mode12
    jmp .end
.n5:
    cmp al, '4'
    jne .n7
    call draw_mode04
    jmp .end
.n7:
    cmp al, '6'
    jne .n8
    call draw_mode06
    jmp .end
.n8:
    cmp al, 's'
    jne .n9
    call draw_split
    jmp .end
.n9:
    cmp al, 'x'
    jne .n10
    call draw_vbe24
    jmp .end
.n10:
    cmp al, 'f'
    jne .n11
    call draw_vbe15
    jmp .end
.n11:
    cmp al, 'd'
    jne .n12
    call draw_mode0d
    jmp .end
.n12:
    cmp al, '5'
    jne .n13
    call draw_text50
    jmp .end
.n13:
    cmp al, 'k'
    jne .n6
    call draw_text
    call kbd_echo
    jmp .end
.n6:
    call draw_text
.end:
    mov esi, msg_done
    call puts
.halt:
    cli
    hlt
    jmp .halt

msg_done: db "done", 10, 0
msg_ready: db "ready", 10, 0

; Scan code set 1 make codes -> lower-case ASCII (0: ignored).
set1_ascii:
    db 0, 0, '1', '2', '3', '4', '5', '6', '7', '8', '9', '0', 0, 0, 0, 0
    db 'q', 'w', 'e', 'r', 't', 'y', 'u', 'i', 'o', 'p', 0, 0, 0, 0
    db 'a', 's', 'd', 'f', 'g', 'h', 'j', 'k', 'l', 0, 0, 0, 0, 0
    db 'z', 'x', 'c', 'v', 'b', 'n', 'm', 0, 0, 0, 0, 0, 0, ' '
set1_ascii_end:

; Standard BIOS mode tables (IBM VGA technical reference).
regs_mode13:
    db 0x63
    db 0x03, 0x01, 0x0f, 0x00, 0x0e
    db 0x5f, 0x4f, 0x50, 0x82, 0x54, 0x80, 0xbf, 0x1f, 0x00, 0x41, 0x00, 0x00
    db 0x00, 0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x28, 0x40, 0x96, 0xb9, 0xa3
    db 0xff
    db 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x05, 0x0f, 0xff
    db 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b
    db 0x0c, 0x0d, 0x0e, 0x0f, 0x41, 0x00, 0x0f, 0x00, 0x00
regs_mode12:
    db 0xe3
    db 0x03, 0x01, 0x0f, 0x00, 0x06
    db 0x5f, 0x4f, 0x50, 0x82, 0x54, 0x80, 0x0b, 0x3e, 0x00, 0x40, 0x00, 0x00
    db 0x00, 0x00, 0x00, 0x00, 0xea, 0x8c, 0xdf, 0x28, 0x00, 0xe7, 0x04, 0xe3
    db 0xff
    db 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x0f, 0xff
    db 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3a, 0x3b
    db 0x3c, 0x3d, 0x3e, 0x3f, 0x01, 0x00, 0x0f, 0x00, 0x00

regs_mode04:
    db 0x63
    db 0x03, 0x09, 0x03, 0x00, 0x02
    db 0x2d, 0x27, 0x28, 0x90, 0x2b, 0x80, 0xbf, 0x1f, 0x00, 0xc1, 0x00, 0x00
    db 0x00, 0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x14, 0x00, 0x96, 0xb9, 0xa2
    db 0xff
    db 0x00, 0x00, 0x00, 0x00, 0x00, 0x30, 0x0f, 0x00, 0xff
    db 0x00, 0x13, 0x15, 0x17, 0x02, 0x04, 0x06, 0x07, 0x10, 0x11, 0x12, 0x13
    db 0x14, 0x15, 0x16, 0x17, 0x01, 0x00, 0x03, 0x00, 0x00
regs_mode06:
    db 0x63
    db 0x03, 0x01, 0x01, 0x00, 0x06
    db 0x5f, 0x4f, 0x50, 0x82, 0x54, 0x80, 0xbf, 0x1f, 0x00, 0xc1, 0x00, 0x00
    db 0x00, 0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x28, 0x00, 0x96, 0xb9, 0xc2
    db 0xff
    db 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0d, 0x00, 0xff
    db 0x00, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17
    db 0x17, 0x17, 0x17, 0x17, 0x01, 0x00, 0x01, 0x00, 0x00

regs_mode0d:
    db 0x63
    db 0x03, 0x09, 0x0f, 0x00, 0x06
    db 0x2d, 0x27, 0x28, 0x90, 0x2b, 0x80, 0xbf, 0x1f, 0x00, 0xc0, 0x00, 0x00
    db 0x00, 0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x14, 0x00, 0x96, 0xb9, 0xe3
    db 0xff
    db 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x0f, 0xff
    db 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x10, 0x11, 0x12, 0x13
    db 0x14, 0x15, 0x16, 0x17, 0x01, 0x00, 0x0f, 0x00, 0x00

load_end:
align 16
section .bss
stack: resb 4096
stack_top:
bss_end:
