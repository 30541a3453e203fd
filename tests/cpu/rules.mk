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
