# Differential CPU test (tests/diff): random i386 instruction sequences run
# on the host CPU (helper built with gcc -m32) and in Kestrel as a Multiboot
# guest; registers, defined flags, memory, exceptions (vector, EIP, state)
# and single-step trap counts must match.  Files: gen.c (cases), native.c +
# run.S (host CPU), guest.c + guest-entry.S (kernel), compare.c, run.sh.
#   make check-diff-interp / -tcg   3000 cases, ring 0        (make check)
#   make check-diff-ring3           ring 3 + PIT + single-step (make check)
#   make check-diff                 10,000 cases per engine   (check-full)
#   make check-diff-long            up to 60 items per case   (check-full)
#   make check-diff-qemu[-ring3]    the harness against QEMU  (check-full)
#   make check-diff-cross           the aarch64 port under qemu-user (check-full)
# Knobs (environment): DT_ITEMS, DT_MAX_ITEMS, DT_STRICT_FLAGS, DT_GUEST_ARGS,
# DIFF_TIMEOUT; see run.sh.  Results stay in tests/diff-out/run-*/.
DIFF_SRC := $(SRCDIR)/tests/diff
DIFF_OUT := tests/diff-out
DIFF_BIN := $(DIFF_OUT)/bin
# A compiler that can build i386 code (gcc with gcc-multilib).
DIFF_CC32 ?= gcc
DIFF_CFLAGS32 := -m32 -O2 -g -Wall -Wextra -Werror -idirafter $(DIFF_OUT)/inc32
DIFF_GUEST_CFLAGS := -m32 -march=i686 -mgeneral-regs-only -ffreestanding \
    -fno-pie -fno-pic -fno-stack-protector -fno-asynchronous-unwind-tables \
    -fcf-protection=none -O2 -Wall -Wextra -Werror
DIFF_HDR := $(DIFF_SRC)/difftest.h
DIFF_TOOLS := $(DIFF_BIN)/difftest-gen $(DIFF_BIN)/difftest-native \
    $(DIFF_BIN)/difftest-compare $(DIFF_BIN)/difftest.elf
CLEAN_EXTRA += $(DIFF_OUT)

$(DIFF_BIN)/difftest-gen: $(DIFF_SRC)/gen.c $(DIFF_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $<

$(DIFF_BIN)/difftest-compare: $(DIFF_SRC)/compare.c $(DIFF_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LIB_CFLAGS) $(LDFLAGS) -o $@ $< $(LIBS)

DIFF_NO_M32 = { echo "difftest: building i386 code failed (the suite needs '$(DIFF_CC32) -m32', gcc-multilib)"; exit 1; }

# Debian's linux-libc-dev 6.1.192 (with another architecture's headers
# installed) leaves -m32 builds without <asm/...>; the x86 uapi headers
# serve both word sizes, so a fallback asm/ points at the 64-bit ones.
$(DIFF_OUT)/inc32/.stamp:
	@mkdir -p $(dir $@)
	@if ! echo '#include <errno.h>' | $(DIFF_CC32) -m32 -E -x c - >/dev/null 2>&1; then \
	    d=/usr/include/$$($(DIFF_CC32) -print-multiarch)/asm; \
	    if [ -d "$$d" ]; then ln -sfn "$$d" $(DIFF_OUT)/inc32/asm; fi; \
	fi; touch $@

$(DIFF_BIN)/difftest-native: $(DIFF_SRC)/native.c $(DIFF_SRC)/run.S $(DIFF_HDR) $(DIFF_OUT)/inc32/.stamp
	@mkdir -p $(dir $@)
	$(DIFF_CC32) $(DIFF_CFLAGS32) -o $@ $(DIFF_SRC)/native.c $(DIFF_SRC)/run.S || $(DIFF_NO_M32)

$(DIFF_BIN)/difftest.elf: $(DIFF_SRC)/guest.c $(DIFF_SRC)/guest-entry.S $(DIFF_SRC)/run.S \
                          $(DIFF_SRC)/guest.ld $(DIFF_HDR)
	@mkdir -p $(dir $@)
	$(DIFF_CC32) $(DIFF_GUEST_CFLAGS) -nostdlib -static -no-pie \
	    -Wl,-T,$(DIFF_SRC)/guest.ld -Wl,--build-id=none -o $@ \
	    $(DIFF_SRC)/guest-entry.S $(DIFF_SRC)/guest.c $(DIFF_SRC)/run.S || $(DIFF_NO_M32)

.PHONY: check-diff-interp check-diff-tcg check-diff-ring3 check-diff-long check-diff-qemu \
    check-diff-qemu-ring3 check-diff-cross difftest-tools
difftest-tools: $(DIFF_TOOLS)

ifeq ($(HOST_ARCH),x86_64)
# make check: a few thousand cases per engine.
check-diff-interp: kestrel $(DIFF_TOOLS)
	@sh $(DIFF_SRC)/run.sh interp 3000 1 $(DIFF_OUT) ./kestrel
check-diff-tcg: kestrel $(DIFF_TOOLS)
	@sh $(DIFF_SRC)/run.sh tcg 3000 1 $(DIFF_OUT) ./kestrel
# make check-diff (and check-full): 10,000 cases on each engine.
check-diff: kestrel $(DIFF_TOOLS)
	@sh $(DIFF_SRC)/run.sh interp,tcg 10000 2 $(DIFF_OUT) ./kestrel
# Ring 3 (as natively) with PIT interrupts, single-stepped with TF: the
# number of #DB traps per case must match the host CPU's too.
check-diff-ring3: kestrel $(DIFF_TOOLS)
	@DT_GUEST_ARGS="ring3 irq step" sh $(DIFF_SRC)/run.sh interp,tcg 3000 5 $(DIFF_OUT) ./kestrel
# Long sequences (up to 60 items, a few hundred instructions per case),
# and BSF/BSR with zero sources (destination unchanged on real CPUs).
check-diff-long: kestrel $(DIFF_TOOLS)
	@DT_MAX_ITEMS=60 DT_BSF_ZERO=1 sh $(DIFF_SRC)/run.sh interp,tcg 3000 4 $(DIFF_OUT) ./kestrel
# The aarch64 host port (built by check-cross-aarch64 into cross-aarch64/,
# with the aarch64 translator backend when there is one, else the portable
# one) under qemu-aarch64-static against this host's CPU, 3000 cases each.
check-diff-cross: $(DIFF_TOOLS)
	@k=cross-aarch64/aarch64/kestrel; [ -x $$k ] || k=cross-aarch64/interp/kestrel; \
	if [ ! -x $$k ] || ! command -v qemu-aarch64-static >/dev/null 2>&1; then \
	    echo "check-diff-cross: skipped: no cross-aarch64/*/kestrel (make check-cross-aarch64 builds it)"; \
	    echo "0 passed, 0 failed"; exit 0; fi; \
	echo "check-diff-cross: $$k under qemu-aarch64-static"; \
	KESTREL_WRAPPER="qemu-aarch64-static -L /usr/aarch64-linux-gnu" DIFF_TIMEOUT=600 \
	    sh $(DIFF_SRC)/run.sh interp,tcg 3000 6 $(DIFF_OUT) $$k
# The harness itself against QEMU (skipped when QEMU is not installed).
check-diff-qemu: $(DIFF_TOOLS)
	@sh $(DIFF_SRC)/run.sh qemu 10000 3 $(DIFF_OUT) ./kestrel
check-diff-qemu-ring3: $(DIFF_TOOLS)
	@DT_GUEST_ARGS="ring3 irq step" sh $(DIFF_SRC)/run.sh qemu 10000 3 $(DIFF_OUT) ./kestrel
else
# The reference is the host CPU: nothing to compare against elsewhere.
check-diff-interp check-diff-tcg check-diff-ring3 check-diff check-diff-long check-diff-qemu \
    check-diff-qemu-ring3 check-diff-cross:
	@echo "$@: skipped: the host CPU ($(HOST_ARCH)) cannot run the i386 reference side"
	@echo "0 passed, 0 failed"
endif

CHECK_SUITES += check-diff-interp check-diff-tcg check-diff-ring3
FULL_SUITES += check-diff check-diff-long check-diff-qemu check-diff-qemu-ring3 check-diff-cross
