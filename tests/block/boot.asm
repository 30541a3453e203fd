; A tiny guest for the disk and CD-ROM boot test: SeaBIOS boots it from
; an IDE disk (512-byte boot sector) or, assembled with -DCDROM, from an
; ISO 9660 image with a no-emulation El Torito boot entry (the whole ISO
; is laid out below, so no ISO tool is needed). Stage 1 prints to COM1,
; loads stage 2 with INT 13h AH=42h (2048 bytes: four disk sectors or one
; CD sector) and jumps to it. On a disk, stage 2 also writes a sector with
; INT 13h AH=43h and reads it back. The result leaves through
; isa-debug-exit at port 0xF4: 0x10 (exit 33) for success, 0x01 (exit 3)
; for failure.
;   nasm -f bin boot.asm -o disk.img ; nasm -f bin -DCDROM boot.asm -o cd.iso

%ifdef CDROM
%define SECT 2048
%define BOOT_LBA 20          ; stage 1 (the boot image)
%define STAGE2_LBA 21
%define ROOT_LBA 22
%define ISO_SECTORS 23
%define STAGE2_COUNT 1
%else
%define SECT 512
%define STAGE2_LBA 1
%define STAGE2_COUNT 4
%define WRITE_LBA 8
%endif

%ifdef CDROM
section sysarea start=0
    times 16 * 2048 db 0

section pvd start=16*2048                 ; primary volume descriptor
    db 1, 'CD001', 1, 0
    times 32 db ' '                         ; system id
    db 'KESTREL_BOOT'                       ; volume id
    times 32 - 12 db ' '
    times 8 db 0
    dd ISO_SECTORS                          ; volume space size, both-endian
    db 0, 0, 0, ISO_SECTORS
    times 32 db 0
    dw 1, 0x0100                            ; volume set size
    dw 1, 0x0100                            ; volume sequence number
    dw 2048, 0x0008                         ; logical block size
    dd 0, 0, 0, 0, 0, 0                     ; path tables: none
root_record:                                ; directory record for "/"
    db 34, 0
    dd ROOT_LBA
    db 0, 0, 0, ROOT_LBA
    dd 2048
    db 0, 0, 0x08, 0
    db 126, 1, 1, 0, 0, 0, 0                ; 2026-01-01
    db 2, 0, 0
    dw 1, 0x0100
    db 1, 0
    times 2048 - ($ - $$) db 0

section bootrec start=17*2048             ; El Torito boot record
    db 0, 'CD001', 1
    db 'EL TORITO SPECIFICATION'
    times 0x47 - ($ - $$) db 0
    dd 19                                   ; boot catalog sector
    times 2048 - ($ - $$) db 0

section term start=18*2048                ; descriptor set terminator
    db 255, 'CD001', 1
    times 2048 - ($ - $$) db 0

section catalog start=19*2048
    ; validation entry: header 1, platform 0 (x86), words sum to zero
    db 1, 0
    times 26 db 0
    dw 0x55aa                               ; checksum: -(0x0001 + 0xaa55)
    db 0x55, 0xaa
    ; initial entry: bootable, no emulation, default segment 0x7c0
    db 0x88, 0
    dw 0
    db 0, 0
    dw 4                                    ; 4 virtual sectors = 2048 bytes
    dd BOOT_LBA
    times 2048 - ($ - $$) db 0

section stage1 start=BOOT_LBA*2048 vstart=0x7c00
%else
section stage1 start=0 vstart=0x7c00
%endif

bits 16
start:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7c00
    sti
    jmp 0:norm                  ; CS:IP may be 07C0:0000 or 0000:7C00
norm:
    mov [drive], dl
    mov si, msg_stage1
    call puts
    mov si, dap
    mov ah, 0x42
    mov dl, [drive]
    int 0x13
    jc fail
    cmp dword [0x8000], 'KST2'
    jne fail
    jmp 0x8004

fail:
    mov si, msg_fail
    call puts
    mov al, 0x01
    out 0xf4, al
.hang:
    hlt
    jmp .hang

; Prints the NUL-terminated string at DS:SI on COM1.
puts:
    lodsb
    test al, al
    jz .done
    mov ah, al
    mov dx, 0x3fd
.wait:
    in al, dx
    test al, 0x20
    jz .wait
    mov al, ah
    mov dx, 0x3f8
    out dx, al
    jmp puts
.done:
    ret

drive: db 0
dap:
    db 0x10, 0
    dw STAGE2_COUNT
    dw 0x8000, 0
    dq STAGE2_LBA
msg_stage1: db 'kestrel-boot: stage1', 13, 10, 0
msg_fail: db 'kestrel-boot: FAIL', 13, 10, 0

%ifndef CDROM
    times 510 - ($ - $$) db 0
    db 0x55, 0xaa
section stage2 start=512 vstart=0x8000
%else
    times 2048 - ($ - $$) db 0
section stage2 start=STAGE2_LBA*2048 vstart=0x8000
%endif
    db 'KST2'
    mov si, msg_stage2
    call puts
%ifndef CDROM
    ; Write a sector, read it back into another buffer, compare.
    mov di, 0x9000
    mov si, pattern
    mov cx, 512
.fill:
    mov al, [si]
    mov [di], al
    inc di
    inc si
    cmp byte [si], 0
    jne .next
    mov si, pattern
.next:
    loop .fill
    mov si, dap_w
    mov ax, 0x4300
    mov dl, [drive]
    int 0x13
    jc fail
    mov si, dap_r
    mov ah, 0x42
    mov dl, [drive]
    int 0x13
    jc fail
    mov si, 0x9000
    mov di, 0xa000
    mov cx, 256
    repe cmpsw
    jne fail
    mov si, msg_written
    call puts
%endif
    mov si, msg_ok
    call puts
    mov al, 0x10
    out 0xf4, al
    jmp fail.hang

%ifndef CDROM
dap_w:
    db 0x10, 0
    dw 1
    dw 0x9000, 0
    dq WRITE_LBA
dap_r:
    db 0x10, 0
    dw 1
    dw 0xa000, 0
    dq WRITE_LBA
pattern: db 'WRITTEN-BY-GUEST;', 0
msg_written: db 'kestrel-boot: wrote and read back LBA 8', 13, 10, 0
%endif
msg_stage2: db 'kestrel-boot: stage2 loaded by INT 13h', 13, 10, 0
msg_ok: db 'kestrel-boot: OK', 13, 10, 0
%ifdef CDROM
    times 2048 - ($ - $$) db 0
section rootdir start=ROOT_LBA*2048
    %rep 2                                  ; "." and ".."
    db 34, 0
    dd ROOT_LBA
    db 0, 0, 0, ROOT_LBA
    dd 2048
    db 0, 0, 0x08, 0
    db 126, 1, 1, 0, 0, 0, 0
    db 2, 0, 0
    dw 1, 0x0100
    db 1, 0
    %endrep
    times 2048 - ($ - $$) db 0
%else
    times 2048 - ($ - $$) db 0
section pad start=2560
    times 65536 - 2560 db 0
%endif
