#!/bin/sh
# make bench: seconds from start to the default guest's marker line, for
# Kestrel and for qemu-system-i386 -accel tcg (when installed), with the
# same kernel, initramfs, command line and RAM. Three runs each,
# alternating so that machine noise hits both alike; prints the medians
# and the ratio Kestrel/QEMU.
#   bench.sh KESTREL KERNEL INITRD [KESTREL_ACCEL]
k=$1 kernel=$2 initrd=$3 accel=${4:-tcg}
append='console=ttyS0 panic=-1 guest_exit=poweroff'
runs=3

now_ns() { date +%s%N; }

# time_to_marker EMULATOR ARGS...: prints seconds to KESTREL-GUEST-READY,
# or "fail".
time_to_marker() {
    start=$(now_ns)
    t=$( ( timeout 600 "$@" -m 128 -nographic -no-reboot -kernel "$kernel" \
            -initrd "$initrd" -append "$append" </dev/null 2>&1 ) |
        while IFS= read -r line; do
            case "$line" in
            KESTREL-GUEST-READY*) echo $(( $(now_ns) - start )) ;;
            esac
        done)
    if [ -n "$t" ]; then
        awk -v ns="$t" 'BEGIN { printf "%.2f\n", ns / 1e9 }'
    else
        echo fail
    fi
}

median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

have_qemu=0
if command -v qemu-system-i386 >/dev/null 2>&1; then
    have_qemu=1
else
    echo "bench: qemu-system-i386 is not installed (apt-get install qemu-system-x86); timing Kestrel only"
fi

ks= qs=
i=1
while [ $i -le $runs ]; do
    kt=$(time_to_marker "$k" -accel "$accel")
    echo "run $i: kestrel -accel $accel: $kt s"
    [ "$kt" = fail ] && { echo "bench: Kestrel did not reach the marker"; exit 1; }
    ks="$ks $kt"
    if [ $have_qemu -eq 1 ]; then
        qt=$(time_to_marker qemu-system-i386 -accel tcg)
        echo "run $i: qemu-system-i386 -accel tcg: $qt s"
        [ "$qt" = fail ] && { echo "bench: QEMU did not reach the marker"; exit 1; }
        qs="$qs $qt"
    fi
    i=$((i + 1))
done
km=$(median $ks)
echo "kestrel -accel $accel: median $km s to the marker"
if [ $have_qemu -eq 1 ]; then
    qm=$(median $qs)
    echo "qemu-system-i386 -accel tcg: median $qm s to the marker"
    awk -v a="$km" -v b="$qm" 'BEGIN { printf "ratio Kestrel/QEMU: %.2f\n", a / b }'
fi
