# The aarch64 host port: cross-built and run under qemu-aarch64-static
# (unit tests, a sample of the real-CPU instruction tests). Part of
# check-full and CI; needs root + apt the first time (installs multiarch).
.PHONY: check-cross-aarch64
check-cross-aarch64:
	@sh $(SRCDIR)/tests/cross/run.sh $(SRCDIR)

FULL_SUITES += check-cross-aarch64
CLEAN_EXTRA += cross-aarch64
