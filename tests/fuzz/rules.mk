# Robustness (tests/fuzz): the guest-chaos kernel run against every device
# and random code at CPL 0/3 (run.sh), bad command lines and images
# (badinput.sh), and a mutation loop over the kernel loaders
# (loaderfuzz.c) and over the VGA device and renderer (vgafuzz.c).
# check-fuzz is the short fixed-seed version; check-fuzz-long runs more
# seeds and mutations, among them the seeds that found harness holes
# (2, 11, 12, 14, 15, 16: an I/O BAR or SMBus block moved over the exit
# device or the debug console, through op_pci or the raw config ports). All are most useful in a --enable-sanitizers build.
FUZZ_SRC := $(SRCDIR)/tests/fuzz
FUZZ_OUT := tests/fuzz-out
FUZZ_CC32 ?= gcc
FUZZ_CFLAGS32 := -m32 -march=i686 -mgeneral-regs-only -ffreestanding \
    -fno-pie -fno-pic -fno-stack-protector -fno-asynchronous-unwind-tables \
    -fcf-protection=none -O2 -Wall -Wextra -Werror
CLEAN_EXTRA += $(FUZZ_OUT)

$(FUZZ_OUT)/chaos.elf: $(FUZZ_SRC)/chaos.c $(FUZZ_SRC)/entry.S $(FUZZ_SRC)/chaos.ld
	@mkdir -p $(FUZZ_OUT)
	$(FUZZ_CC32) $(FUZZ_CFLAGS32) -nostdlib -static -no-pie \
	    -Wl,-T,$(FUZZ_SRC)/chaos.ld -Wl,--build-id=none -Wl,--no-warn-rwx-segments -o $@ \
	    $(FUZZ_SRC)/entry.S $(FUZZ_SRC)/chaos.c || \
	    { echo "check-fuzz: building the i386 chaos kernel failed: it needs '$(FUZZ_CC32) -m32' (gcc-multilib)"; exit 1; }

# The loaders under mutation (in-process, linked against libkestrel.a).
$(FUZZ_OUT)/loaderfuzz: $(FUZZ_SRC)/loaderfuzz.c libkestrel.a config.h
	@mkdir -p $(FUZZ_OUT)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< libkestrel.a $(LIBS)

# The VGA/VBE device and renderer under random registers (in-process).
$(FUZZ_OUT)/vgafuzz: $(FUZZ_SRC)/vgafuzz.c libkestrel.a config.h
	@mkdir -p $(FUZZ_OUT)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< libkestrel.a $(LIBS)

.PHONY: check-fuzz check-fuzz-long check-fuzz-input
check-fuzz: kestrel $(FUZZ_OUT)/chaos.elf $(FUZZ_OUT)/loaderfuzz $(FUZZ_OUT)/vgafuzz
	@$(FUZZ_OUT)/loaderfuzz 1 20000 $(FUZZ_OUT)/chaos.elf && \
	    $(FUZZ_OUT)/vgafuzz 1 20000 && \
	    sh $(FUZZ_SRC)/run.sh ./kestrel $(FUZZ_OUT) $(FUZZ_OUT)/chaos.elf "1 2" 2000 120 6

check-fuzz-long: kestrel $(FUZZ_OUT)/chaos.elf $(FUZZ_OUT)/loaderfuzz $(FUZZ_OUT)/vgafuzz
	@for s in 2 3 4 5; do $(FUZZ_OUT)/vgafuzz $$s 200000 || exit 1; done
	@for s in 2 3 4 5; do $(FUZZ_OUT)/loaderfuzz $$s 200000 $(FUZZ_OUT)/chaos.elf || exit 1; done
	@if [ -f $(GUEST_KERNEL) ]; then $(FUZZ_OUT)/loaderfuzz 6 3000 $(GUEST_KERNEL) || exit 1; fi
	@sh $(FUZZ_SRC)/run.sh ./kestrel $(FUZZ_OUT)/long $(FUZZ_OUT)/chaos.elf "3 4 5 6 7 8 11 12 14 15 16" 8000 300 20

check-fuzz-input: kestrel $(FUZZ_OUT)/chaos.elf
	@sh $(FUZZ_SRC)/badinput.sh ./kestrel $(FUZZ_OUT)/bad $(FUZZ_OUT)/chaos.elf images/out/vmlinuz

CHECK_SUITES += check-fuzz check-fuzz-input
FULL_SUITES += check-fuzz-long
