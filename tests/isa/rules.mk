# ISA devices through real interrupts: Multiboot test kernels exercising
# the PIC, PIT, RTC, i8042, 16550A and DMA registers, run under Kestrel
# and QEMU (see run.sh).
ISA_OUT := tests/isa

$(ISA_OUT)/harness: $(SRCDIR)/tests/isa/harness.c libkestrel.a config.h
	@mkdir -p $(ISA_OUT)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< libkestrel.a $(LIBS)

$(ISA_OUT)/%.bin: $(SRCDIR)/tests/isa/%.asm
	@mkdir -p $(ISA_OUT)
	nasm -f bin -o $@ $<

.PHONY: check-isa
check-isa: kestrel $(ISA_OUT)/irqtest.bin $(ISA_OUT)/regdump.bin \
    $(ISA_OUT)/serialtest.bin $(ISA_OUT)/harness
	@sh $(SRCDIR)/tests/isa/run.sh ./kestrel $(ISA_OUT) $(ISA_OUT)/harness

CHECK_SUITES += check-isa

CLEAN_EXTRA += $(ISA_OUT)/harness $(ISA_OUT)/*.bin $(ISA_OUT)/*.log \
    $(ISA_OUT)/*.out $(ISA_OUT)/*.rd $(ISA_OUT)/*.rdout $(ISA_OUT)/*.ser \
    $(ISA_OUT)/*.serout $(ISA_OUT)/serial.in
