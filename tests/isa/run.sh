#!/bin/sh
# The ISA interrupt test kernel (irqtest.asm) under Kestrel (interpreter and
# translator) and, when installed, qemu-system-i386 with the same flags:
# each run must exit with status 33 and print the same "ok" lines.
# First the same kernel on a minimal PC built from the devices and the CPU
# alone (harness.c), which also checks that a guest idling in HLT costs
# little host CPU.
# Then regdump.asm, which prints what the device registers read back after
# known programming: Kestrel's log must equal QEMU's byte for byte.
# And serialtest.asm, which copies what arrives on COM1 (-serial stdio, fed
# from a pipe faster than the guest reads) to the debug console: nothing
# may be lost or reordered.
#   run.sh KESTREL OUTDIR HARNESS   (OUTDIR holds the three .bin kernels)
k=$1
d=$2
h=$3
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }

expect='kestrel-isa irqtest
ok pic imr
ok pit irq0 100 Hz
ok pic isr in handler
ok pit latch
ok pit read-back status
ok pit out2 low
ok pit out2 via port 0x61
ok rtc periodic irq8
ok rtc update irq8
ok rtc register d
ok kbc self test
ok kbc irq1
ok uart loopback
ok uart thre irq4
ok no spurious irqs
all checks passed'

# run NAME EMULATOR [ARGS...]
run() {
    name=$1
    shift
    rm -f "$d/$name.log"
    timeout 60 "$@" -M pc -nodefaults -display none -serial null \
        -kernel "$d/irqtest.bin" -debugcon "file:$d/$name.log" \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
        </dev/null >"$d/$name.out" 2>&1
    st=$?
    if [ $st -eq 33 ]; then ok "$name: exit status 33"
    else bad "$name: exit status $st, want 33 ($(head -c 300 "$d/$name.out"))"; fi
    if [ "$(cat "$d/$name.log" 2>/dev/null)" = "$expect" ]; then
        ok "$name: every device check passed"
    else
        bad "$name: $(grep FAIL "$d/$name.log" 2>/dev/null | tr '\n' ';')"
    fi
}

for accel in interp tcg; do
    out=$(timeout 90 "$h" "$d/irqtest.bin" $accel 2>&1)
    st=$?
    if [ "$(printf '%s\n' "$out" | sed -n '1,/^all checks passed$/p')" = "$expect" ]; then
        ok "harness-$accel: every device check passed"
    else
        bad "harness-$accel: $(printf '%s\n' "$out" | grep FAIL | tr '\n' ';')"
    fi
    if printf '%s\n' "$out" | grep -q "^ok   $accel: idle guest cost"; then
        ok "$(printf '%s\n' "$out" | grep "^ok   $accel: idle" | sed 's/^ok   //')"
    else
        bad "harness-$accel: idle check: $(printf '%s\n' "$out" | grep "idle\|spins\|timed" | head -1)"
    fi
    [ $st -eq 0 ] || bad "harness-$accel: exit status $st"
done

# regdump NAME EMULATOR [ARGS...]: leaves NAME.rd
regdump() {
    name=$1
    shift
    rm -f "$d/$name.rd"
    timeout 60 "$@" -M pc -nodefaults -display none -serial null \
        -kernel "$d/regdump.bin" -debugcon "file:$d/$name.rd" \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
        </dev/null >"$d/$name.rdout" 2>&1
    st=$?
    if [ $st -eq 33 ] && [ "$(tail -n 1 "$d/$name.rd" 2>/dev/null)" = end ]; then
        ok "$name: register dump complete"
    else
        bad "$name: register dump: exit status $st ($(head -c 300 "$d/$name.rdout"))"
    fi
}

# serial NAME EMULATOR [ARGS...]
i=0
: > "$d/serial.in"
while [ $i -lt 40 ]; do
    echo "line $i: the quick brown fox jumps over the lazy dog 0123456789" >> "$d/serial.in"
    i=$((i + 1))
done
printf '.' >> "$d/serial.in"
serial() {
    name=$1
    shift
    rm -f "$d/$name.ser"
    { printf 'xxxx#'; cat "$d/serial.in"; } | timeout 60 "$@" -M pc \
        -nodefaults -display none -serial stdio \
        -kernel "$d/serialtest.bin" -debugcon "file:$d/$name.ser" \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
        >"$d/$name.serout" 2>&1
    st=$?
    if [ $st -eq 33 ] && cmp -s "$d/serial.in" "$d/$name.ser"; then
        ok "$name: $(wc -c < "$d/serial.in") bytes through COM1's FIFO and IRQ 4 intact"
    else
        bad "$name: serial input: status $st, $(wc -c < "$d/$name.ser" 2>/dev/null) of $(wc -c < "$d/serial.in") bytes came through"
    fi
}

# Until the board is wired, kestrel says so instead of running a machine.
# (A wired board runs SeaBIOS forever here, hence the timeout.)
if timeout 5 "$k" -nodefaults -display none 2>&1 </dev/null | grep -q 'no machine to run yet'; then
    echo "skip kestrel has no machine yet; Kestrel runs skipped"
    no_machine=1
else
    run kestrel-interp "$k" -accel interp
    run kestrel-tcg "$k" -accel tcg
fi
if [ -z "${no_machine:-}" ]; then
    regdump kestrel-interp "$k" -accel interp
    regdump kestrel-tcg "$k" -accel tcg
    serial kestrel-interp "$k" -accel interp
    serial kestrel-tcg "$k" -accel tcg
fi
if command -v qemu-system-i386 >/dev/null 2>&1; then
    run qemu qemu-system-i386 -accel tcg
    regdump qemu qemu-system-i386 -accel tcg
    serial qemu qemu-system-i386 -accel tcg
    if [ -z "${no_machine:-}" ]; then
        for a in interp tcg; do
            if cmp -s "$d/qemu.rd" "$d/kestrel-$a.rd"; then
                ok "kestrel-$a: registers read back as in QEMU ($(wc -l < "$d/qemu.rd") values)"
            else
                bad "kestrel-$a: registers differ from QEMU: $(diff "$d/qemu.rd" "$d/kestrel-$a.rd" | grep '^[<>]' | head -6 | tr '\n' ' ')"
            fi
        done
    fi
else
    echo "skip qemu-system-i386 is not installed: the reference run is skipped"
fi
echo "isa-irqtest: $pass passed, $fail failed"
[ $fail -eq 0 ]
