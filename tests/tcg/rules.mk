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
