; A small Multiboot kernel for the gdb stub tests: flat 32-bit protected
; mode as the Multiboot loader leaves it, interrupts off, so every run
; walks the same instructions. Labels are global so gdb can break on them.
; It maps only the first 4 MiB (one PSE page, so higher addresses are
; unmapped for the debugger too), counts in a loop, then exits through
; isa-debug-exit (port 0x501), or spins forever when spin_mode is set
; (for the Ctrl-C test).
        bits 32
        section .multiboot
        align 4
MB_MAGIC equ 0x1BADB002
MB_FLAGS equ 0x00000003
        dd MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

        section .text
        global _start, start2, step_here, after_step, loop_top, done
        global counter, scratch, spin_mode, spin, paged
_start:
        cli
        mov esp, stack_top
        mov dword [page_dir], 0x00000083     ; 0-4 MiB: present, RW, 4 MiB
        mov eax, cr4
        or eax, 0x10                         ; CR4.PSE
        mov cr4, eax
        mov eax, page_dir
        mov cr3, eax
        mov eax, cr0
        or eax, 0x80000000                   ; CR0.PG
        mov cr0, eax
paged:
        xor ecx, ecx
        mov dword [counter], 0
start2:
        mov eax, 0x11111111
step_here:
        mov ebx, 0x22222222          ; 5 bytes: stepi lands on after_step
after_step:
        inc eax                      ; 1 byte
        add ebx, eax                 ; 2 bytes
loop_top:
        inc dword [counter]
        inc ecx
        cmp ecx, 1000
        jb loop_top
done:
        cmp dword [spin_mode], 0
        jne spin
        mov dx, 0x501
        mov al, 0x10                 ; exit status (0x10 << 1) | 1 = 33
        out dx, al
        hlt
        jmp done
spin:
        inc dword [counter]
        jmp spin

        section .data
        align 4
counter: dd 0
scratch: dd 0x12345678, 0x9abcdef0
spin_mode: dd 0

        section .bss
        align 4096
page_dir:
        resb 4096
        resb 4096
stack_top:
