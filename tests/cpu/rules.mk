# tests/cpu: the MOO runner for SingleStepTests data recorded on real CPUs.
# check-moo runs it over ../shared/testdata/80286-real when that exists.
MOO_DATA := $(SRCDIR)/../shared/testdata/80286-real

tests/cpu/moo: $(SRCDIR)/tests/cpu/moo.c libkestrel.a config.h
	@mkdir -p tests/cpu
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< libkestrel.a $(LIBS)

.PHONY: check-moo
check-moo: tests/cpu/moo
	@if [ -d "$(MOO_DATA)" ]; then \
	    ./tests/cpu/moo $(MOO_DATA)/*.MOO.gz; \
	else \
	    echo "check-moo: skipped: $(MOO_DATA) is absent"; \
	fi

CHECK_SUITES += check-moo
CLEAN_EXTRA += tests/cpu/moo

# check-interp-diff: the differential test's random user-mode cases
# (tests/diff: generator, host-CPU runner, comparer) run directly in the
# interpreter by tests/cpu/diffrun.c, without a board or a guest kernel.
DIFFRUN_OUT := tests/cpu/diffrun-out
DIFFRUN_TOOLS := tests/diff-out/bin

tests/cpu/diffrun: $(SRCDIR)/tests/cpu/diffrun.c libkestrel.a config.h $(SRCDIR)/tests/diff/difftest.h
	@mkdir -p tests/cpu
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -Wno-clobbered $(LDFLAGS) -o $@ $< libkestrel.a $(LIBS)

.PHONY: check-interp-diff
check-interp-diff: tests/cpu/diffrun
	@if [ ! -f "$(SRCDIR)/tests/diff/difftest.h" ]; then \
	    echo "interp-diff: skipped: tests/diff is absent"; exit 0; fi; \
	if ! $(MAKE) -s difftest-tools >/dev/null 2>&1; then \
	    echo "interp-diff: skipped: the difftest tools (gcc -m32) do not build here"; exit 0; fi; \
	mkdir -p $(DIFFRUN_OUT) && \
	$(DIFFRUN_TOOLS)/difftest-gen --faults 7 3000 $(DIFFRUN_OUT)/cases.bin && \
	$(DIFFRUN_TOOLS)/difftest-native $(DIFFRUN_OUT)/cases.bin $(DIFFRUN_OUT)/expected.bin && \
	./tests/cpu/diffrun $(DIFFRUN_OUT)/cases.bin $(DIFFRUN_OUT)/actual.bin && \
	$(DIFFRUN_TOOLS)/difftest-compare --label interp-diff $(DIFFRUN_OUT)/cases.bin \
	    $(DIFFRUN_OUT)/expected.bin $(DIFFRUN_OUT)/actual.bin

CHECK_SUITES += check-interp-diff
CLEAN_EXTRA += tests/cpu/diffrun $(DIFFRUN_OUT)
