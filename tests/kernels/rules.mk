# Protected-mode test kernels (Multiboot, nasm): paging, privilege changes,
# task switches and exceptions. Each prints "@ ..." lines on COM1 and exits
# through isa-debug-exit; run.sh compares the lines with NAME.expected.
# The expected files were produced by qemu-system-i386 and checked against
# the SDM; strict.asm covers what QEMU does not implement (SDM only).
KERNELS_OUT := tests/kernels/out
KERNEL_NAMES := $(basename $(notdir $(wildcard $(SRCDIR)/tests/kernels/*.asm)))
KERNEL_BINS := $(KERNEL_NAMES:%=$(KERNELS_OUT)/%.bin)

$(KERNELS_OUT)/%.bin: $(SRCDIR)/tests/kernels/%.asm $(SRCDIR)/tests/kernels/lib.inc
	@mkdir -p $(KERNELS_OUT)
	nasm -f bin -I$(SRCDIR)/tests/kernels/ -o $@ $<

# cpurun boots a kernel on the CPU alone (no board): the kernels check the
# CPU under both engines whatever state system/machine.c is in.
$(KERNELS_OUT)/cpurun: $(SRCDIR)/tests/kernels/cpurun.c libkestrel.a config.h
	@mkdir -p $(KERNELS_OUT)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< libkestrel.a $(LIBS)

.PHONY: check-kernels check-kernels-qemu check-kernels-cpu
check-kernels-cpu: $(KERNELS_OUT)/cpurun
	@sh $(SRCDIR)/tests/kernels/run.sh cpu $(KERNELS_OUT)/cpurun $(SRCDIR)/tests/kernels $(KERNELS_OUT) $(KERNEL_NAMES)

check-kernels: kestrel
	@sh $(SRCDIR)/tests/kernels/run.sh kestrel ./kestrel $(SRCDIR)/tests/kernels $(KERNELS_OUT) $(KERNEL_NAMES)

# The same kernels under QEMU validate the kernels and expected files.
check-kernels-qemu:
	@sh $(SRCDIR)/tests/kernels/run.sh qemu qemu-system-i386 $(SRCDIR)/tests/kernels $(KERNELS_OUT) $(KERNEL_NAMES)

CHECK_SUITES += check-kernels-cpu check-kernels check-kernels-qemu
CLEAN_EXTRA += $(KERNELS_OUT)
