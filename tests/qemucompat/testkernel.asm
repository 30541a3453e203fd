; A Multiboot (v1, a.out kludge) test kernel for QEMU's debug and test
; devices. It runs the same under Kestrel and qemu-system-i386 with:
;   -debugcon DEV                                   (isa-debugcon at 0xE9)
;   -device isa-debugcon,iobase=0x3000,chardev=ID   (a second console;
;                                                   not 0x402, where
;                                                   SeaBIOS logs in QEMU)
;   -device pc-testdev
;   -device isa-debug-exit,iobase=0xf4,iosize=0x04
; It prints to both consoles, checks the pc-testdev latch (0xE0, as whole
; dword and as sub-fields), its MMIO window at 0xFF000000 and the
; debugcon's read-back value, and ends through isa-debug-exit: status
; (0x10 << 1) | 1 = 33 when every check passed, (0x01 << 1) | 1 = 3 if not.
bits 32
org 0x100000

MB_MAGIC equ 0x1BADB002
MB_FLAGS equ 0x00010000              ; bit 16: the address fields are valid

header:
    dd MB_MAGIC
    dd MB_FLAGS
    dd -(MB_MAGIC + MB_FLAGS)
    dd header                        ; header_addr
    dd header                        ; load_addr
    dd load_end                      ; load_end_addr
    dd bss_end                       ; bss_end_addr
    dd start                         ; entry_addr

; print esi (NUL-terminated) to port dx
puts:
    lodsb
    test al, al
    jz .done
    out dx, al
    jmp puts
.done:
    ret

%macro CHECK 1                       ; ZF set = pass; else note a failure
    jz %%ok
    mov byte [failed], 1
    mov esi, %1
    mov dx, 0xe9
    call puts
%%ok:
%endmacro

start:
    cli
    mov esp, stack_top
    cmp eax, 0x2BADB002              ; the loader's Multiboot signature
    CHECK msg_bad_magic

    mov esi, msg_e9
    mov dx, 0xe9
    call puts
    mov esi, msg_3000
    mov dx, 0x3000
    call puts

    ; isa-debugcon reads back 0xE9
    mov dx, 0xe9
    in al, dx
    cmp al, 0xe9
    CHECK msg_bad_readback

    ; pc-testdev latch: a dword, then a byte and a word inside it
    mov dx, 0xe0
    mov eax, 0x12345678
    out dx, eax
    xor eax, eax
    in eax, dx
    cmp eax, 0x12345678
    CHECK msg_bad_latch32
    mov dx, 0xe2
    mov al, 0xab
    out dx, al
    mov dx, 0xe0
    in eax, dx
    cmp eax, 0x12ab5678
    CHECK msg_bad_latch8
    mov dx, 0xe2
    in ax, dx
    cmp ax, 0x12ab
    CHECK msg_bad_latch16

    ; pc-testdev MMIO window: RAM-like
    mov dword [0xff000000], 0xcafef00d
    mov dword [0xff00fffc], 0x55aa1234
    cmp dword [0xff000000], 0xcafef00d
    CHECK msg_bad_iomem
    cmp byte [0xff00fffd], 0x12
    CHECK msg_bad_iomem

    mov dx, 0xe9
    cmp byte [failed], 0
    jne .fail
    mov esi, msg_pass
    call puts
    mov al, 0x10
    jmp .exit
.fail:
    mov esi, msg_fail
    call puts
    mov al, 0x01
.exit:
    mov dx, 0xf4
    out dx, al
.hang:                               ; not reached when the device exists
    hlt
    jmp .hang

msg_e9:           db "kestrel-qemucompat: hello on 0xe9", 10, 0
msg_3000:          db "kestrel-qemucompat: hello on 0x3000", 10, 0
msg_pass:         db "all checks passed", 10, 0
msg_fail:         db "some checks FAILED", 10, 0
msg_bad_magic:    db "FAIL: multiboot magic", 10, 0
msg_bad_readback: db "FAIL: debugcon readback", 10, 0
msg_bad_latch32:  db "FAIL: testdev latch dword", 10, 0
msg_bad_latch8:   db "FAIL: testdev latch byte", 10, 0
msg_bad_latch16:  db "FAIL: testdev latch word", 10, 0
msg_bad_iomem:    db "FAIL: testdev iomem", 10, 0

align 4
load_end:
absolute load_end
failed: resb 4
stack:  resb 4096
stack_top:
bss_end:
