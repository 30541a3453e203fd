# cmocka unit tests: every tests/unit/test_*.c becomes one binary linked
# against libkestrel.a; check-unit runs them all.
UNIT_SRCS := $(wildcard $(SRCDIR)/tests/unit/test_*.c)
UNIT_BINS := $(patsubst $(SRCDIR)/tests/unit/%.c,tests/unit/bin/%,$(UNIT_SRCS))

tests/unit/bin/%: $(SRCDIR)/tests/unit/%.c libkestrel.a config.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(CMOCKA_CFLAGS) $(LDFLAGS) -o $@ $< libkestrel.a $(CMOCKA_LIBS) $(LIBS)

.PHONY: check-unit
check-unit: $(UNIT_BINS)
	@st=0; for t in $(UNIT_BINS); do ./$$t || st=1; done; exit $$st

CHECK_SUITES += check-unit
