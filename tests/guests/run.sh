#!/bin/sh
# Boots a real guest kernel with the default guest's initramfs under each
# engine to the KESTREL-GUEST-READY marker with guest_exit=poweroff and
# checks exit status 0, plus the kernel lines that prove what the guest
# exercised (for the 686-pae kernel: PAE paging with NX active).
#   run.sh KESTREL KERNEL INITRD OUTDIR NAME [EXPECTED-LINE...]
k=$1; kernel=$2; initrd=$3; d=$4; name=$5; shift 5
pass=0; fail=0
mkdir -p "$d"
for accel in interp tcg; do
    log="$d/$name-$accel.log"
    start=$(date +%s)
    timeout 600 "$k" -m 256 -nographic -no-reboot -accel "$accel" \
        -kernel "$kernel" -initrd "$initrd" \
        -append "console=ttyS0 panic=-1 guest_exit=poweroff" \
        </dev/null >"$log" 2>&1
    st=$?
    secs=$(( $(date +%s) - start ))
    why=""
    [ $st -eq 0 ] || why="exit status $st"
    tr -d '\r' < "$log" | grep -q '^KESTREL-GUEST-READY' || why="$why${why:+, }no KESTREL-GUEST-READY marker"
    for want in "$@"; do
        grep -q -F -- "$want" "$log" || why="$why${why:+, }no '$want' in the log"
    done
    if [ -z "$why" ]; then
        pass=$((pass + 1))
        echo "ok   $name ($accel): marker, power-off, status 0 in ${secs}s"
    else
        fail=$((fail + 1))
        echo "FAIL $name ($accel): $why (${secs}s; log $log)"
        tr -d '\r' < "$log" | tail -n 8
    fi
done
echo "guests-$name: $pass passed, $fail failed"
[ $fail -eq 0 ]
