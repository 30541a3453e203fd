# Platform test (tests/platform): a Multiboot kernel that checks the ACPI
# tables, PCI and fw_cfg, takes local APIC timer and PIT-through-I/O-APIC
# interrupts and powers off through ACPI S5; run under Kestrel and, when
# installed, qemu-system-i386 (the output must match).
PLAT_SRC := $(SRCDIR)/tests/platform
PLAT_OUT := tests/platform-out
PLAT_CC32 ?= gcc
PLAT_CFLAGS := -m32 -march=i686 -mgeneral-regs-only -ffreestanding \
    -fno-pie -fno-pic -fno-stack-protector -fno-asynchronous-unwind-tables \
    -fcf-protection=none -O2 -Wall -Wextra -Werror
CLEAN_EXTRA += $(PLAT_OUT)

$(PLAT_OUT)/platform.elf: $(PLAT_SRC)/kernel.c $(PLAT_SRC)/entry.S $(PLAT_SRC)/platform.ld
	@mkdir -p $(PLAT_OUT)
	$(PLAT_CC32) $(PLAT_CFLAGS) -nostdlib -static -no-pie \
	    -Wl,-T,$(PLAT_SRC)/platform.ld -Wl,--build-id=none -Wl,--no-warn-rwx-segments -o $@ \
	    $(PLAT_SRC)/entry.S $(PLAT_SRC)/kernel.c || \
	    { echo "check-platform: building the i386 test kernel failed: it needs '$(PLAT_CC32) -m32' (gcc-multilib)"; exit 1; }

.PHONY: check-platform
check-platform: kestrel $(PLAT_OUT)/platform.elf
	@sh $(PLAT_SRC)/run.sh ./kestrel $(PLAT_OUT)

CHECK_SUITES += check-platform
