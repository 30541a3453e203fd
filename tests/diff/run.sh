#!/bin/sh
# Runs the differential CPU test: generate cases, run them on the host CPU
# (the reference) and inside an emulator, compare.
#   run.sh ENGINES COUNT SEED OUTDIR KESTREL
# ENGINES is a comma list of: interp, tcg (Kestrel's -accel) or qemu
# (qemu-system-i386, to validate the harness itself).  Prints one
# "N passed, M failed" line summed over the engines; non-zero on failure.
# Environment: DT_ITEMS=div,shift,... generates only those item kinds (see
# gen.c); DT_MAX_ITEMS=N makes cases of 1..N items (default 10); DT_BSF_ZERO=1
# lets BSF/BSR see zero sources;
# DT_STRICT_FLAGS=1 also compares the flags the SDM leaves
# undefined; DIFF_TIMEOUT=seconds per emulator run; DT_GUEST_ARGS="ring3 irq step"
# (the kernel command line) runs the cases in ring 3, with timer interrupts,
# single-stepped; KESTREL_WRAPPER="qemu-aarch64-static -L ..." runs a
# cross-built kestrel under an emulator.
# Files stay in OUTDIR/run-ENGINE-COUNT/ (cases, expected, actual, log).
set -u
engines=$1 count=$2 seed=$3 out=$4 kestrel=$5
bin=$out/bin
timeout_s=${DIFF_TIMEOUT:-$((60 + count / 50))}
total_pass=0 total_fail=0

fail_line() {   # engine, reason: counts every case as failed
    echo "diff-$1: $2"
    total_fail=$((total_fail + count))
}

for engine in $(echo "$engines" | tr ',' ' '); do
    dir=$out/run-$engine-$count${DT_MAX_ITEMS:+-long$DT_MAX_ITEMS}
    args=${DT_GUEST_ARGS:-}
    [ -n "$args" ] && dir=$dir-$(echo "$args" | tr -c 'a-z0-9\n' '-')
    mkdir -p "$dir"
    rm -f "$dir/actual.bin" "$dir/log.txt"
    compat=
    [ "$engine" = qemu ] && compat=--qemu-compat
    if ! "$bin/difftest-gen" $compat --faults "$seed" "$count" "$dir/cases.bin"; then
        fail_line "$engine" "the case generator failed"; continue
    fi
    step=
    case " $args " in *" step "*) step=--step ;; esac
    if ! "$bin/difftest-native" $step "$dir/cases.bin" "$dir/expected.bin" 2>"$dir/native.txt"; then
        cat "$dir/native.txt"
        fail_line "$engine" "the native (host CPU) runner failed"; continue
    fi
    [ -s "$dir/native.txt" ] && cat "$dir/native.txt"
    if ! "$bin/difftest-compare" --self-test "$dir/cases.bin" "$dir/expected.bin" >"$dir/selftest.txt"; then
        cat "$dir/selftest.txt"
        fail_line "$engine" "the comparer's self-test failed"; continue
    fi
    case $engine in
    qemu)
        if ! command -v qemu-system-i386 >/dev/null 2>&1; then
            echo "diff-qemu: qemu-system-i386 is not installed: skipped"
            continue
        fi
        timeout "$timeout_s" qemu-system-i386 -display none -no-reboot \
            -kernel "$bin/difftest.elf" -initrd "$dir/cases.bin" -append "$args" \
            -device isa-debug-exit,iobase=0xf4,iosize=4 \
            -debugcon "file:$dir/actual.bin" -serial "file:$dir/log.txt" \
            >"$dir/stdout.txt" 2>&1
        rc=$?
        cat "$dir/stdout.txt" >>"$dir/log.txt"
        ;;
    interp|tcg)
        if [ ! -x "$kestrel" ]; then
            fail_line "$engine" "no kestrel binary at $kestrel"; continue
        fi
        timeout "$timeout_s" ${KESTREL_WRAPPER:-} "$kestrel" -nographic -no-reboot -accel "$engine" \
            -kernel "$bin/difftest.elf" -initrd "$dir/cases.bin" -append "$args" \
            -device isa-debug-exit -debugcon "file:$dir/actual.bin" \
            </dev/null >"$dir/log.txt" 2>&1
        rc=$?
        ;;
    *)
        fail_line "$engine" "unknown engine"; continue
        ;;
    esac
    grep -E "during the run" "$dir/log.txt" 2>/dev/null | sed "s/^/diff-$engine: /"
    case " $args " in
    *" ring3 "*)
        grep -q "cases in ring 3" "$dir/log.txt" 2>/dev/null ||
            echo "diff-$engine: the kernel did not get its command line '$args' (-append)" ;;
    esac
    if [ $rc -eq 124 ]; then
        echo "diff-$engine: the emulator did not finish within ${timeout_s}s (killed)"
    fi
    if ! grep -q "difftest: kernel started" "$dir/log.txt" 2>/dev/null; then
        echo "diff-$engine: the difftest kernel never started: the emulator could not boot it"
        echo "diff-$engine: command exit status $rc; last lines of $dir/log.txt:"
        tail -n 5 "$dir/log.txt" 2>/dev/null | sed 's/^/    /'
    elif ! grep -q "difftest: all cases done" "$dir/log.txt"; then
        echo "diff-$engine: the kernel started but did not finish; last lines of $dir/log.txt:"
        tail -n 3 "$dir/log.txt" | sed 's/^/    /'
    fi
    strict=
    [ -n "${DT_STRICT_FLAGS:-}" ] && strict=--strict-flags
    "$bin/difftest-compare" $strict --label "diff-$engine" "$dir/cases.bin" "$dir/expected.bin" \
        "$dir/actual.bin" >"$dir/compare.txt" 2>&1
    crc=$?
    cat "$dir/compare.txt"
    line=$(grep -E '^diff-[a-z]+: [0-9]+ passed, [0-9]+ failed' "$dir/compare.txt" | tail -n 1)
    if [ -z "$line" ]; then
        fail_line "$engine" "the comparer failed (status $crc)"; continue
    fi
    p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed/\1/')
    f=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed/\2/')
    total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
done
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
