#!/bin/sh
# Guest-chaos runs: the chaos kernel (chaos.c) under Kestrel with each
# engine, each mode and each seed, bounded by `timeout`.
#   run.sh KESTREL OUTDIR ELF "SEEDS" OPS [TIMEOUT [CPU0-TIMEOUT]]
# An ending is controlled when it is the kernel's own isa-debug-exit
# (status 33 after "chaos: done"), a guest reset or power-off with
# -no-reboot (status 0), or the timeout while the guest still runs (124;
# only for mode=cpu0, whose random ring-0 code may stop the clock with
# CLI; HLT). Anything else - a signal, an abort, any other status, or a
# sanitizer report on stderr - is a host bug. dev and cpu3 runs must reach
# "chaos: done".
k=$1; d=$2; elf=$3; seeds=$4; ops=$5; tmo=${6:-120}; tmo0=${7:-$((tmo / 4 + 5))}
pass=0; fail=0
mkdir -p "$d"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=0:exitcode=99}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=98}

for accel in interp tcg; do
    for mode in dev cpu3 cpu0; do
        for seed in $seeds; do
            n=$ops; t=$tmo
            # dev ops are I/O exits (slow); random code is cheap per op
            [ "$mode" != dev ] && n=$((ops * 4))
            [ "$mode" = cpu0 ] && t=$tmo0
            tag="$accel-$mode-$seed"
            # a disk and a CD for the IDE/ATAPI ops, and screen dumps so
            # that the renderer meets whatever VGA/VBE state the ops left
            head -c 1048576 /dev/zero > "$d/$tag.disk"
            head -c 1048576 /dev/zero > "$d/$tag.iso"
            extra=""
            # random ring-0 code can write any port: no exit device there,
            # so that every status but 0 and the timeout's is a host failure
            exitdev="-device isa-debug-exit,iobase=0xf4,iosize=0x04"
            [ "$mode" = cpu0 ] && exitdev=""
            [ "$mode" = dev ] && extra="-screendump-at 0.3:$d/$tag-1.png -screendump-at 1:$d/$tag-2.png -screendump-at 2:$d/$tag-3.png -screendump-at 4:$d/$tag-4.png"
            timeout "$t" "$k" -M pc -m 64 -display none -no-reboot \
                -serial null -accel "$accel" \
                $exitdev \
                -device pc-testdev \
                -debugcon "file:$d/$tag.e9" -kernel "$elf" \
                -drive "file=$d/$tag.disk,format=raw,if=ide,index=0" \
                -cdrom "$d/$tag.iso" $extra \
                -append "seed=$seed ops=$n mode=$mode" \
                </dev/null >"$d/$tag.out" 2>&1
            st=$?
            done_line=$(grep -a -o 'chaos: done.*' "$d/$tag.e9" 2>/dev/null | head -c 60)
            [ -z "$done_line" ] && done_line=$(grep -a -o 'chaos: [0-9]* attempts' "$d/$tag.e9" 2>/dev/null | tail -n 1)
            why=""
            if grep -q -a 'Sanitizer\|runtime error:' "$d/$tag.out"; then
                why="sanitizer report: $(grep -a -m1 'Sanitizer\|runtime error:' "$d/$tag.out")"
            else
                case "$mode:$st" in
                *:33) [ -n "$done_line" ] || why="status 33 without the done line" ;;
                cpu0:0|cpu0:124) ;;
                *:0) why="guest reset or powered off before the end (defuse missed one?)" ;;
                *:124) why="timeout (${t}s) before the end" ;;
                *) why="exit status $st (host crash?)" ;;
                esac
            fi
            rm -f "$d/$tag.disk" "$d/$tag.iso"
            if [ -z "$why" ]; then
                pass=$((pass + 1))
                echo "ok   $tag: status $st ${done_line:-(no done line)}"
            else
                fail=$((fail + 1))
                echo "FAIL $tag: $why; log $d/$tag.out"
                tail -n 5 "$d/$tag.out"
            fi
        done
    done
done
echo "fuzz: $pass passed, $fail failed"
[ $fail -eq 0 ]
