# Robustness (tests/fuzz): the guest-chaos kernel run against every device
# and random code at CPL 0/3 (run.sh), bad command lines and images
# (badinput.sh), and a mutation loop over the kernel loaders (loaderfuzz.c).
# check-fuzz is the short fixed-seed version; check-fuzz-long runs more
# seeds and mutations. Both are most useful in a --enable-sanitizers build.
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

.PHONY: check-fuzz check-fuzz-long
check-fuzz: kestrel $(FUZZ_OUT)/chaos.elf
	@sh $(FUZZ_SRC)/run.sh ./kestrel $(FUZZ_OUT) $(FUZZ_OUT)/chaos.elf "1" 1500 120

check-fuzz-long: kestrel $(FUZZ_OUT)/chaos.elf
	@sh $(FUZZ_SRC)/run.sh ./kestrel $(FUZZ_OUT)/long $(FUZZ_OUT)/chaos.elf "2 3 4 5 6 7" 20000 300

CHECK_SUITES += check-fuzz
FULL_SUITES += check-fuzz-long

.PHONY: check-fuzz-input
check-fuzz-input: kestrel $(FUZZ_OUT)/chaos.elf
	@sh $(FUZZ_SRC)/badinput.sh ./kestrel $(FUZZ_OUT)/bad $(FUZZ_OUT)/chaos.elf

CHECK_SUITES += check-fuzz-input
