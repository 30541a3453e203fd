# Translator checks beyond check-unit: the random interp-vs-tcg differential
# (tests/unit/test_tcg_x86.c) over many more cases and seeds. Long, so only
# in make check-full.
TCG_FULL_CASES ?= 20000
TCG_FULL_SEEDS ?= 1 2 3

.PHONY: check-tcg-full
check-tcg-full: tests/unit/bin/test_tcg_x86
	@p=0; f=0; for s in $(TCG_FULL_SEEDS); do \
	    if TCG_CASES=$(TCG_FULL_CASES) TCG_SEED=$$s ./tests/unit/bin/test_tcg_x86 \
	        > tests/tcg-full-$$s.log 2>&1; then p=$$((p + 1)); \
	    else f=$$((f + 1)); echo "seed $$s failed:"; \
	        grep -A8 differs tests/tcg-full-$$s.log | head -40; fi; \
	done; echo "check-tcg-full: $$p passed, $$f failed"; [ $$f -eq 0 ]

FULL_SUITES += check-tcg-full
CLEAN_EXTRA += tests/tcg-full-*.log

# The recorded 80286 real-mode hardware data (SingleStepTests, see
# tests/cpu/rules.mk) once more, with each test run by the translator.
.PHONY: check-moo-tcg
check-moo-tcg: tests/cpu/moo
	@if [ -d "$(MOO_DATA)" ]; then \
	    MOO_ACCEL=tcg ./tests/cpu/moo $(MOO_DATA)/*.MOO.gz | tail -n 2; \
	else \
	    echo "check-moo-tcg: skipped: $(MOO_DATA) is absent"; \
	fi

CHECK_SUITES += check-moo-tcg

# Compute kernels (sha256, quicksort, byte copies/strlen, a bytecode
# interpreter) compiled by gcc -m32 into a flat image, run under both
# engines; results must agree and match their closed forms.
TCG_OUT := tests/tcg
$(TCG_OUT)/kernels.bin: $(SRCDIR)/tests/tcg/kernels.c $(SRCDIR)/tests/tcg/kernels.ld
	@mkdir -p $(TCG_OUT)
	$(CC) -m32 -O2 -march=i686 -ffreestanding -fno-pic -fno-pie -nostdlib \
	    -fno-stack-protector -fno-asynchronous-unwind-tables \
	    -c -o $(TCG_OUT)/kernels.o $<
	ld -m elf_i386 --no-warn-rwx-segments -T $(SRCDIR)/tests/tcg/kernels.ld \
	    -o $(TCG_OUT)/kernels.elf $(TCG_OUT)/kernels.o
	objcopy -O binary $(TCG_OUT)/kernels.elf $@

$(TCG_OUT)/run-kernels: $(SRCDIR)/tests/tcg/run.c libkestrel.a config.h
	@mkdir -p $(TCG_OUT)
	$(CC) $(CPPFLAGS) -I$(SRCDIR)/tests/unit $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< \
	    libkestrel.a $(LIBS)

.PHONY: check-tcg-kernels
check-tcg-kernels: $(TCG_OUT)/kernels.bin $(TCG_OUT)/run-kernels
	@./$(TCG_OUT)/run-kernels $(TCG_OUT)/kernels.bin 2 > $(TCG_OUT)/kernels.out; \
	st=$$?; cat $(TCG_OUT)/kernels.out; p=0; f=0; \
	if command -v qemu-system-i386 >/dev/null 2>&1; then \
	    want=$$(sed -n 's/^results: //p' $(TCG_OUT)/kernels.out); \
	    got=$$(timeout 60 qemu-system-i386 -display none -m 64 \
	        -kernel $(TCG_OUT)/kernels.elf -append 2 -debugcon stdio \
	        -device isa-debug-exit,iobase=0xf4 2>/dev/null | tail -n 1); \
	    if [ "$$want" = "$$got" ]; then p=1; echo "ok   same results as QEMU"; \
	    else f=1; echo "FAIL QEMU results differ: $$got"; fi; \
	else echo "skip qemu-system-i386 not installed"; fi; \
	r=$$(sed -n 's/^run-kernels: \([0-9]*\) passed, \([0-9]*\) failed/\1 \2/p' \
	    $(TCG_OUT)/kernels.out); \
	set -- $$r; echo "check-tcg-kernels: $$(($$1 + p)) passed, $$(($$2 + f)) failed"; \
	[ $$st -eq 0 ] && [ $$f -eq 0 ]

CHECK_SUITES += check-tcg-kernels
CLEAN_EXTRA += $(TCG_OUT)/kernels.o $(TCG_OUT)/kernels.elf \
    $(TCG_OUT)/kernels.bin $(TCG_OUT)/run-kernels $(TCG_OUT)/kernels.out

# make bench also times the compute kernels (tests/tcg/bench.sh): Kestrel
# tcg and interp against qemu-system-i386 -accel tcg. Adding a
# prerequisite to the bench target keeps tests/bench/rules.mk untouched.
.PHONY: bench-kernels
bench-kernels: $(TCG_OUT)/kernels.bin $(TCG_OUT)/run-kernels
	@sh $(SRCDIR)/tests/tcg/bench.sh ./$(TCG_OUT)/run-kernels \
	    $(TCG_OUT)/kernels.bin $(TCG_OUT)/kernels.elf
bench: bench-kernels
