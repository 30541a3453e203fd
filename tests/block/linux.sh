#!/bin/sh
# The Debian kernel's own drivers on Kestrel's IDE: an initramfs with
# busybox and the ata_piix/sd/sr modules (from the default guest's .debs)
# reads the whole disk and CD-ROM, writes 64 KiB with dd conv=fsync,
# and powers off. The host then checks the guest's checksums
# against its own (md5sum of the files) and finds the guest's write in
# the image. Run also under QEMU when installed (same initramfs).
#   linux.sh KESTREL DEBDIR VMLINUZ OUTDIR CDIMAGE [ACCEL...]
k=$1 debs=$2 kernel=$3 d=$4 iso=$5
shift 5
[ $# -eq 0 ] && set -- tcg
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
w=$d/linux-work
rm -rf "$w"
mkdir -p "$w/x" "$w/root/bin" "$w/root/mod" "$w/root/proc" "$w/root/sys" \
    "$w/root/dev" "$w/root/tmp"
dpkg-deb -x "$(ls "$debs"/linux-image-*_i386.deb | head -n 1)" "$w/x" || exit 1
dpkg-deb -x "$(ls "$debs"/busybox-static_*_i386.deb | head -n 1)" "$w/x" || exit 1
cp "$w/x/bin/busybox" "$w/root/bin/busybox"
ln -s busybox "$w/root/bin/sh"
mdir=$(ls -d "$w"/x/lib/modules/* | head -n 1)

# Modules in load order: each one's dependencies (the depends= entry of
# its .modinfo section; the package has no modules.dep) first.
order=""
add() {
    case " $order " in *" $1 "*) return ;; esac
    local f deps dep
    f=$(find "$mdir" -name "$1.ko" | head -n 1)
    [ -n "$f" ] || f=$(find "$mdir" -name "$(echo "$1" | tr _ -).ko" | head -n 1)
    [ -n "$f" ] || { echo "linux.sh: no module $1" >&2; exit 1; }
    deps=$(tr '\0' '\n' < "$f" | sed -n 's/^depends=//p' | head -n 1)
    for dep in $(echo "$deps" | tr , ' '); do add "$dep"; done
    order="$order $1"
    cp "$f" "$w/root/mod/$1.ko"
}
for m in ata_piix sd_mod sr_mod; do add "$m"; done

cat > "$w/root/init" <<INIT
#!/bin/sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $order; do insmod /mod/\$m.ko; done
i=0
while [ \$i -lt 100 ] && ! { [ -b /dev/sda ] && [ -b /dev/sr0 ]; }; do
    sleep 0.1; i=\$((i + 1))
done
echo "BLK-SDA \$(md5sum < /dev/sda | cut -d' ' -f1)"
echo "BLK-SR0 \$(md5sum < /dev/sr0 | cut -d' ' -f1)"
yes KESTREL-LINUX-WROTE | head -c 65536 > /tmp/pat
dd if=/tmp/pat of=/dev/sda bs=4096 seek=256 conv=fsync 2>/dev/null
echo "BLK-DONE"
poweroff -f
INIT
chmod 755 "$w/root/init"
(cd "$w/root" && find . | sort | cpio -o -H newc 2>/dev/null) | gzip -n > "$w/initrd.gz"

# A 4 MiB disk of non-repeating content.
i=0
: > "$w/src.img"
while [ $i -lt 64 ]; do
    yes "kestrel disk block $i" | head -c 65536 >> "$w/src.img"; i=$((i + 1))
done
want_sda=$(md5sum < "$w/src.img" | cut -d' ' -f1)
want_sr0=$(md5sum < "$iso" | cut -d' ' -f1)

runs=""
for a in "$@"; do runs="$runs kestrel-$a"; done
command -v qemu-system-i386 >/dev/null 2>&1 && runs="$runs qemu"
for r in $runs; do
    case $r in
    kestrel-*) set -- "$k" -accel "${r#kestrel-}" ;;
    qemu) set -- qemu-system-i386 ;;
    esac
    cp "$w/src.img" "$w/$r.img"
    log=$d/linux-$r.log
    timeout "${BLOCK_LINUX_TIMEOUT:-600}" "$@" -m 128 -nographic -no-reboot \
        -kernel "$kernel" -initrd "$w/initrd.gz" \
        -append "console=ttyS0 panic=-1 quiet" \
        -drive file="$w/$r.img",format=raw,if=ide,index=0 -cdrom "$iso" \
        </dev/null >"$log" 2>&1
    st=$?
    got_sda=$(tr -d '\r' < "$log" | sed -n 's/^BLK-SDA //p')
    got_sr0=$(tr -d '\r' < "$log" | sed -n 's/^BLK-SR0 //p')
    if [ "$got_sda" = "$want_sda" ]; then ok "$r: Linux read the disk (md5 matches)"
    else bad "$r: disk md5 '$got_sda' (want $want_sda; exit $st)"; tail -n 5 "$log"; fi
    if [ "$got_sr0" = "$want_sr0" ]; then ok "$r: Linux read the CD-ROM (md5 matches)"
    else bad "$r: CD-ROM md5 '$got_sr0' (want $want_sr0)"; fi
    if dd if="$w/$r.img" bs=4096 skip=256 count=16 2>/dev/null |
            head -c 20 | grep -q KESTREL-LINUX-WROTE; then
        ok "$r: the guest's write is in the image after poweroff"
    else
        bad "$r: the guest's write is missing from the image"
    fi
    rm -f "$w/$r.img"
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
