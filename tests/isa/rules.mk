# ISA devices through real interrupts: a Multiboot test kernel exercising
# the PIC, PIT, RTC, i8042 and 16550A, run under Kestrel and QEMU.
ISA_OUT := tests/isa

$(ISA_OUT)/irqtest.bin: $(SRCDIR)/tests/isa/irqtest.asm
	@mkdir -p $(ISA_OUT)
	nasm -f bin -o $@ $<

.PHONY: check-isa
check-isa: kestrel $(ISA_OUT)/irqtest.bin
	@sh $(SRCDIR)/tests/isa/run.sh ./kestrel $(ISA_OUT)

CHECK_SUITES += check-isa
