#!/bin/sh
# run.sh ENGINE BINARY SRCDIR OUTDIR NAME...
# Builds each test kernel with nasm, boots it with -kernel under Kestrel
# (ENGINE=kestrel: -accel interp and the default engine), on the bare CPU
# with tests/kernels/cpurun (ENGINE=cpu: interp and tcg) or under
# qemu-system-i386 (ENGINE=qemu), and compares the "@ " lines printed on
# COM1 with SRCDIR/NAME.expected and the isa-debug-exit status with 33.
# Kernels in QEMU_SKIP test what QEMU does not implement. The exit device
# sits at 0xf4 (QEMU's isa-debug-exit defaults to 0x501, so say it).
engine=$1; bin=$2; src=$3; out=$4; shift 4
QEMU_SKIP=" strict "
pass=0; fail=0
if ! command -v nasm >/dev/null 2>&1; then
    echo "kernels: nasm not installed, skipped"
    echo "kernels-$engine: 0 passed, 0 failed"; exit 0
fi
if [ "$engine" = qemu ] && ! command -v "$bin" >/dev/null 2>&1; then
    echo "kernels: $bin not installed, skipped"
    echo "kernels-$engine: 0 passed, 0 failed"; exit 0
fi
mkdir -p "$out"

# run_one NAME TAG COMMAND...
run_one() {
    name=$1; tag=$2; shift 2
    log="$out/$name.$tag.log"
    timeout 30 "$@" < /dev/null > "$log" 2>&1
    st=$?
    tr -d '\r' < "$log" | grep -a -o '@ .*' > "$out/$name.$tag.out"
    if [ $st -eq 33 ] && cmp -s "$out/$name.$tag.out" "$src/$name.expected"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL $name ($tag, exit status $st; log $log)"
        diff "$src/$name.expected" "$out/$name.$tag.out" | head -20
    fi
}

for name in "$@"; do
    k="$out/$name.bin"
    if ! nasm -f bin -I"$src/" -o "$k" "$src/$name.asm"; then
        echo "FAIL $name: nasm"; fail=$((fail + 1)); continue
    fi
    if [ "$engine" = cpu ]; then
        run_one "$name" cpu-interp "$bin" "$k" interp
        run_one "$name" cpu-tcg "$bin" "$k" tcg
    elif [ "$engine" = qemu ]; then
        case "$QEMU_SKIP" in *" $name "*) continue ;; esac
        run_one "$name" qemu "$bin" -cpu qemu32,+nx -m 32 -display none \
            -monitor none -serial stdio -no-reboot \
            -device isa-debug-exit,iobase=0xf4,iosize=0x04 -kernel "$k"
    else
        run_one "$name" interp "$bin" -m 32 -nographic -no-reboot \
            -device isa-debug-exit,iobase=0xf4,iosize=0x04 -accel interp -kernel "$k"
        run_one "$name" default "$bin" -m 32 -nographic -no-reboot \
            -device isa-debug-exit,iobase=0xf4,iosize=0x04 -kernel "$k"
    fi
done
echo "kernels-$engine: $pass passed, $fail failed"
[ $fail -eq 0 ]
