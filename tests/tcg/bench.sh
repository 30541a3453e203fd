#!/bin/sh
# Compute-kernel bench (part of make bench): the kernels image of
# tests/tcg run at a small and a large scale under Kestrel tcg, Kestrel
# interp and qemu-system-i386 -accel tcg; the difference between the two
# scales removes start-up costs. Prints seconds per 100 scale units and
# the ratios to QEMU TCG. Information only: nothing here passes or fails
# on time.
#   bench.sh RUN_KERNELS KERNELS_BIN KERNELS_ELF [SCALE]
run=$1 bin=$2 elf=$3 scale=${4:-100}

now_ns() { date +%s%N; }

# secs CMD...: wall seconds of one run (the command's output is dropped)
secs() {
    s=$(now_ns)
    "$@" >/dev/null 2>&1 || echo "bench-kernels: '$*' failed" >&2
    awk -v ns=$(( $(now_ns) - s )) 'BEGIN { printf "%.3f\n", ns / 1e9 }'
}

best() { printf '%s\n' "$@" | sort -n | head -n 1; }

kestrel_tcg() { KERNELS_TCG_ONLY=1 "$run" "$bin" "$1"; }
kestrel_interp() { "$run" "$bin" "$1"; }
qemu() {
    # isa-debug-exit with 0 makes QEMU exit with status 1: that is success
    timeout 600 qemu-system-i386 -display none -m 64 -kernel "$elf" \
        -append "$1" -debugcon null -device isa-debug-exit,iobase=0xf4
    [ $? -eq 1 ]
}

# measure FUNC: seconds per 100 scale units, from the best of three runs
# at scale 1 and at $scale.
measure() {
    f=$1
    a1=$(secs $f 1); a2=$(secs $f 1); a3=$(secs $f 1)
    b1=$(secs $f "$scale"); b2=$(secs $f "$scale"); b3=$(secs $f "$scale")
    awk -v lo="$(best $a1 $a2 $a3)" -v hi="$(best $b1 $b2 $b3)" -v n="$scale" \
        'BEGIN { v = (hi - lo) * 100 / (n - 1); if (v < 0.001) v = 0.001; printf "%.3f\n", v }'
}

t=$(measure kestrel_tcg)
echo "kernels: kestrel -accel tcg: $t s per 100 units"
if [ "${BENCH_KERNELS_INTERP:-1}" = 1 ]; then
    # the interpreter runs inside run-kernels together with tcg
    i=$(measure kestrel_interp)
    i=$(awk -v a="$i" -v b="$t" 'BEGIN { printf "%.3f\n", a - b }')
    echo "kernels: kestrel -accel interp: $i s per 100 units"
fi
if command -v qemu-system-i386 >/dev/null 2>&1; then
    q=$(measure qemu)
    echo "kernels: qemu-system-i386 -accel tcg: $q s per 100 units"
    awk -v t="$t" -v q="$q" 'BEGIN { printf "kernels: ratio Kestrel tcg/QEMU TCG: %.2f\n", t / q }'
    [ -n "$i" ] && awk -v t="$i" -v q="$q" \
        'BEGIN { printf "kernels: ratio Kestrel interp/QEMU TCG: %.2f\n", t / q }'
else
    echo "kernels: qemu-system-i386 is not installed; no ratio"
fi
echo "kernels: (no native run: the image is a freestanding i386 kernel)"
