# make bench: boot-to-marker time of the default guest, Kestrel vs QEMU TCG.
# BENCH_ACCEL picks Kestrel's engine (tcg by default, interp to compare).
BENCH_ACCEL ?= tcg
bench: kestrel images/out/stamp
	@sh $(SRCDIR)/tests/bench/bench.sh ./kestrel images/out/vmlinuz \
	    images/out/initrd.gz $(BENCH_ACCEL)
