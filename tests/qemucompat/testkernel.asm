; A Multiboot (v1, a.out kludge) test kernel for QEMU's debug and test
; devices. It runs the same under Kestrel and qemu-system-i386 with:
;   -debugcon DEV                                   (isa-debugcon at 0xE9)
;   -device isa-debugcon,iobase=0x3000,chardev=ID   (a second console;
;                                                   not 0x402, where
;                                                   SeaBIOS logs in QEMU)
;   -device pc-testdev
;   -device isa-debug-exit,iobase=0xf4,iosize=0x04
;   -device pci-testdev
; It prints to both consoles, checks the pc-testdev latch (0xE0, as whole
; dword and as sub-fields), its MMIO window at 0xFF000000 and the
; debugcon's read-back value, runs pci-testdev's test headers on both of
; its BARs (printing each test's name as the device reports it), and ends
; through isa-debug-exit: status
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

    call pci_tests

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

;; ---- pci-testdev ----
; config dword ebx = devfn, ecx = register -> eax
pci_read:
    mov eax, ebx
    shl eax, 8
    or eax, ecx
    or eax, 0x80000000
    mov dx, 0xcf8
    out dx, eax
    mov dx, 0xcfc
    in eax, dx
    ret

; print the selected test's name (bytes from port base+16 up to the NUL)
print_pio_name:
    mov cx, 16
.next:
    mov dx, [pio_base]
    add dx, cx
    in al, dx
    test al, al
    jz .end
    out 0xe9, al
    inc cx
    cmp cx, 64
    jb .next
.end:
    mov al, 10
    out 0xe9, al
    ret

; select I/O test al and print its name
pio_select:
    mov dx, [pio_base]
    out dx, al
    call print_pio_name
    ret

; count of the selected I/O test -> eax (the device answers one byte)
pio_count:
    mov dx, [pio_base]
    add dx, 12
    in eax, dx
    ret

pci_tests:
    xor ebx, ebx
.scan:
    xor ecx, ecx
    call pci_read
    cmp eax, 0x00051b36
    je .found
    inc ebx
    cmp ebx, 256
    jb .scan
    mov esi, msg_no_pci
    mov dx, 0xe9
    call puts
    mov byte [failed], 1
    ret
.found:
    mov ecx, 0x14                    ; BAR1: I/O
    call pci_read
    and eax, 0xfffc
    mov [pio_base], ax
    mov ecx, 0x10                    ; BAR0: memory
    call pci_read
    and eax, 0xfffffff0
    mov [mmio_base], eax
    mov ecx, 0x04                    ; decode I/O and memory
    call pci_read
    or eax, 3
    mov ecx, eax
    mov eax, ebx
    shl eax, 8
    or eax, 0x80000004
    mov dx, 0xcf8
    out dx, eax
    mov eax, ecx
    mov dx, 0xcfc
    out dx, ax

    ; portio-no-eventfd (test 3): header fields, then data-matched bytes
    mov al, 0
    call pio_select
    mov dx, [pio_base]
    in al, dx
    cmp al, 3
    CHECK msg_bad_pci_hdr
    mov dx, [pio_base]
    add dx, 4
    in eax, dx
    cmp eax, 131
    CHECK msg_bad_pci_hdr
    mov dx, [pio_base]
    add dx, 8
    in al, dx
    cmp al, 0xfa
    CHECK msg_bad_pci_hdr
    mov dx, [pio_base]
    add dx, 131
    mov al, 0xfa
    out dx, al                       ; counts
    mov al, 0x11
    out dx, al                       ; wrong data: does not
    mov ax, 0x00fa
    out dx, ax                       ; not a 1-byte write: does not
    call pio_count
    cmp eax, 1
    CHECK msg_bad_pci_count

    ; portio-wildcard-eventfd (test 4): a byte write there is taken by
    ; QEMU's notifier; a word write reaches the device and counts
    mov al, 1
    call pio_select
    mov dx, [pio_base]
    add dx, 132
    mov al, 0x55
    out dx, al
    mov ax, 0x1234
    out dx, ax
    call pio_count
    cmp eax, 1
    CHECK msg_bad_pci_count

    ; portio-datamatch-eventfd (test 5): the matching byte goes to the
    ; notifier, the rest do not match, so nothing counts
    mov al, 2
    call pio_select
    mov dx, [pio_base]
    add dx, 133
    mov al, 0xfa
    out dx, al
    mov al, 0x11
    out dx, al
    mov ax, 0x00fa
    out dx, ax
    call pio_count
    cmp eax, 0
    CHECK msg_bad_pci_count

    ; an invalid test number deselects: the header reads as zeros
    mov al, 3
    mov dx, [pio_base]
    out dx, al
    mov dx, [pio_base]
    add dx, 8
    in al, dx
    cmp al, 0
    CHECK msg_bad_pci_hdr

    ; mmio-no-eventfd (test 0) through the memory BAR
    mov esi, [mmio_base]
    mov byte [esi], 0
    mov byte [esi + 2048], 0xfa
    mov eax, [esi + 12]
    cmp eax, 1
    CHECK msg_bad_pci_count
    mov ecx, 16
.mname:
    mov al, [esi + ecx]
    test al, al
    jz .mdone
    out 0xe9, al
    inc ecx
    cmp ecx, 64
    jb .mname
.mdone:
    mov al, 10
    out 0xe9, al
    ret

msg_no_pci:        db "FAIL: pci-testdev not found", 10, 0
msg_bad_pci_hdr:   db "FAIL: pci-testdev header", 10, 0
msg_bad_pci_count: db "FAIL: pci-testdev count", 10, 0
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
pio_base: resb 4
mmio_base: resb 4
stack:  resb 4096
stack_top:
bss_end:
