# QEMU-compatible debug/test devices (issue 9): a Multiboot test kernel run
# under Kestrel and, when installed, qemu-system-i386 with the same flags.
QC_OUT := tests/qemucompat

$(QC_OUT)/testkernel.bin: $(SRCDIR)/tests/qemucompat/testkernel.asm
	@mkdir -p $(QC_OUT)
	nasm -f bin -o $@ $<

.PHONY: check-qemucompat
check-qemucompat: kestrel $(QC_OUT)/testkernel.bin
	@sh $(SRCDIR)/tests/qemucompat/run.sh ./kestrel $(QC_OUT)

CHECK_SUITES += check-qemucompat
# The CLI unit test runs the kestrel binary.
check-unit: kestrel
