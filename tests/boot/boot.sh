#!/bin/sh
# Boots the default guest (images/build-default-guest.sh) to its marker
# with guest_exit=poweroff and checks that Kestrel saw the marker and then
# exited with status 0 (ACPI soft-off). A correctness test: the timeout is
# generous and no time is asserted.
#   boot.sh KESTREL KERNEL INITRD TIMEOUT_SECONDS ACCEL...
k=$1 kernel=$2 initrd=$3 limit=$4
shift 4
pass=0
fail=0
for accel in "$@"; do
    log=tests/boot/boot-$accel.log
    start=$(date +%s)
    timeout "$limit" "$k" -accel "$accel" -m 128 -nographic -no-reboot \
        -kernel "$kernel" -initrd "$initrd" \
        -append 'console=ttyS0 panic=-1 guest_exit=poweroff' \
        </dev/null >"$log" 2>&1
    st=$?
    secs=$(( $(date +%s) - start ))
    if ! grep -q '^KESTREL-GUEST-READY' "$log"; then
        fail=$((fail + 1))
        if [ $st -eq 124 ]; then why="timed out after ${limit}s"; else why="exit status $st"; fi
        echo "FAIL boot under -accel $accel: no marker ($why); last lines of $log:"
        tail -n 8 "$log" | sed 's/^/    /'
    elif [ $st -ne 0 ] || ! grep -q 'reboot: Power down' "$log"; then
        # -no-reboot also exits 0 after a panic (panic=-1 reboots), so the
        # kernel's own "Power down" line is what proves the ACPI poweroff.
        fail=$((fail + 1))
        echo "FAIL boot under -accel $accel: marker seen, but no clean poweroff (status $st):"
        grep -m 3 -E 'Kernel panic|segfault|BUG|Oops' "$log" | sed 's/^/    /'
        tail -n 4 "$log" | sed 's/^/    /'
    else
        pass=$((pass + 1))
        echo "ok   boot under -accel $accel: marker and poweroff (status 0) in ${secs}s"
    fi
done
echo "boot: $pass passed, $fail failed"
[ $fail -eq 0 ]
