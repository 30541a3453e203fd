# gdb remote stub: a real gdb drives Kestrel (check-gdb) and, for
# comparison, qemu-system-i386 (check-gdb-qemu) through the same script,
# debugging a small Multiboot ELF kernel with symbols (tests/gdb/kernel.asm).
GDB_OUT := tests/gdb/out

$(GDB_OUT)/kernel.elf: $(SRCDIR)/tests/gdb/kernel.asm $(SRCDIR)/tests/gdb/kernel.ld
	@mkdir -p $(GDB_OUT)
	nasm -f elf32 -g -F dwarf -o $(GDB_OUT)/kernel.o $<
	ld -m elf_i386 --no-warn-rwx-segments -T $(SRCDIR)/tests/gdb/kernel.ld -o $@ $(GDB_OUT)/kernel.o

.PHONY: check-gdb check-gdb-qemu
check-gdb: kestrel $(GDB_OUT)/kernel.elf
	@sh $(SRCDIR)/tests/gdb/run.sh kestrel ./kestrel $(GDB_OUT)/kernel.elf

check-gdb-qemu: $(GDB_OUT)/kernel.elf
	@sh $(SRCDIR)/tests/gdb/run.sh qemu qemu-system-i386 $(GDB_OUT)/kernel.elf

CHECK_SUITES += check-gdb check-gdb-qemu
CLEAN_EXTRA += $(GDB_OUT)
