#!/bin/sh
# QEMU-compatibility check (issue 9): the same test kernel and the same
# flags under Kestrel and, when installed, qemu-system-i386; both must give
# exit status 33 and the same bytes on both debug consoles (pc-testdev and
# pci-testdev checked by the kernel itself). Then SeaBIOS's
# log captured QEMU's way on port 0x402.
#   run.sh KESTREL OUTDIR   (OUTDIR holds testkernel.bin)
k=$1
d=$2
pass=0
fail=0

ok() { pass=$((pass + 1)); echo "ok   $*"; }

bad() { fail=$((fail + 1)); echo "FAIL $*"; }

expect_e9='kestrel-qemucompat: hello on 0xe9
portio-no-eventfd
portio-wildcard-eventfd
portio-datamatch-eventfd
mmio-no-eventfd
all checks passed'
expect_second='kestrel-qemucompat: hello on 0x3000'

# run_kernel NAME EMULATOR [ARGS...]
run_kernel() {
    name=$1
    shift
    rm -f "$d/$name.e9" "$d/$name.second"
    timeout 60 "$@" -M pc -nodefaults -display none \
        -kernel "$d/testkernel.bin" \
        -debugcon "file:$d/$name.e9" \
        -chardev "file,id=second,path=$d/$name.second" \
        -device isa-debugcon,iobase=0x3000,chardev=second \
        -device pc-testdev \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
        -device pci-testdev \
        </dev/null >"$d/$name.out" 2>&1
    st=$?
    if [ $st -eq 33 ]; then ok "$name: exit status 33"
    else bad "$name: exit status $st, want 33 ($(head -c 300 "$d/$name.out"))"; fi
    if [ "$(cat "$d/$name.e9" 2>/dev/null)" = "$expect_e9" ]; then
        ok "$name: output on 0xe9"
    else
        bad "$name: output on 0xe9 was '$(cat "$d/$name.e9" 2>/dev/null)'"
    fi
    if [ "$(cat "$d/$name.second" 2>/dev/null)" = "$expect_second" ]; then
        ok "$name: output on the second isa-debugcon (0x3000)"
    else
        bad "$name: second isa-debugcon output was '$(cat "$d/$name.second" 2>/dev/null)'"
    fi
}

# seabios_log NAME EMULATOR [ARGS...]: waits (up to 60 s) for SeaBIOS's
# banner in the 0x402 log, then stops the emulator.
seabios_log() {
    name=$1
    shift
    log="$d/$name.log"
    rm -f "$log"
    "$@" -nodefaults -display none </dev/null >"$d/$name.out" 2>&1 &
    pid=$!
    found=0
    i=0
    while [ $i -lt 600 ]; do
        if grep -q 'SeaBIOS (version' "$log" 2>/dev/null; then found=1; break; fi
        kill -0 $pid 2>/dev/null || break
        sleep 0.1
        i=$((i + 1))
    done
    kill $pid 2>/dev/null
    wait $pid 2>/dev/null
    if [ $found -eq 1 ]; then ok "$name: SeaBIOS log on port 0x402"
    else bad "$name: no SeaBIOS banner in the 0x402 log ($(head -c 300 "$d/$name.out"))"; fi
}

run_kernel kestrel-interp "$k" -accel interp
run_kernel kestrel-tcg "$k" -accel tcg
seabios_log kestrel-seabios-device "$k" -accel interp \
    -chardev "file,id=s,path=$d/kestrel-seabios-device.log" \
    -device isa-debugcon,iobase=0x402,chardev=s
seabios_log kestrel-seabios-global "$k" -accel interp \
    -global isa-debugcon.iobase=0x402 \
    -debugcon "file:$d/kestrel-seabios-global.log"

if command -v qemu-system-i386 >/dev/null 2>&1; then
    run_kernel qemu qemu-system-i386 -accel tcg
    seabios_log qemu-seabios qemu-system-i386 -accel tcg \
        -chardev "file,id=s,path=$d/qemu-seabios.log" \
        -device isa-debugcon,iobase=0x402,chardev=s
else
    echo "skip qemu-system-i386 is not installed: the side-by-side run is skipped"
fi
echo "qemucompat: $pass passed, $fail failed"
[ $fail -eq 0 ]
