# Linux boot test: the default guest to its marker and ACPI poweroff, under
# the interpreter and the translator. Needs the image (images/rules.mk;
# its paths are spelled out because this file is read before that one).
# The interpreter boot takes minutes; under the sanitizers (CI's second
# pass) it would take several times that, so there only tcg boots.
BOOT_TIMEOUT ?= 600
ifeq ($(CONFIG_SANITIZERS),yes)
BOOT_ACCELS ?= tcg
else
BOOT_ACCELS ?= interp tcg
endif

.PHONY: check-boot
check-boot: kestrel images/out/stamp
	@mkdir -p tests/boot
	@sh $(SRCDIR)/tests/boot/boot.sh ./kestrel images/out/vmlinuz \
	    images/out/initrd.gz $(BOOT_TIMEOUT) $(BOOT_ACCELS)

CHECK_SUITES += check-boot
